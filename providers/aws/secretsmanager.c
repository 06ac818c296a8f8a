/* Secrets Manager: per region, every secret and its resource policy. The operations table is the
 * guarantee that no value is ever read: GetSecretValue and BatchGetSecretValue are not in it, so the
 * scan refuses them. */
#include "providers/aws/secretsmanager.h"

#include <stdlib.h>

#include "core/json.h"
#include "core/snapshot.h"

static const struct tm_aws_api s_api = {
    .name = "secretsmanager",
    .service_id = "Secrets Manager",
    .endpoint_prefix = "secretsmanager",
    .signing_name = "secretsmanager",
    .protocol = TM_AWS_PROTO_JSON,
    .api_version = "2017-10-17",
    .target_prefix = "secretsmanager",
    .json_version = "1.1",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListSecrets", "secretsmanager:ListSecrets"},
    {&s_api, "GetResourcePolicy", "secretsmanager:GetResourcePolicy"},
    {NULL, NULL, NULL},
};

static void s_policy_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *arn = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), arn);
    if (r)
        tm__aws_set_fact(scan, r, "policies", "resource", tm__aws_result_fact(scan, res, tm__aws_sm_parse_policy));
}

static int s_secret_item(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *arn_in, void *user_data) {
    (void)f;
    char *arn = tm_aws_scan_strdup(scan, arn_in);
    if (!arn)
        return TM_ERR_NOMEM;
    const struct tm_aws_param p = {"SecretId", arn, false};
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = "GetResourcePolicy",
        .region = user_data,
        .resource = arn,
        .params = &p,
        .param_count = 1,
    };
    return tm_aws_call(scan, &call, s_policy_done, arn);
}

static const struct tm_aws_listing s_secrets = {"secretsmanager", "NextToken", tm__aws_sm_parse_secrets, s_secret_item};

static void s_secrets_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)tm__aws_listing_page(scan, res, user_data, &s_secrets, s_secrets_done, user_data);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    char *r = tm_aws_scan_strdup(scan, region);
    if (!r)
        return TM_ERR_NOMEM;
    struct tm_aws_call call = {.api = &s_api, .operation = "ListSecrets", .region = r};
    return tm_aws_call(scan, &call, s_secrets_done, r);
}

const struct tm_aws_service tm__aws_service_secretsmanager = {
    .name = "secretsmanager",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
