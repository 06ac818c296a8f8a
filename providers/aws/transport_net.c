#include "providers/aws/transport_net.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"
#include "providers/aws/limits.h"
#include "providers/aws/request.h"

struct tm__aws_net_transport {
    struct tm_aws_transport base; /* first: the scan calls through it */
    struct tm_http_engine *engine;
    /* The credential chain's own engine: a call waiting for credentials holds one of the scan's slots, so
     * the requests that fetch them (STS, instance metadata) must not need one of those slots too. */
    struct tm_http_engine *cred_engine;
    struct tm_aws_http_transport cred_transport;
    struct tm_aws_credentials_provider *creds;
    struct tm_aws_client *client;
    struct tm_log *log;
    uv_idle_t idle;     /* takes the stack down outside the engine's callbacks */
    bool closing;       /* close() ran */
    bool handle_closed; /* the idle handle's close callback ran */
    bool free_on_close; /* destroy() ran before the handle closed */
    bool published_rates;
    struct tm__aws_rate *rates;
    size_t rate_count;
    char **seeded; /* regions whose rates are set */
    size_t seeded_count;
};

struct s_pending {
    tm_aws_transport_done_fn done;
    void *user_data;
};

const char *tm__aws_net_error_code(int err) {
    switch (err) {
        case TM_ERR_NETWORK:
            return "NetworkError";
        case TM_ERR_TIMEOUT:
            return "Timeout";
        case TM_ERR_TOO_BIG:
            return "ResponseTooLarge";
        case TM_ERR_AUTH:
            return "CredentialsUnavailable";
        case TM_ERR_CANCELLED:
            return "Cancelled";
        case TM_ERR_READ_ONLY:
            return "ReadOnlyRefused";
        case TM_ERR_INVALID:
            return "InvalidRequest";
        case TM_ERR_NOMEM:
            return "OutOfMemory";
        default:
            return "ClientError";
    }
}

static void s_on_done(const struct tm_aws_response *resp, void *user_data) {
    struct s_pending *p = user_data;
    struct tm_aws_header *headers = NULL;
    size_t n = resp->http ? resp->http->header_count : 0;
    if (n && (headers = calloc(n, sizeof(*headers))) != NULL) {
        for (size_t i = 0; i < n; i++)
            headers[i] = (struct tm_aws_header){resp->http->headers[i].name, resp->http->headers[i].value};
    }
    struct tm_aws_transport_response out = {
        .status = (int)resp->status,
        .body = resp->body,
        .body_len = resp->body_len,
        .attempts = resp->attempts ? (int)resp->attempts : 1,
        .headers = headers,
        .header_count = headers ? n : 0,
    };
    if (resp->err != TM_OK) {
        out.code = resp->code && *resp->code ? resp->code : tm__aws_net_error_code(resp->err);
        out.message = resp->message && *resp->message ? resp->message : tm_error_str(resp->err);
    }
    p->done(p->user_data, &out);
    free(headers);
    free(p);
}

/* The JSON body of a json-protocol call: its parameters as top-level members. */
static int s_json_body(struct tm_buf *out, const struct tm_aws_wire_call *call) {
    cJSON *body = cJSON_CreateObject();
    int rc = body ? TM_OK : TM_ERR_NOMEM;
    for (size_t i = 0; i < call->param_count && !rc; i++) {
        const struct tm_aws_param *p = &call->params[i];
        cJSON *v = p->raw ? cJSON_Parse(p->value) : cJSON_CreateString(p->value);
        if (!v)
            rc = p->raw ? TM_ERR_INVALID : TM_ERR_NOMEM;
        else if (!cJSON_AddItemToObject(body, p->name, v)) {
            cJSON_Delete(v);
            rc = TM_ERR_NOMEM;
        }
    }
    char *text = rc ? NULL : cJSON_PrintUnformatted(body);
    if (!rc && !text)
        rc = TM_ERR_NOMEM;
    if (!rc)
        rc = tm_buf_append_str(out, text);
    free(text);
    cJSON_Delete(body);
    return rc;
}

/* S3 calls name their bucket as the first path segment (path-style, as mockcloud fixtures write them);
 * the request layer wants the bucket apart, to address it virtual-host style on AWS. */
static int s_s3_bucket(struct tm_aws_request *r, const char *method, const char *path) {
    const char *seg = path[0] == '/' ? path + 1 : path;
    size_t n = strcspn(seg, "/");
    if (n == 0)
        return tm_aws_request_set_rest(r, method, path);
    char bucket[256];
    if (n >= sizeof(bucket))
        return TM_ERR_INVALID;
    memcpy(bucket, seg, n);
    bucket[n] = '\0';
    int rc = tm_aws_request_set_bucket(r, bucket);
    if (!rc)
        rc = tm_aws_request_set_rest(r, method, seg[n] ? seg + n : "/");
    return rc;
}

