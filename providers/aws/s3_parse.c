#include "providers/aws/s3.h"

#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/snapshot.h"
#include "core/str.h"
#include "providers/aws/xml.h"

const char *const tm__aws_s3_bucket_facts[] = {
    "policy_status", "acl", "public_access_block", "ownership_controls", "website", "access_points", NULL,
};

#define S_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* Parses body and checks the document element's name. */
static int s_doc(xmlDoc **doc, const xmlNode **root, const char *operation, const char *root_name, const char *body,
                 size_t len, char *errmsg, size_t errmsg_len) {
    char why[200] = "";
    int rc = tm_aws_xml_parse(doc, body, len, why, sizeof(why));
    if (rc) {
        snprintf(errmsg, errmsg_len, "%s: %s", operation, why);
        return rc;
    }
    *root = tm_aws_xml_root(*doc);
    if (!tm_aws_xml_is(*root, root_name)) {
        snprintf(errmsg, errmsg_len, "%s: the answer is <%s>, not <%s>", operation, tm_aws_xml_name(*root), root_name);
        tm_aws_xml_free(*doc);
        *doc = NULL;
        return TM_ERR_PARSE;
    }
    return TM_OK;
}

/* S3 bucket names: 3-63 characters of lower-case letters, digits, dots and hyphens (older buckets in
 * us-east-1 may also hold upper case and underscores). Anything else would make a misleading ARN. */
static bool s_bucket_name_ok(const char *name) {
    size_t n = strlen(name);
    if (n < 3 || n > 255)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '-' || *c == '_'))
            return false;
    return true;
}

