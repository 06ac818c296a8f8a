#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "providers/aws/apigateway.h"
#include "providers/aws/apigatewayv2.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"
#include "tests/support/aws_parse.h"
#include "providers/aws/facts.h"

/* Bodies as API Gateway sends them (botocore apigateway/2015-07-09 and apigatewayv2/2018-11-29 shapes:
 * v1 lists under "item" with "position", v2 under "items" with "nextToken"). The REST API policy is
 * escaped twice, quotes and forward slashes, as the service returns it. */
static const char s_v1_GetRestApis[] =
    "{\"item\":[{\"id\":\"a1b2c3d4e5\",\"name\":\"demo-public-api\",\"description\":\"orders\",\"createdD"
    "ate\":1700000000,\"apiKeySource\":\"HEADER\",\"endpointConfiguration\":{\"types\":[\"REGIONAL\"]},\""
    "policy\":\"{\\\\\\\"Version\\\\\\\":\\\\\\\"2012-10-17\\\\\\\",\\\\\\\"Statement\\\\\\\":[{\\\\\\\"E"
    "ffect\\\\\\\":\\\\\\\"Allow\\\\\\\",\\\\\\\"Principal\\\\\\\":\\\\\\\"*\\\\\\\",\\\\\\\"Action\\\\\\"
    "\":\\\\\\\"execute-api:Invoke\\\\\\\",\\\\\\\"Resource\\\\\\\":\\\\\\\"arn:aws:execute-api:us-east-1"
    ":111122223333:a1b2c3d4e5\\\\/*\\\\\\\",\\\\\\\"Condition\\\\\\\":{\\\\\\\"IpAddress\\\\\\\":{\\\\\\"
    "\"aws:SourceIp\\\\\\\":\\\\\\\"10.0.0.0\\\\/8\\\\\\\"}}}]}\",\"disableExecuteApiEndpoint\":false},{"
    "\"id\":\"p9q8r7s6t5\",\"name\":\"demo-private-api\",\"createdDate\":1700000001,\"apiKeySource\":\"AU"
    "THORIZER\",\"endpointConfiguration\":{\"types\":[\"PRIVATE\"],\"vpcEndpointIds\":[\"vpce-0bbb\",\"vp"
    "ce-0aaa\"]},\"disableExecuteApiEndpoint\":true,\"policy\":\"{\\\"Version\\\":\\\"2012-10-17\\\",\\\""
    "Statement\\\":[{\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":\\\"*\\\",\\\"Action\\\":\\\"execute-"
    "api:Invoke\\\",\\\"Resource\\\":\\\"arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/*\\\",\\\""
    "Condition\\\":{\\\"IpAddress\\\":{\\\"aws:SourceIp\\\":\\\"10.0.0.0/8\\\"}}}]}\"},{\"id\":\"zzzzzzzz"
    "zz\",\"name\":\"broken-policy\",\"endpointConfiguration\":{\"types\":[\"EDGE\"]},\"policy\":\"{\\\\"
    "\\\"Version\\\\\\\":\"}],\"position\":\"cG9zaXRpb24y\"}";

static const char s_v1_GetResources[] =
    "{\"item\":[{\"id\":\"r00t00\",\"path\":\"/\",\"resourceMethods\":{\"GET\":{\"httpMethod\":\"GET\",\""
    "authorizationType\":\"NONE\",\"apiKeyRequired\":false,\"methodIntegration\":{\"type\":\"MOCK\",\"pas"
    "sthroughBehavior\":\"WHEN_NO_MATCH\",\"requestTemplates\":{\"application/json\":\"{\\\"statusCode\\"
    "\": 200}\"},\"timeoutInMillis\":29000,\"cacheNamespace\":\"r00t00\",\"cacheKeyParameters\":[]}}}},{"
    "\"id\":\"abc123\",\"parentId\":\"r00t00\",\"pathPart\":\"orders\",\"path\":\"/orders\",\"resourceMet"
    "hods\":{\"GET\":{\"httpMethod\":\"GET\",\"authorizationType\":\"COGNITO_USER_POOLS\",\"authorizerId"
    "\":\"auth01\",\"apiKeyRequired\":true,\"authorizationScopes\":[\"orders/read\"],\"methodIntegration"
    "\":{\"type\":\"AWS_PROXY\",\"httpMethod\":\"POST\",\"uri\":\"arn:aws:apigateway:us-east-1:lambda:pat"
    "h/2015-03-31/functions/arn:aws:lambda:us-east-1:111122223333:function:demo-orders/invocations\",\"pa"
    "ssthroughBehavior\":\"WHEN_NO_MATCH\",\"contentHandling\":\"CONVERT_TO_TEXT\",\"timeoutInMillis\":29"
    "000,\"cacheNamespace\":\"abc123\",\"cacheKeyParameters\":[]}},\"POST\":{\"httpMethod\":\"POST\",\"au"
    "thorizationType\":\"AWS_IAM\",\"apiKeyRequired\":false,\"methodIntegration\":{\"type\":\"AWS_PROXY\""
    ",\"httpMethod\":\"POST\",\"uri\":\"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn"
    ":aws:lambda:us-east-1:111122223333:function:demo-orders:live/invocations\"}},\"DELETE\":{\"httpMetho"
    "d\":\"DELETE\",\"authorizationType\":\"NONE\",\"apiKeyRequired\":false}}},{\"id\":\"def456\",\"paren"
    "tId\":\"abc123\",\"pathPart\":\"{id}\",\"path\":\"/orders/{id}\",\"resourceMethods\":{\"ANY\":{\"htt"
    "pMethod\":\"ANY\",\"authorizationType\":\"CUSTOM\",\"authorizerId\":\"auth02\",\"apiKeyRequired\":fa"
    "lse,\"methodIntegration\":{\"type\":\"HTTP_PROXY\",\"httpMethod\":\"ANY\",\"uri\":\"https://backend."
    "example.com/orders/{id}\",\"connectionType\":\"INTERNET\"}}}},{\"id\":\"ghi789\",\"parentId\":\"r00t"
    "00\",\"pathPart\":\"health\",\"path\":\"/health\"}]}";

