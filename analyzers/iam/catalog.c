#include "analyzers/iam/catalog.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

/* Longest service prefix or action name accepted (the longest real one is under 80). Bounding them
 * lets whole-string pattern matching use a stack buffer. */
#define S_NAME_MAX 128

struct s_action {
    const char *name; /* into the pool */
    enum tm_iam_level level;
};

struct s_service {
    const char *name; /* into the pool, lower case */
    size_t first;     /* index of its first action in actions[] */
    size_t count;
};

struct tm_iam_catalog {
    char *pool; /* every name, NUL-terminated, one allocation */
    struct s_service *services;
    size_t service_count;
    struct s_action *actions; /* grouped by service, each group sorted case-insensitively */
    size_t action_count;
    char *package;
    char *license;
};

static const char *const s_level_names[] = {
    [TM_IAM_LEVEL_LIST] = "List",       [TM_IAM_LEVEL_READ] = "Read",
    [TM_IAM_LEVEL_WRITE] = "Write",     [TM_IAM_LEVEL_PERMISSIONS] = "Permissions management",
    [TM_IAM_LEVEL_TAGGING] = "Tagging",
};

const char *tm_iam_level_name(enum tm_iam_level level) {
    switch (level) {
        case TM_IAM_LEVEL_LIST:
        case TM_IAM_LEVEL_READ:
        case TM_IAM_LEVEL_WRITE:
        case TM_IAM_LEVEL_PERMISSIONS:
        case TM_IAM_LEVEL_TAGGING:
            return s_level_names[level];
        default:
            return NULL;
    }
}

enum tm_iam_level tm_iam_level_parse(const char *name) {
    if (!name)
        return 0;
    for (int l = TM_IAM_LEVEL_LIST; l <= TM_IAM_LEVEL_TAGGING; l++) {
        if (strcmp(name, s_level_names[l]) == 0)
            return (enum tm_iam_level)l;
    }
    return 0;
}

/* ASCII only: IAM names are ASCII, and locale-dependent folding would make the sort order depend on
 * the environment. */
static int s_fold(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int s_icmp(const char *a, const char *b) {
    for (;; a++, b++) {
        int ca = s_fold((unsigned char)*a), cb = s_fold((unsigned char)*b);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
}

/* Compares the first n bytes of name with prefix (prefix has length n). */
static int s_iprefix_cmp(const char *name, const char *prefix, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int ca = s_fold((unsigned char)name[i]), cb = s_fold((unsigned char)prefix[i]);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}

static bool s_glob(const char *p, size_t plen, const char *t, size_t tlen) {
    size_t pi = 0, ti = 0, star_p = SIZE_MAX, star_t = 0;
    while (ti < tlen) {
        if (pi < plen && p[pi] == '*') {
            star_p = pi++;
            star_t = ti;
        } else if (pi < plen && (p[pi] == '?' || s_fold((unsigned char)p[pi]) == s_fold((unsigned char)t[ti]))) {
            pi++;
            ti++;
        } else if (star_p != SIZE_MAX) {
            pi = star_p + 1;
            ti = ++star_t;
        } else {
            return false;
        }
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

static size_t s_literal_len(const char *p, size_t plen) {
    size_t n = 0;
    while (n < plen && p[n] != '*' && p[n] != '?')
        n++;
    return n;
}

static bool s_valid_service(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && n > 0)))
            return false;
    }
    return n > 0 && n <= S_NAME_MAX;
}

static bool s_valid_action(const char *s) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              ((c == '-' || c == '_') && n > 0)))
            return false;
    }
    return n > 0 && n <= S_NAME_MAX;
}

/* ---- errors ---- */

