/* Who can reach a resource, and who can assume a role. Among the cases, the false positives and
 * negatives that peers' users reported, each with the report it answers; tmscan gives the right answer:
 * - SQS/SNS policies with Principal "*" narrowed by aws:SourceArn/SourceAccount/SourceOwner are AWS
 *   services acting for named resources, not public;
 * - Deny statements (and negated conditions in them) are evaluated;
 * - NotPrincipal with Allow grants everyone except the listed principals;
 * - trust-policy conditions (OIDC sub) are read.
 * Pages followed:
 *   [PRIN]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *   [NOTP]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
 *   [KEYS]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 *   [BPA]   https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
 *   [ACL]   https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html
 *   [OIDC]  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
 *   [URL]   https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/catalog.h"
#include "analyzers/iam/policy.h"
#include "analyzers/iam/reach.h"

#define ACCT "111122223333"

static int s_setup(void **state) {
    char path[4096];
    const char *root = getenv("TM_ROOT");
    snprintf(path, sizeof(path), "%s/policies/iam-actions.json", root && *root ? root : ".");
    struct tm_iam_catalog *cat = NULL;
    char err[512];
    if (tm_iam_catalog_load(&cat, path, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "catalogue: %s\n", err);
        return -1;
    }
    *state = cat;
    return 0;
}

static int s_teardown(void **state) {
    tm_iam_catalog_destroy(*state);
    return 0;
}

struct s_opts {
    const char *account;
    const char *resource;
    const char *acl;
    const struct tm_iam_s3_bpa *bpa;
    const struct tm_iam_s3_bpa *acct_bpa;
    const char *url;
    bool no_catalog;
};

static struct tm_iam_reach_result *s_run(void **state, enum tm_iam_resource_type type, const char *json,
                                         const struct s_opts *o) {
    static const struct s_opts none = {.account = ACCT};
    if (!o)
        o = &none;
    char err[1024];
    struct tm_iam_policy *pol = NULL;
    if (json &&
        tm_iam_policy_parse(&pol, json, strlen(json),
                            type == TM_IAM_RES_TRUST ? TM_IAM_POLICY_TRUST : TM_IAM_POLICY_RESOURCE, err, sizeof(err)))
        fail_msg("policy: %s", err);
    struct tm_iam_reach_input in = {.type = type,
                                    .policy = pol,
                                    .account = o->account,
                                    .resource_arn = o->resource,
                                    .catalog = o->no_catalog ? NULL : *state,
                                    .s3_acl_json = o->acl,
                                    .bucket_bpa = o->bpa,
                                    .account_bpa = o->acct_bpa,
                                    .lambda_url_auth_type = o->url};
    struct tm_iam_reach_result *r = NULL;
    if (tm_iam_reach_analyze(&r, &in, err, sizeof(err)))
        fail_msg("analyze: %s", err);
    if (o->acl) {
        /* The same ACL given as a tree gives the same result. */
        cJSON *tree = cJSON_Parse(o->acl);
        assert_non_null(tree);
        struct tm_iam_reach_input as_tree = in;
        as_tree.s3_acl_json = NULL;
        as_tree.s3_acl = tree;
        struct tm_iam_reach_result *r2 = NULL;
        if (tm_iam_reach_analyze(&r2, &as_tree, err, sizeof(err)))
            fail_msg("analyze (tree): %s", err);
        char *a = NULL, *b = NULL;
        assert_int_equal(tm_iam_reach_to_json(&a, r, "acl"), TM_OK);
        assert_int_equal(tm_iam_reach_to_json(&b, r2, "acl"), TM_OK);
        assert_string_equal(a, b);
        free(a);
        free(b);
        tm_iam_reach_result_destroy(r2);
        cJSON_Delete(tree);
    }
    /* The policy is not needed once analysed: evidence lives in the result. */
    tm_iam_policy_destroy(pol);
    return r;
}

/* The grants that reach action; *n their number. */
static const struct tm_iam_grant *s_grants(const struct tm_iam_reach_result *r, const char *action, size_t *idx,
                                           size_t *group) {
    for (size_t g = *group; g < r->n_groups; g++) {
        for (size_t k = (g == *group ? *idx : 0); k < r->groups[g].n_grants; k++) {
            const struct tm_iam_grant *gr = &r->groups[g].grants[k];
            for (size_t a = 0; a < gr->n_actions; a++) {
                if (strcasecmp(gr->actions[a], action) == 0) {
                    *group = g;
                    *idx = k + 1;
                    return gr;
                }
            }
        }
    }
    return NULL;
}

/* The one grant that reaches action (fails when there are several or none). */
static const struct tm_iam_grant *s_only(const struct tm_iam_reach_result *r, const char *action) {
    size_t i = 0, g = 0;
    const struct tm_iam_grant *a = s_grants(r, action, &i, &g);
    if (!a)
        fail_msg("nothing reaches %s", action);
    if (s_grants(r, action, &i, &g))
        fail_msg("several grants reach %s", action);
    return a;
}

static bool s_reached(const struct tm_iam_reach_result *r, const char *action) {
    size_t i = 0, g = 0;
    return s_grants(r, action, &i, &g) != NULL;
}

static bool s_has(const char *const *v, size_t n, const char *x) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], x) == 0)
            return true;
    return false;
}

static const char *s_level(const struct tm_iam_reach_result *r, const char *action) {
    for (size_t g = 0; g < r->n_groups; g++)
        for (size_t k = 0; k < r->groups[g].n_grants; k++)
            if (s_has(r->groups[g].grants[k].actions, r->groups[g].grants[k].n_actions, action))
                return r->groups[g].level;
    return NULL;
}

/* ---- peers' false positives: AWS services on behalf of named resources ---- */

/* https://github.com/prowler-cloud/prowler/issues/2565 (and #247): Principal "*", SQS:* narrowed by
 * ArnEquals aws:SourceArn to an SNS topic of the same account. */
static void fp_prowler_2565_sqs_source_arn_same_account(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_SQS,
        "{\"Version\":\"2012-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{\"Sid\":\"__owner_statement\","
        "\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"SQS:*\",\"Resource\":\"arn:aws:sqs:eu-west-1:"
        "111111111111:check-false-positive\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:"
        "111111111111:xxxxxxxxxxxxxxxxxxxxx\"}}}]}",
        &(struct s_opts){.account = "111111111111"});
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_false(g->any_resource);
    assert_true(s_has(g->who, g->n_who, "arn:aws:sns:us-east-1:111111111111:xxxxxxxxxxxxxxxxxxxxx"));
    assert_false(g->cross_account);
    assert_false(r->cross_account);
    assert_int_equal(r->widest, TM_IAM_REACH_SERVICE);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/3212: the source is an S3 bucket, whose ARN has no
 * account; bucket names are global, so the bucket is still named. */
