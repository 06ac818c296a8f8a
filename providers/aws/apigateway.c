/* API Gateway REST APIs: per region, every API with its policy, stages, authorizers, methods and usage
 * plans. Methods are recorded once an API's resources, authorizers and stages have all been read. */
#include "providers/aws/apigateway.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

static const struct tm_aws_api s_api = {
    .name = "apigateway",
    .service_id = "API Gateway",
    .endpoint_prefix = "apigateway",
    .signing_name = "apigateway",
    .protocol = TM_AWS_PROTO_REST_JSON,
    .api_version = "2015-07-09",
};

/* API Gateway's IAM actions are HTTP verbs on resource paths: every read is apigateway:GET. */
static const struct tm_aws_operation s_operations[] = {
    {&s_api, "GetRestApis", "apigateway:GET"},    {&s_api, "GetResources", "apigateway:GET"},
    {&s_api, "GetAuthorizers", "apigateway:GET"}, {&s_api, "GetStages", "apigateway:GET"},
    {&s_api, "GetUsagePlans", "apigateway:GET"},  {NULL, NULL, NULL},
};

struct s_region {
    const char *region;
    int pending_apis;              /* APIs whose parts are still being read */
    bool listing_done;             /* the last GetRestApis page was handled */
    bool plans_done;               /* the last GetUsagePlans page was handled */
    cJSON *plans;                  /* "API/STAGE" -> [{id, name}] */
    cJSON *plans_unknown;          /* the unknown marker when the plans could not be read */
    struct tm_aws_strv stage_keys; /* "API/STAGE" of every stage recorded */
    bool finished;
};

struct s_restapi {
    struct s_region *region;
    const char *id;
    const char *arn;
    const char *path_id; /* percent-encoded */
    int pending;         /* resources, authorizers, stages */
    bool stages_known;
    cJSON *methods;             /* descriptors */
    cJSON *authorizers;         /* id -> authorizer; NULL once they could not be read */
    cJSON *authorizers_unknown; /* the marker for that case */
    struct tm_aws_strv stages;
};

/* The largest page of API Gateway's listings (limit: 25 when not asked, at most 500). */
static const struct tm_aws_param s_page = {"limit", "500", false};

static int s_get(struct tm_aws_scan *scan, const char *region, const char *operation, const char *resource,
                 const char *path, const struct tm_aws_param *params, size_t param_count, tm_aws_done_fn done,
                 void *user_data) {
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = operation,
        .region = region,
        .resource = resource,
        .params = params,
        .param_count = param_count,
        .method = "GET",
        .path = path,
    };
    return tm_aws_call(scan, &call, done, user_data);
}

static void s_facts(struct tm_aws_facts *f, struct tm_aws_scan *scan, const char *region, const char *operation) {
    tm__aws_facts_init(f, scan, region, "apigateway", operation);
}

static void s_region_free(void *ptr) {
    struct s_region *r = ptr;
    cJSON_Delete(r->plans);
    cJSON_Delete(r->plans_unknown);
    r->plans = r->plans_unknown = NULL;
    tm__aws_strv_clean_up(&r->stage_keys);
}

static void s_region_finish(struct tm_aws_scan *scan, struct s_region *r) {
    if (r->finished || !r->listing_done || !r->plans_done || r->pending_apis > 0)
        return;
    r->finished = true;
    struct tm_aws_facts f;
    s_facts(&f, scan, r->region, "GetUsagePlans");
    int rc = TM_OK;
    for (size_t i = 0; i < r->stage_keys.n && rc == TM_OK; i++) {
        const char *key = r->stage_keys.v[i];
        const char *slash = strchr(key, '/');
        char api_id[256], arn[768];
        snprintf(api_id, sizeof(api_id), "%.*s", (int)(slash - key), key);
        rc = tm__aws_apigw_stage_arn(arn, sizeof(arn), &f, api_id, slash + 1);
        cJSON *stage = rc ? NULL : tm_snapshot_find(f.snap, arn);
        if (!stage)
            continue;
        cJSON *plans = NULL;
        if (r->plans_unknown) {
            plans = cJSON_Duplicate(r->plans_unknown, true);
        } else {
            const cJSON *list = cJSON_GetObjectItemCaseSensitive(r->plans, key);
            plans = list ? cJSON_Duplicate(list, true) : cJSON_CreateArray();
        }
        rc = tm_snapshot_set_attr(stage, "usage_plans", plans);
    }
    s_region_free(r);
    (void)tm_aws_scan_check(scan, rc, "apigateway usage plans");
}

