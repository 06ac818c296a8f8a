/* Where a value stands in a JSON text, so validation errors can name the line a user must fix. cJSON
 * keeps no positions; this scans the text once per question, which is fine for configuration files. */
#ifndef TM_CORE_JSONPOS_H
#define TM_CORE_JSONPOS_H

#include <stddef.h>

/* The 1-based line of the value at path in text, where path is written like `recognised[2].from`
 * (object keys joined with '.', array indexes in brackets; "" is the root). When the value does not
 * exist, the line of the nearest existing ancestor. Returns 0 when the text is not valid JSON up to
 * that point. */
int tm_jsonpos_line(const char *text, size_t len, const char *path);

#endif
