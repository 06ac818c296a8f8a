/* Read-only by construction: which AWS operations tmscan may call at all.
 *
 * An operation is allowed when, in this order:
 *   1. it is not on the DENY list: reads that would bring secrets or data contents into tmscan, or mint
 *      credentials, or (the few "Get"s that do) create something;
 *   2. it is on the ALLOW list: read-only calls without a List/Get/Describe name, each with its reason;
 *   3. or its name is List*, Get* or Describe* followed by an upper-case letter.
 * Everything else (Put*, Create*, Delete*, Update*, Generate*, Batch*, ...) is refused with
 * TM_ERR_READ_ONLY before a request exists. The tables are below so that every entry carries its reason. */
#ifndef TM_AWS_READONLY_H
#define TM_AWS_READONLY_H

#include <stddef.h>

#include "core/error.h"

struct tm_aws_readonly_rule {
    const char *service;   /* botocore name: "s3", "secretsmanager" */
    const char *operation; /* "GetObject" */
    const char *reason;
};

/* TM_OK, or TM_ERR_READ_ONLY with errmsg naming the operation and the reason. TM_ERR_INVALID for a name that
 * is not an operation name (letters and digits, starting with an upper-case letter). */
TM_MUST_CHECK int tm_aws_readonly_check(const char *service, const char *operation, char *errmsg, size_t errmsg_len);

/* Parameters that turn an allowed read into one that returns secrets (API Gateway's includeValue and
 * includeValues, which return API key values). TM_OK or TM_ERR_READ_ONLY. */
TM_MUST_CHECK int tm_aws_readonly_check_param(const char *service, const char *operation, const char *name,
                                              const char *value, char *errmsg, size_t errmsg_len);

const struct tm_aws_readonly_rule *tm_aws_readonly_allow_list(size_t *count);
const struct tm_aws_readonly_rule *tm_aws_readonly_deny_list(size_t *count);

#endif
