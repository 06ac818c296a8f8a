/* Request evaluation, following the IAM User Guide:
 * - "Policy evaluation logic" and "How AWS enforcement code logic evaluates requests to allow or deny
 *   access": deny evaluation first (every policy type), then RCPs, SCPs, the resource-based policy,
 *   identity-based policies, the permissions boundary, session policies;
 * - the same-account table for resource-based policies: a grant to an IAM user ARN, a role session ARN
 *   or a federated-user session ARN is not limited by implicit denies elsewhere; a grant to a role ARN
 *   (or to the IAM user who federated) is limited by the boundary and the session policy; a grant to
 *   the account delegates to identity-based policies;
 * - KMS key policies and role trust policies must allow the principal themselves;
 * - "Cross-account policy evaluation logic": both the trusted account (identity side) and the trusting
 *   account (resource policy) must allow;
 * - "NotPrincipal": the principal is weighed as its chain (account, role, session / account, user):
 *   a statement applies at the most specific link not listed; a Deny with NotPrincipal always applies
 *   to principals with a permissions boundary ("Permissions boundaries for IAM entities"). */
#include "analyzers/iam/eval.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/eval_int.h"
#include "analyzers/iam/iam_int.h"
#include "core/str.h"

static bool s_eq_n(const char *a, size_t an, const char *b, size_t bn) {
    return an == bn && memcmp(a, b, an) == 0;
}

/* The last path component of "role/path/name" or "user/name". */
static void s_last_component(const char *res, size_t len, const char **name, size_t *nlen) {
    const char *slash = NULL;
    for (size_t i = 0; i < len; i++)
        if (res[i] == '/')
            slash = res + i;
    *name = slash ? slash + 1 : res;
    *nlen = len - (size_t)(*name - res);
}

void tm__iam_who_parse(struct tm__iam_who *w, const char *principal) {
    memset(w, 0, sizeof(*w));
    w->text = principal;
    if (!principal || !*principal || strcmp(principal, "*") == 0 || strcmp(principal, "anonymous") == 0) {
        w->kind = TM__IAM_WHO_ANONYMOUS;
        return;
    }
    struct tm__iam_arn arn;
    if (!tm__iam_arn_split(principal, &arn)) {
        /* "sns.amazonaws.com" is a service; other names ("accounts.google.com") web identity providers. */
        w->kind = tm_str_ends_with(principal, ".amazonaws.com") || tm_str_ends_with(principal, ".amazonaws.com.cn")
                      ? TM__IAM_WHO_SERVICE
                      : TM__IAM_WHO_WEB_IDENTITY;
        return;
    }
    w->partition = arn.part[1];
    w->partition_len = arn.len[1];
    if (tm__iam_is_account_id(arn.part[4], arn.len[4])) {
        memcpy(w->account, arn.part[4], 12);
        w->account[12] = '\0';
    }
    const char *res = arn.part[5];
    size_t rlen = arn.len[5];
    bool iam = s_eq_n(arn.part[2], arn.len[2], "iam", 3);
    bool sts = s_eq_n(arn.part[2], arn.len[2], "sts", 3);
    w->kind = TM__IAM_WHO_OTHER;
    if (iam && s_eq_n(res, rlen, "root", 4)) {
        w->kind = TM__IAM_WHO_ROOT;
    } else if (iam && strncmp(res, "user/", 5) == 0) {
        w->kind = TM__IAM_WHO_USER;
        s_last_component(res, rlen, &w->name, &w->name_len);
    } else if (iam && strncmp(res, "role/", 5) == 0) {
        w->kind = TM__IAM_WHO_ROLE;
        s_last_component(res, rlen, &w->name, &w->name_len);
    } else if (iam && (strncmp(res, "oidc-provider/", 14) == 0 || strncmp(res, "saml-provider/", 14) == 0)) {
        w->kind = TM__IAM_WHO_WEB_IDENTITY;
    } else if (sts && strncmp(res, "assumed-role/", 13) == 0) {
        const char *role = res + 13;
        const char *slash = strchr(role, '/');
        if (slash) {
            w->kind = TM__IAM_WHO_SESSION;
            w->name = role;
            w->name_len = (size_t)(slash - role);
        }
    } else if (sts && strncmp(res, "federated-user/", 15) == 0) {
        w->kind = TM__IAM_WHO_FEDERATED_USER;
        w->name = res + 15;
        w->name_len = rlen - 15;
    }
    if (!w->account[0] && w->kind != TM__IAM_WHO_WEB_IDENTITY)
        w->kind = TM__IAM_WHO_OTHER;
}

