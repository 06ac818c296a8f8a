/* Identity-grant edges against the policy engine: an edge's actions are those the engine allows after the identity
 * Allow, the permissions boundary, the SCPs and every Deny; a boundary or an SCP that narrows a grant narrows the
 * edge (it never removes it while something is left), and a set edge covers a member only when the engine allows
 * the principal some action of the edge's kind on it. The last test compares the graph with the engine for every
 * principal, resource and kind of access of a whole snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/blast.h"
#include "analyzers/graph.h"
#include "analyzers/iam/catalog.h"
#include "core/buf.h"
#include "tests/support/analysis_fixture.h"

#define A "111122223333"
#define R "eu-west-1"
#define DATA "arn:aws:s3:::data"
#define VAULT "arn:aws:s3:::vault"
#define KEY "arn:aws:kms:" R ":" A ":key/k1"
#define BOUNDED "arn:aws:iam::" A ":user/bounded"
#define ADMIN "arn:aws:iam::" A ":role/admin"

/* Snapshot pieces, written with single quotes (turned into double quotes before parsing). */
#define DOC(stmts) "{'Version':'2012-10-17','Statement':[" stmts "]}"
#define ALLOW(act, res) "{'Effect':'Allow','Action':" act ",'Resource':" res "}"
#define DENY(act, res) "{'Effect':'Deny','Action':" act ",'Resource':" res "}"
#define FULL_ACCESS DOC(ALLOW("'*'", "'*'"))
#define SCP(id, target, doc)                                                                                           \
    "{'id':'" id "','name':'" id "','arn':'arn:aws:organizations::444455556666:policy/o-1/service_control_policy/" id  \
    "','target':'" target "','document':" doc "}"
#define ACCOUNT(scps)                                                                                                  \
    "{'id':'arn:aws:iam::" A ":root','type':'aws:account','name':'" A "','account':'" A "','region':'global',"         \
    "'attrs':{'alias':'test','s3_public_access_block':null,'organization':{'id':'o-1','arn':"                          \
    "'arn:aws:organizations::444455556666:organization/o-1','master_account_id':'444455556666'},"                      \
    "'enabled_regions':['" R "']},'policies':{'scps':[" scps "]},'links':[]}"
#define USER(name, identity, boundary)                                                                                 \
    "{'id':'arn:aws:iam::" A ":user/" name "','type':'aws:iam:user','name':'" name "','account':'" A                   \
    "','region':'global','attrs':{'user_id':'AIDA" name "','path':'/','groups':[],'permissions_boundary_arn':"         \
    "'arn:aws:iam::" A ":policy/boundary','access_keys':[]},'policies':{'identity':[{'kind':'inline','name':'" name    \
    "','document':" identity "}],'boundary':" boundary "},'links':[]}"
#define TRUST_LAMBDA DOC("{'Effect':'Allow','Principal':{'Service':'lambda.amazonaws.com'},'Action':'sts:AssumeRole'}")
#define ROLE(name, identity)                                                                                           \
    "{'id':'arn:aws:iam::" A ":role/" name "','type':'aws:iam:role','name':'" name "','account':'" A                   \
    "','region':'global','attrs':{'role_id':'AROA" name "','path':'/','max_session_duration':3600,'last_used':null,"   \
    "'instance_profiles':[],'permissions_boundary_arn':null,'service_linked':false},'policies':{'trust':" TRUST_LAMBDA \
    ",'identity':[{'kind':'inline','name':'" name "','document':" identity "}],'boundary':null},"                      \
    "'links':[]}"
#define BUCKET(name, policy)                                                                                           \
    "{'id':'arn:aws:s3:::" name "','type':'aws:s3:bucket','name':'" name "','account':'" A "','region':'" R "',"       \
    "'attrs':{'public_access_block':null,'policy_status':null,'acl':{'owner':{'id':'owner','display_name':'t'},"       \
    "'grants':[{'grantee':{'type':'CanonicalUser','id':'owner'},'permission':'FULL_CONTROL'}]},"                       \
    "'ownership_controls':'BucketOwnerEnforced','website':null,'access_points':[]},'policies':{'resource':" policy     \
    "},'links':[]}"