static int s_build(struct tm_aws_request *r, const struct tm_aws_wire_call *call) {
    int rc = TM_OK;
    if (call->rest) {
        rc = strcmp(call->service, "s3") == 0 ? s_s3_bucket(r, call->method, call->path)
                                              : tm_aws_request_set_rest(r, call->method, call->path);
        if (!rc && strcmp(call->service, "s3control") == 0 && call->account) {
            /* botocore: hostPrefix "{AccountId}." with AccountId also sent as x-amz-account-id. */
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "%s.", call->account);
            if (!(rc = tm_aws_request_set_host_prefix(r, prefix)))
                rc = tm_aws_request_add_header(r, "x-amz-account-id", call->account);
        }
        for (size_t i = 0; i < call->param_count && !rc; i++)
            rc = tm_aws_request_add_param(r, call->params[i].name, call->params[i].value);
    } else if (call->json) {
        struct tm_buf body;
        tm_buf_init(&body, 0);
        if (!(rc = s_json_body(&body, call)))
            rc = tm_aws_request_set_json(r, tm_buf_str(&body));
        tm_buf_clean_up(&body);
    } else {
        for (size_t i = 0; i < call->param_count && !rc; i++)
            rc = tm_aws_request_add_param(r, call->params[i].name, call->params[i].value);
    }
    return rc;
}

/* Seeds a region's published rates before its first call: the keys exist from then on, already paced. */
static int s_seed_region(struct tm__aws_net_transport *t, const char *region) {
    for (size_t i = 0; i < t->seeded_count; i++)
        if (strcmp(t->seeded[i], region) == 0)
            return TM_OK;
    char **n = realloc(t->seeded, (t->seeded_count + 1) * sizeof(*n));
    if (!n)
        return TM_ERR_NOMEM;
    t->seeded = n;
    if (!(t->seeded[t->seeded_count] = tm_strdup(region)))
        return TM_ERR_NOMEM;
    t->seeded_count++;
    int rc = t->published_rates ? tm__aws_limits_seed(t->engine, region) : TM_OK;
    if (!rc)
        rc = tm__aws_rates_apply(t->engine, t->rates, t->rate_count, region);
    return rc;
}

static int s_engine_priority(enum tm_aws_priority priority) {
    switch (priority) {
        case TM_AWS_PRIORITY_NEXT_PAGE:
            return TM_HTTP_PRIORITY_HIGHEST;
        case TM_AWS_PRIORITY_LISTING:
            return TM_HTTP_PRIORITY_HIGH;
        case TM_AWS_PRIORITY_RESOURCE:
        default:
            return TM_HTTP_PRIORITY_NORMAL;
    }
}

static int s_send(struct tm_aws_transport *base, const struct tm_aws_wire_call *call, tm_aws_transport_done_fn done,
                  void *user_data) {
    struct tm__aws_net_transport *t = (struct tm__aws_net_transport *)base;
    if (t->closing)
        return TM_ERR_STATE;
    char err[256] = "";
    struct tm_aws_request *r = NULL;
    int rc = (t->published_rates || t->rate_count) && call->region ? s_seed_region(t, call->region) : TM_OK;
    if (rc) {
        tm_log_debug(t->log, "aws: %s %s not sent: rates for %s: %s", call->service, call->operation, call->region,
                     tm_error_str(rc));
        return rc;
    }
    rc = tm_aws_request_new(&r, t->client, call->service, call->operation, call->region, err, sizeof(err));
    if (rc) {
        tm_log_debug(t->log, "aws: %s %s not sent: %s", call->service, call->operation, err);
        return rc;
    }
    if ((rc = s_build(r, call))) {
        tm_log_debug(t->log, "aws: %s %s not sent: %s", call->service, call->operation, tm_error_str(rc));
        tm_aws_request_destroy(r);
        return rc;
    }
    struct s_pending *p = malloc(sizeof(*p));
    if (!p) {
        tm_aws_request_destroy(r);
        return TM_ERR_NOMEM;
    }
    p->done = done;
    p->user_data = user_data;
    tm_aws_request_set_priority(r, s_engine_priority(call->priority));
    rc = tm_aws_request_send(r, s_on_done, p, err, sizeof(err));
    if (rc) {
        tm_log_debug(t->log, "aws: %s %s not sent: %s", call->service, call->operation, err);
        free(p);
    }
    return rc;
}

static void s_on_handle_closed(uv_handle_t *h) {
    struct tm__aws_net_transport *t = h->data;
    t->handle_closed = true;
    if (t->free_on_close)
        free(t);
}

