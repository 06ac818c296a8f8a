#include "tests/support/aws_queue.h"

#include <stdlib.h>

static void s_on_idle(uv_idle_t *idle) {
    struct tm_test_aws_queue *q = idle->data;
    /* Answer what is queued now; calls made by the callbacks wait for the next iteration. */
    struct tm_test_aws_queued *list = q->head;
    q->head = q->tail = NULL;
    while (list) {
        struct tm_test_aws_queued *call = list;
        list = call->next;
        q->in_flight--;
        q->answer(call);
        free(call);
    }
    if (!q->head)
        uv_idle_stop(&q->idle);
}

int tm_test_aws_queue_init(struct tm_test_aws_queue *q, uv_loop_t *loop, tm_test_aws_answer_fn answer) {
    *q = (struct tm_test_aws_queue){.answer = answer};
    int rc = uv_idle_init(loop, &q->idle);
    q->idle.data = q;
    return rc;
}

void tm_test_aws_queue_push(struct tm_test_aws_queue *q, struct tm_test_aws_queued *call, tm_aws_transport_done_fn done,
                            void *user_data) {
    call->next = NULL;
    call->done = done;
    call->user_data = user_data;
    if (q->tail)
        q->tail->next = call;
    else
        q->head = call;
    q->tail = call;
    q->in_flight++;
    if (q->in_flight > q->max_in_flight)
        q->max_in_flight = q->in_flight;
    uv_idle_start(&q->idle, s_on_idle);
}

void tm_test_aws_queue_close(struct tm_test_aws_queue *q) {
    q->closed++;
    uv_idle_stop(&q->idle);
    uv_close((uv_handle_t *)&q->idle, NULL);
}

void tm_test_aws_queue_clean_up(struct tm_test_aws_queue *q) {
    while (q->head) {
        struct tm_test_aws_queued *call = q->head;
        q->head = call->next;
        free(call);
    }
    q->tail = NULL;
}
