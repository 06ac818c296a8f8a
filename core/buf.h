/* A growable byte buffer with a hard cap (every buffer filled from the network has one).
 * The contents are always NUL-terminated, so text can be used as a C string. */
#ifndef TM_CORE_BUF_H
#define TM_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/error.h"

struct tm_buf {
    char *data;       /* NULL until the first append */
    size_t len;       /* bytes used, not counting the terminating NUL */
    size_t alloc;     /* bytes allocated */
    size_t max_bytes; /* cap on len; 0 means no cap (only for data tmscan itself produces) */
    int toobig;       /* set once an append was refused for the cap */
};

void tm_buf_init(struct tm_buf *buf, size_t max_bytes);
/* Frees the storage; zeroes it first when it may hold secrets (tm_buf_clean_up_secret). */
void tm_buf_clean_up(struct tm_buf *buf);
void tm_buf_clean_up_secret(struct tm_buf *buf);
void tm_buf_reset(struct tm_buf *buf);

/* Makes room for extra more bytes (and the NUL) without changing the contents: for writers that fill
 * buf->data + buf->len themselves and then advance len. Same cap and errors as an append of extra bytes. */
TM_MUST_CHECK int tm_buf_reserve(struct tm_buf *buf, size_t extra);
TM_MUST_CHECK int tm_buf_append(struct tm_buf *buf, const void *data, size_t len);
TM_MUST_CHECK int tm_buf_append_str(struct tm_buf *buf, const char *str);
TM_MUST_CHECK int tm_buf_append_char(struct tm_buf *buf, char c);
TM_MUST_CHECK int tm_buf_appendf(struct tm_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TM_MUST_CHECK int tm_buf_vappendf(struct tm_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* For text tmscan writes for people (explanations, evidence lists): appends what fits under the cap,
 * cut at a UTF-8 character boundary, and ends the text with " …" once it is full; later appends are
 * dropped. Returns TM_OK unless out of memory, so a very large account gives a shortened sentence,
 * never a failed report. */
TM_MUST_CHECK int tm_buf_append_text(struct tm_buf *buf, const char *str);
TM_MUST_CHECK int tm_buf_appendf_text(struct tm_buf *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the storage to the caller (free() it) and leaves the buffer empty. Never NULL on success:
 * an empty buffer gives "". Returns NULL only when out of memory. */
char *tm_buf_detach(struct tm_buf *buf);

/* The contents as a C string; "" when empty. */
const char *tm_buf_str(const struct tm_buf *buf);

#endif
