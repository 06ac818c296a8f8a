/* The scan engine end to end on a fake transport: bootstrap, fan-out over services and regions,
 * pagination, failures recorded as errors and unknown facts, concurrency, determinism. */
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
#include "core/str.h"
#include "providers/aws/aws.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fake.h"

#define ACCT "111122223333"
#define IAMNS "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\""
#define EC2NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""
#define RDSNS "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\""
#define TRUST                                                                                                          \
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B" \
    "%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"

static const char s_caller[] = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                               "<GetCallerIdentityResult><Arn>arn:aws:sts::" ACCT
                               ":assumed-role/audit/tmscan</Arn><UserId>AROAEXAMPLE:tmscan</UserId>"
                               "<Account>" ACCT "</Account></GetCallerIdentityResult>"
                               "</GetCallerIdentityResponse>";

static const char s_regions[] =
    "<DescribeRegionsResponse " EC2NS "><requestId>r</requestId><regionInfo>"
    "<item><regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>"
    "<item><regionName>eu-west-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>"
    "</regionInfo></DescribeRegionsResponse>";

static const char s_gaad1[] =
    "<GetAccountAuthorizationDetailsResponse " IAMNS "><GetAccountAuthorizationDetailsResult>"
    "<IsTruncated>true</IsTruncated><Marker>page+2/=</Marker>"
    "<UserDetailList><member><UserName>alice</UserName><UserId>AIDAALICE</UserId><Path>/</Path>"
    "<Arn>arn:aws:iam::" ACCT ":user/alice</Arn><GroupList/><AttachedManagedPolicies/><UserPolicyList/></member>"
    "</UserDetailList><GroupDetailList/><RoleDetailList/><Policies/>"
    "</GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>";

static const char s_gaad2[] =
    "<GetAccountAuthorizationDetailsResponse " IAMNS "><GetAccountAuthorizationDetailsResult>"
    "<IsTruncated>false</IsTruncated><UserDetailList/><GroupDetailList/><RoleDetailList>"
    "<member><RoleName>web</RoleName><RoleId>AROAWEB</RoleId><Path>/</Path><Arn>arn:aws:iam::" ACCT ":role/web</Arn>"
    "<AssumeRolePolicyDocument>" TRUST "</AssumeRolePolicyDocument><RolePolicyList/>"
    "<AttachedManagedPolicies><member><PolicyName>ReadOnlyAccess</PolicyName>"
    "<PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member></AttachedManagedPolicies>"
    "<InstanceProfileList><member><InstanceProfileName>web</InstanceProfileName><Path>/</Path>"
    "<Arn>arn:aws:iam::" ACCT ":instance-profile/web</Arn><Roles><member><Arn>arn:aws:iam::" ACCT
    ":role/web</Arn></member></Roles></member></InstanceProfileList><RoleLastUsed/></member>"
    "</RoleDetailList><Policies/></GetAccountAuthorizationDetailsResult></GetAccountAuthorizationDetailsResponse>";

static const char s_get_policy[] =
    "<GetPolicyResponse " IAMNS "><GetPolicyResult><Policy><PolicyName>ReadOnlyAccess</PolicyName>"
    "<DefaultVersionId>v117</DefaultVersionId><Arn>arn:aws:iam::aws:policy/ReadOnlyAccess</Arn></Policy>"
    "</GetPolicyResult></GetPolicyResponse>";

static const char s_get_policy_version[] =
    "<GetPolicyVersionResponse " IAMNS "><GetPolicyVersionResult><PolicyVersion>"
    "<Document>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action"
    "%22%3A%22s3%3AGet%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D</Document><VersionId>v117</VersionId>"
    "<IsDefaultVersion>true</IsDefaultVersion></PolicyVersion></GetPolicyVersionResult></GetPolicyVersionResponse>";

/* An empty page: the listing adds nothing to what the authorization details name. */
static const char s_profiles[] = "<ListInstanceProfilesResponse " IAMNS "><ListInstanceProfilesResult>"
                                 "<IsTruncated>false</IsTruncated><InstanceProfiles/></ListInstanceProfilesResult>"
                                 "</ListInstanceProfilesResponse>";
static const char s_roles[] = "<ListRolesResponse " IAMNS "><ListRolesResult><IsTruncated>false</IsTruncated><Roles>"
                              "<member><RoleName>web</RoleName><Arn>arn:aws:iam::" ACCT ":role/web</Arn>"
                              "<MaxSessionDuration>3600</MaxSessionDuration></member></Roles></ListRolesResult>"
                              "</ListRolesResponse>";

static const char s_keys[] = "<ListAccessKeysResponse " IAMNS "><ListAccessKeysResult><AccessKeyMetadata>"
                             "<member><UserName>alice</UserName><AccessKeyId>AKIAALICE0000000002</AccessKeyId>"
                             "<Status>Active</Status><CreateDate>2023-01-01T00:00:00Z</CreateDate></member>"
                             "<member><UserName>alice</UserName><AccessKeyId>AKIAALICE0000000001</AccessKeyId>"
                             "<Status>Inactive</Status><CreateDate>2021-01-01T00:00:00Z</CreateDate></member>"
                             "</AccessKeyMetadata><IsTruncated>false</IsTruncated></ListAccessKeysResult>"
                             "</ListAccessKeysResponse>";

