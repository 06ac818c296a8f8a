/* Snapshot → graph, part four: who is already an administrator, and the privilege-escalation techniques
 * of policies/privesc.json applied to every user and role (policies/privesc.md, "How the analyzer reads a
 * technique"). Each technique a principal can use becomes a can-escalate-to edge to what it gains: the
 * account's admin node, a user, a role, a group, or the compute resource whose role it takes over. Every
 * requirement is decided by the policy engine with the principal's identity policies, boundary and SCPs. */
#include "analyzers/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/graph_int.h"
#include "analyzers/privesc_catalog.h"
#include "core/json.h"

/* Actions that together mean full control of an account: all allowed on any resource. A principal that
 * can do all of these (after denies, boundary and SCPs) is an administrator. */
static const char *const s_probes[] = {
    "iam:CreateUser",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:CreateAccessKey",
    "s3:GetObject",
    "s3:PutBucketPolicy",
    "ec2:RunInstances",
    "kms:Decrypt",
    "lambda:UpdateFunctionCode",
    "secretsmanager:GetSecretValue",
    NULL,
};

static bool s_is_admin_set(const struct tm_iam_policy_set *set, const char *principal, const char *account,
                           const struct tm_iam_context *ctx) {
    for (size_t i = 0; s_probes[i]; i++) {
        struct tm_iam_request req = {.principal = principal,
                                     .action = s_probes[i],
                                     .resource = "*",
                                     .resource_account = account,
                                     .context = ctx};
        struct tm_iam_result r;
        tm_iam_result_init(&r);
        bool ok = tm_iam_evaluate(&r, &req, set, false) == TM_OK && r.decision == TM_IAM_ALLOWED;
        tm_iam_result_clean_up(&r);
        if (!ok)
            return false;
    }
    return true;
}

static uint32_t s_admin_node(const struct tm_graph *g, const char *account) {
    for (size_t i = 0; account && i < g->n_accounts; i++)
        if (strcmp(g->accounts[i].id, account) == 0)
            return g->accounts[i].admin_node;
    return TM_GRAPH_NONE;
}

static int s_admin_edge(struct tm_graph *g, uint32_t from, uint32_t admin, const char *text) {
    struct tm__graph_edge_spec e = {
        .from = from,
        .to = admin,
        .kind = TM_GRAPH_EDGE_CAN_ESCALATE_TO,
        .actions = tm__graph_one(g, "*"),
        .n_actions = 1,
        .ev = {"admin", g->nodes[from].id, NULL, -1, NULL, text},
    };
    return tm__graph_edge(g, &e);
}