bool tm__iam_who_is_iam(const struct tm__iam_who *w) {
    switch (w->kind) {
        case TM__IAM_WHO_ROOT:
        case TM__IAM_WHO_USER:
        case TM__IAM_WHO_ROLE:
        case TM__IAM_WHO_SESSION:
        case TM__IAM_WHO_FEDERATED_USER:
        case TM__IAM_WHO_OTHER:
            return true;
        default:
            return false;
    }
}

/* Whether the principal-ARN resource part of p names an IAM entity of the given type whose last path
 * component equals name, in account. */
static bool s_names_entity(const struct tm__iam_principal *p, const char *type_prefix, const struct tm__iam_who *w) {
    if (!p->account || strcmp(p->account, w->account) != 0)
        return false;
    struct tm__iam_arn arn;
    if (!tm__iam_arn_split(p->value, &arn) || strncmp(arn.part[5], type_prefix, strlen(type_prefix)) != 0)
        return false;
    const char *name;
    size_t nlen;
    s_last_component(arn.part[5], arn.len[5], &name, &nlen);
    return s_eq_n(name, nlen, w->name, w->name_len);
}

/* How one principal entry names the requester (Principal element). */
static enum tm__iam_level s_entry_level(const struct tm__iam_principal *p, const struct tm__iam_who *w) {
    switch (p->type) {
        case TM_IAM_PTYPE_ANY:
            return TM__IAM_LEVEL_EXACT;
        case TM_IAM_PTYPE_SERVICE:
            return w->kind == TM__IAM_WHO_SERVICE && (strcmp(p->value, "*") == 0 || tm_str_ieq(p->value, w->text))
                       ? TM__IAM_LEVEL_EXACT
                       : TM__IAM_LEVEL_NONE;
        case TM_IAM_PTYPE_FEDERATED:
            return w->kind == TM__IAM_WHO_WEB_IDENTITY && strcmp(p->value, w->text) == 0 ? TM__IAM_LEVEL_EXACT
                                                                                         : TM__IAM_LEVEL_NONE;
        case TM_IAM_PTYPE_CANONICAL:
            return strcmp(p->value, w->text) == 0 ? TM__IAM_LEVEL_EXACT : TM__IAM_LEVEL_NONE;
        case TM_IAM_PTYPE_AWS:
            break;
        default:
            return TM__IAM_LEVEL_NONE;
    }
    if (!tm__iam_who_is_iam(w))
        return TM__IAM_LEVEL_NONE;
    switch (p->aws_kind) {
        case TM_IAM_AWS_ACCOUNT:
            return strcmp(p->account, w->account) == 0 ? TM__IAM_LEVEL_ACCOUNT : TM__IAM_LEVEL_NONE;
        case TM_IAM_AWS_USER:
            if (w->kind == TM__IAM_WHO_USER && strcmp(p->value, w->text) == 0)
                return TM__IAM_LEVEL_EXACT;
            if (w->kind == TM__IAM_WHO_FEDERATED_USER && s_names_entity(p, "user/", w))
                return TM__IAM_LEVEL_PARENT;
            return TM__IAM_LEVEL_NONE;
        case TM_IAM_AWS_ROLE:
            if ((w->kind == TM__IAM_WHO_SESSION || w->kind == TM__IAM_WHO_ROLE) && s_names_entity(p, "role/", w))
                return TM__IAM_LEVEL_PARENT;
            return TM__IAM_LEVEL_NONE;
        case TM_IAM_AWS_ASSUMED_ROLE:
        case TM_IAM_AWS_FEDERATED_USER:
        case TM_IAM_AWS_OTHER:
            return strcmp(p->value, w->text) == 0 ? TM__IAM_LEVEL_EXACT : TM__IAM_LEVEL_NONE;
        case TM_IAM_AWS_UNIQUE_ID:
        default:
            return TM__IAM_LEVEL_NONE;
    }
}