int tm__aws_s3_parse_buckets(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *names,
                             char *errmsg, size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    int rc = s_doc(&doc, &root, "ListBuckets", "ListAllMyBucketsResult", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *buckets = tm_aws_xml_child(root, "Buckets");
    int i = 0;
    for (const xmlNode *b = tm_aws_xml_child(buckets, "Bucket"); b && !rc; b = tm_aws_xml_next(b), i++) {
        const char *name = tm_aws_xml_child_text(b, "Name");
        if (!name || !s_bucket_name_ok(name)) {
            char msg[200];
            snprintf(msg, sizeof(msg), "ListBuckets: Buckets.Bucket[%d]: no usable Name", i);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        char arn[512];
        cJSON *res = NULL;
        rc = tm_aws_arn(arn, sizeof(arn), f->partition, "s3", "", "", "%s", name);
        if (!rc)
            rc = tm_snapshot_resource(f->snap, arn, "aws:s3:bucket", f->account, NULL, name, &res);
        if (rc == TM_ERR_INVALID) {
            char msg[600];
            snprintf(msg, sizeof(msg), "ListBuckets: %s is already recorded as another kind of resource", arn);
            rc = tm__aws_facts_fail(f, NULL, NULL, NULL, arn, TM_AWS_CODE_MALFORMED, msg);
            continue;
        }
        if (!rc && names)
            rc = tm__aws_strv_push(names, name);
    }
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_s3_parse_location(char *out, size_t out_len, const char *body, size_t len, char *errmsg,
                              size_t errmsg_len) {
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    int rc = s_doc(&doc, &root, "GetBucketLocation", "LocationConstraint", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const char *loc = tm_aws_xml_text(root);
    /* Buckets made before regions had names answer with the legacy constraints. */
    if (loc && !*loc)
        loc = "us-east-1";
    else if (loc && strcmp(loc, "EU") == 0)
        loc = "eu-west-1";
    bool ok = loc && strlen(loc) < out_len && strlen(loc) >= 4;
    for (const char *c = loc; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-';
    if (!ok) {
        snprintf(errmsg, errmsg_len, "GetBucketLocation: the LocationConstraint is not a region");
        rc = TM_ERR_PARSE;
    } else {
        snprintf(out, out_len, "%s", loc);
    }
    tm_aws_xml_free(doc);
    return rc;
}

int tm__aws_s3_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    char why[200] = "";
    int rc = tm__aws_policy_parse(out, body ? body : "", body ? len : 0, why, sizeof(why));
    if (rc)
        snprintf(errmsg, errmsg_len, "GetBucketPolicy: %s", why);
    return rc;
}

static int s_bool_child(cJSON *o, const char *key, const xmlNode *node, const char *name, bool def) {
    bool v = def;
    int rc = tm_aws_xml_child_bool(node, name, &v);
    if (rc && rc != TM_ERR_NOT_FOUND)
        return rc;
    return cJSON_AddBoolToObject(o, key, v) ? TM_OK : TM_ERR_NOMEM;
}

/* Reads a fact from the document element of an answer into *out (freed by the caller on failure). */
typedef int (*s_fact_fn)(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len);

/* The fact read by fn from root, in *out only when it was read; frees doc. */
static int s_fact_from(cJSON **out, xmlDoc *doc, const xmlNode *root, s_fact_fn fn, char *errmsg, size_t errmsg_len) {
    cJSON *v = NULL;
    int rc = fn(&v, root, errmsg, errmsg_len);
    if (rc)
        cJSON_Delete(v);
    else
        *out = v;
    tm_aws_xml_free(doc);
    return rc;
}

/* The fact an answer of operation holds under its document element root_name. */
static int s_fact(cJSON **out, const char *operation, const char *root_name, s_fact_fn fn, const char *body, size_t len,
                  char *errmsg, size_t errmsg_len) {
    *out = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    int rc = s_doc(&doc, &root, operation, root_name, body, len, errmsg, errmsg_len);
    return rc ? rc : s_fact_from(out, doc, root, fn, errmsg, errmsg_len);
}

static int s_read_policy_status(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    bool is_public = false;
    if (tm_aws_xml_child_bool(root, "IsPublic", &is_public) != TM_OK) {
        snprintf(errmsg, errmsg_len, "GetBucketPolicyStatus: IsPublic is missing or not a boolean");
        return TM_ERR_PARSE;
    }
    *out = cJSON_CreateObject();
    return *out && cJSON_AddBoolToObject(*out, "is_public", is_public) ? TM_OK : TM_ERR_NOMEM;
}

int tm__aws_s3_parse_policy_status(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    int rc = s_doc(&doc, &root, "GetBucketPolicyStatus", "PolicyStatus", body, len, errmsg, errmsg_len);
    /* S3 Control wraps it: <GetAccessPointPolicyStatusResult><PolicyStatus>. */
    if (rc == TM_ERR_PARSE && tm_aws_xml_parse(&doc, body, len, NULL, 0) == TM_OK) {
        root = tm_aws_xml_child(tm_aws_xml_root(doc), "PolicyStatus");
        rc = root ? TM_OK : TM_ERR_PARSE;
        if (rc) {
            tm_aws_xml_free(doc);
            doc = NULL;
        }
    }
    return rc ? rc : s_fact_from(out, doc, root, s_read_policy_status, errmsg, errmsg_len);
}

static int s_text_member(cJSON *o, const char *key, const xmlNode *node, const char *name) {
    const xmlNode *c = tm_aws_xml_child(node, name);
    const char *t = tm_aws_xml_text(c);
    if (c && !t)
        return TM_ERR_PARSE;
    return cJSON_AddItemToObject(o, key, tm_aws_json_string_or_null(t)) ? TM_OK : TM_ERR_NOMEM;
}

static int s_grantee(cJSON **out, const xmlNode *g) {
    *out = NULL;
    if (!g)
        return TM_ERR_PARSE;
    xmlChar *type = xmlGetNsProp(g, (const xmlChar *)"type", (const xmlChar *)S_XSI_NS);
    if (!type)
        type = xmlGetProp(g, (const xmlChar *)"type");
    cJSON *o = cJSON_CreateObject();
    int rc = o ? TM_OK : TM_ERR_NOMEM;
    if (!rc && !cJSON_AddItemToObject(o, "type", tm_aws_json_string_or_null((const char *)type)))
        rc = TM_ERR_NOMEM;
    xmlFree(type);
    if (!rc)
        rc = s_text_member(o, "id", g, "ID");
    if (!rc)
        rc = s_text_member(o, "uri", g, "URI");
    if (!rc)
        rc = s_text_member(o, "display_name", g, "DisplayName");
    if (!rc)
        rc = s_text_member(o, "email", g, "EmailAddress");
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return TM_OK;
}

static int s_read_acl(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    cJSON *acl = *out = cJSON_CreateObject();
    cJSON *owner = acl ? cJSON_AddObjectToObject(acl, "owner") : NULL;
    cJSON *grants = owner ? cJSON_AddArrayToObject(acl, "grants") : NULL;
    if (!grants)
        return TM_ERR_NOMEM;
    const xmlNode *own = tm_aws_xml_child(root, "Owner");
    int rc = s_text_member(owner, "id", own, "ID");
    if (!rc)
        rc = s_text_member(owner, "display_name", own, "DisplayName");
    if (rc == TM_ERR_PARSE)
        snprintf(errmsg, errmsg_len, "GetBucketAcl: the owner is not readable");
    int i = 0;
    for (const xmlNode *g = tm_aws_xml_child(tm_aws_xml_child(root, "AccessControlList"), "Grant"); g && !rc;
         g = tm_aws_xml_next(g), i++) {
        const char *perm = tm_aws_xml_child_text(g, "Permission");
        cJSON *grantee = NULL, *o = NULL;
        rc = perm ? s_grantee(&grantee, tm_aws_xml_child(g, "Grantee")) : TM_ERR_PARSE;
        if (rc == TM_ERR_PARSE)
            snprintf(errmsg, errmsg_len, "GetBucketAcl: Grant[%d] has no Grantee or no Permission", i);
        if (!rc && (!(o = cJSON_CreateObject()) || !cJSON_AddItemToObject(o, "grantee", grantee))) {
            cJSON_Delete(grantee);
            rc = TM_ERR_NOMEM;
        }
        if (!rc && (!cJSON_AddStringToObject(o, "permission", perm) || !cJSON_AddItemToArray(grants, o)))
            rc = TM_ERR_NOMEM;
        if (rc)
            cJSON_Delete(o);
    }
    return rc;
}

int tm__aws_s3_parse_acl(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetBucketAcl", "AccessControlPolicy", s_read_acl, body, len, errmsg, errmsg_len);
}

static int s_read_public_access_block(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    static const char *const settings[] = {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                                           "RestrictPublicBuckets"};
    cJSON *o = *out = cJSON_CreateObject();
    int rc = o ? TM_OK : TM_ERR_NOMEM;
    for (size_t i = 0; i < 4 && !rc; i++) {
        rc = s_bool_child(o, settings[i], root, settings[i], false);
        if (rc == TM_ERR_PARSE)
            snprintf(errmsg, errmsg_len, "GetPublicAccessBlock: %s is not a boolean", settings[i]);
    }
    return rc;
}

int tm__aws_s3_parse_public_access_block(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetPublicAccessBlock", "PublicAccessBlockConfiguration", s_read_public_access_block, body, len,
                  errmsg, errmsg_len);
}

static int s_read_ownership(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    const char *own = tm_aws_xml_child_text(tm_aws_xml_child(root, "Rule"), "ObjectOwnership");
    if (!own || !*own) {
        snprintf(errmsg, errmsg_len, "GetBucketOwnershipControls: no Rule with an ObjectOwnership");
        return TM_ERR_PARSE;
    }
    *out = cJSON_CreateString(own);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

int tm__aws_s3_parse_ownership(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetBucketOwnershipControls", "OwnershipControls", s_read_ownership, body, len, errmsg,
                  errmsg_len);
}

static int s_read_website(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    cJSON *o = *out = cJSON_CreateObject();
    cJSON *redirect = NULL;
    int rc = o ? TM_OK : TM_ERR_NOMEM;
    if (!rc)
        rc = s_text_member(o, "index_document", tm_aws_xml_child(root, "IndexDocument"), "Suffix");
    if (!rc)
        rc = s_text_member(o, "error_document", tm_aws_xml_child(root, "ErrorDocument"), "Key");
    const xmlNode *all = tm_aws_xml_child(root, "RedirectAllRequestsTo");
    if (!rc && all) {
        redirect = cJSON_CreateObject();
        rc = redirect ? s_text_member(redirect, "host_name", all, "HostName") : TM_ERR_NOMEM;
        if (!rc)
            rc = s_text_member(redirect, "protocol", all, "Protocol");
    } else if (!rc) {
        redirect = cJSON_CreateNull();
        rc = redirect ? TM_OK : TM_ERR_NOMEM;
    }
    if (!rc) {
        if (!cJSON_AddItemToObject(o, "redirect_all_requests_to", redirect))
            rc = TM_ERR_NOMEM;
        else
            redirect = NULL;
    }
    if (!rc && !cJSON_AddNumberToObject(
                   o, "routing_rules", (double)tm_aws_xml_count(tm_aws_xml_child(root, "RoutingRules"), "RoutingRule")))
        rc = TM_ERR_NOMEM;
    if (rc == TM_ERR_PARSE)
        snprintf(errmsg, errmsg_len, "GetBucketWebsite: a setting is not text");
    cJSON_Delete(redirect);
    return rc;
}

int tm__aws_s3_parse_website(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetBucketWebsite", "WebsiteConfiguration", s_read_website, body, len, errmsg, errmsg_len);
}

static int s_read_access_point_policy(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    const char *text = tm_aws_xml_child_text(root, "Policy");
    char why[200] = "";
    int rc = text ? tm__aws_policy_parse(out, text, strlen(text), why, sizeof(why)) : TM_ERR_PARSE;
    if (rc == TM_ERR_PARSE)
        snprintf(errmsg, errmsg_len, "GetAccessPointPolicy: %s", text ? why : "no Policy");
    return rc;
}

int tm__aws_s3_parse_access_point_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetAccessPointPolicy", "GetAccessPointPolicyResult", s_read_access_point_policy, body, len,
                  errmsg, errmsg_len);
}

static int s_read_access_point(cJSON **out, const xmlNode *root, char *errmsg, size_t errmsg_len) {
    const xmlNode *bpa = tm_aws_xml_child(root, "PublicAccessBlockConfiguration");
    if (!bpa) { /* S3 on Outposts access points carry none */
        *out = cJSON_CreateNull();
        return *out ? TM_OK : TM_ERR_NOMEM;
    }
    char why[200] = "";
    int rc = s_read_public_access_block(out, bpa, why, sizeof(why));
    if (rc == TM_ERR_PARSE)
        snprintf(errmsg, errmsg_len, "GetAccessPoint: PublicAccessBlockConfiguration: %s",
                 tm_str_starts_with(why, "GetPublicAccessBlock: ") ? why + strlen("GetPublicAccessBlock: ") : why);
    return rc;
}

int tm__aws_s3_parse_access_point(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    return s_fact(out, "GetAccessPoint", "GetAccessPointResult", s_read_access_point, body, len, errmsg, errmsg_len);
}

static int s_put_access_point(const struct tm_aws_facts *f, const xmlNode *ap, int index, struct tm_aws_strv *arns,
                              struct tm_aws_strv *names, struct tm_aws_strv *buckets) {
    const char *name = tm_aws_xml_child_text(ap, "Name");
    const char *bucket = tm_aws_xml_child_text(ap, "Bucket");
    const char *arn = tm_aws_xml_child_text(ap, "AccessPointArn");
    const char *origin = tm_aws_xml_child_text(ap, "NetworkOrigin");
    const char *vpc = tm_aws_xml_child_text(tm_aws_xml_child(ap, "VpcConfiguration"), "VpcId");
    const char *bucket_account = tm_aws_xml_child_text(ap, "BucketAccountId");
    const char *res_part;
    size_t res_len;
    if (!name || !*name || strchr(name, '/') || !bucket || !arn || !tm__aws_arn_field(arn, 5, &res_part, &res_len) ||
        !tm_str_starts_with(res_part, "accesspoint/")) {
        char msg[200];
        snprintf(msg, sizeof(msg), "ListAccessPoints: AccessPoint[%d]: no Name, Bucket or access point ARN", index);
        return tm__aws_facts_fail(f, NULL, NULL, NULL, NULL, TM_AWS_CODE_MALFORMED, msg);
    }
    cJSON *res = NULL;
    char bucket_arn[512];
    int rc = tm__aws_facts_resource(f, arn, "aws:s3:access-point", name, &res);
    if (rc || !res)
        return rc;
    rc = tm_snapshot_set_attr(res, "bucket", cJSON_CreateString(bucket));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "network_origin", tm_aws_json_string_or_null(origin));
    if (!rc)
        rc = tm_snapshot_set_attr(res, "vpc_id", tm_aws_json_string_or_null(vpc && *vpc ? vpc : NULL));
    /* S3 omitted BucketAccountId before cross-account access points existed: the bucket was the
     * account's own. */
    if (!rc)
        rc = tm_snapshot_set_attr(res, "bucket_account_id",
                                  tm_aws_json_string_or_null(bucket_account ? bucket_account : f->account));
    if (!rc)
        rc = tm_aws_arn(bucket_arn, sizeof(bucket_arn), f->partition, "s3", "", "", "%s", bucket);
    if (!rc)
        rc = tm_snapshot_add_link(res, "member-of", bucket_arn);
    if (rc == TM_ERR_TOO_BIG)
        return TM_OK;
    if (!rc)
        rc = tm__aws_strv_push(arns, arn);
    if (!rc)
        rc = tm__aws_strv_push(names, name);
    /* An access point of this account on another account's bucket is no access point of a bucket
     * this scan lists. */
    bool own = !bucket_account || (f->account && strcmp(bucket_account, f->account) == 0);
    if (!rc)
        rc = tm__aws_strv_push(buckets, own ? bucket : "");
    return rc;
}

