/* mockcloud's server: libuv TCP on loopback, HTTP/1.1 with keep-alive and pipelining (answered in
 * order, one at a time per connection), and the request pipeline: parse, authenticate, match, inject
 * faults, answer. Everything runs on the caller's loop thread. */
#include "cmd/mockcloud/mockcloud.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mock_int.h"
#include "core/str.h"

#define S_READ_BYTES 65536

struct s_conn;

struct tm_mock_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    bool listener_open;
    bool stopping;
    bool destroy_pending;
    int port;
    FILE *log;
    bool fault_unsigned;
    uint64_t seed;
    struct tm__mock_http_limits limits;
    size_t max_input_bytes;
    struct tm__mock_fixture_set *set;
    struct tm__mock_faults *faults;
    uint64_t seq;
    uint64_t start_ns; /* uv_hrtime() when the server was created: --log times count from it */
    struct tm_mock_stats stats;
    struct s_conn *conns;
};

struct s_conn {
    struct tm_mock_server *srv;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int open_handles;
    struct s_conn *prev, *next;
    struct tm_buf in;
    char rbuf[S_READ_BYTES];
    bool reading;
    bool eof;
    bool busy; /* answering a request: later (pipelined) ones wait */
    bool closing;
    bool sent_continue; /* 100 Continue already sent for the request being received */
    /* the pending answer */
    struct tm_buf out;
    bool close_after;
    bool reset;
};

struct s_write {
    uv_write_t req;
    struct s_conn *conn;
    char *data;
    bool last; /* close the connection once written */
};

static void s_process(struct s_conn *c);

void tm_mock_options_init(struct tm_mock_options *opts) {
    memset(opts, 0, sizeof(*opts));
    opts->host = "127.0.0.1";
    opts->max_header_bytes = 64 * 1024;
    opts->max_body_bytes = 8 * 1024 * 1024;
}

/* ---- lifetime ---- */

static void s_maybe_free(struct tm_mock_server *srv) {
    if (!srv->destroy_pending || srv->listener_open || srv->conns)
        return;
    tm__mock_fixture_set_destroy(srv->set);
    tm__mock_faults_destroy(srv->faults);
    free(srv);
}

static void s_conn_closed(uv_handle_t *h) {
    struct s_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct tm_mock_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    tm_buf_clean_up_secret(&c->in);
    tm_buf_clean_up(&c->out);
    free(c);
    s_maybe_free(srv);
}

static void s_conn_close(struct s_conn *c, bool reset) {
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, s_conn_closed);
    /* An RST ("connection reset by peer") is what a dropped connection looks like to a client. */
    if (!reset || uv_tcp_close_reset(&c->tcp, s_conn_closed) != 0)
        uv_close((uv_handle_t *)&c->tcp, s_conn_closed);
}

static void s_listener_closed(uv_handle_t *h) {
    struct tm_mock_server *srv = h->data;
    srv->listener_open = false;
    s_maybe_free(srv);
}

void tm_mock_server_stop(struct tm_mock_server *srv) {
    if (!srv || srv->stopping)
        return;
    srv->stopping = true;
    if (srv->listener_open)
        uv_close((uv_handle_t *)&srv->listener, s_listener_closed);
    for (struct s_conn *c = srv->conns; c; c = c->next)
        s_conn_close(c, false);
}

void tm_mock_server_destroy(struct tm_mock_server *srv) {
    if (!srv)
        return;
    srv->destroy_pending = true;
    tm_mock_server_stop(srv);
    s_maybe_free(srv);
}

int tm_mock_server_port(const struct tm_mock_server *srv) {
    return srv->port;
}

void tm_mock_server_stats(struct tm_mock_stats *out, const struct tm_mock_server *srv) {
    *out = srv->stats;
}

/* ---- writing ---- */

static void s_written(uv_write_t *w, int status) {
    struct s_write *sw = (struct s_write *)w;
    struct s_conn *c = sw->conn;
    bool last = sw->last;
    free(sw->data);
    free(sw);
    if (c->closing)
        return;
    if (status < 0 || last)
        s_conn_close(c, false);
}

