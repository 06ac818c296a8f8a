/* Exposure: every entry point, i.e. every edge of the graph from the internet, from any AWS account or from an
 * account outside the organization into the scanned account. One finding per exposed resource and category
 * (public-exposure: the internet or any AWS account; cross-account: one per outside account), with the entry
 * edges as its path and, for a role, the data its credentials read that the outsider could not read before.
 *
 * What is not an entry point here (docs/threat-model.md): edges that exist only because a fact is unknown (the
 * coverage-gap finding of the failed call reports those), grants narrowed by a source network, an external id or
 * an authorizer (conditional edges), accounts of the scanned account's own organization, AWS services acting for
 * named resources, methods whose integration is a mock, and access keys (token abuse reports those). */
#include "analyzers/analyze.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/graph.h"
#include "analyzers/threat_int.h"
#include "core/buf.h"
#include "core/json.h"

struct s_type {
    const char *type;
    const char *noun; /* "S3 bucket" */
    const char *rule_public, *rule_cross;
};

static const struct s_type s_types[] = {
    {"aws:s3:bucket", "S3 bucket", "aws-s3-bucket-public", "aws-s3-bucket-cross-account"},
    {"aws:s3:access-point", "S3 access point", "aws-s3-access-point-public", "aws-s3-access-point-cross-account"},
    {"aws:sqs:queue", "SQS queue", "aws-sqs-queue-public", "aws-sqs-queue-cross-account"},
    {"aws:sns:topic", "SNS topic", "aws-sns-topic-public", "aws-sns-topic-cross-account"},
    {"aws:lambda:function", "Lambda function", "aws-lambda-function-public", "aws-lambda-function-cross-account"},
    {"aws:lambda:alias", "Lambda function alias", "aws-lambda-function-public", "aws-lambda-function-cross-account"},
    {"aws:kms:key", "KMS key", "aws-kms-key-public", "aws-kms-key-cross-account"},
    {"aws:secretsmanager:secret", "secret", "aws-secretsmanager-secret-public",
     "aws-secretsmanager-secret-cross-account"},
    {"aws:ecr:repository", "container image repository", "aws-ecr-repository-public",
     "aws-ecr-repository-cross-account"},
    {"aws:apigateway:method", "API method", "aws-apigateway-method-public", "aws-apigateway-method-cross-account"},
    {"aws:apigatewayv2:route", "API route", "aws-apigatewayv2-route-public", "aws-apigateway-method-cross-account"},
    {"aws:iam:role", "IAM role", "aws-iam-role-public", "aws-iam-role-cross-account"},
    {"aws:ec2:instance", "EC2 instance", "aws-ec2-instance-public", NULL},
    {"aws:ec2:snapshot", "EBS snapshot", "aws-ec2-snapshot-public", "aws-ec2-snapshot-cross-account"},
    {"aws:ec2:image", "machine image (AMI)", "aws-ec2-image-public", "aws-ec2-image-cross-account"},
    {"aws:rds:db", "database", "aws-rds-db-public", NULL},
    {"aws:rds:snapshot", "database snapshot", "aws-rds-snapshot-public", "aws-rds-snapshot-cross-account"},
    {"aws:rds:cluster-snapshot", "database cluster snapshot", "aws-rds-snapshot-public",
     "aws-rds-snapshot-cross-account"},
};

static const struct s_type *s_type_of(const struct tm_graph_node *n) {
    for (size_t i = 0; n->type && i < sizeof(s_types) / sizeof(s_types[0]); i++)
        if (strcmp(s_types[i].type, n->type) == 0)
            return &s_types[i];
    return NULL;
}

static bool s_is(const struct tm_graph_node *n, const char *type) {
    return n->type && strcmp(n->type, type) == 0;
}

/* Methods that reach nothing (a MOCK integration answers by itself, e.g. CORS preflight). */
static bool s_mock(const struct tm_graph_node *n) {
    const cJSON *attrs = n->resource ? cJSON_GetObjectItemCaseSensitive(n->resource, "attrs") : NULL;
    const cJSON *integ = attrs ? cJSON_GetObjectItemCaseSensitive(attrs, "integration") : NULL;
    return cJSON_IsObject(integ) && strcmp(tm_json_str(integ, "type", ""), "MOCK") == 0;
}

