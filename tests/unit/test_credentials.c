/* The AWS credential chain: resolution from injected environments and files, the provider's fetches
 * through a fake transport (STS, container, IMDS), refresh, and the wire parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "core/str.h"
#include "providers/auth/credentials.h"
#include "providers/aws/request.h"
#include "providers/net/http.h"
#include "tests/support/http_server.h"
#include "providers/auth/env.h"
#include "providers/auth/sigv4.h"

#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

/* ------------------------------------------------------------------------------------------------ */
/* A scratch home directory with ~/.aws/config and ~/.aws/credentials */

struct home {
    char dir[64];
    char aws[128];
    char config[160];
    char creds[160];
    char files[8][192]; /* extra files to remove */
    size_t nfiles;
};

static void s_write(const char *path, const char *text) {
    char err[512];
    if (tm_file_write_atomic(path, text, strlen(text), 0600, err, sizeof(err)) != TM_OK)
        fail_msg("%s", err);
}

static struct home *s_home(const char *config, const char *creds) {
    struct home *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    snprintf(h->dir, sizeof(h->dir), "/tmp/tm_cred_XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    char dir[64];
    memcpy(dir, h->dir, sizeof(dir));
    snprintf(h->aws, sizeof(h->aws), "%s/.aws", dir);
    assert_int_equal(mkdir(h->aws, 0700), 0);
    snprintf(h->config, sizeof(h->config), "%s/.aws/config", dir);
    snprintf(h->creds, sizeof(h->creds), "%s/.aws/credentials", dir);
    if (config)
        s_write(h->config, config);
    if (creds)
        s_write(h->creds, creds);
    return h;
}

static const char *s_home_file(struct home *h, const char *name, const char *text) {
    assert_true(h->nfiles < 8);
    char dir[64];
    memcpy(dir, h->dir, sizeof(dir));
    char *p = h->files[h->nfiles++];
    snprintf(p, 192, "%s/%s", dir, name);
    s_write(p, text);
    return p;
}

static void s_home_free(struct home *h) {
    unlink(h->config);
    unlink(h->creds);
    for (size_t i = 0; i < h->nfiles; i++)
        unlink(h->files[i]);
    rmdir(h->aws);
    rmdir(h->dir);
    free(h);
}

struct resolved {
    int rc;
    char err[1024];
    struct tm_aws_cred_plan plan;
};

static void s_resolve(struct resolved *r, struct home *h, const char *const *env_pairs, const char *profile,
                      const char *region) {
    struct tm_env env;
    tm_env_init_list(&env, env_pairs, h ? h->dir : NULL);
    struct tm_aws_cred_options opts = {.env = &env, .profile = profile, .region = region};
    memset(r, 0, sizeof(*r));
    r->rc = tm_aws_cred_plan_resolve(&r->plan, &opts, r->err, sizeof(r->err));
}

static void s_expect_ok(struct resolved *r) {
    if (r->rc != TM_OK)
        fail_msg("resolve failed (%d): %s", r->rc, r->err);
}

static void s_expect_error(struct resolved *r, int rc, const char *fragment) {
    if (r->rc != rc || !strstr(r->err, fragment))
        fail_msg("want error %d containing '%s', got %d: '%s'", rc, fragment, r->rc, r->err);
    /* Nothing to free on error. */
    assert_null(r->plan.source);
    assert_null(r->plan.base);
}

/* ------------------------------------------------------------------------------------------------ */
/* Resolution: environment and shared files */

static void test_environment_keys(void **state) {
    (void)state;
    const char *env[] = {"AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret", "AWS_SESSION_TOKEN=envtoken",
                         "AWS_CREDENTIAL_EXPIRATION=2023-11-15T00:00:00Z", NULL};
    struct resolved r;
    s_resolve(&r, NULL, env, NULL, NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_STATIC);
    assert_string_equal(r.plan.source, "environment");
    assert_string_equal(r.plan.base->access_key_id, "AKIAENV");
    assert_string_equal(r.plan.base->secret_access_key, "envsecret");
    assert_string_equal(r.plan.base->session_token, "envtoken");
    assert_int_equal(r.plan.base->expiration, 1700006400);
    assert_string_equal(r.plan.profile, "default");
    assert_null(r.plan.region);
    assert_int_equal(r.plan.hop_count, 0);
    assert_null(r.plan.sts_endpoint);
    tm_aws_cred_plan_clean_up(&r.plan);

    const char *partial[] = {"AWS_ACCESS_KEY_ID=AKIAENV", NULL};
    s_resolve(&r, NULL, partial, NULL, NULL);
    s_expect_error(&r, TM_ERR_INVALID, "missing: AWS_SECRET_ACCESS_KEY");
    const char *badexp[] = {"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=s", "AWS_CREDENTIAL_EXPIRATION=tomorrow",
                            NULL};
    s_resolve(&r, NULL, badexp, NULL, NULL);
    s_expect_error(&r, TM_ERR_INVALID, "AWS_CREDENTIAL_EXPIRATION");
    /* Empty variables count as unset. */
    const char *empty[] = {"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_EC2_METADATA_DISABLED=true", NULL};
    s_resolve(&r, NULL, empty, NULL, NULL);
    s_expect_error(&r, TM_ERR_AUTH, "Unable to locate credentials");
}

static const char s_files_creds[] = "[default]\n"
                                    "aws_access_key_id = AKIADEFAULT\n"
                                    "aws_secret_access_key = defaultsecret\n"
                                    "\n"
                                    "[dev]\n"
                                    "aws_access_key_id = AKIADEV\n"
                                    "aws_secret_access_key = devsecret\n"
                                    "aws_session_token = devtoken\n";

static const char s_files_config[] = "[default]\n"
                                     "region = eu-west-1\n"
                                     "[profile dev]\n"
                                     "region = eu-central-1\n"
                                     "aws_access_key_id = AKIAIGNORED\n"
                                     "aws_secret_access_key = ignored\n"
                                     "[profile cfgonly]\n"
                                     "aws_access_key_id = AKIACFG\n"
                                     "aws_secret_access_key = cfgsecret\n"
                                     "region = ap-south-1\n"
                                     "[notaprofile]\n"
                                     "aws_access_key_id = AKIANOT\n"
                                     "aws_secret_access_key = notsecret\n";

static void test_shared_files(void **state) {
    (void)state;
    struct home *h = s_home(s_files_config, s_files_creds);
    const char *env[] = {"AWS_EC2_METADATA_DISABLED=true", NULL};
    struct resolved r;
    s_resolve(&r, h, env, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-credentials-file (profile default)");
    assert_string_equal(r.plan.base->access_key_id, "AKIADEFAULT");
    assert_null(r.plan.base->session_token);
    assert_string_equal(r.plan.region, "eu-west-1");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* The credentials file wins over keys in the config file. */
    s_resolve(&r, h, env, "dev", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-credentials-file (profile dev)");
    assert_string_equal(r.plan.base->access_key_id, "AKIADEV");
    assert_string_equal(r.plan.base->session_token, "devtoken");
    assert_string_equal(r.plan.region, "eu-central-1");
    assert_string_equal(r.plan.profile, "dev");
    tm_aws_cred_plan_clean_up(&r.plan);

    s_resolve(&r, h, env, "cfgonly", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-config-file (profile cfgonly)");
    assert_string_equal(r.plan.base->access_key_id, "AKIACFG");
    assert_string_equal(r.plan.region, "ap-south-1");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* In the config file a profile needs the "profile " prefix: [notaprofile] is not one. */
    s_resolve(&r, h, env, "notaprofile", NULL);
    s_expect_error(&r, TM_ERR_NOT_FOUND, "The config profile (notaprofile) could not be found");
    const char *envp[] = {"AWS_PROFILE=nope", NULL};
    s_resolve(&r, h, envp, NULL, NULL);
    s_expect_error(&r, TM_ERR_NOT_FOUND, "The config profile (nope) could not be found");

    /* AWS_PROFILE names the profile. */
    const char *env_dev[] = {"AWS_PROFILE=dev", "AWS_EC2_METADATA_DISABLED=true", NULL};
    s_resolve(&r, h, env_dev, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-credentials-file (profile dev)");
    tm_aws_cred_plan_clean_up(&r.plan);
    s_home_free(h);
}

static void test_profile_and_environment_precedence(void **state) {
    (void)state;
    struct home *h = s_home(s_files_config, s_files_creds);
    const char *env[] = {"AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret", "AWS_PROFILE=dev", NULL};
    struct resolved r;
    /* --profile: the environment's keys are not used. */
    s_resolve(&r, h, env, "cfgonly", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-config-file (profile cfgonly)");
    tm_aws_cred_plan_clean_up(&r.plan);
    /* AWS_PROFILE alone does not hide the environment's keys: the AWS CLI uses them too. */
    s_resolve(&r, h, env, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "environment");
    assert_string_equal(r.plan.profile, "dev");
    assert_string_equal(r.plan.region, "eu-central-1");
    tm_aws_cred_plan_clean_up(&r.plan);
    s_home_free(h);
}

static void test_region_precedence(void **state) {
    (void)state;
    struct home *h = s_home(s_files_config, s_files_creds);
    const char *both[] = {"AWS_REGION=us-west-2", "AWS_DEFAULT_REGION=us-west-1", NULL};
    const char *def[] = {"AWS_DEFAULT_REGION=us-west-1", NULL};
    const char *none[] = {NULL};
    struct tm_env env;
    char *region = NULL;
    char err[256];
    tm_env_init_list(&env, both, h->dir);
    struct tm_aws_cred_options opts = {.env = &env, .region = "sa-east-1"};
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_string_equal(region, "sa-east-1");
    free(region);
    opts.region = NULL;
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_string_equal(region, "us-west-2");
    free(region);
    tm_env_init_list(&env, def, h->dir);
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_string_equal(region, "us-west-1");
    free(region);
    tm_env_init_list(&env, none, h->dir);
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_string_equal(region, "eu-west-1");
    free(region);
    opts.profile = "dev";
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_string_equal(region, "eu-central-1");
    free(region);
    s_home_free(h);
    /* No files, no variables: no region. */
    tm_env_init_list(&env, none, NULL);
    opts.profile = NULL;
    assert_int_equal(tm_aws_resolve_region(&region, &opts, err, sizeof(err)), TM_OK);
    assert_null(region);
}

static void test_file_overrides_and_parse_errors(void **state) {
    (void)state;
    struct home *h = s_home(NULL, NULL);
    const char *alt_creds = s_home_file(h, "alt-creds",
                                        "[default]\naws_access_key_id = AKIAALT\n"
                                        "aws_secret_access_key = altsecret\n");
    const char *bad_config = s_home_file(h, "bad-config", "[default]\nregion = eu-west-1\nregion = eu-west-2\n");
    char v1[256], v2[256];
    snprintf(v1, sizeof(v1), "AWS_SHARED_CREDENTIALS_FILE=%s", alt_creds);
    snprintf(v2, sizeof(v2), "AWS_CONFIG_FILE=%s", bad_config);
    const char *env[] = {v1, NULL};
    struct resolved r;
    s_resolve(&r, h, env, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.base->access_key_id, "AKIAALT");
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *env2[] = {v1, v2, NULL};
    s_resolve(&r, h, env2, NULL, NULL);
    char want[400];
    snprintf(want, sizeof(want), "%s:3: option 'region' already set in [default] on line 2", bad_config);
    s_expect_error(&r, TM_ERR_PARSE, want);
    /* "~" in the variables means the home directory. */
    s_home_file(h, "tilde-creds", "[default]\naws_access_key_id = AKIATILDE\naws_secret_access_key = t\n");
    const char *env3[] = {"AWS_SHARED_CREDENTIALS_FILE=~/tilde-creds", NULL};
    s_resolve(&r, h, env3, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.base->access_key_id, "AKIATILDE");
    tm_aws_cred_plan_clean_up(&r.plan);
    /* A half key pair in a file names the file and the section's line, never the value. */
    s_write(h->creds, "[default]\n\n[x]\naws_secret_access_key = verysecretvalue\n");
    s_resolve(&r, h, NULL, "x", NULL);
    snprintf(want, sizeof(want), "%s:3: profile x has aws_secret_access_key but no aws_access_key_id", h->creds);
    s_expect_error(&r, TM_ERR_INVALID, want);
    assert_null(strstr(r.err, "verysecretvalue"));
    s_home_free(h);
}

/* ------------------------------------------------------------------------------------------------ */
/* Resolution: roles */

static const char s_roles_config[] = "[profile base]\n"
                                     "region = eu-west-1\n"
                                     "[profile admin]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/admin\n"
                                     "source_profile = base\n"
                                     "external_id = ext-42\n"
                                     "role_session_name = alice\n"
                                     "duration_seconds = 3600\n"
                                     "region = us-east-2\n"
                                     "[profile deep]\n"
                                     "role_arn = arn:aws:iam::444455556666:role/deep\n"
                                     "source_profile = admin\n"
                                     "[profile loop1]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/l1\n"
                                     "source_profile = loop2\n"
                                     "[profile loop2]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/l2\n"
                                     "source_profile = loop1\n"
                                     "[profile selfstatic]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/self\n"
                                     "source_profile = selfstatic\n"
                                     "aws_access_key_id = AKIASELF\n"
                                     "aws_secret_access_key = selfsecret\n"
                                     "[profile selfloop]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/self\n"
                                     "source_profile = selfloop\n"
                                     "[profile both]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/both\n"
                                     "source_profile = base\n"
                                     "credential_source = Environment\n"
                                     "[profile neither]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/neither\n"
                                     "[profile ghost]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/ghost\n"
                                     "source_profile = nowhere\n"
                                     "[profile empty]\n"
                                     "region = eu-west-3\n"
                                     "[profile fromempty]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/x\n"
                                     "source_profile = empty\n"
                                     "[profile fromenv]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/env\n"
                                     "credential_source = Environment\n"
                                     "[profile fromimds]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/imds\n"
                                     "credential_source = Ec2InstanceMetadata\n"
                                     "[profile fromecs]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/ecs\n"
                                     "credential_source = EcsContainer\n"
                                     "[profile frombogus]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/bogus\n"
                                     "credential_source = Lambda\n"
                                     "[profile baddur]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/x\n"
                                     "source_profile = base\n"
                                     "duration_seconds = 1h\n"
                                     "[profile sso]\n"
                                     "sso_session = corp\n"
                                     "sso_account_id = 111122223333\n"
                                     "[profile proc]\n"
                                     "credential_process = /usr/bin/get-creds\n"
                                     "[profile fromwi]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/fromwi\n"
                                     "source_profile = wi\n"
                                     "[profile wi]\n"
                                     "role_arn = arn:aws:iam::111122223333:role/wi\n"
                                     "web_identity_token_file = ~/token\n"
                                     "role_session_name = wi-session\n";

static const char s_roles_creds[] = "[base]\n"
                                    "aws_access_key_id = AKIABASE\n"
                                    "aws_secret_access_key = basesecret\n";

static void test_assume_role_source_profile(void **state) {
    (void)state;
    struct home *h = s_home(s_roles_config, s_roles_creds);
    struct resolved r;
    s_resolve(&r, h, NULL, "admin", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "assume-role (profile admin via source_profile base)");
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_STATIC);
    assert_string_equal(r.plan.base->access_key_id, "AKIABASE");
    assert_string_equal(r.plan.base->source, "shared-credentials-file (profile base)");
    assert_int_equal(r.plan.hop_count, 1);
    assert_string_equal(r.plan.hops[0].profile, "admin");
    assert_string_equal(r.plan.hops[0].role_arn, "arn:aws:iam::111122223333:role/admin");
    assert_string_equal(r.plan.hops[0].external_id, "ext-42");
    assert_string_equal(r.plan.hops[0].session_name, "alice");
    assert_int_equal(r.plan.hops[0].duration_s, 3600);
    /* STS is called in the profile's region. */
    assert_string_equal(r.plan.region, "us-east-2");
    assert_string_equal(r.plan.sts_region, "us-east-2");
    assert_string_equal(r.plan.sts_endpoint, "https://sts.us-east-2.amazonaws.com");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* Chains: deep -> admin -> base, roles assumed innermost first. */
    const char *ep[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:4566/", NULL};
    s_resolve(&r, h, ep, "deep", "eu-north-1");
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "assume-role (profile deep via source_profile admin via source_profile base)");
    assert_int_equal(r.plan.hop_count, 2);
    assert_string_equal(r.plan.hops[0].profile, "admin");
    assert_string_equal(r.plan.hops[1].profile, "deep");
    assert_null(r.plan.hops[1].external_id);
    assert_null(r.plan.hops[1].session_name);
    assert_int_equal(r.plan.hops[1].duration_s, 0);
    assert_string_equal(r.plan.sts_region, "eu-north-1");
    assert_string_equal(r.plan.sts_endpoint, "http://127.0.0.1:4566");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* AWS_ENDPOINT_URL_STS wins over AWS_ENDPOINT_URL; without a region, us-east-1. */
    s_write(h->config, "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n");
    const char *ep2[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_ENDPOINT_URL_STS=http://127.0.0.1:2", NULL};
    s_resolve(&r, h, ep2, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.sts_endpoint, "http://127.0.0.1:2");
    assert_string_equal(r.plan.sts_region, "us-east-1");
    assert_null(r.plan.region);
    assert_string_equal(r.plan.source, "assume-role (profile default via source_profile base)");
    tm_aws_cred_plan_clean_up(&r.plan);
    s_home_free(h);
}

static void test_assume_role_errors(void **state) {
    (void)state;
    struct home *h = s_home(s_roles_config, s_roles_creds);
    struct resolved r;
    char want[400];
    s_resolve(&r, h, NULL, "loop1", NULL);
    snprintf(want, sizeof(want), "%s:18: Infinite loop in profile configuration: loop1 -> loop2 -> loop1", h->config);
    s_expect_error(&r, TM_ERR_INVALID, want);
    s_resolve(&r, h, NULL, "selfloop", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "Infinite loop in profile configuration: selfloop -> selfloop");
    s_resolve(&r, h, NULL, "both", NULL);
    snprintf(want, sizeof(want), "%s:28: The profile \"both\" contains both source_profile and credential_source.",
             h->config);
    s_expect_error(&r, TM_ERR_INVALID, want);
    s_resolve(&r, h, NULL, "neither", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "profile neither has role_arn but neither source_profile nor credential_source");
    s_resolve(&r, h, NULL, "ghost", NULL);
    s_expect_error(&r, TM_ERR_INVALID,
                   "The source_profile \"nowhere\" referenced in the profile \"ghost\" does not exist.");
    s_resolve(&r, h, NULL, "fromempty", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "The source profile \"empty\" must have credentials.");
    s_resolve(&r, h, NULL, "frombogus", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "The credential source \"Lambda\" referenced in profile \"frombogus\"");
    s_resolve(&r, h, NULL, "fromecs", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "No credentials found in credential_source referenced in profile fromecs");
    s_resolve(&r, h, NULL, "fromenv", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "No credentials found in credential_source referenced in profile fromenv");
    const char *noimds[] = {"AWS_EC2_METADATA_DISABLED=TRUE", NULL};
    s_resolve(&r, h, noimds, "fromimds", NULL);
    s_expect_error(&r, TM_ERR_INVALID, "AWS_EC2_METADATA_DISABLED");
    s_resolve(&r, h, NULL, "baddur", NULL);
    snprintf(want, sizeof(want), "%s:56: duration_seconds must be a number of seconds from 900 to 43200", h->config);
    s_expect_error(&r, TM_ERR_INVALID, want);
    s_resolve(&r, h, NULL, "sso", NULL);
    s_expect_error(&r, TM_ERR_UNSUPPORTED, "profile sso uses sso_session");
    s_resolve(&r, h, NULL, "proc", NULL);
    s_expect_error(&r, TM_ERR_UNSUPPORTED, "profile proc uses credential_process");
    s_home_free(h);
}

static void test_assume_role_self_and_credential_source(void **state) {
    (void)state;
    struct home *h = s_home(s_roles_config, s_roles_creds);
    struct resolved r;
    /* A profile may take static keys from its own section to assume its role. */
    s_resolve(&r, h, NULL, "selfstatic", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "assume-role (profile selfstatic via source_profile selfstatic)");
    assert_string_equal(r.plan.base->access_key_id, "AKIASELF");
    assert_string_equal(r.plan.base->source, "shared-config-file (profile selfstatic)");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* credential_source reads the environment even with --profile. */
    const char *env[] = {"AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret",
                         "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc", NULL};
    s_resolve(&r, h, env, "fromenv", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "assume-role (profile fromenv via credential_source Environment)");
    assert_string_equal(r.plan.base->access_key_id, "AKIAENV");
    assert_int_equal(r.plan.hop_count, 1);
    tm_aws_cred_plan_clean_up(&r.plan);
    s_resolve(&r, h, env, "fromecs", NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_CONTAINER);
    assert_string_equal(r.plan.container_url, "http://169.254.170.2/v2/credentials/abc");
    assert_string_equal(r.plan.source, "assume-role (profile fromecs via credential_source EcsContainer)");
    tm_aws_cred_plan_clean_up(&r.plan);
    s_resolve(&r, h, env, "fromimds", NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_IMDS);
    assert_string_equal(r.plan.imds_endpoint, "http://169.254.169.254");
    assert_false(r.plan.imds_last_resort);
    assert_string_equal(r.plan.hops[0].role_arn, "arn:aws:iam::111122223333:role/imds");
    tm_aws_cred_plan_clean_up(&r.plan);

    /* A source profile that uses web identity (environment ignored for it). */
    const char *wienv[] = {"AWS_WEB_IDENTITY_TOKEN_FILE=/elsewhere", "AWS_ROLE_ARN=arn:aws:iam::9:role/env", NULL};
    s_resolve(&r, h, wienv, "fromwi", NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_WEB_IDENTITY);
    char tok[200];
    snprintf(tok, sizeof(tok), "%s/token", h->dir);
    assert_string_equal(r.plan.web_identity_token_file, tok);
    assert_string_equal(r.plan.web_identity_role_arn, "arn:aws:iam::111122223333:role/wi");
    assert_string_equal(r.plan.web_identity_session_name, "wi-session");
    assert_string_equal(r.plan.source, "assume-role (profile fromwi via source_profile wi)");
    assert_int_equal(r.plan.hop_count, 1);
    assert_string_equal(r.plan.sts_endpoint, "https://sts.us-east-1.amazonaws.com");
    tm_aws_cred_plan_clean_up(&r.plan);
    s_home_free(h);
}

/* ------------------------------------------------------------------------------------------------ */
/* Resolution: web identity, container, IMDS */

static void test_web_identity_env(void **state) {
    (void)state;
    struct home *h = s_home("[profile p]\nregion = eu-west-1\n", s_files_creds);
    const char *env[] = {"AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/token",
                         "AWS_ROLE_ARN=arn:aws:iam::111122223333:role/ci", "AWS_ROLE_SESSION_NAME=build-7",
                         "AWS_REGION=eu-west-2", NULL};
    struct resolved r;
    /* Web identity comes before the shared credentials file. */
    s_resolve(&r, h, env, NULL, NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_WEB_IDENTITY);
    assert_string_equal(r.plan.source, "web-identity");
    assert_string_equal(r.plan.web_identity_token_file, "/var/run/secrets/token");
    assert_string_equal(r.plan.web_identity_role_arn, "arn:aws:iam::111122223333:role/ci");
    assert_string_equal(r.plan.web_identity_session_name, "build-7");
    assert_string_equal(r.plan.sts_endpoint, "https://sts.eu-west-2.amazonaws.com");
    tm_aws_cred_plan_clean_up(&r.plan);
    /* With --profile the variables are ignored. */
    s_resolve(&r, h, env, "dev", NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.source, "shared-credentials-file (profile dev)");
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *norole[] = {"AWS_WEB_IDENTITY_TOKEN_FILE=/t", NULL};
    s_resolve(&r, h, norole, NULL, NULL);
    s_expect_error(&r, TM_ERR_INVALID, "web identity is configured (AWS_WEB_IDENTITY_TOKEN_FILE) but no role");
    s_home_free(h);
}

static void test_container_and_imds(void **state) {
    (void)state;
    struct resolved r;
    const char *rel[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x",
                         "AWS_CONTAINER_AUTHORIZATION_TOKEN=Bearer abc", NULL};
    s_resolve(&r, NULL, rel, NULL, NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_CONTAINER);
    assert_string_equal(r.plan.source, "container (ECS)");
    assert_string_equal(r.plan.container_url, "http://169.254.170.2/v2/credentials/x");
    assert_string_equal(r.plan.container_token, "Bearer abc");
    assert_null(r.plan.container_token_file);
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *full[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9911/creds",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN=tok",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/var/run/token", NULL};
    s_resolve(&r, NULL, full, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.container_url, "http://127.0.0.1:9911/creds");
    assert_string_equal(r.plan.container_token_file, "/var/run/token");
    assert_null(r.plan.container_token);
    tm_aws_cred_plan_clean_up(&r.plan);
    static const char *const refused[] = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://evil.example.com/creds",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.2.evil.com/",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://localhost.evil.com/",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI=file:///etc/passwd",
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *e[] = {refused[i], NULL};
        s_resolve(&r, NULL, e, NULL, NULL);
        s_expect_error(&r, TM_ERR_INVALID, "AWS_CONTAINER_CREDENTIALS_FULL_URI must be");
    }
    const char *ok[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=https://creds.example.com/x", NULL};
    s_resolve(&r, NULL, ok, NULL, NULL);
    s_expect_ok(&r);
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *crlf[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/x", "AWS_CONTAINER_AUTHORIZATION_TOKEN=a\r\nX: y",
                          NULL};
    s_resolve(&r, NULL, crlf, NULL, NULL);
    s_expect_error(&r, TM_ERR_INVALID, "line break");

    /* Last in the chain: IMDS. */
    const char *nothing[] = {NULL};
    s_resolve(&r, NULL, nothing, NULL, NULL);
    s_expect_ok(&r);
    assert_int_equal(r.plan.kind, TM_AWS_SOURCE_IMDS);
    assert_string_equal(r.plan.source, "instance-metadata (IMDSv2)");
    assert_string_equal(r.plan.imds_endpoint, "http://169.254.169.254");
    assert_true(r.plan.imds_last_resort);
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *ep[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:8111/", NULL};
    s_resolve(&r, NULL, ep, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.imds_endpoint, "http://127.0.0.1:8111");
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *v6[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6", NULL};
    s_resolve(&r, NULL, v6, NULL, NULL);
    s_expect_ok(&r);
    assert_string_equal(r.plan.imds_endpoint, "http://[fd00:ec2::254]");
    tm_aws_cred_plan_clean_up(&r.plan);
    const char *off[] = {"AWS_EC2_METADATA_DISABLED=true", NULL};
    s_resolve(&r, NULL, off, NULL, NULL);
    s_expect_error(&r, TM_ERR_AUTH, "Unable to locate credentials");
}

static void test_endpoint_url(void **state) {
    (void)state;
    struct tm_env env;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    const char *e1[] = {"AWS_ENDPOINT_URL_API_GATEWAY=http://127.0.0.1:7/", "AWS_ENDPOINT_URL=http://127.0.0.1:1",
                        NULL};
    tm_env_init_list(&env, e1, NULL);
    assert_int_equal(tm_aws_endpoint_url(&b, &env, "API Gateway", "apigateway", "eu-west-1"), TM_OK);
    assert_string_equal(tm_buf_str(&b), "http://127.0.0.1:7");
    tm_buf_reset(&b);
    assert_int_equal(tm_aws_endpoint_url(&b, &env, "sts", "sts", "eu-west-1"), TM_OK);
    assert_string_equal(tm_buf_str(&b), "http://127.0.0.1:1");
    tm_buf_reset(&b);
    const char *e2[] = {"AWS_ENDPOINT_URL=http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", NULL};
    tm_env_init_list(&env, e2, NULL);
    assert_int_equal(tm_aws_endpoint_url(&b, &env, "STS", "sts", "cn-north-1"), TM_OK);
    assert_string_equal(tm_buf_str(&b), "https://sts.cn-north-1.amazonaws.com.cn");
    tm_buf_reset(&b);
    assert_int_equal(tm_aws_endpoint_url(&b, &env, "STS", "sts", NULL), TM_ERR_INVALID);
    tm_buf_clean_up(&b);
}

/* ------------------------------------------------------------------------------------------------ */
/* The provider, through a fake transport */

#define FAKE_MAX 8

struct fake_request {
    char *method, *url, *service;
    char *body;
    size_t body_len;
    char *names[12], *values[12];
    size_t header_count;
    long timeout_ms;
    unsigned max_attempts;
    tm_aws_cred_http_done_fn done;
    void *user_data;
};

struct fake_transport {
    struct tm_aws_cred_transport base; /* first: the provider sees only this */
    int sends;
    int fail_next_send;
    struct fake_request q[FAKE_MAX];
    size_t count;
};

static int s_fake_send(struct tm_aws_cred_transport *t, const struct tm_aws_cred_http_request *req,
                       tm_aws_cred_http_done_fn done, void *user_data) {
    struct fake_transport *f = (struct fake_transport *)t;
    f->sends++;
    if (f->fail_next_send) {
        int rc = f->fail_next_send;
        f->fail_next_send = 0;
        return rc;
    }
    assert_true(f->count < FAKE_MAX);
    struct fake_request *r = &f->q[f->count++];
    memset(r, 0, sizeof(*r));
    r->method = strdup(req->method);
    r->url = strdup(req->url);
    r->service = strdup(req->service);
    r->body = malloc(req->body_len + 1);
    assert_non_null(r->body);
    if (req->body_len)
        memcpy(r->body, req->body, req->body_len);
    r->body[req->body_len] = '\0';
    r->body_len = req->body_len;
    assert_true(req->header_count <= 12);
    for (size_t i = 0; i < req->header_count; i++) {
        r->names[i] = strdup(req->headers[i].name);
        r->values[i] = strdup(req->headers[i].value);
    }
    r->header_count = req->header_count;
    r->timeout_ms = req->timeout_ms;
    r->max_attempts = req->max_attempts;
    r->done = done;
    r->user_data = user_data;
    return TM_OK;
}

static void s_fake_init(struct fake_transport *f) {
    memset(f, 0, sizeof(*f));
    f->base.send = s_fake_send;
}

static const char *s_fake_header(const struct fake_request *r, const char *name) {
    for (size_t i = 0; i < r->header_count; i++)
        if (tm_str_ieq(r->names[i], name))
            return r->values[i];
    return NULL;
}

static void s_fake_free_request(struct fake_request *r) {
    free(r->method);
    free(r->url);
    free(r->service);
    free(r->body);
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
}

/* Answers the oldest outstanding request. */
static void s_fake_answer(struct fake_transport *f, int err, long status, const char *body) {
    assert_true(f->count > 0);
    struct fake_request r = f->q[0];
    memmove(&f->q[0], &f->q[1], (f->count - 1) * sizeof(f->q[0]));
    f->count--;
    struct tm_aws_cred_http_response resp = {err, status, body ? body : "", body ? strlen(body) : 0,
                                             err ? "connection refused" : ""};
    r.done(&resp, r.user_data);
    s_fake_free_request(&r);
}

struct got {
    int calls;
    int err;
    char akid[64], secret[128], token[512], source[256], errmsg[512];
    int64_t expiration;
};

static void s_got(int err, const struct tm_aws_credentials *c, const char *errmsg, void *user_data) {
    struct got *g = user_data;
    g->calls++;
    g->err = err;
    if (c) {
        assert_int_equal(err, TM_OK);
        snprintf(g->akid, sizeof(g->akid), "%s", c->access_key_id);
        snprintf(g->secret, sizeof(g->secret), "%s", c->secret_access_key);
        snprintf(g->token, sizeof(g->token), "%s", c->session_token ? c->session_token : "");
        snprintf(g->source, sizeof(g->source), "%s", c->source ? c->source : "");
        g->expiration = c->expiration;
    } else {
        assert_true(err < 0);
        assert_non_null(errmsg);
        snprintf(g->errmsg, sizeof(g->errmsg), "%s", errmsg);
    }
}

static char *s_sts_answer(const char *action, const char *akid, const char *secret, const char *token,
                          const char *expiration) {
    char *x = NULL;
    int n = asprintf(&x,
                     "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                     "  <%sResult>\n"
                     "    <Credentials>\n"
                     "      <AccessKeyId>%s</AccessKeyId>\n"
                     "      <SecretAccessKey>%s</SecretAccessKey>\n"
                     "      <SessionToken>%s</SessionToken>\n"
                     "      <Expiration>%s</Expiration>\n"
                     "    </Credentials>\n"
                     "    <AssumedRoleUser>\n"
                     "      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:s</AssumedRoleId>\n"
                     "      <Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn>\n"
                     "    </AssumedRoleUser>\n"
                     "  </%sResult>\n"
                     "  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
                     "</ResponseMetadata>\n"
                     "</%sResponse>\n",
                     action, action, akid, secret, token, expiration, action, action);
    assert_true(n > 0);
    return x;
}

static const char s_sts_denied[] =
    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
    "  <Error>\n"
    "    <Type>Sender</Type>\n"
    "    <Code>AccessDenied</Code>\n"
    "    <Message>User: arn:aws:iam::111122223333:user/base is not authorized to perform: sts:AssumeRole on "
    "resource: arn:aws:iam::111122223333:role/admin</Message>\n"
    "  </Error>\n"
    "  <RequestId>4c2b8a5e-0000-4000-8000-000000000000</RequestId>\n"
    "</ErrorResponse>\n";

struct keyring {
    const char *akid, *secret, *token;
};

static int s_lookup(struct tm_buf *secret, struct tm_buf *token, const struct tm_sigv4_scope *scope, void *user_data) {
    const struct keyring *k = user_data;
    if (strcmp(scope->access_key_id, k->akid) != 0)
        return TM_ERR_NOT_FOUND;
    int rc = tm_buf_append_str(secret, k->secret);
    if (!rc && k->token)
        rc = tm_buf_append_str(token, k->token);
    return rc;
}

/* Checks that a request the provider sent carries a valid SigV4 signature by `k`, for STS in `region`. */
static void s_expect_signed(const struct fake_request *r, const struct keyring *k, const char *region) {
    const char *path = strstr(r->url, "://");
    assert_non_null(path);
    path = strchr(path + 3, '/');
    assert_non_null(path);
    struct tm_sigv4_header h[12];
    for (size_t i = 0; i < r->header_count; i++)
        h[i] = (struct tm_sigv4_header){r->names[i], r->values[i]};
    struct tm_sigv4_request req = {r->method, path, NULL, h, r->header_count, r->body, r->body_len};
    struct tm_sigv4_verify_options opts = {.now = NOW, .check_time = true};
    struct tm_sigv4_verify_result res;
    int rc = tm_sigv4_verify(&res, &req, &opts, s_lookup, (void *)k);
    if (rc != TM_OK)
        fail_msg("signature refused: %s: %s", tm_sigv4_verdict_code(res.verdict), res.message);
    assert_string_equal(res.scope.service, "sts");
    assert_string_equal(res.scope.region, region);
    tm_sigv4_verify_result_clean_up(&res);
}

static void s_provider(struct tm_aws_credentials_provider **p, struct resolved *r, struct fake_transport *f) {
    s_expect_ok(r);
    assert_int_equal(tm_aws_credentials_provider_new(p, &r->plan, &f->base, NULL), TM_OK);
    tm_aws_cred_plan_clean_up(&r->plan);
}

static void test_provider_static(void **state) {
    (void)state;
    const char *env[] = {"AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret", NULL};
    struct resolved r;
    s_resolve(&r, NULL, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);
    assert_null(tm_aws_credentials_provider_peek(p, NOW));
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.akid, "AKIAENV");
    assert_string_equal(g.source, "environment");
    assert_int_equal(f.sends, 0);
    const struct tm_aws_credentials *c = tm_aws_credentials_provider_peek(p, NOW + 86400 * 365);
    assert_non_null(c);
    assert_int_equal(c->expiration, 0);
    tm_aws_credentials_provider_destroy(p);
    tm_aws_credentials_provider_destroy(NULL);

    /* Environment credentials past their AWS_CREDENTIAL_EXPIRATION are refused. */
    const char *old[] = {"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=s",
                         "AWS_CREDENTIAL_EXPIRATION=2020-01-01T00:00:00Z", NULL};
    s_resolve(&r, NULL, old, NULL, NULL);
    s_provider(&p, &r, &f);
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    assert_int_equal(g.err, TM_ERR_AUTH);
    assert_string_equal(g.errmsg, "the credentials from environment expired at 20200101T000000Z");
    tm_aws_credentials_provider_destroy(p);
}

static void test_provider_assume_role_chain_and_refresh(void **state) {
    (void)state;
    struct home *h = s_home(s_roles_config, s_roles_creds);
    const char *env[] = {"AWS_ENDPOINT_URL_STS=http://127.0.0.1:4566", NULL};
    struct resolved r;
    s_resolve(&r, h, env, "deep", NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);

    /* Two callers, one fetch. */
    struct got g1 = {0}, g2 = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g1), TM_OK);
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g2), TM_OK);
    assert_int_equal(f.sends, 1);
    assert_int_equal(g1.calls + g2.calls, 0);

    /* Hop 1: admin, signed with base's keys, in admin's region (the plan's region: us-east-2). */
    struct fake_request *q = &f.q[0];
    assert_string_equal(q->method, "POST");
    assert_string_equal(q->url, "http://127.0.0.1:4566/");
    assert_string_equal(q->service, "sts");
    assert_string_equal(s_fake_header(q, "Host"), "127.0.0.1:4566");
    assert_string_equal(s_fake_header(q, "Content-Type"), "application/x-www-form-urlencoded; charset=utf-8");
    assert_string_equal(q->body, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333"
                                 "%3Arole%2Fadmin&RoleSessionName=alice&ExternalId=ext-42&DurationSeconds=3600");
    struct keyring base = {"AKIABASE", "basesecret", NULL};
    s_expect_signed(q, &base, "us-east-1");
    char *a1 = s_sts_answer("AssumeRole", "ASIAADMIN", "adminsecret", "admintoken", "2023-11-14T23:13:20Z");
    s_fake_answer(&f, TM_OK, 200, a1);
    free(a1);

    /* Hop 2: deep, signed with admin's temporary credentials and token. */
    assert_int_equal(f.count, 1);
    q = &f.q[0];
    assert_non_null(strstr(q->body, "RoleArn=arn%3Aaws%3Aiam%3A%3A444455556666%3Arole%2Fdeep"));
    assert_non_null(strstr(q->body, "RoleSessionName=tmscan-1700000000"));
    assert_null(strstr(q->body, "ExternalId"));
    assert_string_equal(s_fake_header(q, "X-Amz-Security-Token"), "admintoken");
    struct keyring admin = {"ASIAADMIN", "adminsecret", "admintoken"};
    s_expect_signed(q, &admin, "us-east-1");
    char *a2 = s_sts_answer("AssumeRole", "ASIADEEP", "deepsecret", "deeptoken", "2023-11-14T23:13:20Z");
    s_fake_answer(&f, TM_OK, 200, a2);
    free(a2);

    assert_int_equal(g1.calls, 1);
    assert_int_equal(g2.calls, 1);
    assert_string_equal(g1.akid, "ASIADEEP");
    assert_string_equal(g2.token, "deeptoken");
    assert_string_equal(g1.source, "assume-role (profile deep via source_profile admin via source_profile base)");
    assert_int_equal(g1.expiration, NOW + 3600);

    /* Cached while fresh; refreshed within five minutes of expiry. */
    struct got g3 = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 3000, s_got, &g3), TM_OK);
    assert_int_equal(g3.calls, 1);
    assert_int_equal(f.sends, 2);
    assert_null(tm_aws_credentials_provider_peek(p, NOW + 3300));
    struct got g4 = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 3301, s_got, &g4), TM_OK);
    assert_int_equal(g4.calls, 0);
    assert_int_equal(f.sends, 3);
    /* The refresh fails at the first hop; the old credentials still work, so they are delivered. */
    s_fake_answer(&f, TM_OK, 403, s_sts_denied);
    assert_int_equal(g4.calls, 1);
    assert_int_equal(g4.err, TM_OK);
    assert_string_equal(g4.akid, "ASIADEEP");
    /* Once they have expired, the failure is reported as it is. */
    struct got g5 = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 3600, s_got, &g5), TM_OK);
    s_fake_answer(&f, TM_OK, 403, s_sts_denied);
    assert_int_equal(g5.err, TM_ERR_SERVICE);
    assert_non_null(strstr(g5.errmsg, "STS AssumeRole for arn:aws:iam::111122223333:role/admin (profile admin) at "
                                      "http://127.0.0.1:4566 failed (HTTP 403): AccessDenied: User: "));
    assert_null(strstr(g5.errmsg, "basesecret"));
    assert_int_equal(f.count, 0);
    tm_aws_credentials_provider_destroy(p);
    s_home_free(h);
}

