#include "providers/aws/apigateway.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/lambda.h"

bool tm__aws_apigw_valid_id(const char *id) {
    return id && *id && !strchr(id, '/') && !strchr(id, ':') && strlen(id) < 256;
}

int tm__aws_apigw_api_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id) {
    return tm_aws_arn(out, out_len, f->partition, "apigateway", f->region, "", "/restapis/%s", api_id);
}

int tm__aws_apigw_stage_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id,
                            const char *stage) {
    return tm_aws_arn(out, out_len, f->partition, "apigateway", f->region, "", "/restapis/%s/stages/%s", api_id, stage);
}

static int s_malformed_item(const struct tm_aws_facts *f, int index, const char *what) {
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: item[%d]: %s", f->operation, index, what);
    return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
}

static int s_policy(const struct tm_aws_facts *f, cJSON *res, const cJSON *api) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(api, "policy");
    if (!p || cJSON_IsNull(p))
        return tm_snapshot_set_policy(res, "resource", cJSON_CreateNull());
    char errmsg[256] = "";
    cJSON *doc = NULL;
    int rc = cJSON_IsString(p)
                 ? tm__aws_policy_parse(&doc, p->valuestring, strlen(p->valuestring), errmsg, sizeof(errmsg))
                 : TM_ERR_PARSE;
    if (rc == TM_OK)
        return tm_snapshot_set_policy(res, "resource", doc);
    if (rc == TM_ERR_NOMEM)
        return rc;
    char msg[320];
    snprintf(msg, sizeof(msg), "%s: policy: %s", f->operation, cJSON_IsString(p) ? errmsg : "not a string");
    return tm__aws_facts_fail(f, res, "policies", "resource", tm_json_str(res, "id", NULL),
                              TM_AWS_CODE_MALFORMED_POLICY, msg);
}

static int s_put_api(const struct tm_aws_facts *f, const cJSON *api, int index, struct tm_aws_strv *ids) {
    const char *id = tm_json_str(api, "id", NULL);
    if (!cJSON_IsObject(api) || !tm__aws_apigw_valid_id(id))
        return s_malformed_item(f, index, "no usable id");
    char arn[512];
    int rc = tm__aws_apigw_api_arn(arn, sizeof(arn), f, id);
    if (rc)
        return rc;
    cJSON *res = NULL;
    rc = tm_snapshot_resource(f->snap, arn, "aws:apigateway:restapi", f->account, f->region,
                              tm_json_str(api, "name", NULL), &res);
    if (rc == TM_ERR_INVALID)
        return s_malformed_item(f, index, "the API's ARN names another resource");
    if (rc)
        return rc;
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(api, "endpointConfiguration");
    if (ec && !cJSON_IsNull(ec) && !cJSON_IsObject(ec)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s: endpointConfiguration is not an object", f->operation);
        rc = tm__aws_facts_fail(f, res, "attrs", "endpoint_types", arn, TM_AWS_CODE_MALFORMED, msg);
        if (!rc)
            rc = tm__aws_facts_fail(f, res, "attrs", "vpc_endpoint_ids", arn, TM_AWS_CODE_MALFORMED, msg);
    } else {
        rc = tm__aws_fact_strings(f, res, "endpoint_types", ec, "types", false);
        if (!rc)
            rc = tm__aws_fact_strings(f, res, "vpc_endpoint_ids", ec, "vpcEndpointIds", true);
    }
    if (!rc)
        rc = tm__aws_fact_bool(f, res, "disable_execute_api_endpoint", api, "disableExecuteApiEndpoint", false);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "api_key_source", api, "apiKeySource", NULL);
    if (!rc)
        rc = s_policy(f, res, api);
    if (!rc && ids)
        rc = tm__aws_strv_push(ids, id);
    return rc;
}

/* v1 listings: {"item": [...], "position": "..."}. */
static int s_page(char **position, const char *body, size_t len, const char *operation, tm_aws_json_item_fn item,
                  void *acc, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_page(position, body, len, operation, "item", "position", item, acc, errmsg, errmsg_len);
}

static int s_api_item(void *acc, const cJSON *item, int index, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    struct tm_aws_page_acc *a = acc;
    return s_put_api(a->f, item, index, a->items);
}

int tm__aws_apigw_parse_rest_apis(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *ids,
                                  char **position, char *errmsg, size_t errmsg_len) {
    struct tm_aws_page_acc acc = {f, ids};
    return s_page(position, body, len, "GetRestApis", s_api_item, &acc, errmsg, errmsg_len);
}