static const char s_last_used[] = "<GetAccessKeyLastUsedResponse " IAMNS "><GetAccessKeyLastUsedResult>"
                                  "<AccessKeyLastUsed><LastUsedDate>2024-01-02T03:04:05Z</LastUsedDate>"
                                  "<ServiceName>s3</ServiceName><Region>eu-west-1</Region></AccessKeyLastUsed>"
                                  "<UserName>alice</UserName></GetAccessKeyLastUsedResult>"
                                  "</GetAccessKeyLastUsedResponse>";

static const char s_aliases[] = "<ListAccountAliasesResponse " IAMNS "><ListAccountAliasesResult>"
                                "<IsTruncated>false</IsTruncated><AccountAliases><member>acme</member>"
                                "</AccountAliases></ListAccountAliasesResult></ListAccountAliasesResponse>";

static const char s_oidc[] = "<ListOpenIDConnectProvidersResponse " IAMNS "><ListOpenIDConnectProvidersResult>"
                             "<OpenIDConnectProviderList/></ListOpenIDConnectProvidersResult>"
                             "</ListOpenIDConnectProvidersResponse>";

static const char s_saml[] = "<ListSAMLProvidersResponse " IAMNS "><ListSAMLProvidersResult><SAMLProviderList/>"
                             "</ListSAMLProvidersResult></ListSAMLProvidersResponse>";

static const char s_org[] =
    "{\"Organization\":{\"Id\":\"o-abc\",\"Arn\":\"arn:aws:organizations::444455556666:organization/o-abc\","
    "\"FeatureSet\":\"ALL\",\"MasterAccountId\":\"444455556666\","
    "\"AvailablePolicyTypes\":[{\"Type\":\"SERVICE_CONTROL_POLICY\",\"Status\":\"ENABLED\"}]}}";
static const char s_accounts_p1[] = "{\"Accounts\":[{\"Id\":\"" ACCT "\",\"Status\":\"ACTIVE\"},"
                                    "{\"Id\":\"444455556666\",\"Status\":\"ACTIVE\"}],\"NextToken\":\"acc2\"}";
static const char s_accounts_p2[] = "{\"Accounts\":[{\"Id\":\"222233334444\",\"Status\":\"SUSPENDED\"}]}";
static const char s_parent_ou[] = "{\"Parents\":[{\"Id\":\"ou-ab-12345678\",\"Type\":\"ORGANIZATIONAL_UNIT\"}]}";
static const char s_parent_root[] = "{\"Parents\":[{\"Id\":\"r-ab\",\"Type\":\"ROOT\"}]}";
static const char s_pols_account[] = "{\"Policies\":[]}";
static const char s_pols_ou[] = "{\"Policies\":[{\"Id\":\"p-deny\",\"Name\":\"DenyLeave\",\"Arn\":\"arn:p-deny\"},"
                                "{\"Id\":\"p-FullAWSAccess\",\"Name\":\"FullAWSAccess\",\"Arn\":\"arn:p-full\"}]}";
static const char s_pols_root[] =
    "{\"Policies\":[{\"Id\":\"p-FullAWSAccess\",\"Name\":\"FullAWSAccess\",\"Arn\":\"arn:p-full\"}]}";
static const char s_pol_deny[] = "{\"Policy\":{\"Content\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":"
                                 "{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"organizations:LeaveOrganization\\\","
                                 "\\\"Resource\\\":\\\"*\\\"}}\"}}";
static const char s_pol_full[] =
    "{\"Policy\":{\"Content\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":"
    "{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\"}}\"}}";

static const char s_instances_p1[] =
    "<DescribeInstancesResponse " EC2NS "><reservationSet><item><ownerId>" ACCT "</ownerId><instancesSet><item>"
    "<instanceId>i-0aaa</instanceId><instanceState><name>running</name></instanceState>"
    "<ipAddress>203.0.113.10</ipAddress><iamInstanceProfile><arn>arn:aws:iam::" ACCT
    ":instance-profile/web</arn></iamInstanceProfile><groupSet/><metadataOptions><httpTokens>optional</httpTokens>"
    "<httpEndpoint>enabled</httpEndpoint><httpPutResponseHopLimit>1</httpPutResponseHopLimit></metadataOptions>"
    "</item></instancesSet></item></reservationSet><nextToken>tok2</nextToken></DescribeInstancesResponse>";
static const char s_instances_p2[] =
    "<DescribeInstancesResponse " EC2NS "><reservationSet><item><instancesSet><item>"
    "<instanceId>i-0bbb</instanceId><instanceState><name>stopped</name></instanceState><groupSet/>"
    "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>";
static const char s_no_instances[] =
    "<DescribeInstancesResponse " EC2NS "><reservationSet/></DescribeInstancesResponse>";
