/* tmscan whoami aws: which identity the AWS credential chain resolves to (STS GetCallerIdentity) and where
 * the credentials came from. The first call to make when setting tmscan up for an account. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "cmd/tmscan/cli.h"
#include "core/str.h"
#include "providers/auth/credentials.h"
#include "providers/auth/env.h"
#include "providers/aws/request.h"
#include "providers/net/http.h"

const char tm_cmd_whoami_usage[] =
    "usage: tmscan whoami aws [--profile NAME] [--region REGION]\n"
    "\n"
    "Shows which identity the AWS credentials tmscan would scan with belong to (STS GetCallerIdentity:\n"
    "account, ARN, user id) and where the credentials came from. tmscan looks for credentials as the AWS\n"
    "CLI does: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; not with\n"
    "--profile), a role in the profile (role_arn with source_profile or credential_source), web identity\n"
    "(AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or web_identity_token_file), keys in\n"
    "~/.aws/credentials and ~/.aws/config (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), ECS container\n"
    "credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI), then EC2 instance metadata\n"
    "(IMDSv2; AWS_EC2_METADATA_DISABLED=true turns it off).\n"
    "\n"
    "Options:\n"
    "  --profile NAME   the profile to use (default: AWS_PROFILE, else \"default\")\n"
    "  --region REGION  the region of the STS endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, the\n"
    "                   profile's region, else us-east-1)\n"
    "\n"
    "Endpoints: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else https://sts.REGION.amazonaws.com.\n"
    "AWS_CA_BUNDLE names a file of trusted CA certificates. With --debug the log names the credential\n"
    "source; secrets are never shown.\n"
    "\n"
    "Exit codes: 0 the identity was printed; 2 usage error or unusable credential configuration;\n"
    "3 the credentials could not be fetched, or STS refused them.\n";

struct s_whoami {
    bool done;
    int err;
    char errmsg[1024];
    struct tm_aws_caller_identity id;
};

static void s_on_identity(const struct tm_aws_response *resp, void *user_data) {
    struct s_whoami *w = user_data;
    w->done = true;
    char err[512] = "";
    if (resp->err) {
        w->err = resp->err;
        snprintf(w->errmsg, sizeof(w->errmsg), "STS GetCallerIdentity (%s): %s%s%s", resp->region,
                 resp->code && *resp->code ? resp->code : tm_error_str(resp->err),
                 resp->message && *resp->message ? ": " : "", resp->message ? resp->message : "");
        return;
    }
    w->err = tm_aws_sts_parse_caller_identity(&w->id, resp->body, resp->body_len, err, sizeof(err));
    if (w->err)
        snprintf(w->errmsg, sizeof(w->errmsg), "STS GetCallerIdentity (%s): %s", resp->region, err);
}

/* Takes "--name VALUE" or "--name=VALUE" at argv[*i]; 1 when it matched, -1 when the value is missing. */
static int s_option(const char **value, int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
        return 0;
    const char *v = a[n] == '=' ? a + n + 1 : (*i + 1 < argc ? argv[++*i] : NULL);
    if (!v || !*v)
        return -1;
    *value = v;
    return 1;
}

