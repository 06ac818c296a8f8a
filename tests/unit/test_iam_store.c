/* The policy store: "can principal P do action A on resource R" over a snapshot's policies, parsed once.
 * Evaluation semantics are tested in test_iam_eval.c; here: indexing, role sessions, organisation
 * levels of both accounts, missing keys, and scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzers/iam/store.h"

#define A "111122223333"
#define B "444455556666"

static void s_add(struct tm_iam_store *s, const char *key, const char *json, enum tm_iam_policy_kind kind) {
    char err[512];
    if (tm_iam_store_add_policy_text(s, key, json, strlen(json), kind, err, sizeof(err)))
        fail_msg("%s", err);
}

static enum tm_iam_decision s_can(struct tm_iam_store *s, const char *who, const char *action, const char *res) {
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    struct tm_iam_store_query q = {.principal = who, .action = action, .resource = res};
    char err[256];
    if (tm_iam_store_can(&r, s, &q, false, err, sizeof(err)))
        fail_msg("query: %s", err);
    enum tm_iam_decision d = r.decision;
    tm_iam_result_clean_up(&r);
    return d;
}

static struct tm_iam_store *s_fixture(void) {
    struct tm_iam_store *s = NULL;
    assert_int_equal(tm_iam_store_new(&s), TM_OK);
    s_add(s, "arn:aws:iam::aws:policy/ReadOnly",
          "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\",\"s3:List*\"],\"Resource\":\"*\"}}",
          TM_IAM_POLICY_IDENTITY);
    s_add(s, "arn:aws:iam::" A ":role/app#inline/write",
          "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::data/*\"}}",
          TM_IAM_POLICY_IDENTITY);
    s_add(s, "boundary", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}",
          TM_IAM_POLICY_IDENTITY);
    const char *app_keys[] = {"arn:aws:iam::aws:policy/ReadOnly", "arn:aws:iam::" A ":role/app#inline/write"};
    assert_int_equal(tm_iam_store_set_principal(s, "arn:aws:iam::" A ":role/path/app", app_keys, 2, "boundary"), TM_OK);
    s_add(s, "arn:aws:s3:::data#policy",
          "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" B "\"},\"Action\":\"s3:GetObject\","
          "\"Resource\":\"arn:aws:s3:::data/*\"}}",
          TM_IAM_POLICY_RESOURCE);
    assert_int_equal(tm_iam_store_set_resource(s, "arn:aws:s3:::data/report.csv", A, "arn:aws:s3:::data#policy"),
                     TM_OK);
    const char *partner_keys[] = {"arn:aws:iam::aws:policy/ReadOnly"};
    assert_int_equal(tm_iam_store_set_principal(s, "arn:aws:iam::" B ":user/partner", partner_keys, 1, NULL), TM_OK);
    return s;
}

static void store_role_session_uses_role_policies(void **state) {
    (void)state;
    struct tm_iam_store *s = s_fixture();
    const char *session = "arn:aws:sts::" A ":assumed-role/app/i-0123";
    assert_int_equal(s_can(s, session, "s3:GetObject", "arn:aws:s3:::data/report.csv"), TM_IAM_ALLOWED);
    assert_int_equal(s_can(s, session, "s3:PutObject", "arn:aws:s3:::data/report.csv"), TM_IAM_ALLOWED);
    assert_int_equal(s_can(s, session, "s3:DeleteObject", "arn:aws:s3:::data/report.csv"), TM_IAM_IMPLICIT_DENY);
    assert_int_equal(s_can(s, "arn:aws:iam::" A ":role/path/app", "s3:PutObject", "arn:aws:s3:::data/x"),
                     TM_IAM_ALLOWED);
    /* A session of another role of the same name in another account is not this role. */
    assert_int_equal(s_can(s, "arn:aws:sts::" B ":assumed-role/app/x", "s3:PutObject", "arn:aws:s3:::data/x"),
                     TM_IAM_IMPLICIT_DENY);
    tm_iam_store_destroy(s);
}

