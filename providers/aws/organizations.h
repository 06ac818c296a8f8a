/* Organizations (global): the organization the account belongs to and the service and resource
 * control policies that apply to it (attached to the account or to any parent up to the root). */
#ifndef TM_PROVIDERS_AWS_ORGANIZATIONS_H
#define TM_PROVIDERS_AWS_ORGANIZATIONS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_organizations;
extern const struct tm_aws_api tm__aws_api_organizations;

/* What DescribeOrganization says. */
struct tm__aws_org {
    cJSON *organization; /* {id, arn, master_account_id}; `accounts` is added from ListAccounts */
    bool all_features;   /* FeatureSet "ALL": policies can apply */
    bool types_listed;   /* AvailablePolicyTypes was present */
    bool scp_enabled;    /* SERVICE_CONTROL_POLICY listed ENABLED */
    bool rcp_enabled;    /* RESOURCE_CONTROL_POLICY listed ENABLED */
};

TM_MUST_CHECK int tm__aws_org_parse_organization(struct tm__aws_org *out, const char *body, size_t len, char *errmsg,
                                                 size_t errmsg_len);
/* One page of ListAccounts: member account ids appended to out (strings). */
TM_MUST_CHECK int tm__aws_org_parse_accounts(cJSON *out, char **next_token, const char *body, size_t len, char *errmsg,
                                             size_t errmsg_len);
/* ListParents: the first parent's id and type ("ROOT", "ORGANIZATIONAL_UNIT"), malloc'd. An account
 * and an OU have exactly one parent. */
TM_MUST_CHECK int tm__aws_org_parse_parents(char **id, char **type, const char *body, size_t len, char *errmsg,
                                            size_t errmsg_len);
/* One page of ListPoliciesForTarget: {id, name, arn} objects appended to out. */
TM_MUST_CHECK int tm__aws_org_parse_policies(cJSON *out, char **next_token, const char *body, size_t len, char *errmsg,
                                             size_t errmsg_len);
/* DescribePolicy: the policy's content as a JSON document. */
TM_MUST_CHECK int tm__aws_org_parse_policy(cJSON **document, const char *body, size_t len, char *errmsg,
                                           size_t errmsg_len);

#endif
