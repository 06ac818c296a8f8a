/* Who can reach a resource. For every action of the resource's service (from the action catalogue),
 * the Allow statements (and S3 ACL grants) covering it give candidate callers; each candidate is
 * narrowed by its statement's conditions, then by every Deny statement covering the action that the
 * caller cannot avoid; what is left is grouped by access level. Actions covered by the same statements
 * share one computation. Condition-key semantics: policies/condition-keys.md. */
#include "analyzers/iam/reach.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/iam/reach_int.h"
#include "core/buf.h"
#include "core/str.h"

/* ---- names ---- */

static const char *const s_type_names[] = {NULL,  "s3",         "sqs",  "sns", "lambda", "kms", "secretsmanager",
                                           "ecr", "apigateway", "trust"};
static const char *const s_type_services[] = {NULL,  "s3",          "sqs", "sns", "lambda", "kms", "secretsmanager",
                                              "ecr", "execute-api", "sts"};

const char *tm_iam_resource_type_name(enum tm_iam_resource_type t) {
    return (t >= TM_IAM_RES_S3 && t <= TM_IAM_RES_TRUST) ? s_type_names[t] : NULL;
}

enum tm_iam_resource_type tm_iam_resource_type_parse(const char *name) {
    for (int t = TM_IAM_RES_S3; t <= TM_IAM_RES_TRUST; t++)
        if (name && strcmp(name, s_type_names[t]) == 0)
            return (enum tm_iam_resource_type)t;
    return 0;
}

const char *tm_iam_reach_name(enum tm_iam_reach r) {
    switch (r) {
        case TM_IAM_REACH_ACCOUNT:
            return "account";
        case TM_IAM_REACH_NETWORK:
            return "network";
        case TM_IAM_REACH_SERVICE:
            return "service";
        case TM_IAM_REACH_ORGANIZATION:
            return "organization";
        case TM_IAM_REACH_FEDERATED:
            return "federated";
        case TM_IAM_REACH_EXTERNAL:
            return "external-accounts";
        case TM_IAM_REACH_AUTHENTICATED:
            return "any-aws-principal";
        case TM_IAM_REACH_PUBLIC:
            return "public";
        default:
            return "?";
    }
}

const char *tm_iam_reach_phrase(enum tm_iam_reach r) {
    switch (r) {
        case TM_IAM_REACH_ACCOUNT:
            return "this account only";
        case TM_IAM_REACH_NETWORK:
            return "callers inside named networks";
        case TM_IAM_REACH_SERVICE:
            return "AWS services";
        case TM_IAM_REACH_ORGANIZATION:
            return "an organisation";
        case TM_IAM_REACH_FEDERATED:
            return "identities from an identity provider";
        case TM_IAM_REACH_EXTERNAL:
            return "named external accounts";
        case TM_IAM_REACH_AUTHENTICATED:
            return "any authenticated AWS principal";
        case TM_IAM_REACH_PUBLIC:
            return "anyone (public)";
        default:
            return "?";
    }
}

/* ---- condition keys ---- */

enum s_key {
    K_OTHER = 0, /* set by the caller: never narrows who */
    K_PRINCIPAL_ACCOUNT,
    K_PRINCIPAL_ARN,
    K_USERID,
    K_ORG_ID,
    K_ORG_PATHS,
    K_SOURCE_ACCOUNT,
    K_SOURCE_ARN,
    K_VPC,
    K_IP,
    K_IS_SERVICE,
    K_SERVICE_NAME,
    K_VIA,
    K_EXTERNAL_ID,
    K_CLAIM,
    K_URL_AUTH,
};

/* Called for every condition of every statement, for every resource: keys are told apart by length first. */
static enum s_key s_classify_key(const char *k) {
#define S_KEY(text, cls)                                                                                               \
    { text, sizeof(text) - 1, cls }
    static const struct {
        const char *key;
        size_t len;
        enum s_key cls;
    } table[] = {
        S_KEY("aws:principalaccount", K_PRINCIPAL_ACCOUNT),
        S_KEY("kms:calleraccount", K_PRINCIPAL_ACCOUNT),
        S_KEY("s3:dataaccesspointaccount", K_PRINCIPAL_ACCOUNT),
        S_KEY("aws:principalarn", K_PRINCIPAL_ARN),
        S_KEY("aws:userid", K_USERID),
        S_KEY("aws:principalorgid", K_ORG_ID),
        S_KEY("aws:principalorgpaths", K_ORG_PATHS),
        S_KEY("aws:sourceaccount", K_SOURCE_ACCOUNT),
        S_KEY("aws:sourceowner", K_SOURCE_ACCOUNT),
        S_KEY("aws:sourcearn", K_SOURCE_ARN),
        S_KEY("aws:sourcevpc", K_VPC),
        S_KEY("aws:sourcevpce", K_VPC),
        S_KEY("aws:sourcevpcarn", K_VPC),
        S_KEY("aws:sourceip", K_IP),
        S_KEY("aws:principalisawsservice", K_IS_SERVICE),
        S_KEY("aws:principalservicename", K_SERVICE_NAME),
        S_KEY("aws:principalservicenameslist", K_SERVICE_NAME),
        S_KEY("kms:viaservice", K_VIA),
        S_KEY("aws:calledvia", K_VIA),
        S_KEY("aws:calledviafirst", K_VIA),
        S_KEY("aws:calledvialast", K_VIA),
        S_KEY("aws:viaawsservice", K_VIA),
        S_KEY("sts:externalid", K_EXTERNAL_ID),
        S_KEY("lambda:functionurlauthtype", K_URL_AUTH),
    };
#undef S_KEY
    size_t len = strlen(k);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (table[i].len == len && memcmp(k, table[i].key, len) == 0)
            return table[i].cls;
    /* Identity-provider claims: "token.actions.githubusercontent.com:sub", "saml:aud", ... */
    const char *colon = strrchr(k, ':');
    if (colon && (strncmp(k, "saml:", 5) == 0 || memchr(k, '.', (size_t)(colon - k))))
        return K_CLAIM;
    return K_OTHER;
}

static bool s_has_wild(const char *s) {
    return strchr(s, '*') || strchr(s, '?');
}

/* ---- candidates ---- */

struct s_cand {
    enum tm_iam_reach reach;
    bool wildcard; /* "*": public or any authenticated principal, decided per action */
    bool dead;
    struct tm__iam_strs who, principals, services, networks, conds, ext_ids;
    bool any_resource;
    bool ext_id_required;
    bool claims_restricted;
    bool multi_tenant;
    bool authenticated_only; /* a condition only signed requests satisfy: "*" means any AWS principal */
    bool acl;
    size_t index;    /* statement or ACL grant */
    char *sig_lists; /* the lists' part of its grant signature, kept once made (s_signature); not copied */
};

struct s_cands {
    struct s_cand *v;
    size_t n;
    size_t cap;
};

static void s_cand_free(struct s_cand *c) {
    free(c->sig_lists);
    c->sig_lists = NULL;
    tm__iam_strs_free(&c->who);
    tm__iam_strs_free(&c->principals);
    tm__iam_strs_free(&c->services);
    tm__iam_strs_free(&c->networks);
    tm__iam_strs_free(&c->conds);
    tm__iam_strs_free(&c->ext_ids);
}

static int s_cand_copy(struct s_cand *dst, const struct s_cand *src) {
    *dst = *src;
    dst->sig_lists = NULL;
    memset(&dst->who, 0, sizeof(dst->who));
    memset(&dst->principals, 0, sizeof(dst->principals));
    memset(&dst->services, 0, sizeof(dst->services));
    memset(&dst->networks, 0, sizeof(dst->networks));
    memset(&dst->conds, 0, sizeof(dst->conds));
    memset(&dst->ext_ids, 0, sizeof(dst->ext_ids));
    int rc = tm__iam_strs_copy(&dst->who, &src->who);
    if (!rc)
        rc = tm__iam_strs_copy(&dst->principals, &src->principals);
    if (!rc)
        rc = tm__iam_strs_copy(&dst->services, &src->services);
    if (!rc)
        rc = tm__iam_strs_copy(&dst->networks, &src->networks);
    if (!rc)
        rc = tm__iam_strs_copy(&dst->conds, &src->conds);
    if (!rc)
        rc = tm__iam_strs_copy(&dst->ext_ids, &src->ext_ids);
    return rc;
}

static struct s_cand *s_cands_push(struct s_cands *cs) {
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 4;
        struct s_cand *p = realloc(cs->v, cap * sizeof(*p));
        if (!p)
            return NULL;
        cs->v = p;
        cs->cap = cap;
    }
    struct s_cand *c = &cs->v[cs->n++];
    memset(c, 0, sizeof(*c));
    return c;
}

static void s_cands_free(struct s_cands *cs) {
    for (size_t i = 0; i < cs->n; i++)
        s_cand_free(&cs->v[i]);
    free(cs->v);
    memset(cs, 0, sizeof(*cs));
}

