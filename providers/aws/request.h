/* The AWS request layer: builds a call in the service's protocol, resolves its endpoint, signs every
 * attempt afresh with SigV4, and turns the answer into a code and message the providers can record.
 *
 *     struct tm_aws_request *r;
 *     rc = tm_aws_request_new(&r, client, "iam", "ListRoles", "us-east-1", err, sizeof(err));
 *     rc = tm_aws_request_add_param(r, "Marker", marker);           // query / ec2: form parameters
 *     rc = tm_aws_request_send(r, on_roles, ctx);                    // on_roles runs once, later
 *
 * Read-only by construction: tm_aws_request_new refuses, with TM_ERR_READ_ONLY and before anything exists
 * to send, every operation that providers/aws/readonly.h does not allow; the request cannot be turned into
 * another operation afterwards (Action, Version, X-Amz-Target and the signing headers are the layer's
 * own), and REST calls may only use GET, HEAD or POST.
 *
 * Protocols: query and ec2 (POST form Action=&Version=), json (POST /, X-Amz-Target,
 * application/x-amz-json-1.0/1.1), rest-json and rest-xml (method + path + query string). S3 buckets are
 * addressed virtual-host style (https://<bucket>.s3.<region>.amazonaws.com) when the name allows it, and
 * path style otherwise and whenever the endpoint is overridden (AWS_ENDPOINT_URL_S3, mockcloud). */
#ifndef TM_AWS_REQUEST_H
#define TM_AWS_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "providers/auth/credentials.h"
#include "providers/auth/env.h"
#include "providers/aws/endpoint.h"
#include "providers/net/http.h"

/* Gets the credentials to sign one attempt with: runs cb exactly once, before returning or later (on the
 * loop's thread), and returns TM_OK; or returns an error and never runs cb. Called for every attempt, so
 * temporary credentials are refreshed when they near expiry. */
typedef int (*tm_aws_get_credentials_fn)(tm_aws_credentials_fn cb, void *cb_data, void *user_data);

/* The adapter for a struct tm_aws_credentials_provider (pass the provider as user_data). */
int tm_aws_get_credentials_from_provider(tm_aws_credentials_fn cb, void *cb_data, void *provider);

/* The signing clock, seconds since the epoch (time(NULL) when not given). */
typedef int64_t (*tm_aws_clock_fn)(void *user_data);

struct tm_aws_client_options {
    struct tm_http_engine *engine; /* required; must outlive every request */
    const struct tm_env *env;      /* endpoint overrides; NULL: none */
    tm_aws_get_credentials_fn get_credentials;
    void *credentials_data;
    tm_aws_clock_fn clock;
    void *clock_data;
    struct tm_log *log;
    /* Retry a 2xx whose JSON or XML body (by Content-Type) does not parse, as a transient fault: a body
     * cut short or corrupted on the way. Default true. */
    bool validate_bodies;
};

void tm_aws_client_options_init(struct tm_aws_client_options *opts);

struct tm_aws_client;

TM_MUST_CHECK int tm_aws_client_new(struct tm_aws_client **out, const struct tm_aws_client_options *opts);
/* Requests already sent keep the client alive until their done callbacks have run. Accepts NULL. */
void tm_aws_client_destroy(struct tm_aws_client *client);

/* What a done callback gets. Pointers are valid only during the callback. */
struct tm_aws_response {
    int err;          /* TM_OK; TM_ERR_SERVICE (see code/message), TM_ERR_NOT_FOUND (404),
                       * TM_ERR_AUTH (credentials refused or unavailable), or the engine's errors */
    long status;      /* HTTP status of the last answer, 0 when none */
    const char *body; /* never NULL */
    size_t body_len;
    const char *code;       /* "" on success; e.g. "AccessDenied", "ThrottlingException", "NetworkError" */
    const char *message;    /* "" when none */
    const char *request_id; /* "" when none */
    unsigned attempts;
    unsigned throttles;
    const char *service;                 /* "iam" */
    const char *operation;               /* "ListRoles" */
    const char *region;                  /* as given to tm_aws_request_new */
    const struct tm_http_response *http; /* headers and the rest */
};

typedef void (*tm_aws_done_fn)(const struct tm_aws_response *resp, void *user_data);

struct tm_aws_request;

