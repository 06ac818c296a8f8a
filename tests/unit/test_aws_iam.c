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
#include "providers/aws/iam.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"

#define ACCT "111122223333"

/* Policy documents as IAM sends them: URL-encoded JSON. */
#define DOC_ADMIN                                                                                                      \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A" \
    "%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"
#define DOC_TRUST_EC2                                                                                                  \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B" \
    "%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
#define DOC_READ_LOGS                                                                                                  \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B"    \
    "%22s3%3AGetObject%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ademo-logs%2F%2A%22%7D%5D%7D"

static const char s_page1[] =
    "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <GetAccountAuthorizationDetailsResult>\n"
    "    <IsTruncated>true</IsTruncated>\n"
    "    <UserDetailList>\n"
    "      <member>\n"
    "        <GroupList><member>Admins</member><member>Auditors</member></GroupList>\n"
    "        <AttachedManagedPolicies>\n"
    "          <member><PolicyName>ReadLogs</PolicyName>"
    "<PolicyArn>arn:aws:iam::" ACCT ":policy/ReadLogs</PolicyArn></member>\n"
    "        </AttachedManagedPolicies>\n"
    "        <UserId>AIDACKCEVSQ6C2EXAMPLE</UserId>\n"
    "        <Path>/</Path>\n"
    "        <UserName>alice</UserName>\n"
    "        <Arn>arn:aws:iam::" ACCT ":user/alice</Arn>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <UserPolicyList>\n"
    "          <member><PolicyName>inline-admin</PolicyName><PolicyDocument>" DOC_ADMIN "</PolicyDocument></member>\n"
    "        </UserPolicyList>\n"
    "        <PermissionsBoundary>\n"
    "          <PermissionsBoundaryType>Policy</PermissionsBoundaryType>\n"
    "          <PermissionsBoundaryArn>arn:aws:iam::aws:policy/PowerUserAccess</PermissionsBoundaryArn>\n"
    "        </PermissionsBoundary>\n"
    "      </member>\n"
    "    </UserDetailList>\n"
    "    <GroupDetailList>\n"
    "      <member>\n"
    "        <GroupId>AGPACKCEVSQ6C2EXAMPLE</GroupId>\n"
    "        <AttachedManagedPolicies>\n"
    "          <member><PolicyName>AdministratorAccess</PolicyName>"
    "<PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn></member>\n"
    "        </AttachedManagedPolicies>\n"
    "        <GroupName>Admins</GroupName>\n"
    "        <Path>/</Path>\n"
    "        <Arn>arn:aws:iam::" ACCT ":group/Admins</Arn>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <GroupPolicyList/>\n"
    "      </member>\n"
    "    </GroupDetailList>\n"
    "    <RoleDetailList/>\n"
    "    <Policies/>\n"
    "    "
    "<Marker>EXAMPLEkakv9BCuUNFDtxWSyfzetYwEx2ADc8dnzfvERF5S6YMvXKx41t6gCl/eeaCX3Jo94/"
    "bKqezEAg8TEVS99EKFLxm3jtbpl25FDWEXAMPLE</Marker>\n"
    "  </GetAccountAuthorizationDetailsResult>\n"
    "  <ResponseMetadata><RequestId>92e79ae7-7399-11e4-8c85-4b53eEXAMPLE</RequestId></ResponseMetadata>\n"
    "</GetAccountAuthorizationDetailsResponse>\n";

