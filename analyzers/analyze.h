/* The analysis pipeline: a table of analyzers, each a pure function of the snapshot and the policy data,
 * run in order into one findings list. Adding an analyzer is adding one file and one row. */
#ifndef TM_ANALYZERS_ANALYZE_H
#define TM_ANALYZERS_ANALYZE_H

#include <stddef.h>

#include "analyzers/findings.h"
#include "analyzers/rules.h"
#include "core/error.h"
#include "core/snapshot.h"

struct tm_iam_catalog;
struct tm_privesc_catalog;
struct tm_graph;

/* What every analyzer reads. Nothing here does I/O; the CLI loads it all first. */
struct tm_analysis {
    struct tm_snapshot *snap;
    const struct tm_rules *rules;
    const struct tm_iam_catalog *actions;     /* policies/iam-actions.json; may be NULL (then no graph) */
    const struct tm_privesc_catalog *privesc; /* policies/privesc.json; may be NULL (no escalation edges) */
    /* The entry-point and trust graph (analyzers/graph.h). tm_analyze builds it when NULL and actions is
     * set, and destroys what it built before returning; a caller that already has one passes it in. */
    struct tm_graph *graph;
    const char *today; /* YYYY-MM-DD, for expiries; an input so analysis needs no clock */
    /* How many crown jewels a path fanning out to them lists (0: TM_FINDING_REACH_LISTED_MAX; SIZE_MAX: all). */
    size_t reach_listed_max;
    char errmsg[512]; /* an analyzer that fails says why here */
};

typedef int (*tm_analyzer_fn)(struct tm_analysis *analysis, struct tm_findings *out);

struct tm_analyzer {
    const char *name;
    tm_analyzer_fn run;
};

/* The analyzers, in order, NULL-terminated. */
extern const struct tm_analyzer *const tm_analyzers[];

/* Runs every analyzer, then sorts the findings (statuses are applied afterwards by the caller with
 * tm_recognised_apply, then sorted again). */
TM_MUST_CHECK int tm_analyze(struct tm_analysis *analysis, struct tm_findings *out);

/* Coverage gaps: one finding per failed call recorded in the snapshot. */
TM_MUST_CHECK int tm_analyze_coverage(struct tm_analysis *analysis, struct tm_findings *out);
/* Entry points: everything reachable from the internet, any AWS account or an external account
 * (analyzers/exposure.c, rules aws-*-public / -cross-account, docs/threat-model.md). */
TM_MUST_CHECK int tm_analyze_exposure(struct tm_analysis *analysis, struct tm_findings *out);
/* Token abuse: entry point → compute → its credentials → what they reach (analyzers/tokens.c). */
TM_MUST_CHECK int tm_analyze_tokens(struct tm_analysis *analysis, struct tm_findings *out);
/* Privilege escalation: can-escalate-to edges and paths to admin (analyzers/privesc.c). */
TM_MUST_CHECK int tm_analyze_privesc(struct tm_analysis *analysis, struct tm_findings *out);

#endif
