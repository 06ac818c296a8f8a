#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/snapshot.h"
#include "providers/aws/facts.h"
#include "providers/aws/lambda.h"
#include "tests/support/aws_expect.h"
#include "tests/support/aws_fixtures.h"
#include "tests/support/aws_parse.h"

/* Bodies shaped as Lambda sends them (botocore lambda/2015-03-31 examples and API reference). */
static const char s_list_functions_example[] =
    "{\"Functions\": [{\"CodeSha256\": \"dBG9m8SGdmlEjw/JYXlhhvCrAv5TxvXsbL/RMr0fT/I=\", \"CodeSize\": 294, "
    "\"Description\": \"\", \"FunctionArn\": \"arn:aws:lambda:us-west-2:123456789012:function:helloworld\", "
    "\"FunctionName\": \"helloworld\", \"Handler\": \"helloworld.handler\", \"LastModified\": "
    "\"2019-09-23T18:32:33.857+0000\", \"MemorySize\": 128, \"RevisionId\": \"1718e831-badf-4253-9518-d0644210af7b\", "
    "\"Role\": \"arn:aws:iam::123456789012:role/service-role/MyTestFunction-role-zgur6bf4\", \"Runtime\": "
    "\"nodejs10.x\", \"Timeout\": 3, \"TracingConfig\": {\"Mode\": \"PassThrough\"}, \"Version\": \"$LATEST\"}, "
    "{\"CodeSha256\": \"sU0cJ2/hOZevwV/lTxCuQqK3gDZP3i8gUoqUUVRmY6E=\", \"CodeSize\": 266, \"Description\": \"\", "
    "\"FunctionArn\": \"arn:aws:lambda:us-west-2:123456789012:function:my-function\", \"FunctionName\": "
    "\"my-function\", \"Handler\": \"index.handler\", \"LastModified\": \"2019-10-01T16:47:28.490+0000\", "
    "\"MemorySize\": 256, \"RevisionId\": \"93017fc9-59cb-41dc-901b-4845ce4bf668\", \"Role\": "
    "\"arn:aws:iam::123456789012:role/service-role/helloWorldPython-role-uy3l9qyq\", \"Runtime\": \"nodejs10.x\", "
    "\"Timeout\": 3, \"TracingConfig\": {\"Mode\": \"PassThrough\"}, \"Version\": \"$LATEST\", \"VpcConfig\": "
    "{\"SecurityGroupIds\": [], \"SubnetIds\": [], \"VpcId\": \"\"}}], \"NextMarker\": \"\"}";

static const char s_list_functions_env[] =
    "{\"Functions\":[{\"FunctionName\":\"demo-api\",\"FunctionArn\":"
    "\"arn:aws:lambda:us-east-1:111122223333:function:demo-api\",\"Runtime\":\"python3.12\",\"Role\":"
    "\"arn:aws:iam::111122223333:role/demo-api-exec\",\"Handler\":\"app.handler\",\"CodeSize\":5120,"
    "\"VpcConfig\":{\"SubnetIds\":[\"subnet-0b\",\"subnet-0a\"],\"SecurityGroupIds\":[\"sg-0123\"],\"VpcId\":"
    "\"vpc-0abc\"},\"Environment\":{\"Variables\":{\"STRIPE_KEY\":\"sk_live_TOPSECRET\",\"DB_PASSWORD\":"
    "\"hunter2 \\\"quoted\\\" \\u00e9\",\"APP_ENV\":\"prod\"}},\"Layers\":[{\"Arn\":"
    "\"arn:aws:lambda:us-east-1:111122223333:layer:common:3\",\"CodeSize\":100}],\"PackageType\":\"Zip\","
    "\"Architectures\":[\"x86_64\"]},{\"FunctionName\":\"demo-image\",\"FunctionArn\":"
    "\"arn:aws:lambda:us-east-1:111122223333:function:demo-image\",\"Role\":"
    "\"arn:aws:iam::111122223333:role/demo-image-exec\",\"PackageType\":\"Image\",\"Environment\":{\"Error\":"
    "{\"ErrorCode\":\"AccessDeniedException\",\"Message\":\"kms\"}}}],\"NextMarker\":\"bWFya2VyMg==\"}";

static int s_setup(void **state) {
    *state = tm_test_aws_parse_new("us-east-1", "lambda", "ListFunctions");
    return 0;
}

