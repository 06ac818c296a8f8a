/* SNS: per region, every topic with its attributes, and the region's subscriptions (ListSubscriptions),
 * given to their topics once both listings are complete. */
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
    {&s_api, "ListSubscriptions", "sns:ListSubscriptions"},
    {NULL, NULL, NULL},
};

struct s_region {
    const char *region;
    struct tm_aws_strv topics;
    bool topics_done;
    bool subs_done;
    bool finished;
    cJSON *subs;         /* every subscription of the region */
    cJSON *subs_unknown; /* the marker when they could not all be read */
};

struct s_topic {
    const char *region;
    const char *arn;
};

static void s_region_finish(struct tm_aws_scan *scan, struct s_region *r) {
    if (r->finished || !r->topics_done || !r->subs_done)
        return;
    r->finished = true;
    struct tm_snapshot *snap = tm_aws_scan_snapshot(scan);
    int rc = TM_OK;
    for (size_t i = 0; i < r->topics.n && rc == TM_OK; i++) {
        cJSON *t = tm_snapshot_find(snap, r->topics.v[i]);
        if (!t)
            continue;
        /* A partial list is not the list. */
        if (r->subs_unknown)
            rc = tm_snapshot_set_attr(t, "subscriptions", cJSON_Duplicate(r->subs_unknown, true));
        else
            rc = tm__aws_sns_put_subscriptions(t, r->subs);
    }
    cJSON_Delete(r->subs);
    cJSON_Delete(r->subs_unknown);
    r->subs = r->subs_unknown = NULL;
    tm__aws_strv_clean_up(&r->topics);
    (void)tm_aws_scan_check(scan, rc, "sns subscriptions");
}

/* What GetTopicAttributes reads: unknown together when it fails. */
static const char *const s_attribute_facts[] = {"kms_master_key_id", NULL};
static const struct tm_aws_resource_facts s_attributes = {"sns", tm__aws_sns_put_attributes, s_attribute_facts, true};

static void s_attributes_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_topic *t = user_data;
    tm__aws_result_put(scan, res, t->region, t->arn, &s_attributes);
}

static int s_start_topic(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *arn, void *user_data) {
    (void)f;
    struct s_region *r = user_data;
    struct s_topic *t = tm_aws_scan_alloc(scan, sizeof(*t));
    if (!t || !(t->arn = tm_aws_scan_strdup(scan, arn)) || tm__aws_strv_push(&r->topics, arn))
        return TM_ERR_NOMEM;
    t->region = r->region;
    const struct tm_aws_param p = {"TopicArn", t->arn, false};
    struct tm_aws_call call = {
        .api = &s_api,
        .operation = "GetTopicAttributes",
        .region = r->region,
        .resource = t->arn,
        .params = &p,
        .param_count = 1,
    };
    return tm_aws_call(scan, &call, s_attributes_done, t);
}

static const struct tm_aws_listing s_topics = {"sns", "NextToken", tm__aws_sns_parse_topics, s_start_topic};

static void s_topics_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_listing_page(scan, res, r->region, &s_topics, s_topics_done, r))
        return;
    r->topics_done = true;
    s_region_finish(scan, r);
}

static int s_parse_subscriptions(cJSON *subs, const char *body, size_t len, char **next, char *errmsg,
                                 size_t errmsg_len) {
    return tm__aws_sns_parse_subscriptions(subs, "ListSubscriptions", body, len, next, errmsg, errmsg_len);
}

static const struct tm_aws_table_listing s_subscriptions = {"sns", "NextToken", s_parse_subscriptions};

static void s_subscriptions_done(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_region *r = user_data;
    if (tm__aws_table_page(scan, res, &s_subscriptions, r->subs, &r->subs_unknown, s_subscriptions_done, r))
        return;
    r->subs_done = true;
    s_region_finish(scan, r);
}

static void s_region_free(void *ptr) {
    struct s_region *r = ptr;
    cJSON_Delete(r->subs);
    cJSON_Delete(r->subs_unknown);
    tm__aws_strv_clean_up(&r->topics);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    struct s_region *r = tm_aws_scan_alloc(scan, sizeof(*r));
    if (!r || !(r->region = tm_aws_scan_strdup(scan, region)) || !(r->subs = cJSON_CreateArray()))
        return TM_ERR_NOMEM;
    int rc = tm_aws_scan_on_destroy(scan, s_region_free, r);
    if (rc)
        return rc;
    struct tm_aws_call call = {.api = &s_api, .operation = "ListSubscriptions", .region = r->region};
    rc = tm_aws_call(scan, &call, s_subscriptions_done, r);
    if (rc)
        return rc;
    call.operation = "ListTopics";
    return tm_aws_call(scan, &call, s_topics_done, r);
}

const struct tm_aws_service tm__aws_service_sns = {
    .name = "sns",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
