/* Snapshot -> analysis -> report, shared by `tmscan report` and `tmscan scan` (which can write the
 * snapshot and the report in one go). */
#ifndef TM_CMD_PIPELINE_H
#define TM_CMD_PIPELINE_H

#include "cmd/tmscan/cli.h"
#include "core/snapshot.h"

struct tm_cli_report_opts {
    const char *format;        /* json, sarif, md, dot, mermaid */
    const char *output;        /* file, or NULL / "-" for standard output */
    const char *policy_file;   /* --policy, or NULL for ./tmscan.policy.json when present */
    const char *fail_on;       /* severity; NULL means "high" */
    const char *today;         /* --today, or NULL */
    const char *policies_dir;  /* --policies-dir, or NULL */
    const char *snapshot_name; /* how reports refer to the snapshot */
};

/* The options every reporting command accepts, for getopt_long tables and usage texts. */
#define TM_CLI_REPORT_USAGE                                                                                            \
    "  -f, --format FMT       json, sarif, md, dot or mermaid (default md)\n"                                          \
    "  -o, --output FILE      write the report to FILE (default: standard output)\n"                                   \
    "  --policy FILE          recognised-exposure file (default: ./tmscan.policy.json when present)\n"                 \
    "  --fail-on SEVERITY     exit 1 when a new finding is at or above it: critical, high, medium, low,\n"             \
    "                         info, or none (default high)\n"                                                          \
    "  --today YYYY-MM-DD     the date expiries are checked against (default: today, UTC; or $TMSCAN_TODAY)\n"         \
    "  --policies-dir DIR     tmscan's data files (default: found next to the binary; or $TMSCAN_POLICIES_DIR)\n"

/* Analyses the snapshot and writes the report. Returns an exit code: 0, 1 (new findings at or above
 * --fail-on), 2 (bad input), 3 (nothing to fail on, but the snapshot is incomplete). */
int tm_cli_report(struct tm_cli *cli, const char *command, struct tm_snapshot *snap,
                  const struct tm_cli_report_opts *opts);

#endif
