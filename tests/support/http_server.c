#include "tests/support/http_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/str.h"

#define S_MAX_REQUEST_BYTES (8u * 1024u * 1024u)

struct s_conn;

struct tm_test_http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t hold_timer;
    int port;
    char url[64];
    tm_test_http_handler_fn handler;
    void *user_data;
    struct tm_test_http_reply *script;
    size_t script_count;
    size_t script_pos;
    struct tm_test_http_request *reqs;
    size_t req_count;
    size_t req_alloc;
    unsigned in_flight;
    unsigned max_in_flight;
    unsigned connections;
    unsigned hold_release_at;
    unsigned hold_grace_ms;
    struct s_conn *conns;
    unsigned open; /* handles and connections not yet closed */
    bool closing;
};

struct s_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct tm_test_http_server *srv;
    unsigned id;
    struct tm_buf in;
    bool busy;    /* a request is being answered */
    bool counted; /* ... and counts in the server's in_flight */
    bool held;
    bool closing;
    unsigned open_handles;
    /* The pending answer. */
    enum tm_test_http_action action;
    unsigned delay_ms;
    bool close_after;
    char *out;
    size_t out_len;
    struct s_conn *prev, *next;
};

struct s_write {
    uv_write_t req;
    struct s_conn *conn;
    char *data;
    bool close_after;
};

static void s_process(struct s_conn *c);
static void s_conn_close(struct s_conn *c, bool reset);

static void s_server_release(struct tm_test_http_server *srv) {
    if (--srv->open)
        return;
    for (size_t i = 0; i < srv->req_count; i++) {
        struct tm_test_http_request *r = &srv->reqs[i];
        free(r->target);
        for (size_t h = 0; h < r->header_count; h++) {
            free(r->header_names[h]);
            free(r->header_values[h]);
        }
        free(r->header_names);
        free(r->header_values);
        free(r->body);
    }
    free(srv->reqs);
    for (size_t i = 0; i < srv->script_count; i++) {
        free((char *)srv->script[i].headers);
        free((char *)srv->script[i].body);
    }
    free(srv->script);
    free(srv);
}

static void s_server_handle_closed(uv_handle_t *h) {
    s_server_release(h->data);
}

static void s_conn_handle_closed(uv_handle_t *h) {
    struct s_conn *c = h->data;
    if (--c->open_handles)
        return;
    struct tm_test_http_server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    tm_buf_clean_up(&c->in);
    free(c->out);
    free(c);
    s_server_release(srv);
}

static void s_done_with_request(struct s_conn *c) {
    if (c->counted) {
        c->counted = false;
        c->srv->in_flight--;
    }
    c->busy = false;
    c->held = false;
}

static void s_conn_close(struct s_conn *c, bool reset) {
    if (c->closing)
        return;
    c->closing = true;
    s_done_with_request(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, s_conn_handle_closed);
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (reset && uv_tcp_close_reset(&c->tcp, s_conn_handle_closed) == 0)
        return;
    uv_close((uv_handle_t *)&c->tcp, s_conn_handle_closed);
}

static void s_after_write(uv_write_t *w, int status) {
    struct s_write *sw = (struct s_write *)w;
    struct s_conn *c = sw->conn;
    bool close_after = sw->close_after;
    free(sw->data);
    free(sw);
    if (status < 0 || c->closing)
        return;
    if (close_after)
        s_conn_close(c, false);
    else
        s_process(c);
}

static void s_act(struct s_conn *c) {
    switch (c->action) {
        case TM_TEST_HTTP_REPLY: {
            struct s_write *sw = calloc(1, sizeof(*sw));
            if (!sw) {
                s_conn_close(c, false);
                return;
            }
            sw->conn = c;
            sw->data = c->out;
            sw->close_after = c->close_after;
            size_t len = c->out_len;
            c->out = NULL;
            c->out_len = 0;
            s_done_with_request(c);
            uv_buf_t b = uv_buf_init(sw->data, (unsigned)len);
            if (uv_write(&sw->req, (uv_stream_t *)&c->tcp, &b, 1, s_after_write) != 0) {
                free(sw->data);
                free(sw);
                s_conn_close(c, false);
            }
            return;
        }
        case TM_TEST_HTTP_RESET:
            s_conn_close(c, true);
            return;
        case TM_TEST_HTTP_CLOSE:
            s_conn_close(c, false);
            return;
        case TM_TEST_HTTP_HANG:
            return;
        default:
            return;
    }
}

