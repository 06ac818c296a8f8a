/* IAM (global): the account's principals and their policies.
 *
 * GetAccountAuthorizationDetails gives users, groups, roles (with trust policies, instance profiles,
 * boundaries and RoleLastUsed) and the managed policies in use with all their versions, in one paginated
 * listing. Resources are written once every page is in, because a user's groups and a principal's
 * managed policies may be on other pages. Two gaps of that listing are filled from elsewhere: a role's
 * MaxSessionDuration (ListRoles) and the document of a managed policy it does not carry (an AWS managed
 * policy used only as a permissions boundary; GetPolicy + GetPolicyVersion). Then per user ListAccessKeys
 * and per key GetAccessKeyLastUsed; beside them ListAccountAliases, the OIDC providers and the SAML
 * providers. */
#include "providers/aws/iam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/str.h"
#include "providers/aws/facts.h"
#include "providers/aws/xml.h"

const struct tm_aws_api tm__aws_api_iam = {
    .name = "iam",
    .service_id = "IAM",
    .endpoint_prefix = "iam",
    .signing_name = "iam",
    .protocol = TM_AWS_PROTO_QUERY,
    .api_version = "2010-05-08",
    .global = true,
};

#define S_API (&tm__aws_api_iam)

/* The largest page IAM's listings allow (MaxItems, 1-1000; 100 when not asked). Each page waits for
 * the one before, so the page size sets how long a listing takes. */
#define S_MAX_ITEMS "1000"

static const struct tm_aws_operation s_operations[] = {
    {S_API, "GetAccountAuthorizationDetails", "iam:GetAccountAuthorizationDetails"},
    {S_API, "ListRoles", "iam:ListRoles"},
    {S_API, "ListInstanceProfiles", "iam:ListInstanceProfiles"},
    {S_API, "GetPolicy", "iam:GetPolicy"},
    {S_API, "GetPolicyVersion", "iam:GetPolicyVersion"},
    {S_API, "ListAccessKeys", "iam:ListAccessKeys"},
    {S_API, "GetAccessKeyLastUsed", "iam:GetAccessKeyLastUsed"},
    {S_API, "ListAccountAliases", "iam:ListAccountAliases"},
    {S_API, "ListOpenIDConnectProviders", "iam:ListOpenIDConnectProviders"},
    {S_API, "GetOpenIDConnectProvider", "iam:GetOpenIDConnectProvider"},
    {S_API, "ListSAMLProviders", "iam:ListSAMLProviders"},
    {NULL, NULL, NULL},
};

/* ---- parsing ---- */

