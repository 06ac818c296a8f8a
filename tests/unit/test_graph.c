/* The entry-point and trust graph on hand-made snapshots (tests/data/snapshots/graph-*.json): nodes and
 * lookups, edges with their evidence, SCPs and boundaries, unknown facts, sets, walks, determinism. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph.h"
#include "analyzers/graph_int.h"
#include "core/buf.h"
#include "tests/support/analysis_fixture.h"
#include "tests/support/synth_snapshot.h"

/* The sanitizer build runs the scale test smaller: it proves linearity, not speed. */
#if defined(__SANITIZE_ADDRESS__)
#define SCALE_LARGE 10000
#else
#define SCALE_LARGE 100000
#endif

#define A "111122223333"
#define R "eu-west-1"
#define APP_ROLE "arn:aws:iam::" A ":role/app-role"
#define ADMIN_ROLE "arn:aws:iam::" A ":role/admin-role"
#define ALICE "arn:aws:iam::" A ":user/alice"
#define FN "arn:aws:lambda:" R ":" A ":function:api"
#define METHOD "arn:aws:execute-api:" R ":" A ":a1/prod/GET/items"
#define DATA "arn:aws:s3:::data-bucket"
#define LOGS "arn:aws:s3:::logs-bucket"
#define JOBS "arn:aws:sqs:" R ":" A ":jobs"
#define AUDIT "arn:aws:sqs:" R ":" A ":audit"
#define DB_SECRET "arn:aws:secretsmanager:" R ":" A ":secret:db-password-AbCdEf"
#define OTHER_SECRET "arn:aws:secretsmanager:" R ":" A ":secret:other-XyZ123"
#define INSTANCE "arn:aws:ec2:" R ":" A ":instance/i-0abc"
#define WEB_ROLE "arn:aws:iam::" A ":role/web-role"
#define PROFILE "arn:aws:iam::" A ":instance-profile/web-profile"

static int s_setup(void **state) {
    struct tm_test_analysis *t = calloc(1, sizeof(*t));
    tm_test_analysis_load(t, "graph-basic.json");
    *state = t;
    return 0;
}

static int s_teardown(void **state) {
    struct tm_test_analysis *t = *state;
    tm_test_analysis_clean_up(t);
    free(t);
    return 0;
}

static bool s_has_action(const struct tm_graph_edge *e, const char *action) {
    for (size_t i = 0; i < e->n_actions; i++)
        if (strcmp(e->actions[i], action) == 0)
            return true;
    return false;
}

static void test_lookup(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    uint32_t n = tm_graph_find(g, APP_ROLE);
    assert_int_not_equal(n, TM_GRAPH_NONE);
    const struct tm_graph_node *node = tm_graph_node(g, n);
    assert_string_equal(node->id, APP_ROLE);
    assert_string_equal(node->type, "aws:iam:role");
    assert_int_equal(node->kind, TM_GRAPH_NODE_PRINCIPAL);
    assert_int_equal(node->group, TM_GRAPH_GROUP_IDENTITY);
    assert_true(node->flags & TM_GRAPH_NODE_IN_SNAPSHOT);
    /* Pseudo-principals, access key ids, role sessions, account ids. */
    assert_int_equal(tm_graph_node(g, tm_graph_find(g, "internet"))->kind, TM_GRAPH_NODE_INTERNET);
    assert_int_equal(tm_graph_node(g, tm_graph_find(g, "any-aws-account"))->kind, TM_GRAPH_NODE_ANY_AWS_ACCOUNT);
    assert_int_equal(tm_graph_node(g, tm_graph_find(g, "admin:" A))->kind, TM_GRAPH_NODE_ADMIN);
    assert_int_equal(tm_graph_find(g, "AKIAEXAMPLEALICE0001"), tm_graph_find(g, ALICE));
    assert_int_equal(tm_graph_find(g, "AKIAEXAMPLEALICE0002"), tm_graph_find(g, ALICE));
    assert_int_equal(tm_graph_find(g, "AKIAEXAMPLENOBODY001"), TM_GRAPH_NONE);
    assert_int_equal(tm_graph_find(g, "arn:aws:sts::" A ":assumed-role/app-role/session-1"), n);
    assert_int_equal(tm_graph_find(g, A), tm_graph_find(g, "arn:aws:iam::" A ":root"));
    assert_int_equal(tm_graph_find(g, "arn:aws:s3:::no-such-bucket"), TM_GRAPH_NONE);
    assert_int_equal(tm_graph_find(g, NULL), TM_GRAPH_NONE);
    assert_string_equal(tm_graph_home_account(g), A);
    assert_true(tm_graph_is_home_account(g, A));
    assert_false(tm_graph_is_home_account(g, "999999999999"));
    /* Node indices follow id order. */
    for (uint32_t i = 1; i < tm_graph_node_count(g); i++)
        assert_true(strcmp(tm_graph_node(g, i - 1)->id, tm_graph_node(g, i)->id) < 0);
    size_t nr = 0;
    const uint32_t *roles = tm_graph_nodes_of_type(g, "aws:iam:role", &nr);
    assert_int_equal(nr, 4);
    assert_string_equal(tm_graph_node(g, roles[0])->id, ADMIN_ROLE);
    assert_null(tm_graph_nodes_of_type(g, "aws:nothing", &nr));
    assert_int_equal(nr, 0);
}

/* Nodes grouped by type: with more distinct types than the grouping table first holds, every node is in the
 * slice of its own type, each slice in index order, and types absent or empty are not found. */
