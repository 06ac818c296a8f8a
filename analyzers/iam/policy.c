/* Parsing AWS policy documents into the compiled form of iam_int.h.
 *
 * Accepts every form AWS does ("IAM JSON policy elements reference"): Statement as an object or an
 * array; Action/NotAction, Resource/NotResource and principal values as a string or an array; "*" and
 * {"AWS": "*"}; account principals as "123456789012" or "arn:aws:iam::123456789012:root"; Service,
 * Federated and CanonicalUser principals; condition values as strings, numbers, booleans or arrays of
 * them; Version 2008-10-17 (variables literal) and 2012-10-17. Rejects, with the statement and element
 * named, what AWS would reject: unknown or duplicated elements, both Action and NotAction, wildcards
 * inside principal ARNs, unknown condition operators, values an operator cannot compare. */
#include "analyzers/iam/policy.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/iam/iam_int.h"
#include "core/str.h"

struct s_parser {
    struct tm_iam_policy *pol;
    struct tm__iam_arena *a;         /* where the policy's parts go */
    struct tm__iam_strings *strings; /* where its strings go, shared with other policies; NULL: in a */
    char *err;
    size_t errlen;
    /* The statement being read, for messages: its index + 1 (0 before the first) and Sid string or NULL. Put
     * into words only when a message is written, not for every statement read. */
    size_t where_stmt;
    const char *where_sid;
    /* Where statements are printed as evidence before their copy into the arena: one buffer for them all. */
    char *scratch;
    size_t scratch_len;
};

__attribute__((format(printf, 3, 4))) static int s_fail(struct s_parser *ps, const char *field, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char where[160] = ""; /* "statement 2 (Sid \"Read\")" */
    if (ps->where_stmt && ps->where_sid)
        snprintf(where, sizeof(where), "statement %zu (Sid \"%.100s\")", ps->where_stmt - 1, ps->where_sid);
    else if (ps->where_stmt)
        snprintf(where, sizeof(where), "statement %zu", ps->where_stmt - 1);
    if (ps->err && ps->errlen) {
        if (where[0] && field)
            snprintf(ps->err, ps->errlen, "%s: %s: %s", where, field, msg);
        else if (where[0])
            snprintf(ps->err, ps->errlen, "%s: %s", where, msg);
        else if (field)
            snprintf(ps->err, ps->errlen, "%s: %s", field, msg);
        else
            snprintf(ps->err, ps->errlen, "%s", msg);
    }
    return TM_ERR_PARSE;
}

static int s_nomem(struct s_parser *ps) {
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "out of memory");
    return TM_ERR_NOMEM;
}

/* A string of the policy: shared with the other policies of a cache (parts of the same text are the same string). */
static const char *s_strn(struct s_parser *ps, const char *s, size_t n) {
    return tm__iam_str(ps->a, ps->strings, s, n);
}

static const char *s_str(struct s_parser *ps, const char *s) {
    return s_strn(ps, s, strlen(s));
}

/* s in lower case (or as an encoded action pattern: wildcards as TM__IAM_STAR/TM__IAM_QMARK too), made into a
 * policy string. */
static const char *s_lower(struct s_parser *ps, const char *s, bool wildcards) {
    size_t n = strlen(s);
    char stack[256];
    char *buf = n < sizeof(stack) ? stack : malloc(n + 1);
    if (!buf)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)s[i]);
        buf[i] = wildcards && c == '*' ? TM__IAM_STAR : wildcards && c == '?' ? TM__IAM_QMARK : c;
    }
    buf[n] = '\0';
    const char *out = s_strn(ps, buf, n);
    if (buf != stack)
        free(buf);
    return out;
}

/* Rejects the two bytes used as wildcards inside compiled patterns. */
static bool s_clean(const char *s) {
    return !strchr(s, TM__IAM_STAR) && !strchr(s, TM__IAM_QMARK);
}

/* A string or a non-empty array of strings, as Action, Resource and principal values are. */
static int s_string_list(struct s_parser *ps, const cJSON *item, const char *field, const char ***out, size_t *n) {
    struct tm__iam_arena *a = ps->a;
    if (cJSON_IsString(item)) {
        const char **list = tm__iam_arena_alloc(a, sizeof(*list));
        if (!list || !(list[0] = s_str(ps, item->valuestring)))
            return s_nomem(ps);
        *out = list;
        *n = 1;
        return TM_OK;
    }
    if (!cJSON_IsArray(item))
        return s_fail(ps, field, "expected a string or an array of strings");
    size_t count = (size_t)cJSON_GetArraySize(item);
    if (count == 0)
        return s_fail(ps, field, "empty array");
    const char **list = tm__iam_arena_alloc(a, count * sizeof(*list));
    if (!list)
        return s_nomem(ps);
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, item) {
        if (!cJSON_IsString(el))
            return s_fail(ps, field, "element %zu: expected a string", i);
        if (!(list[i++] = s_str(ps, el->valuestring)))
            return s_nomem(ps);
    }
    *out = list;
    *n = count;
    return TM_OK;
}