static const char s_v1_GetAuthorizers[] =
    "{\"item\":[{\"id\":\"auth01\",\"name\":\"orders-pool\",\"type\":\"COGNITO_USER_POOLS\",\"providerARN"
    "s\":[\"arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_AbCdEf\"],\"identitySource\":\""
    "method.request.header.Authorization\"},{\"id\":\"auth02\",\"name\":\"token-check\",\"type\":\"TOKEN"
    "\",\"authType\":\"custom\",\"authorizerUri\":\"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/f"
    "unctions/arn:aws:lambda:us-east-1:111122223333:function:demo-authz/invocations\",\"identitySource\":"
    "\"method.request.header.Authorization\",\"authorizerResultTtlInSeconds\":300}]}";

static const char s_v1_GetStages[] =
    "{\"item\":[{\"deploymentId\":\"dep001\",\"stageName\":\"prod\",\"cacheClusterEnabled\":false,\"cache"
    "ClusterStatus\":\"NOT_AVAILABLE\",\"methodSettings\":{},\"variables\":{\"backend\":\"prod\"},\"traci"
    "ngEnabled\":false,\"webAclArn\":\"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/demo-acl/0a1b"
    "2c3d\",\"createdDate\":1700000000,\"lastUpdatedDate\":1700000000},{\"deploymentId\":\"dep002\",\"cli"
    "entCertificateId\":\"cc0001\",\"stageName\":\"dev\",\"cacheClusterEnabled\":false,\"methodSettings\""
    ":{},\"tracingEnabled\":false,\"createdDate\":1700000000,\"lastUpdatedDate\":1700000000}]}";

static const char s_v1_GetUsagePlans[] =
    "{\"item\":[{\"id\":\"plan01\",\"name\":\"basic\",\"apiStages\":[{\"apiId\":\"a1b2c3d4e5\",\"stage\":"
    "\"prod\"}],\"throttle\":{\"burstLimit\":10,\"rateLimit\":5.0},\"quota\":{\"limit\":1000,\"offset\":0"
    ",\"period\":\"DAY\"}},{\"id\":\"plan02\",\"name\":\"partner\",\"apiStages\":[{\"apiId\":\"a1b2c3d4e5"
    "\",\"stage\":\"prod\"},{\"apiId\":\"p9q8r7s6t5\",\"stage\":\"dev\"}]}]}";

static const char s_v2_GetApis[] =
    "{\"items\":[{\"apiEndpoint\":\"https://h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com\",\"apiId\":\""
    "h1t2p3a4p5\",\"apiKeySelectionExpression\":\"$request.header.x-api-key\",\"corsConfiguration\":{\"al"
    "lowCredentials\":true,\"allowHeaders\":[\"authorization\"],\"allowMethods\":[\"GET\",\"POST\"],\"all"
    "owOrigins\":[\"*\"],\"maxAge\":600},\"createdDate\":\"2023-11-14T22:13:20Z\",\"disableExecuteApiEndp"
    "oint\":false,\"name\":\"demo-http\",\"protocolType\":\"HTTP\",\"routeSelectionExpression\":\"$reques"
    "t.method $request.path\",\"tags\":{}},{\"apiEndpoint\":\"wss://w1s2o3c4k5.execute-api.eu-west-1.amaz"
    "onaws.com\",\"apiId\":\"w1s2o3c4k5\",\"apiKeySelectionExpression\":\"$request.header.x-api-key\",\"c"
    "reatedDate\":\"2023-11-14T22:13:20Z\",\"disableExecuteApiEndpoint\":true,\"name\":\"demo-ws\",\"prot"
    "ocolType\":\"WEBSOCKET\",\"routeSelectionExpression\":\"$request.body.action\"}],\"nextToken\":\"dG9"
    "rZW4y\"}";

static const char s_v2_GetRoutes[] =
    "{\"items\":[{\"apiKeyRequired\":false,\"authorizationType\":\"JWT\",\"authorizerId\":\"jwt001\",\"au"
    "thorizationScopes\":[\"orders.read\"],\"routeId\":\"rt0001\",\"routeKey\":\"GET /orders\",\"target\""
    ":\"integrations/in0001\"},{\"apiKeyRequired\":false,\"authorizationType\":\"NONE\",\"routeId\":\"rt0"
    "002\",\"routeKey\":\"$default\",\"target\":\"integrations/in0002\"},{\"apiKeyRequired\":true,\"autho"
    "rizationType\":\"AWS_IAM\",\"routeId\":\"rt0003\",\"routeKey\":\"ANY /admin/{proxy+}\",\"target\":\""
    "integrations/in0001\"},{\"apiKeyRequired\":false,\"authorizationType\":\"NONE\",\"routeId\":\"rt0004"
    "\",\"routeKey\":\"POST /noop\"}]}";

