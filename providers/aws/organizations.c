/* Organizations (global): DescribeOrganization, then the chain of parents from the account up to the
 * root (ListParents), the SCPs and RCPs attached to each link of that chain (ListPoliciesForTarget) and
 * their documents (DescribePolicy).
 *
 * An account outside any organization answers AWSOrganizationsNotInUseException: then no SCP or RCP
 * applies (organization null, scps and rcps empty). A member account usually may not list parents or
 * policies (AccessDeniedException): that is recorded and the policies are unknown, never "none". */
#include "providers/aws/organizations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "providers/aws/facts.h"

const struct tm_aws_api tm__aws_api_organizations = {
    .name = "organizations",
    .service_id = "Organizations",
    .endpoint_prefix = "organizations",
    .signing_name = "organizations",
    .protocol = TM_AWS_PROTO_JSON,
    .api_version = "2016-11-28",
    .target_prefix = "AWSOrganizationsV20161128",
    .json_version = "1.1",
    .global = true,
};

#define S_API (&tm__aws_api_organizations)

static const struct tm_aws_operation s_operations[] = {
    {S_API, "DescribeOrganization", "organizations:DescribeOrganization"},
    {S_API, "ListAccounts", "organizations:ListAccounts"},
    {S_API, "ListParents", "organizations:ListParents"},
    {S_API, "ListPoliciesForTarget", "organizations:ListPoliciesForTarget"},
    {S_API, "DescribePolicy", "organizations:DescribePolicy"},
    {NULL, NULL, NULL},
};

/* OUs nest at most five deep under the root; a longer chain is a broken answer, not an organization. */
#define S_MAX_CHAIN 8

/* ---- parsing ---- */

static int s_parse(cJSON **root, const char *op, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    int rc = tm_json_parse(root, body, len, op, errmsg, errmsg_len);
    if (rc)
        return rc;
    if (!cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: the answer is not a JSON object", op);
    }
    return TM_OK;
}

static const char *s_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tm__aws_org_parse_organization(struct tm__aws_org *out, const char *body, size_t len, char *errmsg,
                                   size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    cJSON *root = NULL;
    int rc = s_parse(&root, "DescribeOrganization", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *org = cJSON_GetObjectItemCaseSensitive(root, "Organization");
    const char *id = s_str(org, "Id");
    if (!cJSON_IsObject(org) || !id || !*id) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "DescribeOrganization: Organization.Id missing");
        goto out;
    }
    out->organization = cJSON_CreateObject();
    if (!out->organization || !cJSON_AddStringToObject(out->organization, "id", id) ||
        !cJSON_AddItemToObject(out->organization, "arn", tm_aws_json_string_or_null(s_str(org, "Arn"))) ||
        !cJSON_AddItemToObject(out->organization, "master_account_id",
                               tm_aws_json_string_or_null(s_str(org, "MasterAccountId")))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    const char *fs = s_str(org, "FeatureSet");
    /* Without FeatureSet (never seen) assume all features: policies may apply. */
    out->all_features = !fs || strcmp(fs, "ALL") == 0;
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(org, "AvailablePolicyTypes");
    if (types && !cJSON_IsArray(types)) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                "DescribeOrganization: AvailablePolicyTypes is not a list");
        goto out;
    }
    out->types_listed = cJSON_GetArraySize(types) > 0;
    for (const cJSON *t = types ? types->child : NULL; t; t = t->next) {
        const char *type = s_str(t, "Type"), *status = s_str(t, "Status");
        bool enabled = status && strcmp(status, "ENABLED") == 0;
        if (type && strcmp(type, "SERVICE_CONTROL_POLICY") == 0)
            out->scp_enabled = enabled;
        else if (type && strcmp(type, "RESOURCE_CONTROL_POLICY") == 0)
            out->rcp_enabled = enabled;
    }
