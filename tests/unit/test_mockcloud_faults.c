/* mockcloud's fault injection (seeded, exclusive rates, deny lists, token buckets) and the error
 * shapes each AWS protocol answers with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
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

static bool s_admitted(struct tm__mock_faults *f, uint64_t *seq, const char *service, const char *op,
                       const char *region, uint64_t now_ns) {
    struct tm__mock_fault_plan p;
    tm__mock_faults_plan(&p, f, ++*seq, service, op, region, true, now_ns);
    assert_true(p.fault == TM__MOCK_FAULT_NONE || p.fault == TM__MOCK_FAULT_RATE_LIMIT);
    return p.fault == TM__MOCK_FAULT_NONE;
}

static void test_group_shares_one_bucket(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    const char *control[] = {"ListFunctions", "GetFunctionUrlConfig", "ListAliases", NULL};
    const char *apigw[] = {"GetStages", NULL};
    struct tm_mock_rate_limit_group groups[] = {{"lambda", control, 2, 3}, {"apigateway", apigw, 1, 1}};
    o.rate_limit_groups = groups;
    o.n_rate_limit_groups = 2;
    struct tm_mock_rate_limit rl[] = {{"lambda:GetPolicy", 1, 1}};
    o.rate_limits = rl;
    o.n_rate_limits = 1;
    struct tm__mock_faults *f = s_faults(&o);
    const uint64_t t0 = 1000000000ULL, s = 1000000000ULL;
    uint64_t seq = 0;
    /* Three tokens for the whole group: two operations draw them down together. */
    assert_true(s_admitted(f, &seq, "lambda", "ListFunctions", "us-east-1", t0));
    assert_true(s_admitted(f, &seq, "lambda", "GetFunctionUrlConfig", "us-east-1", t0));
    assert_true(s_admitted(f, &seq, "lambda", "GetFunctionUrlConfig", "us-east-1", t0));
    assert_false(s_admitted(f, &seq, "lambda", "ListFunctions", "us-east-1", t0));
    assert_false(s_admitted(f, &seq, "lambda", "GetFunctionUrlConfig", "us-east-1", t0));
    assert_false(s_admitted(f, &seq, "lambda", "ListAliases", "us-east-1", t0));
    /* Operations outside the group keep their own buckets or none. */
    assert_true(s_admitted(f, &seq, "lambda", "GetPolicy", "us-east-1", t0));
    assert_false(s_admitted(f, &seq, "lambda", "GetPolicy", "us-east-1", t0));
    for (int i = 0; i < 20; i++)
        assert_true(s_admitted(f, &seq, "lambda", "ListEventSourceMappings", "us-east-1", t0));
    /* The group belongs to its service: the same name elsewhere is not in it. */
    for (int i = 0; i < 5; i++)
        assert_true(s_admitted(f, &seq, "kms", "ListAliases", "us-east-1", t0));
    /* One bucket per region, as AWS meters it. */
    assert_true(s_admitted(f, &seq, "lambda", "ListAliases", "eu-west-1", t0));
    assert_true(s_admitted(f, &seq, "lambda", "ListAliases", "eu-west-1", t0));
    assert_true(s_admitted(f, &seq, "lambda", "ListFunctions", "eu-west-1", t0));
    assert_false(s_admitted(f, &seq, "lambda", "ListAliases", "eu-west-1", t0));
    /* Half a second at 2/s refills one token, which any operation of the group may take. */
    assert_true(s_admitted(f, &seq, "lambda", "ListAliases", "us-east-1", t0 + s / 2));
    assert_false(s_admitted(f, &seq, "lambda", "ListFunctions", "us-east-1", t0 + s / 2));
    /* A one-operation group is that operation's bucket. */
    assert_true(s_admitted(f, &seq, "apigateway", "GetStages", "us-east-1", t0));
    assert_false(s_admitted(f, &seq, "apigateway", "GetStages", "us-east-1", t0));
    /* Sustained: 100 requests a second over 10 s, spread over three operations, get about 2 a second
     * through in all, not 2 each. */
    int ok = 0;
    for (int i = 0; i < 1000; i++)
        ok += s_admitted(f, &seq, "lambda", control[i % 3], "ap-south-1", t0 + (uint64_t)i * s / 100);
    assert_in_range(ok, 3 + 19, 3 + 21);
    tm__mock_faults_destroy(f);
}

