#include "providers/net/ratelimit.h"

#include <math.h>

#define S_WINDOW_MS 1000u

/* Callers look at the bucket at whole milliseconds, so a token due at 133.3 ms is taken at 134 ms. Capping a
 * full bucket at `burst` would throw that fraction away on every token and pace below the rate (7.46/s for
 * 7.5/s; 9% slow at 100/s). Instead a token may be taken up to one millisecond of refill early, and the
 * bucket keeps the small debt, so the long-run rate is exact. */
static double s_slack(const struct tm_rate_bucket *bucket) {
    return bucket->rate_per_s / 1000.0 + 1e-9;
}

static void s_refill(struct tm_rate_bucket *bucket, uint64_t now_ms) {
    if (now_ms <= bucket->last_ms)
        return;
    double earned = (double)(now_ms - bucket->last_ms) * bucket->rate_per_s / 1000.0;
    bucket->tokens = fmin(bucket->burst, bucket->tokens + earned);
    bucket->last_ms = now_ms;
}

void tm_rate_bucket_init(struct tm_rate_bucket *bucket, double rate_per_s, double burst, uint64_t now_ms) {
    bucket->rate_per_s = rate_per_s > 0 ? rate_per_s : 0;
    bucket->burst = burst >= 1 ? burst : 1;
    bucket->tokens = bucket->burst;
    bucket->last_ms = now_ms;
}

void tm_rate_bucket_set_rate(struct tm_rate_bucket *bucket, double rate_per_s, double burst, uint64_t now_ms) {
    if (!tm_rate_bucket_unlimited(bucket))
        s_refill(bucket, now_ms);
    else
        bucket->last_ms = now_ms;
    bucket->rate_per_s = rate_per_s > 0 ? rate_per_s : 0;
    bucket->burst = burst >= 1 ? burst : 1;
    if (bucket->tokens > bucket->burst)
        bucket->tokens = bucket->burst;
}

bool tm_rate_bucket_unlimited(const struct tm_rate_bucket *bucket) {
    return bucket->rate_per_s <= 0;
}

uint64_t tm_rate_bucket_wait_ms(struct tm_rate_bucket *bucket, uint64_t now_ms) {
    if (tm_rate_bucket_unlimited(bucket))
        return 0;
    s_refill(bucket, now_ms);
    double need = 1.0 - s_slack(bucket) - bucket->tokens;
    if (need <= 0)
        return 0;
    double ms = ceil(need * 1000.0 / bucket->rate_per_s);
    return ms < 1 ? 1 : (uint64_t)ms;
}

bool tm_rate_bucket_try_take(struct tm_rate_bucket *bucket, uint64_t now_ms) {
    if (tm_rate_bucket_unlimited(bucket))
        return true;
    if (tm_rate_bucket_wait_ms(bucket, now_ms) != 0)
        return false;
    bucket->tokens -= 1.0;
    return true;
}

void tm_rate_adaptive_params_init(struct tm_rate_adaptive_params *params) {
    params->decrease_factor = 0.7;
    params->recover_fraction = 0.1;
    params->probe_fraction = 0.05;
    params->min_cycle_requests = 200;
    params->min_rate_per_s = 0.5;
    params->initial_window = 4;
    params->window_off_at = 64;
}

void tm_rate_adaptive_init(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                           double ceiling_per_s, uint64_t now_ms) {
    *adaptive = (struct tm_rate_adaptive){0};
    adaptive->window = params->initial_window;
    adaptive->ceiling_per_s = ceiling_per_s > 0 ? ceiling_per_s : 0;
    adaptive->window_start_ms = now_ms;
    adaptive->created_ms = now_ms;
    adaptive->last_update_ms = now_ms;
}

static void s_advance(struct tm_rate_adaptive *adaptive, uint64_t now_ms) {
    if (now_ms < adaptive->window_start_ms + S_WINDOW_MS)
        return;
    uint64_t windows = (now_ms - adaptive->window_start_ms) / S_WINDOW_MS;
    if (windows == 1) {
        adaptive->sent_prev = adaptive->sent_cur;
        adaptive->accepted_prev = adaptive->accepted_cur;
    } else {
        adaptive->sent_prev = 0;
        adaptive->accepted_prev = 0;
    }
    adaptive->sent_cur = 0;
    adaptive->accepted_cur = 0;
    adaptive->window_start_ms += windows * S_WINDOW_MS;
}

/* The sliding-window estimate: the previous window weighted by how much of it still overlaps the
 * last second, plus the current window. */
