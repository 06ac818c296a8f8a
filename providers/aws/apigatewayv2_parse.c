#include "providers/aws/apigatewayv2.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/apigateway.h"

int tm__aws_apigwv2_api_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id) {
    return tm_aws_arn(out, out_len, f->partition, "apigateway", f->region, "", "/apis/%s", api_id);
}

int tm__aws_apigwv2_route_path(char *out, size_t out_len, const char *api_id, const char *stage,
                               const char *route_key) {
    /* "GET /pets" -> "GET/pets"; "$default", "$connect", "sendMessage" stay as they are. */
    const char *space = strchr(route_key, ' ');
    int n;
    if (space && space[1] == '/')
        n = snprintf(out, out_len, "%s/%s/%.*s/%s", api_id, stage, (int)(space - route_key), route_key, space + 2);
    else
        n = snprintf(out, out_len, "%s/%s/%s", api_id, stage, route_key);
    return n < 0 || (size_t)n >= out_len ? TM_ERR_TOO_BIG : TM_OK;
}

static bool s_copy_strings(cJSON *dst, const char *to, const cJSON *src, const char *from, int *rc) {
    cJSON *arr = NULL;
    bool bad = false;
    *rc = tm__aws_json_copy_strings(&arr, src, from, &bad);
    if (*rc || bad)
        return bad ? false : true;
    if (!cJSON_AddItemToObject(dst, to, arr)) {
        cJSON_Delete(arr);
        *rc = TM_ERR_NOMEM;
    }
    return true;
}

static int s_cors(const struct tm_aws_facts *f, cJSON *res, const cJSON *api) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(api, "corsConfiguration");
    if (!c || cJSON_IsNull(c))
        return tm_snapshot_set_attr(res, "cors", cJSON_CreateNull());
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(c, "allowCredentials");
    const cJSON *age = cJSON_GetObjectItemCaseSensitive(c, "maxAge");
    cJSON *o = cJSON_IsObject(c) ? cJSON_CreateObject() : NULL;
    int rc = TM_OK;
    bool ok = o && (!cred || cJSON_IsBool(cred)) && (!age || cJSON_IsNumber(age));
    if (ok && (!cJSON_AddBoolToObject(o, "allow_credentials", cJSON_IsTrue(cred)) ||
               !cJSON_AddItemToObject(o, "max_age", age ? cJSON_CreateNumber(age->valuedouble) : cJSON_CreateNull())))
        rc = TM_ERR_NOMEM;
    if (ok && !rc)
        ok = s_copy_strings(o, "allow_headers", c, "allowHeaders", &rc) &&
             s_copy_strings(o, "allow_methods", c, "allowMethods", &rc) &&
             s_copy_strings(o, "allow_origins", c, "allowOrigins", &rc) &&
             s_copy_strings(o, "expose_headers", c, "exposeHeaders", &rc);
    if (rc || !ok) {
        cJSON_Delete(o);
        if (rc)
            return rc;
        if (cJSON_IsObject(c) && !o)
            return TM_ERR_NOMEM;
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: corsConfiguration is not a CORS configuration", f->operation);
        return tm__aws_facts_fail(f, res, "attrs", "cors", tm_json_str(res, "id", NULL), TM_AWS_CODE_MALFORMED, msg);
    }
    return tm_snapshot_set_attr(res, "cors", o);
}

static int s_put_api(const struct tm_aws_facts *f, const cJSON *api, int index, struct tm_aws_strv *ids) {
    const char *id = tm_json_str(api, "apiId", NULL);
    if (!cJSON_IsObject(api) || !tm__aws_apigw_valid_id(id)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: items[%d]: no usable apiId", f->operation, index);
        return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
    }
    char arn[512];
    cJSON *res = NULL;
    int rc = tm__aws_apigwv2_api_arn(arn, sizeof(arn), f, id);
    if (!rc)
        rc = tm_snapshot_resource(f->snap, arn, "aws:apigatewayv2:api", f->account, f->region,
                                  tm_json_str(api, "name", NULL), &res);
    if (rc == TM_ERR_INVALID)
        return TM_OK;
    if (!rc)
        rc = tm__aws_fact_string(f, res, "protocol_type", api, "protocolType", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "api_endpoint", api, "apiEndpoint", NULL);
    if (!rc)
        rc = tm__aws_fact_bool(f, res, "disable_execute_api_endpoint", api, "disableExecuteApiEndpoint", false);
    if (!rc)
        rc = s_cors(f, res, api);
    if (!rc && ids)
        rc = tm__aws_strv_push(ids, id);
    return rc;
}

/* One page of a v2 listing: {"items": [...], "nextToken": "..."}. */
static int s_page(char **next, const char *body, size_t len, const char *operation, tm_aws_json_item_fn item, void *acc,
                  char *errmsg, size_t errmsg_len) {
    return tm__aws_json_page(next, body, len, operation, "items", "nextToken", item, acc, errmsg, errmsg_len);
}