static char *s_dup(const char *s) {
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

static void test_list_functions_example(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.region = "us-west-2";
    char *body = s_dup(s_list_functions_example);
    char *next = NULL;
    assert_int_equal(
        tm__aws_lambda_parse_functions(&fx->f, body, strlen(body), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_null(next); /* an empty NextMarker ends the listing */
    assert_int_equal(fx->items.n, 2);
    assert_string_equal(fx->items.v[0], "arn:aws:lambda:us-west-2:123456789012:function:helloworld");
    const cJSON *res = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-west-2:123456789012:function:my-function");
    assert_non_null(res);
    assert_string_equal(tm_json_str(res, "type", ""), "aws:lambda:function");
    assert_string_equal(tm_json_str(res, "account", ""), "123456789012");
    assert_string_equal(tm_json_str(res, "region", ""), "us-west-2");
    assert_string_equal(tm_json_str(res, "name", ""), "my-function");
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(res, "attrs"), "runtime", ""), "nodejs10.x");
    assert_true(cJSON_IsNull(tm_test_aws_attr(res, "vpc"))); /* empty VpcId and lists: not in a VPC */
    tm_test_aws_assert_json(tm_test_aws_attr(res, "environment_variable_names"), "[]");
    tm_test_aws_assert_json(tm_test_aws_attr(res, "layers"), "[]");
    assert_true(cJSON_IsNull(tm_test_aws_attr(res, "package_type")));
    assert_true(tm_test_aws_has_link(res, "executes-as",
                                     "arn:aws:iam::123456789012:role/service-role/helloWorldPython-role-uy3l9qyq"));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 0);
    free(body);
}

static void test_list_functions_keeps_names_not_values(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *body = s_dup(s_list_functions_env);
    size_t len = strlen(body);
    char *next = NULL;
    assert_int_equal(
        tm__aws_lambda_parse_functions(&fx->f, body, len, &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_string_equal(next, "bWFya2VyMg==");
    free(next);
    /* The values are gone from the response buffer, the names and the rest are not. */
    assert_null(strstr(body, "TOPSECRET"));
    assert_null(strstr(body, "hunter2"));
    assert_null(strstr(body, "prod\""));
    assert_non_null(strstr(body, "\"STRIPE_KEY\":\"*****************\""));
    assert_non_null(strstr(body, "python3.12"));
    assert_int_equal(strlen(body), len);

    const cJSON *res = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-east-1:111122223333:function:demo-api");
    assert_non_null(res);
    tm_test_aws_assert_json(tm_test_aws_attr(res, "environment_variable_names"),
                            "[\"APP_ENV\",\"DB_PASSWORD\",\"STRIPE_KEY\"]");
    tm_test_aws_assert_json(tm_test_aws_attr(res, "vpc"),
                            "{\"subnet_ids\":[\"subnet-0b\",\"subnet-0a\"],\"security_group_ids\":[\"sg-0123\"],"
                            "\"vpc_id\":\"vpc-0abc\"}");
    tm_test_aws_assert_json(tm_test_aws_attr(res, "layers"),
                            "[\"arn:aws:lambda:us-east-1:111122223333:layer:common:3\"]");
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(res, "attrs"), "package_type", ""), "Zip");

    const cJSON *img = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-east-1:111122223333:function:demo-image");
    assert_non_null(img);
    assert_true(cJSON_IsNull(tm_test_aws_attr(img, "runtime"))); /* container images have no runtime */
    tm_test_aws_assert_json(tm_test_aws_attr(img, "environment_variable_names"), "[]");
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(img, "attrs"), "package_type", ""), "Image");

    /* The whole snapshot holds no value. */
    char *out = NULL;
    assert_int_equal(tm_snapshot_serialize(fx->snap, &out, fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_null(strstr(out, "TOPSECRET"));
    assert_null(strstr(out, "hunter2"));
    free(out);
    free(body);
}

static void test_scrub_adversarial(void **state) {
    (void)state;
    /* Truncated in the middle of a value: the rest of the body is overwritten. */
    char t1[] = "{\"Environment\":{\"Variables\":{\"A\":\"secret-to-the-end";
    tm__aws_lambda_scrub_environment(t1, strlen(t1));
    assert_null(strstr(t1, "secret"));
    assert_non_null(strstr(t1, "\"A\":\"*"));

    /* "Variables" as a value, or as a key of something that is not an object, triggers nothing. */
    char t2[] = "{\"Description\":\"Variables\",\"x\":{\"k\":\"keep\"},\"Variables\":[\"keep2\"]}";
    tm__aws_lambda_scrub_environment(t2, strlen(t2));
    assert_non_null(strstr(t2, "keep\""));
    assert_non_null(strstr(t2, "keep2"));

    /* Escaped quotes and backslashes inside values; nested wrong-typed values; numbers. */
    char t3[] = "{\"Variables\":{\"A\":\"a\\\"b\\\\\",\"B\":{\"C\":\"deep\"},\"N\":12345,\"L\":[\"x1\"]},"
                "\"After\":\"visible\"}";
    tm__aws_lambda_scrub_environment(t3, strlen(t3));
    assert_null(strstr(t3, "deep"));
    assert_null(strstr(t3, "12345"));
    assert_null(strstr(t3, "x1"));
    assert_non_null(strstr(t3, "visible"));
    cJSON *parsed = cJSON_Parse(t3); /* still JSON */
    assert_non_null(parsed);
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(parsed, "Variables"), "A", ""), "******");
    cJSON_Delete(parsed);

    /* Garbage and empty input. */
    char t4[] = "\"\\";
    tm__aws_lambda_scrub_environment(t4, strlen(t4));
    tm__aws_lambda_scrub_environment(t4, 0);
    char t5[600];
    memset(t5, '[', sizeof(t5));
    tm__aws_lambda_scrub_environment(t5, sizeof(t5));
}

