#include "providers/aws/sqs.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/xml.h"

const char *const tm__aws_sqs_attribute_facts[] = {"kms_master_key_id", "sqs_managed_sse", "redrive_policy", NULL};

static bool s_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

int tm__aws_sqs_queue_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *url) {
    const char *p = url ? strstr(url, "://") : NULL;
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p)
        return TM_ERR_PARSE;
    const char *account = p + 1;
    const char *slash = strchr(account, '/');
    if (!slash || slash == account)
        return TM_ERR_PARSE;
    const char *name = slash + 1;
    if (!*name || strlen(name) > 80)
        return TM_ERR_PARSE;
    for (const char *c = account; c < slash; c++)
        if (*c < '0' || *c > '9')
            return TM_ERR_PARSE;
    for (const char *c = name; *c; c++)
        if (!s_name_char(*c))
            return TM_ERR_PARSE;
    char acct[32];
    if ((size_t)(slash - account) >= sizeof(acct))
        return TM_ERR_PARSE;
    memcpy(acct, account, (size_t)(slash - account));
    acct[slash - account] = '\0';
    return tm_aws_arn(out, out_len, f->partition, "sqs", f->region, acct, "%s", name) == TM_OK ? TM_OK : TM_ERR_PARSE;
}

int tm__aws_sqs_parse_queues(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *urls,
                             char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    char why[200] = "";
    int rc = tm_aws_xml_parse(&doc, body, len, why, sizeof(why));
    if (rc) {
        snprintf(errmsg, errmsg_len, "ListQueues: %s", why);
        return rc;
    }
    const xmlNode *result = tm_aws_xml_path(tm_aws_xml_root(doc), "ListQueuesResult");
    if (!tm_aws_xml_is(tm_aws_xml_root(doc), "ListQueuesResponse") || !result) {
        snprintf(errmsg, errmsg_len, "ListQueues: not a ListQueuesResponse");
        rc = TM_ERR_PARSE;
        goto out;
    }
    const xmlNode *tok = tm_aws_xml_child(result, "NextToken");
    const char *token = tm_aws_xml_text(tok);
    if (tok && !token) {
        snprintf(errmsg, errmsg_len, "ListQueues: NextToken is not text");
        rc = TM_ERR_PARSE;
        goto out;
    }
    int i = 0;
    for (const xmlNode *q = tm_aws_xml_child(result, "QueueUrl"); q && !rc; q = tm_aws_xml_next(q), i++) {
        const char *url = tm_aws_xml_text(q);
        char arn[512];
        cJSON *res = NULL;
        if (!url || tm__aws_sqs_queue_arn(arn, sizeof(arn), f, url)) {
            char msg[256];
            snprintf(msg, sizeof(msg), "ListQueues: QueueUrl[%d] is not a queue URL", i);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        const char *name = strrchr(url, '/') + 1;
        rc = tm__aws_facts_resource(f, arn, "aws:sqs:queue", name, &res);
        if (!rc && res)
            rc = tm_snapshot_set_attr(res, "url", cJSON_CreateString(url));
        if (!rc && res && urls)
            rc = tm__aws_strv_push(urls, url);
    }
    if (!rc && token && *token) {
        *next_token = strdup(token);
        if (!*next_token)
            rc = TM_ERR_NOMEM;
    }
out:
    tm_aws_xml_free(doc);
    return rc;
}

/* A JSON document carried in an attribute value: absent -> null; not JSON -> unknown with an error. */
static int s_json_fact(const struct tm_aws_facts *f, cJSON *res, const char *section, const char *key,
                       const char *attribute, const char *text, const char *code) {
    if (!text) {
        cJSON *null = cJSON_CreateNull();
        return strcmp(section, "policies") == 0 ? tm_snapshot_set_policy(res, key, null)
                                                : tm_snapshot_set_attr(res, key, null);
    }
    cJSON *doc = NULL;
    char why[200] = "";
    int rc = tm__aws_policy_parse(&doc, text, strlen(text), why, sizeof(why));
    if (rc == TM_OK)
        return strcmp(section, "policies") == 0 ? tm_snapshot_set_policy(res, key, doc)
                                                : tm_snapshot_set_attr(res, key, doc);
    if (rc == TM_ERR_NOMEM)
        return rc;
    char msg[320];
    snprintf(msg, sizeof(msg), "%s: %s: %s", f->operation, attribute, why);
    return tm__aws_facts_fail(f, res, section, key, tm_json_str(res, "id", NULL), code, msg);
}

int tm__aws_sqs_put_attributes(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len, char *errmsg,
                               size_t errmsg_len) {
    xmlDoc *doc = NULL;
    char why[200] = "";
    int rc = tm_aws_xml_parse(&doc, body, len, why, sizeof(why));
    if (rc) {
        snprintf(errmsg, errmsg_len, "GetQueueAttributes: %s", why);
        return rc;
    }
    const xmlNode *result = tm_aws_xml_path(tm_aws_xml_root(doc), "GetQueueAttributesResult");
    const char *policy = NULL, *kms = NULL, *sse = NULL, *redrive = NULL;
    if (!tm_aws_xml_is(tm_aws_xml_root(doc), "GetQueueAttributesResponse") || !result) {
        snprintf(errmsg, errmsg_len, "GetQueueAttributes: not a GetQueueAttributesResponse");
        rc = TM_ERR_PARSE;
        goto out;
    }
    for (const xmlNode *a = tm_aws_xml_child(result, "Attribute"); a; a = tm_aws_xml_next(a)) {
        const char *name = tm_aws_xml_child_text(a, "Name");
        const char *value = tm_aws_xml_child_text(a, "Value");
        if (!name || !value) {
            snprintf(errmsg, errmsg_len, "GetQueueAttributes: an Attribute has no Name or Value");
            rc = TM_ERR_PARSE;
            goto out;
        }
        if (strcmp(name, "Policy") == 0)
            policy = value;
        else if (strcmp(name, "KmsMasterKeyId") == 0)
            kms = value;
        else if (strcmp(name, "SqsManagedSseEnabled") == 0)
            sse = value;
        else if (strcmp(name, "RedrivePolicy") == 0)
            redrive = value;
    }
    rc = tm_snapshot_set_attr(res, "kms_master_key_id", tm_aws_json_string_or_null(kms && *kms ? kms : NULL));
    if (!rc && sse && strcmp(sse, "true") != 0 && strcmp(sse, "false") != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "GetQueueAttributes: SqsManagedSseEnabled is neither true nor false");
        rc = tm__aws_facts_fail(f, res, "attrs", "sqs_managed_sse", tm_json_str(res, "id", NULL), TM_AWS_CODE_MALFORMED,
                                msg);
    } else if (!rc) {
        rc = tm_snapshot_set_attr(res, "sqs_managed_sse", cJSON_CreateBool(sse && strcmp(sse, "true") == 0));
    }
    if (!rc)
        rc = s_json_fact(f, res, "attrs", "redrive_policy", "RedrivePolicy", redrive, TM_AWS_CODE_MALFORMED);
    if (!rc)
        rc = s_json_fact(f, res, "policies", "resource", "Policy", policy, TM_AWS_CODE_MALFORMED_POLICY);
out:
    tm_aws_xml_free(doc);
    return rc;
}
