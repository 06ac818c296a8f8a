#include "providers/aws/endpoint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/str.h"

#define Q TM_AWS_PROTO_QUERY
#define E TM_AWS_PROTO_EC2
#define J TM_AWS_PROTO_JSON
#define RJ TM_AWS_PROTO_REST_JSON
#define RX TM_AWS_PROTO_REST_XML

/* From the botocore models' metadata (serviceId, endpointPrefix, signingName, protocol, apiVersion,
 * jsonVersion, targetPrefix). Sorted by name for bsearch. */
static const struct tm_aws_service s_services[] = {
    {"accessanalyzer", "AccessAnalyzer", "access-analyzer", "access-analyzer", RJ, "2019-11-01", NULL, NULL, false},
    {"account", "Account", "account", "account", RJ, "2021-02-01", NULL, NULL, true},
    {"acm", "ACM", "acm", "acm", J, "2015-12-08", "1.1", "CertificateManager", false},
    {"apigateway", "API Gateway", "apigateway", "apigateway", RJ, "2015-07-09", NULL, NULL, false},
    {"apigatewayv2", "ApiGatewayV2", "apigateway", "apigateway", RJ, "2018-11-29", NULL, NULL, false},
    {"appsync", "AppSync", "appsync", "appsync", RJ, "2017-07-25", NULL, NULL, false},
    {"athena", "Athena", "athena", "athena", J, "2017-05-18", "1.1", "AmazonAthena", false},
    {"autoscaling", "Auto Scaling", "autoscaling", "autoscaling", Q, "2011-01-01", NULL, NULL, false},
    {"backup", "Backup", "backup", "backup", RJ, "2018-11-15", NULL, NULL, false},
    {"batch", "Batch", "batch", "batch", RJ, "2016-08-10", NULL, NULL, false},
    {"cloudformation", "CloudFormation", "cloudformation", "cloudformation", Q, "2010-05-15", NULL, NULL, false},
    {"cloudfront", "CloudFront", "cloudfront", "cloudfront", RX, "2020-05-31", NULL, NULL, true},
    {"cloudtrail", "CloudTrail", "cloudtrail", "cloudtrail", J, "2013-11-01", "1.1",
     "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", false},
    {"codebuild", "CodeBuild", "codebuild", "codebuild", J, "2016-10-06", "1.1", "CodeBuild_20161006", false},
    {"cognito-identity", "Cognito Identity", "cognito-identity", "cognito-identity", J, "2014-06-30", "1.1",
     "AWSCognitoIdentityService", false},
    {"cognito-idp", "Cognito Identity Provider", "cognito-idp", "cognito-idp", J, "2016-04-18", "1.1",
     "AWSCognitoIdentityProviderService", false},
    {"config", "Config Service", "config", "config", J, "2014-11-12", "1.1", "StarlingDoveService", false},
    {"dynamodb", "DynamoDB", "dynamodb", "dynamodb", J, "2012-08-10", "1.0", "DynamoDB_20120810", false},
    {"ec2", "EC2", "ec2", "ec2", E, "2016-11-15", NULL, NULL, false},
    {"ecr", "ECR", "api.ecr", "ecr", J, "2015-09-21", "1.1", "AmazonEC2ContainerRegistry_V20150921", false},
    {"ecs", "ECS", "ecs", "ecs", J, "2014-11-13", "1.1", "AmazonEC2ContainerServiceV20141113", false},
    {"efs", "EFS", "elasticfilesystem", "elasticfilesystem", RJ, "2015-02-01", NULL, NULL, false},
    {"eks", "EKS", "eks", "eks", RJ, "2017-11-01", NULL, NULL, false},
    {"elasticache", "ElastiCache", "elasticache", "elasticache", Q, "2015-02-02", NULL, NULL, false},
    {"elb", "Elastic Load Balancing", "elasticloadbalancing", "elasticloadbalancing", Q, "2012-06-01", NULL, NULL,
     false},
    {"elbv2", "Elastic Load Balancing v2", "elasticloadbalancing", "elasticloadbalancing", Q, "2015-12-01", NULL, NULL,
     false},
    {"es", "Elasticsearch Service", "es", "es", RJ, "2015-01-01", NULL, NULL, false},
    {"events", "EventBridge", "events", "events", J, "2015-10-07", "1.1", "AWSEvents", false},
    {"firehose", "Firehose", "firehose", "firehose", J, "2015-08-04", "1.1", "Firehose_20150804", false},
    {"glue", "Glue", "glue", "glue", J, "2017-03-31", "1.1", "AWSGlue", false},
    {"guardduty", "GuardDuty", "guardduty", "guardduty", RJ, "2017-11-28", NULL, NULL, false},
    {"iam", "IAM", "iam", "iam", Q, "2010-05-08", NULL, NULL, true},
    {"identitystore", "identitystore", "identitystore", "identitystore", J, "2020-06-15", "1.1", "AWSIdentityStore",
     false},
    {"kafka", "Kafka", "kafka", "kafka", RJ, "2018-11-14", NULL, NULL, false},
    {"kinesis", "Kinesis", "kinesis", "kinesis", J, "2013-12-02", "1.1", "Kinesis_20131202", false},
    {"kms", "KMS", "kms", "kms", J, "2014-11-01", "1.1", "TrentService", false},
    {"lakeformation", "LakeFormation", "lakeformation", "lakeformation", RJ, "2017-03-31", NULL, NULL, false},
    {"lambda", "Lambda", "lambda", "lambda", RJ, "2015-03-31", NULL, NULL, false},
    {"logs", "CloudWatch Logs", "logs", "logs", J, "2014-03-28", "1.1", "Logs_20140328", false},
    {"mq", "mq", "mq", "mq", RJ, "2017-11-27", NULL, NULL, false},
    {"opensearch", "OpenSearch", "es", "es", RJ, "2021-01-01", NULL, NULL, false},
    {"organizations", "Organizations", "organizations", "organizations", J, "2016-11-28", "1.1",
     "AWSOrganizationsV20161128", true},
    {"ram", "RAM", "ram", "ram", RJ, "2018-01-04", NULL, NULL, false},
    {"rds", "RDS", "rds", "rds", Q, "2014-10-31", NULL, NULL, false},
    {"redshift", "Redshift", "redshift", "redshift", Q, "2012-12-01", NULL, NULL, false},
    {"route53", "Route 53", "route53", "route53", RX, "2013-04-01", NULL, NULL, true},
    {"s3", "S3", "s3", "s3", RX, "2006-03-01", NULL, NULL, false},
    {"s3control", "S3 Control", "s3-control", "s3", RX, "2018-08-20", NULL, NULL, false},
    {"sagemaker", "SageMaker", "api.sagemaker", "sagemaker", J, "2017-07-24", "1.1", "SageMaker", false},
    {"secretsmanager", "Secrets Manager", "secretsmanager", "secretsmanager", J, "2017-10-17", "1.1", "secretsmanager",
     false},
    {"securityhub", "SecurityHub", "securityhub", "securityhub", RJ, "2018-10-26", NULL, NULL, false},
    {"ses", "SES", "email", "ses", Q, "2010-12-01", NULL, NULL, false},
    {"sesv2", "SESv2", "email", "ses", RJ, "2019-09-27", NULL, NULL, false},
    {"sns", "SNS", "sns", "sns", Q, "2010-03-31", NULL, NULL, false},
    {"sqs", "SQS", "sqs", "sqs", Q, "2012-11-05", NULL, NULL, false},
    {"ssm", "SSM", "ssm", "ssm", J, "2014-11-06", "1.1", "AmazonSSM", false},
    {"sso-admin", "SSO Admin", "sso", "sso", J, "2020-07-20", "1.1", "SWBExternalService", false},
    {"stepfunctions", "SFN", "states", "states", J, "2016-11-23", "1.0", "AWSStepFunctions", false},
    {"sts", "STS", "sts", "sts", Q, "2011-06-15", NULL, NULL, false},
    {"transfer", "Transfer", "transfer", "transfer", J, "2018-11-05", "1.1", "TransferService", false},
    {"wafv2", "WAFV2", "wafv2", "wafv2", J, "2019-07-29", "1.1", "AWSWAF_20190729", false},
};

