/* Findings: what the analyzers conclude, in a form every report format writes (DESIGN.md "Findings").
 *
 * A finding has a stable id (a hash of its rule, its resource and the nodes of its path, never of its
 * wording), so the same exposure keeps the same id across scans and tmscan versions that reword it. */
#ifndef TM_ANALYZERS_FINDINGS_H
#define TM_ANALYZERS_FINDINGS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

enum tm_severity {
    TM_SEV_INFO = 0,
    TM_SEV_LOW = 1,
    TM_SEV_MEDIUM = 2,
    TM_SEV_HIGH = 3,
    TM_SEV_CRITICAL = 4,
};

const char *tm_severity_str(enum tm_severity sev);
/* Parses "critical", "high", ... (case-insensitive); TM_ERR_INVALID otherwise. */
TM_MUST_CHECK int tm_severity_parse(const char *s, enum tm_severity *out);

enum tm_finding_status {
    TM_STATUS_NEW = 0,        /* nobody declared it */
    TM_STATUS_RECOGNISED = 1, /* declared in the user's policy file (and not expired) */
    TM_STATUS_SUPPRESSED = 2, /* muted by the user */
};

const char *tm_finding_status_str(enum tm_finding_status st);

/* A path that fans out to crown jewels (a role reachable from outside, stolen credentials) lists at most this many
 * of them, the most sensitive first, and counts the rest (docs/findings.md): a finding stays readable, and a report
 * grows with the account, not with its square. The id is the one the whole path gives. */
#define TM_FINDING_REACH_LISTED_MAX 25

/* One step of a path: from a node to a node, with what allows it. */
struct tm_path_step {
    char *from;     /* node id: ARN, or a pseudo-principal: "internet", "any-aws-account", "account:999999999999" */
    char *to;       /* node id */
    char *kind;     /* edge kind: can-invoke, can-read, can-write, can-assume, can-pass, holds-token-of, ... */
    char **actions; /* e.g. "s3:GetObject"; may be empty */
    size_t n_actions;
    char *evidence; /* where it comes from, e.g. "bucket policy statement 0 (Sid PublicRead)"; may be NULL */
    bool unknown;   /* the edge exists because a fact could not be read */
    void *storage;  /* one allocation holding the strings above and the actions array (freed as one) */
};

struct tm_finding {
    char id[17];    /* 16 lower-case hex characters */
    char *rule;     /* e.g. "aws-s3-public-policy" */
    char *category; /* public-exposure, cross-account, privilege-escalation, token-abuse, coverage-gap, ... */
    enum tm_severity severity;
    enum tm_finding_status status;
    char *resource;    /* the exposed resource, escalating principal, or compute whose token is abused */
    char *entry;       /* the pseudo-principal or external account it is reachable from, or NULL */
    char *title;       /* plain words, one line */
    char *explanation; /* plain words for a developer, no jargon */
    char *fix;         /* concrete: which statement, which setting */
    char **stride;     /* STRIDE categories: "Spoofing", "Tampering", "Repudiation", "Information disclosure",
                          "Denial of service", "Elevation of privilege" */
    size_t n_stride;
    char **attack; /* MITRE ATT&CK technique ids, e.g. "T1530" */
    size_t n_attack;
    struct tm_path_step *path;
    size_t path_len;
    /* Set when status is recognised: who declared it and why. */
    char *recognised_owner;
    char *recognised_reason;
    char *recognised_expires;
    /* For a path that fans out to crown jewels: how many it leads to (the administrator counting as one), how many
     * of them `path` lists, and, when some are left out, the command that lists them all. reaches 0: the finding
     * does not fan out. */
    size_t reaches;
    size_t reaches_listed;
    char *list_all;
    /* Allocated steps, and an index of the steps by (from, to, kind) for tm_finding_has_step (open addressing:
     * 1 + step position, 0 empty), kept once a path grows long: paths to many jewels share their beginning
     * and are de-duplicated step by step. */
    size_t path_alloc;
    uint32_t *step_index;
    size_t step_index_cap;
};

struct tm_findings {
    struct tm_finding **items;
    size_t count;
    size_t alloc;
};

void tm_findings_init(struct tm_findings *list);
void tm_findings_clean_up(struct tm_findings *list);

/* Creates an empty finding owned by the list; fill it with the setters below. */
TM_MUST_CHECK int tm_findings_add(struct tm_findings *list, struct tm_finding **out);

/* Setters copy their arguments. */
TM_MUST_CHECK int tm_finding_set(struct tm_finding *f, const char *rule, const char *category, enum tm_severity sev,
                                 const char *resource, const char *entry);
TM_MUST_CHECK int tm_finding_set_text(struct tm_finding *f, const char *title, const char *explanation,
                                      const char *fix);
TM_MUST_CHECK int tm_finding_add_stride(struct tm_finding *f, const char *category);
TM_MUST_CHECK int tm_finding_add_attack(struct tm_finding *f, const char *technique);
/* Appends a step; actions may be NULL when n_actions is 0. */
TM_MUST_CHECK int tm_finding_add_step(struct tm_finding *f, const char *from, const char *to, const char *kind,
                                      const char *const *actions, size_t n_actions, const char *evidence, bool unknown);

/* Whether the path holds a step from `from` to `to` of this kind (constant time on long paths). */
bool tm_finding_has_step(const struct tm_finding *f, const char *from, const char *to, const char *kind);

/* Sets what the path fans out to (struct tm_finding: reaches); list_all may be NULL. */
TM_MUST_CHECK int tm_finding_set_reach(struct tm_finding *f, size_t reaches, size_t listed, const char *list_all);

/* Computes f->id from rule, resource, entry and the path's node ids (call after the path is complete). */
TM_MUST_CHECK int tm_finding_compute_id(struct tm_finding *f);

/* The whole path of a finding that lists only part of it: its steps by reference (the strings must outlive it),
 * each once (as tm_finding_add_step's callers keep them), in order. The finding's id is taken from it, so listing
 * less never changes the id. */
struct tm_path_ident {
    const char **ends; /* from, to, kind of each step */
    uint64_t *hashes;  /* of each step's ends: growing the index rehashes none of the strings */
    size_t n, alloc;
    uint32_t *index; /* open addressing: 1 + step position, 0 empty */
    size_t index_cap;
};

void tm_path_ident_init(struct tm_path_ident *p);
void tm_path_ident_clean_up(struct tm_path_ident *p);
/* Empties it for another path, keeping its storage. */
void tm_path_ident_reset(struct tm_path_ident *p);
/* Appends a step unless the path already holds it. */
TM_MUST_CHECK int tm_path_ident_add(struct tm_path_ident *p, const char *from, const char *to, const char *kind);
/* Computes f->id as tm_finding_compute_id would for a path of these steps. */
TM_MUST_CHECK int tm_finding_compute_id_of(struct tm_finding *f, const struct tm_path_ident *p);

/* Sorts for output: status (new first), severity (highest first), rule, resource, id. Then removes
 * findings with equal ids (the first wins). */
void tm_findings_sort(struct tm_findings *list);

/* The finding as the JSON report's object (keys documented in docs/findings.md). Caller owns it. */
cJSON *tm_finding_to_json(const struct tm_finding *f);

/* Appends the same object as tm_json_print_canonical(tm_finding_to_json(f), true) would print it, nested
 * `depth` levels deep, without building the tree: a finding's path can hold thousands of steps. */
TM_MUST_CHECK int tm_finding_append_json(struct tm_buf *b, const struct tm_finding *f, int depth);

#endif
