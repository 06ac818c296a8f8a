/* Token bucket and adaptive limiter on a logical clock: no wall time anywhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/net/ratelimit.h"

static void test_bucket_starts_full_then_paces(void **state) {
    (void)state;
    struct tm_rate_bucket b;
    tm_rate_bucket_init(&b, 10, 3, 1000);
    for (int i = 0; i < 3; i++)
        assert_true(tm_rate_bucket_try_take(&b, 1000));
    assert_false(tm_rate_bucket_try_take(&b, 1000));
    /* A token is due at 1100; it may be taken one millisecond of refill early. */
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 1000), 99);
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 1040), 59);
    assert_false(tm_rate_bucket_try_take(&b, 1098));
    assert_true(tm_rate_bucket_try_take(&b, 1099));
    /* ... and the early millisecond is owed: the next is due at 1200, not 1199. */
    assert_false(tm_rate_bucket_try_take(&b, 1198));
    assert_true(tm_rate_bucket_try_take(&b, 1199));
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 1199), 100);
    /* Idle time never banks more than the burst. */
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 100000), 0);
    for (int i = 0; i < 3; i++)
        assert_true(tm_rate_bucket_try_take(&b, 100000));
    assert_false(tm_rate_bucket_try_take(&b, 100000));
}

static void test_bucket_counts_over_a_minute(void **state) {
    (void)state;
    struct tm_rate_bucket b;
    tm_rate_bucket_init(&b, 7.5, 1, 0);
    unsigned taken = 0;
    for (uint64_t t = 0; t <= 60000; t++)
        while (tm_rate_bucket_try_take(&b, t))
            taken++;
    /* One up front, then exactly 7.5 per second for 60 s, although tokens fall due between milliseconds. */
    assert_int_equal(taken, 451);
    tm_rate_bucket_init(&b, 300, 1, 0);
    taken = 0;
    for (uint64_t t = 0; t <= 10000; t++)
        while (tm_rate_bucket_try_take(&b, t))
            taken++;
    assert_int_equal(taken, 3001);
}

static void test_bucket_fractional_and_unlimited(void **state) {
    (void)state;
    struct tm_rate_bucket b;
    tm_rate_bucket_init(&b, 0.5, 0, 0); /* burst raised to 1 */
    assert_true(tm_rate_bucket_try_take(&b, 0));
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 0), 1999);
    tm_rate_bucket_init(&b, 0, 1, 0);
    assert_true(tm_rate_bucket_unlimited(&b));
    for (int i = 0; i < 100000; i++)
        assert_true(tm_rate_bucket_try_take(&b, 0));
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 0), 0);
    /* A clock that goes backwards earns nothing and breaks nothing. */
    tm_rate_bucket_init(&b, 10, 1, 5000);
    assert_true(tm_rate_bucket_try_take(&b, 5000));
    assert_false(tm_rate_bucket_try_take(&b, 4000));
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 4000), 99);
}

static void test_bucket_set_rate_keeps_earned_tokens(void **state) {
    (void)state;
    struct tm_rate_bucket b;
    tm_rate_bucket_init(&b, 10, 10, 0);
    for (int i = 0; i < 10; i++)
        assert_true(tm_rate_bucket_try_take(&b, 0));
    tm_rate_bucket_set_rate(&b, 10, 10, 500); /* earned 5 */
    tm_rate_bucket_set_rate(&b, 1, 2, 500);   /* clamped to the new burst */
    assert_true(tm_rate_bucket_try_take(&b, 500));
    assert_true(tm_rate_bucket_try_take(&b, 500));
    assert_false(tm_rate_bucket_try_take(&b, 500));
    assert_int_equal(tm_rate_bucket_wait_ms(&b, 500), 999);
}

static void test_adaptive_starts_unlimited_and_cuts_on_throttle(void **state) {
    (void)state;
    struct tm_rate_adaptive_params p;
    tm_rate_adaptive_params_init(&p);
    struct tm_rate_adaptive a;
    tm_rate_adaptive_init(&a, &p, 0, 0);
    assert_true(tm_rate_adaptive_rate(&a) == 0);
    assert_int_equal(a.window, 4); /* slow start */
    /* 100 sent within the first second, 40 accepted. */
    for (int i = 0; i < 100; i++)
        tm_rate_adaptive_on_sent(&a, 10);
    for (int i = 0; i < 40; i++)
        assert_false(tm_rate_adaptive_on_success(&a, &p, 20));
    assert_int_equal(a.window, 10);
    assert_true(tm_rate_adaptive_on_throttle(&a, &p, 30, 10));
    assert_int_equal(a.window, 0); /* the rate takes over */
    /* 0.7 x what the service accepted: 40 in the first 30 ms, counted over half a second (80/s). */
    assert_true(fabs(tm_rate_adaptive_rate(&a) - 56.0) < 1e-9);
    /* More throttles for requests sent before the cut: no news, no further cut. */
    for (int i = 0; i < 50; i++)
        assert_false(tm_rate_adaptive_on_throttle(&a, &p, 40 + (uint64_t)i, 29));
    assert_true(fabs(tm_rate_adaptive_rate(&a) - 56.0) < 1e-9);
    assert_int_equal(a.throttles, 51);
    assert_int_equal(a.decreases, 1);
    /* A throttle for a request sent at the new rate cuts again. */
    assert_true(tm_rate_adaptive_on_throttle(&a, &p, 100, 30));
    assert_true(tm_rate_adaptive_rate(&a) < 56.0);
    assert_int_equal(a.decreases, 2);
}

