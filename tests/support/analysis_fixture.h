/* Test helper: loads a hand-made snapshot (tests/data/snapshots/) with the policy data of policies/ and
 * builds its graph, as `tmscan report` does. Paths are relative to the repository root (TM_ROOT
 * overrides the working directory). */
#ifndef TM_TESTS_SUPPORT_ANALYSIS_FIXTURE_H
#define TM_TESTS_SUPPORT_ANALYSIS_FIXTURE_H

#include "analyzers/analyze.h"
#include "analyzers/findings.h"
#include "analyzers/graph.h"
#include "analyzers/iam/catalog.h"
#include "analyzers/privesc_catalog.h"
#include "analyzers/rules.h"
#include "core/snapshot.h"

struct tm_test_analysis {
    struct tm_snapshot *snap;
    struct tm_iam_catalog *actions;
    struct tm_privesc_catalog *privesc;
    struct tm_rules *rules;
    struct tm_graph *graph;
    struct tm_analysis analysis; /* snap, rules, actions, privesc, graph, today 2026-11-22 */
};

/* Fails the test (cmocka) on any error. snapshot names a file under tests/data/snapshots/. */
void tm_test_analysis_load(struct tm_test_analysis *t, const char *snapshot);
/* The same from JSON text (for snapshots built in the test). */
void tm_test_analysis_parse(struct tm_test_analysis *t, const char *json);
/* A snapshot of one account and region (services iam, kms, s3) holding these resources (NULL-terminated, in any
 * order: the loader sorts them), each a JSON object written with single quotes for double ones. */
void tm_test_analysis_parse_resources(struct tm_test_analysis *t, const char *account, const char *region,
                                      const char *const *resources);
void tm_test_analysis_clean_up(struct tm_test_analysis *t);

/* A path under the repository root. */
const char *tm_test_path(char *buf, size_t len, const char *rel);

/* Runs one analyzer into a fresh list (caller cleans it up). */
void tm_test_run(struct tm_test_analysis *t, tm_analyzer_fn fn, struct tm_findings *out);
/* The first finding with this rule and resource (and entry, when not NULL), or NULL. */
const struct tm_finding *tm_test_find(const struct tm_findings *l, const char *rule, const char *resource,
                                      const char *entry);
/* Number of findings with this rule (NULL: any) on this resource (NULL: any). */
size_t tm_test_count(const struct tm_findings *l, const char *rule, const char *resource);

/* The edge of a kind from one node id to another, or NULL. */
const struct tm_graph_edge *tm_test_edge(const struct tm_graph *g, const char *from, const char *to,
                                         enum tm_graph_edge_kind kind);

/* Checks findings against fixtures/aws/demo/expected-findings.json, for the categories listed (NULL-terminated):
 * every expected finding of those categories present once (rule, category, resource, entry) with exactly the
 * expected path nodes; no other finding of those categories; none naming a safe look-alike. */
void tm_test_check_expected(const struct tm_findings *l, const char *const *categories);

/* The path's nodes: every step's from and to, each once, in order of first appearance, joined by " > ". */
void tm_test_path_nodes(const struct tm_finding *f, char *buf, size_t len);

/* A snapshot (JSON text, caller frees) of account 111122223333 in eu-west-1: role "wide" open to any AWS account
 * and user "wide" with an active access key, both reading 40 buckets (writing ten of them) and two secrets, each
 * named by its ARN: more crown jewels than a finding's path lists. */
char *tm_test_fanout_snapshot(void);

#endif
