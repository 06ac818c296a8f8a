/* mockcloud's fault injection (seeded, exclusive rates, deny lists, token buckets) and the error
 * shapes each AWS protocol answers with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mock_int.h"

static struct tm__mock_faults *s_faults(const struct tm_mock_options *o) {
    struct tm__mock_faults *f = NULL;
    char err[256];
    int rc = tm__mock_faults_new(&f, o, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    return f;
}

static void test_same_seed_same_faults(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    o.seed = 42;
    o.latency_ms = 30;
    o.jitter_ms = 10;
    o.throttle_rate = 0.2;
    o.reset_rate = 0.05;
    o.error_rate = 0.05;
    o.truncate_rate = 0.05;
    o.malformed_rate = 0.05;
    struct tm__mock_faults *a = s_faults(&o), *b = s_faults(&o);
    o.seed = 43;
    struct tm__mock_faults *c = s_faults(&o);
    size_t counts[8] = {0};
    int differ = 0;
    for (uint64_t seq = 1; seq <= 20000; seq++) {
        struct tm__mock_fault_plan pa, pb, pc;
        tm__mock_faults_plan(&pa, a, seq, "sts", "GetCallerIdentity", "us-east-1", true, 0);
        tm__mock_faults_plan(&pb, b, seq, "sts", "GetCallerIdentity", "us-east-1", true, 0);
        tm__mock_faults_plan(&pc, c, seq, "sts", "GetCallerIdentity", "us-east-1", true, 0);
        assert_int_equal(pa.fault, pb.fault);
        assert_int_equal(pa.delay_ms, pb.delay_ms);
        assert_true(pa.rng == pb.rng);
        assert_true(pa.delay_ms >= 20 && pa.delay_ms <= 40);
        differ += pa.fault != pc.fault;
        counts[pa.fault]++;
    }
    assert_true(differ > 1000);
    /* Rates land near their probabilities (20000 draws: a few standard deviations of slack). */
    assert_in_range(counts[TM__MOCK_FAULT_THROTTLE], 3700, 4300);
    assert_in_range(counts[TM__MOCK_FAULT_RESET], 850, 1150);
    assert_in_range(counts[TM__MOCK_FAULT_ERROR], 850, 1150);
    assert_in_range(counts[TM__MOCK_FAULT_TRUNCATE], 850, 1150);
    assert_in_range(counts[TM__MOCK_FAULT_MALFORMED], 850, 1150);
    assert_in_range(counts[TM__MOCK_FAULT_NONE], 11300, 12700);
    tm__mock_faults_destroy(a);
    tm__mock_faults_destroy(b);
    tm__mock_faults_destroy(c);
}

static void test_unsigned_gets_only_latency(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    o.reset_rate = 1;
    o.latency_ms = 5;
    const char *deny[] = {"GetRole", NULL};
    o.deny = deny;
    struct tm__mock_faults *f = s_faults(&o);
    struct tm__mock_fault_plan p;
    tm__mock_faults_plan(&p, f, 1, "imds", NULL, NULL, false, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    assert_int_equal(p.delay_ms, 5);
    tm__mock_faults_plan(&p, f, 1, "iam", "GetRole", "us-east-1", false, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    tm__mock_faults_plan(&p, f, 1, "iam", "GetRole", "us-east-1", true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_DENY);
    tm__mock_faults_plan(&p, f, 1, "iam", "ListRoles", "us-east-1", true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_RESET);
    tm__mock_faults_destroy(f);
}

static void test_deny_names(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    const char *deny[] = {"s3:GetBucketPolicy", "ListKeys", NULL};
    o.deny = deny;
    struct tm__mock_faults *f = s_faults(&o);
    struct tm__mock_fault_plan p;
    tm__mock_faults_plan(&p, f, 1, "s3", "GetBucketPolicy", NULL, true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_DENY);
    tm__mock_faults_plan(&p, f, 1, "s3control", "GetBucketPolicy", NULL, true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    tm__mock_faults_plan(&p, f, 1, "kms", "ListKeys", "eu-west-1", true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_DENY);
    tm__mock_faults_plan(&p, f, 1, "kms", "ListAliases", "eu-west-1", true, 0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    tm__mock_faults_destroy(f);
    const char *bad[] = {"s3:", NULL};
    o.deny = bad;
    struct tm__mock_faults *g = NULL;
    char err[256];
    assert_int_equal(tm__mock_faults_new(&g, &o, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "--deny"));
}

static void test_rate_validation(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    struct tm__mock_faults *f = NULL;
    char err[256];
    o.throttle_rate = 0.6;
    o.error_rate = 0.5;
    assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "at most 1"));
    o.error_rate = -0.1;
    assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_ERR_INVALID);
    o.error_rate = 0.4;
    assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_OK);
    tm__mock_faults_destroy(f);
}

