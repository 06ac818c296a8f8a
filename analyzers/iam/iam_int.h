/* Internals shared by the files of the AWS policy engine (analyzers/iam): the compiled form of a
 * policy, the pattern matchers and the arena that owns a policy's memory. Not for other modules. */
#ifndef TM_ANALYZERS_IAM_IAM_INT_H
#define TM_ANALYZERS_IAM_IAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/policy.h"
#include "core/buf.h"

/* Wildcards in a compiled pattern. Literal '*' and '?' (from ${*}, ${?} or from a substituted value)
 * stay themselves, so the matcher never confuses text with wildcards. Policy text containing these
 * two control bytes is rejected at parse time. */
#define TM__IAM_STAR '\x01'
#define TM__IAM_QMARK '\x02'

/* ---- arena: one per policy (or one for the policies of a cache), freed at once ---- */
struct tm__iam_chunk;
struct tm__iam_arena {
    struct tm__iam_chunk *head;
    size_t next_bytes; /* size of the next chunk */
    size_t max_bytes;  /* chunks grow up to this size */
    size_t n_chunks;   /* made so far */
    size_t held_bytes; /* malloc'd, for memory accounting */
    size_t used_bytes; /* handed out (alignment included) */
};
/* Chunks of the default size (4 KiB). */
void tm__iam_arena_init(struct tm__iam_arena *a);
/* The first chunk holds first_bytes; later ones double up to the default size. */
void tm__iam_arena_init_sized(struct tm__iam_arena *a, size_t first_bytes);
/* Every chunk holds chunk_bytes (an arena many policies share). */
void tm__iam_arena_init_chunks(struct tm__iam_arena *a, size_t chunk_bytes);
void tm__iam_arena_clean_up(struct tm__iam_arena *a);
void *tm__iam_arena_alloc(struct tm__iam_arena *a, size_t size); /* zeroed, aligned; NULL on OOM */
/* Strings are not aligned. */
char *tm__iam_arena_strdup(struct tm__iam_arena *a, const char *s);
char *tm__iam_arena_strndup(struct tm__iam_arena *a, const char *s, size_t n);
size_t tm__iam_arena_bytes(const struct tm__iam_arena *a);
/* Strings shared by the policies of a cache, each distinct text once: actions, resources, principals, condition
 * keys and values repeat from policy to policy (at 100,000 resources, 250,000 of 280,000 strings are repeats). In
 * an arena of their own that is never reset: a policy that fails to parse leaves its strings for the next. */
struct tm__iam_string_slot {
    const char *s; /* NULL: an empty slot */
    uint32_t len;
    uint32_t hash;
};
struct tm__iam_strings {
    struct tm__iam_arena arena;
    struct tm__iam_string_slot *slots;
    size_t cap, count;
};
void tm__iam_strings_init(struct tm__iam_strings *t);
void tm__iam_strings_clean_up(struct tm__iam_strings *t);
size_t tm__iam_strings_bytes(const struct tm__iam_strings *t);
/* s[0..n) as a string that lives as long as the arena: the shared copy when strings is not NULL, else a new one
 * in a. NULL when out of memory. Never write to one. */
const char *tm__iam_str(struct tm__iam_arena *a, struct tm__iam_strings *strings, const char *s, size_t n);
/* A point to go back to: a policy that fails to parse in a shared arena leaves nothing behind. */
struct tm__iam_arena_mark {
    struct tm__iam_chunk *head;
    size_t head_used, n_chunks, next_bytes, held_bytes, used_bytes;
};
void tm__iam_arena_mark(const struct tm__iam_arena *a, struct tm__iam_arena_mark *m);
/* Frees everything allocated since m. */
void tm__iam_arena_reset(struct tm__iam_arena *a, const struct tm__iam_arena_mark *m);

/* ---- patterns ---- */

/* A wildcard pattern (Action, Resource, StringLike/ArnLike values). */
struct tm__iam_pat {
    const char *text; /* as written */
    const char *enc;  /* compiled: wildcards encoded; NULL when has_vars (compiled per request) */
    /* actions only: the service prefix, lower-case, when it has no wildcard (a fast reject); not
     * NUL-terminated */
    const char *service;
    uint32_t service_len;
    bool has_vars; /* contains ${...} and the policy is version 2012-10-17 */
    bool any;      /* exactly "*" */
};

/* Glob match of a compiled pattern against text: TM__IAM_STAR matches any run, TM__IAM_QMARK one
 * character (one UTF-8 code point). icase folds ASCII letters. */
