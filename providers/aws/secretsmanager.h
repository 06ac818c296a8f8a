/* AWS Secrets Manager (JSON 1.1): which secrets exist, the key that encrypts each, whether it rotates,
 * and its resource policy. A secret's value is never read: the service does not declare
 * GetSecretValue, so a call to it is refused before it is sent. */
#ifndef TM_PROVIDERS_AWS_SECRETSMANAGER_H
#define TM_PROVIDERS_AWS_SECRETSMANAGER_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_secretsmanager;

/* ListSecrets page: records each secret (kms_key_id, rotation_enabled) and pushes its ARN onto arns. */
TM_MUST_CHECK int tm__aws_sm_parse_secrets(const struct tm_aws_facts *f, const char *body, size_t len,
                                           struct tm_aws_strv *arns, char **next_token, char *errmsg,
                                           size_t errmsg_len);

/* GetResourcePolicy: the document in "ResourcePolicy", null when the secret has none. */
TM_MUST_CHECK int tm__aws_sm_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

#endif
