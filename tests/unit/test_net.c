/* The HTTP engine against a scripted loopback server on the same loop. Assertions are on counts and
 * order; the few on time are lower bounds (a slow machine only makes them pass more easily). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/str.h"
#include "providers/net/http.h"
#include "tests/support/http_server.h"

#define MAX_RESULTS 600

struct result {
    bool done;
    int err;
    long status;
    unsigned attempts;
    unsigned throttles;
    char code[128];
    char message[512];
    char body[256];
    size_t body_len;
    char retry_header[64];
    unsigned order;      /* completion order */
    uint64_t granted_ms; /* loop time at which the engine last granted an attempt (s_submit_stamped) */
};

struct fx {
    uv_loop_t loop;
    uv_timer_t guard;
    bool guard_fired;
    struct tm_http_options opts;
    struct tm_http_engine *engine;
    struct tm_test_http_server *srv;
    struct result results[MAX_RESULTS];
    unsigned done_count;
};

static int s_setup(void **state) {
    struct fx *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
    fx->guard.data = fx;
    tm_http_options_init(&fx->opts);
    fx->opts.seed = 42;
    fx->opts.backoff_base_ms = 5;
    fx->opts.backoff_cap_ms = 50;
    fx->opts.ca_bundle = NULL;
    assert_int_equal(tm_test_http_server_start(&fx->srv, &fx->loop, NULL, NULL), 0);
    *state = fx;
    return 0;
}

static void s_engine(struct fx *fx) {
    char err[256];
    assert_int_equal(tm_http_engine_new(&fx->engine, &fx->loop, &fx->opts, err, sizeof(err)), TM_OK);
}

static int s_teardown(void **state) {
    struct fx *fx = *state;
    tm_http_engine_destroy(fx->engine);
    tm_test_http_server_close(fx->srv);
    uv_close((uv_handle_t *)&fx->guard, NULL);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    /* Every handle of the engine and the server is closed: the loop closes cleanly. */
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

static void s_done(const struct tm_http_response *resp, void *user_data) {
    struct result *r = user_data;
    r->done = true;
    r->err = resp->err;
    r->status = resp->status;
    r->attempts = resp->attempts;
    r->throttles = resp->throttles;
    snprintf(r->code, sizeof(r->code), "%s", resp->code);
    snprintf(r->message, sizeof(r->message), "%s", resp->message);
    r->body_len = resp->body_len;
    snprintf(r->body, sizeof(r->body), "%s", resp->body);
    const char *h = tm_http_response_header(resp, "X-Test");
    snprintf(r->retry_header, sizeof(r->retry_header), "%s", h ? h : "");
}

/* The fixture of the running test (cmocka runs one at a time). */
static struct fx *s_current;

static void s_done_counted(const struct tm_http_response *resp, void *user_data) {
    struct result *r = user_data;
    s_done(resp, r);
    r->order = s_current->done_count++;
}

static void s_on_guard(uv_timer_t *t) {
    struct fx *fx = t->data;
    fx->guard_fired = true;
}

/* Runs the loop until `target` requests have completed (fails after 20 s). */
static void s_wait(struct fx *fx, unsigned target) {
    fx->guard_fired = false;
    assert_int_equal(uv_timer_start(&fx->guard, s_on_guard, 20000, 0), 0);
    while (fx->done_count < target && !fx->guard_fired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
}

static struct tm_http_request *s_new(struct fx *fx, const char *method, const char *path, const char *service,
                                     const char *key) {
    char url[512];
    snprintf(url, sizeof(url), "%s%s", tm_test_http_server_url(fx->srv), path);
    struct tm_http_request *req = tm_http_request_new(method, url);
    assert_non_null(req);
    assert_int_equal(tm_http_request_set_key(req, service ? service : "svc", key ? key : "svc:op"), TM_OK);
    return req;
}

static void s_submit(struct fx *fx, unsigned idx, const char *method, const char *path, const char *service,
                     const char *key) {
    struct tm_http_request *req = s_new(fx, method, path, service, key);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[idx]), TM_OK);
}

/* A GET with its own timeout (the engine's when 0). */
static void s_submit_timeout(struct fx *fx, unsigned idx, const char *path, long timeout_ms) {
    struct tm_http_request *req = s_new(fx, "GET", path, NULL, NULL);
    tm_http_request_set_timeout_ms(req, timeout_ms);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[idx]), TM_OK);
}

/* The prepare hook runs once the engine has granted the attempt its slot and tokens, in the same loop pass:
 * the loop's time then is the engine's own clock reading for the grant. Pacing is asserted on these, not on
 * arrival times at the server, which add connection set-up and scheduling noise (on a loaded machine the
 * first request can arrive tens of milliseconds late and shorten the measured span). */
static int s_prepare_stamp(struct tm_http_request *req, unsigned attempt, void *hook_data) {
    (void)req;
    (void)attempt;
    struct result *r = hook_data;
    r->granted_ms = uv_now(&s_current->loop);
    return TM_OK;
}

static void s_submit_stamped(struct fx *fx, unsigned idx, const char *path, const char *service, const char *key) {
    struct tm_http_request *req = s_new(fx, "GET", path, service, key);
    tm_http_request_set_hooks(req, s_prepare_stamp, NULL, &fx->results[idx]);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[idx]), TM_OK);
}

/* Loop time between the first and the last grant among results [from, to). */
static uint64_t s_grant_span_ms(const struct fx *fx, unsigned from, unsigned to) {
    uint64_t first = UINT64_MAX, last = 0;
    for (unsigned i = from; i < to; i++) {
        if (fx->results[i].granted_ms < first)
            first = fx->results[i].granted_ms;
        if (fx->results[i].granted_ms > last)
            last = fx->results[i].granted_ms;
    }
    return last - first;
}

static struct fx *s_start(void **state) {
    struct fx *fx = *state;
    s_current = fx;
    return fx;
}

/* --- Core ------------------------------------------------------------------------------------------------- */

static void s_echo(struct tm_test_http_reply *out, const struct tm_test_http_request *req, void *user_data) {
    (void)user_data;
    static char body[600];
    snprintf(body, sizeof(body), "echo %s %s", req->method, req->target);
    out->body = body;
    out->headers = "X-Test: yes\r\n";
}

static void test_many_concurrent_requests(void **state) {
    struct fx *fx = s_start(state);
    tm_test_http_server_close(fx->srv);
    assert_int_equal(tm_test_http_server_start(&fx->srv, &fx->loop, s_echo, NULL), 0);
    fx->opts.max_per_host = 8;
    s_engine(fx);
    const unsigned n = 300;
    for (unsigned i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/item/%u?x=%u", i, i * 7);
        s_submit(fx, i, i % 2 ? "GET" : "POST", path, NULL, NULL);
    }
    assert_int_equal(tm_http_engine_pending(fx->engine), n);
    s_wait(fx, n);
    for (unsigned i = 0; i < n; i++) {
        struct result *r = &fx->results[i];
        assert_true(r->done);
        assert_int_equal(r->err, TM_OK);
        assert_int_equal(r->status, 200);
        assert_int_equal(r->attempts, 1);
        char want[128];
        snprintf(want, sizeof(want), "echo %s /item/%u?x=%u", i % 2 ? "GET" : "POST", i, i * 7);
        assert_string_equal(r->body, want);
        assert_string_equal(r->retry_header, "yes");
    }
    assert_int_equal(tm_test_http_server_requests(fx->srv), n);
    /* Keep-alive: a handful of connections carried all of them, never more than the host limit at once. */
    assert_true(tm_test_http_server_connections(fx->srv) <= 16);
    assert_true(tm_test_http_server_max_in_flight(fx->srv) <= 8);
    assert_int_equal(tm_http_engine_pending(fx->engine), 0);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, NULL, &st);
    assert_int_equal(st.requests, n);
    assert_int_equal(st.completed, n);
    assert_int_equal(st.attempts, n);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.errors, 0);
    assert_true(st.bytes_received > n * 10);
}

