#include "providers/aws/sns.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/lambda.h"
#include "providers/aws/xml.h"

/* Parses an SNS answer and finds <OPResponse><OPResult>. */
static int s_result(xmlDoc **doc, const xmlNode **result, const char *operation, const char *body, size_t len,
                    char *errmsg, size_t errmsg_len) {
    char why[200] = "";
    int rc = tm_aws_xml_parse(doc, body, len, why, sizeof(why));
    if (rc) {
        snprintf(errmsg, errmsg_len, "%s: %s", operation, why);
        return rc;
    }
    char response[64], wrapper[64];
    snprintf(response, sizeof(response), "%sResponse", operation);
    snprintf(wrapper, sizeof(wrapper), "%sResult", operation);
    const xmlNode *root = tm_aws_xml_root(*doc);
    *result = tm_aws_xml_child(root, wrapper);
    if (!tm_aws_xml_is(root, response) || !*result) {
        snprintf(errmsg, errmsg_len, "%s: not a %s", operation, response);
        tm_aws_xml_free(*doc);
        *doc = NULL;
        return TM_ERR_PARSE;
    }
    return TM_OK;
}

static int s_token(const xmlNode *result, const char *operation, char **next_token, char *errmsg, size_t errmsg_len) {
    const xmlNode *tok = tm_aws_xml_child(result, "NextToken");
    const char *token = tm_aws_xml_text(tok);
    if (tok && !token) {
        snprintf(errmsg, errmsg_len, "%s: NextToken is not text", operation);
        return TM_ERR_PARSE;
    }
    if (token && *token && !(*next_token = strdup(token)))
        return TM_ERR_NOMEM;
    return TM_OK;
}