static void test_group_precedence(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    const char *ops[] = {"ListFunctions", "ListAliases", NULL};
    struct tm_mock_rate_limit_group groups[] = {{"lambda", ops, 1, 2}};
    o.rate_limit_groups = groups;
    o.n_rate_limit_groups = 1;
    /* ListAliases has its own bucket for lambda; "ListFunctions" alone (any service) loses to the group. */
    struct tm_mock_rate_limit rl[] = {{"lambda:ListAliases", 1, 5}, {"ListFunctions", 1, 10}};
    o.rate_limits = rl;
    o.n_rate_limits = 2;
    o.rate_limit_default_rps = 1;
    o.rate_limit_default_burst = 1;
    struct tm__mock_faults *f = s_faults(&o);
    const uint64_t t0 = 1000000000ULL;
    uint64_t seq = 0;
    int ok = 0;
    for (int i = 0; i < 10; i++)
        ok += s_admitted(f, &seq, "lambda", "ListFunctions", "us-east-1", t0);
    assert_int_equal(ok, 2);
    ok = 0;
    for (int i = 0; i < 10; i++)
        ok += s_admitted(f, &seq, "lambda", "ListAliases", "us-east-1", t0);
    assert_int_equal(ok, 5);
    /* The loose rule still holds outside the group's service; the default for the rest. */
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += s_admitted(f, &seq, "other", "ListFunctions", "us-east-1", t0);
    assert_int_equal(ok, 10);
    ok = 0;
    for (int i = 0; i < 5; i++)
        ok += s_admitted(f, &seq, "lambda", "GetPolicy", "us-east-1", t0);
    assert_int_equal(ok, 1);
    tm__mock_faults_destroy(f);
}

