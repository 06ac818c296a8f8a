/* The JSON report: summary, scope and every finding (docs/findings.md). */
#include "analyzers/report/report.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

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

int tm_report_write_json(struct tm_buf *out, const struct tm_report_input *in) {
    int rc = TM_ERR_NOMEM;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return rc;
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    if (!cJSON_AddStringToObject(root, "schema", "tmscan.report/1") || !tool ||
        !cJSON_AddStringToObject(tool, "name", "tmscan") || !cJSON_AddStringToObject(tool, "version", TM_VERSION))
        goto out;
    if (in->snap) {
        cJSON *scope = cJSON_Duplicate(tm_snapshot_scope(in->snap), true);
        if (!scope || !cJSON_AddItemToObject(root, "scope", scope)) {
            cJSON_Delete(scope);
            goto out;
        }
    }
    if ((in->policy_name && !cJSON_AddStringToObject(root, "policy_file", in->policy_name)) ||
        (!in->policy_name && !cJSON_AddNullToObject(root, "policy_file")))
        goto out;
    cJSON *summary = s_summary(in);
    if (!summary || !cJSON_AddItemToObject(root, "summary", summary)) {
        cJSON_Delete(summary);
        goto out;
    }
    cJSON *arr = cJSON_AddArrayToObject(root, "findings");
    if (!arr)
        goto out;
    for (size_t i = 0; in->findings && i < in->findings->count; i++) {
        cJSON *f = tm_finding_to_json(in->findings->items[i]);
        if (!f || !cJSON_AddItemToArray(arr, f)) {
            cJSON_Delete(f);
            goto out;
        }
    }
    /* Findings keep their sorted order; only object keys are canonicalised. */
    char *text = tm_json_print_canonical(root, true);
    if (!text)
        goto out;
    rc = tm_buf_append_str(out, text);
    if (!rc)
        rc = tm_buf_append_char(out, '\n');
    free(text);
out:
    cJSON_Delete(root);
    return rc;
}
