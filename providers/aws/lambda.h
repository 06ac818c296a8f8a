/* AWS Lambda (REST-JSON, /2015-03-31 and /2021-10-31): functions, their resource policies, function
 * URLs, event source mappings and the aliases that carry their own policy or URL.
 *
 * Environment variable values never outlive the response: tm__aws_lambda_scrub_environment overwrites
 * them in the response body before it is parsed, so only the names reach the snapshot. */
#ifndef TM_PROVIDERS_AWS_LAMBDA_H
#define TM_PROVIDERS_AWS_LAMBDA_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_lambda;

/* Overwrites in place every value inside every "Variables" object of a Lambda response with '*'
 * (same length, so the body stays valid JSON with its names intact). Safe on any bytes, including
 * truncated or malformed JSON: a value cut off by the end of the body is overwritten to the end. */
void tm__aws_lambda_scrub_environment(char *body, size_t len);

/* ListFunctions page: records each function (runtime, role, vpc, environment_variable_names, layers,
 * package_type, link executes-as -> role). The body is scrubbed first. Pushes each function ARN onto
 * arns; *next_marker is the NextMarker (malloc'd) or NULL on the last page. */
TM_MUST_CHECK int tm__aws_lambda_parse_functions(const struct tm_aws_facts *f, char *body, size_t len,
                                                 struct tm_aws_strv *arns, char **next_marker, char *errmsg,
                                                 size_t errmsg_len);

/* GetPolicy: the resource policy document carried in "Policy". */
TM_MUST_CHECK int tm__aws_lambda_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg,
                                              size_t errmsg_len);

/* GetFunctionUrlConfig: {auth_type, function_url, cors} (cors null when absent). */
TM_MUST_CHECK int tm__aws_lambda_parse_url(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

/* ListEventSourceMappings page: records each mapping and links the function (unqualified ARN)
 * triggered-by -> the event source; pushes each such function ARN onto functions (when not NULL). */
TM_MUST_CHECK int tm__aws_lambda_parse_event_source_mappings(const struct tm_aws_facts *f, const char *body, size_t len,
                                                             struct tm_aws_strv *functions, char **next_marker,
                                                             char *errmsg, size_t errmsg_len);

struct tm_aws_lambda_alias {
    char *arn;
    char *name;
    char *function_version;
};

struct tm_aws_lambda_aliases {
    struct tm_aws_lambda_alias *v;
    size_t n;
    size_t cap;
};

/* ListAliases page: appends the aliases to out. */
TM_MUST_CHECK int tm__aws_lambda_parse_aliases(struct tm_aws_lambda_aliases *out, const char *body, size_t len,
                                               char **next_marker, char *errmsg, size_t errmsg_len);
void tm__aws_lambda_aliases_clean_up(struct tm_aws_lambda_aliases *a);

/* The unqualified function ARN ("arn:aws:lambda:R:A:function:NAME") of a possibly qualified one
 * (":ALIAS" or ":VERSION" appended); NULL when arn is not a Lambda function ARN. malloc'd. */
char *tm__aws_lambda_unqualified_arn(const char *arn);

/* The function ARN inside an API Gateway Lambda integration URI
 * ("arn:aws:apigateway:R:lambda:path/2015-03-31/functions/<ARN>/invocations"), or the URI itself when
 * it already is a function ARN (API Gateway v2). NULL when the URI names no function. malloc'd. */
char *tm__aws_lambda_arn_from_uri(const char *uri);

#endif
