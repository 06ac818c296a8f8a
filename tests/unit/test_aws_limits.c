/* AWS's published rates (providers/aws/limits.c): the table's figures, their agreement with the
 * benchmark's copy (bench/aws_limits.json, what mockcloud enforces), and the rules a region's seeding
 * leaves in the HTTP engine, shared budgets included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "providers/aws/aws.h"
#include "providers/aws/limits.h"
#include "providers/net/http.h"

/* Tests run from the repository root (make test); TM_ROOT overrides it. */
static void s_path(char *out, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(out, len, "%s/%s", root && *root ? root : ".", rel);
}

static const struct tm__aws_limit *s_find(const char *api, const char *op) {
    for (const struct tm__aws_limit *l = tm__aws_limits(); l->api; l++)
        for (const char *const *o = l->operations; *o; o++)
            if (strcmp(l->api, api) == 0 && strcmp(*o, op) == 0)
                return l;
    return NULL;
}

/* Whether a service of the scan declares the operation on that API: seeded keys are keys the scan uses. */
static bool s_declared(const char *api, const char *op) {
    for (const struct tm_aws_service *const *s = tm_aws_scan_services(); *s; s++)
        for (const struct tm_aws_operation *o = (*s)->operations; o && o->name; o++)
            if (strcmp(o->api->name, api) == 0 && strcmp(o->name, op) == 0)
                return true;
    return false;
}

static void test_table(void **state) {
    (void)state;
    size_t rows = 0;
    for (const struct tm__aws_limit *l = tm__aws_limits(); l->api; l++, rows++) {
        assert_true(l->rate_per_s > 0);
        assert_true(l->burst >= 1);
        assert_non_null(l->source);
        assert_true(strlen(l->source) > 20);
        assert_non_null(l->operations[0]);
        for (const char *const *o = l->operations; *o; o++) {
            if (!s_declared(l->api, *o))
                fail_msg("%s:%s is not an operation the scan calls", l->api, *o);
            /* One row per operation. */
            assert_ptr_equal(s_find(l->api, *o), l);
        }
    }
    assert_true(rows >= 10);
    const struct tm__aws_limit *policy = s_find("lambda", "GetPolicy");
    assert_non_null(policy);
    assert_true(policy->rate_per_s == 15 && policy->burst == 15);
    assert_null(policy->group);
    const struct tm__aws_limit *cp = s_find("lambda", "ListAliases");
    assert_non_null(cp);
    assert_string_equal(cp->group, "lambda-control-plane");
    assert_ptr_equal(s_find("lambda", "ListFunctions"), cp);
    assert_ptr_equal(s_find("lambda", "GetFunctionUrlConfig"), cp);
    assert_null(s_find("lambda", "GetFunction")); /* not in the control plane's budget, and not called */
    assert_string_equal(s_find("apigatewayv2", "GetApis")->group, s_find("apigateway", "GetStages")->group);
    assert_null(s_find("apigateway", "GetResources")->group);
    assert_true(s_find("apigateway", "GetResources")->rate_per_s == 2.5);
    assert_null(s_find("iam", "GetAccountAuthorizationDetails"));
}

/* The group a rule of bench/aws_limits.json names (NULL: a bucket per operation); a "group" that is
 * not a non-empty string fails the test. */
static const char *s_json_group(const cJSON *rule) {
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(rule, "group");
    if (!g)
        return NULL;
    if (!cJSON_IsString(g) || !g->valuestring[0])
        fail_msg("bench/aws_limits.json: a rule of %s has a group that is not a name",
                 tm_json_str(rule, "service", ""));
    return g->valuestring;
}