static void test_many_types(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\"schema\":\"tmscan.snapshot/1\",\"tool\":{\"name\":\"tmscan\"},"
                                           "\"scope\":{\"provider\":\"aws\",\"accounts\":[\"" A "\"]},"
                                           "\"errors\":[],\"resources\":["),
                     TM_OK);
    /* 150 types, 3 resources each, types interleaved so id order is not type order. */
    for (int i = 0; i < 450; i++)
        assert_int_equal(tm_buf_appendf(&b,
                                        "%s{\"id\":\"arn:aws:x%03d:" R ":" A
                                        ":thing/r%03d\",\"type\":\"aws:t%03d:kind\","
                                        "\"account\":\"" A "\",\"region\":\"" R "\",\"attrs\":{},\"policies\":{},"
                                        "\"links\":[]}",
                                        i ? "," : "", i % 7, i, (i * 37) % 150),
                         TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "]}"), TM_OK);
    struct tm_test_analysis t = {0};
    tm_test_analysis_parse(&t, tm_buf_str(&b));
    const struct tm_graph *g = t.graph;
    size_t seen = 0;
    char type[32];
    for (int k = 0; k < 150; k++) {
        snprintf(type, sizeof(type), "aws:t%03d:kind", k);
        size_t n = 0;
        const uint32_t *slice = tm_graph_nodes_of_type(g, type, &n);
        assert_non_null(slice);
        assert_int_equal(n, 3);
        for (size_t j = 0; j < n; j++) {
            assert_string_equal(tm_graph_node(g, slice[j])->type, type);
            if (j)
                assert_true(slice[j - 1] < slice[j]);
        }
        seen += n;
    }
    assert_int_equal(seen, 450);
    size_t n = 0;
    assert_null(tm_graph_nodes_of_type(g, "aws:t150:kind", &n));
    assert_null(tm_graph_nodes_of_type(g, "", &n));
    tm_test_analysis_clean_up(&t);
    tm_buf_clean_up(&b);
}

/* What a node takes from its resource: the first member of each name (as cJSON's lookup finds it), whatever
 * the members' order, and from its type its group and whether it is a crown jewel, with types of different
 * groups interleaved (the builder remembers the last type's traits). */
static void test_node_traits(void **state) {
    (void)state;
    static const char *const resources[] = {
        "{'type':'aws:s3:bucket','id':'arn:aws:s3:::b1','name':'first','name':'second','account':'" A "',"
        "'region':'" R "','attrs':{},'policies':{},'links':[]}",
        "{'links':[],'policies':{},'attrs':{},'region':'" R "','account':'" A "',"
        "'id':'arn:aws:s3:::b2','type':'aws:s3:bucket'}",
        "{'id':'arn:aws:sqs:" R ":" A ":q1','type':'aws:sqs:queue','name':'q1','account':'" A "','region':'" R "',"
        "'attrs':{},'policies':{},'links':[]}",
        "{'id':'arn:aws:s3:::b3','type':'aws:s3:bucket','name':'b3','account':'" A "','region':'" R "',"
        "'attrs':{'website':{'index':'index.html'}},'policies':{},'links':[]}",
        "{'id':'arn:aws:iam::" A ":role/r1','type':'aws:iam:role','name':'r1','account':'" A "','region':'global',"
        "'attrs':{},'policies':{},'links':[]}",
        "{'id':'arn:aws:lambda:" R ":" A ":function:f1','type':'aws:lambda:function','name':'f1',"
        "'account':'" A "','region':'" R "','attrs':{},'policies':{},'links':[]}",
        NULL};
    struct tm_test_analysis t = {0};
    tm_test_analysis_parse_resources(&t, A, R, resources);
    const struct tm_graph *g = t.graph;
    const struct tm_graph_node *b1 = tm_graph_node(g, tm_graph_find(g, "arn:aws:s3:::b1"));
    const struct tm_graph_node *b2 = tm_graph_node(g, tm_graph_find(g, "arn:aws:s3:::b2"));
    const struct tm_graph_node *q1 = tm_graph_node(g, tm_graph_find(g, "arn:aws:sqs:" R ":" A ":q1"));
    const struct tm_graph_node *r1 = tm_graph_node(g, tm_graph_find(g, "arn:aws:iam::" A ":role/r1"));
    const struct tm_graph_node *f1 = tm_graph_node(g, tm_graph_find(g, "arn:aws:lambda:" R ":" A ":function:f1"));
    assert_non_null(b1);
    assert_non_null(b2);
    assert_non_null(q1);
    assert_non_null(r1);
    assert_non_null(f1);
    assert_string_equal(b1->name, "first");
    assert_string_equal(b2->name, "arn:aws:s3:::b2"); /* no name: the id */
    assert_string_equal(b2->type, "aws:s3:bucket");
    assert_string_equal(b2->account, A);
    assert_int_equal(b1->group, TM_GRAPH_GROUP_DATA);
    assert_int_equal(q1->group, TM_GRAPH_GROUP_DATA);
    assert_int_equal(r1->group, TM_GRAPH_GROUP_IDENTITY);
    assert_int_equal(r1->kind, TM_GRAPH_NODE_PRINCIPAL);
    assert_int_equal(f1->group, TM_GRAPH_GROUP_COMPUTE);
    assert_true(tm_graph_is_crown_jewel(g, tm_graph_find(g, "arn:aws:s3:::b1")));
    assert_true(tm_graph_is_crown_jewel(g, tm_graph_find(g, "arn:aws:s3:::b2")));
    assert_false(tm_graph_is_crown_jewel(g, tm_graph_find(g, "arn:aws:s3:::b3"))); /* a website */
    assert_false(tm_graph_is_crown_jewel(g, tm_graph_find(g, "arn:aws:lambda:" R ":" A ":function:f1")));
    tm_test_analysis_clean_up(&t);
}

