/* The credentials provider: carries out a plan through a transport and caches the result.
 *
 * A fetch is a short sequence of requests (the base source's, then one AssumeRole per hop) driven from
 * the transport's completion callbacks on the loop's thread. Every caller that asks while a fetch is
 * running waits for that fetch. */
#include "providers/auth/credentials.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* Token and answer caps: a web identity token or an IMDS answer larger than this is not one. */
#define S_MAX_TOKEN_BYTES (64 * 1024)
#define S_IMDS_TOKEN_TTL_S "21600"
#define S_IMDS_TIMEOUT_MS 1000
#define S_IMDS_ATTEMPTS 2
#define S_CONTAINER_TIMEOUT_MS 2000
#define S_CONTAINER_ATTEMPTS 3
#define S_FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* --------------------------------------------------------------------------------------------------- */
/* Credentials */

void tm_aws_credentials_destroy(struct tm_aws_credentials *creds) {
    if (!creds)
        return;
    free(creds->access_key_id);
    tm_secret_free(creds->secret_access_key);
    tm_secret_free(creds->session_token);
    free(creds->source);
    OPENSSL_cleanse(creds, sizeof(*creds));
    free(creds);
}

struct tm_aws_credentials *tm_aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                                  const char *session_token, int64_t expiration, const char *source) {
    if (!access_key_id || !secret_access_key)
        return NULL;
    struct tm_aws_credentials *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->access_key_id = tm_strdup(access_key_id);
    c->secret_access_key = tm_strdup(secret_access_key);
    c->session_token = tm_strdup(session_token);
    c->source = tm_strdup(source);
    c->expiration = expiration;
    if (!c->access_key_id || !c->secret_access_key || (session_token && !c->session_token) || (source && !c->source)) {
        tm_aws_credentials_destroy(c);
        return NULL;
    }
    return c;
}

struct tm_aws_credentials *tm_aws_credentials_copy(const struct tm_aws_credentials *creds) {
    if (!creds)
        return NULL;
    return tm_aws_credentials_new(creds->access_key_id, creds->secret_access_key, creds->session_token,
                                  creds->expiration, creds->source);
}

bool tm_aws_credentials_fresh(const struct tm_aws_credentials *creds, int64_t now) {
    return creds && (creds->expiration == 0 || now < creds->expiration - TM_AWS_CRED_REFRESH_S);
}

/* --------------------------------------------------------------------------------------------------- */
/* Plan copy */

static int s_dup(char **dst, const char *src) {
    *dst = NULL;
    if (!src)
        return TM_OK;
    *dst = tm_strdup(src);
    return *dst ? TM_OK : TM_ERR_NOMEM;
}

static int s_plan_copy(struct tm_aws_cred_plan *dst, const struct tm_aws_cred_plan *src) {
    memset(dst, 0, sizeof(*dst));
    dst->kind = src->kind;
    dst->imds_last_resort = src->imds_last_resort;
    int rc = s_dup(&dst->profile, src->profile);
    if (!rc)
        rc = s_dup(&dst->region, src->region);
    if (!rc && src->base && !(dst->base = tm_aws_credentials_copy(src->base)))
        rc = TM_ERR_NOMEM;
    if (!rc)
        rc = s_dup(&dst->web_identity_token_file, src->web_identity_token_file);
    if (!rc)
        rc = s_dup(&dst->web_identity_role_arn, src->web_identity_role_arn);
    if (!rc)
        rc = s_dup(&dst->web_identity_session_name, src->web_identity_session_name);
    if (!rc)
        rc = s_dup(&dst->container_url, src->container_url);
    if (!rc)
        rc = s_dup(&dst->container_token, src->container_token);
    if (!rc)
        rc = s_dup(&dst->container_token_file, src->container_token_file);
    if (!rc)
        rc = s_dup(&dst->imds_endpoint, src->imds_endpoint);
    if (!rc)
        rc = s_dup(&dst->sts_endpoint, src->sts_endpoint);
    if (!rc)
        rc = s_dup(&dst->sts_region, src->sts_region);
    if (!rc)
        rc = s_dup(&dst->source, src->source);
    if (!rc && src->hop_count) {
        dst->hops = calloc(src->hop_count, sizeof(*dst->hops));
        if (!dst->hops)
            rc = TM_ERR_NOMEM;
        for (size_t i = 0; !rc && i < src->hop_count; i++) {
            dst->hop_count = i + 1;
            dst->hops[i].duration_s = src->hops[i].duration_s;
            rc = s_dup(&dst->hops[i].profile, src->hops[i].profile);
            if (!rc)
                rc = s_dup(&dst->hops[i].role_arn, src->hops[i].role_arn);
            if (!rc)
                rc = s_dup(&dst->hops[i].external_id, src->hops[i].external_id);
            if (!rc)
                rc = s_dup(&dst->hops[i].session_name, src->hops[i].session_name);
        }
    }
    if (rc)
        tm_aws_cred_plan_clean_up(dst);
    return rc;
}