static void test_request_body_and_headers_reach_server(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    char url[256];
    snprintf(url, sizeof(url), "%s/post", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("POST", url);
    assert_non_null(req);
    assert_int_equal(tm_http_request_set_header(req, "Content-Type", "application/x-www-form-urlencoded"), TM_OK);
    assert_int_equal(tm_http_request_set_header(req, "X-Remove", "1"), TM_OK);
    assert_int_equal(tm_http_request_set_header(req, "x-remove", NULL), TM_OK);
    assert_int_equal(tm_http_request_set_header(req, "X-Empty", ""), TM_OK);
    assert_int_equal(tm_http_request_set_header(req, "X-Bad", "a\r\nInjected: 1"), TM_ERR_INVALID);
    assert_int_equal(tm_http_request_set_header(req, "Bad Name", "v"), TM_ERR_INVALID);
    const char body[] = "Action=ListThings&Version=2020-01-01";
    assert_int_equal(tm_http_request_set_body(req, body, strlen(body)), TM_OK);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    const struct tm_test_http_request *got = tm_test_http_server_request(fx->srv, 0);
    assert_non_null(got);
    assert_string_equal(got->method, "POST");
    assert_string_equal(got->target, "/post");
    assert_string_equal(got->body, body);
    assert_string_equal(tm_test_http_request_header(got, "Content-Type"), "application/x-www-form-urlencoded");
    assert_null(tm_test_http_request_header(got, "X-Remove"));
    assert_non_null(tm_test_http_request_header(got, "X-Empty"));
    assert_null(tm_test_http_request_header(got, "Expect"));
    assert_string_equal(tm_test_http_request_header(got, "User-Agent"), "tmscan/" TM_VERSION);
}

/* --- Retries ------------------------------------------------------------------------------------------------ */

static void test_retries_5xx_then_succeeds(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 500}, {.status = 503}, {.status = 502}, {.body = "fine"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 4), 0);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[0].attempts, 4);
    assert_string_equal(fx->results[0].body, "fine");
    assert_int_equal(tm_test_http_server_requests(fx->srv), 4);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, "svc", &st);
    assert_int_equal(st.attempts, 4);
    assert_int_equal(st.retries, 3);
    assert_int_equal(st.throttles, 0);
}

static void test_gives_up_at_attempt_cap(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 503}, {.status = 503}, {.status = 503}, {.body = "late"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 4), 0);
    fx->opts.max_attempts = 3;
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_SERVICE);
    assert_int_equal(fx->results[0].status, 503);
    assert_int_equal(fx->results[0].attempts, 3);
    assert_string_equal(fx->results[0].code, "HTTP503");
    assert_int_equal(tm_test_http_server_requests(fx->srv), 3);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, NULL, &st);
    assert_int_equal(st.errors, 1);
}

static void test_client_error_not_retried(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 404, .body = "nope"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 1), 0);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_SERVICE);
    assert_int_equal(fx->results[0].status, 404);
    assert_int_equal(fx->results[0].attempts, 1);
    assert_string_equal(fx->results[0].body, "nope");
}

static void test_retries_429_as_throttle(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 429}, {.status = 429}, {.body = "ok"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    s_engine(fx);
    assert_true(tm_http_engine_key_rate(fx->engine, "svc:op") == 0);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[0].attempts, 3);
    assert_int_equal(fx->results[0].throttles, 2);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, "svc", &st);
    assert_int_equal(st.throttles, 2);
    /* The adaptive limiter now paces the key that was throttled. */
    assert_true(tm_http_engine_key_rate(fx->engine, "svc:op") > 0);
}

/* An AWS-shaped classifier: throttling is a 400 with a code in the body. */
static void s_classify_body(struct tm_http_verdict *out, const struct tm_http_response *resp, void *hook_data) {
    unsigned *calls = hook_data;
    (*calls)++;
    if (resp->status == 400 && strstr(resp->body, "<Code>Throttling</Code>")) {
        out->outcome = TM_HTTP_THROTTLED;
        snprintf(out->code, sizeof(out->code), "Throttling");
        snprintf(out->message, sizeof(out->message), "Rate exceeded");
        return;
    }
    tm_http_classify_default(out, resp, NULL);
}

static void test_retries_throttling_body(void **state) {
    struct fx *fx = s_start(state);
    const char *thr = "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                      "</ErrorResponse>";
    struct tm_test_http_reply script[] = {
        {.status = 400, .body = thr}, {.status = 400, .body = thr}, {.status = 400, .body = thr}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    fx->opts.max_attempts = 3;
    s_engine(fx);
    unsigned calls = 0;
    char url[256];
    snprintf(url, sizeof(url), "%s/q", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("POST", url);
    tm_http_request_set_hooks(req, NULL, s_classify_body, &calls);
    assert_int_equal(tm_http_request_set_key(req, "iam", "iam:us-east-1:ListRoles"), TM_OK);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(calls, 3);
    assert_int_equal(fx->results[0].err, TM_ERR_SERVICE);
    assert_int_equal(fx->results[0].attempts, 3);
    assert_int_equal(fx->results[0].throttles, 3);
    assert_string_equal(fx->results[0].code, "Throttling");
    assert_string_equal(fx->results[0].message, "Rate exceeded");
}

static void test_retries_connection_reset(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {
        {.action = TM_TEST_HTTP_RESET}, {.action = TM_TEST_HTTP_CLOSE}, {.body = "after reset"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_string_equal(fx->results[0].body, "after reset");
    assert_int_equal(fx->results[0].attempts, 3);
    assert_int_equal(tm_test_http_server_requests(fx->srv), 3);
}

static void test_retries_timeout(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.action = TM_TEST_HTTP_HANG}, {.body = "in time"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 2), 0);
    fx->opts.timeout_ms = 300;
    s_engine(fx);
    s_submit(fx, 0, "GET", "/slow", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_string_equal(fx->results[0].body, "in time");
    assert_int_equal(fx->results[0].attempts, 2);
}

static void test_timeout_reported_after_cap(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.action = TM_TEST_HTTP_HANG}, {.action = TM_TEST_HTTP_HANG}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 2), 0);
    fx->opts.timeout_ms = 200;
    fx->opts.max_attempts = 2;
    s_engine(fx);
    s_submit(fx, 0, "GET", "/slow", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_TIMEOUT);
    assert_string_equal(fx->results[0].code, "Timeout");
    assert_int_equal(fx->results[0].attempts, 2);
}