static const char s_page2[] =
    "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <GetAccountAuthorizationDetailsResult>\n"
    "    <IsTruncated>false</IsTruncated>\n"
    "    <UserDetailList/>\n"
    "    <GroupDetailList>\n"
    "      <member>\n"
    "        <GroupId>AGPAAUDITORSEXAMPLE01</GroupId>\n"
    "        <AttachedManagedPolicies/>\n"
    "        <GroupName>Auditors</GroupName>\n"
    "        <Path>/audit/</Path>\n"
    "        <Arn>arn:aws:iam::" ACCT ":group/audit/Auditors</Arn>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <GroupPolicyList>\n"
    "          <member><PolicyName>read-logs</PolicyName><PolicyDocument>" DOC_READ_LOGS "</PolicyDocument></member>\n"
    "        </GroupPolicyList>\n"
    "      </member>\n"
    "    </GroupDetailList>\n"
    "    <RoleDetailList>\n"
    "      <member>\n"
    "        <RolePolicyList/>\n"
    "        <AttachedManagedPolicies>\n"
    "          <member><PolicyName>ReadLogs</PolicyName>"
    "<PolicyArn>arn:aws:iam::" ACCT ":policy/ReadLogs</PolicyArn></member>\n"
    "        </AttachedManagedPolicies>\n"
    "        <InstanceProfileList>\n"
    "          <member>\n"
    "            <InstanceProfileId>AIPAJQABLZS4A3QDU576Q</InstanceProfileId>\n"
    "            <Roles>\n"
    "              <member>\n"
    "                <Path>/</Path>\n"
    "                <AssumeRolePolicyDocument>" DOC_TRUST_EC2 "</AssumeRolePolicyDocument>\n"
    "                <RoleName>web</RoleName>\n"
    "                <RoleId>AROAJ52OTH4H7LEXAMPLE</RoleId>\n"
    "                <Arn>arn:aws:iam::" ACCT ":role/web</Arn>\n"
    "                <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "              </member>\n"
    "            </Roles>\n"
    "            <InstanceProfileName>web-profile</InstanceProfileName>\n"
    "            <Path>/</Path>\n"
    "            <Arn>arn:aws:iam::" ACCT ":instance-profile/web-profile</Arn>\n"
    "            <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "          </member>\n"
    "        </InstanceProfileList>\n"
    "        <RoleName>web</RoleName>\n"
    "        <Path>/</Path>\n"
    "        <Arn>arn:aws:iam::" ACCT ":role/web</Arn>\n"
    "        <RoleLastUsed><LastUsedDate>2024-03-01T12:00:00Z</LastUsedDate><Region>eu-west-1</Region></RoleLastUsed>\n"
    "        <AssumeRolePolicyDocument>" DOC_TRUST_EC2 "</AssumeRolePolicyDocument>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <RoleId>AROAJ52OTH4H7LEXAMPLE</RoleId>\n"
    "      </member>\n"
    "      <member>\n"
    "        <RolePolicyList/>\n"
    "        <AttachedManagedPolicies/>\n"
    "        <InstanceProfileList/>\n"
    "        <RoleName>AWSServiceRoleForSupport</RoleName>\n"
    "        <Path>/aws-service-role/support.amazonaws.com/</Path>\n"
    "        <Arn>arn:aws:iam::" ACCT ":role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport</Arn>\n"
    "        <RoleLastUsed/>\n"
    "        <AssumeRolePolicyDocument>" DOC_TRUST_EC2 "</AssumeRolePolicyDocument>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <RoleId>AROASUPPORTEXAMPLE001</RoleId>\n"
    "      </member>\n"
    "    </RoleDetailList>\n"
    "    <Policies>\n"
    "      <member>\n"
    "        <PolicyName>ReadLogs</PolicyName>\n"
    "        <DefaultVersionId>v2</DefaultVersionId>\n"
    "        <PolicyId>ANPAJ2UCCR6DPCEXAMPLE</PolicyId>\n"
    "        <Path>/</Path>\n"
    "        <PolicyVersionList>\n"
    "          <member><Document>" DOC_ADMIN "</Document><IsDefaultVersion>false</IsDefaultVersion>"
    "<VersionId>v1</VersionId><CreateDate>2023-01-10T10:00:00Z</CreateDate></member>\n"
    "          <member><Document>" DOC_READ_LOGS "</Document><IsDefaultVersion>true</IsDefaultVersion>"
    "<VersionId>v2</VersionId><CreateDate>2023-02-10T10:00:00Z</CreateDate></member>\n"
    "        </PolicyVersionList>\n"
    "        <Arn>arn:aws:iam::" ACCT ":policy/ReadLogs</Arn>\n"
    "        <AttachmentCount>2</AttachmentCount>\n"
    "        <CreateDate>2023-01-10T10:00:00Z</CreateDate>\n"
    "        <IsAttachable>true</IsAttachable>\n"
    "        <UpdateDate>2023-02-10T10:00:00Z</UpdateDate>\n"
    "      </member>\n"
    "      <member>\n"
    "        <PolicyName>AdministratorAccess</PolicyName>\n"
    "        <DefaultVersionId>v1</DefaultVersionId>\n"
    "        <PolicyId>ANPAIWMBCKSKIEE64ZLYK</PolicyId>\n"
    "        <Path>/</Path>\n"
    "        <PolicyVersionList>\n"
    "          <member><Document>" DOC_ADMIN "</Document><IsDefaultVersion>true</IsDefaultVersion>"
    "<VersionId>v1</VersionId><CreateDate>2015-02-06T18:39:46Z</CreateDate></member>\n"
    "        </PolicyVersionList>\n"
    "        <Arn>arn:aws:iam::aws:policy/AdministratorAccess</Arn>\n"
    "        <AttachmentCount>1</AttachmentCount>\n"
    "        <CreateDate>2015-02-06T18:39:46Z</CreateDate>\n"
    "        <IsAttachable>true</IsAttachable>\n"
    "        <UpdateDate>2015-02-06T18:39:46Z</UpdateDate>\n"
    "      </member>\n"
    "    </Policies>\n"
    "  </GetAccountAuthorizationDetailsResult>\n"
    "  <ResponseMetadata><RequestId>92e79ae7-7399-11e4-8c85-4b53eEXAMPLE</RequestId></ResponseMetadata>\n"
    "</GetAccountAuthorizationDetailsResponse>\n";