/* What an API's state holds outside the scan's memory; also run when the scan is destroyed. */
static void s_api_free(void *ptr) {
    struct s_restapi *a = ptr;
    cJSON_Delete(a->methods);
    cJSON_Delete(a->authorizers);
    cJSON_Delete(a->authorizers_unknown);
    a->methods = a->authorizers = a->authorizers_unknown = NULL;
    tm__aws_strv_clean_up(&a->stages);
}

static void s_api_finish(struct tm_aws_scan *scan, struct s_restapi *a) {
    if (--a->pending > 0)
        return;
    struct tm_aws_facts f;
    s_facts(&f, scan, a->region->region, "GetResources");
    int rc = TM_OK;
    cJSON *api = tm_snapshot_find(f.snap, a->arn);
    if (a->stages_known) {
        cJSON *names = NULL;
        rc = tm__aws_json_sorted_strings(&names, &a->stages);
        if (!rc && api)
            rc = tm_snapshot_set_attr(api, "stages", names);
        else
            cJSON_Delete(names);
        if (!rc)
            rc = tm__aws_apigw_put_methods(&f, a->id, a->methods, a->authorizers, a->authorizers_unknown, &a->stages);
        for (size_t i = 0; i < a->stages.n && !rc; i++) {
            char key[600];
            snprintf(key, sizeof(key), "%s/%s", a->id, a->stages.v[i]);
            rc = tm__aws_strv_push(&a->region->stage_keys, key);
        }
    }
    s_api_free(a);
    (void)tm_aws_scan_check(scan, rc, "apigateway methods");
    a->region->pending_apis--;
    s_region_finish(scan, a->region);
}

static void s_resources_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_restapi *a = user_data;
    if (res->error) {
        s_api_finish(scan, a);
        return;
    }
    char *position = NULL;
    char errmsg[256] = "";
    int rc = tm__aws_apigw_parse_resources(a->methods, res->body, res->body_len, &position, errmsg, sizeof(errmsg));
    rc = tm__aws_result_parsed(scan, res, rc, errmsg, NULL);
    if (tm__aws_page_end(scan, res, rc, NULL, "position", position, "apigateway GetResources", s_resources_done, a))
        return;
    s_api_finish(scan, a);
}

static void s_authorizers_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_restapi *a = user_data;
    const struct tm_snapshot_error *err = res->error;
    char *position = NULL;
    char errmsg[256] = "";
    int rc = TM_OK;
    if (!err) {
        rc = tm__aws_apigw_parse_authorizers(a->authorizers, res->body, res->body_len, &position, errmsg,
                                             sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    if (err && rc == TM_OK) {
        cJSON_Delete(a->authorizers);
        a->authorizers = NULL;
        a->authorizers_unknown = tm_aws_unknown_value(err);
        if (!a->authorizers_unknown)
            rc = TM_ERR_NOMEM;
    }
    if (tm__aws_page_end(scan, res, rc, err, "position", position, "apigateway GetAuthorizers", s_authorizers_done, a))
        return;
    s_api_finish(scan, a);
}

static void s_stages_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_restapi *a = user_data;
    cJSON *api = tm_snapshot_find(tm_aws_scan_snapshot(scan), a->arn);
    const struct tm_snapshot_error *err = res->error;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        s_facts(&f, scan, a->region->region, "GetStages");
        char errmsg[256] = "";
        rc = tm__aws_apigw_parse_stages(&f, a->id, res->body, res->body_len, &a->stages, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
        a->stages_known = rc == TM_OK && !err;
    }
    if (err && api)
        tm__aws_set_fact(scan, api, "attrs", "stages", tm_aws_unknown_value(err));
    (void)tm_aws_scan_check(scan, rc, "apigateway GetStages");
    s_api_finish(scan, a);
}

