/* The asynchronous HTTP engine: one libuv loop driving libcurl's multi interface.
 *
 * Requests are queued with a completion callback and run many at once over reused connections
 * (HTTP/1.1 keep-alive, HTTP/2 multiplexing where the server offers it). Each request passes through:
 *
 *   queued ──(host/service slot + rate tokens)──► prepare hook ──► sent ──► classify hook
 *      ▲                                                                        │
 *      └──────────── backoff timer (full jitter, Retry-After) ◄── retryable ────┤
 *                                                                 final ───────► done callback
 *
 * - Concurrency: at most `max_in_flight` overall, `max_per_host` per host and `max_per_service` per
 *   service (overridable per service). A request is handed to curl only once it holds its slots (curl never
 *   queues it), and its timeout runs from then: it bounds the attempt (prepare hook and transfer), never the
 *   time spent waiting in the engine's queue. That wait is the engine's own scheduling, which holds a call back
 *   for others it judges more urgent; charging it to the call would turn that choice into a failure the
 *   service never caused. A queued request therefore never times out: it waits until it is started (see the
 *   guarantee under "Order") or the engine is destroyed.
 * - Rate: a token bucket per operation key (configured with tm_http_engine_set_rate, exact key or a
 *   prefix ending in '*'), or one bucket shared by several keys (a rate group, tm_http_engine_set_shared_rate:
 *   services that meter several operations as one budget); an adaptive limiter per key or group that cuts
 *   the rate on throttles and recovers gradually on success, never above a configured rate; and one global
 *   `max_rps` budget over everything. Waiting for tokens is deliberate pacing, in the queue like any other
 *   wait. A key with a configured rate skips the slow start that probes an unknown limit.
 * - Order: each key keeps one first-in-first-out queue per priority (tm_http_request_set_priority; retries
 *   go to the front of theirs). Whenever a slot is free the scheduler looks at the head of every key with
 *   waiting requests (the highest non-empty priority of each) that may start now: a free slot on its host
 *   and service, tokens in its bucket (or its group's) and in the global budget. Of those it starts the
 *   head of highest rank, an estimate (in seconds) of the work waiting on it, as list schedulers rank
 *   tasks by the longest path behind them:
 *     rank = queued requests of the key (or of its group) / the key's current rate  +  1 s x priority.
 *   The first term is the backlog of a rate-limited key: that key is a bottleneck, every token it leaves
 *   unused lengthens the whole run, and it needs a slot only a few times a second, so its calls go first
 *   while its backlog is long. Keys without a rate have none: they can use any later slot. The second
 *   term is for calls that open chains, which a caller marks with a higher priority (the next page of a
 *   listing, a listing whose items fan out): what they unlock is unknown to the engine, so each step of
 *   priority counts as a second of backlog. Among equal ranks, the key that started a request least
 *   recently goes first (round robin: one busy key cannot take every slot of a host).
 *   Ranks alone could hold a queue back for ever (a chain of next pages always outranks a background call,
 *   bottlenecks with more rate than there are slots outrank everything else), so queues age: each start
 *   that goes elsewhere while a queue (a key's priority class) could have started passes that queue over
 *   once, and a queue passed over 16 times per queue waiting goes next, whatever the ranks (the one passed
 *   over most first, ties by turn; its count restarts when it starts a request or empties). So a queue that
 *   can start does within (16 + 1) x Q starts, Q the most queues waiting meanwhile, and overdue turns take
 *   about one start in 17 at most: ranks decide the rest. Aging counts starts, not time, so the order stays a
 *   function of the order of events.
 *   The choice costs one look at each key with waiting requests, not at each request, and depends only on
 *   the order of events, so a run with the same responses starts requests in the same order.
 * - Security: TLS peer and host verification are always on; plain http:// is refused unless the host
 *   is loopback (127.0.0.0/8, ::1, localhost) or one of AWS's link-local credential endpoints (instance
 *   metadata 169.254.169.254 / fd00:ec2::254, the container agent 169.254.170.2, 169.254.170.23,
 *   fd00:ec2::23), which only exist over plain HTTP. Redirects are never followed.
 * - Proxies: HTTPS_PROXY, https_proxy, NO_PROXY... are read by libcurl itself, as curl does.
 *
 * Everything runs on the loop's thread; no function here may be called from another thread. */
#ifndef TM_NET_HTTP_H
#define TM_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/error.h"
#include "core/log.h"

struct tm_http_engine;
struct tm_http_request;