static int s_write(struct s_conn *c, const char *data, size_t len, bool last) {
    struct s_write *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return TM_ERR_NOMEM;
    sw->data = malloc(len ? len : 1);
    if (!sw->data) {
        free(sw);
        return TM_ERR_NOMEM;
    }
    memcpy(sw->data, data, len);
    sw->conn = c;
    sw->last = last;
    uv_buf_t b = uv_buf_init(sw->data, (unsigned)len);
    if (uv_write(&sw->req, (uv_stream_t *)&c->tcp, &b, 1, s_written) != 0) {
        free(sw->data);
        free(sw);
        return TM_ERR_IO;
    }
    return TM_OK;
}

/* The answer is written; the connection is free for the next request. */
static void s_answer_done(uv_write_t *w, int status) {
    struct s_write *sw = (struct s_write *)w;
    struct s_conn *c = sw->conn;
    bool last = sw->last;
    free(sw->data);
    free(sw);
    if (c->closing)
        return;
    if (status < 0 || last) {
        s_conn_close(c, false);
        return;
    }
    c->busy = false;
    s_process(c);
}

/* ---- answering ---- */

static void s_conn_write_answer(struct s_conn *c) {
    /* The answer is in c->out; hand it to libuv without copying. */
    struct s_write *sw = calloc(1, sizeof(*sw));
    if (!sw) {
        s_conn_close(c, false);
        return;
    }
    size_t len = c->out.len;
    sw->conn = c;
    sw->last = c->close_after;
    sw->data = tm_buf_detach(&c->out);
    if (!sw->data) {
        free(sw);
        s_conn_close(c, false);
        return;
    }
    uv_buf_t b = uv_buf_init(sw->data, (unsigned)len);
    if (uv_write(&sw->req, (uv_stream_t *)&c->tcp, &b, 1, s_answer_done) != 0) {
        free(sw->data);
        free(sw);
        s_conn_close(c, false);
    }
}

static void s_deliver(struct s_conn *c) {
    if (c->closing)
        return;
    if (c->reset) {
        s_conn_close(c, true);
        return;
    }
    s_conn_write_answer(c);
}

static void s_delay_fired(uv_timer_t *t) {
    s_deliver(t->data);
}

static bool s_has_header(const struct tm__mock_fixture *f, const char *name) {
    for (size_t i = 0; f && i < f->n_response_headers; i++)
        if (tm_str_ieq(f->response_headers[i].name, name))
            return true;
    return false;
}

/* Serialises status line, headers and (part of) the body into c->out. */
static int s_frame(struct s_conn *c, const struct tm__mock_http_request *http, int status, const char *head,
                   const char *body, size_t body_len, size_t declared_len, bool keep_alive) {
    struct tm_buf *o = &c->out;
    tm_buf_reset(o);
    int rc = tm_buf_appendf(o, "HTTP/1.1 %d %s\r\n", status, tm__mock_http_reason(status));
    if (!rc && head)
        rc = tm_buf_append_str(o, head);
    bool no_body = status == 204 || status == 304 || (status >= 100 && status < 200);
    if (!rc && !no_body)
        rc = tm_buf_appendf(o, "Content-Length: %zu\r\n", declared_len);
    if (!rc && !keep_alive)
        rc = tm_buf_append_str(o, "Connection: close\r\n");
    if (!rc)
        rc = tm_buf_append_str(o, "\r\n");
    bool head_only = http && strcmp(http->method, "HEAD") == 0;
    if (!rc && !no_body && !head_only && body_len)
        rc = tm_buf_append(o, body, body_len);
    return rc;
}

/* The query as sent, with signature and session-token values replaced: logs never carry secrets. */
static int s_redacted_query(struct tm_buf *out, const char *q) {
    static const char *const secret[] = {"X-Amz-Signature", "X-Amz-Security-Token", "Signature"};
    int rc = TM_OK;
    while (*q && !rc) {
        size_t n = strcspn(q, "&");
        size_t name_len = strcspn(q, "=&");
        bool hide = false;
        for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
            hide |= strlen(secret[i]) == name_len && strncmp(q, secret[i], name_len) == 0;
        if (hide && name_len < n)
            rc = tm_buf_appendf(out, "%.*s=REDACTED", (int)name_len, q);
        else
            rc = tm_buf_append(out, q, n);
        q += n;
        if (*q == '&' && !rc) {
            rc = tm_buf_append_char(out, '&');
            q++;
        }
    }
    return rc;
}

