/* Snapshot → graph, part one: accounts, nodes, principals and their parsed policies, and the policy
 * cache. Edges are in graph_edges.c, privilege escalation in graph_privesc.c. */
#include "analyzers/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph_int.h"
#include "analyzers/iam/catalog.h"
#include "core/json.h"

/* ---- policies: through the cache, so a managed policy attached to 1,000 roles is parsed once ---- */

const struct tm_iam_policy *tm__graph_policy(struct tm_graph *g, const char *text, enum tm_iam_policy_kind kind,
                                             bool *bad) {
    *bad = false;
    if (!text)
        return NULL;
    const struct tm_iam_policy *p = NULL;
    if (tm_iam_policy_cache_parse(&p, g->policies, text, strlen(text), kind, NULL, 0))
        *bad = true;
    return p;
}

const struct tm_iam_policy *tm__graph_policy_json(struct tm_graph *g, const cJSON *doc, enum tm_iam_policy_kind kind,
                                                  bool *bad) {
    *bad = false;
    if (!doc || cJSON_IsNull(doc))
        return NULL;
    if (cJSON_IsString(doc))
        return tm__graph_policy(g, doc->valuestring, kind, bad);
    if (!cJSON_IsObject(doc)) {
        *bad = true;
        return NULL;
    }
    const struct tm_iam_policy *p = NULL;
    if (tm_iam_policy_cache_parse_json(&p, g->policies, doc, kind, NULL, 0))
        *bad = true;
    return p;
}

/* A policies[key] field: absent or null → none; an unknown marker or a document that does not parse →
 * unknown. */
static const struct tm_iam_policy *s_policy_field(struct tm_graph *g, const cJSON *policies, const char *key,
                                                  enum tm_iam_policy_kind kind, bool *unknown) {
    *unknown = false;
    const cJSON *v = policies ? cJSON_GetObjectItemCaseSensitive(policies, key) : NULL;
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (tm_snapshot_is_unknown(v)) {
        *unknown = true;
        return NULL;
    }
    bool bad = false;
    const struct tm_iam_policy *p = tm__graph_policy_json(g, v, kind, &bad);
    *unknown = bad;
    return p;
}

static bool s_policy_has_deny(const struct tm_iam_policy *p) {
    size_t n = tm_iam_policy_statement_count(p);
    for (size_t i = 0; i < n; i++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(p, i, &v) == TM_OK && v.effect == TM_IAM_DENY)
            return true;
    }
    return false;
}

/* ---- contexts ---- */

static int s_add_context(struct tm_graph *g, const char *region) {
    for (size_t i = 0; i < g->n_contexts; i++)
        if (strcmp(g->ctx_regions[i], region) == 0)
            return TM_OK;
    const char **r = realloc(g->ctx_regions, (g->n_contexts + 1) * sizeof(*r));
    if (!r)
        return TM_ERR_NOMEM;
    g->ctx_regions = r;
    struct tm_iam_context *c = realloc(g->contexts, (g->n_contexts + 1) * sizeof(*c));
    if (!c)
        return TM_ERR_NOMEM;
    g->contexts = c;
    struct tm_iam_context *ctx = &g->contexts[g->n_contexts];
    tm_iam_context_init(ctx);
    g->ctx_regions[g->n_contexts++] = region;
    int rc;
    /* Callers choose TLS; a policy denying plain HTTP does not deny them. */
    if ((rc = tm_iam_context_set(ctx, "aws:SecureTransport", "true")))
        return rc;
    /* Global services (IAM, STS's global endpoint, Organizations) are called in us-east-1. */
    if ((rc = tm_iam_context_set(ctx, "aws:RequestedRegion", strcmp(region, "global") == 0 ? "us-east-1" : region)))
        return rc;
    return TM_OK;
}

const struct tm_iam_context *tm__graph_context(const struct tm_graph *g, const char *region) {
    if (!g->n_contexts)
        return NULL;
    for (size_t i = 0; region && i < g->n_contexts; i++)
        if (strcmp(g->ctx_regions[i], region) == 0)
            return &g->contexts[i];
    return &g->contexts[0];
}

/* ---- accounts and their organisation policies ---- */