/* An edge that makes an entry point: known, not narrowed, into a resource of the scanned account. */
static bool s_entry_edge(const struct tm_graph *g, const struct tm_graph_edge *e) {
    if (e->flags & (TM_GRAPH_EDGE_UNKNOWN | TM_GRAPH_EDGE_CONDITIONAL | TM_GRAPH_EDGE_TO_SET))
        return false;
    if (e->kind == TM_GRAPH_EDGE_HOLDS_TOKEN_OF || e->kind == TM_GRAPH_EDGE_TRIGGERS)
        return false;
    const struct tm_graph_node *to = tm_graph_node(g, e->to);
    if (!(to->flags & TM_GRAPH_NODE_IN_SNAPSHOT) || (to->flags & TM_GRAPH_NODE_EXTERNAL) || !s_type_of(to))
        return false;
    if ((s_is(to, "aws:apigateway:method") || s_is(to, "aws:apigatewayv2:route")) && s_mock(to))
        return false;
    return true;
}

/* The entry edges of one entry node, by the resource they lead to: an entry such as the internet has edges to
 * thousands of resources, and each resource's finding wants its own edges among them. */
struct s_entry_edges {
    const struct tm_graph_edge *edges; /* the entry node's out edges */
    uint32_t *head;                    /* per node: 1 + index into edges of its first entry edge, 0 none */
    uint32_t *next;                    /* per out edge: 1 + index of the next entry edge to the same node, 0 none */
    size_t cap_next;
};

/* Indexes the entry edges of `entry` and lists the resources they reach, in the order of their first edge, each
 * once. s_entry_edges_clear undoes the index before the next entry. */
static int s_entry_edges_index(struct s_entry_edges *ee, const struct tm_graph *g, uint32_t entry, uint32_t *out,
                               size_t *n_out) {
    size_t n = 0, k = 0;
    ee->edges = tm_graph_out(g, entry, &n, NULL);
    if (n > ee->cap_next) {
        uint32_t *next = realloc(ee->next, n * sizeof(*next));
        if (!next)
            return TM_ERR_NOMEM;
        ee->next = next;
        ee->cap_next = n;
    }
    /* Backwards, so that each node's list runs in edge order. */
    for (size_t i = n; i > 0; i--) {
        const struct tm_graph_edge *e = &ee->edges[i - 1];
        if (!s_entry_edge(g, e))
            continue;
        ee->next[i - 1] = ee->head[e->to];
        ee->head[e->to] = (uint32_t)i;
    }
    for (size_t i = 0; i < n; i++)
        if (ee->head[ee->edges[i].to] == i + 1)
            out[k++] = ee->edges[i].to;
    *n_out = k;
    return TM_OK;
}

static void s_entry_edges_clear(struct s_entry_edges *ee, const uint32_t *targets, size_t n) {
    for (size_t i = 0; i < n; i++)
        ee->head[targets[i]] = 0;
}

/* The first `max` entry edges to node, in edge order. */
static size_t s_edges_to(const struct s_entry_edges *ee, uint32_t node, const struct tm_graph_edge **out, size_t max) {
    size_t k = 0;
    for (uint32_t i = ee->head[node]; i && k < max; i = ee->next[i - 1])
        out[k++] = &ee->edges[i - 1];
    return k;
}

/* ---- words ---- */

static const char *s_verb(unsigned kinds) {
    bool r = kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_READ);
    bool w = kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_WRITE);
    if (kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_ASSUME))
        return "assume";
    if (kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_ROUTES_TO))
        return "connect to";
    if (r && w)
        return "read and change";
    if (r)
        return "read";
    if (w)
        return "change";
    if (kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_INVOKE))
        return "call";
    return "reach";
}

static const char *s_who(const struct tm_graph_node *entry, char *buf, size_t len) {
    switch (entry->kind) {
        case TM_GRAPH_NODE_INTERNET:
            return "Anyone on the internet";
        case TM_GRAPH_NODE_ANY_AWS_ACCOUNT:
            return "Anyone with an AWS account";
        default:
            snprintf(buf, len, "AWS account %s, outside your organization,", entry->account ? entry->account : "?");
            return buf;
    }
}

