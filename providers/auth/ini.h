/* A strict parser for the INI dialect of ~/.aws/config and ~/.aws/credentials.
 *
 * It reads what the AWS CLI reads (Python's configparser as botocore uses it): `[section]` headers,
 * `key = value` or `key: value` options with lower-cased keys and verbatim values, full-line `#`/`;`
 * comments, and indented continuation lines (the nested `s3 =` blocks). Where configparser would refuse a
 * file (an option outside a section, a repeated section or option, a line that is neither), so does this
 * parser, with the file name and line number in the message. Values may be secrets: they are zeroed
 * when the parse is cleaned up. */
#ifndef TM_PROVIDERS_AUTH_INI_H
#define TM_PROVIDERS_AUTH_INI_H

#include <stddef.h>

#include "core/error.h"

/* Config files larger than this are refused. */
#define TM_INI_MAX_BYTES (1024 * 1024)

struct tm_ini_entry {
    char *key;   /* lower-case */
    char *value; /* trimmed; continuation lines joined with '\n' */
    unsigned line;
};

struct tm_ini_section {
    char *name; /* as written between the brackets, trimmed */
    unsigned line;
    struct tm_ini_entry *entries;
    size_t count, alloc;
};

struct tm_ini {
    char *path; /* the name used in messages */
    struct tm_ini_section *sections;
    size_t count, alloc;
};

/* Parses `len` bytes of text. `path` names the file in error messages ("<path>:<line>: <why>"). On
 * error `out` holds nothing to free. Errors: TM_ERR_PARSE, TM_ERR_TOO_BIG (over TM_INI_MAX_BYTES), TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_ini_parse(struct tm_ini *out, const char *path, const char *text, size_t len, char *errmsg,
                               size_t errmsg_len);

/* Reads and parses a file. TM_ERR_NOT_FOUND when it does not exist (errmsg says so), TM_ERR_TOO_BIG over
 * TM_INI_MAX_BYTES, TM_ERR_IO, TM_ERR_PARSE. */
TM_MUST_CHECK int tm_ini_load(struct tm_ini *out, const char *path, char *errmsg, size_t errmsg_len);

void tm_ini_clean_up(struct tm_ini *ini);

/* The section named exactly `name`, or NULL. */
const struct tm_ini_section *tm_ini_find(const struct tm_ini *ini, const char *name);
/* The entry for `key` (lower-case) in a section (which may be NULL), or NULL. */
const struct tm_ini_entry *tm_ini_entry(const struct tm_ini_section *section, const char *key);
/* The value for `key`, or NULL. */
const char *tm_ini_get(const struct tm_ini_section *section, const char *key);

#endif