static void test_links(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    const struct tm_graph_edge *e = tm_test_edge(g, FN, APP_ROLE, TM_GRAPH_EDGE_HOLDS_TOKEN_OF);
    assert_non_null(e);
    assert_string_equal(e->evidence.source, "link");
    assert_non_null(tm_test_edge(g, METHOD, FN, TM_GRAPH_EDGE_ROUTES_TO));
    /* The instance hands out the credentials of its instance profile, whose role they are. */
    e = tm_test_edge(g, INSTANCE, PROFILE, TM_GRAPH_EDGE_HOLDS_TOKEN_OF);
    assert_non_null(e);
    assert_non_null(strstr(e->evidence.text, "instance profile"));
    assert_non_null(tm_test_edge(g, PROFILE, WEB_ROLE, TM_GRAPH_EDGE_HOLDS_TOKEN_OF));
    assert_null(tm_test_edge(g, INSTANCE, WEB_ROLE, TM_GRAPH_EDGE_HOLDS_TOKEN_OF));
}

static void test_identity_edges(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    /* A grant on the objects of a bucket is an edge to the bucket; the partial Deny does not remove it. */
    const struct tm_graph_edge *e = tm_test_edge(g, APP_ROLE, DATA, TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_int_equal(e->n_actions, 1);
    assert_string_equal(e->actions[0], "s3:GetObject");
    assert_string_equal(e->evidence.source, "identity");
    assert_string_equal(e->evidence.holder, APP_ROLE);
    assert_string_equal(e->evidence.policy, "app");
    assert_int_equal(e->evidence.statement, 0);
    assert_string_equal(e->evidence.sid, "ReadData");
    assert_string_equal(e->evidence.text, "identity policy app statement 0 (Sid ReadData)");
    assert_non_null(strstr(e->statement, "data-bucket"));
    assert_false(e->flags & (TM_GRAPH_EDGE_UNKNOWN | TM_GRAPH_EDGE_TO_SET | TM_GRAPH_EDGE_CONDITIONAL));
    /* The SCP denies sqs:DeleteQueue: jobs keeps SendMessage only, audit gets no edge at all. */
    e = tm_test_edge(g, APP_ROLE, JOBS, TM_GRAPH_EDGE_CAN_WRITE);
    assert_non_null(e);
    assert_true(s_has_action(e, "sqs:SendMessage"));
    assert_false(s_has_action(e, "sqs:DeleteQueue"));
    assert_null(tm_test_edge(g, APP_ROLE, AUDIT, TM_GRAPH_EDGE_CAN_WRITE));
    /* The boundary caps alice: sqs:* on * gives nothing; sts:AssumeRole passes it. */
    uint32_t alice = tm_graph_find(g, ALICE);
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, alice, &n, NULL);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < out[i].n_actions; k++)
            assert_null(strstr(out[i].actions[k], "sqs:"));
    e = tm_test_edge(g, ALICE, ADMIN_ROLE, TM_GRAPH_EDGE_CAN_ASSUME);
    assert_non_null(e);
    assert_string_equal(e->evidence.source, "trust");
    /* Services a role trusts. */
    assert_non_null(tm_test_edge(g, "service:lambda.amazonaws.com", APP_ROLE, TM_GRAPH_EDGE_CAN_ASSUME));
    assert_non_null(tm_test_edge(g, "service:ec2.amazonaws.com", WEB_ROLE, TM_GRAPH_EDGE_CAN_ASSUME));
    assert_null(tm_test_edge(g, "service:ec2.amazonaws.com", APP_ROLE, TM_GRAPH_EDGE_CAN_ASSUME));
}

struct s_members {
    const struct tm_graph *g;
    char ids[16][256];
    size_t n;
};

static int s_collect(uint32_t node, void *user_data) {
    struct s_members *m = user_data;
    if (m->n < 16)
        snprintf(m->ids[m->n++], sizeof(m->ids[0]), "%s", tm_graph_node(m->g, node)->id);
    return 0;
}

