/* Graph storage and queries: the arena, node table, edge indices, set membership, policy lookups and
 * breadth-first walks. Building from a snapshot is in graph_build.c. */
#include "analyzers/graph.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph_int.h"
#include "core/json.h"
#include "core/hash.h"

#define ARENA_CHUNK_BYTES ((size_t)64 * 1024)
#define ARENA_ALIGN sizeof(void *)

struct tm__graph_chunk {
    struct tm__graph_chunk *next;
    max_align_t data[];
};

/* ---- arena ---- */

/* n bytes from the room [*at, *end) when it holds them (aligned to align), else from a new chunk that becomes
 * that room; a big block gets a chunk of its own, and the room keeps filling. */
static void *s_arena_take(struct tm__graph_arena *a, char **at, char **end, size_t n, size_t align) {
    if (*at) {
        char *p = (char *)(((uintptr_t)*at + align - 1) & ~(uintptr_t)(align - 1));
        if (p <= *end && (size_t)(*end - p) >= n) {
            *at = p + n;
            return p;
        }
    }
    bool own = n > ARENA_CHUNK_BYTES / 4;
    size_t size = own ? n : ARENA_CHUNK_BYTES;
    if (size > SIZE_MAX - sizeof(struct tm__graph_chunk))
        return NULL;
    struct tm__graph_chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    a->total += sizeof(*c) + size;
    c->next = a->head;
    a->head = c;
    char *p = (char *)c->data;
    if (!own) {
        *at = p + n;
        *end = p + size;
    }
    return p;
}

void *tm__graph_alloc(struct tm_graph *g, size_t n) {
    struct tm__graph_arena *a = &g->arena;
    return s_arena_take(a, &a->at, &a->end, n ? n : 1, ARENA_ALIGN);
}

static int s_strings_grow(struct tm_graph *g) {
    size_t cap = g->strings_cap ? g->strings_cap * 2 : 4096;
    struct tm__graph_string *t = calloc(cap, sizeof(*t));
    if (!t)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < g->strings_cap; i++) {
        const struct tm__graph_string *e = &g->strings[i];
        if (!e->s)
            continue;
        size_t h = e->hash & (cap - 1);
        while (t[h].s)
            h = (h + 1) & (cap - 1);
        t[h] = *e;
    }
    free(g->strings);
    g->strings = t;
    g->strings_cap = cap;
    return TM_OK;
}

void tm__graph_strings_drop(struct tm_graph *g) {
    free(g->strings);
    g->strings = NULL;
    g->n_strings = g->strings_cap = 0;
}

