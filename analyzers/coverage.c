/* Coverage gaps: every call that failed is a place where an exposure could hide. */
#include "analyzers/analyze.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* A listing that failed hides a whole service in a region; that is worse than one resource's fact. */
static bool s_is_listing(const cJSON *e) {
    return !cJSON_GetObjectItemCaseSensitive(e, "resource");
}

int tm_analyze_coverage(struct tm_analysis *analysis, struct tm_findings *out) {
    cJSON *errors = tm_snapshot_errors(analysis->snap);
    for (const cJSON *e = errors ? errors->child : NULL; e; e = e->next) {
        const char *service = tm_json_str(e, "service", "?"), *op = tm_json_str(e, "operation", "?");
        const char *region = tm_json_str(e, "region", "global"), *code = tm_json_str(e, "code", "?");
        const char *msg = tm_json_str(e, "message", "");
        char where[512];
        const char *resource = tm_json_str(e, "resource", NULL);
        if (!resource) {
            snprintf(where, sizeof(where), "aws:%s:%s:%s", service, region, op);
            resource = where;
        }
        struct tm_finding *f = NULL;
        int rc = tm_findings_add(out, &f);
        if (rc)
            return rc;
        if ((rc = tm_finding_set(f, "coverage-gap", "coverage-gap", TM_SEV_MEDIUM, resource, NULL)) ||
            (rc = tm_rules_apply(analysis->rules, "coverage-gap", f)))
            goto fail;
        if (s_is_listing(e))
            f->severity = TM_SEV_HIGH;
        char title[512], expl[1024];
        snprintf(title, sizeof(title), "Could not read %s %s in %s (%s)", service, op, region, code);
        snprintf(expl, sizeof(expl), "The call %s:%s%s%s failed with %s: %s (after %d attempt%s). %s", service, op,
                 s_is_listing(e) ? "" : " for ", s_is_listing(e) ? "" : resource, code, msg,
                 (int)tm_json_num(e, "attempts", 1), tm_json_num(e, "attempts", 1) == 1 ? "" : "s",
                 s_is_listing(e) ? "Every resource this listing would have returned is missing from the threat model."
                                 : "What it would have said is unknown; tmscan does not assume it is private.");
        free(f->title);
        free(f->explanation);
        f->title = NULL;
        f->explanation = NULL;
        if ((rc = tm_finding_set_text(f, title, expl, f->fix)) || (rc = tm_finding_compute_id(f)))
            goto fail;
        continue;
    fail:
        snprintf(analysis->errmsg, sizeof(analysis->errmsg), "coverage analyzer: %s", tm_error_str(rc));
        return rc;
    }
    return TM_OK;
}