static void test_sets(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    /* s3:ListBucket on "*": one edge to the set of S3 resources, expanded on demand. */
    const struct tm_graph_edge *e = tm_test_edge(g, APP_ROLE, "set:s3:*", TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_TO_SET);
    const struct tm_graph_node *set = tm_graph_node(g, e->to);
    assert_int_equal(set->kind, TM_GRAPH_NODE_SET);
    assert_string_equal(set->set_service, "s3");
    assert_string_equal(set->set_pattern, "*");
    struct s_members m = {.g = g};
    assert_int_equal(tm_graph_edge_members(g, e, s_collect, &m), TM_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.ids[0], DATA);
    assert_string_equal(m.ids[1], LOGS);
    /* A secret name pattern: only the matching secret. */
    e = tm_test_edge(g, APP_ROLE, "set:secretsmanager:arn:aws:secretsmanager:" R ":" A ":secret:db-*",
                     TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    m.n = 0;
    assert_int_equal(tm_graph_edge_members(g, e, s_collect, &m), TM_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.ids[0], DB_SECRET);
    /* The sets a node belongs to. */
    m.n = 0;
    assert_int_equal(tm_graph_sets_containing(g, tm_graph_find(g, DB_SECRET), s_collect, &m), TM_OK);
    assert_true(m.n >= 1);
    bool found = false;
    for (size_t i = 0; i < m.n; i++)
        found = found || strstr(m.ids[i], "secret:db-*") != NULL;
    assert_true(found);
    m.n = 0;
    assert_int_equal(tm_graph_sets_containing(g, tm_graph_find(g, OTHER_SECRET), s_collect, &m), TM_OK);
    for (size_t i = 0; i < m.n; i++)
        assert_null(strstr(m.ids[i], "secret:db-*"));
}

static void test_unknown_edges(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    /* Identity policies that could not be read: an unknown edge to everything, never no edge. */
    const struct tm_graph_edge *e =
        tm_test_edge(g, "arn:aws:iam::" A ":role/broken-role", "set:*:*", TM_GRAPH_EDGE_CAN_WRITE);
    assert_non_null(e);
    assert_true(e->flags & TM_GRAPH_EDGE_UNKNOWN);
    assert_true(tm_graph_node(g, tm_graph_find(g, "arn:aws:iam::" A ":role/broken-role"))->flags &
                TM_GRAPH_NODE_POLICY_UNKNOWN);
    bool unknown = false;
    assert_null(tm_graph_resource_policy(g, tm_graph_find(g, LOGS), &unknown));
    assert_true(unknown);
    assert_null(tm_graph_resource_policy(g, tm_graph_find(g, DATA), &unknown));
    assert_false(unknown);
}

static void test_entry_edges(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    const struct tm_graph_edge *e = tm_test_edge(g, "internet", METHOD, TM_GRAPH_EDGE_CAN_INVOKE);
    assert_non_null(e);
    assert_string_equal(e->evidence.source, "authorizer");
    assert_false(e->flags & (TM_GRAPH_EDGE_CONDITIONAL | TM_GRAPH_EDGE_UNKNOWN));
    e = tm_test_edge(g, "internet", INSTANCE, TM_GRAPH_EDGE_ROUTES_TO);
    assert_non_null(e);
    assert_int_equal(e->n_actions, 1);
    assert_string_equal(e->actions[0], "tcp/22");
    assert_non_null(strstr(e->evidence.text, "203.0.113.10"));
    /* Only the active key. */
    e = tm_test_edge(g, "internet", ALICE, TM_GRAPH_EDGE_HOLDS_TOKEN_OF);
    assert_non_null(e);
    assert_string_equal(e->actions[0], "AKIAEXAMPLEALICE0001");
    size_t n = 0, keys = 0;
    const uint32_t *in = tm_graph_in(g, tm_graph_find(g, ALICE), &n);
    for (size_t i = 0; i < n; i++)
        keys += tm_graph_edge(g, in[i])->kind == TM_GRAPH_EDGE_HOLDS_TOKEN_OF;
    assert_int_equal(keys, 1);
}

static void test_admin(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    const struct tm_graph_node *admin = tm_graph_node(g, tm_graph_find(g, ADMIN_ROLE));
    assert_true(admin->flags & TM_GRAPH_NODE_IS_ADMIN);
    assert_int_equal(admin->group, TM_GRAPH_GROUP_ADMIN);
    assert_non_null(tm_test_edge(g, ADMIN_ROLE, "admin:" A, TM_GRAPH_EDGE_CAN_ESCALATE_TO));
    assert_false(tm_graph_node(g, tm_graph_find(g, APP_ROLE))->flags & TM_GRAPH_NODE_IS_ADMIN);
    /* AdministratorAccess: one edge per kind to the set of everything, not one per resource. */
    size_t n = 0;
    tm_graph_out(g, tm_graph_find(g, ADMIN_ROLE), &n, NULL);
    assert_true(n < 10);
}

static void test_can(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    bool unknown = true;
    assert_int_equal(tm_graph_can(g, ALICE, "sts:AssumeRole", ADMIN_ROLE, NULL, &r, &unknown), TM_OK);
    assert_int_equal(r.decision, TM_IAM_ALLOWED);
    assert_false(unknown);
    tm_iam_result_clean_up(&r);
    tm_iam_result_init(&r);
    assert_int_equal(tm_graph_can(g, ALICE, "sqs:SendMessage", JOBS, NULL, &r, &unknown), TM_OK);
    assert_int_equal(r.decision, TM_IAM_IMPLICIT_DENY);
    assert_int_equal(r.reason, TM_IAM_REASON_BOUNDARY);
    tm_iam_result_clean_up(&r);
    tm_iam_result_init(&r);
    assert_int_equal(tm_graph_can(g, APP_ROLE, "s3:GetObject", DATA "/private/x", NULL, &r, &unknown), TM_OK);
    assert_int_equal(r.decision, TM_IAM_EXPLICIT_DENY);
    tm_iam_result_clean_up(&r);
    tm_iam_result_init(&r);
    assert_int_equal(tm_graph_can(g, APP_ROLE, "sqs:DeleteQueue", JOBS, NULL, &r, &unknown), TM_OK);
    assert_int_equal(r.decision, TM_IAM_EXPLICIT_DENY);
    tm_iam_result_clean_up(&r);
    /* A bucket whose policy could not be read: the answer says so. */
    tm_iam_result_init(&r);
    assert_int_equal(tm_graph_can(g, APP_ROLE, "s3:ListBucket", LOGS, NULL, &r, &unknown), TM_OK);
    assert_true(unknown);
    tm_iam_result_clean_up(&r);
    assert_int_equal(tm_graph_can(g, NULL, "s3:GetObject", DATA, NULL, &r, &unknown), TM_ERR_INVALID);
    struct tm_iam_policy_set set;
    assert_int_equal(tm_graph_principal_policies(g, tm_graph_find(g, ALICE), &set, &unknown), TM_OK);
    assert_int_equal(set.n_identity, 1);
    assert_int_equal(set.n_boundaries, 1);
    assert_int_equal(set.n_scp_levels, 2);
    assert_int_equal(tm_graph_principal_policies(g, tm_graph_find(g, DATA), &set, &unknown), TM_ERR_NOT_FOUND);
}

static void test_walk(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    struct tm_graph_walk w;
    assert_int_equal(tm_graph_walk_init(&w, g), TM_OK);
    uint32_t src = tm_graph_find(g, METHOD);
    struct tm_graph_walk_options o = {.expand_sets = true};
    assert_int_equal(tm_graph_walk_run(&w, &src, 1, &o), TM_OK);
    uint32_t edges[8], nodes[8];
    uint32_t len = tm_graph_walk_path(&w, tm_graph_find(g, DATA), edges, nodes, 8);
    assert_int_equal(len, 3);
    assert_int_equal(tm_graph_edge(g, edges[0])->kind, TM_GRAPH_EDGE_ROUTES_TO);
    assert_int_equal(tm_graph_edge(g, edges[1])->kind, TM_GRAPH_EDGE_HOLDS_TOKEN_OF);
    assert_int_equal(tm_graph_edge(g, edges[2])->kind, TM_GRAPH_EDGE_CAN_READ);
    assert_string_equal(tm_graph_node(g, nodes[0])->id, FN);
    assert_string_equal(tm_graph_node(g, nodes[1])->id, APP_ROLE);
    assert_string_equal(tm_graph_node(g, nodes[2])->id, DATA);
    /* Through the set: logs-bucket is reached by the ListBucket grant; the step arrives at the member. */
    len = tm_graph_walk_path(&w, tm_graph_find(g, LOGS), edges, nodes, 8);
    assert_int_equal(len, 3);
    assert_true(tm_graph_edge(g, edges[2])->flags & TM_GRAPH_EDGE_TO_SET);
    assert_string_equal(tm_graph_node(g, nodes[2])->id, LOGS);
    assert_int_equal(tm_graph_walk_path(&w, tm_graph_find(g, OTHER_SECRET), edges, nodes, 8), TM_GRAPH_NONE);
    assert_int_equal(tm_graph_walk_path(&w, src, edges, nodes, 8), 0);
    /* Depth limit, then a reverse walk (who reaches the secret) reusing the same state. */
    o.max_depth = 1;
    assert_int_equal(tm_graph_walk_run(&w, &src, 1, &o), TM_OK);
    assert_int_equal(w.n_reached, 2);
    uint32_t secret = tm_graph_find(g, DB_SECRET);
    struct tm_graph_walk_options rev = {.reverse = true, .expand_sets = true};
    assert_int_equal(tm_graph_walk_run(&w, &secret, 1, &rev), TM_OK);
    len = tm_graph_walk_path(&w, tm_graph_find(g, "internet"), edges, nodes, 8);
    assert_true(len != TM_GRAPH_NONE && len >= 3);
    /* Reverse paths read in the direction of the edges, starting at the node asked about. */
    assert_int_equal(tm_graph_edge(g, edges[0])->from, tm_graph_find(g, "internet"));
    assert_int_equal(nodes[len - 1], secret);
    assert_int_not_equal(tm_graph_walk_path(&w, tm_graph_find(g, APP_ROLE), edges, nodes, 8), TM_GRAPH_NONE);
    assert_int_equal(tm_graph_walk_path(&w, tm_graph_find(g, WEB_ROLE), edges, nodes, 8), TM_GRAPH_NONE);
    tm_graph_walk_clean_up(&w);

    uint32_t *path = NULL;
    size_t n = 0;
    assert_int_equal(tm_graph_shortest_path(g, tm_graph_find(g, "internet"), tm_graph_find(g, WEB_ROLE), 0, &path, &n),
                     TM_OK);
    assert_int_equal(n, 3);
    free(path);
    assert_int_equal(tm_graph_shortest_path(g, tm_graph_find(g, WEB_ROLE), tm_graph_find(g, "internet"), 0, &path, &n),
                     TM_ERR_NOT_FOUND);
    assert_null(path);
}

/* Every node and edge as text, to compare builds. */
static char *s_dump(const struct tm_graph *g) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    for (uint32_t i = 0; i < tm_graph_node_count(g); i++)
        assert_int_equal(tm_buf_appendf(&b, "node %s %s %u\n", tm_graph_node(g, i)->id, tm_graph_node(g, i)->type,
                                        tm_graph_node(g, i)->flags),
                         TM_OK);
    for (uint32_t i = 0; i < tm_graph_edge_count(g); i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, i);
        assert_int_equal(tm_buf_appendf(&b, "edge %s -%s-> %s %u [%s]", tm_graph_node(g, e->from)->id,
                                        tm_graph_edge_kind_name(e->kind), tm_graph_node(g, e->to)->id, e->flags,
                                        e->evidence.text ? e->evidence.text : ""),
                         TM_OK);
        for (size_t k = 0; k < e->n_actions; k++)
            assert_int_equal(tm_buf_appendf(&b, " %s", e->actions[k]), TM_OK);
        assert_int_equal(tm_buf_append_char(&b, '\n'), TM_OK);
    }
    return tm_buf_detach(&b);
}

