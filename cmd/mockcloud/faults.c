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

/* Operations of one service that share a bucket per region. */
struct s_group {
    char *service;
    char **operations;
    size_t n_operations;
    double rps, burst;
};

struct s_bucket {
    char *key; /* service \n operation \n region; a group's operation is "@<index>", which no name can be */
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
    struct s_group *groups;
    size_t n_groups;
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

void tm__mock_group_spec_clean_up(struct tm__mock_group_spec *spec) {
    if (!spec)
        return;
    free(spec->service);
    for (char **op = spec->operations; op && *op; op++)
        free(*op);
    free(spec->operations);
    memset(spec, 0, sizeof(*spec));
}

int tm__mock_rate_limit_group_parse(struct tm__mock_group_spec *out, const char *spec, char *errmsg,
                                    size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    const char *eq = strchr(spec, '=');
    const char *colon = eq ? memchr(spec, ':', (size_t)(eq - spec)) : NULL;
    if (!eq) {
        s_fail(errmsg, errmsg_len, "'%s' is not SERVICE:OP[,OP...]=RPS[:BURST]", spec);
        return TM_ERR_INVALID;
    }
    if (!colon) {
        s_fail(errmsg, errmsg_len, "'%s' names no service: SERVICE:OP[,OP...]=RPS[:BURST] (lambda:ListAliases,...)",
               spec);
        return TM_ERR_INVALID;
    }
    size_t sl = (size_t)(colon - spec);
    if (!s_name_ok(spec, sl)) {
        s_fail(errmsg, errmsg_len, "'%s': '%.*s' is not a service name", spec, (int)sl, spec);
        return TM_ERR_INVALID;
    }
    double rps = 0, burst = 0;
    int rc = tm__mock_rate_limit_parse(NULL, &rps, &burst, eq + 1);
    if (rc == TM_ERR_INVALID)
        s_fail(errmsg, errmsg_len, "'%s': '%s' is not RPS[:BURST] (RPS above 0, BURST 1 or more)", spec, eq + 1);
    if (rc)
        return rc;
    /* At most one operation per character of the list, plus the NULL. */
    const char *list = colon + 1;
    size_t list_len = (size_t)(eq - list);
    rc = TM_ERR_NOMEM;
    if (!(out->service = tm_strndup(spec, sl)) || !(out->operations = calloc(list_len + 2, sizeof(char *))))
        goto out;
    size_t n = 0;
    for (const char *p = list;; p++) {
        size_t len = strcspn(p, ",=");
        if (len > (size_t)(eq - p))
            len = (size_t)(eq - p);
        if (len == 0) {
            s_fail(errmsg, errmsg_len, "'%s': an empty operation in the list", spec);
            rc = TM_ERR_INVALID;
            goto out;
        }
        if (!s_name_ok(p, len)) {
            s_fail(errmsg, errmsg_len, "'%s': '%.*s' is not an operation name", spec, (int)len, p);
            rc = TM_ERR_INVALID;
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (strlen(out->operations[i]) == len && memcmp(out->operations[i], p, len) == 0) {
                s_fail(errmsg, errmsg_len, "'%s': %.*s is listed twice", spec, (int)len, p);
                rc = TM_ERR_INVALID;
                goto out;
            }
        }
        if (!(out->operations[n] = tm_strndup(p, len)))
            goto out;
        n++;
        p += len;
        if (p == eq)
            break;
    }
    out->group.service = out->service;
    out->group.operations = (const char *const *)out->operations;
    out->group.rps = rps;
    out->group.burst = burst;
    rc = TM_OK;
out:
    if (rc == TM_ERR_NOMEM)
        s_fail(errmsg, errmsg_len, "out of memory");
    if (rc)
        tm__mock_group_spec_clean_up(out);
    return rc;
}

static void s_group_clean_up(struct s_group *g) {
    free(g->service);
    for (size_t i = 0; i < g->n_operations; i++)
        free(g->operations[i]);
    free(g->operations);
}

/* The group of service that lists op, or NULL. */
static const struct s_group *s_find_group(const struct s_group *groups, size_t n, const char *service, const char *op) {
    if (!service)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(groups[i].service, service) != 0)
            continue;
        for (size_t k = 0; k < groups[i].n_operations; k++)
            if (strcmp(groups[i].operations[k], op) == 0)
                return &groups[i];
    }
    return NULL;
}

