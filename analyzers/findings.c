#include "analyzers/findings.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/str.h"
#include "core/hash.h"

const char *tm_severity_str(enum tm_severity sev) {
    switch (sev) {
        case TM_SEV_INFO:
            return "info";
        case TM_SEV_LOW:
            return "low";
        case TM_SEV_MEDIUM:
            return "medium";
        case TM_SEV_HIGH:
            return "high";
        case TM_SEV_CRITICAL:
            return "critical";
        default:
            return "info";
    }
}

int tm_severity_parse(const char *s, enum tm_severity *out) {
    for (int i = TM_SEV_INFO; i <= TM_SEV_CRITICAL; i++) {
        if (tm_str_ieq(s, tm_severity_str((enum tm_severity)i))) {
            *out = (enum tm_severity)i;
            return TM_OK;
        }
    }
    return TM_ERR_INVALID;
}

const char *tm_finding_status_str(enum tm_finding_status st) {
    switch (st) {
        case TM_STATUS_NEW:
            return "new";
        case TM_STATUS_RECOGNISED:
            return "recognised";
        case TM_STATUS_SUPPRESSED:
            return "suppressed";
        default:
            return "new";
    }
}

void tm_findings_init(struct tm_findings *list) {
    memset(list, 0, sizeof(*list));
}

static void s_free_strv(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void s_finding_free(struct tm_finding *f) {
    if (!f)
        return;
    free(f->rule);
    free(f->category);
    free(f->resource);
    free(f->entry);
    free(f->title);
    free(f->explanation);
    free(f->fix);
    s_free_strv(f->stride, f->n_stride);
    s_free_strv(f->attack, f->n_attack);
    for (size_t i = 0; i < f->path_len; i++)
        free(f->path[i].storage);
    free(f->path);
    free(f->step_index);
    free(f->recognised_owner);
    free(f->recognised_reason);
    free(f->recognised_expires);
    free(f->list_all);
    free(f);
}

void tm_findings_clean_up(struct tm_findings *list) {
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        s_finding_free(list->items[i]);
    free(list->items);
    memset(list, 0, sizeof(*list));
}

int tm_findings_add(struct tm_findings *list, struct tm_finding **out) {
    *out = NULL;
    if (list->count == list->alloc) {
        size_t n = list->alloc ? list->alloc * 2 : 16;
        struct tm_finding **items = realloc(list->items, n * sizeof(*items));
        if (!items)
            return TM_ERR_NOMEM;
        list->items = items;
        list->alloc = n;
    }
    struct tm_finding *f = calloc(1, sizeof(*f));
    if (!f)
        return TM_ERR_NOMEM;
    list->items[list->count++] = f;
    *out = f;
    return TM_OK;
}

/* Replaces *dst with a copy of src (NULL allowed). */
static int s_set(char **dst, const char *src) {
    char *copy = NULL;
    if (src && !(copy = strdup(src)))
        return TM_ERR_NOMEM;
    free(*dst);
    *dst = copy;
    return TM_OK;
}

int tm_finding_set(struct tm_finding *f, const char *rule, const char *category, enum tm_severity sev,
                   const char *resource, const char *entry) {
    f->severity = sev;
    int rc = s_set(&f->rule, rule);
    if (!rc)
        rc = s_set(&f->category, category);
    if (!rc)
        rc = s_set(&f->resource, resource);
    if (!rc)
        rc = s_set(&f->entry, entry);
    return rc;
}

int tm_finding_set_text(struct tm_finding *f, const char *title, const char *explanation, const char *fix) {
    int rc = s_set(&f->title, title);
    if (!rc)
        rc = s_set(&f->explanation, explanation);
    if (!rc)
        rc = s_set(&f->fix, fix);
    return rc;
}

static int s_push(char ***v, size_t *n, const char *s) {
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], s) == 0)
            return TM_OK;
    char **nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return TM_ERR_NOMEM;
    *v = nv;
    if (!(nv[*n] = strdup(s)))
        return TM_ERR_NOMEM;
    (*n)++;
    return TM_OK;
}

int tm_finding_add_stride(struct tm_finding *f, const char *category) {
    return s_push(&f->stride, &f->n_stride, category);
}

