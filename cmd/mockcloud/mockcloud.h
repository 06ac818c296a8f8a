/* mockcloud as a library: a loopback HTTP server that answers AWS API calls from a fixture directory
 * (fixtures/README.md), with reproducible fault injection. bin/mockcloud is a thin CLI over this; unit
 * tests of other modules run it in-process on their own loop.
 *
 *     struct tm_mock_options o;
 *     tm_mock_options_init(&o);
 *     o.fixtures_dir = "fixtures/aws/mocktest";
 *     struct tm_mock_server *srv;
 *     if (tm_mock_server_new(&srv, loop, &o, err, sizeof(err)) == 0) {
 *         int port = tm_mock_server_port(srv);
 *         ... run requests on the loop ...
 *         tm_mock_server_destroy(srv);        // closes every handle; memory goes with the last close
 *         uv_run(loop, UV_RUN_DEFAULT);       // let the close callbacks run
 *     }
 *     assert(uv_loop_close(loop) == 0);
 */
#ifndef TM_MOCKCLOUD_H
#define TM_MOCKCLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "core/error.h"

/* A token-bucket rate limit: `rps` tokens a second, at most `burst` stored (a full bucket at start). */
struct tm_mock_rate_limit {
    const char *operation; /* "DescribeInstances" or "ec2:DescribeInstances" */
    double rps;
    double burst;
};

/* One token bucket per region that several operations of one service draw from, as AWS meters some
 * APIs as a whole (Lambda's control plane, API Gateway's management API). */
struct tm_mock_rate_limit_group {
    const char *service;           /* the signing name: "lambda" */
    const char *const *operations; /* NULL-terminated: "ListFunctions", "ListAliases", ... */
    double rps;
    double burst;
};

struct tm_mock_options {
    const char *fixtures_dir; /* required: a scenario directory (scenario.json + *.http) */
    const char *host;         /* loopback address to bind: "127.0.0.1" (default) or "::1" */
    int port;                 /* 0: an ephemeral port */

    FILE *log;           /* one JSON line per request; NULL: none. Not closed by the server */
    uint64_t seed;       /* every random choice derives from (seed, request number) */
    uint32_t latency_ms; /* added before every answer */
    uint32_t jitter_ms;  /* the delay is latency_ms +- jitter_ms, uniformly, never below 0 */

    /* Probabilities in [0, 1] drawn once per request, mutually exclusive (their sum must be <= 1). */
    double throttle_rate;  /* the service's throttling error */
    double error_rate;     /* 500 or 503 */
    double reset_rate;     /* the connection is reset without an answer */
    double truncate_rate;  /* a Content-Length larger than the bytes sent, then close */
    double malformed_rate; /* 200 with a corrupted body */

    const char *const *deny; /* operations answered with AccessDenied ("Op" or "service:Op"); NULL-ended */
    const struct tm_mock_rate_limit *rate_limits; /* per operation and region */
    size_t n_rate_limits;
    /* Shared buckets. An operation's own "service:Op" limit goes before its group, the group before an
     * "Op" limit and the default; an operation may be in one group of its service only. */
    const struct tm_mock_rate_limit_group *rate_limit_groups;
    size_t n_rate_limit_groups;
    double rate_limit_default_rps; /* 0: operations without their own limit are unlimited */
    double rate_limit_default_burst;

    bool fault_unsigned; /* also inject random faults into unsigned (auth: none) answers: IMDS, ECS */

    size_t max_header_bytes; /* request line + headers; default 64 KiB */
    size_t max_body_bytes;   /* decoded request body; default 8 MiB */
};

/* Counters since the server started, for tests that count calls. */
struct tm_mock_stats {
    uint64_t requests;     /* complete requests parsed */
    uint64_t matched;      /* answered from a fixture */
    uint64_t unmatched;    /* no fixture matched */
    uint64_t auth_failed;  /* rejected: unknown key, bad signature, bad token, unsigned */
    uint64_t faults;       /* any injected fault, rate limits and denials included */
    uint64_t throttled;    /* --throttle-rate and rate-limit throttling */
    uint64_t resets;       /* connections reset on purpose */
    uint64_t bad_requests; /* malformed HTTP */
    uint64_t connections;  /* accepted */
};

struct tm_mock_server;

/* Defaults: host 127.0.0.1, port 0, no faults, caps as documented above. */
void tm_mock_options_init(struct tm_mock_options *opts);

/* Loads and checks the fixtures (errors name file and line), binds and starts listening on `loop`.
 * On failure errmsg holds one line; a handle may still be closing, so run the loop before
 * uv_loop_close() as after tm_mock_server_destroy(). */
TM_MUST_CHECK int tm_mock_server_new(struct tm_mock_server **out, uv_loop_t *loop, const struct tm_mock_options *opts,
                                     char *errmsg, size_t errmsg_len);

/* The bound TCP port (useful with port 0). */
int tm_mock_server_port(const struct tm_mock_server *srv);

void tm_mock_server_stats(struct tm_mock_stats *out, const struct tm_mock_server *srv);

/* Stops accepting and closes every connection; the server object stays valid for port/stats. */
void tm_mock_server_stop(struct tm_mock_server *srv);

/* Stops the server and releases it once its handles have closed: the caller runs the loop afterwards
 * (uv_run) before uv_loop_close(). Accepts NULL. */
void tm_mock_server_destroy(struct tm_mock_server *srv);

#endif