static int s_admins(struct tm_graph *g) {
    for (size_t i = 0; i < g->n_principals; i++) {
        const struct tm__graph_principal *p = &g->principals[i];
        struct tm_graph_node *n = &g->nodes[p->node];
        struct tm_iam_policy_set set;
        bool unknown = false;
        if (tm_graph_principal_policies(g, p->node, &set, &unknown))
            continue;
        uint32_t admin = s_admin_node(g, n->account);
        if (admin == TM_GRAPH_NONE || !s_is_admin_set(&set, n->id, n->account, tm__graph_context(g, NULL)))
            continue;
        n->flags |= TM_GRAPH_NODE_IS_ADMIN;
        n->group = TM_GRAPH_GROUP_ADMIN;
        int rc = s_admin_edge(g, p->node, admin, "its policies allow every action on every resource");
        if (rc)
            return rc;
    }
    /* Groups: members get the group's policies, so joining an administrators' group is becoming one. */
    size_t ng = 0;
    const uint32_t *groups = tm_graph_nodes_of_type(g, "aws:iam:group", &ng);
    for (size_t i = 0; i < ng; i++) {
        struct tm_graph_node *n = &g->nodes[groups[i]];
        const cJSON *pols = cJSON_GetObjectItemCaseSensitive(n->resource, "policies");
        const cJSON *ident = pols ? cJSON_GetObjectItemCaseSensitive(pols, "identity") : NULL;
        const struct tm_iam_policy *ps[32];
        size_t k = 0;
        for (const cJSON *it = cJSON_IsArray(ident) ? ident->child : NULL; it && k < 32; it = it->next) {
            bool bad = false;
            const struct tm_iam_policy *p = tm__graph_policy_json(g, cJSON_GetObjectItemCaseSensitive(it, "document"),
                                                                  TM_IAM_POLICY_IDENTITY, &bad);
            if (p)
                ps[k++] = p;
        }
        uint32_t admin = s_admin_node(g, n->account);
        if (!k || admin == TM_GRAPH_NONE)
            continue;
        struct tm_iam_policy_set set = {.identity = ps, .n_identity = k};
        const char *member = tm__graph_printf(g, "arn:aws:iam::%s:user/member-of-group", n->account);
        if (!member)
            return TM_ERR_NOMEM;
        if (!s_is_admin_set(&set, member, n->account, tm__graph_context(g, NULL)))
            continue;
        n->flags |= TM_GRAPH_NODE_IS_ADMIN;
        n->group = TM_GRAPH_GROUP_ADMIN;
        int rc =
            s_admin_edge(g, groups[i], admin, "members get its policies, which allow every action on every resource");
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- techniques ---- */

static const char *s_type_of_kind(enum tm_privesc_resource r) {
    switch (r) {
        case TM_PRIVESC_RES_USER:
            return "aws:iam:user";
        case TM_PRIVESC_RES_GROUP:
            return "aws:iam:group";
        case TM_PRIVESC_RES_ROLE:
            return "aws:iam:role";
        case TM_PRIVESC_RES_FUNCTION:
            return "aws:lambda:function";
        case TM_PRIVESC_RES_INSTANCE:
            return "aws:ec2:instance";
        default:
            return NULL;
    }
}

/* The actions an identity statement allows literally; the engine decides afterwards. */
static bool s_stmt_allows(const struct tm_iam_statement_view *v, const char *action) {
    bool m = false;
    for (size_t a = 0; a < v->n_actions && !m; a++)
        m = tm__graph_glob(v->actions[a], action, true);
    return v->not_action ? !m : m;
}

/* The actions the catalogue's techniques require, each distinct one once, so that whether a principal's policies
 * mention one is worked out once per principal, not once per technique needing it (iam:PassRole, ...). */
struct s_filter {
    const char **actions;
    size_t n_actions;
    size_t *first;   /* per technique: where its requirements start in slot */
    uint32_t *slot;  /* per requirement: index into actions, or UINT32_MAX for sts:AssumeRole (trust decides) */
    uint8_t *answer; /* per action, for the current principal: 0 not asked yet, 1 mentioned, 2 not */
};

struct s_ctx {
    struct tm_graph *g;
    const struct tm__graph_principal *p;
    const char *pid;
    const char *account;
    /* The Allow statements of its identity policies, in order: read once for every technique's filter. */
    const struct tm_iam_statement_view *allows;
    size_t n_allows;
    struct s_filter *filter;
    size_t technique; /* index of the technique being tried */
};

static void s_filter_clean_up(struct s_filter *f) {
    free(f->actions);
    free(f->first);
    free(f->slot);
    free(f->answer);
    memset(f, 0, sizeof(*f));
}

static int s_filter_init(struct s_filter *f, const struct tm_privesc_catalog *cat) {
    memset(f, 0, sizeof(*f));
    size_t nt = tm_privesc_catalog_count(cat), nr = 0;
    for (size_t k = 0; k < nt; k++)
        nr += tm_privesc_catalog_get(cat, k)->requires_count;
    f->actions = malloc((nr ? nr : 1) * sizeof(*f->actions));
    f->first = malloc((nt ? nt : 1) * sizeof(*f->first));
    f->slot = malloc((nr ? nr : 1) * sizeof(*f->slot));
    f->answer = malloc(nr ? nr : 1);
    if (!f->actions || !f->first || !f->slot || !f->answer) {
        s_filter_clean_up(f);
        return TM_ERR_NOMEM;
    }
    size_t r = 0;
    for (size_t k = 0; k < nt; k++) {
        const struct tm_privesc_technique *t = tm_privesc_catalog_get(cat, k);
        f->first[k] = r;
        for (size_t i = 0; i < t->requires_count; i++, r++) {
            const char *action = t->requires[i].action;
            if (strcmp(action, "sts:AssumeRole") == 0) {
                f->slot[r] = UINT32_MAX;
                continue;
            }
            size_t a = 0;
            while (a < f->n_actions && strcmp(f->actions[a], action) != 0)
                a++;
            if (a == f->n_actions)
                f->actions[f->n_actions++] = action;
            f->slot[r] = (uint32_t)a;
        }
    }
    return TM_OK;
}

/* The principal's Allow statements (malloc'd; NULL with *n 0 when it has none). */
static int s_allow_statements(const struct tm__graph_principal *p, struct tm_iam_statement_view **out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t total = 0;
    for (size_t k = 0; k < p->n_identity; k++)
        total += tm_iam_policy_statement_count(p->identity[k]);
    if (!total)
        return TM_OK;
    struct tm_iam_statement_view *v = malloc(total * sizeof(*v));
    if (!v)
        return TM_ERR_NOMEM;
    for (size_t k = 0; k < p->n_identity; k++) {
        size_t ns = tm_iam_policy_statement_count(p->identity[k]);
        for (size_t s = 0; s < ns; s++)
            if (tm_iam_policy_statement(p->identity[k], s, &v[*n]) == TM_OK && v[*n].effect == TM_IAM_ALLOW)
                (*n)++;
    }
    *out = v;
    return TM_OK;
}

static bool s_identity_mentions(const struct s_ctx *c, const char *action) {
    for (size_t i = 0; i < c->n_allows; i++)
        if (s_stmt_allows(&c->allows[i], action))
            return true;
    return false;
}

/* Do the principal's policies mention every action the technique requires (but assuming, which trust policies
 * grant)? */
static bool s_mentions_all(const struct s_ctx *c, const struct tm_privesc_technique *t) {
    struct s_filter *f = c->filter;
    const uint32_t *slot = f->slot + f->first[c->technique];
    for (size_t i = 0; i < t->requires_count; i++) {
        if (slot[i] == UINT32_MAX)
            continue;
        uint8_t *answer = &f->answer[slot[i]];
        if (!*answer)
            *answer = s_identity_mentions(c, t->requires[i].action) ? 1 : 2;
        if (*answer == 2)
            return false;
    }
    return true;
}

static bool s_can(const struct s_ctx *c, const struct tm_privesc_requirement *r, const char *resource) {
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    const struct tm_iam_context *use = NULL;
    if (r->passed_to) {
        /* iam:PassRole is asked with the service it is passed to. */
        if (tm_iam_context_set(&ctx, "iam:PassedToService", r->passed_to) ||
            tm_iam_context_set(&ctx, "aws:SecureTransport", "true")) {
            tm_iam_context_clean_up(&ctx);
            return false;
        }
        use = &ctx;
    }
    struct tm_iam_result res;
    tm_iam_result_init(&res);
    bool unknown = false;
    bool ok = tm__graph_can(c->g, c->pid, TM_GRAPH_NONE, r->action, resource, TM_GRAPH_NONE, use, &res, &unknown,
                            false) == TM_OK &&
              res.decision == TM_IAM_ALLOWED;
    tm_iam_result_clean_up(&res);
    tm_iam_context_clean_up(&ctx);
    return ok;
}

/* Allowed on some resource: "*" (an action that creates what it names, or takes only "*"), or one of the
 * resource patterns the principal's own statements name for it. */
static bool s_can_somewhere(const struct s_ctx *c, const struct tm_privesc_requirement *r) {
    if (s_can(c, r, "*"))
        return true;
    const struct tm__graph_principal *p = c->p;
    for (size_t k = 0; k < p->n_identity; k++) {
        size_t ns = tm_iam_policy_statement_count(p->identity[k]);
        for (size_t s = 0; s < ns; s++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(p->identity[k], s, &v) || v.effect != TM_IAM_ALLOW ||
                !s_stmt_allows(&v, r->action) || v.not_resource)
                continue;
            for (size_t i = 0; i < v.n_resources; i++)
                if (strcmp(v.resources[i], "*") != 0 && s_can(c, r, v.resources[i]))
                    return true;
        }
    }
    return false;
}

/* Does the role trust what the requirement says: a service (an in-edge from service:NAME) or the principal
 * (a can-assume edge from it)? Edges are not indexed yet while building: scan the raw edges of the role. */
static bool s_trusts(const struct tm_graph *g, uint32_t role, const char *trusts, uint32_t principal) {
    uint32_t from = TM_GRAPH_NONE;
    if (strcmp(trusts, "principal") == 0) {
        from = principal;
    } else {
        char id[256];
        snprintf(id, sizeof(id), "service:%s", trusts);
        from = tm__graph_lookup(g, id);
    }
    if (from == TM_GRAPH_NONE)
        return false;
    size_t n = 0;
    const uint32_t *in = tm_graph_in(g, role, &n);
    for (size_t i = 0; i < n; i++) {
        const struct tm_graph_edge *e = &g->edges[in[i]];
        if (e->from == from && e->kind == TM_GRAPH_EDGE_CAN_ASSUME)
            return true;
    }
    return false;
}

/* The customer managed policies attached to a node (principal), for self-policy / target-policy. */
static const struct tm__graph_principal *s_principal_of(const struct tm_graph *g, uint32_t node) {
    uint32_t i = g->extra[node].principal;
    return i == TM_GRAPH_NONE ? NULL : &g->principals[i];
}

/* The first customer managed policy of owner the requirement's action is allowed on, or NULL. */
static const char *s_any_policy(const struct s_ctx *c, const struct tm_privesc_requirement *r,
                                const struct tm__graph_principal *owner) {
    for (size_t i = 0; owner && i < owner->n_managed; i++)
        if (s_can(c, r, owner->managed[i]))
            return owner->managed[i];
    return NULL;
}

static bool s_self_group(const struct s_ctx *c, const struct tm_privesc_requirement *r) {
    for (size_t i = 0; i < c->p->n_groups; i++)
        if (s_can(c, r, c->g->nodes[c->p->groups[i]].id))
            return true;
    return false;
}

/* Every non-target requirement. */
static bool s_fixed_requirements(const struct s_ctx *c, const struct tm_privesc_technique *t, const char **policy) {
    for (size_t i = 0; i < t->requires_count; i++) {
        const struct tm_privesc_requirement *r = &t->requires[i];
        bool ok = true;
        switch (r->binding) {
            case TM_PRIVESC_BIND_ANY:
                if (r->resource == TM_PRIVESC_RES_ROLE && r->role_trusts) {
                    /* Any role trusting that service (data pipeline and EMR pass two roles). */
                    ok = false;
                    size_t n = 0;
                    const uint32_t *roles = tm_graph_nodes_of_type(c->g, "aws:iam:role", &n);
                    for (size_t k = 0; k < n && !ok; k++)
                        ok = s_trusts(c->g, roles[k], r->role_trusts, c->p->node) &&
                             s_can(c, r, c->g->nodes[roles[k]].id);
                } else {
                    ok = s_can_somewhere(c, r);
                }
                break;
            case TM_PRIVESC_BIND_SELF:
                ok = s_can(c, r, c->pid);
                break;
            case TM_PRIVESC_BIND_SELF_GROUP:
                ok = s_self_group(c, r);
                break;
            case TM_PRIVESC_BIND_SELF_POLICY:
                ok = (*policy = s_any_policy(c, r, c->p)) != NULL;
                break;
            case TM_PRIVESC_BIND_TARGET:
            case TM_PRIVESC_BIND_TARGET_POLICY:
                break;
            default:
                ok = false;
                break;
        }
        if (!ok)
            return false;
    }
    return true;
}

static bool s_target_ok(const struct s_ctx *c, const struct tm_privesc_technique *t, uint32_t target,
                        const char **policy) {
    const struct tm_graph *g = c->g;
    for (size_t i = 0; i < t->requires_count; i++) {
        const struct tm_privesc_requirement *r = &t->requires[i];
        if (r->binding == TM_PRIVESC_BIND_TARGET) {
            if (r->role_trusts && !s_trusts(g, target, r->role_trusts, c->p->node))
                return false;
            /* Assuming is decided by the trust-policy edges (which asked the engine already). */
            if (strcmp(r->action, "sts:AssumeRole") == 0)
                continue;
            if (!s_can(c, r, g->nodes[target].id))
                return false;
        } else if (r->binding == TM_PRIVESC_BIND_TARGET_POLICY) {
            if (!(*policy = s_any_policy(c, r, s_principal_of(g, target))))
                return false;
        }
    }
    return true;
}

/* What the technique yields for a target: the node the can-escalate-to edge points to. */
static uint32_t s_gain(const struct s_ctx *c, const struct tm_privesc_technique *t, uint32_t target, bool *unknown) {
    *unknown = false;
    switch (t->target) {
        case TM_PRIVESC_TARGET_ANY_POLICY:
            return s_admin_node(c->g, c->account);
        case TM_PRIVESC_TARGET_POLICY_VERSION:
            /* Other versions of the policy are not in the snapshot: what they grant is unknown. */
            *unknown = true;
            return s_admin_node(c->g, c->account);
        case TM_PRIVESC_TARGET_BOUNDARY_REMOVED:
            return s_admin_node(c->g, c->account);
        case TM_PRIVESC_TARGET_USER:
        case TM_PRIVESC_TARGET_ROLE_ASSUMED:
        case TM_PRIVESC_TARGET_GROUP_JOINED:
        case TM_PRIVESC_TARGET_ROLE_PASSED:
        case TM_PRIVESC_TARGET_RESOURCE_ROLE:
            return target;
        default:
            return TM_GRAPH_NONE;
    }
}

/* Boundary removal gains only what the identity policies allow without it: admin, or nothing we name. */
static bool s_unbounded_admin(const struct s_ctx *c) {
    struct tm_iam_policy_set set;
    bool unknown = false;
    if (tm_graph_principal_policies(c->g, c->p->node, &set, &unknown))
        return false;
    set.boundaries = NULL;
    set.n_boundaries = 0;
    return c->p->n_boundary && s_is_admin_set(&set, c->pid, c->account, tm__graph_context(c->g, NULL));
}

static int s_escalate_edge(const struct s_ctx *c, const struct tm_privesc_technique *t, uint32_t to, bool unknown,
                           uint32_t via, const char *policy) {
    struct tm_graph *g = c->g;
    if (policy) {
        /* Through the policy it rewrites: P → the policy → what the new version grants. */
        uint32_t pn = tm__graph_ref_node(g, policy);
        if (pn == TM_GRAPH_NONE)
            return TM_ERR_NOMEM;
        struct tm__graph_edge_spec pe = {
            .from = pn,
            .to = to,
            .kind = TM_GRAPH_EDGE_CAN_ESCALATE_TO,
            .flags = unknown ? TM_GRAPH_EDGE_UNKNOWN : 0u,
            .actions = tm__graph_one(g, "*"),
            .n_actions = 1,
            .ev = {"technique", policy, t->id, -1, NULL,
                   unknown ? "an older version of this policy, whatever it grants, can be made the default one"
                           : "a new default version of this policy can grant anything to whoever it is attached to"},
        };
        int rc = tm__graph_edge(g, &pe);
        if (rc)
            return rc;
        via = to = pn;
        unknown = false;
    }
    const char **acts = tm__graph_alloc(g, t->requires_count * sizeof(*acts));
    if (!acts)
        return TM_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < t->requires_count; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(acts[j], t->requires[i].action) == 0;
        if (!seen)
        acts[n++] = t->requires[i].action;
    }
    const char *text =
        via != TM_GRAPH_NONE && via != to ? tm__graph_printf(g, "%s (through %s)", t->name, g->nodes[via].id) : t->name;
    struct tm__graph_edge_spec e = {
        .from = c->p->node,
        .to = to,
        .kind = TM_GRAPH_EDGE_CAN_ESCALATE_TO,
        .flags = unknown ? TM_GRAPH_EDGE_UNKNOWN : 0u,
        .actions = acts,
        .n_actions = n,
        .ev = {"technique", g->nodes[via != TM_GRAPH_NONE ? via : to].id, t->id, -1, NULL, text},
    };
    return tm__graph_edge(g, &e);
}