static int s_compile_action(struct s_parser *ps, const char *field, const char *text, struct tm__iam_pat *p) {
    p->text = text;
    if (!*text)
        return s_fail(ps, field, "empty action");
    if (!s_clean(text))
        return s_fail(ps, field, "\"%s\" has a control character", text);
    if (strcmp(text, "*") == 0) {
        p->any = true;
        p->enc = "\x01";
        return TM_OK;
    }
    const char *colon = strchr(text, ':');
    if (!colon || colon == text)
        return s_fail(ps, field, "\"%s\" is not of the form service:action", text);
    const char *lc = s_lower(ps, text, true);
    if (!lc)
        return s_nomem(ps);
    p->enc = lc;
    size_t svc_len = (size_t)(colon - text);
    if (!memchr(text, '*', svc_len) && !memchr(text, '?', svc_len)) {
        p->service = lc; /* its first service_len characters */
        p->service_len = (uint32_t)svc_len;
    }
    return TM_OK;
}

static int s_compile_resource(struct s_parser *ps, const char *field, const char *text, struct tm__iam_pat *p) {
    p->text = text;
    if (!*text)
        return s_fail(ps, field, "empty resource");
    if (!s_clean(text))
        return s_fail(ps, field, "\"%s\" has a control character", text);
    if (strcmp(text, "*") == 0) {
        p->any = true;
        p->enc = "\x01";
        return TM_OK;
    }
    if (ps->pol->version == TM_IAM_VERSION_2012 && tm__iam_has_vars(text)) {
        p->has_vars = true;
        return TM_OK;
    }
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = tm__iam_encode(&b, text, strlen(text), true);
    if (!rc) {
        p->enc = s_strn(ps, tm_buf_str(&b), b.len);
        rc = p->enc ? TM_OK : TM_ERR_NOMEM;
    }
    tm_buf_clean_up(&b);
    return rc == TM_ERR_NOMEM ? s_nomem(ps) : rc;
}

static bool s_is_unique_id(const char *s) {
    /* AIDA (user), AROA (role), AIPA, ANPA...: four upper-case letters then 16+ upper-case/digits. */
    size_t n = strlen(s);
    if (n < 20 || n > 128 || s[0] != 'A')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isupper((unsigned char)s[i]) || (i >= 4 && isdigit((unsigned char)s[i]))))
            return false;
    return true;
}

static int s_classify_aws(struct s_parser *ps, const char *field, const char *v, struct tm__iam_principal *p) {
    if (strcmp(v, "*") == 0) {
        p->type = TM_IAM_PTYPE_ANY;
        return TM_OK;
    }
    if (strchr(v, '*') || strchr(v, '?'))
        return s_fail(ps, field, "\"%s\": a principal cannot contain a wildcard (only \"*\" alone)", v);
    p->type = TM_IAM_PTYPE_AWS;
    if (tm__iam_is_account_id(v, strlen(v))) {
        p->aws_kind = TM_IAM_AWS_ACCOUNT;
        p->account = p->value;
        return TM_OK;
    }
    struct tm__iam_arn arn;
    if (tm__iam_arn_split(v, &arn)) {
        if (!tm__iam_is_account_id(arn.part[4], arn.len[4]))
            return s_fail(ps, field, "\"%s\": no account id in the principal ARN", v);
        p->account = s_strn(ps, arn.part[4], arn.len[4]);
        if (!p->account)
            return s_nomem(ps);
        const char *res = arn.part[5];
        bool iam = arn.len[2] == 3 && memcmp(arn.part[2], "iam", 3) == 0;
        bool sts = arn.len[2] == 3 && memcmp(arn.part[2], "sts", 3) == 0;
        if (iam && strcmp(res, "root") == 0)
            p->aws_kind = TM_IAM_AWS_ACCOUNT;
        else if (iam && strncmp(res, "user/", 5) == 0)
            p->aws_kind = TM_IAM_AWS_USER;
        else if (iam && strncmp(res, "role/", 5) == 0)
            p->aws_kind = TM_IAM_AWS_ROLE;
        else if (sts && strncmp(res, "assumed-role/", 13) == 0)
            p->aws_kind = TM_IAM_AWS_ASSUMED_ROLE;
        else if (sts && strncmp(res, "federated-user/", 15) == 0)
            p->aws_kind = TM_IAM_AWS_FEDERATED_USER;
        else
            p->aws_kind = TM_IAM_AWS_OTHER;
        return TM_OK;
    }
    if (s_is_unique_id(v)) {
        p->aws_kind = TM_IAM_AWS_UNIQUE_ID;
        return TM_OK;
    }
    return s_fail(ps, field, "\"%s\" is neither an account id, an ARN nor \"*\"", v);
}