static void fp_prowler_3212_sqs_source_arn_bucket(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_SQS,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
        "\"sqs:SendMessage\",\"Resource\":\"arn:aws:sqs:*:*:events\",\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":"
        "\"arn:aws:s3:::uploads-bucket\"}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(s_has(g->who, g->n_who, "arn:aws:s3:::uploads-bucket"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/3199: an SNS topic in another account may send: that
 * is cross-account (exit 1), but not public. */
static void fp_prowler_3199_sqs_cross_account_topic(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_SQS,
        "{\"Statement\":[{\"Sid\":\"Stmt1234\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:SendMessage\","
        "\"Resource\":\"arn:aws:sqs:us-west-2:111111111111:QueueName\",\"Condition\":{\"ArnEquals\":{"
        "\"aws:SourceArn\":\"arn:aws:sns:us-west-2:555555555555:TopicName\"}}}]}",
        &(struct s_opts){.account = "111111111111"});
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(g->cross_account);
    assert_int_not_equal(r->widest, TM_IAM_REACH_PUBLIC);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/SecurityFTW/cs-suite/issues/23, https://github.com/nccgroup/ScoutSuite/issues/1580,
 * https://github.com/turbot/steampipe-mod-aws-compliance/issues/852, https://github.com/mondoohq/mql/pull/9434:
 * the default SNS topic policy, {"AWS": "*"} narrowed by "AWS:SourceOwner" (key names ignore case). */
#define SNS_DEFAULT                                                                                                    \
    "{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{\"Sid\":\"__default_statement_ID\","   \
    "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"SNS:GetTopicAttributes\","                       \
    "\"SNS:SetTopicAttributes\",\"SNS:AddPermission\",\"SNS:RemovePermission\",\"SNS:DeleteTopic\",\"SNS:Subscribe\"," \
    "\"SNS:ListSubscriptionsByTopic\",\"SNS:Publish\",\"SNS:Receive\"],\"Resource\":\"arn:aws:sns:eu-west-2:" ACCT     \
    ":alerts\",\"Condition\":{\"StringEquals\":{\"AWS:SourceOwner\":\"" ACCT "\"}}}"

static void fp_sns_default_policy_source_owner(void **state) {
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_SNS, SNS_DEFAULT "]}", NULL);
    const struct tm_iam_grant *g = s_only(r, "sns:Publish");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(s_has(g->who, g->n_who, ACCT));
    assert_false(r->cross_account);
    g = s_only(r, "sns:AddPermission");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_string_equal(s_level(r, "sns:AddPermission"), "Permissions management");
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/nccgroup/ScoutSuite/issues/1580, second statement: aws:PrincipalOrgID. */
static void fp_scoutsuite_1580_sns_principal_org(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SNS,
              SNS_DEFAULT ",{\"Sid\":\"AWSSNSPolicy\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                          "\"sns:Publish\",\"Resource\":\"arn:aws:sns:eu-west-2:" ACCT ":alerts\",\"Condition\":{"
                          "\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-a1b2c3d4e5\"}}}]}",
              NULL);
    size_t i = 0, gi = 0;
    bool org = false, svc = false;
    for (const struct tm_iam_grant *g; (g = s_grants(r, "sns:Publish", &i, &gi));) {
        org = org || (g->reach == TM_IAM_REACH_ORGANIZATION && s_has(g->who, g->n_who, "o-a1b2c3d4e5"));
        svc = svc || g->reach == TM_IAM_REACH_SERVICE;
    }
    assert_true(org);
    assert_true(svc);
    assert_false(r->cross_account);
    assert_int_equal(r->widest, TM_IAM_REACH_ORGANIZATION);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/8326: SNS, {"AWS": "*"}, ArnLike aws:SourceArn bucket. */
static void fp_prowler_8326_sns_arn_like_bucket(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SNS,
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
              "\"Action\":\"SNS:Publish\",\"Resource\":\"arn:aws:sns:*:*:uploads\",\"Condition\":{\"ArnLike\":{"
              "\"aws:SourceArn\":\"arn:aws:s3:::uploads-bucket\"}}}]}",
              NULL);
    assert_int_equal(s_only(r, "sns:Publish")->reach, TM_IAM_REACH_SERVICE);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/1151: ECR, Principal "*", ForAnyValue:StringLike on
 * aws:PrincipalOrgPaths. */
static void fp_prowler_1151_ecr_org_paths(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_ECR,
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AllowPull\",\"Effect\":\"Allow\",\"Principal\":\"*\","
        "\"Action\":[\"ecr:BatchCheckLayerAvailability\",\"ecr:BatchGetImage\",\"ecr:DescribeImages\","
        "\"ecr:DescribeRepositories\",\"ecr:GetDownloadUrlForLayer\",\"ecr:ListImages\"],\"Condition\":{"
        "\"ForAnyValue:StringLike\":{\"aws:PrincipalOrgPaths\":\"o-dummy/*/ou-dummy/*\"}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "ecr:BatchGetImage");
    assert_int_equal(g->reach, TM_IAM_REACH_ORGANIZATION);
    assert_true(s_has(g->who, g->n_who, "o-dummy/*/ou-dummy/*"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/4257: Principal "*" narrowed to a VPC endpoint. */
static void fp_prowler_4257_s3_vpc_endpoint(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[{\"Sid\":\"AllowVPCAccess\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:*\","
        "\"Resource\":[\"arn:aws:s3:::sample-restricted-bucket\",\"arn:aws:s3:::sample-restricted-bucket/*\"],"
        "\"Condition\":{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1a2b3c4d\"}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "s3:GetObject");
    assert_int_equal(g->reach, TM_IAM_REACH_NETWORK);
    assert_true(s_has(g->who, g->n_who, "vpce-1a2b3c4d"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/turbot/steampipe-mod-aws-compliance/issues/952: Principal "*" with
 * aws:PrincipalOrgID is the organisation, not the public. */
static void fp_steampipe_952_s3_principal_org(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
        "\"arn:aws:s3:::shared/*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-exampleorgid\"}}}]}",
        NULL);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_ORGANIZATION);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/prowler-cloud/prowler/issues/3346: a public s3:Get* is public read, not write. */
static void fp_prowler_3346_get_star_is_read_only(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Statement\",\"Effect\":\"Allow\",\"Principal\":"
              "\"*\",\"Action\":\"s3:Get*\",\"Resource\":\"arn:aws:s3:::redacted-bucket-name/*\"}]}",
              NULL);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_PUBLIC);
    assert_false(s_reached(r, "s3:PutObject"));
    assert_false(s_reached(r, "s3:DeleteObject"));
    for (size_t g = 0; g < r->n_groups; g++)
        assert_true(strcmp(r->groups[g].level, "Write") != 0 && strcmp(r->groups[g].level, "Tagging") != 0);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/tenable/terrascan/issues/359: a policy of Deny only grants nothing. */
static void fp_terrascan_359_deny_only(void **state) {
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_S3,
                                          "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":"
                                          "\"DenyAllAccountAccess\",\"Effect\":\"Deny\",\"Principal\":"
                                          "\"*\",\"Action\":[\"*\"],\"Resource\":[\"*\"]}]}",
                                          NULL);
    assert_false(r->reachable);
    assert_false(r->cross_account);
    assert_int_equal(r->n_groups, 0);
    tm_iam_reach_result_destroy(r);
}

/* ---- Deny statements are evaluated ---- */
#define PUBLIC_READ                                                                                                    \
    "{\"Sid\":\"PublicRead\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"       \
    "\"arn:aws:s3:::b/*\"}"

static void deny_outside_org_narrows_public(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":"
        "[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"],\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalOrgID\":"
        "\"o-abc123def4\"}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "s3:GetObject");
    assert_int_equal(g->reach, TM_IAM_REACH_ORGANIZATION);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/Checkmarx/kics/issues/5763: a Deny on aws:SecureTransport false is stepped around
 * by using TLS; it does not make a public grant private. */
static void deny_secure_transport_does_not_narrow(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[" PUBLIC_READ ",{\"Sid\":\"AllowSSLRequestsOnly\",\"Effect\":\"Deny\",\"Principal\":\"*\","
        "\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::b\",\"arn:aws:s3:::b/*\"],\"Condition\":{\"Bool\":{"
        "\"aws:SecureTransport\":\"false\"}}}]}",
        NULL);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_PUBLIC);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void deny_unconditional_removes_grant(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
              "\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              NULL);
    assert_false(s_reached(r, "s3:GetObject"));
    assert_false(r->reachable);
    tm_iam_reach_result_destroy(r);
}

static void deny_other_resource_does_not_apply(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
              "\"Resource\":\"arn:aws:s3:::other/*\"}]}",
              NULL);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_PUBLIC);
    tm_iam_reach_result_destroy(r);
}

static void deny_not_ip_keeps_public_from_networks(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":"
        "\"arn:aws:s3:::b/*\",\"Condition\":{\"NotIpAddress\":{\"aws:SourceIp\":[\"203.0.113.0/24\"]}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "s3:GetObject");
    assert_int_equal(g->reach, TM_IAM_REACH_PUBLIC);
    assert_true(s_has(g->networks, g->n_networks, "203.0.113.0/24"));
    tm_iam_reach_result_destroy(r);
}

static void deny_unless_vpce(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_S3,
        "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":"
        "\"arn:aws:s3:::b/*\",\"Condition\":{\"StringNotEqualsIfExists\":{\"aws:SourceVpce\":\"vpce-1111\"}}}]}",
        NULL);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_NETWORK);
    tm_iam_reach_result_destroy(r);
}

/* The data-perimeter pattern: deny callers outside the organisation unless they are AWS services. */
static void deny_perimeter_spares_services(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[" PUBLIC_READ
              ",{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"cloudfront.amazonaws.com\"},"
              "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringEquals\":{"
              "\"aws:SourceArn\":\"arn:aws:cloudfront::" ACCT
              ":distribution/E1\"}}},{\"Effect\":\"Deny\",\"Principal\":\"*\","
              "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\",\"Condition\":{\"StringNotEqualsIfExists\":{"
              "\"aws:PrincipalOrgID\":\"o-abc123def4\"},\"BoolIfExists\":{\"aws:PrincipalIsAWSService\":\"false\"}}}]}",
              NULL);
    size_t i = 0, gi = 0;
    bool org = false, cf = false;
    for (const struct tm_iam_grant *g; (g = s_grants(r, "s3:GetObject", &i, &gi));) {
        org = org || g->reach == TM_IAM_REACH_ORGANIZATION;
        cf = cf || (g->reach == TM_IAM_REACH_SERVICE && s_has(g->services, g->n_services, "cloudfront.amazonaws.com"));
        assert_int_not_equal(g->reach, TM_IAM_REACH_PUBLIC);
    }
    assert_true(org);
    assert_true(cf);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* Deny for everyone except named principals (ArnNotEquals aws:PrincipalArn, the [PRIN] example). */
static void deny_unless_principal_arn(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_SECRETSMANAGER,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":"
        "\"secretsmanager:GetSecretValue\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*"
        "\","
        "\"Resource\":\"*\",\"Condition\":{\"ArnNotEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::" ACCT
        ":role/app\"}}}]}",
        NULL);
    assert_false(s_reached(r, "secretsmanager:GetSecretValue"));
    tm_iam_reach_result_destroy(r);
}

/* ---- NotPrincipal [NOTP] ---- */

static void notprincipal_allow_is_everyone_else(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"arn:aws:iam::444455556666:user/Bob\"},"
              "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              NULL);
    const struct tm_iam_grant *g = s_only(r, "s3:PutObject");
    assert_int_equal(g->reach, TM_IAM_REACH_PUBLIC);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void notprincipal_deny_keeps_listed_only(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":[\"arn:aws:iam::" ACCT
              ":user/Bob\",\"arn:aws:iam::" ACCT ":root\"]},\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::b\","
              "\"arn:aws:s3:::b/*\"]}]}",
              NULL);
    const struct tm_iam_grant *g = s_only(r, "s3:GetObject");
    assert_int_equal(g->reach, TM_IAM_REACH_ACCOUNT);
    assert_true(s_has(g->principals, g->n_principals, "arn:aws:iam::" ACCT ":user/Bob"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* ---- the condition keys that narrow, and what undoes them [KEYS] ---- */
#define SQS_STAR_WITH(cond)                                                                                            \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:SendMessage\",\"Resource\":"           \
    "\"arn:aws:sqs:us-east-1:" ACCT ":q\",\"Condition\":" cond "}]}"

static enum tm_iam_reach s_sqs_send(void **state, const char *policy) {
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_SQS, policy, NULL);
    enum tm_iam_reach reach = s_reached(r, "sqs:SendMessage") ? s_only(r, "sqs:SendMessage")->reach : 0;
    tm_iam_reach_result_destroy(r);
    return reach;
}

static void keys_source_account_narrows(void **state) {
    assert_int_equal(s_sqs_send(state, SQS_STAR_WITH("{\"StringEquals\":{\"aws:SourceAccount\":\"" ACCT "\"}}")),
                     TM_IAM_REACH_SERVICE);
}

/* A wildcard value, a negated operator or IfExists undoes the narrowing. */
static void keys_source_account_wildcard_is_any_resource(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"StringLike\":{\"aws:SourceAccount\":\"*\"}}"), NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(g->any_resource);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void keys_source_arn_wildcard_account_is_any_resource(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:orders\"}}"), NULL);
    assert_true(s_only(r, "sqs:SendMessage")->any_resource);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void keys_source_negated_undoes(void **state) {
    assert_int_equal(s_sqs_send(state, SQS_STAR_WITH("{\"StringNotEquals\":{\"aws:SourceAccount\":\"" ACCT "\"}}")),
                     TM_IAM_REACH_PUBLIC);
}

static void keys_if_exists_undoes(void **state) {
    assert_int_equal(
        s_sqs_send(state,
                   SQS_STAR_WITH("{\"ArnEqualsIfExists\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:" ACCT ":t\"}}")),
        TM_IAM_REACH_PUBLIC);
}

/* ForAllValues is true when the key is missing: anonymous callers have no aws:PrincipalOrgID. */
static void keys_for_all_values_undoes(void **state) {
    assert_int_equal(
        s_sqs_send(state, SQS_STAR_WITH("{\"ForAllValues:StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc123def4\"}}")),
        TM_IAM_REACH_PUBLIC);
}

/* StringEquals takes "*" literally: no account is named "*". */
static void keys_string_equals_star_is_literal(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"StringEquals\":{\"aws:PrincipalAccount\":\"*\"}}"), NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_EXTERNAL);
    assert_true(s_has(g->who, g->n_who, "*"));
    tm_iam_reach_result_destroy(r);
}

static void keys_principal_account_this(void **state) {
    assert_int_equal(s_sqs_send(state, SQS_STAR_WITH("{\"StringEquals\":{\"aws:PrincipalAccount\":\"" ACCT "\"}}")),
                     TM_IAM_REACH_ACCOUNT);
}

static void keys_principal_account_external(void **state) {
    assert_int_equal(s_sqs_send(state, SQS_STAR_WITH("{\"StringEquals\":{\"aws:PrincipalAccount\":[\"" ACCT
                                                     "\",\"999999999999\"]}}")),
                     TM_IAM_REACH_EXTERNAL);
}

/* An open aws:PrincipalArn still excludes anonymous callers. */
static void keys_principal_arn_wildcard_account(void **state) {
    assert_int_equal(
        s_sqs_send(state, SQS_STAR_WITH("{\"ArnLike\":{\"aws:PrincipalArn\":\"arn:aws:iam::*:role/deployer\"}}")),
        TM_IAM_REACH_AUTHENTICATED);
}

static void keys_principal_arn_named(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS,
              SQS_STAR_WITH("{\"ArnEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::999999999999:role/partner\"}}"), NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_EXTERNAL);
    assert_true(s_has(g->who, g->n_who, "999999999999"));
    assert_true(s_has(g->principals, g->n_principals, "arn:aws:iam::999999999999:role/partner"));
    tm_iam_reach_result_destroy(r);
}

/* "aws:SourceIp restricts only to the listed networks": still public, from those networks. */
static void keys_source_ip_stays_public(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"IpAddress\":{\"aws:SourceIp\":\"198.51.100.0/24\"}}"), NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_PUBLIC);
    assert_true(s_has(g->networks, g->n_networks, "198.51.100.0/24"));
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void keys_caller_controlled_do_not_narrow(void **state) {
    assert_int_equal(s_sqs_send(state, SQS_STAR_WITH("{\"Bool\":{\"aws:SecureTransport\":\"true\"},\"StringEquals\":"
                                                     "{\"aws:PrincipalTag/team\":\"data\"}}")),
                     TM_IAM_REACH_PUBLIC);
}