static void test_rate_limit_parse(void **state) {
    (void)state;
    char *op;
    double rps, burst;
    assert_int_equal(tm__mock_rate_limit_parse(&op, &rps, &burst, "ec2:DescribeInstances=20:100"), TM_OK);
    assert_string_equal(op, "ec2:DescribeInstances");
    assert_true(rps == 20 && burst == 100);
    free(op);
    assert_int_equal(tm__mock_rate_limit_parse(&op, &rps, &burst, "ListRoles=0.5"), TM_OK);
    assert_true(rps == 0.5 && burst == 1);
    free(op);
    assert_int_equal(tm__mock_rate_limit_parse(NULL, &rps, &burst, "50"), TM_OK);
    assert_true(rps == 50 && burst == 50);
    const char *bad[] = {"ListRoles",       "=5",           "ListRoles=0",   "ListRoles=-1",  "ListRoles=x",
                         "ListRoles=5:0.5", "ListRoles=5:", "ListRoles=inf", "ListRoles=nan", "ListRoles=5:7:8"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        op = NULL;
        assert_int_equal(tm__mock_rate_limit_parse(&op, &rps, &burst, bad[i]), TM_ERR_INVALID);
        assert_null(op);
    }
}

static void test_token_bucket(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    struct tm_mock_rate_limit rl[] = {{"ec2:DescribeInstances", 2, 5}};
    o.rate_limits = rl;
    o.n_rate_limits = 1;
    o.rate_limit_default_rps = 1;
    o.rate_limit_default_burst = 1;
    struct tm__mock_faults *f = s_faults(&o);
    struct tm__mock_fault_plan p;
    const uint64_t t0 = 1000000000ULL, s = 1000000000ULL;
    uint64_t seq = 0;
    /* A full bucket of 5, then throttled. */
    for (int i = 0; i < 5; i++) {
        tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "us-east-1", true, t0);
        assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    }
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "us-east-1", true, t0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_RATE_LIMIT);
    /* Another region has its own bucket. */
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "eu-west-1", true, t0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    /* Half a second refills one token at 2/s. */
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "us-east-1", true, t0 + s / 2);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "us-east-1", true, t0 + s / 2);
    assert_int_equal(p.fault, TM__MOCK_FAULT_RATE_LIMIT);
    /* A long pause refills to the burst, not beyond. */
    int ok = 0;
    for (int i = 0; i < 10; i++) {
        tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "us-east-1", true, t0 + 100 * s);
        ok += p.fault == TM__MOCK_FAULT_NONE;
    }
    assert_int_equal(ok, 5);
    /* Operations without their own limit share the default: 1/s, burst 1, per operation. */
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeVpcs", "us-east-1", true, t0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeVpcs", "us-east-1", true, t0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_RATE_LIMIT);
    tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeSubnets", "us-east-1", true, t0);
    assert_int_equal(p.fault, TM__MOCK_FAULT_NONE);
    /* Sustained rate: over 10 s at 100 requests a second, about 2 per second get through. */
    ok = 0;
    for (int i = 0; i < 1000; i++) {
        tm__mock_faults_plan(&p, f, ++seq, "ec2", "DescribeInstances", "ap-south-1", true, t0 + (uint64_t)i * s / 100);
        ok += p.fault == TM__MOCK_FAULT_NONE;
    }
    assert_in_range(ok, 5 + 19, 5 + 21);
    tm__mock_faults_destroy(f);
}

/* ---- error shapes ---- */