/* --------------------------------------------------------------------------------------------------- */
/* The provider */

enum s_step {
    S_IDLE = 0,
    S_WEB_IDENTITY,
    S_CONTAINER,
    S_IMDS_TOKEN,
    S_IMDS_ROLE,
    S_IMDS_CREDS,
    S_ASSUME_ROLE,
};

struct s_waiter {
    tm_aws_credentials_fn cb;
    void *user_data;
    struct s_waiter *next;
};

struct tm_aws_credentials_provider {
    struct tm_aws_cred_plan plan;
    struct tm_aws_cred_transport *transport;
    struct tm_log *log;
    struct tm_aws_credentials *current;
    /* The fetch in progress. */
    enum s_step step;
    bool in_flight; /* a transport request is outstanding */
    bool destroyed; /* destroy() was called; free when the request or the notification ends */
    bool notifying; /* waiters are being called */
    int64_t now;    /* the time the fetch started: signing time and session names */
    size_t hop;     /* the next AssumeRole hop */
    struct tm_aws_credentials *working;
    char *imds_token; /* a secret */
    char *imds_role;
    struct s_waiter *waiters;
    char errmsg[512];
};

static void s_free(struct tm_aws_credentials_provider *p) {
    tm_aws_cred_plan_clean_up(&p->plan);
    tm_aws_credentials_destroy(p->current);
    tm_aws_credentials_destroy(p->working);
    tm_secret_free(p->imds_token);
    free(p->imds_role);
    OPENSSL_cleanse(p, sizeof(*p));
    free(p);
}

