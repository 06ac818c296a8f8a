/* Condition operators: every family, IfExists, ForAllValues/ForAnyValue, several keys (AND) and values
 * (OR, NOR for negated operators), missing keys, case rules. Each case cites the page it follows:
 *   [OPS]   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *   [COND]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 *   [MULTI] https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
 *   [MVEX]
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
 *   [SVEX]
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-single-valued-context-keys.html
 *   [VARS]  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
 * The context is written "key=value;key2=a|b;key3=[]" (a|b: two values; []: present, no values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/iam_int.h"
#include "analyzers/iam/policy.h"

static void s_context(struct tm_iam_context *ctx, const char *spec) {
    tm_iam_context_init(ctx);
    if (!spec)
        return;
    char *copy = strdup(spec);
    assert_non_null(copy);
    char *save = NULL;
    for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        assert_non_null(eq);
        *eq = '\0';
        const char *val = eq + 1;
        if (strcmp(val, "[]") == 0) {
            assert_int_equal(tm_iam_context_set_empty(ctx, kv), TM_OK);
            continue;
        }
        char *vsave = NULL;
        char *vals = strdup(val);
        assert_non_null(vals);
        if (!*vals) {
            assert_int_equal(tm_iam_context_add(ctx, kv, ""), TM_OK);
        }
        for (char *v = strtok_r(vals, "|", &vsave); v; v = strtok_r(NULL, "|", &vsave))
            assert_int_equal(tm_iam_context_add(ctx, kv, v), TM_OK);
        free(vals);
    }
    free(copy);
}

/* Evaluates the Condition block cond (JSON) against the context spec. */
static bool s_holds(const char *cond, const char *spec) {
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
             "\"Resource\":\"*\",\"Condition\":%s}}",
             cond);
    char err[512];
    struct tm_iam_policy *p = NULL;
    if (tm_iam_policy_parse(&p, json, strlen(json), TM_IAM_POLICY_IDENTITY, err, sizeof(err)))
        fail_msg("parse: %s", err);
    struct tm_iam_context ctx;
    s_context(&ctx, spec);
    bool r = tm__iam_stmt_conditions_hold(&p->stmts[0], &ctx, NULL);
    tm_iam_context_clean_up(&ctx);
    tm_iam_policy_destroy(p);
    return r;
}

#define CASE(name, cond, spec, expect)                                                                                 \
    static void name(void **state) {                                                                                   \
        (void)state;                                                                                                   \
        if (s_holds(cond, spec) != (expect))                                                                           \
            fail_msg("%s with {%s}: expected %s", cond, spec ? spec : "", (expect) ? "true" : "false");                \
    }

/* ---- String [OPS] ---- */
#define JOBCAT "{\"StringEquals\":{\"aws:PrincipalTag/job-category\":\"iamuser-admin\"}}"
CASE(string_equals_tag_present, JOBCAT, "aws:PrincipalTag/job-category=iamuser-admin", true)
CASE(string_equals_tag_other_value, JOBCAT, "aws:PrincipalTag/job-category=developer", false)
/* "If a user without the tag attempts to view or edit an access key, the condition returns false." */
CASE(string_equals_tag_missing, JOBCAT, NULL, false)
CASE(string_equals_case_sensitive_value, JOBCAT, "aws:PrincipalTag/job-category=IAMUSER-ADMIN", false)
/* Key names are not case-sensitive [COND]. */
CASE(string_equals_key_any_case, "{\"StringEquals\":{\"AWS:PrincipalTag/JOB-CATEGORY\":\"iamuser-admin\"}}",
     "aws:principaltag/job-category=iamuser-admin", true)