static void test_deterministic(void **state) {
    struct tm_test_analysis *t = *state;
    struct tm_test_analysis again;
    tm_test_analysis_load(&again, "graph-basic.json");
    char *a = s_dump(t->graph), *b = s_dump(again.graph);
    assert_string_equal(a, b);
    /* Out-edges are sorted by (kind, destination). */
    for (uint32_t i = 0; i < tm_graph_node_count(t->graph); i++) {
        size_t n = 0;
        const struct tm_graph_edge *out = tm_graph_out(t->graph, i, &n, NULL);
        for (size_t k = 1; k < n; k++)
            assert_true(out[k - 1].kind < out[k].kind ||
                        (out[k - 1].kind == out[k].kind && out[k - 1].to <= out[k].to));
    }
    free(a);
    free(b);
    tm_test_analysis_clean_up(&again);
}

static void test_names(void **state) {
    (void)state;
    for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++)
        assert_int_equal(tm_graph_edge_kind_parse(tm_graph_edge_kind_name((enum tm_graph_edge_kind)k)), k);
    assert_int_equal(tm_graph_edge_kind_parse("can-fly"), TM_GRAPH_EDGE_KIND_COUNT);
    assert_int_equal(tm_graph_edge_kind_parse(NULL), TM_GRAPH_EDGE_KIND_COUNT);
    assert_string_equal(tm_graph_edge_kind_name(TM_GRAPH_EDGE_CAN_ESCALATE_TO), "can-escalate-to");
    assert_string_equal(tm_graph_group_name(TM_GRAPH_GROUP_DATA), "data");
    assert_string_equal(tm_graph_node_kind_name(TM_GRAPH_NODE_SET), "set");
}

static void test_build_errors(void **state) {
    (void)state;
    struct tm_graph *g = (struct tm_graph *)&g;
    char err[256];
    struct tm_graph_options o = {0};
    assert_int_equal(tm_graph_build(&g, NULL, &o, err, sizeof(err)), TM_ERR_INVALID);
    assert_null(g);
    assert_non_null(strstr(err, "action catalogue"));
    tm_graph_destroy(NULL);
    assert_null(tm_graph_node(NULL, 0));
    assert_int_equal(tm_graph_find(NULL, "internet"), TM_GRAPH_NONE);
}