static double s_estimate(const struct tm_rate_adaptive *adaptive, double prev, double cur, uint64_t now_ms) {
    /* In the first second there is less than a second of history: dividing by a whole second would take a
     * service that accepted 20 requests in 200 ms for one that accepts 20 a second. Dividing by less than
     * half a second would take a burst for a rate. */
    uint64_t age = now_ms > adaptive->created_ms ? now_ms - adaptive->created_ms : 0;
    if (age < S_WINDOW_MS)
        return (prev + cur) * 1000.0 / (double)(age < 500 ? 500 : age);
    double into = now_ms > adaptive->window_start_ms ? (double)(now_ms - adaptive->window_start_ms) : 0.0;
    double weight = 1.0 - into / (double)S_WINDOW_MS;
    if (weight < 0)
        weight = 0;
    return prev * weight + cur;
}

double tm_rate_adaptive_sent_rate(struct tm_rate_adaptive *adaptive, uint64_t now_ms) {
    s_advance(adaptive, now_ms);
    return s_estimate(adaptive, adaptive->sent_prev, adaptive->sent_cur, now_ms);
}

double tm_rate_adaptive_accepted_rate(struct tm_rate_adaptive *adaptive, uint64_t now_ms) {
    s_advance(adaptive, now_ms);
    return s_estimate(adaptive, adaptive->accepted_prev, adaptive->accepted_cur, now_ms);
}

void tm_rate_adaptive_on_sent(struct tm_rate_adaptive *adaptive, uint64_t now_ms) {
    s_advance(adaptive, now_ms);
    adaptive->sent_cur += 1;
}

bool tm_rate_adaptive_on_success(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                                 uint64_t now_ms) {
    s_advance(adaptive, now_ms);
    adaptive->accepted_cur += 1;
    if (adaptive->window) {
        /* One more request in flight per round trip (a whole window of successes), not per success: doubling
         * every round trip would have a window as large as the service's burst in flight, all of it
         * throttled, by the time the burst runs out. */
        adaptive->window_growth += 1.0 / adaptive->window;
        if (adaptive->window_growth >= 1.0) {
            adaptive->window_growth -= 1.0;
            if (++adaptive->window >= params->window_off_at)
                adaptive->window = 0;
        }
    }
    if (adaptive->rate_per_s <= 0)
        return false;
    if (now_ms <= adaptive->last_update_ms)
        return false;
    double elapsed_s = (double)(now_ms - adaptive->last_update_ms) / 1000.0;
    adaptive->last_update_ms = now_ms;
    double rate = adaptive->rate_per_s;
    double step;
    if (rate < adaptive->last_limit_per_s) {
        step = params->recover_fraction * adaptive->last_limit_per_s;
    } else {
        step = params->probe_fraction * rate;
        double slow = rate * rate / params->min_cycle_requests;
        if (step > slow)
            step = slow;
    }
    double next = rate + step * elapsed_s;
    /* Growing far past what is actually being sent would only bank a burst for later; stop at twice
     * the measured send rate (the rule the AWS SDKs' adaptive mode uses). */
    double cap = 2.0 * tm_rate_adaptive_sent_rate(adaptive, now_ms);
    if (cap < rate)
        cap = rate;
    if (next > cap)
        next = cap;
    if (adaptive->ceiling_per_s > 0 && next > adaptive->ceiling_per_s)
        next = adaptive->ceiling_per_s;
    if (next == rate)
        return false;
    adaptive->rate_per_s = next;
    return true;
}

bool tm_rate_adaptive_on_throttle(struct tm_rate_adaptive *adaptive, const struct tm_rate_adaptive_params *params,
                                  uint64_t now_ms, uint64_t sent_ms) {
    s_advance(adaptive, now_ms);
    adaptive->throttles++;
    adaptive->window = 0; /* the rate takes over */
    /* Sent before the last cut: it says nothing about the current rate. */
    if (adaptive->decreased_once && sent_ms < adaptive->last_decrease_ms)
        return false;
    double current = tm_rate_adaptive_rate(adaptive);
    if (current <= 0)
        current = INFINITY;
    /* What the service accepted over the last second is the best estimate of its limit; without any
     * accepted response, what was sent is an upper bound of it. */
    double measured = tm_rate_adaptive_accepted_rate(adaptive, now_ms);
    if (measured <= 0)
        measured = tm_rate_adaptive_sent_rate(adaptive, now_ms);
    if (measured <= 0)
        measured = INFINITY;
    double base = fmin(current, measured);
    if (!isfinite(base))
        base = fmax(1.0, params->min_rate_per_s);
    double next = base * params->decrease_factor;
    if (next < params->min_rate_per_s)
        next = params->min_rate_per_s;
    if (adaptive->ceiling_per_s > 0 && next > adaptive->ceiling_per_s)
        next = adaptive->ceiling_per_s;
    adaptive->last_limit_per_s = base;
    adaptive->rate_per_s = next;
    adaptive->last_decrease_ms = now_ms;
    adaptive->last_update_ms = now_ms;
    adaptive->decreased_once = true;
    adaptive->decreases++;
    return true;
}

double tm_rate_adaptive_rate(const struct tm_rate_adaptive *adaptive) {
    return adaptive->rate_per_s > 0 ? adaptive->rate_per_s : adaptive->ceiling_per_s;
}
