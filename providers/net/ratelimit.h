/* Rate limiting with logical time: a token bucket and an adaptive (AIMD) rate controller.
 *
 * Nothing here reads a clock: every function takes `now_ms` from the caller, so the engine drives them
 * with the loop's time and tests drive them with a logical clock. */
#ifndef TM_NET_RATELIMIT_H
#define TM_NET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

/* A token bucket: `rate_per_s` tokens per second up to `burst` tokens. A rate of 0 means unlimited:
 * every take succeeds and no time is ever waited. */
struct tm_rate_bucket {
    double rate_per_s;
    double burst;
    double tokens;
    uint64_t last_ms;
};

/* Starts full. burst < 1 is raised to 1 (a bucket that can never hold a whole token would stall). */
void tm_rate_bucket_init(struct tm_rate_bucket *bucket, double rate_per_s, double burst, uint64_t now_ms);
/* Changes rate and capacity, keeping the tokens already earned (clamped to the new capacity). */
void tm_rate_bucket_set_rate(struct tm_rate_bucket *bucket, double rate_per_s, double burst, uint64_t now_ms);
bool tm_rate_bucket_unlimited(const struct tm_rate_bucket *bucket);
/* Milliseconds until one whole token is available; 0 when one is available now. */
uint64_t tm_rate_bucket_wait_ms(struct tm_rate_bucket *bucket, uint64_t now_ms);
/* Takes one token if available. */
bool tm_rate_bucket_try_take(struct tm_rate_bucket *bucket, uint64_t now_ms);

/* Tuning of the adaptive controller; tm_rate_adaptive_params_init gives the defaults.
 *
 * A throttle cuts the rate to decrease_factor x the rate the service was accepting (multiplicative decrease),
 * but only for a request sent after the previous cut: responses to requests sent at the old rate carry no
 * news (TCP's once-per-window rule). Successes then raise it linearly back to that accepted rate
 * (recover_fraction of it per second), and beyond it more carefully (probe_fraction of the current rate per
 * second) to find out whether the service allows more. At low rates that probe is held to
 * rate^2 / min_cycle_requests per second, so that it spans enough requests that the one or two throttles
 * which end it stay a small share of them.
 *
 * Before the first throttle, a key also starts slowly (TCP's slow start, on requests in flight): at most
 * initial_window requests in flight, one more per success, until window_off_at; so an unknown limit is
 * overshot by a few requests, not by every request the host's concurrency allows. A key with a configured
 * rate skips it (the engine sets window to 0): its bucket already keeps it under the known limit. */
struct tm_rate_adaptive_params {
    double decrease_factor;    /* 0.7 */
    double recover_fraction;   /* 0.1: back to the last accepted rate in about 3 s */
    double probe_fraction;     /* 0.05 */
    double min_cycle_requests; /* 200 */
    double min_rate_per_s;     /* never below: 0.5 */
    unsigned initial_window;   /* 4 (0: no slow start) */
    unsigned window_off_at;    /* 64 */
};

void tm_rate_adaptive_params_init(struct tm_rate_adaptive_params *params);

/* The adaptive rate of one operation key. It starts not limiting (rate 0) unless a ceiling is
 * configured; the first throttle sets a rate from what the service actually accepted. */
struct tm_rate_adaptive {
    double ceiling_per_s;    /* configured maximum, 0 = none */
    double rate_per_s;       /* current rate, 0 = not limiting yet */
    double last_limit_per_s; /* the accepted rate measured at the last cut */
    uint64_t last_decrease_ms;
    uint64_t last_update_ms;
    bool decreased_once;
    /* Sliding one-second window counters of requests sent and of responses accepted (not throttled). */
    uint64_t created_ms;
    uint64_t window_start_ms;
    double sent_cur, sent_prev;
    double accepted_cur, accepted_prev;
    unsigned window; /* slow start: most requests in flight, 0 = no limit */
    double window_growth;
    unsigned throttles; /* throttles seen */
    unsigned decreases; /* throttles that cut the rate */
};

void tm_rate_adaptive_init(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                           double ceiling_per_s, uint64_t now_ms);
void tm_rate_adaptive_on_sent(struct tm_rate_adaptive *adaptive, uint64_t now_ms);
/* A response that was not a throttle. Returns true when the rate changed. */
bool tm_rate_adaptive_on_success(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                                 uint64_t now_ms);
/* A throttle for a request sent at sent_ms. Returns true when the rate changed. */
bool tm_rate_adaptive_on_throttle(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                                  uint64_t now_ms, uint64_t sent_ms);
/* The rate to enforce: the adaptive rate once set, else the ceiling; 0 = unlimited. */
double tm_rate_adaptive_rate(const struct tm_rate_adaptive *adaptive);
/* Estimates over the last second (sliding window), in requests per second. */
double tm_rate_adaptive_sent_rate(struct tm_rate_adaptive *adaptive, uint64_t now_ms);
double tm_rate_adaptive_accepted_rate(struct tm_rate_adaptive *adaptive, uint64_t now_ms);

#endif
