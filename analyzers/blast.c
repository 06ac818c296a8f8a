/* Blast radius: the walk (states, sets, hits) and where it starts. The renderings are in blast_write.c. */
#include "analyzers/blast.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/blast_int.h"
#include "analyzers/iam/policy.h"
#include "core/hash.h"

/* ---- names ---- */

const char *tm_blast_access_name(enum tm_blast_access a) {
    switch (a) {
        case TM_BLAST_PASS:
            return "pass";
        case TM_BLAST_READ:
            return "read";
        case TM_BLAST_WRITE:
            return "write";
        case TM_BLAST_CONTROL:
            return "control";
        default:
            return "unknown";
    }
}

/* ---- the step rule ---- */

/* What a node is, for the step rule. */
enum s_class { S_PRINCIPAL, S_COMPUTE, S_DATA, S_OTHER };

static enum s_class s_class_of(const struct tm_graph_node *n) {
    if (n->kind == TM_GRAPH_NODE_PRINCIPAL || n->kind == TM_GRAPH_NODE_ADMIN)
        return S_PRINCIPAL;
    if (n->group == TM_GRAPH_GROUP_COMPUTE)
        return S_COMPUTE;
    return n->group == TM_GRAPH_GROUP_DATA ? S_DATA : S_OTHER;
}

/* What following an edge of this kind from a node held with `at` gives at a node of class `to`; false when the
 * edge is not followed. Running something (invoking it, sending it requests or events) is control of compute (it
 * runs with its credentials) and a write to anything else (a message in a queue, a notification); it means
 * nothing for a user or role, which only assuming, holding its credentials or an escalation hands over. */
static bool s_next(enum tm_blast_access at, enum tm_graph_edge_kind kind, enum s_class to, enum tm_blast_access *next) {
    bool runs = kind == TM_GRAPH_EDGE_CAN_INVOKE || kind == TM_GRAPH_EDGE_TRIGGERS || kind == TM_GRAPH_EDGE_ROUTES_TO;
    if (runs && to == S_PRINCIPAL)
        return false;
    switch (at) {
        case TM_BLAST_CONTROL:
            switch (kind) {
                case TM_GRAPH_EDGE_CAN_READ:
                    *next = TM_BLAST_READ;
                    return true;
                case TM_GRAPH_EDGE_CAN_WRITE:
                    *next = TM_BLAST_WRITE;
                    return true;
                case TM_GRAPH_EDGE_CAN_PASS:
                    *next = TM_BLAST_PASS;
                    return true;
                case TM_GRAPH_EDGE_CAN_ASSUME:
                case TM_GRAPH_EDGE_HOLDS_TOKEN_OF:
                case TM_GRAPH_EDGE_CAN_ESCALATE_TO:
                    *next = TM_BLAST_CONTROL;
                    return true;
                case TM_GRAPH_EDGE_CAN_INVOKE:
                case TM_GRAPH_EDGE_TRIGGERS:
                case TM_GRAPH_EDGE_ROUTES_TO:
                    *next = to == S_COMPUTE ? TM_BLAST_CONTROL : TM_BLAST_WRITE;
                    return true;
                default:
                    return false;
            }
        case TM_BLAST_WRITE:
            /* A change fires what listens to it (a message runs the queue's consumer) and flows to what the
             * node serves; it does not hand over the node's own credentials. */
            if (kind == TM_GRAPH_EDGE_TRIGGERS) {
                *next = to == S_COMPUTE ? TM_BLAST_CONTROL : TM_BLAST_WRITE;
                return true;
            }
            if (kind == TM_GRAPH_EDGE_ROUTES_TO) {
                *next = TM_BLAST_WRITE;
                return true;
            }
            return false;
        case TM_BLAST_READ:
            if (kind == TM_GRAPH_EDGE_ROUTES_TO) {
                *next = TM_BLAST_READ;
                return true;
            }
            return false;
        case TM_BLAST_PASS:
        default:
            return false;
    }
}

/* ---- lifetime ---- */

int tm_blast_new(struct tm_blast **out, const struct tm_graph *g) {
    *out = NULL;
    if (!g)
        return TM_ERR_INVALID;
    struct tm_blast *b = calloc(1, sizeof(*b));
    if (!b)
        return TM_ERR_NOMEM;
    int rc = TM_ERR_NOMEM;
    size_t n = tm_graph_node_count(g);
    size_t cap = n ? n : 1;
    b->g = g;
    b->n_nodes = n;
    b->internet = tm_graph_find(g, TM_GRAPH_ID_INTERNET);
    b->sets = calloc(cap, sizeof(*b->sets));
    b->mask = calloc(cap, 1);
    b->best = malloc(cap * sizeof(uint32_t));
    b->hit_index = malloc(cap * sizeof(uint32_t));
    b->touched = malloc(cap * sizeof(uint32_t));
    b->hits = malloc(cap * sizeof(*b->hits));
    b->hit_rec = malloc(cap * sizeof(uint32_t));
    size_t n_edges = tm_graph_edge_count(g);
    b->edge_fp = calloc(n_edges ? n_edges : 1, sizeof(uint64_t));
    b->neutral = calloc(cap, 1);
    b->jewel = calloc(cap, 1);
    if (!b->sets || !b->mask || !b->best || !b->hit_index || !b->touched || !b->hits || !b->hit_rec || !b->edge_fp ||
        !b->neutral || !b->jewel)
        goto out;
    memset(b->best, 0xff, cap * sizeof(uint32_t));
    memset(b->hit_index, 0xff, cap * sizeof(uint32_t));
    *out = b;
    b = NULL;
    rc = TM_OK;
out:
    tm_blast_destroy(b);
    return rc;
}

