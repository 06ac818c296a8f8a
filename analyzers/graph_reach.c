/* Snapshot → graph, part three: the entry points, i.e. edges from outside the account (the internet,
 * any AWS account, named external accounts, organisations, identity providers) into it. Resource and
 * trust policies are classified by the policy engine's reach analysis (analyzers/iam/reach.h); network
 * exposure, sharing attributes, API Gateway authorisation and Lambda function URLs are read from
 * attributes here. An unknown fact gives an unknown edge, never no edge. */
#include "analyzers/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyzers/graph_int.h"
#include "analyzers/iam/reach.h"
#include "core/buf.h"
#include "core/json.h"

static const cJSON *s_attrs(const cJSON *res) {
    return res ? cJSON_GetObjectItemCaseSensitive(res, "attrs") : NULL;
}

static const cJSON *s_attr(const cJSON *res, const char *key) {
    const cJSON *a = s_attrs(res);
    return a ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL;
}

static uint32_t s_internet(const struct tm_graph *g) {
    return tm__graph_lookup(g, TM_GRAPH_ID_INTERNET);
}

static int s_entry(struct tm_graph *g, uint32_t from, uint32_t to, enum tm_graph_edge_kind kind, unsigned flags,
                   const char *const *actions, size_t n_actions, const char *conditions, const char *source,
                   const char *holder, const char *text) {
    struct tm__graph_edge_spec e = {
        .from = from,
        .to = to,
        .kind = kind,
        .flags = flags,
        .actions = actions,
        .n_actions = n_actions,
        .conditions = conditions,
        .ev = {source, holder, NULL, -1, NULL, text},
    };
    return tm__graph_edge(g, &e);
}

/* ---- network: security groups open to the world on things with public addresses ---- */

static bool s_cidr_world(const cJSON *v) {
    const char *c = NULL;
    if (cJSON_IsString(v))
        c = v->valuestring;
    else if (cJSON_IsObject(v))
        c = tm_json_str(v, "cidr_ip",
                        tm_json_str(v, "CidrIp", tm_json_str(v, "cidr_ipv6", tm_json_str(v, "CidrIpv6", NULL))));
    return c && (strcmp(c, "0.0.0.0/0") == 0 || strcmp(c, "::/0") == 0);
}

/* "tcp/22", "tcp/8000-8080", "all traffic". */
static const char *s_ports(struct tm_graph *g, const cJSON *rule) {
    const char *proto = tm_json_str(rule, "ip_protocol", "-1");
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(rule, "from_port");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(rule, "to_port");
    if (strcmp(proto, "-1") == 0 || strcmp(proto, "all") == 0)
        return "all traffic";
    if (!cJSON_IsNumber(from) || !cJSON_IsNumber(to) || (from->valueint <= 0 && to->valueint >= 65535))
        return tm__graph_printf(g, "%s/all ports", proto);
    if (from->valueint == to->valueint)
        return tm__graph_printf(g, "%s/%d", proto, from->valueint);
    return tm__graph_printf(g, "%s/%d-%d", proto, from->valueint, to->valueint);
}

static bool s_port_in(const cJSON *rule, int port) {
    const char *proto = tm_json_str(rule, "ip_protocol", "-1");
    if (strcmp(proto, "-1") == 0 || strcmp(proto, "all") == 0)
        return true;
    if (port <= 0)
        return true;
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(rule, "from_port");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(rule, "to_port");
    if (!cJSON_IsNumber(from) || !cJSON_IsNumber(to))
        return true;
    return strcmp(proto, "tcp") == 0 && from->valueint <= port && port <= to->valueint;
}

