/* Data-flow diagrams (Graphviz DOT and Mermaid) of the paths behind the findings, with the trust
 * boundaries they cross: the internet and other AWS accounts outside, the scanned account inside. */
#include "analyzers/report/report.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

#define TRY(expr)                                                                                                      \
    do {                                                                                                               \
        int rc_ = (expr);                                                                                              \
        if (rc_) {                                                                                                     \
            rc = rc_;                                                                                                  \
            goto out;                                                                                                  \
        }                                                                                                              \
    } while (0)

struct s_edge {
    const char *from, *to, *kind;
    bool recognised; /* every finding using it is recognised or suppressed */
    bool unknown;
};

struct s_model {
    char **more; /* "+N more: COMMAND", one node per finding listing part of what it reaches (owned) */
    size_t n_more;
    const char **nodes; /* sorted, unique */
    size_t n_nodes;
    struct s_edge *edges; /* sorted, unique by (from, to, kind) */
    size_t n_edges;
};

static int s_cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int s_cmp_edge(const void *pa, const void *pb) {
    const struct s_edge *a = pa, *b = pb;
    int c = strcmp(a->from, b->from);
    if (!c)
        c = strcmp(a->to, b->to);
    if (!c)
        c = strcmp(a->kind, b->kind);
    return c;
}

static void s_model_clean_up(struct s_model *m) {
    for (size_t i = 0; i < m->n_more; i++)
        free(m->more[i]);
    free(m->more);
    free(m->nodes);
    free(m->edges);
}

static int s_model_build(struct s_model *m, const struct tm_findings *fs) {
    memset(m, 0, sizeof(*m));
    size_t steps = 0, more = 0;
    for (size_t i = 0; fs && i < fs->count; i++) {
        steps += fs->items[i]->path_len;
        more += fs->items[i]->list_all != NULL;
    }
    steps += more;
    m->nodes = calloc(2 * steps + 1, sizeof(*m->nodes));
    m->edges = calloc(steps + 1, sizeof(*m->edges));
    m->more = calloc(more + 1, sizeof(*m->more));
    if (!m->nodes || !m->edges || !m->more)
        return TM_ERR_NOMEM;
    for (size_t i = 0; fs && i < fs->count; i++) {
        const struct tm_finding *f = fs->items[i];
        for (size_t k = 0; k < f->path_len; k++) {
            const struct tm_path_step *s = &f->path[k];
            m->nodes[m->n_nodes++] = s->from;
            m->nodes[m->n_nodes++] = s->to;
            m->edges[m->n_edges++] = (struct s_edge){s->from, s->to, s->kind, f->status != TM_STATUS_NEW, s->unknown};
        }
        if (f->list_all && f->resource) {
            /* What the path leaves out, as one node: how many, and the command that lists them. */
            size_t len = strlen(f->list_all) + 64;
            char *node = malloc(len);
            if (!node)
                return TM_ERR_NOMEM;
            snprintf(node, len, "+%zu more: %s", f->reaches - f->reaches_listed, f->list_all);
            m->more[m->n_more++] = node;
            m->nodes[m->n_nodes++] = f->resource;
            m->nodes[m->n_nodes++] = node;
            m->edges[m->n_edges++] = (struct s_edge){f->resource, node, "reaches", f->status != TM_STATUS_NEW, false};
        }
    }
    qsort(m->nodes, m->n_nodes, sizeof(*m->nodes), s_cmp_str);
    size_t w = 0;
    for (size_t r = 0; r < m->n_nodes; r++)
        if (!w || strcmp(m->nodes[w - 1], m->nodes[r]) != 0)
            m->nodes[w++] = m->nodes[r];
    m->n_nodes = w;
    qsort(m->edges, m->n_edges, sizeof(*m->edges), s_cmp_edge);
    w = 0;
    for (size_t r = 0; r < m->n_edges; r++) {
        if (w && s_cmp_edge(&m->edges[w - 1], &m->edges[r]) == 0) {
            m->edges[w - 1].recognised = m->edges[w - 1].recognised && m->edges[r].recognised;
            m->edges[w - 1].unknown = m->edges[w - 1].unknown || m->edges[r].unknown;
        } else {
            m->edges[w++] = m->edges[r];
        }
    }
    m->n_edges = w;
    return TM_OK;
}