static const char s_v2_GetIntegrations[] =
    "{\"items\":[{\"connectionType\":\"INTERNET\",\"integrationId\":\"in0001\",\"integrationMethod\":\"PO"
    "ST\",\"integrationType\":\"AWS_PROXY\",\"integrationUri\":\"arn:aws:lambda:eu-west-1:111122223333:fu"
    "nction:demo-http\",\"payloadFormatVersion\":\"2.0\",\"timeoutInMillis\":30000},{\"connectionType\":"
    "\"INTERNET\",\"integrationId\":\"in0002\",\"integrationMethod\":\"ANY\",\"integrationType\":\"HTTP_P"
    "ROXY\",\"integrationUri\":\"https://legacy.example.com\",\"payloadFormatVersion\":\"1.0\",\"timeoutI"
    "nMillis\":30000}]}";

static const char s_v2_GetAuthorizers[] =
    "{\"items\":[{\"authorizerId\":\"jwt001\",\"authorizerType\":\"JWT\",\"identitySource\":[\"$request.h"
    "eader.Authorization\"],\"jwtConfiguration\":{\"audience\":[\"demo-client\"],\"issuer\":\"https://cog"
    "nito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf\"},\"name\":\"cognito-jwt\"}]}";

static const char s_v2_GetStages[] =
    "{\"items\":[{\"apiGatewayManaged\":true,\"autoDeploy\":true,\"createdDate\":\"2023-11-14T22:13:20Z\""
    ",\"defaultRouteSettings\":{\"detailedMetricsEnabled\":false},\"deploymentId\":\"dp0001\",\"lastUpdat"
    "edDate\":\"2023-11-14T22:13:20Z\",\"routeSettings\":{},\"stageName\":\"$default\",\"stageVariables\""
    ":{},\"tags\":{}}]}";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("us-east-1", "apigateway", "GetRestApis");
    return 0;
}

static int s_link_count(const cJSON *res) {
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(res, "links"));
}

static void test_rest_apis(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *position = NULL;
    assert_int_equal(tm__aws_apigw_parse_rest_apis(&fx->f, s_v1_GetRestApis, strlen(s_v1_GetRestApis), &fx->items,
                                                   &position, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(position, "cG9zaXRpb24y");
    free(position);
    assert_int_equal(fx->items.n, 3);

    const cJSON *pub = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5");
    assert_non_null(pub);
    assert_string_equal(tm_json_str(pub, "type", ""), "aws:apigateway:restapi");
    assert_string_equal(tm_json_str(pub, "account", ""), "111122223333");
    assert_string_equal(tm_json_str(pub, "name", ""), "demo-public-api");
    tm_test_aws_assert_json(tm_test_aws_attr(pub, "endpoint_types"), "[\"REGIONAL\"]");
    tm_test_aws_assert_json(tm_test_aws_attr(pub, "vpc_endpoint_ids"), "[]");
    assert_true(cJSON_IsFalse(tm_test_aws_attr(pub, "disable_execute_api_endpoint")));
    assert_string_equal(tm_test_aws_attr(pub, "api_key_source")->valuestring, "HEADER");
    /* The twice-escaped policy is stored as the document, slashes unescaped. */
    const cJSON *doc = tm_test_aws_policy(pub);
    assert_string_equal(tm_json_str(doc, "Version", ""), "2012-10-17");
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0);
    assert_string_equal(tm_json_str(st, "Resource", ""), "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/*");
    assert_string_equal(
        tm_json_str(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "Condition"), "IpAddress"), "aws:SourceIp", ""),
        "10.0.0.0/8");

    const cJSON *priv = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/p9q8r7s6t5");
    tm_test_aws_assert_json(tm_test_aws_attr(priv, "endpoint_types"), "[\"PRIVATE\"]");
    tm_test_aws_assert_json(tm_test_aws_attr(priv, "vpc_endpoint_ids"), "[\"vpce-0aaa\",\"vpce-0bbb\"]");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(priv, "disable_execute_api_endpoint")));
    /* A policy escaped only once is read as well. */
    assert_string_equal(tm_json_str(tm_test_aws_policy(priv), "Version", ""), "2012-10-17");

    /* A policy that is not JSON: unknown, with the error recorded, never a crash or a null. */
    const cJSON *broken = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/zzzzzzzzzz");
    assert_true(tm_snapshot_is_unknown(tm_test_aws_policy(broken)));
    assert_true(cJSON_IsNull(tm_test_aws_attr(broken, "api_key_source")));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 1);
    const cJSON *err = cJSON_GetArrayItem(tm_snapshot_errors(fx->snap), 0);
    assert_string_equal(tm_json_str(err, "code", ""), TM_AWS_CODE_MALFORMED_POLICY);
    assert_string_equal(tm_json_str(err, "resource", ""), "arn:aws:apigateway:us-east-1::/restapis/zzzzzzzzzz");
}

