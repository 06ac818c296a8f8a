/* Snapshot → graph, part two: the edges. Links between resources (a function runs as its role, a
 * method calls its function), identity grants (what each user and role can do), resource-policy and
 * trust-policy grants to principals of the account, network reachability, sharing settings and access
 * keys. Who reaches a resource from OUTSIDE the account is in graph_reach.c. Every grant is confirmed by
 * the policy engine before it becomes an edge, so Deny statements, boundaries and SCPs count. */
#include "analyzers/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/graph_int.h"
#include "analyzers/iam/catalog.h"
#include "core/buf.h"
#include "core/json.h"

/* ---- edges and evidence ---- */

int tm__graph_edge(struct tm_graph *g, const struct tm__graph_edge_spec *s) {
    struct tm_graph_edge e = {
        .from = s->from,
        .to = s->to,
        .kind = s->kind,
        .flags = s->flags,
        .actions = s->actions,
        .n_actions = s->n_actions,
        .conditions = s->conditions,
        .statement = s->statement,
        .resource_pattern = s->pattern,
        .evidence = s->ev,
    };
    if (e.from == TM_GRAPH_NONE || e.to == TM_GRAPH_NONE)
        return TM_ERR_NOMEM;
    return tm__graph_edge_add(g, &e);
}

const char *const *tm__graph_one(struct tm_graph *g, const char *action) {
    const char **a = tm__graph_alloc(g, sizeof(*a));
    if (a)
        a[0] = action;
    return (const char *const *)a;
}

/* "bucket policy statement 0 (Sid PublicRead)" */
const char *tm__graph_statement_text(struct tm_graph *g, const char *what, const char *name, size_t index,
                                     const char *sid) {
    if (sid && *sid)
        return name ? tm__graph_printf(g, "%s %s statement %zu (Sid %s)", what, name, index, sid)
                    : tm__graph_printf(g, "%s statement %zu (Sid %s)", what, index, sid);
    return name ? tm__graph_printf(g, "%s %s statement %zu", what, name, index)
                : tm__graph_printf(g, "%s statement %zu", what, index);
}

/* The conditions of a statement in words: "StringEquals aws:SourceAccount 111122223333; ...". */
const char *tm__graph_conditions_text(struct tm_graph *g, const struct tm_iam_policy *p, size_t stmt, size_t n) {
    if (!n)
        return NULL;
    struct tm_buf b;
    tm_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < n; i++) {
        struct tm_iam_condition_view c;
        if (tm_iam_policy_condition(p, stmt, i, &c))
            continue;
        if (b.len && tm_buf_append_str(&b, "; "))
            break;
        if (tm_buf_appendf(&b, "%s %s", c.op, c.key))
            break;
        for (size_t v = 0; v < c.n_values; v++)
            if (tm_buf_appendf(&b, "%s%s", v ? ", " : " ", c.values[v]))
                break;
    }
    const char *out = tm__graph_strdup(g, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    return out;
}

/* ---- nodes named by policies and links ---- */

/* "aws:iam:role" from "arn:aws:iam::A:role/x"; "aws:s3:bucket" from "arn:aws:s3:::b". */
static const char *s_type_of_arn(struct tm_graph *g, const char *arn) {
    char svc[64];
    if (!tm__graph_arn_service(arn, svc, sizeof(svc)))
        return "unknown";
    const char *res = arn;
    for (int i = 0; i < 5 && res; i++) {
        res = strchr(res, ':');
        if (res)
            res++;
    }
    if (!res || !*res)
        return tm__graph_printf(g, "aws:%s", svc);
    if (strcmp(svc, "s3") == 0 && !strchr(res, '/'))
        return strchr(arn + 8, ':') && arn[8 + strlen("s3:")] == ':' && !strstr(arn, ":accesspoint/")
                   ? "aws:s3:bucket"
                   : "aws:s3:access-point";
    size_t n = strcspn(res, "/:");
    if (strcmp(svc, "sqs") == 0 || strcmp(svc, "sns") == 0)
        return tm__graph_printf(g, "aws:%s:%s", svc, strcmp(svc, "sqs") == 0 ? "queue" : "topic");
    return tm__graph_printf(g, "aws:%s:%.*s", svc, (int)n, res);
}

/* The node of an ARN, created when the snapshot does not have it (a role in another account, a bucket
 * of a service that was not scanned). */
uint32_t tm__graph_ref_node(struct tm_graph *g, const char *arn) {
    uint32_t n = tm__graph_lookup(g, arn);
    if (n != TM_GRAPH_NONE)
        return n;
    const char *type = s_type_of_arn(g, arn);
    if (!type)
        return TM_GRAPH_NONE;
    bool principal =
        strcmp(type, "aws:iam:user") == 0 || strcmp(type, "aws:iam:role") == 0 || strcmp(type, "aws:iam:group") == 0;
    char acct[32];
    const char *a = tm__graph_arn_account(arn, acct, sizeof(acct));
    const char *account = a ? tm__graph_strdup(g, a) : NULL;
    n = tm__graph_node_add(g, arn, false, principal ? TM_GRAPH_NODE_PRINCIPAL : TM_GRAPH_NODE_RESOURCE, type, account);
    if (n != TM_GRAPH_NONE && account && !tm_graph_is_home_account(g, account))
        g->nodes[n].flags |= TM_GRAPH_NODE_EXTERNAL;
    if (n != TM_GRAPH_NONE) {
        const char *last = strrchr(arn, '/');
        if (!last)
            last = strrchr(arn, ':');
        g->nodes[n].name = last && last[1] ? last + 1 : g->nodes[n].id;
    }
    return n;
}

uint32_t tm__graph_pseudo_node(struct tm_graph *g, enum tm_graph_node_kind kind, const char *prefix,
                               const char *value) {
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s%s", prefix, value);
    uint32_t n = tm__graph_lookup(g, buf);
    if (n != TM_GRAPH_NONE)
        return n;
    const char *type = tm_graph_node_kind_name(kind);
    n = tm__graph_node_add(g, buf, false, kind, type,
                           kind == TM_GRAPH_NODE_ACCOUNT ? tm__graph_strdup(g, value) : NULL);
    if (n != TM_GRAPH_NONE && kind == TM_GRAPH_NODE_ACCOUNT) {
        g->nodes[n].flags |= TM_GRAPH_NODE_EXTERNAL;
        if (tm__graph_in_organization(g, value))
            g->nodes[n].flags |= TM_GRAPH_NODE_IN_ORGANIZATION;
    }
    return n;
}

uint32_t tm__graph_account_node(struct tm_graph *g, const char *account) {
    return tm__graph_pseudo_node(g, TM_GRAPH_NODE_ACCOUNT, "account:", account);
}

uint32_t tm__graph_service_node(struct tm_graph *g, const char *service) {
    return tm__graph_pseudo_node(g, TM_GRAPH_NODE_SERVICE, "service:", service);
}

/* A set node: the resources of a service whose ARN matches a pattern (and, for roles, whom they trust). */
uint32_t tm__graph_set_node(struct tm_graph *g, const char *service, const char *pattern, const char *trusts) {
    char buf[2048];
    snprintf(buf, sizeof(buf), "set:%s:%s%s%s", service, pattern, trusts ? "|trusts:" : "", trusts ? trusts : "");
    uint32_t n = tm__graph_lookup(g, buf);
    if (n != TM_GRAPH_NONE)
        return n;
    n = tm__graph_node_add(g, buf, false, TM_GRAPH_NODE_SET, "set", NULL);
    if (n == TM_GRAPH_NONE)
        return n;
    struct tm_graph_node *node = &g->nodes[n];
    node->set_service = tm__graph_strdup(g, service);
    node->set_pattern = tm__graph_strdup(g, pattern);
    node->set_trusts = trusts ? tm__graph_strdup(g, trusts) : NULL;
    if (trusts)
        node->name = strcmp(trusts, "account") == 0 ? "every role that trusts its own account"
                                                    : tm__graph_printf(g, "every role %s can run as", trusts);
    else
        node->name = strcmp(service, "*") == 0 && strcmp(pattern, "*") == 0
                         ? "every resource"
                         : tm__graph_printf(g, "every %s resource matching %s", service, pattern);
    if (!node->set_service || !node->set_pattern || !node->name || (trusts && !node->set_trusts))
        return TM_GRAPH_NONE;
    size_t plen = strcspn(pattern, "*?");
    g->extra[n].set_flags =
        (uint8_t)((strcmp(service, "*") == 0 ? TM__GRAPH_SET_ANY_SERVICE : 0u) |
                  (pattern[plen] == '*' && pattern[plen + 1] == '\0' ? TM__GRAPH_SET_PREFIX_ONLY : 0u) |
                  (trusts && strcmp(trusts, "account") == 0 ? TM__GRAPH_SET_TRUSTS_ACCOUNT : 0u));
    return n;
}

static uint32_t s_set_node(struct tm_graph *g, const char *service, const char *pattern) {
    return tm__graph_set_node(g, service, pattern, NULL);
}

/* ---- actions → edge kinds ---- */

struct s_kind_override {
    const char *action;
    enum tm_graph_edge_kind kind;
};