/* NotPrincipal: is this link of the requester's chain listed? */
static bool s_listed(const struct tm__iam_stmt *s, const struct tm__iam_who *w, enum tm__iam_level link) {
    for (size_t i = 0; i < s->n_principals; i++) {
        const struct tm__iam_principal *p = &s->principals[i];
        if (p->type == TM_IAM_PTYPE_ANY)
            return true;
        enum tm__iam_level l = s_entry_level(p, w);
        if (l == TM__IAM_LEVEL_NONE)
            continue;
        /* An entry naming the account lists the account link only, a role or the federating user
         * the parent link, anything exact the principal itself. */
        if (l == link)
            return true;
    }
    return false;
}

enum tm__iam_level tm__iam_principal_level(const struct tm__iam_stmt *s, const struct tm__iam_who *w) {
    if (s->principal_mode == TM_IAM_PRINCIPAL_NONE)
        return TM__IAM_LEVEL_EXACT;
    if (s->principal_mode == TM_IAM_PRINCIPAL_LIST) {
        enum tm__iam_level best = TM__IAM_LEVEL_NONE;
        for (size_t i = 0; i < s->n_principals && best != TM__IAM_LEVEL_EXACT; i++) {
            enum tm__iam_level l = s_entry_level(&s->principals[i], w);
            if (l > best)
                best = l;
        }
        return best;
    }
    /* NotPrincipal: the statement applies at the most specific link of the chain that is not listed. */
    if (!s_listed(s, w, TM__IAM_LEVEL_EXACT))
        return TM__IAM_LEVEL_EXACT;
    bool has_parent = w->kind == TM__IAM_WHO_SESSION || w->kind == TM__IAM_WHO_FEDERATED_USER;
    if (has_parent && !s_listed(s, w, TM__IAM_LEVEL_PARENT))
        return TM__IAM_LEVEL_PARENT;
    if (tm__iam_who_is_iam(w) && w->kind != TM__IAM_WHO_ROOT && !s_listed(s, w, TM__IAM_LEVEL_ACCOUNT))
        return TM__IAM_LEVEL_ACCOUNT;
    return TM__IAM_LEVEL_NONE;
}

/* For the chain of a root principal the account link is the principal itself: an account entry names
 * it exactly. */
static enum tm__iam_level s_level(const struct tm__iam_stmt *s, const struct tm__iam_who *w) {
    if (w->kind != TM__IAM_WHO_ROOT)
        return tm__iam_principal_level(s, w);
    if (s->principal_mode == TM_IAM_PRINCIPAL_NOT) {
        for (size_t i = 0; i < s->n_principals; i++)
            if (s_entry_level(&s->principals[i], w) != TM__IAM_LEVEL_NONE)
                return TM__IAM_LEVEL_NONE;
        return TM__IAM_LEVEL_EXACT;
    }
    enum tm__iam_level l = tm__iam_principal_level(s, w);
    return l == TM__IAM_LEVEL_ACCOUNT ? TM__IAM_LEVEL_EXACT : l;
}

/* ---- derived context keys ---- */

/* The keys every request of a principal carries, built without allocating (an evaluation is a few
 * microseconds; the analyzers make millions): keys and values point at literals, at the principal string and
 * at this struct's buffers, all alive while the evaluation runs. */
#define S_DERIVED_MAX 8

struct s_derived {
    struct tm_iam_context ctx;
    struct tm_iam_context_entry entries[S_DERIVED_MAX];
    const char *values[S_DERIVED_MAX];
    char name[2048];
    char arn[2048];
};

/* key_lc is already lower-case; s_derive sets each key once. */
static void s_put(struct s_derived *d, const char *key_lc, const char *value) {
    assert(d->ctx.n < S_DERIVED_MAX);
    struct tm_iam_context_entry *e = &d->entries[d->ctx.n];
    d->values[d->ctx.n] = value;
    e->key_lc = (char *)key_lc;
    e->values = (char **)&d->values[d->ctx.n];
    e->n = e->cap = 1;
    d->ctx.n++;
}