bool tm__aws_apigw_copy_str(cJSON *dst, const char *to, const cJSON *src, const char *from, int *rc) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, from);
    if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
        return false;
    if (!cJSON_AddItemToObject(dst, to, tm_aws_json_string_or_null(cJSON_IsString(v) ? v->valuestring : NULL)))
        *rc = TM_ERR_NOMEM;
    return true;
}

static int s_integration(cJSON **out, const cJSON *m) {
    *out = NULL;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(m, "methodIntegration");
    if (!in || cJSON_IsNull(in)) {
        *out = cJSON_CreateNull();
        return *out ? TM_OK : TM_ERR_NOMEM;
    }
    if (!cJSON_IsObject(in))
        return TM_ERR_PARSE;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    if (!tm__aws_apigw_copy_str(o, "type", in, "type", &rc) || !tm__aws_apigw_copy_str(o, "uri", in, "uri", &rc) ||
        !tm__aws_apigw_copy_str(o, "http_method", in, "httpMethod", &rc) ||
        !tm__aws_apigw_copy_str(o, "connection_type", in, "connectionType", &rc) ||
        !tm__aws_apigw_copy_str(o, "credentials", in, "credentials", &rc))
        rc = rc ? rc : TM_ERR_PARSE;
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return TM_OK;
}

static int s_method(cJSON *methods, const char *path, const char *verb, const cJSON *m) {
    if (!cJSON_IsObject(m))
        return TM_ERR_PARSE;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(m, "apiKeyRequired");
    if (key && !cJSON_IsNull(key) && !cJSON_IsBool(key))
        return TM_ERR_PARSE;
    cJSON *o = cJSON_CreateObject();
    cJSON *integration = NULL;
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    if (!cJSON_AddStringToObject(o, "path", path) || !cJSON_AddStringToObject(o, "http_method", verb) ||
        !cJSON_AddBoolToObject(o, "api_key_required", cJSON_IsTrue(key)))
        rc = TM_ERR_NOMEM;
    if (!rc && (!tm__aws_apigw_copy_str(o, "authorization_type", m, "authorizationType", &rc) ||
                !tm__aws_apigw_copy_str(o, "authorizer_id", m, "authorizerId", &rc)))
        rc = rc ? rc : TM_ERR_PARSE;
    if (!rc)
        rc = s_integration(&integration, m);
    if (!rc && !cJSON_AddItemToObject(o, "integration", integration)) {
        cJSON_Delete(integration);
        rc = TM_ERR_NOMEM;
    }
    if (!rc && !cJSON_AddItemToArray(methods, o))
        rc = TM_ERR_NOMEM;
    if (rc)
        cJSON_Delete(o);
    return rc;
}

static int s_resource_item(void *acc, const cJSON *r, int i, char *errmsg, size_t errmsg_len) {
    const char *path = tm_json_str(r, "path", NULL);
    const cJSON *rm = cJSON_GetObjectItemCaseSensitive(r, "resourceMethods");
    if (!path || *path != '/' || (rm && !cJSON_IsNull(rm) && !cJSON_IsObject(rm))) {
        snprintf(errmsg, errmsg_len, "GetResources: item[%d]: no path or resourceMethods is not an object", i);
        return TM_ERR_PARSE;
    }
    int rc = TM_OK;
    for (const cJSON *m = cJSON_IsObject(rm) ? rm->child : NULL; m && !rc; m = m->next) {
        rc = s_method(acc, path, m->string, m);
        if (rc == TM_ERR_PARSE)
            snprintf(errmsg, errmsg_len, "GetResources: item[%d]: method %s is not a method", i, m->string);
    }
    return rc;
}

int tm__aws_apigw_parse_resources(cJSON *methods, const char *body, size_t len, char **position, char *errmsg,
                                  size_t errmsg_len) {
    return s_page(position, body, len, "GetResources", s_resource_item, methods, errmsg, errmsg_len);
}

