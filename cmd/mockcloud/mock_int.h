/* mockcloud's internals, shared by its files and its unit tests (tm__mock_*). */
#ifndef TM_MOCKCLOUD_MOCK_INT_H
#define TM_MOCKCLOUD_MOCK_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/mockcloud/mockcloud.h"
#include "core/buf.h"
#include "core/error.h"

/* ---- HTTP/1.1 request parsing (http.c) ---- */

struct tm__mock_kv {
    char *name;
    char *value; /* NULL for a presence-only parameter */
};

struct tm__mock_http_request {
    char *method;
    char *target;      /* as sent: path and query */
    char *path;        /* target before '?', raw (percent-encoded) */
    char *query;       /* target after '?', raw; "" when absent */
    int version_minor; /* HTTP/1.<minor> */
    struct tm__mock_kv *headers;
    size_t n_headers;
    struct tm_buf body; /* decoded (chunked framing removed) */
    bool keep_alive;
    bool expect_continue;
};

struct tm__mock_http_limits {
    size_t max_header_bytes;
    size_t max_body_bytes;
    size_t max_headers;
};

enum tm__mock_http_state {
    TM__MOCK_HTTP_NEED_MORE = 0, /* not a whole request yet */
    TM__MOCK_HTTP_HEADERS_DONE,  /* headers complete, body incomplete, and the client expects 100-continue */
    TM__MOCK_HTTP_COMPLETE,      /* *out holds a request of *consumed bytes */
    TM__MOCK_HTTP_ERROR,         /* *err_status says which (400, 413, 431, 501, 505) */
};

/* Parses the first request in data[0..len). Stateless: call again with more bytes appended. On
 * COMPLETE the caller owns *out (tm__mock_http_request_clean_up); the bytes after *consumed belong to
 * the next (pipelined) request. */
enum tm__mock_http_state tm__mock_http_parse(struct tm__mock_http_request *out, size_t *consumed, int *err_status,
                                             const char *data, size_t len, const struct tm__mock_http_limits *lim);
void tm__mock_http_request_clean_up(struct tm__mock_http_request *req);
/* First header with that name (case-insensitive), or NULL. */
const char *tm__mock_http_header(const struct tm__mock_http_request *req, const char *name);
const char *tm__mock_http_reason(int status);

/* ---- fixtures (fixture.c) ---- */

struct tm__mock_credential {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    char *arn;           /* the identity, for AccessDenied messages; NULL: a user named after the key */
};

struct tm__mock_fixture {
    char *file; /* path relative to the fixture directory */
    /* match lines (NULL / 0 when absent) */
    char *service;
    char *region; /* NULL also for "*" */
    char *operation;
    char *method;
    char *path;
    struct tm__mock_kv *params; /* value NULL: presence only */
    size_t n_params;
    struct tm__mock_kv *headers; /* value NULL: presence only */
    size_t n_headers;
    char *access_key;
    bool auth_none;
    bool op_in_request; /* service speaks query/EC2/JSON: the request itself must name the operation */
    unsigned n_match;   /* match lines present: the specificity */
    /* response */
    int status;
    char *content_type;
    struct tm__mock_kv *response_headers;
    size_t n_response_headers;
    char *body;
    size_t body_len;
};

struct tm__mock_index; /* match.c */

struct tm__mock_fixture_set {
    char *dir;
    char *account;
    char **regions;
    size_t n_regions;
    struct tm__mock_credential *credentials;
    size_t n_credentials;
    struct tm__mock_fixture *fixtures; /* sorted by file */
    size_t n_fixtures;
    struct tm__mock_index *index;
};

/* Parses one response file; errmsg gets "NAME:LINE: reason". */
TM_MUST_CHECK int tm__mock_fixture_parse(struct tm__mock_fixture *out, const char *name, const char *data, size_t len,
                                         char *errmsg, size_t errmsg_len);
void tm__mock_fixture_clean_up(struct tm__mock_fixture *f);
/* Parses scenario.json into set (account, regions, credentials). */
TM_MUST_CHECK int tm__mock_scenario_parse(struct tm__mock_fixture_set *set, const char *name, const char *data,
                                          size_t len, char *errmsg, size_t errmsg_len);
/* Loads DIR/scenario.json (optional) and every DIR/ ** / *.http, sorted by path, and indexes them. */
TM_MUST_CHECK int tm__mock_fixture_set_load(struct tm__mock_fixture_set **out, const char *dir, char *errmsg,
                                            size_t errmsg_len);
void tm__mock_fixture_set_destroy(struct tm__mock_fixture_set *set);
const struct tm__mock_credential *tm__mock_credential_find(const struct tm__mock_fixture_set *set,
                                                           const char *access_key_id);

