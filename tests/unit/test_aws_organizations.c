#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/organizations.h"
#include "providers/aws/sts.h"

static void test_describe_organization(void **state) {
    (void)state;
    char err[256];
    static const char body[] =
        "{\"Organization\":{\"Arn\":\"arn:aws:organizations::111111111111:organization/o-exampleorgid\","
        "\"AvailablePolicyTypes\":[{\"Status\":\"ENABLED\",\"Type\":\"SERVICE_CONTROL_POLICY\"}],"
        "\"FeatureSet\":\"ALL\",\"Id\":\"o-exampleorgid\","
        "\"MasterAccountArn\":\"arn:aws:organizations::111111111111:account/o-exampleorgid/111111111111\","
        "\"MasterAccountEmail\":\"bill@example.com\",\"MasterAccountId\":\"111111111111\"}}";
    struct tm__aws_org o;
    assert_int_equal(tm__aws_org_parse_organization(&o, body, strlen(body), err, sizeof(err)), TM_OK);
    char *s = cJSON_PrintUnformatted(o.organization);
    assert_string_equal(s, "{\"id\":\"o-exampleorgid\",\"arn\":\"arn:aws:organizations::111111111111:organization/"
                           "o-exampleorgid\",\"master_account_id\":\"111111111111\"}");
    free(s);
    cJSON_Delete(o.organization);
    assert_true(o.all_features && o.types_listed && o.scp_enabled);
    assert_false(o.rcp_enabled);
    static const char billing[] = "{\"Organization\":{\"Id\":\"o-1\",\"FeatureSet\":\"CONSOLIDATED_BILLING\"}}";
    assert_int_equal(tm__aws_org_parse_organization(&o, billing, strlen(billing), err, sizeof(err)), TM_OK);
    assert_false(o.all_features);
    assert_false(o.types_listed);
    cJSON_Delete(o.organization);
    static const char *const bad[] = {"{}", "[]", "{\"Organization\":{\"Id\":7}}", "{\"Organization\":",
                                      "{\"Organization\":{\"Id\":\"o-1\",\"AvailablePolicyTypes\":{}}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tm__aws_org_parse_organization(&o, bad[i], strlen(bad[i]), err, sizeof(err)), TM_ERR_PARSE);
        assert_null(o.organization);
    }
}

static void test_accounts(void **state) {
    (void)state;
    char err[256];
    static const char body[] =
        "{\"Accounts\":[{\"Arn\":\"arn:aws:organizations::111111111111:account/o-exampleorgid/111111111111\","
        "\"Email\":\"bill@example.com\",\"Id\":\"111111111111\",\"JoinedMethod\":\"INVITED\","
        "\"JoinedTimestamp\":1481830215.45,\"Name\":\"Master Account\",\"Status\":\"ACTIVE\"}],"
        "\"NextToken\":\"AAQ/x+==\"}";
    cJSON *out = cJSON_CreateArray();
    char *next = NULL;
    assert_int_equal(tm__aws_org_parse_accounts(out, &next, body, strlen(body), err, sizeof(err)), TM_OK);
    assert_string_equal(next, "AAQ/x+==");
    free(next);
    assert_string_equal(cJSON_GetArrayItem(out, 0)->valuestring, "111111111111");
    static const char *const bad[] = {"{}", "{\"Accounts\":[{\"Id\":\"1111\"}]}",
                                      "{\"Accounts\":[{\"Id\":\"11111111111x\"}]}", "{\"Accounts\":{}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm__aws_org_parse_accounts(out, &next, bad[i], strlen(bad[i]), err, sizeof(err)),
                         TM_ERR_PARSE);
    cJSON_Delete(out);
}

