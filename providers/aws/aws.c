/* The AWS scan: bootstrap (caller, regions), fan-out over services and regions, the call queue, error
 * recording, progress. The provider row that wires it to the CLI's loop is in provider_aws.c. */
#include "providers/aws/aws.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/str.h"
#include "providers/aws/apigateway.h"
#include "providers/aws/apigatewayv2.h"
#include "providers/aws/ec2.h"
#include "providers/aws/ecr.h"
#include "providers/aws/iam.h"
#include "providers/aws/kms.h"
#include "providers/aws/lambda.h"
#include "providers/aws/organizations.h"
#include "providers/aws/rds.h"
#include "providers/aws/s3.h"
#include "providers/aws/secretsmanager.h"
#include "providers/aws/sns.h"
#include "providers/aws/sqs.h"
#include "providers/aws/sts.h"

/* ---- the service table ---- */

/* The calls the provider makes itself, before any service starts. */
static const struct tm_aws_operation s_account_operations[] = {
    {&tm__aws_api_sts, "GetCallerIdentity", NULL},
    {&tm__aws_api_ec2, "DescribeRegions", "ec2:DescribeRegions"},
    {NULL, NULL, NULL},
};

static const struct tm_aws_service s_account_service = {
    .name = "account",
    .global = true,
    .operations = s_account_operations,
    .start = NULL,
};

/* One row per service; the order is the order services start in each region. */
static const struct tm_aws_service *const s_services[] = {
    &tm__aws_service_iam,
    &tm__aws_service_organizations,
    &tm__aws_service_s3,
    &tm__aws_service_ec2,
    &tm__aws_service_rds,
    &tm__aws_service_lambda,
    &tm__aws_service_apigateway,
    &tm__aws_service_apigatewayv2,
    &tm__aws_service_sqs,
    &tm__aws_service_sns,
    &tm__aws_service_kms,
    &tm__aws_service_secretsmanager,
    &tm__aws_service_ecr,
    &s_account_service,
    NULL,
};

const struct tm_aws_service *const *tm_aws_scan_services(void) {
    return s_services;
}

const struct tm_aws_service *tm_aws_scan_service_find(const char *name) {
    for (const struct tm_aws_service *const *s = s_services; *s; s++)
        if ((*s)->start && strcmp((*s)->name, name) == 0)
            return *s;
    return NULL;
}

const char *tm_aws_scan_partition_of(const char *region) {
    if (tm_str_starts_with(region, "cn-"))
        return "aws-cn";
    if (tm_str_starts_with(region, "us-gov-"))
        return "aws-us-gov";
    if (tm_str_starts_with(region, "us-isob-"))
        return "aws-iso-b";
    if (tm_str_starts_with(region, "us-iso-"))
        return "aws-iso";
    return "aws";
}

/* Where a partition's global services (IAM, Organizations) are signed and called. */
static const char *s_global_region(const char *partition) {
    if (strcmp(partition, "aws-cn") == 0)
        return "cn-north-1";
    if (strcmp(partition, "aws-us-gov") == 0)
        return "us-gov-west-1";
    if (strcmp(partition, "aws-iso") == 0)
        return "us-iso-east-1";
    if (strcmp(partition, "aws-iso-b") == 0)
        return "us-isob-east-1";
    return "us-east-1";
}

