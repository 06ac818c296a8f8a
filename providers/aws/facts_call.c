/* The parts of facts.h that need a running scan; kept apart so parsers link without one. */
#include "providers/aws/facts.h"

#include <string.h>

#include "core/buf.h"
#include "core/str.h"

void tm__aws_facts_init(struct tm_aws_facts *f, struct tm_aws_scan *scan, const char *region, const char *service,
                        const char *operation) {
    struct tm_aws_sink sink;
    tm_aws_scan_sink(scan, region, &sink);
    f->snap = sink.snap;
    f->partition = sink.partition;
    f->account = sink.account;
    f->region = sink.region;
    f->service = service;
    f->operation = operation;
}

const struct tm_snapshot_error *tm__aws_result_malformed(struct tm_aws_scan *scan, const struct tm_aws_result *res,
                                                         const char *errmsg) {
    return tm_aws_fail(scan, res, TM_AWS_CODE_MALFORMED, errmsg && *errmsg ? errmsg : "malformed answer");
}

cJSON *tm__aws_result_fact(struct tm_aws_scan *scan, const struct tm_aws_result *res, tm_aws_fact_parse_fn parse) {
    if (res->error)
        return tm_aws_unknown_value(res->error);
    if (res->code)
        return cJSON_CreateNull();
    char errmsg[256] = "";
    cJSON *value = NULL;
    int rc = parse(&value, res->body, res->body_len, errmsg, sizeof(errmsg));
    if (rc == TM_OK)
        return value;
    if (rc == TM_ERR_NOMEM) {
        (void)tm_aws_scan_check(scan, rc, res->call->operation);
        return NULL;
    }
    const struct tm_snapshot_error *err = tm__aws_result_malformed(scan, res, errmsg);
    return err ? tm_aws_unknown_value(err) : NULL;
}

void tm__aws_set_fact(struct tm_aws_scan *scan, cJSON *res, const char *section, const char *key, cJSON *value) {
    int rc;
    if (!value)
        rc = TM_ERR_NOMEM;
    else if (strcmp(section, "policies") == 0)
        rc = tm_snapshot_set_policy(res, key, value);
    else
        rc = tm_snapshot_set_attr(res, key, value);
    (void)tm_aws_scan_check(scan, rc, key);
}

const char *tm__aws_path_segment(struct tm_aws_scan *scan, const char *s) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    const char *out = "";
    if (tm_uri_encode(&b, s, strlen(s), false) == TM_OK) {
        char *copy = tm_aws_scan_strdup(scan, tm_buf_str(&b));
        if (copy)
            out = copy;
    } else {
        (void)tm_aws_scan_check(scan, TM_ERR_NOMEM, "path");
    }
    tm_buf_clean_up(&b);
    return out;
}
