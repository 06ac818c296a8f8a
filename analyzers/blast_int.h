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

/* Residual keys of a set: the grant's kind (TM_GRAPH_EDGE_KIND_COUNT) times the access held at its holder (4)
 * times certainty (2). */
#define TM__BLAST_KEYS ((size_t)TM_GRAPH_EDGE_KIND_COUNT * 4u * 2u)

/* The verdicts of one grant fingerprint on a set's members, by position in the member list: 0 not asked yet, 1 not
 * covered, 2 covered. Only for members whose answer does not depend on who holds the grant (their policy names
 * nobody that the fingerprint leaves out): read in member order, it keeps a walk through an administrator's grant
 * on every resource of the account to a sequential pass instead of a hash probe per member. */
struct tm__blast_row {
    uint64_t fp;
    uint8_t *verdict;
};

struct tm__blast_applied {
    uint64_t fp;
    size_t key;
};

/* What the engine keeps of a set node: its members (listed on first use, kept across walks while the budget
 * lasts; NULL: the graph's index is asked each time), per grant fingerprint the verdicts on them, and per residual
 * key the members the walk's first full scan did not cover (valid for the walk whose number is in stamp; positions
 * in the member list when there is one, else nodes). */
struct tm__blast_set {
    uint32_t *members;
    size_t n_members;
    bool members_tried;
    struct tm__blast_row *rows;
    size_t n_rows, cap_rows;
    /* Positions of the members whose policy may tell principals apart (their verdicts are not in rows). */
    uint32_t *apart;
    size_t n_apart;
    /* The grants (residual key, fingerprint) applied to the set in the walk numbered applied_walk. */
    struct tm__blast_applied *applied;
    size_t n_applied, cap_applied;
    uint64_t applied_walk;
    uint32_t *residual[TM__BLAST_KEYS];
    size_t n_residual[TM__BLAST_KEYS], cap_residual[TM__BLAST_KEYS];
    uint64_t stamp[TM__BLAST_KEYS];
};

/* A remembered member test: does a grant with this fingerprint cover this member? */
struct tm__blast_memo {
    uint64_t fp; /* 0: empty slot */
    uint32_t member;
    uint8_t covered;
};

/* Remembered member tests, at most (16 bytes each). */
#define TM__BLAST_MEMO_SLOTS ((size_t)1 << 22)

/* Set members the engine keeps across walks, at most (4 bytes each). */
#define TM__BLAST_MEMBER_BUDGET ((size_t)32 * 1024 * 1024)

/* Verdict bytes the engine keeps across walks, at most (one per member and fingerprint). */
#define TM__BLAST_ROW_BUDGET ((size_t)64 * 1024 * 1024)

/* The users and roles a resource policy names by ARN. */
struct tm__blast_named {
    const char **arns; /* owned by the policy (the graph's) */
    size_t n, cap;
};

struct tm_blast {
    const struct tm_graph *g;
    size_t n_nodes;
    uint32_t internet;

    /* Kept across walks. */
    struct tm__blast_set **sets; /* per set node, on first use */
    size_t members_kept;         /* set members kept, against TM__BLAST_MEMBER_BUDGET */
    size_t row_bytes;            /* verdict bytes kept, against TM__BLAST_ROW_BUDGET */
    /* Member tests that ask the policy engine are remembered by what decides them: the grant's fingerprint (the
     * principal's policies, its account, the edge's kind, actions and pattern) and the member, for members whose
     * own policy cannot tell principals apart. Many principals share their policies (every administrator role
     * with AdministratorAccess), so one answer serves them all, in this walk and the next ones. */
    uint64_t *edge_fp; /* per edge: 0 not computed, 1 not to be remembered, else the fingerprint */
    uint8_t *neutral;  /* per node: how its policy tells principals apart (blast.c S_ALIKE, ...); 0 not computed */
    uint8_t *jewel;    /* per node: 0 not computed, 1 not a crown jewel, 2 one */
    struct tm__blast_named **named; /* per node whose policy names users or roles: them; on first use */
    struct tm__blast_memo *memo;
    size_t memo_cap, memo_used;

    /* Per walk; per-node arrays are reset only where the walk wrote (touched). */
    uint8_t *mask;  /* states held: bit (access * 2 + certain) */
    uint32_t *best; /* record shown for the node */
    uint32_t *hit_index;
    uint32_t *touched;
    size_t n_touched;
    struct tm__blast_rec *recs;
    size_t n_recs, cap_recs;
    struct tm_blast_hit *hits;
    uint32_t *hit_rec; /* per hit: its record */
    size_t n_hits;
    uint64_t walk; /* walks so far: stamps the set residuals of the current one */
    /* Every member test asks the graph and every grant on a set scans it in full: no remembered answers, no
     * residuals. Slow; tests hold the engine's shortcuts against it. */
    bool plain;
};

/* Turns the engine's shortcuts off (plain) or on (the default). */
void tm__blast_set_plain(struct tm_blast *b, bool plain);

/* The record behind a hit. */
uint32_t tm__blast_hit_record(const struct tm_blast *b, const struct tm_blast_hit *hit);

struct tm__blast_type_count {
    const char *type;
    size_t n;
};

/* Of the account whose administrator node a walk holds (blast_everything.c): its principals and resources in the
 * snapshot, how many the walk reached (or started from), and, when the walk went through an administrator's own
 * grants, the others, in node order and counted by type. */
struct tm__blast_everything {
    const struct tm_blast_hit *hit; /* the administrator node's */
    const char *account;
    bool walked; /* the walk holds a principal of the account with full control, and so walked its grants */
    size_t resources, reached;
    uint32_t *missed;
    size_t n_missed;
    struct tm__blast_type_count *by_type; /* in type order */
    size_t n_types;
};

/* One per administrator node the last walk holds, in output order; *n is 0 when none. */
TM_MUST_CHECK int tm__blast_everything(const struct tm_blast *b, const struct tm_blast_source *src,
                                       struct tm__blast_everything **out, size_t *n);
void tm__blast_everything_free(struct tm__blast_everything *e, size_t n);

#endif