bool tm_aws_scan_region_valid(const char *region) {
    /* letters-and-dashes, a final dash, digits: "eu-west-1", "us-gov-west-1", "ap-southeast-4". */
    if (!region || !*region || strlen(region) > 32)
        return false;
    const char *dash = strrchr(region, '-');
    if (!dash || dash == region || !dash[1])
        return false;
    for (const char *p = dash + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    bool prev_dash = true;
    for (const char *p = region; p < dash; p++) {
        if (*p == '-') {
            if (prev_dash)
                return false;
            prev_dash = true;
        } else if (*p >= 'a' && *p <= 'z') {
            prev_dash = false;
        } else {
            return false;
        }
    }
    return !prev_dash && strchr(region, '-') != dash;
}

/* ---- the scan ---- */

struct s_block {
    struct s_block *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

struct s_cleanup {
    struct s_cleanup *next;
    void (*fn)(void *ptr);
    void *ptr;
};

/* A (service, region) pair: the unit of progress. */
struct s_unit {
    const struct tm_aws_service *service;
    const char *region; /* "global" or a region; scan memory */
    size_t pending;     /* calls queued or in flight that belong to it */
    bool started;
    bool done;
};

struct s_req {
    struct tm_aws_scan *scan;
    struct s_unit *unit;
    struct tm_aws_call call;      /* deep copy */
    struct tm_aws_wire_call wire; /* the same, as the transport sees it (shares call's strings) */
    struct tm_aws_param *params;
    char **accept; /* NULL-terminated copy of accept_codes, or NULL */
    tm_aws_done_fn done;
    void *user_data;
    struct s_req *next; /* queue */
    enum tm_aws_priority priority;
};

/* Queue classes: the scan's queues, indexed by priority. */
#define S_PRIORITIES (TM_AWS_PRIORITY_NEXT_PAGE + 1)

struct s_result {
    struct tm_aws_result pub; /* first: tm_aws_result_header casts back */
    const struct tm_aws_transport_response *resp;
};

struct tm_aws_scan {
    struct tm_snapshot *snap;
    struct tm_log *log;
    struct tm_aws_transport *transport;
    struct s_block *arena;
    struct s_cleanup *cleanups;

    char *home_region;
    char **regions; /* asked for, or NULL */
    size_t region_count;
    const struct tm_aws_service **selected; /* NULL-terminated */

    const char *partition;
    const char *account;
    cJSON *account_res;

    struct s_unit boot; /* GetCallerIdentity, DescribeRegions */
    struct s_unit *units;
    size_t unit_count;
    struct s_unit *current; /* the unit whose code is running */
    bool booted;            /* units created (or the scan cannot get that far) */

    struct s_req *queue_head[S_PRIORITIES], *queue_tail[S_PRIORITIES];
    size_t queued, in_flight, max_in_flight;
    size_t units_done; /* units (not boot) done: the scan ends when all are */
    bool in_pump, pump_again;
    bool finished, closed;

    struct tm_aws_progress progress;
    struct timespec last_draw;

    int status;
    char errmsg[512];
    struct tm_snapshot_error cancelled;
};

static void *s_arena_alloc(struct tm_aws_scan *scan, size_t size) {
    size = (size + 15) & ~(size_t)15;
    struct s_block *b = scan->arena;
    if (!b || b->cap - b->used < size) {
        size_t cap = size > 60000 ? size : 60000;
        b = malloc(sizeof(*b) + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = scan->arena;
        scan->arena = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

static void s_failv(struct tm_aws_scan *scan, int rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void s_failv(struct tm_aws_scan *scan, int rc, const char *fmt, va_list ap) {
    if (scan->status)
        return;
    scan->status = rc < 0 ? rc : TM_ERR_STATE;
    vsnprintf(scan->errmsg, sizeof(scan->errmsg), fmt, ap);
    tm_log_error(scan->log, "aws: scan stopped: %s", scan->errmsg);
}

static void s_fail(struct tm_aws_scan *scan, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_fail(struct tm_aws_scan *scan, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s_failv(scan, rc, fmt, ap);
    va_end(ap);
}

void *tm_aws_scan_alloc(struct tm_aws_scan *scan, size_t size) {
    void *p = s_arena_alloc(scan, size);
    if (!p)
        s_fail(scan, TM_ERR_NOMEM, "out of memory");
    return p;
}

char *tm_aws_scan_strdup(struct tm_aws_scan *scan, const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = tm_aws_scan_alloc(scan, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

int tm_aws_scan_on_destroy(struct tm_aws_scan *scan, void (*fn)(void *ptr), void *ptr) {
    struct s_cleanup *c = malloc(sizeof(*c));
    if (!c) {
        fn(ptr);
        s_fail(scan, TM_ERR_NOMEM, "out of memory");
        return TM_ERR_NOMEM;
    }
    c->fn = fn;
    c->ptr = ptr;
    c->next = scan->cleanups;
    scan->cleanups = c;
    return TM_OK;
}

int tm_aws_scan_check(struct tm_aws_scan *scan, int rc, const char *what) {
    if (rc < 0)
        s_fail(scan, rc, "%s: %s", what, tm_error_str(rc));
    return rc;
}

void tm_aws_scan_sink(struct tm_aws_scan *scan, const char *region, struct tm_aws_sink *out) {
    out->snap = scan->snap;
    out->partition = scan->partition;
    out->account = scan->account;
    out->region = region;
}

struct tm_snapshot *tm_aws_scan_snapshot(struct tm_aws_scan *scan) {
    return scan->snap;
}

const char *tm_aws_scan_account(const struct tm_aws_scan *scan) {
    return scan->account;
}

const char *tm_aws_scan_partition(const struct tm_aws_scan *scan) {
    return scan->partition;
}

struct tm_log *tm_aws_scan_log(struct tm_aws_scan *scan) {
    return scan->log;
}

cJSON *tm_aws_scan_account_resource(struct tm_aws_scan *scan) {
    return scan->account_res;
}

bool tm_aws_scan_has_service(const struct tm_aws_scan *scan, const char *name) {
    for (const struct tm_aws_service **s = scan->selected; *s; s++)
        if (strcmp((*s)->name, name) == 0)
            return true;
    return false;
}

/* ---- creating and destroying ---- */

int tm_aws_scan_new(struct tm_aws_scan **out, const struct tm_aws_scan_options *opts,
                    struct tm_aws_transport *transport, struct tm_snapshot *snap, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    if (!opts->home_region || !tm_aws_scan_region_valid(opts->home_region)) {
        snprintf(errmsg, errmsg_len, "'%s' is not a region name", opts->home_region ? opts->home_region : "");
        return TM_ERR_INVALID;
    }
    for (size_t i = 0; i < opts->region_count; i++) {
        if (!tm_aws_scan_region_valid(opts->regions[i])) {
            snprintf(errmsg, errmsg_len, "'%s' is not a region name", opts->regions[i]);
            return TM_ERR_INVALID;
        }
    }
    for (size_t i = 0; i < opts->service_count; i++) {
        if (!tm_aws_scan_service_find(opts->services[i])) {
            snprintf(errmsg, errmsg_len, "unknown service '%s'", opts->services[i]);
            return TM_ERR_INVALID;
        }
    }
    struct tm_aws_scan *scan = calloc(1, sizeof(*scan));
    if (!scan)
        return TM_ERR_NOMEM;
    scan->snap = snap;
    scan->log = opts->log;
    scan->transport = transport;
    scan->max_in_flight = opts->concurrency > 0 ? (size_t)opts->concurrency : TM_AWS_DEFAULT_CONCURRENCY;
    if (opts->window)
        scan->max_in_flight = opts->window;
    scan->home_region = tm_aws_scan_strdup(scan, opts->home_region);
    scan->partition = tm_aws_scan_partition_of(opts->home_region);
    size_t nsvc = 0;
    for (const struct tm_aws_service *const *s = s_services; *s; s++)
        nsvc++;
    scan->selected = tm_aws_scan_alloc(scan, (nsvc + 1) * sizeof(*scan->selected));
    if (opts->region_count) {
        scan->regions = tm_aws_scan_alloc(scan, opts->region_count * sizeof(*scan->regions));
        for (size_t i = 0; scan->regions && i < opts->region_count; i++)
            scan->regions[i] = tm_aws_scan_strdup(scan, opts->regions[i]);
        scan->region_count = opts->region_count;
    }
    if (scan->status || !scan->selected || !scan->home_region) {
        tm_aws_scan_destroy(scan);
        return TM_ERR_NOMEM;
    }
    /* Selected services in table order, whatever the order asked. */
    size_t n = 0;
    for (const struct tm_aws_service *const *s = s_services; *s; s++) {
        if (!(*s)->start)
            continue;
        bool want = opts->service_count == 0;
        for (size_t i = 0; i < opts->service_count && !want; i++)
            want = strcmp(opts->services[i], (*s)->name) == 0;
        if (want)
            scan->selected[n++] = *s;
    }
    scan->boot.service = &s_account_service;
    scan->boot.region = "global";
    *out = scan;
    return TM_OK;
}

static void s_req_free(struct s_req *req) {
    if (!req)
        return;
    free((char *)req->call.operation);
    free((char *)req->call.region);
    free((char *)req->call.resource);
    free((char *)req->call.method);
    free((char *)req->call.path);
    for (size_t i = 0; req->params && i < req->call.param_count; i++) {
        free((char *)req->params[i].name);
        free((char *)req->params[i].value);
    }
    free(req->params);
    for (char **a = req->accept; a && *a; a++)
        free(*a);
    free(req->accept);
    free(req);
}

void tm_aws_scan_destroy(struct tm_aws_scan *scan) {
    if (!scan)
        return;
    for (size_t p = 0; p < S_PRIORITIES; p++) {
        while (scan->queue_head[p]) {
            struct s_req *r = scan->queue_head[p];
            scan->queue_head[p] = r->next;
            s_req_free(r);
        }
    }
    while (scan->cleanups) {
        struct s_cleanup *c = scan->cleanups;
        scan->cleanups = c->next;
        c->fn(c->ptr);
        free(c);
    }
    while (scan->arena) {
        struct s_block *b = scan->arena;
        scan->arena = b->next;
        free(b);
    }
    free(scan);
}

/* ---- calls ---- */

static bool s_declared(const struct tm_aws_service *svc, const struct tm_aws_api *api, const char *operation) {
    for (const struct tm_aws_operation *op = svc->operations; op && op->name; op++)
        if (op->api == api && strcmp(op->name, operation) == 0)
            return true;
    return false;
}

static char *s_dup_or_null(const char *s, bool *oom) {
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static const char *s_resolve_region(struct tm_aws_scan *scan, const struct tm_aws_call *call, struct s_unit *unit) {
    if (call->region)
        return call->region;
    if (call->api->global || strcmp(unit->region, "global") == 0)
        return call->api->global ? s_global_region(scan->partition) : scan->home_region;
    return unit->region;
}

static struct s_req *s_req_copy(struct tm_aws_scan *scan, const struct tm_aws_call *call, struct s_unit *unit) {
    bool oom = false;
    struct s_req *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->scan = scan;
    req->unit = unit;
    req->call.api = call->api;
    req->call.operation = s_dup_or_null(call->operation, &oom);
    req->call.region = s_dup_or_null(s_resolve_region(scan, call, unit), &oom);
    req->call.resource = s_dup_or_null(call->resource, &oom);
    req->call.method = s_dup_or_null(call->method, &oom);
    req->call.path = s_dup_or_null(call->path, &oom);
    if (call->param_count) {
        req->params = calloc(call->param_count, sizeof(*req->params));
        if (!req->params)
            oom = true;
        for (size_t i = 0; req->params && i < call->param_count; i++) {
            req->params[i].name = s_dup_or_null(call->params[i].name, &oom);
            req->params[i].value = s_dup_or_null(call->params[i].value ? call->params[i].value : "", &oom);
            req->params[i].raw = call->params[i].raw;
        }
        req->call.params = req->params;
        req->call.param_count = req->params ? call->param_count : 0;
    }
    if (call->accept_codes) {
        size_t n = 0;
        while (call->accept_codes[n])
            n++;
        req->accept = calloc(n + 1, sizeof(*req->accept));
        if (!req->accept)
            oom = true;
        for (size_t i = 0; req->accept && i < n; i++)
            req->accept[i] = s_dup_or_null(call->accept_codes[i], &oom);
        req->call.accept_codes = (const char *const *)req->accept;
    }
    if (oom) {
        s_req_free(req);
        return NULL;
    }
    const struct tm_aws_api *api = call->api;
    bool rest = api->protocol == TM_AWS_PROTO_REST_JSON || api->protocol == TM_AWS_PROTO_REST_XML;
    req->wire = (struct tm_aws_wire_call){
        .service = api->name,
        .signing_name = api->signing_name,
        .operation = req->call.operation,
        .region = req->call.region,
        .account = scan->account,
        .rest = rest,
        .json = api->protocol == TM_AWS_PROTO_JSON,
        .method = rest && req->call.method ? req->call.method
                  : rest                   ? "GET"
                                           : "POST",
        .path = rest && req->call.path ? req->call.path : "/",
        .params = req->call.params,
        .param_count = req->call.param_count,
    };
    return req;
}

static void s_pump(struct tm_aws_scan *scan);

static int s_enqueue(struct tm_aws_scan *scan, struct s_req *req) {
    req->unit->pending++;
    size_t p = req->priority;
    if (scan->queue_tail[p])
        scan->queue_tail[p]->next = req;
    else
        scan->queue_head[p] = req;
    scan->queue_tail[p] = req;
    scan->queued++;
    return TM_OK;
}

/* The first call of the highest non-empty queue, taken out; NULL when every queue is empty. */
static struct s_req *s_dequeue(struct tm_aws_scan *scan) {
    for (size_t p = S_PRIORITIES; p-- > 0;) {
        struct s_req *req = scan->queue_head[p];
        if (!req)
            continue;
        scan->queue_head[p] = req->next;
        if (!scan->queue_head[p])
            scan->queue_tail[p] = NULL;
        req->next = NULL;
        scan->queued--;
        return req;
    }
    return NULL;
}

static int s_call(struct tm_aws_scan *scan, const struct tm_aws_call *call, enum tm_aws_priority priority,
                  tm_aws_done_fn done, void *user_data) {
    if (scan->status)
        return TM_ERR_CANCELLED;
    struct s_unit *unit = scan->current;
    if (!unit) {
        s_fail(scan, TM_ERR_STATE, "%s %s called outside a service", call->api ? call->api->name : "?",
               call->operation ? call->operation : "?");
        return TM_ERR_STATE;
    }
    if (!call->api || !call->operation || !done) {
        s_fail(scan, TM_ERR_INVALID, "%s: a call without API, operation or callback", unit->service->name);
        return TM_ERR_INVALID;
    }
    if (!s_declared(unit->service, call->api, call->operation)) {
        s_fail(scan, TM_ERR_INVALID, "%s:%s is not declared in the operations of service %s", call->api->name,
               call->operation, unit->service->name);
        return TM_ERR_INVALID;
    }
    struct s_req *req = s_req_copy(scan, call, unit);
    if (!req) {
        s_fail(scan, TM_ERR_NOMEM, "out of memory");
        return TM_ERR_NOMEM;
    }
    req->done = done;
    req->user_data = user_data;
    req->priority = priority;
    req->wire.priority = priority;
    return s_enqueue(scan, req);
}

int tm_aws_call(struct tm_aws_scan *scan, const struct tm_aws_call *call, tm_aws_done_fn done, void *user_data) {
    return s_call(scan, call, call->resource ? TM_AWS_PRIORITY_RESOURCE : TM_AWS_PRIORITY_LISTING, done, user_data);
}

int tm_aws_call_next(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *token_param,
                     const char *token, tm_aws_done_fn done, void *user_data) {
    const struct tm_aws_call *prev = res->call;
    size_t n = prev->param_count;
    struct tm_aws_param *params = calloc(n + 1, sizeof(*params));
    if (!params) {
        s_fail(scan, TM_ERR_NOMEM, "out of memory");
        return TM_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(prev->params[i].name, token_param) != 0)
            params[k++] = prev->params[i];
    params[k++] = (struct tm_aws_param){token_param, token, false};
    struct tm_aws_call next = *prev;
    next.params = params;
    next.param_count = k;
    int rc = s_call(scan, &next, TM_AWS_PRIORITY_NEXT_PAGE, done, user_data);
    free(params);
    return rc;
}

const char *tm_aws_result_header(const struct tm_aws_result *res, const char *name) {
    const struct s_result *r = (const struct s_result *)res;
    if (!r->resp)
        return NULL;
    for (size_t i = 0; i < r->resp->header_count; i++)
        if (tm_str_ieq(r->resp->headers[i].name, name))
            return r->resp->headers[i].value;
    return NULL;
}

/* A copy of an error in scan memory, so services may keep the pointer for the rest of the scan. */
static const struct tm_snapshot_error *s_record(struct tm_aws_scan *scan, const struct tm_aws_call *call,
                                                const char *code, const char *message, int attempts) {
    struct tm_snapshot_error *e = tm_aws_scan_alloc(scan, sizeof(*e));
    if (!e)
        return NULL;
    e->service = call->api->name;
    e->operation = tm_aws_scan_strdup(scan, call->operation);
    e->region = call->api->global ? "global" : tm_aws_scan_strdup(scan, call->region);
    e->resource = tm_aws_scan_strdup(scan, call->resource);
    e->code = tm_aws_scan_strdup(scan, code && *code ? code : "Unknown");
    e->message = tm_aws_scan_strdup(scan, message ? message : "");
    e->attempts = attempts > 0 ? attempts : 1;
    if (scan->status)
        return NULL;
    if (tm_aws_scan_check(scan, tm_snapshot_add_error(scan->snap, e), "recording an error") < 0)
        return NULL;
    scan->progress.errors++;
    tm_log_debug(scan->log, "aws: %s %s %s%s%s: %s: %s", e->service, e->operation, e->region, e->resource ? " " : "",
                 e->resource ? e->resource : "", e->code, e->message);
    return e;
}

const struct tm_snapshot_error *tm_aws_fail(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *code,
                                            const char *message) {
    return s_record(scan, res->call, code, message, res->attempts);
}

static bool s_accepted(const struct s_req *req, const char *code) {
    for (char **a = req->accept; a && *a; a++)
        if (strcmp(*a, code) == 0)
            return true;
    return false;
}

static void s_unit_check(struct tm_aws_scan *scan, struct s_unit *unit);

/* Runs req's callback with resp (NULL: cancelled) and forgets req. */
static void s_complete(struct tm_aws_scan *scan, struct s_req *req, const struct tm_aws_transport_response *resp) {
    struct s_result r = {.resp = resp};
    r.pub.call = &req->call;
    r.pub.body = "";
    if (!resp || scan->status) {
        scan->cancelled = (struct tm_snapshot_error){req->call.api->name,
                                                     req->call.operation,
                                                     req->call.region,
                                                     req->call.resource,
                                                     "Cancelled",
                                                     scan->errmsg,
                                                     1};
        r.pub.code = "Cancelled";
        r.pub.message = scan->errmsg;
        r.pub.attempts = resp ? resp->attempts : 0;
        r.pub.error = &scan->cancelled;
        r.resp = NULL;
    } else {
        r.pub.status = resp->status;
        if (resp->body) {
            r.pub.body = resp->body;
            r.pub.body_len = resp->body_len;
        }
        r.pub.attempts = resp->attempts > 0 ? resp->attempts : 1;
        scan->progress.requests++;
        scan->progress.retries += (size_t)(r.pub.attempts - 1);
        if (resp->code) {
            r.pub.code = resp->code;
            r.pub.message = resp->message ? resp->message : "";
            if (!s_accepted(req, resp->code)) {
                r.pub.error = s_record(scan, &req->call, resp->code, resp->message, r.pub.attempts);
                if (!r.pub.error) {
                    scan->cancelled = (struct tm_snapshot_error){req->call.api->name,
                                                                 req->call.operation,
                                                                 req->call.region,
                                                                 req->call.resource,
                                                                 "Cancelled",
                                                                 scan->errmsg,
                                                                 1};
                    r.pub.error = &scan->cancelled;
                }
            }
        }
    }
    struct s_unit *unit = req->unit;
    struct s_unit *saved = scan->current;
    scan->current = unit;
    req->done(scan, &r.pub, req->user_data);
    scan->current = saved;
    unit->pending--;
    s_req_free(req);
    s_unit_check(scan, unit);
}

static void s_on_response(void *user_data, const struct tm_aws_transport_response *resp) {
    struct s_req *req = user_data;
    struct tm_aws_scan *scan = req->scan;
    scan->in_flight--;
    s_complete(scan, req, resp);
    s_pump(scan);
}

static void s_draw_progress(struct tm_aws_scan *scan, bool force) {
    if (!scan->log || !scan->log->progress)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms =
        (long long)(now.tv_sec - scan->last_draw.tv_sec) * 1000 + (now.tv_nsec - scan->last_draw.tv_nsec) / 1000000;
    if (!force && ms < 100)
        return;
    scan->last_draw = now;
    const struct tm_aws_progress *p = &scan->progress;
    tm_log_progress(scan->log, "aws: %zu/%zu service-regions done, %zu requests (%zu pending), %zu retries, %zu failed",
                    p->units_done, p->units_total, p->requests, p->in_flight + p->queued, p->retries, p->errors);
}

/* Sends what the concurrency allows; after a failure, cancels what is queued; ends the scan when
 * nothing is left. Re-entrant calls (a cancelled callback queueing) only mark another round. */
static void s_pump(struct tm_aws_scan *scan) {
    if (scan->in_pump) {
        scan->pump_again = true;
        return;
    }
    scan->in_pump = true;
    do {
        scan->pump_again = false;
        while (scan->queued && (scan->status || scan->in_flight < scan->max_in_flight)) {
            struct s_req *req = s_dequeue(scan);
            if (scan->status) {
                s_complete(scan, req, NULL);
                continue;
            }
            scan->in_flight++;
            int rc = scan->transport->send(scan->transport, &req->wire, s_on_response, req);
            if (rc) {
                scan->in_flight--;
                struct tm_aws_transport_response resp = {
                    .code = rc == TM_ERR_READ_ONLY ? "ReadOnlyRefused" : "ClientError",
                    .message = tm_error_str(rc),
                    .attempts = 1,
                };
                s_complete(scan, req, &resp);
            }
        }
    } while (scan->pump_again);
    scan->in_pump = false;
    scan->progress.in_flight = scan->in_flight;
    scan->progress.queued = scan->queued;
    bool units_done = scan->booted && scan->units_done == scan->unit_count;
    if (!scan->finished && scan->in_flight == 0 && scan->queued == 0 && scan->boot.pending == 0 &&
        (units_done || scan->status)) {
        scan->finished = true;
        s_draw_progress(scan, true);
        if (scan->log)
            tm_log_progress_end(scan->log);
        if (!scan->closed && scan->transport->close) {
            scan->closed = true;
            scan->transport->close(scan->transport);
        }
    } else {
        s_draw_progress(scan, false);
    }
}

static void s_unit_check(struct tm_aws_scan *scan, struct s_unit *unit) {
    if (unit->done || !unit->started || unit->pending)
        return;
    unit->done = true;
    if (unit != &scan->boot) {
        scan->units_done++;
        scan->progress.units_done++;
        tm_log_debug(scan->log, "aws: %s %s done", unit->service->name, unit->region);
    }
}

/* ---- bootstrap ---- */

static void s_start_units(struct tm_aws_scan *scan, const char *const *regions, size_t region_count) {
    size_t nsel = 0, nglobal = 0;
    for (const struct tm_aws_service **s = scan->selected; *s; s++, nsel++)
        nglobal += (*s)->global;
    size_t total = nglobal + (nsel - nglobal) * region_count;
    scan->units = total ? tm_aws_scan_alloc(scan, total * sizeof(*scan->units)) : NULL;
    if (total && !scan->units)
        return;
    size_t k = 0;
    for (const struct tm_aws_service **s = scan->selected; *s; s++)
        if ((*s)->global)
            scan->units[k++] = (struct s_unit){.service = *s, .region = "global"};
    for (size_t r = 0; r < region_count; r++)
        for (const struct tm_aws_service **s = scan->selected; *s; s++)
            if (!(*s)->global)
                scan->units[k++] = (struct s_unit){.service = *s, .region = regions[r]};
    scan->unit_count = k;
    scan->progress.units_total = k;
    scan->booted = true;
    for (size_t i = 0; i < k && !scan->status; i++) {
        struct s_unit *u = &scan->units[i];
        struct s_unit *saved = scan->current;
        scan->current = u;
        u->started = true;
        int rc = u->service->start(scan, u->region);
        scan->current = saved;
        if (rc < 0)
            s_fail(scan, rc, "%s %s: %s", u->service->name, u->region, tm_error_str(rc));
        s_unit_check(scan, u);
    }
}

static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void s_on_regions(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)user_data;
    cJSON *enabled = NULL;
    const struct tm_snapshot_error *err = res->error;
    if (!err) {
        char why[256];
        int rc = tm__aws_ec2_parse_regions(&enabled, res->body, res->body_len, why, sizeof(why));
        if (rc == TM_ERR_NOMEM) {
            tm_aws_scan_check(scan, rc, "DescribeRegions");
            return;
        }
        if (rc)
            err = tm_aws_fail(scan, res, "MalformedResponse", why);
    }
    if (scan->status) {
        cJSON_Delete(enabled);
        return;
    }
    int rc = enabled ? tm_snapshot_set_attr(scan->account_res, "enabled_regions", enabled)
                     : tm_snapshot_set_unknown(scan->account_res, "attrs", "enabled_regions", err);
    if (tm_aws_scan_check(scan, rc, "enabled_regions") < 0)
        return;
    /* Regions to scan: those asked for, else every enabled one, else (unknown) the home region. */
    const char **regions = NULL;
    size_t n = 0;
    if (scan->region_count) {
        regions = (const char **)scan->regions;
        n = scan->region_count;
    } else if (enabled) {
        n = (size_t)cJSON_GetArraySize(enabled);
        regions = tm_aws_scan_alloc(scan, (n ? n : 1) * sizeof(*regions));
        size_t i = 0;
        for (const cJSON *e = enabled->child; regions && e; e = e->next)
            regions[i++] = tm_aws_scan_strdup(scan, e->valuestring);
    } else {
        regions = tm_aws_scan_alloc(scan, sizeof(*regions));
        if (regions)
            regions[0] = scan->home_region;
        n = 1;
        tm_log_warn(scan->log, "aws: the enabled regions are unknown (%s); scanning %s only", err ? err->code : "?",
                    scan->home_region);
    }
    if (scan->status)
        return;
    qsort(regions, n, sizeof(*regions), s_cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) /* de-duplicate "--regions a,a" */
        if (k == 0 || strcmp(regions[k - 1], regions[i]) != 0)
            regions[k++] = regions[i];
    n = k;
    for (size_t i = 0; i < n && !scan->status; i++)
        tm_aws_scan_check(scan, tm_snapshot_scope_add(scan->snap, "regions", regions[i]), "scope");
    for (const struct tm_aws_service **s = scan->selected; *s && !scan->status; s++)
        tm_aws_scan_check(scan, tm_snapshot_scope_add(scan->snap, "services", (*s)->name), "scope");
    if (!scan->status)
        s_start_units(scan, regions, n);
}

static void s_on_caller(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)user_data;
    cJSON *scope = tm_snapshot_scope(scan->snap);
    const struct tm_snapshot_error *err = res->error;
    struct tm__aws_caller caller;
    memset(&caller, 0, sizeof(caller));
    if (!err) {
        char why[256];
        int rc = tm__aws_sts_parse_caller(&caller, res->body, res->body_len, why, sizeof(why));
        if (rc == TM_ERR_NOMEM) {
            tm_aws_scan_check(scan, rc, "GetCallerIdentity");
            return;
        }
        if (rc)
            err = tm_aws_fail(scan, res, "MalformedResponse", why);
    }
    if (err) {
        /* Without the account no ARN can be written: the scan ends here, with the failure on record. */
        cJSON *marker = tm_aws_unknown_value(err);
        cJSON_DeleteItemFromObjectCaseSensitive(scope, "caller");
        if (!marker || !cJSON_AddItemToObject(scope, "caller", marker)) {
            cJSON_Delete(marker);
            tm_aws_scan_check(scan, TM_ERR_NOMEM, "scope");
        }
        tm_log_error(scan->log, "aws: cannot tell which account the credentials belong to: %s: %s", err->code,
                     err->message);
        scan->booted = true;
        return;
    }
    scan->account = tm_aws_scan_strdup(scan, caller.account);
    scan->partition = tm_aws_scan_strdup(scan, caller.partition);
    cJSON *c = cJSON_CreateObject();
    int rc = TM_ERR_NOMEM;
    if (c && cJSON_AddStringToObject(c, "account", caller.account) && cJSON_AddStringToObject(c, "arn", caller.arn) &&
        cJSON_AddStringToObject(c, "user_id", caller.user_id)) {
        cJSON_DeleteItemFromObjectCaseSensitive(scope, "caller");
        if (cJSON_AddItemToObject(scope, "caller", c)) {
            c = NULL;
            rc = TM_OK;
        }
    }
    cJSON_Delete(c);
    tm_log_info(scan->log, "aws: scanning account %s as %s", caller.account, caller.arn);
    tm__aws_sts_caller_clean_up(&caller);
    if (tm_aws_scan_check(scan, rc, "scope") < 0 || scan->status)
        return;
    if (tm_aws_scan_check(scan, tm_snapshot_scope_add(scan->snap, "accounts", scan->account), "scope") < 0)
        return;
    char arn[128];
    rc = tm_aws_arn(arn, sizeof(arn), scan->partition, "iam", "", scan->account, "root");
    if (!rc)
        rc = tm_snapshot_resource(scan->snap, arn, "aws:account", scan->account, "global", scan->account,
                                  &scan->account_res);
    if (tm_aws_scan_check(scan, rc, "account resource") < 0)
        return;
    struct tm_aws_call call = {.api = &tm__aws_api_ec2, .operation = "DescribeRegions", .region = scan->home_region};
    if (tm_aws_call(scan, &call, s_on_regions, NULL)) {
        /* the scan has stopped */
    }
}

int tm_aws_scan_start(struct tm_aws_scan *scan) {
    if (scan->boot.started)
        return TM_ERR_STATE;
    scan->boot.started = true;
    scan->current = &scan->boot;
    struct tm_aws_call call = {.api = &tm__aws_api_sts, .operation = "GetCallerIdentity", .region = scan->home_region};
    int rc = tm_aws_call(scan, &call, s_on_caller, NULL);
    scan->current = NULL;
    if (rc)
        return rc;
    s_pump(scan);
    return TM_OK;
}

bool tm_aws_scan_finished(const struct tm_aws_scan *scan) {
    return scan->finished;
}

int tm_aws_scan_status(const struct tm_aws_scan *scan, char *errmsg, size_t errmsg_len) {
    if (scan->status) {
        snprintf(errmsg, errmsg_len, "%s", scan->errmsg);
        return scan->status;
    }
    if (!scan->finished) {
        snprintf(errmsg, errmsg_len, "the scan did not run to its end (%zu calls pending)",
                 scan->in_flight + scan->queued);
        return TM_ERR_STATE;
    }
    return TM_OK;
}

void tm_aws_scan_progress(const struct tm_aws_scan *scan, struct tm_aws_progress *out) {
    *out = scan->progress;
    out->in_flight = scan->in_flight;
    out->queued = scan->queued;
}
