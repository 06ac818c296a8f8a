/* `tmscan scan PROVIDER -o SNAPSHOT`: reads an account through a provider (providers/provider.h) on
 * one libuv loop and writes what it saw as a snapshot. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cmd/tmscan/cli.h"
#include "cmd/tmscan/pipeline.h"
#include "core/snapshot.h"
#include "providers/provider.h"

const char tm_cmd_scan_usage[] =
    "usage: tmscan scan aws -o SNAPSHOT [options]\n"
    "\n"
    "Reads an AWS account, read-only, and writes everything the threat model needs to SNAPSHOT ('-' for\n"
    "standard output): principals and their policies, what is reachable from the internet or shared with\n"
    "other accounts, and every call that failed (its facts are recorded as unknown, never as safe).\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      where the snapshot goes (required; written atomically, mode 0600)\n"
    "  --regions R1,R2        scan these regions only (default: every region enabled in the account)\n"
    "  --services S1,S2       scan these services only (default: all; see below)\n"
    "  --profile NAME         credentials and settings of this profile (~/.aws/config, ~/.aws/credentials)\n"
    "  --region REGION        home region for STS and region discovery (default: AWS_REGION,\n"
    "                         AWS_DEFAULT_REGION, the profile's region, else us-east-1)\n"
    "  --concurrency N        calls in flight at most (default 32)\n"
    "  --max-rps N            calls per second at most, over the whole scan (default: no global cap;\n"
    "                         each operation is still paced and slowed down when AWS throttles)\n"
    "  --rate-limit SERVICE:OPERATION=RPS[:BURST]\n"
    "                         pace this operation at RPS calls per second in each region (bucket of BURST,\n"
    "                         default RPS) instead of the rate AWS publishes for it, and apart from any\n"
    "                         budget it shares with other operations; repeatable (lambda:GetPolicy=10)\n"
    "  --ca-bundle FILE       trust these CAs (PEM) instead of the system's; AWS_CA_BUNDLE does the same\n"
    "  --record DIR           also write every response as a mockcloud fixture scenario in DIR (new or\n"
    "                         empty), secrets removed, to replay the scan offline or attach to a bug\n"
    "  --report FILE          also write the threat model of the snapshot to FILE ('-' for standard\n"
    "                         output), as `tmscan report` would; with it, these report options:\n"
    "  --format FMT, --policy FILE, --fail-on SEVERITY, --today YYYY-MM-DD, --policies-dir DIR\n"
    "                         as for `tmscan report` (see 'tmscan help report')\n"
    "\n"
    "Environment: the AWS credential chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,\n"
    "AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN,\n"
    "container and instance credentials), AWS_REGION, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>,\n"
    "AWS_CA_BUNDLE, HTTPS_PROXY/NO_PROXY.\n"
    "\n"
    "Pacing: each operation starts at the rate AWS publishes for it (Lambda GetPolicy 15/s; the rest of\n"
    "Lambda's control plane 15/s and API Gateway's management API 10/s, each one budget per region; EC2\n"
    "Describe* 20/s; ...), slows down when AWS throttles anyway and never goes above it. Calls that open\n"
    "chains (next pages, listings) and those of the slowest operations go first.\n"
    "\n"
    "The permissions needed are in policies/tmscan-readonly-iam-policy.json (List and Read only).\n"
    "\n"
    "Exit codes: 0 complete snapshot; 1 (with --report) new findings at or above --fail-on; 2 usage,\n"
    "configuration or output error (no snapshot, or a failed recording or report); 3 snapshot written but\n"
    "partial: some calls failed and their facts are unknown.\n";

#define S_MAX_LIST 64
#define S_MAX_RATES 256

struct s_args {
    const char *provider;
    const char *output;
    const char *profile;
    const char *region;
    const char *ca_bundle;
    const char *record;
    struct tm_cli_report_opts report; /* report.output set: write a report too */
    char *regions_buf, *services_buf;
    const char *regions[S_MAX_LIST];
    size_t region_count;
    const char *services[S_MAX_LIST];
    size_t service_count;
    long concurrency;
    double max_rps;
    const char *rate_limits[S_MAX_RATES];
    size_t rate_limit_count;
};

