/* Assertions on what an AWS scan left behind: the facts in its snapshot and the calls in a transport's
 * log (tm_test_aws_fake's or tm_test_aws_fixtures', one line per call: "api Operation region ..."). They
 * fail the running cmocka test with a message naming the resource and the fact. */
#ifndef TM_TESTS_SUPPORT_AWS_EXPECT_H
#define TM_TESTS_SUPPORT_AWS_EXPECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/snapshot.h"

/* The value at a '|'-separated path below o ("attrs|url|auth_type", "links|0|to"): a number step
 * indexes an array; NULL when a step is missing. */
const cJSON *tm_test_aws_at(const cJSON *o, const char *path);

/* The value at path in resource id prints (unformatted) as json; "(absent)" stands for no value. */
void tm_test_aws_expect(struct tm_snapshot *snap, const char *id, const char *path, const char *json);

/* Resources of this type in the snapshot. */
size_t tm_test_aws_count_type(struct tm_snapshot *snap, const char *type);

/* Recorded errors with this code. */
size_t tm_test_aws_count_errors(struct tm_snapshot *snap, const char *code);

/* Lines of a call log naming this operation (any API). */
size_t tm_test_aws_count_calls(const cJSON *log, const char *operation);

/* Every resource of type has each fact of keys (NULL-terminated): known, null or unknown, never
 * absent. A key without '|' is an attribute; "policies|resource" names the resource policy. */
void tm_test_aws_facts_present(struct tm_snapshot *snap, const char *type, const char *const *keys);

/* A resource's attribute key, and its resource policy (NULL when absent). */
const cJSON *tm_test_aws_attr(const cJSON *res, const char *key);
const cJSON *tm_test_aws_policy(const cJSON *res);

/* v prints (unformatted) as want. */
void tm_test_aws_assert_json(const cJSON *v, const char *want);

/* The attribute key of res prints as json; "(absent)" stands for no attribute. */
void tm_test_aws_expect_attr(const cJSON *res, const char *key, const char *json);

/* res has a link of this kind to this resource. */
bool tm_test_aws_has_link(const cJSON *res, const char *kind, const char *to);

#endif
