/* The indexed policies of a snapshot. One store belongs to one thread: queries reuse its scratch
 * space, so the hot path allocates nothing once a principal's derived keys are cached. */
#include "analyzers/iam/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/eval_int.h"
#include "analyzers/iam/iam_int.h"
#include "core/hash.h"

/* ---- a string-keyed hash map (open addressing, linear probing) ---- */

struct s_slot {
    char *key;
    void *val;
};

struct s_map {
    struct s_slot *slots;
    size_t cap; /* a power of two */
    size_t n;
};

static struct s_slot *s_find(const struct s_map *m, const char *key) {
    if (!m->cap)
        return NULL;
    size_t i = (size_t)tm_hash_str(key) & (m->cap - 1);
    while (m->slots[i].key) {
        if (strcmp(m->slots[i].key, key) == 0)
            return &m->slots[i];
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

static void *s_get(const struct s_map *m, const char *key) {
    struct s_slot *s = s_find(m, key);
    return s ? s->val : NULL;
}

static int s_grow(struct s_map *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct s_slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t k = (size_t)tm_hash_str(m->slots[i].key) & (cap - 1);
        while (slots[k].key)
            k = (k + 1) & (cap - 1);
        slots[k] = m->slots[i];
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return TM_OK;
}

/* Inserts key (copied) -> val; key must not be present. */
static int s_put(struct s_map *m, const char *key, void *val) {
    if ((m->n + 1) * 4 > m->cap * 3) {
        int rc = s_grow(m);
        if (rc)
            return rc;
    }
    char *k = strdup(key);
    if (!k)
        return TM_ERR_NOMEM;
    size_t i = (size_t)tm_hash_str(key) & (m->cap - 1);
    while (m->slots[i].key)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].key = k;
    m->slots[i].val = val;
    m->n++;
    return TM_OK;
}

static void s_map_free(struct s_map *m, void (*free_val)(void *)) {
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        free(m->slots[i].key);
        if (free_val)
            free_val(m->slots[i].val);
    }
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* ---- entities ---- */

struct s_keys {
    char **v;
    size_t n;
};

static void s_keys_free(struct s_keys *k) {
    for (size_t i = 0; i < k->n; i++)
        free(k->v[i]);
    free(k->v);
    memset(k, 0, sizeof(*k));
}

static int s_keys_add(struct s_keys *k, const char *key) {
    char **p = realloc(k->v, (k->n + 1) * sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    k->v = p;
    if (!(k->v[k->n] = strdup(key)))
        return TM_ERR_NOMEM;
    k->n++;
    return TM_OK;
}

struct s_derived {
    char account[13]; /* the resource account these keys were derived for ("" = unknown) */
    struct tm_iam_context ctx;
};

struct s_principal {
    char *arn;
    struct s_keys keys;
    char *boundary;
    struct tm__iam_who who; /* points into arn */
    struct s_derived *derived;
    size_t n_derived;
};

struct s_resource {
    char *account;
    char *policy;
};

struct s_org {
    struct s_keys *scp; /* per level */
    size_t n_scp;
    struct s_keys *rcp;
    size_t n_rcp;
};

struct tm_iam_store {
    struct s_map policies;   /* key -> struct tm_iam_policy */
    struct s_map principals; /* arn -> struct s_principal */
    struct s_map roles;      /* "ACCOUNT/role-name" -> struct s_principal (not owned) */
    struct s_map resources;  /* arn -> struct s_resource */
    struct s_map orgs;       /* account -> struct s_org */
    /* query scratch */
    const struct tm_iam_policy **ptrs;
    size_t cap_ptrs;
    struct tm_iam_policy_level *levels;
    size_t cap_levels;
};

static void s_free_policy(void *p) {
    tm_iam_policy_destroy(p);
}

static void s_free_principal(void *v) {
    struct s_principal *p = v;
    if (!p)
        return;
    free(p->arn);
    s_keys_free(&p->keys);
    free(p->boundary);
    for (size_t i = 0; i < p->n_derived; i++)
        tm_iam_context_clean_up(&p->derived[i].ctx);
    free(p->derived);
    free(p);
}

static void s_free_resource(void *v) {
    struct s_resource *r = v;
    if (!r)
        return;
    free(r->account);
    free(r->policy);
    free(r);
}

static void s_free_org(void *v) {
    struct s_org *o = v;
    if (!o)
        return;
    for (size_t i = 0; i < o->n_scp; i++)
        s_keys_free(&o->scp[i]);
    for (size_t i = 0; i < o->n_rcp; i++)
        s_keys_free(&o->rcp[i]);
    free(o->scp);
    free(o->rcp);
    free(o);
}

int tm_iam_store_new(struct tm_iam_store **out) {
    *out = calloc(1, sizeof(**out));
    return *out ? TM_OK : TM_ERR_NOMEM;
}

void tm_iam_store_destroy(struct tm_iam_store *s) {
    if (!s)
        return;
    s_map_free(&s->policies, s_free_policy);
    s_map_free(&s->principals, s_free_principal);
    s_map_free(&s->roles, NULL);
    s_map_free(&s->resources, s_free_resource);
    s_map_free(&s->orgs, s_free_org);
    free(s->ptrs);
    free(s->levels);
    free(s);
}

int tm_iam_store_add_policy(struct tm_iam_store *s, const char *key, struct tm_iam_policy *policy) {
    if (!key || !policy || s_find(&s->policies, key)) {
        tm_iam_policy_destroy(policy);
        return TM_ERR_INVALID;
    }
    int rc = s_put(&s->policies, key, policy);
    if (rc)
        tm_iam_policy_destroy(policy);
    return rc;
}

/* Keeps a policy just parsed (rc, p, msg: the parse's answer) under key; errors name the key. */
static int s_add_parsed(struct tm_iam_store *s, const char *key, int rc, struct tm_iam_policy *p, const char *msg,
                        char *err, size_t errlen) {
    if (rc) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", key ? key : "?", msg);
        return rc;
    }
    rc = tm_iam_store_add_policy(s, key, p);
    if (rc && err && errlen)
        snprintf(err, errlen, "%s: %s", key ? key : "?",
                 rc == TM_ERR_INVALID ? "key already registered" : "out of memory");
    return rc;
}

int tm_iam_store_add_policy_text(struct tm_iam_store *s, const char *key, const char *text, size_t len,
                                 enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    char msg[768] = "";
    struct tm_iam_policy *p = NULL;
    int rc = tm_iam_policy_parse(&p, text, len, kind, msg, sizeof(msg));
    return s_add_parsed(s, key, rc, p, msg, err, errlen);
}

int tm_iam_store_add_policy_json(struct tm_iam_store *s, const char *key, const cJSON *doc,
                                 enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    if (!doc) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no policy document", key ? key : "?");
        return TM_ERR_INVALID;
    }
    char msg[768] = "";
    struct tm_iam_policy *p = NULL;
    int rc = tm_iam_policy_parse_json(&p, doc, kind, msg, sizeof(msg));
    return s_add_parsed(s, key, rc, p, msg, err, errlen);
}

