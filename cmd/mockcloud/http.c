/* HTTP/1.1 request parsing for mockcloud (RFC 9112). The parser is stateless: the connection keeps the
 * bytes and asks again when more arrive, which keeps every cap in one place and pipelining trivial. */
#include "cmd/mockcloud/mock_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* A line ends at LF, with an optional CR before it; returns the LF's index or -1. */
static long s_find_lf(const char *data, size_t from, size_t len) {
    const char *p = memchr(data + from, '\n', len - from);
    return p ? (long)(p - data) : -1;
}

static size_t s_trim_cr(const char *data, size_t start, size_t lf) {
    return (lf > start && data[lf - 1] == '\r') ? lf - 1 : lf;
}

static bool s_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool s_token(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s_tchar((unsigned char)s[i]))
            return false;
    return true;
}

static bool s_has_token(const char *list, const char *token) {
    /* Comma-separated, case-insensitive (Connection, Transfer-Encoding). */
    size_t tl = strlen(token);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = e;
    }
    return false;
}

void tm__mock_http_request_clean_up(struct tm__mock_http_request *req) {
    if (!req)
        return;
    free(req->method);
    free(req->target);
    free(req->path);
    free(req->query);
    for (size_t i = 0; i < req->n_headers; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->headers);
    tm_buf_clean_up_secret(&req->body);
    memset(req, 0, sizeof(*req));
}