static void test_provider_web_identity(void **state) {
    (void)state;
    struct home *h = s_home(NULL, NULL);
    const char *tokfile = s_home_file(h, "token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\n");
    char v1[256];
    snprintf(v1, sizeof(v1), "AWS_WEB_IDENTITY_TOKEN_FILE=%s", tokfile);
    const char *env[] = {v1, "AWS_ROLE_ARN=arn:aws:iam::111122223333:role/ci", "AWS_REGION=eu-west-1", NULL};
    struct resolved r;
    s_resolve(&r, h, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    assert_int_equal(f.count, 1);
    struct fake_request *q = &f.q[0];
    assert_string_equal(q->url, "https://sts.eu-west-1.amazonaws.com/");
    assert_string_equal(q->body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
                                 "111122223333%3Arole%2Fci&RoleSessionName=tmscan-1700000000&WebIdentityToken="
                                 "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln");
    /* Not signed. */
    assert_null(s_fake_header(q, "Authorization"));
    char *a = s_sts_answer("AssumeRoleWithWebIdentity", "ASIAWI", "wisecret", "witoken", "2023-11-15T00:13:20.000Z");
    s_fake_answer(&f, TM_OK, 200, a);
    free(a);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.akid, "ASIAWI");
    assert_string_equal(g.source, "web-identity");
    assert_int_equal(g.expiration, NOW + 7200);
    tm_aws_credentials_provider_destroy(p);

    /* A missing token file fails before anything is sent. */
    const char *env2[] = {"AWS_WEB_IDENTITY_TOKEN_FILE=/nonexistent/token", "AWS_ROLE_ARN=arn:aws:iam::1:role/ci",
                          NULL};
    s_resolve(&r, h, env2, NULL, NULL);
    s_provider(&p, &r, &f);
    memset(&g, 0, sizeof(g));
    int sends = f.sends;
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.err, TM_ERR_NOT_FOUND);
    assert_non_null(strstr(g.errmsg, "cannot read the web identity token file: /nonexistent/token"));
    assert_int_equal(f.sends, sends);
    tm_aws_credentials_provider_destroy(p);
    s_home_free(h);
}

