/* The AWS request layer: endpoints, the read-only rule, error parsers (adversarial), URL building, and
 * every protocol signed and answered by mockcloud in-process (fixtures/aws/mocktest), faults included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mockcloud.h"
#include "core/error.h"
#include "core/str.h"
#include "providers/auth/credentials.h"
#include "providers/auth/env.h"
#include "providers/aws/endpoint.h"
#include "providers/aws/errors.h"
#include "providers/aws/readonly.h"
#include "providers/aws/request.h"
#include "providers/net/http.h"

#define FIXTURES "fixtures/aws/mocktest"
#define KEY_ID "AKIAMOCKTEST00000001"
#define SECRET "mocktest/secret/key/00000000000000000001"

/* --- Endpoints ------------------------------------------------------------------------------------------ */

static void s_resolve(struct tm_aws_endpoint *ep, const char *service, const char *region, const struct tm_env *env) {
    char err[256];
    assert_int_equal(tm_aws_endpoint_resolve(ep, tm_aws_service_find(service), region, env, err, sizeof(err)), TM_OK);
}

static void test_endpoint_defaults(void **state) {
    (void)state;
    struct tm_env env;
    const char *none[] = {NULL};
    tm_env_init_list(&env, none, NULL);
    struct tm_aws_endpoint ep;
    const struct {
        const char *service, *region, *url, *signing;
    } cases[] = {
        {"sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com", "eu-west-1"},
        {"sts", "aws-global", "https://sts.amazonaws.com", "us-east-1"},
        {"iam", "eu-west-1", "https://iam.amazonaws.com", "us-east-1"},
        {"iam", "cn-north-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
        {"iam", "us-gov-west-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1"},
        {"organizations", "ap-south-1", "https://organizations.us-east-1.amazonaws.com", "us-east-1"},
        {"route53", "eu-west-1", "https://route53.amazonaws.com", "us-east-1"},
        {"cloudfront", "eu-west-1", "https://cloudfront.amazonaws.com", "us-east-1"},
        {"s3", "us-east-1", "https://s3.us-east-1.amazonaws.com", "us-east-1"},
        {"ecr", "eu-central-1", "https://api.ecr.eu-central-1.amazonaws.com", "eu-central-1"},
        {"stepfunctions", "us-west-2", "https://states.us-west-2.amazonaws.com", "us-west-2"},
        {"elbv2", "us-west-2", "https://elasticloadbalancing.us-west-2.amazonaws.com", "us-west-2"},
        {"lambda", "cn-northwest-1", "https://lambda.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
        {"ec2", "us-iso-east-1", "https://ec2.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s_resolve(&ep, cases[i].service, cases[i].region, &env);
        assert_string_equal(ep.url, cases[i].url);
        assert_string_equal(ep.signing_region, cases[i].signing);
        assert_false(ep.overridden);
        tm_aws_endpoint_clean_up(&ep);
    }
}

static void test_endpoint_overrides(void **state) {
    (void)state;
    const char *vars[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:4566/",
                          "AWS_ENDPOINT_URL_S3=http://localhost:9000",
                          "AWS_ENDPOINT_URL_API_GATEWAY=https://apigw.test",
                          "AWS_ENDPOINT_URL_SECRETS_MANAGER=https://sm.test/base//",
                          "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=https://elb.test",
                          "AWS_ENDPOINT_URL_S3_CONTROL=https://s3c.test",
                          NULL};
    struct tm_env env;
    tm_env_init_list(&env, vars, NULL);
    struct tm_aws_endpoint ep;
    s_resolve(&ep, "s3", "us-east-1", &env);
    assert_string_equal(ep.url, "http://localhost:9000");
    assert_true(ep.overridden);
    tm_aws_endpoint_clean_up(&ep);
    s_resolve(&ep, "apigateway", "eu-west-1", &env);
    assert_string_equal(ep.url, "https://apigw.test");
    tm_aws_endpoint_clean_up(&ep);
    s_resolve(&ep, "secretsmanager", "eu-west-1", &env);
    assert_string_equal(ep.url, "https://sm.test/base");
    tm_aws_endpoint_clean_up(&ep);
    s_resolve(&ep, "elbv2", "eu-west-1", &env);
    assert_string_equal(ep.url, "https://elb.test");
    tm_aws_endpoint_clean_up(&ep);
    s_resolve(&ep, "s3control", "eu-west-1", &env);
    assert_string_equal(ep.url, "https://s3c.test");
    tm_aws_endpoint_clean_up(&ep);
    /* The generic variable for the rest; a global service keeps its signing region. */
    s_resolve(&ep, "iam", "eu-west-1", &env);
    assert_string_equal(ep.url, "http://127.0.0.1:4566");
    assert_string_equal(ep.signing_region, "us-east-1");
    assert_true(ep.overridden);
    tm_aws_endpoint_clean_up(&ep);

    const char *ignore[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:4566", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", NULL};
    tm_env_init_list(&env, ignore, NULL);
    s_resolve(&ep, "sqs", "eu-west-1", &env);
    assert_string_equal(ep.url, "https://sqs.eu-west-1.amazonaws.com");
    assert_false(ep.overridden);
    tm_aws_endpoint_clean_up(&ep);
}

static void test_endpoint_rejects_bad_regions(void **state) {
    (void)state;
    struct tm_aws_endpoint ep;
    char err[256];
    const struct tm_aws_service *sqs = tm_aws_service_find("sqs");
    const char *bad[] = {"us-east-1.evil.com", "us-east-1/x", "",          "US-EAST-1", "-x",
                         "us-east-1-",         "eu west",     "aws-global"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tm_aws_endpoint_resolve(&ep, sqs, bad[i], NULL, err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_aws_endpoint_resolve(&ep, NULL, "us-east-1", NULL, err, sizeof(err)), TM_ERR_INVALID);
    assert_null(tm_aws_service_find("nope"));
    assert_null(tm_aws_service_find(NULL));
    size_t n;
    const struct tm_aws_service *t = tm_aws_service_table(&n);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(t[i - 1].name, t[i].name) < 0); /* bsearch needs it */
    for (size_t i = 0; i < n; i++)
        assert_ptr_equal(tm_aws_service_find(t[i].name), &t[i]);
    assert_true(tm_aws_s3_bucket_virtual_host_ok("my-bucket-1"));
    assert_false(tm_aws_s3_bucket_virtual_host_ok("my.bucket"));
    assert_false(tm_aws_s3_bucket_virtual_host_ok("My-Bucket"));
    assert_false(tm_aws_s3_bucket_virtual_host_ok("ab"));
    assert_false(tm_aws_s3_bucket_virtual_host_ok("-ab"));
}

/* --- Read-only ---------------------------------------------------------------------------------------------- */

static void test_readonly_rule(void **state) {
    (void)state;
    char err[256];
    const char *ok[][2] = {{"iam", "GetAccountAuthorizationDetails"},
                           {"s3", "ListBuckets"},
                           {"ec2", "DescribeInstances"},
                           {"sts", "GetCallerIdentity"},
                           {"sts", "AssumeRole"},
                           {"sts", "AssumeRoleWithWebIdentity"},
                           {"s3", "HeadBucket"},
                           {"s3", "GetBucketPolicy"},
                           {"lambda", "GetFunctionConfiguration"},
                           {"secretsmanager", "DescribeSecret"},
                           {"ssm", "DescribeParameters"},
                           {"iam", "SimulatePrincipalPolicy"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_int_equal(tm_aws_readonly_check(ok[i][0], ok[i][1], err, sizeof(err)), TM_OK);
    const char *refused[][2] = {{"s3", "PutBucketPolicy"},
                                {"iam", "CreateAccessKey"},
                                {"iam", "GenerateCredentialReport"},
                                {"iam", "GenerateServiceLastAccessedDetails"},
                                {"s3", "DeleteBucket"},
                                {"lambda", "UpdateFunctionCode"},
                                {"lambda", "InvokeFunction"},
                                {"sqs", "ReceiveMessage"},
                                {"s3", "SelectObjectContent"},
                                {"dynamodb", "BatchGetItem"},
                                {"ec2", "Getaway"},
                                {"ec2", "List"},
                                {"ec2", "Describe"},
                                {"iam", "AssumeRole"},
                                {"s3", "AssumeRole"},
                                {"sts", "DecodeAuthorizationMessage"}};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(tm_aws_readonly_check(refused[i][0], refused[i][1], err, sizeof(err)), TM_ERR_READ_ONLY);
        assert_non_null(strstr(err, refused[i][1]));
    }
    /* The deny list beats the prefix: each entry is a Get/List/Describe that is refused, with its reason. */
    size_t n;
    const struct tm_aws_readonly_rule *deny = tm_aws_readonly_deny_list(&n);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(tm_aws_readonly_check(deny[i].service, deny[i].operation, err, sizeof(err)), TM_ERR_READ_ONLY);
        assert_non_null(strstr(err, deny[i].reason));
        assert_true(deny[i].reason[0] != '\0');
    }
    assert_int_equal(tm_aws_readonly_check("secretsmanager", "GetSecretValue", err, sizeof(err)), TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_readonly_check("s3", "GetObject", err, sizeof(err)), TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_readonly_check("ssm", "GetParameters", err, sizeof(err)), TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_readonly_check("lambda", "GetFunction", err, sizeof(err)), TM_ERR_READ_ONLY);
    /* The same name on another service is not denied. */
    assert_int_equal(tm_aws_readonly_check("s3", "GetObjectAcl", err, sizeof(err)), TM_OK);
    const struct tm_aws_readonly_rule *allow = tm_aws_readonly_allow_list(&n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tm_aws_readonly_check(allow[i].service, allow[i].operation, err, sizeof(err)), TM_OK);
    /* Not operation names at all. */
    const char *junk[] = {"", "getBucketPolicy", "Get Bucket", "Get\nObject", "ListBuckets?x=1", "Ge\xc3\xa9t"};
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        assert_int_equal(tm_aws_readonly_check("s3", junk[i], err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_aws_readonly_check(NULL, "ListBuckets", err, sizeof(err)), TM_ERR_INVALID);
    /* Parameters that make a read return secrets. */
    assert_int_equal(tm_aws_readonly_check_param("apigateway", "GetApiKey", "includeValue", "true", err, sizeof(err)),
                     TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_readonly_check_param("apigateway", "GetApiKeys", "includeValues", "TRUE", NULL, 0),
                     TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_readonly_check_param("apigateway", "GetApiKeys", "includeValues", "false", NULL, 0), TM_OK);
    assert_int_equal(tm_aws_readonly_check_param("apigateway", "GetApiKeys", "limit", "500", NULL, 0), TM_OK);
}

/* --- Error parsers (adversarial) ----------------------------------------------------------------------------- */

static int s_parse(struct tm_aws_error *e, enum tm_aws_protocol p, long status, const char *body, const char *type_hdr,
                   const char *query_hdr) {
    struct tm_aws_error_input in = {.protocol = p,
                                    .status = status,
                                    .body = body,
                                    .body_len = body ? strlen(body) : 0,
                                    .error_type_header = type_hdr,
                                    .query_error_header = query_hdr};
    return tm_aws_error_parse(e, &in);
}

static void test_error_shapes(void **state) {
    (void)state;
    struct tm_aws_error e;
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_QUERY, 400,
                             "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender"
                             "</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
                             "<RequestId>rid-1</RequestId></ErrorResponse>",
                             NULL, NULL),
                     TM_OK);
    assert_string_equal(e.code, "Throttling");
    assert_string_equal(e.message, "Rate exceeded");
    assert_string_equal(e.request_id, "rid-1");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_EC2, 503,
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
                             "RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors>"
                             "<RequestID>ec2-rid</RequestID></Response>",
                             NULL, NULL),
                     TM_OK);
    assert_string_equal(e.code, "RequestLimitExceeded");
    assert_string_equal(e.request_id, "ec2-rid");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 404,
                             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucketPolicy</Code>"
                             "<Message>The bucket policy does not exist</Message><BucketName>b</BucketName>"
                             "<RequestId>s3-rid</RequestId></Error>",
                             NULL, NULL),
                     TM_OK);
    assert_string_equal(e.code, "NoSuchBucketPolicy");
    assert_string_equal(e.request_id, "s3-rid");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400,
                             "{\"__type\":\"com.amazonaws.kms#NotFoundException\",\"message\":\"Key not found\"}", NULL,
                             NULL),
                     TM_OK);
    assert_string_equal(e.code, "NotFoundException");
    assert_string_equal(e.message, "Key not found");
    assert_int_equal(
        s_parse(&e, TM_AWS_PROTO_JSON, 400, "{\"__type\":\"ThrottlingException\",\"Message\":\"Slow\"}", NULL, NULL),
        TM_OK);
    assert_string_equal(e.code, "ThrottlingException");
    assert_string_equal(e.message, "Slow");
    /* rest-json: the header wins, its ":http://..." tail dropped. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_JSON, 429, "{\"message\":\"Rate exceeded\"}",
                             "TooManyRequestsException:http://internal.amazon.com/coral/com.amazon.coral.service/",
                             NULL),
                     TM_OK);
    assert_string_equal(e.code, "TooManyRequestsException");
    assert_string_equal(e.message, "Rate exceeded");
    /* Query-compatible JSON services name the query code in a header. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, "{\"__type\":\"com.amazon.sqs#QueueDoesNotExist\"}", NULL,
                             "AWS.SimpleQueueService.NonExistentQueue;Sender"),
                     TM_OK);
    assert_string_equal(e.code, "AWS.SimpleQueueService.NonExistentQueue");
    /* HEAD and empty bodies: the status, as the SDKs report it. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 404, NULL, NULL, NULL), TM_ERR_PARSE);
    assert_string_equal(e.code, "404");
    assert_string_equal(e.message, "Not Found");
}

static void test_error_adversarial(void **state) {
    (void)state;
    struct tm_aws_error e;
    /* Truncated. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_QUERY, 400, "<ErrorResponse><Error><Code>Thrott", NULL, NULL),
                     TM_ERR_PARSE);
    assert_string_equal(e.code, "400");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, "{\"__type\":\"Throttl", NULL, NULL), TM_ERR_PARSE);
    assert_string_equal(e.code, "400");
    /* Wrong types. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 500, "{\"__type\":5,\"message\":{\"a\":1}}", NULL, NULL),
                     TM_ERR_PARSE);
    assert_string_equal(e.code, "500");
    assert_string_equal(e.message, "Internal Server Error");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, "[\"ThrottlingException\"]", NULL, NULL), TM_ERR_PARSE);
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, "\"ThrottlingException\"", NULL, NULL), TM_ERR_PARSE);
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, "{\"__type\":\"\"}", NULL, NULL), TM_ERR_PARSE);
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_QUERY, 400, "{\"__type\":\"Throttling\"}", NULL, NULL), TM_ERR_PARSE);
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_QUERY, 400, "<Other><Code>X</Code></Other>", NULL, NULL), TM_ERR_PARSE);
    /* An element where text belongs: no code. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 403, "<Error><Code><b>x</b></Code></Error>", NULL, NULL),
                     TM_ERR_PARSE);
    assert_string_equal(e.code, "403");
    /* A DTD with entity expansion (billion laughs) is refused, fast. */
    const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
                         "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
                         "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
                         "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
                         "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
                         "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
                         "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
                         "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
                         "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>"
                         "<Error><Code>&lol9;</Code><Message>&lol9;</Message></Error>";
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 400, laughs, NULL, NULL), TM_ERR_PARSE);
    assert_string_equal(e.code, "400");
    /* An external entity is neither fetched nor read. */
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY f SYSTEM \"file:///etc/passwd\">]>"
                      "<Error><Code>&f;</Code></Error>";
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 400, xxe, NULL, NULL), TM_ERR_PARSE);
    assert_null(strstr(e.message, "root"));
    /* Oversized: not read at all. */
    size_t big = TM_AWS_ERROR_MAX_BODY + 10;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    memcpy(huge, "{\"__type\":\"ThrottlingException\"", 31);
    huge[big - 1] = '}';
    huge[big] = '\0';
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, huge, NULL, NULL), TM_ERR_TOO_BIG);
    assert_string_equal(e.code, "400");
    free(huge);
    /* Over-long fields are cut, never overflowing, never mid-UTF-8; control characters neutralised. */
    char msg[2048];
    strcpy(msg, "{\"__type\":\"X\",\"message\":\"");
    size_t at = strlen(msg);
    for (int i = 0; i < 400; i++) {
        memcpy(msg + at, "\xc3\xa9", 2); /* é */
        at += 2;
    }
    strcpy(msg + at, "\\n\\u0001end\"}");
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_JSON, 400, msg, NULL, NULL), TM_OK);
    size_t len = strlen(e.message);
    assert_true(len < sizeof(e.message));
    assert_int_equal(len % 2, 0); /* whole two-byte characters only */
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)e.message[i] >= 0x20);
    assert_int_equal(
        s_parse(&e, TM_AWS_PROTO_JSON, 400, "{\"__type\":\"Bad\\u0007Code\",\"message\":\"a\\r\\nb\"}", NULL, NULL),
        TM_OK);
    assert_string_equal(e.code, "Bad Code");
    assert_string_equal(e.message, "a  b");
    char longcode[600];
    memset(longcode, 'A', sizeof(longcode) - 1);
    longcode[sizeof(longcode) - 1] = '\0';
    char body[700];
    snprintf(body, sizeof(body), "<Error><Code>%s</Code></Error>", longcode);
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_REST_XML, 400, body, NULL, NULL), TM_OK);
    assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
    /* Unicode in an XML message, entities decoded. */
    assert_int_equal(s_parse(&e, TM_AWS_PROTO_QUERY, 403,
                             "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: \xe2\x98\x83 &amp; "
                             "co. is not authorized</Message></Error></ErrorResponse>",
                             NULL, NULL),
                     TM_OK);
    assert_string_equal(e.message, "User: \xe2\x98\x83 & co. is not authorized");
}

