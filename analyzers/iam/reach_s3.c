/* S3 extras of the reachability analysis: bucket ACLs and Block Public Access settings.
 * ACL permissions map to policy actions as the Amazon S3 User Guide's "Access control list (ACL)
 * overview" (Mapping of ACL permissions and access policy permissions) says for buckets. */
#include "analyzers/iam/reach_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

int tm__iam_strs_addn(struct tm__iam_strs *s, const char *x, size_t n) {
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == n && memcmp(s->v[i], x, n) == 0)
            return TM_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        char **p = realloc(s->v, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        s->v = p;
        s->cap = cap;
    }
    char *d = tm_strndup(x, n);
    if (!d)
        return TM_ERR_NOMEM;
    s->v[s->n++] = d;
    return TM_OK;
}

int tm__iam_strs_add(struct tm__iam_strs *s, const char *x) {
    return tm__iam_strs_addn(s, x, strlen(x));
}

bool tm__iam_strs_has(const struct tm__iam_strs *s, const char *x) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

int tm__iam_strs_copy(struct tm__iam_strs *dst, const struct tm__iam_strs *src) {
    for (size_t i = 0; i < src->n; i++) {
        int rc = tm__iam_strs_add(dst, src->v[i]);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void tm__iam_strs_sort(struct tm__iam_strs *s) {
    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), s_cmp);
}

