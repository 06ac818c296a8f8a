/* S3: the account's buckets (listed once), each read in its own region, with its access points; and the
 * account-level Block Public Access from S3 Control. */
#include "providers/aws/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

static const struct tm_aws_api s_api = {
    .name = "s3",
    .service_id = "S3",
    .endpoint_prefix = "s3",
    .signing_name = "s3",
    .protocol = TM_AWS_PROTO_REST_XML,
    .api_version = "2006-03-01",
};

/* S3 Control addresses the account: the request layer adds x-amz-account-id and the ACCOUNT. host
 * prefix (botocore: hostPrefix "{AccountId}.", AccountId in the header). */
static const struct tm_aws_api s_control_api = {
    .name = "s3control",
    .service_id = "S3 Control",
    .endpoint_prefix = "s3-control",
    .signing_name = "s3",
    .protocol = TM_AWS_PROTO_REST_XML,
    .api_version = "2018-08-20",
};

/* ListAccessPoints' largest page (botocore: MaxResults, max 1000). */
#define S_ACCESS_POINTS_PAGE "1000"

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListBuckets", "s3:ListAllMyBuckets"},
    {&s_api, "GetBucketLocation", "s3:GetBucketLocation"},
    {&s_api, "GetBucketPolicy", "s3:GetBucketPolicy"},
    {&s_api, "GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"},
    {&s_api, "GetBucketAcl", "s3:GetBucketAcl"},
    {&s_api, "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"},
    {&s_api, "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls"},
    {&s_api, "GetBucketWebsite", "s3:GetBucketWebsite"},
    {&s_control_api, "GetPublicAccessBlock", "s3:GetAccountPublicAccessBlock"},
    {&s_control_api, "ListAccessPoints", "s3:ListAccessPoints"},
    {&s_control_api, "GetAccessPoint", "s3:GetAccessPoint"},
    {&s_control_api, "GetAccessPointPolicy", "s3:GetAccessPointPolicy"},
    {NULL, NULL, NULL},
};

struct s_region;

/* The state of one scan's S3 service. */
struct s_s3 {
    struct s_region *regions; /* the access point listings asked for, one per region */
};

struct s_bucket {
    struct s_s3 *s3;
    const char *name;
    const char *arn;
    const char *path;           /* "/NAME", percent-encoded */
    const char *region;         /* once located */
    struct s_bucket *next_wait; /* in its region's list of buckets waiting for the listing */
};

/* ListAccessPoints of one region: every access point of the account there, once for all its buckets
 * (an access point lives in its bucket's region). */
struct s_region {
    struct s_s3 *s3;
    const char *name;
    bool done;
    const struct tm_snapshot_error *error; /* the listing failed: its buckets' access points are unknown */
    struct tm_aws_strv arns, buckets;      /* each access point and its bucket ("" for another account's) */
    struct s_bucket *waiting;              /* located buckets whose access points wait for the listing */
    struct s_region *next;
};

struct s_access_point {
    const char *arn;
};

/* One per-bucket fact: the call that reads it, where the answer goes and which errors mean "none". */
struct s_fact {
    const char *operation;
    const char *subresource; /* the query parameter naming the subresource: ?policy */
    const char *section;
    const char *key;
    tm_aws_fact_parse_fn parse;
    const char *none_code;
};

static const struct s_fact s_facts[] = {
    {"GetBucketPolicy", "policy", "policies", "resource", tm__aws_s3_parse_policy, "NoSuchBucketPolicy"},
    {"GetBucketPolicyStatus", "policyStatus", "attrs", "policy_status", tm__aws_s3_parse_policy_status,
     "NoSuchBucketPolicy"},
    {"GetBucketAcl", "acl", "attrs", "acl", tm__aws_s3_parse_acl, NULL},
    {"GetPublicAccessBlock", "publicAccessBlock", "attrs", "public_access_block", tm__aws_s3_parse_public_access_block,
     "NoSuchPublicAccessBlockConfiguration"},
    {"GetBucketOwnershipControls", "ownershipControls", "attrs", "ownership_controls", tm__aws_s3_parse_ownership,
     "OwnershipControlsNotFoundError"},
    {"GetBucketWebsite", "website", "attrs", "website", tm__aws_s3_parse_website, "NoSuchWebsiteConfiguration"},
};

struct s_fact_call {
    struct s_bucket *bucket;
    const struct s_fact *fact;
    const char *accept[2];
};