static const char s_no_groups[] =
    "<DescribeSecurityGroupsResponse " EC2NS "><securityGroupInfo/></DescribeSecurityGroupsResponse>";
static const char s_no_enis[] =
    "<DescribeNetworkInterfacesResponse " EC2NS "><networkInterfaceSet/></DescribeNetworkInterfacesResponse>";
static const char s_snapshots[] =
    "<DescribeSnapshotsResponse " EC2NS "><snapshotSet><item><snapshotId>snap-0aaa</snapshotId>"
    "<volumeId>vol-1</volumeId><encrypted>false</encrypted></item></snapshotSet></DescribeSnapshotsResponse>";
static const char s_no_snapshots[] = "<DescribeSnapshotsResponse " EC2NS "><snapshotSet/></DescribeSnapshotsResponse>";
static const char s_snap_public[] = "<DescribeSnapshotAttributeResponse " EC2NS "><snapshotId>snap-0aaa</snapshotId>"
                                    "<createVolumePermission><item><group>all</group></item></createVolumePermission>"
                                    "</DescribeSnapshotAttributeResponse>";
static const char s_no_images[] = "<DescribeImagesResponse " EC2NS "><imagesSet/></DescribeImagesResponse>";
static const char s_no_dbs[] = "<DescribeDBInstancesResponse " RDSNS "><DescribeDBInstancesResult><DBInstances/>"
                               "</DescribeDBInstancesResult></DescribeDBInstancesResponse>";
static const char s_no_db_snaps[] = "<DescribeDBSnapshotsResponse " RDSNS "><DescribeDBSnapshotsResult><DBSnapshots/>"
                                    "</DescribeDBSnapshotsResult></DescribeDBSnapshotsResponse>";
static const char s_no_cluster_snaps[] =
    "<DescribeDBClusterSnapshotsResponse " RDSNS "><DescribeDBClusterSnapshotsResult><DBClusterSnapshots/>"
    "</DescribeDBClusterSnapshotsResult></DescribeDBClusterSnapshotsResponse>";

/* The account: answers for every call of a full scan. Specific replies come first. */
static const struct tm_test_aws_reply s_account[] = {
    {"GetCallerIdentity", NULL, NULL, 0, NULL, s_caller, 0, NULL},
    {"DescribeRegions", NULL, NULL, 0, NULL, s_regions, 0, NULL},
    {"GetAccountAuthorizationDetails", "Marker=page+2/=", NULL, 0, NULL, s_gaad2, 0, NULL},
    {"GetAccountAuthorizationDetails", NULL, NULL, 0, NULL, s_gaad1, 2, NULL},
    {"ListRoles", NULL, NULL, 0, NULL, s_roles, 0, NULL},
    {"ListInstanceProfiles", NULL, NULL, 0, NULL, s_profiles, 0, NULL},
    {"GetPolicy", "PolicyArn=arn:aws:iam::aws:policy/ReadOnlyAccess", NULL, 0, NULL, s_get_policy, 0, NULL},
    {"GetPolicyVersion", "VersionId=v117", NULL, 0, NULL, s_get_policy_version, 0, NULL},
    {"ListAccessKeys", "UserName=alice", NULL, 0, NULL, s_keys, 0, NULL},
    {"GetAccessKeyLastUsed", NULL, NULL, 0, NULL, s_last_used, 0, NULL},
    {"ListAccountAliases", NULL, NULL, 0, NULL, s_aliases, 0, NULL},
    {"ListOpenIDConnectProviders", NULL, NULL, 0, NULL, s_oidc, 0, NULL},
    {"ListSAMLProviders", NULL, NULL, 0, NULL, s_saml, 0, NULL},
    {"DescribeOrganization", NULL, NULL, 0, NULL, s_org, 0, NULL},
    {"ListAccounts", "NextToken=acc2", NULL, 0, NULL, s_accounts_p2, 0, NULL},
    {"ListAccounts", NULL, NULL, 0, NULL, s_accounts_p1, 0, NULL},
    {"ListParents", "ChildId=" ACCT, NULL, 0, NULL, s_parent_ou, 0, NULL},
    {"ListParents", "ChildId=ou-ab-12345678", NULL, 0, NULL, s_parent_root, 0, NULL},
    {"ListPoliciesForTarget", "TargetId=" ACCT, NULL, 0, NULL, s_pols_account, 0, NULL},
    {"ListPoliciesForTarget", "TargetId=ou-ab-12345678", NULL, 0, NULL, s_pols_ou, 0, NULL},
    {"ListPoliciesForTarget", "TargetId=r-ab", NULL, 0, NULL, s_pols_root, 0, NULL},
    {"DescribePolicy", "PolicyId=p-deny", NULL, 0, NULL, s_pol_deny, 0, NULL},
    {"DescribePolicy", "PolicyId=p-FullAWSAccess", NULL, 0, NULL, s_pol_full, 0, NULL},
    {"DescribeInstances", "NextToken=tok2", "us-east-1", 0, NULL, s_instances_p2, 0, NULL},
    {"DescribeInstances", NULL, "us-east-1", 0, NULL, s_instances_p1, 0, NULL},
    {"DescribeInstances", NULL, NULL, 0, NULL, s_no_instances, 0, NULL},
    {"DescribeSecurityGroups", NULL, NULL, 0, NULL, s_no_groups, 0, NULL},
    {"DescribeNetworkInterfaces", NULL, NULL, 0, NULL, s_no_enis, 0, NULL},
    {"DescribeSnapshots", NULL, "us-east-1", 0, NULL, s_snapshots, 0, NULL},
    {"DescribeSnapshots", NULL, NULL, 0, NULL, s_no_snapshots, 0, NULL},
    {"DescribeSnapshotAttribute", "SnapshotId=snap-0aaa", NULL, 0, NULL, s_snap_public, 0, NULL},
    {"DescribeImages", NULL, NULL, 0, NULL, s_no_images, 0, NULL},
    {"DescribeDBInstances", NULL, NULL, 0, NULL, s_no_dbs, 0, NULL},
    {"DescribeDBSnapshots", NULL, NULL, 0, NULL, s_no_db_snaps, 0, NULL},
    {"DescribeDBClusterSnapshots", NULL, NULL, 0, NULL, s_no_cluster_snaps, 0, NULL},
};