static void keys_userid_narrows_to_account(void **state) {
    assert_int_equal(
        s_sqs_send(state, SQS_STAR_WITH("{\"StringLike\":{\"aws:userid\":[\"AROAEXAMPLEID:*\",\"AIDAEXAMPLEID\"]}}")),
        TM_IAM_REACH_ACCOUNT);
}

static void keys_principal_is_service(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"Bool\":{\"aws:PrincipalIsAWSService\":\"true\"}}"), NULL);
    const struct tm_iam_grant *g = s_only(r, "sqs:SendMessage");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(g->any_resource);
    tm_iam_reach_result_destroy(r);
}

/* ---- KMS ---- */
static void kms_default_key_policy_is_account(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_KMS,
              "{\"Version\":\"2012-10-17\",\"Id\":\"key-default-1\",\"Statement\":[{\"Sid\":"
              "\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
              "\"arn:aws:iam::" ACCT ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}",
              NULL);
    assert_int_equal(s_only(r, "kms:Decrypt")->reach, TM_IAM_REACH_ACCOUNT);
    assert_false(r->cross_account);
    assert_int_equal(r->widest, TM_IAM_REACH_ACCOUNT);
    tm_iam_reach_result_destroy(r);
}

/* The AWS managed key pattern: Principal "*", kms:CallerAccount and kms:ViaService. */
static void kms_caller_account_via_service(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_KMS,
        "{\"Statement\":[{\"Sid\":\"Allow access through S3\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},"
        "\"Action\":[\"kms:Encrypt\",\"kms:Decrypt\",\"kms:GenerateDataKey*\"],\"Resource\":\"*\",\"Condition\":{"
        "\"StringEquals\":{\"kms:CallerAccount\":\"" ACCT "\",\"kms:ViaService\":\"s3.us-east-1.amazonaws.com\"}}}]}",
        NULL);
    const struct tm_iam_grant *g = s_only(r, "kms:Decrypt");
    assert_int_equal(g->reach, TM_IAM_REACH_ACCOUNT);
    bool via = false;
    for (size_t i = 0; i < g->n_conditions; i++)
        via = via || strstr(g->conditions[i], "kms:ViaService") != NULL;
    assert_true(via);
    tm_iam_reach_result_destroy(r);
}

