/* mockcloud's HTTP/1.1 request parser: framing, caps, pipelining and adversarial input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mock_int.h"

static const struct tm__mock_http_limits s_lim = {.max_header_bytes = 1024, .max_body_bytes = 64, .max_headers = 8};

static enum tm__mock_http_state s_parse(struct tm__mock_http_request *req, size_t *consumed, int *status,
                                        const char *text) {
    *status = 0;
    return tm__mock_http_parse(req, consumed, status, text, strlen(text), &s_lim);
}

static int s_error_of(const char *text) {
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    enum tm__mock_http_state st = s_parse(&req, &consumed, &status, text);
    if (st == TM__MOCK_HTTP_COMPLETE)
        tm__mock_http_request_clean_up(&req);
    return st == TM__MOCK_HTTP_ERROR ? status : -(int)st;
}

static void test_simple_get(void **state) {
    (void)state;
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    const char *t =
        "GET /latest/meta-data/?a=1&b HTTP/1.1\r\nHost: 169.254.169.254\r\nX-Thing:  spaced value \t\r\n\r\n";
    assert_int_equal(s_parse(&req, &consumed, &status, t), TM__MOCK_HTTP_COMPLETE);
    assert_int_equal(consumed, strlen(t));
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.path, "/latest/meta-data/");
    assert_string_equal(req.query, "a=1&b");
    assert_string_equal(req.target, "/latest/meta-data/?a=1&b");
    assert_int_equal(req.version_minor, 1);
    assert_true(req.keep_alive);
    assert_string_equal(tm__mock_http_header(&req, "x-thing"), "spaced value");
    assert_string_equal(tm__mock_http_header(&req, "HOST"), "169.254.169.254");
    assert_null(tm__mock_http_header(&req, "Content-Length"));
    assert_int_equal(req.body.len, 0);
    tm__mock_http_request_clean_up(&req);
}

static void test_connection_semantics(void **state) {
    (void)state;
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    assert_int_equal(
        s_parse(&req, &consumed, &status, "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n"),
        TM__MOCK_HTTP_COMPLETE);
    assert_false(req.keep_alive);
    tm__mock_http_request_clean_up(&req);
    assert_int_equal(s_parse(&req, &consumed, &status, "GET / HTTP/1.0\r\n\r\n"), TM__MOCK_HTTP_COMPLETE);
    assert_false(req.keep_alive);
    tm__mock_http_request_clean_up(&req);
    assert_int_equal(s_parse(&req, &consumed, &status, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"),
                     TM__MOCK_HTTP_COMPLETE);
    assert_true(req.keep_alive);
    tm__mock_http_request_clean_up(&req);
    /* Bare LF line ends are tolerated, as most servers do. */
    assert_int_equal(s_parse(&req, &consumed, &status, "\r\n\r\nGET / HTTP/1.1\nHost: a\n\n"), TM__MOCK_HTTP_COMPLETE);
    assert_string_equal(tm__mock_http_header(&req, "Host"), "a");
    tm__mock_http_request_clean_up(&req);
}

static void test_every_truncation_needs_more(void **state) {
    (void)state;
    const char *t = "POST /p?x HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nAction=List";
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        struct tm__mock_http_request req;
        size_t consumed = 99;
        int status = 0;
        assert_int_equal(tm__mock_http_parse(&req, &consumed, &status, t, i, &s_lim), TM__MOCK_HTTP_NEED_MORE);
        assert_int_equal(consumed, 0);
    }
    const char *c =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\n"
        "Trailer: x\r\n\r\n";
    n = strlen(c);
    for (size_t i = 0; i < n; i++) {
        struct tm__mock_http_request req;
        size_t consumed = 0;
        int status = 0;
        enum tm__mock_http_state st = tm__mock_http_parse(&req, &consumed, &status, c, i, &s_lim);
        assert_int_equal(st, TM__MOCK_HTTP_NEED_MORE);
    }
}

static void test_chunked_body(void **state) {
    (void)state;
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    const char *c =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n4;ext=1\r\nWiki\r\nA\r\npedia in \r\n"
        "0\r\nTrailer: x\r\n\r\nGET";
    assert_int_equal(s_parse(&req, &consumed, &status, c), TM__MOCK_HTTP_COMPLETE);
    assert_int_equal(consumed, strlen(c) - 3);
    assert_int_equal(req.body.len, 14);
    assert_memory_equal(req.body.data, "Wikipedia in \r\n", 14);
    tm__mock_http_request_clean_up(&req);
}

