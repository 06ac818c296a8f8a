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

struct fixture {
    struct tm_snapshot *snap;
    struct tm_aws_sink sink;
    char err[512];
};

static int s_setup(void **state) {
    struct fixture *f = calloc(1, sizeof(*f));
    assert_int_equal(tm_snapshot_new(&f->snap, "aws"), TM_OK);
    f->sink = (struct tm_aws_sink){f->snap, "aws", ACCT, "eu-west-1"};
    *state = f;
    return 0;
}

static int s_teardown(void **state) {
    struct fixture *f = *state;
    tm_snapshot_destroy(f->snap);
    free(f);
    return 0;
}

static void s_expect(const cJSON *res, const char *key, const char *json) {
    char *got = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "attrs"), key));
    if (!got || strcmp(got, json) != 0)
        fail_msg("%s: got %s, want %s", key, got ? got : "(absent)", json);
    free(got);
}

static void test_instances(void **state) {
    struct fixture *f = *state;
    char *marker = NULL;
    assert_int_equal(
        tm__aws_rds_parse_instances(&f->sink, s_instances, strlen(s_instances), &marker, f->err, sizeof(f->err)),
        TM_OK);
    assert_string_equal(marker, "orders-db-marker");
    free(marker);
    const cJSON *db = tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":db:orders-db");
    assert_non_null(db);
    s_expect(db, "publicly_accessible", "true");
    s_expect(db, "endpoint", "\"orders-db.abcdefghijkl.eu-west-1.rds.amazonaws.com\"");
    s_expect(db, "port", "5432");
    s_expect(db, "engine", "\"postgres\"");
    s_expect(db, "security_group_ids", "[\"sg-0d0ddb0ddbEXAMPLE\"]");
    s_expect(db, "storage_encrypted", "false");
    s_expect(db, "iam_database_authentication", "false");
    char *links = cJSON_PrintUnformatted(cJSON_GetObjectItem(db, "links"));
    assert_string_equal(links, "[{\"kind\":\"protected-by\",\"to\":\"arn:aws:ec2:eu-west-1:" ACCT
                               ":security-group/sg-0d0ddb0ddbEXAMPLE\"}]");
    free(links);
    /* Without an ARN in the answer (older API versions) it is built as AWS formats it; no endpoint yet. */
    const cJSON *c = tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":db:creating-db");
    assert_non_null(c);
    s_expect(c, "endpoint", "null");
    s_expect(c, "port", "null");
    s_expect(c, "security_group_ids", "[]");
}

static void test_snapshots_and_restore(void **state) {
    struct fixture *f = *state;
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
        tm__aws_rds_parse_snapshots(&f->sink, false, ids, snaps, strlen(snaps), &marker, f->err, sizeof(f->err)),
        TM_OK);
    assert_null(marker);
    assert_int_equal(
        tm__aws_rds_parse_snapshots(&f->sink, true, ids, clusters, strlen(clusters), &marker, f->err, sizeof(f->err)),
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
    s_expect(sn, "encrypted", "false");
    const cJSON *cs =
        tm_snapshot_find(f->snap, "arn:aws:rds:eu-west-1:" ACCT ":cluster-snapshot:rds:analytics-2024-01-01");
    assert_string_equal(cJSON_GetObjectItem(cs, "type")->valuestring, "aws:rds:cluster-snapshot");
    s_expect(cs, "encrypted", "true");

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
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, pub, strlen(pub), f->err, sizeof(f->err)), TM_OK);
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
    assert_int_equal(tm__aws_rds_parse_restore(&v, true, priv, strlen(priv), f->err, sizeof(f->err)), TM_OK);
    assert_int_equal(cJSON_GetArraySize(v), 0);
    cJSON_Delete(v);
    /* The cluster answer is not a DB snapshot answer. */
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, priv, strlen(priv), f->err, sizeof(f->err)), TM_ERR_PARSE);
    assert_null(v);
}

static void test_adversarial(void **state) {
    struct fixture *f = *state;
    char *marker = NULL;
    for (size_t cut = 0; cut < strlen(s_instances); cut += 11)
        assert_int_equal(tm__aws_rds_parse_instances(&f->sink, s_instances, cut, &marker, f->err, sizeof(f->err)),
                         TM_ERR_PARSE);
    static const char bad_port[] = "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
                                   "<DBInstanceIdentifier>x</DBInstanceIdentifier><Endpoint><Port>99999999999999999999"
                                   "</Port></Endpoint></DBInstance></DBInstances></DescribeDBInstancesResult>"
                                   "</DescribeDBInstancesResponse>";
    assert_int_equal(tm__aws_rds_parse_instances(&f->sink, bad_port, strlen(bad_port), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    static const char bad_arn[] = "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances><DBInstance>"
                                  "<DBInstanceIdentifier>x</DBInstanceIdentifier><DBInstanceArn>db:x</DBInstanceArn>"
                                  "</DBInstance></DBInstances></DescribeDBInstancesResult>"
                                  "</DescribeDBInstancesResponse>";
    assert_int_equal(tm__aws_rds_parse_instances(&f->sink, bad_arn, strlen(bad_arn), &marker, f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
    static const char no_id[] = "<DescribeDBSnapshotsResponse><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>"
                                "<Encrypted>true</Encrypted></DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult>"
                                "</DescribeDBSnapshotsResponse>";
    cJSON *ids = cJSON_CreateArray();
    assert_int_equal(
        tm__aws_rds_parse_snapshots(&f->sink, false, ids, no_id, strlen(no_id), &marker, f->err, sizeof(f->err)),
        TM_ERR_PARSE);
    cJSON_Delete(ids);
    cJSON *v = NULL;
    static const char missing[] = "<DescribeDBSnapshotAttributesResponse><DescribeDBSnapshotAttributesResult>"
                                  "</DescribeDBSnapshotAttributesResult></DescribeDBSnapshotAttributesResponse>";
    assert_int_equal(tm__aws_rds_parse_restore(&v, false, missing, strlen(missing), f->err, sizeof(f->err)),
                     TM_ERR_PARSE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_instances, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_snapshots_and_restore, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_adversarial, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
