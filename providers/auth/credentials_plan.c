/* The credential chain, resolved from the environment and the shared files alone. It follows botocore
 * (the AWS CLI) case by case: which variables count when a profile is named, how the two files merge,
 * how source_profile chains end and which loops are refused. */
#include "providers/auth/credentials.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "providers/auth/ini.h"

#define S_MAX_HOPS 16
#define S_ECS_HOST "http://169.254.170.2"
#define S_IMDS_ENDPOINT "http://169.254.169.254"
#define S_IMDS_ENDPOINT_V6 "http://[fd00:ec2::254]"

struct s_ctx {
    const struct tm_aws_cred_options *opts;
    const struct tm_env *env;
    struct tm_ini config, creds;
    const char *profile;
    bool explicit_profile; /* --profile: environment keys and web identity variables are ignored */
    bool named_profile;    /* --profile or AWS_PROFILE: the profile must exist */
    char *errmsg;
    size_t errmsg_len;
    const char *visited[S_MAX_HOPS + 1];
    size_t visited_count;
    struct tm_buf via; /* " via source_profile b via credential_source Environment" */
};

static int s_fail(struct s_ctx *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_fail(struct s_ctx *c, int rc, const char *fmt, ...) {
    if (c->errmsg && c->errmsg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errmsg, c->errmsg_len, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* --------------------------------------------------------------------------------------------------- */
/* Profiles across the two files */

static const struct tm_ini_section *s_config_section(const struct s_ctx *c, const char *profile) {
    char name[512];
    snprintf(name, sizeof(name), "profile %s", profile);
    const struct tm_ini_section *s = tm_ini_find(&c->config, name);
    if (!s && strcmp(profile, "default") == 0)
        s = tm_ini_find(&c->config, "default");
    if (!s) {
        /* botocore splits the header on whitespace: "[profile   name]" is profile "name" too. */
        for (size_t i = 0; i < c->config.count; i++) {
            const char *n = c->config.sections[i].name;
            if (strncmp(n, "profile", 7) != 0 || (n[7] != ' ' && n[7] != '\t'))
                continue;
            n += 7;
            while (*n == ' ' || *n == '\t')
                n++;
            if (strcmp(n, profile) == 0)
                return &c->config.sections[i];
        }
    }
    return s;
}

static const struct tm_ini_section *s_creds_section(const struct s_ctx *c, const char *profile) {
    return tm_ini_find(&c->creds, profile);
}

static bool s_exists(const struct s_ctx *c, const char *profile) {
    return s_config_section(c, profile) || s_creds_section(c, profile);
}

/* A profile setting: the credentials file overrides the config file, as botocore merges them. */
static const struct tm_ini_entry *s_entry(const struct s_ctx *c, const char *profile, const char *key,
                                          const char **file) {
    const struct tm_ini_entry *e = tm_ini_entry(s_creds_section(c, profile), key);
    if (e) {
        if (file)
            *file = c->creds.path;
        return e;
    }
    e = tm_ini_entry(s_config_section(c, profile), key);
    if (e && file)
        *file = c->config.path;
    return e;
}

static const char *s_get(const struct s_ctx *c, const char *profile, const char *key) {
    const struct tm_ini_entry *e = s_entry(c, profile, key, NULL);
    return e && e->value[0] ? e->value : NULL;
}

/* "file:line" of a setting, for messages. */
static const char *s_where(const struct s_ctx *c, const char *profile, const char *key, char *buf, size_t len) {
    const char *file = NULL;
    const struct tm_ini_entry *e = s_entry(c, profile, key, &file);
    if (e)
        snprintf(buf, len, "%s:%u", file, e->line);
    else
        snprintf(buf, len, "profile %s", profile);
    return buf;
}

static bool s_has_static(const struct s_ctx *c, const char *profile) {
    return s_entry(c, profile, "aws_access_key_id", NULL) || s_entry(c, profile, "aws_secret_access_key", NULL);
}

static bool s_has_assume_role(const struct s_ctx *c, const char *profile) {
    return s_entry(c, profile, "role_arn", NULL) && !s_entry(c, profile, "web_identity_token_file", NULL);
}

static int s_load_file(struct s_ctx *c, struct tm_ini *ini, const char *var, const char *default_path) {
    struct tm_buf path;
    tm_buf_init(&path, 0);
    const char *p = tm_env_get(c->env, var);
    int rc = tm_env_expand_home(&path, c->env, p ? p : default_path);
    if (rc == TM_ERR_NOT_FOUND) {
        /* No home directory and no override: there are no shared files to read. */
        tm_buf_clean_up(&path);
        return tm_ini_parse(ini, default_path, "", 0, NULL, 0);
    }
    if (!rc) {
        rc = tm_ini_load(ini, path.data, c->errmsg, c->errmsg_len);
        if (rc == TM_ERR_NOT_FOUND)
            rc = tm_ini_parse(ini, path.data, "", 0, NULL, 0);
    }
    tm_buf_clean_up(&path);
    return rc;
}

static int s_ctx_init(struct s_ctx *c, const struct tm_aws_cred_options *opts, char *errmsg, size_t errmsg_len) {
    memset(c, 0, sizeof(*c));
    c->opts = opts;
    c->env = opts->env;
    c->errmsg = errmsg;
    c->errmsg_len = errmsg_len;
    tm_buf_init(&c->via, 0);
    if (errmsg && errmsg_len)
        errmsg[0] = '\0';
    c->profile = opts->profile;
    c->explicit_profile = c->profile != NULL;
    if (!c->profile)
        c->profile = tm_env_get(c->env, "AWS_PROFILE");
    if (!c->profile)
        c->profile = tm_env_get(c->env, "AWS_DEFAULT_PROFILE");
    c->named_profile = c->profile != NULL;
    if (!c->profile)
        c->profile = "default";
    if (!*c->profile || strlen(c->profile) > 256)
        return s_fail(c, TM_ERR_INVALID, "invalid profile name '%.64s'", c->profile);
    int rc = s_load_file(c, &c->creds, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
    if (!rc)
        rc = s_load_file(c, &c->config, "AWS_CONFIG_FILE", "~/.aws/config");
    if (rc)
        return rc;
    if (c->named_profile && !s_exists(c, c->profile) && strcmp(c->profile, "default") != 0)
        return s_fail(c, TM_ERR_NOT_FOUND, "The config profile (%s) could not be found in %s or %s", c->profile,
                      c->config.path, c->creds.path);
    return TM_OK;
}

static void s_ctx_clean_up(struct s_ctx *c) {
    tm_ini_clean_up(&c->config);
    tm_ini_clean_up(&c->creds);
    tm_buf_clean_up(&c->via);
}

/* --------------------------------------------------------------------------------------------------- */
/* Region and endpoints */

static const char *s_region(const struct s_ctx *c) {
    const char *r = c->opts->region;
    if (!r || !*r)
        r = tm_env_get(c->env, "AWS_REGION");
    if (!r)
        r = tm_env_get(c->env, "AWS_DEFAULT_REGION");
    if (!r)
        r = s_get(c, c->profile, "region");
    return r;
}

int tm_aws_resolve_region(char **out, const struct tm_aws_cred_options *opts, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    struct s_ctx c;
    int rc = s_ctx_init(&c, opts, errmsg, errmsg_len);
    if (!rc) {
        const char *r = s_region(&c);
        if (r && !(*out = tm_strdup(r)))
            rc = TM_ERR_NOMEM;
    }
    s_ctx_clean_up(&c);
    return rc;
}

int tm_aws_endpoint_url(struct tm_buf *out, const struct tm_env *env, const char *service_id, const char *host_prefix,
                        const char *region) {
    const char *url = NULL;
    if (!tm_env_true(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
        char var[128];
        int n = snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", service_id);
        if (n < 0 || (size_t)n >= sizeof(var))
            return TM_ERR_INVALID;
        for (char *v = var + 17; *v; v++) {
            if (*v >= 'a' && *v <= 'z')
                *v = (char)(*v - ('a' - 'A'));
            else if (*v == ' ' || *v == '-')
                *v = '_';
        }
        url = tm_env_get(env, var);
        if (!url)
            url = tm_env_get(env, "AWS_ENDPOINT_URL");
    }
    int rc;
    if (url) {
        size_t n = strlen(url);
        while (n > 0 && url[n - 1] == '/')
            n--;
        rc = tm_buf_append(out, url, n);
    } else {
        if (!region || !*region)
            return TM_ERR_INVALID;
        rc = tm_buf_appendf(out, "https://%s.%s.amazonaws.com%s", host_prefix, region,
                            tm_str_starts_with(region, "cn-") ? ".cn" : "");
    }
    return rc;
}

/* --------------------------------------------------------------------------------------------------- */
/* Sources */

static int s_set(char **dst, const char *src) {
    if (!src)
        return TM_OK;
    *dst = tm_strdup(src);
    return *dst ? TM_OK : TM_ERR_NOMEM;
}

/* AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN, AWS_CREDENTIAL_EXPIRATION). Returns
 * TM_ERR_NOT_FOUND when neither key is set. */
static int s_env_keys(struct s_ctx *c, struct tm_aws_cred_plan *plan) {
    const char *ak = tm_env_get(c->env, "AWS_ACCESS_KEY_ID");
    const char *sk = tm_env_get(c->env, "AWS_SECRET_ACCESS_KEY");
    if (!ak && !sk)
        return TM_ERR_NOT_FOUND;
    if (!ak || !sk)
        return s_fail(c, TM_ERR_INVALID, "Partial credentials found in the environment, missing: %s",
                      ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    const char *token = tm_env_get(c->env, "AWS_SESSION_TOKEN");
    if (!token)
        token = tm_env_get(c->env, "AWS_SECURITY_TOKEN");
    int64_t expiration = 0;
    const char *exp = tm_env_get(c->env, "AWS_CREDENTIAL_EXPIRATION");
    if (exp && tm_sigv4_parse_time(&expiration, exp) != TM_OK)
        return s_fail(c, TM_ERR_INVALID, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time: '%.64s'", exp);
    plan->kind = TM_AWS_SOURCE_STATIC;
    plan->base = tm_aws_credentials_new(ak, sk, token, expiration, "environment");
    return plan->base ? TM_OK : TM_ERR_NOMEM;
}

/* Keys of a profile in one file. Returns TM_ERR_NOT_FOUND when the section has neither key. */
static int s_file_keys(struct s_ctx *c, struct tm_aws_cred_plan *plan, const struct tm_ini *file,
                       const struct tm_ini_section *section, const char *profile, const char *kind) {
    const char *ak = tm_ini_get(section, "aws_access_key_id");
    const char *sk = tm_ini_get(section, "aws_secret_access_key");
    if (ak && !*ak)
        ak = NULL;
    if (sk && !*sk)
        sk = NULL;
    if (!ak && !sk)
        return TM_ERR_NOT_FOUND;
    if (!ak || !sk)
        return s_fail(c, TM_ERR_INVALID, "%s:%u: profile %s has %s but no %s", file->path, section->line, profile,
                      ak ? "aws_access_key_id" : "aws_secret_access_key",
                      ak ? "aws_secret_access_key" : "aws_access_key_id");
    const char *token = tm_ini_get(section, "aws_session_token");
    if (!token || !*token)
        token = tm_ini_get(section, "aws_security_token");
    if (token && !*token)
        token = NULL;
    char source[600];
    snprintf(source, sizeof(source), "%s (profile %s)", kind, profile);
    plan->kind = TM_AWS_SOURCE_STATIC;
    plan->base = tm_aws_credentials_new(ak, sk, token, 0, source);
    return plan->base ? TM_OK : TM_ERR_NOMEM;
}

/* Web identity from the profile, and from the environment unless a profile was named with --profile. */
static int s_web_identity(struct s_ctx *c, struct tm_aws_cred_plan *plan, const char *profile, bool use_env) {
    const char *file = use_env ? tm_env_get(c->env, "AWS_WEB_IDENTITY_TOKEN_FILE") : NULL;
    bool from_env = file != NULL;
    if (!file)
        file = s_get(c, profile, "web_identity_token_file");
    if (!file)
        return TM_ERR_NOT_FOUND;
    const char *role = use_env ? tm_env_get(c->env, "AWS_ROLE_ARN") : NULL;
    if (!role)
        role = s_get(c, profile, "role_arn");
    if (!role)
        return s_fail(c, TM_ERR_INVALID,
                      "web identity is configured (%s) but no role: set AWS_ROLE_ARN or role_arn in profile %s",
                      from_env ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "web_identity_token_file", profile);
    const char *session = use_env ? tm_env_get(c->env, "AWS_ROLE_SESSION_NAME") : NULL;
    if (!session)
        session = s_get(c, profile, "role_session_name");
    struct tm_buf path;
    tm_buf_init(&path, 0);
    int rc = tm_env_expand_home(&path, c->env, file);
    if (rc == TM_ERR_NOT_FOUND)
        rc = s_fail(c, TM_ERR_INVALID, "web identity token file '%s' needs a home directory, and none is known", file);
    plan->kind = TM_AWS_SOURCE_WEB_IDENTITY;
    if (!rc && !(plan->web_identity_token_file = tm_buf_detach(&path)))
        rc = TM_ERR_NOMEM;
    if (!rc)
        rc = s_set(&plan->web_identity_role_arn, role);
    if (!rc)
        rc = s_set(&plan->web_identity_session_name, session);
    tm_buf_clean_up(&path);
    return rc;
}

/* An http:// container endpoint must stay on the machine or on the ECS/EKS agent's addresses. */
static bool s_container_url_allowed(const char *url) {
    if (tm_str_starts_with(url, "https://"))
        return true;
    if (!tm_str_starts_with(url, "http://"))
        return false;
    const char *host = url + 7;
    static const char *const allowed[] = {"127.",          "localhost",      "[::1]",
                                          "169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"};
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        size_t n = strlen(allowed[i]);
        if (strncmp(host, allowed[i], n) != 0)
            continue;
        if (allowed[i][n - 1] == '.')
            return true;
        char next = host[n];
        if (next == '\0' || next == ':' || next == '/')
            return true;
    }
    return false;
}

static int s_container(struct s_ctx *c, struct tm_aws_cred_plan *plan) {
    const char *rel = tm_env_get(c->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = tm_env_get(c->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (!rel && !full)
        return TM_ERR_NOT_FOUND;
    int rc = TM_OK;
    plan->kind = TM_AWS_SOURCE_CONTAINER;
    if (rel) {
        size_t n = strlen(S_ECS_HOST) + strlen(rel) + 2;
        plan->container_url = malloc(n);
        if (!plan->container_url)
            return TM_ERR_NOMEM;
        snprintf(plan->container_url, n, "%s%s%s", S_ECS_HOST, rel[0] == '/' ? "" : "/", rel);
    } else {
        if (!s_container_url_allowed(full))
            return s_fail(c, TM_ERR_INVALID,
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https:// or http:// to a loopback address or "
                          "the container agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)");
        rc = s_set(&plan->container_url, full);
    }
    const char *file = tm_env_get(c->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token = tm_env_get(c->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (!rc && file) {
        rc = s_set(&plan->container_token_file, file);
    } else if (!rc && token) {
        if (strpbrk(token, "\r\n"))
            return s_fail(c, TM_ERR_INVALID, "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a line break");
        rc = s_set(&plan->container_token, token);
    }
    return rc;
}

static int s_imds(struct s_ctx *c, struct tm_aws_cred_plan *plan, bool required) {
    if (tm_env_true(c->env, "AWS_EC2_METADATA_DISABLED"))
        return required ? s_fail(c, TM_ERR_INVALID,
                                 "profile %s asks for Ec2InstanceMetadata credentials, but AWS_EC2_METADATA_DISABLED "
                                 "is true",
                                 c->profile)
                        : TM_ERR_NOT_FOUND;
    const char *ep = tm_env_get(c->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!ep)
        ep = s_get(c, c->profile, "ec2_metadata_service_endpoint");
    if (!ep) {
        const char *mode = tm_env_get(c->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        if (!mode)
            mode = s_get(c, c->profile, "ec2_metadata_service_endpoint_mode");
        ep = mode && tm_str_ieq(mode, "IPv6") ? S_IMDS_ENDPOINT_V6 : S_IMDS_ENDPOINT;
    }
    if (!tm_str_starts_with(ep, "http://") && !tm_str_starts_with(ep, "https://"))
        return s_fail(c, TM_ERR_INVALID, "the instance metadata endpoint must be an http:// or https:// URL: '%.128s'",
                      ep);
    size_t n = strlen(ep);
    while (n > 0 && ep[n - 1] == '/')
        n--;
    plan->kind = TM_AWS_SOURCE_IMDS;
    plan->imds_endpoint = tm_strndup(ep, n);
    return plan->imds_endpoint ? TM_OK : TM_ERR_NOMEM;
}

/* IAM Identity Center and credential_process are valid configurations the CLI would use; silently
 * falling through to another source would scan with an identity the user did not pick. */
static int s_unsupported(struct s_ctx *c, const char *profile, const char *key) {
    char where[600];
    return s_fail(c, TM_ERR_UNSUPPORTED,
                  "%s: profile %s uses %s, which tmscan does not run; export the credentials it yields "
                  "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) instead",
                  s_where(c, profile, key, where, sizeof(where)), profile, key);
}

/* The providers that read a single profile, in botocore's order (web identity, SSO, credentials file,
 * credential_process, config file). TM_ERR_NOT_FOUND when none applies. */
static int s_profile_sources(struct s_ctx *c, struct tm_aws_cred_plan *plan, const char *profile, bool use_env) {
    int rc = s_web_identity(c, plan, profile, use_env);
    if (rc != TM_ERR_NOT_FOUND)
        return rc;
    if (s_get(c, profile, "sso_start_url") || s_get(c, profile, "sso_session"))
        return s_unsupported(c, profile, s_get(c, profile, "sso_session") ? "sso_session" : "sso_start_url");
    rc = s_file_keys(c, plan, &c->creds, s_creds_section(c, profile), profile, "shared-credentials-file");
    if (rc != TM_ERR_NOT_FOUND)
        return rc;
    if (s_get(c, profile, "credential_process"))
        return s_unsupported(c, profile, "credential_process");
    return s_file_keys(c, plan, &c->config, s_config_section(c, profile), profile, "shared-config-file");
}

static int s_add_hop(struct s_ctx *c, struct tm_aws_cred_plan *plan, const char *profile) {
    if (plan->hop_count >= S_MAX_HOPS)
        return s_fail(c, TM_ERR_INVALID, "more than %d roles chained from profile %s", S_MAX_HOPS, c->profile);
    struct tm_aws_role_hop *hops = realloc(plan->hops, (plan->hop_count + 1) * sizeof(*hops));
    if (!hops)
        return TM_ERR_NOMEM;
    plan->hops = hops;
    struct tm_aws_role_hop *h = &hops[plan->hop_count++];
    memset(h, 0, sizeof(*h));
    const char *dur = s_get(c, profile, "duration_seconds");
    if (dur) {
        char *end = NULL;
        long v = strtol(dur, &end, 10);
        char where[600];
        if (!end || *end || v < 900 || v > 43200)
            return s_fail(c, TM_ERR_INVALID, "%s: duration_seconds must be a number of seconds from 900 to 43200",
                          s_where(c, profile, "duration_seconds", where, sizeof(where)));
        h->duration_s = (uint32_t)v;
    }
    int rc = s_set(&h->profile, profile);
    if (!rc)
        rc = s_set(&h->role_arn, s_get(c, profile, "role_arn"));
    if (!rc)
        rc = s_set(&h->external_id, s_get(c, profile, "external_id"));
    if (!rc)
        rc = s_set(&h->session_name, s_get(c, profile, "role_session_name"));
    return rc;
}

static bool s_visited(const struct s_ctx *c, const char *profile) {
    for (size_t i = 0; i < c->visited_count; i++)
        if (strcmp(c->visited[i], profile) == 0)
            return true;
    return false;
}

/* The AssumeRole chain of `profile` (which has role_arn): its source first, then its hop. */
static int s_assume_role(struct s_ctx *c, struct tm_aws_cred_plan *plan, const char *profile) {
    const char *source_profile = s_get(c, profile, "source_profile");
    const char *credential_source = s_get(c, profile, "credential_source");
    char where[600];
    s_where(c, profile, "role_arn", where, sizeof(where));
    if (!s_get(c, profile, "role_arn"))
        return s_fail(c, TM_ERR_INVALID, "%s: role_arn is empty in profile %s", where, profile);
    if (source_profile && credential_source)
        return s_fail(c, TM_ERR_INVALID, "%s: The profile \"%s\" contains both source_profile and credential_source.",
                      where, profile);
    if (!source_profile && !credential_source)
        return s_fail(c, TM_ERR_INVALID, "%s: profile %s has role_arn but neither source_profile nor credential_source",
                      where, profile);
    int rc;
    if (credential_source) {
        rc = tm_buf_appendf(&c->via, " via credential_source %s", credential_source);
        if (rc)
            return rc;
        if (strcmp(credential_source, "Environment") == 0) {
            rc = s_env_keys(c, plan);
            if (rc == TM_ERR_NOT_FOUND)
                rc = s_fail(c, TM_ERR_INVALID,
                            "No credentials found in credential_source referenced in profile %s: "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
                            profile);
        } else if (strcmp(credential_source, "Ec2InstanceMetadata") == 0) {
            rc = s_imds(c, plan, true);
        } else if (strcmp(credential_source, "EcsContainer") == 0) {
            rc = s_container(c, plan);
            if (rc == TM_ERR_NOT_FOUND)
                rc = s_fail(c, TM_ERR_INVALID,
                            "No credentials found in credential_source referenced in profile %s: "
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set",
                            profile);
        } else {
            rc = s_fail(c, TM_ERR_INVALID,
                        "%s: The credential source \"%s\" referenced in profile \"%s\" is not valid "
                        "(Environment, Ec2InstanceMetadata or EcsContainer)",
                        s_where(c, profile, "credential_source", where, sizeof(where)), credential_source, profile);
        }
        return rc ? rc : s_add_hop(c, plan, profile);
    }

    s_where(c, profile, "source_profile", where, sizeof(where));
    if (!s_exists(c, source_profile))
        return s_fail(c, TM_ERR_INVALID,
                      "%s: The source_profile \"%s\" referenced in the profile \"%s\" does not exist.", where,
                      source_profile, profile);
    /* A profile may name itself to take static keys from its own section; any other revisit loops. */
    if (s_visited(c, source_profile) && (strcmp(source_profile, profile) != 0 || !s_has_static(c, source_profile))) {
        struct tm_buf chain;
        tm_buf_init(&chain, 4096);
        for (size_t i = 0; i < c->visited_count; i++)
            if (tm_buf_appendf(&chain, "%s -> ", c->visited[i]))
                break;
        rc = s_fail(c, TM_ERR_INVALID, "%s: Infinite loop in profile configuration: %s%s", where, tm_buf_str(&chain),
                    source_profile);
        tm_buf_clean_up(&chain);
        return rc;
    }
    if (c->visited_count >= S_MAX_HOPS)
        return s_fail(c, TM_ERR_INVALID, "more than %d roles chained from profile %s", S_MAX_HOPS, c->profile);
    c->visited[c->visited_count++] = source_profile;
    rc = tm_buf_appendf(&c->via, " via source_profile %s", source_profile);
    if (rc)
        return rc;
    if (s_has_static(c, source_profile) || !s_has_assume_role(c, source_profile)) {
        rc = s_profile_sources(c, plan, source_profile, false);
        if (rc == TM_ERR_NOT_FOUND)
            rc = s_fail(c, TM_ERR_INVALID, "%s: The source profile \"%s\" must have credentials.", where,
                        source_profile);
    } else {
        rc = s_assume_role(c, plan, source_profile);
    }
    return rc ? rc : s_add_hop(c, plan, profile);
}

static int s_chain(struct s_ctx *c, struct tm_aws_cred_plan *plan) {
    int rc;
    if (!c->explicit_profile) {
        rc = s_env_keys(c, plan);
        if (rc != TM_ERR_NOT_FOUND)
            return rc;
    }
    if (s_has_assume_role(c, c->profile)) {
        c->visited[c->visited_count++] = c->profile;
        rc = s_assume_role(c, plan, c->profile);
        if (rc)
            return rc;
        char source[1024];
        snprintf(source, sizeof(source), "assume-role (profile %s%s)", c->profile, tm_buf_str(&c->via));
        return s_set(&plan->source, source);
    }
    rc = s_profile_sources(c, plan, c->profile, !c->explicit_profile);
    if (rc != TM_ERR_NOT_FOUND)
        return rc;
    rc = s_container(c, plan);
    if (rc != TM_ERR_NOT_FOUND)
        return rc;
    rc = s_imds(c, plan, false);
    if (rc != TM_ERR_NOT_FOUND) {
        plan->imds_last_resort = !rc;
        return rc;
    }
    return s_fail(c, TM_ERR_AUTH,
                  "Unable to locate credentials: none in the environment, in %s or %s (profile %s), no container "
                  "credentials, and instance metadata is disabled",
                  c->creds.path, c->config.path, c->profile);
}

static const char *s_kind_source(const struct tm_aws_cred_plan *plan) {
    switch (plan->kind) {
        case TM_AWS_SOURCE_STATIC:
            return plan->base && plan->base->source ? plan->base->source : "static";
        case TM_AWS_SOURCE_WEB_IDENTITY:
            return "web-identity";
        case TM_AWS_SOURCE_CONTAINER:
            return "container (ECS)";
        case TM_AWS_SOURCE_IMDS:
            return "instance-metadata (IMDSv2)";
        default:
            return "unknown";
    }
}

void tm_aws_cred_plan_clean_up(struct tm_aws_cred_plan *plan) {
    if (!plan)
        return;
    free(plan->profile);
    free(plan->region);
    tm_aws_credentials_destroy(plan->base);
    free(plan->web_identity_token_file);
    free(plan->web_identity_role_arn);
    free(plan->web_identity_session_name);
    free(plan->container_url);
    tm_secret_free(plan->container_token);
    free(plan->container_token_file);
    free(plan->imds_endpoint);
    for (size_t i = 0; i < plan->hop_count; i++) {
        free(plan->hops[i].profile);
        free(plan->hops[i].role_arn);
        free(plan->hops[i].external_id);
        free(plan->hops[i].session_name);
    }
    free(plan->hops);
    free(plan->sts_endpoint);
    free(plan->sts_region);
    free(plan->source);
    memset(plan, 0, sizeof(*plan));
}

int tm_aws_cred_plan_resolve(struct tm_aws_cred_plan *plan, const struct tm_aws_cred_options *opts, char *errmsg,
                             size_t errmsg_len) {
    memset(plan, 0, sizeof(*plan));
    struct s_ctx c;
    int rc = s_ctx_init(&c, opts, errmsg, errmsg_len);
    if (!rc)
        rc = s_chain(&c, plan);
    if (!rc)
        rc = s_set(&plan->profile, c.profile);
    if (!rc)
        rc = s_set(&plan->region, s_region(&c));
    if (!rc && !plan->source)
        rc = s_set(&plan->source, s_kind_source(plan));
    if (!rc && (plan->kind == TM_AWS_SOURCE_WEB_IDENTITY || plan->hop_count > 0)) {
        /* STS is regional; without a configured region, us-east-1 (the global endpoint's home). */
        const char *sts_region = plan->region ? plan->region : "us-east-1";
        struct tm_buf ep;
        tm_buf_init(&ep, 0);
        rc = tm_aws_endpoint_url(&ep, c.env, "STS", "sts", sts_region);
        if (!rc && !(plan->sts_endpoint = tm_buf_detach(&ep)))
            rc = TM_ERR_NOMEM;
        tm_buf_clean_up(&ep);
        if (!rc)
            rc = s_set(&plan->sts_region, sts_region);
    }
    if (!rc)
        tm_log_debug(opts->log, "credentials: profile %s, source %s%s%s", plan->profile, plan->source,
                     plan->region ? ", region " : "", plan->region ? plan->region : "");
    if (rc) {
        if (rc == TM_ERR_NOMEM && errmsg && errmsg_len && !errmsg[0])
            snprintf(errmsg, errmsg_len, "out of memory resolving credentials");
        tm_aws_cred_plan_clean_up(plan);
    }
    s_ctx_clean_up(&c);
    return rc;
}
