/* Internals of the query module shared by query.c (the answers) and query_write.c (their renderings). Not for
 * other modules: they use query.h. */
#ifndef TM_ANALYZERS_QUERY_INT_H
#define TM_ANALYZERS_QUERY_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/query.h"

/* A snapshot document's text, printed once. */
struct tm__query_text {
    const cJSON *doc;
    char *text;
};

/* Where a principal's identity policy sits in its snapshot resource (policies.identity[i]), found once. */
struct tm__query_entry {
    uint32_t node; /* TM_GRAPH_NONE: empty slot */
    const void *policy;
    const cJSON *entry; /* NULL: none matches */
};

/* The permission edges into a set node that can grant one action, in in-edge order, found once per engine: a set
 * of every resource ("*") has an edge from every principal with a wildcard grant, and a question about any resource
 * goes through it. */
struct tm__query_set_edges {
    uint32_t set; /* TM_GRAPH_NONE: empty slot */
    char *action;
    uint32_t *edges;
    size_t n;
};

/* Whether a policy looks at who the principal is (query_memo.c), per policy. */
struct tm__query_policy_flag {
    const void *policy; /* NULL: empty slot */
    bool specific;
};

/* One evaluation of the current who-can question, shared by the principals with its fingerprint. */
struct tm__query_eval {
    uint64_t fp; /* 0: empty slot */
    size_t action;
    struct tm_iam_result res;
    bool unknown;
};

struct tm_query {
    const struct tm_graph *g;
    const struct tm_iam_catalog *actions;
    /* Answers are worked out from scratch each time: no remembered entries, set edges or evaluations. Slow; tests
     * hold the engine's shortcuts against it. */
    bool plain;
    struct tm__query_entry *entries;
    size_t entries_cap, entries_used;
    struct tm__query_set_edges *set_edges;
    size_t set_edges_cap, set_edges_used;
    struct tm__query_policy_flag *flags;
    size_t flags_cap, flags_used;
    struct tm__query_eval *evals; /* of the current question */
    size_t evals_cap, evals_used;
    uint64_t *node_fp; /* per node: 0 not worked out, 1 none (evaluated for itself), else tm__query_eval_fp's */
    uint32_t *slot;    /* per node: candidate index during a who-can, TM_GRAPH_NONE otherwise */
    uint32_t *touched; /* nodes whose slot is set */
    size_t n_touched;
    struct tm__query_text *texts; /* by document pointer */
    size_t texts_cap, texts_used;
};

/* A growing list of statements, each once. */
struct tm__query_statements {
    struct tm_query_statement *items;
    size_t n, cap;
};

/* Names the matched statements of an evaluation made by tm_graph_can with principal node p (TM_GRAPH_NONE when
 * it is not a user or role of the snapshot) and resource node r (TM_GRAPH_NONE: none), those of the sets in the
 * mask (bits 1 << enum tm_iam_set_kind) only. */
#define TM__QUERY_ALL_SETS 0xffffu
TM_MUST_CHECK int tm__query_name_matches(struct tm_query *q, struct tm__query_statements *out,
                                         const struct tm_iam_result *res, uint32_t p, uint32_t r, unsigned sets);
/* Turns the engine's shortcuts off (plain) or on (the default). */
void tm__query_set_plain(struct tm_query *q, bool plain);

/* query_memo.c. Whether the resource's own policy answers every principal of an account alike (it names no user
 * or role and does not look at who asks); false on a plain engine. */
bool tm__query_resource_alike(struct tm_query *q, uint32_t r);
/* The fingerprint of what decides a principal's requests besides the request (0: it must be evaluated for
 * itself). Meaningful only for a resource that answers principals alike. */
uint64_t tm__query_eval_fp(struct tm_query *q, uint32_t p);
const struct tm__query_eval *tm__query_eval_find(const struct tm_query *q, uint64_t fp, size_t action);
/* Keeps res (which is left empty) under (fp, action); NULL when fp is 0 or there is no room (res stays the
 * caller's). */
const struct tm__query_eval *tm__query_eval_add(struct tm_query *q, uint64_t fp, size_t action,
                                                struct tm_iam_result *res, bool unknown);
void tm__query_evals_clear(struct tm_query *q);

#endif
