#include "providers/aws/request.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "providers/auth/sigv4.h"
#include "providers/aws/errors.h"
#include "providers/aws/readonly.h"

struct tm_aws_client {
    struct tm_aws_client_options opts;
    unsigned refs; /* the owner's and one per request in flight */
};

struct s_pair {
    char *name;
    char *value; /* NULL: a bare key */
};

struct tm_aws_request {
    struct tm_aws_client *client;
    const struct tm_aws_service *svc;
    char *operation;
    char *region;
    struct s_pair *params;
    size_t param_count;
    struct s_pair *headers;
    size_t header_count;
    char *json;
    char *method;
    char *path;
    char *bucket;
    char *host_prefix;
    unsigned max_attempts;
    int priority; /* TM_HTTP_PRIORITY_*; 0 (LOW) is never asked for, so 0 means the engine's default */
};

/* One call in flight. */
struct s_call {
    struct tm_aws_client *client;
    const struct tm_aws_service *svc;
    char *operation;
    char *region;
    char *signing_region;
    char *wire_path;
    char *wire_query;
    tm_aws_done_fn done;
    void *user_data;
    struct tm_http_request *hr;
    /* Credentials for the current attempt. */
    bool in_prepare;
    bool creds_done;
    bool waiting;  /* a credentials callback is still to come */
    bool orphaned; /* ... and the call ended meanwhile: the callback frees the call */
    int sign_rc;
    char request_id[128];
};

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

/* --- Client -------------------------------------------------------------------------------------------- */

int tm_aws_get_credentials_from_provider(tm_aws_credentials_fn cb, void *cb_data, void *provider) {
    return tm_aws_credentials_provider_get(provider, (int64_t)time(NULL), cb, cb_data);
}

void tm_aws_client_options_init(struct tm_aws_client_options *opts) {
    memset(opts, 0, sizeof(*opts));
    opts->validate_bodies = true;
}

int tm_aws_client_new(struct tm_aws_client **out, const struct tm_aws_client_options *opts) {
    *out = NULL;
    if (!opts || !opts->engine)
        return TM_ERR_INVALID;
    struct tm_aws_client *c = calloc(1, sizeof(*c));
    if (!c)
        return TM_ERR_NOMEM;
    c->opts = *opts;
    c->refs = 1;
    *out = c;
    return TM_OK;
}

static void s_client_unref(struct tm_aws_client *c) {
    if (c && --c->refs == 0)
        free(c);
}

void tm_aws_client_destroy(struct tm_aws_client *client) {
    s_client_unref(client);
}

static int64_t s_now(const struct tm_aws_client *c) {
    return c->opts.clock ? c->opts.clock(c->opts.clock_data) : (int64_t)time(NULL);
}

/* --- Building ------------------------------------------------------------------------------------------ */

static void s_pairs_free(struct s_pair *pairs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(pairs[i].name);
        tm_secret_free(pairs[i].value);
    }
    free(pairs);
}

void tm_aws_request_destroy(struct tm_aws_request *req) {
    if (!req)
        return;
    s_pairs_free(req->params, req->param_count);
    s_pairs_free(req->headers, req->header_count);
    free(req->operation);
    free(req->region);
    free(req->json);
    free(req->method);
    free(req->path);
    free(req->bucket);
    free(req->host_prefix);
    s_client_unref(req->client);
    free(req);
}

int tm_aws_request_new(struct tm_aws_request **out, struct tm_aws_client *client, const char *service,
                       const char *operation, const char *region, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    if (!client || !service || !operation || !region) {
        s_msg(errmsg, errmsg_len, "missing client, service, operation or region");
        return TM_ERR_INVALID;
    }
    /* First of all: nothing that is not read-only gets as far as a request object. */
    int rc = tm_aws_readonly_check(service, operation, errmsg, errmsg_len);
    if (rc)
        return rc;
    const struct tm_aws_service *svc = tm_aws_service_find(service);
    if (!svc) {
        s_msg(errmsg, errmsg_len, "unknown AWS service '%.64s'", service);
        return TM_ERR_NOT_FOUND;
    }
    if (!tm_aws_region_valid(region)) {
        s_msg(errmsg, errmsg_len, "not a region name: '%.64s'", region);
        return TM_ERR_INVALID;
    }
    struct tm_aws_request *req = calloc(1, sizeof(*req));
    if (!req)
        return TM_ERR_NOMEM;
    req->svc = svc;
    req->operation = tm_strdup(operation);
    req->region = tm_strdup(region);
    req->method = tm_strdup("GET");
    req->path = tm_strdup("/");
    if (!req->operation || !req->region || !req->method || !req->path) {
        tm_aws_request_destroy(req);
        s_msg(errmsg, errmsg_len, "out of memory");
        return TM_ERR_NOMEM;
    }
    req->client = client;
    client->refs++;
    *out = req;
    return TM_OK;
}

