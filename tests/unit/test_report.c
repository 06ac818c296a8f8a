#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/findings.h"
#include "analyzers/report/report.h"
#include "core/json.h"
#include "core/snapshot.h"

struct fx {
    struct tm_snapshot *snap;
    struct tm_findings findings;
};

static int s_setup(void **state) {
    struct fx *fx = calloc(1, sizeof(*fx));
    assert_int_equal(tm_snapshot_new(&fx->snap, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(fx->snap, "accounts", "111122223333"), TM_OK);
    tm_findings_init(&fx->findings);
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
    assert_int_equal(tm_finding_set(f, "aws-s3-public-policy", "public-exposure", TM_SEV_CRITICAL,
                                    "arn:aws:s3:::demo|pipe", "internet"),
                     TM_OK);
    assert_int_equal(tm_finding_set_text(f, "Anyone can read \"demo\"", "Line one\nline two", "Remove statement 0"),
                     TM_OK);
    const char *acts[] = {"s3:GetObject"};
    assert_int_equal(tm_finding_add_step(f, "internet", "arn:aws:s3:::demo|pipe", "can-read", acts, 1,
                                         "bucket policy statement 0", false),
                     TM_OK);
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
    assert_int_equal(tm_finding_set(f, "aws-iam-role-cross-account", "cross-account", TM_SEV_HIGH,
                                    "arn:aws:iam::111122223333:role/vendor", "account:999999999999"),
                     TM_OK);
    assert_int_equal(tm_finding_add_step(f, "account:999999999999", "arn:aws:iam::111122223333:role/vendor",
                                         "can-assume", NULL, 0, NULL, false),
                     TM_OK);
    assert_int_equal(tm_finding_add_step(f, "arn:aws:iam::111122223333:role/vendor",
                                         "arn:aws:s3:::other-account-bucket", "can-read", NULL, 0, NULL, true),
                     TM_OK);
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    f->status = TM_STATUS_RECOGNISED;
    f->recognised_owner = strdup("security");
    f->recognised_reason = strdup("audit");
    tm_findings_sort(&fx->findings);
    *state = fx;
    return 0;
}

static int s_teardown(void **state) {
    struct fx *fx = *state;
    tm_findings_clean_up(&fx->findings);
    tm_snapshot_destroy(fx->snap);
    free(fx);
    return 0;
}

static char *s_render(struct fx *fx, const char *format) {
    const struct tm_report_format *fmt = tm_report_find(format);
    assert_non_null(fmt);
    struct tm_report_input in = {.snap = fx->snap, .findings = &fx->findings, .snapshot_name = "snap.json"};
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(fmt->write(&b, &in), TM_OK);
    return tm_buf_detach(&b);
}

static void test_markdown(void **state) {
    struct fx *fx = *state;
    char *md = s_render(fx, "md");
    assert_non_null(strstr(md, "# Threat model: AWS `111122223333`"));
    /* Table cells escape pipes; the entry-points table names the door in words. */
    assert_non_null(strstr(md, "| new | critical | anyone on the internet | `arn:aws:s3:::demo\\|pipe` | can-read: "
                               "`s3:GetObject` |"));
    assert_non_null(strstr(md, "external account 999999999999 → account**: 1 entry point"));
    assert_non_null(strstr(md, "Recognised by security: audit"));
    assert_non_null(strstr(md, "*(unknown: tmscan could not read this fact"));
    /* New findings come before recognised ones. */
    assert_true(strstr(md, "### [critical]") < strstr(md, "### [high]"));
    char *again = s_render(fx, "md");
    assert_string_equal(md, again);
    free(again);
    free(md);
}

/* Trust boundaries: each external account once, in the order of its first finding, with all of its findings
 * counted wherever they are in the list. */
static void test_markdown_accounts(void **state) {
    struct fx *fx = *state;
    static const char *const entries[] = {"account:222222222222",
                                          "internet",
                                          "account:111111111111",
                                          "account:222222222222",
                                          NULL,
                                          "account:111111111111",
                                          "account:222222222222",
                                          "account:333333333333"};
    tm_findings_clean_up(&fx->findings);
    tm_findings_init(&fx->findings);
    for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        struct tm_finding *f = NULL;
        char res[64];
        snprintf(res, sizeof(res), "arn:aws:sqs:eu-west-1:111122223333:q%zu", i);
        assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
        assert_int_equal(tm_finding_set(f, "aws-sqs-queue-cross-account", "cross-account", TM_SEV_LOW, res, entries[i]),
                         TM_OK);
        assert_int_equal(tm_finding_compute_id(f), TM_OK);
    }
    char *md = s_render(fx, "md");
    const char *two = strstr(md, "- **external account 222222222222 → account**: 3 entry points\n");
    const char *one = strstr(md, "- **external account 111111111111 → account**: 2 entry points\n");
    const char *three = strstr(md, "- **external account 333333333333 → account**: 1 entry point\n");
    assert_non_null(strstr(md, "- **anyone on the internet → account**: 1 entry point\n"));
    assert_non_null(two);
    assert_non_null(one);
    assert_non_null(three);
    assert_true(two < one);
    assert_true(one < three);
    free(md);
}