static int s_add_str(cJSON *obj, const char *key, const char *value) {
    cJSON *v = tm_aws_json_string_or_null(value);
    if (!v || !cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

/* Required leaf text: NULL (and a message) when absent, empty or not a leaf. */
static const char *s_need(const xmlNode *m, const char *name, const char *where, char *errmsg, size_t errmsg_len) {
    const char *t = tm_aws_xml_child_text(m, name);
    if (!t || !*t) {
        tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: %s missing", where, name);
        return NULL;
    }
    return t;
}

/* A URL-encoded policy document into obj[key]. */
static int s_add_document(cJSON *obj, const char *key, const xmlNode *m, const char *elem, const char *where,
                          char *errmsg, size_t errmsg_len) {
    const char *text = s_need(m, elem, where, errmsg, errmsg_len);
    if (!text)
        return TM_ERR_PARSE;
    cJSON *doc = NULL;
    int rc = tm_aws_policy_document(&doc, text, strlen(text), true);
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: %s is not a URL-encoded JSON policy", where, elem);
    if (!cJSON_AddItemToObject(obj, key, doc)) {
        cJSON_Delete(doc);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

/* <UserPolicyList>/<GroupPolicyList>/<RolePolicyList>: [{name, document}]. */
static int s_inline_list(cJSON *obj, const xmlNode *m, const char *list, const char *where, char *errmsg,
                         size_t errmsg_len) {
    cJSON *arr = cJSON_AddArrayToObject(obj, "inline");
    if (!arr)
        return TM_ERR_NOMEM;
    for (const xmlNode *p = tm_aws_xml_child(tm_aws_xml_child(m, list), "member"); p; p = tm_aws_xml_next(p)) {
        const char *name = s_need(p, "PolicyName", where, errmsg, errmsg_len);
        if (!name)
            return TM_ERR_PARSE;
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e)) {
            cJSON_Delete(e);
            return TM_ERR_NOMEM;
        }
        int rc = s_add_str(e, "name", name);
        if (!rc)
            rc = s_add_document(e, "document", p, "PolicyDocument", where, errmsg, errmsg_len);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* <AttachedManagedPolicies>: [{name, arn}]. */
static int s_managed_list(cJSON *obj, const xmlNode *m, const char *where, char *errmsg, size_t errmsg_len) {
    cJSON *arr = cJSON_AddArrayToObject(obj, "managed");
    if (!arr)
        return TM_ERR_NOMEM;
    for (const xmlNode *p = tm_aws_xml_child(tm_aws_xml_child(m, "AttachedManagedPolicies"), "member"); p;
         p = tm_aws_xml_next(p)) {
        const char *arn = s_need(p, "PolicyArn", where, errmsg, errmsg_len);
        if (!arn)
            return TM_ERR_PARSE;
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(arr, e) || s_add_str(e, "name", tm_aws_xml_child_text(p, "PolicyName")) ||
            s_add_str(e, "arn", arn))
            return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_boundary(cJSON *obj, const xmlNode *m) {
    const char *arn = tm_aws_xml_text(tm_aws_xml_path(m, "PermissionsBoundary/PermissionsBoundaryArn"));
    return s_add_str(obj, "boundary", arn && *arn ? arn : NULL);
}

static int s_common(cJSON *obj, const xmlNode *m, const char *name_elem, const char *id_elem, const char *id_key,
                    const char *where, char *errmsg, size_t errmsg_len) {
    const char *arn = s_need(m, "Arn", where, errmsg, errmsg_len);
    const char *name = arn ? s_need(m, name_elem, where, errmsg, errmsg_len) : NULL;
    if (!arn || !name)
        return TM_ERR_PARSE;
    if (s_add_str(obj, "arn", arn) || s_add_str(obj, "name", name) ||
        s_add_str(obj, id_key, tm_aws_xml_child_text(m, id_elem)) ||
        s_add_str(obj, "path", tm_aws_xml_child_text(m, "Path")))
        return TM_ERR_NOMEM;
    return TM_OK;
}

static int s_parse_user(struct tm__aws_iam_details *d, const xmlNode *m, char *errmsg, size_t errmsg_len) {
    cJSON *u = cJSON_CreateObject();
    if (!u || !cJSON_AddItemToArray(d->users, u)) {
        cJSON_Delete(u);
        return TM_ERR_NOMEM;
    }
    char where[300];
    snprintf(where, sizeof(where), "GetAccountAuthorizationDetails: user %.200s",
             tm_aws_xml_child_text(m, "UserName") ? tm_aws_xml_child_text(m, "UserName") : "?");
    int rc = s_common(u, m, "UserName", "UserId", "user_id", where, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *groups = NULL;
    rc = tm_aws_xml_json_list(&groups, m, "GroupList", "member", NULL);
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: GroupList malformed", where);
    cJSON_AddItemToObject(u, "groups", groups);
    if ((rc = s_boundary(u, m)) || (rc = s_inline_list(u, m, "UserPolicyList", where, errmsg, errmsg_len)) ||
        (rc = s_managed_list(u, m, where, errmsg, errmsg_len)))
        return rc;
    return TM_OK;
}

static int s_parse_group(struct tm__aws_iam_details *d, const xmlNode *m, char *errmsg, size_t errmsg_len) {
    cJSON *g = cJSON_CreateObject();
    if (!g)
        return TM_ERR_NOMEM;
    char where[300];
    snprintf(where, sizeof(where), "GetAccountAuthorizationDetails: group %.200s",
             tm_aws_xml_child_text(m, "GroupName") ? tm_aws_xml_child_text(m, "GroupName") : "?");
    int rc = s_common(g, m, "GroupName", "GroupId", "group_id", where, errmsg, errmsg_len);
    if (!rc)
        rc = s_inline_list(g, m, "GroupPolicyList", where, errmsg, errmsg_len);
    if (!rc)
        rc = s_managed_list(g, m, where, errmsg, errmsg_len);
    if (rc) {
        cJSON_Delete(g);
        return rc;
    }
    const char *name = tm_json_str(g, "name", "");
    cJSON_DeleteItemFromObjectCaseSensitive(d->groups, name);
    if (!cJSON_AddItemToObject(d->groups, name, g)) {
        cJSON_Delete(g);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_parse_profile(struct tm__aws_iam_details *d, const xmlNode *p, const char *where, char *errmsg,
                           size_t errmsg_len) {
    const char *arn = s_need(p, "Arn", where, errmsg, errmsg_len);
    if (!arn)
        return TM_ERR_PARSE;
    if (cJSON_GetObjectItemCaseSensitive(d->profiles, arn))
        return TM_OK;
    cJSON *ip = cJSON_CreateObject();
    if (!ip || !cJSON_AddItemToObject(d->profiles, arn, ip)) {
        cJSON_Delete(ip);
        return TM_ERR_NOMEM;
    }
    cJSON *roles = NULL;
    if (s_add_str(ip, "arn", arn) || s_add_str(ip, "name", tm_aws_xml_child_text(p, "InstanceProfileName")) ||
        s_add_str(ip, "path", tm_aws_xml_child_text(p, "Path")))
        return TM_ERR_NOMEM;
    int rc = tm_aws_xml_json_list(&roles, p, "Roles", "member", "Arn");
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: instance profile %.200s: Roles malformed", where, arn);
    cJSON_AddItemToObject(ip, "roles", roles);
    return TM_OK;
}

static int s_parse_role(struct tm__aws_iam_details *d, const xmlNode *m, char *errmsg, size_t errmsg_len) {
    cJSON *r = cJSON_CreateObject();
    if (!r || !cJSON_AddItemToArray(d->roles, r)) {
        cJSON_Delete(r);
        return TM_ERR_NOMEM;
    }
    char where[300];
    snprintf(where, sizeof(where), "GetAccountAuthorizationDetails: role %.200s",
             tm_aws_xml_child_text(m, "RoleName") ? tm_aws_xml_child_text(m, "RoleName") : "?");
    int rc = s_common(r, m, "RoleName", "RoleId", "role_id", where, errmsg, errmsg_len);
    if (!rc)
        rc = s_add_document(r, "trust", m, "AssumeRolePolicyDocument", where, errmsg, errmsg_len);
    if (!rc)
        rc = s_boundary(r, m);
    if (!rc)
        rc = s_inline_list(r, m, "RolePolicyList", where, errmsg, errmsg_len);
    if (!rc)
        rc = s_managed_list(r, m, where, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *profiles = cJSON_AddArrayToObject(r, "instance_profiles");
    if (!profiles)
        return TM_ERR_NOMEM;
    for (const xmlNode *p = tm_aws_xml_child(tm_aws_xml_child(m, "InstanceProfileList"), "member"); p;
         p = tm_aws_xml_next(p)) {
        if ((rc = s_parse_profile(d, p, where, errmsg, errmsg_len)))
            return rc;
        cJSON *a = cJSON_CreateString(tm_aws_xml_child_text(p, "Arn"));
        if (!a || !cJSON_AddItemToArray(profiles, a)) {
            cJSON_Delete(a);
            return TM_ERR_NOMEM;
        }
    }
    /* RoleLastUsed is present and empty for a role never used (or not used within the tracking period). */
    const xmlNode *lu = tm_aws_xml_child(m, "RoleLastUsed");
    const char *date = tm_aws_xml_child_text(lu, "LastUsedDate");
    if (date && *date) {
        cJSON *o = cJSON_AddObjectToObject(r, "last_used");
        if (!o || s_add_str(o, "date", date) || s_add_str(o, "region", tm_aws_xml_child_text(lu, "Region")))
            return TM_ERR_NOMEM;
    } else if (!cJSON_AddNullToObject(r, "last_used")) {
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_parse_policy(struct tm__aws_iam_details *d, const xmlNode *m, char *errmsg, size_t errmsg_len) {
    char where[300];
    snprintf(where, sizeof(where), "GetAccountAuthorizationDetails: policy %.200s",
             tm_aws_xml_child_text(m, "PolicyName") ? tm_aws_xml_child_text(m, "PolicyName") : "?");
    const char *arn = s_need(m, "Arn", where, errmsg, errmsg_len);
    if (!arn)
        return TM_ERR_PARSE;
    const char *def = tm_aws_xml_child_text(m, "DefaultVersionId");
    const xmlNode *chosen = NULL;
    for (const xmlNode *v = tm_aws_xml_child(tm_aws_xml_child(m, "PolicyVersionList"), "member"); v;
         v = tm_aws_xml_next(v)) {
        bool is_default = false;
        int rc = tm_aws_xml_child_bool(v, "IsDefaultVersion", &is_default);
        if (rc == TM_ERR_PARSE)
            return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: IsDefaultVersion malformed", where);
        const char *vid = tm_aws_xml_child_text(v, "VersionId");
        if (is_default || (def && vid && strcmp(def, vid) == 0)) {
            chosen = v;
            break;
        }
    }
    if (!chosen)
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: no default version in PolicyVersionList",
                                  where);
    cJSON *holder = cJSON_CreateObject();
    if (!holder)
        return TM_ERR_NOMEM;
    int rc = s_add_document(holder, "d", chosen, "Document", where, errmsg, errmsg_len);
    if (!rc) {
        cJSON *doc = cJSON_DetachItemFromObjectCaseSensitive(holder, "d");
        cJSON_DeleteItemFromObjectCaseSensitive(d->policies, arn);
        if (!cJSON_AddItemToObject(d->policies, arn, doc)) {
            cJSON_Delete(doc);
            rc = TM_ERR_NOMEM;
        }
    }
    cJSON_Delete(holder);
    return rc;
}

int tm__aws_iam_details_init(struct tm__aws_iam_details *d) {
    memset(d, 0, sizeof(*d));
    d->users = cJSON_CreateArray();
    d->groups = cJSON_CreateObject();
    d->roles = cJSON_CreateArray();
    d->profiles = cJSON_CreateObject();
    d->policies = cJSON_CreateObject();
    d->max_session = cJSON_CreateObject();
    if (!d->users || !d->groups || !d->roles || !d->profiles || !d->policies || !d->max_session) {
        tm__aws_iam_details_clean_up(d);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

void tm__aws_iam_details_clean_up(struct tm__aws_iam_details *d) {
    if (!d)
        return;
    cJSON_Delete(d->users);
    cJSON_Delete(d->groups);
    cJSON_Delete(d->roles);
    cJSON_Delete(d->profiles);
    cJSON_Delete(d->policies);
    cJSON_Delete(d->max_session);
    memset(d, 0, sizeof(*d));
}

int tm__aws_iam_parse_gaad(struct tm__aws_iam_details *d, const char *body, size_t len, char **marker, char *errmsg,
                           size_t errmsg_len) {
    static const char op[] = "GetAccountAuthorizationDetails";
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, op, body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "UserDetailList"), "member"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_parse_user(d, m, errmsg, errmsg_len);
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "GroupDetailList"), "member"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_parse_group(d, m, errmsg, errmsg_len);
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "RoleDetailList"), "member"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_parse_role(d, m, errmsg, errmsg_len);
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "Policies"), "member"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_parse_policy(d, m, errmsg, errmsg_len);
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", "IsTruncated")))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: IsTruncated without a Marker", op);
    if (rc == TM_ERR_NOMEM)
        tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: out of memory", op);
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_list_roles(struct tm__aws_iam_details *d, const char *body, size_t len, char **marker,
                                 char *errmsg, size_t errmsg_len) {
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListRoles", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "Roles"), "member"); m && !rc;
         m = tm_aws_xml_next(m)) {
        const char *arn = s_need(m, "Arn", "ListRoles: role", errmsg, errmsg_len);
        long long secs = 0;
        if (!arn) {
            rc = TM_ERR_PARSE;
            break;
        }
        int r = tm_aws_xml_child_ll(m, "MaxSessionDuration", &secs);
        if (r) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListRoles: role %.200s: MaxSessionDuration %s",
                                    arn, r == TM_ERR_NOT_FOUND ? "missing" : "not a number");
            break;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(d->max_session, arn);
        if (!cJSON_AddNumberToObject(d->max_session, arn, (double)secs))
            rc = TM_ERR_NOMEM;
    }
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", "IsTruncated")))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "ListRoles: IsTruncated without a Marker");
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_instance_profiles(struct tm__aws_iam_details *d, const char *body, size_t len, char **marker,
                                        char *errmsg, size_t errmsg_len) {
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListInstanceProfiles", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "InstanceProfiles"), "member"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_parse_profile(d, m, "ListInstanceProfiles", errmsg, errmsg_len);
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", "IsTruncated")))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "ListInstanceProfiles: IsTruncated without a Marker");
    tm_aws_xml_free(doc);
    return rc;
}

static int s_want(cJSON *set, const struct tm__aws_iam_details *d, const char *arn) {
    if (!arn || cJSON_GetObjectItemCaseSensitive(d->policies, arn) || cJSON_GetObjectItemCaseSensitive(set, arn))
        return TM_OK;
    return cJSON_AddTrueToObject(set, arn) ? TM_OK : TM_ERR_NOMEM;
}

static int s_want_all(cJSON *set, const struct tm__aws_iam_details *d, const cJSON *list) {
    for (const cJSON *e = list ? list->child : NULL; e; e = e->next) {
        const cJSON *obj = cJSON_GetObjectItemCaseSensitive(e, "managed");
        for (const cJSON *p = obj ? obj->child : NULL; p; p = p->next)
            if (s_want(set, d, tm_json_str(p, "arn", NULL)))
                return TM_ERR_NOMEM;
        if (s_want(set, d, tm_json_str(e, "boundary", NULL)))
            return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm__aws_iam_missing_policies(cJSON **out, const struct tm__aws_iam_details *d) {
    *out = NULL;
    cJSON *set = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    int rc = TM_ERR_NOMEM;
    if (!set || !arr)
        goto out;
    if (s_want_all(set, d, d->users) || s_want_all(set, d, d->groups) || s_want_all(set, d, d->roles))
        goto out;
    tm_json_sort_keys(set);
    for (const cJSON *e = set->child; e; e = e->next) {
        cJSON *s = cJSON_CreateString(e->string);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
    rc = TM_OK;
out:
    cJSON_Delete(set);
    cJSON_Delete(arr);
    return rc;
}

int tm__aws_iam_parse_get_policy(char **version_id, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *version_id = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "GetPolicy", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *v = s_need(tm_aws_xml_child(res, "Policy"), "DefaultVersionId", "GetPolicy", errmsg, errmsg_len);
    if (!v)
        rc = TM_ERR_PARSE;
    else if (!(*version_id = strdup(v)))
        rc = TM_ERR_NOMEM;
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_get_policy_version(cJSON **document, const char *body, size_t len, char *errmsg,
                                         size_t errmsg_len) {
    *document = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "GetPolicyVersion", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *holder = cJSON_CreateObject();
    if (!holder)
        rc = TM_ERR_NOMEM;
    else
        rc = s_add_document(holder, "d", tm_aws_xml_child(res, "PolicyVersion"), "Document", "GetPolicyVersion", errmsg,
                            errmsg_len);
    if (!rc)
        *document = cJSON_DetachItemFromObjectCaseSensitive(holder, "d");
    cJSON_Delete(holder);
    tm_aws_xml_free(doc);
    return rc;
}

/* ---- writing resources ---- */

static cJSON *s_dup(const cJSON *v) {
    return cJSON_Duplicate(v, true);
}

/* The document of a managed policy: from d, else unknown (a GetPolicy that failed left its marker in d;
 * a policy never asked for is unknown with the listing's error or, failing that, a recorded gap). */
static cJSON *s_managed_document(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d, const char *arn,
                                 const struct tm_snapshot_error *gaad_error) {
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(d->policies, arn);
    if (doc)
        return s_dup(doc);
    if (gaad_error)
        return tm_aws_unknown_value(gaad_error);
    struct tm_snapshot_error gap = {
        "iam", "GetPolicyVersion", "global", arn, "NotRead", "the default version of this managed policy was not read",
        1};
    if (tm_snapshot_add_error(sink->snap, &gap))
        return NULL;
    return tm_aws_unknown_value(&gap);
}

/* Appends the entries of one principal's (or group's) own policies to identity. */
static int s_identity_entries(cJSON *identity, const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d,
                              const cJSON *principal, const char *group, const struct tm_snapshot_error *gaad_error) {
    const cJSON *inl = cJSON_GetObjectItemCaseSensitive(principal, "inline");
    for (const cJSON *p = inl ? inl->child : NULL; p; p = p->next) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(identity, e) ||
            !cJSON_AddStringToObject(e, "kind", group ? "group-inline" : "inline") ||
            !cJSON_AddStringToObject(e, "name", tm_json_str(p, "name", "")) ||
            (group && !cJSON_AddStringToObject(e, "group", group)) ||
            !cJSON_AddItemToObject(e, "document", s_dup(cJSON_GetObjectItemCaseSensitive(p, "document"))))
            return TM_ERR_NOMEM;
    }
    const cJSON *man = cJSON_GetObjectItemCaseSensitive(principal, "managed");
    for (const cJSON *p = man ? man->child : NULL; p; p = p->next) {
        const char *arn = tm_json_str(p, "arn", "");
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(identity, e) ||
            !cJSON_AddStringToObject(e, "kind", group ? "group-managed" : "managed") ||
            !cJSON_AddStringToObject(e, "name", tm_json_str(p, "name", "")) ||
            !cJSON_AddStringToObject(e, "arn", arn) || (group && !cJSON_AddStringToObject(e, "group", group)) ||
            !cJSON_AddItemToObject(e, "document", s_managed_document(sink, d, arn, gaad_error)))
            return TM_ERR_NOMEM;
    }
    return TM_OK;
}

static int s_set_boundary(cJSON *res, const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d,
                          const cJSON *principal, const struct tm_snapshot_error *gaad_error) {
    const char *arn = tm_json_str(principal, "boundary", NULL);
    int rc = tm_snapshot_set_attr(res, "permissions_boundary_arn", tm_aws_json_string_or_null(arn));
    if (!rc)
        rc = tm_snapshot_set_policy(res, "boundary",
                                    arn ? s_managed_document(sink, d, arn, gaad_error) : cJSON_CreateNull());
    return rc;
}

static int s_emit_user(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d, const cJSON *u,
                       const struct tm_snapshot_error *gaad_error) {
    cJSON *res = NULL;
    int rc = tm_snapshot_resource(sink->snap, tm_json_str(u, "arn", ""), "aws:iam:user", sink->account, "global",
                                  tm_json_str(u, "name", NULL), &res);
    if (rc)
        return rc;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(u, "groups");
    if ((rc = tm_snapshot_set_attr(res, "user_id", s_dup(cJSON_GetObjectItemCaseSensitive(u, "user_id")))) ||
        (rc = tm_snapshot_set_attr(res, "path", s_dup(cJSON_GetObjectItemCaseSensitive(u, "path")))) ||
        (rc = tm_snapshot_set_attr(res, "groups", s_dup(groups))) || (rc = s_set_boundary(res, sink, d, u, gaad_error)))
        return rc;
    cJSON *identity = cJSON_CreateArray();
    if (!identity)
        return TM_ERR_NOMEM;
    rc = s_identity_entries(identity, sink, d, u, NULL, gaad_error);
    bool missing_group = false;
    for (const cJSON *g = groups ? groups->child : NULL; g && !rc; g = g->next) {
        const cJSON *grp = cJSON_GetObjectItemCaseSensitive(d->groups, g->valuestring);
        if (!grp) {
            missing_group = true;
            continue;
        }
        rc = s_identity_entries(identity, sink, d, grp, g->valuestring, gaad_error);
        if (!rc)
            rc = tm_snapshot_add_link(res, "member-of", tm_json_str(grp, "arn", ""));
    }
    if (rc) {
        cJSON_Delete(identity);
        return rc;
    }
    /* A group on a page that never arrived: the user's effective policies are not all known. */
    if (missing_group && gaad_error) {
        cJSON_Delete(identity);
        return tm_snapshot_set_unknown(res, "policies", "identity", gaad_error);
    }
    return tm_snapshot_set_policy(res, "identity", identity);
}

static int s_emit_group(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d, const cJSON *g,
                        const struct tm_snapshot_error *gaad_error) {
    cJSON *res = NULL;
    int rc = tm_snapshot_resource(sink->snap, tm_json_str(g, "arn", ""), "aws:iam:group", sink->account, "global",
                                  tm_json_str(g, "name", NULL), &res);
    if (rc)
        return rc;
    if ((rc = tm_snapshot_set_attr(res, "group_id", s_dup(cJSON_GetObjectItemCaseSensitive(g, "group_id")))) ||
        (rc = tm_snapshot_set_attr(res, "path", s_dup(cJSON_GetObjectItemCaseSensitive(g, "path")))))
        return rc;
    cJSON *identity = cJSON_CreateArray();
    if (!identity)
        return TM_ERR_NOMEM;
    rc = s_identity_entries(identity, sink, d, g, NULL, gaad_error);
    if (rc) {
        cJSON_Delete(identity);
        return rc;
    }
    return tm_snapshot_set_policy(res, "identity", identity);
}

static int s_emit_role(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d, const cJSON *r,
                       const struct tm_snapshot_error *gaad_error, const struct tm_snapshot_error *roles_error) {
    cJSON *res = NULL;
    const char *arn = tm_json_str(r, "arn", "");
    int rc = tm_snapshot_resource(sink->snap, arn, "aws:iam:role", sink->account, "global",
                                  tm_json_str(r, "name", NULL), &res);
    if (rc)
        return rc;
    const char *path = tm_json_str(r, "path", "");
    if ((rc = tm_snapshot_set_attr(res, "role_id", s_dup(cJSON_GetObjectItemCaseSensitive(r, "role_id")))) ||
        (rc = tm_snapshot_set_attr(res, "path", s_dup(cJSON_GetObjectItemCaseSensitive(r, "path")))) ||
        (rc = tm_snapshot_set_attr(res, "last_used", s_dup(cJSON_GetObjectItemCaseSensitive(r, "last_used")))) ||
        (rc = tm_snapshot_set_attr(res, "instance_profiles",
                                   s_dup(cJSON_GetObjectItemCaseSensitive(r, "instance_profiles")))) ||
        (rc = tm_snapshot_set_attr(res, "service_linked",
                                   cJSON_CreateBool(tm_str_starts_with(path, "/aws-service-role/")))) ||
        (rc = s_set_boundary(res, sink, d, r, gaad_error)) ||
        (rc = tm_snapshot_set_policy(res, "trust", s_dup(cJSON_GetObjectItemCaseSensitive(r, "trust")))))
        return rc;
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(d->max_session, arn);
    if (roles_error && !secs)
        rc = tm_snapshot_set_unknown(res, "attrs", "max_session_duration", roles_error);
    else
        rc = tm_snapshot_set_attr(res, "max_session_duration", secs ? s_dup(secs) : cJSON_CreateNull());
    if (rc)
        return rc;
    cJSON *identity = cJSON_CreateArray();
    if (!identity)
        return TM_ERR_NOMEM;
    rc = s_identity_entries(identity, sink, d, r, NULL, gaad_error);
    if (rc) {
        cJSON_Delete(identity);
        return rc;
    }
    return tm_snapshot_set_policy(res, "identity", identity);
}

static int s_emit_profile(const struct tm_aws_sink *sink, const cJSON *ip) {
    cJSON *res = NULL;
    int rc = tm_snapshot_resource(sink->snap, tm_json_str(ip, "arn", ""), "aws:iam:instance-profile", sink->account,
                                  "global", tm_json_str(ip, "name", NULL), &res);
    if (rc)
        return rc;
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(ip, "roles");
    if ((rc = tm_snapshot_set_attr(res, "roles", s_dup(roles))))
        return rc;
    for (const cJSON *r = roles ? roles->child : NULL; r && !rc; r = r->next)
        rc = tm_snapshot_add_link(res, "has-identity", r->valuestring);
    return rc;
}

int tm__aws_iam_emit(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d,
                     const struct tm_snapshot_error *gaad_error, const struct tm_snapshot_error *roles_error) {
    int rc = TM_OK;
    for (const cJSON *u = d->users->child; u && !rc; u = u->next)
        rc = s_emit_user(sink, d, u, gaad_error);
    for (const cJSON *g = d->groups->child; g && !rc; g = g->next)
        rc = s_emit_group(sink, d, g, gaad_error);
    for (const cJSON *r = d->roles->child; r && !rc; r = r->next)
        rc = s_emit_role(sink, d, r, gaad_error, roles_error);
    for (const cJSON *ip = d->profiles->child; ip && !rc; ip = ip->next)
        rc = s_emit_profile(sink, ip);
    return rc;
}

/* ---- access keys, alias, identity providers ---- */

int tm__aws_iam_parse_access_keys(cJSON *keys, const char *body, size_t len, char **marker, char *errmsg,
                                  size_t errmsg_len) {
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListAccessKeys", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "AccessKeyMetadata"), "member"); m && !rc;
         m = tm_aws_xml_next(m)) {
        const char *id = s_need(m, "AccessKeyId", "ListAccessKeys: key", errmsg, errmsg_len);
        if (!id) {
            rc = TM_ERR_PARSE;
            break;
        }
        cJSON *k = cJSON_CreateObject();
        if (!k || !cJSON_AddItemToArray(keys, k) || s_add_str(k, "access_key_id", id) ||
            s_add_str(k, "status", tm_aws_xml_child_text(m, "Status")) ||
            s_add_str(k, "create_date", tm_aws_xml_child_text(m, "CreateDate")))
            rc = TM_ERR_NOMEM;
    }
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", "IsTruncated")))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "ListAccessKeys: IsTruncated without a Marker");
    tm_aws_xml_free(doc);
    return rc;
}

static int s_replace(cJSON *obj, const char *key, cJSON *v) {
    if (!v)
        return TM_ERR_NOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    if (!cJSON_AddItemToObject(obj, key, v)) {
        cJSON_Delete(v);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm__aws_iam_parse_key_last_used(cJSON *key, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "GetAccessKeyLastUsed", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *lu = tm_aws_xml_child(res, "AccessKeyLastUsed");
    if (!lu) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "GetAccessKeyLastUsed: AccessKeyLastUsed missing");
    } else {
        /* A key never used has no LastUsedDate and "N/A" for service and region, kept as AWS spells it. */
        const char *date = tm_aws_xml_child_text(lu, "LastUsedDate");
        if ((rc = s_replace(key, "last_used_date", tm_aws_json_string_or_null(date && *date ? date : NULL))) ||
            (rc = s_replace(key, "last_used_service",
                            tm_aws_json_string_or_null(tm_aws_xml_child_text(lu, "ServiceName")))) ||
            (rc = s_replace(key, "last_used_region", tm_aws_json_string_or_null(tm_aws_xml_child_text(lu, "Region")))))
            rc = TM_ERR_NOMEM;
    }
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_aliases(char **alias, const char *body, size_t len, char **marker, char *errmsg,
                              size_t errmsg_len) {
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListAccountAliases", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *list = tm_aws_xml_child(res, "AccountAliases");
    if (!list) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListAccountAliases: AccountAliases missing");
    } else {
        const char *first = tm_aws_xml_child_text(list, "member");
        if (tm_aws_xml_child(list, "member") && (!first || !*first))
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListAccountAliases: empty alias");
        else if (first && !*alias && !(*alias = strdup(first)))
            rc = TM_ERR_NOMEM;
    }
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", "IsTruncated")))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "ListAccountAliases: IsTruncated without a Marker");
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_oidc_list(cJSON *arns, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListOpenIDConnectProviders", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "OpenIDConnectProviderList"), "member"); m && !rc;
         m = tm_aws_xml_next(m)) {
        const char *arn = tm_aws_xml_child_text(m, "Arn");
        if (!arn || !strstr(arn, ":oidc-provider/")) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                    "ListOpenIDConnectProviders: Arn missing or malformed");
            break;
        }
        cJSON *s = cJSON_CreateString(arn);
        if (!s || !cJSON_AddItemToArray(arns, s)) {
            cJSON_Delete(s);
            rc = TM_ERR_NOMEM;
        }
    }
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_oidc(cJSON *resource, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "GetOpenIDConnectProvider", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *clients = NULL, *thumbs = NULL;
    const char *url = s_need(res, "Url", "GetOpenIDConnectProvider", errmsg, errmsg_len);
    if (!url) {
        rc = TM_ERR_PARSE;
    } else if ((rc = tm_aws_xml_json_list(&clients, res, "ClientIDList", "member", NULL)) ||
               (rc = tm_aws_xml_json_list(&thumbs, res, "ThumbprintList", "member", NULL))) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc,
                                "GetOpenIDConnectProvider: ClientIDList or ThumbprintList malformed");
    } else {
        /* The setters own the value even when they fail. */
        rc = tm_snapshot_set_attr(resource, "url", cJSON_CreateString(url));
        if (!rc) {
            rc = tm_snapshot_set_attr(resource, "client_ids", clients);
            clients = NULL;
        }
        if (!rc) {
            rc = tm_snapshot_set_attr(resource, "thumbprints", thumbs);
            thumbs = NULL;
        }
    }
    cJSON_Delete(clients);
    cJSON_Delete(thumbs);
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_iam_parse_saml(const struct tm_aws_sink *sink, const char *body, size_t len, char *errmsg,
                           size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "ListSAMLProviders", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "SAMLProviderList"), "member"); m && !rc;
         m = tm_aws_xml_next(m)) {
        const char *arn = tm_aws_xml_child_text(m, "Arn");
        const char *name = arn ? strstr(arn, ":saml-provider/") : NULL;
        if (!name || !name[15]) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListSAMLProviders: Arn missing or malformed");
            break;
        }
        cJSON *r = NULL;
        rc = tm_snapshot_resource(sink->snap, arn, "aws:iam:saml-provider", sink->account, "global", name + 15, &r);
        if (!rc)
            rc = tm_snapshot_set_attr(r, "valid_until",
                                      tm_aws_json_string_or_null(tm_aws_xml_child_text(m, "ValidUntil")));
    }
    tm_aws_xml_free(doc);
    return rc;
}

/* ---- coordination ---- */

struct s_iam {
    struct tm_aws_sink sink;
    struct tm__aws_iam_details d;
    const struct tm_snapshot_error *gaad_error;
    const struct tm_snapshot_error *roles_error;
    int pending;  /* GetAccountAuthorizationDetails, ListRoles and ListInstanceProfiles, then the missing policies */
    bool fetched; /* the missing managed policies were asked for */
};

struct s_policy_ctx {
    struct s_iam *st;
    const char *arn;
};

struct s_keys_ctx {
    struct s_iam *st;
    const char *user_arn;
    cJSON *keys; /* owned until handed to the user resource */
};

struct s_key_ctx {
    const char *user_arn;
    const char *key_id;
};

struct s_alias_ctx {
    char *alias;
};

static void s_free_iam(void *p) {
    tm__aws_iam_details_clean_up(&((struct s_iam *)p)->d);
}

static void s_free_keys(void *p) {
    struct s_keys_ctx *k = p;
    cJSON_Delete(k->keys);
    k->keys = NULL;
}

static void s_free_alias(void *p) {
    struct s_alias_ctx *a = p;
    free(a->alias);
    a->alias = NULL;
}

static void s_step(struct tm_aws_scan *scan, struct s_iam *st);

/* Parses a query answer with fn; a malformed one is recorded and returned as the error to mark facts
 * with. Returns false when the scan failed. */
static bool s_parsed(struct tm_aws_scan *scan, const struct tm_aws_result *res, int rc, const char *why,
                     const struct tm_snapshot_error **err) {
    if (rc == TM_ERR_NOMEM) {
        tm_aws_scan_check(scan, rc, res->call->operation);
        return false;
    }
    if (rc)
        *err = tm_aws_fail(scan, res, "MalformedResponse", why);
    return rc == TM_OK || *err != NULL;
}

static void s_on_gaad(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_iam *st = user_data;
    char *marker = NULL;
    if (res->error) {
        st->gaad_error = res->error;
    } else {
        char why[512];
        int rc = tm__aws_iam_parse_gaad(&st->d, res->body, res->body_len, &marker, why, sizeof(why));
        const struct tm_snapshot_error *err = NULL;
        if (!s_parsed(scan, res, rc, why, &err))
            return;
        if (err)
            st->gaad_error = err;
    }
    if (marker && !st->gaad_error) {
        int rc = tm_aws_call_next(scan, res, "Marker", marker, s_on_gaad, st);
        free(marker);
        if (!rc)
            return;
        return; /* the scan has failed */
    }
    free(marker);
    s_step(scan, st);
}

static void s_on_roles(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_iam *st = user_data;
    char *marker = NULL;
    if (res->error) {
        st->roles_error = res->error;
    } else {
        char why[512];
        int rc = tm__aws_iam_parse_list_roles(&st->d, res->body, res->body_len, &marker, why, sizeof(why));
        const struct tm_snapshot_error *err = NULL;
        if (!s_parsed(scan, res, rc, why, &err))
            return;
        if (err)
            st->roles_error = err;
    }
    if (marker && !st->roles_error) {
        int rc = tm_aws_call_next(scan, res, "Marker", marker, s_on_roles, st);
        free(marker);
        (void)rc;
        return;
    }
    free(marker);
    s_step(scan, st);
}

/* Instance profiles whose role is gone (or that never had one) appear only here: the authorization
 * details name a profile only under its role. When the listing fails, the profiles of the roles are
 * still recorded; the failure is in the snapshot's errors. */
static void s_on_profiles(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_iam *st = user_data;
    char *marker = NULL;
    const struct tm_snapshot_error *err = res->error;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_instance_profiles(&st->d, res->body, res->body_len, &marker, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err)) {
            free(marker);
            return;
        }
    }
    if (marker && !err) {
        int rc = tm_aws_call_next(scan, res, "Marker", marker, s_on_profiles, st);
        free(marker);
        (void)rc; /* on failure the scan has stopped */
        return;
    }
    free(marker);
    s_step(scan, st);
}

