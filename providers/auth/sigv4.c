#include "providers/auth/sigv4.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/str.h"

/* Upper bounds on what a request may carry; they keep a hostile request from costing much. */
#define S_MAX_HEADERS 256
#define S_MAX_PARAMS 1024

/* ---------------------------------------------------------------------------------------------- */
/* Hashing */

void tm_sigv4_sha256_hex(char out[65], const void *data, size_t len) {
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int md_len = 0;
    /* EVP_Digest only fails on allocation failure inside OpenSSL; a zero hash then fails verification
     * rather than going unnoticed, since no real payload hashes to it. */
    if (EVP_Digest(data ? data : "", len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32)
        memset(md, 0, sizeof(md));
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

static int s_hmac(unsigned char out[32], const void *key, size_t key_len, const void *data, size_t len) {
    unsigned int out_len = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) || out_len != 32)
        return TM_ERR_NOMEM;
    return TM_OK;
}

int tm_sigv4_signing_key(unsigned char key[32], const char *secret_access_key, const char *date, const char *region,
                         const char *service) {
    struct tm_buf k_secret;
    tm_buf_init(&k_secret, 0);
    unsigned char k1[32], k2[32], k3[32];
    int rc = tm_buf_append_str(&k_secret, "AWS4");
    if (!rc)
        rc = tm_buf_append_str(&k_secret, secret_access_key);
    if (!rc)
        rc = s_hmac(k1, k_secret.data, k_secret.len, date, strlen(date));
    if (!rc)
        rc = s_hmac(k2, k1, sizeof(k1), region, strlen(region));
    if (!rc)
        rc = s_hmac(k3, k2, sizeof(k2), service, strlen(service));
    if (!rc)
        rc = s_hmac(key, k3, sizeof(k3), "aws4_request", strlen("aws4_request"));
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(k3, sizeof(k3));
    tm_buf_clean_up_secret(&k_secret);
    return rc;
}

static int s_signature(char out[65], const char *secret, const char *date, const char *region, const char *service,
                       const char *string_to_sign) {
    static const char hex[] = "0123456789abcdef";
    unsigned char key[32], sig[32];
    int rc = tm_sigv4_signing_key(key, secret, date, region, service);
    if (!rc)
        rc = s_hmac(sig, key, sizeof(key), string_to_sign, strlen(string_to_sign));
    if (!rc) {
        for (size_t i = 0; i < 32; i++) {
            out[2 * i] = hex[sig[i] >> 4];
            out[2 * i + 1] = hex[sig[i] & 15];
        }
        out[64] = '\0';
    }
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(sig, sizeof(sig));
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Time */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int tm_sigv4_format_time(char out[17], int64_t t) {
    if (t < 0 || t > 253402300799) /* 9999-12-31T23:59:59Z */
        return TM_ERR_INVALID;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return TM_ERR_INVALID;
    if (strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return TM_ERR_INVALID;
    return TM_OK;
}

static bool s_digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int tm_sigv4_parse_time(int64_t *out, const char *s) {
    int y, mo, d, h, mi, sec;
    const char *p = s;
    if (!s_digits(p, 4, &y))
        return TM_ERR_PARSE;
    p += 4;
    bool extended = *p == '-';
    if (extended)
        p++;
    if (!s_digits(p, 2, &mo))
        return TM_ERR_PARSE;
    p += 2;
    if (extended && *p++ != '-')
        return TM_ERR_PARSE;
    if (!s_digits(p, 2, &d))
        return TM_ERR_PARSE;
    p += 2;
    if (*p != 'T' && *p != 't')
        return TM_ERR_PARSE;
    p++;
    if (!s_digits(p, 2, &h))
        return TM_ERR_PARSE;
    p += 2;
    if (extended && *p++ != ':')
        return TM_ERR_PARSE;
    if (!s_digits(p, 2, &mi))
        return TM_ERR_PARSE;
    p += 2;
    if (extended && *p++ != ':')
        return TM_ERR_PARSE;
    if (!s_digits(p, 2, &sec))
        return TM_ERR_PARSE;
    p += 2;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return TM_ERR_PARSE;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '+' ? 1 : -1, oh, om;
        p++;
        if (!s_digits(p, 2, &oh))
            return TM_ERR_PARSE;
        p += 2;
        if (*p == ':')
            p++;
        if (!s_digits(p, 2, &om) || oh > 23 || om > 59)
            return TM_ERR_PARSE;
        p += 2;
        offset_s = sign * (oh * 3600 + om * 60);
    } else {
        return TM_ERR_PARSE;
    }
    if (*p != '\0')
        return TM_ERR_PARSE;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return TM_ERR_PARSE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return TM_ERR_PARSE;
    *out = s_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
    return TM_OK;
}

/* ---------------------------------------------------------------------------------------------- */
/* Canonical path */

bool tm_sigv4_service_is_s3(const char *service) {
    return service && (strcmp(service, "s3") == 0 || strcmp(service, "s3-object-lambda") == 0 ||
                       strcmp(service, "s3-outposts") == 0 || strcmp(service, "s3express") == 0);
}

/* Removes "." and ".." segments and empty segments (duplicate slashes), keeping a trailing slash. */
static int s_normalize_path(struct tm_buf *out, const char *path) {
    size_t len = strlen(path);
    size_t nseg = 1;
    for (size_t i = 0; i < len; i++)
        nseg += path[i] == '/';
    struct {
        const char *p;
        size_t n;
    } *segs = calloc(nseg, sizeof(*segs));
    if (!segs)
        return TM_ERR_NOMEM;
    size_t depth = 0;
    bool trailing = false;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *start = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - start);
        trailing = *p == '/' || n == 0;
        if (n == 0)
            continue;
        if (n == 1 && start[0] == '.') {
            trailing = true;
        } else if (n == 2 && start[0] == '.' && start[1] == '.') {
            if (depth > 0)
                depth--;
            trailing = true;
        } else {
            segs[depth].p = start;
            segs[depth].n = n;
            depth++;
        }
    }
    int rc = TM_OK;
    for (size_t i = 0; i < depth && !rc; i++) {
        rc = tm_buf_append_char(out, '/');
        if (!rc)
            rc = tm_buf_append(out, segs[i].p, segs[i].n);
    }
    if (!rc && (depth == 0 || trailing))
        rc = tm_buf_append_char(out, '/');
    free(segs);
    return rc;
}

