/* Internals of request evaluation shared with the policy store and the reachability analysis. */
#ifndef TM_ANALYZERS_IAM_EVAL_INT_H
#define TM_ANALYZERS_IAM_EVAL_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/iam_int.h"

/* Who makes a request, parsed once from the principal string. */
enum tm__iam_who_kind {
    TM__IAM_WHO_ANONYMOUS = 1,
    TM__IAM_WHO_SERVICE,        /* sns.amazonaws.com */
    TM__IAM_WHO_WEB_IDENTITY,   /* an OIDC/SAML provider ARN or a web identity provider name */
    TM__IAM_WHO_ROOT,           /* arn:aws:iam::ACCOUNT:root */
    TM__IAM_WHO_USER,           /* arn:aws:iam::ACCOUNT:user/PATH/NAME */
    TM__IAM_WHO_ROLE,           /* arn:aws:iam::ACCOUNT:role/PATH/NAME: a session of it, name unknown */
    TM__IAM_WHO_SESSION,        /* arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION */
    TM__IAM_WHO_FEDERATED_USER, /* arn:aws:sts::ACCOUNT:federated-user/NAME */
    TM__IAM_WHO_OTHER,          /* another ARN in an account, matched exactly */
};

struct tm__iam_who {
    enum tm__iam_who_kind kind;
    const char *text;      /* the principal string as given */
    char account[13];      /* "" when none */
    const char *partition; /* points into text */
    size_t partition_len;
    const char *name; /* user name, role name (sessions: the role's), federated user name */
    size_t name_len;
};

/* How a statement's Principal/NotPrincipal names the requester, weakest first. */
enum tm__iam_level {
    TM__IAM_LEVEL_NONE = 0,
    TM__IAM_LEVEL_ACCOUNT, /* the requester's account: delegates to its identity-based policies */
    TM__IAM_LEVEL_PARENT,  /* the role of a session, or the IAM user of a federated-user session */
    TM__IAM_LEVEL_EXACT,   /* the requester itself (or "*") */
};

void tm__iam_who_parse(struct tm__iam_who *w, const char *principal);
bool tm__iam_who_is_iam(const struct tm__iam_who *w);
enum tm__iam_level tm__iam_principal_level(const struct tm__iam_stmt *s, const struct tm__iam_who *w);
/* Fills d with the keys every request of this principal carries (aws:PrincipalArn, ...). */
int tm__iam_derive_context(struct tm_iam_context *d, const struct tm__iam_who *w, const char *resource_account);
/* tm_iam_evaluate with the principal already parsed and its derived keys prepared (the store caches
 * both per principal). */
int tm__iam_evaluate_with(struct tm_iam_result *res, const struct tm_iam_request *req,
                          const struct tm_iam_policy_set *set, bool collect, const struct tm__iam_who *who,
                          const struct tm_iam_context *derived, const char *resource_account);

#endif
