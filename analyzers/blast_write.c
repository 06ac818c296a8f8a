/* Blast radius renderings: text for people, JSON for machines, DOT for a picture. Each is a function of the last
 * walk only, so the same snapshot and question give the same bytes. */
#include "analyzers/blast.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/blast_int.h"
#include "core/json.h"

const char *tm_blast_format_name(enum tm_blast_format f) {
    switch (f) {
        case TM_BLAST_TEXT:
            return "text";
        case TM_BLAST_JSON:
            return "json";
        case TM_BLAST_DOT:
            return "dot";
        default:
            return "unknown";
    }
}

int tm_blast_format_parse(const char *name, enum tm_blast_format *out) {
    static const enum tm_blast_format all[] = {TM_BLAST_TEXT, TM_BLAST_JSON, TM_BLAST_DOT};
    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, tm_blast_format_name(all[i])) == 0) {
            *out = all[i];
            return TM_OK;
        }
    return TM_ERR_INVALID;
}

/* ---- labels ---- */

struct s_word {
    const char *type;
    const char *word;
};

static const struct s_word s_words[] = {
    {"aws:account", "account"},
    {"aws:apigateway:method", "API method"},
    {"aws:apigateway:restapi", "REST API"},
    {"aws:apigatewayv2:api", "HTTP API"},
    {"aws:apigatewayv2:route", "API route"},
    {"aws:dynamodb:table", "table"},
    {"aws:ec2:image", "image"},
    {"aws:ec2:instance", "instance"},
    {"aws:ec2:security-group", "security group"},
    {"aws:ec2:snapshot", "volume snapshot"},
    {"aws:ecr:repository", "repository"},
    {"aws:iam:group", "group"},
    {"aws:iam:instance-profile", "instance profile"},
    {"aws:iam:oidc-provider", "identity provider"},
    {"aws:iam:policy", "managed policy"},
    {"aws:iam:role", "role"},
    {"aws:iam:saml-provider", "identity provider"},
    {"aws:iam:user", "user"},
    {"aws:kms:key", "key"},
    {"aws:lambda:alias", "function alias"},
    {"aws:lambda:event-source-mapping", "event source mapping"},
    {"aws:lambda:function", "function"},
    {"aws:rds:cluster", "database cluster"},
    {"aws:rds:cluster-snapshot", "database cluster snapshot"},
    {"aws:rds:db", "database"},
    {"aws:rds:snapshot", "database snapshot"},
    {"aws:s3:access-point", "access point"},
    {"aws:s3:bucket", "bucket"},
    {"aws:secretsmanager:secret", "secret"},
    {"aws:sns:topic", "topic"},
    {"aws:sqs:queue", "queue"},
};

const char *tm_blast_label(char *out, size_t len, const struct tm_graph *g, uint32_t node) {
    const struct tm_graph_node *n = tm_graph_node(g, node);
    if (!len)
        return out;
    if (!n) {
        snprintf(out, len, "?");
        return out;
    }
    switch (n->kind) {
        case TM_GRAPH_NODE_INTERNET:
            snprintf(out, len, "the internet");
            return out;
        case TM_GRAPH_NODE_ANY_AWS_ACCOUNT:
            snprintf(out, len, "any AWS account");
            return out;
        case TM_GRAPH_NODE_ACCOUNT:
            snprintf(out, len, "account %s", strncmp(n->id, "account:", 8) == 0 ? n->id + 8 : n->id);
            return out;
        case TM_GRAPH_NODE_ORGANIZATION:
            snprintf(out, len, "organization %s", strncmp(n->id, "org:", 4) == 0 ? n->id + 4 : n->id);
            return out;
        case TM_GRAPH_NODE_SERVICE:
            snprintf(out, len, "service %s", strncmp(n->id, "service:", 8) == 0 ? n->id + 8 : n->id);
            return out;
        case TM_GRAPH_NODE_ADMIN:
            snprintf(out, len, "administrator of account %s", n->account ? n->account : n->id);
            return out;
        case TM_GRAPH_NODE_SET:
            snprintf(out, len, "everything matching %s", n->set_pattern ? n->set_pattern : n->id);
            return out;
        case TM_GRAPH_NODE_FEDERATED:
        case TM_GRAPH_NODE_PRINCIPAL:
        case TM_GRAPH_NODE_RESOURCE:
        default:
            break;
    }
    const char *word = NULL;
    for (size_t i = 0; n->type && i < sizeof(s_words) / sizeof(s_words[0]) && !word; i++)
        if (strcmp(n->type, s_words[i].type) == 0)
            word = s_words[i].word;
    char fallback[64] = "";
    if (!word && n->type) {
        const char *last = strrchr(n->type, ':');
        snprintf(fallback, sizeof(fallback), "%s", last ? last + 1 : n->type);
        for (char *p = fallback; *p; p++)
            if (*p == '-')
                *p = ' ';
        word = fallback;
    }
    /* Resources only named by a policy have no short name: the end of their ARN names one of this account, the
     * whole ARN one of another account. */
    const char *name = (n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) && n->name ? n->name : n->id;
    if (!(n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) && n->account && tm_graph_is_home_account(g, n->account)) {
        const char *slash = strrchr(n->id, '/');
        if (slash && slash[1])
            name = slash + 1;
    }
    if (word && *word)
        snprintf(out, len, "%s %s", word, name);
    else
        snprintf(out, len, "%s", name);
    return out;
}

/* ---- shared ---- */

/* A buffer whose first error sticks, so a rendering reads as a list of lines. */
struct s_out {
    struct tm_buf *b;
    int rc;
};