static const struct s_kind_override s_overrides[] = {
    {"sts:AssumeRole", TM_GRAPH_EDGE_CAN_ASSUME},
    {"sts:AssumeRoleWithSAML", TM_GRAPH_EDGE_CAN_ASSUME},
    {"sts:AssumeRoleWithWebIdentity", TM_GRAPH_EDGE_CAN_ASSUME},
    {"iam:PassRole", TM_GRAPH_EDGE_CAN_PASS},
    {"lambda:InvokeFunction", TM_GRAPH_EDGE_CAN_INVOKE},
    {"lambda:InvokeFunctionUrl", TM_GRAPH_EDGE_CAN_INVOKE},
    {"lambda:InvokeAsync", TM_GRAPH_EDGE_CAN_INVOKE},
    {"execute-api:Invoke", TM_GRAPH_EDGE_CAN_INVOKE},
    {"states:StartExecution", TM_GRAPH_EDGE_CAN_INVOKE},
    {"states:StartSyncExecution", TM_GRAPH_EDGE_CAN_INVOKE},
    /* Decrypting reads what the key protects. */
    {"kms:Decrypt", TM_GRAPH_EDGE_CAN_READ},
    {"kms:ReEncryptFrom", TM_GRAPH_EDGE_CAN_READ},
    {NULL, 0},
};

static enum tm_graph_edge_kind s_kind_of(const char *service, const char *name, enum tm_iam_level level) {
    size_t sl = strlen(service);
    for (size_t i = 0; s_overrides[i].action; i++) {
        const char *o = s_overrides[i].action;
        /* First letters first: this runs for every action of a service a member test expands. */
        if ((o[0] | 0x20) == (service[0] | 0x20) && strncasecmp(o, service, sl) == 0 && o[sl] == ':' &&
            strcasecmp(o + sl + 1, name) == 0)
            return s_overrides[i].kind;
    }
    switch (level) {
        case TM_IAM_LEVEL_LIST:
        case TM_IAM_LEVEL_READ:
            return TM_GRAPH_EDGE_CAN_READ;
        case TM_IAM_LEVEL_WRITE:
        case TM_IAM_LEVEL_PERMISSIONS:
        case TM_IAM_LEVEL_TAGGING:
        default:
            return TM_GRAPH_EDGE_CAN_WRITE;
    }
}

static int s_kind_cb(const struct tm_iam_action *a, void *user_data) {
    unsigned *mask = user_data;
    *mask |= TM_GRAPH_EDGE_MASK(s_kind_of(a->service, a->name, a->level));
    return 0;
}

/* An action the catalogue does not know (a service tmscan does not read): guess from the verb. */
static unsigned s_guess_kinds(const char *pattern) {
    const char *name = strchr(pattern, ':');
    name = name ? name + 1 : pattern;
    if (strchr(name, '*') && (name[0] == '*' || strlen(name) < 3))
        return TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_READ) | TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_WRITE);
    static const char *const reads[] = {"Get", "List", "Describe", "Read", "Query", "Scan", "BatchGet", "Select", NULL};
    for (size_t i = 0; reads[i]; i++)
        if (strncasecmp(name, reads[i], strlen(reads[i])) == 0)
            return TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_READ);
    if (strncasecmp(name, "Invoke", 6) == 0)
        return TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_INVOKE);
    return TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_WRITE);
}

/* The kinds of edge an action pattern grants (cached: the same patterns recur in every policy). */
unsigned tm__graph_pattern_kinds(struct tm_graph *g, const char *pattern) {
    for (size_t i = 0; i < g->n_kinds; i++)
        if (strcasecmp(g->kind_keys[i], pattern) == 0)
            return g->kind_masks[i];
    unsigned mask = 0;
    size_t count = 0;
    if (tm_iam_catalog_expand(&count, g->opts.actions, pattern, s_kind_cb, &mask) || count == 0)
        mask = s_guess_kinds(pattern);
    if (g->n_kinds < 4096) {
        if (g->n_kinds == g->kind_cap) {
            size_t cap = g->kind_cap ? g->kind_cap * 2 : 64;
            const char **k = realloc(g->kind_keys, cap * sizeof(*k));
            if (!k)
                return mask;
            g->kind_keys = k;
            unsigned *m = realloc(g->kind_masks, cap * sizeof(*m));
            if (!m)
                return mask;
            g->kind_masks = m;
            g->kind_cap = cap;
        }
        const char *key = tm__graph_strdup(g, pattern);
        if (key) {
            g->kind_keys[g->n_kinds] = key;
            g->kind_masks[g->n_kinds++] = mask;
        }
    }
    return mask;
}

struct s_not_ctx {
    const char *const * not ;
    size_t n_not;
    unsigned mask;
};

static int s_not_cb(const struct tm_iam_action *a, void *user_data) {
    struct s_not_ctx *c = user_data;
    char full[256];
    snprintf(full, sizeof(full), "%s:%s", a->service, a->name);
    for (size_t i = 0; i < c->n_not; i++)
        if (tm__graph_glob(c->not [i], full, true))
            return 0;
    c->mask |= TM_GRAPH_EDGE_MASK(s_kind_of(a->service, a->name, a->level));
    return 0;
}

/* The service of an action pattern ("s3" of "s3:Get*"), "*" when the service part has a wildcard. */
static const char *s_action_service(struct tm_graph *g, const char *pattern) {
    const char *colon = strchr(pattern, ':');
    if (!colon || strcspn(pattern, "*?") < (size_t)(colon - pattern))
        return "*";
    char buf[64];
    size_t n = (size_t)(colon - pattern);
    if (n >= sizeof(buf))
        return "*";
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(pattern[i] >= 'A' && pattern[i] <= 'Z' ? pattern[i] + 32 : pattern[i]);
    buf[n] = '\0';
    return tm__graph_strdup(g, buf);
}

/* ---- deciding with the engine ---- */

/* Is the grant real? ALLOWED, or, for a statement with conditions the default context does not satisfy
 * (a source network, a tag), implicitly denied only because no identity statement applied: the edge then
 * exists under its conditions. */
static bool s_accept(const struct tm_iam_result *r, bool conditional) {
    if (r->decision == TM_IAM_ALLOWED)
        return true;
    return conditional && r->decision == TM_IAM_IMPLICIT_DENY &&
           (r->reason == TM_IAM_REASON_NO_ALLOW || r->reason == TM_IAM_REASON_IDENTITY ||
            r->reason == TM_IAM_REASON_NOT_AUTHENTICATED || r->reason == TM_IAM_REASON_CROSS_ACCOUNT ||
            r->reason == TM_IAM_REASON_RESOURCE_POLICY);
}

static bool s_allowed(const struct tm_graph *g, const char *principal, uint32_t p, const char *action,
                      const char *resource, uint32_t r, bool conditional) {
    struct tm_iam_result res;
    tm_iam_result_init(&res);
    bool unknown = false;
    bool ok = tm__graph_can(g, principal, p, action, resource, r, NULL, &res, &unknown, false) == TM_OK &&
              s_accept(&res, conditional);
    tm_iam_result_clean_up(&res);
    return ok;
}

bool tm__graph_allowed(const struct tm_graph *g, const char *principal, const char *action, const char *resource,
                       bool conditional) {
    return s_allowed(g, principal, TM_GRAPH_NONE, action, resource, TM_GRAPH_NONE, conditional);
}

bool tm__graph_allowed_at(const struct tm_graph *g, uint32_t principal, const char *action, const char *resource,
                          uint32_t r, bool conditional) {
    return s_allowed(g, g->nodes[principal].id, principal, action, resource, r, conditional);
}

/* ---- identity grants ---- */

static bool s_has_wildcard(const char *s) {
    return strpbrk(s, "*?") != NULL;
}

static const char *s_eval_resource(struct tm_graph *g, const struct tm_graph_node *rn, const char *action);

/* ---- narrowing: which actions of a pattern the engine really allows ---- */

/* A pattern is asked of the engine as written first ("s3:*" against the statements that name "s3:*" or "*"). A
 * boundary, an SCP or a key policy that allows only part of it ("s3:GetObject") does not match the pattern as
 * written, yet leaves that part allowed: then the pattern's actions are asked one by one. */

/* Could one of these policies allow the action (its Allow statements' actions only: resources and conditions are
 * the engine's)? Spares the engine most of a catalogue expansion. */
static bool s_policies_may_allow(const struct tm_iam_policy *const *ps, size_t n, const char *action) {
    for (size_t i = 0; i < n; i++) {
        size_t ns = tm_iam_policy_statement_count(ps[i]);
        for (size_t s = 0; s < ns; s++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(ps[i], s, &v) || v.effect != TM_IAM_ALLOW)
                continue;
            bool m = false;
            for (size_t k = 0; k < v.n_actions && !m; k++)
                m = tm__graph_glob(v.actions[k], action, true);
            if (v.not_action ? !m : m)
                return true;
        }
    }
    return false;
}

static bool s_scps_apply(const struct tm__graph_principal *p) {
    return p && p->account && !p->skip_scps && !p->account->is_management;
}

static bool s_layers_may_allow(const struct tm__graph_principal *p, const char *action) {
    if (!p)
        return true;
    if (p->n_boundary && !s_policies_may_allow(p->boundary, p->n_boundary, action))
        return false;
    if (s_scps_apply(p))
        for (size_t l = 0; l < p->account->scps.n_levels; l++)
            if (!s_policies_may_allow(p->account->scps.levels[l].policies, p->account->scps.levels[l].n, action))
                return false;
    return true;
}

/* s_allowed, and why not. */
static bool s_decide(const struct tm_graph *g, const char *principal, uint32_t p, const char *action,
                     const char *resource, uint32_t r, bool conditional, enum tm_iam_reason *reason) {
    struct tm_iam_result res;
    tm_iam_result_init(&res);
    bool unknown = false;
    int rc = tm__graph_can(g, principal, p, action, resource, r, NULL, &res, &unknown, false);
    bool ok = rc == TM_OK && s_accept(&res, conditional);
    *reason = rc ? TM_IAM_REASON_EXPLICIT_DENY : res.reason;
    tm_iam_result_clean_up(&res);
    return ok;
}

