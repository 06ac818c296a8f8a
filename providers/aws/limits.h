/* AWS's published request rates for the read calls a scan makes, as data with their sources.
 *
 * A scan seeds the HTTP engine with these rates before its first call to a region, so it paces itself
 * at the rate AWS allows from the start instead of learning each limit by being throttled; the
 * engine's adaptive limiter stays on top of them (it slows down on throttling, which an account with
 * lower quotas, or another client spending the same budget, still causes, and it never goes above
 * these rates). Operations without a published rate (IAM, STS, SQS, RDS, ECR, Organizations, ...) are
 * not listed: they are paced by throttling alone.
 *
 * The engine's operation keys are "<api>:<signing region>:<Operation>" (providers/aws/request.c), the
 * api being botocore's name ("lambda", "apigatewayv2"). Where AWS meters several operations as one
 * budget per account and region, a row names a group and its keys share one bucket per region
 * ("<group>:<region>"); rows of two APIs may name the same group. */
#ifndef TM_PROVIDERS_AWS_LIMITS_H
#define TM_PROVIDERS_AWS_LIMITS_H

#include <stddef.h>

#include "core/error.h"
#include "providers/net/http.h"

struct tm__aws_limit {
    const char *api;               /* botocore name: "lambda" */
    const char *const *operations; /* NULL-terminated */
    double rate_per_s;             /* tokens per second */
    double burst;                  /* bucket size */
    const char *group;             /* NULL: a bucket per operation; else the shared budget ("lambda-control-plane") */
    const char *source;            /* where AWS publishes it */
};

/* The table, ending with a row whose api is NULL. */
const struct tm__aws_limit *tm__aws_limits(void);

/* Sets the rate of every operation of the table in one region, as exact keys (replacing rules already
 * set on the same keys); grouped operations share the group's bucket in that region. */
TM_MUST_CHECK int tm__aws_limits_seed(struct tm_http_engine *engine, const char *region);

#endif
