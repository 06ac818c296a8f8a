/* SigV4: the AWS test suite (read from ../shared/testdata/sigv4 at test time), S3's rules, and the
 * verifier mockcloud uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/str.h"
#include "providers/auth/sigv4.h"

#define MAX_HDRS 32

/* ------------------------------------------------------------------------------------------------ */
/* Locating and reading the suite */

static char s_suite[4096];

static bool s_is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The suite lives beside the repository: TM_SIGV4_TESTDATA, else ../shared or ../../shared from the
 * directory the tests run in (the repository root). A missing suite is a failure, never a skip. */
static const char *s_suite_dir(void) {
    if (s_suite[0])
        return s_suite;
    const char *env = getenv("TM_SIGV4_TESTDATA");
    const char *candidates[] = {env, "../shared/testdata/sigv4", "../../shared/testdata/sigv4"};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
        if (!candidates[i] || !*candidates[i])
            continue;
        char v4[4096];
        snprintf(v4, sizeof(v4), "%s/v4", candidates[i]);
        if (s_is_dir(v4)) {
            snprintf(s_suite, sizeof(s_suite), "%s", v4);
            return s_suite;
        }
        if (env && candidates[i] == env)
            fail_msg("TM_SIGV4_TESTDATA=%s has no v4/ directory", env);
    }
    fail_msg("SigV4 test suite not found: set TM_SIGV4_TESTDATA or run from the repository root with "
             "../shared/testdata/sigv4 (or ../../shared/testdata/sigv4) present");
    return NULL;
}

static char *s_read(const char *dir, const char *name) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct tm_buf b;
    tm_buf_init(&b, 1 << 20);
    char err[512];
    int rc = tm_file_read(&b, path, 1 << 20, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    char *s = tm_buf_detach(&b);
    assert_non_null(s);
    return s;
}

/* A request as the suite writes it: "METHOD target HTTP/1.1", "Name:value" lines (a line starting with
 * whitespace continues the previous value), an optional blank line and the body. */
struct raw_request {
    char *text; /* owns every string below */
    char *method, *path, *query;
    struct tm_sigv4_header headers[MAX_HDRS];
    size_t header_count;
    char *owned[MAX_HDRS]; /* values joined from continuation lines */
    char *body;
    size_t body_len;
    bool has_blank; /* a blank line separated headers and body */
};

static void s_parse_request(struct raw_request *r, char *text) {
    memset(r, 0, sizeof(*r));
    r->text = text;
    char *line_end = strchr(text, '\n');
    assert_non_null(line_end);
    *line_end = '\0';
    char *sp = strchr(text, ' ');
    char *proto = strrchr(text, ' ');
    assert_non_null(sp);
    assert_true(proto > sp);
    assert_string_equal(proto, " HTTP/1.1");
    *sp = '\0';
    *proto = '\0';
    r->method = text;
    r->path = sp + 1;
    char *q = strchr(r->path, '?');
    if (q) {
        *q = '\0';
        r->query = q + 1;
    }
    char *p = line_end + 1;
    while (*p) {
        char *e = strchr(p, '\n');
        if (p[0] == '\n') {
            r->has_blank = true;
            p++;
            break;
        }
        if (e)
            *e = '\0';
        if (p[0] == ' ' || p[0] == '\t') {
            /* A continuation: keep it in the value, line break included, as it was sent. */
            assert_true(r->header_count > 0);
            const char *prev = r->headers[r->header_count - 1].value;
            size_t n = strlen(prev) + strlen(p) + 2;
            char *joined = malloc(n);
            assert_non_null(joined);
            snprintf(joined, n, "%s\n%s", prev, p);
            free(r->owned[r->header_count - 1]);
            r->owned[r->header_count - 1] = joined;
            r->headers[r->header_count - 1].value = joined;
        } else {
            char *colon = strchr(p, ':');
            assert_non_null(colon);
            *colon = '\0';
            assert_true(r->header_count < MAX_HDRS);
            r->headers[r->header_count].name = p;
            r->headers[r->header_count].value = colon + 1;
            r->header_count++;
        }
        if (!e) {
            p += strlen(p);
            break;
        }
        p = e + 1;
    }
    r->body = p;
    r->body_len = strlen(p);
}

static void s_free_request(struct raw_request *r) {
    for (size_t i = 0; i < MAX_HDRS; i++)
        free(r->owned[i]);
    free(r->text);
}

struct context {
    char *akid, *secret, *token, *region, *service;
    int64_t time;
    uint32_t expires_s;
    bool normalize, sign_body, omit_token;
};

static char *s_json_str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? tm_strdup(v->valuestring) : NULL;
}

static bool s_json_bool(const cJSON *o, const char *name) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static void s_parse_context(struct context *c, const char *dir) {
    memset(c, 0, sizeof(*c));
    char *text = s_read(dir, "context.json");
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(root, "credentials");
    assert_non_null(cred);
    c->akid = s_json_str(cred, "access_key_id");
    c->secret = s_json_str(cred, "secret_access_key");
    c->token = s_json_str(cred, "token");
    c->region = s_json_str(root, "region");
    c->service = s_json_str(root, "service");
    char *ts = s_json_str(root, "timestamp");
    assert_non_null(c->akid);
    assert_non_null(c->secret);
    assert_non_null(c->region);
    assert_non_null(c->service);
    assert_non_null(ts);
    assert_int_equal(tm_sigv4_parse_time(&c->time, ts), TM_OK);
    free(ts);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expiration_in_seconds");
    assert_true(cJSON_IsNumber(exp));
    c->expires_s = (uint32_t)exp->valuedouble;
    c->normalize = s_json_bool(root, "normalize");
    c->sign_body = s_json_bool(root, "sign_body");
    c->omit_token = s_json_bool(root, "omit_session_token");
    cJSON_Delete(root);
}

static void s_free_context(struct context *c) {
    free(c->akid);
    free(c->secret);
    free(c->token);
    free(c->region);
    free(c->service);
}

/* ------------------------------------------------------------------------------------------------ */
/* Secret lookups for the verifier */

