#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

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
    /* Sorted again as it is: unchanged. */
    struct tm_finding *before[4];
    memcpy(before, l.items, sizeof(before));
    tm_findings_sort(&l);
    assert_int_equal(l.count, 4);
    assert_memory_equal(before, l.items, sizeof(before));
    /* In order but for its last finding, and with a duplicate next to its twin: sorted, the first twin kept. */
    l.items[3]->status = TM_STATUS_NEW;
    s_make(&l, "z-rule", TM_SEV_LOW, "arn:1", "twin", "arn:1");
    tm_findings_sort(&l);
    assert_int_equal(l.count, 4);
    assert_string_equal(l.items[0]->resource, "arn:2");
    assert_string_equal(l.items[1]->resource, "arn:3");
    assert_string_equal(l.items[2]->rule, "m-rule");
    assert_string_equal(l.items[3]->rule, "z-rule");
    assert_ptr_equal(l.items[3], before[2]);
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

/* Short paths are searched step by step, long ones through the index: both must answer alike. */
static void test_has_step_short_and_long(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(&l, &f), TM_OK);
    assert_false(tm_finding_has_step(f, "a", "b", "can-read"));
    char from[32], to[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(from, sizeof(from), "arn:n%d", i);
        snprintf(to, sizeof(to), "arn:n%d", i + 1);
        assert_int_equal(tm_finding_add_step(f, from, to, i % 2 ? "can-assume" : "can-read", NULL, 0, NULL, false),
                         TM_OK);
        /* Every step added so far is found, and the ones with another kind or swapped ends are not. */
        if (i == 3 || i == 16 || i == 17 || i == 999) {
            for (int k = 0; k <= i; k++) {
                snprintf(from, sizeof(from), "arn:n%d", k);
                snprintf(to, sizeof(to), "arn:n%d", k + 1);
                assert_true(tm_finding_has_step(f, from, to, k % 2 ? "can-assume" : "can-read"));
                assert_false(tm_finding_has_step(f, from, to, k % 2 ? "can-read" : "can-assume"));
                assert_false(tm_finding_has_step(f, to, from, k % 2 ? "can-assume" : "can-read"));
            }
        }
    }
    assert_int_equal(f->path_len, 1000);
    /* Field boundaries count: ("arn:n1", "0") is not ("arn:n", "10"). */
    assert_int_equal(tm_finding_add_step(f, "x", "yz", "k", NULL, 0, NULL, false), TM_OK);
    assert_false(tm_finding_has_step(f, "xy", "z", "k"));
    assert_true(tm_finding_has_step(f, "x", "yz", "k"));
    assert_false(tm_finding_has_step(f, "", "", ""));
    tm_findings_clean_up(&l);
}

static void s_assert_same_json(const struct tm_finding *f, int depth) {
    cJSON *o = tm_finding_to_json(f);
    assert_non_null(o);
    struct tm_buf want, got;
    tm_buf_init(&want, 0);
    tm_buf_init(&got, 0);
    assert_int_equal(tm_json_append_canonical(&want, o, true, depth), TM_OK);
    assert_int_equal(tm_finding_append_json(&got, f, depth), TM_OK);
    assert_string_equal(tm_buf_str(&got), tm_buf_str(&want));
    cJSON_Delete(o);
    tm_buf_clean_up(&want);
    tm_buf_clean_up(&got);
}

/* The JSON report writes findings without building their tree; the bytes must be those of the tree printed
 * canonically, for every shape a finding takes: NULL fields, empty lists, escapes, unicode, recognised. */
