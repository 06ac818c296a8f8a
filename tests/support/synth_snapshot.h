/* A deterministic synthetic AWS account for scale tests: n resources in the proportions of a real account
 * (roles and their policies, users with keys, buckets, functions with policies and URLs, API methods, queues,
 * topics, instances with security groups, keys, secrets), a realistic share of them public or shared with
 * another account. The same n and seed give the same snapshot. */
#ifndef TM_TESTS_SUPPORT_SYNTH_SNAPSHOT_H
#define TM_TESTS_SUPPORT_SYNTH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/snapshot.h"

struct tm_synth_counts {
    size_t roles, users, buckets, functions, methods, queues, topics, instances, groups_sg, keys, secrets;
    size_t public_buckets, public_functions, open_instances, cross_account_roles;
};

TM_MUST_CHECK int tm_test_synth_snapshot(struct tm_snapshot **out, size_t n_resources, uint64_t seed,
                                         struct tm_synth_counts *counts);

#endif