static const char s_list_roles[] =
    "<ListRolesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <ListRolesResult>\n"
    "    <IsTruncated>false</IsTruncated>\n"
    "    <Roles>\n"
    "      <member><Path>/</Path><AssumeRolePolicyDocument>" DOC_TRUST_EC2 "</AssumeRolePolicyDocument>"
    "<RoleId>AROAJ52OTH4H7LEXAMPLE</RoleId><RoleName>web</RoleName><Arn>arn:aws:iam::" ACCT ":role/web</Arn>"
    "<CreateDate>2023-01-10T10:00:00Z</CreateDate><MaxSessionDuration>43200</MaxSessionDuration></member>\n"
    "    </Roles>\n"
    "  </ListRolesResult>\n"
    "  <ResponseMetadata><RequestId>20f7279f-99ee-11e1-a4c3-27EXAMPLE804</RequestId></ResponseMetadata>\n"
    "</ListRolesResponse>\n";

static const char s_policy_version[] =
    "<GetPolicyVersionResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <GetPolicyVersionResult>\n"
    "    <PolicyVersion>\n"
    "      <Document>" DOC_READ_LOGS "</Document>\n"
    "      <IsDefaultVersion>true</IsDefaultVersion>\n"
    "      <VersionId>v3</VersionId>\n"
    "      <CreateDate>2015-07-23T18:25:07Z</CreateDate>\n"
    "    </PolicyVersion>\n"
    "  </GetPolicyVersionResult>\n"
    "  <ResponseMetadata><RequestId>9e20e8d5-3165-11e5-b1b4-bd2c4EXAMPLE</RequestId></ResponseMetadata>\n"
    "</GetPolicyVersionResponse>\n";

struct fixture {
    struct tm_snapshot *snap;
    struct tm__aws_iam_details d;
    struct tm_aws_sink sink;
    char err[512];
};

static int s_setup(void **state) {
    struct fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(tm_snapshot_new(&f->snap, "aws"), TM_OK);
    assert_int_equal(tm__aws_iam_details_init(&f->d), TM_OK);
    f->sink = (struct tm_aws_sink){f->snap, "aws", ACCT, "global"};
    *state = f;
    return 0;
}

static int s_teardown(void **state) {
    struct fixture *f = *state;
    tm__aws_iam_details_clean_up(&f->d);
    tm_snapshot_destroy(f->snap);
    free(f);
    return 0;
}

static void s_gaad(struct fixture *f) {
    char *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_page1, strlen(s_page1), &marker, f->err, sizeof(f->err)), TM_OK);
    assert_non_null(marker);
    assert_string_equal(marker, "EXAMPLEkakv9BCuUNFDtxWSyfzetYwEx2ADc8dnzfvERF5S6YMvXKx41t6gCl/eeaCX3Jo94/"
                                "bKqezEAg8TEVS99EKFLxm3jtbpl25FDWEXAMPLE");
    free(marker);
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_page2, strlen(s_page2), &marker, f->err, sizeof(f->err)), TM_OK);
    assert_null(marker);
}

static const cJSON *s_get(const cJSON *o, const char *path) {
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *tok = strtok(buf, "."); tok && o; tok = strtok(NULL, ".")) {
        if (tok[0] >= '0' && tok[0] <= '9')
            o = cJSON_GetArrayItem(o, atoi(tok));
        else
            o = cJSON_GetObjectItemCaseSensitive(o, tok);
    }
    return o;
}

