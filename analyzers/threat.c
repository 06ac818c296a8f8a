/* The severity model, edges as finding steps, and the search for what credentials reach (threat_int.h). */
#include "analyzers/threat_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tm_severity tm__threat_severity(int likelihood, int impact, bool unknown) {
    int score = likelihood + impact;
    enum tm_severity s = score >= 7   ? TM_SEV_CRITICAL
                         : score == 6 ? TM_SEV_HIGH
                         : score == 5 ? TM_SEV_MEDIUM
                         : score >= 3 ? TM_SEV_LOW
                                      : TM_SEV_INFO;
    if (unknown && s > TM_SEV_INFO)
        s = (enum tm_severity)(s - 1);
    return s;
}

int tm__threat_entry_likelihood(const struct tm_graph_node *entry) {
    switch (entry->kind) {
        case TM_GRAPH_NODE_INTERNET:
            return TM__LIKELY_INTERNET;
        case TM_GRAPH_NODE_ANY_AWS_ACCOUNT:
            return TM__LIKELY_ANY_AWS;
        case TM_GRAPH_NODE_ACCOUNT:
            return TM__LIKELY_EXTERNAL;
        default:
            return TM__LIKELY_INSIDE;
    }
}

int tm__threat_step(struct tm_finding *f, const struct tm_graph *g, const struct tm_graph_edge *e, const char *from,
                    const char *to) {
    from = from ? from : tm_graph_node(g, e->from)->id;
    to = to ? to : tm_graph_node(g, e->to)->id;
    const char *kind = tm_graph_edge_kind_name(e->kind);
    /* Paths to several jewels share their beginning: each step once. */
    if (tm_finding_has_step(f, from, to, kind))
        return TM_OK;
    return tm_finding_add_step(f, from, to, kind, e->actions, e->n_actions, e->evidence.text,
                               (e->flags & TM_GRAPH_EDGE_UNKNOWN) != 0);
}

const char *tm__threat_name(const struct tm_graph_node *n) {
    return n->name ? n->name : n->id;
}

int tm__threat_finish(struct tm_analysis *a, struct tm_finding *f, enum tm_severity sev, const char *title,
                      const char *explanation, const char *fix) {
    int rc = tm_finding_set_text(f, title, explanation, fix);
    if (!rc)
        rc = tm_rules_apply(a->rules, f->rule, f);
    if (!rc) {
        f->severity = sev;
        /* A path listed in part already has the id of the whole path (tm__threat_reach_select). */
        if (!f->id[0])
            rc = tm_finding_compute_id(f);
    }
    if (rc && !a->errmsg[0])
        snprintf(a->errmsg, sizeof(a->errmsg), "%s: %s: %s", f->rule, f->resource,
                 rc == TM_ERR_NOT_FOUND ? "rule missing from policies/rules.json" : tm_error_str(rc));
    return rc;
}

/* ---- what credentials reach ---- */