static int s_canonical_path(struct tm_buf *out, const char *path, bool s3, bool normalize) {
    if (!path || !*path)
        path = "/";
    int rc;
    if (s3) {
        /* S3 signs the path encoded once: decoding and re-encoding the wire path gives that form even
         * when the sender left safe characters unencoded. */
        struct tm_buf dec;
        tm_buf_init(&dec, 0);
        rc = tm_uri_decode(&dec, path, strlen(path), false);
        if (rc == TM_ERR_PARSE)
            rc = TM_ERR_INVALID;
        if (!rc)
            rc = tm_uri_encode(out, dec.data ? dec.data : "", dec.len, true);
        tm_buf_clean_up(&dec);
        return rc;
    }
    if (!normalize)
        return tm_uri_encode(out, path, strlen(path), true);
    struct tm_buf norm;
    tm_buf_init(&norm, 0);
    rc = s_normalize_path(&norm, path);
    if (!rc)
        rc = tm_uri_encode(out, norm.data, norm.len, true);
    tm_buf_clean_up(&norm);
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Canonical query */

struct s_param {
    char *key; /* canonical (encoded) */
    char *value;
};

struct s_params {
    struct s_param *items;
    size_t count, alloc;
};

static void s_params_clean_up(struct s_params *ps) {
    for (size_t i = 0; i < ps->count; i++) {
        tm_secret_free(ps->items[i].key);
        tm_secret_free(ps->items[i].value);
    }
    free(ps->items);
    memset(ps, 0, sizeof(*ps));
}

static int s_params_add_encoded(struct s_params *ps, char *key, char *value) {
    if (ps->count == ps->alloc) {
        size_t n = ps->alloc ? ps->alloc * 2 : 16;
        if (n > S_MAX_PARAMS + 16) {
            tm_secret_free(key);
            tm_secret_free(value);
            return TM_ERR_TOO_BIG;
        }
        struct s_param *p = realloc(ps->items, n * sizeof(*p));
        if (!p) {
            tm_secret_free(key);
            tm_secret_free(value);
            return TM_ERR_NOMEM;
        }
        ps->items = p;
        ps->alloc = n;
    }
    ps->items[ps->count].key = key;
    ps->items[ps->count].value = value;
    ps->count++;
    return TM_OK;
}

/* Encodes a raw (decoded) key and value and adds them. */
static int s_params_add_raw(struct s_params *ps, const char *key, size_t key_len, const char *value, size_t value_len) {
    struct tm_buf k, v;
    tm_buf_init(&k, 0);
    tm_buf_init(&v, 0);
    int rc = tm_uri_encode(&k, key, key_len, false);
    if (!rc)
        rc = tm_uri_encode(&v, value, value_len, false);
    char *ks = rc ? NULL : tm_buf_detach(&k);
    char *vs = rc ? NULL : tm_buf_detach(&v);
    tm_buf_clean_up_secret(&k);
    tm_buf_clean_up_secret(&v);
    if (rc)
        return rc;
    if (!ks || !vs) {
        tm_secret_free(ks);
        tm_secret_free(vs);
        return TM_ERR_NOMEM;
    }
    return s_params_add_encoded(ps, ks, vs);
}

/* Splits a wire query into decoded (key, value) pairs and hands each to `fn`. A bare "key" has an
 * empty value; empty items ("a=1&&b=2") are skipped. */
typedef int (*s_param_fn)(const char *key, size_t key_len, const char *value, size_t value_len, void *user_data);

static int s_query_each(const char *query, s_param_fn fn, void *user_data) {
    if (!query)
        return TM_OK;
    int rc = TM_OK;
    struct tm_buf k, v;
    tm_buf_init(&k, 0);
    tm_buf_init(&v, 0);
    size_t n = 0;
    const char *p = query;
    while (*p && !rc) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            if (++n > S_MAX_PARAMS) {
                rc = TM_ERR_TOO_BIG;
                break;
            }
            const char *eq = memchr(p, '=', len);
            size_t klen = eq ? (size_t)(eq - p) : len;
            tm_buf_reset(&k);
            tm_buf_reset(&v);
            rc = tm_uri_decode(&k, p, klen, false);
            if (!rc && eq)
                rc = tm_uri_decode(&v, eq + 1, len - klen - 1, false);
            if (rc == TM_ERR_PARSE)
                rc = TM_ERR_INVALID;
            if (!rc)
                rc = fn(k.data ? k.data : "", k.len, v.data ? v.data : "", v.len, user_data);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    tm_buf_clean_up_secret(&k);
    tm_buf_clean_up_secret(&v);
    return rc;
}

struct s_collect {
    struct s_params *ps;
    const char *skip; /* a parameter left out (X-Amz-Signature when verifying) */
    const char *skip2;
};

static int s_collect_param(const char *key, size_t key_len, const char *value, size_t value_len, void *user_data) {
    struct s_collect *c = user_data;
    if ((c->skip && strlen(c->skip) == key_len && memcmp(c->skip, key, key_len) == 0) ||
        (c->skip2 && strlen(c->skip2) == key_len && memcmp(c->skip2, key, key_len) == 0))
        return TM_OK;
    return s_params_add_raw(c->ps, key, key_len, value, value_len);
}

static int s_param_cmp(const void *a, const void *b) {
    const struct s_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

static int s_canonical_query(struct tm_buf *out, struct s_params *ps) {
    if (ps->count > 1)
        qsort(ps->items, ps->count, sizeof(*ps->items), s_param_cmp);
    int rc = TM_OK;
    for (size_t i = 0; i < ps->count && !rc; i++) {
        if (i > 0)
            rc = tm_buf_append_char(out, '&');
        if (!rc)
            rc = tm_buf_appendf(out, "%s=%s", ps->items[i].key, ps->items[i].value);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Canonical headers */

struct s_hdr {
    char *lname;
    const char *value;
    size_t order;
};

struct s_hdrs {
    struct s_hdr items[S_MAX_HEADERS + TM_SIGV4_MAX_OUT_HEADERS];
    size_t count;
};

static void s_hdrs_clean_up(struct s_hdrs *hs) {
    for (size_t i = 0; i < hs->count; i++)
        free(hs->items[i].lname);
    hs->count = 0;
}

static int s_hdrs_add(struct s_hdrs *hs, const char *name, const char *value) {
    if (hs->count >= sizeof(hs->items) / sizeof(hs->items[0]))
        return TM_ERR_TOO_BIG;
    char *l = tm_strdup(name);
    if (!l)
        return TM_ERR_NOMEM;
    for (char *c = l; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + ('a' - 'A'));
    hs->items[hs->count].lname = l;
    hs->items[hs->count].value = value ? value : "";
    hs->items[hs->count].order = hs->count;
    hs->count++;
    return TM_OK;
}

static int s_hdr_cmp(const void *a, const void *b) {
    const struct s_hdr *x = a, *y = b;
    int c = strcmp(x->lname, y->lname);
    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static bool s_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims the value and folds every run of whitespace (folded continuation lines included) to one space. */
static int s_append_trimmed(struct tm_buf *out, const char *v) {
    int rc = TM_OK;
    bool pending_space = false, started = false;
    for (; *v && !rc; v++) {
        if (s_is_space(*v)) {
            pending_space = started;
            continue;
        }
        if (pending_space)
            rc = tm_buf_append_char(out, ' ');
        if (!rc)
            rc = tm_buf_append_char(out, *v);
        pending_space = false;
        started = true;
    }
    return rc;
}

/* Sorts the headers and appends the canonical header block (each "name:value\n") and, to
 * `signed_headers`, the names joined with ';'. Repeated names join their values with ','. */
static int s_canonical_headers(struct tm_buf *out, struct tm_buf *signed_headers, struct s_hdrs *hs) {
    qsort(hs->items, hs->count, sizeof(hs->items[0]), s_hdr_cmp);
    int rc = TM_OK;
    for (size_t i = 0; i < hs->count && !rc; i++) {
        bool same = i > 0 && strcmp(hs->items[i - 1].lname, hs->items[i].lname) == 0;
        if (same) {
            rc = tm_buf_append_char(out, ',');
        } else {
            if (i > 0)
                rc = tm_buf_append_char(out, '\n');
            if (!rc)
                rc = tm_buf_appendf(out, "%s:", hs->items[i].lname);
            if (!rc && signed_headers) {
                if (signed_headers->len)
                    rc = tm_buf_append_char(signed_headers, ';');
                if (!rc)
                    rc = tm_buf_append_str(signed_headers, hs->items[i].lname);
            }
        }
        if (!rc)
            rc = s_append_trimmed(out, hs->items[i].value);
    }
    if (!rc && hs->count)
        rc = tm_buf_append_char(out, '\n');
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Canonical request and string to sign */

static int s_string_to_sign(struct tm_buf *out, const char *amz_date, const char *scope_date, const char *region,
                            const char *service, const char *canonical_request) {
    char hash[65];
    tm_sigv4_sha256_hex(hash, canonical_request, strlen(canonical_request));
    return tm_buf_appendf(out, "%s\n%s\n%s/%s/%s/aws4_request\n%s", TM_SIGV4_ALGORITHM, amz_date, scope_date, region,
                          service, hash);
}

static int s_canonical_request(struct tm_buf *out, const char *method, const char *canonical_path,
                               const char *canonical_query, const char *canonical_headers, const char *signed_headers,
                               const char *payload_hash) {
    return tm_buf_appendf(out, "%s\n%s\n%s\n%s\n%s\n%s", method, canonical_path, canonical_query, canonical_headers,
                          signed_headers, payload_hash);
}

static bool s_valid_token(const char *s) {
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == '/' || *s == 0x7f)
            return false;
    return true;
}

/* Header names the signer never signs: its own output, and headers proxies and HTTP libraries
 * rewrite or add (a signature over them would break in transit). */
static bool s_skip_header(const char *name, bool adds_content_sha256) {
    static const char *const skip[] = {
        "authorization", "x-amz-date",        "x-amz-security-token", "user-agent", "x-amzn-trace-id",
        "expect",        "transfer-encoding", "connection",           "keep-alive", "te",
        "upgrade",       "proxy-connection",  "proxy-authorization",
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (tm_str_ieq(name, skip[i]))
            return true;
    return adds_content_sha256 && tm_str_ieq(name, "x-amz-content-sha256");
}

void tm_sigv4_signed_clean_up(struct tm_sigv4_signed *out) {
    if (!out)
        return;
    for (size_t i = 0; i < out->header_count; i++)
        tm_secret_free(out->headers[i].value);
    tm_secret_free(out->query);
    tm_secret_free(out->canonical_request);
    tm_secret_free(out->string_to_sign);
    OPENSSL_cleanse(out->signature, sizeof(out->signature));
    memset(out, 0, sizeof(*out));
}

static int s_out_header(struct tm_sigv4_signed *out, const char *name, const char *value) {
    assert(out->header_count < TM_SIGV4_MAX_OUT_HEADERS);
    char *v = tm_strdup(value);
    if (!v)
        return TM_ERR_NOMEM;
    out->headers[out->header_count].name = name;
    out->headers[out->header_count].value = v;
    out->header_count++;
    return TM_OK;
}

int tm_sigv4_sign(struct tm_sigv4_signed *out, const struct tm_sigv4_request *req,
                  const struct tm_sigv4_params *params) {
    memset(out, 0, sizeof(*out));
    const struct tm_sigv4_params *p = params;
    bool query_mode = p->mode == TM_SIGV4_MODE_QUERY;
    if (!req->method || !*req->method || !s_valid_token(p->access_key_id) || !p->secret_access_key ||
        !*p->secret_access_key || !s_valid_token(p->region) || !s_valid_token(p->service) ||
        (p->mode != TM_SIGV4_MODE_HEADER && !query_mode) ||
        (query_mode && (p->expires_s < 1 || p->expires_s > TM_SIGV4_MAX_EXPIRES_S)) ||
        (req->header_count > 0 && !req->headers) || req->header_count > S_MAX_HEADERS)
        return TM_ERR_INVALID;

    bool s3 = tm_sigv4_service_is_s3(p->service);
    bool has_token = p->session_token && *p->session_token;
    bool sign_token = has_token && !p->omit_session_token;
    bool content_header = !query_mode && (s3 || p->content_sha256_header);
    char amz_date[17], scope_date[9], payload_hash[65];
    int rc = tm_sigv4_format_time(amz_date, p->time);
    if (rc)
        return rc;
    memcpy(scope_date, amz_date, 8);
    scope_date[8] = '\0';
    if (p->unsigned_payload)
        snprintf(payload_hash, sizeof(payload_hash), "%s", TM_SIGV4_UNSIGNED_PAYLOAD);
    else
        tm_sigv4_sha256_hex(payload_hash, req->body, req->body_len);

    struct s_hdrs *hs = calloc(1, sizeof(*hs));
    struct s_params ps = {0};
    struct tm_buf path, query, headers, signed_headers, creq, sts, credential, extra;
    tm_buf_init(&path, 0);
    tm_buf_init(&query, 0);
    tm_buf_init(&headers, 0);
    tm_buf_init(&signed_headers, 0);
    tm_buf_init(&creq, 0);
    tm_buf_init(&sts, 0);
    tm_buf_init(&credential, 0);
    tm_buf_init(&extra, 0);
    if (!hs) {
        rc = TM_ERR_NOMEM;
        goto out;
    }

    bool have_host = false;
    for (size_t i = 0; i < req->header_count && !rc; i++) {
        const struct tm_sigv4_header *h = &req->headers[i];
        if (!h->name || !*h->name) {
            rc = TM_ERR_INVALID;
            break;
        }
        if (s_skip_header(h->name, content_header))
            continue;
        have_host |= tm_str_ieq(h->name, "host");
        rc = s_hdrs_add(hs, h->name, h->value);
    }
    if (!rc && !have_host)
        rc = TM_ERR_INVALID;
    if (!rc && !query_mode)
        rc = s_hdrs_add(hs, "x-amz-date", amz_date);
    if (!rc && !query_mode && sign_token)
        rc = s_hdrs_add(hs, "x-amz-security-token", p->session_token);
    if (!rc && content_header)
        rc = s_hdrs_add(hs, "x-amz-content-sha256", payload_hash);
    if (!rc)
        rc = s_canonical_headers(&headers, &signed_headers, hs);

    if (!rc)
        rc = s_canonical_path(&path, req->path, s3, !s3 && !p->no_normalize_path);

    struct s_collect collect = {.ps = &ps};
    if (!rc)
        rc = s_query_each(req->query, s_collect_param, &collect);
    if (!rc)
        rc = tm_buf_appendf(&credential, "%s/%s/%s/%s/aws4_request", p->access_key_id, scope_date, p->region,
                            p->service);
    char expires[16];
    snprintf(expires, sizeof(expires), "%u", (unsigned)p->expires_s);
    if (!rc && query_mode) {
        rc = s_params_add_raw(&ps, "X-Amz-Algorithm", 15, TM_SIGV4_ALGORITHM, strlen(TM_SIGV4_ALGORITHM));
        if (!rc)
            rc = s_params_add_raw(&ps, "X-Amz-Credential", 16, credential.data, credential.len);
        if (!rc)
            rc = s_params_add_raw(&ps, "X-Amz-Date", 10, amz_date, 16);
        if (!rc)
            rc = s_params_add_raw(&ps, "X-Amz-Expires", 13, expires, strlen(expires));
        if (!rc)
            rc = s_params_add_raw(&ps, "X-Amz-SignedHeaders", 19, signed_headers.data, signed_headers.len);
        if (!rc && sign_token)
            rc = s_params_add_raw(&ps, "X-Amz-Security-Token", 20, p->session_token, strlen(p->session_token));
    }
    if (!rc)
        rc = s_canonical_query(&query, &ps);

    if (!rc)
        rc = s_canonical_request(&creq, req->method, tm_buf_str(&path), tm_buf_str(&query), tm_buf_str(&headers),
                                 tm_buf_str(&signed_headers), payload_hash);
    if (!rc)
        rc = s_string_to_sign(&sts, amz_date, scope_date, p->region, p->service, tm_buf_str(&creq));
    if (!rc)
        rc = s_signature(out->signature, p->secret_access_key, scope_date, p->region, p->service, tm_buf_str(&sts));
    if (rc)
        goto out;

    if (query_mode) {
        /* The order AWS SDKs emit; servers accept any. */
        rc = tm_buf_appendf(&extra, "X-Amz-Algorithm=%s&X-Amz-Credential=", TM_SIGV4_ALGORITHM);
        if (!rc)
            rc = tm_uri_encode(&extra, credential.data, credential.len, false);
        if (!rc)
            rc = tm_buf_appendf(&extra, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", amz_date);
        if (!rc)
            rc = tm_uri_encode(&extra, signed_headers.data, signed_headers.len, false);
        if (!rc)
            rc = tm_buf_appendf(&extra, "&X-Amz-Expires=%s", expires);
        if (!rc && has_token) {
            rc = tm_buf_append_str(&extra, "&X-Amz-Security-Token=");
            if (!rc)
                rc = tm_uri_encode(&extra, p->session_token, strlen(p->session_token), false);
        }
        if (!rc)
            rc = tm_buf_appendf(&extra, "&X-Amz-Signature=%s", out->signature);
        if (!rc && !(out->query = tm_buf_detach(&extra)))
            rc = TM_ERR_NOMEM;
    } else {
        if (has_token)
            rc = s_out_header(out, "X-Amz-Security-Token", p->session_token);
        if (!rc)
            rc = s_out_header(out, "X-Amz-Date", amz_date);
        if (!rc && content_header)
            rc = s_out_header(out, "x-amz-content-sha256", payload_hash);
        if (!rc)
            rc = tm_buf_appendf(&extra, "%s Credential=%s, SignedHeaders=%s, Signature=%s", TM_SIGV4_ALGORITHM,
                                credential.data, signed_headers.data, out->signature);
        if (!rc)
            rc = s_out_header(out, "Authorization", tm_buf_str(&extra));
    }
    if (!rc && (!(out->canonical_request = tm_buf_detach(&creq)) || !(out->string_to_sign = tm_buf_detach(&sts))))
        rc = TM_ERR_NOMEM;

out:
    if (rc)
        tm_sigv4_signed_clean_up(out);
    if (hs)
        s_hdrs_clean_up(hs);
    free(hs);
    s_params_clean_up(&ps);
    tm_buf_clean_up(&path);
    tm_buf_clean_up_secret(&query);
    tm_buf_clean_up_secret(&headers);
    tm_buf_clean_up(&signed_headers);
    tm_buf_clean_up_secret(&creq);
    tm_buf_clean_up(&sts);
    tm_buf_clean_up(&credential);
    tm_buf_clean_up_secret(&extra);
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Parsing what a client sent */

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

static bool s_copy(char *dst, size_t cap, const char *src, size_t len) {
    if (len >= cap)
        return false;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return true;
}

int tm_sigv4_parse_scope(struct tm_sigv4_scope *out, const char *credential) {
    memset(out, 0, sizeof(*out));
    const char *parts[5];
    size_t lens[5];
    const char *p = credential;
    for (int i = 0; i < 5; i++) {
        const char *slash = strchr(p, '/');
        if ((i < 4) != (slash != NULL))
            return TM_ERR_PARSE;
        parts[i] = p;
        lens[i] = slash ? (size_t)(slash - p) : strlen(p);
        if (lens[i] == 0)
            return TM_ERR_PARSE;
        p = slash ? slash + 1 : p + lens[i];
    }
    int ignored;
    if (lens[1] != 8 || !s_digits(parts[1], 8, &ignored) || lens[4] != 12 || memcmp(parts[4], "aws4_request", 12) != 0)
        return TM_ERR_PARSE;
    if (!s_copy(out->access_key_id, sizeof(out->access_key_id), parts[0], lens[0]) ||
        !s_copy(out->date, sizeof(out->date), parts[1], lens[1]) ||
        !s_copy(out->region, sizeof(out->region), parts[2], lens[2]) ||
        !s_copy(out->service, sizeof(out->service), parts[3], lens[3])) {
        memset(out, 0, sizeof(*out));
        return TM_ERR_PARSE;
    }
    for (const char *c = out->access_key_id; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f) {
            memset(out, 0, sizeof(*out));
            return TM_ERR_PARSE;
        }
    return TM_OK;
}

static bool s_valid_signed_headers(const char *s) {
    if (!*s)
        return false;
    bool empty = true;
    for (; *s; s++) {
        if (*s == ';') {
            if (empty)
                return false;
            empty = true;
            continue;
        }
        /* Header names are tokens; SigV4 has them lower-case. */
        if ((unsigned char)*s <= ' ' || *s == 0x7f || *s == ',' || *s == ':' || (*s >= 'A' && *s <= 'Z'))
            return false;
        empty = false;
    }
    return !empty;
}

static bool s_hex64(const char *s) {
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 64;
}

int tm_sigv4_parse_authorization(struct tm_sigv4_authorization *out, const char *value, char *errmsg,
                                 size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    size_t alen = strlen(TM_SIGV4_ALGORITHM);
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, TM_SIGV4_ALGORITHM, alen) != 0 || (p[alen] != ' ' && p[alen] != '\t')) {
        s_msg(errmsg, errmsg_len, "Unsupported Authorization Type");
        return TM_ERR_UNSUPPORTED;
    }
    p += alen;
    bool got_cred = false, got_sh = false, got_sig = false;
    int rc = TM_OK;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const char *eq = memchr(p, '=', len);
        if (!eq) {
            s_msg(errmsg, errmsg_len, "Authorization header requires each component to be of the form key=value");
            rc = TM_ERR_PARSE;
            goto fail;
        }
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *v = eq + 1;
        char tmp[1024];
        if (klen == 10 && memcmp(p, "Credential", 10) == 0) {
            if (got_cred || !s_copy(tmp, sizeof(tmp), v, vlen) || tm_sigv4_parse_scope(&out->scope, tmp) != TM_OK) {
                s_msg(errmsg, errmsg_len, "Authorization header has a malformed or repeated Credential");
                rc = TM_ERR_PARSE;
                goto fail;
            }
            got_cred = true;
        } else if (klen == 13 && memcmp(p, "SignedHeaders", 13) == 0) {
            if (got_sh || !s_copy(out->signed_headers, sizeof(out->signed_headers), v, vlen) ||
                !s_valid_signed_headers(out->signed_headers)) {
                s_msg(errmsg, errmsg_len, "Authorization header has a malformed or repeated SignedHeaders");
                rc = TM_ERR_PARSE;
                goto fail;
            }
            got_sh = true;
        } else if (klen == 9 && memcmp(p, "Signature", 9) == 0) {
            if (got_sig || !s_copy(out->signature, sizeof(out->signature), v, vlen) || !s_hex64(out->signature)) {
                s_msg(errmsg, errmsg_len, "Authorization header has a malformed or repeated Signature");
                rc = TM_ERR_PARSE;
                goto fail;
            }
            got_sig = true;
        } else {
            s_msg(errmsg, errmsg_len, "Authorization header has an unknown component '%.*s'",
                  (int)(klen > 64 ? 64 : klen), p);
            rc = TM_ERR_PARSE;
            goto fail;
        }
        p += end ? (size_t)(end - p) : strlen(p);
    }
    if (!got_cred || !got_sh || !got_sig) {
        s_msg(errmsg, errmsg_len, "Authorization header requires %s%s%sparameter(s).", got_cred ? "" : "'Credential' ",
              got_sh ? "" : "'SignedHeaders' ", got_sig ? "" : "'Signature' ");
        rc = TM_ERR_PARSE;
        goto fail;
    }
    return TM_OK;
fail:
    memset(out, 0, sizeof(*out));
    return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* Verification */

const char *tm_sigv4_verdict_code(enum tm_sigv4_verdict verdict) {
    switch (verdict) {
        case TM_SIGV4_VALID:
            return "";
        case TM_SIGV4_MISSING:
            return "MissingAuthenticationToken";
        case TM_SIGV4_MALFORMED:
            return "IncompleteSignature";
        case TM_SIGV4_UNKNOWN_KEY:
        case TM_SIGV4_BAD_TOKEN:
            return "InvalidClientTokenId";
        case TM_SIGV4_MISMATCH:
            return "SignatureDoesNotMatch";
        case TM_SIGV4_EXPIRED:
            return "SignatureExpired";
        case TM_SIGV4_HASH_MISMATCH:
            return "XAmzContentSHA256Mismatch";
        default:
            return "AccessDenied";
    }
}

void tm_sigv4_verify_result_clean_up(struct tm_sigv4_verify_result *res) {
    if (!res)
        return;
    tm_secret_free(res->session_token);
    tm_secret_free(res->canonical_request);
    tm_secret_free(res->string_to_sign);
    res->session_token = res->canonical_request = res->string_to_sign = NULL;
}

/* The X-Amz-* parameters of a presigned URL, decoded. */
struct s_presign {
    struct tm_buf algorithm, credential, date, expires, signed_headers, signature, token;
    bool dup;
};

static int s_presign_param(const char *key, size_t key_len, const char *value, size_t value_len, void *user_data) {
    struct s_presign *ps = user_data;
    static const char *const names[] = {"X-Amz-Algorithm",     "X-Amz-Credential",    "X-Amz-Date",
                                        "X-Amz-Expires",       "X-Amz-SignedHeaders", "X-Amz-Signature",
                                        "X-Amz-Security-Token"};
    struct tm_buf *bufs[] = {&ps->algorithm,      &ps->credential, &ps->date, &ps->expires,
                             &ps->signed_headers, &ps->signature,  &ps->token};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i]) != key_len || memcmp(names[i], key, key_len) != 0)
            continue;
        if (bufs[i]->data) {
            ps->dup = true;
            return TM_OK;
        }
        int rc = tm_buf_append(bufs[i], value, value_len);
        /* A present but empty parameter still counts as given. */
        if (!rc && !bufs[i]->data)
            rc = tm_buf_append(bufs[i], "", 0);
        return rc;
    }
    return TM_OK;
}

static const char *s_find_header(const struct tm_sigv4_request *req, const char *name, size_t *count) {
    const char *found = NULL;
    *count = 0;
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && tm_str_ieq(req->headers[i].name, name)) {
            if (!found)
                found = req->headers[i].value ? req->headers[i].value : "";
            (*count)++;
        }
    return found;
}

static void s_trim_copy(char *dst, size_t cap, const char *src) {
    while (*src && s_is_space(*src))
        src++;
    size_t n = strlen(src);
    while (n > 0 && s_is_space(src[n - 1]))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int s_refuse(struct tm_sigv4_verify_result *res, enum tm_sigv4_verdict verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_refuse(struct tm_sigv4_verify_result *res, enum tm_sigv4_verdict verdict, const char *fmt, ...) {
    res->verdict = verdict;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->message, sizeof(res->message), fmt, ap);
    va_end(ap);
    return TM_ERR_AUTH;
}

int tm_sigv4_verify(struct tm_sigv4_verify_result *res, const struct tm_sigv4_request *req,
                    const struct tm_sigv4_verify_options *opts, tm_sigv4_secret_fn lookup, void *user_data) {
    memset(res, 0, sizeof(*res));
    static const struct tm_sigv4_verify_options defaults = {0};
    if (!opts)
        opts = &defaults;
    int rc = TM_OK;
    struct s_presign pre;
    struct s_params ps = {0};
    struct s_hdrs *hs = NULL;
    struct tm_buf secret, known_token, path, query, headers, creq, sts;
    memset(&pre, 0, sizeof(pre));
    tm_buf_init(&pre.algorithm, 4096);
    tm_buf_init(&pre.credential, 4096);
    tm_buf_init(&pre.date, 64);
    tm_buf_init(&pre.expires, 64);
    tm_buf_init(&pre.signed_headers, 4096);
    tm_buf_init(&pre.signature, 256);
    tm_buf_init(&pre.token, 8192);
    tm_buf_init(&secret, 4096);
    tm_buf_init(&known_token, 8192);
    tm_buf_init(&path, 0);
    tm_buf_init(&query, 0);
    tm_buf_init(&headers, 0);
    tm_buf_init(&creq, 0);
    tm_buf_init(&sts, 0);
    char amz_date[17] = "", signed_headers[1024] = "", signature[65] = "", payload_hash[65];
    const char *sent_token = NULL;

    if (!req->method || (req->header_count > 0 && !req->headers)) {
        rc = TM_ERR_INVALID;
        goto out;
    }
    if (req->header_count > S_MAX_HEADERS) {
        rc = s_refuse(res, TM_SIGV4_MALFORMED, "Too many headers to verify a signature over");
        goto out;
    }

    size_t nauth = 0, ndate = 0, ntoken = 0;
    const char *auth = s_find_header(req, "authorization", &nauth);
    if (auth) {
        if (nauth > 1) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "The request has more than one Authorization header");
            goto out;
        }
        struct tm_sigv4_authorization a;
        char why[256];
        int prc = tm_sigv4_parse_authorization(&a, auth, why, sizeof(why));
        if (prc) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "%s", why);
            goto out;
        }
        res->scope = a.scope;
        res->scope_valid = true;
        memcpy(signed_headers, a.signed_headers, sizeof(signed_headers));
        memcpy(signature, a.signature, sizeof(signature));
        const char *d = s_find_header(req, "x-amz-date", &ndate);
        if (!d) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED,
                          "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
            goto out;
        }
        s_trim_copy(amz_date, sizeof(amz_date), d);
        sent_token = s_find_header(req, "x-amz-security-token", &ntoken);
        if (ntoken > 1) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "The request has more than one X-Amz-Security-Token header");
            goto out;
        }
    } else {
        rc = s_query_each(req->query, s_presign_param, &pre);
        if (rc == TM_ERR_INVALID || rc == TM_ERR_TOO_BIG) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "The query string is malformed");
            goto out;
        }
        if (rc)
            goto out;
        if (!pre.algorithm.data) {
            rc = s_refuse(res, TM_SIGV4_MISSING, "Missing Authentication Token");
            goto out;
        }
        res->presigned = true;
        if (pre.dup) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "An X-Amz-* query parameter is repeated");
            goto out;
        }
        if (strcmp(pre.algorithm.data, TM_SIGV4_ALGORITHM) != 0) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "X-Amz-Algorithm only supports \"%s\"", TM_SIGV4_ALGORITHM);
            goto out;
        }
        if (!pre.credential.data || !pre.date.data || !pre.expires.data || !pre.signed_headers.data ||
            !pre.signature.data) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED,
                          "Query-string authentication requires the X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                          "X-Amz-SignedHeaders and X-Amz-Signature parameters.");
            goto out;
        }
        if (tm_sigv4_parse_scope(&res->scope, pre.credential.data) != TM_OK) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "X-Amz-Credential is malformed");
            goto out;
        }
        res->scope_valid = true;
        if (!s_copy(signed_headers, sizeof(signed_headers), pre.signed_headers.data, pre.signed_headers.len) ||
            !s_valid_signed_headers(signed_headers)) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "X-Amz-SignedHeaders is malformed");
            goto out;
        }
        if (!s_copy(signature, sizeof(signature), pre.signature.data, pre.signature.len) || !s_hex64(signature)) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "X-Amz-Signature is malformed");
            goto out;
        }
        if (!s_copy(amz_date, sizeof(amz_date), pre.date.data, pre.date.len))
            amz_date[0] = '\0';
        sent_token = pre.token.data;
    }

    if (sent_token && !(res->session_token = tm_strdup(sent_token))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    /* X-Amz-Date is the basic ISO 8601 form and must name the scope's day. */
    if (strlen(amz_date) != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z' ||
        tm_sigv4_parse_time(&res->request_time, amz_date) != TM_OK) {
        rc =
            s_refuse(res, TM_SIGV4_MALFORMED, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        goto out;
    }
    if (memcmp(amz_date, res->scope.date, 8) != 0) {
        rc = s_refuse(res, TM_SIGV4_MISMATCH,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                      "of date from HTTP: '%s' != '%.8s', from '%s'.",
                      res->scope.date, amz_date, amz_date);
        goto out;
    }
    uint64_t expires_s = 0;
    if (res->presigned) {
        char *end = NULL;
        unsigned long long e = strtoull(pre.expires.data, &end, 10);
        if (!end || *end || pre.expires.len == 0 || pre.expires.data[0] < '0' || pre.expires.data[0] > '9' || e < 1 ||
            e > TM_SIGV4_MAX_EXPIRES_S) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED,
                          "X-Amz-Expires must be a number of seconds from 1 to 604800 (seven days)");
            goto out;
        }
        expires_s = e;
    }

    rc = lookup(&secret, &known_token, &res->scope, user_data);
    if (rc == TM_ERR_NOT_FOUND) {
        rc = s_refuse(res, TM_SIGV4_UNKNOWN_KEY, "The security token included in the request is invalid.");
        goto out;
    }
    if (rc)
        goto out;
    {
        size_t sent_len = sent_token ? strlen(sent_token) : 0;
        if (sent_len != known_token.len || (sent_len && CRYPTO_memcmp(sent_token, known_token.data, sent_len) != 0)) {
            rc = s_refuse(res, TM_SIGV4_BAD_TOKEN, "The security token included in the request is invalid.");
            goto out;
        }
    }

    if (opts->check_time) {
        int64_t skew = opts->max_skew_s ? opts->max_skew_s : 900;
        if (res->presigned) {
            if (res->request_time - opts->now > skew) {
                rc = s_refuse(res, TM_SIGV4_EXPIRED, "Request is not yet valid");
                goto out;
            }
            if (opts->now > res->request_time + (int64_t)expires_s) {
                rc = s_refuse(res, TM_SIGV4_EXPIRED, "Request has expired");
                goto out;
            }
        } else if (res->request_time - opts->now > skew || opts->now - res->request_time > skew) {
            char now_s[17] = "";
            if (tm_sigv4_format_time(now_s, opts->now) != TM_OK)
                now_s[0] = '\0';
            rc = s_refuse(res, TM_SIGV4_EXPIRED, "Signature expired: %s is now outside %lld seconds of %s", amz_date,
                          (long long)skew, now_s);
            goto out;
        }
    }

    /* The headers the client signed, in the order it listed them; host is mandatory. */
    hs = calloc(1, sizeof(*hs));
    if (!hs) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    bool host_signed = false;
    for (const char *n = signed_headers; *n && !rc;) {
        const char *semi = strchr(n, ';');
        size_t len = semi ? (size_t)(semi - n) : strlen(n);
        char name[256];
        if (!s_copy(name, sizeof(name), n, len)) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "SignedHeaders names a header that is too long");
            goto out;
        }
        for (const char *m = signed_headers; m < n;) {
            const char *ms = strchr(m, ';');
            size_t ml = ms ? (size_t)(ms - m) : strlen(m);
            if (ml == len && memcmp(m, n, len) == 0) {
                rc = s_refuse(res, TM_SIGV4_MALFORMED, "SignedHeaders names '%s' twice", name);
                goto out;
            }
            m += ml + (ms ? 1 : 0);
        }
        host_signed |= strcmp(name, "host") == 0;
        bool present = false;
        for (size_t i = 0; i < req->header_count && !rc; i++)
            if (req->headers[i].name && tm_str_ieq(req->headers[i].name, name)) {
                present = true;
                rc = s_hdrs_add(hs, name, req->headers[i].value);
            }
        if (rc)
            goto out;
        if (!present) {
            rc = s_refuse(res, TM_SIGV4_MISMATCH,
                          "The request signature we calculated does not match the signature "
                          "you provided: signed header '%s' is not in the request.",
                          name);
            goto out;
        }
        n += len + (semi ? 1 : 0);
    }
    if (!host_signed) {
        rc = s_refuse(res, TM_SIGV4_MALFORMED, "'Host' must be a 'SignedHeader' in the AWS Authorization.");
        goto out;
    }
    rc = s_canonical_headers(&headers, NULL, hs);
    if (rc)
        goto out;

    bool s3 = tm_sigv4_service_is_s3(res->scope.service);
    size_t nsha = 0;
    const char *content_sha = s_find_header(req, "x-amz-content-sha256", &nsha);
    char body_hash[65];
    tm_sigv4_sha256_hex(body_hash, req->body, req->body_len);
    if (content_sha) {
        char v[80];
        s_trim_copy(v, sizeof(v), content_sha);
        if (strcmp(v, TM_SIGV4_UNSIGNED_PAYLOAD) == 0) {
            memcpy(payload_hash, v, sizeof(TM_SIGV4_UNSIGNED_PAYLOAD));
        } else if (!s_hex64(v) || nsha > 1) {
            rc = s_refuse(res, TM_SIGV4_MALFORMED, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a SHA-256 value.");
            goto out;
        } else if (strcmp(v, body_hash) != 0) {
            rc = s_refuse(res, TM_SIGV4_HASH_MISMATCH,
                          "The provided 'x-amz-content-sha256' header does not match what was computed.");
            goto out;
        } else {
            memcpy(payload_hash, v, sizeof(payload_hash));
        }
    } else if (res->presigned && s3) {
        memcpy(payload_hash, TM_SIGV4_UNSIGNED_PAYLOAD, sizeof(TM_SIGV4_UNSIGNED_PAYLOAD));
    } else {
        memcpy(payload_hash, body_hash, sizeof(payload_hash));
    }

    rc = s_canonical_path(&path, req->path, s3, !s3 && !opts->no_normalize_path);
    if (rc == TM_ERR_INVALID) {
        rc = s_refuse(res, TM_SIGV4_MALFORMED, "The request path has a malformed percent-encoding");
        goto out;
    }
    if (rc)
        goto out;
    struct s_collect collect = {.ps = &ps};
    if (res->presigned) {
        collect.skip = "X-Amz-Signature";
        if (opts->omit_session_token)
            collect.skip2 = "X-Amz-Security-Token";
    }
    rc = s_query_each(req->query, s_collect_param, &collect);
    if (rc == TM_ERR_INVALID || rc == TM_ERR_TOO_BIG) {
        rc = s_refuse(res, TM_SIGV4_MALFORMED, "The query string is malformed");
        goto out;
    }
    if (!rc)
        rc = s_canonical_query(&query, &ps);
    if (!rc)
        rc = s_canonical_request(&creq, req->method, tm_buf_str(&path), tm_buf_str(&query), tm_buf_str(&headers),
                                 signed_headers, payload_hash);
    if (!rc)
        rc =
            s_string_to_sign(&sts, amz_date, res->scope.date, res->scope.region, res->scope.service, tm_buf_str(&creq));
    char expected[65];
    if (!rc)
        rc = s_signature(expected, secret.data ? secret.data : "", res->scope.date, res->scope.region,
                         res->scope.service, tm_buf_str(&sts));
    if (rc)
        goto out;
    if (!(res->canonical_request = tm_buf_detach(&creq)) || !(res->string_to_sign = tm_buf_detach(&sts))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    bool match = CRYPTO_memcmp(expected, signature, 64) == 0;
    OPENSSL_cleanse(expected, sizeof(expected));
    if (!match) {
        rc = s_refuse(res, TM_SIGV4_MISMATCH,
                      "The request signature we calculated does not match the signature you provided. Check your AWS "
                      "Secret Access Key and signing method. Consult the service documentation for details.");
        goto out;
    }
    res->verdict = TM_SIGV4_VALID;

out:
    if (hs)
        s_hdrs_clean_up(hs);
    free(hs);
    s_params_clean_up(&ps);
    tm_buf_clean_up(&pre.algorithm);
    tm_buf_clean_up(&pre.credential);
    tm_buf_clean_up(&pre.date);
    tm_buf_clean_up(&pre.expires);
    tm_buf_clean_up(&pre.signed_headers);
    tm_buf_clean_up(&pre.signature);
    tm_buf_clean_up_secret(&pre.token);
    tm_buf_clean_up_secret(&secret);
    tm_buf_clean_up_secret(&known_token);
    tm_buf_clean_up(&path);
    tm_buf_clean_up_secret(&query);
    tm_buf_clean_up_secret(&headers);
    tm_buf_clean_up_secret(&creq);
    tm_buf_clean_up(&sts);
    OPENSSL_cleanse(signature, sizeof(signature));
    return rc;
}
