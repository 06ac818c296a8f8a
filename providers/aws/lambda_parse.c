#include "providers/aws/lambda.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/service.h"

#define S_SCRUB_MAX_DEPTH 256

void tm__aws_lambda_scrub_environment(char *body, size_t len) {
    bool is_obj[S_SCRUB_MAX_DEPTH];
    size_t depth = 0;
    size_t scrub_depth = 0; /* depth of the Variables object being scrubbed; 0: none */
    char last = 0;          /* the last structural token: { [ , : or k (key) / v (value) */
    bool pending = false;   /* a "Variables" key was read and its value has not started */
    for (size_t i = 0; i < len; i++) {
        char c = body[i];
        if (c == '"') {
            size_t start = i + 1, j = start;
            while (j < len && body[j] != '"')
                j += body[j] == '\\' ? 2 : 1;
            size_t end = j < len ? j : len;
            bool is_key = depth > 0 && depth <= S_SCRUB_MAX_DEPTH && is_obj[depth - 1] && (last == '{' || last == ',');
            if (!is_key && scrub_depth && depth >= scrub_depth)
                memset(body + start, '*', end - start);
            pending = is_key && end - start == 9 && memcmp(body + start, "Variables", 9) == 0;
            last = is_key ? 'k' : 'v';
            i = end;
            continue;
        }
        switch (c) {
            case '{':
            case '[':
                if (depth < S_SCRUB_MAX_DEPTH)
                    is_obj[depth] = c == '{';
                depth++;
                if (c == '{' && pending && last == ':' && !scrub_depth)
                    scrub_depth = depth;
                pending = false;
                last = c;
                break;
            case '}':
            case ']':
                if (scrub_depth && depth == scrub_depth)
                    scrub_depth = 0;
                if (depth > 0)
                    depth--;
                pending = false;
                last = 'v';
                break;
            case ':':
                last = ':';
                break;
            case ',':
                pending = false;
                last = ',';
                break;
            case ' ':
            case '\t':
            case '\n':
            case '\r':
                break;
            default:
                /* A value that is not a string (the model says it always is): digits are overwritten too,
                 * keeping the number well-formed. */
                if (scrub_depth && depth >= scrub_depth && c >= '1' && c <= '9')
                    body[i] = '0';
                pending = false;
                last = 'v';
                break;
        }
    }
}

/* Zeroes what the parser's tree holds of environment values, in case a "Variables" object escaped
 * the byte scrubber (it only follows the first 256 levels of nesting). */
static void s_cleanse_variables(cJSON *item) {
    for (cJSON *c = item ? item->child : NULL; c; c = c->next) {
        if (c->string && strcmp(c->string, "Variables") == 0 && cJSON_IsObject(c)) {
            for (cJSON *v = c->child; v; v = v->next)
                if (cJSON_IsString(v) && v->valuestring)
                    OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
        }
        s_cleanse_variables(c);
    }
}

static int s_malformed_item(const struct tm_aws_facts *f, const char *list, int index, const char *what) {
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s[%d]: %s", f->operation, list, index, what);
    return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
}

static int s_malformed_fact(const struct tm_aws_facts *f, cJSON *res, const char *key, const char *what) {
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", f->operation, what);
    return tm__aws_facts_fail(f, res, "attrs", key, tm_json_str(res, "id", NULL), TM_AWS_CODE_MALFORMED, msg);
}

