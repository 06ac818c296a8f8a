/* Token abuse: credentials usable outside the thing that holds them. A path from an entry point through
 * compute (a Lambda function runs with its execution role; an EC2 instance hands out its instance profile's
 * credentials through the metadata service, to anyone who can make it fetch a URL when IMDSv1 is allowed) to the
 * crown jewels those credentials reach; and credentials that already live outside: active access keys of IAM
 * users. One finding per compute resource (or user), naming the entry point, the compute, the token and what it
 * reaches. Compute whose credentials reach no crown jewel is not a finding (its exposure may be). */
#include "analyzers/analyze.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph.h"
#include "analyzers/threat_int.h"
#include "core/buf.h"
#include "core/json.h"

/* Breadth-first from the entry points through what carries requests: invocations, routing, event triggers,
 * and writes into something that triggers code (a public queue feeding a function). */
struct s_entry_walk {
    uint32_t *via_edge, *via_node, *source;
    uint8_t *seen;
    uint32_t *queue;
    size_t n;
};

static bool s_triggers_something(const struct tm_graph *g, uint32_t node) {
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, node, &n, NULL);
    for (size_t i = 0; i < n; i++)
        if (out[i].kind == TM_GRAPH_EDGE_TRIGGERS)
            return true;
    return false;
}

static bool s_carries(const struct tm_graph *g, const struct tm_graph_edge *e) {
    if (e->flags & (TM_GRAPH_EDGE_CONDITIONAL | TM_GRAPH_EDGE_TO_SET))
        return false;
    switch (e->kind) {
        case TM_GRAPH_EDGE_CAN_INVOKE:
        case TM_GRAPH_EDGE_ROUTES_TO:
        case TM_GRAPH_EDGE_TRIGGERS:
            return true;
        case TM_GRAPH_EDGE_CAN_WRITE:
            return s_triggers_something(g, e->to);
        default:
            return false;
    }
}

static int s_walk(const struct tm_graph *g, struct s_entry_walk *w) {
    size_t cap = tm_graph_node_count(g) + 1;
    w->via_edge = malloc(cap * sizeof(uint32_t));
    w->via_node = malloc(cap * sizeof(uint32_t));
    w->source = malloc(cap * sizeof(uint32_t));
    w->seen = calloc(cap, 1);
    w->queue = malloc(cap * sizeof(uint32_t));
    if (!w->via_edge || !w->via_node || !w->source || !w->seen || !w->queue)
        return TM_ERR_NOMEM;
    /* Widest first, so a node reached from the internet is attributed to it. */
    uint32_t entries[2] = {tm_graph_find(g, TM_GRAPH_ID_INTERNET), tm_graph_find(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT)};
    for (size_t i = 0; i < 2; i++)
        if (entries[i] != TM_GRAPH_NONE && !w->seen[entries[i]]) {
            w->seen[entries[i]] = 1;
            w->via_edge[entries[i]] = TM_GRAPH_NONE;
            w->source[entries[i]] = entries[i];
            w->queue[w->n++] = entries[i];
        }
    for (uint32_t a = 0; a < tm_graph_node_count(g); a++) {
        const struct tm_graph_node *an = tm_graph_node(g, a);
        if (an->kind != TM_GRAPH_NODE_ACCOUNT || (an->flags & TM_GRAPH_NODE_IN_ORGANIZATION) ||
            tm_graph_is_home_account(g, an->account))
            continue;
        w->seen[a] = 1;
        w->via_edge[a] = TM_GRAPH_NONE;
        w->source[a] = a;
        w->queue[w->n++] = a;
    }
    for (size_t head = 0; head < w->n; head++) {
        uint32_t v = w->queue[head];
        /* Roles reached from outside are exposures of their own; compute is where credentials are taken. */
        if (tm_graph_node(g, v)->kind == TM_GRAPH_NODE_PRINCIPAL)
            continue;
        size_t n = 0;
        uint32_t first = 0;
        const struct tm_graph_edge *out = tm_graph_out(g, v, &n, &first);
        for (size_t i = 0; i < n; i++) {
            if (!s_carries(g, &out[i]) || w->seen[out[i].to])
                continue;
            uint32_t to = out[i].to;
            w->seen[to] = 1;
            w->via_edge[to] = first + (uint32_t)i;
            w->via_node[to] = v;
            w->source[to] = w->source[v];
            w->queue[w->n++] = to;
        }
    }
    return TM_OK;
}