struct tm_http_header {
    const char *name;
    const char *value;
};

/* The outcome of a request (given to the done callback) or of one attempt (given to the classify
 * hook). Pointers are valid only during the callback. */
struct tm_http_response {
    int err;          /* TM_OK or a negative tm_error (see tm_http_done_fn) */
    long status;      /* HTTP status of the last response; 0 when none came */
    const char *body; /* NUL-terminated (body_len bytes before the NUL); never NULL */
    size_t body_len;
    const struct tm_http_header *headers; /* of the last response, in received order */
    size_t header_count;
    unsigned attempts;   /* attempts sent; 0 when refused before sending */
    unsigned throttles;  /* attempts classified as throttled */
    const char *code;    /* error code ("" when none): the service's (e.g. "SlowDown") or
                          * the engine's ("NetworkError", "Timeout", "ResponseTooLarge",
                          * "InsecureURL", "Cancelled", ...) */
    const char *message; /* one line, "" when none */
    const struct tm_http_request *request;
};

/* Case-insensitive lookup of a response header; NULL when absent. */
const char *tm_http_response_header(const struct tm_http_response *resp, const char *name);

/* Called exactly once per submitted request, on the loop thread. err is TM_OK (the classify hook said
 * success), TM_ERR_SERVICE (a final error response: see status/code/message), or the verdict's own
 * error, TM_ERR_NETWORK, TM_ERR_TIMEOUT, TM_ERR_TOO_BIG (body over the cap: never truncated),
 * TM_ERR_INVALID (refused URL), TM_ERR_CANCELLED (engine destroyed), or the prepare hook's error. */
typedef void (*tm_http_done_fn)(const struct tm_http_response *resp, void *user_data);

enum tm_http_outcome {
    TM_HTTP_SUCCESS = 0,
    TM_HTTP_RETRY,     /* transient (5xx, transport): retry with backoff */
    TM_HTTP_THROTTLED, /* throttled (429, throttling codes): retry with backoff, slow the key down */
    TM_HTTP_FAIL,      /* final error */
};

struct tm_http_verdict {
    enum tm_http_outcome outcome;
    int err;                /* for TM_HTTP_FAIL: the error to report (default TM_ERR_SERVICE) */
    char code[128];         /* extracted error code, "" when none */
    char message[512];      /* extracted error message, one line, "" when none */
    int64_t retry_after_ms; /* -1: take the Retry-After header (if any); >= 0: this delay */
};

/* Decides what a received HTTP response means. `resp` describes this attempt (err is TM_OK, attempts
 * is the attempt number). The verdict arrives zeroed with retry_after_ms = -1. */
typedef void (*tm_http_classify_fn)(struct tm_http_verdict *out, const struct tm_http_response *resp, void *hook_data);

/* The default: 2xx success; 429 throttled; 500, 502, 503, 504 retry; anything else fails. */
void tm_http_classify_default(struct tm_http_verdict *out, const struct tm_http_response *resp, void *hook_data);

/* Runs before every attempt, once the request holds its slot and tokens, so it can sign with a fresh
 * date. It may change the URL, headers and body. Return TM_OK to send now, a negative error to fail the
 * request, or TM_HTTP_PREPARE_ASYNC after arranging to call tm_http_request_resume() later (e.g. when
 * refreshed credentials arrive); resume may also be called before the hook returns. */
typedef int (*tm_http_prepare_fn)(struct tm_http_request *req, unsigned attempt, void *hook_data);
#define TM_HTTP_PREPARE_ASYNC 1

/* Ends an asynchronous prepare: TM_OK sends the attempt, a negative error fails the request. If the
 * request completes while its prepare is pending (the engine was destroyed: done ran with
 * TM_ERR_CANCELLED), it no longer exists and must not be resumed. */
void tm_http_request_resume(struct tm_http_request *req, int err);
/* From a prepare hook that fails: the code and message the done callback reports. */
void tm_http_request_set_error(struct tm_http_request *req, const char *code, const char *message);

