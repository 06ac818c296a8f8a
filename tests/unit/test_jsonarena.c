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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_tree_as_cjson),
        cmocka_unit_test(test_hooks_restored),
        cmocka_unit_test(test_errors_as_tm_json_parse),
        cmocka_unit_test(test_loaded_snapshot_is_read_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