static void test_retry_after_honoured(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 503, .headers = "Retry-After: 1\r\n"}, {.body = "ok"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 2), 0);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[0].attempts, 2);
    const struct tm_test_http_request *a = tm_test_http_server_request(fx->srv, 0);
    const struct tm_test_http_request *b = tm_test_http_server_request(fx->srv, 1);
    /* Backoff alone is at most 50 ms here; the retry waited for the second the server asked for. */
    assert_true(b->arrival_ns - a->arrival_ns >= 990ull * 1000 * 1000);
}

static void test_retry_after_over_limit_stops(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 503, .headers = "Retry-After: 3600\r\n"}, {.body = "ok"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 2), 0);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/x", NULL, NULL);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_SERVICE);
    assert_int_equal(fx->results[0].attempts, 1);
    assert_non_null(strstr(fx->results[0].message, "Retry-After"));
}

static void test_parse_retry_after(void **state) {
    (void)state;
    uint64_t ms = 0;
    assert_int_equal(tm_http_parse_retry_after(&ms, "3", 0), TM_OK);
    assert_int_equal(ms, 3000);
    assert_int_equal(tm_http_parse_retry_after(&ms, " 0 ", 0), TM_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(tm_http_parse_retry_after(&ms, "99999999999999999999999", 0), TM_OK);
    assert_int_equal(ms, 86400000);
    /* Sun, 06 Nov 1994 08:49:37 GMT is 784111777. */
    assert_int_equal(tm_http_parse_retry_after(&ms, "Sun, 06 Nov 1994 08:49:37 GMT", 784111770), TM_OK);
    assert_int_equal(ms, 7000);
    assert_int_equal(tm_http_parse_retry_after(&ms, "Sunday, 06-Nov-94 08:49:37 GMT", 784111777), TM_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(tm_http_parse_retry_after(&ms, "Sun Nov  6 08:49:37 1994", 784111700), TM_OK);
    assert_int_equal(ms, 77000);
    assert_int_equal(tm_http_parse_retry_after(&ms, "Sun, 06 Nov 1994 08:49:37 GMT", 900000000), TM_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(tm_http_parse_retry_after(&ms, "", 0), TM_ERR_PARSE);
    assert_int_equal(tm_http_parse_retry_after(&ms, "-5", 0), TM_ERR_PARSE);
    assert_int_equal(tm_http_parse_retry_after(&ms, "1.5", 0), TM_ERR_PARSE);
    assert_int_equal(tm_http_parse_retry_after(&ms, "soon", 0), TM_ERR_PARSE);
    assert_int_equal(tm_http_parse_retry_after(&ms, NULL, 0), TM_ERR_PARSE);
}

/* --- Caps and refusals ---------------------------------------------------------------------------------------- */

static void test_body_cap(void **state) {
    struct fx *fx = s_start(state);
    static char big[2001], exact[1001];
    memset(big, 'a', 2000);
    memset(exact, 'b', 1000);
    struct tm_test_http_reply script[] = {
        {.body = big},                            /* declared length over the cap */
        {.body = big, .no_content_length = true}, /* only the write callback can tell */
        {.body = exact},                          /* exactly the cap */
    };
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    fx->opts.max_body_bytes = 1000;
    fx->opts.max_per_host = 1;
    s_engine(fx);
    s_submit(fx, 0, "GET", "/a", NULL, NULL);
    s_submit(fx, 1, "GET", "/b", NULL, NULL);
    s_submit(fx, 2, "GET", "/c", NULL, NULL);
    s_wait(fx, 3);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fx->results[i].err, TM_ERR_TOO_BIG);
        assert_string_equal(fx->results[i].code, "ResponseTooLarge");
        assert_int_equal(fx->results[i].attempts, 1); /* never retried, never truncated */
    }
    assert_int_equal(fx->results[2].err, TM_OK);
    assert_int_equal(fx->results[2].body_len, 1000);
}

static void test_header_cap(void **state) {
    struct fx *fx = s_start(state);
    size_t n = 300 * 1024;
    char *h = malloc(n + 32);
    assert_non_null(h);
    strcpy(h, "X-Huge: ");
    memset(h + 8, 'h', n);
    strcpy(h + 8 + n, "\r\n");
    struct tm_test_http_reply script[] = {{.headers = h, .body = "x"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 1), 0);
    free(h);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/h", NULL, NULL);
    s_wait(fx, 1);
    assert_int_not_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[0].attempts, 1);
}

static void test_refuses_plain_http_to_non_loopback(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    const char *urls[] = {"http://example.com/", "http://10.0.0.1:8080/x", "http://127.0.0.1.nip.io/",
                          "ftp://127.0.0.1/",    "file:///etc/passwd",     "no-scheme.example.com/"};
    unsigned n = sizeof(urls) / sizeof(urls[0]);
    for (unsigned i = 0; i < n; i++) {
        struct tm_http_request *req = tm_http_request_new("GET", urls[i]);
        assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[i]), TM_OK);
        assert_false(fx->results[i].done); /* reported later, never inside submit */
    }
    s_wait(fx, n);
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(fx->results[i].err, TM_ERR_INVALID);
        assert_int_equal(fx->results[i].attempts, 0);
        assert_string_equal(fx->results[i].code, "InsecureURL");
    }
    assert_non_null(strstr(fx->results[0].message, "loopback"));
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, NULL, &st);
    assert_int_equal(st.attempts, 0);
    assert_int_equal(st.errors, n);
}