/* A call of `operation` on `service` (botocore names: "s3", "ec2", "lambda") in `region`. Errors:
 * TM_ERR_READ_ONLY (not a read-only operation), TM_ERR_NOT_FOUND (unknown service), TM_ERR_INVALID (bad
 * operation or region name), TM_ERR_NOMEM; errmsg says which. */
TM_MUST_CHECK int tm_aws_request_new(struct tm_aws_request **out, struct tm_aws_client *client, const char *service,
                                     const char *operation, const char *region, char *errmsg, size_t errmsg_len);
/* Frees a request that was not sent. Accepts NULL. */
void tm_aws_request_destroy(struct tm_aws_request *req);

/* query / ec2: a form parameter ("Marker", "Filter.1.Name"). rest-json / rest-xml: a query-string
 * parameter; a NULL value gives a bare key (S3's "?policy"). Not for json (use a body). Names and values
 * are percent-encoded here. Refuses Action and Version (the layer's own) and parameters that make a read
 * return secrets (TM_ERR_READ_ONLY). */
TM_MUST_CHECK int tm_aws_request_add_param(struct tm_aws_request *req, const char *name, const char *value);
/* json / rest-json: the JSON body (copied). json defaults to "{}". */
TM_MUST_CHECK int tm_aws_request_set_json(struct tm_aws_request *req, const char *json);
/* rest-json / rest-xml: method (GET, HEAD or POST) and path, already percent-encoded (tm_aws_path_label
 * helps), relative to the bucket for S3 bucket calls. Default "GET", "/". */
TM_MUST_CHECK int tm_aws_request_set_rest(struct tm_aws_request *req, const char *method, const char *path);
/* S3: the bucket the call is about. */
TM_MUST_CHECK int tm_aws_request_set_bucket(struct tm_aws_request *req, const char *bucket);
/* A host prefix from the model's "hostPrefix" (S3 Control: "<account id>."), a DNS label and a dot. Not
 * applied to an overridden endpoint. */
TM_MUST_CHECK int tm_aws_request_set_host_prefix(struct tm_aws_request *req, const char *prefix);
/* An extra header (S3 Control's x-amz-account-id). Refuses Host, Authorization, X-Amz-Target, X-Amz-Date,
 * X-Amz-Security-Token and x-amz-content-sha256. */
TM_MUST_CHECK int tm_aws_request_add_header(struct tm_aws_request *req, const char *name, const char *value);
/* Overrides the engine's attempt cap for this call (0 keeps it). */
void tm_aws_request_set_max_attempts(struct tm_aws_request *req, unsigned max_attempts);
/* The engine priority of the call (TM_HTTP_PRIORITY_*; 0 keeps the engine's default). */
void tm_aws_request_set_priority(struct tm_aws_request *req, int priority);

/* Sends the call; the request is consumed in every case. On TM_OK, done runs exactly once, later. On
 * error (TM_ERR_NOMEM, TM_ERR_INVALID for an endpoint that cannot be resolved, TM_ERR_STATE) done never
 * runs and errmsg says why. */
TM_MUST_CHECK int tm_aws_request_send(struct tm_aws_request *req, tm_aws_done_fn done, void *user_data, char *errmsg,
                                      size_t errmsg_len);

/* The URL the request would be sent to (for diagnostics and tests). */
TM_MUST_CHECK int tm_aws_request_url(struct tm_buf *out, const struct tm_aws_request *req, char *errmsg,
                                     size_t errmsg_len);

/* Appends a URI label: percent-encoded (RFC 3986), '/' kept only when greedy ("{Key+}"). */
TM_MUST_CHECK int tm_aws_path_label(struct tm_buf *path, const char *value, bool greedy);

/* --- The credential chain's transport ------------------------------------------------------------------ */

/* Sends the credential provider's requests (STS, IMDS, the container endpoint) through the engine: the
 * engine retries transport errors, 5xx and throttles; any status that comes back is handed over as a
 * response. STS calls are held to the read-only rule like any other (AssumeRole*, GetCallerIdentity). */
struct tm_aws_http_transport {
    struct tm_aws_cred_transport base; /* first: the provider sees only this */
    struct tm_http_engine *engine;
};

void tm_aws_http_transport_init(struct tm_aws_http_transport *transport, struct tm_http_engine *engine);

#endif
