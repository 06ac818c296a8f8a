#include "core/buf.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tm_buf_init(struct tm_buf *buf, size_t max_bytes) {
    memset(buf, 0, sizeof(*buf));
    buf->max_bytes = max_bytes;
}

void tm_buf_clean_up(struct tm_buf *buf) {
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->alloc = 0;
    buf->toobig = 0;
}

void tm_buf_clean_up_secret(struct tm_buf *buf) {
    if (!buf)
        return;
    if (buf->data)
        OPENSSL_cleanse(buf->data, buf->alloc);
    tm_buf_clean_up(buf);
}

void tm_buf_reset(struct tm_buf *buf) {
    buf->len = 0;
    buf->toobig = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

static int s_reserve(struct tm_buf *buf, size_t extra) {
    if (buf->max_bytes && (extra > buf->max_bytes || buf->len > buf->max_bytes - extra)) {
        buf->toobig = 1;
        return TM_ERR_TOO_BIG;
    }
    if (extra > (size_t)-1 - buf->len - 1)
        return TM_ERR_TOO_BIG;
    size_t need = buf->len + extra + 1;
    if (need <= buf->alloc)
        return TM_OK;
    size_t n = buf->alloc ? buf->alloc : 64;
    while (n < need)
        n = n > ((size_t)-1) / 2 ? need : n * 2;
    char *p = realloc(buf->data, n);
    if (!p)
        return TM_ERR_NOMEM;
    buf->data = p;
    buf->alloc = n;
    return TM_OK;
}

int tm_buf_reserve(struct tm_buf *buf, size_t extra) {
    int rc = s_reserve(buf, extra);
    if (!rc)
        buf->data[buf->len] = '\0';
    return rc;
}

int tm_buf_append(struct tm_buf *buf, const void *data, size_t len) {
    int rc = s_reserve(buf, len);
    if (rc)
        return rc;
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return TM_OK;
}

int tm_buf_append_str(struct tm_buf *buf, const char *str) {
    return tm_buf_append(buf, str, strlen(str));
}

int tm_buf_append_char(struct tm_buf *buf, char c) {
    return tm_buf_append(buf, &c, 1);
}

int tm_buf_vappendf(struct tm_buf *buf, const char *fmt, va_list ap) {
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return TM_ERR_INVALID;
    int rc = s_reserve(buf, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
    return TM_OK;
}

int tm_buf_appendf(struct tm_buf *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = tm_buf_vappendf(buf, fmt, ap);
    va_end(ap);
    return rc;
}

char *tm_buf_detach(struct tm_buf *buf) {
    char *p = buf->data;
    if (!p)
        p = calloc(1, 1);
    buf->data = NULL;
    buf->len = buf->alloc = 0;
    return p;
}

const char *tm_buf_str(const struct tm_buf *buf) {
    return buf->data ? buf->data : "";
}

int tm_buf_append_text(struct tm_buf *buf, const char *str) {
    static const char ellipsis[] = " \xe2\x80\xa6"; /* " …" */
    const size_t el = sizeof(ellipsis) - 1;
    if (buf->toobig)
        return TM_OK;
    size_t n = strlen(str);
    if (!buf->max_bytes || n <= buf->max_bytes - buf->len)
        return tm_buf_append(buf, str, n);
    size_t room = buf->max_bytes - buf->len;
    size_t keep = room > el ? room - el : 0;
    /* Do not cut a multi-byte character in half. */
    while (keep > 0 && ((unsigned char)str[keep] & 0xC0) == 0x80)
        keep--;
    int rc = tm_buf_append(buf, str, keep);
    if (!rc && buf->max_bytes - buf->len >= el)
        rc = tm_buf_append(buf, ellipsis, el);
    buf->toobig = 1;
    return rc == TM_ERR_NOMEM ? rc : TM_OK;
}

int tm_buf_appendf_text(struct tm_buf *buf, const char *fmt, ...) {
    if (buf->toobig)
        return TM_OK;
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return TM_ERR_NOMEM;
    int rc = tm_buf_append_text(buf, text);
    free(text);
    return rc;
}