#define KMS_KEY(policy)                                                                                                \
    "{'id':'" KEY "','type':'aws:kms:key','name':'k1','account':'" A "','region':'" R "','attrs':{'key_manager':"      \
    "'CUSTOMER','key_state':'Enabled'},'policies':{'resource':" policy "},'links':[]}"
#define ROOT_FULL SCP("p-full", "r-root", FULL_ACCESS)
#define VAULT_ALL "['" VAULT "','" VAULT "/*']"
#define VAULT_SCPS ROOT_FULL "," SCP("p-full2", A, FULL_ACCESS) "," SCP("p-vault", A, DOC(DENY("'s3:*'", VAULT_ALL)))
#define BOUNDED_USER USER("bounded", DOC(ALLOW("'s3:*'", "'*'")), DOC(ALLOW("'s3:GetObject'", "'*'")))
#define APP_KEY_POLICY                                                                                                 \
    DOC("{'Effect':'Allow','Principal':{'AWS':'arn:aws:iam::" A ":role/app'},'Action':'kms:Decrypt','Resource':'*'}")

static bool s_has_action(const struct tm_graph_edge *e, const char *action) {
    for (size_t i = 0; i < e->n_actions; i++)
        if (strcasecmp(e->actions[i], action) == 0)
            return true;
    return false;
}

/* Does any edge of this kind out of the principal reach the node (directly or through a set it covers)? */
static const struct tm_graph_edge *s_reaching(const struct tm_graph *g, const char *from, const char *to,
                                              enum tm_graph_edge_kind kind) {
    uint32_t f = tm_graph_find(g, from), n = tm_graph_find(g, to);
    assert_int_not_equal(f, TM_GRAPH_NONE);
    assert_int_not_equal(n, TM_GRAPH_NONE);
    size_t ne = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, f, &ne, NULL);
    for (size_t i = 0; i < ne; i++)
        if (out[i].kind == kind && tm_graph_edge_covers(g, &out[i], n))
            return &out[i];
    return NULL;
}

