/* mockcloud's matcher: specificity, pagination, parameters from query, form and JSON bodies, S3's
 * presence-only parameters, headers, auth, and the index agreeing with a plain scan. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mock_int.h"

struct s_named {
    const char *name;
    const char *text;
};

static struct tm__mock_fixture_set *s_set(const struct s_named *files, size_t n) {
    struct tm__mock_fixture_set *set = calloc(1, sizeof(*set));
    assert_non_null(set);
    set->fixtures = calloc(n, sizeof(*set->fixtures));
    assert_non_null(set->fixtures);
    char err[256];
    for (size_t i = 0; i < n; i++) {
        int rc = tm__mock_fixture_parse(&set->fixtures[i], files[i].name, files[i].text, strlen(files[i].text), err,
                                        sizeof(err));
        if (rc)
            fail_msg("%s", err);
        set->n_fixtures++;
    }
    assert_int_equal(tm__mock_index_build(set), TM_OK);
    return set;
}

/* The file chosen for a raw HTTP request, checking that the index and a plain scan agree. */
static const char *s_choose(const struct tm__mock_fixture_set *set, const char *raw) {
    static const struct tm__mock_http_limits lim = {65536, 65536, 100};
    struct tm__mock_http_request http;
    size_t consumed;
    int status;
    assert_int_equal(tm__mock_http_parse(&http, &consumed, &status, raw, strlen(raw), &lim), TM__MOCK_HTTP_COMPLETE);
    struct tm__mock_request req;
    assert_int_equal(tm__mock_request_init(&req, &http), TM_OK);
    const struct tm__mock_fixture *f = tm__mock_match(set, &req);
    struct tm__mock_fixture_set plain = *set;
    plain.index = NULL;
    const struct tm__mock_fixture *g = tm__mock_match(&plain, &req);
    assert_ptr_equal(f, g);
    tm__mock_request_clean_up(&req);
    tm__mock_http_request_clean_up(&http);
    return f ? f->file : "(none)";
}

#define SIGN(svc, region)                                                                                              \
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIA1/20240101/" region "/" svc                                        \
    "/aws4_request, SignedHeaders=host, Signature=00\r\n"

/* Sorted by name, as the loader sorts them. */
static const struct s_named s_files[] = {
    {"iam/ListRoles-1.http", "service: iam\nregion: us-east-1\noperation: ListRoles\n\np1"},
    {"iam/ListRoles-2.http", "service: iam\nregion: us-east-1\noperation: ListRoles\nparam: Marker=tok/en+1==\n\np2"},
    {"iam/ListRoles-3.http", "service: iam\nregion: us-east-1\noperation: ListRoles\nparam: Marker=tok2\n\np3"},
    {"imds/role.http", "service: imds\nmethod: GET\npath: /latest/meta-data/iam/security-credentials/\n"
                       "header: X-aws-ec2-metadata-token=TOKEN\nauth: none\n\nrole"},
    {"imds/token.http",
     "service: imds\nmethod: PUT\npath: /latest/api/token\nheader: X-aws-ec2-metadata-token-ttl-seconds\n"
     "auth: none\n\ntoken"},
    {"imds/z401.http", "service: imds\nmethod: GET\nauth: none\nstatus: 401\n\n"},
    {"kms/ListKeys-1.http", "service: kms\noperation: ListKeys\n\nk1"},
    {"kms/ListKeys-2.http", "service: kms\noperation: ListKeys\nparam: Marker=m2\n\nk2"},
    {"kms/ListKeys-limit.http", "service: kms\noperation: ListKeys\nparam: Limit=50\n\nklimit"},
    {"s3/GetBucketAcl.http", "service: s3\noperation: GetBucketAcl\nmethod: GET\npath: /b1\nparam: acl\n\nacl"},
    {"s3/GetBucketPolicy.http",
     "service: s3\noperation: GetBucketPolicy\nmethod: GET\npath: /b1\nparam: policy\n\npol"},
    {"s3/HeadBucket.http", "service: s3\noperation: HeadBucket\nmethod: HEAD\npath: /b1\n\n"},
    {"s3/ListObjects.http",
     "service: s3\noperation: ListObjectsV2\nmethod: GET\npath: /b1\nparam: list-type=2\n\nlist"},
    {"s3/z-any-region.http", "service: s3\nregion: *\noperation: ListBuckets\nmethod: GET\npath: /\n\nbuckets"},
    {"sts/a.http", "service: sts\noperation: GetCallerIdentity\n\nwho-a"},
    {"sts/b.http", "service: sts\noperation: GetCallerIdentity\n\nwho-b"},
    {"sts/c-session.http", "service: sts\noperation: GetCallerIdentity\naccess-key: ASIA9\n\nwho-session"},
    {"sts/web.http", "service: sts\noperation: AssumeRoleWithWebIdentity\nauth: none\n\nweb"},
};

