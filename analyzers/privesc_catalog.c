#include "analyzers/privesc_catalog.h"

#include <cjson/cJSON.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

#define S_MAX_TECHNIQUES 1000
#define S_MAX_REQUIRES 16
#define S_MAX_LIST 32
#define S_MAX_TEXT_BYTES 4096
#define S_MAX_ID_BYTES 64
#define S_MAX_URL_BYTES 512

/* ---- arena: every string and array of a catalogue lives in a few chunks freed together ---- */

struct s_chunk {
    struct s_chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

struct tm_privesc_catalog {
    struct s_chunk *chunks;
    struct tm_privesc_technique *techniques; /* sorted by id */
    size_t count;
};

static void *s_alloc(struct tm_privesc_catalog *cat, size_t size) {
    size_t align = alignof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    struct s_chunk *c = cat->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > 16384 ? size : 16384;
        c = calloc(1, sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->next = cat->chunks;
        cat->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += size;
    return p;
}

static char *s_strdup(struct tm_privesc_catalog *cat, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = s_alloc(cat, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void tm_privesc_catalog_destroy(struct tm_privesc_catalog *cat) {
    if (!cat)
        return;
    struct s_chunk *c = cat->chunks;
    while (c) {
        struct s_chunk *next = c->next;
        free(c);
        c = next;
    }
    free(cat);
}

/* ---- enum names ---- */

struct s_name {
    int value;
    const char *name;
};

static const struct s_name s_kinds[] = {
    {TM_PRIVESC_KIND_SELF_ESCALATION, "self-escalation"},
    {TM_PRIVESC_KIND_PRINCIPAL_ACCESS, "principal-access"},
    {TM_PRIVESC_KIND_NEW_PASSROLE, "new-passrole"},
    {TM_PRIVESC_KIND_EXISTING_PASSROLE, "existing-passrole"},
};

static const struct s_name s_targets[] = {
    {TM_PRIVESC_TARGET_ANY_POLICY, "any-policy"},
    {TM_PRIVESC_TARGET_POLICY_VERSION, "policy-version"},
    {TM_PRIVESC_TARGET_USER, "user"},
    {TM_PRIVESC_TARGET_ROLE_ASSUMED, "role-assumed"},
    {TM_PRIVESC_TARGET_GROUP_JOINED, "group-joined"},
    {TM_PRIVESC_TARGET_ROLE_PASSED, "role-passed"},
    {TM_PRIVESC_TARGET_RESOURCE_ROLE, "resource-role"},
    {TM_PRIVESC_TARGET_BOUNDARY_REMOVED, "boundary-removed"},
};

static const struct s_name s_resources[] = {
    {TM_PRIVESC_RES_ANY, "*"},
    {TM_PRIVESC_RES_USER, "user"},
    {TM_PRIVESC_RES_GROUP, "group"},
    {TM_PRIVESC_RES_ROLE, "role"},
    {TM_PRIVESC_RES_POLICY, "policy"},
    {TM_PRIVESC_RES_INSTANCE, "instance"},
    {TM_PRIVESC_RES_LAUNCH_TEMPLATE, "launch-template"},
    {TM_PRIVESC_RES_FUNCTION, "function"},
    {TM_PRIVESC_RES_STACK, "stack"},
    {TM_PRIVESC_RES_PROJECT, "project"},
    {TM_PRIVESC_RES_DEV_ENDPOINT, "dev-endpoint"},
    {TM_PRIVESC_RES_JOB, "job"},
    {TM_PRIVESC_RES_JOB_QUEUE, "job-queue"},
    {TM_PRIVESC_RES_PIPELINE, "pipeline"},
    {TM_PRIVESC_RES_NOTEBOOK_INSTANCE, "notebook-instance"},
    {TM_PRIVESC_RES_TASK_DEFINITION, "task-definition"},
    {TM_PRIVESC_RES_TASK, "task"},
    {TM_PRIVESC_RES_CLUSTER, "cluster"},
    {TM_PRIVESC_RES_ACCESS_ENTRY, "access-entry"},
    {TM_PRIVESC_RES_SERVICE, "service"},
    {TM_PRIVESC_RES_STATE_MACHINE, "state-machine"},
    {TM_PRIVESC_RES_IDENTITY_POOL, "identity-pool"},
    {TM_PRIVESC_RES_CODE_INTERPRETER, "code-interpreter"},
};

static const struct s_name s_bindings[] = {
    {TM_PRIVESC_BIND_ANY, "any"},
    {TM_PRIVESC_BIND_SELF, "self"},
    {TM_PRIVESC_BIND_SELF_GROUP, "self-group"},
    {TM_PRIVESC_BIND_SELF_POLICY, "self-policy"},
    {TM_PRIVESC_BIND_TARGET, "target"},
    {TM_PRIVESC_BIND_TARGET_POLICY, "target-policy"},
};

#define S_COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *s_name_of(const struct s_name *table, size_t n, int value) {
    for (size_t i = 0; i < n; i++) {
        if (table[i].value == value)
            return table[i].name;
    }
    return NULL;
}

static int s_value_of(const struct s_name *table, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i].name, name) == 0)
            return table[i].value;
    }
    return 0;
}

