/* AWS error responses: parsing each protocol's error shape, and what an error code means for retrying.
 * Parsers only: nothing here sends or schedules anything.
 *
 *   query      <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
 *   ec2        <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
 *   rest-xml   <Error><Code/><Message/><RequestId/></Error> (S3; Route 53 and CloudFront wrap it in
 *              <ErrorResponse>)
 *   json       {"__type": "namespace#Code", "message": "..."} (or "Message"); the x-amzn-query-error header
 *              ("Code;Sender") wins for services that answer query-compatible codes
 *   rest-json  the x-amzn-ErrorType header ("Code:http://..."), else the body as for json
 *
 * A body that is empty (HEAD) or does not parse gives the status as code ("404") and its reason as
 * message ("Not Found"), as the AWS SDKs do. */
#ifndef TM_AWS_ERRORS_H
#define TM_AWS_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/endpoint.h"

/* Error bodies are small; anything larger is not read. */
#define TM_AWS_ERROR_MAX_BODY (1024u * 1024u)

struct tm_aws_error {
    char code[128];    /* never empty after a parse */
    char message[512]; /* one line, control characters replaced, cut at a UTF-8 boundary */
    char request_id[128];
};

struct tm_aws_error_input {
    enum tm_aws_protocol protocol;
    long status;
    const char *body;
    size_t body_len;
    const char *error_type_header;  /* x-amzn-ErrorType, or NULL */
    const char *query_error_header; /* x-amzn-query-error, or NULL */
    const char *request_id_header;  /* x-amzn-RequestId / x-amz-request-id, or NULL */
};

/* Fills `out` in every case. Returns TM_OK when the code came from the body or a header, TM_ERR_PARSE when
 * the body was malformed or held no code (the code is then the status), TM_ERR_TOO_BIG when the body was
 * over TM_AWS_ERROR_MAX_BODY (likewise). */
int tm_aws_error_parse(struct tm_aws_error *out, const struct tm_aws_error_input *in);

/* Throttling codes (the AWS SDKs' list): Throttling, ThrottlingException, ThrottledException,
 * RequestThrottledException, TooManyRequestsException, ProvisionedThroughputExceededException,
 * TransactionInProgressException, RequestLimitExceeded, BandwidthLimitExceeded, LimitExceededException,
 * RequestThrottled, SlowDown, PriorRequestNotComplete, EC2ThrottledException. */
bool tm_aws_error_is_throttle(const char *code);
/* Transient codes worth a retry whatever the status: RequestTimeout, RequestTimeoutException,
 * PriorRequestNotComplete, InternalError, InternalFailure, ServiceUnavailable, ServiceUnavailableException,
 * Unavailable, RequestExpired (each attempt is signed afresh), IDPCommunicationError. */
bool tm_aws_error_is_transient(const char *code);
/* The credentials were refused (as opposed to the permission being missing): InvalidClientTokenId,
 * SignatureDoesNotMatch, UnrecognizedClientException, InvalidAccessKeyId, AuthFailure, ExpiredToken,
 * ExpiredTokenException, InvalidToken, MissingAuthenticationToken, IncompleteSignature. */
bool tm_aws_error_is_auth(const char *code);

#endif