static void s_on_timer(uv_timer_t *t) {
    s_act(t->data);
}

static void s_arm(struct s_conn *c) {
    if (c->delay_ms)
        uv_timer_start(&c->timer, s_on_timer, c->delay_ms, 0);
    else
        s_act(c);
}

static void s_release_held(struct tm_test_http_server *srv) {
    uv_timer_stop(&srv->hold_timer);
    struct s_conn *next;
    for (struct s_conn *c = srv->conns; c; c = next) {
        next = c->next;
        if (c->held && !c->closing) {
            c->held = false;
            s_arm(c);
        }
    }
}

static void s_on_hold_timer(uv_timer_t *t) {
    s_release_held(t->data);
}

static const char *s_reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "Status";
    }
}

static int s_build_reply(struct s_conn *c, const struct tm_test_http_reply *r, bool head) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int status = r->status ? r->status : 200;
    size_t body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    bool close_after = r->close || r->no_content_length;
    int rc = tm_buf_appendf(&b, "HTTP/1.1 %d %s\r\n", status, s_reason(status));
    if (!rc && !r->no_content_length)
        rc = tm_buf_appendf(&b, "Content-Length: %zu\r\n", body_len);
    if (!rc && close_after)
        rc = tm_buf_append_str(&b, "Connection: close\r\n");
    if (!rc && r->headers)
        rc = tm_buf_append_str(&b, r->headers);
    if (!rc)
        rc = tm_buf_append_str(&b, "\r\n");
    if (!rc && body_len && !head)
        rc = tm_buf_append(&b, r->body, body_len);
    if (rc) {
        tm_buf_clean_up(&b);
        return rc;
    }
    c->out_len = b.len;
    c->out = tm_buf_detach(&b);
    c->close_after = close_after;
    c->action = r->action;
    c->delay_ms = r->delay_ms;
    return c->out ? 0 : -1;
}

static struct tm_test_http_request *s_record(struct tm_test_http_server *srv) {
    if (srv->req_count == srv->req_alloc) {
        size_t n = srv->req_alloc ? srv->req_alloc * 2 : 64;
        struct tm_test_http_request *r = realloc(srv->reqs, n * sizeof(*r));
        if (!r)
            return NULL;
        srv->reqs = r;
        srv->req_alloc = n;
    }
    struct tm_test_http_request *r = &srv->reqs[srv->req_count];
    memset(r, 0, sizeof(*r));
    r->index = (unsigned)srv->req_count;
    return r;
}

static int s_add_header(struct tm_test_http_request *r, const char *name, size_t nlen, const char *value, size_t vlen) {
    char **names = realloc(r->header_names, (r->header_count + 1) * sizeof(*names));
    if (!names)
        return -1;
    r->header_names = names;
    char **values = realloc(r->header_values, (r->header_count + 1) * sizeof(*values));
    if (!values)
        return -1;
    r->header_values = values;
    names[r->header_count] = tm_strndup(name, nlen);
    values[r->header_count] = tm_strndup(value, vlen);
    r->header_count++;
    return 0;
}

/* Parses one complete request from the connection's buffer. Returns 1 when one was taken, 0 when more
 * bytes are needed, -1 on a malformed request. */
