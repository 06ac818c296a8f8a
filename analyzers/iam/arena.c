/* A bump allocator: a policy's strings, patterns and statements live and die together, so one list of
 * chunks freed at once is simpler and faster than hundreds of mallocs and frees. A snapshot holds tens of
 * thousands of small policies (a few hundred bytes of JSON each): a policy on its own has a first chunk sized
 * from its document, so that most fit one chunk with little left over; the policies of a cache share the
 * cache's arena, with no chunk of their own at all. Strings are not padded to the alignment structures
 * need. */
#include "analyzers/iam/iam_int.h"

#include "core/hash.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define S_CHUNK_BYTES 4096u
#define S_MIN_CHUNK_BYTES 128u

struct tm__iam_chunk {
    struct tm__iam_chunk *next;
    size_t size;
    size_t used;
    size_t seq; /* chunks made before it in this arena */
    alignas(max_align_t) unsigned char data[];
};

void tm__iam_arena_init(struct tm__iam_arena *a) {
    memset(a, 0, sizeof(*a));
    a->next_bytes = S_CHUNK_BYTES;
    a->max_bytes = S_CHUNK_BYTES;
}

void tm__iam_arena_init_sized(struct tm__iam_arena *a, size_t first_bytes) {
    tm__iam_arena_init(a);
    if (first_bytes < S_MIN_CHUNK_BYTES)
        first_bytes = S_MIN_CHUNK_BYTES;
    if (first_bytes < S_CHUNK_BYTES)
        a->next_bytes = first_bytes;
}

void tm__iam_arena_init_chunks(struct tm__iam_arena *a, size_t chunk_bytes) {
    tm__iam_arena_init(a);
    a->next_bytes = a->max_bytes = chunk_bytes > S_MIN_CHUNK_BYTES ? chunk_bytes : S_MIN_CHUNK_BYTES;
}

void tm__iam_arena_clean_up(struct tm__iam_arena *a) {
    if (!a)
        return;
    struct tm__iam_chunk *c = a->head;
    while (c) {
        struct tm__iam_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->held_bytes = 0;
    a->used_bytes = 0;
}

size_t tm__iam_arena_bytes(const struct tm__iam_arena *a) {
    return a->held_bytes;
}

void tm__iam_arena_mark(const struct tm__iam_arena *a, struct tm__iam_arena_mark *m) {
    m->head = a->head;
    m->head_used = a->head ? a->head->used : 0;
    m->n_chunks = a->n_chunks;
    m->next_bytes = a->next_bytes;
    m->held_bytes = a->held_bytes;
    m->used_bytes = a->used_bytes;
}

void tm__iam_arena_reset(struct tm__iam_arena *a, const struct tm__iam_arena_mark *m) {
    /* Chunks made since the mark go, wherever they were linked; the older ones keep their order, so the
     * head at the mark is the head again. */
    struct tm__iam_chunk **link = &a->head;
    while (*link) {
        struct tm__iam_chunk *c = *link;
        if (c->seq >= m->n_chunks) {
            *link = c->next;
            free(c);
        } else {
            link = &c->next;
        }
    }
    a->head = m->head;
    if (a->head)
        a->head->used = m->head_used;
    a->n_chunks = m->n_chunks;
    a->next_bytes = m->next_bytes;
    a->held_bytes = m->held_bytes;
    a->used_bytes = m->used_bytes;
}

static void *s_alloc(struct tm__iam_arena *a, size_t size, size_t align) {
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX / 2)
        return NULL;
    struct tm__iam_chunk *c = a->head;
    size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || at > c->size || c->size - at < size) {
        size_t want = a->next_bytes;
        size_t cap = size > want ? size : want;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->size = cap;
        c->used = 0;
        c->seq = a->n_chunks++;
        at = 0;
        a->held_bytes += sizeof(*c) + cap;
        /* A chunk made for one big object goes behind the current one, which still has room. */
        if (a->head && size > want) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
            /* A document that outgrew its first estimate: grow towards the full chunk size. */
            if (want < a->max_bytes)
                a->next_bytes = want * 2 < a->max_bytes ? want * 2 : a->max_bytes;
        }
    }
    void *p = c->data + at;
    a->used_bytes += at + size - c->used;
    c->used = at + size;
    return p;
}

/* What a policy's structures hold at the widest: pointers, sizes, doubles and 64-bit integers (no long double).
 * Aligning to that rather than to max_align_t wastes no padding between two arrays of pointers. */
union s_widest {
    void *p;
    size_t z;
    double d;
    int64_t i;
};

void *tm__iam_arena_alloc(struct tm__iam_arena *a, size_t size) {
    void *p = s_alloc(a, size, alignof(union s_widest));
    if (p)
        memset(p, 0, size);
    return p;
}

char *tm__iam_arena_strndup(struct tm__iam_arena *a, const char *s, size_t n) {
    if (n == SIZE_MAX)
        return NULL;
    char *p = s_alloc(a, n + 1, 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tm__iam_arena_strdup(struct tm__iam_arena *a, const char *s) {
    return s ? tm__iam_arena_strndup(a, s, strlen(s)) : NULL;
}

/* ---- shared strings ---- */

#define S_STRINGS_CHUNK_BYTES (64u * 1024u)
#define S_STRINGS_FIRST_CAP 1024u

void tm__iam_strings_init(struct tm__iam_strings *t) {
    memset(t, 0, sizeof(*t));
    tm__iam_arena_init_chunks(&t->arena, S_STRINGS_CHUNK_BYTES);
}

void tm__iam_strings_clean_up(struct tm__iam_strings *t) {
    if (!t)
        return;
    tm__iam_arena_clean_up(&t->arena);
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

size_t tm__iam_strings_bytes(const struct tm__iam_strings *t) {
    return tm__iam_arena_bytes(&t->arena) + t->cap * sizeof(*t->slots);
}

static int s_strings_grow(struct tm__iam_strings *t) {
    size_t cap = t->cap ? t->cap * 2 : S_STRINGS_FIRST_CAP;
    struct tm__iam_string_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i].s)
            continue;
        size_t h = t->slots[i].hash & (cap - 1);
        while (slots[h].s)
            h = (h + 1) & (cap - 1);
        slots[h] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return TM_OK;
}

const char *tm__iam_str(struct tm__iam_arena *a, struct tm__iam_strings *strings, const char *s, size_t n) {
    if (!strings || n >= UINT32_MAX)
        return tm__iam_arena_strndup(strings ? &strings->arena : a, s, n);
    if ((strings->count + 1) * 2 > strings->cap && s_strings_grow(strings))
        return NULL;
    uint32_t hash = (uint32_t)tm_hash_words_n(TM_HASH_FNV_OFFSET, s, n);
    size_t mask = strings->cap - 1, h = hash & mask;
    for (; strings->slots[h].s; h = (h + 1) & mask) {
        const struct tm__iam_string_slot *e = &strings->slots[h];
        if (e->hash == hash && e->len == n && memcmp(e->s, s, n) == 0)
            return e->s;
    }
    const char *p = tm__iam_arena_strndup(&strings->arena, s, n);
    if (!p)
        return NULL;
    strings->slots[h] = (struct tm__iam_string_slot){p, (uint32_t)n, hash};
    strings->count++;
    return p;
}
