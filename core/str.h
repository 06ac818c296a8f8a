/* Small string, encoding and file helpers used across modules. */
#ifndef TM_CORE_STR_H
#define TM_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

bool tm_str_starts_with(const char *s, const char *prefix);
bool tm_str_ends_with(const char *s, const char *suffix);
/* ASCII case-insensitive equality. */
bool tm_str_ieq(const char *a, const char *b);
/* strdup that accepts NULL (returns NULL). */
char *tm_strdup(const char *s);
char *tm_strndup(const char *s, size_t n);
/* Zeroes a NUL-terminated secret and frees it; accepts NULL. */
void tm_secret_free(char *s);

/* Lower-case hex of len bytes. */
TM_MUST_CHECK int tm_hex_encode(struct tm_buf *out, const unsigned char *data, size_t len);

/* RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, everything else is
 * %XX with upper-case hex; '/' stays when keep_slash is true (URI paths). */
TM_MUST_CHECK int tm_uri_encode(struct tm_buf *out, const char *s, size_t len, bool keep_slash);
/* Decodes %XX; '+' becomes a space when plus_is_space (form bodies). Rejects malformed escapes. */
TM_MUST_CHECK int tm_uri_decode(struct tm_buf *out, const char *s, size_t len, bool plus_is_space);

/* Reads a whole file, refusing files over max_bytes. On error, errmsg (if not NULL, errmsg_len
 * bytes) names the file and the reason. */
TM_MUST_CHECK int tm_file_read(struct tm_buf *out, const char *path, size_t max_bytes, char *errmsg, size_t errmsg_len);
/* Writes a file atomically (temporary file in the same directory, fsync, rename) with the given mode.
 * An existing device, pipe or socket (/dev/null, /dev/stdout, a FIFO) is written in place instead. */
TM_MUST_CHECK int tm_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, char *errmsg,
                                       size_t errmsg_len);

/* The same, written piece by piece (a report too large to hold whole): open, write any number of times,
 * then commit (fsync, rename into place) or abort (the temporary file is removed; path is untouched).
 * An existing device, pipe or socket is written in place instead, as tm_file_write_atomic does.
 * After a failed write, only abort. */
struct tm_file_atomic {
    int fd;         /* -1 when closed */
    char *path;     /* the file to replace */
    char *tmp_path; /* the temporary file beside it; NULL when written in place */
    bool in_place;  /* path is a device, pipe or socket (/dev/null, a FIFO): written directly, never renamed over */
};
TM_MUST_CHECK int tm_file_atomic_open(struct tm_file_atomic *w, const char *path, unsigned mode, char *errmsg,
                                      size_t errmsg_len);
TM_MUST_CHECK int tm_file_atomic_write(struct tm_file_atomic *w, const void *data, size_t len);
TM_MUST_CHECK int tm_file_atomic_commit(struct tm_file_atomic *w, char *errmsg, size_t errmsg_len);
/* Accepts a writer that was never opened, or was committed already (then does nothing). */
void tm_file_atomic_abort(struct tm_file_atomic *w);

#endif
