/* can / who-can on the hand-made account tests/data/snapshots/blast-basic.json. The expected decisions and the
 * statements behind them were read off the snapshot's policies by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/query.h"
#include "analyzers/query_int.h"
#include "core/buf.h"
#include "core/json.h"
#include "tests/support/analysis_fixture.h"
#include "tests/support/synth_snapshot.h"

#define A "111122223333"
#define R "eu-west-1"
#define METHOD "arn:aws:execute-api:" R ":" A ":a1/prod/GET/orders"
#define ORDERS_ROLE "arn:aws:iam::" A ":role/orders-role"
#define WORKER_ROLE "arn:aws:iam::" A ":role/worker-role"
#define AUTOMATION "arn:aws:iam::" A ":role/automation"
#define ANALYTICS "arn:aws:iam::" A ":role/analytics"
#define OFFICE "arn:aws:iam::" A ":role/office"
#define PARTNER_ROLE "arn:aws:iam::" A ":role/partner-role"
#define DEPLOYER "arn:aws:iam::" A ":user/deployer"
#define INTERN "arn:aws:iam::" A ":user/intern"
#define ORDERS_DATA "arn:aws:s3:::orders-data"
#define LOGS "arn:aws:s3:::logs-bucket"
#define VAULT "arn:aws:s3:::vault-bucket"
#define MYSTERY "arn:aws:s3:::mystery-bucket"
#define PARTNER_SHARE "arn:aws:s3:::partner-share"
#define JOBS "arn:aws:sqs:" R ":" A ":jobs"

struct s_fix {
    struct tm_test_analysis t;
    struct tm_query *q;
    struct tm_query_can can;
    struct tm_query_who who;
    char err[512];
};

static int s_setup(void **state) {
    struct s_fix *f = calloc(1, sizeof(*f));
    tm_test_analysis_load(&f->t, "blast-basic.json");
    assert_int_equal(tm_query_new(&f->q, f->t.graph, f->t.actions), TM_OK);
    *state = f;
    return 0;
}

static int s_teardown(void **state) {
    struct s_fix *f = *state;
    tm_query_can_clean_up(&f->can);
    tm_query_who_clean_up(&f->who);
    tm_query_destroy(f->q);
    tm_test_analysis_clean_up(&f->t);
    free(f);
    return 0;
}

static const struct tm_query_can *s_can(struct s_fix *f, const char *p, const char *a, const char *r) {
    tm_query_can_clean_up(&f->can);
    if (tm_query_can(f->q, &f->can, p, a, r, f->err, sizeof(f->err)))
        fail_msg("can %s %s %s: %s", p, a, r, f->err);
    return &f->can;
}

static const struct tm_query_who *s_who(struct s_fix *f, const char *a, const char *r) {
    tm_query_who_clean_up(&f->who);
    if (tm_query_who_can(f->q, &f->who, a, r, f->err, sizeof(f->err)))
        fail_msg("who-can %s %s: %s", a, r, f->err);
    return &f->who;
}

/* The statement of a set with this policy name (NULL: any) and statement index, or NULL. */
static const struct tm_query_statement *s_stmt(const struct tm_query_statement *items, size_t n,
                                               enum tm_iam_set_kind set, const char *policy, int32_t index) {
    for (size_t i = 0; i < n; i++)
        if (items[i].set == set && items[i].statement == index &&
            (!policy || (items[i].policy && strcmp(items[i].policy, policy) == 0)))
            return &items[i];
    return NULL;
}

static const char *s_id(struct s_fix *f, uint32_t node) {
    return tm_graph_node(f->t.graph, node)->id;
}