/* ---- what a request asks for (match.c) ---- */

struct tm__mock_param {
    char *name;
    char *value; /* decoded */
    bool is_number;
    double number;
};

enum tm__mock_op_source {
    TM__MOCK_OP_NONE = 0, /* REST: the operation comes from the matched fixture */
    TM__MOCK_OP_ACTION,   /* query protocol: the Action parameter */
    TM__MOCK_OP_TARGET,   /* JSON protocols: X-Amz-Target after the dot */
};

struct tm__mock_request {
    const struct tm__mock_http_request *http;
    struct tm__mock_param *params; /* query string, then form body or JSON body fields */
    size_t n_params;
    bool signed_request; /* carries a SigV4 Authorization header or X-Amz-Credential */
    bool presigned;
    char *access_key; /* from the credential scope */
    char *date;       /* scope date (YYYYMMDD) */
    char *region;
    char *service;
    char *operation; /* from Action or X-Amz-Target; NULL for REST */
    enum tm__mock_op_source op_source;
    const char *auth_error; /* why the SigV4 fields could not be read; NULL when fine */
};

/* Reads the credential scope, the operation and the parameters of a request. Returns TM_ERR_NOMEM
 * only; malformed signing fields set req->auth_error, a malformed body just contributes no params. */
TM_MUST_CHECK int tm__mock_request_init(struct tm__mock_request *req, const struct tm__mock_http_request *http);
void tm__mock_request_clean_up(struct tm__mock_request *req);

TM_MUST_CHECK int tm__mock_index_build(struct tm__mock_fixture_set *set);
void tm__mock_index_destroy(struct tm__mock_index *index);

/* Whether every match line of f holds for req. */
bool tm__mock_fixture_matches(const struct tm__mock_fixture *f, const struct tm__mock_request *req);
/* The best fixture for req (most match lines, ties by path), or NULL. */
const struct tm__mock_fixture *tm__mock_match(const struct tm__mock_fixture_set *set,
                                              const struct tm__mock_request *req);
/* Whether any fixture answers that operation of that service (decides "unknown operation"). */
bool tm__mock_set_has_operation(const struct tm__mock_fixture_set *set, const char *service, const char *operation);

/* ---- AWS protocols and error shapes (aws_protocol.c, aws_services.c) ---- */

enum tm__mock_protocol {
    TM__MOCK_PROTO_QUERY = 0,
    TM__MOCK_PROTO_EC2,
    TM__MOCK_PROTO_JSON,
    TM__MOCK_PROTO_REST_JSON,
    TM__MOCK_PROTO_REST_XML,
};

struct tm__mock_service {
    const char *name; /* the SigV4 signing name */
    enum tm__mock_protocol protocol;
    const char *json_version; /* "1.0" / "1.1" for JSON protocols */
    const char *xmlns;        /* query protocol error namespace */
};

const struct tm__mock_service *tm__mock_service_find(const char *name);

enum tm__mock_error {
    TM__MOCK_ERR_BAD_SIGNATURE = 0, /* SignatureDoesNotMatch */
    TM__MOCK_ERR_UNKNOWN_KEY,       /* InvalidClientTokenId / InvalidAccessKeyId */
    TM__MOCK_ERR_BAD_TOKEN,         /* session token missing or wrong */
    TM__MOCK_ERR_MISSING_AUTH,      /* unsigned request to a signed API */
    TM__MOCK_ERR_INCOMPLETE_AUTH,   /* malformed SigV4 fields */
    TM__MOCK_ERR_THROTTLE,
    TM__MOCK_ERR_INTERNAL,    /* 500 */
    TM__MOCK_ERR_UNAVAILABLE, /* 503 */
    TM__MOCK_ERR_DENIED,
    TM__MOCK_ERR_UNKNOWN_OPERATION,
    TM__MOCK_ERR_NOT_FOUND,
    TM__MOCK_ERR_HASH_MISMATCH, /* S3: XAmzContentSHA256Mismatch; elsewhere a bad signature */
};

struct tm__mock_response {
    int status;
    struct tm_buf head; /* extra header lines, "Name: value\r\n" each */
    struct tm_buf body;
};

void tm__mock_response_init(struct tm__mock_response *resp);
void tm__mock_response_clean_up(struct tm__mock_response *resp);
TM_MUST_CHECK int tm__mock_response_header(struct tm__mock_response *resp, const char *name, const char *value);

struct tm__mock_error_context {
    const char *service;   /* signing name, may be NULL */
    const char *operation; /* may be NULL */
    const char *access_key;
    const char *principal_arn; /* for AccessDenied */
    const char *path;
    const char *request_id;
    const char *host_id; /* S3's x-amz-id-2 */
    const char *detail;  /* extra words for messages that carry them (missing fixture, malformed auth) */
};

