#include "providers/auth/ini.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

static void s_err(char *errmsg, size_t errmsg_len, const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void s_err(char *errmsg, size_t errmsg_len, const char *path, unsigned line, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    int n = line ? snprintf(errmsg, errmsg_len, "%s:%u: ", path, line) : snprintf(errmsg, errmsg_len, "%s: ", path);
    if (n < 0 || (size_t)n >= errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg + n, errmsg_len - (size_t)n, fmt, ap);
    va_end(ap);
}

void tm_ini_clean_up(struct tm_ini *ini) {
    if (!ini)
        return;
    for (size_t i = 0; i < ini->count; i++) {
        struct tm_ini_section *s = &ini->sections[i];
        for (size_t j = 0; j < s->count; j++) {
            free(s->entries[j].key);
            tm_secret_free(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
    }
    free(ini->sections);
    free(ini->path);
    memset(ini, 0, sizeof(*ini));
}

const struct tm_ini_section *tm_ini_find(const struct tm_ini *ini, const char *name) {
    for (size_t i = 0; ini && i < ini->count; i++)
        if (strcmp(ini->sections[i].name, name) == 0)
            return &ini->sections[i];
    return NULL;
}

const struct tm_ini_entry *tm_ini_entry(const struct tm_ini_section *section, const char *key) {
    for (size_t i = 0; section && i < section->count; i++)
        if (strcmp(section->entries[i].key, key) == 0)
            return &section->entries[i];
    return NULL;
}

const char *tm_ini_get(const struct tm_ini_section *section, const char *key) {
    const struct tm_ini_entry *e = tm_ini_entry(section, key);
    return e ? e->value : NULL;
}

static bool s_blank(char c) {
    return c == ' ' || c == '\t';
}

/* Trims spaces and tabs; returns the new length and moves *s past leading blanks. */
static size_t s_trim(const char **s, size_t len) {
    while (len > 0 && s_blank(**s)) {
        (*s)++;
        len--;
    }
    while (len > 0 && s_blank((*s)[len - 1]))
        len--;
    return len;
}

static int s_grow(void **items, size_t *alloc, size_t count, size_t size) {
    if (count < *alloc)
        return TM_OK;
    size_t n = *alloc ? *alloc * 2 : 8;
    void *p = realloc(*items, n * size);
    if (!p)
        return TM_ERR_NOMEM;
    *items = p;
    *alloc = n;
    return TM_OK;
}

int tm_ini_parse(struct tm_ini *out, const char *path, const char *text, size_t len, char *errmsg, size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    int rc = TM_OK;
    if (!(out->path = tm_strdup(path ? path : "<config>")))
        return TM_ERR_NOMEM;
    if (len > TM_INI_MAX_BYTES) {
        s_err(errmsg, errmsg_len, out->path, 0, "file too large (over %d bytes)", TM_INI_MAX_BYTES);
        rc = TM_ERR_TOO_BIG;
        goto out;
    }
    if (memchr(text, '\0', len)) {
        size_t off = (size_t)((const char *)memchr(text, '\0', len) - text);
        unsigned line = 1;
        for (size_t i = 0; i < off; i++)
            line += text[i] == '\n';
        s_err(errmsg, errmsg_len, out->path, line, "NUL byte: not a text file");
        rc = TM_ERR_PARSE;
        goto out;
    }
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }

    struct tm_ini_section *cur = NULL;
    struct tm_ini_entry *last = NULL; /* the option a deeper-indented line continues */
    size_t last_indent = 0;
    unsigned line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *l = p;
        p = nl ? nl + 1 : end;
        if (n > 0 && l[n - 1] == '\r')
            n--;
        size_t indent = 0;
        while (indent < n && s_blank(l[indent]))
            indent++;
        const char *t = l;
        size_t tn = s_trim(&t, n);
        if (tn == 0 || t[0] == '#' || t[0] == ';')
            continue;

        if (last && indent > last_indent) {
            /* Continuation of the previous option's value (configparser's multi-line values). */
            size_t old = strlen(last->value);
            char *v = malloc(old + 1 + tn + 1);
            if (!v) {
                rc = TM_ERR_NOMEM;
                goto out;
            }
            memcpy(v, last->value, old);
            v[old] = '\n';
            memcpy(v + old + 1, t, tn);
            v[old + 1 + tn] = '\0';
            tm_secret_free(last->value);
            last->value = v;
            continue;
        }

        if (t[0] == '[') {
            const char *close = memchr(t, ']', tn);
            if (!close) {
                s_err(errmsg, errmsg_len, out->path, line, "section header without a closing ']'");
                rc = TM_ERR_PARSE;
                goto out;
            }
            const char *rest = close + 1;
            size_t rn = tn - (size_t)(rest - t);
            rn = s_trim(&rest, rn);
            if (rn > 0 && rest[0] != '#' && rest[0] != ';') {
                s_err(errmsg, errmsg_len, out->path, line, "unexpected text after the section header");
                rc = TM_ERR_PARSE;
                goto out;
            }
            const char *name = t + 1;
            size_t nn = s_trim(&name, (size_t)(close - name));
            if (nn == 0) {
                s_err(errmsg, errmsg_len, out->path, line, "empty section name");
                rc = TM_ERR_PARSE;
                goto out;
            }
            for (size_t i = 0; i < out->count; i++)
                if (strlen(out->sections[i].name) == nn && memcmp(out->sections[i].name, name, nn) == 0) {
                    s_err(errmsg, errmsg_len, out->path, line, "section [%s] already defined on line %u",
                          out->sections[i].name, out->sections[i].line);
                    rc = TM_ERR_PARSE;
                    goto out;
                }
            rc = s_grow((void **)&out->sections, &out->alloc, out->count, sizeof(*out->sections));
            if (rc)
                goto out;
            cur = &out->sections[out->count];
            memset(cur, 0, sizeof(*cur));
            if (!(cur->name = tm_strndup(name, nn))) {
                rc = TM_ERR_NOMEM;
                goto out;
            }
            cur->line = line;
            out->count++;
            last = NULL;
            continue;
        }

        size_t d = 0;
        while (d < tn && t[d] != '=' && t[d] != ':')
            d++;
        if (d == tn) {
            s_err(errmsg, errmsg_len, out->path, line, "expected 'key = value' or a [section] header");
            rc = TM_ERR_PARSE;
            goto out;
        }
        const char *key = t;
        size_t kn = s_trim(&key, d);
        const char *val = t + d + 1;
        size_t vn = s_trim(&val, tn - d - 1);
        if (kn == 0) {
            s_err(errmsg, errmsg_len, out->path, line, "an option without a name");
            rc = TM_ERR_PARSE;
            goto out;
        }
        if (!cur) {
            s_err(errmsg, errmsg_len, out->path, line, "option '%.*s' before any [section] header",
                  (int)(kn > 64 ? 64 : kn), key);
            rc = TM_ERR_PARSE;
            goto out;
        }
        char *k = tm_strndup(key, kn);
        if (!k) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        for (char *c = k; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c + ('a' - 'A'));
        const struct tm_ini_entry *dup = tm_ini_entry(cur, k);
        if (dup) {
            s_err(errmsg, errmsg_len, out->path, line, "option '%s' already set in [%s] on line %u", k, cur->name,
                  dup->line);
            free(k);
            rc = TM_ERR_PARSE;
            goto out;
        }
        rc = s_grow((void **)&cur->entries, &cur->alloc, cur->count, sizeof(*cur->entries));
        char *v = rc ? NULL : tm_strndup(val, vn);
        if (!v) {
            free(k);
            rc = rc ? rc : TM_ERR_NOMEM;
            goto out;
        }
        last = &cur->entries[cur->count++];
        last->key = k;
        last->value = v;
        last->line = line;
        last_indent = indent;
    }
out:
    if (rc)
        tm_ini_clean_up(out);
    return rc;
}

int tm_ini_load(struct tm_ini *out, const char *path, char *errmsg, size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    struct tm_buf text;
    tm_buf_init(&text, TM_INI_MAX_BYTES);
    int rc = tm_file_read(&text, path, TM_INI_MAX_BYTES, errmsg, errmsg_len);
    if (!rc)
        rc = tm_ini_parse(out, path, text.data ? text.data : "", text.len, errmsg, errmsg_len);
    tm_buf_clean_up_secret(&text);
    return rc;
}