static int s_principals(struct s_parser *ps, const cJSON *item, const char *field, struct tm__iam_stmt *st) {
    struct tm__iam_arena *a = ps->a;
    if (cJSON_IsString(item)) {
        if (strcmp(item->valuestring, "*") != 0)
            return s_fail(ps, field, "a string principal must be \"*\"; use {\"AWS\": ...} for accounts");
        st->principals = tm__iam_arena_alloc(a, sizeof(*st->principals));
        if (!st->principals)
            return s_nomem(ps);
        st->principals[0].type = TM_IAM_PTYPE_ANY;
        st->principals[0].value = "*";
        st->n_principals = 1;
        return TM_OK;
    }
    if (!cJSON_IsObject(item))
        return s_fail(ps, field, "expected \"*\" or an object");
    size_t total = 0;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, item) {
        total += cJSON_IsArray(kv) ? (size_t)cJSON_GetArraySize(kv) : 1;
    }
    if (total == 0)
        return s_fail(ps, field, "no principals");
    st->principals = tm__iam_arena_alloc(a, total * sizeof(*st->principals));
    if (!st->principals)
        return s_nomem(ps);
    cJSON_ArrayForEach(kv, item) {
        char sub[96];
        snprintf(sub, sizeof(sub), "%s.%s", field, kv->string);
        enum tm_iam_principal_type type;
        if (strcmp(kv->string, "AWS") == 0)
            type = TM_IAM_PTYPE_AWS;
        else if (strcmp(kv->string, "Service") == 0)
            type = TM_IAM_PTYPE_SERVICE;
        else if (strcmp(kv->string, "Federated") == 0)
            type = TM_IAM_PTYPE_FEDERATED;
        else if (strcmp(kv->string, "CanonicalUser") == 0)
            type = TM_IAM_PTYPE_CANONICAL;
        else
            return s_fail(ps, field, "unknown principal type \"%s\" (AWS, Service, Federated, CanonicalUser)",
                          kv->string);
        for (const cJSON *o = item->child; o != kv; o = o->next)
            if (strcmp(o->string, kv->string) == 0)
                return s_fail(ps, field, "\"%s\" appears twice", kv->string);
        const char **vals;
        size_t nv;
        int rc = s_string_list(ps, kv, sub, &vals, &nv);
        if (rc)
            return rc;
        for (size_t i = 0; i < nv; i++) {
            struct tm__iam_principal *p = &st->principals[st->n_principals++];
            p->value = vals[i];
            if (!*vals[i])
                return s_fail(ps, sub, "empty principal");
            if (type == TM_IAM_PTYPE_AWS) {
                rc = s_classify_aws(ps, sub, vals[i], p);
                if (rc)
                    return rc;
            } else {
                p->type = type;
            }
        }
    }
    return TM_OK;
}

static int s_value_text(struct s_parser *ps, const cJSON *v, const char *field, const char **out) {
    if (cJSON_IsString(v)) {
        *out = s_str(ps, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v) ? "true" : "false";
    } else if (cJSON_IsNumber(v)) {
        /* cJSON prints a number in at most 26 characters ("%1.17g"). */
        char txt[64];
        if (!cJSON_PrintPreallocated((cJSON *)v, txt, (int)sizeof(txt), false))
            return s_nomem(ps);
        *out = s_str(ps, txt);
    } else {
        return s_fail(ps, field, "expected a string, number or boolean");
    }
    if (!*out)
        return s_nomem(ps);
    if (!s_clean(*out))
        return s_fail(ps, field, "value has a control character");
    return TM_OK;
}

