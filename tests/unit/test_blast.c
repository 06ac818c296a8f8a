/* Blast radius on the hand-made account tests/data/snapshots/blast-basic.json (blast_basic.py says what is planted).
 * Every expected path below was worked out by hand from the snapshot's policies and links, step by step; a path
 * is written "FROM -kind-> TO | ..." with node ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/blast.h"
#include "analyzers/blast_int.h"
#include "core/buf.h"
#include "core/json.h"
#include "tests/support/analysis_fixture.h"
#include "tests/support/synth_snapshot.h"

#define A "111122223333"
#define R "eu-west-1"
#define METHOD "arn:aws:execute-api:" R ":" A ":a1/prod/GET/orders"
#define ORDERS_FN "arn:aws:lambda:" R ":" A ":function:orders-api"
#define WORKER_FN "arn:aws:lambda:" R ":" A ":function:worker"
#define ORDERS_ROLE "arn:aws:iam::" A ":role/orders-role"
#define WORKER_ROLE "arn:aws:iam::" A ":role/worker-role"
#define AUTOMATION "arn:aws:iam::" A ":role/automation"
#define AUTO_POLICY "arn:aws:iam::" A ":policy/automation-policy"
#define ANALYTICS "arn:aws:iam::" A ":role/analytics"
#define PARTNER_ROLE "arn:aws:iam::" A ":role/partner-role"
#define DEPLOYER "arn:aws:iam::" A ":user/deployer"
#define INTERN "arn:aws:iam::" A ":user/intern"
#define ORDERS_DATA "arn:aws:s3:::orders-data"
#define LOGS "arn:aws:s3:::logs-bucket"
#define VAULT "arn:aws:s3:::vault-bucket"
#define MYSTERY "arn:aws:s3:::mystery-bucket"
#define PARTNER_SHARE "arn:aws:s3:::partner-share"
#define JOBS "arn:aws:sqs:" R ":" A ":jobs"
#define STRIPE "arn:aws:secretsmanager:" R ":" A ":secret:stripe-key-AbCdEf"
#define KEY "arn:aws:kms:" R ":" A ":key/0a1b2c3d-0000-4000-8000-000000000001"
#define ADMIN "admin:" A

struct s_fix {
    struct tm_test_analysis t;
    struct tm_blast *b;
    struct tm_blast_source src;
    char path[4096];
};

static int s_setup(void **state) {
    struct s_fix *f = calloc(1, sizeof(*f));
    tm_test_analysis_load(&f->t, "blast-basic.json");
    assert_int_equal(tm_blast_new(&f->b, f->t.graph), TM_OK);
    *state = f;
    return 0;
}

static int s_teardown(void **state) {
    struct s_fix *f = *state;
    tm_blast_destroy(f->b);
    tm_test_analysis_clean_up(&f->t);
    free(f);
    return 0;
}

static void s_run(struct s_fix *f, const char *from, uint32_t depth) {
    char err[512];
    if (tm_blast_resolve(&f->src, f->t.graph, from, err, sizeof(err)))
        fail_msg("resolve %s: %s", from, err);
    struct tm_blast_options o = {.max_depth = depth};
    assert_int_equal(tm_blast_run(f->b, &f->src, &o), TM_OK);
}

static const struct tm_blast_hit *s_hit(struct s_fix *f, const char *id) {
    uint32_t n = tm_graph_find(f->t.graph, id);
    return n == TM_GRAPH_NONE ? NULL : tm_blast_find(f->b, n);
}

/* The path to a node as "FROM -kind-> TO | ...". */
static const char *s_path(struct s_fix *f, const char *id) {
    const struct tm_blast_hit *h = s_hit(f, id);
    if (!h)
        return "(not reached)";
    struct tm_blast_step steps[16];
    size_t n = tm_blast_path(f->b, h, steps, 16);
    assert_true(n <= 16);
    assert_int_equal(n, h->distance);
    size_t len = 0;
    f->path[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const struct tm_graph_edge *e = tm_graph_edge(f->t.graph, steps[i].edge);
        len += (size_t)snprintf(f->path + len, sizeof(f->path) - len, "%s%s -%s-> %s", i ? " | " : "",
                                tm_graph_node(f->t.graph, steps[i].from)->id, tm_graph_edge_kind_name(e->kind),
                                tm_graph_node(f->t.graph, steps[i].to)->id);
        /* A step's edge leaves its `from` node and arrives at `to` (or at a set holding it). */
        assert_int_equal(e->from, steps[i].from);
        if (!(e->flags & TM_GRAPH_EDGE_TO_SET))
            assert_int_equal(e->to, steps[i].to);
        if (i)
            assert_int_equal(steps[i - 1].to, steps[i].from);
    }
    return f->path;
}

static const struct tm_graph_edge *s_step_edge(struct s_fix *f, const char *id, size_t i) {
    struct tm_blast_step steps[16];
    size_t n = tm_blast_path(f->b, s_hit(f, id), steps, 16);
    assert_true(i < n);
    return tm_graph_edge(f->t.graph, steps[i].edge);
}