/* Denied as written only because a policy allows part of the pattern (a boundary, an SCP, a key policy)? Then its
 * actions may still be allowed. A Deny that matches the pattern as written covers all of it. */
static bool s_narrowable(enum tm_iam_reason reason) {
    switch (reason) {
        case TM_IAM_REASON_BOUNDARY:
        case TM_IAM_REASON_SCP:
        case TM_IAM_REASON_RCP:
        case TM_IAM_REASON_RESOURCE_POLICY:
        case TM_IAM_REASON_SESSION:
            return true;
        default:
            return false;
    }
}

/* S3 object actions (GetObject, PutObject, ...) act on a bucket's objects, the others on the bucket. */
static bool s_object_action(const char *action) {
    const char *name = strchr(action, ':');
    name = name ? name + 1 : action;
    return strstr(name, "Bucket") == NULL && strncasecmp(name, "List", 4) != 0;
}

struct s_expand {
    const struct tm_graph *g;
    const struct tm__graph_principal *p; /* NULL: not a user or role of the snapshot */
    const char *pid;
    uint32_t pnode;
    enum tm_graph_edge_kind kind;
    const char *service; /* only this service's actions; NULL: any */
    const char *resource;
    uint32_t r;  /* the resource's node, TM_GRAPH_NONE */
    bool bucket; /* resource is a bucket's id: object actions are asked on its objects */
    bool conditional;
    bool first;   /* stop at the first allowed action */
    bool collect; /* collect the pattern's actions of the kind and service, without asking the engine */
    const struct tm_iam_action *allowed; /* what was allowed (malloc), in catalogue order */
    size_t n_allowed, cap;
    int rc;
};

static int s_expand_cb(const struct tm_iam_action *a, void *user_data) {
    struct s_expand *c = user_data;
    if ((c->service && strcasecmp(a->service, c->service) != 0) || s_kind_of(a->service, a->name, a->level) != c->kind)
        return 0;
    if (!c->collect) {
        char full[256], objects[2048];
        if (snprintf(full, sizeof(full), "%s:%s", a->service, a->name) >= (int)sizeof(full) ||
            !s_layers_may_allow(c->p, full))
            return 0;
        const char *res = c->resource;
        if (c->bucket && s_object_action(full) &&
            snprintf(objects, sizeof(objects), "%s/*", res) < (int)sizeof(objects))
            res = objects;
        if (!s_allowed(c->g, c->pid, c->pnode, full, res, c->r, c->conditional))
            return 0;
    }
    if (c->first) {
        c->n_allowed = 1;
        return 1;
    }
    if (c->n_allowed == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct tm_iam_action *n = realloc((void *)c->allowed, cap * sizeof(*n));
        if (!n) {
            c->rc = TM_ERR_NOMEM;
            return 1;
        }
        c->allowed = n;
        c->cap = cap;
    }
    ((struct tm_iam_action *)c->allowed)[c->n_allowed++] = *a;
    return 0;
}

/* Expands pattern into c->allowed (or, with c->first, finds whether one action is allowed: c->n_allowed 1). */
static int s_expand(struct s_expand *c, const char *pattern) {
    c->n_allowed = 0;
    c->allowed = NULL;
    c->cap = 0;
    c->rc = TM_OK;
    if (!c->g->opts.actions)
        return TM_OK;
    int rc = tm_iam_catalog_expand(NULL, c->g->opts.actions, pattern, s_expand_cb, c);
    return c->rc ? c->rc : rc == 1 ? TM_OK : rc;
}

/* The Allow patterns of the boundary and the SCPs that lie inside pattern (a boundary's "s3:Get*" in "s3:*"): the
 * names a narrowed grant is written with, when each covers only allowed actions. */
static int s_narrow_names(struct tm_graph *g, struct s_expand *c, const char *pattern, const char **out, size_t *n_out,
                          size_t cap) {
    const struct tm__graph_principal *p = c->p;
    bool *covered = calloc(c->n_allowed ? c->n_allowed : 1, sizeof(bool));
    if (!covered)
        return TM_ERR_NOMEM;
    struct s_expand q = *c;
    q.allowed = NULL;
    q.cap = 0;
    q.first = false;
    q.collect = true;
    int rc = TM_OK;
    /* Layers: the boundary, then each SCP level. */
    size_t n_layers = (p && p->n_boundary ? 1 : 0) + (s_scps_apply(p) ? p->account->scps.n_levels : 0);
    for (size_t l = 0; l < n_layers && !rc; l++) {
        bool boundary = p->n_boundary && l == 0;
        const struct tm_iam_policy *const *ps =
            boundary ? p->boundary : p->account->scps.levels[l - (p->n_boundary ? 1 : 0)].policies;
        size_t n = boundary ? p->n_boundary : p->account->scps.levels[l - (p->n_boundary ? 1 : 0)].n;
        for (size_t i = 0; i < n && !rc; i++) {
            size_t ns = tm_iam_policy_statement_count(ps[i]);
            for (size_t s = 0; s < ns && !rc; s++) {
                struct tm_iam_statement_view v;
                if (tm_iam_policy_statement(ps[i], s, &v) || v.effect != TM_IAM_ALLOW || v.not_action)
                    continue;
                for (size_t k = 0; k < v.n_actions && !rc && *n_out < cap; k++) {
                    const char *name = v.actions[k];
                    if (!s_has_wildcard(name) || strcasecmp(name, pattern) == 0 || !tm__graph_glob(pattern, name, true))
                        continue;
                    /* Every action of this kind that name holds must be among the allowed ones. */
                    struct s_expand all = q;
                    rc = s_expand(&all, name);
                    size_t j = 0, fresh = 0;
                    bool inside = all.n_allowed > 0;
                    for (size_t x = 0; x < all.n_allowed && inside; x++) {
                        while (j < c->n_allowed && c->allowed[j].name != all.allowed[x].name)
                            j++;
                        inside = j < c->n_allowed;
                        fresh += inside && !covered[j];
                    }
                    if (inside && fresh) {
                        j = 0;
                        for (size_t x = 0; x < all.n_allowed; x++) {
                            while (c->allowed[j].name != all.allowed[x].name)
                                j++;
                            covered[j] = true;
                        }
                        out[(*n_out)++] = name;
                    }
                    free((void *)all.allowed);
                }
            }
        }
    }
    for (size_t j = 0; j < c->n_allowed && !rc && *n_out < cap; j++) {
        if (covered[j])
            continue;
        const char *a = tm__graph_printf(g, "%s:%s", c->allowed[j].service, c->allowed[j].name);
        if (!a)
            rc = TM_ERR_NOMEM;
        else
            out[(*n_out)++] = a;
    }
    free(covered);
    return rc;
}

/* The actions of one kind a grant's patterns give on a resource, as the engine allows them: each pattern the
 * engine allows as written is kept; one it does not is narrowed to the actions it allows (named, where they are
 * whole, with the boundary's or SCP's own patterns). *out is a new list in the arena. */
static int s_narrow(struct tm_graph *g, const struct s_expand *base, const char *const *acts, size_t n_acts,
                    const struct tm_graph_node *eval_node, const char ***out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    size_t cap = n_acts, n = 0;
    const char **list = tm__graph_alloc(g, (cap ? cap : 1) * sizeof(*list));
    if (!list)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < n_acts; i++) {
        const char *res = eval_node ? s_eval_resource(g, eval_node, acts[i]) : base->resource;
        if (!res)
            return TM_ERR_NOMEM;
        enum tm_iam_reason reason = TM_IAM_REASON_NONE;
        /* base->r is the node of base->resource only (an S3 object ARN is looked up again). */
        if (s_decide(g, base->pid, base->pnode, acts[i], res, res == base->resource ? base->r : TM_GRAPH_NONE,
                     base->conditional, &reason)) {
            list[n++] = acts[i];
            continue;
        }
        if (!s_has_wildcard(acts[i]) || !s_narrowable(reason))
            continue;
        struct s_expand c = *base;
        c.first = false;
        c.collect = false;
        c.bucket = eval_node && eval_node->type && strcmp(eval_node->type, "aws:s3:bucket") == 0;
        if (c.bucket)
            c.resource = eval_node->id;
        int rc = s_expand(&c, acts[i]);
        if (rc || !c.n_allowed) {
            free((void *)c.allowed);
            if (rc)
                return rc;
            continue;
        }
        /* Room for every allowed action, whatever the names chosen. */
        size_t room = n + c.n_allowed + (n_acts - i);
        if (room > cap) {
            const char **bigger = tm__graph_alloc(g, room * sizeof(*bigger));
            if (!bigger) {
                free((void *)c.allowed);
                return TM_ERR_NOMEM;
            }
            memcpy(bigger, list, n * sizeof(*list));
            list = bigger;
            cap = room;
        }
        rc = s_narrow_names(g, &c, acts[i], list, &n, cap);
        free((void *)c.allowed);
        if (rc)
            return rc;
    }
    *out = list;
    *n_out = n;
    return TM_OK;
}

/* Could a Deny statement of these policies single out some actions of pattern on this resource (a Deny on s3:* of
 * one bucket, under a grant of "*")? The engine, asked the pattern as written, does not see it. */
