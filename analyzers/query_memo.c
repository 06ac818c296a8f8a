/* Who-can evaluations shared between principals that the policy engine cannot tell apart.
 *
 * A question about a resource of a large account has hundreds of candidates (every role with a wildcard grant),
 * most of them with the same policies: AdministratorAccess, the same execution-role policy, the same SCPs. For one
 * action on one resource, tm_graph_can's answer depends on the principal only through its policies (identity,
 * boundary, SCP levels, which the graph shares between principals that have the same documents), its account, its
 * kind (user or role), and its ARN itself where a policy looks at it: a resource policy that names users or roles
 * or uses NotPrincipal, or a policy whose text uses a policy variable or a condition key about the principal
 * (aws:PrincipalArn, aws:username, ...). Where nothing looks at the ARN, principals with the same fingerprint get
 * the same result, statement for statement (matches are positions in those shared policies), and one evaluation
 * serves them all; anywhere else each principal is evaluated for itself. The statements are still named for each
 * principal (its own policy entries). Tests hold the answers against an engine that evaluates everyone
 * (tm__query_set_plain). */
#include "analyzers/query.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/iam/policy.h"
#include "analyzers/query_int.h"
#include "core/hash.h"

static bool s_flags_grow(struct tm_query *q) {
    size_t cap = q->flags_cap ? q->flags_cap * 2 : 1024;
    struct tm__query_policy_flag *n = calloc(cap, sizeof(*n));
    if (!n)
        return false;
    for (size_t i = 0; i < q->flags_cap; i++) {
        if (!q->flags[i].policy)
            continue;
        size_t j = (size_t)tm_hash_mix(0, (uintptr_t)q->flags[i].policy) & (cap - 1);
        while (n[j].policy)
            j = (j + 1) & (cap - 1);
        n[j] = q->flags[i];
    }
    free(q->flags);
    q->flags = n;
    q->flags_cap = cap;
    return true;
}

/* Whether a policy's text looks at who the principal is, remembered per policy. */
static bool s_specific(struct tm_query *q, const struct tm_iam_policy *p) {
    if (!p)
        return false;
    if (q->flags_used + 1 > q->flags_cap / 4 * 3 && !s_flags_grow(q))
        return tm_iam_policy_asks_who(p);
    size_t mask = q->flags_cap - 1;
    size_t i = (size_t)tm_hash_mix(0, (uintptr_t)p) & mask;
    for (; q->flags[i].policy; i = (i + 1) & mask)
        if (q->flags[i].policy == p)
            return q->flags[i].specific;
    bool specific = tm_iam_policy_asks_who(p);
    q->flags[i] = (struct tm__query_policy_flag){p, specific};
    q->flags_used++;
    return specific;
}

bool tm__query_resource_alike(struct tm_query *q, uint32_t r) {
    if (q->plain || r == TM_GRAPH_NONE)
        return false;
    bool unknown = false;
    const struct tm_iam_policy *p = tm_graph_resource_policy(q->g, r, &unknown);
    if (!p)
        return true;
    if (s_specific(q, p))
        return false;
    size_t n = tm_iam_policy_statement_count(p);
    for (size_t i = 0; i < n; i++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(p, i, &v))
            return false;
        if (v.principal_mode == TM_IAM_PRINCIPAL_NONE)
            continue;
        if (v.principal_mode == TM_IAM_PRINCIPAL_NOT)
            return false;
        for (size_t k = 0; k < v.n_principals; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(p, i, k, &pv))
                return false;
            /* Everyone, an account, a service or an identity provider: the same for every principal of an
             * account. A user, a role, a session or an id: only for that one. */
            if (pv.type == TM_IAM_PTYPE_AWS && pv.aws_kind != TM_IAM_AWS_ACCOUNT)
                return false;
            if (pv.type == TM_IAM_PTYPE_CANONICAL)
                return false;
        }
    }
    return true;
}

static uint64_t s_mix_policies(struct tm_query *q, uint64_t h, const struct tm_iam_policy *const *ps, size_t n,
                               bool *specific) {
    h = tm_hash_mix(h, n);
    for (size_t i = 0; i < n; i++) {
        h = tm_hash_mix(h, (uintptr_t)ps[i]);
        *specific = *specific || s_specific(q, ps[i]);
    }
    return h;
}