int tm_finding_add_attack(struct tm_finding *f, const char *technique) {
    return s_push(&f->attack, &f->n_attack, technique);
}

/* Paths up to this long are searched step by step; longer ones through the index. */
#define S_STEP_SCAN_MAX 16

static uint64_t s_step_hash(const char *from, const char *to, const char *kind) {
    return tm_hash_words(tm_hash_words(tm_hash_words(0x243f6a8885a308d3ULL, from), to), kind);
}

static int s_strcmp0(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "");
}

static bool s_step_is(const struct tm_path_step *s, const char *from, const char *to, const char *kind) {
    return s_strcmp0(s->from, from) == 0 && s_strcmp0(s->to, to) == 0 && s_strcmp0(s->kind, kind) == 0;
}

static void s_index_put(uint32_t *index, size_t cap, const struct tm_path_step *s, size_t pos) {
    size_t mask = cap - 1;
    for (size_t i = (size_t)s_step_hash(s->from, s->to, s->kind) & mask;; i = (i + 1) & mask) {
        if (!index[i]) {
            index[i] = (uint32_t)pos + 1;
            return;
        }
    }
}

/* Keeps the index at a load factor under one half; built when the path outgrows a plain scan. */
static int s_index_step(struct tm_finding *f) {
    if (f->path_len <= S_STEP_SCAN_MAX)
        return TM_OK;
    if (f->path_len >= UINT32_MAX / 2)
        return TM_ERR_TOO_BIG;
    if (f->path_len * 2 > f->step_index_cap) {
        size_t cap = f->step_index_cap ? f->step_index_cap * 2 : 64;
        while (cap < f->path_len * 2)
            cap *= 2;
        uint32_t *index = calloc(cap, sizeof(*index));
        if (!index)
            return TM_ERR_NOMEM;
        for (size_t i = 0; i < f->path_len; i++)
            s_index_put(index, cap, &f->path[i], i);
        free(f->step_index);
        f->step_index = index;
        f->step_index_cap = cap;
        return TM_OK;
    }
    s_index_put(f->step_index, f->step_index_cap, &f->path[f->path_len - 1], f->path_len - 1);
    return TM_OK;
}

bool tm_finding_has_step(const struct tm_finding *f, const char *from, const char *to, const char *kind) {
    if (!f->step_index) {
        for (size_t i = 0; i < f->path_len; i++)
            if (s_step_is(&f->path[i], from, to, kind))
                return true;
        return false;
    }
    size_t mask = f->step_index_cap - 1;
    for (size_t i = (size_t)s_step_hash(from, to, kind) & mask; f->step_index[i]; i = (i + 1) & mask)
        if (s_step_is(&f->path[f->step_index[i] - 1], from, to, kind))
            return true;
    return false;
}

/* Copies src to *at and advances it (src NULL: *dst stays NULL). */
static void s_put(char **dst, char **at, const char *src, size_t len) {
    if (!src)
        return;
    memcpy(*at, src, len + 1);
    *dst = *at;
    *at += len + 1;
}