int tm_aws_credentials_provider_new(struct tm_aws_credentials_provider **out, const struct tm_aws_cred_plan *plan,
                                    struct tm_aws_cred_transport *transport, struct tm_log *log) {
    *out = NULL;
    if (!plan || !transport || !transport->send)
        return TM_ERR_INVALID;
    struct tm_aws_credentials_provider *p = calloc(1, sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    int rc = s_plan_copy(&p->plan, plan);
    if (rc) {
        free(p);
        return rc;
    }
    p->transport = transport;
    p->log = log;
    *out = p;
    return TM_OK;
}

static void s_cancel_waiters(struct tm_aws_credentials_provider *p) {
    struct s_waiter *w = p->waiters;
    p->waiters = NULL;
    while (w) {
        struct s_waiter *next = w->next;
        w->cb(TM_ERR_CANCELLED, NULL, "credentials provider destroyed", w->user_data);
        free(w);
        w = next;
    }
}

void tm_aws_credentials_provider_destroy(struct tm_aws_credentials_provider *p) {
    if (!p || p->destroyed)
        return;
    p->destroyed = true;
    if (!p->notifying)
        s_cancel_waiters(p);
    if (!p->in_flight && !p->notifying)
        s_free(p);
}

const struct tm_aws_credentials *tm_aws_credentials_provider_peek(const struct tm_aws_credentials_provider *p,
                                                                  int64_t now) {
    return p && !p->destroyed && tm_aws_credentials_fresh(p->current, now) ? p->current : NULL;
}

static void s_fail(struct tm_aws_credentials_provider *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_fail(struct tm_aws_credentials_provider *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->errmsg, sizeof(p->errmsg), fmt, ap);
    va_end(ap);
}

static void s_start(struct tm_aws_credentials_provider *p, int64_t now);

/* Ends a fetch: installs the credentials or reports the error, then tells every waiter. */
static void s_finish(struct tm_aws_credentials_provider *p, int rc) {
    p->step = S_IDLE;
    tm_secret_free(p->imds_token);
    p->imds_token = NULL;
    free(p->imds_role);
    p->imds_role = NULL;
    if (!rc && p->working) {
        free(p->working->source);
        p->working->source = tm_strdup(p->plan.source);
        if (!p->working->source)
            rc = TM_ERR_NOMEM;
    }
    if (!rc && p->working && p->working->expiration && p->now >= p->working->expiration) {
        char when[17] = "";
        if (tm_sigv4_format_time(when, p->working->expiration) != TM_OK)
            when[0] = '\0';
        s_fail(p, "the credentials from %s expired at %s", p->plan.source, when);
        rc = TM_ERR_AUTH;
    }
    const struct tm_aws_credentials *deliver = NULL;
    if (!rc) {
        tm_aws_credentials_destroy(p->current);
        p->current = p->working;
        p->working = NULL;
        deliver = p->current;
        tm_log_debug(p->log, "credentials: using %s%s", p->current->source,
                     p->current->expiration ? " (temporary)" : "");
    } else {
        tm_aws_credentials_destroy(p->working);
        p->working = NULL;
        if (!p->errmsg[0])
            s_fail(p, "fetching credentials from %s failed: %s", p->plan.source, tm_error_str(rc));
        if (p->current && p->current->expiration && p->now < p->current->expiration) {
            /* A failed refresh is not fatal while the old credentials still work. */
            tm_log_warn(p->log, "credentials: refresh failed, using the current ones until they expire: %s", p->errmsg);
            deliver = p->current;
        }
    }
    p->notifying = true;
    struct s_waiter *w = p->waiters;
    p->waiters = NULL;
    while (w) {
        struct s_waiter *next = w->next;
        if (deliver)
            w->cb(TM_OK, deliver, NULL, w->user_data);
        else
            w->cb(rc, NULL, p->errmsg, w->user_data);
        free(w);
        w = next;
    }
    p->notifying = false;
    if (p->destroyed) {
        s_cancel_waiters(p);
        s_free(p);
        return;
    }
    /* A waiter called back with an error may have asked again: that is a new fetch. */
    if (p->waiters)
        s_start(p, p->now);
}

static void s_on_response(const struct tm_aws_cred_http_response *resp, void *user_data);

/* Host of a URL, as the Host header carries it (with the port when one is given). */
static int s_host(struct tm_buf *out, const char *url) {
    const char *p = strstr(url, "://");
    if (!p)
        return TM_ERR_INVALID;
    p += 3;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    if (n == 0)
        return TM_ERR_INVALID;
    return tm_buf_append(out, p, n);
}

static int s_send(struct tm_aws_credentials_provider *p, enum s_step step, const struct tm_aws_cred_http_request *req) {
    p->step = step;
    int rc = p->transport->send(p->transport, req, s_on_response, p);
    if (!rc)
        p->in_flight = true;
    return rc;
}

/* Reads a token file (web identity, container authorization), trimming the line break editors add. */
static int s_read_token(struct tm_aws_credentials_provider *p, struct tm_buf *out, const char *path, const char *what) {
    char err[512];
    int rc = tm_file_read(out, path, S_MAX_TOKEN_BYTES, err, sizeof(err));
    if (rc) {
        s_fail(p, "cannot read the %s: %s", what, err);
        return rc;
    }
    while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r' ||
                            out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
        out->data[--out->len] = '\0';
    if (out->len == 0) {
        s_fail(p, "the %s %s is empty", what, path);
        return TM_ERR_AUTH;
    }
    if (memchr(out->data, '\0', out->len) || strpbrk(out->data, "\r\n")) {
        s_fail(p, "the %s %s holds more than one line", what, path);
        return TM_ERR_AUTH;
    }
    return TM_OK;
}

static void s_session_name(char out[64], int64_t now) {
    snprintf(out, 64, "tmscan-%lld", (long long)now);
}

static int s_start_web_identity(struct tm_aws_credentials_provider *p) {
    struct tm_buf token, body, url;
    tm_buf_init(&token, S_MAX_TOKEN_BYTES);
    tm_buf_init(&body, 0);
    tm_buf_init(&url, 0);
    char session[64];
    s_session_name(session, p->now);
    int rc = s_read_token(p, &token, p->plan.web_identity_token_file, "web identity token file");
    if (!rc)
        rc = tm_aws_sts_web_identity_body(
            &body, p->plan.web_identity_role_arn,
            p->plan.web_identity_session_name ? p->plan.web_identity_session_name : session, token.data);
    if (!rc)
        rc = tm_buf_appendf(&url, "%s/", p->plan.sts_endpoint);
    if (!rc) {
        /* AssumeRoleWithWebIdentity is not signed: the token is the proof. */
        struct tm_sigv4_header h[] = {{"Content-Type", S_FORM_TYPE}, {"Accept", "text/xml"}};
        struct tm_aws_cred_http_request req = {"POST", url.data, h, 2, body.data, body.len, "sts", 0, 0};
        rc = s_send(p, S_WEB_IDENTITY, &req);
        if (rc)
            s_fail(p, "cannot send STS AssumeRoleWithWebIdentity: %s", tm_error_str(rc));
    }
    tm_buf_clean_up_secret(&token);
    tm_buf_clean_up_secret(&body);
    tm_buf_clean_up(&url);
    return rc;
}

static int s_start_container(struct tm_aws_credentials_provider *p) {
    struct tm_buf token;
    tm_buf_init(&token, S_MAX_TOKEN_BYTES);
    int rc = TM_OK;
    const char *auth = p->plan.container_token;
    if (p->plan.container_token_file) {
        rc = s_read_token(p, &token, p->plan.container_token_file, "container authorization token file");
        auth = token.data;
    }
    if (!rc) {
        struct tm_sigv4_header h[] = {{"Accept", "application/json"}, {"Authorization", auth}};
        struct tm_aws_cred_http_request req = {"GET",
                                               p->plan.container_url,
                                               h,
                                               auth ? 2 : 1,
                                               NULL,
                                               0,
                                               "ecs",
                                               S_CONTAINER_TIMEOUT_MS,
                                               S_CONTAINER_ATTEMPTS};
        rc = s_send(p, S_CONTAINER, &req);
        if (rc)
            s_fail(p, "cannot send the container credentials request: %s", tm_error_str(rc));
    }
    tm_buf_clean_up_secret(&token);
    return rc;
}

static int s_imds_request(struct tm_aws_credentials_provider *p, enum s_step step, const char *method,
                          const char *path) {
    struct tm_buf url;
    tm_buf_init(&url, 0);
    int rc = tm_buf_appendf(&url, "%s%s", p->plan.imds_endpoint, path);
    if (!rc) {
        struct tm_sigv4_header h[1];
        if (step == S_IMDS_TOKEN)
            h[0] = (struct tm_sigv4_header){"X-aws-ec2-metadata-token-ttl-seconds", S_IMDS_TOKEN_TTL_S};
        else
            h[0] = (struct tm_sigv4_header){"X-aws-ec2-metadata-token", p->imds_token};
        struct tm_aws_cred_http_request req = {method,         url.data, h, 1, NULL, 0, "imds", S_IMDS_TIMEOUT_MS,
                                               S_IMDS_ATTEMPTS};
        rc = s_send(p, step, &req);
        if (rc)
            s_fail(p, "cannot send the instance metadata request: %s", tm_error_str(rc));
    }
    tm_buf_clean_up(&url);
    return rc;
}

/* Signs and sends AssumeRole for the next hop with the credentials obtained so far, or finishes. */
static void s_next_hop(struct tm_aws_credentials_provider *p) {
    if (p->hop >= p->plan.hop_count) {
        s_finish(p, TM_OK);
        return;
    }
    const struct tm_aws_role_hop *hop = &p->plan.hops[p->hop];
    struct tm_buf body, url, host;
    tm_buf_init(&body, 0);
    tm_buf_init(&url, 0);
    tm_buf_init(&host, 0);
    struct tm_sigv4_signed sig;
    memset(&sig, 0, sizeof(sig));
    char session[64];
    s_session_name(session, p->now);
    int rc = tm_aws_sts_assume_role_body(&body, hop, session);
    if (!rc)
        rc = tm_buf_appendf(&url, "%s/", p->plan.sts_endpoint);
    if (!rc)
        rc = s_host(&host, p->plan.sts_endpoint);
    struct tm_sigv4_header h[2 + TM_SIGV4_MAX_OUT_HEADERS] = {{"Host", host.data}, {"Content-Type", S_FORM_TYPE}};
    if (!rc) {
        struct tm_sigv4_request sreq = {"POST", "/", NULL, h, 2, body.data, body.len};
        struct tm_sigv4_params sp = {.access_key_id = p->working->access_key_id,
                                     .secret_access_key = p->working->secret_access_key,
                                     .session_token = p->working->session_token,
                                     .region = p->plan.sts_region,
                                     .service = "sts",
                                     .time = p->now};
        rc = tm_sigv4_sign(&sig, &sreq, &sp);
    }
    if (!rc) {
        size_t n = 2;
        for (size_t i = 0; i < sig.header_count; i++)
            h[n++] = (struct tm_sigv4_header){sig.headers[i].name, sig.headers[i].value};
        struct tm_aws_cred_http_request req = {"POST", url.data, h, n, body.data, body.len, "sts", 0, 0};
        rc = s_send(p, S_ASSUME_ROLE, &req);
    }
    if (rc)
        s_fail(p, "cannot send STS AssumeRole for %s (profile %s): %s", hop->role_arn, hop->profile, tm_error_str(rc));
    tm_sigv4_signed_clean_up(&sig);
    tm_buf_clean_up(&body);
    tm_buf_clean_up(&url);
    tm_buf_clean_up(&host);
    if (rc)
        s_finish(p, rc);
}

static void s_start(struct tm_aws_credentials_provider *p, int64_t now) {
    p->now = now;
    p->hop = 0;
    p->errmsg[0] = '\0';
    int rc = TM_OK;
    switch (p->plan.kind) {
        case TM_AWS_SOURCE_STATIC:
            p->working = tm_aws_credentials_copy(p->plan.base);
            if (!p->working) {
                rc = p->plan.base ? TM_ERR_NOMEM : TM_ERR_STATE;
                break;
            }
            s_next_hop(p);
            return;
        case TM_AWS_SOURCE_WEB_IDENTITY:
            rc = s_start_web_identity(p);
            break;
        case TM_AWS_SOURCE_CONTAINER:
            rc = s_start_container(p);
            break;
        case TM_AWS_SOURCE_IMDS:
            rc = s_imds_request(p, S_IMDS_TOKEN, "PUT", "/latest/api/token");
            break;
        default:
            rc = TM_ERR_STATE;
            break;
    }
    if (rc)
        s_finish(p, rc);
}

int tm_aws_credentials_provider_get(struct tm_aws_credentials_provider *p, int64_t now, tm_aws_credentials_fn cb,
                                    void *user_data) {
    if (!p || !cb || p->destroyed)
        return TM_ERR_STATE;
    if (tm_aws_credentials_fresh(p->current, now)) {
        cb(TM_OK, p->current, NULL, user_data);
        return TM_OK;
    }
    struct s_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return TM_ERR_NOMEM;
    w->cb = cb;
    w->user_data = user_data;
    struct s_waiter **tail = &p->waiters;
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
    if (p->step == S_IDLE && !p->in_flight && !p->notifying)
        s_start(p, now);
    return TM_OK;
}

/* A one-line, printable excerpt of an error body for messages (error bodies carry no secrets; success
 * bodies are never quoted). */
static void s_excerpt(char *out, size_t cap, const char *body, size_t len) {
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < cap && j < 160; i++) {
        unsigned char c = (unsigned char)body[i];
        out[j++] = c >= 0x20 && c < 0x7f ? (char)c : ' ';
    }
    out[j] = '\0';
}