static void test_parents_policies_policy(void **state) {
    (void)state;
    char err[256];
    char *id = NULL, *type = NULL;
    static const char parents[] = "{\"Parents\":[{\"Id\":\"ou-examplerootid111-exampleouid111\","
                                  "\"Type\":\"ORGANIZATIONAL_UNIT\"}]}";
    assert_int_equal(tm__aws_org_parse_parents(&id, &type, parents, strlen(parents), err, sizeof(err)), TM_OK);
    assert_string_equal(id, "ou-examplerootid111-exampleouid111");
    assert_string_equal(type, "ORGANIZATIONAL_UNIT");
    free(id);
    free(type);
    static const char weird[] = "{\"Parents\":[{\"Id\":\"x\",\"Type\":\"ACCOUNT\"}]}";
    assert_int_equal(tm__aws_org_parse_parents(&id, &type, weird, strlen(weird), err, sizeof(err)), TM_ERR_PARSE);
    assert_int_equal(tm__aws_org_parse_parents(&id, &type, "{\"Parents\":[]}", 14, err, sizeof(err)), TM_ERR_PARSE);

    static const char list[] = "{\"NextToken\":\"tok2\",\"Policies\":[{\"Arn\":\"arn:aws:organizations::111111111111:"
                               "policy/o-exampleorgid/service_control_policy/p-FullAWSAccess\",\"AwsManaged\":true,"
                               "\"Description\":\"Allows access to every operation\",\"Id\":\"p-FullAWSAccess\","
                               "\"Name\":\"FullAWSAccess\",\"Type\":\"SERVICE_CONTROL_POLICY\"}]}";
    cJSON *out = cJSON_CreateArray();
    char *next = NULL;
    assert_int_equal(tm__aws_org_parse_policies(out, &next, list, strlen(list), err, sizeof(err)), TM_OK);
    assert_string_equal(next, "tok2");
    free(next);
    char *s = cJSON_PrintUnformatted(out);
    assert_string_equal(s, "[{\"id\":\"p-FullAWSAccess\",\"name\":\"FullAWSAccess\",\"arn\":\"arn:aws:organizations::"
                           "111111111111:policy/o-exampleorgid/service_control_policy/p-FullAWSAccess\"}]");
    free(s);
    assert_int_equal(tm__aws_org_parse_policies(out, &next, "{\"Policies\":[{}]}", 17, err, sizeof(err)), TM_ERR_PARSE);
    cJSON_Delete(out);

    static const char pol[] =
        "{\"Policy\":{\"Content\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":"
        "[{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"s3:*\\\",\\\"Resource\\\":\\\"*\\\"}]}\","
        "\"PolicySummary\":{\"Id\":\"p-examplepolicyid111\",\"Name\":\"DenyS3\","
        "\"Type\":\"SERVICE_CONTROL_POLICY\",\"AwsManaged\":false}}}";
    cJSON *doc = NULL;
    assert_int_equal(tm__aws_org_parse_policy(&doc, pol, strlen(pol), err, sizeof(err)), TM_OK);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0)->child->valuestring, "Deny");
    cJSON_Delete(doc);
    static const char bad[] = "{\"Policy\":{\"Content\":\"not json\"}}";
    assert_int_equal(tm__aws_org_parse_policy(&doc, bad, strlen(bad), err, sizeof(err)), TM_ERR_PARSE);
    assert_null(doc);
}

static void test_caller_identity(void **state) {
    (void)state;
    char err[256];
    struct tm__aws_caller c;
    static const char body[] = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                               "  <GetCallerIdentityResult>\n"
                               "    <Arn>arn:aws-us-gov:sts::123456789012:assumed-role/auditor/session</Arn>\n"
                               "    <UserId>AROA3XFRBF535PLBIFPI4:session</UserId>\n"
                               "    <Account>123456789012</Account>\n"
                               "  </GetCallerIdentityResult>\n"
                               "  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>"
                               "</ResponseMetadata>\n"
                               "</GetCallerIdentityResponse>\n";
    assert_int_equal(tm__aws_sts_parse_caller(&c, body, strlen(body), err, sizeof(err)), TM_OK);
    assert_string_equal(c.account, "123456789012");
    assert_string_equal(c.partition, "aws-us-gov");
    assert_string_equal(c.user_id, "AROA3XFRBF535PLBIFPI4:session");
    tm__aws_sts_caller_clean_up(&c);
    static const char *const bad[] = {
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>12345</Account>"
        "<Arn>arn:aws:iam::12345:user/x</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
        "<Arn>arn:aws:iam::999999999999:user/x</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>123456789012</Account>"
        "<Arn>not-an-arn</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>",
        "<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>",
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Account>12345678901\xc3\xa9</Account>"
        "</GetCallerIdentityResult></GetCallerIdentityResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tm__aws_sts_parse_caller(&c, bad[i], strlen(bad[i]), err, sizeof(err)), TM_ERR_PARSE);
        assert_null(c.account);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_organization),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_parents_policies_policy),
        cmocka_unit_test(test_caller_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
