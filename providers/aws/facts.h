/* Turning AWS API responses into snapshot facts: the pieces every service parser shares.
 *
 * A parser is a pure function of one response body: it writes resources, attributes, policies and
 * links into the snapshot and hands back what the service needs to ask next (names, pagination
 * tokens). It never issues requests. A field of the wrong type is never guessed at: the fact becomes
 * unknown and the anomaly is recorded in the snapshot's errors with code TM_AWS_CODE_MALFORMED. */
#ifndef TM_PROVIDERS_AWS_FACTS_H
#define TM_PROVIDERS_AWS_FACTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/snapshot.h"
#include "providers/aws/service.h"

/* Error code recorded when a response (or a document inside it) cannot be read as the API model
 * says it should be. */
#define TM_AWS_CODE_MALFORMED "MalformedResponse"
/* Error code recorded when a policy document inside a response is not valid JSON. */
#define TM_AWS_CODE_MALFORMED_POLICY "MalformedPolicyDocument"

/* Where a response came from: what the facts it holds are recorded against. */
struct tm_aws_facts {
    struct tm_snapshot *snap;
    const char *partition; /* "aws" */
    const char *account;   /* the scanned account */
    const char *region;    /* the region of the request ("us-east-1"), never "global" for regional data */
    const char *service;   /* "lambda" */
    const char *operation; /* "ListFunctions" */
};

/* A growable list of owned strings. */
struct tm_aws_strv {
    char **v;
    size_t n;
    size_t cap;
};

TM_MUST_CHECK int tm__aws_strv_push(struct tm_aws_strv *sv, const char *s);
TM_MUST_CHECK int tm__aws_strv_pushn(struct tm_aws_strv *sv, const char *s, size_t len);
bool tm__aws_strv_contains(const struct tm_aws_strv *sv, const char *s);
void tm__aws_strv_clean_up(struct tm_aws_strv *sv);

/* A parser's failure: writes the message to errmsg (when given) and returns TM_ERR_NOMEM when rc is
 * that, else TM_ERR_PARSE. */