static void test_rest_apis_adversarial(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *position = NULL;
    const char *mixed =
        "{\"item\":[{\"id\":\"good000001\",\"endpointConfiguration\":{\"types\":\"EDGE\"},\"policy\":42,"
        "\"disableExecuteApiEndpoint\":\"no\"},{\"id\":\"../../x\"},{\"name\":\"no-id\"},\"str\","
        "{\"id\":\"u\u00e9\u2603\",\"name\":\"\u00fcnic\u00f6de\",\"endpointConfiguration\":[]}]}";
    assert_int_equal(tm__aws_apigw_parse_rest_apis(&fx->f, mixed, strlen(mixed), &fx->items, &position, fx->errmsg,
                                                   sizeof(fx->errmsg)),
                     TM_OK);
    const cJSON *g = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/good000001");
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(g, "endpoint_types")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(g, "disable_execute_api_endpoint")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_policy(g)));
    const cJSON *u = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/u\u00e9\u2603");
    assert_non_null(u);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(u, "endpoint_types")));
    assert_int_equal(fx->items.n, 2);
    /* 3 facts of good000001, 2 of the unicode one, 3 unusable items. */
    assert_int_equal(tm_snapshot_error_count(fx->snap), 8);

    const char *bad[] = {"{\"item\":{}}", "{\"item\":[],\"position\":[]}", "{\"item\":[", "null", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tm__aws_apigw_parse_rest_apis(&fx->f, bad[i], strlen(bad[i]), &fx->items, &position,
                                                       fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_null(position);
    }
}

