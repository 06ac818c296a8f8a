/* JSON helpers over cJSON: parsing with line-accurate errors, and canonical (deterministic) output. */
#ifndef TM_CORE_JSON_H
#define TM_CORE_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/* Parses len bytes. On failure returns TM_ERR_PARSE and writes "<source>:<line>:<column>: invalid JSON"
 * to errmsg. The caller owns *out (cJSON_Delete). */
TM_MUST_CHECK int tm_json_parse(cJSON **out, const char *text, size_t len, const char *source, char *errmsg,
                                size_t errmsg_len);

/* Line and column (1-based) of a byte offset in text. */
void tm_json_line_col(const char *text, size_t offset, int *line, int *col);

/* Sorts the keys of every object in the tree, recursively, by byte order. Arrays keep their order. */
void tm_json_sort_keys(cJSON *item);

/* Prints with sorted keys (the tree is sorted in place). pretty: 2-space indentation, one item per line.
 * Returns a malloc'd string, NULL when out of memory. Output is byte-identical for equal trees. */
char *tm_json_print_canonical(cJSON *item, bool pretty);

/* The same appended to b, as the value of a member `depth` levels deep (the indentation of its lines). */
TM_MUST_CHECK int tm_json_append_canonical(struct tm_buf *b, cJSON *item, bool pretty, int depth);
/* Appends s as a JSON string (quoted, escaped) exactly as the canonical printer writes strings. */
TM_MUST_CHECK int tm_json_append_string(struct tm_buf *b, const char *s);

/* Inserts item before position index of array (index >= size appends). Debian 12's cJSON refuses
 * cJSON_InsertItemInArray anywhere but the head or the end, so every insertion goes through here.
 * Returns false (and leaves item to the caller) when array is not an array. */
bool tm_json_array_insert(cJSON *array, int index, cJSON *item);

/* Typed getters that return def when the key is absent or of another type. */
const char *tm_json_str(const cJSON *obj, const char *key, const char *def);
double tm_json_num(const cJSON *obj, const char *key, double def);
bool tm_json_bool(const cJSON *obj, const char *key, bool def);

#endif
