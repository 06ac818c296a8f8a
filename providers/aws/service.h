/* The service interface of the AWS provider.
 *
 * A service is one file (providers/aws/<name>.c) exporting one `const struct tm_aws_service` and one row
 * in the service table of providers/aws/aws.c. The provider calls `start(scan, region)` once per scanned
 * region (or once with region "global" for a global service); `start` queues calls with `tm_aws_call`
 * and returns. Every call completes later, on the loop thread, with its `done` callback, which parses
 * the response (parsers are separate pure functions, see STYLE.md) and may queue further calls
 * (pagination with `tm_aws_call_next`, per-resource calls). A service is done when none of the calls it
 * queued is pending; the scan is done when every service is.
 *
 * Failures are recorded for the service: when a call fails (AccessDenied, region not enabled, throttled
 * past the retry cap, a network error) the scan has already added the error to the snapshot's `errors`
 * when `done` runs, and `res->error` describes it; the callback marks every fact that call would have
 * read as unknown with that error (tm_snapshot_set_unknown, or tm_aws_unknown_value for nested facts)
 * and carries on. A response that arrives but does not parse is recorded with tm_aws_fail, which gives
 * the error to mark facts with. Error answers that *are* the answer (S3 NoSuchBucketPolicy, Lambda
 * ResourceNotFoundException on GetPolicy) are listed in the call's `accept_codes`: they reach `done`
 * with `res->code` set and `res->error` NULL, and nothing is recorded.
 *
 * Memory: calls are copied when queued. Per-call context (the `user_data`) is allocated from the scan
 * with tm_aws_scan_alloc / tm_aws_scan_strdup and lives until the scan is destroyed, so callbacks never
 * free it. Everything here runs on the loop thread.
 *
 * Every operation a service may call is declared in its `operations` table with the IAM action it
 * needs: tm_aws_call refuses an undeclared operation, and a unit test checks that the documented IAM
 * policy (policies/tmscan-readonly-iam-policy.json) grants every declared action. */
#ifndef TM_PROVIDERS_AWS_SERVICE_H
#define TM_PROVIDERS_AWS_SERVICE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "providers/aws/transport.h"

struct tm_aws_scan;

/* The wire protocols of botocore's service models (metadata.protocol). */
enum tm_aws_protocol {
    TM_AWS_PROTO_QUERY = 1, /* "query": form POST Action=&Version=, XML answer (IAM, STS, RDS, SQS, SNS) */
    TM_AWS_PROTO_EC2,       /* "ec2": the EC2 dialect of query (lists without .member, no Result wrapper) */
    TM_AWS_PROTO_JSON,      /* "json": POST {}, X-Amz-Target: <target_prefix>.<Operation> (KMS, ECR, ...) */
    TM_AWS_PROTO_REST_JSON, /* "rest-json": method + path + query string, JSON answer (Lambda, API Gateway) */
    TM_AWS_PROTO_REST_XML,  /* "rest-xml": method + path + query string, XML answer (S3, S3 Control) */
};

/* How to reach one AWS API: the metadata of its botocore service-2.json. */
struct tm_aws_api {
    const char *name;            /* botocore's name: "iam", "s3control", "apigatewayv2" */
    const char *service_id;      /* metadata.serviceId: "IAM", "S3 Control" (AWS_ENDPOINT_URL_<SERVICE_ID>) */
    const char *endpoint_prefix; /* metadata.endpointPrefix: host label "iam", "s3-control", "apigateway" */
    const char *signing_name;    /* SigV4 credential scope service: "iam", "s3", "apigateway" */
    enum tm_aws_protocol protocol;
    const char *api_version;   /* metadata.apiVersion ("2010-05-08"): query/ec2 send it as Version */
    const char *target_prefix; /* json: metadata.targetPrefix ("TrentService") */
    const char *json_version;  /* json: metadata.jsonVersion ("1.1") */
    bool global;               /* one endpoint per partition, signed in the partition's global region (IAM) */
};

/* One operation a service may call, with the IAM action that permits it. */
struct tm_aws_operation {
    const struct tm_aws_api *api;
    const char *name;       /* the wire name: "GetAccountAuthorizationDetails" */
    const char *iam_action; /* "iam:GetAccountAuthorizationDetails"; NULL when no permission is needed
                               (STS GetCallerIdentity) */
};

/* Queues the service's first calls for one region ("global" for a global service). Returns TM_OK, or
 * a negative error when the scan cannot go on (out of memory); failed *calls* are not start's errors. */
typedef int (*tm_aws_service_start_fn)(struct tm_aws_scan *scan, const char *region);

struct tm_aws_service {
    const char *name; /* the --services name and the `service` of recorded errors: "iam", "ec2" */
    bool global;      /* started once per scan, region "global" (IAM, Organizations) */
    const struct tm_aws_operation *operations; /* every operation it may call; ends with {NULL, NULL, NULL} */
    tm_aws_service_start_fn start;             /* NULL for an API only the provider itself calls (STS) */
};

/* One API call. Copied by tm_aws_call; the caller's storage may go away once it returns. */
struct tm_aws_call {
    const struct tm_aws_api *api;
    const char *operation; /* must be in the calling service's operations table */
    const char *region;    /* the region to call; NULL: the service's region (global: the partition's) */
    const char *resource;  /* the ARN the call reads, named in errors; NULL for listings */
    const struct tm_aws_param *params;
    size_t param_count;
    const char *method; /* rest: "GET" when NULL */
    const char *path;   /* rest: the request path, percent-encoded as sent ("/2015-03-31/functions/"); "/" if NULL */
    const char *const *accept_codes; /* NULL-terminated error codes that answer the call; NULL for none */
};