static void s_fact_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_fact_call *fc = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), fc->bucket->arn);
    if (r)
        tm__aws_set_fact(scan, r, fc->fact->section, fc->fact->key, tm__aws_result_fact(scan, res, fc->fact->parse));
}

static void s_access_point_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_access_point *ap = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), ap->arn);
    if (r)
        tm__aws_set_fact(scan, r, "policies", "resource",
                         tm__aws_result_fact(scan, res, tm__aws_s3_parse_access_point_policy));
}

static void s_access_point_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_access_point *ap = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), ap->arn);
    if (r)
        tm__aws_set_fact(scan, r, "attrs", "public_access_block",
                         tm__aws_result_fact(scan, res, tm__aws_s3_parse_access_point));
}

static const char *const s_no_access_point_policy[] = {"NoSuchAccessPointPolicy", NULL};

/* GetAccessPoint (its Block Public Access) and GetAccessPointPolicy of one listed access point. */
static int s_start_access_point(struct tm_aws_scan *scan, const char *region, const char *arn, const char *name) {
    struct s_access_point *ap = tm_aws_scan_alloc(scan, sizeof(*ap));
    if (!ap || !(ap->arn = tm_aws_scan_strdup(scan, arn)))
        return TM_ERR_NOMEM;
    char path[512];
    int n = snprintf(path, sizeof(path), "/v20180820/accesspoint/%s", tm__aws_path_segment(scan, name));
    if (n < 0 || (size_t)n + strlen("/policy") >= sizeof(path))
        return TM_OK; /* longer than any access point name */
    struct tm_aws_call call = {
        .api = &s_control_api,
        .operation = "GetAccessPoint",
        .region = region,
        .resource = ap->arn,
        .method = "GET",
        .path = path,
    };
    int rc = tm_aws_call(scan, &call, s_access_point_done, ap);
    if (rc)
        return rc;
    memcpy(path + n, "/policy", sizeof("/policy"));
    call.operation = "GetAccessPointPolicy";
    call.accept_codes = s_no_access_point_policy;
    return tm_aws_call(scan, &call, s_access_point_policy_done, ap);
}

/* Records b's access points from its region's complete (or failed) listing. */
static int s_put_bucket_access_points(struct tm_aws_scan *scan, const struct s_bucket *b, const struct s_region *reg) {
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), b->arn);
    if (!r)
        return TM_OK;
    if (reg->error)
        return tm_snapshot_set_unknown(r, "attrs", "access_points", reg->error);
    struct tm_aws_strv mine = {0};
    int rc = TM_OK;
    for (size_t i = 0; i < reg->arns.n && !rc; i++)
        if (strcmp(reg->buckets.v[i], b->name) == 0)
            rc = tm__aws_strv_push(&mine, reg->arns.v[i]);
    cJSON *list = NULL;
    if (!rc)
        rc = tm__aws_json_sorted_strings(&list, &mine);
    if (!rc)
        rc = tm_snapshot_set_attr(r, "access_points", list);
    tm__aws_strv_clean_up(&mine);
    return rc;
}

static void s_access_points_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *reg = user_data;
    const struct tm_snapshot_error *err = res->error;
    struct tm_aws_strv arns = {0}, names = {0}, buckets = {0};
    char *next = NULL;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, reg->name, "s3control", "ListAccessPoints");
        char errmsg[256] = "";
        rc = tm__aws_s3_parse_access_points(&f, res->body, res->body_len, &arns, &names, &buckets, &next, errmsg,
                                            sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    for (size_t i = 0; i < arns.n && rc == TM_OK; i++) {
        rc = tm__aws_strv_push(&reg->arns, arns.v[i]);
        if (!rc)
            rc = tm__aws_strv_push(&reg->buckets, buckets.v[i]);
        if (!rc)
            rc = s_start_access_point(scan, reg->name, arns.v[i], names.v[i]);
    }
    tm__aws_strv_clean_up(&arns);
    tm__aws_strv_clean_up(&names);
    tm__aws_strv_clean_up(&buckets);
    if (rc == TM_OK && !err && next) {
        rc = tm_aws_call_next(scan, res, "nextToken", next, s_access_points_done, reg);
        free(next);
        if (rc == TM_OK)
            return;
        next = NULL;
    }
    free(next);
    /* The list is complete or unknown: a partial one is not recorded as the list. */
    reg->done = true;
    reg->error = err;
    for (const struct s_bucket *b = reg->waiting; b && rc == TM_OK; b = b->next_wait)
        rc = s_put_bucket_access_points(scan, b, reg);
    reg->waiting = NULL;
    (void)tm_aws_scan_check(scan, rc, "s3 ListAccessPoints");
}

