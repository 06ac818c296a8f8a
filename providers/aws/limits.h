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

/* The bucket tmscan keeps for a service bucket of this size: one token smaller (at least 1), so that
 * calls arriving a little early do not find the service's bucket empty. */
double tm__aws_client_burst(double service_burst);

/* Sets the rate of every operation of the table in one region, as exact keys (replacing rules already
 * set on the same keys); grouped operations share the group's bucket in that region. */
TM_MUST_CHECK int tm__aws_limits_seed(struct tm_http_engine *engine, const char *region);

/* A rate the user gives for one operation (`tmscan scan --rate-limit SERVICE:OPERATION=RPS[:BURST]`): it
 * replaces the published rate in every region, and takes the operation out of any budget it shares with
 * others. SERVICE is botocore's name or the endpoint prefix ("apigateway" also names apigatewayv2's
 * operations, as AWS's own quota pages do); each SERVICE:OPERATION given is one budget per region, shared
 * by every API it names. */
struct tm__aws_rate {
    char service[64];
    char operation[128];
    double rate_per_s;
    double burst; /* max(1, rate) when not given: one second's worth, as AWS's buckets hold */
};

/* Parses SERVICE:OPERATION=RPS[:BURST]. TM_ERR_INVALID with errmsg for a malformed one or an unknown
 * service; the operation is not checked (an operation the scan never calls is paced, never used). */
TM_MUST_CHECK int tm__aws_rate_parse(struct tm__aws_rate *out, const char *spec, char *errmsg, size_t errmsg_len);

/* Sets the rates in one region, after tm__aws_limits_seed (they win over the table's). */
TM_MUST_CHECK int tm__aws_rates_apply(struct tm_http_engine *engine, const struct tm__aws_rate *rates, size_t count,
                                      const char *region);

#endif