void tm_blast_destroy(struct tm_blast *b) {
    if (!b)
        return;
    if (b->sets)
        for (size_t i = 0; i < b->n_nodes; i++)
            if (b->sets[i]) {
                free(b->sets[i]->members);
                for (size_t k = 0; k < b->sets[i]->n_rows; k++)
                    free(b->sets[i]->rows[k].verdict);
                free(b->sets[i]->rows);
                free(b->sets[i]->apart);
                free(b->sets[i]->applied);
                for (size_t k = 0; k < TM__BLAST_KEYS; k++)
                    free(b->sets[i]->residual[k]);
                free(b->sets[i]);
            }
    free(b->sets);
    free(b->edge_fp);
    free(b->neutral);
    free(b->jewel);
    if (b->named)
        for (size_t i = 0; i < b->n_nodes; i++)
            if (b->named[i]) {
                free(b->named[i]->arns);
                free(b->named[i]);
            }
    free(b->named);
    free(b->memo);
    free(b->mask);
    free(b->best);
    free(b->hit_index);
    free(b->touched);
    free(b->hits);
    free(b->hit_rec);
    free(b->recs);
    free(b);
}

/* ---- member tests, remembered ---- */

/* How a node's own policy tells principals apart: S_ALIKE (it names whole accounts or anyone, and no condition
 * asks who the caller is), S_NAMES (it names users and roles by ARN: those named are answered for themselves,
 * everyone else alike) or S_APART (anything else: every principal for itself). */
enum { S_UNSEEN = 0, S_ALIKE, S_NAMES, S_APART };

static int s_named_add(struct tm__blast_named *l, const char *arn) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        const char **n = realloc(l->arns, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        l->arns = n;
        l->cap = cap;
    }
    l->arns[l->n++] = arn;
    return TM_OK;
}

static int s_neutral(struct tm_blast *b, uint32_t node) {
    if (b->neutral[node])
        return b->neutral[node];
    bool unknown = false;
    const struct tm_iam_policy *p = tm_graph_resource_policy(b->g, node, &unknown);
    int kind = !p ? S_ALIKE : tm_iam_policy_asks_who(p) ? S_APART : S_ALIKE;
    struct tm__blast_named named = {0};
    size_t n = p && kind == S_ALIKE ? tm_iam_policy_statement_count(p) : 0;
    for (size_t i = 0; i < n && kind != S_APART; i++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(p, i, &v) || v.principal_mode == TM_IAM_PRINCIPAL_NONE)
            continue;
        if (v.principal_mode == TM_IAM_PRINCIPAL_NOT) {
            kind = S_APART;
            break;
        }
        for (size_t k = 0; k < v.n_principals && kind != S_APART; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(p, i, k, &pv)) {
                kind = S_APART;
            } else if (pv.type == TM_IAM_PTYPE_AWS && pv.aws_kind != TM_IAM_AWS_ACCOUNT) {
                /* A user or role by ARN (matched exactly); sessions and unique ids are matched otherwise. */
                if ((pv.aws_kind != TM_IAM_AWS_USER && pv.aws_kind != TM_IAM_AWS_ROLE) || s_named_add(&named, pv.value))
                    kind = S_APART;
                else
                    kind = S_NAMES;
            }
        }
    }
    if (kind == S_NAMES) {
        struct tm__blast_named *keep = malloc(sizeof(*keep));
        if (!b->named && !(b->named = calloc(b->n_nodes ? b->n_nodes : 1, sizeof(*b->named))))
            kind = S_APART;
        if (!keep)
            kind = S_APART;
        if (kind == S_NAMES) {
            *keep = named;
            b->named[node] = keep;
            named.arns = NULL;
            keep = NULL;
        }
        free(keep);
    }
    free(named.arns);
    b->neutral[node] = (uint8_t)kind;
    return kind;
}

/* Does the member's policy name this principal (so that its answer is its own)? */
static bool s_names(const struct tm_blast *b, uint32_t node, const char *principal) {
    const struct tm__blast_named *l = b->named ? b->named[node] : NULL;
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->arns[i], principal) == 0)
            return true;
    return false;
}

/* Does one of these identity policies allow everything, everywhere, unconditionally ("Action": "*" on
 * "Resource": "*", as AdministratorAccess does)? Then the identity side allows every request whatever its other
 * Allow statements say: the engine's decision and its reason depend on them no more (only Deny statements, the
 * boundary, the SCPs and the resource's own policy can still tell members apart). */
static bool s_allows_everything(const struct tm_iam_policy *const *ps, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t ns = ps[i] ? tm_iam_policy_statement_count(ps[i]) : 0;
        for (size_t k = 0; k < ns; k++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(ps[i], k, &v) || v.effect != TM_IAM_ALLOW || v.not_action || v.not_resource ||
                !v.has_resource || v.n_conditions || v.principal_mode != TM_IAM_PRINCIPAL_NONE)
                continue;
            bool action = false, resource = false;
            for (size_t a = 0; a < v.n_actions && !action; a++)
                action = strcmp(v.actions[a], "*") == 0;
            for (size_t r = 0; r < v.n_resources && !resource; r++)
                resource = strcmp(v.resources[r], "*") == 0;
            if (action && resource)
                return true;
        }
    }
    return false;
}

/* Mixes in the statements of policies that can match one of the edge's actions (NotAction ones always may); with
 * denies_only, only the Deny statements (the Allow ones are outweighed, see s_allows_everything). */
