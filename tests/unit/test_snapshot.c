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

#include "core/json.h"
#include "core/snapshot.h"

static struct tm_snapshot *s_build(int reverse) {
    struct tm_snapshot *snap = NULL;
    assert_int_equal(tm_snapshot_new(&snap, "aws"), TM_OK);
    const char *ids[] = {"arn:aws:s3:::b-bucket", "arn:aws:s3:::a-bucket", "arn:aws:iam::111122223333:role/r"};
    for (int k = 0; k < 3; k++) {
        int i = reverse ? 2 - k : k;
        cJSON *res = NULL;
        int is_role = strstr(ids[i], ":role/") != NULL;
        assert_int_equal(tm_snapshot_resource(snap, ids[i], is_role ? "aws:iam:role" : "aws:s3:bucket", "111122223333",
                                              is_role ? "global" : "us-east-1", NULL, &res),
                         TM_OK);
        cJSON *attrs = cJSON_CreateObject();
        cJSON_AddStringToObject(attrs, "zeta", "z");
        cJSON_AddStringToObject(attrs, "alpha", "a");
        assert_int_equal(tm_snapshot_set_attr(res, "nested", attrs), TM_OK);
        assert_int_equal(tm_snapshot_add_link(res, "member-of", "x"), TM_OK);
        assert_int_equal(tm_snapshot_add_link(res, "executes-as", "y"), TM_OK);
        assert_int_equal(tm_snapshot_add_link(res, "executes-as", "y"), TM_OK);
    }
    assert_int_equal(tm_snapshot_scope_add(snap, "regions", reverse ? "us-east-1" : "eu-west-1"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(snap, "regions", reverse ? "eu-west-1" : "us-east-1"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(snap, "regions", "us-east-1"), TM_OK);
    struct tm_snapshot_error e1 = {
        "s3", "GetBucketPolicy", "us-east-1", "arn:aws:s3:::a-bucket", "AccessDenied", "Access Denied", 1};
    struct tm_snapshot_error e2 = {"iam", "ListAccessKeys", "global", NULL, "Throttling", "Rate exceeded", 5};
    assert_int_equal(tm_snapshot_add_error(snap, reverse ? &e2 : &e1), TM_OK);
    assert_int_equal(tm_snapshot_add_error(snap, reverse ? &e1 : &e2), TM_OK);
    cJSON *a = tm_snapshot_find(snap, "arn:aws:s3:::a-bucket");
    assert_non_null(a);
    assert_int_equal(tm_snapshot_set_unknown(a, "policies", "resource", &e1), TM_OK);
    return snap;
}

static void test_deterministic_regardless_of_insertion_order(void **state) {
    (void)state;
    struct tm_snapshot *s1 = s_build(0), *s2 = s_build(1);
    char *t1 = NULL, *t2 = NULL;
    char err[256];
    assert_int_equal(tm_snapshot_serialize(s1, &t1, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_serialize(s2, &t2, err, sizeof(err)), TM_OK);
    assert_string_equal(t1, t2);
    /* Sorted resources, sorted keys, sorted de-duplicated links. */
    const char *a = strstr(t1, "\"id\": \"arn:aws:iam::111122223333:role/r");
    const char *b = strstr(t1, "\"id\": \"arn:aws:s3:::a-bucket");
    const char *c = strstr(t1, "\"id\": \"arn:aws:s3:::b-bucket");
    assert_true(a && b && c && a < b && b < c);
    assert_true(strstr(t1, "\"alpha\"") < strstr(t1, "\"zeta\""));
    assert_true(strstr(t1, "\"regions\": [\n      \"eu-west-1\",\n      \"us-east-1\"\n    ]") != NULL);
    assert_int_equal(tm_snapshot_count(s1), 3);
    assert_string_equal(tm_json_str(tm_snapshot_at(s1, 0), "id", ""), "arn:aws:iam::111122223333:role/r");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(tm_snapshot_at(s1, 1), "links")), 2);
    free(t1);
    free(t2);
    tm_snapshot_destroy(s1);
    tm_snapshot_destroy(s2);
}

static void test_roundtrip_and_unknown(void **state) {
    (void)state;
    struct tm_snapshot *s1 = s_build(0);
    char dir[] = "/tmp/tmscan-snap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/snap.json", dir);
    char err[256] = "";
    assert_int_equal(tm_snapshot_write(s1, path, err, sizeof(err)), TM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct tm_snapshot *s2 = NULL;
    assert_int_equal(tm_snapshot_load(&s2, path, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_count(s2), 3);
    assert_int_equal(tm_snapshot_error_count(s2), 2);
    cJSON *a = tm_snapshot_find(s2, "arn:aws:s3:::a-bucket");
    assert_non_null(a);
    cJSON *pol = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "policies"), "resource");
    assert_true(tm_snapshot_is_unknown(pol));
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(pol, "$unknown"), "code", ""), "AccessDenied");
    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(tm_snapshot_serialize(s1, &t1, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_serialize(s2, &t2, err, sizeof(err)), TM_OK);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    tm_snapshot_destroy(s1);
    tm_snapshot_destroy(s2);
    unlink(path);
    rmdir(dir);
}

