/* AWS services as tmscan calls them (protocol, versions, signing name) and where to reach them.
 *
 * Endpoint resolution follows the SDKs: AWS_ENDPOINT_URL_<SERVICE_ID> (the service id upper-cased, spaces
 * and dashes as '_': AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_API_GATEWAY, AWS_ENDPOINT_URL_SECRETS_MANAGER),
 * then AWS_ENDPOINT_URL, then the service's real host in the region's partition; neither variable counts
 * when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. The environment comes in as a struct tm_env. */
#ifndef TM_AWS_ENDPOINT_H
#define TM_AWS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/auth/env.h"

enum tm_aws_protocol {
    TM_AWS_PROTO_QUERY = 0, /* POST form Action=&Version=, XML answers */
    TM_AWS_PROTO_EC2,       /* the query variant EC2 speaks (its own error shape) */
    TM_AWS_PROTO_JSON,      /* POST /, X-Amz-Target, application/x-amz-json-1.0 or 1.1 */
    TM_AWS_PROTO_REST_JSON, /* method + path, JSON bodies */
    TM_AWS_PROTO_REST_XML,  /* method + path, XML bodies (S3, Route 53, CloudFront) */
};

/* One row per service; the names are botocore's. */
struct tm_aws_service {
    const char *name;            /* "s3", "lambda", "elbv2", "stepfunctions" */
    const char *service_id;      /* the SDK service id: "S3", "API Gateway", "Elastic Load Balancing v2" */
    const char *endpoint_prefix; /* the host's first label: "s3", "elasticloadbalancing", "states" */
    const char *signing_name;    /* the credential scope's service: "s3", "execute-api" for IoT, ... */
    enum tm_aws_protocol protocol;
    const char *api_version;   /* "2010-05-08"; Version= of the query protocols */
    const char *json_version;  /* "1.0" or "1.1" for the JSON protocol, else NULL */
    const char *target_prefix; /* X-Amz-Target prefix for the JSON protocol, else NULL */
    bool global;               /* one endpoint per partition, signed for its home region */
};

/* The row for a service name, or NULL. */
const struct tm_aws_service *tm_aws_service_find(const char *name);
/* The whole table, sorted by name. */
const struct tm_aws_service *tm_aws_service_table(size_t *count);

struct tm_aws_endpoint {
    char *url;            /* "https://sts.eu-west-1.amazonaws.com" or the override, no trailing '/' */
    char *signing_region; /* the region the credential scope names */
    bool overridden;      /* from AWS_ENDPOINT_URL_<ID> or AWS_ENDPOINT_URL */
};

/* Resolves a service's endpoint for a region. Global services (IAM, Organizations, Route 53,
 * CloudFront) go to their partition's single endpoint and sign for its home region (us-east-1 in aws);
 * STS is regional, and global (sts.amazonaws.com) for the region "aws-global". A region must look like
 * one ([a-z0-9-], starting with a letter): it becomes part of a host name. Errors: TM_ERR_INVALID
 * (errmsg says why), TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_aws_endpoint_resolve(struct tm_aws_endpoint *out, const struct tm_aws_service *svc,
                                          const char *region, const struct tm_env *env, char *errmsg,
                                          size_t errmsg_len);
void tm_aws_endpoint_clean_up(struct tm_aws_endpoint *ep);

/* "amazonaws.com", "amazonaws.com.cn" (cn-*), "c2s.ic.gov" (us-iso-*), "sc2s.sgov.gov" (us-isob-*). */
const char *tm_aws_dns_suffix(const char *region);
bool tm_aws_region_valid(const char *region);
/* An S3 bucket name that can be a DNS label under s3.<region>.<suffix> with a matching TLS certificate:
 * 3-63 of [a-z0-9-], starting and ending with a letter or digit, not an IP address (no dots at all, since
 * the wildcard certificate covers one label). Others go path-style. */
bool tm_aws_s3_bucket_virtual_host_ok(const char *bucket);

#endif