/* internet -> GET /orders (no authorisation) -> orders-api -> orders-role -> the role's data. */
static void test_internet_through_function(void **state) {
    struct s_fix *f = *state;
    s_run(f, "internet", 0);
    assert_string_equal(s_path(f, ORDERS_DATA),
                        "internet -can-invoke-> " METHOD " | " METHOD " -routes-to-> " ORDERS_FN " | " ORDERS_FN
                        " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " ORDERS_DATA);
    const struct tm_blast_hit *h = s_hit(f, ORDERS_DATA);
    assert_int_equal(h->group, TM_GRAPH_GROUP_DATA);
    assert_int_equal(h->access, TM_BLAST_READ);
    assert_false(h->unknown);
    assert_false(h->conditional);
    /* The actions at the last step and the statement that grants them. */
    const struct tm_graph_edge *e = s_step_edge(f, ORDERS_DATA, 3);
    assert_int_equal(e->n_actions, 1);
    assert_string_equal(e->actions[0], "s3:GetObject");
    assert_string_equal(e->evidence.text, "identity policy orders statement 0 (Sid ReadOrders)");
    assert_string_equal(s_path(f, STRIPE),
                        "internet -can-invoke-> " METHOD " | " METHOD " -routes-to-> " ORDERS_FN " | " ORDERS_FN
                        " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " STRIPE);
    assert_string_equal(s_path(f, KEY),
                        "internet -can-invoke-> " METHOD " | " METHOD " -routes-to-> " ORDERS_FN " | " ORDERS_FN
                        " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " KEY);
    assert_int_equal(s_hit(f, ORDERS_FN)->group, TM_GRAPH_GROUP_COMPUTE);
    assert_int_equal(s_hit(f, ORDERS_FN)->access, TM_BLAST_CONTROL);
    assert_int_equal(s_hit(f, ORDERS_ROLE)->group, TM_GRAPH_GROUP_IDENTITY);
    /* The leaked access key of deployer leads to administrator in four steps. */
    assert_string_equal(s_path(f, ADMIN),
                        "internet -holds-token-of-> " DEPLOYER " | " DEPLOYER " -can-assume-> " AUTOMATION
                        " | " AUTOMATION " -can-escalate-to-> " AUTO_POLICY " | " AUTO_POLICY
                        " -can-escalate-to-> " ADMIN);
    assert_int_equal(s_hit(f, ADMIN)->group, TM_GRAPH_GROUP_ADMIN);
    /* The bucket whose policy could not be read: reached, but only through the unknown fact. */
    assert_string_equal(s_path(f, MYSTERY), "internet -can-read-> " MYSTERY);
    assert_true(s_hit(f, MYSTERY)->unknown);
    /* Not from the internet: the vault, what only the partner or the roles reach. */
    assert_null(s_hit(f, VAULT));
    assert_null(s_hit(f, PARTNER_SHARE));
    assert_null(s_hit(f, WORKER_FN));
    assert_null(s_hit(f, LOGS));
    assert_null(s_hit(f, "internet"));
    struct tm_blast_summary sum;
    tm_blast_summarize(f->b, &sum);
    assert_int_equal(sum.by_group[TM_GRAPH_GROUP_ADMIN], 1);
    assert_int_equal(sum.by_group[TM_GRAPH_GROUP_DATA], 4); /* orders-data, stripe-key, orders-key, mystery */
    assert_int_equal(sum.by_group[TM_GRAPH_GROUP_COMPUTE], 2);
    assert_int_equal(sum.unknown, 1);
    assert_int_equal(sum.total,
                     sum.by_group[0] + sum.by_group[1] + sum.by_group[2] + sum.by_group[3] + sum.by_group[4]);
}

/* An access key id names its user: access key -> user -> assume role -> administrator via CreatePolicyVersion. */
static void test_key_to_admin(void **state) {
    struct s_fix *f = *state;
    s_run(f, "AKIAEXAMPLEDEPLOY001", 0);
    assert_true(f->src.asked_found);
    assert_int_equal(f->src.n_nodes, 1);
    assert_string_equal(tm_graph_node(f->t.graph, f->src.nodes[0])->id, DEPLOYER);
    assert_string_equal(s_path(f, ADMIN),
                        DEPLOYER " -can-assume-> " AUTOMATION " | " AUTOMATION " -can-escalate-to-> " AUTO_POLICY
                                 " | " AUTO_POLICY " -can-escalate-to-> " ADMIN);
    const struct tm_graph_edge *e = s_step_edge(f, ADMIN, 1);
    assert_int_equal(e->n_actions, 1);
    assert_string_equal(e->actions[0], "iam:CreatePolicyVersion");
    assert_string_equal(e->evidence.policy, "iam-create-policy-version");
    e = s_step_edge(f, ADMIN, 0);
    assert_string_equal(e->evidence.source, "trust");
    assert_string_equal(s_path(f, AUTOMATION), DEPLOYER " -can-assume-> " AUTOMATION);
    assert_int_equal(s_hit(f, AUTOMATION)->access, TM_BLAST_CONTROL);
    /* Nothing of the data: deployer's only way is administrator (which stands for all of it). */
    assert_null(s_hit(f, ORDERS_DATA));
    struct tm_blast_summary sum;
    tm_blast_summarize(f->b, &sum);
    assert_int_equal(sum.total, 3); /* automation, automation-policy, administrator */
}

/* s3:* on "*" is one edge to the set of buckets; the walk expands it to the members, and the SCP that denies
 * vault-bucket cuts that one out. */
static void test_set_and_scp(void **state) {
    struct s_fix *f = *state;
    s_run(f, ANALYTICS, 0);
    static const char *const reached[] = {LOGS, MYSTERY, ORDERS_DATA, PARTNER_SHARE};
    for (size_t i = 0; i < 4; i++) {
        char want[512];
        snprintf(want, sizeof(want), ANALYTICS " -can-read-> %s", reached[i]);
        assert_string_equal(s_path(f, reached[i]), want);
        const struct tm_graph_edge *e = s_step_edge(f, reached[i], 0);
        assert_true(e->flags & TM_GRAPH_EDGE_TO_SET);
        assert_string_equal(tm_graph_node(f->t.graph, e->to)->id, "set:s3:*");
        /* s3:* reads and writes: the strongest access held is write. */
        assert_int_equal(s_hit(f, reached[i])->access, TM_BLAST_WRITE);
        assert_false(s_hit(f, reached[i])->unknown);
    }
    assert_null(s_hit(f, VAULT));
    struct tm_blast_summary sum;
    tm_blast_summarize(f->b, &sum);
    assert_int_equal(sum.total, 4);
}

/* The boundary allows only reading: intern's PutObject grant gives no write. */
static void test_boundary(void **state) {
    struct s_fix *f = *state;
    s_run(f, INTERN, 0);
    assert_string_equal(s_path(f, LOGS), INTERN " -can-read-> " LOGS);
    assert_int_equal(s_hit(f, LOGS)->access, TM_BLAST_READ);
    struct tm_blast_summary sum;
    tm_blast_summarize(f->b, &sum);
    assert_int_equal(sum.total, 1);
}

/* Account 999999999999: its bucket-policy read, the role it may assume and, through that role's message to a
 * queue, the queue's consumer and its credentials; also what any AWS account and the internet reach, but not
 * the leaked key of deployer. */
static void test_cross_account(void **state) {
    struct s_fix *f = *state;
    s_run(f, "account:999999999999", 0);
    assert_true(f->src.asked_found);
    assert_int_equal(f->src.n_nodes, 3);
    assert_true(f->src.skip_key_edges);
    assert_string_equal(s_path(f, PARTNER_SHARE), "account:999999999999 -can-read-> " PARTNER_SHARE);
    assert_string_equal(s_path(f, PARTNER_ROLE), "account:999999999999 -can-assume-> " PARTNER_ROLE);
    assert_string_equal(s_path(f, JOBS),
                        "account:999999999999 -can-assume-> " PARTNER_ROLE " | " PARTNER_ROLE " -can-write-> " JOBS);
    assert_int_equal(s_hit(f, JOBS)->access, TM_BLAST_WRITE);
    /* Writing to the queue runs its consumer: the worker's credentials follow. */
    assert_string_equal(s_path(f, WORKER_ROLE),
                        "account:999999999999 -can-assume-> " PARTNER_ROLE " | " PARTNER_ROLE " -can-write-> " JOBS
                        " | " JOBS " -triggers-> " WORKER_FN " | " WORKER_FN " -holds-token-of-> " WORKER_ROLE);
    /* orders-data: read in four steps through the public API, written in five through the queue; the path
     * shown is the shortest, the access the strongest. */
    assert_string_equal(s_path(f, ORDERS_DATA),
                        "internet -can-invoke-> " METHOD " | " METHOD " -routes-to-> " ORDERS_FN " | " ORDERS_FN
                        " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " ORDERS_DATA);
    assert_int_equal(s_hit(f, ORDERS_DATA)->access, TM_BLAST_WRITE);
    assert_null(s_hit(f, DEPLOYER));
    assert_null(s_hit(f, ADMIN));
    /* An account no policy names: only what any account and the internet reach. */
    s_run(f, "account:777777777777", 0);
    assert_false(f->src.asked_found);
    assert_int_equal(f->src.n_nodes, 2);
    assert_null(s_hit(f, PARTNER_SHARE));
    assert_non_null(s_hit(f, ORDERS_DATA));
    assert_null(s_hit(f, DEPLOYER));
}