const char *tm_privesc_kind_name(enum tm_privesc_kind kind) {
    return s_name_of(s_kinds, S_COUNT(s_kinds), (int)kind);
}

const char *tm_privesc_target_name(enum tm_privesc_target target) {
    return s_name_of(s_targets, S_COUNT(s_targets), (int)target);
}

const char *tm_privesc_resource_name(enum tm_privesc_resource resource) {
    return s_name_of(s_resources, S_COUNT(s_resources), (int)resource);
}

const char *tm_privesc_binding_name(enum tm_privesc_binding binding) {
    return s_name_of(s_bindings, S_COUNT(s_bindings), (int)binding);
}

/* ---- errors ---- */

/* Where an error is: the file, then the technique (by id once known, by index before), then the field. */
struct s_ctx {
    const char *name;
    const struct tm_iam_catalog *actions;
    char *err;
    size_t errlen;
    size_t index;   /* technique index, for errors before its id is known */
    const char *id; /* NULL until the technique's id is valid */
};

__attribute__((format(printf, 3, 4))) static int s_fail(const struct s_ctx *ctx, const char *field, const char *fmt,
                                                        ...) {
    if (!ctx->err || ctx->errlen == 0)
        return TM_ERR_PARSE;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ctx->id)
        snprintf(ctx->err, ctx->errlen, "%s: technique \"%s\": %s: %s", ctx->name, ctx->id, field, msg);
    else
        snprintf(ctx->err, ctx->errlen, "%s: techniques[%zu]: %s: %s", ctx->name, ctx->index, field, msg);
    return TM_ERR_PARSE;
}

static int s_fail_top(const struct s_ctx *ctx, const char *msg) {
    if (ctx->err && ctx->errlen)
        snprintf(ctx->err, ctx->errlen, "%s: %s", ctx->name, msg);
    return TM_ERR_PARSE;
}

static int s_nomem(const struct s_ctx *ctx) {
    if (ctx->err && ctx->errlen)
        snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
    return TM_ERR_NOMEM;
}

/* ---- value checks ---- */

/* Well-formed UTF-8 without control characters: the text ends up in reports and terminals. */
static bool s_valid_text(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned min;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            min = 0x80;
            c &= 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            min = 0x800;
            c &= 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        p += n + 1;
    }
    return true;
}

static bool s_is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ^[a-z0-9]+(-[a-z0-9]+)*$ */
static bool s_valid_slug(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-') {
            if (s[i + 1] == '-')
                return false;
        } else if (!s_is_lower_alnum(s[i])) {
            return false;
        }
    }
    return true;
}

/* "iam-001", "ec2instanceconnect-003" */
static bool s_valid_pathfinding(const char *s) {
    const char *dash = strrchr(s, '-');
    if (!dash || dash == s || strlen(dash + 1) != 3)
        return false;
    for (const char *p = s; p < dash; p++) {
        if (!s_is_lower_alnum(*p))
            return false;
    }
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
    }
    return true;
}

