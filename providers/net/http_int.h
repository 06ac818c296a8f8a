/* Internals of the HTTP engine shared by the files of providers/net. */
#ifndef TM_NET_HTTP_INT_H
#define TM_NET_HTTP_INT_H

#include <curl/curl.h>

#include "core/buf.h"
#include "providers/net/http.h"
#include "providers/net/map.h"
#include "providers/net/ratelimit.h"

/* Response headers beyond this are an error: AWS sends a few hundred bytes. */
#define TM__NET_MAX_HEADER_BYTES (256u * 1024u)

enum tm__net_state {
    TM__NET_NEW = 0,      /* built, not submitted */
    TM__NET_QUEUED,       /* waiting in its key's queue for a slot and tokens (no deadline) */
    TM__NET_RESUMED,      /* async prepare resumed; waiting for the scheduler to send or fail it */
    TM__NET_PREPARING,    /* the prepare hook is running */
    TM__NET_WAIT_PREPARE, /* the prepare hook went asynchronous */
    TM__NET_RUNNING,      /* in curl */
    TM__NET_DELAYED,      /* backing off before the next attempt */
};

struct tm__net_stats_node {
    char *name;
    struct tm_http_stats stats;
};

struct tm__net_service {
    char *name;
    unsigned limit;
    unsigned in_flight;
    struct tm_http_stats stats;
};

struct tm__net_host {
    char *name;
    unsigned in_flight;
};

/* A rate: what is configured, the adaptive controller on top, and the bucket that enforces both. Each key
 * has one; a rate group (keys that share one budget at the service) has one its keys draw from. */
struct tm__net_limiter {
    struct tm_rate_bucket bucket;
    struct tm_rate_adaptive adaptive;
    double configured_rate; /* from the rules, 0 = none */
    double configured_burst;
};

struct tm__net_group {
    char *name; /* first: the engine frees keys, hosts, services and groups alike */
    struct tm__net_limiter lim;
    size_t queued; /* waiting requests of every key in the group */
};

/* Queue classes of a key, one per priority (TM_HTTP_PRIORITY_*). */
#define TM__NET_PRIORITIES 4

struct tm__net_key {
    char *name;
    struct tm__net_limiter lim;  /* its own rate; unlimited while it belongs to a group */
    struct tm__net_group *group; /* the shared budget it draws from, or NULL */
    unsigned in_flight;
    size_t queued;
    /* FIFO of waiting requests per priority; the highest non-empty one is served first. */
    struct tm_http_request *head[TM__NET_PRIORITIES], *tail[TM__NET_PRIORITIES];
    /* Aging, per non-empty queue: starts that went elsewhere while this queue's head could have started
     * (see "Order" in http.h); 0 again when the queue starts a request or empties. */
    uint64_t passes[TM__NET_PRIORITIES];
    uint64_t startable_pass; /* the scheduler pass in which the key's head could last start */
    struct tm__net_key *ready_prev, *ready_next;
    bool in_ready;
};

struct tm_http_request {
    char *method;
    char *url;
    char **header_names; /* parallel arrays, header_count entries */
    char **header_values;
    size_t header_count;
    size_t header_alloc;
    unsigned char *body;
    size_t body_len;
    char *service;
    char *op_key;
    tm_http_prepare_fn prepare;
    tm_http_classify_fn classify;
    void *hook_data;
    long timeout_ms;
    unsigned max_attempts;
    unsigned priority; /* TM_HTTP_PRIORITY_*: the queue class within its key */

    /* Engine state from submit on. */
    struct tm_http_engine *engine;
    tm_http_done_fn done;
    void *user_data;
    enum tm__net_state state;
    struct tm__net_key *key;
    struct tm__net_host *host;
    struct tm__net_service *svc;
    struct tm_http_request *q_prev, *q_next;     /* in the key queue or the resumed list */
    struct tm_http_request *all_prev, *all_next; /* every submitted request */
    size_t heap_index;                           /* in the engine's backoff heap while DELAYED */
    uint64_t due_ms;                             /* DELAYED: when the backoff ends */
    uint64_t granted_ms; /* when this attempt got its slot and tokens: its timeout runs from here */
    uint64_t sent_ms;    /* when the current attempt was handed to curl */
    unsigned attempt;    /* attempts started */
    unsigned sent;       /* attempts handed to curl */
    bool slot_held;
    unsigned throttles;
    bool in_prepare;
    bool resume_called;
    int resume_err;

    /* The current attempt. */
    CURL *easy;
    struct curl_slist *slist;
    struct tm_buf resp_body;
    struct tm_http_header *resp_headers; /* name and value are heap copies owned here */
    size_t resp_header_count;
    size_t resp_header_alloc;
    size_t resp_header_bytes;
    long status;
    bool too_big;
    bool out_of_memory;
    char errbuf[CURL_ERROR_SIZE];
    /* The last verdict (kept for the final report). */
    char code[128];
    char message[512];
};

/* Request helpers (request.c). */
void tm__net_request_reset_response(struct tm_http_request *req);
void tm__net_request_clear_headers(struct tm_http_request *req);
TM_MUST_CHECK int tm__net_request_add_response_header(struct tm_http_request *req, const char *name, size_t name_len,
                                                      const char *value, size_t value_len);
void tm__net_request_free(struct tm_http_request *req);

/* Copies a one-line message: control characters become spaces, cut at a UTF-8 boundary. */
void tm__net_copy_line(char *dst, size_t dst_len, const char *src, size_t src_len);

#endif