static void kms_star_via_service_only(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_KMS,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\","
              "\"Condition\":{\"StringEquals\":{\"kms:ViaService\":\"secretsmanager.us-east-1.amazonaws.com\"}}}]}",
              NULL);
    assert_int_equal(s_only(r, "kms:Decrypt")->reach, TM_IAM_REACH_AUTHENTICATED);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* ---- Lambda [URL] ---- */
#define LAMBDA_URL_PERMISSION                                                                                          \
    "{\"Statement\":[{\"Sid\":\"FunctionURLAllowPublicAccess\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"   \
    "\"lambda:InvokeFunctionUrl\",\"Resource\":\"arn:aws:lambda:us-east-1:" ACCT ":function:f\",\"Condition\":{"       \
    "\"StringEquals\":{\"lambda:FunctionUrlAuthType\":\"NONE\"}}}]}"

static void lambda_url_none_is_public(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_LAMBDA, LAMBDA_URL_PERMISSION, &(struct s_opts){.account = ACCT, .url = "NONE"});
    assert_int_equal(s_only(r, "lambda:InvokeFunctionUrl")->reach, TM_IAM_REACH_PUBLIC);
    tm_iam_reach_result_destroy(r);
}

static void lambda_url_aws_iam_condition_fails(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_LAMBDA, LAMBDA_URL_PERMISSION, &(struct s_opts){.account = ACCT, .url = "AWS_IAM"});
    assert_false(s_reached(r, "lambda:InvokeFunctionUrl"));
    tm_iam_reach_result_destroy(r);
}