static void test_can_allowed(void **state) {
    struct s_fix *f = *state;
    const struct tm_query_can *a = s_can(f, ORDERS_ROLE, "s3:GetObject", ORDERS_DATA "/2024/orders.csv");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_false(a->unknown);
    assert_true(a->principal_known);
    assert_string_equal(s_id(f, a->resource_node), ORDERS_DATA);
    /* identity policy "orders" statement 0, and FullAWSAccess at both levels of the organisation. */
    assert_int_equal(a->n_statements, 3);
    const struct tm_query_statement *s = s_stmt(a->statements, a->n_statements, TM_IAM_SET_IDENTITY, "orders", 0);
    assert_non_null(s);
    assert_string_equal(s->sid, "ReadOrders");
    assert_string_equal(s->what, "identity policy");
    assert_string_equal(s->holder, ORDERS_ROLE);
    assert_int_equal(s->effect, TM_IAM_ALLOW);
    assert_non_null(strstr(s->json, "arn:aws:s3:::orders-data/*"));
    s = s_stmt(a->statements, a->n_statements, TM_IAM_SET_SCP, "FullAWSAccess", 0);
    assert_non_null(s);
    bool root = false, ou = false;
    for (size_t i = 0; i < a->n_statements; i++)
        if (a->statements[i].set == TM_IAM_SET_SCP) {
            root = root || strcmp(a->statements[i].detail, "r-root") == 0;
            ou = ou || strcmp(a->statements[i].detail, "ou-apps") == 0;
        }
    assert_true(root && ou);
    /* An access key id is its user; the role's trust policy speaks for assuming it. */
    a = s_can(f, "AKIAEXAMPLEDEPLOY001", "sts:AssumeRole", AUTOMATION);
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_string_equal(a->principal, DEPLOYER);
    s = s_stmt(a->statements, a->n_statements, TM_IAM_SET_IDENTITY, "deploy", 0);
    assert_non_null(s);
    assert_string_equal(s->sid, "AssumeAutomation");
    s = s_stmt(a->statements, a->n_statements, TM_IAM_SET_RESOURCE, NULL, 0);
    assert_non_null(s);
    assert_string_equal(s->what, "trust policy");
    assert_string_equal(s->holder, AUTOMATION);
    /* A role session ARN is its role. */
    a = s_can(f, "arn:aws:sts::" A ":assumed-role/orders-role/incident", "kms:Decrypt",
              "arn:aws:kms:" R ":" A ":key/0a1b2c3d-0000-4000-8000-000000000001");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_non_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_IDENTITY, "orders", 2));
    assert_non_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_RESOURCE, NULL, 0)); /* key policy Root */
}

static void test_can_denied(void **state) {
    struct s_fix *f = *state;
    /* The SCP ProtectVault (at ou-apps) denies: its statement is the one that decided, alone. */
    const struct tm_query_can *a = s_can(f, ANALYTICS, "s3:GetObject", VAULT "/x");
    assert_int_equal(a->decision, TM_IAM_EXPLICIT_DENY);
    assert_int_equal(a->reason, TM_IAM_REASON_EXPLICIT_DENY);
    assert_int_equal(a->n_statements, 1);
    assert_int_equal(a->statements[0].set, TM_IAM_SET_SCP);
    assert_int_equal(a->statements[0].effect, TM_IAM_DENY);
    assert_string_equal(a->statements[0].policy, "ProtectVault");
    assert_string_equal(a->statements[0].detail, "ou-apps");
    assert_string_equal(a->statements[0].sid, "NoVault");
    /* The boundary allows only s3:GetObject: intern's PutObject grant is capped. */
    a = s_can(f, INTERN, "s3:PutObject", LOGS "/x");
    assert_int_equal(a->decision, TM_IAM_IMPLICIT_DENY);
    assert_int_equal(a->reason, TM_IAM_REASON_BOUNDARY);
    assert_non_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_IDENTITY, "intern", 0));
    assert_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_BOUNDARY, NULL, 0));
    a = s_can(f, INTERN, "s3:GetObject", LOGS "/x");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_non_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_BOUNDARY, NULL, 0));
    /* Anonymous callers get nothing from a bucket without a policy. */
    a = s_can(f, "internet", "s3:GetObject", ORDERS_DATA "/x");
    assert_int_equal(a->decision, TM_IAM_IMPLICIT_DENY);
    assert_string_equal(a->principal, "anonymous");
    assert_int_equal(a->n_statements, 0);
    /* Reading the queue is granted, sending is not. */
    assert_int_equal(s_can(f, "arn:aws:iam::" A ":role/reader", "sqs:SendMessage", JOBS)->decision,
                     TM_IAM_IMPLICIT_DENY);
    assert_int_equal(s_can(f, "arn:aws:iam::" A ":role/reader", "sqs:ReceiveMessage", JOBS)->decision, TM_IAM_ALLOWED);
}

