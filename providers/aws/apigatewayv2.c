/* API Gateway HTTP and WebSocket APIs: per region, every API and, once its routes, integrations,
 * authorizers and stages have been read, one route resource per stage. */
#include "providers/aws/apigatewayv2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

static const struct tm_aws_api s_api = {
    .name = "apigatewayv2",
    .service_id = "ApiGatewayV2",
    .endpoint_prefix = "apigateway",
    .signing_name = "apigateway",
    .protocol = TM_AWS_PROTO_REST_JSON,
    .api_version = "2018-11-29",
    .json_version = "1.1",
};

/* As for REST APIs, every read is apigateway:GET on a resource path. */
static const struct tm_aws_operation s_operations[] = {
    {&s_api, "GetApis", "apigateway:GET"},         {&s_api, "GetRoutes", "apigateway:GET"},
    {&s_api, "GetIntegrations", "apigateway:GET"}, {&s_api, "GetAuthorizers", "apigateway:GET"},
    {&s_api, "GetStages", "apigateway:GET"},       {NULL, NULL, NULL},
};

enum s_part { S_ROUTES, S_INTEGRATIONS, S_AUTHORIZERS, S_STAGES, S_PARTS };

static const char *const s_part_ops[S_PARTS] = {"GetRoutes", "GetIntegrations", "GetAuthorizers", "GetStages"};
static const char *const s_part_paths[S_PARTS] = {"routes", "integrations", "authorizers", "stages"};

struct s_api_state;

struct s_part_call {
    struct s_api_state *api;
    enum s_part part;
};

struct s_api_state {
    const char *region;
    const char *id;
    const char *arn;
    int pending;
    struct s_part_call calls[S_PARTS];
    cJSON *routes;       /* descriptors */
    cJSON *integrations; /* id -> integration; NULL once unreadable */
    cJSON *integrations_unknown;
    cJSON *authorizers; /* id -> authorizer; NULL once unreadable */
    cJSON *authorizers_unknown;
    struct tm_aws_strv stages;
    bool stages_failed;
};

static int s_get(struct tm_aws_scan *scan, const char *region, const char *operation, const char *resource,
                 const char *path, tm_aws_done_fn done, void *user_data) {
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = operation,
        .region = region,
        .resource = resource,
        .method = "GET",
        .path = path,
    };
    return tm_aws_call(scan, &call, done, user_data);
}

/* What an API's state holds outside the scan's memory; also run when the scan is destroyed. */
static void s_api_free(void *ptr) {
    struct s_api_state *a = ptr;
    cJSON_Delete(a->routes);
    cJSON_Delete(a->integrations);
    cJSON_Delete(a->integrations_unknown);
    cJSON_Delete(a->authorizers);
    cJSON_Delete(a->authorizers_unknown);
    a->routes = a->integrations = a->integrations_unknown = a->authorizers = a->authorizers_unknown = NULL;
    tm__aws_strv_clean_up(&a->stages);
}

static void s_api_finish(struct tm_aws_scan *scan, struct s_api_state *a) {
    if (--a->pending > 0)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, a->region, "apigatewayv2", "GetRoutes");
    int rc = TM_OK;
    cJSON *api = tm_snapshot_find(f.snap, a->arn);
    if (!a->stages_failed) {
        cJSON *names = NULL;
        rc = tm__aws_json_sorted_strings(&names, &a->stages);
        if (!rc && api)
            rc = tm_snapshot_set_attr(api, "stages", names);
        else
            cJSON_Delete(names);
        struct tm_aws_apigwv2_parts parts = {
            .routes = a->routes,
            .integrations = a->integrations,
            .integrations_unknown = a->integrations_unknown,
            .authorizers = a->authorizers,
            .authorizers_unknown = a->authorizers_unknown,
            .stages = &a->stages,
        };
        if (!rc)
            rc = tm__aws_apigwv2_put_routes(&f, a->id, &parts);
    }
    s_api_free(a);
    (void)tm_aws_scan_check(scan, rc, "apigatewayv2 routes");
}

/* The part could not be read: routes stay as far as they were read; a lookup table becomes unknown;
 * the stage list (and so the API's stages attribute) becomes unknown. */