static void s_log(struct tm_mock_server *srv, uint64_t seq, uint64_t arrived_ns, const struct tm__mock_request *req,
                  const char *service, const char *region, const char *operation, const struct tm__mock_fixture *f,
                  int status, const char *auth, enum tm__mock_fault fault, uint32_t delay_ms) {
    if (!srv->log)
        return;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddNumberToObject(o, "seq", (double)seq);
    /* Monotonic milliseconds since the server started, when the request arrived (before its latency). */
    cJSON_AddNumberToObject(o, "t_ms", (double)((arrived_ns - srv->start_ns) / 1000000u));
    cJSON_AddStringToObject(o, "method", req->http->method);
    cJSON_AddStringToObject(o, "path", req->http->path);
    struct tm_buf q;
    tm_buf_init(&q, 0);
    if (s_redacted_query(&q, req->http->query) == TM_OK)
        cJSON_AddStringToObject(o, "query", tm_buf_str(&q));
    tm_buf_clean_up(&q);
    if (service)
        cJSON_AddStringToObject(o, "service", service);
    else
        cJSON_AddNullToObject(o, "service");
    if (region)
        cJSON_AddStringToObject(o, "region", region);
    else
        cJSON_AddNullToObject(o, "region");
    if (operation)
        cJSON_AddStringToObject(o, "operation", operation);
    else
        cJSON_AddNullToObject(o, "operation");
    if (req->access_key)
        cJSON_AddStringToObject(o, "access_key", req->access_key);
    else
        cJSON_AddNullToObject(o, "access_key");
    cJSON_AddStringToObject(o, "auth", auth);
    if (f)
        cJSON_AddStringToObject(o, "fixture", f->file);
    else
        cJSON_AddNullToObject(o, "fixture");
    cJSON_AddNumberToObject(o, "status", status);
    if (fault != TM__MOCK_FAULT_NONE)
        cJSON_AddStringToObject(o, "fault", tm__mock_fault_name(fault));
    else
        cJSON_AddNullToObject(o, "fault");
    cJSON_AddNumberToObject(o, "delay_ms", delay_ms);
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!line)
        return;
    fputs(line, srv->log);
    fputc('\n', srv->log);
    fflush(srv->log);
    free(line);
}

static const char *s_auth_name(enum tm__mock_auth_result r) {
    switch (r) {
        case TM__MOCK_AUTH_OK:
            return "sigv4";
        case TM__MOCK_AUTH_BAD_SIGNATURE:
            return "bad-signature";
        case TM__MOCK_AUTH_UNKNOWN_KEY:
            return "unknown-key";
        case TM__MOCK_AUTH_BAD_TOKEN:
            return "bad-token";
        case TM__MOCK_AUTH_MALFORMED:
            return "malformed";
        case TM__MOCK_AUTH_EXPIRED:
            return "expired";
        case TM__MOCK_AUTH_HASH_MISMATCH:
            return "hash-mismatch";
        default:
            return "unknown";
    }
}