static int s_cmp_target(const void *a, const void *b) {
    const char *ta = tm_json_str(*(const cJSON *const *)a, "target", "");
    const char *tb = tm_json_str(*(const cJSON *const *)b, "target", "");
    return strcmp(ta, tb);
}

/* SCPs/RCPs arrive as one list of {id, name, arn, target, document}; each distinct target (root, OUs, the
 * account) is one level of the organisation tree, all of which must allow. */
static int s_org_policies(struct tm_graph *g, const cJSON *list, enum tm_iam_policy_kind kind,
                          struct tm__graph_org_policies *out) {
    memset(out, 0, sizeof(*out));
    if (!list || cJSON_IsNull(list))
        return TM_OK;
    if (tm_snapshot_is_unknown(list) || !cJSON_IsArray(list)) {
        out->unknown = true;
        return TM_OK;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (!n)
        return TM_OK;
    const cJSON **items = malloc(n * sizeof(*items));
    if (!items)
        return TM_ERR_NOMEM;
    size_t k = 0;
    for (const cJSON *it = list->child; it; it = it->next)
        items[k++] = it;
    qsort(items, n, sizeof(*items), s_cmp_target);
    size_t n_levels = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || s_cmp_target(&items[i], &items[i - 1]))
            n_levels++;
    int rc = TM_ERR_NOMEM;
    out->levels = calloc(n_levels, sizeof(*out->levels));
    const struct tm_iam_policy **ptrs = tm__graph_alloc(g, n * sizeof(*ptrs));
    if (!out->levels || !ptrs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || s_cmp_target(&items[i], &items[i - 1])) {
            out->levels[out->n_levels].policies = (const struct tm_iam_policy *const *)&ptrs[i];
            out->n_levels++;
        }
        bool bad = false;
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(items[i], "document");
        const struct tm_iam_policy *p = tm_snapshot_is_unknown(doc) ? NULL : tm__graph_policy_json(g, doc, kind, &bad);
        if (!p) {
            /* A level without its document: what it allows is unknown. Keep the level out (so it does not
             * deny everything) and say so. */
            out->unknown = true;
            ptrs[i] = NULL;
            continue;
        }
        ptrs[i] = p;
        out->levels[out->n_levels - 1].n++;
    }
    /* Compact: levels whose policies were all unknown are dropped; NULL entries squeezed out. */
    size_t w = 0;
    for (size_t l = 0; l < out->n_levels; l++) {
        const struct tm_iam_policy **ps = (const struct tm_iam_policy **)out->levels[l].policies;
        size_t m = 0, total = 0;
        /* The level's entries run until the next level's start (or the end of ptrs). */
        const struct tm_iam_policy **end =
            l + 1 < out->n_levels ? (const struct tm_iam_policy **)out->levels[l + 1].policies : ptrs + n;
        total = (size_t)(end - ps);
        for (size_t j = 0; j < total; j++)
            if (ps[j])
                ps[m++] = ps[j];
        if (m) {
            out->levels[w].policies = (const struct tm_iam_policy *const *)ps;
            out->levels[w].n = m;
            w++;
        }
    }
    out->n_levels = w;
    rc = TM_OK;
out:
    free(items);
    return rc;
}

