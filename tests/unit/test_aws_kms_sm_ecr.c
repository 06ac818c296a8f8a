#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "providers/aws/aws.h"
#include "providers/aws/ecr.h"
#include "providers/aws/facts.h"
#include "providers/aws/kms.h"
#include "providers/aws/secretsmanager.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"
#include "tests/support/aws_parse.h"

/* Bodies as the JSON 1.1 services send them (botocore kms/2014-11-01, secretsmanager/2017-10-17,
 * ecr/2015-09-21 shapes and examples; timestamps as epoch seconds, as on the wire). */
static const char s_ListKeys1[] =
    "{\"Keys\":[{\"KeyArn\":\"arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000001"
    "\",\"KeyId\":\"1234abcd-12ab-34cd-56ef-000000000001\"},{\"KeyArn\":\"arn:aws:kms:us-east-2:111122223"
    "333:key/1234abcd-12ab-34cd-56ef-000000000002\",\"KeyId\":\"1234abcd-12ab-34cd-56ef-000000000002\"}],"
    "\"NextMarker\":\"eyJFbmNyeXB0ZWREYXRhIjpbMV19\",\"Truncated\":true}";

static const char s_ListKeys2[] =
    "{\"Keys\":[{\"KeyArn\":\"arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000003"
    "\",\"KeyId\":\"1234abcd-12ab-34cd-56ef-000000000003\"}],\"Truncated\":false}";

static const char s_DescribeKey[] =
    "{\"KeyMetadata\":{\"AWSAccountId\":\"111122223333\",\"Arn\":\"arn:aws:kms:us-east-2:111122223333:key"
    "/1234abcd-12ab-34cd-56ef-000000000001\",\"CreationDate\":1499288695.918,\"CustomerMasterKeySpec\":\""
    "SYMMETRIC_DEFAULT\",\"Description\":\"\",\"Enabled\":true,\"EncryptionAlgorithms\":[\"SYMMETRIC_DEFA"
    "ULT\"],\"KeyId\":\"1234abcd-12ab-34cd-56ef-000000000001\",\"KeyManager\":\"CUSTOMER\",\"KeySpec\":\""
    "SYMMETRIC_DEFAULT\",\"KeyState\":\"Enabled\",\"KeyUsage\":\"ENCRYPT_DECRYPT\",\"MultiRegion\":false,"
    "\"Origin\":\"AWS_KMS\"}}";

static const char s_GetKeyPolicy[] =
    "{\"Policy\":\"{\\n  \\\"Version\\\" : \\\"2012-10-17\\\",\\n  \\\"Id\\\" : \\\"key-default-1\\\",\\n"
    "  \\\"Statement\\\" : [ {\\n    \\\"Sid\\\" : \\\"Enable IAM User Permissions\\\",\\n    \\\"Effect"
    "\\\" : \\\"Allow\\\",\\n    \\\"Principal\\\" : {\\n      \\\"AWS\\\" : \\\"arn:aws:iam::11112222333"
    "3:root\\\"\\n    },\\n    \\\"Action\\\" : \\\"kms:*\\\",\\n    \\\"Resource\\\" : \\\"*\\\"\\n  } ]"
    "\\n}\",\"PolicyName\":\"default\"}";

static const char s_ListAliases[] =
    "{\"Aliases\":[{\"AliasArn\":\"arn:aws:kms:us-east-2:111122223333:alias/aws/acm\",\"AliasName\":\"ali"
    "as/aws/acm\"},{\"AliasArn\":\"arn:aws:kms:us-east-2:111122223333:alias/orders\",\"AliasName\":\"alia"
    "s/orders\",\"TargetKeyId\":\"1234abcd-12ab-34cd-56ef-000000000001\",\"CreationDate\":1700000000.0,\""
    "LastUpdatedDate\":1700000000.0},{\"AliasArn\":\"arn:aws:kms:us-east-2:111122223333:alias/billing\","
    "\"AliasName\":\"alias/billing\",\"TargetKeyId\":\"1234abcd-12ab-34cd-56ef-000000000001\"},{\"AliasAr"
    "n\":\"arn:aws:kms:us-east-2:111122223333:alias/aws/s3\",\"AliasName\":\"alias/aws/s3\",\"TargetKeyId"
    "\":\"1234abcd-12ab-34cd-56ef-000000000002\"}],\"Truncated\":false}";