static void s_derive(struct s_derived *d, const struct tm__iam_who *w, const char *resource_account) {
    memset(&d->ctx, 0, sizeof(d->ctx));
    d->ctx.entries = d->entries;
    d->ctx.cap = S_DERIVED_MAX;
    char part[32] = "aws";
    if (w->partition && w->partition_len < sizeof(part)) {
        memcpy(part, w->partition, w->partition_len);
        part[w->partition_len] = '\0';
    }
    if (resource_account)
        s_put(d, "aws:resourceaccount", resource_account);
    switch (w->kind) {
        case TM__IAM_WHO_SERVICE:
            s_put(d, "aws:principalisawsservice", "true");
            s_put(d, "aws:principalservicename", w->text);
            return;
        case TM__IAM_WHO_ANONYMOUS:
            s_put(d, "aws:principaltype", "Anonymous");
            return;
        case TM__IAM_WHO_WEB_IDENTITY:
            return;
        default:
            break;
    }
    s_put(d, "aws:principalisawsservice", "false");
    if (w->account[0])
        s_put(d, "aws:principalaccount", w->account);
    const char *type = NULL;
    const char *arn = w->text;
    switch (w->kind) {
        case TM__IAM_WHO_ROOT:
            type = "Account";
            break;
        case TM__IAM_WHO_USER:
            type = "User";
            if (w->name_len < sizeof(d->name)) {
                memcpy(d->name, w->name, w->name_len);
                d->name[w->name_len] = '\0';
                s_put(d, "aws:username", d->name);
            }
            break;
        case TM__IAM_WHO_SESSION:
        case TM__IAM_WHO_ROLE:
            type = "AssumedRole";
            /* aws:PrincipalArn of a role session is the role's ARN (printed only for a session: a role's own
             * ARN is its text, and most requests the graph asks about are a role's). */
            if (w->kind == TM__IAM_WHO_SESSION && snprintf(d->arn, sizeof(d->arn), "arn:%s:iam::%s:role/%.*s", part,
                                                           w->account, (int)w->name_len, w->name) < (int)sizeof(d->arn))
                arn = d->arn;
            break;
        case TM__IAM_WHO_FEDERATED_USER:
            type = "FederatedUser";
            break;
        default:
            break;
    }
    if (type)
        s_put(d, "aws:principaltype", type);
    s_put(d, "aws:principalarn", arn);
}

