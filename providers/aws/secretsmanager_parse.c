#include "providers/aws/secretsmanager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

int tm__aws_sm_parse_secrets(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                             char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    cJSON *root = NULL;
    const cJSON *list = NULL;
    int rc = tm__aws_json_body(&root, body, len, "ListSecrets", errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&list, root, "SecretList", "ListSecrets", errmsg, errmsg_len);
    if (!rc)
        rc = tm__aws_json_next_token(root, "NextToken", "ListSecrets", next_token, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *s = list ? list->child : NULL; s && !rc; s = s->next, i++) {
        const char *arn = tm_json_str(s, "ARN", NULL);
        const char *res_part;
        size_t res_len;
        if (!arn || !tm__aws_arn_field(arn, 5, &res_part, &res_len) || !tm_str_starts_with(res_part, "secret:")) {
            char msg[200];
            snprintf(msg, sizeof(msg), "ListSecrets: SecretList[%d]: no secret ARN", i);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        cJSON *res = NULL;
        rc = tm__aws_facts_resource(f, arn, "aws:secretsmanager:secret", tm_json_str(s, "Name", NULL), &res);
        if (!rc && res)
            rc = tm__aws_fact_string(f, res, "kms_key_id", s, "KmsKeyId", NULL);
        if (!rc && res)
            rc = tm__aws_fact_bool(f, res, "rotation_enabled", s, "RotationEnabled", false);
        if (!rc && res)
            rc = tm__aws_fact_string(f, res, "rotation_lambda_arn", s, "RotationLambdaARN", NULL);
        if (!rc && res)
            rc = tm__aws_fact_string(f, res, "owning_service", s, "OwningService", NULL);
        if (!rc && res && arns)
            rc = tm__aws_strv_push(arns, arn);
    }
    if (rc) {
        free(*next_token);
        *next_token = NULL;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_sm_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetResourcePolicy", "ResourcePolicy", true, errmsg, errmsg_len);
}