/* Error text is built in a fixed buffer: no allocation on error paths, truncation is harmless. */
struct s_msg {
    char text[768];
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void s_msg_add(struct s_msg *m, const char *fmt, ...) {
    if (m->len >= sizeof(m->text) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(m->text + m->len, sizeof(m->text) - m->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        m->len = m->len + (size_t)n < sizeof(m->text) ? m->len + (size_t)n : sizeof(m->text) - 1;
}

/* Appends ".key" or, for keys that are not plain identifiers, ["key"] with unprintable bytes escaped,
 * so an error always shows where in the file the problem is, even for hostile keys. */
static void s_path_key(struct s_msg *m, const char *key) {
    bool plain = key[0] != '\0';
    for (const char *k = key; *k; k++) {
        char c = *k;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            plain = false;
    }
    if (plain) {
        s_msg_add(m, ".%.*s", S_NAME_MAX, key);
        return;
    }
    s_msg_add(m, "[\"");
    size_t n = 0;
    for (const unsigned char *k = (const unsigned char *)key; *k && n < S_NAME_MAX; k++, n++) {
        if (*k < 0x20 || *k >= 0x7f || *k == '"' || *k == '\\')
            s_msg_add(m, "\\x%02x", *k);
        else
            s_msg_add(m, "%c", *k);
    }
    if (*key && n == S_NAME_MAX)
        s_msg_add(m, "...");
    s_msg_add(m, "\"]");
}

/* Passed as the service to name "$.services" itself. */
static const char s_services_only[] = "services";

/* "NAME: $.services.SERVICE.KEY: message"; service NULL for top-level keys. */
__attribute__((format(printf, 6, 7))) static void s_fail(char *err, size_t errlen, const char *name,
                                                         const char *service, const char *key, const char *fmt, ...) {
    if (!err || errlen == 0)
        return;
    struct s_msg m = {.len = 0};
    s_msg_add(&m, "%s: $", name);
    if (service) {
        s_msg_add(&m, ".services");
        if (service != s_services_only)
            s_path_key(&m, service);
    }
    if (key)
        s_path_key(&m, key);
    s_msg_add(&m, ": ");
    if (m.len < sizeof(m.text) - 1) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m.text + m.len, sizeof(m.text) - m.len, fmt, ap);
        va_end(ap);
    }
    snprintf(err, errlen, "%s", m.text);
}

static void s_fail_plain(char *err, size_t errlen, const char *name, const char *msg) {
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", name, msg);
}

static void s_line_col(const char *json, size_t offset, unsigned *line, unsigned *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* ---- loading ---- */

static int s_cmp_action(const void *a, const void *b) {
    return s_icmp(((const struct s_action *)a)->name, ((const struct s_action *)b)->name);
}

static int s_cmp_service(const void *a, const void *b) {
    return strcmp(((const struct s_service *)a)->name, ((const struct s_service *)b)->name);
}

static const char *s_meta_string(const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return (cJSON_IsString(v) && v->valuestring[0]) ? v->valuestring : NULL;
}

/* First pass: checks types, names and levels, and sizes the pool. */
static int s_validate(const cJSON *services, const char *name, size_t *n_services, size_t *n_actions,
                      size_t *pool_bytes, char *err, size_t errlen) {
    *n_services = *n_actions = *pool_bytes = 0;
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services) {
        if (!s_valid_service(svc->string)) {
            s_fail(err, errlen, name, svc->string, NULL,
                   "service prefix must be 1 to %d lower-case letters, digits and '-'", S_NAME_MAX);
            return TM_ERR_PARSE;
        }
        if (!cJSON_IsObject(svc)) {
            s_fail(err, errlen, name, svc->string, NULL, "must be an object of action names to access levels");
            return TM_ERR_PARSE;
        }
        if (!svc->child) {
            s_fail(err, errlen, name, svc->string, NULL, "service has no actions");
            return TM_ERR_PARSE;
        }
        (*n_services)++;
        *pool_bytes += strlen(svc->string) + 1;
        const cJSON *act;
        cJSON_ArrayForEach(act, svc) {
            if (!s_valid_action(act->string)) {
                s_fail(err, errlen, name, svc->string, act->string,
                       "action name must be 1 to %d ASCII letters, digits, '-' and '_'", S_NAME_MAX);
                return TM_ERR_PARSE;
            }
            if (!cJSON_IsString(act)) {
                s_fail(err, errlen, name, svc->string, act->string, "access level must be a string");
                return TM_ERR_PARSE;
            }
            if (!tm_iam_level_parse(act->valuestring)) {
                s_fail(err, errlen, name, svc->string, act->string,
                       "unknown access level \"%.64s\" (expected List, Read, Write, Permissions management or Tagging)",
                       act->valuestring);
                return TM_ERR_PARSE;
            }
            (*n_actions)++;
            *pool_bytes += strlen(act->string) + 1;
        }
    }
    if (*n_services == 0) {
        s_fail(err, errlen, name, s_services_only, NULL, "no services");
        return TM_ERR_PARSE;
    }
    return TM_OK;
}

static char *s_pool_put(char **cursor, const char *s) {
    size_t n = strlen(s) + 1;
    char *at = *cursor;
    memcpy(at, s, n);
    *cursor += n;
    return at;
}

static int s_build(struct tm_iam_catalog *cat, const cJSON *services, size_t pool_bytes, const char *name, char *err,
                   size_t errlen) {
    cat->pool = malloc(pool_bytes);
    cat->services = calloc(cat->service_count, sizeof(*cat->services));
    cat->actions = calloc(cat->action_count, sizeof(*cat->actions));
    if (!cat->pool || !cat->services || !cat->actions) {
        s_fail_plain(err, errlen, name, "out of memory");
        return TM_ERR_NOMEM;
    }
    char *cursor = cat->pool;
    size_t si = 0, ai = 0;
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services) {
        struct s_service *s = &cat->services[si++];
        s->name = s_pool_put(&cursor, svc->string);
        s->first = ai;
        const cJSON *act;
        cJSON_ArrayForEach(act, svc) {
            cat->actions[ai].name = s_pool_put(&cursor, act->string);
            cat->actions[ai].level = tm_iam_level_parse(act->valuestring);
            ai++;
        }
        s->count = ai - s->first;
        qsort(cat->actions + s->first, s->count, sizeof(*cat->actions), s_cmp_action);
        for (size_t i = s->first + 1; i < ai; i++) {
            if (s_icmp(cat->actions[i - 1].name, cat->actions[i].name) == 0) {
                s_fail(err, errlen, name, s->name, cat->actions[i].name, "duplicate action (also spelled \"%s\")",
                       cat->actions[i - 1].name);
                return TM_ERR_PARSE;
            }
        }
    }
    qsort(cat->services, cat->service_count, sizeof(*cat->services), s_cmp_service);
    for (size_t i = 1; i < cat->service_count; i++) {
        if (strcmp(cat->services[i - 1].name, cat->services[i].name) == 0) {
            s_fail(err, errlen, name, cat->services[i].name, NULL, "duplicate service");
            return TM_ERR_PARSE;
        }
    }
    return TM_OK;
}

