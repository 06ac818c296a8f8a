/* Query latency for the benchmark: blast radius from random starting points of a snapshot.
 *
 *     query_bench SNAPSHOT POLICIES_DIR QUERIES SEED [SECONDS]
 *
 * One `tmscan blast` process per query would time loading the snapshot and building the graph (seconds at
 * 100,000 resources), not the query, so this driver does what the command does once (load, catalogues, graph,
 * blast engine) and then times each query alone: resolving the starting point, the walk, and writing the
 * answer as the command's JSON. Starting points are drawn uniformly, with a fixed seed, from the snapshot's
 * principals and resources. It prints one JSON object: the setup times, and per measure the query count and
 * the median, 99th percentile and maximum in milliseconds. With SECONDS, it stops drawing queries once that
 * much time has passed since it started and says so ("complete": false); each setup step is also announced
 * on standard error as it ends, and so is each query (its time, what it reached, where it started), so a
 * caller that has to stop it keeps what was measured.
 *
 * Built by bench/run.py against the tree's libtmscan.a when analyzers/blast.h exists; not part of the
 * Makefile's targets. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzers/blast.h"
#include "analyzers/graph.h"
#include "analyzers/iam/catalog.h"
#include "analyzers/privesc_catalog.h"
#include "core/buf.h"
#include "core/snapshot.h"

static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same seed draws the same starting points on every machine. */
static uint64_t s_next(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int s_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static double s_quantile(const double *sorted, size_t n, double q) {
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static void s_print_stats(const char *name, double *ms, size_t n, int last) {
    qsort(ms, n, sizeof(*ms), s_cmp_double);
    printf("  \"%s\": {\"queries\": %zu, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f}%s\n", name, n,
           s_quantile(ms, n, 0.5), s_quantile(ms, n, 0.99), n ? ms[n - 1] : 0.0, last ? "" : ",");
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: query_bench SNAPSHOT POLICIES_DIR QUERIES SEED [SECONDS]\n");
        return 2;
    }
    double budget_s = argc == 6 ? strtod(argv[5], NULL) : 0.0;
    const char *snap_path = argv[1], *dir = argv[2];
    long queries = strtol(argv[3], NULL, 10);
    uint64_t seed = strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
    if (queries < 1) {
        fprintf(stderr, "query_bench: QUERIES must be at least 1\n");
        return 2;
    }
    int rc = 1;
    char err[1024] = "", path[4096];
    struct tm_snapshot *snap = NULL;
    struct tm_iam_catalog *actions = NULL;
    struct tm_privesc_catalog *privesc = NULL;
    struct tm_graph *g = NULL;
    struct tm_blast *b = NULL;
    uint32_t *pool = NULL;
    double *walk_ms = NULL, *answer_ms = NULL;
    struct tm_buf out;
    tm_buf_init(&out, 0);

    double t0 = s_now();
    if (tm_snapshot_load(&snap, snap_path, err, sizeof(err))) {
        fprintf(stderr, "query_bench: %s: %s\n", snap_path, err);
        goto done;
    }
    double t1 = s_now();
    fprintf(stderr, "query_bench: snapshot loaded in %.3f s\n", t1 - t0);
    snprintf(path, sizeof(path), "%s/iam-actions.json", dir);
    if (tm_iam_catalog_load(&actions, path, err, sizeof(err))) {
        fprintf(stderr, "query_bench: %s\n", err);
        goto done;
    }
    snprintf(path, sizeof(path), "%s/privesc.json", dir);
    if (tm_privesc_catalog_load(&privesc, path, actions, err, sizeof(err))) {
        fprintf(stderr, "query_bench: %s\n", err);
        goto done;
    }
    struct tm_graph_options gopts = {.actions = actions, .privesc = privesc};
    double t2 = s_now();
    if (tm_graph_build(&g, snap, &gopts, err, sizeof(err))) {
        fprintf(stderr, "query_bench: graph: %s\n", err);
        goto done;
    }
    double t3 = s_now();
    fprintf(stderr, "query_bench: graph built in %.3f s\n", t3 - t2);
    if (tm_blast_new(&b, g)) {
        fprintf(stderr, "query_bench: out of memory\n");
        goto done;
    }

    size_t n_nodes = tm_graph_node_count(g), n_pool = 0;
    pool = calloc(n_nodes ? n_nodes : 1, sizeof(*pool));
    walk_ms = calloc((size_t)queries, sizeof(*walk_ms));
    answer_ms = calloc((size_t)queries, sizeof(*answer_ms));
    if (!pool || !walk_ms || !answer_ms) {
        fprintf(stderr, "query_bench: out of memory\n");
        goto done;
    }
    for (uint32_t i = 0; i < n_nodes; i++) {
        const struct tm_graph_node *node = tm_graph_node(g, i);
        if ((node->flags & TM_GRAPH_NODE_IN_SNAPSHOT) &&
            (node->kind == TM_GRAPH_NODE_PRINCIPAL || node->kind == TM_GRAPH_NODE_RESOURCE))
            pool[n_pool++] = i;
    }
    if (!n_pool) {
        fprintf(stderr, "query_bench: the snapshot has no principal or resource to start from\n");
        goto done;
    }

    size_t reached = 0, slowest_reached = 0;
    long done_queries = 0;
    double slowest_ms = -1;
    const char *slowest_id = "";
    struct tm_blast_write_options wopts = {.format = TM_BLAST_JSON};
    struct tm_blast_options bopts = {.max_depth = 0};
    for (long q = 0; q < queries; q++, done_queries = q) {
        if (budget_s > 0 && s_now() - t0 > budget_s)
            break;
        const char *id = tm_graph_node(g, pool[s_next(&seed) % n_pool])->id;
        struct tm_blast_source src;
        double a = s_now();
        if (tm_blast_resolve(&src, g, id, err, sizeof(err)) || tm_blast_run(b, &src, &bopts)) {
            fprintf(stderr, "query_bench: blast from %s: %s\n", id, err[0] ? err : "failed");
            goto done;
        }
        double m = s_now();
        tm_buf_reset(&out);
        if (tm_blast_write(&out, b, &src, &wopts)) {
            fprintf(stderr, "query_bench: blast from %s: cannot write the answer\n", id);
            goto done;
        }
        double z = s_now();
        size_t n_hits = 0;
        (void)tm_blast_hits(b, &n_hits);
        reached += n_hits;
        walk_ms[q] = (m - a) * 1000.0;
        answer_ms[q] = (z - a) * 1000.0;
        /* One line per query as it ends: a caller that must stop a slow run keeps what was measured. */
        if (answer_ms[q] > slowest_ms) {
            slowest_ms = answer_ms[q];
            slowest_id = id;
            slowest_reached = n_hits;
        }
        fprintf(stderr, "query_bench: query %ld %.4f ms %zu reached from %s\n", q + 1, answer_ms[q], n_hits, id);
    }
    if (done_queries < 1) {
        fprintf(stderr, "query_bench: no query within %.0f s\n", budget_s);
        goto done;
    }

    printf("{\n  \"snapshot_load_s\": %.3f,\n  \"graph_build_s\": %.3f,\n  \"nodes\": %zu,\n  \"edges\": %zu,\n"
           "  \"starting_points\": %zu,\n  \"mean_reached\": %.1f,\n  \"complete\": %s,\n"
           "  \"slowest\": {\"from\": \"%s\", \"ms\": %.4f, \"reached\": %zu},\n",
           t1 - t0, t3 - t2, n_nodes, tm_graph_edge_count(g), n_pool, (double)reached / (double)done_queries,
           done_queries == queries ? "true" : "false", slowest_id, slowest_ms, slowest_reached);
    s_print_stats("blast_walk", walk_ms, (size_t)done_queries, 0);
    s_print_stats("blast", answer_ms, (size_t)done_queries, 1);
    printf("}\n");
    rc = 0;
done:
    tm_buf_clean_up(&out);
    free(answer_ms);
    free(walk_ms);
    free(pool);
    tm_blast_destroy(b);
    tm_graph_destroy(g);
    tm_privesc_catalog_destroy(privesc);
    tm_iam_catalog_destroy(actions);
    tm_snapshot_destroy(snap);
    return rc;
}
