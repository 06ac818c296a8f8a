/* Who can reach a resource: a resource-based policy (plus, for S3, its ACL and Block Public Access
 * settings; for Lambda, the function URL's auth type) classified per action group into anyone,
 * any authenticated AWS principal, named external accounts, an organisation, AWS services on behalf
 * of named resources, callers inside named networks, or this account only; a role's trust policy into
 * who can assume it (accounts, any principal, OIDC/SAML identities with or without claim conditions)
 * and whether sts:ExternalId is required. Each grant carries its evidence (statement indexes) and the
 * conditions that narrow it. Deny statements and negated conditions are taken into account; the
 * condition-key semantics are documented key by key in policies/condition-keys.md. */
#ifndef TM_ANALYZERS_IAM_REACH_H
#define TM_ANALYZERS_IAM_REACH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "analyzers/iam/catalog.h"
#include "analyzers/iam/policy.h"
#include "core/error.h"

/* The kinds of resource policies `policy check` knows. */
enum tm_iam_resource_type {
    TM_IAM_RES_S3 = 1,
    TM_IAM_RES_SQS,
    TM_IAM_RES_SNS,
    TM_IAM_RES_LAMBDA,
    TM_IAM_RES_KMS,
    TM_IAM_RES_SECRETSMANAGER,
    TM_IAM_RES_ECR,
    TM_IAM_RES_APIGATEWAY,
    TM_IAM_RES_TRUST, /* a role's trust policy */
};

/* "s3", ... "trust" and back; 0 for an unknown name. */
const char *tm_iam_resource_type_name(enum tm_iam_resource_type t);
enum tm_iam_resource_type tm_iam_resource_type_parse(const char *name);

/* Who a grant reaches, narrowest first. */
enum tm_iam_reach {
    TM_IAM_REACH_ACCOUNT = 1,   /* principals of this account only */
    TM_IAM_REACH_NETWORK,       /* callers inside named VPCs / VPC endpoints */
    TM_IAM_REACH_SERVICE,       /* AWS services on behalf of named resources (or of any: any_resource) */
    TM_IAM_REACH_ORGANIZATION,  /* principals of named AWS Organizations (or organisation paths) */
    TM_IAM_REACH_FEDERATED,     /* identities from an identity provider, restricted by claims */
    TM_IAM_REACH_EXTERNAL,      /* principals of named external accounts */
    TM_IAM_REACH_AUTHENTICATED, /* any authenticated AWS principal, in any account */
    TM_IAM_REACH_PUBLIC,        /* anyone, anonymous callers included */
};

/* "account", "network", "service", "organization", "federated", "external-accounts",
 * "any-aws-principal", "public". */
const char *tm_iam_reach_name(enum tm_iam_reach r);
/* A phrase for people: "anyone (public)", "this account only", ... */
const char *tm_iam_reach_phrase(enum tm_iam_reach r);

/* S3 Block Public Access: each setting true when enabled. */
struct tm_iam_s3_bpa {
    bool block_public_acls;
    bool ignore_public_acls;
    bool block_public_policy;
    bool restrict_public_buckets;
};

/* Parses a GetPublicAccessBlock answer ({"PublicAccessBlockConfiguration": {...}} or the inner
 * object); missing settings are false. */
TM_MUST_CHECK int tm_iam_s3_bpa_parse(struct tm_iam_s3_bpa *out, const char *json, size_t len, char *err,
                                      size_t errlen);

struct tm_iam_reach_input {
    enum tm_iam_resource_type type;
    const struct tm_iam_policy *policy; /* the resource policy / trust policy; NULL when the resource has none */
    const char *account;      /* the resource's account; NULL: taken from the policy's Resource ARNs if they say */
    const char *resource_arn; /* NULL: every statement is taken to be about this resource */
    const struct tm_iam_catalog *catalog; /* NULL: actions are grouped as the policy writes them */
    /* S3 only, each may be NULL */
    const char
        *s3_acl_json;    /* GetBucketAcl answer: {"Owner": {"ID": ..}, "Grants": [{"Grantee": .., "Permission": ..}]} */
    const cJSON *s3_acl; /* the same answer as a tree, read when s3_acl_json is NULL */
    const struct tm_iam_s3_bpa *bucket_bpa;
    const struct tm_iam_s3_bpa *account_bpa;
    /* Lambda only: the function URL's AuthType ("NONE" or "AWS_IAM"); NULL when there is no URL */
    const char *lambda_url_auth_type;
};

/* Where a grant comes from. */
struct tm_iam_evidence {
    bool acl;         /* an S3 ACL grant rather than a policy statement */
    size_t index;     /* statement index, or ACL grant index */
    const char *sid;  /* NULL when absent */
    const char *json; /* the statement (or the ACL grant) as compact JSON */
};

/* One way in: who, through which actions, narrowed by what, granted where. */
struct tm_iam_grant {
    enum tm_iam_reach reach;
    const char *const *who; /* accounts, organisation ids/paths, source ARNs/accounts, VPCs, provider... */
    size_t n_who;
    const char *const *principals; /* the principal ARNs named, when narrower than their accounts */
    size_t n_principals;
    const char *const *services; /* service principals (TM_IAM_REACH_SERVICE) */
    size_t n_services;
    bool any_resource;           /* a service acting on behalf of any resource, in any account */
    const char *const *networks; /* aws:SourceIp ranges callers must come from; none = anywhere */
    size_t n_networks;
    const char *const *conditions; /* the conditions that narrow this grant, as "Operator key value[, value]" */
    size_t n_conditions;
    bool external_id_required; /* trust: sts:ExternalId must be supplied */
    const char *const *external_ids;
    size_t n_external_ids;
    bool claims_restricted;     /* federated: the identity claims (sub/aud) are pinned */
    const char *const *actions; /* the actions of the group reached this way, sorted */
    size_t n_actions;
    const struct tm_iam_evidence *evidence;
    size_t n_evidence;
    bool cross_account; /* public, or reaching principals outside this account and its services */
};

/* The grants of one access level. */
struct tm_iam_reach_group {
    const char *level; /* "Permissions management", "Write", "Tagging", "Read", "List", or "Unknown" */
    const struct tm_iam_grant *grants;
    size_t n_grants;
};

struct tm_iam_reach_result {
    enum tm_iam_resource_type type;
    const char *account; /* the resource's account, NULL when unknown */
    const struct tm_iam_reach_group *groups;
    size_t n_groups;
    bool reachable; /* any grant at all */
    enum tm_iam_reach widest;
    bool cross_account;       /* any grant is public or cross-account: `policy check` exits 1 */
    const char *const *notes; /* caveats, e.g. "this account is not known: pass --account" */
    size_t n_notes;
    struct tm_iam_reach_impl *impl;
};

/* Classifies the policy (and the S3/Lambda extras). The result copies everything it shows, so it
 * outlives the input policy and catalogue. err names what was wrong with the ACL or the input.
 * Returns TM_OK, TM_ERR_INVALID, TM_ERR_PARSE (ACL JSON) or TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_iam_reach_analyze(struct tm_iam_reach_result **out, const struct tm_iam_reach_input *in, char *err,
                                       size_t errlen);
void tm_iam_reach_result_destroy(struct tm_iam_reach_result *r);

/* Renderings for `policy check`: label names the input (a file or an ARN). JSON is one object,
 * deterministic; text is for people. The caller frees with free(). */
TM_MUST_CHECK int tm_iam_reach_to_json(char **out, const struct tm_iam_reach_result *r, const char *label);
TM_MUST_CHECK int tm_iam_reach_to_text(char **out, const struct tm_iam_reach_result *r, const char *label);

#endif