static int s_escalate_set_edge(const struct s_ctx *c, const struct tm_privesc_technique *t, uint32_t set) {
    struct tm_graph *g = c->g;
    const char **acts = tm__graph_alloc(g, t->requires_count * sizeof(*acts));
    if (!acts)
        return TM_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < t->requires_count; i++) {
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(acts[j], t->requires[i].action) == 0;
        if (!seen)
        acts[n++] = t->requires[i].action;
    }
    struct tm__graph_edge_spec e = {
        .from = c->p->node,
        .to = set,
        .kind = TM_GRAPH_EDGE_CAN_ESCALATE_TO,
        .flags = TM_GRAPH_EDGE_TO_SET | TM_GRAPH_EDGE_EXACT,
        .actions = acts,
        .n_actions = n,
        .pattern = g->nodes[set].set_pattern,
        .ev = {"technique", g->nodes[set].id, t->id, -1, NULL, t->name},
    };
    return tm__graph_edge(g, &e);
}

/* The roles a principal can assume (its can-assume edges, sets expanded), in node order. */
struct s_collect {
    uint32_t *v;
    size_t n, cap;
};

static int s_collect_node(uint32_t node, void *user_data) {
    struct s_collect *c = user_data;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i] == node)
            return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        uint32_t *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return TM_ERR_NOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = node;
    return 0;
}

