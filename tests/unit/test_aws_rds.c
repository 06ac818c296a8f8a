#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/snapshot.h"
#include "providers/aws/rds.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_parse.h"

#define ACCT "111122223333"
#define NS "xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\""

static const char s_instances[] =
    "<DescribeDBInstancesResponse " NS ">\n"
    "  <DescribeDBInstancesResult>\n"
    "    <DBInstances>\n"
    "      <DBInstance>\n"
    "        <DBInstanceIdentifier>orders-db</DBInstanceIdentifier>\n"
    "        <DBInstanceClass>db.t3.micro</DBInstanceClass>\n"
    "        <Engine>postgres</Engine>\n"
    "        <DBInstanceStatus>available</DBInstanceStatus>\n"
    "        <Endpoint><Address>orders-db.abcdefghijkl.eu-west-1.rds.amazonaws.com</Address><Port>5432</Port>"
    "<HostedZoneId>Z29XKXDKYMONMX</HostedZoneId></Endpoint>\n"
    "        <VpcSecurityGroups>\n"
    "          <VpcSecurityGroupMembership><VpcSecurityGroupId>sg-0d0ddb0ddbEXAMPLE</VpcSecurityGroupId>"
    "<Status>active</Status></VpcSecurityGroupMembership>\n"
    "        </VpcSecurityGroups>\n"
    "        <PubliclyAccessible>true</PubliclyAccessible>\n"
    "        <StorageEncrypted>false</StorageEncrypted>\n"
    "        <IAMDatabaseAuthenticationEnabled>false</IAMDatabaseAuthenticationEnabled>\n"
    "        <DBInstanceArn>arn:aws:rds:eu-west-1:" ACCT ":db:orders-db</DBInstanceArn>\n"
    "      </DBInstance>\n"
    "      <DBInstance>\n"
    "        <DBInstanceIdentifier>creating-db</DBInstanceIdentifier>\n"
    "        <Engine>mysql</Engine>\n"
    "        <DBInstanceStatus>creating</DBInstanceStatus>\n"
    "        <VpcSecurityGroups/>\n"
    "        <PubliclyAccessible>false</PubliclyAccessible>\n"
    "        <StorageEncrypted>true</StorageEncrypted>\n"
    "        <IAMDatabaseAuthenticationEnabled>true</IAMDatabaseAuthenticationEnabled>\n"
    "      </DBInstance>\n"
    "    </DBInstances>\n"
    "    <Marker>orders-db-marker</Marker>\n"
    "  </DescribeDBInstancesResult>\n"
    "  <ResponseMetadata><RequestId>01b2685a-b978-11d3-f272-7cd6cce12cc5</RequestId></ResponseMetadata>\n"
    "</DescribeDBInstancesResponse>\n";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("eu-west-1", "rds", NULL);
    return 0;
}

static void test_instances(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *marker = NULL;
    assert_int_equal(
        tm__aws_rds_parse_instances(&f->sink, s_instances, strlen(s_instances), &marker, f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    assert_string_equal(marker, "orders-db-marker");
    free(marker);
    const cJSON *db = tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":db:orders-db");
    assert_non_null(db);
    tm_test_aws_expect_attr(db, "publicly_accessible", "true");
    tm_test_aws_expect_attr(db, "endpoint", "\"orders-db.abcdefghijkl.eu-west-1.rds.amazonaws.com\"");
    tm_test_aws_expect_attr(db, "port", "5432");
    tm_test_aws_expect_attr(db, "engine", "\"postgres\"");
    tm_test_aws_expect_attr(db, "security_group_ids", "[\"sg-0d0ddb0ddbEXAMPLE\"]");
    tm_test_aws_expect_attr(db, "storage_encrypted", "false");
    tm_test_aws_expect_attr(db, "iam_database_authentication", "false");
    char *links = cJSON_PrintUnformatted(cJSON_GetObjectItem(db, "links"));
    assert_string_equal(links, "[{\"kind\":\"protected-by\",\"to\":\"arn:aws:ec2:eu-west-1:" ACCT
                               ":security-group/sg-0d0ddb0ddbEXAMPLE\"}]");
    free(links);
    /* Without an ARN in the answer (older API versions) it is built as AWS formats it; no endpoint yet. */
    const cJSON *c = tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":db:creating-db");
    assert_non_null(c);
    tm_test_aws_expect_attr(c, "endpoint", "null");
    tm_test_aws_expect_attr(c, "port", "null");
    tm_test_aws_expect_attr(c, "security_group_ids", "[]");
}

