#include "providers/aws/kms.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"

/* KMS pages carry NextMarker only while Truncated is true (botocore's paginator: more_results). */
static int s_marker(const cJSON *root, const char *operation, char **next_marker, char *errmsg, size_t errmsg_len) {
    *next_marker = NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "Truncated");
    if (t && !cJSON_IsBool(t)) {
        snprintf(errmsg, errmsg_len, "%s: Truncated is not a boolean", operation);
        return TM_ERR_PARSE;
    }
    int rc = tm__aws_json_next_token(root, "NextMarker", operation, next_marker, errmsg, errmsg_len);
    if (rc == TM_OK && !cJSON_IsTrue(t)) {
        free(*next_marker);
        *next_marker = NULL;
    } else if (rc == TM_OK && !*next_marker) {
        snprintf(errmsg, errmsg_len, "%s: Truncated without a NextMarker", operation);
        rc = TM_ERR_PARSE;
    }
    return rc;
}

static int s_malformed_item(const struct tm_aws_facts *f, const char *list, int index, const char *what) {
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s[%d]: %s", f->operation, list, index, what);
    return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
}

int tm__aws_kms_parse_keys(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                           char **next_marker, char *errmsg, size_t errmsg_len) {
    *next_marker = NULL;
    cJSON *root = NULL;
    const cJSON *keys = NULL;
    int rc = tm__aws_json_body(&root, body, len, "ListKeys", errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&keys, root, "Keys", "ListKeys", errmsg, errmsg_len);
    if (!rc)
        rc = s_marker(root, "ListKeys", next_marker, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *k = keys ? keys->child : NULL; k && !rc; k = k->next, i++) {
        const char *arn = tm_json_str(k, "KeyArn", NULL);
        const char *id = tm_json_str(k, "KeyId", NULL);
        const char *res_part;
        size_t res_len;
        if (!arn || !id || !tm__aws_arn_field(arn, 5, &res_part, &res_len) || !tm_str_starts_with(res_part, "key/")) {
            rc = s_malformed_item(f, "Keys", i, "no KeyId or no key ARN");
            continue;
        }
        cJSON *res = NULL;
        rc = tm__aws_facts_resource(f, arn, "aws:kms:key", id, &res);
        if (!rc && res && arns)
            rc = tm__aws_strv_push(arns, arn);
    }
    if (rc) {
        free(*next_marker);
        *next_marker = NULL;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_kms_put_metadata(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len, char *errmsg,
                             size_t errmsg_len) {
    cJSON *root = NULL;
    int rc = tm__aws_json_body(&root, body, len, "DescribeKey", errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "KeyMetadata");
    if (!cJSON_IsObject(md)) {
        snprintf(errmsg, errmsg_len, "DescribeKey: KeyMetadata is missing or not an object");
        rc = TM_ERR_PARSE;
    }
    if (!rc)
        rc = tm__aws_fact_string(f, res, "key_manager", md, "KeyManager", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "key_state", md, "KeyState", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "key_usage", md, "KeyUsage", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "key_spec", md, "KeySpec", NULL);
    if (!rc)
        rc = tm__aws_fact_string(f, res, "origin", md, "Origin", NULL);
    if (!rc)
        rc = tm__aws_fact_bool(f, res, "enabled", md, "Enabled", false);
    cJSON_Delete(root);
    return rc;
}

int tm__aws_kms_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_json_policy_member(out, body, len, "GetKeyPolicy", "Policy", false, errmsg, errmsg_len);
}

int tm__aws_kms_parse_aliases(cJSON *by_key, const char *body, size_t len, char **next_marker, char *errmsg,
                              size_t errmsg_len) {
    *next_marker = NULL;
    cJSON *root = NULL;
    const cJSON *aliases = NULL;
    int rc = tm__aws_json_body(&root, body, len, "ListAliases", errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&aliases, root, "Aliases", "ListAliases", errmsg, errmsg_len);
    if (!rc)
        rc = s_marker(root, "ListAliases", next_marker, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *a = aliases ? aliases->child : NULL; a && !rc; a = a->next, i++) {
        const char *name = tm_json_str(a, "AliasName", NULL);
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(a, "TargetKeyId");
        if (!name || (target && !cJSON_IsString(target) && !cJSON_IsNull(target))) {
            snprintf(errmsg, errmsg_len, "ListAliases: Aliases[%d]: no AliasName or a TargetKeyId that is not a string",
                     i);
            rc = TM_ERR_PARSE;
            break;
        }
        /* AWS-managed aliases are listed before their key exists. */
        if (!cJSON_IsString(target) || !*target->valuestring)
            continue;
        cJSON *list = cJSON_GetObjectItemCaseSensitive(by_key, target->valuestring);
        if (!list && !(list = cJSON_AddArrayToObject(by_key, target->valuestring))) {
            rc = TM_ERR_NOMEM;
            break;
        }
        cJSON *s = cJSON_CreateString(name);
        if (!s || !cJSON_AddItemToArray(list, s)) {
            cJSON_Delete(s);
            rc = TM_ERR_NOMEM;
        }
    }
    if (rc) {
        free(*next_marker);
        *next_marker = NULL;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_kms_put_aliases(const struct tm_aws_facts *f, const struct tm_aws_strv *key_arns, const cJSON *by_key,
                            const cJSON *unknown) {
    int rc = TM_OK;
    for (size_t i = 0; i < key_arns->n && !rc; i++) {
        cJSON *res = tm_snapshot_find(f->snap, key_arns->v[i]);
        if (!res)
            continue;
        if (unknown) {
            rc = tm_snapshot_set_attr(res, "aliases", cJSON_Duplicate(unknown, true));
            continue;
        }
        const char *slash = strrchr(key_arns->v[i], '/');
        const cJSON *list = slash ? cJSON_GetObjectItemCaseSensitive(by_key, slash + 1) : NULL;
        struct tm_aws_strv names = {0};
        for (const cJSON *n = list ? list->child : NULL; n && !rc; n = n->next)
            rc = tm__aws_strv_push(&names, n->valuestring);
        cJSON *arr = NULL;
        if (!rc)
            rc = tm__aws_json_sorted_strings(&arr, &names);
        if (!rc)
            rc = tm_snapshot_set_attr(res, "aliases", arr);
        tm__aws_strv_clean_up(&names);
    }
    return rc;
}