static const char s_ListSecrets[] =
    "{\"SecretList\":[{\"ARN\":\"arn:aws:secretsmanager:us-east-2:111122223333:secret:demo/db-password-a1"
    "b2c3\",\"Name\":\"demo/db-password\",\"Description\":\"db\",\"KmsKeyId\":\"arn:aws:kms:us-east-2:111"
    "122223333:key/1234abcd-12ab-34cd-56ef-000000000001\",\"RotationEnabled\":true,\"RotationLambdaARN\":"
    "\"arn:aws:lambda:us-east-2:111122223333:function:rotate-db\",\"RotationRules\":{\"AutomaticallyAfter"
    "Days\":30},\"LastChangedDate\":1700000000.0,\"Tags\":[],\"SecretVersionsToStages\":{\"EXAMPLE1-90ab-"
    "cdef-fedc-ba987EXAMPLE\":[\"AWSCURRENT\"]},\"CreatedDate\":1700000000.0},{\"ARN\":\"arn:aws:secretsm"
    "anager:us-east-2:111122223333:secret:demo/api-key-d4e5f6\",\"Name\":\"demo/api-key\",\"LastChangedDa"
    "te\":1700000000.0,\"SecretVersionsToStages\":{\"EXAMPLE2-90ab-cdef-fedc-ba987EXAMPLE\":[\"AWSCURRENT"
    "\"]}}],\"NextToken\":\"AAAAAQ==\"}";

static const char s_GetResourcePolicy[] =
    "{\"ARN\":\"arn:aws:secretsmanager:us-east-2:111122223333:secret:demo/api-key-d4e5f6\",\"Name\":\"dem"
    "o/api-key\",\"ResourcePolicy\":\"{\\n\\\"Version\\\":\\\"2012-10-17\\\",\\n\\\"Statement\\\":[{\\n\\"
    "\"Effect\\\":\\\"Allow\\\",\\n\\\"Principal\\\":{\\n\\\"AWS\\\":\\\"arn:aws:iam::444455556666:root\\"
    "\"\\n},\\n\\\"Action\\\":\\\"secretsmanager:GetSecretValue\\\",\\n\\\"Resource\\\":\\\"*\\\"\\n}]\\n"
    "}\"}";

static const char s_GetResourcePolicyNone[] =
    "{\"ARN\":\"arn:aws:secretsmanager:us-east-2:111122223333:secret:demo/db-password-a1b2c3\",\"Name\":"
    "\"demo/db-password\"}";

static const char s_DescribeRepositories[] =
    "{\"repositories\":[{\"repositoryArn\":\"arn:aws:ecr:us-east-2:111122223333:repository/demo/web\",\"r"
    "egistryId\":\"111122223333\",\"repositoryName\":\"demo/web\",\"repositoryUri\":\"111122223333.dkr.ec"
    "r.us-east-2.amazonaws.com/demo/web\",\"createdAt\":1700000000.0,\"imageTagMutability\":\"MUTABLE\","
    "\"imageScanningConfiguration\":{\"scanOnPush\":false},\"encryptionConfiguration\":{\"encryptionType"
    "\":\"AES256\"}},{\"repositoryArn\":\"arn:aws:ecr:us-east-2:111122223333:repository/demo/base\",\"reg"
    "istryId\":\"111122223333\",\"repositoryName\":\"demo/base\",\"repositoryUri\":\"111122223333.dkr.ecr"
    ".us-east-2.amazonaws.com/demo/base\",\"createdAt\":1700000000.0,\"imageTagMutability\":\"IMMUTABLE\""
    ",\"imageScanningConfiguration\":{\"scanOnPush\":true},\"encryptionConfiguration\":{\"encryptionType"
    "\":\"KMS\",\"kmsKey\":\"arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000001"
    "\"}}],\"nextToken\":\"bmV4dA==\"}";

static const char s_GetRepositoryPolicy[] =
    "{\"policyText\":\"{\\n  \\\"Version\\\" : \\\"2008-10-17\\\",\\n  \\\"Statement\\\" : [ {\\n    \\\""
    "Sid\\\" : \\\"public pull\\\",\\n    \\\"Effect\\\" : \\\"Allow\\\",\\n    \\\"Principal\\\" : \\\"*"
    "\\\",\\n\\\"Action\\\" : [ \\\"ecr:GetDownloadUrlForLayer\\\", \\\"ecr:BatchGetImage\\\" ]\\n } ]\\n"
    "}\",\"registryId\":\"111122223333\",\"repositoryName\":\"demo/web\"}";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("us-east-2", "kms", "ListKeys");
    return 0;
}