static void s_policy_done(struct tm_aws_scan *scan, struct s_policy_ctx *ctx, cJSON *doc) {
    if (!doc || !cJSON_AddItemToObject(ctx->st->d.policies, ctx->arn, doc)) {
        cJSON_Delete(doc);
        tm_aws_scan_check(scan, TM_ERR_NOMEM, "GetPolicyVersion");
        return;
    }
    s_step(scan, ctx->st);
}

static void s_on_policy_version(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_policy_ctx *ctx = user_data;
    const struct tm_snapshot_error *err = res->error;
    cJSON *doc = NULL;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_get_policy_version(&doc, res->body, res->body_len, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err))
            return;
    }
    s_policy_done(scan, ctx, err ? tm_aws_unknown_value(err) : doc);
}

static void s_on_policy(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_policy_ctx *ctx = user_data;
    const struct tm_snapshot_error *err = res->error;
    char *version = NULL;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_get_policy(&version, res->body, res->body_len, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err))
            return;
    }
    if (err) {
        s_policy_done(scan, ctx, tm_aws_unknown_value(err));
        return;
    }
    struct tm_aws_param params[] = {{"PolicyArn", ctx->arn, false}, {"VersionId", version, false}};
    struct tm_aws_call call = {
        .api = S_API, .operation = "GetPolicyVersion", .resource = ctx->arn, .params = params, .param_count = 2};
    int rc = tm_aws_call(scan, &call, s_on_policy_version, ctx);
    free(version);
    (void)rc; /* on failure the scan has stopped */
}

