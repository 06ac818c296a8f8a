#include "providers/aws/facts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "providers/aws/service.h"

int tm__aws_strv_pushn(struct tm_aws_strv *sv, const char *s, size_t len) {
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 16;
        char **v = realloc(sv->v, cap * sizeof(*v));
        if (!v)
            return TM_ERR_NOMEM;
        sv->v = v;
        sv->cap = cap;
    }
    char *copy = tm_strndup(s, len);
    if (!copy)
        return TM_ERR_NOMEM;
    sv->v[sv->n++] = copy;
    return TM_OK;
}

int tm__aws_strv_push(struct tm_aws_strv *sv, const char *s) {
    return tm__aws_strv_pushn(sv, s, strlen(s));
}

bool tm__aws_strv_contains(const struct tm_aws_strv *sv, const char *s) {
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return true;
    return false;
}

void tm__aws_strv_clean_up(struct tm_aws_strv *sv) {
    if (!sv)
        return;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

int tm__aws_parse_fail(char *errmsg, size_t errmsg_len, int rc, const char *fmt, ...) {
    if (errmsg && errmsg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errmsg, errmsg_len, fmt, ap);
        va_end(ap);
    }
    return rc == TM_ERR_NOMEM ? rc : TM_ERR_PARSE;
}

int tm__aws_facts_fail(const struct tm_aws_facts *f, cJSON *res, const char *section, const char *key,
                       const char *resource_id, const char *code, const char *message) {
    struct tm_snapshot_error e = {
        .service = f->service,
        .operation = f->operation,
        .region = f->region,
        .resource = resource_id,
        .code = code,
        .message = message,
        .attempts = 1,
    };
    int rc = tm_snapshot_add_error(f->snap, &e);
    if (rc == TM_OK && res)
        rc = tm_snapshot_set_unknown(res, section, key, &e);
    return rc;
}

int tm__aws_json_body(cJSON **out, const char *body, size_t len, const char *operation, char *errmsg,
                      size_t errmsg_len) {
    *out = NULL;
    cJSON *root = NULL;
    int rc = tm_json_parse(&root, body ? body : "", body ? len : 0, operation, errmsg, errmsg_len);
    if (rc)
        return rc;
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(errmsg, errmsg_len, "%s: the response is not a JSON object", operation);
        return TM_ERR_PARSE;
    }
    *out = root;
    return TM_OK;
}

int tm__aws_json_next_token(const cJSON *root, const char *member, const char *operation, char **out, char *errmsg,
                            size_t errmsg_len) {
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, member);
    if (!v || cJSON_IsNull(v))
        return TM_OK;
    if (!cJSON_IsString(v)) {
        snprintf(errmsg, errmsg_len, "%s: %s is not a string", operation, member);
        return TM_ERR_PARSE;
    }
    if (!*v->valuestring)
        return TM_OK;
    *out = strdup(v->valuestring);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

int tm__aws_json_list(const cJSON **out, const cJSON *root, const char *member, const char *operation, char *errmsg,
                      size_t errmsg_len) {
    *out = cJSON_GetObjectItemCaseSensitive(root, member);
    if (!*out || cJSON_IsNull(*out) || cJSON_IsArray(*out))
        return TM_OK;
    snprintf(errmsg, errmsg_len, "%s: %s is not an array", operation, member);
    return TM_ERR_PARSE;
}

