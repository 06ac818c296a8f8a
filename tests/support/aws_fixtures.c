#include "tests/support/aws_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/mockcloud/mock_int.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "tests/support/aws_expect.h"

struct s_pending {
    struct tm_test_aws_queued base;         /* first: queued as it */
    const struct tm__mock_fixture *fixture; /* NULL: nothing matched */
    bool deny;
};

static int s_add_header(struct tm__mock_http_request *h, const char *name, const char *value) {
    struct tm__mock_kv *v = realloc(h->headers, (h->n_headers + 1) * sizeof(*v));
    if (!v)
        return TM_ERR_NOMEM;
    h->headers = v;
    v[h->n_headers].name = strdup(name);
    v[h->n_headers].value = strdup(value);
    h->n_headers++;
    return v[h->n_headers - 1].name && v[h->n_headers - 1].value ? TM_OK : TM_ERR_NOMEM;
}

static int s_encode_pair(struct tm_buf *b, const char *name, const char *value) {
    int rc = b->len ? tm_buf_append_char(b, '&') : TM_OK;
    if (!rc)
        rc = tm_uri_encode(b, name, strlen(name), false);
    if (!rc)
        rc = tm_buf_append_char(b, '=');
    if (!rc)
        rc = tm_uri_encode(b, value, strlen(value), false);
    return rc;
}

/* The API description behind a wire call, from the provider's service tables (for the JSON target
 * prefix and the query API version, which the wire call leaves to the request layer). */
static const struct tm_aws_api *s_api(const char *name) {
    for (const struct tm_aws_service *const *s = tm_aws_scan_services(); *s; s++)
        for (const struct tm_aws_operation *op = (*s)->operations; op && op->name; op++)
            if (strcmp(op->api->name, name) == 0)
                return op->api;
    return NULL;
}

/* The request as the call's protocol sends it. */
static int s_build(struct tm__mock_http_request *h, const struct tm_test_aws_fixtures *f,
                   const struct tm_aws_wire_call *call) {
    struct tm_buf query, body;
    tm_buf_init(&query, 0);
    tm_buf_init(&body, 0);
    int rc = TM_OK;
    const struct tm_aws_api *api = s_api(call->service);
    const char *ctype = NULL;
    char target[256] = "";
    if (!api) {
        rc = TM_ERR_INVALID;
    } else if (call->rest) {
        for (size_t i = 0; i < call->param_count && !rc; i++)
            rc = s_encode_pair(&query, call->params[i].name, call->params[i].value);
    } else if (call->json) {
        cJSON *o = cJSON_CreateObject();
        for (size_t i = 0; o && i < call->param_count; i++)
            cJSON_AddItemToObject(o, call->params[i].name,
                                  call->params[i].raw ? cJSON_Parse(call->params[i].value)
                                                      : cJSON_CreateString(call->params[i].value));
        char *text = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        rc = text ? tm_buf_append_str(&body, text) : TM_ERR_NOMEM;
        free(text);
        snprintf(target, sizeof(target), "%s.%s", api->target_prefix, call->operation);
        ctype = api->json_version && strcmp(api->json_version, "1.0") == 0 ? "application/x-amz-json-1.0"
                                                                           : "application/x-amz-json-1.1";
    } else {
        rc = s_encode_pair(&body, "Action", call->operation);
        if (!rc)
            rc = s_encode_pair(&body, "Version", api->api_version);
        for (size_t i = 0; i < call->param_count && !rc; i++)
            rc = s_encode_pair(&body, call->params[i].name, call->params[i].value);
        ctype = "application/x-www-form-urlencoded; charset=utf-8";
    }
    h->method = strdup(call->method ? call->method : "GET");
    h->path = strdup(call->path ? call->path : "/");
    h->query = strdup(tm_buf_str(&query));
    h->target = strdup(h->path ? h->path : "/");
    h->version_minor = 1;
    char auth[512];
    const char *key = f->set->n_credentials ? f->set->credentials[0].access_key_id : "AKIDEXAMPLE";
    snprintf(auth, sizeof(auth),
             "AWS4-HMAC-SHA256 Credential=%s/20240101/%s/%s/aws4_request, SignedHeaders=host, Signature=00", key,
             call->region, call->signing_name);
    if (!rc)
        rc = s_add_header(h, "Authorization", auth);
    if (!rc && ctype)
        rc = s_add_header(h, "Content-Type", ctype);
    if (!rc && *target)
        rc = s_add_header(h, "X-Amz-Target", target);
    if (!rc && strcmp(call->service, "s3control") == 0)
        rc = s_add_header(h, "x-amz-account-id", call->account ? call->account : "");
    if (!rc && body.len)
        rc = tm_buf_append(&h->body, body.data, body.len);
    if (!rc && (!h->method || !h->path || !h->query || !h->target))
        rc = TM_ERR_NOMEM;
    tm_buf_clean_up(&query);
    tm_buf_clean_up(&body);
    return rc;
}