static const char *s_str(const cJSON *o, const char *path) {
    const cJSON *v = s_get(o, path);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_gaad_pages_accumulate_and_emit(void **state) {
    struct fixture *f = *state;
    s_gaad(f);
    assert_int_equal(cJSON_GetArraySize(f->d.users), 1);
    assert_int_equal(cJSON_GetArraySize(f->d.groups), 2);
    assert_int_equal(cJSON_GetArraySize(f->d.roles), 2);
    char *marker = NULL;
    assert_int_equal(
        tm__aws_iam_parse_list_roles(&f->d, s_list_roles, strlen(s_list_roles), &marker, f->err, sizeof(f->err)),
        TM_OK);
    assert_null(marker);

    /* The boundary (an AWS managed policy attached nowhere) is the only document missing. */
    cJSON *missing = NULL;
    assert_int_equal(tm__aws_iam_missing_policies(&missing, &f->d), TM_OK);
    char *m = cJSON_PrintUnformatted(missing);
    assert_string_equal(m, "[\"arn:aws:iam::aws:policy/PowerUserAccess\"]");
    free(m);
    cJSON_Delete(missing);
    cJSON *doc = NULL;
    assert_int_equal(
        tm__aws_iam_parse_get_policy_version(&doc, s_policy_version, strlen(s_policy_version), f->err, sizeof(f->err)),
        TM_OK);
    cJSON_AddItemToObject(f->d.policies, "arn:aws:iam::aws:policy/PowerUserAccess", doc);

    assert_int_equal(tm__aws_iam_emit(&f->sink, &f->d, NULL, NULL), TM_OK);
    assert_int_equal(tm_snapshot_count(f->snap), 6); /* user, 2 groups, 2 roles, 1 profile */
    assert_int_equal(tm_snapshot_error_count(f->snap), 0);

    const cJSON *u = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":user/alice");
    assert_non_null(u);
    assert_string_equal(s_str(u, "type"), "aws:iam:user");
    assert_string_equal(s_str(u, "region"), "global");
    assert_string_equal(s_str(u, "attrs.user_id"), "AIDACKCEVSQ6C2EXAMPLE");
    assert_string_equal(s_str(u, "attrs.groups.1"), "Auditors");
    assert_string_equal(s_str(u, "attrs.permissions_boundary_arn"), "arn:aws:iam::aws:policy/PowerUserAccess");
    /* Own inline, own managed (the default version v2, not v1), then each group's. */
    const cJSON *id = s_get(u, "policies.identity");
    assert_int_equal(cJSON_GetArraySize(id), 4);
    assert_string_equal(s_str(id, "0.kind"), "inline");
    assert_string_equal(s_str(id, "0.document.Statement.0.Action"), "*");
    assert_string_equal(s_str(id, "1.kind"), "managed");
    assert_string_equal(s_str(id, "1.arn"), "arn:aws:iam::" ACCT ":policy/ReadLogs");
    assert_string_equal(s_str(id, "1.document.Statement.0.Action.0"), "s3:GetObject");
    assert_string_equal(s_str(id, "2.kind"), "group-managed");
    assert_string_equal(s_str(id, "2.group"), "Admins");
    assert_string_equal(s_str(id, "2.document.Statement.0.Resource"), "*");
    assert_string_equal(s_str(id, "3.kind"), "group-inline");
    assert_string_equal(s_str(id, "3.group"), "Auditors");
    assert_string_equal(s_str(u, "policies.boundary.Statement.0.Resource"), "arn:aws:s3:::demo-logs/*");
    const cJSON *links = s_get(u, "links");
    assert_int_equal(cJSON_GetArraySize(links), 2);
    assert_string_equal(s_str(links, "0.kind"), "member-of");
    assert_string_equal(s_str(links, "0.to"), "arn:aws:iam::" ACCT ":group/Admins");
    assert_string_equal(s_str(links, "1.to"), "arn:aws:iam::" ACCT ":group/audit/Auditors");

    const cJSON *r = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":role/web");
    assert_string_equal(s_str(r, "policies.trust.Statement.0.Principal.Service"), "ec2.amazonaws.com");
    assert_int_equal((int)s_get(r, "attrs.max_session_duration")->valuedouble, 43200);
    assert_string_equal(s_str(r, "attrs.last_used.region"), "eu-west-1");
    assert_string_equal(s_str(r, "attrs.instance_profiles.0"), "arn:aws:iam::" ACCT ":instance-profile/web-profile");
    assert_true(cJSON_IsFalse(s_get(r, "attrs.service_linked")));
    assert_true(cJSON_IsNull(s_get(r, "policies.boundary")));
    assert_true(cJSON_IsNull(s_get(r, "attrs.permissions_boundary_arn")));

    const cJSON *sl = tm_snapshot_find(
        f->snap, "arn:aws:iam::" ACCT ":role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport");
    assert_true(cJSON_IsTrue(s_get(sl, "attrs.service_linked")));
    assert_true(cJSON_IsNull(s_get(sl, "attrs.last_used")));
    /* Not in ListRoles (and ListRoles did not fail): null, not unknown. */
    assert_true(cJSON_IsNull(s_get(sl, "attrs.max_session_duration")));

    const cJSON *ip = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":instance-profile/web-profile");
    assert_string_equal(s_str(ip, "type"), "aws:iam:instance-profile");
    assert_string_equal(s_str(ip, "links.0.kind"), "has-identity");
    assert_string_equal(s_str(ip, "links.0.to"), "arn:aws:iam::" ACCT ":role/web");

    char *text = NULL;
    assert_int_equal(tm_snapshot_serialize(f->snap, &text, f->err, sizeof(f->err)), TM_OK);
    free(text);
}

static void test_partial_listing_marks_unknown(void **state) {
    struct fixture *f = *state;
    /* Only page 1 arrived: alice's group Auditors is unknown, and so are her effective policies. The
     * roles' session duration could not be read either. */
    char *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_page1, strlen(s_page1), &marker, f->err, sizeof(f->err)), TM_OK);
    free(marker);
    struct tm_snapshot_error gaad = {
        "iam", "GetAccountAuthorizationDetails", "global", NULL, "Throttling", "Rate exceeded", 5};
    struct tm_snapshot_error roles = {"iam", "ListRoles", "global", NULL, "AccessDenied", "denied", 1};
    assert_int_equal(tm__aws_iam_emit(&f->sink, &f->d, &gaad, &roles), TM_OK);
    const cJSON *u = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":user/alice");
    assert_true(tm_snapshot_is_unknown(s_get(u, "policies.identity")));
    assert_string_equal(s_str(u, "policies.identity.$unknown.code"), "Throttling");
    /* Documents the listing never delivered are unknown too. */
    assert_true(tm_snapshot_is_unknown(s_get(u, "policies.boundary")));
    const cJSON *g = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":group/Admins");
    assert_true(tm_snapshot_is_unknown(s_get(g, "policies.identity.0.document")));
}