int tm__threat_search_init(struct tm__threat_search *s, const struct tm_graph *g, bool want_data) {
    memset(s, 0, sizeof(*s));
    size_t n = tm_graph_node_count(g);
    s->g = g;
    s->want_data = want_data;
    s->jewel_of = calloc(n ? n : 1, sizeof(uint32_t));
    s->via_edge = malloc((n ? n : 1) * sizeof(uint32_t));
    s->via_node = malloc((n ? n : 1) * sizeof(uint32_t));
    s->seen = calloc(n ? n : 1, 1);
    s->queue = malloc((n ? n : 1) * sizeof(uint32_t));
    size_t ne = tm_graph_edge_count(g);
    s->edge_at = calloc(ne ? ne : 1, sizeof(uint32_t));
    s->edge_count = calloc(ne ? ne : 1, sizeof(uint32_t));
    s->set_at = calloc(n ? n : 1, sizeof(uint32_t));
    s->set_count = calloc(n ? n : 1, sizeof(uint32_t));
    if (!s->via_edge || !s->via_node || !s->seen || !s->queue || !s->jewel_of || !s->edge_at || !s->edge_count ||
        !s->set_at || !s->set_count) {
        tm__threat_search_clean_up(s);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

void tm__threat_search_clean_up(struct tm__threat_search *s) {
    if (!s)
        return;
    free(s->via_edge);
    free(s->via_node);
    free(s->seen);
    free(s->queue);
    free(s->jewels);
    free(s->jewels_tmp);
    free(s->jewel_of);
    free(s->edge_at);
    free(s->edge_count);
    free(s->edge_nodes);
    free(s->edge_access);
    free(s->set_at);
    free(s->set_count);
    free(s->chain_mark);
    tm_path_ident_clean_up(&s->ident);
    memset(s, 0, sizeof(*s));
}

bool tm__threat_search_reached(const struct tm__threat_search *s, uint32_t node) {
    return node < tm_graph_node_count(s->g) && s->seen[node];
}

static int s_add_jewel(struct tm__threat_search *s, const struct tm__threat_jewel *j) {
    if (s->jewel_of[j->node]) {
        /* The first (shortest) way stays; access widens. */
        struct tm__threat_jewel *o = &s->jewels[s->jewel_of[j->node] - 1];
        o->read = o->read || j->read;
        o->write = o->write || j->write;
        return TM_OK;
    }
    if (s->n_jewels == s->cap_jewels) {
        size_t cap = s->cap_jewels ? s->cap_jewels * 2 : 16;
        struct tm__threat_jewel *n = realloc(s->jewels, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        s->jewels = n;
        s->cap_jewels = cap;
    }
    s->jewels[s->n_jewels++] = *j;
    s->jewel_of[j->node] = (uint32_t)s->n_jewels;
    return TM_OK;
}

/* A set edge reaching more jewels than this is reported as the set ("every S3 bucket"), not member by member:
 * it keeps findings readable and the search linear in what it visits. */
#define S_SET_JEWELS_MAX 8
#define S_MORE 1
#define S_COUNT_MORE UINT32_MAX

static int s_edge_node_add(struct tm__threat_search *s, uint32_t node, uint8_t access) {
    if (s->n_edge_nodes == s->cap_edge_nodes) {
        if (s->cap_edge_nodes >= UINT32_MAX / 2)
            return TM_ERR_TOO_BIG;
        size_t cap = s->cap_edge_nodes ? s->cap_edge_nodes * 2 : 1024;
        uint32_t *n = realloc(s->edge_nodes, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        s->edge_nodes = n;
        uint8_t *a = realloc(s->edge_access, cap);
        if (!a)
            return TM_ERR_NOMEM;
        s->edge_access = a;
        s->cap_edge_nodes = cap;
    }
    s->edge_nodes[s->n_edge_nodes] = node;
    s->edge_access[s->n_edge_nodes] = access;
    s->n_edge_nodes++;
    return TM_OK;
}

struct s_list_ctx {
    struct tm__threat_search *s;
    uint32_t n;
    int rc; /* an error adding to the list */
};

static int s_jewel_member(uint32_t node, bool read, bool write, void *user_data) {
    struct s_list_ctx *c = user_data;
    if (c->n == S_SET_JEWELS_MAX)
        return S_MORE;
    c->n++;
    c->rc = s_edge_node_add(c->s, node, (uint8_t)((read ? 1 : 0) | (write ? 2 : 0)));
    return c->rc ? S_MORE : 0;
}

static int s_any_member(uint32_t node, void *user_data) {
    struct s_list_ctx *c = user_data;
    c->n++;
    c->rc = s_edge_node_add(c->s, node, 0);
    return c->rc ? 1 : 0;
}

/* Lists an edge's members (jewels: only the crown jewels among them, up to S_SET_JEWELS_MAX) the first time
 * the edge is met. */
static int s_edge_list(struct tm__threat_search *s, const struct tm_graph_edge *e, uint32_t ei, bool jewels) {
    if (s->edge_at[ei])
        return TM_OK;
    bool whole = !jewels && tm_graph_edge_is_whole_set(s->g, e);
    if (whole && s->set_at[e->to]) {
        s->edge_at[ei] = s->set_at[e->to];
        s->edge_count[ei] = s->set_count[e->to];
        return TM_OK;
    }
    size_t start = s->n_edge_nodes;
    struct s_list_ctx c = {.s = s};
    int rc =
        jewels ? tm_graph_edge_jewels(s->g, e, s_jewel_member, &c) : tm_graph_edge_members(s->g, e, s_any_member, &c);
    if (c.rc || (rc && !(jewels && rc == S_MORE))) {
        s->n_edge_nodes = start;
        return c.rc ? c.rc : rc;
    }
    s->edge_at[ei] = (uint32_t)start + 1;
    s->edge_count[ei] = rc == S_MORE ? S_COUNT_MORE : c.n;
    if (whole) {
        s->set_at[e->to] = s->edge_at[ei];
        s->set_count[e->to] = s->edge_count[ei];
    }
    return TM_OK;
}

static int s_jewels_of_edge(struct tm__threat_search *s, const struct tm_graph_edge *e, uint32_t ei, uint32_t from,
                            bool unknown) {
    int rc = s_edge_list(s, e, ei, true);
    if (rc)
        return rc;
    unknown = unknown || (e->flags & TM_GRAPH_EDGE_UNKNOWN);
    if (s->edge_count[ei] == S_COUNT_MORE) {
        /* Too many to list: the set itself is the jewel; its access is the edge's kind. */
        struct tm__threat_jewel j = {
            e->to, ei, from, e->kind == TM_GRAPH_EDGE_CAN_WRITE, e->kind == TM_GRAPH_EDGE_CAN_READ, unknown};
        return s_add_jewel(s, &j);
    }
    for (uint32_t i = 0; i < s->edge_count[ei] && !rc; i++) {
        size_t k = s->edge_at[ei] - 1 + i;
        struct tm__threat_jewel j = {
            s->edge_nodes[k], ei, from, (s->edge_access[k] & 2) != 0, (s->edge_access[k] & 1) != 0, unknown};
        rc = s_add_jewel(s, &j);
    }
    return rc;
}

/* Only administrator asked for (want_data false): an administrator reached ends the search, as breadth-first
 * order already makes this the shortest way. */
static bool s_admin_stop(const struct tm__threat_search *s, uint32_t node) {
    const struct tm_graph_node *n = tm_graph_node(s->g, node);
    return !s->want_data && (n->kind == TM_GRAPH_NODE_ADMIN || (n->flags & TM_GRAPH_NODE_IS_ADMIN));
}

/* Queues a node reached from `from` by `edge`. An administrator principal leads straight to the admin node by
 * its own edge (not through the roles it could also assume). Returns 1 when the search can stop. */
static int s_enqueue(struct tm__threat_search *s, uint32_t node, uint32_t from, uint32_t edge) {
    if (s->seen[node])
        return 0;
    s->seen[node] = 1;
    s->via_edge[node] = edge;
    s->via_node[node] = from;
    s->queue[s->n_queue++] = node;
    const struct tm_graph_node *n = tm_graph_node(s->g, node);
    if ((n->flags & TM_GRAPH_NODE_IS_ADMIN) && n->kind != TM_GRAPH_NODE_ADMIN) {
        size_t ne = 0;
        uint32_t first = 0;
        const struct tm_graph_edge *out = tm_graph_out(s->g, node, &ne, &first);
        for (size_t i = 0; i < ne; i++)
            if (out[i].kind == TM_GRAPH_EDGE_CAN_ESCALATE_TO &&
                tm_graph_node(s->g, out[i].to)->kind == TM_GRAPH_NODE_ADMIN)
                return s_enqueue(s, out[i].to, node, first + (uint32_t)i);
    }
    return s_admin_stop(s, node) ? 1 : 0;
}

void tm__threat_sort_jewels(struct tm__threat_jewel *jewels, struct tm__threat_jewel *tmp, size_t n) {
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            struct tm__threat_jewel j = jewels[i];
            size_t k = i;
            for (; k > 0 && jewels[k - 1].node > j.node; k--)
                jewels[k] = jewels[k - 1];
            jewels[k] = j;
        }
        return;
    }
    /* Least significant byte first, each pass stable; a byte every node shares is skipped. */
    size_t count[4][256] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (unsigned d = 0; d < 4; d++)
            count[d][(jewels[i].node >> (8 * d)) & 0xff]++;
    struct tm__threat_jewel *from = jewels, *to = tmp;
    for (unsigned d = 0; d < 4; d++) {
        if (count[d][(jewels[0].node >> (8 * d)) & 0xff] == n)
            continue;
        size_t at = 0;
        for (size_t b = 0; b < 256; b++) {
            size_t c = count[d][b];
            count[d][b] = at;
            at += c;
        }
        for (size_t i = 0; i < n; i++)
            to[count[d][(from[i].node >> (8 * d)) & 0xff]++] = from[i];
        struct tm__threat_jewel *t = from;
        from = to;
        to = t;
    }
    if (from != jewels)
        memcpy(jewels, from, n * sizeof(*jewels));
}

/* Whether the chain from the start to node rests on an unknown edge. */
static bool s_chain_unknown(const struct tm__threat_search *s, uint32_t node) {
    for (uint32_t v = node; s->via_edge[v] != TM_GRAPH_NONE; v = s->via_node[v])
        if (tm_graph_edge(s->g, s->via_edge[v])->flags & TM_GRAPH_EDGE_UNKNOWN)
            return true;
    return false;
}

int tm__threat_search_run(struct tm__threat_search *s, uint32_t start) {
    const struct tm_graph *g = s->g;
    for (size_t i = 0; i < s->n_queue; i++)
        s->seen[s->queue[i]] = 0;
    for (size_t i = 0; i < s->n_jewels; i++)
        s->jewel_of[s->jewels[i].node] = 0;
    s->n_queue = 0;
    s->n_jewels = 0;
    s->admin = false;
    s->queue[s->n_queue++] = start;
    s->seen[start] = 1;
    s->via_edge[start] = s->via_node[start] = TM_GRAPH_NONE;
    bool stop = s_admin_stop(s, start);
    for (size_t head = 0; head < s->n_queue; head++) {
        uint32_t v = s->queue[head];
        if (stop && tm_graph_node(g, v)->kind != TM_GRAPH_NODE_ADMIN)
            continue; /* drain the queue up to the administrator found */
        const struct tm_graph_node *vn = tm_graph_node(g, v);
        bool unknown = s_chain_unknown(s, v);
        if (vn->kind == TM_GRAPH_NODE_ADMIN || (vn->flags & TM_GRAPH_NODE_IS_ADMIN)) {
            s->admin = true;
            if (vn->kind == TM_GRAPH_NODE_ADMIN) {
                struct tm__threat_jewel j = {v, s->via_edge[v], s->via_node[v], true, true, unknown};
                int rc = s_add_jewel(s, &j);
                if (rc)
                    return rc;
            }
        }
        size_t n = 0;
        uint32_t first = 0;
        const struct tm_graph_edge *out = tm_graph_out(g, v, &n, &first);
        for (size_t i = 0; i < n; i++) {
            const struct tm_graph_edge *e = &out[i];
            uint32_t ei = first + (uint32_t)i;
            const struct tm_graph_node *to = tm_graph_node(g, e->to);
            bool follow = false;
            switch (e->kind) {
                case TM_GRAPH_EDGE_HOLDS_TOKEN_OF:
                case TM_GRAPH_EDGE_CAN_ASSUME:
                case TM_GRAPH_EDGE_CAN_ESCALATE_TO:
                    /* Credentials, assumed roles, escalation steps (to principals, policies, compute, admin). */
                    follow = !(e->flags & TM_GRAPH_EDGE_TO_SET);
                    break;
                case TM_GRAPH_EDGE_CAN_READ:
                case TM_GRAPH_EDGE_CAN_WRITE: {
                    if (vn->kind != TM_GRAPH_NODE_PRINCIPAL || !s->want_data)
                        break;
                    int rc = s_jewels_of_edge(s, e, ei, v, unknown);
                    if (rc)
                        return rc;
                    break;
                }
                default:
                    break;
            }
            if (!follow && (e->kind == TM_GRAPH_EDGE_CAN_ASSUME || e->kind == TM_GRAPH_EDGE_CAN_ESCALATE_TO) &&
                (e->flags & TM_GRAPH_EDGE_TO_SET)) {
                /* Every role (user, function...) of the set, each reached through this one edge. */
                int rc = s_edge_list(s, e, ei, false);
                if (rc)
                    return rc;
                for (uint32_t m = 0; m < s->edge_count[ei] && !rc; m++)
                    rc = s_enqueue(s, s->edge_nodes[s->edge_at[ei] - 1 + m], v, ei);
                if (rc == 1) {
                    stop = true;
                    break;
                }
                continue;
            }
            if (!follow || s->seen[e->to] || to->kind == TM_GRAPH_NODE_SET)
                continue;
            if (s_enqueue(s, e->to, v, ei)) {
                stop = true;
                break;
            }
        }
    }
    if (s->n_jewels > 32 && s->cap_jewels_tmp < s->n_jewels) {
        struct tm__threat_jewel *t = realloc(s->jewels_tmp, s->cap_jewels * sizeof(*t));
        if (!t)
            return TM_ERR_NOMEM;
        s->jewels_tmp = t;
        s->cap_jewels_tmp = s->cap_jewels;
    }
    tm__threat_sort_jewels(s->jewels, s->jewels_tmp, s->n_jewels);
    for (size_t i = 0; i < s->n_jewels; i++)
        s->jewel_of[s->jewels[i].node] = (uint32_t)i + 1;
    return TM_OK;
}

/* Steps go to a finding (de-duplicated as tm__threat_step does) or, by reference, to the identity of a whole path. */
static int s_step_to(const struct tm__threat_search *s, struct tm_finding *f, struct tm_path_ident *ident,
                     const struct tm_graph_edge *e, const char *from, const char *to) {
    if (f)
        return tm__threat_step(f, s->g, e, from, to);
    return tm_path_ident_add(ident, from ? from : tm_graph_node(s->g, e->from)->id,
                             to ? to : tm_graph_node(s->g, e->to)->id, tm_graph_edge_kind_name(e->kind));
}

static int s_path(const struct tm__threat_search *s, struct tm_finding *f, uint32_t node) {
    uint32_t chain[64];
    size_t n = 0;
    for (uint32_t v = node; s->via_edge[v] != TM_GRAPH_NONE && n < 64; v = s->via_node[v])
        chain[n++] = v;
    for (size_t i = n; i > 0; i--) {
        uint32_t v = chain[i - 1];
        int rc = s_step_to(s, f, NULL, tm_graph_edge(s->g, s->via_edge[v]), tm_graph_node(s->g, s->via_node[v])->id,
                           tm_graph_node(s->g, v)->id);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* s_path into a path's identity, whose jewels' paths share their principal chains: a node marked with the
 * identity's generation has its chain in the identity already, so the walk up stops there and adds only the steps
 * below it (the ones above would be found present and skipped). A walk that meets neither a marked node nor the
 * start within s_path's 64 steps marks nothing and adds what s_path adds. */
static int s_ident_path(struct tm__threat_search *s, struct tm_path_ident *ident, uint32_t node) {
    uint32_t chain[64];
    size_t n = 0;
    uint32_t v = node;
    for (; s->via_edge[v] != TM_GRAPH_NONE && s->chain_mark[v] != s->chain_gen && n < 64; v = s->via_node[v])
        chain[n++] = v;
    bool whole = s->via_edge[v] == TM_GRAPH_NONE || s->chain_mark[v] == s->chain_gen;
    for (size_t i = n; i > 0; i--) {
        uint32_t w = chain[i - 1];
        int rc = s_step_to(s, NULL, ident, tm_graph_edge(s->g, s->via_edge[w]), tm_graph_node(s->g, s->via_node[w])->id,
                           tm_graph_node(s->g, w)->id);
        if (rc)
            return rc;
        if (whole)
            s->chain_mark[w] = s->chain_gen;
    }
    return TM_OK;
}

static int s_jewel_path(const struct tm__threat_search *s, struct tm_finding *f, const struct tm__threat_jewel *j) {
    if (tm_graph_node(s->g, j->node)->kind == TM_GRAPH_NODE_ADMIN)
        return s_path(s, f, j->node);
    int rc = s_path(s, f, j->from);
    if (rc)
        return rc;
    return s_step_to(s, f, NULL, tm_graph_edge(s->g, j->edge), NULL, tm_graph_node(s->g, j->node)->id);
}

/* s_jewel_path into a path's identity. */
static int s_ident_jewel_path(struct tm__threat_search *s, struct tm_path_ident *ident,
                              const struct tm__threat_jewel *j) {
    if (tm_graph_node(s->g, j->node)->kind == TM_GRAPH_NODE_ADMIN)
        return s_ident_path(s, ident, j->node);
    int rc = s_ident_path(s, ident, j->from);
    if (rc)
        return rc;
    return s_step_to(s, NULL, ident, tm_graph_edge(s->g, j->edge), NULL, tm_graph_node(s->g, j->node)->id);
}

int tm__threat_search_path(const struct tm__threat_search *s, struct tm_finding *f, uint32_t node) {
    return s_path(s, f, node);
}

int tm__threat_search_jewel_path(const struct tm__threat_search *s, struct tm_finding *f,
                                 const struct tm__threat_jewel *j) {
    return s_jewel_path(s, f, j);
}

/* How sensitive a jewel is, lower first: the severity model's order (administrator and a secret's value are the
 * highest impact), then the strongest access, then what is proven. */
static int s_jewel_rank(const struct tm_graph *g, const struct tm__threat_jewel *j) {
    const struct tm_graph_node *n = tm_graph_node(g, j->node);
    const char *svc = n->kind == TM_GRAPH_NODE_SET ? n->set_service : NULL;
    int what =
        n->kind == TM_GRAPH_NODE_ADMIN ? 0
        : (n->type && strcmp(n->type, "aws:secretsmanager:secret") == 0) || (svc && strcmp(svc, "secretsmanager") == 0)
            ? 1
            : 2;
    int access = j->read && j->write ? 0 : j->read ? 1 : 2;
    return what * 8 + access * 2 + (j->unknown ? 1 : 0);
}

struct s_ranked {
    const struct tm__threat_jewel *j;
    int rank;
};

static int s_cmp_ranked(const void *pa, const void *pb) {
    const struct s_ranked *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    return a->j->node < b->j->node ? -1 : a->j->node > b->j->node;
}

int tm__threat_reach_select(struct tm__threat_search *s, struct tm_finding *f, const struct tm__threat_jewel **jewels,
                            size_t *n, size_t cap) {
    size_t total = *n;
    if (!cap)
        cap = TM_FINDING_REACH_LISTED_MAX;
    if (total <= cap)
        return tm_finding_set_reach(f, total, total, NULL);
    /* The id first, from the whole path: the steps so far, then every jewel's, in node order. */
    /* One identity for every call: its arrays are sized by the largest path already, not allocated (and their
     * pages faulted in) again. */
    struct tm_path_ident *ident = &s->ident;
    tm_path_ident_reset(ident);
    struct s_ranked *ranked = NULL;
    char *cmd = NULL;
    int rc = TM_OK;
    if (!s->chain_mark && !(s->chain_mark = calloc(tm_graph_node_count(s->g) + 1, sizeof(*s->chain_mark)))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    if (++s->chain_gen == 0) {
        memset(s->chain_mark, 0, (tm_graph_node_count(s->g) + 1) * sizeof(*s->chain_mark));
        s->chain_gen = 1;
    }
    for (size_t i = 0; i < f->path_len && !rc; i++)
        rc = tm_path_ident_add(ident, f->path[i].from, f->path[i].to, f->path[i].kind);
    for (size_t i = 0; i < total && !rc; i++)
        rc = s_ident_jewel_path(s, ident, jewels[i]);
    if (!rc)
        rc = tm_finding_compute_id_of(f, ident);
    if (rc)
        goto out;
    if (!(ranked = malloc(total * sizeof(*ranked)))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < total; i++)
        ranked[i] = (struct s_ranked){jewels[i], s_jewel_rank(s->g, jewels[i])};
    qsort(ranked, total, sizeof(*ranked), s_cmp_ranked);
    for (size_t i = 0; i < total; i++)
        jewels[i] = ranked[i].j;
    const char *from = f->resource ? f->resource : "?";
    size_t len = strlen(from) + 64;
    if (!(cmd = malloc(len))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    snprintf(cmd, len, "tmscan blast SNAPSHOT --from %s --limit 0", from);
    rc = tm_finding_set_reach(f, total, cap, cmd);
    *n = cap;
out:
    free(cmd);
    free(ranked);
    return rc;
}
