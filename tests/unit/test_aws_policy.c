/* policies/tmscan-readonly-iam-policy.json: the IAM permissions a scan needs. Every operation the
 * AWS provider can call (its service tables) must be granted by it, and it must grant nothing but
 * List and Read actions (per the action catalogue, policies/iam-actions.json). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/catalog.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"
#include "providers/aws/aws.h"

/* Tests run from the repository root (make test); TM_ROOT overrides it. */
static void s_path(char *out, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(out, len, "%s/%s", root && *root ? root : ".", rel);
}

static cJSON *s_load_policy(void) {
    char path[4096], err[512];
    s_path(path, sizeof(path), "policies/tmscan-readonly-iam-policy.json");
    struct tm_buf b;
    tm_buf_init(&b, 1 << 20);
    if (tm_file_read(&b, path, 1 << 20, err, sizeof(err)))
        fail_msg("%s", err);
    cJSON *doc = NULL;
    if (tm_json_parse(&doc, tm_buf_str(&b), b.len, path, err, sizeof(err)))
        fail_msg("%s", err);
    tm_buf_clean_up(&b);
    return doc;
}

static const cJSON *s_actions(const cJSON *doc) {
    assert_string_equal(tm_json_str(doc, "Version", ""), "2012-10-17");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "Statement");
    assert_int_equal(cJSON_GetArraySize(st), 1);
    const cJSON *s0 = cJSON_GetArrayItem(st, 0);
    assert_string_equal(tm_json_str(s0, "Effect", ""), "Allow");
    assert_string_equal(tm_json_str(s0, "Resource", ""), "*");
    assert_null(cJSON_GetObjectItemCaseSensitive(s0, "NotAction"));
    assert_null(cJSON_GetObjectItemCaseSensitive(s0, "Condition"));
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(s0, "Action");
    assert_true(cJSON_IsArray(actions));
    return actions;
}

static bool s_granted(const cJSON *actions, const char *action) {
    for (const cJSON *a = actions->child; a; a = a->next)
        if (cJSON_IsString(a) && tm_str_ieq(a->valuestring, action))
            return true;
    return false;
}

static void test_every_operation_is_granted(void **state) {
    (void)state;
    cJSON *doc = s_load_policy();
    const cJSON *actions = s_actions(doc);
    size_t checked = 0, missing = 0;
    for (const struct tm_aws_service *const *s = tm_aws_scan_services(); *s; s++) {
        for (const struct tm_aws_operation *op = (*s)->operations; op->name; op++) {
            if (!op->iam_action) /* STS GetCallerIdentity needs no permission */
                continue;
            checked++;
            if (!s_granted(actions, op->iam_action)) {
                print_error("%s %s:%s needs %s, which the policy does not grant\n", (*s)->name, op->api->name, op->name,
                            op->iam_action);
                missing++;
            }
        }
    }
    assert_true(checked >= 25);
    assert_int_equal(missing, 0);
    cJSON_Delete(doc);
}

static void test_policy_is_read_only_and_tidy(void **state) {
    (void)state;
    char path[4096], err[512];
    s_path(path, sizeof(path), "policies/iam-actions.json");
    struct tm_iam_catalog *cat = NULL;
    if (tm_iam_catalog_load(&cat, path, err, sizeof(err)))
        fail_msg("%s", err);
    cJSON *doc = s_load_policy();
    const cJSON *actions = s_actions(doc);
    const char *prev = "";
    for (const cJSON *a = actions->child; a; a = a->next) {
        assert_true(cJSON_IsString(a));
        const char *name = a->valuestring;
        /* No wildcards: the grant is exactly what tmscan calls. */
        assert_null(strchr(name, '*'));
        const char *level = tm_iam_catalog_level_of(cat, name);
        if (!level)
            fail_msg("%s is not an AWS action", name);
        if (strcmp(level, "List") != 0 && strcmp(level, "Read") != 0)
            fail_msg("%s is a %s action: the scan policy grants List and Read only", name, level);
        /* Sorted and unique, so a review sees every change. */
        if (strcmp(prev, name) >= 0)
            fail_msg("%s is out of order or repeated", name);
        prev = name;
    }
    cJSON_Delete(doc);
    tm_iam_catalog_destroy(cat);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_operation_is_granted),
        cmocka_unit_test(test_policy_is_read_only_and_tidy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