static bool s_partial_deny(const struct tm_iam_policy *const *ps, size_t n, const char *service, const char *res,
                           bool bucket) {
    for (size_t i = 0; i < n; i++) {
        if (!ps[i])
            continue;
        size_t ns = tm_iam_policy_statement_count(ps[i]);
        for (size_t s = 0; s < ns; s++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(ps[i], s, &v) || v.effect != TM_IAM_DENY)
                continue;
            bool action = v.not_action;
            for (size_t a = 0; a < v.n_actions && !action; a++) {
                /* Services only: whether two patterns share an action is left to the expansion. */
                const char *colon = strchr(v.actions[a], ':');
                size_t sl = colon ? (size_t)(colon - v.actions[a]) : strlen(v.actions[a]);
                char svc[64];
                if (sl >= sizeof(svc))
                    return true;
                memcpy(svc, v.actions[a], sl);
                svc[sl] = '\0';
                action = !service || !colon || tm__graph_glob(svc, service, true);
            }
            if (!action)
                continue;
            if (v.not_resource || !v.has_resource)
                return true;
            for (size_t r = 0; r < v.n_resources; r++) {
                if (tm__graph_glob(v.resources[r], res, false))
                    return true;
                if (bucket) {
                    char objects[2048];
                    if (snprintf(objects, sizeof(objects), "%s/*", res) < (int)sizeof(objects) &&
                        tm__graph_glob(v.resources[r], objects, false))
                        return true;
                }
            }
        }
    }
    return false;
}

static bool s_member_partial_deny(const struct tm_graph *g, const struct tm__graph_principal *p, uint32_t member,
                                  const char *service, const char *res, bool bucket) {
    const struct tm_iam_policy *own[] = {g->extra[member].policy};
    if (s_partial_deny(own, 1, service, res, bucket))
        return true;
    const struct tm__graph_account *a = g->extra[member].account;
    for (size_t l = 0; a && l < a->rcps.n_levels; l++)
        if (s_partial_deny(a->rcps.levels[l].policies, a->rcps.levels[l].n, service, res, bucket))
            return true;
    if (!p)
        return false;
    if (s_partial_deny(p->identity, p->n_identity, service, res, bucket) ||
        s_partial_deny(p->boundary, p->n_boundary, service, res, bucket))
        return true;
    for (size_t l = 0; s_scps_apply(p) && l < p->account->scps.n_levels; l++)
        if (s_partial_deny(p->account->scps.levels[l].policies, p->account->scps.levels[l].n, service, res, bucket))
            return true;
    return false;
}

/* The part of an action pattern that names a service's actions ("*" → "s3:*", "*:Get*" → "s3:Get*"), in buf; the
 * pattern itself when the service is not known; NULL when the pattern names none of the service's actions. Lets the
 * catalogue go straight to the service instead of walking every action. */
static const char *s_service_pattern(const char *pattern, const char *service, char *buf, size_t len) {
    if (!service)
        return pattern;
    const char *colon = strchr(pattern, ':');
    char svc[64];
    if (colon) {
        size_t sl = (size_t)(colon - pattern);
        if (sl >= sizeof(svc))
            return pattern;
        memcpy(svc, pattern, sl);
        svc[sl] = '\0';
        if (!tm__graph_glob(svc, service, true))
            return NULL;
    }
    if (snprintf(buf, len, "%s:%s", service, colon ? colon + 1 : pattern) >= (int)len)
        return pattern;
    return buf;
}

bool tm__graph_member_allowed(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t member,
                              const char *res) {
    bool conditional = (e->flags & TM_GRAPH_EDGE_CONDITIONAL) != 0;
    const struct tm_graph_node *mn = &g->nodes[member];
    bool bucket = res == mn->id && mn->type && strcmp(mn->type, "aws:s3:bucket") == 0;
    uint32_t pi = g->extra[e->from].principal;
    const struct tm__graph_principal *p = pi != TM_GRAPH_NONE ? &g->principals[pi] : NULL;
    const char *from = g->nodes[e->from].id;
    const char *service = g->extra[member].service;
    char own[320];
    for (size_t i = 0; i < e->n_actions; i++) {
        const char *action = e->actions[i];
        if (!s_has_wildcard(action)) {
            char objects[2048];
            const char *r = res;
            if (bucket && s_object_action(action) &&
                snprintf(objects, sizeof(objects), "%s/*", res) < (int)sizeof(objects))
                r = objects;
            if (s_allowed(g, from, e->from, action, r, member, conditional))
                return true;
            continue;
        }
        enum tm_iam_reason reason = TM_IAM_REASON_NONE;
        bool accepted = s_decide(g, from, e->from, action, res, member, conditional, &reason);
        if (accepted && !s_member_partial_deny(g, p, member, service, res, bucket))
            return true;
        if (!accepted && !s_narrowable(reason))
            continue;
        struct s_expand c = {.g = g,
                             .p = p,
                             .pid = from,
                             .pnode = e->from,
                             .kind = e->kind,
                             .service = service,
                             .resource = res,
                             .r = member,
                             .bucket = bucket,
                             .conditional = conditional,
                             .first = true};
        const char *pattern = s_service_pattern(action, service, own, sizeof(own));
        if (pattern && s_expand(&c, pattern) == TM_OK && c.n_allowed) {
            free((void *)c.allowed);
            return true;
        }
        free((void *)c.allowed);
    }
    return false;
}

/* Policy variables make a pattern per-principal; for the graph they become wildcards (members are then
 * re-evaluated by the engine, which resolves them). ${aws:username} is resolved here for users. */
static const char *s_resolve_vars(struct tm_graph *g, const char *pattern, const char *username, bool *had_vars) {
    *had_vars = false;
    if (!strstr(pattern, "${"))
        return pattern;
    struct tm_buf b;
    tm_buf_init(&b, 8192);
    const char *p = pattern;
    while (*p) {
        const char *v = strstr(p, "${");
        const char *end = v ? strchr(v, '}') : NULL;
        if (!v || !end) {
            if (tm_buf_append_str(&b, p))
                break;
            break;
        }
        if (tm_buf_append(&b, p, (size_t)(v - p)))
            break;
        if (username && strncasecmp(v, "${aws:username}", 15) == 0) {
            if (tm_buf_append_str(&b, username))
                break;
        } else {
            *had_vars = true;
            if (tm_buf_append_char(&b, '*'))
                break;
        }
        p = end + 1;
    }
    const char *out = tm__graph_strdup(g, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    return out;
}

struct s_grant {
    struct tm_graph *g;
    const struct tm__graph_principal *p;
    const char *pid; /* the principal's id (stable: nodes may move while edges are added) */
    const struct tm_iam_policy *policy;
    struct tm_iam_statement_view v;
    const char *policy_name;
    const char *conditions;
    const char *username;
    const char *stmt_text; /* the statement's evidence text, made for its first edge (NULL before) */
};

/* Could a Deny, the boundary or an SCP treat members of a set differently? If not, the set edge is exact:
 * every member is reached without asking the engine again. */
static bool s_deny_touches(const struct tm_iam_policy *p, const char *service) {
    size_t n = tm_iam_policy_statement_count(p);
    for (size_t i = 0; i < n; i++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(p, i, &v) || v.effect != TM_IAM_DENY)
            continue;
        /* A Deny on every resource without conditions treats all members alike. */
        if (!v.not_resource && !v.n_conditions && v.n_resources == 1 && strcmp(v.resources[0], "*") == 0)
            continue;
        if (v.not_action)
            return true;
        for (size_t a = 0; a < v.n_actions; a++) {
            const char *colon = strchr(v.actions[a], ':');
            if (!colon || strcmp(service, "*") == 0 || strcspn(v.actions[a], "*?") < (size_t)(colon - v.actions[a]) ||
                (strncasecmp(v.actions[a], service, (size_t)(colon - v.actions[a])) == 0 &&
                 strlen(service) == (size_t)(colon - v.actions[a])))
                return true;
        }
    }
    return false;
}

static bool s_allows_all(const struct tm_iam_policy *const *ps, size_t n, const char *const *actions,
                         size_t n_actions) {
    for (size_t a = 0; a < n_actions; a++) {
        bool covered = false;
        for (size_t i = 0; i < n && !covered; i++) {
            size_t ns = tm_iam_policy_statement_count(ps[i]);
            for (size_t s = 0; s < ns && !covered; s++) {
                struct tm_iam_statement_view v;
                if (tm_iam_policy_statement(ps[i], s, &v) || v.effect != TM_IAM_ALLOW || v.not_action ||
                    v.not_resource || v.n_conditions || v.n_resources != 1 || strcmp(v.resources[0], "*") != 0)
                    continue;
                for (size_t k = 0; k < v.n_actions && !covered; k++)
                    covered = tm__graph_glob(v.actions[k], actions[a], true);
            }
        }
        if (!covered)
            return false;
    }
    return true;
}

static bool s_exact(const struct s_grant *gr, const char *service, const char *const *actions, size_t n_actions) {
    const struct tm__graph_principal *p = gr->p;
    if (gr->v.n_conditions || gr->v.not_resource)
        return false;
    for (size_t i = 0; i < p->n_identity; i++)
        if (s_deny_touches(p->identity[i], service))
            return false;
    for (size_t i = 0; i < p->n_boundary; i++)
        if (s_deny_touches(p->boundary[i], service))
            return false;
    if (p->n_boundary && !s_allows_all(p->boundary, p->n_boundary, actions, n_actions))
        return false;
    if (p->account && !p->skip_scps && !p->account->is_management) {
        for (size_t l = 0; l < p->account->scps.n_levels; l++) {
            const struct tm_iam_policy_level *lv = &p->account->scps.levels[l];
            for (size_t i = 0; i < lv->n; i++)
                if (s_deny_touches(lv->policies[i], service))
                    return false;
            if (!s_allows_all(lv->policies, lv->n, actions, n_actions))
                return false;
        }
    }
    return true;
}

