/* KMS: per region, every key with its metadata, aliases and default key policy. Aliases are listed
 * once per region and given to the keys when both listings are complete. */
#include "providers/aws/kms.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"

static const struct tm_aws_api s_api = {
    .name = "kms",
    .service_id = "KMS",
    .endpoint_prefix = "kms",
    .signing_name = "kms",
    .protocol = TM_AWS_PROTO_JSON,
    .api_version = "2014-11-01",
    .target_prefix = "TrentService",
    .json_version = "1.1",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListKeys", "kms:ListKeys"},
    {&s_api, "DescribeKey", "kms:DescribeKey"},
    {&s_api, "GetKeyPolicy", "kms:GetKeyPolicy"},
    {&s_api, "ListAliases", "kms:ListAliases"},
    {NULL, NULL, NULL},
};

/* What DescribeKey reads: unknown together when it fails. */
static const char *const s_metadata_attrs[] = {"key_manager", "key_state", "key_usage", "key_spec",
                                               "origin",      "enabled",   NULL};
static const struct tm_aws_resource_facts s_metadata = {"kms", tm__aws_kms_put_metadata, s_metadata_attrs, false};

struct s_region {
    const char *region;
    struct tm_aws_strv keys;
    bool keys_done;
    bool aliases_done;
    cJSON *by_key;
    cJSON *aliases_unknown;
};

struct s_key {
    struct s_region *region;
    const char *arn;
    const char *id; /* the key id: what KMS's own console and CLI send as KeyId */
};

static int s_call(struct tm_aws_scan *scan, const char *region, const char *operation, const char *resource,
                  const struct tm_aws_param *params, size_t n, tm_aws_done_fn done, void *user_data) {
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = operation,
        .region = region,
        .resource = resource,
        .params = params,
        .param_count = n,
    };
    return tm_aws_call(scan, &call, done, user_data);
}

static void s_region_free(void *ptr) {
    struct s_region *r = ptr;
    cJSON_Delete(r->by_key);
    cJSON_Delete(r->aliases_unknown);
    r->by_key = r->aliases_unknown = NULL;
    tm__aws_strv_clean_up(&r->keys);
}

static void s_region_finish(struct tm_aws_scan *scan, struct s_region *r) {
    if (!r->keys_done || !r->aliases_done || !r->by_key)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, r->region, "kms", "ListAliases");
    int rc = tm__aws_kms_put_aliases(&f, &r->keys, r->by_key, r->aliases_unknown);
    s_region_free(r);
    (void)tm_aws_scan_check(scan, rc, "kms aliases");
}

static void s_describe_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_key *k = user_data;
    tm__aws_result_put(scan, res, k->region->region, k->arn, &s_metadata);
}

static void s_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_key *k = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), k->arn);
    if (r)
        tm__aws_set_fact(scan, r, "policies", "resource", tm__aws_result_fact(scan, res, tm__aws_kms_parse_policy));
}

static int s_start_key(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *arn, void *user_data) {
    (void)f;
    struct s_region *r = user_data;
    struct s_key *k = tm_aws_scan_alloc(scan, sizeof(*k));
    if (!k)
        return TM_ERR_NOMEM;
    k->region = r;
    k->arn = tm_aws_scan_strdup(scan, arn);
    const char *slash = strrchr(arn, '/');
    k->id = tm_aws_scan_strdup(scan, slash ? slash + 1 : arn);
    if (!k->arn || !k->id)
        return TM_ERR_NOMEM;
    int rc = tm__aws_strv_push(&r->keys, arn);
    const struct tm_aws_param describe[] = {{"KeyId", k->id, false}};
    const struct tm_aws_param policy[] = {{"KeyId", k->id, false}, {"PolicyName", "default", false}};
    if (!rc)
        rc = s_call(scan, r->region, "DescribeKey", k->arn, describe, 1, s_describe_done, k);
    if (!rc)
        rc = s_call(scan, r->region, "GetKeyPolicy", k->arn, policy, 2, s_policy_done, k);
    return rc;
}

static const struct tm_aws_listing s_keys = {"kms", "Marker", tm__aws_kms_parse_keys, s_start_key};

static void s_keys_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_listing_page(scan, res, r->region, &s_keys, s_keys_done, r))
        return;
    r->keys_done = true;
    s_region_finish(scan, r);
}

static const struct tm_aws_table_listing s_aliases = {"kms", "Marker", tm__aws_kms_parse_aliases};

static void s_aliases_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_table_page(scan, res, &s_aliases, r->by_key, &r->aliases_unknown, s_aliases_done, r))
        return;
    r->aliases_done = true;
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
    r->by_key = cJSON_CreateObject();
    if (!r->region || !r->by_key)
        return TM_ERR_NOMEM;
    /* The largest page (Limit, 1-1000; 100 when not asked). */
    static const struct tm_aws_param page = {"Limit", "1000", true};
    rc = s_call(scan, r->region, "ListAliases", NULL, &page, 1, s_aliases_done, r);
    if (rc)
        return rc;
    rc = s_call(scan, r->region, "ListKeys", NULL, &page, 1, s_keys_done, r);
    if (rc)
        r->keys_done = true;
    return rc;
}

const struct tm_aws_service tm__aws_service_kms = {
    .name = "kms",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
