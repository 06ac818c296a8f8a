/* tmscan: cloud threat-model scanner. Parses global options and dispatches to a subcommand. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cmd/tmscan/cli.h"
#include "cmd/tmscan/pipeline.h"

static const struct tm_command s_commands[] = {
    {"blast", tm_cmd_blast, "everything a principal, key, resource or entry point reaches", tm_cmd_blast_usage},
    {"help", tm_cmd_help, "show help for a command", "usage: tmscan help [COMMAND]\n"},
    {"policy", tm_cmd_policy, "evaluate AWS policies; who can reach a resource", tm_cmd_policy_usage},
    {"query", tm_cmd_query, "can a principal do an action on a resource; who can", tm_cmd_query_usage},
    {"report", tm_cmd_report, "write the threat model of a saved snapshot",
     "usage: tmscan report SNAPSHOT [options]\n"
     "\n"
     "Analyses a snapshot (from `tmscan scan`) and writes its threat model: entry points, trust\n"
     "boundaries, paths, findings with fixes, coverage gaps.\n"
     "\n"
     "Options:\n" TM_CLI_REPORT_USAGE "\n"
     "Exit codes: 0 nothing new at or above --fail-on; 1 new findings at or above it; 2 usage or input\n"
     "error; 3 nothing to fail on, but the snapshot is incomplete (some facts are unknown).\n"},
    {"scan", tm_cmd_scan, "read a cloud account into a snapshot", tm_cmd_scan_usage},
    {"version", tm_cmd_version, "print the version", "usage: tmscan version\n"},
    {"whoami", tm_cmd_whoami, "show which AWS identity the credential chain resolves to", tm_cmd_whoami_usage},
    {NULL, NULL, NULL, NULL},
};

static const char s_global_usage[] =
    "usage: tmscan [--quiet] [--debug] COMMAND [ARGS...]\n"
    "       tmscan --version | --help | help COMMAND\n"
    "\n"
    "tmscan finds the doors into a cloud account that nobody recognised, and what a leaked token reaches.\n"
    "\n"
    "Global options (anywhere before a '--'):\n"
    "  -q, --quiet   only warnings and errors on stderr; no progress line\n"
    "  --debug       debug log on stderr (never shows secrets)\n"
    "  -h, --help    this help\n"
    "  --version     print the version\n"
    "\n"
    "Environment: NO_COLOR disables colours.\n";

static const struct tm_command *s_find(const char *name) {
    for (const struct tm_command *c = s_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int tm_cli_usage_error(struct tm_cli *cli, const char *command, const char *fmt, ...) {
    (void)cli;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "tmscan: %s%s", command ? command : "", command ? ": " : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'tmscan help%s%s')\n", command ? " " : "", command ? command : "");
    return TM_EXIT_USAGE;
}

int tm_cli_print_usage(const char *command) {
    const struct tm_command *c = s_find(command);
    if (!c)
        return TM_EXIT_USAGE;
    fputs(c->usage, stdout);
    return TM_EXIT_OK;
}

int tm_cmd_version(struct tm_cli *cli, int argc, char **argv) {
    (void)cli;
    (void)argv;
    if (argc > 1)
        return tm_cli_usage_error(cli, "version", "unexpected argument '%s'", argv[1]);
    printf("tmscan %s\n", TM_VERSION);
    return TM_EXIT_OK;
}

int tm_cmd_help(struct tm_cli *cli, int argc, char **argv) {
    if (argc > 2)
        return tm_cli_usage_error(cli, "help", "too many arguments");
    if (argc == 2) {
        if (!s_find(argv[1]))
            return tm_cli_usage_error(cli, "help", "unknown command '%s'", argv[1]);
        return tm_cli_print_usage(argv[1]);
    }
    fputs(s_global_usage, stdout);
    fputs("\nCommands:\n", stdout);
    for (const struct tm_command *c = s_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->summary);
    return TM_EXIT_OK;
}

int main(int argc, char **argv) {
    struct tm_cli cli = {.prog = "tmscan"};
    bool quiet = false, debug = false;

    /* Strip global options wherever they stand before a "--", keeping the rest in order. */
    int n = 1;
    bool dashdash = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && strcmp(a, "--") == 0)
            dashdash = true;
        if (!dashdash && (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)) {
            quiet = true;
            continue;
        }
        if (!dashdash && strcmp(a, "--debug") == 0) {
            debug = true;
            continue;
        }
        argv[n++] = argv[i];
    }
    argc = n;
    tm_log_init(&cli.log, stderr, quiet, debug);

    if (argc < 2) {
        fputs(s_global_usage, stderr);
        return TM_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return tm_cmd_version(&cli, 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return tm_cmd_help(&cli, 1, argv + 1);
    if (cmd[0] == '-')
        return tm_cli_usage_error(&cli, NULL, "unknown option '%s'", cmd);
    const struct tm_command *c = s_find(cmd);
    if (!c)
        return tm_cli_usage_error(&cli, NULL, "unknown command '%s'", cmd);
    /* `tmscan CMD --help` prints the command's usage. */
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return tm_cli_print_usage(cmd);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        tm_log_error(&cli.log, "cannot initialise libcurl");
        return TM_EXIT_USAGE;
    }
    int rc = c->run(&cli, argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
}
