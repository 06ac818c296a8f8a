/* The helpers of service.h that do not need a running scan (the scan context is in aws.c). */
#include "providers/aws/service.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

/* Policy documents are small (IAM caps a managed policy at 6,144 characters, SCPs at 5,120, resource
 * policies at 20 KB for S3); the cap only stops an absurd answer. */
#define S_POLICY_MAX_BYTES ((size_t)1 << 20)

cJSON *tm_aws_unknown_value(const struct tm_snapshot_error *err) {
    /* Built through the snapshot's own setter so nested markers have exactly its shape. */
    cJSON *holder = cJSON_CreateObject();
    cJSON *value = NULL;
    if (!holder || !cJSON_AddObjectToObject(holder, "attrs"))
        goto out;
    if (tm_snapshot_set_unknown(holder, "attrs", "v", err))
        goto out;
    value = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(holder, "attrs"), "v");
out:
    cJSON_Delete(holder);
    return value;
}

int tm_aws_policy_document(cJSON **out, const char *text, size_t len, bool url_encoded) {
    *out = NULL;
    if (!text)
        return TM_ERR_PARSE;
    if (len > S_POLICY_MAX_BYTES)
        return TM_ERR_TOO_BIG;
    struct tm_buf dec;
    tm_buf_init(&dec, S_POLICY_MAX_BYTES);
    int rc = TM_OK;
    if (url_encoded) {
        /* IAM encodes with RFC 3986 rules: '+' is a literal plus, not a space. */
        rc = tm_uri_decode(&dec, text, len, false);
        if (rc)
            goto out;
        text = tm_buf_str(&dec);
        len = dec.len;
    }
    cJSON *doc = NULL;
    rc = tm_json_parse(&doc, text, len, "policy", NULL, 0);
    if (rc)
        goto out;
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        rc = TM_ERR_PARSE;
        goto out;
    }
    *out = doc;
out:
    tm_buf_clean_up(&dec);
    return rc == TM_ERR_INVALID ? TM_ERR_PARSE : rc;
}

int tm_aws_arn(char *out, size_t out_len, const char *partition, const char *service, const char *region,
               const char *account, const char *resource_fmt, ...) {
    int n =
        snprintf(out, out_len, "arn:%s:%s:%s:%s:", partition, service, region ? region : "", account ? account : "");
    if (n < 0 || (size_t)n >= out_len)
        return TM_ERR_TOO_BIG;
    va_list ap;
    va_start(ap, resource_fmt);
    int m = vsnprintf(out + n, out_len - (size_t)n, resource_fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= out_len - (size_t)n)
        return TM_ERR_TOO_BIG;
    return TM_OK;
}

cJSON *tm_aws_json_string_or_null(const char *text) {
    return text ? cJSON_CreateString(text) : cJSON_CreateNull();
}
