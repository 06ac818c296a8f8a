/* The pending calls of a test AWS transport, answered on the next loop iteration in the order they came
 * (calls made while answering wait for the iteration after): the part tm_test_aws_fake and
 * tm_test_aws_fixtures share. A transport embeds struct tm_test_aws_queue, queues each call as its own
 * struct whose first member is struct tm_test_aws_queued, and answers it in its answer function. */
#ifndef TM_TESTS_SUPPORT_AWS_QUEUE_H
#define TM_TESTS_SUPPORT_AWS_QUEUE_H

#include <stddef.h>
#include <uv.h>

#include "providers/aws/aws.h"

struct tm_test_aws_queued {
    struct tm_test_aws_queued *next;
    tm_aws_transport_done_fn done;
    void *user_data;
};

/* Answers one call: builds its response and passes it to call->done(call->user_data, &response). */
typedef void (*tm_test_aws_answer_fn)(struct tm_test_aws_queued *call);

struct tm_test_aws_queue {
    uv_idle_t idle;
    struct tm_test_aws_queued *head, *tail;
    size_t in_flight;     /* queued and not yet answered */
    size_t max_in_flight; /* the most in flight at once */
    int closed;           /* tm_test_aws_queue_close() calls */
    tm_test_aws_answer_fn answer;
};

/* Sets up an empty queue on loop; returns libuv's error. */
int tm_test_aws_queue_init(struct tm_test_aws_queue *q, uv_loop_t *loop, tm_test_aws_answer_fn answer);
/* Queues call (malloc'd; the queue frees it once answered) to end with done(user_data, ...). */
void tm_test_aws_queue_push(struct tm_test_aws_queue *q, struct tm_test_aws_queued *call, tm_aws_transport_done_fn done,
                            void *user_data);
/* The transport's close(): stops answering and closes the idle handle. */
void tm_test_aws_queue_close(struct tm_test_aws_queue *q);
/* Frees the calls never answered (after the loop ran dry). */
void tm_test_aws_queue_clean_up(struct tm_test_aws_queue *q);

#endif