static uint64_t s_relevant(uint64_t h, const struct tm_iam_policy *const *ps, size_t n, const struct tm_graph_edge *e,
                           bool denies_only, bool *specific) {
    for (size_t i = 0; i < n; i++) {
        size_t ns = tm_iam_policy_statement_count(ps[i]);
        bool any = false;
        for (size_t k = 0; k < ns; k++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(ps[i], k, &v) || (denies_only && v.effect != TM_IAM_DENY))
                continue;
            bool match = v.not_action;
            for (size_t a = 0; a < v.n_actions && !match; a++)
                for (size_t x = 0; x < e->n_actions && !match; x++)
                    match = tm_graph_action_glob(v.actions[a], e->actions[x]) ||
                            tm_graph_action_glob(e->actions[x], v.actions[a]);
            if (!match)
                continue;
            h = tm_hash_mix(tm_hash_mix(h, (uint64_t)(uintptr_t)ps[i]), k + 1);
            any = true;
        }
        /* Policy variables make a statement mean something else for each principal. */
        if (any && tm_iam_policy_asks_who(ps[i]))
            *specific = true;
    }
    return h;
}

/* The fingerprint of what decides a grant on a member besides the member: 1 when it is not to be remembered. */
static uint64_t s_edge_fp(struct tm_blast *b, uint32_t edge) {
    if (b->edge_fp[edge])
        return b->edge_fp[edge];
    const struct tm_graph *g = b->g;
    const struct tm_graph_edge *e = tm_graph_edge(g, edge);
    struct tm_iam_policy_set set;
    bool unknown = false;
    uint64_t fp = 1;
    if (tm_graph_principal_policies(g, e->from, &set, &unknown) == TM_OK) {
        const struct tm_graph_node *from = tm_graph_node(g, e->from);
        /* The edge's kind too: the member test asks for an action of that kind (s3:* reads and writes a bucket,
         * invokes none). */
        uint64_t h = tm_hash_mix(tm_hash_mix(0x5bd1e995u, (uint64_t)e->to), (uint64_t)e->kind + 1);
        h = tm_hash_mix(h, e->flags & (TM_GRAPH_EDGE_CONDITIONAL | TM_GRAPH_EDGE_EXACT));
        h = tm_hash_mix(h, tm_hash_str(e->resource_pattern));
        h = tm_hash_mix(h, tm_hash_str(from->account));
        for (size_t i = 0; i < e->n_actions; i++)
            h = tm_hash_mix(h, tm_hash_str(e->actions[i]));
        bool specific = false;
        /* Only the statements that can match one of the edge's actions decide the member test (IAM decides
         * statement by statement): principals whose policies differ elsewhere (every administrator role with
         * its own inline policy for logs) share their answers. */
        /* Every administrator with a policy of its own besides AdministratorAccess would otherwise have answers of
         * its own: its other Allow statements overlap the edge's "*". */
        bool everything = s_allows_everything(set.identity, set.n_identity);
        h = tm_hash_mix(h, everything ? 0xa11u : 0x5e1u);
        h = s_relevant(h, set.identity, set.n_identity, e, everything, &specific);
        h = tm_hash_mix(h, 0xb0u);
        h = tm_hash_mix(h, set.n_boundaries);
        h = s_relevant(h, set.boundaries, set.n_boundaries, e, false, &specific);
        h = tm_hash_mix(h, (uint64_t)(uintptr_t)set.scp_levels);
        h = tm_hash_mix(h, set.n_scp_levels);
        /* Policies that name who asks: the answer is this principal's alone. */
        if (specific)
            h = tm_hash_mix(h, tm_hash_str(from->id));
        fp = h < 2 ? h + 2 : h;
    }
    b->edge_fp[edge] = fp;
    return fp;
}

/* Doubles the table (from a small one: a walk that remembers little touches little memory). On failure the
 * old table stays. */
static void s_memo_grow(struct tm_blast *b) {
    size_t cap = b->memo_cap ? b->memo_cap * 2 : 4096;
    struct tm__blast_memo *n = calloc(cap, sizeof(*n));
    if (!n)
        return;
    for (size_t i = 0; i < b->memo_cap; i++) {
        if (!b->memo[i].fp)
            continue;
        size_t j = (size_t)tm_hash_mix(b->memo[i].fp, b->memo[i].member) & (cap - 1);
        while (n[j].fp)
            j = (j + 1) & (cap - 1);
        n[j] = b->memo[i];
    }
    free(b->memo);
    b->memo = n;
    b->memo_cap = cap;
}

/* The fingerprint a member test is remembered under (0: not remembered), and whether it is the grant's own (the
 * member's policy does not tell this principal apart) rather than one mixed with the principal. */
static uint64_t s_member_fp(struct tm_blast *b, const struct tm_graph_edge *e, uint32_t member, bool *shared) {
    const struct tm_graph *g = b->g;
    *shared = false;
    if (!(e->flags & TM_GRAPH_EDGE_TO_SET) || (e->flags & TM_GRAPH_EDGE_UNKNOWN))
        return 0;
    uint64_t fp = s_edge_fp(b, tm_graph_edge_index(g, e));
    if (fp == 1)
        return 0;
    /* A member whose policy names this principal (or cannot be read that way) answers it for itself. */
    int kind = s_neutral(b, member);
    if (kind == S_APART || (kind == S_NAMES && s_names(b, member, tm_graph_node(g, e->from)->id))) {
        fp = tm_hash_mix(fp, (uint64_t)e->from + 1);
        return fp < 2 ? fp + 2 : fp;
    }
    *shared = true;
    return fp;
}

/* tm_graph_edge_covers, remembered where that is sound. */
static bool s_covers(struct tm_blast *b, const struct tm_graph_edge *e, uint32_t member) {
    const struct tm_graph *g = b->g;
    if (b->plain)
        return tm_graph_edge_covers(g, e, member);
    bool shared;
    uint64_t fp = s_member_fp(b, e, member, &shared);
    if (!fp)
        return tm_graph_edge_covers(g, e, member);
    if (b->memo_used + 1 > b->memo_cap / 4 * 3 && b->memo_cap < TM__BLAST_MEMO_SLOTS)
        s_memo_grow(b);
    if (!b->memo)
        return tm_graph_edge_covers(g, e, member);
    size_t mask = b->memo_cap - 1;
    size_t i = (size_t)tm_hash_mix(fp, member) & mask;
    for (; b->memo[i].fp; i = (i + 1) & mask)
        if (b->memo[i].fp == fp && b->memo[i].member == member)
            return b->memo[i].covered;
    bool covered = tm_graph_edge_covers(g, e, member);
    /* Kept at most three quarters full: past that the engine answers each time. */
    if (b->memo_used < b->memo_cap / 4 * 3) {
        b->memo[i] = (struct tm__blast_memo){fp, member, covered};
        b->memo_used++;
    }
    return covered;
}