/* The OIDC or SAML provider a trust statement federates, or NULL. */
static char *s_federated(const struct tm_graph_edge *e) {
    if (!e->statement)
        return NULL;
    cJSON *st = cJSON_Parse(e->statement);
    const cJSON *p = st ? cJSON_GetObjectItemCaseSensitive(st, "Principal") : NULL;
    const cJSON *fed = cJSON_IsObject(p) ? cJSON_GetObjectItemCaseSensitive(p, "Federated") : NULL;
    if (cJSON_IsArray(fed))
        fed = fed->child;
    char *out = NULL;
    if (cJSON_IsString(fed)) {
        const char *v = fed->valuestring, *slash = strstr(v, ":oidc-provider/");
        out = strdup(slash ? slash + strlen(":oidc-provider/") : v);
    }
    cJSON_Delete(st);
    return out;
}

static const char *s_statement_ref(const struct tm_graph_edge *e, char *buf, size_t len) {
    if (e->evidence.statement < 0)
        return NULL;
    if (e->evidence.sid)
        snprintf(buf, len, "statement %d (Sid %s)", (int)e->evidence.statement, e->evidence.sid);
    else
        snprintf(buf, len, "statement %d", (int)e->evidence.statement);
    return buf;
}

/* The concrete change that closes this entry point. */
static int s_fix(struct tm_buf *b, const struct tm_graph *g, const struct tm_graph_node *n,
                 const struct tm_graph_edge *e, const struct tm_graph_node *entry) {
    char ref[256];
    const char *st = s_statement_ref(e, ref, sizeof(ref));
    const char *name = tm__threat_name(n);
    const char *src = e->evidence.source ? e->evidence.source : "";
    bool cross = entry->kind == TM_GRAPH_NODE_ACCOUNT;
    if (strcmp(src, "acl") == 0)
        return tm_buf_appendf(
            b,
            "Remove ACL grant %d from bucket %s (aws s3api put-bucket-acl --bucket %s --acl private), "
            "or turn on IgnorePublicAcls in its Block Public Access settings; setting Object "
            "Ownership to BucketOwnerEnforced disables ACLs altogether.",
            (int)e->evidence.statement, name, name);
    if (strcmp(src, "network") == 0) {
        uint32_t sg = tm_graph_find(g, e->evidence.holder);
        const char *sg_name = sg != TM_GRAPH_NONE ? tm__threat_name(tm_graph_node(g, sg)) : e->evidence.holder;
        const char *slash = e->evidence.holder ? strrchr(e->evidence.holder, '/') : NULL;
        return tm_buf_appendf(
            b,
            "In security group %s (%s), remove the inbound rule that allows %s from 0.0.0.0/0 (or "
            "::/0), or narrow it to the addresses that need it%s.",
            sg_name ? sg_name : "?", slash ? slash + 1 : "?", e->n_actions ? e->actions[0] : "traffic",
            s_is(n, "aws:rds:db") ? "; and set PubliclyAccessible to false (aws rds modify-db-instance "
                                    "--no-publicly-accessible)"
                                  : "; if the server need not be public, remove its public address, and prefer "
                                    "Session Manager to open SSH or RDP");
    }
    if (strcmp(src, "permission") == 0) {
        const char *who = cross ? entry->account : "all";
        if (s_is(n, "aws:ec2:snapshot"))
            return tm_buf_appendf(
                b,
                "aws ec2 modify-snapshot-attribute --snapshot-id %s --attribute createVolumePermission "
                "--operation-type remove %s %s",
                name, cross ? "--user-ids" : "--group-names", who);
        if (s_is(n, "aws:ec2:image"))
            return tm_buf_appendf(
                b, "aws ec2 modify-image-attribute --image-id %s --launch-permission \"Remove=[{%s=%s}]\"", name,
                cross ? "UserId" : "Group", who);
        return tm_buf_appendf(b,
                              "aws rds modify-db-%ssnapshot-attribute --db-%ssnapshot-identifier %s "
                              "--attribute-name restore --values-to-remove %s",
                              s_is(n, "aws:rds:cluster-snapshot") ? "cluster-" : "",
                              s_is(n, "aws:rds:cluster-snapshot") ? "cluster-" : "", name, who);
    }
    if (strcmp(src, "authorizer") == 0) {
        const cJSON *attrs = n->resource ? cJSON_GetObjectItemCaseSensitive(n->resource, "attrs") : NULL;
        if (s_is(n, "aws:apigatewayv2:route"))
            return tm_buf_appendf(b,
                                  "Attach an authorizer (JWT, Lambda or IAM) to route %s of HTTP API %s "
                                  "(aws apigatewayv2 update-route --authorization-type JWT ...), or disable the API's "
                                  "default endpoint if it is only meant to be reached through a private integration.",
                                  tm_json_str(attrs, "route_key", name), tm_json_str(attrs, "api_id", "?"));
        return tm_buf_appendf(b,
                              "Set an authorizer on %s %s of REST API %s (IAM, a Cognito user pool or a Lambda "
                              "authorizer) and redeploy stage %s; or make the API PRIVATE with a resource policy "
                              "naming its VPC endpoints.",
                              tm_json_str(attrs, "http_method", "?"), tm_json_str(attrs, "path", "?"),
                              tm_json_str(attrs, "api_id", "?"), tm_json_str(attrs, "stage", "?"));
    }
    if (strcmp(src, "trust") == 0) {
        char *fed = s_federated(e);
        int rc;
        if (fed && !cross)
            rc = tm_buf_appendf(b,
                                "In %s of the trust policy of role %s, add a condition pinning %s:sub to your own "
                                "repository and branch (for GitHub: StringEquals \"%s:sub\": "
                                "\"repo:ORG/REPO:ref:refs/heads/main\"); the aud check alone lets every user of %s in.",
                                st ? st : "the statement", name, fed, fed, fed);
        else if (cross)
            rc = tm_buf_appendf(b,
                                "In %s of the trust policy of role %s, add \"Condition\": {\"StringEquals\": "
                                "{\"sts:ExternalId\": \"<the value agreed with account %s>\"}}, or remove the account "
                                "if it no longer needs the role.",
                                st ? st : "the statement", name, entry->account ? entry->account : "?");
        else
            rc = tm_buf_appendf(b,
                                "In %s of the trust policy of role %s, replace the principal \"*\" with the accounts "
                                "that need the role, and require aws:PrincipalOrgID or sts:ExternalId.",
                                st ? st : "the statement", name);
        free(fed);
        return rc;
    }
    /* A resource-based policy. */
    const char *policy = s_is(n, "aws:s3:bucket")                   ? "bucket policy"
                         : s_is(n, "aws:s3:access-point")           ? "access point policy"
                         : s_is(n, "aws:sqs:queue")                 ? "queue policy"
                         : s_is(n, "aws:sns:topic")                 ? "topic policy"
                         : s_is(n, "aws:kms:key")                   ? "key policy"
                         : s_is(n, "aws:secretsmanager:secret")     ? "secret's resource policy"
                         : s_is(n, "aws:ecr:repository")            ? "repository policy"
                         : s_is(n, "aws:apigateway:method")         ? "API's resource policy"
                         : strncmp(n->type, "aws:lambda:", 11) == 0 ? "function policy"
                                                                    : "resource policy";
    int rc;
    if (cross)
        rc = tm_buf_appendf(b, "Remove account %s from %s of the %s of %s if it no longer needs access.",
                            entry->account ? entry->account : "?", st ? st : "the statement", policy, name);
    else
        rc = tm_buf_appendf(b,
                            "In the %s of %s, remove %s or replace its principal \"*\" with the accounts that need "
                            "access; for an AWS service, add aws:SourceArn or aws:SourceAccount; for your "
                            "organization, aws:PrincipalOrgID.",
                            policy, name, st ? st : "the statement that names everyone");
    if (!rc && s_is(n, "aws:s3:bucket") && !cross)
        rc = tm_buf_append_str(b, " If nothing in the bucket should be public, turn on Block Public Access "
                                  "(BlockPublicPolicy and RestrictPublicBuckets) for the bucket or the account.");
    if (!rc && strncmp(n->type, "aws:lambda:", 11) == 0 && !cross && e->n_actions &&
        strcmp(e->actions[0], "lambda:InvokeFunctionUrl") == 0)
        rc = tm_buf_appendf(b,
                            " Or set the function URL's auth type to AWS_IAM (aws lambda update-function-url-config "
                            "--function-name %s --auth-type AWS_IAM).",
                            name);
    return rc;
}

