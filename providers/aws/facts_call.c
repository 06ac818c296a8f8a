/* The parts of facts.h that need a running scan; kept apart so parsers link without one. */
#include "providers/aws/facts.h"

#include <stdio.h>
#include <stdlib.h>
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

int tm__aws_result_parsed(struct tm_aws_scan *scan, const struct tm_aws_result *res, int rc, const char *errmsg,
                          const struct tm_snapshot_error **err) {
    if (rc != TM_ERR_PARSE)
        return rc;
    const struct tm_snapshot_error *recorded = tm__aws_result_malformed(scan, res, errmsg);
    if (!err)
        return TM_OK;
    *err = recorded;
    return recorded ? TM_OK : TM_ERR_NOMEM;
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

void tm__aws_result_put(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *region, const char *arn,
                        const struct tm_aws_resource_facts *facts) {
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), arn);
    if (!r)
        return;
    const struct tm_snapshot_error *err = res->error;
    int rc = TM_OK;
    if (!err) {
        struct tm_aws_facts f;
        tm__aws_facts_init(&f, scan, region, facts->service, res->call->operation);
        char errmsg[256] = "";
        rc = facts->put(&f, r, res->body, res->body_len, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    for (size_t i = 0; err && rc == TM_OK && facts->attrs[i]; i++)
        rc = tm_snapshot_set_unknown(r, "attrs", facts->attrs[i], err);
    if (err && rc == TM_OK && facts->policy)
        rc = tm_snapshot_set_unknown(r, "policies", "resource", err);
    char what[160];
    snprintf(what, sizeof(what), "%s %s", facts->service, res->call->operation);
    (void)tm_aws_scan_check(scan, rc, what);
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

bool tm__aws_page_end(struct tm_aws_scan *scan, const struct tm_aws_result *res, int rc,
                      const struct tm_snapshot_error *err, const char *token_param, char *next, const char *what,
                      tm_aws_done_fn done, void *user_data) {
    if (rc == TM_OK && !err && next)
        rc = tm_aws_call_next(scan, res, token_param, next, done, user_data);
    bool more = rc == TM_OK && !err && next;
    free(next);
    return tm_aws_scan_check(scan, rc, what) == TM_OK && more;
}

bool tm__aws_listing_page(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *region,
                          const struct tm_aws_listing *listing, tm_aws_done_fn done, void *user_data) {
    struct tm_aws_facts f;
    tm__aws_facts_init(&f, scan, region, listing->service, res->call->operation);
    struct tm_aws_strv items = {0};
    char *next = NULL;
    int rc = TM_OK;
    if (!res->error) {
        char errmsg[256] = "";
        rc = listing->parse(&f, res->body, res->body_len, &items, &next, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, NULL);
    }
    for (size_t i = 0; i < items.n && rc == TM_OK; i++)
        rc = listing->item(scan, &f, items.v[i], user_data);
    tm__aws_strv_clean_up(&items);
    char what[160];
    snprintf(what, sizeof(what), "%s %s", listing->service, res->call->operation);
    return tm__aws_page_end(scan, res, rc, NULL, listing->token_param, next, what, done, user_data);
}

bool tm__aws_table_page(struct tm_aws_scan *scan, const struct tm_aws_result *res,
                        const struct tm_aws_table_listing *listing, cJSON *table, cJSON **unknown, tm_aws_done_fn done,
                        void *user_data) {
    const struct tm_snapshot_error *err = res->error;
    char *next = NULL;
    int rc = TM_OK;
    if (!err) {
        char errmsg[256] = "";
        rc = listing->parse(table, res->body, res->body_len, &next, errmsg, sizeof(errmsg));
        rc = tm__aws_result_parsed(scan, res, rc, errmsg, &err);
    }
    if (err && rc == TM_OK && !*unknown && !(*unknown = tm_aws_unknown_value(err)))
        rc = TM_ERR_NOMEM;
    char what[160];
    snprintf(what, sizeof(what), "%s %s", listing->service, res->call->operation);
    return tm__aws_page_end(scan, res, rc, err, listing->token_param, next, what, done, user_data);
}
