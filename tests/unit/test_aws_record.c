/* --record: responses become mockcloud fixtures (loaded back with mockcloud's own parser), with secrets
 * removed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/mockcloud/mock_int.h"
#include "core/json.h"
#include "providers/aws/record.h"
#include "tests/support/aws_fake.h"

static void test_scrub_json(void **state) {
    (void)state;
    static const char body[] =
        "{\"Functions\":[{\"FunctionName\":\"orders-api\",\"MemorySize\":512,\"Timeout\":3.5,"
        "\"Environment\":{\"Variables\":{\"DB_PASSWORD\":\"hunter2\",\"STRIPE_KEY\":\"sk_live_abc\",\"EMPTY\":\"\"}},"
        "\"Layers\":[{\"Arn\":\"arn:aws:lambda:us-east-1:111122223333:layer:x:1\"}]}],"
        "\"Credentials\":{\"AccessKeyId\":\"ASIAXX\",\"SecretAccessKey\":\"wJalr/secret\",\"SessionToken\":\"FwoG\"},"
        "\"NextMarker\":\"m2\",\"NextToken\":\"keep-me\"}";
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tm_aws_record_scrub(&out, &len, body, strlen(body), "application/json"), TM_OK);
    assert_int_equal(len, strlen(out));
    assert_null(strstr(out, "hunter2"));
    assert_null(strstr(out, "sk_live_abc"));
    assert_null(strstr(out, "wJalr/secret"));
    assert_null(strstr(out, "FwoG"));
    /* Names, identifiers and pagination stay; numbers keep their value. */
    assert_non_null(strstr(out, "\"DB_PASSWORD\":\"\""));
    assert_non_null(strstr(out, "\"STRIPE_KEY\":\"\""));
    assert_non_null(strstr(out, "\"AccessKeyId\":\"ASIAXX\""));
    assert_non_null(strstr(out, "\"NextToken\":\"keep-me\""));
    cJSON *doc = cJSON_Parse(out);
    assert_non_null(doc);
    assert_true(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Functions"), 0), "Timeout")->valuedouble ==
        3.5);
    cJSON_Delete(doc);
    free(out);

    /* Nothing secret: the very bytes, formatting included. */
    static const char plain[] = "{ \"Policies\" : [ ],\n  \"NextToken\": \"t\" }";
    assert_int_equal(tm_aws_record_scrub(&out, &len, plain, strlen(plain), "application/x-amz-json-1.1"), TM_OK);
    assert_int_equal(len, strlen(plain));
    assert_memory_equal(out, plain, len);
    free(out);
    /* Not JSON although it says so: kept (it is what the service sent). */
    assert_int_equal(tm_aws_record_scrub(&out, &len, "{\"Token\":", 9, "application/json"), TM_OK);
    assert_memory_equal(out, "{\"Token\":", 9);
    free(out);
}

static void test_scrub_xml(void **state) {
    (void)state;
    static const char body[] =
        "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
        "<Credentials><AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>"
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
        "<SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW</SessionToken>"
        "<Expiration>2019-11-09T13:34:41Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(tm_aws_record_scrub(&out, &len, body, strlen(body), "text/xml"), TM_OK);
    assert_null(strstr(out, "wJalrXUtnFEMI"));
    assert_null(strstr(out, "AQoDYXdzEPT"));
    assert_non_null(strstr(out, "ASIAIOSFODNN7EXAMPLE"));
    assert_non_null(strstr(out, "<Expiration>2019-11-09T13:34:41Z</Expiration>"));
    free(out);
    /* Sniffed without a content type. */
    assert_int_equal(tm_aws_record_scrub(&out, &len, body, strlen(body), NULL), TM_OK);
    assert_null(strstr(out, "wJalrXUtnFEMI"));
    free(out);
    static const char plain[] = "<ListRolesResponse><ListRolesResult/></ListRolesResponse>\n";
    assert_int_equal(tm_aws_record_scrub(&out, &len, plain, strlen(plain), "text/xml"), TM_OK);
    assert_string_equal(out, plain);
    free(out);
}

static const struct tm_test_aws_reply s_replies[] = {
    {"ListAccessKeys", "UserName=alice", NULL, 0, NULL,
     "<ListAccessKeysResponse><ListAccessKeysResult><AccessKeyMetadata/><IsTruncated>false</IsTruncated>"
     "</ListAccessKeysResult></ListAccessKeysResponse>",
     0, "text/xml"},
    {"ListAccessKeys", NULL, NULL, 403, "AccessDenied",
     "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no</Message></Error>"
     "</ErrorResponse>",
     0, "text/xml"},
    {"DescribeOrganization", NULL, NULL, 0, NULL, "{\"Organization\":{\"Id\":\"o-1\"}}", 0,
     "application/x-amz-json-1.1"},
    {"DescribeInstances", NULL, NULL, 0, NULL,
     "<DescribeInstancesResponse><reservationSet/></DescribeInstancesResponse>", 0, "text/xml;charset=UTF-8"},
};

struct ctx {
    int done;
    int last_status;
};