struct tm_http_options {
    size_t max_body_bytes;       /* response body cap: 64 MiB; over it the request fails TM_ERR_TOO_BIG */
    long connect_timeout_ms;     /* 10 s */
    long timeout_ms;             /* per attempt, from the moment it holds its slot (queueing is free): 120 s */
    long low_speed_bytes_per_s;  /* abort an attempt slower than this ... : 1 byte/s */
    long low_speed_time_s;       /* ... for this long: 30 s */
    const char *ca_bundle;       /* PEM file of trusted CAs (AWS_CA_BUNDLE, --ca-bundle); NULL = system */
    const char *user_agent;      /* "tmscan/<version>" */
    unsigned max_attempts;       /* per request, first attempt included: 5 */
    uint64_t backoff_base_ms;    /* full jitter: sleep = random(0, min(cap, base * 2^(attempt-1))): 100 */
    uint64_t backoff_cap_ms;     /* 20 s */
    uint64_t max_retry_after_ms; /* a longer Retry-After ends the retries instead: 60 s */
    unsigned max_in_flight;      /* overall: 256 */
    unsigned max_per_host;       /* 32 */
    unsigned max_per_service;    /* 64 (see tm_http_engine_set_service_concurrency) */
    double max_rps;              /* global budget in requests (attempts) per second; 0 = none */
    double default_rate_per_s;   /* per operation key when no rule matches; 0 = none */
    bool adaptive;               /* adaptive per-key limiter: true */
    uint64_t seed;               /* jitter RNG seed; 0 = from the clock and pid */
    struct tm_log *log;          /* may be NULL */
};

/* Fills the defaults above. */
void tm_http_options_init(struct tm_http_options *opts);

/* Creates an engine on `loop` (which must outlive it). The options are copied. On error, errmsg
 * (errmsg_len bytes, may be NULL) says why. */
TM_MUST_CHECK int tm_http_engine_new(struct tm_http_engine **out, uv_loop_t *loop, const struct tm_http_options *opts,
                                     char *errmsg, size_t errmsg_len);

/* Cancels every pending request (their done callbacks run with TM_ERR_CANCELLED), removes the curl
 * handles and closes the engine's libuv handles. The engine is freed once those close, so the caller
 * runs the loop once more before uv_loop_close() (which then returns 0). Accepts NULL. Must not be
 * called from inside an engine callback. */
void tm_http_engine_destroy(struct tm_http_engine *engine);

/* Rate for an operation key: an exact key ("ec2:us-east-1:DescribeInstances") or a prefix rule ending in
 * '*' ("ec2:*" is not a glob: "ec2:" followed by anything); the longest match wins. burst 0 means
 * max(1, rate / 10). rate 0 removes the limit. Applies to keys seen from now on and to existing keys. */
TM_MUST_CHECK int tm_http_engine_set_rate(struct tm_http_engine *engine, const char *key_rule, double rate_per_s,
                                          double burst);
/* One budget shared by several keys: every key matching key_rule (exact or prefix, as above) draws from
 * the bucket named `group` (created on first use) instead of its own, and throttles on any of them slow
 * the group down. The group's rate and burst are the last ones set for it (burst 0: max(1, rate / 10);
 * rate 0: unlimited). Rules of both kinds compete: the longest match decides whether a key has its own
 * rate or a group's. Applies to keys seen from now on and to existing keys. */
TM_MUST_CHECK int tm_http_engine_set_shared_rate(struct tm_http_engine *engine, const char *key_rule, const char *group,
                                                 double rate_per_s, double burst);
/* Concurrency limit for one service (overrides max_per_service). */
TM_MUST_CHECK int tm_http_engine_set_service_concurrency(struct tm_http_engine *engine, const char *service,
                                                         unsigned max_in_flight);
/* The rate currently enforced on a key (adaptive or configured; its group's when it has one), 0 when
 * unlimited or unknown key. */
double tm_http_engine_key_rate(const struct tm_http_engine *engine, const char *key);
/* The group a key draws from (NULL: its own bucket, or an unknown key). */
const char *tm_http_engine_key_group(const struct tm_http_engine *engine, const char *key);

struct tm_http_stats {
    uint64_t requests;       /* submitted */
    uint64_t completed;      /* done callbacks run */
    uint64_t attempts;       /* attempts sent */
    uint64_t retries;        /* attempts after the first */
    uint64_t throttles;      /* attempts classified as throttled */
    uint64_t errors;         /* requests that ended with an error */
    uint64_t bytes_received; /* response body bytes */
    uint64_t bytes_sent;     /* request body bytes */
};

/* Counters for one service, or the totals when service is NULL. Unknown service: all zero. */
void tm_http_engine_stats(const struct tm_http_engine *engine, const char *service, struct tm_http_stats *out);
/* Visits per-service counters in service name order (deterministic output). */
typedef void (*tm_http_stats_fn)(const char *service, const struct tm_http_stats *stats, void *user_data);
void tm_http_engine_foreach_stats(const struct tm_http_engine *engine, tm_http_stats_fn fn, void *user_data);
/* Requests submitted and not yet completed. */
size_t tm_http_engine_pending(const struct tm_http_engine *engine);

