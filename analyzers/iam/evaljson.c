/* The `tmscan policy eval` protocol: one JSON object per line in, one per line out, in the words of
 * AWS's policy simulator ("allowed", "explicitDeny", "implicitDeny"). Input:
 *   {"id": any, "identityPolicies": [P...], "resourcePolicy": P|null, "scps": [P...] | [[P...]...],
 *    "rcps": (same), "permissionBoundaries": [P...], "sessionPolicies": [P...],
 *    "resourceAccount": "123456789012",
 *    "request": {"principal": "arn:...", "action": "s3:GetObject", "resource": "arn:...",
 *                "contextKeys": {"aws:SourceIp": "203.0.113.9", "aws:TagKeys": ["a", "b"], ...}}}
 * where P is a policy document (an object, or a string holding one). A flat "scps" list is one level
 * of the organization (one Allow suffices); a list of lists gives every level from the root down (each
 * level must allow). Output: {"id": same, "decision": "...", "matched": [{"policy": "...",
 * "statement": N}]} or {"id": same, "error": "..."}. */
#include "analyzers/iam/eval.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/iam_int.h"
#include "analyzers/iam/policy.h"

/* Everything one input line owns. */
struct s_line {
    struct tm_iam_policy **policies; /* every parsed policy, for destruction */
    size_t n_policies;
    size_t cap_policies;
    const struct tm_iam_policy **identity, **boundaries, **session;
    size_t n_identity, n_boundaries, n_session;
    struct tm_iam_policy_level *scp_levels, *rcp_levels;
    size_t n_scp_levels, n_rcp_levels;
    bool scp_nested, rcp_nested; /* given as a list of levels */
    const struct tm_iam_policy *resource;
    struct tm_iam_context ctx;
    char err[1024];
};

__attribute__((format(printf, 2, 3))) static int s_fail(struct s_line *ln, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ln->err, sizeof(ln->err), fmt, ap);
    va_end(ap);
    return TM_ERR_PARSE;
}

static int s_keep(struct s_line *ln, struct tm_iam_policy *p) {
    if (ln->n_policies == ln->cap_policies) {
        size_t cap = ln->cap_policies ? ln->cap_policies * 2 : 8;
        struct tm_iam_policy **np = realloc(ln->policies, cap * sizeof(*np));
        if (!np) {
            tm_iam_policy_destroy(p);
            return TM_ERR_NOMEM;
        }
        ln->policies = np;
        ln->cap_policies = cap;
    }
    ln->policies[ln->n_policies++] = p;
    return TM_OK;
}

static int s_policy(struct s_line *ln, const cJSON *item, enum tm_iam_policy_kind kind, const char *where,
                    const struct tm_iam_policy **out) {
    char err[768];
    struct tm_iam_policy *p = NULL;
    int rc;
    if (cJSON_IsString(item))
        rc = tm_iam_policy_parse(&p, item->valuestring, strlen(item->valuestring), kind, err, sizeof(err));
    else if (cJSON_IsObject(item))
        rc = tm_iam_policy_parse_json(&p, item, kind, err, sizeof(err));
    else
        return s_fail(ln, "%s: expected a policy document (an object or a JSON string)", where);
    if (rc == TM_ERR_NOMEM)
        return rc;
    if (rc)
        return s_fail(ln, "%s: %s", where, err);
    if ((rc = s_keep(ln, p)))
        return rc;
    *out = p;
    return TM_OK;
}

static int s_policy_list(struct s_line *ln, const cJSON *root, const char *name, enum tm_iam_policy_kind kind,
                         const struct tm_iam_policy ***out, size_t *n) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
    *n = 0;
    if (!arr || cJSON_IsNull(arr))
        return TM_OK;
    if (!cJSON_IsArray(arr))
        return s_fail(ln, "%s: expected an array of policies", name);
    size_t count = (size_t)cJSON_GetArraySize(arr);
    *out = calloc(count ? count : 1, sizeof(**out));
    if (!*out)
        return TM_ERR_NOMEM;
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        char where[64];
        snprintf(where, sizeof(where), "%s[%zu]", name, *n);
        int rc = s_policy(ln, el, kind, where, &(*out)[*n]);
        if (rc)
            return rc;
        (*n)++;
    }
    return TM_OK;
}

