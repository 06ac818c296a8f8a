#include "core/jsonpos.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct s_scan {
    const char *p, *end;
    int line;
    const char *want;
    char path[512];
    int best_line;   /* line of the deepest matching prefix found so far */
    size_t best_len; /* its length */
    bool found;
};

static void s_ws(struct s_scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')) {
        if (*s->p == '\n')
            s->line++;
        s->p++;
    }
}

/* Records the line when the current path is the wanted one, or an ancestor of it (a prefix followed
 * by '.' or '[' in the wanted path). */
static void s_mark(struct s_scan *s) {
    size_t n = strlen(s->path);
    if (strcmp(s->path, s->want) == 0) {
        s->best_line = s->line;
        s->best_len = n;
        s->found = true;
        return;
    }
    if (n >= s->best_len && strncmp(s->path, s->want, n) == 0 && (n == 0 || s->want[n] == '.' || s->want[n] == '[') &&
        !s->found) {
        s->best_line = s->line;
        s->best_len = n;
    }
}

static bool s_string(struct s_scan *s, char *out, size_t out_len) {
    if (s->p >= s->end || *s->p != '"')
        return false;
    s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\' && s->p + 1 < s->end)
            s->p++;
        if (*s->p == '\n')
            return false;
        if (out && n + 1 < out_len)
            out[n++] = *s->p;
        s->p++;
    }
    if (out)
        out[n] = '\0';
    if (s->p >= s->end)
        return false;
    s->p++;
    return true;
}

static bool s_value(struct s_scan *s, int depth);

static bool s_container(struct s_scan *s, int depth, bool object) {
    char close = object ? '}' : ']';
    s->p++;
    s_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    size_t base = strlen(s->path);
    for (int index = 0;; index++) {
        s_ws(s);
        if (object) {
            char key[256];
            if (!s_string(s, key, sizeof(key)))
                return false;
            snprintf(s->path + base, sizeof(s->path) - base, "%s%s", base ? "." : "", key);
            s_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return false;
            s->p++;
            s_ws(s);
        } else {
            snprintf(s->path + base, sizeof(s->path) - base, "[%d]", index);
        }
        if (!s_value(s, depth + 1))
            return false;
        s->path[base] = '\0';
        s_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return true;
        }
        return false;
    }
}

static bool s_value(struct s_scan *s, int depth) {
    if (depth > 256)
        return false;
    s_ws(s);
    if (s->p >= s->end)
        return false;
    s_mark(s);
    switch (*s->p) {
        case '{':
            return s_container(s, depth, true);
        case '[':
            return s_container(s, depth, false);
        case '"':
            return s_string(s, NULL, 0);
        default:
            while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
                s->p++;
            return true;
    }
}

int tm_jsonpos_line(const char *text, size_t len, const char *path) {
    struct s_scan s = {.p = text, .end = text + len, .line = 1, .want = path};
    s.path[0] = '\0';
    bool ok = s_value(&s, 0);
    if (s.found || ok)
        return s.best_line;
    return s.best_line;
}
