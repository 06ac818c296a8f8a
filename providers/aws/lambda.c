/* Lambda: which functions exist, who may invoke them (resource policy, function URL), what runs
 * them (execution role) and what triggers them (event source mappings), per region. */
#include "providers/aws/lambda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "providers/aws/service.h"

static const struct tm_aws_api s_api = {
    .name = "lambda",
    .service_id = "Lambda",
    .endpoint_prefix = "lambda",
    .signing_name = "lambda",
    .protocol = TM_AWS_PROTO_REST_JSON,
    .api_version = "2015-03-31",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListFunctions", "lambda:ListFunctions"},
    {&s_api, "GetPolicy", "lambda:GetPolicy"},
    {&s_api, "GetFunctionUrlConfig", "lambda:GetFunctionUrlConfig"},
    {&s_api, "ListEventSourceMappings", "lambda:ListEventSourceMappings"},
    {&s_api, "ListAliases", "lambda:ListAliases"},
    {NULL, NULL, NULL},
};

/* GetPolicy and GetFunctionUrlConfig answer "there is none" with this code. */
static const char *const s_not_found[] = {"ResourceNotFoundException", NULL};

struct s_function {
    const char *region;
    const char *arn;  /* unqualified */
    const char *name; /* percent-encoded for the path */
};

/* An alias is kept only when it carries its own policy or URL, so both are read before deciding. */
struct s_alias {
    const char *region;
    const char *function_arn;
    const char *arn;
    const char *name;
    const char *version;
    int pending;
    cJSON *policy; /* document, null or unknown marker */
    cJSON *url;    /* object, null or unknown marker */
};

static int s_call(struct tm_aws_scan *scan, const char *region, const char *operation, const char *resource,
                  const char *path, const struct tm_aws_param *params, size_t param_count, bool not_found_answers,
                  tm_aws_done_fn done, void *user_data) {
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = operation,
        .region = region,
        .resource = resource,
        .params = params,
        .param_count = param_count,
        .method = "GET",
        .path = path,
        .accept_codes = not_found_answers ? s_not_found : NULL,
    };
    return tm_aws_call(scan, &call, done, user_data);
}

/* "<prefix><name><suffix>" in scan memory. */
static const char *s_path(struct tm_aws_scan *scan, const char *prefix, const char *name, const char *suffix) {
    char path[1024];
    int n = snprintf(path, sizeof(path), "%s%s%s", prefix, name, suffix);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        (void)tm_aws_scan_check(scan, TM_ERR_TOO_BIG, "lambda path");
        return NULL;
    }
    return tm_aws_scan_strdup(scan, path);
}

static cJSON *s_resource(struct tm_aws_scan *scan, const char *arn) {
    return tm_snapshot_find(tm_aws_scan_snapshot(scan), arn);
}

static void s_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_function *fn = user_data;
    cJSON *r = s_resource(scan, fn->arn);
    if (r)
        tm__aws_set_fact(scan, r, "policies", "resource", tm__aws_result_fact(scan, res, tm__aws_lambda_parse_policy));
}

static void s_url_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_function *fn = user_data;
    cJSON *r = s_resource(scan, fn->arn);
    if (r)
        tm__aws_set_fact(scan, r, "attrs", "url", tm__aws_result_fact(scan, res, tm__aws_lambda_parse_url));
}

static void s_alias_free(void *ptr) {
    struct s_alias *a = ptr;
    cJSON_Delete(a->policy);
    cJSON_Delete(a->url);
    a->policy = a->url = NULL;
}

static void s_alias_finish(struct tm_aws_scan *scan, struct s_alias *a) {
    if (--a->pending > 0)
        return;
    cJSON *policy = a->policy, *url = a->url;
    a->policy = a->url = NULL;
    if (!policy || !url) {
        cJSON_Delete(policy);
        cJSON_Delete(url);
        (void)tm_aws_scan_check(scan, TM_ERR_NOMEM, "lambda alias");
        return;
    }
    /* Unknown counts as carrying something: it could be anything. */
    if (cJSON_IsNull(policy) && cJSON_IsNull(url)) {
        cJSON_Delete(policy);
        cJSON_Delete(url);
        return;
    }
    struct tm_aws_sink sink;
    tm_aws_scan_sink(scan, a->region, &sink);
    cJSON *r = NULL;
    char account[64];
    tm__aws_arn_copy(account, sizeof(account), a->arn, 4);
    int rc = tm_snapshot_resource(sink.snap, a->arn, "aws:lambda:alias", *account ? account : sink.account, a->region,
                                  a->name, &r);
    if (rc) {
        cJSON_Delete(policy);
        cJSON_Delete(url);
        (void)tm_aws_scan_check(scan, rc, "lambda alias");
        return;
    }
    tm__aws_set_fact(scan, r, "policies", "resource", policy);
    tm__aws_set_fact(scan, r, "attrs", "url", url);
    tm__aws_set_fact(scan, r, "attrs", "function", cJSON_CreateString(a->function_arn));
    tm__aws_set_fact(scan, r, "attrs", "function_version", tm_aws_json_string_or_null(a->version));
}

