#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "providers/aws/ec2.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_parse.h"

#define ACCT "111122223333"
#define NS "xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\""

static const char s_instances[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<DescribeInstancesResponse " NS ">\n"
    "    <requestId>8f7724cf-496f-496e-8fe3-example</requestId>\n"
    "    <reservationSet>\n"
    "        <item>\n"
    "            <reservationId>r-1234567890abcdef0</reservationId>\n"
    "            <ownerId>" ACCT "</ownerId>\n"
    "            <groupSet/>\n"
    "            <instancesSet>\n"
    "                <item>\n"
    "                    <instanceId>i-0598c7d356eba48d7</instanceId>\n"
    "                    <imageId>ami-0abcdef1234567890</imageId>\n"
    "                    <instanceState><code>16</code><name>running</name></instanceState>\n"
    "                    <privateDnsName>ip-10-0-0-157.eu-west-1.compute.internal</privateDnsName>\n"
    "                    <instanceType>t3.micro</instanceType>\n"
    "                    <subnetId>subnet-0c1f6d1e8EXAMPLE</subnetId>\n"
    "                    <vpcId>vpc-0a60eb65bEXAMPLE</vpcId>\n"
    "                    <privateIpAddress>10.0.0.157</privateIpAddress>\n"
    "                    <ipAddress>54.194.252.215</ipAddress>\n"
    "                    <groupSet>\n"
    "                        <item><groupId>sg-0b0384b66dEXAMPLE</groupId><groupName>web</groupName></item>\n"
    "                        <item><groupId>sg-0c1f6d1e8aEXAMPLE</groupId><groupName>ssh</groupName></item>\n"
    "                    </groupSet>\n"
    "                    <iamInstanceProfile>\n"
    "                        <arn>arn:aws:iam::" ACCT ":instance-profile/web-profile</arn>\n"
    "                        <id>AIPAJQABLZS4A3QDU576Q</id>\n"
    "                    </iamInstanceProfile>\n"
    "                    <tagSet><item><key>Name</key><value>web-1</value></item>"
    "<item><key>env</key><value>prod</value></item></tagSet>\n"
    "                    <metadataOptions>\n"
    "                        <state>applied</state>\n"
    "                        <httpTokens>optional</httpTokens>\n"
    "                        <httpPutResponseHopLimit>1</httpPutResponseHopLimit>\n"
    "                        <httpEndpoint>enabled</httpEndpoint>\n"
    "                        <httpProtocolIpv6>disabled</httpProtocolIpv6>\n"
    "                        <instanceMetadataTags>disabled</instanceMetadataTags>\n"
    "                    </metadataOptions>\n"
    "                </item>\n"
    "                <item>\n"
    "                    <instanceId>i-0aaaaaaaaaaaaaaa1</instanceId>\n"
    "                    <instanceState><code>80</code><name>stopped</name></instanceState>\n"
    "                    <privateIpAddress>10.0.1.9</privateIpAddress>\n"
    "                    <groupSet/>\n"
    "                    <metadataOptions><state>applied</state><httpTokens>required</httpTokens>"
    "<httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint></metadataOptions>\n"
    "                </item>\n"
    "            </instancesSet>\n"
    "        </item>\n"
    "    </reservationSet>\n"
    "    <nextToken>eyJ2IjoiMiIsImMiOiJ0ZXN0In0=</nextToken>\n"
    "</DescribeInstancesResponse>\n";

static const char s_groups[] =
    "<DescribeSecurityGroupsResponse " NS ">\n"
    "   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
    "   <securityGroupInfo>\n"
    "      <item>\n"
    "         <ownerId>" ACCT "</ownerId>\n"
    "         <groupId>sg-0b0384b66dEXAMPLE</groupId>\n"
    "         <groupName>web</groupName>\n"
    "         <groupDescription>web servers</groupDescription>\n"
    "         <vpcId>vpc-0a60eb65bEXAMPLE</vpcId>\n"
    "         <ipPermissions>\n"
    "            <item>\n"
    "               <ipProtocol>tcp</ipProtocol>\n"
    "               <fromPort>443</fromPort>\n"
    "               <toPort>443</toPort>\n"
    "               <groups/>\n"
    "               <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges>\n"
    "               "
    "<ipv6Ranges><item><cidrIpv6>::/0</cidrIpv6><description>everyone</description></item></ipv6Ranges>\n"
    "               <prefixListIds/>\n"
    "            </item>\n"
    "            <item>\n"
    "               <ipProtocol>-1</ipProtocol>\n"
    "               <groups><item><userId>444455556666</userId><groupId>sg-0ffeeffeeffee1234</groupId>"
    "<vpcId>vpc-0ffee</vpcId><vpcPeeringConnectionId>pcx-1</vpcPeeringConnectionId>"
    "<peeringStatus>active</peeringStatus></item></groups>\n"
    "               <ipRanges/>\n"
    "               <ipv6Ranges/>\n"
    "               <prefixListIds><item><prefixListId>pl-63a5400a</prefixListId></item></prefixListIds>\n"
    "            </item>\n"
    "         </ipPermissions>\n"
    "         <ipPermissionsEgress/>\n"
    "      </item>\n"
    "   </securityGroupInfo>\n"
    "</DescribeSecurityGroupsResponse>\n";

static const char s_enis[] =
    "<DescribeNetworkInterfacesResponse " NS ">\n"
    "    <requestId>fc45294c-006b-457b-bab9-012f5b3b0e40</requestId>\n"
    "     <networkInterfaceSet>\n"
    "       <item>\n"
    "         <networkInterfaceId>eni-0f7db66df6EXAMPLE</networkInterfaceId>\n"
    "         <subnetId>subnet-0c1f6d1e8EXAMPLE</subnetId>\n"
    "         <vpcId>vpc-0a60eb65bEXAMPLE</vpcId>\n"
    "         <description>Primary network interface</description>\n"
    "         <ownerId>" ACCT "</ownerId>\n"
    "         <status>in-use</status>\n"
    "         <privateIpAddress>10.0.0.157</privateIpAddress>\n"
    "         <groupSet><item><groupId>sg-0b0384b66dEXAMPLE</groupId><groupName>web</groupName></item></groupSet>\n"
    "         <attachment><attachmentId>eni-attach-1</attachmentId><instanceId>i-0598c7d356eba48d7</instanceId>"
    "<instanceOwnerId>" ACCT "</instanceOwnerId><deviceIndex>0</deviceIndex><status>attached</status></attachment>\n"
    "         <association><publicIp>54.194.252.215</publicIp><ipOwnerId>amazon</ipOwnerId></association>\n"
    "         <privateIpAddressesSet>\n"
    "           <item><privateIpAddress>10.0.0.157</privateIpAddress><primary>true</primary>"
    "<association><publicIp>54.194.252.215</publicIp></association></item>\n"
    "           <item><privateIpAddress>10.0.0.158</privateIpAddress><primary>false</primary>"
    "<association><publicIp>34.248.1.2</publicIp></association></item>\n"
    "         </privateIpAddressesSet>\n"
    "         <interfaceType>interface</interfaceType>\n"
    "       </item>\n"
    "       <item>\n"
    "         <networkInterfaceId>eni-0aaaaaaaaaEXAMPLE</networkInterfaceId>\n"
    "         <description>AWS Lambda VPC ENI-demo</description>\n"
    "         <privateIpAddress>10.0.2.10</privateIpAddress>\n"
    "         <groupSet/>\n"
    "         <interfaceType>lambda</interfaceType>\n"
    "         <requesterId>ABCDEFGHIJKLMNOPQRSTU:storefront-api</requesterId>\n"
    "         <requesterManaged>true</requesterManaged>\n"
    "       </item>\n"
    "     </networkInterfaceSet>\n"
    "</DescribeNetworkInterfacesResponse>\n";

static const char s_snapshots[] = "<DescribeSnapshotsResponse " NS ">\n"
                                  "   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
                                  "   <snapshotSet>\n"
                                  "      <item>\n"
                                  "         <snapshotId>snap-1234567890abcdef0</snapshotId>\n"
                                  "         <volumeId>vol-1234567890abcdef0</volumeId>\n"
                                  "         <status>completed</status>\n"
                                  "         <startTime>2023-02-01T00:00:00.000Z</startTime>\n"
                                  "         <progress>100%</progress>\n"
                                  "         <ownerId>" ACCT "</ownerId>\n"
                                  "         <volumeSize>8</volumeSize>\n"
                                  "         <description>db backup</description>\n"
                                  "         <encrypted>false</encrypted>\n"
                                  "      </item>\n"
                                  "   </snapshotSet>\n"
                                  "</DescribeSnapshotsResponse>\n";

static const char s_images[] = "<DescribeImagesResponse " NS ">\n"
                               "   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
                               "   <imagesSet>\n"
                               "      <item>\n"
                               "         <imageId>ami-1234567890EXAMPLE</imageId>\n"
                               "         <imageLocation>" ACCT "/golden</imageLocation>\n"
                               "         <imageState>available</imageState>\n"
                               "         <imageOwnerId>" ACCT "</imageOwnerId>\n"
                               "         <isPublic>true</isPublic>\n"
                               "         <name>golden</name>\n"
                               "      </item>\n"
                               "   </imagesSet>\n"
                               "</DescribeImagesResponse>\n";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("eu-west-1", "ec2", NULL);
    return 0;
}

