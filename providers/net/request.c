/* The request object, response headers, URL policy, Retry-After and the default classifier. */
#include "providers/net/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "providers/net/http_int.h"

struct tm_http_request *tm_http_request_new(const char *method, const char *url) {
    if (!method || !url)
        return NULL;
    struct tm_http_request *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->method = tm_strdup(method);
    req->url = tm_strdup(url);
    req->service = tm_strdup("");
    req->op_key = tm_strdup("");
    if (!req->method || !req->url || !req->service || !req->op_key) {
        tm__net_request_free(req);
        return NULL;
    }
    tm_buf_init(&req->resp_body, 0);
    req->priority = TM_HTTP_PRIORITY_NORMAL;
    return req;
}

void tm__net_request_clear_headers(struct tm_http_request *req) {
    for (size_t i = 0; i < req->resp_header_count; i++) {
        free((char *)req->resp_headers[i].name);
        free((char *)req->resp_headers[i].value);
    }
    req->resp_header_count = 0;
    req->resp_header_bytes = 0;
}

void tm__net_request_reset_response(struct tm_http_request *req) {
    tm_buf_reset(&req->resp_body);
    tm__net_request_clear_headers(req);
    req->status = 0;
    req->too_big = false;
    req->errbuf[0] = '\0';
}

void tm__net_request_free(struct tm_http_request *req) {
    if (!req)
        return;
    tm__net_request_reset_response(req);
    free(req->resp_headers);
    tm_buf_clean_up(&req->resp_body);
    for (size_t i = 0; i < req->header_count; i++) {
        free(req->header_names[i]);
        /* Header values may carry signatures and session tokens. */
        tm_secret_free(req->header_values[i]);
    }
    free(req->header_names);
    free(req->header_values);
    free(req->body);
    free(req->method);
    free(req->url);
    free(req->service);
    free(req->op_key);
    free(req);
}

void tm_http_request_destroy(struct tm_http_request *req) {
    if (!req)
        return;
    if (req->state != TM__NET_NEW)
        return; /* owned by an engine: it frees the request after the done callback */
    tm__net_request_free(req);
}

static bool s_header_name_ok(const char *name) {
    if (!*name)
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || *p == ':')
            return false;
    return true;
}

static bool s_header_value_ok(const char *value) {
    /* CR and LF would let a value smuggle another header line. */
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n')
            return false;
    return true;
}

int tm_http_request_set_header(struct tm_http_request *req, const char *name, const char *value) {
    if (!req || !name || !s_header_name_ok(name) || (value && !s_header_value_ok(value)))
        return TM_ERR_INVALID;
    for (size_t i = 0; i < req->header_count; i++) {
        if (!tm_str_ieq(req->header_names[i], name))
            continue;
        if (!value) {
            free(req->header_names[i]);
            tm_secret_free(req->header_values[i]);
            memmove(req->header_names + i, req->header_names + i + 1,
                    (req->header_count - i - 1) * sizeof(*req->header_names));
            memmove(req->header_values + i, req->header_values + i + 1,
                    (req->header_count - i - 1) * sizeof(*req->header_values));
            req->header_count--;
            return TM_OK;
        }
        char *v = tm_strdup(value);
        if (!v)
            return TM_ERR_NOMEM;
        tm_secret_free(req->header_values[i]);
        req->header_values[i] = v;
        return TM_OK;
    }
    if (!value)
        return TM_OK;
    if (req->header_count == req->header_alloc) {
        size_t n = req->header_alloc ? req->header_alloc * 2 : 8;
        char **names = realloc(req->header_names, n * sizeof(*names));
        if (!names)
            return TM_ERR_NOMEM;
        req->header_names = names;
        char **values = realloc(req->header_values, n * sizeof(*values));
        if (!values)
            return TM_ERR_NOMEM;
        req->header_values = values;
        req->header_alloc = n;
    }
    char *n = tm_strdup(name);
    char *v = tm_strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return TM_ERR_NOMEM;
    }
    req->header_names[req->header_count] = n;
    req->header_values[req->header_count] = v;
    req->header_count++;
    return TM_OK;
}

int tm_http_request_set_body(struct tm_http_request *req, const void *data, size_t len) {
    if (!req || (!data && len))
        return TM_ERR_INVALID;
    unsigned char *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return TM_ERR_NOMEM;
        memcpy(copy, data, len);
    }
    free(req->body);
    req->body = copy;
    req->body_len = len;
    return TM_OK;
}

int tm_http_request_set_url(struct tm_http_request *req, const char *url) {
    if (!req || !url)
        return TM_ERR_INVALID;
    char *copy = tm_strdup(url);
    if (!copy)
        return TM_ERR_NOMEM;
    free(req->url);
    req->url = copy;
    return TM_OK;
}