#define N_ACCOUNT (sizeof(s_account) / sizeof(s_account[0]))

struct run {
    uv_loop_t loop;
    struct tm_test_aws_fake fake;
    struct tm_snapshot *snap;
    struct tm_aws_scan *scan;
    char *text;
    struct tm_test_aws_reply replies[64];
    size_t reply_count;
};

/* A copy of the account with overrides placed first (they win). */
static void s_prepare(struct run *r, const struct tm_test_aws_reply *over, size_t n_over) {
    memset(r, 0, sizeof(*r));
    assert_true(n_over + N_ACCOUNT <= 64);
    if (n_over)
        memcpy(r->replies, over, n_over * sizeof(*over));
    memcpy(r->replies + n_over, s_account, sizeof(s_account));
    r->reply_count = n_over + N_ACCOUNT;
}

static int s_scan(struct run *r, struct tm_aws_scan_options *opts) {
    assert_int_equal(uv_loop_init(&r->loop), 0);
    tm_test_aws_fake_init(&r->fake, &r->loop, r->replies, r->reply_count);
    assert_int_equal(tm_snapshot_new(&r->snap, "aws"), TM_OK);
    char err[256];
    if (!opts->home_region)
        opts->home_region = "us-east-1";
    /* The account above answers these services; the others have their own tests. */
    static const char *const answered[] = {"iam", "organizations", "ec2", "rds"};
    if (!opts->service_count) {
        opts->services = answered;
        opts->service_count = sizeof(answered) / sizeof(answered[0]);
    }
    assert_int_equal(tm_aws_scan_new(&r->scan, opts, &r->fake.base, r->snap, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_aws_scan_start(r->scan), TM_OK);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    assert_true(tm_aws_scan_finished(r->scan));
    assert_int_equal(r->fake.queue.closed, 1);
    assert_int_equal(r->fake.queue.in_flight, 0);
    int status = tm_aws_scan_status(r->scan, err, sizeof(err));
    if (status == TM_OK)
        assert_int_equal(tm_snapshot_serialize(r->snap, &r->text, err, sizeof(err)), TM_OK);
    return status;
}

static void s_finish(struct run *r) {
    tm_aws_scan_destroy(r->scan);
    tm_test_aws_fake_clean_up(&r->fake);
    tm_snapshot_destroy(r->snap);
    free(r->text);
    assert_int_equal(uv_loop_close(&r->loop), 0);
}

static void test_full_scan(void **state) {
    (void)state;
    struct run r;
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options opts = {.concurrency = 4};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    assert_int_equal(tm_snapshot_error_count(r.snap), 0);
    /* account, user, role, instance profile, 2 instances, 1 snapshot */
    struct tm_snapshot *s = r.snap;
    char *scope = cJSON_PrintUnformatted(tm_snapshot_scope(s));
    /* (serialized: keys sorted) */
    assert_string_equal(scope, "{\"accounts\":[\"" ACCT "\"],\"caller\":{\"account\":\"" ACCT
                               "\",\"arn\":\"arn:aws:sts::" ACCT ":assumed-role/audit/tmscan\",\"user_id\":"
                               "\"AROAEXAMPLE:tmscan\"},\"provider\":\"aws\",\"regions\":[\"eu-west-1\","
                               "\"us-east-1\"],\"services\":[\"ec2\",\"iam\",\"organizations\",\"rds\"]}");
    free(scope);
    const char *acct = "arn:aws:iam::" ACCT ":root";
    tm_test_aws_expect(s, acct, "type", "\"aws:account\"");
    tm_test_aws_expect(s, acct, "attrs|alias", "\"acme\"");
    tm_test_aws_expect(s, acct, "attrs|enabled_regions", "[\"eu-west-1\",\"us-east-1\"]");
    tm_test_aws_expect(s, acct, "attrs|organization",
                       "{\"accounts\":[\"" ACCT
                       "\",\"222233334444\",\"444455556666\"],\"arn\":\"arn:aws:organizations::"
                       "444455556666:organization/o-abc\",\"id\":\"o-abc\",\"master_account_id\":\"444455556666\"}");
    /* SCPs from the account up: the OU's two, then the root's; FullAWSAccess described once. */
    tm_test_aws_expect(s, acct, "policies|scps|0|id", "\"p-FullAWSAccess\"");
    tm_test_aws_expect(s, acct, "policies|scps|0|target", "\"ou-ab-12345678\"");
    tm_test_aws_expect(s, acct, "policies|scps|1|id", "\"p-deny\"");
    tm_test_aws_expect(s, acct, "policies|scps|1|name", "\"DenyLeave\"");
    tm_test_aws_expect(s, acct, "policies|scps|1|document|Statement|Effect", "\"Deny\"");
    tm_test_aws_expect(s, acct, "policies|scps|2|target", "\"r-ab\"");
    tm_test_aws_expect(s, acct, "policies|scps|2|document|Statement|Action", "\"*\"");
    tm_test_aws_expect(s, acct, "policies|rcps", "[]");
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "DescribePolicy"), 2);
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "ListPoliciesForTarget"), 3);

    const char *alice = "arn:aws:iam::" ACCT ":user/alice";
    /* Keys sorted by id; last use filled in. */
    tm_test_aws_expect(s, alice, "attrs|access_keys|0|access_key_id", "\"AKIAALICE0000000001\"");
    tm_test_aws_expect(s, alice, "attrs|access_keys|1|status", "\"Active\"");
    tm_test_aws_expect(s, alice, "attrs|access_keys|1|last_used_service", "\"s3\"");
    tm_test_aws_expect(s, alice, "policies|identity", "[]");
    const char *web = "arn:aws:iam::" ACCT ":role/web";
    tm_test_aws_expect(s, web, "attrs|max_session_duration", "3600");
    /* The AWS managed policy was not in the listing: fetched with GetPolicy + GetPolicyVersion. */
    tm_test_aws_expect(s, web, "policies|identity|0|document|Statement|0|Action", "\"s3:Get*\"");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":instance-profile/web", "links|0|to",
                       "\"arn:aws:iam::" ACCT ":role/web\"");
    /* Both pages of instances; only us-east-1 has them. */
    tm_test_aws_expect(s, "arn:aws:ec2:us-east-1:" ACCT ":instance/i-0aaa", "attrs|metadata_options|http_tokens",
                       "\"optional\"");
    tm_test_aws_expect(s, "arn:aws:ec2:us-east-1:" ACCT ":instance/i-0bbb", "attrs|state", "\"stopped\"");
    tm_test_aws_expect(s, "arn:aws:ec2:us-east-1::snapshot/snap-0aaa", "attrs|create_volume_permissions",
                       "[{\"group\":\"all\"}]");
    assert_int_equal(tm_snapshot_count(s), 7);
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "DescribeInstances"), 3); /* 2 pages + eu-west-1 */
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "GetAccountAuthorizationDetails"), 2);
    assert_true(r.fake.queue.max_in_flight <= 4);
    assert_true(r.fake.queue.max_in_flight > 1);

    struct tm_aws_progress p;
    tm_aws_scan_progress(r.scan, &p);
    assert_int_equal(p.units_total, 2 + 2 * 2); /* iam, organizations; ec2 and rds in 2 regions */
    assert_int_equal(p.units_done, p.units_total);
    assert_int_equal(p.requests, r.fake.sent);
    assert_int_equal(p.retries, 1); /* the first GAAD page took 2 attempts */
    assert_int_equal(p.errors, 0);
    s_finish(&r);
}

