/* Token abuse: the demo account's paths from an entry point through compute to the crown jewels (and the
 * long-lived key), none on the look-alikes; IMDSv1 against IMDSv2, a public queue feeding a function, unknown
 * identity policies, sets too large to list, keys that are inactive or reach nothing
 * (tests/data/snapshots/tokens-cases.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/analyze.h"
#include "core/buf.h"
#include "tests/support/analysis_fixture.h"

#define A "111122223333"
#define R "eu-west-1"

static const char *const s_categories[] = {"token-abuse", NULL};

static void test_demo_account(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "demo-shaped.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_tokens, &l);
    tm_test_check_expected(&l, s_categories);
    const struct tm_finding *f = tm_test_find(&l, "aws-token-instance-credentials",
                                              "arn:aws:ec2:us-east-1:" A ":instance/i-0a1b2c3d4e5f60718", "internet");
    assert_non_null(f);
    assert_non_null(strstr(f->explanation, "IMDSv1"));
    assert_non_null(strstr(f->fix, "--http-tokens required"));
    assert_non_null(strstr(f->fix, "i-0a1b2c3d4e5f60718"));
    f = tm_test_find(&l, "aws-token-access-key", "arn:aws:iam::" A ":user/service/ci-deploy", NULL);
    assert_non_null(f);
    assert_null(f->entry);
    assert_string_equal(f->path[0].from, "AKIAQDEMOCIDEPLOY001");
    assert_non_null(strstr(f->title, "administrator"));
    assert_non_null(strstr(f->fix, "AKIAQDEMOCIDEPLOY001"));
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

static void test_cases(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "tokens-cases.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_tokens, &l);
    char path[4096];
    /* IMDSv1 lets a request forgery take the credentials; IMDSv2 needs code execution: one level lower. */
    const struct tm_finding *v1 =
        tm_test_find(&l, "aws-token-instance-credentials", "arn:aws:ec2:" R ":" A ":instance/i-v1", "internet");
    const struct tm_finding *v2 =
        tm_test_find(&l, "aws-token-instance-credentials", "arn:aws:ec2:" R ":" A ":instance/i-v2", "internet");
    assert_non_null(v1);
    assert_non_null(v2);
    assert_int_equal(v1->severity, TM_SEV_CRITICAL);
    assert_int_equal(v2->severity, TM_SEV_HIGH);
    tm_test_path_nodes(v1, path, sizeof(path));
    assert_string_equal(path, "internet > arn:aws:ec2:" R ":" A ":instance/i-v1 > arn:aws:iam::" A
                              ":instance-profile/v1-profile > arn:aws:iam::" A ":role/v1-role > "
                              "arn:aws:secretsmanager:" R ":" A ":secret:db-AbCdEf");
    /* A public queue that triggers a function is a way in. */
    const struct tm_finding *q =
        tm_test_find(&l, "aws-token-function-credentials", "arn:aws:lambda:" R ":" A ":function:consumer", "internet");
    assert_non_null(q);
    tm_test_path_nodes(q, path, sizeof(path));
    assert_string_equal(path, "internet > arn:aws:sqs:" R ":" A ":inbox > arn:aws:lambda:" R ":" A
                              ":function:consumer > arn:aws:iam::" A ":role/consumer-role > arn:aws:s3:::payroll");
    /* Unknown identity policies: visible, marked unknown, one level lower. */
    const struct tm_finding *m =
        tm_test_find(&l, "aws-token-function-credentials", "arn:aws:lambda:" R ":" A ":function:mystery", "internet");
    assert_non_null(m);
    assert_true(m->path[m->path_len - 1].unknown);
    assert_int_equal(m->severity, TM_SEV_MEDIUM);
    /* Every bucket: the set, not eleven steps. */
    const struct tm_finding *w =
        tm_test_find(&l, "aws-token-function-credentials", "arn:aws:lambda:" R ":" A ":function:wide", "internet");
    assert_non_null(w);
    assert_string_equal(w->path[w->path_len - 1].to, "set:s3:*");
    assert_int_equal(w->path_len, 3);
    /* Keys: an inactive one, and an active one that reaches nothing that matters. */
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":user/old-key"), 0);
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":user/harmless"), 0);
    assert_int_equal(l.count, 5);
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

static void test_no_graph(void **state) {
    (void)state;
    struct tm_analysis a = {0};
    struct tm_findings l;
    tm_findings_init(&l);
    assert_int_equal(tm_analyze_tokens(&a, &l), TM_OK);
    assert_int_equal(l.count, 0);
    tm_findings_clean_up(&l);
}

/* A long-lived key whose user reaches more crown jewels than a path lists: the most sensitive listed, the rest
 * counted; the id and the severity are those of the whole path. */
static void test_key_reach_cap(void **state) {
    (void)state;
    char *json = tm_test_fanout_snapshot();
    struct tm_test_analysis t;
    tm_test_analysis_parse(&t, json);
    free(json);
    struct tm_findings capped, whole;
    tm_test_run(&t, tm_analyze_tokens, &capped);
    t.analysis.reach_listed_max = SIZE_MAX;
    tm_test_run(&t, tm_analyze_tokens, &whole);
    const char *user = "arn:aws:iam::" A ":user/wide";
    const struct tm_finding *c = tm_test_find(&capped, "aws-token-access-key", user, NULL);
    const struct tm_finding *w = tm_test_find(&whole, "aws-token-access-key", user, NULL);
    assert_non_null(c);
    assert_non_null(w);
    assert_int_equal(w->reaches, 42);
    assert_int_equal(w->path_len, 43);
    assert_null(w->list_all);
    assert_int_equal(c->reaches, 42);
    assert_int_equal(c->reaches_listed, TM_FINDING_REACH_LISTED_MAX);
    assert_int_equal(c->path_len, 1 + TM_FINDING_REACH_LISTED_MAX);
    assert_string_equal(c->path[0].from, "AKIAWIDE000000000001");
    assert_string_equal(c->path[1].to, "arn:aws:secretsmanager:" R ":" A ":secret:vault-a-AbCdEf");
    assert_string_equal(c->path[3].to, "arn:aws:s3:::bulk-30");
    assert_string_equal(c->path[13].to, "arn:aws:s3:::bulk-00");
    assert_string_equal(c->id, w->id);
    assert_int_equal(c->severity, w->severity);
    assert_string_equal(c->list_all, "tmscan blast SNAPSHOT --from arn:aws:iam::" A ":user/wide --limit 0");
    assert_non_null(strstr(c->title, "leads to 42 crown jewels"));
    char want[64];
    snprintf(want, sizeof(want), "and %d more (tmscan blast", 42 - TM_FINDING_REACH_LISTED_MAX);
    assert_non_null(strstr(c->explanation, want));
    /* Writing: the whole path also written, read and changed. */
    assert_non_null(strstr(c->explanation, "read and change"));
    tm_findings_clean_up(&capped);
    tm_findings_clean_up(&whole);
    tm_test_analysis_clean_up(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_key_reach_cap),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_no_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
