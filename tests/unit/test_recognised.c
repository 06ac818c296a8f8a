#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/findings.h"
#include "analyzers/recognised.h"
#include "core/jsonpos.h"

static const char s_good[] =
    "{\n"
    "  \"recognised\": [\n"
    "    {\"resource\": \"arn:aws:s3:::public-*\", \"from\": \"internet\",\n"
    "     \"owner\": \"web-team\", \"reason\": \"static site\", \"expires\": \"2027-01-31\"},\n"
    "    {\"resource\": \"arn:aws:iam::111122223333:role/vendor\",\n"
    "     \"from\": \"account:999999999999\", \"owner\": \"sec\", \"reason\": \"vendor audit\"},\n"
    "    {\"resource\": \"arn:aws:sqs:*\", \"from\": \"*\", \"owner\": \"x\", \"reason\": \"y\",\n"
    "     \"expires\": \"2020-01-01\"}\n"
    "  ],\n"
    "  \"suppressed\": [\n"
    "    {\"rule\": \"aws-iam-access-key\", \"resource\": \"*\", \"reason\": \"break-glass\"}\n"
    "  ]\n"
    "}\n";

static struct tm_recognised *s_parse_ok(const char *text) {
    struct tm_recognised *rec = NULL;
    char err[256] = "";
    int rc = tm_recognised_parse(&rec, text, strlen(text), "tmscan.policy.json", err, sizeof(err));
    if (rc)
        fail_msg("parse failed: %s", err);
    return rec;
}

static void s_expect_error(const char *text, const char *want) {
    struct tm_recognised *rec = NULL;
    char err[256] = "";
    assert_int_equal(tm_recognised_parse(&rec, text, strlen(text), "p.json", err, sizeof(err)), TM_ERR_PARSE);
    assert_null(rec);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_parse_good(void **state) {
    (void)state;
    struct tm_recognised *rec = s_parse_ok(s_good);
    assert_int_equal(rec->n_recognised, 3);
    assert_int_equal(rec->n_suppressed, 1);
    assert_string_equal(rec->recognised[1].from, "account:999999999999");
    assert_null(rec->recognised[1].expires);
    assert_int_equal(rec->recognised[0].line, 3);
    assert_int_equal(rec->recognised[1].line, 5);
    assert_int_equal(rec->suppressed[0].line, 11);
    tm_recognised_destroy(rec);
}

static void test_errors_name_line_and_field(void **state) {
    (void)state;
    s_expect_error("{\n \"recognised\": [\n  {\"resource\": \"a\", \"from\": \"internets\", \"owner\": \"o\", "
                   "\"reason\": \"r\"}\n ]\n}",
                   "p.json:3: recognised[0].from: 'internets' is not one of");
    s_expect_error("{\"recognised\": [{\"resource\": \"a\",\n \"from\": \"internet\", \"reason\": \"r\"}]}",
                   "p.json:1: recognised[0]: missing \"owner\"");
    s_expect_error("{\"recognised\": [{\"resource\": \"a\", \"from\": \"internet\", \"owner\": \"o\",\n"
                   "\"reason\": \"r\",\n \"expires\": \"2027-02-30\"}]}",
                   "p.json:3: recognised[0].expires: '2027-02-30' is not a date");
    s_expect_error("{\"recognised\": [{\"resource\": 5, \"from\": \"internet\", \"owner\": \"o\", \"reason\": \"r\"}]}",
                   "recognised[0].resource: must be a string");
    s_expect_error("{\"recognized\": []}", "p.json:1: recognized: unknown field");
    s_expect_error("{\"recognised\": {}}", "recognised: must be an array");
    s_expect_error("{\"recognised\": [\n\"x\"]}", "p.json:2: recognised[0]: must be an object");
    s_expect_error("{\"recognised\": [\n", "p.json:2:");
    s_expect_error("[]", "must be a JSON object");
    s_expect_error("{\"recognised\": [{\"resource\": \"a\", \"from\": \"account:12345\", \"owner\": \"o\", "
                   "\"reason\": \"r\"}]}",
                   "account:12345");
    s_expect_error("{\"recognised\": [{\"resource\": \"a\", \"from\": \"internet\", \"owner\": \"\", "
                   "\"reason\": \"r\"}]}",
                   "recognised[0].owner: must not be empty");
}

static void test_match_and_expiry(void **state) {
    (void)state;
    struct tm_recognised *rec = s_parse_ok(s_good);
    bool expired = true;
    const struct tm_recognised_entry *e =
        tm_recognised_match(rec, "arn:aws:s3:::public-site", "internet", "2026-11-22", &expired);
    assert_non_null(e);
    assert_false(expired);
    assert_string_equal(e->owner, "web-team");
    /* Valid through its expiry day, expired the day after. */
    e = tm_recognised_match(rec, "arn:aws:s3:::public-site", "internet", "2027-01-31", &expired);
    assert_non_null(e);
    assert_false(expired);
    e = tm_recognised_match(rec, "arn:aws:s3:::public-site", "internet", "2027-02-01", &expired);
    assert_non_null(e);
    assert_true(expired);
    /* Wrong entry point. */
    assert_null(tm_recognised_match(rec, "arn:aws:s3:::public-site", "any-aws-account", "2026-11-22", &expired));
    assert_null(tm_recognised_match(rec, "arn:aws:iam::111122223333:role/vendor", "account:888888888888", "2026-11-22",
                                    &expired));
    assert_non_null(tm_recognised_match(rec, "arn:aws:iam::111122223333:role/vendor", "account:999999999999",
                                        "2026-11-22", &expired));
    /* "*" from, but expired long ago. */
    e = tm_recognised_match(rec, "arn:aws:sqs:us-east-1:1:q", "internet", "2026-11-22", &expired);
    assert_non_null(e);
    assert_true(expired);
    tm_recognised_destroy(rec);
}

static struct tm_finding *s_add(struct tm_findings *l, const char *rule, const char *res, const char *entry) {
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(l, &f), TM_OK);
    assert_int_equal(tm_finding_set(f, rule, "public-exposure", TM_SEV_HIGH, res, entry), TM_OK);
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    return f;
}

