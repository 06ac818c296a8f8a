/* Rule metadata (policies/rules.json): the id, category, default severity, plain-language title and
 * description, fix, STRIDE categories and ATT&CK techniques of every rule an analyzer can raise.
 * Reports use it to describe rules (SARIF's driver.rules); analyzers use it to fill findings. */
#ifndef TM_ANALYZERS_RULES_H
#define TM_ANALYZERS_RULES_H

#include <stddef.h>

#include "analyzers/findings.h"
#include "core/error.h"

struct tm_rule {
    char *id;
    char *category;
    enum tm_severity severity;
    char *title;
    char *description;
    char *fix;
    char **stride;
    size_t n_stride;
    char **attack;
    size_t n_attack;
};

struct tm_rules {
    struct tm_rule *items; /* sorted by id */
    size_t count;
};

/* Errors name the file and the JSON path ("rules.json: rules[3].severity: ..."). */
TM_MUST_CHECK int tm_rules_load(struct tm_rules **out, const char *path, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm_rules_parse(struct tm_rules **out, const char *text, size_t len, const char *source, char *errmsg,
                                 size_t errmsg_len);
void tm_rules_destroy(struct tm_rules *rules);

const struct tm_rule *tm_rules_find(const struct tm_rules *rules, const char *id);

/* Fills rule, category, severity, STRIDE and ATT&CK of f from the rule `id`; title, explanation and
 * fix from the rule too unless f already has them. TM_ERR_NOT_FOUND for an unknown rule (a
 * programming error the tests catch: every rule an analyzer raises must be in the catalogue). */
TM_MUST_CHECK int tm_rules_apply(const struct tm_rules *rules, const char *id, struct tm_finding *f);

#endif