int tm_http_request_set_key(struct tm_http_request *req, const char *service, const char *op_key) {
    if (!req || !service || !op_key || req->state != TM__NET_NEW)
        return TM_ERR_INVALID;
    char *s = tm_strdup(service);
    char *k = tm_strdup(op_key);
    if (!s || !k) {
        free(s);
        free(k);
        return TM_ERR_NOMEM;
    }
    free(req->service);
    free(req->op_key);
    req->service = s;
    req->op_key = k;
    return TM_OK;
}

void tm_http_request_set_hooks(struct tm_http_request *req, tm_http_prepare_fn prepare, tm_http_classify_fn classify,
                               void *hook_data) {
    req->prepare = prepare;
    req->classify = classify;
    req->hook_data = hook_data;
}

void tm_http_request_set_error(struct tm_http_request *req, const char *code, const char *message) {
    code = code ? code : "";
    message = message ? message : "";
    tm__net_copy_line(req->code, sizeof(req->code), code, strlen(code));
    tm__net_copy_line(req->message, sizeof(req->message), message, strlen(message));
}

void tm_http_request_set_timeout_ms(struct tm_http_request *req, long timeout_ms) {
    req->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void tm_http_request_set_max_attempts(struct tm_http_request *req, unsigned max_attempts) {
    req->max_attempts = max_attempts;
}

void tm_http_request_set_priority(struct tm_http_request *req, int priority) {
    /* Only before submit: a queued request sits in its priority's queue. */
    if (req->state != TM__NET_NEW)
        return;
    if (priority < TM_HTTP_PRIORITY_LOW)
        priority = TM_HTTP_PRIORITY_LOW;
    if (priority > TM_HTTP_PRIORITY_HIGHEST)
        priority = TM_HTTP_PRIORITY_HIGHEST;
    req->priority = (unsigned)priority;
}

int tm_http_request_priority(const struct tm_http_request *req) {
    return (int)req->priority;
}

const char *tm_http_request_method(const struct tm_http_request *req) {
    return req->method;
}

const char *tm_http_request_url(const struct tm_http_request *req) {
    return req->url;
}

const char *tm_http_request_service(const struct tm_http_request *req) {
    return req->service;
}

const char *tm_http_request_op_key(const struct tm_http_request *req) {
    return req->op_key;
}

const char *tm_http_request_header(const struct tm_http_request *req, const char *name) {
    for (size_t i = 0; i < req->header_count; i++)
        if (tm_str_ieq(req->header_names[i], name))
            return req->header_values[i];
    return NULL;
}

size_t tm_http_request_header_count(const struct tm_http_request *req) {
    return req->header_count;
}

struct tm_http_header tm_http_request_header_at(const struct tm_http_request *req, size_t i) {
    struct tm_http_header h = {NULL, NULL};
    if (i < req->header_count) {
        h.name = req->header_names[i];
        h.value = req->header_values[i];
    }
    return h;
}

const void *tm_http_request_body(const struct tm_http_request *req, size_t *len) {
    if (len)
        *len = req->body_len;
    return req->body ? (const void *)req->body : (const void *)"";
}

int tm__net_request_add_response_header(struct tm_http_request *req, const char *name, size_t name_len,
                                        const char *value, size_t value_len) {
    if (name_len + value_len + 2 > TM__NET_MAX_HEADER_BYTES - req->resp_header_bytes ||
        req->resp_header_bytes > TM__NET_MAX_HEADER_BYTES)
        return TM_ERR_TOO_BIG;
    if (req->resp_header_count == req->resp_header_alloc) {
        size_t n = req->resp_header_alloc ? req->resp_header_alloc * 2 : 16;
        struct tm_http_header *h = realloc(req->resp_headers, n * sizeof(*h));
        if (!h)
            return TM_ERR_NOMEM;
        req->resp_headers = h;
        req->resp_header_alloc = n;
    }
    char *n = tm_strndup(name, name_len);
    char *v = tm_strndup(value, value_len);
    if (!n || !v) {
        free(n);
        free(v);
        return TM_ERR_NOMEM;
    }
    req->resp_headers[req->resp_header_count].name = n;
    req->resp_headers[req->resp_header_count].value = v;
    req->resp_header_count++;
    req->resp_header_bytes += name_len + value_len + 2;
    return TM_OK;
}

const char *tm_http_response_header(const struct tm_http_response *resp, const char *name) {
    for (size_t i = 0; i < resp->header_count; i++)
        if (tm_str_ieq(resp->headers[i].name, name))
            return resp->headers[i].value;
    return NULL;
}

void tm__net_copy_line(char *dst, size_t dst_len, const char *src, size_t src_len) {
    if (!dst_len)
        return;
    size_t n = src_len < dst_len - 1 ? src_len : dst_len - 1;
    /* Never end in the middle of a UTF-8 sequence: back up over continuation bytes. */
    if (n < src_len) {
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[n] = '\0';
}

/* --- URL policy ------------------------------------------------------------------------------------ */

bool tm_http_host_is_loopback(const char *host) {
    if (!host || !*host)
        return false;
    size_t len = strlen(host);
    if (host[0] == '[' && host[len - 1] == ']') {
        char inner[64];
        if (len - 2 >= sizeof(inner))
            return false;
        memcpy(inner, host + 1, len - 2);
        inner[len - 2] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, inner, &a6) != 1)
            return false;
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    if (tm_str_ieq(host, "localhost") || tm_str_ieq(host, "localhost."))
        return true;
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    /* Only the canonical dotted quad: curl's parser normalises other IPv4 spellings before we see them. */
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return false;
}

/* AWS's own link-local, plain-HTTP credential endpoints: instance metadata (IMDS) and the ECS/EKS container
 * agent. They are never routed off the machine's link, and the SDKs reach them the same way. */
bool tm_http_host_is_aws_metadata(const char *host) {
    static const char *const hosts[] = {"169.254.169.254", "169.254.170.2", "169.254.170.23", "[fd00:ec2::254]",
                                        "[fd00:ec2::23]"};
    if (!host)
        return false;
    for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
        if (tm_str_ieq(host, hosts[i]))
            return true;
    return false;
}

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

int tm_http_check_url(const char *url, char *errmsg, size_t errmsg_len) {
    int rc = TM_ERR_INVALID;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_url();
    if (!u) {
        s_msg(errmsg, errmsg_len, "%s", "out of memory");
        return TM_ERR_NOMEM;
    }
    /* No default scheme: a URL without one is refused rather than guessed. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        s_msg(errmsg, errmsg_len, "malformed URL '%.200s'", url);
        goto done;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        s_msg(errmsg, errmsg_len, "URL without a scheme or host '%.200s'", url);
        goto done;
    }
    if (tm_str_ieq(scheme, "https")) {
        rc = TM_OK;
    } else if (tm_str_ieq(scheme, "http")) {
        if (tm_http_host_is_loopback(host) || tm_http_host_is_aws_metadata(host))
            rc = TM_OK;
        else
            s_msg(errmsg, errmsg_len,
                  "refusing plain http:// to '%.200s': only loopback hosts (and AWS's link-local metadata "
                  "endpoints) may be reached without TLS",
                  host);
    } else {
        s_msg(errmsg, errmsg_len, "unsupported URL scheme '%.50s'", scheme);
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* --- Retry-After and the default classifier --------------------------------------------------------- */

int tm_http_parse_retry_after(uint64_t *out_ms, const char *value, int64_t now_unix) {
    if (!value)
        return TM_ERR_PARSE;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
        len--;
    if (!len)
        return TM_ERR_PARSE;
    bool digits = true;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)value[i]))
            digits = false;
    if (digits) {
        /* delta-seconds: anything over a day is as good as "never" and must not overflow. */
        uint64_t s = 0;
        for (size_t i = 0; i < len; i++) {
            s = s * 10 + (uint64_t)(value[i] - '0');
            if (s > 86400) {
                s = 86400;
                break;
            }
        }
        *out_ms = s * 1000;
        return TM_OK;
    }
    char date[64];
    if (len >= sizeof(date))
        return TM_ERR_PARSE;
    memcpy(date, value, len);
    date[len] = '\0';
    /* curl_getdate reads the three HTTP date formats (IMF-fixdate, RFC 850, asctime). */
    time_t t = curl_getdate(date, NULL);
    if (t == (time_t)-1)
        return TM_ERR_PARSE;
    int64_t delta = (int64_t)t - now_unix;
    if (delta < 0)
        delta = 0;
    if (delta > 86400)
        delta = 86400;
    *out_ms = (uint64_t)delta * 1000;
    return TM_OK;
}

void tm_http_classify_default(struct tm_http_verdict *out, const struct tm_http_response *resp, void *hook_data) {
    (void)hook_data;
    long s = resp->status;
    if (s >= 200 && s < 300) {
        out->outcome = TM_HTTP_SUCCESS;
        return;
    }
    if (s == 429) {
        out->outcome = TM_HTTP_THROTTLED;
        snprintf(out->code, sizeof(out->code), "TooManyRequests");
    } else if (s == 500 || s == 502 || s == 503 || s == 504) {
        out->outcome = TM_HTTP_RETRY;
        snprintf(out->code, sizeof(out->code), "HTTP%ld", s);
    } else {
        out->outcome = TM_HTTP_FAIL;
        out->err = TM_ERR_SERVICE;
        snprintf(out->code, sizeof(out->code), "HTTP%ld", s);
    }
    snprintf(out->message, sizeof(out->message), "HTTP status %ld", s);
}
