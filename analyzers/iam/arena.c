/* A bump allocator: a policy's strings, patterns and statements live and die together, so one list of
 * chunks freed at once is simpler and faster than hundreds of mallocs and frees. */
#include "analyzers/iam/iam_int.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define S_CHUNK_BYTES 4096u

struct tm__iam_chunk {
    struct tm__iam_chunk *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void tm__iam_arena_init(struct tm__iam_arena *a) {
    a->head = NULL;
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
}

void *tm__iam_arena_alloc(struct tm__iam_arena *a, size_t size) {
    const size_t align = alignof(max_align_t);
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - align)
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    struct tm__iam_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > S_CHUNK_BYTES ? size : S_CHUNK_BYTES;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->size = cap;
        c->used = 0;
        /* A chunk made for one big object goes behind the current one, which still has room. */
        if (a->head && cap > S_CHUNK_BYTES) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *tm__iam_arena_strndup(struct tm__iam_arena *a, const char *s, size_t n) {
    char *p = tm__iam_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *tm__iam_arena_strdup(struct tm__iam_arena *a, const char *s) {
    return s ? tm__iam_arena_strndup(a, s, strlen(s)) : NULL;
}