static void s_on_last_used(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_key_ctx *ctx = user_data;
    cJSON *user = tm_snapshot_find(tm_aws_scan_snapshot(scan), ctx->user_arn);
    cJSON *keys = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(user, "attrs"), "access_keys");
    cJSON *key = NULL;
    for (cJSON *k = cJSON_IsArray(keys) ? keys->child : NULL; k && !key; k = k->next)
        if (strcmp(tm_json_str(k, "access_key_id", ""), ctx->key_id) == 0)
            key = k;
    if (!key)
        return;
    const struct tm_snapshot_error *err = res->error;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_key_last_used(key, res->body, res->body_len, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err))
            return;
        if (!err)
            return;
    }
    static const char *const fields[] = {"last_used_date", "last_used_service", "last_used_region"};
    for (size_t i = 0; i < 3; i++)
        if (tm_aws_scan_check(scan, s_replace(key, fields[i], tm_aws_unknown_value(err)), "access key") < 0)
            return;
}

static int s_sort_keys_by_id(cJSON *keys) {
    int n = cJSON_GetArraySize(keys);
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0; j--) {
            cJSON *a = cJSON_GetArrayItem(keys, j - 1), *b = cJSON_GetArrayItem(keys, j);
            if (strcmp(tm_json_str(a, "access_key_id", ""), tm_json_str(b, "access_key_id", "")) <= 0)
                break;
            cJSON_DetachItemViaPointer(keys, b);
            if (!cJSON_InsertItemInArray(keys, j - 1, b)) {
                cJSON_Delete(b);
                return TM_ERR_NOMEM;
            }
        }
    }
    return TM_OK;
}