#undef Q
#undef E
#undef J
#undef RJ
#undef RX

static int s_cmp_name(const void *key, const void *elem) {
    return strcmp(key, ((const struct tm_aws_service *)elem)->name);
}

const struct tm_aws_service *tm_aws_service_find(const char *name) {
    if (!name)
        return NULL;
    return bsearch(name, s_services, sizeof(s_services) / sizeof(s_services[0]), sizeof(s_services[0]), s_cmp_name);
}

const struct tm_aws_service *tm_aws_service_table(size_t *count) {
    *count = sizeof(s_services) / sizeof(s_services[0]);
    return s_services;
}

/* The single endpoint of a global service, per partition (botocore endpoints.json "partitionEndpoint"). */
struct s_global {
    const char *service;
    const char *partition_prefix; /* region prefix of the partition: "" = aws */
    const char *host;
    const char *signing_region;
};

static const struct s_global s_globals[] = {
    {"iam", "cn-", "iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
    {"iam", "us-gov-", "iam.us-gov.amazonaws.com", "us-gov-west-1"},
    {"iam", "", "iam.amazonaws.com", "us-east-1"},
    {"organizations", "cn-", "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
    {"organizations", "us-gov-", "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
    {"organizations", "", "organizations.us-east-1.amazonaws.com", "us-east-1"},
    {"route53", "cn-", "route53.amazonaws.com.cn", "cn-northwest-1"},
    {"route53", "us-gov-", "route53.us-gov.amazonaws.com", "us-gov-west-1"},
    {"route53", "", "route53.amazonaws.com", "us-east-1"},
    {"cloudfront", "cn-", "cloudfront.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
    {"cloudfront", "", "cloudfront.amazonaws.com", "us-east-1"},
    {"account", "", "account.us-east-1.amazonaws.com", "us-east-1"},
    /* STS's legacy global endpoint, only for the pseudo-region "aws-global". */
    {"sts", "aws-global", "sts.amazonaws.com", "us-east-1"},
};

const char *tm_aws_dns_suffix(const char *region) {
    if (tm_str_starts_with(region, "cn-"))
        return "amazonaws.com.cn";
    if (tm_str_starts_with(region, "us-isob-"))
        return "sc2s.sgov.gov";
    if (tm_str_starts_with(region, "us-iso-"))
        return "c2s.ic.gov";
    return "amazonaws.com";
}

bool tm_aws_region_valid(const char *region) {
    if (!region || !*region || strlen(region) > 32)
        return false;
    if (!(region[0] >= 'a' && region[0] <= 'z'))
        return false;
    for (const char *p = region; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return region[strlen(region) - 1] != '-';
}

bool tm_aws_s3_bucket_virtual_host_ok(const char *bucket) {
    size_t n = bucket ? strlen(bucket) : 0;
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = bucket[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return bucket[0] != '-' && bucket[n - 1] != '-';
}

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

/* AWS_ENDPOINT_URL_<ID>: upper case, spaces and dashes become '_'. */
static const char *s_env_override(const struct tm_env *env, const char *service_id) {
    if (!env || tm_env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))
        return NULL;
    char name[128];
    int n = snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", service_id);
    if (n < 0 || (size_t)n >= sizeof(name))
        return NULL;
    for (char *p = name + strlen("AWS_ENDPOINT_URL_"); *p; p++) {
        if (*p == ' ' || *p == '-')
            *p = '_';
        else if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    }
    const char *v = tm_env_get(env, name);
    return v ? v : tm_env_get(env, "AWS_ENDPOINT_URL");
}

void tm_aws_endpoint_clean_up(struct tm_aws_endpoint *ep) {
    if (!ep)
        return;
    free(ep->url);
    free(ep->signing_region);
    memset(ep, 0, sizeof(*ep));
}

int tm_aws_endpoint_resolve(struct tm_aws_endpoint *out, const struct tm_aws_service *svc, const char *region,
                            const struct tm_env *env, char *errmsg, size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    if (!svc) {
        s_msg(errmsg, errmsg_len, "%s", "no service");
        return TM_ERR_INVALID;
    }
    if (!tm_aws_region_valid(region)) {
        s_msg(errmsg, errmsg_len, "not a region name: '%.64s'", region ? region : "");
        return TM_ERR_INVALID;
    }
    const struct s_global *global = NULL;
    for (size_t i = 0; i < sizeof(s_globals) / sizeof(s_globals[0]); i++) {
        const struct s_global *g = &s_globals[i];
        if (strcmp(g->service, svc->name) != 0)
            continue;
        if (strcmp(g->partition_prefix, "aws-global") == 0) {
            if (strcmp(region, "aws-global") == 0)
                global = g;
            continue;
        }
        if (!svc->global)
            continue;
        if (!*g->partition_prefix || tm_str_starts_with(region, g->partition_prefix)) {
            global = g;
            break;
        }
    }
    if (!global && strcmp(region, "aws-global") == 0) {
        s_msg(errmsg, errmsg_len, "'aws-global' is not a region of %s", svc->name);
        return TM_ERR_INVALID;
    }
    /* A global service in a partition without a known endpoint signs for the region given. */
    const char *signing_region = global ? global->signing_region : region;
    struct tm_buf url;
    tm_buf_init(&url, 0);
    int rc;
    const char *override = s_env_override(env, svc->service_id);
    if (override) {
        size_t len = strlen(override);
        while (len && override[len - 1] == '/')
            len--;
        rc = tm_buf_append(&url, override, len);
        out->overridden = true;
    } else if (global) {
        rc = tm_buf_appendf(&url, "https://%s", global->host);
    } else {
        rc = tm_buf_appendf(&url, "https://%s.%s.%s", svc->endpoint_prefix, region, tm_aws_dns_suffix(region));
    }
    if (rc)
        goto fail;
    out->url = tm_buf_detach(&url);
    out->signing_region = tm_strdup(signing_region);
    if (!out->url || !out->signing_region) {
        rc = TM_ERR_NOMEM;
        goto fail;
    }
    return TM_OK;
fail:
    tm_buf_clean_up(&url);
    tm_aws_endpoint_clean_up(out);
    s_msg(errmsg, errmsg_len, "%s", tm_error_str(rc));
    return rc;
}
