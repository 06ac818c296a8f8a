#include "cmd/tmscan/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/analyze.h"
#include "analyzers/recognised.h"
#include "analyzers/report/report.h"
#include "analyzers/rules.h"
#include "cmd/tmscan/analysis.h"
#include "cmd/tmscan/paths.h"
#include "core/str.h"

#define DEFAULT_POLICY_FILE "tmscan.policy.json"

struct s_sink {
    FILE *stdout_file;          /* writing to standard output */
    struct tm_file_atomic file; /* or to a file, replaced when the report is complete */
};

static int s_sink(const char *data, size_t len, void *user_data) {
    struct s_sink *s = user_data;
    if (s->stdout_file)
        return fwrite(data, 1, len, s->stdout_file) == len ? TM_OK : TM_ERR_IO;
    return tm_file_atomic_write(&s->file, data, len);
}

/* A format that streams is written to its destination piece by piece: the JSON report of 100,000 resources
 * is larger than 100 MB. A file is replaced only once the whole report is written. */
static int s_stream_output(struct tm_cli *cli, const char *command, const struct tm_report_format *fmt,
                           const struct tm_report_input *in, const char *path) {
    struct s_sink sink = {0};
    char err[512] = "";
    sink.file.fd = -1;
    if (!path || strcmp(path, "-") == 0) {
        sink.stdout_file = stdout;
    } else if (tm_file_atomic_open(&sink.file, path, 0600, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        return TM_EXIT_USAGE;
    }
    int rc = fmt->stream(in, s_sink, &sink);
    if (rc == TM_ERR_IO) {
        tm_log_error(&cli->log, "%s: cannot write to %s", command, sink.stdout_file ? "standard output" : path);
    } else if (rc) {
        tm_log_error(&cli->log, "%s: cannot write the %s report: %s", command, fmt->name, tm_error_str(rc));
    } else if (sink.stdout_file) {
        if (fflush(stdout) != 0) {
            tm_log_error(&cli->log, "%s: cannot write to standard output", command);
            rc = TM_ERR_IO;
        }
    } else if ((rc = tm_file_atomic_commit(&sink.file, err, sizeof(err)))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
    }
    tm_file_atomic_abort(&sink.file);
    return rc ? TM_EXIT_USAGE : TM_EXIT_OK;
}

int tm_cli_report(struct tm_cli *cli, const char *command, struct tm_snapshot *snap,
                  const struct tm_cli_report_opts *opts) {
    int exit_code = TM_EXIT_USAGE;
    struct tm_rules *rules = NULL;
    struct tm_cli_catalogs cat = {0};
    struct tm_recognised *rec = NULL;
    struct tm_findings findings;
    struct tm_buf out;
    tm_findings_init(&findings);
    tm_buf_init(&out, 0);
    char err[1024] = "";

    const char *fmt_name = opts->format ? opts->format : "md";
    const struct tm_report_format *fmt = tm_report_find(fmt_name);
    if (!fmt) {
        tm_cli_usage_error(cli, command, "unknown format '%s' (json, sarif, md, dot, mermaid)", fmt_name);
        goto out;
    }
    enum tm_severity fail_on = TM_SEV_HIGH;
    bool fail_never = false;
    if (opts->fail_on && strcmp(opts->fail_on, "none") == 0)
        fail_never = true;
    else if (opts->fail_on && tm_severity_parse(opts->fail_on, &fail_on)) {
        tm_cli_usage_error(cli, command, "--fail-on: '%s' is not a severity (critical, high, medium, low, info, none)",
                           opts->fail_on);
        goto out;
    }
    char today[11];
    if (tm_cli_today(today, opts->today)) {
        tm_cli_usage_error(cli, command, "--today: '%s' is not a date (YYYY-MM-DD)", opts->today ? opts->today : "");
        goto out;
    }
    char dir[4096], path[4200];
    if (tm_cli_policies_dir(dir, sizeof(dir), opts->policies_dir)) {
        tm_log_error(&cli->log, "%s: cannot find tmscan's policies directory%s%s (use --policies-dir)", command,
                     opts->policies_dir ? ": " : "", opts->policies_dir ? opts->policies_dir : "");
        goto out;
    }
    if (tm_cli_policy_file(path, sizeof(path), dir, "rules.json") || tm_rules_load(&rules, path, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        goto out;
    }
    if (tm_cli_catalogs_load(&cat, cli, command, opts->policies_dir))
        goto out;
    const char *policy = opts->policy_file;
    if (!policy && access(DEFAULT_POLICY_FILE, F_OK) == 0)
        policy = DEFAULT_POLICY_FILE;
    if (policy && tm_recognised_load(&rec, policy, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        goto out;
    }
    if (policy)
        tm_log_debug(&cli->log, "recognised exposure from %s: %zu entries, %zu suppressions", policy, rec->n_recognised,
                     rec->n_suppressed);

    struct tm_analysis analysis = {
        .snap = snap, .rules = rules, .actions = cat.actions, .privesc = cat.privesc, .today = today};
    if (tm_analyze(&analysis, &findings)) {
        tm_log_error(&cli->log, "%s: %s", command, analysis.errmsg);
        goto out;
    }
    size_t expired = 0;
    if (tm_recognised_apply(rec, &findings, today, &expired)) {
        tm_log_error(&cli->log, "%s: out of memory", command);
        goto out;
    }
    if (expired)
        tm_log_warn(&cli->log, "%zu finding%s matched a recognised entry that has expired: reported as new again",
                    expired, expired == 1 ? "" : "s");
    tm_findings_sort(&findings);

    struct tm_report_input in = {.snap = snap,
                                 .findings = &findings,
                                 .rules = rules,
                                 .snapshot_name = opts->snapshot_name,
                                 .policy_name = policy};
    if (fmt->stream) {
        exit_code = s_stream_output(cli, command, fmt, &in, opts->output);
    } else if (fmt->write(&out, &in)) {
        tm_log_error(&cli->log, "%s: cannot write the %s report: out of memory", command, fmt->name);
        exit_code = TM_EXIT_USAGE;
    } else {
        exit_code = tm_cli_write_output(cli, command, opts->output, &out);
    }
    if (exit_code)
        goto out;

    size_t failing = 0;
    for (size_t i = 0; i < findings.count; i++) {
        const struct tm_finding *f = findings.items[i];
        /* Coverage gaps say the scan is incomplete (exit 3); they are not exposures to fail on. */
        bool gap = f->category && strcmp(f->category, "coverage-gap") == 0;
        failing += !fail_never && !gap && f->status == TM_STATUS_NEW && f->severity >= fail_on;
    }
    if (failing) {
        tm_log_info(&cli->log, "%zu new finding%s at or above %s", failing, failing == 1 ? "" : "s",
                    tm_severity_str(fail_on));
        exit_code = TM_EXIT_FINDINGS;
    } else if (tm_snapshot_error_count(snap)) {
        exit_code = TM_EXIT_INCOMPLETE;
    }
out:
    tm_buf_clean_up(&out);
    tm_findings_clean_up(&findings);
    tm_recognised_destroy(rec);
    tm_cli_catalogs_clean_up(&cat);
    tm_rules_destroy(rules);
    return exit_code;
}