static int s_vpc(const struct tm_aws_facts *f, cJSON *res, const cJSON *fn) {
    const cJSON *vpc = cJSON_GetObjectItemCaseSensitive(fn, "VpcConfig");
    if (!vpc || cJSON_IsNull(vpc))
        return tm_snapshot_set_attr(res, "vpc", cJSON_CreateNull());
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(vpc, "VpcId");
    if (!cJSON_IsObject(vpc) || (id && !cJSON_IsNull(id) && !cJSON_IsString(id)))
        return s_malformed_fact(f, res, "vpc", "VpcConfig is not a VPC configuration");
    cJSON *subnets = NULL, *groups = NULL;
    bool bad1 = false, bad2 = false;
    int rc = tm__aws_json_copy_strings(&subnets, vpc, "SubnetIds", &bad1);
    if (!rc)
        rc = tm__aws_json_copy_strings(&groups, vpc, "SecurityGroupIds", &bad2);
    if (rc || bad1 || bad2) {
        cJSON_Delete(subnets);
        cJSON_Delete(groups);
        return rc ? rc : s_malformed_fact(f, res, "vpc", "VpcConfig holds a list that is not a list of strings");
    }
    /* Functions outside a VPC come back with an empty VpcId and empty lists. */
    if ((!cJSON_IsString(id) || !*id->valuestring) && !subnets->child && !groups->child) {
        cJSON_Delete(subnets);
        cJSON_Delete(groups);
        return tm_snapshot_set_attr(res, "vpc", cJSON_CreateNull());
    }
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToObject(o, "subnet_ids", subnets)) {
        cJSON_Delete(o);
        cJSON_Delete(subnets);
        cJSON_Delete(groups);
        return TM_ERR_NOMEM;
    }
    if (!cJSON_AddItemToObject(o, "security_group_ids", groups)) {
        cJSON_Delete(o);
        cJSON_Delete(groups);
        return TM_ERR_NOMEM;
    }
    if (!cJSON_AddItemToObject(o, "vpc_id", tm_aws_json_string_or_null(cJSON_IsString(id) ? id->valuestring : NULL))) {
        cJSON_Delete(o);
        return TM_ERR_NOMEM;
    }
    return tm_snapshot_set_attr(res, "vpc", o);
}

static int s_env_names(const struct tm_aws_facts *f, cJSON *res, const cJSON *fn) {
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(fn, "Environment");
    const cJSON *vars = cJSON_GetObjectItemCaseSensitive(env, "Variables");
    if (env && !cJSON_IsNull(env) && !cJSON_IsObject(env))
        return s_malformed_fact(f, res, "environment_variable_names", "Environment is not an object");
    if (vars && !cJSON_IsNull(vars) && !cJSON_IsObject(vars))
        return s_malformed_fact(f, res, "environment_variable_names", "Environment.Variables is not an object");
    struct tm_aws_strv names = {0};
    int rc = TM_OK;
    for (const cJSON *v = cJSON_IsObject(vars) ? vars->child : NULL; v && !rc; v = v->next)
        rc = tm__aws_strv_push(&names, v->string ? v->string : "");
    cJSON *arr = NULL;
    if (!rc)
        rc = tm__aws_json_sorted_strings(&arr, &names);
    tm__aws_strv_clean_up(&names);
    if (rc)
        return rc;
    return tm_snapshot_set_attr(res, "environment_variable_names", arr);
}

static int s_layers(const struct tm_aws_facts *f, cJSON *res, const cJSON *fn) {
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(fn, "Layers");
    if (layers && !cJSON_IsNull(layers) && !cJSON_IsArray(layers))
        return s_malformed_fact(f, res, "layers", "Layers is not an array");
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return TM_ERR_NOMEM;
    for (const cJSON *l = cJSON_IsArray(layers) ? layers->child : NULL; l; l = l->next) {
        const char *arn = tm_json_str(l, "Arn", NULL);
        if (!arn) {
            cJSON_Delete(arr);
            return s_malformed_fact(f, res, "layers", "a layer has no Arn");
        }
        cJSON *s = cJSON_CreateString(arn);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            cJSON_Delete(arr);
            return TM_ERR_NOMEM;
        }
    }
    return tm_snapshot_set_attr(res, "layers", arr);
}

static int s_function_resource(const struct tm_aws_facts *f, const char *arn, const char *name, cJSON **out) {
    char account[64], region[64], fallback_name[256];
    tm__aws_arn_copy(account, sizeof(account), arn, 4);
    tm__aws_arn_copy(region, sizeof(region), arn, 3);
    if (!name) {
        /* resource field: "function:NAME" */
        tm__aws_arn_copy(fallback_name, sizeof(fallback_name), arn, 5);
        char *colon = strchr(fallback_name, ':');
        name = colon ? colon + 1 : NULL;
    }
    int rc = tm_snapshot_resource(f->snap, arn, "aws:lambda:function", *account ? account : f->account,
                                  *region ? region : f->region, name, out);
    if (rc == TM_ERR_INVALID) {
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s is already recorded as another kind of resource", f->operation, arn);
        *out = NULL;
        return tm__aws_facts_fail(f, NULL, NULL, NULL, arn, TM_AWS_CODE_MALFORMED, msg);
    }
    return rc;
}