static int s_conditions(struct s_parser *ps, const cJSON *item, struct tm__iam_stmt *st) {
    struct tm__iam_arena *a = ps->a;
    if (!cJSON_IsObject(item))
        return s_fail(ps, "Condition", "expected an object of operators");
    size_t total = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, item) {
        if (!cJSON_IsObject(op))
            return s_fail(ps, "Condition", "%s: expected an object of condition keys", op->string);
        total += (size_t)cJSON_GetArraySize(op);
    }
    st->conds = tm__iam_arena_alloc(a, (total ? total : 1) * sizeof(*st->conds));
    if (!st->conds)
        return s_nomem(ps);
    cJSON_ArrayForEach(op, item) {
        for (const cJSON *o = item->child; o != op; o = o->next)
            if (strcmp(o->string, op->string) == 0)
                return s_fail(ps, "Condition", "operator %s appears twice", op->string);
        enum tm__iam_op code;
        bool negated, if_exists;
        int set_op;
        const char *base;
        if (!tm__iam_op_parse(op->string, &code, &negated, &if_exists, &set_op, &base))
            return s_fail(ps, "Condition", "unknown condition operator \"%s\"", op->string);
        if (cJSON_GetArraySize(op) == 0)
            return s_fail(ps, "Condition", "%s: no condition keys", op->string);
        const char *op_text = s_str(ps, op->string);
        if (!op_text)
            return s_nomem(ps);
        const cJSON *key;
        cJSON_ArrayForEach(key, op) {
            char field[256];
            snprintf(field, sizeof(field), "Condition.%s.%s", op->string, key->string);
            for (const cJSON *o = op->child; o != key; o = o->next)
                if (tm_str_ieq(o->string, key->string))
                    return s_fail(ps, field, "key appears twice");
            if (!*key->string)
                return s_fail(ps, field, "empty condition key");
            struct tm__iam_cond *c = &st->conds[st->n_conds++];
            c->op_text = op_text;
            c->base_name = base;
            c->op = code;
            c->negated = negated;
            c->if_exists = if_exists;
            c->set_op = set_op;
            c->key = s_str(ps, key->string);
            c->key_lc = s_lower(ps, key->string, false);
            if (!c->key || !c->key_lc)
                return s_nomem(ps);
            size_t nv = cJSON_IsArray(key) ? (size_t)cJSON_GetArraySize(key) : 1;
            if (nv == 0)
                return s_fail(ps, field, "empty list of values");
            c->values = tm__iam_arena_alloc(a, nv * sizeof(*c->values));
            c->value_texts = tm__iam_arena_alloc(a, nv * sizeof(*c->value_texts));
            if (!c->values || !c->value_texts)
                return s_nomem(ps);
            const cJSON *first = cJSON_IsArray(key) ? key->child : key;
            size_t i = 0;
            for (const cJSON *v = first; v && i < nv; v = cJSON_IsArray(key) ? v->next : NULL, i++) {
                int rc = s_value_text(ps, v, field, &c->values[i].text);
                if (rc)
                    return rc;
                c->value_texts[i] = c->values[i].text;
                char why[256] = "";
                rc = tm__iam_cvalue_compile(a, ps->strings, &c->values[i], code,
                                            ps->pol->version == TM_IAM_VERSION_2012, why, sizeof(why));
                if (rc == TM_ERR_NOMEM)
                    return s_nomem(ps);
                if (rc)
                    return s_fail(ps, field, "%s", why);
            }
            c->n_values = nv;
        }
    }
    return TM_OK;
}

static const char *const s_stmt_elements[] = {"Sid",         "Effect",    "Action",       "NotAction", "Resource",
                                              "NotResource", "Principal", "NotPrincipal", "Condition"};

