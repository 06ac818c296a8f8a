/* Query answers as text for people and JSON for machines (schema "tmscan.query/1"), deterministic. */
#include "analyzers/query.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/blast.h"
#include "analyzers/query_int.h"
#include "core/json.h"

int tm_query_format_parse(const char *name, enum tm_query_format *out) {
    if (name && strcmp(name, "text") == 0) {
        *out = TM_QUERY_TEXT;
        return TM_OK;
    }
    if (name && strcmp(name, "json") == 0) {
        *out = TM_QUERY_JSON;
        return TM_OK;
    }
    return TM_ERR_INVALID;
}

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

/* Main grants first: identity and resource policies, then what caps them. */
static int s_set_rank(enum tm_iam_set_kind k) {
    switch (k) {
        case TM_IAM_SET_IDENTITY:
            return 0;
        case TM_IAM_SET_RESOURCE:
            return 1;
        case TM_IAM_SET_BOUNDARY:
            return 2;
        case TM_IAM_SET_SESSION:
            return 3;
        case TM_IAM_SET_SCP:
            return 4;
        case TM_IAM_SET_RCP:
            return 5;
        default:
            return 6;
    }
}

static int s_stmt_cmp(const void *pa, const void *pb) {
    const struct tm_query_statement *a = *(const struct tm_query_statement *const *)pa;
    const struct tm_query_statement *b = *(const struct tm_query_statement *const *)pb;
    if (a->effect != b->effect)
        return a->effect == TM_IAM_DENY ? -1 : 1;
    int ra = s_set_rank(a->set), rb = s_set_rank(b->set);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    int c = strcmp(a->holder ? a->holder : "", b->holder ? b->holder : "");
    if (c)
        return c;
    if ((c = strcmp(a->policy ? a->policy : "", b->policy ? b->policy : "")))
        return c;
    if (a->statement != b->statement)
        return a->statement < b->statement ? -1 : 1;
    return strcmp(a->json ? a->json : "", b->json ? b->json : "");
}

/* The statements in display order (pointers; caller frees the array). */
static const struct tm_query_statement **s_sorted(const struct tm_query_statement *items, size_t n) {
    const struct tm_query_statement **p = malloc((n ? n : 1) * sizeof(*p));
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = &items[i];
    qsort(p, n, sizeof(*p), s_stmt_cmp);
    return p;
}

static void s_text_statement(struct s_out *o, const struct tm_graph *g, const struct tm_query_statement *s,
                             const char *indent) {
    s_printf(o, "%s%s %s", indent, s->effect == TM_IAM_DENY ? "denied by" : "allowed by", s->what ? s->what : "");
    if (s->policy)
        s_printf(o, " %s", s->policy);
    if (s->detail)
        s_printf(o, s->set == TM_IAM_SET_SCP || s->set == TM_IAM_SET_RCP ? " (attached to %s)" : " %s", s->detail);
    uint32_t h = s->holder ? tm_graph_find(g, s->holder) : TM_GRAPH_NONE;
    if (h != TM_GRAPH_NONE && s->set != TM_IAM_SET_SCP && s->set != TM_IAM_SET_RCP) {
        char label[1024];
        s_printf(o, " of %s", tm_blast_label(label, sizeof(label), g, h));
    }
    if (s->statement >= 0)
        s_printf(o, ", statement %d", (int)s->statement);
    if (s->sid)
        s_printf(o, " (Sid %s)", s->sid);
    s_printf(o, "\n");
    if (s->json)
        s_printf(o, "%s    %s\n", indent, s->json);
}

