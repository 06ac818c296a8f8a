/* EC2 (regional): what can be reached from a network (instances with their public addresses, instance
 * profiles and metadata options; security group ingress; network interfaces) and what the account
 * shares (EBS snapshots' createVolumePermission, AMIs' launchPermission). */
#include "providers/aws/ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "providers/aws/facts.h"
#include "providers/aws/xml.h"

const struct tm_aws_api tm__aws_api_ec2 = {
    .name = "ec2",
    .service_id = "EC2",
    .endpoint_prefix = "ec2",
    .signing_name = "ec2",
    .protocol = TM_AWS_PROTO_EC2,
    .api_version = "2016-11-15",
};

#define S_API (&tm__aws_api_ec2)

static const struct tm_aws_operation s_operations[] = {
    {S_API, "DescribeInstances", "ec2:DescribeInstances"},
    {S_API, "DescribeSecurityGroups", "ec2:DescribeSecurityGroups"},
    {S_API, "DescribeNetworkInterfaces", "ec2:DescribeNetworkInterfaces"},
    {S_API, "DescribeSnapshots", "ec2:DescribeSnapshots"},
    {S_API, "DescribeSnapshotAttribute", "ec2:DescribeSnapshotAttribute"},
    {S_API, "DescribeImages", "ec2:DescribeImages"},
    {S_API, "DescribeImageAttribute", "ec2:DescribeImageAttribute"},
    {NULL, NULL, NULL},
};

/* ---- parsing ---- */

/* Sets attrs[key] from a parsed-value helper, turning a malformed leaf into a parse error naming it. */
static int s_attr(cJSON *res, const char *key, int rc, cJSON *value, const char *where, char *errmsg,
                  size_t errmsg_len) {
    if (rc) {
        cJSON_Delete(value);
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: %s malformed", where, key);
    }
    return tm_snapshot_set_attr(res, key, value);
}

static int s_text_attr(cJSON *res, const char *key, const xmlNode *n, const char *elem, const char *where, char *errmsg,
                       size_t errmsg_len) {
    cJSON *v = NULL;
    int rc = tm_aws_xml_json_text(&v, n, elem);
    return s_attr(res, key, rc, v, where, errmsg, errmsg_len);
}

static int s_bool_attr(cJSON *res, const char *key, const xmlNode *n, const char *elem, const char *where, char *errmsg,
                       size_t errmsg_len) {
    cJSON *v = NULL;
    int rc = tm_aws_xml_json_bool(&v, n, elem);
    return s_attr(res, key, rc, v, where, errmsg, errmsg_len);
}

static const char *s_need_id(const xmlNode *item, const char *elem, const char *prefix) {
    const char *id = tm_aws_xml_child_text(item, elem);
    if (!id || strncmp(id, prefix, strlen(prefix)) != 0 || strchr(id, '/') || strlen(id) > 64)
        return NULL;
    return id;
}

static int s_resource(const struct tm_aws_sink *sink, const char *kind, const char *id, bool with_account,
                      const char *type, const char *name, cJSON **out) {
    char arn[256];
    int rc = tm_aws_arn(arn, sizeof(arn), sink->partition, "ec2", sink->region, with_account ? sink->account : "",
                        "%s/%s", kind, id);
    if (rc)
        return rc;
    return tm_snapshot_resource(sink->snap, arn, type, sink->account, sink->region, name, out);
}

/* Security group ids of a groupSet as ARNs: security_group_ids attr and protected-by links. */
static int s_groups(const struct tm_aws_sink *sink, cJSON *res, const xmlNode *item, const char *where, char *errmsg,
                    size_t errmsg_len) {
    cJSON *ids = NULL;
    int rc = tm_aws_xml_json_list(&ids, item, "groupSet", "item", "groupId");
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: groupSet malformed", where);
    for (const cJSON *g = ids->child; g; g = g->next) {
        char arn[256];
        if ((rc = tm_aws_arn(arn, sizeof(arn), sink->partition, "ec2", sink->region, sink->account, "security-group/%s",
                             g->valuestring)) ||
            (rc = tm_snapshot_add_link(res, "protected-by", arn))) {
            cJSON_Delete(ids);
            return rc;
        }
    }
    return tm_snapshot_set_attr(res, "security_group_ids", ids);
}