static void test_provider_container(void **state) {
    (void)state;
    struct home *h = s_home(NULL, NULL);
    const char *tokfile = s_home_file(h, "ecs-token", "Bearer from-file\n");
    char v1[256];
    snprintf(v1, sizeof(v1), "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=%s", tokfile);
    const char *env[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9911/creds", v1, NULL};
    struct resolved r;
    s_resolve(&r, h, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    struct fake_request *q = &f.q[0];
    assert_string_equal(q->method, "GET");
    assert_string_equal(q->url, "http://127.0.0.1:9911/creds");
    assert_string_equal(q->service, "ecs");
    assert_string_equal(s_fake_header(q, "Authorization"), "Bearer from-file");
    assert_int_equal(q->timeout_ms, 2000);
    s_fake_answer(&f, TM_OK, 200,
                  "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"ecssecret\",\"Token\":\"ecstoken\","
                  "\"Expiration\":\"2023-11-15T04:13:20Z\",\"RoleArn\":\"arn:aws:iam::111122223333:role/task\"}");
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.akid, "ASIAECS");
    assert_string_equal(g.token, "ecstoken");
    assert_string_equal(g.source, "container (ECS)");
    assert_int_equal(g.expiration, NOW + 6 * 3600);
    /* Refresh: the endpoint refuses the token. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_OK, 401, "{\"message\":\"invalid token\"}");
    assert_int_equal(g.err, TM_ERR_AUTH);
    assert_string_equal(g.errmsg, "the container credentials endpoint http://127.0.0.1:9911/creds answered HTTP "
                                  "401: {\"message\":\"invalid token\"}");
    /* And then cannot be reached. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_ERR_NETWORK, 0, NULL);
    assert_int_equal(g.err, TM_ERR_NETWORK);
    assert_non_null(strstr(g.errmsg, "connection refused"));
    tm_aws_credentials_provider_destroy(p);
    s_home_free(h);
}

static const char s_imds_creds[] = "{\n"
                                   "  \"Code\" : \"Success\",\n"
                                   "  \"LastUpdated\" : \"2023-11-14T22:00:00Z\",\n"
                                   "  \"Type\" : \"AWS-HMAC\",\n"
                                   "  \"AccessKeyId\" : \"ASIAIMDS\",\n"
                                   "  \"SecretAccessKey\" : \"imdssecret\",\n"
                                   "  \"Token\" : \"imdstoken\",\n"
                                   "  \"Expiration\" : \"2023-11-15T04:13:20Z\"\n"
                                   "}";

static void test_provider_imds(void **state) {
    (void)state;
    const char *env[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:8111", NULL};
    struct resolved r;
    s_resolve(&r, NULL, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    struct fake_request *q = &f.q[0];
    assert_string_equal(q->method, "PUT");
    assert_string_equal(q->url, "http://127.0.0.1:8111/latest/api/token");
    assert_string_equal(s_fake_header(q, "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
    assert_string_equal(q->service, "imds");
    s_fake_answer(&f, TM_OK, 200, "AQAEAImdsTokenValue==");
    q = &f.q[0];
    assert_string_equal(q->method, "GET");
    assert_string_equal(q->url, "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/");
    assert_string_equal(s_fake_header(q, "X-aws-ec2-metadata-token"), "AQAEAImdsTokenValue==");
    s_fake_answer(&f, TM_OK, 200, "web-server-role\n");
    q = &f.q[0];
    assert_string_equal(q->url, "http://127.0.0.1:8111/latest/meta-data/iam/security-credentials/web-server-role");
    assert_string_equal(s_fake_header(q, "X-aws-ec2-metadata-token"), "AQAEAImdsTokenValue==");
    s_fake_answer(&f, TM_OK, 200, s_imds_creds);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.akid, "ASIAIMDS");
    assert_string_equal(g.source, "instance-metadata (IMDSv2)");

    /* Refresh on an instance whose role was detached. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_OK, 200, "tok");
    s_fake_answer(&f, TM_OK, 404, "");
    assert_int_equal(g.err, TM_ERR_AUTH);
    assert_string_equal(g.errmsg, "instance metadata at http://127.0.0.1:8111: no IAM role is attached to this "
                                  "instance");
    /* IMDSv1-only instance: the token PUT is refused. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_OK, 403, "");
    assert_int_equal(g.err, TM_ERR_AUTH);
    assert_non_null(strstr(g.errmsg, "PUT /latest/api/token) answered HTTP 403"));
    /* A role answer that fails. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_OK, 200, "tok");
    s_fake_answer(&f, TM_OK, 200, "role");
    s_fake_answer(&f, TM_OK, 200, "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"denied\"}");
    assert_int_equal(g.err, TM_ERR_SERVICE);
    assert_non_null(strstr(g.errmsg, "role role: credentials answer says AssumeRoleUnauthorizedAccess: denied"));
    /* Off EC2, the last source of the chain cannot be reached: no credentials. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_ERR_TIMEOUT, 0, NULL);
    assert_int_equal(g.err, TM_ERR_AUTH);
    assert_string_equal(g.errmsg, "Unable to locate credentials: none in the environment, the shared files or a "
                                  "container, and instance metadata at http://127.0.0.1:8111: timed out: connection "
                                  "refused");
    /* The transport refuses to send. */
    memset(&g, 0, sizeof(g));
    f.fail_next_send = TM_ERR_NOMEM;
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 6 * 3600, s_got, &g), TM_OK);
    assert_int_equal(g.err, TM_ERR_NOMEM);
    assert_int_equal(f.count, 0);
    tm_aws_credentials_provider_destroy(p);
}