/* [COND]: StringEquals "john" denies "John"; StringEqualsIgnoreCase admits both. */
CASE(cond_page_john_exact, "{\"StringEquals\":{\"aws:username\":\"john\"}}", "aws:username=john", true)
CASE(cond_page_John_rejected, "{\"StringEquals\":{\"aws:username\":\"john\"}}", "aws:username=John", false)
CASE(cond_page_ignore_case, "{\"StringEqualsIgnoreCase\":{\"aws:username\":\"john\"}}", "aws:username=John", true)
CASE(not_equals_ignore_case, "{\"StringNotEqualsIgnoreCase\":{\"aws:username\":\"john\"}}", "aws:username=JOHN", false)
#define HOME "{\"StringLike\":{\"s3:prefix\":[\"\",\"home/\",\"home/${aws:username}/\"]}}"
CASE(string_like_home_own_dir, HOME, "s3:prefix=home/David/;aws:username=David", true)
CASE(string_like_home_other_dir, HOME, "s3:prefix=home/Adele/;aws:username=David", false)
CASE(string_like_home_root, HOME, "s3:prefix=home/;aws:username=David", true)
CASE(string_like_home_empty_prefix, HOME, "s3:prefix=;aws:username=David", true)
CASE(string_like_home_prefix_missing, HOME, "aws:username=David", false)
CASE(string_like_wildcards, "{\"StringLike\":{\"s3:prefix\":\"David/*\"}}", "s3:prefix=David/photos/2020", true)
CASE(string_like_question_mark, "{\"StringLike\":{\"ec2:InstanceType\":\"t?.micro\"}}", "ec2:InstanceType=t3.micro",
     true)
CASE(string_like_is_case_sensitive, "{\"StringLike\":{\"s3:prefix\":\"David/*\"}}", "s3:prefix=david/x", false)
CASE(string_equals_star_is_literal, "{\"StringEquals\":{\"s3:prefix\":\"a*\"}}", "s3:prefix=abc", false)
CASE(string_equals_star_literal_match, "{\"StringEquals\":{\"s3:prefix\":\"a*\"}}", "s3:prefix=a*", true)
/* [VARS]: the SNS endpoint example with a variable and a second key (AND). */
#define SNS_EP                                                                                                         \
    "{\"StringLike\":{\"sns:endpoint\":\"https://example.com/${aws:username}/\"},"                                     \
    "\"StringEquals\":{\"sns:Protocol\":\"https\"}}"
CASE(vars_sns_endpoint_match, SNS_EP, "sns:endpoint=https://example.com/ann/;sns:Protocol=https;aws:username=ann", true)
CASE(vars_sns_endpoint_other_user, SNS_EP, "sns:endpoint=https://example.com/bob/;sns:Protocol=https;aws:username=ann",
     false)
CASE(vars_sns_protocol_mismatch, SNS_EP, "sns:endpoint=https://example.com/ann/;sns:Protocol=http;aws:username=ann",
     false)
/* [VARS]: iam:ResourceTag/costCenter must be 12345 or 67890. */
#define COST "{\"StringLike\":{\"iam:ResourceTag/costCenter\":[\"12345\",\"67890\"]}}"
CASE(vars_cost_center_first, COST, "iam:ResourceTag/costCenter=12345", true)
CASE(vars_cost_center_second, COST, "iam:ResourceTag/costCenter=67890", true)
CASE(vars_cost_center_other, COST, "iam:ResourceTag/costCenter=11111", false)
CASE(vars_cost_center_missing, COST, NULL, false)
/* An unresolvable variable makes the condition false, negated or not. */
CASE(vars_unresolved_positive, "{\"StringEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/team}\"}}", "s3:prefix=x", false)
CASE(vars_unresolved_negated, "{\"StringNotEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/team}\"}}", "s3:prefix=x",
     false)
CASE(vars_default_used, "{\"StringEquals\":{\"s3:prefix\":\"${aws:PrincipalTag/team, 'none'}\"}}", "s3:prefix=none",
     true)

/* ---- Numeric [OPS] ---- */
#define MAXKEYS "{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}"
CASE(numeric_le_equal, MAXKEYS, "s3:max-keys=10", true)
CASE(numeric_le_above, MAXKEYS, "s3:max-keys=11", false)
CASE(numeric_le_below_decimal, MAXKEYS, "s3:max-keys=9.5", true)
CASE(numeric_le_missing, MAXKEYS, NULL, false)
CASE(numeric_le_not_a_number, MAXKEYS, "s3:max-keys=ten", false)
CASE(numeric_equals_decimal_forms, "{\"NumericEquals\":{\"k\":\"1.0\"}}", "k=1", true)
CASE(numeric_json_number_value, "{\"NumericEquals\":{\"k\":10}}", "k=10", true)
CASE(numeric_not_equals_missing, "{\"NumericNotEquals\":{\"k\":\"5\"}}", NULL, true)
CASE(numeric_not_equals_nor, "{\"NumericNotEquals\":{\"k\":[\"5\",\"6\"]}}", "k=6", false)
CASE(numeric_lt, "{\"NumericLessThan\":{\"k\":\"-1\"}}", "k=-2", true)
CASE(numeric_gt, "{\"NumericGreaterThan\":{\"k\":\"100\"}}", "k=100", false)
CASE(numeric_ge, "{\"NumericGreaterThanEquals\":{\"k\":\"100\"}}", "k=100", true)