static const char *s_name_tag(const xmlNode *item) {
    for (const xmlNode *t = tm_aws_xml_child(tm_aws_xml_child(item, "tagSet"), "item"); t; t = tm_aws_xml_next(t)) {
        const char *k = tm_aws_xml_child_text(t, "key");
        const char *v = tm_aws_xml_child_text(t, "value");
        if (k && v && *v && strcmp(k, "Name") == 0)
            return v;
    }
    return NULL;
}

static int s_page_token(char **next, const xmlNode *resp, const char *op, char *errmsg, size_t errmsg_len) {
    int rc = tm_aws_xml_page_token(next, resp, "nextToken", NULL);
    return rc ? tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: nextToken malformed", op) : TM_OK;
}

int tm__aws_ec2_parse_regions(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeRegions", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        rc = TM_ERR_NOMEM;
    for (const xmlNode *m = tm_aws_xml_child(tm_aws_xml_child(resp, "regionInfo"), "item"); m && !rc;
         m = tm_aws_xml_next(m)) {
        const char *name = tm_aws_xml_child_text(m, "regionName");
        const char *opt = tm_aws_xml_child_text(m, "optInStatus");
        if (!name || !*name) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "DescribeRegions: regionName missing");
            break;
        }
        if (opt && strcmp(opt, "not-opted-in") == 0)
            continue;
        cJSON *s = cJSON_CreateString(name);
        if (!s || !cJSON_AddItemToArray(arr, s)) {
            cJSON_Delete(s);
            rc = TM_ERR_NOMEM;
        }
    }
    if (!rc && cJSON_GetArraySize(arr) == 0)
        rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "DescribeRegions: no region in the answer");
    if (!rc) {
        /* Sorted for a deterministic snapshot and scan order. */
        cJSON *holder = cJSON_CreateObject();
        if (!holder || !cJSON_AddItemToObject(holder, "r", arr)) {
            cJSON_Delete(holder);
            rc = TM_ERR_NOMEM;
        } else {
            int n = cJSON_GetArraySize(arr);
            for (int i = 1; i < n; i++)
                for (int j = i; j > 0; j--) {
                    cJSON *a = cJSON_GetArrayItem(arr, j - 1), *b = cJSON_GetArrayItem(arr, j);
                    if (strcmp(a->valuestring, b->valuestring) <= 0)
                        break;
                    char *t = a->valuestring;
                    a->valuestring = b->valuestring;
                    b->valuestring = t;
                }
            *out = cJSON_DetachItemFromObjectCaseSensitive(holder, "r");
            cJSON_Delete(holder);
            arr = NULL;
        }
    }
    cJSON_Delete(arr);
    tm_aws_xml_free(doc);
    return rc;
}

