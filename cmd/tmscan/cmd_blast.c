/* tmscan blast SNAPSHOT --from ID: everything a leaked token, a compromised resource or an entry point reaches. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/blast.h"
#include "cmd/tmscan/analysis.h"
#include "cmd/tmscan/cli.h"

const char tm_cmd_blast_usage[] =
    "usage: tmscan blast SNAPSHOT --from ID [--depth N] [--format text|json|dot] [--limit N] [--offset N]\n"
    "                    [-o FILE] [--policies-dir DIR]\n"
    "\n"
    "Everything reachable from ID in the snapshot's trust graph, with the shortest path to each node and the\n"
    "actions at each step, grouped by what is reached: admin, data, compute, identity.\n"
    "\n"
    "ID is one of:\n"
    "  a principal       arn:aws:iam::111122223333:role/app (a role session ARN gives its role)\n"
    "  an access key id  AKIA... (its user)\n"
    "  a resource        arn:aws:lambda:...:function:api (its credentials: what it runs as)\n"
    "  an entry point    internet, any-aws-account, account:999999999999\n"
    "\n"
    "Options:\n"
    "  --from ID              where to start (required)\n"
    "  --depth N              at most N steps (default: no limit)\n"
    "  -f, --format FMT       text (default), json or dot\n"
    "  --limit N              nodes listed per group in every format, the rest counted (default 50; 0 lists\n"
    "                         all); crown jewels come first in each group\n"
    "  --offset N             skip the first N of each group (with --limit: the next page)\n"
    "  -o, --output FILE      write to FILE (default: standard output)\n"
    "  --policies-dir DIR     tmscan's data files (default: found next to the binary; or $TMSCAN_POLICIES_DIR)\n"
    "\n"
    "Steps that rest on a fact the scan could not read are followed and marked UNKNOWN: the worst case is\n"
    "shown, never hidden. A start that becomes administrator of an account is answered as \"everything in\n"
    "account X\", with what it does not reach there. docs/blast-and-queries.md explains how each kind of step\n"
    "is followed.\n"
    "\n"
    "Exit codes: 0 answered (whatever is reached); 2 usage or input error, or ID not in the snapshot.\n";

static int s_number(const char *s, unsigned long max, unsigned long *out) {
    char *end = NULL;
    errno = 0;
    if (!s || !*s || *s == '-')
        return TM_ERR_INVALID;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return TM_ERR_INVALID;
    *out = v;
    return TM_OK;
}

int tm_cmd_blast(struct tm_cli *cli, int argc, char **argv) {
    const char *from = NULL, *format = "text", *output = NULL, *policies_dir = NULL;
    unsigned long depth = 0, limit = TM_BLAST_DEFAULT_LIMIT, offset = 0;
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'F'},         {"depth", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},       {"limit", required_argument, NULL, 'l'},
        {"offset", required_argument, NULL, 'O'},       {"output", required_argument, NULL, 'o'},
        {"policies-dir", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:", longopts, NULL)) != -1) {
        switch (c) {
            case 'F':
                from = optarg;
                break;
            case 'd':
                if (s_number(optarg, 1000000, &depth) || depth == 0)
                    return tm_cli_usage_error(cli, "blast", "--depth: '%s' is not a number of steps (1 or more)",
                                              optarg);
                break;
            case 'f':
                format = optarg;
                break;
            case 'l':
                if (s_number(optarg, 100000000, &limit))
                    return tm_cli_usage_error(cli, "blast", "--limit: '%s' is not a number", optarg);
                break;
            case 'O':
                if (s_number(optarg, 100000000, &offset))
                    return tm_cli_usage_error(cli, "blast", "--offset: '%s' is not a number", optarg);
                break;
            case 'o':
                output = optarg;
                break;
            case 'P':
                policies_dir = optarg;
                break;
            case ':':
                return tm_cli_usage_error(cli, "blast", "option '%s' needs a value", argv[optind - 1]);
            default:
                return tm_cli_usage_error(cli, "blast", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return tm_cli_usage_error(cli, "blast", optind >= argc ? "missing SNAPSHOT" : "too many arguments");
    if (!from)
        return tm_cli_usage_error(cli, "blast",
                                  "missing --from ID (a principal, an access key id, a resource or "
                                  "an entry point)");
    enum tm_blast_format fmt;
    if (tm_blast_format_parse(format, &fmt))
        return tm_cli_usage_error(cli, "blast", "unknown format '%s' (text, json, dot)", format);

    struct tm_cli_graph loaded;
    int exit_code = tm_cli_graph_load(&loaded, cli, "blast", argv[optind], policies_dir);
    if (exit_code)
        return exit_code;
    struct tm_blast *b = NULL;
    struct tm_buf out;
    tm_buf_init(&out, 0);
    exit_code = TM_EXIT_USAGE;
    char err[1024] = "";
    struct tm_blast_source src;
    int rc = tm_blast_resolve(&src, loaded.graph, from, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "tmscan: blast: --from: %s\n", err);
        goto out;
    }
    struct tm_blast_options bo = {.max_depth = (uint32_t)depth};
    if ((rc = tm_blast_new(&b, loaded.graph)) || (rc = tm_blast_run(b, &src, &bo))) {
        tm_log_error(&cli->log, "blast: %s", tm_error_str(rc));
        goto out;
    }
    struct tm_blast_write_options wo = {.format = fmt, .limit = limit, .offset = offset, .max_depth = (uint32_t)depth};
    if ((rc = tm_blast_write(&out, b, &src, &wo))) {
        tm_log_error(&cli->log, "blast: cannot write the answer: %s", tm_error_str(rc));
        goto out;
    }
    exit_code = tm_cli_write_output(cli, "blast", output, &out);
out:
    tm_buf_clean_up(&out);
    tm_blast_destroy(b);
    tm_cli_graph_clean_up(&loaded);
    return exit_code;
}