struct keyring {
    const char *akid, *secret, *token;
    int calls;
};

static int s_lookup(struct tm_buf *secret, struct tm_buf *token, const struct tm_sigv4_scope *scope, void *user_data) {
    struct keyring *k = user_data;
    k->calls++;
    if (strcmp(scope->access_key_id, k->akid) != 0)
        return TM_ERR_NOT_FOUND;
    int rc = tm_buf_append_str(secret, k->secret);
    if (!rc && k->token)
        rc = tm_buf_append_str(token, k->token);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* The suite */

/* Renders a request the way the suite's *-signed-request.txt files do. */
static char *s_render(const struct raw_request *r, const char *extra_query, const struct tm_sigv4_signed *sig) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    int rc = tm_buf_appendf(&b, "%s %s", r->method, r->path);
    if (r->query || extra_query) {
        rc |= tm_buf_appendf(&b, "?%s%s%s", r->query ? r->query : "", r->query && extra_query ? "&" : "",
                             extra_query ? extra_query : "");
    }
    rc |= tm_buf_append_str(&b, " HTTP/1.1\n");
    for (size_t i = 0; i < r->header_count; i++)
        rc |= tm_buf_appendf(&b, "%s:%s\n", r->headers[i].name, r->headers[i].value);
    for (size_t i = 0; sig && i < sig->header_count; i++)
        rc |= tm_buf_appendf(&b, "%s:%s\n", sig->headers[i].name, sig->headers[i].value);
    rc |= tm_buf_append_char(&b, '\n');
    rc |= tm_buf_append(&b, r->body, r->body_len);
    assert_int_equal(rc, TM_OK);
    return tm_buf_detach(&b);
}

static void s_verify_text(const char *dir, const char *file, const struct context *c, bool expect_ok) {
    struct raw_request r;
    s_parse_request(&r, s_read(dir, file));
    struct tm_sigv4_request req = {r.method, r.path, r.query, r.headers, r.header_count, r.body, r.body_len};
    struct keyring k = {c->akid, c->secret, c->token, 0};
    struct tm_sigv4_verify_options opts = {.now = c->time + 60,
                                           .check_time = true,
                                           .no_normalize_path = !c->normalize,
                                           .omit_session_token = c->omit_token};
    struct tm_sigv4_verify_result res;
    int rc = tm_sigv4_verify(&res, &req, &opts, s_lookup, &k);
    if (expect_ok && rc != TM_OK)
        fail_msg("%s/%s: verify refused: %s: %s\n%s", dir, file, tm_sigv4_verdict_code(res.verdict), res.message,
                 res.canonical_request ? res.canonical_request : "");
    if (expect_ok) {
        assert_int_equal(res.verdict, TM_SIGV4_VALID);
        assert_true(res.scope_valid);
        assert_string_equal(res.scope.access_key_id, c->akid);
        assert_string_equal(res.scope.region, c->region);
        assert_string_equal(res.scope.service, c->service);
        assert_string_equal(res.scope.date, "20150830");
        assert_int_equal(res.request_time, c->time);
        assert_int_equal(res.presigned, strncmp(file, "query", 5) == 0);
    }
    tm_sigv4_verify_result_clean_up(&res);
    s_free_request(&r);
}

static void s_run_case(const char *dir, enum tm_sigv4_mode mode) {
    const char *prefix = mode == TM_SIGV4_MODE_QUERY ? "query" : "header";
    struct context c;
    s_parse_context(&c, dir);
    struct raw_request r;
    s_parse_request(&r, s_read(dir, "request.txt"));

    struct tm_sigv4_request req = {r.method, r.path, r.query, r.headers, r.header_count, r.body, r.body_len};
    struct tm_sigv4_params p = {
        .access_key_id = c.akid,
        .secret_access_key = c.secret,
        .session_token = c.token,
        .region = c.region,
        .service = c.service,
        .time = c.time,
        .mode = mode,
        .expires_s = c.expires_s,
        .content_sha256_header = c.sign_body,
        .no_normalize_path = !c.normalize,
        .omit_session_token = c.omit_token,
    };
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);

    char name[64];
    snprintf(name, sizeof(name), "%s-canonical-request.txt", prefix);
    char *want = s_read(dir, name);
    if (strcmp(want, sig.canonical_request) != 0)
        fail_msg("%s (%s): canonical request\n--- want\n%s\n--- got\n%s", dir, prefix, want, sig.canonical_request);
    free(want);
    snprintf(name, sizeof(name), "%s-string-to-sign.txt", prefix);
    want = s_read(dir, name);
    if (strcmp(want, sig.string_to_sign) != 0)
        fail_msg("%s (%s): string to sign\n--- want\n%s\n--- got\n%s", dir, prefix, want, sig.string_to_sign);
    free(want);
    snprintf(name, sizeof(name), "%s-signature.txt", prefix);
    want = s_read(dir, name);
    if (strcmp(want, sig.signature) != 0)
        fail_msg("%s (%s): signature want %s got %s", dir, prefix, want, sig.signature);
    free(want);

    if (mode == TM_SIGV4_MODE_QUERY) {
        assert_non_null(sig.query);
        assert_int_equal(sig.header_count, 0);
    } else {
        assert_null(sig.query);
    }
    char *got = s_render(&r, sig.query, &sig);
    snprintf(name, sizeof(name), "%s-signed-request.txt", prefix);
    want = s_read(dir, name);
    if (strcmp(want, got) != 0)
        fail_msg("%s (%s): signed request\n--- want\n%s\n--- got\n%s", dir, prefix, want, got);
    free(want);
    free(got);

    /* The verifier accepts the suite's own signed request, parsed from the file (not our rendering). */
    s_verify_text(dir, name, &c, true);

    tm_sigv4_signed_clean_up(&sig);
    s_free_request(&r);
    s_free_context(&c);
}

