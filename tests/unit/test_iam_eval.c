/* Request evaluation and the `policy eval` protocol. Each case cites the page it follows:
 *   [EVAL]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 *   [DENY]
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 *           ("Determining whether a request is allowed or denied within an account")
 *   [XACCT] https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
 *   [PRIN]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *   [NOTP]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
 *   [NOTA]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
 *   [BOUND] https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
 *   [VARS]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 *   [OPS]   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *   [SCP]   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
 *   [RCP]   https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_evaluation.html */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/policy.h"

/* Runs one `policy eval` line; returns the parsed answer (caller deletes). */
static cJSON *s_run(const char *line) {
    char *out = NULL;
    bool was_error = false;
    assert_int_equal(tm_iam_eval_json_line(&out, &was_error, line, strlen(line)), TM_OK);
    assert_non_null(out);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(was_error == (err != NULL));
    free(out);
    return j;
}

static void s_expect(const char *line, const char *decision) {
    cJSON *j = s_run(line);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (err)
        fail_msg("error: %s", err->valuestring);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "decision");
    assert_non_null(d);
    if (strcmp(d->valuestring, decision) != 0)
        fail_msg("decision %s, expected %s for %s", d->valuestring, decision, line);
    cJSON_Delete(j);
}

/* The "matched" list as "policy#statement,..." */
static void s_expect_matched(const char *line, const char *decision, const char *matched) {
    cJSON *j = s_run(line);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "decision");
    assert_non_null(d);
    assert_string_equal(d->valuestring, decision);
    char buf[1024] = "";
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "matched")) {
        char one[128];
        snprintf(one, sizeof(one), "%s%s#%d", buf[0] ? "," : "",
                 cJSON_GetObjectItemCaseSensitive(m, "policy")->valuestring,
                 (int)cJSON_GetObjectItemCaseSensitive(m, "statement")->valuedouble);
        strncat(buf, one, sizeof(buf) - strlen(buf) - 1);
    }
    assert_string_equal(buf, matched);
    cJSON_Delete(j);
}

static void s_expect_error(const char *line, const char *fragment) {
    cJSON *j = s_run(line);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_non_null(err);
    if (!strstr(err->valuestring, fragment))
        fail_msg("error \"%s\" lacks \"%s\"", err->valuestring, fragment);
    assert_null(cJSON_GetObjectItemCaseSensitive(j, "decision"));
    cJSON_Delete(j);
}

#define V "\"Version\":\"2012-10-17\","
#define REQ(p, a, r) "\"request\":{\"principal\":\"" p "\",\"action\":\"" a "\",\"resource\":\"" r "\"}"
#define REQC(p, a, r, c)                                                                                               \
    "\"request\":{\"principal\":\"" p "\",\"action\":\"" a "\",\"resource\":\"" r "\",\"contextKeys\":" c "}"

/* ---- [EVAL] "Example identity-based and resource-based policy evaluation" (Carlos) ---- */
#define CARLOS_ID                                                                                                      \
    "{" V "\"Statement\":[{\"Sid\":\"AllowS3ListRead\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetBucketLocation\","     \
    "\"s3:GetAccountPublicAccessBlock\",\"s3:ListAccessPoints\",\"s3:ListAllMyBuckets\"],\"Resource\":\"arn:aws:s3:::" \
    "*\"},"                                                                                                            \
    "{\"Sid\":\"AllowS3Self\",\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::carlossalazar/"    \
    "*\","                                                                                                             \
    "\"arn:aws:s3:::carlossalazar\"]},{\"Sid\":\"DenyS3Logs\",\"Effect\":\"Deny\",\"Action\":\"s3:*\","                \
    "\"Resource\":\"arn:aws:s3:::*log*\"}]}"
#define CARLOS_BUCKET                                                                                                  \
    "{" V                                                                                                              \
    "\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:user/carlossalazar\"},"   \
    "\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::carlossalazar/*\",\"arn:aws:s3:::carlossalazar\"]}]}"
#define CARLOS "arn:aws:iam::123456789012:user/carlossalazar"

static void eval_carlos_logs_bucket_denied(void **state) {
    (void)state;
    s_expect_matched("{\"id\":1,\"identityPolicies\":[" CARLOS_ID "],\"resourceAccount\":\"123456789012\"," REQ(
                         CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar-logs/file.txt") "}",
                     "explicitDeny", "identityPolicies[0]#2");
}

static void eval_carlos_own_bucket_allowed(void **state) {
    (void)state;
    s_expect_matched(
        "{\"id\":2,\"identityPolicies\":[" CARLOS_ID "],\"resourcePolicy\":" CARLOS_BUCKET
        ",\"resourceAccount\":\"123456789012\"," REQ(CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/file.txt") "}",
        "allowed", "resourcePolicy#0,identityPolicies[0]#1");
}

/* "If either the identity-based policy or the resource-based policy within the same account allows the
 * request and the other doesn't, the request is still allowed." */
static void eval_carlos_identity_alone(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" CARLOS_ID "],\"resourceAccount\":\"123456789012\"," REQ(
                 CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/file.txt") "}",
             "allowed");
}

static void eval_carlos_resource_policy_alone(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" CARLOS_BUCKET ",\"resourceAccount\":\"123456789012\"," REQ(
                 CARLOS, "s3:PutObject", "arn:aws:s3:::carlossalazar/file.txt") "}",
             "allowed");
}

static void eval_carlos_list_all_buckets(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" CARLOS_ID "]," REQ(CARLOS, "s3:ListAllMyBuckets", "arn:aws:s3:::*") "}",
             "allowed");
}

static void eval_carlos_other_bucket_implicit(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" CARLOS_ID "],\"resourceAccount\":\"123456789012\"," REQ(
                 CARLOS, "s3:GetObject", "arn:aws:s3:::someone-else/file.txt") "}",
             "implicitDeny");
}

/* A Deny in the resource policy wins over the identity Allow. */
static void eval_carlos_bucket_deny_wins(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" CARLOS_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Deny\","
             "\"Principal\":\"*\",\"Action\":\"s3:DeleteObject\",\"Resource\":\"arn:aws:s3:::carlossalazar/*\"}},"
             "\"resourceAccount\":\"123456789012\"," REQ(CARLOS, "s3:DeleteObject",
                                                         "arn:aws:s3:::carlossalazar/file.txt") "}",
             "explicitDeny");
}

/* ---- [EVAL] "The difference between explicit and implicit denies" ---- */
#define GETLIST                                                                                                        \
    "{" V "\"Statement\":[{\"Sid\":\"AllowGetList\",\"Effect\":\"Allow\",\"Action\":[\"iam:Get*\",\"iam:List*\"],"     \
    "\"Resource\":\"*\"},{\"Sid\":\"DenyReports\",\"Effect\":\"Deny\",\"Action\":\"iam:*Report\",\"Resource\":\"*\"}]" \
    "}"
#define ALICE "arn:aws:iam::123456789012:user/alice"