/* How a call ended, for `done`. Valid only during the callback. */
struct tm_aws_result {
    const struct tm_aws_call *call; /* as issued, with `region` resolved */
    int status;                     /* HTTP status of the final attempt; 0 when no response arrived */
    const char *body;               /* the response body, NUL-terminated ("" when none) */
    size_t body_len;
    const char *code;    /* the AWS error code of an error answer (accepted or not); NULL on success */
    const char *message; /* its message, or the transport's; NULL on success */
    int attempts;        /* attempts made, retries included */
    /* Non-NULL when the call failed: already in the snapshot's errors; mark the facts it would have
     * read as unknown with it. It stays valid for the whole scan (a service may keep it to mark facts
     * later). NULL on success and for an accepted code. */
    const struct tm_snapshot_error *error;
};

typedef void (*tm_aws_done_fn)(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data);

/* Queues a call; `done` runs exactly once, later, on the loop thread (never from inside tm_aws_call).
 * The call counts towards the service that is running (the `start` or `done` currently executing).
 * On failure (out of memory, an operation missing from the service's table) the scan is failed with a
 * message, `done` is never called, and the error is returned. Once the scan has failed, calls already
 * queued still end with `done`: those never sent carry res->error with code "Cancelled" (not recorded:
 * a failed scan writes no snapshot), so a service's own bookkeeping always runs to its end. */
TM_MUST_CHECK int tm_aws_call(struct tm_aws_scan *scan, const struct tm_aws_call *call, tm_aws_done_fn done,
                              void *user_data);

/* Queues the next page of res's call: the same call with parameter `token_param` set to `token`
 * (replacing a previous value). */
TM_MUST_CHECK int tm_aws_call_next(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *token_param,
                                   const char *token, tm_aws_done_fn done, void *user_data);

/* A response that arrived but cannot be used (not the document the operation returns): records an
 * error with `code` ("MalformedResponse") and `message` for res's call and returns it, to mark facts
 * unknown with. Returns NULL when out of memory (the scan is then failed). */
const struct tm_snapshot_error *tm_aws_fail(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *code,
                                            const char *message);

/* A response header of the final attempt (name case-insensitive), or NULL. */
const char *tm_aws_result_header(const struct tm_aws_result *res, const char *name);

/* ---- the scan context ---- */

/* Where parsers write: the snapshot and the coordinates of the account. */
struct tm_aws_sink {
    struct tm_snapshot *snap;
    const char *partition; /* "aws", "aws-cn", "aws-us-gov" */
    const char *account;   /* "111122223333" */
    const char *region;    /* the region being scanned, or "global" */
};

/* A sink for region (copied strings stay owned by the scan). */
void tm_aws_scan_sink(struct tm_aws_scan *scan, const char *region, struct tm_aws_sink *out);
struct tm_snapshot *tm_aws_scan_snapshot(struct tm_aws_scan *scan);
const char *tm_aws_scan_account(const struct tm_aws_scan *scan);
const char *tm_aws_scan_partition(const struct tm_aws_scan *scan);
struct tm_log *tm_aws_scan_log(struct tm_aws_scan *scan);
/* The aws:account resource (arn:PARTITION:iam::ACCOUNT:root), for account-level facts. */
cJSON *tm_aws_scan_account_resource(struct tm_aws_scan *scan);
/* True when the service named is being scanned (a service may skip work another one covers). */
bool tm_aws_scan_has_service(const struct tm_aws_scan *scan, const char *name);

/* Zeroed memory / a copy of s that live as long as the scan. NULL when out of memory (the scan is
 * then failed); tm_aws_scan_strdup(scan, NULL) is NULL without failing. */
void *tm_aws_scan_alloc(struct tm_aws_scan *scan, size_t size);
char *tm_aws_scan_strdup(struct tm_aws_scan *scan, const char *s);

/* Runs fn(ptr) when the scan is destroyed, for state a service keeps outside the scan's memory (cJSON
 * trees). On failure (out of memory) fn(ptr) runs at once and the scan is failed. */
TM_MUST_CHECK int tm_aws_scan_on_destroy(struct tm_aws_scan *scan, void (*fn)(void *ptr), void *ptr);

/* For results of snapshot and parser functions inside callbacks: when rc < 0 the scan is failed with
 * "<what>: <error>" (it stops queueing and the provider reports the failure). Returns rc. */
int tm_aws_scan_check(struct tm_aws_scan *scan, int rc, const char *what);

/* ---- helpers for services and parsers ---- */

/* {"$unknown": {...err...}}: the unknown marker as a value, for a fact nested inside an attribute
 * (e.g. one access key's last use). NULL when out of memory. */
cJSON *tm_aws_unknown_value(const struct tm_snapshot_error *err);

/* Parses a policy document as AWS delivers it: JSON text, URL-encoded first when url_encoded (IAM).
 * TM_ERR_PARSE when it is not a JSON object. The caller owns *out. */
TM_MUST_CHECK int tm_aws_policy_document(cJSON **out, const char *text, size_t len, bool url_encoded);

/* Formats an ARN into out: arn:<partition>:<service>:<region>:<account>:<resource...>. TM_ERR_TOO_BIG
 * when it does not fit. region and account may be "". */
TM_MUST_CHECK int tm_aws_arn(char *out, size_t out_len, const char *partition, const char *service, const char *region,
                             const char *account, const char *resource_fmt, ...) __attribute__((format(printf, 7, 8)));

/* The scalar JSON value for an attribute from optional text: a string, or null when text is NULL. */
cJSON *tm_aws_json_string_or_null(const char *text);

#endif