static int s_instance(const struct tm_aws_sink *sink, const xmlNode *it, char *errmsg, size_t errmsg_len) {
    const char *id = s_need_id(it, "instanceId", "i-");
    if (!id)
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                  "DescribeInstances: instanceId missing or malformed");
    char where[128];
    snprintf(where, sizeof(where), "DescribeInstances: %s", id);
    const char *name = s_name_tag(it);
    cJSON *res = NULL;
    int rc = s_resource(sink, "instance", id, true, "aws:ec2:instance", name ? name : id, &res);
    if (rc)
        return rc;
    const char *state = tm_aws_xml_text(tm_aws_xml_path(it, "instanceState/name"));
    const char *profile = tm_aws_xml_text(tm_aws_xml_path(it, "iamInstanceProfile/arn"));
    if ((rc = tm_snapshot_set_attr(res, "state", tm_aws_json_string_or_null(state))) ||
        (rc = s_text_attr(res, "public_ip", it, "ipAddress", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "private_ip", it, "privateIpAddress", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "subnet_id", it, "subnetId", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "vpc_id", it, "vpcId", where, errmsg, errmsg_len)) ||
        (rc = tm_snapshot_set_attr(res, "instance_profile", tm_aws_json_string_or_null(profile))) ||
        (rc = s_groups(sink, res, it, where, errmsg, errmsg_len)))
        return rc;
    if (profile && (rc = tm_snapshot_add_link(res, "has-identity", profile)))
        return rc;
    const xmlNode *mo = tm_aws_xml_child(it, "metadataOptions");
    cJSON *m = NULL;
    if (!mo) {
        m = cJSON_CreateNull();
    } else {
        cJSON *tokens = NULL, *endpoint = NULL, *hops = NULL;
        m = cJSON_CreateObject();
        if ((rc = tm_aws_xml_json_text(&tokens, mo, "httpTokens")) ||
            (rc = tm_aws_xml_json_text(&endpoint, mo, "httpEndpoint")) ||
            (rc = tm_aws_xml_json_int(&hops, mo, "httpPutResponseHopLimit")) || !m ||
            !cJSON_AddItemToObject(m, "http_tokens", tokens) ||
            (tokens = NULL, !cJSON_AddItemToObject(m, "http_endpoint", endpoint)) ||
            (endpoint = NULL, !cJSON_AddItemToObject(m, "http_put_response_hop_limit", hops))) {
            cJSON_Delete(tokens);
            cJSON_Delete(endpoint);
            cJSON_Delete(hops);
            cJSON_Delete(m);
            return tm__aws_parse_fail(errmsg, errmsg_len, rc ? rc : TM_ERR_NOMEM, "%s: metadataOptions malformed",
                                      where);
        }
    }
    return tm_snapshot_set_attr(res, "metadata_options", m);
}

int tm__aws_ec2_parse_instances(const struct tm_aws_sink *sink, const char *body, size_t len, char **next_token,
                                char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeInstances", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *r = tm_aws_xml_child(tm_aws_xml_child(resp, "reservationSet"), "item"); r && !rc;
         r = tm_aws_xml_next(r))
        for (const xmlNode *it = tm_aws_xml_child(tm_aws_xml_child(r, "instancesSet"), "item"); it && !rc;
             it = tm_aws_xml_next(it))
            rc = s_instance(sink, it, errmsg, errmsg_len);
    if (!rc)
        rc = s_page_token(next_token, resp, "DescribeInstances", errmsg, errmsg_len);
    tm_aws_xml_free(doc);
    return rc;
}

