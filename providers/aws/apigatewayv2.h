/* Amazon API Gateway HTTP and WebSocket APIs (v2, REST-JSON under /v2, lists under "items", pages by
 * "nextToken").
 *
 * An API is recorded with its protocol, endpoint and CORS configuration; each route once per stage,
 * identified by the execute-api ARN a request is authorised against (ID/STAGE/GET/pets for "GET /pets",
 * ID/STAGE/$default, ID/STAGE/$connect), with its authorization (JWT issuer and audience), API key
 * requirement and integration, linked to the Lambda function it calls. */
#ifndef TM_PROVIDERS_AWS_APIGATEWAYV2_H
#define TM_PROVIDERS_AWS_APIGATEWAYV2_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_apigatewayv2;

/* GetApis page: records each API (protocol_type, api_endpoint, disable_execute_api_endpoint, cors) and
 * pushes its id onto ids. */
TM_MUST_CHECK int tm__aws_apigwv2_parse_apis(const struct tm_aws_facts *f, const char *body, size_t len,
                                             struct tm_aws_strv *ids, char **next_token, char *errmsg,
                                             size_t errmsg_len);

/* GetRoutes page: appends {route_id, route_key, authorization_type, authorizer_id, api_key_required,
 * target} per route to the array routes. */
TM_MUST_CHECK int tm__aws_apigwv2_parse_routes(cJSON *routes, const char *body, size_t len, char **next_token,
                                               char *errmsg, size_t errmsg_len);

/* GetIntegrations page: adds {type, uri, http_method, connection_type, credentials_arn} per
 * integration, keyed by integration id, to the object integrations. */
TM_MUST_CHECK int tm__aws_apigwv2_parse_integrations(cJSON *integrations, const char *body, size_t len,
                                                     char **next_token, char *errmsg, size_t errmsg_len);

/* GetAuthorizers page: adds {id, type, name, issuer, audience, authorizer_uri, identity_source} per
 * authorizer, keyed by authorizer id, to the object authorizers. */
TM_MUST_CHECK int tm__aws_apigwv2_parse_authorizers(cJSON *authorizers, const char *body, size_t len, char **next_token,
                                                    char *errmsg, size_t errmsg_len);

/* GetStages page: pushes each stage name onto names. */
TM_MUST_CHECK int tm__aws_apigwv2_parse_stages(struct tm_aws_strv *names, const char *body, size_t len,
                                               char **next_token, char *errmsg, size_t errmsg_len);

/* The parts of one API read by separate calls. A NULL object means its call failed: each route that
 * needs it records a copy of the matching unknown marker instead. */
struct tm_aws_apigwv2_parts {
    const cJSON *routes;
    const cJSON *integrations;
    const cJSON *integrations_unknown;
    const cJSON *authorizers;
    const cJSON *authorizers_unknown;
    const struct tm_aws_strv *stages;
};

/* Records one aws:apigatewayv2:route per (stage, route) of API api_id. */
TM_MUST_CHECK int tm__aws_apigwv2_put_routes(const struct tm_aws_facts *f, const char *api_id,
                                             const struct tm_aws_apigwv2_parts *parts);

/* arn:PARTITION:apigateway:REGION::/apis/ID */
TM_MUST_CHECK int tm__aws_apigwv2_api_arn(char *out, size_t out_len, const struct tm_aws_facts *f, const char *api_id);

/* The resource part of a route's execute-api ARN: "ID/STAGE/GET/pets", "ID/STAGE/$default". */
TM_MUST_CHECK int tm__aws_apigwv2_route_path(char *out, size_t out_len, const char *api_id, const char *stage,
                                             const char *route_key);

#endif