static void test_can_cross_account_and_unknown(void **state) {
    struct s_fix *f = *state;
    const struct tm_query_can *a = s_can(f, "account:999999999999", "s3:GetObject", PARTNER_SHARE "/file");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_string_equal(a->principal, "arn:aws:iam::999999999999:root");
    const struct tm_query_statement *s = s_stmt(a->statements, a->n_statements, TM_IAM_SET_RESOURCE, NULL, 0);
    assert_non_null(s);
    assert_string_equal(s->what, "bucket policy");
    assert_string_equal(s->sid, "PartnerRead");
    assert_int_equal(s_can(f, "account:999999999999", "s3:PutObject", PARTNER_SHARE "/file")->decision,
                     TM_IAM_IMPLICIT_DENY);
    /* A role of another account, by ARN: the bucket policy allows it, but its own account's policies must too,
     * and the snapshot does not have them: not known. */
    a = s_can(f, "arn:aws:iam::999999999999:role/etl", "s3:GetObject", PARTNER_SHARE "/file");
    assert_int_equal(a->decision, TM_IAM_IMPLICIT_DENY);
    assert_int_equal(a->reason, TM_IAM_REASON_IDENTITY);
    assert_true(a->unknown);
    assert_false(a->principal_known);
    assert_non_null(a->notes[0]);
    assert_non_null(s_stmt(a->statements, a->n_statements, TM_IAM_SET_RESOURCE, NULL, 0));
    /* The bucket policy of mystery-bucket could not be read. Allowed by what could be read (a Deny there could
     * still stop it); denied by what could be read (a grant there could allow it): both say unknown. */
    a = s_can(f, ANALYTICS, "s3:GetObject", MYSTERY "/x");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_true(a->unknown);
    a = s_can(f, INTERN, "s3:GetObject", MYSTERY "/x");
    assert_int_equal(a->decision, TM_IAM_IMPLICIT_DENY);
    assert_true(a->unknown);
    /* A resource of another account that the snapshot does not have: answered, with a note. */
    a = s_can(f, ANALYTICS, "s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x");
    assert_int_equal(a->decision, TM_IAM_ALLOWED);
    assert_int_equal(a->resource_node, TM_GRAPH_NONE);
    assert_non_null(a->notes[0]);
}