static int s_accounts(struct tm_graph *g) {
    cJSON *scope = tm_snapshot_scope(g->snap);
    const cJSON *accts = scope ? cJSON_GetObjectItemCaseSensitive(scope, "accounts") : NULL;
    size_t n = cJSON_IsArray(accts) ? (size_t)cJSON_GetArraySize(accts) : 0;
    g->accounts = calloc(n ? n : 1, sizeof(*g->accounts));
    if (!g->accounts)
        return TM_ERR_NOMEM;
    for (const cJSON *a = n ? accts->child : NULL; a; a = a->next) {
        if (!cJSON_IsString(a))
            continue;
        struct tm__graph_account *acct = &g->accounts[g->n_accounts++];
        acct->id = a->valuestring;
        acct->admin_node = TM_GRAPH_NONE;
        char root[64];
        snprintf(root, sizeof(root), "arn:aws:iam::%s:root", acct->id);
        const cJSON *res = tm_snapshot_find(g->snap, root);
        const cJSON *attrs = res ? cJSON_GetObjectItemCaseSensitive(res, "attrs") : NULL;
        const cJSON *pols = res ? cJSON_GetObjectItemCaseSensitive(res, "policies") : NULL;
        int rc;
        if ((rc = s_org_policies(g, pols ? cJSON_GetObjectItemCaseSensitive(pols, "scps") : NULL, TM_IAM_POLICY_SCP,
                                 &acct->scps)) ||
            (rc = s_org_policies(g, pols ? cJSON_GetObjectItemCaseSensitive(pols, "rcps") : NULL, TM_IAM_POLICY_RCP,
                                 &acct->rcps)))
            return rc;
        const cJSON *org = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "organization") : NULL;
        const char *mgmt = cJSON_IsObject(org) ? tm_json_str(org, "master_account_id", NULL) : NULL;
        acct->is_management = mgmt && strcmp(mgmt, acct->id) == 0;
        acct->management = mgmt;
        acct->org_id = cJSON_IsObject(org) ? tm_json_str(org, "id", NULL) : NULL;
        const cJSON *members = cJSON_IsObject(org) ? cJSON_GetObjectItemCaseSensitive(org, "accounts") : NULL;
        acct->org_accounts = cJSON_IsArray(members) ? members : NULL;
        const cJSON *pab = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "s3_public_access_block") : NULL;
        if (tm_snapshot_is_unknown(pab))
            acct->pab_unknown = true;
        else if (cJSON_IsObject(pab))
            acct->pab = pab;
        const char *admin = tm__graph_printf(g, "admin:%s", acct->id);
        if (!admin)
            return TM_ERR_NOMEM;
        acct->admin_node = tm__graph_node_add(g, admin, true, TM_GRAPH_NODE_ADMIN, "admin", acct->id);
        if (acct->admin_node == TM_GRAPH_NONE)
            return TM_ERR_NOMEM;
        g->nodes[acct->admin_node].name = tm__graph_printf(g, "administrator of %s", acct->id);
    }
    return TM_OK;
}

/* ---- principals ---- */

static struct tm__graph_account *s_find_account(struct tm_graph *g, const char *id) {
    for (size_t i = 0; id && i < g->n_accounts; i++)
        if (strcmp(g->accounts[i].id, id) == 0)
            return &g->accounts[i];
    return NULL;
}

/* The members of a snapshot resource the builder reads, found in one walk over them: looked up by name, each
 * lookup walked the members again (a resource has eight or so), for every field. As cJSON's lookup, the first
 * member of a name counts and the walk ends at a member without one. */
struct s_fields {
    const cJSON *id, *type, *account, *name, *region, *attrs, *policies;
};

static void s_fields_of(const cJSON *res, struct s_fields *f) {
    memset(f, 0, sizeof(*f));
    for (const cJSON *m = res ? res->child : NULL; m && m->string; m = m->next) {
        const char *k = m->string;
        const cJSON **slot = NULL;
        switch (k[0]) {
            case 'a':
                slot = strcmp(k, "account") == 0 ? &f->account : strcmp(k, "attrs") == 0 ? &f->attrs : NULL;
                break;
            case 'i':
                slot = strcmp(k, "id") == 0 ? &f->id : NULL;
                break;
            case 'n':
                slot = strcmp(k, "name") == 0 ? &f->name : NULL;
                break;
            case 'p':
                slot = strcmp(k, "policies") == 0 ? &f->policies : NULL;
                break;
            case 'r':
                slot = strcmp(k, "region") == 0 ? &f->region : NULL;
                break;
            case 't':
                slot = strcmp(k, "type") == 0 ? &f->type : NULL;
                break;
            default:
                break;
        }
        if (slot && !*slot)
            *slot = m;
    }
}