static const char *s_header(const struct tm__mock_fixture *fx, const char *name) {
    for (size_t i = 0; i < fx->n_response_headers; i++)
        if (strcasecmp(fx->response_headers[i].name, name) == 0)
            return fx->response_headers[i].value;
    return NULL;
}

/* The error code an answer carries, as the protocols put it: x-amzn-ErrorType, JSON __type / code,
 * or <Code> in XML. */
static void s_error(char *code, size_t code_len, char *msg, size_t msg_len, const struct tm__mock_fixture *fx) {
    const char *type = s_header(fx, "x-amzn-ErrorType");
    code[0] = msg[0] = '\0';
    if (type)
        snprintf(code, code_len, "%.*s", (int)strcspn(type, ":"), type);
    cJSON *j = fx->body ? cJSON_ParseWithLength(fx->body, fx->body_len) : NULL;
    if (j) {
        const char *t = tm_json_str(j, "__type", tm_json_str(j, "code", tm_json_str(j, "Code", NULL)));
        if (!*code && t) {
            const char *hash = strrchr(t, '#');
            snprintf(code, code_len, "%s", hash ? hash + 1 : t);
        }
        snprintf(msg, msg_len, "%s", tm_json_str(j, "message", tm_json_str(j, "Message", "")));
        cJSON_Delete(j);
    } else if (fx->body) {
        const char *c = strstr(fx->body, "<Code>"), *m = strstr(fx->body, "<Message>");
        if (!*code && c)
            snprintf(code, code_len, "%.*s", (int)strcspn(c + 6, "<"), c + 6);
        if (m)
            snprintf(msg, msg_len, "%.*s", (int)strcspn(m + 9, "<"), m + 9);
    }
    if (!*code)
        snprintf(code, code_len, "Http%d", fx->status);
}

static void s_answer(struct tm_test_aws_queued *call) {
    const struct s_pending *p = (const struct s_pending *)call;
    struct tm_aws_transport_response resp = {.attempts = 1};
    struct tm_aws_header headers[32];
    char code[128], msg[256];
    const struct tm__mock_fixture *fx = p->fixture;
    if (p->deny) {
        resp.status = 403;
        resp.code = "AccessDenied";
        resp.message = "Access Denied";
    } else if (!fx) {
        resp.status = 404;
        resp.code = "NoFixture";
        resp.message = "no fixture answers this call";
    } else {
        resp.status = fx->status ? fx->status : 200;
        resp.body = fx->body;
        resp.body_len = fx->body_len;
        size_t n = 0;
        if (fx->content_type)
            headers[n++] = (struct tm_aws_header){"Content-Type", fx->content_type};
        for (size_t i = 0; i < fx->n_response_headers && n < 32; i++)
            headers[n++] = (struct tm_aws_header){fx->response_headers[i].name, fx->response_headers[i].value};
        resp.headers = headers;
        resp.header_count = n;
        if (resp.status >= 300) {
            s_error(code, sizeof(code), msg, sizeof(msg), fx);
            resp.code = code;
            resp.message = msg;
        }
    }
    call->done(call->user_data, &resp);
}

static int s_send(struct tm_aws_transport *t, const struct tm_aws_wire_call *call, tm_aws_transport_done_fn done,
                  void *user_data) {
    struct tm_test_aws_fixtures *f = (struct tm_test_aws_fixtures *)t;
    struct tm__mock_http_request http;
    memset(&http, 0, sizeof(http));
    tm_buf_init(&http.body, 0);
    struct tm__mock_request req;
    memset(&req, 0, sizeof(req));
    int rc = s_build(&http, f, call);
    if (!rc)
        rc = tm__mock_request_init(&req, &http);
    struct s_pending *p = rc ? NULL : calloc(1, sizeof(*p));
    if (!rc && !p)
        rc = TM_ERR_NOMEM;
    if (!rc) {
        p->fixture = tm__mock_match(f->set, &req);
        p->deny = f->deny_every && (f->sent + 1) % f->deny_every == 0;
        f->denied += p->deny;
        char line[2048];
        snprintf(line, sizeof(line), "%s %s %s %s%s%s", call->service, call->operation, call->region, http.path,
                 *http.query ? "?" : "", http.query);
        cJSON_AddItemToArray(f->log, cJSON_CreateString(line));
        if (!p->fixture)
            cJSON_AddItemToArray(f->unmatched, cJSON_CreateString(line));
        f->sent++;
        tm_test_aws_queue_push(&f->queue, &p->base, done, user_data);
    }
    tm__mock_request_clean_up(&req);
    tm__mock_http_request_clean_up(&http);
    return rc;
}