static int s_part_failed(struct tm_aws_scan *scan, struct s_api_state *a, enum s_part part,
                         const struct tm_snapshot_error *err) {
    cJSON **table = NULL, **unknown = NULL;
    switch (part) {
        case S_ROUTES:
            return TM_OK;
        case S_INTEGRATIONS:
            table = &a->integrations;
            unknown = &a->integrations_unknown;
            break;
        case S_AUTHORIZERS:
            table = &a->authorizers;
            unknown = &a->authorizers_unknown;
            break;
        case S_STAGES: {
            a->stages_failed = true;
            cJSON *api = tm_snapshot_find(tm_aws_scan_snapshot(scan), a->arn);
            if (api)
                tm__aws_set_fact(scan, api, "attrs", "stages", tm_aws_unknown_value(err));
            return TM_OK;
        }
        default:
            return TM_ERR_INVALID;
    }
    cJSON_Delete(*table);
    *table = NULL;
    if (!*unknown)
        *unknown = tm_aws_unknown_value(err);
    return *unknown ? TM_OK : TM_ERR_NOMEM;
}

static void s_part_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_part_call *pc = user_data;
    struct s_api_state *a = pc->api;
    const struct tm_snapshot_error *err = res->error;
    char *next = NULL;
    char errmsg[256] = "";
    int rc = TM_OK;
    if (!err) {
        switch (pc->part) {
            case S_ROUTES:
                rc = tm__aws_apigwv2_parse_routes(a->routes, res->body, res->body_len, &next, errmsg, sizeof(errmsg));
                break;
            case S_INTEGRATIONS:
                rc = a->integrations ? tm__aws_apigwv2_parse_integrations(a->integrations, res->body, res->body_len,
                                                                          &next, errmsg, sizeof(errmsg))
                                     : TM_OK;
                break;
            case S_AUTHORIZERS:
                rc = a->authorizers ? tm__aws_apigwv2_parse_authorizers(a->authorizers, res->body, res->body_len, &next,
                                                                        errmsg, sizeof(errmsg))
                                    : TM_OK;
                break;
            case S_STAGES:
                rc = tm__aws_apigwv2_parse_stages(&a->stages, res->body, res->body_len, &next, errmsg, sizeof(errmsg));
                break;
            default:
                rc = TM_ERR_INVALID;
                break;
        }
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    if (err && rc == TM_OK)
        rc = s_part_failed(scan, a, pc->part, err);
    if (tm__aws_page_end(scan, res, rc, err, "nextToken", next, res->call->operation, s_part_done, pc))
        return;
    s_api_finish(scan, a);
}

/* An API of a GetApis page (f): its parts are read next. */
static int s_start_api(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *id, void *user_data) {
    const char *region = user_data;
    struct s_api_state *a = tm_aws_scan_alloc(scan, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    char arn[512], path[600];
    int rc = tm__aws_apigwv2_api_arn(arn, sizeof(arn), f, id);
    if (rc)
        return rc;
    a->region = region;
    a->id = tm_aws_scan_strdup(scan, id);
    a->arn = tm_aws_scan_strdup(scan, arn);
    const char *path_id = tm__aws_path_segment(scan, id);
    rc = tm_aws_scan_on_destroy(scan, s_api_free, a);
    if (rc)
        return rc;
    a->routes = cJSON_CreateArray();
    a->integrations = cJSON_CreateObject();
    a->authorizers = cJSON_CreateObject();
    if (!a->id || !a->arn || !a->routes || !a->integrations || !a->authorizers)
        return TM_ERR_NOMEM;
    a->pending = S_PARTS;
    int queued = 0;
    for (; queued < S_PARTS; queued++) {
        a->calls[queued].api = a;
        a->calls[queued].part = (enum s_part)queued;
        snprintf(path, sizeof(path), "/v2/apis/%s/%s", path_id, s_part_paths[queued]);
        const char *p = tm_aws_scan_strdup(scan, path);
        rc = p ? s_get(scan, region, s_part_ops[queued], a->arn, p, s_part_done, &a->calls[queued]) : TM_ERR_NOMEM;
        if (rc)
            break;
    }
    /* Calls that could not be queued never complete: count them as done. */
    for (int i = queued; i < S_PARTS; i++)
        s_api_finish(scan, a);
    return rc;
}

static const struct tm_aws_listing s_apis = {"apigatewayv2", "nextToken", tm__aws_apigwv2_parse_apis, s_start_api};

static void s_apis_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)tm__aws_listing_page(scan, res, user_data, &s_apis, s_apis_done, user_data);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    char *r = tm_aws_scan_strdup(scan, region);
    if (!r)
        return TM_ERR_NOMEM;
    return s_get(scan, r, "GetApis", NULL, "/v2/apis", s_apis_done, r);
}

const struct tm_aws_service tm__aws_service_apigatewayv2 = {
    .name = "apigatewayv2",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