static int s_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int s_assumable(const struct s_ctx *c, uint32_t **out, size_t *n) {
    struct s_collect col = {0};
    size_t ne = 0;
    const struct tm_graph_edge *edges = tm_graph_out(c->g, c->p->node, &ne, NULL);
    int rc = TM_OK;
    for (size_t i = 0; i < ne && !rc; i++)
        if (edges[i].kind == TM_GRAPH_EDGE_CAN_ASSUME && !(edges[i].flags & TM_GRAPH_EDGE_UNKNOWN))
            rc = tm_graph_edge_members(c->g, &edges[i], s_collect_node, &col);
    if (rc) {
        free(col.v);
        return rc;
    }
    if (col.n > 1)
        qsort(col.v, col.n, sizeof(uint32_t), s_cmp_u32);
    *out = col.v;
    *n = col.n;
    return TM_OK;
}

static const struct tm_privesc_requirement *s_first_target(const struct tm_privesc_technique *t) {
    for (size_t i = 0; i < t->requires_count; i++)
        if (t->requires[i].binding == TM_PRIVESC_BIND_TARGET)
    return &t->requires[i];
    return NULL;
}

/* The set of a target kind's resources for a uniform grant (roles: those the service they must trust can run
 * as), or TM_GRAPH_NONE when the kind has no set (roles trusting the principal: per target). */