bool tm__iam_glob(const char *pat, const char *text, bool icase);
/* ARN match as IAM does it for Resource and the Arn condition operators: the five colon-delimited
 * segments before the resource part are matched one by one; the resource part may span ':' and '/'; a
 * trailing '*' in a pattern with fewer segments swallows the rest. Non-ARN text falls back to glob. */
bool tm__iam_arn_match(const char *pat, const char *text);
/* Encodes raw policy text into a pattern: '*' and '?' become wildcards. wildcards=false keeps them
 * literal (StringEquals). Appends to out. */
int tm__iam_encode(struct tm_buf *out, const char *raw, size_t len, bool wildcards);
/* Resolves the policy variables of raw into out (wildcards encoded when wildcards is true, substituted
 * values always literal). ${*} ${?} ${$} are the literal characters; ${key, 'default'} uses default
 * when key is absent. Returns TM_OK, TM_ERR_NOT_FOUND when a variable has no value and no default,
 * or TM_ERR_NOMEM / TM_ERR_TOO_BIG. only_after_fifth_colon restricts substitution to the resource part
 * of an ARN (the Resource element). */
int tm__iam_resolve(struct tm_buf *out, const char *raw, bool wildcards, bool only_after_fifth_colon,
                    const struct tm_iam_context *ctx, const struct tm_iam_context *derived);
bool tm__iam_has_vars(const char *raw);

/* ---- context lookup ---- */
/* One key of a request context. A context built by tm_iam_context_set owns every string; the derived keys of
 * one evaluation (eval.c) point at strings that outlive it instead, and are never freed. */
struct tm_iam_context_entry {
    char *key_lc;
    char **values;
    size_t n;
    size_t cap;
};

/* Values of key (any case) in ctx, then in derived; NULL when absent from both. *n gets the count. */
const char *const *tm__iam_context_get(const struct tm_iam_context *ctx, const struct tm_iam_context *derived,
                                       const char *key_lc, size_t *n);

/* ---- conditions ---- */
enum tm__iam_op {
    TM__IAM_OP_STRING_EQUALS = 1,
    TM__IAM_OP_STRING_EQUALS_IC,
    TM__IAM_OP_STRING_LIKE,
    TM__IAM_OP_NUMERIC_EQUALS,
    TM__IAM_OP_NUMERIC_LT,
    TM__IAM_OP_NUMERIC_LE,
    TM__IAM_OP_NUMERIC_GT,
    TM__IAM_OP_NUMERIC_GE,
    TM__IAM_OP_DATE_EQUALS,
    TM__IAM_OP_DATE_LT,
    TM__IAM_OP_DATE_LE,
    TM__IAM_OP_DATE_GT,
    TM__IAM_OP_DATE_GE,
    TM__IAM_OP_BOOL,
    TM__IAM_OP_BINARY_EQUALS,
    TM__IAM_OP_IP_ADDRESS,
    TM__IAM_OP_ARN_LIKE, /* ArnEquals and ArnLike behave identically */
    TM__IAM_OP_NULL,
};

struct tm__iam_ip {
    int family; /* 4 or 6 */
    unsigned char addr[16];
    unsigned prefix;
};

struct tm__iam_cvalue {
    const char *text; /* as written (numbers and booleans from JSON converted to their text) */
    bool has_vars;
    const char *enc; /* StringLike / Arn*: compiled pattern (NULL when has_vars) */
    double num;      /* Numeric* */
    int64_t date_ms; /* Date*: milliseconds since the epoch */
    bool boolean;    /* Bool, Null */
    struct tm__iam_ip ip;
    const unsigned char *bin; /* BinaryEquals: decoded bytes */
    size_t bin_len;
};

struct tm__iam_cond {
    const char *op_text; /* as written */
    const char *base_name;
    enum tm__iam_op op;
    bool negated;
    bool if_exists;
    int set_op;         /* 0, TM_IAM_FOR_ALL_VALUES, TM_IAM_FOR_ANY_VALUE */
    const char *key;    /* as written */
    const char *key_lc; /* lower-case, for lookup */
    size_t n_values;
    struct tm__iam_cvalue *values;
    const char **value_texts; /* for the view */
};

/* Parses "ForAnyValue:StringNotLikeIfExists" etc. Returns false for an unknown operator. */
bool tm__iam_op_parse(const char *name, enum tm__iam_op *op, bool *negated, bool *if_exists, int *set_op,
                      const char **base_name);