#define KEY1 "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000001"
#define KEY2 "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000002"
#define KEY3 "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-000000000003"

static void test_kms_keys_pages_and_aliases(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *next = NULL;
    assert_int_equal(tm__aws_kms_parse_keys(&fx->f, s_ListKeys1, strlen(s_ListKeys1), &fx->items, &next, fx->errmsg,
                                            sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "eyJFbmNyeXB0ZWREYXRhIjpbMV19");
    free(next);
    assert_int_equal(tm__aws_kms_parse_keys(&fx->f, s_ListKeys2, strlen(s_ListKeys2), &fx->items, &next, fx->errmsg,
                                            sizeof(fx->errmsg)),
                     TM_OK);
    assert_null(next);
    assert_int_equal(fx->items.n, 3);
    const cJSON *k1 = tm_snapshot_find(fx->snap, KEY1);
    assert_non_null(k1);
    assert_string_equal(tm_json_str(k1, "type", ""), "aws:kms:key");
    assert_string_equal(tm_json_str(k1, "name", ""), "1234abcd-12ab-34cd-56ef-000000000001");
    assert_string_equal(tm_json_str(k1, "region", ""), "us-east-2");

    cJSON *by_key = cJSON_CreateObject();
    assert_int_equal(
        tm__aws_kms_parse_aliases(by_key, s_ListAliases, strlen(s_ListAliases), &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_int_equal(tm__aws_kms_put_aliases(&fx->f, &fx->items, by_key, NULL), TM_OK);
    tm_test_aws_assert_json(tm_test_aws_attr(k1, "aliases"), "[\"alias/billing\",\"alias/orders\"]");
    tm_test_aws_assert_json(tm_test_aws_attr(tm_snapshot_find(fx->snap, KEY2), "aliases"), "[\"alias/aws/s3\"]");
    tm_test_aws_assert_json(tm_test_aws_attr(tm_snapshot_find(fx->snap, KEY3), "aliases"), "[]");
    cJSON_Delete(by_key);

    /* ListAliases failed: every key's aliases are unknown. */
    struct tm_snapshot_error e = {"kms", "ListAliases", "us-east-2", NULL, "AccessDeniedException", "denied", 1};
    cJSON *unknown = tm_aws_unknown_value(&e);
    assert_int_equal(tm__aws_kms_put_aliases(&fx->f, &fx->items, NULL, unknown), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(k1, "aliases")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(tm_snapshot_find(fx->snap, KEY3), "aliases")));
    cJSON_Delete(unknown);
}

static void test_kms_describe_and_policy(void **state) {
    struct tm_test_aws_parse *fx = *state;
    cJSON *res = NULL;
    assert_int_equal(tm_snapshot_resource(fx->snap, KEY1, "aws:kms:key", "111122223333", "us-east-2", NULL, &res),
                     TM_OK);
    fx->f.operation = "DescribeKey";
    assert_int_equal(
        tm__aws_kms_put_metadata(&fx->f, res, s_DescribeKey, strlen(s_DescribeKey), fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_string_equal(tm_test_aws_attr(res, "key_manager")->valuestring, "CUSTOMER");
    assert_string_equal(tm_test_aws_attr(res, "key_state")->valuestring, "Enabled");
    assert_string_equal(tm_test_aws_attr(res, "key_usage")->valuestring, "ENCRYPT_DECRYPT");
    assert_string_equal(tm_test_aws_attr(res, "origin")->valuestring, "AWS_KMS");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(res, "enabled")));

    const char *wrong = "{\"KeyMetadata\":{\"KeyManager\":1,\"KeyState\":\"Disabled\"}}";
    assert_int_equal(tm__aws_kms_put_metadata(&fx->f, res, wrong, strlen(wrong), fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(res, "key_manager")));
    assert_string_equal(tm_test_aws_attr(res, "key_state")->valuestring, "Disabled");
    assert_int_equal(tm_snapshot_error_count(fx->snap), 1);
    const char *bad[] = {"{\"KeyMetadata\":[]}", "{}", "{\"KeyMetadata\":{", "[1]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm__aws_kms_put_metadata(&fx->f, res, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);

    cJSON *doc = NULL;
    assert_int_equal(
        tm__aws_kms_parse_policy(&doc, s_GetKeyPolicy, strlen(s_GetKeyPolicy), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_string_equal(tm_json_str(doc, "Id", ""), "key-default-1");
    cJSON_Delete(doc);
    const char *bad_policy[] = {"{\"Policy\":\"\"}", "{\"Policy\":null}", "{\"Policy\":\"{\\\"a\\\":[}\"}"};
    for (size_t i = 0; i < sizeof(bad_policy) / sizeof(bad_policy[0]); i++) {
        assert_int_equal(
            tm__aws_kms_parse_policy(&doc, bad_policy[i], strlen(bad_policy[i]), fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_non_null(strstr(fx->errmsg, "GetKeyPolicy"));
    }
}

static void test_kms_adversarial_pages(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *next = NULL;
    const char *bad[] = {
        "{\"Keys\":[],\"Truncated\":true}",                          /* truncated without a marker */
        "{\"Keys\":[],\"Truncated\":\"true\",\"NextMarker\":\"m\"}", /* wrong type */
        "{\"Keys\":{}}",
        "{\"Keys\":[",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            tm__aws_kms_parse_keys(&fx->f, bad[i], strlen(bad[i]), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_null(next);
    }
    /* A marker on the last page is ignored; items without a usable ARN are recorded, the rest kept. */
    const char *mixed =
        "{\"Keys\":[{\"KeyId\":\"k\",\"KeyArn\":\"arn:aws:kms:us-east-2:1:alias/x\"},{\"KeyId\":\"k2\"},"
        "{\"KeyId\":\"\u00e9\",\"KeyArn\":\"arn:aws:kms:us-east-2:111122223333:key/\u00e9\"}],"
        "\"NextMarker\":\"m\",\"Truncated\":false}";
    assert_int_equal(
        tm__aws_kms_parse_keys(&fx->f, mixed, strlen(mixed), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_null(next);
    assert_int_equal(fx->items.n, 1);
    assert_int_equal(tm_snapshot_error_count(fx->snap), 2);
    cJSON *by_key = cJSON_CreateObject();
    const char *bad_alias = "{\"Aliases\":[{\"AliasName\":\"alias/x\",\"TargetKeyId\":5}]}";
    assert_int_equal(
        tm__aws_kms_parse_aliases(by_key, bad_alias, strlen(bad_alias), &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
    cJSON_Delete(by_key);
}

static void test_secrets(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.service = "secretsmanager";
    fx->f.operation = "ListSecrets";
    char *next = NULL;
    assert_int_equal(tm__aws_sm_parse_secrets(&fx->f, s_ListSecrets, strlen(s_ListSecrets), &fx->items, &next,
                                              fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "AAAAAQ==");
    free(next);
    assert_int_equal(fx->items.n, 2);
    const cJSON *db =
        tm_snapshot_find(fx->snap, "arn:aws:secretsmanager:us-east-2:111122223333:secret:demo/db-password-a1b2c3");
    assert_non_null(db);
    assert_string_equal(tm_json_str(db, "type", ""), "aws:secretsmanager:secret");
    assert_string_equal(tm_json_str(db, "name", ""), "demo/db-password");
    assert_string_equal(tm_test_aws_attr(db, "kms_key_id")->valuestring, KEY1);
    assert_true(cJSON_IsTrue(tm_test_aws_attr(db, "rotation_enabled")));
    const cJSON *api =
        tm_snapshot_find(fx->snap, "arn:aws:secretsmanager:us-east-2:111122223333:secret:demo/api-key-d4e5f6");
    assert_true(cJSON_IsNull(tm_test_aws_attr(api, "kms_key_id"))); /* the account's aws/secretsmanager key */
    assert_true(cJSON_IsFalse(tm_test_aws_attr(api, "rotation_enabled")));

    cJSON *doc = NULL;
    assert_int_equal(
        tm__aws_sm_parse_policy(&doc, s_GetResourcePolicy, strlen(s_GetResourcePolicy), fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_string_equal(
        tm_json_str(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0), "Principal"),
                    "AWS", ""),
        "arn:aws:iam::444455556666:root");
    cJSON_Delete(doc);
    assert_int_equal(tm__aws_sm_parse_policy(&doc, s_GetResourcePolicyNone, strlen(s_GetResourcePolicyNone), fx->errmsg,
                                             sizeof(fx->errmsg)),
                     TM_OK);
    assert_true(cJSON_IsNull(doc));
    cJSON_Delete(doc);
    const char *bad = "{\"ResourcePolicy\":{\"Version\":\"2012-10-17\"}}";
    assert_int_equal(tm__aws_sm_parse_policy(&doc, bad, strlen(bad), fx->errmsg, sizeof(fx->errmsg)), TM_ERR_PARSE);

    /* The snapshot holds no secret material: only names, keys and flags. */
    char *out = NULL;
    assert_int_equal(tm_snapshot_serialize(fx->snap, &out, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_null(strstr(out, "SecretVersionsToStages"));
    assert_null(strstr(out, "AWSCURRENT"));
    free(out);

    const char *mixed = "{\"SecretList\":[{\"Name\":\"no-arn\"},{\"ARN\":\"arn:aws:secretsmanager:us-east-2:1:"
                        "secret:x-abcdef\",\"RotationEnabled\":\"yes\"}]}";
    assert_int_equal(
        tm__aws_sm_parse_secrets(&fx->f, mixed, strlen(mixed), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(
        tm_snapshot_find(fx->snap, "arn:aws:secretsmanager:us-east-2:1:secret:x-abcdef"), "rotation_enabled")));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 2);
    assert_int_equal(
        tm__aws_sm_parse_secrets(&fx->f, "{\"SecretList\":1}", 16, &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
}

static void test_ecr(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.service = "ecr";
    fx->f.operation = "DescribeRepositories";
    char *next = NULL;
    assert_int_equal(tm__aws_ecr_parse_repositories(&fx->f, s_DescribeRepositories, strlen(s_DescribeRepositories),
                                                    &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "bmV4dA==");
    free(next);
    const cJSON *web = tm_snapshot_find(fx->snap, "arn:aws:ecr:us-east-2:111122223333:repository/demo/web");
    assert_non_null(web);
    assert_string_equal(tm_json_str(web, "type", ""), "aws:ecr:repository");
    assert_string_equal(tm_json_str(web, "name", ""), "demo/web");
    assert_string_equal(tm_test_aws_attr(web, "repository_uri")->valuestring,
                        "111122223333.dkr.ecr.us-east-2.amazonaws.com/demo/web");
    assert_string_equal(tm_test_aws_attr(web, "image_tag_mutability")->valuestring, "MUTABLE");
    assert_true(cJSON_IsFalse(tm_test_aws_attr(web, "scan_on_push")));
    const cJSON *base = tm_snapshot_find(fx->snap, "arn:aws:ecr:us-east-2:111122223333:repository/demo/base");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(base, "scan_on_push")));

    cJSON *doc = NULL;
    assert_int_equal(tm__aws_ecr_parse_policy(&doc, s_GetRepositoryPolicy, strlen(s_GetRepositoryPolicy), fx->errmsg,
                                              sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(tm_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0), "Principal", ""),
                        "*");
    cJSON_Delete(doc);
    const char *bad[] = {"{\"registryId\":\"1\"}", "{\"policyText\":\"not json\"}", "{\"policyText\":7}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm__aws_ecr_parse_policy(&doc, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);

    const char *mixed = "{\"repositories\":[{\"repositoryArn\":\"arn:aws:ecr:us-east-2:1:repository/r\","
                        "\"repositoryName\":\"r\",\"imageScanningConfiguration\":true},{\"repositoryName\":\"x\"}]}";
    assert_int_equal(
        tm__aws_ecr_parse_repositories(&fx->f, mixed, strlen(mixed), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_true(tm_snapshot_is_unknown(
        tm_test_aws_attr(tm_snapshot_find(fx->snap, "arn:aws:ecr:us-east-2:1:repository/r"), "scan_on_push")));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 2);
}

static void test_policy_of_a_resource_is_unknown_not_null(void **state) {
    /* The shape a failed GetKeyPolicy leaves: unknown, carrying the error, distinguishable from null. */
    struct tm_test_aws_parse *fx = *state;
    cJSON *res = NULL;
    assert_int_equal(tm_snapshot_resource(fx->snap, KEY1, "aws:kms:key", "111122223333", "us-east-2", NULL, &res),
                     TM_OK);
    struct tm_snapshot_error e = {"kms", "GetKeyPolicy", "us-east-2", KEY1, "AccessDeniedException", "denied", 1};
    assert_int_equal(tm_snapshot_set_policy(res, "resource", tm_aws_unknown_value(&e)), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_policy(res)));
    assert_false(cJSON_IsNull(tm_test_aws_policy(res)));
}

/* ---- the demo account, scanned through its fixtures ---- */

static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"kms", "secretsmanager", "ecr"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 3, &unmatched, &calls);
    /* The demo account answers no KMS ListAliases: the aliases are unknown, never guessed. */
    for (const cJSON *u = unmatched->child; u; u = u->next)
        assert_non_null(strstr(u->valuestring, "kms ListAliases "));
    assert_int_equal(tm_test_aws_count_type(snap, "aws:kms:key"), 7);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:secretsmanager:secret"), 5);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:ecr:repository"), 5);
    for (size_t i = 0; i < tm_snapshot_count(snap); i++) {
        const cJSON *r = tm_snapshot_at(snap, i);
        if (strcmp(tm_json_str(r, "type", ""), "aws:kms:key") == 0) {
            const cJSON *aliases = tm_test_aws_at(r, "attrs|aliases");
            assert_true(cJSON_IsArray(aliases) || tm_snapshot_is_unknown(aliases));
        }
    }
    /* G02: the key whose policy keeps the scan out is unknown, with the error, and nothing else is. */
    const char *g02 = "arn:aws:kms:eu-west-1:111122223333:key/4b1d3e5a-6f7c-4d9e-8a1b-1c2d3e4f5a6b";
    tm_test_aws_expect(snap, g02, "attrs|key_manager|$unknown|code", "\"AccessDeniedException\"");
    tm_test_aws_expect(snap, g02, "policies|resource|$unknown|code", "\"AccessDeniedException\"");
    assert_int_equal(tm_snapshot_error_count(snap), 2 + (size_t)cJSON_GetArraySize(unmatched));
    assert_int_equal(tm_test_aws_count_calls(calls, "GetSecretValue"), 0);
    tm_test_aws_expect(snap, "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/payments/stripe-api-key-Xq3vZp",
                       "attrs|rotation_enabled", "false");
    tm_test_aws_expect(snap, "arn:aws:ecr:us-east-1:111122223333:repository/lambda-images",
                       "policies|resource|Statement|0|Principal|Service", "\"lambda.amazonaws.com\"");
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

static void test_demo_account_denied(void **state) {
    (void)state;
    static const char *const services[] = {"kms", "secretsmanager", "ecr"};
    static const char *const keys[] = {"key_manager", "key_state", "key_usage", "aliases", "policies|resource", NULL};
    static const char *const secrets[] = {"kms_key_id", "rotation_enabled", "policies|resource", NULL};
    static const char *const repos[] = {"repository_uri", "scan_on_push", "policies|resource", NULL};
    static const struct tm_test_aws_facts_of facts[] = {
        {"aws:kms:key", keys},
        {"aws:secretsmanager:secret", secrets},
        {"aws:ecr:repository", repos},
        {NULL, NULL},
    };
    tm_test_aws_scan_demo_refused(services, 3, facts);
}

static void test_secret_values_are_never_asked(void **state) {
    (void)state;
    /* The scan refuses any operation missing from a service's table: these are not in any. */
    size_t seen = 0;
    for (const struct tm_aws_service *const *svc = tm_aws_scan_services(); *svc; svc++) {
        for (const struct tm_aws_operation *op = (*svc)->operations; op && op->name; op++) {
            assert_string_not_equal(op->name, "GetSecretValue");
            assert_string_not_equal(op->name, "BatchGetSecretValue");
            if (strcmp(op->api->name, "secretsmanager") == 0) {
                seen++;
                assert_true(strcmp(op->name, "ListSecrets") == 0 || strcmp(op->name, "GetResourcePolicy") == 0);
            }
        }
    }
    assert_int_equal(seen, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kms_keys_pages_and_aliases, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_kms_describe_and_policy, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_kms_adversarial_pages, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_secrets, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_ecr, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_policy_of_a_resource_is_unknown_not_null, s_setup,
                                        tm_test_aws_parse_teardown),
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_secret_values_are_never_asked),
        cmocka_unit_test(test_demo_account_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