out:
    if (rc) {
        cJSON_Delete(out->organization);
        out->organization = NULL;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_org_parse_accounts(cJSON *out, char **next_token, const char *body, size_t len, char *errmsg,
                               size_t errmsg_len) {
    *next_token = NULL;
    cJSON *root = NULL;
    int rc = s_parse(&root, "ListAccounts", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "Accounts");
    if (!cJSON_IsArray(list)) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListAccounts: Accounts missing");
        goto out;
    }
    for (const cJSON *a = list->child; a; a = a->next) {
        const char *id = s_str(a, "Id");
        if (!id || strlen(id) != 12 || strspn(id, "0123456789") != 12) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListAccounts: an account without a 12-digit Id");
            goto out;
        }
        cJSON *s = cJSON_CreateString(id);
        if (!s || !cJSON_AddItemToArray(out, s)) {
            cJSON_Delete(s);
            rc = TM_ERR_NOMEM;
            goto out;
        }
    }
    const char *next = s_str(root, "NextToken");
    if (next && *next && !(*next_token = strdup(next)))
        rc = TM_ERR_NOMEM;
out:
    cJSON_Delete(root);
    return rc;
}

int tm__aws_org_parse_parents(char **id, char **type, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *id = *type = NULL;
    cJSON *root = NULL;
    int rc = s_parse(&root, "ListParents", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *parents = cJSON_GetObjectItemCaseSensitive(root, "Parents");
    const cJSON *first = cJSON_IsArray(parents) ? parents->child : NULL;
    const char *pid = s_str(first, "Id"), *ptype = s_str(first, "Type");
    if (!pid || !*pid || !ptype || (strcmp(ptype, "ROOT") != 0 && strcmp(ptype, "ORGANIZATIONAL_UNIT") != 0)) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListParents: no parent with an Id and a known Type");
    } else if (!(*id = strdup(pid)) || !(*type = strdup(ptype))) {
        free(*id);
        *id = NULL;
        rc = TM_ERR_NOMEM;
    }
    cJSON_Delete(root);
    return rc;
}

int tm__aws_org_parse_policies(cJSON *out, char **next_token, const char *body, size_t len, char *errmsg,
                               size_t errmsg_len) {
    *next_token = NULL;
    cJSON *root = NULL;
    int rc = s_parse(&root, "ListPoliciesForTarget", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "Policies");
    if (!cJSON_IsArray(list)) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListPoliciesForTarget: Policies missing");
        goto out;
    }
    for (const cJSON *p = list->child; p; p = p->next) {
        const char *pid = s_str(p, "Id");
        if (!pid || !*pid) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "ListPoliciesForTarget: a policy without Id");
            goto out;
        }
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(out, e) || !cJSON_AddStringToObject(e, "id", pid) ||
            !cJSON_AddItemToObject(e, "name", tm_aws_json_string_or_null(s_str(p, "Name"))) ||
            !cJSON_AddItemToObject(e, "arn", tm_aws_json_string_or_null(s_str(p, "Arn")))) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
    }
    const char *next = s_str(root, "NextToken");
    if (next && *next && !(*next_token = strdup(next)))
        rc = TM_ERR_NOMEM;
out:
    cJSON_Delete(root);
    return rc;
}

int tm__aws_org_parse_policy(cJSON **document, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *document = NULL;
    cJSON *root = NULL;
    int rc = s_parse(&root, "DescribePolicy", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *content = s_str(cJSON_GetObjectItemCaseSensitive(root, "Policy"), "Content");
    if (!content)
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "DescribePolicy: Policy.Content missing");
    else if ((rc = tm_aws_policy_document(document, content, strlen(content), false)))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "DescribePolicy: Content is not a JSON policy");
    cJSON_Delete(root);
    return rc;
}

/* ---- coordination ---- */

struct s_kind {
    const char *filter; /* "SERVICE_CONTROL_POLICY" */
    const char *key;    /* "scps" */
    bool ask;
    bool maybe_unsupported; /* InvalidInputException means: not available here */
    cJSON *entries;         /* {id, name, arn, target, order} */
    const struct tm_snapshot_error *error;
};

