/* The AWS provider row (providers/provider.h): options and credentials in, a scan on the CLI's loop
 * over the HTTP engine, the AWS request layer and (with --record) the recorder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"
#include "providers/auth/credentials.h"
#include "providers/auth/env.h"
#include "providers/aws/aws.h"
#include "providers/aws/limits.h"
#include "providers/aws/record.h"
#include "providers/aws/transport_net.h"
#include "providers/provider.h"

struct s_aws {
    struct tm_log *log;
    struct tm_env env;
    char *home_region;
    struct tm_aws_cred_plan plan;
    bool have_plan;
    const char *const *regions;
    size_t region_count;
    const char *const *services;
    size_t service_count;
    int concurrency;
    double max_rps;
    char *ca_bundle;
    char *record_dir;
    struct tm__aws_rate *rates;
    size_t rate_count;

    struct tm__aws_net_transport *net;
    struct tm_aws_recorder *rec;
    struct tm_aws_scan *scan;
    struct tm_snapshot *snap;
};

static void s_destroy(void *state) {
    struct s_aws *a = state;
    if (!a)
        return;
    tm_aws_scan_destroy(a->scan);
    tm_aws_recorder_destroy(a->rec);
    tm__aws_net_transport_destroy(a->net);
    if (a->have_plan)
        tm_aws_cred_plan_clean_up(&a->plan);
    free(a->home_region);
    free(a->ca_bundle);
    free(a->record_dir);
    free(a->rates);
    free(a);
}

static int s_init(void **state, const struct tm_provider_options *opts, char *errmsg, size_t errmsg_len) {
    *state = NULL;
    for (size_t i = 0; i < opts->service_count; i++) {
        if (!tm_aws_scan_service_find(opts->services[i])) {
            struct tm_buf known;
            tm_buf_init(&known, 0);
            for (const struct tm_aws_service *const *s = tm_aws_scan_services(); *s; s++)
                if ((*s)->start && tm_buf_appendf(&known, "%s%s", known.len ? ", " : "", (*s)->name))
                    break;
            snprintf(errmsg, errmsg_len, "unknown service '%s' (known: %s)", opts->services[i], tm_buf_str(&known));
            tm_buf_clean_up(&known);
            return TM_ERR_INVALID;
        }
    }
    for (size_t i = 0; i < opts->region_count; i++) {
        if (!tm_aws_scan_region_valid(opts->regions[i])) {
            snprintf(errmsg, errmsg_len, "'%s' is not a region name", opts->regions[i]);
            return TM_ERR_INVALID;
        }
    }
    struct s_aws *a = calloc(1, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    if (opts->rate_limit_count && !(a->rates = calloc(opts->rate_limit_count, sizeof(*a->rates)))) {
        free(a);
        return TM_ERR_NOMEM;
    }
    for (size_t i = 0; i < opts->rate_limit_count; i++) {
        int rc = tm__aws_rate_parse(&a->rates[a->rate_count++], opts->rate_limits[i], errmsg, errmsg_len);
        if (rc) {
            free(a->rates);
            free(a);
            return rc;
        }
    }
    a->log = opts->log;
    tm_env_init_process(&a->env);
    a->regions = opts->regions;
    a->region_count = opts->region_count;
    a->services = opts->services;
    a->service_count = opts->service_count;
    a->concurrency = opts->concurrency;
    a->max_rps = opts->max_rps;
    const char *ca = opts->ca_bundle ? opts->ca_bundle : tm_env_get(&a->env, "AWS_CA_BUNDLE");
    a->ca_bundle = tm_strdup(ca);
    a->record_dir = tm_strdup(opts->record_dir);
    int rc = TM_ERR_NOMEM;
    if ((ca && !a->ca_bundle) || (opts->record_dir && !a->record_dir))
        goto fail;
    struct tm_aws_cred_options co = {.env = &a->env, .profile = opts->profile, .region = opts->region, .log = a->log};
    char *region = NULL;
    if ((rc = tm_aws_resolve_region(&region, &co, errmsg, errmsg_len)))
        goto fail;
    /* No region anywhere: us-east-1, where discovery and the global services work for the aws partition. */
    a->home_region = region ? region : strdup("us-east-1");
    if (!a->home_region) {
        rc = TM_ERR_NOMEM;
        goto fail;
    }
    if (!tm_aws_scan_region_valid(a->home_region)) {
        snprintf(errmsg, errmsg_len, "'%s' is not a region name", a->home_region);
        rc = TM_ERR_INVALID;
        goto fail;
    }
    co.region = a->home_region;
    if ((rc = tm_aws_cred_plan_resolve(&a->plan, &co, errmsg, errmsg_len)))
        goto fail;
    a->have_plan = true;
    tm_log_debug(a->log, "aws: credentials from %s, home region %s", a->plan.source ? a->plan.source : "?",
                 a->home_region);
    *state = a;
    return TM_OK;
fail:
    s_destroy(a);
    return rc;
}

static int s_start(void *state, uv_loop_t *loop, struct tm_snapshot *snap, char *errmsg, size_t errmsg_len) {
    struct s_aws *a = state;
    a->snap = snap;
    struct tm__aws_net_options no = {
        .env = &a->env,
        .plan = &a->plan,
        .ca_bundle = a->ca_bundle,
        .max_rps = a->max_rps,
        .max_in_flight = a->concurrency > 0 ? (unsigned)a->concurrency : TM_AWS_DEFAULT_CONCURRENCY,
        .published_rates = true,
        .rates = a->rates,
        .rate_count = a->rate_count,
        .log = a->log,
    };
    int rc = tm__aws_net_transport_new(&a->net, loop, &no, errmsg, errmsg_len);
    if (rc)
        return rc;
    struct tm_aws_transport *t = tm__aws_net_transport_base(a->net);
    if (a->record_dir) {
        if ((rc = tm_aws_recorder_new(&a->rec, t, a->record_dir, a->log, errmsg, errmsg_len)))
            return rc;
        t = tm_aws_recorder_transport(a->rec);
    }
    struct tm_aws_scan_options so = {
        .log = a->log,
        .home_region = a->home_region,
        .regions = a->regions,
        .region_count = a->region_count,
        .services = a->services,
        .service_count = a->service_count,
        .concurrency = a->concurrency,
        .window =
            (size_t)(a->concurrency > 0 ? a->concurrency : TM_AWS_DEFAULT_CONCURRENCY) * TM_AWS_ENGINE_WINDOW_PER_SLOT,
    };
    if ((rc = tm_aws_scan_new(&a->scan, &so, t, snap, errmsg, errmsg_len)))
        return rc;
    if ((rc = tm_aws_scan_start(a->scan))) {
        snprintf(errmsg, errmsg_len, "%s", tm_error_str(rc));
        return rc;
    }
    return TM_OK;
}

static int s_finish(void *state, char *errmsg, size_t errmsg_len) {
    struct s_aws *a = state;
    int rc = tm_aws_scan_status(a->scan, errmsg, errmsg_len);
    if (rc)
        return rc;
    if (a->rec && (rc = tm_aws_recorder_finish(a->rec, a->snap, errmsg, errmsg_len)))
        return rc;
    return TM_OK;
}

const struct tm_provider tm_aws_provider = {
    .name = "aws",
    .init = s_init,
    .start = s_start,
    .finish = s_finish,
    .destroy = s_destroy,
};
