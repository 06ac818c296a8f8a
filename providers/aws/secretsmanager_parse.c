#include "providers/aws/secretsmanager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

static int s_secret_item(void *acc, const cJSON *s, int i, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    const struct tm_aws_page_acc *page = acc;
    const struct tm_aws_facts *f = page->f;
    const char *arn = tm_json_str(s, "ARN", NULL);
    const char *res_part;
    size_t res_len;
    if (!arn || !tm__aws_arn_field(arn, 5, &res_part, &res_len) || !tm_str_starts_with(res_part, "secret:")) {
        char msg[200];
        snprintf(msg, sizeof(msg), "ListSecrets: SecretList[%d]: no secret ARN", i);
        return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
    }
    cJSON *res = NULL;
    int rc = tm__aws_facts_resource(f, arn, "aws:secretsmanager:secret", tm_json_str(s, "Name", NULL), &res);
    if (!rc && res)
        rc = tm__aws_fact_string(f, res, "kms_key_id", s, "KmsKeyId", NULL);
    if (!rc && res)
        rc = tm__aws_fact_bool(f, res, "rotation_enabled", s, "RotationEnabled", false);
    if (!rc && res)
        rc = tm__aws_fact_string(f, res, "rotation_lambda_arn", s, "RotationLambdaARN", NULL);
    if (!rc && res)
        rc = tm__aws_fact_string(f, res, "owning_service", s, "OwningService", NULL);
    if (!rc && res && page->items)
        rc = tm__aws_strv_push(page->items, arn);
    return rc;
}

int tm__aws_sm_parse_secrets(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                             char **next_token, char *errmsg, size_t errmsg_len) {
    struct tm_aws_page_acc acc = {f, arns};
    return tm__aws_json_page(next_token, body, len, "ListSecrets", "SecretList", "NextToken", s_secret_item, &acc,
                             errmsg, errmsg_len);
}

int tm__aws_sm_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetResourcePolicy", "ResourcePolicy", true, errmsg, errmsg_len);
}