int tm_cmd_whoami(struct tm_cli *cli, int argc, char **argv) {
    const char *cloud = NULL, *profile = NULL, *region = NULL;
    for (int i = 1; i < argc; i++) {
        int m = s_option(&profile, argc, argv, &i, "--profile");
        if (!m)
            m = s_option(&region, argc, argv, &i, "--region");
        if (m < 0)
            return tm_cli_usage_error(cli, "whoami", "%s needs a value", argv[i]);
        if (m > 0)
            continue;
        if (argv[i][0] == '-')
            return tm_cli_usage_error(cli, "whoami", "unknown option '%s'", argv[i]);
        if (cloud)
            return tm_cli_usage_error(cli, "whoami", "unexpected argument '%s'", argv[i]);
        cloud = argv[i];
    }
    if (!cloud)
        return tm_cli_usage_error(cli, "whoami", "which cloud? (supported: aws)");
    if (strcmp(cloud, "aws") != 0)
        return tm_cli_usage_error(cli, "whoami", "unknown cloud '%s' (supported: aws)", cloud);

    struct tm_env env;
    tm_env_init_process(&env);
    struct tm_aws_cred_options copts = {.env = &env, .profile = profile, .region = region, .log = &cli->log};
    struct tm_aws_cred_plan plan;
    char err[1024] = "";
    int rc = tm_aws_cred_plan_resolve(&plan, &copts, err, sizeof(err));
    if (rc) {
        tm_log_error(&cli->log, "whoami: %s", err[0] ? err : tm_error_str(rc));
        return TM_EXIT_USAGE;
    }

    struct s_whoami w = {0};
    uv_loop_t loop;
    bool loop_ok = uv_loop_init(&loop) == 0;
    struct tm_http_engine *engine = NULL;
    struct tm_aws_http_transport transport;
    struct tm_aws_credentials_provider *provider = NULL;
    struct tm_aws_client *client = NULL;
    struct tm_aws_request *req = NULL;
    char *source = NULL;
    rc = loop_ok ? TM_OK : TM_ERR_NOMEM;
    if (!rc) {
        struct tm_http_options hopts;
        tm_http_options_init(&hopts);
        hopts.log = &cli->log;
        hopts.ca_bundle = tm_env_get(&env, "AWS_CA_BUNDLE");
        hopts.user_agent = "tmscan/" TM_VERSION;
        rc = tm_http_engine_new(&engine, &loop, &hopts, err, sizeof(err));
    }
    if (!rc) {
        tm_aws_http_transport_init(&transport, engine);
        rc = tm_aws_credentials_provider_new(&provider, &plan, &transport.base, &cli->log);
    }
    if (!rc) {
        struct tm_aws_client_options o;
        tm_aws_client_options_init(&o);
        o.engine = engine;
        o.env = &env;
        o.get_credentials = tm_aws_get_credentials_from_provider;
        o.credentials_data = provider;
        o.log = &cli->log;
        rc = tm_aws_client_new(&client, &o);
    }
    if (!rc)
        rc = tm_aws_request_new(&req, client, "sts", "GetCallerIdentity", plan.region ? plan.region : "us-east-1", err,
                                sizeof(err));
    if (!rc) {
        rc = tm_aws_request_send(req, s_on_identity, &w, err, sizeof(err));
        req = NULL; /* consumed */
    }
    if (!rc && uv_run(&loop, UV_RUN_DEFAULT) < 0)
        rc = TM_ERR_STATE;
    if (!rc && !w.done) {
        rc = TM_ERR_STATE;
        snprintf(err, sizeof(err), "the call did not complete");
    }
    if (!rc && !w.err) {
        const struct tm_aws_credentials *c = tm_aws_credentials_provider_peek(provider, (int64_t)time(NULL));
        source = tm_strdup(c && c->source ? c->source : plan.source);
        if (!source)
            rc = TM_ERR_NOMEM;
    }

    tm_aws_request_destroy(req);
    tm_aws_client_destroy(client);
    tm_aws_credentials_provider_destroy(provider);
    tm_http_engine_destroy(engine);
    if (loop_ok) {
        uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) != 0)
            tm_log_warn(&cli->log, "whoami: the event loop did not close cleanly");
    }
    tm_aws_cred_plan_clean_up(&plan);

    int exit_code = TM_EXIT_OK;
    if (rc) {
        tm_log_error(&cli->log, "whoami: %s", err[0] ? err : tm_error_str(rc));
        exit_code = TM_EXIT_INCOMPLETE;
    } else if (w.err) {
        tm_log_error(&cli->log, "whoami: %s", w.errmsg);
        exit_code = TM_EXIT_INCOMPLETE;
    } else {
        printf("Account: %s\nArn:     %s\nUserId:  %s\nSource:  %s\n", w.id.account, w.id.arn, w.id.user_id, source);
    }
    tm_aws_caller_identity_clean_up(&w.id);
    free(source);
    return exit_code;
}