/* The security groups of a resource: attrs.security_group_ids plus protected-by links. */
static size_t s_groups(struct tm_graph *g, const struct tm_graph_node *n, const char **out, size_t max) {
    size_t k = 0;
    const cJSON *ids = s_attr(n->resource, "security_group_ids");
    const char *region = tm_json_str(n->resource, "region", "");
    for (const cJSON *i = cJSON_IsArray(ids) ? ids->child : NULL; i && k < max; i = i->next) {
        if (!cJSON_IsString(i))
            continue;
        const char *id = strncmp(i->valuestring, "arn:", 4) == 0
                             ? i->valuestring
                             : tm__graph_printf(g, "arn:aws:ec2:%s:%s:security-group/%s", region,
                                                n->account ? n->account : "", i->valuestring);
        if (id)
            out[k++] = id;
    }
    const cJSON *links = cJSON_GetObjectItemCaseSensitive(n->resource, "links");
    for (const cJSON *l = cJSON_IsArray(links) ? links->child : NULL; l && k < max; l = l->next) {
        const char *to = tm_json_str(l, "to", NULL);
        if (!to || strcmp(tm_json_str(l, "kind", ""), "protected-by") != 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = strcmp(out[j], to) == 0;
        if (!seen)
            out[k++] = to;
    }
    return k;
}

/* Edges internet → node for each security group that lets the world in (on port, or any port when 0). */
static int s_open_groups(struct tm_graph *g, uint32_t node, int port, const char *why) {
    const char *groups[64];
    size_t ng = s_groups(g, &g->nodes[node], groups, 64);
    uint32_t internet = s_internet(g);
    for (size_t i = 0; i < ng; i++) {
        const cJSON *sg = tm_snapshot_find(g->snap, groups[i]);
        const cJSON *ingress = sg ? s_attr(sg, "ingress") : NULL;
        const char *sg_name = sg ? tm_json_str(sg, "name", groups[i]) : groups[i];
        int rc;
        if (!sg || tm_snapshot_is_unknown(ingress)) {
            /* The group's rules are unknown: the world may be let in. */
            if ((rc = s_entry(
                     g, internet, node, TM_GRAPH_EDGE_ROUTES_TO, TM_GRAPH_EDGE_UNKNOWN, NULL, 0, NULL, "network",
                     groups[i],
                     tm__graph_printf(g, "%s; the rules of security group %s could not be read", why, sg_name))))
                return rc;
            continue;
        }
        const char *ports[64];
        size_t np = 0;
        for (const cJSON *rule = cJSON_IsArray(ingress) ? ingress->child : NULL; rule && np < 64; rule = rule->next) {
            bool world = false;
            const cJSON *v4 = cJSON_GetObjectItemCaseSensitive(rule, "ipv4_ranges");
            const cJSON *v6 = cJSON_GetObjectItemCaseSensitive(rule, "ipv6_ranges");
            for (const cJSON *c = cJSON_IsArray(v4) ? v4->child : NULL; c && !world; c = c->next)
                world = s_cidr_world(c);
            for (const cJSON *c = cJSON_IsArray(v6) ? v6->child : NULL; c && !world; c = c->next)
                world = s_cidr_world(c);
            if (!world || !s_port_in(rule, port))
                continue;
            const char *p = s_ports(g, rule);
            if (!p)
                return TM_ERR_NOMEM;
            bool seen = false;
            for (size_t j = 0; j < np && !seen; j++)
                seen = strcmp(ports[j], p) == 0;
            if (!seen)
                ports[np++] = p;
        }
        if (!np)
            continue;
        const char **acts = tm__graph_alloc(g, np * sizeof(*acts));
        if (!acts)
            return TM_ERR_NOMEM;
        memcpy(acts, ports, np * sizeof(*acts));
        struct tm_buf b;
        tm_buf_init(&b, 4096);
        for (size_t j = 0; j < np; j++)
            if (tm_buf_appendf(&b, "%s%s", j ? ", " : "", ports[j]))
                break;
        const char *text = tm__graph_printf(g, "%s; security group %s allows %s from anywhere (0.0.0.0/0)", why,
                                            sg_name, tm_buf_str(&b));
        tm_buf_clean_up(&b);
        if ((rc = s_entry(g, internet, node, TM_GRAPH_EDGE_ROUTES_TO, 0, acts, np, NULL, "network", groups[i], text)))
            return rc;
    }
    return TM_OK;
}

static bool s_present_string(const cJSON *v) {
    return cJSON_IsString(v) && v->valuestring[0];
}

static int s_network_pass(struct tm_graph *g) {
    size_t n = 0;
    const uint32_t *inst = tm_graph_nodes_of_type(g, "aws:ec2:instance", &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *res = g->nodes[inst[i]].resource;
        const char *state = tm_json_str(s_attrs(res), "state", "running");
        if (strcmp(state, "terminated") == 0 || strcmp(state, "shutting-down") == 0 || strcmp(state, "stopped") == 0 ||
            strcmp(state, "stopping") == 0)
            continue;
        const cJSON *ip = s_attr(res, "public_ip");
        bool unknown = tm_snapshot_is_unknown(ip);
        if (!unknown && !s_present_string(ip))
            continue;
        const char *why = unknown ? "the instance's public address could not be read"
                                  : tm__graph_printf(g, "the instance has the public address %s", ip->valuestring);
        int rc = s_open_groups(g, inst[i], 0, why);
        if (rc)
            return rc;
    }
    const uint32_t *dbs = tm_graph_nodes_of_type(g, "aws:rds:db", &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *res = g->nodes[dbs[i]].resource;
        const cJSON *pub = s_attr(res, "publicly_accessible");
        bool unknown = tm_snapshot_is_unknown(pub);
        if (!unknown && !cJSON_IsTrue(pub))
            continue;
        int port = (int)tm_json_num(s_attrs(res), "port", 0);
        const char *why = unknown ? "whether the database is publicly accessible could not be read"
                                  : "the database is publicly accessible (it has a public address)";
        int rc = s_open_groups(g, dbs[i], port, why);
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- sharing attributes: public and shared snapshots and images ---- */

/* One entry of createVolumePermission / launchPermission: "all" (public), an account id, or NULL. */
static const char *s_permission(const cJSON *e, bool *all) {
    *all = false;
    if (cJSON_IsString(e)) {
        *all = strcmp(e->valuestring, "all") == 0;
        return e->valuestring;
    }
    const char *grp = tm_json_str(e, "group", tm_json_str(e, "Group", NULL));
    if (grp && strcmp(grp, "all") == 0) {
        *all = true;
        return "all";
    }
    return tm_json_str(e, "user_id", tm_json_str(e, "UserId", NULL));
}

static int s_shared(struct tm_graph *g, uint32_t node, const cJSON *perms, bool public_flag, const char *action,
                    const char *what) {
    uint32_t internet = s_internet(g);
    const char *id = g->nodes[node].id;
    const char *const *acts = tm__graph_one(g, action);
    if (!acts)
        return TM_ERR_NOMEM;
    if (tm_snapshot_is_unknown(perms))
        return s_entry(g, internet, node, TM_GRAPH_EDGE_CAN_READ, TM_GRAPH_EDGE_UNKNOWN, acts, 1, NULL, "permission",
                       id, tm__graph_printf(g, "who the %s is shared with could not be read", what));
    bool is_public = public_flag;
    for (const cJSON *e = cJSON_IsArray(perms) ? perms->child : NULL; e; e = e->next) {
        bool all = false;
        const char *who = s_permission(e, &all);
        if (all) {
            is_public = true;
            continue;
        }
        if (!who || (g->nodes[node].account && strcmp(who, g->nodes[node].account) == 0))
            continue;
        uint32_t acct = tm_graph_is_home_account(g, who) ? TM_GRAPH_NONE : tm__graph_account_node(g, who);
        if (acct == TM_GRAPH_NONE)
            continue;
        int rc = s_entry(g, acct, node, TM_GRAPH_EDGE_CAN_READ, 0, acts, 1, NULL, "permission", id,
                         tm__graph_printf(g, "the %s is shared with account %s", what, who));
        if (rc)
            return rc;
    }
    if (is_public)
        return s_entry(g, internet, node, TM_GRAPH_EDGE_CAN_READ, 0, acts, 1, NULL, "permission", id,
                       tm__graph_printf(g, "the %s is public: shared with every AWS account (group \"all\")", what));
    return TM_OK;
}

static int s_sharing_pass(struct tm_graph *g) {
    static const struct {
        const char *type, *attr, *action, *what;
    } kinds[] = {
        {"aws:ec2:snapshot", "create_volume_permissions", "ec2:CreateVolume", "EBS snapshot"},
        {"aws:ec2:image", "launch_permissions", "ec2:RunInstances", "machine image (AMI)"},
        {"aws:rds:snapshot", "restore", "rds:RestoreDBInstanceFromDBSnapshot", "database snapshot"},
        {"aws:rds:cluster-snapshot", "restore", "rds:RestoreDBClusterFromSnapshot", "database cluster snapshot"},
    };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        size_t n = 0;
        const uint32_t *nodes = tm_graph_nodes_of_type(g, kinds[k].type, &n);
        for (size_t i = 0; i < n; i++) {
            const cJSON *res = g->nodes[nodes[i]].resource;
            const cJSON *perms = s_attr(res, kinds[k].attr);
            bool pub = cJSON_IsTrue(s_attr(res, "public"));
            if (!perms && !pub)
                continue;
            int rc = s_shared(g, nodes[i], perms, pub, kinds[k].action, kinds[k].what);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

/* ---- API Gateway: methods and routes callable without authorisation ---- */

static bool s_has_string(const cJSON *arr, const char *s) {
    for (const cJSON *i = cJSON_IsArray(arr) ? arr->child : NULL; i; i = i->next)
        if (cJSON_IsString(i) && strcmp(i->valuestring, s) == 0)
            return true;
    return false;
}

/* Does the API's resource policy let an anonymous caller invoke the method? API Gateway requires an explicit
 * Allow once a policy exists. Returns 1 allowed, 2 allowed under conditions, 0 not, -1 unknown. */
static int s_api_policy_allows(struct tm_graph *g, uint32_t api, const char *method_arn, const char **conditions) {
    *conditions = NULL;
    if (api == TM_GRAPH_NONE)
        return 1;
    bool unknown = false;
    const struct tm_iam_policy *pol = tm_graph_resource_policy(g, api, &unknown);
    if (unknown)
        return -1;
    if (!pol)
        return 1;
    struct tm_iam_policy_set set = {.resource = pol};
    struct tm_iam_request req = {.principal = "anonymous",
                                 .action = "execute-api:Invoke",
                                 .resource = method_arn,
                                 .context = tm__graph_context(g, tm_json_str(g->nodes[api].resource, "region", NULL))};
    struct tm_iam_result r;
    tm_iam_result_init(&r);
    int rc = tm_iam_evaluate(&r, &req, &set, true);
    int out = 0;
    if (rc == TM_OK && r.decision == TM_IAM_ALLOWED) {
        out = 1;
    } else if (rc == TM_OK && r.decision == TM_IAM_IMPLICIT_DENY) {
        /* Allowed only under conditions the default context does not meet (a source network)? */
        size_t ns = tm_iam_policy_statement_count(pol);
        for (size_t s = 0; s < ns && !out; s++) {
            struct tm_iam_statement_view v;
            if (tm_iam_policy_statement(pol, s, &v) || v.effect != TM_IAM_ALLOW || !v.n_conditions)
                continue;
            struct tm_iam_principal_view pv;
            bool anyone = false;
            for (size_t k = 0; k < v.n_principals && !anyone; k++)
                anyone = tm_iam_policy_principal(pol, s, k, &pv) == TM_OK &&
                         (pv.type == TM_IAM_PTYPE_ANY || (pv.type == TM_IAM_PTYPE_AWS && strcmp(pv.value, "*") == 0));
            bool vpce = false;
            for (size_t c = 0; c < v.n_conditions && !vpce; c++) {
                struct tm_iam_condition_view cv;
                vpce = tm_iam_policy_condition(pol, s, c, &cv) == TM_OK &&
                       (strcasecmp(cv.key, "aws:SourceVpce") == 0 || strcasecmp(cv.key, "aws:SourceVpc") == 0);
            }
            if (anyone && !vpce) {
                *conditions = tm__graph_conditions_text(g, pol, s, v.n_conditions);
                out = 2;
            }
        }
    }
    tm_iam_result_clean_up(&r);
    return out;
}

static int s_api_entry(struct tm_graph *g, uint32_t m, const char *api_id) {
    const cJSON *res = g->nodes[m].resource;
    const char *auth = tm_json_str(s_attrs(res), "authorization_type", NULL);
    const cJSON *auth_v = s_attr(res, "authorization_type");
    uint32_t api = tm__graph_lookup(g, api_id);
    const cJSON *api_res = api != TM_GRAPH_NONE ? g->nodes[api].resource : NULL;
    const cJSON *disabled = api_res ? s_attr(api_res, "disable_execute_api_endpoint") : NULL;
    if (cJSON_IsTrue(disabled))
        return TM_OK; /* only reachable through a custom domain, which tmscan does not read: no default URL */
    const cJSON *types = api_res ? s_attr(api_res, "endpoint_types") : NULL;
    bool private_api = s_has_string(types, "PRIVATE");
    uint32_t internet = s_internet(g);
    const char *const *acts = tm__graph_one(g, "execute-api:Invoke");
    if (!acts)
        return TM_ERR_NOMEM;
    if (tm_snapshot_is_unknown(auth_v))
        return s_entry(g, internet, m, TM_GRAPH_EDGE_CAN_INVOKE, TM_GRAPH_EDGE_UNKNOWN, acts, 1, NULL, "authorizer",
                       g->nodes[m].id, "the method's authorisation setting could not be read");
    if (!auth)
        return TM_OK;
    if (strcmp(auth, "NONE") == 0) {
        const char *conditions = NULL;
        int allowed = s_api_policy_allows(g, api, g->nodes[m].id, &conditions);
        if (allowed == 0)
            return TM_OK;
        if (private_api) {
            /* A private API is reached through VPC endpoints; its policy says whose. With no restriction
             * to named endpoints, any AWS account can create one that reaches it. */
            if (allowed == 1 && api != TM_GRAPH_NONE && tm_graph_resource_policy(g, api, NULL))
                return s_entry(g, tm__graph_lookup(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT), m, TM_GRAPH_EDGE_CAN_INVOKE, 0,
                               acts, 1, NULL, "resource", g->nodes[api].id,
                               "private API whose resource policy does not restrict the VPC endpoints that reach it");
            return TM_OK;
        }
        unsigned flags = allowed == -1 ? TM_GRAPH_EDGE_UNKNOWN : allowed == 2 ? TM_GRAPH_EDGE_CONDITIONAL : 0u;
        const char *text = allowed == -1 ? "the method requires no authorisation; the API's resource policy could "
                                           "not be read"
                                         : "the method requires no authorisation (authorization type NONE)";
        return s_entry(g, internet, m, TM_GRAPH_EDGE_CAN_INVOKE, flags, acts, 1, conditions, "authorizer",
                       g->nodes[m].id, text);
    }
    if (private_api || strcmp(auth, "AWS_IAM") == 0)
        return TM_OK; /* IAM callers come from identity grants and the API's policy (reach) */
    /* CUSTOM, COGNITO_USER_POOLS, JWT: the internet can call it, with credentials the authorizer accepts. */
    const cJSON *az = s_attr(res, "authorizer");
    const char *name = cJSON_IsObject(az) ? tm_json_str(az, "name", tm_json_str(az, "id", "?")) : "?";
    return s_entry(g, internet, m, TM_GRAPH_EDGE_CAN_INVOKE, TM_GRAPH_EDGE_CONDITIONAL, acts, 1,
                   tm__graph_printf(g, "caller must pass the %s authorizer %s", auth, name), "authorizer",
                   g->nodes[m].id, tm__graph_printf(g, "the method is protected by the %s authorizer %s", auth, name));
}

static int s_api_pass(struct tm_graph *g) {
    size_t n = 0;
    const uint32_t *methods = tm_graph_nodes_of_type(g, "aws:apigateway:method", &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *res = g->nodes[methods[i]].resource;
        const char *api = tm_json_str(s_attrs(res), "api_id", NULL);
        const char *region = tm_json_str(res, "region", "");
        const char *api_arn = api ? tm__graph_printf(g, "arn:aws:apigateway:%s::/restapis/%s", region, api) : NULL;
        int rc = s_api_entry(g, methods[i], api_arn ? api_arn : "");
        if (rc)
            return rc;
    }
    const uint32_t *routes = tm_graph_nodes_of_type(g, "aws:apigatewayv2:route", &n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *res = g->nodes[routes[i]].resource;
        const char *api = tm_json_str(s_attrs(res), "api_id", NULL);
        const char *region = tm_json_str(res, "region", "");
        const char *api_arn = api ? tm__graph_printf(g, "arn:aws:apigateway:%s::/apis/%s", region, api) : NULL;
        int rc = s_api_entry(g, routes[i], api_arn ? api_arn : "");
        if (rc)
            return rc;
    }
    return TM_OK;
}

/* ---- resource and trust policies: the policy engine's reach analysis ---- */

struct s_reach_kind {
    const char *type;
    enum tm_iam_resource_type reach_type;
    const char *policy_name;              /* "bucket policy" */
    enum tm_graph_edge_kind unknown_kind; /* the edge an unreadable policy could grant */
};

static const struct s_reach_kind s_reach_kinds[] = {
    {"aws:s3:bucket", TM_IAM_RES_S3, "bucket policy", TM_GRAPH_EDGE_CAN_READ},
    {"aws:s3:access-point", TM_IAM_RES_S3, "access point policy", TM_GRAPH_EDGE_CAN_READ},
    {"aws:sqs:queue", TM_IAM_RES_SQS, "queue policy", TM_GRAPH_EDGE_CAN_WRITE},
    {"aws:sns:topic", TM_IAM_RES_SNS, "topic policy", TM_GRAPH_EDGE_CAN_WRITE},
    {"aws:lambda:function", TM_IAM_RES_LAMBDA, "function policy", TM_GRAPH_EDGE_CAN_INVOKE},
    {"aws:lambda:alias", TM_IAM_RES_LAMBDA, "alias policy", TM_GRAPH_EDGE_CAN_INVOKE},
    {"aws:kms:key", TM_IAM_RES_KMS, "key policy", TM_GRAPH_EDGE_CAN_READ},
    {"aws:secretsmanager:secret", TM_IAM_RES_SECRETSMANAGER, "secret policy", TM_GRAPH_EDGE_CAN_READ},
    {"aws:ecr:repository", TM_IAM_RES_ECR, "repository policy", TM_GRAPH_EDGE_CAN_READ},
    {"aws:apigateway:restapi", TM_IAM_RES_APIGATEWAY, "API policy", TM_GRAPH_EDGE_CAN_INVOKE},
    {"aws:iam:role", TM_IAM_RES_TRUST, "trust policy", TM_GRAPH_EDGE_CAN_ASSUME},
};

/* S3 Block Public Access from the snapshot's object of four booleans (AWS's names). */
static bool s_bpa(const cJSON *obj, struct tm_iam_s3_bpa *out) {
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(obj))
        return false;
    out->block_public_acls = tm_json_bool(obj, "BlockPublicAcls", false);
    out->ignore_public_acls = tm_json_bool(obj, "IgnorePublicAcls", false);
    out->block_public_policy = tm_json_bool(obj, "BlockPublicPolicy", false);
    out->restrict_public_buckets = tm_json_bool(obj, "RestrictPublicBuckets", false);
    return true;
}

/* The snapshot's acl attribute ({owner, grants: [{grantee: {type, id, uri, email}, permission}]}) in the shape
 * of a GetBucketAcl answer, which the reach analysis reads (as a tree: not printed to be parsed back). */
static cJSON *s_acl_tree(const cJSON *acl) {
    if (!cJSON_IsObject(acl))
        return NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *owner = cJSON_AddObjectToObject(root, "Owner");
    cJSON *grants = cJSON_AddArrayToObject(root, "Grants");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(acl, "owner");
    if (!owner || !grants)
        goto fail;
    if (cJSON_IsObject(o) && tm_json_str(o, "id", NULL) &&
        !cJSON_AddStringToObject(owner, "ID", tm_json_str(o, "id", "")))
        goto fail;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(acl, "grants");
    for (const cJSON *gr = cJSON_IsArray(list) ? list->child : NULL; gr; gr = gr->next) {
        const cJSON *ge = cJSON_GetObjectItemCaseSensitive(gr, "grantee");
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(grants, item))
            goto fail;
        cJSON *grantee = cJSON_AddObjectToObject(item, "Grantee");
        if (!grantee)
            goto fail;
        static const char *const keys[][2] = {
            {"type", "Type"}, {"id", "ID"}, {"uri", "URI"}, {"email", "EmailAddress"}, {"display_name", "DisplayName"}};
        for (size_t k = 0; k < 5; k++) {
            const char *v = cJSON_IsObject(ge) ? tm_json_str(ge, keys[k][0], NULL) : NULL;
            if (v && !cJSON_AddStringToObject(grantee, keys[k][1], v))
                goto fail;
        }
        if (!cJSON_AddStringToObject(item, "Permission", tm_json_str(gr, "permission", "")))
            goto fail;
    }
    return root;
fail:
    cJSON_Delete(root);
    return NULL;
}

/* "oidc:token.actions.githubusercontent.com" for an OIDC provider ARN, "saml:NAME" for a SAML one. */
static uint32_t s_federated_node(struct tm_graph *g, const char *provider) {
    const char *o = strstr(provider, ":oidc-provider/");
    if (o)
        return tm__graph_pseudo_node(g, TM_GRAPH_NODE_FEDERATED, "oidc:", o + strlen(":oidc-provider/"));
    const char *s = strstr(provider, ":saml-provider/");
    if (s)
        return tm__graph_pseudo_node(g, TM_GRAPH_NODE_FEDERATED, "saml:", s + strlen(":saml-provider/"));
    return tm__graph_pseudo_node(g, TM_GRAPH_NODE_FEDERATED, "oidc:", provider);
}

static const char *s_join(struct tm_graph *g, const char *const *v, size_t n, const char *sep) {
    if (!n)
        return NULL;
    struct tm_buf b;
    tm_buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < n; i++)
        if (tm_buf_appendf(&b, "%s%s", i ? sep : "", v[i]))
            break;
    const char *out = tm__graph_strdup(g, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    return out;
}

static const char *s_grant_text(struct tm_graph *g, const struct s_reach_kind *rk, const struct tm_iam_grant *gr) {
    struct tm_buf b;
    tm_buf_init(&b, 64 * 1024);
    bool acl = gr->n_evidence && gr->evidence[0].acl;
    int rc = tm_buf_appendf(&b, "%s %s%s", acl ? "bucket ACL" : rk->policy_name, acl ? "grant" : "statement",
                            gr->n_evidence > 1 ? "s" : "");
    for (size_t i = 0; i < gr->n_evidence && !rc; i++) {
        rc = tm_buf_appendf(&b, "%s %zu", i ? "," : "", gr->evidence[i].index);
        if (!rc && gr->evidence[i].sid)
            rc = tm_buf_appendf(&b, " (Sid %s)", gr->evidence[i].sid);
    }
    if (!rc)
        rc = tm_buf_appendf(&b, ": %s", tm_iam_reach_phrase(gr->reach));
    if (!rc && gr->n_principals)
        rc = tm_buf_appendf(&b, " (%s)", s_join(g, gr->principals, gr->n_principals, ", "));
    const char *out = rc ? NULL : tm__graph_strdup(g, tm_buf_str(&b));
    tm_buf_clean_up(&b);
    return out;
}

/* The nodes a grant comes from. */
static size_t s_grant_sources(struct tm_graph *g, const char *account, const struct tm_iam_grant *gr, bool trust,
                              uint32_t *out, size_t max) {
    size_t n = 0;
    switch (gr->reach) {
        case TM_IAM_REACH_PUBLIC:
            out[n++] = tm__graph_lookup(g, TM_GRAPH_ID_INTERNET);
            break;
        case TM_IAM_REACH_AUTHENTICATED:
            out[n++] = tm__graph_lookup(g, TM_GRAPH_ID_ANY_AWS_ACCOUNT);
            break;
        case TM_IAM_REACH_EXTERNAL:
            for (size_t i = 0; i < gr->n_who && n < max; i++) {
                const char *acct = gr->who[i];
                if (account && strcmp(acct, account) == 0)
                    continue;
                /* ACL grants name canonical user ids and e-mail addresses, not accounts. */
                if (strlen(acct) == 12 && strspn(acct, "0123456789") == 12)
                    out[n++] = tm__graph_account_node(g, acct);
                else
                    out[n++] = tm__graph_pseudo_node(g, TM_GRAPH_NODE_ACCOUNT, "account:", acct);
            }
            break;
        case TM_IAM_REACH_ORGANIZATION:
            for (size_t i = 0; i < gr->n_who && n < max; i++)
                out[n++] = tm__graph_pseudo_node(g, TM_GRAPH_NODE_ORGANIZATION, "org:", gr->who[i]);
            break;
        case TM_IAM_REACH_FEDERATED:
            for (size_t i = 0; i < gr->n_who && n < max; i++)
                out[n++] = s_federated_node(g, gr->who[i]);
            break;
        case TM_IAM_REACH_SERVICE:
            /* Trust policies' services come from the engine-checked trust pass (graph_edges.c). */
            for (size_t i = 0; !trust && i < gr->n_services && n < max; i++)
                out[n++] = tm__graph_service_node(g, gr->services[i]);
            break;
        case TM_IAM_REACH_ACCOUNT:
        case TM_IAM_REACH_NETWORK:
        default:
            break; /* inside the account: identity and named-principal grants say who */
    }
    return n;
}

static int s_grant(struct tm_graph *g, uint32_t node, const uint32_t *targets, size_t n_targets,
                   const struct s_reach_kind *rk, const struct tm_iam_policy *pol, const struct tm_iam_grant *gr,
                   unsigned extra_flags) {
    bool trust = rk->reach_type == TM_IAM_RES_TRUST;
    uint32_t from[64];
    size_t n_from = s_grant_sources(g, g->nodes[node].account, gr, trust, from, 64);
    if (!n_from)
        return TM_OK;
    /* Split the actions by the kind of edge they give. */
    const char **by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
    size_t n_by_kind[TM_GRAPH_EDGE_KIND_COUNT] = {0};
    for (size_t a = 0; a < gr->n_actions; a++) {
        unsigned m = trust ? TM_GRAPH_EDGE_MASK(TM_GRAPH_EDGE_CAN_ASSUME) : tm__graph_pattern_kinds(g, gr->actions[a]);
        for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++) {
            if (!(m & TM_GRAPH_EDGE_MASK(k)))
                continue;
            if (!by_kind[k] && !(by_kind[k] = tm__graph_alloc(g, gr->n_actions * sizeof(char *))))
                return TM_ERR_NOMEM;
            by_kind[k][n_by_kind[k]++] = tm__graph_strdup(g, gr->actions[a]);
        }
    }
    /* Conditions that narrow who gets in keep the edge but mark it conditional: a source network, an
     * external id. Others were judged by the reach analysis not to narrow it. */
    unsigned flags = extra_flags;
    if (gr->n_networks || gr->external_id_required)
        flags |= TM_GRAPH_EDGE_CONDITIONAL;
    const char *conditions = s_join(g, gr->conditions, gr->n_conditions, "; ");
    const char *text = s_grant_text(g, rk, gr);
    bool acl = gr->n_evidence && gr->evidence[0].acl;
    const struct tm_iam_evidence *ev = gr->n_evidence ? &gr->evidence[0] : NULL;
    /* A statement's text and Sid are the policy's own (it lives as long as the graph, in the cache); the
     * result's copies go with it, and an ACL grant's text is kept. */
    const char *statement = NULL, *sid = NULL;
    struct tm_iam_statement_view v;
    if (ev && !ev->acl && pol && tm_iam_policy_statement(pol, ev->index, &v) == TM_OK) {
        statement = v.json;
        sid = v.sid;
    } else if (ev) {
        statement = tm__graph_strdup(g, ev->json);
        sid = ev->sid ? tm__graph_strdup(g, ev->sid) : NULL;
        if (!statement || (ev->sid && !sid))
            return TM_ERR_NOMEM;
    }
    for (size_t f = 0; f < n_from; f++) {
        for (unsigned k = 0; k < TM_GRAPH_EDGE_KIND_COUNT; k++) {
            if (!n_by_kind[k])
                continue;
            for (size_t t = 0; t < n_targets; t++) {
                struct tm__graph_edge_spec e = {
                    .from = from[f],
                    .to = targets[t],
                    .kind = (enum tm_graph_edge_kind)k,
                    .flags = flags,
                    .actions = (const char *const *)by_kind[k],
                    .n_actions = n_by_kind[k],
                    .conditions = conditions,
                    .statement = statement,
                    .ev = {acl     ? "acl"
                           : trust ? "trust"
                                   : "resource",
                           g->nodes[node].id, NULL, ev ? (int32_t)ev->index : -1, sid, text},
                };
                int rc = tm__graph_edge(g, &e);
                if (rc)
                    return rc;
            }
        }
    }
    return TM_OK;
}

/* The methods of a REST API that IAM callers reach (AWS_IAM authorisation): what the API's policy governs
 * for callers outside the account. */
static size_t s_api_methods(struct tm_graph *g, uint32_t api, uint32_t *out, size_t max) {
    const char *id = g->nodes[api].id;
    const char *slash = strrchr(id, '/');
    const char *region = tm_json_str(g->nodes[api].resource, "region", "");
    if (!slash)
        return 0;
    size_t n = 0, nm = 0;
    const uint32_t *methods = tm_graph_nodes_of_type(g, "aws:apigateway:method", &nm);
    /* Methods are named arn:aws:execute-api:REGION:ACCOUNT:API_ID/...: a range of the sorted slice. */
    for (size_t a = 0; a < g->n_accounts; a++) {
        char prefix[512];
        int plen =
            snprintf(prefix, sizeof(prefix), "arn:aws:execute-api:%s:%s:%s/", region, g->accounts[a].id, slash + 1);
        if (plen <= 0 || (size_t)plen >= sizeof(prefix))
            continue;
        size_t lo = 0, hi = nm;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strncmp(g->nodes[methods[mid]].id, prefix, (size_t)plen) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < nm && n < max && strncmp(g->nodes[methods[i]].id, prefix, (size_t)plen) == 0; i++)
            if (strcmp(tm_json_str(s_attrs(g->nodes[methods[i]].resource), "authorization_type", ""), "AWS_IAM") == 0)
                out[n++] = methods[i];
    }
    return n;
}

/* What the reach analysis needs to know about a policy before it is run. *outside: some Allow statement names
 * a principal that may be outside the account ("*", another account, a service, an identity provider, or
 * NotPrincipal); *wild: some Allow statement's actions are a pattern or NotAction, so the action catalogue is
 * needed to tell which actions it grants (explicit actions are classified exactly without it). */
static void s_policy_shape(const struct tm_iam_policy *pol, const char *account, bool *outside, bool *wild) {
    *outside = *wild = false;
    size_t n = tm_iam_policy_statement_count(pol);
    for (size_t i = 0; i < n; i++) {
        struct tm_iam_statement_view v;
        if (tm_iam_policy_statement(pol, i, &v) || v.effect != TM_IAM_ALLOW)
            continue;
        if (v.not_action)
            *wild = true;
        for (size_t a = 0; a < v.n_actions; a++)
            if (strpbrk(v.actions[a], "*?"))
                *wild = true;
        if (v.principal_mode != TM_IAM_PRINCIPAL_LIST) {
            *outside = true;
            continue;
        }
        for (size_t k = 0; k < v.n_principals; k++) {
            struct tm_iam_principal_view pv;
            if (tm_iam_policy_principal(pol, i, k, &pv))
                continue;
            if (pv.type != TM_IAM_PTYPE_AWS || !pv.account || !account || strcmp(pv.account, account) != 0)
                *outside = true;
        }
    }
}

static int s_reach_node(struct tm_graph *g, uint32_t node, const struct s_reach_kind *rk) {
    const struct tm_graph_node *rn = &g->nodes[node];
    const cJSON *res = rn->resource;
    bool unknown = false;
    const struct tm_iam_policy *pol = tm_graph_resource_policy(g, node, &unknown);
    struct tm_iam_s3_bpa bucket_bpa, account_bpa;
    bool has_bucket_bpa = false, has_account_bpa = false, bpa_unknown = false;
    cJSON *acl = NULL;
    const char *url_auth = NULL;
    if (rk->reach_type == TM_IAM_RES_S3) {
        const cJSON *b = s_attr(res, "public_access_block");
        bpa_unknown = tm_snapshot_is_unknown(b);
        has_bucket_bpa = s_bpa(b, &bucket_bpa);
        for (size_t i = 0; i < g->n_accounts; i++)
            if (rn->account ? strcmp(g->accounts[i].id, rn->account) == 0 : i == 0) {
                has_account_bpa = s_bpa(g->accounts[i].pab, &account_bpa);
                bpa_unknown = bpa_unknown || g->accounts[i].pab_unknown;
            }
        const cJSON *a = s_attr(res, "acl");
        if (tm_snapshot_is_unknown(a))
            unknown = true;
        else if (cJSON_IsObject(a) && !(acl = s_acl_tree(a)))
            return TM_ERR_NOMEM;
    } else if (rk->reach_type == TM_IAM_RES_LAMBDA) {
        const cJSON *url = s_attr(res, "url");
        if (cJSON_IsObject(url))
            url_auth = tm_json_str(url, "auth_type", NULL);
    }
    int rc = TM_OK;
    uint32_t self = node, methods[512];
    const uint32_t *targets = &self;
    size_t n_targets = 1;
    if (rk->reach_type == TM_IAM_RES_APIGATEWAY) {
        n_targets = s_api_methods(g, node, methods, 512);
        targets = methods;
    }
    if (unknown && n_targets) {
        /* What the policy (or ACL) says is unknown: anyone might get in, unless Block Public Access rules it
         * out, and then another account still might. */
        bool blocked = (has_bucket_bpa && bucket_bpa.restrict_public_buckets && bucket_bpa.ignore_public_acls) ||
                       (has_account_bpa && account_bpa.restrict_public_buckets && account_bpa.ignore_public_acls);
        uint32_t from = tm__graph_lookup(g, blocked ? TM_GRAPH_ID_ANY_AWS_ACCOUNT : TM_GRAPH_ID_INTERNET);
        const char *text = tm__graph_printf(g, "the %s could not be read: who can use it is unknown", rk->policy_name);
        for (size_t t = 0; t < n_targets && !rc; t++) {
            struct tm__graph_edge_spec e = {
                .from = from,
                .to = targets[t],
                .kind = rk->unknown_kind,
                .flags = TM_GRAPH_EDGE_UNKNOWN,
                .ev = {rk->reach_type == TM_IAM_RES_TRUST ? "trust" : "resource", rn->id, NULL, -1, NULL, text},
            };
            rc = tm__graph_edge(g, &e);
        }
    }
    bool outside = false, wild = false;
    if (pol)
        s_policy_shape(pol, rn->account, &outside, &wild);
    /* A policy naming only principals of this account, without an ACL or URL, gives no way in from outside:
     * identity and named-principal grants already made its edges. */
    if (rc || (!outside && !acl && !url_auth) || !n_targets) {
        cJSON_Delete(acl);
        return rc;
    }
    struct tm_iam_reach_input in = {
        .type = rk->reach_type,
        .policy = pol,
        .account = rn->account,
        .resource_arn = rn->id,
        .catalog = wild ? g->opts.actions : NULL,
        .s3_acl = acl,
        .bucket_bpa = has_bucket_bpa ? &bucket_bpa : NULL,
        .account_bpa = has_account_bpa ? &account_bpa : NULL,
        .lambda_url_auth_type = url_auth,
    };
    struct tm_iam_reach_result *r = NULL;
    char err[256] = "";
    rc = tm_iam_reach_analyze(&r, &in, err, sizeof(err));
    cJSON_Delete(acl);
    if (rc == TM_ERR_NOMEM)
        return rc;
    if (rc) {
        /* The engine could not classify it (a malformed ACL): unknown, never private. */
        struct tm__graph_edge_spec e = {
            .from = tm__graph_lookup(g, TM_GRAPH_ID_INTERNET),
            .to = node,
            .kind = rk->unknown_kind,
            .flags = TM_GRAPH_EDGE_UNKNOWN,
            .ev = {"resource", rn->id, NULL, -1, NULL,
                   tm__graph_printf(g, "the %s could not be analysed: %s", rk->policy_name, err)},
        };
        return tm__graph_edge(g, &e);
    }
    /* Block Public Access settings that could not be read may block what the policy opens. */
    unsigned extra = bpa_unknown ? TM_GRAPH_EDGE_UNKNOWN : 0u;
    for (size_t l = 0; l < r->n_groups && !rc; l++)
        for (size_t k = 0; k < r->groups[l].n_grants && !rc; k++) {
            const struct tm_iam_grant *gr = &r->groups[l].grants[k];
            unsigned fl =
                extra && (gr->reach == TM_IAM_REACH_PUBLIC || gr->reach == TM_IAM_REACH_AUTHENTICATED) ? extra : 0u;
            rc = s_grant(g, node, targets, n_targets, rk, pol, gr, fl);
        }
    tm_iam_reach_result_destroy(r);
    return rc;
}

static int s_policy_reach_pass(struct tm_graph *g) {
    for (size_t k = 0; k < sizeof(s_reach_kinds) / sizeof(s_reach_kinds[0]); k++) {
        size_t n = 0;
        const uint32_t *nodes = tm_graph_nodes_of_type(g, s_reach_kinds[k].type, &n);
        for (size_t i = 0; i < n; i++) {
            if (!(g->nodes[nodes[i]].flags & TM_GRAPH_NODE_IN_SNAPSHOT))
                continue;
            int rc = s_reach_node(g, nodes[i], &s_reach_kinds[k]);
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

/* ---- Lambda function URLs whose configuration could not be read ---- */

static int s_url_pass(struct tm_graph *g) {
    static const char *const types[] = {"aws:lambda:function", "aws:lambda:alias"};
    uint32_t internet = s_internet(g);
    for (size_t t = 0; t < 2; t++) {
        size_t n = 0;
        const uint32_t *fns = tm_graph_nodes_of_type(g, types[t], &n);
        for (size_t i = 0; i < n; i++) {
            if (!tm_snapshot_is_unknown(s_attr(g->nodes[fns[i]].resource, "url")))
                continue;
            /* A URL with auth type NONE and a policy open to anyone is reported by the reach pass; one whose
             * configuration is unknown might be that. */
            const char *const *acts = tm__graph_one(g, "lambda:InvokeFunctionUrl");
            if (!acts)
                return TM_ERR_NOMEM;
            int rc = s_entry(g, internet, fns[i], TM_GRAPH_EDGE_CAN_INVOKE, TM_GRAPH_EDGE_UNKNOWN, acts, 1, NULL, "url",
                             g->nodes[fns[i]].id, "whether the function has a public URL could not be read");
            if (rc)
                return rc;
        }
    }
    return TM_OK;
}

int tm__graph_build_reach(struct tm_graph *g, char *err, size_t errlen) {
    int rc;
    const char *what = "network";
    if ((rc = s_network_pass(g)) || (what = "sharing", rc = s_sharing_pass(g)) ||
        (what = "API Gateway", rc = s_api_pass(g)) || (what = "function URLs", rc = s_url_pass(g)) ||
        (what = "resource and trust policies", rc = s_policy_reach_pass(g))) {
        snprintf(err, errlen, "graph: %s: %s", what, tm_error_str(rc));
        return rc;
    }
    return TM_OK;
}