/* Copies one group after checking it; errmsg names what is wrong. */
static int s_group_copy(struct s_group *out, const struct tm_mock_rate_limit_group *g, const struct s_group *before,
                        size_t n_before, char *errmsg, size_t errmsg_len) {
    const char *svc = g->service ? g->service : "";
    if (!s_name_ok(svc, strlen(svc))) {
        s_fail(errmsg, errmsg_len, "--rate-limit-group: '%s' is not a service name", svc);
        return TM_ERR_INVALID;
    }
    if (!(g->rps > 0 && g->burst >= 1 && isfinite(g->rps) && isfinite(g->burst))) {
        s_fail(errmsg, errmsg_len, "--rate-limit-group: %s needs a rate above 0 and a burst of 1 or more", svc);
        return TM_ERR_INVALID;
    }
    size_t n = 0;
    while (g->operations && g->operations[n])
        n++;
    if (!n) {
        s_fail(errmsg, errmsg_len, "--rate-limit-group: the group of %s names no operation", svc);
        return TM_ERR_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        const char *op = g->operations[i];
        if (!s_name_ok(op, strlen(op))) {
            s_fail(errmsg, errmsg_len, "--rate-limit-group: '%s' is not an operation name", op);
            return TM_ERR_INVALID;
        }
        /* A call draws from one bucket: an operation in two groups would need two tokens or a tie-break. */
        if (s_find_group(before, n_before, svc, op)) {
            s_fail(errmsg, errmsg_len, "--rate-limit-group: %s:%s is in two groups", svc, op);
            return TM_ERR_INVALID;
        }
    }
    if (!(out->service = tm_strdup(svc)) || !(out->operations = calloc(n, sizeof(char *)))) {
        s_fail(errmsg, errmsg_len, "out of memory");
        return TM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(out->operations[i] = tm_strdup(g->operations[i]))) {
            s_fail(errmsg, errmsg_len, "out of memory");
            return TM_ERR_NOMEM;
        }
        out->n_operations++;
    }
    out->rps = g->rps;
    out->burst = g->burst;
    return TM_OK;
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
    for (size_t i = 0; i < f->n_groups; i++)
        s_group_clean_up(&f->groups[i]);
    free(f->groups);
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
    if (o->n_rate_limit_groups && !(f->groups = calloc(o->n_rate_limit_groups, sizeof(*f->groups)))) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < o->n_rate_limit_groups; i++) {
        /* Counted before the copy so that a half-copied group is freed with the rest. */
        f->n_groups++;
        if ((rc = s_group_copy(&f->groups[i], &o->rate_limit_groups[i], f->groups, i, errmsg, errmsg_len)))
            goto out;
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

/* Takes a token from the (service, operation, region) bucket, or the (service, group, region) one when
 * group is not NULL; false when it is empty. A bucket that cannot be allocated admits the request: a
 * mock that runs out of memory should not invent throttling. */
static bool s_take(struct tm__mock_faults *f, double rps, double burst, const struct s_group *group,
                   const char *service, const char *op, const char *region, uint64_t now_ns) {
    struct tm_buf key;
    tm_buf_init(&key, 0);
    int rc = group ? tm_buf_appendf(&key, "%s\n@%zu\n%s", service ? service : "", (size_t)(group - f->groups),
                                    region ? region : "")
                   : tm_buf_appendf(&key, "%s\n%s\n%s", service ? service : "", op, region ? region : "");
    if (rc) {
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
        b->tokens = burst;
        b->last_ns = now_ns;
        b->next = *slot;
        *slot = b;
    }
    tm_buf_clean_up(&key);
    if (now_ns > b->last_ns) {
        b->tokens += (double)(now_ns - b->last_ns) * 1e-9 * rps;
        if (b->tokens > burst)
            b->tokens = burst;
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
        /* The most specific wins: the operation's own limit for its service, its service's group, a
         * limit for the operation in any service, the default. */
        const struct s_rule *rule = s_find(f->limits, f->n_limits, service, operation);
        const struct s_group *group = NULL;
        if (!rule || !rule->service)
            group = s_find_group(f->groups, f->n_groups, service, operation);
        if (group)
            rule = NULL;
        else if (!rule && f->default_limit.rps > 0)
            rule = &f->default_limit;
        bool admitted = true;
        if (group)
            admitted = s_take(f, group->rps, group->burst, group, service, operation, region, now_ns);
        else if (rule)
            admitted = s_take(f, rule->rps, rule->burst, NULL, service, operation, region, now_ns);
        if (!admitted) {
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