/* Builds the answer to one complete request into c->out and schedules it. */
static int s_handle(struct s_conn *c, const struct tm__mock_http_request *http) {
    struct tm_mock_server *srv = c->srv;
    uint64_t seq = ++srv->seq;
    srv->stats.requests++;
    struct tm__mock_request req;
    struct tm__mock_response resp;
    tm__mock_response_init(&resp);
    int rc = tm__mock_request_init(&req, http);
    if (rc)
        goto out;

    char rid[37], host_id[37];
    tm__mock_request_id(rid, srv->seed, seq);
    tm__mock_request_id(host_id, srv->seed ^ 0x5bd1e995ULL, seq);
    char auth_msg[512] = "";
    const char *auth = "none";
    enum tm__mock_error auth_err = TM__MOCK_ERR_BAD_SIGNATURE;
    bool auth_failed = false;
    if (req.signed_request) {
        enum tm__mock_auth_result ar = TM__MOCK_AUTH_MALFORMED;
        if (req.auth_error)
            snprintf(auth_msg, sizeof(auth_msg), "%s", req.auth_error);
        else
            ar = tm__mock_verify_sigv4(http, srv->set, auth_msg, sizeof(auth_msg));
        auth = s_auth_name(ar);
        auth_failed = ar != TM__MOCK_AUTH_OK;
        switch (ar) {
            case TM__MOCK_AUTH_OK:
                break;
            case TM__MOCK_AUTH_UNKNOWN_KEY:
                auth_err = TM__MOCK_ERR_UNKNOWN_KEY;
                break;
            case TM__MOCK_AUTH_BAD_TOKEN:
                auth_err = TM__MOCK_ERR_BAD_TOKEN;
                break;
            case TM__MOCK_AUTH_MALFORMED:
                auth_err = TM__MOCK_ERR_INCOMPLETE_AUTH;
                break;
            case TM__MOCK_AUTH_HASH_MISMATCH:
                auth_err = TM__MOCK_ERR_HASH_MISMATCH;
                break;
            case TM__MOCK_AUTH_BAD_SIGNATURE:
            case TM__MOCK_AUTH_EXPIRED:
            default:
                auth_err = TM__MOCK_ERR_BAD_SIGNATURE;
                break;
        }
    }

    const struct tm__mock_fixture *f = auth_failed ? NULL : tm__mock_match(srv->set, &req);
    const char *service = req.service ? req.service : (f ? f->service : NULL);
    const char *region = req.region ? req.region : (f ? f->region : NULL);
    const char *operation = req.operation ? req.operation : (f ? f->operation : NULL);
    enum tm__mock_protocol proto = tm__mock_protocol_for(&req, service);

    struct tm__mock_fault_plan plan;
    bool random_faults = !auth_failed && (req.signed_request || srv->fault_unsigned);
    uint64_t arrived_ns = uv_hrtime();
    tm__mock_faults_plan(&plan, srv->faults, seq, service, operation, region, random_faults, arrived_ns);

    const struct tm__mock_credential *cred = tm__mock_credential_find(srv->set, req.access_key);
    char principal[256];
    if (cred && cred->arn)
        snprintf(principal, sizeof(principal), "%s", cred->arn);
    else
        snprintf(principal, sizeof(principal), "arn:aws:iam::%s:user/%s",
                 srv->set->account ? srv->set->account : "000000000000", req.access_key ? req.access_key : "anonymous");
    struct tm__mock_error_context ctx = {
        .service = service,
        .operation = operation,
        .access_key = req.access_key,
        .principal_arn = principal,
        .path = http->path,
        .request_id = rid,
        .host_id = host_id,
        .detail = NULL,
    };

    bool error_answer = true;
    enum tm__mock_error err = TM__MOCK_ERR_NOT_FOUND;
    struct tm_buf detail;
    tm_buf_init(&detail, 1024);
    if (auth_failed) {
        err = auth_err;
        ctx.detail = auth_msg[0] ? auth_msg : NULL;
        srv->stats.auth_failed++;
    } else if (plan.fault == TM__MOCK_FAULT_DENY) {
        err = TM__MOCK_ERR_DENIED;
    } else if (plan.fault == TM__MOCK_FAULT_RATE_LIMIT || plan.fault == TM__MOCK_FAULT_THROTTLE) {
        err = TM__MOCK_ERR_THROTTLE;
        srv->stats.throttled++;
    } else if (plan.fault == TM__MOCK_FAULT_ERROR) {
        err = (plan.rng & 1) ? TM__MOCK_ERR_UNAVAILABLE : TM__MOCK_ERR_INTERNAL;
    } else if (f) {
        error_answer = false;
    } else if (!req.signed_request && req.op_source == TM__MOCK_OP_NONE) {
        /* An unsigned call to nothing known: the instance-metadata shape of "no such path". */
        error_answer = false;
    } else if (!req.signed_request) {
        err = TM__MOCK_ERR_MISSING_AUTH;
        srv->stats.auth_failed++;
        auth = "missing";
    } else {
        err = (req.operation && !tm__mock_set_has_operation(srv->set, service, req.operation))
                  ? TM__MOCK_ERR_UNKNOWN_OPERATION
                  : TM__MOCK_ERR_NOT_FOUND;
        /* Past the cap the detail is just dropped: the status and code still say what happened. */
        if (tm_buf_appendf(&detail, "%s %s%s%s", http->method, http->path, http->query[0] ? "?" : "", http->query))
            tm_buf_reset(&detail);
        ctx.detail = tm_buf_str(&detail);
    }
    if (plan.fault != TM__MOCK_FAULT_NONE)
        srv->stats.faults++;
    if (f)
        srv->stats.matched++;
    else if (!auth_failed)
        srv->stats.unmatched++;

    const char *body = NULL;
    size_t body_len = 0;
    struct tm_buf corrupt;
    tm_buf_init(&corrupt, 0);
    if (error_answer) {
        if ((rc = tm__mock_error_render(&resp, proto, err, &ctx)))
            goto out_bufs;
        body = resp.body.data;
        body_len = resp.body.len;
    } else if (f) {
        resp.status = f->status;
        if (f->content_type && (rc = tm__mock_response_header(&resp, "Content-Type", f->content_type)))
            goto out_bufs;
        for (size_t i = 0; i < f->n_response_headers; i++)
            if ((rc = tm__mock_response_header(&resp, f->response_headers[i].name, f->response_headers[i].value)))
                goto out_bufs;
        if (!f->auth_none && tm__mock_service_find(service)) {
            bool s3 = proto == TM__MOCK_PROTO_REST_XML;
            if (s3 && !s_has_header(f, "x-amz-request-id"))
                rc = tm__mock_response_header(&resp, "x-amz-request-id", rid);
            if (!rc && s3 && !s_has_header(f, "x-amz-id-2"))
                rc = tm__mock_response_header(&resp, "x-amz-id-2", host_id);
            if (!rc && !s3 && !s_has_header(f, "x-amzn-RequestId"))
                rc = tm__mock_response_header(&resp, "x-amzn-RequestId", rid);
            if (rc)
                goto out_bufs;
        }
        body = f->body;
        body_len = f->body_len;
    } else {
        resp.status = 404;
        if ((rc = tm__mock_response_header(&resp, "Content-Type", "text/plain")))
            goto out_bufs;
        body = "Not Found\n";
        body_len = strlen(body);
    }

    if (plan.fault == TM__MOCK_FAULT_MALFORMED) {
        /* Cut inside the meaningful text (trailing white space would leave a valid document) and add a
         * control character, which neither XML nor JSON allows. */
        size_t n = body_len;
        while (n > 0 && (body[n - 1] == ' ' || body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == '\t'))
            n--;
        size_t cut = n ? (size_t)(plan.rng % n) : 0;
        if ((rc = tm_buf_append(&corrupt, body, cut)) || (rc = tm_buf_append(&corrupt, "\x01<{\"", 4)))
            goto out_bufs;
        body = corrupt.data;
        body_len = corrupt.len;
        resp.status = 200;
    }

    bool keep_alive = http->keep_alive && !srv->stopping;
    size_t declared = body_len;
    size_t sent = body_len;
    c->reset = plan.fault == TM__MOCK_FAULT_RESET;
    if (plan.fault == TM__MOCK_FAULT_TRUNCATE) {
        declared = body_len ? body_len : 16;
        sent = body_len / 2;
        keep_alive = false;
    }
    if (c->reset)
        srv->stats.resets++;
    c->close_after = !keep_alive;
    if (!c->reset && (rc = s_frame(c, http, resp.status, tm_buf_str(&resp.head), body, sent, declared, keep_alive)))
        goto out_bufs;

    s_log(srv, seq, arrived_ns, &req, service, region, operation, f, c->reset ? 0 : resp.status, auth, plan.fault,
          plan.delay_ms);

    c->busy = true;
    if (plan.delay_ms > 0) {
        if (uv_timer_start(&c->timer, s_delay_fired, plan.delay_ms, 0) != 0)
            rc = TM_ERR_IO;
    } else {
        s_deliver(c);
    }
out_bufs:
    tm_buf_clean_up(&corrupt);
    tm_buf_clean_up(&detail);
out:
    tm__mock_request_clean_up(&req);
    tm__mock_response_clean_up(&resp);
    return rc;
}