/* ---- Date [OPS] ---- */
#define TOKEN "{\"DateGreaterThan\":{\"aws:TokenIssueTime\":\"2020-01-01T00:00:01Z\"}}"
CASE(date_gt_issued_2020, TOKEN, "aws:TokenIssueTime=2020-06-01T00:00:00Z", true)
CASE(date_gt_issued_2019, TOKEN, "aws:TokenIssueTime=2019-12-31T23:59:59Z", false)
/* "The key is not present in ... requests that are made using access keys": denied. */
CASE(date_gt_access_keys, TOKEN, NULL, false)
CASE(date_epoch_in_policy, "{\"DateLessThan\":{\"aws:CurrentTime\":\"1577836800\"}}",
     "aws:CurrentTime=2019-12-31T23:59:59Z", true)
CASE(date_epoch_in_request, "{\"DateLessThan\":{\"aws:EpochTime\":\"2020-01-01T00:00:00Z\"}}",
     "aws:EpochTime=1577836801", false)
CASE(date_offset_zone, "{\"DateEquals\":{\"aws:CurrentTime\":\"2020-06-15T10:00:00+02:00\"}}",
     "aws:CurrentTime=2020-06-15T08:00:00Z", true)
CASE(date_year_form, "{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"2021\"}}",
     "aws:CurrentTime=2021-01-01T00:00:00Z", true)
CASE(date_month_form, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2021-02\"}}", "aws:CurrentTime=2021-01-31T23:59:59Z",
     true)
CASE(date_fraction, "{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2021-01-01T00:00:00.500Z\"}}",
     "aws:CurrentTime=2021-01-01T00:00:00.499Z", true)
CASE(date_not_equals_missing, "{\"DateNotEquals\":{\"aws:CurrentTime\":\"2021-01-01\"}}", NULL, true)
CASE(date_garbage_request, "{\"DateLessThan\":{\"aws:CurrentTime\":\"2021-01-01\"}}", "aws:CurrentTime=yesterday",
     false)

/* ---- Bool [OPS] ---- */
#define SECURE "{\"Bool\":{\"aws:SecureTransport\":\"false\"}}"
CASE(bool_insecure_request, SECURE, "aws:SecureTransport=false", true)
CASE(bool_secure_request, SECURE, "aws:SecureTransport=true", false)
CASE(bool_value_case, SECURE, "aws:SecureTransport=FALSE", true)
CASE(bool_missing, SECURE, NULL, false)
CASE(bool_json_boolean, "{\"Bool\":{\"aws:MultiFactorAuthPresent\":true}}", "aws:MultiFactorAuthPresent=true", true)
/* NotAction page: BoolIfExists aws:MultiFactorAuthPresent false denies when MFA is absent or false. */
CASE(bool_if_exists_no_mfa_key, "{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}", NULL, true)
CASE(bool_if_exists_mfa_true, "{\"BoolIfExists\":{\"aws:MultiFactorAuthPresent\":\"false\"}}",
     "aws:MultiFactorAuthPresent=true", false)

/* ---- Binary [OPS] ---- */
#define BIN "{\"BinaryEquals\":{\"key\":\"QmluYXJ5VmFsdWVJbkJhc2U2NA==\"}}"
CASE(binary_equal_bytes, BIN, "key=QmluYXJ5VmFsdWVJbkJhc2U2NA==", true)
CASE(binary_equal_unpadded_request, BIN, "key=QmluYXJ5VmFsdWVJbkJhc2U2NA", true)
CASE(binary_other_bytes, BIN, "key=QmluYXJ5", false)
CASE(binary_missing, BIN, NULL, false)
CASE(binary_not_base64_request, BIN, "key=BinaryValueInBase64", false)