/* Splits a comma list in place (empty items are an error). */
static int s_split(char *buf, const char **out, size_t *count) {
    *count = 0;
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || *count == S_MAX_LIST)
            return -1;
        out[(*count)++] = p;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* "--name value" or "--name=value": the value, or NULL when the argument is another option. */
static const char *s_value(int argc, char **argv, int *i, const char *name, bool *missing) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static int s_parse(struct tm_cli *cli, struct s_args *a, int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-')
        return tm_cli_usage_error(cli, "scan", "which provider? (tmscan scan aws -o SNAPSHOT)");
    a->provider = argv[1];
    for (int i = 2; i < argc; i++) {
        bool missing = false;
        const char *v;
        char *end = NULL;
        if ((v = s_value(argc, argv, &i, "--output", &missing)) || (v = s_value(argc, argv, &i, "-o", &missing))) {
            a->output = v;
        } else if ((v = s_value(argc, argv, &i, "--regions", &missing))) {
            free(a->regions_buf);
            if (!(a->regions_buf = strdup(v)) || s_split(a->regions_buf, a->regions, &a->region_count))
                return tm_cli_usage_error(cli, "scan", "--regions: a comma-separated list of region names");
        } else if ((v = s_value(argc, argv, &i, "--services", &missing))) {
            free(a->services_buf);
            if (!(a->services_buf = strdup(v)) || s_split(a->services_buf, a->services, &a->service_count))
                return tm_cli_usage_error(cli, "scan", "--services: a comma-separated list of service names");
        } else if ((v = s_value(argc, argv, &i, "--profile", &missing))) {
            a->profile = v;
        } else if ((v = s_value(argc, argv, &i, "--region", &missing))) {
            a->region = v;
        } else if ((v = s_value(argc, argv, &i, "--ca-bundle", &missing))) {
            a->ca_bundle = v;
        } else if ((v = s_value(argc, argv, &i, "--record", &missing))) {
            a->record = v;
        } else if ((v = s_value(argc, argv, &i, "--report", &missing))) {
            a->report.output = v;
        } else if ((v = s_value(argc, argv, &i, "--format", &missing)) ||
                   (v = s_value(argc, argv, &i, "-f", &missing))) {
            a->report.format = v;
        } else if ((v = s_value(argc, argv, &i, "--policy", &missing))) {
            a->report.policy_file = v;
        } else if ((v = s_value(argc, argv, &i, "--fail-on", &missing))) {
            a->report.fail_on = v;
        } else if ((v = s_value(argc, argv, &i, "--today", &missing))) {
            a->report.today = v;
        } else if ((v = s_value(argc, argv, &i, "--policies-dir", &missing))) {
            a->report.policies_dir = v;
        } else if ((v = s_value(argc, argv, &i, "--concurrency", &missing))) {
            errno = 0;
            a->concurrency = strtol(v, &end, 10);
            if (errno || !*v || *end || a->concurrency < 1 || a->concurrency > 1024)
                return tm_cli_usage_error(cli, "scan", "--concurrency: a number from 1 to 1024, not '%s'", v);
        } else if ((v = s_value(argc, argv, &i, "--max-rps", &missing))) {
            errno = 0;
            a->max_rps = strtod(v, &end);
            if (errno || !*v || *end || !(a->max_rps > 0) || a->max_rps > 100000)
                return tm_cli_usage_error(cli, "scan", "--max-rps: a positive number of calls per second, not '%s'", v);
        } else if ((v = s_value(argc, argv, &i, "--rate-limit", &missing))) {
            if (a->rate_limit_count == S_MAX_RATES)
                return tm_cli_usage_error(cli, "scan", "--rate-limit: at most %d of them", S_MAX_RATES);
            a->rate_limits[a->rate_limit_count++] = v;
        } else if (missing) {
            return tm_cli_usage_error(cli, "scan", "%s needs a value", argv[i]);
        } else {
            return tm_cli_usage_error(cli, "scan", "unexpected argument '%s'", argv[i]);
        }
        if (missing)
            return tm_cli_usage_error(cli, "scan", "%s needs a value", argv[i]);
    }
    if (!a->output || !*a->output)
        return tm_cli_usage_error(cli, "scan", "where should the snapshot go? (-o SNAPSHOT, '-' for stdout)");
    if (!a->report.output &&
        (a->report.format || a->report.policy_file || a->report.fail_on || a->report.today || a->report.policies_dir))
        return tm_cli_usage_error(cli, "scan", "report options need --report FILE");
    if (a->report.output && strcmp(a->report.output, "-") == 0 && strcmp(a->output, "-") == 0)
        return tm_cli_usage_error(cli, "scan", "the snapshot and the report cannot both go to standard output");
    return TM_EXIT_OK;
}

