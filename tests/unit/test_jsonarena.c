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
#include "core/jsonarena.h"
#include "core/snapshot.h"

/* A document with every kind of value, nesting, escapes, unicode and a string long enough to get a block of
 * its own. */
static char *s_document(void) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\"schema\": \"x\", \"n\": [1, -2.5, 3e10, 0], \"t\": true, \"f\": false, "
                                           "\"z\": null, \"esc\": \"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\", "
                                           "\"deep\": {\"a\": {\"b\": {\"c\": [[], {}, [\"x\"]]}}}, \"long\": \""),
                     TM_OK);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(tm_buf_append_char(&b, (char)('a' + i % 26)), TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "\", \"many\": ["), TM_OK);
    /* Enough small values to fill several blocks. */
    for (int i = 0; i < 5000; i++)
        assert_int_equal(
            tm_buf_appendf(&b, "%s{\"k%d\": \"v%d\", \"odd\": \"%.*s\"}", i ? ", " : "", i, i, i % 13, "abcdefghijklm"),
            TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "]}"), TM_OK);
    return tm_buf_detach(&b);
}

static void test_same_tree_as_cjson(void **state) {
    (void)state;
    char *text = s_document();
    char err[256] = "";
    cJSON *plain = NULL, *root = NULL;
    struct tm_json_arena *arena = NULL;
    assert_int_equal(tm_json_parse(&plain, text, strlen(text), "doc.json", err, sizeof(err)), TM_OK);
    assert_int_equal(tm_json_arena_parse(&root, &arena, text, strlen(text), "doc.json", err, sizeof(err)), TM_OK);
    assert_non_null(root);
    assert_non_null(arena);
    assert_true(cJSON_Compare(plain, root, true));
    char *a = cJSON_PrintUnformatted(plain), *b = cJSON_PrintUnformatted(root);
    assert_string_equal(a, b);
    /* The values and their strings take blocks of the arena: more than the text's size, far less than
     * the malloc'd tree. */
    size_t bytes = tm_json_arena_bytes(arena);
    assert_true(bytes >= strlen(text));
    assert_true(bytes < 8 * strlen(text));
    /* Values land aligned for what they are: every cJSON value on its own alignment. */
    for (cJSON *it = cJSON_GetObjectItem(root, "many")->child; it; it = it->next)
        assert_int_equal((uintptr_t)it % _Alignof(cJSON), 0);
    free(a);
    free(b);
    cJSON_Delete(plain);
    tm_json_arena_destroy(arena);
    free(text);
}

static void test_hooks_restored(void **state) {
    (void)state;
    cJSON *root = NULL;
    struct tm_json_arena *arena = NULL;
    char err[256] = "";
    assert_int_equal(tm_json_arena_parse(&root, &arena, "[1, 2]", 6, "x", err, sizeof(err)), TM_OK);
    /* cJSON allocates with malloc again: a value made now is freed by cJSON_Delete and by nothing else
     * (the sanitizer build reports a value that landed in the arena or was never freed). */
    cJSON *own = cJSON_CreateString("after");
    assert_non_null(own);
    char *printed = cJSON_PrintUnformatted(own);
    assert_string_equal(printed, "\"after\"");
    free(printed);
    cJSON_Delete(own);
    tm_json_arena_destroy(arena);
    tm_json_arena_destroy(NULL);
    assert_int_equal(tm_json_arena_bytes(NULL), 0);
}

static void test_errors_as_tm_json_parse(void **state) {
    (void)state;
    static const char *const bad[] = {"{\"a\": [1, 2", "{\"a\": 1} x",         "{\"a\": tru}", "",
                                      "[\"\\ud800\"]", "{\"a\":\n  {\"b\": }}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char e1[256] = "", e2[256] = "";
        cJSON *plain = NULL, *root = (cJSON *)1;
        struct tm_json_arena *arena = (struct tm_json_arena *)1;
        int rc1 = tm_json_parse(&plain, bad[i], strlen(bad[i]), "in.json", e1, sizeof(e1));
        int rc2 = tm_json_arena_parse(&root, &arena, bad[i], strlen(bad[i]), "in.json", e2, sizeof(e2));
        assert_int_equal(rc2, rc1);
        assert_int_equal(rc2, TM_ERR_PARSE);
        assert_string_equal(e2, e1);
        assert_true(strncmp(e2, "in.json:", 8) == 0);
        assert_null(root);
        assert_null(arena);
    }
    /* After failed parses the hooks are cJSON's own again. */
    cJSON *o = cJSON_CreateObject();
    assert_non_null(cJSON_AddStringToObject(o, "k", "v"));
    cJSON_Delete(o);
}