static void eval_getlist_get_allowed(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" GETLIST "]," REQ(ALICE, "iam:GetUser", "arn:aws:iam::123456789012:user/bob") "}",
             "allowed");
}

static void eval_getlist_create_policy_implicit(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" GETLIST
             "]," REQ(ALICE, "iam:CreatePolicy", "arn:aws:iam::123456789012:policy/p") "}",
             "implicitDeny");
}

static void eval_getlist_report_explicit(void **state) {
    (void)state;
    s_expect_matched("{\"identityPolicies\":[" GETLIST "]," REQ(ALICE, "iam:GetOrganizationsAccessReport", "*") "}",
                     "explicitDeny", "identityPolicies[0]#1");
}

/* "If someone adds another policy to this principal to grant them access to IAM reports, such as
 * iam:GenerateCredentialReport, report-related requests are still denied." */
static void eval_getlist_report_still_denied(void **state) {
    (void)state;
    s_expect(
        "{\"identityPolicies\":[" GETLIST ",{\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
        "\"iam:GenerateCredentialReport\",\"Resource\":\"*\"}}]," REQ(ALICE, "iam:GenerateCredentialReport", "*") "}",
        "explicitDeny");
}

/* ---- [XACCT] "Example cross-account policy evaluation" ---- */
#define XCARLOS_ID                                                                                                     \
    "{" V "\"Statement\":[{\"Sid\":\"AllowS3ListRead\",\"Effect\":\"Allow\",\"Action\":\"s3:ListAllMyBuckets\","       \
    "\"Resource\":\"*\"},{\"Sid\":\"AllowS3ProductionObjectActions\",\"Effect\":\"Allow\",\"Action\":\"s3:*Object*\"," \
    "\"Resource\":\"arn:aws:s3:::Production/*\"},{\"Sid\":\"DenyS3Logs\",\"Effect\":\"Deny\",\"Action\":\"s3:*\","     \
    "\"Resource\":[\"arn:aws:s3:::*log*\",\"arn:aws:s3:::*log*/*\"]}]}"
#define PROD_BUCKET                                                                                                    \
    "{" V "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject*\",\"s3:PutObject*\","                      \
    "\"s3:ReplicateObject\",\"s3:RestoreObject\"],\"Principal\":{\"AWS\":\"arn:aws:iam::111111111111:user/"            \
    "carlossalazar\"},"                                                                                                \
    "\"Resource\":\"arn:aws:s3:::Production/*\"}]}"
#define XCARLOS "arn:aws:iam::111111111111:user/carlossalazar"

static void xacct_production_logs_denied(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" XCARLOS_ID "],\"resourceAccount\":\"222222222222\"," REQ(
                 XCARLOS, "s3:PutObject", "arn:aws:s3:::Production-logs/file") "}",
             "explicitDeny");
}

static void xacct_production_allowed(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" XCARLOS_ID "],\"resourcePolicy\":" PROD_BUCKET
             ",\"resourceAccount\":\"222222222222\"," REQ(XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
             "allowed");
}

/* "He can create and edit, but not delete the objects in the bucket." */
static void xacct_production_delete_implicit(void **state) {
    (void)state;
    s_expect(
        "{\"identityPolicies\":[" XCARLOS_ID "],\"resourcePolicy\":" PROD_BUCKET
        ",\"resourceAccount\":\"222222222222\"," REQ(XCARLOS, "s3:DeleteObject", "arn:aws:s3:::Production/file") "}",
        "implicitDeny");
}

/* Cross-account needs both sides: the bucket policy alone is not enough... */
static void xacct_needs_identity_side(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" PROD_BUCKET
             ",\"resourceAccount\":\"222222222222\"," REQ(XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
             "implicitDeny");
}

/* ... and neither is the identity policy alone. */
static void xacct_needs_resource_side(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" XCARLOS_ID
             "],\"resourceAccount\":\"222222222222\"," REQ(XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
             "implicitDeny");
}

/* An account principal in the bucket policy delegates to the other account's identity policies. */
static void xacct_account_principal_delegates(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" XCARLOS_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\","
             "\"Principal\":{\"AWS\":\"111111111111\"},\"Action\":\"s3:PutObject\",\"Resource\":"
             "\"arn:aws:s3:::Production/*\"}},\"resourceAccount\":\"222222222222\"," REQ(
                 XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
             "allowed");
}

static void xacct_other_account_not_named(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" XCARLOS_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\","
             "\"Principal\":{\"AWS\":\"333333333333\"},\"Action\":\"s3:PutObject\",\"Resource\":"
             "\"arn:aws:s3:::Production/*\"}},\"resourceAccount\":\"222222222222\"," REQ(
                 XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
             "implicitDeny");
}

/* A permissions boundary on the trusted side caps cross-account access too. */
static void xacct_boundary_applies(void **state) {
    (void)state;
    s_expect(
        "{\"identityPolicies\":[" XCARLOS_ID "],\"resourcePolicy\":" PROD_BUCKET
        ",\"permissionBoundaries\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\",\"Resource\":\"*\"}}],"
        "\"resourceAccount\":\"222222222222\"," REQ(XCARLOS, "s3:PutObject", "arn:aws:s3:::Production/file") "}",
        "implicitDeny");
}

/* ---- [DENY] resource-based policies and implicit denies in other policy types (same account) ---- */
#define ACCT "111122223333"
#define ROLE_ARN "arn:aws:iam::" ACCT ":role/examplerole"
#define SESSION_ARN "arn:aws:sts::" ACCT ":assumed-role/examplerole/examplerolesessionname"
#define USER_ARN "arn:aws:iam::" ACCT ":user/exampleuser"
#define FED_ARN "arn:aws:sts::" ACCT ":federated-user/exampleuser"
#define RBP_FOR(who)                                                                                                   \
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" who "\"},\"Action\":\"sqs:SendMessage\","         \
    "\"Resource\":\"arn:aws:sqs:us-east-1:" ACCT ":q\"}}"
#define OTHER_ONLY "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:DescribeInstances\",\"Resource\":\"*\"}}"
#define Q "arn:aws:sqs:us-east-1:" ACCT ":q"

/* "Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit deny in a
 * permissions boundary or session policy." (but not by the identity-based policy) */
static void same_role_arn_no_identity_policy(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(ROLE_ARN) "," REQ(SESSION_ARN, "sqs:SendMessage", Q) "}", "allowed");
}

static void same_role_arn_limited_by_boundary(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(ROLE_ARN) ",\"permissionBoundaries\":[" OTHER_ONLY
                                                      "]," REQ(SESSION_ARN, "sqs:SendMessage", Q) "}",
             "implicitDeny");
}

static void same_role_arn_limited_by_session_policy(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(ROLE_ARN) ",\"sessionPolicies\":[" OTHER_ONLY
                                                      "]," REQ(SESSION_ARN, "sqs:SendMessage", Q) "}",
             "implicitDeny");
}

/* "Permissions granted directly to a session are not limited by an implicit deny in an identity-based
 * policy, a permissions boundary, or session policy." */