static void test_append_json_matches_canonical(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *f = s_make(&l, "aws-s3-public-policy", TM_SEV_HIGH, "arn:b", "Bucket is public", "arn:ap");
    for (int depth = 0; depth < 40; depth += 13)
        s_assert_same_json(f, depth);

    struct tm_finding *g = NULL;
    assert_int_equal(tm_findings_add(&l, &g), TM_OK);
    s_assert_same_json(g, 2); /* nothing set: nulls and empty arrays */
    assert_int_equal(tm_finding_set(g, "r\"1", NULL, TM_SEV_CRITICAL, "arn:\u00e9\\x", NULL), TM_OK);
    assert_int_equal(tm_finding_set_text(g, "tab\there \"quoted\"", "line\nbreak\r\b\f\x01\x1f end",
                                         "caf\xc3\xa9 \xe2\x80\xa6 \x7f"),
                     TM_OK);
    const char *acts[] = {"a\\b", "\"c\""};
    assert_int_equal(tm_finding_add_step(g, "internet", "arn:x", "can-read", acts, 2, NULL, true), TM_OK);
    assert_int_equal(tm_finding_add_step(g, "arn:x", "arn:y", "can-assume", NULL, 0, "st\n0", false), TM_OK);
    assert_int_equal(tm_finding_add_attack(g, "T1530"), TM_OK);
    g->status = TM_STATUS_RECOGNISED;
    s_assert_same_json(g, 2);
    g->recognised_owner = strdup("team \"a\"");
    g->recognised_reason = strdup("public website");
    g->recognised_expires = strdup("2030-01-01");
    assert_non_null(g->recognised_owner);
    s_assert_same_json(g, 1);
    g->status = TM_STATUS_SUPPRESSED;
    s_assert_same_json(g, 0);
    /* A path fanning out to crown jewels: the counts, and the command when some are left out. */
    assert_int_equal(tm_finding_set_reach(g, 12, 12, NULL), TM_OK);
    s_assert_same_json(g, 2);
    assert_int_equal(tm_finding_set_reach(g, 11631, 25, "tmscan blast SNAPSHOT --from arn:x --limit 0"), TM_OK);
    s_assert_same_json(g, 2);
    g->status = TM_STATUS_RECOGNISED;
    s_assert_same_json(g, 1);
    tm_findings_clean_up(&l);
}

/* The identity of a path listed in part: each step once, in order; the id is the one the finding would get with
 * the whole path. */
static void test_path_ident(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *whole = NULL, *part = NULL;
    assert_int_equal(tm_findings_add(&l, &whole), TM_OK);
    assert_int_equal(tm_findings_add(&l, &part), TM_OK);
    assert_int_equal(tm_finding_set(whole, "aws-iam-role-public", NULL, TM_SEV_HIGH, "arn:r", "internet"), TM_OK);
    assert_int_equal(tm_finding_set(part, "aws-iam-role-public", NULL, TM_SEV_HIGH, "arn:r", "internet"), TM_OK);
    struct tm_path_ident p;
    tm_path_ident_init(&p);
    char to[300][32];
    assert_int_equal(tm_finding_add_step(whole, "internet", "arn:r", "can-assume", NULL, 0, NULL, false), TM_OK);
    assert_int_equal(tm_path_ident_add(&p, "internet", "arn:r", "can-assume"), TM_OK);
    for (int i = 0; i < 300; i++) {
        snprintf(to[i], sizeof(to[i]), "arn:b%d", i);
        /* Every jewel's path repeats the way to the role that reads it: kept once. */
        assert_int_equal(tm_path_ident_add(&p, "arn:r", "arn:q", "can-escalate-to"), TM_OK);
        assert_int_equal(tm_path_ident_add(&p, "arn:q", to[i], "can-read"), TM_OK);
        if (!tm_finding_has_step(whole, "arn:r", "arn:q", "can-escalate-to"))
            assert_int_equal(tm_finding_add_step(whole, "arn:r", "arn:q", "can-escalate-to", NULL, 0, NULL, false),
                             TM_OK);
        assert_int_equal(tm_finding_add_step(whole, "arn:q", to[i], "can-read", NULL, 0, NULL, false), TM_OK);
    }
    /* The same ends by another kind is another step. */
    assert_int_equal(tm_path_ident_add(&p, "arn:q", to[0], "can-write"), TM_OK);
    assert_int_equal(tm_finding_add_step(whole, "arn:q", to[0], "can-write", NULL, 0, NULL, false), TM_OK);
    assert_int_equal(p.n, 303);
    /* The index grew several times (each step's hash kept, not recomputed): every step is still found. */
    for (size_t i = 0; i < 303; i++)
        assert_int_equal(tm_path_ident_add(&p, p.ends[3 * i], p.ends[3 * i + 1], p.ends[3 * i + 2]), TM_OK);
    assert_int_equal(p.n, 303);
    assert_int_equal(whole->path_len, 303);
    assert_int_equal(tm_finding_compute_id(whole), TM_OK);
    assert_int_equal(tm_finding_add_step(part, "internet", "arn:r", "can-assume", NULL, 0, NULL, false), TM_OK);
    assert_int_equal(tm_finding_compute_id(part), TM_OK);
    assert_string_not_equal(part->id, whole->id);
    assert_int_equal(tm_finding_compute_id_of(part, &p), TM_OK);
    assert_string_equal(part->id, whole->id);
    /* Order counts. */
    struct tm_path_ident q;
    tm_path_ident_init(&q);
    for (size_t i = p.n; i > 0; i--)
        assert_int_equal(tm_path_ident_add(&q, p.ends[3 * (i - 1)], p.ends[3 * (i - 1) + 1], p.ends[3 * (i - 1) + 2]),
                         TM_OK);
    assert_int_equal(tm_finding_compute_id_of(part, &q), TM_OK);
    assert_string_not_equal(part->id, whole->id);
    /* Reset, an identity holds nothing of its last path: built again, it gives the same id. */
    char id_q[17];
    memcpy(id_q, part->id, sizeof(id_q));
    tm_path_ident_reset(&q);
    assert_int_equal(q.n, 0);
    for (size_t i = p.n; i > 0; i--)
        assert_int_equal(tm_path_ident_add(&q, p.ends[3 * (i - 1)], p.ends[3 * (i - 1) + 1], p.ends[3 * (i - 1) + 2]),
                         TM_OK);
    assert_int_equal(q.n, p.n);
    assert_int_equal(tm_finding_compute_id_of(part, &q), TM_OK);
    assert_string_equal(part->id, id_q);
    tm_path_ident_reset(&q);
    for (size_t i = 0; i < p.n; i++)
        assert_int_equal(tm_path_ident_add(&q, p.ends[3 * i], p.ends[3 * i + 1], p.ends[3 * i + 2]), TM_OK);
    assert_int_equal(tm_finding_compute_id_of(part, &q), TM_OK);
    assert_string_equal(part->id, whole->id);
    tm_path_ident_clean_up(&q);
    tm_path_ident_clean_up(&p);
    tm_path_ident_clean_up(NULL);
    tm_findings_clean_up(&l);
}

