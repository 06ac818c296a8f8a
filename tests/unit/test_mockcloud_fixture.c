/* mockcloud's fixture loader: response files, scenario.json and directories, with hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/mockcloud/mock_int.h"
#include "core/str.h"

static char s_err[512];

static int s_parse(struct tm__mock_fixture *f, const char *text, size_t len) {
    s_err[0] = '\0';
    memset(f, 0, sizeof(*f));
    return tm__mock_fixture_parse(f, "x.http", text, len, s_err, sizeof(s_err));
}

/* Expects a parse error whose message contains `want`. */
static void s_expect_error(const char *text, const char *want) {
    struct tm__mock_fixture f;
    int rc = s_parse(&f, text, strlen(text));
    if (rc == TM_OK) {
        tm__mock_fixture_clean_up(&f);
        fail_msg("accepted: %s", text);
    }
    assert_int_equal(rc, TM_ERR_PARSE);
    if (!strstr(s_err, want))
        fail_msg("error '%s' does not contain '%s'", s_err, want);
}

static void test_full_fixture(void **state) {
    (void)state;
    static const char t[] = "# S3 GetBucketPolicy\n"
                            "service: s3\n"
                            "region: us-east-1\n"
                            "operation:GetBucketPolicy\n"
                            "method: GET\n"
                            "path: /demo%20bucket\n"
                            "param: policy\n"
                            "param: Marker=a=b==\n"
                            "header: X-aws-ec2-metadata-token=tok\n"
                            "header: X-Presence\n"
                            "access-key: AKIAEXAMPLE\n"
                            "auth: sigv4\n"
                            "status: 404\n"
                            "content-type: application/xml\n"
                            "response-header: x-amz-bucket-region: eu-west-1\n"
                            "response-header: ETag=\"abc\"\n"
                            "\n"
                            "line1\r\n\r\nline3\0binary\n";
    struct tm__mock_fixture f;
    assert_int_equal(s_parse(&f, t, sizeof(t) - 1), TM_OK);
    assert_string_equal(f.service, "s3");
    assert_string_equal(f.region, "us-east-1");
    assert_string_equal(f.operation, "GetBucketPolicy");
    assert_string_equal(f.method, "GET");
    assert_string_equal(f.path, "/demo%20bucket");
    assert_int_equal(f.n_params, 2);
    assert_string_equal(f.params[0].name, "policy");
    assert_null(f.params[0].value);
    assert_string_equal(f.params[1].name, "Marker");
    assert_string_equal(f.params[1].value, "a=b==");
    assert_int_equal(f.n_headers, 2);
    assert_null(f.headers[1].value);
    assert_string_equal(f.access_key, "AKIAEXAMPLE");
    assert_false(f.auth_none);
    assert_int_equal(f.n_match, 11);
    assert_int_equal(f.status, 404);
    assert_string_equal(f.content_type, "application/xml");
    assert_int_equal(f.n_response_headers, 2);
    assert_string_equal(f.response_headers[0].name, "x-amz-bucket-region");
    assert_string_equal(f.response_headers[0].value, "eu-west-1");
    assert_string_equal(f.response_headers[1].value, "\"abc\"");
    /* The body is byte for byte, CRs and NULs included. */
    assert_int_equal(f.body_len, 22);
    assert_memory_equal(f.body, "line1\r\n\r\nline3\0binary\n", 22);
    tm__mock_fixture_clean_up(&f);
}

static void test_defaults_and_crlf(void **state) {
    (void)state;
    struct tm__mock_fixture f;
    const char *t = "service: imds\r\nauth: none\r\nregion: *\r\n\r\n";
    assert_int_equal(s_parse(&f, t, strlen(t)), TM_OK);
    assert_int_equal(f.status, 200);
    assert_true(f.auth_none);
    assert_null(f.region); /* "*" matches any, but still counts as a line */
    assert_int_equal(f.n_match, 3);
    assert_int_equal(f.body_len, 0);
    tm__mock_fixture_clean_up(&f);
}