static int s_api_item(void *acc, const cJSON *item, int index, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    struct tm_aws_page_acc *a = acc;
    return s_put_api(a->f, item, index, a->items);
}

int tm__aws_apigwv2_parse_apis(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *ids,
                               char **next_token, char *errmsg, size_t errmsg_len) {
    struct tm_aws_page_acc acc = {f, ids};
    return s_page(next_token, body, len, "GetApis", s_api_item, &acc, errmsg, errmsg_len);
}

static int s_route_item(void *acc, const cJSON *r, int index, char *errmsg, size_t errmsg_len) {
    (void)index;
    cJSON *routes = acc;
    const char *key = tm_json_str(r, "routeKey", NULL);
    const cJSON *akr = cJSON_GetObjectItemCaseSensitive(r, "apiKeyRequired");
    if (!cJSON_IsObject(r) || !key || !*key || (akr && !cJSON_IsBool(akr))) {
        snprintf(errmsg, errmsg_len, "not a route");
        return TM_ERR_PARSE;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    bool ok =
        cJSON_AddStringToObject(o, "route_key", key) && cJSON_AddBoolToObject(o, "api_key_required", cJSON_IsTrue(akr));
    if (!ok)
        rc = TM_ERR_NOMEM;
    if (!rc)
        ok = tm__aws_apigw_copy_str(o, "route_id", r, "routeId", &rc) &&
             tm__aws_apigw_copy_str(o, "authorization_type", r, "authorizationType", &rc) &&
             tm__aws_apigw_copy_str(o, "authorizer_id", r, "authorizerId", &rc) &&
             tm__aws_apigw_copy_str(o, "target", r, "target", &rc);
    if (!rc && !ok) {
        snprintf(errmsg, errmsg_len, "route %s has a field of the wrong type", key);
        rc = TM_ERR_PARSE;
    }
    if (!rc && !cJSON_AddItemToArray(routes, o))
        rc = TM_ERR_NOMEM;
    if (rc)
        cJSON_Delete(o);
    return rc;
}

int tm__aws_apigwv2_parse_routes(cJSON *routes, const char *body, size_t len, char **next_token, char *errmsg,
                                 size_t errmsg_len) {
    return s_page(next_token, body, len, "GetRoutes", s_route_item, routes, errmsg, errmsg_len);
}

static int s_keyed_add(cJSON *obj, const char *key, cJSON *o) {
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (!cJSON_AddItemToObject(obj, key, o)) {
        cJSON_Delete(o);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_integration_item(void *acc, const cJSON *it, int index, char *errmsg, size_t errmsg_len) {
    (void)index;
    const char *id = tm_json_str(it, "integrationId", NULL);
    if (!cJSON_IsObject(it) || !tm__aws_apigw_valid_id(id)) {
        snprintf(errmsg, errmsg_len, "no usable integrationId");
        return TM_ERR_PARSE;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    bool ok = tm__aws_apigw_copy_str(o, "type", it, "integrationType", &rc) &&
              tm__aws_apigw_copy_str(o, "uri", it, "integrationUri", &rc) &&
              tm__aws_apigw_copy_str(o, "http_method", it, "integrationMethod", &rc) &&
              tm__aws_apigw_copy_str(o, "connection_type", it, "connectionType", &rc) &&
              tm__aws_apigw_copy_str(o, "credentials_arn", it, "credentialsArn", &rc);
    if (!rc && !ok) {
        snprintf(errmsg, errmsg_len, "integration %s has a field of the wrong type", id);
        rc = TM_ERR_PARSE;
    }
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    return s_keyed_add(acc, id, o);
}

int tm__aws_apigwv2_parse_integrations(cJSON *integrations, const char *body, size_t len, char **next_token,
                                       char *errmsg, size_t errmsg_len) {
    return s_page(next_token, body, len, "GetIntegrations", s_integration_item, integrations, errmsg, errmsg_len);
}

static int s_authorizer_item(void *acc, const cJSON *it, int index, char *errmsg, size_t errmsg_len) {
    (void)index;
    const char *id = tm_json_str(it, "authorizerId", NULL);
    const cJSON *jwt = cJSON_GetObjectItemCaseSensitive(it, "jwtConfiguration");
    if (!cJSON_IsObject(it) || !tm__aws_apigw_valid_id(id) || (jwt && !cJSON_IsNull(jwt) && !cJSON_IsObject(jwt))) {
        snprintf(errmsg, errmsg_len, "not an authorizer");
        return TM_ERR_PARSE;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    bool ok = cJSON_AddStringToObject(o, "id", id) != NULL;
    if (!ok)
        rc = TM_ERR_NOMEM;
    if (!rc)
        ok = tm__aws_apigw_copy_str(o, "type", it, "authorizerType", &rc) &&
             tm__aws_apigw_copy_str(o, "name", it, "name", &rc) &&
             tm__aws_apigw_copy_str(o, "authorizer_uri", it, "authorizerUri", &rc) &&
             s_copy_strings(o, "identity_source", it, "identitySource", &rc);
    if (!rc && ok) {
        if (cJSON_IsObject(jwt)) {
            ok = tm__aws_apigw_copy_str(o, "issuer", jwt, "issuer", &rc) &&
                 s_copy_strings(o, "audience", jwt, "audience", &rc);
        } else if (!cJSON_AddNullToObject(o, "issuer") || !cJSON_AddNullToObject(o, "audience")) {
            rc = TM_ERR_NOMEM;
        }
    }
    if (!rc && !ok) {
        snprintf(errmsg, errmsg_len, "authorizer %s has a field of the wrong type", id);
        rc = TM_ERR_PARSE;
    }
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    return s_keyed_add(acc, id, o);
}

int tm__aws_apigwv2_parse_authorizers(cJSON *authorizers, const char *body, size_t len, char **next_token, char *errmsg,
                                      size_t errmsg_len) {
    return s_page(next_token, body, len, "GetAuthorizers", s_authorizer_item, authorizers, errmsg, errmsg_len);
}

static int s_stage_item(void *acc, const cJSON *it, int index, char *errmsg, size_t errmsg_len) {
    (void)index;
    const char *name = tm_json_str(it, "stageName", NULL);
    if (!tm__aws_apigw_valid_id(name)) {
        snprintf(errmsg, errmsg_len, "no usable stageName");
        return TM_ERR_PARSE;
    }
    return tm__aws_strv_push(acc, name);
}

int tm__aws_apigwv2_parse_stages(struct tm_aws_strv *names, const char *body, size_t len, char **next_token,
                                 char *errmsg, size_t errmsg_len) {
    return s_page(next_token, body, len, "GetStages", s_stage_item, names, errmsg, errmsg_len);
}

static int s_put_route(const struct tm_aws_facts *f, const char *api_id, const char *api_arn, const char *stage,
                       const cJSON *r, const struct tm_aws_apigwv2_parts *parts) {
    const char *key = tm_json_str(r, "route_key", "");
    char path[2048], arn[2304];
    int rc = tm__aws_apigwv2_route_path(path, sizeof(path), api_id, stage, key);
    if (!rc)
        rc = tm_aws_arn(arn, sizeof(arn), f->partition, "execute-api", f->region, f->account, "%s", path);
    if (rc == TM_ERR_TOO_BIG)
        return TM_OK;
    cJSON *res = NULL, *integration = NULL, *authorizer = NULL;
    rc = tm_snapshot_resource(f->snap, arn, "aws:apigatewayv2:route", f->account, f->region, key, &res);
    if (rc == TM_ERR_INVALID)
        return TM_OK;
    const char *target = tm_json_str(r, "target", NULL);
    const char *integration_id = target && tm_str_starts_with(target, "integrations/") ? target + 13 : NULL;
    char used_by[512];
    snprintf(used_by, sizeof(used_by), "route %s", key);
    if (!rc)
        rc = tm__aws_apigw_lookup(&integration, f, api_arn, "GetIntegrations", parts->integrations,
                                  parts->integrations_unknown, integration_id, "", used_by);
    if (!rc)
        rc = tm_snapshot_set_attr(res, "integration", integration);
    if (!rc)
        rc = tm__aws_apigw_lookup(&authorizer, f, api_arn, "GetAuthorizers", parts->authorizers,
                                  parts->authorizers_unknown, tm_json_str(r, "authorizer_id", NULL), "", used_by);
    if (!rc)
        rc = tm_snapshot_set_attr(res, "authorizer", authorizer);
    if (!rc)
        rc = tm_snapshot_set_attr(res, "api_id", cJSON_CreateString(api_id));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "stage", cJSON_CreateString(stage));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "route_key", cJSON_CreateString(key));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "authorization_type",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "authorization_type"), true));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "api_key_required",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "api_key_required"), true));
    if (!rc)
        rc = tm_snapshot_add_link(res, "member-of", api_arn);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "attrs"), "integration");
    if (!rc && cJSON_IsObject(in) && !tm_snapshot_is_unknown(in))
        rc = tm__aws_apigw_link_integration(res, tm_json_str(in, "uri", NULL));
    return rc;
}

int tm__aws_apigwv2_put_routes(const struct tm_aws_facts *f, const char *api_id,
                               const struct tm_aws_apigwv2_parts *parts) {
    char api_arn[512];
    int rc = tm__aws_apigwv2_api_arn(api_arn, sizeof(api_arn), f, api_id);
    for (size_t s = 0; parts->stages && s < parts->stages->n && !rc; s++)
        for (const cJSON *r = parts->routes ? parts->routes->child : NULL; r && !rc; r = r->next)
            rc = s_put_route(f, api_id, api_arn, parts->stages->v[s], r, parts);
    return rc;
}