/* Reading a queue does not run its consumer; passing a role does not make you the role. */
static void test_read_and_pass_stop(void **state) {
    struct s_fix *f = *state;
    s_run(f, "arn:aws:iam::" A ":role/reader", 0);
    assert_string_equal(s_path(f, JOBS), "arn:aws:iam::" A ":role/reader -can-read-> " JOBS);
    assert_null(s_hit(f, WORKER_FN));
    assert_null(s_hit(f, WORKER_ROLE));
    s_run(f, "arn:aws:iam::" A ":role/ci", 0);
    const struct tm_blast_hit *h = s_hit(f, ORDERS_ROLE);
    assert_non_null(h);
    assert_int_equal(h->access, TM_BLAST_PASS);
    assert_string_equal(s_path(f, ORDERS_ROLE), "arn:aws:iam::" A ":role/ci -can-pass-> " ORDERS_ROLE);
    assert_null(s_hit(f, ORDERS_DATA));
    struct tm_blast_summary sum;
    tm_blast_summarize(f->b, &sum);
    /* Every other role of the account: analytics, automation, office, orders-role, partner-role, reader,
     * worker-role. */
    assert_int_equal(sum.total, 7);
    assert_int_equal(sum.by_group[TM_GRAPH_GROUP_IDENTITY], 7);
}

static void test_conditional(void **state) {
    struct s_fix *f = *state;
    s_run(f, "arn:aws:iam::" A ":role/office", 0);
    const struct tm_blast_hit *h = s_hit(f, LOGS);
    assert_non_null(h);
    assert_true(h->conditional);
    assert_false(h->unknown);
    assert_non_null(strstr(s_step_edge(f, LOGS, 0)->conditions, "aws:SourceIp"));
}

/* A resource stands for its credentials; a role session for its role; a depth limit stops the walk. */
static void test_sources_and_depth(void **state) {
    struct s_fix *f = *state;
    s_run(f, ORDERS_FN, 0);
    assert_string_equal(s_path(f, ORDERS_DATA),
                        ORDERS_FN " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " ORDERS_DATA);
    s_run(f, "arn:aws:sts::" A ":assumed-role/orders-role/incident-42", 0);
    assert_string_equal(tm_graph_node(f->t.graph, f->src.nodes[0])->id, ORDERS_ROLE);
    assert_string_equal(s_path(f, STRIPE), ORDERS_ROLE " -can-read-> " STRIPE);
    s_run(f, "internet", 2);
    assert_non_null(s_hit(f, ORDERS_FN));
    assert_null(s_hit(f, ORDERS_ROLE));
    assert_null(s_hit(f, ORDERS_DATA));
    assert_non_null(s_hit(f, AUTOMATION));
    assert_null(s_hit(f, ADMIN));
    size_t n = 0;
    const struct tm_blast_hit *hits = tm_blast_hits(f->b, &n);
    for (size_t i = 0; i < n; i++)
        assert_true(hits[i].distance <= 2);
}