static void test_error_code_classes(void **state) {
    (void)state;
    const char *throttles[] = {"Throttling",
                               "ThrottlingException",
                               "RequestLimitExceeded",
                               "TooManyRequestsException",
                               "SlowDown",
                               "RequestThrottled",
                               "ProvisionedThroughputExceededException",
                               "RequestThrottledException",
                               "PriorRequestNotComplete",
                               "BandwidthLimitExceeded",
                               "EC2ThrottledException"};
    for (size_t i = 0; i < sizeof(throttles) / sizeof(throttles[0]); i++)
        assert_true(tm_aws_error_is_throttle(throttles[i]));
    assert_false(tm_aws_error_is_throttle("AccessDenied"));
    assert_false(tm_aws_error_is_throttle("throttling"));
    assert_false(tm_aws_error_is_throttle(NULL));
    assert_true(tm_aws_error_is_transient("RequestTimeout"));
    assert_true(tm_aws_error_is_transient("InternalError"));
    assert_false(tm_aws_error_is_transient("ValidationError"));
    assert_true(tm_aws_error_is_auth("SignatureDoesNotMatch"));
    assert_true(tm_aws_error_is_auth("InvalidClientTokenId"));
    assert_false(tm_aws_error_is_auth("AccessDenied"));
}

/* --- Against mockcloud ---------------------------------------------------------------------------------------- */