static struct tm__mock_fixture_set *s_standard(void) {
    return s_set(s_files, sizeof(s_files) / sizeof(s_files[0]));
}

static void test_pagination_query_and_form(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = s_standard();
#define FORM                                                                                                           \
    "POST / HTTP/1.1\r\nHost: h\r\n" SIGN(                                                                             \
        "iam",                                                                                                         \
        "us-east-1") "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s"
    char raw[1024];
    const char *body = "Action=ListRoles&Version=2010-05-08";
    snprintf(raw, sizeof(raw), FORM, strlen(body), body);
    assert_string_equal(s_choose(set, raw), "iam/ListRoles-1.http");
    /* The form value is percent-decoded (+ is a space in forms, %2B a plus). */
    body = "Action=ListRoles&Version=2010-05-08&Marker=tok%2Fen%2B1%3D%3D";
    snprintf(raw, sizeof(raw), FORM, strlen(body), body);
    assert_string_equal(s_choose(set, raw), "iam/ListRoles-2.http");
    body = "Action=ListRoles&Marker=tok2";
    snprintf(raw, sizeof(raw), FORM, strlen(body), body);
    assert_string_equal(s_choose(set, raw), "iam/ListRoles-3.http");
    /* An unknown marker falls back to the first page's file: fewer lines, still all holding. */
    body = "Action=ListRoles&Marker=nope";
    snprintf(raw, sizeof(raw), FORM, strlen(body), body);
    assert_string_equal(s_choose(set, raw), "iam/ListRoles-1.http");
    /* The same in the query string (GET). */
    assert_string_equal(
        s_choose(set, "GET /?Action=ListRoles&Marker=tok2 HTTP/1.1\r\nHost: h\r\n" SIGN("iam", "us-east-1") "\r\n"),
        "iam/ListRoles-3.http");
    /* Region and service come from the credential scope. */
    assert_string_equal(s_choose(set, "GET /?Action=ListRoles HTTP/1.1\r\nHost: h\r\n" SIGN("iam", "eu-west-1") "\r\n"),
                        "(none)");
    assert_string_equal(s_choose(set, "GET /?Action=ListRoles HTTP/1.1\r\nHost: h\r\n" SIGN("sts", "us-east-1") "\r\n"),
                        "(none)");
    tm__mock_fixture_set_destroy(set);
}

static void test_json_body_params(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = s_standard();
#define JSONREQ                                                                                                        \
    "POST / HTTP/1.1\r\nHost: h\r\n" SIGN("kms", "us-east-1") "X-Amz-Target: TrentService.ListKeys\r\n"                \
                                                              "Content-Type: application/x-amz-json-1.1\r\n"           \
                                                              "Content-Length: %zu\r\n\r\n%s"
    char raw[1024];
    const char *bodies[][2] = {
        {"{}", "kms/ListKeys-1.http"},
        {"{\"Marker\":\"m2\"}", "kms/ListKeys-2.http"},
        {"{\"Limit\":50}", "kms/ListKeys-limit.http"},
        {"{\"Limit\":5e1}", "kms/ListKeys-limit.http"},
        {"{\"Limit\":\"50\"}", "kms/ListKeys-limit.http"},
        {"{\"Limit\":51}", "kms/ListKeys-1.http"},
        {"{\"Nested\":{\"Marker\":\"m2\"}}", "kms/ListKeys-1.http"},
        {"{\"Marker\":[\"m2\"]}", "kms/ListKeys-1.http"},
        {"not json at all", "kms/ListKeys-1.http"},
        {"[\"Marker\",\"m2\"]", "kms/ListKeys-1.http"},
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        snprintf(raw, sizeof(raw), JSONREQ, strlen(bodies[i][0]), bodies[i][0]);
        const char *got = s_choose(set, raw);
        if (strcmp(got, bodies[i][1]) != 0)
            fail_msg("body %s: got %s, want %s", bodies[i][0], got, bodies[i][1]);
    }
    /* The operation comes from X-Amz-Target: another one matches nothing here. */
    snprintf(raw, sizeof(raw),
             "POST / HTTP/1.1\r\nHost: h\r\n" SIGN("kms", "us-east-1") "X-Amz-Target: TrentService.ListAliases\r\n"
                                                                       "Content-Length: 2\r\n\r\n{}");
    assert_string_equal(s_choose(set, raw), "(none)");
    assert_false(tm__mock_set_has_operation(set, "kms", "ListAliases"));
    assert_true(tm__mock_set_has_operation(set, "kms", "ListKeys"));
    assert_false(tm__mock_set_has_operation(set, "iam", "ListKeys"));
    tm__mock_fixture_set_destroy(set);
}

