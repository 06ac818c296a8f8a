#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool tm_str_starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool tm_str_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static int s_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

bool tm_str_ieq(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (s_lower((unsigned char)*a) != s_lower((unsigned char)*b))
            return false;
    return *a == *b;
}

char *tm_strdup(const char *s) {
    return s ? strdup(s) : NULL;
}

char *tm_strndup(const char *s, size_t n) {
    return s ? strndup(s, n) : NULL;
}

void tm_secret_free(char *s) {
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

int tm_hex_encode(struct tm_buf *out, const unsigned char *data, size_t len) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        char two[2] = {hex[data[i] >> 4], hex[data[i] & 15]};
        int rc = tm_buf_append(out, two, 2);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static bool s_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

int tm_uri_encode(struct tm_buf *out, const char *s, size_t len, bool keep_slash) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (s_unreserved(c) || (keep_slash && c == '/')) {
            rc = tm_buf_append_char(out, (char)c);
        } else {
            char three[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = tm_buf_append(out, three, 3);
        }
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int tm_uri_decode(struct tm_buf *out, const char *s, size_t len, bool plus_is_space) {
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len)
                return TM_ERR_PARSE;
            int hi = s_hexval(s[i + 1]), lo = s_hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return TM_ERR_PARSE;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        int rc = tm_buf_append_char(out, c);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static void s_err(char *errmsg, size_t errmsg_len, const char *path, const char *what) {
    if (errmsg && errmsg_len)
        snprintf(errmsg, errmsg_len, "%s: %s", path, what);
}

int tm_file_read(struct tm_buf *out, const char *path, size_t max_bytes, char *errmsg, size_t errmsg_len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        return errno == ENOENT ? TM_ERR_NOT_FOUND : TM_ERR_IO;
    }
    int rc = TM_OK;
    /* A regular file is read into one allocation of its size; the loop below still reads to the end (the
     * file may have grown) and keeps the cap. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (!max_bytes || (uint64_t)st.st_size <= max_bytes) && (uint64_t)st.st_size < SIZE_MAX / 2) {
        rc = tm_buf_reserve(out, (size_t)st.st_size + 1);
        if (rc) {
            s_err(errmsg, errmsg_len, path, tm_error_str(rc));
            goto out;
        }
    }
    for (;;) {
        /* Read straight into the buffer, growing it when full. */
        if (out->alloc - out->len < 2 && (rc = tm_buf_reserve(out, out->alloc ? out->alloc : 65536))) {
            s_err(errmsg, errmsg_len, path, tm_error_str(rc));
            goto out;
        }
        size_t room = out->alloc - out->len - 1;
        size_t n = fread(out->data + out->len, 1, room, f);
        if (max_bytes && out->len + n > max_bytes) {
            out->data[out->len] = '\0';
            s_err(errmsg, errmsg_len, path, "file too large");
            rc = TM_ERR_TOO_BIG;
            goto out;
        }
        out->len += n;
        out->data[out->len] = '\0';
        if (n < room)
            break;
    }
    if (ferror(f)) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        rc = TM_ERR_IO;
    }
out:
    fclose(f);
    return rc;
}

/* A device, pipe or socket (-o /dev/null, -o /dev/stdout, a FIFO) is written in place: renaming a file
 * over it would replace /dev/null with a regular file for everyone on the machine. */
static int s_open_in_place(struct tm_file_atomic *w, const char *path, char *errmsg, size_t errmsg_len) {
    if (!(w->path = strdup(path))) {
        s_err(errmsg, errmsg_len, path, tm_error_str(TM_ERR_NOMEM));
        return TM_ERR_NOMEM;
    }
    w->fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (w->fd < 0) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        tm_file_atomic_abort(w);
        return TM_ERR_IO;
    }
    w->in_place = true;
    return TM_OK;
}

int tm_file_atomic_open(struct tm_file_atomic *w, const char *path, unsigned mode, char *errmsg, size_t errmsg_len) {
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return s_open_in_place(w, path, errmsg, errmsg_len);
    struct tm_buf tmp;
    tm_buf_init(&tmp, 0);
    int rc = tm_buf_appendf(&tmp, "%s.tmp.XXXXXX", path);
    if (rc || !(w->path = strdup(path))) {
        tm_buf_clean_up(&tmp);
        s_err(errmsg, errmsg_len, path, tm_error_str(TM_ERR_NOMEM));
        tm_file_atomic_abort(w);
        return TM_ERR_NOMEM;
    }
    w->tmp_path = tm_buf_detach(&tmp);
    if (!w->tmp_path) {
        s_err(errmsg, errmsg_len, path, tm_error_str(TM_ERR_NOMEM));
        tm_file_atomic_abort(w);
        return TM_ERR_NOMEM;
    }
    w->fd = mkstemp(w->tmp_path);
    if (w->fd < 0) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        free(w->tmp_path);
        w->tmp_path = NULL; /* nothing was created: nothing to remove */
        tm_file_atomic_abort(w);
        return TM_ERR_IO;
    }
    if (fchmod(w->fd, (mode_t)mode) != 0) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        tm_file_atomic_abort(w);
        return TM_ERR_IO;
    }
    return TM_OK;
}

int tm_file_atomic_write(struct tm_file_atomic *w, const void *data, size_t len) {
    if (w->fd < 0)
        return TM_ERR_STATE;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return TM_ERR_IO;
        }
        p += n;
        len -= (size_t)n;
    }
    return TM_OK;
}

int tm_file_atomic_commit(struct tm_file_atomic *w, char *errmsg, size_t errmsg_len) {
    if (w->fd < 0)
        return TM_ERR_STATE;
    int rc = TM_OK;
    if (!w->in_place && fsync(w->fd) != 0)
        rc = TM_ERR_IO;
    if (close(w->fd) != 0 && !rc)
        rc = TM_ERR_IO;
    w->fd = -1;
    if (!rc && !w->in_place && rename(w->tmp_path, w->path) != 0)
        rc = TM_ERR_IO;
    if (rc) {
        s_err(errmsg, errmsg_len, w->path, strerror(errno));
        tm_file_atomic_abort(w);
        return rc;
    }
    free(w->tmp_path);
    free(w->path);
    w->tmp_path = w->path = NULL;
    return TM_OK;
}

void tm_file_atomic_abort(struct tm_file_atomic *w) {
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp_path)
        unlink(w->tmp_path);
    free(w->tmp_path);
    free(w->path);
    w->fd = -1;
    w->tmp_path = w->path = NULL;
}

int tm_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, char *errmsg,
                         size_t errmsg_len) {
    struct tm_file_atomic w;
    int rc = tm_file_atomic_open(&w, path, mode, errmsg, errmsg_len);
    if (rc)
        return rc;
    if ((rc = tm_file_atomic_write(&w, data, len))) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        tm_file_atomic_abort(&w);
        return rc;
    }
    return tm_file_atomic_commit(&w, errmsg, errmsg_len);
}