static void test_can_errors(void **state) {
    struct s_fix *f = *state;
    struct tm_query_can a;
    char err[512];
    assert_int_equal(tm_query_can(f->q, &a, ANALYTICS, "s3:Get*", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "is a pattern"));
    assert_int_equal(tm_query_can(f->q, &a, ANALYTICS, "s3:GetObjekt", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_string_equal(err, "'s3:GetObjekt' is not an action of s3; did you mean 's3:GetObject'?");
    assert_int_equal(tm_query_can(f->q, &a, ANALYTICS, "GetObject", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "service:Action"));
    assert_int_equal(tm_query_can(f->q, &a, ANALYTICS, "s3:Get Object", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(
        tm_query_can(f->q, &a, "arn:aws:iam::" A ":role/analytic", "s3:GetObject", ORDERS_DATA, err, sizeof(err)),
        TM_ERR_NOT_FOUND);
    assert_string_equal(err, "principal 'arn:aws:iam::" A
                             ":role/analytic' is not in the snapshot; did you mean '" ANALYTICS "'?");
    assert_int_equal(
        tm_query_can(f->q, &a, ANALYTICS, "sqs:SendMessage", "arn:aws:sqs:" R ":" A ":jbos", err, sizeof(err)),
        TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "did you mean '" JOBS "'"));
    assert_int_equal(tm_query_can(f->q, &a, "AKIANOSUCHKEY0000001", "s3:GetObject", ORDERS_DATA, err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    assert_int_equal(tm_query_can(f->q, &a, ORDERS_DATA, "s3:GetObject", ORDERS_DATA, err, sizeof(err)),
                     TM_ERR_INVALID);
    assert_non_null(strstr(err, "not a principal"));
    assert_int_equal(tm_query_can(f->q, &a, "account:9", "s3:GetObject", ORDERS_DATA, err, sizeof(err)),
                     TM_ERR_INVALID);
    assert_int_equal(tm_query_can(f->q, &a, ANALYTICS, "s3:GetObject", "", err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_query_can(f->q, &a, "", "s3:GetObject", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_query_can(NULL, &a, ANALYTICS, "s3:GetObject", ORDERS_DATA, NULL, 0), TM_ERR_INVALID);
    /* A service the catalogue does not know is evaluated as written, with a note. */
    const struct tm_query_can *c = s_can(f, ANALYTICS, "madeupservice:DoThing", "*");
    assert_int_equal(c->decision, TM_IAM_IMPLICIT_DENY);
    assert_non_null(c->notes[0]);
    struct tm_query *q = (struct tm_query *)&q;
    assert_int_equal(tm_query_new(&q, NULL, f->t.actions), TM_ERR_INVALID);
    assert_null(q);
    tm_query_destroy(NULL);
}

static const struct tm_query_grantee *s_grantee(const struct tm_query_who *w, struct s_fix *f, const char *id) {
    for (size_t i = 0; i < w->n_grantees; i++)
        if (strcmp(s_id(f, w->grantees[i].node), id) == 0)
            return &w->grantees[i];
    return NULL;
}

static void test_who_can(void **state) {
    struct s_fix *f = *state;
    /* Reading orders-data: analytics (s3:* on "*") and orders-role; the SCP does not touch it. */
    const struct tm_query_who *w = s_who(f, "s3:GetObject", ORDERS_DATA);
    assert_int_equal(w->n_grantees, 2);
    assert_string_equal(s_id(f, w->grantees[0].node), ANALYTICS);
    assert_string_equal(s_id(f, w->grantees[1].node), ORDERS_ROLE);
    const struct tm_query_grantee *g = &w->grantees[1];
    assert_false(g->pseudo || g->unknown || g->conditional);
    assert_int_equal(g->n_actions, 1);
    assert_string_equal(g->actions[0], "s3:GetObject");
    /* Only the grant itself: no SCP noise. */
    assert_int_equal(g->n_statements, 1);
    assert_string_equal(g->statements[0].policy, "orders");
    assert_string_equal(g->statements[0].sid, "ReadOrders");
    assert_string_equal(w->grantees[0].statements[0].sid, "AllS3");

    w = s_who(f, "s3:PutObject", ORDERS_DATA);
    assert_int_equal(w->n_grantees, 2);
    assert_non_null(s_grantee(w, f, ANALYTICS));
    assert_non_null(s_grantee(w, f, WORKER_ROLE));

    /* A pattern: orders-role can do one of the s3:Get* actions, analytics all of them. */
    w = s_who(f, "s3:Get*", ORDERS_DATA);
    assert_true(w->n_actions > 10);
    for (size_t i = 0; i < w->n_actions; i++)
        assert_true(strncmp(w->actions[i], "s3:Get", 6) == 0);
    g = s_grantee(w, f, ORDERS_ROLE);
    assert_non_null(g);
    assert_int_equal(g->n_actions, 1);
    assert_string_equal(g->actions[0], "s3:GetObject");
    assert_int_equal(s_grantee(w, f, ANALYTICS)->n_actions, w->n_actions);

    /* From outside: account 999999999999 through the bucket policy, first; then analytics. */
    w = s_who(f, "s3:GetObject", PARTNER_SHARE);
    assert_int_equal(w->n_grantees, 2);
    g = &w->grantees[0];
    assert_string_equal(s_id(f, g->node), "account:999999999999");
    assert_true(g->pseudo);
    assert_int_equal(g->n_statements, 1);
    assert_string_equal(g->statements[0].what, "bucket policy");
    assert_int_equal(g->statements[0].statement, 0);
    assert_string_equal(g->statements[0].sid, "PartnerRead");
    assert_string_equal(s_id(f, w->grantees[1].node), ANALYTICS);

    w = s_who(f, "execute-api:Invoke", METHOD);
    assert_int_equal(w->n_grantees, 1);
    assert_string_equal(s_id(f, w->grantees[0].node), "internet");
    assert_string_equal(w->grantees[0].statements[0].what, "API authorisation");

    w = s_who(f, "sts:AssumeRole", AUTOMATION);
    assert_int_equal(w->n_grantees, 1);
    assert_string_equal(s_id(f, w->grantees[0].node), DEPLOYER);
    w = s_who(f, "sts:AssumeRole", PARTNER_ROLE);
    assert_int_equal(w->n_grantees, 1);
    assert_string_equal(s_id(f, w->grantees[0].node), "account:999999999999");

    /* The SCP leaves nobody for the vault. */
    w = s_who(f, "s3:GetObject", VAULT);
    assert_int_equal(w->n_grantees, 0);
}

static void test_who_can_unknown_and_conditional(void **state) {
    struct s_fix *f = *state;
    /* Its policy could not be read: anyone may be able to (unknown), analytics can. */
    const struct tm_query_who *w = s_who(f, "s3:GetObject", MYSTERY);
    assert_true(w->resource_policy_unknown);
    assert_int_equal(w->n_grantees, 2);
    assert_string_equal(s_id(f, w->grantees[0].node), "internet");
    assert_true(w->grantees[0].unknown);
    assert_string_equal(s_id(f, w->grantees[1].node), ANALYTICS);
    assert_false(w->grantees[1].unknown);
    /* logs-bucket: analytics, intern, and office only from its network. */
    w = s_who(f, "s3:GetObject", LOGS);
    assert_int_equal(w->n_grantees, 3);
    const struct tm_query_grantee *g = s_grantee(w, f, OFFICE);
    assert_non_null(g);
    assert_true(g->conditional);
    assert_non_null(strstr(g->conditions, "203.0.113.0/24"));
    assert_false(s_grantee(w, f, INTERN)->conditional);
    /* Writing logs-bucket: the boundary leaves intern out. */
    w = s_who(f, "s3:PutObject", LOGS);
    assert_int_equal(w->n_grantees, 1);
    assert_null(s_grantee(w, f, INTERN));
}

static void test_who_can_errors(void **state) {
    struct s_fix *f = *state;
    struct tm_query_who w;
    char err[512];
    assert_int_equal(tm_query_who_can(f->q, &w, "s3:GetObject", "arn:aws:s3:::orders-dta", err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "did you mean '" ORDERS_DATA "'"));
    assert_int_equal(tm_query_who_can(f->q, &w, "s3:GetObject", "*", err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_query_who_can(f->q, &w, "s3:Gte*", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "no action of s3 matches"));
    assert_int_equal(tm_query_who_can(f->q, &w, "sqs:Send*", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "applies to s3"));
    assert_int_equal(tm_query_who_can(f->q, &w, "s3:GetObjekt", ORDERS_DATA, err, sizeof(err)), TM_ERR_INVALID);
}

static char *s_text(struct s_fix *f, bool who, enum tm_query_format fmt) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = who ? tm_query_who_write(&b, f->q, &f->who, fmt) : tm_query_can_write(&b, f->q, &f->can, fmt);
    assert_int_equal(rc, TM_OK);
    return tm_buf_detach(&b);
}

static void test_outputs(void **state) {
    struct s_fix *f = *state;
    s_can(f, ANALYTICS, "s3:GetObject", VAULT "/x");
    char *t = s_text(f, false, TM_QUERY_TEXT);
    assert_non_null(strstr(t, "DENIED (explicitly): role analytics cannot s3:GetObject on " VAULT "/x"));
    assert_non_null(strstr(t, "denied by service control policy ProtectVault (attached to ou-apps), statement 0 "
                              "(Sid NoVault)"));
    free(t);
    t = s_text(f, false, TM_QUERY_JSON);
    cJSON *doc = cJSON_Parse(t);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "schema")->valuestring, "tmscan.query/1");
    assert_string_equal(cJSON_GetObjectItem(doc, "decision")->valuestring, "explicitDeny");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(doc, "allowed")));
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "statements"), 0);
    assert_string_equal(cJSON_GetObjectItem(st, "set")->valuestring, "scp");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "document"), "Sid")->valuestring, "NoVault");
    cJSON_Delete(doc);
    char *again = s_text(f, false, TM_QUERY_JSON);
    assert_string_equal(t, again);
    free(again);
    free(t);

    s_who(f, "s3:GetObject", PARTNER_SHARE);
    t = s_text(f, true, TM_QUERY_TEXT);
    assert_non_null(strstr(t, "account 999999999999 — s3:GetObject"));
    assert_non_null(strstr(t, "allowed by bucket policy of bucket partner-share, statement 0 (Sid PartnerRead)"));
    free(t);
    t = s_text(f, true, TM_QUERY_JSON);
    doc = cJSON_Parse(t);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "question")->valuestring, "who-can");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "principals")), 2);
    cJSON_Delete(doc);
    free(t);
    enum tm_query_format fmt;
    assert_int_equal(tm_query_format_parse("json", &fmt), TM_OK);
    assert_int_equal(fmt, TM_QUERY_JSON);
    assert_int_equal(tm_query_format_parse("dot", &fmt), TM_ERR_INVALID);
}