static void test_missing_document_without_error_is_recorded(void **state) {
    struct fixture *f = *state;
    char *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_page1, strlen(s_page1), &marker, f->err, sizeof(f->err)), TM_OK);
    free(marker);
    assert_int_equal(tm__aws_iam_emit(&f->sink, &f->d, NULL, NULL), TM_OK);
    /* Never unknown without a matching entry in errors. */
    assert_true(tm_snapshot_error_count(f->snap) > 0);
}

static void test_access_keys_and_last_used(void **state) {
    struct fixture *f = *state;
    static const char list[] =
        "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
        "  <ListAccessKeysResult>\n"
        "    <UserName>alice</UserName>\n"
        "    <AccessKeyMetadata>\n"
        "      <member><UserName>alice</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>"
        "<Status>Active</Status><CreateDate>2023-01-10T10:00:00Z</CreateDate></member>\n"
        "      <member><UserName>alice</UserName><AccessKeyId>AKIAI44QH8DHBEXAMPLE</AccessKeyId>"
        "<Status>Inactive</Status><CreateDate>2022-01-10T10:00:00Z</CreateDate></member>\n"
        "    </AccessKeyMetadata>\n"
        "    <IsTruncated>true</IsTruncated>\n"
        "    <Marker>page2</Marker>\n"
        "  </ListAccessKeysResult>\n"
        "  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>\n"
        "</ListAccessKeysResponse>\n";
    cJSON *keys = cJSON_CreateArray();
    char *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_access_keys(keys, list, strlen(list), &marker, f->err, sizeof(f->err)), TM_OK);
    assert_string_equal(marker, "page2");
    free(marker);
    assert_int_equal(cJSON_GetArraySize(keys), 2);
    assert_string_equal(s_str(keys, "1.status"), "Inactive");

    static const char used[] =
        "<GetAccessKeyLastUsedResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
        "  <GetAccessKeyLastUsedResult>\n"
        "    <AccessKeyLastUsed>\n"
        "      <Region>us-east-1</Region>\n"
        "      <LastUsedDate>2024-04-01T08:15:00Z</LastUsedDate>\n"
        "      <ServiceName>s3</ServiceName>\n"
        "    </AccessKeyLastUsed>\n"
        "    <UserName>alice</UserName>\n"
        "  </GetAccessKeyLastUsedResult>\n"
        "  <ResponseMetadata><RequestId>510a6abf-d022-11e4-abe8-9b0ebEXAMPLE</RequestId></ResponseMetadata>\n"
        "</GetAccessKeyLastUsedResponse>\n";
    static const char never[] =
        "<GetAccessKeyLastUsedResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
        "  <GetAccessKeyLastUsedResult>\n"
        "    <AccessKeyLastUsed><Region>N/A</Region><ServiceName>N/A</ServiceName></AccessKeyLastUsed>\n"
        "    <UserName>alice</UserName>\n"
        "  </GetAccessKeyLastUsedResult>\n"
        "  <ResponseMetadata><RequestId>510a6abf-d022-11e4-abe8-9b0ebEXAMPLE</RequestId></ResponseMetadata>\n"
        "</GetAccessKeyLastUsedResponse>\n";
    assert_int_equal(
        tm__aws_iam_parse_key_last_used(cJSON_GetArrayItem(keys, 0), used, strlen(used), f->err, sizeof(f->err)),
        TM_OK);
    assert_int_equal(
        tm__aws_iam_parse_key_last_used(cJSON_GetArrayItem(keys, 1), never, strlen(never), f->err, sizeof(f->err)),
        TM_OK);
    assert_string_equal(s_str(keys, "0.last_used_service"), "s3");
    assert_string_equal(s_str(keys, "0.last_used_date"), "2024-04-01T08:15:00Z");
    assert_true(cJSON_IsNull(s_get(keys, "1.last_used_date")));
    assert_string_equal(s_str(keys, "1.last_used_region"), "N/A");
    /* A wrong answer shape. */
    assert_int_equal(
        tm__aws_iam_parse_key_last_used(cJSON_GetArrayItem(keys, 1), list, strlen(list), f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    cJSON_Delete(keys);
}

static void test_alias_oidc_saml(void **state) {
    struct fixture *f = *state;
    static const char aliases[] = "<ListAccountAliasesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                                  "<ListAccountAliasesResult><IsTruncated>false</IsTruncated>"
                                  "<AccountAliases><member>demo-prod</member></AccountAliases>"
                                  "</ListAccountAliasesResult><ResponseMetadata><RequestId>c5a076e9-f1b0-11df-8fbe-"
                                  "45274EXAMPLE</RequestId></ResponseMetadata></ListAccountAliasesResponse>";
    static const char none[] = "<ListAccountAliasesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                               "<ListAccountAliasesResult><IsTruncated>false</IsTruncated><AccountAliases/>"
                               "</ListAccountAliasesResult></ListAccountAliasesResponse>";
    char *alias = NULL, *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_aliases(&alias, aliases, strlen(aliases), &marker, f->err, sizeof(f->err)),
                     TM_OK);
    assert_string_equal(alias, "demo-prod");
    free(alias);
    alias = NULL;
    assert_int_equal(tm__aws_iam_parse_aliases(&alias, none, strlen(none), &marker, f->err, sizeof(f->err)), TM_OK);
    assert_null(alias);
    assert_null(marker);

    static const char list[] =
        "<ListOpenIDConnectProvidersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
        "<ListOpenIDConnectProvidersResult><OpenIDConnectProviderList>"
        "<member><Arn>arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com</Arn></member>"
        "</OpenIDConnectProviderList></ListOpenIDConnectProvidersResult>"
        "<ResponseMetadata><RequestId>de2c0228-4f63-11e4-aefa-bfd6aEXAMPLE</RequestId></ResponseMetadata>"
        "</ListOpenIDConnectProvidersResponse>";
    cJSON *arns = cJSON_CreateArray();
    assert_int_equal(tm__aws_iam_parse_oidc_list(arns, list, strlen(list), f->err, sizeof(f->err)), TM_OK);
    assert_string_equal(s_str(arns, "0"), "arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com");
    cJSON_Delete(arns);
    static const char get[] = "<GetOpenIDConnectProviderResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                              "<GetOpenIDConnectProviderResult>"
                              "<ThumbprintList><member>6938fd4d98bab03faadb97b34396831e3780aea1</member>"
                              "</ThumbprintList><CreateDate>2023-01-10T10:00:00Z</CreateDate>"
                              "<ClientIDList><member>sts.amazonaws.com</member></ClientIDList>"
                              "<Url>token.actions.githubusercontent.com</Url>"
                              "</GetOpenIDConnectProviderResult></GetOpenIDConnectProviderResponse>";
    cJSON *r = NULL;
    assert_int_equal(tm_snapshot_resource(f->snap,
                                          "arn:aws:iam::" ACCT ":oidc-provider/token.actions.githubusercontent.com",
                                          "aws:iam:oidc-provider", ACCT, "global", NULL, &r),
                     TM_OK);
    assert_int_equal(tm__aws_iam_parse_oidc(r, get, strlen(get), f->err, sizeof(f->err)), TM_OK);
    assert_string_equal(s_str(r, "attrs.url"), "token.actions.githubusercontent.com");
    assert_string_equal(s_str(r, "attrs.client_ids.0"), "sts.amazonaws.com");
    assert_string_equal(s_str(r, "attrs.thumbprints.0"), "6938fd4d98bab03faadb97b34396831e3780aea1");

    static const char saml[] = "<ListSAMLProvidersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
                               "<ListSAMLProvidersResult><SAMLProviderList><member>"
                               "<Arn>arn:aws:iam::" ACCT ":saml-provider/okta</Arn>"
                               "<ValidUntil>2032-05-09T16:27:11Z</ValidUntil>"
                               "<CreateDate>2022-05-09T16:27:11Z</CreateDate></member></SAMLProviderList>"
                               "</ListSAMLProvidersResult></ListSAMLProvidersResponse>";
    assert_int_equal(tm__aws_iam_parse_saml(&f->sink, saml, strlen(saml), f->err, sizeof(f->err)), TM_OK);
    const cJSON *s = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":saml-provider/okta");
    assert_string_equal(s_str(s, "name"), "okta");
    assert_string_equal(s_str(s, "attrs.valid_until"), "2032-05-09T16:27:11Z");
}