/* A broadness score for unions and sorting. */
static int s_breadth(const struct s_cand *c) {
    if (c->wildcard)
        return 90;
    switch (c->reach) {
        case TM_IAM_REACH_PUBLIC:
            return 90;
        case TM_IAM_REACH_AUTHENTICATED:
            return 80;
        case TM_IAM_REACH_SERVICE:
            return c->any_resource ? 70 : 40;
        case TM_IAM_REACH_EXTERNAL:
            return 60;
        case TM_IAM_REACH_ORGANIZATION:
            return 50;
        case TM_IAM_REACH_FEDERATED:
            return c->claims_restricted ? 35 : 75;
        case TM_IAM_REACH_NETWORK:
            return 30;
        case TM_IAM_REACH_ACCOUNT:
            return 10;
        default:
            return 0;
    }
}

/* ---- the analysis state ---- */

struct s_action {
    char *name;        /* "s3:GetObject" (or a pattern when there is no catalogue) */
    const char *level; /* static or catalogue-owned */
};

struct s_state {
    const struct tm_iam_reach_input *in;
    const char *account; /* may be NULL */
    char account_buf[13];
    const char *service; /* "s3" ... */
    struct tm__iam_acl acl;
    bool have_acl;
    struct s_action *actions;
    size_t n_actions, cap_actions;
    struct s_cands *stmt_cands; /* per statement (Allow only), then per ACL grant */
    size_t n_sources;
    struct tm__iam_strs notes;
    char *err;
    size_t errlen;
};

static const char *s_level_of(struct s_state *st, const char *action) {
    if (!st->in->catalog)
        return "Unknown";
    const char *l = tm_iam_catalog_level_of(st->in->catalog, action);
    return l ? l : "Unknown";
}

