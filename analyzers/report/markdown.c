/* The Markdown threat model: what a developer reads. Scope, the doors into the account (entry points,
 * unrecognised first), the trust boundaries they cross, the paths, findings by severity with their
 * fixes, and what tmscan could not see. */
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
        if (rc_)                                                                                                       \
            return rc_;                                                                                                \
    } while (0)

/* Appends the parts one after the other, a NULL part as "(null)" (what "%s" printed): the per-finding and per-step
 * lines of a large report are millions of appends, and formatting them twice over (tm_buf_appendf measures, then
 * prints) cost more than writing them. */
static int s_cat_parts(struct tm_buf *out, const char *const *parts, size_t n) {
    for (size_t i = 0; i < n; i++)
        TRY(tm_buf_append_str(out, parts[i] ? parts[i] : "(null)"));
    return TM_OK;
}

#define CAT(out, ...)                                                                                                  \
    s_cat_parts(out, (const char *const[]){__VA_ARGS__},                                                               \
                sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Table cells: pipes and newlines would break the row. */
static int s_cell(struct tm_buf *out, const char *s) {
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '|')
            TRY(tm_buf_append_str(out, "\\|"));
        else if (*p == '\n' || *p == '\r')
            TRY(tm_buf_append_char(out, ' '));
        else
            TRY(tm_buf_append_char(out, *p));
    }
    return TM_OK;
}

static int s_list(struct tm_buf *out, const cJSON *arr) {
    bool first = true;
    for (const cJSON *v = arr ? arr->child : NULL; v; v = v->next) {
        if (!cJSON_IsString(v))
            continue;
        TRY(tm_buf_appendf(out, "%s`%s`", first ? "" : ", ", v->valuestring));
        first = false;
    }
    return first ? tm_buf_append_str(out, "(none)") : TM_OK;
}

static const char *s_entry_words(const char *entry) {
    if (!entry)
        return "inside the account";
    if (strcmp(entry, "internet") == 0)
        return "anyone on the internet";
    if (strcmp(entry, "any-aws-account") == 0)
        return "anyone with an AWS account";
    return entry;
}

static int s_scope(struct tm_buf *out, const struct tm_report_input *in) {
    cJSON *scope = in->snap ? tm_snapshot_scope(in->snap) : NULL;
    const char *provider = tm_json_str(scope, "provider", "aws");
    TRY(tm_buf_appendf(out, "# Threat model: %s ", strcmp(provider, "aws") == 0 ? "AWS" : provider));
    TRY(s_list(out, cJSON_GetObjectItemCaseSensitive(scope, "accounts")));
    TRY(tm_buf_append_str(out, "\n\n## Scope\n\n- Accounts: "));
    TRY(s_list(out, cJSON_GetObjectItemCaseSensitive(scope, "accounts")));
    TRY(tm_buf_append_str(out, "\n- Regions: "));
    TRY(s_list(out, cJSON_GetObjectItemCaseSensitive(scope, "regions")));
    TRY(tm_buf_append_str(out, "\n- Services: "));
    TRY(s_list(out, cJSON_GetObjectItemCaseSensitive(scope, "services")));
    const cJSON *caller = cJSON_GetObjectItemCaseSensitive(scope, "caller");
    if (caller)
        TRY(tm_buf_appendf(out, "\n- Scanned as: `%s`", tm_json_str(caller, "arn", "?")));
    if (in->policy_name)
        TRY(tm_buf_appendf(out, "\n- Recognised exposure declared in: `%s`", in->policy_name));
    else
        TRY(tm_buf_append_str(out, "\n- Recognised exposure: no policy file, so every entry point counts as new"));
    return tm_buf_append_str(out, "\n");
}