static const char s_profiles_page1[] =
    "<ListInstanceProfilesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
    "<ListInstanceProfilesResult><IsTruncated>true</IsTruncated><Marker>cGFnZTI=</Marker><InstanceProfiles>"
    "<member><Path>/</Path><InstanceProfileName>web-profile</InstanceProfileName>"
    "<InstanceProfileId>AIPAEXAMPLEWEB000001</InstanceProfileId>"
    "<Arn>arn:aws:iam::" ACCT ":instance-profile/web-profile</Arn><CreateDate>2020-04-07T10:00:00Z</CreateDate>"
    "<Roles><member><Path>/</Path><RoleName>web</RoleName><RoleId>AROAEXAMPLEWEB000001</RoleId>"
    "<Arn>arn:aws:iam::" ACCT ":role/web</Arn><CreateDate>2020-04-07T10:00:00Z</CreateDate></member></Roles>"
    "</member></InstanceProfiles></ListInstanceProfilesResult>"
    "<ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>"
    "</ListInstanceProfilesResponse>";

static const char s_profiles_page2[] =
    "<ListInstanceProfilesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
    "<ListInstanceProfilesResult><IsTruncated>false</IsTruncated><InstanceProfiles>"
    "<member><Path>/batch/</Path><InstanceProfileName>legacy-\xc3\xa9t\xc3\xa9</InstanceProfileName>"
    "<InstanceProfileId>AIPAEXAMPLEBATCH0001</InstanceProfileId>"
    "<Arn>arn:aws:iam::" ACCT ":instance-profile/batch/legacy-\xc3\xa9t\xc3\xa9</Arn>"
    "<CreateDate>2019-11-04T09:30:00Z</CreateDate><Roles/></member></InstanceProfiles>"
    "</ListInstanceProfilesResult></ListInstanceProfilesResponse>";