static int s_pair_add(struct s_pair **pairs, size_t *count, const char *name, const char *value) {
    struct s_pair *p = realloc(*pairs, (*count + 1) * sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    *pairs = p;
    char *n = tm_strdup(name);
    char *v = value ? tm_strdup(value) : NULL;
    if (!n || (value && !v)) {
        free(n);
        free(v);
        return TM_ERR_NOMEM;
    }
    p[*count].name = n;
    p[*count].value = v;
    (*count)++;
    return TM_OK;
}

int tm_aws_request_add_param(struct tm_aws_request *req, const char *name, const char *value) {
    if (!req || !name || !*name || req->svc->protocol == TM_AWS_PROTO_JSON)
        return TM_ERR_INVALID;
    bool query = req->svc->protocol == TM_AWS_PROTO_QUERY || req->svc->protocol == TM_AWS_PROTO_EC2;
    if (query && (!value || strcmp(name, "Action") == 0 || strcmp(name, "Version") == 0))
        return TM_ERR_INVALID;
    int rc = tm_aws_readonly_check_param(req->svc->name, req->operation, name, value, NULL, 0);
    if (rc)
        return rc;
    return s_pair_add(&req->params, &req->param_count, name, value);
}

int tm_aws_request_set_json(struct tm_aws_request *req, const char *json) {
    if (!req || !json || (req->svc->protocol != TM_AWS_PROTO_JSON && req->svc->protocol != TM_AWS_PROTO_REST_JSON))
        return TM_ERR_INVALID;
    char *copy = tm_strdup(json);
    if (!copy)
        return TM_ERR_NOMEM;
    tm_secret_free(req->json);
    req->json = copy;
    return TM_OK;
}

int tm_aws_request_set_rest(struct tm_aws_request *req, const char *method, const char *path) {
    if (!req || !method || !path || path[0] != '/' ||
        (req->svc->protocol != TM_AWS_PROTO_REST_JSON && req->svc->protocol != TM_AWS_PROTO_REST_XML))
        return TM_ERR_INVALID;
    /* Reads are GET and HEAD, and a few POSTs (searches that take a body). PUT, DELETE and PATCH are
     * writes whatever the operation is called. */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "POST") != 0)
        return TM_ERR_READ_ONLY;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || (unsigned char)*p >= 0x7f)
            return TM_ERR_INVALID; /* unencoded: the caller must encode labels */
    char *m = tm_strdup(method);
    char *p = tm_strdup(path);
    if (!m || !p) {
        free(m);
        free(p);
        return TM_ERR_NOMEM;
    }
    free(req->method);
    free(req->path);
    req->method = m;
    req->path = p;
    return TM_OK;
}

int tm_aws_request_set_bucket(struct tm_aws_request *req, const char *bucket) {
    if (!req || !bucket || !*bucket || strlen(bucket) > 255 || req->svc->protocol != TM_AWS_PROTO_REST_XML)
        return TM_ERR_INVALID;
    char *b = tm_strdup(bucket);
    if (!b)
        return TM_ERR_NOMEM;
    free(req->bucket);
    req->bucket = b;
    return TM_OK;
}

