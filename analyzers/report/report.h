/* Report writers: one table row per format (json, sarif, md, dot, mermaid). Each writes the whole
 * report into a buffer, deterministically: the same snapshot, findings and rules give the same bytes. */
#ifndef TM_ANALYZERS_REPORT_H
#define TM_ANALYZERS_REPORT_H

#include "analyzers/findings.h"
#include "analyzers/rules.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/snapshot.h"

struct tm_report_input {
    struct tm_snapshot *snap;           /* scope, resource count, errors */
    const struct tm_findings *findings; /* sorted (tm_findings_sort) */
    const struct tm_rules *rules;       /* rule metadata, for SARIF's rule descriptions */
    const char *snapshot_name;          /* how the snapshot is referred to (SARIF artifact uri); may be NULL */
    const char *policy_name;            /* the recognised-exposure file applied, or NULL */
};

typedef int (*tm_report_write_fn)(struct tm_buf *out, const struct tm_report_input *in);
/* Takes the next piece of a report written piece by piece; a non-zero return stops the writer with it. */
typedef int (*tm_report_sink_fn)(const char *data, size_t len, void *user_data);
/* Writes the same bytes as the format's write, handing them to sink in pieces of about a megabyte, so a
 * large report is never held whole. */
/* A streaming writer's output: the text collects in b and, with a sink, is handed to it a piece at a time
 * (between findings), so a large report never sits whole in memory. */
#define TM_REPORT_PIECE_BYTES ((size_t)1 << 20)
struct tm_report_out {
    struct tm_buf *b;
    tm_report_sink_fn sink; /* NULL: everything stays in b */
    void *user_data;
};
/* Hands b to the sink and empties it once it holds at_least bytes (0: whatever it holds); without a sink,
 * nothing happens. */
TM_MUST_CHECK int tm_report_out_flush(struct tm_report_out *o, size_t at_least);
/* A writer's body: the report into o, flushing as it goes and once at the end. */
typedef int (*tm_report_body_fn)(struct tm_report_out *o, const struct tm_report_input *in);
/* body into out, whole. */
TM_MUST_CHECK int tm_report_out_write(struct tm_buf *out, const struct tm_report_input *in, tm_report_body_fn body);
/* body to the sink a piece at a time, through a buffer of its own. */
TM_MUST_CHECK int tm_report_out_stream(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data,
                                       tm_report_body_fn body);

typedef int (*tm_report_stream_fn)(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data);

struct tm_report_format {
    const char *name;        /* "json" */
    const char *description; /* one line for --help */
    tm_report_write_fn write;
    tm_report_stream_fn stream; /* NULL: the format is written whole */
};

/* The formats, NULL-terminated. */
extern const struct tm_report_format *const tm_report_formats[];

const struct tm_report_format *tm_report_find(const char *name);

/* The writers; module-internal but callable directly in tests. */
TM_MUST_CHECK int tm_report_write_json(struct tm_buf *out, const struct tm_report_input *in);
TM_MUST_CHECK int tm_report_stream_json(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data);
TM_MUST_CHECK int tm_report_write_sarif(struct tm_buf *out, const struct tm_report_input *in);
TM_MUST_CHECK int tm_report_stream_sarif(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data);
TM_MUST_CHECK int tm_report_write_markdown(struct tm_buf *out, const struct tm_report_input *in);
TM_MUST_CHECK int tm_report_stream_markdown(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data);
TM_MUST_CHECK int tm_report_write_dot(struct tm_buf *out, const struct tm_report_input *in);
TM_MUST_CHECK int tm_report_write_mermaid(struct tm_buf *out, const struct tm_report_input *in);

/* Counts used by several writers. */
struct tm_report_counts {
    size_t total;
    size_t by_severity[TM_SEV_CRITICAL + 1]; /* status new only */
    size_t by_status[3];
    size_t coverage_gaps; /* snapshot errors */
    size_t resources;
};
void tm_report_count(const struct tm_report_input *in, struct tm_report_counts *out);

#endif