/* ---- who-can answers against references ---- */

/* The who-can JSON as documented (tmscan.query/1), built as a cJSON tree and printed canonically: the writer's
 * bytes must be these. */
static const char *s_ref_set(enum tm_iam_set_kind k) {
    switch (k) {
        case TM_IAM_SET_IDENTITY:
            return "identity";
        case TM_IAM_SET_RESOURCE:
            return "resource";
        case TM_IAM_SET_BOUNDARY:
            return "boundary";
        case TM_IAM_SET_SESSION:
            return "session";
        case TM_IAM_SET_SCP:
            return "scp";
        case TM_IAM_SET_RCP:
            return "rcp";
        default:
            return "unknown";
    }
}

static int s_ref_rank(enum tm_iam_set_kind k) {
    static const int rank[] = {[TM_IAM_SET_IDENTITY] = 0, [TM_IAM_SET_RESOURCE] = 1, [TM_IAM_SET_BOUNDARY] = 2,
                               [TM_IAM_SET_SESSION] = 3,  [TM_IAM_SET_SCP] = 4,      [TM_IAM_SET_RCP] = 5};
    return (size_t)k < sizeof(rank) / sizeof(rank[0]) ? rank[k] : 6;
}

static const char *s_or(const char *s) {
    return s ? s : "";
}