/* T1098 or T1098.001 */
static bool s_valid_attack(const char *s) {
    if (s[0] != 'T')
        return false;
    for (int i = 1; i <= 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    if (s[5] == '\0')
        return true;
    if (s[5] != '.')
        return false;
    for (int i = 6; i <= 8; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return s[9] == '\0';
}

static bool s_valid_url(const char *s) {
    if (!tm_str_starts_with(s, "https://") || strlen(s) <= 8 || strlen(s) > S_MAX_URL_BYTES)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    }
    return true;
}

/* A service principal such as "lambda.amazonaws.com" or "tasks.apprunner.amazonaws.com". */
static bool s_valid_service_principal(const char *s) {
    size_t n = strlen(s);
    static const char suffix[] = ".amazonaws.com";
    if (n <= sizeof(suffix) - 1 || n > 128 || !tm_str_ends_with(s, suffix) || !s_is_lower_alnum(s[0]))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!s_is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    }
    return true;
}

/* ---- field readers ---- */

static int s_check_keys(const struct s_ctx *ctx, const cJSON *obj, const char *const *known, size_t n,
                        const char *where) {
    const cJSON *item;
    cJSON_ArrayForEach(item, obj) {
        bool ok = false;
        for (size_t i = 0; i < n && !ok; i++)
            ok = strcmp(item->string, known[i]) == 0;
        if (!ok) {
            char field[160];
            snprintf(field, sizeof(field), "%s%.64s", where, item->string);
            return s_fail(ctx, field, "unknown field");
        }
        /* Two members with one name: cJSON would silently use the first. */
        for (const cJSON *later = item->next; later; later = later->next) {
            if (strcmp(later->string, item->string) == 0) {
                char field[160];
                snprintf(field, sizeof(field), "%s%.64s", where, item->string);
                return s_fail(ctx, field, "appears twice");
            }
        }
    }
    return TM_OK;
}

/* A required (or optional, when out may stay NULL) string, copied into the catalogue. */
static int s_text(struct tm_privesc_catalog *cat, const struct s_ctx *ctx, const cJSON *obj, const char *key,
                  const char *field, bool required, size_t max, const char **out) {
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (required)
            return s_fail(ctx, field, "missing");
        return TM_OK;
    }
    if (!cJSON_IsString(v))
        return s_fail(ctx, field, "must be a string");
    size_t n = strlen(v->valuestring);
    if (n == 0)
        return s_fail(ctx, field, "must not be empty");
    if (n > max)
        return s_fail(ctx, field, "longer than %zu bytes", max);
    if (!s_valid_text(v->valuestring))
        return s_fail(ctx, field, "must be UTF-8 text without control characters");
    *out = s_strdup(cat, v->valuestring);
    return *out ? TM_OK : s_nomem(ctx);
}

typedef bool (*s_item_check_fn)(const char *s);

static int s_string_list(struct tm_privesc_catalog *cat, const struct s_ctx *ctx, const cJSON *obj, const char *key,
                         bool required, s_item_check_fn check, const char *what, const char *const **out,
                         size_t *count) {
    *out = NULL;
    *count = 0;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!arr) {
        if (required)
            return s_fail(ctx, key, "missing");
        return TM_OK;
    }
    if (!cJSON_IsArray(arr))
        return s_fail(ctx, key, "must be an array of strings");
    int n = cJSON_GetArraySize(arr);
    if (n == 0 && required)
        return s_fail(ctx, key, "must not be empty");
    if (n > S_MAX_LIST)
        return s_fail(ctx, key, "more than %d entries", S_MAX_LIST);
    const char **list = s_alloc(cat, sizeof(*list) * (size_t)(n ? n : 1));
    if (!list)
        return s_nomem(ctx);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr) {
        char field[64];
        snprintf(field, sizeof(field), "%s[%d]", key, i);
        if (!cJSON_IsString(item) || !item->valuestring[0])
            return s_fail(ctx, field, "must be a non-empty string");
        if (strlen(item->valuestring) > S_MAX_TEXT_BYTES || !s_valid_text(item->valuestring) ||
            (check && !check(item->valuestring)))
            return s_fail(ctx, field, "\"%.80s\" is not %s", item->valuestring, what);
        for (int j = 0; j < i; j++) {
            if (strcmp(list[j], item->valuestring) == 0)
                return s_fail(ctx, field, "\"%.80s\" is listed twice", item->valuestring);
        }
        list[i] = s_strdup(cat, item->valuestring);
        if (!list[i])
            return s_nomem(ctx);
        i++;
    }
    *out = list;
    *count = (size_t)n;
    return TM_OK;
}

