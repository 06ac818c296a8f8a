/* Condition operators, following "IAM JSON policy elements: Condition operators" and "Conditions with
 * multiple context keys or values":
 * - several values of one key are ORed; for a negated operator they are NORed;
 * - a key absent from the request makes a condition false, except for negated operators (true),
 *   ...IfExists (true) and Null (which tests exactly that);
 * - ForAllValues is true when every request value matches (and when there are none); ForAnyValue
 *   is true when at least one does (never when there are none); IfExists changes neither;
 * - key names ignore case; values are case-sensitive except for the *IgnoreCase operators.
 * The remaining choices are documented key by key in policies/condition-keys.md. */
#include "analyzers/iam/iam_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/str.h"

struct s_op_def {
    const char *name;
    enum tm__iam_op op;
    bool negated;
};

static const struct s_op_def s_ops[] = {
    {"StringEquals", TM__IAM_OP_STRING_EQUALS, false},
    {"StringNotEquals", TM__IAM_OP_STRING_EQUALS, true},
    {"StringEqualsIgnoreCase", TM__IAM_OP_STRING_EQUALS_IC, false},
    {"StringNotEqualsIgnoreCase", TM__IAM_OP_STRING_EQUALS_IC, true},
    {"StringLike", TM__IAM_OP_STRING_LIKE, false},
    {"StringNotLike", TM__IAM_OP_STRING_LIKE, true},
    {"NumericEquals", TM__IAM_OP_NUMERIC_EQUALS, false},
    {"NumericNotEquals", TM__IAM_OP_NUMERIC_EQUALS, true},
    {"NumericLessThan", TM__IAM_OP_NUMERIC_LT, false},
    {"NumericLessThanEquals", TM__IAM_OP_NUMERIC_LE, false},
    {"NumericGreaterThan", TM__IAM_OP_NUMERIC_GT, false},
    {"NumericGreaterThanEquals", TM__IAM_OP_NUMERIC_GE, false},
    {"DateEquals", TM__IAM_OP_DATE_EQUALS, false},
    {"DateNotEquals", TM__IAM_OP_DATE_EQUALS, true},
    {"DateLessThan", TM__IAM_OP_DATE_LT, false},
    {"DateLessThanEquals", TM__IAM_OP_DATE_LE, false},
    {"DateGreaterThan", TM__IAM_OP_DATE_GT, false},
    {"DateGreaterThanEquals", TM__IAM_OP_DATE_GE, false},
    {"Bool", TM__IAM_OP_BOOL, false},
    {"BinaryEquals", TM__IAM_OP_BINARY_EQUALS, false},
    {"IpAddress", TM__IAM_OP_IP_ADDRESS, false},
    {"NotIpAddress", TM__IAM_OP_IP_ADDRESS, true},
    {"ArnEquals", TM__IAM_OP_ARN_LIKE, false},
    {"ArnLike", TM__IAM_OP_ARN_LIKE, false},
    {"ArnNotEquals", TM__IAM_OP_ARN_LIKE, true},
    {"ArnNotLike", TM__IAM_OP_ARN_LIKE, true},
    {"Null", TM__IAM_OP_NULL, false},
};

static bool s_prefix_ci(const char *s, const char *prefix) {
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != tolower((unsigned char)*prefix))
            return false;
    return true;
}

bool tm__iam_op_parse(const char *name, enum tm__iam_op *op, bool *negated, bool *if_exists, int *set_op,
                      const char **base_name) {
    *set_op = 0;
    *if_exists = false;
    if (s_prefix_ci(name, "ForAllValues:")) {
        *set_op = TM_IAM_FOR_ALL_VALUES;
        name += strlen("ForAllValues:");
    } else if (s_prefix_ci(name, "ForAnyValue:")) {
        *set_op = TM_IAM_FOR_ANY_VALUE;
        name += strlen("ForAnyValue:");
    }
    size_t n = strlen(name);
    const size_t ie = strlen("IfExists");
    if (n > ie && s_prefix_ci(name + n - ie, "IfExists")) {
        *if_exists = true;
        n -= ie;
    }
    for (size_t i = 0; i < sizeof(s_ops) / sizeof(s_ops[0]); i++) {
        if (strlen(s_ops[i].name) == n && strncasecmp(s_ops[i].name, name, n) == 0) {
            /* "You can add IfExists to the end of any condition operator name except the Null condition",
             * and a set qualifier over Null means nothing. */
            if (s_ops[i].op == TM__IAM_OP_NULL && (*if_exists || *set_op))
                return false;
            *op = s_ops[i].op;
            *negated = s_ops[i].negated;
            *base_name = s_ops[i].name;
            return true;
        }
    }
    return false;
}