static int s_ref_cmp(const void *pa, const void *pb) {
    const struct tm_query_statement *a = *(const struct tm_query_statement *const *)pa;
    const struct tm_query_statement *b = *(const struct tm_query_statement *const *)pb;
    if (a->effect != b->effect)
        return a->effect == TM_IAM_DENY ? -1 : 1;
    if (s_ref_rank(a->set) != s_ref_rank(b->set))
        return s_ref_rank(a->set) < s_ref_rank(b->set) ? -1 : 1;
    int c = strcmp(s_or(a->holder), s_or(b->holder));
    if (c || (c = strcmp(s_or(a->policy), s_or(b->policy))))
        return c;
    if (a->statement != b->statement)
        return a->statement < b->statement ? -1 : 1;
    return strcmp(s_or(a->json), s_or(b->json));
}

static cJSON *s_ref_str(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static char *s_reference_json(const struct tm_graph *g, const struct tm_query_who *w) {
    const struct tm_graph_node *rn = tm_graph_node(g, w->resource_node);
    cJSON *root = cJSON_CreateObject(), *acts = cJSON_CreateArray(), *list = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "schema", "tmscan.query/1");
    cJSON_AddStringToObject(root, "question", "who-can");
    cJSON_AddItemToObject(root, "action", s_ref_str(w->action_asked));
    for (size_t i = 0; i < w->n_actions; i++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(w->actions[i]));
    cJSON_AddItemToObject(root, "actions", acts);
    cJSON *r = cJSON_AddObjectToObject(root, "resource");
    cJSON_AddItemToObject(r, "asked", s_ref_str(w->resource_asked));
    cJSON_AddItemToObject(r, "node", s_ref_str(rn ? rn->id : NULL));
    cJSON_AddItemToObject(r, "type", s_ref_str(rn ? rn->type : NULL));
    cJSON_AddBoolToObject(r, "policy_unknown", w->resource_policy_unknown);
    cJSON_AddItemToObject(root, "principals", list);
    for (size_t i = 0; i < w->n_grantees; i++) {
        const struct tm_query_grantee *gr = &w->grantees[i];
        const struct tm_graph_node *n = tm_graph_node(g, gr->node);
        cJSON *o = cJSON_CreateObject(), *ga = cJSON_CreateArray(), *st = cJSON_CreateArray();
        cJSON_AddItemToArray(list, o);
        cJSON_AddItemToObject(o, "id", s_ref_str(n->id));
        cJSON_AddItemToObject(o, "type", s_ref_str(n->type));
        cJSON_AddItemToObject(o, "kind", s_ref_str(tm_graph_node_kind_name(n->kind)));
        cJSON_AddBoolToObject(o, "in_snapshot", (n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) != 0);
        cJSON_AddBoolToObject(o, "unknown", gr->unknown);
        cJSON_AddBoolToObject(o, "conditional", gr->conditional);
        cJSON_AddItemToObject(o, "conditions", s_ref_str(gr->conditions));
        for (size_t k = 0; k < gr->n_actions; k++)
            cJSON_AddItemToArray(ga, cJSON_CreateString(gr->actions[k]));
        cJSON_AddItemToObject(o, "actions", ga);
        const struct tm_query_statement **sorted = calloc(gr->n_statements + 1, sizeof(*sorted));
        for (size_t k = 0; k < gr->n_statements; k++)
            sorted[k] = &gr->statements[k];
        qsort(sorted, gr->n_statements, sizeof(*sorted), s_ref_cmp);
        for (size_t k = 0; k < gr->n_statements; k++) {
            const struct tm_query_statement *s = sorted[k];
            cJSON *so = cJSON_CreateObject();
            cJSON_AddItemToArray(st, so);
            cJSON_AddItemToObject(so, "set", s_ref_str(s_ref_set(s->set)));
            cJSON_AddItemToObject(so, "effect", s_ref_str(tm_iam_effect_name(s->effect)));
            cJSON_AddItemToObject(so, "what", s_ref_str(s->what));
            cJSON_AddItemToObject(so, "holder", s_ref_str(s->holder));
            cJSON_AddItemToObject(so, "policy", s_ref_str(s->policy));
            cJSON_AddItemToObject(so, "detail", s_ref_str(s->detail));
            if (s->statement >= 0)
                cJSON_AddNumberToObject(so, "statement", s->statement);
            else
                cJSON_AddNullToObject(so, "statement");
            cJSON_AddItemToObject(so, "sid", s_ref_str(s->sid));
            cJSON *doc = s->json && s->json[0] == '{' ? cJSON_Parse(s->json) : NULL;
            cJSON_AddItemToObject(so, "document", doc ? doc : cJSON_CreateNull());
            cJSON_AddItemToObject(so, "text", s_ref_str(doc ? NULL : s->json));
        }
        free(sorted);
        cJSON_AddItemToObject(o, "statements", st);
    }
    char *text = tm_json_print_canonical(root, true);
    cJSON_Delete(root);
    size_t len = strlen(text);
    char *out = realloc(text, len + 2);
    out[len] = '\n';
    out[len + 1] = '\0';
    return out;
}

