/* RDS (regional): DB instances (publicly accessible or not, behind which security groups) and the
 * `restore` attribute of DB snapshots and DB cluster snapshots ("all" is public; account ids are
 * cross-account shares). */
#include "providers/aws/rds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/str.h"
#include "providers/aws/facts.h"
#include "providers/aws/xml.h"

const struct tm_aws_api tm__aws_api_rds = {
    .name = "rds",
    .service_id = "RDS",
    .endpoint_prefix = "rds",
    .signing_name = "rds",
    .protocol = TM_AWS_PROTO_QUERY,
    .api_version = "2014-10-31",
};

#define S_API (&tm__aws_api_rds)

static const struct tm_aws_operation s_operations[] = {
    {S_API, "DescribeDBInstances", "rds:DescribeDBInstances"},
    {S_API, "DescribeDBSnapshots", "rds:DescribeDBSnapshots"},
    {S_API, "DescribeDBSnapshotAttributes", "rds:DescribeDBSnapshotAttributes"},
    {S_API, "DescribeDBClusterSnapshots", "rds:DescribeDBClusterSnapshots"},
    {S_API, "DescribeDBClusterSnapshotAttributes", "rds:DescribeDBClusterSnapshotAttributes"},
    {NULL, NULL, NULL},
};

/* ---- parsing ---- */

typedef int (*s_json_fn)(cJSON **out, const xmlNode *node, const char *name);

static int s_attr(cJSON *res, const char *key, s_json_fn fn, const xmlNode *n, const char *elem, const char *where,
                  char *errmsg, size_t errmsg_len) {
    cJSON *v = NULL;
    int rc = fn(&v, n, elem);
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: %s malformed", where, elem);
    return tm_snapshot_set_attr(res, key, v);
}

/* "arn:PARTITION:rds:REGION:ACCOUNT:KIND:ID" as AWS writes it, or built when absent. */
static int s_arn(char *out, size_t out_len, const struct tm_aws_sink *sink, const char *given, const char *kind,
                 const char *id) {
    if (given && *given) {
        if (!tm_str_starts_with(given, "arn:") || strlen(given) >= out_len)
            return TM_ERR_PARSE;
        strcpy(out, given);
        return TM_OK;
    }
    return tm_aws_arn(out, out_len, sink->partition, "rds", sink->region, sink->account, "%s:%s", kind, id);
}

static int s_instance(const struct tm_aws_sink *sink, const xmlNode *m, char *errmsg, size_t errmsg_len) {
    const char *id = tm_aws_xml_child_text(m, "DBInstanceIdentifier");
    if (!id || !*id)
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                  "DescribeDBInstances: DBInstanceIdentifier missing");
    char where[200], arn[512];
    snprintf(where, sizeof(where), "DescribeDBInstances: %.120s", id);
    if (s_arn(arn, sizeof(arn), sink, tm_aws_xml_child_text(m, "DBInstanceArn"), "db", id))
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: DBInstanceArn malformed", where);
    cJSON *res = NULL;
    int rc = tm_snapshot_resource(sink->snap, arn, "aws:rds:db", sink->account, sink->region, id, &res);
    if (rc)
        return rc;
    const xmlNode *ep = tm_aws_xml_child(m, "Endpoint");
    cJSON *sgs = NULL;
    if ((rc = s_attr(res, "publicly_accessible", tm_aws_xml_json_bool, m, "PubliclyAccessible", where, errmsg,
                     errmsg_len)) ||
        (rc = s_attr(res, "engine", tm_aws_xml_json_text, m, "Engine", where, errmsg, errmsg_len)) ||
        (rc = s_attr(res, "storage_encrypted", tm_aws_xml_json_bool, m, "StorageEncrypted", where, errmsg,
                     errmsg_len)) ||
        (rc = s_attr(res, "iam_database_authentication", tm_aws_xml_json_bool, m, "IAMDatabaseAuthenticationEnabled",
                     where, errmsg, errmsg_len)) ||
        (rc = s_attr(res, "endpoint", tm_aws_xml_json_text, ep, "Address", where, errmsg, errmsg_len)) ||
        (rc = s_attr(res, "port", tm_aws_xml_json_int, ep, "Port", where, errmsg, errmsg_len)))
        return rc;
    rc = tm_aws_xml_json_list(&sgs, m, "VpcSecurityGroups", "VpcSecurityGroupMembership", "VpcSecurityGroupId");
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: VpcSecurityGroups malformed", where);
    for (const cJSON *g = sgs->child; g && !rc; g = g->next) {
        char sg[256];
        rc = tm_aws_arn(sg, sizeof(sg), sink->partition, "ec2", sink->region, sink->account, "security-group/%s",
                        g->valuestring);
        if (!rc)
            rc = tm_snapshot_add_link(res, "protected-by", sg);
    }
    if (rc) {
        cJSON_Delete(sgs);
        return rc;
    }
    return tm_snapshot_set_attr(res, "security_group_ids", sgs);
}