static void test_provider_destroy_in_flight(void **state) {
    (void)state;
    const char *env[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:8111", NULL};
    struct resolved r;
    s_resolve(&r, NULL, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct tm_aws_credentials_provider *p;
    s_provider(&p, &r, &f);
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_got, &g), TM_OK);
    tm_aws_credentials_provider_destroy(p);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.err, TM_ERR_CANCELLED);
    /* The transport still completes the request; the provider is freed then (ASan checks the rest). */
    s_fake_answer(&f, TM_OK, 200, "tok");
    assert_int_equal(f.count, 0);
    assert_int_equal(g.calls, 1);
}

struct destroying {
    struct tm_aws_credentials_provider *p;
    int calls;
};

static void s_destroy_cb(int err, const struct tm_aws_credentials *c, const char *errmsg, void *user_data) {
    (void)err;
    (void)c;
    (void)errmsg;
    struct destroying *d = user_data;
    d->calls++;
    tm_aws_credentials_provider_destroy(d->p);
}

static void test_provider_destroy_from_callback(void **state) {
    (void)state;
    const char *env[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/creds", NULL};
    struct resolved r;
    s_resolve(&r, NULL, env, NULL, NULL);
    struct fake_transport f;
    s_fake_init(&f);
    struct destroying d = {0};
    s_provider(&d.p, &r, &f);
    struct got g = {0};
    assert_int_equal(tm_aws_credentials_provider_get(d.p, NOW, s_destroy_cb, &d), TM_OK);
    assert_int_equal(tm_aws_credentials_provider_get(d.p, NOW, s_got, &g), TM_OK);
    s_fake_answer(&f, TM_OK, 200, "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}");
    assert_int_equal(d.calls, 1);
    /* The second waiter had already been handed the credentials in the same round. */
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.err, TM_OK);
}