static void s_on_keys(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_keys_ctx *ctx = user_data;
    cJSON *user = tm_snapshot_find(tm_aws_scan_snapshot(scan), ctx->user_arn);
    const struct tm_snapshot_error *err = res->error;
    char *marker = NULL;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_access_keys(ctx->keys, res->body, res->body_len, &marker, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err))
            return;
    }
    if (err) {
        free(marker);
        cJSON_Delete(ctx->keys);
        ctx->keys = NULL;
        if (user)
            tm_aws_scan_check(scan, tm_snapshot_set_unknown(user, "attrs", "access_keys", err), ctx->user_arn);
        return;
    }
    if (marker) {
        if (tm_aws_call_next(scan, res, "Marker", marker, s_on_keys, ctx)) {
            /* the scan has stopped */
        }
        free(marker);
        return;
    }
    cJSON *keys = ctx->keys;
    ctx->keys = NULL;
    if (!user) {
        cJSON_Delete(keys);
        return;
    }
    if (tm_aws_scan_check(scan, s_sort_keys_by_id(keys), "access keys") < 0 ||
        tm_aws_scan_check(scan, tm_snapshot_set_attr(user, "access_keys", keys), ctx->user_arn) < 0)
        return;
    for (const cJSON *k = keys->child; k; k = k->next) {
        struct s_key_ctx *kc = tm_aws_scan_alloc(scan, sizeof(*kc));
        if (!kc || !(kc->key_id = tm_aws_scan_strdup(scan, tm_json_str(k, "access_key_id", ""))))
            return;
        kc->user_arn = ctx->user_arn;
        struct tm_aws_param params[] = {{"AccessKeyId", kc->key_id, false}};
        struct tm_aws_call call = {.api = S_API,
                                   .operation = "GetAccessKeyLastUsed",
                                   .resource = ctx->user_arn,
                                   .params = params,
                                   .param_count = 1};
        if (tm_aws_call(scan, &call, s_on_last_used, kc))
            return;
    }
}

