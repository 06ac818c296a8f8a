/* Choosing the response for a request (fixtures/README.md, "Choosing a response"): every match line
 * present must hold; the most match lines win; ties go to the path that sorts first. An index on
 * service, operation and path keeps that linear scan short for large generated scenarios. */
#include "cmd/mockcloud/mock_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/str.h"

/* ---- reading the request ---- */

static int s_param_push(struct tm__mock_request *req, const char *name, size_t nlen, const char *value, size_t vlen,
                        bool plus_is_space) {
    struct tm_buf n, v;
    tm_buf_init(&n, 0);
    tm_buf_init(&v, 0);
    int rc = TM_OK;
    /* A malformed escape is kept as sent: it then simply matches nothing decoded. */
    if (tm_uri_decode(&n, name, nlen, plus_is_space)) {
        tm_buf_reset(&n);
        if ((rc = tm_buf_append(&n, name, nlen)))
            goto out;
    }
    if (tm_uri_decode(&v, value, vlen, plus_is_space)) {
        tm_buf_reset(&v);
        if ((rc = tm_buf_append(&v, value, vlen)))
            goto out;
    }
    struct tm__mock_param *p = realloc(req->params, (req->n_params + 1) * sizeof(*p));
    if (!p) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    req->params = p;
    p = &req->params[req->n_params];
    memset(p, 0, sizeof(*p));
    p->name = tm_buf_detach(&n);
    p->value = tm_buf_detach(&v);
    if (!p->name || !p->value) {
        free(p->name);
        free(p->value);
        rc = TM_ERR_NOMEM;
        goto out;
    }
    req->n_params++;
out:
    tm_buf_clean_up(&n);
    tm_buf_clean_up(&v);
    return rc;
}

/* name=value&name&... ; an empty name is skipped. */
static int s_parse_urlencoded(struct tm__mock_request *req, const char *s, size_t len, bool plus_is_space) {
    size_t pos = 0;
    while (pos < len) {
        const char *amp = memchr(s + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + pos, '=', end - pos);
        size_t nend = eq ? (size_t)(eq - s) : end;
        if (nend > pos) {
            size_t vstart = eq ? nend + 1 : end;
            int rc = s_param_push(req, s + pos, nend - pos, s + vstart, end - vstart, plus_is_space);
            if (rc)
                return rc;
        }
        pos = end + 1;
    }
    return TM_OK;
}

static int s_param_add_raw(struct tm__mock_request *req, const char *name, const char *value, bool is_number,
                           double number) {
    struct tm__mock_param *p = realloc(req->params, (req->n_params + 1) * sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    req->params = p;
    p = &req->params[req->n_params];
    p->name = tm_strdup(name);
    p->value = tm_strdup(value);
    p->is_number = is_number;
    p->number = number;
    if (!p->name || !p->value) {
        free(p->name);
        free(p->value);
        return TM_ERR_NOMEM;
    }
    req->n_params++;
    return TM_OK;
}

/* Top-level string and number fields of a JSON object body; anything else contributes nothing. */
static int s_parse_json_body(struct tm__mock_request *req, const char *body, size_t len) {
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root)
        return TM_OK;
    int rc = TM_OK;
    const cJSON *it;
    if (cJSON_IsObject(root)) {
        cJSON_ArrayForEach(it, root) {
            if (cJSON_IsString(it)) {
                rc = s_param_add_raw(req, it->string, it->valuestring, false, 0);
            } else if (cJSON_IsNumber(it)) {
                char num[64];
                snprintf(num, sizeof(num), "%.17g", it->valuedouble);
                rc = s_param_add_raw(req, it->string, num, true, it->valuedouble);
            }
            if (rc)
                break;
        }
    }
    cJSON_Delete(root);
    return rc;
}

static const char *s_param(const struct tm__mock_request *req, const char *name) {
    for (size_t i = 0; i < req->n_params; i++)
        if (strcmp(req->params[i].name, name) == 0)
            return req->params[i].value;
    return NULL;
}