/* ---- IP address [OPS] ---- */
#define IP4 "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}"
CASE(ip_in_range, IP4, "aws:SourceIp=203.0.113.5", true)
CASE(ip_out_of_range, IP4, "aws:SourceIp=203.0.114.1", false)
/* "The aws:SourceIp key is always present ... except when the requester uses a VPC endpoint". */
CASE(ip_missing_via_vpc_endpoint, IP4, NULL, false)
#define IPMIX "{\"IpAddress\":{\"aws:SourceIp\":[\"203.0.113.0/24\",\"2001:DB8:1234:5678::/64\"]}}"
CASE(ip_v6_in_range, IPMIX, "aws:SourceIp=2001:db8:1234:5678::1", true)
CASE(ip_v6_out_of_range, IPMIX, "aws:SourceIp=2001:db8:1234:5679::1", false)
CASE(ip_v4_in_mixed, IPMIX, "aws:SourceIp=203.0.113.200", true)
CASE(ip_default_prefix_32, "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.7\"}}", "aws:SourceIp=203.0.113.8", false)
CASE(ip_host_bits_masked, "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.77/24\"}}", "aws:SourceIp=203.0.113.1", true)
CASE(ip_v4_mapped_v6, IP4, "aws:SourceIp=::ffff:203.0.113.9", true)
CASE(ip_zero_prefix, "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", "aws:SourceIp=8.8.8.8", true)
CASE(not_ip_outside, "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=198.51.100.1", true)
CASE(not_ip_inside, "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=203.0.113.1", false)
CASE(not_ip_missing, "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", NULL, true)
CASE(ip_garbage_request, IP4, "aws:SourceIp=203.0.113", false)

/* ---- ARN [OPS] ---- */
#define SRCARN "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-2:123456789012:TOPIC-ID\"}}"
CASE(arn_equals_topic, SRCARN, "aws:SourceArn=arn:aws:sns:us-east-2:123456789012:TOPIC-ID", true)
CASE(arn_equals_other_topic, SRCARN, "aws:SourceArn=arn:aws:sns:us-east-2:123456789012:OTHER", false)
/* "If an IAM user attempts to perform this operation directly, the condition returns false." */
CASE(arn_equals_direct_call, SRCARN, NULL, false)
CASE(arn_like_wildcard_account, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:123456789012:*\"}}",
     "aws:SourceArn=arn:aws:sns:eu-west-1:123456789012:t", true)
