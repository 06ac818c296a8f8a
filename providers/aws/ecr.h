/* Amazon ECR (JSON 1.1): repositories with their URI, tag mutability and scan-on-push setting, and
 * each repository's policy. */
#ifndef TM_PROVIDERS_AWS_ECR_H
#define TM_PROVIDERS_AWS_ECR_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_ecr;

/* DescribeRepositories page: records each repository (repository_uri, image_tag_mutability,
 * scan_on_push) and pushes its ARN onto arns. */
TM_MUST_CHECK int tm__aws_ecr_parse_repositories(const struct tm_aws_facts *f, const char *body, size_t len,
                                                 struct tm_aws_strv *arns, char **next_token, char *errmsg,
                                                 size_t errmsg_len);

/* GetRepositoryPolicy: the document in "policyText". */
TM_MUST_CHECK int tm__aws_ecr_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

#endif
