/* A parsed JSON document whose values live in blocks of its own instead of one malloc each.
 *
 * A 100,000-resource snapshot is three million JSON values; parsed value by value, each costs a malloc
 * chunk header and its own place in the heap (385 MiB for a 113 MiB file), and walking the tree jumps
 * across all of it. Parsed here, the values and their strings are laid out in the order they appear in
 * the text, a member next to its key, in about two thirds of the memory, and freeing the document is
 * freeing a few thousand blocks.
 *
 * Such a document is read-only: cJSON frees and replaces values with free(), which must never see a
 * value of the arena. Nothing may be added to, removed from or replaced in it (cJSON_Delete of any of
 * its values included); the arena frees everything. */
#ifndef TM_CORE_JSONARENA_H
#define TM_CORE_JSONARENA_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"

struct tm_json_arena;

/* Parses len bytes as tm_json_parse does (same errors, naming source, line and column); on success *out
 * is the root, owned by *arena, which the caller destroys (never cJSON_Delete). On failure both are NULL.
 *
 * cJSON takes its allocator from process-wide hooks, so for the length of this call they point at the
 * arena of the calling thread: another thread's cJSON calls meanwhile still get malloc and free, but
 * the hooks themselves are written without a lock, so no other thread may call cJSON_InitHooks, and the
 * hooks are cJSON's defaults (malloc, free) again when it returns. */
TM_MUST_CHECK int tm_json_arena_parse(cJSON **out, struct tm_json_arena **arena, const char *text, size_t len,
                                      const char *source, char *errmsg, size_t errmsg_len);

/* The same for a document whose root is an object with one large array member named array_key (a
 * snapshot's "resources"): that array's elements are parsed on two threads, one from each end of it, when
 * the text is large and laid out one element per line (as tmscan writes it), and on this one otherwise. The
 * tree, and any error, are the same as tm_json_arena_parse's. For the length of the call cJSON's hooks are
 * shared by the two threads, each allocating from an arena of its own. */
TM_MUST_CHECK int tm_json_arena_parse_split(cJSON **out, struct tm_json_arena **arena, const char *text, size_t len,
                                            const char *array_key, const char *source, char *errmsg, size_t errmsg_len);

/* Frees every value of the document at once. Accepts NULL. */
void tm_json_arena_destroy(struct tm_json_arena *arena);

/* Bytes of the blocks the document takes (for tests and benchmarks). */
size_t tm_json_arena_bytes(const struct tm_json_arena *arena);
/* How many elements of the split array the second thread parsed (0: it was not used, or its guess was
 * wrong and this thread parsed them all). For tests and benchmarks. */
size_t tm_json_arena_second_thread_elements(const struct tm_json_arena *arena);

#endif