static void same_session_arn_not_limited(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(SESSION_ARN) ",\"permissionBoundaries\":[" OTHER_ONLY
                                                         "],\"sessionPolicies\":[" OTHER_ONLY
                                                         "]," REQ(SESSION_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

static void same_session_arn_other_session(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(SESSION_ARN) "," REQ("arn:aws:sts::" ACCT ":assumed-role/examplerole/other",
                                                                 "sqs:SendMessage", Q) "}",
             "implicitDeny");
}

/* "resource-based policies that grant permissions to an IAM user ARN ... are not limited by an implicit
 * deny in an identity-based policy or permissions boundary." */
static void same_user_arn_not_limited(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(USER_ARN) ",\"permissionBoundaries\":[" OTHER_ONLY
                                                      "]," REQ(USER_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

static void same_federated_session_arn_not_limited(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(FED_ARN) ",\"sessionPolicies\":[" OTHER_ONLY
                                                     "]," REQ(FED_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

/* "if a resource-based policy grants permission to the ARN of the IAM user who federated, then requests
 * made by the federated user during the session are limited by an implicit deny in a permission
 * boundary or session policy." */
static void same_federating_user_limited_by_session(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(USER_ARN) ",\"sessionPolicies\":[" OTHER_ONLY
                                                      "]," REQ(FED_ARN, "sqs:SendMessage", Q) "}",
             "implicitDeny");
}

static void same_federating_user_session_allows(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(USER_ARN) ",\"sessionPolicies\":[{\"Statement\":{\"Effect\":\"Allow\","
                                                      "\"Action\":\"sqs:*\",\"Resource\":\"*\"}}]," REQ(
                                                          FED_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

/* [DENY] "If there is no session policy, the code checks whether the principal is a role session. If the
 * principal is a role session, then the request is Allowed. Otherwise, the request is implicitly
 * denied." */
static void same_federated_user_without_session_policy(void **state) {
    (void)state;
    s_expect(
        "{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"*\"}}]," REQ(
            FED_ARN, "sqs:SendMessage", Q) "}",
        "implicitDeny");
}

static void same_role_session_without_session_policy(void **state) {
    (void)state;
    s_expect(
        "{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sqs:*\",\"Resource\":\"*\"}}]," REQ(
            SESSION_ARN, "sqs:SendMessage", Q) "}",
        "allowed");
}

/* An account principal delegates to the identity-based policies, in the same account too. */
static void same_account_principal_needs_identity(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" RBP_FOR(ACCT) "," REQ(USER_ARN, "sqs:SendMessage", Q) "}", "implicitDeny");
    s_expect("{\"resourcePolicy\":" RBP_FOR(
                 "arn:aws:iam::" ACCT
                 ":root") ",\"identityPolicies\":[{\"Statement\":{"
                          "\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":\"*\"}}]," REQ(
                              USER_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

/* [PRIN] "For IAM users and role principals within your account, no other permissions are required." */
static void same_wildcard_principal_grants(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
             "\"sqs:SendMessage\",\"Resource\":\"" Q "\"}}," REQ(SESSION_ARN, "sqs:SendMessage", Q) "}",
             "allowed");
}

/* ... and "for principals in other accounts, they must also have identity-based permissions". */
static void xacct_wildcard_principal_needs_identity(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":"
             "\"sqs:SendMessage\",\"Resource\":\"" Q
             "\"}}," REQ("arn:aws:iam::999999999999:user/x", "sqs:SendMessage", Q) "}",
             "implicitDeny");
}

/* [DENY] "By default, all requests are implicitly denied with the exception of the AWS account root user,
 * which has full access." */
static void root_user_full_access(void **state) {
    (void)state;
    s_expect("{" REQ("arn:aws:iam::" ACCT ":root", "sqs:DeleteQueue", Q) "}", "allowed");
}

static void root_user_still_denied_by_scp(void **state) {
    (void)state;
    s_expect("{\"scps\":[{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},{\"Effect\":"
             "\"Deny\",\"Action\":\"sqs:DeleteQueue\",\"Resource\":\"*\"}]}]," REQ("arn:aws:iam::" ACCT ":root",
                                                                                   "sqs:DeleteQueue", Q) "}",
             "explicitDeny");
}

static void root_user_cross_account_needs_grant(void **state) {
    (void)state;
    s_expect("{" REQ("arn:aws:iam::999999999999:root", "sqs:SendMessage", Q) "}", "implicitDeny");
    s_expect("{\"resourcePolicy\":" RBP_FOR("999999999999") "," REQ("arn:aws:iam::999999999999:root", "sqs:SendMessage",
                                                                    Q) "}",
             "allowed");
}

/* ---- KMS key policies and role trust policies must allow [DENY] ---- */
#define KEY "arn:aws:kms:us-east-1:" ACCT ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
#define KMS_ID "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}}"
#define KEY_POLICY_ACCOUNT                                                                                             \
    "{\"Statement\":{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"             \
    "\"arn:aws:iam::" ACCT ":root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}}"

static void kms_key_policy_delegates_to_iam(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" KMS_ID "],\"resourcePolicy\":" KEY_POLICY_ACCOUNT
             "," REQ(USER_ARN, "kms:Decrypt", KEY) "}",
             "allowed");
}

static void kms_key_policy_must_allow(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" KMS_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":"
             "{\"AWS\":\"arn:aws:iam::" ACCT
             ":role/admin\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}}," REQ(USER_ARN, "kms:Decrypt", KEY) "}",
             "implicitDeny");
    s_expect("{\"identityPolicies\":[" KMS_ID "]," REQ(USER_ARN, "kms:Decrypt", KEY) "}", "implicitDeny");
}

static void kms_root_needs_key_policy(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" USER_ARN
             "\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}}," REQ("arn:aws:iam::" ACCT ":root", "kms:Decrypt", KEY) "}",
             "implicitDeny");
}

static void kms_key_policy_names_user(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" USER_ARN
             "\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}}," REQ(USER_ARN, "kms:Decrypt", KEY) "}",
             "allowed");
}

#define TARGET_ROLE "arn:aws:iam::" ACCT ":role/Deploy"
#define ASSUME_ID                                                                                                      \
    "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"" TARGET_ROLE "\"}}"

static void trust_cross_account_both_sides(void **state) {
    (void)state;
    const char *trust =
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},"
        "\"Action\":\"sts:AssumeRole\"}}";
    char line[2048];
    snprintf(line, sizeof(line),
             "{\"identityPolicies\":[" ASSUME_ID
             "],\"resourcePolicy\":%s," REQ("arn:aws:iam::999999999999:user/dev", "sts:AssumeRole", TARGET_ROLE) "}",
             trust);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line),
             "{\"resourcePolicy\":%s," REQ("arn:aws:iam::999999999999:user/dev", "sts:AssumeRole", TARGET_ROLE) "}",
             trust);
    s_expect(line, "implicitDeny");
}

