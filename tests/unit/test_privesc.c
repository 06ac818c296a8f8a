/* Privilege escalation: the demo account's escalations found with their paths, none on the look-alikes
 * (boundary, SCP, PassRole scoped by iam:PassedToService); and the techniques of
 * tests/data/snapshots/privesc-cases.json: can-escalate-to edges with the technique as evidence, paths to the
 * admin node, plain role assumption that is not an escalation, a boundary, a Deny. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyzers/analyze.h"
#include "tests/support/analysis_fixture.h"

#define A "111122223333"
#define R "eu-west-1"

static const char *const s_categories[] = {"privilege-escalation", NULL};

static void test_demo_account(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "demo-shaped.json");
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_privesc, &l);
    tm_test_check_expected(&l, s_categories);
    const struct tm_finding *f =
        tm_test_find(&l, "aws-iam-privilege-escalation", "arn:aws:iam::" A ":role/developer", NULL);
    assert_non_null(f);
    assert_int_equal(f->severity, TM_SEV_HIGH);
    assert_non_null(strstr(f->title, "Lambda"));
    assert_non_null(strstr(f->fix, "PassRole"));
    assert_string_equal(f->path[0].kind, "can-escalate-to");
    bool t1648 = false;
    for (size_t i = 0; i < f->n_attack; i++)
        t1648 = t1648 || strcmp(f->attack[i], "T1648") == 0;
    assert_true(t1648);
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

static const struct tm_graph_edge *s_escalation(const struct tm_graph *g, const char *from, const char *to,
                                                const char *technique) {
    uint32_t a = tm_graph_find(g, from), b = tm_graph_find(g, to);
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, a, &n, NULL);
    for (size_t i = 0; i < n; i++)
        if (out[i].to == b && out[i].kind == TM_GRAPH_EDGE_CAN_ESCALATE_TO && out[i].evidence.policy &&
            strcmp(out[i].evidence.policy, technique) == 0)
            return &out[i];
    return NULL;
}

struct s_members {
    const struct tm_graph *g;
    const char *ids[8];
    size_t n;
};

static int s_member(uint32_t node, void *user_data) {
    struct s_members *m = user_data;
    if (m->n < 8)
        m->ids[m->n++] = tm_graph_node(m->g, node)->id;
    return 0;
}

static void test_cases(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "privesc-cases.json");
    const struct tm_graph *g = t.graph;
    /* The edges, each with its technique. */
    assert_non_null(s_escalation(g, "arn:aws:iam::" A ":user/key-maker", "arn:aws:iam::" A ":user/admin-user",
                                 "iam-create-access-key"));
    assert_non_null(s_escalation(g, "arn:aws:iam::" A ":user/self-attacher", "admin:" A, "iam-attach-user-policy"));
    assert_non_null(s_escalation(g, "arn:aws:iam::" A ":user/code-pusher",
                                 "arn:aws:lambda:" R ":" A ":function:admin-fn", "lambda-update-function-code"));
    /* PassRole allowed on every role alike: one edge to the set of roles EC2 can run as, expanded on demand. */
    const struct tm_graph_edge *set_edge =
        s_escalation(g, "arn:aws:iam::" A ":role/ec2-passer",
                     "set:iam:arn:aws:iam::" A ":role/*|trusts:ec2.amazonaws.com", "ec2-run-instances-passrole");
    assert_non_null(set_edge);
    assert_true(set_edge->flags & TM_GRAPH_EDGE_TO_SET);
    struct s_members m = {g, {0}, 0};
    assert_int_equal(tm_graph_edge_members(g, set_edge, s_member, &m), TM_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.ids[0], "arn:aws:iam::" A ":role/admin-ec2-role");
    /* iam:PassedToService limits ec2-passer to EC2: no Lambda technique. */
    assert_null(s_escalation(g, "arn:aws:iam::" A ":role/ec2-passer", "arn:aws:iam::" A ":role/admin-lambda-role",
                             "lambda-create-invoke-passrole"));
    /* The boundary keeps iam:PutRolePolicy out; the Deny keeps the admin role from being passed. */
    assert_null(s_escalation(g, "arn:aws:iam::" A ":role/bounded", "admin:" A, "iam-put-role-policy"));
    assert_null(s_escalation(g, "arn:aws:iam::" A ":role/lambda-passer-denied",
                             "arn:aws:iam::" A ":role/admin-lambda-role", "lambda-create-invoke-passrole"));
    assert_null(s_escalation(g, "arn:aws:iam::" A ":role/lambda-passer-denied",
                             "set:iam:arn:aws:iam::" A ":role/*|trusts:lambda.amazonaws.com",
                             "lambda-create-invoke-passrole"));

    struct tm_findings l;
    tm_test_run(&t, tm_analyze_privesc, &l);
    char path[4096];
    const struct tm_finding *f =
        tm_test_find(&l, "aws-iam-privilege-escalation", "arn:aws:iam::" A ":user/code-pusher", NULL);
    assert_non_null(f);
    tm_test_path_nodes(f, path, sizeof(path));
    assert_string_equal(path, "arn:aws:iam::" A ":user/code-pusher > arn:aws:lambda:" R ":" A
                              ":function:admin-fn > arn:aws:iam::" A ":role/admin-lambda-role > admin:" A);
    f = tm_test_find(&l, "aws-iam-privilege-escalation", "arn:aws:iam::" A ":user/key-maker", NULL);
    assert_non_null(f);
    tm_test_path_nodes(f, path, sizeof(path));
    assert_string_equal(path, "arn:aws:iam::" A ":user/key-maker > arn:aws:iam::" A ":user/admin-user > admin:" A);
    assert_non_null(tm_test_find(&l, "aws-iam-privilege-escalation", "arn:aws:iam::" A ":user/self-attacher", NULL));
    assert_non_null(tm_test_find(&l, "aws-iam-privilege-escalation", "arn:aws:iam::" A ":role/ec2-passer", NULL));
    /* Assuming an admin role one is allowed to assume is access granted on purpose, not an escalation; the
     * administrators themselves have nothing to escalate to. */
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":user/assumer"), 0);
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":user/admin-user"), 0);
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":role/bounded"), 0);
    assert_int_equal(tm_test_count(&l, NULL, "arn:aws:iam::" A ":role/lambda-passer-denied"), 0);
    assert_int_equal(l.count, 4);
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

/* Without the technique catalogue the graph has no escalation edges, and nothing is reported. */
static void test_without_catalogue(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "privesc-cases.json");
    tm_graph_destroy(t.graph);
    char err[256];
    struct tm_graph_options o = {.actions = t.actions, .privesc = NULL};
    assert_int_equal(tm_graph_build(&t.graph, t.snap, &o, err, sizeof(err)), TM_OK);
    t.analysis.graph = t.graph;
    struct tm_findings l;
    tm_test_run(&t, tm_analyze_privesc, &l);
    assert_int_equal(l.count, 0);
    tm_findings_clean_up(&l);
    tm_test_analysis_clean_up(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_without_catalogue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
