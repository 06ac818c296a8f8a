/* `tmscan policy`: the AWS policy engine on its own.
 *   policy eval   JSON lines on standard input, one decision per line on standard output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/eval.h"
#include "cmd/tmscan/cli.h"

const char tm_cmd_policy_usage[] =
    "usage: tmscan policy eval [--input FILE]\n"
    "\n"
    "eval: reads JSON lines (standard input, or FILE) and writes one JSON line per input, in order:\n"
    "  in:  {\"id\": ..., \"identityPolicies\": [...], \"resourcePolicy\": {...}|null, \"scps\": [...],\n"
    "        \"rcps\": [...], \"permissionBoundaries\": [...], \"sessionPolicies\": [...],\n"
    "        \"resourceAccount\": \"123456789012\",\n"
    "        \"request\": {\"principal\": \"arn:...\", \"action\": \"s3:GetObject\", \"resource\": \"arn:...\",\n"
    "                    \"contextKeys\": {\"aws:SourceIp\": \"203.0.113.9\", ...}}}\n"
    "  out: {\"id\": ..., \"decision\": \"allowed\"|\"explicitDeny\"|\"implicitDeny\",\n"
    "        \"matched\": [{\"policy\": \"identityPolicies[0]\", \"statement\": 0}]}\n"
    "  A line that cannot be evaluated gets {\"id\": ..., \"error\": \"...\"}; the others go on.\n"
    "  \"scps\"/\"rcps\" as a list of lists give the organization's levels, root first (each must allow).\n"
    "  Exit status: 0 every line evaluated, 2 some line was an error or bad usage.\n";

/* Longest input line accepted by `policy eval`: many policies, each far under AWS's own limits. */
#define S_MAX_LINE_BYTES (16u * 1024u * 1024u)

static int s_eval(struct tm_cli *cli, int argc, char **argv) {
    FILE *in = stdin;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else {
            return tm_cli_usage_error(cli, "policy", "eval: unexpected argument '%s'", argv[i]);
        }
    }
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "r");
        if (!in) {
            tm_log_error(&cli->log, "policy eval: cannot open %s", path);
            return TM_EXIT_USAGE;
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool any_error = false;
    int rc = TM_EXIT_OK;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len)
            continue; /* blank lines are not inputs */
        char *answer = NULL;
        if (len > S_MAX_LINE_BYTES) {
            fputs("{\"id\":null,\"error\":\"line too long\"}\n", stdout);
            any_error = true;
            continue;
        }
        bool was_error = false;
        if (tm_iam_eval_json_line(&answer, &was_error, line, len) != TM_OK) {
            tm_log_error(&cli->log, "policy eval: out of memory");
            rc = TM_EXIT_USAGE;
            break;
        }
        any_error = any_error || was_error;
        fputs(answer, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(answer);
    }
    free(line);
    if (ferror(in)) {
        tm_log_error(&cli->log, "policy eval: read error");
        rc = TM_EXIT_USAGE;
    }
    if (in != stdin)
        fclose(in);
    if (rc == TM_EXIT_OK && any_error)
        rc = TM_EXIT_USAGE;
    return rc;
}

int tm_cmd_policy(struct tm_cli *cli, int argc, char **argv) {
    if (argc < 2)
        return tm_cli_usage_error(cli, "policy", "missing subcommand (eval)");
    if (strcmp(argv[1], "eval") == 0)
        return s_eval(cli, argc - 1, argv + 1);
    return tm_cli_usage_error(cli, "policy", "unknown subcommand '%s'", argv[1]);
}