/* ------------------------------------------------------------------------------------------------ */
/* Wire parsers */

static void test_sts_parser(void **state) {
    (void)state;
    struct tm_aws_credentials *c = NULL;
    char err[512];
    char *good = s_sts_answer("AssumeRole", "ASIAX", "sec\xc3\xa9ret", "tok", "2023-11-14T23:13:20Z");
    assert_int_equal(tm_aws_sts_parse_credentials(&c, good, strlen(good), "AssumeRoleResult", "src", err, sizeof(err)),
                     TM_OK);
    assert_string_equal(c->secret_access_key, "sec\xc3\xa9ret");
    assert_string_equal(c->source, "src");
    tm_aws_credentials_destroy(c);
    /* The right element for the action only. */
    assert_int_equal(
        tm_aws_sts_parse_credentials(&c, good, strlen(good), "AssumeRoleWithWebIdentityResult", NULL, err, sizeof(err)),
        TM_ERR_PARSE);
    assert_null(c);
    /* Truncated at every length: never accepted, never a crash. */
    for (size_t n = 0; n < strlen(good) - 1; n += 7) {
        if (tm_aws_sts_parse_credentials(&c, good, n, "AssumeRoleResult", NULL, err, sizeof(err)) == TM_OK)
            fail_msg("accepted a truncated answer of %zu bytes", n);
        assert_null(c);
    }
    free(good);
    assert_int_equal(tm_aws_sts_parse_credentials(&c, s_sts_denied, strlen(s_sts_denied), "AssumeRoleResult", NULL, err,
                                                  sizeof(err)),
                     TM_ERR_SERVICE);
    assert_true(tm_str_starts_with(err, "AccessDenied: User: arn:aws:iam::111122223333:user/base"));
    static const char *const bad[] = {
        "not xml at all",
        "",
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
        "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken></Credentials></AssumeRoleResult>"
        "</AssumeRoleResponse>", /* no Expiration */
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId>"
        "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>soon</Expiration>"
        "</Credentials></AssumeRoleResult></AssumeRoleResponse>",
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId><b>A</b></AccessKeyId>"
        "<SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2023-11-14T23:13:20Z"
        "</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>", /* wrong type: element, not text */
        "<Other><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
        "<SessionToken>t</SessionToken><Expiration>2023-11-14T23:13:20Z</Expiration></Credentials>"
        "</AssumeRoleResult></Other>",
        "<!DOCTYPE r [<!ENTITY x \"ASIAX\">]><AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>&x;"
        "</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>"
        "2023-11-14T23:13:20Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tm_aws_sts_parse_credentials(&c, bad[i], strlen(bad[i]), "AssumeRoleResult", NULL, err, sizeof(err)) !=
            TM_ERR_PARSE)
            fail_msg("accepted bad STS answer %zu", i);
        assert_null(c);
    }
    size_t big = 300 * 1024;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, ' ', big);
    assert_int_equal(tm_aws_sts_parse_credentials(&c, huge, big, "AssumeRoleResult", NULL, err, sizeof(err)),
                     TM_ERR_PARSE);
    assert_non_null(strstr(err, "too large"));
    free(huge);

    struct tm_aws_caller_identity id;
    const char *who = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
                      "  <GetCallerIdentityResult>\n"
                      "    <Arn>arn:aws:iam::111122223333:user/alice</Arn>\n"
                      "    <UserId>AIDAEXAMPLEUSERID</UserId>\n"
                      "    <Account>111122223333</Account>\n"
                      "  </GetCallerIdentityResult>\n"
                      "  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>"
                      "</ResponseMetadata>\n"
                      "</GetCallerIdentityResponse>\n";
    assert_int_equal(tm_aws_sts_parse_caller_identity(&id, who, strlen(who), err, sizeof(err)), TM_OK);
    assert_string_equal(id.account, "111122223333");
    assert_string_equal(id.arn, "arn:aws:iam::111122223333:user/alice");
    assert_string_equal(id.user_id, "AIDAEXAMPLEUSERID");
    tm_aws_caller_identity_clean_up(&id);
    assert_int_equal(tm_aws_sts_parse_caller_identity(&id, s_sts_denied, strlen(s_sts_denied), err, sizeof(err)),
                     TM_ERR_SERVICE);
    assert_int_equal(tm_aws_sts_parse_caller_identity(&id, who, 40, err, sizeof(err)), TM_ERR_PARSE);
    assert_null(id.account);
}

