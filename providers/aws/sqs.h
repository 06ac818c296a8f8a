/* Amazon SQS (query protocol, API version 2012-11-05, XML answers): queues with their access policy,
 * encryption and dead-letter redrive. */
#ifndef TM_PROVIDERS_AWS_SQS_H
#define TM_PROVIDERS_AWS_SQS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_sqs;

/* The queue ARN for a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME): arn:PARTITION:sqs:
 * REGION:ACCOUNT:NAME with f's partition and region. TM_ERR_PARSE when the URL does not end in
 * /ACCOUNT/NAME. */
TM_MUST_CHECK int tm__aws_sqs_queue_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *url);

/* ListQueues page: records each queue (url) and pushes its URL onto urls; *next_token or NULL. */
TM_MUST_CHECK int tm__aws_sqs_parse_queues(const struct tm_aws_facts *f, const char *body, size_t len,
                                           struct tm_aws_strv *urls, char **next_token, char *errmsg,
                                           size_t errmsg_len);

/* The facts GetQueueAttributes reads, for marking them unknown together. */
extern const char *const tm__aws_sqs_attribute_facts[];

/* GetQueueAttributes (AttributeName.1=All): sets kms_master_key_id, sqs_managed_sse, redrive_policy
 * and policies.resource on res. A Policy or RedrivePolicy that is not JSON becomes unknown with an
 * error; TM_ERR_PARSE when the answer itself is not readable. */
TM_MUST_CHECK int tm__aws_sqs_put_attributes(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len,
                                             char *errmsg, size_t errmsg_len);

#endif
