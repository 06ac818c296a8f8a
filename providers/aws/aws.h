/* The AWS provider: one scan of one account.
 *
 * A scan finds out who it runs as (STS GetCallerIdentity), which regions are enabled (EC2
 * DescribeRegions), then starts every selected service: global ones once, regional ones once per region,
 * all on the one loop, with at most `concurrency` calls in flight. Calls wait in one queue per priority
 * (next pages of listings, then first pages, then per-resource calls; each first in, first out) until
 * the transport takes them (see `window`). Responses become resources in the
 * snapshot as they arrive; failed calls become entries of its `errors` and unknown facts. The scan does
 * not talk HTTP itself: it hands resolved calls to a transport (the AWS request layer over the async
 * HTTP engine in the CLI, a recorder around it for --record, a fake in tests).
 *
 * Everything runs on the loop thread. */
#ifndef TM_PROVIDERS_AWS_AWS_H
#define TM_PROVIDERS_AWS_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "providers/aws/service.h"
#include "providers/aws/transport.h"
#include "providers/provider.h"

/* ---- scan ---- */

struct tm_aws_scan_options {
    struct tm_log *log;         /* may be NULL */
    const char *home_region;    /* where STS and region discovery are called ("us-east-1") */
    const char *const *regions; /* regions to scan; NULL: every enabled region */
    size_t region_count;
    const char *const *services; /* service names to scan; NULL: all */
    size_t service_count;
    int concurrency; /* calls in flight at most; <= 0: TM_AWS_DEFAULT_CONCURRENCY */
    /* Calls handed to the transport at once; 0: `concurrency`, the scan queueing the rest itself. A
     * transport that limits and orders its calls (the HTTP engine: concurrency, per-operation rates,
     * priorities) gets a wide window instead, so that it sees the work waiting and picks the bottleneck's
     * calls first; the concurrency is then the transport's to enforce. */
    size_t window;
};

/* The window for a transport over the HTTP engine, per call it may have in flight: wide enough to hold
 * an account's backlog (8,192 calls at the default concurrency) so that the engine can order it, and
 * bounded so that a huge account does not build every request at once. (A call's timeout runs from its
 * slot, so the window's width costs no timeouts.) */
#define TM_AWS_ENGINE_WINDOW_PER_SLOT 256

#define TM_AWS_DEFAULT_CONCURRENCY 32

struct tm_aws_progress {
    size_t requests;   /* calls completed */
    size_t retries;    /* attempts beyond the first, over all calls */
    size_t errors;     /* calls recorded as failed */
    size_t units_done; /* (service, region) pairs finished */
    size_t units_total;
    size_t in_flight; /* calls handed to the transport and not yet answered (with a window, some of them
                         wait in the transport's own queue) */
    size_t queued;    /* calls waiting in the scan's queue */
};

/* Creates a scan writing into snap (not owned), sending through transport (not owned). Fails with
 * TM_ERR_INVALID and errmsg for an unknown service or a malformed region name. */
TM_MUST_CHECK int tm_aws_scan_new(struct tm_aws_scan **out, const struct tm_aws_scan_options *opts,
                                  struct tm_aws_transport *transport, struct tm_snapshot *snap, char *errmsg,
                                  size_t errmsg_len);
void tm_aws_scan_destroy(struct tm_aws_scan *scan);
/* Queues the first call. Run the loop until it is dry (the transport is closed when the scan ends). */
TM_MUST_CHECK int tm_aws_scan_start(struct tm_aws_scan *scan);
bool tm_aws_scan_finished(const struct tm_aws_scan *scan);
/* TM_OK when the scan ran to its end (possibly with recorded errors: see tm_snapshot_error_count), else
 * the error that stopped it, with errmsg. */
TM_MUST_CHECK int tm_aws_scan_status(const struct tm_aws_scan *scan, char *errmsg, size_t errmsg_len);
void tm_aws_scan_progress(const struct tm_aws_scan *scan, struct tm_aws_progress *out);

/* ---- service table ---- */

/* Every service row, NULL-terminated: the scanned services in table order, then the provider's own
 * pseudo-service "account" (STS GetCallerIdentity, EC2 DescribeRegions). For the IAM policy test and
 * `--services` help. */
const struct tm_aws_service *const *tm_aws_scan_services(void);
/* The service named, or NULL (the "account" row is not selectable). */
const struct tm_aws_service *tm_aws_scan_service_find(const char *name);

/* The partition of a region: "aws", "aws-cn" (cn-*), "aws-us-gov" (us-gov-*), "aws-iso" (us-iso-*),
 * "aws-iso-b" (us-isob-*). */
const char *tm_aws_scan_partition_of(const char *region);
/* True for a well-formed region name ("eu-west-1", "us-gov-west-1", "ap-southeast-4"). */
bool tm_aws_scan_region_valid(const char *region);

/* The provider row for providers/provider.c. */
extern const struct tm_provider tm_aws_provider;

#endif