static void test_list_functions_wrong_types(void **state) {
    struct tm_test_aws_parse *fx = *state;
    char *next = NULL;
    char *body = s_dup("{\"Functions\":[{\"FunctionArn\":\"arn:aws:lambda:us-east-1:111122223333:function:f1\","
                       "\"FunctionName\":\"f1\",\"Runtime\":17,\"Role\":[\"x\"],\"Layers\":{\"Arn\":\"x\"},"
                       "\"VpcConfig\":\"vpc-1\",\"Environment\":{\"Variables\":[\"A\"]}},"
                       "{\"FunctionName\":\"no-arn\"},7,"
                       "{\"FunctionArn\":\"arn:aws:lambda:us-east-1:111122223333:function:f2:LIVE\"},"
                       "{\"FunctionArn\":\"arn:aws:lambda:us-east-1:111122223333:function:\u00e9t\u00e9-\u2603\"}]}");
    assert_int_equal(
        tm__aws_lambda_parse_functions(&fx->f, body, strlen(body), &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_null(next);
    const cJSON *res = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-east-1:111122223333:function:f1");
    assert_non_null(res);
    const char *keys[] = {"runtime", "role", "layers", "vpc", "environment_variable_names"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        assert_true(tm_snapshot_is_unknown(tm_test_aws_attr(res, keys[i])));
    /* A wrong-typed role gives no link. */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(res, "links")), 0);
    /* 5 wrong-typed facts + 3 malformed items (no ARN, not an object, qualified ARN). */
    assert_int_equal(tm_snapshot_error_count(fx->snap), 8);
    const cJSON *err = cJSON_GetArrayItem(tm_snapshot_errors(fx->snap), 0);
    assert_string_equal(tm_json_str(err, "code", ""), TM_AWS_CODE_MALFORMED);
    /* Unicode names pass through untouched. */
    const cJSON *u = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-east-1:111122223333:function:\u00e9t\u00e9-\u2603");
    assert_non_null(u);
    assert_string_equal(tm_json_str(u, "name", ""), "\u00e9t\u00e9-\u2603");
    assert_int_equal(fx->items.n, 2);
    free(body);
}

static void test_list_functions_malformed_pages(void **state) {
    struct tm_test_aws_parse *fx = *state;
    const char *bad[] = {
        "{\"Functions\":[{\"FunctionArn\":\"arn:aws:lambda:us-east-1:1:function:f\"", /* truncated */
        "{\"Functions\":{}}",                                                         /* wrong type */
        "[]",                                                                         /* not an object */
        "{\"Functions\":[],\"NextMarker\":5}",                                        /* bad token */
        "",
        "<html>502 Bad Gateway</html>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *body = s_dup(bad[i]);
        char *next = NULL;
        assert_int_equal(tm__aws_lambda_parse_functions(&fx->f, body, strlen(body), &fx->items, &next, fx->errmsg,
                                                        sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_null(next);
        assert_non_null(strstr(fx->errmsg, "ListFunctions"));
        free(body);
    }
    /* Oversized: thousands of variables, long names. */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\"Functions\":[{\"FunctionArn\":\"arn:aws:lambda:us-east-1:"
                                           "111122223333:function:big\",\"Environment\":{\"Variables\":{"),
                     TM_OK);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(tm_buf_appendf(&b, "%s\"V%04d_%0200d\":\"value-%d\"", i ? "," : "", i, 0, i), TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "}}}]}"), TM_OK);
    char *next = NULL;
    assert_int_equal(
        tm__aws_lambda_parse_functions(&fx->f, b.data, b.len, &fx->items, &next, fx->errmsg, sizeof(fx->errmsg)),
        TM_OK);
    assert_null(strstr(b.data, "value-"));
    const cJSON *res = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-east-1:111122223333:function:big");
    assert_int_equal(cJSON_GetArraySize(tm_test_aws_attr(res, "environment_variable_names")), 5000);
    tm_buf_clean_up(&b);
}