int tm__aws_rds_parse_instances(const struct tm_aws_sink *sink, const char *body, size_t len, char **marker,
                                char *errmsg, size_t errmsg_len) {
    *marker = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, "DescribeDBInstances", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, "DBInstances"), "DBInstance"); m && !rc;
         m = tm_aws_xml_next(m))
        rc = s_instance(sink, m, errmsg, errmsg_len);
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", NULL)))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "DescribeDBInstances: Marker malformed");
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_rds_parse_snapshots(const struct tm_aws_sink *sink, bool cluster, cJSON *ids, const char *body, size_t len,
                                char **marker, char *errmsg, size_t errmsg_len) {
    *marker = NULL;
    const char *op = cluster ? "DescribeDBClusterSnapshots" : "DescribeDBSnapshots";
    const char *list = cluster ? "DBClusterSnapshots" : "DBSnapshots";
    const char *item = cluster ? "DBClusterSnapshot" : "DBSnapshot";
    const char *id_elem = cluster ? "DBClusterSnapshotIdentifier" : "DBSnapshotIdentifier";
    const char *arn_elem = cluster ? "DBClusterSnapshotArn" : "DBSnapshotArn";
    const char *enc_elem = cluster ? "StorageEncrypted" : "Encrypted";
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, op, body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(res, list), item); m && !rc; m = tm_aws_xml_next(m)) {
        const char *id = tm_aws_xml_child_text(m, id_elem);
        if (!id || !*id) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: %s missing", op, id_elem);
            break;
        }
        char where[200], arn[512];
        snprintf(where, sizeof(where), "%s: %.120s", op, id);
        if (s_arn(arn, sizeof(arn), sink, tm_aws_xml_child_text(m, arn_elem), cluster ? "cluster-snapshot" : "snapshot",
                  id)) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: %s malformed", where, arn_elem);
            break;
        }
        cJSON *r = NULL, *e = NULL;
        if ((rc = tm_snapshot_resource(sink->snap, arn, cluster ? "aws:rds:cluster-snapshot" : "aws:rds:snapshot",
                                       sink->account, sink->region, id, &r)) ||
            (rc = s_attr(r, "encrypted", tm_aws_xml_json_bool, m, enc_elem, where, errmsg, errmsg_len)))
            break;
        if (!(e = cJSON_CreateObject()) || !cJSON_AddItemToArray(ids, e) || !cJSON_AddStringToObject(e, "id", id) ||
            !cJSON_AddStringToObject(e, "arn", arn)) {
            if (e && !e->prev)
                cJSON_Delete(e);
            rc = TM_ERR_NOMEM;
        }
    }
    if (!rc && (rc = tm_aws_xml_page_token(marker, res, "Marker", NULL)))
        rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: Marker malformed", op);
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_rds_parse_restore(cJSON **out, bool cluster, const char *body, size_t len, char *errmsg,
                              size_t errmsg_len) {
    *out = NULL;
    const char *op = cluster ? "DescribeDBClusterSnapshotAttributes" : "DescribeDBSnapshotAttributes";
    const char *path = cluster ? "DBClusterSnapshotAttributesResult/DBClusterSnapshotAttributes"
                               : "DBSnapshotAttributesResult/DBSnapshotAttributes";
    const char *item = cluster ? "DBClusterSnapshotAttribute" : "DBSnapshotAttribute";
    xmlDoc *doc = NULL;
    const xmlNode *res = NULL;
    int rc = tm_aws_xml_open_query(&doc, &res, op, body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *attrs = tm_aws_xml_path(res, path);
    if (!attrs) {
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: %s missing", op, path);
        goto out;
    }
    for (const xmlNode *a = tm_aws_xml_child(attrs, item); a; a = tm_aws_xml_next(a)) {
        const char *name = tm_aws_xml_child_text(a, "AttributeName");
        if (!name || strcmp(name, "restore") != 0)
            continue;
        if ((rc = tm_aws_xml_json_list(out, a, "AttributeValues", "AttributeValue", NULL)))
            rc = tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: AttributeValues malformed", op);
        goto out;
    }
    /* No restore attribute: shared with no one. */
    *out = cJSON_CreateArray();
    if (!*out)
        rc = TM_ERR_NOMEM;
out:
    tm_aws_xml_free(doc);
    return rc;
}

/* ---- coordination ---- */

enum s_kind { S_INSTANCES, S_SNAPSHOTS, S_CLUSTER_SNAPSHOTS };

struct s_listing {
    struct tm_aws_sink sink;
    enum s_kind kind;
};

struct s_restore_ctx {
    const char *arn;
    bool cluster;
};

static int s_parse_db_restore(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_rds_parse_restore(out, false, body, len, errmsg, errmsg_len);
}

static int s_parse_cluster_restore(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return tm__aws_rds_parse_restore(out, true, body, len, errmsg, errmsg_len);
}

static void s_on_restore(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_restore_ctx *ctx = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), ctx->arn);
    if (r)
        tm__aws_set_fact(scan, r, "attrs", "restore",
                         tm__aws_result_fact(scan, res, ctx->cluster ? s_parse_cluster_restore : s_parse_db_restore));
}

