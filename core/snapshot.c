#include "core/snapshot.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/jsonarena.h"
#include "core/str.h"
#include "core/hash.h"

struct tm_snapshot {
    cJSON *root; /* schema, tool, scope, resources, errors */
    /* A loaded snapshot: root lives in this arena (core/jsonarena.h) and is read-only; NULL for one being
     * built, whose values are cJSON's own. */
    struct tm_json_arena *arena;
    cJSON *scope;     /* borrowed from root */
    cJSON *resources; /* borrowed from root */
    cJSON *errors;    /* borrowed from root */
    /* id -> resource, open addressing; ids are borrowed from the resource objects. A slot keeps the id's
     * hash and string, so a probe never walks the members of a resource it does not want. */
    struct s_slot {
        uint64_t hash;
        const char *id;
        cJSON *res;
    } * table;
    size_t table_cap; /* power of two */
    size_t count;
    /* Resources in id order, rebuilt lazily after additions. */
    cJSON **order;
    bool sorted;
};

static const char *s_id(const cJSON *res) {
    return tm_json_str(res, "id", "");
}

static int s_table_put(struct tm_snapshot *snap, cJSON *res, const char *id, uint64_t hash);

static int s_table_grow(struct tm_snapshot *snap) {
    size_t cap = snap->table_cap ? snap->table_cap * 2 : 1024;
    struct s_slot *old = snap->table;
    size_t old_cap = snap->table_cap;
    snap->table = calloc(cap, sizeof(*snap->table));
    if (!snap->table) {
        snap->table = old;
        return TM_ERR_NOMEM;
    }
    snap->table_cap = cap;
    snap->count = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].res && s_table_put(snap, old[i].res, old[i].id, old[i].hash))
            return TM_ERR_NOMEM;
    free(old);
    return TM_OK;
}

/* Adds res under id (hash = tm_hash_str(id)); the caller knows id is not there yet. */
static int s_table_put(struct tm_snapshot *snap, cJSON *res, const char *id, uint64_t hash) {
    if ((snap->count + 1) * 2 > snap->table_cap) {
        int rc = s_table_grow(snap);
        if (rc)
            return rc;
    }
    size_t mask = snap->table_cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        if (!snap->table[i].res) {
            snap->table[i] = (struct s_slot){hash, id, res};
            snap->count++;
            return TM_OK;
        }
    }
}

static cJSON *s_table_get(const struct tm_snapshot *snap, const char *id, uint64_t hash) {
    if (!snap->table_cap)
        return NULL;
    size_t mask = snap->table_cap - 1;
    for (size_t i = hash & mask; snap->table[i].res; i = (i + 1) & mask)
        if (snap->table[i].hash == hash && strcmp(snap->table[i].id, id) == 0)
            return snap->table[i].res;
    return NULL;
}

cJSON *tm_snapshot_find(const struct tm_snapshot *snap, const char *id) {
    return s_table_get(snap, id, tm_hash_str(id));
}

static int s_new_root(struct tm_snapshot *snap, const char *provider) {
    snap->root = cJSON_CreateObject();
    if (!snap->root)
        return TM_ERR_NOMEM;
    cJSON *tool = cJSON_AddObjectToObject(snap->root, "tool");
    snap->scope = cJSON_AddObjectToObject(snap->root, "scope");
    snap->resources = cJSON_AddArrayToObject(snap->root, "resources");
    snap->errors = cJSON_AddArrayToObject(snap->root, "errors");
    if (!cJSON_AddStringToObject(snap->root, "schema", TM_SNAPSHOT_SCHEMA) || !tool || !snap->scope ||
        !snap->resources || !snap->errors || !cJSON_AddStringToObject(tool, "name", "tmscan") ||
        !cJSON_AddStringToObject(tool, "version", TM_VERSION) ||
        !cJSON_AddStringToObject(snap->scope, "provider", provider))
        return TM_ERR_NOMEM;
    return TM_OK;
}

