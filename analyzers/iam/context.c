/* The request context: condition keys (case-insensitive names) and their values. Requests carry a
 * few dozen keys at most, so a flat array searched linearly beats any hash table here. */
#include "analyzers/iam/eval.h"

#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/iam_int.h"

void tm_iam_context_init(struct tm_iam_context *ctx) {
    memset(ctx, 0, sizeof(*ctx));
}

void tm_iam_context_clean_up(struct tm_iam_context *ctx) {
    if (!ctx)
        return;
    for (size_t i = 0; i < ctx->n; i++) {
        struct tm_iam_context_entry *e = &ctx->entries[i];
        for (size_t k = 0; k < e->n; k++)
            free(e->values[k]);
        free(e->values);
        free(e->key_lc);
    }
    free(ctx->entries);
    memset(ctx, 0, sizeof(*ctx));
}

static char *s_lower_dup(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        p[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + ('a' - 'A')) : s[i];
    return p;
}

static struct tm_iam_context_entry *s_find(const struct tm_iam_context *ctx, const char *key_lc) {
    if (!ctx)
        return NULL;
    for (size_t i = 0; i < ctx->n; i++)
        if (strcmp(ctx->entries[i].key_lc, key_lc) == 0)
            return &ctx->entries[i];
    return NULL;
}

static int s_entry(struct tm_iam_context *ctx, const char *key, struct tm_iam_context_entry **out) {
    if (!key || !*key)
        return TM_ERR_INVALID;
    char *lc = s_lower_dup(key);
    if (!lc)
        return TM_ERR_NOMEM;
    struct tm_iam_context_entry *e = s_find(ctx, lc);
    if (e) {
        free(lc);
        *out = e;
        return TM_OK;
    }
    if (ctx->n == ctx->cap) {
        size_t cap = ctx->cap ? ctx->cap * 2 : 8;
        struct tm_iam_context_entry *p = realloc(ctx->entries, cap * sizeof(*p));
        if (!p) {
            free(lc);
            return TM_ERR_NOMEM;
        }
        ctx->entries = p;
        ctx->cap = cap;
    }
    e = &ctx->entries[ctx->n++];
    memset(e, 0, sizeof(*e));
    e->key_lc = lc;
    *out = e;
    return TM_OK;
}

static int s_append(struct tm_iam_context_entry *e, const char *value) {
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 2;
        char **p = realloc(e->values, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        e->values = p;
        e->cap = cap;
    }
    char *v = strdup(value);
    if (!v)
        return TM_ERR_NOMEM;
    e->values[e->n++] = v;
    return TM_OK;
}

static void s_clear(struct tm_iam_context_entry *e) {
    for (size_t k = 0; k < e->n; k++)
        free(e->values[k]);
    e->n = 0;
}

int tm_iam_context_set(struct tm_iam_context *ctx, const char *key, const char *value) {
    if (!value)
        return TM_ERR_INVALID;
    struct tm_iam_context_entry *e;
    int rc = s_entry(ctx, key, &e);
    if (rc)
        return rc;
    s_clear(e);
    return s_append(e, value);
}

int tm_iam_context_add(struct tm_iam_context *ctx, const char *key, const char *value) {
    if (!value)
        return TM_ERR_INVALID;
    struct tm_iam_context_entry *e;
    int rc = s_entry(ctx, key, &e);
    if (rc)
        return rc;
    return s_append(e, value);
}

int tm_iam_context_set_empty(struct tm_iam_context *ctx, const char *key) {
    struct tm_iam_context_entry *e;
    int rc = s_entry(ctx, key, &e);
    if (rc)
        return rc;
    s_clear(e);
    return TM_OK;
}

const char *const *tm__iam_context_get(const struct tm_iam_context *ctx, const struct tm_iam_context *derived,
                                       const char *key_lc, size_t *n) {
    const struct tm_iam_context_entry *e = s_find(ctx, key_lc);
    if (!e)
        e = s_find(derived, key_lc);
    if (!e) {
        *n = 0;
        return NULL;
    }
    *n = e->n;
    /* A present key with no values still answers non-NULL, so callers can tell it from an absent one. */
    static const char *const s_none[1] = {NULL};
    return e->n ? (const char *const *)e->values : s_none;
}

const char *const *tm_iam_context_get(const struct tm_iam_context *ctx, const char *key, size_t *n) {
    char lc[512];
    size_t len = strlen(key);
    if (len >= sizeof(lc)) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i <= len; i++)
        lc[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] + ('a' - 'A')) : key[i];
    return tm__iam_context_get(ctx, NULL, lc, n);
}