static char *s_who_out(const struct tm_query *q, const struct tm_query_who *w, enum tm_query_format fmt) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_query_who_write(&b, q, w, fmt), TM_OK);
    return tm_buf_detach(&b);
}

/* Every who-can question about every resource and principal of a graph, asked of an engine with its shortcuts
 * (the candidates of each set by action, the principals' policy entries and the evaluations shared by principals
 * the engine cannot tell apart, all kept across questions) and of one that works each answer out from scratch:
 * the same answers, and the JSON writer's bytes are the reference rendering's. Returns the questions with more
 * than one grantee. */
static size_t s_who_same_as_plain(const struct tm_graph *g, const struct tm_iam_catalog *actions, size_t step) {
    static const char *const asked[] = {"s3:GetObject",     "s3:*",
                                        "s3:Put*",          "sqs:SendMessage",
                                        "kms:Decrypt",      "sns:Publish",
                                        "sts:AssumeRole",   "lambda:InvokeFunction",
                                        "iam:PassRole",     "secretsmanager:GetSecretValue",
                                        "ecr:BatchGetImage"};
    struct tm_query *fast = NULL, *plain = NULL;
    assert_int_equal(tm_query_new(&fast, g, actions), TM_OK);
    assert_int_equal(tm_query_new(&plain, g, actions), TM_OK);
    tm__query_set_plain(plain, true);
    size_t rich = 0, answered = 0;
    for (uint32_t v = 0; v < tm_graph_node_count(g); v += (uint32_t)step) {
        const struct tm_graph_node *n = tm_graph_node(g, v);
        if (!(n->flags & TM_GRAPH_NODE_IN_SNAPSHOT))
            continue;
        for (size_t a = 0; a < sizeof(asked) / sizeof(asked[0]); a++) {
            struct tm_query_who x, y;
            char e1[512] = "", e2[512] = "";
            int r1 = tm_query_who_can(fast, &x, asked[a], n->id, e1, sizeof(e1));
            int r2 = tm_query_who_can(plain, &y, asked[a], n->id, e2, sizeof(e2));
            assert_int_equal(r1, r2);
            if (r1) {
                assert_string_equal(e1, e2);
                continue;
            }
            answered++;
            rich += x.n_grantees > 1;
            char *jx = s_who_out(fast, &x, TM_QUERY_JSON), *jy = s_who_out(plain, &y, TM_QUERY_JSON);
            char *ref = s_reference_json(g, &y);
            if (strcmp(jx, jy) != 0)
                fail_msg("who-can %s on %s: the engine's answer differs from the plain engine's", asked[a], n->id);
            if (strcmp(jy, ref) != 0)
                fail_msg("who-can %s on %s: the JSON differs from the reference rendering", asked[a], n->id);
            char *tx = s_who_out(fast, &x, TM_QUERY_TEXT), *ty = s_who_out(plain, &y, TM_QUERY_TEXT);
            assert_string_equal(tx, ty);
            free(jx);
            free(jy);
            free(ref);
            free(tx);
            free(ty);
            tm_query_who_clean_up(&x);
            tm_query_who_clean_up(&y);
        }
    }
    assert_true(answered > 20);
    tm_query_destroy(fast);
    tm_query_destroy(plain);
    return rich;
}

