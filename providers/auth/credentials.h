/* AWS credentials: the standard chain, resolved the way the AWS CLI resolves it, and a provider that
 * fetches temporary credentials and refreshes them before they expire.
 *
 * Resolution happens in two steps:
 *
 * 1. tm_aws_cred_plan_resolve() reads the environment and the shared files (no network) and decides where
 *    credentials come from, in the AWS CLI's order:
 *      environment (AWS_ACCESS_KEY_ID, ...; skipped when --profile is given)
 *      -> role_arn in the profile (AssumeRole from source_profile, chained, or credential_source)
 *      -> web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, or web_identity_token_file in the profile)
 *      -> keys in ~/.aws/credentials [profile]
 *      -> keys in ~/.aws/config [profile profile]
 *      -> ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI)
 *      -> EC2 instance metadata (IMDSv2), unless AWS_EC2_METADATA_DISABLED=true.
 *    The result is a plan: one base source plus the AssumeRole hops applied on top of it.
 *
 * 2. A struct tm_aws_credentials_provider carries the plan out: it fetches the base credentials (STS
 *    AssumeRoleWithWebIdentity, the container endpoint, IMDS) and assumes each role in turn through a
 *    transport (the HTTP engine in production, a fake in tests), caches the result and fetches again
 *    when the credentials are within TM_AWS_CRED_REFRESH_S of their expiry.
 *
 * Secrets never reach a log line or an error message; a debug line names the source used. */
#ifndef TM_PROVIDERS_AUTH_CREDENTIALS_H
#define TM_PROVIDERS_AUTH_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"
#include "providers/auth/env.h"
#include "providers/auth/sigv4.h"

/* Temporary credentials are fetched again this long before they expire. */
#define TM_AWS_CRED_REFRESH_S 300

struct tm_aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    int64_t expiration;  /* seconds since the epoch; 0 = does not expire */
    /* Where they came from, e.g. "environment", "shared-credentials-file (profile dev)",
     * "assume-role (profile prod via source_profile dev)", "web-identity", "container (ECS)",
     * "instance-metadata (IMDSv2)". */
    char *source;
};

/* Heap credentials; the secrets are zeroed before free. Accepts NULL. */
void tm_aws_credentials_destroy(struct tm_aws_credentials *creds);
/* A deep copy; NULL when out of memory. */
struct tm_aws_credentials *tm_aws_credentials_copy(const struct tm_aws_credentials *creds);
/* New credentials from parts (copied); session_token and source may be NULL. NULL when out of memory. */
struct tm_aws_credentials *tm_aws_credentials_new(const char *access_key_id, const char *secret_access_key,
                                                  const char *session_token, int64_t expiration, const char *source);
/* True when the credentials can be used at `now` without a refresh. */
bool tm_aws_credentials_fresh(const struct tm_aws_credentials *creds, int64_t now);

/* --------------------------------------------------------------------------------------------------- */
/* Step 1: the plan */

struct tm_aws_cred_options {
    const struct tm_env *env;
    const char *profile; /* --profile, or NULL (then AWS_PROFILE, then "default") */
    const char *region;  /* --region, or NULL (then AWS_REGION, AWS_DEFAULT_REGION, the profile's region) */
    struct tm_log *log;  /* may be NULL */
};

enum tm_aws_source_kind {
    TM_AWS_SOURCE_STATIC = 0,   /* keys from the environment or a shared file */
    TM_AWS_SOURCE_WEB_IDENTITY, /* STS AssumeRoleWithWebIdentity with a token file */
    TM_AWS_SOURCE_CONTAINER,    /* the ECS/EKS container credentials endpoint */
    TM_AWS_SOURCE_IMDS,         /* EC2 instance metadata, IMDSv2 */
};

/* One AssumeRole call, made with the credentials obtained so far. */
struct tm_aws_role_hop {
    char *profile; /* the profile that names the role */
    char *role_arn;
    char *external_id;   /* NULL when not configured */
    char *session_name;  /* NULL: tmscan picks one */
    uint32_t duration_s; /* 0: the role's default */
};