static void test_get_policy(void **state) {
    struct tm_test_aws_parse *fx = *state;
    const char *body =
        "{\"Policy\": \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Id\\\":\\\"default\\\",\\\"Statement\\\":[{\\\"Sid\\\":"
        "\\\"xaccount\\\",\\\"Effect\\\":\\\"Allow\\\",\\\"Principal\\\":{\\\"AWS\\\":\\\"arn:aws:iam::123456789012:"
        "root\\\"},\\\"Action\\\":\\\"lambda:InvokeFunction\\\",\\\"Resource\\\":\\\"arn:aws:lambda:us-east-2:"
        "123456789012:function:my-function:1\\\"}]}\", \"RevisionId\": \"4843f2f6-7c59-4fda-b484-afd0bc0e22b8\"}";
    cJSON *doc = NULL;
    assert_int_equal(tm__aws_lambda_parse_policy(&doc, body, strlen(body), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_string_equal(tm_json_str(doc, "Version", ""), "2012-10-17");
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0);
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(st, "Principal"), "AWS", ""), "arn:aws:iam::123456789012:root");
    cJSON_Delete(doc);

    const char *bad[] = {"{\"Policy\":\"{not json\"}", "{\"Policy\":{\"Version\":\"2012-10-17\"}}",
                         "{\"RevisionId\":\"x\"}", "{\"Policy\":\"[1,2]\"}", "{\"Policy\":\"{\\\"a\\\":"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        doc = NULL;
        assert_int_equal(tm__aws_lambda_parse_policy(&doc, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_null(doc);
    }
}

static void test_get_url(void **state) {
    struct tm_test_aws_parse *fx = *state;
    const char *body =
        "{\"AuthType\":\"NONE\",\"Cors\":{\"AllowCredentials\":true,\"AllowHeaders\":[\"x-custom-header\"],"
        "\"AllowMethods\":[\"*\"],\"AllowOrigins\":[\"https://www.example.com\"],\"ExposeHeaders\":"
        "[\"x-amzn-header\"],\"MaxAge\":86400},\"CreationTime\":\"2021-12-01T00:00:00.000+0000\",\"FunctionArn\":"
        "\"arn:aws:lambda:us-east-1:111122223333:function:demo-api\",\"FunctionUrl\":"
        "\"https://abcdefg.lambda-url.us-east-1.on.aws/\",\"LastModifiedTime\":\"2021-12-01T00:00:00.000+0000\"}";
    cJSON *url = NULL;
    assert_int_equal(tm__aws_lambda_parse_url(&url, body, strlen(body), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    tm_test_aws_assert_json(
        url, "{\"auth_type\":\"NONE\",\"function_url\":\"https://abcdefg.lambda-url.us-east-1.on.aws/\","
             "\"cors\":{\"allow_credentials\":true,\"max_age\":86400,\"allow_headers\":[\"x-custom-header\"],"
             "\"allow_methods\":[\"*\"],\"allow_origins\":[\"https://www.example.com\"],"
             "\"expose_headers\":[\"x-amzn-header\"]}}");
    cJSON_Delete(url);

    const char *no_cors = "{\"AuthType\":\"AWS_IAM\",\"FunctionUrl\":\"https://x.lambda-url.us-east-1.on.aws/\"}";
    assert_int_equal(tm__aws_lambda_parse_url(&url, no_cors, strlen(no_cors), fx->errmsg, sizeof(fx->errmsg)), TM_OK);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(url, "cors")));
    cJSON_Delete(url);

    const char *bad[] = {"{\"AuthType\":\"NONE\"}",
                         "{\"AuthType\":1,\"FunctionUrl\":\"u\"}",
                         "{\"AuthType\":\"NONE\",\"FunctionUrl\":\"u\",\"Cors\":[]}",
                         "{\"AuthType\":\"NONE\",\"FunctionUrl\":\"u\",\"Cors\":{\"AllowOrigins\":\"*\"}}",
                         "{\"AuthType\":\"NONE\",\"FunctionUrl\":\"u\",\"Cors\":{\"MaxAge\":\"1\"}}",
                         "{\"AuthType\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        url = NULL;
        assert_int_equal(tm__aws_lambda_parse_url(&url, bad[i], strlen(bad[i]), fx->errmsg, sizeof(fx->errmsg)),
                         TM_ERR_PARSE);
        assert_null(url);
    }
}

static void test_event_source_mappings(void **state) {
    struct tm_test_aws_parse *fx = *state;
    fx->f.region = "us-west-2";
    fx->f.operation = "ListEventSourceMappings";
    const char *body =
        "{\"EventSourceMappings\": [{\"BatchSize\": 5, \"EventSourceArn\": "
        "\"arn:aws:sqs:us-west-2:123456789012:mySQSqueue\", \"FunctionArn\": "
        "\"arn:aws:lambda:us-west-2:123456789012:function:my-function\", \"LastModified\": 1569284520.333, \"State\": "
        "\"Enabled\", \"StateTransitionReason\": \"USER_INITIATED\", \"UUID\": "
        "\"a1b2c3d4-5678-90ab-cdef-11111EXAMPLE\"},"
        "{\"EventSourceArn\":\"arn:aws:sqs:us-west-2:123456789012:other\",\"FunctionArn\":"
        "\"arn:aws:lambda:us-west-2:123456789012:function:my-function:LIVE\",\"State\":\"Disabled\",\"UUID\":"
        "\"b1b2c3d4-5678-90ab-cdef-22222EXAMPLE\"},{\"UUID\":\"no-function\"}],\"NextMarker\":\"m2\"}";
    char *next = NULL;
    assert_int_equal(tm__aws_lambda_parse_event_source_mappings(&fx->f, body, strlen(body), &fx->items, &next,
                                                                fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_string_equal(next, "m2");
    free(next);
    const cJSON *esm = tm_snapshot_find(
        fx->snap, "arn:aws:lambda:us-west-2:123456789012:event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE");
    assert_non_null(esm);
    assert_string_equal(tm_json_str(esm, "type", ""), "aws:lambda:event-source-mapping");
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(esm, "attrs"), "state", ""), "Enabled");
    assert_string_equal(tm_json_str(cJSON_GetObjectItem(esm, "attrs"), "event_source_arn", ""),
                        "arn:aws:sqs:us-west-2:123456789012:mySQSqueue");
    const cJSON *fn = tm_snapshot_find(fx->snap, "arn:aws:lambda:us-west-2:123456789012:function:my-function");
    assert_non_null(fn);
    assert_string_equal(tm_json_str(fn, "name", ""), "my-function");
    assert_true(tm_test_aws_has_link(fn, "triggered-by", "arn:aws:sqs:us-west-2:123456789012:mySQSqueue"));
    assert_true(tm_test_aws_has_link(fn, "triggered-by", "arn:aws:sqs:us-west-2:123456789012:other"));
    assert_int_equal(tm_snapshot_error_count(fx->snap), 1);

    const char *bad = "{\"EventSourceMappings\":\"x\"}";
    assert_int_equal(tm__aws_lambda_parse_event_source_mappings(&fx->f, bad, strlen(bad), NULL, &next, fx->errmsg,
                                                                sizeof(fx->errmsg)),
                     TM_ERR_PARSE);
}

static void test_aliases(void **state) {
    struct tm_test_aws_parse *fx = *state;
    const char *body =
        "{\"Aliases\": [{\"AliasArn\": \"arn:aws:lambda:us-west-2:123456789012:function:my-function:BETA\", "
        "\"Description\": \"Production environment BLUE.\", \"FunctionVersion\": \"2\", \"Name\": \"BLUE\", "
        "\"RevisionId\": \"a410117f-xmpl-494e-8035-7e204bb7933b\", \"RoutingConfig\": {\"AdditionalVersionWeights\": "
        "{\"1\": 0.7}}}, {\"AliasArn\": \"arn:aws:lambda:us-west-2:123456789012:function:my-function:LIVE\", "
        "\"Description\": \"Production environment GREEN.\", \"FunctionVersion\": \"1\", \"Name\": \"GREEN\", "
        "\"RevisionId\": \"21d40116-xmpl-40ba-9360-3ea284da1bb5\"}]}";
    struct tm_aws_lambda_aliases a = {0};
    char *next = NULL;
    assert_int_equal(tm__aws_lambda_parse_aliases(&a, body, strlen(body), &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_OK);
    assert_null(next);
    assert_int_equal(a.n, 2);
    assert_string_equal(a.v[1].arn, "arn:aws:lambda:us-west-2:123456789012:function:my-function:LIVE");
    assert_string_equal(a.v[1].name, "GREEN");
    assert_string_equal(a.v[1].function_version, "1");
    const char *bad = "{\"Aliases\":[{\"AliasArn\":\"arn:aws:lambda:us-west-2:1:function:f\",\"Name\":\"x\"}]}";
    assert_int_equal(tm__aws_lambda_parse_aliases(&a, bad, strlen(bad), &next, fx->errmsg, sizeof(fx->errmsg)),
                     TM_ERR_PARSE);
    tm__aws_lambda_aliases_clean_up(&a);
    tm__aws_lambda_aliases_clean_up(NULL);
}

static void test_arn_helpers(void **state) {
    (void)state;
    char *s = tm__aws_lambda_unqualified_arn("arn:aws:lambda:eu-west-1:111122223333:function:f:LIVE");
    assert_string_equal(s, "arn:aws:lambda:eu-west-1:111122223333:function:f");
    free(s);
    s = tm__aws_lambda_unqualified_arn("arn:aws-cn:lambda:cn-north-1:111122223333:function:f");
    assert_string_equal(s, "arn:aws-cn:lambda:cn-north-1:111122223333:function:f");
    free(s);
    assert_null(tm__aws_lambda_unqualified_arn("arn:aws:lambda:eu-west-1:111122223333:layer:l:1"));
    assert_null(tm__aws_lambda_unqualified_arn("arn:aws:sqs:eu-west-1:111122223333:function:f"));
    assert_null(tm__aws_lambda_unqualified_arn("arn:aws:lambda:eu-west-1:111122223333:function:"));
    assert_null(tm__aws_lambda_unqualified_arn("function:f"));
    assert_null(tm__aws_lambda_unqualified_arn(NULL));

    s = tm__aws_lambda_arn_from_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                    "arn:aws:lambda:us-east-1:111122223333:function:demo-api/invocations");
    assert_string_equal(s, "arn:aws:lambda:us-east-1:111122223333:function:demo-api");
    free(s);
    s = tm__aws_lambda_arn_from_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                    "arn:aws:lambda:us-east-1:111122223333:function:demo-api:${stageVariables.a}"
                                    "/invocations");
    assert_string_equal(s, "arn:aws:lambda:us-east-1:111122223333:function:demo-api:${stageVariables.a}");
    free(s);
    s = tm__aws_lambda_arn_from_uri("arn:aws:lambda:us-east-1:111122223333:function:v2fn");
    assert_string_equal(s, "arn:aws:lambda:us-east-1:111122223333:function:v2fn");
    free(s);
    assert_null(tm__aws_lambda_arn_from_uri("https://example.com/invocations"));
    assert_null(tm__aws_lambda_arn_from_uri("arn:aws:apigateway:us-east-1:sqs:path/111122223333/q"));
    assert_null(tm__aws_lambda_arn_from_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                            "/invocations"));
    assert_null(tm__aws_lambda_arn_from_uri("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                                            "arn:aws:lambda:us-east-1:1:function:f"));
    assert_null(tm__aws_lambda_arn_from_uri(NULL));
}

/* ---- the demo account, scanned through its fixtures ---- */

static void test_demo_account(void **state) {
    (void)state;
    static const char *const services[] = {"lambda"};
    cJSON *unmatched = NULL, *calls = NULL;
    struct tm_snapshot *snap = tm_test_aws_scan_demo(services, 1, &unmatched, &calls);
    assert_int_equal(cJSON_GetArraySize(unmatched), 0);
    assert_int_equal(tm_snapshot_error_count(snap), 0);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:lambda:function"), 9);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:lambda:alias"), 1);
    assert_int_equal(tm_test_aws_count_type(snap, "aws:lambda:event-source-mapping"), 1);
    assert_int_equal(tm_test_aws_count_calls(calls, "ListFunctions"), 3); /* two pages in us-east-1 */
    const char *hook = "arn:aws:lambda:us-east-1:111122223333:function:legacy-webhook";
    tm_test_aws_expect(snap, hook, "attrs|url|auth_type", "\"NONE\"");
    tm_test_aws_expect(snap, hook, "policies|resource|Statement|0|Principal", "\"*\"");
    tm_test_aws_expect(snap, hook, "links|0|kind", "\"executes-as\"");
    tm_test_aws_expect(snap, hook, "attrs|environment_variable_names|3", "\"DB_PASSWORD\"");
    tm_test_aws_expect(snap, "arn:aws:lambda:us-east-1:111122223333:function:internal-reports", "attrs|url|auth_type",
                       "\"AWS_IAM\"");
    tm_test_aws_expect(snap, "arn:aws:lambda:us-east-1:111122223333:function:orders-api", "attrs|url", "null");
    /* The alias with its own policy; the function's URL is not the alias's. */
    const char *live = "arn:aws:lambda:eu-west-1:111122223333:function:storefront-api:live";
    tm_test_aws_expect(snap, live, "attrs|function",
                       "\"arn:aws:lambda:eu-west-1:111122223333:function:storefront-api\"");
    tm_test_aws_expect(snap, live, "attrs|function_version", "\"7\"");
    tm_test_aws_expect(snap, live, "attrs|url", "null");
    tm_test_aws_expect(snap, live, "policies|resource|Statement|0|Principal|Service", "\"apigateway.amazonaws.com\"");
    /* Environment values never reach the snapshot. */
    char *text = NULL, err[256];
    assert_int_equal(tm_snapshot_serialize(snap, &text, err, sizeof(err)), TM_OK);
    assert_null(strstr(text, "Wq8#Lz2"));
    assert_null(strstr(text, "wJalrXUtnFEMI"));
    assert_null(strstr(text, "whsec_demo"));
    assert_null(strstr(text, "customers-db.c9akciq32rlm"));
    free(text);
    cJSON_Delete(unmatched);
    cJSON_Delete(calls);
    tm_snapshot_destroy(snap);
}

static void test_demo_account_denied(void **state) {
    (void)state;
    static const char *const services[] = {"lambda"};
    static const char *const functions[] = {"url", "runtime", "role", "aliases", "policies|resource", NULL};
    static const char *const aliases[] = {"url", "policies|resource", NULL};
    /* A function known only from an event source mapping (its listing page refused) has its facts
     * unknown, not absent. */
    static const struct tm_test_aws_facts_of facts[] = {
        {"aws:lambda:function", functions},
        {"aws:lambda:alias", aliases},
        {NULL, NULL},
    };
    tm_test_aws_scan_demo_refused(services, 1, facts);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_functions_example, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_list_functions_keeps_names_not_values, s_setup,
                                        tm_test_aws_parse_teardown),
        cmocka_unit_test(test_scrub_adversarial),
        cmocka_unit_test_setup_teardown(test_list_functions_wrong_types, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_list_functions_malformed_pages, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_get_policy, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_get_url, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_event_source_mappings, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test_setup_teardown(test_aliases, s_setup, tm_test_aws_parse_teardown),
        cmocka_unit_test(test_arn_helpers),
        cmocka_unit_test(test_demo_account),
        cmocka_unit_test(test_demo_account_denied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