/* Answers a malformed request and closes: after a framing error the byte stream cannot be trusted. */
static void s_bad_request(struct s_conn *c, int status) {
    c->srv->stats.bad_requests++;
    char body[128];
    snprintf(body, sizeof(body), "%d %s\n", status, tm__mock_http_reason(status));
    c->close_after = true;
    c->reset = false;
    if (s_frame(c, NULL, status, "Content-Type: text/plain\r\n", body, strlen(body), strlen(body), false)) {
        s_conn_close(c, false);
        return;
    }
    c->busy = true;
    s_deliver(c);
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    struct s_conn *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof(c->rbuf));
}

static void s_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void s_set_reading(struct s_conn *c, bool on) {
    if (c->closing || c->reading == on || (on && c->eof))
        return;
    if (on)
        c->reading = uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_read) == 0;
    else
        c->reading = !(uv_read_stop((uv_stream_t *)&c->tcp) == 0);
}

static void s_process(struct s_conn *c) {
    struct tm_mock_server *srv = c->srv;
    while (!c->busy && !c->closing) {
        struct tm__mock_http_request http;
        size_t consumed = 0;
        int status = 400;
        enum tm__mock_http_state st =
            tm__mock_http_parse(&http, &consumed, &status, c->in.data ? c->in.data : "", c->in.len, &srv->limits);
        switch (st) {
            case TM__MOCK_HTTP_COMPLETE: {
                memmove(c->in.data, c->in.data + consumed, c->in.len - consumed);
                c->in.len -= consumed;
                c->in.data[c->in.len] = '\0';
                c->sent_continue = false;
                int rc = s_handle(c, &http);
                tm__mock_http_request_clean_up(&http);
                if (rc) {
                    s_conn_close(c, false);
                    return;
                }
                break;
            }
            case TM__MOCK_HTTP_HEADERS_DONE:
                if (!c->sent_continue) {
                    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                    c->sent_continue = true;
                    if (s_write(c, cont, sizeof(cont) - 1, false)) {
                        s_conn_close(c, false);
                        return;
                    }
                }
                /* wait for the body */
                __attribute__((fallthrough));
            case TM__MOCK_HTTP_NEED_MORE:
                if (c->eof) {
                    s_conn_close(c, false);
                    return;
                }
                s_set_reading(c, true);
                return;
            case TM__MOCK_HTTP_ERROR:
            default:
                s_bad_request(c, status);
                return;
        }
    }
    /* Busy: keep reading pipelined requests only while the backlog is small. */
    if (c->busy && c->in.len > srv->limits.max_header_bytes + srv->limits.max_body_bytes)
        s_set_reading(c, false);
    else
        s_set_reading(c, true);
}

