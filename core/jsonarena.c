#include "core/jsonarena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"

/* Blocks stay under glibc's first mmap threshold (128 KiB), so they come from the heap the CLI prepares
 * for large snapshots (cmd/tmscan/analysis.c) rather than from a mapping each. A value larger than an
 * eighth of a block (a long policy string) gets a block of its own, so little is left unused at the end
 * of a block. */
#define S_BLOCK_BYTES ((size_t)64 << 10)
#define S_OWN_BLOCK_MIN_BYTES (S_BLOCK_BYTES / 8)

struct s_block {
    struct s_block *next;
    size_t used;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

struct tm_json_arena {
    struct s_block *blocks; /* the block being filled first; own-size blocks behind it */
    size_t bytes;
    bool out_of_memory;
};

/* The arena cJSON's hooks allocate from while this thread parses; NULL otherwise. It is set and cleared
 * by tm_json_arena_parse alone and never outlives the call. */
static _Thread_local struct tm_json_arena *s_current;

static struct s_block *s_block_new(size_t cap) {
    if (cap > SIZE_MAX - sizeof(struct s_block))
        return NULL;
    struct s_block *b = malloc(sizeof(*b) + cap);
    if (b) {
        b->next = NULL;
        b->used = 0;
        b->cap = cap;
    }
    return b;
}

/* Every object has a size that is a multiple of its alignment, so the lowest set bit of a request's size
 * (capped at the strictest alignment) is enough alignment for whatever it holds: cJSON's 64-byte values
 * land on 16 bytes, the strings between them are packed. */
static size_t s_align_of(size_t n) {
    size_t low = n & (~n + 1);
    return low == 0 || low > alignof(max_align_t) ? alignof(max_align_t) : low;
}

static void *s_alloc_in(struct tm_json_arena *a, size_t n) {
    if (n == 0)
        n = 1;
    if (n >= S_OWN_BLOCK_MIN_BYTES) {
        struct s_block *own = s_block_new(n);
        if (!own)
            goto nomem;
        own->used = n;
        a->bytes += n;
        if (a->blocks) {
            own->next = a->blocks->next;
            a->blocks->next = own;
        } else {
            a->blocks = own;
        }
        return own->data;
    }
    struct s_block *b = a->blocks;
    size_t align = s_align_of(n);
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (!b || at + n > b->cap) {
        b = s_block_new(S_BLOCK_BYTES);
        if (!b)
            goto nomem;
        b->next = a->blocks;
        a->blocks = b;
        a->bytes += S_BLOCK_BYTES;
        at = 0;
    }
    b->used = at + n;
    return b->data + at;
nomem:
    a->out_of_memory = true;
    return NULL;
}

static void *s_hook_malloc(size_t n) {
    return s_current ? s_alloc_in(s_current, n) : malloc(n);
}

/* While a thread parses into an arena, cJSON frees only what that parse allocated (a tree it gives up
 * on), which the arena frees with the rest. */
static void s_hook_free(void *p) {
    if (!s_current)
        free(p);
}

int tm_json_arena_parse(cJSON **out, struct tm_json_arena **arena, const char *text, size_t len, const char *source,
                        char *errmsg, size_t errmsg_len) {
    *out = NULL;
    *arena = NULL;
    struct tm_json_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    cJSON_Hooks hooks = {.malloc_fn = s_hook_malloc, .free_fn = s_hook_free};
    s_current = a;
    cJSON_InitHooks(&hooks);
    cJSON *root = NULL;
    int rc = tm_json_parse(&root, text, len, source, errmsg, errmsg_len);
    cJSON_InitHooks(NULL);
    s_current = NULL;
    if (a->out_of_memory) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "%s: out of memory", source ? source : "<input>");
        rc = TM_ERR_NOMEM;
    }
    if (rc) {
        tm_json_arena_destroy(a);
        return rc;
    }
    *out = root;
    *arena = a;
    return TM_OK;
}

void tm_json_arena_destroy(struct tm_json_arena *arena) {
    if (!arena)
        return;
    for (struct s_block *b = arena->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(arena);
}

size_t tm_json_arena_bytes(const struct tm_json_arena *arena) {
    return arena ? arena->bytes : 0;
}