static void test_type_conflict_refused(void **state) {
    (void)state;
    struct tm_snapshot *s = NULL;
    cJSON *r = NULL;
    assert_int_equal(tm_snapshot_new(&s, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_resource(s, "arn:x", "aws:s3:bucket", "1", "us-east-1", "x", &r), TM_OK);
    assert_int_equal(tm_snapshot_resource(s, "arn:x", "aws:sqs:queue", "1", "us-east-1", "x", &r), TM_ERR_INVALID);
    assert_int_equal(tm_snapshot_resource(s, "", "aws:sqs:queue", "1", "us-east-1", "x", &r), TM_ERR_INVALID);
    tm_snapshot_destroy(s);
}

static void test_secrets_refused(void **state) {
    (void)state;
    struct tm_snapshot *s = NULL;
    cJSON *r = NULL;
    assert_int_equal(tm_snapshot_new(&s, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_resource(s, "arn:f", "aws:lambda:function", "1", "us-east-1", "f", &r), TM_OK);
    cJSON *env = cJSON_CreateObject();
    cJSON *vars = cJSON_AddObjectToObject(env, "Variables");
    cJSON_AddStringToObject(vars, "DB_PASSWORD", "hunter2");
    assert_int_equal(tm_snapshot_set_attr(r, "environment", env), TM_OK);
    char *t = NULL;
    char err[256] = "";
    assert_int_equal(tm_snapshot_serialize(s, &t, err, sizeof(err)), TM_ERR_INVALID);
    assert_null(t);
    assert_non_null(strstr(err, "environment.Variables"));
    cJSON *names = cJSON_CreateArray();
    cJSON_AddItemToArray(names, cJSON_CreateString("DB_PASSWORD"));
    assert_int_equal(tm_snapshot_set_attr(r, "environment", names), TM_OK);
    assert_int_equal(tm_snapshot_serialize(s, &t, err, sizeof(err)), TM_OK);
    assert_null(strstr(t, "hunter2"));
    free(t);
    cJSON *creds = cJSON_CreateObject();
    cJSON_AddStringToObject(creds, "SessionToken", "x");
    assert_int_equal(tm_snapshot_set_attr(r, "creds", creds), TM_OK);
    assert_int_equal(tm_snapshot_serialize(s, &t, err, sizeof(err)), TM_ERR_INVALID);
    tm_snapshot_destroy(s);
}

static void s_expect_parse_error(const char *text, const char *want) {
    struct tm_snapshot *s = NULL;
    char err[256] = "";
    assert_int_equal(tm_snapshot_parse(&s, text, strlen(text), "in.json", err, sizeof(err)), TM_ERR_PARSE);
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_load_errors_name_the_field(void **state) {
    (void)state;
    s_expect_parse_error("{\"schema\": \"tmscan.snapshot/1\",\n \"scope\": {}, ", "in.json:2:");
    s_expect_parse_error("[]", "not a JSON object");
    s_expect_parse_error("{}", "schema: missing");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/99\"}", "not supported");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/1\",\"scope\":{},\"resources\":{},\"errors\":[]}",
                         "resources: missing or not an array");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/1\",\"scope\":{},\"resources\":[{\"id\":\"a\"}],\"errors\":[]}",
                         "resources[0].type");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/1\",\"scope\":{},\"resources\":[{\"id\":\"a\",\"type\":\"t\","
                         "\"attrs\":{},\"policies\":{},\"links\":[]},{\"id\":\"a\",\"type\":\"t\",\"attrs\":{},"
                         "\"policies\":{},\"links\":[]}],\"errors\":[]}",
                         "resources[1].id: duplicate");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/1\",\"scope\":{},\"resources\":[{\"id\":\"a\",\"type\":\"t\","
                         "\"attrs\":{},\"policies\":{},\"links\":[{\"kind\":1}]}],\"errors\":[]}",
                         "resources[0].links");
    s_expect_parse_error("{\"schema\":\"tmscan.snapshot/1\"} trailing", "in.json:1:");
}

