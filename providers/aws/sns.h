/* Amazon SNS (query protocol, API version 2010-03-31, XML answers): topics with their access policy and
 * the subscriptions they deliver to. */
#ifndef TM_PROVIDERS_AWS_SNS_H
#define TM_PROVIDERS_AWS_SNS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_sns;

/* ListTopics page: records each topic and pushes its ARN onto arns. */
TM_MUST_CHECK int tm__aws_sns_parse_topics(const struct tm_aws_facts *f, const char *body, size_t len,
                                           struct tm_aws_strv *arns, char **next_token, char *errmsg,
                                           size_t errmsg_len);

/* GetTopicAttributes: sets policies.resource and kms_master_key_id on res (a Policy that is not JSON
 * becomes unknown with an error); TM_ERR_PARSE when the answer is not readable. */
TM_MUST_CHECK int tm__aws_sns_put_attributes(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len,
                                             char *errmsg, size_t errmsg_len);

/* ListSubscriptions (or ListSubscriptionsByTopic: operation names which) page: appends
 * {topic_arn, protocol, endpoint, subscription_arn} per subscription to the array subs. */
TM_MUST_CHECK int tm__aws_sns_parse_subscriptions(cJSON *subs, const char *operation, const char *body, size_t len,
                                                  char **next_token, char *errmsg, size_t errmsg_len);

/* Sets `subscriptions` on the topic: the entries of subs for this topic as {protocol, endpoint,
 * subscription_arn}, sorted by subscription ARN, endpoint, protocol; and links delivers-to -> each SQS
 * queue and Lambda function subscribed. */
TM_MUST_CHECK int tm__aws_sns_put_subscriptions(cJSON *topic, const cJSON *subs);

#endif
