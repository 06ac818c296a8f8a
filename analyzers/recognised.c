#include "analyzers/recognised.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jsonpos.h"
#include "core/str.h"

/* A policy file is small; anything bigger is a mistake. */
#define MAX_POLICY_FILE_BYTES (16u << 20)

struct s_ctx {
    const char *text;
    size_t len;
    const char *source;
    char *errmsg;
    size_t errmsg_len;
};

static int s_err(const struct s_ctx *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_err(const struct s_ctx *c, const char *path, const char *fmt, ...) {
    if (c->errmsg && c->errmsg_len) {
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        snprintf(c->errmsg, c->errmsg_len, "%s:%d: %s: %s", c->source, tm_jsonpos_line(c->text, c->len, path), path,
                 what);
    }
    return TM_ERR_PARSE;
}

bool tm_recognised_valid_date(const char *s) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static bool s_valid_from(const char *s) {
    if (!strcmp(s, "internet") || !strcmp(s, "any-aws-account") || !strcmp(s, "*"))
        return true;
    if (tm_str_starts_with(s, "account:") && strlen(s) == 8 + 12) {
        for (const char *p = s + 8; *p; p++)
            if (!isdigit((unsigned char)*p))
                return false;
        return true;
    }
    return false;
}

/* Reads a required (or optional) string member; errors name its path. */
static int s_str(const struct s_ctx *c, const cJSON *obj, const char *base, const char *key, bool required,
                 char **out) {
    char path[128];
    snprintf(path, sizeof(path), "%s.%s", base, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (!required)
            return TM_OK;
        return s_err(c, base, "missing \"%s\"", key);
    }
    if (!cJSON_IsString(v))
        return s_err(c, path, "must be a string");
    if (required && !*v->valuestring)
        return s_err(c, path, "must not be empty");
    *out = strdup(v->valuestring);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

static int s_check_keys(const struct s_ctx *c, const cJSON *obj, const char *base, const char *const *allowed) {
    for (const cJSON *k = obj->child; k; k = k->next) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k->string) == 0;
        if (!ok) {
            char path[160];
            snprintf(path, sizeof(path), "%s%s%s", base, *base ? "." : "", k->string);
            return s_err(c, path, "unknown field");
        }
    }
    return TM_OK;
}

static int s_parse_recognised(const struct s_ctx *c, const cJSON *arr, struct tm_recognised *rec) {
    if (!cJSON_IsArray(arr))
        return s_err(c, "recognised", "must be an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    rec->recognised = calloc(n ? n : 1, sizeof(*rec->recognised));
    if (!rec->recognised)
        return TM_ERR_NOMEM;
    static const char *const keys[] = {"resource", "from", "owner", "reason", "expires", NULL};
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        char base[64];
        snprintf(base, sizeof(base), "recognised[%d]", i);
        if (!cJSON_IsObject(e))
            return s_err(c, base, "must be an object");
        struct tm_recognised_entry *r = &rec->recognised[rec->n_recognised++];
        r->line = tm_jsonpos_line(c->text, c->len, base);
        int rc = s_check_keys(c, e, base, keys);
        if (!rc)
            rc = s_str(c, e, base, "resource", true, &r->resource);
        if (!rc)
            rc = s_str(c, e, base, "from", true, &r->from);
        if (!rc)
            rc = s_str(c, e, base, "owner", true, &r->owner);
        if (!rc)
            rc = s_str(c, e, base, "reason", true, &r->reason);
        if (!rc)
            rc = s_str(c, e, base, "expires", false, &r->expires);
        if (rc)
            return rc;
        char path[96];
        if (!s_valid_from(r->from)) {
            snprintf(path, sizeof(path), "%s.from", base);
            return s_err(c, path, "'%s' is not one of internet, any-aws-account, account:<12 digits>, *", r->from);
        }
        if (r->expires && !tm_recognised_valid_date(r->expires)) {
            snprintf(path, sizeof(path), "%s.expires", base);
            return s_err(c, path, "'%s' is not a date (YYYY-MM-DD)", r->expires);
        }
    }
    return TM_OK;
}

static int s_parse_suppressed(const struct s_ctx *c, const cJSON *arr, struct tm_recognised *rec) {
    if (!cJSON_IsArray(arr))
        return s_err(c, "suppressed", "must be an array");
    size_t n = (size_t)cJSON_GetArraySize(arr);
    rec->suppressed = calloc(n ? n : 1, sizeof(*rec->suppressed));
    if (!rec->suppressed)
        return TM_ERR_NOMEM;
    static const char *const keys[] = {"rule", "resource", "reason", NULL};
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        char base[64];
        snprintf(base, sizeof(base), "suppressed[%d]", i);
        if (!cJSON_IsObject(e))
            return s_err(c, base, "must be an object");
        struct tm_suppressed_entry *s = &rec->suppressed[rec->n_suppressed++];
        s->line = tm_jsonpos_line(c->text, c->len, base);
        int rc = s_check_keys(c, e, base, keys);
        if (!rc)
            rc = s_str(c, e, base, "rule", true, &s->rule);
        if (!rc)
            rc = s_str(c, e, base, "resource", true, &s->resource);
        if (!rc)
            rc = s_str(c, e, base, "reason", true, &s->reason);
        if (rc)
            return rc;
    }
    return TM_OK;
}