/* One ingress rule. */
static int s_permission(cJSON *rules, const xmlNode *p, const char *where, char *errmsg, size_t errmsg_len) {
    cJSON *rule = cJSON_CreateObject();
    if (!rule || !cJSON_AddItemToArray(rules, rule)) {
        cJSON_Delete(rule);
        return TM_ERR_NOMEM;
    }
    cJSON *proto = NULL, *from = NULL, *to = NULL, *v4 = NULL, *v6 = NULL, *pl = NULL;
    int rc = tm_aws_xml_json_text(&proto, p, "ipProtocol");
    if (!rc)
        rc = tm_aws_xml_json_int(&from, p, "fromPort");
    if (!rc)
        rc = tm_aws_xml_json_int(&to, p, "toPort");
    if (!rc)
        rc = tm_aws_xml_json_list(&v4, p, "ipRanges", "item", "cidrIp");
    if (!rc)
        rc = tm_aws_xml_json_list(&v6, p, "ipv6Ranges", "item", "cidrIpv6");
    if (!rc)
        rc = tm_aws_xml_json_list(&pl, p, "prefixListIds", "item", "prefixListId");
    cJSON *items[] = {proto, from, to, v4, v6, pl};
    static const char *const keys[] = {"ip_protocol", "from_port",   "to_port",
                                       "ipv4_ranges", "ipv6_ranges", "prefix_lists"};
    for (size_t i = 0; i < 6; i++) {
        if (!rc && !cJSON_AddItemToObject(rule, keys[i], items[i]))
            rc = TM_ERR_NOMEM;
        if (rc)
            cJSON_Delete(items[i]);
    }
    if (rc)
        return tm__aws_parse_fail(errmsg, errmsg_len, rc, "%s: ipPermissions malformed", where);
    cJSON *groups = cJSON_AddArrayToObject(rule, "source_groups");
    if (!groups)
        return TM_ERR_NOMEM;
    for (const xmlNode *g = tm_aws_xml_child(tm_aws_xml_child(p, "groups"), "item"); g; g = tm_aws_xml_next(g)) {
        const char *gid = tm_aws_xml_child_text(g, "groupId");
        const char *uid = tm_aws_xml_child_text(g, "userId");
        if (!gid || !*gid)
            return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: a source group without groupId", where);
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(groups, o) || !cJSON_AddStringToObject(o, "group_id", gid) ||
            !cJSON_AddItemToObject(o, "user_id", tm_aws_json_string_or_null(uid)))
            return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm__aws_ec2_parse_security_groups(const struct tm_aws_sink *sink, const char *body, size_t len, char **next_token,
                                      char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeSecurityGroups", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *g = tm_aws_xml_child(tm_aws_xml_child(resp, "securityGroupInfo"), "item"); g && !rc;
         g = tm_aws_xml_next(g)) {
        const char *id = s_need_id(g, "groupId", "sg-");
        if (!id) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                    "DescribeSecurityGroups: groupId missing or malformed");
            break;
        }
        char where[128];
        snprintf(where, sizeof(where), "DescribeSecurityGroups: %s", id);
        cJSON *res = NULL;
        const char *name = tm_aws_xml_child_text(g, "groupName");
        if ((rc = s_resource(sink, "security-group", id, true, "aws:ec2:security-group", name, &res)) ||
            (rc = s_text_attr(res, "group_name", g, "groupName", where, errmsg, errmsg_len)) ||
            (rc = s_text_attr(res, "vpc_id", g, "vpcId", where, errmsg, errmsg_len)))
            break;
        cJSON *rules = cJSON_CreateArray();
        if (!rules) {
            rc = TM_ERR_NOMEM;
            break;
        }
        for (const xmlNode *p = tm_aws_xml_child(tm_aws_xml_child(g, "ipPermissions"), "item"); p && !rc;
             p = tm_aws_xml_next(p))
            rc = s_permission(rules, p, where, errmsg, errmsg_len);
        if (rc) {
            cJSON_Delete(rules);
            break;
        }
        rc = tm_snapshot_set_attr(res, "ingress", rules);
    }
    if (!rc)
        rc = s_page_token(next_token, resp, "DescribeSecurityGroups", errmsg, errmsg_len);
    tm_aws_xml_free(doc);
    return rc;
}

static int s_interface(const struct tm_aws_sink *sink, const xmlNode *n, char *errmsg, size_t errmsg_len) {
    const char *id = s_need_id(n, "networkInterfaceId", "eni-");
    if (!id)
        return tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                  "DescribeNetworkInterfaces: networkInterfaceId missing or malformed");
    char where[128];
    snprintf(where, sizeof(where), "DescribeNetworkInterfaces: %s", id);
    cJSON *res = NULL;
    int rc = s_resource(sink, "network-interface", id, true, "aws:ec2:network-interface", id, &res);
    if (rc)
        return rc;
    const char *primary = tm_aws_xml_text(tm_aws_xml_path(n, "association/publicIp"));
    const char *instance = tm_aws_xml_text(tm_aws_xml_path(n, "attachment/instanceId"));
    if ((rc = tm_snapshot_set_attr(res, "public_ip", tm_aws_json_string_or_null(primary))) ||
        (rc = s_text_attr(res, "private_ip", n, "privateIpAddress", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "interface_type", n, "interfaceType", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "description", n, "description", where, errmsg, errmsg_len)) ||
        (rc = s_text_attr(res, "requester_id", n, "requesterId", where, errmsg, errmsg_len)) ||
        (rc = s_bool_attr(res, "requester_managed", n, "requesterManaged", where, errmsg, errmsg_len)) ||
        (rc = tm_snapshot_set_attr(res, "instance_id", tm_aws_json_string_or_null(instance))) ||
        (rc = s_groups(sink, res, n, where, errmsg, errmsg_len)))
        return rc;
    /* Every public address: secondary private addresses can carry their own Elastic IP. */
    cJSON *all = cJSON_CreateArray();
    if (!all)
        return TM_ERR_NOMEM;
    if (primary && *primary) {
        cJSON *s = cJSON_CreateString(primary);
        if (!s || !cJSON_AddItemToArray(all, s)) {
            cJSON_Delete(s);
            cJSON_Delete(all);
            return TM_ERR_NOMEM;
        }
    }
    for (const xmlNode *a = tm_aws_xml_child(tm_aws_xml_child(n, "privateIpAddressesSet"), "item"); a;
         a = tm_aws_xml_next(a)) {
        const char *ip = tm_aws_xml_text(tm_aws_xml_path(a, "association/publicIp"));
        bool dup = !ip || !*ip;
        for (const cJSON *e = all->child; e && !dup; e = e->next)
            dup = strcmp(e->valuestring, ip) == 0;
        if (dup)
            continue;
        cJSON *s = cJSON_CreateString(ip);
        if (!s || !cJSON_AddItemToArray(all, s)) {
            cJSON_Delete(s);
            cJSON_Delete(all);
            return TM_ERR_NOMEM;
        }
    }
    if ((rc = tm_snapshot_set_attr(res, "public_ips", all)))
        return rc;
    if (instance && *instance) {
        char arn[256];
        if ((rc = tm_aws_arn(arn, sizeof(arn), sink->partition, "ec2", sink->region, sink->account, "instance/%s",
                             instance)) ||
            (rc = tm_snapshot_add_link(res, "attached-to", arn)))
            return rc;
    }
    return TM_OK;
}