static void s_ask_keys(struct tm_aws_scan *scan, struct s_iam *st) {
    for (const cJSON *u = st->d.users->child; u; u = u->next) {
        struct s_keys_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
        if (!ctx || !(ctx->user_arn = tm_aws_scan_strdup(scan, tm_json_str(u, "arn", ""))))
            return;
        ctx->st = st;
        ctx->keys = cJSON_CreateArray();
        if (tm_aws_scan_on_destroy(scan, s_free_keys, ctx))
            return;
        if (!ctx->keys) {
            tm_aws_scan_check(scan, TM_ERR_NOMEM, "ListAccessKeys");
            return;
        }
        struct tm_aws_param params[] = {{"UserName", tm_json_str(u, "name", ""), false},
                                        {"MaxItems", S_MAX_ITEMS, false}};
        struct tm_aws_call call = {
            .api = S_API, .operation = "ListAccessKeys", .resource = ctx->user_arn, .params = params, .param_count = 2};
        if (tm_aws_call(scan, &call, s_on_keys, ctx))
            return;
    }
}

/* Called when a listing or a policy fetch ends: once all are in, asks for missing policies, then
 * writes the principals and asks for their access keys. */
static void s_step(struct tm_aws_scan *scan, struct s_iam *st) {
    if (--st->pending > 0)
        return;
    if (!st->fetched) {
        st->fetched = true;
        cJSON *missing = NULL;
        if (tm_aws_scan_check(scan, tm__aws_iam_missing_policies(&missing, &st->d), "IAM policies") < 0)
            return;
        for (const cJSON *a = missing->child; a; a = a->next) {
            struct s_policy_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
            if (!ctx || !(ctx->arn = tm_aws_scan_strdup(scan, a->valuestring)))
                break;
            ctx->st = st;
            struct tm_aws_param params[] = {{"PolicyArn", ctx->arn, false}};
            struct tm_aws_call call = {
                .api = S_API, .operation = "GetPolicy", .resource = ctx->arn, .params = params, .param_count = 1};
            if (tm_aws_call(scan, &call, s_on_policy, ctx))
                break;
            st->pending++;
        }
        cJSON_Delete(missing);
        if (st->pending > 0)
            return;
    }
    if (tm_aws_scan_check(scan, tm__aws_iam_emit(&st->sink, &st->d, st->gaad_error, st->roles_error),
                          "IAM principals") < 0)
        return;
    s_ask_keys(scan, st);
}