static int s_case_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every case directory under v4/, sorted; *count is how many. */
static char **s_cases(size_t *count) {
    const char *suite = s_suite_dir();
    DIR *d = opendir(suite);
    assert_non_null(d);
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096 + 512];
        snprintf(path, sizeof(path), "%s/%s", suite, e->d_name);
        if (!s_is_dir(path))
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        assert_non_null(names);
        names[n] = strdup(path);
        assert_non_null(names[n]);
        n++;
    }
    closedir(d);
    if (n == 0)
        fail_msg("no cases in %s", suite);
    qsort(names, n, sizeof(*names), s_case_cmp);
    *count = n;
    return names;
}

static void s_suite_mode(enum tm_sigv4_mode mode) {
    size_t n = 0;
    char **cases = s_cases(&n);
    for (size_t i = 0; i < n; i++) {
        s_run_case(cases[i], mode);
        free(cases[i]);
    }
    free(cases);
    print_message("%zu cases passed in %s mode\n", n, mode == TM_SIGV4_MODE_QUERY ? "query" : "header");
}

static void test_suite_header_mode(void **state) {
    (void)state;
    s_suite_mode(TM_SIGV4_MODE_HEADER);
}

static void test_suite_query_mode(void **state) {
    (void)state;
    s_suite_mode(TM_SIGV4_MODE_QUERY);
}

/* ------------------------------------------------------------------------------------------------ */
/* Known answers from AWS's documentation, cross-checked with botocore */