static void test_bad_chunked(void **state) {
    (void)state;
    const char *h = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    const char *bodies[] = {
        "zz\r\nab\r\n0\r\n\r\n",     /* not hex */
        "2\r\nabX\r\n0\r\n\r\n",     /* no CRLF after the data */
        "2 junk\r\nab\r\n0\r\n\r\n", /* junk after the size */
        "\r\nab\r\n0\r\n\r\n",       /* empty size */
        "ffffffffffffffffff\r\n",    /* size overflow */
        "-1\r\nab\r\n0\r\n\r\n",     /* negative */
        "0\r\nbad trailer\r\n\r\n",  /* trailer without a colon */
    };
    char buf[512];
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        snprintf(buf, sizeof(buf), "%s%s", h, bodies[i]);
        assert_int_equal(s_error_of(buf), 400);
    }
    snprintf(buf, sizeof(buf), "%s41\r\n", h); /* 65 bytes > the 64-byte cap */
    assert_int_equal(s_error_of(buf), 413);
    snprintf(buf, sizeof(buf), "%s20\r\n%032d\r\n21\r\n", h, 0); /* 32 + 33 > 64 */
    assert_int_equal(s_error_of(buf), 413);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    assert_int_equal(
        s_error_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400);
}

static void test_content_length(void **state) {
    (void)state;
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n"), 413);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n"), 400);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"), 400);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"), 400);
    /* The same length twice is harmless. */
    assert_int_equal(s_error_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
                     -TM__MOCK_HTTP_COMPLETE);
}

static void test_header_caps(void **state) {
    (void)state;
    char big[2048];
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %01100d\r\n\r\n", 0);
    assert_int_equal(s_error_of(big), 431);
    /* No end of headers within the cap: refused before the end arrives. */
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %01100d", 0);
    assert_int_equal(s_error_of(big), 431);
    char many[1024] = "GET / HTTP/1.1\r\nHost: h\r\n";
    for (int i = 0; i < 9; i++) {
        char line[32];
        snprintf(line, sizeof(line), "X-%d: v\r\n", i);
        strcat(many, line);
    }
    strcat(many, "\r\n");
    assert_int_equal(s_error_of(many), 431);
}

static void test_bad_request_lines(void **state) {
    (void)state;
    assert_int_equal(s_error_of("GET /\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    assert_int_equal(s_error_of("GET / HTTPS/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(s_error_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400); /* raw UTF-8 in a target */
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\n\r\n"), 400);                       /* no Host */
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);           /* space before colon */
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400); /* obs-fold */
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n"), 400);
    /* obs-text (UTF-8 bytes) in a value is allowed. */
    assert_int_equal(s_error_of("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n"), -TM__MOCK_HTTP_COMPLETE);
}

static void test_pipelined(void **state) {
    (void)state;
    const char *t = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHo";
    size_t len = strlen(t), off = 0;
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    assert_int_equal(tm__mock_http_parse(&req, &consumed, &status, t, len, &s_lim), TM__MOCK_HTTP_COMPLETE);
    assert_string_equal(req.path, "/a");
    assert_memory_equal(req.body.data, "abc", 3);
    tm__mock_http_request_clean_up(&req);
    off += consumed;
    assert_int_equal(tm__mock_http_parse(&req, &consumed, &status, t + off, len - off, &s_lim), TM__MOCK_HTTP_COMPLETE);
    assert_string_equal(req.path, "/b");
    tm__mock_http_request_clean_up(&req);
    off += consumed;
    assert_int_equal(tm__mock_http_parse(&req, &consumed, &status, t + off, len - off, &s_lim),
                     TM__MOCK_HTTP_NEED_MORE);
}

static void test_expect_continue(void **state) {
    (void)state;
    struct tm__mock_http_request req;
    size_t consumed;
    int status;
    const char *t = "PUT /b/k HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    assert_int_equal(s_parse(&req, &consumed, &status, t), TM__MOCK_HTTP_HEADERS_DONE);
    char full[256];
    snprintf(full, sizeof(full), "%sbody", t);
    assert_int_equal(s_parse(&req, &consumed, &status, full), TM__MOCK_HTTP_COMPLETE);
    assert_true(req.expect_continue);
    tm__mock_http_request_clean_up(&req);
}

static void test_binary_garbage(void **state) {
    (void)state;
    /* Arbitrary bytes never crash the parser and never produce a request. */
    uint64_t x = 88172645463325252ULL;
    char buf[600];
    for (int round = 0; round < 2000; round++) {
        size_t n = (size_t)(round % 599) + 1;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (char)(x & 0xff);
        }
        struct tm__mock_http_request req;
        size_t consumed;
        int status = 0;
        enum tm__mock_http_state st = tm__mock_http_parse(&req, &consumed, &status, buf, n, &s_lim);
        if (st == TM__MOCK_HTTP_COMPLETE)
            tm__mock_http_request_clean_up(&req);
        assert_true(st != TM__MOCK_HTTP_COMPLETE);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_connection_semantics),
        cmocka_unit_test(test_every_truncation_needs_more),
        cmocka_unit_test(test_chunked_body),
        cmocka_unit_test(test_bad_chunked),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_header_caps),
        cmocka_unit_test(test_bad_request_lines),
        cmocka_unit_test(test_pipelined),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_binary_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
