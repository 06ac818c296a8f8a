#include "core/jsonarena.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    size_t second_thread_elements;
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

/* cJSON allocates from a (on this thread) until s_hooks_off. */
static void s_hooks_on(struct tm_json_arena *a) {
    cJSON_Hooks hooks = {.malloc_fn = s_hook_malloc, .free_fn = s_hook_free};
    s_current = a;
    cJSON_InitHooks(&hooks);
}

static void s_hooks_off(void) {
    cJSON_InitHooks(NULL);
    s_current = NULL;
}

int tm_json_arena_parse(cJSON **out, struct tm_json_arena **arena, const char *text, size_t len, const char *source,
                        char *errmsg, size_t errmsg_len) {
    *out = NULL;
    *arena = NULL;
    struct tm_json_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    s_hooks_on(a);
    cJSON *root = NULL;
    int rc = tm_json_parse(&root, text, len, source, errmsg, errmsg_len);
    s_hooks_off();
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

/* ---- the split parse ------------------------------------------------------------------------------
 *
 * The document is walked member by member at its top level, each value parsed by cJSON on its own
 * (cJSON_ParseWithLengthOpts stops at the end of the value and says where), and the big array element by
 * element: this thread from its first element, a second thread from an element about halfway through. A
 * newline never occurs inside a JSON string, so a line holding only indentation and '{' after a line ending
 * in ',' is the start of an element of some array; it is taken as one of the big array when its indentation
 * is that of the array's first element. That is a guess, and this thread checks it: its elements must end
 * exactly where the second thread began, else the second thread's work is dropped and this one parses on.
 * Anything unexpected (not an object at the top, invalid JSON anywhere) falls back to one parse of the
 * whole text, whose tree and errors are the reference. cJSON also keeps the position of its last failure in
 * a variable of its own, which both threads may write; nothing in tmscan reads it (cJSON_GetErrorPtr). An
 * element parsed on its own may nest two levels deeper than cJSON's limit would allow it in the whole
 * document; nothing else differs. */

#define S_SPLIT_MIN_BYTES ((size_t)4 << 20)

static size_t s_ws(const char *t, size_t len, size_t at) {
    while (at < len && (t[at] == ' ' || t[at] == '\n' || t[at] == '\r' || t[at] == '\t'))
        at++;
    return at;
}

/* The value at t[at] (not white space), parsed into the calling thread's arena; *end is just past it. */
static cJSON *s_value_at(const char *t, size_t len, size_t at, size_t *end) {
    const char *stop = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(t + at, len - at, &stop, false);
    if (v)
        *end = (size_t)(stop - t);
    return v;
}

/* Links item after *tail in the child list headed by *head (cJSON's layout: the head's prev is the tail). */
static void s_link(cJSON **head, cJSON **tail, cJSON *item) {
    if (!*head) {
        *head = item;
    } else {
        (*tail)->next = item;
        item->prev = *tail;
    }
    *tail = item;
    (*head)->prev = item;
}

struct s_run {
    const char *text;
    size_t len;
    size_t from; /* offset of the first element this run parses */
    struct tm_json_arena *arena;
    cJSON *head, *tail; /* the elements parsed */
    size_t count;
    size_t end; /* just past the array's ']' */
    bool ok;
};

/* Elements from run->from to the end of the array. */
static void s_run_elements(struct s_run *run) {
    const char *t = run->text;
    size_t at = run->from;
    for (;;) {
        size_t end = 0;
        cJSON *v = s_value_at(t, run->len, at, &end);
        if (!v)
            return;
        s_link(&run->head, &run->tail, v);
        run->count++;
        at = s_ws(t, run->len, end);
        if (at < run->len && t[at] == ',') {
            at = s_ws(t, run->len, at + 1);
            continue;
        }
        if (at < run->len && t[at] == ']') {
            run->end = at + 1;
            run->ok = true;
        }
        return;
    }
}

static void *s_run_thread(void *arg) {
    struct s_run *run = arg;
    s_current = run->arena;
    s_run_elements(run);
    s_current = NULL;
    return NULL;
}

/* An element start of the array whose first element is at t[first], about halfway between first and len, or 0
 * when none is found (a file on one line, or elements not one per line). */
static size_t s_split_point(const char *t, size_t len, size_t first) {
    size_t line = first;
    while (line > 0 && t[line - 1] != '\n')
        line--;
    if (line == 0 || line == first)
        return 0;
    size_t indent = first - line;
    for (size_t i = line; i < first; i++)
        if (t[i] != ' ' && t[i] != '\t')
            return 0;
    const char *at = t + first + (len - first) / 2, *stop = t + len;
    while ((at = memchr(at, '\n', (size_t)(stop - at))) != NULL) {
        const char *p = at + 1;
        if ((size_t)(stop - p) > indent && memcmp(p, t + line, indent) == 0 && p[indent] == '{') {
            const char *q = at;
            while (q > t && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
                q--;
            if (q > t && q[-1] == ',')
                return (size_t)(p + indent - t);
        }
        at = p;
    }
    return 0;
}

/* The array at t[*at] ('['), into this thread's arena a (and a second one). NULL on anything unexpected. */
static cJSON *s_split_array(struct tm_json_arena *a, const char *t, size_t len, size_t *at) {
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return NULL;
    size_t first = s_ws(t, len, *at + 1);
    if (first < len && t[first] == ']') {
        *at = first + 1;
        return arr;
    }
    struct s_run mine = {.text = t, .len = len, .from = first};
    struct s_run other = {.text = t, .len = len};
    pthread_t thread;
    bool started = false;
    size_t split = s_split_point(t, len, first);
    if (split && (other.arena = calloc(1, sizeof(*other.arena))) != NULL) {
        other.from = split;
        started = pthread_create(&thread, NULL, s_run_thread, &other) == 0;
    }
    /* This thread's elements, up to the split (or, once the guess proves wrong, to the end). */
    size_t pos = first;
    bool joined = !started;
    for (;;) {
        size_t end = 0;
        cJSON *v = s_value_at(t, len, pos, &end);
        if (!v)
            break;
        s_link(&mine.head, &mine.tail, v);
        pos = s_ws(t, len, end);
        if (pos < len && t[pos] == ',') {
            pos = s_ws(t, len, pos + 1);
            if (!joined && pos >= split) {
                pthread_join(thread, NULL);
                joined = true;
                if (pos == split && other.ok) {
                    /* The guess was right: the other thread's elements follow, in its arena. */
                    mine.head->prev = other.tail;
                    mine.tail->next = other.head;
                    other.head->prev = mine.tail;
                    mine.tail = other.tail;
                    mine.end = other.end;
                    mine.ok = true;
                    break;
                }
            }
            continue;
        }
        if (pos < len && t[pos] == ']') {
            mine.end = pos + 1;
            mine.ok = true;
        }
        break;
    }
    if (!joined)
        pthread_join(thread, NULL);
    if (other.arena) {
        if (mine.ok && mine.tail == other.tail) {
            /* Keep the other thread's blocks with the document. */
            struct s_block **last = &a->blocks;
            while (*last)
                last = &(*last)->next;
            *last = other.arena->blocks;
            a->bytes += other.arena->bytes;
            a->second_thread_elements = other.count;
            a->out_of_memory = a->out_of_memory || other.arena->out_of_memory;
            other.arena->blocks = NULL;
        }
        tm_json_arena_destroy(other.arena);
    }
    if (!mine.ok)
        return NULL;
    arr->child = mine.head;
    *at = mine.end;
    return arr;
}

/* The document's top-level object, member by member; NULL on anything unexpected. */
static cJSON *s_split_root(struct tm_json_arena *a, const char *t, size_t len, const char *array_key) {
    size_t at = s_ws(t, len, 0);
    if (at >= len || t[at] != '{')
        return NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON *tail = NULL;
    at = s_ws(t, len, at + 1);
    if (at < len && t[at] == '}')
        return NULL; /* nothing to split: the plain parse */
    for (;;) {
        size_t end = 0;
        cJSON *key = at < len && t[at] == '"' ? s_value_at(t, len, at, &end) : NULL;
        if (!key || !cJSON_IsString(key))
            return NULL;
        at = s_ws(t, len, end);
        if (at >= len || t[at] != ':')
            return NULL;
        at = s_ws(t, len, at + 1);
        cJSON *value = NULL;
        if (at < len && t[at] == '[' && strcmp(key->valuestring, array_key) == 0) {
            value = s_split_array(a, t, len, &at);
        } else if ((value = s_value_at(t, len, at, &end)) != NULL) {
            at = end;
        }
        if (!value)
            return NULL;
        value->string = key->valuestring; /* both in the arena */
        key->valuestring = NULL;
        s_link(&root->child, &tail, value);
        at = s_ws(t, len, at);
        if (at < len && t[at] == ',') {
            at = s_ws(t, len, at + 1);
            continue;
        }
        if (at < len && t[at] == '}')
            break;
        return NULL;
    }
    return s_ws(t, len, at + 1) == len ? root : NULL;
}

int tm_json_arena_parse_split(cJSON **out, struct tm_json_arena **arena, const char *text, size_t len,
                              const char *array_key, const char *source, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    *arena = NULL;
    if (len < S_SPLIT_MIN_BYTES || !array_key)
        return tm_json_arena_parse(out, arena, text, len, source, errmsg, errmsg_len);
    struct tm_json_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return TM_ERR_NOMEM;
    s_hooks_on(a);
    cJSON *root = s_split_root(a, text, len, array_key);
    s_hooks_off();
    if (!root || a->out_of_memory) {
        tm_json_arena_destroy(a);
        return tm_json_arena_parse(out, arena, text, len, source, errmsg, errmsg_len);
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

size_t tm_json_arena_second_thread_elements(const struct tm_json_arena *arena) {
    return arena ? arena->second_thread_elements : 0;
}
