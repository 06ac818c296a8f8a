#include "providers/aws/limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/endpoint.h"

/* Sources, as cited by docs/benchmarks.md (bench/aws_limits.json holds the same figures for mockcloud). */
#define S_LAMBDA_QUOTAS                                                                                                \
    "AWS Lambda Developer Guide, Lambda quotas (awsdocs/aws-lambda-developer-guide, "                                  \
    "doc_source/gettingstarted-limits.md)"
#define S_APIGW_QUOTAS "Amazon API Gateway quotas (docs.aws.amazon.com/apigateway/latest/developerguide/limits.html)"

static const char *const s_lambda_policy[] = {"GetPolicy", NULL};
static const char *const s_lambda_control[] = {"ListFunctions", "GetFunctionUrlConfig", "ListAliases",
                                               "ListEventSourceMappings", NULL};
static const char *const s_apigw_resources[] = {"GetResources", NULL};
static const char *const s_apigw_v1[] = {"GetRestApis", "GetUsagePlans", "GetAuthorizers", "GetStages", NULL};
static const char *const s_apigw_v2[] = {"GetApis",        "GetRoutes", "GetIntegrations",
                                         "GetAuthorizers", "GetStages", NULL};
static const char *const s_ec2[] = {"DescribeRegions",
                                    "DescribeInstances",
                                    "DescribeSecurityGroups",
                                    "DescribeNetworkInterfaces",
                                    "DescribeSnapshots",
                                    "DescribeSnapshotAttribute",
                                    "DescribeImages",
                                    "DescribeImageAttribute",
                                    NULL};
static const char *const s_kms_list[] = {"ListKeys", "ListAliases", "DescribeKey", NULL};
static const char *const s_kms_policy[] = {"GetKeyPolicy", NULL};
static const char *const s_sm_policy[] = {"GetResourcePolicy", NULL};
static const char *const s_sm_list[] = {"ListSecrets", NULL};
static const char *const s_sns_list[] = {"ListTopics", "ListSubscriptions", NULL};
static const char *const s_s3_get[] = {"GetBucketPolicy",
                                       "GetBucketPolicyStatus",
                                       "GetBucketAcl",
                                       "GetPublicAccessBlock",
                                       "GetBucketOwnershipControls",
                                       "GetBucketWebsite",
                                       NULL};

static const struct tm__aws_limit s_limits[] = {
    {"lambda", s_lambda_policy, 15, 15, NULL, S_LAMBDA_QUOTAS ": GetPolicy API requests, 15 requests per second"},
    /* "Control plane API requests (excludes invocation, GetFunction, and GetPolicy requests): 15 requests per
     * second across all APIs" */
    {"lambda", s_lambda_control, 15, 15, "lambda-control-plane",
     S_LAMBDA_QUOTAS ": the remainder of the control plane API requests, 15 requests per second across all APIs"},
    {"apigateway", s_apigw_resources, 2.5, 5, NULL, S_APIGW_QUOTAS ": GetResources, 5 requests every 2 seconds"},
    /* One account-wide budget for the management API of both versions (apigatewayv2 signs as apigateway). */
    {"apigateway", s_apigw_v1, 10, 40, "apigateway-management",
     S_APIGW_QUOTAS ": total operations, 10 requests per second with a burst quota of 40 requests"},
    {"apigatewayv2", s_apigw_v2, 10, 40, "apigateway-management",
     S_APIGW_QUOTAS ": total operations, 10 requests per second with a burst quota of 40 requests"},
    {"ec2", s_ec2, 20, 100, NULL,
     "Amazon EC2 API request throttling (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): "
     "non-mutating actions, a bucket of 100 tokens refilled at 20 per second, per API and Region"},
    {"kms", s_kms_list, 100, 100, NULL,
     "AWS KMS Developer Guide, Request quotas for each AWS KMS API operation (awsdocs/aws-kms-developer-guide, "
     "doc_source/requests-per-second.md): ListKeys, ListAliases, DescribeKey 100 per second"},
    {"kms", s_kms_policy, 30, 30, NULL, "AWS KMS Developer Guide, Request quotas: GetKeyPolicy 30 per second"},
    {"secretsmanager", s_sm_policy, 50, 50, NULL,
     "AWS Secrets Manager quotas (docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html): "
     "combined rate of DeleteResourcePolicy, GetResourcePolicy, PutResourcePolicy and ValidateResourcePolicy, 50 "
     "per second"},
    {"secretsmanager", s_sm_list, 100, 100, NULL,
     "AWS What's New, 2022-11-11, Secrets Manager increases API requests per second limits: ListSecrets 100 "
     "requests per second"},
    {"sns", s_sns_list, 30, 30, NULL,
     "Amazon SNS API Reference (botocore sns/2010-03-31 model): ListTopics and ListSubscriptions are throttled at 30 "
     "transactions per second"},
    {"s3", s_s3_get, 5500, 5500, NULL,
     "Amazon S3 performance guidelines: 5,500 GET/HEAD requests per second per partitioned prefix"},
    {NULL, NULL, 0, 0, NULL, NULL},
};