/* The id is SHA-256 over rule, resource, entry and each step's ends, each followed by 0x1f, whatever their length
 * (fields longer than the digest's block buffer included). */
static void test_id_digest_of_long_fields(void **state) {
    (void)state;
    struct tm_findings l;
    tm_findings_init(&l);
    struct tm_finding *f = NULL;
    assert_int_equal(tm_findings_add(&l, &f), TM_OK);
    size_t big = 20000;
    char *res = malloc(big + 1);
    assert_non_null(res);
    memset(res, 'r', big);
    res[big] = '\0';
    assert_int_equal(tm_finding_set(f, "rule", NULL, TM_SEV_LOW, res, NULL), TM_OK);
    char to[64];
    for (int i = 0; i < 500; i++) {
        snprintf(to, sizeof(to), "arn:aws:s3:::bucket-%d", i);
        assert_int_equal(tm_finding_add_step(f, i ? "arn:q" : res, to, "can-read", NULL, 0, NULL, false), TM_OK);
    }
    assert_int_equal(tm_finding_compute_id(f), TM_OK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
    const char sep = '\x1f';
    const char *head[] = {"rule", res, ""};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(EVP_DigestUpdate(ctx, head[i], strlen(head[i])), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, &sep, 1), 1);
    }
    for (size_t i = 0; i < f->path_len; i++) {
        assert_int_equal(EVP_DigestUpdate(ctx, f->path[i].from, strlen(f->path[i].from)), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, &sep, 1), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, f->path[i].to, strlen(f->path[i].to)), 1);
        assert_int_equal(EVP_DigestUpdate(ctx, &sep, 1), 1);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_int_equal(EVP_DigestFinal_ex(ctx, md, &md_len), 1);
    EVP_MD_CTX_free(ctx);
    char want[17];
    for (int i = 0; i < 8; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(f->id, want);
    free(res);
    tm_findings_clean_up(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_stable_across_wording_not_across_path),
        cmocka_unit_test(test_sort_and_dedupe),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_has_step_short_and_long),
        cmocka_unit_test(test_append_json_matches_canonical),
        cmocka_unit_test(test_path_ident),
        cmocka_unit_test(test_id_digest_of_long_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