static void s_on_aliases(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_alias_ctx *ctx = user_data;
    cJSON *acct = tm_aws_scan_account_resource(scan);
    const struct tm_snapshot_error *err = res->error;
    char *marker = NULL;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_aliases(&ctx->alias, res->body, res->body_len, &marker, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err))
            return;
    }
    if (!err && marker) {
        if (tm_aws_call_next(scan, res, "Marker", marker, s_on_aliases, ctx)) {
            /* the scan has stopped */
        }
        free(marker);
        return;
    }
    free(marker);
    int rc = err ? tm_snapshot_set_unknown(acct, "attrs", "alias", err)
                 : tm_snapshot_set_attr(acct, "alias", tm_aws_json_string_or_null(ctx->alias));
    tm_aws_scan_check(scan, rc, "alias");
}

static void s_on_oidc(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    const char *arn = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), arn);
    if (!r)
        return;
    const struct tm_snapshot_error *err = res->error;
    if (!err) {
        char why[512];
        int rc = tm__aws_iam_parse_oidc(r, res->body, res->body_len, why, sizeof(why));
        if (!s_parsed(scan, res, rc, why, &err) || !err)
            return;
    }
    static const char *const keys[] = {"url", "client_ids", "thumbprints"};
    for (size_t i = 0; i < 3; i++)
        if (tm_aws_scan_check(scan, tm_snapshot_set_unknown(r, "attrs", keys[i], err), arn) < 0)
            return;
}

