/* Matching as IAM does it: wildcard globs for actions (case-insensitive) and strings, segment-aware
 * ARN matching for resources and the Arn condition operators, and policy-variable substitution.
 * Follows "IAM JSON policy elements: Resource" (wildcards within ARN segments; a trailing '*' may
 * expand beyond colon boundaries; '*' spans '/') and "IAM policy elements: Variables and tags". */
#include "analyzers/iam/iam_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

/* Bytes in the UTF-8 code point starting at s, never past n. Invalid lead bytes count as one. */
static size_t s_cp_len(const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    size_t want = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    size_t k = 1;
    while (k < want && k < n && ((unsigned char)s[k] & 0xC0) == 0x80)
        k++;
    return k;
}

static int s_fold(int c) {
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* The classic single-backtrack wildcard matcher: linear in practice, never exponential. */
static bool s_glob_n(const char *p, size_t pn, const char *t, size_t tn, bool icase) {
    size_t pi = 0, ti = 0;
    size_t star_p = (size_t)-1, star_t = 0;
    while (ti < tn) {
        if (pi < pn && p[pi] == TM__IAM_QMARK) {
            pi++;
            ti += s_cp_len(t + ti, tn - ti);
            continue;
        }
        if (pi < pn && p[pi] == TM__IAM_STAR) {
            star_p = ++pi;
            star_t = ti;
            continue;
        }
        if (pi < pn) {
            int a = (unsigned char)p[pi], b = (unsigned char)t[ti];
            if (icase) {
                a = s_fold(a);
                b = s_fold(b);
            }
            if (a == b) {
                pi++;
                ti++;
                continue;
            }
        }
        if (star_p != (size_t)-1) {
            pi = star_p;
            star_t += s_cp_len(t + star_t, tn - star_t);
            ti = star_t;
            continue;
        }
        return false;
    }
    while (pi < pn && p[pi] == TM__IAM_STAR)
        pi++;
    return pi == pn;
}

bool tm__iam_glob(const char *pat, const char *text, bool icase) {
    return s_glob_n(pat, strlen(pat), text, strlen(text), icase);
}

bool tm__iam_arn_split(const char *text, struct tm__iam_arn *out) {
    if (strncmp(text, "arn:", 4) != 0)
        return false;
    const char *p = text;
    for (int i = 0; i < 5; i++) {
        const char *c = strchr(p, ':');
        if (!c)
            return false;
        out->part[i] = p;
        out->len[i] = (size_t)(c - p);
        p = c + 1;
    }
    out->part[5] = p;
    out->len[5] = strlen(p);
    return true;
}

bool tm__iam_arn_match(const char *pat, const char *text) {
    if (pat[0] == TM__IAM_STAR && pat[1] == '\0')
        return true;
    struct tm__iam_arn t;
    if (!tm__iam_arn_split(text, &t))
        return tm__iam_glob(pat, text, false);
    /* Split the pattern the same way, but it may have fewer parts. */
    const char *pp[6];
    size_t pl[6];
    size_t np = 0;
    const char *p = pat;
    while (np < 5) {
        const char *c = strchr(p, ':');
        if (!c)
            break;
        pp[np] = p;
        pl[np] = (size_t)(c - p);
        np++;
        p = c + 1;
    }
    pp[np] = p;
    pl[np] = strlen(p);
    np++;
    for (size_t i = 0; i < np; i++) {
        if (i == np - 1 && np < 6) {
            /* The pattern ends early: only a trailing '*' can swallow the remaining segments. */
            if (pl[i] == 0 || pp[i][pl[i] - 1] != TM__IAM_STAR)
                return false;
            const char *rest = t.part[i];
            return s_glob_n(pp[i], pl[i], rest, strlen(rest), false);
        }
        if (!s_glob_n(pp[i], pl[i], t.part[i], t.len[i], false))
            return false;
    }
    return true;
}

int tm__iam_encode(struct tm_buf *out, const char *raw, size_t len, bool wildcards) {
    for (size_t i = 0; i < len; i++) {
        char c = raw[i];
        if (wildcards && c == '*')
            c = TM__IAM_STAR;
        else if (wildcards && c == '?')
            c = TM__IAM_QMARK;
        int rc = tm_buf_append_char(out, c);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* Finds the '}' closing a "${" at raw[i]; 0 when there is none. */
static size_t s_var_end(const char *raw, size_t i) {
    if (raw[i] != '$' || raw[i + 1] != '{')
        return 0;
    const char *close = strchr(raw + i + 2, '}');
    return close ? (size_t)(close - raw) : 0;
}

bool tm__iam_has_vars(const char *raw) {
    for (size_t i = 0; raw[i]; i++)
        if (s_var_end(raw, i))
            return true;
    return false;
}

static void s_trim(const char **s, size_t *n) {
    while (*n && isspace((unsigned char)(*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Looks up one variable, "key" or "key, 'default'" (the inside of a variable); val/vlen get the text. */
static int s_var_value(const char *inner, size_t n, const struct tm_iam_context *ctx,
                       const struct tm_iam_context *derived, const char **val, size_t *vlen) {
    const char *key = inner;
    size_t klen = n;
    const char *def = NULL;
    size_t dlen = 0;
    const char *comma = memchr(inner, ',', n);
    if (comma) {
        klen = (size_t)(comma - inner);
        const char *d = comma + 1;
        size_t rest = n - klen - 1;
        s_trim(&d, &rest);
        if (rest < 2 || d[0] != '\'' || d[rest - 1] != '\'')
            return TM_ERR_NOT_FOUND; /* not the documented ${key, 'default'} form */
        def = d + 1;
        dlen = rest - 2;
    }
    s_trim(&key, &klen);
    if (klen == 0 || klen >= 256)
        return TM_ERR_NOT_FOUND;
    char key_lc[256];
    for (size_t i = 0; i < klen; i++)
        key_lc[i] = (char)s_fold((unsigned char)key[i]);
    key_lc[klen] = '\0';
    size_t nv = 0;
    const char *const *vals = tm__iam_context_get(ctx, derived, key_lc, &nv);
    /* Only single-valued keys can be variables. */
    if (vals && nv == 1) {
        *val = vals[0];
        *vlen = strlen(vals[0]);
        return TM_OK;
    }
    if (def) {
        *val = def;
        *vlen = dlen;
        return TM_OK;
    }
    return TM_ERR_NOT_FOUND;
}

int tm__iam_resolve(struct tm_buf *out, const char *raw, bool wildcards, bool only_after_fifth_colon,
                    const struct tm_iam_context *ctx, const struct tm_iam_context *derived) {
    int colons = 0;
    int rc = TM_OK;
    for (size_t i = 0; raw[i];) {
        size_t end = s_var_end(raw, i);
        if (end && (!only_after_fifth_colon || colons >= 5)) {
            const char *inner = raw + i + 2;
            size_t n = end - i - 2;
            if (n == 1 && (inner[0] == '*' || inner[0] == '?' || inner[0] == '$')) {
                rc = tm_buf_append_char(out, inner[0]); /* the literal character, never a wildcard */
            } else {
                const char *val;
                size_t vlen;
                rc = s_var_value(inner, n, ctx, derived, &val, &vlen);
                if (rc)
                    return rc;
                if (memchr(val, TM__IAM_STAR, vlen) || memchr(val, TM__IAM_QMARK, vlen))
                    return TM_ERR_NOT_FOUND;
                rc = tm_buf_append(out, val, vlen);
            }
            if (rc)
                return rc;
            i = end + 1;
            continue;
        }
        if (raw[i] == ':')
            colons++;
        rc = tm__iam_encode(out, raw + i, 1, wildcards);
        if (rc)
            return rc;
        i++;
    }
    return TM_OK;
}

bool tm__iam_is_account_id(const char *s, size_t n) {
    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool tm__iam_utf8_valid(const char *s, size_t len, size_t *bad) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs (most of a policy) eight bytes at a time. */
        uint64_t w;
        if (i + sizeof(w) <= len) {
            memcpy(&w, u + i, sizeof(w));
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                i += sizeof(w);
                continue;
            }
        }
        unsigned char c = u[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else {
            goto invalid;
        }
        if (i + n > len)
            goto invalid;
        for (size_t k = 1; k < n; k++) {
            if ((u[i + k] & 0xC0) != 0x80)
                goto invalid;
            cp = (cp << 6) | (u[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            goto invalid;
        i += n;
    }
    return true;
invalid:
    if (bad)
        *bad = i;
    return false;
}

bool tm__iam_action_pat_matches(const struct tm__iam_pat *p, const char *action) {
    if (p->any)
        return true;
    if (p->service) {
        const char *colon = strchr(action, ':');
        if (!colon || (size_t)(colon - action) != p->service_len)
            return false;
        for (size_t i = 0; i < p->service_len; i++)
            if (s_fold((unsigned char)action[i]) != p->service[i])
                return false;
    }
    return tm__iam_glob(p->enc, action, true);
}

bool tm__iam_stmt_action_matches(const struct tm__iam_stmt *s, const char *action) {
    bool any = false;
    for (size_t i = 0; i < s->n_actions && !any; i++)
        any = tm__iam_action_pat_matches(&s->actions[i], action);
    return s->not_action ? !any : any;
}

/* 1 match, 0 no match, -1 a variable could not be resolved. */
static int s_resource_pat(const struct tm__iam_pat *p, const char *resource, const struct tm_iam_context *ctx,
                          const struct tm_iam_context *derived) {
    if (p->any)
        return 1;
    if (!p->has_vars)
        return tm__iam_arn_match(p->enc, resource) ? 1 : 0;
    struct tm_buf b;
    tm_buf_init(&b, 64 * 1024);
    int rc = tm__iam_resolve(&b, p->text, true, true, ctx, derived);
    int r = rc ? -1 : (tm__iam_arn_match(tm_buf_str(&b), resource) ? 1 : 0);
    tm_buf_clean_up(&b);
    return r;
}

bool tm__iam_stmt_resource_matches(const struct tm__iam_stmt *s, const char *resource, const struct tm_iam_context *ctx,
                                   const struct tm_iam_context *derived) {
    if (!s->has_resource)
        return true;
    bool any = false;
    for (size_t i = 0; i < s->n_resources && !any; i++) {
        int r = s_resource_pat(&s->resources[i], resource, ctx, derived);
        /* "If AWS cannot resolve a variable, this might cause the entire statement to be invalid":
         * an unresolvable NotResource entry makes the statement not apply. */
        if (r < 0 && s->not_resource)
            return false;
        any = r > 0;
    }
    return s->not_resource ? !any : any;
}

bool tm__iam_stmt_conditions_hold(const struct tm__iam_stmt *s, const struct tm_iam_context *ctx,
                                  const struct tm_iam_context *derived) {
    for (size_t i = 0; i < s->n_conds; i++)
        if (!tm__iam_cond_eval(&s->conds[i], ctx, derived))
            return false;
    return true;
}