static void lambda_invoke_star_is_authenticated(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_LAMBDA,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":"
        "\"arn:aws:lambda:us-east-1:" ACCT ":function:f\"}]}",
        &(struct s_opts){.account = ACCT, .url = "NONE"});
    assert_int_equal(s_only(r, "lambda:InvokeFunction")->reach, TM_IAM_REACH_AUTHENTICATED);
    tm_iam_reach_result_destroy(r);
}

/* A service principal without aws:SourceArn/SourceAccount: any bucket, in any account, can invoke. */
static void lambda_s3_without_source_is_confused_deputy(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_LAMBDA,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},\"Action\":"
              "\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:" ACCT ":function:f\"}]}",
              NULL);
    const struct tm_iam_grant *g = s_only(r, "lambda:InvokeFunction");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_true(g->any_resource);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void lambda_s3_with_source_account(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_LAMBDA,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},\"Action\":"
              "\"lambda:InvokeFunction\",\"Resource\":\"arn:aws:lambda:us-east-1:" ACCT ":function:f\",\"Condition\":{"
              "\"StringEquals\":{\"AWS:SourceAccount\":\"" ACCT
              "\"},\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:s3:::uploads\"}}}]}",
              NULL);
    const struct tm_iam_grant *g = s_only(r, "lambda:InvokeFunction");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_false(g->any_resource);
    assert_true(s_has(g->who, g->n_who, "arn:aws:s3:::uploads"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* ---- S3 ACLs and Block Public Access [ACL] [BPA] ---- */
#define OWNER "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
#define ACL_PUBLIC_READ                                                                                                \
    "{\"Owner\":{\"ID\":\"" OWNER "\"},\"Grants\":[{\"Grantee\":{\"Type\":\"CanonicalUser\",\"ID\":\"" OWNER           \
    "\"},\"Permission\":\"FULL_CONTROL\"},{\"Grantee\":{\"Type\":\"Group\",\"URI\":"                                   \
    "\"http://acs.amazonaws.com/groups/global/AllUsers\"},\"Permission\":\"READ\"},{\"Grantee\":{\"Type\":\"Group\","  \
    "\"URI\":\"http://acs.amazonaws.com/groups/global/AuthenticatedUsers\"},\"Permission\":\"WRITE\"},"                \
    "{\"Grantee\":{\"Type\":\"Group\",\"URI\":\"http://acs.amazonaws.com/groups/s3/LogDelivery\"},\"Permission\":"     \
    "\"WRITE\"}]}"

static void acl_groups(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3, NULL, &(struct s_opts){.account = ACCT, .acl = ACL_PUBLIC_READ});
    size_t i = 0, gi = 0;
    bool pub = false, own = false;
    for (const struct tm_iam_grant *g; (g = s_grants(r, "s3:ListBucket", &i, &gi));) {
        pub = pub || (g->reach == TM_IAM_REACH_PUBLIC && g->evidence[0].acl && g->evidence[0].index == 1);
        own = own || g->reach == TM_IAM_REACH_ACCOUNT;
    }
    assert_true(pub);
    assert_true(own);
    i = gi = 0;
    bool auth = false, logs = false;
    for (const struct tm_iam_grant *g; (g = s_grants(r, "s3:PutObject", &i, &gi));) {
        auth = auth || g->reach == TM_IAM_REACH_AUTHENTICATED;
        logs = logs || g->reach == TM_IAM_REACH_SERVICE;
    }
    assert_true(auth);
    assert_true(logs);
    assert_string_equal(s_level(r, "s3:ListBucket"), "List");
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void acl_ignored_by_ignore_public_acls(void **state) {
    struct tm_iam_s3_bpa acct = {.ignore_public_acls = true};
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3, NULL, &(struct s_opts){.account = ACCT, .acl = ACL_PUBLIC_READ, .acct_bpa = &acct});
    assert_false(r->cross_account);
    assert_int_equal(r->widest, TM_IAM_REACH_SERVICE);
    tm_iam_reach_result_destroy(r);
}

/* "RestrictPublicBuckets ... restricts access to this bucket to only AWS service principals and
 * authorized users within this account if the bucket has a public policy." */
static void bpa_restrict_public_buckets(void **state) {
    struct tm_iam_s3_bpa bucket = {.restrict_public_buckets = true};
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[" PUBLIC_READ ",{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999999999999\"},"
              "\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              &(struct s_opts){.account = ACCT, .bpa = &bucket});
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_ACCOUNT);
    /* "including non-public delegation to specific accounts" */
    assert_int_equal(s_only(r, "s3:PutObject")->reach, TM_IAM_REACH_ACCOUNT);
    assert_false(r->cross_account);
    assert_true(r->n_notes > 0);
    tm_iam_reach_result_destroy(r);
}

static void bpa_restrict_public_buckets_non_public_policy(void **state) {
    struct tm_iam_s3_bpa bucket = {.restrict_public_buckets = true};
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999999999999\"},\"Action\":"
              "\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              &(struct s_opts){.account = ACCT, .bpa = &bucket});
    assert_int_equal(s_only(r, "s3:PutObject")->reach, TM_IAM_REACH_EXTERNAL);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* BlockPublicPolicy only refuses new public policies; the one in place still works. */
static void bpa_block_public_policy_alone(void **state) {
    struct tm_iam_s3_bpa bucket = {.block_public_policy = true, .block_public_acls = true};
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_S3, "{\"Statement\":[" PUBLIC_READ "]}",
                                          &(struct s_opts){.account = ACCT, .bpa = &bucket});
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_PUBLIC);
    tm_iam_reach_result_destroy(r);
}

static void bpa_and_acl_parsers(void **state) {
    (void)state;
    struct tm_iam_s3_bpa b;
    char err[256];
    const char *j = "{\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":false,"
                    "\"BlockPublicPolicy\":true,\"RestrictPublicBuckets\":true}}";
    assert_int_equal(tm_iam_s3_bpa_parse(&b, j, strlen(j), err, sizeof(err)), TM_OK);
    assert_true(b.block_public_acls && !b.ignore_public_acls && b.block_public_policy && b.restrict_public_buckets);
    assert_int_equal(tm_iam_s3_bpa_parse(&b, "{\"BlockPublicAcls\":\"yes\"}", 26, err, sizeof(err)), TM_ERR_PARSE);
    assert_int_equal(tm_iam_s3_bpa_parse(&b, "{\"Bogus\":true}", 14, err, sizeof(err)), TM_ERR_PARSE);
    assert_int_equal(tm_iam_s3_bpa_parse(&b, "[", 1, err, sizeof(err)), TM_ERR_PARSE);
    struct tm_iam_reach_input in = {.type = TM_IAM_RES_S3,
                                    .s3_acl_json = "{\"Grants\":[{\"Grantee\":{\"Type\":"
                                                   "\"Group\",\"URI\":\"x\"},\"Permission\":\"READ\"}]}"};
    struct tm_iam_reach_result *r = NULL;
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_PARSE);
    assert_non_null(strstr(err, "Grants[0]"));
    in.s3_acl_json = "{\"Grants\":[{\"Grantee\":{\"Type\":\"CanonicalUser\",\"ID\":\"x\"},\"Permission\":\"ALL\"}]}";
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_PARSE);
    in.s3_acl_json = "not json";
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_PARSE);
    assert_null(r);
    /* As a tree: not an object, or a grant without a permission. */
    cJSON *tree = cJSON_CreateArray();
    assert_non_null(tree);
    in.s3_acl_json = NULL;
    in.s3_acl = tree;
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_PARSE);
    assert_non_null(strstr(err, "not a JSON object"));
    cJSON_Delete(tree);
    tree = cJSON_Parse("{\"Grants\":[{\"Grantee\":{\"Type\":\"CanonicalUser\",\"ID\":\"x\"}}]}");
    assert_non_null(tree);
    in.s3_acl = tree;
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_PARSE);
    assert_non_null(strstr(err, "Grants[0]"));
    assert_null(r);
    cJSON_Delete(tree);
}