static void trust_same_account_names_user(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" USER_ARN
             "\"},\"Action\":\"sts:AssumeRole\"}}," REQ(USER_ARN, "sts:AssumeRole", TARGET_ROLE) "}",
             "allowed");
}

static void trust_policy_must_allow_even_with_identity(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" ASSUME_ID "]," REQ(USER_ARN, "sts:AssumeRole", TARGET_ROLE) "}", "implicitDeny");
    s_expect("{\"identityPolicies\":[" ASSUME_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\","
             "\"Principal\":{\"AWS\":\"" ACCT
             "\"},\"Action\":\"sts:AssumeRole\"}}," REQ(USER_ARN, "sts:AssumeRole", TARGET_ROLE) "}",
             "allowed");
}

static void trust_external_id_condition(void **state) {
    (void)state;
    const char *base = "{\"identityPolicies\":[" ASSUME_ID "],\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\","
                       "\"Principal\":{\"AWS\":\"999999999999\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{"
                       "\"StringEquals\":{\"sts:ExternalId\":\"Unique-7\"}}}},";
    char line[2048];
    snprintf(line, sizeof(line),
             "%s" REQC("arn:aws:iam::999999999999:user/dev", "sts:AssumeRole", TARGET_ROLE,
                       "{\"sts:ExternalId\":\"Unique-7\"}") "}",
             base);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line), "%s" REQ("arn:aws:iam::999999999999:user/dev", "sts:AssumeRole", TARGET_ROLE) "}",
             base);
    s_expect(line, "implicitDeny");
}

static void trust_web_identity(void **state) {
    (void)state;
    const char *trust =
        "{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::" ACCT
        ":oidc-provider/token.actions.githubusercontent.com\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\","
        "\"Condition\":{\"StringLike\":{\"token.actions.githubusercontent.com:sub\":\"repo:octo/app:*\"}}}},";
    char line[2048];
    snprintf(line, sizeof(line),
             "%s" REQC("arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com",
                       "sts:AssumeRoleWithWebIdentity", TARGET_ROLE,
                       "{\"token.actions.githubusercontent.com:sub\":\"repo:octo/app:ref:refs/heads/main\"}") "}",
             trust);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line),
             "%s" REQC("arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com",
                       "sts:AssumeRoleWithWebIdentity", TARGET_ROLE,
                       "{\"token.actions.githubusercontent.com:sub\":\"repo:evil/app:ref:refs/heads/main\"}") "}",
             trust);
    s_expect(line, "implicitDeny");
}

/* ---- permissions boundaries [BOUND] (ShirleyRodriguez) ---- */
#define SHIRLEY "arn:aws:iam::" ACCT ":user/ShirleyRodriguez"
#define SHIRLEY_BOUNDARY                                                                                               \
    "{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":[\"s3:*\",\"cloudwatch:*\",\"ec2:*\"],\"Resource\":\"*\"}}"
#define SHIRLEY_ID "{" V "\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iam:CreateUser\",\"Resource\":\"*\"}}"

/* "If ShirleyRodriguez tries to perform an operation in IAM, the request fails." */
static void boundary_blocks_identity_grant(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" SHIRLEY_ID "],\"permissionBoundaries\":[" SHIRLEY_BOUNDARY
             "]," REQ(SHIRLEY, "iam:CreateUser", "arn:aws:iam::" ACCT ":user/x") "}",
             "implicitDeny");
}

/* The boundary itself grants nothing. */
static void boundary_grants_nothing(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" SHIRLEY_ID "],\"permissionBoundaries\":[" SHIRLEY_BOUNDARY
             "]," REQ(SHIRLEY, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "implicitDeny");
}

static void boundary_and_identity_intersect(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}],"
             "\"permissionBoundaries\":[" SHIRLEY_BOUNDARY "]," REQ(SHIRLEY, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "allowed");
}

static void boundary_explicit_deny(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}],"
             "\"permissionBoundaries\":[{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"},"
             "{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteBucket\",\"Resource\":\"*\"}]}]," REQ(
                 SHIRLEY, "s3:DeleteBucket", "arn:aws:s3:::b") "}",
             "explicitDeny");
}

/* [BOUND] "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
 * permissions boundary policy attached, regardless of the values specified in the NotPrincipal element." */
static void boundary_notprincipal_deny_quirk(void **state) {
    (void)state;
    const char *rbp =
        "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" SHIRLEY "\"},\"Action\":"
        "\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"},{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":[\"" SHIRLEY
        "\",\"arn:aws:iam::" ACCT ":root\"]},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"}]}";
    char line[4096];
    snprintf(line, sizeof(line), "{\"resourcePolicy\":%s," REQ(SHIRLEY, "s3:GetObject", "arn:aws:s3:::b/k") "}", rbp);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line),
             "{\"resourcePolicy\":%s,\"permissionBoundaries\":[" SHIRLEY_BOUNDARY
             "]," REQ(SHIRLEY, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             rbp);
    s_expect(line, "explicitDeny");
}

/* ---- session policies [EVAL] ---- */
static void session_policy_intersects(void **state) {
    (void)state;
    const char *base = "{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":"
                       "\"*\"}}],\"sessionPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                       "\"Resource\":\"*\"}}],";
    char line[2048];
    snprintf(line, sizeof(line), "%s" REQ(SESSION_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}", base);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line), "%s" REQ(SESSION_ARN, "s3:PutObject", "arn:aws:s3:::b/k") "}", base);
    s_expect(line, "implicitDeny");
}

/* ---- service control policies [EVAL] [SCP] ---- */
#define ADMIN "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}"
#define FULL "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}"

static void scp_must_allow(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[" ADMIN "],\"scps\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","
             "\"Resource\":\"*\"}}]," REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "implicitDeny");
    s_expect("{\"identityPolicies\":[" ADMIN "],\"scps\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\","
             "\"Resource\":\"*\"}}]," REQ(USER_ARN, "ec2:RunInstances", "*") "}",
             "allowed");
}

/* SCPs grant nothing themselves. */
static void scp_does_not_grant(void **state) {
    (void)state;
    s_expect("{\"scps\":[" FULL "]," REQ(USER_ARN, "ec2:RunInstances", "*") "}", "implicitDeny");
}

static void scp_same_level_union(void **state) {
    (void)state;
    const char *scps = "\"scps\":[" FULL ",{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"s3:DeleteBucket\","
                       "\"Resource\":\"*\"}}],";
    char line[2048];
    snprintf(line, sizeof(line),
             "{\"identityPolicies\":[" ADMIN "],%s" REQ(USER_ARN, "s3:DeleteBucket", "arn:aws:s3:::b") "}", scps);
    s_expect_matched(line, "explicitDeny", "scps[1]#0");
    snprintf(line, sizeof(line),
             "{\"identityPolicies\":[" ADMIN "],%s" REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}", scps);
    s_expect(line, "allowed");
}

/* "For a permission to be allowed for a specific account, there must be an explicit Allow statement at
 * every level from the root through each OU in the direct path to the account." [SCP] */