static void test_url_policy(void **state) {
    (void)state;
    char msg[256];
    const char *ok[] = {"https://example.com/", "https://sts.us-east-1.amazonaws.com/", "http://127.0.0.1:9/",
                        "http://127.45.6.7/", "http://localhost:8080/x", "http://LOCALHOST/", "http://[::1]:4566/",
                        "http://127.1/",
                        /* AWS's link-local credential endpoints only speak plain HTTP. */
                        "http://169.254.169.254/latest/api/token", "http://169.254.170.2/v2/credentials/x",
                        "http://[fd00:ec2::254]/latest/meta-data/"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(tm_http_check_url(ok[i], msg, sizeof(msg)), TM_OK);
    const char *bad[] = {
        "http://128.0.0.1/", "http://localhost.example.com/", "http://[::2]/",           "http://[::ffff:8.8.8.8]/",
        "http://0.0.0.0/",   "http://example.com@evil.com/",  "gopher://127.0.0.1/",     "",
        "http://",           "http://169.254.1.1/",           "http://169.254.169.253/", "http://[fd00:ec2::1]/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm_http_check_url(bad[i], msg, sizeof(msg)), TM_ERR_INVALID);
    assert_true(tm_http_host_is_loopback("127.0.0.1"));
    assert_true(tm_http_host_is_loopback("[::1]"));
    assert_false(tm_http_host_is_loopback("[::1"));
    assert_false(tm_http_host_is_loopback(""));
    assert_false(tm_http_host_is_loopback(NULL));
}

/* --- Limits --------------------------------------------------------------------------------------------------- */

static void test_per_host_concurrency_limit(void **state) {
    struct fx *fx = s_start(state);
    /* Replies are held until 4 are in flight, and 50 ms more in which a fifth would show: the engine has to fill
     * every slot of the host (or the test times out) and never go over. 20 is a multiple of 4, so the last
     * batch fills up too. */
    tm_test_http_server_hold(fx->srv, 4, 50);
    fx->opts.max_per_host = 4;
    s_engine(fx);
    for (unsigned i = 0; i < 20; i++)
        s_submit(fx, i, "GET", "/x", NULL, NULL);
    s_wait(fx, 20);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    assert_int_equal(tm_test_http_server_max_in_flight(fx->srv), 4);
}

static void test_per_service_concurrency_limit(void **state) {
    struct fx *fx = s_start(state);
    tm_test_http_server_hold(fx->srv, 3, 50);
    fx->opts.max_per_host = 10;
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_service_concurrency(fx->engine, "lambda", 3), TM_OK);
    /* Two hosts (the same server by two names), one service. */
    char url[256];
    for (unsigned i = 0; i < 12; i++) {
        snprintf(url, sizeof(url), "http://%s:%d/f%u", i % 2 ? "localhost" : "127.0.0.1",
                 tm_test_http_server_port(fx->srv), i);
        struct tm_http_request *req = tm_http_request_new("GET", url);
        assert_int_equal(tm_http_request_set_key(req, "lambda", "lambda:us-east-1:GetPolicy"), TM_OK);
        assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[i]), TM_OK);
    }
    s_wait(fx, 12);
    for (unsigned i = 0; i < 12; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    assert_int_equal(tm_test_http_server_max_in_flight(fx->srv), 3);
}

/* Waiting in the engine's queue is tmscan's own scheduling: it is never charged to the request's timeout. The
 * slot is held by a reply the server sends 1.5 s after the request arrived; the requests behind it, whose
 * timeout is 500 ms, wait longer than that for the slot, are sent once it frees, and their answers come at
 * once. */
static void test_queue_time_is_not_charged_to_timeout(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.body = "slow", .delay_ms = 1500}, {.body = "queued"}, {.body = "after"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    fx->opts.max_per_host = 1;
    fx->opts.max_attempts = 1;
    fx->opts.timeout_ms = 500;
    s_engine(fx);
    s_submit_timeout(fx, 0, "/slow", 10000);
    s_submit_timeout(fx, 1, "/queued", 0);
    s_submit_timeout(fx, 2, "/after", 0);
    s_wait(fx, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(fx->results[i].err, TM_OK);
        assert_int_equal(fx->results[i].attempts, 1);
        assert_int_equal(fx->results[i].order, i);
    }
    assert_string_equal(fx->results[1].body, "queued");
    assert_string_equal(fx->results[2].body, "after");
    assert_int_equal(tm_test_http_server_requests(fx->srv), 3);
}

/* The timeout covers the transfer: a request sent after waiting in the queue still fails when its own answer
 * is later than its timeout, having been sent (it is the service that is late), and the slot it held goes to
 * the next request. */
static void test_queued_request_times_out_on_its_transfer(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {
        {.body = "slow", .delay_ms = 400}, {.action = TM_TEST_HTTP_HANG}, {.body = "last"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    fx->opts.max_per_host = 1;
    fx->opts.max_attempts = 1;
    fx->opts.timeout_ms = 200;
    s_engine(fx);
    s_submit_timeout(fx, 0, "/slow", 10000);
    s_submit_timeout(fx, 1, "/hangs", 0);
    s_submit_timeout(fx, 2, "/last", 10000);
    s_wait(fx, 3);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[1].err, TM_ERR_TIMEOUT);
    assert_string_equal(fx->results[1].code, "Timeout");
    assert_int_equal(fx->results[1].attempts, 1);
    assert_int_equal(fx->results[2].err, TM_OK);
    assert_string_equal(fx->results[2].body, "last");
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(fx->results[i].order, i);
    assert_int_equal(tm_test_http_server_requests(fx->srv), 3);
    assert_string_equal(tm_test_http_server_request(fx->srv, 1)->target, "/hangs");
    assert_int_equal(tm_http_engine_pending(fx->engine), 0);
}

static void test_rate_limit_per_key(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "slow:*", 20, 1), TM_OK);
    for (unsigned i = 0; i < 6; i++)
        s_submit_stamped(fx, i, "/slow", "svc", "slow:op");
    for (unsigned i = 6; i < 12; i++)
        s_submit_stamped(fx, i, "/fast", "svc", "fast:op");
    assert_true(tm_http_engine_key_rate(fx->engine, "slow:op") == 20);
    assert_true(tm_http_engine_key_rate(fx->engine, "fast:op") == 0);
    s_wait(fx, 12);
    for (unsigned i = 0; i < 12; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    /* 6 requests at 20/s with a burst of 1 take 5 intervals of 50 ms (less a millisecond of slack each). */
    assert_true(s_grant_span_ms(fx, 0, 6) >= 245);
    assert_int_equal(tm_test_http_server_requests(fx->srv), 12);
    /* The unlimited key was never held behind the limited one. */
    for (unsigned i = 6; i < 12; i++)
        assert_true(fx->results[i].order < fx->results[5].order);
}

static void test_global_max_rps(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_rps = 25;
    s_engine(fx);
    for (unsigned i = 0; i < 6; i++)
        s_submit_stamped(fx, i, "/g", "svc", i % 2 ? "a:op" : "b:op");
    s_wait(fx, 6);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    /* Burst max(1, 25/10) = 2.5: two go at once, the third waits for half a token (20 ms), the last three
     * for a whole one each (40 ms); less a millisecond of slack for each. */
    assert_true(s_grant_span_ms(fx, 0, 6) >= 135);
}

static void test_rate_rules_longest_match(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "ec2:*", 10, 0), TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "ec2:us-east-1:*", 20, 0), TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "ec2:us-east-1:DescribeInstances", 5, 0), TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "", 5, 0), TM_ERR_INVALID);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "x", -1, 0), TM_ERR_INVALID);
    s_submit(fx, 0, "GET", "/1", "ec2", "ec2:us-east-1:DescribeInstances");
    s_submit(fx, 1, "GET", "/2", "ec2", "ec2:us-east-1:DescribeVpcs");
    s_submit(fx, 2, "GET", "/3", "ec2", "ec2:eu-west-1:DescribeVpcs");
    s_submit(fx, 3, "GET", "/4", "s3", "s3:us-east-1:ListBuckets");
    assert_true(tm_http_engine_key_rate(fx->engine, "ec2:us-east-1:DescribeInstances") == 5);
    assert_true(tm_http_engine_key_rate(fx->engine, "ec2:us-east-1:DescribeVpcs") == 20);
    assert_true(tm_http_engine_key_rate(fx->engine, "ec2:eu-west-1:DescribeVpcs") == 10);
    assert_true(tm_http_engine_key_rate(fx->engine, "s3:us-east-1:ListBuckets") == 0);
    /* Changing a rule updates keys already seen. */
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "ec2:*", 0, 0), TM_OK);
    assert_true(tm_http_engine_key_rate(fx->engine, "ec2:eu-west-1:DescribeVpcs") == 0);
    s_wait(fx, 4);
}

