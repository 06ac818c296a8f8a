/* The tmscan command line: the table of subcommands and what every subcommand receives. */
#ifndef TM_CMD_CLI_H
#define TM_CMD_CLI_H

#include "core/log.h"

/* Exit codes, documented in README.md. */
enum tm_exit {
    TM_EXIT_OK = 0,         /* nothing at or above --fail-on */
    TM_EXIT_FINDINGS = 1,   /* findings at or above --fail-on (or: public/cross-account for policy check) */
    TM_EXIT_USAGE = 2,      /* bad usage or bad input */
    TM_EXIT_INCOMPLETE = 3, /* a scan finished but some calls failed: the snapshot has coverage gaps */
};

struct tm_cli {
    struct tm_log log; /* the one logger, on stderr */
    const char *prog;  /* "tmscan" */
};

typedef int (*tm_cmd_fn)(struct tm_cli *cli, int argc, char **argv);

struct tm_command {
    const char *name;
    tm_cmd_fn run;
    const char *summary; /* one line for `tmscan --help` */
    const char *usage;   /* full text for `tmscan help <command>` and `<command> --help` */
};

/* Prints "tmscan: <command>: <message>" and a hint to stderr; returns TM_EXIT_USAGE. */
int tm_cli_usage_error(struct tm_cli *cli, const char *command, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints the usage text of a command to stdout; returns TM_EXIT_OK. */
int tm_cli_print_usage(const char *command);

/* Each subcommand, one file each (cmd_<name>.c). */
int tm_cmd_help(struct tm_cli *cli, int argc, char **argv);
int tm_cmd_version(struct tm_cli *cli, int argc, char **argv);
int tm_cmd_report(struct tm_cli *cli, int argc, char **argv);
int tm_cmd_policy(struct tm_cli *cli, int argc, char **argv);
int tm_cmd_scan(struct tm_cli *cli, int argc, char **argv);
extern const char tm_cmd_scan_usage[];
extern const char tm_cmd_policy_usage[];
int tm_cmd_blast(struct tm_cli *cli, int argc, char **argv);
extern const char tm_cmd_blast_usage[];
int tm_cmd_query(struct tm_cli *cli, int argc, char **argv);
extern const char tm_cmd_query_usage[];
int tm_cmd_whoami(struct tm_cli *cli, int argc, char **argv);
extern const char tm_cmd_whoami_usage[];

#endif