static void test_dot_boundaries(void **state) {
    struct fx *fx = *state;
    char *dot = s_render(fx, "dot");
    assert_non_null(strstr(dot, "digraph tmscan {"));
    assert_non_null(strstr(dot, "label=\"this account\""));
    assert_non_null(strstr(dot, "label=\"external account:999999999999\""));
    assert_non_null(strstr(dot, "shape=doubleoctagon"));
    assert_non_null(strstr(dot, "style=dotted"));
    assert_non_null(strstr(dot, "demo|pipe\\ns3"));
    free(dot);
    char *mm = s_render(fx, "mermaid");
    assert_true(strncmp(mm, "flowchart LR\n", 13) == 0);
    assert_non_null(strstr(mm, "subgraph"));
    assert_non_null(strstr(mm, "-.->|can-assume|"));
    assert_non_null(strstr(mm, "-->|can-read|"));
    free(mm);
}

/* A finding whose path lists part of the crown jewels it reaches says so, with the command, in every format. */
static void test_reach_listed_in_part(void **state) {
    struct fx *fx = *state;
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
    assert_int_equal(tm_finding_set(f, "aws-iam-role-public", "public-exposure", TM_SEV_HIGH,
                                    "arn:aws:iam::111122223333:role/wide", "any-aws-account"),
                     TM_OK);
    assert_int_equal(tm_finding_add_step(f, "any-aws-account", "arn:aws:iam::111122223333:role/wide", "can-assume",
                                         NULL, 0, NULL, false),
                     TM_OK);
    assert_int_equal(tm_finding_add_step(f, "arn:aws:iam::111122223333:role/wide", "arn:aws:s3:::bulk-00", "can-read",
                                         NULL, 0, NULL, false),
                     TM_OK);
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    const char *cmd = "tmscan blast SNAPSHOT --from arn:aws:iam::111122223333:role/wide --limit 0";
    assert_int_equal(tm_finding_set_reach(f, 40, 1, cmd), TM_OK);
    tm_findings_sort(&fx->findings);
    char *md = s_render(fx, "md");
    assert_non_null(strstr(md, "The path shows 1 of the 40 crown jewels it reaches, the most sensitive first; 39 more "
                               "are not listed: `tmscan blast SNAPSHOT --from arn:aws:iam::111122223333:role/wide "
                               "--limit 0` lists them all."));
    free(md);
    char *sarif = s_render(fx, "sarif");
    assert_non_null(strstr(sarif, "(1 of 40 crown jewels shown, the most sensitive first; tmscan blast SNAPSHOT"));
    assert_non_null(strstr(sarif, "\"reaches\": 40"));
    assert_non_null(strstr(sarif, "\"reachesListed\": 1"));
    free(sarif);
    char *json = s_render(fx, "json");
    assert_non_null(strstr(json, "\"list_all\": \"tmscan blast SNAPSHOT --from arn:aws:iam::111122223333:role/wide"));
    assert_non_null(strstr(json, "\"reaches\": 40,\n      \"reaches_listed\": 1,"));
    free(json);
    char *dot = s_render(fx, "dot");
    assert_non_null(strstr(dot, "label=\"+39 more: tmscan blast SNAPSHOT --from arn:aws:iam::111122223333:role/wide "
                                "--limit 0\""));
    assert_non_null(strstr(dot, "[label=\"reaches\""));
    free(dot);
    char *mm = s_render(fx, "mermaid");
    assert_non_null(strstr(mm, "[\"+39 more: tmscan blast SNAPSHOT"));
    assert_non_null(strstr(mm, "-->|reaches|"));
    free(mm);
}