static int s_add_action(struct s_state *st, const char *name, const char *level) {
    for (size_t i = 0; i < st->n_actions; i++)
        if (strcasecmp(st->actions[i].name, name) == 0)
            return TM_OK;
    if (st->n_actions == st->cap_actions) {
        size_t cap = st->cap_actions ? st->cap_actions * 2 : 64;
        struct s_action *p = realloc(st->actions, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        st->actions = p;
        st->cap_actions = cap;
    }
    char *d = strdup(name);
    if (!d)
        return TM_ERR_NOMEM;
    st->actions[st->n_actions++] = (struct s_action){.name = d, .level = level};
    return TM_OK;
}

static int s_catalog_visit(const struct tm_iam_action *a, void *user_data) {
    struct s_state *st = user_data;
    char full[256];
    snprintf(full, sizeof(full), "%s:%s", a->service, a->name);
    return s_add_action(st, full, tm_iam_level_name(a->level));
}

static bool s_pattern_for_service(const char *pat, const char *service) {
    if (strcmp(pat, "*") == 0)
        return true;
    size_t n = strlen(service);
    return strncasecmp(pat, service, n) == 0 && pat[n] == ':';
}

/* The actions to classify: the service's actions from the catalogue, plus literal actions the policy
 * names that the catalogue does not know; without the catalogue, the patterns as written. */
static int s_universe(struct s_state *st) {
    const struct tm_iam_policy *pol = st->in->policy;
    bool with_catalog = st->in->catalog && tm_iam_catalog_has_service(st->in->catalog, st->service);
    int rc;
    if (with_catalog) {
        char pat[64];
        snprintf(pat, sizeof(pat), "%s:*", st->service);
        size_t count = 0;
        rc = tm_iam_catalog_expand(&count, st->in->catalog, pat, s_catalog_visit, st);
        if (rc)
            return rc;
    }
    for (size_t i = 0; pol && i < pol->n_stmts; i++) {
        const struct tm__iam_stmt *s = &pol->stmts[i];
        if (s->effect != TM_IAM_ALLOW)
            continue;
        if (s->not_action && !with_catalog) {
            char all[64];
            snprintf(all, sizeof(all), "%s:*", st->service);
            if ((rc = s_add_action(st, all, "Unknown")))
                return rc;
            continue;
        }
        for (size_t k = 0; !s->not_action && k < s->n_actions; k++) {
            const char *a = s->action_texts[k];
            if (!s_pattern_for_service(a, st->service))
                continue;
            if (with_catalog && s_has_wild(a))
                continue;
            char all[64];
            snprintf(all, sizeof(all), "%s:*", st->service);
            if ((rc = s_add_action(st, strcmp(a, "*") == 0 ? all : a, "Unknown")))
                return rc;
        }
    }
    if (st->have_acl) {
        for (size_t g = 0; g < st->acl.n; g++)
            for (const char *const *a = tm__iam_acl_actions(st->acl.grants[g].permission); a && *a; a++)
                if ((rc = s_add_action(st, *a, s_level_of(st, *a))))
                    return rc;
    }
    return TM_OK;
}

/* Does statement s cover action a? With the catalogue a is a real action; without it a may be a
 * pattern, covered when one of the statement's patterns matches its text. */
static bool s_stmt_covers(const struct tm__iam_stmt *s, const char *a) {
    return tm__iam_stmt_action_matches(s, a);
}

/* Does the statement concern this resource? */
static bool s_stmt_about_resource(const struct s_state *st, const struct tm__iam_stmt *s) {
    const char *r = st->in->resource_arn;
    if (!r || !s->has_resource || s->not_resource)
        return true;
    size_t rn = strlen(r);
    for (size_t i = 0; i < s->n_resources; i++) {
        const struct tm__iam_pat *p = &s->resources[i];
        if (p->any || p->has_vars)
            return true;
        if (tm__iam_arn_match(p->enc, r))
            return true;
        /* A pattern for objects or sub-resources of r (objects of a bucket, a path under it). */
        const char *t = p->text;
        if (strncmp(t, r, rn) == 0 && (t[rn] == '/' || t[rn] == ':'))
            return true;
        /* A pattern whose literal prefix r extends ("arn:aws:s3:::buck*"). */
        size_t lit = strcspn(t, "*?");
        if (lit < strlen(t) && strncmp(t, r, lit) == 0)
            return true;
    }
    return false;
}

/* ---- narrowing ---- */

/* The account of an ARN value, or NULL when it has none or it is a wildcard. */
static bool s_arn_account(const char *v, char out[13]) {
    struct tm__iam_arn arn;
    if (!tm__iam_arn_split(v, &arn) || !tm__iam_is_account_id(arn.part[4], arn.len[4]))
        return false;
    memcpy(out, arn.part[4], 12);
    out[12] = '\0';
    return true;
}

static int s_cond_text(struct tm__iam_strs *out, const struct tm__iam_cond *c, bool from_deny) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = tm_buf_appendf(&b, "%s%s %s", from_deny ? "Deny unless " : "", c->op_text, c->key);
    for (size_t i = 0; !rc && i < c->n_values; i++)
        rc = tm_buf_appendf(&b, "%s%s", i ? ", " : " ", c->values[i].text);
    if (!rc)
        rc = tm__iam_strs_add(out, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    return rc;
}

/* Named accounts: ACCOUNT when all are this account, else EXTERNAL. */
static void s_set_accounts_reach(const struct s_state *st, struct s_cand *c) {
    bool external = false;
    for (size_t i = 0; i < c->who.n; i++)
        if (!st->account || strcmp(c->who.v[i], st->account) != 0)
            external = true;
    c->reach = external ? TM_IAM_REACH_EXTERNAL : TM_IAM_REACH_ACCOUNT;
}

static bool s_broad(const struct s_cand *c) {
    return c->wildcard || c->reach == TM_IAM_REACH_ORGANIZATION || c->reach == TM_IAM_REACH_NETWORK;
}

/* Applies "the caller's key is one of values" to c. Returns TM_OK; may mark c dead. like: the values
 * are patterns (StringLike, ArnLike...), so wildcards in them widen the set. */
static int s_narrow(const struct s_state *st, struct s_cand *c, enum s_key key, const char *key_lc,
                    const struct tm__iam_cond *cond, bool like, bool from_deny) {
    int rc = TM_OK;
    size_t nv = cond->n_values;
    /* Whether one value leaves the set wide open. */
    bool open = false;
    switch (key) {
        case K_PRINCIPAL_ACCOUNT:
        case K_PRINCIPAL_ARN:
        case K_USERID: {
            struct tm__iam_strs accounts = {0}, principals = {0};
            for (size_t i = 0; i < nv && !rc; i++) {
                const char *v = cond->values[i].text;
                char acct[13];
                if (key == K_PRINCIPAL_ACCOUNT) {
                    if (like && s_has_wild(v))
                        open = true;
                    else
                        rc = tm__iam_strs_add(&accounts, v);
                } else if (key == K_PRINCIPAL_ARN) {
                    if (strcmp(v, "*") == 0 || !s_arn_account(v, acct))
                        open = open || like || strcmp(v, "*") == 0 || cond->values[i].has_vars;
                    else
                        rc = tm__iam_strs_add(&accounts, acct);
                    if (!rc)
                        rc = tm__iam_strs_add(&principals, v);
                } else {
                    /* aws:userid: "AIDA...", "AROA...:session"; a leading wildcard opens it. */
                    if (like && (v[0] == '*' || v[0] == '?' || strlen(v) < 5))
                        open = true;
                    else if (st->account)
                        rc = tm__iam_strs_add(&accounts, st->account);
                    if (!rc)
                        rc = tm__iam_strs_add(&principals, v);
                }
            }
            if (!rc && open && c->wildcard)
                c->authenticated_only = true; /* anonymous callers have no principal account or ARN */
            if (!rc && !open) {
                if (s_broad(c)) {
                    tm__iam_strs_free(&c->who);
                    c->wildcard = false;
                    rc = tm__iam_strs_copy(&c->who, &accounts);
                    if (!rc && key != K_PRINCIPAL_ACCOUNT)
                        rc = tm__iam_strs_copy(&c->principals, &principals);
                    if (accounts.n == 0 && st->account)
                        rc = rc ? rc : tm__iam_strs_add(&c->who, st->account);
                    s_set_accounts_reach(st, c);
                    if (key == K_USERID && !st->account)
                        c->reach = TM_IAM_REACH_ACCOUNT;
                } else if (c->reach == TM_IAM_REACH_ACCOUNT || c->reach == TM_IAM_REACH_EXTERNAL) {
                    /* Intersect the named accounts. */
                    for (size_t i = 0; key != K_USERID && i < c->who.n;) {
                        if (!tm__iam_strs_has(&accounts, c->who.v[i])) {
                            free(c->who.v[i]);
                            c->who.v[i] = c->who.v[--c->who.n];
                        } else {
                            i++;
                        }
                    }
                    if (c->who.n == 0)
                        c->dead = true;
                    else
                        s_set_accounts_reach(st, c);
                } else {
                    /* Services and federated identities have no principal account or ARN. */
                    c->dead = true;
                }
            }
            tm__iam_strs_free(&accounts);
            tm__iam_strs_free(&principals);
            break;
        }
        case K_ORG_ID:
        case K_ORG_PATHS: {
            struct tm__iam_strs orgs = {0};
            for (size_t i = 0; i < nv && !rc; i++) {
                const char *v = cond->values[i].text;
                /* The organisation id must be fixed: "o-abc..." or "o-abc.../r-.../ou-.../" */
                size_t idlen = strcspn(v, "/");
                if (strncmp(v, "o-", 2) != 0 || (like && memchr(v, '*', idlen)) || (like && memchr(v, '?', idlen)))
                    open = true;
                else
                    rc = tm__iam_strs_add(&orgs, v);
            }
            if (!rc && open && c->wildcard)
                c->authenticated_only = true;
            if (!rc && !open) {
                if (c->wildcard || c->reach == TM_IAM_REACH_NETWORK) {
                    c->wildcard = false;
                    c->reach = TM_IAM_REACH_ORGANIZATION;
                    tm__iam_strs_free(&c->who);
                    rc = tm__iam_strs_copy(&c->who, &orgs);
                } else if (c->reach == TM_IAM_REACH_SERVICE || c->reach == TM_IAM_REACH_FEDERATED) {
                    c->dead = true; /* services and web identities belong to no organisation */
                }
            }
            tm__iam_strs_free(&orgs);
            break;
        }
        case K_SOURCE_ACCOUNT:
        case K_SOURCE_ARN: {
            struct tm__iam_strs src = {0};
            for (size_t i = 0; i < nv && !rc; i++) {
                const char *v = cond->values[i].text;
                if (key == K_SOURCE_ACCOUNT) {
                    if ((like && s_has_wild(v)) || cond->values[i].has_vars)
                        open = true;
                    else
                        rc = tm__iam_strs_add(&src, v);
                    continue;
                }
                /* A source ARN narrows when it fixes the account, or names one S3 bucket (bucket names
                 * are global); a wildcard account lets anyone's resource qualify. ArnEquals takes
                 * wildcards like ArnLike. */
                struct tm__iam_arn arn;
                bool arn_like = like || cond->op == TM__IAM_OP_ARN_LIKE;
                bool fixed = false;
                if (!cond->values[i].has_vars && tm__iam_arn_split(v, &arn)) {
                    if (tm__iam_is_account_id(arn.part[4], arn.len[4]))
                        fixed = true;
                    else if (arn.len[4] == 0 && arn.len[2] == 2 && memcmp(arn.part[2], "s3", 2) == 0 &&
                             arn.len[5] > 0 && !(arn_like && s_has_wild(arn.part[5])))
                        fixed = true;
                }
                if (!fixed)
                    open = true;
                else
                    rc = tm__iam_strs_add(&src, v);
            }
            if (!rc && open && (s_broad(c) || c->reach == TM_IAM_REACH_ACCOUNT || c->reach == TM_IAM_REACH_EXTERNAL)) {
                /* The key is present only when a service acts for a resource, but any account's resource
                 * qualifies: a confused deputy away. */
                c->wildcard = false;
                c->reach = TM_IAM_REACH_SERVICE;
                c->any_resource = true;
                tm__iam_strs_free(&c->who);
                rc = s_cond_text(&c->conds, cond, from_deny);
            }
            if (!rc && !open) {
                if (s_broad(c) || c->reach == TM_IAM_REACH_SERVICE || c->reach == TM_IAM_REACH_ACCOUNT ||
                    c->reach == TM_IAM_REACH_EXTERNAL) {
                    /* Only an AWS service acting for a resource carries these keys. */
                    bool was_service = c->reach == TM_IAM_REACH_SERVICE && !c->wildcard;
                    c->wildcard = false;
                    c->reach = TM_IAM_REACH_SERVICE;
                    if (!was_service || c->any_resource)
                        tm__iam_strs_free(&c->who);
                    c->any_resource = false;
                    rc = tm__iam_strs_copy(&c->who, &src);
                } else {
                    c->dead = true;
                }
            }
            tm__iam_strs_free(&src);
            break;
        }
        case K_VPC: {
            for (size_t i = 0; i < nv; i++)
                if ((like && s_has_wild(cond->values[i].text)) || cond->values[i].has_vars)
                    open = true;
            if (!open && s_broad(c)) {
                c->wildcard = false;
                c->reach = TM_IAM_REACH_NETWORK;
                tm__iam_strs_free(&c->who);
                for (size_t i = 0; i < nv && !rc; i++)
                    rc = tm__iam_strs_add(&c->who, cond->values[i].text);
            }
            break;
        }
        case K_IP: {
            if (cond->op != TM__IAM_OP_IP_ADDRESS)
                return TM_OK;
            for (size_t i = 0; i < nv; i++)
                if (cond->values[i].ip.prefix == 0)
                    open = true;
            if (!open) {
                /* Several IP conditions all hold: keep the later list, which callers must also match. */
                tm__iam_strs_free(&c->networks);
                for (size_t i = 0; i < nv && !rc; i++)
                    rc = tm__iam_strs_add(&c->networks, cond->values[i].text);
            }
            break;
        }
        case K_IS_SERVICE: {
            bool want_true = false;
            for (size_t i = 0; i < nv; i++)
                if (tm_str_ieq(cond->values[i].text, "true"))
                    want_true = true;
            if (!want_true)
                return TM_OK;
            if (s_broad(c)) {
                c->wildcard = false;
                c->reach = TM_IAM_REACH_SERVICE;
                c->any_resource = true;
                tm__iam_strs_free(&c->who);
            } else if (c->reach != TM_IAM_REACH_SERVICE) {
                c->dead = true;
            }
            break;
        }
        case K_SERVICE_NAME: {
            for (size_t i = 0; i < nv; i++)
                if (like && s_has_wild(cond->values[i].text))
                    open = true;
            if (open)
                break;
            if (s_broad(c)) {
                c->wildcard = false;
                c->reach = TM_IAM_REACH_SERVICE;
                c->any_resource = true;
                tm__iam_strs_free(&c->who);
                for (size_t i = 0; i < nv && !rc; i++)
                    rc = tm__iam_strs_add(&c->services, cond->values[i].text);
            } else if (c->reach != TM_IAM_REACH_SERVICE) {
                c->dead = true;
            }
            break;
        }
        case K_EXTERNAL_ID:
            if (from_deny)
                break;
            c->ext_id_required = true;
            for (size_t i = 0; i < nv && !rc; i++)
                rc = tm__iam_strs_add(&c->ext_ids, cond->values[i].text);
            break;
        case K_CLAIM: {
            if (c->reach != TM_IAM_REACH_FEDERATED || c->wildcard)
                break;
            /* The claim that names the identity: sub (aud for Cognito identity pools; id/user_id for
             * Facebook/Amazon). A value with nothing fixed before its first wildcard pins nothing. */
            const char *claim = strrchr(key_lc, ':') + 1;
            bool cognito = strncmp(key_lc, "cognito-identity.amazonaws.com:", 31) == 0;
            bool pinning =
                cognito ? strcmp(claim, "aud") == 0
                        : (strcmp(claim, "sub") == 0 || strcmp(claim, "id") == 0 || strcmp(claim, "user_id") == 0);
            if (!pinning)
                break;
            bool all_fixed = true;
            for (size_t i = 0; i < nv; i++) {
                const char *v = cond->values[i].text;
                static const char *const generic[] = {
                    "repo:", "system:serviceaccount:", "project_path:", "organization:"};
                for (size_t g = 0; g < sizeof(generic) / sizeof(generic[0]); g++)
                    if (strncmp(v, generic[g], strlen(generic[g])) == 0)
                        v += strlen(generic[g]);
                if (!*v || (like && (v[0] == '*' || v[0] == '?')))
                    all_fixed = false;
            }
            if (all_fixed)
                c->claims_restricted = true;
            break;
        }
        case K_VIA:
        case K_OTHER:
        case K_URL_AUTH:
        default:
            break;
    }
    if (!rc && !open && key != K_OTHER && key != K_URL_AUTH)
        rc = s_cond_text(&c->conds, cond, from_deny);
    return rc;
}

static bool s_like(const struct tm__iam_cond *c) {
    return c->op == TM__IAM_OP_STRING_LIKE || c->op == TM__IAM_OP_ARN_LIKE;
}

/* Is this Allow-statement condition a restriction on who the caller is? */
static bool s_allow_restricts(const struct tm__iam_cond *c, enum s_key key) {
    if (c->negated || c->op == TM__IAM_OP_NULL)
        return false;
    /* IfExists lets callers without the key through (every direct caller, for aws:Source*). */
    if (c->if_exists)
        return false;
    /* ForAllValues is true when the key is missing, except for identity claims that every token has. */
    if (c->set_op == TM_IAM_FOR_ALL_VALUES && key != K_CLAIM)
        return false;
    return true;
}

/* Is this Deny-statement condition "deny unless the caller's key is one of ..."? */
static bool s_deny_restricts(const struct tm__iam_cond *c, enum s_key key) {
    if (!c->negated || c->op == TM__IAM_OP_NULL)
        return false;
    /* ForAnyValue over a negated operator is false when the key is missing: those callers escape. */
    if (c->set_op == TM_IAM_FOR_ANY_VALUE && key != K_CLAIM)
        return false;
    return true;
}

/* Evaluates a condition on lambda:FunctionUrlAuthType against the function's configuration. */
static bool s_url_fact(const struct s_state *st, const struct tm__iam_cond *c) {
    if (!st->in->lambda_url_auth_type)
        return true;
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    bool r = tm_iam_context_set(&ctx, "lambda:FunctionUrlAuthType", st->in->lambda_url_auth_type) == TM_OK &&
             tm__iam_cond_eval(c, &ctx, NULL);
    tm_iam_context_clean_up(&ctx);
    return r;
}

/* ---- candidates of one Allow statement ---- */

static const char *const s_multi_tenant[] = {"token.actions.githubusercontent.com",
                                             "gitlab.com",
                                             "accounts.google.com",
                                             "cognito-identity.amazonaws.com",
                                             "graph.facebook.com",
                                             "www.amazon.com",
                                             "app.terraform.io"};

static int s_federated_cand(struct s_cand *c, const char *provider) {
    c->reach = TM_IAM_REACH_FEDERATED;
    const char *host = provider;
    const char *p = strstr(provider, ":oidc-provider/");
    if (p)
        host = p + strlen(":oidc-provider/");
    if (strstr(provider, ":saml-provider/"))
        c->claims_restricted = true; /* the account's own SAML identity provider */
    for (size_t i = 0; i < sizeof(s_multi_tenant) / sizeof(s_multi_tenant[0]); i++)
        if (strcmp(host, s_multi_tenant[i]) == 0)
            c->multi_tenant = true;
    return tm__iam_strs_add(&c->who, provider);
}

static int s_stmt_candidates(struct s_state *st, const struct tm__iam_stmt *s, struct s_cands *out) {
    int rc = TM_OK;
    /* Conditions on the Lambda URL auth type are facts of the function, not of the caller. */
    for (size_t i = 0; i < s->n_conds; i++)
        if (s_classify_key(s->conds[i].key_lc) == K_URL_AUTH && !s_url_fact(st, &s->conds[i]))
            return TM_OK;
    if (s->principal_mode == TM_IAM_PRINCIPAL_NOT || s->principal_mode == TM_IAM_PRINCIPAL_NONE) {
        /* Allow with NotPrincipal grants everyone except those listed. */
        struct s_cand *c = s_cands_push(out);
        if (!c)
            return TM_ERR_NOMEM;
        c->wildcard = true;
        c->reach = TM_IAM_REACH_PUBLIC;
        c->index = s->index;
        if (s->principal_mode == TM_IAM_PRINCIPAL_NOT)
            rc = tm__iam_strs_add(&c->conds, "NotPrincipal: everyone except the principals listed");
    }
    for (size_t i = 0; !rc && s->principal_mode == TM_IAM_PRINCIPAL_LIST && i < s->n_principals; i++) {
        const struct tm__iam_principal *p = &s->principals[i];
        if (p->type == TM_IAM_PTYPE_AWS && p->aws_kind == TM_IAM_AWS_UNIQUE_ID) {
            char note[256];
            snprintf(note, sizeof(note), "statement %zu names %s, a principal deleted since: it grants nothing",
                     (size_t)s->index, p->value);
            rc = tm__iam_strs_add(&st->notes, note);
            continue;
        }
        struct s_cand *c = s_cands_push(out);
        if (!c)
            return TM_ERR_NOMEM;
        c->index = s->index;
        switch (p->type) {
            case TM_IAM_PTYPE_ANY:
                c->wildcard = true;
                c->reach = TM_IAM_REACH_PUBLIC;
                break;
            case TM_IAM_PTYPE_AWS:
                rc = tm__iam_strs_add(&c->who, p->account);
                if (!rc && p->aws_kind != TM_IAM_AWS_ACCOUNT)
                    rc = tm__iam_strs_add(&c->principals, p->value);
                s_set_accounts_reach(st, c);
                break;
            case TM_IAM_PTYPE_SERVICE:
                c->reach = TM_IAM_REACH_SERVICE;
                rc = tm__iam_strs_add(&c->services, p->value);
                /* A role's trust in a service is used for the resources it is given the role by, in this
                 * account; elsewhere a service acts for whatever resource invokes it. */
                c->any_resource = st->in->type != TM_IAM_RES_TRUST;
                break;
            case TM_IAM_PTYPE_FEDERATED:
                rc = s_federated_cand(c, p->value);
                break;
            case TM_IAM_PTYPE_CANONICAL:
                rc = tm__iam_strs_add(&c->who, p->value);
                c->reach = st->have_acl && st->acl.owner_id && strcmp(st->acl.owner_id, p->value) == 0
                               ? TM_IAM_REACH_ACCOUNT
                               : TM_IAM_REACH_EXTERNAL;
                break;
            default:
                c->dead = true;
                break;
        }
    }
    if (rc)
        return rc;
    /* Narrow by the statement's own conditions, the narrowest kinds first. */
    static const enum s_key order[] = {K_PRINCIPAL_ACCOUNT,
                                       K_PRINCIPAL_ARN,
                                       K_USERID,
                                       K_SOURCE_ACCOUNT,
                                       K_SOURCE_ARN,
                                       K_SERVICE_NAME,
                                       K_IS_SERVICE,
                                       K_VPC,
                                       K_ORG_ID,
                                       K_ORG_PATHS,
                                       K_IP,
                                       K_EXTERNAL_ID,
                                       K_CLAIM,
                                       K_VIA};
    for (size_t ci = 0; ci < out->n && !rc; ci++) {
        struct s_cand *c = &out->v[ci];
        for (size_t o = 0; o < sizeof(order) / sizeof(order[0]) && !rc && !c->dead; o++) {
            for (size_t k = 0; k < s->n_conds && !rc && !c->dead; k++) {
                const struct tm__iam_cond *cond = &s->conds[k];
                enum s_key key = s_classify_key(cond->key_lc);
                if (key != order[o])
                    continue;
                if (key == K_VIA) {
                    rc = s_cond_text(&c->conds, cond, false);
                    continue;
                }
                if (!s_allow_restricts(cond, key))
                    continue;
                rc = s_narrow(st, c, key, cond->key_lc, cond, s_like(cond), false);
            }
        }
        /* A web identity provider serving everyone, with no claim pinning the identity: anyone with an
         * account there (any GitHub repository, any Google user...). */
        if (!rc && c->reach == TM_IAM_REACH_FEDERATED && c->multi_tenant && !c->claims_restricted) {
            char cond[512];
            snprintf(cond, sizeof(cond), "no condition pins the identity from %s (e.g. its sub claim)", c->who.v[0]);
            rc = tm__iam_strs_add(&c->conds, cond);
            c->reach = TM_IAM_REACH_PUBLIC;
        }
    }
    return rc;
}

/* ---- Deny statements ---- */

/* May Deny statement d apply to the resource the Allow statement a grants? */
static bool s_deny_overlaps(const struct tm__iam_stmt *d, const struct tm__iam_stmt *a) {
    if (!d->has_resource || !a || !a->has_resource || d->not_resource || a->not_resource)
        return true;
    for (size_t i = 0; i < d->n_resources; i++) {
        const struct tm__iam_pat *dp = &d->resources[i];
        if (dp->any || dp->has_vars)
            return true;
        for (size_t k = 0; k < a->n_resources; k++) {
            const struct tm__iam_pat *ap = &a->resources[k];
            if (ap->any || ap->has_vars)
                return true;
            if (tm__iam_arn_match(dp->enc, ap->text) || tm__iam_arn_match(ap->enc, dp->text))
                return true;
        }
    }
    return false;
}

/* Does the Deny's Principal element name the candidate (all of its accounts)? */
static bool s_deny_names(const struct tm__iam_stmt *d, const struct s_cand *c, bool *partial) {
    *partial = false;
    for (size_t i = 0; i < d->n_principals; i++)
        if (d->principals[i].type == TM_IAM_PTYPE_ANY)
            return true;
    if (c->wildcard)
        return false;
    if (c->reach == TM_IAM_REACH_SERVICE) {
        for (size_t i = 0; i < d->n_principals; i++)
            for (size_t k = 0; k < c->services.n; k++)
                if (d->principals[i].type == TM_IAM_PTYPE_SERVICE &&
                    tm_str_ieq(d->principals[i].value, c->services.v[k]))
                    return true;
        return false;
    }
    size_t named = 0;
    for (size_t k = 0; k < c->who.n; k++) {
        bool hit = false;
        for (size_t i = 0; i < d->n_principals && !hit; i++) {
            const struct tm__iam_principal *p = &d->principals[i];
            hit = (p->type == TM_IAM_PTYPE_AWS && p->aws_kind == TM_IAM_AWS_ACCOUNT &&
                   strcmp(p->account, c->who.v[k]) == 0) ||
                  ((p->type == TM_IAM_PTYPE_FEDERATED || p->type == TM_IAM_PTYPE_CANONICAL) &&
                   strcmp(p->value, c->who.v[k]) == 0);
        }
        named += hit;
    }
    *partial = named > 0 && named < c->who.n;
    return c->who.n > 0 && named == c->who.n;
}

/* Applies Deny statement d to the candidates (already filtered to those it may reach). */
static int s_apply_deny(struct s_state *st, const struct tm__iam_stmt *d, struct s_cand *c) {
    int rc = TM_OK;
    /* Conditions on facts of the function, then the kinds of conditions. */
    bool spares_services = false;
    size_t n_restrict = 0, n_other = 0;
    for (size_t i = 0; i < d->n_conds; i++) {
        const struct tm__iam_cond *cond = &d->conds[i];
        enum s_key key = s_classify_key(cond->key_lc);
        if (key == K_URL_AUTH) {
            if (!s_url_fact(st, cond))
                return TM_OK; /* never applies to this function */
            continue;
        }
        if (key == K_IS_SERVICE && cond->op == TM__IAM_OP_BOOL && !cond->negated && cond->n_values == 1 &&
            tm_str_ieq(cond->values[0].text, "false")) {
            spares_services = true; /* "deny callers that are not AWS services" */
            continue;
        }
        if (key == K_VIA && s_deny_restricts(cond, key))
            continue; /* "deny unless through service X": narrows how, recorded below */
        if (key != K_OTHER && key != K_VIA && key != K_EXTERNAL_ID && s_deny_restricts(cond, key))
            n_restrict++;
        else
            n_other++;
    }
    if (spares_services && c->reach == TM_IAM_REACH_SERVICE && !c->wildcard)
        return TM_OK;
    /* A condition the caller controls (or a positive match on who they are) lets the caller step
     * around the Deny: it narrows nothing. */
    if (n_other)
        return TM_OK;
    if (d->principal_mode == TM_IAM_PRINCIPAL_NOT) {
        if (d->n_conds)
            return TM_OK;
        /* Everyone except those listed is denied: keep only what the list names. */
        for (size_t i = 0; i < d->n_principals; i++)
            if (d->principals[i].type == TM_IAM_PTYPE_ANY)
                return TM_OK;
        struct tm__iam_strs accounts = {0};
        for (size_t i = 0; i < d->n_principals && !rc; i++)
            if (d->principals[i].account)
                rc = tm__iam_strs_add(&accounts, d->principals[i].account);
        if (!rc) {
            if (c->wildcard || c->reach == TM_IAM_REACH_ORGANIZATION || c->reach == TM_IAM_REACH_NETWORK) {
                c->wildcard = false;
                tm__iam_strs_free(&c->who);
                rc = tm__iam_strs_copy(&c->who, &accounts);
                for (size_t i = 0; i < d->n_principals && !rc; i++)
                    if (d->principals[i].type == TM_IAM_PTYPE_AWS && d->principals[i].aws_kind != TM_IAM_AWS_ACCOUNT)
                        rc = tm__iam_strs_add(&c->principals, d->principals[i].value);
                if (c->who.n)
                    s_set_accounts_reach(st, c);
                else
                    c->dead = true;
            } else if (c->reach == TM_IAM_REACH_ACCOUNT || c->reach == TM_IAM_REACH_EXTERNAL) {
                for (size_t i = 0; i < c->who.n;) {
                    if (!tm__iam_strs_has(&accounts, c->who.v[i])) {
                        free(c->who.v[i]);
                        c->who.v[i] = c->who.v[--c->who.n];
                    } else {
                        i++;
                    }
                }
                if (c->who.n == 0)
                    c->dead = true;
                else
                    s_set_accounts_reach(st, c);
            } else {
                bool named = false;
                for (size_t i = 0; i < d->n_principals; i++)
                    for (size_t k = 0; k < c->services.n; k++)
                        named = named || tm_str_ieq(d->principals[i].value, c->services.v[k]);
                for (size_t i = 0; i < d->n_principals && c->reach == TM_IAM_REACH_FEDERATED; i++)
                    named = named || strcmp(d->principals[i].value, c->who.v[0]) == 0;
                if (!named)
                    c->dead = true;
            }
            if (!rc && !c->dead)
                rc = tm__iam_strs_add(&c->conds, "Deny with NotPrincipal: only the principals it lists");
        }
        tm__iam_strs_free(&accounts);
        return rc;
    }
    bool partial = false;
    bool all = s_deny_names(d, c, &partial);
    if (!all) {
        /* Named principals in the Deny: drop the accounts it names from the candidate. */
        if (partial && d->n_conds == 0) {
            for (size_t k = 0; k < c->who.n;) {
                bool hit = false;
                for (size_t i = 0; i < d->n_principals && !hit; i++)
                    hit = d->principals[i].account && strcmp(d->principals[i].account, c->who.v[k]) == 0 &&
                          d->principals[i].aws_kind == TM_IAM_AWS_ACCOUNT;
                if (hit) {
                    free(c->who.v[k]);
                    c->who.v[k] = c->who.v[--c->who.n];
                } else {
                    k++;
                }
            }
            s_set_accounts_reach(st, c);
        } else if (c->wildcard && d->n_conds == 0) {
            for (size_t i = 0; i < d->n_principals && !rc; i++) {
                char t[512];
                snprintf(t, sizeof(t), "except %s (Deny)", d->principals[i].value);
                rc = tm__iam_strs_add(&c->conds, t);
            }
        }
        return rc;
    }
    for (size_t i = 0; i < d->n_conds && !rc; i++)
        if (s_classify_key(d->conds[i].key_lc) == K_VIA && s_deny_restricts(&d->conds[i], K_VIA))
            rc = s_cond_text(&c->conds, &d->conds[i], true);
    if (rc)
        return rc;
    size_t n_via = 0;
    for (size_t i = 0; i < d->n_conds; i++)
        n_via += s_classify_key(d->conds[i].key_lc) == K_VIA;
    if (n_restrict == 0) {
        /* An unconditional Deny for everyone the grant reaches, unless only "through a service". */
        if (n_via == 0)
            c->dead = true;
        return TM_OK;
    }
    /* "Deny unless K1 in V1 and unless K2 in V2": a caller passes by satisfying any one of them, so the
     * candidate becomes the broadest of the alternatives. */
    struct s_cand best;
    bool have = false;
    for (size_t i = 0; i < d->n_conds && !rc; i++) {
        const struct tm__iam_cond *cond = &d->conds[i];
        enum s_key key = s_classify_key(cond->key_lc);
        if (key == K_OTHER || key == K_VIA || key == K_URL_AUTH || key == K_EXTERNAL_ID ||
            (key == K_IS_SERVICE && !cond->negated) || !s_deny_restricts(cond, key))
            continue;
        struct s_cand alt;
        rc = s_cand_copy(&alt, c);
        if (!rc)
            rc = s_narrow(st, &alt, key, cond->key_lc, cond, s_like(cond), true);
        if (rc) {
            s_cand_free(&alt);
            break;
        }
        if (!have || (!alt.dead && (best.dead || s_breadth(&alt) > s_breadth(&best)))) {
            if (have)
                s_cand_free(&best);
            best = alt;
            have = true;
        } else {
            s_cand_free(&alt);
        }
    }
    if (!rc && have) {
        s_cand_free(c);
        *c = best;
    } else if (have) {
        s_cand_free(&best);
    }
    return rc;
}

/* ---- grants ---- */

struct s_grant {
    struct s_cand cand; /* reach decided, lists sorted */
    char *sig;
    struct tm__iam_strs actions;
    size_t *evidence; /* encoded: index*2 + acl */
    size_t n_ev, cap_ev;
};

struct s_level {
    const char *level;
    struct s_grant *grants;
    size_t n, cap;
};

static const char *const s_level_order[] = {"Permissions management", "Write", "Tagging", "Read", "List", "Unknown"};

static bool s_anonymous_ok(const struct s_state *st, const char *action) {
    switch (st->in->type) {
        case TM_IAM_RES_S3:
        case TM_IAM_RES_SQS:
        case TM_IAM_RES_APIGATEWAY:
            return true;
        case TM_IAM_RES_LAMBDA:
            return strcasecmp(action, "lambda:InvokeFunctionUrl") == 0 && st->in->lambda_url_auth_type &&
                   strcmp(st->in->lambda_url_auth_type, "NONE") == 0;
        default:
            return false;
    }
}

/* What s_add_grant needs between calls of one analysis: the signature being built and room for a sorted view
 * of a candidate's lists. A grant is looked up by its signature before anything is copied: most actions join a
 * grant made by an earlier action, and then the candidate is never copied at all. */
struct s_sig_scratch {
    struct tm_buf sig;
    const char **sorted;
    size_t cap;
};

static int s_cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The list's strings in byte order (as tm__iam_strs_sort orders a copy), each followed by 0x1f, then 0x1e. */
static int s_join(struct s_sig_scratch *s, const struct tm__iam_strs *l) {
    if (l->n > s->cap) {
        size_t cap = l->n < 16 ? 16 : l->n;
        const char **p = realloc(s->sorted, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        s->sorted = p;
        s->cap = cap;
    }
    for (size_t i = 0; i < l->n; i++)
        s->sorted[i] = l->v[i];
    if (l->n > 1)
        qsort(s->sorted, l->n, sizeof(*s->sorted), s_cmp_str_ptr);
    int rc = TM_OK;
    for (size_t i = 0; i < l->n && !rc; i++)
        if (!(rc = tm_buf_append_str(&s->sig, s->sorted[i])))
            rc = tm_buf_append_char(&s->sig, '\x1f');
    return rc ? rc : tm_buf_append_char(&s->sig, '\x1e');
}

/* Writes "N|" with N in decimal at *p: the signature's numbers are small and many, not worth a printf each. */
static char *s_sig_number(char *p, unsigned v) {
    char d[12];
    size_t n = 0;
    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = d[--n];
    *p++ = '|';
    return p;
}

/* The candidate's signature (its lists sorted) in s->sig: equal signatures, equal grants. The lists' part is
 * made once per candidate: a candidate's lists are final once it is added, while its reach may still differ
 * from one action to the next. */
static int s_signature(struct s_sig_scratch *s, struct s_cand *c) {
    int rc = TM_OK;
    if (!c->sig_lists) {
        tm_buf_reset(&s->sig);
        if (!rc)
            rc = s_join(s, &c->who);
        if (!rc)
            rc = s_join(s, &c->principals);
        if (!rc)
            rc = s_join(s, &c->services);
        if (!rc)
            rc = s_join(s, &c->networks);
        if (!rc)
            rc = s_join(s, &c->conds);
        if (!rc)
            rc = s_join(s, &c->ext_ids);
        if (rc)
            return rc;
        if (!(c->sig_lists = strdup(tm_buf_str(&s->sig))))
            return TM_ERR_NOMEM;
    }
    tm_buf_reset(&s->sig);
    assert((int)c->reach >= 0);
    char head[5 * 12], *p = head;
    p = s_sig_number(p, (unsigned)c->reach);
    p = s_sig_number(p, c->any_resource);
    p = s_sig_number(p, c->ext_id_required);
    p = s_sig_number(p, c->claims_restricted);
    p = s_sig_number(p, c->multi_tenant);
    rc = tm_buf_append(&s->sig, head, (size_t)(p - head));
    return rc ? rc : tm_buf_append_str(&s->sig, c->sig_lists);
}

static int s_add_grant(struct s_level *lv, struct s_sig_scratch *scratch, struct s_cand *src, const char *action) {
    int rc = s_signature(scratch, src);
    if (rc)
        return rc;
    const char *sig = tm_buf_str(&scratch->sig);
    struct s_grant *g = NULL;
    for (size_t i = 0; i < lv->n && !g; i++)
        if (strcmp(lv->grants[i].sig, sig) == 0)
            g = &lv->grants[i];
    if (!g) {
        if (lv->n == lv->cap) {
            size_t cap = lv->cap ? lv->cap * 2 : 4;
            struct s_grant *p = realloc(lv->grants, cap * sizeof(*p));
            if (!p)
                return TM_ERR_NOMEM;
            lv->grants = p;
            lv->cap = cap;
        }
        struct s_cand c;
        char *copy = NULL;
        if ((rc = s_cand_copy(&c, src)) || !(copy = strdup(sig))) {
            s_cand_free(&c);
            return rc ? rc : TM_ERR_NOMEM;
        }
        tm__iam_strs_sort(&c.who);
        tm__iam_strs_sort(&c.principals);
        tm__iam_strs_sort(&c.services);
        tm__iam_strs_sort(&c.networks);
        tm__iam_strs_sort(&c.conds);
        tm__iam_strs_sort(&c.ext_ids);
        g = &lv->grants[lv->n++];
        memset(g, 0, sizeof(*g));
        g->cand = c;
        g->sig = copy;
    }
    if ((rc = tm__iam_strs_add(&g->actions, action)))
        return rc;
    size_t ev = src->index * 2 + (src->acl ? 1 : 0);
    for (size_t i = 0; i < g->n_ev; i++)
        if (g->evidence[i] == ev)
            return TM_OK;
    if (g->n_ev == g->cap_ev) {
        size_t cap = g->cap_ev ? g->cap_ev * 2 : 4;
        size_t *p = realloc(g->evidence, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        g->evidence = p;
        g->cap_ev = cap;
    }
    g->evidence[g->n_ev++] = ev;
    return TM_OK;
}

/* ---- the result ---- */

struct tm_iam_reach_impl {
    struct tm__iam_arena arena;
};

static const char *const *s_arena_list(struct tm__iam_arena *a, const struct tm__iam_strs *s, size_t *n) {
    *n = s->n;
    const char **v = tm__iam_arena_alloc(a, (s->n ? s->n : 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (!(v[i] = tm__iam_arena_strdup(a, s->v[i])))
            return NULL;
    return v;
}

static bool s_cross_account(const struct s_state *st, const struct s_cand *c) {
    switch (c->reach) {
        case TM_IAM_REACH_PUBLIC:
        case TM_IAM_REACH_AUTHENTICATED:
        case TM_IAM_REACH_EXTERNAL:
            return true;
        case TM_IAM_REACH_SERVICE:
            if (c->any_resource)
                return true;
            for (size_t i = 0; i < c->who.n; i++) {
                char acct[13];
                const char *a = NULL;
                if (tm__iam_is_account_id(c->who.v[i], strlen(c->who.v[i])))
                    a = c->who.v[i];
                else if (s_arn_account(c->who.v[i], acct))
                    a = acct;
                if (a && st->account && strcmp(a, st->account) != 0)
                    return true;
            }
            return false;
        default:
            return false;
    }
}

/* Evidence codes are index*2 + acl: statements first, then ACL grants, each by index. */
static int s_cmp_evidence(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (x % 2 != y % 2)
        return (int)(x % 2) - (int)(y % 2);
    return x < y ? -1 : x > y;
}

static int s_cmp_grant(const void *a, const void *b) {
    const struct s_grant *x = a, *y = b;
    int bx = s_breadth(&x->cand), by = s_breadth(&y->cand);
    if (bx != by)
        return by - bx;
    return strcmp(x->sig, y->sig);
}

static int s_build_result(struct s_state *st, struct s_level *levels, size_t n_levels,
                          struct tm_iam_reach_result **out) {
    struct tm_iam_reach_result *r = calloc(1, sizeof(*r));
    struct tm_iam_reach_impl *impl = calloc(1, sizeof(*impl));
    if (!r || !impl) {
        free(r);
        free(impl);
        return TM_ERR_NOMEM;
    }
    tm__iam_arena_init(&impl->arena);
    r->impl = impl;
    struct tm__iam_arena *a = &impl->arena;
    r->type = st->in->type;
    r->account = st->account ? tm__iam_arena_strdup(a, st->account) : NULL;
    struct tm_iam_reach_group *groups = tm__iam_arena_alloc(a, n_levels * sizeof(*groups));
    if (!groups)
        goto nomem;
    const struct tm_iam_policy *pol = st->in->policy;
    for (size_t l = 0; l < n_levels; l++) {
        struct s_level *lv = &levels[l];
        if (lv->n == 0)
            continue;
        qsort(lv->grants, lv->n, sizeof(*lv->grants), s_cmp_grant);
        struct tm_iam_reach_group *g = &groups[r->n_groups++];
        g->level = lv->level;
        struct tm_iam_grant *grants = tm__iam_arena_alloc(a, lv->n * sizeof(*grants));
        if (!grants)
            goto nomem;
        g->grants = grants;
        g->n_grants = lv->n;
        for (size_t i = 0; i < lv->n; i++) {
            struct s_grant *sg = &lv->grants[i];
            struct s_cand *c = &sg->cand;
            struct tm_iam_grant *o = &grants[i];
            o->reach = c->reach;
            o->any_resource = c->any_resource;
            o->external_id_required = c->ext_id_required;
            o->claims_restricted = c->claims_restricted;
            o->cross_account = s_cross_account(st, c);
            tm__iam_strs_sort(&sg->actions);
            if (!(o->who = s_arena_list(a, &c->who, &o->n_who)) ||
                !(o->principals = s_arena_list(a, &c->principals, &o->n_principals)) ||
                !(o->services = s_arena_list(a, &c->services, &o->n_services)) ||
                !(o->networks = s_arena_list(a, &c->networks, &o->n_networks)) ||
                !(o->conditions = s_arena_list(a, &c->conds, &o->n_conditions)) ||
                !(o->external_ids = s_arena_list(a, &c->ext_ids, &o->n_external_ids)) ||
                !(o->actions = s_arena_list(a, &sg->actions, &o->n_actions)))
                goto nomem;
            /* Evidence in order: statements, then ACL grants. */
            qsort(sg->evidence, sg->n_ev, sizeof(*sg->evidence), s_cmp_evidence);
            struct tm_iam_evidence *ev = tm__iam_arena_alloc(a, (sg->n_ev ? sg->n_ev : 1) * sizeof(*ev));
            if (!ev)
                goto nomem;
            for (size_t k = 0; k < sg->n_ev; k++) {
                ev[k].acl = sg->evidence[k] % 2;
                ev[k].index = sg->evidence[k] / 2;
                if (ev[k].acl) {
                    ev[k].json = tm__iam_arena_strdup(a, st->acl.grants[ev[k].index].json);
                } else {
                    /* Copied: the result outlives the policy it was computed from. */
                    const struct tm__iam_stmt *stmt = &pol->stmts[ev[k].index];
                    ev[k].sid = stmt->sid ? tm__iam_arena_strdup(a, stmt->sid) : NULL;
                    ev[k].json = tm__iam_arena_strdup(a, stmt->json);
                    if ((stmt->sid && !ev[k].sid))
                        goto nomem;
                }
                if (!ev[k].json)
                    goto nomem;
            }
            o->evidence = ev;
            o->n_evidence = sg->n_ev;
            r->reachable = true;
            if (!r->widest || o->reach > r->widest)
                r->widest = o->reach;
            if (o->cross_account)
                r->cross_account = true;
        }
    }
    r->groups = groups;
    tm__iam_strs_sort(&st->notes);
    if (!(r->notes = s_arena_list(a, &st->notes, &r->n_notes)))
        goto nomem;
    *out = r;
    return TM_OK;
nomem:
    tm_iam_reach_result_destroy(r);
    return TM_ERR_NOMEM;
}

void tm_iam_reach_result_destroy(struct tm_iam_reach_result *r) {
    if (!r)
        return;
    if (r->impl) {
        tm__iam_arena_clean_up(&r->impl->arena);
        free(r->impl);
    }
    free(r);
}

/* ---- the analysis ---- */

static void s_infer_account(struct s_state *st) {
    if (st->in->account) {
        st->account = st->in->account;
        return;
    }
    const char *found = NULL;
    const struct tm_iam_policy *pol = st->in->policy;
    for (size_t i = 0; pol && i < pol->n_stmts; i++) {
        for (size_t k = 0; k < pol->stmts[i].n_resources; k++) {
            char acct[13];
            if (!s_arn_account(pol->stmts[i].resource_texts[k], acct))
                continue;
            if (found && strcmp(found, acct) != 0)
                return; /* several accounts: do not guess */
            memcpy(st->account_buf, acct, 13);
            found = st->account_buf;
        }
    }
    if (!found && st->in->resource_arn && s_arn_account(st->in->resource_arn, st->account_buf))
        found = st->account_buf;
    st->account = found;
}

/* Coverage of one action: which Allow sources and Deny statements apply. */
static int s_coverage_key(struct s_state *st, const char *action, struct tm_buf *key) {
    const struct tm_iam_policy *pol = st->in->policy;
    int rc = TM_OK;
    for (size_t i = 0; pol && i < pol->n_stmts && !rc; i++) {
        const struct tm__iam_stmt *s = &pol->stmts[i];
        char c = '0';
        if (s_stmt_about_resource(st, s) && s_stmt_covers(s, action))
            c = s->effect == TM_IAM_ALLOW ? 'A' : 'D';
        rc = tm_buf_append_char(key, c);
    }
    for (size_t g = 0; st->have_acl && g < st->acl.n && !rc; g++) {
        bool hit = false;
        for (const char *const *a = tm__iam_acl_actions(st->acl.grants[g].permission); a && *a && !hit; a++)
            hit = strcasecmp(*a, action) == 0;
        rc = tm_buf_append_char(key, hit ? 'A' : '0');
    }
    return rc;
}

struct s_memo {
    char *key;
    struct s_cands cands;
};

static int s_compute(struct s_state *st, const char *key, struct s_cands *out) {
    const struct tm_iam_policy *pol = st->in->policy;
    size_t n_stmts = pol ? pol->n_stmts : 0;
    int rc = TM_OK;
    for (size_t i = 0; i < st->n_sources && !rc; i++) {
        if (key[i] != 'A')
            continue;
        struct s_cands *src = &st->stmt_cands[i];
        for (size_t k = 0; k < src->n && !rc; k++) {
            if (src->v[k].dead)
                continue;
            struct s_cand *c = s_cands_push(out);
            if (!c)
                return TM_ERR_NOMEM;
            rc = s_cand_copy(c, &src->v[k]);
            /* Deny statements covering this action and this grant's resources. */
            const struct tm__iam_stmt *allow = i < n_stmts ? &pol->stmts[i] : NULL;
            for (size_t d = 0; d < n_stmts && !rc && !c->dead; d++)
                if (key[d] == 'D' && s_deny_overlaps(&pol->stmts[d], allow))
                    rc = s_apply_deny(st, &pol->stmts[d], c);
        }
    }
    return rc;
}

static int s_acl_candidates(struct s_state *st, size_t g, struct s_cands *out) {
    const struct tm__iam_acl_grant *ag = &st->acl.grants[g];
    bool ignore = (st->in->bucket_bpa && st->in->bucket_bpa->ignore_public_acls) ||
                  (st->in->account_bpa && st->in->account_bpa->ignore_public_acls);
    if (ignore && (ag->reach == TM_IAM_REACH_PUBLIC || ag->reach == TM_IAM_REACH_AUTHENTICATED))
        return TM_OK;
    struct s_cand *c = s_cands_push(out);
    if (!c)
        return TM_ERR_NOMEM;
    c->acl = true;
    c->index = g;
    c->reach = ag->reach;
    if (ag->reach == TM_IAM_REACH_SERVICE)
        return tm__iam_strs_add(&c->services, "S3 log delivery group");
    if (ag->reach == TM_IAM_REACH_ACCOUNT || ag->reach == TM_IAM_REACH_EXTERNAL)
        return tm__iam_strs_add(&c->who, ag->reach == TM_IAM_REACH_ACCOUNT && st->account ? st->account : ag->who);
    return TM_OK;
}

int tm_iam_reach_analyze(struct tm_iam_reach_result **out, const struct tm_iam_reach_input *in, char *err,
                         size_t errlen) {
    *out = NULL;
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    if (!in || !tm_iam_resource_type_name(in->type)) {
        snprintf(err, errlen, "unknown resource type");
        return TM_ERR_INVALID;
    }
    struct s_state st = {.in = in, .service = s_type_services[in->type], .err = err, .errlen = errlen};
    struct s_level levels[sizeof(s_level_order) / sizeof(s_level_order[0])];
    const size_t n_levels = sizeof(levels) / sizeof(levels[0]);
    memset(levels, 0, sizeof(levels));
    for (size_t l = 0; l < n_levels; l++)
        levels[l].level = s_level_order[l];
    struct s_memo *memo = NULL;
    size_t n_memo = 0;
    struct tm_buf key;
    tm_buf_init(&key, 0);
    struct s_sig_scratch scratch = {.sorted = NULL};
    tm_buf_init(&scratch.sig, 0);
    int rc = TM_OK;
    if ((in->s3_acl_json || in->s3_acl) && in->type == TM_IAM_RES_S3) {
        rc = in->s3_acl_json ? tm__iam_acl_parse(&st.acl, in->s3_acl_json, strlen(in->s3_acl_json), err, errlen)
                             : tm__iam_acl_read(&st.acl, in->s3_acl, err, errlen);
        if (rc)
            goto done;
        st.have_acl = true;
    }
    s_infer_account(&st);
    if (!st.account && (rc = tm__iam_strs_add(&st.notes, "this account is not known (pass --account): every named "
                                                         "account is reported as external")))
        goto done;
    if ((rc = s_universe(&st)))
        goto done;
    const struct tm_iam_policy *pol = in->policy;
    size_t n_stmts = pol ? pol->n_stmts : 0;
    st.n_sources = n_stmts + (st.have_acl ? st.acl.n : 0);
    st.stmt_cands = calloc(st.n_sources ? st.n_sources : 1, sizeof(*st.stmt_cands));
    memo = calloc(st.n_actions ? st.n_actions : 1, sizeof(*memo));
    if (!st.stmt_cands || !memo) {
        rc = TM_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_stmts && !rc; i++)
        if (pol->stmts[i].effect == TM_IAM_ALLOW)
            rc = s_stmt_candidates(&st, &pol->stmts[i], &st.stmt_cands[i]);
    for (size_t g = 0; st.have_acl && g < st.acl.n && !rc; g++)
        rc = s_acl_candidates(&st, g, &st.stmt_cands[n_stmts + g]);
    for (size_t ai = 0; ai < st.n_actions && !rc; ai++) {
        const char *action = st.actions[ai].name;
        tm_buf_reset(&key);
        if ((rc = s_coverage_key(&st, action, &key)))
            break;
        if (!strchr(tm_buf_str(&key), 'A'))
            continue;
        struct s_memo *m = NULL;
        for (size_t i = 0; i < n_memo && !m; i++)
            if (strcmp(memo[i].key, tm_buf_str(&key)) == 0)
                m = &memo[i];
        if (!m) {
            m = &memo[n_memo++];
            if (!(m->key = strdup(tm_buf_str(&key)))) {
                rc = TM_ERR_NOMEM;
                break;
            }
            if ((rc = s_compute(&st, m->key, &m->cands)))
                break;
        }
        size_t l = 0;
        while (l < n_levels - 1 && strcmp(levels[l].level, st.actions[ai].level) != 0)
            l++;
        for (size_t k = 0; k < m->cands.n && !rc; k++) {
            struct s_cand *c = &m->cands.v[k];
            if (c->dead)
                continue;
            /* "*" reaches anonymous callers only where the service lets them in. */
            enum tm_iam_reach saved = c->reach;
            bool saved_wild = c->wildcard;
            if (c->wildcard) {
                c->reach = s_anonymous_ok(&st, action) && !c->authenticated_only ? TM_IAM_REACH_PUBLIC
                                                                                 : TM_IAM_REACH_AUTHENTICATED;
                c->wildcard = false;
            } else if (c->reach == TM_IAM_REACH_PUBLIC && !s_anonymous_ok(&st, action) &&
                       c->reach != TM_IAM_REACH_FEDERATED && !c->multi_tenant) {
                c->reach = TM_IAM_REACH_AUTHENTICATED;
            }
            rc = s_add_grant(&levels[l], &scratch, c, action);
            c->reach = saved;
            c->wildcard = saved_wild;
        }
    }
    if (rc)
        goto done;
    /* S3 RestrictPublicBuckets: with a public bucket policy, only AWS services and this account's
     * principals get in; "public and cross-account access within any public bucket policy, including
     * non-public delegation to specific accounts, is blocked". */
    bool restrict_public = in->type == TM_IAM_RES_S3 && ((in->bucket_bpa && in->bucket_bpa->restrict_public_buckets) ||
                                                         (in->account_bpa && in->account_bpa->restrict_public_buckets));
    if (restrict_public) {
        bool policy_public = false;
        for (size_t l = 0; l < n_levels; l++)
            for (size_t i = 0; i < levels[l].n; i++) {
                const struct s_grant *g = &levels[l].grants[i];
                bool from_policy = false;
                for (size_t e = 0; e < g->n_ev; e++)
                    from_policy = from_policy || g->evidence[e] % 2 == 0;
                if (from_policy &&
                    (g->cand.reach == TM_IAM_REACH_PUBLIC || g->cand.reach == TM_IAM_REACH_AUTHENTICATED))
                    policy_public = true;
            }
        if (policy_public) {
            rc = tm__iam_strs_add(&st.notes, "S3 Block Public Access (RestrictPublicBuckets) limits the public "
                                             "bucket policy to AWS services and this account");
            for (size_t l = 0; l < n_levels && !rc; l++) {
                struct s_level old = levels[l];
                levels[l].grants = NULL;
                levels[l].n = levels[l].cap = 0;
                for (size_t i = 0; i < old.n && !rc; i++) {
                    struct s_grant *g = &old.grants[i];
                    bool acl_only = true;
                    for (size_t e = 0; e < g->n_ev; e++)
                        acl_only = acl_only && g->evidence[e] % 2 == 1;
                    struct s_cand *c = &g->cand;
                    if (!acl_only && c->reach != TM_IAM_REACH_ACCOUNT && c->reach != TM_IAM_REACH_SERVICE &&
                        c->reach != TM_IAM_REACH_NETWORK) {
                        c->reach = TM_IAM_REACH_ACCOUNT;
                        free(c->sig_lists); /* its lists change */
                        c->sig_lists = NULL;
                        tm__iam_strs_free(&c->who);
                        tm__iam_strs_free(&c->principals);
                        if (st.account)
                            rc = tm__iam_strs_add(&c->who, st.account);
                        if (!rc)
                            rc = tm__iam_strs_add(&c->conds, "S3 Block Public Access: RestrictPublicBuckets");
                    }
                    for (size_t k = 0; k < g->actions.n && !rc; k++)
                        for (size_t e = 0; e < g->n_ev && !rc; e++) {
                            c->index = g->evidence[e] / 2;
                            c->acl = g->evidence[e] % 2;
                            rc = s_add_grant(&levels[l], &scratch, c, g->actions.v[k]);
                        }
                    s_cand_free(c);
                    free(g->sig);
                    tm__iam_strs_free(&g->actions);
                    free(g->evidence);
                }
                free(old.grants);
            }
            if (rc)
                goto done;
        }
    }
    if (in->type == TM_IAM_RES_APIGATEWAY)
        rc = tm__iam_strs_add(&st.notes, "API Gateway: a method that requires AWS_IAM, Cognito or a Lambda "
                                         "authorizer also checks callers; this is the resource policy's view");
    if (!rc)
        rc = s_build_result(&st, levels, n_levels, out);
done:
    tm_buf_clean_up(&key);
    tm_buf_clean_up(&scratch.sig);
    free(scratch.sorted);
    for (size_t i = 0; i < n_memo; i++) {
        free(memo[i].key);
        s_cands_free(&memo[i].cands);
    }
    free(memo);
    for (size_t i = 0; st.stmt_cands && i < st.n_sources; i++)
        s_cands_free(&st.stmt_cands[i]);
    free(st.stmt_cands);
    for (size_t l = 0; l < n_levels; l++) {
        for (size_t i = 0; i < levels[l].n; i++) {
            s_cand_free(&levels[l].grants[i].cand);
            free(levels[l].grants[i].sig);
            tm__iam_strs_free(&levels[l].grants[i].actions);
            free(levels[l].grants[i].evidence);
        }
        free(levels[l].grants);
    }
    for (size_t i = 0; i < st.n_actions; i++)
        free(st.actions[i].name);
    free(st.actions);
    tm__iam_strs_free(&st.notes);
    tm__iam_acl_clean_up(&st.acl);
    return rc;
}