int tm__aws_s3_parse_access_points(const struct tm_aws_facts *f, const char *body, size_t len, struct tm_aws_strv *arns,
                                   struct tm_aws_strv *names, struct tm_aws_strv *buckets, char **next_token,
                                   char *errmsg, size_t errmsg_len) {
    *next_token = NULL;
    xmlDoc *doc = NULL;
    const xmlNode *root = NULL;
    int rc = s_doc(&doc, &root, "ListAccessPoints", "ListAccessPointsResult", body, len, errmsg, errmsg_len);
    if (rc)
        return rc;
    const xmlNode *tok = tm_aws_xml_child(root, "NextToken");
    const char *token = tm_aws_xml_text(tok);
    if (tok && !token) {
        snprintf(errmsg, errmsg_len, "ListAccessPoints: NextToken is not text");
        rc = TM_ERR_PARSE;
    }
    int i = 0;
    for (const xmlNode *ap = tm_aws_xml_child(tm_aws_xml_child(root, "AccessPointList"), "AccessPoint"); ap && !rc;
         ap = tm_aws_xml_next(ap), i++)
        rc = s_put_access_point(f, ap, i, arns, names, buckets);
    if (!rc && token && *token && !(*next_token = strdup(token)))
        rc = TM_ERR_NOMEM;
    tm_aws_xml_free(doc);
    return rc;
}