int tm_iam_catalog_parse(struct tm_iam_catalog **out, const char *json, size_t len, const char *name, char *err,
                         size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!out || !json)
        return TM_ERR_INVALID;
    *out = NULL;
    if (!name)
        name = "(catalogue)";
    int rc = TM_OK;
    cJSON *root = NULL;
    struct tm_iam_catalog *cat = NULL;

    if (len > TM_IAM_CATALOG_MAX_BYTES) {
        s_fail_plain(err, errlen, name, "file too large");
        rc = TM_ERR_TOO_BIG;
        goto out;
    }
    /* cJSON stops strings at a NUL, which would silently shorten a name. */
    if (memchr(json, '\0', len)) {
        s_fail_plain(err, errlen, name, "contains a NUL byte");
        rc = TM_ERR_PARSE;
        goto out;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        unsigned line, col;
        size_t off = end && end >= json && (size_t)(end - json) <= len ? (size_t)(end - json) : len;
        s_line_col(json, off, &line, &col);
        char msg[96];
        snprintf(msg, sizeof(msg), "invalid JSON at line %u, column %u", line, col);
        s_fail_plain(err, errlen, name, msg);
        rc = TM_ERR_PARSE;
        goto out;
    }
    for (size_t off = (size_t)(end - json); off < len; off++) {
        if (json[off] != ' ' && json[off] != '\t' && json[off] != '\n' && json[off] != '\r') {
            unsigned line, col;
            s_line_col(json, off, &line, &col);
            char msg[96];
            snprintf(msg, sizeof(msg), "unexpected data after the JSON document at line %u, column %u", line, col);
            s_fail_plain(err, errlen, name, msg);
            rc = TM_ERR_PARSE;
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        s_fail(err, errlen, name, NULL, NULL, "must be an object");
        rc = TM_ERR_PARSE;
        goto out;
    }
    static const char *const required[] = {"source", "license", "package"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (!s_meta_string(root, required[i])) {
            s_fail(err, errlen, name, NULL, required[i], "missing, empty or not a string");
            rc = TM_ERR_PARSE;
            goto out;
        }
    }
    const cJSON *services = cJSON_GetObjectItemCaseSensitive(root, "services");
    if (!cJSON_IsObject(services)) {
        s_fail(err, errlen, name, NULL, "services", "missing or not an object");
        rc = TM_ERR_PARSE;
        goto out;
    }

    cat = calloc(1, sizeof(*cat));
    if (!cat) {
        s_fail_plain(err, errlen, name, "out of memory");
        rc = TM_ERR_NOMEM;
        goto out;
    }
    size_t pool_bytes = 0;
    rc = s_validate(services, name, &cat->service_count, &cat->action_count, &pool_bytes, err, errlen);
    if (rc)
        goto out;
    rc = s_build(cat, services, pool_bytes, name, err, errlen);
    if (rc)
        goto out;
    cat->package = tm_strdup(s_meta_string(root, "package"));
    cat->license = tm_strdup(s_meta_string(root, "license"));
    if (!cat->package || !cat->license) {
        s_fail_plain(err, errlen, name, "out of memory");
        rc = TM_ERR_NOMEM;
        goto out;
    }
    *out = cat;
    cat = NULL;
out:
    cJSON_Delete(root);
    tm_iam_catalog_destroy(cat);
    return rc;
}