/* The verdict row of a grant on a set whose members are listed, made on first use while the budget lasts; NULL
 * when the grant's tests are not remembered or there is no room. */
static uint8_t *s_row(struct tm_blast *b, struct tm__blast_set *st, const struct tm_graph_edge *e) {
    if (!st->members || !st->n_members || !(e->flags & TM_GRAPH_EDGE_TO_SET) || (e->flags & TM_GRAPH_EDGE_UNKNOWN))
        return NULL;
    uint64_t fp = s_edge_fp(b, tm_graph_edge_index(b->g, e));
    if (fp == 1)
        return NULL;
    for (size_t i = 0; i < st->n_rows; i++)
        if (st->rows[i].fp == fp)
            return st->rows[i].verdict;
    if (b->row_bytes + st->n_members > TM__BLAST_ROW_BUDGET)
        return NULL;
    if (st->n_rows == st->cap_rows) {
        size_t cap = st->cap_rows ? st->cap_rows * 2 : 4;
        struct tm__blast_row *n = realloc(st->rows, cap * sizeof(*n));
        if (!n)
            return NULL;
        st->rows = n;
        st->cap_rows = cap;
    }
    uint8_t *v = calloc(st->n_members, 1);
    if (!v)
        return NULL;
    st->rows[st->n_rows++] = (struct tm__blast_row){fp, v};
    b->row_bytes += st->n_members;
    return v;
}

/* s_covers for the member at a position of the set's list, through the grant's verdict row when it has one. */
static bool s_covers_at(struct tm_blast *b, const struct tm_graph_edge *e, uint32_t member, uint8_t *row, size_t at) {
    if (!row)
        return s_covers(b, e, member);
    if (row[at])
        return row[at] == 2;
    bool shared;
    uint64_t fp = s_member_fp(b, e, member, &shared);
    if (!shared || !fp)
        return s_covers(b, e, member);
    bool covered = tm_graph_edge_covers(b->g, e, member);
    row[at] = covered ? 2 : 1;
    return covered;
}

/* ---- the walk ---- */

static unsigned s_bit(enum tm_blast_access a, bool certain) {
    return 1u << ((unsigned)a * 2u + (certain ? 1u : 0u));
}

/* Has the node been reached in a state that makes this one redundant: the same access or control of it, at least
 * as certain? Reading and writing are told apart (a write grant is not a read grant), though the walk goes no
 * further from a read than from a write. */
static bool s_dominated(uint8_t mask, enum tm_blast_access a, bool certain) {
    if (mask & s_bit(a, true) || mask & s_bit(TM_BLAST_CONTROL, true))
        return true;
    return !certain && (mask & s_bit(a, false) || mask & s_bit(TM_BLAST_CONTROL, false));
}

/* Is record a a better one to show than record b: proven first, then shorter, then found first? */
static bool s_better(const struct tm__blast_rec *a, uint32_t ia, const struct tm__blast_rec *b, uint32_t ib) {
    if (a->certain != b->certain)
        return a->certain > b->certain;
    if (a->depth != b->depth)
        return a->depth < b->depth;
    return ia < ib;
}