static cJSON *s_json_str(const char *s) {
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static const char *s_set_name(enum tm_iam_set_kind k) {
    switch (k) {
        case TM_IAM_SET_IDENTITY:
            return "identity";
        case TM_IAM_SET_RESOURCE:
            return "resource";
        case TM_IAM_SET_BOUNDARY:
            return "boundary";
        case TM_IAM_SET_SESSION:
            return "session";
        case TM_IAM_SET_SCP:
            return "scp";
        case TM_IAM_SET_RCP:
            return "rcp";
        default:
            return "unknown";
    }
}

static cJSON *s_json_statements(const struct tm_query_statement *items, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    const struct tm_query_statement **sorted = s_sorted(items, n);
    if (!arr || !sorted) {
        cJSON_Delete(arr);
        free(sorted);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct tm_query_statement *s = sorted[i];
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        cJSON_AddItemToArray(arr, o);
        cJSON_AddItemToObject(o, "set", s_json_str(s_set_name(s->set)));
        cJSON_AddItemToObject(o, "effect", s_json_str(tm_iam_effect_name(s->effect)));
        cJSON_AddItemToObject(o, "what", s_json_str(s->what));
        cJSON_AddItemToObject(o, "holder", s_json_str(s->holder));
        cJSON_AddItemToObject(o, "policy", s_json_str(s->policy));
        cJSON_AddItemToObject(o, "detail", s_json_str(s->detail));
        if (s->statement >= 0)
            cJSON_AddNumberToObject(o, "statement", s->statement);
        else
            cJSON_AddNullToObject(o, "statement");
        cJSON_AddItemToObject(o, "sid", s_json_str(s->sid));
        /* The statement itself as JSON when it is one, else the words of the grant. */
        cJSON *doc = s->json && s->json[0] == '{' ? cJSON_Parse(s->json) : NULL;
        if (doc)
            cJSON_AddItemToObject(o, "document", doc);
        else
            cJSON_AddNullToObject(o, "document");
        cJSON_AddItemToObject(o, "text", s_json_str(doc ? NULL : s->json));
    }
    free(sorted);
    return arr;
}

static int s_json_finish(struct tm_buf *out, cJSON *root) {
    char *text = tm_json_print_canonical(root, true);
    cJSON_Delete(root);
    if (!text)
        return TM_ERR_NOMEM;
    int rc = tm_buf_append_str(out, text);
    if (!rc)
        rc = tm_buf_append_char(out, '\n');
    free(text);
    return rc;
}

static const char *s_decision_words(const struct tm_query_can *a) {
    switch (a->decision) {
        case TM_IAM_ALLOWED:
            return a->unknown ? "ALLOWED (by the policies that could be read)" : "ALLOWED";
        case TM_IAM_EXPLICIT_DENY:
            return "DENIED (explicitly)";
        case TM_IAM_IMPLICIT_DENY:
        default:
            return a->unknown ? "UNKNOWN (denied by the policies that could be read, but not all could be)" : "DENIED";
    }
}

/* ---- can ---- */

int tm_query_can_write(struct tm_buf *out, const struct tm_query *q, const struct tm_query_can *a,
                       enum tm_query_format fmt) {
    if (!out || !q || !a)
        return TM_ERR_INVALID;
    const struct tm_graph *g = q->g;
    if (fmt == TM_QUERY_JSON) {
        cJSON *root = cJSON_CreateObject();
        cJSON *p = cJSON_CreateObject(), *r = cJSON_CreateObject(), *notes = cJSON_CreateArray();
        cJSON *st = s_json_statements(a->statements, a->n_statements);
        if (!root || !p || !r || !notes || !st) {
            cJSON_Delete(root);
            cJSON_Delete(p);
            cJSON_Delete(r);
            cJSON_Delete(notes);
            cJSON_Delete(st);
            return TM_ERR_NOMEM;
        }
        cJSON_AddStringToObject(root, "schema", "tmscan.query/1");
        cJSON_AddStringToObject(root, "question", "can");
        cJSON_AddItemToObject(root, "principal", p);
        cJSON_AddItemToObject(p, "asked", s_json_str(a->principal_asked));
        cJSON_AddItemToObject(p, "evaluated_as", s_json_str(a->principal));
        cJSON_AddItemToObject(
            p, "node", s_json_str(a->principal_node != TM_GRAPH_NONE ? tm_graph_node(g, a->principal_node)->id : NULL));
        cJSON_AddBoolToObject(p, "policies_known", a->principal_known);
        cJSON_AddItemToObject(root, "action", s_json_str(a->action));
        cJSON_AddItemToObject(root, "resource", r);
        cJSON_AddItemToObject(r, "asked", s_json_str(a->resource_asked));
        cJSON_AddItemToObject(
            r, "node", s_json_str(a->resource_node != TM_GRAPH_NONE ? tm_graph_node(g, a->resource_node)->id : NULL));
        cJSON_AddItemToObject(root, "decision", s_json_str(tm_iam_decision_name(a->decision)));
        cJSON_AddBoolToObject(root, "allowed", a->decision == TM_IAM_ALLOWED);
        cJSON_AddItemToObject(root, "reason",
                              s_json_str(a->decision == TM_IAM_ALLOWED ? NULL : tm_iam_reason_text(a->reason)));
        cJSON_AddBoolToObject(root, "unknown", a->unknown);
        cJSON_AddItemToObject(root, "statements", st);
        for (size_t i = 0; i < sizeof(a->notes) / sizeof(a->notes[0]) && a->notes[i]; i++)
            cJSON_AddItemToArray(notes, cJSON_CreateString(a->notes[i]));
        cJSON_AddItemToObject(root, "notes", notes);
        return s_json_finish(out, root);
    }
    struct s_out o = {out, TM_OK};
    char label[1024];
    const char *who =
        a->principal_node != TM_GRAPH_NONE ? tm_blast_label(label, sizeof(label), g, a->principal_node) : a->principal;
    s_printf(&o, "%s: %s %s %s on %s\n", s_decision_words(a), who, a->decision == TM_IAM_ALLOWED ? "can" : "cannot",
             a->action, a->resource_asked);
    if (a->decision == TM_IAM_EXPLICIT_DENY)
        s_printf(&o, "  (the word of a Deny statement is final)\n");
    if (a->principal_node != TM_GRAPH_NONE && tm_graph_node(g, a->principal_node)->kind == TM_GRAPH_NODE_PRINCIPAL &&
        strcmp(who, tm_graph_node(g, a->principal_node)->id) != 0)
        s_printf(&o, "  principal: %s\n", tm_graph_node(g, a->principal_node)->id);
    if (a->resource_node != TM_GRAPH_NONE && strcmp(a->resource_asked, tm_graph_node(g, a->resource_node)->id) != 0)
        s_printf(&o, "  the policy of %s governs it\n", tm_graph_node(g, a->resource_node)->id);
    s_printf(&o, "\nWhy:\n");
    if (a->decision != TM_IAM_ALLOWED) {
        s_printf(&o, "  %s", tm_iam_reason_text(a->reason));
        const struct tm_graph_node *pn =
            a->principal_node != TM_GRAPH_NONE ? tm_graph_node(g, a->principal_node) : NULL;
        const cJSON *attrs = pn && pn->resource ? cJSON_GetObjectItemCaseSensitive(pn->resource, "attrs") : NULL;
        const char *boundary = attrs ? tm_json_str(attrs, "permissions_boundary_arn", NULL) : NULL;
        if (a->reason == TM_IAM_REASON_BOUNDARY && boundary)
            s_printf(&o, " (%s)", boundary);
        s_printf(&o, "\n");
    }
    const struct tm_query_statement **sorted = s_sorted(a->statements, a->n_statements);
    if (!sorted)
        return TM_ERR_NOMEM;
    if (a->decision == TM_IAM_IMPLICIT_DENY && a->n_statements)
        s_printf(&o, "  these statements allow it, but that is not enough:\n");
    if (!a->n_statements && a->decision == TM_IAM_IMPLICIT_DENY)
        s_printf(&o, "  no statement of any policy that applies allows it\n");
    for (size_t i = 0; i < a->n_statements; i++)
        s_text_statement(&o, g, sorted[i], "  ");
    free(sorted);
    if (a->unknown)
        s_printf(&o, "\nUNKNOWN: a policy that matters (identity, boundary, SCP or the resource's) could not be read; "
                     "the answer is what the readable policies say.\n");
    for (size_t i = 0; i < sizeof(a->notes) / sizeof(a->notes[0]) && a->notes[i]; i++)
        s_printf(&o, "Note: %s.\n", a->notes[i]);
    return o.rc;
}

/* ---- who-can ---- */

/* ---- who-can as JSON, written directly ----
 *
 * An answer may list a thousand principals (every administrator can do everything): building a cJSON tree of it,
 * sorting its keys and printing it cost more than the question. This writes the same bytes as
 * tm_json_print_canonical(tree, true) would (keys in byte order, two-space indentation, strings escaped as
 * core/json.c does), and renders each distinct statement document once per answer. */

struct s_pw {
    struct tm_buf *b;
    int rc;
    int depth;
    bool first[8];
    /* Bytes gathered before they go to the buffer: an answer is thousands of short pieces. */
    size_t fill;
    char chunk[16384];
};

static void s_pw_flush(struct s_pw *w) {
    if (w->fill && !w->rc)
        w->rc = tm_buf_append(w->b, w->chunk, w->fill);
    w->fill = 0;
}

static void s_pw_raw(struct s_pw *w, const char *s, size_t n) {
    if (n > sizeof(w->chunk) - w->fill) {
        s_pw_flush(w);
        if (n > sizeof(w->chunk)) {
            if (!w->rc)
                w->rc = tm_buf_append(w->b, s, n);
            return;
        }
    }
    memcpy(w->chunk + w->fill, s, n);
    w->fill += n;
}

static void s_pw_lit(struct s_pw *w, const char *s) {
    s_pw_raw(w, s, strlen(s));
}

static void s_pw_newline(struct s_pw *w, int depth) {
    static const char line[] = "\n                                ";
    s_pw_raw(w, line, 1 + 2 * (size_t)(depth < 16 ? depth : 16));
}

/* Whether any of 8 bytes needs escaping: a control byte, the quote or the backslash (SWAR: "has a byte less than
 * 0x20", "has a byte equal to"). */
static bool s_pw_word_special(uint64_t x) {
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quote = x ^ (ones * '"'), slash = x ^ (ones * '\\');
    uint64_t low = (x - ones * 0x20) & ~x & highs;
    return low || ((quote - ones) & ~quote & highs) || ((slash - ones) & ~slash & highs);
}

/* As core/json.c escapes: the quote, the backslash and control bytes; everything else as it is. */
static void s_pw_str(struct s_pw *w, const char *s) {
    if (!s) {
        s_pw_lit(w, "null");
        return;
    }
    s_pw_raw(w, "\"", 1);
    size_t len = strlen(s), i = 0, run = 0;
    while (i < len) {
        if (i + 8 <= len) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (!s_pw_word_special(x)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        s_pw_raw(w, s + run, i - run);
        char esc[8];
        switch (c) {
            case '"':
                s_pw_lit(w, "\\\"");
                break;
            case '\\':
                s_pw_lit(w, "\\\\");
                break;
            case '\n':
                s_pw_lit(w, "\\n");
                break;
            case '\r':
                s_pw_lit(w, "\\r");
                break;
            case '\t':
                s_pw_lit(w, "\\t");
                break;
            case '\b':
                s_pw_lit(w, "\\b");
                break;
            case '\f':
                s_pw_lit(w, "\\f");
                break;
            default:
                snprintf(esc, sizeof(esc), "\\u%04x", c);
                s_pw_lit(w, esc);
                break;
        }
        run = ++i;
    }
    s_pw_raw(w, s + run, len - run);
    s_pw_raw(w, "\"", 1);
}

static void s_pw_open(struct s_pw *w, char c) {
    s_pw_raw(w, &c, 1);
    if (w->depth + 1 >= (int)(sizeof(w->first) / sizeof(w->first[0]))) {
        if (!w->rc)
            w->rc = TM_ERR_TOO_BIG;
        return;
    }
    w->first[++w->depth] = true;
}

static void s_pw_close(struct s_pw *w, char c) {
    if (!w->first[w->depth])
        s_pw_newline(w, w->depth - 1);
    s_pw_raw(w, &c, 1);
    w->depth--;
}

/* The separator and indentation before an array item or an object key. */
static void s_pw_item(struct s_pw *w) {
    if (!w->first[w->depth])
        s_pw_raw(w, ",", 1);
    w->first[w->depth] = false;
    s_pw_newline(w, w->depth);
}

static void s_pw_key(struct s_pw *w, const char *key) {
    s_pw_item(w);
    s_pw_str(w, key);
    s_pw_raw(w, ": ", 2);
}

static void s_pw_kstr(struct s_pw *w, const char *key, const char *v) {
    s_pw_key(w, key);
    s_pw_str(w, v);
}

static void s_pw_kbool(struct s_pw *w, const char *key, bool v) {
    s_pw_key(w, key);
    s_pw_lit(w, v ? "true" : "false");
}

/* A statement document rendered once per answer: canonical, indented for where it is written (every document of
 * an answer sits at the same depth); NULL text when it is not a JSON object (then the words go to "text"). */
struct s_doc {
    const char *json;
    char *text;
};

struct s_docs {
    struct s_doc *items;
    size_t n, cap;
};

/* The canonical text at a depth: each line break of it is one of its own (strings hold theirs escaped), so
 * indenting is adding the depth after each. */
static char *s_indented(const char *text, int depth) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    const char *line = text;
    int rc = TM_OK;
    for (const char *p = text; *p && !rc; p++)
        if (*p == '\n') {
            rc = tm_buf_append(&b, line, (size_t)(p - line + 1));
            for (int i = 0; i < depth && !rc; i++)
                rc = tm_buf_append(&b, "  ", 2);
            line = p + 1;
        }
    if (!rc)
        rc = tm_buf_append_str(&b, line);
    if (rc) {
        tm_buf_clean_up(&b);
        return NULL;
    }
    return tm_buf_detach(&b);
}

static int s_doc_get(struct s_docs *d, const char *json, int depth, const char **text) {
    *text = NULL;
    if (!json || json[0] != '{')
        return TM_OK;
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].json == json) {
            *text = d->items[i].text;
            return TM_OK;
        }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct s_doc *n = realloc(d->items, cap * sizeof(*n));
        if (!n)
            return TM_ERR_NOMEM;
        d->items = n;
        d->cap = cap;
    }
    cJSON *doc = cJSON_Parse(json);
    char *t = NULL;
    if (doc) {
        char *flat = tm_json_print_canonical(doc, true);
        cJSON_Delete(doc);
        t = flat ? s_indented(flat, depth) : NULL;
        free(flat);
        if (!t)
            return TM_ERR_NOMEM;
    }
    d->items[d->n++] = (struct s_doc){json, t};
    *text = t;
    return TM_OK;
}