int tm_finding_add_step(struct tm_finding *f, const char *from, const char *to, const char *kind,
                        const char *const *actions, size_t n_actions, const char *evidence, bool unknown) {
    if (f->path_len == f->path_alloc) {
        size_t n = f->path_alloc ? f->path_alloc * 2 : 4;
        struct tm_path_step *p = realloc(f->path, n * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        f->path = p;
        f->path_alloc = n;
    }
    /* One allocation per step: the actions array first (aligned), then every string. Long paths hold
     * hundreds of thousands of steps. */
    size_t lf = from ? strlen(from) : 0, lt = to ? strlen(to) : 0, lk = kind ? strlen(kind) : 0;
    size_t le = evidence ? strlen(evidence) : 0;
    if (n_actions > ((size_t)-1) / 2 / sizeof(char *))
        return TM_ERR_TOO_BIG;
    size_t size = n_actions * sizeof(char *) + lf + lt + lk + le + 4;
    for (size_t i = 0; i < n_actions; i++)
        size += strlen(actions[i]) + 1;
    char *mem = malloc(size);
    if (!mem)
        return TM_ERR_NOMEM;
    struct tm_path_step *s = &f->path[f->path_len];
    memset(s, 0, sizeof(*s));
    s->storage = mem;
    s->unknown = unknown;
    char *at = mem + n_actions * sizeof(char *);
    s_put(&s->from, &at, from, lf);
    s_put(&s->to, &at, to, lt);
    s_put(&s->kind, &at, kind, lk);
    s_put(&s->evidence, &at, evidence, le);
    if (n_actions) {
        s->actions = (char **)(void *)mem;
        for (size_t i = 0; i < n_actions; i++)
            s_put(&s->actions[i], &at, actions[i], strlen(actions[i]));
        s->n_actions = n_actions;
    }
    f->path_len++;
    return s_index_step(f);
}

int tm_finding_set_reach(struct tm_finding *f, size_t reaches, size_t listed, const char *list_all) {
    f->reaches = reaches;
    f->reaches_listed = listed;
    return s_set(&f->list_all, list_all);
}

/* Bytes for the digest, handed over a block at a time: a path of thousands of steps is four updates per step,
 * and each update costs more than hashing its few bytes. */
struct s_digest {
    EVP_MD_CTX *ctx;
    size_t len;
    bool failed;
    unsigned char buf[8192];
};

static void s_digest_flush(struct s_digest *d) {
    if (d->len && !d->failed && EVP_DigestUpdate(d->ctx, d->buf, d->len) != 1)
        d->failed = true;
    d->len = 0;
}

/* Appends s and the separator (a byte that cannot occur in the fields, so ("ab","c") and ("a","bc") differ). */
static void s_digest_field(struct s_digest *d, const char *s) {
    size_t n = strlen(s);
    if (n + 1 > sizeof(d->buf) - d->len) {
        s_digest_flush(d);
        if (n + 1 > sizeof(d->buf)) {
            if (!d->failed && EVP_DigestUpdate(d->ctx, s, n) != 1)
                d->failed = true;
            n = 0;
            s = "";
        }
    }
    memcpy(d->buf + d->len, s, n);
    d->buf[d->len + n] = 0x1f;
    d->len += n + 1;
}

/* The id: a digest of rule, resource, entry and each step's ends, in order. */
static int s_compute_id(struct tm_finding *f, const struct tm_path_step *path, const char *const *ends, size_t n) {
    struct s_digest *d = malloc(sizeof(*d));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    int rc = TM_ERR_NOMEM;
    if (!d)
        return rc;
    d->len = 0;
    d->failed = false;
    if (!(d->ctx = EVP_MD_CTX_new()))
        goto out;
    if (EVP_DigestInit_ex(d->ctx, EVP_sha256(), NULL) != 1)
        goto out;
    s_digest_field(d, f->rule ? f->rule : "");
    s_digest_field(d, f->resource ? f->resource : "");
    s_digest_field(d, f->entry ? f->entry : "");
    for (size_t i = 0; i < n; i++) {
        s_digest_field(d, path ? path[i].from : ends[3 * i]);
        s_digest_field(d, path ? path[i].to : ends[3 * i + 1]);
    }
    s_digest_flush(d);
    if (d->failed || EVP_DigestFinal_ex(d->ctx, md, &md_len) != 1)
        goto out;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        f->id[2 * i] = hex[md[i] >> 4];
        f->id[2 * i + 1] = hex[md[i] & 15];
    }
    f->id[16] = '\0';
    rc = TM_OK;
out:
    EVP_MD_CTX_free(d->ctx);
    free(d);
    return rc;
}

int tm_finding_compute_id(struct tm_finding *f) {
    return s_compute_id(f, f->path, NULL, f->path_len);
}

int tm_finding_compute_id_of(struct tm_finding *f, const struct tm_path_ident *p) {
    return s_compute_id(f, NULL, p->ends, p->n);
}

void tm_path_ident_init(struct tm_path_ident *p) {
    memset(p, 0, sizeof(*p));
}

void tm_path_ident_clean_up(struct tm_path_ident *p) {
    if (!p)
        return;
    free(p->ends);
    free(p->hashes);
    free(p->index);
    memset(p, 0, sizeof(*p));
}