static void s_on_oidc_list(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_iam *st = user_data;
    if (res->error)
        return;
    cJSON *arns = cJSON_CreateArray();
    char why[512];
    int rc = arns ? tm__aws_iam_parse_oidc_list(arns, res->body, res->body_len, why, sizeof(why)) : TM_ERR_NOMEM;
    const struct tm_snapshot_error *err = NULL;
    if (!s_parsed(scan, res, rc, why, &err) || err) {
        cJSON_Delete(arns);
        return;
    }
    for (const cJSON *a = arns->child; a; a = a->next) {
        const char *name = strstr(a->valuestring, ":oidc-provider/") + 15;
        cJSON *r = NULL;
        char *arn = tm_aws_scan_strdup(scan, a->valuestring);
        if (!arn || tm_aws_scan_check(scan,
                                      tm_snapshot_resource(st->sink.snap, arn, "aws:iam:oidc-provider",
                                                           st->sink.account, "global", name, &r),
                                      arn) < 0)
            break;
        struct tm_aws_param params[] = {{"OpenIDConnectProviderArn", arn, false}};
        struct tm_aws_call call = {
            .api = S_API, .operation = "GetOpenIDConnectProvider", .resource = arn, .params = params, .param_count = 1};
        if (tm_aws_call(scan, &call, s_on_oidc, arn))
            break;
    }
    cJSON_Delete(arns);
}

static void s_on_saml(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_iam *st = user_data;
    if (res->error)
        return;
    char why[512];
    int rc = tm__aws_iam_parse_saml(&st->sink, res->body, res->body_len, why, sizeof(why));
    const struct tm_snapshot_error *err = NULL;
    (void)s_parsed(scan, res, rc, why, &err);
}

/* A call without parameters; a paged listing asks for its largest page. */
static int s_call(struct tm_aws_scan *scan, const char *operation, bool paged, tm_aws_done_fn done, void *user_data) {
    static const struct tm_aws_param max_items = {"MaxItems", S_MAX_ITEMS, false};
    struct tm_aws_call call = {
        .api = S_API, .operation = operation, .params = paged ? &max_items : NULL, .param_count = paged ? 1 : 0};
    return tm_aws_call(scan, &call, done, user_data);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    struct s_iam *st = tm_aws_scan_alloc(scan, sizeof(*st));
    struct s_alias_ctx *alias = tm_aws_scan_alloc(scan, sizeof(*alias));
    if (!st || !alias)
        return TM_ERR_NOMEM;
    tm_aws_scan_sink(scan, region, &st->sink);
    int rc = tm__aws_iam_details_init(&st->d);
    if (rc)
        return rc;
    if ((rc = tm_aws_scan_on_destroy(scan, s_free_iam, st)) || (rc = tm_aws_scan_on_destroy(scan, s_free_alias, alias)))
        return rc;
    st->pending = 3;
    if ((rc = s_call(scan, "GetAccountAuthorizationDetails", true, s_on_gaad, st)) ||
        (rc = s_call(scan, "ListRoles", true, s_on_roles, st)) ||
        (rc = s_call(scan, "ListInstanceProfiles", true, s_on_profiles, st)) ||
        (rc = s_call(scan, "ListAccountAliases", true, s_on_aliases, alias)) ||
        (rc = s_call(scan, "ListOpenIDConnectProviders", false, s_on_oidc_list, st)) ||
        (rc = s_call(scan, "ListSAMLProviders", false, s_on_saml, st)))
        return rc;
    return TM_OK;
}

const struct tm_aws_service tm__aws_service_iam = {
    .name = "iam",
    .global = true,
    .operations = s_operations,
    .start = s_start,
};