static int s_put_function(const struct tm_aws_facts *f, const cJSON *fn, int index, struct tm_aws_strv *arns) {
    const char *arn = tm_json_str(fn, "FunctionArn", NULL);
    char *unqualified = tm__aws_lambda_unqualified_arn(arn);
    bool is_fn = unqualified && strcmp(unqualified, arn) == 0;
    free(unqualified);
    if (!cJSON_IsObject(fn) || !arn || !is_fn)
        return s_malformed_item(f, "Functions", index, "no unqualified FunctionArn");
    cJSON *res = NULL;
    int rc = s_function_resource(f, arn, tm_json_str(fn, "FunctionName", NULL), &res);
    if (rc || !res)
        return rc;
    rc = tm__aws_fact_string(f, res, "runtime", fn, "Runtime", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "role", fn, "Role", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "package_type", fn, "PackageType", NULL);
    if (!rc)
        rc = s_vpc(f, res, fn);
    if (!rc)
        rc = s_env_names(f, res, fn);
    if (!rc)
        rc = s_layers(f, res, fn);
    const char *role = tm_json_str(fn, "Role", NULL);
    if (!rc && role && *role)
        rc = tm_snapshot_add_link(res, "executes-as", role);
    if (!rc && arns)
        rc = tm__aws_strv_push(arns, arn);
    return rc;
}

int tm__aws_lambda_parse_functions(const struct tm_aws_facts *f, char *body, size_t len, struct tm_aws_strv *arns,
                                   char **next_marker, char *errmsg, size_t errmsg_len) {
    *next_marker = NULL;
    tm__aws_lambda_scrub_environment(body, len);
    cJSON *root = NULL;
    const cJSON *fns = NULL;
    int rc = tm__aws_json_body(&root, body, len, "ListFunctions", errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&fns, root, "Functions", "ListFunctions", errmsg, errmsg_len);
    if (!rc)
        rc = tm__aws_json_next_token(root, "NextMarker", "ListFunctions", next_marker, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *fn = cJSON_IsArray(fns) ? fns->child : NULL; fn && !rc; fn = fn->next, i++)
        rc = s_put_function(f, fn, i, arns);
    if (rc) {
        free(*next_marker);
        *next_marker = NULL;
    }
    s_cleanse_variables(root);
    cJSON_Delete(root);
    return rc;
}

int tm__aws_lambda_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetPolicy", "Policy", false, errmsg, errmsg_len);
}

