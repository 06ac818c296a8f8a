#include "providers/aws/ecr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

static int s_repository_item(void *acc, const cJSON *r, int i, char *errmsg, size_t errmsg_len) {
    (void)errmsg;
    (void)errmsg_len;
    const struct tm_aws_page_acc *page = acc;
    const struct tm_aws_facts *f = page->f;
    const char *arn = tm_json_str(r, "repositoryArn", NULL);
    const char *name = tm_json_str(r, "repositoryName", NULL);
    const char *res_part;
    size_t res_len;
    if (!arn || !name || !tm__aws_arn_field(arn, 5, &res_part, &res_len) ||
        !tm_str_starts_with(res_part, "repository/")) {
        char msg[200];
        snprintf(msg, sizeof(msg), "DescribeRepositories: repositories[%d]: no repository ARN or name", i);
        return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
    }
    cJSON *res = NULL;
    int rc = tm__aws_facts_resource(f, arn, "aws:ecr:repository", name, &res);
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
    if (!rc && res && page->items)
        rc = tm__aws_strv_push(page->items, arn);
    return rc;
}

int tm__aws_ecr_parse_repositories(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                                   char **next_token, char *errmsg, size_t errmsg_len) {
    struct tm_aws_page_acc acc = {f, arns};
    return tm__aws_json_page(next_token, body, len, "DescribeRepositories", "repositories", "nextToken",
                             s_repository_item, &acc, errmsg, errmsg_len);
}

int tm__aws_ecr_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetRepositoryPolicy", "policyText", false, errmsg, errmsg_len);
}