int tm_iam_catalog_load(struct tm_iam_catalog **out, const char *path, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!out || !path)
        return TM_ERR_INVALID;
    *out = NULL;
    struct tm_buf b;
    tm_buf_init(&b, TM_IAM_CATALOG_MAX_BYTES);
    int rc = tm_file_read(&b, path, TM_IAM_CATALOG_MAX_BYTES, err, errlen);
    if (rc)
        goto out;
    rc = tm_iam_catalog_parse(out, tm_buf_str(&b), b.len, path, err, errlen);
out:
    tm_buf_clean_up(&b);
    return rc;
}

void tm_iam_catalog_destroy(struct tm_iam_catalog *cat) {
    if (!cat)
        return;
    free(cat->pool);
    free(cat->services);
    free(cat->actions);
    free(cat->package);
    free(cat->license);
    free(cat);
}

/* ---- queries ---- */

static const struct s_service *s_find_service_n(const struct tm_iam_catalog *cat, const char *service, size_t n) {
    size_t lo = 0, hi = cat->service_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = cat->services[mid].name;
        int c = s_iprefix_cmp(name, service, n);
        if (c == 0)
            c = name[n] ? 1 : 0;
        if (c == 0)
            return &cat->services[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Index of the first action of s whose first n characters compare >= prefix. */
static size_t s_lower_bound(const struct tm_iam_catalog *cat, const struct s_service *s, const char *prefix, size_t n) {
    size_t lo = s->first, hi = s->first + s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_iprefix_cmp(cat->actions[mid].name, prefix, n) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const struct s_action *s_find_action_n(const struct tm_iam_catalog *cat, const struct s_service *s,
                                              const char *action, size_t n) {
    size_t i = s_lower_bound(cat, s, action, n);
    for (; i < s->first + s->count; i++) {
        const char *name = cat->actions[i].name;
        if (s_iprefix_cmp(name, action, n) != 0)
            return NULL;
        if (name[n] == '\0')
            return &cat->actions[i];
    }
    return NULL;
}

int tm_iam_catalog_find(const struct tm_iam_catalog *cat, const char *service, const char *action,
                        struct tm_iam_action *out) {
    if (!cat || !service || !action)
        return TM_ERR_INVALID;
    const struct s_service *s = s_find_service_n(cat, service, strlen(service));
    const struct s_action *a = s ? s_find_action_n(cat, s, action, strlen(action)) : NULL;
    if (!a)
        return TM_ERR_NOT_FOUND;
    if (out) {
        out->service = s->name;
        out->name = a->name;
        out->level = a->level;
    }
    return TM_OK;
}

const char *tm_iam_catalog_level(const struct tm_iam_catalog *cat, const char *service, const char *action) {
    struct tm_iam_action a;
    if (tm_iam_catalog_find(cat, service, action, &a) != TM_OK)
        return NULL;
    return tm_iam_level_name(a.level);
}

const char *tm_iam_catalog_level_of(const struct tm_iam_catalog *cat, const char *full_action) {
    if (!cat || !full_action)
        return NULL;
    const char *colon = strchr(full_action, ':');
    if (!colon || colon == full_action || !colon[1])
        return NULL;
    const struct s_service *s = s_find_service_n(cat, full_action, (size_t)(colon - full_action));
    const struct s_action *a = s ? s_find_action_n(cat, s, colon + 1, strlen(colon + 1)) : NULL;
    return a ? tm_iam_level_name(a->level) : NULL;
}

static int s_visit(const struct s_service *s, const struct s_action *a, size_t *count, tm_iam_catalog_action_fn fn,
                   void *user_data) {
    (*count)++;
    if (!fn)
        return 0;
    struct tm_iam_action view = {.service = s->name, .name = a->name, .level = a->level};
    return fn(&view, user_data);
}

/* Expands the action part of a pattern within one service, using the literal prefix to narrow the
 * sorted range before matching. */
static int s_expand_service(const struct tm_iam_catalog *cat, const struct s_service *s, const char *p, size_t plen,
                            size_t *count, tm_iam_catalog_action_fn fn, void *user_data) {
    size_t lit = s_literal_len(p, plen);
    size_t end = s->first + s->count;
    for (size_t i = s_lower_bound(cat, s, p, lit); i < end; i++) {
        const struct s_action *a = &cat->actions[i];
        if (s_iprefix_cmp(a->name, p, lit) != 0)
            break;
        if (lit == plen ? a->name[lit] != '\0' : !s_glob(p, plen, a->name, strlen(a->name)))
            continue;
        int rc = s_visit(s, a, count, fn, user_data);
        if (rc)
            return rc;
        if (lit == plen)
            break;
    }
    return 0;
}

int tm_iam_catalog_expand(size_t *count_out, const struct tm_iam_catalog *cat, const char *pattern,
                          tm_iam_catalog_action_fn fn, void *user_data) {
    size_t count = 0;
    int rc = TM_OK;
    if (!cat || !pattern || !*pattern) {
        rc = TM_ERR_INVALID;
        goto out;
    }
    const char *colon = strchr(pattern, ':');
    if (colon) {
        size_t slen = (size_t)(colon - pattern);
        const char *ap = colon + 1;
        size_t alen = strlen(ap);
        if (s_literal_len(pattern, slen) == slen) {
            const struct s_service *s = s_find_service_n(cat, pattern, slen);
            if (s)
                rc = s_expand_service(cat, s, ap, alen, &count, fn, user_data);
            goto out;
        }
        for (size_t i = 0; i < cat->service_count && rc == 0; i++) {
            const struct s_service *s = &cat->services[i];
            if (s_glob(pattern, slen, s->name, strlen(s->name)))
                rc = s_expand_service(cat, s, ap, alen, &count, fn, user_data);
        }
        goto out;
    }
    /* No colon: only a wildcard can span the separator ("*", "s3*"), so match the whole string. */
    size_t plen = strlen(pattern);
    char text[2 * S_NAME_MAX + 2];
    for (size_t i = 0; i < cat->service_count && rc == 0; i++) {
        const struct s_service *s = &cat->services[i];
        size_t sl = strlen(s->name);
        memcpy(text, s->name, sl);
        text[sl] = ':';
        for (size_t j = s->first; j < s->first + s->count && rc == 0; j++) {
            const struct s_action *a = &cat->actions[j];
            size_t al = strlen(a->name);
            memcpy(text + sl + 1, a->name, al);
            if (s_glob(pattern, plen, text, sl + 1 + al))
                rc = s_visit(s, a, &count, fn, user_data);
        }
    }
out:
    if (count_out)
        *count_out = count;
    return rc;
}

size_t tm_iam_catalog_service_count(const struct tm_iam_catalog *cat) {
    return cat ? cat->service_count : 0;
}

const char *tm_iam_catalog_service(const struct tm_iam_catalog *cat, size_t index) {
    return cat && index < cat->service_count ? cat->services[index].name : NULL;
}

bool tm_iam_catalog_has_service(const struct tm_iam_catalog *cat, const char *service) {
    return cat && service && s_find_service_n(cat, service, strlen(service)) != NULL;
}

size_t tm_iam_catalog_service_action_count(const struct tm_iam_catalog *cat, const char *service) {
    const struct s_service *s = cat && service ? s_find_service_n(cat, service, strlen(service)) : NULL;
    return s ? s->count : 0;
}

size_t tm_iam_catalog_action_count(const struct tm_iam_catalog *cat) {
    return cat ? cat->action_count : 0;
}

const char *tm_iam_catalog_package(const struct tm_iam_catalog *cat) {
    return cat ? cat->package : NULL;
}

const char *tm_iam_catalog_license(const struct tm_iam_catalog *cat) {
    return cat ? cat->license : NULL;
}
