/* "Everything in account X": what a walk that holds an account's administrator node reaches of that account, and
 * what it does not. A walk from an administrator reaches nearly every resource of the account; said once, with the
 * few it does not reach (keys whose policy does not let IAM grant them, buckets whose policy denies even an
 * administrator), the answer reads in a line instead of a hundred thousand paths. */
#include <stdlib.h>
#include <string.h>

#include "analyzers/blast.h"
#include "analyzers/blast_int.h"

static int s_type_cmp(const void *pa, const void *pb) {
    const struct tm__blast_type_count *a = pa, *b = pb;
    return strcmp(a->type ? a->type : "", b->type ? b->type : "");
}

static bool s_is_source(const struct tm_blast_source *src, uint32_t node) {
    for (size_t i = 0; i < src->n_nodes; i++)
        if (src->nodes[i] == node)
            return true;
    return false;
}

static int s_one(const struct tm_blast *b, const struct tm_blast_source *src, const struct tm_blast_hit *h,
                 struct tm__blast_everything *e) {
    const struct tm_graph *g = b->g;
    const char *account = tm_graph_node(g, h->node)->account;
    memset(e, 0, sizeof(*e));
    e->hit = h;
    e->account = account;
    if (!account)
        return TM_OK;
    /* The administrator node has no edges of its own: the account's resources are walked only through the grants
     * of an administrator the walk holds (a role with AdministratorAccess). Reached by a technique alone, what the
     * walk lists is what it reaches on the way, and "not reached" would mean nothing. */
    for (size_t i = 0; i < b->n_hits && b->hits[i].group == TM_GRAPH_GROUP_ADMIN && !e->walked; i++) {
        const struct tm_graph_node *n = tm_graph_node(g, b->hits[i].node);
        e->walked = n->kind == TM_GRAPH_NODE_PRINCIPAL && (n->flags & TM_GRAPH_NODE_IS_ADMIN) && n->account &&
                    strcmp(n->account, account) == 0;
    }
    for (size_t i = 0; i < src->n_nodes && !e->walked; i++) {
        const struct tm_graph_node *n = tm_graph_node(g, src->nodes[i]);
        e->walked = (n->flags & TM_GRAPH_NODE_IS_ADMIN) && n->account && strcmp(n->account, account) == 0;
    }
    size_t cap = 0, cap_types = 0;
    for (uint32_t v = 0; v < b->n_nodes; v++) {
        const struct tm_graph_node *n = tm_graph_node(g, v);
        if (!(n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) ||
            (n->kind != TM_GRAPH_NODE_PRINCIPAL && n->kind != TM_GRAPH_NODE_RESOURCE) || !n->account ||
            strcmp(n->account, account) != 0)
            continue;
        e->resources++;
        if (b->hit_index[v] != TM_GRAPH_NONE || s_is_source(src, v)) {
            e->reached++;
            continue;
        }
        if (!e->walked)
            continue;
        if (e->n_missed == cap) {
            cap = cap ? cap * 2 : 64;
            uint32_t *m = realloc(e->missed, cap * sizeof(*m));
            if (!m)
                return TM_ERR_NOMEM;
            e->missed = m;
        }
        e->missed[e->n_missed++] = v;
        size_t t = 0;
        while (t < e->n_types && strcmp(e->by_type[t].type, n->type ? n->type : "") != 0)
            t++;
        if (t == e->n_types) {
            if (e->n_types == cap_types) {
                cap_types = cap_types ? cap_types * 2 : 8;
                struct tm__blast_type_count *m = realloc(e->by_type, cap_types * sizeof(*m));
                if (!m)
                    return TM_ERR_NOMEM;
                e->by_type = m;
            }
            e->by_type[e->n_types++] = (struct tm__blast_type_count){n->type ? n->type : "", 0};
        }
        e->by_type[t].n++;
    }
    if (e->n_types)
        qsort(e->by_type, e->n_types, sizeof(*e->by_type), s_type_cmp);
    return TM_OK;
}

int tm__blast_everything(const struct tm_blast *b, const struct tm_blast_source *src, struct tm__blast_everything **out,
                         size_t *n) {
    *out = NULL;
    *n = 0;
    size_t count = 0;
    /* Administrator nodes lead the output: group admin, then the others. */
    for (size_t i = 0; i < b->n_hits && b->hits[i].group == TM_GRAPH_GROUP_ADMIN; i++)
        count += tm_graph_node(b->g, b->hits[i].node)->kind == TM_GRAPH_NODE_ADMIN;
    if (!count)
        return TM_OK;
    struct tm__blast_everything *all = calloc(count, sizeof(*all));
    if (!all)
        return TM_ERR_NOMEM;
    size_t k = 0;
    int rc = TM_OK;
    for (size_t i = 0; i < b->n_hits && b->hits[i].group == TM_GRAPH_GROUP_ADMIN && !rc; i++)
        if (tm_graph_node(b->g, b->hits[i].node)->kind == TM_GRAPH_NODE_ADMIN)
            rc = s_one(b, src, &b->hits[i], &all[k++]);
    if (rc) {
        tm__blast_everything_free(all, k);
        return rc;
    }
    *out = all;
    *n = count;
    return TM_OK;
}

void tm__blast_everything_free(struct tm__blast_everything *e, size_t n) {
    for (size_t i = 0; e && i < n; i++) {
        free(e[i].missed);
        free(e[i].by_type);
    }
    free(e);
}