static const char s_snap[] = "{\"schema\": \"tmscan.snapshot/1\", \"scope\": {\"provider\": \"aws\", \"accounts\": "
                             "[\"111122223333\"]}, \"errors\": [], \"resources\": [{\"id\": \"arn:aws:s3:::b\", "
                             "\"type\": \"aws:s3:bucket\", \"account\": \"111122223333\", \"region\": \"us-east-1\", "
                             "\"attrs\": {}, \"policies\": {}, \"links\": []}]}";

static void test_loaded_snapshot_is_read_only(void **state) {
    (void)state;
    struct tm_snapshot *s = NULL, *built = NULL;
    char err[256] = "";
    assert_int_equal(tm_snapshot_parse(&s, s_snap, strlen(s_snap), "snap.json", err, sizeof(err)), TM_OK);
    assert_non_null(tm_snapshot_find(s, "arn:aws:s3:::b"));
    cJSON *r = NULL;
    assert_int_equal(tm_snapshot_resource(s, "arn:aws:s3:::c", "aws:s3:bucket", "111122223333", "us-east-1", NULL, &r),
                     TM_ERR_STATE);
    assert_null(r);
    assert_int_equal(tm_snapshot_scope_add(s, "regions", "eu-west-1"), TM_ERR_STATE);
    struct tm_snapshot_error e = {.service = "s3", .operation = "ListBuckets", .region = "global", .code = "x"};
    assert_int_equal(tm_snapshot_add_error(s, &e), TM_ERR_STATE);
    assert_int_equal(tm_snapshot_count(s), 1);
    assert_int_equal(tm_snapshot_error_count(s), 0);
    /* A snapshot being built takes a loaded one's facts; the loaded one takes none. */
    assert_int_equal(tm_snapshot_new(&built, "aws"), TM_OK);
    assert_int_equal(tm_snapshot_merge(built, s, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_count(built), 1);
    assert_int_equal(tm_snapshot_merge(s, built, err, sizeof(err)), TM_ERR_STATE);
    assert_non_null(strstr(err, "read-only"));
    /* Serializing a loaded snapshot (keys sorted in place) works and writes what was read. */
    char *t1 = NULL, *t2 = NULL;
    assert_int_equal(tm_snapshot_serialize(s, &t1, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_snapshot_serialize(built, &t2, err, sizeof(err)), TM_OK);
    assert_non_null(strstr(t1, "\"arn:aws:s3:::b\""));
    free(t1);
    free(t2);
    tm_snapshot_destroy(built);
    tm_snapshot_destroy(s);
}

/* A document shaped like a snapshot as tmscan writes it, over the size the split parse starts at: errors
 * first, then the big array, one element per line at four spaces, each element with nested arrays of its
 * own (at deeper indentation) and strings holding what looks like structure. `tail` goes after the array. */
static char *s_big(size_t elements, const char *tail) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\n  \"errors\": [\n    {\n      \"code\": \"x\"\n    }\n  ],\n"
                                           "  \"resources\": [\n"),
                     TM_OK);
    for (size_t i = 0; i < elements; i++)
        assert_int_equal(
            tm_buf_appendf(&b,
                           "    {\n      \"id\": \"r-%06zu\",\n      \"text\": \",\\n    {\\\" ],\",\n"
                           "      \"list\": [\n        {\n          \"k\": %zu\n        },\n"
                           "        {\n          \"k\": [1, 2.5, true, null]\n        }\n      ]\n    }%s\n",
                           i, i, i + 1 < elements ? "," : ""),
            TM_OK);
    assert_int_equal(tm_buf_appendf(&b, "  ]%s\n}\n", tail), TM_OK);
    return tm_buf_detach(&b);
}