static bool s_same_group(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The benchmark enforces the same figures in mockcloud: the two copies must not drift apart, shared
 * budgets included (a rule's "group" is the name of the group in the table). (Its "apigateway" names
 * both API Gateway APIs, as their common signing name does.) */
static void test_matches_benchmark_limits(void **state) {
    (void)state;
    char path[4096], err[512];
    s_path(path, sizeof(path), "bench/aws_limits.json");
    struct tm_buf b;
    tm_buf_init(&b, 1 << 20);
    if (tm_file_read(&b, path, 1 << 20, err, sizeof(err)))
        fail_msg("%s", err);
    cJSON *doc = NULL;
    if (tm_json_parse(&doc, tm_buf_str(&b), b.len, path, err, sizeof(err)))
        fail_msg("%s", err);
    tm_buf_clean_up(&b);
    const cJSON *rule;
    cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(doc, "limits")) {
        const char *svc = tm_json_str(rule, "service", "");
        double rps = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rule, "rps"));
        double burst = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rule, "burst"));
        const char *group = s_json_group(rule);
        const cJSON *op;
        cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(rule, "operations")) {
            const struct tm__aws_limit *found[2] = {s_find(svc, op->valuestring), NULL};
            if (strcmp(svc, "apigateway") == 0)
                found[1] = s_find("apigatewayv2", op->valuestring);
            if (!found[0] && !found[1])
                fail_msg("%s:%s is in bench/aws_limits.json but not in providers/aws/limits.c", svc, op->valuestring);
            for (int i = 0; i < 2; i++)
                if (found[i] && (found[i]->rate_per_s != rps || found[i]->burst != burst))
                    fail_msg("%s:%s: %g/s burst %g here, %g/s burst %g in the benchmark", svc, op->valuestring,
                             found[i]->rate_per_s, found[i]->burst, rps, burst);
            for (int i = 0; i < 2; i++)
                if (found[i] && !s_same_group(found[i]->group, group))
                    fail_msg("%s:%s: in group %s here, in group %s in the benchmark", svc, op->valuestring,
                             found[i]->group ? found[i]->group : "(none)", group ? group : "(none)");
        }
    }
    /* And the other way round: every operation here is in the benchmark's copy. */
    for (const struct tm__aws_limit *l = tm__aws_limits(); l->api; l++) {
        const char *svc = strcmp(l->api, "apigatewayv2") == 0 ? "apigateway" : l->api;
        for (const char *const *o = l->operations; *o; o++) {
            bool listed = false;
            const cJSON *in = NULL;
            cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(doc, "limits")) {
                const cJSON *op;
                if (strcmp(tm_json_str(rule, "service", ""), svc) != 0)
                    continue;
                cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(rule, "operations")) {
                    if (strcmp(op->valuestring, *o) == 0) {
                        listed = true;
                        in = rule;
                    }
                }
            }
            if (!listed)
                fail_msg("%s:%s is in providers/aws/limits.c but not in bench/aws_limits.json", l->api, *o);
            if (!s_same_group(l->group, s_json_group(in)))
                fail_msg("%s:%s: in group %s here, in group %s in bench/aws_limits.json", l->api, *o,
                         l->group ? l->group : "(none)", s_json_group(in) ? s_json_group(in) : "(none)");
        }
    }
    cJSON_Delete(doc);
}

struct seeded {
    uv_loop_t loop;
    struct tm_http_engine *engine;
    unsigned done;
};

static void s_done(const struct tm_http_response *resp, void *user_data) {
    struct seeded *s = user_data;
    /* Refused before anything is sent: the engine made the key all the same. */
    assert_int_equal(resp->err, TM_ERR_INVALID);
    s->done++;
}

/* Creates the key in the engine with a request it refuses (plain http to a documentation address). */
static void s_touch(struct seeded *s, const char *key) {
    struct tm_http_request *req = tm_http_request_new("GET", "http://192.0.2.1/");
    assert_non_null(req);
    assert_int_equal(tm_http_request_set_key(req, "svc", key), TM_OK);
    assert_int_equal(tm_http_submit(s->engine, req, s_done, s), TM_OK);
}

