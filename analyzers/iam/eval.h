/* AWS request evaluation: is this request allowed, explicitly denied or implicitly denied, given the
 * policies that apply to it. This follows the IAM User Guide's "Policy evaluation logic" and
 * "Cross-account policy evaluation logic": an explicit deny in any policy wins; resource control
 * policies and service control policies must allow; within one account an allow in either the
 * identity-based or the resource-based policy suffices (with the documented exceptions for roles,
 * role sessions, IAM users, federated-user sessions, KMS key policies and role trust policies);
 * across accounts both sides must allow; permissions boundaries and session policies cap identity
 * permissions. Pure: no I/O, no clock (aws:CurrentTime comes from the context like every key). */
#ifndef TM_ANALYZERS_IAM_EVAL_H
#define TM_ANALYZERS_IAM_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/iam/policy.h"
#include "core/error.h"

/* ---- request context: condition keys and their values ---- */

/* Keys are case-insensitive (as in IAM); values keep their case. A key may hold several values
 * (aws:TagKeys) or none (present but empty). */
struct tm_iam_context {
    struct tm_iam_context_entry *entries;
    size_t n;
    size_t cap;
};

void tm_iam_context_init(struct tm_iam_context *ctx);
void tm_iam_context_clean_up(struct tm_iam_context *ctx);
/* Sets key to the single value (replacing earlier values). */
TM_MUST_CHECK int tm_iam_context_set(struct tm_iam_context *ctx, const char *key, const char *value);
/* Appends one value to key (creating it). */
TM_MUST_CHECK int tm_iam_context_add(struct tm_iam_context *ctx, const char *key, const char *value);
/* Makes key present with no values. */
TM_MUST_CHECK int tm_iam_context_set_empty(struct tm_iam_context *ctx, const char *key);
/* Values of key, NULL when absent. */
const char *const *tm_iam_context_get(const struct tm_iam_context *ctx, const char *key, size_t *n);

/* ---- the request and the policies that apply to it ---- */

struct tm_iam_request {
    /* Who: an IAM user, role, role-session ("assumed-role"), federated-user or root ARN; a service
     * principal ("sns.amazonaws.com"); an OIDC/SAML provider ARN or web identity provider name (for
     * sts:AssumeRoleWithWebIdentity / WithSAML); "anonymous" (or "*") for an unauthenticated caller.
     * A role ARN stands for a session of that role whose name is not known. */
    const char *principal;
    const char *action;                   /* "s3:GetObject" */
    const char *resource;                 /* an ARN, or "*" for actions without a resource */
    const char *resource_account;         /* NULL: taken from the resource ARN; unknown counts as same account */
    const struct tm_iam_context *context; /* may be NULL */
};

/* The policies of one level of an AWS Organizations tree (root, an OU, the account): one of them must
 * allow. Every level must allow. */
struct tm_iam_policy_level {
    const struct tm_iam_policy *const *policies;
    size_t n;
};

struct tm_iam_policy_set {
    const struct tm_iam_policy *const *identity; /* user (+ groups) or role policies */
    size_t n_identity;
    const struct tm_iam_policy *resource; /* the resource's policy (key policy, trust policy, ...); may be NULL */
    const struct tm_iam_policy *const *boundaries; /* permissions boundary (combined); none when n == 0 */
    size_t n_boundaries;
    const struct tm_iam_policy *const *session; /* session policies (combined); none when n == 0 */
    size_t n_session;
    const struct tm_iam_policy_level *scp_levels; /* service control policies of the principal's account */
    size_t n_scp_levels;
    const struct tm_iam_policy_level *rcp_levels; /* resource control policies of the resource's account */
    size_t n_rcp_levels;
};

/* The words of AWS's policy simulator. */
enum tm_iam_decision {
    TM_IAM_IMPLICIT_DENY = 0,
    TM_IAM_ALLOWED = 1,
    TM_IAM_EXPLICIT_DENY = 2,
};

