/* STS GetCallerIdentity: the account every ARN of the scan is built with, and scope.caller. */
#include "providers/aws/sts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "providers/aws/xml.h"

const struct tm_aws_api tm__aws_api_sts = {
    .name = "sts",
    .service_id = "STS",
    .endpoint_prefix = "sts",
    .signing_name = "sts",
    .protocol = TM_AWS_PROTO_QUERY,
    .api_version = "2011-06-15",
    .global = false, /* regional endpoints: the scan calls the one of its home region */
};

/* GetCallerIdentity needs no permission: it works even when every IAM policy denies it. */
const struct tm_aws_operation tm__aws_sts_get_caller_identity = {&tm__aws_api_sts, "GetCallerIdentity", NULL};

static bool s_account_ok(const char *a) {
    if (!a || strlen(a) != 12)
        return false;
    for (const char *p = a; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

void tm__aws_sts_caller_clean_up(struct tm__aws_caller *c) {
    if (!c)
        return;
    free(c->account);
    free(c->arn);
    free(c->user_id);
    free(c->partition);
    memset(c, 0, sizeof(*c));
}

int tm__aws_sts_parse_caller(struct tm__aws_caller *out, const char *body, size_t len, char *errmsg,
                             size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "GetCallerIdentity", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *account = tm_aws_xml_child_text(res, "Account");
    const char *arn = tm_aws_xml_child_text(res, "Arn");
    const char *user_id = tm_aws_xml_child_text(res, "UserId");
    rc = TM_ERR_PARSE;
    if (!s_account_ok(account)) {
        snprintf(errmsg, errmsg_len, "GetCallerIdentity: Account is not a 12-digit account id");
        goto out;
    }
    /* arn:PARTITION:SERVICE::ACCOUNT:RESOURCE, and the account must be the caller's. */
    const char *p = arn && tm_str_starts_with(arn, "arn:") ? arn + 4 : NULL;
    const char *colon = p ? strchr(p, ':') : NULL;
    const char *svc_end = colon ? strchr(colon + 1, ':') : NULL;
    const char *region_end = svc_end ? strchr(svc_end + 1, ':') : NULL;
    if (!colon || colon == p || !region_end || strncmp(region_end + 1, account, 12) != 0 || region_end[13] != ':') {
        snprintf(errmsg, errmsg_len, "GetCallerIdentity: Arn is not an ARN of account %s", account);
        goto out;
    }
    rc = TM_ERR_NOMEM;
    out->account = strdup(account);
    out->arn = strdup(arn);
    out->user_id = strdup(user_id ? user_id : "");
    out->partition = tm_strndup(p, (size_t)(colon - p));
    if (!out->account || !out->arn || !out->user_id || !out->partition) {
        tm__aws_sts_caller_clean_up(out);
        goto out;
    }
    rc = TM_OK;
out:
    tm_aws_xml_free(doc);
    return rc;
}