/* Ports that give a shell or a database (anything but plain web traffic). */
static bool s_sensitive_ports(const struct tm_graph_edge *const *edges, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (edges[i]->kind != TM_GRAPH_EDGE_ROUTES_TO)
            continue;
        if (!edges[i]->n_actions)
            return true;
        for (size_t a = 0; a < edges[i]->n_actions; a++) {
            const char *p = edges[i]->actions[a];
            if (strcmp(p, "tcp/80") != 0 && strcmp(p, "tcp/443") != 0 && strcmp(p, "tcp/8080") != 0)
                return true;
        }
    }
    return false;
}

/* ---- one finding ---- */

struct s_ctx {
    struct tm_analysis *a;
    const struct tm_graph *g;
    struct tm_findings *out;
    struct tm__threat_search search;
    struct s_entry_edges entry_edges; /* of the entry node whose findings are being made */
    /* Whether the current entry already reads a jewel, per jewel node (0 not yet known, 1 no, 2 yes): roles
     * of one entry reach the same jewels again and again, and each answer scans every edge of the entry. */
    uint32_t reads_entry;
    uint8_t *reads;
    uint32_t *reads_set; /* the nodes whose answer is set, to forget them when the entry changes */
    size_t n_reads_set;
    const struct tm_graph_edge **readers; /* s_entry_readers of reads_entry (the edges to sets) */
    size_t n_readers, cap_readers;
    const struct tm__threat_jewel **pick; /* the jewels a role's path leads to */
    size_t cap_pick;
};