/* AKID/YYYYMMDD/region/service/aws4_request */
static int s_parse_credential(struct tm__mock_request *req, const char *cred, size_t len) {
    const char *parts[5];
    size_t lens[5];
    size_t n = 0, pos = 0;
    while (n < 5) {
        const char *slash = memchr(cred + pos, '/', len - pos);
        size_t end = slash ? (size_t)(slash - cred) : len;
        parts[n] = cred + pos;
        lens[n] = end - pos;
        n++;
        if (!slash)
            break;
        pos = end + 1;
    }
    if (n != 5 || pos > len || memchr(cred + pos, '/', len - pos) || lens[4] != 12 ||
        memcmp(parts[4], "aws4_request", 12) != 0 || lens[0] == 0 || lens[1] != 8 || lens[2] == 0 || lens[3] == 0) {
        req->auth_error = "Credential should be scoped to a valid region, not a malformed credential scope. Credential "
                          "should be of the form AKID/YYYYMMDD/REGION/SERVICE/aws4_request.";
        return TM_OK;
    }
    req->access_key = tm_strndup(parts[0], lens[0]);
    req->date = tm_strndup(parts[1], lens[1]);
    req->region = tm_strndup(parts[2], lens[2]);
    req->service = tm_strndup(parts[3], lens[3]);
    if (!req->access_key || !req->date || !req->region || !req->service)
        return TM_ERR_NOMEM;
    return TM_OK;
}

int tm__mock_request_init(struct tm__mock_request *req, const struct tm__mock_http_request *http) {
    memset(req, 0, sizeof(*req));
    req->http = http;
    int rc = s_parse_urlencoded(req, http->query, strlen(http->query), false);
    if (rc)
        return rc;
    size_t n_query = req->n_params;
    const char *ctype = tm__mock_http_header(http, "Content-Type");
    if (ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0)
        rc = s_parse_urlencoded(req, http->body.data ? http->body.data : "", http->body.len, true);
    else if (ctype && (strncasecmp(ctype, "application/x-amz-json-", 23) == 0 ||
                       strncasecmp(ctype, "application/json", 16) == 0))
        rc = s_parse_json_body(req, http->body.data ? http->body.data : "", http->body.len);
    if (rc)
        return rc;

    /* Only AWS schemes make a request signed: the ECS credential endpoint's token and OAuth bearer
     * tokens also travel in Authorization. */
    const char *authz = tm__mock_http_header(http, "Authorization");
    if (authz && (strncmp(authz, "AWS4-", 5) == 0 || strncmp(authz, "AWS ", 4) == 0)) {
        req->signed_request = true;
        if (strncmp(authz, "AWS4-HMAC-SHA256 ", 17) != 0) {
            req->auth_error = "Authorization header requires AWS4-HMAC-SHA256 (Signature Version 4).";
        } else {
            const char *c = strstr(authz, "Credential=");
            if (!c) {
                req->auth_error = "Authorization header requires 'Credential' parameter.";
            } else {
                c += 11;
                size_t clen = strcspn(c, ", ");
                if ((rc = s_parse_credential(req, c, clen)))
                    return rc;
                if (!req->auth_error && !strstr(authz, "Signature="))
                    req->auth_error = "Authorization header requires 'Signature' parameter.";
                else if (!req->auth_error && !strstr(authz, "SignedHeaders="))
                    req->auth_error = "Authorization header requires 'SignedHeaders' parameter.";
            }
        }
    } else {
        /* Presigned: only the query string counts, never the form body. */
        const char *cred = NULL;
        bool any = false;
        for (size_t i = 0; i < n_query; i++) {
            if (strcmp(req->params[i].name, "X-Amz-Credential") == 0)
                cred = req->params[i].value;
            if (strncmp(req->params[i].name, "X-Amz-", 6) == 0 && (strcmp(req->params[i].name + 6, "Algorithm") == 0 ||
                                                                   strcmp(req->params[i].name + 6, "Signature") == 0 ||
                                                                   strcmp(req->params[i].name + 6, "Credential") == 0))
                any = true;
        }
        if (!any && s_param(req, "AWSAccessKeyId") && s_param(req, "Signature")) {
            req->signed_request = true;
            req->auth_error = "Signature Version 2 is not supported: sign requests with AWS4-HMAC-SHA256.";
        } else if (any) {
            req->signed_request = true;
            req->presigned = true;
            if (!cred)
                req->auth_error = "AWS query-string parameters must include 'X-Amz-Credential'.";
            else if ((rc = s_parse_credential(req, cred, strlen(cred))))
                return rc;
        }
    }

    const char *target = tm__mock_http_header(http, "X-Amz-Target");
    const char *action = s_param(req, "Action");
    if (target) {
        const char *dot = strrchr(target, '.');
        req->operation = tm_strdup(dot ? dot + 1 : target);
        req->op_source = TM__MOCK_OP_TARGET;
    } else if (action) {
        req->operation = tm_strdup(action);
        req->op_source = TM__MOCK_OP_ACTION;
    }
    if (req->op_source != TM__MOCK_OP_NONE && !req->operation)
        return TM_ERR_NOMEM;
    return TM_OK;
}