static int s_levels(struct s_line *ln, const cJSON *root, const char *name, enum tm_iam_policy_kind kind,
                    struct tm_iam_policy_level **out, size_t *n, bool *nested) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
    *n = 0;
    *nested = false;
    if (!arr || cJSON_IsNull(arr))
        return TM_OK;
    if (!cJSON_IsArray(arr))
        return s_fail(ln, "%s: expected an array of policies (or of arrays of policies, one per level)", name);
    const cJSON *el;
    cJSON_ArrayForEach(el, arr) {
        if (cJSON_IsArray(el))
            *nested = true;
    }
    size_t count = (size_t)cJSON_GetArraySize(arr);
    if (count == 0)
        return TM_OK;
    size_t levels = *nested ? count : 1;
    *out = calloc(levels, sizeof(**out));
    if (!*out)
        return TM_ERR_NOMEM;
    *n = levels; /* from here on the line's clean-up frees every level, also after an error */
    size_t li = 0;
    cJSON_ArrayForEach(el, arr) {
        struct tm_iam_policy_level *lv = &(*out)[*nested ? li : 0];
        size_t members = cJSON_IsArray(el) ? (size_t)cJSON_GetArraySize(el) : 1;
        size_t base = lv->n;
        const struct tm_iam_policy **pols = realloc((void *)lv->policies, (base + members + 1) * sizeof(*pols));
        if (!pols)
            return TM_ERR_NOMEM;
        lv->policies = pols;
        const cJSON *first = cJSON_IsArray(el) ? el->child : el;
        size_t k = 0;
        for (const cJSON *m = first; m && k < members; m = cJSON_IsArray(el) ? m->next : NULL, k++) {
            char where[64];
            if (*nested)
                snprintf(where, sizeof(where), "%s[%zu][%zu]", name, li, k);
            else
                snprintf(where, sizeof(where), "%s[%zu]", name, base + k);
            int rc = s_policy(ln, m, kind, where, &pols[base + k]);
            if (rc)
                return rc;
            lv->n++;
        }
        li++;
    }
    return TM_OK;
}

static int s_context_value(struct s_line *ln, const char *key, const cJSON *v) {
    char num[64];
    if (cJSON_IsString(v))
        return tm_iam_context_add(&ln->ctx, key, v->valuestring);
    if (cJSON_IsBool(v))
        return tm_iam_context_add(&ln->ctx, key, cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        char *txt = cJSON_PrintUnformatted(v);
        if (!txt)
            return TM_ERR_NOMEM;
        snprintf(num, sizeof(num), "%s", txt);
        cJSON_free(txt);
        return tm_iam_context_add(&ln->ctx, key, num);
    }
    return s_fail(ln, "request.contextKeys.%s: expected a string, number, boolean or an array of them", key);
}

static int s_context(struct s_line *ln, const cJSON *keys) {
    if (!keys || cJSON_IsNull(keys))
        return TM_OK;
    if (!cJSON_IsObject(keys))
        return s_fail(ln, "request.contextKeys: expected an object");
    const cJSON *kv;
    cJSON_ArrayForEach(kv, keys) {
        if (!*kv->string)
            return s_fail(ln, "request.contextKeys: empty key");
        int rc;
        if (cJSON_IsArray(kv)) {
            rc = tm_iam_context_set_empty(&ln->ctx, kv->string);
            const cJSON *v;
            cJSON_ArrayForEach(v, kv) {
                if (!rc)
                    rc = s_context_value(ln, kv->string, v);
            }
        } else {
            rc = s_context_value(ln, kv->string, kv);
        }
        if (rc)
            return rc;
    }
    return TM_OK;
}

static const char *s_req_string(struct s_line *ln, const cJSON *req, const char *name, bool required, int *rc) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            *rc = s_fail(ln, "request.%s: missing", name);
        return NULL;
    }
    if (!cJSON_IsString(v) || !*v->valuestring) {
        *rc = s_fail(ln, "request.%s: expected a non-empty string", name);
        return NULL;
    }
    return v->valuestring;
}