static void test_json_parser(void **state) {
    (void)state;
    struct tm_aws_credentials *c = NULL;
    char err[512];
    assert_int_equal(tm_aws_parse_json_credentials(&c, s_imds_creds, strlen(s_imds_creds), "imds", err, sizeof(err)),
                     TM_OK);
    assert_string_equal(c->access_key_id, "ASIAIMDS");
    assert_string_equal(c->session_token, "imdstoken");
    assert_int_equal(c->expiration, NOW + 6 * 3600);
    tm_aws_credentials_destroy(c);
    /* Long-term keys from a container endpoint carry neither token nor expiration. */
    const char *plain = "{\"AccessKeyId\":\"AKIA\\u00e9\",\"SecretAccessKey\":\"s\"}";
    assert_int_equal(tm_aws_parse_json_credentials(&c, plain, strlen(plain), NULL, err, sizeof(err)), TM_OK);
    assert_string_equal(c->access_key_id, "AKIA\xc3\xa9");
    assert_null(c->session_token);
    assert_int_equal(c->expiration, 0);
    tm_aws_credentials_destroy(c);
    static const char *const bad[] = {
        "",
        "[]",
        "{\"AccessKeyId\":\"A\"}",
        "{\"AccessKeyId\":1,\"SecretAccessKey\":\"s\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":7}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"yesterday\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":1700000000}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"",
        "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"s\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tm_aws_parse_json_credentials(&c, bad[i], strlen(bad[i]), NULL, err, sizeof(err)) != TM_ERR_PARSE)
            fail_msg("accepted bad JSON answer %zu: %s", i, bad[i]);
        assert_null(c);
    }
    const char *failed =
        "{\"Code\":\"Failure\",\"Message\":\"no role\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}";
    assert_int_equal(tm_aws_parse_json_credentials(&c, failed, strlen(failed), NULL, err, sizeof(err)), TM_ERR_SERVICE);
    assert_string_equal(err, "credentials answer says Failure: no role");
}