/* The principal-side exactness of s_exact, for a whole action rather than one statement's grant. */
bool tm__graph_uniform(const struct tm_graph *g, uint32_t principal, const char *action) {
    uint32_t pi = g->extra[principal].principal;
    if (pi == TM_GRAPH_NONE)
        return false;
    const struct tm__graph_principal *p = &g->principals[pi];
    char service[64];
    const char *colon = strchr(action, ':');
    size_t sl = colon ? (size_t)(colon - action) : 0;
    if (!colon || sl >= sizeof(service))
        return false;
    memcpy(service, action, sl);
    service[sl] = '\0';
    const char *const acts[] = {action};
    for (size_t i = 0; i < p->n_identity; i++)
        if (s_deny_touches(p->identity[i], service))
            return false;
    for (size_t i = 0; i < p->n_boundary; i++)
        if (s_deny_touches(p->boundary[i], service))
            return false;
    if (p->n_boundary && !s_allows_all(p->boundary, p->n_boundary, acts, 1))
        return false;
    if (p->account && !p->skip_scps && !p->account->is_management)
        for (size_t l = 0; l < p->account->scps.n_levels; l++) {
            const struct tm_iam_policy_level *lv = &p->account->scps.levels[l];
            for (size_t i = 0; i < lv->n; i++)
                if (s_deny_touches(lv->policies[i], service))
                    return false;
            if (!s_allows_all(lv->policies, lv->n, acts, 1))
                return false;
        }
    return true;
}

/* The node a resource pattern names for a service: a node, or a set. *pattern_out is what set members
 * are re-evaluated with (S3 object suffix kept). */
static uint32_t s_target(struct tm_graph *g, const char *service, const char *resource, bool force_set,
                         enum tm_graph_edge_kind kind, bool *is_set) {
    *is_set = false;
    /* S3 objects belong to their bucket: a grant on the objects of bucket b is a grant on b. */
    char bucket[1024];
    const char *r = resource;
    if (strncmp(resource, "arn:aws:s3:::", 13) == 0) {
        const char *slash = strchr(resource + 13, '/');
        if (slash && (size_t)(slash - resource) < sizeof(bucket)) {
            memcpy(bucket, resource, (size_t)(slash - resource));
            bucket[slash - resource] = '\0';
            r = bucket;
        }
    }
    if (!force_set && !s_has_wildcard(r))
        return tm__graph_ref_node(g, r);
    *is_set = true;
    char svc[64];
    const char *rs = tm__graph_arn_service(r, svc, sizeof(svc));
    if (rs && !s_has_wildcard(rs))
        service = rs;
    /* Roles are the only thing one passes or assumes. */
    if ((kind == TM_GRAPH_EDGE_CAN_PASS || kind == TM_GRAPH_EDGE_CAN_ASSUME) && strcmp(r, "*") == 0)
        return s_set_node(g, "iam", "arn:aws:iam::*:role/*");
    return s_set_node(g, service, r);
}