static int s_add(struct tm_blast *b, const struct tm__blast_rec *r) {
    if (b->n_recs == b->cap_recs) {
        size_t cap = b->cap_recs ? b->cap_recs * 2 : 256;
        if (cap > UINT32_MAX - 1)
            return TM_ERR_TOO_BIG;
        struct tm__blast_rec *n = realloc(b->recs, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        b->recs = n;
        b->cap_recs = cap;
    }
    uint32_t idx = (uint32_t)b->n_recs++;
    b->recs[idx] = *r;
    if (!b->mask[r->node])
        b->touched[b->n_touched++] = r->node;
    b->mask[r->node] |= (uint8_t)s_bit((enum tm_blast_access)r->access, r->certain);
    uint32_t cur = b->best[r->node];
    if (cur == TM_GRAPH_NONE || s_better(r, idx, &b->recs[cur], cur))
        b->best[r->node] = idx;
    return TM_OK;
}

/* A step the walk takes. The walk is breadth-first, so a state no stronger (in access and certainty) than one
 * already held was held by a path no longer: it adds nothing. */
static int s_visit(struct tm_blast *b, const struct tm__blast_rec *r) {
    if (s_dominated(b->mask[r->node], (enum tm_blast_access)r->access, r->certain))
        return TM_OK;
    return s_add(b, r);
}

static bool s_key_edge(const struct tm_blast *b, const struct tm_graph_edge *e) {
    return e->from == b->internet && e->kind == TM_GRAPH_EDGE_HOLDS_TOKEN_OF && e->evidence.source &&
           strcmp(e->evidence.source, "access-key") == 0;
}

static int s_collect(uint32_t node, void *user_data) {
    struct tm__blast_set *st = user_data;
    st->members[st->n_members++] = node;
    return 0;
}

static int s_count(uint32_t node, void *user_data) {
    (void)node;
    (*(size_t *)user_data)++;
    return 0;
}

/* What the engine keeps of a set node, with its members listed on first use while the budget lasts. The members
 * come from the graph's index: an edge marked unknown covers every member, so a copy marked so lists them without
 * a verdict, which the walk asks for only where it matters. */
static struct tm__blast_set *s_set(struct tm_blast *b, const struct tm_graph_edge *e) {
    struct tm__blast_set *st = b->sets[e->to];
    if (!st) {
        if (!(st = calloc(1, sizeof(*st))))
            return NULL;
        b->sets[e->to] = st;
    }
    if (st->members_tried)
        return st;
    st->members_tried = true;
    struct tm_graph_edge all = *e;
    all.flags |= TM_GRAPH_EDGE_UNKNOWN;
    size_t n = 0;
    if (tm_graph_edge_members(b->g, &all, s_count, &n) || b->members_kept + n > TM__BLAST_MEMBER_BUDGET)
        return st;
    if (!(st->members = malloc((n ? n : 1) * sizeof(uint32_t))))
        return st; /* the graph's index still answers, each time */
    if (tm_graph_edge_members(b->g, &all, s_collect, st)) {
        free(st->members);
        st->members = NULL;
        st->n_members = 0;
        return st;
    }
    size_t n_apart = 0;
    for (size_t i = 0; i < st->n_members; i++)
        n_apart += s_neutral(b, st->members[i]) != S_ALIKE;
    if (n_apart && !(st->apart = malloc(n_apart * sizeof(uint32_t)))) {
        free(st->members);
        st->members = NULL;
        st->n_members = 0;
        return st;
    }
    for (size_t i = 0; i < st->n_members; i++)
        if (s_neutral(b, st->members[i]) != S_ALIKE)
            st->apart[st->n_apart++] = (uint32_t)i;
    b->members_kept += st->n_members;
    return st;
}

static int s_residual_add(struct tm__blast_set *st, size_t k, uint32_t node) {
    if (st->n_residual[k] == st->cap_residual[k]) {
        size_t cap = st->cap_residual[k] ? st->cap_residual[k] * 2 : 16;
        uint32_t *n = realloc(st->residual[k], cap * sizeof(uint32_t));
        if (!n)
            return TM_ERR_NOMEM;
        st->residual[k] = n;
        st->cap_residual[k] = cap;
    }
    st->residual[k][st->n_residual[k]++] = node;
    return TM_OK;
}

/* One member of a set a grant reaches: skipped when already held as strongly, else recorded if the grant covers
 * it; a member it does not cover is kept in the set's residual for the walk's state (when building one). */
struct s_member_ctx {
    struct tm_blast *b;
    const struct tm_graph_edge *edge;
    enum tm_blast_access at; /* held at the grant's holder */
    struct tm__blast_rec rec;
    struct tm__blast_set *st;
    size_t residual; /* the key whose residual is built; TM__BLAST_KEYS when none */
    uint8_t *row;    /* the grant's verdicts on the set's listed members, or NULL */
    size_t pos;      /* the member's position in the list (with row) */
    int rc;
};

static int s_member(uint32_t node, void *user_data) {
    struct s_member_ctx *c = user_data;
    enum tm_blast_access next;
    if (!s_next(c->at, c->edge->kind, s_class_of(tm_graph_node(c->b->g, node)), &next) ||
        s_dominated(c->b->mask[node], next, c->rec.certain))
        return 0;
    c->rec.node = node;
    c->rec.access = (uint8_t)next;
    if (c->row ? s_covers_at(c->b, c->edge, node, c->row, c->pos) : s_covers(c->b, c->edge, node))
        c->rc = s_add(c->b, &c->rec);
    else if (c->residual < TM__BLAST_KEYS)
        c->rc = s_residual_add(c->st, c->residual, c->st->members ? (uint32_t)c->pos : node);
    return c->rc;
}

/* Has a grant with this fingerprint been applied to the set in this walk, under the key or its certain twin? */
static bool s_applied(const struct tm_blast *b, const struct tm__blast_set *st, size_t key, bool certain, uint64_t fp) {
    if (st->applied_walk != b->walk)
        return false;
    for (size_t i = 0; i < st->n_applied; i++)
        if (st->applied[i].fp == fp && (st->applied[i].key == key || (!certain && st->applied[i].key == key + 1)))
            return true;
    return false;
}

static void s_applied_add(const struct tm_blast *b, struct tm__blast_set *st, size_t key, uint64_t fp) {
    if (st->applied_walk != b->walk) {
        st->applied_walk = b->walk;
        st->n_applied = 0;
    }
    if (st->n_applied == st->cap_applied) {
        size_t cap = st->cap_applied ? st->cap_applied * 2 : 8;
        struct tm__blast_applied *n = realloc(st->applied, cap * sizeof(*n));
        if (!n)
            return; /* only a shortcut is lost */
        st->applied = n;
        st->cap_applied = cap;
    }
    st->applied[st->n_applied++] = (struct tm__blast_applied){fp, key};
}

/* A grant on a set: its members, as the walk reaches them. Each set is scanned in full at most once per walk and
 * key (the grant's kind, the access held at its holder, certainty): a later grant of the same kind on it, from a
 * holder held the same way, only needs the members the first scan's grant did not cover (the others are held
 * already, by a path no longer). That keeps a walk through a hundred administrator roles, each granted everything,
 * from scanning the account a hundred times. */
static int s_set_reach(struct tm_blast *b, const struct tm_graph_edge *e, enum tm_blast_access at,
                       const struct tm__blast_rec *nr) {
    struct tm__blast_set *st = s_set(b, e);
    if (!st)
        return TM_ERR_NOMEM;
    size_t key = ((size_t)e->kind * 4u + (size_t)at) * 2u + nr->certain;
    struct s_member_ctx c = {.b = b, .edge = e, .at = at, .rec = *nr, .st = st, .residual = TM__BLAST_KEYS};
    uint64_t fp = 0;
    if (b->plain) {
        if (!st->members) {
            struct tm_graph_edge all = *e;
            all.flags |= TM_GRAPH_EDGE_UNKNOWN;
            int rc = tm_graph_edge_members(b->g, &all, s_member, &c);
            return c.rc ? c.rc : rc;
        }
        for (size_t i = 0; i < st->n_members && !c.rc; i++)
            s_member(st->members[i], &c);
        return c.rc;
    }
    if (st->members && (c.row = s_row(b, st, e)))
        fp = s_edge_fp(b, tm_graph_edge_index(b->g, e));
    /* The same grant (fingerprint) applied already in this walk, from a holder held the same way: it covered what
     * it covers, so only the members whose policy may answer this holder otherwise are left to try. Many
     * administrator roles share their policies: this is what keeps a walk through all of them one pass. */
    if (fp && s_applied(b, st, key, nr->certain, fp)) {
        for (size_t i = 0; i < st->n_apart && !c.rc; i++) {
            c.pos = st->apart[i];
            s_member(st->members[c.pos], &c);
        }
        return c.rc;
    }
    /* A residual of this walk for the same kind from a holder held the same way, at least as certain. */
    size_t use = TM__BLAST_KEYS;
    for (unsigned cert = nr->certain; cert <= 1; cert++) {
        size_t k = ((size_t)e->kind * 4u + at) * 2u + cert;
        if (st->stamp[k] == b->walk && (use == TM__BLAST_KEYS || st->n_residual[k] < st->n_residual[use]))
            use = k;
    }
    if (use < TM__BLAST_KEYS) {
        /* The residual may grow while it is read (same key): read the length first. */
        size_t n = st->n_residual[use];
        for (size_t i = 0; i < n && !c.rc; i++) {
            if (st->members) {
                c.pos = st->residual[use][i];
                s_member(st->members[c.pos], &c);
            } else {
                s_member(st->residual[use][i], &c);
            }
        }
        if (fp && !c.rc)
            s_applied_add(b, st, key, fp);
        return c.rc;
    }
    st->stamp[key] = b->walk;
    st->n_residual[key] = 0;
    c.residual = key;
    if (st->members) {
        for (size_t i = 0; i < st->n_members && !c.rc; i++) {
            c.pos = i;
            s_member(st->members[i], &c);
        }
        if (fp && !c.rc)
            s_applied_add(b, st, key, fp);
        return c.rc;
    }
    struct tm_graph_edge all = *e;
    all.flags |= TM_GRAPH_EDGE_UNKNOWN;
    int rc = tm_graph_edge_members(b->g, &all, s_member, &c);
    return c.rc ? c.rc : rc;
}

static int s_expand(struct tm_blast *b, uint32_t ri, const struct tm_blast_source *src, uint32_t max_depth) {
    const struct tm__blast_rec r = b->recs[ri]; /* a copy: adding records may move the array */
    if (r.access == TM_BLAST_PASS || (max_depth && r.depth >= max_depth))
        return TM_OK;
    const struct tm_graph *g = b->g;
    uint32_t first = 0;
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, r.node, &n, &first);
    for (size_t i = 0; i < n; i++) {
        const struct tm_graph_edge *e = &out[i];
        bool set = (e->flags & TM_GRAPH_EDGE_TO_SET) != 0;
        enum tm_blast_access next = TM_BLAST_PASS;
        /* A set's members are each checked by s_member; here only whether the kind can lead anywhere. */
        if (!s_next((enum tm_blast_access)r.access, e->kind, set ? S_DATA : s_class_of(tm_graph_node(g, e->to)), &next))
            continue;
        if (src->skip_key_edges && s_key_edge(b, e))
            continue;
        struct tm__blast_rec nr = {
            .node = e->to,
            .parent = ri,
            .edge = first + (uint32_t)i,
            .depth = r.depth + 1,
            .access = (uint8_t)next,
            .certain = (uint8_t)(r.certain && !(e->flags & TM_GRAPH_EDGE_UNKNOWN)),
            .conditional = (uint8_t)(r.conditional || (e->flags & TM_GRAPH_EDGE_CONDITIONAL)),
        };
        int rc = set ? s_set_reach(b, e, (enum tm_blast_access)r.access, &nr) : s_visit(b, &nr);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_u32_cmp(const void *pa, const void *pb) {
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return a < b ? -1 : a > b;
}

/* The output order's bucket of a hit: group (admin, data, compute, identity, other), proven first, crown jewels
 * first (a listing cut at --limit shows them before the rest), strongest access first, then distance; within a
 * bucket hits keep node (id) order. */
static size_t s_bucket(const struct tm_blast_hit *h, uint32_t max_distance) {
    static const size_t order[] = {
        [TM_GRAPH_GROUP_ADMIN] = 0,    [TM_GRAPH_GROUP_DATA] = 1,  [TM_GRAPH_GROUP_COMPUTE] = 2,
        [TM_GRAPH_GROUP_IDENTITY] = 3, [TM_GRAPH_GROUP_OTHER] = 4,
    };
    size_t k = order[h->group] * 2 + (h->unknown ? 1 : 0);
    k = k * 2 + (h->crown_jewel ? 0 : 1);
    k = k * 4 + (size_t)(TM_BLAST_CONTROL - h->access);
    return k * ((size_t)max_distance + 1) + h->distance;
}

static void s_reset(struct tm_blast *b) {
    for (size_t i = 0; i < b->n_touched; i++) {
        uint32_t v = b->touched[i];
        b->mask[v] = 0;
        b->best[v] = TM_GRAPH_NONE;
        b->hit_index[v] = TM_GRAPH_NONE;
    }
    b->n_touched = 0;
    b->n_recs = 0;
    b->n_hits = 0;
    /* Set residuals are stamped with the walk they belong to. */
    b->walk++;
}

static bool s_is_source(const struct tm_blast_source *src, uint32_t node) {
    for (size_t i = 0; i < src->n_nodes; i++)
        if (src->nodes[i] == node)
            return true;
    return false;
}

static void s_hit_fill(struct tm_blast *b, struct tm_blast_hit *h, uint32_t v) {
    const struct tm__blast_rec *r = &b->recs[b->best[v]];
    memset(h, 0, sizeof(*h));
    h->node = v;
    h->distance = r->depth;
    h->group = tm_graph_node(b->g, v)->group;
    h->unknown = !r->certain;
    h->conditional = r->conditional;
    /* The strongest access held with the path's certainty. */
    h->access = (enum tm_blast_access)r->access;
    for (unsigned a = TM_BLAST_PASS; a <= TM_BLAST_CONTROL; a++)
        if (b->mask[v] & s_bit((enum tm_blast_access)a, r->certain))
            h->access = (enum tm_blast_access)a;
    /* Reading an administrator's configuration is not being one: only control puts it under admin. */
    if (h->group == TM_GRAPH_GROUP_ADMIN && h->access != TM_BLAST_CONTROL)
        h->group = TM_GRAPH_GROUP_IDENTITY;
    if (!b->jewel[v])
        b->jewel[v] = tm_graph_is_crown_jewel(b->g, v) ? 2 : 1;
    h->crown_jewel = b->jewel[v] == 2;
}

/* The hits in output order without a comparison sort (a walk may reach every node of the account): nodes in id
 * order, then a stable counting sort by bucket. */
static int s_hits(struct tm_blast *b, const struct tm_blast_source *src) {
    /* Node order: the touched list sorted, or, when the walk touched much of the graph, a pass over it. */
    uint32_t *order = b->touched;
    size_t n_order = b->n_touched;
    if (b->n_touched > b->n_nodes / 16) {
        n_order = 0;
        for (uint32_t v = 0; v < b->n_nodes; v++)
            if (b->mask[v])
                b->hit_rec[n_order++] = v;
        order = b->hit_rec;
    } else {
        qsort(order, n_order, sizeof(uint32_t), s_u32_cmp);
    }
    uint32_t max_distance = 0;
    struct tm_blast_hit *tmp = NULL;
    size_t *count = NULL;
    int rc = TM_ERR_NOMEM;
    if (!(tmp = malloc((n_order ? n_order : 1) * sizeof(*tmp))))
        goto out;
    size_t n = 0;
    for (size_t i = 0; i < n_order; i++) {
        if (s_is_source(src, order[i]))
            continue;
        s_hit_fill(b, &tmp[n], order[i]);
        if (tmp[n].distance > max_distance)
            max_distance = tmp[n].distance;
        n++;
    }
    size_t n_buckets = (size_t)5 * 2 * 2 * 4 * ((size_t)max_distance + 1);
    if (!(count = calloc(n_buckets + 1, sizeof(size_t))))
        goto out;
    for (size_t i = 0; i < n; i++)
        count[s_bucket(&tmp[i], max_distance) + 1]++;
    for (size_t k = 0; k < n_buckets; k++)
        count[k + 1] += count[k];
    for (size_t i = 0; i < n; i++)
        b->hits[count[s_bucket(&tmp[i], max_distance)]++] = tmp[i];
    b->n_hits = n;
    for (size_t i = 0; i < n; i++) {
        b->hit_index[b->hits[i].node] = (uint32_t)i;
        b->hit_rec[i] = b->best[b->hits[i].node];
    }
    rc = TM_OK;
out:
    free(tmp);
    free(count);
    return rc;
}

int tm_blast_run(struct tm_blast *b, const struct tm_blast_source *src, const struct tm_blast_options *opts) {
    if (!b || !src || !src->n_nodes || src->n_nodes > TM_BLAST_MAX_SOURCES)
        return TM_ERR_INVALID;
    for (size_t i = 0; i < src->n_nodes; i++)
        if (src->nodes[i] >= b->n_nodes)
            return TM_ERR_INVALID;
    uint32_t max_depth = opts ? opts->max_depth : 0;
    s_reset(b);
    int rc;
    for (size_t i = 0; i < src->n_nodes; i++) {
        struct tm__blast_rec r = {.node = src->nodes[i],
                                  .parent = TM_GRAPH_NONE,
                                  .edge = TM_GRAPH_NONE,
                                  .access = TM_BLAST_CONTROL,
                                  .certain = 1};
        if ((rc = s_visit(b, &r)))
            goto out;
    }
    for (size_t i = 0; i < b->n_recs; i++)
        if ((rc = s_expand(b, (uint32_t)i, src, max_depth)))
            goto out;
    rc = s_hits(b, src);
out:
    if (rc)
        s_reset(b);
    return rc;
}

const struct tm_blast_hit *tm_blast_hits(const struct tm_blast *b, size_t *n) {
    *n = b ? b->n_hits : 0;
    return b ? b->hits : NULL;
}

const struct tm_blast_hit *tm_blast_find(const struct tm_blast *b, uint32_t node) {
    if (!b || node >= b->n_nodes || b->hit_index[node] == TM_GRAPH_NONE)
        return NULL;
    return &b->hits[b->hit_index[node]];
}

void tm_blast_summarize(const struct tm_blast *b, struct tm_blast_summary *out) {
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; b && i < b->n_hits; i++) {
        const struct tm_blast_hit *h = &b->hits[i];
        out->total++;
        out->by_group[h->group]++;
        out->unknown += h->unknown;
        out->conditional += h->conditional;
        out->crown_jewels += h->crown_jewel;
    }
}

size_t tm_blast_path(const struct tm_blast *b, const struct tm_blast_hit *hit, struct tm_blast_step *steps,
                     size_t max) {
    if (!b || !hit || hit < b->hits || hit >= b->hits + b->n_hits)
        return 0;
    uint32_t ri = b->hit_rec[hit - b->hits];
    size_t len = b->recs[ri].depth;
    for (size_t i = len; i > 0 && ri != TM_GRAPH_NONE; i--) {
        const struct tm__blast_rec *r = &b->recs[ri];
        if (i - 1 < max && steps)
            steps[i - 1] = (struct tm_blast_step){r->edge, b->recs[r->parent].node, r->node};
        ri = r->parent;
    }
    return len;
}

void tm__blast_set_plain(struct tm_blast *b, bool plain) {
    if (b)
        b->plain = plain;
}

uint32_t tm__blast_hit_record(const struct tm_blast *b, const struct tm_blast_hit *hit) {
    return b->hit_rec[hit - b->hits];
}

/* ---- where a walk starts ---- */

static bool s_is_account_id(const char *s) {
    if (strlen(s) != 12)
        return false;
    for (size_t i = 0; i < 12; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void s_imply(struct tm_blast_source *out, const struct tm_graph *g, const char *id) {
    uint32_t n = tm_graph_find(g, id);
    if (n != TM_GRAPH_NONE && out->n_nodes < TM_BLAST_MAX_SOURCES && !s_is_source(out, n))
        out->nodes[out->n_nodes++] = n;
}

/* Bounded edit distance (insertions, deletions, substitutions; case-insensitive): > max when farther. */
static size_t s_distance(const char *a, const char *b, size_t max) {
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > max || la > 512 || lb > 512)
        return max + 1;
    size_t prev[513], cur[513];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        size_t row_min = cur[0];
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
            if (v < row_min)
                row_min = v;
        }
        if (row_min > max)
            return max + 1;
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

/* The last part of an ARN ("orders-role" of "arn:aws:iam::1:role/orders-role"). */
static const char *s_tail(const char *id) {
    const char *slash = strrchr(id, '/'), *colon = strrchr(id, ':');
    const char *t = slash > colon ? slash : colon;
    return t ? t + 1 : id;
}

uint32_t tm_blast_suggest(const struct tm_graph *g, const char *asked) {
    size_t len = strlen(asked);
    size_t best = (len / 5 > 2 ? len / 5 : 2) + 1;
    uint32_t found = TM_GRAPH_NONE;
    size_t n = tm_graph_node_count(g);
    for (uint32_t i = 0; i < n && best > 0; i++) {
        const struct tm_graph_node *node = tm_graph_node(g, i);
        if (node->kind == TM_GRAPH_NODE_SET)
            continue;
        /* A short name alone ("orders-role") names the node whose ARN ends with it. */
        size_t d = strcasecmp(asked, s_tail(node->id)) == 0 || (node->name && strcasecmp(asked, node->name) == 0)
                       ? 0
                       : s_distance(asked, node->id, best - 1);
        if (d > 0 && strchr(asked, ':') == NULL) {
            size_t dn = s_distance(asked, s_tail(node->id), best - 1);
            if (dn < d)
                d = dn;
        }
        if (d < best) {
            best = d;
            found = i;
        }
    }
    return found;
}

int tm_blast_resolve(struct tm_blast_source *out, const struct tm_graph *g, const char *id, char *err, size_t errlen) {
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (errlen)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->asked = id;
    if (!g || !id || !*id) {
        snprintf(err, errlen, "nothing to start from: give an ARN, an access key id or an entry point");
        return TM_ERR_INVALID;
    }
    bool account_form = strncmp(id, "account:", 8) == 0;
    if (account_form && !s_is_account_id(id + 8)) {
        snprintf(err, errlen, "'%s' is not an account: account ids have 12 digits (account:999999999999)", id);
        return TM_ERR_INVALID;
    }
    uint32_t n = tm_graph_find(g, id);
    if (n == TM_GRAPH_NONE && account_form && tm_graph_is_home_account(g, id + 8))
        n = tm_graph_find(g, id + 8);
    if (n != TM_GRAPH_NONE) {
        out->nodes[out->n_nodes++] = n;
        out->asked_found = true;
        enum tm_graph_node_kind kind = tm_graph_node(g, n)->kind;
        if (kind == TM_GRAPH_NODE_ACCOUNT || kind == TM_GRAPH_NODE_ORGANIZATION) {
            s_imply(out, g, TM_GRAPH_ID_ANY_AWS_ACCOUNT);
            s_imply(out, g, TM_GRAPH_ID_INTERNET);
            out->skip_key_edges = true;
        } else if (kind == TM_GRAPH_NODE_ANY_AWS_ACCOUNT) {
            s_imply(out, g, TM_GRAPH_ID_INTERNET);
            out->skip_key_edges = true;
        }
        return TM_OK;
    }
    /* An account no policy names still is an AWS account: what any account and anyone can reach. */
    if (account_form || (s_is_account_id(id) && !tm_graph_is_home_account(g, id))) {
        s_imply(out, g, TM_GRAPH_ID_ANY_AWS_ACCOUNT);
        s_imply(out, g, TM_GRAPH_ID_INTERNET);
        out->skip_key_edges = true;
        if (out->n_nodes)
            return TM_OK;
    }
    if (strncmp(id, "ASIA", 4) == 0 && strlen(id) >= 16) {
        snprintf(err, errlen,
                 "'%s' is a temporary access key: a snapshot cannot know whose it is; give the role session "
                 "(arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) or the role ARN",
                 id);
        return TM_ERR_NOT_FOUND;
    }
    if (strncmp(id, "AKIA", 4) == 0 && strlen(id) >= 16) {
        snprintf(err, errlen, "access key '%s' belongs to no user of the snapshot", id);
        return TM_ERR_NOT_FOUND;
    }
    uint32_t near = tm_blast_suggest(g, id);
    if (near != TM_GRAPH_NONE)
        snprintf(err, errlen, "'%s' is not in the snapshot; did you mean '%s'?", id, tm_graph_node(g, near)->id);
    else
        snprintf(err, errlen, "'%s' is not in the snapshot", id);
    return TM_ERR_NOT_FOUND;
}
