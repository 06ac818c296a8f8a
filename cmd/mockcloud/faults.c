/* Fault injection. Every random choice for request number N comes from a generator seeded with
 * (seed, N), never from the clock, so the same requests with the same seed meet the same faults. The
 * one exception is by nature: token-bucket rate limits refill with time, as AWS's do. */
#include "cmd/mockcloud/mock_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

struct s_rule {
    char *service; /* NULL: any */
    char *operation;
    double rps, burst;
};

struct s_bucket {
    char *key; /* service \n operation \n region */
    double tokens;
    uint64_t last_ns;
    struct s_bucket *next;
};

#define S_BUCKET_SLOTS 1024

struct tm__mock_faults {
    uint64_t seed;
    uint32_t latency_ms, jitter_ms;
    double reset, truncate, throttle, error, malformed;
    struct s_rule *deny;
    size_t n_deny;
    struct s_rule *limits;
    size_t n_limits;
    struct s_rule default_limit; /* rps 0: none */
    struct s_bucket *buckets[S_BUCKET_SLOTS];
};

const char *tm__mock_fault_name(enum tm__mock_fault fault) {
    switch (fault) {
        case TM__MOCK_FAULT_NONE:
            return "none";
        case TM__MOCK_FAULT_DENY:
            return "deny";
        case TM__MOCK_FAULT_RATE_LIMIT:
            return "rate-limit";
        case TM__MOCK_FAULT_THROTTLE:
            return "throttle";
        case TM__MOCK_FAULT_ERROR:
            return "error";
        case TM__MOCK_FAULT_RESET:
            return "reset";
        case TM__MOCK_FAULT_TRUNCATE:
            return "truncate";
        case TM__MOCK_FAULT_MALFORMED:
            return "malformed";
        default:
            return "unknown";
    }
}