static void test_snapshots_and_restore(void **state) {
    struct tm_test_aws_parse *f = *state;
    static const char snaps[] =
        "<DescribeDBSnapshotsResponse " NS ">\n"
        "  <DescribeDBSnapshotsResult>\n"
        "    <DBSnapshots>\n"
        "      <DBSnapshot>\n"
        "        <Port>5432</Port>\n"
        "        <Engine>postgres</Engine>\n"
        "        <Status>available</Status>\n"
        "        <SnapshotType>manual</SnapshotType>\n"
        "        <Encrypted>false</Encrypted>\n"
        "        <DBInstanceIdentifier>orders-db</DBInstanceIdentifier>\n"
        "        <DBSnapshotIdentifier>orders-2024-01</DBSnapshotIdentifier>\n"
        "        <DBSnapshotArn>arn:aws:rds:eu-west-1:" ACCT ":snapshot:orders-2024-01</DBSnapshotArn>\n"
        "      </DBSnapshot>\n"
        "    </DBSnapshots>\n"
        "  </DescribeDBSnapshotsResult>\n"
        "  <ResponseMetadata><RequestId>c4191173-8506-11e0-90aa-eb648410240d</RequestId></ResponseMetadata>\n"
        "</DescribeDBSnapshotsResponse>\n";
    static const char clusters[] =
        "<DescribeDBClusterSnapshotsResponse " NS ">\n"
        "  <DescribeDBClusterSnapshotsResult>\n"
        "    <DBClusterSnapshots>\n"
        "      <DBClusterSnapshot>\n"
        "        <DBClusterSnapshotIdentifier>rds:analytics-2024-01-01</DBClusterSnapshotIdentifier>\n"
        "        <DBClusterIdentifier>analytics</DBClusterIdentifier>\n"
        "        <SnapshotType>automated</SnapshotType>\n"
        "        <StorageEncrypted>true</StorageEncrypted>\n"
        "        <DBClusterSnapshotArn>arn:aws:rds:eu-west-1:" ACCT
        ":cluster-snapshot:rds:analytics-2024-01-01</DBClusterSnapshotArn>\n"
        "      </DBClusterSnapshot>\n"
        "    </DBClusterSnapshots>\n"
        "    <Marker>m2</Marker>\n"
        "  </DescribeDBClusterSnapshotsResult>\n"
        "</DescribeDBClusterSnapshotsResponse>\n";
    cJSON *ids = cJSON_CreateArray();
    char *marker = NULL;
    assert_int_equal(
        tm__aws_rds_parse_snapshots(&f->sink, false, ids, snaps, strlen(snaps), &marker, f->errmsg, sizeof(f->errmsg)),
        TM_OK);
    assert_null(marker);
    assert_int_equal(tm__aws_rds_parse_snapshots(&f->sink, true, ids, clusters, strlen(clusters), &marker, f->errmsg,
                                                 sizeof(f->errmsg)),
                     TM_OK);
    assert_string_equal(marker, "m2");
    free(marker);
    char *s = cJSON_PrintUnformatted(ids);
    assert_string_equal(s, "[{\"id\":\"orders-2024-01\",\"arn\":\"arn:aws:rds:eu-west-1:" ACCT
                           ":snapshot:orders-2024-01\"},{\"id\":\"rds:analytics-2024-01-01\",\"arn\":"
                           "\"arn:aws:rds:eu-west-1:" ACCT ":cluster-snapshot:rds:analytics-2024-01-01\"}]");
    free(s);
    cJSON_Delete(ids);
    const cJSON *sn = tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":snapshot:orders-2024-01");
    assert_string_equal(cJSON_GetObjectItem(sn, "type")->valuestring, "aws:rds:snapshot");
    tm_test_aws_expect_attr(sn, "encrypted", "false");
    const cJSON *cs =
        tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":cluster-snapshot:rds:analytics-2024-01-01");
    assert_string_equal(cJSON_GetObjectItem(cs, "type")->valuestring, "aws:rds:cluster-snapshot");
    tm_test_aws_expect_attr(cs, "encrypted", "true");

    static const char pub[] =
        "<DescribeDBSnapshotAttributesResponse " NS ">\n"
        "  <DescribeDBSnapshotAttributesResult>\n"
        "    <DBSnapshotAttributesResult>\n"
        "      <DBSnapshotAttributes>\n"
        "        <DBSnapshotAttribute>\n"
        "          <AttributeName>restore</AttributeName>\n"
        "          <AttributeValues><AttributeValue>all</AttributeValue>"
        "<AttributeValue>444455556666</AttributeValue></AttributeValues>\n"
        "        </DBSnapshotAttribute>\n"
        "      </DBSnapshotAttributes>\n"
        "      <DBSnapshotIdentifier>orders-2024-01</DBSnapshotIdentifier>\n"
        "    </DBSnapshotAttributesResult>\n"
        "  </DescribeDBSnapshotAttributesResult>\n"
        "  <ResponseMetadata><RequestId>33cde6e1-3c55-11e6-a3b3-example</RequestId></ResponseMetadata>\n"
        "</DescribeDBSnapshotAttributesResponse>\n";
    cJSON *v = NULL;
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, pub, strlen(pub), f->errmsg, sizeof(f->errmsg)), TM_OK);
    s = cJSON_PrintUnformatted(v);
    assert_string_equal(s, "[\"all\",\"444455556666\"]");
    free(s);
    cJSON_Delete(v);
    static const char priv[] = "<DescribeDBClusterSnapshotAttributesResponse " NS ">"
                               "<DescribeDBClusterSnapshotAttributesResult><DBClusterSnapshotAttributesResult>"
                               "<DBClusterSnapshotAttributes><DBClusterSnapshotAttribute>"
                               "<AttributeName>restore</AttributeName><AttributeValues/>"
                               "</DBClusterSnapshotAttribute></DBClusterSnapshotAttributes>"
                               "<DBClusterSnapshotIdentifier>x</DBClusterSnapshotIdentifier>"
                               "</DBClusterSnapshotAttributesResult></DescribeDBClusterSnapshotAttributesResult>"
                               "</DescribeDBClusterSnapshotAttributesResponse>";
    assert_int_equal(tm__aws_rds_parse_restore(&v, true, priv, strlen(priv), f->errmsg, sizeof(f->errmsg)), TM_OK);
    assert_int_equal(cJSON_GetArraySize(v), 0);
    cJSON_Delete(v);
    /* The cluster answer is not a DB snapshot answer. */
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, priv, strlen(priv), f->errmsg, sizeof(f->errmsg)),
                     TM_ERR_PARSE);
    assert_null(v);
}