void tm_path_ident_reset(struct tm_path_ident *p) {
    if (p->index_cap)
        memset(p->index, 0, p->index_cap * sizeof(*p->index));
    p->n = 0;
}

static bool s_ident_is(const struct tm_path_ident *p, size_t i, const char *from, const char *to, const char *kind) {
    return s_strcmp0(p->ends[3 * i], from) == 0 && s_strcmp0(p->ends[3 * i + 1], to) == 0 &&
           s_strcmp0(p->ends[3 * i + 2], kind) == 0;
}

static void s_ident_put(uint32_t *index, size_t cap, uint64_t hash, size_t pos) {
    size_t mask = cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        if (!index[i]) {
            index[i] = (uint32_t)pos + 1;
            return;
        }
    }
}

int tm_path_ident_add(struct tm_path_ident *p, const char *from, const char *to, const char *kind) {
    uint64_t hash = s_step_hash(from, to, kind);
    if (p->index_cap) {
        size_t mask = p->index_cap - 1;
        for (size_t i = (size_t)hash & mask; p->index[i]; i = (i + 1) & mask)
            if (p->hashes[p->index[i] - 1] == hash && s_ident_is(p, p->index[i] - 1, from, to, kind))
                return TM_OK;
    }
    if (p->n >= UINT32_MAX / 2)
        return TM_ERR_TOO_BIG;
    if (p->n == p->alloc) {
        size_t n = p->alloc ? p->alloc * 2 : 64;
        const char **ends = realloc(p->ends, 3 * n * sizeof(*ends));
        if (!ends)
            return TM_ERR_NOMEM;
        p->ends = ends;
        uint64_t *hashes = realloc(p->hashes, n * sizeof(*hashes));
        if (!hashes)
            return TM_ERR_NOMEM;
        p->hashes = hashes;
        p->alloc = n;
    }
    const char **e = &p->ends[3 * p->n];
    e[0] = from;
    e[1] = to;
    e[2] = kind;
    p->hashes[p->n] = hash;
    p->n++;
    /* The index stays under half full. */
    if (p->n * 2 > p->index_cap) {
        size_t cap = p->index_cap ? p->index_cap * 2 : 128;
        uint32_t *index = calloc(cap, sizeof(*index));
        if (!index)
            return TM_ERR_NOMEM;
        for (size_t i = 0; i < p->n; i++)
            s_ident_put(index, cap, p->hashes[i], i);
        free(p->index);
        p->index = index;
        p->index_cap = cap;
        return TM_OK;
    }
    s_ident_put(p->index, p->index_cap, hash, p->n - 1);
    return TM_OK;
}

static int s_cmp(const void *pa, const void *pb) {
    const struct tm_finding *a = *(struct tm_finding *const *)pa, *b = *(struct tm_finding *const *)pb;
    if (a->status != b->status)
        return (int)a->status - (int)b->status;
    if (a->severity != b->severity)
        return (int)b->severity - (int)a->severity;
    int c = s_strcmp0(a->rule, b->rule);
    if (!c)
        c = s_strcmp0(a->resource, b->resource);
    if (!c)
        c = strcmp(a->id, b->id);
    return c;
}

void tm_findings_sort(struct tm_findings *list) {
    /* The list is sorted twice (after the analyzers, again once recognised findings are marked) and often comes
     * back in order: one look at each neighbour instead of a sort. Equal neighbours keep their order, as the merge
     * sort behind glibc's qsort keeps them. */
    bool sorted = true;
    for (size_t i = 1; i < list->count && sorted; i++)
        sorted = s_cmp(&list->items[i - 1], &list->items[i]) <= 0;
    if (!sorted)
        qsort(list->items, list->count, sizeof(*list->items), s_cmp);
    /* Drop duplicates by id, keeping the first in sorted order. */
    size_t w = 0;
    for (size_t r = 0; r < list->count; r++) {
        /* Equal ids mean equal rule and resource, so after sorting duplicates are neighbours. */
        bool dup = w > 0 && list->items[r]->id[0] && strcmp(list->items[w - 1]->id, list->items[r]->id) == 0;
        if (dup)
            s_finding_free(list->items[r]);
        else
            list->items[w++] = list->items[r];
    }
    list->count = w;
}