/* The first three requests for /a are throttled: that key slows down, the other does not. */
static void s_throttle_some(struct tm_test_http_reply *out, const struct tm_test_http_request *req, void *user_data) {
    unsigned *throttled = user_data;
    if (*throttled < 3 && tm_str_starts_with(req->target, "/a")) {
        (*throttled)++;
        out->status = 429;
        return;
    }
    out->body = "ok";
}

static void test_adaptive_limiter_slows_key(void **state) {
    struct fx *fx = s_start(state);
    unsigned throttled = 0;
    tm_test_http_server_close(fx->srv);
    assert_int_equal(tm_test_http_server_start(&fx->srv, &fx->loop, s_throttle_some, &throttled), 0);
    fx->opts.max_attempts = 10;
    s_engine(fx);
    for (unsigned i = 0; i < 8; i++)
        s_submit(fx, i, "GET", "/a", "svc", "svc:Hot");
    s_submit(fx, 8, "GET", "/b", "svc", "svc:Cold");
    s_wait(fx, 9);
    for (unsigned i = 0; i < 9; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    double hot = tm_http_engine_key_rate(fx->engine, "svc:Hot");
    assert_true(hot > 0);
    assert_true(tm_http_engine_key_rate(fx->engine, "svc:Cold") == 0);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, "svc", &st);
    assert_int_equal(st.throttles, 3);
    assert_int_equal(st.retries, 3);
}

/* --- Order ----------------------------------------------------------------------------------------------- */

static void s_submit_prio(struct fx *fx, unsigned idx, const char *path, const char *key, int priority) {
    struct tm_http_request *req = s_new(fx, "GET", path, "svc", key);
    tm_http_request_set_priority(req, priority);
    assert_int_equal(tm_http_request_priority(req), priority);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[idx]), TM_OK);
}

/* The targets the server received, in arrival order, joined by spaces. With one request in flight at a
 * time, that is the order the engine started them in. */
static void s_arrivals(const struct fx *fx, char *out, size_t out_len) {
    out[0] = '\0';
    size_t n = 0;
    for (unsigned i = 0; i < tm_test_http_server_requests(fx->srv); i++)
        n += (size_t)snprintf(out + n, out_len - n, "%s%s", i ? " " : "",
                              tm_test_http_server_request(fx->srv, i)->target);
}

static void test_priority_goes_first(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_per_host = 1;
    s_engine(fx);
    /* Everything is queued before the scheduler's first pass (it runs on the next loop iteration). */
    for (unsigned i = 0; i < 4; i++) {
        char path[16];
        snprintf(path, sizeof(path), "/leaf%u", i);
        s_submit_prio(fx, i, path, "svc:Get", TM_HTTP_PRIORITY_NORMAL);
    }
    s_submit_prio(fx, 4, "/list", "svc:List", TM_HTTP_PRIORITY_HIGH);
    s_submit_prio(fx, 5, "/page2", "svc:Get", TM_HTTP_PRIORITY_HIGHEST);
    s_submit_prio(fx, 6, "/bg", "svc:Other", TM_HTTP_PRIORITY_LOW);
    /* Out of range: clamped. */
    struct tm_http_request *req = s_new(fx, "GET", "/x", "svc", "svc:x");
    tm_http_request_set_priority(req, 99);
    assert_int_equal(tm_http_request_priority(req), TM_HTTP_PRIORITY_HIGHEST);
    tm_http_request_set_priority(req, -5);
    assert_int_equal(tm_http_request_priority(req), TM_HTTP_PRIORITY_LOW);
    tm_http_request_destroy(req);
    s_wait(fx, 7);
    char order[256];
    s_arrivals(fx, order, sizeof(order));
    /* The next page first (its key's later requests wait), then the listing, then the leaves first in, first
     * out, and the background request last. */
    assert_string_equal(order, "/page2 /list /leaf0 /leaf1 /leaf2 /leaf3 /bg");
}

static void test_bottleneck_key_goes_first(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_per_host = 1;
    s_engine(fx);
    /* "slow" drains 3 requests at 10/s (0.3 s of work), "slower" 4 at 5/s (0.8 s); both hold enough tokens for
     * all of them. The unlimited key came first but can use any later slot. */
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "slow:*", 10, 10), TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "slower:*", 5, 10), TM_OK);
    for (unsigned i = 0; i < 3; i++)
        s_submit(fx, i, "GET", "/free", "svc", "free:op");
    for (unsigned i = 3; i < 6; i++)
        s_submit(fx, i, "GET", "/slow", "svc", "slow:op");
    for (unsigned i = 6; i < 10; i++)
        s_submit(fx, i, "GET", "/slower", "svc", "slower:op");
    s_wait(fx, 10);
    char order[256];
    s_arrivals(fx, order, sizeof(order));
    /* slower: 0.8, 0.6, then 0.4 against slow's 0.3 ... until both keys are drained; ties go to the key served
     * least recently. */
    assert_string_equal(order, "/slower /slower /slower /slow /slower /slow /slow /free /free /free");
}

/* A listing (one priority step up) goes before a bottleneck's call only while that bottleneck has less
 * than a second of backlog. */
static void test_long_backlog_goes_before_listing(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_per_host = 1;
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "big:*", 10, 30), TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "small:*", 10, 30), TM_OK);
    s_submit_prio(fx, 0, "/list", "list:op", TM_HTTP_PRIORITY_HIGH);
    /* 25 queued at 10/s: 2.5 s of backlog, rank 3.5 against the listing's 2. */
    for (unsigned i = 1; i < 26; i++)
        s_submit_prio(fx, i, "/big", "big:op", TM_HTTP_PRIORITY_NORMAL);
    s_wait(fx, 26);
    assert_string_equal(tm_test_http_server_request(fx->srv, 0)->target, "/big");
    /* The listing went once the backlog was down to a second (10 left: rank 2, a tie it wins by turn). */
    unsigned list_at = 0;
    for (unsigned i = 0; i < 26; i++)
        if (strcmp(tm_test_http_server_request(fx->srv, i)->target, "/list") == 0)
            list_at = i;
    assert_int_equal(list_at, 15);
    /* 5 queued: half a second of backlog, rank 1.5: the listing first. */
    s_submit_prio(fx, 26, "/list", "list:op", TM_HTTP_PRIORITY_HIGH);
    for (unsigned i = 27; i < 32; i++)
        s_submit_prio(fx, i, "/small", "small:op", TM_HTTP_PRIORITY_NORMAL);
    s_wait(fx, 32);
    assert_string_equal(tm_test_http_server_request(fx->srv, 26)->target, "/list");
}