static int s_parse(struct s_conn *c, struct tm_test_http_request *r) {
    const char *data = c->in.data;
    size_t len = c->in.len;
    if (!data)
        return 0;
    /* Not HTTP at all (a TLS ClientHello, say): refuse at once rather than wait for a blank line. */
    for (size_t i = 0; i < len && data[i] != ' '; i++)
        if (!(data[i] >= 'A' && data[i] <= 'Z'))
            return -1;
    const char *end = memmem(data, len, "\r\n\r\n", 4);
    if (!end)
        return len > 65536 ? -1 : 0;
    size_t head_len = (size_t)(end - data) + 4;
    const char *line_end = memmem(data, head_len, "\r\n", 2);
    const char *sp1 = memchr(data, ' ', (size_t)(line_end - data));
    if (!sp1)
        return -1;
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1));
    if (!sp2 || (size_t)(sp1 - data) >= sizeof(r->method))
        return -1;
    size_t content_length = 0;
    /* Headers first, to know the body length. */
    const char *p = line_end + 2;
    while (p < end) {
        const char *le = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon)
            return -1;
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        if ((size_t)(colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0)
            content_length = strtoul(v, NULL, 10);
        if ((size_t)(colon - p) == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0)
            return -1; /* curl sends bodies with a Content-Length here */
        p = le + 2;
    }
    if (content_length > S_MAX_REQUEST_BYTES)
        return -1;
    if (len < head_len + content_length)
        return 0;
    memcpy(r->method, data, (size_t)(sp1 - data));
    r->method[sp1 - data] = '\0';
    r->target = tm_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    r->body = tm_strndup(data + head_len, content_length);
    r->body_len = content_length;
    if (!r->target || !r->body)
        return -1;
    p = line_end + 2;
    while (p < end) {
        const char *le = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(le - p));
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        if (s_add_header(r, p, (size_t)(colon - p), v, (size_t)(le - v)) != 0)
            return -1;
        p = le + 2;
    }
    size_t used = head_len + content_length;
    memmove(c->in.data, c->in.data + used, len - used);
    c->in.len = len - used;
    c->in.data[c->in.len] = '\0';
    return 1;
}

static void s_free_partial(struct tm_test_http_request *r) {
    free(r->target);
    free(r->body);
    for (size_t h = 0; h < r->header_count; h++) {
        free(r->header_names[h]);
        free(r->header_values[h]);
    }
    free(r->header_names);
    free(r->header_values);
    memset(r, 0, sizeof(*r));
}

static void s_process(struct s_conn *c) {
    struct tm_test_http_server *srv = c->srv;
    if (c->busy || c->closing)
        return;
    struct tm_test_http_request *r = s_record(srv);
    if (!r) {
        s_conn_close(c, false);
        return;
    }
    int rc = s_parse(c, r);
    if (rc <= 0) {
        s_free_partial(r);
        if (rc < 0)
            s_conn_close(c, false);
        return;
    }
    srv->req_count++;
    r->connection = c->id;
    r->arrival_ns = uv_hrtime();
    c->busy = true;
    c->counted = true;
    srv->in_flight++;
    if (srv->in_flight > srv->max_in_flight)
        srv->max_in_flight = srv->in_flight;
    r->in_flight = srv->in_flight;

    struct tm_test_http_reply reply = {0};
    if (srv->script_pos < srv->script_count)
        reply = srv->script[srv->script_pos++];
    else if (srv->handler)
        srv->handler(&reply, r, srv->user_data);
    else
        reply.body = "ok";
    if (s_build_reply(c, &reply, strcmp(r->method, "HEAD") == 0) != 0) {
        s_conn_close(c, false);
        return;
    }
    if (srv->hold_release_at) {
        c->held = true;
        if (srv->in_flight >= srv->hold_release_at && !uv_is_active((uv_handle_t *)&srv->hold_timer))
            uv_timer_start(&srv->hold_timer, s_on_hold_timer, srv->hold_grace_ms, 0);
        return;
    }
    s_arm(c);
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h;
    buf->base = malloc(suggested);
    buf->len = buf->base ? suggested : 0;
}

static void s_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
    struct s_conn *c = s->data;
    if (nread < 0) {
        free(buf->base);
        s_conn_close(c, false);
        return;
    }
    if (nread > 0 && tm_buf_append(&c->in, buf->base, (size_t)nread) != 0) {
        free(buf->base);
        s_conn_close(c, false);
        return;
    }
    free(buf->base);
    s_process(c);
}