static void test_seed_sets_rates_and_groups_per_region(void **state) {
    (void)state;
    struct seeded s = {0};
    assert_int_equal(uv_loop_init(&s.loop), 0);
    struct tm_http_options opts;
    tm_http_options_init(&opts);
    char err[256];
    assert_int_equal(tm_http_engine_new(&s.engine, &s.loop, &opts, err, sizeof(err)), TM_OK);
    /* A key seen before the seeding is configured by it too. */
    s_touch(&s, "lambda:us-east-1:GetPolicy");
    assert_int_equal(tm__aws_limits_seed(s.engine, "us-east-1"), TM_OK);
    assert_int_equal(tm__aws_limits_seed(s.engine, "eu-west-1"), TM_OK);
    const char *keys[] = {"lambda:us-east-1:ListAliases",    "lambda:us-east-1:GetFunctionUrlConfig",
                          "lambda:eu-west-1:ListAliases",    "apigatewayv2:us-east-1:GetApis",
                          "apigateway:us-east-1:GetStages",  "apigateway:us-east-1:GetResources",
                          "ec2:us-east-1:DescribeInstances", "iam:us-east-1:GetAccountAuthorizationDetails",
                          "lambda:ap-south-1:GetPolicy",     "kms:eu-west-1:GetKeyPolicy"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        s_touch(&s, keys[i]);
    while (s.done < 11)
        uv_run(&s.loop, UV_RUN_ONCE);
    assert_true(tm_http_engine_key_rate(s.engine, "lambda:us-east-1:GetPolicy") == 15);
    assert_null(tm_http_engine_key_group(s.engine, "lambda:us-east-1:GetPolicy"));
    /* The control plane: one budget per region, shared by its operations. */
    assert_string_equal(tm_http_engine_key_group(s.engine, "lambda:us-east-1:ListAliases"),
                        "lambda-control-plane:us-east-1");
    assert_string_equal(tm_http_engine_key_group(s.engine, "lambda:us-east-1:GetFunctionUrlConfig"),
                        "lambda-control-plane:us-east-1");
    assert_string_equal(tm_http_engine_key_group(s.engine, "lambda:eu-west-1:ListAliases"),
                        "lambda-control-plane:eu-west-1");
    assert_true(tm_http_engine_key_rate(s.engine, "lambda:eu-west-1:ListAliases") == 15);
    /* Both API Gateway APIs draw from one management budget. */
    assert_string_equal(tm_http_engine_key_group(s.engine, "apigatewayv2:us-east-1:GetApis"),
                        "apigateway-management:us-east-1");
    assert_string_equal(tm_http_engine_key_group(s.engine, "apigateway:us-east-1:GetStages"),
                        "apigateway-management:us-east-1");
    assert_true(tm_http_engine_key_rate(s.engine, "apigateway:us-east-1:GetStages") == 10);
    assert_true(tm_http_engine_key_rate(s.engine, "apigateway:us-east-1:GetResources") == 2.5);
    assert_true(tm_http_engine_key_rate(s.engine, "ec2:us-east-1:DescribeInstances") == 20);
    assert_true(tm_http_engine_key_rate(s.engine, "kms:eu-west-1:GetKeyPolicy") == 30);
    /* No published rate: paced by throttling alone. A region not seeded has no rates either. */
    assert_true(tm_http_engine_key_rate(s.engine, "iam:us-east-1:GetAccountAuthorizationDetails") == 0);
    assert_true(tm_http_engine_key_rate(s.engine, "lambda:ap-south-1:GetPolicy") == 0);
    tm_http_engine_destroy(s.engine);
    assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&s.loop), 0);
}

static void test_rate_parse(void **state) {
    (void)state;
    struct tm__aws_rate r;
    char err[256];
    assert_int_equal(tm__aws_rate_parse(&r, "lambda:GetPolicy=10", err, sizeof(err)), TM_OK);
    assert_string_equal(r.service, "lambda");
    assert_string_equal(r.operation, "GetPolicy");
    assert_true(r.rate_per_s == 10 && r.burst == 10);
    assert_int_equal(tm__aws_rate_parse(&r, "apigateway:GetResources=2.5:5", err, sizeof(err)), TM_OK);
    assert_true(r.rate_per_s == 2.5 && r.burst == 5);
    assert_int_equal(tm__aws_rate_parse(&r, "iam:ListRoles=0.5", err, sizeof(err)), TM_OK);
    assert_true(r.burst == 1); /* at least one call */
    /* The endpoint prefix names the service too. */
    assert_int_equal(tm__aws_rate_parse(&r, "s3-control:ListAccessPoints=3", err, sizeof(err)), TM_OK);
    static const char *const bad[] = {
        "",
        "lambda",
        "lambda:GetPolicy",
        "lambda:GetPolicy=",
        "lambda:GetPolicy=0",
        "lambda:GetPolicy=-1",
        "lambda:GetPolicy=x",
        "lambda:GetPolicy=10x",
        "lambda:GetPolicy=nan",
        "lambda:GetPolicy=inf",
        "lambda:GetPolicy=1e999",
        "lambda:GetPolicy=100001",
        "lambda:GetPolicy=1:0",
        "lambda:GetPolicy=1:",
        "lambda:GetPolicy=1:2:3",
        "nosuch:GetPolicy=1",
        ":GetPolicy=1",
        "lambda:=1",
        "lambda:Get/Policy=1",
        "lambda:Get Policy=1",
        "lambda:G\xc3\xa9tPolicy=1",
        "lambda:GetPolicy:x=1",
        "lambdaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:GetPolicy=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (tm__aws_rate_parse(&r, bad[i], err, sizeof(err)) != TM_ERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_true(strlen(err) > 0);
    }
}

