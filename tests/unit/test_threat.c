/* The threat-model internals (analyzers/threat_int.h): jewels sorted by node whatever their number and order, and
 * the severity model's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyzers/threat_int.h"

static int s_cmp_node(const void *a, const void *b) {
    uint32_t x = ((const struct tm__threat_jewel *)a)->node, y = ((const struct tm__threat_jewel *)b)->node;
    return x < y ? -1 : x > y;
}

/* A permutation of n distinct nodes spread over `bits` bits, each jewel carrying its other fields along. */
static void s_fill(struct tm__threat_jewel *j, size_t n, unsigned bits, uint32_t seed) {
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t hi = bits > 16 ? (uint32_t)(x >> 40) & ((1u << (bits - 16)) - 1) : 0;
        /* Distinct: the low 16 bits are the index. */
        j[i] = (struct tm__threat_jewel){
            (hi << 16) | (uint32_t)i, (uint32_t)(x >> 8), (uint32_t)i, (x & 1) != 0, (x & 2) != 0, (x & 4) != 0};
    }
    for (size_t i = n; i > 1; i--) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t k = (size_t)(x >> 33) % i;
        struct tm__threat_jewel t = j[i - 1];
        j[i - 1] = j[k];
        j[k] = t;
    }
}

static void s_check(size_t n, unsigned bits, uint32_t seed) {
    struct tm__threat_jewel *j = calloc(n ? n : 1, sizeof(*j)), *want = calloc(n ? n : 1, sizeof(*want));
    struct tm__threat_jewel *tmp = calloc(n ? n : 1, sizeof(*tmp));
    assert_non_null(j);
    assert_non_null(want);
    assert_non_null(tmp);
    s_fill(j, n, bits, seed);
    memcpy(want, j, n * sizeof(*j));
    qsort(want, n, sizeof(*want), s_cmp_node);
    tm__threat_sort_jewels(j, tmp, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(j[i].node, want[i].node);
        assert_int_equal(j[i].edge, want[i].edge);
        assert_int_equal(j[i].from, want[i].from);
        assert_int_equal(j[i].read, want[i].read);
        assert_int_equal(j[i].write, want[i].write);
        assert_int_equal(j[i].unknown, want[i].unknown);
    }
    free(j);
    free(want);
    free(tmp);
}

/* Small lists sort in place, large ones by node bytes (one to four of them differing), each the order qsort gives. */
static void test_sort_jewels(void **state) {
    (void)state;
    s_check(0, 8, 1);
    s_check(1, 8, 2);
    s_check(2, 8, 3);
    s_check(32, 16, 4);
    s_check(33, 16, 5);
    s_check(200, 8, 6);     /* nodes below 256: one byte differs */
    s_check(5000, 16, 7);   /* two bytes */
    s_check(5000, 24, 8);   /* three */
    s_check(20000, 32, 9);  /* all four */
    s_check(60000, 17, 10); /* the shape of a 100,000-resource account */
}

/* Already in order, and in reverse. */
static void test_sort_jewels_ordered(void **state) {
    (void)state;
    size_t n = 1000;
    struct tm__threat_jewel *j = calloc(n, sizeof(*j)), *tmp = calloc(n, sizeof(*tmp));
    assert_non_null(j);
    assert_non_null(tmp);
    for (size_t i = 0; i < n; i++)
        j[i].node = (uint32_t)(i * 977);
    tm__threat_sort_jewels(j, tmp, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(j[i].node, i * 977);
    for (size_t i = 0; i < n; i++)
        j[i].node = (uint32_t)((n - i) * 977);
    tm__threat_sort_jewels(j, tmp, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(j[i].node, (i + 1) * 977);
    free(j);
    free(tmp);
}

static void test_severity(void **state) {
    (void)state;
    assert_int_equal(tm__threat_severity(TM__LIKELY_INTERNET, TM__IMPACT_ADMIN, false), TM_SEV_CRITICAL);
    assert_int_equal(tm__threat_severity(TM__LIKELY_INTERNET, TM__IMPACT_ADMIN, true), TM_SEV_HIGH);
    assert_int_equal(tm__threat_severity(TM__LIKELY_INSIDE, TM__IMPACT_METADATA, false), TM_SEV_INFO);
    assert_int_equal(tm__threat_severity(TM__LIKELY_INSIDE, TM__IMPACT_METADATA, true), TM_SEV_INFO);
    assert_int_equal(tm__threat_severity(TM__LIKELY_EXTERNAL, TM__IMPACT_DATA, false), TM_SEV_MEDIUM);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_jewels),
        cmocka_unit_test(test_sort_jewels_ordered),
        cmocka_unit_test(test_severity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
