/* mockcloud in-process, on the test's own loop: keep-alive and pipelining, 100-continue, requests
 * signed by providers/auth verified (and refused with a wrong secret), every fault on the wire, the
 * log and the counters, and a clean loop close after destroy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd/mockcloud/mock_int.h"
#include "cmd/mockcloud/mockcloud.h"
#include "core/str.h"
#include "providers/auth/sigv4.h"

#define FIXTURES "fixtures/aws/mocktest"

struct s_client {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_timer_t timer;
    struct tm_buf in;
    const char *send;
    size_t send_len;
    const char *body_after_continue; /* sent once "100 Continue" arrives */
    bool body_sent;
    int read_status; /* 0, UV_EOF or an error */
    int closes;
    bool timed_out;
    char rbuf[65536];
};

static void s_closed(uv_handle_t *h) {
    struct s_client *c = h->data;
    c->closes++;
}

static void s_finish(struct s_client *c, int status) {
    if (c->read_status)
        return;
    c->read_status = status;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, s_closed);
    uv_close((uv_handle_t *)&c->timer, s_closed);
}

static void s_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
    (void)n;
    struct s_client *c = h->data;
    *b = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void s_wrote(uv_write_t *w, int status) {
    (void)status;
    free(w);
}

static void s_write(struct s_client *c, const char *data, size_t len) {
    uv_write_t *w = malloc(sizeof(*w));
    assert_non_null(w);
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    assert_int_equal(uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, s_wrote), 0);
}

static void s_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    (void)b;
    struct s_client *c = s->data;
    if (n < 0) {
        s_finish(c, (int)n);
        return;
    }
    assert_int_equal(tm_buf_append(&c->in, c->rbuf, (size_t)n), TM_OK);
    if (c->body_after_continue && !c->body_sent && strstr(tm_buf_str(&c->in), "HTTP/1.1 100 Continue\r\n\r\n")) {
        c->body_sent = true;
        s_write(c, c->body_after_continue, strlen(c->body_after_continue));
    }
}

static void s_connected(uv_connect_t *req, int status) {
    struct s_client *c = req->data;
    if (status < 0) {
        s_finish(c, status);
        return;
    }
    s_write(c, c->send, c->send_len);
    assert_int_equal(uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_read), 0);
}

static void s_timeout(uv_timer_t *t) {
    struct s_client *c = t->data;
    c->timed_out = true;
    s_finish(c, UV_ETIMEDOUT);
}

/* Sends raw bytes and collects everything until the server closes (send Connection: close). */
static int s_exchange(struct tm_buf *out, uv_loop_t *loop, int port, const char *data, size_t len,
                      const char *body_after_continue) {
    struct s_client *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    tm_buf_init(&c->in, 0);
    c->send = data;
    c->send_len = len;
    c->body_after_continue = body_after_continue;
    assert_int_equal(uv_tcp_init(loop, &c->tcp), 0);
    assert_int_equal(uv_timer_init(loop, &c->timer), 0);
    c->tcp.data = c->timer.data = c->connect.data = c;
    struct sockaddr_in addr;
    assert_int_equal(uv_ip4_addr("127.0.0.1", port, &addr), 0);
    assert_int_equal(uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr, s_connected), 0);
    assert_int_equal(uv_timer_start(&c->timer, s_timeout, 5000, 0), 0);
    while (c->closes < 2)
        uv_run(loop, UV_RUN_ONCE);
    assert_false(c->timed_out);
    int status = c->read_status;
    *out = c->in;
    free(c);
    return status;
}

struct s_env {
    uv_loop_t loop;
    struct tm_mock_server *srv;
    FILE *log;
};

static void s_start(struct s_env *env, struct tm_mock_options *o) {
    assert_int_equal(uv_loop_init(&env->loop), 0);
    env->log = tmpfile();
    assert_non_null(env->log);
    o->fixtures_dir = FIXTURES;
    o->log = env->log;
    char err[512];
    int rc = tm_mock_server_new(&env->srv, &env->loop, o, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_true(tm_mock_server_port(env->srv) > 0);
}

static void s_stop(struct s_env *env) {
    tm_mock_server_destroy(env->srv);
    uv_run(&env->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&env->loop), 0);
    fclose(env->log);
}