static char *s_json(const cJSON *v) {
    return cJSON_PrintUnformatted(v);
}

static void test_regions(void **state) {
    struct tm_test_aws_parse *f = *state;
    static const char body[] =
        "<DescribeRegionsResponse " NS ">\n"
        "   <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
        "   <regionInfo>\n"
        "      <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint>"
        "<optInStatus>opt-in-not-required</optInStatus></item>\n"
        "      <item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint>"
        "<optInStatus>not-opted-in</optInStatus></item>\n"
        "      <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint>"
        "<optInStatus>opt-in-not-required</optInStatus></item>\n"
        "      <item><regionName>ap-east-1</regionName><regionEndpoint>ec2.ap-east-1.amazonaws.com</regionEndpoint>"
        "<optInStatus>opted-in</optInStatus></item>\n"
        "   </regionInfo>\n"
        "</DescribeRegionsResponse>\n";
    cJSON *r = NULL;
    assert_int_equal(tm__aws_ec2_parse_regions(&r, body, strlen(body), f->errmsg, sizeof(f->errmsg)), TM_OK);
    char *s = s_json(r);
    assert_string_equal(s, "[\"ap-east-1\",\"eu-west-1\",\"us-east-1\"]");
    free(s);
    cJSON_Delete(r);
    static const char empty[] = "<DescribeRegionsResponse " NS "><regionInfo/></DescribeRegionsResponse>";
    assert_int_equal(tm__aws_ec2_parse_regions(&r, empty, strlen(empty), f->errmsg, sizeof(f->errmsg)), TM_ERR_PARSE);
    assert_null(r);
}