static int s_summary(struct tm_buf *out, const struct tm_report_input *in) {
    struct tm_report_counts c;
    tm_report_count(in, &c);
    TRY(tm_buf_appendf(out,
                       "\n## Summary\n\n%zu resource%s read, %zu finding%s: %zu new, %zu recognised, %zu "
                       "suppressed.\n\n",
                       c.resources, c.resources == 1 ? "" : "s", c.total, c.total == 1 ? "" : "s",
                       c.by_status[TM_STATUS_NEW], c.by_status[TM_STATUS_RECOGNISED],
                       c.by_status[TM_STATUS_SUPPRESSED]));
    TRY(tm_buf_append_str(out, "| New findings | critical | high | medium | low | info |\n"
                               "| --- | --- | --- | --- | --- | --- |\n| count "));
    for (int s = TM_SEV_CRITICAL; s >= TM_SEV_INFO; s--)
        TRY(tm_buf_appendf(out, "| %zu ", c.by_severity[s]));
    TRY(tm_buf_append_str(out, "|\n"));
    if (c.coverage_gaps)
        TRY(tm_buf_appendf(out,
                           "\n**The scan is incomplete**: %zu calls failed, so some facts are unknown "
                           "(see Coverage gaps). An unknown fact is never assumed to be private.\n",
                           c.coverage_gaps));
    return TM_OK;
}

static int s_actions(struct tm_buf *out, const struct tm_path_step *s) {
    for (size_t i = 0; i < s->n_actions; i++)
        TRY(CAT(out, i ? ", " : "", "`", s->actions[i], "`"));
    return TM_OK;
}

static int s_entry_points(struct tm_buf *out, const struct tm_report_input *in) {
    TRY(tm_buf_append_str(out, "\n## Entry points\n\nDoors into the account from outside it, unrecognised first.\n\n"
                               "| Status | Severity | From | Resource | How | Finding |\n"
                               "| --- | --- | --- | --- | --- | --- |\n"));
    size_t n = 0;
    for (size_t i = 0; in->findings && i < in->findings->count; i++) {
        const struct tm_finding *f = in->findings->items[i];
        if (!f->entry)
            continue;
        n++;
        TRY(CAT(out, "| ", tm_finding_status_str(f->status), " | ", tm_severity_str(f->severity), " | ",
                s_entry_words(f->entry), " | `"));
        TRY(s_cell(out, f->resource));
        TRY(tm_buf_append_str(out, "` | "));
        if (f->path_len) {
            TRY(s_cell(out, f->path[0].kind));
            if (f->path[0].n_actions) {
                TRY(tm_buf_append_str(out, ": "));
                TRY(s_actions(out, &f->path[0]));
            }
        }
        TRY(CAT(out, " | `", f->id, "` |\n"));
    }
    if (!n)
        TRY(tm_buf_append_str(out, "| | | | no entry point found | | |\n"));
    return TM_OK;
}

/* The findings from one external account: its first finding and how many there are. */
struct s_account {
    const char *entry;
    size_t first, n;
};

static int s_cmp_entry_at(const void *pa, const void *pb, void *user_data) {
    const struct tm_findings *l = user_data;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    int c = strcmp(l->items[a]->entry, l->items[b]->entry);
    return c ? c : (a > b) - (a < b);
}

static int s_cmp_first(const void *pa, const void *pb) {
    const struct s_account *a = pa, *b = pb;
    return (a->first > b->first) - (a->first < b->first);
}

/* The external accounts with entry points, each once, in the order of their first finding: grouped by sorting the
 * findings by account (thousands of findings from a few accounts). *out is the caller's to free. */
static int s_accounts(const struct tm_findings *l, struct s_account **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    size_t m = 0;
    for (size_t i = 0; l && i < l->count; i++)
        m += l->items[i]->entry && strncmp(l->items[i]->entry, "account:", 8) == 0;
    if (!m)
        return TM_OK;
    size_t *at = malloc(m * sizeof(*at));
    struct s_account *acc = malloc(m * sizeof(*acc));
    if (!at || !acc) {
        free(at);
        free(acc);
        return TM_ERR_NOMEM;
    }
    m = 0;
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i]->entry && strncmp(l->items[i]->entry, "account:", 8) == 0)
            at[m++] = i;
    qsort_r(at, m, sizeof(*at), s_cmp_entry_at, (void *)l);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && strcmp(acc[k - 1].entry, l->items[at[i]]->entry) == 0) {
            acc[k - 1].n++;
            continue;
        }
        acc[k++] = (struct s_account){l->items[at[i]]->entry, at[i], 1};
    }
    qsort(acc, k, sizeof(*acc), s_cmp_first);
    free(at);
    *out = acc;
    *n_out = k;
    return TM_OK;
}

