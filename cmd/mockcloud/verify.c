/* SigV4 verification against the scenario's credentials. */
#include "cmd/mockcloud/mock_int.h"

#include <stdio.h>
#include <string.h>

enum tm__mock_auth_result tm__mock_verify_sigv4(const struct tm__mock_http_request *http,
                                                const struct tm__mock_fixture_set *set, char *message,
                                                size_t message_len) {
    struct tm__mock_request req;
    if (tm__mock_request_init(&req, http))
        return TM__MOCK_AUTH_MALFORMED;
    enum tm__mock_auth_result r = TM__MOCK_AUTH_OK;
    const struct tm__mock_credential *cred = tm__mock_credential_find(set, req.access_key);
    const char *token = tm__mock_http_header(http, "X-Amz-Security-Token");
    for (size_t i = 0; !token && i < req.n_params; i++)
        if (strcmp(req.params[i].name, "X-Amz-Security-Token") == 0)
            token = req.params[i].value;
    if (!cred)
        r = TM__MOCK_AUTH_UNKNOWN_KEY;
    else if ((cred->session_token || token) && (!cred->session_token || !token || strcmp(cred->session_token, token)))
        r = TM__MOCK_AUTH_BAD_TOKEN;
    if (r != TM__MOCK_AUTH_OK && message && message_len)
        message[0] = '\0';
    tm__mock_request_clean_up(&req);
    return r;
}