static void test_signing_key(void **state) {
    (void)state;
    unsigned char key[32];
    assert_int_equal(
        tm_sigv4_signing_key(key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"), TM_OK);
    struct tm_buf hex;
    tm_buf_init(&hex, 0);
    assert_int_equal(tm_hex_encode(&hex, key, sizeof(key)), TM_OK);
    assert_string_equal(tm_buf_str(&hex), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    tm_buf_clean_up(&hex);
}

static const char s_s3_akid[] = "AKIAIOSFODNN7EXAMPLE";
static const char s_s3_secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

static const char *s_find_out(const struct tm_sigv4_signed *sig, const char *name) {
    for (size_t i = 0; i < sig->header_count; i++)
        if (strcmp(sig->headers[i].name, name) == 0)
            return sig->headers[i].value;
    return NULL;
}

static void test_s3_get_object(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
    struct tm_sigv4_request req = {"GET", "/test.txt", NULL, h, 2, NULL, 0};
    struct tm_sigv4_params p = {.access_key_id = s_s3_akid,
                                .secret_access_key = s_s3_secret,
                                .region = "us-east-1",
                                .service = "s3",
                                .time = 1369353600}; /* 2013-05-24T00:00:00Z */
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_string_equal(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* S3 always signs x-amz-content-sha256, here the empty body's hash. */
    assert_string_equal(s_find_out(&sig, "x-amz-content-sha256"),
                        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(s_find_out(&sig, "X-Amz-Date"), "20130524T000000Z");
    assert_null(s_find_out(&sig, "X-Amz-Security-Token"));
    assert_string_equal(s_find_out(&sig, "Authorization"),
                        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    tm_sigv4_signed_clean_up(&sig);
}

static void test_s3_presigned(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
    struct tm_sigv4_request req = {"GET", "/test.txt", NULL, h, 1, NULL, 0};
    struct tm_sigv4_params p = {.access_key_id = s_s3_akid,
                                .secret_access_key = s_s3_secret,
                                .region = "us-east-1",
                                .service = "s3",
                                .time = 1369353600,
                                .mode = TM_SIGV4_MODE_QUERY,
                                .expires_s = 86400,
                                .unsigned_payload = true};
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_string_equal(sig.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_true(tm_str_ends_with(sig.canonical_request, "\nhost\nUNSIGNED-PAYLOAD"));
    assert_string_equal(sig.query,
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
                        "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&"
                        "X-Amz-Expires=86400&X-Amz-Signature="
                        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    assert_int_equal(sig.header_count, 0);

    /* The verifier takes UNSIGNED-PAYLOAD for a presigned S3 URL and checks the expiry. */
    struct tm_sigv4_request got = {"GET", "/test.txt", sig.query, h, 1, NULL, 0};
    struct keyring k = {s_s3_akid, s_s3_secret, NULL, 0};
    struct tm_sigv4_verify_options opts = {.now = 1369353600 + 86400, .check_time = true};
    struct tm_sigv4_verify_result res;
    assert_int_equal(tm_sigv4_verify(&res, &got, &opts, s_lookup, &k), TM_OK);
    assert_true(res.presigned);
    assert_string_equal(res.scope.service, "s3");
    tm_sigv4_verify_result_clean_up(&res);
    opts.now++;
    assert_int_equal(tm_sigv4_verify(&res, &got, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_EXPIRED);
    assert_string_equal(res.message, "Request has expired");
    tm_sigv4_verify_result_clean_up(&res);
    opts.now = 1369353600 - 901;
    assert_int_equal(tm_sigv4_verify(&res, &got, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_EXPIRED);
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&sig);
}

/* S3 keeps the path as sent: no dot-segment removal, no slash folding, no second encoding. */
static void test_s3_path_kept(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "s3.amazonaws.com"}};
    struct tm_sigv4_request req = {"PUT", "/bucket//a/./b%20c/../d~e", NULL, h, 1, "hello", 5};
    struct tm_sigv4_params p = {.access_key_id = s_s3_akid,
                                .secret_access_key = s_s3_secret,
                                .region = "us-east-1",
                                .service = "s3",
                                .time = 1369353600};
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_true(tm_str_starts_with(sig.canonical_request, "PUT\n/bucket//a/./b%20c/../d~e\n\n"));
    assert_string_equal(s_find_out(&sig, "x-amz-content-sha256"),
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_string_equal(sig.signature, "daac2b5f808c069faa7950e3a501ecc17fdbdebb653a6a191f90274c499c94bd");
    tm_sigv4_signed_clean_up(&sig);

    /* UNSIGNED-PAYLOAD on request. */
    p.unsigned_payload = true;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_string_equal(s_find_out(&sig, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    assert_true(tm_str_ends_with(sig.canonical_request, "\nUNSIGNED-PAYLOAD"));
    tm_sigv4_signed_clean_up(&sig);

    /* Any other service normalises and encodes the wire path again. */
    p.service = "lambda";
    p.unsigned_payload = false;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_true(tm_str_starts_with(sig.canonical_request, "PUT\n/bucket/a/d~e\n\n"));
    assert_null(s_find_out(&sig, "x-amz-content-sha256"));
    tm_sigv4_signed_clean_up(&sig);
    struct tm_sigv4_request req2 = {"GET", "/a/b%20c", NULL, h, 1, NULL, 0};
    assert_int_equal(tm_sigv4_sign(&sig, &req2, &p), TM_OK);
    assert_true(tm_str_starts_with(sig.canonical_request, "GET\n/a/b%2520c\n\n"));
    tm_sigv4_signed_clean_up(&sig);
}

static const char s_tok_akid[] = "ASIAEXAMPLE0000001";
static const char s_tok_secret[] = "secretSECRETsecret";
static const char s_tok_token[] = "tokenTOKEN/+=token";

static void test_session_token_header_mode(void **state) {
    (void)state;
    const char *body = "Action=GetCallerIdentity&Version=2011-06-15";
    struct tm_sigv4_header h[] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                                  {"Host", "sts.eu-west-1.amazonaws.com"},
                                  {"User-Agent", "tmscan/0.1.0"}};
    struct tm_sigv4_request req = {"POST", "/", NULL, h, 3, body, strlen(body)};
    struct tm_sigv4_params p = {.access_key_id = s_tok_akid,
                                .secret_access_key = s_tok_secret,
                                .session_token = s_tok_token,
                                .region = "eu-west-1",
                                .service = "sts",
                                .time = 1709251199}; /* 2024-02-29T23:59:59Z */
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_string_equal(sig.signature, "271de3261154844a486987b91e4aeb0b3d9aa97ce30624da8d7e5545219e8d8d");
    assert_int_equal(sig.header_count, 3);
    assert_string_equal(sig.headers[0].name, "X-Amz-Security-Token");
    assert_string_equal(sig.headers[0].value, s_tok_token);
    assert_string_equal(sig.headers[1].name, "X-Amz-Date");
    assert_string_equal(sig.headers[1].value, "20240229T235959Z");
    assert_string_equal(sig.headers[2].name, "Authorization");
    /* User-Agent is never signed: proxies and libraries rewrite it. */
    assert_non_null(strstr(sig.headers[2].value, "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));

    /* The verifier accepts it, with the right token only. */
    struct tm_sigv4_header got[6];
    memcpy(got, h, sizeof(h));
    for (size_t i = 0; i < 3; i++)
        got[3 + i] = (struct tm_sigv4_header){sig.headers[i].name, sig.headers[i].value};
    struct tm_sigv4_request sent = {"POST", "/", NULL, got, 6, body, strlen(body)};
    struct keyring k = {s_tok_akid, s_tok_secret, s_tok_token, 0};
    struct tm_sigv4_verify_options opts = {.now = 1709251199 + 899, .check_time = true};
    struct tm_sigv4_verify_result res;
    assert_int_equal(tm_sigv4_verify(&res, &sent, &opts, s_lookup, &k), TM_OK);
    assert_string_equal(res.session_token, s_tok_token);
    assert_string_equal(res.scope.service, "sts");
    assert_string_equal(res.scope.region, "eu-west-1");
    tm_sigv4_verify_result_clean_up(&res);

    k.token = "another-token";
    assert_int_equal(tm_sigv4_verify(&res, &sent, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_BAD_TOKEN);
    assert_string_equal(tm_sigv4_verdict_code(res.verdict), "InvalidClientTokenId");
    tm_sigv4_verify_result_clean_up(&res);
    k.token = NULL;
    assert_int_equal(tm_sigv4_verify(&res, &sent, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_BAD_TOKEN);
    tm_sigv4_verify_result_clean_up(&res);
    k.token = s_tok_token;

    /* Outside the 15-minute window. */
    opts.now = 1709251199 + 901;
    assert_int_equal(tm_sigv4_verify(&res, &sent, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_EXPIRED);
    tm_sigv4_verify_result_clean_up(&res);
    opts.now = 1709251199 - 901;
    assert_int_equal(tm_sigv4_verify(&res, &sent, &opts, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_EXPIRED);
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&sig);
}

static void test_double_encoded_path_and_query(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "lambda.us-east-1.amazonaws.com"}};
    struct tm_sigv4_request req = {
        "GET", "/2015-03-31/functions/my%20fn/policy", "Qualifier=a%20b&Marker=x", h, 1, NULL, 0};
    struct tm_sigv4_params p = {.access_key_id = s_tok_akid,
                                .secret_access_key = s_tok_secret,
                                .session_token = s_tok_token,
                                .region = "us-east-1",
                                .service = "lambda",
                                .time = 1709251199};
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    assert_true(tm_str_starts_with(sig.canonical_request,
                                   "GET\n/2015-03-31/functions/my%2520fn/policy\nMarker=x&Qualifier=a%20b\n"));
    assert_string_equal(sig.signature, "ecb7071d207d9a5d46b8dee77abc80ea7784ea78e6c0e985505a09c47960b39e");
    tm_sigv4_signed_clean_up(&sig);
}

/* ------------------------------------------------------------------------------------------------ */
/* Verification: tampering, wrong secrets, malformed input */

struct signed_fixture {
    struct tm_sigv4_header headers[8];
    size_t header_count;
    struct tm_sigv4_signed sig;
    const char *body;
};

static const char s_fix_body[] = "Action=ListUsers&Version=2010-05-08";

static void s_sign_fixture(struct signed_fixture *f, const char *secret) {
    memset(f, 0, sizeof(*f));
    f->headers[0] = (struct tm_sigv4_header){"Host", "iam.amazonaws.com"};
    f->headers[1] = (struct tm_sigv4_header){"Content-Type", "application/x-www-form-urlencoded"};
    f->headers[2] = (struct tm_sigv4_header){"X-Custom", "  one   two  "};
    struct tm_sigv4_request req = {"POST", "/", "a=1", f->headers, 3, s_fix_body, strlen(s_fix_body)};
    struct tm_sigv4_params p = {.access_key_id = s_s3_akid,
                                .secret_access_key = secret,
                                .region = "us-east-1",
                                .service = "iam",
                                .time = 1700000000};
    assert_int_equal(tm_sigv4_sign(&f->sig, &req, &p), TM_OK);
    f->header_count = 3;
    for (size_t i = 0; i < f->sig.header_count; i++)
        f->headers[f->header_count++] = (struct tm_sigv4_header){f->sig.headers[i].name, f->sig.headers[i].value};
    f->body = s_fix_body;
}

static int s_verify_fixture(struct signed_fixture *f, struct tm_sigv4_verify_result *res, const char *method,
                            const char *path, const char *query, const char *body) {
    struct tm_sigv4_request req = {method, path, query, f->headers, f->header_count, body, strlen(body)};
    struct keyring k = {s_s3_akid, s_s3_secret, NULL, 0};
    struct tm_sigv4_verify_options opts = {.now = 1700000000, .check_time = true};
    return tm_sigv4_verify(res, &req, &opts, s_lookup, &k);
}

static void s_expect_refusal(struct signed_fixture *f, const char *method, const char *path, const char *query,
                             const char *body, enum tm_sigv4_verdict verdict) {
    struct tm_sigv4_verify_result res;
    int rc = s_verify_fixture(f, &res, method, path, query, body);
    if (rc != TM_ERR_AUTH || res.verdict != verdict)
        fail_msg("%s %s?%s: want verdict %s, got rc %d verdict %s (%s)", method, path, query ? query : "",
                 tm_sigv4_verdict_code(verdict), rc, tm_sigv4_verdict_code(res.verdict), res.message);
    tm_sigv4_verify_result_clean_up(&res);
}

static void test_verify_accepts_and_routes(void **state) {
    (void)state;
    struct signed_fixture f;
    s_sign_fixture(&f, s_s3_secret);
    struct tm_sigv4_verify_result res;
    assert_int_equal(s_verify_fixture(&f, &res, "POST", "/", "a=1", s_fix_body), TM_OK);
    assert_int_equal(res.verdict, TM_SIGV4_VALID);
    assert_false(res.presigned);
    assert_string_equal(res.scope.access_key_id, s_s3_akid);
    assert_string_equal(res.scope.service, "iam");
    assert_string_equal(res.scope.region, "us-east-1");
    assert_null(res.session_token);
    /* The server side computed the same canonical request as the signer. */
    assert_string_equal(res.canonical_request, f.sig.canonical_request);
    tm_sigv4_verify_result_clean_up(&res);
    /* Header names arrive in any case and headers in any order. */
    f.headers[1].name = "CONTENT-TYPE";
    struct tm_sigv4_header t = f.headers[0];
    f.headers[0] = f.headers[2];
    f.headers[2] = t;
    assert_int_equal(s_verify_fixture(&f, &res, "POST", "/", "a=1", s_fix_body), TM_OK);
    tm_sigv4_verify_result_clean_up(&res);
    /* Unsigned headers added in transit do not matter. */
    f.headers[f.header_count++] = (struct tm_sigv4_header){"Accept-Encoding", "gzip"};
    assert_int_equal(s_verify_fixture(&f, &res, "POST", "/", "a=1", s_fix_body), TM_OK);
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&f.sig);
}

static void test_verify_rejects_tampering(void **state) {
    (void)state;
    struct signed_fixture f;
    s_sign_fixture(&f, s_s3_secret);
    s_expect_refusal(&f, "POST", "/", "a=1", "Action=DeleteUser&Version=2010-05-08", TM_SIGV4_MISMATCH);
    s_expect_refusal(&f, "PUT", "/", "a=1", s_fix_body, TM_SIGV4_MISMATCH);
    s_expect_refusal(&f, "POST", "/x", "a=1", s_fix_body, TM_SIGV4_MISMATCH);
    s_expect_refusal(&f, "POST", "/", "a=2", s_fix_body, TM_SIGV4_MISMATCH);
    s_expect_refusal(&f, "POST", "/", NULL, s_fix_body, TM_SIGV4_MISMATCH);
    s_expect_refusal(&f, "POST", "/", "a=1&b=2", s_fix_body, TM_SIGV4_MISMATCH);
    /* A signed header's value changed. */
    f.headers[2].value = "one two three";
    s_expect_refusal(&f, "POST", "/", "a=1", s_fix_body, TM_SIGV4_MISMATCH);
    f.headers[2].value = "one two";
    struct tm_sigv4_verify_result res;
    assert_int_equal(s_verify_fixture(&f, &res, "POST", "/", "a=1", s_fix_body), TM_OK);
    tm_sigv4_verify_result_clean_up(&res);
    /* A signed header removed. */
    f.headers[2].name = "X-Other";
    s_expect_refusal(&f, "POST", "/", "a=1", s_fix_body, TM_SIGV4_MISMATCH);
    f.headers[2].name = "X-Custom";
    /* One hex digit of the signature flipped. */
    char *auth = f.sig.headers[1].value;
    assert_string_equal(f.sig.headers[1].name, "Authorization");
    char *last = auth + strlen(auth) - 1;
    *last = *last == '0' ? '1' : '0';
    s_expect_refusal(&f, "POST", "/", "a=1", s_fix_body, TM_SIGV4_MISMATCH);
    tm_sigv4_signed_clean_up(&f.sig);
}

static void test_verify_rejects_wrong_secret(void **state) {
    (void)state;
    struct signed_fixture f;
    s_sign_fixture(&f, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEz");
    struct tm_sigv4_verify_result res;
    assert_int_equal(s_verify_fixture(&f, &res, "POST", "/", "a=1", s_fix_body), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_MISMATCH);
    assert_string_equal(tm_sigv4_verdict_code(res.verdict), "SignatureDoesNotMatch");
    assert_non_null(strstr(res.message, "does not match"));
    /* The scope is still known, so a server can answer in the right service's shape. */
    assert_true(res.scope_valid);
    assert_string_equal(res.scope.service, "iam");
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&f.sig);
}

static void test_verify_unknown_key_and_missing(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "iam.amazonaws.com"}};
    struct tm_sigv4_request req = {"GET", "/", "Action=ListUsers", h, 1, NULL, 0};
    struct keyring k = {"AKIDOTHER", "x", NULL, 0};
    struct tm_sigv4_verify_result res;
    assert_int_equal(tm_sigv4_verify(&res, &req, NULL, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_MISSING);
    assert_string_equal(tm_sigv4_verdict_code(res.verdict), "MissingAuthenticationToken");
    assert_int_equal(k.calls, 0);
    tm_sigv4_verify_result_clean_up(&res);

    struct signed_fixture f;
    s_sign_fixture(&f, s_s3_secret);
    struct tm_sigv4_request sent = {"POST", "/", "a=1", f.headers, f.header_count, s_fix_body, strlen(s_fix_body)};
    assert_int_equal(tm_sigv4_verify(&res, &sent, NULL, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_UNKNOWN_KEY);
    assert_int_equal(k.calls, 1);
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&f.sig);
}

static void test_verify_content_sha256(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "b.s3.amazonaws.com"}};
    struct tm_sigv4_request req = {"PUT", "/k", NULL, h, 1, "data", 4};
    struct tm_sigv4_params p = {.access_key_id = s_s3_akid,
                                .secret_access_key = s_s3_secret,
                                .region = "eu-west-1",
                                .service = "s3",
                                .time = 1700000000};
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_OK);
    struct tm_sigv4_header got[5] = {h[0]};
    for (size_t i = 0; i < sig.header_count; i++)
        got[1 + i] = (struct tm_sigv4_header){sig.headers[i].name, sig.headers[i].value};
    struct tm_sigv4_request sent = {"PUT", "/k", NULL, got, 1 + sig.header_count, "data", 4};
    struct keyring k = {s_s3_akid, s_s3_secret, NULL, 0};
    struct tm_sigv4_verify_result res;
    assert_int_equal(tm_sigv4_verify(&res, &sent, NULL, s_lookup, &k), TM_OK);
    tm_sigv4_verify_result_clean_up(&res);
    sent.body = "DATA";
    assert_int_equal(tm_sigv4_verify(&res, &sent, NULL, s_lookup, &k), TM_ERR_AUTH);
    assert_int_equal(res.verdict, TM_SIGV4_HASH_MISMATCH);
    tm_sigv4_verify_result_clean_up(&res);
    tm_sigv4_signed_clean_up(&sig);
}

static void test_verify_malformed(void **state) {
    (void)state;
    static const char *const bad[] = {
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" /* truncated */,
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=Host;x-amz-date, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;;x-amz-date, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=00000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=ZZ00000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, Credential=AKID/20150830/us-east-1/"
        "service/aws4_request, SignedHeaders=host, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000, Extra=1",
        "AWS4-HMAC-SHA256 Credential=AKID/20150830/\xe1\x88\xb4/service/aws4_request/x, SignedHeaders=host, "
        "Signature=0000000000000000000000000000000000000000000000000000000000000000",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 Credential",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tm_sigv4_authorization a;
        char why[256] = "";
        if (tm_sigv4_parse_authorization(&a, bad[i], why, sizeof(why)) != TM_ERR_PARSE)
            fail_msg("accepted: %s", bad[i]);
        assert_true(why[0] != '\0');
        struct tm_sigv4_header h[] = {{"Host", "x"}, {"X-Amz-Date", "20150830T123600Z"}, {"Authorization", bad[i]}};
        struct tm_sigv4_request req = {"GET", "/", NULL, h, 3, NULL, 0};
        struct keyring k = {"AKID", "s", NULL, 0};
        struct tm_sigv4_verify_result res;
        assert_int_equal(tm_sigv4_verify(&res, &req, NULL, s_lookup, &k), TM_ERR_AUTH);
        assert_int_equal(res.verdict, TM_SIGV4_MALFORMED);
        assert_int_equal(k.calls, 0);
        tm_sigv4_verify_result_clean_up(&res);
    }
    struct tm_sigv4_authorization a;
    assert_int_equal(tm_sigv4_parse_authorization(&a, "AWS4-ECDSA-P256-SHA256 Credential=x", NULL, 0),
                     TM_ERR_UNSUPPORTED);
    assert_int_equal(tm_sigv4_parse_authorization(&a, "Basic dXNlcjpwYXNz", NULL, 0), TM_ERR_UNSUPPORTED);
    /* Components in any order, with or without spaces. */
    assert_int_equal(tm_sigv4_parse_authorization(
                         &a,
                         "AWS4-HMAC-SHA256 Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024,"
                         "SignedHeaders=host;x-amz-date,Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request",
                         NULL, 0),
                     TM_OK);
    assert_string_equal(a.scope.access_key_id, "AKIDEXAMPLE");
    assert_string_equal(a.scope.date, "20150830");
    assert_string_equal(a.scope.region, "us-east-1");
    assert_string_equal(a.scope.service, "iam");
    assert_string_equal(a.signed_headers, "host;x-amz-date");

    /* Header mode without X-Amz-Date; a scope for another day; host not signed; repeated Authorization. */
    const char *ok = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
                     "SignedHeaders=host;x-amz-date, "
                     "Signature=0000000000000000000000000000000000000000000000000000000000000000";
    const char *nohost = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, "
                         "SignedHeaders=x-amz-date, "
                         "Signature=0000000000000000000000000000000000000000000000000000000000000000";
    struct {
        struct tm_sigv4_header h[3];
        enum tm_sigv4_verdict verdict;
    } cases[] = {
        {{{"Host", "x"}, {"Authorization", ok}, {"X-Other", "1"}}, TM_SIGV4_MALFORMED},
        {{{"Host", "x"}, {"Authorization", ok}, {"X-Amz-Date", "20150831T000000Z"}}, TM_SIGV4_MISMATCH},
        {{{"Host", "x"}, {"Authorization", ok}, {"X-Amz-Date", "2015-08-30T12:36:00Z"}}, TM_SIGV4_MALFORMED},
        {{{"Host", "x"}, {"Authorization", nohost}, {"X-Amz-Date", "20150830T123600Z"}}, TM_SIGV4_MALFORMED},
        {{{"Host", "x"}, {"Authorization", ok}, {"Authorization", ok}}, TM_SIGV4_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_sigv4_request req = {"GET", "/", NULL, cases[i].h, 3, NULL, 0};
        struct keyring k = {"AKID", "s", NULL, 0};
        struct tm_sigv4_verify_result res;
        assert_int_equal(tm_sigv4_verify(&res, &req, NULL, s_lookup, &k), TM_ERR_AUTH);
        if (res.verdict != cases[i].verdict)
            fail_msg("case %zu: verdict %s: %s", i, tm_sigv4_verdict_code(res.verdict), res.message);
        tm_sigv4_verify_result_clean_up(&res);
    }
}

static void test_verify_malformed_presigned(void **state) {
    (void)state;
    static const char *const bad[] = {
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=HMAC&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "0000000000000000000000000000000000000000000000000000000000000000",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "0000000000000000000000000000000000000000000000000000000000000000",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=-5&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "0000000000000000000000000000000000000000000000000000000000000000",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Signature="
        "0000000000000000000000000000000000000000000000000000000000000000",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=%ZZ",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830&X-Amz-Date="
        "20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "0000000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct tm_sigv4_header h[] = {{"Host", "x"}};
        struct tm_sigv4_request req = {"GET", "/", bad[i], h, 1, NULL, 0};
        struct keyring k = {"AKID", "s", NULL, 0};
        struct tm_sigv4_verify_result res;
        assert_int_equal(tm_sigv4_verify(&res, &req, NULL, s_lookup, &k), TM_ERR_AUTH);
        if (res.verdict != TM_SIGV4_MALFORMED)
            fail_msg("case %zu: verdict %s: %s", i, tm_sigv4_verdict_code(res.verdict), res.message);
        assert_int_equal(k.calls, 0);
        tm_sigv4_verify_result_clean_up(&res);
    }
}

/* A tampered copy of a suite request is refused: the suite's own signed requests with one byte changed. */
static void test_suite_tampered_refused(void **state) {
    (void)state;
    size_t n = 0;
    char **cases = s_cases(&n);
    for (size_t i = 0; i < n; i++) {
        struct context c;
        s_parse_context(&c, cases[i]);
        for (int m = 0; m < 2; m++) {
            struct raw_request r;
            s_parse_request(&r, s_read(cases[i], m ? "query-signed-request.txt" : "header-signed-request.txt"));
            struct tm_sigv4_request req = {r.method, r.path, r.query, r.headers, r.header_count, r.body, r.body_len};
            struct keyring k = {c.akid, c.secret, c.token, 0};
            struct tm_sigv4_verify_options opts = {.no_normalize_path = !c.normalize,
                                                   .omit_session_token = c.omit_token};
            struct tm_sigv4_verify_result res;
            /* Another method. */
            req.method = strcmp(r.method, "GET") == 0 ? "HEAD" : "PUT";
            assert_int_equal(tm_sigv4_verify(&res, &req, &opts, s_lookup, &k), TM_ERR_AUTH);
            assert_int_equal(res.verdict, TM_SIGV4_MISMATCH);
            tm_sigv4_verify_result_clean_up(&res);
            req.method = r.method;
            /* Another secret. */
            k.secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ";
            assert_int_equal(tm_sigv4_verify(&res, &req, &opts, s_lookup, &k), TM_ERR_AUTH);
            assert_int_equal(res.verdict, TM_SIGV4_MISMATCH);
            tm_sigv4_verify_result_clean_up(&res);
            k.secret = c.secret;
            /* Another host. */
            for (size_t j = 0; j < r.header_count; j++)
                if (tm_str_ieq(r.headers[j].name, "host"))
                    r.headers[j].value = "example.amazonaws.com.evil";
            assert_int_equal(tm_sigv4_verify(&res, &req, &opts, s_lookup, &k), TM_ERR_AUTH);
            assert_int_equal(res.verdict, TM_SIGV4_MISMATCH);
            tm_sigv4_verify_result_clean_up(&res);
            s_free_request(&r);
        }
        s_free_context(&c);
        free(cases[i]);
    }
    free(cases);
}

/* ------------------------------------------------------------------------------------------------ */
/* Signer input checks and time */

static void test_sign_rejects_bad_input(void **state) {
    (void)state;
    struct tm_sigv4_header h[] = {{"Host", "x"}};
    struct tm_sigv4_header noh[] = {{"Accept", "*/*"}};
    struct tm_sigv4_request req = {"GET", "/", NULL, h, 1, NULL, 0};
    struct tm_sigv4_params good = {
        .access_key_id = "AKID", .secret_access_key = "s", .region = "us-east-1", .service = "iam", .time = 1700000000};
    struct tm_sigv4_signed sig;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &good), TM_OK);
    tm_sigv4_signed_clean_up(&sig);

    struct tm_sigv4_params p = good;
    p.access_key_id = "AK/ID";
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    p = good;
    p.region = "";
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    p = good;
    p.secret_access_key = NULL;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    p = good;
    p.time = -1;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    p = good;
    p.mode = TM_SIGV4_MODE_QUERY;
    p.expires_s = 0;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    p.expires_s = TM_SIGV4_MAX_EXPIRES_S + 1;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &p), TM_ERR_INVALID);
    struct tm_sigv4_request nohost = {"GET", "/", NULL, noh, 1, NULL, 0};
    assert_int_equal(tm_sigv4_sign(&sig, &nohost, &good), TM_ERR_INVALID);
    struct tm_sigv4_request badq = {"GET", "/", "a=%G0", h, 1, NULL, 0};
    assert_int_equal(tm_sigv4_sign(&sig, &badq, &good), TM_ERR_INVALID);

    /* Re-signing a request that still carries last attempt's signature headers replaces them. */
    struct tm_sigv4_header again[] = {{"Host", "x"},
                                      {"X-Amz-Date", "20000101T000000Z"},
                                      {"Authorization", "AWS4-HMAC-SHA256 old"},
                                      {"X-Amz-Security-Token", "old"}};
    struct tm_sigv4_request req2 = {"GET", "/", NULL, again, 4, NULL, 0};
    struct tm_sigv4_signed sig2;
    assert_int_equal(tm_sigv4_sign(&sig, &req, &good), TM_OK);
    assert_int_equal(tm_sigv4_sign(&sig2, &req2, &good), TM_OK);
    assert_string_equal(sig.canonical_request, sig2.canonical_request);
    assert_string_equal(sig.signature, sig2.signature);
    tm_sigv4_signed_clean_up(&sig);
    tm_sigv4_signed_clean_up(&sig2);
    tm_sigv4_signed_clean_up(NULL);
}

static void test_time(void **state) {
    (void)state;
    int64_t t = 0;
    char s[17];
    assert_int_equal(tm_sigv4_parse_time(&t, "20150830T123600Z"), TM_OK);
    assert_int_equal(t, 1440938160);
    assert_int_equal(tm_sigv4_format_time(s, t), TM_OK);
    assert_string_equal(s, "20150830T123600Z");
    assert_int_equal(tm_sigv4_parse_time(&t, "2015-08-30T12:36:00Z"), TM_OK);
    assert_int_equal(t, 1440938160);
    assert_int_equal(tm_sigv4_parse_time(&t, "2015-08-30T12:36:00.123456Z"), TM_OK);
    assert_int_equal(t, 1440938160);
    assert_int_equal(tm_sigv4_parse_time(&t, "2015-08-30T14:36:00+02:00"), TM_OK);
    assert_int_equal(t, 1440938160);
    assert_int_equal(tm_sigv4_parse_time(&t, "2015-08-30T07:06:00-0530"), TM_OK);
    assert_int_equal(t, 1440938160);
    assert_int_equal(tm_sigv4_parse_time(&t, "2024-02-29T00:00:00Z"), TM_OK);
    assert_int_equal(t, 1709164800);
    assert_int_equal(tm_sigv4_parse_time(&t, "1970-01-01T00:00:00Z"), TM_OK);
    assert_int_equal(t, 0);
    static const char *const bad[] = {"",
                                      "2015-08-30",
                                      "2015-08-30T12:36:00",
                                      "2015-08-30T12:36:00ZZ",
                                      "2015-13-30T12:36:00Z",
                                      "2015-02-29T12:36:00Z",
                                      "2015-04-31T12:36:00Z",
                                      "2015-08-30T24:00:00Z",
                                      "2015-08-30 12:36:00Z",
                                      "20150830T1236Z",
                                      "2015-08-30T12:36:00.Z",
                                      "2015-08-30T12:36:00+2",
                                      "2015\xe2\x80\x93"
                                      "08-30T12:36:00Z",
                                      "-015-08-30T12:36:00Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tm_sigv4_parse_time(&t, bad[i]) != TM_ERR_PARSE)
            fail_msg("accepted time '%s'", bad[i]);
    assert_int_equal(tm_sigv4_format_time(s, -1), TM_ERR_INVALID);
    assert_int_equal(tm_sigv4_format_time(s, 253402300800), TM_ERR_INVALID);
}

static void test_scope(void **state) {
    (void)state;
    struct tm_sigv4_scope sc;
    assert_int_equal(tm_sigv4_parse_scope(&sc, "AKID/20150830/eu-west-1/sts/aws4_request"), TM_OK);
    assert_string_equal(sc.service, "sts");
    static const char *const bad[] = {"AKID/20150830/eu-west-1/sts",
                                      "AKID/20150830/eu-west-1/sts/aws4_request/",
                                      "/20150830/eu-west-1/sts/aws4_request",
                                      "AKID/20150830//sts/aws4_request",
                                      "AKID/2015-08-30/eu-west-1/sts/aws4_request",
                                      "AKID/20150830/eu-west-1/sts/aws5_request",
                                      "AK ID/20150830/eu-west-1/sts/aws4_request",
                                      ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (tm_sigv4_parse_scope(&sc, bad[i]) != TM_ERR_PARSE)
            fail_msg("accepted scope '%s'", bad[i]);
    char longreg[200];
    memset(longreg, 'a', sizeof(longreg));
    longreg[199] = '\0';
    char cred[400];
    snprintf(cred, sizeof(cred), "AKID/20150830/%s/sts/aws4_request", longreg);
    assert_int_equal(tm_sigv4_parse_scope(&sc, cred), TM_ERR_PARSE);
    assert_true(tm_sigv4_service_is_s3("s3"));
    assert_false(tm_sigv4_service_is_s3("s3x"));
    assert_false(tm_sigv4_service_is_s3("sts"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_header_mode),
        cmocka_unit_test(test_suite_query_mode),
        cmocka_unit_test(test_suite_tampered_refused),
        cmocka_unit_test(test_signing_key),
        cmocka_unit_test(test_s3_get_object),
        cmocka_unit_test(test_s3_presigned),
        cmocka_unit_test(test_s3_path_kept),
        cmocka_unit_test(test_session_token_header_mode),
        cmocka_unit_test(test_double_encoded_path_and_query),
        cmocka_unit_test(test_verify_accepts_and_routes),
        cmocka_unit_test(test_verify_rejects_tampering),
        cmocka_unit_test(test_verify_rejects_wrong_secret),
        cmocka_unit_test(test_verify_unknown_key_and_missing),
        cmocka_unit_test(test_verify_content_sha256),
        cmocka_unit_test(test_verify_malformed),
        cmocka_unit_test(test_verify_malformed_presigned),
        cmocka_unit_test(test_sign_rejects_bad_input),
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
