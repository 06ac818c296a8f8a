#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyzers/findings.h"
#include "analyzers/report/report.h"
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_markdown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_dot_boundaries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sarif_suppressions, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
