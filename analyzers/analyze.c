#include "analyzers/analyze.h"

#include <stdio.h>

#include "analyzers/graph.h"

static const struct tm_analyzer s_coverage = {"coverage", tm_analyze_coverage};
static const struct tm_analyzer s_exposure = {"exposure", tm_analyze_exposure};
static const struct tm_analyzer s_tokens = {"token-abuse", tm_analyze_tokens};
static const struct tm_analyzer s_privesc = {"privilege-escalation", tm_analyze_privesc};

const struct tm_analyzer *const tm_analyzers[] = {
    &s_coverage, &s_exposure, &s_tokens, &s_privesc, NULL,
};

int tm_analyze(struct tm_analysis *analysis, struct tm_findings *out) {
    struct tm_graph *built = NULL;
    int rc = TM_OK;
    if (!analysis->graph && analysis->actions) {
        struct tm_graph_options o = {.actions = analysis->actions, .privesc = analysis->privesc};
        if ((rc = tm_graph_build(&built, analysis->snap, &o, analysis->errmsg, sizeof(analysis->errmsg))))
            return rc;
        analysis->graph = built;
    }
    for (size_t i = 0; tm_analyzers[i]; i++) {
        rc = tm_analyzers[i]->run(analysis, out);
        if (rc) {
            if (!analysis->errmsg[0])
                snprintf(analysis->errmsg, sizeof(analysis->errmsg), "%s analyzer: %s", tm_analyzers[i]->name,
                         tm_error_str(rc));
            goto out;
        }
    }
    tm_findings_sort(out);
out:
    if (built) {
        tm_graph_destroy(built);
        analysis->graph = NULL;
    }
    return rc;
}