static void test_apply(void **state) {
    (void)state;
    struct tm_recognised *rec = s_parse_ok(s_good);
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *a = s_add(&l, "aws-s3-public-policy", "arn:aws:s3:::public-site", "internet");
    struct tm_finding *b = s_add(&l, "aws-s3-public-policy", "arn:aws:s3:::private-data", "internet");
    struct tm_finding *c = s_add(&l, "aws-iam-access-key", "arn:aws:iam::1:user/bob", NULL);
    struct tm_finding *d = s_add(&l, "aws-sqs-public-policy", "arn:aws:sqs:us-east-1:1:q", "internet");
    size_t expired = 0;
    assert_int_equal(tm_recognised_apply(rec, &l, "2026-11-22", &expired), TM_OK);
    assert_int_equal(a->status, TM_STATUS_RECOGNISED);
    assert_string_equal(a->recognised_owner, "web-team");
    assert_int_equal(b->status, TM_STATUS_NEW);
    assert_int_equal(c->status, TM_STATUS_SUPPRESSED);
    assert_int_equal(d->status, TM_STATUS_NEW);
    assert_int_equal(expired, 1);
    /* A new file re-applies: without it everything is new again. */
    assert_int_equal(tm_recognised_apply(NULL, &l, "2026-11-22", NULL), TM_OK);
    assert_int_equal(a->status, TM_STATUS_NEW);
    tm_findings_clean_up(&l);
    tm_recognised_destroy(rec);
}

static void test_glob(void **state) {
    (void)state;
    assert_true(tm_recognised_glob("*", ""));
    assert_true(tm_recognised_glob("arn:aws:s3:::*", "arn:aws:s3:::x"));
    assert_true(tm_recognised_glob("a?c", "abc"));
    assert_false(tm_recognised_glob("a?c", "ac"));
    assert_true(tm_recognised_glob("a*b*c", "aXXbYYc"));
    assert_false(tm_recognised_glob("a*b*c", "aXXbYY"));
    assert_false(tm_recognised_glob("arn:aws:s3:::x", "arn:aws:s3:::xy"));
}

static void test_dates(void **state) {
    (void)state;
    assert_true(tm_recognised_valid_date("2028-02-29"));
    assert_false(tm_recognised_valid_date("2027-02-29"));
    assert_false(tm_recognised_valid_date("2100-02-29"));
    assert_true(tm_recognised_valid_date("2000-02-29"));
    assert_false(tm_recognised_valid_date("2027-13-01"));
    assert_false(tm_recognised_valid_date("2027-1-01"));
    assert_false(tm_recognised_valid_date("2027-01-01T00"));
}

static void test_jsonpos(void **state) {
    (void)state;
    const char *t = "{\n \"a\": [\n  1,\n  {\"b\":\n   \"x\"}\n ],\n \"c\": {\"d\": true}\n}";
    assert_int_equal(tm_jsonpos_line(t, strlen(t), ""), 1);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a"), 2);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a[0]"), 3);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a[1]"), 4);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a[1].b"), 5);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "c.d"), 7);
    /* Missing: nearest ancestor. */
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a[1].zzz"), 4);
    assert_int_equal(tm_jsonpos_line(t, strlen(t), "a[7]"), 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_errors_name_line_and_field),
        cmocka_unit_test(test_match_and_expiry),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_jsonpos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