static void scp_every_level_must_allow(void **state) {
    (void)state;
    const char *scps = "\"scps\":[[" FULL "],[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":"
                       "\"*\"}}],[" FULL "]],";
    char line[2048];
    snprintf(line, sizeof(line), "{\"identityPolicies\":[" ADMIN "],%s" REQ(USER_ARN, "ec2:RunInstances", "*") "}",
             scps);
    s_expect(line, "implicitDeny");
    snprintf(line, sizeof(line),
             "{\"identityPolicies\":[" ADMIN "],%s" REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}", scps);
    s_expect_matched(line, "allowed", "scps[0][0]#0,scps[1][0]#0,scps[2][0]#0,identityPolicies[0]#0");
}

/* SCPs limit IAM principals of member accounts, not AWS services acting through resource policies. */
static void scp_not_applied_to_service_principals(void **state) {
    (void)state;
    s_expect("{\"scps\":[{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}}],\"resourcePolicy\":"
             "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},\"Action\":"
             "\"sqs:SendMessage\",\"Resource\":\"" Q "\"}}," REQ("sns.amazonaws.com", "sqs:SendMessage", Q) "}",
             "allowed");
}

/* https://github.com/nccgroup/PMapper/issues/94 ("SCP - Unexpected False Positives"): an administrator
 * under an SCP denying iam:Create*, iam:Update*, iam:Put*, iam:Attach* and iam:PassRole is no longer an
 * administrator for those actions, whatever its identity policy says. */
static void scp_pmapper_94_admin_under_deny(void **state) {
    (void)state;
    const char *pre = "{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":"
                      "\"*\"}}],\"scps\":[" FULL ",{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Statement1\","
                      "\"Effect\":\"Deny\",\"Action\":[\"iam:Create*\",\"iam:Update*\",\"iam:Put*\",\"iam:Attach*\","
                      "\"iam:PassRole\"],\"Resource\":[\"*\"]}]}],";
    const char *denied[] = {"iam:PutUserPolicy", "iam:AttachRolePolicy",       "iam:CreatePolicyVersion",
                            "iam:PassRole",      "iam:UpdateAssumeRolePolicy", "iam:CreateAccessKey"};
    char line[2048];
    for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        snprintf(line, sizeof(line),
                 "%s\"request\":{\"principal\":\"" USER_ARN "\",\"action\":\"%s\",\"resource\":\"*\"}}", pre,
                 denied[i]);
        s_expect(line, "explicitDeny");
    }
    snprintf(line, sizeof(line),
             "%s\"request\":{\"principal\":\"" USER_ARN "\",\"action\":\"iam:DeleteUser\",\"resource\":\"*\"}}", pre);
    s_expect(line, "allowed");
}