static void test_policy_escaping(void **state) {
    struct tm_test_aws_parse *fx = *state;
    cJSON *doc = NULL;
    const char *plain = "{\"Version\":\"2012-10-17\",\"Statement\":[]}";
    assert_int_equal(tm__aws_policy_parse(&doc, plain, strlen(plain), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    cJSON_Delete(doc);
    const char *twice = "{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Resource\\\":\\\"a\\/b\\\"}]}";
    assert_int_equal(tm__aws_policy_parse(&doc, twice, strlen(twice), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_string_equal(tm_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0), "Resource", ""),
                        "a/b");
    cJSON_Delete(doc);
    const char *bad[] = {"{\\\"Version\\\":", "\"just a string\"", "[]", "", "{\\x}", "\\\"", "{\"a\":1}}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = NULL;
        assert_int_equal(tm__aws_policy_parse(&doc, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_null(doc);
        assert_non_null(strstr(fx->errmsg, "policy"));
    }
}

static cJSON *s_parse_methods(struct tm_test_aws_parse *fx) {
    cJSON *methods = cJSON_CreateArray();
    char *position = NULL;
    assert_int_equal(tm__aws_apigw_parse_resources(methods, s_v1_GetResources, strlen(s_v1_GetResources), &position,
                                                   fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_null(position);
    return methods;
}

static cJSON *s_parse_authorizers(struct tm_test_aws_parse *fx) {
    cJSON *auths = cJSON_CreateObject();
    char *position = NULL;
    assert_int_equal(tm__aws_apigw_parse_authorizers(auths, s_v1_GetAuthorizers, strlen(s_v1_GetAuthorizers), &position,
                                                     fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    return auths;
}

static void test_resources_and_authorizers(void **state) {
    struct tm_test_aws_parse *fx = *state;
    cJSON *methods = s_parse_methods(fx);
    assert_int_equal(cJSON_GetArraySize(methods), 5);
    tm_test_aws_assert_json(
        cJSON_GetArrayItem(methods, 0),
        "{\"path\":\"/\",\"http_method\":\"GET\",\"api_key_required\":false,\"authorization_type\":\"NONE\","
        "\"authorizer_id\":null,\"integration\":{\"type\":\"MOCK\",\"uri\":null,\"http_method\":null,"
        "\"connection_type\":null,\"credentials\":null}}");
    const cJSON *del = cJSON_GetArrayItem(methods, 3);
    assert_string_equal(tm_json_str(del, "http_method", ""), "DELETE");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(del, "integration")));
    cJSON *auths = s_parse_authorizers(fx);
    tm_test_aws_assert_json(
        cJSON_GetObjectItem(auths, "auth01"),
        "{\"id\":\"auth01\",\"type\":\"COGNITO_USER_POOLS\",\"name\":\"orders-pool\",\"authorizer_uri\":null,"
        "\"identity_source\":\"method.request.header.Authorization\",\"provider_arns\":[\"arn:aws:cognito-"
        "idp:us-east-1:111122223333:userpool/us-east-1_AbCdEf\"]}");
    cJSON_Delete(methods);
    cJSON_Delete(auths);

    const char *bad[] = {
        "{\"item\":[{\"path\":\"/x\",\"resourceMethods\":{\"GET\":{\"apiKeyRequired\":\"yes\"}}}]}",
        "{\"item\":[{\"path\":\"/x\",\"resourceMethods\":{\"GET\":{\"methodIntegration\":\"AWS\"}}}]}",
        "{\"item\":[{\"path\":\"/x\",\"resourceMethods\":{\"GET\":{\"authorizationType\":[]}}}]}",
        "{\"item\":[{\"path\":\"/x\",\"resourceMethods\":[]}]}",
        "{\"item\":[{\"resourceMethods\":{}}]}",
        "{\"item\":[{\"path\":\"x\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        methods = cJSON_CreateArray();
        char *position = NULL;
        assert_int_equal(
            tm__aws_apigw_parse_resources(methods, bad[i], strlen(bad[i]), &position, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_non_null(strstr(fx->errmsg, "GetResources"));
        cJSON_Delete(methods);
    }
    auths = cJSON_CreateObject();
    char *position = NULL;
    const char *bad_auth = "{\"item\":[{\"id\":\"a\",\"providerARNs\":\"arn\"}]}";
    assert_int_equal(
        tm__aws_apigw_parse_authorizers(auths, bad_auth, strlen(bad_auth), &position, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
    cJSON_Delete(auths);
}

static void test_stages_and_plans(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.operation = "GetStages";
    struct tm_aws_strv names = {0};
    assert_int_equal(tm__aws_apigw_parse_stages(&fx->f, "a1b2c3d4e5", s_v1_GetStages, strlen(s_v1_GetStages), &names,
                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(names.n, 2);
    const cJSON *prod = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod");
    assert_non_null(prod);
    assert_string_equal(tm_json_str(prod, "type", ""), "aws:apigateway:stage");
    assert_string_equal(tm_test_aws_attr(prod, "web_acl_arn")->valuestring,
                        "arn:aws:wafv2:us-east-1:111122223333:regional/webacl/demo-acl/0a1b2c3d");
    assert_true(cJSON_IsNull(tm_test_aws_attr(prod, "client_certificate_id")));
    assert_string_equal(tm_test_aws_attr(prod, "deployment_id")->valuestring, "dep001");
    assert_true(tm_test_aws_has_link(prod, "member-of", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5"));
    const cJSON *dev = tm_snapshot_find(fx->snap, "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/dev");
    assert_string_equal(tm_test_aws_attr(dev, "client_certificate_id")->valuestring, "cc0001");
    assert_true(cJSON_IsNull(tm_test_aws_attr(dev, "web_acl_arn")));
    /* Stage variables are not recorded. */
    char *out = NULL;
    assert_int_equal(tm_snapshot_serialize(fx->snap, &out, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_null(strstr(out, "backend"));
    free(out);
    tm__aws_strv_clean_up(&names);

    cJSON *plans = cJSON_CreateObject();
    char *position = NULL;
    assert_int_equal(tm__aws_apigw_parse_usage_plans(plans, s_v1_GetUsagePlans, strlen(s_v1_GetUsagePlans), &position,
                                                     fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    tm_test_aws_assert_json(plans,
                            "{\"a1b2c3d4e5/prod\":[{\"id\":\"plan01\",\"name\":\"basic\"},{\"id\":\"plan02\",\"name\":"
                            "\"partner\"}],\"p9q8r7s6t5/dev\":[{\"id\":\"plan02\",\"name\":\"partner\"}]}");
    const char *bad = "{\"item\":[{\"id\":\"p\",\"apiStages\":[{\"apiId\":\"a\"}]}]}";
    assert_int_equal(
        tm__aws_apigw_parse_usage_plans(plans, bad, strlen(bad), &position, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
    cJSON_Delete(plans);
}

static void test_methods(void **state) {
    struct tm_test_aws_parse *fx = *state;
    cJSON *methods = s_parse_methods(fx);
    cJSON *auths = s_parse_authorizers(fx);
    struct tm_aws_strv stages = {0};
    assert_int_equal(tm__aws_strv_push(&stages, "prod"), TM_OK);
    assert_int_equal(tm__aws_strv_push(&stages, "dev"), TM_OK);
    assert_int_equal(tm__aws_apigw_put_methods(&fx->f, "a1b2c3d4e5", methods, auths, NULL, &stages), TM_OK);
    assert_int_equal(tm_snapshot_count(fx->snap), 10);

    const cJSON *root = tm_snapshot_find(fx->snap, "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/");
    assert_non_null(root);
    assert_string_equal(tm_json_str(root, "type", ""), "aws:apigateway:method");
    assert_string_equal(tm_test_aws_attr(root, "path")->valuestring, "/");
    assert_true(cJSON_IsNull(tm_test_aws_attr(root, "authorizer")));
    assert_true(tm_test_aws_has_link(root, "member-of", "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5"));
    assert_int_equal(s_link_count(root), 1);

    const char *fn = "arn:aws:lambda:us-east-1:111122223333:function:demo-orders";
    const cJSON *get =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/dev/GET/orders");
    assert_non_null(get);
    assert_string_equal(tm_test_aws_attr(get, "stage")->valuestring, "dev");
    assert_string_equal(tm_test_aws_attr(get, "api_id")->valuestring, "a1b2c3d4e5");
    assert_string_equal(tm_test_aws_attr(get, "authorization_type")->valuestring, "COGNITO_USER_POOLS");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(get, "api_key_required")));
    assert_string_equal(tm_json_str(tm_test_aws_attr(get, "authorizer"), "name", ""), "orders-pool");
    assert_string_equal(tm_json_str(tm_test_aws_attr(get, "integration"), "type", ""), "AWS_PROXY");
    assert_true(tm_test_aws_has_link(get, "integrates-with", fn));

    /* A literal alias: linked to the function and to the alias. */
    const cJSON *post =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/POST/orders");
    assert_true(tm_test_aws_has_link(post, "integrates-with", fn));
    assert_true(tm_test_aws_has_link(post, "integrates-with",
                                     "arn:aws:lambda:us-east-1:111122223333:function:demo-orders:live"));

    const cJSON *any =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/ANY/orders/{id}");
    assert_non_null(any);
    assert_string_equal(tm_json_str(tm_test_aws_attr(any, "authorizer"), "type", ""), "TOKEN");
    assert_string_equal(tm_json_str(tm_test_aws_attr(any, "integration"), "uri", ""),
                        "https://backend.example.com/orders/{id}");
    assert_int_equal(s_link_count(any), 1); /* an HTTP backend is no function */

    /* Authorizers that could not be read: the methods that use one say unknown, the others null. */
    struct tm_snapshot_error e = {"apigateway", "GetAuthorizers", "us-east-1", NULL, "AccessDenied", "no", 1};
    cJSON *unknown = tm_aws_unknown_value(&e);
    assert_int_equal(tm__aws_apigw_put_methods(&fx->f, "a1b2c3d4e5", methods, NULL, unknown, &stages), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(get, "authorizer")));
    assert_true(cJSON_IsNull(tm_test_aws_attr(root, "authorizer")));

    /* An authorizer the API does not list is recorded as malformed, not guessed. */
    cJSON *empty = cJSON_CreateObject();
    size_t before = tm_snapshot_error_count(fx->snap);
    assert_int_equal(tm__aws_apigw_put_methods(&fx->f, "a1b2c3d4e5", methods, empty, NULL, &stages), TM_OK);
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(get, "authorizer")));
    assert_int_equal(tm_snapshot_error_count(fx->snap), before + 4);

    cJSON_Delete(empty);
    cJSON_Delete(unknown);
    cJSON_Delete(methods);
    cJSON_Delete(auths);
    tm__aws_strv_clean_up(&stages);
}

static void test_v2_apis(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.region = "eu-west-1";
    fx->f.service = "apigatewayv2";
    fx->f.operation = "GetApis";
    char *next = NULL;
    assert_int_equal(tm__aws_apigwv2_parse_apis(&fx->f, s_v2_GetApis, strlen(s_v2_GetApis), &fx->items, &next,
                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "dG9rZW4y");
    free(next);
    const cJSON *http = tm_snapshot_find(fx->snap, "arn:aws:apigateway:eu-west-1::/apis/h1t2p3a4p5");
    assert_non_null(http);
    assert_string_equal(tm_json_str(http, "type", ""), "aws:apigatewayv2:api");
    assert_string_equal(tm_test_aws_attr(http, "protocol_type")->valuestring, "HTTP");
    assert_string_equal(tm_test_aws_attr(http, "api_endpoint")->valuestring,
                        "https://h1t2p3a4p5.execute-api.eu-west-1.amazonaws.com");
    tm_test_aws_assert_json(tm_test_aws_attr(http, "cors"),
                            "{\"allow_credentials\":true,\"max_age\":600,\"allow_headers\":"
                            "[\"authorization\"],\"allow_methods\":[\"GET\",\"POST\"],\"allow_origins\":"
                            "[\"*\"],\"expose_headers\":[]}");
    const cJSON *ws = tm_snapshot_find(fx->snap, "arn:aws:apigateway:eu-west-1::/apis/w1s2o3c4k5");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(ws, "disable_execute_api_endpoint")));
    assert_true(cJSON_IsNull(tm_test_aws_attr(ws, "cors")));

    const char *bad = "{\"items\":[{\"apiId\":\"x1\",\"corsConfiguration\":{\"allowOrigins\":\"*\"},"
                      "\"protocolType\":7}],\"nextToken\":null}";
    assert_int_equal(
        tm__aws_apigwv2_parse_apis(&fx->f, bad, strlen(bad), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_null(next);
    const cJSON *x = tm_snapshot_find(fx->snap, "arn:aws:apigateway:eu-west-1::/apis/x1");
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(x, "cors")));
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(x, "protocol_type")));
    assert_int_equal(
        tm__aws_apigwv2_parse_apis(&fx->f, "{\"items\":7}", 11, &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
}

static void test_v2_routes(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.region = "eu-west-1";
    fx->f.service = "apigatewayv2";
    char *next = NULL;
    cJSON *routes = cJSON_CreateArray(), *ints = cJSON_CreateObject(), *auths = cJSON_CreateObject();
    struct tm_aws_strv stages = {0};
    assert_int_equal(tm__aws_apigwv2_parse_routes(routes, s_v2_GetRoutes, strlen(s_v2_GetRoutes), &next, fx->errmsg,
                                                  sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(tm__aws_apigwv2_parse_integrations(ints, s_v2_GetIntegrations, strlen(s_v2_GetIntegrations), &next,
                                                        fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(tm__aws_apigwv2_parse_authorizers(auths, s_v2_GetAuthorizers, strlen(s_v2_GetAuthorizers), &next,
                                                       fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(tm__aws_apigwv2_parse_stages(&stages, s_v2_GetStages, strlen(s_v2_GetStages), &next, fx->errmsg,
                                                  sizeof(fx->errmsg)),
                     TM_OK);
    assert_int_equal(cJSON_GetArraySize(routes), 4);
    assert_int_equal(stages.n, 1);
    struct tm_aws_apigwv2_parts parts = {routes, ints, NULL, auths, NULL, &stages};
    assert_int_equal(tm__aws_apigwv2_put_routes(&fx->f, "h1t2p3a4p5", &parts), TM_OK);

    const char *fn = "arn:aws:lambda:eu-west-1:111122223333:function:demo-http";
    const cJSON *get =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:h1t2p3a4p5/$default/GET/orders");
    assert_non_null(get);
    assert_string_equal(tm_json_str(get, "type", ""), "aws:apigatewayv2:route");
    assert_string_equal(tm_test_aws_attr(get, "route_key")->valuestring, "GET /orders");
    assert_string_equal(tm_test_aws_attr(get, "authorization_type")->valuestring, "JWT");
    tm_test_aws_assert_json(
        tm_test_aws_attr(get, "authorizer"),
        "{\"id\":\"jwt001\",\"type\":\"JWT\",\"name\":\"cognito-jwt\",\"authorizer_uri\":null,"
        "\"identity_source\":[\"$request.header.Authorization\"],\"issuer\":\"https://cognito-idp.eu-west-1."
        "amazonaws.com/eu-west-1_AbCdEf\",\"audience\":[\"demo-client\"]}");
    assert_true(tm_test_aws_has_link(get, "integrates-with", fn));
    assert_true(tm_test_aws_has_link(get, "member-of", "arn:aws:apigateway:eu-west-1::/apis/h1t2p3a4p5"));

    const cJSON *def =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:h1t2p3a4p5/$default/$default");
    assert_non_null(def);
    assert_string_equal(tm_json_str(tm_test_aws_attr(def, "integration"), "type", ""), "HTTP_PROXY");
    assert_int_equal(s_link_count(def), 1);
    const cJSON *admin =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:h1t2p3a4p5/$default/ANY/admin/{proxy+}");
    assert_true(cJSON_IsTrue(tm_test_aws_attr(admin, "api_key_required")));
    assert_true(cJSON_IsNull(tm_test_aws_attr(admin, "authorizer")));
    const cJSON *noop =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:h1t2p3a4p5/$default/POST/noop");
    assert_true(cJSON_IsNull(tm_test_aws_attr(noop, "integration")));

    /* Integrations unreadable: unknown, and no link is invented. */
    struct tm_snapshot_error e = {"apigatewayv2", "GetIntegrations", "eu-west-1", NULL, "AccessDenied", "x", 1};
    cJSON *unknown = tm_aws_unknown_value(&e);
    struct tm_aws_apigwv2_parts parts2 = {routes, NULL, unknown, auths, NULL, &stages};
    assert_int_equal(tm__aws_apigwv2_put_routes(&fx->f, "w1s2o3c4k5", &parts2), TM_OK);
    const cJSON *ws =
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:w1s2o3c4k5/$default/GET/orders");
    assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(ws, "integration")));
    assert_int_equal(s_link_count(ws), 1);
    assert_true(cJSON_IsNull(tm_test_aws_attr(
        tm_snapshot_find(fx->snap, "arn:aws:execute-api:eu-west-1:111122223333:w1s2o3c4k5/$default/POST/noop"),
        "integration")));

    cJSON_Delete(unknown);
    cJSON_Delete(routes);
    cJSON_Delete(ints);
    cJSON_Delete(auths);
    tm__aws_strv_clean_up(&stages);

    const char *bad[] = {"{\"items\":[{\"routeKey\":7}]}", "{\"items\":[{\"routeKey\":\"GET /\",\"target\":1}]}",
                         "{\"items\":[{\"routeKey\":\"GET /\",\"apiKeyRequired\":\"true\"}]}", "{\"items\":[1]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        routes = cJSON_CreateArray();
        assert_int_equal(
            tm__aws_apigwv2_parse_routes(routes, bad[i], strlen(bad[i]), &next, fx->errmsg, sizeof(fx->errmsg)),
            TM_ERR_PARSE);
        assert_non_null(strstr(fx->errmsg, "GetRoutes: items[0]"));
        cJSON_Delete(routes);
    }
    auths = cJSON_CreateObject();
    const char *bad_jwt = "{\"items\":[{\"authorizerId\":\"j\",\"jwtConfiguration\":{\"audience\":\"x\"}}]}";
    assert_int_equal(
        tm__aws_apigwv2_parse_authorizers(auths, bad_jwt, strlen(bad_jwt), &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_ERR_PARSE);
    cJSON_Delete(auths);
}

/* A method or route that names an authorizer or integration: what it records in each case. */
static void test_references(void **state) {
    struct tm_test_aws_parse *fx = *state;
    const char *api = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5";
    cJSON *table = cJSON_Parse("{\"au1\":{\"id\":\"au1\",\"type\":\"TOKEN\"}}");
    cJSON *unknown = cJSON_Parse("{\"$unknown\":{\"code\":\"AccessDenied\"}}");
    cJSON *v = NULL;
    assert_int_equal(tm__aws_apigw_lookup(&v, &fx->f, api, "GetAuthorizers", table, NULL, NULL, "authorizer ", "GET /"),
                     TM_OK);
    tm_test_aws_assert_json(v, "null");
    cJSON_Delete(v);
    assert_int_equal(
        tm__aws_apigw_lookup(&v, &fx->f, api, "GetAuthorizers", table, NULL, "au1", "authorizer ", "GET /"), TM_OK);
    tm_test_aws_assert_json(v, "{\"id\":\"au1\",\"type\":\"TOKEN\"}");
    cJSON_Delete(v);
    assert_int_equal(
        tm__aws_apigw_lookup(&v, &fx->f, api, "GetAuthorizers", NULL, unknown, "au1", "authorizer ", "GET /"), TM_OK);
    tm_test_aws_assert_json(v, "{\"$unknown\":{\"code\":\"AccessDenied\"}}");
    cJSON_Delete(v);
    assert_int_equal(tm__aws_apigw_lookup(&v, &fx->f, api, "GetAuthorizers", NULL, NULL, "au1", "authorizer ", "GET /"),
                     TM_OK);
    assert_true(tm_snapshot_is_unknown(v));
    cJSON_Delete(v);
    assert_int_equal(tm_snapshot_error_count(fx->snap), 0);
    /* Named but not listed: an error against the API, the value unknown with it. */
    assert_int_equal(
        tm__aws_apigw_lookup(&v, &fx->f, api, "GetAuthorizers", table, NULL, "au9", "authorizer ", "POST /orders"),
        TM_OK);
    assert_true(tm_snapshot_is_unknown(v));
    assert_string_equal(tm_json_str(cJSON_GetObjectItemCaseSensitive(v, "$unknown"), "message", ""),
                        "GetAuthorizers: authorizer au9 used by POST /orders is not listed");
    cJSON_Delete(v);
    assert_int_equal(tm__aws_apigw_lookup(&v, &fx->f, api, "GetIntegrations", table, NULL, "in9", "", "route $default"),
                     TM_OK);
    cJSON_Delete(v);
    const cJSON *errors = tm_snapshot_errors(fx->snap);
    assert_int_equal(cJSON_GetArraySize(errors), 2);
    const cJSON *e = cJSON_GetArrayItem(errors, 1);
    assert_string_equal(tm_json_str(e, "operation", ""), "GetIntegrations");
    assert_string_equal(tm_json_str(e, "resource", ""), api);
    assert_string_equal(tm_json_str(e, "code", ""), "MalformedResponse");
    assert_string_equal(tm_json_str(e, "message", ""), "GetIntegrations: in9 used by route $default is not listed");
    cJSON_Delete(table);
    cJSON_Delete(unknown);
}

static void test_route_paths(void **state) {
    (void)state;
    char out[64];
    assert_int_equal(tm__aws_apigwv2_route_path(out, sizeof(out), "a", "s", "GET /pets/{id}"), TM_OK);
    assert_string_equal(out, "a/s/GET/pets/{id}");
    assert_int_equal(tm__aws_apigwv2_route_path(out, sizeof(out), "a", "s", "GET /"), TM_OK);
    assert_string_equal(out, "a/s/GET/");
    assert_int_equal(tm__aws_apigwv2_route_path(out, sizeof(out), "a", "$default", "$connect"), TM_OK);
    assert_string_equal(out, "a/$default/$connect");
    assert_int_equal(tm__aws_apigwv2_route_path(out, sizeof(out), "a", "s", "send message"), TM_OK);
    assert_string_equal(out, "a/s/send message");
    char small[8];
    assert_int_equal(tm__aws_apigwv2_route_path(small, sizeof(small), "api", "stage", "$default"), TM_ERR_TOO_BIG);
}

/* ---- the demo account, scanned through its fixtures ---- */

static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"apigateway", "apigatewayv2"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 2, &unmatched, &calls);
    assert_int_equal(cJSON_GetArraySize(unmatched), 0);
    assert_int_equal(tm_snapshot_error_count(snap), 0);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:apigateway:restapi"), 2);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:apigateway:stage"), 2);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:apigateway:method"), 6);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:apigatewayv2:api"), 1);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:apigatewayv2:route"), 2);
    assert_int_equal(tm_test_aws_count_calls(calls, "GetResources"), 3); /* orders-api has two pages */
    const char *f05 = "arn:aws:execute-api:us-east-1:111122223333:a1b2c3d4e5/prod/GET/orders";
    tm_test_aws_expect(snap, f05, "attrs|authorization_type", "\"NONE\"");
    tm_test_aws_expect(snap, f05, "attrs|api_key_required", "false");
    tm_test_aws_expect(snap, f05, "links|0|to", "\"arn:aws:lambda:us-east-1:111122223333:function:orders-api\"");
    tm_test_aws_expect(snap, "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5", "attrs|stages", "[\"prod\"]");
    const char *f06 = "arn:aws:execute-api:eu-west-1:111122223333:h7t8p9a0b1/$default/POST/orders";
    tm_test_aws_expect(snap, f06, "attrs|authorization_type", "\"NONE\"");
    tm_test_aws_expect(snap, f06, "attrs|authorizer", "null");
    tm_test_aws_expect(snap, f06, "links|1|to",
                       "\"arn:aws:lambda:eu-west-1:111122223333:function:storefront-api:live\"");
    tm_test_aws_expect(snap, "arn:aws:apigateway:eu-west-1::/apis/h7t8p9a0b1", "attrs|stages", "[\"$default\"]");
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

static void test_demo_account_denied(void **state) {
    (void)state;
    static const char *const services[] = {"apigateway", "apigatewayv2"};
    static const char *const methods[] = {"authorizer", "integration", "authorization_type", NULL};
    static const char *const apis[] = {"endpoint_types", "policies|resource", NULL};
    static const struct tm_test_aws_facts_of facts[] = {
        {"aws:apigateway:method", methods},
        {"aws:apigateway:restapi", apis},
        {"aws:apigatewayv2:route", methods},
        {NULL, NULL},
    };
    tm_test_aws_scan_demo_refused(services, 2, facts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rest_apis, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_rest_apis_adversarial, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_policy_escaping, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_resources_and_authorizers, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_stages_and_plans, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_methods, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_v2_apis, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_v2_routes, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_references, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test(test_route_paths),
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_demo_account_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