static void test_errors_name_the_line(void **state) {
    (void)state;
    s_expect_error("service: s3\nmethod: GET\npaht: /x\n\n", "x.http:3: unknown key 'paht'");
    s_expect_error("service: s3\nno colon here\n\n", "x.http:2: bad line");
    s_expect_error("service: s3\nmethod: GET\n", "x.http:3: missing blank line");
    s_expect_error("service: s3\nmethod: GET", "x.http:2: missing blank line");
    s_expect_error("", "x.http:1: missing blank line");
    s_expect_error("service: s3\nservice: iam\n\n", "x.http:2: 'service' given twice");
    s_expect_error("status: 20\n\n", "x.http:1: status must be");
    s_expect_error("status: 600\n\n", "x.http:1: status must be");
    s_expect_error("status: 2OO\n\n", "x.http:1: status must be");
    s_expect_error("auth: maybe\n\n", "x.http:1: auth must be sigv4 or none");
    s_expect_error("param: =v\n\n", "x.http:1: param needs a name");
    s_expect_error("header: Bad Name=v\n\n", "x.http:1: header name");
    s_expect_error("method: get\n\n", "x.http:1: method must be");
    s_expect_error("path: relative\n\n", "x.http:1: path must start with /");
    s_expect_error("path: /a b\n\n", "x.http:1: path must be as sent");
    s_expect_error("path: /caf\xc3\xa9\n\n", "x.http:1: path must be as sent");
    s_expect_error("path: /a?b=c\n\n", "x.http:1: path must be as sent");
    s_expect_error("service: s 3\n\n", "x.http:1: service must be");
    s_expect_error("service:\n\n", "x.http:1: 'service' has no value");
    s_expect_error("response-header: Content-Length: 5\n\n", "may not set Content-Length");
    s_expect_error("response-header: nothing\n\n", "response-header must be");
    s_expect_error("# comment\n  \nbody", "x.http:2: a match line may not start with white space");
    s_expect_error("Service: s3\n\n", "unknown key 'Service'");
    s_expect_error("service: s3\x01\n\n", "control character");
    static const char nul[] = "service: s\0x\n\n";
    struct tm__mock_fixture f;
    assert_int_equal(s_parse(&f, nul, sizeof(nul) - 1), TM_ERR_PARSE);
    assert_non_null(strstr(s_err, "control character"));
}

static void test_long_unknown_key_is_cut(void **state) {
    (void)state;
    char t[8192];
    memset(t, 'k', 5000);
    strcpy(t + 5000, ": v\n\n");
    struct tm__mock_fixture f;
    assert_int_equal(s_parse(&f, t, strlen(t)), TM_ERR_PARSE);
    assert_true(strlen(s_err) < 200);
}