int tm__aws_parse_fail(char *errmsg, size_t errmsg_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records an anomaly or failure about resource_id (may be NULL) in the snapshot's errors and, when res
 * is given, marks res.<section>[key] unknown with the same error. */
TM_MUST_CHECK int tm__aws_facts_fail(const struct tm_aws_facts *f, cJSON *res, const char *section, const char *key,
                                     const char *resource_id, const char *code, const char *message);

/* Parses a JSON response body that must be an object. On failure returns TM_ERR_PARSE with a message
 * naming the operation. The caller owns *out. */
TM_MUST_CHECK int tm__aws_json_body(cJSON **out, const char *body, size_t len, const char *operation, char *errmsg,
                                    size_t errmsg_len);

/* The pagination token member of a JSON answer: NULL when absent, null or "" (the last page), else a
 * malloc'd copy. TM_ERR_PARSE when it is not a string. */
TM_MUST_CHECK int tm__aws_json_next_token(const cJSON *root, const char *member, const char *operation, char **out,
                                          char *errmsg, size_t errmsg_len);
/* The list member of a JSON answer: *out is the array, or NULL when absent or null. TM_ERR_PARSE when
 * present and not an array. */
TM_MUST_CHECK int tm__aws_json_list(const cJSON **out, const cJSON *root, const char *member, const char *operation,
                                    char *errmsg, size_t errmsg_len);

/* Reads one element of a JSON listing page into acc; TM_ERR_PARSE with errmsg saying what is wrong with
 * it: tm__aws_json_page puts "<Operation>: <list>[<index>]: " before a message that does not name the
 * operation (of up to 199 characters). */
typedef int (*tm_aws_json_item_fn)(void *acc, const cJSON *item, int index, char *errmsg, size_t errmsg_len);

/* One page of a JSON listing, {"<list>": [...], "<token>": "..."}: item() on each element of the list in
 * order until one fails. *next receives the next page's token (NULL on the last page, on failure, or
 * when token is NULL: a listing without pages). */
TM_MUST_CHECK int tm__aws_json_page(char **next, const char *body, size_t len, const char *operation, const char *list,
                                    const char *token, tm_aws_json_item_fn item, void *acc, char *errmsg,
                                    size_t errmsg_len);

/* The usual accumulator of a listing page: the facts it records with and the items to follow up. */
struct tm_aws_page_acc {
    const struct tm_aws_facts *f;
    struct tm_aws_strv *items; /* may be NULL */
};

/* A policy document carried in a string (Lambda GetPolicy, SQS/SNS attributes, API Gateway's policy).
 * API Gateway escapes the document a second time (`{\"Version\":...}` after JSON decoding); that
 * level is removed when the text is not JSON as it stands. The document must be a JSON object. */
TM_MUST_CHECK int tm__aws_policy_parse(cJSON **out, const char *text, size_t len, char *errmsg, size_t errmsg_len);

/* The policy document carried as a string in member `member` of a JSON answer (Lambda GetPolicy's
 * "Policy", ECR's "policyText"). When the member is absent: null if absent_is_null, else TM_ERR_PARSE. */
TM_MUST_CHECK int tm__aws_json_policy_member(cJSON **out, const char *body, size_t len, const char *operation,
                                             const char *member, bool absent_is_null, char *errmsg, size_t errmsg_len);

/* Finds or creates the resource arn of type; account and region come from the ARN when it has them,
 * else from f. When arn is already recorded as another type, records a MalformedResponse error and
 * returns TM_OK with *out NULL. */
TM_MUST_CHECK int tm__aws_facts_resource(const struct tm_aws_facts *f, const char *arn, const char *type,
                                         const char *name, cJSON **out);

/* A sorted, de-duplicated array of strings. */
TM_MUST_CHECK int tm__aws_json_sorted_strings(cJSON **out, const struct tm_aws_strv *sv);

/* Facts read from a member of a response object, recorded on res.attrs[key]:
 * - string: absent or JSON null -> null (or def when def is not NULL), string -> string;
 * - bool: absent -> def;
 * - strings: absent -> [], an array of strings -> that array (order kept unless sorted);
 * - any other type: unknown, with a MalformedResponse error naming the member. */
TM_MUST_CHECK int tm__aws_fact_string(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj,
                                      const char *member, const char *def);
TM_MUST_CHECK int tm__aws_fact_bool(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj,
                                    const char *member, bool def);
TM_MUST_CHECK int tm__aws_fact_strings(const struct tm_aws_facts *f, cJSON *res, const char *key, const cJSON *obj,
                                       const char *member, bool sorted);
/* A JSON member read the same way into a caller-built object (not a resource): returns the copy in
 * *out, or sets *bad when the member has the wrong type. */
TM_MUST_CHECK int tm__aws_json_copy_strings(cJSON **out, const cJSON *obj, const char *member, bool *bad);

/* Field n (0-based) of an ARN "arn:partition:service:region:account:resource"; the last field (5)
 * is everything after the fifth colon. Returns false when the ARN has fewer fields. */
bool tm__aws_arn_field(const char *arn, int n, const char **start, size_t *len);
/* Copies field n of an ARN into out (NUL-terminated); "" when absent or too long. */
void tm__aws_arn_copy(char *out, size_t out_len, const char *arn, int n);

/* ---- with a running scan (facts_call.c) ---- */

/* Parses the answer of a call that reads one fact. */
typedef int (*tm_aws_fact_parse_fn)(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

/* The value of the fact one call reads: what parse makes of the answer; null when the call ended
 * with one of its accepted error codes (there is none: NoSuchBucketPolicy); an unknown marker when the
 * call failed (already recorded) or its answer does not parse (recorded here with
 * TM_AWS_CODE_MALFORMED). NULL only when out of memory, and then the scan is failed. */
cJSON *tm__aws_result_fact(struct tm_aws_scan *scan, const struct tm_aws_result *res, tm_aws_fact_parse_fn parse);

/* Facts for a response of the service `service` to operation `operation` in region. */
void tm__aws_facts_init(struct tm_aws_facts *f, struct tm_aws_scan *scan, const char *region, const char *service,
                        const char *operation);

/* Records that an answer does not parse (code TM_AWS_CODE_MALFORMED) and returns the error to mark
 * facts with; NULL when out of memory. */
const struct tm_snapshot_error *tm__aws_result_malformed(struct tm_aws_scan *scan, const struct tm_aws_result *res,
                                                         const char *errmsg);

/* The outcome of parsing res's answer (rc, and errmsg when the parser failed): TM_ERR_PARSE is recorded
 * as a malformed answer and becomes TM_OK; when err is not NULL, *err is set to the recorded error, to
 * mark the facts the answer would have given (TM_ERR_NOMEM when it could not be recorded). Any other rc
 * is returned as it is. */
TM_MUST_CHECK int tm__aws_result_parsed(struct tm_aws_scan *scan, const struct tm_aws_result *res, int rc,
                                        const char *errmsg, const struct tm_snapshot_error **err);

/* Sets res.<section>[key] to value (taking it), failing the scan on error. NULL value (out of memory)
 * fails the scan too. */
void tm__aws_set_fact(struct tm_aws_scan *scan, cJSON *res, const char *section, const char *key, cJSON *value);

/* Percent-encodes one path segment into a scan-owned string ("" when out of memory). */
const char *tm__aws_path_segment(struct tm_aws_scan *scan, const char *s);

/* Records the facts an answer gives one resource; TM_ERR_PARSE when it does not parse. */
typedef int (*tm_aws_put_fn)(const struct tm_aws_facts *f, cJSON *res, const char *body, size_t len, char *errmsg,
                             size_t errmsg_len);

/* The facts one call reads about one resource. */
struct tm_aws_resource_facts {
    const char *service;      /* the service they are recorded for: "sqs" */
    tm_aws_put_fn put;        /* records them from the answer */
    const char *const *attrs; /* NULL-terminated: the attributes put records */
    bool policy;              /* put records the resource policy too */
};

/* Records res's answer on resource arn (nothing when it is not in the snapshot), from the done callback
 * of its call in region. When the call failed or its answer does not parse (recorded as malformed),
 * every fact it reads becomes unknown with that error instead. */
void tm__aws_result_put(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *region, const char *arn,
                        const struct tm_aws_resource_facts *facts);

/* ---- paginated calls (facts_call.c) ---- */

/* Ends the done callback of one page of a paginated call, taking next (the token the page named, or
 * NULL): when the page was read (rc TM_OK, err NULL) and names a next one, asks for it (res's call with
 * token_param set to next, ending in done with user_data); then fails the scan with "<what>: <error>"
 * when rc or that call failed. True when the next page was asked: the listing goes on. */
bool tm__aws_page_end(struct tm_aws_scan *scan, const struct tm_aws_result *res, int rc,
                      const struct tm_snapshot_error *err, const char *token_param, char *next, const char *what,
                      tm_aws_done_fn done, void *user_data);

/* Parses one page of a listing: records its resources and hands back the items to follow up (ARNs, ids,
 * URLs) and the next page's token. */
typedef int (*tm_aws_list_parse_fn)(const struct tm_aws_facts *f, const char *body, size_t len,
                                    struct tm_aws_strv *items, char **next, char *errmsg, size_t errmsg_len);
/* Starts what a service reads about one listed item; f is the page's (valid during the call only). */
typedef int (*tm_aws_list_item_fn)(struct tm_aws_scan *scan, const struct tm_aws_facts *f, const char *item,
                                   void *user_data);

/* A paginated listing whose items a service follows up. */
struct tm_aws_listing {
    const char *service;     /* the service its facts and errors are recorded for: "kms" */
    const char *token_param; /* the parameter that asks for the next page: "Marker", "NextToken" */
    tm_aws_list_parse_fn parse;
    tm_aws_list_item_fn item; /* run for every item of every page */
};

/* Reads one page of a listing from the done callback of its call (done and user_data are that
 * callback's; user_data also goes to the listing's item function). A failed call (already recorded)
 * gives no items; an answer that does not parse is recorded as malformed and the items read before the
 * fault are still followed up. True when the next page was asked; false when the listing is over (or
 * the scan has failed). */
bool tm__aws_listing_page(struct tm_aws_scan *scan, const struct tm_aws_result *res, const char *region,
                          const struct tm_aws_listing *listing, tm_aws_done_fn done, void *user_data);

/* Parses one page of a listing gathered into table across its pages. */
typedef int (*tm_aws_table_parse_fn)(cJSON *table, const char *body, size_t len, char **next, char *errmsg,
                                     size_t errmsg_len);

/* A paginated listing gathered into a table (a region's KMS aliases, SNS subscriptions, usage plans)
 * that is given to the resources once complete. */
struct tm_aws_table_listing {
    const char *service;     /* "kms": names a failure of the scan with the operation */
    const char *token_param; /* the parameter that asks for the next page */
    tm_aws_table_parse_fn parse;
};

/* Reads one page of a table listing from the done callback of its call. When the call failed or its
 * answer does not parse (recorded as malformed), the listing ends there and *unknown, when still NULL,
 * becomes the unknown marker of that error: a partial table is not the table. True when the next page
 * was asked; false when the listing is over (or the scan has failed). */
bool tm__aws_table_page(struct tm_aws_scan *scan, const struct tm_aws_result *res,
                        const struct tm_aws_table_listing *listing, cJSON *table, cJSON **unknown, tm_aws_done_fn done,
                        void *user_data);

#endif