static size_t s_count(const char *hay, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Signs a form-encoded query-protocol call to `service` and returns the raw request. */
static char *s_signed(const char *service, const char *body, const char *key, const char *secret, const char *token,
                      const char *connection) {
    struct tm_sigv4_header hdrs[] = {
        {"Host", "127.0.0.1"},
        {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
    };
    struct tm_sigv4_request req = {
        .method = "POST",
        .path = "/",
        .query = "",
        .headers = hdrs,
        .header_count = 2,
        .body = body,
        .body_len = strlen(body),
    };
    struct tm_sigv4_params p = {
        .access_key_id = key,
        .secret_access_key = secret,
        .session_token = token,
        .region = "us-east-1",
        .service = service,
        .time = 1700000000,
        .mode = TM_SIGV4_MODE_HEADER,
    };
    struct tm_sigv4_signed out;
    assert_int_equal(tm_sigv4_sign(&out, &req, &p), TM_OK);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_appendf(&b,
                                    "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                                    hdrs[1].value, strlen(body)),
                     TM_OK);
    for (size_t i = 0; i < out.header_count; i++)
        assert_int_equal(tm_buf_appendf(&b, "%s: %s\r\n", out.headers[i].name, out.headers[i].value), TM_OK);
    assert_int_equal(tm_buf_appendf(&b, "Connection: %s\r\n\r\n%s", connection, body), TM_OK);
    tm_sigv4_signed_clean_up(&out);
    return tm_buf_detach(&b);
}

static void test_pipelined_imds(void **state) {
    (void)state;
    struct s_env env;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    s_start(&env, &o);
    const char *reqs = "PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                       "X-aws-ec2-metadata-token-ttl-seconds: 60\r\nContent-Length: 0\r\n\r\n"
                       "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                       "X-aws-ec2-metadata-token: AQAEAMOCKTESTIMDSv2SESSIONTOKEN0000000000000000000000==\r\n\r\n"
                       "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: 169.254.169.254\r\n"
                       "Connection: close\r\n\r\n";
    struct tm_buf in;
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), reqs, strlen(reqs), NULL), UV_EOF);
    const char *s = tm_buf_str(&in);
    const char *a = strstr(s, "HTTP/1.1 200 OK\r\n");
    assert_non_null(a);
    assert_non_null(strstr(a, "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\n"));
    const char *b = strstr(a + 1, "HTTP/1.1 200 OK\r\n");
    assert_non_null(b);
    assert_non_null(strstr(b, "\r\n\r\nmocktest-instance-role"));
    const char *c = strstr(b + 1, "HTTP/1.1 401 Unauthorized\r\n");
    assert_non_null(c);
    assert_non_null(strstr(c, "Connection: close\r\n"));
    assert_int_equal(s_count(s, "HTTP/1.1 "), 3);
    tm_buf_clean_up(&in);
    struct tm_mock_stats st;
    tm_mock_server_stats(&st, env.srv);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.matched, 3);
    assert_int_equal(st.connections, 1);
    s_stop(&env);
}