int tm__iam_derive_context(struct tm_iam_context *d, const struct tm__iam_who *w, const char *resource_account) {
    struct s_derived fixed;
    s_derive(&fixed, w, resource_account);
    for (size_t i = 0; i < fixed.ctx.n; i++) {
        int rc = tm_iam_context_set(d, fixed.entries[i].key_lc, fixed.values[i]);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- evaluation ---- */

void tm_iam_result_init(struct tm_iam_result *res) {
    memset(res, 0, sizeof(*res));
}

void tm_iam_result_clean_up(struct tm_iam_result *res) {
    if (!res)
        return;
    free(res->matches);
    memset(res, 0, sizeof(*res));
}

struct s_eval {
    const struct tm_iam_request *req;
    const struct tm__iam_who *who;
    const struct tm_iam_context *ctx;
    const struct tm_iam_context *derived;
    struct tm_iam_result *res;
    bool collect;
    bool has_boundary;
    int rc;
};

struct s_scan {
    bool allow;
    bool deny;
    enum tm__iam_level allow_level; /* resource policies: the best level an Allow names the requester at */
};

static void s_record(struct s_eval *ev, enum tm_iam_set_kind set, size_t level, size_t policy, size_t stmt,
                     enum tm_iam_effect effect) {
    if (!ev->collect || ev->rc)
        return;
    struct tm_iam_result *r = ev->res;
    if (r->n_matches == r->cap_matches) {
        size_t cap = r->cap_matches ? r->cap_matches * 2 : 8;
        struct tm_iam_match *p = realloc(r->matches, cap * sizeof(*p));
        if (!p) {
            ev->rc = TM_ERR_NOMEM;
            return;
        }
        r->matches = p;
        r->cap_matches = cap;
    }
    r->matches[r->n_matches++] =
        (struct tm_iam_match){.set = set, .level = level, .policy = policy, .statement = stmt, .effect = effect};
}

static void s_scan_policy(struct s_eval *ev, const struct tm_iam_policy *pol, enum tm_iam_set_kind set, size_t level,
                          size_t index, struct s_scan *out) {
    if (!pol)
        return;
    const struct tm_iam_request *req = ev->req;
    for (size_t i = 0; i < pol->n_stmts; i++) {
        const struct tm__iam_stmt *s = &pol->stmts[i];
        if (!tm__iam_stmt_action_matches(s, req->action))
            continue;
        if (!tm__iam_stmt_resource_matches(s, req->resource, ev->ctx, ev->derived))
            continue;
        enum tm__iam_level lvl = s_level(s, ev->who);
        /* "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
         * permissions boundary policy attached" (Permissions boundaries for IAM entities). */
        if (s->effect == TM_IAM_DENY && s->principal_mode == TM_IAM_PRINCIPAL_NOT && ev->has_boundary &&
            tm__iam_who_is_iam(ev->who))
            lvl = TM__IAM_LEVEL_EXACT;
        if (lvl == TM__IAM_LEVEL_NONE)
            continue;
        if (!tm__iam_stmt_conditions_hold(s, ev->ctx, ev->derived))
            continue;
        if (s->effect == TM_IAM_DENY) {
            out->deny = true;
        } else {
            out->allow = true;
            if (lvl > out->allow_level)
                out->allow_level = lvl;
        }
        s_record(ev, set, level, index, i, s->effect);
    }
}

static void s_scan_list(struct s_eval *ev, const struct tm_iam_policy *const *list, size_t n, enum tm_iam_set_kind set,
                        struct s_scan *out) {
    for (size_t i = 0; i < n; i++)
        s_scan_policy(ev, list[i], set, 0, i, out);
}

/* Every level must have an Allow; any Deny is explicit. */
static void s_scan_levels(struct s_eval *ev, const struct tm_iam_policy_level *levels, size_t n,
                          enum tm_iam_set_kind set, bool *all_allow, bool *deny) {
    *all_allow = true;
    *deny = false;
    for (size_t l = 0; l < n; l++) {
        struct s_scan sc = {0};
        for (size_t i = 0; i < levels[l].n; i++)
            s_scan_policy(ev, levels[l].policies[i], set, l, i, &sc);
        if (!sc.allow)
            *all_allow = false;
        if (sc.deny)
            *deny = true;
    }
}

/* Key policies and role trust policies must allow the principal themselves. */
static bool s_resource_policy_required(const struct tm_iam_request *req) {
    struct tm__iam_arn arn;
    if (!tm__iam_arn_split(req->resource, &arn))
        return false;
    if (s_eq_n(arn.part[2], arn.len[2], "kms", 3))
        return true;
    return s_eq_n(arn.part[2], arn.len[2], "iam", 3) && strncmp(arn.part[5], "role/", 5) == 0 &&
           strncmp(req->action, "sts:", 4) == 0;
}

static const char *s_resource_account(const struct tm_iam_request *req, char *buf) {
    if (req->resource_account && *req->resource_account)
        return req->resource_account;
    struct tm__iam_arn arn;
    if (tm__iam_arn_split(req->resource, &arn) && tm__iam_is_account_id(arn.part[4], arn.len[4])) {
        memcpy(buf, arn.part[4], 12);
        buf[12] = '\0';
        return buf;
    }
    return NULL;
}

static void s_keep_only(struct tm_iam_result *r, enum tm_iam_effect effect) {
    size_t k = 0;
    for (size_t i = 0; i < r->n_matches; i++)
        if (r->matches[i].effect == effect)
            r->matches[k++] = r->matches[i];
    r->n_matches = k;
}

static void s_decide(struct tm_iam_result *res, enum tm_iam_decision d, enum tm_iam_reason why) {
    res->decision = d;
    res->reason = why;
}

int tm__iam_evaluate_with(struct tm_iam_result *res, const struct tm_iam_request *req,
                          const struct tm_iam_policy_set *set, bool collect, const struct tm__iam_who *who,
                          const struct tm_iam_context *derived, const char *resource_account) {
    res->n_matches = 0;
    struct s_eval ev = {.req = req,
                        .who = who,
                        .ctx = req->context,
                        .derived = derived,
                        .res = res,
                        .collect = collect,
                        .has_boundary = set->n_boundaries > 0};
    bool iam = tm__iam_who_is_iam(who);
    bool same_account = !resource_account || (who->account[0] && strcmp(who->account, resource_account) == 0);
    if (!iam)
        same_account = false;
    res->same_account = same_account;

    bool scp_allow = true, scp_deny = false, rcp_allow = true, rcp_deny = false;
    if (iam)
        s_scan_levels(&ev, set->scp_levels, set->n_scp_levels, TM_IAM_SET_SCP, &scp_allow, &scp_deny);
    s_scan_levels(&ev, set->rcp_levels, set->n_rcp_levels, TM_IAM_SET_RCP, &rcp_allow, &rcp_deny);
    struct s_scan rbp = {0}, id = {0}, pb = {0}, sp = {0};
    s_scan_policy(&ev, set->resource, TM_IAM_SET_RESOURCE, 0, 0, &rbp);
    if (iam) {
        s_scan_list(&ev, set->identity, set->n_identity, TM_IAM_SET_IDENTITY, &id);
        s_scan_list(&ev, set->boundaries, set->n_boundaries, TM_IAM_SET_BOUNDARY, &pb);
        s_scan_list(&ev, set->session, set->n_session, TM_IAM_SET_SESSION, &sp);
    }
    if (ev.rc)
        return ev.rc;

    /* 1. Deny evaluation: one applicable Deny anywhere decides. */
    if (scp_deny || rcp_deny || rbp.deny || id.deny || pb.deny || sp.deny) {
        s_keep_only(res, TM_IAM_DENY);
        s_decide(res, TM_IAM_EXPLICIT_DENY, TM_IAM_REASON_EXPLICIT_DENY);
        return TM_OK;
    }
    s_keep_only(res, TM_IAM_ALLOW);
    /* 2-3. Resource control policies, then service control policies, must allow. */
    if (!rcp_allow) {
        s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_RCP);
        return TM_OK;
    }
    if (!scp_allow) {
        s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_SCP);
        return TM_OK;
    }
    /* Callers outside IAM (anonymous, AWS services, web identities) have only the resource policy. */
    if (!iam) {
        if (rbp.allow_level == TM__IAM_LEVEL_EXACT)
            s_decide(res, TM_IAM_ALLOWED, TM_IAM_REASON_NONE);
        else
            s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_NOT_AUTHENTICATED);
        return TM_OK;
    }
    bool rbp_required = s_resource_policy_required(req);
    if (rbp_required && rbp.allow_level == TM__IAM_LEVEL_NONE) {
        s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_RESOURCE_POLICY);
        return TM_OK;
    }
    bool is_root = who->kind == TM__IAM_WHO_ROOT;
    bool federated_user = who->kind == TM__IAM_WHO_FEDERATED_USER;
    /* The identity side: identity-based policy, boundary, session policy. The account's root user has
     * full access in its own account without any identity policy. */
    enum tm_iam_reason identity_gap = TM_IAM_REASON_NONE;
    if (!is_root) {
        if (!id.allow)
            identity_gap = TM_IAM_REASON_IDENTITY;
        else if (set->n_boundaries && !pb.allow)
            identity_gap = TM_IAM_REASON_BOUNDARY;
        else if ((set->n_session && !sp.allow) || (federated_user && !set->n_session))
            identity_gap = TM_IAM_REASON_SESSION;
    }

    if (same_account) {
        /* 4. The resource-based policy, by how it names the requester. */
        if (rbp.allow_level == TM__IAM_LEVEL_EXACT) {
            s_decide(res, TM_IAM_ALLOWED, TM_IAM_REASON_NONE);
            return TM_OK;
        }
        if (rbp.allow_level == TM__IAM_LEVEL_PARENT) {
            /* A grant to the role (or the IAM user who federated) is limited by the boundary and the
             * session policy, but not by the identity-based policy. */
            if (set->n_boundaries && !pb.allow)
                s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_BOUNDARY);
            else if (set->n_session && !sp.allow)
                s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_SESSION);
            else
                s_decide(res, TM_IAM_ALLOWED, TM_IAM_REASON_NONE);
            return TM_OK;
        }
        /* 5-7. Identity-based policy, boundary, session policy. */
        if (identity_gap == TM_IAM_REASON_IDENTITY && rbp.allow_level == TM__IAM_LEVEL_NONE)
            identity_gap = TM_IAM_REASON_NO_ALLOW;
        if (identity_gap)
            s_decide(res, TM_IAM_IMPLICIT_DENY, identity_gap);
        else
            s_decide(res, TM_IAM_ALLOWED, TM_IAM_REASON_NONE);
        return TM_OK;
    }
    /* Cross-account: the trusting account's resource policy and the trusted account's identity side. */
    if (rbp.allow_level == TM__IAM_LEVEL_NONE) {
        s_decide(res, TM_IAM_IMPLICIT_DENY, TM_IAM_REASON_CROSS_ACCOUNT);
        return TM_OK;
    }
    if (identity_gap)
        s_decide(res, TM_IAM_IMPLICIT_DENY, identity_gap);
    else
        s_decide(res, TM_IAM_ALLOWED, TM_IAM_REASON_NONE);
    return TM_OK;
}