static void test_sarif_suppressions(void **state) {
    struct fx *fx = *state;
    char *s = s_render(fx, "sarif");
    assert_non_null(strstr(s, "\"version\": \"2.1.0\""));
    assert_non_null(strstr(s, "\"justification\": \"recognised by security: audit\""));
    assert_non_null(strstr(s, "\"tmscanFindingId/v1\""));
    free(s);
    assert_null(tm_report_find("pdf"));
    assert_non_null(tm_report_find("markdown"));
}

/* The report as the tree of every finding printed canonically: what the JSON writer must reproduce. */
static char *s_json_by_tree(struct fx *fx, const char *policy_name) {
    cJSON *root = cJSON_CreateObject();
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    assert_non_null(cJSON_AddStringToObject(root, "schema", "tmscan.report/1"));
    assert_non_null(cJSON_AddStringToObject(tool, "name", "tmscan"));
    assert_non_null(cJSON_AddStringToObject(tool, "version", TM_VERSION));
    assert_true(cJSON_AddItemToObject(root, "scope", cJSON_Duplicate(tm_snapshot_scope(fx->snap), true)));
    if (policy_name)
        assert_non_null(cJSON_AddStringToObject(root, "policy_file", policy_name));
    else
        assert_non_null(cJSON_AddNullToObject(root, "policy_file"));
    struct tm_report_input in = {.snap = fx->snap, .findings = &fx->findings};
    struct tm_report_counts c;
    tm_report_count(&in, &c);
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON *sev = cJSON_AddObjectToObject(sum, "new_by_severity");
    cJSON *st = cJSON_AddObjectToObject(sum, "by_status");
    for (int i = TM_SEV_CRITICAL; i >= TM_SEV_INFO; i--)
        assert_non_null(cJSON_AddNumberToObject(sev, tm_severity_str((enum tm_severity)i), (double)c.by_severity[i]));
    for (int i = 0; i < 3; i++)
        assert_non_null(
            cJSON_AddNumberToObject(st, tm_finding_status_str((enum tm_finding_status)i), (double)c.by_status[i]));
    assert_non_null(cJSON_AddNumberToObject(sum, "findings", (double)c.total));
    assert_non_null(cJSON_AddNumberToObject(sum, "resources", (double)c.resources));
    assert_non_null(cJSON_AddNumberToObject(sum, "coverage_gaps", (double)c.coverage_gaps));
    assert_non_null(cJSON_AddBoolToObject(sum, "complete", c.coverage_gaps == 0));
    cJSON *arr = cJSON_AddArrayToObject(root, "findings");
    for (size_t i = 0; i < fx->findings.count; i++)
        assert_true(cJSON_AddItemToArray(arr, tm_finding_to_json(fx->findings.items[i])));
    char *text = tm_json_print_canonical(root, true);
    cJSON_Delete(root);
    size_t n = strlen(text);
    text = realloc(text, n + 2);
    text[n] = '\n';
    text[n + 1] = '\0';
    return text;
}

struct s_pieces {
    struct tm_buf all;
    size_t calls;
    size_t fail_at; /* 0: never */
};

static int s_collect(const char *data, size_t len, void *user_data) {
    struct s_pieces *p = user_data;
    p->calls++;
    if (p->fail_at && p->calls == p->fail_at)
        return TM_ERR_IO;
    return tm_buf_append(&p->all, data, len);
}