static void test_signed_requests(void **state) {
    (void)state;
    struct s_env env;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    s_start(&env, &o);
    int port = tm_mock_server_port(env.srv);
    const char *body = "Action=GetCallerIdentity&Version=2011-06-15";
    struct tm_buf in;

    char *req =
        s_signed("sts", body, "AKIAMOCKTEST00000001", "mocktest/secret/key/00000000000000000001", NULL, "close");
    assert_int_equal(s_exchange(&in, &env.loop, port, req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(tm_buf_str(&in), "<Arn>arn:aws:iam::111122223333:user/mocktest</Arn>"));
    assert_non_null(strstr(tm_buf_str(&in), "x-amzn-RequestId: "));
    tm_buf_clean_up(&in);
    free(req);

    req = s_signed("sts", body, "AKIAMOCKTEST00000001", "not-the-secret", NULL, "close");
    assert_int_equal(s_exchange(&in, &env.loop, port, req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 403 Forbidden\r\n"));
    assert_non_null(strstr(tm_buf_str(&in), "<Code>SignatureDoesNotMatch</Code>"));
    tm_buf_clean_up(&in);
    free(req);

    req = s_signed("sts", body, "ASIAMOCKTEST00000001", "mocktest/session/secret/0000000000000001",
                   "IQoJb3JpZ2luX2VjEMOCKTESTSESSIONTOKEN0001", "close");
    assert_int_equal(s_exchange(&in, &env.loop, port, req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "assumed-role/mocktest-web/session"));
    tm_buf_clean_up(&in);
    free(req);

    req = s_signed("sts", body, "ASIAMOCKTEST00000001", "mocktest/session/secret/0000000000000001", "stale-token",
                   "close");
    assert_int_equal(s_exchange(&in, &env.loop, port, req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "<Code>InvalidClientTokenId</Code>"));
    tm_buf_clean_up(&in);
    free(req);

    /* A signed call nobody answers: the service's "unknown operation". */
    req = s_signed("sts", "Action=GetSessionToken", "AKIAMOCKTEST00000001", "mocktest/secret/key/00000000000000000001",
                   NULL, "close");
    assert_int_equal(s_exchange(&in, &env.loop, port, req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(tm_buf_str(&in), "<Code>InvalidAction</Code>"));
    tm_buf_clean_up(&in);
    free(req);

    struct tm_mock_stats st;
    tm_mock_server_stats(&st, env.srv);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.auth_failed, 2);
    assert_int_equal(st.unmatched, 1);
    /* One JSON line per request, naming the fixture, with no secret in it. */
    rewind(env.log);
    char line[4096];
    int n = 0;
    double last_ms = 0;
    while (fgets(line, sizeof(line), env.log)) {
        n++;
        assert_null(strstr(line, "IQoJb3JpZ2lu"));
        assert_null(strstr(line, "mocktest/secret"));
        /* Each line carries its arrival time, from a monotonic clock: never earlier than the line before. */
        cJSON *entry = cJSON_Parse(line);
        assert_non_null(entry);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(entry, "t_ms");
        assert_true(cJSON_IsNumber(t));
        assert_true(t->valuedouble >= last_ms);
        last_ms = t->valuedouble;
        cJSON_Delete(entry);
    }
    assert_int_equal(n, 5);
    s_stop(&env);
}

static char *s_sts_call(void) {
    return s_signed("sts", "Action=GetCallerIdentity", "AKIAMOCKTEST00000001",
                    "mocktest/secret/key/00000000000000000001", NULL, "close");
}

static void test_faults_on_the_wire(void **state) {
    (void)state;
    struct tm_buf in;
    char *req = s_sts_call();
    struct s_env env;
    struct tm_mock_options o;

    tm_mock_options_init(&o);
    o.reset_rate = 1;
    s_start(&env, &o);
    int rc = s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), req, strlen(req), NULL);
    assert_true(rc == UV_ECONNRESET || rc == UV_EOF);
    assert_int_equal(in.len, 0);
    tm_buf_clean_up(&in);
    s_stop(&env);

    tm_mock_options_init(&o);
    o.truncate_rate = 1;
    s_start(&env, &o);
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), req, strlen(req), NULL), UV_EOF);
    const char *cl = strstr(tm_buf_str(&in), "Content-Length: ");
    assert_non_null(cl);
    size_t declared = strtoul(cl + 16, NULL, 10);
    const char *body = strstr(tm_buf_str(&in), "\r\n\r\n") + 4;
    assert_true(strlen(body) < declared);
    tm_buf_clean_up(&in);
    s_stop(&env);

    tm_mock_options_init(&o);
    o.malformed_rate = 1;
    s_start(&env, &o);
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 200 OK\r\n"));
    assert_null(strstr(tm_buf_str(&in), "</GetCallerIdentityResponse>"));
    assert_non_null(memchr(in.data, '\x01', in.len));
    tm_buf_clean_up(&in);
    s_stop(&env);

    tm_mock_options_init(&o);
    o.throttle_rate = 1;
    s_start(&env, &o);
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), req, strlen(req), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(tm_buf_str(&in), "<Code>Throttling</Code>"));
    tm_buf_clean_up(&in);
    /* Unsigned endpoints are spared unless asked. */
    const char *imds = "PUT /latest/api/token HTTP/1.1\r\nHost: h\r\nX-aws-ec2-metadata-token-ttl-seconds: 5\r\n"
                       "Connection: close\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), imds, strlen(imds), NULL), UV_EOF);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 200 OK\r\n"));
    tm_buf_clean_up(&in);
    s_stop(&env);

    tm_mock_options_init(&o);
    const char *deny[] = {"sts:GetCallerIdentity", NULL};
    o.deny = deny;
    o.latency_ms = 60;
    s_start(&env, &o);
    uint64_t t0 = uv_now(&env.loop);
    assert_int_equal(s_exchange(&in, &env.loop, tm_mock_server_port(env.srv), req, strlen(req), NULL), UV_EOF);
    uv_update_time(&env.loop);
    assert_true(uv_now(&env.loop) - t0 >= 55);
    assert_non_null(strstr(tm_buf_str(&in), "HTTP/1.1 403 Forbidden\r\n"));
    assert_non_null(strstr(tm_buf_str(&in), "<Code>AccessDenied</Code>"));
    assert_non_null(strstr(tm_buf_str(&in), "User: arn:aws:iam::111122223333:user/mocktest is not authorized to "
                                            "perform: sts:GetCallerIdentity"));
    tm_buf_clean_up(&in);
    struct tm_mock_stats st;
    tm_mock_server_stats(&st, env.srv);
    assert_int_equal(st.faults, 1);
    s_stop(&env);
    free(req);
}