static int s_add_strings(cJSON *o, const char *key, const cJSON *src, const char *member) {
    cJSON *arr = NULL;
    bool bad = false;
    int rc = tm__aws_json_copy_strings(&arr, src, member, &bad);
    if (rc)
        return rc;
    if (bad)
        return TM_ERR_PARSE;
    if (!cJSON_AddItemToObject(o, key, arr)) {
        cJSON_Delete(arr);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_cors(cJSON **out, const cJSON *cors) {
    *out = NULL;
    if (!cors || cJSON_IsNull(cors)) {
        *out = cJSON_CreateNull();
        return *out ? TM_OK : TM_ERR_NOMEM;
    }
    if (!cJSON_IsObject(cors))
        return TM_ERR_PARSE;
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(cors, "AllowCredentials");
    const cJSON *age = cJSON_GetObjectItemCaseSensitive(cors, "MaxAge");
    if ((cred && !cJSON_IsBool(cred) && !cJSON_IsNull(cred)) || (age && !cJSON_IsNumber(age) && !cJSON_IsNull(age)))
        return TM_ERR_PARSE;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    if (!cJSON_AddBoolToObject(o, "allow_credentials", cJSON_IsTrue(cred)) ||
        !cJSON_AddItemToObject(o, "max_age",
                               cJSON_IsNumber(age) ? cJSON_CreateNumber(age->valuedouble) : cJSON_CreateNull()))
        rc = TM_ERR_NOMEM;
    if (!rc)
        rc = s_add_strings(o, "allow_headers", cors, "AllowHeaders");
    if (!rc)
        rc = s_add_strings(o, "allow_methods", cors, "AllowMethods");
    if (!rc)
        rc = s_add_strings(o, "allow_origins", cors, "AllowOrigins");
    if (!rc)
        rc = s_add_strings(o, "expose_headers", cors, "ExposeHeaders");
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return TM_OK;
}

int tm__aws_lambda_parse_url(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    cJSON *root = NULL, *o = NULL, *cors = NULL;
    int rc = tm__aws_json_body(&root, body, len, "GetFunctionUrlConfig", errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *auth = tm_json_str(root, "AuthType", NULL);
    const char *url = tm_json_str(root, "FunctionUrl", NULL);
    if (!auth || !url) {
        snprintf(errmsg, errmsg_len, "GetFunctionUrlConfig: AuthType or FunctionUrl is missing or not a string");
        rc = TM_ERR_PARSE;
        goto out;
    }
    rc = s_cors(&cors, cJSON_GetObjectItemCaseSensitive(root, "Cors"));
    if (rc == TM_ERR_PARSE)
        snprintf(errmsg, errmsg_len, "GetFunctionUrlConfig: Cors is not a CORS configuration");
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "auth_type", auth) || !cJSON_AddStringToObject(o, "function_url", url) ||
        !cJSON_AddItemToObject(o, "cors", cors)) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    cors = NULL;
    *out = o;
    o = NULL;
out:
    cJSON_Delete(cors);
    cJSON_Delete(o);
    cJSON_Delete(root);
    return rc;
}

static int s_put_mapping(const struct tm_aws_facts *f, const cJSON *m, int index, struct tm_aws_strv *functions) {
    const char *uuid = tm_json_str(m, "UUID", NULL);
    const char *fn_arn = tm_json_str(m, "FunctionArn", NULL);
    const char *source = tm_json_str(m, "EventSourceArn", NULL);
    const char *esm_arn = tm_json_str(m, "EventSourceMappingArn", NULL);
    char *fn = tm__aws_lambda_unqualified_arn(fn_arn);
    if (!cJSON_IsObject(m) || !uuid || !*uuid || !fn || strchr(uuid, '/') || strchr(uuid, ':')) {
        free(fn);
        return s_malformed_item(f, "EventSourceMappings", index, "no UUID or no FunctionArn");
    }
    char partition[32], account[64], id[512];
    tm__aws_arn_copy(partition, sizeof(partition), fn, 1);
    tm__aws_arn_copy(account, sizeof(account), fn, 4);
    if (esm_arn && tm_str_starts_with(esm_arn, "arn:"))
        snprintf(id, sizeof(id), "%s", esm_arn);
    else
        snprintf(id, sizeof(id), "arn:%s:lambda:%s:%s:event-source-mapping:%s", *partition ? partition : "aws",
                 f->region, *account ? account : f->account, uuid);
    cJSON *res = NULL, *fres = NULL;
    int rc = tm_snapshot_resource(f->snap, id, "aws:lambda:event-source-mapping", *account ? account : f->account,
                                  f->region, uuid, &res);
    if (rc == TM_ERR_INVALID) {
        free(fn);
        return s_malformed_item(f, "EventSourceMappings", index, "the mapping's ARN names another resource");
    }
    if (!rc)
        rc = tm__aws_fact_string(f, res, "event_source_arn", m, "EventSourceArn", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "function_arn", m, "FunctionArn", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "state", m, "State", NULL);
    if (!rc)
        rc = s_function_resource(f, fn, NULL, &fres);
    if (!rc && fres && source && *source)
        rc = tm_snapshot_add_link(fres, "triggered-by", source);
    if (!rc && fres && functions && !tm__aws_strv_contains(functions, fn))
        rc = tm__aws_strv_push(functions, fn);
    free(fn);
    return rc;
}

static int s_mapping_item(void *acc, const cJSON *m, int i, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    const struct tm_aws_page_acc *page = acc;
    return s_put_mapping(page->f, m, i, page->items);
}

int tm__aws_lambda_parse_event_source_mappings(const struct tm_aws_facts *f, const char *body, size_t len,
                                               struct tm_aws_strv *functions, char **next_marker, char *errmsg,
                                               size_t errmsg_len) {
    struct tm_aws_page_acc acc = {f, functions};
    return tm__aws_json_page(next_marker, body, len, "ListEventSourceMappings", "EventSourceMappings", "NextMarker",
                             s_mapping_item, &acc, errmsg, errmsg_len);
}

void tm__aws_lambda_aliases_clean_up(struct tm_aws_lambda_aliases *a) {
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->v[i].arn);
        free(a->v[i].name);
        free(a->v[i].function_version);
    }
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