void tm__mock_request_clean_up(struct tm__mock_request *req) {
    if (!req)
        return;
    for (size_t i = 0; i < req->n_params; i++) {
        free(req->params[i].name);
        free(req->params[i].value);
    }
    free(req->params);
    free(req->access_key);
    free(req->date);
    free(req->region);
    free(req->service);
    free(req->operation);
    memset(req, 0, sizeof(*req));
}

/* ---- matching ---- */

static bool s_param_holds(const struct tm__mock_kv *want, const struct tm__mock_request *req) {
    for (size_t i = 0; i < req->n_params; i++) {
        const struct tm__mock_param *p = &req->params[i];
        if (strcmp(p->name, want->name) != 0)
            continue;
        if (!want->value)
            return true;
        if (strcmp(p->value, want->value) == 0)
            return true;
        if (p->is_number && *want->value) {
            char *end;
            double d = strtod(want->value, &end);
            if (*end == '\0' && d == p->number)
                return true;
        }
    }
    return false;
}

static bool s_header_holds(const struct tm__mock_kv *want, const struct tm__mock_http_request *http) {
    for (size_t i = 0; i < http->n_headers; i++) {
        if (!tm_str_ieq(http->headers[i].name, want->name))
            continue;
        if (!want->value || strcmp(http->headers[i].value, want->value) == 0)
            return true;
    }
    return false;
}

bool tm__mock_fixture_matches(const struct tm__mock_fixture *f, const struct tm__mock_request *req) {
    if (!req->signed_request && !f->auth_none)
        return false;
    /* Unsigned requests carry no credential scope: service and region then only name the answer. */
    if (req->signed_request) {
        if (f->service && (!req->service || strcmp(f->service, req->service) != 0))
            return false;
        if (f->region && (!req->region || strcmp(f->region, req->region) != 0))
            return false;
    }
    if (f->access_key && (!req->access_key || strcmp(f->access_key, req->access_key) != 0))
        return false;
    /* Query and JSON requests name their operation; REST ones are told apart by method and path. */
    if (f->operation && (req->operation ? strcmp(f->operation, req->operation) != 0 : f->op_in_request))
        return false;
    if (f->method && strcmp(f->method, req->http->method) != 0)
        return false;
    if (f->path && strcmp(f->path, req->http->path) != 0)
        return false;
    for (size_t i = 0; i < f->n_params; i++)
        if (!s_param_holds(&f->params[i], req))
            return false;
    for (size_t i = 0; i < f->n_headers; i++)
        if (!s_header_holds(&f->headers[i], req->http))
            return false;
    return true;
}

/* A string -> list-of-fixture-indices hash table (chained), one per indexed field. */
struct s_bucket {
    char *key;
    uint32_t *idx;
    size_t n, cap;
    struct s_bucket *next;
};

struct s_table {
    struct s_bucket **slots;
    size_t n_slots;
    struct s_bucket absent; /* fixtures without this match line: they are candidates for every key */
};

struct tm__mock_index {
    struct s_table service, operation, path;
};

static uint64_t s_hash(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int s_bucket_add(struct s_bucket *b, uint32_t i) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4;
        uint32_t *p = realloc(b->idx, cap * sizeof(*p));
        if (!p)
            return TM_ERR_NOMEM;
        b->idx = p;
        b->cap = cap;
    }
    b->idx[b->n++] = i;
    return TM_OK;
}

static const struct s_bucket *s_table_get(const struct s_table *t, const char *key) {
    for (const struct s_bucket *b = t->slots[s_hash(key) % t->n_slots]; b; b = b->next)
        if (strcmp(b->key, key) == 0)
            return b;
    return NULL;
}

static int s_table_add(struct s_table *t, const char *key, uint32_t i) {
    if (!key)
        return s_bucket_add(&t->absent, i);
    struct s_bucket **slot = &t->slots[s_hash(key) % t->n_slots];
    for (struct s_bucket *b = *slot; b; b = b->next)
        if (strcmp(b->key, key) == 0)
            return s_bucket_add(b, i);
    struct s_bucket *b = calloc(1, sizeof(*b));
    if (!b || !(b->key = tm_strdup(key))) {
        free(b);
        return TM_ERR_NOMEM;
    }
    b->next = *slot;
    *slot = b;
    return s_bucket_add(b, i);
}

static void s_table_clean_up(struct s_table *t) {
    for (size_t s = 0; t->slots && s < t->n_slots; s++) {
        struct s_bucket *b = t->slots[s];
        while (b) {
            struct s_bucket *next = b->next;
            free(b->key);
            free(b->idx);
            free(b);
            b = next;
        }
    }
    free(t->slots);
    free(t->absent.idx);
}