CASE(arn_like_segmentwise, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:someservice:*:111122223333:finance/*\"}}",
     "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", false)
CASE(string_like_crosses_segments,
     "{\"StringLike\":{\"aws:SourceArn\":\"arn:aws:someservice:*:111122223333:finance/*\"}}",
     "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", true)
CASE(arn_equals_allows_wildcards, "{\"ArnEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::111122223333:role/app-*\"}}",
     "aws:PrincipalArn=arn:aws:iam::111122223333:role/app-web", true)
CASE(arn_not_equals_other, "{\"ArnNotEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::444455556666:user/user-name\"}}",
     "aws:PrincipalArn=arn:aws:iam::444455556666:user/other", true)
CASE(arn_not_equals_same, "{\"ArnNotEquals\":{\"aws:PrincipalArn\":\"arn:aws:iam::444455556666:user/user-name\"}}",
     "aws:PrincipalArn=arn:aws:iam::444455556666:user/user-name", false)
CASE(arn_not_like_missing, "{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:s3:::b\"}}", NULL, true)
CASE(arn_like_not_an_arn, "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::b\"}}", "aws:SourceArn=b", false)

/* ---- IfExists [OPS] ---- */
#define ITYPES "[\"t1.*\",\"t2.*\",\"m3.*\"]"
CASE(if_exists_plain_missing_fails, "{\"StringLike\":{\"ec2:InstanceType\":" ITYPES "}}", NULL, false)
CASE(if_exists_missing_passes, "{\"StringLikeIfExists\":{\"ec2:InstanceType\":" ITYPES "}}", NULL, true)
CASE(if_exists_present_allowed_type, "{\"StringLikeIfExists\":{\"ec2:InstanceType\":" ITYPES "}}",
     "ec2:InstanceType=t2.micro", true)
CASE(if_exists_present_other_type, "{\"StringLikeIfExists\":{\"ec2:InstanceType\":" ITYPES "}}",
     "ec2:InstanceType=m5.large", false)
/* "If you are using an Effect: Deny element with a negated condition operator like
 * StringNotEqualsIfExists, the request is still denied even if the tag is missing." */
CASE(if_exists_negated_missing, "{\"StringNotEqualsIfExists\":{\"aws:ResourceTag/env\":\"prod\"}}", NULL, true)
CASE(if_exists_negated_present, "{\"StringNotEqualsIfExists\":{\"aws:ResourceTag/env\":\"prod\"}}",
     "aws:ResourceTag/env=prod", false)
CASE(if_exists_numeric, "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}", NULL, true)
CASE(if_exists_ip, "{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "aws:SourceIp=11.0.0.1", false)

/* ---- Null [OPS] ---- */
#define NULLTOK "{\"Null\":{\"aws:TokenIssueTime\":\"true\"}}"
CASE(null_true_long_term_keys, NULLTOK, NULL, true)
CASE(null_true_temporary_credentials, NULLTOK, "aws:TokenIssueTime=2020-01-01T00:00:00Z", false)
CASE(null_false_present, "{\"Null\":{\"aws:TokenIssueTime\":\"false\"}}", "aws:TokenIssueTime=2020-01-01T00:00:00Z",
     true)
CASE(null_false_absent, "{\"Null\":{\"aws:TokenIssueTime\":\"false\"}}", NULL, false)
CASE(null_empty_set_is_null, "{\"Null\":{\"aws:TagKeys\":\"true\"}}", "aws:TagKeys=[]", true)

/* ---- Negated operators with missing keys [OPS] "Important" note ---- */
CASE(missing_string_not_equals, "{\"StringNotEquals\":{\"aws:PrincipalOrgID\":\"o-1\"}}", NULL, true)
CASE(missing_string_not_like, "{\"StringNotLike\":{\"aws:PrincipalOrgID\":\"o-*\"}}", NULL, true)
CASE(missing_string_equals, "{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-1\"}}", NULL, false)

/* ---- several keys (AND), values (OR), negated values (NOR) [MULTI] ---- */
#define ANDKEYS                                                                                                        \
    "{\"StringEquals\":{\"aws:PrincipalTag/department\":[\"finance\",\"hr\",\"legal\"],"                               \
    "\"aws:PrincipalTag/role\":[\"audit\",\"security\"]},"                                                             \
    "\"ArnLike\":{\"aws:PrincipalArn\":[\"arn:aws:iam::222222222222:user/Ana\",\"arn:aws:iam::222222222222:user/"      \
    "Mary\"]}}"
CASE(multi_all_keys_match, ANDKEYS,
     "aws:PrincipalTag/department=hr;aws:PrincipalTag/role=audit;aws:PrincipalArn=arn:aws:iam::222222222222:user/Mary",
     true)
CASE(multi_one_key_missing, ANDKEYS,
     "aws:PrincipalTag/department=hr;aws:PrincipalArn=arn:aws:iam::222222222222:user/Mary", false)
CASE(multi_one_value_wrong, ANDKEYS,
     "aws:PrincipalTag/department=it;aws:PrincipalTag/role=audit;aws:PrincipalArn=arn:aws:iam::222222222222:user/Mary",
     false)
CASE(multi_arn_other_user, ANDKEYS,
     "aws:PrincipalTag/department=hr;aws:PrincipalTag/role=audit;aws:PrincipalArn=arn:aws:iam::222222222222:user/Bob",
     false)
#define NOTROLE "{\"StringNotEquals\":{\"aws:PrincipalTag/role\":[\"audit\",\"security\"]}}"
CASE(nor_first_value, NOTROLE, "aws:PrincipalTag/role=audit", false)
CASE(nor_second_value, NOTROLE, "aws:PrincipalTag/role=security", false)
CASE(nor_neither_value, NOTROLE, "aws:PrincipalTag/role=dev", true)
CASE(nor_like, "{\"StringNotLike\":{\"s3:prefix\":[\"a/*\",\"b/*\"]}}", "s3:prefix=b/1", false)

/* ---- single-valued key examples [SVEX] ---- */
CASE(svex_request_tag_any_value, "{\"StringLike\":{\"aws:RequestTag/project\":\"*\"}}",
     "aws:RequestTag/project=Feature3", true)
CASE(svex_request_tag_absent, "{\"StringLike\":{\"aws:RequestTag/project\":\"*\"}}", NULL, false)
CASE(svex_not_production, "{\"StringNotEquals\":{\"aws:ResourceTag/environment\":\"production\"}}",
     "aws:ResourceTag/environment=QA", true)
CASE(svex_production, "{\"StringNotEquals\":{\"aws:ResourceTag/environment\":\"production\"}}",
     "aws:ResourceTag/environment=production", false)

/* ---- set operators [MULTI] ---- */
#define ALLATTR                                                                                                        \
    "{\"ForAllValues:StringLike\":{\"dynamodb:requestedAttributes\":[\"PostDateTime\",\"Message\",\"Tags\"]}}"
CASE(forall_subset, ALLATTR, "dynamodb:requestedAttributes=PostDateTime|Message", true)
CASE(forall_userid_not_listed, ALLATTR, "dynamodb:requestedAttributes=PostDateTime|UserName", false)
CASE(forall_id_not_listed, ALLATTR, "dynamodb:requestedAttributes=ID", false)
/* "If the key values in the request resolve to an empty data set (for example, an empty string), a
 * condition operator modified by ForAllValues returns true, and ... ForAnyValue returns false." */
CASE(forall_empty_string, ALLATTR, "dynamodb:requestedAttributes=", true)
CASE(forall_empty_set, ALLATTR, "dynamodb:requestedAttributes=[]", true)
CASE(forall_missing, ALLATTR, NULL, true)
#define ANYATTR "{\"ForAnyValue:StringLike\":{\"dynamodb:requestedAttributes\":[\"ID\",\"PostDateTime\"]}}"
CASE(forany_postdatetime_and_message, ANYATTR, "dynamodb:requestedAttributes=PostDateTime|Message", true)
CASE(forany_username_only, ANYATTR, "dynamodb:requestedAttributes=UserName", false)
CASE(forany_three_attributes, ANYATTR, "dynamodb:requestedAttributes=UserName|Message|PostDateTime", true)
CASE(forany_empty_string, ANYATTR, "dynamodb:requestedAttributes=", false)
CASE(forany_missing, ANYATTR, NULL, false)
/* [MVEX]: Deny with Null false AND ForAllValues:StringLike on aws:TagKeys. */
#define DENYTAGS                                                                                                       \
    "{\"Null\":{\"aws:TagKeys\":\"false\"},\"ForAllValues:StringLike\":{\"aws:TagKeys\":[\"key1*\",\"key2*\",\"key3*"  \
    "\"]}}"
CASE(mvex_tags_all_restricted, DENYTAGS, "aws:TagKeys=key1a|key2b", true)
CASE(mvex_tags_one_free, DENYTAGS, "aws:TagKeys=key1a|other", false)
CASE(mvex_tags_none_sent, DENYTAGS, NULL, false)
#define FANY_SNAP "{\"ForAnyValue:StringEquals\":{\"aws:TagKeys\":[\"environment\",\"webserver\"]}}"
CASE(mvex_forany_snapshot_tagged, FANY_SNAP, "aws:TagKeys=environment|cost-center", true)
CASE(mvex_forany_snapshot_untagged, FANY_SNAP, "aws:TagKeys=cost-center", false)
/* ForAllValues with a negated operator: no request value may match any policy value. */
#define FALL_NOT "{\"ForAllValues:StringNotLike\":{\"aws:TagKeys\":[\"Owner:*\",\"State:??\"]}}"
CASE(forall_not_like_missing, FALL_NOT, NULL, true)
CASE(forall_not_like_both_listed, FALL_NOT, "aws:TagKeys=Owner:Legal|State:NY", false)
CASE(forall_not_like_case, FALL_NOT, "aws:TagKeys=owner:Legal", true)
CASE(forall_not_like_one_listed, FALL_NOT, "aws:TagKeys=Owner:Legal|owner:Legal", false)
CASE(forall_not_like_long_state, FALL_NOT, "aws:TagKeys=owner:Legal|State:NewYork", true)
#define FANY_NOT "{\"ForAnyValue:StringNotLike\":{\"aws:TagKeys\":[\"Owner:*\",\"State:??\"]}}"
CASE(forany_not_like_missing, FANY_NOT, NULL, false)
CASE(forany_not_like_all_listed, FANY_NOT, "aws:TagKeys=Owner:Legal|State:NY", false)
CASE(forany_not_like_one_unlisted, FANY_NOT, "aws:TagKeys=owner:Legal|Owner:Legal", true)
/* IfExists changes neither set operator's answer for a missing key. */
CASE(forall_if_exists_missing, "{\"ForAllValues:StringEqualsIfExists\":{\"aws:TagKeys\":\"a\"}}", NULL, true)
CASE(forany_if_exists_missing, "{\"ForAnyValue:StringEqualsIfExists\":{\"aws:TagKeys\":\"a\"}}", NULL, false)
/* A plain operator on a multivalued key: any value; negated: none. */
CASE(plain_on_multivalued_any, "{\"StringEquals\":{\"aws:TagKeys\":\"a\"}}", "aws:TagKeys=b|a", true)
CASE(plain_negated_on_multivalued, "{\"StringNotEquals\":{\"aws:TagKeys\":\"a\"}}", "aws:TagKeys=b|a", false)
/* ForAnyValue over aws:PrincipalOrgPaths (multivalued). */
CASE(forany_org_paths_inside,
     "{\"ForAnyValue:StringLike\":{\"aws:PrincipalOrgPaths\":\"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*\"}}",
     "aws:PrincipalOrgPaths=o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/", true)
CASE(forany_org_paths_outside,
     "{\"ForAnyValue:StringLike\":{\"aws:PrincipalOrgPaths\":\"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*\"}}",
     "aws:PrincipalOrgPaths=o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/", false)

/* ---- operator name spellings ---- */
CASE(operator_case_insensitive, "{\"stringequals\":{\"k\":\"v\"}}", "k=v", true)
CASE(several_operators_and, "{\"StringEquals\":{\"a\":\"1\"},\"NumericGreaterThan\":{\"b\":\"2\"}}", "a=1;b=2", false)

static void test_date_parser(void **state) {
    (void)state;
    int64_t ms;
    assert_true(tm__iam_parse_date("1970-01-01T00:00:00Z", &ms));
    assert_int_equal(ms, 0);
    assert_true(tm__iam_parse_date("2000-02-29", &ms));
    assert_int_equal(ms, 951782400000LL);
    assert_false(tm__iam_parse_date("2001-02-29", &ms));
    assert_false(tm__iam_parse_date("2020-01-01T25:00Z", &ms));
    assert_false(tm__iam_parse_date("2020-01-01T10:00:00Zjunk", &ms));
    assert_false(tm__iam_parse_date("", &ms));
    assert_true(tm__iam_parse_date("1577836800", &ms));
    assert_int_equal(ms, 1577836800000LL);
    assert_true(tm__iam_parse_date("2020-01-01T00:00Z", &ms));
    assert_int_equal(ms, 1577836800000LL);
}

static void test_number_and_ip_parsers(void **state) {
    (void)state;
    double d;
    assert_true(tm__iam_parse_number("-12.5", &d));
    assert_true(d == -12.5);
    assert_false(tm__iam_parse_number("0x10", &d));
    assert_false(tm__iam_parse_number("1e3", &d));
    assert_false(tm__iam_parse_number("nan", &d));
    assert_false(tm__iam_parse_number("", &d));
    assert_false(tm__iam_parse_number(".", &d));
    struct tm__iam_ip ip;
    assert_true(tm__iam_parse_ip("10.0.0.0/8", &ip, true));
    assert_int_equal(ip.prefix, 8);
    assert_false(tm__iam_parse_ip("10.0.0.0/33", &ip, true));
    assert_false(tm__iam_parse_ip("10.0.0.0/", &ip, true));
    assert_false(tm__iam_parse_ip("10.0.0.0/8", &ip, false));
    assert_true(tm__iam_parse_ip("::/0", &ip, true));
    assert_int_equal(ip.family, 6);
}

#define T(name) cmocka_unit_test(name)

int main(void) {
    const struct CMUnitTest tests[] = {
        T(string_equals_tag_present),
        T(string_equals_tag_other_value),
        T(string_equals_tag_missing),
        T(string_equals_case_sensitive_value),
        T(string_equals_key_any_case),
        T(cond_page_john_exact),
        T(cond_page_John_rejected),
        T(cond_page_ignore_case),
        T(not_equals_ignore_case),
        T(string_like_home_own_dir),
        T(string_like_home_other_dir),
        T(string_like_home_root),
        T(string_like_home_empty_prefix),
        T(string_like_home_prefix_missing),
        T(string_like_wildcards),
        T(string_like_question_mark),
        T(string_like_is_case_sensitive),
        T(string_equals_star_is_literal),
        T(string_equals_star_literal_match),
        T(vars_sns_endpoint_match),
        T(vars_sns_endpoint_other_user),
        T(vars_sns_protocol_mismatch),
        T(vars_cost_center_first),
        T(vars_cost_center_second),
        T(vars_cost_center_other),
        T(vars_cost_center_missing),
        T(vars_unresolved_positive),
        T(vars_unresolved_negated),
        T(vars_default_used),
        T(numeric_le_equal),
        T(numeric_le_above),
        T(numeric_le_below_decimal),
        T(numeric_le_missing),
        T(numeric_le_not_a_number),
        T(numeric_equals_decimal_forms),
        T(numeric_json_number_value),
        T(numeric_not_equals_missing),
        T(numeric_not_equals_nor),
        T(numeric_lt),
        T(numeric_gt),
        T(numeric_ge),
        T(date_gt_issued_2020),
        T(date_gt_issued_2019),
        T(date_gt_access_keys),
        T(date_epoch_in_policy),
        T(date_epoch_in_request),
        T(date_offset_zone),
        T(date_year_form),
        T(date_month_form),
        T(date_fraction),
        T(date_not_equals_missing),
        T(date_garbage_request),
        T(bool_insecure_request),
        T(bool_secure_request),
        T(bool_value_case),
        T(bool_missing),
        T(bool_json_boolean),
        T(bool_if_exists_no_mfa_key),
        T(bool_if_exists_mfa_true),
        T(binary_equal_bytes),
        T(binary_equal_unpadded_request),
        T(binary_other_bytes),
        T(binary_missing),
        T(binary_not_base64_request),
        T(ip_in_range),
        T(ip_out_of_range),
        T(ip_missing_via_vpc_endpoint),
        T(ip_v6_in_range),
        T(ip_v6_out_of_range),
        T(ip_v4_in_mixed),
        T(ip_default_prefix_32),
        T(ip_host_bits_masked),
        T(ip_v4_mapped_v6),
        T(ip_zero_prefix),
        T(not_ip_outside),
        T(not_ip_inside),
        T(not_ip_missing),
        T(ip_garbage_request),
        T(arn_equals_topic),
        T(arn_equals_other_topic),
        T(arn_equals_direct_call),
        T(arn_like_wildcard_account),
        T(arn_like_segmentwise),
        T(string_like_crosses_segments),
        T(arn_equals_allows_wildcards),
        T(arn_not_equals_other),
        T(arn_not_equals_same),
        T(arn_not_like_missing),
        T(arn_like_not_an_arn),
        T(if_exists_plain_missing_fails),
        T(if_exists_missing_passes),
        T(if_exists_present_allowed_type),
        T(if_exists_present_other_type),
        T(if_exists_negated_missing),
        T(if_exists_negated_present),
        T(if_exists_numeric),
        T(if_exists_ip),
        T(null_true_long_term_keys),
        T(null_true_temporary_credentials),
        T(null_false_present),
        T(null_false_absent),
        T(null_empty_set_is_null),
        T(missing_string_not_equals),
        T(missing_string_not_like),
        T(missing_string_equals),
        T(multi_all_keys_match),
        T(multi_one_key_missing),
        T(multi_one_value_wrong),
        T(multi_arn_other_user),
        T(nor_first_value),
        T(nor_second_value),
        T(nor_neither_value),
        T(nor_like),
        T(svex_request_tag_any_value),
        T(svex_request_tag_absent),
        T(svex_not_production),
        T(svex_production),
        T(forall_subset),
        T(forall_userid_not_listed),
        T(forall_id_not_listed),
        T(forall_empty_string),
        T(forall_empty_set),
        T(forall_missing),
        T(forany_postdatetime_and_message),
        T(forany_username_only),
        T(forany_three_attributes),
        T(forany_empty_string),
        T(forany_missing),
        T(mvex_tags_all_restricted),
        T(mvex_tags_one_free),
        T(mvex_tags_none_sent),
        T(mvex_forany_snapshot_tagged),
        T(mvex_forany_snapshot_untagged),
        T(forall_not_like_missing),
        T(forall_not_like_both_listed),
        T(forall_not_like_case),
        T(forall_not_like_one_listed),
        T(forall_not_like_long_state),
        T(forany_not_like_missing),
        T(forany_not_like_all_listed),
        T(forany_not_like_one_unlisted),
        T(forall_if_exists_missing),
        T(forany_if_exists_missing),
        T(plain_on_multivalued_any),
        T(plain_negated_on_multivalued),
        T(forany_org_paths_inside),
        T(forany_org_paths_outside),
        T(operator_case_insensitive),
        T(several_operators_and),
        T(test_date_parser),
        T(test_number_and_ip_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
