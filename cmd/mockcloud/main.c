/* mockcloud: a loopback server answering AWS APIs from fixtures, with reproducible fault injection. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/mockcloud/mock_int.h"
#include "cmd/mockcloud/mockcloud.h"
#include "core/str.h"

static const char s_usage[] =
    "usage: mockcloud --fixtures DIR [options]\n"
    "\n"
    "Answers AWS API calls on loopback from a fixture directory (fixtures/README.md) until SIGTERM or\n"
    "SIGINT. Signed requests are verified against the credentials in DIR/scenario.json.\n"
    "\n"
    "Options:\n"
    "  --fixtures DIR            scenario directory: scenario.json and *.http response files (required)\n"
    "  --host ADDR               loopback address to listen on: 127.0.0.1 (default) or ::1\n"
    "  --port N                  TCP port; 0 (default) picks a free one\n"
    "  --port-file FILE          write the bound port to FILE (atomically) once listening\n"
    "  --log FILE                append one JSON line per request (method, path, service, region,\n"
    "                            operation, access key id, fixture, status, fault)\n"
    "  --seed N                  seed for every random choice (default 0); same requests, same faults\n"
    "  --latency-ms N            delay every answer by N ms\n"
    "  --jitter-ms N             vary the delay uniformly by +-N ms\n"
    "  --throttle-rate P         answer the service's throttling error with probability P\n"
    "  --error-rate P            answer 500 or 503 with probability P\n"
    "  --reset-rate P            reset the connection without an answer with probability P\n"
    "  --truncate-rate P         send fewer body bytes than Content-Length, then close, with probability P\n"
    "  --malformed-rate P        answer 200 with a corrupted body with probability P\n"
    "                            (the five rates exclude each other: their sum must be at most 1)\n"
    "  --deny OP[,OP...]         answer AccessDenied to these operations (Op or service:Op)\n"
    "  --rate-limit OP=RPS[:BURST]\n"
    "                            token bucket per operation and region (repeatable); an empty bucket\n"
    "                            gets the service's throttling error. BURST defaults to RPS (at least 1)\n"
    "  --rate-limit-group SERVICE:OP[,OP...]=RPS[:BURST]\n"
    "                            one token bucket per region shared by these operations of SERVICE\n"
    "                            (repeatable), as AWS meters Lambda's control plane or API Gateway's\n"
    "                            management API: lambda:ListFunctions,ListAliases=15. An operation's\n"
    "                            own --rate-limit service:OP goes before its group; an operation is in\n"
    "                            one group at most\n"
    "  --rate-limit-default RPS[:BURST]\n"
    "                            the same for every operation without its own --rate-limit or group\n"
    "  --fault-unsigned          also inject faults into unsigned endpoints (IMDS, ECS credentials)\n"
    "  --max-header-bytes N      cap on a request's line and headers (default 65536)\n"
    "  --max-body-bytes N        cap on a request's body (default 8388608)\n"
    "  --help, --version\n";

static int s_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int s_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mockcloud: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see mockcloud --help)\n");
    va_end(ap);
    return 2;
}

static bool s_parse_u64(const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static bool s_parse_rate(const char *s, double *out) {
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !(d >= 0 && d <= 1))
        return false;
    *out = d;
    return true;
}

struct s_cli {
    struct tm_mock_server *srv;
    uv_signal_t sigterm, sigint;
    int signals; /* how many of the two signal handles are initialised (and still open) */
};

static void s_close_signals(struct s_cli *cli) {
    if (cli->signals > 0)
        uv_close((uv_handle_t *)&cli->sigterm, NULL);
    if (cli->signals > 1)
        uv_close((uv_handle_t *)&cli->sigint, NULL);
    cli->signals = 0;
}

static void s_on_signal(uv_signal_t *h, int signum) {
    (void)signum;
    struct s_cli *cli = h->data;
    tm_mock_server_destroy(cli->srv);
    cli->srv = NULL;
    s_close_signals(cli);
}