static int s_enum(const struct s_ctx *ctx, const cJSON *obj, const char *key, const char *field,
                  const struct s_name *table, size_t n, int fallback, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && fallback) {
        *out = fallback;
        return TM_OK;
    }
    if (!v)
        return s_fail(ctx, field, "missing");
    if (!cJSON_IsString(v))
        return s_fail(ctx, field, "must be a string");
    *out = s_value_of(table, n, v->valuestring);
    if (!*out) {
        char allowed[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof(allowed); i++)
            used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s\"%s\"", i ? ", " : "", table[i].name);
        return s_fail(ctx, field, "\"%.64s\" is not one of %s", v->valuestring, allowed);
    }
    return TM_OK;
}

/* ---- requirements ---- */

static int s_requirement(struct tm_privesc_catalog *cat, const struct s_ctx *ctx, const cJSON *obj, size_t i,
                         struct tm_privesc_requirement *r) {
    char field[96];
    static const char *const known[] = {"action", "resource", "binding", "role_trusts", "passed_to"};
    snprintf(field, sizeof(field), "requires[%zu]", i);
    if (!cJSON_IsObject(obj))
        return s_fail(ctx, field, "must be an object");
    char where[96];
    snprintf(where, sizeof(where), "requires[%zu].", i);
    int rc = s_check_keys(ctx, obj, known, S_COUNT(known), where);
    if (rc)
        return rc;

    snprintf(field, sizeof(field), "requires[%zu].action", i);
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(obj, "action");
    if (!cJSON_IsString(action))
        return s_fail(ctx, field, action ? "must be a string" : "missing");
    const char *full = action->valuestring;
    const char *colon = strchr(full, ':');
    if (!colon || colon == full || !colon[1] || strlen(full) > 256)
        return s_fail(ctx, field, "\"%.80s\" is not of the form service:Action", full);
    char service[128];
    size_t slen = (size_t)(colon - full);
    if (slen >= sizeof(service))
        return s_fail(ctx, field, "\"%.80s\" is not of the form service:Action", full);
    memcpy(service, full, slen);
    service[slen] = '\0';
    struct tm_iam_action found;
    if (tm_iam_catalog_find(ctx->actions, service, colon + 1, &found) != TM_OK)
        return s_fail(ctx, field, "\"%.80s\" is not in the action catalogue (%s)", full,
                      tm_iam_catalog_has_service(ctx->actions, service) ? "unknown action" : "unknown service");
    if (strcmp(found.service, service) != 0 || strcmp(found.name, colon + 1) != 0)
        return s_fail(ctx, field, "\"%.80s\" is spelled \"%s:%s\" in the action catalogue", full, found.service,
                      found.name);
    r->action = s_strdup(cat, full);
    r->service = s_strdup(cat, found.service);
    r->action_name = s_strdup(cat, found.name);
    if (!r->action || !r->service || !r->action_name)
        return s_nomem(ctx);
    r->level = found.level;

    int v = 0;
    snprintf(field, sizeof(field), "requires[%zu].resource", i);
    rc = s_enum(ctx, obj, "resource", field, s_resources, S_COUNT(s_resources), 0, &v);
    if (rc)
        return rc;
    r->resource = (enum tm_privesc_resource)v;
    snprintf(field, sizeof(field), "requires[%zu].binding", i);
    rc = s_enum(ctx, obj, "binding", field, s_bindings, S_COUNT(s_bindings), TM_PRIVESC_BIND_ANY, &v);
    if (rc)
        return rc;
    r->binding = (enum tm_privesc_binding)v;

    snprintf(field, sizeof(field), "requires[%zu].role_trusts", i);
    rc = s_text(cat, ctx, obj, "role_trusts", field, false, 128, &r->role_trusts);
    if (rc)
        return rc;
    if (r->role_trusts && r->resource != TM_PRIVESC_RES_ROLE)
        return s_fail(ctx, field, "only a requirement on a role can constrain its trust policy");
    if (r->role_trusts && strcmp(r->role_trusts, "principal") != 0 && !s_valid_service_principal(r->role_trusts))
        return s_fail(ctx, field, "\"%s\" is neither \"principal\" nor a service principal (name.amazonaws.com)",
                      r->role_trusts);

    snprintf(field, sizeof(field), "requires[%zu].passed_to", i);
    rc = s_text(cat, ctx, obj, "passed_to", field, false, 128, &r->passed_to);
    if (rc)
        return rc;
    bool pass_role = strcmp(r->action, "iam:PassRole") == 0;
    if (r->passed_to && !pass_role)
        return s_fail(ctx, field, "only iam:PassRole has a passed-to service");
    if (r->passed_to && !s_valid_service_principal(r->passed_to))
        return s_fail(ctx, field, "\"%s\" is not a service principal (name.amazonaws.com)", r->passed_to);

    /* The rules that make a requirement answerable by the analyzer. */
    snprintf(field, sizeof(field), "requires[%zu]", i);
    if (pass_role) {
        if (r->resource != TM_PRIVESC_RES_ROLE || !r->role_trusts || strcmp(r->role_trusts, "principal") == 0)
            return s_fail(ctx, field,
                          "iam:PassRole needs \"resource\": \"role\" and the service the role must trust "
                          "in \"role_trusts\"");
        if (!r->passed_to)
            r->passed_to = r->role_trusts;
    }
    if (strcmp(r->action, "sts:AssumeRole") == 0 &&
        (r->resource != TM_PRIVESC_RES_ROLE || !r->role_trusts || strcmp(r->role_trusts, "principal") != 0))
        return s_fail(ctx, field, "sts:AssumeRole needs \"resource\": \"role\" and \"role_trusts\": \"principal\"");
    switch (r->binding) {
        case TM_PRIVESC_BIND_ANY:
            break;
        case TM_PRIVESC_BIND_SELF:
            if (r->resource != TM_PRIVESC_RES_USER && r->resource != TM_PRIVESC_RES_ROLE)
                return s_fail(ctx, field, "binding \"self\" needs a user or role resource");
            break;
        case TM_PRIVESC_BIND_SELF_GROUP:
            if (r->resource != TM_PRIVESC_RES_GROUP)
                return s_fail(ctx, field, "binding \"self-group\" needs a group resource");
            break;
        case TM_PRIVESC_BIND_SELF_POLICY:
        case TM_PRIVESC_BIND_TARGET_POLICY:
            if (r->resource != TM_PRIVESC_RES_POLICY)
                return s_fail(ctx, field, "binding \"%s\" needs a policy resource",
                              tm_privesc_binding_name(r->binding));
            break;
        case TM_PRIVESC_BIND_TARGET:
            if (r->resource == TM_PRIVESC_RES_ANY)
                return s_fail(ctx, field, "binding \"target\" needs a resource kind, not \"*\"");
            break;
        default:
            return s_fail(ctx, field, "invalid binding");
    }
    return TM_OK;
}