static void s_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    struct s_conn *c = s->data;
    (void)buf;
    if (c->closing)
        return;
    if (nread == UV_EOF) {
        c->eof = true;
        s_set_reading(c, false);
        if (!c->busy)
            s_process(c);
        return;
    }
    if (nread < 0) {
        s_conn_close(c, false);
        return;
    }
    if (nread == 0)
        return;
    if (tm_buf_append(&c->in, c->rbuf, (size_t)nread)) {
        /* More buffered than any request may be: the client ignores the caps. */
        if (!c->busy)
            s_bad_request(c, 413);
        else
            s_conn_close(c, false);
        return;
    }
    if (!c->busy)
        s_process(c);
    else if (c->in.len > c->srv->limits.max_header_bytes + c->srv->limits.max_body_bytes)
        s_set_reading(c, false);
}

static void s_on_connection(uv_stream_t *server, int status) {
    struct tm_mock_server *srv = server->data;
    if (status < 0 || srv->stopping)
        return;
    struct s_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = srv;
    tm_buf_init(&c->in, srv->max_input_bytes);
    tm_buf_init(&c->out, 0);
    if (uv_tcp_init(srv->loop, &c->tcp) != 0) {
        free(c);
        return;
    }
    c->tcp.data = c;
    c->open_handles = 1;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    if (uv_timer_init(srv->loop, &c->timer) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, s_conn_closed);
        return;
    }
    c->timer.data = c;
    c->open_handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        s_conn_close(c, false);
        return;
    }
    (void)uv_tcp_nodelay(&c->tcp, 1);
    srv->stats.connections++;
    s_set_reading(c, true);
    if (!c->reading)
        s_conn_close(c, false);
}

