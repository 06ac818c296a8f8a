#include "tests/support/analysis_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tm_test_path(char *buf, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(buf, len, "%s%s%s", root ? root : "", root ? "/" : "", rel);
    return buf;
}

static void s_catalogues(struct tm_test_analysis *t) {
    char path[4096], err[1024] = "";
    if (tm_iam_catalog_load(&t->actions, tm_test_path(path, sizeof(path), "policies/iam-actions.json"), err,
                            sizeof(err)))
        fail_msg("%s", err);
    if (tm_privesc_catalog_load(&t->privesc, tm_test_path(path, sizeof(path), "policies/privesc.json"), t->actions, err,
                                sizeof(err)))
        fail_msg("%s", err);
    if (tm_rules_load(&t->rules, tm_test_path(path, sizeof(path), "policies/rules.json"), err, sizeof(err)))
        fail_msg("%s", err);
}

static void s_build(struct tm_test_analysis *t) {
    char err[1024] = "";
    struct tm_graph_options o = {.actions = t->actions, .privesc = t->privesc};
    if (tm_graph_build(&t->graph, t->snap, &o, err, sizeof(err)))
        fail_msg("graph: %s", err);
    t->analysis = (struct tm_analysis){.snap = t->snap,
                                       .rules = t->rules,
                                       .actions = t->actions,
                                       .privesc = t->privesc,
                                       .graph = t->graph,
                                       .today = "2026-11-22"};
}

void tm_test_analysis_load(struct tm_test_analysis *t, const char *snapshot) {
    memset(t, 0, sizeof(*t));
    s_catalogues(t);
    char rel[1024], path[4096], err[1024] = "";
    snprintf(rel, sizeof(rel), "tests/data/snapshots/%s", snapshot);
    if (tm_snapshot_load(&t->snap, tm_test_path(path, sizeof(path), rel), err, sizeof(err)))
        fail_msg("%s", err);
    s_build(t);
}

void tm_test_analysis_parse(struct tm_test_analysis *t, const char *json) {
    memset(t, 0, sizeof(*t));
    s_catalogues(t);
    char err[1024] = "";
    if (tm_snapshot_parse(&t->snap, json, strlen(json), "test", err, sizeof(err)))
        fail_msg("%s", err);
    s_build(t);
}

void tm_test_analysis_clean_up(struct tm_test_analysis *t) {
    tm_graph_destroy(t->graph);
    tm_snapshot_destroy(t->snap);
    tm_rules_destroy(t->rules);
    tm_privesc_catalog_destroy(t->privesc);
    tm_iam_catalog_destroy(t->actions);
    memset(t, 0, sizeof(*t));
}

void tm_test_run(struct tm_test_analysis *t, tm_analyzer_fn fn, struct tm_findings *out) {
    tm_findings_init(out);
    t->analysis.errmsg[0] = '\0';
    int rc = fn(&t->analysis, out);
    if (rc)
        fail_msg("analyzer: %s (%s)", tm_error_str(rc), t->analysis.errmsg);
    tm_findings_sort(out);
}

const struct tm_finding *tm_test_find(const struct tm_findings *l, const char *rule, const char *resource,
                                      const char *entry) {
    for (size_t i = 0; i < l->count; i++) {
        const struct tm_finding *f = l->items[i];
        if (strcmp(f->rule, rule) != 0 || strcmp(f->resource, resource) != 0)
            continue;
        if (entry && (!f->entry || strcmp(f->entry, entry) != 0))
            continue;
        return f;
    }
    return NULL;
}

size_t tm_test_count(const struct tm_findings *l, const char *rule, const char *resource) {
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct tm_finding *f = l->items[i];
        n += (!rule || strcmp(f->rule, rule) == 0) && (!resource || strcmp(f->resource, resource) == 0);
    }
    return n;
}

const struct tm_graph_edge *tm_test_edge(const struct tm_graph *g, const char *from, const char *to,
                                         enum tm_graph_edge_kind kind) {
    uint32_t a = tm_graph_find(g, from), b = tm_graph_find(g, to);
    if (a == TM_GRAPH_NONE || b == TM_GRAPH_NONE)
        return NULL;
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, a, &n, NULL);
    for (size_t i = 0; i < n; i++)
        if (out[i].to == b && out[i].kind == kind)
            return &out[i];
    return NULL;
}
