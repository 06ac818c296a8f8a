/* SigV4 verification of requests as mockcloud receives them, against the scenario's credentials,
 * through providers/auth's verifier (the same canonicalisation tmscan signs with, checked against the
 * official AWS suite). There is no clock check: fixtures and tests sign at fixed times. */
#include "cmd/mockcloud/mock_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/auth/sigv4.h"

static int s_lookup(struct tm_buf *secret, struct tm_buf *token, const struct tm_sigv4_scope *scope, void *user_data) {
    const struct tm__mock_fixture_set *set = user_data;
    const struct tm__mock_credential *cred = tm__mock_credential_find(set, scope->access_key_id);
    if (!cred)
        return TM_ERR_NOT_FOUND;
    int rc = tm_buf_append_str(secret, cred->secret_access_key);
    if (!rc && cred->session_token)
        rc = tm_buf_append_str(token, cred->session_token);
    return rc;
}

enum tm__mock_auth_result tm__mock_verify_sigv4(const struct tm__mock_http_request *http,
                                                const struct tm__mock_fixture_set *set, char *message,
                                                size_t message_len) {
    if (message && message_len)
        message[0] = '\0';
    struct tm_sigv4_header *headers = calloc(http->n_headers + 1, sizeof(*headers));
    if (!headers)
        return TM__MOCK_AUTH_MALFORMED;
    for (size_t i = 0; i < http->n_headers; i++) {
        headers[i].name = http->headers[i].name;
        headers[i].value = http->headers[i].value;
    }
    struct tm_sigv4_request req = {
        .method = http->method,
        .path = http->path,
        .query = http->query,
        .headers = headers,
        .header_count = http->n_headers,
        .body = http->body.data,
        .body_len = http->body.len,
    };
    struct tm_sigv4_verify_options opts = {0};
    struct tm_sigv4_verify_result res;
    int rc = tm_sigv4_verify(&res, &req, &opts, s_lookup, (void *)set);
    enum tm__mock_auth_result out = TM__MOCK_AUTH_OK;
    if (rc == TM_ERR_AUTH) {
        switch (res.verdict) {
            case TM_SIGV4_VALID:
                out = TM__MOCK_AUTH_OK;
                break;
            case TM_SIGV4_UNKNOWN_KEY:
                out = TM__MOCK_AUTH_UNKNOWN_KEY;
                break;
            case TM_SIGV4_BAD_TOKEN:
                out = TM__MOCK_AUTH_BAD_TOKEN;
                break;
            case TM_SIGV4_MISMATCH:
                out = TM__MOCK_AUTH_BAD_SIGNATURE;
                break;
            case TM_SIGV4_EXPIRED:
                out = TM__MOCK_AUTH_EXPIRED;
                break;
            case TM_SIGV4_HASH_MISMATCH:
                out = TM__MOCK_AUTH_HASH_MISMATCH;
                break;
            case TM_SIGV4_MISSING:
            case TM_SIGV4_MALFORMED:
            default:
                out = TM__MOCK_AUTH_MALFORMED;
                break;
        }
        if (message && message_len)
            snprintf(message, message_len, "%s", res.message);
    } else if (rc != TM_OK) {
        /* Out of memory or a request the verifier cannot take: refuse rather than let it through. */
        out = TM__MOCK_AUTH_MALFORMED;
        if (message && message_len)
            snprintf(message, message_len, "The request could not be verified (%s).", tm_error_str(rc));
    }
    tm_sigv4_verify_result_clean_up(&res);
    free(headers);
    return out;
}
