/* ECR: per region, every repository of the account's registry and its repository policy. */
#include "providers/aws/ecr.h"

#include <stdlib.h>

#include "core/json.h"
#include "core/snapshot.h"

static const struct tm_aws_api s_api = {
    .name = "ecr",
    .service_id = "ECR",
    .endpoint_prefix = "api.ecr",
    .signing_name = "ecr",
    .protocol = TM_AWS_PROTO_JSON,
    .api_version = "2015-09-21",
    .target_prefix = "AmazonEC2ContainerRegistry_V20150921",
    .json_version = "1.1",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "DescribeRepositories", "ecr:DescribeRepositories"},
    {&s_api, "GetRepositoryPolicy", "ecr:GetRepositoryPolicy"},
    {NULL, NULL, NULL},
};

/* A repository without a policy answers with this code. */
static const char *const s_no_policy[] = {"RepositoryPolicyNotFoundException", NULL};

static void s_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *arn = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), arn);
    if (r)
        tm__aws_set_fact(scan, r, "policies", "resource", tm__aws_result_fact(scan, res, tm__aws_ecr_parse_policy));
}

static int s_get_policy(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *arn_in, void *user_data) {
    (void)f;
    const char *region = user_data;
    char *arn = tm_aws_scan_strdup(scan, arn_in);
    cJSON *r = arn ? tm_snapshot_find(tm_aws_scan_snapshot(scan), arn) : NULL;
    char registry[64];
    tm__aws_arn_copy(registry, sizeof(registry), arn_in, 4);
    char *registry_id = tm_aws_scan_strdup(scan, registry);
    char *name = tm_aws_scan_strdup(scan, tm_json_str(r, "name", NULL));
    if (!arn || !registry_id || !name)
        return r || !arn ? TM_ERR_NOMEM : TM_OK;
    const struct tm_aws_param p[] = {{"registryId", registry_id, false}, {"repositoryName", name, false}};
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = "GetRepositoryPolicy",
        .region = region,
        .resource = arn,
        .params = p,
        .param_count = 2,
        .accept_codes = s_no_policy,
    };
    return tm_aws_call(scan, &call, s_policy_done, arn);
}

static const struct tm_aws_listing s_repositories = {"ecr", "nextToken", tm__aws_ecr_parse_repositories, s_get_policy};

static void s_repositories_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)tm__aws_listing_page(scan, res, user_data, &s_repositories, s_repositories_done, user_data);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    char *r = tm_aws_scan_strdup(scan, region);
    if (!r)
        return TM_ERR_NOMEM;
    /* The largest page (maxResults, 1-1000; 100 when not asked). */
    static const struct tm_aws_param page = {"maxResults", "1000", true};
    struct tm_aws_call call = {
        .api = &s_api, .operation = "DescribeRepositories", .region = r, .params = &page, .param_count = 1};
    return tm_aws_call(scan, &call, s_repositories_done, r);
}

const struct tm_aws_service tm__aws_service_ecr = {
    .name = "ecr",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
