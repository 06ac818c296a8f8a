/* What every analysing command loads before it can answer: tmscan's data files (the action catalogue and the
 * privilege-escalation catalogue from the policies directory) and, for the commands that walk it, the trust
 * graph of a snapshot. Shared by `report`, `blast` and `query` so they read the same files the same way. */
#ifndef TM_CMD_ANALYSIS_H
#define TM_CMD_ANALYSIS_H

#include "cmd/tmscan/cli.h"
#include "core/buf.h"
#include "core/snapshot.h"

struct tm_iam_catalog;
struct tm_privesc_catalog;
struct tm_graph;

struct tm_cli_catalogs {
    struct tm_iam_catalog *actions;     /* policies/iam-actions.json */
    struct tm_privesc_catalog *privesc; /* policies/privesc.json */
};

/* Loads both catalogues from the policies directory (--policies-dir, $TMSCAN_POLICIES_DIR, or next to the
 * binary). Logs what failed, naming the command. Returns an exit code: 0, or 2 (missing or bad data files). */
int tm_cli_catalogs_load(struct tm_cli_catalogs *out, struct tm_cli *cli, const char *command,
                         const char *policies_dir);
void tm_cli_catalogs_clean_up(struct tm_cli_catalogs *c);

/* A snapshot, the catalogues and the graph built from them. */
struct tm_cli_graph {
    struct tm_snapshot *snap;
    struct tm_cli_catalogs cat;
    struct tm_graph *graph;
};

/* Before a large snapshot is loaded: grows the heap once, with transparent huge pages (analysis.c says why).
 * Changes nothing but speed; does nothing for small snapshots. */
void tm_cli_heap_prepare(const char *snapshot_path);

/* Loads the snapshot file and the catalogues and builds the graph. Returns an exit code: 0, or 2 (unreadable
 * snapshot or data files; the error is logged). */
int tm_cli_graph_load(struct tm_cli_graph *out, struct tm_cli *cli, const char *command, const char *snapshot,
                      const char *policies_dir);
void tm_cli_graph_clean_up(struct tm_cli_graph *g);

/* Writes a command's output to path (atomically, mode 0600), or to standard output when path is NULL or "-".
 * Returns an exit code: 0, or 2 (logged). */
int tm_cli_write_output(struct tm_cli *cli, const char *command, const char *path, const struct tm_buf *b);

#endif
