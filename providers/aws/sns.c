/* SNS: per region, every topic with its attributes and the subscriptions it delivers to. */
#include "providers/aws/sns.h"

#include <stdlib.h>

#include "core/json.h"
#include "core/snapshot.h"

static const struct tm_aws_api s_api = {
    .name = "sns",
    .service_id = "SNS",
    .endpoint_prefix = "sns",
    .signing_name = "sns",
    .protocol = TM_AWS_PROTO_QUERY,
    .api_version = "2010-03-31",
};

static const struct tm_aws_operation s_operations[] = {
    {&s_api, "ListTopics", "sns:ListTopics"},
    {&s_api, "GetTopicAttributes", "sns:GetTopicAttributes"},
    {&s_api, "ListSubscriptionsByTopic", "sns:ListSubscriptionsByTopic"},
    {NULL, NULL, NULL},
};

struct s_topic {
    const char *region;
    const char *arn;
    cJSON *subs; /* subscriptions read so far */
};

static int s_call(struct tm_aws_scan *scan, const char *region, const char *operation, const char *arn,
                  tm_aws_done_fn done, void *user_data) {
    const struct tm_aws_param p = {"TopicArn", arn, false};
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = operation,
        .region = region,
        .resource = arn,
        .params = &p,
        .param_count = 1,
    };
    return tm_aws_call(scan, &call, done, user_data);
}

static void s_attributes_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_topic *t = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), t->arn);
    if (!r)
        return;
    const struct tm_snapshot_error *err = res->error;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, t->region, "sns", "GetTopicAttributes");
        char errmsg[256] = "";
        rc = tm__aws_sns_put_attributes(&f, r, res->body, res->body_len, errmsg, sizeof(errmsg));
        if (rc == TM_ERR_PARSE) {
            err = tm__aws_result_malformed(scan, res, errmsg);
            rc = err ? TM_OK : TM_ERR_NOMEM;
        }
    }
    if (err && rc == TM_OK)
        rc = tm_snapshot_set_unknown(r, "policies", "resource", err);
    if (err && rc == TM_OK)
        rc = tm_snapshot_set_unknown(r, "attrs", "kms_master_key_id", err);
    (void)tm_aws_scan_check(scan, rc, "sns GetTopicAttributes");
}

static void s_subscriptions_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_topic *t = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), t->arn);
    const struct tm_snapshot_error *err = res->error;
    char *next = NULL;
    int rc = TM_OK;
    if (!err) {
        char errmsg[256] = "";
        rc = tm__aws_sns_parse_subscriptions(t->subs, res->body, res->body_len, &next, errmsg, sizeof(errmsg));
        if (rc == TM_ERR_PARSE) {
            err = tm__aws_result_malformed(scan, res, errmsg);
            rc = err ? TM_OK : TM_ERR_NOMEM;
        }
    }
    if (rc == TM_OK && !err && next) {
        rc = tm_aws_call_next(scan, res, "NextToken", next, s_subscriptions_done, t);
        free(next);
        if (rc == TM_OK)
            return;
        next = NULL;
    }
    free(next);
    cJSON *subs = t->subs;
    t->subs = NULL;
    /* A partial list is not the list: unknown when any page failed. */
    if (rc == TM_OK && r && err) {
        rc = tm_snapshot_set_unknown(r, "attrs", "subscriptions", err);
    } else if (rc == TM_OK && r) {
        rc = tm__aws_sns_put_subscriptions(r, subs);
        subs = NULL;
    }
    cJSON_Delete(subs);
    (void)tm_aws_scan_check(scan, rc, "sns ListSubscriptionsByTopic");
}

static int s_start_topic(struct tm_aws_scan *scan, const char *region, const char *arn) {
    struct s_topic *t = tm_aws_scan_alloc(scan, sizeof(*t));
    if (!t || !(t->arn = tm_aws_scan_strdup(scan, arn)))
        return TM_ERR_NOMEM;
    t->region = region;
    int rc = s_call(scan, region, "GetTopicAttributes", t->arn, s_attributes_done, t);
    if (rc)
        return rc;
    if (!(t->subs = cJSON_CreateArray()))
        return TM_ERR_NOMEM;
    rc = s_call(scan, region, "ListSubscriptionsByTopic", t->arn, s_subscriptions_done, t);
    if (rc) {
        cJSON_Delete(t->subs);
        t->subs = NULL;
    }
    return rc;
}

static void s_topics_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *region = user_data;
    if (res->error)
        return;
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, region, "sns", "ListTopics");
    struct tm_aws_strv arns = {0};
    char *next = NULL;
    char errmsg[256] = "";
    int rc = tm__aws_sns_parse_topics(&f, res->body, res->body_len, &arns, &next, errmsg, sizeof(errmsg));
    if (rc == TM_ERR_PARSE) {
        (void)tm__aws_result_malformed(scan, res, errmsg);
        rc = TM_OK;
    }
    for (size_t i = 0; i < arns.n && rc == TM_OK; i++)
        rc = s_start_topic(scan, region, arns.v[i]);
    if (rc == TM_OK && next)
        rc = tm_aws_call_next(scan, res, "NextToken", next, s_topics_done, user_data);
    (void)tm_aws_scan_check(scan, rc, "sns ListTopics");
    free(next);
    tm__aws_strv_clean_up(&arns);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    char *r = tm_aws_scan_strdup(scan, region);
    if (!r)
        return TM_ERR_NOMEM;
    struct tm_aws_call call = {.api = &s_api, .operation = "ListTopics", .region = r};
    return tm_aws_call(scan, &call, s_topics_done, r);
}

const struct tm_aws_service tm_aws_service_sns = {
    .name = "sns",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