static void store_cross_account_needs_both_sides(void **state) {
    (void)state;
    struct tm_iam_store *s = s_fixture();
    assert_int_equal(s_can(s, "arn:aws:iam::" B ":user/partner", "s3:GetObject", "arn:aws:s3:::data/report.csv"),
                     TM_IAM_ALLOWED);
    assert_int_equal(s_can(s, "arn:aws:iam::" B ":user/partner", "s3:ListBucket", "arn:aws:s3:::data/report.csv"),
                     TM_IAM_IMPLICIT_DENY);
    assert_int_equal(s_can(s, "arn:aws:iam::" B ":user/stranger", "s3:GetObject", "arn:aws:s3:::data/report.csv"),
                     TM_IAM_IMPLICIT_DENY);
    assert_int_equal(s_can(s, "anonymous", "s3:GetObject", "arn:aws:s3:::data/report.csv"), TM_IAM_IMPLICIT_DENY);
    tm_iam_store_destroy(s);
}

static void store_scps_of_principal_rcps_of_resource(void **state) {
    (void)state;
    struct tm_iam_store *s = s_fixture();
    s_add(s, "FullAWSAccess", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}",
          TM_IAM_POLICY_SCP);
    s_add(s, "DenyPut", "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:PutObject\",\"Resource\":\"*\"}}",
          TM_IAM_POLICY_SCP);
    s_add(s, "RCPFullAWSAccess",
          "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}}",
          TM_IAM_POLICY_RCP);
    s_add(
        s, "RCPOrgOnly",
        "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{"
        "\"StringNotEqualsIfExists\":{\"aws:PrincipalOrgID\":\"o-1234567890\"}}}}",
        TM_IAM_POLICY_RCP);
    /* Account B (the partner) is under an SCP that denies PutObject; A's resources under an RCP. */
    assert_int_equal(tm_iam_store_add_scp(s, B, 0, "FullAWSAccess"), TM_OK);
    assert_int_equal(tm_iam_store_add_scp(s, B, 1, "FullAWSAccess"), TM_OK);
    assert_int_equal(tm_iam_store_add_scp(s, B, 1, "DenyPut"), TM_OK);
    assert_int_equal(tm_iam_store_add_rcp(s, A, 0, "RCPFullAWSAccess"), TM_OK);
    assert_int_equal(tm_iam_store_add_rcp(s, A, 0, "RCPOrgOnly"), TM_OK);
    /* The partner is outside A's organisation: the RCP denies. */
    assert_int_equal(s_can(s, "arn:aws:iam::" B ":user/partner", "s3:GetObject", "arn:aws:s3:::data/report.csv"),
                     TM_IAM_EXPLICIT_DENY);
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:PrincipalOrgID", "o-1234567890"), TM_OK);
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    struct tm_iam_store_query q = {.principal = "arn:aws:iam::" B ":user/partner",
                                   .action = "s3:GetObject",
                                   .resource = "arn:aws:s3:::data/report.csv",
                                   .context = &ctx};
    assert_int_equal(tm_iam_store_can(&r, s, &q, true, NULL, 0), TM_OK);
    assert_int_equal(r.decision, TM_IAM_ALLOWED);
    assert_true(r.n_matches >= 3);
    tm_iam_result_clean_up(&r);
    tm_iam_context_clean_up(&ctx);
    tm_iam_store_destroy(s);
}

static void store_errors(void **state) {
    (void)state;
    struct tm_iam_store *s = s_fixture();
    char err[256];
    assert_int_equal(tm_iam_store_add_policy_text(s, "arn:aws:iam::aws:policy/ReadOnly", "{\"Statement\":[]}", 16,
                                                  TM_IAM_POLICY_IDENTITY, err, sizeof(err)),
                     TM_ERR_INVALID);
    assert_non_null(strstr(err, "already registered"));
    const char *bad = "{\"Statement\":{\"Effect\":\"Allow\"}}";
    assert_int_equal(tm_iam_store_add_policy_text(s, "bad", bad, strlen(bad), TM_IAM_POLICY_IDENTITY, err, sizeof(err)),
                     TM_ERR_PARSE);
    assert_non_null(strstr(err, "bad: statement 0"));
    const char *keys[] = {"never-registered"};
    assert_int_equal(tm_iam_store_set_principal(s, "arn:aws:iam::" A ":user/u", keys, 1, NULL), TM_OK);
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    struct tm_iam_store_query q = {.principal = "arn:aws:iam::" A ":user/u", .action = "s3:GetObject", .resource = "*"};
    assert_int_equal(tm_iam_store_can(&r, s, &q, false, err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "never-registered"));
    q.action = NULL;
    assert_int_equal(tm_iam_store_can(&r, s, &q, false, err, sizeof(err)), TM_ERR_INVALID);
    assert_null(tm_iam_store_policy(s, "nope"));
    assert_non_null(tm_iam_store_policy(s, "boundary"));
    tm_iam_result_clean_up(&r);
    /* Replacing a principal keeps the role index pointing at the new entry. */
    const char *none[] = {"arn:aws:iam::aws:policy/ReadOnly"};
    assert_int_equal(tm_iam_store_set_principal(s, "arn:aws:iam::" A ":role/path/app", none, 1, NULL), TM_OK);
    assert_int_equal(s_can(s, "arn:aws:sts::" A ":assumed-role/app/s", "s3:PutObject", "arn:aws:s3:::data/x"),
                     TM_IAM_IMPLICIT_DENY);
    tm_iam_store_destroy(s);
    tm_iam_store_destroy(NULL);
}

