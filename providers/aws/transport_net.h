/* The scan's transport over the AWS request layer (providers/aws/request.h): each wire call becomes a
 * request in its service's protocol, signed per attempt with the credential chain's credentials,
 * retried, paced and ordered by the HTTP engine (calls keep the priority the scan gave them; each region's
 * operations are paced at AWS's published rates from the first call to that region). The transport owns that stack
 * (engine, credentials provider, client) and takes it down when the scan closes it, so the loop runs dry. */
#ifndef TM_PROVIDERS_AWS_TRANSPORT_NET_H
#define TM_PROVIDERS_AWS_TRANSPORT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "core/error.h"
#include "core/log.h"
#include "providers/auth/credentials.h"
#include "providers/auth/env.h"
#include "providers/aws/limits.h"
#include "providers/aws/transport.h"

struct tm__aws_net_options {
    const struct tm_env *env;            /* endpoint overrides (AWS_ENDPOINT_URL...) */
    const struct tm_aws_cred_plan *plan; /* where credentials come from (copied) */
    const char *ca_bundle;               /* NULL: the system's */
    double max_rps;                      /* 0: no global cap */
    unsigned max_in_flight;              /* calls in flight at most (per host at most 32); 0: the engine's default */
    bool published_rates;                /* pace each region's operations at AWS's published rates (limits.h) */
    const struct tm__aws_rate *rates;    /* the user's rates, over the published ones (copied) */
    size_t rate_count;
    struct tm_log *log;
};

struct tm__aws_net_transport;

/* Builds the HTTP engine on loop, the credentials provider and the request client. errmsg says what
 * failed. */
TM_MUST_CHECK int tm__aws_net_transport_new(struct tm__aws_net_transport **out, uv_loop_t *loop,
                                            const struct tm__aws_net_options *opts, char *errmsg, size_t errmsg_len);
struct tm_aws_transport *tm__aws_net_transport_base(struct tm__aws_net_transport *t);
/* Takes the stack down if close never did, and frees the transport once its handles have closed (the
 * caller runs the loop once more). Accepts NULL. Not from inside a callback of the transport. */
void tm__aws_net_transport_destroy(struct tm__aws_net_transport *t);

/* The code recorded for a request-layer failure that carries none (a transport error). */
const char *tm__aws_net_error_code(int err);

#endif