/* The protocol a request is answered in: X-Amz-Target means JSON, Action means query (EC2's own for
 * ec2), otherwise the service's protocol, REST-JSON when the service is unknown. */
enum tm__mock_protocol tm__mock_protocol_for(const struct tm__mock_request *req, const char *service);
/* Fills resp with the error as that protocol and service send it. */
TM_MUST_CHECK int tm__mock_error_render(struct tm__mock_response *resp, enum tm__mock_protocol proto,
                                        enum tm__mock_error err, const struct tm__mock_error_context *ctx);
/* A request id shaped like AWS's (UUID), derived from n so runs repeat. */
void tm__mock_request_id(char out[37], uint64_t seed, uint64_t n);

/* ---- SigV4 verification (verify.c) ---- */

enum tm__mock_auth_result {
    TM__MOCK_AUTH_OK = 0,
    TM__MOCK_AUTH_BAD_SIGNATURE, /* SignatureDoesNotMatch */
    TM__MOCK_AUTH_UNKNOWN_KEY,   /* InvalidClientTokenId / InvalidAccessKeyId */
    TM__MOCK_AUTH_BAD_TOKEN,     /* the session token is missing or not the key's */
    TM__MOCK_AUTH_MALFORMED,     /* IncompleteSignature */
    TM__MOCK_AUTH_EXPIRED,       /* a presigned URL past its X-Amz-Expires */
    TM__MOCK_AUTH_HASH_MISMATCH, /* S3: x-amz-content-sha256 is not the body's hash */
};

/* Verifies a signed request (header or presigned) against the scenario's credentials. `message`
 * receives AWS's wording for a refusal when the verifier has one (may stay empty). */
enum tm__mock_auth_result tm__mock_verify_sigv4(const struct tm__mock_http_request *http,
                                                const struct tm__mock_fixture_set *set, char *message,
                                                size_t message_len);

/* ---- fault injection (faults.c) ---- */

enum tm__mock_fault {
    TM__MOCK_FAULT_NONE = 0,
    TM__MOCK_FAULT_DENY,
    TM__MOCK_FAULT_RATE_LIMIT,
    TM__MOCK_FAULT_THROTTLE,
    TM__MOCK_FAULT_ERROR,
    TM__MOCK_FAULT_RESET,
    TM__MOCK_FAULT_TRUNCATE,
    TM__MOCK_FAULT_MALFORMED,
};

const char *tm__mock_fault_name(enum tm__mock_fault fault);

struct tm__mock_faults; /* configuration and the rate limiter's buckets */

struct tm__mock_fault_plan {
    enum tm__mock_fault fault;
    uint32_t delay_ms;
    uint64_t rng; /* further draws for this request (which 5xx, where to corrupt) */
};

/* Checks the rates (sum <= 1, each in [0,1]) and copies the configuration. */
TM_MUST_CHECK int tm__mock_faults_new(struct tm__mock_faults **out, const struct tm_mock_options *opts, char *errmsg,
                                      size_t errmsg_len);
void tm__mock_faults_destroy(struct tm__mock_faults *faults);

/* Decides request number seq's fate. Deterministic in (seed, seq) except the rate limiter, which
 * depends on now_ns by nature. `random_faults` false (unsigned endpoints) leaves only the delay. */
void tm__mock_faults_plan(struct tm__mock_fault_plan *out, struct tm__mock_faults *faults, uint64_t seq,
                          const char *service, const char *operation, const char *region, bool random_faults,
                          uint64_t now_ns);
/* A uniform draw in [0, 1) that advances *state (splitmix64). */
double tm__mock_rand(uint64_t *state);
uint64_t tm__mock_rand_u64(uint64_t *state);

/* Parses "OP=RPS[:BURST]" or "RPS[:BURST]" (op_out NULL). */
TM_MUST_CHECK int tm__mock_rate_limit_parse(char **op_out, double *rps, double *burst, const char *spec);

/* A parsed --rate-limit-group; owns its strings. `group` points into it. */
struct tm__mock_group_spec {
    struct tm_mock_rate_limit_group group;
    char *service;
    char **operations; /* NULL-terminated */
};

/* Parses "SERVICE:OP[,OP...]=RPS[:BURST]". TM_ERR_INVALID with errmsg saying what is wrong (and out
 * left empty), TM_ERR_NOMEM. */
TM_MUST_CHECK int tm__mock_rate_limit_group_parse(struct tm__mock_group_spec *out, const char *spec, char *errmsg,
                                                  size_t errmsg_len);
void tm__mock_group_spec_clean_up(struct tm__mock_group_spec *spec);

#endif