/* ---- resource control policies [RCP] ---- */
#define RCP_ORG                                                                                                        \
    "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"},{\"Effect\":"      \
    "\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":{\"StringNotEqualsIfExists\":"  \
    "{\"aws:PrincipalOrgID\":\"o-1234567890\"},\"BoolIfExists\":{\"aws:PrincipalIsAWSService\":\"false\"}}}]}"
#define PUBLIC_BUCKET                                                                                                  \
    "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":"               \
    "\"arn:aws:s3:::b/*\"}}"

static void rcp_blocks_outside_org(void **state) {
    (void)state;
    s_expect("{\"rcps\":[" RCP_ORG "],\"resourcePolicy\":" PUBLIC_BUCKET ",\"resourceAccount\":\"" ACCT
             "\"," REQ("anonymous", "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "explicitDeny");
    s_expect("{\"rcps\":[" RCP_ORG "],\"resourcePolicy\":" PUBLIC_BUCKET ",\"resourceAccount\":\"" ACCT
             "\"," REQC(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k", "{\"aws:PrincipalOrgID\":\"o-1234567890\"}") "}",
             "allowed");
}

static void rcp_must_allow(void **state) {
    (void)state;
    s_expect("{\"rcps\":[{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:*\",\"Resource\":"
             "\"*\"}}],\"resourcePolicy\":" PUBLIC_BUCKET "," REQ("anonymous", "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "implicitDeny");
}

/* ---- NotPrincipal [NOTP] ---- */
#define BOB "arn:aws:iam::444455556666:user/Bob"
#define NP_BOB                                                                                                         \
    "{" V "\"Statement\":[{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":[\"" BOB                                      \
    "\",\"arn:aws:iam::444455556666:root\"]},"                                                                         \
    "\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::BUCKETNAME\",\"arn:aws:s3:::BUCKETNAME/*\"]},{\"Effect\":"       \
    "\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::BUCKETNAME/*\"}]}"
#define ID_S3 "\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}]"

static void notprincipal_bob_not_denied(void **state) {
    (void)state;
    s_expect("{" ID_S3 ",\"resourcePolicy\":" NP_BOB
             ",\"resourceAccount\":\"111122223333\"," REQ(BOB, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}",
             "allowed");
}

static void notprincipal_others_denied(void **state) {
    (void)state;
    s_expect("{" ID_S3 ",\"resourcePolicy\":" NP_BOB ",\"resourceAccount\":\"111122223333\"," REQ(
                 "arn:aws:iam::444455556666:user/Alice", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}",
             "explicitDeny");
    s_expect("{\"resourcePolicy\":" NP_BOB
             ",\"resourceAccount\":\"111122223333\"," REQ("anonymous", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}",
             "explicitDeny");
}

/* "If the NotPrincipal element contained only Bob's ARN, the effect of the policy might be to explicitly
 * deny access to the AWS account that contains the user Bob." */
static void notprincipal_without_account_denies_bob(void **state) {
    (void)state;
    s_expect("{" ID_S3 ",\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"" BOB
             "\"},\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::BUCKETNAME/"
             "*\"}},\"resourceAccount\":\"111122223333\"," REQ(BOB, "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}",
             "explicitDeny");
}

#define AUDIT_SESSION "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app"
#define AUDIT_ROLE "arn:aws:iam::444455556666:role/cross-account-read-only-role"
#define NP_AUDIT(list)                                                                                                 \
    "{\"Statement\":[{\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":[" list "]},\"Action\":\"s3:*\",\"Resource\":"     \
    "[\"arn:aws:s3:::Bucket_AccountAudit\",\"arn:aws:s3:::Bucket_AccountAudit/*\"]},{\"Effect\":\"Allow\","            \
    "\"Principal\":{\"AWS\":\"444455556666\"},\"Action\":\"s3:GetObject\",\"Resource\":"                               \
    "\"arn:aws:s3:::Bucket_AccountAudit/*\"}]}"

static void notprincipal_role_session_exempt(void **state) {
    (void)state;
    s_expect(
        "{" ID_S3 ",\"resourcePolicy\":" NP_AUDIT(
            "\"" AUDIT_SESSION "\",\"" AUDIT_ROLE
            "\",\"arn:aws:iam::444455556666:root\"") ",\"resourceAccount\":\"111122223333\"," REQ(AUDIT_SESSION,
                                                                                                  "s3:GetObject",
                                                                                                  "arn:aws:s3:::Bucket_"
                                                                                                  "AccountAudit/k") "}",
        "allowed");
}

static void notprincipal_other_session_denied(void **state) {
    (void)state;
    s_expect(
        "{" ID_S3 ",\"resourcePolicy\":" NP_AUDIT(
            "\"" AUDIT_SESSION "\",\"" AUDIT_ROLE
            "\",\"arn:aws:iam::444455556666:root\"") ",\"resourceAccount\":\"111122223333\"," REQ("arn:aws:sts::"
                                                                                                  "444455556666:"
                                                                                                  "assumed-role/"
                                                                                                  "cross-account-read-"
                                                                                                  "only-role/other",
                                                                                                  "s3:GetObject",
                                                                                                  "arn:aws:s3:::Bucket_"
                                                                                                  "AccountAudit/k") "}",
        "explicitDeny");
}

/* "If the NotPrincipal element was missing the ARN of the role, the effect of the policy might be to
 * explicitly deny access to the role." */
static void notprincipal_missing_role_denies(void **state) {
    (void)state;
    s_expect(
        "{" ID_S3 ",\"resourcePolicy\":" NP_AUDIT(
            "\"" AUDIT_SESSION
            "\",\"arn:aws:iam::444455556666:root\"") ",\"resourceAccount\":\"111122223333\"," REQ(AUDIT_SESSION,
                                                                                                  "s3:GetObject",
                                                                                                  "arn:aws:s3:::Bucket_"
                                                                                                  "AccountAudit/k") "}",
        "explicitDeny");
}

/* NotPrincipal with Allow grants "all principals except" those listed, anonymous callers included. */
static void notprincipal_allow_grants_everyone_else(void **state) {
    (void)state;
    const char *rbp = "\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"NotPrincipal\":{\"AWS\":\"" BOB
                      "\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}},";
    char line[2048];
    snprintf(line, sizeof(line), "{%s" REQ("anonymous", "s3:GetObject", "arn:aws:s3:::b/k") "}", rbp);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line),
             "{%s\"resourceAccount\":\"444455556666\"," REQ(BOB, "s3:GetObject", "arn:aws:s3:::b/k") "}", rbp);
    s_expect(line, "implicitDeny");
}

/* [PRIN] "UsePrincipalArnInsteadOfNotPrincipalWithDeny". */
#define PARN_DENY                                                                                                      \
    "\"resourcePolicy\":{" V "\"Statement\":[{\"Sid\":\"UsePrincipalArnInsteadOfNotPrincipalWithDeny\",\"Effect\":"    \
    "\"Deny\",\"Action\":\"s3:*\",\"Principal\":\"*\",\"Resource\":[\"arn:aws:s3:::BUCKETNAME/*\","                    \
    "\"arn:aws:s3:::BUCKETNAME\"],\"Condition\":{\"ArnNotEquals\":{\"aws:PrincipalArn\":"                              \
    "\"arn:aws:iam::444455556666:user/user-name\"}}}]},\"resourceAccount\":\"444455556666\","

static void principal_arn_deny_spares_named_user(void **state) {
    (void)state;
    s_expect("{" ID_S3 "," PARN_DENY REQ("arn:aws:iam::444455556666:user/user-name", "s3:GetObject",
                                         "arn:aws:s3:::BUCKETNAME/k") "}",
             "allowed");
}

static void principal_arn_deny_hits_others(void **state) {
    (void)state;
    s_expect("{" ID_S3
             "," PARN_DENY REQ("arn:aws:iam::444455556666:user/other", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}",
             "explicitDeny");
    /* Anonymous callers have no aws:PrincipalArn: the negated operator is true, the Deny applies. */
    s_expect("{" PARN_DENY REQ("anonymous", "s3:GetObject", "arn:aws:s3:::BUCKETNAME/k") "}", "explicitDeny");
}

/* ---- anonymous and service callers ---- */
static void anonymous_public_bucket(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":" PUBLIC_BUCKET "," REQ("anonymous", "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "allowed");
    s_expect("{\"resourcePolicy\":" PUBLIC_BUCKET "," REQ("anonymous", "s3:PutObject", "arn:aws:s3:::b/k") "}",
             "implicitDeny");
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"" ACCT
             "\"},\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/*\"}}," REQ("anonymous", "s3:GetObject",
                                                                                        "arn:aws:s3:::b/k") "}",
             "implicitDeny");
    s_expect("{" REQ("*", "s3:GetObject", "arn:aws:s3:::b/k") "}", "implicitDeny");
}

/* [OPS] the SQS policy for SNS with aws:SourceArn. */
#define SQS_FOR_SNS                                                                                                    \
    "\"resourcePolicy\":{" V "\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"sns.amazonaws.com\"},"  \
    "\"Action\":\"SQS:SendMessage\",\"Resource\":\"arn:aws:sqs:us-east-1:123456789012:QUEUE-ID\",\"Condition\":{"      \
    "\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:123456789012:TOPIC-ID\"}}}},"

static void service_on_behalf_of_named_topic(void **state) {
    (void)state;
    s_expect("{" SQS_FOR_SNS REQC("sns.amazonaws.com", "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:QUEUE-ID",
                                  "{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:123456789012:TOPIC-ID\"}") "}",
             "allowed");
    s_expect("{" SQS_FOR_SNS REQC("sns.amazonaws.com", "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:QUEUE-ID",
                                  "{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:999999999999:TOPIC-ID\"}") "}",
             "implicitDeny");
    s_expect(
        "{" SQS_FOR_SNS REQ("sns.amazonaws.com", "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:QUEUE-ID") "}",
        "implicitDeny");
    s_expect("{" SQS_FOR_SNS REQ("lambda.amazonaws.com", "sqs:SendMessage",
                                 "arn:aws:sqs:us-east-1:123456789012:QUEUE-ID") "}",
             "implicitDeny");
}

/* ---- NotAction [NOTA] ---- */
static void notaction_allow_scoped_by_resource(void **state) {
    (void)state;
    const char *id = "\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"s3:DeleteBucket\","
                     "\"Resource\":\"arn:aws:s3:::*\"}}],";
    char line[2048];
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "s3:PutObject", "arn:aws:s3:::b/k") "}", id);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "s3:DeleteBucket", "arn:aws:s3:::b") "}", id);
    s_expect(line, "implicitDeny");
    /* "This does not allow users to use the ListAllMyBuckets S3 API operation, because that action
     * requires the "*" resource." */
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "s3:ListAllMyBuckets", "*") "}", id);
    s_expect(line, "implicitDeny");
}

static void notaction_everything_but_iam(void **state) {
    (void)state;
    const char *id = "\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\","
                     "\"Resource\":\"*\"}}],";
    char line[2048];
    snprintf(line, sizeof(line),
             "{%s" REQ(USER_ARN, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:" ACCT ":table/t") "}", id);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "iam:CreateUser", "arn:aws:iam::" ACCT ":user/x") "}", id);
    s_expect(line, "implicitDeny");
}