static void test_equal_keys_take_turns(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_per_host = 1;
    s_engine(fx);
    s_submit(fx, 0, "GET", "/a", "svc", "a:op");
    s_submit(fx, 1, "GET", "/a", "svc", "a:op");
    s_submit(fx, 2, "GET", "/a", "svc", "a:op");
    s_submit(fx, 3, "GET", "/b", "svc", "b:op");
    s_submit(fx, 4, "GET", "/b", "svc", "b:op");
    s_wait(fx, 5);
    char order[256];
    s_arrivals(fx, order, sizeof(order));
    assert_string_equal(order, "/a /b /a /b /a");
}

/* A key that waits for tokens does not hold up the others, and starts as soon as its token is there. */
static void test_rate_limited_head_does_not_block(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_per_host = 1;
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "slow:*", 10, 1), TM_OK);
    for (unsigned i = 0; i < 3; i++)
        s_submit_stamped(fx, i, "/slow", "svc", "slow:op");
    for (unsigned i = 3; i < 6; i++)
        s_submit_stamped(fx, i, "/free", "svc", "free:op");
    s_wait(fx, 6);
    char order[256];
    s_arrivals(fx, order, sizeof(order));
    /* One token: the first slow request goes at once, the free ones while the bucket refills (100 ms). */
    assert_true(tm_str_starts_with(order, "/slow /free"));
    assert_true(s_grant_span_ms(fx, 0, 3) >= 195);
}

/* Aging, counted in starts rather than time: each request's prepare hook records the start and fails it, so
 * nothing is sent, no clock is involved, and the scheduler starts every queued request in one pass. `order`
 * holds the tag of each start in turn. */
struct aging {
    struct fx *fx;
    char order[1024];
    unsigned starts;
    unsigned chain_left; /* requests the chains may still submit */
};

struct aging_tag {
    struct aging *a;
    char tag;
    const char *key;
    int priority;
    bool chain; /* each completion submits another (a chain that does not run dry) */
};

static int s_prepare_record(struct tm_http_request *req, unsigned attempt, void *hook_data) {
    (void)attempt;
    struct aging_tag *t = hook_data;
    if (t->a->starts < sizeof(t->a->order) - 1)
        t->a->order[t->a->starts] = t->tag;
    t->a->starts++;
    tm_http_request_set_error(req, "NotSent", "recorded by the test");
    return TM_ERR_STATE;
}

static void s_aging_submit(struct aging_tag *t);

static void s_aging_done(const struct tm_http_response *resp, void *user_data) {
    struct aging_tag *t = user_data;
    assert_int_equal(resp->err, TM_ERR_STATE);
    assert_int_equal(resp->attempts, 0);
    s_current->done_count++;
    if (t->chain && t->a->chain_left) {
        t->a->chain_left--;
        s_aging_submit(t);
    }
}

static void s_aging_submit(struct aging_tag *t) {
    struct tm_http_request *req = s_new(t->a->fx, "GET", "/aging", "svc", t->key);
    tm_http_request_set_priority(req, t->priority);
    tm_http_request_set_hooks(req, s_prepare_record, NULL, t);
    assert_int_equal(tm_http_submit(t->a->fx->engine, req, s_aging_done, t), TM_OK);
}

static long s_first_start(const struct aging *a, char tag) {
    const char *p = strchr(a->order, tag);
    return p ? p - a->order : -1;
}

/* A bottleneck with 100 s of backlog (rank 101, tokens for all of it) and a chain of next pages (rank 3) would
 * hold a plain call (rank 1) and a background one (rank 0) back for 400 starts. With 4 queues waiting, a queue
 * passed over 16 x 4 times goes next, most passed first, ties by turn: every queue starts within
 * (16 + 1) x 4 starts. */
static void test_aging_every_queue_gets_a_turn(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_in_flight = 1;
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "neck:*", 1, 1000), TM_OK);
    struct aging a = {.fx = fx, .chain_left = 300};
    struct aging_tag hog = {&a, 'H', "hog:op", TM_HTTP_PRIORITY_HIGHEST, true};
    struct aging_tag neck = {&a, 'N', "neck:op", TM_HTTP_PRIORITY_NORMAL, false};
    struct aging_tag mid = {&a, 'M', "mid:op", TM_HTTP_PRIORITY_NORMAL, false};
    struct aging_tag bg = {&a, 'B', "bg:op", TM_HTTP_PRIORITY_LOW, false};
    for (unsigned i = 0; i < 4; i++)
        s_aging_submit(&hog);
    for (unsigned i = 0; i < 100; i++)
        s_aging_submit(&neck);
    s_aging_submit(&mid);
    s_aging_submit(&bg);
    s_wait(fx, 4 + 300 + 100 + 2);
    assert_int_equal(a.starts, 406);
    /* The bottleneck first, by rank, until the others are due; then the others in turn. */
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(a.order[i], 'N');
    assert_int_equal(s_first_start(&a, 'H'), 64);
    assert_int_equal(s_first_start(&a, 'M'), 65);
    assert_int_equal(s_first_start(&a, 'B'), 66);
    /* Then ranks decide again: the bottleneck's next start comes right after. */
    assert_int_equal(a.order[67], 'N');
}

/* Within one key too: its next pages (highest priority, a chain) do not hold its own background call back for
 * ever, nor another key's. Three queues waiting: due after 48 passes. */
static void test_aging_within_a_key(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_in_flight = 1;
    s_engine(fx);
    struct aging a = {.fx = fx, .chain_left = 300};
    struct aging_tag page = {&a, 'P', "svc:List", TM_HTTP_PRIORITY_HIGHEST, true};
    struct aging_tag low = {&a, 'L', "svc:List", TM_HTTP_PRIORITY_LOW, false};
    struct aging_tag other = {&a, 'O', "other:op", TM_HTTP_PRIORITY_LOW, false};
    for (unsigned i = 0; i < 4; i++)
        s_aging_submit(&page);
    s_aging_submit(&low);
    s_aging_submit(&other);
    s_wait(fx, 4 + 300 + 2);
    assert_int_equal(a.starts, 306);
    for (unsigned i = 0; i < 48; i++)
        assert_int_equal(a.order[i], 'P');
    /* A tie at 48 passes: the key served least recently first. */
    assert_int_equal(s_first_start(&a, 'O'), 48);
    assert_int_equal(s_first_start(&a, 'L'), 49);
}