static void s_walk_free(struct s_entry_walk *w) {
    free(w->via_edge);
    free(w->via_node);
    free(w->source);
    free(w->seen);
    free(w->queue);
}

static int s_entry_path(const struct tm_graph *g, const struct s_entry_walk *w, struct tm_finding *f, uint32_t node,
                        bool *unknown) {
    uint32_t chain[64];
    size_t n = 0;
    for (uint32_t v = node; w->via_edge[v] != TM_GRAPH_NONE && n < 64; v = w->via_node[v])
        chain[n++] = v;
    for (size_t i = n; i > 0; i--) {
        const struct tm_graph_edge *e = tm_graph_edge(g, w->via_edge[chain[i - 1]]);
        *unknown = *unknown || (e->flags & TM_GRAPH_EDGE_UNKNOWN);
        int rc = tm__threat_step(f, g, e, NULL, NULL);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* The jewels' steps (only the way to administrator when that is reached: it subsumes the rest; past the cap, the
 * most sensitive jewels) and a phrase naming them. */
static int s_jewel_steps(const struct tm_analysis *a, struct tm__threat_search *s, struct tm_finding *f,
                         struct tm_buf *names, bool *unknown, bool *write) {
    const struct tm_graph *g = s->g;
    const struct tm__threat_jewel **pick = malloc((s->n_jewels ? s->n_jewels : 1) * sizeof(*pick));
    if (!pick)
        return TM_ERR_NOMEM;
    size_t np = 0;
    for (size_t j = 0; j < s->n_jewels; j++) {
        const struct tm__threat_jewel *jw = &s->jewels[j];
        if (s->admin && tm_graph_node(g, jw->node)->kind != TM_GRAPH_NODE_ADMIN)
            continue;
        /* Severity counts every jewel, listed or not. */
        *unknown = *unknown || jw->unknown;
        *write = *write || jw->write;
        pick[np++] = jw;
    }
    size_t total = np;
    int rc = np ? tm__threat_reach_select(s, f, pick, &np, a->reach_listed_max) : TM_OK;
    for (size_t j = 0; j < np && !rc; j++) {
        const struct tm__threat_jewel *jw = pick[j];
        bool admin = tm_graph_node(g, jw->node)->kind == TM_GRAPH_NODE_ADMIN;
        rc = tm__threat_search_jewel_path(s, f, jw);
        if (!rc)
            rc = tm_buf_appendf(names, "%s%s", names->len ? ", " : "",
                                admin ? "full control of the account (administrator)"
                                      : tm__threat_name(tm_graph_node(g, jw->node)));
    }
    if (!rc && np < total)
        rc = tm_buf_appendf(names, ", and %zu more (%s lists them all)", total - np, f->list_all);
    free(pick);
    return rc;
}

/* The role whose credentials the compute holds (the last holds-token-of hop), for the text. */
static const char *s_role_of(const struct tm_graph *g, uint32_t compute) {
    uint32_t v = compute;
    for (int hops = 0; hops < 4; hops++) {
        size_t n = 0;
        const struct tm_graph_edge *out = tm_graph_out(g, v, &n, NULL);
        uint32_t next = TM_GRAPH_NONE;
        for (size_t i = 0; i < n && next == TM_GRAPH_NONE; i++)
            if (out[i].kind == TM_GRAPH_EDGE_HOLDS_TOKEN_OF)
                next = out[i].to;
        if (next == TM_GRAPH_NONE)
            break;
        v = next;
    }
    return v == compute ? NULL : tm__threat_name(tm_graph_node(g, v));
}

static bool s_imdsv1(const struct tm_graph_node *n) {
    const cJSON *attrs = n->resource ? cJSON_GetObjectItemCaseSensitive(n->resource, "attrs") : NULL;
    const cJSON *mo = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "metadata_options") : NULL;
    if (!cJSON_IsObject(mo))
        return true; /* unknown: assume the default of older instances */
    return strcmp(tm_json_str(mo, "http_tokens", "optional"), "required") != 0 &&
           strcmp(tm_json_str(mo, "http_endpoint", "enabled"), "disabled") != 0;
}