static void test_adversarial(void **state) {
    struct tm_test_aws_parse *f = *state;
    char *marker = NULL;
    for (size_t cut = 0; cut < strlen(s_instances); cut += 11)
        assert_int_equal(tm__aws_rds_parse_instances(&f->sink, s_instances, cut, &marker, f->errmsg, sizeof(f->errmsg)),
                         TM_ERR_PARSE);
    static const char bad_port[] = "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
                                   "<DBInstanceIdentifier>x</DBInstanceIdentifier><Endpoint><Port>99999999999999999999"
                                   "</Port></Endpoint></DBInstance></DBInstances></DescribeDBInstancesResult>"
                                   "</DescribeDBInstancesResponse>";
    assert_int_equal(
        tm__aws_rds_parse_instances(&f->sink, bad_port, strlen(bad_port), &marker, f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    static const char bad_arn[] = "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
                                  "<DBInstanceIdentifier>x</DBInstanceIdentifier><DBInstanceArn>db:x</DBInstanceArn>"
                                  "</DBInstance></DBInstances></DescribeDBInstancesResult>"
                                  "</DescribeDBInstancesResponse>";
    assert_int_equal(
        tm__aws_rds_parse_instances(&f->sink, bad_arn, strlen(bad_arn), &marker, f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    static const char no_id[] = "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
                                "<Encrypted>true</Encrypted></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
                                "</DescribeDBSnapshotsResponse>";
    cJSON *ids = cJSON_CreateArray();
    assert_int_equal(
        tm__aws_rds_parse_snapshots(&f->sink, false, ids, no_id, strlen(no_id), &marker, f->errmsg, sizeof(f->errmsg)),
        TM_ERR_PARSE);
    cJSON_Delete(ids);
    cJSON *v = NULL;
    static const char missing[] = "<DescribeDBSnapshotAttributesResponse><DescribeDBSnapshotAttributesResult>"
                                  "</DescribeDBSnapshotAttributesResult></DescribeDBSnapshotAttributesResponse>";
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, missing, strlen(missing), f->errmsg, sizeof(f->errmsg)),
                     TM_ERR_PARSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_instances, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_snapshots_and_restore, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_adversarial, s_setup, tm_test_aws_parse_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
