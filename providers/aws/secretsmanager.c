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

static void s_secrets_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *region = user_data;
    if (res->error)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, region, "secretsmanager", "ListSecrets");
    struct tm_aws_strv arns = {0};
    char *next = NULL;
    char errmsg[256] = "";
    int rc = tm__aws_sm_parse_secrets(&f, res->body, res->body_len, &arns, &next, errmsg, sizeof(errmsg));
    if (rc == TM_ERR_PARSE) {
        (void)tm__aws_result_malformed(scan, res, errmsg);
        rc = TM_OK;
    }
    for (size_t i = 0; i < arns.n && rc == TM_OK; i++) {
        char *arn = tm_aws_scan_strdup(scan, arns.v[i]);
        if (!arn) {
            rc = TM_ERR_NOMEM;
            break;
        }
        const struct tm_aws_param p = {"SecretId", arn, false};
        struct tm_aws_call call = {
            .api = &s_api,
            .operation = "GetResourcePolicy",
            .region = region,
            .resource = arn,
            .params = &p,
            .param_count = 1,
        };
        rc = tm_aws_call(scan, &call, s_policy_done, arn);
    }
    if (rc == TM_OK && next)
        rc = tm_aws_call_next(scan, res, "NextToken", next, s_secrets_done, user_data);
    (void)tm_aws_scan_check(scan, rc, "secretsmanager ListSecrets");
    free(next);
    tm__aws_strv_clean_up(&arns);
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