static void test_deterministic_across_concurrency(void **state) {
    (void)state;
    char *texts[3];
    int conc[3] = {1, 3, 64};
    for (int i = 0; i < 3; i++) {
        struct run r;
        s_prepare(&r, NULL, 0);
        struct tm_aws_scan_options opts = {.concurrency = conc[i]};
        assert_int_equal(s_scan(&r, &opts), TM_OK);
        assert_true(r.fake.queue.max_in_flight <= (size_t)conc[i]);
        texts[i] = r.text;
        r.text = NULL;
        s_finish(&r);
    }
    assert_string_equal(texts[0], texts[1]);
    assert_string_equal(texts[0], texts[2]);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
}

/* The log line of the n-th call the fake received. */
static const char *s_logged(const struct run *r, int n) {
    const cJSON *line = cJSON_GetArrayItem(r->fake.log, n);
    return line ? line->valuestring : "";
}

/* One call at a time: the next page of a listing goes before every first page and per-resource call
 * queued before it, so the chain it opens is not held up (the scan's queue is not first in, first out). */
static void test_next_page_goes_first(void **state) {
    (void)state;
    struct run r;
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options opts = {.concurrency = 1};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    int n = cJSON_GetArraySize(r.fake.log), first = -1, queued_after = 0;
    for (int i = 0; i < n && first < 0; i++)
        if (tm_str_starts_with(s_logged(&r, i), "iam GetAccountAuthorizationDetails "))
            first = i;
    assert_true(first >= 0);
    assert_null(strstr(s_logged(&r, first), "Marker="));
    assert_true(tm_str_starts_with(s_logged(&r, first + 1), "iam GetAccountAuthorizationDetails "));
    assert_non_null(strstr(s_logged(&r, first + 1), "Marker=page+2/="));
    /* Other first pages were waiting when it went: in arrival order it would have come after them. */
    for (int i = first + 2; i < n; i++)
        queued_after +=
            tm_str_starts_with(s_logged(&r, i), "ec2 DescribeInstances ") && !strstr(s_logged(&r, i), "NextToken");
    assert_true(queued_after > 0);
    /* The pages of the instances' listing too: each directly after the page that named it. */
    for (int i = 0; i + 1 < n; i++)
        if (strstr(s_logged(&r, i + 1), "DescribeInstances") && strstr(s_logged(&r, i + 1), "NextToken="))
            assert_true(tm_str_starts_with(s_logged(&r, i), "ec2 DescribeInstances us-east-1"));
    s_finish(&r);
}