/* An API of a GetRestApis page (f): its parts are read next. */
static int s_start_api(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *id, void *user_data) {
    struct s_region *r = user_data;
    struct s_restapi *a = tm_aws_scan_alloc(scan, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    char arn[512], path[600];
    int rc = tm__aws_apigw_api_arn(arn, sizeof(arn), f, id);
    if (rc)
        return rc;
    a->region = r;
    a->id = tm_aws_scan_strdup(scan, id);
    a->arn = tm_aws_scan_strdup(scan, arn);
    a->path_id = tm__aws_path_segment(scan, id);
    rc = tm_aws_scan_on_destroy(scan, s_api_free, a);
    if (rc)
        return rc;
    a->methods = cJSON_CreateArray();
    a->authorizers = cJSON_CreateObject();
    if (!a->id || !a->arn || !a->methods || !a->authorizers)
        return TM_ERR_NOMEM;
    a->pending = 3;
    r->pending_apis++;
    /* GetResources embeds each resource's methods; GetStages has no pages. */
    static const struct tm_aws_param resources[] = {{"embed", "methods", false}, {"limit", "500", false}};
    static const char *const ops[] = {"GetResources", "GetAuthorizers", "GetStages"};
    static const char *const suffixes[] = {"resources", "authorizers", "stages"};
    static const struct tm_aws_param *const params[] = {resources, &s_page, NULL};
    static const size_t param_counts[] = {2, 1, 0};
    const tm_aws_done_fn dones[] = {s_resources_done, s_authorizers_done, s_stages_done};
    int queued = 0;
    for (; queued < 3 && rc == TM_OK; queued++) {
        snprintf(path, sizeof(path), "/restapis/%s/%s", a->path_id, suffixes[queued]);
        const char *p = tm_aws_scan_strdup(scan, path);
        rc = p ? s_get(scan, r->region, ops[queued], a->arn, p, params[queued], param_counts[queued], dones[queued], a)
               : TM_ERR_NOMEM;
        if (rc)
            break;
    }
    /* Calls that could not be queued will never complete: count them as done. */
    for (int i = queued; i < 3; i++)
        s_api_finish(scan, a);
    return rc;
}

static const struct tm_aws_listing s_apis = {"apigateway", "position", tm__aws_apigw_parse_rest_apis, s_start_api};

static void s_apis_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_listing_page(scan, res, r->region, &s_apis, s_apis_done, r))
        return;
    r->listing_done = true;
    s_region_finish(scan, r);
}

static const struct tm_aws_table_listing s_plans = {"apigateway", "position", tm__aws_apigw_parse_usage_plans};

static void s_plans_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_table_page(scan, res, &s_plans, r->plans, &r->plans_unknown, s_plans_done, r))
        return;
    r->plans_done = true;
    s_region_finish(scan, r);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    struct s_region *r = tm_aws_scan_alloc(scan, sizeof(*r));
    if (!r)
        return TM_ERR_NOMEM;
    int rc = tm_aws_scan_on_destroy(scan, s_region_free, r);
    if (rc)
        return rc;
    r->region = tm_aws_scan_strdup(scan, region);
    r->plans = cJSON_CreateObject();
    if (!r->region || !r->plans)
        return TM_ERR_NOMEM;
    rc = s_get(scan, r->region, "GetUsagePlans", NULL, "/usageplans", &s_page, 1, s_plans_done, r);
    if (rc)
        return rc;
    rc = s_get(scan, r->region, "GetRestApis", NULL, "/restapis", &s_page, 1, s_apis_done, r);
    if (rc)
        r->listing_done = true; /* the region finishes when the plans call completes */
    return rc;
}

const struct tm_aws_service tm__aws_service_apigateway = {
    .name = "apigateway",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
