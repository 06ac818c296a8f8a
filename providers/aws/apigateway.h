/* Amazon API Gateway REST APIs (v1, REST-JSON, lists under "item", pages by "position").
 *
 * A REST API is recorded with its endpoint configuration and resource policy; each deployed stage
 * with its client certificate and WAF association; and each method once per stage, identified by the
 * execute-api ARN a caller's request is authorised against (arn:aws:execute-api:R:A:ID/STAGE/METHOD/PATH),
 * with its authorization, API key requirement and integration, linked to the Lambda function it calls.
 *
 * Methods come from the API's current resources (GetResources?embed=methods): a stage serves its last
 * deployment, which may lag behind them. */
#ifndef TM_PROVIDERS_AWS_APIGATEWAY_H
#define TM_PROVIDERS_AWS_APIGATEWAY_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_apigateway;

/* GetRestApis page: records each API (endpoint_types, vpc_endpoint_ids, disable_execute_api_endpoint,
 * api_key_source, policies.resource parsed from the escaped `policy` string, null when absent; a policy
 * that does not parse is unknown with a MalformedPolicyDocument error). Pushes each API id onto ids;
 * *position is the next page's token (malloc'd) or NULL. */
TM_MUST_CHECK int tm__aws_apigw_parse_rest_apis(const struct tm_aws_facts *f, const char *body, size_t len,
                                                struct tm_aws_strv *ids, char **position, char *errmsg,
                                                size_t errmsg_len);

/* GetResources?embed=methods page: appends one descriptor per method to the array `methods`:
 * {path, http_method, authorization_type, authorizer_id, api_key_required, integration}. */
TM_MUST_CHECK int tm__aws_apigw_parse_resources(cJSON *methods, const char *body, size_t len, char **position,
                                                char *errmsg, size_t errmsg_len);

/* GetAuthorizers page: adds to the object `authorizers` one member per authorizer, keyed by id:
 * {id, type, name, authorizer_uri, provider_arns, identity_source}. */
TM_MUST_CHECK int tm__aws_apigw_parse_authorizers(cJSON *authorizers, const char *body, size_t len, char **position,
                                                  char *errmsg, size_t errmsg_len);

/* GetStages: records each stage of API api_id (deployment_id, client_certificate_id, web_acl_arn, link
 * member-of -> the API), pushes each stage name onto names. */
TM_MUST_CHECK int tm__aws_apigw_parse_stages(const struct tm_aws_facts *f, const char *api_id, const char *body,
                                             size_t len, struct tm_aws_strv *names, char *errmsg, size_t errmsg_len);

/* GetUsagePlans page: adds to the object `by_stage` members keyed "API_ID/STAGE", each an array of
 * {id, name} of the plans that cover that stage. */
TM_MUST_CHECK int tm__aws_apigw_parse_usage_plans(cJSON *by_stage, const char *body, size_t len, char **position,
                                                  char *errmsg, size_t errmsg_len);

/* Records one aws:apigateway:method per (stage, method descriptor) of API api_id. authorizers is the
 * object built by tm__aws_apigw_parse_authorizers, or NULL when they could not be read: then a method
 * with an authorizer records a copy of authorizers_unknown (an unknown marker) as its authorizer. */
TM_MUST_CHECK int tm__aws_apigw_put_methods(const struct tm_aws_facts *f, const char *api_id, const cJSON *methods,
                                            const cJSON *authorizers, const cJSON *authorizers_unknown,
                                            const struct tm_aws_strv *stages);

/* The ARNs of an API and of one of its stages (arn:PARTITION:apigateway:REGION::/restapis/ID[/stages/S]). */
TM_MUST_CHECK int tm__aws_apigw_api_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id);
TM_MUST_CHECK int tm__aws_apigw_stage_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id,
                                          const char *stage);

/* Helpers the REST (v1) and HTTP/WebSocket (v2) parsers share. */

/* API, resource, stage, route and authorizer ids are short tokens; one with a separator in it would make
 * ARNs that name something else. */
bool tm__aws_apigw_valid_id(const char *id);

/* Copies member `from` of src to `to` of dst when it is a string (null when absent or null); false when
 * it is of another type. *rc becomes TM_ERR_NOMEM when the copy cannot be added. */
bool tm__aws_apigw_copy_str(cJSON *dst, const char *to, const cJSON *src, const char *from, int *rc);

/* The value of the entry of table (authorizers, integrations) a method or route refers to by id: null
 * when id is NULL; a copy of unknown (or a bare unknown marker) when the table could not be read; a copy
 * of the entry; else, the table not listing it, the unknown marker of a MalformedResponse error recorded
 * against api_arn: "<operation>: <id_label><id> used by <used_by> is not listed". */
TM_MUST_CHECK int tm__aws_apigw_lookup(cJSON **out, const struct tm_aws_facts *f, const char *api_arn,
                                       const char *operation, const cJSON *table, const cJSON *unknown, const char *id,
                                       const char *id_label, const char *used_by);

/* Links res integrates-with -> the Lambda function an integration URI names: the unqualified function,
 * and the qualified ARN too when the qualifier is literal (not a ${stageVariables.x} reference). */
TM_MUST_CHECK int tm__aws_apigw_link_integration(cJSON *res, const char *uri);

#endif
