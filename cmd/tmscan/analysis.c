#include "cmd/tmscan/analysis.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

/* Loading a snapshot builds millions of small objects (every JSON value of it, in the blocks of its arena,
 * then the graph and the findings): at 100,000 resources, 420 MB touched a 4 KiB page at a time, and the page
 * faults and TLB misses cost about as much as the parsing. Growing the heap once, by about what the analysis
 * will use, and asking for transparent huge pages there (the kernel's "madvise" mode) serves it 2 MiB at a
 * time. Only for large snapshots; memory not touched is never backed; without THP or with a sanitizer's
 * allocator, nothing happens.
 *
 * Even in large pages, the kernel zeroing each new page (and, on a virtual machine, the host backing it) is a
 * fifth of the analysis. The analysis runs on one core (but for half the snapshot's parse), so a thread on the
 * other faults in the front of the prepared heap, where the allocations are about to land: MADV_POPULATE_WRITE
 * backs pages without writing to them, so it cannot disturb what malloc keeps there. It populates only what
 * the analysis will use (two and a half bytes per snapshot byte; at 100,000 resources the heap peaks at about
 * 2.6), a block at a time from the front; the process does not wait for it. */
#define S_HUGE_HEAP_MIN_SNAPSHOT_BYTES ((off_t)4 << 20)
#define S_HUGE_HEAP_PER_SNAPSHOT_BYTE 6
#define S_HUGE_PAGE_BYTES ((uintptr_t)2 << 20)
#define S_PREFAULT_PER_SNAPSHOT_BYTE_NUM 5
#define S_PREFAULT_PER_SNAPSHOT_BYTE_DEN 2
#define S_PREFAULT_STEP_BYTES ((uintptr_t)16 << 20)

#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
struct s_prefault {
    uintptr_t start;
    uintptr_t end;
};

static void *s_prefault_run(void *arg) {
    struct s_prefault p = *(struct s_prefault *)arg;
    free(arg);
#if defined(MADV_POPULATE_WRITE)
    for (uintptr_t at = p.start; at < p.end; at += S_PREFAULT_STEP_BYTES) {
        size_t n = p.end - at < S_PREFAULT_STEP_BYTES ? p.end - at : S_PREFAULT_STEP_BYTES;
        if (madvise((void *)at, n, MADV_POPULATE_WRITE) != 0)
            break; /* an older kernel (EINVAL) or no memory: the analysis faults the pages in itself */
    }
#endif
    return NULL;
}

static void s_prefault_start(uintptr_t start, uintptr_t end) {
    struct s_prefault *p = malloc(sizeof(*p));
    if (!p)
        return;
    *p = (struct s_prefault){start, end};
    pthread_attr_t attr;
    pthread_t t;
    if (pthread_attr_init(&attr) != 0) {
        free(p);
        return;
    }
    if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
        pthread_create(&t, &attr, s_prefault_run, p) != 0)
        free(p);
    pthread_attr_destroy(&attr);
}
#endif

void tm_cli_heap_prepare(const char *snapshot_path) {
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
    struct stat st;
    if (stat(snapshot_path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < S_HUGE_HEAP_MIN_SNAPSHOT_BYTES ||
        (uint64_t)st.st_size > SIZE_MAX / 2 / S_HUGE_HEAP_PER_SNAPSHOT_BYTE)
        return;
    size_t want = (size_t)st.st_size * S_HUGE_HEAP_PER_SNAPSHOT_BYTE;
    /* The block must come from the heap (not a mapping of its own), and stay with the process once freed
     * (not trimmed), so the small allocations that follow are carved from it. */
    if (mallopt(M_TRIM_THRESHOLD, INT32_MAX) != 1 || mallopt(M_MMAP_MAX, 0) != 1)
        return;
    /* The snapshot's second parsing thread (core/jsonarena.c) takes its blocks from this heap too, not from
     * an arena of its own in fresh mappings: it asks for a block only every 64 KiB, so sharing the lock costs
     * nothing. */
    (void)mallopt(M_ARENA_MAX, 1);
    char *block = malloc(want);
    (void)mallopt(M_MMAP_MAX, 65536); /* glibc's default: large buffers are mappings again */
    if (!block)
        return;
    uintptr_t start = ((uintptr_t)block + S_HUGE_PAGE_BYTES - 1) & ~(S_HUGE_PAGE_BYTES - 1);
    uintptr_t end = ((uintptr_t)block + want) & ~(S_HUGE_PAGE_BYTES - 1);
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
    free(block);
    uintptr_t prefault_end =
        start + (((size_t)st.st_size / S_PREFAULT_PER_SNAPSHOT_BYTE_DEN * S_PREFAULT_PER_SNAPSHOT_BYTE_NUM) &
                 ~(S_HUGE_PAGE_BYTES - 1));
    if (end > start && prefault_end <= end)
        s_prefault_start(start, prefault_end);
#else
    (void)snapshot_path;
#endif
}

int tm_cli_graph_load(struct tm_cli_graph *out, struct tm_cli *cli, const char *command, const char *snapshot,
                      const char *policies_dir) {
    memset(out, 0, sizeof(*out));
    char err[1024] = "";
    tm_cli_heap_prepare(snapshot);
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