/* --- Requests ------------------------------------------------------------------------------------ */

/* A new request; NULL when out of memory. method is "GET", "HEAD", "POST", ... */
struct tm_http_request *tm_http_request_new(const char *method, const char *url);
/* Frees a request that was never submitted. Accepts NULL. */
void tm_http_request_destroy(struct tm_http_request *req);

/* Sets a header, replacing one of the same name (case-insensitive); a NULL value removes it. */
TM_MUST_CHECK int tm_http_request_set_header(struct tm_http_request *req, const char *name, const char *value);
/* Copies the body. */
TM_MUST_CHECK int tm_http_request_set_body(struct tm_http_request *req, const void *data, size_t len);
TM_MUST_CHECK int tm_http_request_set_url(struct tm_http_request *req, const char *url);
/* The service (per-service concurrency and counters, e.g. "s3") and operation key (rate limits, e.g.
 * "s3:us-east-1:GetBucketPolicy"). Both default to "" (one anonymous service and key). */
TM_MUST_CHECK int tm_http_request_set_key(struct tm_http_request *req, const char *service, const char *op_key);
void tm_http_request_set_hooks(struct tm_http_request *req, tm_http_prepare_fn prepare, tm_http_classify_fn classify,
                               void *hook_data);
/* Queue classes, highest first (see "Order" above). The default is NORMAL. */
#define TM_HTTP_PRIORITY_LOW 0
#define TM_HTTP_PRIORITY_NORMAL 1
#define TM_HTTP_PRIORITY_HIGH 2
#define TM_HTTP_PRIORITY_HIGHEST 3
/* Sets the priority before submit (clamped to LOW..HIGHEST; ignored once submitted). */
void tm_http_request_set_priority(struct tm_http_request *req, int priority);
int tm_http_request_priority(const struct tm_http_request *req);
/* Overrides the engine's per-attempt timeout (from the slot, as timeout_ms) / attempt cap for this request
 * (0 keeps the default). */
void tm_http_request_set_timeout_ms(struct tm_http_request *req, long timeout_ms);
void tm_http_request_set_max_attempts(struct tm_http_request *req, unsigned max_attempts);

const char *tm_http_request_method(const struct tm_http_request *req);
const char *tm_http_request_url(const struct tm_http_request *req);
const char *tm_http_request_service(const struct tm_http_request *req);
const char *tm_http_request_op_key(const struct tm_http_request *req);
/* Case-insensitive; NULL when absent. */
const char *tm_http_request_header(const struct tm_http_request *req, const char *name);
size_t tm_http_request_header_count(const struct tm_http_request *req);
/* The i-th header (in the order set). */
struct tm_http_header tm_http_request_header_at(const struct tm_http_request *req, size_t i);
const void *tm_http_request_body(const struct tm_http_request *req, size_t *len);

/* Queues a request; the engine takes it over in every case. On TM_OK, done runs exactly once, later
 * (never inside this call). On error (TM_ERR_NOMEM, TM_ERR_STATE after destroy, TM_ERR_INVALID for
 * NULL arguments) the request is freed and done never runs. A URL the engine refuses (plain http to a
 * non-loopback host, another scheme) is reported through done with TM_ERR_INVALID and nothing sent. */
TM_MUST_CHECK int tm_http_submit(struct tm_http_engine *engine, struct tm_http_request *req, tm_http_done_fn done,
                                 void *user_data);

/* --- Helpers shared with callers and tests ------------------------------------------------------------ */

/* Parses a Retry-After value: delta-seconds or an HTTP date (compared with now_unix). Returns TM_OK and
 * the delay in ms (0 for a date in the past), or TM_ERR_PARSE. */
TM_MUST_CHECK int tm_http_parse_retry_after(uint64_t *out_ms, const char *value, int64_t now_unix);

/* Whether a URL may be fetched: https:// to anywhere, http:// only to loopback and the AWS metadata
 * addresses. On refusal, errmsg says why. */
TM_MUST_CHECK int tm_http_check_url(const char *url, char *errmsg, size_t errmsg_len);
bool tm_http_host_is_loopback(const char *host);
/* 169.254.169.254, 169.254.170.2, 169.254.170.23, [fd00:ec2::254], [fd00:ec2::23] (as curl writes hosts). */
bool tm_http_host_is_aws_metadata(const char *host);

#endif