static void test_shared_rate_group(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "lambda:r1:ListAliases", "cp:r1", 20, 1), TM_OK);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "lambda:r1:GetFunctionUrlConfig", "cp:r1", 20, 1),
                     TM_OK);
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "lambda:r1:GetPolicy", 20, 1), TM_OK);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "x", "", 1, 1), TM_ERR_INVALID);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "x", NULL, 1, 1), TM_ERR_INVALID);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "x", "g", -1, 1), TM_ERR_INVALID);
    for (unsigned i = 0; i < 3; i++)
        s_submit_stamped(fx, i, "/aliases", "lambda", "lambda:r1:ListAliases");
    for (unsigned i = 3; i < 6; i++)
        s_submit_stamped(fx, i, "/url", "lambda", "lambda:r1:GetFunctionUrlConfig");
    for (unsigned i = 6; i < 9; i++)
        s_submit_stamped(fx, i, "/policy", "lambda", "lambda:r1:GetPolicy");
    assert_string_equal(tm_http_engine_key_group(fx->engine, "lambda:r1:ListAliases"), "cp:r1");
    assert_string_equal(tm_http_engine_key_group(fx->engine, "lambda:r1:GetFunctionUrlConfig"), "cp:r1");
    assert_null(tm_http_engine_key_group(fx->engine, "lambda:r1:GetPolicy"));
    assert_null(tm_http_engine_key_group(fx->engine, "unknown"));
    assert_true(tm_http_engine_key_rate(fx->engine, "lambda:r1:ListAliases") == 20);
    s_wait(fx, 9);
    for (unsigned i = 0; i < 9; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    /* The group's six requests share one bucket: 20/s with a burst of 1 spaces all six 50 ms apart (less a
     * millisecond of slack each). Alone, each key's three would take 100 ms. */
    assert_true(s_grant_span_ms(fx, 0, 6) >= 245);
    /* GetPolicy has its own bucket: its three took about 100 ms, overlapping the group's. */
    assert_true(s_grant_span_ms(fx, 6, 9) >= 98);
    /* A longer (exact) per-key rule takes a key out of its group; a group rule can take it back. */
    assert_int_equal(tm_http_engine_set_rate(fx->engine, "lambda:r1:ListAliases", 7, 0), TM_OK);
    assert_null(tm_http_engine_key_group(fx->engine, "lambda:r1:ListAliases"));
    assert_true(tm_http_engine_key_rate(fx->engine, "lambda:r1:ListAliases") == 7);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "lambda:r1:ListAliases", "cp:r1", 15, 15), TM_OK);
    assert_string_equal(tm_http_engine_key_group(fx->engine, "lambda:r1:ListAliases"), "cp:r1");
    /* The group's rate is the last one set, for all its keys. */
    assert_true(tm_http_engine_key_rate(fx->engine, "lambda:r1:GetFunctionUrlConfig") == 15);
}

/* The 11th and 12th answers are throttles (enough successes before them for a rate estimate). */
static void s_throttle_later(struct tm_test_http_reply *out, const struct tm_test_http_request *req, void *user_data) {
    unsigned *seen = user_data;
    (void)req;
    if (++*seen == 11 || *seen == 12) {
        out->status = 429;
        return;
    }
    out->body = "ok";
}

static void test_adaptive_stays_under_configured_rate(void **state) {
    struct fx *fx = s_start(state);
    unsigned seen = 0;
    tm_test_http_server_close(fx->srv);
    assert_int_equal(tm_test_http_server_start(&fx->srv, &fx->loop, s_throttle_later, &seen), 0);
    fx->opts.max_attempts = 10;
    s_engine(fx);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "g:A", "grp", 200, 200), TM_OK);
    assert_int_equal(tm_http_engine_set_shared_rate(fx->engine, "g:B", "grp", 200, 200), TM_OK);
    for (unsigned i = 0; i < 30; i++)
        s_submit(fx, i, "GET", i % 2 ? "/b" : "/a", "svc", i % 2 ? "g:B" : "g:A");
    double lowest = 1e9;
    fx->guard_fired = false;
    assert_int_equal(uv_timer_start(&fx->guard, s_on_guard, 20000, 0), 0);
    while (fx->done_count < 30 && !fx->guard_fired) {
        uv_run(&fx->loop, UV_RUN_ONCE);
        double a = tm_http_engine_key_rate(fx->engine, "g:A");
        /* One budget: both keys always see the same rate, never above the configured one. */
        assert_true(a == tm_http_engine_key_rate(fx->engine, "g:B"));
        assert_true(a <= 200);
        if (a < lowest)
            lowest = a;
    }
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
    for (unsigned i = 0; i < 30; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    /* The throttles cut the group's rate below the configured one. */
    assert_true(lowest < 200);
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, "svc", &st);
    assert_int_equal(st.throttles, 2);
}

/* --- Hooks ---------------------------------------------------------------------------------------------------- */

struct prep {
    unsigned calls;
    unsigned last_attempt;
    bool async;
    int fail_with;
    uv_idle_t idle;
    struct tm_http_request *waiting;
};

static int s_prepare(struct tm_http_request *req, unsigned attempt, void *hook_data) {
    struct prep *p = hook_data;
    p->calls++;
    assert_int_equal(attempt, p->last_attempt + 1);
    p->last_attempt = attempt;
    char v[16];
    snprintf(v, sizeof(v), "%u", attempt);
    if (tm_http_request_set_header(req, "X-Attempt", v) != TM_OK)
        return TM_ERR_NOMEM;
    if (p->fail_with) {
        tm_http_request_set_error(req, "NoCredentials", "no credentials in the chain");
        return p->fail_with;
    }
    return TM_OK;
}

static void s_resume_later(uv_idle_t *i) {
    struct prep *p = i->data;
    uv_idle_stop(i);
    struct tm_http_request *req = p->waiting;
    p->waiting = NULL;
    tm_http_request_resume(req, TM_OK);
}

static int s_prepare_async(struct tm_http_request *req, unsigned attempt, void *hook_data) {
    struct prep *p = hook_data;
    int rc = s_prepare(req, attempt, hook_data);
    if (rc)
        return rc;
    if (attempt == 1) {
        /* Resumed before returning. */
        tm_http_request_resume(req, TM_OK);
        return TM_HTTP_PREPARE_ASYNC;
    }
    p->waiting = req;
    uv_idle_start(&p->idle, s_resume_later);
    return TM_HTTP_PREPARE_ASYNC;
}

static void test_prepare_runs_each_attempt(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 500}, {.status = 500}, {.body = "ok"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    s_engine(fx);
    struct prep p = {0};
    char url[256];
    snprintf(url, sizeof(url), "%s/p", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    tm_http_request_set_hooks(req, s_prepare, NULL, &p);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(p.calls, 3);
    for (unsigned i = 0; i < 3; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%u", i + 1);
        assert_string_equal(tm_test_http_request_header(tm_test_http_server_request(fx->srv, i), "X-Attempt"), want);
    }
}

static void test_prepare_async(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.status = 503}, {.status = 503}, {.body = "ok"}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 3), 0);
    s_engine(fx);
    /* Static: its idle handle closes only when teardown runs the loop. */
    static struct prep p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(uv_idle_init(&fx->loop, &p.idle), 0);
    p.idle.data = &p;
    char url[256];
    snprintf(url, sizeof(url), "%s/p", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    tm_http_request_set_hooks(req, s_prepare_async, NULL, &p);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_OK);
    assert_int_equal(fx->results[0].attempts, 3);
    assert_int_equal(p.calls, 3);
    uv_close((uv_handle_t *)&p.idle, NULL);
}

static void test_prepare_failure_sends_nothing(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    struct prep p = {.fail_with = TM_ERR_AUTH};
    char url[256];
    snprintf(url, sizeof(url), "%s/p", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    tm_http_request_set_hooks(req, s_prepare, NULL, &p);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_AUTH);
    assert_string_equal(fx->results[0].code, "NoCredentials");
    assert_string_equal(fx->results[0].message, "no credentials in the chain");
    assert_int_equal(fx->results[0].attempts, 0);
    assert_int_equal(tm_test_http_server_requests(fx->srv), 0);
}