struct fx {
    uv_loop_t loop;
    uv_timer_t guard;
    uv_idle_t creds_idle;
    bool guard_fired;
    struct tm_mock_options mo;
    struct tm_mock_server *mock;
    struct tm_http_options ho;
    struct tm_http_engine *engine;
    struct tm_env env;
    char endpoint_var[64];
    const char *env_list[3];
    struct tm_aws_client *client;
    struct tm_aws_credentials *creds;
    bool async_creds;
    unsigned creds_calls;
    /* Credentials callbacks waiting to be delivered on the next loop iteration. */
    tm_aws_credentials_fn pending_cb[64];
    void *pending_data[64];
    unsigned pending;
    unsigned done;
    unsigned ok;
    unsigned attempts_total;
    unsigned retried;
    int last_err;
    char last_code[128];
    char last_body[4096];
    long last_status;
};

static struct fx *s_fx;

static void s_deliver(uv_idle_t *i) {
    struct fx *fx = i->data;
    uv_idle_stop(i);
    unsigned n = fx->pending;
    fx->pending = 0;
    for (unsigned k = 0; k < n; k++)
        fx->pending_cb[k](TM_OK, fx->creds, NULL, fx->pending_data[k]);
}

static int s_get_creds(tm_aws_credentials_fn cb, void *cb_data, void *user_data) {
    struct fx *fx = user_data;
    fx->creds_calls++;
    if (!fx->async_creds) {
        cb(TM_OK, fx->creds, NULL, cb_data);
        return TM_OK;
    }
    if (fx->pending == 64)
        return TM_ERR_STATE;
    fx->pending_cb[fx->pending] = cb;
    fx->pending_data[fx->pending] = cb_data;
    fx->pending++;
    uv_idle_start(&fx->creds_idle, s_deliver);
    return TM_OK;
}