int tm_snapshot_new(struct tm_snapshot **out, const char *provider) {
    *out = NULL;
    struct tm_snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap)
        return TM_ERR_NOMEM;
    int rc = s_new_root(snap, provider);
    if (rc) {
        tm_snapshot_destroy(snap);
        return rc;
    }
    snap->sorted = true;
    *out = snap;
    return TM_OK;
}

void tm_snapshot_destroy(struct tm_snapshot *snap) {
    if (!snap)
        return;
    if (snap->arena)
        tm_json_arena_destroy(snap->arena);
    else
        cJSON_Delete(snap->root);
    free(snap->table);
    free(snap->order);
    free(snap);
}

cJSON *tm_snapshot_scope(struct tm_snapshot *snap) {
    return snap->scope;
}

static int s_sorted_insert(cJSON *array, const char *value) {
    int i = 0;
    for (cJSON *it = array->child; it; it = it->next, i++) {
        int c = strcmp(cJSON_IsString(it) ? it->valuestring : "", value);
        if (c == 0)
            return TM_OK;
        if (c > 0) {
            cJSON *s = cJSON_CreateString(value);
            if (!s || !tm_json_array_insert(array, i, s)) {
                cJSON_Delete(s);
                return TM_ERR_NOMEM;
            }
            return TM_OK;
        }
    }
    cJSON *s = cJSON_CreateString(value);
    if (!s || !cJSON_AddItemToArray(array, s)) {
        cJSON_Delete(s);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm_snapshot_scope_add(struct tm_snapshot *snap, const char *list, const char *value) {
    if (snap->arena)
        return TM_ERR_STATE;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(snap->scope, list);
    if (!arr) {
        arr = cJSON_AddArrayToObject(snap->scope, list);
        if (!arr)
            return TM_ERR_NOMEM;
    }
    if (!cJSON_IsArray(arr))
        return TM_ERR_INVALID;
    return s_sorted_insert(arr, value);
}

static bool s_same(const cJSON *res, const char *key, const char *want) {
    const char *have = tm_json_str(res, key, NULL);
    if (!want)
        return true;
    return have && strcmp(have, want) == 0;
}

int tm_snapshot_resource(struct tm_snapshot *snap, const char *id, const char *type, const char *account,
                         const char *region, const char *name, cJSON **out) {
    *out = NULL;
    if (!id || !*id || !type || !*type)
        return TM_ERR_INVALID;
    if (snap->arena)
        return TM_ERR_STATE;
    cJSON *res = tm_snapshot_find(snap, id);
    if (res) {
        if (!s_same(res, "type", type) || !s_same(res, "account", account) || !s_same(res, "region", region))
            return TM_ERR_INVALID;
        if (name && !cJSON_GetObjectItemCaseSensitive(res, "name") && !cJSON_AddStringToObject(res, "name", name))
            return TM_ERR_NOMEM;
        *out = res;
        return TM_OK;
    }
    res = cJSON_CreateObject();
    if (!res)
        return TM_ERR_NOMEM;
    if (!cJSON_AddStringToObject(res, "id", id) || !cJSON_AddStringToObject(res, "type", type) ||
        (account && !cJSON_AddStringToObject(res, "account", account)) ||
        (region && !cJSON_AddStringToObject(res, "region", region)) ||
        (name && !cJSON_AddStringToObject(res, "name", name)) || !cJSON_AddObjectToObject(res, "attrs") ||
        !cJSON_AddObjectToObject(res, "policies") || !cJSON_AddArrayToObject(res, "links")) {
        cJSON_Delete(res);
        return TM_ERR_NOMEM;
    }
    if (!cJSON_AddItemToArray(snap->resources, res)) {
        cJSON_Delete(res);
        return TM_ERR_NOMEM;
    }
    const char *own_id = s_id(res);
    int rc = s_table_put(snap, res, own_id, tm_hash_str(own_id));
    if (rc)
        return rc;
    snap->sorted = false;
    *out = res;
    return TM_OK;
}

size_t tm_snapshot_count(const struct tm_snapshot *snap) {
    return snap->count;
}

struct s_by_id {
    const char *id;
    cJSON *res;
};

static int s_cmp_res(const void *a, const void *b) {
    return strcmp(((const struct s_by_id *)a)->id, ((const struct s_by_id *)b)->id);
}

/* Sorts the resources array by id (relinking the list) and refreshes the index. A snapshot read from a file
 * is sorted already (tm_snapshot_write sorts): checked in one pass, not sorted again. */
static int s_sort(struct tm_snapshot *snap) {
    if (snap->sorted && (snap->order || snap->count == 0))
        return TM_OK;
    size_t cap = snap->count ? snap->count : 1;
    cJSON **order = realloc(snap->order, cap * sizeof(*order));
    if (!order)
        return TM_ERR_NOMEM;
    snap->order = order;
    struct s_by_id *by_id = malloc(cap * sizeof(*by_id));
    if (!by_id)
        return TM_ERR_NOMEM;
    size_t n = 0;
    bool in_order = true;
    for (cJSON *it = snap->resources->child; it && n < snap->count; it = it->next) {
        by_id[n] = (struct s_by_id){s_id(it), it};
        in_order = in_order && (n == 0 || strcmp(by_id[n - 1].id, by_id[n].id) <= 0);
        n++;
    }
    if (!in_order)
        qsort(by_id, n, sizeof(*by_id), s_cmp_res);
    for (size_t i = 0; i < n; i++)
        order[i] = by_id[i].res;
    free(by_id);
    for (size_t i = 0; i < n; i++) {
        order[i]->prev = i ? order[i - 1] : order[n - 1];
        order[i]->next = i + 1 < n ? order[i + 1] : NULL;
    }
    snap->resources->child = n ? order[0] : NULL;
    snap->sorted = true;
    return TM_OK;
}

cJSON *tm_snapshot_at(struct tm_snapshot *snap, size_t index) {
    if (index >= snap->count || s_sort(snap))
        return NULL;
    return snap->order[index];
}

static int s_set_in(cJSON *resource, const char *section, const char *key, cJSON *value) {
    if (!value)
        return TM_ERR_NOMEM;
    cJSON *sec = cJSON_GetObjectItemCaseSensitive(resource, section);
    if (!cJSON_IsObject(sec)) {
        cJSON_Delete(value);
        return TM_ERR_INVALID;
    }
    if (cJSON_GetObjectItemCaseSensitive(sec, key)) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(sec, key, value)) {
            cJSON_Delete(value);
            return TM_ERR_NOMEM;
        }
        return TM_OK;
    }
    if (!cJSON_AddItemToObject(sec, key, value)) {
        cJSON_Delete(value);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm_snapshot_set_attr(cJSON *resource, const char *key, cJSON *value) {
    return s_set_in(resource, "attrs", key, value);
}

int tm_snapshot_set_policy(cJSON *resource, const char *kind, cJSON *document) {
    return s_set_in(resource, "policies", kind, document);
}

static cJSON *s_error_object(const struct tm_snapshot_error *e) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    if (!cJSON_AddStringToObject(o, "service", e->service ? e->service : "") ||
        !cJSON_AddStringToObject(o, "operation", e->operation ? e->operation : "") ||
        !cJSON_AddStringToObject(o, "region", e->region ? e->region : "global") ||
        (e->resource && !cJSON_AddStringToObject(o, "resource", e->resource)) ||
        !cJSON_AddStringToObject(o, "code", e->code ? e->code : "Unknown") ||
        !cJSON_AddStringToObject(o, "message", e->message ? e->message : "") ||
        !cJSON_AddNumberToObject(o, "attempts", e->attempts > 0 ? e->attempts : 1) ||
        !cJSON_AddBoolToObject(o, "retried", e->attempts > 1)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int tm_snapshot_set_unknown(cJSON *resource, const char *section, const char *key,
                            const struct tm_snapshot_error *why) {
    cJSON *marker = cJSON_CreateObject();
    cJSON *err = why ? s_error_object(why) : cJSON_CreateObject();
    if (!marker || !err || !cJSON_AddItemToObject(marker, "$unknown", err)) {
        cJSON_Delete(marker);
        cJSON_Delete(err);
        return TM_ERR_NOMEM;
    }
    return s_set_in(resource, section, key, marker);
}

bool tm_snapshot_is_unknown(const cJSON *v) {
    return cJSON_IsObject(v) && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(v, "$unknown"));
}

int tm_snapshot_add_link(cJSON *resource, const char *kind, const char *to) {
    cJSON *links = cJSON_GetObjectItemCaseSensitive(resource, "links");
    if (!cJSON_IsArray(links))
        return TM_ERR_INVALID;
    int i = 0;
    for (cJSON *it = links->child; it; it = it->next, i++) {
        int c = strcmp(tm_json_str(it, "kind", ""), kind);
        if (c == 0)
            c = strcmp(tm_json_str(it, "to", ""), to);
        if (c == 0)
            return TM_OK;
        if (c > 0)
            break;
    }
    cJSON *l = cJSON_CreateObject();
    if (!l || !cJSON_AddStringToObject(l, "kind", kind) || !cJSON_AddStringToObject(l, "to", to) ||
        !tm_json_array_insert(links, i, l)) {
        cJSON_Delete(l);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm_snapshot_add_error(struct tm_snapshot *snap, const struct tm_snapshot_error *err) {
    if (snap->arena)
        return TM_ERR_STATE;
    cJSON *o = s_error_object(err);
    if (!o || !cJSON_AddItemToArray(snap->errors, o)) {
        cJSON_Delete(o);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

size_t tm_snapshot_error_count(const struct tm_snapshot *snap) {
    return (size_t)cJSON_GetArraySize(snap->errors);
}

cJSON *tm_snapshot_errors(struct tm_snapshot *snap) {
    return snap->errors;
}

static int s_cmp_err(const void *a, const void *b) {
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    static const char *const keys[] = {"service", "operation", "region", "resource", "code", "message"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        int c = strcmp(tm_json_str(x, keys[i], ""), tm_json_str(y, keys[i], ""));
        if (c)
            return c;
    }
    return (int)tm_json_num(x, "attempts", 0) - (int)tm_json_num(y, "attempts", 0);
}

static int s_sort_errors(cJSON *errors) {
    int n = cJSON_GetArraySize(errors);
    if (n < 2)
        return TM_OK;
    cJSON **v = malloc((size_t)n * sizeof(*v));
    if (!v)
        return TM_ERR_NOMEM;
    int i = 0;
    for (cJSON *it = errors->child; it; it = it->next)
        v[i++] = it;
    qsort(v, (size_t)n, sizeof(*v), s_cmp_err);
    for (i = 0; i < n; i++) {
        v[i]->prev = i ? v[i - 1] : v[n - 1];
        v[i]->next = i + 1 < n ? v[i + 1] : NULL;
    }
    errors->child = v[0];
    free(v);
    return TM_OK;
}

/* Keys whose values are secrets, matched case-insensitively anywhere in the tree. A provider must never
 * store them; refusing to write is the last line of defence. */
static const char *const s_secret_keys[] = {
    "SecretAccessKey", "SessionToken", "SecretString", "SecretBinary", "Password", "PrivateKey", "Token",
};

static int s_check_secrets(const cJSON *item, const char *path, char *errmsg, size_t errmsg_len) {
    for (const cJSON *c = item->child; c; c = c->next) {
        if (c->string) {
            for (size_t i = 0; i < sizeof(s_secret_keys) / sizeof(s_secret_keys[0]); i++) {
                if (tm_str_ieq(c->string, s_secret_keys[i])) {
                    snprintf(errmsg, errmsg_len, "%s.%s: a secret-bearing field must not be stored", path, c->string);
                    return TM_ERR_INVALID;
                }
            }
            /* Environment variables: names may be stored, values may not. */
            if (strcmp(c->string, "Variables") == 0 && cJSON_IsObject(c)) {
                snprintf(errmsg, errmsg_len, "%s.Variables: environment variable values must not be stored", path);
                return TM_ERR_INVALID;
            }
        }
        if (c->child) {
            char sub[512];
            if (c->string)
                snprintf(sub, sizeof(sub), "%s.%s", path, c->string);
            else
                snprintf(sub, sizeof(sub), "%s[]", path);
            int rc = s_check_secrets(c, sub, errmsg, errmsg_len);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

int tm_snapshot_serialize(struct tm_snapshot *snap, char **out, char *errmsg, size_t errmsg_len) {
    char dummy[8];
    if (!errmsg || !errmsg_len) {
        errmsg = dummy;
        errmsg_len = sizeof(dummy);
    }
    *out = NULL;
    int rc = s_sort(snap);
    if (!rc)
        rc = s_sort_errors(snap->errors);
    if (rc)
        return rc;
    rc = s_check_secrets(snap->resources, "resources", errmsg, errmsg_len);
    if (rc)
        return rc;
    char *text = tm_json_print_canonical(snap->root, true);
    if (!text)
        return TM_ERR_NOMEM;
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return TM_ERR_NOMEM;
    }
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    *out = withnl;
    return TM_OK;
}

int tm_snapshot_write(struct tm_snapshot *snap, const char *path, char *errmsg, size_t errmsg_len) {
    char *text = NULL;
    int rc = tm_snapshot_serialize(snap, &text, errmsg, errmsg_len);
    if (rc)
        return rc;
    if (strcmp(path, "-") == 0) {
        size_t n = strlen(text);
        if (fwrite(text, 1, n, stdout) != n || fflush(stdout) != 0)
            rc = TM_ERR_IO;
    } else {
        rc = tm_file_write_atomic(path, text, strlen(text), 0600, errmsg, errmsg_len);
    }
    free(text);
    return rc;
}

/* ---- loading ---- */

static int s_fail(char *errmsg, size_t errmsg_len, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int s_fail(char *errmsg, size_t errmsg_len, const char *source, const char *fmt, ...) {
    if (errmsg && errmsg_len) {
        char where[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(where, sizeof(where), fmt, ap);
        va_end(ap);
        snprintf(errmsg, errmsg_len, "%s: %s", source, where);
    }
    return TM_ERR_PARSE;
}

/* One walk over a resource's members finds the fields (the first of a repeated key, as cJSON's lookups do);
 * the checks then run in the order the messages were always given in. *id_out is the resource's id. */
static int s_validate_resource(const cJSON *r, int i, const char *source, char *errmsg, size_t errmsg_len,
                               const char **id_out) {
    if (!cJSON_IsObject(r))
        return s_fail(errmsg, errmsg_len, source, "resources[%d]: not an object", i);
    enum { F_ID, F_TYPE, F_ACCOUNT, F_REGION, F_NAME, F_ATTRS, F_POLICIES, F_LINKS, F_COUNT };
    static const char *const names[F_COUNT] = {"id", "type", "account", "region", "name", "attrs", "policies", "links"};
    const cJSON *f[F_COUNT] = {0};
    for (const cJSON *c = r->child; c; c = c->next) {
        if (!c->string)
            continue;
        for (size_t k = 0; k < F_COUNT; k++) {
            if (c->string[0] == names[k][0] && strcmp(c->string, names[k]) == 0) {
                if (!f[k])
                    f[k] = c;
                break;
            }
        }
    }
    for (size_t k = F_ID; k <= F_TYPE; k++)
        if (!cJSON_IsString(f[k]) || !*f[k]->valuestring)
            return s_fail(errmsg, errmsg_len, source, "resources[%d].%s: missing or not a string", i, names[k]);
    for (size_t k = F_ACCOUNT; k <= F_NAME; k++)
        if (f[k] && !cJSON_IsString(f[k]))
            return s_fail(errmsg, errmsg_len, source, "resources[%d].%s: not a string", i, names[k]);
    for (size_t k = F_ATTRS; k <= F_POLICIES; k++)
        if (!cJSON_IsObject(f[k]))
            return s_fail(errmsg, errmsg_len, source, "resources[%d].%s: missing or not an object", i, names[k]);
    if (!cJSON_IsArray(f[F_LINKS]))
        return s_fail(errmsg, errmsg_len, source, "resources[%d].%s: missing or not an array", i, "links");
    for (const cJSON *l = f[F_LINKS]->child; l; l = l->next)
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(l, "kind")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(l, "to")))
            return s_fail(errmsg, errmsg_len, source, "resources[%d].links: each link needs string kind and to", i);
    *id_out = f[F_ID]->valuestring;
    return TM_OK;
}

int tm_snapshot_parse(struct tm_snapshot **out, const char *text, size_t len, const char *source, char *errmsg,
                      size_t errmsg_len) {
    *out = NULL;
    cJSON *root = NULL;
    struct tm_json_arena *arena = NULL;
    int rc = tm_json_arena_parse_split(&root, &arena, text, len, "resources", source, errmsg, errmsg_len);
    if (rc)
        return rc;
    struct tm_snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap) {
        tm_json_arena_destroy(arena);
        return TM_ERR_NOMEM;
    }
    snap->root = root;
    snap->arena = arena;
    rc = TM_ERR_PARSE;
    if (!cJSON_IsObject(root)) {
        s_fail(errmsg, errmsg_len, source, "not a JSON object");
        goto fail;
    }
    const char *schema = tm_json_str(root, "schema", NULL);
    if (!schema) {
        s_fail(errmsg, errmsg_len, source, "schema: missing (not a tmscan snapshot?)");
        goto fail;
    }
    if (strcmp(schema, TM_SNAPSHOT_SCHEMA) != 0) {
        char m[200];
        snprintf(m, sizeof(m), "schema: '%.80s' is not supported (this tmscan reads %s)", schema, TM_SNAPSHOT_SCHEMA);
        s_fail(errmsg, errmsg_len, source, "%s", m);
        goto fail;
    }
    snap->scope = cJSON_GetObjectItemCaseSensitive(root, "scope");
    snap->resources = cJSON_GetObjectItemCaseSensitive(root, "resources");
    snap->errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    if (!cJSON_IsObject(snap->scope)) {
        s_fail(errmsg, errmsg_len, source, "scope: missing or not an object");
        goto fail;
    }
    if (!cJSON_IsArray(snap->resources)) {
        s_fail(errmsg, errmsg_len, source, "resources: missing or not an array");
        goto fail;
    }
    if (!cJSON_IsArray(snap->errors)) {
        s_fail(errmsg, errmsg_len, source, "errors: missing or not an array");
        goto fail;
    }
    /* The index sized for every resource at once (load factor under one half), not grown by doubling. */
    size_t n_res = (size_t)cJSON_GetArraySize(snap->resources);
    size_t cap = 1024;
    while (cap < n_res * 2 + 2)
        cap *= 2;
    snap->table = calloc(cap, sizeof(*snap->table));
    if (!snap->table) {
        rc = TM_ERR_NOMEM;
        goto fail;
    }
    snap->table_cap = cap;
    int i = 0;
    for (cJSON *r = snap->resources->child; r; r = r->next, i++) {
        const char *id = NULL;
        rc = s_validate_resource(r, i, source, errmsg, errmsg_len, &id);
        if (rc)
            goto fail;
        uint64_t hash = tm_hash_str(id);
        if (s_table_get(snap, id, hash)) {
            rc = s_fail(errmsg, errmsg_len, source, "resources[%d].id: duplicate id '%.200s'", i, id);
            goto fail;
        }
        rc = s_table_put(snap, r, id, hash);
        if (rc)
            goto fail;
    }
    snap->sorted = false;
    *out = snap;
    return TM_OK;
fail:
    tm_snapshot_destroy(snap);
    return rc ? rc : TM_ERR_PARSE;
}

int tm_snapshot_load(struct tm_snapshot **out, const char *path, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    /* A regular file is parsed where it lies (mapped), not copied into a buffer grown as it is read: 100 MB
     * for 100,000 resources. Anything else (a pipe, an empty or oversized file) is read, with its errors. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        void *map = MAP_FAILED;
        size_t len = 0;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (uint64_t)st.st_size <= TM_SNAPSHOT_MAX_BYTES) {
            len = (size_t)st.st_size;
            map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        }
        close(fd);
        if (map != MAP_FAILED) {
            (void)madvise(map, len, MADV_SEQUENTIAL);
            int rc = tm_snapshot_parse(out, map, len, path, errmsg, errmsg_len);
            munmap(map, len);
            return rc;
        }
    }
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = tm_file_read(&b, path, TM_SNAPSHOT_MAX_BYTES, errmsg, errmsg_len);
    if (!rc)
        rc = tm_snapshot_parse(out, tm_buf_str(&b), b.len, path, errmsg, errmsg_len);
    tm_buf_clean_up(&b);
    return rc;
}

static int s_merge_object(cJSON *dst, const cJSON *src) {
    for (const cJSON *c = src->child; c; c = c->next) {
        if (cJSON_GetObjectItemCaseSensitive(dst, c->string))
            continue;
        cJSON *dup = cJSON_Duplicate(c, true);
        if (!dup || !cJSON_AddItemToObject(dst, c->string, dup)) {
            cJSON_Delete(dup);
            return TM_ERR_NOMEM;
        }
    }
    return TM_OK;
}

int tm_snapshot_merge(struct tm_snapshot *dst, const struct tm_snapshot *src, char *errmsg, size_t errmsg_len) {
    if (dst->arena) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "a loaded snapshot is read-only: merge into a new one");
        return TM_ERR_STATE;
    }
    static const char *const lists[] = {"accounts", "regions", "services"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(src->scope, lists[k]);
        for (const cJSON *v = arr ? arr->child : NULL; v; v = v->next) {
            if (!cJSON_IsString(v))
                continue;
            int rc = tm_snapshot_scope_add(dst, lists[k], v->valuestring);
            if (rc)
                return rc;
        }
    }
    for (const cJSON *r = src->resources->child; r; r = r->next) {
        cJSON *d = NULL;
        int rc = tm_snapshot_resource(dst, s_id(r), tm_json_str(r, "type", ""), tm_json_str(r, "account", NULL),
                                      tm_json_str(r, "region", NULL), tm_json_str(r, "name", NULL), &d);
        if (rc) {
            if (errmsg && errmsg_len)
                snprintf(errmsg, errmsg_len, "%s: appears with two different types or accounts", s_id(r));
            return rc;
        }
        if ((rc = s_merge_object(cJSON_GetObjectItemCaseSensitive(d, "attrs"),
                                 cJSON_GetObjectItemCaseSensitive(r, "attrs"))) ||
            (rc = s_merge_object(cJSON_GetObjectItemCaseSensitive(d, "policies"),
                                 cJSON_GetObjectItemCaseSensitive(r, "policies"))))
            return rc;
        const cJSON *links = cJSON_GetObjectItemCaseSensitive(r, "links");
        for (const cJSON *l = links ? links->child : NULL; l; l = l->next)
            if ((rc = tm_snapshot_add_link(d, tm_json_str(l, "kind", ""), tm_json_str(l, "to", ""))))
                return rc;
    }
    for (const cJSON *e = src->errors->child; e; e = e->next) {
        cJSON *dup = cJSON_Duplicate(e, true);
        if (!dup || !cJSON_AddItemToArray(dst->errors, dup)) {
            cJSON_Delete(dup);
            return TM_ERR_NOMEM;
        }
    }
    return TM_OK;
}
