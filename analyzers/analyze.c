#include "analyzers/analyze.h"

#include <stdio.h>

static const struct tm_analyzer s_coverage = {"coverage", tm_analyze_coverage};

const struct tm_analyzer *const tm_analyzers[] = {
    &s_coverage,
    NULL,
};

int tm_analyze(struct tm_analysis *analysis, struct tm_findings *out) {
    for (size_t i = 0; tm_analyzers[i]; i++) {
        int rc = tm_analyzers[i]->run(analysis, out);
        if (rc) {
            if (!analysis->errmsg[0])
                snprintf(analysis->errmsg, sizeof(analysis->errmsg), "%s analyzer: %s", tm_analyzers[i]->name,
                         tm_error_str(rc));
            return rc;
        }
    }
    tm_findings_sort(out);
    return TM_OK;
}