static void s_alias_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_alias *a = user_data;
    a->policy = tm__aws_result_fact(scan, res, tm__aws_lambda_parse_policy);
    s_alias_finish(scan, a);
}

static void s_alias_url_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_alias *a = user_data;
    a->url = tm__aws_result_fact(scan, res, tm__aws_lambda_parse_url);
    s_alias_finish(scan, a);
}

static int s_start_alias(struct tm_aws_scan *scan, const struct s_function *fn, const struct tm_aws_lambda_alias *al) {
    struct s_alias *a = tm_aws_scan_alloc(scan, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    a->region = fn->region;
    a->function_arn = fn->arn;
    a->arn = tm_aws_scan_strdup(scan, al->arn);
    a->name = tm_aws_scan_strdup(scan, al->name);
    a->version = tm_aws_scan_strdup(scan, al->function_version);
    if (!a->arn || !a->name || (al->function_version && !a->version))
        return TM_ERR_NOMEM;
    int rc = tm_aws_scan_on_destroy(scan, s_alias_free, a);
    if (rc)
        return rc;
    a->pending = 2;
    struct tm_aws_param q = {"Qualifier", al->name, false};
    const char *policy_path = s_path(scan, "/2015-03-31/functions/", fn->name, "/policy");
    const char *url_path = s_path(scan, "/2021-10-31/functions/", fn->name, "/url");
    if (!policy_path || !url_path)
        return TM_ERR_NOMEM;
    rc = s_call(scan, fn->region, "GetPolicy", a->arn, policy_path, &q, 1, true, s_alias_policy_done, a);
    if (rc) {
        a->pending = 0;
        return rc;
    }
    rc = s_call(scan, fn->region, "GetFunctionUrlConfig", a->arn, url_path, &q, 1, true, s_alias_url_done, a);
    if (rc)
        a->pending = 1; /* the policy call still completes; nothing is recorded for the alias */
    return rc;
}

/* The function's `aliases` names every alias its pages listed. A page that could not be read makes the
 * whole list unknown: an alias there may carry its own public URL or policy, so the function is never
 * reported as having none. */
static void s_aliases_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_function *fn = user_data;
    cJSON *r = s_resource(scan, fn->arn);
    const struct tm_snapshot_error *err = res->error;
    struct tm_aws_lambda_aliases aliases = {0};
    char *next = NULL;
    int rc = TM_OK;
    if (!err) {
        char errmsg[256] = "";
        rc = tm__aws_lambda_parse_aliases(&aliases, res->body, res->body_len, &next, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    cJSON *names = r ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "attrs"), "aliases") : NULL;
    if (r && rc == TM_OK && err) {
        tm__aws_set_fact(scan, r, "attrs", "aliases", tm_aws_unknown_value(err));
    } else if (r && rc == TM_OK) {
        if (!cJSON_IsArray(names)) {
            names = cJSON_CreateArray();
            tm__aws_set_fact(scan, r, "attrs", "aliases", names);
        }
        for (size_t i = 0; names && i < aliases.n && rc == TM_OK; i++) {
            cJSON *name = cJSON_CreateString(aliases.v[i].name);
            if (!name || !cJSON_AddItemToArray(names, name)) {
                cJSON_Delete(name);
                rc = TM_ERR_NOMEM;
            }
        }
    }
    for (size_t i = 0; i < aliases.n && rc == TM_OK && !err; i++)
        rc = s_start_alias(scan, fn, &aliases.v[i]);
    tm__aws_lambda_aliases_clean_up(&aliases);
    (void)tm__aws_page_end(scan, res, rc, err, "Marker", next, "lambda ListAliases", s_aliases_done, fn);
}

static int s_start_function(struct tm_aws_scan *scan, const char *region, const char *arn) {
    cJSON *r = s_resource(scan, arn);
    const char *name = tm_json_str(r, "name", NULL);
    if (!name)
        return TM_OK;
    struct s_function *fn = tm_aws_scan_alloc(scan, sizeof(*fn));
    if (!fn)
        return TM_ERR_NOMEM;
    fn->region = region;
    fn->arn = tm_aws_scan_strdup(scan, arn);
    fn->name = tm__aws_path_segment(scan, name);
    if (!fn->arn)
        return TM_ERR_NOMEM;
    const char *policy_path = s_path(scan, "/2015-03-31/functions/", fn->name, "/policy");
    const char *url_path = s_path(scan, "/2021-10-31/functions/", fn->name, "/url");
    const char *aliases_path = s_path(scan, "/2015-03-31/functions/", fn->name, "/aliases");
    if (!policy_path || !url_path || !aliases_path)
        return TM_ERR_NOMEM;
    int rc = s_call(scan, region, "GetPolicy", fn->arn, policy_path, NULL, 0, true, s_policy_done, fn);
    if (!rc)
        rc = s_call(scan, region, "GetFunctionUrlConfig", fn->arn, url_path, NULL, 0, true, s_url_done, fn);
    if (!rc)
        rc = s_call(scan, region, "ListAliases", fn->arn, aliases_path, NULL, 0, false, s_aliases_done, fn);
    return rc;
}