static size_t s_index(const struct s_model *m, const char *node) {
    const char **p = bsearch(&node, m->nodes, m->n_nodes, sizeof(*m->nodes), s_cmp_str);
    return p ? (size_t)(p - m->nodes) : 0;
}

/* The boundary a node belongs to: "internet", "any-aws-account", "account:N" for another account,
 * or "" for the scanned account(s). */
static void s_boundary(const char *node, const cJSON *accounts, char *out, size_t out_len) {
    if (strcmp(node, "internet") == 0 || strcmp(node, "any-aws-account") == 0 || strncmp(node, "account:", 8) == 0 ||
        strncmp(node, "service:", 8) == 0 || strncmp(node, "oidc:", 5) == 0) {
        snprintf(out, out_len, "%s", node);
        return;
    }
    /* arn:partition:service:region:account:resource */
    const char *p = node;
    for (int colons = 0; colons < 4 && p; colons++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    out[0] = '\0';
    if (!p || strncmp(node, "arn:", 4) != 0)
        return;
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : 0;
    if (n == 0)
        return;
    for (const cJSON *a = accounts ? accounts->child : NULL; a; a = a->next)
        if (cJSON_IsString(a) && strlen(a->valuestring) == n && strncmp(a->valuestring, p, n) == 0)
            return;
    snprintf(out, out_len, "account:%.*s", (int)n, p);
}

static const char *s_short(const char *node) {
    const char *slash = strrchr(node, '/');
    if (slash && slash[1])
        return slash + 1;
    const char *colon = strrchr(node, ':');
    if (colon && colon[1] && strncmp(node, "arn:", 4) == 0)
        return colon + 1;
    return node;
}

/* The resource type word from an ARN ("s3", "lambda", ...) for labels. */
static void s_service(const char *node, char *out, size_t out_len) {
    out[0] = '\0';
    if (strncmp(node, "arn:", 4) != 0)
        return;
    const char *p = strchr(node + 4, ':');
    if (!p)
        return;
    p++;
    const char *e = strchr(p, ':');
    if (e)
        snprintf(out, out_len, "%.*s", (int)(e - p), p);
}

static int s_escape(struct tm_buf *out, const char *s, bool mermaid) {
    for (; *s; s++) {
        int rc;
        if (*s == '"')
            rc = tm_buf_append_str(out, mermaid ? "#quot;" : "\\\"");
        else if (*s == '\\' && !mermaid)
            rc = tm_buf_append_str(out, "\\\\");
        else if (mermaid && (*s == '<' || *s == '>'))
            rc = tm_buf_append_str(out, *s == '<' ? "#lt;" : "#gt;");
        else
            rc = tm_buf_append_char(out, *s);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static int s_label(struct tm_buf *out, const char *node, bool mermaid) {
    if (node[0] == '+')
        return s_escape(out, node, mermaid);
    char svc[64];
    s_service(node, svc, sizeof(svc));
    int rc = s_escape(out, s_short(node), mermaid);
    if (!rc && svc[0]) {
        rc = tm_buf_append_str(out, mermaid ? "<br/>" : "\\n");
        if (!rc)
            rc = s_escape(out, svc, mermaid);
    }
    return rc;
}

/* Writes the nodes grouped by boundary; `open`/`close` format the group. */
static int s_groups(struct tm_buf *out, const struct s_model *m, const cJSON *accounts, bool mermaid) {
    int rc = TM_OK;
    char(*b)[64] = calloc(m->n_nodes + 1, sizeof(*b));
    bool *done = calloc(m->n_nodes + 1, sizeof(*done));
    if (!b || !done) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < m->n_nodes; i++)
        s_boundary(m->nodes[i], accounts, b[i], sizeof(b[i]));
    /* The scanned account first, then the outside boundaries in sorted order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->n_nodes; i++) {
            if (done[i] || (pass == 0) != (b[i][0] == '\0'))
                continue;
            const char *group = b[i];
            bool pseudo = group[0] && strncmp(group, "account:", 8) != 0;
            size_t gi = i;
            if (pseudo) {
                /* A pseudo-principal stands alone, outside every account. */
                done[i] = true;
                if (mermaid)
                    TRY(tm_buf_appendf(out, "  n%zu((\"", i));
                else
                    TRY(tm_buf_appendf(out,
                                       "  n%zu [shape=doubleoctagon, style=filled, fillcolor=\"#ffd6d6\", "
                                       "label=\"",
                                       i));
                TRY(s_escape(out, m->nodes[i], mermaid));
                TRY(tm_buf_append_str(out, mermaid ? "\"))\n" : "\"];\n"));
                continue;
            }
            if (mermaid)
                TRY(tm_buf_appendf(out, "  subgraph b%zu[\"%s%s\"]\n", gi, group[0] ? "external " : "this account ",
                                   group[0] ? group : ""));
            else
                TRY(tm_buf_appendf(out, "  subgraph cluster_%zu {\n    label=\"%s%s\";\n    style=%s;\n", gi,
                                   group[0] ? "external " : "this account", group[0] ? group : "",
                                   group[0] ? "dashed" : "solid"));
            for (size_t k = i; k < m->n_nodes; k++) {
                if (done[k] || strcmp(b[k], group) != 0)
                    continue;
                done[k] = true;
                TRY(tm_buf_appendf(out, mermaid ? "    n%zu[\"" : "    n%zu [shape=box, label=\"", k));
                TRY(s_label(out, m->nodes[k], mermaid));
                TRY(tm_buf_append_str(out, mermaid ? "\"]\n" : "\"];\n"));
            }
            TRY(tm_buf_append_str(out, mermaid ? "  end\n" : "  }\n"));
        }
    }