static void s_line_clean_up(struct s_line *ln) {
    for (size_t i = 0; i < ln->n_policies; i++)
        tm_iam_policy_destroy(ln->policies[i]);
    free(ln->policies);
    free((void *)ln->identity);
    free((void *)ln->boundaries);
    free((void *)ln->session);
    for (size_t i = 0; ln->scp_levels && i < ln->n_scp_levels; i++)
        free((void *)ln->scp_levels[i].policies);
    for (size_t i = 0; ln->rcp_levels && i < ln->n_rcp_levels; i++)
        free((void *)ln->rcp_levels[i].policies);
    free(ln->scp_levels);
    free(ln->rcp_levels);
    tm_iam_context_clean_up(&ln->ctx);
}

static const char *const s_known[] = {"id",     "identityPolicies", "resourcePolicy",       "scps",
                                      "rcps",   "sessionPolicies",  "permissionBoundaries", "resourceAccount",
                                      "request"};

/* Evaluates one parsed line; on success fills out (a cJSON object owned by the caller's tree). */
static int s_eval(struct s_line *ln, const cJSON *root, cJSON *out) {
    int rc;
    if (!cJSON_IsObject(root))
        return s_fail(ln, "expected a JSON object");
    const cJSON *el;
    cJSON_ArrayForEach(el, root) {
        bool known = false;
        for (size_t i = 0; i < sizeof(s_known) / sizeof(s_known[0]) && !known; i++)
            known = strcmp(el->string, s_known[i]) == 0;
        if (!known)
            return s_fail(ln, "%s: unknown field", el->string);
    }
    if ((rc = s_policy_list(ln, root, "identityPolicies", TM_IAM_POLICY_IDENTITY, &ln->identity, &ln->n_identity)))
        return rc;
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(root, "resourcePolicy");
    if (rp && !cJSON_IsNull(rp) && (rc = s_policy(ln, rp, TM_IAM_POLICY_RESOURCE, "resourcePolicy", &ln->resource)))
        return rc;
    if ((rc = s_levels(ln, root, "scps", TM_IAM_POLICY_SCP, &ln->scp_levels, &ln->n_scp_levels, &ln->scp_nested)))
        return rc;
    if ((rc = s_levels(ln, root, "rcps", TM_IAM_POLICY_RCP, &ln->rcp_levels, &ln->n_rcp_levels, &ln->rcp_nested)))
        return rc;
    if ((rc = s_policy_list(ln, root, "permissionBoundaries", TM_IAM_POLICY_IDENTITY, &ln->boundaries,
                            &ln->n_boundaries)))
        return rc;
    if ((rc = s_policy_list(ln, root, "sessionPolicies", TM_IAM_POLICY_IDENTITY, &ln->session, &ln->n_session)))
        return rc;
    const cJSON *acct = cJSON_GetObjectItemCaseSensitive(root, "resourceAccount");
    if (acct && !cJSON_IsNull(acct) && !cJSON_IsString(acct))
        return s_fail(ln, "resourceAccount: expected a string");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "request");
    if (!req)
        return s_fail(ln, "request: missing");
    if (!cJSON_IsObject(req))
        return s_fail(ln, "request: expected an object");
    cJSON_ArrayForEach(el, req) {
        if (strcmp(el->string, "principal") != 0 && strcmp(el->string, "action") != 0 &&
            strcmp(el->string, "resource") != 0 && strcmp(el->string, "contextKeys") != 0)
            return s_fail(ln, "request.%s: unknown field", el->string);
    }
    rc = TM_OK;
    const char *principal = s_req_string(ln, req, "principal", true, &rc);
    const char *action = s_req_string(ln, req, "action", true, &rc);
    const char *resource = s_req_string(ln, req, "resource", true, &rc);
    if (rc)
        return rc;
    if (!strchr(action, ':'))
        return s_fail(ln, "request.action: \"%s\" is not of the form service:action", action);
    if ((rc = s_context(ln, cJSON_GetObjectItemCaseSensitive(req, "contextKeys"))))
        return rc;

    struct tm_iam_request r = {.principal = principal,
                               .action = action,
                               .resource = resource,
                               .resource_account = cJSON_IsString(acct) ? acct->valuestring : NULL,
                               .context = &ln->ctx};
    struct tm_iam_policy_set set = {.identity = ln->identity,
                                    .n_identity = ln->n_identity,
                                    .resource = ln->resource,
                                    .boundaries = ln->boundaries,
                                    .n_boundaries = ln->n_boundaries,
                                    .session = ln->session,
                                    .n_session = ln->n_session,
                                    .scp_levels = ln->scp_levels,
                                    .n_scp_levels = ln->n_scp_levels,
                                    .rcp_levels = ln->rcp_levels,
                                    .n_rcp_levels = ln->n_rcp_levels};
    struct tm_iam_result res;
    tm_iam_result_init(&res);
    rc = tm_iam_evaluate(&res, &r, &set, true);
    if (rc) {
        tm_iam_result_clean_up(&res);
        return rc == TM_ERR_NOMEM ? rc : s_fail(ln, "request: cannot be evaluated");
    }
    bool ok = cJSON_AddStringToObject(out, "decision", tm_iam_decision_name(res.decision)) != NULL;
    cJSON *matched = ok ? cJSON_AddArrayToObject(out, "matched") : NULL;
    ok = matched != NULL;
    for (size_t i = 0; ok && i < res.n_matches; i++) {
        const struct tm_iam_match *m = &res.matches[i];
        char name[96];
        bool nested = (m->set == TM_IAM_SET_SCP && ln->scp_nested) || (m->set == TM_IAM_SET_RCP && ln->rcp_nested);
        if (m->set == TM_IAM_SET_RESOURCE)
            snprintf(name, sizeof(name), "%s", tm_iam_set_kind_name(m->set));
        else if (nested)
            snprintf(name, sizeof(name), "%s[%zu][%zu]", tm_iam_set_kind_name(m->set), m->level, m->policy);
        else
            snprintf(name, sizeof(name), "%s[%zu]", tm_iam_set_kind_name(m->set), m->policy);
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(matched, o) && cJSON_AddStringToObject(o, "policy", name) &&
             cJSON_AddNumberToObject(o, "statement", (double)m->statement);
    }
    tm_iam_result_clean_up(&res);
    return ok ? TM_OK : TM_ERR_NOMEM;
}

