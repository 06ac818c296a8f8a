/* The user's policy file (`--policy FILE`, default tmscan.policy.json): entry points the team expects
 * ("recognised", with owner, reason and optional expiry) and findings it mutes ("suppressed").
 * Schema: policies/recognised.schema.md. Applying it is pure: today's date is an input. */
#ifndef TM_ANALYZERS_RECOGNISED_H
#define TM_ANALYZERS_RECOGNISED_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/findings.h"
#include "core/error.h"

struct tm_recognised_entry {
    char *resource; /* ARN or pattern with * and ? */
    char *from;     /* "internet", "any-aws-account", "account:999999999999", "*" */
    char *owner;
    char *reason;
    char *expires; /* "YYYY-MM-DD" or NULL */
    int line;      /* where it stands in the file */
};

struct tm_suppressed_entry {
    char *rule;     /* rule id or pattern; "*" for any */
    char *resource; /* ARN or pattern */
    char *reason;
    int line;
};

struct tm_recognised {
    char *source;
    struct tm_recognised_entry *recognised;
    size_t n_recognised;
    struct tm_suppressed_entry *suppressed;
    size_t n_suppressed;
};

/* Errors read "FILE:LINE: recognised[2].from: ..." */
TM_MUST_CHECK int tm_recognised_load(struct tm_recognised **out, const char *path, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm_recognised_parse(struct tm_recognised **out, const char *text, size_t len, const char *source,
                                      char *errmsg, size_t errmsg_len);
void tm_recognised_destroy(struct tm_recognised *rec);

/* True when pattern (with * for any run and ? for one character) matches s in full. */
bool tm_recognised_glob(const char *pattern, const char *s);

/* The first entry matching an entry point (resource reached from `from`), or NULL. *expired tells
 * whether that entry's expiry date is before today (YYYY-MM-DD); an expired entry no longer recognises. */
const struct tm_recognised_entry *tm_recognised_match(const struct tm_recognised *rec, const char *resource,
                                                      const char *from, const char *today, bool *expired);

/* Sets the status of every finding with an entry point: recognised (owner/reason copied in) when a live
 * entry matches, suppressed when a suppressed entry matches its rule and resource, new otherwise.
 * Returns the number of expired entries that matched in *n_expired (may be NULL). */
TM_MUST_CHECK int tm_recognised_apply(const struct tm_recognised *rec, struct tm_findings *findings, const char *today,
                                      size_t *n_expired);

/* Checks a YYYY-MM-DD date (a real calendar date). */
bool tm_recognised_valid_date(const char *s);

#endif