static int s_push_alias(struct tm_aws_lambda_aliases *out, const char *arn, const char *name, const char *version) {
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 8;
        struct tm_aws_lambda_alias *v = realloc(out->v, cap * sizeof(*v));
        if (!v)
            return TM_ERR_NOMEM;
        out->v = v;
        out->cap = cap;
    }
    struct tm_aws_lambda_alias a = {strdup(arn), strdup(name), tm_strdup(version)};
    if (!a.arn || !a.name || (version && !a.function_version)) {
        free(a.arn);
        free(a.name);
        free(a.function_version);
        return TM_ERR_NOMEM;
    }
    out->v[out->n++] = a;
    return TM_OK;
}

static int s_alias_item(void *acc, const cJSON *a, int i, char *errmsg, size_t errmsg_len) {
    const char *arn = tm_json_str(a, "AliasArn", NULL);
    const char *name = tm_json_str(a, "Name", NULL);
    char *fn = tm__aws_lambda_unqualified_arn(arn);
    bool ok = fn && name && *name && strcmp(fn, arn) != 0;
    free(fn);
    if (!ok) {
        snprintf(errmsg, errmsg_len, "ListAliases: Aliases[%d]: no qualified AliasArn or no Name", i);
        return TM_ERR_PARSE;
    }
    return s_push_alias(acc, arn, name, tm_json_str(a, "FunctionVersion", NULL));
}

int tm__aws_lambda_parse_aliases(struct tm_aws_lambda_aliases *out, const char *body, size_t len, char **next_marker,
                                 char *errmsg, size_t errmsg_len) {
    return tm__aws_json_page(next_marker, body, len, "ListAliases", "Aliases", "NextMarker", s_alias_item, out, errmsg,
                             errmsg_len);
}

char *tm__aws_lambda_unqualified_arn(const char *arn) {
    const char *service, *resource;
    size_t service_len, resource_len;
    if (!tm__aws_arn_field(arn, 2, &service, &service_len) || service_len != 6 || memcmp(service, "lambda", 6) != 0 ||
        !tm__aws_arn_field(arn, 5, &resource, &resource_len) || !tm_str_starts_with(resource, "function:"))
        return NULL;
    const char *name = resource + strlen("function:");
    const char *colon = strchr(name, ':');
    size_t name_len = colon ? (size_t)(colon - name) : strlen(name);
    if (name_len == 0)
        return NULL;
    return tm_strndup(arn, (size_t)(name - arn) + name_len);
}

char *tm__aws_lambda_arn_from_uri(const char *uri) {
    if (!uri)
        return NULL;
    const char *service, *acct;
    size_t service_len, acct_len;
    if (tm__aws_arn_field(uri, 2, &service, &service_len) && service_len == 6 && memcmp(service, "lambda", 6) == 0) {
        char *fn = tm__aws_lambda_unqualified_arn(uri);
        bool is_fn = fn != NULL;
        free(fn);
        return is_fn ? strdup(uri) : NULL;
    }
    /* arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/<ARN>/invocations */
    if (!tm__aws_arn_field(uri, 2, &service, &service_len) || service_len != 10 ||
        memcmp(service, "apigateway", 10) != 0 || !tm__aws_arn_field(uri, 4, &acct, &acct_len) || acct_len != 6 ||
        memcmp(acct, "lambda", 6) != 0)
        return NULL;
    const char *start = strstr(uri, "/functions/");
    if (!start)
        return NULL;
    start += strlen("/functions/");
    const char *end = strstr(start, "/invocations");
    if (!end || end == start)
        return NULL;
    char *arn = tm_strndup(start, (size_t)(end - start));
    char *fn = tm__aws_lambda_unqualified_arn(arn);
    if (!fn) {
        free(arn);
        return NULL;
    }
    free(fn);
    return arn;
}