static void s_region_free(void *ptr) {
    struct s_region *reg = ptr;
    tm__aws_strv_clean_up(&reg->arns);
    tm__aws_strv_clean_up(&reg->buckets);
}

/* The listing of region, asked for now when it was not yet. NULL when out of memory (the scan is then
 * failed). */
static struct s_region *s_region(struct tm_aws_scan *scan, struct s_s3 *s3, const char *region) {
    for (struct s_region *reg = s3->regions; reg; reg = reg->next)
        if (strcmp(reg->name, region) == 0)
            return reg;
    struct s_region *reg = tm_aws_scan_alloc(scan, sizeof(*reg));
    if (!reg || !(reg->name = tm_aws_scan_strdup(scan, region)) || tm_aws_scan_on_destroy(scan, s_region_free, reg))
        return NULL;
    reg->s3 = s3;
    reg->next = s3->regions;
    s3->regions = reg;
    const struct tm_aws_param page = {"maxResults", S_ACCESS_POINTS_PAGE, false};
    struct tm_aws_call call = {
        .api = &s_control_api,
        .operation = "ListAccessPoints",
        .region = reg->name,
        .params = &page,
        .param_count = 1,
        .method = "GET",
        .path = "/v20180820/accesspoint",
    };
    return tm_aws_call(scan, &call, s_access_points_done, reg) ? NULL : reg;
}

static int s_start_bucket_calls(struct tm_aws_scan *scan, struct s_bucket *b) {
    for (size_t i = 0; i < sizeof(s_facts) / sizeof(s_facts[0]); i++) {
        struct s_fact_call *fc = tm_aws_scan_alloc(scan, sizeof(*fc));
        if (!fc)
            return TM_ERR_NOMEM;
        fc->bucket = b;
        fc->fact = &s_facts[i];
        fc->accept[0] = s_facts[i].none_code;
        fc->accept[1] = NULL;
        const struct tm_aws_param sub = {s_facts[i].subresource, "", false};
        struct tm_aws_call call = {
            .api = &s_api,
            .operation = s_facts[i].operation,
            .region = b->region,
            .resource = b->arn,
            .params = &sub,
            .param_count = 1,
            .method = "GET",
            .path = b->path,
            .accept_codes = s_facts[i].none_code ? fc->accept : NULL,
        };
        int rc = tm_aws_call(scan, &call, s_fact_done, fc);
        if (rc)
            return rc;
    }
    /* The access points come from the listing of the bucket's region: a bucket in a region the scan
     * does not cover has that region listed too. */
    struct s_region *reg = s_region(scan, b->s3, b->region);
    if (!reg)
        return TM_ERR_NOMEM;
    if (reg->done)
        return s_put_bucket_access_points(scan, b, reg);
    b->next_wait = reg->waiting;
    reg->waiting = b;
    return TM_OK;
}