/* A string member's value, else def (as tm_json_str). */
static const char *s_str(const cJSON *v, const char *def) {
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

static int s_principal(struct tm_graph *g, uint32_t node, const struct s_fields *f) {
    if (g->n_principals == g->cap_principals) {
        size_t cap = g->cap_principals ? g->cap_principals * 2 : 64;
        struct tm__graph_principal *n = realloc(g->principals, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        g->principals = n;
        g->cap_principals = cap;
    }
    struct tm__graph_principal *p = &g->principals[g->n_principals];
    memset(p, 0, sizeof(*p));
    p->node = node;
    const cJSON *attrs = f->attrs, *pols = f->policies;
    p->account = s_find_account(g, s_str(f->account, NULL));
    const char *path = tm_json_str(attrs, "path", "");
    p->skip_scps = tm_json_bool(attrs, "service_linked", false) || strncmp(path, "/aws-service-role/", 18) == 0;

    const cJSON *ident = pols ? cJSON_GetObjectItemCaseSensitive(pols, "identity") : NULL;
    if (tm_snapshot_is_unknown(ident)) {
        p->identity_unknown = true;
    } else if (cJSON_IsArray(ident)) {
        size_t n = (size_t)cJSON_GetArraySize(ident);
        p->identity = tm__graph_alloc(g, (n ? n : 1) * sizeof(*p->identity));
        p->identity_names = tm__graph_alloc(g, (n ? n : 1) * sizeof(*p->identity_names));
        p->managed = tm__graph_alloc(g, (n ? n : 1) * sizeof(*p->managed));
        bool *given_as_text = calloc(n ? n : 1, sizeof(*given_as_text));
        const cJSON **items = calloc(n ? n : 1, sizeof(*items));
        if (!p->identity || !p->identity_names || !p->managed || !given_as_text || !items) {
            free(given_as_text);
            free(items);
            return TM_ERR_NOMEM;
        }
        for (const cJSON *it = ident->child; it; it = it->next) {
            const cJSON *doc = cJSON_GetObjectItemCaseSensitive(it, "document");
            bool bad = false;
            const struct tm_iam_policy *pol =
                tm_snapshot_is_unknown(doc) ? NULL : tm__graph_policy_json(g, doc, TM_IAM_POLICY_IDENTITY, &bad);
            if (!pol) {
                p->identity_unknown = true;
                continue;
            }
            given_as_text[p->n_identity] = cJSON_IsString(doc);
            items[p->n_identity] = it;
            p->identity[p->n_identity++] = pol;
            const char *kind = tm_json_str(it, "kind", "");
            const char *arn = tm_json_str(it, "arn", NULL);
            if (arn && strstr(kind, "managed") && strncmp(arn, "arn:aws:iam::aws:", 17) != 0) {
                bool seen = false;
                for (size_t j = 0; j < p->n_managed && !seen; j++)
                    seen = strcmp(p->managed[j], arn) == 0;
                if (!seen)
                    p->managed[p->n_managed++] = arn;
            }
        }
        /* Each policy's name is the first entry holding the same document (the same text parses to the same
         * policy), entries given as text before those given as JSON. */
        for (size_t k = 0; k < p->n_identity; k++) {
            const cJSON *named = NULL;
            for (size_t pass = 0; pass < 2 && !named; pass++)
                for (size_t j = 0; j < p->n_identity && !named; j++)
                    if (p->identity[j] == p->identity[k] && given_as_text[j] == (pass == 0))
                        named = items[j];
            p->identity_names[k] = tm_json_str(named, "arn", tm_json_str(named, "name", NULL));
        }
        free(given_as_text);
        free(items);
    }
    bool unknown = false;
    const struct tm_iam_policy *b = s_policy_field(g, pols, "boundary", TM_IAM_POLICY_IDENTITY, &unknown);
    const char *barn = tm_json_str(attrs, "permissions_boundary_arn", NULL);
    if (b) {
        p->boundary = tm__graph_alloc(g, sizeof(*p->boundary));
        if (!p->boundary)
            return TM_ERR_NOMEM;
        p->boundary[0] = b;
        p->n_boundary = 1;
    } else if (unknown || (barn && (!pols || !cJSON_GetObjectItemCaseSensitive(pols, "boundary")))) {
        /* A boundary is attached but its document was not read: the identity grants may be capped. */
        p->boundary_unknown = true;
    }
    g->extra[node].principal = (uint32_t)g->n_principals++;
    if (p->identity_unknown || p->boundary_unknown)
        g->nodes[node].flags |= TM_GRAPH_NODE_POLICY_UNKNOWN;
    return TM_OK;
}

/* Access keys: lookups by key id find the user. */
static int s_keys(struct tm_graph *g, uint32_t node, const cJSON *attrs) {
    const cJSON *keys = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "access_keys") : NULL;
    if (!cJSON_IsArray(keys))
        return TM_OK;
    for (const cJSON *k = keys->child; k; k = k->next) {
        const char *id = tm_json_str(k, "access_key_id", NULL);
        int rc;
        if (id && (rc = tm__graph_key_add(g, id, node)))
            return rc;
    }
    return TM_OK;
}

static enum tm_iam_policy_kind s_resource_policy_kind(const char *type) {
    return strcmp(type, "aws:iam:role") == 0 ? TM_IAM_POLICY_TRUST : TM_IAM_POLICY_RESOURCE;
}

/* The last region a resource's context was looked up for, and the context: most resources are in the region of
 * the one before them (they come sorted by ARN). */
struct s_region_memo {
    const char *region;
    const struct tm_iam_context *context;
};

static const struct tm_iam_context *s_context_of(struct tm_graph *g, struct s_region_memo *m, const char *region) {
    if (!region)
        return tm__graph_context(g, NULL);
    if (!m->region || strcmp(m->region, region) != 0) {
        m->region = region;
        m->context = tm__graph_context(g, region);
    }
    return m->context;
}

static int s_resource(struct tm_graph *g, const cJSON *res, struct s_region_memo *memo) {
    struct s_fields f;
    s_fields_of(res, &f);
    const char *id = s_str(f.id, NULL), *type = s_str(f.type, NULL);
    if (!id || !type)
        return TM_OK;
    bool principal =
        strcmp(type, "aws:iam:user") == 0 || strcmp(type, "aws:iam:role") == 0 || strcmp(type, "aws:iam:group") == 0;
    const char *account = s_str(f.account, NULL);
    uint32_t n = tm__graph_node_add(g, id, true, principal ? TM_GRAPH_NODE_PRINCIPAL : TM_GRAPH_NODE_RESOURCE, type,
                                    account && *account ? account : NULL);
    if (n == TM_GRAPH_NONE)
        return TM_ERR_NOMEM;
    struct tm_graph_node *node = &g->nodes[n];
    node->flags |= TM_GRAPH_NODE_IN_SNAPSHOT;
    node->resource = res;
    node->name = s_str(f.name, id);
    if (node->account && !tm_graph_is_home_account(g, node->account))
        node->flags |= TM_GRAPH_NODE_EXTERNAL;
    const cJSON *pols = f.policies;
    const char *key = strcmp(type, "aws:iam:role") == 0 ? "trust" : "resource";
    bool unknown = false;
    const struct tm_iam_policy *p = s_policy_field(g, pols, key, s_resource_policy_kind(type), &unknown);
    struct tm__graph_node_extra *x = &g->extra[n];
    x->context = s_context_of(g, memo, s_str(f.region, NULL));
    x->policy = p;
    x->policy_unknown = unknown;
    /* Roles and KMS keys: their own policy must allow, so membership in a set is never automatic. */
    x->reevaluate =
        (p && s_policy_has_deny(p)) || strcmp(type, "aws:iam:role") == 0 || strcmp(type, "aws:kms:key") == 0 || unknown;
    if (unknown)
        node->flags |= TM_GRAPH_NODE_POLICY_UNKNOWN;
    int rc;
    if ((strcmp(type, "aws:iam:user") == 0 || strcmp(type, "aws:iam:role") == 0) && (rc = s_principal(g, n, &f)))
        return rc;
    if (strcmp(type, "aws:iam:user") == 0 && (rc = s_keys(g, n, f.attrs)))
        return rc;
    return TM_OK;
}

int tm__graph_build_nodes(struct tm_graph *g, char *err, size_t errlen) {
    int rc;
    if ((rc = s_accounts(g))) {
        snprintf(err, errlen, "graph: accounts: %s", tm_error_str(rc));
        return rc;
    }
    if (tm__graph_node_add(g, TM_GRAPH_ID_INTERNET, true, TM_GRAPH_NODE_INTERNET, "internet", NULL) == TM_GRAPH_NONE ||
        tm__graph_node_add(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT, true, TM_GRAPH_NODE_ANY_AWS_ACCOUNT, "any-aws-account",
                           NULL) == TM_GRAPH_NONE) {
        snprintf(err, errlen, "graph: out of memory");
        return TM_ERR_NOMEM;
    }
    /* Requests on "*" (no resource, no region of their own) are evaluated in the region holding most resources
     * (ties: the first by name), so a policy that denies outside the home regions does not deny everything. */
    size_t n = tm_snapshot_count(g->snap);
    const char *home = NULL;
    size_t best = 0;
    cJSON *scope = tm_snapshot_scope(g->snap);
    const cJSON *regions = scope ? cJSON_GetObjectItemCaseSensitive(scope, "regions") : NULL;
    /* Resources per scope region, in one pass over the resources (a scope names up to every region). */
    size_t n_regions = cJSON_IsArray(regions) ? (size_t)cJSON_GetArraySize(regions) : 0;
    size_t *counts = calloc(n_regions ? n_regions : 1, sizeof(*counts));
    /* The scope regions the last resource's region matched: the next resource is mostly in the same region
     * (resources come sorted by ARN), and then one compare stands for the walk over every scope region. */
    bool *last_hits = calloc(n_regions ? n_regions : 1, sizeof(*last_hits));
    if (!counts || !last_hits) {
        free(counts);
        free(last_hits);
        return TM_ERR_NOMEM;
    }
    const char *last = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *region = tm_json_str(tm_snapshot_at(g->snap, i), "region", "");
        if (!last || strcmp(region, last) != 0) {
            size_t k = 0;
            for (const cJSON *r = n_regions ? regions->child : NULL; r; r = r->next, k++)
                last_hits[k] = cJSON_IsString(r) && strcmp(region, r->valuestring) == 0;
            last = region;
        }
        for (size_t k = 0; k < n_regions; k++)
            counts[k] += last_hits[k];
    }
    free(last_hits);
    size_t k = 0;
    for (const cJSON *r = n_regions ? regions->child : NULL; r; r = r->next, k++) {
        if (!cJSON_IsString(r))
            continue;
        if (!home || counts[k] > best || (counts[k] == best && strcmp(r->valuestring, home) < 0)) {
            home = r->valuestring;
            best = counts[k];
        }
    }
    free(counts);
    if ((rc = s_add_context(g, home ? home : "us-east-1")))
        return rc;
    for (const cJSON *r = cJSON_IsArray(regions) ? regions->child : NULL; r; r = r->next)
        if (cJSON_IsString(r) && (rc = s_add_context(g, r->valuestring)))
            return rc;
    if ((rc = s_add_context(g, "us-east-1")) || (rc = s_add_context(g, "global")))
        return rc;
    struct s_region_memo memo = {NULL, NULL};
    for (size_t i = 0; i < n; i++) {
        const cJSON *res = tm_snapshot_at(g->snap, i);
        if (res && (rc = s_resource(g, res, &memo))) {
            snprintf(err, errlen, "graph: %s: %s", tm_json_str(res, "id", "?"), tm_error_str(rc));
            return rc;
        }
    }
    return TM_OK;
}