static uint64_t s_eval_fp(struct tm_query *q, uint32_t p) {
    const struct tm_graph *g = q->g;
    struct tm_iam_policy_set set;
    bool unknown = false;
    if (tm_graph_principal_policies(g, p, &set, &unknown) != TM_OK)
        return 0;
    const struct tm_graph_node *n = tm_graph_node(g, p);
    bool specific = false;
    uint64_t h = tm_hash_mix(0x243f6a8885a308d3ull, unknown);
    h = tm_hash_mix(h, tm_hash_str(n->account));
    /* Users and roles are told apart by the engine (sessions, key and trust policies). */
    h = tm_hash_mix(h, tm_hash_str(n->type));
    h = s_mix_policies(q, h, set.identity, set.n_identity, &specific);
    h = s_mix_policies(q, h, set.boundaries, set.n_boundaries, &specific);
    h = s_mix_policies(q, h, set.session, set.n_session, &specific);
    h = tm_hash_mix(h, (uintptr_t)set.scp_levels);
    h = tm_hash_mix(h, set.n_scp_levels);
    for (size_t l = 0; l < set.n_scp_levels && !specific; l++)
        for (size_t i = 0; i < set.scp_levels[l].n && !specific; i++)
            specific = s_specific(q, set.scp_levels[l].policies[i]);
    if (specific)
        return 0;
    return h < 2 ? h + 2 : h;
}

uint64_t tm__query_eval_fp(struct tm_query *q, uint32_t p) {
    if (q->plain)
        return 0;
    /* A principal's policies are the graph's, fixed: its fingerprint is worked out once per engine. */
    if (!q->node_fp && !(q->node_fp = calloc(tm_graph_node_count(q->g) + 1, sizeof(uint64_t))))
        return s_eval_fp(q, p);
    if (!q->node_fp[p]) {
        uint64_t fp = s_eval_fp(q, p);
        q->node_fp[p] = fp ? fp : 1;
    }
    return q->node_fp[p] == 1 ? 0 : q->node_fp[p];
}

static bool s_evals_grow(struct tm_query *q) {
    size_t cap = q->evals_cap ? q->evals_cap * 2 : 256;
    struct tm__query_eval *n = calloc(cap, sizeof(*n));
    if (!n)
        return false;
    for (size_t i = 0; i < q->evals_cap; i++) {
        if (!q->evals[i].fp)
            continue;
        size_t j = (size_t)tm_hash_mix(q->evals[i].fp, q->evals[i].action) & (cap - 1);
        while (n[j].fp)
            j = (j + 1) & (cap - 1);
        n[j] = q->evals[i];
    }
    free(q->evals);
    q->evals = n;
    q->evals_cap = cap;
    return true;
}

const struct tm__query_eval *tm__query_eval_find(const struct tm_query *q, uint64_t fp, size_t action) {
    if (!fp || !q->evals_cap)
        return NULL;
    size_t mask = q->evals_cap - 1;
    for (size_t i = (size_t)tm_hash_mix(fp, action) & mask; q->evals[i].fp; i = (i + 1) & mask)
        if (q->evals[i].fp == fp && q->evals[i].action == action)
            return &q->evals[i];
    return NULL;
}

const struct tm__query_eval *tm__query_eval_add(struct tm_query *q, uint64_t fp, size_t action,
                                                struct tm_iam_result *res, bool unknown) {
    if (!fp || (q->evals_used + 1 > q->evals_cap / 4 * 3 && !s_evals_grow(q)))
        return NULL;
    size_t mask = q->evals_cap - 1;
    size_t i = (size_t)tm_hash_mix(fp, action) & mask;
    while (q->evals[i].fp)
        i = (i + 1) & mask;
    q->evals[i] = (struct tm__query_eval){.fp = fp, .action = action, .res = *res, .unknown = unknown};
    q->evals_used++;
    /* The memo owns the result now. */
    tm_iam_result_init(res);
    return &q->evals[i];
}

void tm__query_evals_clear(struct tm_query *q) {
    for (size_t i = 0; q->evals_used && i < q->evals_cap; i++)
        if (q->evals[i].fp) {
            tm_iam_result_clean_up(&q->evals[i].res);
            q->evals[i].fp = 0;
        }
    q->evals_used = 0;
}