/* ---- trust policies [OIDC] ---- */
#define GH_PROVIDER "arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com"
#define GH_TRUST(cond)                                                                                                 \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" GH_PROVIDER     \
    "\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":" cond "}]}"

static const struct tm_iam_grant *s_assume(const struct tm_iam_reach_result *r, const char *action) {
    return s_only(r, action);
}

/* "GitHub's token.actions.githubusercontent.com without a sub condition is assumable by any GitHub repo";
 * https://github.com/gebalamariusz/cloud-audit/issues/17, https://github.com/prowler-cloud/prowler/issues/12845. */
static void trust_github_without_sub_is_public(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_TRUST,
              GH_TRUST("{\"StringEquals\":{\"token.actions.githubusercontent.com:aud\":\"sts.amazonaws.com\"}}"), NULL);
    const struct tm_iam_grant *g = s_assume(r, "sts:AssumeRoleWithWebIdentity");
    assert_int_equal(g->reach, TM_IAM_REACH_PUBLIC);
    assert_false(g->claims_restricted);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/bridgecrewio/checkov/issues/5423: aud and a sub pinned to an organisation. */
static void trust_github_sub_pinned(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_TRUST,
        GH_TRUST("{\"StringEquals\":{\"token.actions.githubusercontent.com:aud\":\"sts.amazonaws.com\"},\"StringLike\":"
                 "{\"token.actions.githubusercontent.com:sub\":\"repo:GitHub-Organization/app:*\"}}"),
        NULL);
    const struct tm_iam_grant *g = s_assume(r, "sts:AssumeRoleWithWebIdentity");
    assert_int_equal(g->reach, TM_IAM_REACH_FEDERATED);
    assert_true(g->claims_restricted);
    assert_true(s_has(g->who, g->n_who, GH_PROVIDER));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* https://github.com/BishopFox/cloudfox/pull/118: ForAllValues:StringLike on sub still pins it (every
 * token carries a sub). */
static void trust_github_forallvalues_sub(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_TRUST,
              GH_TRUST("{\"ForAllValues:StringLike\":{\"token.actions.githubusercontent.com:sub\":"
                       "\"repo:BishopFox/cloudfox:*\"}}"),
              NULL);
    assert_int_equal(s_assume(r, "sts:AssumeRoleWithWebIdentity")->reach, TM_IAM_REACH_FEDERATED);
    tm_iam_reach_result_destroy(r);
}