int tm_aws_request_set_host_prefix(struct tm_aws_request *req, const char *prefix) {
    size_t n = prefix ? strlen(prefix) : 0;
    if (!req || n < 2 || n > 64 || prefix[n - 1] != '.')
        return TM_ERR_INVALID;
    for (size_t i = 0; i + 1 < n; i++) {
        char c = prefix[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return TM_ERR_INVALID;
    }
    char *p = tm_strdup(prefix);
    if (!p)
        return TM_ERR_NOMEM;
    free(req->host_prefix);
    req->host_prefix = p;
    return TM_OK;
}

static bool s_reserved_header(const char *name) {
    static const char *const reserved[] = {
        "Host",           "Authorization",        "X-Amz-Target",
        "X-Amz-Date",     "X-Amz-Security-Token", "x-amz-content-sha256",
        "Content-Length", "Transfer-Encoding",
    };
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (tm_str_ieq(name, reserved[i]))
            return true;
    return false;
}

int tm_aws_request_add_header(struct tm_aws_request *req, const char *name, const char *value) {
    if (!req || !name || !*name || !value || s_reserved_header(name))
        return TM_ERR_INVALID;
    return s_pair_add(&req->headers, &req->header_count, name, value);
}

void tm_aws_request_set_max_attempts(struct tm_aws_request *req, unsigned max_attempts) {
    req->max_attempts = max_attempts;
}

void tm_aws_request_set_priority(struct tm_aws_request *req, int priority) {
    req->priority = priority;
}

int tm_aws_path_label(struct tm_buf *path, const char *value, bool greedy) {
    if (!path || !value)
        return TM_ERR_INVALID;
    return tm_uri_encode(path, value, strlen(value), greedy);
}

/* name=value&name=value, percent-encoded; a bare name when the value is NULL. */
static int s_encode_pairs(struct tm_buf *out, const struct s_pair *pairs, size_t n) {
    int rc = TM_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (out->len)
            rc = tm_buf_append_char(out, '&');
        if (!rc)
            rc = tm_uri_encode(out, pairs[i].name, strlen(pairs[i].name), false);
        if (!rc && pairs[i].value) {
            rc = tm_buf_append_char(out, '=');
            if (!rc)
                rc = tm_uri_encode(out, pairs[i].value, strlen(pairs[i].value), false);
        }
    }
    return rc;
}

/* What a request turns into on the wire. */
struct s_built {
    struct tm_aws_endpoint ep;
    struct tm_buf url;
    struct tm_buf host;  /* the Host header */
    struct tm_buf path;  /* wire path */
    struct tm_buf query; /* wire query, no '?' */
    struct tm_buf body;
};

static void s_built_clean_up(struct s_built *b) {
    tm_aws_endpoint_clean_up(&b->ep);
    tm_buf_clean_up(&b->url);
    tm_buf_clean_up(&b->host);
    tm_buf_clean_up(&b->path);
    tm_buf_clean_up(&b->query);
    tm_buf_clean_up_secret(&b->body);
}