static int s_grant_edges(struct s_grant *gr, const char *resource, const char *const *acts, size_t n_acts,
                         const char *service, bool not_action) {
    struct tm_graph *g = gr->g;
    /* Patterns per kind. */
    const char **by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
    size_t n_by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
    unsigned all = 0;
    if (not_action) {
        struct s_not_ctx c = {gr->v.actions, gr->v.n_actions, 0};
        if (tm_iam_catalog_expand(NULL, g->opts.actions, "*", s_not_cb, &c))
            return TM_ERR_NOMEM;
        all = c.mask;
        for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++)
            if (all & TM_GRAPH_EDGE_MASK(k)) {
                by_kind[k] = (const char **)tm__graph_one(g, "*");
                if (!by_kind[k])
                    return TM_ERR_NOMEM;
                n_by_kind[k] = 1;
            }
    } else {
        for (size_t i = 0; i < n_acts; i++) {
            unsigned m = tm__graph_pattern_kinds(g, acts[i]);
            all |= m;
            for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++) {
                if (!(m & TM_GRAPH_EDGE_MASK(k)))
                    continue;
                if (!by_kind[k] && !(by_kind[k] = tm__graph_alloc(g, n_acts * sizeof(char *))))
                    return TM_ERR_NOMEM;
                by_kind[k][n_by_kind[k]++] = acts[i];
            }
        }
    }
    bool had_vars = false;
    const char *res = s_resolve_vars(g, resource, gr->username, &had_vars);
    if (!res)
        return TM_ERR_NOMEM;
    bool conditional = gr->v.n_conditions > 0;
    for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++) {
        /* Assuming a role is decided by its trust policy: graph_edges' trust pass makes those edges. */
        if (!n_by_kind[k] || k == TM_GRAPH_EDGE_CAN_ASSUME)
            continue;
        bool is_set = false;
        uint32_t to = s_target(g, service, res, had_vars || gr->v.not_resource, (enum tm_graph_edge_kind)k, &is_set);
        if (to == TM_GRAPH_NONE)
            return TM_ERR_NOMEM;
        if (to == gr->p->node && k != TM_GRAPH_EDGE_CAN_WRITE)
            continue;
        /* Keep the actions the engine allows: an SCP may deny some of a statement's actions, a boundary or an SCP
         * may allow only part of a pattern. */
        char svc[64];
        const char *rs = tm__graph_arn_service(res, svc, sizeof(svc));
        const char *only = rs && !s_has_wildcard(rs) ? rs : strcmp(service, "*") != 0 ? service : NULL;
        struct s_expand base = {.g = g,
                                .p = gr->p,
                                .pid = gr->pid,
                                .pnode = gr->p->node,
                                .kind = (enum tm_graph_edge_kind)k,
                                .service = only,
                                .resource = res,
                                .r = !is_set && strcmp(g->nodes[to].id, res) == 0 ? to : TM_GRAPH_NONE,
                                .conditional = conditional};
        const char **kept = NULL;
        size_t n_kept = 0;
        int nrc = s_narrow(g, &base, by_kind[k], n_by_kind[k], NULL, &kept, &n_kept);
        if (nrc)
            return nrc;
        if (!n_kept)
            continue;
        by_kind[k] = kept;
        n_by_kind[k] = n_kept;
        unsigned flags = (conditional ? TM_GRAPH_EDGE_CONDITIONAL : 0u) | (is_set ? TM_GRAPH_EDGE_TO_SET : 0u);
        if (is_set && s_exact(gr, g->nodes[to].set_service, by_kind[k], n_by_kind[k]))
            flags |= TM_GRAPH_EDGE_EXACT;
        struct tm__graph_edge_spec e = {
            .from = gr->p->node,
            .to = to,
            .kind = (enum tm_graph_edge_kind)k,
            .flags = flags,
            .actions = (const char *const *)by_kind[k],
            .n_actions = n_by_kind[k],
            .conditions = gr->conditions,
            .statement = gr->v.json,
            .pattern = res,
            .ev = {"identity", gr->pid, gr->policy_name, (int32_t)gr->v.index, gr->v.sid, gr->stmt_text},
        };
        if (!e.ev.text && !(e.ev.text = gr->stmt_text = tm__graph_statement_text(g, "identity policy", gr->policy_name,
                                                                                 gr->v.index, gr->v.sid)))
            return TM_ERR_NOMEM;
        int rc = tm__graph_edge(g, &e);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_identity_statement(struct s_grant *gr) {
    struct tm_graph *g = gr->g;
    const struct tm_iam_statement_view *v = &gr->v;
    if (v->effect != TM_IAM_ALLOW || !v->has_resource)
        return TM_OK;
    gr->conditions = tm__graph_conditions_text(g, gr->policy, v->index, v->n_conditions);
    static const char *const star[] = {"*"};
    const char *const *resources = v->not_resource ? star : v->resources;
    size_t n_resources = v->not_resource ? 1 : v->n_resources;
    for (size_t r = 0; r < n_resources; r++) {
        const char *resource = resources[r];
        char svc[64];
        const char *rs = tm__graph_arn_service(resource, svc, sizeof(svc));
        if (v->not_action) {
            int rc = s_grant_edges(gr, resource, NULL, 0, rs && !s_has_wildcard(rs) ? rs : "*", true);
            if (rc)
                return rc;
            continue;
        }
        /* Group the statement's actions by service: "*" on Resource "*" with s3 and sqs actions is two sets. */
        const char **acts = tm__graph_alloc(g, (v->n_actions ? v->n_actions : 1) * sizeof(char *));
        if (!acts)
            return TM_ERR_NOMEM;
        bool *done = calloc(v->n_actions ? v->n_actions : 1, sizeof(bool));
        if (!done)
            return TM_ERR_NOMEM;
        int rc = TM_OK;
        for (size_t a = 0; a < v->n_actions && !rc; a++) {
            if (done[a])
                continue;
            const char *service = s_action_service(g, v->actions[a]);
            if (!service) {
                rc = TM_ERR_NOMEM;
                break;
            }
            size_t n = 0;
            for (size_t b = a; b < v->n_actions; b++) {
                if (done[b])
                    continue;
                const char *sb = s_action_service(g, v->actions[b]);
                if (sb && strcmp(sb, service) == 0) {
                    acts[n++] = v->actions[b];
                    done[b] = true;
                }
            }
            /* A resource of another service than the actions': nothing applies (unless either side is
             * a wildcard). */
            if (rs && !s_has_wildcard(rs) && strcmp(service, "*") != 0 && strcasecmp(rs, service) != 0)
                continue;
            rc = s_grant_edges(gr, resource, acts, n, service, false);
            acts = tm__graph_alloc(g, (v->n_actions ? v->n_actions : 1) * sizeof(char *));
            if (!acts && !rc)
                rc = TM_ERR_NOMEM;
        }
        free(done);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_identity_unknown(struct tm_graph *g, const struct tm__graph_principal *p) {
    /* What this principal can do could not be read: say "anything, perhaps". */
    uint32_t all = s_set_node(g, "*", "*");
    static const char *const star[] = {"*"};
    for (unsigned k = TM_GRAPH_EDGE_CAN_READ; k <= TM_GRAPH_EDGE_CAN_WRITE; k++) {
        struct tm__graph_edge_spec e = {
            .from = p->node,
            .to = all,
            .kind = (enum tm_graph_edge_kind)k,
            .flags = TM_GRAPH_EDGE_UNKNOWN | TM_GRAPH_EDGE_TO_SET,
            .actions = star,
            .n_actions = 1,
            .pattern = "*",
            .ev = {"identity", g->nodes[p->node].id, NULL, -1, NULL,
                   "identity policies could not be read: what this principal can do is unknown"},
        };
        int rc = tm__graph_edge(g, &e);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_identity_pass(struct tm_graph *g) {
    for (size_t i = 0; i < g->n_principals; i++) {
        const struct tm__graph_principal *p = &g->principals[i];
        /* Nodes move when the node array grows (sets and named resources are added below): keep what is needed,
         * the strings, which do not. */
        const char *pid = g->nodes[p->node].id;
        const char *username = NULL;
        if (g->nodes[p->node].type && strcmp(g->nodes[p->node].type, "aws:iam:user") == 0)
            username = g->nodes[p->node].name;
        int rc;
        if (p->identity_unknown && (rc = s_identity_unknown(g, p)))
            return rc;
        for (size_t k = 0; k < p->n_identity; k++) {
            bool seen = false;
            for (size_t j = 0; j < k && !seen; j++)
                seen = p->identity[j] == p->identity[k];
            if (seen)
                continue;
            struct s_grant gr = {.g = g, .p = p, .pid = pid, .policy = p->identity[k], .username = username};
            gr.policy_name = p->identity_names[k];
            size_t n = tm_iam_policy_statement_count(gr.policy);
            for (size_t s = 0; s < n; s++) {
                if (tm_iam_policy_statement(gr.policy, s, &gr.v))
                    continue;
                gr.stmt_text = NULL;
                if ((rc = s_identity_statement(&gr)))
                    return rc;
            }
        }
    }
    return TM_OK;
}

/* ---- resource and trust policies naming principals of the account ---- */

/* The resource string a grant on a resource node is evaluated with: S3 object actions act on objects. */
static const char *s_eval_resource(struct tm_graph *g, const struct tm_graph_node *rn, const char *action) {
    if (rn->type && strcmp(rn->type, "aws:s3:bucket") == 0 && strchr(action, ':')) {
        const char *name = strchr(action, ':') + 1;
        /* Bucket-level actions name the bucket; the rest (GetObject, PutObject, ...) its objects. */
        if (strstr(name, "Bucket") == NULL && strncasecmp(name, "List", 4) != 0)
            return tm__graph_printf(g, "%s/*", rn->id);
    }
    return rn->id;
}

/* Statements of a resource (or trust) policy that name a user or role of the snapshot. */
static int s_named_principals(struct tm_graph *g, uint32_t rnode) {
    const struct tm_iam_policy *pol = g->extra[rnode].policy;
    const struct tm_graph_node *rn = &g->nodes[rnode];
    bool trust = rn->type && strcmp(rn->type, "aws:iam:role") == 0;
    size_t n = tm_iam_policy_statement_count(pol);
    for (size_t s = 0; s < n; s++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(pol, s, &v) || v.effect != TM_IAM_ALLOW ||
            v.principal_mode != TM_IAM_PRINCIPAL_LIST)
            continue;
        const char *conditions = NULL;
        bool cond_done = false;
        for (size_t k = 0; k < v.n_principals; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(pol, s, k, &pv) || pv.type != TM_IAM_PTYPE_AWS)
                continue;
            if (pv.aws_kind != TM_IAM_AWS_USER && pv.aws_kind != TM_IAM_AWS_ROLE)
                continue;
            uint32_t p = tm__graph_lookup(g, pv.value);
            if (p == TM_GRAPH_NONE || g->extra[p].principal == TM_GRAPH_NONE || p == rnode)
                continue;
            if (!cond_done) {
                conditions = tm__graph_conditions_text(g, pol, s, v.n_conditions);
                cond_done = true;
            }
            /* Evaluate each kind the statement grants. */
            const char **by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
            size_t n_by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
            static const char *const star[] = {"*"};
            const char *const *acts = v.not_action ? star : v.actions;
            size_t n_acts = v.not_action ? 1 : v.n_actions;
            for (size_t a = 0; a < n_acts; a++) {
                unsigned m = tm__graph_pattern_kinds(g, acts[a]);
                for (unsigned kk = 0; kk < TM_GRAPH_EDGE_KIND_COUNT; kk++) {
                    if (!(m & TM_GRAPH_EDGE_MASK(kk)))
                        continue;
                    if (!by_kind[kk] && !(by_kind[kk] = tm__graph_alloc(g, n_acts * sizeof(char *))))
                        return TM_ERR_NOMEM;
                    by_kind[kk][n_by_kind[kk]++] = acts[a];
                }
            }
            for (unsigned kk = 0; kk < TM_GRAPH_EDGE_KIND_COUNT; kk++) {
                if (!n_by_kind[kk])
                    continue;
                /* A trust policy grants only assuming; a resource policy never does. */
                if (trust != (kk == TM_GRAPH_EDGE_CAN_ASSUME))
                    continue;
                uint32_t pi = g->extra[p].principal;
                struct s_expand base = {.g = g,
                                        .p = &g->principals[pi],
                                        .pid = g->nodes[p].id,
                                        .pnode = p,
                                        .kind = (enum tm_graph_edge_kind)kk,
                                        .service = g->extra[rnode].service,
                                        .resource = rn->id,
                                        .r = TM_GRAPH_NONE,
                                        .conditional = v.n_conditions > 0};
                const char **kept = NULL;
                size_t n_kept = 0;
                int nrc = s_narrow(g, &base, by_kind[kk], n_by_kind[kk], rn, &kept, &n_kept);
                if (nrc)
                    return nrc;
                rn = &g->nodes[rnode];
                if (!n_kept)
                    continue;
                by_kind[kk] = kept;
                n_by_kind[kk] = n_kept;
                struct tm__graph_edge_spec e = {
                    .from = p,
                    .to = rnode,
                    .kind = (enum tm_graph_edge_kind)kk,
                    .flags = v.n_conditions ? TM_GRAPH_EDGE_CONDITIONAL : 0u,
                    .actions = (const char *const *)by_kind[kk],
                    .n_actions = n_by_kind[kk],
                    .conditions = conditions,
                    .statement = v.json,
                    .ev = {trust ? "trust" : "resource", rn->id, NULL, (int32_t)s, v.sid,
                           tm__graph_statement_text(g, trust ? "trust policy" : "resource policy", NULL, s, v.sid)},
                };
                int rc = tm__graph_edge(g, &e);
                if (rc)
                    return rc;
            }
        }
    }
    return TM_OK;
}

/* Does a statement allow an action literally (pattern match only; the engine decides afterwards)? */
static bool s_stmt_action(const struct tm_iam_statement_view *v, const char *action) {
    bool m = false;
    for (size_t a = 0; a < v->n_actions && !m; a++)
        m = tm__graph_glob(v->actions[a], action, true);
    return v->not_action ? !m : m;
}

/* Does the trust policy let the role's own account (its root) assume it? *plain: through a statement
 * without conditions, in a trust policy without Deny statements. */
static bool s_trusts_own_account(const struct tm_graph *g, uint32_t role, bool *plain, size_t *stmt) {
    const struct tm_iam_policy *pol = g->extra[role].policy;
    const struct tm_graph_node *rn = &g->nodes[role];
    *plain = false;
    if (!pol || !rn->account)
        return false;
    bool found = false, deny = false;
    size_t n = tm_iam_policy_statement_count(pol);
    for (size_t s = 0; s < n; s++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(pol, s, &v))
            continue;
        if (v.effect == TM_IAM_DENY) {
            deny = true;
            continue;
        }
        if (v.principal_mode != TM_IAM_PRINCIPAL_LIST || !s_stmt_action(&v, "sts:AssumeRole"))
            continue;
        for (size_t k = 0; k < v.n_principals; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(pol, s, k, &pv) == TM_OK && pv.type == TM_IAM_PTYPE_AWS &&
                pv.aws_kind == TM_IAM_AWS_ACCOUNT && pv.account && strcmp(pv.account, rn->account) == 0) {
                if (!found || !v.n_conditions) {
                    *stmt = s;
                    *plain = !v.n_conditions;
                }
                found = true;
            }
        }
    }
    *plain = *plain && !deny;
    return found;
}

/* A candidate for roles that trust their own account: a principal whose identity policies could allow
 * sts:AssumeRole. Uniform candidates (allowed on every role alike) get one edge to the set of such roles;
 * the others are checked role by role, through the concrete role ARNs they name when they name them. */
struct s_assumer {
    uint32_t principal; /* index into principals */
    bool uniform;
    bool patterns; /* some statement names roles by a pattern (or NotResource, or a policy variable) */
};

static bool s_assume_stmt(const struct tm_iam_statement_view *v) {
    return v->effect == TM_IAM_ALLOW && s_stmt_action(v, "sts:AssumeRole");
}

static int s_assumers(struct tm_graph *g, struct s_assumer **out, size_t *n) {
    *out = calloc(g->n_principals ? g->n_principals : 1, sizeof(**out));
    *n = 0;
    if (!*out)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < g->n_principals; i++) {
        const struct tm__graph_principal *p = &g->principals[i];
        bool any = false, patterns = false;
        for (size_t k = 0; k < p->n_identity; k++) {
            size_t ns = tm_iam_policy_statement_count(p->identity[k]);
            for (size_t st = 0; st < ns; st++) {
                struct tm_iam_statement_view v;
                if (tm_iam_policy_statement(p->identity[k], st, &v) || !s_assume_stmt(&v))
                    continue;
                any = true;
                if (v.not_resource || strstr(tm_iam_policy_text(p->identity[k]), "${"))
                    patterns = true;
                for (size_t r = 0; r < v.n_resources; r++)
                    patterns = patterns || strpbrk(v.resources[r], "*?") != NULL;
            }
        }
        if (!any)
            continue;
        const char *pid = g->nodes[p->node].id;
        bool uniform =
            tm__graph_allowed(g, pid, "sts:AssumeRole", "*", false) && tm__graph_uniform(g, p->node, "sts:AssumeRole");
        (*out)[(*n)++] = (struct s_assumer){(uint32_t)i, uniform, patterns};
    }
    return TM_OK;
}