/* Whether the technique's target can be derived from its requirements. */
static int s_check_target(const struct s_ctx *ctx, const struct tm_privesc_technique *t) {
    enum tm_privesc_resource target_kind = 0;
    bool pass_target = false, self = false, self_policy = false, target_policy = false;
    for (size_t i = 0; i < t->requires_count; i++) {
        const struct tm_privesc_requirement *r = &t->requires[i];
        for (size_t j = 0; j < i; j++) {
            const struct tm_privesc_requirement *o = &t->requires[j];
            if (strcmp(o->action, r->action) == 0 && o->resource == r->resource && o->binding == r->binding &&
                (o->role_trusts == r->role_trusts ||
                 (o->role_trusts && r->role_trusts && strcmp(o->role_trusts, r->role_trusts) == 0))) {
                char field[64];
                snprintf(field, sizeof(field), "requires[%zu]", i);
                return s_fail(ctx, field, "repeats requires[%zu]", j);
            }
        }
        if (r->binding == TM_PRIVESC_BIND_TARGET) {
            if (target_kind && target_kind != r->resource) {
                char field[64];
                snprintf(field, sizeof(field), "requires[%zu]", i);
                return s_fail(ctx, field,
                              "every \"target\" requirement must name the same kind of resource (%s, not %s)",
                              tm_privesc_resource_name(target_kind), tm_privesc_resource_name(r->resource));
            }
            target_kind = r->resource;
            if (strcmp(r->action, "iam:PassRole") == 0)
                pass_target = true;
        }
        self = self || r->binding == TM_PRIVESC_BIND_SELF;
        self_policy = self_policy || r->binding == TM_PRIVESC_BIND_SELF_POLICY;
        target_policy = target_policy || r->binding == TM_PRIVESC_BIND_TARGET_POLICY;
    }
    if (target_policy && !target_kind)
        return s_fail(ctx, "requires", "a \"target-policy\" requirement needs a \"target\" requirement");
    bool ok;
    switch (t->target) {
        case TM_PRIVESC_TARGET_ANY_POLICY:
            ok = true;
            break;
        case TM_PRIVESC_TARGET_POLICY_VERSION:
            ok = self_policy;
            break;
        case TM_PRIVESC_TARGET_USER:
            ok = target_kind == TM_PRIVESC_RES_USER;
            break;
        case TM_PRIVESC_TARGET_ROLE_ASSUMED:
            ok = target_kind == TM_PRIVESC_RES_ROLE && !pass_target;
            break;
        case TM_PRIVESC_TARGET_GROUP_JOINED:
            ok = target_kind == TM_PRIVESC_RES_GROUP;
            break;
        case TM_PRIVESC_TARGET_ROLE_PASSED:
            ok = pass_target;
            break;
        case TM_PRIVESC_TARGET_RESOURCE_ROLE:
            ok = target_kind && target_kind != TM_PRIVESC_RES_ANY && target_kind != TM_PRIVESC_RES_USER &&
                 target_kind != TM_PRIVESC_RES_GROUP && target_kind != TM_PRIVESC_RES_ROLE &&
                 target_kind != TM_PRIVESC_RES_POLICY;
            break;
        case TM_PRIVESC_TARGET_BOUNDARY_REMOVED:
            ok = self;
            break;
        default:
            ok = false;
            break;
    }
    if (!ok)
        return s_fail(ctx, "target",
                      "\"%s\" does not follow from the requirements (see policies/privesc.md: which binding each "
                      "target needs)",
                      tm_privesc_target_name(t->target));
    return TM_OK;
}