int tm_iam_evaluate(struct tm_iam_result *res, const struct tm_iam_request *req, const struct tm_iam_policy_set *set,
                    bool collect_matches) {
    if (!req || !set || !req->action || !req->resource || !*req->action || !*req->resource)
        return TM_ERR_INVALID;
    struct tm__iam_who who;
    tm__iam_who_parse(&who, req->principal);
    char acct_buf[13];
    const char *racct = s_resource_account(req, acct_buf);
    struct s_derived derived;
    s_derive(&derived, &who, racct);
    return tm__iam_evaluate_with(res, req, set, collect_matches, &who, &derived.ctx, racct);
}

bool tm_iam_statement_applies(const struct tm_iam_policy *policy, size_t stmt, const struct tm_iam_request *req) {
    if (!policy || stmt >= policy->n_stmts || !req || !req->action || !req->resource)
        return false;
    const struct tm__iam_stmt *s = &policy->stmts[stmt];
    struct tm__iam_who who;
    tm__iam_who_parse(&who, req->principal);
    char acct_buf[13];
    struct s_derived derived;
    s_derive(&derived, &who, s_resource_account(req, acct_buf));
    return tm__iam_stmt_action_matches(s, req->action) &&
           tm__iam_stmt_resource_matches(s, req->resource, req->context, &derived.ctx) &&
           s_level(s, &who) != TM__IAM_LEVEL_NONE && tm__iam_stmt_conditions_hold(s, req->context, &derived.ctx);
}

