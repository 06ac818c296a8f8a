/* tmscan query SNAPSHOT can PRINCIPAL ACTION RESOURCE | who-can ACTION RESOURCE: answers from a saved snapshot. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "analyzers/query.h"
#include "cmd/tmscan/analysis.h"
#include "cmd/tmscan/cli.h"

const char tm_cmd_query_usage[] =
    "usage: tmscan query SNAPSHOT can PRINCIPAL ACTION RESOURCE [--format text|json] [-o FILE]\n"
    "       tmscan query SNAPSHOT who-can ACTION RESOURCE [--format text|json] [-o FILE]\n"
    "       (both take --policies-dir DIR)\n"
    "\n"
    "can: is PRINCIPAL allowed to do ACTION on RESOURCE, and why: the statements that decided (identity\n"
    "  policies, permissions boundary, service control policies, the resource's policy), evaluated with the\n"
    "  full AWS logic on the snapshot's policies.\n"
    "  PRINCIPAL  a user, role or role-session ARN, an access key id (AKIA...), an ARN of another account,\n"
    "             internet, any-aws-account, account:999999999999, service:lambda.amazonaws.com\n"
    "  ACTION     one action (s3:GetObject)\n"
    "  RESOURCE   an ARN (an S3 object ARN is governed by its bucket's policy), or * for actions on none\n"
    "\n"
    "who-can: every user and role of the snapshot, and every entry point (the internet, any AWS account, an\n"
    "  external account, an organisation, a service, an identity provider), that can do ACTION on RESOURCE,\n"
    "  each with the statements that grant it. ACTION may be a pattern (s3:Get*, s3:*); RESOURCE must be in\n"
    "  the snapshot. Asked of a bucket, S3 object actions are evaluated on its objects (BUCKET/*).\n"
    "\n"
    "Options:\n"
    "  -f, --format FMT       text (default) or json\n"
    "  -o, --output FILE      write to FILE (default: standard output)\n"
    "  --policies-dir DIR     tmscan's data files (default: found next to the binary; or $TMSCAN_POLICIES_DIR)\n"
    "\n"
    "Exit codes: can: 0 allowed, 1 denied, 3 denied by the policies that could be read while one that matters\n"
    "could not be (it might be allowed); who-can: 0 answered (even when nobody can); both: 2 usage or input\n"
    "error (a principal, action or resource that is not in the snapshot, with a near match when there is one).\n";

int tm_cmd_query(struct tm_cli *cli, int argc, char **argv) {
    const char *format = "text", *output = NULL, *policies_dir = NULL;
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"policies-dir", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":f:o:", longopts, NULL)) != -1) {
        switch (c) {
            case 'f':
                format = optarg;
                break;
            case 'o':
                output = optarg;
                break;
            case 'P':
                policies_dir = optarg;
                break;
            case ':':
                return tm_cli_usage_error(cli, "query", "option '%s' needs a value", argv[optind - 1]);
            default:
                return tm_cli_usage_error(cli, "query", "unknown option '%s'", argv[optind - 1]);
        }
    }
    int n = argc - optind;
    if (n < 2)
        return tm_cli_usage_error(cli, "query", n < 1 ? "missing SNAPSHOT" : "missing the question (can or who-can)");
    const char *snapshot = argv[optind], *question = argv[optind + 1];
    bool can = strcmp(question, "can") == 0;
    if (!can && strcmp(question, "who-can") != 0)
        return tm_cli_usage_error(cli, "query", "unknown question '%s' (can, who-can)", question);
    int want = can ? 5 : 4;
    if (n != want)
        return tm_cli_usage_error(cli, "query", "%s: %s", question,
                                  n < want ? (can ? "needs PRINCIPAL ACTION RESOURCE" : "needs ACTION RESOURCE")
                                           : "too many arguments");
    enum tm_query_format fmt;
    if (tm_query_format_parse(format, &fmt))
        return tm_cli_usage_error(cli, "query", "unknown format '%s' (text, json)", format);

    struct tm_cli_graph loaded;
    int exit_code = tm_cli_graph_load(&loaded, cli, "query", snapshot, policies_dir);
    if (exit_code)
        return exit_code;
    exit_code = TM_EXIT_USAGE;
    struct tm_query *q = NULL;
    struct tm_query_can ans;
    struct tm_query_who who;
    memset(&ans, 0, sizeof(ans));
    memset(&who, 0, sizeof(who));
    struct tm_buf out;
    tm_buf_init(&out, 0);
    char err[1024] = "";
    int rc = tm_query_new(&q, loaded.graph, loaded.cat.actions);
    if (rc) {
        tm_log_error(&cli->log, "query: %s", tm_error_str(rc));
        goto out;
    }
    const char *const *args = (const char *const *)argv + optind + 2;
    if (can)
        rc = tm_query_can(q, &ans, args[0], args[1], args[2], err, sizeof(err));
    else
        rc = tm_query_who_can(q, &who, args[0], args[1], err, sizeof(err));
    if (rc) {
        fprintf(stderr, "tmscan: query: %s: %s\n", question, err);
        goto out;
    }
    rc = can ? tm_query_can_write(&out, q, &ans, fmt) : tm_query_who_write(&out, q, &who, fmt);
    if (rc) {
        tm_log_error(&cli->log, "query: cannot write the answer: %s", tm_error_str(rc));
        goto out;
    }
    exit_code = tm_cli_write_output(cli, "query", output, &out);
    if (exit_code || !can)
        goto out;
    if (ans.decision == TM_IAM_ALLOWED)
        exit_code = TM_EXIT_OK;
    else if (ans.unknown && ans.decision != TM_IAM_EXPLICIT_DENY)
        exit_code = TM_EXIT_INCOMPLETE;
    else
        exit_code = TM_EXIT_FINDINGS;
out:
    tm_buf_clean_up(&out);
    tm_query_can_clean_up(&ans);
    tm_query_who_clean_up(&who);
    tm_query_destroy(q);
    tm_cli_graph_clean_up(&loaded);
    return exit_code;
}
