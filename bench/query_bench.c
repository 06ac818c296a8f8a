/* Query latency for the benchmark: blast radius and who-can on random questions about a snapshot.
 *
 *     query_bench SNAPSHOT POLICIES_DIR QUERIES SEED [SECONDS]
 *
 * One `tmscan blast` or `tmscan query` process per question would time loading the snapshot and building the
 * graph (seconds at 100,000 resources), not the question, so this driver does once what the commands do
 * before answering (snapshot, catalogues, graph, blast and query engines) and then times each question
 * alone, the way the command answers it: for blast radius, resolving the starting point, the walk and writing
 * the JSON answer (with the command's default --limit); for who-can, the analysis, the JSON answer and releasing it.
 * Questions are drawn with a fixed seed: blast radius from any principal or resource of the snapshot, who-can about its
 * data and compute resources, each with the action that matters for its type (s3:GetObject on a bucket, sts:AssumeRole
 * on a role, ...).
 *
 * It prints one JSON object: the setup times, and per kind the questions answered and the median, 99th
 * percentile and maximum in milliseconds, the slowest question, and whether all QUERIES were answered. With
 * SECONDS, each kind gets half of that time from the start and stops drawing questions when it is spent
 * ("complete": false). Each setup step and each answered question is also written to standard error as it
 * ends, so a caller that has to stop the driver keeps what was measured.
 *
 * Built by `make all` (bin/query_bench, under -Werror like everything else); bench/run.py runs it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzers/blast.h"
#include "analyzers/graph.h"
#include "analyzers/iam/catalog.h"
#include "analyzers/privesc_catalog.h"
#include "analyzers/query.h"
#include "core/buf.h"
#include "core/snapshot.h"

/* The action a who-can question asks about, per snapshot type. */
static const struct {
    const char *type;
    const char *action;
} s_who_actions[] = {
    {"aws:s3:bucket", "s3:GetObject"},
    {"aws:sqs:queue", "sqs:SendMessage"},
    {"aws:sns:topic", "sns:Publish"},
    {"aws:kms:key", "kms:Decrypt"},
    {"aws:secretsmanager:secret", "secretsmanager:GetSecretValue"},
    {"aws:ecr:repository", "ecr:BatchGetImage"},
    {"aws:lambda:function", "lambda:InvokeFunction"},
    {"aws:iam:role", "sts:AssumeRole"},
};

struct s_stats {
    const char *name;
    double *ms;
    long done;
    double slowest_ms;
    const char *slowest; /* the question, as an id (blast) or "ACTION on ARN" (who-can) */
    char slowest_buf[1024];
    size_t reached; /* blast: nodes reached, over all questions; who-can: grantees */
};

static double s_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same seed draws the same questions on every machine. */
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

static void s_record(struct s_stats *st, double ms, size_t reached, const char *what, const char *resource) {
    st->ms[st->done++] = ms;
    st->reached += reached;
    if (ms > st->slowest_ms) {
        st->slowest_ms = ms;
        snprintf(st->slowest_buf, sizeof(st->slowest_buf), "%s%s%s", what, resource ? " on " : "",
                 resource ? resource : "");
        st->slowest = st->slowest_buf;
    }
    fprintf(stderr, "query_bench: %s %ld %.4f ms %zu reached from %s%s%s\n", st->name, st->done, ms, reached, what,
            resource ? " on " : "", resource ? resource : "");
}

static void s_print_stats(struct s_stats *st, long asked, int last) {
    size_t n = (size_t)st->done;
    qsort(st->ms, n, sizeof(*st->ms), s_cmp_double);
    printf("  \"%s\": {\"queries\": %zu, \"complete\": %s, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"max_ms\": %.4f, "
           "\"mean_reached\": %.1f, \"slowest\": \"%s\"}%s\n",
           st->name, n, st->done == asked ? "true" : "false", n ? s_quantile(st->ms, n, 0.5) : 0.0,
           n ? s_quantile(st->ms, n, 0.99) : 0.0, n ? st->ms[n - 1] : 0.0, n ? (double)st->reached / (double)n : 0.0,
           st->slowest ? st->slowest : "", last ? "" : ",");
}