void tm__mock_index_destroy(struct tm__mock_index *index) {
    if (!index)
        return;
    s_table_clean_up(&index->service);
    s_table_clean_up(&index->operation);
    s_table_clean_up(&index->path);
    free(index);
}

int tm__mock_index_build(struct tm__mock_fixture_set *set) {
    if (set->n_fixtures > UINT32_MAX)
        return TM_ERR_TOO_BIG;
    struct tm__mock_index *ix = calloc(1, sizeof(*ix));
    if (!ix)
        return TM_ERR_NOMEM;
    size_t n_slots = set->n_fixtures / 2 + 17;
    struct s_table *tables[3] = {&ix->service, &ix->operation, &ix->path};
    for (int t = 0; t < 3; t++) {
        tables[t]->n_slots = n_slots;
        tables[t]->slots = calloc(n_slots, sizeof(struct s_bucket *));
        if (!tables[t]->slots)
            goto nomem;
    }
    for (size_t i = 0; i < set->n_fixtures; i++) {
        const struct tm__mock_fixture *f = &set->fixtures[i];
        if (s_table_add(&ix->service, f->service, (uint32_t)i) ||
            s_table_add(&ix->operation, f->operation, (uint32_t)i) || s_table_add(&ix->path, f->path, (uint32_t)i))
            goto nomem;
    }
    tm__mock_index_destroy(set->index);
    set->index = ix;
    return TM_OK;
nomem:
    tm__mock_index_destroy(ix);
    return TM_ERR_NOMEM;
}

static void s_consider(const struct tm__mock_fixture_set *set, const struct tm__mock_request *req,
                       const struct s_bucket *b, long *best) {
    if (!b)
        return;
    for (size_t k = 0; k < b->n; k++) {
        uint32_t i = b->idx[k];
        const struct tm__mock_fixture *f = &set->fixtures[i];
        if (*best >= 0) {
            const struct tm__mock_fixture *cur = &set->fixtures[*best];
            if (f->n_match < cur->n_match || (f->n_match == cur->n_match && (long)i > *best))
                continue;
        }
        if (tm__mock_fixture_matches(f, req))
            *best = (long)i;
    }
}

const struct tm__mock_fixture *tm__mock_match(const struct tm__mock_fixture_set *set,
                                              const struct tm__mock_request *req) {
    const struct tm__mock_index *ix = set->index;
    long best = -1;
    if (!ix) {
        for (size_t i = 0; i < set->n_fixtures; i++) {
            const struct tm__mock_fixture *f = &set->fixtures[i];
            if ((best < 0 || f->n_match > set->fixtures[best].n_match) && tm__mock_fixture_matches(f, req))
                best = (long)i;
        }
        return best < 0 ? NULL : &set->fixtures[best];
    }
    /* Candidates come from the smallest applicable pair of (fixtures with that key, fixtures without
     * the line): every match is in each such pair, so any one of them is complete. */
    const struct s_bucket *pick = s_table_get(&ix->path, req->http->path);
    const struct s_bucket *pick_absent = &ix->path.absent;
    size_t best_size = (pick ? pick->n : 0) + pick_absent->n;
    if (req->signed_request && req->service) {
        const struct s_bucket *b = s_table_get(&ix->service, req->service);
        size_t sz = (b ? b->n : 0) + ix->service.absent.n;
        if (sz < best_size) {
            pick = b;
            pick_absent = &ix->service.absent;
            best_size = sz;
        }
    }
    if (req->operation) {
        const struct s_bucket *b = s_table_get(&ix->operation, req->operation);
        size_t sz = (b ? b->n : 0) + ix->operation.absent.n;
        if (sz < best_size) {
            pick = b;
            pick_absent = &ix->operation.absent;
        }
    }
    s_consider(set, req, pick, &best);
    s_consider(set, req, pick_absent, &best);
    return best < 0 ? NULL : &set->fixtures[best];
}

bool tm__mock_set_has_operation(const struct tm__mock_fixture_set *set, const char *service, const char *operation) {
    if (!operation || !set->index)
        return false;
    const struct s_bucket *b = s_table_get(&set->index->operation, operation);
    for (size_t k = 0; b && k < b->n; k++) {
        const struct tm__mock_fixture *f = &set->fixtures[b->idx[k]];
        if (!service || !f->service || strcmp(f->service, service) == 0)
            return true;
    }
    return false;
}
