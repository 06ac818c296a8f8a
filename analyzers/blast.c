/* Blast radius: the walk (states, sets, hits) and where it starts. The renderings are in blast_write.c. */
#include "analyzers/blast.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/blast_int.h"

#define S_NO_HUB 0xffu

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

/* What following an edge of this kind from a node held with `at` gives; false when the edge is not followed. */
static bool s_next(enum tm_blast_access at, enum tm_graph_edge_kind kind, enum tm_blast_access *next) {
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
                case TM_GRAPH_EDGE_CAN_INVOKE:
                case TM_GRAPH_EDGE_CAN_ASSUME:
                case TM_GRAPH_EDGE_HOLDS_TOKEN_OF:
                case TM_GRAPH_EDGE_TRIGGERS:
                case TM_GRAPH_EDGE_ROUTES_TO:
                case TM_GRAPH_EDGE_CAN_ESCALATE_TO:
                    *next = TM_BLAST_CONTROL;
                    return true;
                default:
                    return false;
            }
        case TM_BLAST_WRITE:
            /* A change fires what listens to it (a message runs the queue's consumer) and flows to what the
             * node serves; it does not hand over the node's own credentials. */
            if (kind == TM_GRAPH_EDGE_TRIGGERS) {
                *next = TM_BLAST_CONTROL;
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

/* The lowest access at which a node has an edge to follow; S_NO_HUB when it has none. */
static uint8_t s_hub_level(const struct tm_graph *g, uint32_t node) {
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, node, &n, NULL);
    uint8_t level = S_NO_HUB;
    for (size_t i = 0; i < n; i++) {
        for (unsigned a = TM_BLAST_READ; a <= TM_BLAST_CONTROL; a++) {
            enum tm_blast_access next;
            if (a < level && s_next((enum tm_blast_access)a, out[i].kind, &next)) {
                level = (uint8_t)a;
                break;
            }
        }
    }
    return level;
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
    b->hub_level = malloc(cap);
    b->hub_nodes = malloc(cap * sizeof(uint32_t));
    b->hubs = calloc(cap, sizeof(*b->hubs));
    b->mask = calloc(cap, 1);
    b->best = malloc(cap * sizeof(uint32_t));
    b->hit_index = malloc(cap * sizeof(uint32_t));
    b->touched = malloc(cap * sizeof(uint32_t));
    b->hits = malloc(cap * sizeof(*b->hits));
    b->hit_rec = malloc(cap * sizeof(uint32_t));
    if (!b->hub_level || !b->hub_nodes || !b->hubs || !b->mask || !b->best || !b->hit_index || !b->touched ||
        !b->hits || !b->hit_rec)
        goto out;
    memset(b->best, 0xff, cap * sizeof(uint32_t));
    memset(b->hit_index, 0xff, cap * sizeof(uint32_t));
    for (uint32_t i = 0; i < n; i++) {
        b->hub_level[i] = s_hub_level(g, i);
        if (b->hub_level[i] != S_NO_HUB)
            b->hub_nodes[b->n_hub_nodes++] = i;
    }
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
    if (b->hubs)
        for (size_t i = 0; i < b->n_nodes; i++)
            if (b->hubs[i]) {
                free(b->hubs[i]->nodes);
                free(b->hubs[i]);
            }
    free(b->hubs);
    free(b->hub_level);
    free(b->hub_nodes);
    free(b->mask);
    free(b->best);
    free(b->hit_index);
    free(b->touched);
    free(b->hits);
    free(b->hit_rec);
    free(b->recs);
    free(b->reaches);
    free(b);
}

/* ---- the walk ---- */

static unsigned s_bit(enum tm_blast_access a, bool certain) {
    return 1u << ((unsigned)a * 2u + (certain ? 1u : 0u));
}

/* Has the node been reached in a state at least as strong (access and certainty)? */
static bool s_dominated(uint8_t mask, enum tm_blast_access a, bool certain) {
    for (unsigned x = a; x <= TM_BLAST_CONTROL; x++) {
        if (mask & s_bit((enum tm_blast_access)x, true))
            return true;
        if (!certain && (mask & s_bit((enum tm_blast_access)x, false)))
            return true;
    }
    return false;
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

/* A step the walk takes: in the walk itself a state no stronger than one already held adds nothing; afterwards
 * (set members that lead nowhere) a member is recorded only when its path is better than the one it has. */
static int s_visit(struct tm_blast *b, const struct tm__blast_rec *r, bool walking) {
    if (walking) {
        if (s_dominated(b->mask[r->node], (enum tm_blast_access)r->access, r->certain))
            return TM_OK;
    } else {
        uint32_t cur = b->best[r->node];
        if (cur != TM_GRAPH_NONE && !s_better(r, (uint32_t)b->n_recs, &b->recs[cur], cur) &&
            s_dominated(b->mask[r->node], (enum tm_blast_access)r->access, r->certain))
            return TM_OK;
    }
    return s_add(b, r);
}

/* The members of a set that have edges to follow, built on first use. */
static const struct tm__blast_hubs *s_hubs(struct tm_blast *b, uint32_t set) {
    if (b->hubs[set])
        return b->hubs[set];
    struct tm__blast_hubs *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < b->n_hub_nodes; i++)
        n += tm_graph_set_contains(b->g, set, b->hub_nodes[i]);
    h->nodes = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!h->nodes) {
        free(h);
        return NULL;
    }
    for (size_t i = 0; i < b->n_hub_nodes; i++)
        if (tm_graph_set_contains(b->g, set, b->hub_nodes[i]))
            h->nodes[h->n++] = b->hub_nodes[i];
    b->hubs[set] = h;
    return h;
}

