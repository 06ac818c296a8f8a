/* AWS policy documents: parsing every form IAM accepts into a compiled, immutable representation.
 *
 * A parsed policy keeps its original text and, per statement, the statement's own JSON, so every
 * decision built on it can quote the statement as evidence. Wildcard patterns, ARNs, IP ranges,
 * numbers and dates are compiled once at parse time: a policy is parsed once and evaluated many times
 * (a scan evaluates the same managed policy for thousands of requests). A parsed policy is never
 * modified, so it can be shared by any number of evaluations. */
#ifndef TM_ANALYZERS_IAM_POLICY_H
#define TM_ANALYZERS_IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Largest policy document accepted. AWS's own limits are far smaller (20 KiB for a bucket policy,
 * 32 KiB for a key policy); anything bigger is not a policy AWS would store. */
#define TM_IAM_POLICY_MAX_BYTES (1024u * 1024u)

/* What a policy is attached to decides which elements it may carry. */
enum tm_iam_policy_kind {
    TM_IAM_POLICY_ANY = 0,  /* accept every element; the checks below are skipped */
    TM_IAM_POLICY_IDENTITY, /* user, group or role policy, permissions boundary, session policy: no Principal */
    TM_IAM_POLICY_RESOURCE, /* bucket, queue, topic, key, secret, repository, API, function policy: needs Principal */
    TM_IAM_POLICY_TRUST,    /* a role's trust policy: needs Principal, Resource optional */
    TM_IAM_POLICY_SCP,      /* service control policy: no Principal */
    TM_IAM_POLICY_RCP,      /* resource control policy: Principal must be "*" */
};

enum tm_iam_effect {
    TM_IAM_ALLOW = 1,
    TM_IAM_DENY = 2,
};

/* The policy language version. Without "2012-10-17", policy variables are literal text. */
enum tm_iam_version {
    TM_IAM_VERSION_NONE = 0, /* no Version element */
    TM_IAM_VERSION_2008,     /* "2008-10-17" */
    TM_IAM_VERSION_2012,     /* "2012-10-17" */
};

/* How a statement names its principals. */
enum tm_iam_principal_mode {
    TM_IAM_PRINCIPAL_NONE = 0, /* no Principal element: identity policies, SCPs */
    TM_IAM_PRINCIPAL_LIST,     /* Principal */
    TM_IAM_PRINCIPAL_NOT,      /* NotPrincipal: everyone except those listed */
};

/* The type key of a principal entry ("AWS", "Service", ...); "*" on its own is TM_IAM_PTYPE_ANY. */
enum tm_iam_principal_type {
    TM_IAM_PTYPE_ANY = 1,   /* "*" or {"AWS": "*"}: everyone, anonymous callers included */
    TM_IAM_PTYPE_AWS,       /* an account, user, role, session or federated-user session */
    TM_IAM_PTYPE_SERVICE,   /* "sns.amazonaws.com" */
    TM_IAM_PTYPE_FEDERATED, /* an OIDC or SAML provider, or a well-known web identity provider */
    TM_IAM_PTYPE_CANONICAL, /* an S3 canonical user id */
};

/* What an AWS principal value names. */
enum tm_iam_aws_kind {
    TM_IAM_AWS_ACCOUNT = 1,    /* "123456789012" or "arn:aws:iam::123456789012:root": delegates to the account */
    TM_IAM_AWS_USER,           /* arn:...:iam::ACCOUNT:user/PATH/NAME */
    TM_IAM_AWS_ROLE,           /* arn:...:iam::ACCOUNT:role/PATH/NAME */
    TM_IAM_AWS_ASSUMED_ROLE,   /* arn:...:sts::ACCOUNT:assumed-role/NAME/SESSION */
    TM_IAM_AWS_FEDERATED_USER, /* arn:...:sts::ACCOUNT:federated-user/NAME */
    TM_IAM_AWS_UNIQUE_ID,      /* "AROA...", "AIDA...": a principal deleted since the policy was saved */
    TM_IAM_AWS_OTHER,          /* any other ARN (matched exactly) */
};

/* One principal entry, as the policy names it. */
struct tm_iam_principal_view {
    enum tm_iam_principal_type type;
    enum tm_iam_aws_kind aws_kind; /* for TM_IAM_PTYPE_AWS only, else 0 */
    const char *value;             /* as written ("*", "123456789012", an ARN, "sns.amazonaws.com") */
    const char *account;           /* the 12-digit account for AWS principals that name one, else NULL */
};

/* One condition entry: an operator applied to one context key. */
struct tm_iam_condition_view {
    const char *op;      /* as written, e.g. "ForAnyValue:StringLikeIfExists" */
    const char *base_op; /* canonical operator without qualifiers, e.g. "StringLike" */
    const char *key;     /* as written, e.g. "aws:SourceArn" */
    bool negated;        /* StringNotEquals, NotIpAddress, ArnNotLike, ... */
    bool if_exists;      /* ...IfExists */
    int set_op;          /* 0, or TM_IAM_FOR_ALL_VALUES / TM_IAM_FOR_ANY_VALUE */
    const char *const *values;
    size_t n_values;
};

#define TM_IAM_FOR_ALL_VALUES 1
#define TM_IAM_FOR_ANY_VALUE 2

