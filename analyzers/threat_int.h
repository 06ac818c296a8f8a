/* Internals shared by the threat-model analyzers (exposure.c, tokens.c, privesc.c): the severity model,
 * turning graph edges into finding steps, and the search for what a principal's credentials reach.
 * Not for other modules. docs/threat-model.md describes the model. */
#ifndef TM_ANALYZERS_THREAT_INT_H
#define TM_ANALYZERS_THREAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/analyze.h"
#include "analyzers/findings.h"
#include "analyzers/graph.h"

/* Likelihood: who can start the path. */
enum tm__threat_likelihood {
    TM__LIKELY_INSIDE = 1,   /* a principal of the account, or a stolen long-lived key */
    TM__LIKELY_EXTERNAL = 2, /* one named account outside the organization */
    TM__LIKELY_ANY_AWS = 3,  /* anyone with credentials of any AWS account */
    TM__LIKELY_INTERNET = 4, /* anyone, no credentials */
};

/* Impact: what is reached. */
enum tm__threat_impact {
    TM__IMPACT_METADATA = 1, /* names, configuration, listing */
    TM__IMPACT_COMPUTE = 2,  /* running code, sending messages */
    TM__IMPACT_DATA = 3,     /* reading or changing data, network access to a server or database */
    TM__IMPACT_ADMIN = 4,    /* full control of the account, or secrets */
};

/* likelihood + impact: ≥7 critical, 6 high, 5 medium, 3-4 low, ≤2 info; a path resting on an unknown fact
 * is one level lower. */
enum tm_severity tm__threat_severity(int likelihood, int impact, bool unknown);
/* The likelihood of an entry node (internet, any-aws-account, account:X). */
int tm__threat_entry_likelihood(const struct tm_graph_node *entry);

/* Appends an edge as a path step; from/to override its ends (a set member, a key id) when not NULL. */
TM_MUST_CHECK int tm__threat_step(struct tm_finding *f, const struct tm_graph *g, const struct tm_graph_edge *e,
                                  const char *from, const char *to);

/* What a principal's credentials reach. */
struct tm__threat_jewel {
    uint32_t node;    /* the jewel (a data store, or the admin node) */
    uint32_t edge;    /* the last edge (to the jewel, or to a set holding it) */
    uint32_t from;    /* the node that edge leaves */
    bool write, read; /* data access (admin: both) */
    bool unknown;     /* some step rests on an unknown fact */
};

struct tm__threat_search {
    const struct tm_graph *g;
    uint32_t *via_edge; /* per node, TM_GRAPH_NONE when not visited */
    uint32_t *via_node;
    uint8_t *seen;
    uint32_t *queue;
    size_t n_queue;
    uint32_t *jewel_of; /* per node: index into jewels + 1, 0 when not a jewel found by this run */
    struct tm__threat_jewel *jewels;
    size_t n_jewels, cap_jewels;
    struct tm__threat_jewel *jewels_tmp; /* room to sort jewels in */
    size_t cap_jewels_tmp;
    bool admin;     /* the admin node (or an admin principal) was reached */
    bool want_data; /* collect data jewels (false: only whether administrator is reached, much cheaper) */
    /* What a set edge leads to depends on the edge alone, and the searches from every principal meet the same
     * edges again and again: per edge, its members (sets of roles) or the crown jewels among them (data
     * access), worked out once. edge_at 0: not yet. */
    uint32_t *edge_at;    /* per edge: 1 + start of its list in edge_nodes */
    uint32_t *edge_count; /* per edge: length of its list, or UINT32_MAX for "more jewels than are listed" */
    uint32_t *edge_nodes; /* the lists, one after the other */
    uint8_t *edge_access; /* per entry of edge_nodes (jewels): bit 0 read, bit 1 write */
    size_t n_edge_nodes, cap_edge_nodes;
    /* Per set node: its members' list (as edge_at, edge_count), shared by the edges that hold all of them
     * (tm_graph_edge_is_whole_set). */
    uint32_t *set_at;
    uint32_t *set_count;
    /* Per node, for tm__threat_reach_select: the generation of the path identity that already holds the node's
     * chain of steps from the start (allocated on first need). */
    uint32_t *chain_mark;
    uint32_t chain_gen;
    struct tm_path_ident ident; /* tm__threat_reach_select's, reset for each finding */
};

/* want_data false skips data stores: for questions about administrator only. */
TM_MUST_CHECK int tm__threat_search_init(struct tm__threat_search *s, const struct tm_graph *g, bool want_data);
void tm__threat_search_clean_up(struct tm__threat_search *s);
/* Breadth-first from a principal (or compute) node through credentials (holds-token-of), role assumption and
 * escalation, collecting the crown jewels reached and how. Jewels come out in node order. */
TM_MUST_CHECK int tm__threat_search_run(struct tm__threat_search *s, uint32_t start);
/* Appends the steps from the start to a reached node (principal chain), then, for a jewel, the last edge. */
TM_MUST_CHECK int tm__threat_search_path(const struct tm__threat_search *s, struct tm_finding *f, uint32_t node);
TM_MUST_CHECK int tm__threat_search_jewel_path(const struct tm__threat_search *s, struct tm_finding *f,
                                               const struct tm__threat_jewel *j);
/* The jewels a finding's path leads to, given in node order (the order of the whole path), after the steps before
 * them: keeps all of them when they are at most `cap` (0: TM_FINDING_REACH_LISTED_MAX), else reorders the array so
 * that its first *n are the `cap` most sensitive (administrator, then secrets, then the other stores; read and
 * write before read before write; proven before unknown; then node order), most sensitive first, and takes the
 * finding's id from the whole path. Records the counts on the finding (tm_finding_set_reach), with the blast
 * command that lists everything when some are left out. The caller then appends the paths of the first *n. */
TM_MUST_CHECK int tm__threat_reach_select(struct tm__threat_search *s, struct tm_finding *f,
                                          const struct tm__threat_jewel **jewels, size_t *n, size_t cap);
/* Sorts jewels by node (each node at most once), with tmp (room for n) to sort in when n is over 32: a search
 * collects thousands of jewels in breadth-first order, and a radix sort on the node index is linear. */
void tm__threat_sort_jewels(struct tm__threat_jewel *jewels, struct tm__threat_jewel *tmp, size_t n);
/* Was a node visited as a step of the chain (principal, policy, compute)? */
bool tm__threat_search_reached(const struct tm__threat_search *s, uint32_t node);

/* "demo-public-assets" for a bucket, "GET /orders" for a method: the name people use. */
const char *tm__threat_name(const struct tm_graph_node *n);
/* Fills rule metadata, then the computed severity, texts, id. Frees nothing on failure (the list owns f). */
TM_MUST_CHECK int tm__threat_finish(struct tm_analysis *a, struct tm_finding *f, enum tm_severity sev,
                                    const char *title, const char *explanation, const char *fix);

#endif