static int s_statement(struct s_parser *ps, const cJSON *js, size_t index, struct tm__iam_stmt *st) {
    struct tm__iam_arena *a = ps->a;
    enum tm_iam_policy_kind kind = ps->pol->kind;
    st->index = (uint32_t)index;
    ps->where_stmt = index + 1;
    ps->where_sid = NULL;
    if (!cJSON_IsObject(js))
        return s_fail(ps, NULL, "expected an object");
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(js, "Sid");
    if (sid && cJSON_IsString(sid))
        ps->where_sid = sid->valuestring;
    const cJSON *el;
    cJSON_ArrayForEach(el, js) {
        bool known = false;
        for (size_t i = 0; i < sizeof(s_stmt_elements) / sizeof(s_stmt_elements[0]) && !known; i++)
            known = strcmp(el->string, s_stmt_elements[i]) == 0;
        if (!known)
            return s_fail(ps, el->string, "unknown element");
        for (const cJSON *o = js->child; o != el; o = o->next)
            if (strcmp(o->string, el->string) == 0)
                return s_fail(ps, el->string, "appears twice");
    }
    if (sid) {
        if (!cJSON_IsString(sid))
            return s_fail(ps, "Sid", "expected a string");
        if (!(st->sid = s_str(ps, sid->valuestring)))
            return s_nomem(ps);
    }
    const cJSON *effect = cJSON_GetObjectItemCaseSensitive(js, "Effect");
    if (!effect)
        return s_fail(ps, "Effect", "missing");
    if (!cJSON_IsString(effect))
        return s_fail(ps, "Effect", "expected \"Allow\" or \"Deny\"");
    if (strcmp(effect->valuestring, "Allow") == 0)
        st->effect = TM_IAM_ALLOW;
    else if (strcmp(effect->valuestring, "Deny") == 0)
        st->effect = TM_IAM_DENY;
    else
        return s_fail(ps, "Effect", "\"%s\" is neither \"Allow\" nor \"Deny\"", effect->valuestring);

    const cJSON *action = cJSON_GetObjectItemCaseSensitive(js, "Action");
    const cJSON *not_action = cJSON_GetObjectItemCaseSensitive(js, "NotAction");
    if (action && not_action)
        return s_fail(ps, "NotAction", "a statement cannot have both Action and NotAction");
    if (!action && !not_action)
        return s_fail(ps, "Action", "missing (a statement needs Action or NotAction)");
    st->not_action = not_action != NULL;
    const char *afield = action ? "Action" : "NotAction";
    size_t n_list = 0;
    int rc = s_string_list(ps, action ? action : not_action, afield, &st->action_texts, &n_list);
    if (rc)
        return rc;
    st->n_actions = (uint32_t)n_list;
    st->actions = tm__iam_arena_alloc(a, st->n_actions * sizeof(*st->actions));
    if (!st->actions)
        return s_nomem(ps);
    for (size_t i = 0; i < st->n_actions; i++)
        if ((rc = s_compile_action(ps, afield, st->action_texts[i], &st->actions[i])))
            return rc;

    const cJSON *res = cJSON_GetObjectItemCaseSensitive(js, "Resource");
    const cJSON *not_res = cJSON_GetObjectItemCaseSensitive(js, "NotResource");
    if (res && not_res)
        return s_fail(ps, "NotResource", "a statement cannot have both Resource and NotResource");
    if (!res && !not_res && kind == TM_IAM_POLICY_IDENTITY)
        return s_fail(ps, "Resource", "missing (an identity-based policy statement needs Resource or NotResource)");
    if (res || not_res) {
        const char *rfield = res ? "Resource" : "NotResource";
        st->has_resource = true;
        st->not_resource = not_res != NULL;
        rc = s_string_list(ps, res ? res : not_res, rfield, &st->resource_texts, &n_list);
        if (rc)
            return rc;
        st->n_resources = (uint32_t)n_list;
        st->resources = tm__iam_arena_alloc(a, st->n_resources * sizeof(*st->resources));
        if (!st->resources)
            return s_nomem(ps);
        for (size_t i = 0; i < st->n_resources; i++)
            if ((rc = s_compile_resource(ps, rfield, st->resource_texts[i], &st->resources[i])))
                return rc;
    }

    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(js, "Principal");
    const cJSON *not_pr = cJSON_GetObjectItemCaseSensitive(js, "NotPrincipal");
    if (pr && not_pr)
        return s_fail(ps, "NotPrincipal", "a statement cannot have both Principal and NotPrincipal");
    if ((pr || not_pr) && (kind == TM_IAM_POLICY_IDENTITY || kind == TM_IAM_POLICY_SCP))
        return s_fail(ps, pr ? "Principal" : "NotPrincipal", "not allowed in %s policies",
                      kind == TM_IAM_POLICY_SCP ? "service control" : "identity-based");
    if (!pr && !not_pr && (kind == TM_IAM_POLICY_RESOURCE || kind == TM_IAM_POLICY_TRUST || kind == TM_IAM_POLICY_RCP))
        return s_fail(ps, "Principal", "missing (a resource-based policy statement needs Principal or NotPrincipal)");
    if (pr || not_pr) {
        st->principal_mode = pr ? TM_IAM_PRINCIPAL_LIST : TM_IAM_PRINCIPAL_NOT;
        rc = s_principals(ps, pr ? pr : not_pr, pr ? "Principal" : "NotPrincipal", st);
        if (rc)
            return rc;
        if (kind == TM_IAM_POLICY_RCP &&
            (not_pr || st->n_principals != 1 || st->principals[0].type != TM_IAM_PTYPE_ANY))
            return s_fail(ps, "Principal", "a resource control policy must name \"*\" as its principal");
    }

    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(js, "Condition");
    if (cond && (rc = s_conditions(ps, cond, st)))
        return rc;

    /* The statement prints within the scratch buffer when it is no longer than the document (always, for a
     * document printed compactly); else on its own. */
    if (ps->scratch && cJSON_PrintPreallocated((cJSON *)js, ps->scratch, (int)ps->scratch_len, false)) {
        st->json = tm__iam_arena_strdup(a, ps->scratch);
    } else {
        char *json = cJSON_PrintUnformatted(js);
        if (!json)
            return s_nomem(ps);
        st->json = tm__iam_arena_strdup(a, json);
        cJSON_free(json);
    }
    return st->json ? TM_OK : s_nomem(ps);
}

