/* STS: who the scan runs as. Called by the provider itself before any service starts. */
#ifndef TM_PROVIDERS_AWS_STS_H
#define TM_PROVIDERS_AWS_STS_H

#include <stddef.h>

#include "providers/aws/service.h"

extern const struct tm_aws_api tm__aws_api_sts;
extern const struct tm_aws_operation tm__aws_sts_get_caller_identity;

struct tm__aws_caller {
    char *account;   /* "111122223333" */
    char *arn;       /* "arn:aws:iam::111122223333:user/auditor" */
    char *user_id;   /* "AIDA..." or "AROA...:session" */
    char *partition; /* from the ARN: "aws" */
};

/* GetCallerIdentity. TM_ERR_PARSE with errmsg when the answer is not one, or the account is not 12
 * digits, or the ARN is not an ARN of that account. */
TM_MUST_CHECK int tm__aws_sts_parse_caller(struct tm__aws_caller *out, const char *body, size_t len, char *errmsg,
                                           size_t errmsg_len);
void tm__aws_sts_caller_clean_up(struct tm__aws_caller *c);

#endif