/* "DenyAllUsersNotUsingMFA": Deny NotAction iam:* with BoolIfExists aws:MultiFactorAuthPresent false. */
static void notaction_deny_without_mfa(void **state) {
    (void)state;
    const char *id = "\"identityPolicies\":[" ADMIN ",{" V "\"Statement\":[{\"Sid\":\"DenyAllUsersNotUsingMFA\","
                     "\"Effect\":\"Deny\",\"NotAction\":\"iam:*\",\"Resource\":\"*\",\"Condition\":{\"BoolIfExists\":"
                     "{\"aws:MultiFactorAuthPresent\":\"false\"}}}]}],";
    char line[2048];
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "ec2:RunInstances", "*") "}", id);
    s_expect(line, "explicitDeny");
    snprintf(line, sizeof(line),
             "{%s" REQC(USER_ARN, "ec2:RunInstances", "*", "{\"aws:MultiFactorAuthPresent\":\"true\"}") "}", id);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line), "{%s" REQ(USER_ARN, "iam:ListUsers", "*") "}", id);
    s_expect(line, "allowed");
}

/* ---- policy variables derived from the principal [VARS] ---- */
static void variables_from_principal(void **state) {
    (void)state;
    const char *id = "\"identityPolicies\":[{" V "\"Statement\":[{\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
                     "\"Effect\":\"Allow\",\"Resource\":[\"arn:aws:s3:::mybucket/${aws:username}/*\"]}]}],";
    char line[2048];
    snprintf(line, sizeof(line),
             "{%s" REQ("arn:aws:iam::" ACCT ":user/David", "s3:GetObject", "arn:aws:s3:::mybucket/David/notes") "}",
             id);
    s_expect(line, "allowed");
    snprintf(line, sizeof(line),
             "{%s" REQ("arn:aws:iam::" ACCT ":user/David", "s3:GetObject", "arn:aws:s3:::mybucket/Adele/notes") "}",
             id);
    s_expect(line, "implicitDeny");
    /* A role session has no aws:username: the statement does not apply. */
    snprintf(line, sizeof(line), "{%s" REQ(SESSION_ARN, "s3:GetObject", "arn:aws:s3:::mybucket/David/notes") "}", id);
    s_expect(line, "implicitDeny");
}

static void variables_access_keys_example(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[{" V "\"Statement\":[{\"Action\":[\"iam:*AccessKey*\"],\"Effect\":\"Allow\","
             "\"Resource\":[\"arn:aws:iam::" ACCT ":user/${aws:username}\"]}]}]," REQ(
                 "arn:aws:iam::" ACCT ":user/David", "iam:CreateAccessKey", "arn:aws:iam::" ACCT ":user/David") "}",
             "allowed");
    s_expect("{\"identityPolicies\":[{" V "\"Statement\":[{\"Action\":[\"iam:*AccessKey*\"],\"Effect\":\"Allow\","
             "\"Resource\":[\"arn:aws:iam::" ACCT ":user/${aws:username}\"]}]}]," REQ(
                 "arn:aws:iam::" ACCT ":user/David", "iam:CreateAccessKey", "arn:aws:iam::" ACCT ":user/Root") "}",
             "implicitDeny");
}

/* Context keys given explicitly win over the derived ones. */
static void derived_keys_can_be_overridden(void **state) {
    (void)state;
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
             "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalAccount\":\"" ACCT
             "\"}}}}," REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "allowed");
    s_expect("{\"resourcePolicy\":{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
             "\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"aws:PrincipalAccount\":\"" ACCT "\"}}}}," REQC(
                 USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k", "{\"aws:PrincipalAccount\":\"999999999999\"}") "}",
             "implicitDeny");
}

/* ---- the line protocol ---- */
static void protocol_id_echoed_any_type(void **state) {
    (void)state;
    cJSON *j = s_run("{\"id\":{\"case\":[1,2]}," REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}");
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j, "id"));
    assert_string_equal(id, "{\"case\":[1,2]}");
    cJSON_free(id);
    cJSON_Delete(j);
    j = s_run("{" REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "id")));
    assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "matched")));
    cJSON_Delete(j);
}

static void protocol_errors(void **state) {
    (void)state;
    s_expect_error("not json", "not valid JSON");
    s_expect_error("[1,2]", "JSON object");
    s_expect_error("{\"id\":7}", "request: missing");
    s_expect_error("{\"id\":7,\"request\":{\"action\":\"s3:GetObject\",\"resource\":\"*\"}}", "request.principal");
    s_expect_error("{\"id\":7,\"request\":{\"principal\":\"anonymous\",\"action\":\"GetObject\",\"resource\":\"*\"}}",
                   "service:action");
    s_expect_error("{\"id\":7,\"identityPolicies\":{}," REQ(USER_ARN, "s3:GetObject", "*") "}", "identityPolicies");
    s_expect_error(
        "{\"id\":7,\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\"}}]," REQ(
            USER_ARN, "s3:GetObject", "*") "}",
        "identityPolicies[0]: statement 0: Resource");
    s_expect_error("{\"id\":7,\"resourcePolicy\":[]," REQ(USER_ARN, "s3:GetObject", "*") "}", "resourcePolicy");
    s_expect_error("{\"id\":7,\"scps\":[[{\"Statement\":[]}],[{\"Statement\":{\"Effect\":\"Allow\"}}]]," REQ(
                       USER_ARN, "s3:GetObject", "*") "}",
                   "scps[1][0]: statement 0");
    s_expect_error("{\"id\":7,\"bogus\":1," REQ(USER_ARN, "s3:GetObject", "*") "}", "bogus: unknown field");
    s_expect_error("{\"id\":7," REQC(USER_ARN, "s3:GetObject", "*", "{\"aws:SourceIp\":{\"x\":1}}") "}",
                   "contextKeys.aws:SourceIp");
    s_expect_error("{\"id\":7,\"resourceAccount\":5," REQ(USER_ARN, "s3:GetObject", "*") "}", "resourceAccount");
}

static void protocol_adversarial_lines(void **state) {
    (void)state;
    s_expect_error("{\"id\":\"\xff\"," REQ(USER_ARN, "s3:GetObject", "*") "}", "not valid UTF-8");
    const char *full = "{\"id\":1," REQ(USER_ARN, "s3:GetObject", "*") "}";
    for (size_t n = 1; n < strlen(full); n += 7) {
        char *out = NULL;
        bool was_error = false;
        assert_int_equal(tm_iam_eval_json_line(&out, &was_error, full, n), TM_OK);
        assert_true(was_error);
        free(out);
    }
    s_expect_error("{\"id\":1,\"request\":{\"principal\":5,\"action\":\"s3:GetObject\",\"resource\":\"*\"}}",
                   "request.principal");
    s_expect_error("{\"id\":1,\"request\":{\"principal\":\"anonymous\",\"action\":\"s3:GetObject\",\"resource\":\"\"}}",
                   "request.resource");
    s_expect_error("{\"id\":1,\"request\":{\"principal\":\"anonymous\",\"action\":\"s3:GetObject\",\"resource\":\"*\","
                   "\"extra\":1}}",
                   "request.extra");
    /* Unicode survives the round trip. */
    cJSON *j = s_run("{\"id\":\"caf\xc3\xa9 \\u65e5\"," REQ(USER_ARN, "s3:GetObject", "*") "}");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring, "caf\xc3\xa9 \xe6\x97\xa5");
    cJSON_Delete(j);
}