static void test_adaptive_floor_and_ceiling(void **state) {
    (void)state;
    struct tm_rate_adaptive_params p;
    tm_rate_adaptive_params_init(&p);
    struct tm_rate_adaptive a;
    tm_rate_adaptive_init(&a, &p, 5, 0);
    assert_true(tm_rate_adaptive_rate(&a) == 5); /* the configured ceiling until a throttle */
    uint64_t t = 0;
    for (int i = 0; i < 40; i++) {
        t += 1000;
        tm_rate_adaptive_on_throttle(&a, &p, t, t);
    }
    assert_true(fabs(tm_rate_adaptive_rate(&a) - p.min_rate_per_s) < 1e-9);
    /* Recovery never passes the ceiling, however long it runs. */
    for (int i = 0; i < 100000; i++) {
        t += 10;
        tm_rate_adaptive_on_sent(&a, t);
        tm_rate_adaptive_on_success(&a, &p, t);
    }
    assert_true(tm_rate_adaptive_rate(&a) <= 5.0 + 1e-9);
    assert_true(tm_rate_adaptive_rate(&a) > 4.9);
}

static void test_adaptive_recovers_then_probes(void **state) {
    (void)state;
    struct tm_rate_adaptive_params p;
    tm_rate_adaptive_params_init(&p);
    struct tm_rate_adaptive a;
    tm_rate_adaptive_init(&a, &p, 0, 0);
    /* 50/s accepted for a second, then a throttle: 35/s, and 50/s is the last known limit. */
    for (int i = 0; i < 50; i++) {
        tm_rate_adaptive_on_sent(&a, (uint64_t)i * 20);
        tm_rate_adaptive_on_success(&a, &p, (uint64_t)i * 20 + 5);
    }
    assert_true(tm_rate_adaptive_on_throttle(&a, &p, 1000, 990));
    assert_true(fabs(tm_rate_adaptive_rate(&a) - 35.0) < 1e-9);
    assert_true(fabs(a.last_limit_per_s - 50.0) < 1e-9);
    /* Below the limit: linear, 10% of the limit per second (5/s per s). */
    uint64_t t = 1000;
    for (int i = 0; i < 100; i++) {
        t += 10;
        tm_rate_adaptive_on_sent(&a, t);
        tm_rate_adaptive_on_success(&a, &p, t);
    }
    assert_true(fabs(tm_rate_adaptive_rate(&a) - 40.0) < 0.01);
    for (int i = 0; i < 200; i++) {
        t += 10;
        tm_rate_adaptive_on_sent(&a, t);
        tm_rate_adaptive_on_success(&a, &p, t);
    }
    double at_limit = tm_rate_adaptive_rate(&a);
    assert_true(at_limit > 49.99 && at_limit < 50.5);
    /* Above it: 5% of the rate per second, a gentler probe. */
    for (int i = 0; i < 100; i++) {
        t += 10;
        tm_rate_adaptive_on_sent(&a, t);
        tm_rate_adaptive_on_success(&a, &p, t);
    }
    double probed = tm_rate_adaptive_rate(&a);
    assert_true(probed > at_limit * 1.04 && probed < at_limit * 1.06);
}

static void test_adaptive_slow_start_window(void **state) {
    (void)state;
    struct tm_rate_adaptive_params p;
    tm_rate_adaptive_params_init(&p);
    struct tm_rate_adaptive a;
    tm_rate_adaptive_init(&a, &p, 0, 0);
    assert_int_equal(a.window, 4);
    /* One more per round trip: a window's worth of successes. */
    for (unsigned i = 0; i < 3; i++)
        tm_rate_adaptive_on_success(&a, &p, i);
    assert_int_equal(a.window, 4);
    tm_rate_adaptive_on_success(&a, &p, 4);
    assert_int_equal(a.window, 5);
    for (unsigned i = 0; i < 5; i++)
        tm_rate_adaptive_on_success(&a, &p, 10 + i);
    assert_int_equal(a.window, 6);
    /* Off for good at window_off_at, and never a rate on its own. */
    uint64_t t = 100;
    while (a.window)
        tm_rate_adaptive_on_success(&a, &p, t++);
    assert_true(t - 100 > 1000); /* ~ the sum of 6..63 */
    assert_true(tm_rate_adaptive_rate(&a) == 0);
}