static int s_reach_add(struct tm_blast *b, const struct tm__blast_reach *r) {
    if (b->n_reaches == b->cap_reaches) {
        size_t cap = b->cap_reaches ? b->cap_reaches * 2 : 64;
        struct tm__blast_reach *n = realloc(b->reaches, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        b->reaches = n;
        b->cap_reaches = cap;
    }
    b->reaches[b->n_reaches++] = *r;
    return TM_OK;
}

static bool s_key_edge(const struct tm_blast *b, const struct tm_graph_edge *e) {
    return e->from == b->internet && e->kind == TM_GRAPH_EDGE_HOLDS_TOKEN_OF && e->evidence.source &&
           strcmp(e->evidence.source, "access-key") == 0;
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
        enum tm_blast_access next;
        if (!s_next((enum tm_blast_access)r.access, e->kind, &next))
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
        int rc;
        if (!(e->flags & TM_GRAPH_EDGE_TO_SET)) {
            if ((rc = s_visit(b, &nr, true)))
                return rc;
            continue;
        }
        /* A set: remember the grant (members that lead nowhere are listed after the walk), and go on now
         * through the members that lead somewhere at this access. */
        struct tm__blast_reach sr = {.edge = nr.edge, .rec = nr};
        if ((rc = s_reach_add(b, &sr)))
            return rc;
        if (next == TM_BLAST_PASS)
            continue;
        const struct tm__blast_hubs *h = s_hubs(b, e->to);
        if (!h)
            return TM_ERR_NOMEM;
        for (size_t k = 0; k < h->n; k++) {
            uint32_t m = h->nodes[k];
            if (b->hub_level[m] > next || s_dominated(b->mask[m], next, nr.certain) || !tm_graph_edge_covers(g, e, m))
                continue;
            nr.node = m;
            if ((rc = s_visit(b, &nr, true)))
                return rc;
        }
    }
    return TM_OK;
}

struct s_leaf_ctx {
    struct tm_blast *b;
    struct tm__blast_rec rec;
    int rc;
};

static int s_leaf(uint32_t node, void *user_data) {
    struct s_leaf_ctx *c = user_data;
    c->rec.node = node;
    c->rc = s_visit(c->b, &c->rec, false);
    return c->rc;
}

static int s_hit_cmp(const void *pa, const void *pb) {
    static const int order[] = {
        [TM_GRAPH_GROUP_ADMIN] = 0,    [TM_GRAPH_GROUP_DATA] = 1,  [TM_GRAPH_GROUP_COMPUTE] = 2,
        [TM_GRAPH_GROUP_IDENTITY] = 3, [TM_GRAPH_GROUP_OTHER] = 4,
    };
    const struct tm_blast_hit *a = pa, *b = pb;
    if (a->group != b->group)
        return order[a->group] < order[b->group] ? -1 : 1;
    if (a->unknown != b->unknown)
        return a->unknown ? 1 : -1;
    if (a->access != b->access)
        return a->access > b->access ? -1 : 1;
    if (a->distance != b->distance)
        return a->distance < b->distance ? -1 : 1;
    return a->node < b->node ? -1 : a->node > b->node;
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
    b->n_reaches = 0;
    b->n_hits = 0;
}

static bool s_is_source(const struct tm_blast_source *src, uint32_t node) {
    for (size_t i = 0; i < src->n_nodes; i++)
        if (src->nodes[i] == node)
            return true;
    return false;
}

static int s_hits(struct tm_blast *b, const struct tm_blast_source *src) {
    const struct tm_graph *g = b->g;
    for (size_t i = 0; i < b->n_touched; i++) {
        uint32_t v = b->touched[i];
        if (s_is_source(src, v))
            continue;
        const struct tm__blast_rec *r = &b->recs[b->best[v]];
        const struct tm_graph_node *node = tm_graph_node(g, v);
        struct tm_blast_hit *h = &b->hits[b->n_hits++];
        memset(h, 0, sizeof(*h));
        h->node = v;
        h->distance = r->depth;
        h->group = node->group;
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
    }
    qsort(b->hits, b->n_hits, sizeof(*b->hits), s_hit_cmp);
    for (size_t i = 0; i < b->n_hits; i++) {
        b->hit_index[b->hits[i].node] = (uint32_t)i;
        b->hit_rec[i] = b->best[b->hits[i].node];
    }
    return TM_OK;
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
        if ((rc = s_visit(b, &r, true)))
            goto out;
    }
    for (size_t i = 0; i < b->n_recs; i++)
        if ((rc = s_expand(b, (uint32_t)i, src, max_depth)))
            goto out;
    /* Members of the sets reached that lead nowhere further: reached, listed, not walked from. */
    for (size_t i = 0; i < b->n_reaches; i++) {
        struct s_leaf_ctx c = {.b = b, .rec = b->reaches[i].rec};
        rc = tm_graph_edge_members(b->g, tm_graph_edge(b->g, b->reaches[i].edge), s_leaf, &c);
        if (c.rc)
            rc = c.rc;
        if (rc)
            goto out;
    }
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
