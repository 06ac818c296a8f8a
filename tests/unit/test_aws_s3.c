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
#include "providers/aws/facts.h"
#include "providers/aws/s3.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"
#include "tests/support/aws_parse.h"

/* Answers as S3 and S3 Control send them (REST-XML with the 2006-03-01 and 2018-08-20 namespaces;
 * grantee types as xsi:type attributes; a bucket policy as the raw JSON body; an access point policy
 * XML-escaped inside <Policy>). Most are the demo account's. */
static const char s_ListBuckets[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/"
    "doc/2006-03-01/\"><Owner><ID>63014bbe1afae0fe9a497aed2b718783681fadc3b6c05d3a57bf084dacee0672</ID><D"
    "isplayName>aws-acme-demo</DisplayName></Owner><Buckets><Bucket><Name>demo-access-logs</Name><Creatio"
    "nDate>2017-03-08T08:12:19.000Z</CreationDate></Bucket><Bucket><Name>demo-build-artifacts</Name><Crea"
    "tionDate>2018-01-22T16:45:03.000Z</CreationDate></Bucket><Bucket><Name>demo-cloudtrail-logs</Name><C"
    "reationDate>2019-06-12T13:50:02.000Z</CreationDate></Bucket><Bucket><Name>demo-customer-data</Name><"
    "CreationDate>2019-06-12T13:44:27.000Z</CreationDate></Bucket><Bucket><Name>demo-etl-staging</Name><C"
    "reationDate>2022-03-08T08:50:00.000Z</CreationDate></Bucket><Bucket><Name>demo-finance-reports</Name"
    "><CreationDate>2022-01-31T09:00:00.000Z</CreationDate></Bucket><Bucket><Name>demo-image-uploads</Nam"
    "e><CreationDate>2021-07-22T07:58:10.000Z</CreationDate></Bucket><Bucket><Name>demo-legacy-downloads<"
    "/Name><CreationDate>2016-09-30T11:20:41.000Z</CreationDate></Bucket><Bucket><Name>demo-marketing-sit"
    "e</Name><CreationDate>2021-05-12T14:02:55.000Z</CreationDate></Bucket><Bucket><Name>demo-old-press-k"
    "it</Name><CreationDate>2015-11-04T10:05:33.000Z</CreationDate></Bucket><Bucket><Name>demo-org-shared"
    "-config</Name><CreationDate>2022-01-10T08:20:15.000Z</CreationDate></Bucket><Bucket><Name>demo-partn"
    "er-exchange</Name><CreationDate>2020-08-24T09:55:41.000Z</CreationDate></Bucket><Bucket><Name>demo-p"
    "ublic-assets</Name><CreationDate>2020-04-07T09:31:12.000Z</CreationDate></Bucket></Buckets></ListAll"
    "MyBucketsResult>";

static const char s_LocationEu[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
    "2006-03-01/\">eu-west-1</LocationConstraint>";

static const char s_LocationUsEast1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
    "2006-03-01/\"/>";

static const char s_LocationLegacyEu[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
    "2006-03-01/\">EU</LocationConstraint>";

static const char s_AclPublicRead[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc"
    "/2006-03-01/\"><Owner><ID>63014bbe1afae0fe9a497aed2b718783681fadc3b6c05d3a57bf084dacee0672</ID><Disp"
    "layName>aws-acme-demo</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www"
    ".w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>63014bbe1afae0fe9a497aed2b718783681"
    "fadc3b6c05d3a57bf084dacee0672</ID><DisplayName>aws-acme-demo</DisplayName></Grantee><Permission>FULL"
    "_CONTROL</Permission></Grant><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
    " xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>"
    "READ</Permission></Grant></AccessControlList></AccessControlPolicy>";

static const char s_AclEmail[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc"
    "/2006-03-01/\"><Owner><ID>63014bbe1afae0fe9a497aed2b718783681fadc3b6c05d3a57bf084dacee0672</ID></Own"
    "er><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:ty"
    "pe=\"AmazonCustomerByEmail\"><EmailAddress>partner@example.com</EmailAddress></Grantee><Permission>W"
    "RITE</Permission></Grant><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi"
    ":type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI></Grantee><Permi"
    "ssion>READ_ACP</Permission></Grant></AccessControlList></AccessControlPolicy>";

static const char s_PublicAccessBlock[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PublicAccessBlockConfiguration xmlns=\"http://s3.amazon"
    "aws.com/doc/2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePubli"
    "cAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBucket"
    "s></PublicAccessBlockConfiguration>";

static const char s_AccountPublicAccessBlock[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PublicAccessBlockConfiguration xmlns=\"http://awss3cont"
    "rol.amazonaws.com/doc/2018-08-20/\"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</"
    "IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictP"
    "ublicBuckets></PublicAccessBlockConfiguration>";

static const char s_Ownership[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2"
    "006-03-01/\"><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>";

static const char s_PolicyStatus[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PolicyStatus xmlns=\"http://s3.amazonaws.com/doc/2006-0"
    "3-01/\"><IsPublic>false</IsPublic></PolicyStatus>";

static const char s_Policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"DenyInsecureTransport\",\"Effect\":\"Deny\",\""
    "Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::demo-customer-data\",\"arn:aws:s3"
    ":::demo-customer-data/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},{\"Sid\":\""
    "DelegateToAccessPoints\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":\"*\",\"Resou"
    "rce\":[\"arn:aws:s3:::demo-customer-data\",\"arn:aws:s3:::demo-customer-data/*\"],\"Condition\":{\"S"
    "tringEquals\":{\"s3:DataAccessPointAccount\":\"111122223333\"}}}]}";

static const char s_Website[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/do"
    "c/2006-03-01/\"><IndexDocument><Suffix>index.html</Suffix></IndexDocument><ErrorDocument><Key>error."
    "html</Key></ErrorDocument><RoutingRules><RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEqu"
    "als></Condition><Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></Routin"
    "gRule></RoutingRules></WebsiteConfiguration>";

static const char s_WebsiteRedirect[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<WebsiteConfiguration xmlns=\"http://s3.amazonaws.com/do"
    "c/2006-03-01/\"><RedirectAllRequestsTo><HostName>www.example.com</HostName><Protocol>https</Protocol"
    "></RedirectAllRequestsTo></WebsiteConfiguration>";

static const char s_AccessPoints[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAccessPointsResult xmlns=\"http://awss3control.amaz"
    "onaws.com/doc/2018-08-20/\"><AccessPointList><AccessPoint><Name>customer-data-analytics</Name><Netwo"
    "rkOrigin>VPC</NetworkOrigin><VpcConfiguration><VpcId>vpc-0c2d9e4f8a1b3c5d7</VpcId></VpcConfiguration"
    "><Bucket>demo-customer-data</Bucket><AccessPointArn>arn:aws:s3:us-east-1:111122223333:accesspoint/cu"
    "stomer-data-analytics</AccessPointArn><Alias>customer-data-analytics-7dda3fb6987525b9c827586ab62580c"
    "e03-s3alias</Alias></AccessPoint><AccessPoint><Name>marketing-uploads</Name><NetworkOrigin>Internet<"
    "/NetworkOrigin><Bucket>demo-marketing-site</Bucket><AccessPointArn>arn:aws:s3:us-east-1:111122223333"
    ":accesspoint/marketing-uploads</AccessPointArn><Alias>marketing-uploads-f7a35d6b9694feba58db9408844b"
    "06d666-s3alias</Alias></AccessPoint></AccessPointList></ListAccessPointsResult>";

static const char s_GetAccessPoint[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetAccessPointResult xmlns=\"http://awss3control.amazonaws."
    "com/doc/2018-08-20/\"><Name>marketing-uploads</Name><Bucket>demo-marketing-site</Bucket><NetworkOrigin>I"
    "nternet</NetworkOrigin><PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnoreP"
    "ublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>fa"
    "lse</RestrictPublicBuckets></PublicAccessBlockConfiguration><CreationDate>2023-03-14T10:21:07Z</Creati"
    "onDate><BucketAccountId>111122223333</BucketAccountId></GetAccessPointResult>";

static const char s_AccessPointPolicy[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<GetAccessPointPolicyResult xmlns=\"http://awss3control."
    "amazonaws.com/doc/2018-08-20/\"><Policy>{&quot;Version&quot;:&quot;2012-10-17&quot;,&quot;Statement&"
    "quot;:[{&quot;Effect&quot;:&quot;Allow&quot;,&quot;Principal&quot;:{&quot;AWS&quot;:&quot;arn:aws:ia"
    "m::111122223333:role/data-engineer&quot;},&quot;Action&quot;:&quot;s3:GetObject&quot;,&quot;Resource"
    "&quot;:&quot;arn:aws:s3:us-east-1:111122223333:accesspoint/customer-data-analytics/object/*&quot;}]}"
    "</Policy></GetAccessPointPolicyResult>";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("global", "s3", "ListBuckets");
    return 0;
}

/* Runs a fact parser that must fail with TM_ERR_PARSE and leave nothing behind. */
static void s_assert_rejects(tm_aws_fact_parse_fn parse, const char *body, const char *operation) {
    cJSON *out = NULL;
    char errmsg[256] = "";
    assert_int_equal(parse(&out, body, strlen(body), errmsg, sizeof(errmsg)), TM_ERR_PARSE);
    assert_null(out);
    assert_non_null(strstr(errmsg, operation));
}

static void test_list_buckets(void **state) {
    struct tm_test_aws_parse *fx = *state;
    assert_int_equal(tm__aws_s3_parse_buckets(&fx->f, s_ListBuckets, strlen(s_ListBuckets), &fx->names, fx->errmsg,
                                              sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(fx->names.n, 13);
    assert_string_equal(fx->names.v[0], "demo-access-logs");
    const cJSON *b = tm_snapshot_find(fx->snap, "arn:aws:s3:::demo-public-assets");
    assert_non_null(b);
    assert_string_equal(tm_json_str(b, "type", ""), "aws:s3:bucket");
    assert_string_equal(tm_json_str(b, "account", ""), "111122223333");
    assert_string_equal(tm_json_str(b, "name", ""), "demo-public-assets");
    assert_null(cJSON_GetObjectItem(b, "region")); /* not known until GetBucketLocation */

    const char *odd = "<ListAllMyBucketsResult><Buckets><Bucket><Name>ok-bucket</Name></Bucket><Bucket><Name>../x"
                      "</Name></Bucket><Bucket/><Bucket><Name>b\u00fccket</Name></Bucket></Buckets>"
                      "</ListAllMyBucketsResult>";
    assert_int_equal(tm__aws_s3_parse_buckets(&fx->f, odd, strlen(odd), &fx->names, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(fx->names.n, 14);
    assert_int_equal(tm_snapshot_error_count(fx->snap), 3);
    const char *bad[] = {"<ListBucketsResult/>", "<ListAllMyBucketsResult><Buckets>", "", "{\"Buckets\":[]}",
                         "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                         "<ListAllMyBucketsResult>&x;</ListAllMyBucketsResult>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            tm__aws_s3_parse_buckets(&fx->f, bad[i], strlen(bad[i]), &fx->names, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_non_null(strstr(fx->errmsg, "ListBuckets"));
    }
}

static void test_location(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char region[32];
    assert_int_equal(tm__aws_s3_parse_location(region, sizeof(region), s_LocationEu, strlen(s_LocationEu), fx->errmsg,
                                               sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(region, "eu-west-1");
    assert_int_equal(tm__aws_s3_parse_location(region, sizeof(region), s_LocationUsEast1, strlen(s_LocationUsEast1),
                                               fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(region, "us-east-1");
    assert_int_equal(tm__aws_s3_parse_location(region, sizeof(region), s_LocationLegacyEu, strlen(s_LocationLegacyEu),
                                               fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(region, "eu-west-1");
    const char *bad[] = {"<LocationConstraint>../../x</LocationConstraint>",
                         "<LocationConstraint><a/></LocationConstraint>", "<Location>us-east-1</Location>",
                         "<LocationConstraint>eu-west-1",
                         "<LocationConstraint>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</LocationConstraint>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(
            tm__aws_s3_parse_location(region, sizeof(region), bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
}

static void test_acl(void **state) {
    (void)state;
    cJSON *acl = NULL;
    char errmsg[256];
    assert_int_equal(tm__aws_s3_parse_acl(&acl, s_AclPublicRead, strlen(s_AclPublicRead), errmsg, sizeof(errmsg)),
                     TM_OK);
    tm_test_aws_assert_json(
        acl,
        "{\"owner\":{\"id\":\"63014bbe1afae0fe9a497aed2b718783681fadc3b6c05d3a57bf084dacee0672\",\"display_name\":"
        "\"aws-acme-demo\"},\"grants\":[{\"grantee\":{\"type\":\"CanonicalUser\",\"id\":\"63014bbe1afae0fe9a497aed2b"
        "718783681fadc3b6c05d3a57bf084dacee0672\",\"uri\":null,\"display_name\":\"aws-acme-demo\",\"email\":null},"
        "\"permission\":\"FULL_CONTROL\"},{\"grantee\":{\"type\":\"Group\",\"id\":null,\"uri\":\"http://acs.amazonaws"
        ".com/groups/global/AllUsers\",\"display_name\":null,\"email\":null},\"permission\":\"READ\"}]}");
    cJSON_Delete(acl);
    assert_int_equal(tm__aws_s3_parse_acl(&acl, s_AclEmail, strlen(s_AclEmail), errmsg, sizeof(errmsg)), TM_OK);
    const cJSON *g0 = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(acl, "grants"), 0), "grantee");
    assert_string_equal(tm_json_str(g0, "type", ""), "AmazonCustomerByEmail");
    assert_string_equal(tm_json_str(g0, "email", ""), "partner@example.com");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(acl, "owner"), "display_name")));
    cJSON_Delete(acl);
    s_assert_rejects(tm__aws_s3_parse_acl,
                     "<AccessControlPolicy><AccessControlList><Grant><Permission>READ</Permission></Grant>"
                     "</AccessControlList></AccessControlPolicy>",
                     "GetBucketAcl");
    s_assert_rejects(tm__aws_s3_parse_acl,
                     "<AccessControlPolicy><AccessControlList><Grant><Grantee><ID>x</ID></Grantee></Grant>"
                     "</AccessControlList></AccessControlPolicy>",
                     "GetBucketAcl");
    s_assert_rejects(tm__aws_s3_parse_acl, "<AccessControlPolicy><Owner><ID><b/></ID></Owner></AccessControlPolicy>",
                     "GetBucketAcl");
    s_assert_rejects(tm__aws_s3_parse_acl, "<Error><Code>AccessDenied</Code></Error>", "GetBucketAcl");
}

static void test_small_facts(void **state) {
    (void)state;
    cJSON *v = NULL;
    char errmsg[256];
    assert_int_equal(tm__aws_s3_parse_public_access_block(&v, s_PublicAccessBlock, strlen(s_PublicAccessBlock), errmsg,
                                                          sizeof(errmsg)),
                     TM_OK);
    tm_test_aws_assert_json(v, "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":false,"
                               "\"RestrictPublicBuckets\":false}");
    cJSON_Delete(v);
    /* The account's, from S3 Control, has another namespace and the same shape. */
    assert_int_equal(tm__aws_s3_parse_public_access_block(&v, s_AccountPublicAccessBlock,
                                                          strlen(s_AccountPublicAccessBlock), errmsg, sizeof(errmsg)),
                     TM_OK);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "BlockPublicAcls")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(v, "RestrictPublicBuckets")));
    cJSON_Delete(v);
    s_assert_rejects(tm__aws_s3_parse_public_access_block,
                     "<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>"
                     "</PublicAccessBlockConfiguration>",
                     "GetPublicAccessBlock");

    assert_int_equal(tm__aws_s3_parse_ownership(&v, s_Ownership, strlen(s_Ownership), errmsg, sizeof(errmsg)), TM_OK);
    assert_string_equal(v->valuestring, "BucketOwnerEnforced");
    cJSON_Delete(v);
    s_assert_rejects(tm__aws_s3_parse_ownership, "<OwnershipControls><Rule/></OwnershipControls>",
                     "GetBucketOwnershipControls");

    assert_int_equal(tm__aws_s3_parse_policy_status(&v, s_PolicyStatus, strlen(s_PolicyStatus), errmsg, sizeof(errmsg)),
                     TM_OK);
    tm_test_aws_assert_json(v, "{\"is_public\":false}");
    cJSON_Delete(v);
    const char *ap_status = "<GetAccessPointPolicyStatusResult><PolicyStatus><IsPublic>true</IsPublic></PolicyStatus>"
                            "</GetAccessPointPolicyStatusResult>";
    assert_int_equal(tm__aws_s3_parse_policy_status(&v, ap_status, strlen(ap_status), errmsg, sizeof(errmsg)), TM_OK);
    tm_test_aws_assert_json(v, "{\"is_public\":true}");
    cJSON_Delete(v);
    s_assert_rejects(tm__aws_s3_parse_policy_status, "<PolicyStatus><IsPublic>TRUE</IsPublic></PolicyStatus>",
                     "GetBucketPolicyStatus");
    s_assert_rejects(tm__aws_s3_parse_policy_status, "<PolicyStatus/>", "GetBucketPolicyStatus");

    assert_int_equal(tm__aws_s3_parse_policy(&v, s_Policy, strlen(s_Policy), errmsg, sizeof(errmsg)), TM_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(v, "Statement")), 2);
    cJSON_Delete(v);
    s_assert_rejects(tm__aws_s3_parse_policy, "<Error><Code>NoSuchBucketPolicy</Code></Error>", "GetBucketPolicy");
    s_assert_rejects(tm__aws_s3_parse_policy, "[\"Version\"]", "GetBucketPolicy");
}

static void test_website(void **state) {
    (void)state;
    cJSON *v = NULL;
    char errmsg[256];
    assert_int_equal(tm__aws_s3_parse_website(&v, s_Website, strlen(s_Website), errmsg, sizeof(errmsg)), TM_OK);
    tm_test_aws_assert_json(
        v, "{\"index_document\":\"index.html\",\"error_document\":\"error.html\",\"redirect_all_requests_to\":"
           "null,\"routing_rules\":1}");
    cJSON_Delete(v);
    assert_int_equal(tm__aws_s3_parse_website(&v, s_WebsiteRedirect, strlen(s_WebsiteRedirect), errmsg, sizeof(errmsg)),
                     TM_OK);
    tm_test_aws_assert_json(
        v, "{\"index_document\":null,\"error_document\":null,\"redirect_all_requests_to\":{\"host_name\":"
           "\"www.example.com\",\"protocol\":\"https\"},\"routing_rules\":0}");
    cJSON_Delete(v);
    s_assert_rejects(
        tm__aws_s3_parse_website,
        "<WebsiteConfiguration><IndexDocument><Suffix><x/></Suffix></IndexDocument></WebsiteConfiguration>",
        "GetBucketWebsite");
    s_assert_rejects(tm__aws_s3_parse_website, "<Error><Code>NoSuchWebsiteConfiguration</Code></Error>",
                     "GetBucketWebsite");
}

static void test_access_points(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.region = "us-east-1";
    fx->f.operation = "ListAccessPoints";
    char *next = NULL;
    struct tm_aws_strv buckets = {0};
    /* The region's whole list: every access point is recorded, with its bucket to attach it to. */
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, s_AccessPoints, strlen(s_AccessPoints), &fx->items,
                                                    &fx->names, &buckets, &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_null(next);
    assert_int_equal(fx->items.n, 2);
    assert_int_equal(buckets.n, 2);
    assert_string_equal(fx->names.v[0], "customer-data-analytics");
    assert_string_equal(buckets.v[0], "demo-customer-data");
    assert_string_equal(buckets.v[1], "demo-marketing-site");
    const cJSON *ap =
        tm_snapshot_find(fx->snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/customer-data-analytics");
    assert_non_null(ap);
    assert_string_equal(tm_json_str(ap, "type", ""), "aws:s3:access-point");
    assert_string_equal(tm_json_str(ap, "region", ""), "us-east-1");
    const cJSON *attrs = cJSON_GetObjectItem(ap, "attrs");
    assert_string_equal(tm_json_str(attrs, "bucket", ""), "demo-customer-data");
    assert_string_equal(tm_json_str(attrs, "network_origin", ""), "VPC");
    assert_string_equal(tm_json_str(attrs, "vpc_id", ""), "vpc-0c2d9e4f8a1b3c5d7");
    assert_string_equal(tm_json_str(attrs, "bucket_account_id", ""), "111122223333");
    tm_test_aws_assert_json(cJSON_GetObjectItem(ap, "links"),
                            "[{\"kind\":\"member-of\",\"to\":\"arn:aws:s3:::demo-customer-data\"}]");
    const cJSON *mk = tm_snapshot_find(fx->snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/marketing-uploads");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(mk, "attrs"), "vpc_id")));

    /* An access point of this account on another account's bucket: recorded as it is, with the bucket's
     * account, and attached to no bucket of this account. */
    const char *cross = "<ListAccessPointsResult><AccessPointList><AccessPoint><Name>partner-ap</Name>"
                        "<NetworkOrigin>Internet</NetworkOrigin><Bucket>partner-data</Bucket>"
                        "<AccessPointArn>arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap</AccessPointArn>"
                        "<BucketAccountId>444455556666</BucketAccountId></AccessPoint></AccessPointList>"
                        "</ListAccessPointsResult>";
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, cross, strlen(cross), &fx->items, &fx->names, &buckets,
                                                    &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(buckets.n, 3);
    assert_string_equal(buckets.v[2], "");
    tm_test_aws_expect(fx->snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap", "attrs|bucket_account_id",
                       "\"444455556666\"");
    tm_test_aws_expect(fx->snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/partner-ap", "links|0|to",
                       "\"arn:aws:s3:::partner-data\"");

    const char *paged = "<ListAccessPointsResult><AccessPointList/><NextToken>bmV4dA==</NextToken>"
                        "</ListAccessPointsResult>";
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, paged, strlen(paged), &fx->items, &fx->names, &buckets,
                                                    &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "bmV4dA==");
    free(next);
    next = NULL;
    /* A malformed entry is an error of its own and nothing is pushed for it. */
    const char *mixed = "<ListAccessPointsResult><AccessPointList><AccessPoint><Name>x</Name><Bucket>b</Bucket>"
                        "<AccessPointArn>arn:aws:s3:us-east-1:1:bucket/x</AccessPointArn></AccessPoint>"
                        "</AccessPointList></ListAccessPointsResult>";
    size_t before = tm_snapshot_error_count(fx->snap);
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, mixed, strlen(mixed), &fx->items, &fx->names, &buckets,
                                                    &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(tm_snapshot_error_count(fx->snap), before + 1);
    assert_int_equal(buckets.n, 3);
    assert_int_equal(fx->items.n, 3);
    const char *bad = "<ListAccessPointsResult><NextToken><a/></NextToken></ListAccessPointsResult>";
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, bad, strlen(bad), &fx->items, &fx->names, &buckets, &next,
                                                    fx->errmsg, sizeof(fx->errmsg)),
                     TM_ERR_PARSE);
    assert_int_equal(tm__aws_s3_parse_access_points(&fx->f, "<ListAccessPointsResult", 23, &fx->items, &fx->names,
                                                    &buckets, &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_ERR_PARSE);
    tm__aws_strv_clean_up(&buckets);

    /* GetAccessPoint: its Block Public Access. */
    cJSON *v = NULL;
    assert_int_equal(
        tm__aws_s3_parse_access_point(&v, s_GetAccessPoint, strlen(s_GetAccessPoint), fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    tm_test_aws_assert_json(v, "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":false,"
                               "\"RestrictPublicBuckets\":false}");
    cJSON_Delete(v);
    v = NULL;
    const char *outposts = "<GetAccessPointResult><Name>op</Name><Bucket>b</Bucket></GetAccessPointResult>";
    assert_int_equal(tm__aws_s3_parse_access_point(&v, outposts, strlen(outposts), fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_true(cJSON_IsNull(v));
    cJSON_Delete(v);
    s_assert_rejects(tm__aws_s3_parse_access_point,
                     "<GetAccessPointResult><PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls>"
                     "</PublicAccessBlockConfiguration></GetAccessPointResult>",
                     "GetAccessPoint");
    s_assert_rejects(tm__aws_s3_parse_access_point, "<PublicAccessBlockConfiguration/>", "GetAccessPoint");
    s_assert_rejects(tm__aws_s3_parse_access_point, "<GetAccessPointResult><Name>\xc3\x28</Name>", "GetAccessPoint");

    cJSON *doc = NULL;
    assert_int_equal(tm__aws_s3_parse_access_point_policy(&doc, s_AccessPointPolicy, strlen(s_AccessPointPolicy),
                                                          fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0);
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(st, "Principal"), "AWS", ""),
                        "arn:aws:iam::111122223333:role/data-engineer");
    cJSON_Delete(doc);
    s_assert_rejects(tm__aws_s3_parse_access_point_policy,
                     "<GetAccessPointPolicyResult><Policy>{not json</Policy></GetAccessPointPolicyResult>",
                     "GetAccessPointPolicy");
    s_assert_rejects(tm__aws_s3_parse_access_point_policy, "<GetAccessPointPolicyResult/>", "GetAccessPointPolicy");
}

/* ---- the demo account, scanned through its fixtures ---- */

static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"s3"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 1, &unmatched, &calls);
    assert_int_equal(cJSON_GetArraySize(unmatched), 0);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:s3:bucket"), 13);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:s3:access-point"), 2);
    /* Each bucket was asked in its own region. */
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-etl-staging", "region", "\"eu-west-1\"");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-public-assets", "region", "\"us-east-1\"");
    /* F01 and F02. */
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-public-assets", "policies|resource|Statement|0|Principal", "\"*\"");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-public-assets", "attrs|policy_status|is_public", "true");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-public-assets", "attrs|public_access_block", "null");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-legacy-downloads", "attrs|acl|grants|1|grantee|uri",
                       "\"http://acs.amazonaws.com/groups/global/AllUsers\"");
    /* G01: AccessDenied on the policy is unknown, never null; the rest of the bucket is read. */
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-finance-reports", "policies|resource|$unknown|code",
                       "\"AccessDenied\"");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-finance-reports", "attrs|policy_status|is_public", "false");
    assert_int_equal(tm_snapshot_error_count(snap), 1);
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-etl-staging", "policies|resource", "null");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-customer-data", "attrs|access_points",
                       "[\"arn:aws:s3:us-east-1:111122223333:accesspoint/customer-data-analytics\"]");
    tm_test_aws_expect(snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/marketing-uploads", "policies|resource",
                       "null");
    tm_test_aws_expect(snap, "arn:aws:s3:us-east-1:111122223333:accesspoint/marketing-uploads",
                       "attrs|public_access_block",
                       "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":true,\"BlockPublicPolicy\":true,"
                       "\"RestrictPublicBuckets\":true}");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-marketing-site", "attrs|access_points",
                       "[\"arn:aws:s3:us-east-1:111122223333:accesspoint/marketing-uploads\"]");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-etl-staging", "attrs|access_points", "[]");
    /* Access points are listed once per scanned region (us-east-1, eu-west-1), not once per bucket. */
    assert_int_equal(tm_test_aws_count_calls(calls, "ListAccessPoints"), 2);
    assert_int_equal(tm_test_aws_count_calls(calls, "GetAccessPoint"), 2);
    assert_int_equal(tm_test_aws_count_calls(calls, "GetAccessPointPolicy"), 2);
    tm_test_aws_expect(snap, "arn:aws:iam::111122223333:root", "attrs|s3_public_access_block",
                       "{\"BlockPublicAcls\":true,\"IgnorePublicAcls\":false,\"BlockPublicPolicy\":false,"
                       "\"RestrictPublicBuckets\":false}");
    assert_int_equal(tm_test_aws_count_calls(calls, "GetBucketLocation"), 13);
    /* Two scans of the same account give the same bytes. */
    char *a = NULL, *b = NULL, err[256];
    assert_int_equal(tm_snapshot_serialize(snap, &a, err, sizeof(err)), TM_OK);
    struct tm_snapshot *again = tm_test_aws_scan_demo(services, 1, NULL, NULL);
    assert_int_equal(tm_snapshot_serialize(again, &b, err, sizeof(err)), TM_OK);
    assert_string_equal(a, b);
    free(a);
    free(b);
    tm_snapshot_destroy(again);
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

/* A scan of us-east-1 alone: the buckets of eu-west-1 are still read (S3 is global), and their access
 * points come from a listing of eu-west-1 asked for when the first of them is located. */
static void test_bucket_outside_regions(void **state) {
    (void)state;
    uv_loop_t loop;
    struct tm_test_aws_fixtures f;
    struct tm_snapshot *snap = NULL;
    struct tm_aws_scan *scan = NULL;
    char err[512] = "";
    assert_int_equal(uv_loop_init(&loop), 0);
    if (tm_test_aws_fixtures_init(&f, &loop, "fixtures/aws/demo", err, sizeof(err)))
        fail_msg("fixtures: %s", err);
    assert_int_equal(tm_snapshot_new(&snap, "aws"), TM_OK);
    static const char *const regions[] = {"us-east-1"};
    static const char *const services[] = {"s3"};
    struct tm_aws_scan_options opts = {
        .home_region = "us-east-1",
        .regions = regions,
        .region_count = 1,
        .services = services,
        .service_count = 1,
    };
    if (tm_aws_scan_new(&scan, &opts, &f.base, snap, err, sizeof(err)))
        fail_msg("scan: %s", err);
    assert_int_equal(tm_aws_scan_start(scan), TM_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(tm_aws_scan_finished(scan));
    assert_int_equal(tm_aws_scan_status(scan, err, sizeof(err)), TM_OK);
    tm_aws_scan_destroy(scan);
    assert_int_equal(cJSON_GetArraySize(f.unmatched), 0);
    assert_int_equal(tm_test_aws_fixtures_count(&f, "ListAccessPoints"), 2);
    static const char *const bucket_facts[] = {"access_points", NULL};
    tm_test_aws_facts_present(snap, "aws:s3:bucket", bucket_facts);
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-etl-staging", "region", "\"eu-west-1\"");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-etl-staging", "attrs|access_points", "[]");
    tm_test_aws_expect(snap, "arn:aws:s3:::demo-customer-data", "attrs|access_points",
                       "[\"arn:aws:s3:us-east-1:111122223333:accesspoint/customer-data-analytics\"]");
    assert_int_equal(tm_snapshot_error_count(snap), 1); /* G01 only */
    tm_test_aws_fixtures_clean_up(&f);
    assert_int_equal(uv_loop_close(&loop), 0);
    tm_snapshot_destroy(snap);
}

static void test_demo_account_denied(void **state) {
    (void)state;
    static const char *const services[] = {"s3"};
    static const char *const bucket_facts[] = {"policy_status",      "acl",     "public_access_block",
                                               "ownership_controls", "website", "access_points",
                                               "policies|resource",  NULL};
    static const char *const access_point_facts[] = {"public_access_block", "policies|resource", NULL};
    /* Either the listing was refused (no buckets), or every listed bucket holds every fact. */
    static const struct tm_test_aws_facts_of facts[] = {
        {"aws:s3:bucket", bucket_facts},
        {"aws:s3:access-point", access_point_facts},
        {NULL, NULL},
    };
    tm_test_aws_scan_demo_refused(services, 1, facts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_buckets, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_location, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test(test_acl),
        cmocka_unit_test(test_small_facts),
        cmocka_unit_test(test_website),
        cmocka_unit_test_setup_teardown(test_access_points, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_bucket_outside_regions),
        cmocka_unit_test(test_demo_account_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