static uint32_t s_target_set(struct tm_graph *g, const struct tm_privesc_requirement *r, const char *account) {
    char pattern[128];
    const char *service = "iam", *trusts = NULL;
    switch (r->resource) {
        case TM_PRIVESC_RES_ROLE:
            if (!r->role_trusts || strcmp(r->role_trusts, "principal") == 0)
                return TM_GRAPH_NONE;
            snprintf(pattern, sizeof(pattern), "arn:aws:iam::%s:role/*", account);
            trusts = r->role_trusts;
            break;
        case TM_PRIVESC_RES_USER:
            snprintf(pattern, sizeof(pattern), "arn:aws:iam::%s:user/*", account);
            break;
        case TM_PRIVESC_RES_GROUP:
            snprintf(pattern, sizeof(pattern), "arn:aws:iam::%s:group/*", account);
            break;
        case TM_PRIVESC_RES_FUNCTION:
            service = "lambda";
            snprintf(pattern, sizeof(pattern), "arn:aws:lambda:*:%s:function:*", account);
            break;
        case TM_PRIVESC_RES_INSTANCE:
            service = "ec2";
            snprintf(pattern, sizeof(pattern), "arn:aws:ec2:*:%s:instance/*", account);
            break;
        default:
            return TM_GRAPH_NONE;
    }
    return tm__graph_set_node(g, service, pattern, trusts);
}