int tm_recognised_parse(struct tm_recognised **out, const char *text, size_t len, const char *source, char *errmsg,
                        size_t errmsg_len) {
    *out = NULL;
    struct s_ctx c = {text, len, source, errmsg, errmsg_len};
    cJSON *root = NULL;
    int rc = tm_json_parse(&root, text, len, source, errmsg, errmsg_len);
    if (rc)
        return rc;
    struct tm_recognised *rec = calloc(1, sizeof(*rec));
    if (!rec || !(rec->source = strdup(source))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = s_err(&c, "", "the policy file must be a JSON object");
        goto out;
    }
    static const char *const keys[] = {"recognised", "suppressed", "$schema", NULL};
    rc = s_check_keys(&c, root, "", keys);
    if (rc)
        goto out;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "recognised");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "suppressed");
    if (r && (rc = s_parse_recognised(&c, r, rec)))
        goto out;
    if (s && (rc = s_parse_suppressed(&c, s, rec)))
        goto out;
    *out = rec;
    rec = NULL;
out:
    tm_recognised_destroy(rec);
    cJSON_Delete(root);
    return rc;
}

int tm_recognised_load(struct tm_recognised **out, const char *path, char *errmsg, size_t errmsg_len) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    *out = NULL;
    int rc = tm_file_read(&b, path, MAX_POLICY_FILE_BYTES, errmsg, errmsg_len);
    if (!rc)
        rc = tm_recognised_parse(out, tm_buf_str(&b), b.len, path, errmsg, errmsg_len);
    tm_buf_clean_up(&b);
    return rc;
}

void tm_recognised_destroy(struct tm_recognised *rec) {
    if (!rec)
        return;
    for (size_t i = 0; i < rec->n_recognised; i++) {
        struct tm_recognised_entry *r = &rec->recognised[i];
        free(r->resource);
        free(r->from);
        free(r->owner);
        free(r->reason);
        free(r->expires);
    }
    for (size_t i = 0; i < rec->n_suppressed; i++) {
        free(rec->suppressed[i].rule);
        free(rec->suppressed[i].resource);
        free(rec->suppressed[i].reason);
    }
    free(rec->recognised);
    free(rec->suppressed);
    free(rec->source);
    free(rec);
}

bool tm_recognised_glob(const char *p, const char *s) {
    const char *star_p = NULL, *star_s = NULL;
    while (*s) {
        if (*p == '*') {
            star_p = ++p;
            star_s = s;
        } else if (*p == '?' || *p == *s) {
            p++;
            s++;
        } else if (star_p) {
            p = star_p;
            s = ++star_s;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

const struct tm_recognised_entry *tm_recognised_match(const struct tm_recognised *rec, const char *resource,
                                                      const char *from, const char *today, bool *expired) {
    *expired = false;
    if (!rec)
        return NULL;
    const struct tm_recognised_entry *expired_match = NULL;
    for (size_t i = 0; i < rec->n_recognised; i++) {
        const struct tm_recognised_entry *r = &rec->recognised[i];
        if (strcmp(r->from, "*") != 0 && strcmp(r->from, from ? from : "") != 0)
            continue;
        if (!tm_recognised_glob(r->resource, resource))
            continue;
        /* An entry is valid through its expiry day. */
        if (r->expires && today && strcmp(r->expires, today) < 0) {
            if (!expired_match)
                expired_match = r;
            continue;
        }
        return r;
    }
    if (expired_match)
        *expired = true;
    return expired_match;
}

int tm_recognised_apply(const struct tm_recognised *rec, struct tm_findings *findings, const char *today,
                        size_t *n_expired) {
    size_t expired_count = 0;
    for (size_t i = 0; i < findings->count; i++) {
        struct tm_finding *f = findings->items[i];
        f->status = TM_STATUS_NEW;
        if (!rec)
            continue;
        bool suppressed = false;
        for (size_t k = 0; k < rec->n_suppressed && !suppressed; k++)
            suppressed = tm_recognised_glob(rec->suppressed[k].rule, f->rule ? f->rule : "") &&
                         tm_recognised_glob(rec->suppressed[k].resource, f->resource ? f->resource : "");
        if (suppressed) {
            f->status = TM_STATUS_SUPPRESSED;
            continue;
        }
        if (!f->entry)
            continue;
        bool expired = false;
        const struct tm_recognised_entry *r = tm_recognised_match(rec, f->resource, f->entry, today, &expired);
        if (!r)
            continue;
        if (expired) {
            expired_count++;
            continue;
        }
        f->status = TM_STATUS_RECOGNISED;
        free(f->recognised_owner);
        free(f->recognised_reason);
        free(f->recognised_expires);
        f->recognised_owner = strdup(r->owner);
        f->recognised_reason = strdup(r->reason);
        f->recognised_expires = r->expires ? strdup(r->expires) : NULL;
        if (!f->recognised_owner || !f->recognised_reason || (r->expires && !f->recognised_expires))
            return TM_ERR_NOMEM;
    }
    if (n_expired)
        *n_expired = expired_count;
    return TM_OK;
}