static int s_compute_finding(struct tm_analysis *a, struct tm_findings *out, const struct s_entry_walk *w,
                             struct tm__threat_search *s, uint32_t node) {
    const struct tm_graph *g = a->graph;
    const struct tm_graph_node *n = tm_graph_node(g, node);
    bool instance = strcmp(n->type, "aws:ec2:instance") == 0;
    int rc = tm__threat_search_run(s, node);
    if (rc || !s->n_jewels)
        return rc;
    const struct tm_graph_node *en = tm_graph_node(g, w->source[node]);
    struct tm_finding *f = NULL;
    if ((rc = tm_findings_add(out, &f)) ||
        (rc = tm_finding_set(f, instance ? "aws-token-instance-credentials" : "aws-token-function-credentials", NULL,
                             TM_SEV_INFO, n->id, en->id)))
        return rc;
    bool unknown = false, write = false;
    struct tm_buf names, expl;
    tm_buf_init(&names, 64 * 1024);
    tm_buf_init(&expl, 64 * 1024);
    char whobuf[128];
    const char *who = en->kind == TM_GRAPH_NODE_INTERNET          ? "Anyone on the internet"
                      : en->kind == TM_GRAPH_NODE_ANY_AWS_ACCOUNT ? "Anyone with an AWS account"
                                                                  : whobuf;
    snprintf(whobuf, sizeof(whobuf), "AWS account %s", en->account ? en->account : "?");
    if (!(rc = s_entry_path(g, w, f, node, &unknown)))
        rc = s_jewel_steps(a, s, f, &names, &unknown, &write);
    bool v1 = instance && s_imdsv1(n);
    const char *role = s_role_of(g, node);
    if (!rc)
        rc = tm_buf_appendf_text(&expl, "%s can reach the %s %s. It runs with the credentials of the role %s", who,
                                 instance ? "EC2 instance" : "Lambda function", tm__threat_name(n), role ? role : "?");
    if (!rc && instance)
        rc = tm_buf_append_text(&expl, v1 ? ", and allows IMDSv1: one request the server can be tricked into making "
                                            "(http://169.254.169.254/latest/meta-data/iam/security-credentials/) "
                                            "returns them, no code execution needed"
                                          : "; IMDSv2 is required, so taking them needs code execution on the server");
    if (!rc)
        rc = tm_buf_appendf_text(&expl, ". With them one can %s: %s.", write ? "read and change" : "read",
                                 tm_buf_str(&names));
    if (!rc) {
        int likelihood = tm__threat_entry_likelihood(en) - ((instance && v1) ? 0 : 1);
        enum tm_severity sev = tm__threat_severity(likelihood, s->admin ? TM__IMPACT_ADMIN : TM__IMPACT_DATA, unknown);
        char title[1024], fix[2048];
        char count[64];
        snprintf(count, sizeof(count), "%zu crown jewels", f->reaches);
        snprintf(title, sizeof(title), "%s can reach %s %s, whose credentials reach %s", who,
                 instance ? "the EC2 instance" : "the Lambda function", tm__threat_name(n),
                 s->admin      ? "administrator"
                 : f->list_all ? count
                               : tm_buf_str(&names));
        const char *iid = strrchr(n->id, '/');
        if (instance && v1)
            snprintf(fix, sizeof(fix),
                     "Require IMDSv2 on the instance (aws ec2 modify-instance-metadata-options --instance-id %s "
                     "--http-tokens required --http-put-response-hop-limit 1). Narrow the policies of role %s to what "
                     "the application needs, and close the entry point (see its public-exposure finding).",
                     iid ? iid + 1 : n->id, role ? role : "?");
        else if (instance)
            snprintf(fix, sizeof(fix),
                     "Narrow the policies of role %s to what the application needs, and close the entry point (see "
                     "its public-exposure finding).",
                     role ? role : "?");
        else
            snprintf(fix, sizeof(fix),
                     "Put authorisation in front of the function (see the entry point's finding), and narrow the "
                     "policies of its execution role %s to the resources the function needs.",
                     role ? role : "?");
        rc = tm__threat_finish(a, f, sev, title, tm_buf_str(&expl), fix);
    }
    tm_buf_clean_up(&names);
    tm_buf_clean_up(&expl);
    return rc;
}