static int s_technique(struct tm_privesc_catalog *cat, struct s_ctx *ctx, const cJSON *obj,
                       struct tm_privesc_technique *t) {
    static const char *const known[] = {"id",       "name",   "kind",    "target",        "description", "fix",
                                        "requires", "attack", "sources", "preconditions", "pathfinding"};
    ctx->id = NULL;
    if (!cJSON_IsObject(obj))
        return s_fail(ctx, "technique", "must be an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
    if (!cJSON_IsString(id))
        return s_fail(ctx, "id", id ? "must be a string" : "missing");
    if (!s_valid_slug(id->valuestring, S_MAX_ID_BYTES))
        return s_fail(ctx, "id",
                      "\"%.80s\" is not a slug (lower-case letters, digits and single '-', at most %d bytes)",
                      id->valuestring, S_MAX_ID_BYTES);
    t->id = s_strdup(cat, id->valuestring);
    if (!t->id)
        return s_nomem(ctx);
    ctx->id = t->id;

    int rc = s_check_keys(ctx, obj, known, S_COUNT(known), "");
    if (rc)
        return rc;
    if ((rc = s_text(cat, ctx, obj, "name", "name", true, 200, &t->name)) != TM_OK ||
        (rc = s_text(cat, ctx, obj, "description", "description", true, S_MAX_TEXT_BYTES, &t->description)) != TM_OK ||
        (rc = s_text(cat, ctx, obj, "fix", "fix", true, S_MAX_TEXT_BYTES, &t->fix)) != TM_OK ||
        (rc = s_text(cat, ctx, obj, "pathfinding", "pathfinding", false, 64, &t->pathfinding)) != TM_OK)
        return rc;
    if (t->pathfinding && !s_valid_pathfinding(t->pathfinding))
        return s_fail(ctx, "pathfinding", "\"%s\" is not a pathfinding.cloud path id such as \"iam-001\"",
                      t->pathfinding);
    int v = 0;
    if ((rc = s_enum(ctx, obj, "kind", "kind", s_kinds, S_COUNT(s_kinds), 0, &v)) != TM_OK)
        return rc;
    t->kind = (enum tm_privesc_kind)v;
    if ((rc = s_enum(ctx, obj, "target", "target", s_targets, S_COUNT(s_targets), 0, &v)) != TM_OK)
        return rc;
    t->target = (enum tm_privesc_target)v;

    if ((rc = s_string_list(cat, ctx, obj, "attack", true, s_valid_attack, "an ATT&CK technique id such as T1098.001",
                            &t->attack, &t->attack_count)) != TM_OK ||
        (rc = s_string_list(cat, ctx, obj, "sources", true, s_valid_url, "an https URL", &t->sources,
                            &t->sources_count)) != TM_OK ||
        (rc = s_string_list(cat, ctx, obj, "preconditions", false, NULL, "text", &t->preconditions,
                            &t->preconditions_count)) != TM_OK)
        return rc;

    const cJSON *reqs = cJSON_GetObjectItemCaseSensitive(obj, "requires");
    if (!cJSON_IsArray(reqs))
        return s_fail(ctx, "requires", reqs ? "must be an array" : "missing");
    int n = cJSON_GetArraySize(reqs);
    if (n == 0)
        return s_fail(ctx, "requires", "must not be empty");
    if (n > S_MAX_REQUIRES)
        return s_fail(ctx, "requires", "more than %d requirements", S_MAX_REQUIRES);
    struct tm_privesc_requirement *list = s_alloc(cat, sizeof(*list) * (size_t)n);
    if (!list)
        return s_nomem(ctx);
    memset(list, 0, sizeof(*list) * (size_t)n);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, reqs) {
        rc = s_requirement(cat, ctx, item, i, &list[i]);
        if (rc)
            return rc;
        i++;
    }
    t->requires = list;
    t->requires_count = (size_t)n;
    return s_check_target(ctx, t);
}

