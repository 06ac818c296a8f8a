#include "tests/support/analysis_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

const char *tm_test_path(char *buf, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(buf, len, "%s%s%s", root ? root : "", root ? "/" : "", rel);
    return buf;
}

static void s_catalogues(struct tm_test_analysis *t) {
    char path[4096], err[1024] = "";
    if (tm_iam_catalog_load(&t->actions, tm_test_path(path, sizeof(path), "policies/iam-actions.json"), err,
                            sizeof(err)))
        fail_msg("%s", err);
    if (tm_privesc_catalog_load(&t->privesc, tm_test_path(path, sizeof(path), "policies/privesc.json"), t->actions, err,
                                sizeof(err)))
        fail_msg("%s", err);
    if (tm_rules_load(&t->rules, tm_test_path(path, sizeof(path), "policies/rules.json"), err, sizeof(err)))
        fail_msg("%s", err);
}

static void s_build(struct tm_test_analysis *t) {
    char err[1024] = "";
    struct tm_graph_options o = {.actions = t->actions, .privesc = t->privesc};
    if (tm_graph_build(&t->graph, t->snap, &o, err, sizeof(err)))
        fail_msg("graph: %s", err);
    t->analysis = (struct tm_analysis){.snap = t->snap,
                                       .rules = t->rules,
                                       .actions = t->actions,
                                       .privesc = t->privesc,
                                       .graph = t->graph,
                                       .today = "2026-11-22"};
}

void tm_test_analysis_load(struct tm_test_analysis *t, const char *snapshot) {
    memset(t, 0, sizeof(*t));
    s_catalogues(t);
    char rel[1024], path[4096], err[1024] = "";
    snprintf(rel, sizeof(rel), "tests/data/snapshots/%s", snapshot);
    if (tm_snapshot_load(&t->snap, tm_test_path(path, sizeof(path), rel), err, sizeof(err)))
        fail_msg("%s", err);
    s_build(t);
}

void tm_test_analysis_parse(struct tm_test_analysis *t, const char *json) {
    memset(t, 0, sizeof(*t));
    s_catalogues(t);
    char err[1024] = "";
    if (tm_snapshot_parse(&t->snap, json, strlen(json), "test", err, sizeof(err)))
        fail_msg("%s", err);
    s_build(t);
}

void tm_test_analysis_clean_up(struct tm_test_analysis *t) {
    tm_graph_destroy(t->graph);
    tm_snapshot_destroy(t->snap);
    tm_rules_destroy(t->rules);
    tm_privesc_catalog_destroy(t->privesc);
    tm_iam_catalog_destroy(t->actions);
    memset(t, 0, sizeof(*t));
}

void tm_test_run(struct tm_test_analysis *t, tm_analyzer_fn fn, struct tm_findings *out) {
    tm_findings_init(out);
    t->analysis.errmsg[0] = '\0';
    int rc = fn(&t->analysis, out);
    if (rc)
        fail_msg("analyzer: %s (%s)", tm_error_str(rc), t->analysis.errmsg);
    tm_findings_sort(out);
}

const struct tm_finding *tm_test_find(const struct tm_findings *l, const char *rule, const char *resource,
                                      const char *entry) {
    for (size_t i = 0; i < l->count; i++) {
        const struct tm_finding *f = l->items[i];
        if (strcmp(f->rule, rule) != 0 || strcmp(f->resource, resource) != 0)
            continue;
        if (entry && (!f->entry || strcmp(f->entry, entry) != 0))
            continue;
        return f;
    }
    return NULL;
}

size_t tm_test_count(const struct tm_findings *l, const char *rule, const char *resource) {
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        const struct tm_finding *f = l->items[i];
        n += (!rule || strcmp(f->rule, rule) == 0) && (!resource || strcmp(f->resource, resource) == 0);
    }
    return n;
}