void tm__iam_strs_free(struct tm__iam_strs *s) {
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static const char *const s_read[] = {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", NULL};
static const char *const s_write[] = {"s3:PutObject", "s3:DeleteObject", NULL};
static const char *const s_read_acp[] = {"s3:GetBucketAcl", NULL};
static const char *const s_write_acp[] = {"s3:PutBucketAcl", NULL};
static const char *const s_full[] = {"s3:ListBucket",
                                     "s3:ListBucketVersions",
                                     "s3:ListBucketMultipartUploads",
                                     "s3:PutObject",
                                     "s3:DeleteObject",
                                     "s3:GetBucketAcl",
                                     "s3:PutBucketAcl",
                                     NULL};

const char *const *tm__iam_acl_actions(const char *permission) {
    if (strcmp(permission, "READ") == 0)
        return s_read;
    if (strcmp(permission, "WRITE") == 0)
        return s_write;
    if (strcmp(permission, "READ_ACP") == 0)
        return s_read_acp;
    if (strcmp(permission, "WRITE_ACP") == 0)
        return s_write_acp;
    if (strcmp(permission, "FULL_CONTROL") == 0)
        return s_full;
    return NULL;
}

void tm__iam_acl_clean_up(struct tm__iam_acl *acl) {
    if (!acl)
        return;
    for (size_t i = 0; i < acl->n; i++) {
        free(acl->grants[i].who);
        free(acl->grants[i].permission);
        free(acl->grants[i].json);
    }
    free(acl->grants);
    free(acl->owner_id);
    memset(acl, 0, sizeof(*acl));
}

static const char *s_str(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tm__iam_acl_parse(struct tm__iam_acl *out, const char *json, size_t len, char *err, size_t errlen) {
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = tm__iam_acl_read(out, root, err, errlen);
    cJSON_Delete(root);
    return rc;
}

int tm__iam_acl_read(struct tm__iam_acl *out, const cJSON *root, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    int rc = TM_ERR_PARSE;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "ACL: not a JSON object");
        goto out;
    }
    const cJSON *owner = cJSON_GetObjectItemCaseSensitive(root, "Owner");
    if (owner && s_str(owner, "ID") && !(out->owner_id = strdup(s_str(owner, "ID")))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    const cJSON *grants = cJSON_GetObjectItemCaseSensitive(root, "Grants");
    if (!cJSON_IsArray(grants)) {
        snprintf(err, errlen, "ACL: Grants: expected an array");
        goto out;
    }
    size_t count = (size_t)cJSON_GetArraySize(grants);
    out->grants = calloc(count ? count : 1, sizeof(*out->grants));
    if (!out->grants) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    const cJSON *g;
    size_t i = 0;
    cJSON_ArrayForEach(g, grants) {
        const cJSON *grantee = cJSON_GetObjectItemCaseSensitive(g, "Grantee");
        const char *perm = s_str(g, "Permission");
        const char *type = grantee ? s_str(grantee, "Type") : NULL;
        if (!cJSON_IsObject(grantee) || !type || !perm || !tm__iam_acl_actions(perm)) {
            snprintf(err, errlen,
                     "ACL: Grants[%zu]: expected a Grantee with a Type and a Permission "
                     "(READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL)",
                     i);
            goto out;
        }
        struct tm__iam_acl_grant *ag = &out->grants[out->n];
        const char *who = NULL;
        if (strcmp(type, "Group") == 0) {
            const char *uri = s_str(grantee, "URI");
            if (uri && tm_str_ends_with(uri, "/global/AllUsers")) {
                ag->reach = TM_IAM_REACH_PUBLIC;
                who = "AllUsers";
            } else if (uri && tm_str_ends_with(uri, "/global/AuthenticatedUsers")) {
                ag->reach = TM_IAM_REACH_AUTHENTICATED;
                who = "AuthenticatedUsers";
            } else if (uri && tm_str_ends_with(uri, "/s3/LogDelivery")) {
                ag->reach = TM_IAM_REACH_SERVICE;
                who = "LogDelivery";
            } else {
                snprintf(err, errlen, "ACL: Grants[%zu]: unknown group %s", i, uri ? uri : "(no URI)");
                goto out;
            }
        } else if (strcmp(type, "CanonicalUser") == 0 && s_str(grantee, "ID")) {
            who = s_str(grantee, "ID");
            ag->reach = out->owner_id && strcmp(who, out->owner_id) == 0 ? TM_IAM_REACH_ACCOUNT : TM_IAM_REACH_EXTERNAL;
        } else if (strcmp(type, "AmazonCustomerByEmail") == 0 && s_str(grantee, "EmailAddress")) {
            who = s_str(grantee, "EmailAddress");
            ag->reach = TM_IAM_REACH_EXTERNAL;
        } else {
            snprintf(err, errlen, "ACL: Grants[%zu]: unknown grantee type %s", i, type);
            goto out;
        }
        char *js = cJSON_PrintUnformatted(g);
        ag->who = strdup(who);
        ag->permission = strdup(perm);
        ag->json = js ? strdup(js) : NULL;
        cJSON_free(js);
        out->n++;
        if (!ag->who || !ag->permission || !ag->json) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        i++;
    }
    rc = TM_OK;
out:
    if (rc)
        tm__iam_acl_clean_up(out);
    return rc;
}

int tm_iam_s3_bpa_parse(struct tm_iam_s3_bpa *out, const char *json, size_t len, char *err, size_t errlen) {
    memset(out, 0, sizeof(*out));
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = TM_ERR_PARSE;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "public access block: not a JSON object");
        goto out;
    }
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "PublicAccessBlockConfiguration");
    if (!cfg)
        cfg = root;
    if (!cJSON_IsObject(cfg)) {
        snprintf(err, errlen, "public access block: PublicAccessBlockConfiguration: expected an object");
        goto out;
    }
    static const char *const names[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                        "RestrictPublicBuckets"};
    bool *fields[] = {&out->block_public_acls, &out->ignore_public_acls, &out->block_public_policy,
                      &out->restrict_public_buckets};
    const cJSON *kv;
    cJSON_ArrayForEach(kv, cfg) {
        size_t k = 0;
        while (k < 4 && strcmp(kv->string, names[k]) != 0)
            k++;
        if (k == 4) {
            snprintf(err, errlen, "public access block: unknown setting %s", kv->string);
            goto out;
        }
        if (!cJSON_IsBool(kv)) {
            snprintf(err, errlen, "public access block: %s: expected true or false", kv->string);
            goto out;
        }
        *fields[k] = cJSON_IsTrue(kv);
    }
    rc = TM_OK;
out:
    cJSON_Delete(root);
    return rc;
}