/* The client's requests have all completed; the engine cancels anything left and closes its handles. */
static void s_release(struct tm__aws_net_transport *t) {
    tm_aws_client_destroy(t->client);
    t->client = NULL;
    tm_aws_credentials_provider_destroy(t->creds);
    t->creds = NULL;
    tm_http_engine_destroy(t->engine);
    t->engine = NULL;
    tm_http_engine_destroy(t->cred_engine);
    t->cred_engine = NULL;
}

static void s_on_idle(uv_idle_t *idle) {
    struct tm__aws_net_transport *t = idle->data;
    uv_idle_stop(idle);
    s_release(t);
    uv_close((uv_handle_t *)idle, s_on_handle_closed);
}

static void s_close(struct tm_aws_transport *base) {
    struct tm__aws_net_transport *t = (struct tm__aws_net_transport *)base;
    if (t->closing)
        return;
    t->closing = true;
    if (uv_idle_start(&t->idle, s_on_idle) != 0)
        tm_log_error(t->log, "aws: cannot schedule the end of the scan's network stack");
}

int tm__aws_net_transport_new(struct tm__aws_net_transport **out, uv_loop_t *loop,
                              const struct tm__aws_net_options *opts, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    struct tm__aws_net_transport *t = calloc(1, sizeof(*t));
    if (!t)
        return TM_ERR_NOMEM;
    if (opts->rate_count) {
        if (!(t->rates = calloc(opts->rate_count, sizeof(*t->rates)))) {
            free(t);
            return TM_ERR_NOMEM;
        }
        memcpy(t->rates, opts->rates, opts->rate_count * sizeof(*t->rates));
        t->rate_count = opts->rate_count;
    }
    if (uv_idle_init(loop, &t->idle) != 0) {
        free(t->rates);
        free(t);
        snprintf(errmsg, errmsg_len, "cannot create a loop handle");
        return TM_ERR_STATE;
    }
    t->idle.data = t;
    t->base.send = s_send;
    t->base.close = s_close;
    t->log = opts->log;
    t->published_rates = opts->published_rates;

    struct tm_http_options ho;
    tm_http_options_init(&ho);
    ho.ca_bundle = opts->ca_bundle;
    ho.max_rps = opts->max_rps;
    ho.log = opts->log;
    /* The scan hands its calls over as they come (tm_aws_scan_options.window): the engine holds the
     * concurrency, so that it can pick, among all the waiting calls, the ones to send first. */
    if (opts->max_in_flight) {
        ho.max_in_flight = opts->max_in_flight;
        if (ho.max_per_host > opts->max_in_flight)
            ho.max_per_host = opts->max_in_flight;
    }
    int rc = tm_http_engine_new(&t->engine, loop, &ho, errmsg, errmsg_len);
    if (rc)
        goto fail;
    struct tm_http_options cho;
    tm_http_options_init(&cho);
    cho.ca_bundle = opts->ca_bundle;
    cho.log = opts->log;
    if ((rc = tm_http_engine_new(&t->cred_engine, loop, &cho, errmsg, errmsg_len)))
        goto fail;
    tm_aws_http_transport_init(&t->cred_transport, t->cred_engine);
    if ((rc = tm_aws_credentials_provider_new(&t->creds, opts->plan, &t->cred_transport.base, opts->log))) {
        snprintf(errmsg, errmsg_len, "credentials: %s", tm_error_str(rc));
        goto fail;
    }
    struct tm_aws_client_options co;
    tm_aws_client_options_init(&co);
    co.engine = t->engine;
    co.env = opts->env;
    co.get_credentials = tm_aws_get_credentials_from_provider;
    co.credentials_data = t->creds;
    co.log = opts->log;
    if ((rc = tm_aws_client_new(&t->client, &co))) {
        snprintf(errmsg, errmsg_len, "AWS client: %s", tm_error_str(rc));
        goto fail;
    }
    *out = t;
    return TM_OK;
fail:
    tm__aws_net_transport_destroy(t);
    return rc;
}

struct tm_aws_transport *tm__aws_net_transport_base(struct tm__aws_net_transport *t) {
    return &t->base;
}

void tm__aws_net_transport_destroy(struct tm__aws_net_transport *t) {
    if (!t)
        return;
    s_release(t);
    for (size_t i = 0; i < t->seeded_count; i++)
        free(t->seeded[i]);
    free(t->seeded);
    t->seeded = NULL;
    t->seeded_count = 0;
    free(t->rates);
    t->rates = NULL;
    t->rate_count = 0;
    if (t->handle_closed) {
        free(t);
        return;
    }
    t->free_on_close = true;
    if (!uv_is_closing((uv_handle_t *)&t->idle))
        uv_close((uv_handle_t *)&t->idle, s_on_handle_closed);
}
