#include "analyzers/rules.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jsonpos.h"
#include "core/str.h"

#define MAX_RULES_FILE_BYTES (16u << 20)

struct s_ctx {
    const char *text;
    size_t len;
    const char *source;
    char *errmsg;
    size_t errmsg_len;
};

static int s_err(const struct s_ctx *c, const char *path, const char *what) {
    if (c->errmsg && c->errmsg_len)
        snprintf(c->errmsg, c->errmsg_len, "%s:%d: %s: %s", c->source, tm_jsonpos_line(c->text, c->len, path), path,
                 what);
    return TM_ERR_PARSE;
}

static void s_rule_clean_up(struct tm_rule *r) {
    free(r->id);
    free(r->category);
    free(r->title);
    free(r->description);
    free(r->fix);
    for (size_t i = 0; i < r->n_stride; i++)
        free(r->stride[i]);
    for (size_t i = 0; i < r->n_attack; i++)
        free(r->attack[i]);
    free(r->stride);
    free(r->attack);
}

void tm_rules_destroy(struct tm_rules *rules) {
    if (!rules)
        return;
    for (size_t i = 0; i < rules->count; i++)
        s_rule_clean_up(&rules->items[i]);
    free(rules->items);
    free(rules);
}

static int s_str(const struct s_ctx *c, const cJSON *o, const char *base, const char *key, char **out) {
    char path[128];
    snprintf(path, sizeof(path), "%s.%s", base, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v) || !*v->valuestring)
        return s_err(c, path, "missing or not a non-empty string");
    return (*out = strdup(v->valuestring)) ? TM_OK : TM_ERR_NOMEM;
}

static int s_strv(const struct s_ctx *c, const cJSON *o, const char *base, const char *key, char ***out, size_t *n) {
    char path[128];
    snprintf(path, sizeof(path), "%s.%s", base, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsArray(v))
        return s_err(c, path, "missing or not an array of strings");
    size_t cnt = (size_t)cJSON_GetArraySize(v);
    *out = calloc(cnt ? cnt : 1, sizeof(**out));
    if (!*out)
        return TM_ERR_NOMEM;
    for (const cJSON *s = v->child; s; s = s->next) {
        if (!cJSON_IsString(s))
            return s_err(c, path, "must hold strings only");
        if (!((*out)[*n] = strdup(s->valuestring)))
            return TM_ERR_NOMEM;
        (*n)++;
    }
    return TM_OK;
}

static int s_cmp(const void *a, const void *b) {
    return strcmp(((const struct tm_rule *)a)->id, ((const struct tm_rule *)b)->id);
}

int tm_rules_parse(struct tm_rules **out, const char *text, size_t len, const char *source, char *errmsg,
                   size_t errmsg_len) {
    *out = NULL;
    struct s_ctx c = {text, len, source, errmsg, errmsg_len};
    cJSON *root = NULL;
    int rc = tm_json_parse(&root, text, len, source, errmsg, errmsg_len);
    if (rc)
        return rc;
    struct tm_rules *rules = calloc(1, sizeof(*rules));
    if (!rules) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "rules");
    if (!cJSON_IsArray(arr)) {
        rc = s_err(&c, "rules", "missing or not an array");
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    rules->items = calloc(n ? n : 1, sizeof(*rules->items));
    if (!rules->items) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    int i = 0;
    for (const cJSON *o = arr->child; o; o = o->next, i++) {
        char base[48];
        snprintf(base, sizeof(base), "rules[%d]", i);
        struct tm_rule *r = &rules->items[rules->count++];
        if (!cJSON_IsObject(o)) {
            rc = s_err(&c, base, "must be an object");
            goto out;
        }
        char *sev = NULL;
        if ((rc = s_str(&c, o, base, "id", &r->id)) || (rc = s_str(&c, o, base, "category", &r->category)) ||
            (rc = s_str(&c, o, base, "title", &r->title)) ||
            (rc = s_str(&c, o, base, "description", &r->description)) || (rc = s_str(&c, o, base, "fix", &r->fix)) ||
            (rc = s_strv(&c, o, base, "stride", &r->stride, &r->n_stride)) ||
            (rc = s_strv(&c, o, base, "attack", &r->attack, &r->n_attack)) ||
            (rc = s_str(&c, o, base, "severity", &sev)))
            goto out;
        int prc = tm_severity_parse(sev, &r->severity);
        free(sev);
        if (prc) {
            char path[64];
            snprintf(path, sizeof(path), "%s.severity", base);
            rc = s_err(&c, path, "must be one of critical, high, medium, low, info");
            goto out;
        }
    }
    qsort(rules->items, rules->count, sizeof(*rules->items), s_cmp);
    for (size_t k = 1; k < rules->count; k++) {
        if (strcmp(rules->items[k - 1].id, rules->items[k].id) == 0) {
            char what[200];
            snprintf(what, sizeof(what), "duplicate rule id '%.100s'", rules->items[k].id);
            rc = s_err(&c, "rules", what);
            goto out;
        }
    }
    *out = rules;
    rules = NULL;
out:
    tm_rules_destroy(rules);
    cJSON_Delete(root);
    return rc;
}

int tm_rules_load(struct tm_rules **out, const char *path, char *errmsg, size_t errmsg_len) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    *out = NULL;
    int rc = tm_file_read(&b, path, MAX_RULES_FILE_BYTES, errmsg, errmsg_len);
    if (!rc)
        rc = tm_rules_parse(out, tm_buf_str(&b), b.len, path, errmsg, errmsg_len);
    tm_buf_clean_up(&b);
    return rc;
}

const struct tm_rule *tm_rules_find(const struct tm_rules *rules, const char *id) {
    size_t lo = 0, hi = rules ? rules->count : 0;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(rules->items[mid].id, id);
        if (c == 0)
            return &rules->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int tm_rules_apply(const struct tm_rules *rules, const char *id, struct tm_finding *f) {
    const struct tm_rule *r = tm_rules_find(rules, id);
    if (!r)
        return TM_ERR_NOT_FOUND;
    int rc = tm_finding_set(f, r->id, r->category, r->severity, f->resource, f->entry);
    if (!rc && (!f->title || !f->explanation || !f->fix))
        rc = tm_finding_set_text(f, f->title ? f->title : r->title, f->explanation ? f->explanation : r->description,
                                 f->fix ? f->fix : r->fix);
    for (size_t i = 0; !rc && i < r->n_stride; i++)
        rc = tm_finding_add_stride(f, r->stride[i]);
    for (size_t i = 0; !rc && i < r->n_attack; i++)
        rc = tm_finding_add_attack(f, r->attack[i]);
    return rc;
}