/* The format's stream gives want exactly, in at least min_calls pieces, and stops with the sink's error when
 * the sink fails its fail_at-th piece. */
static void s_assert_streams(const char *format, const struct tm_report_input *in, const char *want, size_t min_calls,
                             size_t fail_at) {
    const struct tm_report_format *fmt = tm_report_find(format);
    assert_non_null(fmt);
    assert_non_null(fmt->stream);
    struct s_pieces p = {0};
    tm_buf_init(&p.all, 0);
    assert_int_equal(fmt->stream(in, s_collect, &p), TM_OK);
    assert_true(p.calls >= min_calls);
    assert_string_equal(tm_buf_str(&p.all), want);
    tm_buf_clean_up(&p.all);
    struct s_pieces bad = {.fail_at = fail_at};
    tm_buf_init(&bad.all, 0);
    assert_int_equal(fmt->stream(in, s_collect, &bad), TM_ERR_IO);
    assert_int_equal(bad.calls, fail_at);
    tm_buf_clean_up(&bad.all);
}

/* The JSON report is written finding by finding, whole or streamed in pieces: the bytes are those of the tree
 * printed canonically, in both cases, and a sink that fails stops the writer with its error. */
static void test_json_stream_matches_tree(void **state) {
    struct fx *fx = *state;
    /* Enough steps for several pieces of a megabyte. */
    char from[64], to[64];
    for (int k = 0; k < 3; k++) {
        struct tm_finding *f = NULL;
        assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
        assert_int_equal(tm_finding_set(f, "aws-iam-role-public", "public-exposure", TM_SEV_HIGH,
                                        k ? "arn:aws:iam::111122223333:role/b" : "arn:aws:iam::111122223333:role/a",
                                        "internet"),
                         TM_OK);
        for (int i = 0; i < 4000; i++) {
            snprintf(from, sizeof(from), "arn:aws:iam::111122223333:role/r%d", i);
            snprintf(to, sizeof(to), "arn:aws:s3:::bucket-\xc3\xa9-%d", i);
            const char *acts[] = {"s3:GetObject", "s3:ListBucket"};
            assert_int_equal(
                tm_finding_add_step(f, from, to, "can-read", acts, 2, "identity policy \"x\"\t", i % 7 == 0), TM_OK);
        }
        assert_int_equal(tm_finding_compute_id(f), TM_OK);
    }
    tm_findings_sort(&fx->findings);
    for (int with_policy = 0; with_policy < 2; with_policy++) {
        const char *policy = with_policy ? "tmscan.policy.json" : NULL;
        char *want = s_json_by_tree(fx, policy);
        struct tm_report_input in = {.snap = fx->snap, .findings = &fx->findings, .policy_name = policy};
        struct tm_buf whole;
        tm_buf_init(&whole, 0);
        assert_int_equal(tm_report_write_json(&whole, &in), TM_OK);
        assert_string_equal(tm_buf_str(&whole), want);
        s_assert_streams("json", &in, want, 3, 2);
        tm_buf_clean_up(&whole);
        free(want);
    }
    /* No findings: an empty array. */
    struct tm_findings none;
    tm_findings_init(&none);
    struct tm_report_input in = {.snap = fx->snap, .findings = &none};
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_report_write_json(&b, &in), TM_OK);
    assert_non_null(strstr(tm_buf_str(&b), "\"findings\": [],\n"));
    tm_buf_clean_up(&b);
}

/* Two findings of 12,000 steps each (several pieces of a megabyte in any format), with text that needs escaping;
 * sarif_shaped: the steps carry no actions or evidence and the findings list 25 of the crown jewels they reach. */
