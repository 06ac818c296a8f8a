/* Exposure: every planted entry point of the demo account found with its path, no finding on a safe
 * look-alike (tests/data/snapshots/demo-shaped.json against fixtures/aws/demo/expected-findings.json), and the
 * cases of tests/data/snapshots/exposure-cases.json: what must and must not be an entry point. */
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

static const char *const s_categories[] = {"public-exposure", "cross-account", NULL};

static void test_demo_account(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "demo-shaped.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_exposure, &l);
    tm_test_check_expected(&l, s_categories);
    /* A few of the words a developer reads. */
    const struct tm_finding *f =
        tm_test_find(&l, "aws-s3-bucket-public", "arn:aws:s3:::demo-public-assets", "internet");
    assert_non_null(f);
    assert_int_equal(f->severity, TM_SEV_CRITICAL);
    assert_string_equal(f->category, "public-exposure");
    assert_non_null(strstr(f->title, "Anyone on the internet can read"));
    assert_non_null(strstr(f->fix, "PublicReadGetObject"));
    assert_non_null(strstr(f->fix, "Block Public Access"));
    assert_true(f->n_stride > 0 && f->n_attack > 0);
    f = tm_test_find(&l, "aws-iam-role-cross-account", "arn:aws:iam::" A ":role/partner-data-exchange",
                     "account:999988887777");
    assert_non_null(f);
    assert_non_null(strstr(f->fix, "sts:ExternalId"));
    f = tm_test_find(&l, "aws-iam-role-public", "arn:aws:iam::" A ":role/github-actions-infra", "internet");
    assert_non_null(f);
    assert_non_null(strstr(f->title, "token.actions.githubusercontent.com"));
    assert_non_null(strstr(f->fix, ":sub"));
    f = tm_test_find(&l, "aws-lambda-function-public", "arn:aws:lambda:us-east-1:" A ":function:partner-callback",
                     "any-aws-account");
    assert_non_null(f);
    assert_non_null(strstr(f->title, "Anyone with an AWS account can call"));
    f = tm_test_find(&l, "aws-ec2-instance-public", "arn:aws:ec2:us-east-1:" A ":instance/i-0a1b2c3d4e5f60718",
                     "internet");
    assert_non_null(f);
    assert_int_equal(f->path_len, 1);
    assert_int_equal(f->path[0].n_actions, 3); /* tcp/22, tcp/80, tcp/443 in one step */
    assert_non_null(strstr(f->fix, "web-public"));
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

static void test_cases(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "exposure-cases.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_exposure, &l);
    /* In force. */
    assert_non_null(tm_test_find(&l, "aws-s3-bucket-public", "arn:aws:s3:::plain-public", "internet"));
    assert_non_null(
        tm_test_find(&l, "aws-lambda-function-public", "arn:aws:lambda:" R ":" A ":function:url-public", "internet"));
    assert_non_null(
        tm_test_find(&l, "aws-s3-bucket-cross-account", "arn:aws:s3:::shared-with-partner", "account:999988887777"));
    assert_non_null(tm_test_find(&l, "aws-ec2-snapshot-cross-account", "arn:aws:ec2:" R "::snapshot/snap-partner",
                                 "account:999988887777"));
    assert_non_null(tm_test_find(&l, "aws-iam-role-cross-account", "arn:aws:iam::" A ":role/trust-partner",
                                 "account:999988887777"));
    const struct tm_finding *anyone =
        tm_test_find(&l, "aws-iam-role-public", "arn:aws:iam::" A ":role/trust-anyone", "any-aws-account");
    assert_non_null(anyone);
    /* The role's path goes on to the data it reads that outsiders could not read before. */
    char path[4096];
    tm_test_path_nodes(anyone, path, sizeof(path));
    assert_string_equal(path, "any-aws-account > arn:aws:iam::" A ":role/trust-anyone > arn:aws:s3:::secret-data");
    /* A web port open is high, not critical. */
    const struct tm_finding *web =
        tm_test_find(&l, "aws-ec2-instance-public", "arn:aws:ec2:" R ":" A ":instance/i-web", "internet");
    assert_non_null(web);
    assert_int_equal(web->severity, TM_SEV_HIGH);
    /* Not entry points: narrowed by a source network, blocked by an unavoidable Deny, unknown (the coverage gap
     * says so), inside the organization, no policy statement behind a URL, behind an external id, stopped,
     * private, behind rules that could not be read. */
    static const char *const safe[] = {
        "arn:aws:s3:::ip-restricted",
        "arn:aws:s3:::bpa-unknown",
        "arn:aws:s3:::deny-outside-org",
        "arn:aws:s3:::policy-unknown",
        "arn:aws:s3:::shared-with-member",
        "arn:aws:s3:::secret-data",
        "arn:aws:lambda:" R ":" A ":function:url-no-policy",
        "arn:aws:iam::" A ":role/trust-partner-external-id",
        "arn:aws:iam::" A ":role/trust-member",
        "arn:aws:ec2:" R ":" A ":instance/i-stopped",
        "arn:aws:ec2:" R ":" A ":instance/i-private",
        "arn:aws:ec2:" R ":" A ":instance/i-unknown-sg",
        "arn:aws:ec2:" R "::snapshot/snap-member",
        "arn:aws:ec2:" R "::snapshot/snap-unknown",
        NULL,
    };
    for (size_t i = 0; safe[i]; i++)
        if (tm_test_count(&l, NULL, safe[i]))
            fail_msg("a finding on %s", safe[i]);
    assert_int_equal(l.count, 7);
    /* The unknown facts still give edges, marked unknown. */
    const struct tm_graph_edge *e =
        tm_test_edge(t.graph, "internet", "arn:aws:s3:::policy-unknown", TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_UNKNOWN);
    e = tm_test_edge(t.graph, "internet", "arn:aws:ec2:" R ":" A ":instance/i-unknown-sg", TM_GRAPH_EDGE_ROUTES_TO);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_UNKNOWN);
    e = tm_test_edge(t.graph, "internet", "arn:aws:ec2:" R "::snapshot/snap-unknown", TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_UNKNOWN);
    e = tm_test_edge(t.graph, "internet", "arn:aws:s3:::bpa-unknown", TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_UNKNOWN);
    /* Narrowed, not absent. */
    e = tm_test_edge(t.graph, "internet", "arn:aws:s3:::ip-restricted", TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_CONDITIONAL);
    assert_non_null(strstr(e->conditions, "203.0.113.0/24"));
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

static void test_account_block_public_access(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "exposure-account-bpa.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_exposure, &l);
    assert_int_equal(l.count, 0);
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

/* Same snapshot, same findings, same ids, in the same order; ids differ between findings. */
static void test_deterministic(void **state) {
    (void)state;
    struct tm_test_analysis a, b;
    tm_test_analysis_load(&a, "demo-shaped.json");
    tm_test_analysis_load(&b, "demo-shaped.json");
    struct tm_findings la, lb;
    tm_test_run(&a, tm_analyze_exposure, &la);
    tm_test_run(&b, tm_analyze_exposure, &lb);
    assert_int_equal(la.count, lb.count);
    for (size_t i = 0; i < la.count; i++) {
        assert_string_equal(la.items[i]->id, lb.items[i]->id);
        assert_string_equal(la.items[i]->title, lb.items[i]->title);
        assert_string_equal(la.items[i]->explanation, lb.items[i]->explanation);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(la.items[i]->id, la.items[j]->id);
    }
    tm_findings_clean_up(&la);
    tm_findings_clean_up(&lb);
    tm_test_analysis_clean_up(&a);
    tm_test_analysis_clean_up(&b);
}

/* A role reaching more crown jewels than a path lists: the most sensitive are listed (secrets, then what it reads
 * and writes, then what it reads, each in id order), the rest counted with the command that lists them; the id and
 * the severity are those of the whole path, and the same snapshot lists the same jewels. */
static void test_reach_cap(void **state) {
    (void)state;
    char *json = tm_test_fanout_snapshot();
    struct tm_test_analysis t;
    tm_test_analysis_parse(&t, json);
    free(json);
    struct tm_findings capped, again, whole;
    tm_test_run(&t, tm_analyze_exposure, &capped);
    tm_test_run(&t, tm_analyze_exposure, &again);
    t.analysis.reach_listed_max = SIZE_MAX;
    tm_test_run(&t, tm_analyze_exposure, &whole);
    const char *role = "arn:aws:iam::" A ":role/wide";
    const struct tm_finding *c = tm_test_find(&capped, "aws-iam-role-public", role, "any-aws-account");
    const struct tm_finding *a = tm_test_find(&again, "aws-iam-role-public", role, "any-aws-account");
    const struct tm_finding *w = tm_test_find(&whole, "aws-iam-role-public", role, "any-aws-account");
    assert_non_null(c);
    assert_non_null(a);
    assert_non_null(w);
    assert_true(TM_FINDING_REACH_LISTED_MAX < 42);

    /* The whole path: the entry step, then every jewel in id order. */
    assert_int_equal(w->reaches, 42);
    assert_int_equal(w->reaches_listed, 42);
    assert_null(w->list_all);
    assert_int_equal(w->path_len, 43);
    assert_string_equal(w->path[1].to, "arn:aws:s3:::bulk-00");
    assert_string_equal(w->path[42].to, "arn:aws:secretsmanager:" R ":" A ":secret:vault-b-AbCdEf");

    /* Capped: the entry step, then the most sensitive jewels. */
    assert_int_equal(c->reaches, 42);
    assert_int_equal(c->reaches_listed, TM_FINDING_REACH_LISTED_MAX);
    assert_int_equal(c->path_len, 1 + TM_FINDING_REACH_LISTED_MAX);
    assert_string_equal(c->path[0].from, "any-aws-account");
    assert_string_equal(c->path[0].to, role);
    assert_string_equal(c->path[1].to, "arn:aws:secretsmanager:" R ":" A ":secret:vault-a-AbCdEf");
    assert_string_equal(c->path[2].to, "arn:aws:secretsmanager:" R ":" A ":secret:vault-b-AbCdEf");
    char want[64];
    for (int i = 0; i < 10; i++) {
        snprintf(want, sizeof(want), "arn:aws:s3:::bulk-%02d", 30 + i); /* read and written */
        assert_string_equal(c->path[3 + i].to, want);
    }
    for (int i = 0; i < TM_FINDING_REACH_LISTED_MAX - 12; i++) {
        snprintf(want, sizeof(want), "arn:aws:s3:::bulk-%02d", i); /* read */
        assert_string_equal(c->path[13 + i].to, want);
    }
    assert_string_equal(c->list_all, "tmscan blast SNAPSHOT --from arn:aws:iam::" A ":role/wide --limit 0");
    snprintf(want, sizeof(want), "and %d more (tmscan blast", 42 - TM_FINDING_REACH_LISTED_MAX);
    assert_non_null(strstr(c->explanation, want));
    assert_non_null(strstr(c->explanation, "vault-a, vault-b, bulk-30"));
    assert_null(strstr(c->explanation, "bulk-39, bulk-00, bulk-01, bulk-02, bulk-03, bulk-04, bulk-05, bulk-06, "
                                       "bulk-07, bulk-08, bulk-09, bulk-10, bulk-11, bulk-12, bulk-13"));

    /* Identity and severity do not depend on what is listed; the listing does not depend on the run. */
    assert_string_equal(c->id, w->id);
    assert_int_equal(c->severity, w->severity);
    assert_int_equal(c->severity, TM_SEV_HIGH); /* data, from any AWS account */
    assert_string_equal(c->id, a->id);
    assert_int_equal(c->path_len, a->path_len);
    for (size_t i = 0; i < c->path_len; i++)
        assert_string_equal(c->path[i].to, a->path[i].to);
    assert_string_equal(c->explanation, a->explanation);

    /* The JSON object carries the counts and the command; the whole path only the counts. */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_finding_append_json(&b, c, 0), TM_OK);
    snprintf(want, sizeof(want), "\"reaches_listed\": %d", TM_FINDING_REACH_LISTED_MAX);
    assert_non_null(strstr(tm_buf_str(&b), "\"reaches\": 42,"));
    assert_non_null(strstr(tm_buf_str(&b), want));
    assert_non_null(strstr(tm_buf_str(&b), "\"list_all\": \"tmscan blast SNAPSHOT --from"));
    tm_buf_reset(&b);
    assert_int_equal(tm_finding_append_json(&b, w, 0), TM_OK);
    assert_non_null(strstr(tm_buf_str(&b), "\"reaches_listed\": 42"));
    assert_null(strstr(tm_buf_str(&b), "list_all"));
    tm_buf_clean_up(&b);
    tm_findings_clean_up(&capped);
    tm_findings_clean_up(&again);
    tm_findings_clean_up(&whole);
    tm_test_analysis_clean_up(&t);
}

static void test_no_graph(void **state) {
    (void)state;
    struct tm_analysis a = {0};
    struct tm_findings l;
    tm_findings_init(&l);
    assert_int_equal(tm_analyze_exposure(&a, &l), TM_OK);
    assert_int_equal(l.count, 0);
    tm_findings_clean_up(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_account_block_public_access),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_reach_cap),
        cmocka_unit_test(test_no_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
