/* AWS Signature Version 4: signing (Authorization header or presigned query) and verification.
 *
 * The signer is a pure function of the request, the credentials and the signing time: it never reads
 * the clock, the environment or the network, so the HTTP layer signs every attempt of a request afresh
 * and tests are deterministic. The verifier recomputes a signature from a request as a server receives
 * it, which is what mockcloud uses to answer like AWS.
 *
 * Paths and queries are given as they travel on the wire (already percent-encoded by whoever built
 * the URL). For every service except S3 the canonical path is that wire path with dot segments and
 * duplicate slashes removed, percent-encoded once more ("double encoding"); S3 uses the wire path
 * unchanged and signs the payload hash in an `x-amz-content-sha256` header. */
#ifndef TM_PROVIDERS_AUTH_SIGV4_H
#define TM_PROVIDERS_AUTH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

#define TM_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define TM_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* Presigned URLs may live at most seven days. */
#define TM_SIGV4_MAX_EXPIRES_S 604800

/* One request header as given (name in any case, value untrimmed). A name may repeat. */
struct tm_sigv4_header {
    const char *name;
    const char *value;
};

/* A request as it is (or will be) sent. */
struct tm_sigv4_request {
    const char *method;
    const char *path;  /* wire path without the query, e.g. "/my%20bucket/key"; "" means "/" */
    const char *query; /* wire query without '?', NULL or "" when there is none */
    const struct tm_sigv4_header *headers;
    size_t header_count; /* must include Host */
    const void *body;
    size_t body_len;
};

enum tm_sigv4_mode {
    TM_SIGV4_MODE_HEADER = 0, /* Authorization header */
    TM_SIGV4_MODE_QUERY = 1,  /* presigned URL: X-Amz-* query parameters */
};

struct tm_sigv4_params {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL or "" for long-term credentials */
    const char *region;
    const char *service; /* the credential scope's service ("s3" selects S3's rules) */
    int64_t time;        /* signing time, seconds since the epoch (UTC) */
    enum tm_sigv4_mode mode;
    uint32_t expires_s; /* query mode: X-Amz-Expires, 1 .. TM_SIGV4_MAX_EXPIRES_S */
    /* Sign `x-amz-content-sha256` with the payload hash (header mode). Always on for S3. */
    bool content_sha256_header;
    /* The payload hash is "UNSIGNED-PAYLOAD" instead of the body's SHA-256 (S3 only accepts this). */
    bool unsigned_payload;
    /* Keep the path's dot segments and duplicate slashes (still encoded twice). Implied for S3. */
    bool no_normalize_path;
    /* Add the session token after signing, unsigned (the few services that want it so, e.g. IoT). */
    bool omit_session_token;
};

/* A header the signer adds. Values may hold the session token: they are zeroed on clean-up. */
struct tm_sigv4_out_header {
    const char *name; /* static: "X-Amz-Security-Token", "X-Amz-Date", "x-amz-content-sha256", "Authorization" */
    char *value;
};

#define TM_SIGV4_MAX_OUT_HEADERS 4

struct tm_sigv4_signed {
    /* Header mode: headers to set on the request, in this order, replacing any of the same name. */
    struct tm_sigv4_out_header headers[TM_SIGV4_MAX_OUT_HEADERS];
    size_t header_count;
    /* Query mode: encoded parameters to append to the query ("X-Amz-Algorithm=...&...&X-Amz-Signature=..."),
     * after a '&' when the request already has a query. NULL in header mode. */
    char *query;
    /* What was signed, for diagnostics and tests. They may contain the session token. */
    char *canonical_request;
    char *string_to_sign;
    char signature[65]; /* lower-case hex */
};

void tm_sigv4_signed_clean_up(struct tm_sigv4_signed *out);

/* Signs a request. On success `out` is filled (clean it up with tm_sigv4_signed_clean_up); on error it
 * holds nothing to free. Errors: TM_ERR_INVALID (missing Host, bad parameters), TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_sigv4_sign(struct tm_sigv4_signed *out, const struct tm_sigv4_request *req,
                                const struct tm_sigv4_params *params);

/* True for the services whose signatures follow S3's rules (no path normalisation or double encoding,
 * x-amz-content-sha256). */
bool tm_sigv4_service_is_s3(const char *service);

/* The credential scope named by a signature: "<access key id>/<date>/<region>/<service>/aws4_request". */
struct tm_sigv4_scope {
    char access_key_id[129];
    char date[9]; /* YYYYMMDD */
    char region[64];
    char service[64];
};

/* The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
 * header value. */
struct tm_sigv4_authorization {
    struct tm_sigv4_scope scope;
    char signed_headers[1024]; /* "host;x-amz-date", as given */
    char signature[65];
};

/* Parses an Authorization header value. The components may come in any order, separated by commas
 * and optional spaces. TM_ERR_UNSUPPORTED for another algorithm, TM_ERR_PARSE when malformed
 * (errmsg, if not NULL, says why in AWS's words). */