/* Could one of a principal's Allow statements name this role? A quick filter before asking the engine. */
static bool s_may_assume(const struct tm__graph_principal *p, const char *role) {
    for (size_t k = 0; k < p->n_identity; k++) {
        size_t ns = tm_iam_policy_statement_count(p->identity[k]);
        for (size_t s = 0; s < ns; s++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(p->identity[k], s, &v) || !s_assume_stmt(&v))
                continue;
            if (v.not_resource || strstr(tm_iam_policy_text(p->identity[k]), "${"))
                return true;
            for (size_t r = 0; r < v.n_resources; r++)
                if (tm__graph_glob(v.resources[r], role, false))
                    return true;
        }
    }
    return false;
}

/* (role ARN, assumer) for every concrete role ARN an assumer's sts:AssumeRole statements name, sorted. */
struct s_named {
    const char *arn;
    size_t assumer;
};

static int s_cmp_named(const void *a, const void *b) {
    const struct s_named *x = a, *y = b;
    int c = strcmp(x->arn, y->arn);
    return c ? c : (x->assumer < y->assumer ? -1 : x->assumer > y->assumer);
}

static int s_named_roles(struct tm_graph *g, const struct s_assumer *as, size_t n_as, struct s_named **out, size_t *n) {
    size_t cap = 0, k = 0;
    struct s_named *v = NULL;
    for (size_t i = 0; i < n_as; i++) {
        const struct tm__graph_principal *p = &g->principals[as[i].principal];
        for (size_t pi = 0; pi < p->n_identity; pi++) {
            size_t ns = tm_iam_policy_statement_count(p->identity[pi]);
            for (size_t st = 0; st < ns; st++) {
                struct tm_iam_statement_view sv;
                if (tm_iam_policy_statement(p->identity[pi], st, &sv) || !s_assume_stmt(&sv) || sv.not_resource)
                    continue;
                for (size_t r = 0; r < sv.n_resources; r++) {
                    if (strpbrk(sv.resources[r], "*?"))
                        continue;
                    if (k == cap) {
                        cap = cap ? cap * 2 : 64;
                        struct s_named *nv = realloc(v, cap * sizeof(*nv));
                        if (!nv) {
                            free(v);
                            return TM_ERR_NOMEM;
                        }
                        v = nv;
                    }
                    v[k++] = (struct s_named){sv.resources[r], i};
                }
            }
        }
    }
    if (k > 1)
        qsort(v, k, sizeof(*v), s_cmp_named);
    *out = v;
    *n = k;
    return TM_OK;
}

static int s_assume_edge(struct tm_graph *g, uint32_t from, uint32_t role, size_t stmt) {
    const struct tm_iam_policy *pol = g->extra[role].policy;
    struct tm_iam_statement_view v;
    if (tm_iam_policy_statement(pol, stmt, &v))
        return TM_OK;
    const struct tm_graph_node *rn = &g->nodes[role];
    struct tm__graph_edge_spec e = {
        .from = from,
        .to = role,
        .kind = TM_GRAPH_EDGE_CAN_ASSUME,
        .flags = v.n_conditions ? TM_GRAPH_EDGE_CONDITIONAL : 0u,
        .actions = tm__graph_one(g, "sts:AssumeRole"),
        .n_actions = 1,
        .conditions = tm__graph_conditions_text(g, pol, stmt, v.n_conditions),
        .statement = v.json,
        .ev = {"trust", rn->id, NULL, (int32_t)stmt, v.sid,
               tm__graph_printf(
                   g, "%s; the principal's identity policy allows sts:AssumeRole",
                   tm__graph_statement_text(g, "trust policy (trusts its own account)", NULL, stmt, v.sid))},
    };
    return tm__graph_edge(g, &e);
}

/* Roles that trust their own account ("arn:aws:iam::A:root"): every principal of A whose identity policies
 * allow sts:AssumeRole on the role can assume it. */
static int s_trust_account_pass(struct tm_graph *g) {
    struct s_assumer *as = NULL;
    size_t n_as = 0;
    int rc = s_assumers(g, &as, &n_as);
    if (rc)
        return rc;
    /* Uniform assumers: one edge each, to the roles of their account that trust the account. */
    for (size_t i = 0; i < n_as && !rc; i++) {
        if (!as[i].uniform)
            continue;
        const struct tm__graph_principal *p = &g->principals[as[i].principal];
        const char *acct = g->nodes[p->node].account;
        if (!acct)
            continue;
        const char *pattern = tm__graph_printf(g, "arn:aws:iam::%s:role/*", acct);
        uint32_t set = pattern ? tm__graph_set_node(g, "iam", pattern, "account") : TM_GRAPH_NONE;
        struct tm__graph_edge_spec e = {
            .from = p->node,
            .to = set,
            .kind = TM_GRAPH_EDGE_CAN_ASSUME,
            .flags = TM_GRAPH_EDGE_TO_SET | TM_GRAPH_EDGE_EXACT,
            .actions = tm__graph_one(g, "sts:AssumeRole"),
            .n_actions = 1,
            .pattern = pattern,
            .ev = {"identity", g->nodes[p->node].id, NULL, -1, NULL,
                   "the identity policies allow sts:AssumeRole on every role, and these roles trust their own "
                   "account"},
        };
        rc = tm__graph_edge(g, &e);
    }
    /* The others, role by role: those naming roles by pattern are tried on each; those naming concrete role
     * ARNs only where they name them (an index from ARN to assumer). */
    struct s_named *named = NULL;
    size_t n_named = 0;
    if (!rc)
        rc = s_named_roles(g, as, n_as, &named, &n_named);
    size_t n = g->n_nodes;
    for (size_t r = 0; r < n && !rc; r++) {
        if (!g->extra[r].trusts_account)
            continue;
        bool plain = false;
        size_t stmt = 0;
        s_trusts_own_account(g, (uint32_t)r, &plain, &stmt);
        const struct tm_graph_node *rn = &g->nodes[r];
        size_t lo = 0, hi = n_named;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(named[mid].arn, rn->id) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = 0; i < n_as && !rc; i++) {
            bool by_name = false;
            for (size_t k = lo; k < n_named && strcmp(named[k].arn, rn->id) == 0 && !by_name; k++)
                by_name = named[k].assumer == i;
            if (!as[i].patterns && !by_name)
                continue;
            const struct tm__graph_principal *p = &g->principals[as[i].principal];
            const struct tm_graph_node *pn = &g->nodes[p->node];
            if ((as[i].uniform && plain) || p->node == r || !pn->account || strcmp(pn->account, rn->account) != 0 ||
                !s_may_assume(p, rn->id))
                continue;
            if (tm__graph_allowed(g, pn->id, "sts:AssumeRole", rn->id, !plain))
                rc = s_assume_edge(g, p->node, (uint32_t)r, stmt);
        }
    }
    free(named);
    free(as);
    return rc;
}

/* Services a role trusts: the edge from service:NAME tells which roles a service can run as (privilege
 * escalation asks "roles trusting lambda.amazonaws.com"). */
