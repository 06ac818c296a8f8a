#include "core/str.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
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
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (max_bytes && out->len + n > max_bytes) {
            s_err(errmsg, errmsg_len, path, "file too large");
            rc = TM_ERR_TOO_BIG;
            goto out;
        }
        rc = tm_buf_append(out, chunk, n);
        if (rc) {
            s_err(errmsg, errmsg_len, path, tm_error_str(rc));
            goto out;
        }
    }
    if (ferror(f)) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        rc = TM_ERR_IO;
    }
out:
    fclose(f);
    return rc;
}

static int s_write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return TM_ERR_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return TM_OK;
}

/* A device, pipe or socket (-o /dev/null, -o /dev/stdout, a FIFO) is written in place: renaming a file
 * over it would replace /dev/null with a regular file for everyone on the machine. */
static int s_write_in_place(const char *path, const void *data, size_t len, char *errmsg, size_t errmsg_len) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        return TM_ERR_IO;
    }
    int rc = s_write_all(fd, data, len);
    int saved = errno;
    if (close(fd) != 0 && !rc) {
        rc = TM_ERR_IO;
        saved = errno;
    }
    if (rc)
        s_err(errmsg, errmsg_len, path, strerror(saved));
    return rc;
}

int tm_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode, char *errmsg,
                         size_t errmsg_len) {
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return s_write_in_place(path, data, len, errmsg, errmsg_len);
    struct tm_buf tmp;
    tm_buf_init(&tmp, 0);
    int rc = tm_buf_appendf(&tmp, "%s.tmp.XXXXXX", path);
    if (rc)
        return rc;
    int fd = mkstemp(tmp.data);
    if (fd < 0) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        tm_buf_clean_up(&tmp);
        return TM_ERR_IO;
    }
    rc = TM_OK;
    if (fchmod(fd, (mode_t)mode) != 0)
        rc = TM_ERR_IO;
    if (!rc)
        rc = s_write_all(fd, data, len);
    if (!rc && fsync(fd) != 0)
        rc = TM_ERR_IO;
    if (close(fd) != 0 && !rc)
        rc = TM_ERR_IO;
    if (!rc && rename(tmp.data, path) != 0)
        rc = TM_ERR_IO;
    if (rc) {
        s_err(errmsg, errmsg_len, path, strerror(errno));
        unlink(tmp.data);
    }
    tm_buf_clean_up(&tmp);
    return rc;
}