static void test_instances(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *next = NULL;
    assert_int_equal(
        tm__aws_ec2_parse_instances(&f->sink, s_instances, strlen(s_instances), &next, f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    assert_string_equal(next, "eyJ2IjoiMiIsImMiOiJ0ZXN0In0=");
    free(next);
    assert_int_equal(tm_snapshot_count(f->snap), 2);
    const cJSON *i = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":instance/i-0598c7d356eba48d7");
    assert_non_null(i);
    assert_string_equal(cJSON_GetObjectItem(i, "name")->valuestring, "web-1");
    assert_string_equal(cJSON_GetObjectItem(i, "type")->valuestring, "aws:ec2:instance");
    tm_test_aws_expect_attr(i, "state", "\"running\"");
    tm_test_aws_expect_attr(i, "public_ip", "\"54.194.252.215\"");
    tm_test_aws_expect_attr(i, "private_ip", "\"10.0.0.157\"");
    tm_test_aws_expect_attr(i, "instance_profile", "\"arn:aws:iam::" ACCT ":instance-profile/web-profile\"");
    tm_test_aws_expect_attr(
        i, "metadata_options",
        "{\"http_tokens\":\"optional\",\"http_endpoint\":\"enabled\",\"http_put_response_hop_limit\":1}");
    tm_test_aws_expect_attr(i, "security_group_ids", "[\"sg-0b0384b66dEXAMPLE\",\"sg-0c1f6d1e8aEXAMPLE\"]");
    tm_test_aws_expect_attr(i, "subnet_id", "\"subnet-0c1f6d1e8EXAMPLE\"");
    tm_test_aws_expect_attr(i, "vpc_id", "\"vpc-0a60eb65bEXAMPLE\"");
    char *links = s_json(cJSON_GetObjectItem(i, "links"));
    assert_string_equal(
        links,
        "[{\"kind\":\"has-identity\",\"to\":\"arn:aws:iam::" ACCT ":instance-profile/web-profile\"},"
        "{\"kind\":\"protected-by\",\"to\":\"arn:aws:ec2:eu-west-1:" ACCT ":security-group/sg-0b0384b66dEXAMPLE\"},"
        "{\"kind\":\"protected-by\",\"to\":\"arn:aws:ec2:eu-west-1:" ACCT ":security-group/sg-0c1f6d1e8aEXAMPLE\"}]");
    free(links);
    const cJSON *s = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":instance/i-0aaaaaaaaaaaaaaa1");
    assert_string_equal(cJSON_GetObjectItem(s, "name")->valuestring, "i-0aaaaaaaaaaaaaaa1");
    tm_test_aws_expect_attr(s, "public_ip", "null");
    tm_test_aws_expect_attr(s, "instance_profile", "null");
    tm_test_aws_expect_attr(s, "vpc_id", "null");
    tm_test_aws_expect_attr(s, "security_group_ids", "[]");
}