TM_MUST_CHECK int tm_sigv4_parse_authorization(struct tm_sigv4_authorization *out, const char *value, char *errmsg,
                                               size_t errmsg_len);

/* Parses "<key>/<date>/<region>/<service>/aws4_request". */
TM_MUST_CHECK int tm_sigv4_parse_scope(struct tm_sigv4_scope *out, const char *credential);

/* Why verification refused a request; the names are the AWS error codes a server answers with. */
enum tm_sigv4_verdict {
    TM_SIGV4_VALID = 0,
    TM_SIGV4_MISSING,       /* MissingAuthenticationToken: neither an Authorization header nor X-Amz-* params */
    TM_SIGV4_MALFORMED,     /* IncompleteSignature / AuthorizationHeaderMalformed */
    TM_SIGV4_UNKNOWN_KEY,   /* InvalidClientTokenId: the secret lookup does not know the access key */
    TM_SIGV4_BAD_TOKEN,     /* InvalidClientTokenId: the session token does not belong to the key */
    TM_SIGV4_MISMATCH,      /* SignatureDoesNotMatch */
    TM_SIGV4_EXPIRED,       /* presigned URL expired, or a signed request too far from the server's clock */
    TM_SIGV4_HASH_MISMATCH, /* XAmzContentSHA256Mismatch: x-amz-content-sha256 is not the body's hash */
};

/* The AWS error code for a verdict ("SignatureDoesNotMatch", ...); "" for TM_SIGV4_VALID. */
const char *tm_sigv4_verdict_code(enum tm_sigv4_verdict verdict);

/* Looks up the secret of scope->access_key_id and appends it to `secret`. When the caller keeps
 * session tokens, it also appends the token that belongs to the key to `token` (left empty for
 * long-term keys). Returns TM_OK, TM_ERR_NOT_FOUND for an unknown key, or another error. */
typedef int (*tm_sigv4_secret_fn)(struct tm_buf *secret, struct tm_buf *token, const struct tm_sigv4_scope *scope,
                                  void *user_data);

struct tm_sigv4_verify_options {
    /* The server's clock (seconds since the epoch) for the time checks; ignored when check_time is false. */
    int64_t now;
    bool check_time;
    /* Largest allowed difference between X-Amz-Date and `now` in header mode (AWS: 900 s); 0 = 900. */
    uint32_t max_skew_s;
    /* Mirror the signer's switches for services that sign so: keep the path as sent, and leave
     * X-Amz-Security-Token out of a presigned URL's canonical query. */
    bool no_normalize_path;
    bool omit_session_token;
};

struct tm_sigv4_verify_result {
    enum tm_sigv4_verdict verdict;
    bool presigned;              /* the signature came in the query */
    bool scope_valid;            /* `scope` was parsed (even when verification failed later) */
    struct tm_sigv4_scope scope; /* route by it: access key, region, service */
    int64_t request_time;        /* X-Amz-Date, when parsed */
    char *session_token;         /* the X-Amz-Security-Token sent, or NULL; zeroed on clean-up */
    char message[512];           /* AWS-style message for the verdict */
    /* What the verifier computed (the server side), for the SignatureDoesNotMatch message and tests. */
    char *canonical_request;
    char *string_to_sign;
};

void tm_sigv4_verify_result_clean_up(struct tm_sigv4_verify_result *res);

/* Verifies a request as received: method, raw path and raw query as on the request line, headers as
 * received, the body. The signature is taken from the Authorization header or, failing that, from the
 * X-Amz-* query parameters. Returns TM_OK when the signature is valid, TM_ERR_AUTH when it is refused
 * (res->verdict and res->message say why), or TM_ERR_NOMEM and other errors from the lookup. The
 * result must be cleaned up in every case. The comparison is constant time. */
TM_MUST_CHECK int tm_sigv4_verify(struct tm_sigv4_verify_result *res, const struct tm_sigv4_request *req,
                                  const struct tm_sigv4_verify_options *opts, tm_sigv4_secret_fn lookup,
                                  void *user_data);

/* Building blocks, exposed for tests and for the HTTP layer. */

/* The SigV4 signing key: HMAC chain over "AWS4"+secret, date (YYYYMMDD), region, service, "aws4_request". */
TM_MUST_CHECK int tm_sigv4_signing_key(unsigned char key[32], const char *secret_access_key, const char *date,
                                       const char *region, const char *service);

/* Lower-case hex SHA-256 of data (65 bytes with the NUL). */
void tm_sigv4_sha256_hex(char out[65], const void *data, size_t len);

/* "YYYYMMDDTHHMMSSZ" for a time in seconds since the epoch. TM_ERR_INVALID when out of range. */
TM_MUST_CHECK int tm_sigv4_format_time(char out[17], int64_t t);

/* Parses the ISO 8601 times AWS sends: basic "20150830T123600Z" and extended "2015-08-30T12:36:00Z",
 * with optional fractional seconds and a "Z" or "+hh:mm"/"-hh:mm" offset. */
TM_MUST_CHECK int tm_sigv4_parse_time(int64_t *out, const char *s);

#endif