static void s_location_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_bucket *b = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), b->arn);
    if (!r)
        return;
    const struct tm_snapshot_error *err = res->error;
    char region[64] = "";
    int rc = TM_OK;
    if (!err) {
        char errmsg[256] = "";
        rc = tm__aws_s3_parse_location(region, sizeof(region), res->body, res->body_len, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    if (rc == TM_OK && err) {
        /* Without its region nothing else about the bucket can be asked. */
        for (size_t i = 0; rc == TM_OK && tm__aws_s3_bucket_facts[i]; i++)
            rc = tm_snapshot_set_unknown(r, "attrs", tm__aws_s3_bucket_facts[i], err);
        if (rc == TM_OK)
            rc = tm_snapshot_set_unknown(r, "policies", "resource", err);
        (void)tm_aws_scan_check(scan, rc, "s3 GetBucketLocation");
        return;
    }
    if (rc == TM_OK) {
        b->region = tm_aws_scan_strdup(scan, region);
        if (!b->region)
            rc = TM_ERR_NOMEM;
    }
    /* The resource was made by ListBuckets, before the region was known. */
    if (rc == TM_OK && !cJSON_GetObjectItemCaseSensitive(r, "region") && !cJSON_AddStringToObject(r, "region", region))
        rc = TM_ERR_NOMEM;
    if (rc == TM_OK)
        rc = s_start_bucket_calls(scan, b);
    (void)tm_aws_scan_check(scan, rc, "s3 GetBucketLocation");
}

static int s_start_bucket(struct tm_aws_scan *scan, struct s_s3 *s3, const char *name) {
    struct s_bucket *b = tm_aws_scan_alloc(scan, sizeof(*b));
    if (!b)
        return TM_ERR_NOMEM;
    char arn[512], path[512];
    if (tm_aws_arn(arn, sizeof(arn), tm_aws_scan_partition(scan), "s3", "", "", "%s", name))
        return TM_OK;
    snprintf(path, sizeof(path), "/%s", tm__aws_path_segment(scan, name));
    b->s3 = s3;
    b->name = tm_aws_scan_strdup(scan, name);
    b->arn = tm_aws_scan_strdup(scan, arn);
    b->path = tm_aws_scan_strdup(scan, path);
    if (!b->name || !b->arn || !b->path)
        return TM_ERR_NOMEM;
    const struct tm_aws_param sub = {"location", "", false};
    /* In the commercial partition us-east-1 answers GetBucketLocation for a bucket of any region (a
     * path-style request elsewhere may be redirected); in the others the scan's home region does. */
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = "GetBucketLocation",
        .region = strcmp(tm_aws_scan_partition(scan), "aws") == 0 ? "us-east-1" : NULL,
        .resource = b->arn,
        .params = &sub,
        .param_count = 1,
        .method = "GET",
        .path = b->path,
    };
    return tm_aws_call(scan, &call, s_location_done, b);
}

static void s_buckets_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_s3 *s3 = user_data;
    if (res->error)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, res->call->region, "s3", "ListBuckets");
    struct tm_aws_strv names = {0};
    char errmsg[256] = "";
    int rc = tm__aws_s3_parse_buckets(&f, res->body, res->body_len, &names, errmsg, sizeof(errmsg));
    rc = tm__aws_result_parsed(scan, res, rc, errmsg, NULL);
    for (size_t i = 0; i < names.n && rc == TM_OK; i++)
        rc = s_start_bucket(scan, s3, names.v[i]);
    (void)tm_aws_scan_check(scan, rc, "s3 ListBuckets");
    tm__aws_strv_clean_up(&names);
}

static void s_account_block_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)user_data;
    cJSON *account = tm_aws_scan_account_resource(scan);
    if (account)
        tm__aws_set_fact(scan, account, "attrs", "s3_public_access_block",
                         tm__aws_result_fact(scan, res, tm__aws_s3_parse_public_access_block));
}

static const char *const s_no_account_block[] = {"NoSuchPublicAccessBlockConfiguration", NULL};

static int s_start(struct tm_aws_scan *scan, const char *region) {
    (void)region;
    struct s_s3 *s3 = tm_aws_scan_alloc(scan, sizeof(*s3));
    if (!s3)
        return TM_ERR_NOMEM;
    struct tm_aws_call list = {.api = &s_api, .operation = "ListBuckets", .method = "GET", .path = "/"};
    int rc = tm_aws_call(scan, &list, s_buckets_done, s3);
    if (rc)
        return rc;
    struct tm_aws_call block = {
        .api = &s_control_api,
        .operation = "GetPublicAccessBlock",
        .resource = tm_json_str(tm_aws_scan_account_resource(scan), "id", NULL),
        .method = "GET",
        .path = "/v20180820/configuration/publicAccessBlock",
        .accept_codes = s_no_account_block,
    };
    rc = tm_aws_call(scan, &block, s_account_block_done, NULL);
    /* Access points are listed per region, each scanned region at once (they may belong to buckets of
     * other accounts, which ListBuckets never names). */
    const cJSON *regions = cJSON_GetObjectItemCaseSensitive(tm_snapshot_scope(tm_aws_scan_snapshot(scan)), "regions");
    for (const cJSON *r = cJSON_IsArray(regions) ? regions->child : NULL; r && !rc; r = r->next)
        if (cJSON_IsString(r) && !s_region(scan, s3, r->valuestring))
            rc = TM_ERR_NOMEM;
    return rc;
}

const struct tm_aws_service tm__aws_service_s3 = {
    .name = "s3",
    .global = true,
    .operations = s_operations,
    .start = s_start,
};