/* Marks a jewel as read by the current entry. */
static void s_entry_reads_set(struct s_ctx *c, uint32_t jewel, uint8_t answer) {
    if (!c->reads[jewel])
        c->reads_set[c->n_reads_set++] = jewel;
    c->reads[jewel] = answer;
}

/* The edges by which the entry (or anyone wider: any AWS account, the internet) reads data directly: known,
 * unconditional can-read edges. An edge to one resource reads that resource alone: its answer is marked at once.
 * The edges to sets are kept, and each jewel of each role the entry reaches is checked against them. */
static int s_entry_readers(struct s_ctx *c, uint32_t entry) {
    const struct tm_graph *g = c->g;
    uint32_t wider[3] = {entry, tm_graph_find(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT), tm_graph_find(g, TM_GRAPH_ID_INTERNET)};
    bool any_aws_wider = tm_graph_node(g, entry)->kind != TM_GRAPH_NODE_INTERNET;
    c->n_readers = 0;
    for (size_t w = 0; w < 3; w++) {
        if ((w == 1 && !any_aws_wider) || wider[w] == TM_GRAPH_NONE)
            continue;
        size_t n = 0;
        const struct tm_graph_edge *edges = tm_graph_out(g, wider[w], &n, NULL);
        for (size_t i = 0; i < n; i++) {
            const struct tm_graph_edge *e = &edges[i];
            if ((e->flags & (TM_GRAPH_EDGE_UNKNOWN | TM_GRAPH_EDGE_CONDITIONAL)) || e->kind != TM_GRAPH_EDGE_CAN_READ)
                continue;
            if (!(e->flags & TM_GRAPH_EDGE_TO_SET)) {
                if (c->reads[e->to] != 2 && tm_graph_edge_touches_data(g, e, e->to, false))
                    s_entry_reads_set(c, e->to, 2);
                continue;
            }
            if (c->n_readers == c->cap_readers) {
                size_t cap = c->cap_readers ? c->cap_readers * 2 : 64;
                const struct tm_graph_edge **r = realloc(c->readers, cap * sizeof(*r));
                if (!r)
                    return TM_ERR_NOMEM;
                c->readers = r;
                c->cap_readers = cap;
            }
            c->readers[c->n_readers++] = e;
        }
    }
    return TM_OK;
}