const struct tm__aws_limit *tm__aws_limits(void) {
    return s_limits;
}

double tm__aws_client_burst(double service_burst) {
    /* A client pacing at exactly the service's rate keeps the service's bucket at its last token, and
     * whichever call then arrives a millisecond early (scheduling, the network) is throttled; the
     * adaptive limiter would then cut the rate by a third for seconds. One token left in the service's
     * bucket absorbs that jitter for the price of one call's interval. */
    return service_burst >= 2 ? service_burst - 1 : 1;
}

int tm__aws_limits_seed(struct tm_http_engine *engine, const char *region) {
    for (const struct tm__aws_limit *l = s_limits; l->api; l++) {
        char group[160] = "";
        if (l->group && (size_t)snprintf(group, sizeof(group), "%s:%s", l->group, region) >= sizeof(group))
            return TM_ERR_INVALID;
        for (const char *const *op = l->operations; *op; op++) {
            char key[256];
            if ((size_t)snprintf(key, sizeof(key), "%s:%s:%s", l->api, region, *op) >= sizeof(key))
                return TM_ERR_INVALID;
            double burst = tm__aws_client_burst(l->burst);
            int rc = l->group ? tm_http_engine_set_shared_rate(engine, key, group, l->rate_per_s, burst)
                              : tm_http_engine_set_rate(engine, key, l->rate_per_s, burst);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

static bool s_name_ok(const char *s, size_t n, bool dash) {
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (dash && c == '-')))
            return false;
    }
    return true;
}

/* Whether SERVICE of a rate names the API: its botocore name or its endpoint prefix. */
static bool s_names(const struct tm_aws_service *api, const char *service) {
    return strcmp(api->name, service) == 0 || strcmp(api->endpoint_prefix, service) == 0;
}

int tm__aws_rate_parse(struct tm__aws_rate *out, const char *spec, char *errmsg, size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    const char *colon = strchr(spec, ':');
    const char *eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || !eq) {
        snprintf(errmsg, errmsg_len, "'%s' is not SERVICE:OPERATION=RPS[:BURST]", spec);
        return TM_ERR_INVALID;
    }
    size_t sn = (size_t)(colon - spec), on = (size_t)(eq - colon - 1);
    if (!s_name_ok(spec, sn, true) || sn >= sizeof(out->service) || !s_name_ok(colon + 1, on, false) ||
        on >= sizeof(out->operation)) {
        snprintf(errmsg, errmsg_len, "'%s': SERVICE and OPERATION are names (lambda:GetPolicy)", spec);
        return TM_ERR_INVALID;
    }
    memcpy(out->service, spec, sn);
    memcpy(out->operation, colon + 1, on);
    size_t count = 0;
    const struct tm_aws_service *table = tm_aws_service_table(&count);
    bool known = false;
    for (size_t i = 0; i < count && !known; i++)
        known = s_names(&table[i], out->service);
    if (!known) {
        snprintf(errmsg, errmsg_len, "'%s': unknown service '%s'", spec, out->service);
        return TM_ERR_INVALID;
    }
    const char *v = eq + 1;
    char *end = NULL;
    errno = 0;
    out->rate_per_s = strtod(v, &end);
    if (errno || end == v || !isfinite(out->rate_per_s) || !(out->rate_per_s > 0) || out->rate_per_s > 100000) {
        snprintf(errmsg, errmsg_len, "'%s': RPS is a positive number of calls per second (at most 100000)", spec);
        return TM_ERR_INVALID;
    }
    out->burst = fmax(1.0, out->rate_per_s);
    if (*end == ':') {
        v = end + 1;
        errno = 0;
        out->burst = strtod(v, &end);
        if (errno || end == v || !isfinite(out->burst) || out->burst < 1 || out->burst > 100000) {
            snprintf(errmsg, errmsg_len, "'%s': BURST is a number of calls from 1 to 100000", spec);
            return TM_ERR_INVALID;
        }
    }
    if (*end) {
        snprintf(errmsg, errmsg_len, "'%s' is not SERVICE:OPERATION=RPS[:BURST]", spec);
        return TM_ERR_INVALID;
    }
    return TM_OK;
}

int tm__aws_rates_apply(struct tm_http_engine *engine, const struct tm__aws_rate *rates, size_t count,
                        const char *region) {
    size_t apis = 0;
    const struct tm_aws_service *table = tm_aws_service_table(&apis);
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < apis; k++) {
            if (!s_names(&table[k], rates[i].service))
                continue;
            /* One budget per SERVICE:OPERATION, as it was given: "apigateway:GetStages" names one bucket for
             * the GetStages of both API Gateway APIs. */
            char key[256], group[256];
            if ((size_t)snprintf(key, sizeof(key), "%s:%s:%s", table[k].name, region, rates[i].operation) >=
                    sizeof(key) ||
                (size_t)snprintf(group, sizeof(group), "%s:%s:%s", rates[i].service, region, rates[i].operation) >=
                    sizeof(group))
                return TM_ERR_INVALID;
            int rc = tm_http_engine_set_shared_rate(engine, key, group, rates[i].rate_per_s,
                                                    tm__aws_client_burst(rates[i].burst));
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}