static void s_on_guard(uv_timer_t *t) {
    ((struct fx *)t->data)->guard_fired = true;
}

static int s_setup(void **state) {
    struct fx *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
    assert_int_equal(uv_idle_init(&fx->loop, &fx->creds_idle), 0);
    fx->guard.data = fx;
    fx->creds_idle.data = fx;
    tm_mock_options_init(&fx->mo);
    fx->mo.fixtures_dir = FIXTURES;
    fx->mo.seed = 7;
    tm_http_options_init(&fx->ho);
    fx->ho.seed = 7;
    fx->ho.backoff_base_ms = 10;
    fx->ho.backoff_cap_ms = 200;
    fx->creds = tm_aws_credentials_new(KEY_ID, SECRET, NULL, 0, "test");
    assert_non_null(fx->creds);
    s_fx = fx;
    *state = fx;
    return 0;
}

/* Starts mockcloud with fx->mo, the engine with fx->ho, and a client pointed at mockcloud. */
static void s_start(struct fx *fx) {
    char err[256];
    assert_int_equal(tm_mock_server_new(&fx->mock, &fx->loop, &fx->mo, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_http_engine_new(&fx->engine, &fx->loop, &fx->ho, err, sizeof(err)), TM_OK);
    snprintf(fx->endpoint_var, sizeof(fx->endpoint_var), "AWS_ENDPOINT_URL=http://127.0.0.1:%d",
             tm_mock_server_port(fx->mock));
    fx->env_list[0] = fx->endpoint_var;
    fx->env_list[1] = NULL;
    tm_env_init_list(&fx->env, fx->env_list, NULL);
    struct tm_aws_client_options co;
    tm_aws_client_options_init(&co);
    co.engine = fx->engine;
    co.env = &fx->env;
    co.get_credentials = s_get_creds;
    co.credentials_data = fx;
    assert_int_equal(tm_aws_client_new(&fx->client, &co), TM_OK);
}

static int s_teardown(void **state) {
    struct fx *fx = *state;
    tm_aws_client_destroy(fx->client);
    tm_http_engine_destroy(fx->engine);
    tm_mock_server_destroy(fx->mock);
    uv_close((uv_handle_t *)&fx->guard, NULL);
    uv_close((uv_handle_t *)&fx->creds_idle, NULL);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    tm_aws_credentials_destroy(fx->creds);
    free(fx);
    return 0;
}

static void s_done(const struct tm_aws_response *r, void *user_data) {
    struct fx *fx = user_data;
    fx->done++;
    if (r->err == TM_OK)
        fx->ok++;
    fx->attempts_total += r->attempts;
    if (r->attempts > 1)
        fx->retried++;
    fx->last_err = r->err;
    fx->last_status = r->status;
    snprintf(fx->last_code, sizeof(fx->last_code), "%s", r->code);
    snprintf(fx->last_body, sizeof(fx->last_body), "%s", r->body);
}

static void s_wait(struct fx *fx, unsigned target) {
    fx->guard_fired = false;
    assert_int_equal(uv_timer_start(&fx->guard, s_on_guard, 60000, 0), 0);
    while (fx->done < target && !fx->guard_fired)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->guard_fired);
}