static int s_authorizer_item(void *acc, const cJSON *a, int i, char *errmsg, size_t errmsg_len) {
    cJSON *authorizers = acc;
    const char *id = tm_json_str(a, "id", NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON *arns = NULL;
    bool bad = false;
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    if (!tm__aws_apigw_valid_id(id) || !cJSON_AddStringToObject(o, "id", id) ||
        !tm__aws_apigw_copy_str(o, "type", a, "type", &rc) || !tm__aws_apigw_copy_str(o, "name", a, "name", &rc) ||
        !tm__aws_apigw_copy_str(o, "authorizer_uri", a, "authorizerUri", &rc) ||
        !tm__aws_apigw_copy_str(o, "identity_source", a, "identitySource", &rc))
        bad = true;
    if (!bad && !rc)
        rc = tm__aws_json_copy_strings(&arns, a, "providerARNs", &bad);
    if (!bad && !rc && !cJSON_AddItemToObject(o, "provider_arns", arns)) {
        cJSON_Delete(arns);
        rc = TM_ERR_NOMEM;
    }
    if (bad && !rc) {
        snprintf(errmsg, errmsg_len, "GetAuthorizers: item[%d]: not an authorizer", i);
        rc = TM_ERR_PARSE;
    }
    if (!rc && cJSON_GetObjectItemCaseSensitive(authorizers, id))
        cJSON_DeleteItemFromObjectCaseSensitive(authorizers, id);
    if (!rc && !cJSON_AddItemToObject(authorizers, id, o))
        rc = TM_ERR_NOMEM;
    if (rc)
        cJSON_Delete(o);
    return rc;
}

int tm__aws_apigw_parse_authorizers(cJSON *authorizers, const char *body, size_t len, char **position, char *errmsg,
                                    size_t errmsg_len) {
    return s_page(position, body, len, "GetAuthorizers", s_authorizer_item, authorizers, errmsg, errmsg_len);
}

struct s_stages_acc {
    const struct tm_aws_facts *f;
    const char *api_id;
    const char *api_arn;
    struct tm_aws_strv *names;
};

static int s_stage_item(void *acc, const cJSON *s, int i, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    const struct s_stages_acc *st = acc;
    const struct tm_aws_facts *f = st->f;
    const char *name = tm_json_str(s, "stageName", NULL);
    if (!cJSON_IsObject(s) || !tm__aws_apigw_valid_id(name))
        return s_malformed_item(f, i, "no usable stageName");
    char arn[768];
    cJSON *res = NULL;
    int rc = tm__aws_apigw_stage_arn(arn, sizeof(arn), f, st->api_id, name);
    if (!rc)
        rc = tm_snapshot_resource(f->snap, arn, "aws:apigateway:stage", f->account, f->region, name, &res);
    if (rc == TM_ERR_INVALID)
        return s_malformed_item(f, i, "the stage's ARN names another resource");
    if (!rc)
        rc = tm__aws_fact_string(f, res, "deployment_id", s, "deploymentId", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "client_certificate_id", s, "clientCertificateId", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "web_acl_arn", s, "webAclArn", NULL);
    if (!rc)
        rc = tm_snapshot_add_link(res, "member-of", st->api_arn);
    if (!rc && st->names)
        rc = tm__aws_strv_push(st->names, name);
    return rc;
}

int tm__aws_apigw_parse_stages(const struct tm_aws_facts *f, const char *api_id, const char *body, size_t len,
                               struct tm_aws_strv *names, char *errmsg, size_t errmsg_len) {
    char api_arn[512];
    int rc = tm__aws_apigw_api_arn(api_arn, sizeof(api_arn), f, api_id);
    if (rc)
        return rc;
    struct s_stages_acc acc = {f, api_id, api_arn, names};
    return tm__aws_json_page(NULL, body, len, "GetStages", "item", NULL, s_stage_item, &acc, errmsg, errmsg_len);
}

static int s_usage_plan_item(void *acc, const cJSON *p, int i, char *errmsg, size_t errmsg_len) {
    cJSON *by_stage = acc;
    const char *id = tm_json_str(p, "id", NULL);
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(p, "apiStages");
    if (!tm__aws_apigw_valid_id(id) || (stages && !cJSON_IsNull(stages) && !cJSON_IsArray(stages))) {
        snprintf(errmsg, errmsg_len, "GetUsagePlans: item[%d]: not a usage plan", i);
        return TM_ERR_PARSE;
    }
    int rc = TM_OK;
    for (const cJSON *s = cJSON_IsArray(stages) ? stages->child : NULL; s && !rc; s = s->next) {
        const char *api = tm_json_str(s, "apiId", NULL), *stage = tm_json_str(s, "stage", NULL);
        if (!api || !stage) {
            snprintf(errmsg, errmsg_len, "GetUsagePlans: item[%d]: an apiStage has no apiId or stage", i);
            return TM_ERR_PARSE;
        }
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", api, stage);
        cJSON *list = cJSON_GetObjectItemCaseSensitive(by_stage, key);
        if (!list && !(list = cJSON_AddArrayToObject(by_stage, key)))
            return TM_ERR_NOMEM;
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "id", id) ||
            !cJSON_AddItemToObject(o, "name", tm_aws_json_string_or_null(tm_json_str(p, "name", NULL))) ||
            !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            rc = TM_ERR_NOMEM;
        }
    }
    return rc;
}

