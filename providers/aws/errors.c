#include "providers/aws/errors.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

/* Copies one line: control characters become spaces; a cut never splits a UTF-8 sequence. */
static void s_copy(char *dst, size_t dst_len, const char *src, size_t src_len) {
    if (!dst_len)
        return;
    size_t n = src_len < dst_len - 1 ? src_len : dst_len - 1;
    if (n < src_len)
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    /* Trim surrounding white space: XML text often carries the document's indentation. */
    size_t start = 0;
    while (start < n && (src[start] == ' ' || src[start] == '\t' || src[start] == '\r' || src[start] == '\n'))
        start++;
    while (n > start && (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\r' || src[n - 1] == '\n'))
        n--;
    size_t j = 0;
    for (size_t i = start; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[j] = '\0';
}

static void s_copy_str(char *dst, size_t dst_len, const char *src) {
    s_copy(dst, dst_len, src, strlen(src));
}

/* "namespace#Code" -> "Code"; "Code:http://internal..." -> "Code"; "Code;Sender" -> "Code". */
static void s_set_code(struct tm_aws_error *out, const char *raw, size_t len) {
    const char *hash = memchr(raw, '#', len);
    if (hash) {
        len -= (size_t)(hash + 1 - raw);
        raw = hash + 1;
    }
    const char *colon = memchr(raw, ':', len);
    if (colon)
        len = (size_t)(colon - raw);
    const char *semi = memchr(raw, ';', len);
    if (semi)
        len = (size_t)(semi - raw);
    s_copy(out->code, sizeof(out->code), raw, len);
}

static const char *s_reason(long status) {
    switch (status) {
        case 301:
            return "Moved Permanently";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 409:
            return "Conflict";
        case 413:
            return "Payload Too Large";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        default:
            return "";
    }
}

static void s_from_status(struct tm_aws_error *out, long status) {
    snprintf(out->code, sizeof(out->code), "%ld", status);
    if (!out->message[0])
        snprintf(out->message, sizeof(out->message), "%s", s_reason(status));
}

/* --- XML ---------------------------------------------------------------------------------------------- */

static bool s_named(const xmlNode *n, const char *name) {
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *s_child(const xmlNode *parent, const char *name) {
    for (const xmlNode *c = parent->children; c; c = c->next)
        if (s_named(c, name))
            return c;
    return NULL;
}

/* The first element called `name`, depth first, at most `depth` levels down. */
static const xmlNode *s_find(const xmlNode *n, const char *name, int depth) {
    for (; n; n = n->next) {
        if (s_named(n, name))
            return n;
        if (depth > 0 && n->type == XML_ELEMENT_NODE) {
            const xmlNode *f = s_find(n->children, name, depth - 1);
            if (f)
                return f;
        }
    }
    return NULL;
}

/* Text directly inside an element (text and CDATA children only: no entity expansion of its own). */
static void s_text(char *dst, size_t dst_len, const xmlNode *el) {
    char buf[1024];
    size_t len = 0;
    for (const xmlNode *c = el ? el->children : NULL; c && len < sizeof(buf) - 1; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
            continue;
        size_t n = strlen((const char *)c->content);
        if (n > sizeof(buf) - 1 - len)
            n = sizeof(buf) - 1 - len;
        memcpy(buf + len, c->content, n);
        len += n;
    }
    s_copy(dst, dst_len, buf, len);
}

static int s_parse_xml(struct tm_aws_error *out, const struct tm_aws_error_input *in) {
    /* No network, no DTD loading, no entity substitution, libxml2's own size limits kept (no HUGE). */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    xmlDoc *doc = xmlReadMemory(in->body, (int)in->body_len, NULL, NULL, opts);
    if (!doc)
        return TM_ERR_PARSE;
    int rc = TM_ERR_PARSE;
    /* AWS never sends a DTD; one here is an attack on the parser (entity expansion), not an error shape. */
    if (doc->intSubset || doc->extSubset)
        goto done;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root)
        goto done;
    const xmlNode *err = NULL;
    if (s_named(root, "Error"))
        err = root; /* S3 */
    else if (s_named(root, "ErrorResponse"))
        err = s_child(root, "Error"); /* query, Route 53, CloudFront */
    else if (s_named(root, "Response")) {
        const xmlNode *errors = s_child(root, "Errors"); /* EC2 */
        err = errors ? s_child(errors, "Error") : NULL;
    }
    if (!err)
        err = s_find(root->children, "Error", 3);
    if (!err)
        goto done;
    char code[128];
    s_text(code, sizeof(code), s_child(err, "Code"));
    s_text(out->message, sizeof(out->message), s_child(err, "Message"));
    const xmlNode *rid = s_child(err, "RequestId");
    if (!rid)
        rid = s_find(root->children, "RequestId", 2);
    if (!rid)
        rid = s_find(root->children, "RequestID", 2);
    if (rid)
        s_text(out->request_id, sizeof(out->request_id), rid);
    if (code[0]) {
        s_set_code(out, code, strlen(code));
        rc = TM_OK;
    }
done:
    xmlFreeDoc(doc);
    return rc;
}

/* --- JSON --------------------------------------------------------------------------------------------- */

static const char *s_json_string(const cJSON *obj, const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
        if (cJSON_IsString(v) && v->valuestring)
            return v->valuestring;
    }
    return NULL;
}

static int s_parse_json(struct tm_aws_error *out, const struct tm_aws_error_input *in) {
    cJSON *root = cJSON_ParseWithLength(in->body, in->body_len);
    if (!root)
        return TM_ERR_PARSE;
    int rc = TM_ERR_PARSE;
    if (cJSON_IsObject(root)) {
        static const char *const codes[] = {"__type", "code", "Code"};
        static const char *const messages[] = {"message", "Message", "errorMessage"};
        const char *msg = s_json_string(root, messages, 3);
        if (msg)
            s_copy_str(out->message, sizeof(out->message), msg);
        const char *code = s_json_string(root, codes, 3);
        if (code && *code) {
            s_set_code(out, code, strlen(code));
            rc = out->code[0] ? TM_OK : TM_ERR_PARSE;
        }
    }
    cJSON_Delete(root);
    return rc;
}

int tm_aws_error_parse(struct tm_aws_error *out, const struct tm_aws_error_input *in) {
    memset(out, 0, sizeof(*out));
    if (in->request_id_header)
        s_copy_str(out->request_id, sizeof(out->request_id), in->request_id_header);
    int rc = TM_ERR_PARSE;
    bool json = in->protocol == TM_AWS_PROTO_JSON || in->protocol == TM_AWS_PROTO_REST_JSON;
    if (in->body_len > TM_AWS_ERROR_MAX_BODY) {
        rc = TM_ERR_TOO_BIG;
    } else if (in->body && in->body_len) {
        rc = json ? s_parse_json(out, in) : s_parse_xml(out, in);
    }
    /* Headers name the code more reliably than JSON bodies (botocore reads them the same way). */
    if (json && in->error_type_header && *in->error_type_header) {
        s_set_code(out, in->error_type_header, strlen(in->error_type_header));
        if (out->code[0] && rc != TM_ERR_TOO_BIG)
            rc = TM_OK;
    }
    if (json && in->query_error_header && *in->query_error_header) {
        s_set_code(out, in->query_error_header, strlen(in->query_error_header));
        if (out->code[0] && rc != TM_ERR_TOO_BIG)
            rc = TM_OK;
    }
    if (!out->code[0]) {
        s_from_status(out, in->status);
        if (rc == TM_OK)
            rc = TM_ERR_PARSE;
    }
    return rc;
}

static bool s_in(const char *code, const char *const *list, size_t n) {
    if (!code)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return true;
    return false;
}

bool tm_aws_error_is_throttle(const char *code) {
    static const char *const codes[] = {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    };
    return s_in(code, codes, sizeof(codes) / sizeof(codes[0]));
}

bool tm_aws_error_is_transient(const char *code) {
    static const char *const codes[] = {
        "RequestTimeout",  "RequestTimeoutException", "PriorRequestNotComplete",     "InternalError",
        "InternalFailure", "ServiceUnavailable",      "ServiceUnavailableException", "Unavailable",
        "RequestExpired",  "IDPCommunicationError",
    };
    return s_in(code, codes, sizeof(codes) / sizeof(codes[0]));
}

bool tm_aws_error_is_auth(const char *code) {
    static const char *const codes[] = {
        "InvalidClientTokenId",  "SignatureDoesNotMatch", "UnrecognizedClientException",
        "InvalidAccessKeyId",    "AuthFailure",           "ExpiredToken",
        "ExpiredTokenException", "InvalidToken",          "MissingAuthenticationToken",
        "IncompleteSignature",
    };
    return s_in(code, codes, sizeof(codes) / sizeof(codes[0]));
}