static void test_resolve_errors(void **state) {
    struct s_fix *f = *state;
    const struct tm_graph *g = f->t.graph;
    struct tm_blast_source src;
    char err[512];
    assert_int_equal(tm_blast_resolve(&src, g, "arn:aws:iam::" A ":role/ordres-role", err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    assert_string_equal(err, "'arn:aws:iam::" A ":role/ordres-role' is not in the snapshot; did you mean '" ORDERS_ROLE
                             "'?");
    assert_int_equal(tm_blast_resolve(&src, g, "orders-role", err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "did you mean '" ORDERS_ROLE "'"));
    assert_int_equal(tm_blast_resolve(&src, g, "completely-unrelated-thing-xyz", err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_null(strstr(err, "did you mean"));
    assert_int_equal(tm_blast_resolve(&src, g, "ASIAQDEMOTMSCAN00001", err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "temporary access key"));
    assert_int_equal(tm_blast_resolve(&src, g, "AKIANOSUCHKEY0000001", err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "belongs to no user"));
    assert_int_equal(tm_blast_resolve(&src, g, "account:12", err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "12 digits"));
    assert_int_equal(tm_blast_resolve(&src, g, "", err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_blast_resolve(&src, g, NULL, NULL, 0), TM_ERR_INVALID);
    /* Unicode and oversized input are answered, not crashed on. */
    assert_int_equal(tm_blast_resolve(&src, g, "arn:aws:iam::" A ":role/\xc3\xa9t\xc3\xa9", err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    char big[5000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(tm_blast_resolve(&src, g, big, err, sizeof(err)), TM_ERR_NOT_FOUND);
    /* A run needs a source. */
    memset(&src, 0, sizeof(src));
    assert_int_equal(tm_blast_run(f->b, &src, NULL), TM_ERR_INVALID);
    src.n_nodes = 1;
    src.nodes[0] = (uint32_t)tm_graph_node_count(g);
    assert_int_equal(tm_blast_run(f->b, &src, NULL), TM_ERR_INVALID);
    tm_blast_destroy(NULL);
    struct tm_blast *b = (struct tm_blast *)&b;
    assert_int_equal(tm_blast_new(&b, NULL), TM_ERR_INVALID);
    assert_null(b);
}

static char *s_render(struct s_fix *f, enum tm_blast_format fmt, size_t limit) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    struct tm_blast_write_options o = {.format = fmt, .limit = limit};
    assert_int_equal(tm_blast_write(&b, f->b, &f->src, &o), TM_OK);
    return tm_buf_detach(&b);
}

static void test_outputs(void **state) {
    struct s_fix *f = *state;
    s_run(f, "AKIAEXAMPLEDEPLOY001", 0);
    char *text = s_render(f, TM_BLAST_TEXT, 0);
    assert_non_null(strstr(text, "Blast radius of user deployer (asked as AKIAEXAMPLEDEPLOY001)"));
    assert_non_null(strstr(text,
                           "becomes administrator of account " A
                           " (full control) in 3 steps, via iam:CreatePolicyVersion (iam-create-policy-version)"));
    assert_null(strstr(text, "bucket orders-data"));
    assert_non_null(strstr(text, "role automation --can-escalate-to [iam:CreatePolicyVersion]--> managed policy "
                                 "automation-policy"));
    assert_non_null(strstr(text, "  - 2 identities: acts as 1, controls 1, writes 1, reads 1: role automation, managed "
                                 "policy automation-policy"));
    assert_non_null(strstr(text, "privilege escalation iam-create-policy-version"));
    free(text);

    s_run(f, "internet", 0);
    char *json = s_render(f, TM_BLAST_JSON, 0);
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "schema")->valuestring, "tmscan.blast/2");
    const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reached"), "data");
    assert_int_equal(cJSON_GetArraySize(data), 4);
    bool found = false;
    for (const cJSON *h = data->child; h; h = h->next) {
        if (strcmp(cJSON_GetObjectItem(h, "id")->valuestring, ORDERS_DATA) != 0)
            continue;
        found = true;
        assert_int_equal(cJSON_GetObjectItem(h, "distance")->valueint, 4);
        const cJSON *path = cJSON_GetObjectItem(h, "path");
        assert_int_equal(cJSON_GetArraySize(path), 4);
        const cJSON *last = cJSON_GetArrayItem(path, 3);
        assert_string_equal(cJSON_GetArrayItem(last, 1)->valuestring, ORDERS_DATA);
        const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "edges"), cJSON_GetArrayItem(last, 0)->valueint);
        assert_string_equal(cJSON_GetObjectItem(e, "kind")->valuestring, "can-read");
        assert_string_equal(cJSON_GetObjectItem(e, "from")->valuestring, ORDERS_ROLE);
        assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "actions"), 0)->valuestring, "s3:GetObject");
        assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "evidence"), "statement")->valueint, 0);
    }
    assert_true(found);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "unknown")->valueint, 1);
    cJSON_Delete(doc);
    /* Byte-identical on a second walk, on a fresh engine too. */
    char *again = s_render(f, TM_BLAST_JSON, 0);
    assert_string_equal(json, again);
    free(again);
    struct tm_blast *fresh = NULL;
    assert_int_equal(tm_blast_new(&fresh, f->t.graph), TM_OK);
    assert_int_equal(tm_blast_run(fresh, &f->src, NULL), TM_OK);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_JSON};
    assert_int_equal(tm_blast_write(&b, fresh, &f->src, &o), TM_OK);
    assert_string_equal(json, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    tm_blast_destroy(fresh);
    free(json);

    char *dot = s_render(f, TM_BLAST_DOT, 0);
    assert_true(strncmp(dot, "digraph blast {", 15) == 0);
    assert_non_null(strstr(dot, "\"" ORDERS_ROLE "\" -> \"" ORDERS_DATA "\" [label=\"can-read\\ns3:GetObject\"]"));
    assert_non_null(strstr(dot, "\"internet\" -> \"" MYSTERY "\" [label=\"can-read\", style=dashed"));
    assert_non_null(strstr(dot, "subgraph cluster_admin"));
    free(dot);

    /* The text limit counts what it leaves out. */
    s_run(f, ANALYTICS, 0);
    text = s_render(f, TM_BLAST_TEXT, 1);
    assert_non_null(strstr(text, "... and 3 more"));
    free(text);

    enum tm_blast_format fmt;
    assert_int_equal(tm_blast_format_parse("dot", &fmt), TM_OK);
    assert_int_equal(fmt, TM_BLAST_DOT);
    assert_int_equal(tm_blast_format_parse("svg", &fmt), TM_ERR_INVALID);
    assert_int_equal(tm_blast_format_parse(NULL, &fmt), TM_ERR_INVALID);
}

/* The JSON lists each edge once and gives each node's path as [edge number, node]: every path read back from it
 * must be the walk's own, for every kind of walk. */
static void test_json_paths(void **state) {
    struct s_fix *f = *state;
    static const char *const from[] = {"internet",
                                       ANALYTICS,
                                       "account:999999999999",
                                       "AKIAEXAMPLEDEPLOY001",
                                       "arn:aws:iam::" A ":role/office",
                                       "arn:aws:iam::" A ":role/ci",
                                       INTERN};
    for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
        s_run(f, from[i], 0);
        char *json = s_render(f, TM_BLAST_JSON, 0);
        cJSON *doc = cJSON_Parse(json);
        assert_non_null(doc);
        const cJSON *edges = cJSON_GetObjectItem(doc, "edges");
        size_t n = 0, seen = 0;
        (void)tm_blast_hits(f->b, &n);
        const cJSON *groups = cJSON_GetObjectItem(doc, "reached");
        for (const cJSON *grp = groups->child; grp; grp = grp->next)
            for (const cJSON *h = grp->child; h; h = h->next, seen++) {
                uint32_t node = tm_graph_find(f->t.graph, cJSON_GetObjectItem(h, "id")->valuestring);
                const struct tm_blast_hit *hit = tm_blast_find(f->b, node);
                assert_non_null(hit);
                struct tm_blast_step steps[16];
                size_t len = tm_blast_path(f->b, hit, steps, 16);
                const cJSON *path = cJSON_GetObjectItem(h, "path");
                assert_int_equal(cJSON_GetArraySize(path), len);
                for (size_t k = 0; k < len; k++) {
                    const cJSON *st = cJSON_GetArrayItem(path, (int)k);
                    const cJSON *e = cJSON_GetArrayItem(edges, cJSON_GetArrayItem(st, 0)->valueint);
                    const struct tm_graph_edge *ge = tm_graph_edge(f->t.graph, steps[k].edge);
                    assert_int_equal(cJSON_GetObjectItem(e, "index")->valueint, cJSON_GetArrayItem(st, 0)->valueint);
                    assert_string_equal(cJSON_GetObjectItem(e, "from")->valuestring,
                                        tm_graph_node(f->t.graph, steps[k].from)->id);
                    assert_string_equal(cJSON_GetObjectItem(e, "to")->valuestring,
                                        tm_graph_node(f->t.graph, ge->to)->id);
                    assert_string_equal(cJSON_GetObjectItem(e, "kind")->valuestring, tm_graph_edge_kind_name(ge->kind));
                    assert_string_equal(cJSON_GetArrayItem(st, 1)->valuestring,
                                        tm_graph_node(f->t.graph, steps[k].to)->id);
                }
            }
        assert_int_equal(seen, n);
        cJSON_Delete(doc);
        free(json);
    }
}