struct s_scale {
    size_t nodes, edges, bytes;
};

static void s_scale_build(struct tm_test_analysis *cat, size_t n, struct s_scale *out) {
    struct tm_snapshot *snap = NULL;
    struct tm_synth_counts counts;
    assert_int_equal(tm_test_synth_snapshot(&snap, n, 42, &counts), TM_OK);
    assert_true(counts.roles > 0 && counts.public_buckets > 0 && counts.cross_account_roles > 0);
    struct tm_graph *g = NULL;
    char err[256];
    struct tm_graph_options o = {.actions = cat->actions, .privesc = cat->privesc};
    assert_int_equal(tm_graph_build(&g, snap, &o, err, sizeof(err)), TM_OK);
    out->nodes = tm_graph_node_count(g);
    out->edges = tm_graph_edge_count(g);
    out->bytes = tm_graph_memory_bytes(g);
    /* Walks over the whole graph run, forward from the internet and backwards from a secret. */
    struct tm_graph_walk w;
    assert_int_equal(tm_graph_walk_init(&w, g), TM_OK);
    uint32_t src = tm_graph_find(g, "internet");
    struct tm_graph_walk_options fwd = {.expand_sets = true};
    assert_int_equal(tm_graph_walk_run(&w, &src, 1, &fwd), TM_OK);
    assert_true(w.n_reached > counts.public_buckets);
    uint32_t secret = tm_graph_find(g, "arn:aws:secretsmanager:us-east-1:111122223333:secret:secret-000001-AbCdEf");
    assert_int_not_equal(secret, TM_GRAPH_NONE);
    struct tm_graph_walk_options rev = {.reverse = true, .expand_sets = true};
    assert_int_equal(tm_graph_walk_run(&w, &secret, 1, &rev), TM_OK);
    assert_true(w.n_reached > 1);
    tm_graph_walk_clean_up(&w);
    /* And so do the analyzers. */
    struct tm_analysis a = {.snap = snap,
                            .rules = cat->rules,
                            .actions = cat->actions,
                            .privesc = cat->privesc,
                            .graph = g,
                            .today = "2026-11-22"};
    struct tm_findings l;
    tm_findings_init(&l);
    assert_int_equal(tm_analyze(&a, &l), TM_OK);
    assert_true(l.count >= counts.public_buckets);
    tm_findings_clean_up(&l);
    tm_graph_destroy(g);
    tm_snapshot_destroy(snap);
}

/* The indices finalize builds, on a graph of a few thousand resources built in three rounds (nodes, edges, then
 * escalation edges merged into the sorted ones): edges sorted by source and never two the same in a row;
 * every node found by its id at its own index; each node's in-edges exactly the edges into it, ordered by
 * (kind, source, edge index). */
static void test_indices(void **state) {
    struct tm_test_analysis *t = *state;
    struct tm_snapshot *snap = NULL;
    struct tm_synth_counts counts;
    assert_int_equal(tm_test_synth_snapshot(&snap, 3000, 7, &counts), TM_OK);
    struct tm_graph *g = NULL;
    char err[256];
    struct tm_graph_options o = {.actions = t->actions, .privesc = t->privesc};
    assert_int_equal(tm_graph_build(&g, snap, &o, err, sizeof(err)), TM_OK);
    size_t n = tm_graph_node_count(g), m = tm_graph_edge_count(g);
    assert_true(m > 1000);
    size_t escalations = 0;
    for (uint32_t i = 0; i < m; i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, i);
        escalations += e->kind == TM_GRAPH_EDGE_CAN_ESCALATE_TO;
        if (i > 0) {
            const struct tm_graph_edge *p = tm_graph_edge(g, i - 1);
            assert_true(p->from <= e->from);
            assert_false(
                p->from == e->from && p->kind == e->kind && p->to == e->to && p->flags == e->flags &&
                p->n_actions == e->n_actions && p->evidence.statement == e->evidence.statement &&
                strcmp(p->evidence.text ? p->evidence.text : "", e->evidence.text ? e->evidence.text : "") == 0 &&
                strcmp(p->evidence.holder ? p->evidence.holder : "", e->evidence.holder ? e->evidence.holder : "") ==
                    0 &&
                strcmp(p->evidence.source ? p->evidence.source : "", e->evidence.source ? e->evidence.source : "") ==
                    0 &&
                strcmp(p->evidence.policy ? p->evidence.policy : "", e->evidence.policy ? e->evidence.policy : "") ==
                    0 &&
                (p->n_actions == 0 || strcmp(p->actions[0], e->actions[0]) == 0) &&
                strcmp(p->resource_pattern ? p->resource_pattern : "",
                       e->resource_pattern ? e->resource_pattern : "") == 0);
        }
    }
    assert_true(escalations > 0);
    size_t *seen = calloc(n, sizeof(*seen));
    assert_non_null(seen);
    size_t total_in = 0;
    for (uint32_t v = 0; v < n; v++) {
        const struct tm_graph_node *node = tm_graph_node(g, v);
        assert_int_equal(tm_graph_find(g, node->id), v);
        if (v > 0)
            assert_true(strcmp(tm_graph_node(g, v - 1)->id, node->id) < 0);
        size_t k = 0;
        const uint32_t *in = tm_graph_in(g, v, &k);
        total_in += k;
        for (size_t j = 0; j < k; j++) {
            const struct tm_graph_edge *e = tm_graph_edge(g, in[j]);
            assert_int_equal(e->to, v);
            seen[v]++;
            if (j > 0) {
                const struct tm_graph_edge *p = tm_graph_edge(g, in[j - 1]);
                assert_true(p->kind < e->kind || (p->kind == e->kind && p->from < e->from) ||
                            (p->kind == e->kind && p->from == e->from && in[j - 1] < in[j]));
            }
        }
    }
    assert_int_equal(total_in, m);
    for (uint32_t i = 0; i < m; i++)
        seen[tm_graph_edge(g, i)->to]--;
    for (uint32_t v = 0; v < n; v++)
        assert_int_equal(seen[v], 0);
    free(seen);
    tm_graph_destroy(g);
    tm_snapshot_destroy(snap);
}

