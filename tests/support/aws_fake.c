#include "tests/support/aws_fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/aws_expect.h"

struct tm_test_aws_pending {
    struct tm_test_aws_queued base;        /* first: queued as it */
    const struct tm_test_aws_reply *reply; /* NULL: nothing matched */
};

static bool s_matches(const struct tm_test_aws_reply *r, const struct tm_aws_wire_call *call) {
    if (strcmp(r->operation, call->operation) != 0)
        return false;
    if (r->region && strcmp(r->region, call->region) != 0)
        return false;
    if (!r->match)
        return true;
    const char *eq = strchr(r->match, '=');
    size_t n = (size_t)(eq - r->match);
    for (size_t i = 0; i < call->param_count; i++)
        if (strlen(call->params[i].name) == n && strncmp(call->params[i].name, r->match, n) == 0 &&
            strcmp(call->params[i].value, eq + 1) == 0)
            return true;
    return false;
}

static void s_answer(struct tm_test_aws_queued *call) {
    const struct tm_test_aws_reply *reply = ((struct tm_test_aws_pending *)call)->reply;
    struct tm_aws_transport_response resp = {.attempts = 1};
    struct tm_aws_header header;
    if (!reply) {
        resp.status = 400;
        resp.code = "FakeNoReply";
        resp.message = "no reply configured for this call";
    } else {
        resp.status = reply->status ? reply->status : 200;
        resp.code = reply->code;
        resp.message = reply->code ? "fake error" : NULL;
        resp.body = reply->body;
        resp.body_len = reply->body ? strlen(reply->body) : 0;
        resp.attempts = reply->attempts ? reply->attempts : 1;
        if (reply->content_type) {
            header = (struct tm_aws_header){"Content-Type", reply->content_type};
            resp.headers = &header;
            resp.header_count = 1;
        }
    }
    call->done(call->user_data, &resp);
}

static int s_send(struct tm_aws_transport *t, const struct tm_aws_wire_call *call, tm_aws_transport_done_fn done,
                  void *user_data) {
    struct tm_test_aws_fake *f = (struct tm_test_aws_fake *)t;
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s %s %s", call->service, call->operation, call->region);
    for (size_t i = 0; i < call->param_count && n > 0 && (size_t)n < sizeof(line); i++)
        n += snprintf(line + n, sizeof(line) - (size_t)n, " %s=%s", call->params[i].name, call->params[i].value);
    cJSON_AddItemToArray(f->log, cJSON_CreateString(line));
    f->sent++;
    if (f->refuse && strcmp(f->refuse, call->operation) == 0)
        return TM_ERR_READ_ONLY;
    struct tm_test_aws_pending *p = calloc(1, sizeof(*p));
    if (!p)
        return TM_ERR_NOMEM;
    for (size_t i = 0; i < f->reply_count && !p->reply; i++)
        if (s_matches(&f->replies[i], call))
            p->reply = &f->replies[i];
    tm_test_aws_queue_push(&f->queue, &p->base, done, user_data);
    return TM_OK;
}

static void s_close(struct tm_aws_transport *t) {
    tm_test_aws_queue_close(&((struct tm_test_aws_fake *)t)->queue);
}

void tm_test_aws_fake_init(struct tm_test_aws_fake *f, uv_loop_t *loop, const struct tm_test_aws_reply *replies,
                           size_t reply_count) {
    memset(f, 0, sizeof(*f));
    f->base.send = s_send;
    f->base.close = s_close;
    f->loop = loop;
    f->replies = replies;
    f->reply_count = reply_count;
    f->log = cJSON_CreateArray();
    (void)tm_test_aws_queue_init(&f->queue, loop, s_answer);
}

void tm_test_aws_fake_clean_up(struct tm_test_aws_fake *f) {
    tm_test_aws_queue_clean_up(&f->queue);
    cJSON_Delete(f->log);
    f->log = NULL;
}

size_t tm_test_aws_fake_count(const struct tm_test_aws_fake *f, const char *operation) {
    return tm_test_aws_count_calls(f->log, operation);
}