static int s_on_sts(struct tm_aws_credentials_provider *p, const struct tm_aws_cred_http_response *resp,
                    const char *result_element, const char *what) {
    char err[400] = "";
    struct tm_aws_credentials *c = NULL;
    int rc = tm_aws_sts_parse_credentials(&c, resp->body, resp->body_len, result_element, NULL, err, sizeof(err));
    if (!rc && resp->status != 200) {
        tm_aws_credentials_destroy(c);
        rc = TM_ERR_SERVICE;
        snprintf(err, sizeof(err), "HTTP %ld", resp->status);
    }
    if (rc) {
        s_fail(p, "%s failed (HTTP %ld): %s", what, resp->status, err);
        return rc == TM_ERR_PARSE && resp->status != 200 ? TM_ERR_SERVICE : rc;
    }
    tm_aws_credentials_destroy(p->working);
    p->working = c;
    return TM_OK;
}

static void s_on_response(const struct tm_aws_cred_http_response *resp, void *user_data) {
    struct tm_aws_credentials_provider *p = user_data;
    p->in_flight = false;
    if (p->destroyed) {
        /* Nobody waits any more: drop the answer. */
        s_free(p);
        return;
    }
    enum s_step step = p->step;
    int rc = TM_OK;
    char what[300];
    switch (step) {
        case S_WEB_IDENTITY:
            snprintf(what, sizeof(what), "STS AssumeRoleWithWebIdentity for %s at %s", p->plan.web_identity_role_arn,
                     p->plan.sts_endpoint);
            break;
        case S_ASSUME_ROLE:
            snprintf(what, sizeof(what), "STS AssumeRole for %s (profile %s) at %s", p->plan.hops[p->hop].role_arn,
                     p->plan.hops[p->hop].profile, p->plan.sts_endpoint);
            break;
        case S_CONTAINER:
            snprintf(what, sizeof(what), "the container credentials endpoint %s", p->plan.container_url);
            break;
        case S_IMDS_TOKEN:
        case S_IMDS_ROLE:
        case S_IMDS_CREDS:
            snprintf(what, sizeof(what), "instance metadata at %s", p->plan.imds_endpoint);
            break;
        default:
            s_fail(p, "credentials: unexpected answer");
            s_finish(p, TM_ERR_STATE);
            return;
    }
    if (resp->err) {
        bool nothing = p->plan.imds_last_resort && step == S_IMDS_TOKEN;
        /* Off EC2 the last source of the chain simply is not there: say what the AWS CLI says. */
        s_fail(p, "%s%s: %s%s%s",
               nothing ? "Unable to locate credentials: none in the environment, the shared files or a container, "
                         "and "
                       : "",
               what, tm_error_str(resp->err), resp->message && *resp->message ? ": " : "",
               resp->message ? resp->message : "");
        s_finish(p, nothing ? TM_ERR_AUTH : resp->err);
        return;
    }
    char excerpt[200];
    switch (step) {
        case S_WEB_IDENTITY:
            rc = s_on_sts(p, resp, "AssumeRoleWithWebIdentityResult", what);
            if (!rc)
                s_next_hop(p);
            break;
        case S_ASSUME_ROLE:
            rc = s_on_sts(p, resp, "AssumeRoleResult", what);
            if (!rc) {
                p->hop++;
                s_next_hop(p);
            }
            break;
        case S_CONTAINER: {
            if (resp->status != 200) {
                s_excerpt(excerpt, sizeof(excerpt), resp->body, resp->body_len);
                s_fail(p, "%s answered HTTP %ld: %s", what, resp->status, excerpt);
                rc = resp->status == 401 || resp->status == 403 ? TM_ERR_AUTH : TM_ERR_SERVICE;
                break;
            }
            char err[300] = "";
            struct tm_aws_credentials *c = NULL;
            rc = tm_aws_parse_json_credentials(&c, resp->body, resp->body_len, NULL, err, sizeof(err));
            if (rc) {
                s_fail(p, "%s: %s", what, err);
                break;
            }
            tm_aws_credentials_destroy(p->working);
            p->working = c;
            s_next_hop(p);
            break;
        }
        case S_IMDS_TOKEN:
            if (resp->status != 200 || resp->body_len == 0 || resp->body_len > 4096 || strpbrk(resp->body, "\r\n")) {
                s_fail(p, "%s: the IMDSv2 token request (PUT /latest/api/token) answered HTTP %ld%s", what,
                       resp->status,
                       resp->status == 403   ? " (IMDS may be disabled on this instance)"
                       : resp->status == 200 ? " with a malformed token"
                                             : "");
                rc = TM_ERR_AUTH;
                break;
            }
            if (!(p->imds_token = tm_strndup(resp->body, resp->body_len))) {
                rc = TM_ERR_NOMEM;
                break;
            }
            rc = s_imds_request(p, S_IMDS_ROLE, "GET", "/latest/meta-data/iam/security-credentials/");
            break;
        case S_IMDS_ROLE: {
            if (resp->status == 404) {
                s_fail(p, "%s: no IAM role is attached to this instance", what);
                rc = TM_ERR_AUTH;
                break;
            }
            size_t n = strcspn(resp->body, "\r\n");
            if (resp->status != 200 || n == 0 || n > 128 || memchr(resp->body, '/', n)) {
                s_fail(p, "%s: listing the instance's role answered HTTP %ld%s", what, resp->status,
                       resp->status == 200 ? " with no valid role name" : "");
                rc = TM_ERR_AUTH;
                break;
            }
            struct tm_buf path;
            tm_buf_init(&path, 0);
            rc = tm_buf_append_str(&path, "/latest/meta-data/iam/security-credentials/");
            if (!rc)
                rc = tm_uri_encode(&path, resp->body, n, false);
            if (!rc && !(p->imds_role = tm_strndup(resp->body, n)))
                rc = TM_ERR_NOMEM;
            if (!rc)
                rc = s_imds_request(p, S_IMDS_CREDS, "GET", path.data);
            tm_buf_clean_up(&path);
            break;
        }
        case S_IMDS_CREDS: {
            if (resp->status != 200) {
                s_fail(p, "%s: the credentials of role %s answered HTTP %ld", what, p->imds_role, resp->status);
                rc = TM_ERR_AUTH;
                break;
            }
            char err[300] = "";
            struct tm_aws_credentials *c = NULL;
            rc = tm_aws_parse_json_credentials(&c, resp->body, resp->body_len, NULL, err, sizeof(err));
            if (rc) {
                s_fail(p, "%s: role %s: %s", what, p->imds_role, err);
                break;
            }
            tm_aws_credentials_destroy(p->working);
            p->working = c;
            s_next_hop(p);
            break;
        }
        default:
            rc = TM_ERR_STATE;
            break;
    }
    if (rc)
        s_finish(p, rc);
}