const char *tm__graph_strndup(struct tm_graph *g, const char *s, size_t n) {
    struct tm__graph_arena *a = &g->arena;
    if (n >= UINT32_MAX) {
        /* Too long for the table: a copy of its own. */
        char *p = s_arena_take(a, &a->str_at, &a->str_end, n + 1, 1);
        if (p) {
            memcpy(p, s, n);
            p[n] = '\0';
        }
        return p;
    }
    if ((g->n_strings + 1) * 2 > g->strings_cap && s_strings_grow(g))
        return NULL;
    uint32_t hash = (uint32_t)tm_hash_words_n(TM_HASH_FNV_OFFSET, s, n);
    size_t mask = g->strings_cap - 1, h = hash & mask;
    for (; g->strings[h].s; h = (h + 1) & mask) {
        const struct tm__graph_string *e = &g->strings[h];
        if (e->hash == hash && e->len == n && memcmp(e->s, s, n) == 0)
            return e->s;
    }
    char *p = s_arena_take(a, &a->str_at, &a->str_end, n + 1, 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    g->strings[h] = (struct tm__graph_string){p, (uint32_t)n, hash};
    g->n_strings++;
    return p;
}

const char *tm__graph_strdup(struct tm_graph *g, const char *s) {
    return s ? tm__graph_strndup(g, s, strlen(s)) : NULL;
}

const char *tm__graph_printf(struct tm_graph *g, const char *fmt, ...) {
    /* Most texts fit the stack buffer: printed once, not measured first and printed again. */
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    if ((size_t)n < sizeof(buf))
        return tm__graph_strndup(g, buf, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    const char *p = tm__graph_strndup(g, big, (size_t)n);
    free(big);
    return p;
}

static void s_arena_free(struct tm__graph_arena *a) {
    struct tm__graph_chunk *c = a->head;
    while (c) {
        struct tm__graph_chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(a, 0, sizeof(*a));
}

/* ---- hashing ---- */

/* Nodes expected: the snapshot's resources and a quarter more (pseudo-principals, sets, ARNs that policies name),
 * so that building grows the node arrays and the id table once instead of a dozen times. */
static size_t s_nodes_expected(const struct tm_graph *g) {
    size_t n = g->snap ? tm_snapshot_count(g->snap) : 0;
    return n > SIZE_MAX / 4 ? n : n + n / 4 + 256;
}

static int s_table_grow(struct tm_graph *g) {
    size_t cap = g->table_cap ? g->table_cap * 2 : 1024;
    while (!g->table_cap && cap < 2 * s_nodes_expected(g) && cap < ((size_t)1 << 31))
        cap *= 2;
    uint32_t *t = malloc(cap * sizeof(*t));
    if (!t)
        return TM_ERR_NOMEM;
    memset(t, 0xff, cap * sizeof(*t));
    for (size_t i = 0; i < g->n_nodes; i++) {
        size_t h = (size_t)tm_hash_words(TM_HASH_FNV_OFFSET, g->nodes[i].id) & (cap - 1);
        while (t[h] != TM_GRAPH_NONE)
            h = (h + 1) & (cap - 1);
        t[h] = (uint32_t)i;
    }
    free(g->table);
    g->table = t;
    g->table_cap = cap;
    return TM_OK;
}

/* The node of an id (hash: its hash), or TM_GRAPH_NONE with *slot the empty slot it would take. */
static uint32_t s_probe(const struct tm_graph *g, const char *id, uint64_t hash, size_t *slot) {
    size_t mask = g->table_cap - 1, h = (size_t)hash & mask;
    for (uint32_t i; (i = g->table[h]) != TM_GRAPH_NONE; h = (h + 1) & mask)
        if (strcmp(g->nodes[i].id, id) == 0)
            return i;
    *slot = h;
    return TM_GRAPH_NONE;
}

uint32_t tm__graph_lookup(const struct tm_graph *g, const char *id) {
    if (!g->table_cap || !id)
        return TM_GRAPH_NONE;
    size_t slot;
    return s_probe(g, id, tm_hash_words(TM_HASH_FNV_OFFSET, id), &slot);
}

static enum tm_graph_group s_group_of(enum tm_graph_node_kind kind, const char *type) {
    switch (kind) {
        case TM_GRAPH_NODE_ADMIN:
            return TM_GRAPH_GROUP_ADMIN;
        case TM_GRAPH_NODE_PRINCIPAL:
            return TM_GRAPH_GROUP_IDENTITY;
        case TM_GRAPH_NODE_RESOURCE:
            break;
        default:
            return TM_GRAPH_GROUP_OTHER;
    }
    static const char *const data[] = {
        "aws:s3:",          "aws:sqs:",      "aws:sns:",      "aws:kms:", "aws:secretsmanager:", "aws:ecr:", "aws:rds:",
        "aws:ec2:snapshot", "aws:ec2:image", "aws:dynamodb:", NULL};
    static const char *const compute[] = {
        "aws:lambda:", "aws:ec2:instance", "aws:apigateway:", "aws:apigatewayv2:", "aws:ecs:", NULL};
    static const char *const identity[] = {"aws:iam:", "aws:account", "aws:sts:", NULL};
    if (!type)
        return TM_GRAPH_GROUP_OTHER;
    for (size_t i = 0; data[i]; i++)
        if (strncmp(type, data[i], strlen(data[i])) == 0)
            return TM_GRAPH_GROUP_DATA;
    for (size_t i = 0; compute[i]; i++)
        if (strncmp(type, compute[i], strlen(compute[i])) == 0)
            return TM_GRAPH_GROUP_COMPUTE;
    for (size_t i = 0; identity[i]; i++)
        if (strncmp(type, identity[i], strlen(identity[i])) == 0)
            return TM_GRAPH_GROUP_IDENTITY;
    return TM_GRAPH_GROUP_OTHER;
}

static uint8_t s_jewel_index(const char *type);

/* What a node's kind and type give (group, crown jewel, role), remembered for the last pair: nodes come grouped
 * by type (the snapshot's resources are sorted by ARN, which begins with the service), so most nodes skip
 * matching their type against every group prefix and jewel type. */
static void s_type_traits(struct tm_graph *g, enum tm_graph_node_kind kind, const char *type) {
    struct tm__graph_type_memo *m = &g->type_memo;
    if (m->valid && m->kind == kind && (m->type == type || (m->type && type && strcmp(m->type, type) == 0)))
        return;
    m->valid = true;
    m->kind = kind;
    m->type = type;
    m->group = s_group_of(kind, type);
    m->jewel = s_jewel_index(type);
    m->is_role = type && strcmp(type, "aws:iam:role") == 0;
}

/* The ARN's service as a string that lives with the graph: the last one given out when it is the same (nodes
 * come grouped by service), else a copy in the arena. NULL when the id is not an ARN; *failed on no memory. */
static const char *s_service_of(struct tm_graph *g, const char *id, bool *failed) {
    char svc[64];
    const char *s = tm__graph_arn_service(id, svc, sizeof(svc));
    *failed = false;
    if (!s)
        return NULL;
    if (!g->last_service || strcmp(g->last_service, s) != 0) {
        const char *copy = tm__graph_strdup(g, s);
        if (!copy) {
            *failed = true;
            return NULL;
        }
        g->last_service = copy;
    }
    return g->last_service;
}

uint32_t tm__graph_node_add(struct tm_graph *g, const char *id, bool id_stable, enum tm_graph_node_kind kind,
                            const char *type, const char *account) {
    if (!id)
        return TM_GRAPH_NONE;
    uint64_t hash = tm_hash_words(TM_HASH_FNV_OFFSET, id);
    size_t slot = 0;
    if (g->table_cap) {
        uint32_t found = s_probe(g, id, hash, &slot);
        if (found != TM_GRAPH_NONE)
            return found;
    }
    if (g->n_nodes >= UINT32_MAX - 1)
        return TM_GRAPH_NONE;
    if (g->n_nodes == g->cap_nodes) {
        size_t cap = g->cap_nodes ? g->cap_nodes * 2 : s_nodes_expected(g);
        struct tm_graph_node *n = realloc(g->nodes, cap * sizeof(*n));
        if (!n)
            return TM_GRAPH_NONE;
        g->nodes = n;
        struct tm__graph_node_extra *x = realloc(g->extra, cap * sizeof(*x));
        if (!x)
            return TM_GRAPH_NONE;
        g->extra = x;
        g->cap_nodes = cap;
    }
    if ((g->n_nodes + 1) * 2 > g->table_cap) {
        if (s_table_grow(g))
            return TM_GRAPH_NONE;
        (void)s_probe(g, id, hash, &slot);
    }
    if (!id_stable && !(id = tm__graph_strdup(g, id)))
        return TM_GRAPH_NONE;
    uint32_t idx = (uint32_t)g->n_nodes++;
    struct tm_graph_node *n = &g->nodes[idx];
    memset(n, 0, sizeof(*n));
    n->id = id;
    n->type = type;
    n->account = account;
    n->name = id;
    n->kind = kind;
    s_type_traits(g, kind, type);
    n->group = g->type_memo.group;
    struct tm__graph_node_extra *x = &g->extra[idx];
    memset(x, 0, sizeof(*x));
    x->principal = TM_GRAPH_NONE;
    x->jewel = g->type_memo.jewel;
    x->is_role = g->type_memo.is_role;
    for (size_t i = 0; account && i < g->n_accounts; i++)
        if (strcmp(g->accounts[i].id, account) == 0) {
            x->account = &g->accounts[i];
            break;
        }
    bool failed = false;
    x->service = s_service_of(g, id, &failed);
    if (failed)
        return TM_GRAPH_NONE;
    g->table[slot] = idx;
    return idx;
}

int tm__graph_edge_add(struct tm_graph *g, const struct tm_graph_edge *e) {
    if (g->n_edges >= UINT32_MAX - 1)
        return TM_ERR_TOO_BIG;
    if (g->n_edges == g->cap_edges) {
        size_t cap = g->cap_edges ? g->cap_edges * 2 : 1024;
        struct tm_graph_edge *n = realloc(g->edges, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        g->edges = n;
        g->cap_edges = cap;
    }
    g->edges[g->n_edges++] = *e;
    g->finalized = false;
    return TM_OK;
}

int tm__graph_key_add(struct tm_graph *g, const char *key_id, uint32_t user) {
    if (g->n_keys == g->cap_keys) {
        size_t cap = g->cap_keys ? g->cap_keys * 2 : 64;
        const char **k = realloc(g->key_ids, cap * sizeof(*k));
        if (!k)
            return TM_ERR_NOMEM;
        g->key_ids = k;
        uint32_t *n = realloc(g->key_nodes, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        g->key_nodes = n;
        g->cap_keys = cap;
    }
    g->key_ids[g->n_keys] = key_id;
    g->key_nodes[g->n_keys++] = user;
    return TM_OK;
}

/* ---- finalize: sort nodes by id, edges by source, build the indices ---- */

static int s_cmp_str(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "");
}

struct s_node_sort {
    const char *id;
    uint32_t old;
};

/* Sorts by id (ids are unique). The nodes come mostly in id order (the snapshot's resources are sorted; a
 * finalize after the first appends to sorted nodes): the ascending runs are found and merged, in
 * O(n log runs). */
static int s_sort_nodes(struct s_node_sort *a, size_t n, bool *was_sorted) {
    *was_sorted = true;
    if (n < 2)
        return TM_OK;
    size_t *starts = malloc((n + 1) * sizeof(*starts));
    struct s_node_sort *tmp = malloc(n * sizeof(*tmp));
    if (!starts || !tmp) {
        free(starts);
        free(tmp);
        return TM_ERR_NOMEM;
    }
    size_t runs = 0;
    starts[runs++] = 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(a[i - 1].id, a[i].id) > 0)
            starts[runs++] = i;
    starts[runs] = n;
    *was_sorted = runs == 1;
    struct s_node_sort *src = a, *dst = tmp;
    while (runs > 1) {
        size_t merged = 0;
        for (size_t r = 0; r < runs; r += 2) {
            /* Runs r and r + 1 (the last run alone when their number is odd: starts[runs] is n). */
            size_t lo = starts[r], mid = starts[r + 1], hi = r + 2 <= runs ? starts[r + 2] : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = strcmp(src[i].id, src[j].id) <= 0 ? src[i++] : src[j++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
            starts[merged++] = lo;
        }
        starts[merged] = n;
        runs = merged;
        struct s_node_sort *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * sizeof(*a));
    free(starts);
    free(tmp);
    return TM_OK;
}

struct s_edge_sort {
    struct tm_graph_edge e;
    const char *to_id;
};

static int s_evidence_cmp(const struct tm_graph_evidence *a, const struct tm_graph_evidence *b) {
    int c;
    if ((c = s_cmp_str(a->source, b->source)) || (c = s_cmp_str(a->holder, b->holder)) ||
        (c = s_cmp_str(a->policy, b->policy)))
        return c;
    if (a->statement != b->statement)
        return a->statement < b->statement ? -1 : 1;
    return s_cmp_str(a->text, b->text);
}

static int s_edge_sort_cmp(const void *pa, const void *pb) {
    const struct tm_graph_edge *a = pa, *b = pb;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->to != b->to)
        return a->to < b->to ? -1 : 1; /* node indices follow id order after the node sort */
    int c = s_evidence_cmp(&a->evidence, &b->evidence);
    if (c)
        return c;
    if (a->flags != b->flags)
        return a->flags < b->flags ? -1 : 1;
    if (a->n_actions != b->n_actions)
        return a->n_actions < b->n_actions ? -1 : 1;
    for (size_t i = 0; i < a->n_actions; i++)
        if ((c = strcmp(a->actions[i], b->actions[i])))
            return c;
    return s_cmp_str(a->resource_pattern, b->resource_pattern);
}

/* Sets by (literal prefix length, literal prefix, node index). */
static int s_prefix_cmp(const void *pa, const void *pb, void *user_data) {
    const struct tm_graph_node *nodes = user_data;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const char *x = nodes[a].set_pattern, *y = nodes[b].set_pattern;
    size_t lx = strcspn(x, "*?"), ly = strcspn(y, "*?");
    if (lx != ly)
        return lx < ly ? -1 : 1;
    int c = strncmp(x, y, lx);
    if (c)
        return c;
    return a < b ? -1 : a > b;
}

static int s_remap_nodes(struct tm_graph *g) {
    size_t n = g->n_nodes;
    struct s_node_sort *order = malloc((n ? n : 1) * sizeof(*order));
    uint32_t *map = malloc((n ? n : 1) * sizeof(*map));
    int rc = TM_ERR_NOMEM;
    if (!order || !map)
        goto out;
    for (size_t i = 0; i < n; i++)
        order[i] = (struct s_node_sort){g->nodes[i].id, (uint32_t)i};
    bool was_sorted = false;
    if ((rc = s_sort_nodes(order, n, &was_sorted)))
        goto out;
    if (was_sorted) {
        /* Already in id order (a finalize that added no node out of order): every index stays. */
        rc = TM_OK;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        map[order[i].old] = (uint32_t)i;
    /* Moved in place, one cycle of the permutation at a time (slot k takes node order[k].old), rather than into
     * a second copy of both arrays: no new memory, and the arrays keep their room for nodes to come. */
    for (size_t i = 0; i < n; i++) {
        if (order[i].old == i)
            continue;
        struct tm_graph_node first = g->nodes[i];
        struct tm__graph_node_extra first_extra = g->extra[i];
        size_t k = i;
        for (;;) {
            size_t src = order[k].old;
            order[k].old = (uint32_t)k;
            if (src == i) {
                g->nodes[k] = first;
                g->extra[k] = first_extra;
                break;
            }
            g->nodes[k] = g->nodes[src];
            g->extra[k] = g->extra[src];
            k = src;
        }
    }
    for (size_t i = 0; i < g->n_edges; i++) {
        g->edges[i].from = map[g->edges[i].from];
        g->edges[i].to = map[g->edges[i].to];
    }
    for (size_t i = 0; i < g->n_principals; i++) {
        struct tm__graph_principal *p = &g->principals[i];
        p->node = map[p->node];
        for (size_t j = 0; j < p->n_groups; j++)
            p->groups[j] = map[p->groups[j]];
    }
    for (size_t i = 0; i < g->n_accounts; i++)
        if (g->accounts[i].admin_node != TM_GRAPH_NONE)
            g->accounts[i].admin_node = map[g->accounts[i].admin_node];
    for (size_t i = 0; i < g->n_keys; i++)
        g->key_nodes[i] = map[g->key_nodes[i]];
    /* The hash table holds indices: a slot's place depends on its id only, so renaming its index is enough. */
    for (size_t h = 0; h < g->table_cap; h++)
        if (g->table[h] != TM_GRAPH_NONE)
            g->table[h] = map[g->table[h]];
    rc = TM_OK;
out:
    free(order);
    free(map);
    return rc;
}

struct s_type_group {
    const char *type; /* of the group's first node; "" for none */
    uint32_t count, start;
};

static int s_cmp_group(const void *pa, const void *pb) {
    const struct s_type_group *a = *(const struct s_type_group *const *)pa;
    const struct s_type_group *b = *(const struct s_type_group *const *)pb;
    return strcmp(a->type, b->type);
}

/* by_type and types: the nodes grouped by type, types in byte order, nodes in index order within each. A
 * counting sort over the few distinct types (found through a small hash table), not a comparison sort of
 * every node by its type string. */
static int s_group_by_type(struct tm_graph *g) {
    size_t n = g->n_nodes, cap = 64, n_groups = 0;
    int rc = TM_ERR_NOMEM;
    uint32_t *group_of = malloc((n ? n : 1) * sizeof(*group_of));
    uint32_t *slots = malloc(cap * sizeof(*slots));
    struct s_type_group *groups = malloc((cap / 2) * sizeof(*groups));
    struct s_type_group **order = NULL;
    if (!group_of || !slots || !groups)
        goto out;
    memset(slots, 0xff, cap * sizeof(*slots));
    for (size_t i = 0; i < n; i++) {
        const char *t = g->nodes[i].type ? g->nodes[i].type : "";
        size_t h = (size_t)tm_hash_words(TM_HASH_FNV_OFFSET, t) & (cap - 1);
        while (slots[h] != UINT32_MAX && strcmp(groups[slots[h]].type, t) != 0)
            h = (h + 1) & (cap - 1);
        if (slots[h] == UINT32_MAX) {
            if ((n_groups + 1) * 2 > cap) {
                /* Grow the table (and the groups with it) and place every group again. */
                size_t ncap = cap * 2;
                uint32_t *ns = malloc(ncap * sizeof(*ns));
                struct s_type_group *ng = realloc(groups, (ncap / 2) * sizeof(*ng));
                if (ng)
                    groups = ng;
                if (!ns || !ng) {
                    free(ns);
                    goto out;
                }
                memset(ns, 0xff, ncap * sizeof(*ns));
                for (size_t k = 0; k < n_groups; k++) {
                    size_t j = (size_t)tm_hash_words(TM_HASH_FNV_OFFSET, groups[k].type) & (ncap - 1);
                    while (ns[j] != UINT32_MAX)
                        j = (j + 1) & (ncap - 1);
                    ns[j] = (uint32_t)k;
                }
                free(slots);
                slots = ns;
                cap = ncap;
                h = (size_t)tm_hash_words(TM_HASH_FNV_OFFSET, t) & (cap - 1);
                while (slots[h] != UINT32_MAX)
                    h = (h + 1) & (cap - 1);
            }
            groups[n_groups] = (struct s_type_group){t, 0, 0};
            slots[h] = (uint32_t)n_groups++;
        }
        group_of[i] = slots[h];
        groups[slots[h]].count++;
    }
    order = malloc((n_groups ? n_groups : 1) * sizeof(*order));
    g->types = calloc(n_groups ? n_groups : 1, sizeof(*g->types));
    if (!order || !g->types)
        goto out;
    for (size_t k = 0; k < n_groups; k++)
        order[k] = &groups[k];
    qsort(order, n_groups, sizeof(*order), s_cmp_group);
    uint32_t start = 0;
    for (size_t k = 0; k < n_groups; k++) {
        order[k]->start = start;
        g->types[k] = (struct tm__graph_type){order[k]->type, start, order[k]->count};
        start += order[k]->count;
    }
    g->n_types = n_groups;
    for (size_t i = 0; i < n; i++)
        g->by_type[groups[group_of[i]].start++] = (uint32_t)i;
    rc = TM_OK;
out:
    free(group_of);
    free(slots);
    free(groups);
    free(order);
    return rc;
}

static bool s_edge_same(const struct tm_graph_edge *a, const struct tm_graph_edge *b) {
    return s_edge_sort_cmp(a, b) == 0;
}

/* Sorts the edges added since the last finalize and merges them into the ones sorted then (a node remap keeps
 * those in order: old nodes keep their relative order). Ties keep the older edge first, as one stable sort of the
 * whole array would. */
static int s_sort_edges(struct tm_graph *g) {
    size_t m = g->n_edges, old = g->n_edges_sorted <= m ? g->n_edges_sorted : 0;
    if (m - old > 1)
        qsort(g->edges + old, m - old, sizeof(*g->edges), s_edge_sort_cmp);
    if (old == 0 || old == m || s_edge_sort_cmp(&g->edges[old - 1], &g->edges[old]) <= 0)
        return TM_OK;
    struct tm_graph_edge *tail = malloc((m - old) * sizeof(*tail));
    if (!tail)
        return TM_ERR_NOMEM;
    memcpy(tail, g->edges + old, (m - old) * sizeof(*tail));
    /* Merge from the back: the old edges move right, into room the tail left. */
    size_t i = old, j = m - old, k = m;
    while (j > 0) {
        if (i > 0 && s_edge_sort_cmp(&g->edges[i - 1], &tail[j - 1]) > 0)
            g->edges[--k] = g->edges[--i];
        else
            g->edges[--k] = tail[--j];
    }
    free(tail);
    return TM_OK;
}

/* in_edges: edge indices by (target, kind, source, index). The edges are sorted by source, so index order is
 * (source, index) order already: a stable counting pass by kind, then one by target, give the rest in linear
 * time. in_start must hold each target's first slot. */
static int s_index_in_edges(struct tm_graph *g) {
    size_t m = g->n_edges, n = g->n_nodes;
    uint32_t *by_kind = malloc((m ? m : 1) * sizeof(*by_kind));
    if (!by_kind)
        return TM_ERR_NOMEM;
    uint32_t start[TM_GRAPH_EDGE_KIND_COUNT + 1] = {0};
    for (size_t i = 0; i < m; i++) {
        assert((unsigned)g->edges[i].kind < TM_GRAPH_EDGE_KIND_COUNT);
        start[g->edges[i].kind + 1]++;
    }
    for (size_t k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++)
        start[k + 1] += start[k];
    for (size_t i = 0; i < m; i++)
        by_kind[start[g->edges[i].kind]++] = (uint32_t)i;
    /* in_start[to] serves as the target's cursor, ending at the next target's start; shifted back after. */
    for (size_t i = 0; i < m; i++)
        g->in_edges[g->in_start[g->edges[by_kind[i]].to]++] = by_kind[i];
    for (size_t v = n; v > 0; v--)
        g->in_start[v] = g->in_start[v - 1];
    g->in_start[0] = 0;
    free(by_kind);
    return TM_OK;
}

int tm__graph_finalize(struct tm_graph *g) {
    int rc = s_remap_nodes(g);
    if (rc || (rc = s_sort_edges(g)))
        return rc;
    size_t n = g->n_nodes;
    /* The same statement can name the same resource twice: one edge is enough. */
    size_t w = 0;
    for (size_t r = 0; r < g->n_edges; r++)
        if (w == 0 || !s_edge_same(&g->edges[w - 1], &g->edges[r]))
            g->edges[w++] = g->edges[r];
    g->n_edges = w;

    free(g->out_start);
    free(g->in_start);
    free(g->in_edges);
    free(g->by_type);
    free(g->types);
    free(g->sets);
    g->out_start = calloc(n + 1, sizeof(uint32_t));
    g->in_start = calloc(n + 1, sizeof(uint32_t));
    g->in_edges = malloc((g->n_edges ? g->n_edges : 1) * sizeof(uint32_t));
    g->by_type = malloc((n ? n : 1) * sizeof(uint32_t));
    g->types = NULL;
    g->sets = NULL;
    g->n_types = 0;
    g->n_sets = 0;
    g->n_indexed = 0;
    if (!g->out_start || !g->in_start || !g->in_edges || !g->by_type)
        return TM_ERR_NOMEM;
    g->n_indexed = n;
    for (size_t i = 0; i < g->n_edges; i++) {
        g->out_start[g->edges[i].from + 1]++;
        g->in_start[g->edges[i].to + 1]++;
    }
    for (size_t i = 0; i < n; i++) {
        g->out_start[i + 1] += g->out_start[i];
        g->in_start[i + 1] += g->in_start[i];
    }
    if ((rc = s_index_in_edges(g)))
        return rc;

    size_t n_sets = 0;
    for (size_t i = 0; i < n; i++)
        n_sets += g->nodes[i].kind == TM_GRAPH_NODE_SET;
    g->sets = malloc((n_sets ? n_sets : 1) * sizeof(uint32_t));
    if (!g->sets)
        return TM_ERR_NOMEM;
    if ((rc = s_group_by_type(g)))
        return rc;
    for (size_t i = 0; i < n; i++)
        if (g->nodes[i].kind == TM_GRAPH_NODE_SET)
            g->sets[g->n_sets++] = (uint32_t)i;
    free(g->account_trusting);
    size_t n_trusting = 0;
    for (size_t i = 0; i < n; i++)
        n_trusting += g->extra[i].trusts_account;
    g->account_trusting = malloc((n_trusting ? n_trusting : 1) * sizeof(uint32_t));
    g->n_account_trusting = 0;
    if (!g->account_trusting)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        if (g->extra[i].trusts_account)
            g->account_trusting[g->n_account_trusting++] = (uint32_t)i;
    free(g->sets_by_prefix);
    free(g->prefix_groups);
    g->sets_by_prefix = malloc((g->n_sets ? g->n_sets : 1) * sizeof(uint32_t));
    g->prefix_groups = calloc(g->n_sets ? g->n_sets : 1, sizeof(*g->prefix_groups));
    g->n_prefix_groups = 0;
    if (!g->sets_by_prefix || !g->prefix_groups)
        return TM_ERR_NOMEM;
    memcpy(g->sets_by_prefix, g->sets, g->n_sets * sizeof(uint32_t));
    if (g->n_sets)
        qsort_r(g->sets_by_prefix, g->n_sets, sizeof(uint32_t), s_prefix_cmp, g->nodes);
    for (size_t i = 0; i < g->n_sets; i++) {
        const char *p = g->nodes[g->sets_by_prefix[i]].set_pattern;
        uint32_t len = (uint32_t)strcspn(p, "*?");
        if (!g->n_prefix_groups || g->prefix_groups[g->n_prefix_groups - 1].len != len)
            g->prefix_groups[g->n_prefix_groups++] = (struct tm__graph_prefix_group){len, (uint32_t)i, 0};
        g->prefix_groups[g->n_prefix_groups - 1].count++;
    }
    g->n_edges_sorted = g->n_edges;
    g->finalized = true;
    return TM_OK;
}

/* The arrays grew by doubling: up to half of each is room no element took. Given back, it serves the allocations
 * that follow (the analyzers', the report's) instead of new memory. */
void tm__graph_trim(struct tm_graph *g) {
    if (g->cap_nodes > g->n_nodes && g->n_nodes) {
        struct tm_graph_node *n = realloc(g->nodes, g->n_nodes * sizeof(*n));
        if (n)
            g->nodes = n;
        struct tm__graph_node_extra *x = realloc(g->extra, g->n_nodes * sizeof(*x));
        if (x)
            g->extra = x;
        /* Either array may have kept its old size (a shrink that failed): both hold n_nodes at least. */
        g->cap_nodes = g->n_nodes;
    }
    if (g->cap_edges > g->n_edges && g->n_edges) {
        struct tm_graph_edge *e = realloc(g->edges, g->n_edges * sizeof(*e));
        if (e) {
            g->edges = e;
            g->cap_edges = g->n_edges;
        }
    }
    if (g->cap_principals > g->n_principals && g->n_principals) {
        struct tm__graph_principal *p = realloc(g->principals, g->n_principals * sizeof(*p));
        if (p) {
            g->principals = p;
            g->cap_principals = g->n_principals;
        }
    }
}

/* ---- public: lifetime ---- */

void tm_graph_destroy(struct tm_graph *g) {
    if (!g)
        return;
    tm_iam_policy_cache_destroy(g->policies);
    for (size_t i = 0; i < g->n_accounts; i++) {
        free(g->accounts[i].scps.levels);
        free(g->accounts[i].rcps.levels);
    }
    free(g->accounts);
    for (size_t i = 0; i < g->n_contexts; i++)
        tm_iam_context_clean_up(&g->contexts[i]);
    free(g->contexts);
    free(g->ctx_regions);
    free(g->kind_keys);
    free(g->kind_masks);
    free(g->principals);
    free(g->key_ids);
    free(g->key_nodes);
    free(g->sets);
    free(g->account_trusting);
    free(g->sets_by_prefix);
    free(g->prefix_groups);
    free(g->types);
    free(g->by_type);
    free(g->in_start);
    free(g->in_edges);
    free(g->out_start);
    free(g->edges);
    free(g->table);
    free(g->extra);
    free(g->nodes);
    free(g->strings);
    s_arena_free(&g->arena);
    free(g);
}

/* ---- public: nodes and edges ---- */

size_t tm_graph_memory_bytes(const struct tm_graph *g) {
    if (!g)
        return 0;
    return g->arena.total + g->cap_nodes * (sizeof(*g->nodes) + sizeof(*g->extra)) + g->cap_edges * sizeof(*g->edges) +
           g->table_cap * sizeof(*g->table) + (g->n_nodes + 1) * 2 * sizeof(uint32_t) + g->n_edges * sizeof(uint32_t) +
           g->n_nodes * sizeof(uint32_t) + g->n_types * sizeof(*g->types) + g->cap_principals * sizeof(*g->principals);
}

size_t tm_graph_node_count(const struct tm_graph *g) {
    return g ? g->n_nodes : 0;
}

const struct tm_graph_node *tm_graph_node(const struct tm_graph *g, uint32_t index) {
    return g && index < g->n_nodes ? &g->nodes[index] : NULL;
}

static bool s_is_key_id(const char *s) {
    size_t n = strlen(s);
    if (n < 16 || n > 128)
        return false;
    if (strncmp(s, "AKIA", 4) != 0 && strncmp(s, "ASIA", 4) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

uint32_t tm_graph_find(const struct tm_graph *g, const char *id) {
    if (!g || !id)
        return TM_GRAPH_NONE;
    uint32_t n = tm__graph_lookup(g, id);
    if (n != TM_GRAPH_NONE)
        return n;
    if (s_is_key_id(id)) {
        for (size_t i = 0; i < g->n_keys; i++)
            if (strcmp(g->key_ids[i], id) == 0)
                return g->key_nodes[i];
        return TM_GRAPH_NONE;
    }
    /* arn:aws:sts::A:assumed-role/NAME/SESSION → the role (its path is not in the session ARN: search). */
    const char *ar = strstr(id, ":assumed-role/");
    if (strncmp(id, "arn:", 4) == 0 && ar) {
        char acct[32];
        if (!tm__graph_arn_account(id, acct, sizeof(acct)))
            return TM_GRAPH_NONE;
        const char *name = ar + strlen(":assumed-role/");
        const char *slash = strchr(name, '/');
        size_t name_len = slash ? (size_t)(slash - name) : strlen(name);
        size_t nt = 0;
        const uint32_t *roles = tm_graph_nodes_of_type(g, "aws:iam:role", &nt);
        for (size_t i = 0; i < nt; i++) {
            const struct tm_graph_node *r = &g->nodes[roles[i]];
            const char *last = strrchr(r->id, '/');
            if (r->account && strcmp(r->account, acct) == 0 && last && strlen(last + 1) == name_len &&
                strncmp(last + 1, name, name_len) == 0)
                return roles[i];
        }
        return TM_GRAPH_NONE;
    }
    /* A 12-digit account id alone, or the account's root ARN. */
    if (strlen(id) == 12 && strspn(id, "0123456789") == 12) {
        char buf[64];
        snprintf(buf, sizeof(buf), "arn:aws:iam::%s:root", id);
        n = tm__graph_lookup(g, buf);
        if (n != TM_GRAPH_NONE)
            return n;
        snprintf(buf, sizeof(buf), "account:%s", id);
        return tm__graph_lookup(g, buf);
    }
    return TM_GRAPH_NONE;
}

const char *tm_graph_home_account(const struct tm_graph *g) {
    return g && g->n_accounts ? g->accounts[0].id : NULL;
}

bool tm_graph_is_home_account(const struct tm_graph *g, const char *account) {
    if (!g || !account)
        return false;
    for (size_t i = 0; i < g->n_accounts; i++)
        if (strcmp(g->accounts[i].id, account) == 0)
            return true;
    return false;
}

bool tm__graph_in_organization(const struct tm_graph *g, const char *account) {
    for (size_t i = 0; account && i < g->n_accounts; i++) {
        const struct tm__graph_account *a = &g->accounts[i];
        if (a->management && strcmp(a->management, account) == 0)
            return true;
        for (const cJSON *m = a->org_accounts ? a->org_accounts->child : NULL; m; m = m->next) {
            const char *id = cJSON_IsString(m) ? m->valuestring : cJSON_IsObject(m) ? tm_json_str(m, "id", NULL) : NULL;
            if (id && strcmp(id, account) == 0)
                return true;
        }
    }
    return false;
}

size_t tm_graph_edge_count(const struct tm_graph *g) {
    return g ? g->n_edges : 0;
}

const struct tm_graph_edge *tm_graph_edge(const struct tm_graph *g, uint32_t index) {
    return g && index < g->n_edges ? &g->edges[index] : NULL;
}

uint32_t tm_graph_edge_index(const struct tm_graph *g, const struct tm_graph_edge *e) {
    return (uint32_t)(e - g->edges);
}

const struct tm_graph_edge *tm_graph_out(const struct tm_graph *g, uint32_t node, size_t *n, uint32_t *first) {
    if (!g || node >= g->n_indexed) {
        *n = 0;
        if (first)
            *first = 0;
        return NULL;
    }
    *n = g->out_start[node + 1] - g->out_start[node];
    if (first)
        *first = g->out_start[node];
    return &g->edges[g->out_start[node]];
}

const uint32_t *tm_graph_in(const struct tm_graph *g, uint32_t node, size_t *n) {
    if (!g || node >= g->n_indexed) {
        *n = 0;
        return NULL;
    }
    *n = g->in_start[node + 1] - g->in_start[node];
    return &g->in_edges[g->in_start[node]];
}

static const char *const s_edge_kind_names[TM_GRAPH_EDGE_KIND_COUNT] = {
    "can-invoke",     "can-read", "can-write", "can-assume",      "can-pass",
    "holds-token-of", "triggers", "routes-to", "can-escalate-to",
};

const char *tm_graph_edge_kind_name(enum tm_graph_edge_kind kind) {
    return (unsigned)kind < TM_GRAPH_EDGE_KIND_COUNT ? s_edge_kind_names[kind] : "unknown";
}

enum tm_graph_edge_kind tm_graph_edge_kind_parse(const char *name) {
    for (unsigned k = 0; name && k < TM_GRAPH_EDGE_KIND_COUNT; k++)
        if (strcmp(s_edge_kind_names[k], name) == 0)
            return (enum tm_graph_edge_kind)k;
    return TM_GRAPH_EDGE_KIND_COUNT;
}

const char *tm_graph_group_name(enum tm_graph_group group) {
    switch (group) {
        case TM_GRAPH_GROUP_DATA:
            return "data";
        case TM_GRAPH_GROUP_COMPUTE:
            return "compute";
        case TM_GRAPH_GROUP_IDENTITY:
            return "identity";
        case TM_GRAPH_GROUP_ADMIN:
            return "admin";
        case TM_GRAPH_GROUP_OTHER:
        default:
            return "other";
    }
}

const char *tm_graph_node_kind_name(enum tm_graph_node_kind kind) {
    switch (kind) {
        case TM_GRAPH_NODE_INTERNET:
            return "internet";
        case TM_GRAPH_NODE_ANY_AWS_ACCOUNT:
            return "any-aws-account";
        case TM_GRAPH_NODE_ACCOUNT:
            return "account";
        case TM_GRAPH_NODE_ORGANIZATION:
            return "organization";
        case TM_GRAPH_NODE_SERVICE:
            return "service";
        case TM_GRAPH_NODE_FEDERATED:
            return "federated";
        case TM_GRAPH_NODE_ADMIN:
            return "admin";
        case TM_GRAPH_NODE_PRINCIPAL:
            return "principal";
        case TM_GRAPH_NODE_RESOURCE:
            return "resource";
        case TM_GRAPH_NODE_SET:
            return "set";
        default:
            return "unknown";
    }
}

const uint32_t *tm_graph_nodes_of_type(const struct tm_graph *g, const char *type, size_t *n) {
    *n = 0;
    if (!g || !type || !g->types)
        return NULL;
    size_t lo = 0, hi = g->n_types;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->types[mid].type, type);
        if (c == 0) {
            *n = g->types[mid].count;
            return &g->by_type[g->types[mid].start];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---- matching ---- */

static int s_fold(int c, bool icase) {
    return icase && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool tm__graph_glob(const char *p, const char *s, bool icase) {
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            mark = s;
        } else if (*p == '?' || (*p && s_fold((unsigned char)*p, icase) == s_fold((unsigned char)*s, icase))) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool tm_graph_action_glob(const char *pattern, const char *action) {
    return tm__graph_glob(pattern, action, true);
}

/* Field i (0-based) of an ARN split on ':' (the resource part may hold more colons). */
static const char *s_arn_field(const char *arn, int i, size_t *len) {
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return NULL;
    const char *p = arn;
    for (int k = 0; k < i; k++) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    const char *end = strchr(p, ':');
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

const char *tm__graph_arn_service(const char *arn, char *buf, size_t len) {
    size_t n = 0;
    const char *f = s_arn_field(arn, 2, &n);
    if (!f || n == 0 || n >= len)
        return NULL;
    memcpy(buf, f, n);
    buf[n] = '\0';
    return buf;
}

const char *tm__graph_arn_account(const char *arn, char *buf, size_t len) {
    size_t n = 0;
    const char *f = s_arn_field(arn, 4, &n);
    if (!f || n == 0 || n >= len)
        return NULL;
    memcpy(buf, f, n);
    buf[n] = '\0';
    return buf;
}

bool tm__graph_set_matches(const struct tm_graph *g, uint32_t set, uint32_t node) {
    const struct tm_graph_node *s = &g->nodes[set], *n = &g->nodes[node];
    if (s->kind != TM_GRAPH_NODE_SET || n->kind == TM_GRAPH_NODE_SET || !(n->flags & TM_GRAPH_NODE_IN_SNAPSHOT))
        return false;
    const char *svc = g->extra[node].service;
    if (!svc)
        return false;
    unsigned flags = g->extra[set].set_flags;
    if (!(flags & TM__GRAPH_SET_ANY_SERVICE) && strcmp(s->set_service, svc) != 0)
        return false;
    if (flags & TM__GRAPH_SET_PREFIX_ONLY ? strncmp(n->id, s->set_pattern, strlen(s->set_pattern) - 1) != 0
                                          : !tm__graph_glob(s->set_pattern, n->id, false))
        return false;
    if (!s->set_trusts)
        return true;
    if (!g->extra[node].is_role)
        return false;
    if (flags & TM__GRAPH_SET_TRUSTS_ACCOUNT)
        return g->extra[node].trusts_account;
    /* Trusted by a service: the trust pass made an edge service:NAME -can-assume-> role. The role's few
     * incoming edges are read, rather than the service node looked up for every candidate. */
    size_t ni = 0;
    const uint32_t *in = tm_graph_in(g, node, &ni);
    for (size_t i = 0; i < ni; i++) {
        const struct tm_graph_edge *e = &g->edges[in[i]];
        const char *from = g->nodes[e->from].id;
        if (e->kind == TM_GRAPH_EDGE_CAN_ASSUME && strncmp(from, "service:", 8) == 0 &&
            strcmp(from + 8, s->set_trusts) == 0)
            return true;
    }
    return false;
}

const char *tm__graph_member_resource(const struct tm_graph_edge *e, const struct tm_graph_node *member, char *buf,
                                      size_t len) {
    /* A pattern on S3 objects ("logs-*" then "/2024/" and more) reaches bucket logs-a through its objects. */
    const char *pat = e->resource_pattern;
    if (pat && strncmp(pat, "arn:aws:s3:::", 13) == 0 && strncmp(member->id, "arn:aws:s3:::", 13) == 0) {
        const char *slash = strchr(pat + 13, '/');
        if (slash) {
            int n = snprintf(buf, len, "%s%s", member->id, slash);
            if (n > 0 && (size_t)n < len)
                return buf;
        }
    }
    return member->id;
}

/* Keep in step with tm__graph_edge_covers: these are the edges it answers from the set alone. */
bool tm_graph_edge_is_whole_set(const struct tm_graph *g, const struct tm_graph_edge *e) {
    if (!g || !e || !(e->flags & TM_GRAPH_EDGE_TO_SET))
        return false;
    if (e->flags & TM_GRAPH_EDGE_UNKNOWN)
        return true;
    return g->nodes[e->to].set_trusts && (e->flags & TM_GRAPH_EDGE_EXACT) &&
           !(g->extra[e->to].set_flags & TM__GRAPH_SET_TRUSTS_ACCOUNT);
}

bool tm__graph_edge_covers(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t member) {
    if (!(e->flags & TM_GRAPH_EDGE_TO_SET))
        return e->to == member;
    if (!tm__graph_set_matches(g, e->to, member))
        return false;
    const char *trusts = g->nodes[e->to].set_trusts;
    if (trusts && (e->flags & TM_GRAPH_EDGE_EXACT) &&
        (!(g->extra[e->to].set_flags & TM__GRAPH_SET_TRUSTS_ACCOUNT) || g->extra[member].trust_plain))
        return true; /* membership already says the role's trust policy lets them in */
    if (!trusts && (e->flags & TM_GRAPH_EDGE_EXACT) && !g->extra[member].reevaluate)
        return true;
    if (e->flags & TM_GRAPH_EDGE_UNKNOWN)
        return true; /* "could be anything": every member */
    char buf[2048];
    const char *res = tm__graph_member_resource(e, &g->nodes[member], buf, sizeof(buf));
    return tm__graph_member_allowed(g, e, member, res);
}

/* ---- sets ---- */

static int s_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* What a walk over an edge's members may skip before the membership test, which may take the engine: whole
 * types of nodes (type, may be NULL), single candidates (node, may be NULL). */
struct s_member_filter {
    bool (*type)(const char *type, void *user_data);
    bool (*node)(uint32_t node, void *user_data);
};

/* Members of an edge's set in node order, among the candidates filter accepts. */
static int s_members(const struct tm_graph *g, const struct tm_graph_edge *e, const struct s_member_filter *filter,
                     tm_graph_node_fn fn, void *user_data) {
    bool (*accept)(uint32_t, void *) = filter ? filter->node : NULL;
    if (!(e->flags & TM_GRAPH_EDGE_TO_SET))
        return !accept || accept(e->to, user_data) ? fn(e->to, user_data) : TM_OK;
    const struct tm_graph_node *s = &g->nodes[e->to];
    const char *prefix = s->set_pattern;
    size_t plen = strcspn(prefix, "*?");
    if (s->set_trusts) {
        /* Roles trusting a service are that service node's can-assume edges; roles trusting their account were
         * listed at finalize. Both in node order. */
        const uint32_t *cand = g->account_trusting;
        size_t nc = g->n_account_trusting;
        const struct tm_graph_edge *svc_out = NULL;
        if (!(g->extra[e->to].set_flags & TM__GRAPH_SET_TRUSTS_ACCOUNT)) {
            char id[256];
            snprintf(id, sizeof(id), "service:%s", s->set_trusts);
            uint32_t svc = tm__graph_lookup(g, id);
            nc = 0;
            if (svc != TM_GRAPH_NONE)
                svc_out = tm_graph_out(g, svc, &nc, NULL);
        }
        for (size_t i = 0; i < nc; i++) {
            uint32_t m = svc_out ? svc_out[i].to : cand[i];
            if (svc_out && (svc_out[i].kind != TM_GRAPH_EDGE_CAN_ASSUME ||
                            (i && svc_out[i - 1].to == m && svc_out[i - 1].kind == svc_out[i].kind)))
                continue;
            if (strncmp(g->nodes[m].id, prefix, plen) != 0 || (accept && !accept(m, user_data)) ||
                !tm__graph_edge_covers(g, e, m))
                continue;
            int rc = fn(m, user_data);
            if (rc)
                return rc;
        }
        return TM_OK;
    }
    /* Walk only the candidate nodes: one service's types when the set names a service, and within each type
     * (sorted by id) only the ids that start with the pattern's literal prefix. */
    for (size_t t = 0; t < g->n_types; t++) {
        const char *type = g->types[t].type;
        if (strcmp(s->set_service, "*") != 0) {
            /* Types are "aws:SERVICE:thing": skip other services without touching their nodes. */
            size_t sl = strlen(s->set_service);
            if (strncmp(type, "aws:", 4) != 0 || strncmp(type + 4, s->set_service, sl) != 0 ||
                (type[4 + sl] != ':' && type[4 + sl] != '\0'))
                continue;
        }
        if (filter && filter->type && !filter->type(type, user_data))
            continue;
        const uint32_t *slice = &g->by_type[g->types[t].start];
        size_t lo = 0, hi = g->types[t].count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strncmp(g->nodes[slice[mid]].id, prefix, plen) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < g->types[t].count; i++) {
            uint32_t m = slice[i];
            if (strncmp(g->nodes[m].id, prefix, plen) != 0)
                break;
            if ((accept && !accept(m, user_data)) || !tm__graph_edge_covers(g, e, m))
                continue;
            int rc = fn(m, user_data);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

bool tm_graph_set_contains(const struct tm_graph *g, uint32_t set, uint32_t node) {
    return g && set < g->n_nodes && node < g->n_nodes && tm__graph_set_matches(g, set, node);
}

bool tm_graph_edge_covers(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t node) {
    return g && e && node < g->n_nodes && tm__graph_edge_covers(g, e, node);
}

int tm_graph_edge_members(const struct tm_graph *g, const struct tm_graph_edge *e, tm_graph_node_fn fn,
                          void *user_data) {
    if (!g || !e || !fn)
        return TM_ERR_INVALID;
    return s_members(g, e, NULL, fn, user_data);
}

int tm_graph_sets_containing(const struct tm_graph *g, uint32_t node, tm_graph_node_fn fn, void *user_data) {
    if (!g || node >= g->n_nodes || !fn)
        return TM_ERR_INVALID;
    const char *id = g->nodes[node].id;
    size_t idlen = strlen(id);
    uint32_t found[256];
    size_t nf = 0;
    /* For each prefix length, the sets whose literal prefix is the node id's first that many characters. */
    for (size_t k = 0; k < g->n_prefix_groups; k++) {
        const struct tm__graph_prefix_group *pg = &g->prefix_groups[k];
        if (pg->len > idlen)
            break;
        const uint32_t *v = &g->sets_by_prefix[pg->start];
        size_t lo = 0, hi = pg->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strncmp(g->nodes[v[mid]].set_pattern, id, pg->len) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < pg->count && strncmp(g->nodes[v[i]].set_pattern, id, pg->len) == 0; i++)
            if (tm__graph_set_matches(g, v[i], node) && nf < sizeof(found) / sizeof(found[0]))
                found[nf++] = v[i];
    }
    qsort(found, nf, sizeof(uint32_t), s_cmp_u32);
    for (size_t i = 0; i < nf; i++) {
        int rc = fn(found[i], user_data);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- crown jewels ---- */

struct s_jewel {
    const char *type;
    const char *const *read;  /* actions that read its data */
    const char *const *write; /* actions that change its data or who can read it */
};

static const char *const s_s3_read[] = {"s3:GetObject", "s3:GetObjectVersion", NULL};
static const char *const s_s3_write[] = {"s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy", "s3:PutBucketAcl",
                                         NULL};
static const char *const s_sm_read[] = {"secretsmanager:GetSecretValue", NULL};
static const char *const s_sm_write[] = {"secretsmanager:PutSecretValue", "secretsmanager:PutResourcePolicy",
                                         "secretsmanager:DeleteSecret", NULL};
static const char *const s_db_read[] = {"rds-db:connect", "rds:CreateDBSnapshot", NULL};
static const char *const s_db_write[] = {"rds:ModifyDBInstance", "rds:DeleteDBInstance", NULL};
static const char *const s_rsnap_read[] = {"rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBClusterFromSnapshot",
                                           "rds:CopyDBSnapshot", "rds:CopyDBClusterSnapshot", NULL};
static const char *const s_rsnap_write[] = {"rds:ModifyDBSnapshotAttribute", "rds:ModifyDBClusterSnapshotAttribute",
                                            "rds:DeleteDBSnapshot", "rds:DeleteDBClusterSnapshot", NULL};
static const char *const s_ebs_read[] = {"ec2:CreateVolume", "ec2:CopySnapshot", NULL};
static const char *const s_ebs_write[] = {"ec2:ModifySnapshotAttribute", "ec2:DeleteSnapshot", NULL};
static const char *const s_ddb_read[] = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
                                         NULL};
static const char *const s_ddb_write[] = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                                          "dynamodb:BatchWriteItem", NULL};

static const struct s_jewel s_jewels[] = {
    {"aws:s3:bucket", s_s3_read, s_s3_write},
    {"aws:secretsmanager:secret", s_sm_read, s_sm_write},
    {"aws:rds:db", s_db_read, s_db_write},
    {"aws:rds:cluster", s_db_read, s_db_write},
    {"aws:rds:snapshot", s_rsnap_read, s_rsnap_write},
    {"aws:rds:cluster-snapshot", s_rsnap_read, s_rsnap_write},
    {"aws:ec2:snapshot", s_ebs_read, s_ebs_write},
    {"aws:dynamodb:table", s_ddb_read, s_ddb_write},
};

static uint8_t s_jewel_index(const char *type) {
    for (size_t i = 0; type && i < sizeof(s_jewels) / sizeof(s_jewels[0]); i++)
        if (strcmp(s_jewels[i].type, type) == 0)
            return (uint8_t)(i + 1);
    return 0;
}

static const struct s_jewel *s_jewel_of(const struct tm_graph *g, uint32_t node) {
    return g->extra[node].jewel ? &s_jewels[g->extra[node].jewel - 1] : NULL;
}

bool tm_graph_is_crown_jewel(const struct tm_graph *g, uint32_t node) {
    if (!g || node >= g->n_nodes)
        return false;
    const struct tm_graph_node *n = &g->nodes[node];
    if (n->kind == TM_GRAPH_NODE_ADMIN || (n->flags & TM_GRAPH_NODE_IS_ADMIN))
        return true;
    if (n->kind != TM_GRAPH_NODE_RESOURCE || !s_jewel_of(g, node))
        return false;
    /* A bucket served as a static website holds content meant for the public. */
    const cJSON *attrs = n->resource ? cJSON_GetObjectItemCaseSensitive(n->resource, "attrs") : NULL;
    const cJSON *web = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "website") : NULL;
    return !(strcmp(n->type, "aws:s3:bucket") == 0 && cJSON_IsObject(web));
}

/* Does one of the edge's actions (patterns) match one of acts? */
static bool s_actions_touch(const struct tm_graph_edge *e, const char *const *acts) {
    for (size_t a = 0; a < e->n_actions; a++)
        for (size_t k = 0; acts[k]; k++)
            if (tm__graph_glob(e->actions[a], acts[k], true))
                return true;
    return false;
}

bool tm_graph_edge_touches_data(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t node,
                                bool want_write) {
    if (!g || !e || node >= g->n_nodes)
        return false;
    const struct s_jewel *j = s_jewel_of(g, node);
    if (!j)
        return false;
    /* Whether a set edge covers the node may take the engine: the actions first, then. An edge to one node
     * covers that node alone, which is quicker to see. */
    if (!(e->flags & TM_GRAPH_EDGE_TO_SET))
        return e->to == node && s_actions_touch(e, want_write ? j->write : j->read);
    return s_actions_touch(e, want_write ? j->write : j->read) && tm__graph_edge_covers(g, e, node);
}

struct s_jewels_ctx {
    const struct tm_graph *g;
    const struct tm_graph_edge *e;
    tm_graph_jewel_fn fn;
    void *user_data;
    /* Per kind of jewel, worked out on first need: 0 unknown, else 1 | 2 (reads) | 4 (writes). */
    uint8_t access[sizeof(s_jewels) / sizeof(s_jewels[0])];
};

/* The edge's access to the data of a kind of jewel (t: 1 + index into s_jewels, 0 for none). */
static uint8_t s_kind_access(struct s_jewels_ctx *c, uint8_t t) {
    if (!t)
        return 1;
    if (!c->access[t - 1])
        c->access[t - 1] = (uint8_t)(1 | (s_actions_touch(c->e, s_jewels[t - 1].read) ? 2 : 0) |
                                     (s_actions_touch(c->e, s_jewels[t - 1].write) ? 4 : 0));
    return c->access[t - 1];
}

static uint8_t s_jewel_access(struct s_jewels_ctx *c, uint32_t node) {
    return s_kind_access(c, c->g->extra[node].jewel);
}

/* Types of crown jewels whose data the edge's actions read or change. */
static bool s_jewel_type(const char *type, void *user_data) {
    return s_kind_access(user_data, s_jewel_index(type)) > 1;
}

/* A crown jewel resource whose data the edge's actions read or change: worth asking whether it is a member. */
static bool s_jewel_candidate(uint32_t node, void *user_data) {
    struct s_jewels_ctx *c = user_data;
    return c->g->nodes[node].kind == TM_GRAPH_NODE_RESOURCE && s_jewel_access(c, node) > 1 &&
           tm_graph_is_crown_jewel(c->g, node);
}

static int s_jewel_member(uint32_t node, void *user_data) {
    struct s_jewels_ctx *c = user_data;
    uint8_t access = s_jewel_access(c, node);
    return c->fn(node, (access & 2) != 0, (access & 4) != 0, c->user_data);
}

int tm_graph_edge_jewels(const struct tm_graph *g, const struct tm_graph_edge *e, tm_graph_jewel_fn fn,
                         void *user_data) {
    if (!g || !e || !fn)
        return TM_ERR_INVALID;
    struct s_jewels_ctx c = {.g = g, .e = e, .fn = fn, .user_data = user_data};
    static const struct s_member_filter filter = {s_jewel_type, s_jewel_candidate};
    return s_members(g, e, &filter, s_jewel_member, &c);
}

/* ---- the policy engine ---- */

int tm_graph_principal_policies(const struct tm_graph *g, uint32_t principal, struct tm_iam_policy_set *out,
                                bool *unknown) {
    memset(out, 0, sizeof(*out));
    if (unknown)
        *unknown = false;
    if (!g || principal >= g->n_nodes || g->extra[principal].principal == TM_GRAPH_NONE)
        return TM_ERR_NOT_FOUND;
    const struct tm__graph_principal *p = &g->principals[g->extra[principal].principal];
    out->identity = (const struct tm_iam_policy *const *)p->identity;
    out->n_identity = p->n_identity;
    out->boundaries = (const struct tm_iam_policy *const *)p->boundary;
    out->n_boundaries = p->n_boundary;
    if (p->account && !p->skip_scps && !p->account->is_management) {
        out->scp_levels = p->account->scps.levels;
        out->n_scp_levels = p->account->scps.n_levels;
    }
    if (unknown)
        *unknown = p->identity_unknown || p->boundary_unknown ||
                   (p->account && !p->skip_scps && !p->account->is_management && p->account->scps.unknown);
    return TM_OK;
}

const struct tm_iam_policy *tm_graph_resource_policy(const struct tm_graph *g, uint32_t node, bool *unknown) {
    if (unknown)
        *unknown = false;
    if (!g || node >= g->n_nodes)
        return NULL;
    if (unknown)
        *unknown = g->extra[node].policy_unknown;
    return g->extra[node].policy;
}

int tm_graph_can(const struct tm_graph *g, const char *principal, const char *action, const char *resource,
                 const struct tm_iam_context *context, struct tm_iam_result *res, bool *unknown) {
    return tm__graph_can(g, principal, TM_GRAPH_NONE, action, resource, TM_GRAPH_NONE, context, res, unknown, true);
}

int tm__graph_can(const struct tm_graph *g, const char *principal, uint32_t p_node, const char *action,
                  const char *resource, uint32_t r_node, const struct tm_iam_context *context,
                  struct tm_iam_result *res, bool *unknown, bool collect) {
    if (!g || !principal || !action || !resource || !res)
        return TM_ERR_INVALID;
    bool unk = false;
    struct tm_iam_policy_set set;
    memset(&set, 0, sizeof(set));
    /* "service:lambda.amazonaws.com" is the service principal; a service acts for a resource of the
     * resource's own account (aws:SourceAccount), the case that matters inside one account. */
    bool service = false;
    if (strncmp(principal, "service:", 8) == 0) {
        principal += 8;
        service = true;
    } else {
        service = strstr(principal, ".amazonaws.com") && !strchr(principal, ':');
    }
    uint32_t p = service ? TM_GRAPH_NONE : p_node != TM_GRAPH_NONE ? p_node : tm_graph_find(g, principal);
    const char *principal_arn = principal;
    if (p != TM_GRAPH_NONE && g->extra[p].principal != TM_GRAPH_NONE) {
        int rc = tm_graph_principal_policies(g, p, &set, &unk);
        if (rc)
            return rc;
        principal_arn = g->nodes[p].id;
    }
    /* The resource side: the node's resource policy and its account's RCPs. A bucket's object ARN
     * ("arn:aws:s3:::b/key") is governed by the bucket's policy. */
    uint32_t r = r_node != TM_GRAPH_NONE ? r_node : tm__graph_lookup(g, resource);
    if (r == TM_GRAPH_NONE && strncmp(resource, "arn:aws:s3:::", 13) == 0) {
        const char *slash = strchr(resource + 13, '/');
        if (slash) {
            char bucket[1024];
            size_t n = (size_t)(slash - resource);
            if (n < sizeof(bucket)) {
                memcpy(bucket, resource, n);
                bucket[n] = '\0';
                r = tm__graph_lookup(g, bucket);
            }
        }
    }
    const char *resource_account = NULL;
    const struct tm_iam_context *region_context = NULL;
    if (r != TM_GRAPH_NONE) {
        const struct tm_graph_node *rn = &g->nodes[r];
        set.resource = g->extra[r].policy;
        unk = unk || g->extra[r].policy_unknown;
        resource_account = rn->account;
        region_context = g->extra[r].context;
        const struct tm__graph_account *a = g->extra[r].account;
        if (a) {
            set.rcp_levels = a->rcps.levels;
            set.n_rcp_levels = a->rcps.n_levels;
            unk = unk || a->rcps.unknown;
        }
    }
    struct tm_iam_context local;
    tm_iam_context_init(&local);
    if (!context && service && resource_account) {
        int rc;
        if ((rc = tm_iam_context_set(&local, "aws:SourceAccount", resource_account)) ||
            (rc = tm_iam_context_set(&local, "aws:SecureTransport", "true"))) {
            tm_iam_context_clean_up(&local);
            return rc;
        }
        context = &local;
    }
    struct tm_iam_request req = {.principal = principal_arn,
                                 .action = action,
                                 .resource = resource,
                                 .resource_account = resource_account,
                                 .context = context          ? context
                                            : region_context ? region_context
                                                             : tm__graph_context(g, NULL)};
    if (unknown)
        *unknown = unk;
    int rc = tm_iam_evaluate(res, &req, &set, collect);
    tm_iam_context_clean_up(&local);
    return rc;
}

/* ---- walks ---- */

int tm_graph_walk_init(struct tm_graph_walk *w, const struct tm_graph *g) {
    memset(w, 0, sizeof(*w));
    if (!g)
        return TM_ERR_INVALID;
    size_t n = g->n_nodes ? g->n_nodes : 1;
    w->g = g;
    w->dist = malloc(n * sizeof(uint32_t));
    w->via_edge = malloc(n * sizeof(uint32_t));
    w->via_node = malloc(n * sizeof(uint32_t));
    w->order = malloc(n * sizeof(uint32_t));
    if (!w->dist || !w->via_edge || !w->via_node || !w->order) {
        tm_graph_walk_clean_up(w);
        return TM_ERR_NOMEM;
    }
    memset(w->dist, 0xff, n * sizeof(uint32_t));
    memset(w->via_edge, 0xff, n * sizeof(uint32_t));
    memset(w->via_node, 0xff, n * sizeof(uint32_t));
    return TM_OK;
}

void tm_graph_walk_clean_up(struct tm_graph_walk *w) {
    if (!w)
        return;
    free(w->dist);
    free(w->via_edge);
    free(w->via_node);
    free(w->order);
    memset(w, 0, sizeof(*w));
}

struct s_walk_ctx {
    struct tm_graph_walk *w;
    uint32_t from, edge, depth;
};

static void s_reach(struct tm_graph_walk *w, uint32_t node, uint32_t from, uint32_t edge, uint32_t depth) {
    if (w->dist[node] != TM_GRAPH_NONE)
        return;
    w->dist[node] = depth;
    w->via_edge[node] = edge;
    w->via_node[node] = from;
    w->order[w->n_reached++] = node;
}

static int s_reach_member(uint32_t node, void *user_data) {
    struct s_walk_ctx *c = user_data;
    s_reach(c->w, node, c->from, c->edge, c->depth);
    return 0;
}

struct s_rev_ctx {
    struct tm_graph_walk *w;
    const struct tm_graph_walk_options *o;
    uint32_t member, depth;
};

static bool s_follow(const struct tm_graph_edge *e, const struct tm_graph_walk_options *o) {
    unsigned mask = o->edge_mask ? o->edge_mask : TM_GRAPH_EDGE_MASK_ALL;
    if (!(mask & TM_GRAPH_EDGE_MASK(e->kind)))
        return false;
    return !(o->skip_unknown && (e->flags & TM_GRAPH_EDGE_UNKNOWN));
}

static int s_rev_set(uint32_t set, void *user_data) {
    struct s_rev_ctx *c = user_data;
    const struct tm_graph *g = c->w->g;
    size_t n = 0;
    const uint32_t *in = tm_graph_in(g, set, &n);
    for (size_t i = 0; i < n; i++) {
        const struct tm_graph_edge *e = &g->edges[in[i]];
        if (!s_follow(e, c->o) || c->w->dist[e->from] != TM_GRAPH_NONE)
            continue;
        if (tm__graph_edge_covers(g, e, c->member))
            s_reach(c->w, e->from, c->member, in[i], c->depth);
    }
    return 0;
}

int tm_graph_walk_run(struct tm_graph_walk *w, const uint32_t *sources, size_t n_sources,
                      const struct tm_graph_walk_options *opts) {
    if (!w || !w->g || (!sources && n_sources))
        return TM_ERR_INVALID;
    const struct tm_graph *g = w->g;
    struct tm_graph_walk_options none = {0};
    const struct tm_graph_walk_options *o = opts ? opts : &none;
    for (size_t i = 0; i < w->n_reached; i++) {
        uint32_t n = w->order[i];
        w->dist[n] = w->via_edge[n] = w->via_node[n] = TM_GRAPH_NONE;
    }
    w->n_reached = 0;
    w->reverse = o->reverse;
    for (size_t i = 0; i < n_sources; i++) {
        if (sources[i] >= g->n_nodes)
            return TM_ERR_INVALID;
        s_reach(w, sources[i], TM_GRAPH_NONE, TM_GRAPH_NONE, 0);
    }
    for (size_t head = 0; head < w->n_reached; head++) {
        uint32_t v = w->order[head];
        uint32_t d = w->dist[v];
        if (o->max_depth && d >= o->max_depth)
            continue;
        if (!o->reverse) {
            uint32_t first = 0;
            size_t n = 0;
            const struct tm_graph_edge *out = tm_graph_out(g, v, &n, &first);
            for (size_t i = 0; i < n; i++) {
                const struct tm_graph_edge *e = &out[i];
                if (!s_follow(e, o))
                    continue;
                if ((e->flags & TM_GRAPH_EDGE_TO_SET) && o->expand_sets) {
                    struct s_walk_ctx c = {w, v, first + (uint32_t)i, d + 1};
                    int rc = tm_graph_edge_members(g, e, s_reach_member, &c);
                    if (rc)
                        return rc;
                } else {
                    s_reach(w, e->to, v, first + (uint32_t)i, d + 1);
                }
            }
        } else {
            size_t n = 0;
            const uint32_t *in = tm_graph_in(g, v, &n);
            for (size_t i = 0; i < n; i++) {
                const struct tm_graph_edge *e = &g->edges[in[i]];
                if (s_follow(e, o))
                    s_reach(w, e->from, v, in[i], d + 1);
            }
            if (o->expand_sets && g->nodes[v].kind != TM_GRAPH_NODE_SET) {
                struct s_rev_ctx c = {w, o, v, d + 1};
                int rc = tm_graph_sets_containing(g, v, s_rev_set, &c);
                if (rc)
                    return rc;
            }
        }
    }
    return TM_OK;
}

uint32_t tm_graph_walk_path(const struct tm_graph_walk *w, uint32_t node, uint32_t *edges, uint32_t *nodes,
                            size_t max) {
    if (!w || !w->g || node >= w->g->n_nodes || w->dist[node] == TM_GRAPH_NONE)
        return TM_GRAPH_NONE;
    uint32_t len = w->dist[node];
    /* Walk back from node to its source. Forward, the steps fill the arrays from the end (source
     * first); reverse, from the start (node first, each step arriving nearer the source). */
    uint32_t v = node;
    for (uint32_t i = len; i > 0; i--) {
        uint32_t at = w->reverse ? len - i : i - 1;
        if (at < max) {
            if (edges)
                edges[at] = w->via_edge[v];
            if (nodes)
                nodes[at] = w->reverse ? w->via_node[v] : v;
        }
        v = w->via_node[v];
    }
    return len;
}

int tm_graph_shortest_path(const struct tm_graph *g, uint32_t from, uint32_t to, unsigned edge_mask, uint32_t **out,
                           size_t *n) {
    *out = NULL;
    *n = 0;
    struct tm_graph_walk w;
    int rc = tm_graph_walk_init(&w, g);
    if (rc)
        return rc;
    struct tm_graph_walk_options o = {.edge_mask = edge_mask, .expand_sets = true};
    if ((rc = tm_graph_walk_run(&w, &from, 1, &o)))
        goto out;
    uint32_t len = tm_graph_walk_path(&w, to, NULL, NULL, 0);
    if (len == TM_GRAPH_NONE) {
        rc = TM_ERR_NOT_FOUND;
        goto out;
    }
    *out = malloc((len ? len : 1) * sizeof(uint32_t));
    if (!*out) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    tm_graph_walk_path(&w, to, *out, NULL, len);
    *n = len;
out:
    tm_graph_walk_clean_up(&w);
    return rc;
}