static int s_trust_services(struct tm_graph *g, uint32_t role) {
    const struct tm_iam_policy *pol = g->extra[role].policy;
    const struct tm_graph_node *rn = &g->nodes[role];
    size_t n = tm_iam_policy_statement_count(pol);
    for (size_t s = 0; s < n; s++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(pol, s, &v) || v.effect != TM_IAM_ALLOW ||
            v.principal_mode != TM_IAM_PRINCIPAL_LIST)
            continue;
        for (size_t k = 0; k < v.n_principals; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(pol, s, k, &pv))
                continue;
            bool service = pv.type == TM_IAM_PTYPE_SERVICE;
            /* Cognito identity pools federate through cognito-identity.amazonaws.com. */
            bool cognito = pv.type == TM_IAM_PTYPE_FEDERATED && strcmp(pv.value, "cognito-identity.amazonaws.com") == 0;
            if (!service && !cognito)
                continue;
            const char *action = service ? "sts:AssumeRole" : "sts:AssumeRoleWithWebIdentity";
            if (!s_stmt_action(&v, action))
                continue;
            if (service && !tm__graph_allowed(g, pv.value, action, rn->id, v.n_conditions > 0))
                continue;
            uint32_t sn = tm__graph_service_node(g, pv.value);
            rn = &g->nodes[role];
            struct tm__graph_edge_spec e = {
                .from = sn,
                .to = role,
                .kind = TM_GRAPH_EDGE_CAN_ASSUME,
                .flags = v.n_conditions ? TM_GRAPH_EDGE_CONDITIONAL : 0u,
                .actions = tm__graph_one(g, action),
                .n_actions = 1,
                .conditions = tm__graph_conditions_text(g, pol, s, v.n_conditions),
                .statement = v.json,
                .ev = {"trust", rn->id, NULL, (int32_t)s, v.sid,
                       tm__graph_statement_text(g, "trust policy", NULL, s, v.sid)},
            };
            int rc = tm__graph_edge(g, &e);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

static int s_policy_pass(struct tm_graph *g) {
    size_t n = g->n_nodes;
    int rc = TM_OK;
    for (size_t i = 0; i < n; i++) {
        bool plain = false;
        size_t stmt = 0;
        if (g->nodes[i].type && strcmp(g->nodes[i].type, "aws:iam:role") == 0 &&
            s_trusts_own_account(g, (uint32_t)i, &plain, &stmt)) {
            g->extra[i].trusts_account = true;
            g->extra[i].trust_plain = plain;
        }
    }
    for (size_t i = 0; i < n && !rc; i++) {
        if (!(g->nodes[i].flags & TM_GRAPH_NODE_IN_SNAPSHOT) || !g->extra[i].policy)
            continue;
        rc = s_named_principals(g, (uint32_t)i);
        if (!rc && g->nodes[i].type && strcmp(g->nodes[i].type, "aws:iam:role") == 0)
            rc = s_trust_services(g, (uint32_t)i);
    }
    return rc ? rc : s_trust_account_pass(g);
}

/* ---- links: who runs as whom, what calls what ---- */

static int s_link_edge(struct tm_graph *g, uint32_t from, const char *to_id, enum tm_graph_edge_kind kind,
                       const char *text) {
    uint32_t to = tm__graph_ref_node(g, to_id);
    if (to == TM_GRAPH_NONE)
        return TM_ERR_NOMEM;
    struct tm__graph_edge_spec e = {
        .from = from,
        .to = to,
        .kind = kind,
        .ev = {"link", g->nodes[from].id, NULL, -1, NULL, text},
    };
    return tm__graph_edge(g, &e);
}

static const char *s_attr_str(const cJSON *res, const char *key) {
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(res, "attrs");
    return attrs ? tm_json_str(attrs, key, NULL) : NULL;
}

static int s_links_of(struct tm_graph *g, uint32_t node) {
    const cJSON *res = g->nodes[node].resource;
    const char *type = g->nodes[node].type;
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(res, "links");
    int rc = TM_OK;
    bool is_function = strcmp(type, "aws:lambda:function") == 0 || strcmp(type, "aws:lambda:alias") == 0;
    bool is_instance = strcmp(type, "aws:ec2:instance") == 0;
    for (const cJSON *l = cJSON_IsArray(links) ? links->child : NULL; l && !rc; l = l->next) {
        const char *kind = tm_json_str(l, "kind", ""), *to = tm_json_str(l, "to", NULL);
        if (!to)
            continue;
        if (strcmp(kind, "executes-as") == 0) {
            rc = s_link_edge(g, node, to, TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                             "runs with the credentials of its execution role");
        } else if (strcmp(kind, "has-identity") == 0) {
            rc = s_link_edge(g, node, to, TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                             is_instance ? "the instance metadata service hands out the credentials of its instance "
                                           "profile"
                                         : "runs with the credentials of this role");
        } else if (strcmp(kind, "integrates-with") == 0) {
            rc = s_link_edge(g, node, to, TM_GRAPH_EDGE_ROUTES_TO, "the integration forwards each request");
        } else if (strcmp(kind, "triggered-by") == 0) {
            /* Reversed: the queue or stream triggers the function. */
            uint32_t src = tm__graph_ref_node(g, to);
            if (src == TM_GRAPH_NONE)
                return TM_ERR_NOMEM;
            struct tm__graph_edge_spec e = {.from = src,
                                            .to = node,
                                            .kind = TM_GRAPH_EDGE_TRIGGERS,
                                            .ev = {"link", g->nodes[node].id, NULL, -1, NULL,
                                                   "an event source mapping runs the function on each message"}};
            rc = tm__graph_edge(g, &e);
        } else if (strcmp(kind, "delivers-to") == 0) {
            rc = s_link_edge(g, node, to, TM_GRAPH_EDGE_TRIGGERS, "a subscription delivers each message");
        } else if (strcmp(kind, "member-of") == 0 && strcmp(type, "aws:s3:access-point") == 0) {
            rc = s_link_edge(g, node, to, TM_GRAPH_EDGE_ROUTES_TO, "an access point serves the bucket's objects");
        }
    }
    if (rc)
        return rc;
    /* The same facts from attributes, for providers that record them there (duplicates merge). */
    if (is_function && s_attr_str(res, "role"))
        rc = s_link_edge(g, node, s_attr_str(res, "role"), TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                         "runs with the credentials of its execution role");
    if (!rc && is_instance && s_attr_str(res, "instance_profile"))
        rc = s_link_edge(g, node, s_attr_str(res, "instance_profile"), TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                         "the instance metadata service hands out the credentials of its instance profile");
    if (!rc && strcmp(type, "aws:iam:instance-profile") == 0) {
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(res, "attrs");
        const cJSON *roles = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "roles") : NULL;
        for (const cJSON *r = cJSON_IsArray(roles) ? roles->child : NULL; r && !rc; r = r->next)
            if (cJSON_IsString(r))
                rc = s_link_edge(g, node, r->valuestring, TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                                 "runs with the credentials of this role");
    }
    if (!rc && strcmp(type, "aws:lambda:event-source-mapping") == 0) {
        const char *src = s_attr_str(res, "event_source_arn"), *fn = s_attr_str(res, "function_arn");
        if (src && fn) {
            uint32_t a = tm__graph_ref_node(g, src), b = tm__graph_ref_node(g, fn);
            struct tm__graph_edge_spec e = {.from = a,
                                            .to = b,
                                            .kind = TM_GRAPH_EDGE_TRIGGERS,
                                            .ev = {"link", g->nodes[b].id, NULL, -1, NULL,
                                                   "an event source mapping runs the function on each message"}};
            rc = tm__graph_edge(g, &e);
        }
    }
    return rc;
}

static int s_link_pass(struct tm_graph *g) {
    size_t n = g->n_nodes;
    for (size_t i = 0; i < n; i++) {
        if (!(g->nodes[i].flags & TM_GRAPH_NODE_IN_SNAPSHOT))
            continue;
        int rc = s_links_of(g, (uint32_t)i);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- access keys: credentials that live outside ---- */

static int s_key_pass(struct tm_graph *g) {
    size_t nt = 0;
    const uint32_t *users = tm_graph_nodes_of_type(g, "aws:iam:user", &nt);
    uint32_t internet = tm__graph_lookup(g, TM_GRAPH_ID_INTERNET);
    for (size_t i = 0; i < nt; i++) {
        uint32_t u = users[i];
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(g->nodes[u].resource, "attrs");
        const cJSON *keys = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "access_keys") : NULL;
        bool unknown = tm_snapshot_is_unknown(keys);
        for (const cJSON *k = cJSON_IsArray(keys) ? keys->child : NULL; k; k = k->next) {
            const char *id = tm_json_str(k, "access_key_id", "?"), *status = tm_json_str(k, "status", "");
            if (strcmp(status, "Active") != 0)
                continue;
            const char *last = tm_json_str(k, "last_used_date", NULL);
            struct tm__graph_edge_spec e = {
                .from = internet,
                .to = u,
                .kind = TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                .actions = tm__graph_one(g, tm__graph_strdup(g, id)),
                .n_actions = 1,
                .ev = {"access-key", g->nodes[u].id, tm__graph_strdup(g, id), -1, NULL,
                       tm__graph_printf(g, "active access key %s (created %s, %s%s)", id,
                                        tm_json_str(k, "create_date", "at an unknown date"),
                                        last ? "last used " : "never used", last ? last : "")},
            };
            int rc = tm__graph_edge(g, &e);
            if (rc)
                return rc;
        }
        if (unknown) {
            struct tm__graph_edge_spec e = {
                .from = internet,
                .to = u,
                .kind = TM_GRAPH_EDGE_HOLDS_TOKEN_OF,
                .flags = TM_GRAPH_EDGE_UNKNOWN,
                .ev = {"access-key", g->nodes[u].id, NULL, -1, NULL,
                       "the user's access keys could not be listed: an active key may exist"},
            };
            int rc = tm__graph_edge(g, &e);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

int tm__graph_build_edges(struct tm_graph *g, char *err, size_t errlen) {
    int rc;
    if ((rc = s_link_pass(g))) {
        snprintf(err, errlen, "graph: links: %s", tm_error_str(rc));
        return rc;
    }
    if ((rc = s_identity_pass(g))) {
        snprintf(err, errlen, "graph: identity policies: %s", tm_error_str(rc));
        return rc;
    }
    if ((rc = s_policy_pass(g))) {
        snprintf(err, errlen, "graph: resource and trust policies: %s", tm_error_str(rc));
        return rc;
    }
    if ((rc = s_key_pass(g))) {
        snprintf(err, errlen, "graph: access keys: %s", tm_error_str(rc));
        return rc;
    }
    return tm__graph_build_reach(g, err, errlen);
}