static struct tm_aws_request *s_new(struct fx *fx, const char *service, const char *op, const char *region) {
    struct tm_aws_request *r = NULL;
    char err[256];
    int rc = tm_aws_request_new(&r, fx->client, service, op, region, err, sizeof(err));
    if (rc)
        fail_msg("%s:%s: %s", service, op, err);
    return r;
}

static void s_send(struct fx *fx, struct tm_aws_request *r) {
    char err[256];
    int rc = tm_aws_request_send(r, s_done, fx, err, sizeof(err));
    if (rc)
        fail_msg("send: %s", err);
}

static void s_call_ok(struct fx *fx, struct tm_aws_request *r, const char *expect_in_body) {
    unsigned before = fx->done;
    s_send(fx, r);
    s_wait(fx, before + 1);
    if (fx->last_err != TM_OK)
        fail_msg("%d %s (status %ld)", fx->last_err, fx->last_code, fx->last_status);
    assert_int_equal(fx->last_status, 200);
    assert_non_null(strstr(fx->last_body, expect_in_body));
}

static void test_query_protocol_sts_and_iam_pages(void **state) {
    struct fx *fx = *state;
    s_start(fx);
    s_call_ok(fx, s_new(fx, "sts", "GetCallerIdentity", "us-east-1"), "<Account>111122223333</Account>");
    /* IAM is global: signed for us-east-1 whatever region is asked. */
    s_call_ok(fx, s_new(fx, "iam", "ListRoles", "eu-west-1"), "<Marker>bW9ja3Rlc3QtcGFnZS0y</Marker>");
    struct tm_aws_request *r = s_new(fx, "iam", "ListRoles", "eu-west-1");
    assert_int_equal(tm_aws_request_add_param(r, "Marker", "bW9ja3Rlc3QtcGFnZS0y"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "Action", "CreateUser"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_add_param(r, "Version", "2000-01-01"), TM_ERR_INVALID);
    s_call_ok(fx, r, "<IsTruncated>false</IsTruncated>");
    struct tm_mock_stats ms;
    tm_mock_server_stats(&ms, fx->mock);
    assert_int_equal(ms.auth_failed, 0);
    assert_int_equal(ms.matched, 3);
    assert_int_equal(fx->creds_calls, 3); /* one per attempt */
}

static void test_ec2_json_restjson_restxml(void **state) {
    struct fx *fx = *state;
    s_start(fx);
    s_call_ok(fx, s_new(fx, "ec2", "DescribeInstances", "us-east-1"), "i-0mocktest0000001");
    s_call_ok(fx, s_new(fx, "kms", "ListKeys", "us-east-1"), "\"NextMarker\":\"a2V5LXBhZ2UtMg\"");
    struct tm_aws_request *r = s_new(fx, "kms", "ListKeys", "us-east-1");
    assert_int_equal(tm_aws_request_add_param(r, "Marker", "x"), TM_ERR_INVALID); /* JSON takes a body */
    assert_int_equal(tm_aws_request_set_json(r, "{\"Marker\":\"a2V5LXBhZ2UtMg\"}"), TM_OK);
    s_call_ok(fx, r, "\"Truncated\":false");
    r = s_new(fx, "lambda", "ListFunctions", "us-east-1");
    assert_int_equal(tm_aws_request_set_rest(r, "GET", "/2015-03-31/functions/"), TM_OK);
    s_call_ok(fx, r, "mocktest-fn");
    s_call_ok(fx, s_new(fx, "s3", "ListBuckets", "us-east-1"), "<Name>mocktest-public</Name>");
    r = s_new(fx, "s3", "GetBucketPolicy", "us-east-1");
    assert_int_equal(tm_aws_request_set_bucket(r, "mocktest-public"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "policy", NULL), TM_OK);
    s_call_ok(fx, r, "\"Statement\"");
    struct tm_mock_stats ms;
    tm_mock_server_stats(&ms, fx->mock);
    assert_int_equal(ms.auth_failed, 0);
    assert_int_equal(ms.matched, 6);
}

static void test_async_credentials(void **state) {
    struct fx *fx = *state;
    fx->async_creds = true;
    s_start(fx);
    for (int i = 0; i < 20; i++)
        s_send(fx, s_new(fx, "sts", "GetCallerIdentity", "us-east-1"));
    s_wait(fx, 20);
    assert_int_equal(fx->ok, 20);
    assert_int_equal(fx->creds_calls, 20);
}

static void test_service_errors(void **state) {
    struct fx *fx = *state;
    const char *deny[] = {"ListKeys", NULL};
    fx->mo.deny = deny;
    s_start(fx);
    /* Denied: AccessDeniedException, final at once. */
    unsigned before = fx->done;
    s_send(fx, s_new(fx, "kms", "ListKeys", "us-east-1"));
    s_wait(fx, before + 1);
    assert_int_equal(fx->last_err, TM_ERR_SERVICE);
    assert_string_equal(fx->last_code, "AccessDeniedException");
    assert_int_equal(fx->attempts_total, 1);
    /* No fixture: the service's not-found error, 404 for S3. */
    struct tm_aws_request *r = s_new(fx, "s3", "GetBucketPolicy", "us-east-1");
    assert_int_equal(tm_aws_request_set_bucket(r, "no-such-bucket"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "policy", NULL), TM_OK);
    s_send(fx, r);
    s_wait(fx, before + 2);
    assert_int_equal(fx->last_err, TM_ERR_NOT_FOUND);
    assert_int_equal(fx->last_status, 404);
    assert_string_equal(fx->last_code, "NoSuchBucket");
    /* A wrong secret: SignatureDoesNotMatch is an authentication error, not retried. */
    tm_aws_credentials_destroy(fx->creds);
    fx->creds = tm_aws_credentials_new(KEY_ID, "wrong/secret/key/000000000000000000000001", NULL, 0, "test");
    s_send(fx, s_new(fx, "sts", "GetCallerIdentity", "us-east-1"));
    s_wait(fx, before + 3);
    assert_int_equal(fx->last_err, TM_ERR_AUTH);
    assert_int_equal(fx->last_status, 403);
    assert_string_equal(fx->last_code, "SignatureDoesNotMatch");
    assert_int_equal(fx->attempts_total, 3);
}

static int s_no_creds(tm_aws_credentials_fn cb, void *cb_data, void *user_data) {
    (void)user_data;
    cb(TM_ERR_AUTH, NULL, "no credential source in the chain", cb_data);
    return TM_OK;
}

static void test_missing_credentials(void **state) {
    struct fx *fx = *state;
    s_start(fx);
    struct tm_aws_client_options co;
    tm_aws_client_options_init(&co);
    co.engine = fx->engine;
    co.env = &fx->env;
    co.get_credentials = s_no_creds;
    struct tm_aws_client *c;
    assert_int_equal(tm_aws_client_new(&c, &co), TM_OK);
    struct tm_aws_request *r;
    char err[256];
    assert_int_equal(tm_aws_request_new(&r, c, "sts", "GetCallerIdentity", "us-east-1", err, sizeof(err)), TM_OK);
    tm_aws_client_destroy(c); /* the request keeps it alive */
    assert_int_equal(tm_aws_request_send(r, s_done, fx, err, sizeof(err)), TM_OK);
    s_wait(fx, 1);
    assert_int_equal(fx->last_err, TM_ERR_AUTH);
    assert_string_equal(fx->last_code, "NoCredentials");
    struct tm_mock_stats ms;
    tm_mock_server_stats(&ms, fx->mock);
    assert_int_equal(ms.requests, 0);
}

static void test_writes_refused_nothing_sent(void **state) {
    struct fx *fx = *state;
    s_start(fx);
    const char *writes[][2] = {{"s3", "PutBucketPolicy"},
                               {"iam", "CreateAccessKey"},
                               {"iam", "GenerateCredentialReport"},
                               {"secretsmanager", "GetSecretValue"},
                               {"s3", "GetObject"},
                               {"lambda", "DeleteFunction"}};
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        struct tm_aws_request *r = NULL;
        char err[256];
        assert_int_equal(tm_aws_request_new(&r, fx->client, writes[i][0], writes[i][1], "us-east-1", err, sizeof(err)),
                         TM_ERR_READ_ONLY);
        assert_null(r);
        assert_non_null(strstr(err, writes[i][1]));
    }
    /* A read cannot be bent into a write. */
    struct tm_aws_request *r = s_new(fx, "s3", "GetBucketPolicy", "us-east-1");
    assert_int_equal(tm_aws_request_set_rest(r, "PUT", "/"), TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_request_set_rest(r, "DELETE", "/"), TM_ERR_READ_ONLY);
    assert_int_equal(tm_aws_request_add_header(r, "X-Amz-Target", "x.DeleteBucket"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_add_header(r, "Authorization", "x"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_add_header(r, "host", "evil.test"), TM_ERR_INVALID);
    tm_aws_request_destroy(r);
    r = s_new(fx, "apigateway", "GetApiKeys", "us-east-1");
    assert_int_equal(tm_aws_request_add_param(r, "includeValues", "true"), TM_ERR_READ_ONLY);
    tm_aws_request_destroy(r);
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    struct tm_mock_stats ms;
    tm_mock_server_stats(&ms, fx->mock);
    assert_int_equal(ms.requests, 0);
    assert_int_equal(ms.connections, 0);
    struct tm_http_stats hs;
    tm_http_engine_stats(fx->engine, NULL, &hs);
    assert_int_equal(hs.requests, 0);
    assert_int_equal(hs.attempts, 0);
}

static void test_urls(void **state) {
    struct fx *fx = *state;
    fx->ho.max_attempts = 1;
    char err[256];
    struct tm_http_engine *engine;
    assert_int_equal(tm_http_engine_new(&engine, &fx->loop, &fx->ho, err, sizeof(err)), TM_OK);
    fx->engine = engine;
    const char *none[] = {NULL};
    tm_env_init_list(&fx->env, none, NULL);
    struct tm_aws_client_options co;
    tm_aws_client_options_init(&co);
    co.engine = engine;
    co.env = &fx->env;
    assert_int_equal(tm_aws_client_new(&fx->client, &co), TM_OK);
    struct tm_buf url;
    tm_buf_init(&url, 0);
    struct tm_aws_request *r = s_new(fx, "s3", "GetBucketPolicy", "eu-west-1");
    assert_int_equal(tm_aws_request_set_bucket(r, "my-bucket"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "policy", NULL), TM_OK);
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url), "https://my-bucket.s3.eu-west-1.amazonaws.com/?policy");
    tm_aws_request_destroy(r);
    /* Dots would break the wildcard certificate: path style. */
    tm_buf_reset(&url);
    r = s_new(fx, "s3", "GetBucketAcl", "eu-west-1");
    assert_int_equal(tm_aws_request_set_bucket(r, "my.dotted.bucket"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "acl", NULL), TM_OK);
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url), "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket?acl");
    tm_aws_request_destroy(r);
    /* Labels are encoded; query values too. */
    tm_buf_reset(&url);
    r = s_new(fx, "lambda", "GetPolicy", "us-east-1");
    struct tm_buf path;
    tm_buf_init(&path, 0);
    assert_int_equal(tm_buf_append_str(&path, "/2015-03-31/functions/"), TM_OK);
    assert_int_equal(tm_aws_path_label(&path, "arn:aws:lambda:us-east-1:1:function:f/x y", false), TM_OK);
    assert_int_equal(tm_buf_append_str(&path, "/policy"), TM_OK);
    assert_int_equal(tm_aws_request_set_rest(r, "GET", tm_buf_str(&path)), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "Qualifier", "$LATEST&x=1"), TM_OK);
    assert_int_equal(tm_aws_request_set_rest(r, "GET", "/unencoded path"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_set_rest(r, "GET", "/a?b"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url), "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/"
                                          "arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af%2Fx%20y/policy"
                                          "?Qualifier=%24LATEST%26x%3D1");
    tm_aws_request_destroy(r);
    tm_buf_clean_up(&path);
    /* S3 Control's account prefix. */
    tm_buf_reset(&url);
    r = s_new(fx, "s3control", "ListAccessPoints", "eu-west-1");
    assert_int_equal(tm_aws_request_set_host_prefix(r, "111122223333."), TM_OK);
    assert_int_equal(tm_aws_request_set_host_prefix(r, "evil.com/."), TM_ERR_INVALID);
    assert_int_equal(tm_aws_request_set_rest(r, "GET", "/v20180820/accesspoint"), TM_OK);
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url),
                        "https://111122223333.s3-control.eu-west-1.amazonaws.com/v20180820/accesspoint");
    tm_aws_request_destroy(r);
    /* Query protocols post to "/". */
    tm_buf_reset(&url);
    r = s_new(fx, "iam", "ListRoles", "eu-west-1");
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url), "https://iam.amazonaws.com/");
    tm_aws_request_destroy(r);
    /* An overridden endpoint with a base path: S3 goes path style below it. */
    const char *vars[] = {"AWS_ENDPOINT_URL_S3=http://127.0.0.1:9/base/", NULL};
    tm_env_init_list(&fx->env, vars, NULL);
    tm_buf_reset(&url);
    r = s_new(fx, "s3", "GetBucketPolicy", "eu-west-1");
    assert_int_equal(tm_aws_request_set_bucket(r, "my-bucket"), TM_OK);
    assert_int_equal(tm_aws_request_add_param(r, "policy", NULL), TM_OK);
    assert_int_equal(tm_aws_request_url(&url, r, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&url), "http://127.0.0.1:9/base/my-bucket?policy");
    tm_aws_request_destroy(r);
    tm_buf_clean_up(&url);
    /* Unknown service, bad region. */
    assert_int_equal(tm_aws_request_new(&r, fx->client, "nosuch", "ListThings", "us-east-1", err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    assert_int_equal(tm_aws_request_new(&r, fx->client, "sqs", "ListQueues", "us-east-1.evil.com", err, sizeof(err)),
                     TM_ERR_INVALID);
    fx->mock = NULL;
}

struct tally {
    unsigned done, ok, attempts, retries, throttles, max_attempts;
};

static void s_tally(const struct tm_aws_response *r, void *user_data) {
    struct tally *t = user_data;
    t->done++;
    t->ok += r->err == TM_OK && strstr(r->body, "<Account>111122223333</Account>") != NULL;
    t->attempts += r->attempts;
    t->retries += r->attempts - 1;
    t->throttles += r->throttles;
    if (r->attempts > t->max_attempts)
        t->max_attempts = r->attempts;
    s_fx->done++;
}

/* Issue 2's check: 500 calls through 20% throttling and 5% connection resets all come back, within the
 * attempt cap. mockcloud's --throttle-rate throttles at random whatever the rate, which no rate limit can
 * avoid, so the adaptive limiter is off here (it is tested against token buckets below). */
static void test_500_calls_through_faults(void **state) {
    struct fx *fx = *state;
    fx->mo.throttle_rate = 0.20;
    fx->mo.reset_rate = 0.05;
    fx->ho.adaptive = false;
    fx->ho.max_attempts = 10;
    s_start(fx);
    struct tally t = {0};
    char err[256];
    for (int i = 0; i < 500; i++) {
        struct tm_aws_request *r = s_new(fx, "sts", "GetCallerIdentity", "us-east-1");
        assert_int_equal(tm_aws_request_send(r, s_tally, &t, err, sizeof(err)), TM_OK);
    }
    s_wait(fx, 500);
    struct tm_mock_stats ms;
    tm_mock_server_stats(&ms, fx->mock);
    struct tm_http_stats hs;
    tm_http_engine_stats(fx->engine, "sts", &hs);
    printf("# 500 calls: %u ok, %u attempts, %u retries (%u throttled), at most %u attempts for one call; "
           "mockcloud: %llu requests, %llu throttled, %llu resets\n",
           t.ok, t.attempts, t.retries, t.throttles, t.max_attempts, (unsigned long long)ms.requests,
           (unsigned long long)ms.throttled, (unsigned long long)ms.resets);
    assert_int_equal(t.done, 500);
    assert_int_equal(t.ok, 500);
    assert_true(t.max_attempts <= 10);
    assert_int_equal(hs.retries, t.retries);
    assert_int_equal(hs.throttles, t.throttles);
    assert_true(t.throttles > 50 && ms.resets > 5); /* the faults did happen */
    assert_int_equal(ms.throttled, t.throttles);
}

/* Against a token bucket like AWS's (40/s, burst 40) and a 20 ms round trip, with no configured rate, the
 * adaptive limiter finds the rate and keeps retries low. */
static void test_adaptive_against_rate_limit(void **state) {
    struct fx *fx = *state;
    struct tm_mock_rate_limit rl[] = {{"sts:GetCallerIdentity", 40, 40}};
    fx->mo.latency_ms = 20;
    fx->mo.rate_limits = rl;
    fx->mo.n_rate_limits = 1;
    fx->ho.max_attempts = 10;
    s_start(fx);
    struct tally t = {0};
    char err[256];
    for (int i = 0; i < 200; i++) {
        struct tm_aws_request *r = s_new(fx, "sts", "GetCallerIdentity", "us-east-1");
        assert_int_equal(tm_aws_request_send(r, s_tally, &t, err, sizeof(err)), TM_OK);
    }
    s_wait(fx, 200);
    printf("# 200 calls against 40/s burst 40: %u retries (%u throttled), key rate now %.1f/s\n", t.retries,
           t.throttles, tm_http_engine_key_rate(fx->engine, "sts:us-east-1:GetCallerIdentity"));
    assert_int_equal(t.ok, 200);
    assert_true(t.retries <= 20); /* 10% of the calls, in a short run that includes finding the rate */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_defaults),
        cmocka_unit_test(test_endpoint_overrides),
        cmocka_unit_test(test_endpoint_rejects_bad_regions),
        cmocka_unit_test(test_readonly_rule),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_error_adversarial),
        cmocka_unit_test(test_error_code_classes),
        cmocka_unit_test_setup_teardown(test_query_protocol_sts_and_iam_pages, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_ec2_json_restjson_restxml, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_async_credentials, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_service_errors, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_credentials, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_writes_refused_nothing_sent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_urls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_500_calls_through_faults, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_adaptive_against_rate_limit, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