static int s_cmp_technique(const void *a, const void *b) {
    return strcmp(((const struct tm_privesc_technique *)a)->id, ((const struct tm_privesc_technique *)b)->id);
}

static void s_line_col(const char *json, size_t offset, unsigned *line, unsigned *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (json[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int tm_privesc_catalog_parse(struct tm_privesc_catalog **out, const char *json, size_t len, const char *name,
                             const struct tm_iam_catalog *actions, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!out || !json || !actions)
        return TM_ERR_INVALID;
    *out = NULL;
    struct s_ctx ctx = {.name = name ? name : "(privesc catalogue)", .actions = actions, .err = err, .errlen = errlen};
    int rc = TM_OK;
    cJSON *root = NULL;
    struct tm_privesc_catalog *cat = NULL;
    char msg[128];

    if (len > TM_PRIVESC_CATALOG_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "%s: file too large", ctx.name);
        rc = TM_ERR_TOO_BIG;
        goto out;
    }
    if (memchr(json, '\0', len)) {
        rc = s_fail_top(&ctx, "contains a NUL byte");
        goto out;
    }
    const char *end = NULL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    unsigned line, col;
    if (!root) {
        size_t off = end && end >= json && (size_t)(end - json) <= len ? (size_t)(end - json) : len;
        s_line_col(json, off, &line, &col);
        snprintf(msg, sizeof(msg), "invalid JSON at line %u, column %u", line, col);
        rc = s_fail_top(&ctx, msg);
        goto out;
    }
    for (size_t off = (size_t)(end - json); off < len; off++) {
        if (json[off] != ' ' && json[off] != '\t' && json[off] != '\n' && json[off] != '\r') {
            s_line_col(json, off, &line, &col);
            snprintf(msg, sizeof(msg), "unexpected data after the JSON document at line %u, column %u", line, col);
            rc = s_fail_top(&ctx, msg);
            goto out;
        }
    }
    if (!cJSON_IsObject(root)) {
        rc = s_fail_top(&ctx, "$: must be an object");
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (strcmp(item->string, "schema") != 0 && strcmp(item->string, "description") != 0 &&
            strcmp(item->string, "techniques") != 0) {
            snprintf(msg, sizeof(msg), "$.%.64s: unknown field", item->string);
            rc = s_fail_top(&ctx, msg);
            goto out;
        }
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(root, "schema");
    if (!cJSON_IsNumber(schema) || schema->valuedouble != 1.0) {
        rc = s_fail_top(&ctx, "$.schema: must be 1");
        goto out;
    }
    const cJSON *techniques = cJSON_GetObjectItemCaseSensitive(root, "techniques");
    if (!cJSON_IsArray(techniques) || cJSON_GetArraySize(techniques) == 0) {
        rc = s_fail_top(&ctx, "$.techniques: must be a non-empty array");
        goto out;
    }
    int n = cJSON_GetArraySize(techniques);
    if (n > S_MAX_TECHNIQUES) {
        snprintf(msg, sizeof(msg), "$.techniques: more than %d techniques", S_MAX_TECHNIQUES);
        rc = s_fail_top(&ctx, msg);
        goto out;
    }

    cat = calloc(1, sizeof(*cat));
    if (!cat) {
        rc = s_nomem(&ctx);
        goto out;
    }
    cat->techniques = s_alloc(cat, sizeof(*cat->techniques) * (size_t)n);
    if (!cat->techniques) {
        rc = s_nomem(&ctx);
        goto out;
    }
    memset(cat->techniques, 0, sizeof(*cat->techniques) * (size_t)n);
    cJSON_ArrayForEach(item, techniques) {
        ctx.index = cat->count;
        rc = s_technique(cat, &ctx, item, &cat->techniques[cat->count]);
        if (rc)
            goto out;
        cat->count++;
    }
    qsort(cat->techniques, cat->count, sizeof(*cat->techniques), s_cmp_technique);
    for (size_t i = 1; i < cat->count; i++) {
        if (strcmp(cat->techniques[i - 1].id, cat->techniques[i].id) == 0) {
            ctx.id = cat->techniques[i].id;
            rc = s_fail(&ctx, "id", "used by more than one technique");
            goto out;
        }
    }
    *out = cat;
    cat = NULL;
out:
    cJSON_Delete(root);
    tm_privesc_catalog_destroy(cat);
    return rc;
}

int tm_privesc_catalog_load(struct tm_privesc_catalog **out, const char *path, const struct tm_iam_catalog *actions,
                            char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!out || !path || !actions)
        return TM_ERR_INVALID;
    *out = NULL;
    struct tm_buf b;
    tm_buf_init(&b, TM_PRIVESC_CATALOG_MAX_BYTES);
    int rc = tm_file_read(&b, path, TM_PRIVESC_CATALOG_MAX_BYTES, err, errlen);
    if (rc)
        goto out;
    rc = tm_privesc_catalog_parse(out, tm_buf_str(&b), b.len, path, actions, err, errlen);
out:
    tm_buf_clean_up(&b);
    return rc;
}

size_t tm_privesc_catalog_count(const struct tm_privesc_catalog *cat) {
    return cat ? cat->count : 0;
}

const struct tm_privesc_technique *tm_privesc_catalog_get(const struct tm_privesc_catalog *cat, size_t index) {
    return cat && index < cat->count ? &cat->techniques[index] : NULL;
}

const struct tm_privesc_technique *tm_privesc_catalog_find(const struct tm_privesc_catalog *cat, const char *id) {
    if (!cat || !id)
        return NULL;
    size_t lo = 0, hi = cat->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(cat->techniques[mid].id, id);
        if (c == 0)
            return &cat->techniques[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