static void trust_github_sub_wildcards_pin_nothing(void **state) {
    const char *conds[] = {"{\"StringLike\":{\"token.actions.githubusercontent.com:sub\":\"repo:*\"}}",
                           "{\"StringLike\":{\"token.actions.githubusercontent.com:sub\":\"*\"}}",
                           "{\"StringNotEquals\":{\"token.actions.githubusercontent.com:sub\":\"repo:evil/x:*\"}}",
                           "{\"StringLikeIfExists\":{\"token.actions.githubusercontent.com:sub\":\"repo:o/a:*\"}}"};
    for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
        char policy[1024];
        snprintf(policy, sizeof(policy),
                 "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" GH_PROVIDER
                 "\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":%s}]}",
                 conds[i]);
        struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_TRUST, policy, NULL);
        if (s_assume(r, "sts:AssumeRoleWithWebIdentity")->reach != TM_IAM_REACH_PUBLIC)
            fail_msg("%s should leave the role open to any GitHub repository", conds[i]);
        tm_iam_reach_result_destroy(r);
    }
}

static void trust_cognito_needs_aud(void **state) {
#define COGNITO_BASE                                                                                                   \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"cognito-identity.amazonaws.com\"},"          \
    "\"Action\":\"sts:AssumeRoleWithWebIdentity\"%s}]}"
    char policy[1024];
    snprintf(policy, sizeof(policy), COGNITO_BASE, "");
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_TRUST, policy, NULL);
    assert_int_equal(s_assume(r, "sts:AssumeRoleWithWebIdentity")->reach, TM_IAM_REACH_PUBLIC);
    tm_iam_reach_result_destroy(r);
    snprintf(policy, sizeof(policy), COGNITO_BASE,
             ",\"Condition\":{\"StringEquals\":{\"cognito-identity.amazonaws.com:aud\":\"us-east-1:12345678-abcd\"},"
             "\"ForAnyValue:StringLike\":{\"cognito-identity.amazonaws.com:amr\":\"authenticated\"}}");
    r = s_run(state, TM_IAM_RES_TRUST, policy, NULL);
    assert_int_equal(s_assume(r, "sts:AssumeRoleWithWebIdentity")->reach, TM_IAM_REACH_FEDERATED);
    tm_iam_reach_result_destroy(r);
}

/* A cluster's own OIDC provider without sub: any service account of that cluster, not the world. */
static void trust_eks_without_sub(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_TRUST,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::" ACCT
              ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE\"},\"Action\":"
              "\"sts:AssumeRoleWithWebIdentity\"}]}",
              NULL);
    const struct tm_iam_grant *g = s_assume(r, "sts:AssumeRoleWithWebIdentity");
    assert_int_equal(g->reach, TM_IAM_REACH_FEDERATED);
    assert_false(g->claims_restricted);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void trust_saml(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_TRUST,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::" ACCT
              ":saml-provider/corp\"},\"Action\":\"sts:AssumeRoleWithSAML\",\"Condition\":{\"StringEquals\":{"
              "\"SAML:aud\":\"https://signin.aws.amazon.com/saml\"}}}]}",
              NULL);
    const struct tm_iam_grant *g = s_assume(r, "sts:AssumeRoleWithSAML");
    assert_int_equal(g->reach, TM_IAM_REACH_FEDERATED);
    assert_true(g->claims_restricted);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void trust_external_id(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_TRUST,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":"
        "\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"Unique7\"}}},{\"Effect\":\"Allow\","
        "\"Principal\":{\"AWS\":\"888888888888\"},\"Action\":\"sts:AssumeRole\"}]}",
        NULL);
    size_t i = 0, gi = 0;
    bool with = false, without = false;
    for (const struct tm_iam_grant *g; (g = s_grants(r, "sts:AssumeRole", &i, &gi));) {
        assert_int_equal(g->reach, TM_IAM_REACH_EXTERNAL);
        if (s_has(g->who, g->n_who, "999999999999"))
            with = g->external_id_required && s_has(g->external_ids, g->n_external_ids, "Unique7");
        if (s_has(g->who, g->n_who, "888888888888"))
            without = !g->external_id_required;
    }
    assert_true(with);
    assert_true(without);
    assert_true(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* "When you create a trust policy, you cannot specify a wildcard (*) as a principal" in new roles, yet
 * {"AWS": "*"} narrowed only by conditions exists; unnarrowed it is any AWS principal. */
static void trust_any_principal(void **state) {
    struct tm_iam_reach_result *r = s_run(
        state, TM_IAM_RES_TRUST,
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}", NULL);
    assert_int_equal(s_assume(r, "sts:AssumeRole")->reach, TM_IAM_REACH_AUTHENTICATED);
    tm_iam_reach_result_destroy(r);
    r = s_run(state, TM_IAM_RES_TRUST,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\","
              "\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc123def4\"}}}]}",
              NULL);
    assert_int_equal(s_assume(r, "sts:AssumeRole")->reach, TM_IAM_REACH_ORGANIZATION);
    tm_iam_reach_result_destroy(r);
}

static void trust_service(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_TRUST,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":"
              "\"sts:AssumeRole\"}]}",
              NULL);
    const struct tm_iam_grant *g = s_assume(r, "sts:AssumeRole");
    assert_int_equal(g->reach, TM_IAM_REACH_SERVICE);
    assert_false(g->any_resource);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

/* ---- evidence, accounts, notes, output ---- */

static void same_account_principals(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SECRETSMANAGER,
              "{\"Statement\":[{\"Sid\":\"App\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT
              ":role/app\"},\"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"*\"}]}",
              NULL);
    const struct tm_iam_grant *g = s_only(r, "secretsmanager:GetSecretValue");
    assert_int_equal(g->reach, TM_IAM_REACH_ACCOUNT);
    assert_int_equal(g->n_evidence, 1);
    assert_string_equal(g->evidence[0].sid, "App");
    assert_non_null(strstr(g->evidence[0].json, "secretsmanager:GetSecretValue"));
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void account_from_resource_arn_and_unknown(void **state) {
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_SQS,
                                          "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT
                                          "\"},\"Action\":\"sqs:SendMessage\","
                                          "\"Resource\":\"arn:aws:sqs:us-east-1:" ACCT ":q\"}]}",
                                          &(struct s_opts){0});
    assert_string_equal(r->account, ACCT);
    assert_int_equal(s_only(r, "sqs:SendMessage")->reach, TM_IAM_REACH_ACCOUNT);
    tm_iam_reach_result_destroy(r);
    r = s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT "\"},\"Action\":\"s3:GetObject\","
              "\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              &(struct s_opts){0});
    assert_null(r->account);
    assert_int_equal(r->n_notes, 1);
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_EXTERNAL);
    tm_iam_reach_result_destroy(r);
}