static void test_who_can_shortcuts_exact(void **state) {
    (void)state;
    static const char *const files[] = {"demo-shaped.json", "blast-basic.json", "blast-memo.json", "graph-basic.json",
                                        "privesc-cases.json"};
    struct tm_test_analysis t;
    size_t rich = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tm_test_analysis_load(&t, files[i]);
        rich += s_who_same_as_plain(t.graph, t.actions, 1);
        tm_test_analysis_clean_up(&t);
    }
    assert_true(rich > 50);
    /* A generated account: hundreds of roles sharing managed policies, administrators among them. */
    tm_test_analysis_load(&t, "blast-basic.json");
    struct tm_snapshot *snap = NULL;
    struct tm_synth_counts counts;
    assert_int_equal(tm_test_synth_snapshot(&snap, 500, 11, &counts), TM_OK);
    struct tm_graph *g = NULL;
    char err[256];
    struct tm_graph_options o = {.actions = t.actions, .privesc = t.privesc};
    assert_int_equal(tm_graph_build(&g, snap, &o, err, sizeof(err)), TM_OK);
    assert_true(s_who_same_as_plain(g, t.actions, 3) > 20);
    tm_graph_destroy(g);
    tm_snapshot_destroy(snap);
    tm_test_analysis_clean_up(&t);
}

/* Strings with quotes, backslashes, control bytes and UTF-8 are escaped as the reference printer does. */
static void test_who_json_escapes(void **state) {
    (void)state;
    static const char snap[] =
        "{\"schema\":\"tmscan.snapshot/1\",\"tool\":{\"name\":\"tmscan\",\"version\":\"0.1.0\"},"
        "\"scope\":{\"provider\":\"aws\",\"accounts\":[\"111122223333\"],\"regions\":[\"eu-west-1\"],"
        "\"services\":[\"iam\",\"s3\"]},\"errors\":[],\"resources\":["
        "{\"id\":\"arn:aws:iam::111122223333:role/r\",\"type\":\"aws:iam:role\",\"name\":\"r\","
        "\"account\":\"111122223333\",\"region\":\"global\",\"attrs\":{\"path\":\"/\"},"
        "\"policies\":{\"trust\":null,\"identity\":[{\"kind\":\"inline\",\"name\":\"in \\\"quotes\\\"\\t\\u0002\","
        "\"document\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"a \\\"q\\\" \\\\ b\\n\\u0001 "
        "\\u00e9t\\u00e9 long enough to cross words\",\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
        "\"Resource\":\"*\"}]}}]},\"links\":[]},"
        "{\"id\":\"arn:aws:s3:::weird\",\"type\":\"aws:s3:bucket\",\"name\":\"weird\","
        "\"account\":\"111122223333\",\"region\":\"eu-west-1\",\"attrs\":{},\"policies\":{\"resource\":null},"
        "\"links\":[]}]}";
    struct tm_test_analysis t;
    tm_test_analysis_parse(&t, snap);
    struct tm_query *q = NULL;
    assert_int_equal(tm_query_new(&q, t.graph, t.actions), TM_OK);
    struct tm_query_who w;
    char err[256];
    assert_int_equal(tm_query_who_can(q, &w, "s3:GetObject", "arn:aws:s3:::weird", err, sizeof(err)), TM_OK);
    assert_int_equal(w.n_grantees, 1);
    char *json = s_who_out(q, &w, TM_QUERY_JSON), *ref = s_reference_json(t.graph, &w);
    assert_string_equal(json, ref);
    cJSON *doc = cJSON_Parse(json);
    assert_non_null(doc);
    const cJSON *st = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "principals"), 0), "statements"), 0);
    assert_string_equal(cJSON_GetObjectItem(st, "sid")->valuestring,
                        "a \"q\" \\ b\n\001 \xc3\xa9t\xc3\xa9 long enough to cross words");
    assert_string_equal(cJSON_GetObjectItem(st, "policy")->valuestring, "in \"quotes\"\t\002");
    assert_non_null(strstr(json, "\\u0001"));
    cJSON_Delete(doc);
    free(json);
    free(ref);
    tm_query_who_clean_up(&w);
    tm_query_destroy(q);
    tm_test_analysis_clean_up(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_can_allowed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_can_denied, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_can_cross_account_and_unknown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_can_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_who_can, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_who_can_unknown_and_conditional, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_who_can_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_outputs, s_setup, s_teardown),
        cmocka_unit_test(test_who_can_shortcuts_exact),
        cmocka_unit_test(test_who_json_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