/* A synthetic account of SCALE_LARGE resources builds and analyses, and the graph grows linearly: nodes, edges
 * and bytes per resource stay within 30% of a small account's. (Timing is the benchmark's job, not a test's.) */
static void test_scale_linear(void **state) {
    struct tm_test_analysis *t = *state;
    struct s_scale small, large;
    s_scale_build(t, SCALE_LARGE / 10, &small);
    s_scale_build(t, SCALE_LARGE, &large);
    double n_small = SCALE_LARGE / 10, n_large = SCALE_LARGE;
    assert_true(large.nodes / n_large <= 1.3 * small.nodes / n_small);
    assert_true(large.edges / n_large <= 1.3 * small.edges / n_small);
    assert_true(large.bytes / n_large <= 1.3 * small.bytes / n_small);
    assert_true(large.bytes / n_large < 4096);
}

/* Sets of roles by trust: a uniform sts:AssumeRole grant is one edge; its members are the roles trusting the
 * account. */
static void test_trust_sets(void **state) {
    struct tm_test_analysis *t = *state;
    const struct tm_graph *g = t->graph;
    const struct tm_graph_edge *e =
        tm_test_edge(g, ADMIN_ROLE, "set:iam:arn:aws:iam::" A ":role/*|trusts:account", TM_GRAPH_EDGE_CAN_ASSUME);
    assert_non_null(e);
    const struct tm_graph_node *set = tm_graph_node(g, e->to);
    assert_string_equal(set->set_trusts, "account");
    struct s_members m = {.g = g};
    assert_int_equal(tm_graph_edge_members(g, e, s_collect, &m), TM_OK);
    /* broken-role trusts the account; admin-role does too but is the principal itself. */
    bool broken = false;
    for (size_t i = 0; i < m.n; i++)
        broken = broken || strcmp(m.ids[i], "arn:aws:iam::" A ":role/broken-role") == 0;
    assert_true(broken);
    for (size_t i = 0; i < m.n; i++)
        assert_null(strstr(m.ids[i], "app-role"));
    m.n = 0;
    assert_int_equal(
        tm_graph_sets_containing(g, tm_graph_find(g, "arn:aws:iam::" A ":role/broken-role"), s_collect, &m), TM_OK);
    bool in_set = false;
    for (size_t i = 0; i < m.n; i++)
        in_set = in_set || strstr(m.ids[i], "|trusts:account") != NULL;
    assert_true(in_set);
}

/* tm_graph_edge_jewels says, for every edge, what asking tm_graph_edge_members, tm_graph_is_crown_jewel and
 * tm_graph_edge_touches_data member by member says. */
struct s_jewel_list {
    uint32_t node[4096];
    uint8_t access[4096];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static int s_jewel_seen(uint32_t node, bool read, bool write, void *user_data) {
    struct s_jewel_list *l = user_data;
    assert_true(read || write);
    assert_true(l->n < 4096);
    l->node[l->n] = node;
    l->access[l->n] = (uint8_t)((read ? 1 : 0) | (write ? 2 : 0));
    l->n++;
    return l->stop_after && l->n == l->stop_after ? 7 : 0;
}

struct s_member_check {
    const struct tm_graph *g;
    const struct tm_graph_edge *e;
    struct s_jewel_list *want;
};

static int s_jewel_by_hand(uint32_t node, void *user_data) {
    struct s_member_check *c = user_data;
    if (!tm_graph_is_crown_jewel(c->g, node) || tm_graph_node(c->g, node)->kind != TM_GRAPH_NODE_RESOURCE)
        return 0;
    bool read = tm_graph_edge_touches_data(c->g, c->e, node, false);
    bool write = tm_graph_edge_touches_data(c->g, c->e, node, true);
    return read || write ? s_jewel_seen(node, read, write, c->want) : 0;
}

static size_t s_check_edge_jewels(const struct tm_graph *g) {
    size_t with_jewels = 0;
    static struct s_jewel_list got, want;
    for (size_t i = 0; i < tm_graph_edge_count(g); i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, (uint32_t)i);
        got.n = want.n = 0;
        got.stop_after = want.stop_after = 0;
        struct s_member_check c = {g, e, &want};
        assert_int_equal(tm_graph_edge_members(g, e, s_jewel_by_hand, &c), TM_OK);
        assert_int_equal(tm_graph_edge_jewels(g, e, s_jewel_seen, &got), TM_OK);
        assert_int_equal(got.n, want.n);
        assert_memory_equal(got.node, want.node, got.n * sizeof(got.node[0]));
        assert_memory_equal(got.access, want.access, got.n);
        with_jewels += got.n > 0;
        if (got.n > 1) {
            /* A non-zero return stops the walk and is returned. */
            got.n = 0;
            got.stop_after = 1;
            assert_int_equal(tm_graph_edge_jewels(g, e, s_jewel_seen, &got), 7);
            assert_int_equal(got.n, 1);
        }
    }
    return with_jewels;
}

struct s_member_list {
    uint32_t node[8192];
    size_t n;
};

static int s_member_add(uint32_t node, void *user_data) {
    struct s_member_list *l = user_data;
    assert_true(l->n < 8192);
    l->node[l->n++] = node;
    return 0;
}

/* Edges tm_graph_edge_is_whole_set says hold all of their set have, set by set, the same members. Returns the
 * number of pairs of such edges compared. */