static void test_group_parse(void **state) {
    (void)state;
    struct tm__mock_group_spec g;
    char err[256];
    assert_int_equal(
        tm__mock_rate_limit_group_parse(
            &g, "lambda:ListFunctions,GetFunctionUrlConfig,ListAliases,ListEventSourceMappings=15", err, sizeof(err)),
        TM_OK);
    assert_string_equal(g.group.service, "lambda");
    assert_string_equal(g.group.operations[0], "ListFunctions");
    assert_string_equal(g.group.operations[3], "ListEventSourceMappings");
    assert_null(g.group.operations[4]);
    assert_true(g.group.rps == 15 && g.group.burst == 15);
    tm__mock_group_spec_clean_up(&g);
    assert_int_equal(tm__mock_rate_limit_group_parse(&g, "apigateway:GetStages=2.5:40", err, sizeof(err)), TM_OK);
    assert_null(g.group.operations[1]);
    assert_true(g.group.rps == 2.5 && g.group.burst == 40);
    /* The parsed group configures the limiter as is. */
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    o.rate_limit_groups = &g.group;
    o.n_rate_limit_groups = 1;
    tm__mock_faults_destroy(s_faults(&o));
    tm__mock_group_spec_clean_up(&g);
    tm__mock_group_spec_clean_up(&g); /* twice is harmless */
    assert_int_equal(tm__mock_rate_limit_group_parse(&g, "lambda:ListAliases=0.5", err, sizeof(err)), TM_OK);
    assert_true(g.group.burst == 1);
    tm__mock_group_spec_clean_up(&g);

    /* Each refusal says what is wrong. */
    const struct {
        const char *spec, *says;
    } bad[] = {
        {"", "is not SERVICE:OP"},
        {"lambda:ListAliases", "is not SERVICE:OP"},
        {"ListAliases,ListFunctions=15", "names no service"},
        {"=15", "names no service"},
        {":ListAliases=15", "'' is not a service name"},
        {"lam bda:ListAliases=15", "'lam bda' is not a service name"},
        {"lambda:=15", "an empty operation"},
        {"lambda:ListAliases,=15", "an empty operation"},
        {"lambda:,ListAliases=15", "an empty operation"},
        {"lambda:ListAliases,,ListFunctions=15", "an empty operation"},
        {"lambda:List/Aliases=15", "'List/Aliases' is not an operation name"},
        {"lambda:ListAliases:ListFunctions=15", "'ListAliases:ListFunctions' is not an operation name"},
        {"lambda:List\xc3\xa9"
         "Aliases=15",
         "is not an operation name"},
        {"lambda:ListAliases,ListFunctions,ListAliases=15", "ListAliases is listed twice"},
        {"lambda:ListAliases=", "'' is not RPS[:BURST]"},
        {"lambda:ListAliases=0", "'0' is not RPS[:BURST]"},
        {"lambda:ListAliases=-1", "is not RPS[:BURST]"},
        {"lambda:ListAliases=x", "is not RPS[:BURST]"},
        {"lambda:ListAliases=nan", "is not RPS[:BURST]"},
        {"lambda:ListAliases=inf", "is not RPS[:BURST]"},
        {"lambda:ListAliases=15:0.5", "'15:0.5' is not RPS[:BURST]"},
        {"lambda:ListAliases=15:", "is not RPS[:BURST]"},
        {"lambda:ListAliases=15:40:1", "is not RPS[:BURST]"},
        {"lambda:ListAliases=15=16", "is not RPS[:BURST]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        memset(&g, 0x5a, sizeof(g));
        if (tm__mock_rate_limit_group_parse(&g, bad[i].spec, err, sizeof(err)) != TM_ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i].spec);
        if (!strstr(err, bad[i].says))
            fail_msg("'%s': '%s' does not say '%s'", bad[i].spec, err, bad[i].says);
        assert_null(g.service);
        assert_null(g.operations);
    }
    /* An oversized list is parsed like any other. */
    char big[8192];
    size_t n = (size_t)snprintf(big, sizeof(big), "lambda:");
    for (int i = 0; i < 500; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%sOp%d", i ? "," : "", i);
    snprintf(big + n, sizeof(big) - n, "=3");
    assert_int_equal(tm__mock_rate_limit_group_parse(&g, big, err, sizeof(err)), TM_OK);
    assert_string_equal(g.group.operations[499], "Op499");
    assert_null(g.group.operations[500]);
    tm__mock_group_spec_clean_up(&g);
}

static void test_group_validation(void **state) {
    (void)state;
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    struct tm__mock_faults *f = NULL;
    char err[256];
    const char *a[] = {"ListFunctions", "ListAliases", NULL};
    const char *b[] = {"GetFunctionUrlConfig", "ListAliases", NULL};
    const char *none[] = {NULL};
    const char *badop[] = {"List Aliases", NULL};
    /* An operation in two groups of its service is refused; in groups of two services it is fine. */
    struct tm_mock_rate_limit_group two[] = {{"lambda", a, 15, 15}, {"lambda", b, 15, 15}};
    o.rate_limit_groups = two;
    o.n_rate_limit_groups = 2;
    assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_ERR_INVALID);
    assert_non_null(strstr(err, "lambda:ListAliases is in two groups"));
    assert_null(f);
    two[1].service = "kms";
    assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_OK);
    tm__mock_faults_destroy(f);
    const struct {
        struct tm_mock_rate_limit_group g;
        const char *says;
    } bad[] = {
        {{"lambda", none, 15, 15}, "names no operation"},
        {{"lambda", NULL, 15, 15}, "names no operation"},
        {{NULL, a, 15, 15}, "is not a service name"},
        {{"lam/bda", a, 15, 15}, "'lam/bda' is not a service name"},
        {{"lambda", badop, 15, 15}, "'List Aliases' is not an operation name"},
        {{"lambda", a, 0, 15}, "needs a rate above 0"},
        {{"lambda", a, 15, 0.5}, "a burst of 1 or more"},
        {{"lambda", a, INFINITY, 15}, "needs a rate above 0"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o.rate_limit_groups = &bad[i].g;
        o.n_rate_limit_groups = 1;
        err[0] = '\0';
        assert_int_equal(tm__mock_faults_new(&f, &o, err, sizeof(err)), TM_ERR_INVALID);
        if (!strstr(err, bad[i].says) || !strstr(err, "--rate-limit-group"))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, bad[i].says);
    }
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
        cmocka_unit_test(test_group_shares_one_bucket),
        cmocka_unit_test(test_group_precedence),
        cmocka_unit_test(test_group_parse),
        cmocka_unit_test(test_group_validation),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_protocol_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