static void s_line_col(const char *text, size_t off, size_t *line, size_t *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* cJSON turns \u0000 into a terminator, silently cutting the string short; AWS would not store it. */
static bool s_has_nul_escape(const char *text, size_t len, size_t *at) {
    /* From one backslash to the next (memchr), not byte by byte: most documents have few. */
    const char *p = text;
    while ((p = memchr(p, '\\', len - (size_t)(p - text))) != NULL) {
        size_t i = (size_t)(p - text);
        if (i + 5 >= len)
            return false;
        if (text[i + 1] == 'u' && text[i + 2] == '0' && text[i + 3] == '0' && text[i + 4] == '0' &&
            text[i + 5] == '0') {
            *at = i;
            return true;
        }
        p += 2; /* skip the escaped character, so "\\\\u0000" is not misread */
    }
    return false;
}

/* What the JSON parser would let through but AWS would not store: invalid UTF-8, NUL bytes, \u0000. */
static int s_check_text(struct s_parser *ps, const char *text, size_t len) {
    size_t bad = 0, line, col;
    if (!tm__iam_utf8_valid(text, len, &bad)) {
        s_line_col(text, bad, &line, &col);
        return s_fail(ps, NULL, "line %zu column %zu: not valid UTF-8", line, col);
    }
    if (memchr(text, '\0', len)) {
        s_line_col(text, (size_t)((const char *)memchr(text, '\0', len) - text), &line, &col);
        return s_fail(ps, NULL, "line %zu column %zu: NUL byte in the document", line, col);
    }
    if (s_has_nul_escape(text, len, &bad)) {
        s_line_col(text, bad, &line, &col);
        return s_fail(ps, NULL, "line %zu column %zu: \\u0000 is not allowed in a policy", line, col);
    }
    return TM_OK;
}

/* The document's elements, from its parsed JSON. */
static int s_parse_root(struct s_parser *ps, const cJSON *root) {
    struct tm_iam_policy *pol = ps->pol;
    if (!cJSON_IsObject(root))
        return s_fail(ps, NULL, "a policy must be a JSON object");
    const cJSON *el;
    cJSON_ArrayForEach(el, root) {
        if (strcmp(el->string, "Version") != 0 && strcmp(el->string, "Id") != 0 && strcmp(el->string, "Statement") != 0)
            return s_fail(ps, el->string, "unknown element (a policy has Version, Id and Statement)");
        for (const cJSON *o = root->child; o != el; o = o->next)
            if (strcmp(o->string, el->string) == 0)
                return s_fail(ps, el->string, "appears twice");
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (ver) {
        if (cJSON_IsString(ver) && strcmp(ver->valuestring, "2012-10-17") == 0)
            pol->version = TM_IAM_VERSION_2012;
        else if (cJSON_IsString(ver) && strcmp(ver->valuestring, "2008-10-17") == 0)
            pol->version = TM_IAM_VERSION_2008;
        else
            return s_fail(ps, "Version", "expected \"2012-10-17\" or \"2008-10-17\"");
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "Id");
    if (id) {
        if (!cJSON_IsString(id))
            return s_fail(ps, "Id", "expected a string");
        if (!(pol->id = s_str(ps, id->valuestring)))
            return s_nomem(ps);
    }
    const cJSON *stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    if (!stmts)
        return s_fail(ps, "Statement", "missing");
    if (cJSON_IsObject(stmts))
        pol->n_stmts = 1;
    else if (cJSON_IsArray(stmts))
        pol->n_stmts = (size_t)cJSON_GetArraySize(stmts);
    else
        return s_fail(ps, "Statement", "expected an object or an array of objects");
    pol->stmts = tm__iam_arena_alloc(ps->a, (pol->n_stmts ? pol->n_stmts : 1) * sizeof(*pol->stmts));
    if (!pol->stmts)
        return s_nomem(ps);
    if (cJSON_IsObject(stmts))
        return s_statement(ps, stmts, 0, &pol->stmts[0]);
    size_t i = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, stmts) {
        int rc = s_statement(ps, st, i, &pol->stmts[i]);
        if (rc)
            return rc;
        i++;
    }
    return TM_OK;
}

/* Keeps the document's text and reads its elements from root (parsed from text, or the tree text was printed
 * from). */
static int s_parse_tree(struct s_parser *ps, const cJSON *root, const char *text, size_t len) {
    struct tm_iam_policy *pol = ps->pol;
    pol->text = tm__iam_arena_strndup(ps->a, text, len);
    if (!pol->text)
        return s_nomem(ps);
    pol->text_len = len;
    /* Statements print compactly in no more than the compact document's length; cJSON asks for 5 bytes of
     * slack. */
    char stack[2048];
    ps->scratch_len = len + 64;
    ps->scratch = ps->scratch_len <= sizeof(stack) ? stack : malloc(ps->scratch_len);
    int rc = s_parse_root(ps, root);
    if (ps->scratch != stack)
        free(ps->scratch);
    ps->scratch = NULL;
    return rc;
}

static int s_parse(struct s_parser *ps, const char *text, size_t len) {
    int rc = s_check_text(ps, text, len);
    if (rc)
        return rc;
    size_t line, col;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        s_line_col(text, off, &line, &col);
        return s_fail(ps, NULL, "line %zu column %zu: malformed JSON", line, col);
    }
    for (const char *p = end; p && p < text + len; p++) {
        if (!isspace((unsigned char)*p)) {
            s_line_col(text, (size_t)(p - text), &line, &col);
            rc = s_fail(ps, NULL, "line %zu column %zu: text after the policy document", line, col);
            goto done;
        }
    }
    rc = s_parse_tree(ps, root, text, len);
done:
    cJSON_Delete(root);
    return rc;
}

/* What a policy needs, roughly, per byte of its compact JSON: its text, each statement's JSON, the strings
 * and their compiled forms, the structures. Measured on generated accounts: 4 to 6 bytes per byte, 5 on
 * average; a policy that needs more takes a second chunk. */