static cJSON *s_strv(char *const *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static bool s_add_str(cJSON *o, const char *k, const char *v) {
    return v ? cJSON_AddStringToObject(o, k, v) != NULL : cJSON_AddNullToObject(o, k) != NULL;
}

cJSON *tm_finding_to_json(const struct tm_finding *f) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = s_add_str(o, "id", f->id) && s_add_str(o, "rule", f->rule) && s_add_str(o, "category", f->category) &&
              s_add_str(o, "severity", tm_severity_str(f->severity)) &&
              s_add_str(o, "status", tm_finding_status_str(f->status)) && s_add_str(o, "resource", f->resource) &&
              s_add_str(o, "entry", f->entry) && s_add_str(o, "title", f->title) &&
              s_add_str(o, "explanation", f->explanation) && s_add_str(o, "fix", f->fix);
    cJSON *stride = ok ? s_strv(f->stride, f->n_stride) : NULL;
    ok = ok && stride && cJSON_AddItemToObject(o, "stride", stride);
    cJSON *attack = ok ? s_strv(f->attack, f->n_attack) : NULL;
    ok = ok && attack && cJSON_AddItemToObject(o, "attack", attack);
    cJSON *path = ok ? cJSON_AddArrayToObject(o, "path") : NULL;
    ok = ok && path;
    for (size_t i = 0; ok && i < f->path_len; i++) {
        const struct tm_path_step *s = &f->path[i];
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(path, e);
        if (!ok) {
            cJSON_Delete(e);
            break;
        }
        cJSON *acts = s_strv(s->actions, s->n_actions);
        if (!acts || !cJSON_AddItemToObject(e, "actions", acts)) {
            cJSON_Delete(acts);
            ok = false;
            break;
        }
        ok = s_add_str(e, "from", s->from) && s_add_str(e, "to", s->to) && s_add_str(e, "kind", s->kind) &&
             s_add_str(e, "evidence", s->evidence) && (!s->unknown || cJSON_AddTrueToObject(e, "unknown"));
    }
    if (ok && f->reaches)
        ok = cJSON_AddNumberToObject(o, "reaches", (double)f->reaches) &&
             cJSON_AddNumberToObject(o, "reaches_listed", (double)f->reaches_listed);
    if (ok && f->list_all)
        ok = s_add_str(o, "list_all", f->list_all);
    if (ok && f->status == TM_STATUS_RECOGNISED) {
        cJSON *r = cJSON_AddObjectToObject(o, "recognised");
        ok = r && s_add_str(r, "owner", f->recognised_owner) && s_add_str(r, "reason", f->recognised_reason) &&
             s_add_str(r, "expires", f->recognised_expires);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- the same object written straight into a buffer ---- */

struct s_writer {
    struct tm_buf *b;
    int depth; /* of the members being written */
    bool first;
    int rc;
};

static void s_w_raw(struct s_writer *w, const char *s, size_t n) {
    struct tm_buf *b = w->b;
    if (w->rc)
        return;
    if (b->data && b->alloc - b->len > n) {
        /* Room already (the common case): no call. */
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    w->rc = tm_buf_append(b, s, n);
}

static void s_w_indent(struct s_writer *w, int depth) {
    static const char spaces[] = "\n                                ";
    size_t want = 2 * (size_t)depth;
    if (want < sizeof(spaces) - 1) {
        s_w_raw(w, spaces, want + 1);
        return;
    }
    s_w_raw(w, "\n", 1);
    for (size_t i = 0; i < want; i++)
        s_w_raw(w, " ", 1);
}

/* A member's separator, indentation and key. */
static void s_w_key(struct s_writer *w, const char *key) {
    if (!w->first)
        s_w_raw(w, ",", 1);
    w->first = false;
    s_w_indent(w, w->depth);
    if (!w->rc)
        w->rc = tm_json_append_string(w->b, key);
    s_w_raw(w, ": ", 2);
}

static void s_w_str(struct s_writer *w, const char *key, const char *v) {
    s_w_key(w, key);
    if (!v)
        s_w_raw(w, "null", 4);
    else if (!w->rc)
        w->rc = tm_json_append_string(w->b, v);
}

static void s_w_strv(struct s_writer *w, const char *key, char *const *v, size_t n) {
    s_w_key(w, key);
    if (!n) {
        s_w_raw(w, "[]", 2);
        return;
    }
    s_w_raw(w, "[", 1);
    for (size_t i = 0; i < n; i++) {
        s_w_indent(w, w->depth + 1);
        if (!w->rc)
            w->rc = tm_json_append_string(w->b, v[i]);
        if (i + 1 < n)
            s_w_raw(w, ",", 1);
    }
    s_w_indent(w, w->depth);
    s_w_raw(w, "]", 1);
}

/* Opens an object as a member value (or, with key NULL, as a bare value): its members go one level deeper. */
static void s_w_open(struct s_writer *w, const char *key) {
    if (key)
        s_w_key(w, key);
    s_w_raw(w, "{", 1);
    w->depth++;
    w->first = true;
}

static void s_w_close(struct s_writer *w) {
    w->depth--;
    s_w_indent(w, w->depth);
    s_w_raw(w, "}", 1);
    w->first = false;
}

int tm_finding_append_json(struct tm_buf *b, const struct tm_finding *f, int depth) {
    /* Members in byte order of their keys, as tm_json_print_canonical orders tm_finding_to_json's. */
    struct s_writer w = {.b = b, .depth = depth};
    s_w_open(&w, NULL);
    s_w_strv(&w, "attack", f->attack, f->n_attack);
    s_w_str(&w, "category", f->category);
    s_w_str(&w, "entry", f->entry);
    s_w_str(&w, "explanation", f->explanation);
    s_w_str(&w, "fix", f->fix);
    s_w_str(&w, "id", f->id);
    if (f->list_all)
        s_w_str(&w, "list_all", f->list_all);
    s_w_key(&w, "path");
    if (!f->path_len) {
        s_w_raw(&w, "[]", 2);
    } else {
        s_w_raw(&w, "[", 1);
        for (size_t i = 0; i < f->path_len; i++) {
            const struct tm_path_step *s = &f->path[i];
            s_w_indent(&w, w.depth + 1);
            w.depth++;
            s_w_open(&w, NULL);
            s_w_strv(&w, "actions", s->actions, s->n_actions);
            s_w_str(&w, "evidence", s->evidence);
            s_w_str(&w, "from", s->from);
            s_w_str(&w, "kind", s->kind);
            s_w_str(&w, "to", s->to);
            if (s->unknown) {
                s_w_key(&w, "unknown");
                s_w_raw(&w, "true", 4);
            }
            s_w_close(&w);
            w.depth--;
            if (i + 1 < f->path_len)
                s_w_raw(&w, ",", 1);
        }
        s_w_indent(&w, w.depth);
        s_w_raw(&w, "]", 1);
    }
    w.first = false;
    if (f->reaches) {
        char num[32];
        int len = snprintf(num, sizeof(num), "%zu", f->reaches);
        s_w_key(&w, "reaches");
        s_w_raw(&w, num, (size_t)len);
        len = snprintf(num, sizeof(num), "%zu", f->reaches_listed);
        s_w_key(&w, "reaches_listed");
        s_w_raw(&w, num, (size_t)len);
    }
    if (f->status == TM_STATUS_RECOGNISED) {
        s_w_open(&w, "recognised");
        s_w_str(&w, "expires", f->recognised_expires);
        s_w_str(&w, "owner", f->recognised_owner);
        s_w_str(&w, "reason", f->recognised_reason);
        s_w_close(&w);
    }
    s_w_str(&w, "resource", f->resource);
    s_w_str(&w, "rule", f->rule);
    s_w_str(&w, "severity", tm_severity_str(f->severity));
    s_w_str(&w, "status", tm_finding_status_str(f->status));
    s_w_strv(&w, "stride", f->stride, f->n_stride);
    s_w_str(&w, "title", f->title);
    s_w_close(&w);
    return w.rc;
}