/* --- Lifecycle ---------------------------------------------------------------------------------------------- */

static void test_destroy_cancels_pending(void **state) {
    struct fx *fx = s_start(state);
    struct tm_test_http_reply script[] = {{.action = TM_TEST_HTTP_HANG}, {.action = TM_TEST_HTTP_HANG}};
    assert_int_equal(tm_test_http_server_script(fx->srv, script, 2), 0);
    fx->opts.max_per_host = 2;
    s_engine(fx);
    for (unsigned i = 0; i < 5; i++)
        s_submit(fx, i, "GET", "/hang", NULL, NULL);
    /* Let the first two reach the server; three stay queued. */
    fx->guard_fired = false;
    uv_timer_start(&fx->guard, s_on_guard, 20000, 0);
    while (tm_test_http_server_requests(fx->srv) < 2 && !fx->guard_fired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
    assert_int_equal(fx->done_count, 0);
    tm_http_engine_destroy(fx->engine);
    fx->engine = NULL;
    assert_int_equal(fx->done_count, 5);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(fx->results[i].err, TM_ERR_CANCELLED);
        assert_string_equal(fx->results[i].code, "Cancelled");
    }
}

static void s_submit_from_done(const struct tm_http_response *resp, void *user_data) {
    struct fx *fx = user_data;
    fx->results[fx->done_count].err = resp->err;
    fx->done_count++;
    if (fx->done_count < 5) {
        char url[256];
        snprintf(url, sizeof(url), "%s/chain/%u", tm_test_http_server_url(fx->srv), fx->done_count);
        struct tm_http_request *req = tm_http_request_new("GET", url);
        assert_int_equal(tm_http_submit(fx->engine, req, s_submit_from_done, fx), TM_OK);
    }
}

static void test_submit_from_done_callback(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    char url[256];
    snprintf(url, sizeof(url), "%s/chain/0", tm_test_http_server_url(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    assert_int_equal(tm_http_submit(fx->engine, req, s_submit_from_done, fx), TM_OK);
    s_wait(fx, 5);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(fx->results[i].err, TM_OK);
    assert_string_equal(tm_test_http_server_request(fx->srv, 4)->target, "/chain/4");
    /* Sequential requests reuse one connection. */
    assert_int_equal(tm_test_http_server_connections(fx->srv), 1);
}

static void s_stats_visit(const char *service, const struct tm_http_stats *stats, void *user_data) {
    char *out = user_data;
    char line[128];
    snprintf(line, sizeof(line), "%s:%llu,", service, (unsigned long long)stats->requests);
    strcat(out, line);
}

static void test_stats_per_service_sorted(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    s_submit(fx, 0, "GET", "/1", "sqs", "sqs:op");
    s_submit(fx, 1, "GET", "/2", "ec2", "ec2:op");
    s_submit(fx, 2, "GET", "/3", "sqs", "sqs:op");
    s_submit(fx, 3, "GET", "/4", "s3", "s3:op");
    s_wait(fx, 4);
    char out[256] = "";
    tm_http_engine_foreach_stats(fx->engine, s_stats_visit, out);
    assert_string_equal(out, "ec2:1,s3:1,sqs:2,");
    struct tm_http_stats st;
    tm_http_engine_stats(fx->engine, "nope", &st);
    assert_int_equal(st.requests, 0);
}

static void test_submit_argument_errors(void **state) {
    struct fx *fx = s_start(state);
    s_engine(fx);
    assert_int_equal(tm_http_submit(fx->engine, NULL, s_done_counted, NULL), TM_ERR_INVALID);
    struct tm_http_request *req = tm_http_request_new("GET", "http://127.0.0.1:1/");
    assert_int_equal(tm_http_submit(fx->engine, req, NULL, NULL), TM_ERR_INVALID); /* freed */
    assert_null(tm_http_request_new(NULL, "x"));
    tm_http_request_destroy(NULL);
    req = tm_http_request_new("GET", "http://127.0.0.1:1/");
    tm_http_request_destroy(req);
}

static void test_connection_refused_is_retried_then_reported(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_attempts = 3;
    s_engine(fx);
    /* Port 1 on loopback: nothing listens there. */
    struct tm_http_request *req = tm_http_request_new("GET", "http://127.0.0.1:1/");
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_NETWORK);
    assert_int_equal(fx->results[0].attempts, 3);
    assert_string_equal(fx->results[0].code, "NetworkError");
    assert_true(fx->results[0].message[0] != '\0');
}

static void test_tls_is_verified_with_the_given_ca_bundle(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.ca_bundle = "/nonexistent/tmscan-test-ca.pem";
    fx->opts.max_attempts = 3;
    s_engine(fx);
    /* https to the plain-HTTP test server: the CA bundle is read before anything else, and a bundle that
     * cannot be read is a final TLS error, not something to retry. */
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", tm_test_http_server_port(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_NETWORK);
    assert_string_equal(fx->results[0].code, "TLSVerificationFailed");
    assert_int_equal(fx->results[0].attempts, 1);
}

static void test_tls_handshake_failure_is_retried(void **state) {
    struct fx *fx = s_start(state);
    fx->opts.max_attempts = 2;
    s_engine(fx);
    /* The test server answers a TLS ClientHello with an HTTP error: a failed handshake, as a middlebox that
     * cuts connections would cause. */
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", tm_test_http_server_port(fx->srv));
    struct tm_http_request *req = tm_http_request_new("GET", url);
    assert_int_equal(tm_http_submit(fx->engine, req, s_done_counted, &fx->results[0]), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->results[0].err, TM_ERR_NETWORK);
    assert_int_equal(fx->results[0].attempts, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_concurrent_requests, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_request_body_and_headers_reach_server, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_5xx_then_succeeds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_at_attempt_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_client_error_not_retried, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_429_as_throttle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_throttling_body, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_connection_reset, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retries_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_reported_after_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_over_limit_stops, s_setup, s_teardown),
        cmocka_unit_test(test_parse_retry_after),
        cmocka_unit_test_setup_teardown(test_body_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_header_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_refuses_plain_http_to_non_loopback, s_setup, s_teardown),
        cmocka_unit_test(test_url_policy),
        cmocka_unit_test_setup_teardown(test_per_host_concurrency_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_per_service_concurrency_limit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_queue_time_is_not_charged_to_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_queued_request_times_out_on_its_transfer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_per_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_global_max_rps, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rate_rules_longest_match, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_adaptive_limiter_slows_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_priority_goes_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bottleneck_key_goes_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_long_backlog_goes_before_listing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_equal_keys_take_turns, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_head_does_not_block, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_aging_every_queue_gets_a_turn, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_aging_within_a_key, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_shared_rate_group, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_adaptive_stays_under_configured_rate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prepare_runs_each_attempt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prepare_async, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_prepare_failure_sends_nothing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_cancels_pending, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_submit_from_done_callback, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_stats_per_service_sorted, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_submit_argument_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused_is_retried_then_reported, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tls_is_verified_with_the_given_ca_bundle, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake_failure_is_retried, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