static void test_sts_bodies(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    char arn[] = "arn:aws:iam::1:role/a b+c", ext[] = "x&y=z";
    struct tm_aws_role_hop hop = {.role_arn = arn, .external_id = ext};
    assert_int_equal(tm_aws_sts_assume_role_body(&b, &hop, "sess"), TM_OK);
    assert_string_equal(tm_buf_str(&b), "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole"
                                        "%2Fa%20b%2Bc&RoleSessionName=sess&ExternalId=x%26y%3Dz");
    tm_buf_reset(&b);
    struct tm_aws_role_hop empty = {0};
    assert_int_equal(tm_aws_sts_assume_role_body(&b, &empty, "sess"), TM_ERR_INVALID);
    assert_int_equal(tm_aws_sts_web_identity_body(&b, "arn", "s", ""), TM_ERR_INVALID);
    tm_buf_clean_up(&b);
}

static void test_credentials_struct(void **state) {
    (void)state;
    assert_null(tm_aws_credentials_new(NULL, "s", NULL, 0, NULL));
    struct tm_aws_credentials *c = tm_aws_credentials_new("A", "s", "t", NOW + 600, "x");
    assert_non_null(c);
    assert_true(tm_aws_credentials_fresh(c, NOW));
    assert_true(tm_aws_credentials_fresh(c, NOW + 299));
    assert_false(tm_aws_credentials_fresh(c, NOW + 300));
    assert_false(tm_aws_credentials_fresh(NULL, NOW));
    struct tm_aws_credentials *d = tm_aws_credentials_copy(c);
    assert_string_equal(d->session_token, "t");
    assert_string_equal(d->source, "x");
    tm_aws_credentials_destroy(c);
    tm_aws_credentials_destroy(d);
    assert_null(tm_aws_credentials_copy(NULL));
}