const struct tm_graph_edge *tm_test_edge(const struct tm_graph *g, const char *from, const char *to,
                                         enum tm_graph_edge_kind kind) {
    uint32_t a = tm_graph_find(g, from), b = tm_graph_find(g, to);
    if (a == TM_GRAPH_NONE || b == TM_GRAPH_NONE)
        return NULL;
    size_t n = 0;
    const struct tm_graph_edge *out = tm_graph_out(g, a, &n, NULL);
    for (size_t i = 0; i < n; i++)
        if (out[i].to == b && out[i].kind == kind)
            return &out[i];
    return NULL;
}

void tm_test_path_nodes(const struct tm_finding *f, char *buf, size_t len) {
    const char *seen[128];
    size_t n = 0, used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < f->path_len; i++) {
        const char *ends[2] = {f->path[i].from, f->path[i].to};
        for (size_t k = 0; k < 2; k++) {
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(seen[j], ends[k]) == 0;
            if (dup || n == 128)
                continue;
            seen[n++] = ends[k];
            int w = snprintf(buf + used, len - used, "%s%s", used ? " > " : "", ends[k]);
            if (w > 0 && (size_t)w < len - used)
                used += (size_t)w;
        }
    }
}

static bool s_in(const char *const *list, const char *s) {
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

void tm_test_check_expected(const struct tm_findings *l, const char *const *categories) {
    char path[4096], err[1024] = "";
    struct tm_buf text;
    tm_buf_init(&text, 0);
    if (tm_file_read(&text, tm_test_path(path, sizeof(path), "fixtures/aws/demo/expected-findings.json"),
                     16 * 1024 * 1024, err, sizeof(err)))
        fail_msg("%s", err);
    cJSON *root = cJSON_ParseWithLength(tm_buf_str(&text), text.len);
    tm_buf_clean_up(&text);
    assert_non_null(root);
    bool *matched = calloc(l->count + 1, sizeof(bool));
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "findings");
    for (const cJSON *e = exp ? exp->child : NULL; e; e = e->next) {
        const char *cat = tm_json_str(e, "category", ""), *rule = tm_json_str(e, "rule", "");
        const char *res = tm_json_str(e, "resource", ""), *entry = tm_json_str(e, "entry", NULL);
        if (!s_in(categories, cat))
            continue;
        size_t hits = 0, at = 0;
        for (size_t i = 0; i < l->count; i++) {
            const struct tm_finding *f = l->items[i];
            bool same_entry = (!entry && !f->entry) || (entry && f->entry && strcmp(entry, f->entry) == 0);
            if (strcmp(f->rule, rule) == 0 && strcmp(f->category, cat) == 0 && strcmp(f->resource, res) == 0 &&
                same_entry) {
                hits++;
                at = i;
            }
        }
        if (hits != 1)
            fail_msg("%s: %zu findings %s on %s from %s (expected one)", tm_json_str(e, "flaw", "?"), hits, rule, res,
                     entry ? entry : "(none)");
        matched[at] = true;
        char want[4096] = "", got[4096];
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "path");
        size_t used = 0;
        for (const cJSON *n = p ? p->child : NULL; n; n = n->next) {
            int w = snprintf(want + used, sizeof(want) - used, "%s%s", used ? " > " : "", n->valuestring);
            if (w > 0 && (size_t)w < sizeof(want) - used)
                used += (size_t)w;
        }
        tm_test_path_nodes(l->items[at], got, sizeof(got));
        if (strcmp(want, got) != 0)
            fail_msg("%s: path\n  got  %s\n  want %s", tm_json_str(e, "flaw", "?"), got, want);
    }
    for (size_t i = 0; i < l->count; i++)
        if (!matched[i] && s_in(categories, l->items[i]->category))
            fail_msg("unexpected finding %s on %s from %s", l->items[i]->rule, l->items[i]->resource,
                     l->items[i]->entry ? l->items[i]->entry : "(none)");
    const cJSON *looks = cJSON_GetObjectItemCaseSensitive(root, "lookalikes");
    for (const cJSON *la = looks ? looks->child : NULL; la; la = la->next) {
        const char *res = tm_json_str(la, "resource", "");
        const cJSON *nc = cJSON_GetObjectItemCaseSensitive(la, "not_categories");
        for (size_t i = 0; i < l->count; i++) {
            const struct tm_finding *f = l->items[i];
            if (strcmp(f->resource, res) != 0 || !s_in(categories, f->category))
                continue;
            bool excluded = cJSON_IsString(nc); /* "any" */
            for (const cJSON *c = cJSON_IsArray(nc) ? nc->child : NULL; c && !excluded; c = c->next)
                excluded = cJSON_IsString(c) && strcmp(c->valuestring, f->category) == 0;
            if (excluded)
                fail_msg("%s: finding %s on the safe look-alike %s", tm_json_str(la, "id", "?"), f->rule, res);
        }
    }
    free(matched);
    cJSON_Delete(root);
}

