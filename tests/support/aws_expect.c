#include "tests/support/aws_expect.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

const cJSON *tm_test_aws_at(const cJSON *o, const char *path) {
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, "|", &save); tok && o; tok = strtok_r(NULL, "|", &save))
        o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(tok)) : cJSON_GetObjectItemCaseSensitive(o, tok);
    return o;
}

void tm_test_aws_expect(struct tm_snapshot *snap, const char *id, const char *path, const char *json) {
    const cJSON *res = tm_snapshot_find(snap, id);
    if (!res)
        fail_msg("no resource %s", id);
    const cJSON *v = tm_test_aws_at(res, path);
    char *got = v ? cJSON_PrintUnformatted(v) : strdup("(absent)");
    if (strcmp(got, json) != 0)
        fail_msg("%s %s: got %s, want %s", id, path, got, json);
    free(got);
}

size_t tm_test_aws_count_type(struct tm_snapshot *snap, const char *type) {
    size_t n = 0;
    for (size_t i = 0; i < tm_snapshot_count(snap); i++)
        n += strcmp(tm_json_str(tm_snapshot_at(snap, i), "type", ""), type) == 0;
    return n;
}

size_t tm_test_aws_count_errors(struct tm_snapshot *snap, const char *code) {
    size_t n = 0;
    for (const cJSON *e = tm_snapshot_errors(snap)->child; e; e = e->next)
        n += strcmp(tm_json_str(e, "code", ""), code) == 0;
    return n;
}

size_t tm_test_aws_count_calls(const cJSON *log, const char *operation) {
    size_t n = 0, len = strlen(operation);
    for (const cJSON *l = log ? log->child : NULL; l; l = l->next) {
        const char *sp = strchr(l->valuestring, ' ');
        n += sp && strncmp(sp + 1, operation, len) == 0 && sp[1 + len] == ' ';
    }
    return n;
}

void tm_test_aws_facts_present(struct tm_snapshot *snap, const char *type, const char *const *keys) {
    for (size_t i = 0; i < tm_snapshot_count(snap); i++) {
        const cJSON *r = tm_snapshot_at(snap, i);
        if (strcmp(tm_json_str(r, "type", ""), type) != 0)
            continue;
        for (const char *const *k = keys; *k; k++) {
            char path[128];
            snprintf(path, sizeof(path), "%s%s", strchr(*k, '|') ? "" : "attrs|", *k);
            if (!tm_test_aws_at(r, path))
                fail_msg("%s: %s is absent", tm_json_str(r, "id", ""), *k);
        }
    }
}

const cJSON *tm_test_aws_attr(const cJSON *res, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "attrs"), key);
}

const cJSON *tm_test_aws_policy(const cJSON *res) {
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "policies"), "resource");
}

void tm_test_aws_assert_json(const cJSON *v, const char *want) {
    char *s = cJSON_PrintUnformatted(v);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

void tm_test_aws_expect_attr(const cJSON *res, const char *key, const char *json) {
    char *got = cJSON_PrintUnformatted(tm_test_aws_attr(res, key));
    if (!got || strcmp(got, json) != 0)
        fail_msg("%s: got %s, want %s", key, got ? got : "(absent)", json);
    free(got);
}

bool tm_test_aws_has_link(const cJSON *res, const char *kind, const char *to) {
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(res, "links")) {
        if (strcmp(tm_json_str(l, "kind", ""), kind) == 0 && strcmp(tm_json_str(l, "to", ""), to) == 0)
            return true;
    }
    return false;
}