/* A transport that schedules its own calls gets more than `concurrency` of them at once. */
static void test_window_hands_over_more_calls(void **state) {
    (void)state;
    struct run r;
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options opts = {.concurrency = 1, .window = TM_AWS_ENGINE_WINDOW_PER_SLOT};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    assert_true(r.fake.queue.max_in_flight > 4);
    char *wide = r.text;
    r.text = NULL;
    s_finish(&r);
    /* The same snapshot as one call at a time. */
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options one = {.concurrency = 1};
    assert_int_equal(s_scan(&r, &one), TM_OK);
    assert_int_equal(r.fake.queue.max_in_flight, 1);
    assert_string_equal(wide, r.text);
    free(wide);
    s_finish(&r);
}

static void test_failures_become_errors_and_unknowns(void **state) {
    (void)state;
    static const struct tm_test_aws_reply over[] = {
        {"ListAccessKeys", NULL, NULL, 403, "AccessDenied", "", 0, NULL},
        {"ListRoles", NULL, NULL, 400, "Throttling", "", 5, NULL},
        {"ListParents", "ChildId=ou-ab-12345678", NULL, 400, "AccessDeniedException", "", 0, NULL},
        {"ListAccounts", NULL, NULL, 400, "AccessDeniedException", "", 0, NULL},
        {"DescribeSnapshotAttribute", NULL, NULL, 403, "UnauthorizedOperation", "", 0, NULL},
        {"DescribeInstances", NULL, "eu-west-1", 401, "AuthFailure", "", 0, NULL},
        /* Not the document the operation returns. */
        {"ListAccountAliases", NULL, NULL, 200, NULL, "<html>captive portal</html>", 0, NULL},
    };
    struct run r;
    s_prepare(&r, over, sizeof(over) / sizeof(over[0]));
    struct tm_aws_scan_options opts = {0};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    struct tm_snapshot *s = r.snap;
    assert_int_equal(tm_snapshot_error_count(s), 7);
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":root", "attrs|organization|id", "\"o-abc\"");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":root", "attrs|organization|accounts|$unknown|operation",
                       "\"ListAccounts\"");
    const char *acct = "arn:aws:iam::" ACCT ":root";
    tm_test_aws_expect(s, acct, "attrs|alias|$unknown|code", "\"MalformedResponse\"");
    tm_test_aws_expect(s, acct, "policies|scps|$unknown|code", "\"AccessDeniedException\"");
    /* RCPs were not asked (the organization lists SCPs only): known empty, not unknown. */
    tm_test_aws_expect(s, acct, "policies|rcps", "[]");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":user/alice", "attrs|access_keys|$unknown|code", "\"AccessDenied\"");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":user/alice", "attrs|access_keys|$unknown|resource",
                       "\"arn:aws:iam::" ACCT ":user/alice\"");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":role/web", "attrs|max_session_duration|$unknown|attempts", "5");
    tm_test_aws_expect(s, "arn:aws:iam::" ACCT ":role/web", "attrs|max_session_duration|$unknown|retried", "true");
    tm_test_aws_expect(s, "arn:aws:ec2:us-east-1::snapshot/snap-0aaa", "attrs|create_volume_permissions|$unknown|code",
                       "\"UnauthorizedOperation\"");
    /* Errors carry the API, the region (or global) and the resource. */
    char *errs = cJSON_PrintUnformatted(tm_snapshot_errors(s));
    assert_non_null(strstr(errs, "{\"attempts\":1,\"code\":\"AuthFailure\",\"message\":\"fake error\","
                                 "\"operation\":\"DescribeInstances\",\"region\":\"eu-west-1\",\"retried\":false,"
                                 "\"service\":\"ec2\"}"));
    assert_non_null(strstr(errs, "\"operation\":\"ListRoles\",\"region\":\"global\",\"retried\":true,"
                                 "\"service\":\"iam\"}"));
    assert_non_null(strstr(errs, "\"resource\":\"arn:aws:ec2:us-east-1::snapshot/snap-0aaa\""));
    free(errs);
    struct tm_aws_progress p;
    tm_aws_scan_progress(r.scan, &p);
    assert_int_equal(p.errors, 7);
    assert_int_equal(p.retries, 1 + 4);
    s_finish(&r);
}