/* Trust boundaries: who outside the account reaches something inside it. */
static int s_boundaries(struct tm_buf *out, const struct tm_report_input *in) {
    TRY(tm_buf_append_str(out, "\n## Trust boundaries\n\n"));
    static const char *const fixed[] = {"internet", "any-aws-account"};
    bool any = false;
    for (size_t k = 0; k < 2; k++) {
        size_t n = 0;
        for (size_t i = 0; in->findings && i < in->findings->count; i++)
            n += in->findings->items[i]->entry && strcmp(in->findings->items[i]->entry, fixed[k]) == 0;
        if (n) {
            TRY(tm_buf_appendf(out, "- **%s → account**: %zu entry point%s\n", s_entry_words(fixed[k]), n,
                               n == 1 ? "" : "s"));
            any = true;
        }
    }
    /* External accounts, each once, in finding order (already deterministic). */
    struct s_account *acc = NULL;
    size_t n_acc = 0;
    TRY(s_accounts(in->findings, &acc, &n_acc));
    int rc = TM_OK;
    for (size_t i = 0; i < n_acc && !rc; i++)
        rc = tm_buf_appendf(out, "- **external account %s → account**: %zu entry point%s\n", acc[i].entry + 8, acc[i].n,
                            acc[i].n == 1 ? "" : "s");
    any = any || n_acc;
    free(acc);
    if (rc)
        return rc;
    if (!any)
        TRY(tm_buf_append_str(out, "No path crosses into the account from outside.\n"));
    return TM_OK;
}

static int s_path(struct tm_buf *out, const struct tm_finding *f) {
    if (!f->path_len)
        return TM_OK;
    TRY(tm_buf_append_str(out, "\n**Path**\n\n"));
    for (size_t i = 0; i < f->path_len; i++) {
        const struct tm_path_step *s = &f->path[i];
        char num[32];
        snprintf(num, sizeof(num), "%zu", i + 1);
        TRY(CAT(out, num, ". `", s->from, "` **", s->kind, "** `", s->to, "`"));
        if (s->n_actions) {
            TRY(tm_buf_append_str(out, " (")); /* actions */
            TRY(s_actions(out, s));
            TRY(tm_buf_append_str(out, ")"));
        }
        if (s->evidence)
            TRY(CAT(out, ": ", s->evidence));
        if (s->unknown)
            TRY(tm_buf_append_str(out, " *(unknown: tmscan could not read this fact, so it assumes the worst)*"));
        TRY(tm_buf_append_char(out, '\n'));
    }
    if (f->list_all)
        TRY(tm_buf_appendf(
            out,
            "\nThe path shows %zu of the %zu crown jewels it reaches, the most sensitive first; %zu more "
            "are not listed: `%s` lists them all.\n",
            f->reaches_listed, f->reaches, f->reaches - f->reaches_listed, f->list_all));
    return TM_OK;
}