/* Can the entry (or anyone wider) already read the jewel directly? Then the role adds nothing new there. The
 * answer depends on the entry and the jewel alone, and the roles of one entry meet the same jewels again and
 * again: it is kept per entry. */
static int s_entry_reads(struct s_ctx *c, uint32_t entry, uint32_t jewel, bool *out) {
    if (c->reads_entry != entry) {
        for (size_t i = 0; i < c->n_reads_set; i++)
            c->reads[c->reads_set[i]] = 0;
        c->n_reads_set = 0;
        c->reads_entry = TM_GRAPH_NONE;
        int rc = s_entry_readers(c, entry);
        if (rc)
            return rc;
        c->reads_entry = entry;
    }
    if (!c->reads[jewel]) {
        bool reads = false;
        for (size_t i = 0; i < c->n_readers && !reads; i++)
            reads = tm_graph_edge_touches_data(c->g, c->readers[i], jewel, false);
        s_entry_reads_set(c, jewel, reads ? 2 : 1);
    }
    *out = c->reads[jewel] == 2;
    return TM_OK;
}

static int s_finding(struct s_ctx *c, uint32_t entry, uint32_t node, const char *rule) {
    const struct tm_graph *g = c->g;
    const struct tm_graph_node *n = tm_graph_node(g, node), *en = tm_graph_node(g, entry);
    const struct tm_graph_edge *edges[64];
    size_t ne = s_edges_to(&c->entry_edges, node, edges, 64);
    if (!ne)
        return TM_OK;
    struct tm_finding *f = NULL;
    int rc = tm_findings_add(c->out, &f);
    if (rc)
        return rc;
    if ((rc = tm_finding_set(f, rule, NULL, TM_SEV_INFO, n->id, en->id)))
        return rc;
    /* One step per kind of access, with every action and every granting statement. */
    unsigned kinds = 0;
    for (size_t i = 0; i < ne; i++)
        kinds |= TM_GRAPH_EDGE_MASK(edges[i]->kind);
    for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT && !rc; k++) {
        if (!(kinds & TM_GRAPH_EDGE_MASK(k)))
            continue;
        const char *acts[256];
        size_t na = 0;
        struct tm_buf ev;
        tm_buf_init(&ev, 64 * 1024);
        for (size_t i = 0; i < ne && !rc; i++) {
            if (edges[i]->kind != k)
                continue;
            for (size_t a = 0; a < edges[i]->n_actions && na < 256; a++) {
                bool seen = false;
                for (size_t j = 0; j < na && !seen; j++)
                    seen = strcmp(acts[j], edges[i]->actions[a]) == 0;
                if (!seen)
                    acts[na++] = edges[i]->actions[a];
            }
            if (edges[i]->evidence.text)
                rc = tm_buf_appendf_text(&ev, "%s%s", ev.len ? "; " : "", edges[i]->evidence.text);
        }
        if (!rc)
            rc = tm_finding_add_step(f, en->id, n->id, tm_graph_edge_kind_name((enum tm_graph_edge_kind)k), acts, na,
                                     ev.len ? tm_buf_str(&ev) : NULL, false);
        tm_buf_clean_up(&ev);
    }
    if (rc)
        return rc;

    /* Impact: what the entry reaches. */
    int impact = TM__IMPACT_COMPUTE;
    bool reads_data = false, writes_data = false;
    for (size_t i = 0; i < ne; i++) {
        reads_data = reads_data || tm_graph_edge_touches_data(g, edges[i], node, false);
        writes_data = writes_data || tm_graph_edge_touches_data(g, edges[i], node, true);
    }
    struct tm_buf extra;
    tm_buf_init(&extra, 64 * 1024);
    if (s_is(n, "aws:iam:role")) {
        /* What the role's credentials reach; the path shows what the outsider could not read before. */
        if ((rc = tm__threat_search_run(&c->search, node)))
            goto out;
        impact = c->search.admin ? TM__IMPACT_ADMIN : c->search.n_jewels ? TM__IMPACT_DATA : TM__IMPACT_COMPUTE;
        /* The path leads to the administrator and to the data the outsider could not read before; past the cap,
         * to the most sensitive of them, and the text counts the rest. */
        size_t np = 0;
        if (c->search.n_jewels > c->cap_pick) {
            const struct tm__threat_jewel **p = realloc(c->pick, c->search.n_jewels * sizeof(*p));
            if (!p) {
                rc = TM_ERR_NOMEM;
                goto out;
            }
            c->pick = p;
            c->cap_pick = c->search.n_jewels;
        }
        for (size_t j = 0; j < c->search.n_jewels && !rc; j++) {
            const struct tm__threat_jewel *jw = &c->search.jewels[j];
            bool admin = tm_graph_node(g, jw->node)->kind == TM_GRAPH_NODE_ADMIN;
            bool already = false;
            if (!admin && jw->read && (rc = s_entry_reads(c, entry, jw->node, &already)))
                break;
            if (admin || (jw->read && !already))
                c->pick[np++] = jw;
        }
        size_t total = np;
        if (!rc && np)
            rc = tm__threat_reach_select(&c->search, f, c->pick, &np, c->a->reach_listed_max);
        for (size_t j = 0; j < np && !rc; j++) {
            const struct tm__threat_jewel *jw = c->pick[j];
            bool admin = tm_graph_node(g, jw->node)->kind == TM_GRAPH_NODE_ADMIN;
            rc = tm__threat_search_jewel_path(&c->search, f, jw);
            if (!rc)
                rc = tm_buf_appendf_text(&extra, "%s%s", extra.len ? ", " : "",
                                         admin ? "full control of the account"
                                               : tm__threat_name(tm_graph_node(g, jw->node)));
        }
        if (!rc && np < total)
            rc = tm_buf_appendf_text(&extra, ", and %zu more (%s lists them all)", total - np, f->list_all);
        if (!rc && c->search.admin && !extra.len)
            rc = tm_buf_append_text(&extra, "full control of the account");
    } else if (kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_ROUTES_TO)) {
        /* A server or database port open to the world: shells and databases are data; web ports, code. */
        impact = s_sensitive_ports(edges, ne) ? TM__IMPACT_DATA : TM__IMPACT_COMPUTE;
    } else if (s_is(n, "aws:secretsmanager:secret")) {
        impact = reads_data ? TM__IMPACT_ADMIN : TM__IMPACT_DATA;
    } else if (tm_graph_is_crown_jewel(g, node) || s_is(n, "aws:s3:bucket")) {
        impact = reads_data || writes_data ? TM__IMPACT_DATA : TM__IMPACT_METADATA;
    } else if (kinds & TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_READ)) {
        impact = TM__IMPACT_DATA;
    }
    if (rc)
        goto out;

    char whobuf[128], title[1024];
    const char *who = s_who(en, whobuf, sizeof(whobuf));
    const struct s_type *t = s_type_of(n);
    char *fed = s_is(n, "aws:iam:role") && en->kind == TM_GRAPH_NODE_INTERNET ? s_federated(edges[0]) : NULL;
    if (fed)
        snprintf(title, sizeof(title), "Anyone who can get a token from %s can assume the IAM role %s", fed,
                 tm__threat_name(n));
    else
        snprintf(title, sizeof(title), "%s can %s the %s %s", who, s_verb(kinds), t->noun, tm__threat_name(n));
    free(fed);

    struct tm_buf expl, fix;
    tm_buf_init(&expl, 64 * 1024);
    tm_buf_init(&fix, 64 * 1024);
    rc = tm_buf_appendf_text(&expl, "%s can %s %s", who, s_verb(kinds), n->id);
    for (size_t i = 0; i < f->path_len && !rc; i++) {
        const struct tm_path_step *s = &f->path[i];
        if (strcmp(s->from, en->id) != 0)
            continue;
        rc = tm_buf_appendf_text(&expl, "%s %s", i ? ";" : ":", s->evidence ? s->evidence : s->kind);
        if (!rc && s->n_actions) {
            rc = tm_buf_append_text(&expl, " (");
            for (size_t a = 0; a < s->n_actions && !rc; a++)
                rc = tm_buf_appendf_text(&expl, "%s%s", a ? ", " : "", s->actions[a]);
            if (!rc)
                rc = tm_buf_append_text(&expl, ")");
        }
    }
    if (!rc)
        rc = tm_buf_append_text(&expl, ".");
    for (size_t i = 0; i < ne && !rc; i++)
        if (edges[i]->conditions)
            rc = tm_buf_appendf_text(&expl, " Conditions that do not keep outsiders out: %s.", edges[i]->conditions);
    if (!rc && extra.len)
        rc = tm_buf_appendf_text(&expl, " Its credentials reach %s.", tm_buf_str(&extra));
    if (!rc)
        rc = s_fix(&fix, g, n, edges[0], en);
    if (!rc) {
        enum tm_severity sev = tm__threat_severity(tm__threat_entry_likelihood(en), impact, false);
        rc = tm__threat_finish(c->a, f, sev, title, tm_buf_str(&expl), tm_buf_str(&fix));
    }
    tm_buf_clean_up(&expl);
    tm_buf_clean_up(&fix);
