/* AWS KMS (JSON 1.1, X-Amz-Target TrentService.*): keys with their manager, state and usage, the
 * aliases that name them, and each key's `default` key policy. */
#ifndef TM_PROVIDERS_AWS_KMS_H
#define TM_PROVIDERS_AWS_KMS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_kms;

/* ListKeys page: records each key (id KeyArn, name KeyId) and pushes its ARN onto arns. *next_marker
 * is NextMarker while Truncated is true, else NULL. */
TM_MUST_CHECK int tm__aws_kms_parse_keys(const struct tm_aws_facts *f, const char *body, size_t len,
                                         struct tm_aws_strv *arns, char **next_marker, char *errmsg, size_t errmsg_len);

/* DescribeKey: sets key_manager, key_state, key_usage, key_spec, origin and enabled on res. */
TM_MUST_CHECK int tm__aws_kms_put_metadata(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len,
                                           char *errmsg, size_t errmsg_len);

/* GetKeyPolicy: the document in "Policy". */
TM_MUST_CHECK int tm__aws_kms_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

/* ListAliases page: adds each alias name to the array by_key[TargetKeyId] (aliases that name no key are
 * skipped). */
TM_MUST_CHECK int tm__aws_kms_parse_aliases(cJSON *by_key, const char *body, size_t len, char **next_marker,
                                            char *errmsg, size_t errmsg_len);

/* Sets `aliases` (sorted names) on every key in key_arns from by_key, or a copy of unknown (an unknown
 * marker) when the aliases could not be read. */
TM_MUST_CHECK int tm__aws_kms_put_aliases(const struct tm_aws_facts *f, const struct tm_aws_strv *key_arns,
                                          const cJSON *by_key, const cJSON *unknown);

#endif