int tm__aws_sns_parse_topics(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                             char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *result = NULL;
    int rc = s_result(&doc, &result, "ListTopics", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *topics = tm_aws_xml_child(result, "Topics");
    int i = 0;
    for (const xmlNode *m = tm_aws_xml_child(topics, "member"); m && !rc; m = tm_aws_xml_next(m), i++) {
        const char *arn = tm_aws_xml_child_text(m, "TopicArn");
        const char *svc, *name;
        size_t svc_len, name_len;
        if (!arn || !tm__aws_arn_field(arn, 2, &svc, &svc_len) || svc_len != 3 || memcmp(svc, "sns", 3) != 0 ||
            !tm__aws_arn_field(arn, 5, &name, &name_len) || !name_len || strchr(name, ':')) {
            char msg[200];
            snprintf(msg, sizeof(msg), "ListTopics: Topics.member[%d]: no topic ARN", i);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        cJSON *res = NULL;
        rc = tm__aws_facts_resource(f, arn, "aws:sns:topic", name, &res);
        if (!rc && res && arns)
            rc = tm__aws_strv_push(arns, arn);
    }
    if (!rc)
        rc = s_token(result, "ListTopics", next_token, errmsg, errmsg_len);
    if (rc) {
        free(*next_token);
        *next_token = NULL;
    }
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_sns_put_attributes(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len, char *errmsg,
                               size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *result = NULL;
    int rc = s_result(&doc, &result, "GetTopicAttributes", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *policy = NULL, *kms = NULL;
    const xmlNode *attrs = tm_aws_xml_child(result, "Attributes");
    for (const xmlNode *e = tm_aws_xml_child(attrs, "entry"); e; e = tm_aws_xml_next(e)) {
        const char *key = tm_aws_xml_child_text(e, "key");
        const char *value = tm_aws_xml_child_text(e, "value");
        if (!key || !value) {
            snprintf(errmsg, errmsg_len, "GetTopicAttributes: an entry has no key or value");
            rc = TM_ERR_PARSE;
            goto out;
        }
        if (strcmp(key, "Policy") == 0)
            policy = value;
        else if (strcmp(key, "KmsMasterKeyId") == 0)
            kms = value;
    }
    rc = tm_snapshot_set_attr(res, "kms_master_key_id", tm_aws_json_string_or_null(kms && *kms ? kms : NULL));
    if (rc)
        goto out;
    if (!policy) {
        rc = tm_snapshot_set_policy(res, "resource", cJSON_CreateNull());
        goto out;
    }
    cJSON *docj = NULL;
    char why[200] = "";
    rc = tm__aws_policy_parse(&docj, policy, strlen(policy), why, sizeof(why));
    if (rc == TM_OK) {
        rc = tm_snapshot_set_policy(res, "resource", docj);
    } else if (rc != TM_ERR_NOMEM) {
        char msg[300];
        snprintf(msg, sizeof(msg), "GetTopicAttributes: Policy: %s", why);
        rc = tm__aws_facts_fail(f, res, "policies", "resource", tm_json_str(res, "id", NULL),
                                TM_AWS_CODE_MALFORMED_POLICY, msg);
    }
out:
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_sns_parse_subscriptions(cJSON *subs, const char *operation, const char *body, size_t len, char **next_token,
                                    char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *result = NULL;
    int rc = s_result(&doc, &result, operation, body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *list = tm_aws_xml_child(result, "Subscriptions");
    int i = 0;
    for (const xmlNode *m = tm_aws_xml_child(list, "member"); m && !rc; m = tm_aws_xml_next(m), i++) {
        const char *protocol = tm_aws_xml_child_text(m, "Protocol");
        const char *endpoint = tm_aws_xml_child_text(m, "Endpoint");
        const char *arn = tm_aws_xml_child_text(m, "SubscriptionArn");
        const char *topic = tm_aws_xml_child_text(m, "TopicArn");
        if (!protocol || !endpoint || !arn || !topic) {
            snprintf(errmsg, errmsg_len,
                     "%s: Subscriptions.member[%d]: no TopicArn, Protocol, Endpoint or SubscriptionArn", operation, i);
            rc = TM_ERR_PARSE;
            break;
        }
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "topic_arn", topic) ||
            !cJSON_AddStringToObject(o, "protocol", protocol) || !cJSON_AddStringToObject(o, "endpoint", endpoint) ||
            !cJSON_AddStringToObject(o, "subscription_arn", arn) || !cJSON_AddItemToArray(subs, o)) {
            cJSON_Delete(o);
            rc = TM_ERR_NOMEM;
        }
    }
    if (!rc)
        rc = s_token(result, operation, next_token, errmsg, errmsg_len);
    if (rc) {
        free(*next_token);
        *next_token = NULL;
    }
    tm_aws_xml_free(doc);
    return rc;
}

static int s_cmp_sub(const void *a, const void *b) {
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    static const char *const keys[] = {"subscription_arn", "endpoint", "protocol"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int c = strcmp(tm_json_str(x, keys[i], ""), tm_json_str(y, keys[i], ""));
        if (c)
            return c;
    }
    return 0;
}

int tm__aws_sns_put_subscriptions(cJSON *topic, const cJSON *subs) {
    const char *id = tm_json_str(topic, "id", "");
    int n = 0;
    for (const cJSON *s = subs ? subs->child : NULL; s; s = s->next)
        n += strcmp(tm_json_str(s, "topic_arn", ""), id) == 0;
    cJSON **v = n ? malloc((size_t)n * sizeof(*v)) : NULL;
    cJSON *list = cJSON_CreateArray();
    int rc = (n && !v) || !list ? TM_ERR_NOMEM : TM_OK;
    int i = 0;
    for (const cJSON *s = subs ? subs->child : NULL; s && !rc; s = s->next) {
        if (strcmp(tm_json_str(s, "topic_arn", ""), id) != 0)
            continue;
        cJSON *o = cJSON_CreateObject();
        v[i] = o;
        if (!o || !cJSON_AddStringToObject(o, "protocol", tm_json_str(s, "protocol", "")) ||
            !cJSON_AddStringToObject(o, "endpoint", tm_json_str(s, "endpoint", "")) ||
            !cJSON_AddStringToObject(o, "subscription_arn", tm_json_str(s, "subscription_arn", "")))
            rc = TM_ERR_NOMEM;
        i++;
    }
    if (!rc) {
        if (n > 1)
            qsort(v, (size_t)n, sizeof(*v), s_cmp_sub);
        /* Appending to an array cannot fail once both items exist. */
        for (i = 0; i < n; i++)
            (void)cJSON_AddItemToArray(list, v[i]);
    } else {
        for (int k = 0; k < i; k++)
            cJSON_Delete(v[k]);
    }
    free(v);
    for (const cJSON *s = list ? list->child : NULL; s && !rc; s = s->next) {
        const char *protocol = tm_json_str(s, "protocol", "");
        const char *endpoint = tm_json_str(s, "endpoint", "");
        if (strcmp(protocol, "sqs") == 0 && tm_str_starts_with(endpoint, "arn:")) {
            rc = tm_snapshot_add_link(topic, "delivers-to", endpoint);
        } else if (strcmp(protocol, "lambda") == 0) {
            char *fn = tm__aws_lambda_unqualified_arn(endpoint);
            if (fn) {
                rc = tm_snapshot_add_link(topic, "delivers-to", fn);
                if (!rc && strcmp(fn, endpoint) != 0)
                    rc = tm_snapshot_add_link(topic, "delivers-to", endpoint);
            }
            free(fn);
        }
    }
    if (rc) {
        cJSON_Delete(list);
        return rc;
    }
    return tm_snapshot_set_attr(topic, "subscriptions", list);
}