/* Why a request was not allowed (TM_IAM_REASON_NONE when it was). */
enum tm_iam_reason {
    TM_IAM_REASON_NONE = 0,
    TM_IAM_REASON_EXPLICIT_DENY,     /* a Deny statement applies */
    TM_IAM_REASON_SCP,               /* a service control policy level has no Allow */
    TM_IAM_REASON_RCP,               /* a resource control policy level has no Allow */
    TM_IAM_REASON_NO_ALLOW,          /* neither an identity-based nor a resource-based policy allows */
    TM_IAM_REASON_RESOURCE_POLICY,   /* a key policy / trust policy must allow and does not */
    TM_IAM_REASON_CROSS_ACCOUNT,     /* cross-account: the resource's policy does not allow this principal */
    TM_IAM_REASON_IDENTITY,          /* the identity-based policies do not allow (cross-account, or no RBP grant) */
    TM_IAM_REASON_BOUNDARY,          /* the permissions boundary does not allow */
    TM_IAM_REASON_SESSION,           /* the session policy does not allow (or a federated user has none) */
    TM_IAM_REASON_NOT_AUTHENTICATED, /* anonymous or service caller without a resource policy grant */
};

/* Where a matched statement lives. */
enum tm_iam_set_kind {
    TM_IAM_SET_SCP = 1,
    TM_IAM_SET_RCP,
    TM_IAM_SET_RESOURCE,
    TM_IAM_SET_IDENTITY,
    TM_IAM_SET_BOUNDARY,
    TM_IAM_SET_SESSION,
};

struct tm_iam_match {
    enum tm_iam_set_kind set;
    size_t level;     /* SCP/RCP level; 0 otherwise */
    size_t policy;    /* index within the set (within the level for SCP/RCP) */
    size_t statement; /* statement index within the policy */
    enum tm_iam_effect effect;
};

struct tm_iam_result {
    enum tm_iam_decision decision;
    enum tm_iam_reason reason;
    bool same_account;
    /* The statements behind the decision: the Deny statements for an explicit deny; the Allow
     * statements that matched otherwise. In set order (SCP, RCP, resource, identity, boundary,
     * session), then policy, then statement. Filled only when collecting (see tm_iam_evaluate). */
    struct tm_iam_match *matches;
    size_t n_matches;
    size_t cap_matches;
};

void tm_iam_result_init(struct tm_iam_result *res);
void tm_iam_result_clean_up(struct tm_iam_result *res);

/* Evaluates req against set. collect_matches fills res->matches (an allocation); without it the
 * evaluation allocates nothing but the scratch space policy variables need. Returns TM_OK,
 * TM_ERR_INVALID (missing principal/action/resource) or TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_iam_evaluate(struct tm_iam_result *res, const struct tm_iam_request *req,
                                  const struct tm_iam_policy_set *set, bool collect_matches);

/* "allowed", "explicitDeny", "implicitDeny". */
const char *tm_iam_decision_name(enum tm_iam_decision d);
/* A short phrase for a reason ("no identity-based policy allows the action", ...). */
const char *tm_iam_reason_text(enum tm_iam_reason r);
/* "identityPolicies", "resourcePolicy", "scps", "rcps", "permissionBoundaries", "sessionPolicies". */
const char *tm_iam_set_kind_name(enum tm_iam_set_kind k);

/* Does one statement of one policy apply to the request (action, resource, principal, conditions)?
 * For resource policies the principal must match; for other kinds the Principal element is absent.
 * Exposed for callers that explain decisions statement by statement. */
bool tm_iam_statement_applies(const struct tm_iam_policy *policy, size_t stmt, const struct tm_iam_request *req);

/* ---- `tmscan policy eval`: one JSON line in, one JSON line out ---- */

/* Evaluates one input line of the `policy eval` protocol and writes the answer line (no newline) to
 * out, which the caller frees with free(). Input errors become {"id":..,"error":".."} and set
 * *was_error (may be NULL): the return is TM_OK for those too; only TM_ERR_NOMEM is an error. */
TM_MUST_CHECK int tm_iam_eval_json_line(char **out, bool *was_error, const char *line, size_t len);

#endif
