/* Renderings of a reachability result for `tmscan policy check`: JSON (deterministic, for machines)
 * and text (for people). */
#include "analyzers/iam/reach.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

static const char *s_verdict(const struct tm_iam_reach_result *r) {
    if (!r->reachable)
        return "not-reachable";
    if (r->widest == TM_IAM_REACH_PUBLIC)
        return "public";
    if (r->cross_account)
        return "cross-account";
    return tm_iam_reach_name(r->widest);
}

static cJSON *s_list(const char *const *v, size_t n) {
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

static bool s_add(cJSON *obj, const char *name, cJSON *item) {
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *s_grant_json(const struct tm_iam_grant *g) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool ok = cJSON_AddStringToObject(o, "reach", tm_iam_reach_name(g->reach)) &&
              cJSON_AddBoolToObject(o, "crossAccount", g->cross_account) && s_add(o, "who", s_list(g->who, g->n_who)) &&
              s_add(o, "principals", s_list(g->principals, g->n_principals)) &&
              s_add(o, "services", s_list(g->services, g->n_services)) &&
              cJSON_AddBoolToObject(o, "anyResource", g->any_resource) &&
              s_add(o, "networks", s_list(g->networks, g->n_networks)) &&
              s_add(o, "conditions", s_list(g->conditions, g->n_conditions)) &&
              cJSON_AddBoolToObject(o, "externalIdRequired", g->external_id_required) &&
              s_add(o, "externalIds", s_list(g->external_ids, g->n_external_ids)) &&
              cJSON_AddBoolToObject(o, "claimsRestricted", g->claims_restricted) &&
              s_add(o, "actions", s_list(g->actions, g->n_actions));
    cJSON *ev = ok ? cJSON_CreateArray() : NULL;
    ok = ok && s_add(o, "evidence", ev);
    for (size_t i = 0; ok && i < g->n_evidence; i++) {
        const struct tm_iam_evidence *e = &g->evidence[i];
        cJSON *x = cJSON_CreateObject();
        ok = x && cJSON_AddItemToArray(ev, x);
        if (!ok) {
            cJSON_Delete(x);
            break;
        }
        ok = cJSON_AddNumberToObject(x, e->acl ? "aclGrant" : "statement", (double)e->index) &&
             (!e->sid || cJSON_AddStringToObject(x, "sid", e->sid)) && cJSON_AddStringToObject(x, "json", e->json);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int tm_iam_reach_to_json(char **out, const struct tm_iam_reach_result *r, const char *label) {
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return TM_ERR_NOMEM;
    bool ok = cJSON_AddStringToObject(root, "input", label ? label : "") &&
              cJSON_AddStringToObject(root, "type", tm_iam_resource_type_name(r->type)) &&
              (r->account ? cJSON_AddStringToObject(root, "account", r->account) != NULL
                          : cJSON_AddNullToObject(root, "account") != NULL) &&
              cJSON_AddStringToObject(root, "verdict", s_verdict(r)) &&
              cJSON_AddBoolToObject(root, "crossAccount", r->cross_account) &&
              (r->reachable ? cJSON_AddStringToObject(root, "widest", tm_iam_reach_name(r->widest)) != NULL
                            : cJSON_AddNullToObject(root, "widest") != NULL);
    cJSON *groups = ok ? cJSON_CreateArray() : NULL;
    ok = ok && s_add(root, "groups", groups);
    for (size_t i = 0; ok && i < r->n_groups; i++) {
        const struct tm_iam_reach_group *g = &r->groups[i];
        cJSON *go = cJSON_CreateObject();
        ok = go && cJSON_AddItemToArray(groups, go);
        if (!ok) {
            cJSON_Delete(go);
            break;
        }
        cJSON *grants = NULL;
        ok = cJSON_AddStringToObject(go, "level", g->level) && s_add(go, "grants", grants = cJSON_CreateArray());
        for (size_t k = 0; ok && k < g->n_grants; k++) {
            cJSON *gj = s_grant_json(&g->grants[k]);
            ok = gj && cJSON_AddItemToArray(grants, gj);
            if (!ok)
                cJSON_Delete(gj);
        }
    }
    ok = ok && s_add(root, "notes", s_list(r->notes, r->n_notes));
    if (ok)
        *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

static int s_join(struct tm_buf *b, const char *const *v, size_t n, size_t max) {
    int rc = TM_OK;
    for (size_t i = 0; i < n && i < max && !rc; i++)
        rc = tm_buf_appendf(b, "%s%s", i ? ", " : "", v[i]);
    if (!rc && n > max)
        rc = tm_buf_appendf(b, " and %zu more", n - max);
    return rc;
}

static int s_who_text(struct tm_buf *b, const struct tm_iam_grant *g) {
    int rc;
    switch (g->reach) {
        case TM_IAM_REACH_PUBLIC:
            rc = tm_buf_append_str(b, "anyone (public)");
            if (!rc && g->n_who)
                rc = tm_buf_append_str(b, ": any identity from ");
            if (!rc && g->n_who)
                rc = s_join(b, g->who, g->n_who, 8);
            return rc;
        case TM_IAM_REACH_AUTHENTICATED:
            return tm_buf_append_str(b, "any authenticated AWS principal, in any account");
        case TM_IAM_REACH_EXTERNAL:
            rc = tm_buf_append_str(b, "external accounts: ");
            return rc ? rc : s_join(b, g->who, g->n_who, 20);
        case TM_IAM_REACH_ORGANIZATION:
            rc = tm_buf_append_str(b, "principals of the organisation ");
            return rc ? rc : s_join(b, g->who, g->n_who, 20);
        case TM_IAM_REACH_SERVICE:
            rc = tm_buf_append_str(b, "AWS services");
            if (!rc && g->n_services) {
                rc = tm_buf_append_str(b, " (");
                if (!rc)
                    rc = s_join(b, g->services, g->n_services, 20);
                if (!rc)
                    rc = tm_buf_append_char(b, ')');
            }
            if (!rc && g->any_resource)
                rc = tm_buf_append_str(b, " on behalf of any resource, in any account");
            else if (!rc && g->n_who) {
                rc = tm_buf_append_str(b, " on behalf of ");
                for (size_t i = 0; i < g->n_who && !rc; i++)
                    rc = tm_buf_appendf(
                        b, "%s%s%s", i ? ", " : "",
                        strlen(g->who[i]) == 12 && strspn(g->who[i], "0123456789") == 12 ? "resources of account " : "",
                        g->who[i]);
            } else if (!rc) {
                rc = tm_buf_append_str(b, " for this account");
            }
            return rc;
        case TM_IAM_REACH_FEDERATED:
            rc = tm_buf_append_str(b, "identities from ");
            if (!rc)
                rc = s_join(b, g->who, g->n_who, 4);
            if (!rc)
                rc = tm_buf_append_str(b, g->claims_restricted ? " (claims pinned by conditions)"
                                                               : " (any identity of that provider)");
            return rc;
        case TM_IAM_REACH_NETWORK:
            rc = tm_buf_append_str(b, "callers through ");
            return rc ? rc : s_join(b, g->who, g->n_who, 20);
        case TM_IAM_REACH_ACCOUNT:
            return tm_buf_append_str(b, "this account only");
        default:
            return tm_buf_append_str(b, "?");
    }
}

int tm_iam_reach_to_text(char **out, const struct tm_iam_reach_result *r, const char *label) {
    *out = NULL;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = tm_buf_appendf(&b, "%s: %s %s", label ? label : "policy", tm_iam_resource_type_name(r->type),
                            r->type == TM_IAM_RES_TRUST ? "policy (who can assume the role)" : "resource policy");
    if (!rc)
        rc = r->account ? tm_buf_appendf(&b, ", account %s\n", r->account) : tm_buf_append_str(&b, "\n");
    if (!rc && !r->reachable)
        rc = tm_buf_append_str(&b, "  nobody outside IAM identity policies: the policy grants no access\n");
    for (size_t i = 0; i < r->n_groups && !rc; i++) {
        const struct tm_iam_reach_group *g = &r->groups[i];
        rc = tm_buf_appendf(&b, "  %s:\n", g->level);
        for (size_t k = 0; k < g->n_grants && !rc; k++) {
            const struct tm_iam_grant *gr = &g->grants[k];
            rc = tm_buf_append_str(&b, "    - ");
            if (!rc)
                rc = s_who_text(&b, gr);
            if (!rc && gr->n_principals) {
                rc = tm_buf_append_str(&b, " (principals: ");
                if (!rc)
                    rc = s_join(&b, gr->principals, gr->n_principals, 10);
                if (!rc)
                    rc = tm_buf_append_char(&b, ')');
            }
            if (!rc && gr->n_networks) {
                rc = tm_buf_append_str(&b, ", only from ");
                if (!rc)
                    rc = s_join(&b, gr->networks, gr->n_networks, 10);
            }
            if (!rc && gr->external_id_required) {
                rc = tm_buf_append_str(&b, ", sts:ExternalId required");
            } else if (!rc && r->type == TM_IAM_RES_TRUST &&
                       (gr->reach == TM_IAM_REACH_EXTERNAL || gr->reach == TM_IAM_REACH_AUTHENTICATED)) {
                rc = tm_buf_append_str(&b, ", no sts:ExternalId required");
            }
            if (!rc)
                rc = tm_buf_append_str(&b, gr->cross_account ? "  [outside this account]\n" : "\n");
            if (!rc)
                rc = tm_buf_appendf(&b, "      actions (%zu): ", gr->n_actions);
            if (!rc)
                rc = s_join(&b, gr->actions, gr->n_actions, 6);
            if (!rc)
                rc = tm_buf_append_str(&b, "\n      granted by: ");
            for (size_t e = 0; e < gr->n_evidence && !rc; e++) {
                const struct tm_iam_evidence *ev = &gr->evidence[e];
                rc = tm_buf_appendf(&b, "%s%s %zu", e ? ", " : "", ev->acl ? "ACL grant" : "statement", ev->index);
                if (!rc && ev->sid)
                    rc = tm_buf_appendf(&b, " (Sid \"%s\")", ev->sid);
            }
            if (!rc)
                rc = tm_buf_append_char(&b, '\n');
            for (size_t c = 0; c < gr->n_conditions && !rc; c++)
                rc = tm_buf_appendf(&b, "      %s %s\n", c ? "           " : "conditions:", gr->conditions[c]);
        }
    }
    for (size_t i = 0; i < r->n_notes && !rc; i++)
        rc = tm_buf_appendf(&b, "  note: %s\n", r->notes[i]);
    if (!rc)
        rc = tm_buf_appendf(&b, "verdict: %s\n", s_verdict(r));
    if (!rc)
        *out = tm_buf_detach(&b);
    tm_buf_clean_up(&b);
    return rc ? rc : (*out ? TM_OK : TM_ERR_NOMEM);
}
