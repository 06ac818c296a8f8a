#include "cmd/tmscan/analysis.h"

#include <stdio.h>
#include <string.h>

#include "analyzers/graph.h"
#include "analyzers/iam/catalog.h"
#include "analyzers/privesc_catalog.h"
#include "cmd/tmscan/paths.h"
#include "core/str.h"

int tm_cli_catalogs_load(struct tm_cli_catalogs *out, struct tm_cli *cli, const char *command,
                         const char *policies_dir) {
    memset(out, 0, sizeof(*out));
    char dir[4096], path[4200], err[1024] = "";
    if (tm_cli_policies_dir(dir, sizeof(dir), policies_dir)) {
        tm_log_error(&cli->log, "%s: cannot find tmscan's policies directory%s%s (use --policies-dir)", command,
                     policies_dir ? ": " : "", policies_dir ? policies_dir : "");
        return TM_EXIT_USAGE;
    }
    if (tm_cli_policy_file(path, sizeof(path), dir, "iam-actions.json") ||
        tm_iam_catalog_load(&out->actions, path, err, sizeof(err)) ||
        tm_cli_policy_file(path, sizeof(path), dir, "privesc.json") ||
        tm_privesc_catalog_load(&out->privesc, path, out->actions, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err[0] ? err : "policies directory path too long");
        tm_cli_catalogs_clean_up(out);
        return TM_EXIT_USAGE;
    }
    return TM_EXIT_OK;
}

void tm_cli_catalogs_clean_up(struct tm_cli_catalogs *c) {
    if (!c)
        return;
    tm_privesc_catalog_destroy(c->privesc);
    tm_iam_catalog_destroy(c->actions);
    memset(c, 0, sizeof(*c));
}

int tm_cli_graph_load(struct tm_cli_graph *out, struct tm_cli *cli, const char *command, const char *snapshot,
                      const char *policies_dir) {
    memset(out, 0, sizeof(*out));
    char err[1024] = "";
    if (tm_snapshot_load(&out->snap, snapshot, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        return TM_EXIT_USAGE;
    }
    int rc = tm_cli_catalogs_load(&out->cat, cli, command, policies_dir);
    if (rc) {
        tm_cli_graph_clean_up(out);
        return rc;
    }
    struct tm_graph_options o = {.actions = out->cat.actions, .privesc = out->cat.privesc};
    if (tm_graph_build(&out->graph, out->snap, &o, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        tm_cli_graph_clean_up(out);
        return TM_EXIT_USAGE;
    }
    tm_log_debug(&cli->log, "%s: graph of %zu nodes and %zu edges", command, tm_graph_node_count(out->graph),
                 tm_graph_edge_count(out->graph));
    return TM_EXIT_OK;
}

void tm_cli_graph_clean_up(struct tm_cli_graph *g) {
    if (!g)
        return;
    tm_graph_destroy(g->graph);
    tm_cli_catalogs_clean_up(&g->cat);
    tm_snapshot_destroy(g->snap);
    memset(g, 0, sizeof(*g));
}

int tm_cli_write_output(struct tm_cli *cli, const char *command, const char *path, const struct tm_buf *b) {
    if (!path || strcmp(path, "-") == 0) {
        if (fwrite(tm_buf_str(b), 1, b->len, stdout) != b->len || fflush(stdout) != 0) {
            tm_log_error(&cli->log, "%s: cannot write to standard output", command);
            return TM_EXIT_USAGE;
        }
        return TM_EXIT_OK;
    }
    char err[512] = "";
    if (tm_file_write_atomic(path, tm_buf_str(b), b->len, 0600, err, sizeof(err))) {
        tm_log_error(&cli->log, "%s: %s", command, err);
        return TM_EXIT_USAGE;
    }
    return TM_EXIT_OK;
}