/* ---- creation ---- */

static bool s_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return memcmp(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, one, 16) == 0;
    }
    return false;
}

int tm_mock_server_new(struct tm_mock_server **out, uv_loop_t *loop, const struct tm_mock_options *opts, char *errmsg,
                       size_t errmsg_len) {
    *out = NULL;
    if (!opts->fixtures_dir) {
        snprintf(errmsg, errmsg_len, "no fixture directory given");
        return TM_ERR_INVALID;
    }
    if (opts->port < 0 || opts->port > 65535) {
        snprintf(errmsg, errmsg_len, "port %d is out of range", opts->port);
        return TM_ERR_INVALID;
    }
    const char *host = opts->host ? opts->host : "127.0.0.1";
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    if (uv_ip4_addr(host, opts->port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, opts->port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(errmsg, errmsg_len, "'%s' is not an IP address", host);
        return TM_ERR_INVALID;
    }
    if (!s_loopback((const struct sockaddr *)&addr)) {
        snprintf(errmsg, errmsg_len, "'%s' is not a loopback address: mockcloud only listens on 127.0.0.1 or ::1",
                 host);
        return TM_ERR_INVALID;
    }
    struct tm_mock_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(errmsg, errmsg_len, "out of memory");
        return TM_ERR_NOMEM;
    }
    srv->loop = loop;
    srv->log = opts->log;
    srv->start_ns = uv_hrtime();
    srv->seed = opts->seed;
    srv->fault_unsigned = opts->fault_unsigned;
    srv->limits.max_header_bytes = opts->max_header_bytes ? opts->max_header_bytes : 64 * 1024;
    srv->limits.max_body_bytes = opts->max_body_bytes ? opts->max_body_bytes : 8 * 1024 * 1024;
    srv->limits.max_headers = 200;
    /* Room for one whole request with chunk framing around tiny chunks, plus a pipelined backlog. */
    srv->max_input_bytes = 2 * srv->limits.max_header_bytes + 8 * srv->limits.max_body_bytes + S_READ_BYTES;
    int rc = tm__mock_fixture_set_load(&srv->set, opts->fixtures_dir, errmsg, errmsg_len);
    if (rc)
        goto fail;
    if ((rc = tm__mock_faults_new(&srv->faults, opts, errmsg, errmsg_len)))
        goto fail;
    if (uv_tcp_init(loop, &srv->listener) != 0) {
        snprintf(errmsg, errmsg_len, "cannot create a TCP handle");
        rc = TM_ERR_IO;
        goto fail;
    }
    srv->listener.data = srv;
    srv->listener_open = true;
    int err = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (!err)
        err = uv_listen((uv_stream_t *)&srv->listener, 511, s_on_connection);
    if (err) {
        snprintf(errmsg, errmsg_len, "cannot listen on %s port %d: %s", host, opts->port, uv_strerror(err));
        rc = TM_ERR_IO;
        goto fail;
    }
    struct sockaddr_storage bound;
    int blen = (int)sizeof(bound);
    if ((err = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&bound, &blen)) != 0) {
        snprintf(errmsg, errmsg_len, "cannot read the bound port: %s", uv_strerror(err));
        rc = TM_ERR_IO;
        goto fail;
    }
    srv->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                            : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out = srv;
    return TM_OK;
fail:
    /* The listener (if created) closes on the loop; the rest goes with it. */
    tm_mock_server_destroy(srv);
    return rc;
}