out:
    tm_buf_clean_up(&extra);
    return rc;
}

static int s_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int tm_analyze_exposure(struct tm_analysis *analysis, struct tm_findings *out) {
    const struct tm_graph *g = analysis->graph;
    if (!g)
        return TM_OK;
    struct s_ctx c = {.a = analysis, .g = g, .out = out, .reads_entry = TM_GRAPH_NONE};
    int rc = tm__threat_search_init(&c.search, g, true);
    if (rc)
        return rc;
    size_t cap = tm_graph_node_count(g) + 1;
    uint32_t *targets = malloc(cap * sizeof(uint32_t));
    uint8_t *done = calloc(cap, 1);
    c.reads = calloc(cap, 1);
    c.reads_set = malloc(cap * sizeof(uint32_t));
    c.entry_edges.head = calloc(cap, sizeof(uint32_t));
    if (!targets || !done || !c.reads || !c.reads_set || !c.entry_edges.head) {
        rc = TM_ERR_NOMEM;
        goto out;
    }
    /* Public: the internet first, then any AWS account for what the internet does not reach. */
    uint32_t pub[2] = {tm_graph_find(g, TM_GRAPH_ID_INTERNET), tm_graph_find(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT)};
    for (size_t p = 0; p < 2 && !rc; p++) {
        if (pub[p] == TM_GRAPH_NONE)
            continue;
        size_t nt = 0;
        if ((rc = s_entry_edges_index(&c.entry_edges, g, pub[p], targets, &nt)))
            break;
        for (size_t i = 0; i < nt && !rc; i++) {
            if (done[targets[i]])
                continue;
            done[targets[i]] = 1;
            rc = s_finding(&c, pub[p], targets[i], s_type_of(tm_graph_node(g, targets[i]))->rule_public);
        }
        s_entry_edges_clear(&c.entry_edges, targets, nt);
    }
    /* Cross-account: each account outside the organization, each resource it reaches. */
    for (uint32_t a = 0; a < tm_graph_node_count(g) && !rc; a++) {
        const struct tm_graph_node *an = tm_graph_node(g, a);
        if (an->kind != TM_GRAPH_NODE_ACCOUNT || (an->flags & TM_GRAPH_NODE_IN_ORGANIZATION) ||
            tm_graph_is_home_account(g, an->account))
            continue;
        size_t nt = 0;
        if ((rc = s_entry_edges_index(&c.entry_edges, g, a, targets, &nt)))
            break;
        qsort(targets, nt, sizeof(uint32_t), s_cmp_u32);
        for (size_t i = 0; i < nt && !rc; i++) {
            const char *rule = s_type_of(tm_graph_node(g, targets[i]))->rule_cross;
            if (rule)
                rc = s_finding(&c, a, targets[i], rule);
        }
        s_entry_edges_clear(&c.entry_edges, targets, nt);
    }
out:
    if (rc && !analysis->errmsg[0])
        snprintf(analysis->errmsg, sizeof(analysis->errmsg), "exposure analyzer: %s", tm_error_str(rc));
    free(targets);
    free(done);
    free(c.reads);
    free(c.reads_set);
    free(c.readers);
    free(c.pick);
    free(c.entry_edges.head);
    free(c.entry_edges.next);
    tm__threat_search_clean_up(&c.search);
    return rc;
}
