/* An AWS transport for scan tests that answers from a mockcloud fixture directory (fixtures/aws/demo),
 * through mockcloud's own loader and matcher, without HTTP or signing: each call is shaped as the
 * protocol puts it on the wire (path and query string, form body with Action and Version, JSON body with
 * X-Amz-Target, S3 Control's x-amz-account-id), matched like a request mockcloud receives, and answered
 * on the next loop iteration with the fixture's status, headers and body. Error answers carry the code
 * the service's protocol puts in them. A call no fixture answers fails with code "NoFixture" and is
 * listed in `unmatched`. */
#ifndef TM_TESTS_SUPPORT_AWS_FIXTURES_H
#define TM_TESTS_SUPPORT_AWS_FIXTURES_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <uv.h>

#include "providers/aws/aws.h"
#include "tests/support/aws_queue.h"

struct tm__mock_fixture_set;

struct tm_test_aws_fixtures {
    struct tm_aws_transport base; /* first: the scan calls through it */
    uv_loop_t *loop;
    struct tm_test_aws_queue queue; /* in_flight, closed: close() calls */
    struct tm__mock_fixture_set *set;
    size_t sent;
    cJSON *unmatched;  /* "api Operation region path?query" of each call no fixture answered */
    cJSON *log;        /* the same line for every call */
    size_t deny_every; /* when not 0, every deny_every-th call is answered 403 AccessDenied instead */
    size_t denied;     /* calls answered so */
};

/* Loads DIR (relative paths are taken from $TM_ROOT, else the working directory). */
TM_MUST_CHECK int tm_test_aws_fixtures_init(struct tm_test_aws_fixtures *f, uv_loop_t *loop, const char *dir,
                                            char *errmsg, size_t errmsg_len);
void tm_test_aws_fixtures_clean_up(struct tm_test_aws_fixtures *f);
/* Calls made of this operation (any API). */
size_t tm_test_aws_fixtures_count(const struct tm_test_aws_fixtures *f, const char *operation);

/* Scans the demo account (fixtures/aws/demo) for the services named, in its two regions, on a fresh
 * loop; returns the snapshot (the caller destroys it) and fails the test when the scan does not run to
 * its end. *unmatched and *calls (when not NULL) receive the calls no fixture answered and every call
 * (the caller frees them). */
struct tm_snapshot *tm_test_aws_scan_demo(const char *const *services, size_t service_count, cJSON **unmatched,
                                          cJSON **calls);
/* The same, with every deny_every-th call refused (AccessDenied); *denied receives how many were. */
struct tm_snapshot *tm_test_aws_scan_demo_denying(const char *const *services, size_t service_count, size_t deny_every,
                                                  size_t *denied);

/* The facts every resource of a type must still hold when calls are refused. */
struct tm_test_aws_facts_of {
    const char *type;
    const char *const *keys; /* NULL-terminated, as tm_test_aws_facts_present takes them */
};

/* Scans the demo account four times, refusing every 2nd, 3rd, 4th and 5th call: each scan runs to its
 * end, refuses at least one call, records an AccessDenied error for each refusal, and leaves every fact
 * of facts (ending with {NULL, NULL}) known, null or unknown on every resource of its type. */
void tm_test_aws_scan_demo_refused(const char *const *services, size_t service_count,
                                   const struct tm_test_aws_facts_of *facts);

#endif
