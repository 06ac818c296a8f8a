/* IAM: users, groups, roles, instance profiles, managed and inline policies, access keys, OIDC and
 * SAML providers, the account alias. Parsers are exposed for tests (tm__aws_iam_*); the service row is
 * tm__aws_service_iam. */
#ifndef TM_PROVIDERS_AWS_IAM_H
#define TM_PROVIDERS_AWS_IAM_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_iam;
extern const struct tm_aws_api tm__aws_api_iam;

/* The account's authorization details, accumulated over the pages of GetAccountAuthorizationDetails
 * (and ListRoles, GetPolicy/GetPolicyVersion) before resources are written, because a user's group
 * and a principal's managed policy may arrive on any page. */
struct tm__aws_iam_details {
    cJSON *users;       /* array of {arn, name, user_id, path, groups[], boundary, inline[], managed[]} */
    cJSON *groups;      /* object: group name -> {arn, name, group_id, path, inline[], managed[]} */
    cJSON *roles;       /* array of {arn, name, role_id, path, trust, instance_profiles[], boundary, inline[],
                           managed[], last_used} */
    cJSON *profiles;    /* object: instance profile ARN -> {arn, name, path, roles[]} */
    cJSON *policies;    /* object: managed policy ARN -> default version document (or an unknown marker) */
    cJSON *max_session; /* object: role ARN -> MaxSessionDuration (from ListRoles) */
};

TM_MUST_CHECK int tm__aws_iam_details_init(struct tm__aws_iam_details *d);
void tm__aws_iam_details_clean_up(struct tm__aws_iam_details *d);

/* One page of GetAccountAuthorizationDetails into d; *marker is the next page's Marker (malloc'd) or
 * NULL on the last page. TM_ERR_PARSE with errmsg on a malformed answer (d may hold part of the page). */
TM_MUST_CHECK int tm__aws_iam_parse_gaad(struct tm__aws_iam_details *d, const char *body, size_t len, char **marker,
                                         char *errmsg, size_t errmsg_len);
/* One page of ListRoles: MaxSessionDuration per role into d->max_session. */
TM_MUST_CHECK int tm__aws_iam_parse_list_roles(struct tm__aws_iam_details *d, const char *body, size_t len,
                                               char **marker, char *errmsg, size_t errmsg_len);
/* The managed policy ARNs referenced (attached or as a boundary) whose document d lacks: a JSON array
 * of strings, sorted. */
/* ListInstanceProfiles page: adds each instance profile (with its roles) not yet known to d. */
TM_MUST_CHECK int tm__aws_iam_parse_instance_profiles(struct tm__aws_iam_details *d, const char *body, size_t len,
                                                      char **marker, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm__aws_iam_missing_policies(cJSON **out, const struct tm__aws_iam_details *d);
/* GetPolicy: the default version id (malloc'd). */
TM_MUST_CHECK int tm__aws_iam_parse_get_policy(char **version_id, const char *body, size_t len, char *errmsg,
                                               size_t errmsg_len);
/* GetPolicyVersion: the decoded document. */
TM_MUST_CHECK int tm__aws_iam_parse_get_policy_version(cJSON **document, const char *body, size_t len, char *errmsg,
                                                       size_t errmsg_len);
/* Writes users, groups, roles and instance profiles. gaad_error: GetAccountAuthorizationDetails failed
 * part-way (facts that depend on what is missing become unknown); roles_error: ListRoles failed
 * (max_session_duration unknown). */
TM_MUST_CHECK int tm__aws_iam_emit(const struct tm_aws_sink *sink, const struct tm__aws_iam_details *d,
                                   const struct tm_snapshot_error *gaad_error,
                                   const struct tm_snapshot_error *roles_error);

/* One page of ListAccessKeys appended to keys (an array of {access_key_id, status, create_date}). */
TM_MUST_CHECK int tm__aws_iam_parse_access_keys(cJSON *keys, const char *body, size_t len, char **marker, char *errmsg,
                                                size_t errmsg_len);
/* GetAccessKeyLastUsed into key: last_used_date (null when never used), last_used_service,
 * last_used_region. */
TM_MUST_CHECK int tm__aws_iam_parse_key_last_used(cJSON *key, const char *body, size_t len, char *errmsg,
                                                  size_t errmsg_len);
/* One page of ListAccountAliases: the first alias, if *alias is still NULL (a copy, malloc'd). */
TM_MUST_CHECK int tm__aws_iam_parse_aliases(char **alias, const char *body, size_t len, char **marker, char *errmsg,
                                            size_t errmsg_len);
/* ListOpenIDConnectProviders: the providers' ARNs appended to arns. */
TM_MUST_CHECK int tm__aws_iam_parse_oidc_list(cJSON *arns, const char *body, size_t len, char *errmsg,
                                              size_t errmsg_len);
/* GetOpenIDConnectProvider: url, client_ids, thumbprints into the provider resource. */
TM_MUST_CHECK int tm__aws_iam_parse_oidc(cJSON *resource, const char *body, size_t len, char *errmsg,
                                         size_t errmsg_len);
/* ListSAMLProviders: one aws:iam:saml-provider resource each. */
TM_MUST_CHECK int tm__aws_iam_parse_saml(const struct tm_aws_sink *sink, const char *body, size_t len, char *errmsg,
                                         size_t errmsg_len);

#endif