struct tm_aws_cred_plan {
    char *profile; /* the profile the chain used ("default" when none was named) */
    char *region;  /* the resolved region, NULL when none is configured */
    enum tm_aws_source_kind kind;
    struct tm_aws_credentials *base; /* TM_AWS_SOURCE_STATIC */
    /* TM_AWS_SOURCE_WEB_IDENTITY */
    char *web_identity_token_file;
    char *web_identity_role_arn;
    char *web_identity_session_name; /* NULL: tmscan picks one */
    /* TM_AWS_SOURCE_CONTAINER */
    char *container_url;
    char *container_token;      /* the Authorization header value, or NULL; a secret */
    char *container_token_file; /* read at every fetch; wins over container_token */
    /* TM_AWS_SOURCE_IMDS */
    char *imds_endpoint;   /* "http://169.254.169.254" unless overridden */
    bool imds_last_resort; /* nothing else was configured: an unreachable IMDS means "no credentials" */
    /* Roles assumed in order on top of the base credentials. */
    struct tm_aws_role_hop *hops;
    size_t hop_count;
    /* STS, for AssumeRole and AssumeRoleWithWebIdentity: endpoint (no trailing slash) and signing region. */
    char *sts_endpoint;
    char *sts_region;
    /* What the final credentials will report as their source. */
    char *source;
};

/* Resolves the chain. On error, errmsg names the file and line or the setting at fault: an unknown
 * profile that was asked for (TM_ERR_NOT_FOUND), a malformed file (TM_ERR_PARSE), an inconsistent
 * profile (TM_ERR_INVALID: role_arn without source, source_profile and credential_source together, a
 * source_profile cycle, half a key pair), a feature tmscan does not run (TM_ERR_UNSUPPORTED:
 * credential_process, IAM Identity Center), or no source at all (TM_ERR_AUTH, only when IMDS is disabled).
 * `plan` holds nothing to free on error. */
TM_MUST_CHECK int tm_aws_cred_plan_resolve(struct tm_aws_cred_plan *plan, const struct tm_aws_cred_options *opts,
                                           char *errmsg, size_t errmsg_len);
void tm_aws_cred_plan_clean_up(struct tm_aws_cred_plan *plan);

/* The region alone (--region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region), for callers that need
 * it without credentials. *out is NULL (and TM_OK returned) when none is configured; free() it. */
TM_MUST_CHECK int tm_aws_resolve_region(char **out, const struct tm_aws_cred_options *opts, char *errmsg,
                                        size_t errmsg_len);

/* The endpoint of a service by the SDK convention: AWS_ENDPOINT_URL_<SERVICE_ID> (upper case, spaces and
 * dashes as '_'), else AWS_ENDPOINT_URL, else https://<host_prefix>.<region>.amazonaws.com (".com.cn" in
 * the China regions); neither variable counts when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. A trailing
 * '/' is removed. `service_id` is e.g. "STS", "S3", "API Gateway". */
TM_MUST_CHECK int tm_aws_endpoint_url(struct tm_buf *out, const struct tm_env *env, const char *service_id,
                                      const char *host_prefix, const char *region);

/* --------------------------------------------------------------------------------------------------- */
/* Step 2: fetching */

/* The requests the provider needs, as a transport sends them. Headers are complete (Host included when
 * the request is signed); the transport adds nothing that is signed. */
struct tm_aws_cred_http_request {
    const char *method;
    const char *url;
    const struct tm_sigv4_header *headers;
    size_t header_count;
    const void *body;
    size_t body_len;
    const char *service;   /* "sts", "imds" or "ecs": for the transport's counters and limits */
    long timeout_ms;       /* per attempt; 0 = the transport's default */
    unsigned max_attempts; /* 0 = the transport's default */
};

struct tm_aws_cred_http_response {
    int err;          /* TM_OK when a response arrived (any status), else the transport error */
    long status;      /* HTTP status; 0 when none */
    const char *body; /* never NULL; may hold secrets: not to be logged */
    size_t body_len;
    const char *message; /* transport error message, "" when none */
};

/* Called once per request, later (never inside send), on the loop's thread. */
typedef void (*tm_aws_cred_http_done_fn)(const struct tm_aws_cred_http_response *resp, void *user_data);