const struct tm_iam_policy *tm_iam_store_policy(const struct tm_iam_store *s, const char *key) {
    return key ? s_get(&s->policies, key) : NULL;
}

static int s_role_key(char *out, size_t len, const struct tm__iam_who *w) {
    int n = snprintf(out, len, "%s/%.*s", w->account, (int)w->name_len, w->name);
    return n < 0 || (size_t)n >= len ? TM_ERR_TOO_BIG : TM_OK;
}

int tm_iam_store_set_principal(struct tm_iam_store *s, const char *arn, const char *const *policy_keys, size_t n_keys,
                               const char *boundary_key) {
    if (!arn || (n_keys && !policy_keys))
        return TM_ERR_INVALID;
    struct s_principal *p = calloc(1, sizeof(*p));
    if (!p || !(p->arn = strdup(arn)) || (boundary_key && !(p->boundary = strdup(boundary_key)))) {
        s_free_principal(p);
        return TM_ERR_NOMEM;
    }
    int rc = TM_OK;
    for (size_t i = 0; i < n_keys && !rc; i++)
        rc = s_keys_add(&p->keys, policy_keys[i]);
    if (rc) {
        s_free_principal(p);
        return rc;
    }
    tm__iam_who_parse(&p->who, p->arn);
    struct s_slot *old = s_find(&s->principals, arn);
    char rk[600];
    bool is_role = p->who.kind == TM__IAM_WHO_ROLE && s_role_key(rk, sizeof(rk), &p->who) == TM_OK;
    if (old) {
        struct s_principal *prev = old->val;
        old->val = p;
        if (is_role) {
            struct s_slot *r = s_find(&s->roles, rk);
            if (r)
                r->val = p;
        }
        s_free_principal(prev);
        return TM_OK;
    }
    rc = s_put(&s->principals, arn, p);
    if (rc) {
        s_free_principal(p);
        return rc;
    }
    if (is_role) {
        struct s_slot *r = s_find(&s->roles, rk);
        if (r)
            r->val = p;
        else
            rc = s_put(&s->roles, rk, p);
    }
    return rc;
}