static int s_ask_restore(struct tm_aws_scan *scan, const struct s_listing *l, const cJSON *ids) {
    bool cluster = l->kind == S_CLUSTER_SNAPSHOTS;
    for (const cJSON *e = ids->child; e; e = e->next) {
        struct s_restore_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
        if (!ctx || !(ctx->arn = tm_aws_scan_strdup(scan, tm_json_str(e, "arn", ""))))
            return TM_ERR_NOMEM;
        ctx->cluster = cluster;
        struct tm_aws_param params[] = {
            {cluster ? "DBClusterSnapshotIdentifier" : "DBSnapshotIdentifier", tm_json_str(e, "id", ""), false}};
        struct tm_aws_call call = {
            .api = S_API,
            .operation = cluster ? "DescribeDBClusterSnapshotAttributes" : "DescribeDBSnapshotAttributes",
            .region = l->sink.region,
            .resource = ctx->arn,
            .params = params,
            .param_count = 1,
        };
        int rc = tm_aws_call(scan, &call, s_on_restore, ctx);
        if (rc)
            return rc;
    }
    return TM_OK;
}

static void s_on_page(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_listing *l = user_data;
    if (res->error)
        return; /* recorded; what the listing would have shown is not in the snapshot */
    char why[256] = "";
    char *next = NULL;
    cJSON *ids = cJSON_CreateArray();
    int rc = ids ? TM_OK : TM_ERR_NOMEM;
    if (!rc && l->kind == S_INSTANCES)
        rc = tm__aws_rds_parse_instances(&l->sink, res->body, res->body_len, &next, why, sizeof(why));
    else if (!rc)
        rc = tm__aws_rds_parse_snapshots(&l->sink, l->kind == S_CLUSTER_SNAPSHOTS, ids, res->body, res->body_len, &next,
                                         why, sizeof(why));
    if (rc == TM_ERR_PARSE || rc == TM_ERR_TOO_BIG) {
        (void)tm_aws_fail(scan, res, "MalformedResponse", why);
        free(next);
        next = NULL;
        rc = TM_OK;
    }
    if (rc == TM_OK)
        rc = s_ask_restore(scan, l, ids);
    cJSON_Delete(ids);
    (void)tm__aws_page_end(scan, res, rc, NULL, "Marker", next, res->call->operation, s_on_page, l);
}

static int s_list(struct tm_aws_scan *scan, const char *region, enum s_kind kind, const char *operation) {
    static const struct tm_aws_param page[] = {{"MaxRecords", "100", false}};
    struct s_listing *l = tm_aws_scan_alloc(scan, sizeof(*l));
    if (!l)
        return TM_ERR_NOMEM;
    tm_aws_scan_sink(scan, region, &l->sink);
    l->kind = kind;
    struct tm_aws_call call = {
        .api = S_API, .operation = operation, .region = region, .params = page, .param_count = 1};
    return tm_aws_call(scan, &call, s_on_page, l);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    int rc;
    if ((rc = s_list(scan, region, S_INSTANCES, "DescribeDBInstances")) ||
        (rc = s_list(scan, region, S_SNAPSHOTS, "DescribeDBSnapshots")) ||
        (rc = s_list(scan, region, S_CLUSTER_SNAPSHOTS, "DescribeDBClusterSnapshots")))
        return rc;
    return TM_OK;
}

const struct tm_aws_service tm__aws_service_rds = {
    .name = "rds",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