const char *tm__mock_http_header(const struct tm__mock_http_request *req, const char *name) {
    for (size_t i = 0; i < req->n_headers; i++)
        if (tm_str_ieq(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

const char *tm__mock_http_reason(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* Parses a decimal Content-Length; false on anything else or overflow. */
static bool s_parse_length(const char *s, size_t *out) {
    if (!*s)
        return false;
    size_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (SIZE_MAX - 9) / 10)
            return false;
        v = v * 10 + (size_t)(*s - '0');
    }
    *out = v;
    return true;
}

static int s_hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Walks the chunked body starting at `pos`. Returns COMPLETE (with *end past the trailers), NEED_MORE
 * or ERROR (*status). Appends the data to body when body is not NULL. */
static enum tm__mock_http_state s_chunked(const char *data, size_t len, size_t pos, size_t *end, int *status,
                                          struct tm_buf *body, const struct tm__mock_http_limits *lim) {
    size_t total = 0;
    for (;;) {
        long lf = s_find_lf(data, pos, len);
        if (lf < 0) {
            if (len - pos > 1024) { /* a chunk-size line is short; extensions are not an excuse */
                *status = 400;
                return TM__MOCK_HTTP_ERROR;
            }
            return TM__MOCK_HTTP_NEED_MORE;
        }
        size_t line_end = s_trim_cr(data, pos, (size_t)lf);
        size_t i = pos, size = 0;
        if (i == line_end || s_hex(data[i]) < 0) {
            *status = 400;
            return TM__MOCK_HTTP_ERROR;
        }
        for (; i < line_end && s_hex(data[i]) >= 0; i++) {
            if (size > (SIZE_MAX >> 4)) {
                *status = 400;
                return TM__MOCK_HTTP_ERROR;
            }
            size = size * 16 + (size_t)s_hex(data[i]);
        }
        while (i < line_end && (data[i] == ' ' || data[i] == '\t'))
            i++;
        if (i < line_end && data[i] != ';') { /* only chunk extensions may follow the size */
            *status = 400;
            return TM__MOCK_HTTP_ERROR;
        }
        pos = (size_t)lf + 1;
        if (size == 0)
            break;
        if (size > lim->max_body_bytes || total > lim->max_body_bytes - size) {
            *status = 413;
            return TM__MOCK_HTTP_ERROR;
        }
        if (len - pos < size)
            return TM__MOCK_HTTP_NEED_MORE;
        if (body && tm_buf_append(body, data + pos, size)) {
            *status = 500;
            return TM__MOCK_HTTP_ERROR;
        }
        total += size;
        pos += size;
        /* CRLF (or LF) after the data */
        if (len - pos < 1)
            return TM__MOCK_HTTP_NEED_MORE;
        if (data[pos] == '\r') {
            if (len - pos < 2)
                return TM__MOCK_HTTP_NEED_MORE;
            if (data[pos + 1] != '\n') {
                *status = 400;
                return TM__MOCK_HTTP_ERROR;
            }
            pos += 2;
        } else if (data[pos] == '\n') {
            pos += 1;
        } else {
            *status = 400;
            return TM__MOCK_HTTP_ERROR;
        }
    }
    /* Trailer fields until an empty line; they are bounded like the header section and ignored. */
    size_t trailer_start = pos;
    for (;;) {
        long lf = s_find_lf(data, pos, len);
        if (lf < 0) {
            if (len - trailer_start > lim->max_header_bytes) {
                *status = 431;
                return TM__MOCK_HTTP_ERROR;
            }
            return TM__MOCK_HTTP_NEED_MORE;
        }
        size_t line_end = s_trim_cr(data, pos, (size_t)lf);
        if ((size_t)lf + 1 - trailer_start > lim->max_header_bytes) {
            *status = 431;
            return TM__MOCK_HTTP_ERROR;
        }
        if (line_end == pos) {
            *end = (size_t)lf + 1;
            return TM__MOCK_HTTP_COMPLETE;
        }
        const char *colon = memchr(data + pos, ':', line_end - pos);
        if (!colon || !s_token(data + pos, (size_t)(colon - (data + pos)))) {
            *status = 400;
            return TM__MOCK_HTTP_ERROR;
        }
        pos = (size_t)lf + 1;
    }
}

static bool s_field_value_ok(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

enum tm__mock_http_state tm__mock_http_parse(struct tm__mock_http_request *out, size_t *consumed, int *err_status,
                                             const char *data, size_t len, const struct tm__mock_http_limits *lim) {
    struct tm__mock_http_request req;
    memset(&req, 0, sizeof(req));
    tm_buf_init(&req.body, lim->max_body_bytes);
    enum tm__mock_http_state st = TM__MOCK_HTTP_NEED_MORE;
    int status = 400;
    *consumed = 0;

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    size_t start = 0;
    while (start < len && (data[start] == '\r' || data[start] == '\n'))
        start++;
    if (start == len)
        goto need_more;

    /* Find the end of the header section within the cap. */
    size_t pos = start, head_end = 0;
    for (;;) {
        long lf = s_find_lf(data, pos, len);
        if (lf < 0) {
            if (len - start > lim->max_header_bytes) {
                status = 431;
                goto error;
            }
            goto need_more;
        }
        if ((size_t)lf + 1 - start > lim->max_header_bytes) {
            status = 431;
            goto error;
        }
        bool empty = s_trim_cr(data, pos, (size_t)lf) == pos;
        pos = (size_t)lf + 1;
        if (empty) { /* never the request line: leading empty lines were skipped */
            head_end = pos;
            break;
        }
    }

    /* Request line. */
    {
        long lf = s_find_lf(data, start, len);
        size_t le = s_trim_cr(data, start, (size_t)lf);
        const char *line = data + start;
        size_t n = le - start;
        const char *sp1 = memchr(line, ' ', n);
        if (!sp1)
            goto error;
        const char *rest = sp1 + 1;
        size_t rn = n - (size_t)(rest - line);
        const char *sp2 = memchr(rest, ' ', rn);
        if (!sp2)
            goto error;
        size_t mlen = (size_t)(sp1 - line), tlen = (size_t)(sp2 - rest);
        const char *ver = sp2 + 1;
        size_t vlen = n - (size_t)(ver - line);
        if (!s_token(line, mlen) || tlen == 0 || rest[0] != '/')
            goto error;
        for (size_t i = 0; i < tlen; i++) {
            unsigned char c = (unsigned char)rest[i];
            if (c <= 0x20 || c >= 0x7f)
                goto error;
        }
        if (vlen != 8 || memcmp(ver, "HTTP/", 5) != 0 || ver[6] != '.' || ver[5] < '0' || ver[5] > '9' ||
            ver[7] < '0' || ver[7] > '9')
            goto error;
        if (ver[5] != '1') {
            status = 505;
            goto error;
        }
        req.version_minor = ver[7] - '0';
        req.method = tm_strndup(line, mlen);
        req.target = tm_strndup(rest, tlen);
        if (!req.method || !req.target)
            goto nomem;
        const char *q = memchr(rest, '?', tlen);
        size_t plen = q ? (size_t)(q - rest) : tlen;
        req.path = tm_strndup(rest, plen);
        req.query = q ? tm_strndup(q + 1, tlen - plen - 1) : tm_strdup("");
        if (!req.path || !req.query)
            goto nomem;
        pos = (size_t)lf + 1;
    }

    /* Header fields. */
    while (pos < head_end) {
        long lf = s_find_lf(data, pos, len);
        size_t le = s_trim_cr(data, pos, (size_t)lf);
        if (le == pos)
            break; /* the empty line */
        const char *line = data + pos;
        size_t n = le - pos;
        if (line[0] == ' ' || line[0] == '\t')
            goto error; /* obsolete line folding: RFC 9112 5.2 lets a server reject it */
        const char *colon = memchr(line, ':', n);
        if (!colon || !s_token(line, (size_t)(colon - line)))
            goto error; /* includes whitespace before the colon (RFC 9112 5.1) */
        const char *v = colon + 1;
        const char *ve = line + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (!s_field_value_ok(v, (size_t)(ve - v)))
            goto error;
        if (req.n_headers >= lim->max_headers) {
            status = 431;
            goto error;
        }
        struct tm__mock_kv *h = realloc(req.headers, (req.n_headers + 1) * sizeof(*h));
        if (!h)
            goto nomem;
        req.headers = h;
        h[req.n_headers].name = tm_strndup(line, (size_t)(colon - line));
        h[req.n_headers].value = tm_strndup(v, (size_t)(ve - v));
        req.n_headers++;
        if (!h[req.n_headers - 1].name || !h[req.n_headers - 1].value)
            goto nomem;
        pos = (size_t)lf + 1;
    }

    if (req.version_minor >= 1 && !tm__mock_http_header(&req, "Host"))
        goto error; /* RFC 9112 3.2: a 1.1 request without Host is a 400 */

    /* Connection semantics. */
    const char *conn = tm__mock_http_header(&req, "Connection");
    if (req.version_minor >= 1)
        req.keep_alive = !(conn && s_has_token(conn, "close"));
    else
        req.keep_alive = conn && s_has_token(conn, "keep-alive");
    const char *expect = tm__mock_http_header(&req, "Expect");
    req.expect_continue = req.version_minor >= 1 && expect && tm_str_ieq(expect, "100-continue");

    /* Body framing: Transfer-Encoding chunked, or one Content-Length, or none. */
    const char *te = NULL;
    bool have_cl = false;
    size_t cl = 0;
    for (size_t i = 0; i < req.n_headers; i++) {
        if (tm_str_ieq(req.headers[i].name, "Transfer-Encoding")) {
            if (te) {
                status = 501;
                goto error;
            }
            te = req.headers[i].value;
        } else if (tm_str_ieq(req.headers[i].name, "Content-Length")) {
            size_t v;
            if (!s_parse_length(req.headers[i].value, &v) || (have_cl && v != cl))
                goto error;
            have_cl = true;
            cl = v;
        }
    }
    if (te) {
        if (have_cl)
            goto error; /* both framings: a request-smuggling shape (RFC 9112 6.1) */
        if (!tm_str_ieq(te, "chunked")) {
            status = 501;
            goto error;
        }
        size_t end = 0;
        enum tm__mock_http_state cs = s_chunked(data, len, head_end, &end, &status, NULL, lim);
        if (cs == TM__MOCK_HTTP_ERROR)
            goto error;
        if (cs == TM__MOCK_HTTP_NEED_MORE)
            goto headers_done;
        cs = s_chunked(data, len, head_end, &end, &status, &req.body, lim);
        if (cs != TM__MOCK_HTTP_COMPLETE) {
            if (status == 500)
                goto nomem;
            goto error;
        }
        *consumed = end;
    } else {
        if (cl > lim->max_body_bytes) {
            status = 413;
            goto error;
        }
        if (len - head_end < cl)
            goto headers_done;
        if (tm_buf_append(&req.body, data + head_end, cl))
            goto nomem;
        *consumed = head_end + cl;
    }
    *out = req;
    return TM__MOCK_HTTP_COMPLETE;

headers_done:
    st = TM__MOCK_HTTP_HEADERS_DONE;
    if (!req.expect_continue)
        st = TM__MOCK_HTTP_NEED_MORE;
    tm__mock_http_request_clean_up(&req);
    return st;
need_more:
    tm__mock_http_request_clean_up(&req);
    return TM__MOCK_HTTP_NEED_MORE;
nomem:
    status = 500;
error:
    tm__mock_http_request_clean_up(&req);
    *err_status = status;
    return TM__MOCK_HTTP_ERROR;
}