struct s_org {
    struct tm_aws_sink sink;
    cJSON *accounts;                /* ListAccounts so far */
    const char *chain[S_MAX_CHAIN]; /* the account, then its parents up to the root */
    size_t chain_len;
    struct s_kind kinds[2];
    cJSON *docs; /* policy id -> document or unknown marker */
    int pending;
};

struct s_target_ctx {
    struct s_org *org;
    size_t kind;
    size_t target;
};

struct s_policy_ctx {
    struct s_org *org;
    const char *id;
};

static void s_org_free(void *p) {
    struct s_org *org = p;
    cJSON_Delete(org->accounts);
    cJSON_Delete(org->kinds[0].entries);
    cJSON_Delete(org->kinds[1].entries);
    cJSON_Delete(org->docs);
}

static int s_set_all(struct tm_aws_scan *scan, const struct tm_snapshot_error *err, bool empty) {
    cJSON *acct = tm_aws_scan_account_resource(scan);
    static const char *const keys[] = {"scps", "rcps"};
    for (size_t i = 0; i < 2; i++) {
        int rc = err ? tm_snapshot_set_unknown(acct, "policies", keys[i], err)
                     : tm_snapshot_set_policy(acct, keys[i], empty ? cJSON_CreateArray() : cJSON_CreateNull());
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_cmp_entry(const void *a, const void *b) {
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    double ox = tm_json_num(x, "order", 0), oy = tm_json_num(y, "order", 0);
    if (ox != oy)
        return ox < oy ? -1 : 1;
    return strcmp(tm_json_str(x, "id", ""), tm_json_str(y, "id", ""));
}

/* The kind's policies, in chain order (account first, root last), each with its document. */
static int s_emit_kind(struct tm_aws_scan *scan, struct s_org *org, struct s_kind *k) {
    cJSON *acct = tm_aws_scan_account_resource(scan);
    if (k->error)
        return tm_snapshot_set_unknown(acct, "policies", k->key, k->error);
    size_t n = (size_t)cJSON_GetArraySize(k->entries);
    cJSON **v = calloc(n ? n : 1, sizeof(*v));
    cJSON *out = cJSON_CreateArray();
    int rc = TM_ERR_NOMEM;
    if (!v || !out)
        goto out;
    size_t i = 0;
    for (cJSON *e = k->entries->child; e; e = e->next)
        v[i++] = e;
    qsort(v, n, sizeof(*v), s_cmp_entry);
    for (i = 0; i < n; i++) {
        const char *id = tm_json_str(v[i], "id", "");
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(org->docs, id);
        cJSON *e = cJSON_Duplicate(v[i], true);
        if (!e || !cJSON_AddItemToArray(out, e)) {
            cJSON_Delete(e);
            goto out;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(e, "order");
        if (!cJSON_AddItemToObject(e, "document", doc ? cJSON_Duplicate(doc, true) : cJSON_CreateNull()))
            goto out;
    }
    rc = tm_snapshot_set_policy(acct, k->key, out);
    out = NULL;
out:
    cJSON_Delete(out);
    free(v);
    return rc;
}

static void s_emit(struct tm_aws_scan *scan, struct s_org *org) {
    for (size_t i = 0; i < 2; i++)
        if (tm_aws_scan_check(scan, s_emit_kind(scan, org, &org->kinds[i]), "organization policies") < 0)
            return;
}

static void s_on_policy(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_policy_ctx *ctx = user_data;
    struct s_org *org = ctx->org;
    const struct tm_snapshot_error *err = res->error;
    cJSON *doc = NULL;
    if (!err) {
        char why[256];
        int rc = tm__aws_org_parse_policy(&doc, res->body, res->body_len, why, sizeof(why));
        if (rc == TM_ERR_NOMEM)
            tm_aws_scan_check(scan, rc, "DescribePolicy");
        else if (rc)
            err = tm_aws_fail(scan, res, "MalformedResponse", why);
    }
    if (!doc && err)
        doc = tm_aws_unknown_value(err);
    if (!doc || !cJSON_ReplaceItemInObjectCaseSensitive(org->docs, ctx->id, doc)) {
        cJSON_Delete(doc);
        tm_aws_scan_check(scan, TM_ERR_NOMEM, "DescribePolicy");
    }
    if (--org->pending == 0)
        s_emit(scan, org);
}

static void s_describe(struct tm_aws_scan *scan, struct s_org *org) {
    for (size_t i = 0; i < 2; i++) {
        struct s_kind *k = &org->kinds[i];
        if (k->error)
            continue;
        for (const cJSON *e = k->entries->child; e; e = e->next) {
            const char *id = tm_json_str(e, "id", "");
            /* A policy attached at several levels is described once; null holds its place. */
            if (cJSON_GetObjectItemCaseSensitive(org->docs, id))
                continue;
            if (!cJSON_AddNullToObject(org->docs, id)) {
                tm_aws_scan_check(scan, TM_ERR_NOMEM, "DescribePolicy");
                return;
            }
            struct s_policy_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
            if (!ctx || !(ctx->id = tm_aws_scan_strdup(scan, id)))
                return;
            ctx->org = org;
            struct tm_aws_param params[] = {{"PolicyId", id, false}};
            struct tm_aws_call call = {.api = S_API,
                                       .operation = "DescribePolicy",
                                       .resource = tm_json_str(e, "arn", NULL),
                                       .params = params,
                                       .param_count = 1};
            if (tm_aws_call(scan, &call, s_on_policy, ctx))
                return;
            org->pending++;
        }
    }
    if (org->pending == 0)
        s_emit(scan, org);
}

static void s_on_policies(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_target_ctx *ctx = user_data;
    struct s_org *org = ctx->org;
    struct s_kind *k = &org->kinds[ctx->kind];
    char *next = NULL;
    if (res->error) {
        if (!k->error)
            k->error = res->error;
    } else if (res->code) {
        /* Accepted InvalidInputException: this policy type does not exist here, so none applies. */
    } else {
        char why[256];
        cJSON *page = cJSON_CreateArray();
        int rc =
            page ? tm__aws_org_parse_policies(page, &next, res->body, res->body_len, why, sizeof(why)) : TM_ERR_NOMEM;
        if (rc == TM_ERR_NOMEM) {
            tm_aws_scan_check(scan, rc, "ListPoliciesForTarget");
        } else if (rc) {
            const struct tm_snapshot_error *e = tm_aws_fail(scan, res, "MalformedResponse", why);
            if (!k->error)
                k->error = e;
        } else {
            while (page->child) {
                cJSON *e = cJSON_DetachItemViaPointer(page, page->child);
                if (!cJSON_AddStringToObject(e, "target", org->chain[ctx->target]) ||
                    !cJSON_AddNumberToObject(e, "order", (double)ctx->target) || !cJSON_AddItemToArray(k->entries, e)) {
                    cJSON_Delete(e);
                    tm_aws_scan_check(scan, TM_ERR_NOMEM, "ListPoliciesForTarget");
                    break;
                }
            }
        }
        cJSON_Delete(page);
    }
    if (next && !k->error) {
        int rc = tm_aws_call_next(scan, res, "NextToken", next, s_on_policies, ctx);
        free(next);
        if (!rc)
            return; /* the same listing goes on */
    } else {
        free(next);
    }
    if (--org->pending == 0)
        s_describe(scan, org);
}

static void s_list_policies(struct tm_aws_scan *scan, struct s_org *org) {
    static const char *const unsupported[] = {"InvalidInputException", NULL};
    for (size_t t = 0; t < org->chain_len; t++) {
        for (size_t i = 0; i < 2; i++) {
            struct s_kind *k = &org->kinds[i];
            if (!k->ask)
                continue;
            struct s_target_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
            if (!ctx)
                return;
            *ctx = (struct s_target_ctx){org, i, t};
            struct tm_aws_param params[] = {{"TargetId", org->chain[t], false}, {"Filter", k->filter, false}};
            struct tm_aws_call call = {.api = S_API,
                                       .operation = "ListPoliciesForTarget",
                                       .params = params,
                                       .param_count = 2,
                                       .accept_codes = k->maybe_unsupported ? unsupported : NULL};
            if (tm_aws_call(scan, &call, s_on_policies, ctx))
                return;
            org->pending++;
        }
    }
    if (org->pending == 0)
        s_describe(scan, org);
}

static int s_cmp_str_item(const void *a, const void *b) {
    return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

/* The member account ids, sorted and de-duplicated. */
static cJSON *s_sorted_accounts(cJSON *accounts) {
    size_t n = (size_t)cJSON_GetArraySize(accounts);
    cJSON **v = calloc(n ? n : 1, sizeof(*v));
    cJSON *out = cJSON_CreateArray();
    if (!v || !out) {
        free(v);
        cJSON_Delete(out);
        return NULL;
    }
    size_t i = 0;
    for (cJSON *a = accounts->child; a; a = a->next)
        v[i++] = a;
    qsort(v, n, sizeof(*v), s_cmp_str_item);
    for (i = 0; i < n; i++) {
        if (i && strcmp(v[i - 1]->valuestring, v[i]->valuestring) == 0)
            continue;
        cJSON *s = cJSON_CreateString(v[i]->valuestring);
        if (!s || !cJSON_AddItemToArray(out, s)) {
            cJSON_Delete(s);
            cJSON_Delete(out);
            out = NULL;
            break;
        }
    }
    free(v);
    return out;
}

static void s_on_accounts(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_org *org = user_data;
    cJSON *acct = tm_aws_scan_account_resource(scan);
    cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(acct, "attrs"), "organization");
    const struct tm_snapshot_error *err = res->error;
    char *next = NULL;
    if (!err) {
        char why[256];
        int rc = tm__aws_org_parse_accounts(org->accounts, &next, res->body, res->body_len, why, sizeof(why));
        if (rc == TM_ERR_NOMEM) {
            tm_aws_scan_check(scan, rc, "ListAccounts");
            return;
        }
        if (rc && !(err = tm_aws_fail(scan, res, "MalformedResponse", why)))
            return;
    }
    if (!err && next) {
        int rc = tm_aws_call_next(scan, res, "NextToken", next, s_on_accounts, org);
        free(next);
        (void)rc; /* on failure the scan has stopped */
        return;
    }
    cJSON *v = err ? tm_aws_unknown_value(err) : s_sorted_accounts(org->accounts);
    if (!v || !cJSON_IsObject(o) || !cJSON_AddItemToObject(o, "accounts", v)) {
        cJSON_Delete(v);
        tm_aws_scan_check(scan, TM_ERR_NOMEM, "ListAccounts");
    }
}

static void s_ask_parent(struct tm_aws_scan *scan, struct s_org *org);

static void s_on_parents(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_org *org = user_data;
    const struct tm_snapshot_error *err = res->error;
    char *id = NULL, *type = NULL;
    if (!err) {
        char why[256];
        int rc = tm__aws_org_parse_parents(&id, &type, res->body, res->body_len, why, sizeof(why));
        if (rc == TM_ERR_NOMEM) {
            tm_aws_scan_check(scan, rc, "ListParents");
            return;
        }
        if (!rc && org->chain_len == S_MAX_CHAIN) {
            snprintf(why, sizeof(why), "ListParents: more than %d levels above the account", S_MAX_CHAIN - 1);
            rc = TM_ERR_PARSE;
        }
        if (rc)
            err = tm_aws_fail(scan, res, "MalformedResponse", why);
    }
    if (err) {
        /* Without the whole chain, what applies is unknown. */
        for (size_t i = 0; i < 2; i++)
            if (org->kinds[i].ask)
                org->kinds[i].error = err;
        free(id);
        free(type);
        s_emit(scan, org);
        return;
    }
    org->chain[org->chain_len++] = tm_aws_scan_strdup(scan, id);
    bool root = strcmp(type, "ROOT") == 0;
    free(id);
    free(type);
    if (!org->chain[org->chain_len - 1])
        return;
    if (root)
        s_list_policies(scan, org);
    else
        s_ask_parent(scan, org);
}

static void s_ask_parent(struct tm_aws_scan *scan, struct s_org *org) {
    struct tm_aws_param params[] = {{"ChildId", org->chain[org->chain_len - 1], false}};
    struct tm_aws_call call = {.api = S_API, .operation = "ListParents", .params = params, .param_count = 1};
    if (tm_aws_call(scan, &call, s_on_parents, org)) {
        /* the scan has stopped */
    }
}

static void s_on_organization(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_org *org = user_data;
    cJSON *acct = tm_aws_scan_account_resource(scan);
    if (res->error) {
        int rc = tm_snapshot_set_unknown(acct, "attrs", "organization", res->error);
        tm_aws_scan_check(scan, rc ? rc : s_set_all(scan, res->error, false), "organization");
        return;
    }
    if (res->code) { /* AWSOrganizationsNotInUseException: not in an organization, no SCP or RCP applies */
        int rc = tm_snapshot_set_attr(acct, "organization", cJSON_CreateNull());
        tm_aws_scan_check(scan, rc ? rc : s_set_all(scan, NULL, true), "organization");
        return;
    }
    struct tm__aws_org o;
    char why[256];
    int rc = tm__aws_org_parse_organization(&o, res->body, res->body_len, why, sizeof(why));
    if (rc == TM_ERR_NOMEM) {
        tm_aws_scan_check(scan, rc, "DescribeOrganization");
        return;
    }
    if (rc) {
        const struct tm_snapshot_error *err = tm_aws_fail(scan, res, "MalformedResponse", why);
        if (err && !(rc = tm_snapshot_set_unknown(acct, "attrs", "organization", err)))
            rc = s_set_all(scan, err, false);
        tm_aws_scan_check(scan, rc, "organization");
        return;
    }
    if (tm_aws_scan_check(scan, tm_snapshot_set_attr(acct, "organization", o.organization), "organization") < 0)
        return;
    struct tm_aws_call list = {.api = S_API, .operation = "ListAccounts"};
    if (tm_aws_call(scan, &list, s_on_accounts, org))
        return;
    if (!o.all_features) { /* consolidated billing only: policies cannot be attached */
        tm_aws_scan_check(scan, s_set_all(scan, NULL, true), "organization");
        return;
    }
    org->kinds[0].ask = !o.types_listed || o.scp_enabled;
    org->kinds[1].ask = !o.types_listed || o.rcp_enabled;
    org->kinds[1].maybe_unsupported = !o.types_listed;
    org->chain[0] = tm_aws_scan_strdup(scan, tm_aws_scan_account(scan));
    org->chain_len = 1;
    if (org->chain[0])
        s_ask_parent(scan, org);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    struct s_org *org = tm_aws_scan_alloc(scan, sizeof(*org));
    if (!org)
        return TM_ERR_NOMEM;
    tm_aws_scan_sink(scan, region, &org->sink);
    org->kinds[0] = (struct s_kind){.filter = "SERVICE_CONTROL_POLICY", .key = "scps"};
    org->kinds[1] = (struct s_kind){.filter = "RESOURCE_CONTROL_POLICY", .key = "rcps"};
    org->kinds[0].entries = cJSON_CreateArray();
    org->kinds[1].entries = cJSON_CreateArray();
    org->docs = cJSON_CreateObject();
    org->accounts = cJSON_CreateArray();
    int rc = tm_aws_scan_on_destroy(scan, s_org_free, org);
    if (rc)
        return rc;
    if (!org->kinds[0].entries || !org->kinds[1].entries || !org->docs || !org->accounts)
        return TM_ERR_NOMEM;
    static const char *const not_in_use[] = {"AWSOrganizationsNotInUseException", NULL};
    struct tm_aws_call call = {.api = S_API, .operation = "DescribeOrganization", .accept_codes = not_in_use};
    return tm_aws_call(scan, &call, s_on_organization, org);
}

const struct tm_aws_service tm__aws_service_organizations = {
    .name = "organizations",
    .global = true,
    .operations = s_operations,
    .start = s_start,
};