static void store_json_documents(void **state) {
    (void)state;
    struct tm_iam_store *s = NULL;
    assert_int_equal(tm_iam_store_new(&s), TM_OK);
    cJSON *doc = cJSON_Parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
                             "\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}");
    char err[256];
    assert_int_equal(tm_iam_store_add_policy_json(s, "role#trust", doc, TM_IAM_POLICY_TRUST, err, sizeof(err)), TM_OK);
    cJSON_Delete(doc);
    assert_int_equal(tm_iam_store_set_resource(s, "arn:aws:iam::" A ":role/fn", NULL, "role#trust"), TM_OK);
    assert_int_equal(s_can(s, "lambda.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::" A ":role/fn"), TM_IAM_ALLOWED);
    assert_int_equal(s_can(s, "ec2.amazonaws.com", "sts:AssumeRole", "arn:aws:iam::" A ":role/fn"),
                     TM_IAM_IMPLICIT_DENY);
    assert_int_equal(tm_iam_store_add_policy_json(s, "x", NULL, TM_IAM_POLICY_TRUST, err, sizeof(err)), TM_ERR_INVALID);
    tm_iam_store_destroy(s);
}

/* The graph of a large account: 100,000 buckets, each with its own policy; a role reading all of them
 * through one wildcard grant. Every query is a few hash lookups and one evaluation. */
static void store_scale(void **state) {
    (void)state;
    struct tm_iam_store *s = NULL;
    assert_int_equal(tm_iam_store_new(&s), TM_OK);
    s_add(s, "read-all", "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}}",
          TM_IAM_POLICY_IDENTITY);
    const char *keys[] = {"read-all"};
    assert_int_equal(tm_iam_store_set_principal(s, "arn:aws:iam::" A ":role/reader", keys, 1, NULL), TM_OK);
    enum { N = 100000 };
    char arn[128], key[160], doc[512];
    for (int i = 0; i < N; i++) {
        snprintf(arn, sizeof(arn), "arn:aws:s3:::bucket-%06d/k", i);
        snprintf(key, sizeof(key), "%s#policy", arn);
        snprintf(doc, sizeof(doc),
                 "{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":"
                 "\"arn:aws:s3:::bucket-%06d/*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}}",
                 i);
        s_add(s, key, doc, TM_IAM_POLICY_RESOURCE);
        assert_int_equal(tm_iam_store_set_resource(s, arn, A, key), TM_OK);
    }
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:SecureTransport", "true"), TM_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t allowed = 0;
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    for (int i = 0; i < N; i++) {
        snprintf(arn, sizeof(arn), "arn:aws:s3:::bucket-%06d/k", i);
        struct tm_iam_store_query q = {
            .principal = "arn:aws:iam::" A ":role/reader", .action = "s3:GetObject", .resource = arn, .context = &ctx};
        assert_int_equal(tm_iam_store_can(&r, s, &q, false, NULL, 0), TM_OK);
        allowed += r.decision == TM_IAM_ALLOWED;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    tm_iam_result_clean_up(&r);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("store: %d queries in %.3f s\n", N, secs);
    assert_int_equal(allowed, N);
    /* Generous for a shared, sanitised build; a plain build does this in well under a second. */
    assert_true(secs < 60.0);
    tm_iam_context_clean_up(&ctx);
    tm_iam_store_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_role_session_uses_role_policies),
        cmocka_unit_test(store_cross_account_needs_both_sides),
        cmocka_unit_test(store_scps_of_principal_rcps_of_resource),
        cmocka_unit_test(store_errors),
        cmocka_unit_test(store_json_documents),
        cmocka_unit_test(store_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