uint64_t tm__mock_rand_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double tm__mock_rand(uint64_t *state) {
    return (double)(tm__mock_rand_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static void s_fail(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_fail(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

static bool s_name_ok(const char *s, size_t n) {
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

/* "Op" or "service:Op" */
static int s_rule_name(struct s_rule *r, const char *spec, size_t len) {
    const char *colon = memchr(spec, ':', len);
    if (colon) {
        size_t sl = (size_t)(colon - spec);
        if (!s_name_ok(spec, sl) || !s_name_ok(colon + 1, len - sl - 1))
            return TM_ERR_INVALID;
        r->service = tm_strndup(spec, sl);
        r->operation = tm_strndup(colon + 1, len - sl - 1);
        if (!r->service || !r->operation)
            return TM_ERR_NOMEM;
        return TM_OK;
    }
    if (!s_name_ok(spec, len))
        return TM_ERR_INVALID;
    r->operation = tm_strndup(spec, len);
    return r->operation ? TM_OK : TM_ERR_NOMEM;
}

static bool s_parse_double(const char *s, size_t len, double *out) {
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || errno || !isfinite(d) || d <= 0)
        return false;
    *out = d;
    return true;
}

int tm__mock_rate_limit_parse(char **op_out, double *rps, double *burst, const char *spec) {
    const char *nums = spec;
    if (op_out) {
        *op_out = NULL;
        const char *eq = strchr(spec, '=');
        if (!eq || eq == spec)
            return TM_ERR_INVALID;
        nums = eq + 1;
        *op_out = tm_strndup(spec, (size_t)(eq - spec));
        if (!*op_out)
            return TM_ERR_NOMEM;
    }
    const char *colon = strchr(nums, ':');
    size_t rl = colon ? (size_t)(colon - nums) : strlen(nums);
    int rc = TM_ERR_INVALID;
    if (!s_parse_double(nums, rl, rps))
        goto out;
    if (colon) {
        if (!s_parse_double(colon + 1, strlen(colon + 1), burst) || *burst < 1)
            goto out;
    } else {
        /* One second's worth, and at least one token so a slow limit still admits a request. */
        *burst = *rps < 1 ? 1 : *rps;
    }
    rc = TM_OK;
out:
    if (rc && op_out) {
        free(*op_out);
        *op_out = NULL;
    }
    return rc;
}

void tm__mock_faults_destroy(struct tm__mock_faults *f) {
    if (!f)
        return;
    for (size_t i = 0; i < f->n_deny; i++) {
        free(f->deny[i].service);
        free(f->deny[i].operation);
    }
    free(f->deny);
    for (size_t i = 0; i < f->n_limits; i++) {
        free(f->limits[i].service);
        free(f->limits[i].operation);
    }
    free(f->limits);
    for (size_t s = 0; s < S_BUCKET_SLOTS; s++) {
        struct s_bucket *b = f->buckets[s];
        while (b) {
            struct s_bucket *next = b->next;
            free(b->key);
            free(b);
            b = next;
        }
    }
    free(f);
}

int tm__mock_faults_new(struct tm__mock_faults **out, const struct tm_mock_options *o, char *errmsg,
                        size_t errmsg_len) {
    *out = NULL;
    const struct {
        const char *flag;
        double v;
    } rates[] = {{"throttle-rate", o->throttle_rate},
                 {"error-rate", o->error_rate},
                 {"reset-rate", o->reset_rate},
                 {"truncate-rate", o->truncate_rate},
                 {"malformed-rate", o->malformed_rate}};
    double sum = 0;
    for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
        if (!(rates[i].v >= 0 && rates[i].v <= 1)) {
            s_fail(errmsg, errmsg_len, "--%s must be a probability from 0 to 1", rates[i].flag);
            return TM_ERR_INVALID;
        }
        sum += rates[i].v;
    }
    if (sum > 1 + 1e-9) {
        s_fail(errmsg, errmsg_len, "the fault rates add up to %.3f: they are exclusive and must total at most 1", sum);
        return TM_ERR_INVALID;
    }
    struct tm__mock_faults *f = calloc(1, sizeof(*f));
    if (!f)
        return TM_ERR_NOMEM;
    int rc = TM_ERR_NOMEM;
    f->seed = o->seed;
    f->latency_ms = o->latency_ms;
    f->jitter_ms = o->jitter_ms;
    f->throttle = o->throttle_rate;
    f->error = o->error_rate;
    f->reset = o->reset_rate;
    f->truncate = o->truncate_rate;
    f->malformed = o->malformed_rate;
    size_t nd = 0;
    while (o->deny && o->deny[nd])
        nd++;
    if (nd && !(f->deny = calloc(nd, sizeof(*f->deny))))
        goto out;
    for (size_t i = 0; i < nd; i++) {
        rc = s_rule_name(&f->deny[i], o->deny[i], strlen(o->deny[i]));
        f->n_deny++;
        if (rc == TM_ERR_INVALID)
            s_fail(errmsg, errmsg_len, "--deny: '%s' is not an operation name (Op or service:Op)", o->deny[i]);
        if (rc)
            goto out;
    }
    if (o->n_rate_limits && !(f->limits = calloc(o->n_rate_limits, sizeof(*f->limits))))
        goto out;
    for (size_t i = 0; i < o->n_rate_limits; i++) {
        const struct tm_mock_rate_limit *l = &o->rate_limits[i];
        rc = l->operation ? s_rule_name(&f->limits[i], l->operation, strlen(l->operation)) : TM_ERR_INVALID;
        f->n_limits++;
        if (!rc && !(l->rps > 0 && l->burst >= 1 && isfinite(l->rps) && isfinite(l->burst)))
            rc = TM_ERR_INVALID;
        if (rc == TM_ERR_INVALID)
            s_fail(errmsg, errmsg_len, "--rate-limit: '%s' needs an operation, a rate above 0 and a burst of 1 or more",
                   l->operation ? l->operation : "(null)");
        if (rc)
            goto out;
        f->limits[i].rps = l->rps;
        f->limits[i].burst = l->burst;
    }
    if (o->rate_limit_default_rps < 0 || (o->rate_limit_default_rps > 0 && o->rate_limit_default_burst < 1)) {
        s_fail(errmsg, errmsg_len, "--rate-limit-default needs a rate above 0 and a burst of 1 or more");
        rc = TM_ERR_INVALID;
        goto out;
    }
    f->default_limit.rps = o->rate_limit_default_rps;
    f->default_limit.burst = o->rate_limit_default_burst;
    *out = f;
    f = NULL;
    rc = TM_OK;
out:
    if (rc == TM_ERR_NOMEM)
        s_fail(errmsg, errmsg_len, "out of memory");
    tm__mock_faults_destroy(f);
    return rc;
}

/* The most specific rule: service:Op, then Op. */
static const struct s_rule *s_find(const struct s_rule *rules, size_t n, const char *service, const char *op) {
    const struct s_rule *loose = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rules[i].operation, op) != 0)
            continue;
        if (rules[i].service && service && strcmp(rules[i].service, service) == 0)
            return &rules[i];
        if (!rules[i].service && !loose)
            loose = &rules[i];
    }
    return loose;
}