static struct tm__mock_response s_render(enum tm__mock_protocol proto, enum tm__mock_error err, const char *service,
                                         const char *op) {
    struct tm__mock_response r;
    tm__mock_response_init(&r);
    struct tm__mock_error_context ctx = {
        .service = service,
        .operation = op,
        .access_key = "AKIA1",
        .principal_arn = "arn:aws:iam::111122223333:user/u",
        .path = "/bucket/a%20key",
        .request_id = "11111111-2222-4333-8444-555555555555",
        .host_id = "hostid",
        .detail = NULL,
    };
    assert_int_equal(tm__mock_error_render(&r, proto, err, &ctx), TM_OK);
    return r;
}

#define HAS(buf, s)                                                                                                    \
    do {                                                                                                               \
        if (!strstr(tm_buf_str(&(buf)), (s)))                                                                          \
            fail_msg("missing %s in:\n%s", (s), tm_buf_str(&(buf)));                                                   \
    } while (0)

static void test_error_shapes(void **state) {
    (void)state;
    struct tm__mock_response r = s_render(TM__MOCK_PROTO_QUERY, TM__MOCK_ERR_THROTTLE, "sts", "GetCallerIdentity");
    assert_int_equal(r.status, 400);
    HAS(r.body, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">");
    HAS(r.body, "<Type>Sender</Type>");
    HAS(r.body, "<Code>Throttling</Code>");
    HAS(r.body, "<Message>Rate exceeded</Message>");
    HAS(r.body, "<RequestId>11111111-2222-4333-8444-555555555555</RequestId>");
    HAS(r.head, "Content-Type: text/xml\r\n");
    tm__mock_response_clean_up(&r);

    r = s_render(TM__MOCK_PROTO_QUERY, TM__MOCK_ERR_DENIED, "iam", "ListRoles");
    assert_int_equal(r.status, 403);
    HAS(r.body, "<Code>AccessDenied</Code>");
    HAS(r.body, "User: arn:aws:iam::111122223333:user/u is not authorized to perform: iam:ListRoles");
    tm__mock_response_clean_up(&r);

    r = s_render(TM__MOCK_PROTO_EC2, TM__MOCK_ERR_THROTTLE, "ec2", "DescribeInstances");
    assert_int_equal(r.status, 503);
    HAS(r.body, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                "</Error></Errors><RequestID>11111111-2222-4333-8444-555555555555</RequestID></Response>");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_EC2, TM__MOCK_ERR_DENIED, "ec2", "DescribeInstances");
    assert_int_equal(r.status, 403);
    HAS(r.body, "<Code>UnauthorizedOperation</Code>");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_EC2, TM__MOCK_ERR_UNKNOWN_OPERATION, "ec2", "DescribeNothing");
    HAS(r.body, "The action DescribeNothing is not valid for this web service.");
    tm__mock_response_clean_up(&r);

    r = s_render(TM__MOCK_PROTO_JSON, TM__MOCK_ERR_THROTTLE, "kms", "ListKeys");
    assert_int_equal(r.status, 400);
    assert_string_equal(tm_buf_str(&r.body), "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}");
    HAS(r.head, "Content-Type: application/x-amz-json-1.1\r\n");
    HAS(r.head, "x-amzn-RequestId: 11111111-2222-4333-8444-555555555555\r\n");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_JSON, TM__MOCK_ERR_DENIED, "secretsmanager", "ListSecrets");
    HAS(r.body, "\"__type\":\"AccessDeniedException\"");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_JSON, TM__MOCK_ERR_UNKNOWN_OPERATION, "dynamodb", "Nope");
    assert_string_equal(tm_buf_str(&r.body), "{\"__type\":\"UnknownOperationException\"}");
    HAS(r.head, "Content-Type: application/x-amz-json-1.0\r\n");
    tm__mock_response_clean_up(&r);

    r = s_render(TM__MOCK_PROTO_REST_JSON, TM__MOCK_ERR_THROTTLE, "lambda", "ListFunctions");
    assert_int_equal(r.status, 429);
    HAS(r.head, "x-amzn-ErrorType: TooManyRequestsException\r\n");
    HAS(r.body, "\"Reason\":\"CallerRateLimitExceeded\"");
    HAS(r.body, "\"message\":\"Rate exceeded\"");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_REST_JSON, TM__MOCK_ERR_THROTTLE, "apigateway", "GetRestApis");
    assert_int_equal(r.status, 429);
    HAS(r.head, "x-amzn-ErrorType: TooManyRequestsException\r\n");
    assert_string_equal(tm_buf_str(&r.body), "{\"message\":\"Too Many Requests\"}");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_REST_JSON, TM__MOCK_ERR_BAD_SIGNATURE, "lambda", "ListFunctions");
    assert_int_equal(r.status, 403);
    HAS(r.head, "x-amzn-ErrorType: InvalidSignatureException\r\n");
    tm__mock_response_clean_up(&r);

    r = s_render(TM__MOCK_PROTO_REST_XML, TM__MOCK_ERR_THROTTLE, "s3", "GetBucketPolicy");
    assert_int_equal(r.status, 503);
    HAS(r.body, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>");
    HAS(r.body, "<RequestId>11111111-2222-4333-8444-555555555555</RequestId><HostId>hostid</HostId></Error>");
    HAS(r.head, "x-amz-request-id: 11111111-2222-4333-8444-555555555555\r\n");
    HAS(r.head, "Content-Type: application/xml\r\n");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_REST_XML, TM__MOCK_ERR_UNKNOWN_KEY, "s3", NULL);
    assert_int_equal(r.status, 403);
    HAS(r.body, "<Code>InvalidAccessKeyId</Code>");
    HAS(r.body, "<AWSAccessKeyId>AKIA1</AWSAccessKeyId>");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_REST_XML, TM__MOCK_ERR_NOT_FOUND, "s3", NULL);
    assert_int_equal(r.status, 404);
    HAS(r.body, "<Code>NoSuchKey</Code>");
    HAS(r.body, "<Key>a key</Key>");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_REST_XML, TM__MOCK_ERR_DENIED, "s3", "GetBucketPolicy");
    HAS(r.body, "<Code>AccessDenied</Code><Message>Access Denied</Message>");
    tm__mock_response_clean_up(&r);

    /* Auth errors, as the query protocol words them. */
    r = s_render(TM__MOCK_PROTO_QUERY, TM__MOCK_ERR_BAD_SIGNATURE, "iam", "ListRoles");
    assert_int_equal(r.status, 403);
    HAS(r.body, "<Code>SignatureDoesNotMatch</Code>");
    HAS(r.body, "The request signature we calculated does not match the signature you provided.");
    tm__mock_response_clean_up(&r);
    r = s_render(TM__MOCK_PROTO_QUERY, TM__MOCK_ERR_UNKNOWN_KEY, "iam", "ListRoles");
    HAS(r.body, "<Code>InvalidClientTokenId</Code>");
    HAS(r.body, "<Message>The security token included in the request is invalid.</Message>");
    tm__mock_response_clean_up(&r);
}