int tm_iam_eval_json_line(char **out, bool *was_error, const char *line, size_t len) {
    *out = NULL;
    if (was_error)
        *was_error = false;
    struct s_line ln;
    memset(&ln, 0, sizeof(ln));
    tm_iam_context_init(&ln.ctx);
    cJSON *answer = cJSON_CreateObject();
    if (!answer)
        return TM_ERR_NOMEM;
    /* Answers echo the id: only valid UTF-8 goes in, so only valid JSON comes out. */
    size_t bad = 0;
    bool utf8 = tm__iam_utf8_valid(line, len, &bad);
    cJSON *root = utf8 ? cJSON_ParseWithLength(line, len) : NULL;
    const cJSON *id = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "id") : NULL;
    cJSON *id_copy = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
    int rc = id_copy ? TM_OK : TM_ERR_NOMEM;
    if (!rc && !cJSON_AddItemToObject(answer, "id", id_copy)) {
        cJSON_Delete(id_copy);
        rc = TM_ERR_NOMEM;
    }
    if (!rc) {
        if (!utf8)
            rc = s_fail(&ln, "not valid UTF-8 (byte %zu)", bad);
        else if (!root)
            rc = s_fail(&ln, "not valid JSON");
        else
            rc = s_eval(&ln, root, answer);
        if (rc && rc != TM_ERR_NOMEM) {
            /* Start the answer afresh: only the id and the error. */
            cJSON *fresh = cJSON_CreateObject();
            cJSON *idc = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
            bool attached = fresh && idc && cJSON_AddItemToObject(fresh, "id", idc);
            if (!attached || !cJSON_AddStringToObject(fresh, "error", ln.err)) {
                if (!attached)
                    cJSON_Delete(idc);
                cJSON_Delete(fresh);
                rc = TM_ERR_NOMEM;
            } else {
                cJSON_Delete(answer);
                answer = fresh;
                rc = TM_OK;
                if (was_error)
                    *was_error = true;
            }
        }
    }
    if (!rc) {
        *out = cJSON_PrintUnformatted(answer);
        if (!*out)
            rc = TM_ERR_NOMEM;
    }
    cJSON_Delete(answer);
    cJSON_Delete(root);
    s_line_clean_up(&ln);
    return rc;
}
