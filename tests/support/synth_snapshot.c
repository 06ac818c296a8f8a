#include "tests/support/synth_snapshot.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCT "111122223333"
#define PARTNER "999988887777"

static uint64_t s_next(uint64_t *s) {
    /* xorshift64*: deterministic, portable. */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}

static size_t s_pick(uint64_t *s, size_t n) {
    return n ? (size_t)(s_next(s) % n) : 0;
}

static bool s_chance(uint64_t *s, unsigned percent_x10) {
    return s_next(s) % 1000 < percent_x10;
}

static cJSON *s_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static cJSON *s_json(const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return cJSON_Parse(buf);
}

struct s_gen {
    struct tm_snapshot *snap;
    uint64_t rng;
    struct tm_synth_counts *c;
    int rc;
};

static cJSON *s_res(struct s_gen *g, const char *id, const char *type, const char *region, const char *name) {
    cJSON *r = NULL;
    if (!g->rc)
        g->rc = tm_snapshot_resource(g->snap, id, type, ACCT, region, name, &r);
    return g->rc ? NULL : r;
}

static void s_attr(struct s_gen *g, cJSON *r, const char *key, cJSON *v) {
    if (!v && !g->rc)
        g->rc = TM_ERR_NOMEM;
    if (!g->rc && r)
        g->rc = tm_snapshot_set_attr(r, key, v);
    else
        cJSON_Delete(v);
}

static void s_policy(struct s_gen *g, cJSON *r, const char *kind, cJSON *doc) {
    if (!g->rc && r)
        g->rc = tm_snapshot_set_policy(r, kind, doc);
    else
        cJSON_Delete(doc);
}

static void s_link(struct s_gen *g, cJSON *r, const char *kind, const char *to) {
    if (!g->rc && r)
        g->rc = tm_snapshot_add_link(r, kind, to);
}

static const char *const s_regions[] = {"us-east-1", "eu-west-1"};

#define LAMBDA_BASIC                                                                                                   \
    "{\"kind\":\"managed\",\"name\":\"AWSLambdaBasicExecutionRole\",\"arn\":\"arn:aws:iam::aws:policy/service-role/"   \
    "AWSLambdaBasicExecutionRole\",\"document\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","     \
    "\"Action\":[\"logs:CreateLogGroup\",\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"*\"}]}}"

static void s_role(struct s_gen *g, size_t i, size_t n_buckets, size_t n_secrets, size_t n_queues) {
    char id[256], name[64], ident[2048];
    snprintf(name, sizeof(name), "role-%06zu", i);
    snprintf(id, sizeof(id), "arn:aws:iam::" ACCT ":role/%s", name);
    cJSON *r = s_res(g, id, "aws:iam:role", "global", name);
    unsigned kind = (unsigned)(i % 20);
    const char *trust;
    if (kind < 10)
        trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                "\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
    else if (kind < 15)
        trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":"
                "\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}";
    else if (kind < 19)
        trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                "\"arn:aws:iam::" ACCT ":root\"},\"Action\":\"sts:AssumeRole\"}]}";
    else {
        trust = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                "\"arn:aws:iam::" PARTNER ":root\"},\"Action\":\"sts:AssumeRole\"}]}";
        g->c->cross_account_roles++;
    }
    s_policy(g, r, "trust", cJSON_Parse(trust));
    size_t b = s_pick(&g->rng, n_buckets), s = s_pick(&g->rng, n_secrets), q = s_pick(&g->rng, n_queues);
    if (i % 500 == 7)
        snprintf(ident, sizeof(ident),
                 "[{\"kind\":\"managed\",\"name\":\"AdministratorAccess\",\"arn\":\"arn:aws:iam::aws:policy/"
                 "AdministratorAccess\",\"document\":{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                 "\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}}]");
    else if (i % 200 == 11)
        snprintf(ident, sizeof(ident),
                 "[{\"kind\":\"inline\",\"name\":\"deployer\",\"document\":{\"Version\":\"2012-10-17\",\"Statement\":"
                 "[{\"Effect\":\"Allow\",\"Action\":[\"iam:PassRole\",\"lambda:CreateFunction\","
                 "\"lambda:InvokeFunction\"],\"Resource\":\"*\"}]}}]");
    else if (i % 25 == 3)
        snprintf(ident, sizeof(ident),
                 "[{\"kind\":\"inline\",\"name\":\"data\",\"document\":{\"Version\":\"2012-10-17\",\"Statement\":"
                 "[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":"
                 "\"s3:DeleteBucket\",\"Resource\":\"*\"}]}}]");
    else
        snprintf(ident, sizeof(ident),
                 "[" LAMBDA_BASIC ",{\"kind\":\"inline\",\"name\":\"app\",\"document\":{\"Version\":\"2012-10-17\","
                 "\"Statement\":[{\"Sid\":\"Data\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
                 "\"Resource\":\"arn:aws:s3:::bucket-%06zu/*\"},{\"Sid\":\"Secret\",\"Effect\":\"Allow\",\"Action\":"
                 "\"secretsmanager:GetSecretValue\",\"Resource\":\"arn:aws:secretsmanager:us-east-1:" ACCT
                 ":secret:secret-%06zu-*\"},{\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":"
                 "\"arn:aws:sqs:us-east-1:" ACCT ":queue-%06zu\"}]}}]",
                 b, s, q);
    s_policy(g, r, "identity", cJSON_Parse(ident));
    s_policy(g, r, "boundary", cJSON_CreateNull());
    s_attr(g, r, "path", cJSON_CreateString("/"));
    g->c->roles++;
}