static void test_merge(void **state) {
    (void)state;
    struct tm_snapshot *a = s_build(0), *b = NULL;
    assert_int_equal(tm_snapshot_new(&b, "aws"), TM_OK);
    cJSON *r = NULL;
    assert_int_equal(
        tm_snapshot_resource(b, "arn:aws:s3:::c-bucket", "aws:s3:bucket", "444455556666", "us-east-1", "c-bucket", &r),
        TM_OK);
    assert_int_equal(tm_snapshot_scope_add(b, "accounts", "444455556666"), TM_OK);
    char err[128];
    assert_int_equal(tm_snapshot_merge(a, b, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_count(a), 4);
    assert_non_null(tm_snapshot_find(a, "arn:aws:s3:::c-bucket"));
    assert_string_equal(tm_json_str(tm_snapshot_at(a, 3), "id", ""), "arn:aws:s3:::c-bucket");
    tm_snapshot_destroy(a);
    tm_snapshot_destroy(b);
}

static void test_many_resources_hash_table(void **state) {
    (void)state;
    struct tm_snapshot *s = NULL;
    assert_int_equal(tm_snapshot_new(&s, "aws"), TM_OK);
    char id[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(id, sizeof(id), "arn:aws:sqs:us-east-1:1:q%05d", 4999 - i);
        cJSON *r = NULL;
        assert_int_equal(tm_snapshot_resource(s, id, "aws:sqs:queue", "1", "us-east-1", NULL, &r), TM_OK);
    }
    assert_int_equal(tm_snapshot_count(s), 5000);
    for (int i = 0; i < 5000; i += 777) {
        snprintf(id, sizeof(id), "arn:aws:sqs:us-east-1:1:q%05d", i);
        assert_non_null(tm_snapshot_find(s, id));
        assert_string_equal(tm_json_str(tm_snapshot_at(s, (size_t)i), "id", ""), id);
    }
    assert_null(tm_snapshot_find(s, "arn:nope"));
    tm_snapshot_destroy(s);
}

static void test_json_canonical_numbers(void **state) {
    (void)state;
    cJSON *o = NULL;
    const char *in = "{\"b\":[3,1.5,-2,1e300,0.1],\"a\":\"x\\ny\\u0001\"}";
    char err[64];
    assert_int_equal(tm_json_parse(&o, in, strlen(in), "t", err, sizeof(err)), TM_OK);
    char *t = tm_json_print_canonical(o, false);
    assert_string_equal(t, "{\"a\":\"x\\ny\\u0001\",\"b\":[3,1.5,-2,1e+300,0.1]}");
    free(t);
    cJSON_Delete(o);
}

static void test_array_insert_anywhere(void **state) {
    (void)state;
    cJSON *a = cJSON_CreateArray();
    assert_true(tm_json_array_insert(a, 0, cJSON_CreateNumber(3)));
    assert_true(tm_json_array_insert(a, 0, cJSON_CreateNumber(1)));
    assert_true(tm_json_array_insert(a, 1, cJSON_CreateNumber(2)));
    assert_true(tm_json_array_insert(a, 9, cJSON_CreateNumber(4)));
    assert_true(tm_json_array_insert(a, 3, cJSON_CreateNumber(3.5)));
    char *t = tm_json_print_canonical(a, false);
    assert_string_equal(t, "[1,2,3,3.5,4]");
    free(t);
    /* Walking back from the tail (head->prev) reaches the head: the list is well formed. */
    int n = 0;
    for (cJSON *it = a->child->prev; it != a->child; it = it->prev)
        n++;
    assert_int_equal(n, 4);
    cJSON *notarr = cJSON_CreateObject();
    cJSON *x = cJSON_CreateNumber(1);
    assert_false(tm_json_array_insert(notarr, 0, x));
    cJSON_Delete(x);
    cJSON_Delete(notarr);
    cJSON_Delete(a);
}

static void test_links_sorted_in_the_middle(void **state) {
    (void)state;
    struct tm_snapshot *s = NULL;
    cJSON *r = NULL;
    assert_int_equal(tm_snapshot_new(&s, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_resource(s, "arn:f", "aws:lambda:function", "1", "us-east-1", "f", &r), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "triggered-by", "b"), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "executes-as", "r"), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "triggered-by", "a"), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "triggered-by", "c"), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "member-of", "m"), TM_OK);
    assert_int_equal(tm_snapshot_add_link(r, "triggered-by", "a"), TM_OK);
    char *t = tm_json_print_canonical(cJSON_GetObjectItem(r, "links"), false);
    assert_string_equal(t, "[{\"kind\":\"executes-as\",\"to\":\"r\"},{\"kind\":\"member-of\",\"to\":\"m\"},"
                           "{\"kind\":\"triggered-by\",\"to\":\"a\"},{\"kind\":\"triggered-by\",\"to\":\"b\"},"
                           "{\"kind\":\"triggered-by\",\"to\":\"c\"}]");
    free(t);
    assert_int_equal(tm_snapshot_scope_add(s, "regions", "us-west-2"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(s, "regions", "eu-west-1"), TM_OK);
    assert_int_equal(tm_snapshot_scope_add(s, "regions", "sa-east-1"), TM_OK);
    t = tm_json_print_canonical(cJSON_GetObjectItem(tm_snapshot_scope(s), "regions"), false);
    assert_string_equal(t, "[\"eu-west-1\",\"sa-east-1\",\"us-west-2\"]");
    free(t);
    tm_snapshot_destroy(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_regardless_of_insertion_order),
        cmocka_unit_test(test_roundtrip_and_unknown),
        cmocka_unit_test(test_type_conflict_refused),
        cmocka_unit_test(test_secrets_refused),
        cmocka_unit_test(test_load_errors_name_the_field),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_many_resources_hash_table),
        cmocka_unit_test(test_json_canonical_numbers),
        cmocka_unit_test(test_array_insert_anywhere),
        cmocka_unit_test(test_links_sorted_in_the_middle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