/* ------------------------------------------------------------------------------------------------ */
/* The provider over the HTTP engine and the AWS layer's transport, against a loopback server */

struct sts_server {
    bool refuse;
    int verified;
    int refused;
};

/* Plays STS and IMDS: checks every signed request's SigV4 with the base keys. */
static void s_server_handler(struct tm_test_http_reply *out, const struct tm_test_http_request *req, void *user_data) {
    struct sts_server *srv = user_data;
    static char answer[4096];
    if (strcmp(req->method, "PUT") == 0 && strcmp(req->target, "/latest/api/token") == 0) {
        *out = (struct tm_test_http_reply){.body = "imds-session-token"};
        return;
    }
    if (strcmp(req->target, "/latest/meta-data/iam/security-credentials/") == 0) {
        const char *tok = tm_test_http_request_header(req, "X-aws-ec2-metadata-token");
        *out = tok && strcmp(tok, "imds-session-token") == 0 ? (struct tm_test_http_reply){.body = "instance-role"}
                                                             : (struct tm_test_http_reply){.status = 401};
        return;
    }
    if (strcmp(req->target, "/latest/meta-data/iam/security-credentials/instance-role") == 0) {
        *out = (struct tm_test_http_reply){.body = s_imds_creds};
        return;
    }
    struct tm_sigv4_header h[32];
    size_t n = req->header_count < 32 ? req->header_count : 32;
    for (size_t i = 0; i < n; i++)
        h[i] = (struct tm_sigv4_header){req->header_names[i], req->header_values[i]};
    struct tm_sigv4_request sreq = {req->method, req->target, NULL, h, n, req->body, req->body_len};
    struct keyring k = {"ASIAIMDS", "imdssecret", "imdstoken"};
    struct tm_sigv4_verify_result res;
    int rc = tm_sigv4_verify(&res, &sreq, NULL, s_lookup, &k);
    tm_sigv4_verify_result_clean_up(&res);
    if (srv->refuse || rc != TM_OK || !strstr(req->body, "Action=AssumeRole&")) {
        srv->refused++;
        *out = (struct tm_test_http_reply){.status = 403, .body = s_sts_denied};
        return;
    }
    srv->verified++;
    char *a = s_sts_answer("AssumeRole", "ASIAROLE", "rolesecret", "roletoken", "2023-11-14T23:13:20Z");
    snprintf(answer, sizeof(answer), "%s", a);
    free(a);
    *out = (struct tm_test_http_reply){.body = answer};
}

struct loop_got {
    struct got g;
    bool done;
};

static void s_loop_got(int err, const struct tm_aws_credentials *c, const char *errmsg, void *user_data) {
    struct loop_got *lg = user_data;
    s_got(err, c, errmsg, &lg->g);
    lg->done = true;
}

static void test_provider_over_http_engine(void **state) {
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct sts_server srv_state = {0};
    struct tm_test_http_server *srv;
    assert_int_equal(tm_test_http_server_start(&srv, &loop, s_server_handler, &srv_state), 0);
    struct tm_http_options hopts;
    tm_http_options_init(&hopts);
    hopts.seed = 1;
    struct tm_http_engine *engine;
    char err[256];
    assert_int_equal(tm_http_engine_new(&engine, &loop, &hopts, err, sizeof(err)), TM_OK);
    struct tm_aws_http_transport transport;
    tm_aws_http_transport_init(&transport, engine);

    /* IMDSv2 for the source credentials, then AssumeRole signed with them. */
    struct home *h = s_home("[profile role]\nrole_arn = arn:aws:iam::111122223333:role/r\n"
                            "credential_source = Ec2InstanceMetadata\nregion = eu-west-1\n",
                            NULL);
    char v1[128], v2[128];
    snprintf(v1, sizeof(v1), "AWS_EC2_METADATA_SERVICE_ENDPOINT=%s", tm_test_http_server_url(srv));
    snprintf(v2, sizeof(v2), "AWS_ENDPOINT_URL_STS=%s", tm_test_http_server_url(srv));
    const char *env[] = {v1, v2, NULL};
    struct resolved r;
    s_resolve(&r, h, env, "role", NULL);
    s_expect_ok(&r);
    struct tm_aws_credentials_provider *p;
    assert_int_equal(tm_aws_credentials_provider_new(&p, &r.plan, &transport.base, NULL), TM_OK);
    tm_aws_cred_plan_clean_up(&r.plan);
    struct loop_got lg = {0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW, s_loop_got, &lg), TM_OK);
    while (!lg.done)
        assert_true(uv_run(&loop, UV_RUN_ONCE) >= 0 || lg.done);
    assert_int_equal(lg.g.err, TM_OK);
    assert_string_equal(lg.g.akid, "ASIAROLE");
    assert_string_equal(lg.g.source, "assume-role (profile role via credential_source Ec2InstanceMetadata)");
    assert_int_equal(srv_state.verified, 1);
    assert_int_equal(tm_test_http_server_requests(srv), 4);
    const struct tm_test_http_request *put = tm_test_http_server_request(srv, 0);
    assert_string_equal(put->method, "PUT");
    assert_string_equal(tm_test_http_request_header(put, "X-aws-ec2-metadata-token-ttl-seconds"), "21600");

    /* An STS refusal (HTTP 403) comes back as STS's answer, not as a transport failure. */
    srv_state.refuse = true;
    lg = (struct loop_got){0};
    assert_int_equal(tm_aws_credentials_provider_get(p, NOW + 3600, s_loop_got, &lg), TM_OK);
    while (!lg.done)
        assert_true(uv_run(&loop, UV_RUN_ONCE) >= 0 || lg.done);
    assert_int_equal(lg.g.err, TM_ERR_SERVICE);
    assert_non_null(strstr(lg.g.errmsg, "failed (HTTP 403): AccessDenied: User: "));
    assert_int_equal(srv_state.refused, 1);
    assert_int_equal(tm_test_http_server_requests(srv), 8);

    tm_aws_credentials_provider_destroy(p);
    tm_http_engine_destroy(engine);
    tm_test_http_server_close(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    s_home_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_environment_keys),
        cmocka_unit_test(test_shared_files),
        cmocka_unit_test(test_profile_and_environment_precedence),
        cmocka_unit_test(test_region_precedence),
        cmocka_unit_test(test_file_overrides_and_parse_errors),
        cmocka_unit_test(test_assume_role_source_profile),
        cmocka_unit_test(test_assume_role_errors),
        cmocka_unit_test(test_assume_role_self_and_credential_source),
        cmocka_unit_test(test_web_identity_env),
        cmocka_unit_test(test_container_and_imds),
        cmocka_unit_test(test_endpoint_url),
        cmocka_unit_test(test_provider_static),
        cmocka_unit_test(test_provider_assume_role_chain_and_refresh),
        cmocka_unit_test(test_provider_web_identity),
        cmocka_unit_test(test_provider_container),
        cmocka_unit_test(test_provider_imds),
        cmocka_unit_test(test_provider_destroy_in_flight),
        cmocka_unit_test(test_provider_destroy_from_callback),
        cmocka_unit_test(test_sts_parser),
        cmocka_unit_test(test_json_parser),
        cmocka_unit_test(test_sts_bodies),
        cmocka_unit_test(test_credentials_struct),
        cmocka_unit_test(test_provider_over_http_engine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