int tm_cmd_scan(struct tm_cli *cli, int argc, char **argv) {
    struct s_args a;
    memset(&a, 0, sizeof(a));
    int exit_code = s_parse(cli, &a, argc, argv);
    const struct tm_provider *p = NULL;
    void *state = NULL;
    struct tm_snapshot *snap = NULL;
    uv_loop_t loop;
    bool loop_ok = false;
    char err[1024] = "";
    if (exit_code != TM_EXIT_OK)
        goto out;
    p = tm_provider_find(a.provider);
    if (!p) {
        exit_code = tm_cli_usage_error(cli, "scan", "unknown provider '%s' (known: aws)", a.provider);
        goto out;
    }
    struct tm_provider_options opts = {
        .log = &cli->log,
        .profile = a.profile,
        .region = a.region,
        .regions = a.region_count ? a.regions : NULL,
        .region_count = a.region_count,
        .services = a.service_count ? a.services : NULL,
        .service_count = a.service_count,
        .concurrency = (int)a.concurrency,
        .max_rps = a.max_rps,
        .ca_bundle = a.ca_bundle,
        .record_dir = a.record,
        .rate_limits = a.rate_limit_count ? a.rate_limits : NULL,
        .rate_limit_count = a.rate_limit_count,
    };
    exit_code = TM_EXIT_USAGE;
    int rc = p->init(&state, &opts, err, sizeof(err));
    if (rc) {
        tm_log_error(&cli->log, "scan %s: %s", p->name, err[0] ? err : tm_error_str(rc));
        goto out;
    }
    if (uv_loop_init(&loop) != 0) {
        tm_log_error(&cli->log, "scan %s: cannot create the event loop", p->name);
        goto out;
    }
    loop_ok = true;
    if ((rc = tm_snapshot_new(&snap, p->name))) {
        tm_log_error(&cli->log, "scan %s: %s", p->name, tm_error_str(rc));
        goto out;
    }
    if ((rc = p->start(state, &loop, snap, err, sizeof(err)))) {
        tm_log_error(&cli->log, "scan %s: %s", p->name, err[0] ? err : tm_error_str(rc));
        goto out;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if ((rc = p->finish(state, err, sizeof(err)))) {
        tm_log_error(&cli->log, "scan %s: %s", p->name, err[0] ? err : tm_error_str(rc));
        goto out;
    }
    if ((rc = tm_snapshot_write(snap, a.output, err, sizeof(err)))) {
        tm_log_error(&cli->log, "scan %s: cannot write the snapshot: %s", p->name, err[0] ? err : tm_error_str(rc));
        goto out;
    }
    size_t failed = tm_snapshot_error_count(snap);
    if (failed) {
        tm_log_warn(&cli->log, "scan %s: %zu call%s failed: the snapshot is partial (see its \"errors\")", p->name,
                    failed, failed == 1 ? "" : "s");
        exit_code = TM_EXIT_INCOMPLETE;
    } else {
        tm_log_info(&cli->log, "scan %s: %zu resources written to %s", p->name, tm_snapshot_count(snap),
                    strcmp(a.output, "-") == 0 ? "standard output" : a.output);
        exit_code = TM_EXIT_OK;
    }
    if (a.report.output) {
        a.report.snapshot_name = strcmp(a.output, "-") == 0 ? "snapshot.json" : a.output;
        int report_code = tm_cli_report(cli, "scan", snap, &a.report);
        /* Findings to fail on and report errors outrank a partial snapshot. */
        if (report_code == TM_EXIT_FINDINGS || report_code == TM_EXIT_USAGE)
            exit_code = report_code;
    }
out:
    if (p && state)
        p->destroy(state);
    if (loop_ok) {
        /* Handles closed by destroy finish closing here. */
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0)
            tm_log_debug(&cli->log, "scan: the event loop still had handles at exit");
    }
    tm_snapshot_destroy(snap);
    free(a.regions_buf);
    free(a.services_buf);
    return exit_code;
}
