#include "providers/aws/ecr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

int tm__aws_ecr_parse_repositories(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                                   char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    cJSON *root = NULL;
    const cJSON *list = NULL;
    int rc = tm__aws_json_body(&root, body, len, "DescribeRepositories", errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&list, root, "repositories", "DescribeRepositories", errmsg, errmsg_len);
    if (!rc)
        rc = tm__aws_json_next_token(root, "nextToken", "DescribeRepositories", next_token, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *r = list ? list->child : NULL; r && !rc; r = r->next, i++) {
        const char *arn = tm_json_str(r, "repositoryArn", NULL);
        const char *name = tm_json_str(r, "repositoryName", NULL);
        const char *res_part;
        size_t res_len;
        if (!arn || !name || !tm__aws_arn_field(arn, 5, &res_part, &res_len) ||
            !tm_str_starts_with(res_part, "repository/")) {
            char msg[200];
            snprintf(msg, sizeof(msg), "DescribeRepositories: repositories[%d]: no repository ARN or name", i);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        cJSON *res = NULL;
        rc = tm__aws_facts_resource(f, arn, "aws:ecr:repository", name, &res);
        if (!rc && res)
            rc = tm__aws_fact_string(f, res, "repository_uri", r, "repositoryUri", NULL);
        if (!rc && res)
            rc = tm__aws_fact_string(f, res, "image_tag_mutability", r, "imageTagMutability", NULL);
        const cJSON *scan = cJSON_GetObjectItemCaseSensitive(r, "imageScanningConfiguration");
        if (!rc && res && scan && !cJSON_IsNull(scan) && !cJSON_IsObject(scan)) {
            char msg[200];
            snprintf(msg, sizeof(msg), "DescribeRepositories: imageScanningConfiguration is not an object");
            rc = tm__aws_facts_fail(f, res, "attrs", "scan_on_push", arn, TM_AWS_CODE_MALFORMED, msg);
        } else if (!rc && res) {
            rc = tm__aws_fact_bool(f, res, "scan_on_push", scan, "scanOnPush", false);
        }
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

int tm__aws_ecr_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetRepositoryPolicy", "policyText", false, errmsg, errmsg_len);
}