static void s_done(void *user_data, const struct tm_aws_transport_response *resp) {
    struct ctx *c = user_data;
    c->done++;
    c->last_status = resp->status;
}

static void test_recorded_files_load_in_mockcloud(void **state) {
    (void)state;
    char tmpl[] = "/tmp/tmscan-record-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/out", tmpl);

    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct tm_test_aws_fake fake;
    tm_test_aws_fake_init(&fake, &loop, s_replies, sizeof(s_replies) / sizeof(s_replies[0]));
    struct tm_aws_recorder *rec = NULL;
    char err[512];
    assert_int_equal(tm_aws_recorder_new(&rec, &fake.base, dir, NULL, err, sizeof(err)), TM_OK);
    struct tm_aws_transport *t = tm_aws_recorder_transport(rec);
    struct ctx c = {0};
    struct tm_aws_param alice[] = {{"UserName", "alice", false}};
    struct tm_aws_param bob[] = {{"UserName", "bob", false}};
    struct tm_aws_param ec2[] = {{"MaxResults", "1000", false}, {"Filter.1.Name", "a=b c", false}};
    struct tm_aws_wire_call calls[] = {
        {.service = "iam",
         .signing_name = "iam",
         .operation = "ListAccessKeys",
         .region = "us-east-1",
         .method = "POST",
         .path = "/",
         .params = alice,
         .param_count = 1},
        {.service = "iam",
         .signing_name = "iam",
         .operation = "ListAccessKeys",
         .region = "us-east-1",
         .method = "POST",
         .path = "/",
         .params = bob,
         .param_count = 1},
        {.service = "organizations",
         .signing_name = "organizations",
         .operation = "DescribeOrganization",
         .region = "us-east-1",
         .json = true,
         .method = "POST",
         .path = "/"},
        {.service = "ec2",
         .signing_name = "ec2",
         .operation = "DescribeInstances",
         .region = "eu-west-1",
         .method = "POST",
         .path = "/",
         .params = ec2,
         .param_count = 2},
    };
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(t->send(t, &calls[i], s_done, &c), TM_OK);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(c.done, 4);
    t->close(t);
    assert_int_equal(fake.queue.closed, 1);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);

    struct tm_snapshot *snap = NULL;
    assert_int_equal(tm_snapshot_new(&snap, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(snap, "accounts", "111122223333"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(snap, "regions", "us-east-1"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(snap, "regions", "eu-west-1"), TM_OK);
    assert_int_equal(tm_aws_recorder_finish(rec, snap, err, sizeof(err)), TM_OK);

    struct tm__mock_fixture_set *set = NULL;
    int rc = tm__mock_fixture_set_load(&set, dir, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(set->n_fixtures, 4);
    assert_string_equal(set->account, "111122223333");
    assert_int_equal(set->n_credentials, 1);
    assert_string_equal(set->credentials[0].access_key_id, TM_AWS_RECORD_ACCESS_KEY_ID);
    assert_int_equal(strlen(set->credentials[0].secret_access_key), 40);
    int seen = 0;
    for (size_t i = 0; i < set->n_fixtures; i++) {
        const struct tm__mock_fixture *f = &set->fixtures[i];
        assert_string_equal(f->method, "POST");
        assert_string_equal(f->path, "/");
        if (strcmp(f->operation, "DescribeOrganization") == 0) {
            seen |= 1;
            assert_string_equal(f->file, "organizations/us-east-1/DescribeOrganization.http");
            assert_string_equal(f->service, "organizations");
            assert_string_equal(f->content_type, "application/x-amz-json-1.1");
            assert_int_equal(f->n_params, 0);
        } else if (strcmp(f->operation, "DescribeInstances") == 0) {
            seen |= 2;
            assert_string_equal(f->region, "eu-west-1");
            assert_int_equal(f->n_params, 2);
            /* Sorted by name; the value is written plain, as mockcloud compares it. */
            assert_string_equal(f->params[0].name, "Filter.1.Name");
            assert_string_equal(f->params[0].value, "a=b c");
        } else if (f->status == 403) {
            seen |= 4;
            assert_string_equal(f->params[0].value, "bob");
            assert_non_null(strstr(f->body, "<Code>AccessDenied</Code>"));
        } else {
            seen |= 8;
            assert_int_equal(f->status, 200);
            assert_string_equal(f->params[0].value, "alice");
            assert_true(strncmp(f->file, "iam/us-east-1/ListAccessKeys--", 30) == 0);
        }
    }
    assert_int_equal(seen, 15);
    tm__mock_fixture_set_destroy(set);

    /* A second recording into the same directory is refused. */
    struct tm_aws_recorder *again = NULL;
    assert_int_equal(tm_aws_recorder_new(&again, &fake.base, dir, NULL, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "not empty"));

    tm_snapshot_destroy(snap);
    tm_aws_recorder_destroy(rec);
    tm_test_aws_fake_clean_up(&fake);
    assert_int_equal(uv_loop_close(&loop), 0);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scrub_json),
        cmocka_unit_test(test_scrub_xml),
        cmocka_unit_test(test_recorded_files_load_in_mockcloud),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
