/* AWS error responses, shaped as each protocol sends them: query XML <ErrorResponse>, EC2's
 * <Response><Errors>, JSON {"__type"}, REST-JSON with x-amzn-ErrorType, S3's <Error>. Codes, statuses
 * and wording follow what the services send, so SDK error parsing and retry logic see the real thing. */
#include "cmd/mockcloud/mock_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

void tm__mock_response_init(struct tm__mock_response *resp) {
    resp->status = 200;
    tm_buf_init(&resp->head, 0);
    tm_buf_init(&resp->body, 0);
}

void tm__mock_response_clean_up(struct tm__mock_response *resp) {
    if (!resp)
        return;
    tm_buf_clean_up(&resp->head);
    tm_buf_clean_up(&resp->body);
}

int tm__mock_response_header(struct tm__mock_response *resp, const char *name, const char *value) {
    return tm_buf_appendf(&resp->head, "%s: %s\r\n", name, value);
}

enum tm__mock_protocol tm__mock_protocol_for(const struct tm__mock_request *req, const char *service) {
    if (req && req->op_source == TM__MOCK_OP_TARGET)
        return TM__MOCK_PROTO_JSON;
    if (req && req->op_source == TM__MOCK_OP_ACTION)
        return service && strcmp(service, "ec2") == 0 ? TM__MOCK_PROTO_EC2 : TM__MOCK_PROTO_QUERY;
    const struct tm__mock_service *s = tm__mock_service_find(service);
    return s ? s->protocol : TM__MOCK_PROTO_REST_JSON;
}