static size_t s_arena_estimate(size_t len) {
    return sizeof(struct tm_iam_policy) + 5 * len + 128;
}

static struct tm_iam_policy *s_policy_new(enum tm_iam_policy_kind kind, size_t len) {
    struct tm__iam_arena a;
    tm__iam_arena_init_sized(&a, len < TM_IAM_POLICY_MAX_BYTES ? s_arena_estimate(len) : 0);
    struct tm_iam_policy *pol = tm__iam_arena_alloc(&a, sizeof(*pol));
    struct tm__iam_arena *own = pol ? tm__iam_arena_alloc(&a, sizeof(*own)) : NULL;
    if (!own) {
        tm__iam_arena_clean_up(&a);
        return NULL;
    }
    /* From here the arena is the copy in its own first chunk. */
    *own = a;
    pol->own = own;
    pol->kind = kind;
    return pol;
}

static int s_check_args(const void *doc, size_t len, char *err, size_t errlen) {
    if (err && errlen)
        err[0] = '\0';
    if (!doc) {
        if (err && errlen)
            snprintf(err, errlen, "no policy text");
        return TM_ERR_INVALID;
    }
    if (len > TM_IAM_POLICY_MAX_BYTES) {
        if (err && errlen)
            snprintf(err, errlen, "policy of %zu bytes is over the %u-byte limit", len, TM_IAM_POLICY_MAX_BYTES);
        return TM_ERR_TOO_BIG;
    }
    return TM_OK;
}

/* Would the tree print to text that parses back to the same tree? Not for numbers that are not finite
 * (printed "null") or raw items; such a document is parsed from its text, as it always was. */
static bool s_tree_round_trips(const cJSON *item, int depth) {
    if (depth > 64 || cJSON_IsRaw(item) || cJSON_IsInvalid(item) ||
        (cJSON_IsNumber(item) && !isfinite(item->valuedouble)))
        return false;
    if (cJSON_IsObject(item) || cJSON_IsArray(item))
        for (const cJSON *c = item->child; c; c = c->next)
            if (!s_tree_round_trips(c, depth + 1))
                return false;
    return true;
}

int tm__iam_policy_parse_printed(struct tm_iam_policy **out, struct tm__iam_arena *shared,
                                 struct tm__iam_strings *strings, const cJSON *doc, const char *text, size_t len,
                                 enum tm_iam_policy_kind kind, char *err, size_t errlen) {
    *out = NULL;
    int rc = s_check_args(text, len, err, errlen);
    if (rc)
        return rc;
    if (doc && !s_tree_round_trips(doc, 0))
        doc = NULL;
    struct tm__iam_arena_mark mark;
    struct tm_iam_policy *pol;
    if (shared) {
        tm__iam_arena_mark(shared, &mark);
        pol = tm__iam_arena_alloc(shared, sizeof(*pol));
        if (pol)
            pol->kind = kind;
    } else {
        pol = s_policy_new(kind, len);
    }
    if (!pol)
        return TM_ERR_NOMEM;
    struct s_parser ps = {
        .pol = pol, .a = shared ? shared : pol->own, .strings = shared ? strings : NULL, .err = err, .errlen = errlen};
    if (!doc) {
        rc = s_parse(&ps, text, len);
    } else {
        rc = s_check_text(&ps, text, len);
        if (!rc)
            rc = s_parse_tree(&ps, doc, text, len);
    }
    if (rc) {
        if (shared)
            tm__iam_arena_reset(shared, &mark);
        else
            tm_iam_policy_destroy(pol);
        return rc;
    }
    if (shared)
        pol->shared_bytes = shared->used_bytes - mark.used_bytes;
    *out = pol;
    return TM_OK;
}

int tm_iam_policy_parse(struct tm_iam_policy **out, const char *text, size_t len, enum tm_iam_policy_kind kind,
                        char *err, size_t errlen) {
    return tm__iam_policy_parse_printed(out, NULL, NULL, NULL, text, len, kind, err, errlen);
}

int tm_iam_policy_parse_json(struct tm_iam_policy **out, const cJSON *doc, enum tm_iam_policy_kind kind, char *err,
                             size_t errlen) {
    *out = NULL;
    if (!doc) {
        if (err && errlen)
            snprintf(err, errlen, "no policy document");
        return TM_ERR_INVALID;
    }
    char *text = cJSON_PrintUnformatted(doc);
    if (!text) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return TM_ERR_NOMEM;
    }
    int rc = tm__iam_policy_parse_printed(out, NULL, NULL, doc, text, strlen(text), kind, err, errlen);
    cJSON_free(text);
    return rc;
}

