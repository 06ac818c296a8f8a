/* The policies of a snapshot, parsed once and indexed, to answer "can principal P do action A on
 * resource R" many times (the graph builder asks it for every candidate edge). Policies are
 * registered once under a key (a managed policy ARN, "ROLE_ARN#inline/NAME", "BUCKET_ARN#policy", ...)
 * and shared by every principal that attaches them; principals, resources and organisation levels
 * refer to policies by key. A query resolves the principal (a role session maps to its role), the
 * resource (its policy and account) and the organisation levels of both accounts, then evaluates
 * with tm_iam_evaluate. Lookups are hash-table lookups; nothing is re-parsed. */
#ifndef TM_ANALYZERS_IAM_STORE_H
#define TM_ANALYZERS_IAM_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/policy.h"
#include "core/error.h"

struct tm_iam_store;

TM_MUST_CHECK int tm_iam_store_new(struct tm_iam_store **out);
void tm_iam_store_destroy(struct tm_iam_store *store);

/* Registers policy under key; the store takes ownership (also on failure). TM_ERR_INVALID when the key
 * is already taken. */
TM_MUST_CHECK int tm_iam_store_add_policy(struct tm_iam_store *store, const char *key, struct tm_iam_policy *policy);
/* Parses and registers a document given as text or as a cJSON tree (a snapshot's policies.* entry).
 * Errors name the key first: "arn:aws:iam::1:policy/p: statement 0: Effect: missing". */
TM_MUST_CHECK int tm_iam_store_add_policy_text(struct tm_iam_store *store, const char *key, const char *text,
                                               size_t len, enum tm_iam_policy_kind kind, char *err, size_t errlen);
TM_MUST_CHECK int tm_iam_store_add_policy_json(struct tm_iam_store *store, const char *key, const cJSON *doc,
                                               enum tm_iam_policy_kind kind, char *err, size_t errlen);
/* The policy registered under key, or NULL. */
const struct tm_iam_policy *tm_iam_store_policy(const struct tm_iam_store *store, const char *key);

/* An IAM user or role (its ARN) with the keys of its identity-based policies (its own and its groups')
 * and of its permissions boundary (NULL for none). Setting a principal again replaces it. */
TM_MUST_CHECK int tm_iam_store_set_principal(struct tm_iam_store *store, const char *arn,
                                             const char *const *policy_keys, size_t n_keys, const char *boundary_key);
/* A resource with its account (NULL: from the ARN) and the key of its resource-based policy (NULL for
 * none; for a role, its trust policy). */
TM_MUST_CHECK int tm_iam_store_set_resource(struct tm_iam_store *store, const char *arn, const char *account,
                                            const char *policy_key);
/* Adds a policy to an organisation level of an account: level 0 is the root, then each OU, then the
 * account itself. SCPs apply to the account's principals, RCPs to its resources. */
TM_MUST_CHECK int tm_iam_store_add_scp(struct tm_iam_store *store, const char *account, size_t level,
                                       const char *policy_key);
TM_MUST_CHECK int tm_iam_store_add_rcp(struct tm_iam_store *store, const char *account, size_t level,
                                       const char *policy_key);

struct tm_iam_store_query {
    const char *principal; /* user/role/session/root ARN, service principal, provider, or "anonymous" */
    const char *action;
    const char *resource;                       /* ARN, or "*" */
    const struct tm_iam_context *context;       /* may be NULL */
    const struct tm_iam_policy *const *session; /* session policies of this request, if any */
    size_t n_session;
};

/* Can the principal do it? Unknown principals have no identity policies; unknown resources have no
 * resource policy and the account their ARN names. A policy key that was never registered is an error
 * (TM_ERR_NOT_FOUND, naming it in err) rather than a silent "no policy". */
TM_MUST_CHECK int tm_iam_store_can(struct tm_iam_result *res, struct tm_iam_store *store,
                                   const struct tm_iam_store_query *q, bool collect_matches, char *err, size_t errlen);

#endif
