/* The policy cache: parsed policies keyed by (kind, document text), in an open-addressing table.
 *
 * A tree is keyed by its compact text, printed into a buffer the cache keeps between calls (no allocation
 * for a document seen before); a document is parsed only the first time its text is seen, and from its
 * tree, not from the text. The policies live in one arena of large chunks: tens of thousands of policies
 * of a kilobyte or two cost no allocation each, and no chunk left part empty each. */
#include "analyzers/iam/policy.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/iam_int.h"
#include "core/hash.h"

struct s_slot {
    uint64_t hash;
    struct tm_iam_policy *policy; /* NULL: empty */
};

struct tm_iam_policy_cache {
    struct s_slot *slots;
    size_t cap; /* power of two */
    size_t count;
    struct tm__iam_arena arena;     /* every policy */
    struct tm__iam_strings strings; /* their strings, each distinct text once */
    char *print;                    /* where trees are printed */
    size_t print_cap;
};

#define S_FIRST_CAP 256u
#define S_PRINT_FIRST 4096u
#define S_ARENA_CHUNK_BYTES (64u * 1024u)

int tm_iam_policy_cache_new(struct tm_iam_policy_cache **out) {
    *out = NULL;
    struct tm_iam_policy_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return TM_ERR_NOMEM;
    c->slots = calloc(S_FIRST_CAP, sizeof(*c->slots));
    if (!c->slots) {
        free(c);
        return TM_ERR_NOMEM;
    }
    c->cap = S_FIRST_CAP;
    tm__iam_arena_init_chunks(&c->arena, S_ARENA_CHUNK_BYTES);
    tm__iam_strings_init(&c->strings);
    *out = c;
    return TM_OK;
}

void tm_iam_policy_cache_destroy(struct tm_iam_policy_cache *cache) {
    if (!cache)
        return;
    tm__iam_arena_clean_up(&cache->arena);
    tm__iam_strings_clean_up(&cache->strings);
    free(cache->slots);
    free(cache->print);
    free(cache);
}

size_t tm_iam_policy_cache_count(const struct tm_iam_policy_cache *cache) {
    return cache ? cache->count : 0;
}

size_t tm_iam_policy_cache_memory_bytes(const struct tm_iam_policy_cache *cache) {
    if (!cache)
        return 0;
    return sizeof(*cache) + cache->cap * sizeof(*cache->slots) + cache->print_cap + tm__iam_arena_bytes(&cache->arena) +
           tm__iam_strings_bytes(&cache->strings);
}

static const struct tm_iam_policy *s_find(const struct tm_iam_policy_cache *c, uint64_t h, const char *text, size_t len,
                                          enum tm_iam_policy_kind kind) {
    size_t mask = c->cap - 1;
    for (size_t i = (size_t)h & mask; c->slots[i].policy; i = (i + 1) & mask) {
        const struct tm_iam_policy *p = c->slots[i].policy;
        if (c->slots[i].hash == h && p->kind == kind && p->text_len == len && memcmp(p->text, text, len) == 0)
            return p;
    }
    return NULL;
}

static void s_place(struct s_slot *slots, size_t cap, uint64_t h, struct tm_iam_policy *p) {
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (slots[i].policy)
        i = (i + 1) & mask;
    slots[i].hash = h;
    slots[i].policy = p;
}

static int s_insert(struct tm_iam_policy_cache *c, uint64_t h, struct tm_iam_policy *p) {
    if ((c->count + 1) * 2 > c->cap) {
        size_t cap = c->cap * 2;
        struct s_slot *slots = calloc(cap, sizeof(*slots));
        if (!slots)
            return TM_ERR_NOMEM;
        for (size_t i = 0; i < c->cap; i++)
            if (c->slots[i].policy)
                s_place(slots, cap, c->slots[i].hash, c->slots[i].policy);
        free(c->slots);
        c->slots = slots;
        c->cap = cap;
    }
    s_place(c->slots, c->cap, h, p);
    c->count++;
    return TM_OK;
}

/* Looks text up; on a miss parses it (from doc when given, doc's compact text being text) and keeps it. */
static int s_get(const struct tm_iam_policy **out, struct tm_iam_policy_cache *c, const cJSON *doc, const char *text,
                 size_t len, enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    uint64_t h = tm_hash_words_n(TM_HASH_FNV_OFFSET ^ (uint64_t)(kind), text, len);
    const struct tm_iam_policy *hit = s_find(c, h, text, len, kind);
    if (hit) {
        if (err && errlen)
            err[0] = '\0';
        *out = hit;
        return TM_OK;
    }
    struct tm__iam_arena_mark mark;
    tm__iam_arena_mark(&c->arena, &mark);
    struct tm_iam_policy *p = NULL;
    int rc = tm__iam_policy_parse_printed(&p, &c->arena, &c->strings, doc, text, len, kind, err, errlen);
    if (rc)
        return rc;
    if ((rc = s_insert(c, h, p))) {
        tm__iam_arena_reset(&c->arena, &mark);
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return rc;
    }
    *out = p;
    return TM_OK;
}

int tm_iam_policy_cache_parse(const struct tm_iam_policy **out, struct tm_iam_policy_cache *cache, const char *text,
                              size_t len, enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    *out = NULL;
    if (!cache || !text) {
        if (err && errlen)
            snprintf(err, errlen, "no policy text");
        return TM_ERR_INVALID;
    }
    return s_get(out, cache, NULL, text, len, kind, err, errlen);
}

int tm_iam_policy_cache_parse_json(const struct tm_iam_policy **out, struct tm_iam_policy_cache *cache,
                                   const cJSON *doc, enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    *out = NULL;
    if (!cache || !doc) {
        if (err && errlen)
            snprintf(err, errlen, "no policy document");
        return TM_ERR_INVALID;
    }
    /* Print into the kept buffer, doubling it until the document fits (cJSON wants 5 bytes of slack). A
     * document over the size limit is printed once more on its own, for the error. */
    for (;;) {
        if (!cache->print) {
            cache->print = malloc(S_PRINT_FIRST);
            if (!cache->print)
                return TM_ERR_NOMEM;
            cache->print_cap = S_PRINT_FIRST;
        }
        if (cJSON_PrintPreallocated((cJSON *)doc, cache->print, (int)cache->print_cap, false))
            break;
        if (cache->print_cap > TM_IAM_POLICY_MAX_BYTES) {
            struct tm_iam_policy *p = NULL;
            int rc = tm_iam_policy_parse_json(&p, doc, kind, err, errlen);
            if (!rc) {
                /* A document cJSON could print but not within twice the limit: it is over it. */
                tm_iam_policy_destroy(p);
                return TM_ERR_TOO_BIG;
            }
            return rc;
        }
        char *n = realloc(cache->print, cache->print_cap * 2);
        if (!n)
            return TM_ERR_NOMEM;
        cache->print = n;
        cache->print_cap *= 2;
    }
    return s_get(out, cache, doc, cache->print, strlen(cache->print), kind, err, errlen);
}
