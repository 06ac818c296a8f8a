/* The interface every cloud provider implements (in the manner of curl's TLS backends: a table of
 * functions, one row per provider in providers/provider.c).
 *
 * The CLI creates one libuv loop and one snapshot, then: init (configuration and options, no I/O),
 * start (credentials and the first requests are queued on the loop), runs the loop until it is dry,
 * finish (did the scan reach its end?), destroy. The provider writes what it sees into the snapshot as
 * responses arrive: the snapshot is the sink for resources and for the errors of failed calls. A
 * provider records facts; it never judges them. */
#ifndef TM_PROVIDERS_PROVIDER_H
#define TM_PROVIDERS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/error.h"
#include "core/log.h"
#include "core/snapshot.h"

struct tm_provider_options {
    struct tm_log *log;         /* may be NULL */
    const char *profile;        /* credentials profile (AWS: --profile), NULL for the default chain */
    const char *region;         /* home region for global and discovery calls; NULL: from the environment */
    const char *const *regions; /* regions to scan; NULL: every enabled region */
    size_t region_count;
    const char *const *services; /* services to scan; NULL: all the provider knows */
    size_t service_count;
    int concurrency;        /* requests in flight at most; 0: the provider's default */
    double max_rps;         /* requests per second over the whole scan; 0: no cap beyond the services' */
    const char *ca_bundle;  /* PEM file of trusted CAs; NULL: the system's (or the environment's) */
    const char *record_dir; /* write every response received as a fixture scenario there; NULL: no */
    /* Per-operation rates over the provider's own (AWS: "SERVICE:OPERATION=RPS[:BURST]"). */
    const char *const *rate_limits;
    size_t rate_limit_count;
};

struct tm_provider {
    const char *name; /* "aws" */
    /* Validates options and reads configuration; errmsg says what is wrong. No network. */
    int (*init)(void **state, const struct tm_provider_options *opts, char *errmsg, size_t errmsg_len);
    /* Queues the first requests on loop; everything seen goes into snap (not owned). */
    int (*start)(void *state, uv_loop_t *loop, struct tm_snapshot *snap, char *errmsg, size_t errmsg_len);
    /* After the loop ran dry: TM_OK when the scan reached its end (failed calls are in the snapshot's
     * errors), else the error that stopped it. */
    int (*finish)(void *state, char *errmsg, size_t errmsg_len);
    void (*destroy)(void *state);
};

/* The provider named, or NULL. */
const struct tm_provider *tm_provider_find(const char *name);
/* Every provider, NULL-terminated. */
const struct tm_provider *const *tm_providers(void);

#endif