static int s_findings(struct tm_report_out *o, const struct tm_report_input *in) {
    struct tm_buf *out = o->b;
    TRY(tm_buf_append_str(out, "\n## Findings\n"));
    if (!in->findings || !in->findings->count)
        return tm_buf_append_str(out, "\nNo findings.\n");
    for (size_t i = 0; i < in->findings->count; i++) {
        TRY(tm_report_out_flush(o, TM_REPORT_PIECE_BYTES));
        const struct tm_finding *f = in->findings->items[i];
        TRY(CAT(out, "\n### [", tm_severity_str(f->severity), "] ", f->title ? f->title : f->rule, "\n\n"));
        TRY(CAT(out, "- Rule: `", f->rule, "` (", f->category ? f->category : "", "), id `", f->id, "`, status **",
                tm_finding_status_str(f->status), "**\n"));
        TRY(CAT(out, "- Resource: `", f->resource ? f->resource : "", "`\n"));
        if (f->entry)
            TRY(CAT(out, "- Reachable by: ", s_entry_words(f->entry), "\n"));
        if (f->status == TM_STATUS_RECOGNISED)
            TRY(tm_buf_appendf(out, "- Recognised by %s: %s%s%s\n", f->recognised_owner ? f->recognised_owner : "?",
                               f->recognised_reason ? f->recognised_reason : "",
                               f->recognised_expires ? ", until " : "",
                               f->recognised_expires ? f->recognised_expires : ""));
        if (f->n_stride) {
            TRY(tm_buf_append_str(out, "- STRIDE: "));
            for (size_t k = 0; k < f->n_stride; k++)
                TRY(CAT(out, k ? ", " : "", f->stride[k]));
            TRY(tm_buf_append_char(out, '\n'));
        }
        if (f->n_attack) {
            TRY(tm_buf_append_str(out, "- MITRE ATT&CK: "));
            for (size_t k = 0; k < f->n_attack; k++)
                TRY(CAT(out, k ? ", " : "", f->attack[k]));
            TRY(tm_buf_append_char(out, '\n'));
        }
        if (f->explanation)
            TRY(CAT(out, "\n", f->explanation, "\n"));
        TRY(s_path(out, f));
        if (f->fix)
            TRY(CAT(out, "\n**Fix**: ", f->fix, "\n"));
    }
    return TM_OK;
}

static int s_gaps(struct tm_buf *out, const struct tm_report_input *in) {
    TRY(tm_buf_append_str(out, "\n## Coverage gaps\n\n"));
    cJSON *errors = in->snap ? tm_snapshot_errors(in->snap) : NULL;
    if (!errors || !errors->child)
        return tm_buf_append_str(out, "None: every call succeeded.\n");
    TRY(tm_buf_append_str(out, "Calls that failed. What they would have told tmscan is unknown.\n\n"
                               "| Service | Operation | Region | Resource | Error | Attempts |\n"
                               "| --- | --- | --- | --- | --- | --- |\n"));
    for (const cJSON *e = errors->child; e; e = e->next) {
        TRY(tm_buf_append_str(out, "| "));
        TRY(s_cell(out, tm_json_str(e, "service", "")));
        TRY(tm_buf_append_str(out, " | "));
        TRY(s_cell(out, tm_json_str(e, "operation", "")));
        TRY(tm_buf_append_str(out, " | "));
        TRY(s_cell(out, tm_json_str(e, "region", "")));
        TRY(tm_buf_append_str(out, " | "));
        TRY(s_cell(out, tm_json_str(e, "resource", "")));
        TRY(tm_buf_append_str(out, " | "));
        TRY(s_cell(out, tm_json_str(e, "code", "")));
        TRY(tm_buf_append_str(out, ": "));
        TRY(s_cell(out, tm_json_str(e, "message", "")));
        TRY(tm_buf_appendf(out, " | %d |\n", (int)tm_json_num(e, "attempts", 1)));
    }
    return TM_OK;
}

static int s_write(struct tm_report_out *o, const struct tm_report_input *in) {
    struct tm_buf *out = o->b;
    TRY(s_scope(out, in));
    TRY(s_summary(out, in));
    TRY(s_entry_points(out, in));
    TRY(s_boundaries(out, in));
    TRY(s_findings(o, in));
    TRY(s_gaps(out, in));
    TRY(tm_buf_appendf(out, "\n---\nGenerated by tmscan %s.\n", TM_VERSION));
    return tm_report_out_flush(o, 0);
}

int tm_report_write_markdown(struct tm_buf *out, const struct tm_report_input *in) {
    return tm_report_out_write(out, in, s_write);
}

/* Written to the sink a piece at a time, as the JSON report is: the Markdown of 100,000 resources runs to tens of
 * megabytes, and a buffer that size is memory touched for nothing. */
int tm_report_stream_markdown(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data) {
    return tm_report_out_stream(in, sink, user_data, s_write);
}
