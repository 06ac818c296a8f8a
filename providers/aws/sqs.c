/* SQS: per region, every queue and its attributes (policy, encryption, redrive). */
#include "providers/aws/sqs.h"

#include <stdlib.h>

#include "core/json.h"
#include "core/snapshot.h"

static const struct tm_aws_api s_api = {
    .name = "sqs",
    .service_id = "SQS",
    .endpoint_prefix = "sqs",
    .signing_name = "sqs",
    .protocol = TM_AWS_PROTO_QUERY,
    .api_version = "2012-11-05",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListQueues", "sqs:ListQueues"},
    {&s_api, "GetQueueAttributes", "sqs:GetQueueAttributes"},
    {NULL, NULL, NULL},
};

struct s_queue {
    const char *region;
    const char *arn;
};

static const struct tm_aws_resource_facts s_attributes = {"sqs", tm__aws_sqs_put_attributes,
                                                          tm__aws_sqs_attribute_facts, true};

static void s_attributes_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_queue *q = user_data;
    tm__aws_result_put(scan, res, q->region, q->arn, &s_attributes);
}

static int s_start_queue(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *url_in, void *user_data) {
    const char *region = user_data;
    char arn[512];
    if (tm__aws_sqs_queue_arn(arn, sizeof(arn), f, url_in))
        return TM_OK;
    struct s_queue *q = tm_aws_scan_alloc(scan, sizeof(*q));
    const char *url = tm_aws_scan_strdup(scan, url_in);
    if (!q || !url || !(q->arn = tm_aws_scan_strdup(scan, arn)))
        return TM_ERR_NOMEM;
    q->region = region;
    const struct tm_aws_param p[] = {{"QueueUrl", url, false}, {"AttributeName.1", "All", false}};
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = "GetQueueAttributes",
        .region = region,
        .resource = q->arn,
        .params = p,
        .param_count = 2,
    };
    return tm_aws_call(scan, &call, s_attributes_done, q);
}

static const struct tm_aws_listing s_queues = {"sqs", "NextToken", tm__aws_sqs_parse_queues, s_start_queue};

static void s_queues_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    (void)tm__aws_listing_page(scan, res, user_data, &s_queues, s_queues_done, user_data);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    char *r = tm_aws_scan_strdup(scan, region);
    if (!r)
        return TM_ERR_NOMEM;
    /* Without MaxResults, ListQueues stops at 1,000 queues and gives no token. */
    static const struct tm_aws_param max = {"MaxResults", "1000", false};
    struct tm_aws_call call = {.api = &s_api, .operation = "ListQueues", .region = r, .params = &max, .param_count = 1};
    return tm_aws_call(scan, &call, s_queues_done, r);
}

const struct tm_aws_service tm__aws_service_sqs = {
    .name = "sqs",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