/* Are all the target requirements granted on every resource alike (allowed on "*", no Deny, boundary or SCP
 * singling some out)? Then one edge to the set of targets says it, instead of one per target. */
static bool s_uniform_targets(const struct s_ctx *c, const struct tm_privesc_technique *t) {
    for (size_t i = 0; i < t->requires_count; i++) {
        const struct tm_privesc_requirement *r = &t->requires[i];
        if (r->binding == TM_PRIVESC_BIND_TARGET_POLICY)
            return false;
        if (r->binding != TM_PRIVESC_BIND_TARGET)
            continue;
        if ((r->role_trusts && strcmp(r->role_trusts, "principal") == 0) || !s_can(c, r, "*") ||
            !tm__graph_uniform(c->g, c->p->node, r->action))
            return false;
    }
    return true;
}

static int s_technique(const struct s_ctx *c, const struct tm_privesc_technique *t) {
    struct tm_graph *g = c->g;
    /* A quick filter: every action (but assuming, which trust policies grant) must appear in an Allow of
     * the principal's identity policies. */
    if (!s_mentions_all(c, t))
        return TM_OK;
    const char *policy = NULL;
    if (!s_fixed_requirements(c, t, &policy))
        return TM_OK;
    const struct tm_privesc_requirement *tr = s_first_target(t);
    if (!tr) {
        if (t->target == TM_PRIVESC_TARGET_BOUNDARY_REMOVED && !s_unbounded_admin(c))
            return TM_OK;
        bool unknown = false;
        uint32_t to = s_gain(c, t, TM_GRAPH_NONE, &unknown);
        return to == TM_GRAPH_NONE ? TM_OK : s_escalate_edge(c, t, to, unknown, TM_GRAPH_NONE, policy);
    }
    const char *type = s_type_of_kind(tr->resource);
    if (!type)
        return TM_OK; /* stacks, projects, jobs...: not in the snapshot, no target to name */
    bool gains_target = t->target != TM_PRIVESC_TARGET_ANY_POLICY && t->target != TM_PRIVESC_TARGET_POLICY_VERSION &&
                        t->target != TM_PRIVESC_TARGET_BOUNDARY_REMOVED;
    if (gains_target && !policy && s_uniform_targets(c, t)) {
        uint32_t set = s_target_set(g, tr, c->account);
        if (set != TM_GRAPH_NONE)
            return s_escalate_set_edge(c, t, set);
    }
    size_t n = 0;
    const uint32_t *targets = tm_graph_nodes_of_type(g, type, &n);
    uint32_t *assumable = NULL;
    if (tr->role_trusts && strcmp(tr->role_trusts, "principal") == 0) {
        /* Only the roles the principal can assume. */
        int rc = s_assumable(c, &assumable, &n);
        if (rc)
            return rc;
        targets = assumable;
    }
    for (size_t k = 0; k < n; k++) {
        uint32_t target = targets[k];
        if (target == c->p->node || !(g->nodes[target].flags & TM_GRAPH_NODE_IN_SNAPSHOT))
            continue;
        const char *target_policy = policy;
        if (!s_target_ok(c, t, target, &target_policy))
            continue;
        bool unknown = false;
        uint32_t to = s_gain(c, t, target, &unknown);
        int rc;
        if (to != TM_GRAPH_NONE && (rc = s_escalate_edge(c, t, to, unknown, target, target_policy))) {
            free(assumable);
            return rc;
        }
    }
    free(assumable);
    return TM_OK;
}