static const char *s_who_action(const char *type) {
    for (size_t i = 0; i < sizeof(s_who_actions) / sizeof(s_who_actions[0]); i++)
        if (type && strcmp(type, s_who_actions[i].type) == 0)
            return s_who_actions[i].action;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: query_bench SNAPSHOT POLICIES_DIR QUERIES SEED [SECONDS]\n");
        return 2;
    }
    const char *snap_path = argv[1], *dir = argv[2];
    long queries = strtol(argv[3], NULL, 10);
    uint64_t seed = strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ULL + 1;
    double budget_s = argc == 6 ? strtod(argv[5], NULL) : 0.0;
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
    struct tm_query *qe = NULL;
    uint32_t *pool = NULL, *who_pool = NULL;
    struct s_stats blast = {.name = "blast", .slowest_ms = -1}, who = {.name = "whocan", .slowest_ms = -1};
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
    if (tm_blast_new(&b, g) || tm_query_new(&qe, g, actions)) {
        fprintf(stderr, "query_bench: out of memory\n");
        goto done;
    }

    size_t n_nodes = tm_graph_node_count(g), n_pool = 0, n_who = 0;
    pool = calloc(n_nodes ? n_nodes : 1, sizeof(*pool));
    who_pool = calloc(n_nodes ? n_nodes : 1, sizeof(*who_pool));
    blast.ms = calloc((size_t)queries, sizeof(double));
    who.ms = calloc((size_t)queries, sizeof(double));
    if (!pool || !who_pool || !blast.ms || !who.ms) {
        fprintf(stderr, "query_bench: out of memory\n");
        goto done;
    }
    for (uint32_t i = 0; i < n_nodes; i++) {
        const struct tm_graph_node *node = tm_graph_node(g, i);
        if (!(node->flags & TM_GRAPH_NODE_IN_SNAPSHOT))
            continue;
        if (node->kind == TM_GRAPH_NODE_PRINCIPAL || node->kind == TM_GRAPH_NODE_RESOURCE)
            pool[n_pool++] = i;
        if (s_who_action(node->type))
            who_pool[n_who++] = i;
    }
    if (!n_pool || !n_who) {
        fprintf(stderr, "query_bench: the snapshot has nothing to ask about\n");
        goto done;
    }

    /* Blast radius, in the first half of the time. */
    /* As `tmscan blast --format json` answers by default: every node counted, TM_BLAST_DEFAULT_LIMIT listed per
     * group (crown jewels first), and "everything in account X" for a start that becomes its administrator. */
    struct tm_blast_write_options wopts = {.format = TM_BLAST_JSON, .limit = TM_BLAST_DEFAULT_LIMIT};
    struct tm_blast_options bopts = {.max_depth = 0};
    for (long q = 0; q < queries; q++) {
        if (budget_s > 0 && s_now() - t0 > budget_s / 2)
            break;
        const char *id = tm_graph_node(g, pool[s_next(&seed) % n_pool])->id;
        struct tm_blast_source src;
        double a = s_now();
        if (tm_blast_resolve(&src, g, id, err, sizeof(err)) || tm_blast_run(b, &src, &bopts)) {
            fprintf(stderr, "query_bench: blast from %s: %s\n", id, err[0] ? err : "failed");
            goto done;
        }
        tm_buf_reset(&out);
        if (tm_blast_write(&out, b, &src, &wopts)) {
            fprintf(stderr, "query_bench: blast from %s: cannot write the answer\n", id);
            goto done;
        }
        double z = s_now();
        size_t n_hits = 0;
        (void)tm_blast_hits(b, &n_hits);
        s_record(&blast, (z - a) * 1000.0, n_hits, id, NULL);
    }

    /* Who-can, in the rest. */
    for (long q = 0; q < queries; q++) {
        if (budget_s > 0 && s_now() - t0 > budget_s)
            break;
        const struct tm_graph_node *node = tm_graph_node(g, who_pool[s_next(&seed) % n_who]);
        const char *action = s_who_action(node->type);
        struct tm_query_who answer;
        memset(&answer, 0, sizeof(answer));
        double a = s_now();
        int qrc = tm_query_who_can(qe, &answer, action, node->id, err, sizeof(err));
        if (!qrc) {
            tm_buf_reset(&out);
            qrc = tm_query_who_write(&out, qe, &answer, TM_QUERY_JSON);
        }
        size_t grantees = answer.n_grantees;
        tm_query_who_clean_up(&answer);
        double z = s_now();
        if (qrc) {
            fprintf(stderr, "query_bench: who-can %s on %s: %s\n", action, node->id, err[0] ? err : "failed");
            goto done;
        }
        s_record(&who, (z - a) * 1000.0, grantees, action, node->id);
    }

    printf("{\n  \"snapshot_load_s\": %.3f,\n  \"graph_build_s\": %.3f,\n  \"nodes\": %zu,\n  \"edges\": %zu,\n"
           "  \"starting_points\": %zu,\n  \"who_can_resources\": %zu,\n",
           t1 - t0, t3 - t2, n_nodes, tm_graph_edge_count(g), n_pool, n_who);
    s_print_stats(&blast, queries, 0);
    s_print_stats(&who, queries, 1);
    printf("}\n");
    rc = 0;
done:
    tm_buf_clean_up(&out);
    free(who.ms);
    free(blast.ms);
    free(who_pool);
    free(pool);
    tm_query_destroy(qe);
    tm_blast_destroy(b);
    tm_graph_destroy(g);
    tm_privesc_catalog_destroy(privesc);
    tm_iam_catalog_destroy(actions);
    tm_snapshot_destroy(snap);
    return rc;
}