/* Identity policy s3:* on *, boundary s3:GetObject: the user reads objects, and nothing else. */
static void test_boundary_narrows(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(
        &t, A, R, (const char *const[]){ACCOUNT(ROOT_FULL), BUCKET("data", "null"), BOUNDED_USER, NULL});
    const struct tm_graph *g = t.graph;
    const struct tm_graph_edge *e = s_reaching(g, BOUNDED, DATA, TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_int_equal(e->n_actions, 1);
    assert_string_equal(e->actions[0], "s3:GetObject");
    assert_true(e->flags & TM_GRAPH_EDGE_TO_SET);
    /* The boundary allows the narrowed actions everywhere: members need no second look. */
    assert_true(e->flags & TM_GRAPH_EDGE_EXACT);
    assert_null(s_reaching(g, BOUNDED, DATA, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* The same on a named resource, and with a boundary that allows a pattern: the edge keeps the pattern. */
static void test_boundary_narrows_named(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(
        &t, A, R,
        (const char *const[]){ACCOUNT(ROOT_FULL), BUCKET("data", "null"),
                              USER("bounded", DOC(ALLOW("'s3:*'", "['" DATA "','" DATA "/*']")),
                                   DOC(ALLOW("['s3:Get*','s3:ListBucket']", "'*'"))),
                              NULL});
    const struct tm_graph *g = t.graph;
    const struct tm_graph_edge *e = tm_test_edge(g, BOUNDED, DATA, TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    assert_true(s_has_action(e, "s3:Get*"));
    assert_true(s_has_action(e, "s3:ListBucket"));
    assert_false(s_has_action(e, "s3:*"));
    assert_null(tm_test_edge(g, BOUNDED, DATA, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* s3:* allowed, an SCP level allowing only reads: a read edge, no write edge. */
static void test_scp_narrows(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(
        &t, A, R,
        (const char *const[]){ACCOUNT(ROOT_FULL "," SCP("p-read", A, DOC(ALLOW("['s3:Get*','s3:List*']", "'*'")))),
                              BUCKET("data", "null"), ROLE("app", DOC(ALLOW("'s3:*'", "'*'"))), NULL});
    const struct tm_graph *g = t.graph;
    const char *app = "arn:aws:iam::" A ":role/app";
    const struct tm_graph_edge *e = s_reaching(g, app, DATA, TM_GRAPH_EDGE_CAN_READ);
    assert_non_null(e);
    for (size_t i = 0; i < e->n_actions; i++)
        assert_true(strncmp(e->actions[i], "s3:Get", 6) == 0 || strncmp(e->actions[i], "s3:List", 7) == 0);
    assert_null(s_reaching(g, app, DATA, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* An administrator whose SCP denies s3:* on one bucket does not reach it; it still reaches the others. */
static void test_scp_deny_member(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(&t, A, R,
                                     (const char *const[]){ACCOUNT(VAULT_SCPS), BUCKET("data", "null"),
                                                           BUCKET("vault", "null"), ROLE("admin", FULL_ACCESS), NULL});
    const struct tm_graph *g = t.graph;
    for (int k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++)
        assert_null(s_reaching(g, ADMIN, VAULT, (enum tm_graph_edge_kind)k));
    assert_non_null(s_reaching(g, ADMIN, DATA, TM_GRAPH_EDGE_CAN_READ));
    assert_non_null(s_reaching(g, ADMIN, DATA, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* A Deny on the objects only: the bucket stays reachable for what is left (listing it); a bucket policy denying
 * Put* and Delete* leaves its other writes (tagging, settings). */
static void test_partial_deny_member(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(
        &t, A, R,
        (const char *const[]){
            ACCOUNT(ROOT_FULL "," SCP("p-full2", A, FULL_ACCESS) "," SCP("p-vault", A,
                                                                         DOC(DENY("'s3:GetObject'", "'" VAULT "/*'")))),
            BUCKET("data", DOC("{'Effect':'Deny','Principal':'*','Action':['s3:Put*','s3:Delete*'],'Resource':'*'}")),
            BUCKET("vault", "null"), ROLE("admin", FULL_ACCESS), NULL});
    const struct tm_graph *g = t.graph;
    assert_non_null(s_reaching(g, ADMIN, VAULT, TM_GRAPH_EDGE_CAN_READ));
    assert_non_null(s_reaching(g, ADMIN, DATA, TM_GRAPH_EDGE_CAN_READ));
    assert_non_null(s_reaching(g, ADMIN, DATA, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* A key whose policy allows the role only kms:Decrypt: kms:* in the identity policy reads through it. */
static void test_key_policy_narrows_member(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(&t, A, R,
                                     (const char *const[]){ACCOUNT(ROOT_FULL),
                                                           ROLE("app", DOC(ALLOW("'kms:*'", "'*'"))),
                                                           KMS_KEY(APP_KEY_POLICY), NULL});
    const struct tm_graph *g = t.graph;
    assert_non_null(s_reaching(g, "arn:aws:iam::" A ":role/app", KEY, TM_GRAPH_EDGE_CAN_READ));
    assert_null(s_reaching(g, "arn:aws:iam::" A ":role/app", KEY, TM_GRAPH_EDGE_CAN_WRITE));
    tm_test_analysis_clean_up(&t);
}

/* What `tmscan blast` shows, in both directions, on one snapshot: the bounded user reads the bucket (and writes
 * nothing), the administrator writes it; neither reaches the bucket the SCP protects. Walks from the administrator
 * first share the engine's answers across edges of one grant: read, write and invoke must not answer for each other. */
static void test_blast(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_parse_resources(&t, A, R,
                                     (const char *const[]){ACCOUNT(VAULT_SCPS), ROLE("admin", FULL_ACCESS),
                                                           BOUNDED_USER, BUCKET("data", "null"),
                                                           BUCKET("vault", "null"), NULL});
    struct tm_blast *b = NULL;
    assert_int_equal(tm_blast_new(&b, t.graph), TM_OK);
    static const char *const from[] = {ADMIN, BOUNDED, ADMIN};
    for (size_t i = 0; i < 3; i++) {
        struct tm_blast_source src;
        char err[256];
        assert_int_equal(tm_blast_resolve(&src, t.graph, from[i], err, sizeof(err)), TM_OK);
        assert_int_equal(tm_blast_run(b, &src, &(struct tm_blast_options){.max_depth = 0}), TM_OK);
        const struct tm_blast_hit *data = tm_blast_find(b, tm_graph_find(t.graph, DATA));
        assert_non_null(data);
        assert_int_equal(data->access, i != 1 ? TM_BLAST_WRITE : TM_BLAST_READ);
        /* The SCP protects the vault from every principal of the account. */
        assert_null(tm_blast_find(b, tm_graph_find(t.graph, VAULT)));
    }
    tm_blast_destroy(b);
    tm_test_analysis_clean_up(&t);
}

/* ---- the graph against the engine, everywhere ---- */

/* The kind of edge an action gives, as the graph classifies them (graph_edges.c), for reads and writes; other
 * kinds (invoke, pass, assume) are not compared. */
static enum tm_graph_edge_kind s_class(const struct tm_iam_action *a) {
    static const char *const other[] = {"sts:AssumeRole",
                                        "sts:AssumeRoleWithSAML",
                                        "sts:AssumeRoleWithWebIdentity",
                                        "iam:PassRole",
                                        "lambda:InvokeFunction",
                                        "lambda:InvokeFunctionUrl",
                                        "lambda:InvokeAsync",
                                        "execute-api:Invoke",
                                        "states:StartExecution",
                                        "states:StartSyncExecution"};
    char full[256];
    snprintf(full, sizeof(full), "%s:%s", a->service, a->name);
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strcasecmp(full, other[i]) == 0)
            return TM_GRAPH_EDGE_KIND_COUNT;
    if (strcasecmp(full, "kms:Decrypt") == 0 || strcasecmp(full, "kms:ReEncryptFrom") == 0)
        return TM_GRAPH_EDGE_CAN_READ;
    return a->level == TM_IAM_LEVEL_LIST || a->level == TM_IAM_LEVEL_READ ? TM_GRAPH_EDGE_CAN_READ
                                                                          : TM_GRAPH_EDGE_CAN_WRITE;
}

struct s_engine {
    const struct tm_graph *g;
    const char *principal;
    const struct tm_graph_node *resource;
    bool allowed[TM_GRAPH_EDGE_KIND_COUNT];
    bool by_identity[TM_GRAPH_EDGE_KIND_COUNT]; /* an identity policy statement among the grants */
    bool unknown;
};

/* The request `tmscan query can` would make: S3 object actions on a bucket's objects. */
static int s_engine_cb(const struct tm_iam_action *a, void *user_data) {
    struct s_engine *c = user_data;
    enum tm_graph_edge_kind k = s_class(a);
    if (k == TM_GRAPH_EDGE_KIND_COUNT || c->by_identity[k])
        return 0;
    char action[256], res[2048];
    snprintf(action, sizeof(action), "%s:%s", a->service, a->name);
    snprintf(res, sizeof(res), "%s", c->resource->id);
    if (strcmp(c->resource->type, "aws:s3:bucket") == 0 && !strstr(a->name, "Bucket") &&
        strncasecmp(a->name, "List", 4) != 0)
        snprintf(res, sizeof(res), "%s/*", c->resource->id);
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    bool unknown = false;
    assert_int_equal(tm_graph_can(c->g, c->principal, action, res, NULL, &r, &unknown), TM_OK);
    c->allowed[k] = c->allowed[k] || r.decision == TM_IAM_ALLOWED;
    for (size_t i = 0; i < r.n_matches && r.decision == TM_IAM_ALLOWED; i++)
        c->by_identity[k] = c->by_identity[k] || r.matches[i].set == TM_IAM_SET_IDENTITY;
    c->unknown = c->unknown || unknown;
    tm_iam_result_clean_up(&r);
    return 0;
}

static bool s_principal(const struct tm_graph_node *n) {
    return (n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) &&
           (strcmp(n->type, "aws:iam:user") == 0 || strcmp(n->type, "aws:iam:role") == 0);
}

static bool s_public(const struct tm_graph *g, uint32_t r, enum tm_graph_edge_kind kind) {
    static const char *const anyone[] = {"internet", "any-aws-account"};
    for (size_t a = 0; a < 2; a++) {
        uint32_t from = tm_graph_find(g, anyone[a]);
        size_t ne = 0;
        const struct tm_graph_edge *out = from == TM_GRAPH_NONE ? NULL : tm_graph_out(g, from, &ne, NULL);
        for (size_t i = 0; i < ne; i++)
            if (out[i].kind == kind && tm_graph_edge_covers(g, &out[i], r))
                return true;
    }
    return false;
}

/* Every principal, resource and kind: the graph may not miss what the engine allows (an attacker's path blast
 * would not show). What it shows beyond the engine is printed. Returns the number of such over-reports. */
static size_t s_compare(const struct tm_test_analysis *t) {
    const struct tm_graph *g = t->graph;
    size_t missed = 0, extra = 0, n = tm_graph_node_count(g);
    for (uint32_t p = 0; p < n; p++) {
        const struct tm_graph_node *pn = tm_graph_node(g, p);
        if (!s_principal(pn))
            continue;
        size_t ne = 0;
        const struct tm_graph_edge *out = tm_graph_out(g, p, &ne, NULL);
        for (uint32_t r = 0; r < n; r++) {
            const struct tm_graph_node *rn = tm_graph_node(g, r);
            char svc[64];
            if (r == p || !(rn->flags & TM_GRAPH_NODE_IN_SNAPSHOT) || !rn->type || strncmp(rn->id, "arn:", 4) != 0 ||
                sscanf(rn->id, "arn:aws:%63[^:]", svc) != 1 || !tm_iam_catalog_has_service(t->actions, svc))
                continue;
            struct s_engine c = {.g = g, .principal = pn->id, .resource = rn};
            char pattern[80];
            snprintf(pattern, sizeof(pattern), "%s:*", svc);
            assert_int_equal(tm_iam_catalog_expand(NULL, t->actions, pattern, s_engine_cb, &c), TM_OK);
            if (c.unknown)
                continue;
            for (int k = TM_GRAPH_EDGE_CAN_READ; k <= TM_GRAPH_EDGE_CAN_WRITE; k++) {
                bool edge = false, conditional = false;
                for (size_t i = 0; i < ne && !edge; i++) {
                    if (out[i].kind != (enum tm_graph_edge_kind)k || (out[i].flags & TM_GRAPH_EDGE_UNKNOWN) ||
                        !tm_graph_edge_covers(g, &out[i], r))
                        continue;
                    if (out[i].flags & TM_GRAPH_EDGE_CONDITIONAL)
                        conditional = true;
                    else
                        edge = true;
                }
                const char *kind = tm_graph_edge_kind_name((enum tm_graph_edge_kind)k);
                /* What anyone may do (a public or any-account grant) is the entry point's edge, not the principal's;
                 * a grant to "*" that Block Public Access keeps to the account's own principals is neither (below). */
                if (c.allowed[k] && !edge && !conditional && !s_public(g, r, (enum tm_graph_edge_kind)k)) {
                    if (c.by_identity[k]) {
                        print_error("MISSED: %s %s %s (the engine allows it, the graph has no edge)\n", pn->id, kind,
                                    rn->id);
                        missed++;
                    } else {
                        print_message("not shown (granted by the resource policy alone): %s %s %s\n", pn->id, kind,
                                      rn->id);
                    }
                } else if (!c.allowed[k] && edge && !conditional) {
                    print_message("over-reported: %s %s %s\n", pn->id, kind, rn->id);
                    extra++;
                }
            }
        }
    }
    assert_int_equal(missed, 0);
    return extra;
}

static void test_agrees_with_engine(void **state) {
    (void)state;
    struct tm_test_analysis t;
    tm_test_analysis_load(&t, "demo-shaped.json");
    s_compare(&t);
    tm_test_analysis_clean_up(&t);
    tm_test_analysis_load(&t, "graph-basic.json");
    s_compare(&t);
    tm_test_analysis_clean_up(&t);
    /* The snapshots of the tests above, every one together. */
    tm_test_analysis_parse_resources(&t, A, R,
                                     (const char *const[]){ACCOUNT(VAULT_SCPS), ROLE("admin", FULL_ACCESS),
                                                           ROLE("app", DOC(ALLOW("'kms:*'", "'*'"))), BOUNDED_USER,
                                                           KMS_KEY(APP_KEY_POLICY), BUCKET("data", "null"),
                                                           BUCKET("vault", "null"), NULL});
    assert_int_equal(s_compare(&t), 0);
    tm_test_analysis_clean_up(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary_narrows),
        cmocka_unit_test(test_boundary_narrows_named),
        cmocka_unit_test(test_scp_narrows),
        cmocka_unit_test(test_scp_deny_member),
        cmocka_unit_test(test_partial_deny_member),
        cmocka_unit_test(test_key_policy_narrows_member),
        cmocka_unit_test(test_blast),
        cmocka_unit_test(test_agrees_with_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