/* ---- value parsers ---- */

bool tm__iam_parse_number(const char *s, double *out) {
    /* [+-]? digits [. digits]: the integers and decimals IAM compares; no hex, exponents, inf or nan. */
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    size_t int_digits = 0, frac_digits = 0;
    while (isdigit((unsigned char)*p)) {
        p++;
        int_digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            p++;
            frac_digits++;
        }
    }
    if (*p != '\0' || (int_digits == 0 && frac_digits == 0) || (p - s) > 64)
        return false;
    char *end = NULL;
    double d = strtod(s, &end);
    if (!end || *end != '\0' || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d) {
    /* Howard Hinnant's algorithm: days since 1970-01-01 of a proleptic Gregorian date. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool s_digits(const char **p, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static unsigned s_days_in_month(int y, int m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool tm__iam_parse_date(const char *s, int64_t *ms_out) {
    size_t len = strlen(s);
    if (len == 0 || len > 64)
        return false;
    bool all_digits = true, seen_dot = false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !seen_dot && i > 0) {
            seen_dot = true;
            continue;
        }
        if (!isdigit((unsigned char)s[i]))
            all_digits = false;
    }
    /* Epoch (UNIX) seconds, as aws:EpochTime; a bare four-digit number is the W3C year form. */
    if (all_digits && !(len == 4 && !seen_dot)) {
        double secs;
        if (!tm__iam_parse_number(s, &secs) || secs > 253402300799.0)
            return false;
        *ms_out = (int64_t)llround(secs * 1000.0);
        return true;
    }
    /* W3C profiles of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, then Thh:mm, :ss, .s, and a zone. */
    const char *p = s;
    int y, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
    int64_t frac_ms = 0;
    if (!s_digits(&p, 4, &y))
        return false;
    if (*p == '-') {
        p++;
        if (!s_digits(&p, 2, &mo) || mo < 1 || mo > 12)
            return false;
        if (*p == '-') {
            p++;
            if (!s_digits(&p, 2, &d) || d < 1 || (unsigned)d > s_days_in_month(y, mo))
                return false;
            if (*p == 'T' || *p == 't') {
                p++;
                if (!s_digits(&p, 2, &h) || *p != ':')
                    return false;
                p++;
                if (!s_digits(&p, 2, &mi) || h > 23 || mi > 59)
                    return false;
                if (*p == ':') {
                    p++;
                    if (!s_digits(&p, 2, &sec) || sec > 60)
                        return false;
                    if (*p == '.') {
                        p++;
                        int64_t scale = 100;
                        if (!isdigit((unsigned char)*p))
                            return false;
                        while (isdigit((unsigned char)*p)) {
                            frac_ms += (*p - '0') * scale;
                            scale /= 10;
                            p++;
                        }
                    }
                }
                int64_t offset_min = 0;
                if (*p == 'Z' || *p == 'z') {
                    p++;
                } else if (*p == '+' || *p == '-') {
                    int sign = *p == '-' ? -1 : 1;
                    int oh, om;
                    p++;
                    if (!s_digits(&p, 2, &oh) || *p != ':')
                        return false;
                    p++;
                    if (!s_digits(&p, 2, &om) || oh > 23 || om > 59)
                        return false;
                    offset_min = sign * (oh * 60 + om);
                }
                if (*p != '\0')
                    return false;
                int64_t days = s_days_from_civil(y, (unsigned)mo, (unsigned)d);
                int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
                *ms_out = secs * 1000 + frac_ms;
                return true;
            }
        }
    }
    if (*p != '\0')
        return false;
    *ms_out = s_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 * 1000;
    return true;
}

static void s_ip_mask(struct tm__iam_ip *ip) {
    unsigned bytes = ip->family == 4 ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned bit0 = i * 8;
        if (bit0 >= ip->prefix)
            ip->addr[i] = 0;
        else if (bit0 + 8 > ip->prefix)
            ip->addr[i] &= (unsigned char)(0xFF << (8 - (ip->prefix - bit0)));
    }
}