int tm__aws_ec2_parse_network_interfaces(const struct tm_aws_sink *sink, const char *body, size_t len,
                                         char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeNetworkInterfaces", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *n = tm_aws_xml_child(tm_aws_xml_child(resp, "networkInterfaceSet"), "item"); n && !rc;
         n = tm_aws_xml_next(n))
        rc = s_interface(sink, n, errmsg, errmsg_len);
    if (!rc)
        rc = s_page_token(next_token, resp, "DescribeNetworkInterfaces", errmsg, errmsg_len);
    tm_aws_xml_free(doc);
    return rc;
}

static int s_add_id(cJSON *ids, const char *id) {
    cJSON *s = cJSON_CreateString(id);
    if (!s || !cJSON_AddItemToArray(ids, s)) {
        cJSON_Delete(s);
        return TM_ERR_NOMEM;
    }
    return TM_OK;
}

int tm__aws_ec2_parse_snapshots(const struct tm_aws_sink *sink, cJSON *ids, const char *body, size_t len,
                                char **next_token, char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeSnapshots", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *s = tm_aws_xml_child(tm_aws_xml_child(resp, "snapshotSet"), "item"); s && !rc;
         s = tm_aws_xml_next(s)) {
        const char *id = s_need_id(s, "snapshotId", "snap-");
        if (!id) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE,
                                    "DescribeSnapshots: snapshotId missing or malformed");
            break;
        }
        char where[128];
        snprintf(where, sizeof(where), "DescribeSnapshots: %s", id);
        cJSON *res = NULL;
        /* Snapshot and image ARNs carry no account: arn:aws:ec2:REGION::snapshot/ID. */
        if ((rc = s_resource(sink, "snapshot", id, false, "aws:ec2:snapshot", id, &res)) ||
            (rc = s_bool_attr(res, "encrypted", s, "encrypted", where, errmsg, errmsg_len)) ||
            (rc = s_text_attr(res, "volume_id", s, "volumeId", where, errmsg, errmsg_len)) || (rc = s_add_id(ids, id)))
            break;
    }
    if (!rc)
        rc = s_page_token(next_token, resp, "DescribeSnapshots", errmsg, errmsg_len);
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_ec2_parse_images(const struct tm_aws_sink *sink, cJSON *ids, const char *body, size_t len, char *errmsg,
                             size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, "DescribeImages", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    for (const xmlNode *im = tm_aws_xml_child(tm_aws_xml_child(resp, "imagesSet"), "item"); im && !rc;
         im = tm_aws_xml_next(im)) {
        const char *id = s_need_id(im, "imageId", "ami-");
        if (!id) {
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "DescribeImages: imageId missing or malformed");
            break;
        }
        char where[128];
        snprintf(where, sizeof(where), "DescribeImages: %s", id);
        const char *name = tm_aws_xml_child_text(im, "name");
        cJSON *res = NULL;
        if ((rc = s_resource(sink, "image", id, false, "aws:ec2:image", name && *name ? name : id, &res)) ||
            (rc = s_bool_attr(res, "public", im, "isPublic", where, errmsg, errmsg_len)) || (rc = s_add_id(ids, id)))
            break;
    }
    tm_aws_xml_free(doc);
    return rc;
}