static uint64_t s_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

/* Takes a token from the (service, operation, region) bucket; false when it is empty. A bucket that
 * cannot be allocated admits the request: a mock that runs out of memory should not invent throttling. */
static bool s_take(struct tm__mock_faults *f, const struct s_rule *rule, const char *service, const char *op,
                   const char *region, uint64_t now_ns) {
    struct tm_buf key;
    tm_buf_init(&key, 0);
    if (tm_buf_appendf(&key, "%s\n%s\n%s", service ? service : "", op, region ? region : "")) {
        tm_buf_clean_up(&key);
        return true;
    }
    struct s_bucket **slot = &f->buckets[s_hash(key.data) % S_BUCKET_SLOTS];
    struct s_bucket *b = *slot;
    while (b && strcmp(b->key, key.data) != 0)
        b = b->next;
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b) {
            tm_buf_clean_up(&key);
            return true;
        }
        b->key = tm_buf_detach(&key);
        if (!b->key) {
            free(b);
            tm_buf_clean_up(&key);
            return true;
        }
        b->tokens = rule->burst;
        b->last_ns = now_ns;
        b->next = *slot;
        *slot = b;
    }
    tm_buf_clean_up(&key);
    if (now_ns > b->last_ns) {
        b->tokens += (double)(now_ns - b->last_ns) * 1e-9 * rule->rps;
        if (b->tokens > rule->burst)
            b->tokens = rule->burst;
        b->last_ns = now_ns;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

void tm__mock_faults_plan(struct tm__mock_fault_plan *out, struct tm__mock_faults *f, uint64_t seq, const char *service,
                          const char *operation, const char *region, bool random_faults, uint64_t now_ns) {
    memset(out, 0, sizeof(*out));
    uint64_t st = f->seed ^ (seq * 0xd1b54a32d192ed03ULL);
    (void)tm__mock_rand_u64(&st);
    /* The draws happen in a fixed order whatever the outcome, so one request's fate never shifts
     * another's. */
    double jitter = tm__mock_rand(&st) * 2.0 - 1.0;
    double u = tm__mock_rand(&st);
    out->rng = tm__mock_rand_u64(&st);
    double delay = (double)f->latency_ms + jitter * (double)f->jitter_ms;
    out->delay_ms = delay > 0 ? (uint32_t)llround(delay) : 0;
    if (!random_faults)
        return;
    if (operation && s_find(f->deny, f->n_deny, service, operation)) {
        out->fault = TM__MOCK_FAULT_DENY;
        return;
    }
    if (operation) {
        const struct s_rule *rule = s_find(f->limits, f->n_limits, service, operation);
        if (!rule && f->default_limit.rps > 0)
            rule = &f->default_limit;
        if (rule && !s_take(f, rule, service, operation, region, now_ns)) {
            out->fault = TM__MOCK_FAULT_RATE_LIMIT;
            return;
        }
    }
    double edge = f->reset;
    if (u < edge) {
        out->fault = TM__MOCK_FAULT_RESET;
        return;
    }
    if (u < (edge += f->truncate)) {
        out->fault = TM__MOCK_FAULT_TRUNCATE;
        return;
    }
    if (u < (edge += f->throttle)) {
        out->fault = TM__MOCK_FAULT_THROTTLE;
        return;
    }
    if (u < (edge += f->error)) {
        out->fault = TM__MOCK_FAULT_ERROR;
        return;
    }
    if (u < edge + f->malformed)
        out->fault = TM__MOCK_FAULT_MALFORMED;
}