int tm_iam_store_set_resource(struct tm_iam_store *s, const char *arn, const char *account, const char *policy_key) {
    if (!arn)
        return TM_ERR_INVALID;
    struct s_resource *r = calloc(1, sizeof(*r));
    if (!r || (account && !(r->account = strdup(account))) || (policy_key && !(r->policy = strdup(policy_key)))) {
        s_free_resource(r);
        return TM_ERR_NOMEM;
    }
    struct s_slot *old = s_find(&s->resources, arn);
    if (old) {
        s_free_resource(old->val);
        old->val = r;
        return TM_OK;
    }
    int rc = s_put(&s->resources, arn, r);
    if (rc)
        s_free_resource(r);
    return rc;
}

static int s_add_level(struct tm_iam_store *s, const char *account, size_t level, const char *key, bool rcp) {
    if (!account || !key || level > 64)
        return TM_ERR_INVALID;
    struct s_org *o = s_get(&s->orgs, account);
    if (!o) {
        o = calloc(1, sizeof(*o));
        if (!o)
            return TM_ERR_NOMEM;
        int rc = s_put(&s->orgs, account, o);
        if (rc) {
            free(o);
            return rc;
        }
    }
    struct s_keys **lv = rcp ? &o->rcp : &o->scp;
    size_t *n = rcp ? &o->n_rcp : &o->n_scp;
    if (level >= *n) {
        struct s_keys *p = realloc(*lv, (level + 1) * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        memset(p + *n, 0, (level + 1 - *n) * sizeof(*p));
        *lv = p;
        *n = level + 1;
    }
    return s_keys_add(&(*lv)[level], key);
}

int tm_iam_store_add_scp(struct tm_iam_store *s, const char *account, size_t level, const char *policy_key) {
    return s_add_level(s, account, level, policy_key, false);
}

int tm_iam_store_add_rcp(struct tm_iam_store *s, const char *account, size_t level, const char *policy_key) {
    return s_add_level(s, account, level, policy_key, true);
}

/* ---- queries ---- */

static int s_reserve(struct tm_iam_store *s, size_t ptrs, size_t levels) {
    if (ptrs > s->cap_ptrs) {
        const struct tm_iam_policy **p = realloc((void *)s->ptrs, ptrs * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        s->ptrs = p;
        s->cap_ptrs = ptrs;
    }
    if (levels > s->cap_levels) {
        struct tm_iam_policy_level *l = realloc(s->levels, levels * sizeof(*l));
        if (!l)
            return TM_ERR_NOMEM;
        s->levels = l;
        s->cap_levels = levels;
    }
    return TM_OK;
}

static int s_resolve(const struct tm_iam_store *s, const char *key, const struct tm_iam_policy **out, char *err,
                     size_t errlen) {
    *out = s_get(&s->policies, key);
    if (!*out) {
        if (err && errlen)
            snprintf(err, errlen, "policy %s is referred to but was never registered", key);
        return TM_ERR_NOT_FOUND;
    }
    return TM_OK;
}

static size_t s_count_keys(const struct s_keys *lv, size_t n) {
    size_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += lv[i].n;
    return t;
}

/* The derived keys of a registered principal for one resource account, cached. */
static int s_cached_derived(struct s_principal *p, const char *racct, const struct tm_iam_context **out) {
    const char *a = racct ? racct : "";
    for (size_t i = 0; i < p->n_derived; i++) {
        if (strcmp(p->derived[i].account, a) == 0) {
            *out = &p->derived[i].ctx;
            return TM_OK;
        }
    }
    struct s_derived *d = realloc(p->derived, (p->n_derived + 1) * sizeof(*d));
    if (!d)
        return TM_ERR_NOMEM;
    p->derived = d;
    struct s_derived *e = &d[p->n_derived];
    memset(e, 0, sizeof(*e));
    snprintf(e->account, sizeof(e->account), "%s", a);
    tm_iam_context_init(&e->ctx);
    int rc = tm__iam_derive_context(&e->ctx, &p->who, racct);
    if (rc) {
        tm_iam_context_clean_up(&e->ctx);
        return rc;
    }
    p->n_derived++;
    *out = &e->ctx;
    return TM_OK;
}

int tm_iam_store_can(struct tm_iam_result *res, struct tm_iam_store *s, const struct tm_iam_store_query *q,
                     bool collect_matches, char *err, size_t errlen) {
    if (!q || !q->action || !q->resource || !*q->action || !*q->resource)
        return TM_ERR_INVALID;
    struct tm__iam_who who;
    tm__iam_who_parse(&who, q->principal);
    struct s_principal *p = q->principal ? s_get(&s->principals, q->principal) : NULL;
    if (!p && who.kind == TM__IAM_WHO_SESSION) {
        char rk[600];
        if (s_role_key(rk, sizeof(rk), &who) == TM_OK)
            p = s_get(&s->roles, rk);
    }
    const struct s_resource *r = s_get(&s->resources, q->resource);
    char acct_buf[13];
    const char *racct = r && r->account ? r->account : NULL;
    if (!racct) {
        struct tm__iam_arn arn;
        if (tm__iam_arn_split(q->resource, &arn) && tm__iam_is_account_id(arn.part[4], arn.len[4])) {
            memcpy(acct_buf, arn.part[4], 12);
            acct_buf[12] = '\0';
            racct = acct_buf;
        }
    }
    const struct s_org *porg = who.account[0] ? s_get(&s->orgs, who.account) : NULL;
    const struct s_org *rorg = racct ? s_get(&s->orgs, racct) : NULL;
    size_t n_id = p ? p->keys.n : 0;
    size_t n_scp = porg ? s_count_keys(porg->scp, porg->n_scp) : 0;
    size_t n_rcp = rorg ? s_count_keys(rorg->rcp, rorg->n_rcp) : 0;
    size_t nl_scp = porg ? porg->n_scp : 0, nl_rcp = rorg ? rorg->n_rcp : 0;
    int rc = s_reserve(s, n_id + 1 + n_scp + n_rcp + 1, nl_scp + nl_rcp + 1);
    if (rc)
        return rc;
    const struct tm_iam_policy **ptr = s->ptrs;
    struct tm_iam_policy_set set = {0};
    set.identity = ptr;
    for (size_t i = 0; i < n_id && !rc; i++)
        rc = s_resolve(s, p->keys.v[i], ptr++, err, errlen);
    set.n_identity = n_id;
    if (!rc && p && p->boundary) {
        set.boundaries = ptr;
        rc = s_resolve(s, p->boundary, ptr++, err, errlen);
        set.n_boundaries = 1;
    }
    if (!rc && r && r->policy)
        rc = s_resolve(s, r->policy, &set.resource, err, errlen);
    set.scp_levels = s->levels;
    for (size_t l = 0; l < nl_scp && !rc; l++) {
        s->levels[l].policies = ptr;
        s->levels[l].n = porg->scp[l].n;
        for (size_t i = 0; i < porg->scp[l].n && !rc; i++)
            rc = s_resolve(s, porg->scp[l].v[i], ptr++, err, errlen);
    }
    set.n_scp_levels = nl_scp;
    set.rcp_levels = s->levels + nl_scp;
    for (size_t l = 0; l < nl_rcp && !rc; l++) {
        s->levels[nl_scp + l].policies = ptr;
        s->levels[nl_scp + l].n = rorg->rcp[l].n;
        for (size_t i = 0; i < rorg->rcp[l].n && !rc; i++)
            rc = s_resolve(s, rorg->rcp[l].v[i], ptr++, err, errlen);
    }
    set.n_rcp_levels = nl_rcp;
    set.session = q->session;
    set.n_session = q->n_session;
    if (rc)
        return rc;
    struct tm_iam_request req = {.principal = q->principal,
                                 .action = q->action,
                                 .resource = q->resource,
                                 .resource_account = racct,
                                 .context = q->context};
    /* The principal's derived keys are cached when the query names the registered principal itself. */
    if (p && q->principal && strcmp(p->arn, q->principal) == 0) {
        const struct tm_iam_context *derived = NULL;
        if ((rc = s_cached_derived(p, racct, &derived)))
            return rc;
        return tm__iam_evaluate_with(res, &req, &set, collect_matches, &p->who, derived, racct);
    }
    struct tm_iam_context derived;
    tm_iam_context_init(&derived);
    rc = tm__iam_derive_context(&derived, &who, racct);
    if (!rc)
        rc = tm__iam_evaluate_with(res, &req, &set, collect_matches, &who, &derived, racct);
    tm_iam_context_clean_up(&derived);
    return rc;
}