static uint64_t s_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tm__mock_request_id(char out[37], uint64_t seed, uint64_t n) {
    uint64_t a = s_mix(seed ^ s_mix(n + 0x9e3779b97f4a7c15ULL));
    uint64_t b = s_mix(a + 0x9e3779b97f4a7c15ULL);
    /* Version-4 UUID layout, as AWS request ids are. */
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static int s_xml_escaped(struct tm_buf *out, const char *s) {
    int rc = TM_OK;
    for (; *s && !rc; s++) {
        switch (*s) {
            case '<':
                rc = tm_buf_append_str(out, "&lt;");
                break;
            case '>':
                rc = tm_buf_append_str(out, "&gt;");
                break;
            case '&':
                rc = tm_buf_append_str(out, "&amp;");
                break;
            case '"':
                rc = tm_buf_append_str(out, "&quot;");
                break;
            case '\'':
                rc = tm_buf_append_str(out, "&apos;");
                break;
            default:
                rc = tm_buf_append_char(out, *s);
                break;
        }
    }
    return rc;
}

/* One error as a row: what each protocol calls it. */
struct s_error {
    int status;
    const char *code;
    const char *message;
    bool sender; /* query protocol <Type>: Sender (the caller's fault) or Receiver */
};

static const char s_sig_msg[] = "The request signature we calculated does not match the signature you provided. Check "
                                "your AWS Secret Access Key and signing method. Consult the service documentation for "
                                "details.";
static const char s_token_msg[] = "The security token included in the request is invalid.";

static struct s_error s_query_error(enum tm__mock_error err, const char *service) {
    switch (err) {
        case TM__MOCK_ERR_BAD_SIGNATURE:
        case TM__MOCK_ERR_HASH_MISMATCH:
            return (struct s_error){403, "SignatureDoesNotMatch", s_sig_msg, true};
        case TM__MOCK_ERR_UNKNOWN_KEY:
        case TM__MOCK_ERR_BAD_TOKEN:
            return (struct s_error){403, "InvalidClientTokenId", s_token_msg, true};
        case TM__MOCK_ERR_MISSING_AUTH:
            return (struct s_error){403, "MissingAuthenticationToken", "Request is missing Authentication Token", true};
        case TM__MOCK_ERR_INCOMPLETE_AUTH:
            return (struct s_error){400, "IncompleteSignature", NULL, true};
        case TM__MOCK_ERR_THROTTLE:
            return (struct s_error){400, "Throttling", "Rate exceeded", true};
        case TM__MOCK_ERR_INTERNAL:
            return (struct s_error){500, "InternalFailure",
                                    "The request processing has failed because of an unknown error, exception or "
                                    "failure.",
                                    false};
        case TM__MOCK_ERR_UNAVAILABLE:
            return (struct s_error){503, "ServiceUnavailable",
                                    "The request has failed due to a temporary failure of the server.", false};
        case TM__MOCK_ERR_DENIED:
            return (struct s_error){403, "AccessDenied", NULL, true};
        case TM__MOCK_ERR_UNKNOWN_OPERATION:
            return (struct s_error){400, "InvalidAction", NULL, true};
        case TM__MOCK_ERR_NOT_FOUND:
        default:
            if (service && strcmp(service, "iam") == 0)
                return (struct s_error){404, "NoSuchEntity", NULL, true};
            if (service && strcmp(service, "sns") == 0)
                return (struct s_error){404, "NotFound", NULL, true};
            if (service && strcmp(service, "sqs") == 0)
                return (struct s_error){400, "AWS.SimpleQueueService.NonExistentQueue", NULL, true};
            return (struct s_error){400, "ValidationError", NULL, true};
    }
}

static struct s_error s_ec2_error(enum tm__mock_error err) {
    switch (err) {
        case TM__MOCK_ERR_BAD_SIGNATURE:
        case TM__MOCK_ERR_HASH_MISMATCH:
            return (struct s_error){403, "SignatureDoesNotMatch", s_sig_msg, true};
        case TM__MOCK_ERR_UNKNOWN_KEY:
        case TM__MOCK_ERR_BAD_TOKEN:
            return (struct s_error){401, "AuthFailure", "AWS was not able to validate the provided access credentials",
                                    true};
        case TM__MOCK_ERR_MISSING_AUTH:
            return (struct s_error){401, "MissingAuthenticationToken",
                                    "The request must contain either a valid (registered) AWS access key ID or X.509 "
                                    "certificate.",
                                    true};
        case TM__MOCK_ERR_INCOMPLETE_AUTH:
            return (struct s_error){400, "IncompleteSignature", NULL, true};
        case TM__MOCK_ERR_THROTTLE:
            return (struct s_error){503, "RequestLimitExceeded", "Request limit exceeded.", true};
        case TM__MOCK_ERR_INTERNAL:
            return (struct s_error){500, "InternalError", "An internal error has occurred.", false};
        case TM__MOCK_ERR_UNAVAILABLE:
            return (struct s_error){503, "Unavailable", "The server is overloaded and can't handle the request.",
                                    false};
        case TM__MOCK_ERR_DENIED:
            return (struct s_error){403, "UnauthorizedOperation", "You are not authorized to perform this operation.",
                                    true};
        case TM__MOCK_ERR_UNKNOWN_OPERATION:
            return (struct s_error){400, "InvalidAction", NULL, true};
        case TM__MOCK_ERR_NOT_FOUND:
        default:
            return (struct s_error){400, "InvalidParameterValue", NULL, true};
    }
}

static struct s_error s_json_error(enum tm__mock_error err, const char *service, bool rest) {
    /* JSON protocols answer auth failures with their own names; REST-JSON ones with 403. */
    switch (err) {
        case TM__MOCK_ERR_BAD_SIGNATURE:
        case TM__MOCK_ERR_HASH_MISMATCH:
            return (struct s_error){rest ? 403 : 400, "InvalidSignatureException", s_sig_msg, true};
        case TM__MOCK_ERR_UNKNOWN_KEY:
        case TM__MOCK_ERR_BAD_TOKEN:
            return (struct s_error){rest ? 403 : 400, "UnrecognizedClientException", s_token_msg, true};
        case TM__MOCK_ERR_MISSING_AUTH:
            return (struct s_error){rest ? 403 : 400, "MissingAuthenticationTokenException",
                                    "Missing Authentication Token", true};
        case TM__MOCK_ERR_INCOMPLETE_AUTH:
            return (struct s_error){rest ? 403 : 400, "IncompleteSignatureException", NULL, true};
        case TM__MOCK_ERR_THROTTLE:
            if (rest && service && strcmp(service, "apigateway") == 0)
                return (struct s_error){429, "TooManyRequestsException", "Too Many Requests", true};
            if (rest && service && strcmp(service, "lambda") == 0)
                return (struct s_error){429, "TooManyRequestsException", "Rate exceeded", true};
            if (rest)
                return (struct s_error){429, "ThrottlingException", "Rate exceeded", true};
            return (struct s_error){400, "ThrottlingException", "Rate exceeded", true};
        case TM__MOCK_ERR_INTERNAL:
            if (rest && service && strcmp(service, "lambda") == 0)
                return (struct s_error){500, "ServiceException", "An internal error occurred.", false};
            return (struct s_error){500, "InternalFailure",
                                    "The request processing has failed because of an unknown error, exception or "
                                    "failure.",
                                    false};
        case TM__MOCK_ERR_UNAVAILABLE:
            return (struct s_error){503, "ServiceUnavailableException",
                                    "The request has failed due to a temporary failure of the server.", false};
        case TM__MOCK_ERR_DENIED:
            return (struct s_error){rest ? 403 : 400, "AccessDeniedException", NULL, true};
        case TM__MOCK_ERR_UNKNOWN_OPERATION:
            if (!rest)
                return (struct s_error){400, "UnknownOperationException", NULL, true};
            /* REST APIs route by path: an unknown one is a missing resource */
            __attribute__((fallthrough));
        case TM__MOCK_ERR_NOT_FOUND:
        default:
            if (service && strcmp(service, "apigateway") == 0)
                return (struct s_error){404, "NotFoundException", NULL, true};
            if (service && strcmp(service, "kms") == 0)
                return (struct s_error){400, "NotFoundException", NULL, true};
            return (struct s_error){rest ? 404 : 400, "ResourceNotFoundException", NULL, true};
    }
}

static struct s_error s_s3_error(enum tm__mock_error err, const char *path) {
    switch (err) {
        case TM__MOCK_ERR_HASH_MISMATCH:
            return (struct s_error){400, "XAmzContentSHA256Mismatch",
                                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                                    true};
        case TM__MOCK_ERR_BAD_SIGNATURE:
            return (struct s_error){403, "SignatureDoesNotMatch",
                                    "The request signature we calculated does not match the signature you provided. "
                                    "Check your key and signing method.",
                                    true};
        case TM__MOCK_ERR_UNKNOWN_KEY:
            return (struct s_error){403, "InvalidAccessKeyId",
                                    "The AWS Access Key Id you provided does not exist in our records.", true};
        case TM__MOCK_ERR_BAD_TOKEN:
            return (struct s_error){400, "InvalidToken", "The provided token is malformed or otherwise invalid.", true};
        case TM__MOCK_ERR_MISSING_AUTH:
        case TM__MOCK_ERR_DENIED:
            return (struct s_error){403, "AccessDenied", "Access Denied", true};
        case TM__MOCK_ERR_INCOMPLETE_AUTH:
            return (struct s_error){400, "AuthorizationHeaderMalformed", NULL, true};
        case TM__MOCK_ERR_THROTTLE:
            return (struct s_error){503, "SlowDown", "Please reduce your request rate.", false};
        case TM__MOCK_ERR_INTERNAL:
            return (struct s_error){500, "InternalError", "We encountered an internal error. Please try again.", false};
        case TM__MOCK_ERR_UNAVAILABLE:
            return (struct s_error){503, "ServiceUnavailable", "Service is unable to handle request.", false};
        case TM__MOCK_ERR_UNKNOWN_OPERATION:
        case TM__MOCK_ERR_NOT_FOUND:
        default: {
            const char *slash = path && path[0] == '/' ? strchr(path + 1, '/') : NULL;
            if (slash && slash[1])
                return (struct s_error){404, "NoSuchKey", "The specified key does not exist.", true};
            return (struct s_error){404, "NoSuchBucket", "The specified bucket does not exist.", true};
        }
    }
}

/* Messages that depend on the request. */
static int s_message(struct tm_buf *out, enum tm__mock_error err, enum tm__mock_protocol proto, const struct s_error *e,
                     const struct tm__mock_error_context *ctx) {
    const char *svc = ctx->service ? ctx->service : "aws";
    const char *op = ctx->operation ? ctx->operation : "UnknownOperation";
    const char *detail = ctx->detail ? ctx->detail : "";
    switch (err) {
        case TM__MOCK_ERR_DENIED:
            if (proto == TM__MOCK_PROTO_EC2 || proto == TM__MOCK_PROTO_REST_XML)
                return tm_buf_append_str(out, e->message);
            return tm_buf_appendf(out,
                                  "User: %s is not authorized to perform: %s:%s because no identity-based policy "
                                  "allows the %s:%s action",
                                  ctx->principal_arn ? ctx->principal_arn : "anonymous", svc, op, svc, op);
        case TM__MOCK_ERR_INCOMPLETE_AUTH:
            return tm_buf_append_str(out, *detail ? detail : "Authorization header requires 'Credential' parameter.");
        case TM__MOCK_ERR_UNKNOWN_OPERATION:
            if (proto == TM__MOCK_PROTO_EC2)
                return tm_buf_appendf(out, "The action %s is not valid for this web service.", op);
            if (proto == TM__MOCK_PROTO_QUERY)
                return tm_buf_appendf(out, "Could not find operation %s for service %s", op, svc);
            if (proto == TM__MOCK_PROTO_JSON)
                return TM_OK; /* JSON services send the bare __type */
            break;
        default:
            break;
    }
    if (e->message)
        return tm_buf_append_str(out, e->message);
    /* Not found: real services name the resource; mockcloud names what it could not match. */
    return tm_buf_appendf(out, "No fixture answers %s%s%s", op, *detail ? ": " : "", detail);
}

int tm__mock_error_render(struct tm__mock_response *resp, enum tm__mock_protocol proto, enum tm__mock_error err,
                          const struct tm__mock_error_context *ctx) {
    struct s_error e;
    bool s3 = false;
    switch (proto) {
        case TM__MOCK_PROTO_QUERY:
            e = s_query_error(err, ctx->service);
            break;
        case TM__MOCK_PROTO_EC2:
            e = s_ec2_error(err);
            break;
        case TM__MOCK_PROTO_JSON:
            e = s_json_error(err, ctx->service, false);
            break;
        case TM__MOCK_PROTO_REST_JSON:
            e = s_json_error(err, ctx->service, true);
            break;
        case TM__MOCK_PROTO_REST_XML:
        default:
            s3 = !ctx->service || strcmp(ctx->service, "s3") == 0 || strcmp(ctx->service, "s3control") == 0;
            e = s3 ? s_s3_error(err, ctx->path) : s_query_error(err, ctx->service);
            break;
    }
    struct tm_buf msg;
    tm_buf_init(&msg, 0);
    const char *rid = ctx->request_id ? ctx->request_id : "00000000-0000-4000-8000-000000000000";
    int rc = s_message(&msg, err, proto, &e, ctx);
    if (rc)
        goto out;
    resp->status = e.status;
    tm_buf_reset(&resp->body);

    if (proto == TM__MOCK_PROTO_JSON || proto == TM__MOCK_PROTO_REST_JSON) {
        cJSON *o = cJSON_CreateObject();
        if (!o) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        bool ok = true;
        if (proto == TM__MOCK_PROTO_JSON)
            ok = cJSON_AddStringToObject(o, "__type", e.code) != NULL;
        if (ok && proto == TM__MOCK_PROTO_REST_JSON && ctx->service && strcmp(ctx->service, "lambda") == 0) {
            if (err == TM__MOCK_ERR_THROTTLE)
                ok = cJSON_AddStringToObject(o, "Reason", "CallerRateLimitExceeded") != NULL;
            ok = ok && cJSON_AddStringToObject(o, "Type", e.sender ? "User" : "Service") != NULL;
        }
        if (ok && msg.len)
            ok = cJSON_AddStringToObject(o, "message", msg.data) != NULL;
        char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!text) {
            rc = TM_ERR_NOMEM;
            goto out;
        }
        rc = tm_buf_append_str(&resp->body, text);
        free(text);
        if (rc)
            goto out;
        char ctype[64];
        const struct tm__mock_service *svc = tm__mock_service_find(ctx->service);
        if (proto == TM__MOCK_PROTO_JSON)
            snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s",
                     svc && svc->json_version[0] ? svc->json_version : "1.1");
        else
            snprintf(ctype, sizeof(ctype), "application/json");
        if ((rc = tm__mock_response_header(resp, "Content-Type", ctype)) ||
            (rc = tm__mock_response_header(resp, "x-amzn-RequestId", rid)))
            goto out;
        if (proto == TM__MOCK_PROTO_REST_JSON)
            rc = tm__mock_response_header(resp, "x-amzn-ErrorType", e.code);
        goto out;
    }

    struct tm_buf *b = &resp->body;
    if (proto == TM__MOCK_PROTO_EC2) {
        if ((rc = tm_buf_appendf(b,
                                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>%s"
                                 "</Code><Message>",
                                 e.code)) ||
            (rc = s_xml_escaped(b, msg.data ? msg.data : "")) ||
            (rc = tm_buf_appendf(b, "</Message></Error></Errors><RequestID>%s</RequestID></Response>", rid)) ||
            (rc = tm__mock_response_header(resp, "Content-Type", "text/xml;charset=UTF-8")))
            goto out;
        goto out;
    }
    if (s3) {
        if ((rc = tm_buf_appendf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>",
                                 e.code)) ||
            (rc = s_xml_escaped(b, msg.data ? msg.data : "")) || (rc = tm_buf_append_str(b, "</Message>")))
            goto out;
        if (ctx->access_key && (err == TM__MOCK_ERR_BAD_SIGNATURE || err == TM__MOCK_ERR_UNKNOWN_KEY)) {
            if ((rc = tm_buf_append_str(b, "<AWSAccessKeyId>")) || (rc = s_xml_escaped(b, ctx->access_key)) ||
                (rc = tm_buf_append_str(b, "</AWSAccessKeyId>")))
                goto out;
        }
        if (ctx->path && (!strcmp(e.code, "NoSuchKey") || !strcmp(e.code, "NoSuchBucket"))) {
            /* The decoded path names the bucket (and key). */
            const char *p = ctx->path + (ctx->path[0] == '/');
            const char *slash = strchr(p, '/');
            struct tm_buf part;
            tm_buf_init(&part, 0);
            rc = !strcmp(e.code, "NoSuchKey") ? tm_uri_decode(&part, slash + 1, strlen(slash + 1), false)
                                              : tm_uri_decode(&part, p, slash ? (size_t)(slash - p) : strlen(p), false);
            if (!rc)
                rc = tm_buf_append_str(b, !strcmp(e.code, "NoSuchKey") ? "<Key>" : "<BucketName>");
            if (!rc)
                rc = s_xml_escaped(b, tm_buf_str(&part));
            if (!rc)
                rc = tm_buf_append_str(b, !strcmp(e.code, "NoSuchKey") ? "</Key>" : "</BucketName>");
            tm_buf_clean_up(&part);
            if (rc == TM_ERR_PARSE)
                rc = TM_OK;
            if (rc)
                goto out;
        }
        const char *host_id = ctx->host_id ? ctx->host_id : rid;
        if ((rc = tm_buf_appendf(b, "<RequestId>%s</RequestId><HostId>%s</HostId></Error>", rid, host_id)) ||
            (rc = tm__mock_response_header(resp, "Content-Type", "application/xml")) ||
            (rc = tm__mock_response_header(resp, "x-amz-request-id", rid)) ||
            (rc = tm__mock_response_header(resp, "x-amz-id-2", host_id)))
            goto out;
        goto out;
    }
    /* Query protocol (and REST-XML services other than S3, which use the same envelope). */
    const struct tm__mock_service *svc = tm__mock_service_find(ctx->service);
    if (svc && svc->xmlns[0])
        rc = tm_buf_appendf(b, "<ErrorResponse xmlns=\"%s\">\n", svc->xmlns);
    else
        rc = tm_buf_append_str(b, "<ErrorResponse>\n");
    if (rc ||
        (rc = tm_buf_appendf(b, "  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>",
                             e.sender ? "Sender" : "Receiver", e.code)) ||
        (rc = s_xml_escaped(b, msg.data ? msg.data : "")) ||
        (rc = tm_buf_appendf(b, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", rid)) ||
        (rc = tm__mock_response_header(resp, "Content-Type", "text/xml")) ||
        (rc = tm__mock_response_header(resp, "x-amzn-RequestId", rid)))
        goto out;
out:
    tm_buf_clean_up(&msg);
    return rc;
}