static int s_groups_of_users(struct tm_graph *g) {
    for (size_t i = 0; i < g->n_principals; i++) {
        struct tm__graph_principal *p = &g->principals[i];
        const struct tm_graph_node *n = &g->nodes[p->node];
        const cJSON *attrs = n->resource ? cJSON_GetObjectItemCaseSensitive(n->resource, "attrs") : NULL;
        const cJSON *groups = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "groups") : NULL;
        size_t count = cJSON_IsArray(groups) ? (size_t)cJSON_GetArraySize(groups) : 0;
        if (!count)
            continue;
        p->groups = tm__graph_alloc(g, count * sizeof(*p->groups));
        if (!p->groups)
            return TM_ERR_NOMEM;
        size_t ng = 0;
        const uint32_t *all = tm_graph_nodes_of_type(g, "aws:iam:group", &ng);
        for (const cJSON *gr = groups->child; gr; gr = gr->next) {
            if (!cJSON_IsString(gr))
                continue;
            for (size_t k = 0; k < ng; k++) {
                const struct tm_graph_node *gn = &g->nodes[all[k]];
                const char *last = strrchr(gn->id, '/');
                if (gn->account && n->account && strcmp(gn->account, n->account) == 0 && last &&
                    strcmp(last + 1, gr->valuestring) == 0) {
                    p->groups[p->n_groups++] = all[k];
                    break;
                }
            }
        }
    }
    return TM_OK;
}

