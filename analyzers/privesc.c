/* Privilege escalation: principals that can make themselves administrator. The graph holds a can-escalate-to
 * edge for every technique of policies/privesc.json a principal can use (decided by the policy engine with its
 * identity policies, boundary and SCPs: graph_privesc.c); this analyzer follows those edges, role assumptions and
 * the credentials of compute it takes over, from each user and role that is not an administrator already, and
 * reports the shortest path to the account's admin node. A path made only of role assumptions is access someone
 * granted on purpose (a user allowed to assume an admin role), not an escalation: at least one step must be a
 * technique. One finding per principal. */
#include "analyzers/analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph.h"
#include "analyzers/privesc_catalog.h"
#include "analyzers/threat_int.h"
#include "core/buf.h"

/* The first technique edge on the chain to node (NULL when the chain is only assumptions). */
static const struct tm_graph_edge *s_technique(const struct tm__threat_search *s, uint32_t node, bool *unknown) {
    const struct tm_graph_edge *found = NULL;
    for (uint32_t v = node; s->via_edge[v] != TM_GRAPH_NONE; v = s->via_node[v]) {
        const struct tm_graph_edge *e = tm_graph_edge(s->g, s->via_edge[v]);
        *unknown = *unknown || (e->flags & TM_GRAPH_EDGE_UNKNOWN);
        if (e->kind == TM_GRAPH_EDGE_CAN_ESCALATE_TO && e->evidence.source &&
            strcmp(e->evidence.source, "technique") == 0 && e->evidence.policy &&
            strcmp(e->evidence.policy, "sts-assume-role") != 0)
            found = e; /* walking backwards: the last one kept is the first on the path */
    }
    return found;
}

static int s_finding(struct tm_analysis *a, struct tm_findings *out, const struct tm__threat_search *s,
                     uint32_t principal, uint32_t admin) {
    const struct tm_graph *g = a->graph;
    bool unknown = false;
    const struct tm_graph_edge *te = s_technique(s, admin, &unknown);
    if (!te)
        return TM_OK;
    const struct tm_privesc_technique *t = a->privesc ? tm_privesc_catalog_find(a->privesc, te->evidence.policy) : NULL;
    const struct tm_graph_node *n = tm_graph_node(g, principal);
    struct tm_finding *f = NULL;
    int rc;
    if ((rc = tm_findings_add(out, &f)) ||
        (rc = tm_finding_set(f, "aws-iam-privilege-escalation", NULL, TM_SEV_INFO, n->id, NULL)) ||
        (rc = tm__threat_search_path(s, f, admin)))
        return rc;
    bool user = n->type && strcmp(n->type, "aws:iam:user") == 0;
    char title[1024];
    snprintf(title, sizeof(title), "The %s %s can make itself administrator: %s", user ? "user" : "role",
             tm__threat_name(n), t ? t->name : te->evidence.text);
    struct tm_buf expl, fix;
    tm_buf_init(&expl, 64 * 1024);
    tm_buf_init(&fix, 64 * 1024);
    rc = tm_buf_appendf_text(&expl, "%s can reach full control of account %s in %zu step%s:", n->id,
                             n->account ? n->account : "?", f->path_len, f->path_len == 1 ? "" : "s");
    for (size_t i = 0; i < f->path_len && !rc; i++)
        rc = tm_buf_appendf_text(&expl, " %s%s (%s).", i ? "then " : "", f->path[i].evidence ? f->path[i].evidence : "",
                                 f->path[i].to);
    if (!rc && t)
        rc = tm_buf_appendf_text(&expl, " %s", t->description);
    for (size_t i = 0; !rc && t && i < t->preconditions_count; i++)
        rc = tm_buf_appendf_text(&expl, "%s%s", i ? "; " : " It also needs: ", t->preconditions[i]);
    if (!rc && unknown)
        rc = tm_buf_append_text(&expl, " Part of the path rests on a fact tmscan could not read.");
    if (!rc)
        rc = tm_buf_appendf_text(&fix, "%s", t ? t->fix : "Remove the permission the first step needs.");
    if (!rc && te->from != principal)
        rc = tm_buf_appendf_text(&fix,
                                 " The technique is used by %s, which %s reaches first: alternatively, stop %s "
                                 "from reaching it.",
                                 tm_graph_node(g, te->from)->id, tm__threat_name(n), tm__threat_name(n));
    for (size_t i = 0; !rc && t && i < t->attack_count; i++)
        rc = tm_finding_add_attack(f, t->attack[i]);
    if (!rc)
        rc = tm__threat_finish(a, f, tm__threat_severity(TM__LIKELY_EXTERNAL, TM__IMPACT_ADMIN, unknown), title,
                               tm_buf_str(&expl), tm_buf_str(&fix));
    tm_buf_clean_up(&expl);
    tm_buf_clean_up(&fix);
    return rc;
}

int tm_analyze_privesc(struct tm_analysis *analysis, struct tm_findings *out) {
    const struct tm_graph *g = analysis->graph;
    if (!g)
        return TM_OK;
    struct tm__threat_search s;
    int rc = tm__threat_search_init(&s, g, false);
    if (rc)
        return rc;
    static const char *const types[] = {"aws:iam:role", "aws:iam:user"};
    for (size_t t = 0; t < 2 && !rc; t++) {
        size_t n = 0;
        const uint32_t *nodes = tm_graph_nodes_of_type(g, types[t], &n);
        for (size_t i = 0; i < n && !rc; i++) {
            const struct tm_graph_node *pn = tm_graph_node(g, nodes[i]);
            if (!(pn->flags & TM_GRAPH_NODE_IN_SNAPSHOT) || (pn->flags & TM_GRAPH_NODE_IS_ADMIN) ||
                (pn->flags & TM_GRAPH_NODE_EXTERNAL))
                continue;
            if ((rc = tm__threat_search_run(&s, nodes[i])) || !s.admin)
                continue;
            for (size_t j = 0; j < s.n_jewels && !rc; j++)
                if (tm_graph_node(g, s.jewels[j].node)->kind == TM_GRAPH_NODE_ADMIN) {
                    rc = s_finding(analysis, out, &s, nodes[i], s.jewels[j].node);
                    break;
                }
        }
    }
    if (rc && !analysis->errmsg[0])
        snprintf(analysis->errmsg, sizeof(analysis->errmsg), "privilege-escalation analyzer: %s", tm_error_str(rc));
    tm__threat_search_clean_up(&s);
    return rc;
}
