/* A fake AWS transport for scan tests: answers calls from a table, on the next loop iteration, and
 * records what was asked (libgit2's fake-backend pattern: the interface struct first, calls counted). */
#ifndef TM_TESTS_SUPPORT_AWS_FAKE_H
#define TM_TESTS_SUPPORT_AWS_FAKE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <uv.h>

#include "providers/aws/aws.h"
#include "tests/support/aws_queue.h"

struct tm_test_aws_reply {
    const char *operation; /* the operation answered */
    const char *match;     /* "Name=Value" one of the call's parameters must equal, or NULL */
    const char *region;    /* the call's region must be this one, or NULL */
    int status;            /* HTTP status; 0 means 200 */
    const char *code;      /* an error code (status >= 400): the call fails with it */
    const char *body;
    int attempts;             /* attempts to report; 0 means 1 */
    const char *content_type; /* the Content-Type header, or NULL for none */
};

struct tm_test_aws_fake {
    struct tm_aws_transport base; /* first: the scan calls through it */
    uv_loop_t *loop;
    struct tm_test_aws_queue queue; /* in_flight, max_in_flight, closed: close() calls */
    const struct tm_test_aws_reply *replies;
    size_t reply_count;
    size_t sent;        /* calls received */
    const char *refuse; /* send() fails with TM_ERR_READ_ONLY for this operation */
    cJSON *log;         /* one string per call: "api Operation region [Name=Value ...]" */
};

/* Sets up the fake on loop; replies must outlive it. */
void tm_test_aws_fake_init(struct tm_test_aws_fake *f, uv_loop_t *loop, const struct tm_test_aws_reply *replies,
                           size_t reply_count);
/* Frees what the fake holds (after the loop ran dry). */
void tm_test_aws_fake_clean_up(struct tm_test_aws_fake *f);
/* How many calls named this operation (any API). */
size_t tm_test_aws_fake_count(const struct tm_test_aws_fake *f, const char *operation);

#endif