static void test_not_in_an_organization(void **state) {
    (void)state;
    static const struct tm_test_aws_reply over[] = {
        {"DescribeOrganization", NULL, NULL, 400, "AWSOrganizationsNotInUseException", "", 0, NULL},
    };
    struct run r;
    s_prepare(&r, over, 1);
    struct tm_aws_scan_options opts = {.services = (const char *[]){"organizations"}, .service_count = 1};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    assert_int_equal(tm_snapshot_error_count(r.snap), 0);
    const char *acct = "arn:aws:iam::" ACCT ":root";
    tm_test_aws_expect(r.snap, acct, "attrs|organization", "null");
    tm_test_aws_expect(r.snap, acct, "policies|scps", "[]");
    tm_test_aws_expect(r.snap, acct, "policies|rcps", "[]");
    /* Only organizations was scanned: no IAM fact is claimed either way. */
    tm_test_aws_expect(r.snap, acct, "attrs|alias", "(absent)");
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "ListParents"), 0);
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "GetAccountAuthorizationDetails"), 0);
    s_finish(&r);
}

static void test_member_account_denied(void **state) {
    (void)state;
    static const struct tm_test_aws_reply over[] = {
        {"DescribeOrganization", NULL, NULL, 400, "AccessDeniedException", "", 0, NULL},
    };
    struct run r;
    s_prepare(&r, over, 1);
    struct tm_aws_scan_options opts = {.services = (const char *[]){"organizations"}, .service_count = 1};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    assert_int_equal(tm_snapshot_error_count(r.snap), 1);
    const char *acct = "arn:aws:iam::" ACCT ":root";
    tm_test_aws_expect(r.snap, acct, "attrs|organization|$unknown|code", "\"AccessDeniedException\"");
    tm_test_aws_expect(r.snap, acct, "policies|scps|$unknown|code", "\"AccessDeniedException\"");
    tm_test_aws_expect(r.snap, acct, "policies|rcps|$unknown|code", "\"AccessDeniedException\"");
    s_finish(&r);
}

static void test_regions_asked_and_regions_unknown(void **state) {
    (void)state;
    /* --regions narrows; the enabled list is still recorded. */
    struct run r;
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options opts = {.regions = (const char *[]){"eu-west-1", "eu-west-1"},
                                       .region_count = 2,
                                       .services = (const char *[]){"ec2"},
                                       .service_count = 1};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    char *scope = cJSON_PrintUnformatted(cJSON_GetObjectItem(tm_snapshot_scope(r.snap), "regions"));
    assert_string_equal(scope, "[\"eu-west-1\"]");
    free(scope);
    assert_int_equal(tm_test_aws_fake_count(&r.fake, "DescribeInstances"), 1);
    s_finish(&r);

    /* DescribeRegions denied: the home region only, enabled_regions unknown. */
    static const struct tm_test_aws_reply over[] = {
        {"DescribeRegions", NULL, NULL, 403, "UnauthorizedOperation", "", 0, NULL},
    };
    s_prepare(&r, over, 1);
    struct tm_aws_scan_options o2 = {
        .services = (const char *[]){"ec2"}, .service_count = 1, .home_region = "eu-west-1"};
    assert_int_equal(s_scan(&r, &o2), TM_OK);
    tm_test_aws_expect(r.snap, "arn:aws:iam::" ACCT ":root", "attrs|enabled_regions|$unknown|code",
                       "\"UnauthorizedOperation\"");
    scope = cJSON_PrintUnformatted(cJSON_GetObjectItem(tm_snapshot_scope(r.snap), "regions"));
    assert_string_equal(scope, "[\"eu-west-1\"]");
    free(scope);
    s_finish(&r);
}

static void test_caller_unknown_ends_the_scan(void **state) {
    (void)state;
    static const struct tm_test_aws_reply over[] = {
        {"GetCallerIdentity", NULL, NULL, 403, "InvalidClientTokenId", "", 0, NULL},
    };
    struct run r;
    s_prepare(&r, over, 1);
    struct tm_aws_scan_options opts = {0};
    assert_int_equal(s_scan(&r, &opts), TM_OK);
    assert_int_equal(r.fake.sent, 1);
    assert_int_equal(tm_snapshot_count(r.snap), 0);
    assert_int_equal(tm_snapshot_error_count(r.snap), 1);
    assert_true(tm_snapshot_is_unknown(cJSON_GetObjectItem(tm_snapshot_scope(r.snap), "caller")));
    s_finish(&r);
}