/* Names with quotes, backslashes, control characters and UTF-8 come out as valid JSON, unchanged once parsed. */
static void test_json_escapes(void **state) {
    (void)state;
    static const char snap[] =
        "{\"schema\":\"tmscan.snapshot/1\",\"tool\":{\"name\":\"tmscan\",\"version\":\"0.1.0\"},"
        "\"scope\":{\"provider\":\"aws\",\"accounts\":[\"111122223333\"],\"regions\":[\"eu-west-1\"],"
        "\"services\":[\"iam\",\"s3\"]},\"errors\":[],\"resources\":["
        "{\"id\":\"arn:aws:iam::111122223333:role/r\",\"type\":\"aws:iam:role\",\"name\":\"r\","
        "\"account\":\"111122223333\",\"region\":\"global\",\"attrs\":{\"path\":\"/\"},"
        "\"policies\":{\"trust\":null,\"identity\":[{\"kind\":\"inline\",\"name\":\"all\",\"document\":"
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"*\"}]}}]},\"links\":[]},"
        "{\"id\":\"arn:aws:s3:::weird\",\"type\":\"aws:s3:bucket\","
        "\"name\":\"a \\\"quote\\\" a \\\\ backslash\\n a line \\u0001 and \\u00e9t\\u00e9\","
        "\"account\":\"111122223333\",\"region\":\"eu-west-1\",\"attrs\":{},\"policies\":{\"resource\":null},"
        "\"links\":[]}]}";
    struct tm_test_analysis t;
    tm_test_analysis_parse(&t, snap);
    struct tm_blast *b = NULL;
    struct tm_blast_source src;
    char err[256];
    assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
    assert_int_equal(tm_blast_resolve(&src, t.graph, "arn:aws:iam::111122223333:role/r", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    struct tm_buf out;
    tm_buf_init(&out, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_JSON};
    assert_int_equal(tm_blast_write(&out, b, &src, &o), TM_OK);
    cJSON *doc = cJSON_Parse(tm_buf_str(&out));
    assert_non_null(doc);
    const cJSON *h = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reached"), "data"), 0);
    assert_string_equal(cJSON_GetObjectItem(h, "name")->valuestring,
                        "a \"quote\" a \\ backslash\n a line \001 and \xc3\xa9t\xc3\xa9");
    assert_non_null(strstr(tm_buf_str(&out), "\\u0001"));
    cJSON_Delete(doc);
    tm_buf_clean_up(&out);
    tm_blast_destroy(b);
    tm_test_analysis_clean_up(&t);
}

/* One engine, many walks: each walk's answer is what a fresh engine gives. */
static void test_reuse(void **state) {
    struct s_fix *f = *state;
    static const char *const from[] = {"internet", ANALYTICS, "account:999999999999", INTERN, "internet"};
    size_t first_total = 0;
    for (size_t i = 0; i < 5; i++) {
        s_run(f, from[i], 0);
        struct tm_blast_summary sum;
        tm_blast_summarize(f->b, &sum);
        if (i == 0)
            first_total = sum.total;
        if (i == 4)
            assert_int_equal(sum.total, first_total);
    }
    assert_string_equal(s_path(f, ORDERS_DATA),
                        "internet -can-invoke-> " METHOD " | " METHOD " -routes-to-> " ORDERS_FN " | " ORDERS_FN
                        " -holds-token-of-> " ORDERS_ROLE " | " ORDERS_ROLE " -can-read-> " ORDERS_DATA);
}

/* tests/data/snapshots/blast-memo.json: member tests are remembered by the policies that decide them, so
 * administrators share answers; but admin-b and admin-f each deny one bucket, and the key that names admin-a only is
 * not anyone else's, whatever order they are asked in, on one engine. */
static const char *s_memo_ids(struct tm_test_analysis *t, struct tm_blast *b, const char *role, char *buf, size_t len) {
    char from[128], err[256];
    snprintf(from, sizeof(from), "arn:aws:iam::" A ":role/%s", role);
    struct tm_blast_source src;
    if (tm_blast_resolve(&src, t->graph, from, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    size_t n = 0, used = 0;
    const struct tm_blast_hit *hits = tm_blast_hits(b, &n);
    buf[0] = '\0';
    /* Sorted by node: node order is id order. */
    for (uint32_t v = 0; v < tm_graph_node_count(t->graph); v++)
        for (size_t i = 0; i < n; i++)
            if (hits[i].node == v)
                used +=
                    (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "", tm_graph_node(t->graph, v)->id);
    return buf;
}

static void test_memo_sharing(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "blast-memo.json");
#define ROLE(n) "arn:aws:iam::" A ":role/" n
#define TAIL " arn:aws:iam::" A ":root"
#define KEY_ID " arn:aws:kms:" R ":" A ":key/0a1b2c3d-0000-4000-8000-0000000000aa"
    static const char *const names[] = {"admin-a", "admin-b", "admin-c", "admin-f"};
    static const char *const want[] = {
        "admin:" A " " ROLE("admin-b") " " ROLE("admin-c") " " ROLE("admin-f") TAIL KEY_ID
        " arn:aws:s3:::data-bucket arn:aws:s3:::logs-bucket",
        "admin:" A " " ROLE("admin-a") " " ROLE("admin-c") " " ROLE("admin-f") TAIL " arn:aws:s3:::data-bucket",
        "admin:" A " " ROLE("admin-a") " " ROLE("admin-b") " " ROLE("admin-f") TAIL
        " arn:aws:s3:::data-bucket arn:aws:s3:::logs-bucket",
        "admin:" A " " ROLE("admin-a") " " ROLE("admin-b") " " ROLE("admin-c") TAIL " arn:aws:s3:::logs-bucket",
    };
#undef ROLE
#undef TAIL
#undef KEY_ID
    static const size_t orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};
    for (size_t o = 0; o < 4; o++) {
        struct tm_blast *b = NULL;
        assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
        for (size_t k = 0; k < 4; k++) {
            char buf[2048];
            size_t who = orders[o][k];
            assert_string_equal(s_memo_ids(&t, b, names[who], buf, sizeof(buf)), want[who]);
        }
        tm_blast_destroy(b);
    }
    tm_test_analysis_clean_up(&t);
}

/* The engine's shortcuts (verdict rows per grant fingerprint, grants already applied in the walk, residuals, the
 * member-test memo) change how fast a walk goes, never what it finds: every walk of a reused engine writes the same
 * bytes as an engine that asks the graph about every member of every set each time. */
static void s_same_as_plain(const struct tm_graph *g, size_t step, bool with_admin) {
    struct tm_blast *fast = NULL, *plain = NULL;
    assert_int_equal(tm_blast_new(&fast, g), TM_OK);
    assert_int_equal(tm_blast_new(&plain, g), TM_OK);
    tm__blast_set_plain(plain, true);
    struct tm_buf a, b;
    tm_buf_init(&a, 0);
    tm_buf_init(&b, 0);
    size_t walks = 0, admin_walks = 0;
    for (uint32_t v = 0; v < tm_graph_node_count(g); v += (uint32_t)step) {
        struct tm_blast_source src;
        char err[512];
        if (tm_blast_resolve(&src, g, tm_graph_node(g, v)->id, err, sizeof(err)))
            continue;
        assert_int_equal(tm_blast_run(fast, &src, NULL), TM_OK);
        assert_int_equal(tm_blast_run(plain, &src, NULL), TM_OK);
        struct tm_blast_write_options o = {.format = TM_BLAST_JSON};
        tm_buf_reset(&a);
        tm_buf_reset(&b);
        assert_int_equal(tm_blast_write(&a, fast, &src, &o), TM_OK);
        assert_int_equal(tm_blast_write(&b, plain, &src, &o), TM_OK);
        if (strcmp(tm_buf_str(&a), tm_buf_str(&b)) != 0)
            fail_msg("walk from %s differs from the plain engine's", tm_graph_node(g, v)->id);
        walks++;
        struct tm_blast_summary sum;
        tm_blast_summarize(fast, &sum);
        admin_walks += sum.by_group[TM_GRAPH_GROUP_ADMIN] > 1;
    }
    /* The comparison means something only if walks through administrators were among them. */
    assert_true(walks > 10);
    assert_true(!with_admin || admin_walks > 0);
    tm_buf_clean_up(&a);
    tm_buf_clean_up(&b);
    tm_blast_destroy(fast);
    tm_blast_destroy(plain);
}

static void test_shortcuts_exact(void **state) {
    (void)state;
    static const char *const files[] = {"demo-shaped.json", "blast-memo.json", "blast-basic.json",
                                        "privesc-cases.json"};
    struct tm_test_analysis t;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tm_test_analysis_load(&t, files[i]);
        /* blast-basic.json has no administrator role, only a technique that leads to one. */
        s_same_as_plain(t.graph, 1, i != 2);
        tm_test_analysis_clean_up(&t);
    }
    /* A generated account: hundreds of roles sharing managed policies, administrators among them. */
    tm_test_analysis_load(&t, "blast-basic.json");
    struct tm_snapshot *snap = NULL;
    struct tm_synth_counts counts;
    assert_int_equal(tm_test_synth_snapshot(&snap, 600, 5, &counts), TM_OK);
    struct tm_graph *g = NULL;
    char err[256];
    struct tm_graph_options o = {.actions = t.actions, .privesc = t.privesc};
    assert_int_equal(tm_graph_build(&g, snap, &o, err, sizeof(err)), TM_OK);
    s_same_as_plain(g, 3, true);
    tm_graph_destroy(g);
    tm_snapshot_destroy(snap);
    tm_test_analysis_clean_up(&t);
}

/* Administrators with policies of their own besides AdministratorAccess. An unconditional Allow of everything on
 * everything outweighs their other Allow statements, so they share member answers (one verdict row per grant
 * fingerprint, whoever walks first); a Deny still sets its holder apart, and so does an Allow of everything under a
 * condition. Every walk, in any order on one engine, writes what the plain engine writes. */
#define X_DOC(stmts) "{'Version':'2012-10-17','Statement':[" stmts "]}"
#define X_ALLOW(act, res) "{'Effect':'Allow','Action':" act ",'Resource':" res "}"
#define X_DENY(act, res) "{'Effect':'Deny','Action':" act ",'Resource':" res "}"
#define X_POLICY(name, doc) "{'kind':'inline','name':'" name "','document':" doc "}"
#define X_ADMIN_POLICY                                                                                                 \
    "{'kind':'managed','name':'AdministratorAccess','arn':'arn:aws:iam::aws:policy/AdministratorAccess',"              \
    "'document':" X_DOC(X_ALLOW("'*'", "'*'")) "}"
#define X_ROLE(name, identity)                                                                                         \
    "{'id':'arn:aws:iam::" A ":role/" name "','type':'aws:iam:role','name':'" name "','account':'" A                   \
    "','region':'global','attrs':{'role_id':'AROA" name "','path':'/','max_session_duration':3600,'last_used':null,"   \
    "'instance_profiles':[],'permissions_boundary_arn':null,'service_linked':false},'policies':{'trust':" X_DOC(       \
        "{'Effect':'Allow','Principal':{'Service':'lambda.amazonaws.com'},'Action':'sts:AssumeRole'}") ",'identity':"  \
                                                                                                       "[" identity    \
                                                                                                       "],'boundary':" \
                                                                                                       "null},'links'" \
                                                                                                       ":[]}"
#define X_BUCKET(name)                                                                                                 \
    "{'id':'arn:aws:s3:::" name "','type':'aws:s3:bucket','name':'" name "','account':'" A "','region':'" R "',"       \
    "'attrs':{'public_access_block':null,'policy_status':null,'acl':{'owner':{'id':'owner','display_name':'t'},"       \
    "'grants':[{'grantee':{'type':'CanonicalUser','id':'owner'},'permission':'FULL_CONTROL'}]},"                       \
    "'ownership_controls':'BucketOwnerEnforced','website':null,'access_points':[]},'policies':{'resource':null},"      \
    "'links':[]}"
#define X_KEY_ID "arn:aws:kms:" R ":" A ":key/k1"
#define X_KEY                                                                                                          \
    "{'id':'" X_KEY_ID "','type':'aws:kms:key','name':'k1','account':'" A "','region':'" R "','attrs':{'key_manager':" \
    "'CUSTOMER','key_state':'Enabled'},'policies':{'resource':" X_DOC(                                                 \
        "{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A                                                        \
        ":root'},'Action':'kms:*','Resource':'*'}") "},'links':[]}"

static const char *const s_extras[] = {
    X_BUCKET("b1"),
    X_BUCKET("b2"),
    X_BUCKET("vault"),
    X_KEY,
    X_ROLE("admin-a", X_ADMIN_POLICY "," X_POLICY("objects", X_DOC(X_ALLOW("'s3:GetObject'", "'arn:aws:s3:::b1/*'")))),
    X_ROLE("admin-b", X_ADMIN_POLICY
           "," X_POLICY("list", X_DOC(X_ALLOW("['s3:ListBucket','s3:GetBucketPolicy']", "'arn:aws:s3:::b2'")))),
    X_ROLE("admin-c", X_ADMIN_POLICY "," X_POLICY("no-vault", X_DOC(X_DENY("'s3:*'", "['arn:aws:s3:::vault',"
                                                                                     "'arn:aws:s3:::vault/*']")))),
    X_ROLE(
        "admin-d",
        X_POLICY("office",
                 X_DOC("{'Effect':'Allow','Action':'*','Resource':'*','Condition':{"
                       "'IpAddress':{'aws:SourceIp':'203.0.113.0/24'}}}")) "," X_POLICY("objects",
                                                                                        X_DOC(X_ALLOW(
                                                                                            "'s3:GetObject'",
                                                                                            "'arn:aws:s3:::b2/*'")))),
    X_ROLE("reader", X_POLICY("b1", X_DOC(X_ALLOW("'s3:*'", "'arn:aws:s3:::b1'")))),
    NULL,
};

/* Verdict rows the engine keeps, over all sets. */
static size_t s_rows(const struct tm_blast *b) {
    size_t n = 0;
    for (size_t i = 0; i < b->n_nodes; i++)
        n += b->sets[i] ? b->sets[i]->n_rows : 0;
    return n;
}

static char *s_walk_json(struct tm_blast *b, const struct tm_graph *g, const char *role) {
    char from[128], err[256];
    snprintf(from, sizeof(from), "arn:aws:iam::" A ":role/%s", role);
    struct tm_blast_source src;
    if (tm_blast_resolve(&src, g, from, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    struct tm_buf out;
    tm_buf_init(&out, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_JSON};
    assert_int_equal(tm_blast_write(&out, b, &src, &o), TM_OK);
    char *text = tm_buf_detach(&out);
    assert_non_null(text);
    tm_buf_clean_up(&out);
    return text;
}

static void test_admin_extras(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(&t, A, R, s_extras);
    const struct tm_graph *g = t.graph;
    static const char *const names[] = {"admin-a", "admin-b", "admin-c", "admin-d", "reader"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    char *want[N];
    struct tm_blast *plain = NULL;
    assert_int_equal(tm_blast_new(&plain, g), TM_OK);
    tm__blast_set_plain(plain, true);
    for (size_t i = 0; i < N; i++)
        want[i] = s_walk_json(plain, g, names[i]);
    tm_blast_destroy(plain);
    /* The Deny keeps admin-c out of the vault; the others reach it, and the key whose policy allows kms:* to the
     * account. */
#define X_HIT(id) "\"id\":\"" id "\""
    assert_non_null(strstr(want[0], X_HIT("arn:aws:s3:::vault")));
    assert_non_null(strstr(want[0], X_HIT(X_KEY_ID)));
    assert_non_null(strstr(want[1], X_HIT("arn:aws:s3:::vault")));
    assert_null(strstr(want[2], X_HIT("arn:aws:s3:::vault")));
    assert_non_null(strstr(want[2], X_HIT("arn:aws:s3:::b2")));
    assert_non_null(strstr(want[2], X_HIT(X_KEY_ID)));
    assert_null(strstr(want[4], X_HIT("arn:aws:s3:::b2")));
    assert_non_null(strstr(want[4], X_HIT("arn:aws:s3:::b1")));
#undef X_HIT
    static const size_t orders[][N] = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 3, 4, 1}, {1, 4, 0, 2, 3}};
    for (size_t o = 0; o < sizeof(orders) / sizeof(orders[0]); o++) {
        struct tm_blast *b = NULL;
        assert_int_equal(tm_blast_new(&b, g), TM_OK);
        for (size_t k = 0; k < N; k++) {
            size_t who = orders[o][k];
            char *got = s_walk_json(b, g, names[who]);
            if (strcmp(got, want[who]) != 0)
                fail_msg("walk from %s (order %zu) differs from the plain engine's", names[who], o);
            free(got);
        }
        tm_blast_destroy(b);
    }
    /* Sharing: after admin-a, admin-b's walk needs no verdict row of its own; admin-c's and admin-d's do. */
    struct tm_blast *b = NULL;
    assert_int_equal(tm_blast_new(&b, g), TM_OK);
    free(s_walk_json(b, g, "admin-a"));
    size_t rows_a = s_rows(b);
    assert_true(rows_a > 0);
    free(s_walk_json(b, g, "admin-b"));
    size_t rows_b = s_rows(b);
    assert_int_equal(rows_b, rows_a);
    free(s_walk_json(b, g, "admin-c"));
    size_t rows_c = s_rows(b);
    assert_true(rows_c > rows_b);
    free(s_walk_json(b, g, "admin-d"));
    assert_true(s_rows(b) > rows_c);
    tm_blast_destroy(b);
    for (size_t i = 0; i < N; i++)
        free(want[i]);
    tm_test_analysis_clean_up(&t);
}

static cJSON *s_json_of(struct tm_blast *b, const struct tm_blast_source *src, size_t limit, size_t offset) {
    struct tm_buf buf;
    tm_buf_init(&buf, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_JSON, .limit = limit, .offset = offset};
    assert_int_equal(tm_blast_write(&buf, b, src, &o), TM_OK);
    cJSON *doc = cJSON_Parse(tm_buf_str(&buf));
    assert_non_null(doc);
    tm_buf_clean_up(&buf);
    return doc;
}

static char *s_text_of(struct tm_blast *b, const struct tm_blast_source *src, size_t limit) {
    struct tm_buf buf;
    tm_buf_init(&buf, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_TEXT, .limit = limit};
    assert_int_equal(tm_blast_write(&buf, b, src, &o), TM_OK);
    return tm_buf_detach(&buf);
}

/* An administrator's walk is answered as "everything in account X" with what it does not reach: in
 * blast-memo.json admin-b denies itself logs-bucket and the key trusts admin-a alone. */
static void test_everything(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "blast-memo.json");
    struct tm_blast *b = NULL;
    assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
    struct tm_blast_source src;
    char err[256];
    assert_int_equal(tm_blast_resolve(&src, t.graph, "arn:aws:iam::" A ":role/admin-b", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    cJSON *doc = s_json_of(b, &src, 0, 0);
    const cJSON *every = cJSON_GetObjectItem(doc, "everything");
    assert_int_equal(cJSON_GetArraySize(every), 1);
    const cJSON *e = cJSON_GetArrayItem(every, 0);
    assert_string_equal(cJSON_GetObjectItem(e, "account")->valuestring, A);
    assert_string_equal(cJSON_GetObjectItem(e, "node")->valuestring, ADMIN);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(e, "grants_walked")));
    assert_int_equal(cJSON_GetObjectItem(e, "distance")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(e, "resources")->valueint, 8);
    assert_int_equal(cJSON_GetObjectItem(e, "reached")->valueint, 6);
    const cJSON *nr = cJSON_GetObjectItem(e, "not_reached");
    assert_int_equal(cJSON_GetObjectItem(nr, "count")->valueint, 2);
    const cJSON *ids = cJSON_GetObjectItem(nr, "ids");
    assert_int_equal(cJSON_GetArraySize(ids), 2);
    assert_string_equal(cJSON_GetArrayItem(ids, 0)->valuestring,
                        "arn:aws:kms:" R ":" A ":key/0a1b2c3d-0000-4000-8000-0000000000aa");
    assert_string_equal(cJSON_GetArrayItem(ids, 1)->valuestring, "arn:aws:s3:::logs-bucket");
    const cJSON *by_type = cJSON_GetObjectItem(nr, "by_type");
    assert_int_equal(cJSON_GetObjectItem(by_type, "aws:kms:key")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(by_type, "aws:s3:bucket")->valueint, 1);
    /* Crown jewels: the bucket it reaches, the other three administrators and the administrator node. */
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "crown_jewels")->valueint, 5);
    const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reached"), "data");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(data, 0), "crown_jewel")));
    cJSON_Delete(doc);
    char *text = s_text_of(b, &src, 0);
    assert_non_null(strstr(text, "  - everything in account " A ": 6 of its 8 principals and resources; not reached: 2 "
                                 "(1 key, 1 bucket), whose own policies keep even an administrator out"));
    assert_non_null(strstr(text, "\nNOT REACHED in account " A " (2)\n  key pinned-key\n"));
    assert_non_null(strstr(text, "  bucket logs-bucket\n      arn:aws:s3:::logs-bucket\n"));
    free(text);

    /* admin-a reaches all of it. */
    assert_int_equal(tm_blast_resolve(&src, t.graph, "arn:aws:iam::" A ":role/admin-a", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    text = s_text_of(b, &src, 0);
    assert_non_null(strstr(text, "everything in account " A ": 8 of its 8 principals and resources, all of them\n"));
    assert_null(strstr(text, "NOT REACHED"));
    free(text);
    tm_blast_destroy(b);
    tm_test_analysis_clean_up(&t);

    /* Reached by a technique, the administrator node is where the paths stop: no "not reached" then. */
    tm_test_analysis_load(&t, "blast-basic.json");
    assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
    assert_int_equal(tm_blast_resolve(&src, t.graph, "AKIAEXAMPLEDEPLOY001", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    doc = s_json_of(b, &src, 0, 0);
    e = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "everything"), 0);
    assert_non_null(e);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(e, "grants_walked")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "not_reached")));
    cJSON_Delete(doc);
    text = s_text_of(b, &src, 0);
    assert_non_null(strstr(text, "everything in account " A " once the escalation is used; the paths below stop at"));
    assert_null(strstr(text, "NOT REACHED"));
    free(text);
    /* A walk that reaches no administrator says nothing of the kind. */
    assert_int_equal(tm_blast_resolve(&src, t.graph, ORDERS_ROLE, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    doc = s_json_of(b, &src, 0, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "everything")), 0);
    cJSON_Delete(doc);
    tm_blast_destroy(b);
    tm_test_analysis_clean_up(&t);
}