int main(int argc, char **argv) {
    struct tm_mock_options o;
    tm_mock_options_init(&o);
    const char *port_file = NULL, *log_path = NULL;
    char **deny = NULL;
    size_t n_deny = 0;
    struct tm_mock_rate_limit *limits = NULL;
    char **limit_names = NULL;
    size_t n_limits = 0;
    struct tm__mock_group_spec *group_specs = NULL;
    struct tm_mock_rate_limit_group *groups = NULL;
    size_t n_groups = 0;
    int ret = 2;
    FILE *log = NULL;
    uv_loop_t loop;
    bool loop_ok = false;
    struct s_cli cli = {0};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(s_usage, stdout);
            ret = 0;
            goto out;
        }
        if (strcmp(a, "--version") == 0) {
            printf("mockcloud %s\n", TM_VERSION);
            ret = 0;
            goto out;
        }
        if (strcmp(a, "--fault-unsigned") == 0) {
            o.fault_unsigned = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) {
            ret = s_usage_error("unexpected argument '%s'", a);
            goto out;
        }
        if (!v) {
            ret = s_usage_error("%s needs a value", a);
            goto out;
        }
        i++;
        if (strcmp(a, "--fixtures") == 0) {
            o.fixtures_dir = v;
        } else if (strcmp(a, "--host") == 0) {
            o.host = v;
        } else if (strcmp(a, "--port") == 0) {
            if (!s_parse_u64(v, &u) || u > 65535) {
                ret = s_usage_error("--port: '%s' is not a port number (0-65535)", v);
                goto out;
            }
            o.port = (int)u;
        } else if (strcmp(a, "--port-file") == 0) {
            port_file = v;
        } else if (strcmp(a, "--log") == 0) {
            log_path = v;
        } else if (strcmp(a, "--seed") == 0) {
            if (!s_parse_u64(v, &o.seed)) {
                ret = s_usage_error("--seed: '%s' is not a non-negative integer", v);
                goto out;
            }
        } else if (strcmp(a, "--latency-ms") == 0 || strcmp(a, "--jitter-ms") == 0) {
            if (!s_parse_u64(v, &u) || u > 600000) {
                ret = s_usage_error("'%s' is not a delay in milliseconds (0-600000)", v);
                goto out;
            }
            if (a[2] == 'l')
                o.latency_ms = (uint32_t)u;
            else
                o.jitter_ms = (uint32_t)u;
        } else if (strcmp(a, "--max-header-bytes") == 0 || strcmp(a, "--max-body-bytes") == 0) {
            if (!s_parse_u64(v, &u) || u < 1024 || u > (uint64_t)1 << 30) {
                ret = s_usage_error("'%s' is not a byte count from 1024 to 1073741824", v);
                goto out;
            }
            if (a[6] == 'h')
                o.max_header_bytes = (size_t)u;
            else
                o.max_body_bytes = (size_t)u;
        } else if (tm_str_ends_with(a, "-rate") && strncmp(a, "--rate", 6) != 0) {
            double *slot = NULL;
            if (strcmp(a, "--throttle-rate") == 0)
                slot = &o.throttle_rate;
            else if (strcmp(a, "--error-rate") == 0)
                slot = &o.error_rate;
            else if (strcmp(a, "--reset-rate") == 0)
                slot = &o.reset_rate;
            else if (strcmp(a, "--truncate-rate") == 0)
                slot = &o.truncate_rate;
            else if (strcmp(a, "--malformed-rate") == 0)
                slot = &o.malformed_rate;
            if (!slot) {
                ret = s_usage_error("unknown option '%s'", a);
                goto out;
            }
            if (!s_parse_rate(v, slot)) {
                ret = s_usage_error("'%s' is not a probability from 0 to 1", v);
                goto out;
            }
        } else if (strcmp(a, "--deny") == 0) {
            const char *p = v;
            while (*p) {
                size_t n = strcspn(p, ",");
                if (n) {
                    char **d = realloc(deny, (n_deny + 2) * sizeof(*d));
                    if (!d)
                        goto nomem;
                    deny = d;
                    if (!(deny[n_deny] = tm_strndup(p, n)))
                        goto nomem;
                    deny[++n_deny] = NULL;
                }
                p += n + (p[n] == ',');
            }
        } else if (strcmp(a, "--rate-limit") == 0) {
            struct tm_mock_rate_limit *l = realloc(limits, (n_limits + 1) * sizeof(*l));
            if (!l)
                goto nomem;
            limits = l;
            char **names = realloc(limit_names, (n_limits + 1) * sizeof(*names));
            if (!names)
                goto nomem;
            limit_names = names;
            char *op = NULL;
            int rc = tm__mock_rate_limit_parse(&op, &limits[n_limits].rps, &limits[n_limits].burst, v);
            if (rc == TM_ERR_NOMEM)
                goto nomem;
            if (rc) {
                ret = s_usage_error("--rate-limit: '%s' is not OP=RPS[:BURST] (RPS > 0, BURST >= 1)", v);
                goto out;
            }
            limit_names[n_limits] = op;
            limits[n_limits].operation = op;
            n_limits++;
        } else if (strcmp(a, "--rate-limit-group") == 0) {
            struct tm__mock_group_spec *gs = realloc(group_specs, (n_groups + 1) * sizeof(*gs));
            if (!gs)
                goto nomem;
            group_specs = gs;
            char gerr[512];
            int rc = tm__mock_rate_limit_group_parse(&group_specs[n_groups], v, gerr, sizeof(gerr));
            if (rc == TM_ERR_NOMEM)
                goto nomem;
            if (rc) {
                ret = s_usage_error("--rate-limit-group: %s", gerr);
                goto out;
            }
            n_groups++;
        } else if (strcmp(a, "--rate-limit-default") == 0) {
            if (tm__mock_rate_limit_parse(NULL, &o.rate_limit_default_rps, &o.rate_limit_default_burst, v)) {
                ret = s_usage_error("--rate-limit-default: '%s' is not RPS[:BURST] (RPS > 0, BURST >= 1)", v);
                goto out;
            }
        } else {
            ret = s_usage_error("unknown option '%s'", a);
            goto out;
        }
    }
    if (!o.fixtures_dir) {
        ret = s_usage_error("%s", "--fixtures DIR is required");
        goto out;
    }
    o.deny = (const char *const *)deny;
    o.rate_limits = limits;
    o.n_rate_limits = n_limits;
    /* The specs may move while they are parsed (realloc): point at them only now. */
    if (n_groups && !(groups = calloc(n_groups, sizeof(*groups))))
        goto nomem;
    for (size_t i = 0; i < n_groups; i++)
        groups[i] = group_specs[i].group;
    o.rate_limit_groups = groups;
    o.n_rate_limit_groups = n_groups;

    if (log_path) {
        log = fopen(log_path, "a");
        if (!log) {
            fprintf(stderr, "mockcloud: %s: %s\n", log_path, strerror(errno));
            ret = 2;
            goto out;
        }
        o.log = log;
    }
    /* A client that goes away mid-answer must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&loop) != 0) {
        fprintf(stderr, "mockcloud: cannot create an event loop\n");
        ret = 1;
        goto out;
    }
    loop_ok = true;
    char err[1024] = "";
    if (tm_mock_server_new(&cli.srv, &loop, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "mockcloud: %s\n", err);
        ret = 2;
        goto out;
    }
    if (port_file) {
        char text[16];
        int n = snprintf(text, sizeof(text), "%d\n", tm_mock_server_port(cli.srv));
        if (tm_file_write_atomic(port_file, text, (size_t)n, 0644, err, sizeof(err)) != 0) {
            fprintf(stderr, "mockcloud: %s\n", err);
            tm_mock_server_destroy(cli.srv);
            cli.srv = NULL;
            ret = 1;
            goto out;
        }
    }
    if (uv_signal_init(&loop, &cli.sigterm) == 0) {
        cli.signals = 1;
        if (uv_signal_init(&loop, &cli.sigint) == 0)
            cli.signals = 2;
    }
    cli.sigterm.data = cli.sigint.data = &cli;
    if (cli.signals < 2 || uv_signal_start(&cli.sigterm, s_on_signal, SIGTERM) ||
        uv_signal_start(&cli.sigint, s_on_signal, SIGINT)) {
        fprintf(stderr, "mockcloud: cannot watch signals\n");
        ret = 1;
        goto out;
    }
    fprintf(stderr, "mockcloud: listening on %s port %d (%s)\n", o.host, tm_mock_server_port(cli.srv), o.fixtures_dir);
    uv_run(&loop, UV_RUN_DEFAULT);
    ret = 0;
    goto out;
nomem:
    fprintf(stderr, "mockcloud: out of memory\n");
    ret = 1;
out:
    if (loop_ok) {
        /* Whatever is still open (an error path) closes here; the loop must then close clean. */
        tm_mock_server_destroy(cli.srv);
        s_close_signals(&cli);
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0) {
            fprintf(stderr, "mockcloud: event loop did not close cleanly\n");
            ret = 1;
        }
    }
    if (log)
        fclose(log);
    for (size_t i = 0; i < n_deny; i++)
        free(deny[i]);
    free(deny);
    for (size_t i = 0; i < n_limits; i++)
        free(limit_names[i]);
    free(limit_names);
    free(limits);
    for (size_t i = 0; i < n_groups; i++)
        tm__mock_group_spec_clean_up(&group_specs[i]);
    free(group_specs);
    free(groups);
    return ret;
}