int tm_graph_build(struct tm_graph **out, struct tm_snapshot *snap, const struct tm_graph_options *opts, char *err,
                   size_t errlen) {
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (errlen)
        err[0] = '\0';
    *out = NULL;
    if (!snap || !opts || !opts->actions) {
        snprintf(err, errlen, "graph: a snapshot and the action catalogue are required");
        return TM_ERR_INVALID;
    }
    struct tm_graph *g = calloc(1, sizeof(*g));
    if (!g)
        return TM_ERR_NOMEM;
    g->snap = snap;
    g->opts = *opts;
    int rc = tm_iam_policy_cache_new(&g->policies);
    if (rc) {
        free(g);
        return rc;
    }
    if ((rc = tm__graph_build_nodes(g, err, errlen)) || (rc = tm__graph_finalize(g)) ||
        (rc = tm__graph_build_edges(g, err, errlen)) || (rc = tm__graph_finalize(g)) ||
        (rc = tm__graph_build_privesc(g, err, errlen)) || (rc = tm__graph_finalize(g))) {
        if (!err[0])
            snprintf(err, errlen, "graph: %s", tm_error_str(rc));
        tm_graph_destroy(g);
        return rc;
    }
    tm__graph_trim(g);
    tm__graph_strings_drop(g);
    *out = g;
    return TM_OK;
}