const char *tm_iam_decision_name(enum tm_iam_decision d) {
    switch (d) {
        case TM_IAM_ALLOWED:
            return "allowed";
        case TM_IAM_EXPLICIT_DENY:
            return "explicitDeny";
        case TM_IAM_IMPLICIT_DENY:
            return "implicitDeny";
        default:
            return "?";
    }
}

const char *tm_iam_reason_text(enum tm_iam_reason r) {
    switch (r) {
        case TM_IAM_REASON_NONE:
            return "allowed";
        case TM_IAM_REASON_EXPLICIT_DENY:
            return "a Deny statement applies";
        case TM_IAM_REASON_SCP:
            return "a service control policy does not allow the action";
        case TM_IAM_REASON_RCP:
            return "a resource control policy does not allow the action";
        case TM_IAM_REASON_NO_ALLOW:
            return "neither an identity-based nor a resource-based policy allows the action";
        case TM_IAM_REASON_RESOURCE_POLICY:
            return "the key policy or trust policy does not allow this principal";
        case TM_IAM_REASON_CROSS_ACCOUNT:
            return "cross-account: the resource's policy does not allow this principal";
        case TM_IAM_REASON_IDENTITY:
            return "no identity-based policy allows the action";
        case TM_IAM_REASON_BOUNDARY:
            return "the permissions boundary does not allow the action";
        case TM_IAM_REASON_SESSION:
            return "the session policy does not allow the action";
        case TM_IAM_REASON_NOT_AUTHENTICATED:
            return "the resource's policy does not allow this caller";
        default:
            return "?";
    }
}

const char *tm_iam_set_kind_name(enum tm_iam_set_kind k) {
    switch (k) {
        case TM_IAM_SET_SCP:
            return "scps";
        case TM_IAM_SET_RCP:
            return "rcps";
        case TM_IAM_SET_RESOURCE:
            return "resourcePolicy";
        case TM_IAM_SET_IDENTITY:
            return "identityPolicies";
        case TM_IAM_SET_BOUNDARY:
            return "permissionBoundaries";
        case TM_IAM_SET_SESSION:
            return "sessionPolicies";
        default:
            return "?";
    }
}