static void s_printf(struct s_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_printf(struct s_out *o, const char *fmt, ...) {
    if (o->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    o->rc = tm_buf_vappendf(o->b, fmt, ap);
    va_end(ap);
}

static const char *const s_group_order_names[] = {"admin", "data", "compute", "identity", "other"};
static const enum tm_graph_group s_group_order[] = {TM_GRAPH_GROUP_ADMIN, TM_GRAPH_GROUP_DATA, TM_GRAPH_GROUP_COMPUTE,
                                                    TM_GRAPH_GROUP_IDENTITY, TM_GRAPH_GROUP_OTHER};
#define S_N_GROUPS (sizeof(s_group_order) / sizeof(s_group_order[0]))

/* The accesses held on a hit's node with the certainty of its path, as a bit mask of enum tm_blast_access. */
static unsigned s_access_mask(const struct tm_blast *b, const struct tm_blast_hit *h) {
    unsigned m = 0;
    for (unsigned a = TM_BLAST_PASS; a <= TM_BLAST_CONTROL; a++)
        if (b->mask[h->node] & (1u << (a * 2u + (h->unknown ? 0u : 1u))))
            m |= 1u << a;
    return m;
}

/* What holding a node with an access means, in a verb. */
static const char *s_verb(enum tm_graph_group group, enum tm_blast_access a, bool principal) {
    switch (a) {
        case TM_BLAST_PASS:
            return "passes";
        case TM_BLAST_READ:
            return "reads";
        case TM_BLAST_WRITE:
            return "writes";
        case TM_BLAST_CONTROL:
            switch (group) {
                case TM_GRAPH_GROUP_ADMIN:
                    return "becomes";
                case TM_GRAPH_GROUP_IDENTITY:
                    return principal ? "acts as" : "controls";
                case TM_GRAPH_GROUP_COMPUTE:
                    return "runs";
                case TM_GRAPH_GROUP_DATA:
                    return "controls";
                case TM_GRAPH_GROUP_OTHER:
                default:
                    return "reaches";
            }
        default:
            return "reaches";
    }
}

static size_t s_path(const struct tm_blast *b, const struct tm_blast_hit *h, struct tm_blast_step **steps) {
    size_t len = tm_blast_path(b, h, NULL, 0);
    *steps = malloc((len ? len : 1) * sizeof(**steps));
    if (!*steps)
        return SIZE_MAX;
    tm_blast_path(b, h, *steps, len);
    return len;
}

/* Is the hit at this position of its group listed (--offset, --limit)? */
static bool s_listed(const struct tm_blast_write_options *opts, size_t pos) {
    return pos >= opts->offset && (!opts->limit || pos - opts->offset < opts->limit);
}

/* ---- text ---- */

static void s_text_actions(struct s_out *o, const struct tm_graph_edge *e) {
    if (!e->n_actions)
        return;
    s_printf(o, " [");
    size_t shown = e->n_actions > 6 ? 5 : e->n_actions;
    for (size_t i = 0; i < shown; i++)
        s_printf(o, "%s%s", i ? ", " : "", e->actions[i]);
    if (shown < e->n_actions)
        s_printf(o, ", and %zu more", e->n_actions - shown);
    s_printf(o, "]");
}

static void s_text_step(struct s_out *o, const struct tm_graph *g, size_t i, const struct tm_blast_step *st) {
    const struct tm_graph_edge *e = tm_graph_edge(g, st->edge);
    char from[1024], to[1024];
    tm_blast_label(from, sizeof(from), g, st->from);
    tm_blast_label(to, sizeof(to), g, st->to);
    s_printf(o, "      %zu. %s --%s", i + 1, from, tm_graph_edge_kind_name(e->kind));
    s_text_actions(o, e);
    s_printf(o, "--> %s\n", to);
    const char *why = e->evidence.text ? e->evidence.text : e->evidence.source;
    if (e->evidence.source && strcmp(e->evidence.source, "technique") == 0 && e->evidence.policy)
        s_printf(o, "         privilege escalation %s: %s\n", e->evidence.policy, why ? why : "");
    else if (why)
        s_printf(o, "         %s\n", why);
    if (e->flags & TM_GRAPH_EDGE_TO_SET)
        s_printf(o, "         (a grant on %s, which covers it)\n", tm_graph_node(g, e->to)->set_pattern);
    if (e->flags & TM_GRAPH_EDGE_CONDITIONAL)
        s_printf(o, "         CONDITIONAL: only if %s\n", e->conditions ? e->conditions : "its conditions hold");
    if (e->flags & TM_GRAPH_EDGE_UNKNOWN)
        s_printf(o, "         UNKNOWN: a fact behind this step could not be read; it may or may not hold\n");
}

static void s_text_hit(struct s_out *o, const struct tm_blast *b, const struct tm_blast_hit *h) {
    const struct tm_graph *g = b->g;
    const struct tm_graph_node *n = tm_graph_node(g, h->node);
    char label[1024];
    tm_blast_label(label, sizeof(label), g, h->node);
    s_printf(o, "  %s%s%s — ", h->unknown ? "UNKNOWN " : "", h->conditional ? "CONDITIONAL " : "", label);
    unsigned m = s_access_mask(b, h);
    bool first = true;
    for (int a = TM_BLAST_CONTROL; a >= TM_BLAST_PASS; a--)
        if (m & (1u << a)) {
            s_printf(o, "%s%s", first ? "" : ", ",
                     s_verb(h->group, (enum tm_blast_access)a, n->kind == TM_GRAPH_NODE_PRINCIPAL));
            first = false;
        }
    s_printf(o, " — %u step%s\n", h->distance, h->distance == 1 ? "" : "s");
    if (strcmp(label, n->id) != 0 && n->kind != TM_GRAPH_NODE_ADMIN)
        s_printf(o, "      %s\n", n->id);
    struct tm_blast_step *steps = NULL;
    size_t len = s_path(b, h, &steps);
    if (len == SIZE_MAX) {
        o->rc = TM_ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < len; i++)
        s_text_step(o, g, i, &steps[i]);
    free(steps);
}

/* "Everything in account X" and what the walk does not reach there. */
static void s_text_everything(struct s_out *o, const struct tm_blast *b, const struct tm__blast_everything *e) {
    if (!e->walked) {
        /* Reached by a technique: full control once it is used, which the walk does not play out. */
        s_printf(o,
                 "  - %severything in account %s once the escalation is used; the paths below stop at its "
                 "administrator (%zu of its %zu principals and resources are reached on the way)\n",
                 e->hit->unknown ? "perhaps " : "", e->account, e->reached, e->resources);
        return;
    }
    s_printf(o, "  - %severything in account %s: %zu of its %zu principals and resources",
             e->hit->unknown ? "perhaps " : "", e->account, e->reached, e->resources);
    if (!e->n_missed) {
        s_printf(o, ", all of them\n");
        return;
    }
    s_printf(o, "; not reached: %zu (", e->n_missed);
    for (size_t t = 0; t < e->n_types; t++) {
        const char *word = NULL;
        for (size_t i = 0; i < sizeof(s_words) / sizeof(s_words[0]) && !word; i++)
            if (strcmp(e->by_type[t].type, s_words[i].type) == 0)
                word = s_words[i].word;
        const char *last = strrchr(e->by_type[t].type, ':');
        word = word ? word : last ? last + 1 : e->by_type[t].type;
        size_t wl = strlen(word);
        bool ies = e->by_type[t].n != 1 && wl > 1 && word[wl - 1] == 'y' && !strchr("aeiou", word[wl - 2]);
        s_printf(o, "%s%zu %.*s%s", t ? ", " : "", e->by_type[t].n, (int)(ies ? wl - 1 : wl), word,
                 e->by_type[t].n == 1 ? ""
                 : ies                ? "ies"
                                      : "s");
    }
    s_printf(o, "), whose own policies keep even an administrator out or that nothing leads to: listed under NOT "
                "REACHED\n");
    (void)b;
}

static void s_text_summary(struct s_out *o, const struct tm_blast *b, const struct tm__blast_everything *every,
                           size_t n_every) {
    const struct tm_graph *g = b->g;
    size_t n_hits = b->n_hits;
    if (!n_hits) {
        s_printf(o, "In short: reaches nothing: no edge of the snapshot's trust graph leads out of it.\n");
        return;
    }
    s_printf(o, "In short:\n");
    /* Administrator nodes first, with the technique that gets there. */
    for (size_t i = 0; i < n_hits; i++) {
        const struct tm_blast_hit *h = &b->hits[i];
        const struct tm_graph_node *n = tm_graph_node(g, h->node);
        if (n->kind != TM_GRAPH_NODE_ADMIN)
            continue;
        s_printf(o, "  - %sbecomes administrator of account %s (full control) in %u step%s",
                 h->unknown ? "perhaps (unknown) " : "", n->account ? n->account : n->id + 6, h->distance,
                 h->distance == 1 ? "" : "s");
        struct tm_blast_step *steps = NULL;
        size_t len = s_path(b, h, &steps);
        if (len == SIZE_MAX) {
            o->rc = TM_ERR_NOMEM;
            return;
        }
        for (size_t k = 0; k < len; k++) {
            const struct tm_graph_edge *e = tm_graph_edge(g, steps[k].edge);
            if (e->kind != TM_GRAPH_EDGE_CAN_ESCALATE_TO || !e->n_actions || strcmp(e->actions[0], "*") == 0)
                continue;
            s_printf(o, ", via");
            for (size_t a = 0; a < e->n_actions && a < 4; a++)
                s_printf(o, "%s %s", a ? "," : "", e->actions[a]);
            if (e->evidence.policy)
                s_printf(o, " (%s)", e->evidence.policy);
            break;
        }
        free(steps);
        s_printf(o, "\n");
    }
    for (size_t i = 0; i < n_every; i++)
        s_text_everything(o, b, &every[i]);
    size_t jewels = 0;
    for (size_t i = 0; i < n_hits; i++)
        jewels += b->hits[i].crown_jewel && tm_graph_node(g, b->hits[i].node)->kind == TM_GRAPH_NODE_RESOURCE;
    if (jewels)
        s_printf(o,
                 "  - %zu crown-jewel data store%s (buckets, secrets, databases, tables, snapshots), listed first "
                 "in their group\n",
                 jewels, jewels == 1 ? "" : "s");
    static const char *const nouns[][2] = {
        [TM_GRAPH_GROUP_ADMIN] = {"principal with full control", "principals with full control"},
        [TM_GRAPH_GROUP_DATA] = {"data resource", "data resources"},
        [TM_GRAPH_GROUP_COMPUTE] = {"compute resource", "compute resources"},
        [TM_GRAPH_GROUP_IDENTITY] = {"identity", "identities"},
        [TM_GRAPH_GROUP_OTHER] = {"other node", "other nodes"},
    };
    for (size_t gi = 0; gi < S_N_GROUPS; gi++) {
        enum tm_graph_group grp = s_group_order[gi];
        /* Counts per verb, strongest first; control over a principal (acting as it) and over anything else
         * (controlling it) are told apart. */
        size_t total = 0, unknown = 0, counts[TM_BLAST_CONTROL + 2] = {0};
        for (size_t i = 0; i < n_hits; i++) {
            const struct tm_blast_hit *h = &b->hits[i];
            const struct tm_graph_node *n = tm_graph_node(g, h->node);
            if (h->group != grp || n->kind == TM_GRAPH_NODE_ADMIN)
                continue;
            total++;
            unknown += h->unknown;
            unsigned m = s_access_mask(b, h);
            for (unsigned a = TM_BLAST_PASS; a <= TM_BLAST_CONTROL; a++)
                counts[a == TM_BLAST_CONTROL && n->kind != TM_GRAPH_NODE_PRINCIPAL ? a + 1 : a] += (m >> a) & 1u;
        }
        if (!total)
            continue;
        s_printf(o, "  - %zu %s:", total, nouns[grp][total == 1 ? 0 : 1]);
        bool first = true;
        static const int order[] = {TM_BLAST_CONTROL, TM_BLAST_CONTROL + 1, TM_BLAST_WRITE, TM_BLAST_READ,
                                    TM_BLAST_PASS};
        for (size_t oi = 0; oi < sizeof(order) / sizeof(order[0]); oi++) {
            int k = order[oi];
            if (!counts[k])
                continue;
            const char *verb = k > TM_BLAST_CONTROL ? s_verb(grp, TM_BLAST_CONTROL, false)
                                                    : s_verb(grp, (enum tm_blast_access)k, true);
            s_printf(o, "%s %s %zu", first ? "" : ",", verb, counts[k]);
            first = false;
        }
        if (unknown)
            s_printf(o, " (%zu unknown)", unknown);
        /* A few by name: at 3 a.m. "reads bucket customer-data" says more than a count. */
        size_t named = 0;
        for (size_t i = 0; i < n_hits && named < 4; i++) {
            const struct tm_blast_hit *h = &b->hits[i];
            if (h->group != grp || tm_graph_node(g, h->node)->kind == TM_GRAPH_NODE_ADMIN)
                continue;
            char label[512];
            s_printf(o, "%s%s", named ? ", " : ": ", tm_blast_label(label, sizeof(label), g, h->node));
            named++;
        }
        if (total > named)
            s_printf(o, ", ...");
        s_printf(o, "\n");
    }
    size_t unknown = 0, conditional = 0;
    for (size_t i = 0; i < n_hits; i++) {
        unknown += b->hits[i].unknown;
        conditional += b->hits[i].conditional;
    }
    if (unknown)
        s_printf(o,
                 "%zu of them %s reached only through facts that could not be read: marked UNKNOWN, shown because the "
                 "worst case must be assumed.\n",
                 unknown, unknown == 1 ? "is" : "are");
    if (conditional)
        s_printf(o, "%zu of them %s reached only when the conditions of a grant hold: marked CONDITIONAL.\n",
                 conditional, conditional == 1 ? "is" : "are");
}

static void s_text(struct s_out *o, const struct tm_blast *b, const struct tm_blast_source *src,
                   const struct tm_blast_write_options *opts) {
    const struct tm_graph *g = b->g;
    char label[1024];
    if (src->asked_found) {
        const struct tm_graph_node *n = tm_graph_node(g, src->nodes[0]);
        tm_blast_label(label, sizeof(label), g, src->nodes[0]);
        s_printf(o, "Blast radius of %s", label);
        if (strcmp(src->asked, n->id) != 0 && strcmp(src->asked, label) != 0)
            s_printf(o, " (asked as %s)", src->asked);
        s_printf(o, "\n");
        if (strcmp(label, n->id) != 0 && n->kind != TM_GRAPH_NODE_ADMIN)
            s_printf(o, "  %s\n", n->id);
    } else {
        s_printf(o, "Blast radius of %s (named by no policy of the snapshot)\n", src->asked);
    }
    for (size_t i = src->asked_found ? 1 : 0; i < src->n_nodes; i++) {
        tm_blast_label(label, sizeof(label), g, src->nodes[i]);
        s_printf(o, "  also counts what %s can reach%s\n", label,
                 src->skip_key_edges && src->nodes[i] == b->internet ? " (leaked access keys aside)" : "");
    }
    if (opts->max_depth)
        s_printf(o, "  at most %u step%s\n", opts->max_depth, opts->max_depth == 1 ? "" : "s");
    s_printf(o, "\n");
    struct tm__blast_everything *every = NULL;
    size_t n_every = 0;
    if ((o->rc = o->rc ? o->rc : tm__blast_everything(b, src, &every, &n_every)))
        return;
    s_text_summary(o, b, every, n_every);
    for (size_t gi = 0; gi < S_N_GROUPS; gi++) {
        size_t total = 0;
        for (size_t i = 0; i < b->n_hits; i++)
            total += b->hits[i].group == s_group_order[gi];
        if (!total)
            continue;
        char upper[16];
        size_t k = 0;
        for (const char *p = s_group_order_names[gi]; *p && k + 1 < sizeof(upper); p++)
            upper[k++] = (char)(*p - 'a' + 'A');
        upper[k] = '\0';
        s_printf(o, "\n%s (%zu)\n", upper, total);
        if (opts->offset)
            s_printf(o, "  (the first %zu skipped: --offset %zu)\n", opts->offset < total ? opts->offset : total,
                     opts->offset);
        size_t pos = 0, shown = 0;
        for (size_t i = 0; i < b->n_hits; i++) {
            if (b->hits[i].group != s_group_order[gi])
                continue;
            if (s_listed(opts, pos++)) {
                s_text_hit(o, b, &b->hits[i]);
                shown++;
            }
        }
        size_t skipped = opts->offset < total ? opts->offset : total;
        if (skipped + shown < total)
            s_printf(o, "  ... and %zu more (--offset %zu lists the next; --limit 0 lists all)\n",
                     total - skipped - shown, skipped + shown);
    }
    for (size_t i = 0; i < n_every; i++) {
        const struct tm__blast_everything *e = &every[i];
        if (!e->n_missed)
            continue;
        s_printf(o, "\nNOT REACHED in account %s (%zu)\n", e->account, e->n_missed);
        size_t shown = 0;
        for (size_t m = 0; m < e->n_missed; m++) {
            if (!s_listed(opts, m))
                continue;
            s_printf(o, "  %s\n", tm_blast_label(label, sizeof(label), g, e->missed[m]));
            if (strcmp(label, tm_graph_node(g, e->missed[m])->id) != 0)
                s_printf(o, "      %s\n", tm_graph_node(g, e->missed[m])->id);
            shown++;
        }
        size_t skipped = opts->offset < e->n_missed ? opts->offset : e->n_missed;
        if (skipped + shown < e->n_missed)
            s_printf(o, "  ... and %zu more\n", e->n_missed - skipped - shown);
    }
    tm__blast_everything_free(every, n_every);
}

/* ---- JSON ---- */

static cJSON *s_json_str(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

cJSON *tm_blast_edge_json(const struct tm_graph *g, uint32_t edge, uint32_t from, uint32_t to) {
    const struct tm_graph_edge *e = tm_graph_edge(g, edge);
    cJSON *o = cJSON_CreateObject();
    cJSON *acts = cJSON_CreateArray();
    cJSON *ev = cJSON_CreateObject();
    if (!o || !acts || !ev) {
        cJSON_Delete(o);
        cJSON_Delete(acts);
        cJSON_Delete(ev);
        return NULL;
    }
    cJSON_AddItemToObject(o, "from", s_json_str(tm_graph_node(g, from)->id));
    cJSON_AddItemToObject(o, "to", s_json_str(tm_graph_node(g, to)->id));
    cJSON_AddItemToObject(o, "kind", s_json_str(tm_graph_edge_kind_name(e->kind)));
    for (size_t i = 0; i < e->n_actions; i++)
        cJSON_AddItemToArray(acts, cJSON_CreateString(e->actions[i]));
    cJSON_AddItemToObject(o, "actions", acts);
    cJSON_AddBoolToObject(o, "unknown", (e->flags & TM_GRAPH_EDGE_UNKNOWN) != 0);
    cJSON_AddBoolToObject(o, "conditional", (e->flags & TM_GRAPH_EDGE_CONDITIONAL) != 0);
    cJSON_AddItemToObject(o, "conditions", s_json_str(e->conditions));
    cJSON_AddItemToObject(o, "via_set",
                          s_json_str(e->flags & TM_GRAPH_EDGE_TO_SET ? tm_graph_node(g, e->to)->id : NULL));
    cJSON_AddItemToObject(ev, "source", s_json_str(e->evidence.source));
    cJSON_AddItemToObject(ev, "holder", s_json_str(e->evidence.holder));
    cJSON_AddItemToObject(ev, "policy", s_json_str(e->evidence.policy));
    if (e->evidence.statement >= 0)
        cJSON_AddNumberToObject(ev, "statement", e->evidence.statement);
    else
        cJSON_AddNullToObject(ev, "statement");
    cJSON_AddItemToObject(ev, "sid", s_json_str(e->evidence.sid));
    cJSON_AddItemToObject(ev, "text", s_json_str(e->evidence.text));
    cJSON_AddItemToObject(o, "evidence", ev);
    return o;
}

/* ---- JSON, written directly ----
 *
 * A walk from an administrator reaches every node of the account, each with its path: the document must stay
 * small and quick to write. The graph edges the paths use are listed once ("edges"), a path step is a pair
 * [edge number, node arrived at], and each edge and each node reached is one line. Keys are in byte order, the
 * outer levels indented by two spaces, strings escaped as cJSON does. */

struct s_jw {
    struct tm_buf *b;
    int rc;
    int depth;
    int compact; /* from this depth on, no line breaks and no space after a colon */
    bool first[16];
};

static void s_jw_raw(struct s_jw *w, const char *s, size_t n) {
    if (!w->rc)
        w->rc = tm_buf_append(w->b, s, n);
}

static void s_jw_lit(struct s_jw *w, const char *s) {
    s_jw_raw(w, s, strlen(s));
}

static void s_jw_indent(struct s_jw *w, int depth) {
    static const char spaces[] = "                                ";
    if (w->depth >= w->compact)
        return;
    s_jw_raw(w, "\n", 1);
    for (int i = 0; i < depth; i++)
        s_jw_raw(w, spaces, 2);
}

static void s_jw_open(struct s_jw *w, char c) {
    s_jw_raw(w, &c, 1);
    if (w->depth + 1 < (int)(sizeof(w->first) / sizeof(w->first[0])))
        w->first[++w->depth] = true;
    else if (!w->rc)
        w->rc = TM_ERR_TOO_BIG;
}

static void s_jw_close(struct s_jw *w, char c) {
    if (!w->first[w->depth] && w->depth < w->compact) {
        static const char spaces[] = "                                ";
        s_jw_raw(w, "\n", 1);
        for (int i = 0; i < w->depth - 1; i++)
            s_jw_raw(w, spaces, 2);
    }
    s_jw_raw(w, &c, 1);
    w->depth--;
}

/* The separator before an array item or an object key. */
static void s_jw_next(struct s_jw *w) {
    if (!w->first[w->depth])
        s_jw_raw(w, ",", 1);
    w->first[w->depth] = false;
    s_jw_indent(w, w->depth);
}

/* Bytes a JSON string cannot hold as they are: controls, the quote and the backslash. */
static const unsigned char s_needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

static void s_jw_str(struct s_jw *w, const char *s) {
    if (!s) {
        s_jw_lit(w, "null");
        return;
    }
    s_jw_raw(w, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!s_needs_escape[c])
            continue;
        s_jw_raw(w, run, (size_t)(s - run));
        char esc[8];
        switch (c) {
            case '"':
                s_jw_lit(w, "\\\"");
                break;
            case '\\':
                s_jw_lit(w, "\\\\");
                break;
            case '\b':
                s_jw_lit(w, "\\b");
                break;
            case '\f':
                s_jw_lit(w, "\\f");
                break;
            case '\n':
                s_jw_lit(w, "\\n");
                break;
            case '\r':
                s_jw_lit(w, "\\r");
                break;
            case '\t':
                s_jw_lit(w, "\\t");
                break;
            default:
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                s_jw_lit(w, esc);
                break;
        }
        run = s + 1;
    }
    s_jw_raw(w, run, (size_t)(s - run));
    s_jw_raw(w, "\"", 1);
}

static void s_jw_key(struct s_jw *w, const char *key) {
    s_jw_next(w);
    s_jw_str(w, key);
    s_jw_raw(w, ": ", w->depth >= w->compact ? 1 : 2);
}

static void s_jw_kstr(struct s_jw *w, const char *key, const char *v) {
    s_jw_key(w, key);
    s_jw_str(w, v);
}

static void s_jw_kbool(struct s_jw *w, const char *key, bool v) {
    s_jw_key(w, key);
    s_jw_lit(w, v ? "true" : "false");
}

static void s_jw_kint(struct s_jw *w, const char *key, long long v) {
    char num[32];
    int n = snprintf(num, sizeof(num), "%lld", v);
    s_jw_key(w, key);
    s_jw_raw(w, num, (size_t)n);
}

/* A node's own keys, in byte order around the caller's (access, conditional, distance / path, unknown). */
static void s_jw_node_head(struct s_jw *w, const struct tm_graph_node *n) {
    s_jw_kstr(w, "account", n->account);
}

static void s_jw_node_mid(struct s_jw *w, const struct tm_graph_node *n) {
    s_jw_kstr(w, "id", n->id);
    s_jw_kbool(w, "in_snapshot", (n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) != 0);
    s_jw_kstr(w, "kind", tm_graph_node_kind_name(n->kind));
    s_jw_kstr(w, "name", n->name);
}

/* One graph edge of the "edges" list, on one line. */
static void s_jw_edge(struct s_jw *w, const struct tm_graph *g, uint32_t edge, uint32_t number) {
    const struct tm_graph_edge *e = tm_graph_edge(g, edge);
    s_jw_next(w);
    w->compact = w->depth + 1;
    s_jw_open(w, '{');
    s_jw_key(w, "actions");
    s_jw_open(w, '[');
    for (size_t i = 0; i < e->n_actions; i++) {
        s_jw_next(w);
        s_jw_str(w, e->actions[i]);
    }
    s_jw_close(w, ']');
    s_jw_kbool(w, "conditional", (e->flags & TM_GRAPH_EDGE_CONDITIONAL) != 0);
    s_jw_kstr(w, "conditions", e->conditions);
    s_jw_key(w, "evidence");
    s_jw_open(w, '{');
    s_jw_kstr(w, "holder", e->evidence.holder);
    s_jw_kstr(w, "policy", e->evidence.policy);
    s_jw_kstr(w, "sid", e->evidence.sid);
    s_jw_kstr(w, "source", e->evidence.source);
    if (e->evidence.statement >= 0)
        s_jw_kint(w, "statement", e->evidence.statement);
    else
        s_jw_kstr(w, "statement", NULL);
    s_jw_kstr(w, "text", e->evidence.text);
    s_jw_close(w, '}');
    s_jw_kstr(w, "from", tm_graph_node(g, e->from)->id);
    s_jw_kint(w, "index", number);
    s_jw_kstr(w, "kind", tm_graph_edge_kind_name(e->kind));
    s_jw_kbool(w, "set", (e->flags & TM_GRAPH_EDGE_TO_SET) != 0);
    s_jw_kstr(w, "to", tm_graph_node(g, e->to)->id);
    s_jw_kbool(w, "unknown", (e->flags & TM_GRAPH_EDGE_UNKNOWN) != 0);
    s_jw_close(w, '}');
    w->compact = INT_MAX;
}

/* The path of a hit into steps (grown as needed); SIZE_MAX when out of memory. */
static size_t s_path_into(const struct tm_blast *b, const struct tm_blast_hit *h, struct tm_blast_step **steps,
                          size_t *cap, struct tm_blast_step *stack) {
    size_t len = tm_blast_path(b, h, NULL, 0);
    if (len > *cap) {
        struct tm_blast_step *more = malloc(len * sizeof(*more));
        if (!more)
            return SIZE_MAX;
        if (*steps != stack)
            free(*steps);
        *steps = more;
        *cap = len;
    }
    tm_blast_path(b, h, *steps, len);
    return len;
}

static int s_json(struct tm_buf *out, const struct tm_blast *b, const struct tm_blast_source *src,
                  const struct tm_blast_write_options *opts) {
    const struct tm_graph *g = b->g;
    struct s_jw w = {.b = out, .compact = INT_MAX};
    struct tm_blast_step stack[64];
    struct tm_blast_step *steps = stack;
    size_t cap = sizeof(stack) / sizeof(stack[0]);
    /* Edges are numbered in order of first use by the hits, in output order. */
    size_t n_edges = tm_graph_edge_count(g);
    uint32_t *number = malloc((n_edges ? n_edges : 1) * sizeof(uint32_t));
    uint32_t *used = malloc((n_edges ? n_edges : 1) * sizeof(uint32_t));
    uint32_t n_used = 0;
    if (!number || !used) {
        free(number);
        free(used);
        return TM_ERR_NOMEM;
    }
    memset(number, 0xff, (n_edges ? n_edges : 1) * sizeof(uint32_t));
    /* What is listed: per group, from the offset, at most the limit. */
    uint8_t *listed = malloc(b->n_hits ? b->n_hits : 1);
    struct tm__blast_everything *every = NULL;
    size_t n_every = 0;
    size_t total[TM_GRAPH_GROUP_ADMIN + 1] = {0}, n_listed[TM_GRAPH_GROUP_ADMIN + 1] = {0};
    if (!listed || tm__blast_everything(b, src, &every, &n_every)) {
        free(number);
        free(used);
        free(listed);
        return TM_ERR_NOMEM;
    }
    for (size_t i = 0; i < b->n_hits; i++) {
        enum tm_graph_group grp = b->hits[i].group;
        listed[i] = s_listed(opts, total[grp]++);
        n_listed[grp] += listed[i];
    }
    for (size_t i = 0; i < b->n_hits && !w.rc; i++) {
        if (!listed[i])
            continue;
        size_t len = s_path_into(b, &b->hits[i], &steps, &cap, stack);
        if (len == SIZE_MAX) {
            w.rc = TM_ERR_NOMEM;
            break;
        }
        for (size_t k = 0; k < len; k++)
            if (number[steps[k].edge] == TM_GRAPH_NONE) {
                number[steps[k].edge] = n_used;
                used[n_used++] = steps[k].edge;
            }
    }
    s_jw_open(&w, '{');
    s_jw_key(&w, "edges");
    s_jw_open(&w, '[');
    for (uint32_t i = 0; i < n_used && !w.rc; i++)
        s_jw_edge(&w, g, used[i], i);
    s_jw_close(&w, ']');
    s_jw_key(&w, "everything");
    s_jw_open(&w, '[');
    for (size_t i = 0; i < n_every; i++) {
        const struct tm__blast_everything *e = &every[i];
        s_jw_next(&w);
        s_jw_open(&w, '{');
        s_jw_kstr(&w, "account", e->account);
        s_jw_kint(&w, "distance", e->hit->distance);
        s_jw_kbool(&w, "grants_walked", e->walked);
        s_jw_kstr(&w, "node", tm_graph_node(g, e->hit->node)->id);
        s_jw_key(&w, "not_reached");
        if (!e->walked) {
            s_jw_lit(&w, "null");
        } else {
            s_jw_open(&w, '{');
            s_jw_key(&w, "by_type");
            s_jw_open(&w, '{');
            w.compact = w.depth;
            for (size_t t = 0; t < e->n_types; t++)
                s_jw_kint(&w, e->by_type[t].type, (long long)e->by_type[t].n);
            s_jw_close(&w, '}');
            w.compact = INT_MAX;
            s_jw_kint(&w, "count", (long long)e->n_missed);
            s_jw_key(&w, "ids");
            s_jw_open(&w, '[');
            for (size_t m = 0; m < e->n_missed; m++)
                if (s_listed(opts, m)) {
                    s_jw_next(&w);
                    s_jw_str(&w, tm_graph_node(g, e->missed[m])->id);
                }
            s_jw_close(&w, ']');
            s_jw_close(&w, '}');
        }
        s_jw_kint(&w, "reached", (long long)e->reached);
        s_jw_kint(&w, "resources", (long long)e->resources);
        s_jw_kbool(&w, "unknown", e->hit->unknown);
        s_jw_close(&w, '}');
    }
    s_jw_close(&w, ']');
    s_jw_key(&w, "from");
    s_jw_open(&w, '{');
    s_jw_kbool(&w, "access_keys_followed", !src->skip_key_edges);
    s_jw_kstr(&w, "asked", src->asked ? src->asked : "");
    s_jw_kbool(&w, "found", src->asked_found);
    s_jw_key(&w, "nodes");
    s_jw_open(&w, '[');
    for (size_t i = 0; i < src->n_nodes; i++) {
        const struct tm_graph_node *n = tm_graph_node(g, src->nodes[i]);
        s_jw_next(&w);
        s_jw_open(&w, '{');
        s_jw_node_head(&w, n);
        s_jw_node_mid(&w, n);
        s_jw_kstr(&w, "type", n->type);
        s_jw_close(&w, '}');
    }
    s_jw_close(&w, ']');
    s_jw_close(&w, '}');
    s_jw_key(&w, "listing");
    s_jw_open(&w, '{');
    if (opts->limit)
        s_jw_kint(&w, "limit", (long long)opts->limit);
    else
        s_jw_kstr(&w, "limit", NULL);
    s_jw_kint(&w, "offset", (long long)opts->offset);
    s_jw_key(&w, "omitted");
    s_jw_open(&w, '{');
    w.compact = w.depth;
    static const enum tm_graph_group by_name_omitted[] = {TM_GRAPH_GROUP_ADMIN, TM_GRAPH_GROUP_COMPUTE,
                                                          TM_GRAPH_GROUP_DATA, TM_GRAPH_GROUP_IDENTITY,
                                                          TM_GRAPH_GROUP_OTHER};
    for (size_t gi = 0; gi < sizeof(by_name_omitted) / sizeof(by_name_omitted[0]); gi++)
        s_jw_kint(&w, tm_graph_group_name(by_name_omitted[gi]),
                  (long long)(total[by_name_omitted[gi]] - n_listed[by_name_omitted[gi]]));
    s_jw_close(&w, '}');
    w.compact = INT_MAX;
    s_jw_close(&w, '}');
    if (opts->max_depth)
        s_jw_kint(&w, "max_depth", opts->max_depth);
    else
        s_jw_kstr(&w, "max_depth", NULL);
    s_jw_key(&w, "reached");
    s_jw_open(&w, '{');
    /* Groups by name (admin, compute, data, identity, other); hits within each in output order. */
    static const enum tm_graph_group by_name[] = {TM_GRAPH_GROUP_ADMIN, TM_GRAPH_GROUP_COMPUTE, TM_GRAPH_GROUP_DATA,
                                                  TM_GRAPH_GROUP_IDENTITY, TM_GRAPH_GROUP_OTHER};
    for (size_t gi = 0; gi < sizeof(by_name) / sizeof(by_name[0]) && !w.rc; gi++) {
        s_jw_key(&w, tm_graph_group_name(by_name[gi]));
        s_jw_open(&w, '[');
        for (size_t i = 0; i < b->n_hits && !w.rc; i++) {
            const struct tm_blast_hit *h = &b->hits[i];
            if (h->group != by_name[gi] || !listed[i])
                continue;
            const struct tm_graph_node *n = tm_graph_node(g, h->node);
            s_jw_next(&w);
            w.compact = w.depth + 1;
            s_jw_open(&w, '{');
            s_jw_key(&w, "access");
            s_jw_open(&w, '[');
            unsigned m = s_access_mask(b, h);
            for (int a = TM_BLAST_CONTROL; a >= TM_BLAST_PASS; a--)
                if (m & (1u << a)) {
                    s_jw_next(&w);
                    s_jw_str(&w, tm_blast_access_name((enum tm_blast_access)a));
                }
            s_jw_close(&w, ']');
            s_jw_kbool(&w, "conditional", h->conditional);
            s_jw_kbool(&w, "crown_jewel", h->crown_jewel);
            s_jw_kint(&w, "distance", h->distance);
            s_jw_kstr(&w, "id", n->id);
            s_jw_kstr(&w, "name", n->name);
            s_jw_key(&w, "path");
            s_jw_open(&w, '[');
            size_t len = s_path_into(b, h, &steps, &cap, stack);
            if (len == SIZE_MAX) {
                w.rc = TM_ERR_NOMEM;
                break;
            }
            for (size_t k = 0; k < len; k++) {
                char num[16];
                int nl = snprintf(num, sizeof(num), "%u", number[steps[k].edge]);
                s_jw_next(&w);
                s_jw_raw(&w, "[", 1);
                s_jw_raw(&w, num, (size_t)nl);
                s_jw_raw(&w, ",", 1);
                s_jw_str(&w, tm_graph_node(g, steps[k].to)->id);
                s_jw_raw(&w, "]", 1);
            }
            s_jw_close(&w, ']');
            s_jw_kstr(&w, "type", n->type);
            s_jw_kbool(&w, "unknown", h->unknown);
            s_jw_close(&w, '}');
            w.compact = INT_MAX;
        }
        s_jw_close(&w, ']');
    }
    s_jw_close(&w, '}');
    s_jw_kstr(&w, "schema", "tmscan.blast/2");
    struct tm_blast_summary sum;
    tm_blast_summarize(b, &sum);
    s_jw_key(&w, "summary");
    s_jw_open(&w, '{');
    s_jw_kint(&w, "admin", (long long)sum.by_group[TM_GRAPH_GROUP_ADMIN]);
    s_jw_kint(&w, "compute", (long long)sum.by_group[TM_GRAPH_GROUP_COMPUTE]);
    s_jw_kint(&w, "conditional", (long long)sum.conditional);
    s_jw_kint(&w, "crown_jewels", (long long)sum.crown_jewels);
    s_jw_kint(&w, "data", (long long)sum.by_group[TM_GRAPH_GROUP_DATA]);
    s_jw_kint(&w, "identity", (long long)sum.by_group[TM_GRAPH_GROUP_IDENTITY]);
    s_jw_kint(&w, "other", (long long)sum.by_group[TM_GRAPH_GROUP_OTHER]);
    s_jw_kint(&w, "total", (long long)sum.total);
    s_jw_kint(&w, "unknown", (long long)sum.unknown);
    s_jw_close(&w, '}');
    s_jw_close(&w, '}');
    s_jw_raw(&w, "\n", 1);
    if (steps != stack)
        free(steps);
    free(number);
    free(used);
    free(listed);
    tm__blast_everything_free(every, n_every);
    return w.rc;
}

/* ---- DOT ---- */

static void s_dot_id(struct s_out *o, const char *s) {
    s_printf(o, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            s_printf(o, "\\%c", *s);
        else if (*s == '\n')
            s_printf(o, "\\n");
        else
            s_printf(o, "%c", *s);
    }
    s_printf(o, "\"");
}

struct s_dot_edge {
    uint32_t from, to, edge;
};

static int s_dot_edge_cmp(const void *pa, const void *pb) {
    const struct s_dot_edge *a = pa, *b = pb;
    if (a->from != b->from)
        return a->from < b->from ? -1 : 1;
    if (a->to != b->to)
        return a->to < b->to ? -1 : 1;
    return a->edge < b->edge ? -1 : a->edge > b->edge;
}

static void s_dot_node(struct s_out *o, const struct tm_graph *g, uint32_t node, const char *extra) {
    const struct tm_graph_node *n = tm_graph_node(g, node);
    char label[1024], full[2200];
    tm_blast_label(label, sizeof(label), g, node);
    if (strcmp(label, n->id) != 0 && n->kind != TM_GRAPH_NODE_ADMIN)
        snprintf(full, sizeof(full), "%s\n%s", label, n->id);
    else
        snprintf(full, sizeof(full), "%s", label);
    s_printf(o, "    ");
    s_dot_id(o, n->id);
    s_printf(o, " [label=");
    s_dot_id(o, full);
    s_printf(o, "%s];\n", extra);
}

static int s_dot(struct s_out *o, const struct tm_blast *b, const struct tm_blast_source *src,
                 const struct tm_blast_write_options *opts) {
    const struct tm_graph *g = b->g;
    uint8_t *listed = malloc(b->n_hits ? b->n_hits : 1);
    if (!listed)
        return TM_ERR_NOMEM;
    size_t total[TM_GRAPH_GROUP_ADMIN + 1] = {0};
    for (size_t i = 0; i < b->n_hits; i++)
        listed[i] = s_listed(opts, total[b->hits[i].group]++);
    s_printf(o, "digraph blast {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\", "
                "fontsize=10];\n    edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (size_t i = 0; i < src->n_nodes; i++)
        s_dot_node(o, g, src->nodes[i], ", penwidth=2, shape=doubleoctagon");
    for (size_t gi = 0; gi < S_N_GROUPS; gi++) {
        bool any = false;
        for (size_t i = 0; i < b->n_hits && !any; i++)
            any = b->hits[i].group == s_group_order[gi];
        if (!any)
            continue;
        s_printf(o, "    subgraph cluster_%s {\n        label=\"%s\";\n", s_group_order_names[gi],
                 s_group_order_names[gi]);
        for (size_t i = 0; i < b->n_hits; i++) {
            const struct tm_blast_hit *h = &b->hits[i];
            if (h->group == s_group_order[gi] && listed[i])
                s_dot_node(o, g, h->node, h->unknown ? ", style=\"rounded,dashed\"" : "");
        }
        s_printf(o, "    }\n");
    }
    /* The steps of every path shown, each once. */
    size_t n = 0, cap = 0;
    struct s_dot_edge *edges = NULL;
    int rc = TM_OK;
    for (size_t i = 0; i < b->n_hits && !rc; i++) {
        if (!listed[i])
            continue;
        struct tm_blast_step *steps = NULL;
        size_t len = s_path(b, &b->hits[i], &steps);
        if (len == SIZE_MAX) {
            rc = TM_ERR_NOMEM;
            break;
        }
        if (n + len > cap) {
            size_t nc = (n + len) * 2;
            struct s_dot_edge *ne = realloc(edges, nc * sizeof(*ne));
            if (!ne) {
                free(steps);
                rc = TM_ERR_NOMEM;
                break;
            }
            edges = ne;
            cap = nc;
        }
        for (size_t k = 0; k < len; k++)
            edges[n++] = (struct s_dot_edge){steps[k].from, steps[k].to, steps[k].edge};
        free(steps);
    }
    if (n)
        qsort(edges, n, sizeof(*edges), s_dot_edge_cmp);
    for (size_t i = 0; i < n && !rc; i++) {
        if (i && s_dot_edge_cmp(&edges[i - 1], &edges[i]) == 0)
            continue;
        const struct tm_graph_edge *e = tm_graph_edge(g, edges[i].edge);
        char label[512];
        int len = snprintf(label, sizeof(label), "%s", tm_graph_edge_kind_name(e->kind));
        for (size_t k = 0; k < e->n_actions && k < 3 && len > 0 && (size_t)len < sizeof(label); k++)
            len += snprintf(label + len, sizeof(label) - (size_t)len, "\n%s", e->actions[k]);
        if (e->n_actions > 3 && len > 0 && (size_t)len < sizeof(label))
            snprintf(label + len, sizeof(label) - (size_t)len, "\n+%zu more", e->n_actions - 3);
        s_printf(o, "    ");
        s_dot_id(o, tm_graph_node(g, edges[i].from)->id);
        s_printf(o, " -> ");
        s_dot_id(o, tm_graph_node(g, edges[i].to)->id);
        s_printf(o, " [label=");
        s_dot_id(o, label);
        if (e->flags & TM_GRAPH_EDGE_UNKNOWN)
            s_printf(o, ", style=dashed, color=gray40");
        else if (e->flags & TM_GRAPH_EDGE_CONDITIONAL)
            s_printf(o, ", style=dotted");
        s_printf(o, "];\n");
    }
    free(edges);
    size_t drawn = 0;
    for (size_t i = 0; i < b->n_hits; i++)
        drawn += listed[i];
    free(listed);
    if (drawn < b->n_hits)
        s_printf(o, "    // %zu of the %zu nodes reached are drawn (--limit 0 draws all)\n", drawn, b->n_hits);
    s_printf(o, "}\n");
    return rc ? rc : o->rc;
}

int tm_blast_write(struct tm_buf *out, const struct tm_blast *b, const struct tm_blast_source *src,
                   const struct tm_blast_write_options *opts) {
    if (!out || !b || !src || !opts)
        return TM_ERR_INVALID;
    struct s_out o = {out, TM_OK};
    switch (opts->format) {
        case TM_BLAST_TEXT:
            s_text(&o, b, src, opts);
            return o.rc;
        case TM_BLAST_JSON:
            return s_json(out, b, src, opts);
        case TM_BLAST_DOT:
            return s_dot(&o, b, src, opts);
        default:
            return TM_ERR_INVALID;
    }
}