bool tm__iam_parse_ip(const char *s, struct tm__iam_ip *out, bool allow_prefix) {
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
    if (hlen == 0 || hlen >= sizeof(host) || (slash && !allow_prefix))
        return false;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = 4;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = 6;
        out->prefix = 128;
    } else {
        return false;
    }
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3)
            return false;
        unsigned v = 0;
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            v = v * 10 + (unsigned)(*p - '0');
        }
        if (v > out->prefix)
            return false;
        out->prefix = v;
    }
    s_ip_mask(out);
    return true;
}

bool tm__iam_ip_in(const struct tm__iam_ip *net, const struct tm__iam_ip *addr) {
    struct tm__iam_ip a = *addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    /* An IPv4-mapped IPv6 address (::ffff:203.0.113.5) is the IPv4 address. */
    if (net->family == 4 && a.family == 6 && memcmp(a.addr, mapped, 12) == 0) {
        memmove(a.addr, a.addr + 12, 4);
        memset(a.addr + 4, 0, 12);
        a.family = 4;
        a.prefix = 32;
    }
    if (net->family != a.family)
        return false;
    a.prefix = net->prefix;
    s_ip_mask(&a);
    return memcmp(a.addr, net->addr, net->family == 4 ? 4 : 16) == 0;
}

static int s_b64val(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Standard base64 with optional padding; out must hold len*3/4+3 bytes. */
static bool s_b64_decode(const char *s, unsigned char *out, size_t *out_len) {
    size_t len = strlen(s);
    while (len && s[len - 1] == '=')
        len--;
    if (strlen(s) - len > 2 || len % 4 == 1)
        return false;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = s_b64val((unsigned char)s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *out_len = o;
    return true;
}

int tm__iam_cvalue_compile(struct tm__iam_arena *a, struct tm__iam_strings *strings, struct tm__iam_cvalue *v,
                           enum tm__iam_op op, bool vars_allowed, char *why, size_t whylen) {
    v->has_vars = vars_allowed && tm__iam_has_vars(v->text);
    switch (op) {
        case TM__IAM_OP_STRING_EQUALS:
        case TM__IAM_OP_STRING_EQUALS_IC:
            return TM_OK;
        case TM__IAM_OP_STRING_LIKE:
        case TM__IAM_OP_ARN_LIKE: {
            if (v->has_vars)
                return TM_OK;
            struct tm_buf b;
            tm_buf_init(&b, 0);
            int rc = tm__iam_encode(&b, v->text, strlen(v->text), true);
            if (!rc) {
                v->enc = tm__iam_str(a, strings, tm_buf_str(&b), b.len);
                rc = v->enc ? TM_OK : TM_ERR_NOMEM;
            }
            tm_buf_clean_up(&b);
            return rc;
        }
        case TM__IAM_OP_NUMERIC_EQUALS:
        case TM__IAM_OP_NUMERIC_LT:
        case TM__IAM_OP_NUMERIC_LE:
        case TM__IAM_OP_NUMERIC_GT:
        case TM__IAM_OP_NUMERIC_GE:
            v->has_vars = false;
            if (!tm__iam_parse_number(v->text, &v->num)) {
                snprintf(why, whylen, "\"%s\" is not a number", v->text);
                return TM_ERR_PARSE;
            }
            return TM_OK;
        case TM__IAM_OP_DATE_EQUALS:
        case TM__IAM_OP_DATE_LT:
        case TM__IAM_OP_DATE_LE:
        case TM__IAM_OP_DATE_GT:
        case TM__IAM_OP_DATE_GE:
            v->has_vars = false;
            if (!tm__iam_parse_date(v->text, &v->date_ms)) {
                snprintf(why, whylen, "\"%s\" is neither an ISO 8601 date nor epoch seconds", v->text);
                return TM_ERR_PARSE;
            }
            return TM_OK;
        case TM__IAM_OP_BOOL:
        case TM__IAM_OP_NULL:
            if (op == TM__IAM_OP_NULL)
                v->has_vars = false;
            if (v->has_vars)
                return TM_OK;
            if (tm_str_ieq(v->text, "true")) {
                v->boolean = true;
            } else if (tm_str_ieq(v->text, "false")) {
                v->boolean = false;
            } else {
                snprintf(why, whylen, "\"%s\" is not true or false", v->text);
                return TM_ERR_PARSE;
            }
            return TM_OK;
        case TM__IAM_OP_BINARY_EQUALS: {
            v->has_vars = false;
            size_t n = strlen(v->text);
            unsigned char *out = tm__iam_arena_alloc(a, n * 3 / 4 + 3);
            if (!out)
                return TM_ERR_NOMEM;
            if (!s_b64_decode(v->text, out, &v->bin_len)) {
                snprintf(why, whylen, "\"%s\" is not base64", v->text);
                return TM_ERR_PARSE;
            }
            v->bin = out;
            return TM_OK;
        }
        case TM__IAM_OP_IP_ADDRESS:
            v->has_vars = false;
            if (!tm__iam_parse_ip(v->text, &v->ip, true)) {
                snprintf(why, whylen, "\"%s\" is not an IPv4 or IPv6 address or CIDR range", v->text);
                return TM_ERR_PARSE;
            }
            return TM_OK;
        default:
            snprintf(why, whylen, "unsupported operator");
            return TM_ERR_PARSE;
    }
}

/* ---- evaluation ---- */

/* A request value prepared once for the comparisons of one condition. */
struct s_req {
    const char *text;
    bool num_ok, date_ok, ip_ok, bin_ok;
    double num;
    int64_t date_ms;
    struct tm__iam_ip ip;
    unsigned char *bin;
    size_t bin_len;
};

static void s_req_prepare(struct s_req *r, const char *text, enum tm__iam_op op) {
    memset(r, 0, sizeof(*r));
    r->text = text;
    switch (op) {
        case TM__IAM_OP_NUMERIC_EQUALS:
        case TM__IAM_OP_NUMERIC_LT:
        case TM__IAM_OP_NUMERIC_LE:
        case TM__IAM_OP_NUMERIC_GT:
        case TM__IAM_OP_NUMERIC_GE:
            r->num_ok = tm__iam_parse_number(text, &r->num);
            break;
        case TM__IAM_OP_DATE_EQUALS:
        case TM__IAM_OP_DATE_LT:
        case TM__IAM_OP_DATE_LE:
        case TM__IAM_OP_DATE_GT:
        case TM__IAM_OP_DATE_GE:
            r->date_ok = tm__iam_parse_date(text, &r->date_ms);
            break;
        case TM__IAM_OP_IP_ADDRESS:
            r->ip_ok = tm__iam_parse_ip(text, &r->ip, false);
            break;
        case TM__IAM_OP_BINARY_EQUALS: {
            size_t n = strlen(text);
            r->bin = malloc(n * 3 / 4 + 3);
            r->bin_ok = r->bin && s_b64_decode(text, r->bin, &r->bin_len);
            break;
        }
        default:
            break;
    }
}

static void s_req_clean_up(struct s_req *r) {
    free(r->bin);
}

/* Does the request value satisfy the positive operator against policy value v (resolved text in rv
 * when the value has variables)? */
static bool s_cmp(const struct tm__iam_cond *c, const struct tm__iam_cvalue *v, const char *rv, const struct s_req *r) {
    switch (c->op) {
        case TM__IAM_OP_STRING_EQUALS:
            return strcmp(rv ? rv : v->text, r->text) == 0;
        case TM__IAM_OP_STRING_EQUALS_IC:
            return tm_str_ieq(rv ? rv : v->text, r->text);
        case TM__IAM_OP_STRING_LIKE:
            return tm__iam_glob(rv ? rv : v->enc, r->text, false);
        case TM__IAM_OP_ARN_LIKE:
            return tm__iam_arn_match(rv ? rv : v->enc, r->text);
        case TM__IAM_OP_NUMERIC_EQUALS:
            return r->num_ok && r->num == v->num;
        case TM__IAM_OP_NUMERIC_LT:
            return r->num_ok && r->num < v->num;
        case TM__IAM_OP_NUMERIC_LE:
            return r->num_ok && r->num <= v->num;
        case TM__IAM_OP_NUMERIC_GT:
            return r->num_ok && r->num > v->num;
        case TM__IAM_OP_NUMERIC_GE:
            return r->num_ok && r->num >= v->num;
        case TM__IAM_OP_DATE_EQUALS:
            return r->date_ok && r->date_ms == v->date_ms;
        case TM__IAM_OP_DATE_LT:
            return r->date_ok && r->date_ms < v->date_ms;
        case TM__IAM_OP_DATE_LE:
            return r->date_ok && r->date_ms <= v->date_ms;
        case TM__IAM_OP_DATE_GT:
            return r->date_ok && r->date_ms > v->date_ms;
        case TM__IAM_OP_DATE_GE:
            return r->date_ok && r->date_ms >= v->date_ms;
        case TM__IAM_OP_BOOL:
            if (rv)
                return tm_str_ieq(rv, r->text);
            return v->boolean ? tm_str_ieq(r->text, "true") : tm_str_ieq(r->text, "false");
        case TM__IAM_OP_BINARY_EQUALS:
            return r->bin_ok && r->bin_len == v->bin_len && memcmp(r->bin, v->bin, v->bin_len) == 0;
        case TM__IAM_OP_IP_ADDRESS:
            return r->ip_ok && tm__iam_ip_in(&v->ip, &r->ip);
        default:
            return false;
    }
}

static bool s_any_value(const struct tm__iam_cond *c, char *const *resolved, const char *req_text) {
    struct s_req r;
    s_req_prepare(&r, req_text, c->op);
    bool m = false;
    for (size_t i = 0; i < c->n_values && !m; i++)
        m = s_cmp(c, &c->values[i], resolved ? resolved[i] : NULL, &r);
    s_req_clean_up(&r);
    return m;
}

static bool s_eval_with(const struct tm__iam_cond *c, char *const *resolved, const char *const *vals, size_t n) {
    bool present = vals && n > 0;
    if (c->set_op) {
        bool empty = true;
        for (size_t i = 0; present && i < n && empty; i++)
            empty = vals[i][0] == '\0';
        if (c->set_op == TM_IAM_FOR_ALL_VALUES) {
            if (!present || empty)
                return true;
            for (size_t i = 0; i < n; i++) {
                bool m = s_any_value(c, resolved, vals[i]);
                if (c->negated ? m : !m)
                    return false;
            }
            return true;
        }
        if (!present || empty)
            return false;
        for (size_t i = 0; i < n; i++) {
            bool m = s_any_value(c, resolved, vals[i]);
            if (c->negated ? !m : m)
                return true;
        }
        return false;
    }
    if (!present)
        return c->if_exists || c->negated;
    bool m = false;
    for (size_t i = 0; i < n && !m; i++)
        m = s_any_value(c, resolved, vals[i]);
    return c->negated ? !m : m;
}

bool tm__iam_cond_eval(const struct tm__iam_cond *c, const struct tm_iam_context *ctx,
                       const struct tm_iam_context *derived) {
    size_t n = 0;
    const char *const *vals = tm__iam_context_get(ctx, derived, c->key_lc, &n);
    if (c->op == TM__IAM_OP_NULL) {
        bool present = vals && n > 0;
        for (size_t i = 0; i < c->n_values; i++)
            if (c->values[i].boolean != present)
                return true;
        return false;
    }
    bool has_vars = false;
    for (size_t i = 0; i < c->n_values && !has_vars; i++)
        has_vars = c->values[i].has_vars;
    if (!has_vars)
        return s_eval_with(c, NULL, vals, n);

    /* Resolve the policy variables once for this request. An unresolvable variable makes the
     * condition false: "If AWS cannot resolve a variable, this might cause the entire statement to be
     * invalid" (IAM User Guide, Variables and tags). */
    char **resolved = calloc(c->n_values, sizeof(*resolved));
    if (!resolved)
        return false;
    bool ok = true;
    bool wildcards = c->op == TM__IAM_OP_STRING_LIKE || c->op == TM__IAM_OP_ARN_LIKE;
    for (size_t i = 0; i < c->n_values && ok; i++) {
        if (!c->values[i].has_vars)
            continue;
        struct tm_buf b;
        tm_buf_init(&b, 64 * 1024);
        ok = tm__iam_resolve(&b, c->values[i].text, wildcards, false, ctx, derived) == TM_OK;
        resolved[i] = ok ? tm_buf_detach(&b) : NULL;
        ok = ok && resolved[i];
        tm_buf_clean_up(&b);
    }
    /* Values without variables still need their text in the resolved form. */
    for (size_t i = 0; i < c->n_values && ok; i++) {
        if (resolved[i])
            continue;
        if (wildcards) {
            resolved[i] = strdup(c->values[i].enc);
        } else {
            resolved[i] = strdup(c->values[i].text);
        }
        ok = resolved[i] != NULL;
    }
    /* Bool values with variables compare as text; the rest keep their compiled form. */
    bool result = ok && s_eval_with(c, resolved, vals, n);
    for (size_t i = 0; i < c->n_values; i++)
        free(resolved[i]);
    free(resolved);
    return result;
}
