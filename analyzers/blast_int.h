/* Internals of the blast-radius module shared by blast.c (the walk) and blast_write.c (its renderings). Not for
 * other modules: they use blast.h. */
#ifndef TM_ANALYZERS_BLAST_INT_H
#define TM_ANALYZERS_BLAST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/blast.h"

/* One state the walk reached: a node held with some access, proven or not, and how it got there. */
struct tm__blast_rec {
    uint32_t node;
    uint32_t parent; /* record it was reached from; TM_GRAPH_NONE for a source */
    uint32_t edge;   /* the edge taken; TM_GRAPH_NONE for a source */
    uint32_t depth;
    uint8_t access;      /* enum tm_blast_access */
    uint8_t certain;     /* no unknown edge on the way */
    uint8_t conditional; /* a conditional edge on the way */
};

/* A grant on a set the walk took: its members that lead nowhere are recorded after the walk. */
struct tm__blast_reach {
    uint32_t edge;
    struct tm__blast_rec rec; /* the record each member gets (node filled in per member) */
};

/* The members of a set node that have edges out, in node order. */
struct tm__blast_hubs {
    uint32_t *nodes;
    size_t n;
};

struct tm_blast {
    const struct tm_graph *g;
    size_t n_nodes;
    uint32_t internet;

    /* Built once. */
    uint8_t *hub_level;  /* per node: lowest access at which it has an edge to follow; 0xff: none */
    uint32_t *hub_nodes; /* nodes with a hub level, in node order */
    size_t n_hub_nodes;
    struct tm__blast_hubs **hubs; /* per set node, on first use */

    /* Per walk; per-node arrays are reset only where the walk wrote (touched). */
    uint8_t *mask;  /* states held: bit (access * 2 + certain) */
    uint32_t *best; /* record shown for the node */
    uint32_t *hit_index;
    uint32_t *touched;
    size_t n_touched;
    struct tm__blast_rec *recs;
    size_t n_recs, cap_recs;
    struct tm__blast_reach *reaches;
    size_t n_reaches, cap_reaches;
    struct tm_blast_hit *hits;
    uint32_t *hit_rec; /* per hit: its record */
    size_t n_hits;
};

/* The record behind a hit. */
uint32_t tm__blast_hit_record(const struct tm_blast *b, const struct tm_blast_hit *hit);

#endif
