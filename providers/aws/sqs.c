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

static void s_attributes_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_queue *q = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), q->arn);
    if (!r)
        return;
    const struct tm_snapshot_error *err = res->error;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, q->region, "sqs", "GetQueueAttributes");
        char errmsg[256] = "";
        rc = tm__aws_sqs_put_attributes(&f, r, res->body, res->body_len, errmsg, sizeof(errmsg));
        if (rc == TM_ERR_PARSE) {
            err = tm__aws_result_malformed(scan, res, errmsg);
            rc = err ? TM_OK : TM_ERR_NOMEM;
        }
    }
    for (size_t i = 0; err && rc == TM_OK && tm__aws_sqs_attribute_facts[i]; i++)
        rc = tm_snapshot_set_unknown(r, "attrs", tm__aws_sqs_attribute_facts[i], err);
    if (err && rc == TM_OK)
        rc = tm_snapshot_set_unknown(r, "policies", "resource", err);
    (void)tm_aws_scan_check(scan, rc, "sqs GetQueueAttributes");
}

static int s_start_queue(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *region,
                         const char *url_in) {
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

static void s_queues_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *region = user_data;
    if (res->error)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, region, "sqs", "ListQueues");
    struct tm_aws_strv urls = {0};
    char *next = NULL;
    char errmsg[256] = "";
    int rc = tm__aws_sqs_parse_queues(&f, res->body, res->body_len, &urls, &next, errmsg, sizeof(errmsg));
    if (rc == TM_ERR_PARSE) {
        (void)tm__aws_result_malformed(scan, res, errmsg);
        rc = TM_OK;
    }
    for (size_t i = 0; i < urls.n && rc == TM_OK; i++)
        rc = s_start_queue(scan, &f, region, urls.v[i]);
    if (rc == TM_OK && next)
        rc = tm_aws_call_next(scan, res, "NextToken", next, s_queues_done, user_data);
    (void)tm_aws_scan_check(scan, rc, "sqs ListQueues");
    free(next);
    tm__aws_strv_clean_up(&urls);
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