static void s_add_long_findings(struct fx *fx, bool sarif_shaped) {
    char to[64];
    for (int k = 0; k < 2; k++) {
        struct tm_finding *f = NULL;
        assert_int_equal(tm_findings_add(&fx->findings, &f), TM_OK);
        assert_int_equal(tm_finding_set(f, "aws-iam-role-public", "public-exposure", TM_SEV_HIGH,
                                        k ? "arn:aws:iam::111122223333:role/b" : "arn:aws:iam::111122223333:role/a",
                                        "internet"),
                         TM_OK);
        assert_int_equal(
            tm_finding_set_text(f, sarif_shaped ? "A role \"anyone\" can assume" : "A role anyone can assume",
                                sarif_shaped ? "It reads\tmany buckets." : "It reads | many buckets.", "Narrow it."),
            TM_OK);
        const char *acts[] = {"s3:GetObject", "s3:ListBucket"};
        for (int i = 0; i < 12000; i++) {
            snprintf(to, sizeof(to), "arn:aws:s3:::bucket-\xc3\xa9-%d", i);
            assert_int_equal(tm_finding_add_step(f, "arn:aws:iam::111122223333:role/r", to, "can-read",
                                                 sarif_shaped ? NULL : acts, sarif_shaped ? 0 : 2,
                                                 sarif_shaped ? NULL : "identity policy \"x\"",
                                                 !sarif_shaped && i % 7 == 0),
                             TM_OK);
        }
        if (sarif_shaped)
            assert_int_equal(tm_finding_set_reach(f, 12000, 25, "tmscan blast SNAPSHOT --from x --limit 0"), TM_OK);
        assert_int_equal(tm_finding_compute_id(f), TM_OK);
    }
    tm_findings_sort(&fx->findings);
}

/* The Markdown report streamed in pieces has the bytes written whole; a sink that fails stops the writer. */
static void test_markdown_stream_matches_whole(void **state) {
    struct fx *fx = *state;
    s_add_long_findings(fx, false);
    struct tm_report_input in = {.snap = fx->snap, .findings = &fx->findings, .snapshot_name = "snap.json"};
    struct tm_buf whole;
    tm_buf_init(&whole, 0);
    assert_int_equal(tm_report_write_markdown(&whole, &in), TM_OK);
    assert_true(whole.len > 2 * ((size_t)1 << 20));
    s_assert_streams("md", &in, tm_buf_str(&whole), 3, 2);
    tm_buf_clean_up(&whole);
}

/* The SARIF report is written one result at a time, whole or streamed: the bytes are the canonical print of the
 * document (sorted keys, two-space indentation) either way, and a sink that fails stops the writer. */
static void test_sarif_stream_matches_whole(void **state) {
    struct fx *fx = *state;
    s_add_long_findings(fx, true);
    struct tm_report_input in = {.snap = fx->snap, .findings = &fx->findings, .snapshot_name = "snap.json"};
    struct tm_buf whole;
    tm_buf_init(&whole, 0);
    assert_int_equal(tm_report_write_sarif(&whole, &in), TM_OK);
    cJSON *doc = cJSON_Parse(tm_buf_str(&whole));
    assert_non_null(doc);
    char *canon = tm_json_print_canonical(doc, true);
    assert_non_null(canon);
    assert_int_equal(strlen(canon) + 1, whole.len);
    assert_memory_equal(canon, tm_buf_str(&whole), strlen(canon));
    assert_int_equal(tm_buf_str(&whole)[whole.len - 1], '\n');
    cJSON *results = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "runs"), 0), "results");
    assert_int_equal(cJSON_GetArraySize(results), (int)fx->findings.count);
    free(canon);
    cJSON_Delete(doc);
    s_assert_streams("sarif", &in, tm_buf_str(&whole), 2, 1);
    tm_buf_clean_up(&whole);
    /* No findings: an empty results array. */
    struct tm_findings none;
    tm_findings_init(&none);
    struct tm_report_input empty = {.snap = fx->snap, .findings = &none};
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_report_write_sarif(&b, &empty), TM_OK);
    assert_non_null(strstr(tm_buf_str(&b), "\"results\": [],\n"));
    tm_buf_clean_up(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_markdown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_markdown_accounts, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dot_boundaries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reach_listed_in_part, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sarif_suppressions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_stream_matches_tree, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_markdown_stream_matches_whole, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sarif_stream_matches_whole, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