static void test_scenario(void **state) {
    (void)state;
    struct tm__mock_fixture_set set;
    memset(&set, 0, sizeof(set));
    const char *ok =
        "{\"account\":\"111122223333\",\"regions\":[\"us-east-1\"],\"credentials\":[{\"access_key_id\":\"AKIA1\","
        "\"secret_access_key\":\"s1\"},{\"access_key_id\":\"ASIA2\",\"secret_access_key\":\"s2\","
        "\"session_token\":\"t2\",\"arn\":\"arn:aws:sts::111122223333:assumed-role/r/s\"}],\"note\":\"x\"}";
    assert_int_equal(tm__mock_scenario_parse(&set, "scenario.json", ok, strlen(ok), s_err, sizeof(s_err)), TM_OK);
    assert_string_equal(set.account, "111122223333");
    assert_int_equal(set.n_regions, 1);
    assert_int_equal(set.n_credentials, 2);
    assert_string_equal(tm__mock_credential_find(&set, "ASIA2")->session_token, "t2");
    assert_null(tm__mock_credential_find(&set, "AKIA3"));
    assert_null(tm__mock_credential_find(&set, NULL));
    /* Release through the set's destructor (it owns these on load). */
    struct tm__mock_fixture_set *heap = calloc(1, sizeof(*heap));
    *heap = set;
    tm__mock_fixture_set_destroy(heap);

    const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"account\": 111122223333}", "\"account\" must be a 12-digit string"},
        {"{\"account\": \"1234\"}", "12-digit"},
        {"{\"regions\": \"us-east-1\"}", "\"regions\" must be an array"},
        {"{\"regions\": [1]}", "\"regions\"[0]"},
        {"{\"credentials\": {}}", "\"credentials\" must be an array"},
        {"{\"credentials\": [{\"access_key_id\": \"A\"}]}", "needs access_key_id and secret_access_key"},
        {"{\"credentials\": [{\"access_key_id\": \"A\", \"secret_access_key\": \"s\", \"secret\": \"x\"}]}",
         "unknown key \"secret\""},
        {"{\"credentials\": [{\"access_key_id\": \"A\", \"secret_access_key\": 5}]}", "must be one non-empty string"},
        {"{\"credentials\": [{\"access_key_id\": \"A\", \"secret_access_key\": \"s\"},"
         "{\"access_key_id\": \"A\", \"secret_access_key\": \"t\"}]}",
         "listed twice"},
        {"[1, 2]", "top level must be an object"},
        {"{\n\"account\": \"111122223333\",\n\"regions\": [\n}", "scenario.json:4: not valid JSON"},
        {"", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        heap = calloc(1, sizeof(*heap));
        s_err[0] = '\0';
        int rc = tm__mock_scenario_parse(heap, "scenario.json", bad[i].text, strlen(bad[i].text), s_err, sizeof(s_err));
        tm__mock_fixture_set_destroy(heap);
        assert_int_equal(rc, TM_ERR_PARSE);
        if (!strstr(s_err, bad[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, s_err, bad[i].want);
    }
}

static void s_write(const char *dir, const char *rel, const char *text) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[1100];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_load_directory(void **state) {
    (void)state;
    char dir[] = "/tmp/tm_mock_fixtures_XXXXXX";
    assert_non_null(mkdtemp(dir));
    s_write(dir, "scenario.json", "{\"account\":\"111122223333\",\"credentials\":[]}");
    s_write(dir, "s3/us-east-1/b.http", "service: s3\n\nb");
    s_write(dir, "a.http", "service: sts\n\na");
    s_write(dir, "s3/a.http", "service: s3\n\nsa");
    s_write(dir, "notes.txt", "not a fixture");
    s_write(dir, ".hidden/x.http", "garbage");
    struct tm__mock_fixture_set *set = NULL;
    assert_int_equal(tm__mock_fixture_set_load(&set, dir, s_err, sizeof(s_err)), TM_OK);
    assert_int_equal(set->n_fixtures, 3);
    assert_string_equal(set->fixtures[0].file, "a.http");
    assert_string_equal(set->fixtures[1].file, "s3/a.http");
    assert_string_equal(set->fixtures[2].file, "s3/us-east-1/b.http");
    assert_memory_equal(set->fixtures[2].body, "b", 1);
    tm__mock_fixture_set_destroy(set);

    s_write(dir, "s3/us-east-1/c.http", "service: s3\nregion us-east-1\n\n");
    set = NULL;
    assert_int_equal(tm__mock_fixture_set_load(&set, dir, s_err, sizeof(s_err)), TM_ERR_PARSE);
    assert_null(set);
    assert_non_null(strstr(s_err, "s3/us-east-1/c.http:2: bad line"));
    s_write(dir, "s3/us-east-1/c.http", "service: s3\n\n");
    s_write(dir, "scenario.json", "{\"account\": 1}");
    assert_int_equal(tm__mock_fixture_set_load(&set, dir, s_err, sizeof(s_err)), TM_ERR_PARSE);
    assert_non_null(strstr(s_err, "scenario.json"));

    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tm__mock_fixture_set_load(&set, dir, s_err, sizeof(s_err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(s_err, "not a directory"));
}

static void test_mocktest_scenario_loads(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = NULL;
    int rc = tm__mock_fixture_set_load(&set, "fixtures/aws/mocktest", s_err, sizeof(s_err));
    if (rc)
        fail_msg("%s", s_err);
    assert_true(set->n_fixtures >= 10);
    assert_non_null(tm__mock_credential_find(set, "AKIAMOCKTEST00000001"));
    tm__mock_fixture_set_destroy(set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_fixture),
        cmocka_unit_test(test_defaults_and_crlf),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_long_unknown_key_is_cut),
        cmocka_unit_test(test_scenario),
        cmocka_unit_test(test_load_directory),
        cmocka_unit_test(test_mocktest_scenario_loads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