/* --limit and --offset: each group lists at most limit nodes from offset on, says how many it leaves out, and the
 * pages put together are the whole listing; crown jewels come first in their group. */
static void test_limit_offset(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "demo-shaped.json");
    struct tm_blast *b = NULL;
    assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
    struct tm_blast_source src;
    char err[256];
    assert_int_equal(tm_blast_resolve(&src, t.graph, "arn:aws:iam::" A ":user/alice", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_blast_run(b, &src, NULL), TM_OK);
    cJSON *all = s_json_of(b, &src, 0, 0);
    static const char *const groups[] = {"admin", "compute", "data", "identity", "other"};
    const size_t page = 7;
    size_t pages = 0;
    for (size_t gi = 0; gi < 5; gi++) {
        const cJSON *full = cJSON_GetObjectItem(cJSON_GetObjectItem(all, "reached"), groups[gi]);
        size_t total = (size_t)cJSON_GetArraySize(full);
        assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(all, "summary"), groups[gi])->valueint, total);
        /* Crown jewels first among the proven, then the rest. */
        bool rest = false;
        for (const cJSON *h = full->child; h; h = h->next) {
            if (cJSON_IsTrue(cJSON_GetObjectItem(h, "unknown")))
                break;
            bool jewel = cJSON_IsTrue(cJSON_GetObjectItem(h, "crown_jewel"));
            assert_false(rest && jewel);
            rest = rest || !jewel;
        }
        const cJSON *at = full->child;
        for (size_t off = 0; off < total; off += page) {
            cJSON *doc = s_json_of(b, &src, page, off);
            const cJSON *part = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reached"), groups[gi]);
            size_t want = total - off < page ? total - off : page;
            assert_int_equal(cJSON_GetArraySize(part), want);
            const cJSON *listing = cJSON_GetObjectItem(doc, "listing");
            assert_int_equal(cJSON_GetObjectItem(listing, "limit")->valueint, page);
            assert_int_equal(cJSON_GetObjectItem(listing, "offset")->valueint, off);
            assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(listing, "omitted"), groups[gi])->valueint,
                             total - want);
            /* The summary counts everything, whatever is listed. */
            assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), groups[gi])->valueint, total);
            /* Each listed path still reads back: its edges are in this page's edge list. */
            size_t n_edges = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(doc, "edges"));
            for (const cJSON *h = part->child; h; h = h->next, at = at->next) {
                assert_non_null(at);
                assert_string_equal(cJSON_GetObjectItem(h, "id")->valuestring,
                                    cJSON_GetObjectItem(at, "id")->valuestring);
                for (const cJSON *st = cJSON_GetObjectItem(h, "path")->child; st; st = st->next)
                    assert_true((size_t)cJSON_GetArrayItem(st, 0)->valueint < n_edges);
            }
            cJSON_Delete(doc);
            pages++;
        }
        assert_null(at);
    }
    assert_true(pages > 5);
    cJSON_Delete(all);
    /* Text and DOT count what they leave out. */
    char *text = s_text_of(b, &src, 2);
    assert_non_null(strstr(text, "more (--offset 2 lists the next; --limit 0 lists all)"));
    free(text);
    struct tm_buf buf;
    tm_buf_init(&buf, 0);
    struct tm_blast_write_options o = {.format = TM_BLAST_DOT, .limit = 1};
    assert_int_equal(tm_blast_write(&buf, b, &src, &o), TM_OK);
    size_t n_hits = 0;
    (void)tm_blast_hits(b, &n_hits);
    char line[128];
    snprintf(line, sizeof(line), "    // 5 of the %zu nodes reached are drawn (--limit 0 draws all)\n", n_hits);
    assert_non_null(strstr(tm_buf_str(&buf), line));
    tm_buf_clean_up(&buf);
    tm_blast_destroy(b);
    tm_test_analysis_clean_up(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_internet_through_function, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_key_to_admin, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_set_and_scp, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_boundary, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cross_account, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_read_and_pass_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_conditional, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_sources_and_depth, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_outputs, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reuse, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_paths, s_setup, s_teardown),
        cmocka_unit_test(test_memo_sharing),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_shortcuts_exact),
        cmocka_unit_test(test_admin_extras),
        cmocka_unit_test(test_everything),
        cmocka_unit_test(test_limit_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