int tm__aws_json_page(char **next, const char *body, size_t len, const char *operation, const char *list,
                      const char *token, tm_aws_json_item_fn item, void *acc, char *errmsg, size_t errmsg_len) {
    if (next)
        *next = NULL;
    cJSON *root = NULL;
    const cJSON *items = NULL;
    int rc = tm__aws_json_body(&root, body, len, operation, errmsg, errmsg_len);
    if (rc)
        return rc;
    rc = tm__aws_json_list(&items, root, list, operation, errmsg, errmsg_len);
    if (!rc && token)
        rc = tm__aws_json_next_token(root, token, operation, next, errmsg, errmsg_len);
    int i = 0;
    for (const cJSON *it = items ? items->child : NULL; it && !rc; it = it->next, i++) {
        rc = item(acc, it, i, errmsg, errmsg_len);
        if (rc == TM_ERR_PARSE && errmsg && errmsg_len && !strstr(errmsg, operation)) {
            char inner[200];
            snprintf(inner, sizeof(inner), "%s", errmsg);
            snprintf(errmsg, errmsg_len, "%s: %s[%d]: %s", operation, list, i, inner);
        }
    }
    if (rc && next) {
        free(*next);
        *next = NULL;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_policy_parse(cJSON **out, const char *text, size_t len, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    cJSON *inner = NULL;
    struct tm_buf quoted;
    tm_buf_init(&quoted, 0);
    int rc = tm_aws_policy_document(out, text, len, false);
    if (rc != TM_ERR_PARSE)
        goto out;
    /* One more level of string escaping, as API Gateway returns it: read the text as the inside of a
     * JSON string literal, then the result as the document. */
    rc = tm_buf_append_char(&quoted, '"');
    if (!rc)
        rc = tm_buf_append(&quoted, text, len);
    if (!rc)
        rc = tm_buf_append_char(&quoted, '"');
    if (rc)
        goto out;
    if (tm_json_parse(&inner, quoted.data, quoted.len, "policy", NULL, 0) == TM_OK && cJSON_IsString(inner))
        rc = tm_aws_policy_document(out, inner->valuestring, strlen(inner->valuestring), false);
    else
        rc = TM_ERR_PARSE;
out:
    if (rc == TM_ERR_PARSE) {
        char where[128] = "";
        cJSON *probe = NULL;
        if (tm_json_parse(&probe, text, len, "policy", where, sizeof(where)) == TM_OK)
            snprintf(where, sizeof(where), "not a JSON object");
        cJSON_Delete(probe);
        snprintf(errmsg, errmsg_len, "the policy is not a JSON document (%s)", where);
    } else if (rc == TM_ERR_TOO_BIG) {
        snprintf(errmsg, errmsg_len, "the policy document is over the size cap");
    }
    cJSON_Delete(inner);
    tm_buf_clean_up(&quoted);
    return rc;
}

int tm__aws_json_policy_member(cJSON **out, const char *body, size_t len, const char *operation, const char *member,
                               bool absent_is_null, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    cJSON *root = NULL;
    int rc = tm__aws_json_body(&root, body, len, operation, errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, member);
    if ((!p || cJSON_IsNull(p)) && absent_is_null) {
        *out = cJSON_CreateNull();
        rc = *out ? TM_OK : TM_ERR_NOMEM;
    } else if (!cJSON_IsString(p)) {
        snprintf(errmsg, errmsg_len, "%s: %s is missing or not a string", operation, member);
        rc = TM_ERR_PARSE;
    } else {
        char inner[200] = "";
        rc = tm__aws_policy_parse(out, p->valuestring, strlen(p->valuestring), inner, sizeof(inner));
        if (rc)
            snprintf(errmsg, errmsg_len, "%s: %s: %s", operation, member, inner);
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_facts_resource(const struct tm_aws_facts *f, const char *arn, const char *type, const char *name,
                           cJSON **out) {
    char account[64], region[64];
    tm__aws_arn_copy(account, sizeof(account), arn, 4);
    tm__aws_arn_copy(region, sizeof(region), arn, 3);
    int rc = tm_snapshot_resource(f->snap, arn, type, *account ? account : f->account, *region ? region : f->region,
                                  name, out);
    if (rc != TM_ERR_INVALID)
        return rc;
    *out = NULL;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s: %s is already recorded as another kind of resource than %s", f->operation, arn,
             type);
    return tm__aws_facts_fail(f, NULL, NULL, NULL, arn, TM_AWS_CODE_MALFORMED, msg);
}

static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int tm__aws_json_sorted_strings(cJSON **out, const struct tm_aws_strv *sv) {
    *out = NULL;
    char **v = NULL;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return TM_ERR_NOMEM;
    if (sv->n) {
        v = malloc(sv->n * sizeof(*v));
        if (!v)
            goto nomem;
        memcpy(v, sv->v, sv->n * sizeof(*v));
        qsort(v, sv->n, sizeof(*v), s_cmp_str);
    }
    for (size_t i = 0; i < sv->n; i++) {
        if (i && strcmp(v[i], v[i - 1]) == 0)
            continue;
        cJSON *s = cJSON_CreateString(v[i]);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            goto nomem;
        }
    }
    free(v);
    *out = arr;
    return TM_OK;
nomem:
    free(v);
    cJSON_Delete(arr);
    return TM_ERR_NOMEM;
}

static const char *s_type_name(const cJSON *v) {
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "null";
}

static int s_wrong_type(const struct tm_aws_facts *f, cJSON *res, const char *key, const char *member, const cJSON *v,
                        const char *want) {
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s is %s, not %s", f->operation, member, s_type_name(v), want);
    return tm__aws_facts_fail(f, res, "attrs", key, tm_json_str(res, "id", NULL), TM_AWS_CODE_MALFORMED, msg);
}

int tm__aws_fact_string(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj, const char *member,
                        const char *def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);
    if (!v || cJSON_IsNull(v))
        return tm_snapshot_set_attr(res, key, tm_aws_json_string_or_null(def));
    if (!cJSON_IsString(v))
        return s_wrong_type(f, res, key, member, v, "a string");
    return tm_snapshot_set_attr(res, key, cJSON_CreateString(v->valuestring));
}

int tm__aws_fact_bool(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj, const char *member,
                      bool def) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);
    if (!v || cJSON_IsNull(v))
        return tm_snapshot_set_attr(res, key, cJSON_CreateBool(def));
    if (!cJSON_IsBool(v))
        return s_wrong_type(f, res, key, member, v, "a boolean");
    return tm_snapshot_set_attr(res, key, cJSON_CreateBool(cJSON_IsTrue(v)));
}

