/* Internals of the query module shared by query.c (the answers) and query_write.c (their renderings). Not for
 * other modules: they use query.h. */
#ifndef TM_ANALYZERS_QUERY_INT_H
#define TM_ANALYZERS_QUERY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/query.h"

struct tm_query {
    const struct tm_graph *g;
    const struct tm_iam_catalog *actions;
    uint32_t *slot;    /* per node: candidate index during a who-can, TM_GRAPH_NONE otherwise */
    uint32_t *touched; /* nodes whose slot is set */
    size_t n_touched;
    char root_buf[64]; /* "arn:aws:iam::ACCOUNT:root" for an account asked about */
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
TM_MUST_CHECK int tm__query_name_matches(const struct tm_query *q, struct tm__query_statements *out,
                                         const struct tm_iam_result *res, uint32_t p, uint32_t r, unsigned sets);
/* IAM's wildcard match, case-insensitive, for action patterns. */
bool tm__query_glob(const char *pattern, const char *s);

#endif