static int s_permissions(cJSON **out, const char *op, const char *list, const char *body, size_t len, char *errmsg,
                         size_t errmsg_len) {
    *out = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *resp = NULL;
    int rc = tm_aws_xml_open_ec2(&doc, &resp, op, body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        rc = TM_ERR_NOMEM;
    static const char *const fields[][2] = {
        {"group", "group"},
        {"userId", "user_id"},
        {"organizationArn", "organization_arn"},
        {"organizationalUnitArn", "organizational_unit_arn"},
    };
    for (const xmlNode *p = tm_aws_xml_child(tm_aws_xml_child(resp, list), "item"); p && !rc; p = tm_aws_xml_next(p)) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = TM_ERR_NOMEM;
            break;
        }
        for (size_t i = 0; i < 4 && !rc; i++) {
            const char *v = tm_aws_xml_child_text(p, fields[i][0]);
            if (v && *v && !cJSON_AddStringToObject(o, fields[i][1], v))
                rc = TM_ERR_NOMEM;
        }
        if (!rc && !o->child)
            rc = tm__aws_parse_fail(errmsg, errmsg_len, TM_ERR_PARSE, "%s: a permission naming no one", op);
    }
    if (rc)
        cJSON_Delete(arr);
    else
        *out = arr;
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_ec2_parse_snapshot_permissions(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_permissions(out, "DescribeSnapshotAttribute", "createVolumePermission", body, len, errmsg, errmsg_len);
}

int tm__aws_ec2_parse_image_permissions(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_permissions(out, "DescribeImageAttribute", "launchPermission", body, len, errmsg, errmsg_len);
}

/* ---- coordination ---- */

enum s_kind { S_INSTANCES, S_GROUPS, S_INTERFACES, S_SNAPSHOTS, S_IMAGES };

struct s_listing {
    struct tm_aws_sink sink;
    enum s_kind kind;
};

struct s_attr_ctx {
    const char *arn; /* the snapshot or image */
    bool image;
};

static void s_on_permissions(struct tm_aws_scan *scan, const struct tm_aws_result *res, void *user_data) {
    struct s_attr_ctx *ctx = user_data;
    cJSON *r = tm_snapshot_find(tm_aws_scan_snapshot(scan), ctx->arn);
    if (!r)
        return;
    if (ctx->image)
        tm__aws_set_fact(scan, r, "attrs", "launch_permissions",
                         tm__aws_result_fact(scan, res, tm__aws_ec2_parse_image_permissions));
    else
        tm__aws_set_fact(scan, r, "attrs", "create_volume_permissions",
                         tm__aws_result_fact(scan, res, tm__aws_ec2_parse_snapshot_permissions));
}

