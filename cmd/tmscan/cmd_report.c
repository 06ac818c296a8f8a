/* tmscan report SNAPSHOT: the threat model of a saved snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/tmscan/analysis.h"
#include "cmd/tmscan/cli.h"
#include "cmd/tmscan/pipeline.h"
#include "core/snapshot.h"

int tm_cmd_report(struct tm_cli *cli, int argc, char **argv) {
    struct tm_cli_report_opts o = {0};
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"policy", required_argument, NULL, 'p'},
        {"fail-on", required_argument, NULL, 'F'},
        {"today", required_argument, NULL, 'T'},
        {"policies-dir", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:", longopts, NULL)) != -1) {
        switch (c) {
            case 'f':
                o.format = optarg;
                break;
            case 'o':
                o.output = optarg;
                break;
            case 'p':
                o.policy_file = optarg;
                break;
            case 'F':
                o.fail_on = optarg;
                break;
            case 'T':
                o.today = optarg;
                break;
            case 'P':
                o.policies_dir = optarg;
                break;
            case ':':
                return tm_cli_usage_error(cli, "report", "option '%s' needs a value", argv[optind - 1]);
            default:
                return tm_cli_usage_error(cli, "report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return tm_cli_usage_error(cli, "report", optind >= argc ? "missing SNAPSHOT" : "too many arguments");
    const char *path = argv[optind];
    tm_cli_heap_prepare(path);
    struct tm_snapshot *snap = NULL;
    char err[1024] = "";
    if (tm_snapshot_load(&snap, path, err, sizeof(err))) {
        tm_log_error(&cli->log, "report: %s", err);
        return TM_EXIT_USAGE;
    }
    o.snapshot_name = path;
    int rc = tm_cli_report(cli, "report", snap, &o);
    tm_snapshot_destroy(snap);
    return rc;
}
