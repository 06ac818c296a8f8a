/* A small scripted HTTP/1.1 server on 127.0.0.1 for unit tests, running on the test's own libuv loop.
 *
 * Each request gets a reply chosen, in this order, from the script (one entry per request in arrival
 * order), then the handler, then a default "200 ok". A reply can be delayed, held back until several
 * requests are in flight, cut with a TCP reset, or never sent. The server records every request it
 * received and the largest number it had in flight (received, not yet answered) at once. */
#ifndef TM_TEST_HTTP_SERVER_H
#define TM_TEST_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

enum tm_test_http_action {
    TM_TEST_HTTP_REPLY = 0, /* send the reply */
    TM_TEST_HTTP_RESET,     /* abort the connection with a TCP RST instead of replying */
    TM_TEST_HTTP_CLOSE,     /* close the connection without replying */
    TM_TEST_HTTP_HANG,      /* never reply (the client times out) */
};

struct tm_test_http_reply {
    enum tm_test_http_action action;
    int status;             /* 0 means 200 */
    const char *headers;    /* extra header lines, each ending "\r\n"; may be NULL */
    const char *body;       /* may be NULL */
    size_t body_len;        /* 0 with a body: strlen(body) */
    unsigned delay_ms;      /* wait this long before acting */
    bool no_content_length; /* the body ends when the server closes the connection */
    bool close;             /* "Connection: close" and close after the reply */
};

struct tm_test_http_request {
    unsigned index;      /* arrival order, from 0 */
    unsigned connection; /* connection number, from 0 */
    char method[16];
    char *target; /* path and query as sent */
    size_t header_count;
    char **header_names;
    char **header_values;
    char *body; /* NUL-terminated */
    size_t body_len;
    uint64_t arrival_ns; /* uv_hrtime() when the whole request had arrived */
    unsigned in_flight;  /* requests in flight at the server once this one arrived, itself included */
};

struct tm_test_http_server;

/* Picks the reply for a request not covered by the script. Strings must live until the call returns
 * (the server copies the reply at once). */
typedef void (*tm_test_http_handler_fn)(struct tm_test_http_reply *out, const struct tm_test_http_request *req,
                                        void *user_data);

/* Listens on 127.0.0.1, an ephemeral port. handler may be NULL. */
int tm_test_http_server_start(struct tm_test_http_server **out, uv_loop_t *loop, tm_test_http_handler_fn handler,
                              void *user_data);
int tm_test_http_server_port(const struct tm_test_http_server *srv);
/* "http://127.0.0.1:<port>" */
const char *tm_test_http_server_url(const struct tm_test_http_server *srv);

/* Replies for the next requests in arrival order (copied). */
int tm_test_http_server_script(struct tm_test_http_server *srv, const struct tm_test_http_reply *replies, size_t n);

/* Holds every reply back until `release_at` requests are in flight at once, waits `grace_ms` longer (so that a
 * client sending more than it should gets the time to show it in max_in_flight), then releases them all. No
 * clock decides whether the count is reached: a client that keeps `release_at` requests in flight is released
 * however slow the machine, one that keeps fewer waits forever. release_at 0 turns holding off. */
void tm_test_http_server_hold(struct tm_test_http_server *srv, unsigned release_at, unsigned grace_ms);

unsigned tm_test_http_server_requests(const struct tm_test_http_server *srv);
unsigned tm_test_http_server_max_in_flight(const struct tm_test_http_server *srv);
unsigned tm_test_http_server_connections(const struct tm_test_http_server *srv);
/* The i-th request received, or NULL. */
const struct tm_test_http_request *tm_test_http_server_request(const struct tm_test_http_server *srv, unsigned i);
/* A header of a received request (case-insensitive), or NULL. */
const char *tm_test_http_request_header(const struct tm_test_http_request *req, const char *name);

/* Closes the listener and every connection; the server is freed once its handles have closed (run the
 * loop). Accepts NULL. */
void tm_test_http_server_close(struct tm_test_http_server *srv);

#endif
