/* Incident-time questions: can P do A on R, and who can. The renderings are in query_write.c. */
#include "analyzers/query.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/blast.h"
#include "analyzers/iam/catalog.h"
#include "analyzers/query_int.h"
#include "core/json.h"
#include "core/snapshot.h"
#include "core/hash.h"

int tm_query_new(struct tm_query **out, const struct tm_graph *g, const struct tm_iam_catalog *actions) {
    *out = NULL;
    if (!g || !actions)
        return TM_ERR_INVALID;
    struct tm_query *q = calloc(1, sizeof(*q));
    if (!q)
        return TM_ERR_NOMEM;
    size_t n = tm_graph_node_count(g);
    q->g = g;
    q->actions = actions;
    q->slot = malloc((n ? n : 1) * sizeof(uint32_t));
    q->touched = malloc((n ? n : 1) * sizeof(uint32_t));
    if (!q->slot || !q->touched) {
        tm_query_destroy(q);
        return TM_ERR_NOMEM;
    }
    memset(q->slot, 0xff, (n ? n : 1) * sizeof(uint32_t));
    *out = q;
    return TM_OK;
}

void tm_query_destroy(struct tm_query *q) {
    if (!q)
        return;
    free(q->entries);
    for (size_t i = 0; i < q->set_edges_cap; i++) {
        free(q->set_edges[i].action);
        free(q->set_edges[i].edges);
    }
    free(q->set_edges);
    tm__query_evals_clear(q);
    free(q->evals);
    free(q->flags);
    free(q->node_fp);
    for (size_t i = 0; i < q->texts_cap; i++)
        free(q->texts[i].text);
    free(q->texts);
    free(q->slot);
    free(q->touched);
    free(q);
}

void tm__query_set_plain(struct tm_query *q, bool plain) {
    if (q)
        q->plain = plain;
}

/* ---- words and small helpers ---- */