static void s_pw_statements(struct s_pw *w, struct s_docs *docs, const struct tm_query_statement *items, size_t n) {
    const struct tm_query_statement **sorted = s_sorted(items, n);
    if (!sorted) {
        if (!w->rc)
            w->rc = TM_ERR_NOMEM;
        return;
    }
    s_pw_open(w, '[');
    for (size_t i = 0; i < n && !w->rc; i++) {
        const struct tm_query_statement *s = sorted[i];
        const char *doc = NULL;
        /* The document is the value of a key of this statement's object, one level in. */
        if ((w->rc = s_doc_get(docs, s->json, w->depth + 1, &doc)))
            break;
        s_pw_item(w);
        s_pw_open(w, '{');
        s_pw_kstr(w, "detail", s->detail);
        s_pw_key(w, "document");
        if (doc)
            s_pw_lit(w, doc);
        else
            s_pw_lit(w, "null");
        s_pw_kstr(w, "effect", tm_iam_effect_name(s->effect));
        s_pw_kstr(w, "holder", s->holder);
        s_pw_kstr(w, "policy", s->policy);
        s_pw_kstr(w, "set", s_set_name(s->set));
        s_pw_kstr(w, "sid", s->sid);
        s_pw_key(w, "statement");
        if (s->statement >= 0) {
            char num[16];
            int len = snprintf(num, sizeof(num), "%d", (int)s->statement);
            s_pw_raw(w, num, (size_t)len);
        } else {
            s_pw_lit(w, "null");
        }
        s_pw_kstr(w, "text", doc ? NULL : s->json);
        s_pw_kstr(w, "what", s->what);
        s_pw_close(w, '}');
    }
    s_pw_close(w, ']');
    free(sorted);
}