/* ListInstanceProfiles adds the profiles no role names (GetAccountAuthorizationDetails lists a profile
 * only under its role); a profile both name is recorded once. */
static void test_instance_profiles(void **state) {
    struct fixture *f = *state;
    s_gaad(f);
    char *marker = NULL;
    assert_int_equal(tm__aws_iam_parse_instance_profiles(&f->d, s_profiles_page1, strlen(s_profiles_page1), &marker,
                                                         f->err, sizeof(f->err)),
                     TM_OK);
    assert_string_equal(marker, "cGFnZTI=");
    free(marker);
    assert_int_equal(tm__aws_iam_parse_instance_profiles(&f->d, s_profiles_page2, strlen(s_profiles_page2), &marker,
                                                         f->err, sizeof(f->err)),
                     TM_OK);
    assert_null(marker);
    assert_int_equal(cJSON_GetArraySize(f->d.profiles), 2);
    assert_int_equal(tm__aws_iam_emit(&f->sink, &f->d, NULL, NULL), TM_OK);
    assert_int_equal(tm_snapshot_count(f->snap), 7); /* user, 2 groups, 2 roles, 2 profiles */
    const cJSON *ip =
        tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":instance-profile/batch/legacy-\xc3\xa9t\xc3\xa9");
    assert_non_null(ip);
    assert_string_equal(s_str(ip, "type"), "aws:iam:instance-profile");
    assert_string_equal(s_str(ip, "name"), "legacy-\xc3\xa9t\xc3\xa9");
    assert_int_equal(cJSON_GetArraySize(s_get(ip, "attrs.roles")), 0);
    assert_int_equal(cJSON_GetArraySize(s_get(ip, "links")), 0);
    const cJSON *web = tm_snapshot_find(f->snap, "arn:aws:iam::" ACCT ":instance-profile/web-profile");
    assert_string_equal(s_str(web, "attrs.roles.0"), "arn:aws:iam::" ACCT ":role/web");

    /* Truncated, IsTruncated without a Marker, a profile without an Arn, another operation's answer. */
    assert_int_equal(tm__aws_iam_parse_instance_profiles(&f->d, s_profiles_page1, strlen(s_profiles_page1) / 2, &marker,
                                                         f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    static const char endless[] = "<ListInstanceProfilesResponse><ListInstanceProfilesResult><InstanceProfiles/>"
                                  "<IsTruncated>true</IsTruncated></ListInstanceProfilesResult>"
                                  "</ListInstanceProfilesResponse>";
    assert_int_equal(
        tm__aws_iam_parse_instance_profiles(&f->d, endless, strlen(endless), &marker, f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    assert_non_null(strstr(f->err, "Marker"));
    static const char no_arn[] = "<ListInstanceProfilesResponse><ListInstanceProfilesResult><InstanceProfiles>"
                                 "<member><InstanceProfileName>x</InstanceProfileName><Roles/></member>"
                                 "</InstanceProfiles><IsTruncated>false</IsTruncated></ListInstanceProfilesResult>"
                                 "</ListInstanceProfilesResponse>";
    assert_int_equal(
        tm__aws_iam_parse_instance_profiles(&f->d, no_arn, strlen(no_arn), &marker, f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    assert_non_null(strstr(f->err, "ListInstanceProfiles"));
    assert_int_equal(
        tm__aws_iam_parse_instance_profiles(&f->d, s_list_roles, strlen(s_list_roles), &marker, f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    assert_null(marker);
}

/* The demo account through the scan: every IAM listing asks for its largest page (the fixtures answer
 * only MaxItems=1000), and the profile whose role was deleted is recorded. */
static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"iam"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 1, &unmatched, &calls);
    assert_int_equal(cJSON_GetArraySize(unmatched), 0);
    assert_int_equal(tm_test_aws_count_calls(calls, "GetAccountAuthorizationDetails"), 2);
    assert_int_equal(tm_test_aws_count_calls(calls, "ListRoles"), 1);
    assert_int_equal(tm_test_aws_count_calls(calls, "ListInstanceProfiles"), 1);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:iam:instance-profile"), 3);
    tm_test_aws_expect(snap, "arn:aws:iam::111122223333:instance-profile/legacy-batch-profile", "attrs|roles", "[]");
    tm_test_aws_expect(snap, "arn:aws:iam::111122223333:instance-profile/web-instance-profile", "attrs|roles",
                       "[\"arn:aws:iam::111122223333:role/web-instance-role\"]");
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

static void test_adversarial_answers(void **state) {
    struct fixture *f = *state;
    char *marker = NULL;
    /* Truncated in the middle of a document. */
    size_t half = strlen(s_page2) / 2;
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_page2, half, &marker, f->err, sizeof(f->err)), TM_ERR_PARSE);
    assert_null(marker);
    /* IsTruncated without a Marker would page forever. */
    static const char endless[] = "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
                                  "<IsTruncated>true</IsTruncated></GetAccountAuthorizationDetailsResult>"
                                  "</GetAccountAuthorizationDetailsResponse>";
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, endless, strlen(endless), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    assert_non_null(strstr(f->err, "Marker"));
    /* Another operation's answer. */
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, s_list_roles, strlen(s_list_roles), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    /* A policy that is not URL-encoded JSON, a badly encoded one, a non-object. */
    const char *bad_docs[] = {"not-json", "%7B%22a", "%ZZ", "%5B1%5D"};
    for (size_t i = 0; i < 4; i++) {
        char body[2048];
        snprintf(body, sizeof(body),
                 "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
                 "<IsTruncated>false</IsTruncated><RoleDetailList><member><RoleName>r</RoleName>"
                 "<Arn>arn:aws:iam::" ACCT ":role/r</Arn><AssumeRolePolicyDocument>%s</AssumeRolePolicyDocument>"
                 "</member></RoleDetailList></GetAccountAuthorizationDetailsResult>"
                 "</GetAccountAuthorizationDetailsResponse>",
                 bad_docs[i]);
        assert_int_equal(tm__aws_iam_parse_gaad(&f->d, body, strlen(body), &marker, f->err, sizeof(f->err)),
                         TM_ERR_PARSE);
        assert_non_null(strstr(f->err, "AssumeRolePolicyDocument"));
    }
    /* A user without an Arn; a role name in Unicode is fine. */
    static const char no_arn[] = "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
                                 "<UserDetailList><member><UserName>x</UserName></member></UserDetailList>"
                                 "</GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>";
    assert_int_equal(tm__aws_iam_parse_gaad(&f->d, no_arn, strlen(no_arn), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    static const char policy_no_default[] =
        "<GetAccountAuthorizationDetailsResponse><GetAccountAuthorizationDetailsResult>"
        "<Policies><member><PolicyName>p</PolicyName><Arn>arn:aws:iam::" ACCT ":policy/p</Arn>"
        "<DefaultVersionId>v9</DefaultVersionId><PolicyVersionList><member><Document>" DOC_ADMIN "</Document>"
        "<VersionId>v1</VersionId><IsDefaultVersion>false</IsDefaultVersion></member></PolicyVersionList>"
        "</member></Policies></GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>";
    assert_int_equal(
        tm__aws_iam_parse_gaad(&f->d, policy_no_default, strlen(policy_no_default), &marker, f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    static const char roles_bad[] = "<ListRolesResponse><ListRolesResult><Roles><member><Arn>arn:aws:iam::" ACCT
                                    ":role/r</Arn><MaxSessionDuration>12h</MaxSessionDuration></member></Roles>"
                                    "</ListRolesResult></ListRolesResponse>";
    assert_int_equal(tm__aws_iam_parse_list_roles(&f->d, roles_bad, strlen(roles_bad), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    char *v = NULL;
    static const char gp[] = "<GetPolicyResponse><GetPolicyResult><Policy><DefaultVersionId></DefaultVersionId>"
                             "</Policy></GetPolicyResult></GetPolicyResponse>";
    assert_int_equal(tm__aws_iam_parse_get_policy(&v, gp, strlen(gp), f->err, sizeof(f->err)), TM_ERR_PARSE);
    assert_null(v);
    static const char saml_bad[] = "<ListSAMLProvidersResponse><ListSAMLProvidersResult><SAMLProviderList><member>"
                                   "<Arn>arn:aws:iam::" ACCT ":saml-provider/</Arn></member></SAMLProviderList>"
                                   "</ListSAMLProvidersResult></ListSAMLProvidersResponse>";
    assert_int_equal(tm__aws_iam_parse_saml(&f->sink, saml_bad, strlen(saml_bad), f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gaad_pages_accumulate_and_emit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_partial_listing_marks_unknown, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_document_without_error_is_recorded, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_access_keys_and_last_used, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_alias_oidc_saml, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_instance_profiles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_adversarial_answers, s_setup, s_teardown),
        cmocka_unit_test(test_demo_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