static void test_s3_presence_params(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = s_standard();
    assert_string_equal(s_choose(set, "GET /b1?policy HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "s3/GetBucketPolicy.http");
    assert_string_equal(s_choose(set, "GET /b1?policy= HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "s3/GetBucketPolicy.http");
    assert_string_equal(s_choose(set, "GET /b1?acl HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "s3/GetBucketAcl.http");
    assert_string_equal(
        s_choose(set, "GET /b1?list-type=2&prefix=a HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "eu-west-1") "\r\n"),
        "s3/ListObjects.http");
    assert_string_equal(s_choose(set, "GET /b1?list-type=1 HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "(none)");
    assert_string_equal(s_choose(set, "HEAD /b1 HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "s3/HeadBucket.http");
    /* The path is exact: no trailing-slash or case folding. */
    assert_string_equal(s_choose(set, "GET /b1/?policy HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "(none)");
    assert_string_equal(s_choose(set, "GET /B1?policy HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "us-east-1") "\r\n"),
                        "(none)");
    /* REST operation lines are not matched against the request: "region: *" matches any region. */
    assert_string_equal(s_choose(set, "GET / HTTP/1.1\r\nHost: h\r\n" SIGN("s3", "ap-south-1") "\r\n"),
                        "s3/z-any-region.http");
    tm__mock_fixture_set_destroy(set);
}

static void test_ties_and_access_key(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = s_standard();
#define WHO                                                                                                            \
    "POST / HTTP/1.1\r\nHost: h\r\n"                                                                                   \
    "Authorization: AWS4-HMAC-SHA256 Credential=%s/20240101/us-east-1/sts/aws4_request, "                              \
    "SignedHeaders=host, Signature=00\r\nContent-Type: application/x-www-form-urlencoded\r\n"                          \
    "Content-Length: 24\r\n\r\nAction=GetCallerIdentity"
    char raw[1024];
    snprintf(raw, sizeof(raw), WHO, "AKIA1");
    assert_string_equal(s_choose(set, raw), "sts/a.http"); /* tie between a and b: path order */
    snprintf(raw, sizeof(raw), WHO, "ASIA9");
    assert_string_equal(s_choose(set, raw), "sts/c-session.http");
    tm__mock_fixture_set_destroy(set);
}

static void test_unsigned_and_headers(void **state) {
    (void)state;
    struct tm__mock_fixture_set *set = s_standard();
    assert_string_equal(s_choose(set, "PUT /latest/api/token HTTP/1.1\r\nHost: h\r\n"
                                      "X-aws-ec2-metadata-token-ttl-seconds: 21600\r\nContent-Length: 0\r\n\r\n"),
                        "imds/token.http");
    assert_string_equal(s_choose(set, "PUT /latest/api/token HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"),
                        "(none)");
    assert_string_equal(s_choose(set, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: h\r\n"
                                      "x-AWS-ec2-METADATA-token: TOKEN\r\n\r\n"),
                        "imds/role.http");
    assert_string_equal(s_choose(set, "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1\r\nHost: h\r\n"
                                      "X-aws-ec2-metadata-token: token\r\n\r\n"),
                        "imds/z401.http");
    assert_string_equal(s_choose(set, "GET /latest/meta-data/ HTTP/1.1\r\nHost: h\r\n\r\n"), "imds/z401.http");
    /* Unsigned requests never reach sigv4 fixtures; auth: none ones take a query Action too. */
    assert_string_equal(
        s_choose(set, "POST /?Action=GetCallerIdentity HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"), "(none)");
    assert_string_equal(s_choose(set, "POST /?Action=AssumeRoleWithWebIdentity&RoleArn=x HTTP/1.1\r\nHost: h\r\n"
                                      "Content-Length: 0\r\n\r\n"),
                        "sts/web.http");
    /* A non-AWS Authorization scheme (the ECS token, a bearer token) leaves a request unsigned. */
    assert_string_equal(s_choose(set, "GET /latest/meta-data/ HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n"),
                        "imds/z401.http");
    tm__mock_fixture_set_destroy(set);
}

static void test_request_fields(void **state) {
    (void)state;
    static const struct tm__mock_http_limits lim = {65536, 65536, 100};
    const char *cases[][2] = {
        {"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIA1/20240101/us-east-1/sts\r\n\r\n",
         "malformed"},
        {"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 SignedHeaders=host, Signature=0\r\n\r\n",
         "malformed"},
        {"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: AWS AKIA1:c2lnbmF0dXJl\r\n\r\n", "malformed"},
        {"GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA1%2F20240101%2Feu-west-1%2Fs3%2Faws4_request"
         "&X-Amz-Signature=00 HTTP/1.1\r\nHost: h\r\n\r\n",
         "presigned"},
        {"GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256 HTTP/1.1\r\nHost: h\r\n\r\n", "malformed"},
        {"GET /?AWSAccessKeyId=AKIA1&Signature=x&Expires=1 HTTP/1.1\r\nHost: h\r\n\r\n", "malformed"},
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "unsigned"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm__mock_http_request http;
        size_t consumed;
        int status;
        assert_int_equal(tm__mock_http_parse(&http, &consumed, &status, cases[i][0], strlen(cases[i][0]), &lim),
                         TM__MOCK_HTTP_COMPLETE);
        struct tm__mock_request req;
        assert_int_equal(tm__mock_request_init(&req, &http), TM_OK);
        if (strcmp(cases[i][1], "malformed") == 0) {
            assert_true(req.signed_request);
            assert_non_null(req.auth_error);
        } else if (strcmp(cases[i][1], "presigned") == 0) {
            assert_true(req.signed_request && req.presigned);
            assert_null(req.auth_error);
            assert_string_equal(req.access_key, "AKIA1");
            assert_string_equal(req.region, "eu-west-1");
            assert_string_equal(req.service, "s3");
        } else {
            assert_false(req.signed_request);
        }
        tm__mock_request_clean_up(&req);
        tm__mock_http_request_clean_up(&http);
    }
}

static void test_index_agrees_on_a_large_set(void **state) {
    (void)state;
    /* 600 generated fixtures across services, operations, paths and params; every request is checked
     * against a plain scan inside s_choose. */
    enum { N = 600 };
    struct s_named *files = calloc(N, sizeof(*files));
    char **texts = calloc(N, sizeof(char *));
    char **names = calloc(N, sizeof(char *));
    const char *svcs[] = {"iam", "sts", "s3", "kms"};
    for (int i = 0; i < N; i++) {
        texts[i] = malloc(256);
        names[i] = malloc(64);
        snprintf(names[i], 64, "f%04d.http", i);
        int k = i % 7;
        if (i % 11 == 0) /* parameter-only fixtures: candidates for every path and operation */
            snprintf(texts[i], 256, "service: %s\nparam: P=%d\n\n%d", svcs[i % 4], i % 3, i);
        else
            snprintf(texts[i], 256, "service: %s\n%s%c%s%s\n%d", svcs[i % 4], k < 5 ? "operation: Op" : "",
                     k < 5 ? (char)('A' + i % 5) : '#', k < 5 ? "\n" : " no operation\n", k % 2 ? "path: /p1\n" : "",
                     i);
        files[i].name = names[i];
        files[i].text = texts[i];
    }
    struct tm__mock_fixture_set *set = s_set(files, N);
    char raw[512];
    for (int s = 0; s < 4; s++) {
        for (int op = 0; op < 6; op++) {
            for (int p = 0; p < 3; p++) {
                snprintf(raw, sizeof(raw),
                         "GET /p%d?Action=Op%c&P=%d HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 "
                         "Credential=AKIA1/20240101/us-east-1/%s/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n",
                         p % 2, 'A' + op, p, svcs[s]);
                (void)s_choose(set, raw);
            }
        }
    }
    tm__mock_fixture_set_destroy(set);
    for (int i = 0; i < N; i++) {
        free(texts[i]);
        free(names[i]);
    }
    free(texts);
    free(names);
    free(files);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pagination_query_and_form),   cmocka_unit_test(test_json_body_params),
        cmocka_unit_test(test_s3_presence_params),          cmocka_unit_test(test_ties_and_access_key),
        cmocka_unit_test(test_unsigned_and_headers),        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_index_agrees_on_a_large_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