static int s_who_json(struct tm_buf *out, const struct tm_graph *g, const struct tm_query_who *w) {
    const struct tm_graph_node *rn = tm_graph_node(g, w->resource_node);
    struct s_pw pw;
    pw.b = out;
    pw.rc = TM_OK;
    pw.depth = 0;
    pw.fill = 0;
    memset(pw.first, 0, sizeof(pw.first));
    struct s_docs docs = {0};
    s_pw_open(&pw, '{');
    s_pw_kstr(&pw, "action", w->action_asked);
    s_pw_key(&pw, "actions");
    s_pw_open(&pw, '[');
    for (size_t i = 0; i < w->n_actions; i++) {
        s_pw_item(&pw);
        s_pw_str(&pw, w->actions[i]);
    }
    s_pw_close(&pw, ']');
    s_pw_key(&pw, "principals");
    s_pw_open(&pw, '[');
    for (size_t i = 0; i < w->n_grantees && !pw.rc; i++) {
        const struct tm_query_grantee *gr = &w->grantees[i];
        const struct tm_graph_node *n = tm_graph_node(g, gr->node);
        s_pw_item(&pw);
        s_pw_open(&pw, '{');
        s_pw_key(&pw, "actions");
        s_pw_open(&pw, '[');
        for (size_t k = 0; k < gr->n_actions; k++) {
            s_pw_item(&pw);
            s_pw_str(&pw, gr->actions[k]);
        }
        s_pw_close(&pw, ']');
        s_pw_kbool(&pw, "conditional", gr->conditional);
        s_pw_kstr(&pw, "conditions", gr->conditions);
        s_pw_kstr(&pw, "id", n->id);
        s_pw_kbool(&pw, "in_snapshot", (n->flags & TM_GRAPH_NODE_IN_SNAPSHOT) != 0);
        s_pw_kstr(&pw, "kind", tm_graph_node_kind_name(n->kind));
        s_pw_key(&pw, "statements");
        s_pw_statements(&pw, &docs, gr->statements, gr->n_statements);
        s_pw_kstr(&pw, "type", n->type);
        s_pw_kbool(&pw, "unknown", gr->unknown);
        s_pw_close(&pw, '}');
    }
    s_pw_close(&pw, ']');
    s_pw_kstr(&pw, "question", "who-can");
    s_pw_key(&pw, "resource");
    s_pw_open(&pw, '{');
    s_pw_kstr(&pw, "asked", w->resource_asked);
    s_pw_kstr(&pw, "node", rn ? rn->id : NULL);
    s_pw_kbool(&pw, "policy_unknown", w->resource_policy_unknown);
    s_pw_kstr(&pw, "type", rn ? rn->type : NULL);
    s_pw_close(&pw, '}');
    s_pw_kstr(&pw, "schema", "tmscan.query/1");
    s_pw_close(&pw, '}');
    s_pw_raw(&pw, "\n", 1);
    s_pw_flush(&pw);
    for (size_t i = 0; i < docs.n; i++)
        free(docs.items[i].text);
    free(docs.items);
    return pw.rc;
}