static void test_rates_take_operations_out_of_shared_budgets(void **state) {
    (void)state;
    struct seeded s = {0};
    assert_int_equal(uv_loop_init(&s.loop), 0);
    struct tm_http_options opts;
    tm_http_options_init(&opts);
    char err[256];
    assert_int_equal(tm_http_engine_new(&s.engine, &s.loop, &opts, err, sizeof(err)), TM_OK);
    struct tm__aws_rate rates[2];
    assert_int_equal(tm__aws_rate_parse(&rates[0], "lambda:ListAliases=15:15", err, sizeof(err)), TM_OK);
    assert_int_equal(tm__aws_rate_parse(&rates[1], "apigateway:GetStages=4:40", err, sizeof(err)), TM_OK);
    assert_int_equal(tm__aws_limits_seed(s.engine, "us-east-1"), TM_OK);
    assert_int_equal(tm__aws_rates_apply(s.engine, rates, 2, "us-east-1"), TM_OK);
    s_touch(&s, "lambda:us-east-1:ListAliases");
    s_touch(&s, "lambda:us-east-1:GetFunctionUrlConfig");
    s_touch(&s, "apigateway:us-east-1:GetStages");
    s_touch(&s, "apigatewayv2:us-east-1:GetStages");
    s_touch(&s, "apigatewayv2:us-east-1:GetRoutes");
    while (s.done < 5)
        uv_run(&s.loop, UV_RUN_ONCE);
    /* Its own budget now; the rest of the control plane still shares one. */
    assert_string_equal(tm_http_engine_key_group(s.engine, "lambda:us-east-1:ListAliases"),
                        "lambda:us-east-1:ListAliases");
    assert_true(tm_http_engine_key_rate(s.engine, "lambda:us-east-1:ListAliases") == 15);
    assert_string_equal(tm_http_engine_key_group(s.engine, "lambda:us-east-1:GetFunctionUrlConfig"),
                        "lambda-control-plane:us-east-1");
    /* "apigateway:GetStages" is one budget for both APIs' GetStages. */
    assert_string_equal(tm_http_engine_key_group(s.engine, "apigateway:us-east-1:GetStages"),
                        "apigateway:us-east-1:GetStages");
    assert_string_equal(tm_http_engine_key_group(s.engine, "apigatewayv2:us-east-1:GetStages"),
                        "apigateway:us-east-1:GetStages");
    assert_true(tm_http_engine_key_rate(s.engine, "apigatewayv2:us-east-1:GetStages") == 4);
    assert_string_equal(tm_http_engine_key_group(s.engine, "apigatewayv2:us-east-1:GetRoutes"),
                        "apigateway-management:us-east-1");
    assert_true(tm__aws_client_burst(15) == 14);
    assert_true(tm__aws_client_burst(1) == 1);
    assert_true(tm__aws_client_burst(1.5) == 1);
    tm_http_engine_destroy(s.engine);
    assert_int_equal(uv_run(&s.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&s.loop), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_matches_benchmark_limits),
        cmocka_unit_test(test_seed_sets_rates_and_groups_per_region),
        cmocka_unit_test(test_rate_parse),
        cmocka_unit_test(test_rates_take_operations_out_of_shared_budgets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