static void deleted_principal_grants_nothing(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"AIDAJQABLZS4A3QDU576Q\"},\"Action\":"
              "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              NULL);
    assert_false(r->reachable);
    assert_int_equal(r->n_notes, 1);
    assert_non_null(strstr(r->notes[0], "deleted"));
    tm_iam_reach_result_destroy(r);
}

static void resource_arn_filters_statements(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_S3,
              "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"
              "\"arn:aws:s3:::other/*\"},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT
              "\"},\"Action\":\"s3:GetObject\","
              "\"Resource\":\"arn:aws:s3:::b/*\"}]}",
              &(struct s_opts){.account = ACCT, .resource = "arn:aws:s3:::b"});
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_ACCOUNT);
    assert_false(r->cross_account);
    tm_iam_reach_result_destroy(r);
}

static void without_catalog_patterns_as_written(void **state) {
    struct tm_iam_reach_result *r = s_run(state, TM_IAM_RES_S3, "{\"Statement\":[" PUBLIC_READ "]}",
                                          &(struct s_opts){.account = ACCT, .no_catalog = true});
    assert_int_equal(r->n_groups, 1);
    assert_string_equal(r->groups[0].level, "Unknown");
    assert_int_equal(s_only(r, "s3:GetObject")->reach, TM_IAM_REACH_PUBLIC);
    tm_iam_reach_result_destroy(r);
}

static void json_and_text_output(void **state) {
    struct tm_iam_reach_result *r =
        s_run(state, TM_IAM_RES_SQS, SQS_STAR_WITH("{\"StringEquals\":{\"aws:SourceAccount\":\"" ACCT "\"}}"), NULL);
    char *js = NULL, *js2 = NULL, *txt = NULL;
    assert_int_equal(tm_iam_reach_to_json(&js, r, "q.json"), TM_OK);
    assert_int_equal(tm_iam_reach_to_json(&js2, r, "q.json"), TM_OK);
    assert_string_equal(js, js2);
    cJSON *j = cJSON_Parse(js);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "verdict")->valuestring, "service");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "account")->valuestring, ACCT);
    const cJSON *g0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "groups"), 0);
    const cJSON *gr = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(g0, "grants"), 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(gr, "reach")->valuestring, "service");
    const cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(gr, "evidence"), 0);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(ev, "statement")->valuedouble, 0);
    cJSON_Delete(j);
    assert_int_equal(tm_iam_reach_to_text(&txt, r, "q.json"), TM_OK);
    assert_non_null(strstr(txt, "on behalf of resources of account " ACCT));
    assert_non_null(strstr(txt, "verdict: service"));
    free(js);
    free(js2);
    free(txt);
    tm_iam_reach_result_destroy(r);
}

static void names_round_trip(void **state) {
    (void)state;
    for (int t = TM_IAM_RES_S3; t <= TM_IAM_RES_TRUST; t++)
        assert_int_equal(tm_iam_resource_type_parse(tm_iam_resource_type_name((enum tm_iam_resource_type)t)), t);
    assert_int_equal(tm_iam_resource_type_parse("dynamodb"), 0);
    assert_string_equal(tm_iam_reach_name(TM_IAM_REACH_AUTHENTICATED), "any-aws-principal");
    struct tm_iam_reach_result *r = NULL;
    struct tm_iam_reach_input in = {.type = 0};
    char err[64];
    assert_int_equal(tm_iam_reach_analyze(&r, &in, err, sizeof(err)), TM_ERR_INVALID);
}

#define T(name) cmocka_unit_test(name)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(fp_prowler_2565_sqs_source_arn_same_account),
        T(fp_prowler_3212_sqs_source_arn_bucket),
        T(fp_prowler_3199_sqs_cross_account_topic),
        T(fp_sns_default_policy_source_owner),
        T(fp_scoutsuite_1580_sns_principal_org),
        T(fp_prowler_8326_sns_arn_like_bucket),
        T(fp_prowler_1151_ecr_org_paths),
        T(fp_prowler_4257_s3_vpc_endpoint),
        T(fp_steampipe_952_s3_principal_org),
        T(fp_prowler_3346_get_star_is_read_only),
        T(fp_terrascan_359_deny_only),
        T(deny_outside_org_narrows_public),
        T(deny_secure_transport_does_not_narrow),
        T(deny_unconditional_removes_grant),
        T(deny_other_resource_does_not_apply),
        T(deny_not_ip_keeps_public_from_networks),
        T(deny_unless_vpce),
        T(deny_perimeter_spares_services),
        T(deny_unless_principal_arn),
        T(notprincipal_allow_is_everyone_else),
        T(notprincipal_deny_keeps_listed_only),
        T(keys_source_account_narrows),
        T(keys_source_account_wildcard_is_any_resource),
        T(keys_source_arn_wildcard_account_is_any_resource),
        T(keys_source_negated_undoes),
        T(keys_if_exists_undoes),
        T(keys_for_all_values_undoes),
        T(keys_string_equals_star_is_literal),
        T(keys_principal_account_this),
        T(keys_principal_account_external),
        T(keys_principal_arn_wildcard_account),
        T(keys_principal_arn_named),
        T(keys_source_ip_stays_public),
        T(keys_caller_controlled_do_not_narrow),
        T(keys_userid_narrows_to_account),
        T(keys_principal_is_service),
        T(kms_default_key_policy_is_account),
        T(kms_caller_account_via_service),
        T(kms_star_via_service_only),
        T(lambda_url_none_is_public),
        T(lambda_url_aws_iam_condition_fails),
        T(lambda_invoke_star_is_authenticated),
        T(lambda_s3_without_source_is_confused_deputy),
        T(lambda_s3_with_source_account),
        T(acl_groups),
        T(acl_ignored_by_ignore_public_acls),
        T(bpa_restrict_public_buckets),
        T(bpa_restrict_public_buckets_non_public_policy),
        T(bpa_block_public_policy_alone),
        T(bpa_and_acl_parsers),
        T(trust_github_without_sub_is_public),
        T(trust_github_sub_pinned),
        T(trust_github_forallvalues_sub),
        T(trust_github_sub_wildcards_pin_nothing),
        T(trust_cognito_needs_aud),
        T(trust_eks_without_sub),
        T(trust_saml),
        T(trust_external_id),
        T(trust_any_principal),
        T(trust_service),
        T(same_account_principals),
        T(account_from_resource_arn_and_unknown),
        T(deleted_principal_grants_nothing),
        T(resource_arn_filters_statements),
        T(without_catalog_patterns_as_written),
        T(json_and_text_output),
        T(names_round_trip),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
