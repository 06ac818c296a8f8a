/* The JSON report: summary, scope and every finding (docs/findings.md). */
#include "analyzers/report/report.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static cJSON *s_summary(const struct tm_report_input *in) {
    struct tm_report_counts c;
    tm_report_count(in, &c);
    cJSON *s = cJSON_CreateObject();
    cJSON *sev = cJSON_AddObjectToObject(s, "new_by_severity");
    cJSON *st = cJSON_AddObjectToObject(s, "by_status");
    if (!sev || !st)
        goto fail;
    for (int i = TM_SEV_CRITICAL; i >= TM_SEV_INFO; i--)
        if (!cJSON_AddNumberToObject(sev, tm_severity_str((enum tm_severity)i), (double)c.by_severity[i]))
            goto fail;
    for (int i = 0; i < 3; i++)
        if (!cJSON_AddNumberToObject(st, tm_finding_status_str((enum tm_finding_status)i), (double)c.by_status[i]))
            goto fail;
    if (!cJSON_AddNumberToObject(s, "findings", (double)c.total) ||
        !cJSON_AddNumberToObject(s, "resources", (double)c.resources) ||
        !cJSON_AddNumberToObject(s, "coverage_gaps", (double)c.coverage_gaps) ||
        !cJSON_AddBoolToObject(s, "complete", c.coverage_gaps == 0))
        goto fail;
    return s;
fail:
    cJSON_Delete(s);
    return NULL;
}

/* The report's members other than the findings, in a tree (small); "findings" holds an empty array that
 * marks where the findings go. */
static cJSON *s_head(const struct tm_report_input *in) {
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    if (!cJSON_AddStringToObject(root, "schema", "tmscan.report/1") || !tool ||
        !cJSON_AddStringToObject(tool, "name", "tmscan") || !cJSON_AddStringToObject(tool, "version", TM_VERSION))
        goto fail;
    if (in->snap) {
        cJSON *scope = cJSON_Duplicate(tm_snapshot_scope(in->snap), true);
        if (!scope || !cJSON_AddItemToObject(root, "scope", scope)) {
            cJSON_Delete(scope);
            goto fail;
        }
    }
    if ((in->policy_name && !cJSON_AddStringToObject(root, "policy_file", in->policy_name)) ||
        (!in->policy_name && !cJSON_AddNullToObject(root, "policy_file")))
        goto fail;
    cJSON *summary = s_summary(in);
    if (!summary || !cJSON_AddItemToObject(root, "summary", summary)) {
        cJSON_Delete(summary);
        goto fail;
    }
    if (!cJSON_AddArrayToObject(root, "findings"))
        goto fail;
    tm_json_sort_keys(root);
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* The findings array, one finding after the other straight into the buffer (no tree of every finding: at
 * 100,000 resources their paths print to more than 100 MB). */
static int s_findings(struct tm_report_out *o, const struct tm_report_input *in) {
    struct tm_buf *out = o->b;
    size_t n = in->findings ? in->findings->count : 0;
    if (!n)
        return tm_buf_append_str(out, "[]");
    int rc = tm_buf_append_char(out, '[');
    for (size_t i = 0; i < n && !rc; i++) {
        rc = tm_buf_append_str(out, "\n    ");
        if (!rc)
            rc = tm_finding_append_json(out, in->findings->items[i], 2);
        if (!rc && i + 1 < n)
            rc = tm_buf_append_char(out, ',');
        if (!rc)
            rc = tm_report_out_flush(o, TM_REPORT_PIECE_BYTES);
    }
    return rc ? rc : tm_buf_append_str(out, "\n  ]");
}

static int s_write(struct tm_report_out *o, const struct tm_report_input *in) {
    cJSON *root = s_head(in);
    if (!root)
        return TM_ERR_NOMEM;
    struct tm_buf *out = o->b;
    /* Members in key order (as tm_json_print_canonical writes them), the findings in their sorted order. */
    int rc = tm_buf_append_char(out, '{');
    for (cJSON *c = root->child; c && !rc; c = c->next) {
        rc = tm_buf_append_str(out, "\n  ");
        if (!rc)
            rc = tm_json_append_string(out, c->string);
        if (!rc)
            rc = tm_buf_append_str(out, ": ");
        if (!rc)
            rc = strcmp(c->string, "findings") == 0 ? s_findings(o, in) : tm_json_append_canonical(out, c, true, 1);
        if (!rc && c->next)
            rc = tm_buf_append_char(out, ',');
    }
    if (!rc)
        rc = tm_buf_append_str(out, "\n}\n");
    if (!rc)
        rc = tm_report_out_flush(o, 0);
    cJSON_Delete(root);
    return rc;
}

int tm_report_write_json(struct tm_buf *out, const struct tm_report_input *in) {
    return tm_report_out_write(out, in, s_write);
}

int tm_report_stream_json(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data) {
    return tm_report_out_stream(in, sink, user_data, s_write);
}
