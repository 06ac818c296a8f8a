/* SARIF 2.1.0, shaped for GitHub code scanning: every result has a physical location (the snapshot,
 * which is what the result was computed from), a logical location (the resource ARN), a stable
 * partial fingerprint (the finding id) and a rule with a security-severity. */
#include "analyzers/report/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

/* GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low (< 4). */
static const char *s_security_severity(enum tm_severity sev) {
    switch (sev) {
        case TM_SEV_CRITICAL:
            return "9.5";
        case TM_SEV_HIGH:
            return "8.0";
        case TM_SEV_MEDIUM:
            return "5.5";
        case TM_SEV_LOW:
            return "3.0";
        case TM_SEV_INFO:
            return "1.0";
        default:
            return "1.0";
    }
}

static const char *s_level(enum tm_severity sev) {
    switch (sev) {
        case TM_SEV_CRITICAL:
        case TM_SEV_HIGH:
            return "error";
        case TM_SEV_MEDIUM:
            return "warning";
        case TM_SEV_LOW:
        case TM_SEV_INFO:
            return "note";
        default:
            return "note";
    }
}

static cJSON *s_text(const char *t) {
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "text", t ? t : "")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool s_add(cJSON *obj, const char *key, cJSON *item) {
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *s_strv(char *const *v, size_t n, const char *prefix) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        char tag[160];
        snprintf(tag, sizeof(tag), "%s%s", prefix, v[i]);
        cJSON *s = cJSON_CreateString(tag);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

static cJSON *s_rule(const struct tm_rule *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON *props = o ? cJSON_CreateObject() : NULL;
    cJSON *tags = s_strv(r->stride, r->n_stride, "STRIDE/");
    bool ok = o && props && tags;
    for (size_t i = 0; ok && i < r->n_attack; i++) {
        char t[64];
        snprintf(t, sizeof(t), "external/mitre-attack/%s", r->attack[i]);
        cJSON *s = cJSON_CreateString(t);
        ok = s && cJSON_AddItemToArray(tags, s);
        if (!ok)
            cJSON_Delete(s);
    }
    cJSON *cat = ok ? cJSON_CreateString("security") : NULL;
    ok = ok && cat && cJSON_AddItemToArray(tags, cat);
    if (ok) {
        ok = cJSON_AddItemToObject(props, "tags", tags) &&
             cJSON_AddStringToObject(props, "security-severity", s_security_severity(r->severity)) &&
             cJSON_AddStringToObject(props, "category", r->category);
        tags = NULL;
    }
    cJSON *cfg = ok ? cJSON_CreateObject() : NULL;
    ok = ok && cfg && cJSON_AddStringToObject(cfg, "level", s_level(r->severity));
    ok = ok && cJSON_AddStringToObject(o, "id", r->id) && cJSON_AddStringToObject(o, "name", r->id) &&
         s_add(o, "shortDescription", s_text(r->title)) && s_add(o, "fullDescription", s_text(r->description)) &&
         s_add(o, "help", s_text(r->fix)) && s_add(o, "defaultConfiguration", cfg);
    cfg = NULL;
    ok = ok && s_add(o, "properties", props);
    props = NULL;
    cJSON_Delete(tags);
    cJSON_Delete(props);
    cJSON_Delete(cfg);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int s_rule_index(const struct tm_rules *rules, const char *id) {
    for (size_t i = 0; rules && i < rules->count; i++)
        if (strcmp(rules->items[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* printf's "%s" of NULL, which the message always wrote for a missing end of a step. */
static const char *s_or_null(const char *s) {
    return s ? s : "(null)";
}

static cJSON *s_message(const struct tm_finding *f) {
    struct tm_buf m;
    tm_buf_init(&m, 0);
    int rc = tm_buf_append_str(&m, f->title ? f->title : "");
    if (!rc)
        rc = tm_buf_append_str(&m, "\n\n");
    if (!rc)
        rc = tm_buf_append_str(&m, f->explanation ? f->explanation : "");
    if (!rc && f->path_len) {
        rc = tm_buf_append_str(&m, "\n\nPath:");
        for (size_t i = 0; i < f->path_len && !rc; i++) {
            char num[32];
            snprintf(num, sizeof(num), "\n%zu. ", i + 1);
            const char *parts[] = {num,    s_or_null(f->path[i].from), " -[", s_or_null(f->path[i].kind),
                                   "]-> ", s_or_null(f->path[i].to)};
            for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]) && !rc; k++)
                rc = tm_buf_append_str(&m, parts[k]);
        }
        if (!rc && f->list_all)
            rc = tm_buf_appendf(&m, "\n(%zu of %zu crown jewels shown, the most sensitive first; %s lists them all)",
                                f->reaches_listed, f->reaches, f->list_all);
    }
    if (!rc && f->fix) {
        rc = tm_buf_append_str(&m, "\n\nFix: ");
        if (!rc)
            rc = tm_buf_append_str(&m, f->fix);
    }
    cJSON *o = rc ? NULL : s_text(tm_buf_str(&m));
    tm_buf_clean_up(&m);
    return o;
}

static cJSON *s_result(const struct tm_finding *f, const struct tm_report_input *in) {
    cJSON *r = cJSON_CreateObject();
    if (!r)
        return NULL;
    int idx = s_rule_index(in->rules, f->rule);
    cJSON *locs = cJSON_CreateArray();
    cJSON *loc = cJSON_CreateObject();
    cJSON *phys = cJSON_CreateObject();
    cJSON *art = cJSON_CreateObject();
    cJSON *region = cJSON_CreateObject();
    cJSON *logs = cJSON_CreateArray();
    cJSON *lg = cJSON_CreateObject();
    cJSON *fp = cJSON_CreateObject();
    cJSON *props = cJSON_CreateObject();
    bool ok = locs && loc && phys && art && region && logs && lg && fp && props;
    ok = ok && cJSON_AddStringToObject(art, "uri", in->snapshot_name ? in->snapshot_name : "snapshot.json") &&
         cJSON_AddNumberToObject(region, "startLine", 1) && cJSON_AddItemToObject(phys, "artifactLocation", art);
    if (ok)
        art = NULL;
    ok = ok && cJSON_AddItemToObject(phys, "region", region);
    if (ok)
        region = NULL;
    ok = ok && cJSON_AddItemToObject(loc, "physicalLocation", phys);
    if (ok)
        phys = NULL;
    ok = ok && cJSON_AddStringToObject(lg, "fullyQualifiedName", f->resource ? f->resource : "") &&
         cJSON_AddStringToObject(lg, "kind", "resource") && cJSON_AddItemToArray(logs, lg);
    if (ok)
        lg = NULL;
    ok = ok && cJSON_AddItemToObject(loc, "logicalLocations", logs);
    if (ok)
        logs = NULL;
    ok = ok && cJSON_AddItemToArray(locs, loc);
    if (ok)
        loc = NULL;
    ok = ok && cJSON_AddStringToObject(fp, "tmscanFindingId/v1", f->id);
    ok = ok && cJSON_AddStringToObject(props, "status", tm_finding_status_str(f->status)) &&
         cJSON_AddStringToObject(props, "severity", tm_severity_str(f->severity)) &&
         cJSON_AddStringToObject(props, "category", f->category ? f->category : "") &&
         (!f->entry || cJSON_AddStringToObject(props, "entry", f->entry)) &&
         (!f->reaches || (cJSON_AddNumberToObject(props, "reaches", (double)f->reaches) &&
                          cJSON_AddNumberToObject(props, "reachesListed", (double)f->reaches_listed)));
    ok = ok && cJSON_AddStringToObject(r, "ruleId", f->rule ? f->rule : "") &&
         (idx < 0 || cJSON_AddNumberToObject(r, "ruleIndex", idx)) &&
         cJSON_AddStringToObject(r, "level", s_level(f->severity)) && s_add(r, "message", s_message(f));
    ok = ok && cJSON_AddItemToObject(r, "locations", locs);
    if (ok)
        locs = NULL;
    ok = ok && cJSON_AddItemToObject(r, "partialFingerprints", fp);
    if (ok)
        fp = NULL;
    ok = ok && cJSON_AddItemToObject(r, "properties", props);
    if (ok)
        props = NULL;
    /* A suppressed or recognised finding stays visible but is marked as dealt with. */
    if (ok && f->status != TM_STATUS_NEW) {
        cJSON *sups = cJSON_AddArrayToObject(r, "suppressions");
        cJSON *s = cJSON_CreateObject();
        char just[512];
        const char *what = f->status == TM_STATUS_RECOGNISED ? "recognised" : "suppressed";
        if (f->recognised_reason)
            snprintf(just, sizeof(just), "%s by %s: %s", what, f->recognised_owner ? f->recognised_owner : "?",
                     f->recognised_reason);
        else
            snprintf(just, sizeof(just), "%s in the policy file", what);
        ok = sups && s && cJSON_AddStringToObject(s, "kind", "external") &&
             cJSON_AddStringToObject(s, "justification", just) && cJSON_AddItemToArray(sups, s);
        if (!ok)
            cJSON_Delete(s);
    }
    cJSON_Delete(locs);
    cJSON_Delete(loc);
    cJSON_Delete(phys);
    cJSON_Delete(art);
    cJSON_Delete(region);
    cJSON_Delete(logs);
    cJSON_Delete(lg);
    cJSON_Delete(fp);
    cJSON_Delete(props);
    if (!ok) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

struct s_out {
    struct tm_report_out out;
    const struct tm_report_input *in;
    const cJSON *results; /* the empty array in the tree where the results go */
};

static int s_indent(struct tm_buf *b, int depth) {
    int rc = tm_buf_append_char(b, '\n');
    for (int i = 0; i < depth && !rc; i++)
        rc = tm_buf_append_str(b, "  ");
    return rc;
}

/* The results array, `depth` levels deep, one result at a time: a tree of every result (their messages hold
 * every step of their paths) would be the whole report over again in memory. */
static int s_results(struct s_out *o, int depth) {
    size_t n = o->in->findings ? o->in->findings->count : 0;
    if (!n)
        return tm_buf_append_str(o->out.b, "[]");
    int rc = tm_buf_append_char(o->out.b, '[');
    for (size_t i = 0; i < n && !rc; i++) {
        cJSON *r = s_result(o->in->findings->items[i], o->in);
        rc = r ? s_indent(o->out.b, depth + 1) : TM_ERR_NOMEM;
        if (!rc)
            rc = tm_json_append_canonical(o->out.b, r, true, depth + 1);
        cJSON_Delete(r);
        if (!rc && i + 1 < n)
            rc = tm_buf_append_char(o->out.b, ',');
        if (!rc)
            rc = tm_report_out_flush(&o->out, TM_REPORT_PIECE_BYTES);
    }
    if (!rc)
        rc = s_indent(o->out.b, depth);
    return rc ? rc : tm_buf_append_char(o->out.b, ']');
}

static bool s_holds(const cJSON *item, const cJSON *hole) {
    if (item == hole)
        return true;
    for (const cJSON *c = item->child; c; c = c->next)
        if (s_holds(c, hole))
            return true;
    return false;
}

/* Prints the (key-sorted) tree as tm_json_append_canonical does, the results written in place of their empty
 * array. */
static int s_print(struct s_out *o, const cJSON *item, int depth) {
    if (item == o->results)
        return s_results(o, depth);
    if (!s_holds(item, o->results))
        return tm_json_append_canonical(o->out.b, (cJSON *)item, true, depth);
    bool obj = cJSON_IsObject(item);
    int rc = tm_buf_append_char(o->out.b, obj ? '{' : '[');
    for (const cJSON *c = item->child; c && !rc; c = c->next) {
        rc = s_indent(o->out.b, depth + 1);
        if (!rc && obj)
            rc = tm_json_append_string(o->out.b, c->string ? c->string : "");
        if (!rc && obj)
            rc = tm_buf_append_str(o->out.b, ": ");
        if (!rc)
            rc = s_print(o, c, depth + 1);
        if (!rc && c->next)
            rc = tm_buf_append_char(o->out.b, ',');
    }
    if (!rc)
        rc = s_indent(o->out.b, depth);
    return rc ? rc : tm_buf_append_char(o->out.b, obj ? '}' : ']');
}

static int s_write(struct s_out *o) {
    const struct tm_report_input *in = o->in;
    int rc = TM_ERR_NOMEM;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return rc;
    cJSON *runs = cJSON_AddArrayToObject(root, "runs");
    cJSON *run = cJSON_CreateObject();
    if (!runs || !run || !cJSON_AddItemToArray(runs, run)) {
        cJSON_Delete(run);
        goto out;
    }
    if (!cJSON_AddStringToObject(root, "$schema", "https://json.schemastore.org/sarif-2.1.0.json") ||
        !cJSON_AddStringToObject(root, "version", "2.1.0"))
        goto out;
    cJSON *tool = cJSON_AddObjectToObject(run, "tool");
    cJSON *driver = tool ? cJSON_AddObjectToObject(tool, "driver") : NULL;
    cJSON *rules = driver ? cJSON_AddArrayToObject(driver, "rules") : NULL;
    if (!rules || !cJSON_AddStringToObject(driver, "name", "tmscan") ||
        !cJSON_AddStringToObject(driver, "version", TM_VERSION) ||
        !cJSON_AddStringToObject(driver, "semanticVersion", TM_VERSION))
        goto out;
    for (size_t i = 0; in->rules && i < in->rules->count; i++) {
        cJSON *r = s_rule(&in->rules->items[i]);
        if (!r || !cJSON_AddItemToArray(rules, r)) {
            cJSON_Delete(r);
            goto out;
        }
    }
    if (!(o->results = cJSON_AddArrayToObject(run, "results")))
        goto out;
    cJSON *props = cJSON_AddObjectToObject(run, "properties");
    if (!props || (in->snap && !cJSON_AddItemToObject(props, "scope", cJSON_Duplicate(tm_snapshot_scope(in->snap), 1))))
        goto out;
    tm_json_sort_keys(root);
    rc = s_print(o, root, 0);
    if (!rc)
        rc = tm_buf_append_char(o->out.b, '\n');
    if (!rc)
        rc = tm_report_out_flush(&o->out, 0);
out:
    cJSON_Delete(root);
    return rc;
}

int tm_report_write_sarif(struct tm_buf *out, const struct tm_report_input *in) {
    struct s_out o = {.out = {.b = out}, .in = in};
    return s_write(&o);
}

int tm_report_stream_sarif(const struct tm_report_input *in, tm_report_sink_fn sink, void *user_data) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    struct s_out o = {.out = {.b = &b, .sink = sink, .user_data = user_data}, .in = in};
    int rc = s_write(&o);
    tm_buf_clean_up(&b);
    return rc;
}