/* Users with active access keys: the key works from anywhere, for as long as it is active. */
static int s_key_finding(struct tm_analysis *a, struct tm_findings *out, struct tm__threat_search *s, uint32_t user,
                         const struct tm_graph_edge *key) {
    const struct tm_graph *g = a->graph;
    const struct tm_graph_node *n = tm_graph_node(g, user);
    int rc = tm__threat_search_run(s, user);
    if (rc || !s->n_jewels)
        return rc;
    struct tm_finding *f = NULL;
    if ((rc = tm_findings_add(out, &f)) ||
        (rc = tm_finding_set(f, "aws-token-access-key", NULL, TM_SEV_INFO, n->id, NULL)))
        return rc;
    const char *key_id = key->n_actions ? key->actions[0] : "access key";
    bool unknown = false, write = false;
    struct tm_buf names;
    tm_buf_init(&names, 64 * 1024);
    rc = tm__threat_step(f, g, key, key_id, NULL);
    if (!rc)
        rc = s_jewel_steps(a, s, f, &names, &unknown, &write);
    if (!rc) {
        char title[1024], fix[1024];
        struct tm_buf expl;
        tm_buf_init(&expl, 64 * 1024);
        char count[64];
        snprintf(count, sizeof(count), "%zu crown jewels", f->reaches);
        snprintf(title, sizeof(title), "The long-lived access key %s of user %s leads to %s", key_id,
                 tm__threat_name(n),
                 s->admin      ? "administrator"
                 : f->list_all ? count
                               : tm_buf_str(&names));
        rc = tm_buf_appendf_text(
            &expl,
            "User %s has an %s. An access key works from anywhere until someone deactivates it; keys "
            "end up in laptops, CI logs and repositories. Whoever holds it can %s: %s.",
            n->id, key->evidence.text ? key->evidence.text : "active access key", write ? "read and change" : "read",
            tm_buf_str(&names));
        snprintf(fix, sizeof(fix),
                 "Replace the key with short-lived credentials (an IAM role assumed through IAM Identity Center, or "
                 "OIDC federation for CI), then deactivate and delete it (aws iam update-access-key --user-name %s "
                 "--access-key-id %s --status Inactive); meanwhile narrow what %s may do.",
                 tm__threat_name(n), key_id, tm__threat_name(n));
        enum tm_severity sev =
            tm__threat_severity(TM__LIKELY_EXTERNAL, s->admin ? TM__IMPACT_ADMIN : TM__IMPACT_DATA, unknown);
        if (!rc)
            rc = tm__threat_finish(a, f, sev, title, tm_buf_str(&expl), fix);
        tm_buf_clean_up(&expl);
    }
    tm_buf_clean_up(&names);
    return rc;
}

static bool s_compute(const struct tm_graph_node *n) {
    return n->type && (strcmp(n->type, "aws:lambda:function") == 0 || strcmp(n->type, "aws:lambda:alias") == 0 ||
                       strcmp(n->type, "aws:ec2:instance") == 0);
}

int tm_analyze_tokens(struct tm_analysis *analysis, struct tm_findings *out) {
    const struct tm_graph *g = analysis->graph;
    if (!g)
        return TM_OK;
    struct s_entry_walk w = {0};
    struct tm__threat_search s;
    int rc = tm__threat_search_init(&s, g, true);
    if (rc)
        return rc;
    if ((rc = s_walk(g, &w)))
        goto out;
    for (uint32_t v = 0; v < tm_graph_node_count(g) && !rc; v++)
        if (w.seen[v] && w.via_edge[v] != TM_GRAPH_NONE && s_compute(tm_graph_node(g, v)) &&
            (tm_graph_node(g, v)->flags & TM_GRAPH_NODE_IN_SNAPSHOT))
            rc = s_compute_finding(analysis, out, &w, &s, v);
    /* Access keys: the internet holds the token of the user (one finding per user, its first active key). */
    uint32_t internet = tm_graph_find(g, TM_GRAPH_ID_INTERNET);
    size_t n = 0;
    const struct tm_graph_edge *edges = tm_graph_out(g, internet, &n, NULL);
    uint32_t last = TM_GRAPH_NONE;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct tm_graph_edge *e = &edges[i];
        if (e->kind != TM_GRAPH_EDGE_HOLDS_TOKEN_OF || (e->flags & TM_GRAPH_EDGE_UNKNOWN) || e->to == last ||
            strcmp(e->evidence.source ? e->evidence.source : "", "access-key") != 0)
            continue;
        last = e->to;
        rc = s_key_finding(analysis, out, &s, e->to, e);
    }
out:
    if (rc && !analysis->errmsg[0])
        snprintf(analysis->errmsg, sizeof(analysis->errmsg), "token-abuse analyzer: %s", tm_error_str(rc));
    s_walk_free(&w);
    tm__threat_search_clean_up(&s);
    return rc;
}