/* The facts a function's listing gives it, unknown together when the listing could not be read. */
static const char *const s_listing_facts[] = {
    "runtime", "role", "package_type", "vpc", "environment_variable_names", "layers", NULL,
};

/* A function that an event source mapping names but no listing page recorded gets its facts only if a
 * page was refused: then they are unknown (it may be on that page), never absent. */
struct s_region {
    const char *region;
    bool functions_done;
    bool mappings_done;
    cJSON *listing_unknown; /* the marker of a ListFunctions page that failed */
    struct tm_aws_strv listed;
    struct tm_aws_strv mapped;
};

static void s_region_free(void *ptr) {
    struct s_region *r = ptr;
    cJSON_Delete(r->listing_unknown);
    r->listing_unknown = NULL;
    tm__aws_strv_clean_up(&r->listed);
    tm__aws_strv_clean_up(&r->mapped);
}

static void s_region_finish(struct tm_aws_scan *scan, struct s_region *r) {
    if (!r->functions_done || !r->mappings_done)
        return;
    int rc = TM_OK;
    for (size_t i = 0; r->listing_unknown && i < r->mapped.n && rc == TM_OK; i++) {
        if (tm__aws_strv_contains(&r->listed, r->mapped.v[i]))
            continue;
        cJSON *fn = s_resource(scan, r->mapped.v[i]);
        for (size_t k = 0; fn && s_listing_facts[k] && rc == TM_OK; k++)
            rc = tm_snapshot_set_attr(fn, s_listing_facts[k], cJSON_Duplicate(r->listing_unknown, true));
        if (fn && rc == TM_OK)
            rc = tm_snapshot_set_attr(fn, "url", cJSON_Duplicate(r->listing_unknown, true));
        if (fn && rc == TM_OK)
            rc = tm_snapshot_set_attr(fn, "aliases", cJSON_Duplicate(r->listing_unknown, true));
        if (fn && rc == TM_OK)
            rc = tm_snapshot_set_policy(fn, "resource", cJSON_Duplicate(r->listing_unknown, true));
    }
    s_region_free(r);
    (void)tm_aws_scan_check(scan, rc, "lambda functions");
}

static void s_functions_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    const struct tm_snapshot_error *err = res->error;
    struct tm_aws_strv arns = {0};
    char *next = NULL;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, r->region, "lambda", "ListFunctions");
        char errmsg[256] = "";
        /* The parser scrubs environment values out of the text before reading it; the answer itself
         * belongs to the transport (possibly read-only), so it works on a copy zeroed before it is freed. */
        struct tm_buf copy;
        tm_buf_init(&copy, 0);
        rc = tm_buf_append(&copy, res->body, res->body_len);
        if (rc == TM_OK)
            rc = tm__aws_lambda_parse_functions(&f, copy.data ? copy.data : (char *)"", copy.len, &arns, &next, errmsg,
                                                sizeof(errmsg));
        tm_buf_clean_up_secret(&copy);
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    if (err && rc == TM_OK && !r->listing_unknown && !(r->listing_unknown = tm_aws_unknown_value(err)))
        rc = TM_ERR_NOMEM;
    for (size_t i = 0; i < arns.n && rc == TM_OK; i++) {
        rc = tm__aws_strv_push(&r->listed, arns.v[i]);
        if (rc == TM_OK)
            rc = s_start_function(scan, r->region, arns.v[i]);
    }
    tm__aws_strv_clean_up(&arns);
    if (tm__aws_page_end(scan, res, rc, err, "Marker", next, "lambda ListFunctions", s_functions_done, r))
        return;
    r->functions_done = true;
    s_region_finish(scan, r);
}

static void s_mappings_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    char *next = NULL;
    int rc = TM_OK;
    if (!res->error) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, r->region, "lambda", "ListEventSourceMappings");
        char errmsg[256] = "";
        rc = tm__aws_lambda_parse_event_source_mappings(&f, res->body, res->body_len, &r->mapped, &next, errmsg,
                                                        sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, NULL);
    }
    if (tm__aws_page_end(scan, res, rc, NULL, "Marker", next, "lambda ListEventSourceMappings", s_mappings_done, r))
        return;
    r->mappings_done = true;
    s_region_finish(scan, r);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    struct s_region *r = tm_aws_scan_alloc(scan, sizeof(*r));
    if (!r || !(r->region = tm_aws_scan_strdup(scan, region)))
        return TM_ERR_NOMEM;
    int rc = tm_aws_scan_on_destroy(scan, s_region_free, r);
    if (rc)
        return rc;
    rc = s_call(scan, r->region, "ListFunctions", NULL, "/2015-03-31/functions/", NULL, 0, false, s_functions_done, r);
    if (rc)
        return rc;
    rc = s_call(scan, r->region, "ListEventSourceMappings", NULL, "/2015-03-31/event-source-mappings/", NULL, 0, false,
                s_mappings_done, r);
    if (rc)
        r->mappings_done = true;
    return rc;
}

const struct tm_aws_service tm__aws_service_lambda = {
    .name = "lambda",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