static void test_continue_and_limits(void **state) {
    (void)state;
    struct s_env env;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    o.max_header_bytes = 2048;
    s_start(&env, &o);
    int port = tm_mock_server_port(env.srv);
    struct tm_buf in;
    const char *head = "POST /?Action=AssumeRoleWithWebIdentity HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                       "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 54\r\n"
                       "Connection: close\r\n\r\n";
    const char *body = "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fmoc";
    assert_int_equal(strlen(body), 54);
    assert_int_equal(s_exchange(&in, &env.loop, port, head, strlen(head), body), UV_EOF);
    assert_true(tm_str_starts_with(tm_buf_str(&in), "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 "));
    tm_buf_clean_up(&in);

    char big[4096];
    snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: h\r\nX-Big: %03000d\r\n\r\n", 0);
    assert_int_equal(s_exchange(&in, &env.loop, port, big, strlen(big), NULL), UV_EOF);
    assert_true(tm_str_starts_with(tm_buf_str(&in), "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    tm_buf_clean_up(&in);

    const char *chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_int_equal(s_exchange(&in, &env.loop, port, chunked, strlen(chunked), NULL), UV_EOF);
    assert_true(tm_str_starts_with(tm_buf_str(&in), "HTTP/1.1 400 Bad Request\r\n"));
    tm_buf_clean_up(&in);
    struct tm_mock_stats st;
    tm_mock_server_stats(&st, env.srv);
    assert_int_equal(st.bad_requests, 2);
    s_stop(&env);
}

static void test_new_refuses(void **state) {
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    struct tm_mock_server *srv = NULL;
    char err[512];
    o.fixtures_dir = FIXTURES;
    o.host = "10.0.0.1";
    assert_int_equal(tm_mock_server_new(&srv, &loop, &o, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "not a loopback address"));
    o.host = "::1";
    o.throttle_rate = 2;
    assert_int_equal(tm_mock_server_new(&srv, &loop, &o, err, sizeof(err)), TM_ERR_INVALID);
    o.throttle_rate = 0;
    o.fixtures_dir = "/nonexistent/fixtures";
    assert_int_equal(tm_mock_server_new(&srv, &loop, &o, err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_null(srv);
    /* Two servers on one loop, each on its own ephemeral port. */
    o.fixtures_dir = FIXTURES;
    o.host = NULL;
    struct tm_mock_server *a = NULL, *b = NULL;
    assert_int_equal(tm_mock_server_new(&a, &loop, &o, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_mock_server_new(&b, &loop, &o, err, sizeof(err)), TM_OK);
    assert_int_not_equal(tm_mock_server_port(a), tm_mock_server_port(b));
    tm_mock_server_destroy(a);
    tm_mock_server_destroy(b);
    tm_mock_server_destroy(NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelined_imds),     cmocka_unit_test(test_signed_requests),
        cmocka_unit_test(test_faults_on_the_wire), cmocka_unit_test(test_continue_and_limits),
        cmocka_unit_test(test_new_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