static void test_refused_send_is_recorded(void **state) {
    (void)state;
    struct run r;
    s_prepare(&r, NULL, 0);
    struct tm_aws_scan_options opts = {.services = (const char *[]){"rds"}, .service_count = 1};
    assert_int_equal(uv_loop_init(&r.loop), 0);
    tm_test_aws_fake_init(&r.fake, &r.loop, r.replies, r.reply_count);
    r.fake.refuse = "DescribeDBSnapshots";
    assert_int_equal(tm_snapshot_new(&r.snap, "aws"), TM_OK);
    char err[256];
    opts.home_region = "us-east-1";
    assert_int_equal(tm_aws_scan_new(&r.scan, &opts, &r.fake.base, r.snap, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_aws_scan_start(r.scan), TM_OK);
    assert_int_equal(uv_run(&r.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(tm_aws_scan_status(r.scan, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_error_count(r.snap), 2); /* one per region */
    char *errs = cJSON_PrintUnformatted(tm_snapshot_errors(r.snap));
    assert_non_null(strstr(errs, "\"code\":\"ReadOnlyRefused\""));
    free(errs);
    s_finish(&r);
}

static void test_options_are_checked(void **state) {
    (void)state;
    struct tm_snapshot *snap = NULL;
    assert_int_equal(tm_snapshot_new(&snap, "aws"), TM_OK);
    struct tm_aws_scan *scan = NULL;
    char err[256];
    struct tm_aws_transport t = {0};
    struct tm_aws_scan_options bad_svc = {
        .home_region = "us-east-1", .services = (const char *[]){"s4"}, .service_count = 1};
    assert_int_equal(tm_aws_scan_new(&scan, &bad_svc, &t, snap, err, sizeof(err)), TM_ERR_INVALID);
    assert_string_equal(err, "unknown service 's4'");
    struct tm_aws_scan_options acct = {
        .home_region = "us-east-1", .services = (const char *[]){"account"}, .service_count = 1};
    assert_int_equal(tm_aws_scan_new(&scan, &acct, &t, snap, err, sizeof(err)), TM_ERR_INVALID);
    const char *bad_regions[] = {"",           "us-east",    "US-EAST-1", "us--east-1",
                                 "-us-east-1", "us-east-1a", "us_east_1", "eu-west-1/../x"};
    for (size_t i = 0; i < sizeof(bad_regions) / sizeof(bad_regions[0]); i++) {
        struct tm_aws_scan_options o = {.home_region = "us-east-1", .regions = &bad_regions[i], .region_count = 1};
        assert_int_equal(tm_aws_scan_new(&scan, &o, &t, snap, err, sizeof(err)), TM_ERR_INVALID);
        assert_false(tm_aws_scan_region_valid(bad_regions[i]));
    }
    assert_true(tm_aws_scan_region_valid("us-gov-west-1"));
    assert_true(tm_aws_scan_region_valid("ap-southeast-4"));
    assert_string_equal(tm_aws_scan_partition_of("cn-north-1"), "aws-cn");
    assert_string_equal(tm_aws_scan_partition_of("us-gov-east-1"), "aws-us-gov");
    assert_string_equal(tm_aws_scan_partition_of("eu-west-1"), "aws");
    assert_null(scan);
    tm_snapshot_destroy(snap);
}

static void test_every_operation_is_declared_once(void **state) {
    (void)state;
    /* The service tables are what the IAM policy test reads: no duplicates, every action Service:Op. */
    size_t n = 0;
    for (const struct tm_aws_service *const *s = tm_aws_scan_services(); *s; s++) {
        for (const struct tm_aws_operation *op = (*s)->operations; op->name; op++, n++) {
            assert_non_null(op->api);
            for (const struct tm_aws_operation *o2 = op + 1; o2->name; o2++)
                assert_false(o2->api == op->api && strcmp(o2->name, op->name) == 0);
            if (op->iam_action)
                assert_non_null(strchr(op->iam_action, ':'));
        }
        if ((*s)->start)
            assert_ptr_equal(tm_aws_scan_service_find((*s)->name), *s);
    }
    assert_true(n >= 20);
    assert_null(tm_aws_scan_service_find("account"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_scan),
        cmocka_unit_test(test_deterministic_across_concurrency),
        cmocka_unit_test(test_next_page_goes_first),
        cmocka_unit_test(test_window_hands_over_more_calls),
        cmocka_unit_test(test_failures_become_errors_and_unknowns),
        cmocka_unit_test(test_not_in_an_organization),
        cmocka_unit_test(test_member_account_denied),
        cmocka_unit_test(test_regions_asked_and_regions_unknown),
        cmocka_unit_test(test_caller_unknown_ends_the_scan),
        cmocka_unit_test(test_refused_send_is_recorded),
        cmocka_unit_test(test_options_are_checked),
        cmocka_unit_test(test_every_operation_is_declared_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