static void s_close(struct tm_aws_transport *t) {
    tm_test_aws_queue_close(&((struct tm_test_aws_fixtures *)t)->queue);
}

int tm_test_aws_fixtures_init(struct tm_test_aws_fixtures *f, uv_loop_t *loop, const char *dir, char *errmsg,
                              size_t errmsg_len) {
    memset(f, 0, sizeof(*f));
    char path[4096];
    const char *root = getenv("TM_ROOT");
    snprintf(path, sizeof(path), "%s/%s", dir[0] == '/' ? "" : (root && *root ? root : "."), dir);
    int rc = tm__mock_fixture_set_load(&f->set, path, errmsg, errmsg_len);
    if (rc)
        return rc;
    f->base.send = s_send;
    f->base.close = s_close;
    f->loop = loop;
    f->unmatched = cJSON_CreateArray();
    f->log = cJSON_CreateArray();
    if (!f->unmatched || !f->log || tm_test_aws_queue_init(&f->queue, loop, s_answer)) {
        tm_test_aws_fixtures_clean_up(f);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

void tm_test_aws_fixtures_clean_up(struct tm_test_aws_fixtures *f) {
    tm_test_aws_queue_clean_up(&f->queue);
    tm__mock_fixture_set_destroy(f->set);
    f->set = NULL;
    cJSON_Delete(f->unmatched);
    cJSON_Delete(f->log);
    f->unmatched = f->log = NULL;
}

size_t tm_test_aws_fixtures_count(const struct tm_test_aws_fixtures *f, const char *operation) {
    return tm_test_aws_count_calls(f->log, operation);
}

static struct tm_snapshot *s_scan_demo(const char *const *services, size_t service_count, size_t deny_every,
                                       size_t *denied, cJSON **unmatched, cJSON **calls) {
    uv_loop_t loop;
    struct tm_test_aws_fixtures f;
    struct tm_snapshot *snap = NULL;
    struct tm_aws_scan *scan = NULL;
    char err[512] = "";
    assert_int_equal(uv_loop_init(&loop), 0);
    if (tm_test_aws_fixtures_init(&f, &loop, "fixtures/aws/demo", err, sizeof(err)))
        fail_msg("fixtures: %s", err);
    f.deny_every = deny_every;
    assert_int_equal(tm_snapshot_new(&snap, "aws"), TM_OK);
    static const char *const regions[] = {"us-east-1", "eu-west-1"};
    struct tm_aws_scan_options opts = {
        .home_region = "us-east-1",
        .regions = regions,
        .region_count = 2,
        .services = services,
        .service_count = service_count,
    };
    if (tm_aws_scan_new(&scan, &opts, &f.base, snap, err, sizeof(err)))
        fail_msg("scan: %s", err);
    assert_int_equal(tm_aws_scan_start(scan), TM_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(tm_aws_scan_finished(scan));
    if (tm_aws_scan_status(scan, err, sizeof(err)))
        fail_msg("the scan failed: %s", err);
    assert_int_equal(f.queue.in_flight, 0);
    tm_aws_scan_destroy(scan);
    if (denied)
        *denied = f.denied;
    if (unmatched) {
        *unmatched = f.unmatched;
        f.unmatched = NULL;
    }
    if (calls) {
        *calls = f.log;
        f.log = NULL;
    }
    tm_test_aws_fixtures_clean_up(&f);
    assert_int_equal(uv_loop_close(&loop), 0);
    return snap;
}

struct tm_snapshot *tm_test_aws_scan_demo(const char *const *services, size_t service_count, cJSON **unmatched,
                                          cJSON **calls) {
    return s_scan_demo(services, service_count, 0, NULL, unmatched, calls);
}

struct tm_snapshot *tm_test_aws_scan_demo_denying(const char *const *services, size_t service_count, size_t deny_every,
                                                  size_t *denied) {
    return s_scan_demo(services, service_count, deny_every, denied, NULL, NULL);
}

void tm_test_aws_scan_demo_refused(const char *const *services, size_t service_count,
                                   const struct tm_test_aws_facts_of *facts) {
    for (size_t every = 2; every <= 5; every++) {
        size_t denied = 0;
        struct tm_snapshot *snap = tm_test_aws_scan_demo_denying(services, service_count, every, &denied);
        assert_true(denied > 0);
        assert_true(tm_test_aws_count_errors(snap, "AccessDenied") >= denied);
        for (const struct tm_test_aws_facts_of *of = facts; of->type; of++)
            tm_test_aws_facts_present(snap, of->type, of->keys);
        tm_snapshot_destroy(snap);
    }
}