int tm__graph_build_privesc(struct tm_graph *g, char *err, size_t errlen) {
    int rc;
    if ((rc = s_groups_of_users(g)) || (rc = s_admins(g))) {
        snprintf(err, errlen, "graph: administrators: %s", tm_error_str(rc));
        return rc;
    }
    if (!g->opts.privesc)
        return TM_OK;
    size_t nt = tm_privesc_catalog_count(g->opts.privesc);
    size_t np = g->n_principals;
    struct s_filter filter;
    if ((rc = s_filter_init(&filter, g->opts.privesc))) {
        snprintf(err, errlen, "graph: privilege escalation: %s", tm_error_str(rc));
        return rc;
    }
    for (size_t i = 0; i < np; i++) {
        const struct tm__graph_principal *p = &g->principals[i];
        const struct tm_graph_node *n = &g->nodes[p->node];
        /* An administrator has nothing to escalate to; principals of other accounts are not analysed. */
        if ((n->flags & TM_GRAPH_NODE_IS_ADMIN) || !(n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) || !p->account)
            continue;
        struct tm_iam_statement_view *allows = NULL;
        size_t n_allows = 0;
        if ((rc = s_allow_statements(p, &allows, &n_allows)))
            break;
        memset(filter.answer, 0, filter.n_actions);
        struct s_ctx c = {g, p, n->id, n->account, allows, n_allows, &filter, 0};
        for (size_t k = 0; k < nt && !rc; k++) {
            c.technique = k;
            rc = s_technique(&c, tm_privesc_catalog_get(g->opts.privesc, k));
        }
        free(allows);
        if (rc)
            break;
    }
    s_filter_clean_up(&filter);
    if (rc) {
        snprintf(err, errlen, "graph: privilege escalation: %s", tm_error_str(rc));
        return rc;
    }
    return TM_OK;
}