static int s_ask_permissions(struct tm_aws_scan *scan, const struct s_listing *l, const cJSON *ids) {
    bool image = l->kind == S_IMAGES;
    for (const cJSON *id = ids->child; id; id = id->next) {
        struct s_attr_ctx *ctx = tm_aws_scan_alloc(scan, sizeof(*ctx));
        char arn[256];
        if (!ctx)
            return TM_ERR_NOMEM;
        int rc = tm_aws_arn(arn, sizeof(arn), l->sink.partition, "ec2", l->sink.region, "", "%s/%s",
                            image ? "image" : "snapshot", id->valuestring);
        if (rc)
            return rc;
        ctx->arn = tm_aws_scan_strdup(scan, arn);
        ctx->image = image;
        struct tm_aws_param params[] = {
            {"Attribute", image ? "launchPermission" : "createVolumePermission", false},
            {image ? "ImageId" : "SnapshotId", id->valuestring, false},
        };
        struct tm_aws_call call = {
            .api = S_API,
            .operation = image ? "DescribeImageAttribute" : "DescribeSnapshotAttribute",
            .region = l->sink.region,
            .resource = ctx->arn,
            .params = params,
            .param_count = 2,
        };
        if (!ctx->arn || (rc = tm_aws_call(scan, &call, s_on_permissions, ctx)))
            return rc ? rc : TM_ERR_NOMEM;
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
    const char *op = res->call->operation;
    switch (l->kind) {
        case S_INSTANCES:
            rc = rc ? rc : tm__aws_ec2_parse_instances(&l->sink, res->body, res->body_len, &next, why, sizeof(why));
            break;
        case S_GROUPS:
            rc = rc ? rc
                    : tm__aws_ec2_parse_security_groups(&l->sink, res->body, res->body_len, &next, why, sizeof(why));
            break;
        case S_INTERFACES:
            rc = rc ? rc
                    : tm__aws_ec2_parse_network_interfaces(&l->sink, res->body, res->body_len, &next, why, sizeof(why));
            break;
        case S_SNAPSHOTS:
            rc =
                rc ? rc : tm__aws_ec2_parse_snapshots(&l->sink, ids, res->body, res->body_len, &next, why, sizeof(why));
            break;
        case S_IMAGES:
            rc = rc ? rc : tm__aws_ec2_parse_images(&l->sink, ids, res->body, res->body_len, why, sizeof(why));
            break;
        default:
            rc = TM_ERR_STATE;
            break;
    }
    if (rc == TM_ERR_PARSE || rc == TM_ERR_TOO_BIG) {
        /* Resources parsed before the fault stay; their sharing is still asked for. */
        (void)tm_aws_fail(scan, res, "MalformedResponse", why);
        free(next);
        next = NULL;
        rc = TM_OK;
    }
    if (rc == TM_OK)
        rc = s_ask_permissions(scan, l, ids);
    cJSON_Delete(ids);
    (void)tm__aws_page_end(scan, res, rc, NULL, "NextToken", next, op, s_on_page, l);
}

static int s_list(struct tm_aws_scan *scan, const char *region, enum s_kind kind, const char *operation,
                  const struct tm_aws_param *params, size_t param_count) {
    struct s_listing *l = tm_aws_scan_alloc(scan, sizeof(*l));
    if (!l)
        return TM_ERR_NOMEM;
    tm_aws_scan_sink(scan, region, &l->sink);
    l->kind = kind;
    struct tm_aws_call call = {
        .api = S_API, .operation = operation, .region = region, .params = params, .param_count = param_count};
    return tm_aws_call(scan, &call, s_on_page, l);
}

static int s_start(struct tm_aws_scan *scan, const char *region) {
    /* MaxResults makes EC2 paginate (without it large accounts get one slow, possibly truncated answer). */
    static const struct tm_aws_param page[] = {{"MaxResults", "1000", false}};
    static const struct tm_aws_param snapshots[] = {{"Owner.1", "self", false}, {"MaxResults", "1000", false}};
    static const struct tm_aws_param images[] = {{"Owner.1", "self", false}};
    int rc;
    if ((rc = s_list(scan, region, S_INSTANCES, "DescribeInstances", page, 1)) ||
        (rc = s_list(scan, region, S_GROUPS, "DescribeSecurityGroups", page, 1)) ||
        (rc = s_list(scan, region, S_INTERFACES, "DescribeNetworkInterfaces", page, 1)) ||
        (rc = s_list(scan, region, S_SNAPSHOTS, "DescribeSnapshots", snapshots, 2)) ||
        (rc = s_list(scan, region, S_IMAGES, "DescribeImages", images, 1)))
        return rc;
    return TM_OK;
}

const struct tm_aws_service tm__aws_service_ec2 = {
    .name = "ec2",
    .global = false,
    .operations = s_operations,
    .start = s_start,
};
