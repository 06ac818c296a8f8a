/* What the AWS scan hands to the layer below it: one call with everything resolved (API, region,
 * account, protocol shape), and how it ended. The scan sends through a struct tm_aws_transport: the AWS
 * request layer over the HTTP engine (transport_net.c), the --record wrapper around it (record.c), or a
 * fake in tests. This header stands alone on purpose: the request layer's headers and the service
 * interface can each be included next to it. */
#ifndef TM_PROVIDERS_AWS_TRANSPORT_H
#define TM_PROVIDERS_AWS_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* A request parameter. For query/ec2 a form parameter (flattened: "Owner.1", "Filter.1.Name"), for
 * rest-json/rest-xml a query-string parameter, for json a top-level member of the body: a string, or
 * the JSON text of `value` itself (a number, true, false) when `raw`. Names and values are unencoded. */
struct tm_aws_param {
    const char *name;
    const char *value;
    bool raw;
};

struct tm_aws_header {
    const char *name;
    const char *value;
};

/* How urgent a call is, for a transport that orders what it sends (the HTTP engine's priorities carry
 * the same numbers): the next page of a listing holds up the rest of its chain, a listing holds up the
 * per-resource calls its items fan out into, and those hold up nothing. */
enum tm_aws_priority {
    TM_AWS_PRIORITY_RESOURCE = 1, /* a call about one resource (the call names it) */
    TM_AWS_PRIORITY_LISTING = 2,  /* a first page: a listing, or a call that names no resource */
    TM_AWS_PRIORITY_NEXT_PAGE = 3 /* the continuation of a listing */
};

/* One call as it goes out. */
struct tm_aws_wire_call {
    const char *service;      /* the API's botocore name: "iam", "s3control", "apigatewayv2" */
    const char *signing_name; /* its credential scope service: "iam", "s3" for s3control */
    const char *operation;    /* "ListRoles" */
    const char *region;       /* the region to call and sign for (us-east-1 for IAM) */
    const char *account;      /* the scanned account (S3 Control names it), NULL until it is known */
    bool rest;                /* rest-json/rest-xml: method, path and query parameters */
    bool json;                /* json protocol: the parameters are the members of the JSON body */
    const char *method;       /* "POST" for query, ec2 and json */
    const char *path;         /* percent-encoded as sent; "/" for query, ec2 and json; S3 path-style
                                 ("/bucket" for a bucket's subresources) */
    const struct tm_aws_param *params;
    size_t param_count;
    enum tm_aws_priority priority;
};

/* How a call ended. */
struct tm_aws_transport_response {
    int status;       /* HTTP status of the final attempt; 0 when no response arrived */
    const char *body; /* NUL-terminated; may be NULL when empty */
    size_t body_len;
    /* Set when the call failed: the service's error code (an error answer) or the transport's
     * ("NetworkError", "Timeout", "ResponseTooLarge", "ReadOnlyRefused", ...), with its message. */
    const char *code;
    const char *message;
    int attempts;
    const struct tm_aws_header *headers; /* response headers of the final attempt */
    size_t header_count;
};

typedef void (*tm_aws_transport_done_fn)(void *user_data, const struct tm_aws_transport_response *resp);

/* Sends AWS calls. Implementations embed this struct as their first member. */
struct tm_aws_transport {
    /* Sends a call. On TM_OK `done` runs exactly once, later, on the loop thread; on error it never
     * runs (TM_ERR_READ_ONLY: the operation is not a read). */
    int (*send)(struct tm_aws_transport *t, const struct tm_aws_wire_call *call, tm_aws_transport_done_fn done,
                void *user_data);
    /* Nothing more will be sent: release loop handles so the loop can run dry. May be NULL. */
    void (*close)(struct tm_aws_transport *t);
};

#endif