/* A transport is a table of one function (the HTTP engine's adapter or a test fake embeds it first). */
struct tm_aws_cred_transport {
    /* Copies what it needs from req. On TM_OK, done runs exactly once, later; on error it never runs. */
    int (*send)(struct tm_aws_cred_transport *transport, const struct tm_aws_cred_http_request *req,
                tm_aws_cred_http_done_fn done, void *user_data);
};

struct tm_aws_credentials_provider;

/* A provider that carries out a plan (copied). transport must outlive the provider; log may be NULL. */
TM_MUST_CHECK int tm_aws_credentials_provider_new(struct tm_aws_credentials_provider **out,
                                                  const struct tm_aws_cred_plan *plan,
                                                  struct tm_aws_cred_transport *transport, struct tm_log *log);

/* Frees the provider. Waiters still queued get TM_ERR_CANCELLED; a fetch in flight finishes in the
 * background and is then dropped (the transport must still complete it). Accepts NULL. */
void tm_aws_credentials_provider_destroy(struct tm_aws_credentials_provider *provider);

/* The cached credentials if they are fresh at `now`, else NULL. Valid until the next call into the
 * provider. */
const struct tm_aws_credentials *tm_aws_credentials_provider_peek(const struct tm_aws_credentials_provider *provider,
                                                                  int64_t now);

/* Delivers credentials that are fresh at `now`: err is TM_OK and creds valid only during the callback
 * (copy them to keep them), or err < 0, creds NULL and errmsg saying why. */
typedef void (*tm_aws_credentials_fn)(int err, const struct tm_aws_credentials *creds, const char *errmsg,
                                      void *user_data);

/* Gets credentials, fetching them when none are cached or they are within TM_AWS_CRED_REFRESH_S of expiry;
 * concurrent callers share one fetch. cb may run before this returns (cached credentials, static keys,
 * an error found before any request); otherwise it runs from the transport's completion.
 * If a refresh fails while the old credentials have not expired yet, they are delivered (with a warning).
 * Returns TM_OK (cb will run exactly once) or TM_ERR_NOMEM / TM_ERR_STATE (cb never runs). */
TM_MUST_CHECK int tm_aws_credentials_provider_get(struct tm_aws_credentials_provider *provider, int64_t now,
                                                  tm_aws_credentials_fn cb, void *user_data);

/* --------------------------------------------------------------------------------------------------- */
/* Wire formats (parsers apart from the coordinator; exposed for tests and for `tmscan whoami`) */

/* The form body of STS AssumeRole / AssumeRoleWithWebIdentity (Version=2011-06-15). */
TM_MUST_CHECK int tm_aws_sts_assume_role_body(struct tm_buf *out, const struct tm_aws_role_hop *hop,
                                              const char *default_session_name);
TM_MUST_CHECK int tm_aws_sts_web_identity_body(struct tm_buf *out, const char *role_arn, const char *session_name,
                                               const char *token);

/* Parses an AssumeRoleResponse or AssumeRoleWithWebIdentityResponse (`result_element` is
 * "AssumeRoleResult" or "AssumeRoleWithWebIdentityResult"). An STS ErrorResponse gives TM_ERR_SERVICE with
 * "<Code>: <Message>" in errmsg; anything else malformed gives TM_ERR_PARSE. */
TM_MUST_CHECK int tm_aws_sts_parse_credentials(struct tm_aws_credentials **out, const char *xml, size_t len,
                                               const char *result_element, const char *source, char *errmsg,
                                               size_t errmsg_len);

/* GetCallerIdentity's answer. */
struct tm_aws_caller_identity {
    char *account;
    char *arn;
    char *user_id;
};
void tm_aws_caller_identity_clean_up(struct tm_aws_caller_identity *id);
TM_MUST_CHECK int tm_aws_sts_parse_caller_identity(struct tm_aws_caller_identity *out, const char *xml, size_t len,
                                                   char *errmsg, size_t errmsg_len);

/* Parses the JSON the ECS container endpoint and IMDS serve ({"AccessKeyId", "SecretAccessKey", "Token",
 * "Expiration", ...}; IMDS adds "Code": "Success"). */
TM_MUST_CHECK int tm_aws_parse_json_credentials(struct tm_aws_credentials **out, const char *json, size_t len,
                                                const char *source, char *errmsg, size_t errmsg_len);

#endif