/* Compiles one condition value for op; on failure writes a reason into why. */
int tm__iam_cvalue_compile(struct tm__iam_arena *a, struct tm__iam_strings *strings, struct tm__iam_cvalue *v,
                           enum tm__iam_op op, bool vars_allowed, char *why, size_t whylen);
/* Evaluates one condition entry against the request context. */
bool tm__iam_cond_eval(const struct tm__iam_cond *c, const struct tm_iam_context *ctx,
                       const struct tm_iam_context *derived);

/* Value parsers shared with the reachability analysis. */
bool tm__iam_parse_number(const char *s, double *out);
bool tm__iam_parse_date(const char *s, int64_t *ms_out);
bool tm__iam_parse_ip(const char *s, struct tm__iam_ip *out, bool allow_prefix);
bool tm__iam_ip_in(const struct tm__iam_ip *net, const struct tm__iam_ip *addr);

/* ---- principals ---- */
struct tm__iam_principal {
    enum tm_iam_principal_type type;
    enum tm_iam_aws_kind aws_kind;
    const char *value;   /* as written */
    const char *account; /* for AWS principals naming an account */
};

/* ---- statements and policies ---- */
/* Counts are 32-bit (a policy is at most TM_IAM_POLICY_MAX_BYTES) and the small fields come last: a cache holds
 * tens of thousands of statements. */
struct tm__iam_stmt {
    const char *sid;
    struct tm__iam_pat *actions;
    const char **action_texts;
    struct tm__iam_pat *resources;
    const char **resource_texts;
    struct tm__iam_principal *principals;
    struct tm__iam_cond *conds;
    const char *json;
    uint32_t index;
    uint32_t n_actions;
    uint32_t n_resources;
    uint32_t n_principals;
    uint32_t n_conds;
    enum tm_iam_effect effect;
    enum tm_iam_principal_mode principal_mode;
    bool not_action;
    bool has_resource;
    bool not_resource;
};

/* Lives in its own arena's first chunk, or in a cache's arena (shared). A cache holds tens of thousands: the
 * arena of a policy on its own is behind a pointer, not in every policy. */
struct tm_iam_policy {
    struct tm__iam_arena *own; /* its own arena (in that arena's first chunk); NULL: in a cache's, freed with it */
    size_t shared_bytes;       /* in a cache's arena: the bytes it took there */
    enum tm_iam_policy_kind kind;
    enum tm_iam_version version;
    const char *id;
    const char *text;
    size_t text_len;
    size_t n_stmts;
    struct tm__iam_stmt *stmts;
};

/* tm_iam_policy_parse_json with the document already printed: text is doc's compact text (doc NULL: parse
 * text). shared, when not NULL, is the arena the policy lives in (a cache's): tm_iam_policy_destroy then
 * leaves it alone, and a failed parse leaves nothing there. strings, when not NULL (with shared), are the
 * cache's shared strings. */
struct cJSON;
int tm__iam_policy_parse_printed(struct tm_iam_policy **out, struct tm__iam_arena *shared,
                                 struct tm__iam_strings *strings, const struct cJSON *doc, const char *text, size_t len,
                                 enum tm_iam_policy_kind kind, char *err, size_t errlen);

/* Action match of a statement's Action/NotAction against "service:action". */
bool tm__iam_stmt_action_matches(const struct tm__iam_stmt *s, const char *action);
/* One action pattern against an action, case-insensitive. */
bool tm__iam_action_pat_matches(const struct tm__iam_pat *p, const char *action);
/* Resource/NotResource against a resource ARN, resolving variables when the policy allows them.
 * A statement without either element matches every resource. */
bool tm__iam_stmt_resource_matches(const struct tm__iam_stmt *s, const char *resource, const struct tm_iam_context *ctx,
                                   const struct tm_iam_context *derived);
/* Every condition of the statement holds. */
bool tm__iam_stmt_conditions_hold(const struct tm__iam_stmt *s, const struct tm_iam_context *ctx,
                                  const struct tm_iam_context *derived);

/* ---- ARNs ---- */
/* Splits an ARN into its six parts (partition, service, region, account, resource after "arn:").
 * Returns false when text is not an ARN. Parts point into text; lengths in len[]. */
struct tm__iam_arn {
    const char *part[6]; /* "arn", partition, service, region, account, resource */
    size_t len[6];
};
bool tm__iam_arn_split(const char *text, struct tm__iam_arn *out);
bool tm__iam_is_account_id(const char *s, size_t n);

/* UTF-8 validity of a NUL-terminated string; *bad gets the offset of the first bad byte. */
bool tm__iam_utf8_valid(const char *s, size_t len, size_t *bad);

#endif