/* Parses text both ways; asserts the same result (tree or error) and returns the split parse's arena stat. */
static size_t s_both(const char *text, int want_rc) {
    char e1[256] = "", e2[256] = "";
    cJSON *plain = NULL, *split = NULL;
    struct tm_json_arena *a1 = NULL, *a2 = NULL;
    int rc1 = tm_json_arena_parse(&plain, &a1, text, strlen(text), "big.json", e1, sizeof(e1));
    int rc2 = tm_json_arena_parse_split(&split, &a2, text, strlen(text), "resources", "big.json", e2, sizeof(e2));
    assert_int_equal(rc1, want_rc);
    assert_int_equal(rc2, rc1);
    assert_string_equal(e2, e1);
    size_t second = tm_json_arena_second_thread_elements(a2);
    if (rc1 == TM_OK) {
        /* Printed, not cJSON_Compare: that finds members by key, and repeated keys must keep their order. */
        char *p1 = cJSON_PrintUnformatted(plain), *p2 = cJSON_PrintUnformatted(split);
        assert_string_equal(p1, p2);
        free(p1);
        free(p2);
        /* The list is well formed both ways: prev of the head is the tail, the tail ends it. */
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(split, "resources");
        size_t n = 0;
        const cJSON *last = NULL;
        for (const cJSON *it = arr->child; it; it = it->next, n++) {
            if (it != arr->child)
                assert_ptr_equal(it->prev->next, it);
            last = it;
        }
        assert_int_equal(n, (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(plain, "resources")));
        if (last)
            assert_ptr_equal(arr->child->prev, last);
    } else {
        assert_null(split);
        assert_null(a2);
    }
    tm_json_arena_destroy(a1);
    tm_json_arena_destroy(a2);
    return second;
}

static void test_split_same_tree(void **state) {
    (void)state;
    char *text = s_big(30000, ",\n  \"schema\": \"tmscan.snapshot/1\",\n  \"schema\": \"again\"");
    assert_true(strlen(text) > ((size_t)4 << 20));
    size_t second = s_both(text, TM_OK);
    /* The second thread took about half of the elements. */
    assert_true(second > 10000 && second < 20000);
    free(text);
}

static void test_split_wrong_guess_and_one_line(void **state) {
    (void)state;
    /* The middle of the text falls in another array laid out like the big one: the guess is checked,
     * dropped, and the tree is still the plain parse's. */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\n  \"resources\": [\n    {\n      \"id\": \"a\"\n    },\n    {\n      "
                                           "\"id\": \"b\"\n    }\n  ],\n  \"zother\": [\n"),
                     TM_OK);
    for (int i = 0; i < 200000; i++)
        assert_int_equal(tm_buf_appendf(&b, "    {\n      \"n\": %d\n    }%s\n", i, i + 1 < 200000 ? "," : ""), TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "  ]\n}\n"), TM_OK);
    char *text = tm_buf_detach(&b);
    assert_true(strlen(text) > ((size_t)4 << 20));
    assert_int_equal(s_both(text, TM_OK), 0);
    free(text);
    /* The same elements on one line: nothing to split at. */
    char *big = s_big(30000, "");
    struct tm_buf one;
    tm_buf_init(&one, 0);
    for (const char *p = big; *p; p++)
        if (*p != '\n')
            assert_int_equal(tm_buf_append_char(&one, *p), TM_OK);
    char *flat = tm_buf_detach(&one);
    assert_int_equal(s_both(flat, TM_OK), 0);
    free(flat);
    free(big);
}

static void test_split_errors_as_plain(void **state) {
    (void)state;
    char *text = s_big(30000, "");
    size_t len = strlen(text);
    /* Broken in the second thread's half, in this thread's half, after the array, and cut short. */
    char *late = strdup(text), *early = strdup(text), *after = strdup(text), *cut = strdup(text);
    memcpy(late + len * 3 / 4, "@", 1);
    memcpy(early + len / 4, "@", 1);
    memcpy(after + len - 3, "x", 1);
    cut[len / 2] = '\0';
    assert_int_equal(s_both(late, TM_ERR_PARSE), 0);
    assert_int_equal(s_both(early, TM_ERR_PARSE), 0);
    assert_int_equal(s_both(after, TM_ERR_PARSE), 0);
    assert_int_equal(s_both(cut, TM_ERR_PARSE), 0);
    free(late);
    free(early);
    free(after);
    free(cut);
    free(text);
    /* Small documents are parsed on this thread alone. */
    assert_int_equal(s_both("{\"resources\": [{\"id\": 1}, {\"id\": 2}]}", TM_OK), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_tree_as_cjson),      cmocka_unit_test(test_hooks_restored),
        cmocka_unit_test(test_errors_as_tm_json_parse), cmocka_unit_test(test_loaded_snapshot_is_read_only),
        cmocka_unit_test(test_split_same_tree),         cmocka_unit_test(test_split_wrong_guess_and_one_line),
        cmocka_unit_test(test_split_errors_as_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