int tm_test_synth_snapshot(struct tm_snapshot **out, size_t n, uint64_t seed, struct tm_synth_counts *counts) {
    struct tm_synth_counts local;
    struct s_gen g = {.rng = seed ? seed : 1, .c = counts ? counts : &local};
    memset(g.c, 0, sizeof(*g.c));
    int rc = tm_snapshot_new(&g.snap, "aws");
    if (rc)
        return rc;
    if ((rc = tm_snapshot_scope_add(g.snap, "accounts", ACCT)) ||
        (rc = tm_snapshot_scope_add(g.snap, "regions", "us-east-1")) ||
        (rc = tm_snapshot_scope_add(g.snap, "regions", "eu-west-1"))) {
        tm_snapshot_destroy(g.snap);
        return rc;
    }
    /* Proportions per 100 resources. */
    size_t n_roles = n * 14 / 100, n_users = n * 2 / 100, n_buckets = n * 12 / 100, n_fn = n * 14 / 100;
    size_t n_methods = n * 10 / 100, n_queues = n * 6 / 100, n_topics = n * 4 / 100, n_inst = n * 8 / 100;
    size_t n_sg = n * 4 / 100, n_keys = n * 4 / 100, n_secrets = n * 6 / 100, n_profiles = n * 4 / 100;
    size_t n_apis = n * 2 / 100 + 1;
    if (!n_buckets)
        n_buckets = 1;
    if (!n_secrets)
        n_secrets = 1;
    if (!n_queues)
        n_queues = 1;
    if (!n_roles)
        n_roles = 1;
    if (!n_sg)
        n_sg = 1;
    if (!n_fn)
        n_fn = 1;
    char id[512], name[128], buf[512];
    cJSON *acct = s_res(&g, "arn:aws:iam::" ACCT ":root", "aws:account", "global", "synthetic");
    s_attr(&g, acct, "s3_public_access_block", cJSON_CreateNull());
    s_policy(&g, acct, "scps",
             s_json("[{\"id\":\"p-full\",\"name\":\"FullAWSAccess\",\"arn\":\"arn:aws:organizations::aws:policy/"
                    "service_control_policy/p-FullAWSAccess\",\"target\":\"r-root\",\"document\":{\"Version\":"
                    "\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}}]"));
    for (size_t i = 0; i < n_roles && !g.rc; i++)
        s_role(&g, i, n_buckets, n_secrets, n_queues);
    for (size_t i = 0; i < n_profiles && !g.rc; i++) {
        snprintf(name, sizeof(name), "profile-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:iam::" ACCT ":instance-profile/%s", name);
        cJSON *r = s_res(&g, id, "aws:iam:instance-profile", "global", name);
        snprintf(buf, sizeof(buf), "arn:aws:iam::" ACCT ":role/role-%06zu", 10 + (i * 20) % n_roles);
        s_link(&g, r, "has-identity", buf);
    }
    for (size_t i = 0; i < n_users && !g.rc; i++) {
        snprintf(name, sizeof(name), "user-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:iam::" ACCT ":user/%s", name);
        cJSON *r = s_res(&g, id, "aws:iam:user", "global", name);
        s_attr(&g, r, "access_keys",
               s_json("[{\"access_key_id\":\"AKIASYNTH%011zu\",\"status\":\"%s\",\"create_date\":\"2020-01-01\"}]", i,
                      i % 2 ? "Active" : "Inactive"));
        s_policy(&g, r, "identity",
                 s_json("[{\"kind\":\"inline\",\"name\":\"assume\",\"document\":{\"Version\":\"2012-10-17\","
                        "\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Resource\":"
                        "\"arn:aws:iam::" ACCT ":role/role-%06zu\"}]}}]",
                        15 + (i * 20) % n_roles));
        s_policy(&g, r, "boundary", cJSON_CreateNull());
        g.c->users++;
    }
    for (size_t i = 0; i < n_buckets && !g.rc; i++) {
        snprintf(name, sizeof(name), "bucket-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:s3:::%s", name);
        cJSON *r = s_res(&g, id, "aws:s3:bucket", s_regions[i % 2], name);
        s_attr(&g, r, "public_access_block", cJSON_CreateNull());
        cJSON *pol = NULL;
        if (i % 50 == 1) {
            pol = s_json("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Public\",\"Effect\":\"Allow\","
                         "\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"%s/*\"}]}",
                         id);
            g.c->public_buckets++;
        } else if (i % 3 == 0) {
            pol = s_json("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\","
                         "\"Action\":\"s3:*\",\"Resource\":[\"%s\",\"%s/*\"],\"Condition\":{\"Bool\":{"
                         "\"aws:SecureTransport\":\"false\"}}},{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                         "\"arn:aws:iam::" PARTNER ":root\"},\"Action\":\"s3:GetObject\",\"Resource\":\"%s/*\"}]}",
                         id, id, id);
        }
        s_policy(&g, r, "resource", pol ? pol : cJSON_CreateNull());
        g.c->buckets++;
    }
    for (size_t i = 0; i < n_secrets && !g.rc; i++) {
        snprintf(name, sizeof(name), "secret-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:secretsmanager:us-east-1:" ACCT ":secret:%s-AbCdEf", name);
        cJSON *r = s_res(&g, id, "aws:secretsmanager:secret", "us-east-1", name);
        s_policy(&g, r, "resource", cJSON_CreateNull());
        g.c->secrets++;
    }
    for (size_t i = 0; i < n_queues && !g.rc; i++) {
        snprintf(name, sizeof(name), "queue-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:sqs:us-east-1:" ACCT ":%s", name);
        cJSON *r = s_res(&g, id, "aws:sqs:queue", "us-east-1", name);
        s_policy(&g, r, "resource",
                 i % 10 == 0 ? s_json("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
                                      "{\"AWS\":\"*\"},\"Action\":\"sqs:SendMessage\",\"Resource\":\"%s\","
                                      "\"Condition\":{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:us-east-1:" ACCT
                                      ":topic-000000\"}}}]}",
                                      id)
                             : cJSON_CreateNull());
        g.c->queues++;
    }
    for (size_t i = 0; i < n_topics && !g.rc; i++) {
        snprintf(name, sizeof(name), "topic-%06zu", i);
        snprintf(id, sizeof(id), "arn:aws:sns:us-east-1:" ACCT ":%s", name);
        cJSON *r = s_res(&g, id, "aws:sns:topic", "us-east-1", name);
        s_policy(&g, r, "resource",
                 s_json("{\"Version\":\"2008-10-17\",\"Statement\":[{\"Sid\":\"__default_statement_ID\",\"Effect\":"
                        "\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"SNS:Publish\",\"SNS:Subscribe\"],"
                        "\"Resource\":\"%s\",\"Condition\":{\"StringEquals\":{\"AWS:SourceOwner\":\"" ACCT "\"}}}]}",
                        id));
        g.c->topics++;
    }
    for (size_t i = 0; i < n_keys && !g.rc; i++) {
        snprintf(id, sizeof(id), "arn:aws:kms:us-east-1:" ACCT ":key/00000000-0000-4000-8000-%012zu", i);
        cJSON *r = s_res(&g, id, "aws:kms:key", "us-east-1", id + strlen("arn:aws:kms:us-east-1:" ACCT ":key/"));
        s_policy(&g, r, "resource",
                 cJSON_Parse("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\","
                             "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::" ACCT ":root\"},\"Action\":"
                             "\"kms:*\",\"Resource\":\"*\"}]}"));
        g.c->keys++;
    }
    for (size_t i = 0; i < n_fn && !g.rc; i++) {
        snprintf(name, sizeof(name), "fn-%06zu", i);
        const char *region = s_regions[i % 2];
        snprintf(id, sizeof(id), "arn:aws:lambda:%s:" ACCT ":function:%s", region, name);
        cJSON *r = s_res(&g, id, "aws:lambda:function", region, name);
        snprintf(buf, sizeof(buf), "arn:aws:iam::" ACCT ":role/role-%06zu", (i * 20) % n_roles);
        s_attr(&g, r, "role", cJSON_CreateString(buf));
        s_link(&g, r, "executes-as", buf);
        if (i % 40 == 5) {
            s_attr(&g, r, "url",
                   s_json("{\"auth_type\":\"NONE\",\"function_url\":\"https://%s.lambda-url.on.aws/\"}", name));
            s_policy(&g, r, "resource",
                     s_json("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\","
                            "\"Action\":\"lambda:InvokeFunctionUrl\",\"Resource\":\"%s\",\"Condition\":{"
                            "\"StringEquals\":{\"lambda:FunctionUrlAuthType\":\"NONE\"}}}]}",
                            id));
            g.c->public_functions++;
        } else {
            s_attr(&g, r, "url", cJSON_CreateNull());
            s_policy(&g, r, "resource",
                     s_json("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{"
                            "\"Service\":\"apigateway.amazonaws.com\"},\"Action\":\"lambda:InvokeFunction\","
                            "\"Resource\":\"%s\",\"Condition\":{\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:execute-api:"
                            "%s:" ACCT ":api%05zu/*\"}}}]}",
                            id, region, i % n_apis));
        }
        g.c->functions++;
    }
    for (size_t i = 0; i < n_apis && !g.rc; i++) {
        snprintf(id, sizeof(id), "arn:aws:apigateway:us-east-1::/restapis/api%05zu", i);
        snprintf(name, sizeof(name), "api-%05zu", i);
        cJSON *r = NULL;
        if (!g.rc)
            g.rc = tm_snapshot_resource(g.snap, id, "aws:apigateway:restapi", NULL, "us-east-1", name, &r);
        s_attr(&g, r, "endpoint_types", s_json("[\"REGIONAL\"]"));
        s_attr(&g, r, "disable_execute_api_endpoint", cJSON_CreateFalse());
        s_policy(&g, r, "resource", cJSON_CreateNull());
    }
    for (size_t i = 0; i < n_methods && !g.rc; i++) {
        size_t api = i % n_apis;
        snprintf(id, sizeof(id), "arn:aws:execute-api:us-east-1:" ACCT ":api%05zu/prod/GET/items%06zu", api, i);
        snprintf(name, sizeof(name), "GET /items%06zu", i);
        cJSON *r = s_res(&g, id, "aws:apigateway:method", "us-east-1", name);
        s_attr(&g, r, "api_id", s_json("\"api%05zu\"", api));
        s_attr(&g, r, "authorization_type", cJSON_CreateString(i % 5 == 0 ? "NONE" : "AWS_IAM"));
        snprintf(buf, sizeof(buf), "arn:aws:lambda:us-east-1:" ACCT ":function:fn-%06zu", (i * 2) % n_fn);
        s_link(&g, r, "integrates-with", buf);
        s_attr(&g, r, "integration", s_json("{\"type\":\"AWS_PROXY\",\"uri\":\"%s\"}", buf));
    }
    for (size_t i = 0; i < n_sg && !g.rc; i++) {
        snprintf(id, sizeof(id), "arn:aws:ec2:us-east-1:" ACCT ":security-group/sg-%017zu", i);
        cJSON *r = s_res(&g, id, "aws:ec2:security-group", "us-east-1",
                         id + strlen("arn:aws:ec2:us-east-1:" ACCT ":security-group/"));
        s_attr(&g, r, "ingress",
               i % 10 == 0 ? s_json("[{\"ip_protocol\":\"tcp\",\"from_port\":22,\"to_port\":22,\"ipv4_ranges\":["
                                    "{\"cidr_ip\":\"0.0.0.0/0\"}],\"ipv6_ranges\":[]}]")
                           : s_json("[{\"ip_protocol\":\"tcp\",\"from_port\":443,\"to_port\":443,\"ipv4_ranges\":["
                                    "{\"cidr_ip\":\"10.0.0.0/8\"}],\"ipv6_ranges\":[]}]"));
        g.c->groups_sg++;
    }
    for (size_t i = 0; i < n_inst && !g.rc; i++) {
        snprintf(id, sizeof(id), "arn:aws:ec2:us-east-1:" ACCT ":instance/i-%017zu", i);
        cJSON *r =
            s_res(&g, id, "aws:ec2:instance", "us-east-1", id + strlen("arn:aws:ec2:us-east-1:" ACCT ":instance/"));
        bool pub = i % 10 == 0;
        s_attr(&g, r, "state", cJSON_CreateString("running"));
        s_attr(&g, r, "public_ip", pub ? s_json("\"203.0.113.%zu\"", i % 250) : cJSON_CreateNull());
        s_attr(&g, r, "security_group_ids", s_json("[\"sg-%017zu\"]", i % n_sg));
        s_attr(&g, r, "metadata_options",
               s_json("{\"http_tokens\":\"%s\",\"http_endpoint\":\"enabled\"}", i % 3 ? "required" : "optional"));
        if (n_profiles) {
            snprintf(buf, sizeof(buf), "arn:aws:iam::" ACCT ":instance-profile/profile-%06zu", i % n_profiles);
            s_link(&g, r, "has-identity", buf);
        }
        g.c->instances++;
        g.c->open_instances += pub && (i % n_sg) % 10 == 0;
    }
    (void)s_chance;
    if (g.rc) {
        tm_snapshot_destroy(g.snap);
        return g.rc;
    }
    *out = g.snap;
    return TM_OK;
}