/* A deterministic simulation on a logical clock: a service that enforces a token bucket (answering
 * throttles past it) and a client whose sends are gated by a bucket driven by the adaptive limiter and its
 * slow-start window, with unbounded demand, 32 requests in flight at most and 30 ms round trips. Returns
 * the share of throttled responses. */
static double s_simulate(double service_rate, double service_burst, double configured, uint64_t duration_ms,
                         unsigned *sent_out, double *used_out) {
    enum { LAT = 30, MAXQ = 4096 };
    struct tm_rate_adaptive_params p;
    tm_rate_adaptive_params_init(&p);
    struct tm_rate_adaptive a;
    tm_rate_adaptive_init(&a, &p, configured, 0);
    struct tm_rate_bucket client, service;
    tm_rate_bucket_init(&client, configured, configured > 0 ? fmax(1, configured / 10) : 1, 0);
    tm_rate_bucket_init(&service, service_rate, service_burst, 0);
    uint64_t due[MAXQ], sent_at[MAXQ];
    bool throttled[MAXQ];
    unsigned head = 0, tail = 0, sent = 0, throttles = 0;
    for (uint64_t t = 0; t < duration_ms; t++) {
        while (head != tail && due[head % MAXQ] <= t) {
            bool thr = throttled[head % MAXQ];
            uint64_t at = sent_at[head % MAXQ];
            head++;
            bool changed = thr ? tm_rate_adaptive_on_throttle(&a, &p, t, at) : tm_rate_adaptive_on_success(&a, &p, t);
            if (changed) {
                double r = tm_rate_adaptive_rate(&a);
                tm_rate_bucket_set_rate(&client, r, fmax(1, r / 10), t);
            }
        }
        while (tail - head < 32 && (!a.window || tail - head < a.window) && tm_rate_bucket_try_take(&client, t)) {
            tm_rate_adaptive_on_sent(&a, t);
            /* The service decides on arrival, half a round trip later; close enough to decide now. */
            bool thr = !tm_rate_bucket_try_take(&service, t + LAT / 2);
            due[tail % MAXQ] = t + LAT;
            sent_at[tail % MAXQ] = t;
            throttled[tail % MAXQ] = thr;
            tail++;
            sent++;
            throttles += thr;
        }
    }
    *sent_out = sent;
    /* The share of the service's capacity (rate x time) that went to accepted requests. */
    *used_out = (double)(sent - throttles) / (service_rate * (double)duration_ms / 1000.0);
    return (double)throttles / (double)sent;
}

static void test_adaptive_keeps_throttles_under_five_percent(void **state) {
    (void)state;
    /* service rate, service burst, configured rate, duration; then the bounds on the result */
    const struct {
        double rate, burst, configured;
        uint64_t ms;
        double max_share, min_used;
    } cases[] = {
        {20, 20, 0, 300000, 0.05, 0.95},  /* no configured rate */
        {20, 20, 0, 20000, 0.05, 0.85},   /* ... over a short scan, start-up included */
        {10, 10, 50, 300000, 0.05, 0.95}, /* configured 5x too high */
        {10, 10, 10, 300000, 0.0, 0.99},  /* configured right: never throttled */
        {2, 5, 0, 600000, 0.05, 0.90},    /* a low limit */
        {1, 1, 0, 600000, 0.05, 0.60},    /* the lowest: slow to climb, by design */
        {50, 50, 0, 300000, 0.05, 0.95},
        {200, 100, 0, 120000, 0.05, 0.90}, /* a fast one, found from a poor first estimate */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned sent = 0;
        double used = 0;
        double share = s_simulate(cases[i].rate, cases[i].burst, cases[i].configured, cases[i].ms, &sent, &used);
        printf("# service %.0f/s burst %.0f, configured %.0f/s, %llu s: %u sent, %.2f%% throttled, %.1f%% of "
               "capacity used\n",
               cases[i].rate, cases[i].burst, cases[i].configured, (unsigned long long)(cases[i].ms / 1000), sent,
               share * 100, used * 100);
        assert_true(share <= cases[i].max_share);
        assert_true(used >= cases[i].min_used);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_starts_full_then_paces),
        cmocka_unit_test(test_bucket_counts_over_a_minute),
        cmocka_unit_test(test_bucket_fractional_and_unlimited),
        cmocka_unit_test(test_bucket_set_rate_keeps_earned_tokens),
        cmocka_unit_test(test_adaptive_starts_unlimited_and_cuts_on_throttle),
        cmocka_unit_test(test_adaptive_floor_and_ceiling),
        cmocka_unit_test(test_adaptive_recovers_then_probes),
        cmocka_unit_test(test_adaptive_slow_start_window),
        cmocka_unit_test(test_adaptive_keeps_throttles_under_five_percent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