#define S_FANOUT_ACCOUNT "111122223333"
#define S_FANOUT_REGION "eu-west-1"

/* A role open to any AWS account and a user with an active access key, both reading 40 buckets (writing ten of
 * them) and two secrets, each named by its ARN: more crown jewels than a path lists. */
char *tm_test_fanout_snapshot(void) {
    struct tm_buf pol, b;
    tm_buf_init(&pol, 0);
    tm_buf_init(&b, 0);
    int rc = tm_buf_append_str(&pol, "\"policies\": {\"boundary\": null, \"identity\": [{\"kind\": \"inline\", "
                                     "\"name\": \"data\", \"document\": {\"Version\": \"2012-10-17\", \"Statement\": "
                                     "[{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": [");
    for (int i = 0; i < 40 && !rc; i++)
        rc = tm_buf_appendf(&pol, "%s\"arn:aws:s3:::bulk-%02d/*\"", i ? ", " : "", i);
    if (!rc)
        rc = tm_buf_append_str(&pol, "]}, {\"Effect\": \"Allow\", \"Action\": \"s3:PutObject\", \"Resource\": [");
    for (int i = 30; i < 40 && !rc; i++)
        rc = tm_buf_appendf(&pol, "%s\"arn:aws:s3:::bulk-%02d/*\"", i > 30 ? ", " : "", i);
    if (!rc)
        rc = tm_buf_append_str(&pol, "]}, {\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", "
                                     "\"Resource\": [\"arn:aws:secretsmanager:" S_FANOUT_REGION ":" S_FANOUT_ACCOUNT
                                     ":secret:vault-a-AbCdEf\", \"arn:aws:secretsmanager:" S_FANOUT_REGION
                                     ":" S_FANOUT_ACCOUNT ":secret:vault-b-AbCdEf\"]}]}}]");
    if (!rc)
        rc = tm_buf_append_str(
            &b, "{\"schema\": \"tmscan.snapshot/1\", \"tool\": {\"name\": \"tmscan\", \"version\": "
                "\"0.1.0\"}, \"scope\": {\"accounts\": [\"" S_FANOUT_ACCOUNT "\"], \"provider\": \"aws\", "
                "\"regions\": [\"" S_FANOUT_REGION "\"], \"services\": [\"iam\", \"s3\", \"secretsmanager\"]}, "
                "\"errors\": [], \"resources\": [");
    if (!rc)
        rc = tm_buf_appendf(
            &b,
            "{\"account\": \"" S_FANOUT_ACCOUNT "\", \"attrs\": {\"instance_profiles\": [], \"last_used\": null, "
            "\"max_session_duration\": 3600, \"path\": \"/\", \"permissions_boundary_arn\": null, \"role_id\": "
            "\"AROAWIDE\", \"service_linked\": false}, \"id\": \"arn:aws:iam::" S_FANOUT_ACCOUNT
            ":role/wide\", \"links\": [], \"name\": "
            "\"wide\", %s, \"trust\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", "
            "\"Action\": "
            "\"sts:AssumeRole\", \"Principal\": {\"AWS\": \"*\"}}]}}, \"region\": \"global\", \"type\": "
            "\"aws:iam:role\"}, ",
            tm_buf_str(&pol));
    if (!rc)
        rc = tm_buf_appendf(&b,
                            "{\"account\": \"" S_FANOUT_ACCOUNT "\", \"attrs\": {\"access_keys\": [{\"access_key_id\": "
                            "\"AKIAWIDE000000000001\", \"create_date\": \"2020-01-01T00:00:00Z\", \"last_used_date\": "
                            "null, \"last_used_region\": null, \"last_used_service\": null, \"status\": \"Active\"}], "
                            "\"groups\": [], \"path\": \"/\", \"permissions_boundary_arn\": null, \"user_id\": "
                            "\"AIDAWIDE\"}, \"id\": \"arn:aws:iam::" S_FANOUT_ACCOUNT
                            ":user/wide\", \"links\": [], \"name\": \"wide\", "
                            "%s}, \"region\": \"global\", \"type\": \"aws:iam:user\"}, ",
                            tm_buf_str(&pol));
    for (int i = 0; i < 40 && !rc; i++)
        rc = tm_buf_appendf(&b,
                            "{\"account\": \"" S_FANOUT_ACCOUNT "\", \"attrs\": {\"access_points\": [], \"acl\": null, "
                            "\"ownership_controls\": \"BucketOwnerEnforced\", \"policy_status\": null, "
                            "\"public_access_block\": null, \"website\": null}, \"id\": \"arn:aws:s3:::bulk-%02d\", "
                            "\"links\": [], \"name\": \"bulk-%02d\", \"policies\": {\"resource\": null}, \"region\": "
                            "\"" S_FANOUT_REGION "\", \"type\": \"aws:s3:bucket\"}, ",
                            i, i);
    for (int i = 0; i < 2 && !rc; i++)
        rc = tm_buf_appendf(&b,
                            "{\"account\": \"" S_FANOUT_ACCOUNT
                            "\", \"attrs\": {\"kms_key_id\": null, \"rotation_enabled\": false}, "
                            "\"id\": \"arn:aws:secretsmanager:" S_FANOUT_REGION ":" S_FANOUT_ACCOUNT
                            ":secret:vault-%c-AbCdEf\", \"links\": [], "
                            "\"name\": \"vault-%c\", \"policies\": {\"resource\": null}, \"region\": \"" S_FANOUT_REGION
                            "\", \"type\": \"aws:secretsmanager:secret\"}%s",
                            'a' + i, 'a' + i, i ? "]}" : ", ");
    assert_int_equal(rc, TM_OK);
    tm_buf_clean_up(&pol);
    return tm_buf_detach(&b);
}

void tm_test_analysis_parse_resources(struct tm_test_analysis *t, const char *account, const char *region,
                                      const char *const *resources) {
    struct tm_buf b;
    tm_buf_init(&b, 1024 * 1024);
    assert_int_equal(tm_buf_appendf(&b,
                                    "{'schema':'tmscan.snapshot/1','tool':{'name':'tmscan','version':'0.1.0'},"
                                    "'scope':{'provider':'aws','accounts':['%s'],'regions':['%s'],"
                                    "'services':['iam','kms','s3']},'errors':[],'resources':[",
                                    account, region),
                     TM_OK);
    for (size_t i = 0; resources[i]; i++)
        assert_int_equal(tm_buf_appendf(&b, "%s%s", i ? "," : "", resources[i]), TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "]}"), TM_OK);
    char *json = tm_buf_detach(&b);
    assert_non_null(json);
    for (char *c = json; *c; c++)
        if (*c == '\'')
            *c = '"';
    tm_test_analysis_parse(t, json);
    free(json);
    tm_buf_clean_up(&b);
}