static void test_protocol_for(void **state) {
    (void)state;
    struct tm__mock_request req;
    memset(&req, 0, sizeof(req));
    assert_int_equal(tm__mock_protocol_for(&req, "s3"), TM__MOCK_PROTO_REST_XML);
    assert_int_equal(tm__mock_protocol_for(&req, "lambda"), TM__MOCK_PROTO_REST_JSON);
    assert_int_equal(tm__mock_protocol_for(&req, "iam"), TM__MOCK_PROTO_QUERY);
    assert_int_equal(tm__mock_protocol_for(&req, "kms"), TM__MOCK_PROTO_JSON);
    assert_int_equal(tm__mock_protocol_for(&req, "no-such-service"), TM__MOCK_PROTO_REST_JSON);
    req.op_source = TM__MOCK_OP_ACTION;
    assert_int_equal(tm__mock_protocol_for(&req, "ec2"), TM__MOCK_PROTO_EC2);
    assert_int_equal(tm__mock_protocol_for(&req, "sqs"), TM__MOCK_PROTO_QUERY);
    req.op_source = TM__MOCK_OP_TARGET;
    assert_int_equal(tm__mock_protocol_for(&req, "sqs"), TM__MOCK_PROTO_JSON);
    char a[37], b[37], c[37];
    tm__mock_request_id(a, 1, 7);
    tm__mock_request_id(b, 1, 7);
    tm__mock_request_id(c, 1, 8);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 36);
    assert_int_equal(a[14], '4');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_faults),
        cmocka_unit_test(test_unsigned_gets_only_latency),
        cmocka_unit_test(test_deny_names),
        cmocka_unit_test(test_rate_validation),
        cmocka_unit_test(test_rate_limit_parse),
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_protocol_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