static void s_on_connection(uv_stream_t *listener, int status) {
    struct tm_test_http_server *srv = listener->data;
    if (status < 0 || srv->closing)
        return;
    struct s_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->srv = srv;
    c->id = srv->connections++;
    tm_buf_init(&c->in, S_MAX_REQUEST_BYTES + 65536);
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 2;
    srv->open++;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_on_read) != 0)
        s_conn_close(c, false);
}

int tm_test_http_server_start(struct tm_test_http_server **out, uv_loop_t *loop, tm_test_http_handler_fn handler,
                              void *user_data) {
    *out = NULL;
    struct tm_test_http_server *srv = calloc(1, sizeof(*srv));
    if (!srv)
        return -1;
    srv->loop = loop;
    srv->handler = handler;
    srv->user_data = user_data;
    uv_tcp_init(loop, &srv->listener);
    uv_timer_init(loop, &srv->hold_timer);
    srv->listener.data = srv;
    srv->hold_timer.data = srv;
    srv->open = 2;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    int rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 256, s_on_connection);
    struct sockaddr_storage name;
    int namelen = sizeof(name);
    if (rc == 0)
        rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&name, &namelen);
    if (rc != 0) {
        tm_test_http_server_close(srv);
        return rc;
    }
    srv->port = ntohs(((struct sockaddr_in *)&name)->sin_port);
    snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%d", srv->port);
    *out = srv;
    return 0;
}

int tm_test_http_server_port(const struct tm_test_http_server *srv) {
    return srv->port;
}

const char *tm_test_http_server_url(const struct tm_test_http_server *srv) {
    return srv->url;
}

int tm_test_http_server_script(struct tm_test_http_server *srv, const struct tm_test_http_reply *replies, size_t n) {
    struct tm_test_http_reply *s = realloc(srv->script, (srv->script_count + n) * sizeof(*s));
    if (!s && n)
        return -1;
    srv->script = s;
    for (size_t i = 0; i < n; i++) {
        struct tm_test_http_reply r = replies[i];
        if (r.body) {
            size_t len = r.body_len ? r.body_len : strlen(r.body);
            char *b = malloc(len + 1);
            if (!b)
                return -1;
            memcpy(b, r.body, len);
            b[len] = '\0';
            r.body = b;
            r.body_len = len;
        }
        r.headers = r.headers ? tm_strdup(r.headers) : NULL;
        srv->script[srv->script_count++] = r;
    }
    return 0;
}

void tm_test_http_server_hold(struct tm_test_http_server *srv, unsigned release_at, unsigned grace_ms) {
    srv->hold_release_at = release_at;
    srv->hold_grace_ms = grace_ms;
    if (!release_at)
        s_release_held(srv);
}

unsigned tm_test_http_server_requests(const struct tm_test_http_server *srv) {
    return (unsigned)srv->req_count;
}

unsigned tm_test_http_server_max_in_flight(const struct tm_test_http_server *srv) {
    return srv->max_in_flight;
}

unsigned tm_test_http_server_connections(const struct tm_test_http_server *srv) {
    return srv->connections;
}

const struct tm_test_http_request *tm_test_http_server_request(const struct tm_test_http_server *srv, unsigned i) {
    return i < srv->req_count ? &srv->reqs[i] : NULL;
}

const char *tm_test_http_request_header(const struct tm_test_http_request *req, const char *name) {
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->header_names[i], name) == 0)
            return req->header_values[i];
    return NULL;
}

void tm_test_http_server_close(struct tm_test_http_server *srv) {
    if (!srv || srv->closing)
        return;
    srv->closing = true;
    uv_timer_stop(&srv->hold_timer);
    uv_close((uv_handle_t *)&srv->hold_timer, s_server_handle_closed);
    uv_close((uv_handle_t *)&srv->listener, s_server_handle_closed);
    struct s_conn *next;
    for (struct s_conn *c = srv->conns; c; c = next) {
        next = c->next;
        s_conn_close(c, false);
    }
}