static size_t s_check_whole_sets(const struct tm_graph *g) {
    static struct s_member_list first, other;
    size_t pairs = 0;
    for (size_t i = 0; i < tm_graph_edge_count(g); i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, (uint32_t)i);
        if (!tm_graph_edge_is_whole_set(g, e))
            continue;
        assert_true(e->flags & TM_GRAPH_EDGE_TO_SET);
        first.n = 0;
        assert_int_equal(tm_graph_edge_members(g, e, s_member_add, &first), TM_OK);
        for (size_t k = i + 1; k < tm_graph_edge_count(g); k++) {
            const struct tm_graph_edge *f = tm_graph_edge(g, (uint32_t)k);
            if (f->to != e->to || !tm_graph_edge_is_whole_set(g, f))
                continue;
            other.n = 0;
            assert_int_equal(tm_graph_edge_members(g, f, s_member_add, &other), TM_OK);
            assert_int_equal(other.n, first.n);
            assert_memory_equal(other.node, first.node, first.n * sizeof(first.node[0]));
            pairs++;
        }
    }
    return pairs;
}

static void test_edge_jewels(void **state) {
    struct tm_test_analysis *t = *state;
    assert_true(s_check_edge_jewels(t->graph) > 0);
    /* And on a generated account, where sets hold many members. */
    struct tm_snapshot *snap = NULL;
    struct tm_synth_counts counts;
    assert_int_equal(tm_test_synth_snapshot(&snap, 3000, 7, &counts), TM_OK);
    struct tm_graph *g = NULL;
    struct tm_graph_options o = {.actions = t->actions, .privesc = t->privesc};
    assert_int_equal(tm_graph_build(&g, snap, &o, NULL, 0), TM_OK);
    assert_true(s_check_edge_jewels(g) > 10);
    assert_true(s_check_whole_sets(g) > 0);
    tm_graph_destroy(g);
    tm_snapshot_destroy(snap);
    assert_int_equal(tm_graph_edge_jewels(NULL, NULL, s_jewel_seen, NULL), TM_ERR_INVALID);
    assert_false(tm_graph_edge_is_whole_set(NULL, NULL));
    s_check_whole_sets(t->graph);
}

/* The builder's arena and its shared strings: equal texts give one pointer, however they were made. */
static void test_arena_strings(void **state) {
    (void)state;
    struct tm_graph *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    const char *a = tm__graph_strdup(g, "s3:GetObject");
    assert_non_null(a);
    assert_string_equal(a, "s3:GetObject");
    assert_ptr_equal(tm__graph_strndup(g, "s3:GetObjectAcl", 12), a);
    assert_ptr_equal(tm__graph_printf(g, "%s:%s", "s3", "GetObject"), a);
    const char *b = tm__graph_strndup(g, "s3:GetObjectAcl", 15);
    assert_ptr_not_equal(b, a);
    assert_string_equal(b, "s3:GetObjectAcl");
    assert_string_equal(a, "s3:GetObject"); /* the longer text did not overwrite the shorter's end */
    const char *empty = tm__graph_strdup(g, "");
    assert_non_null(empty);
    assert_string_equal(empty, "");
    assert_ptr_equal(tm__graph_strndup(g, "x", 0), empty);
    assert_null(tm__graph_strdup(g, NULL));
    /* Texts longer than the printing buffer, and texts that differ only past the first words. */
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *long1 = tm__graph_printf(g, "%s-%d", big, 1);
    const char *long2 = tm__graph_printf(g, "%s-%d", big, 2);
    assert_non_null(long1);
    assert_non_null(long2);
    assert_ptr_not_equal(long1, long2);
    assert_int_equal(strlen(long1), sizeof(big) + 1);
    assert_int_equal(long1[sizeof(big)], '1');
    char again[1100];
    snprintf(again, sizeof(again), "%s-1", big);
    assert_ptr_equal(tm__graph_strdup(g, again), long1);
    /* Enough distinct texts to grow the table many times: each still found, each still itself. */
    enum { N = 20000 };
    const char **made = calloc(N, sizeof(*made));
    assert_non_null(made);
    for (int i = 0; i < N; i++) {
        made[i] = tm__graph_printf(g, "arn:aws:s3:::bucket-%05d", i);
        assert_non_null(made[i]);
    }
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof(want), "arn:aws:s3:::bucket-%05d", i);
        assert_string_equal(made[i], want);
        assert_ptr_equal(tm__graph_strdup(g, want), made[i]);
    }
    /* Objects are aligned for pointers whatever came before; a big block has a chunk of its own. */
    for (size_t n = 1; n < 40; n++) {
        (void)tm__graph_strndup(g, "odd", n % 3);
        void *p = tm__graph_alloc(g, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % sizeof(void *), 0);
        memset(p, 0xab, n);
    }
    char *huge = tm__graph_alloc(g, 200000);
    assert_non_null(huge);
    memset(huge, 0, 200000);
    void *after = tm__graph_alloc(g, 16);
    assert_non_null(after);
    assert_true((char *)after + 16 <= huge || (char *)after >= huge + 200000);
    /* Once the table is dropped, strings are made (and shared) again from a new one. */
    tm__graph_strings_drop(g);
    const char *c = tm__graph_strdup(g, "s3:GetObject");
    assert_string_equal(c, "s3:GetObject");
    assert_ptr_equal(tm__graph_strdup(g, "s3:GetObject"), c);
    assert_string_equal(a, "s3:GetObject"); /* what was made before stays */
    free(made);
    tm_graph_destroy(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookup, s_setup, s_teardown),
        cmocka_unit_test(test_many_types),
        cmocka_unit_test(test_node_traits),
        cmocka_unit_test_setup_teardown(test_links, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_identity_edges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sets, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_edges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entry_edges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_admin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_can, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_walk, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trust_sets, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_scale_linear, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_indices, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_edge_jewels, s_setup, s_teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_build_errors),
        cmocka_unit_test(test_arena_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
