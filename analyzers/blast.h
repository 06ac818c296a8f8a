/* Blast radius: everything a principal, a resource, an access key or an entry point reaches in the trust
 * graph (analyzers/graph.h), with the shortest path to each node and the actions at each step, grouped by
 * what is reached (admin, data, compute, identity). docs/blast-and-queries.md says how to read it.
 *
 * What a step lets the walk do next depends on how the node was reached, because reading a queue does not
 * run its consumer and handing a role to a service does not make you that role:
 *
 *   control  acting as it or running it (the source; can-assume, holds-token-of, can-escalate-to; can-invoke,
 *            routes-to or triggers into compute): every edge out of it is followed; a compute resource reached
 *            this way exposes the credentials it runs with (the token-abuse model of DESIGN.md);
 *   write    it can be changed (can-write; can-invoke, routes-to or triggers into anything but compute and
 *            principals, which they mean nothing for): what it triggers runs (triggers) and what it routes to is
 *            changed too (routes-to), nothing else;
 *   read     its data or configuration can be read (can-read): only routes-to (an access point serves its
 *            bucket) is followed, still as a read;
 *   pass     it can be handed to a service (can-pass): reached, nothing more. Combining a pass with a way to
 *            run the service is a privilege-escalation technique: the graph has a can-escalate-to edge then.
 * Reads and writes are held apart (a grant to write is not one to read); control of a node covers both.
 *
 * Unknown edges (a fact that could not be read) are followed, never dropped: a node reached only through one is
 * reported as unknown, and a node reachable both ways is reported with its shortest proven path. Grants on
 * wildcards reach resource sets; the walk expands a set into the members the grant really covers (the policy
 * engine re-evaluates each member when a Deny, a boundary or an SCP could exclude it).
 *
 * Cost: an engine is built once per graph (tm_blast_new) and answers any number of walks. A walk costs what it
 * reaches, not the size of the graph: per-node state is reset only where the last walk wrote; each set is scanned
 * in full at most once per walk and state (later grants on it only retry the members earlier ones did not cover);
 * set member lists are kept across walks, and member tests that ask the policy engine are remembered by the
 * policies that decide them, so principals that share their policies share the answers. Not thread-safe: one
 * engine per thread; the graph itself may be shared.
 *
 * Output (tm_blast_write) is deterministic: hits are ordered by group (admin, data, compute, identity, other),
 * proven before unknown, crown jewels first, strongest access first, distance, then node id; paths break ties by
 * edge order. Every format lists at most `limit` nodes per group (from `offset` on) and counts the rest; a walk
 * that holds an account's administrator node says so once ("everything in account X") with what it does not
 * reach, instead of leaving a reader to infer it from a hundred thousand paths. A
 * principal with full control lands under admin only when the walk controls it (reading its configuration puts
 * it under identity). */
#ifndef TM_ANALYZERS_BLAST_H
#define TM_ANALYZERS_BLAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/graph.h"
#include "core/buf.h"
#include "core/error.h"

/* How a node is held (see above); ordered by how far the walk goes on from it. */
enum tm_blast_access {
    TM_BLAST_PASS = 0,
    TM_BLAST_READ,
    TM_BLAST_WRITE,
    TM_BLAST_CONTROL,
};

/* "pass", "read", "write", "control". */
const char *tm_blast_access_name(enum tm_blast_access a);

#define TM_BLAST_MAX_SOURCES 4

/* Where a walk starts: the node asked about and the ones it implies. An external account ("account:X") is
 * also any AWS account and anyone on the internet, so their grants count for it (but not the access keys the
 * internet node stands for: those are the account's own users' credentials, not account X's). */
struct tm_blast_source {
    const char *asked; /* what the caller passed (not copied) */
    uint32_t nodes[TM_BLAST_MAX_SOURCES];
    size_t n_nodes;
    /* true: the first node is the one asked about; false: it is not in the graph (an account that no policy
     * names), only the implied ones are. */
    bool asked_found;
    bool skip_key_edges; /* do not follow internet -> user edges of access keys */
};

/* Finds where a walk starts: an ARN (a role session ARN gives its role), an access key id (its user), a
 * pseudo-principal ("internet", "any-aws-account", "account:999999999999", "org:o-…", "service:…", "admin:…") or
 * a 12-digit account id. On failure err holds one line naming what was not found, with a near match when the
 * graph has one ("did you mean …?"). Returns TM_ERR_NOT_FOUND or TM_ERR_INVALID (empty or malformed). */