static bool s_is_account_id(const char *s, size_t n) {
    if (n != 12)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Field i of an ARN (0 "arn", 2 service, 4 account), copied into buf; NULL when absent or empty. */
static const char *s_arn_field(const char *arn, int i, char *buf, size_t len) {
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return NULL;
    const char *p = arn;
    for (int k = 0; k < i; k++) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (!n || n >= len)
        return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static bool s_home_arn(const struct tm_graph *g, const char *arn) {
    char acct[32];
    return s_arn_field(arn, 4, acct, sizeof(acct)) && tm_graph_is_home_account(g, acct);
}

/* Bounded edit distance (case-insensitive); max + 1 when farther. */
static size_t s_distance(const char *a, const char *b, size_t max) {
    size_t la = strlen(a), lb = strlen(b);
    if ((la > lb ? la - lb : lb - la) > max || la > 256 || lb > 256)
        return max + 1;
    size_t prev[257], cur[257];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t v = prev[j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

static void s_not_found(const struct tm_graph *g, const char *what, const char *asked, char *err, size_t errlen) {
    uint32_t near = tm_blast_suggest(g, asked);
    if (near != TM_GRAPH_NONE)
        snprintf(err, errlen, "%s '%s' is not in the snapshot; did you mean '%s'?", what, asked,
                 tm_graph_node(g, near)->id);
    else
        snprintf(err, errlen, "%s '%s' is not in the snapshot", what, asked);
}

/* ---- actions ---- */

struct s_near_ctx {
    const char *name;
    size_t best;
    char found[256];
};

static int s_near_action(const struct tm_iam_action *a, void *user_data) {
    struct s_near_ctx *c = user_data;
    size_t d = s_distance(c->name, a->name, c->best - 1);
    if (d < c->best) {
        c->best = d;
        snprintf(c->found, sizeof(c->found), "%s:%s", a->service, a->name);
    }
    return 0;
}

/* An action as written: "service:Name", with a wildcard only when patterns are allowed; a known service's
 * action must be one of its actions. *note is set when the service is one the catalogue does not know. */
static int s_check_action(const struct tm_query *q, const char *action, bool pattern, const char **note, char *err,
                          size_t errlen) {
    const char *colon = action ? strchr(action, ':') : NULL;
    if (!action || !colon || colon == action || !colon[1] || strchr(colon + 1, ':')) {
        snprintf(err, errlen, "'%s' is not an action: write it as service:Action (s3:GetObject)", action ? action : "");
        return TM_ERR_INVALID;
    }
    for (const char *p = action; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == ':' || *p == '-' || *p == '_' || *p == '*' || *p == '?')) {
            snprintf(err, errlen, "'%s' is not an action: write it as service:Action (s3:GetObject)", action);
            return TM_ERR_INVALID;
        }
    bool wild = strpbrk(action, "*?") != NULL;
    if (wild && !pattern) {
        snprintf(err, errlen,
                 "'%s' is a pattern: 'can' answers for one action (ask 'who-can' for a pattern, or name the action)",
                 action);
        return TM_ERR_INVALID;
    }
    char service[128];
    size_t sl = (size_t)(colon - action);
    if (sl >= sizeof(service)) {
        snprintf(err, errlen, "'%s' is not an action: the service prefix is too long", action);
        return TM_ERR_INVALID;
    }
    memcpy(service, action, sl);
    service[sl] = '\0';
    if (strpbrk(service, "*?"))
        return TM_OK;
    if (!tm_iam_catalog_has_service(q->actions, service)) {
        *note = "the action's service is not in tmscan's action catalogue: it is evaluated as written";
        return TM_OK;
    }
    if (wild) {
        size_t n = 0;
        if (tm_iam_catalog_expand(&n, q->actions, action, NULL, NULL) == TM_OK && n)
            return TM_OK;
        snprintf(err, errlen, "no action of %s matches '%s'", service, action);
        return TM_ERR_INVALID;
    }
    struct tm_iam_action found;
    if (tm_iam_catalog_find(q->actions, service, colon + 1, &found) == TM_OK)
        return TM_OK;
    struct s_near_ctx c = {.name = colon + 1, .best = strlen(colon + 1) / 3 + 2};
    char all[160];
    snprintf(all, sizeof(all), "%s:*", service);
    if (tm_iam_catalog_expand(NULL, q->actions, all, s_near_action, &c) == TM_OK && c.found[0])
        snprintf(err, errlen, "'%s' is not an action of %s; did you mean '%s'?", action, service, c.found);
    else
        snprintf(err, errlen, "'%s' is not an action of %s", action, service);
    return TM_ERR_INVALID;
}

/* ---- naming the statements behind a decision ---- */

/* A snapshot document as the text the graph parsed it from, printed once per engine: naming the statements of a
 * thousand administrators must not print AdministratorAccess a thousand times. */
static const char *s_doc_text(struct tm_query *q, const cJSON *doc) {
    if (cJSON_IsString(doc))
        return doc->valuestring;
    if (!cJSON_IsObject(doc))
        return NULL;
    if (q->texts_used + 1 > q->texts_cap / 2) {
        size_t cap = q->texts_cap ? q->texts_cap * 2 : 256;
        struct tm__query_text *n = calloc(cap, sizeof(*n));
        if (n) {
            for (size_t i = 0; i < q->texts_cap; i++) {
                if (!q->texts[i].doc)
                    continue;
                size_t j = ((uintptr_t)q->texts[i].doc >> 4) * 0x9e3779b97f4a7c15ull & (cap - 1);
                while (n[j].doc)
                    j = (j + 1) & (cap - 1);
                n[j] = q->texts[i];
            }
            free(q->texts);
            q->texts = n;
            q->texts_cap = cap;
        }
    }
    if (!q->texts_cap || q->texts_used + 1 > q->texts_cap / 4 * 3)
        return NULL;
    size_t mask = q->texts_cap - 1;
    size_t i = ((uintptr_t)doc >> 4) * 0x9e3779b97f4a7c15ull & mask;
    for (; q->texts[i].doc; i = (i + 1) & mask)
        if (q->texts[i].doc == doc)
            return q->texts[i].text;
    char *t = cJSON_PrintUnformatted(doc);
    if (!t)
        return NULL;
    q->texts[i] = (struct tm__query_text){doc, t};
    q->texts_used++;
    return t;
}

static bool s_same_text(struct tm_query *q, const cJSON *doc, const char *text) {
    const char *t = s_doc_text(q, doc);
    return t && text && strcmp(t, text) == 0;
}

/* The entry of a principal's policies.identity list whose document is this policy. */
static const cJSON *s_identity_entry_find(struct tm_query *q, const struct tm_graph_node *pn,
                                          const struct tm_iam_policy *p) {
    const cJSON *pols = pn->resource ? cJSON_GetObjectItemCaseSensitive(pn->resource, "policies") : NULL;
    const cJSON *ident = pols ? cJSON_GetObjectItemCaseSensitive(pols, "identity") : NULL;
    const char *text = tm_iam_policy_text(p);
    for (const cJSON *it = cJSON_IsArray(ident) ? ident->child : NULL; it; it = it->next)
        if (s_same_text(q, cJSON_GetObjectItemCaseSensitive(it, "document"), text))
            return it;
    return NULL;
}

static bool s_entries_grow(struct tm_query *q) {
    size_t cap = q->entries_cap ? q->entries_cap * 2 : 1024;
    struct tm__query_entry *n = malloc(cap * sizeof(*n));
    if (!n)
        return false;
    for (size_t i = 0; i < cap; i++)
        n[i].node = TM_GRAPH_NONE;
    for (size_t i = 0; i < q->entries_cap; i++) {
        if (q->entries[i].node == TM_GRAPH_NONE)
            continue;
        size_t j = (size_t)tm_hash_mix(q->entries[i].node, (uintptr_t)q->entries[i].policy) & (cap - 1);
        while (n[j].node != TM_GRAPH_NONE)
            j = (j + 1) & (cap - 1);
        n[j] = q->entries[i];
    }
    free(q->entries);
    q->entries = n;
    q->entries_cap = cap;
    return true;
}

/* s_identity_entry_find, remembered per principal and policy: comparing a principal's documents with the policy's
 * text for each statement named is most of the cost of naming a thousand administrators' grants. */
static const cJSON *s_identity_entry(struct tm_query *q, uint32_t p_node, const struct tm_graph_node *pn,
                                     const struct tm_iam_policy *p) {
    if (q->plain)
        return s_identity_entry_find(q, pn, p);
    if (q->entries_used + 1 > q->entries_cap / 4 * 3 && !s_entries_grow(q))
        return s_identity_entry_find(q, pn, p);
    size_t mask = q->entries_cap - 1;
    size_t i = (size_t)tm_hash_mix(p_node, (uintptr_t)p) & mask;
    for (; q->entries[i].node != TM_GRAPH_NONE; i = (i + 1) & mask)
        if (q->entries[i].node == p_node && q->entries[i].policy == p)
            return q->entries[i].entry;
    const cJSON *e = s_identity_entry_find(q, pn, p);
    q->entries[i] = (struct tm__query_entry){p_node, p, e};
    q->entries_used++;
    return e;
}

static const cJSON *s_account_root(const struct tm_graph *g, const char *account) {
    char root[64];
    snprintf(root, sizeof(root), "arn:aws:iam::%s:root", account ? account : "");
    uint32_t n = tm_graph_find(g, root);
    return n == TM_GRAPH_NONE ? NULL : tm_graph_node(g, n)->resource;
}

static const cJSON *s_org_list(const struct tm_graph *g, const char *account, const char *key) {
    const cJSON *root = s_account_root(g, account);
    const cJSON *pols = root ? cJSON_GetObjectItemCaseSensitive(root, "policies") : NULL;
    const cJSON *l = pols ? cJSON_GetObjectItemCaseSensitive(pols, key) : NULL;
    return cJSON_IsArray(l) ? l : NULL;
}

static int s_target_cmp(const void *a, const void *b) {
    return strcmp(tm_json_str(*(const cJSON *const *)a, "target", ""),
                  tm_json_str(*(const cJSON *const *)b, "target", ""));
}

/* The entry of an organisation policy list at (level, index) as the graph numbers them: levels are the distinct
 * targets in byte order, entries whose document could not be read left out. */
static const cJSON *s_org_entry(const cJSON *list, size_t level, size_t index) {
    size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    if (!n)
        return NULL;
    const cJSON **items = malloc(n * sizeof(*items));
    if (!items)
        return NULL;
    size_t k = 0;
    for (const cJSON *it = list->child; it; it = it->next) {
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(it, "document");
        if ((cJSON_IsObject(doc) && !tm_snapshot_is_unknown(doc)) || cJSON_IsString(doc))
            items[k++] = it;
    }
    /* Stable: equal targets keep their order, as in the snapshot. */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && s_target_cmp(&items[j - 1], &items[j]) > 0; j--) {
            const cJSON *t = items[j - 1];
            items[j - 1] = items[j];
            items[j] = t;
        }
    const cJSON *found = NULL;
    size_t lv = 0, idx = 0;
    for (size_t i = 0; i < k && !found; i++) {
        if (i && s_target_cmp(&items[i - 1], &items[i]) != 0) {
            lv++;
            idx = 0;
        }
        if (lv == level && idx == index)
            found = items[i];
        idx++;
    }
    free(items);
    return found;
}

static const char *s_resource_policy_word(const char *type) {
    static const char *const words[][2] = {
        {"aws:s3:bucket", "bucket policy"},
        {"aws:s3:access-point", "access point policy"},
        {"aws:iam:role", "trust policy"},
        {"aws:kms:key", "key policy"},
        {"aws:sqs:queue", "queue policy"},
        {"aws:sns:topic", "topic policy"},
        {"aws:lambda:function", "function policy"},
        {"aws:lambda:alias", "function policy"},
        {"aws:secretsmanager:secret", "secret policy"},
        {"aws:ecr:repository", "repository policy"},
        {"aws:apigateway:restapi", "API policy"},
    };
    for (size_t i = 0; type && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(type, words[i][0]) == 0)
            return words[i][1];
    return "resource policy";
}

static int s_statement_add(struct tm__query_statements *l, const struct tm_query_statement *s) {
    for (size_t i = 0; i < l->n; i++) {
        const struct tm_query_statement *t = &l->items[i];
        if (t->set == s->set && t->statement == s->statement && t->effect == s->effect &&
            strcmp(t->holder ? t->holder : "", s->holder ? s->holder : "") == 0 &&
            strcmp(t->policy ? t->policy : "", s->policy ? s->policy : "") == 0 &&
            strcmp(t->detail ? t->detail : "", s->detail ? s->detail : "") == 0 &&
            strcmp(t->json ? t->json : "", s->json ? s->json : "") == 0)
            return TM_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        struct tm_query_statement *n = realloc(l->items, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        l->items = n;
        l->cap = cap;
    }
    l->items[l->n++] = *s;
    return TM_OK;
}

/* Names each matched statement of an evaluation made by tm_graph_can for principal node p (TM_GRAPH_NONE:
 * not a user or role of the snapshot) and resource node r. */
int tm__query_name_matches(struct tm_query *q, struct tm__query_statements *out, const struct tm_iam_result *res,
                           uint32_t p, uint32_t r, unsigned sets) {
    const struct tm_graph *g = q->g;
    struct tm_iam_policy_set set;
    memset(&set, 0, sizeof(set));
    bool unknown = false;
    bool have_set = p != TM_GRAPH_NONE && tm_graph_principal_policies(g, p, &set, &unknown) == TM_OK;
    const struct tm_graph_node *pn = p != TM_GRAPH_NONE ? tm_graph_node(g, p) : NULL;
    const struct tm_graph_node *rn = r != TM_GRAPH_NONE ? tm_graph_node(g, r) : NULL;
    for (size_t i = 0; i < res->n_matches; i++) {
        const struct tm_iam_match *m = &res->matches[i];
        if (!(sets & (1u << m->set)))
            continue;
        struct tm_query_statement s = {.set = m->set, .effect = m->effect, .statement = (int32_t)m->statement};
        const struct tm_iam_policy *pol = NULL;
        switch (m->set) {
            case TM_IAM_SET_IDENTITY: {
                if (!have_set || m->policy >= set.n_identity)
                    break;
                pol = set.identity[m->policy];
                s.what = "identity policy";
                s.holder = pn->id;
                const cJSON *e = s_identity_entry(q, p, pn, pol);
                if (e) {
                    s.policy = tm_json_str(e, "arn", tm_json_str(e, "name", NULL));
                    const char *grp = tm_json_str(e, "group", NULL);
                    if (grp) {
                        s.what = "identity policy of group";
                        s.detail = grp;
                    }
                }
                break;
            }
            case TM_IAM_SET_BOUNDARY:
                if (!have_set || m->policy >= set.n_boundaries)
                    break;
                pol = set.boundaries[m->policy];
                s.what = "permissions boundary";
                s.holder = pn->id;
                s.policy = tm_json_str(cJSON_GetObjectItemCaseSensitive(pn->resource, "attrs"),
                                       "permissions_boundary_arn", NULL);
                break;
            case TM_IAM_SET_SCP: {
                if (!have_set || m->level >= set.n_scp_levels || m->policy >= set.scp_levels[m->level].n)
                    break;
                pol = set.scp_levels[m->level].policies[m->policy];
                s.what = "service control policy";
                const cJSON *list = s_org_list(g, pn->account, "scps");
                const char *text = tm_iam_policy_text(pol);
                const cJSON *root = s_account_root(g, pn->account);
                s.holder = root ? tm_json_str(root, "id", NULL) : NULL;
                /* The same document can sit at several levels (FullAWSAccess at the root and each OU): the level
                 * says which; the text confirms it. */
                const cJSON *e = s_org_entry(list, m->level, m->policy);
                if (!e || !s_same_text(q, cJSON_GetObjectItemCaseSensitive(e, "document"), text))
                    for (e = list ? list->child : NULL; e; e = e->next)
                        if (s_same_text(q, cJSON_GetObjectItemCaseSensitive(e, "document"), text))
                            break;
                if (e) {
                    s.policy = tm_json_str(e, "name", tm_json_str(e, "id", NULL));
                    s.detail = tm_json_str(e, "target", NULL);
                }
                break;
            }
            case TM_IAM_SET_RCP: {
                if (!rn)
                    break;
                s.what = "resource control policy";
                const cJSON *root = s_account_root(g, rn->account);
                s.holder = root ? tm_json_str(root, "id", NULL) : NULL;
                const cJSON *e = s_org_entry(s_org_list(g, rn->account, "rcps"), m->level, m->policy);
                if (e) {
                    s.policy = tm_json_str(e, "name", tm_json_str(e, "id", NULL));
                    s.detail = tm_json_str(e, "target", NULL);
                }
                break;
            }
            case TM_IAM_SET_RESOURCE:
                if (!rn)
                    break;
                pol = tm_graph_resource_policy(g, r, NULL);
                s.what = s_resource_policy_word(rn->type);
                s.holder = rn->id;
                break;
            case TM_IAM_SET_SESSION:
            default:
                s.what = "session policy";
                break;
        }
        if (pol) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(pol, m->statement, &v) == TM_OK) {
                s.sid = v.sid;
                s.json = v.json;
            }
        }
        if (!s.what)
            continue;
        int rc = s_statement_add(out, &s);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* What kind of grant an edge's evidence is, in words. */
static const char *s_evidence_word(const struct tm_graph *g, const struct tm_graph_edge *e) {
    static const char *const words[][2] = {
        {"acl", "bucket ACL"},
        {"url", "function URL"},
        {"authorizer", "API authorisation"},
        {"network", "security group"},
        {"permission", "sharing attribute"},
        {"access-key", "access key"},
        {"identity", "identity policy"},
        {"trust", "trust policy"},
        {"link", "link"},
        {"technique", "privilege escalation"},
    };
    const char *src = e->evidence.source;
    if (src && strcmp(src, "resource") == 0) {
        uint32_t h = tm_graph_find(g, e->evidence.holder);
        return s_resource_policy_word(h == TM_GRAPH_NONE ? NULL : tm_graph_node(g, h)->type);
    }
    for (size_t i = 0; src && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcmp(src, words[i][0]) == 0)
            return words[i][1];
    return src ? src : "grant";
}

/* ---- resolving the principal and the resource ---- */

/* Who the engine is asked about. */
struct s_who {
    const char *engine; /* principal string for tm_graph_can */
    uint32_t node;
    bool known;
    bool external; /* a user or role of an account outside the snapshot */
    const char *note;
};

static int s_principal(const struct tm_query *q, const char *asked, struct s_who *w, char *buf, size_t buflen,
                       char *err, size_t errlen) {
    const struct tm_graph *g = q->g;
    memset(w, 0, sizeof(*w));
    w->node = TM_GRAPH_NONE;
    if (!asked || !*asked) {
        snprintf(err, errlen, "no principal given");
        return TM_ERR_INVALID;
    }
    if (strcmp(asked, TM_GRAPH_ID_INTERNET) == 0 || strcmp(asked, "anonymous") == 0 || strcmp(asked, "*") == 0) {
        w->engine = "anonymous";
        w->node = tm_graph_find(g, TM_GRAPH_ID_INTERNET);
        return TM_OK;
    }
    if (strcmp(asked, TM_GRAPH_ID_ANY_AWS_ACCOUNT) == 0) {
        /* Someone of an account no policy names and outside the organisation. */
        w->engine = "arn:aws:iam::000000000000:root";
        w->node = tm_graph_find(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT);
        w->note = "any AWS account is asked as account 000000000000, one no policy names";
        return TM_OK;
    }
    if (strncmp(asked, "account:", 8) == 0) {
        if (!s_is_account_id(asked + 8, strlen(asked + 8))) {
            snprintf(err, errlen, "'%s' is not an account: account ids have 12 digits (account:999999999999)", asked);
            return TM_ERR_INVALID;
        }
        snprintf(buf, buflen, "arn:aws:iam::%s:root", asked + 8);
        w->engine = buf;
        w->node = tm_graph_find(g, asked);
        w->note = "an account is asked as its root: grants to its users and roles by name are not counted";
        return TM_OK;
    }
    if (strncmp(asked, "service:", 8) == 0 && asked[8]) {
        w->engine = asked;
        w->node = tm_graph_find(g, asked);
        return TM_OK;
    }
    uint32_t n = tm_graph_find(g, asked);
    if (n != TM_GRAPH_NONE) {
        struct tm_iam_policy_set set;
        bool unknown = false;
        const struct tm_graph_node *node = tm_graph_node(g, n);
        w->node = n;
        w->known = tm_graph_principal_policies(g, n, &set, &unknown) == TM_OK;
        if (!w->known && node->kind != TM_GRAPH_NODE_PRINCIPAL &&
            !(node->type && (strncmp(node->type, "aws:iam:", 8) == 0 || strcmp(node->type, "aws:account") == 0))) {
            snprintf(err, errlen, "'%s' is not a principal (it is a %s)", asked, node->type ? node->type : "node");
            return TM_ERR_INVALID;
        }
        w->engine = node->id;
        w->external = !w->known && node->account && !tm_graph_is_home_account(g, node->account) &&
                      node->kind == TM_GRAPH_NODE_PRINCIPAL;
        if (!w->known)
            w->note = w->external ? "the principal is outside the snapshot: only the resource's policy is known; its "
                                    "own account's policies also have to allow"
                                  : "the principal is not a user or role of the snapshot: only the resource's policy "
                                    "speaks for it";
        return TM_OK;
    }
    if (strncmp(asked, "AKIA", 4) == 0 || strncmp(asked, "ASIA", 4) == 0) {
        snprintf(err, errlen, "access key '%s' belongs to no user of the snapshot%s", asked,
                 asked[1] == 'S' ? " (temporary keys never do: give the role session ARN)" : "");
        return TM_ERR_NOT_FOUND;
    }
    if (strncmp(asked, "arn:", 4) == 0 && !s_home_arn(g, asked)) {
        w->engine = asked;
        w->external = !strstr(asked, ":root");
        w->note = w->external ? "the principal is outside the snapshot: only the resource's policy is known; its own "
                                "account's policies also have to allow"
                              : "the principal is outside the snapshot: only the resource's policy speaks for it";
        return TM_OK;
    }
    s_not_found(g, "principal", asked, err, errlen);
    return TM_ERR_NOT_FOUND;
}

/* The node whose policy governs a resource string: itself, or the bucket of an S3 object. */
static uint32_t s_resource_node(const struct tm_graph *g, const char *resource) {
    uint32_t r = tm_graph_find(g, resource);
    if (r != TM_GRAPH_NONE || strncmp(resource, "arn:aws:s3:::", 13) != 0)
        return r;
    const char *slash = strchr(resource + 13, '/');
    if (!slash)
        return TM_GRAPH_NONE;
    char bucket[1100];
    size_t n = (size_t)(slash - resource);
    if (n >= sizeof(bucket))
        return TM_GRAPH_NONE;
    memcpy(bucket, resource, n);
    bucket[n] = '\0';
    return tm_graph_find(g, bucket);
}

/* ---- can ---- */

void tm_query_can_clean_up(struct tm_query_can *a) {
    if (!a)
        return;
    free(a->statements);
    memset(a, 0, sizeof(*a));
}

int tm_query_can(struct tm_query *q, struct tm_query_can *out, const char *principal, const char *action,
                 const char *resource, char *err, size_t errlen) {
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (errlen)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->principal_node = out->resource_node = TM_GRAPH_NONE;
    if (!q) {
        snprintf(err, errlen, "no query engine");
        return TM_ERR_INVALID;
    }
    const struct tm_graph *g = q->g;
    size_t n_notes = 0;
    struct s_who w;
    int rc = s_principal(q, principal, &w, out->principal_buf, sizeof(out->principal_buf), err, errlen);
    if (rc)
        return rc;
    if (w.note)
        out->notes[n_notes++] = w.note;
    const char *action_note = NULL;
    if ((rc = s_check_action(q, action, false, &action_note, err, errlen)))
        return rc;
    if (action_note)
        out->notes[n_notes++] = action_note;
    if (!resource || !*resource) {
        snprintf(err, errlen, "no resource given (an ARN, or * for actions on no resource)");
        return TM_ERR_INVALID;
    }
    uint32_t r = strcmp(resource, "*") == 0 ? TM_GRAPH_NONE : s_resource_node(g, resource);
    if (r == TM_GRAPH_NONE && strcmp(resource, "*") != 0) {
        if (strncmp(resource, "arn:", 4) != 0 || s_home_arn(g, resource)) {
            s_not_found(g, "resource", resource, err, errlen);
            return TM_ERR_NOT_FOUND;
        }
        out->notes[n_notes++] = "the resource is not in the snapshot: no resource policy of it is known";
    }
    out->principal_asked = principal;
    out->principal = w.engine;
    out->principal_node = w.node;
    out->principal_known = w.known;
    out->action = action;
    out->resource_asked = resource;
    out->resource_node = r;

    struct tm_iam_result res;
    tm_iam_result_init(&res);
    bool unknown = false;
    if ((rc = tm_graph_can(g, w.engine, action, resource, NULL, &res, &unknown))) {
        snprintf(err, errlen, "the policy engine could not evaluate the request: %s", tm_error_str(rc));
        goto out;
    }
    out->decision = res.decision;
    out->reason = res.reason;
    out->unknown = unknown;
    /* A user or role of another account: its own identity policies (and its organisation's SCPs) are not in the
     * snapshot, so an answer that needs them is not known. */
    if (!w.known && w.external && res.decision != TM_IAM_EXPLICIT_DENY)
        out->unknown = true;
    struct tm__query_statements st = {0};
    rc = tm__query_name_matches(q, &st, &res, w.known ? w.node : TM_GRAPH_NONE, r, TM__QUERY_ALL_SETS);
    out->statements = st.items;
    out->n_statements = st.n;
    if (rc)
        snprintf(err, errlen, "out of memory");
out:
    tm_iam_result_clean_up(&res);
    if (rc)
        tm_query_can_clean_up(out);
    return rc;
}

/* ---- who-can ---- */

void tm_query_who_clean_up(struct tm_query_who *w) {
    if (!w)
        return;
    for (size_t i = 0; i < w->n_grantees; i++) {
        free(w->grantees[i].actions);
        free(w->grantees[i].statements);
    }
    free(w->grantees);
    for (size_t i = 0; i < w->n_actions; i++)
        free(w->actions[i]);
    free(w->actions);
    memset(w, 0, sizeof(*w));
}

struct s_expand_ctx {
    struct tm_query_who *w;
    size_t cap;
    const char *service; /* the resource's service; NULL: any */
    int rc;
};

static int s_push_action(struct s_expand_ctx *c, const char *service, const char *name) {
    if (c->w->n_actions == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        char **n = realloc(c->w->actions, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        c->w->actions = n;
        c->cap = cap;
    }
    size_t len = strlen(service) + strlen(name) + 2;
    char *a = malloc(len);
    if (!a)
        return TM_ERR_NOMEM;
    snprintf(a, len, "%s:%s", service, name);
    c->w->actions[c->w->n_actions++] = a;
    return TM_OK;
}

static int s_expand_cb(const struct tm_iam_action *a, void *user_data) {
    struct s_expand_ctx *c = user_data;
    if (c->service && strcasecmp(c->service, a->service) != 0)
        return 0;
    c->rc = s_push_action(c, a->service, a->name);
    return c->rc;
}

/* S3 acts on objects for most actions: asked of a bucket, they are evaluated on its objects. */
static bool s_object_action(const char *action) {
    if (strncasecmp(action, "s3:", 3) != 0)
        return false;
    const char *name = action + 3;
    return strstr(name, "Object") || strcasecmp(name, "AbortMultipartUpload") == 0 ||
           strcasecmp(name, "ListMultipartUploadParts") == 0;
}

static const char *s_eval_resource(const struct tm_graph_node *rn, const char *resource, const char *action, char *buf,
                                   size_t len) {
    if (rn && rn->type && strcmp(rn->type, "aws:s3:bucket") == 0 && strcmp(resource, rn->id) == 0 &&
        s_object_action(action)) {
        snprintf(buf, len, "%s/*", rn->id);
        return buf;
    }
    return resource;
}

/* Does an edge's action list cover one of the asked actions? Edges without actions (an unknown fact) do. */
static bool s_edge_matches(const struct tm_graph_edge *e, char *const *actions, size_t n, size_t *which) {
    if (!e->n_actions) {
        *which = SIZE_MAX;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < e->n_actions; k++)
            if (tm_graph_action_glob(e->actions[k], actions[i])) {
                *which = i;
                return true;
            }
    return false;
}

static bool s_permission_kind(enum tm_graph_edge_kind k) {
    return k == TM_GRAPH_EDGE_CAN_INVOKE || k == TM_GRAPH_EDGE_CAN_READ || k == TM_GRAPH_EDGE_CAN_WRITE ||
           k == TM_GRAPH_EDGE_CAN_ASSUME || k == TM_GRAPH_EDGE_CAN_PASS;
}

/* A candidate: the principal at the start of an edge into the resource (or into a set holding it). */
struct s_cand {
    uint32_t node;
    uint32_t edge; /* the first such edge */
};

static int s_cand_add(struct tm_query *q, struct s_cand **c, size_t *n, size_t *cap, uint32_t node, uint32_t edge) {
    if (q->slot[node] != TM_GRAPH_NONE)
        return TM_OK;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        struct s_cand *x = realloc(*c, nc * sizeof(*x));
        if (!x)
            return TM_ERR_NOMEM;
        *c = x;
        *cap = nc;
    }
    q->slot[node] = (uint32_t)*n;
    q->touched[q->n_touched++] = node;
    (*c)[(*n)++] = (struct s_cand){node, edge};
    return TM_OK;
}

struct s_sets_ctx {
    struct tm_query *q;
    const struct tm_query_who *w;
    uint32_t r;
    struct s_cand **c;
    size_t *n, *cap;
    int rc;
};

static int s_from_edges(struct tm_query *q, const struct tm_query_who *w, uint32_t target, struct s_cand **c, size_t *n,
                        size_t *cap) {
    const struct tm_graph *g = q->g;
    size_t ni = 0;
    const uint32_t *in = tm_graph_in(g, target, &ni);
    for (size_t i = 0; i < ni; i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, in[i]);
        size_t which;
        if (!s_permission_kind(e->kind) || !s_edge_matches(e, w->actions, w->n_actions, &which))
            continue;
        /* A grant on a set holding the resource makes a candidate; whether it covers the resource is the policy
         * engine's to say, once, when the candidate is evaluated. */
        int rc = s_cand_add(q, c, n, cap, e->from, in[i]);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static bool s_set_edges_grow(struct tm_query *q) {
    size_t cap = q->set_edges_cap ? q->set_edges_cap * 2 : 64;
    struct tm__query_set_edges *n = malloc(cap * sizeof(*n));
    if (!n)
        return false;
    for (size_t i = 0; i < cap; i++)
        n[i] = (struct tm__query_set_edges){.set = TM_GRAPH_NONE};
    for (size_t i = 0; i < q->set_edges_cap; i++) {
        if (q->set_edges[i].set == TM_GRAPH_NONE)
            continue;
        size_t j = (size_t)tm_hash_mix(q->set_edges[i].set, tm_hash_str(q->set_edges[i].action)) & (cap - 1);
        while (n[j].set != TM_GRAPH_NONE)
            j = (j + 1) & (cap - 1);
        n[j] = q->set_edges[i];
    }
    free(q->set_edges);
    q->set_edges = n;
    q->set_edges_cap = cap;
    return true;
}

/* The permission edges into a set that can grant an action (s_from_edges' test), worked out once per engine; NULL
 * when out of memory (the caller then tests the edges itself). */
static const struct tm__query_set_edges *s_set_edges(struct tm_query *q, uint32_t set, const char *action) {
    if (q->set_edges_used + 1 > q->set_edges_cap / 4 * 3 && !s_set_edges_grow(q))
        return NULL;
    size_t mask = q->set_edges_cap - 1;
    size_t i = (size_t)tm_hash_mix(set, tm_hash_str(action)) & mask;
    for (; q->set_edges[i].set != TM_GRAPH_NONE; i = (i + 1) & mask)
        if (q->set_edges[i].set == set && strcmp(q->set_edges[i].action, action) == 0)
            return &q->set_edges[i];
    const struct tm_graph *g = q->g;
    size_t ni = 0;
    const uint32_t *in = tm_graph_in(g, set, &ni);
    struct tm__query_set_edges e = {.set = set, .action = strdup(action)};
    if (!e.action || !(e.edges = malloc((ni ? ni : 1) * sizeof(uint32_t)))) {
        free(e.action);
        return NULL;
    }
    char *const one[1] = {e.action};
    for (size_t k = 0; k < ni; k++) {
        const struct tm_graph_edge *edge = tm_graph_edge(g, in[k]);
        size_t which;
        if (s_permission_kind(edge->kind) && s_edge_matches(edge, one, 1, &which))
            e.edges[e.n++] = in[k];
    }
    q->set_edges[i] = e;
    q->set_edges_used++;
    return &q->set_edges[i];
}

static int s_set_cb(uint32_t set, void *user_data) {
    struct s_sets_ctx *x = user_data;
    const struct tm__query_set_edges *se =
        !x->q->plain && x->w->n_actions == 1 ? s_set_edges(x->q, set, x->w->actions[0]) : NULL;
    if (!se) {
        x->rc = s_from_edges(x->q, x->w, set, x->c, x->n, x->cap);
        return x->rc;
    }
    for (size_t i = 0; i < se->n && !x->rc; i++)
        x->rc = s_cand_add(x->q, x->c, x->n, x->cap, tm_graph_edge(x->q->g, se->edges[i])->from, se->edges[i]);
    return x->rc;
}

static int s_grantee_cmp(const void *pa, const void *pb, void *user_data) {
    const struct tm_graph *g = user_data;
    const struct tm_query_grantee *a = pa, *b = pb;
    if (a->pseudo != b->pseudo)
        return a->pseudo ? -1 : 1;
    if (a->unknown != b->unknown)
        return a->unknown ? 1 : -1;
    (void)g;
    return a->node < b->node ? -1 : a->node > b->node;
}

/* Evaluates one candidate that is a user or role of the snapshot. */
static int s_principal_grantee(struct tm_query *q, struct tm_query_who *w, const struct s_cand *c, bool alike,
                               struct tm_query_grantee *out, bool *keep) {
    const struct tm_graph *g = q->g;
    const struct tm_graph_node *rn = tm_graph_node(g, w->resource_node);
    const struct tm_graph_edge *edge = tm_graph_edge(g, c->edge);
    struct tm__query_statements st = {0};
    const char **acts = malloc((w->n_actions ? w->n_actions : 1) * sizeof(*acts));
    int rc = TM_ERR_NOMEM;
    bool unknown_any = false, denied_explicit = false;
    if (!acts)
        goto out;
    out->node = c->node;
    uint64_t fp = alike ? tm__query_eval_fp(q, c->node) : 0;
    for (size_t i = 0; i < w->n_actions; i++) {
        char buf[1200];
        const char *res = s_eval_resource(rn, w->resource_asked, w->actions[i], buf, sizeof(buf));
        struct tm_iam_result r;
        tm_iam_result_init(&r);
        bool unknown = false;
        const struct tm_iam_result *use = &r;
        const struct tm__query_eval *m = tm__query_eval_find(q, fp, i);
        if (m) {
            use = &m->res;
            unknown = m->unknown;
            rc = TM_OK;
        } else {
            rc = tm_graph_can(g, tm_graph_node(g, c->node)->id, w->actions[i], res, NULL, &r, &unknown);
            if (!rc && (m = tm__query_eval_add(q, fp, i, &r, unknown)))
                use = &m->res;
        }
        if (!rc && use->decision == TM_IAM_ALLOWED) {
            acts[out->n_actions++] = w->actions[i];
            /* The grants, not what merely lets them through (SCPs and boundaries allow most of everything). */
            rc = tm__query_name_matches(q, &st, use, c->node, w->resource_node,
                                        (1u << TM_IAM_SET_IDENTITY) | (1u << TM_IAM_SET_RESOURCE));
        }
        unknown_any = unknown_any || unknown;
        denied_explicit = denied_explicit || use->decision == TM_IAM_EXPLICIT_DENY;
        tm_iam_result_clean_up(&r);
        if (rc)
            goto out;
    }
    if (out->n_actions) {
        out->unknown = false;
        *keep = true;
    } else if (unknown_any || (edge->flags & TM_GRAPH_EDGE_UNKNOWN)) {
        /* Not allowed by what could be read, but a policy that matters could not be: it may be allowed. */
        out->unknown = true;
        *keep = !denied_explicit;
    } else if ((edge->flags & TM_GRAPH_EDGE_CONDITIONAL) && !denied_explicit) {
        /* The grant holds under conditions the engine cannot decide without a request (a source network, a
         * tag): it counts, marked. */
        out->conditional = true;
        out->conditions = edge->conditions;
        *keep = true;
    }
    if (*keep && !out->n_actions) {
        for (size_t i = 0; i < w->n_actions; i++)
            for (size_t k = 0; k < edge->n_actions; k++)
                if (tm_graph_action_glob(edge->actions[k], w->actions[i])) {
                    acts[out->n_actions++] = w->actions[i];
                    break;
                }
        struct tm_query_statement s = {
            .set = TM_IAM_SET_IDENTITY,
            .effect = TM_IAM_ALLOW,
            .what = s_evidence_word(g, edge),
            .holder = edge->evidence.holder,
            .policy = edge->evidence.policy,
            .statement = edge->evidence.statement,
            .sid = edge->evidence.sid,
            .json = edge->statement ? edge->statement : edge->evidence.text,
        };
        if ((rc = s_statement_add(&st, &s)))
            goto out;
    }
    out->actions = acts;
    acts = NULL;
    out->statements = st.items;
    out->n_statements = st.n;
    st.items = NULL;
    rc = TM_OK;
out:
    free(acts);
    free(st.items);
    return rc;
}

/* A grant from outside (or from a node that is not a user or role of the snapshot): the graph's edge. */
static int s_edge_grantee(struct tm_query *q, struct tm_query_who *w, const struct s_cand *c,
                          struct tm_query_grantee *out) {
    const struct tm_graph *g = q->g;
    uint32_t r = w->resource_node;
    out->node = c->node;
    out->pseudo = true;
    out->actions = malloc((w->n_actions ? w->n_actions : 1) * sizeof(*out->actions));
    if (!out->actions)
        return TM_ERR_NOMEM;
    struct tm__query_statements st = {0};
    /* Every edge from this node into the resource (or a set holding it) that grants an asked action. */
    size_t ni = 0;
    const uint32_t *in = tm_graph_in(g, r, &ni);
    bool any_known = false;
    for (size_t i = 0; i < ni; i++) {
        const struct tm_graph_edge *e = tm_graph_edge(g, in[i]);
        size_t which;
        if (e->from != c->node || !s_permission_kind(e->kind) || !s_edge_matches(e, w->actions, w->n_actions, &which))
            continue;
        for (size_t a = 0; a < w->n_actions; a++) {
            bool m = !e->n_actions;
            for (size_t k = 0; k < e->n_actions && !m; k++)
                m = tm_graph_action_glob(e->actions[k], w->actions[a]);
            bool have = false;
            for (size_t k = 0; k < out->n_actions && !have; k++)
                have = out->actions[k] == w->actions[a];
            if (m && !have)
                out->actions[out->n_actions++] = w->actions[a];
        }
        if (e->flags & TM_GRAPH_EDGE_CONDITIONAL) {
            out->conditional = true;
            out->conditions = e->conditions;
        }
        any_known = any_known || !(e->flags & TM_GRAPH_EDGE_UNKNOWN);
        struct tm_query_statement s = {
            .set = TM_IAM_SET_RESOURCE,
            .effect = TM_IAM_ALLOW,
            .what = s_evidence_word(g, e),
            .holder = e->evidence.holder,
            .policy = e->evidence.policy,
            .statement = e->evidence.statement,
            .sid = e->evidence.sid,
            .json = e->statement ? e->statement : e->evidence.text,
        };
        int rc = s_statement_add(&st, &s);
        if (rc) {
            free(st.items);
            return rc;
        }
    }
    out->unknown = !any_known;
    out->statements = st.items;
    out->n_statements = st.n;
    /* Keep the actions in the asked order. */
    size_t k = 0;
    for (size_t a = 0; a < w->n_actions; a++)
        for (size_t j = 0; j < out->n_actions; j++)
            if (out->actions[j] == w->actions[a]) {
                out->actions[k++] = w->actions[a];
                break;
            }
    out->n_actions = k;
    return TM_OK;
}

int tm_query_who_can(struct tm_query *q, struct tm_query_who *out, const char *action, const char *resource, char *err,
                     size_t errlen) {
    char scratch[8];
    if (!err) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    if (errlen)
        err[0] = '\0';
    memset(out, 0, sizeof(*out));
    out->resource_node = TM_GRAPH_NONE;
    if (!q) {
        snprintf(err, errlen, "no query engine");
        return TM_ERR_INVALID;
    }
    const struct tm_graph *g = q->g;
    const char *note = NULL;
    int rc = s_check_action(q, action, true, &note, err, errlen);
    if (rc)
        return rc;
    if (!resource || !*resource || strcmp(resource, "*") == 0) {
        snprintf(err, errlen, "who-can needs one resource of the snapshot (an ARN)");
        return TM_ERR_INVALID;
    }
    uint32_t r = s_resource_node(g, resource);
    if (r == TM_GRAPH_NONE) {
        s_not_found(g, "resource", resource, err, errlen);
        return TM_ERR_NOT_FOUND;
    }
    out->action_asked = action;
    out->resource_asked = resource;
    out->resource_node = r;
    tm_graph_resource_policy(g, r, &out->resource_policy_unknown);

    /* The asked actions: the pattern expanded, kept to the resource's service. */
    char svc[64];
    const char *service = s_arn_field(tm_graph_node(g, r)->id, 2, svc, sizeof(svc));
    struct s_expand_ctx x = {.w = out, .service = service};
    if (strpbrk(action, "*?") && !note) {
        rc = tm_iam_catalog_expand(NULL, q->actions, action, s_expand_cb, &x);
        if (x.rc)
            rc = x.rc;
        if (!rc && !out->n_actions) {
            snprintf(err, errlen, "no action matching '%s' applies to %s resources", action,
                     service ? service : "such");
            rc = TM_ERR_INVALID;
        }
    } else {
        const char *colon = strchr(action, ':');
        char s[128];
        size_t sl = (size_t)(colon - action) < sizeof(s) ? (size_t)(colon - action) : sizeof(s) - 1;
        memcpy(s, action, sl);
        s[sl] = '\0';
        struct tm_iam_action found;
        if (!strpbrk(action, "*?") && tm_iam_catalog_find(q->actions, s, colon + 1, &found) == TM_OK)
            rc = s_push_action(&x, found.service, found.name);
        else
            rc = s_push_action(&x, s, colon + 1);
    }
    if (rc)
        goto out;

    /* Candidates: whoever has an edge granting one of the actions on the resource or on a set holding it. */
    struct s_cand *cand = NULL;
    size_t n_cand = 0, cap = 0;
    rc = s_from_edges(q, out, r, &cand, &n_cand, &cap);
    if (!rc) {
        struct s_sets_ctx sx = {q, out, r, &cand, &n_cand, &cap, TM_OK};
        rc = tm_graph_sets_containing(g, r, s_set_cb, &sx);
        if (sx.rc)
            rc = sx.rc;
    }
    for (size_t i = 0; i < q->n_touched; i++)
        q->slot[q->touched[i]] = TM_GRAPH_NONE;
    q->n_touched = 0;
    if (!rc && n_cand && !(out->grantees = calloc(n_cand, sizeof(*out->grantees))))
        rc = TM_ERR_NOMEM;
    /* Principals the engine cannot tell apart share one evaluation per action (query_memo.c). */
    bool alike = tm__query_resource_alike(q, r);
    for (size_t i = 0; i < n_cand && !rc; i++) {
        struct tm_query_grantee *gr = &out->grantees[out->n_grantees];
        struct tm_iam_policy_set set;
        bool unknown = false;
        bool keep = true;
        if (tm_graph_principal_policies(g, cand[i].node, &set, &unknown) == TM_OK) {
            keep = false;
            rc = s_principal_grantee(q, out, &cand[i], alike, gr, &keep);
        } else {
            rc = s_edge_grantee(q, out, &cand[i], gr);
        }
        if (!rc && keep && (gr->n_actions || gr->unknown))
            out->n_grantees++;
        else {
            free(gr->actions);
            free(gr->statements);
            memset(gr, 0, sizeof(*gr));
        }
    }
    free(cand);
    tm__query_evals_clear(q);
    if (!rc && out->n_grantees)
        qsort_r(out->grantees, out->n_grantees, sizeof(*out->grantees), s_grantee_cmp, (void *)g);
out:
    if (rc) {
        if (!err[0])
            snprintf(err, errlen, "%s", tm_error_str(rc));
        tm_query_who_clean_up(out);
    }
    return rc;
}