int tm_query_who_write(struct tm_buf *out, const struct tm_query *q, const struct tm_query_who *w,
                       enum tm_query_format fmt) {
    if (!out || !q || !w)
        return TM_ERR_INVALID;
    const struct tm_graph *g = q->g;
    if (fmt == TM_QUERY_JSON)
        return s_who_json(out, g, w);
    struct s_out o = {out, TM_OK};
    char label[1024];
    s_printf(&o, "Who can %s on %s\n", w->action_asked, tm_blast_label(label, sizeof(label), g, w->resource_node));
    s_printf(&o, "  %s\n", w->resource_asked);
    if (w->n_actions > 1) {
        s_printf(&o, "  %zu actions:", w->n_actions);
        for (size_t i = 0; i < w->n_actions && i < 12; i++)
            s_printf(&o, " %s", w->actions[i]);
        if (w->n_actions > 12)
            s_printf(&o, " and %zu more", w->n_actions - 12);
        s_printf(&o, "\n");
    }
    if (w->resource_policy_unknown)
        s_printf(&o, "  UNKNOWN: its own policy could not be read: it may grant more than is listed here (to anyone, "
                     "to any AWS account, to other accounts)\n");
    if (!w->n_grantees) {
        s_printf(&o, "\nNobody: no principal of the snapshot and no entry point can.\n");
        return o.rc;
    }
    size_t unknown = 0;
    for (size_t i = 0; i < w->n_grantees; i++)
        unknown += w->grantees[i].unknown;
    s_printf(&o, "\n%zu can%s:\n", w->n_grantees - unknown, unknown ? "" : "");
    if (unknown)
        s_printf(&o, "(and %zu more perhaps: marked UNKNOWN, their policies could not be read)\n", unknown);
    for (size_t i = 0; i < w->n_grantees; i++) {
        const struct tm_query_grantee *gr = &w->grantees[i];
        const struct tm_graph_node *n = tm_graph_node(g, gr->node);
        tm_blast_label(label, sizeof(label), g, gr->node);
        s_printf(&o, "\n  %s%s%s", gr->unknown ? "UNKNOWN " : "", gr->conditional ? "CONDITIONAL " : "", label);
        if (gr->n_actions) {
            s_printf(&o, " —");
            for (size_t k = 0; k < gr->n_actions && k < 8; k++)
                s_printf(&o, " %s", gr->actions[k]);
            if (gr->n_actions > 8)
                s_printf(&o, " and %zu more", gr->n_actions - 8);
        }
        s_printf(&o, "\n");
        if (strcmp(label, n->id) != 0 && n->kind == TM_GRAPH_NODE_PRINCIPAL)
            s_printf(&o, "      %s\n", n->id);
        if (gr->conditional && gr->conditions)
            s_printf(&o, "      only if %s\n", gr->conditions);
        const struct tm_query_statement **sorted = s_sorted(gr->statements, gr->n_statements);
        if (!sorted)
            return TM_ERR_NOMEM;
        for (size_t k = 0; k < gr->n_statements; k++)
            s_text_statement(&o, g, sorted[k], "      ");
        free(sorted);
    }
    return o.rc;
}