TM_MUST_CHECK int tm_blast_resolve(struct tm_blast_source *out, const struct tm_graph *g, const char *id, char *err,
                                   size_t errlen);

struct tm_blast_options {
    uint32_t max_depth; /* at most this many steps; 0: no limit */
};

/* One node reached. */
struct tm_blast_hit {
    uint32_t node;
    uint32_t distance; /* steps on the path shown */
    enum tm_graph_group group;
    enum tm_blast_access access; /* what the last step of that path gives */
    bool unknown;                /* reached only through an edge marked unknown: could be, not proven */
    bool conditional;            /* a step of the path holds only under its conditions */
    bool crown_jewel;            /* tm_graph_is_crown_jewel: listed first within its group */
};

struct tm_blast_summary {
    size_t total;
    size_t by_group[TM_GRAPH_GROUP_ADMIN + 1]; /* indexed by enum tm_graph_group */
    size_t unknown;
    size_t conditional;
    size_t crown_jewels;
};

/* One step of a path: the edge, and the nodes it goes between (for a set edge, `to` is the member). */
struct tm_blast_step {
    uint32_t edge;
    uint32_t from, to;
};

struct tm_blast;

TM_MUST_CHECK int tm_blast_new(struct tm_blast **out, const struct tm_graph *g);
void tm_blast_destroy(struct tm_blast *b);

/* Walks from the source. The previous walk's results are discarded. Returns TM_ERR_INVALID (no source node,
 * a node out of range) or TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_blast_run(struct tm_blast *b, const struct tm_blast_source *src,
                               const struct tm_blast_options *opts);

/* The nodes the last walk reached (sources excluded), in output order. Valid until the next walk. */
const struct tm_blast_hit *tm_blast_hits(const struct tm_blast *b, size_t *n);
void tm_blast_summarize(const struct tm_blast *b, struct tm_blast_summary *out);
/* The hit for a node, or NULL when the last walk did not reach it. */
const struct tm_blast_hit *tm_blast_find(const struct tm_blast *b, uint32_t node);
/* The path to a hit, source first: fills up to max steps and returns the path's length. */
size_t tm_blast_path(const struct tm_blast *b, const struct tm_blast_hit *hit, struct tm_blast_step *steps, size_t max);

enum tm_blast_format {
    TM_BLAST_TEXT = 0, /* for people: a summary sentence, then each group with each node's path and evidence */
    TM_BLAST_JSON,     /* schema "tmscan.blast/1", documented in docs/blast-and-queries.md */
    TM_BLAST_DOT,      /* Graphviz: the sources, the nodes reached and the steps of their paths */
};

/* "text", "json", "dot" and back (TM_ERR_INVALID for another name). */
const char *tm_blast_format_name(enum tm_blast_format f);
TM_MUST_CHECK int tm_blast_format_parse(const char *name, enum tm_blast_format *out);

/* Nodes listed per group unless asked otherwise (`tmscan blast --limit`). */
#define TM_BLAST_DEFAULT_LIMIT 50

struct tm_blast_write_options {
    enum tm_blast_format format;
    size_t limit;       /* nodes listed per group (every format), the rest counted; 0: all */
    size_t offset;      /* per group, the first this many are skipped (paging with limit) */
    uint32_t max_depth; /* the walk's depth limit, to say so in the output; 0: none */
};

/* A node in a few words for people ("role orders-role", "bucket logs", "the internet", "administrator of account
 * 111122223333"); returns out. */
const char *tm_blast_label(char *out, size_t len, const struct tm_graph *g, uint32_t node);
/* One step as JSON: {from, to, kind, actions, unknown, conditional, conditions, via_set, evidence {source,
 * holder, policy, statement, sid, text}} (the shape of a finding's path step, plus what the graph knows). NULL
 * when out of memory. */
cJSON *tm_blast_edge_json(const struct tm_graph *g, uint32_t edge, uint32_t from, uint32_t to);

/* The node whose id or short name is nearest to something a person typed (a typo, a role name without its ARN),
 * for "did you mean" hints; TM_GRAPH_NONE when nothing is near enough. */
uint32_t tm_blast_suggest(const struct tm_graph *g, const char *asked);

/* Writes the last walk. Returns TM_ERR_NOMEM or TM_ERR_TOO_BIG (the buffer's cap). */
TM_MUST_CHECK int tm_blast_write(struct tm_buf *out, const struct tm_blast *b, const struct tm_blast_source *src,
                                 const struct tm_blast_write_options *opts);

#endif