int tm__aws_json_copy_strings(cJSON **out, const cJSON *obj, const char *member, bool *bad) {
    *out = NULL;
    *bad = false;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, member);
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return TM_ERR_NOMEM;
    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsArray(v)) {
            *bad = true;
            cJSON_Delete(arr);
            return TM_OK;
        }
        for (const cJSON *it = v->child; it; it = it->next) {
            if (!cJSON_IsString(it)) {
                *bad = true;
                cJSON_Delete(arr);
                return TM_OK;
            }
            cJSON *s = cJSON_CreateString(it->valuestring);
            if (!s || !cJSON_AddItemToArray(arr, s)) {
                cJSON_Delete(s);
                cJSON_Delete(arr);
                return TM_ERR_NOMEM;
            }
        }
    }
    *out = arr;
    return TM_OK;
}

int tm__aws_fact_strings(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj,
                         const char *member, bool sorted) {
    cJSON *arr = NULL;
    bool bad = false;
    int rc = tm__aws_json_copy_strings(&arr, obj, member, &bad);
    if (rc)
        return rc;
    if (bad)
        return s_wrong_type(f, res, key, member, cJSON_GetObjectItemCaseSensitive(obj, member), "an array of strings");
    if (sorted) {
        struct tm_aws_strv sv = {0};
        for (cJSON *it = arr->child; it && !rc; it = it->next)
            rc = tm__aws_strv_push(&sv, it->valuestring);
        cJSON_Delete(arr);
        arr = NULL;
        if (!rc)
            rc = tm__aws_json_sorted_strings(&arr, &sv);
        tm__aws_strv_clean_up(&sv);
        if (rc)
            return rc;
    }
    return tm_snapshot_set_attr(res, key, arr);
}

bool tm__aws_arn_field(const char *arn, int n, const char **start, size_t *len) {
    if (!arn || !tm_str_starts_with(arn, "arn:"))
        return false;
    const char *p = arn;
    for (int i = 0; i < n; i++) {
        p = strchr(p, ':');
        if (!p)
            return false;
        p++;
    }
    const char *end = n >= 5 ? p + strlen(p) : strchr(p, ':');
    if (!end)
        return false;
    *start = p;
    *len = (size_t)(end - p);
    return true;
}

void tm__aws_arn_copy(char *out, size_t out_len, const char *arn, int n) {
    const char *s;
    size_t len;
    out[0] = '\0';
    if (!tm__aws_arn_field(arn, n, &s, &len) || len >= out_len)
        return;
    memcpy(out, s, len);
    out[len] = '\0';
}