int tm_iam_policy_load(struct tm_iam_policy **out, const char *path, enum tm_iam_policy_kind kind, char *err,
                       size_t errlen) {
    *out = NULL;
    struct tm_buf b;
    tm_buf_init(&b, TM_IAM_POLICY_MAX_BYTES);
    char msg[512] = "";
    int rc = tm_file_read(&b, path, TM_IAM_POLICY_MAX_BYTES, msg, sizeof(msg));
    if (rc) {
        if (err && errlen)
            snprintf(err, errlen, "%s", msg[0] ? msg : tm_error_str(rc));
        goto out;
    }
    rc = tm_iam_policy_parse(out, b.data ? b.data : "", b.len, kind, msg, sizeof(msg));
    if (rc && err && errlen)
        snprintf(err, errlen, "%s: %s", path, msg);
out:
    tm_buf_clean_up(&b);
    return rc;
}

void tm_iam_policy_destroy(struct tm_iam_policy *policy) {
    /* A shared policy goes with its cache's arena. */
    if (!policy || !policy->own)
        return;
    /* The policy and its arena live in that arena: cleaned up from a copy. */
    struct tm__iam_arena a = *policy->own;
    tm__iam_arena_clean_up(&a);
}

size_t tm_iam_policy_memory_bytes(const struct tm_iam_policy *policy) {
    if (!policy)
        return 0;
    return policy->own ? tm__iam_arena_bytes(policy->own) : policy->shared_bytes;
}

enum tm_iam_policy_kind tm_iam_policy_kind(const struct tm_iam_policy *policy) {
    return policy->kind;
}

enum tm_iam_version tm_iam_policy_version(const struct tm_iam_policy *policy) {
    return policy->version;
}

const char *tm_iam_policy_id(const struct tm_iam_policy *policy) {
    return policy->id;
}

const char *tm_iam_policy_text(const struct tm_iam_policy *policy) {
    return policy->text;
}

size_t tm_iam_policy_statement_count(const struct tm_iam_policy *policy) {
    return policy->n_stmts;
}

int tm_iam_policy_statement(const struct tm_iam_policy *policy, size_t index, struct tm_iam_statement_view *out) {
    if (index >= policy->n_stmts)
        return TM_ERR_NOT_FOUND;
    const struct tm__iam_stmt *s = &policy->stmts[index];
    out->index = s->index;
    out->sid = s->sid;
    out->effect = s->effect;
    out->not_action = s->not_action;
    out->actions = s->action_texts;
    out->n_actions = s->n_actions;
    out->has_resource = s->has_resource;
    out->not_resource = s->not_resource;
    out->resources = s->resource_texts;
    out->n_resources = s->n_resources;
    out->principal_mode = s->principal_mode;
    out->n_principals = s->n_principals;
    out->n_conditions = s->n_conds;
    out->json = s->json;
    return TM_OK;
}

int tm_iam_policy_principal(const struct tm_iam_policy *policy, size_t stmt, size_t index,
                            struct tm_iam_principal_view *out) {
    if (stmt >= policy->n_stmts || index >= policy->stmts[stmt].n_principals)
        return TM_ERR_NOT_FOUND;
    const struct tm__iam_principal *p = &policy->stmts[stmt].principals[index];
    out->type = p->type;
    out->aws_kind = p->aws_kind;
    out->value = p->value;
    out->account = p->account;
    return TM_OK;
}

int tm_iam_policy_condition(const struct tm_iam_policy *policy, size_t stmt, size_t index,
                            struct tm_iam_condition_view *out) {
    if (stmt >= policy->n_stmts || index >= policy->stmts[stmt].n_conds)
        return TM_ERR_NOT_FOUND;
    const struct tm__iam_cond *c = &policy->stmts[stmt].conds[index];
    out->op = c->op_text;
    out->base_op = c->base_name;
    out->key = c->key;
    out->negated = c->negated;
    out->if_exists = c->if_exists;
    out->set_op = c->set_op;
    out->values = c->value_texts;
    out->n_values = c->n_values;
    return TM_OK;
}

bool tm_iam_policy_asks_who(const struct tm_iam_policy *policy) {
    const char *text = policy ? tm_iam_policy_text(policy) : NULL;
    static const char *const keys[] = {"principalarn",
                                       "principaltag",
                                       "principaltype",
                                       "principalisawsservice",
                                       "principalservicename",
                                       "userid",
                                       "username",
                                       "sourceidentity",
                                       "federatedprovider",
                                       "rolesessionname",
                                       NULL};
    for (const char *c = text; c && *c; c++) {
        if (c[0] == '$' && c[1] == '{')
            return true;
        if ((c[0] | 0x20) != 'a' || strncasecmp(c, "aws:", 4) != 0)
            continue;
        for (size_t i = 0; keys[i]; i++)
            if (strncasecmp(c + 4, keys[i], strlen(keys[i])) == 0)
                return true;
    }
    return false;
}

const char *tm_iam_effect_name(enum tm_iam_effect effect) {
    switch (effect) {
        case TM_IAM_ALLOW:
            return "Allow";
        case TM_IAM_DENY:
            return "Deny";
        default:
            return "?";
    }
}