out:
    free(b);
    free(done);
    return rc;
}

static int s_write(struct tm_buf *out, const struct tm_report_input *in, bool mermaid) {
    struct s_model m;
    int rc = s_model_build(&m, in->findings);
    if (rc)
        goto out;
    const cJSON *accounts = in->snap ? cJSON_GetObjectItemCaseSensitive(tm_snapshot_scope(in->snap), "accounts") : NULL;
    if (mermaid)
        TRY(tm_buf_append_str(out, "flowchart LR\n"));
    else
        TRY(tm_buf_append_str(out, "digraph tmscan {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
                                   "  edge [fontname=\"Helvetica\", fontsize=9];\n"));
    TRY(s_groups(out, &m, accounts, mermaid));
    for (size_t i = 0; i < m.n_edges; i++) {
        const struct s_edge *e = &m.edges[i];
        size_t a = s_index(&m, e->from), b = s_index(&m, e->to);
        if (mermaid)
            TRY(tm_buf_appendf(out, "  n%zu %s|%s%s| n%zu\n", a, e->unknown || e->recognised ? "-.->" : "-->", e->kind,
                               e->unknown ? " (unknown)" : "", b));
        else
            TRY(tm_buf_appendf(out, "  n%zu -> n%zu [label=\"%s%s\"%s%s];\n", a, b, e->kind,
                               e->unknown ? " (unknown)" : "", e->unknown ? ", style=dotted" : "",
                               e->recognised ? ", color=\"#2e7d32\"" : ", color=\"#c62828\""));
    }
    if (!mermaid)
        TRY(tm_buf_append_str(out, "}\n"));
out:
    s_model_clean_up(&m);
    return rc;
}

int tm_report_write_dot(struct tm_buf *out, const struct tm_report_input *in) {
    return s_write(out, in, false);
}

int tm_report_write_mermaid(struct tm_buf *out, const struct tm_report_input *in) {
    return s_write(out, in, true);
}
