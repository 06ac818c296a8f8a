#include "analyzers/report/report.h"

#include <string.h>

static const struct tm_report_format s_json = {"json", "machine-readable findings and summary", tm_report_write_json,
                                               tm_report_stream_json};
static const struct tm_report_format s_sarif = {"sarif", "SARIF 2.1.0 (GitHub code scanning)", tm_report_write_sarif,
                                                tm_report_stream_sarif};
static const struct tm_report_format s_md = {"md", "Markdown threat model for people", tm_report_write_markdown,
                                             tm_report_stream_markdown};
static const struct tm_report_format s_dot = {"dot", "Graphviz data-flow diagram with trust boundaries",
                                              tm_report_write_dot, NULL};
static const struct tm_report_format s_mermaid = {"mermaid", "Mermaid data-flow diagram with trust boundaries",
                                                  tm_report_write_mermaid, NULL};

const struct tm_report_format *const tm_report_formats[] = {&s_json, &s_sarif, &s_md, &s_dot, &s_mermaid, NULL};

const struct tm_report_format *tm_report_find(const char *name) {
    for (size_t i = 0; tm_report_formats[i]; i++)
        if (strcmp(tm_report_formats[i]->name, name) == 0)
            return tm_report_formats[i];
    if (strcmp(name, "markdown") == 0)
        return &s_md;
    return NULL;
}

void tm_report_count(const struct tm_report_input *in, struct tm_report_counts *out) {
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; in->findings && i < in->findings->count; i++) {
        const struct tm_finding *f = in->findings->items[i];
        out->total++;
        if ((unsigned)f->status < 3)
            out->by_status[f->status]++;
        if (f->status == TM_STATUS_NEW && (unsigned)f->severity <= TM_SEV_CRITICAL)
            out->by_severity[f->severity]++;
    }
    if (in->snap) {
        out->coverage_gaps = tm_snapshot_error_count(in->snap);
        out->resources = tm_snapshot_count(in->snap);
    }
}

int tm_report_out_flush(struct tm_report_out *o, size_t at_least) {
    if (!o->sink || o->b->len < at_least)
        return TM_OK;
    int rc = o->sink(tm_buf_str(o->b), o->b->len, o->user_data);
    tm_buf_reset(o->b);
    return rc;
}

int tm_report_out_write(struct tm_buf *out, const struct tm_report_input *in, tm_report_body_fn body) {
    struct tm_report_out o = {.b = out};
    return body(&o, in);
}

int tm_report_out_stream(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data,
                         tm_report_body_fn body) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    struct tm_report_out o = {.b = &b, .sink = sink, .user_data = user_data};
    int rc = body(&o, in);
    tm_buf_clean_up(&b);
    return rc;
}