static void protocol_policy_as_string(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[\"{\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"s3:*\\\","
             "\\\"Resource\\\":\\\"*\\\"}}\"]," REQ(USER_ARN, "s3:GetObject", "arn:aws:s3:::b/k") "}",
             "allowed");
}

static void protocol_context_arrays_and_numbers(void **state) {
    (void)state;
    s_expect("{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":"
             "\"*\",\"Condition\":{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"},\"ForAllValues:StringEquals\":"
             "{\"aws:TagKeys\":[\"a\",\"b\"]}}}}]," REQC(USER_ARN, "s3:ListBucket", "arn:aws:s3:::b",
                                                         "{\"s3:max-keys\":10,\"aws:TagKeys\":[\"a\"]}") "}",
             "allowed");
    s_expect("{\"identityPolicies\":[{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\",\"Resource\":"
             "\"*\",\"Condition\":{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"a\"]}}}}]," REQC(
                 USER_ARN, "s3:ListBucket", "arn:aws:s3:::b", "{\"aws:TagKeys\":[]}") "}",
             "implicitDeny");
}

/* The C API: the result says why. */
static void api_reason_and_matches(void **state) {
    (void)state;
    char err[256];
    struct tm_iam_policy *id = NULL, *pb = NULL;
    const char *idj = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    const char *pbj = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"ec2:*\",\"Resource\":\"*\"}}";
    assert_int_equal(tm_iam_policy_parse(&id, idj, strlen(idj), TM_IAM_POLICY_IDENTITY, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_iam_policy_parse(&pb, pbj, strlen(pbj), TM_IAM_POLICY_IDENTITY, err, sizeof(err)), TM_OK);
    const struct tm_iam_policy *ids[] = {id};
    const struct tm_iam_policy *pbs[] = {pb};
    struct tm_iam_policy_set set = {.identity = ids, .n_identity = 1, .boundaries = pbs, .n_boundaries = 1};
    struct tm_iam_request req = {.principal = USER_ARN, .action = "s3:GetObject", .resource = "arn:aws:s3:::b/k"};
    struct tm_iam_result res;
    tm_iam_result_init(&res);
    assert_int_equal(tm_iam_evaluate(&res, &req, &set, true), TM_OK);
    assert_int_equal(res.decision, TM_IAM_IMPLICIT_DENY);
    assert_int_equal(res.reason, TM_IAM_REASON_BOUNDARY);
    assert_true(res.same_account);
    assert_int_equal(res.n_matches, 1);
    assert_int_equal(res.matches[0].set, TM_IAM_SET_IDENTITY);
    assert_true(tm_iam_statement_applies(id, 0, &req));
    assert_false(tm_iam_statement_applies(pb, 0, &req));
    req.action = NULL;
    assert_int_equal(tm_iam_evaluate(&res, &req, &set, false), TM_ERR_INVALID);
    tm_iam_result_clean_up(&res);
    tm_iam_policy_destroy(id);
    tm_iam_policy_destroy(pb);
}

#define T(name) cmocka_unit_test(name)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(eval_carlos_logs_bucket_denied),
        T(eval_carlos_own_bucket_allowed),
        T(eval_carlos_identity_alone),
        T(eval_carlos_resource_policy_alone),
        T(eval_carlos_list_all_buckets),
        T(eval_carlos_other_bucket_implicit),
        T(eval_carlos_bucket_deny_wins),
        T(eval_getlist_get_allowed),
        T(eval_getlist_create_policy_implicit),
        T(eval_getlist_report_explicit),
        T(eval_getlist_report_still_denied),
        T(xacct_production_logs_denied),
        T(xacct_production_allowed),
        T(xacct_production_delete_implicit),
        T(xacct_needs_identity_side),
        T(xacct_needs_resource_side),
        T(xacct_account_principal_delegates),
        T(xacct_other_account_not_named),
        T(xacct_boundary_applies),
        T(same_role_arn_no_identity_policy),
        T(same_role_arn_limited_by_boundary),
        T(same_role_arn_limited_by_session_policy),
        T(same_session_arn_not_limited),
        T(same_session_arn_other_session),
        T(same_user_arn_not_limited),
        T(same_federated_session_arn_not_limited),
        T(same_federating_user_limited_by_session),
        T(same_federating_user_session_allows),
        T(same_federated_user_without_session_policy),
        T(same_role_session_without_session_policy),
        T(same_account_principal_needs_identity),
        T(same_wildcard_principal_grants),
        T(xacct_wildcard_principal_needs_identity),
        T(root_user_full_access),
        T(root_user_still_denied_by_scp),
        T(root_user_cross_account_needs_grant),
        T(kms_key_policy_delegates_to_iam),
        T(kms_key_policy_must_allow),
        T(kms_root_needs_key_policy),
        T(kms_key_policy_names_user),
        T(trust_cross_account_both_sides),
        T(trust_same_account_names_user),
        T(trust_policy_must_allow_even_with_identity),
        T(trust_external_id_condition),
        T(trust_web_identity),
        T(boundary_blocks_identity_grant),
        T(boundary_grants_nothing),
        T(boundary_and_identity_intersect),
        T(boundary_explicit_deny),
        T(boundary_notprincipal_deny_quirk),
        T(session_policy_intersects),
        T(scp_must_allow),
        T(scp_does_not_grant),
        T(scp_same_level_union),
        T(scp_every_level_must_allow),
        T(scp_not_applied_to_service_principals),
        T(scp_pmapper_94_admin_under_deny),
        T(rcp_blocks_outside_org),
        T(rcp_must_allow),
        T(notprincipal_bob_not_denied),
        T(notprincipal_others_denied),
        T(notprincipal_without_account_denies_bob),
        T(notprincipal_role_session_exempt),
        T(notprincipal_other_session_denied),
        T(notprincipal_missing_role_denies),
        T(notprincipal_allow_grants_everyone_else),
        T(principal_arn_deny_spares_named_user),
        T(principal_arn_deny_hits_others),
        T(anonymous_public_bucket),
        T(service_on_behalf_of_named_topic),
        T(notaction_allow_scoped_by_resource),
        T(notaction_everything_but_iam),
        T(notaction_deny_without_mfa),
        T(variables_from_principal),
        T(variables_access_keys_example),
        T(derived_keys_can_be_overridden),
        T(protocol_id_echoed_any_type),
        T(protocol_errors),
        T(protocol_adversarial_lines),
        T(protocol_policy_as_string),
        T(protocol_context_arrays_and_numbers),
        T(api_reason_and_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