int tm__aws_apigw_parse_usage_plans(cJSON *by_stage, const char *body, size_t len, char **position, char *errmsg,
                                    size_t errmsg_len) {
    return s_page(position, body, len, "GetUsagePlans", s_usage_plan_item, by_stage, errmsg, errmsg_len);
}

int tm__aws_apigw_link_integration(cJSON *res, const char *uri) {
    char *fn = tm__aws_lambda_arn_from_uri(uri);
    if (!fn)
        return TM_OK;
    char *base = tm__aws_lambda_unqualified_arn(fn);
    int rc = base ? tm_snapshot_add_link(res, "integrates-with", base) : TM_ERR_NOMEM;
    if (!rc && strcmp(base, fn) != 0 && !strstr(fn, "${"))
        rc = tm_snapshot_add_link(res, "integrates-with", fn);
    free(base);
    free(fn);
    return rc;
}

int tm__aws_apigw_lookup(cJSON **out, const struct tm_aws_facts *f, const char *api_arn, const char *operation,
                         const cJSON *table, const cJSON *unknown, const char *id, const char *id_label,
                         const char *used_by) {
    if (!id) {
        *out = cJSON_CreateNull();
    } else if (!table) {
        *out = unknown ? cJSON_Duplicate(unknown, true) : tm_aws_unknown_value(NULL);
    } else if (cJSON_GetObjectItemCaseSensitive(table, id)) {
        *out = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(table, id), true);
    } else {
        /* Named but not listed: record that, do not guess. */
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s%s used by %s is not listed", operation, id_label, id, used_by);
        struct tm_snapshot_error e = {f->service, operation, f->region, api_arn, TM_AWS_CODE_MALFORMED, msg, 1};
        int rc = tm_snapshot_add_error(f->snap, &e);
        if (rc)
            return rc;
        *out = tm_aws_unknown_value(&e);
    }
    return *out ? TM_OK : TM_ERR_NOMEM;
}

static int s_put_method(const struct tm_aws_facts *f, const char *api_id, const char *api_arn, const char *stage,
                        const cJSON *m, const cJSON *authorizers, const cJSON *authorizers_unknown) {
    const char *path = tm_json_str(m, "path", "/");
    const char *verb = tm_json_str(m, "http_method", "");
    char arn[2048], name[1024];
    int rc = tm_aws_arn(arn, sizeof(arn), f->partition, "execute-api", f->region, f->account, "%s/%s/%s/%s", api_id,
                        stage, verb, path + 1);
    if (rc == TM_ERR_TOO_BIG)
        return TM_OK; /* a path longer than any API Gateway allows */
    snprintf(name, sizeof(name), "%s %s", verb, path);
    cJSON *res = NULL, *authorizer = NULL;
    rc = tm_snapshot_resource(f->snap, arn, "aws:apigateway:method", f->account, f->region, name, &res);
    if (rc == TM_ERR_INVALID)
        return TM_OK;
    if (!rc)
        rc = tm_snapshot_set_attr(res, "api_id", cJSON_CreateString(api_id));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "stage", cJSON_CreateString(stage));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "http_method", cJSON_CreateString(verb));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "path", cJSON_CreateString(path));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "authorization_type",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "authorization_type"), true));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "api_key_required",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "api_key_required"), true));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "integration",
                                  cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "integration"), true));
    if (!rc)
        rc = tm__aws_apigw_lookup(&authorizer, f, api_arn, "GetAuthorizers", authorizers, authorizers_unknown,
                                  tm_json_str(m, "authorizer_id", NULL), "authorizer ", name);
    if (!rc)
        rc = tm_snapshot_set_attr(res, "authorizer", authorizer);
    if (!rc)
        rc = tm_snapshot_add_link(res, "member-of", api_arn);
    if (!rc)
        rc = tm__aws_apigw_link_integration(
            res, tm_json_str(cJSON_GetObjectItemCaseSensitive(m, "integration"), "uri", NULL));
    return rc;
}

int tm__aws_apigw_put_methods(const struct tm_aws_facts *f, const char *api_id, const cJSON *methods,
                              const cJSON *authorizers, const cJSON *authorizers_unknown,
                              const struct tm_aws_strv *stages) {
    char api_arn[512];
    int rc = tm__aws_apigw_api_arn(api_arn, sizeof(api_arn), f, api_id);
    for (size_t s = 0; s < stages->n && !rc; s++)
        for (const cJSON *m = methods ? methods->child : NULL; m && !rc; m = m->next)
            rc = s_put_method(f, api_id, api_arn, stages->v[s], m, authorizers, authorizers_unknown);
    return rc;
}