/* The Host header curl would send for a URL: the host, and the port when it is not the scheme's. */
static int s_host_header(struct tm_buf *out, const char *url) {
    CURLU *u = curl_url();
    if (!u)
        return TM_ERR_NOMEM;
    int rc = TM_ERR_INVALID;
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto done;
    rc = tm_buf_append_str(out, host);
    if (!rc && curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port) {
        bool dflt = (tm_str_ieq(scheme, "https") && strcmp(port, "443") == 0) ||
                    (tm_str_ieq(scheme, "http") && strcmp(port, "80") == 0);
        if (!dflt)
            rc = tm_buf_appendf(out, ":%s", port);
    }
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

static int s_build(struct s_built *b, const struct tm_aws_request *req, char *errmsg, size_t errmsg_len) {
    memset(b, 0, sizeof(*b));
    tm_buf_init(&b->url, 0);
    tm_buf_init(&b->host, 0);
    tm_buf_init(&b->path, 0);
    tm_buf_init(&b->query, 0);
    tm_buf_init(&b->body, 0);
    const struct tm_aws_service *svc = req->svc;
    int rc = tm_aws_endpoint_resolve(&b->ep, svc, req->region, req->client->opts.env, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *base = b->ep.url;
    const char *sep = strstr(base, "://");
    if (!sep) {
        s_msg(errmsg, errmsg_len, "endpoint URL without a scheme: '%.200s'", base);
        return TM_ERR_INVALID;
    }
    const char *authority = sep + 3;
    const char *base_path = strchr(authority, '/');
    size_t authority_len = base_path ? (size_t)(base_path - authority) : strlen(authority);
    if (!base_path)
        base_path = "";
    if (strchr(base_path, '?') || strchr(base_path, '#')) {
        s_msg(errmsg, errmsg_len, "endpoint URL with a query or fragment: '%.200s'", base);
        return TM_ERR_INVALID;
    }
    bool virtual_host = svc->protocol == TM_AWS_PROTO_REST_XML && req->bucket && !b->ep.overridden &&
                        tm_aws_s3_bucket_virtual_host_ok(req->bucket);

    rc = tm_buf_append(&b->url, base, (size_t)(authority - base));
    if (!rc && req->host_prefix && !b->ep.overridden)
        rc = tm_buf_append_str(&b->url, req->host_prefix);
    if (!rc && virtual_host)
        rc = tm_buf_appendf(&b->url, "%s.", req->bucket);
    if (!rc)
        rc = tm_buf_append(&b->url, authority, authority_len);

    /* The path: the endpoint's own path, then the bucket (path style), then the operation's. */
    if (!rc)
        rc = tm_buf_append_str(&b->path, base_path);
    bool rest = svc->protocol == TM_AWS_PROTO_REST_JSON || svc->protocol == TM_AWS_PROTO_REST_XML;
    if (!rc && req->bucket && !virtual_host) {
        rc = tm_buf_append_char(&b->path, '/');
        if (!rc)
            rc = tm_uri_encode(&b->path, req->bucket, strlen(req->bucket), false);
        if (!rc && rest && strcmp(req->path, "/") != 0)
            rc = tm_buf_append_str(&b->path, req->path);
    } else if (!rc) {
        rc = tm_buf_append_str(&b->path, rest ? req->path : "/");
    }
    if (!rc && rest)
        rc = s_encode_pairs(&b->query, req->params, req->param_count);
    if (!rc)
        rc = tm_buf_append(&b->url, b->path.data ? b->path.data : "", b->path.len);
    if (!rc && b->query.len)
        rc = tm_buf_appendf(&b->url, "?%s", tm_buf_str(&b->query));
    if (!rc)
        rc = s_host_header(&b->host, tm_buf_str(&b->url));
    if (rc) {
        s_msg(errmsg, errmsg_len, "could not build the URL for %s:%s (%s)", svc->name, req->operation,
              tm_error_str(rc));
        return rc;
    }

    switch (svc->protocol) {
        case TM_AWS_PROTO_QUERY:
        case TM_AWS_PROTO_EC2:
            rc = tm_buf_appendf(&b->body, "Action=%s&Version=%s", req->operation, svc->api_version);
            if (!rc && req->param_count) {
                rc = tm_buf_append_char(&b->body, '&');
                struct tm_buf params;
                tm_buf_init(&params, 0);
                if (!rc)
                    rc = s_encode_pairs(&params, req->params, req->param_count);
                if (!rc)
                    rc = tm_buf_append(&b->body, params.data ? params.data : "", params.len);
                tm_buf_clean_up_secret(&params);
            }
            break;
        case TM_AWS_PROTO_JSON:
            rc = tm_buf_append_str(&b->body, req->json ? req->json : "{}");
            break;
        case TM_AWS_PROTO_REST_JSON:
        case TM_AWS_PROTO_REST_XML:
            if (req->json)
                rc = tm_buf_append_str(&b->body, req->json);
            break;
        default:
            rc = TM_ERR_INVALID;
            break;
    }
    if (rc)
        s_msg(errmsg, errmsg_len, "could not build the body of %s:%s", svc->name, req->operation);
    return rc;
}

int tm_aws_request_url(struct tm_buf *out, const struct tm_aws_request *req, char *errmsg, size_t errmsg_len) {
    if (!out || !req)
        return TM_ERR_INVALID;
    struct s_built b;
    int rc = s_build(&b, req, errmsg, errmsg_len);
    if (!rc)
        rc = tm_buf_append(out, b.url.data ? b.url.data : "", b.url.len);
    s_built_clean_up(&b);
    return rc;
}

/* --- Signing every attempt ------------------------------------------------------------------------------ */

static const char *const s_signing_headers[] = {"Authorization", "X-Amz-Date", "X-Amz-Security-Token",
                                                "x-amz-content-sha256"};

static int s_sign(struct s_call *call, const struct tm_aws_credentials *creds) {
    struct tm_http_request *hr = call->hr;
    /* A previous attempt's signature (perhaps with other credentials) must not linger. */
    for (size_t i = 0; i < sizeof(s_signing_headers) / sizeof(s_signing_headers[0]); i++)
        if (tm_http_request_set_header(hr, s_signing_headers[i], NULL) != TM_OK)
            return TM_ERR_NOMEM;
    size_t n = tm_http_request_header_count(hr);
    struct tm_sigv4_header *hs = calloc(n ? n : 1, sizeof(*hs));
    if (!hs)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        struct tm_http_header h = tm_http_request_header_at(hr, i);
        hs[i].name = h.name;
        hs[i].value = h.value;
    }
    size_t body_len = 0;
    const void *body = tm_http_request_body(hr, &body_len);
    struct tm_sigv4_request sr = {
        .method = tm_http_request_method(hr),
        .path = call->wire_path,
        .query = call->wire_query,
        .headers = hs,
        .header_count = n,
        .body = body,
        .body_len = body_len,
    };
    struct tm_sigv4_params p = {
        .access_key_id = creds->access_key_id,
        .secret_access_key = creds->secret_access_key,
        .session_token = creds->session_token,
        .region = call->signing_region,
        .service = call->svc->signing_name,
        .time = s_now(call->client),
        .mode = TM_SIGV4_MODE_HEADER,
    };
    struct tm_sigv4_signed out;
    int rc = tm_sigv4_sign(&out, &sr, &p);
    free(hs); /* before the headers change under its pointers */
    if (rc) {
        tm_http_request_set_error(hr, "SigningFailed", "could not sign the request");
        return rc;
    }
    for (size_t i = 0; i < out.header_count && !rc; i++)
        rc = tm_http_request_set_header(hr, out.headers[i].name, out.headers[i].value);
    tm_sigv4_signed_clean_up(&out);
    return rc;
}

static void s_call_free(struct s_call *call) {
    if (!call)
        return;
    free(call->operation);
    free(call->region);
    free(call->signing_region);
    free(call->wire_path);
    free(call->wire_query);
    s_client_unref(call->client);
    free(call);
}

static void s_on_credentials(int err, const struct tm_aws_credentials *creds, const char *errmsg, void *user_data) {
    struct s_call *call = user_data;
    call->waiting = false;
    if (call->orphaned) {
        s_call_free(call);
        return;
    }
    int rc;
    if (err || !creds) {
        char msg[400];
        snprintf(msg, sizeof(msg), "no credentials to sign with: %s", errmsg && *errmsg ? errmsg : tm_error_str(err));
        tm_http_request_set_error(call->hr, "NoCredentials", msg);
        rc = err < 0 ? err : TM_ERR_AUTH;
    } else {
        rc = s_sign(call, creds);
    }
    if (call->in_prepare) {
        call->creds_done = true;
        call->sign_rc = rc;
        return;
    }
    tm_http_request_resume(call->hr, rc);
}

static int s_prepare(struct tm_http_request *hr, unsigned attempt, void *hook_data) {
    struct s_call *call = hook_data;
    (void)attempt;
    call->hr = hr;
    const struct tm_aws_client_options *o = &call->client->opts;
    if (!o->get_credentials) {
        tm_http_request_set_error(hr, "NoCredentials", "no credentials configured to sign AWS requests");
        return TM_ERR_AUTH;
    }
    call->in_prepare = true;
    call->creds_done = false;
    call->waiting = true;
    int rc = o->get_credentials(s_on_credentials, call, o->credentials_data);
    call->in_prepare = false;
    if (rc) {
        call->waiting = false;
        tm_http_request_set_error(hr, "NoCredentials", "the credential source failed");
        return rc < 0 ? rc : TM_ERR_AUTH;
    }
    if (call->creds_done)
        return call->sign_rc;
    return TM_HTTP_PREPARE_ASYNC;
}

/* --- Reading the answer --------------------------------------------------------------------------------- */

static bool s_body_parses(const struct tm_http_response *resp) {
    const char *ct = tm_http_response_header(resp, "Content-Type");
    if (!ct || !resp->body_len)
        return true;
    if (strstr(ct, "json")) {
        cJSON *j = cJSON_ParseWithLength(resp->body, resp->body_len);
        cJSON_Delete(j);
        return j != NULL;
    }
    if (strstr(ct, "xml") && resp->body_len <= (size_t)0x7fffffff) {
        xmlDoc *doc = xmlReadMemory(resp->body, (int)resp->body_len, NULL, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        xmlFreeDoc(doc);
        return doc != NULL;
    }
    return true;
}

static const char *s_request_id_header(const struct tm_http_response *resp) {
    const char *v = tm_http_response_header(resp, "x-amzn-RequestId");
    if (!v)
        v = tm_http_response_header(resp, "x-amz-request-id");
    return v;
}

static void s_classify(struct tm_http_verdict *v, const struct tm_http_response *resp, void *hook_data) {
    struct s_call *call = hook_data;
    long status = resp->status;
    if (status >= 200 && status < 300) {
        if (call->client->opts.validate_bodies && !s_body_parses(resp)) {
            v->outcome = TM_HTTP_RETRY;
            snprintf(v->code, sizeof(v->code), "MalformedResponse");
            snprintf(v->message, sizeof(v->message), "the %ld response's body does not parse", status);
            return;
        }
        v->outcome = TM_HTTP_SUCCESS;
        return;
    }
    struct tm_aws_error_input in = {
        .protocol = call->svc->protocol,
        .status = status,
        .body = resp->body,
        .body_len = resp->body_len,
        .error_type_header = tm_http_response_header(resp, "x-amzn-ErrorType"),
        .query_error_header = tm_http_response_header(resp, "x-amzn-query-error"),
        .request_id_header = s_request_id_header(resp),
    };
    struct tm_aws_error e;
    (void)tm_aws_error_parse(&e, &in); /* fills a code in every case */
    snprintf(v->code, sizeof(v->code), "%s", e.code);
    snprintf(v->message, sizeof(v->message), "%s", e.message);
    snprintf(call->request_id, sizeof(call->request_id), "%s", e.request_id);
    if (status == 429 || tm_aws_error_is_throttle(e.code)) {
        v->outcome = TM_HTTP_THROTTLED;
    } else if (tm_aws_error_is_transient(e.code) || status == 500 || status == 502 || status == 503 || status == 504) {
        v->outcome = TM_HTTP_RETRY;
    } else {
        v->outcome = TM_HTTP_FAIL;
        v->err = tm_aws_error_is_auth(e.code) ? TM_ERR_AUTH : status == 404 ? TM_ERR_NOT_FOUND : TM_ERR_SERVICE;
    }
}

static void s_done(const struct tm_http_response *r, void *user_data) {
    struct s_call *call = user_data;
    const char *rid = call->request_id[0] ? call->request_id : s_request_id_header(r);
    struct tm_aws_response a = {
        .err = r->err,
        .status = r->status,
        .body = r->body,
        .body_len = r->body_len,
        .code = r->code,
        .message = r->message,
        .request_id = rid ? rid : "",
        .attempts = r->attempts,
        .throttles = r->throttles,
        .service = call->svc->name,
        .operation = call->operation,
        .region = call->region,
        .http = r,
    };
    call->done(&a, call->user_data);
    if (call->waiting)
        call->orphaned = true; /* the credentials callback is still to come: it frees the call */
    else
        s_call_free(call);
}

int tm_aws_request_send(struct tm_aws_request *req, tm_aws_done_fn done, void *user_data, char *errmsg,
                        size_t errmsg_len) {
    if (!req)
        return TM_ERR_INVALID;
    int rc = TM_ERR_INVALID;
    struct s_call *call = NULL;
    struct tm_http_request *hr = NULL;
    struct s_built b;
    memset(&b, 0, sizeof(b));
    if (!done) {
        s_msg(errmsg, errmsg_len, "no done callback");
        goto done;
    }
    rc = s_build(&b, req, errmsg, errmsg_len);
    if (rc)
        goto done;
    rc = TM_ERR_NOMEM;
    call = calloc(1, sizeof(*call));
    if (!call)
        goto done;
    call->client = req->client;
    req->client->refs++;
    call->svc = req->svc;
    call->operation = tm_strdup(req->operation);
    call->region = tm_strdup(req->region);
    call->signing_region = tm_strdup(b.ep.signing_region);
    call->wire_path = tm_strdup(tm_buf_str(&b.path));
    call->wire_query = tm_strdup(tm_buf_str(&b.query));
    call->done = done;
    call->user_data = user_data;
    if (!call->operation || !call->region || !call->signing_region || !call->wire_path || !call->wire_query)
        goto done;
    const char *method = "POST";
    if (req->svc->protocol == TM_AWS_PROTO_REST_JSON || req->svc->protocol == TM_AWS_PROTO_REST_XML)
        method = req->method;
    hr = tm_http_request_new(method, tm_buf_str(&b.url));
    if (!hr)
        goto done;
    char key[256];
    snprintf(key, sizeof(key), "%s:%s:%s", req->svc->name, b.ep.signing_region, req->operation);
    rc = tm_http_request_set_key(hr, req->svc->name, key);
    if (!rc)
        rc = tm_http_request_set_header(hr, "Host", tm_buf_str(&b.host));
    switch (req->svc->protocol) {
        case TM_AWS_PROTO_QUERY:
        case TM_AWS_PROTO_EC2:
            if (!rc)
                rc = tm_http_request_set_header(hr, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
            break;
        case TM_AWS_PROTO_JSON: {
            char ct[64], target[256];
            snprintf(ct, sizeof(ct), "application/x-amz-json-%s", req->svc->json_version);
            snprintf(target, sizeof(target), "%s.%s", req->svc->target_prefix, req->operation);
            if (!rc)
                rc = tm_http_request_set_header(hr, "Content-Type", ct);
            if (!rc)
                rc = tm_http_request_set_header(hr, "X-Amz-Target", target);
            break;
        }
        case TM_AWS_PROTO_REST_JSON:
            if (!rc && req->json)
                rc = tm_http_request_set_header(hr, "Content-Type", "application/json");
            break;
        case TM_AWS_PROTO_REST_XML:
        default:
            break;
    }
    for (size_t i = 0; i < req->header_count && !rc; i++)
        rc = tm_http_request_set_header(hr, req->headers[i].name, req->headers[i].value);
    if (!rc && b.body.len)
        rc = tm_http_request_set_body(hr, b.body.data, b.body.len);
    if (rc) {
        s_msg(errmsg, errmsg_len, "could not build the request (%s)", tm_error_str(rc));
        goto done;
    }
    tm_http_request_set_hooks(hr, s_prepare, s_classify, call);
    if (req->max_attempts)
        tm_http_request_set_max_attempts(hr, req->max_attempts);
    if (req->priority)
        tm_http_request_set_priority(hr, req->priority);
    rc = tm_http_submit(req->client->opts.engine, hr, s_done, call);
    hr = NULL; /* consumed */
    if (rc) {
        s_msg(errmsg, errmsg_len, "could not queue the request (%s)", tm_error_str(rc));
        goto done;
    }
    call = NULL; /* owned by the engine's callbacks now */
done:
    tm_http_request_destroy(hr);
    s_call_free(call);
    s_built_clean_up(&b);
    tm_aws_request_destroy(req);
    return rc;
}

/* --- The credential chain's transport -------------------------------------------------------------------- */

struct s_transport_call {
    tm_aws_cred_http_done_fn done;
    void *user_data;
};

/* STS throttles with a 400 "Throttling": retried like the engine retries 429. */
static void s_transport_classify(struct tm_http_verdict *v, const struct tm_http_response *resp, void *hook_data) {
    (void)hook_data;
    if (resp->status == 400 && resp->body_len) {
        struct tm_aws_error_input in = {
            .protocol = TM_AWS_PROTO_QUERY, .status = 400, .body = resp->body, .body_len = resp->body_len};
        struct tm_aws_error e;
        if (tm_aws_error_parse(&e, &in) == TM_OK && tm_aws_error_is_throttle(e.code)) {
            v->outcome = TM_HTTP_THROTTLED;
            snprintf(v->code, sizeof(v->code), "%s", e.code);
            snprintf(v->message, sizeof(v->message), "%s", e.message);
            return;
        }
    }
    tm_http_classify_default(v, resp, NULL);
}

static void s_transport_done(const struct tm_http_response *r, void *user_data) {
    struct s_transport_call *tc = user_data;
    /* Any answer that arrived is the credential provider's to read, error statuses included. */
    bool answered = r->status > 0 && (r->err == TM_OK || r->err == TM_ERR_SERVICE);
    struct tm_aws_cred_http_response out = {
        .err = answered ? TM_OK : (r->err ? r->err : TM_ERR_NETWORK),
        .status = r->status,
        .body = r->body,
        .body_len = r->body_len,
        .message = r->message,
    };
    tc->done(&out, tc->user_data);
    free(tc);
}

/* The Action of a form body, decoded; "" when there is none. */
static int s_form_action(struct tm_buf *out, const char *body, size_t len) {
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *item_end = amp ? amp : end;
        if ((size_t)(item_end - p) >= 7 && memcmp(p, "Action=", 7) == 0)
            return tm_uri_decode(out, p + 7, (size_t)(item_end - p - 7), true);
        p = item_end + 1;
    }
    return TM_OK;
}

static int s_transport_send(struct tm_aws_cred_transport *base, const struct tm_aws_cred_http_request *req,
                            tm_aws_cred_http_done_fn done, void *user_data) {
    struct tm_aws_http_transport *t = (struct tm_aws_http_transport *)base;
    if (!req || !req->method || !req->url || !done)
        return TM_ERR_INVALID;
    const char *service = req->service ? req->service : "credentials";
    if (strcmp(service, "sts") == 0) {
        /* The chain's STS calls obey the read-only rule like every other AWS call. */
        struct tm_buf action;
        tm_buf_init(&action, 256);
        int rc = s_form_action(&action, req->body ? req->body : "", req->body ? req->body_len : 0);
        if (!rc)
            rc = tm_aws_readonly_check("sts", tm_buf_str(&action), NULL, 0);
        tm_buf_clean_up(&action);
        if (rc)
            return rc == TM_ERR_NOMEM ? rc : TM_ERR_READ_ONLY;
    }
    struct tm_http_request *hr = tm_http_request_new(req->method, req->url);
    struct s_transport_call *tc = calloc(1, sizeof(*tc));
    if (!hr || !tc) {
        tm_http_request_destroy(hr);
        free(tc);
        return TM_ERR_NOMEM;
    }
    tc->done = done;
    tc->user_data = user_data;
    char key[128];
    snprintf(key, sizeof(key), "%s:credentials", service);
    int rc = tm_http_request_set_key(hr, service, key);
    for (size_t i = 0; i < req->header_count && !rc; i++)
        rc = tm_http_request_set_header(hr, req->headers[i].name, req->headers[i].value);
    if (!rc && req->body_len)
        rc = tm_http_request_set_body(hr, req->body, req->body_len);
    if (rc) {
        tm_http_request_destroy(hr);
        free(tc);
        return rc;
    }
    tm_http_request_set_hooks(hr, NULL, s_transport_classify, NULL);
    if (req->timeout_ms > 0)
        tm_http_request_set_timeout_ms(hr, req->timeout_ms);
    if (req->max_attempts)
        tm_http_request_set_max_attempts(hr, req->max_attempts);
    rc = tm_http_submit(t->engine, hr, s_transport_done, tc);
    if (rc)
        free(tc);
    return rc;
}

void tm_aws_http_transport_init(struct tm_aws_http_transport *transport, struct tm_http_engine *engine) {
    memset(transport, 0, sizeof(*transport));
    transport->base.send = s_transport_send;
    transport->engine = engine;
}