static void test_security_groups(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *next = NULL;
    assert_int_equal(
        tm__aws_ec2_parse_security_groups(&f->sink, s_groups, strlen(s_groups), &next, f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    assert_null(next);
    const cJSON *g = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":security-group/sg-0b0384b66dEXAMPLE");
    assert_non_null(g);
    tm_test_aws_expect_attr(g, "group_name", "\"web\"");
    tm_test_aws_expect_attr(
        g, "ingress",
        "[{\"ip_protocol\":\"tcp\",\"from_port\":443,\"to_port\":443,\"ipv4_ranges\":[\"0.0.0.0/0\"],"
        "\"ipv6_ranges\":[\"::/0\"],\"prefix_lists\":[],\"source_groups\":[]},"
        "{\"ip_protocol\":\"-1\",\"from_port\":null,\"to_port\":null,\"ipv4_ranges\":[],\"ipv6_ranges\":[],"
        "\"prefix_lists\":[\"pl-63a5400a\"],\"source_groups\":[{\"group_id\":\"sg-0ffeeffeeffee1234\","
        "\"user_id\":\"444455556666\"}]}]");
}

static void test_network_interfaces(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *next = NULL;
    assert_int_equal(
        tm__aws_ec2_parse_network_interfaces(&f->sink, s_enis, strlen(s_enis), &next, f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    const cJSON *n =
        tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":network-interface/eni-0f7db66df6EXAMPLE");
    assert_non_null(n);
    tm_test_aws_expect_attr(n, "public_ip", "\"54.194.252.215\"");
    tm_test_aws_expect_attr(n, "public_ips", "[\"54.194.252.215\",\"34.248.1.2\"]");
    tm_test_aws_expect_attr(n, "instance_id", "\"i-0598c7d356eba48d7\"");
    tm_test_aws_expect_attr(n, "interface_type", "\"interface\"");
    char *links = s_json(cJSON_GetObjectItem(n, "links"));
    assert_non_null(strstr(links, "{\"kind\":\"attached-to\",\"to\":\"arn:aws:ec2:eu-west-1:" ACCT
                                  ":instance/i-0598c7d356eba48d7\"}"));
    free(links);
    const cJSON *l =
        tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":network-interface/eni-0aaaaaaaaaEXAMPLE");
    tm_test_aws_expect_attr(l, "public_ip", "null");
    tm_test_aws_expect_attr(l, "public_ips", "[]");
    tm_test_aws_expect_attr(l, "instance_id", "null");
    tm_test_aws_expect_attr(l, "interface_type", "\"lambda\"");
    tm_test_aws_expect_attr(l, "requester_managed", "true");
    tm_test_aws_expect_attr(l, "requester_id", "\"ABCDEFGHIJKLMNOPQRSTU:storefront-api\"");
    tm_test_aws_expect_attr(n, "requester_managed", "null");
    tm_test_aws_expect_attr(n, "requester_id", "null");
}

static void test_snapshots_images_and_sharing(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *next = NULL;
    cJSON *ids = cJSON_CreateArray();
    assert_int_equal(tm__aws_ec2_parse_snapshots(&f->sink, ids, s_snapshots, strlen(s_snapshots), &next, f->errmsg,
                                                 sizeof(f->errmsg)),
                     TM_OK);
    assert_int_equal(tm__aws_ec2_parse_images(&f->sink, ids, s_images, strlen(s_images), f->errmsg, sizeof(f->errmsg)),
                     TM_OK);
    char *s = s_json(ids);
    assert_string_equal(s, "[\"snap-1234567890abcdef0\",\"ami-1234567890EXAMPLE\"]");
    free(s);
    cJSON_Delete(ids);
    /* No account in snapshot and image ARNs. */
    const cJSON *sn = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1::snapshot/snap-1234567890abcdef0");
    assert_non_null(sn);
    tm_test_aws_expect_attr(sn, "encrypted", "false");
    tm_test_aws_expect_attr(sn, "volume_id", "\"vol-1234567890abcdef0\"");
    const cJSON *im = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1::image/ami-1234567890EXAMPLE");
    tm_test_aws_expect_attr(im, "public", "true");
    assert_string_equal(cJSON_GetObjectItem(im, "name")->valuestring, "golden");

    static const char public_vol[] = "<DescribeSnapshotAttributeResponse " NS ">\n"
                                     "  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>\n"
                                     "  <snapshotId>snap-1234567890abcdef0</snapshotId>\n"
                                     "  <createVolumePermission><item><group>all</group></item>"
                                     "<item><userId>444455556666</userId></item></createVolumePermission>\n"
                                     "</DescribeSnapshotAttributeResponse>\n";
    cJSON *p = NULL;
    assert_int_equal(
        tm__aws_ec2_parse_snapshot_permissions(&p, public_vol, strlen(public_vol), f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    s = s_json(p);
    assert_string_equal(s, "[{\"group\":\"all\"},{\"user_id\":\"444455556666\"}]");
    free(s);
    cJSON_Delete(p);
    static const char private_vol[] = "<DescribeSnapshotAttributeResponse " NS ">"
                                      "<snapshotId>snap-1234567890abcdef0</snapshotId><createVolumePermission/>"
                                      "</DescribeSnapshotAttributeResponse>";
    assert_int_equal(
        tm__aws_ec2_parse_snapshot_permissions(&p, private_vol, strlen(private_vol), f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    assert_int_equal(cJSON_GetArraySize(p), 0);
    cJSON_Delete(p);
    static const char launch[] =
        "<DescribeImageAttributeResponse " NS ">"
        "<requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>"
        "<imageId>ami-1234567890EXAMPLE</imageId><launchPermission>"
        "<item><organizationArn>arn:aws:organizations::" ACCT ":organization/o-abc</organizationArn></item>"
        "</launchPermission></DescribeImageAttributeResponse>";
    assert_int_equal(tm__aws_ec2_parse_image_permissions(&p, launch, strlen(launch), f->errmsg, sizeof(f->errmsg)),
                     TM_OK);
    s = s_json(p);
    assert_string_equal(s, "[{\"organization_arn\":\"arn:aws:organizations::" ACCT ":organization/o-abc\"}]");
    free(s);
    cJSON_Delete(p);
    /* A snapshot attribute answer is not an image attribute answer; an empty permission is malformed. */
    assert_int_equal(
        tm__aws_ec2_parse_image_permissions(&p, public_vol, strlen(public_vol), f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    static const char nobody[] = "<DescribeImageAttributeResponse " NS "><launchPermission><item/></launchPermission>"
                                 "</DescribeImageAttributeResponse>";
    assert_int_equal(tm__aws_ec2_parse_image_permissions(&p, nobody, strlen(nobody), f->errmsg, sizeof(f->errmsg)),
                     TM_ERR_PARSE);
}

static void test_adversarial(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *next = NULL;
    /* Truncated anywhere: refused, with what parsed before the cut kept or not, but never a crash. */
    for (size_t cut = 0; cut < strlen(s_instances); cut += 7) {
        int rc = tm__aws_ec2_parse_instances(&f->sink, s_instances, cut, &next, f->errmsg, sizeof(f->errmsg));
        assert_int_equal(rc, TM_ERR_PARSE);
        assert_null(next);
    }
    /* An id that would break the ARN. */
    static const char bad_id[] = "<DescribeInstancesResponse " NS "><reservationSet><item><instancesSet><item>"
                                 "<instanceId>i-1/../x</instanceId></item></instancesSet></item></reservationSet>"
                                 "</DescribeInstancesResponse>";
    assert_int_equal(tm__aws_ec2_parse_instances(&f->sink, bad_id, strlen(bad_id), &next, f->errmsg, sizeof(f->errmsg)),
                     TM_ERR_PARSE);
    static const char bad_port[] =
        "<DescribeSecurityGroupsResponse " NS "><securityGroupInfo><item><groupId>sg-1</groupId>"
        "<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>eighty</fromPort></item></ipPermissions>"
        "</item></securityGroupInfo></DescribeSecurityGroupsResponse>";
    assert_int_equal(
        tm__aws_ec2_parse_security_groups(&f->sink, bad_port, strlen(bad_port), &next, f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    static const char bad_bool[] = "<DescribeImagesResponse " NS "><imagesSet><item><imageId>ami-1</imageId>"
                                   "<isPublic>yes</isPublic></item></imagesSet></DescribeImagesResponse>";
    cJSON *ids = cJSON_CreateArray();
    assert_int_equal(tm__aws_ec2_parse_images(&f->sink, ids, bad_bool, strlen(bad_bool), f->errmsg, sizeof(f->errmsg)),
                     TM_ERR_PARSE);
    cJSON_Delete(ids);
    /* The wrong operation's answer, and a JSON body. */
    assert_int_equal(
        tm__aws_ec2_parse_instances(&f->sink, s_groups, strlen(s_groups), &next, f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    assert_int_equal(tm__aws_ec2_parse_instances(&f->sink, "{}", 2, &next, f->errmsg, sizeof(f->errmsg)), TM_ERR_PARSE);
    /* Unicode in a Name tag is kept as is. */
    static const char uni[] = "<DescribeInstancesResponse " NS "><reservationSet><item><instancesSet><item>"
                              "<instanceId>i-0123</instanceId><tagSet><item><key>Name</key>"
                              "<value>serveur-\xc3\xa9t\xc3\xa9-\xf0\x9f\x9a\x80</value></item></tagSet>"
                              "</item></instancesSet></item></reservationSet></DescribeInstancesResponse>";
    assert_int_equal(tm__aws_ec2_parse_instances(&f->sink, uni, strlen(uni), &next, f->errmsg, sizeof(f->errmsg)),
                     TM_OK);
    const cJSON *i = tm_snapshot_find(f->snap, "arn:aws:ec2:eu-west-1:" ACCT ":instance/i-0123");
    assert_string_equal(cJSON_GetObjectItem(i, "name")->valuestring, "serveur-\xc3\xa9t\xc3\xa9-\xf0\x9f\x9a\x80");
    tm_test_aws_expect_attr(i, "metadata_options", "null");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regions, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_instances, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_security_groups, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_network_interfaces, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_snapshots_images_and_sharing, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_adversarial, s_setup, tm_test_aws_parse_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