/* A read-only view of one statement; every pointer lives as long as the policy. */
struct tm_iam_statement_view {
    size_t index;    /* position in the Statement array, from 0 */
    const char *sid; /* NULL when absent */
    enum tm_iam_effect effect;
    bool not_action; /* NotAction */
    const char *const *actions;
    size_t n_actions;
    bool has_resource; /* false when neither Resource nor NotResource is present */
    bool not_resource; /* NotResource */
    const char *const *resources;
    size_t n_resources;
    enum tm_iam_principal_mode principal_mode;
    size_t n_principals;
    size_t n_conditions;
    const char *json; /* the statement as compact JSON, for evidence */
};

struct tm_iam_policy;
struct cJSON;

/* Parses a policy document of the given kind. On error, err (errlen bytes, may be NULL) says where:
 * "line 3 column 7: ..." for JSON syntax, "statement 2 (Sid \"Read\"): Action: ..." for content.
 * Returns TM_ERR_PARSE (malformed), TM_ERR_TOO_BIG (over TM_IAM_POLICY_MAX_BYTES), TM_ERR_INVALID
 * (NULL text), TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_iam_policy_parse(struct tm_iam_policy **out, const char *text, size_t len,
                                      enum tm_iam_policy_kind kind, char *err, size_t errlen);
/* Parses a policy document held as parsed JSON, as tm_iam_policy_parse parses the document's compact text
 * (cJSON_PrintUnformatted): the same policy, the same errors, with that text as the policy's text, but
 * without parsing the text again. The tree is only read during the call. A string item is the JSON string,
 * not a document: give its text to tm_iam_policy_parse. */
TM_MUST_CHECK int tm_iam_policy_parse_json(struct tm_iam_policy **out, const struct cJSON *doc,
                                           enum tm_iam_policy_kind kind, char *err, size_t errlen);
/* Reads a policy file (the one place this module touches the file system; the caller names the file).
 * Errors name the file first. */
TM_MUST_CHECK int tm_iam_policy_load(struct tm_iam_policy **out, const char *path, enum tm_iam_policy_kind kind,
                                     char *err, size_t errlen);
void tm_iam_policy_destroy(struct tm_iam_policy *policy);
/* Heap bytes the parsed policy holds. */
size_t tm_iam_policy_memory_bytes(const struct tm_iam_policy *policy);

/* ---- a cache of parsed policies ---- */

/* A snapshot repeats the same documents (a managed policy attached to a thousand roles, a trust policy
 * every function role shares): the cache parses each distinct document once and hands out the same
 * immutable policy for every equal one (same kind, same text; a tree is compared by its compact text). It
 * owns its policies: they live until the cache is destroyed. Documents that do not parse are not cached. */
struct tm_iam_policy_cache;

TM_MUST_CHECK int tm_iam_policy_cache_new(struct tm_iam_policy_cache **out);
void tm_iam_policy_cache_destroy(struct tm_iam_policy_cache *cache);
/* As tm_iam_policy_parse, through the cache. */
TM_MUST_CHECK int tm_iam_policy_cache_parse(const struct tm_iam_policy **out, struct tm_iam_policy_cache *cache,
                                            const char *text, size_t len, enum tm_iam_policy_kind kind, char *err,
                                            size_t errlen);
/* As tm_iam_policy_parse_json, through the cache: a tree equal to a text seen before (its compact text
 * being that text) gives the same policy. */
TM_MUST_CHECK int tm_iam_policy_cache_parse_json(const struct tm_iam_policy **out, struct tm_iam_policy_cache *cache,
                                                 const struct cJSON *doc, enum tm_iam_policy_kind kind, char *err,
                                                 size_t errlen);
/* Distinct policies parsed, and the heap bytes the cache holds (its policies included). */
size_t tm_iam_policy_cache_count(const struct tm_iam_policy_cache *cache);
size_t tm_iam_policy_cache_memory_bytes(const struct tm_iam_policy_cache *cache);

enum tm_iam_policy_kind tm_iam_policy_kind(const struct tm_iam_policy *policy);
enum tm_iam_version tm_iam_policy_version(const struct tm_iam_policy *policy);
/* The Id element, or NULL. */
const char *tm_iam_policy_id(const struct tm_iam_policy *policy);
/* The document exactly as given. */
const char *tm_iam_policy_text(const struct tm_iam_policy *policy);
size_t tm_iam_policy_statement_count(const struct tm_iam_policy *policy);
/* Fills out for statement index; TM_ERR_NOT_FOUND past the end. */
TM_MUST_CHECK int tm_iam_policy_statement(const struct tm_iam_policy *policy, size_t index,
                                          struct tm_iam_statement_view *out);
TM_MUST_CHECK int tm_iam_policy_principal(const struct tm_iam_policy *policy, size_t stmt, size_t index,
                                          struct tm_iam_principal_view *out);
TM_MUST_CHECK int tm_iam_policy_condition(const struct tm_iam_policy *policy, size_t stmt, size_t index,
                                          struct tm_iam_condition_view *out);

/* Whether the document's meaning depends on who asks beyond the caller's account and organisation: a policy
 * variable (${...}) or a condition key about the principal itself (aws:PrincipalArn, aws:PrincipalTag,
 * aws:userid, aws:username, aws:SourceIdentity, ...). Answers shared between principals are safe only
 * for policies where this is false. One pass over the text. */
bool tm_iam_policy_asks_who(const struct tm_iam_policy *policy);

/* "Allow" / "Deny". */
const char *tm_iam_effect_name(enum tm_iam_effect effect);

#endif
