#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyzers/findings.h"
#include "core/json.h"

static struct tm_finding *s_make(struct tm_findings *l, const char *rule, enum tm_severity sev, const char *res,
                                 const char *title, const char *via) {
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(l, &f), TM_OK);
    assert_int_equal(tm_finding_set(f, rule, "public-exposure", sev, res, "internet"), TM_OK);
    assert_int_equal(tm_finding_set_text(f, title, "anyone can read it", "remove statement 0"), TM_OK);
    const char *acts[] = {"s3:GetObject", "s3:ListBucket"};
    assert_int_equal(tm_finding_add_step(f, "internet", via, "can-read", acts, 2, "statement 0", false), TM_OK);
    if (strcmp(via, res) != 0)
        assert_int_equal(tm_finding_add_step(f, via, res, "can-read", NULL, 0, NULL, true), TM_OK);
    assert_int_equal(tm_finding_add_stride(f, "Information disclosure"), TM_OK);
    assert_int_equal(tm_finding_add_stride(f, "Information disclosure"), TM_OK);
    assert_int_equal(tm_finding_add_attack(f, "T1530"), TM_OK);
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    return f;
}

static void test_id_stable_across_wording_not_across_path(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *a = s_make(&l, "r", TM_SEV_HIGH, "arn:b", "Bucket is public", "arn:b");
    struct tm_finding *b = s_make(&l, "r", TM_SEV_LOW, "arn:b", "Anyone can read this bucket", "arn:b");
    struct tm_finding *c = s_make(&l, "r", TM_SEV_HIGH, "arn:b", "Bucket is public", "arn:ap");
    struct tm_finding *d = s_make(&l, "r2", TM_SEV_HIGH, "arn:b", "Bucket is public", "arn:b");
    assert_int_equal(strlen(a->id), 16);
    assert_string_equal(a->id, b->id);
    assert_string_not_equal(a->id, c->id);
    assert_string_not_equal(a->id, d->id);
    for (int i = 0; i < 16; i++)
        assert_true(strchr("0123456789abcdef", a->id[i]) != NULL);
    tm_findings_clean_up(&l);
}

static void test_sort_and_dedupe(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    s_make(&l, "z-rule", TM_SEV_LOW, "arn:1", "t", "arn:1");
    s_make(&l, "a-rule", TM_SEV_CRITICAL, "arn:2", "t", "arn:2");
    struct tm_finding *rec = s_make(&l, "a-rule", TM_SEV_CRITICAL, "arn:3", "t", "arn:3");
    rec->status = TM_STATUS_RECOGNISED;
    s_make(&l, "a-rule", TM_SEV_CRITICAL, "arn:2", "duplicate", "arn:2");
    s_make(&l, "m-rule", TM_SEV_CRITICAL, "arn:0", "t", "arn:0");
    tm_findings_sort(&l);
    assert_int_equal(l.count, 4);
    assert_string_equal(l.items[0]->rule, "a-rule");
    assert_string_equal(l.items[0]->resource, "arn:2");
    assert_string_equal(l.items[1]->rule, "m-rule");
    assert_string_equal(l.items[2]->rule, "z-rule");
    assert_int_equal(l.items[3]->status, TM_STATUS_RECOGNISED);
    tm_findings_clean_up(&l);
}

static void test_json_shape(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *f = s_make(&l, "aws-s3-public-policy", TM_SEV_HIGH, "arn:b", "Bucket is public", "arn:ap");
    cJSON *o = tm_finding_to_json(f);
    assert_non_null(o);
    assert_string_equal(tm_json_str(o, "id", ""), f->id);
    assert_string_equal(tm_json_str(o, "severity", ""), "high");
    assert_string_equal(tm_json_str(o, "status", ""), "new");
    assert_string_equal(tm_json_str(o, "category", ""), "public-exposure");
    assert_string_equal(tm_json_str(o, "entry", ""), "internet");
    cJSON *path = cJSON_GetObjectItem(o, "path");
    assert_int_equal(cJSON_GetArraySize(path), 2);
    cJSON *s0 = cJSON_GetArrayItem(path, 0);
    assert_string_equal(tm_json_str(s0, "kind", ""), "can-read");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s0, "actions")), 2);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(path, 1), "unknown")));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "stride")), 1);
    assert_null(cJSON_GetObjectItem(o, "recognised"));
    cJSON_Delete(o);
    enum tm_severity sev;
    assert_int_equal(tm_severity_parse("Critical", &sev), TM_OK);
    assert_int_equal(sev, TM_SEV_CRITICAL);
    assert_int_equal(tm_severity_parse("urgent", &sev), TM_ERR_INVALID);
    tm_findings_clean_up(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_stable_across_wording_not_across_path),
        cmocka_unit_test(test_sort_and_dedupe),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
