/* `tmscan policy`: the AWS policy engine on its own.
 *   policy eval   JSON lines on standard input, one decision per line on standard output.
 *   policy check  who can reach a resource through its policy (or assume a role through its trust). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/catalog.h"
#include "analyzers/iam/eval.h"
#include "analyzers/iam/policy.h"
#include "analyzers/iam/reach.h"
#include "cmd/tmscan/cli.h"
#include "cmd/tmscan/paths.h"
#include "core/str.h"

const char tm_cmd_policy_usage[] =
    "usage: tmscan policy eval [--input FILE]\n"
    "       tmscan policy check FILE --type s3|sqs|sns|lambda|kms|secretsmanager|ecr|apigateway|trust\n"
    "                           [--account ID] [--resource ARN] [--json] [--acl FILE]\n"
    "                           [--public-access-block FILE] [--account-public-access-block FILE]\n"
    "                           [--url-auth-type NONE|AWS_IAM] [--catalog FILE] [--policies-dir DIR]\n"
    "\n"
    "eval: reads JSON lines (standard input, or FILE) and writes one JSON line per input, in order:\n"
    "  in:  {\"id\": ..., \"identityPolicies\": [...], \"resourcePolicy\": {...}|null, \"scps\": [...],\n"
    "        \"rcps\": [...], \"permissionBoundaries\": [...], \"sessionPolicies\": [...],\n"
    "        \"resourceAccount\": \"123456789012\",\n"
    "        \"request\": {\"principal\": \"arn:...\", \"action\": \"s3:GetObject\", \"resource\": \"arn:...\",\n"
    "                    \"contextKeys\": {\"aws:SourceIp\": \"203.0.113.9\", ...}}}\n"
    "  out: {\"id\": ..., \"decision\": \"allowed\"|\"explicitDeny\"|\"implicitDeny\",\n"
    "        \"matched\": [{\"policy\": \"identityPolicies[0]\", \"statement\": 0}]}\n"
    "  A line that cannot be evaluated gets {\"id\": ..., \"error\": \"...\"}; the others go on.\n"
    "  \"scps\"/\"rcps\" as a list of lists give the organization's levels, root first (each must allow).\n"
    "  Exit status: 0 every line evaluated, 2 some line was an error or bad usage.\n"
    "\n"
    "check: who can reach the resource FILE's policy is attached to, per access level (List, Read, Write,\n"
    "  Permissions management, Tagging): anyone, any authenticated AWS principal, named external\n"
    "  accounts, an organisation, AWS services on behalf of named resources, named networks, or this\n"
    "  account only; for --type trust, who can assume the role and whether sts:ExternalId is required.\n"
    "  --account ID          the resource's account (default: from the policy's Resource ARNs)\n"
    "  --resource ARN        only statements about this resource count\n"
    "  --json                one JSON object instead of text\n"
    "  --acl FILE            S3: the bucket ACL (GetBucketAcl JSON)\n"
    "  --public-access-block FILE          S3: the bucket's Block Public Access settings (JSON)\n"
    "  --account-public-access-block FILE  S3: the account's Block Public Access settings (JSON)\n"
    "  --url-auth-type T     Lambda: the function URL's AuthType\n"
    "  --catalog FILE        the action catalogue (default: iam-actions.json in the policies directory)\n"
    "  Exit status: 1 public or cross-account, 0 otherwise, 2 bad usage or input.\n";

/* Longest input line accepted by `policy eval`: many policies, each far under AWS's own limits. */
#define S_MAX_LINE_BYTES (16u * 1024u * 1024u)

static int s_eval(struct tm_cli *cli, int argc, char **argv) {
    FILE *in = stdin;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else {
            return tm_cli_usage_error(cli, "policy", "eval: unexpected argument '%s'", argv[i]);
        }
    }
    if (path && strcmp(path, "-") != 0) {
        in = fopen(path, "r");
        if (!in) {
            tm_log_error(&cli->log, "policy eval: cannot open %s", path);
            return TM_EXIT_USAGE;
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool any_error = false;
    int rc = TM_EXIT_OK;
    while ((n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t'))
            k++;
        if (k == len)
            continue; /* blank lines are not inputs */
        char *answer = NULL;
        if (len > S_MAX_LINE_BYTES) {
            fputs("{\"id\":null,\"error\":\"line too long\"}\n", stdout);
            any_error = true;
            continue;
        }
        bool was_error = false;
        if (tm_iam_eval_json_line(&answer, &was_error, line, len) != TM_OK) {
            tm_log_error(&cli->log, "policy eval: out of memory");
            rc = TM_EXIT_USAGE;
            break;
        }
        any_error = any_error || was_error;
        fputs(answer, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(answer);
    }
    free(line);
    if (ferror(in)) {
        tm_log_error(&cli->log, "policy eval: read error");
        rc = TM_EXIT_USAGE;
    }
    if (in != stdin)
        fclose(in);
    if (rc == TM_EXIT_OK && any_error)
        rc = TM_EXIT_USAGE;
    return rc;
}

static char *s_read_small(struct tm_cli *cli, const char *path) {
    struct tm_buf b;
    tm_buf_init(&b, 4u * 1024u * 1024u);
    char msg[512];
    if (tm_file_read(&b, path, 4u * 1024u * 1024u, msg, sizeof(msg)) != TM_OK) {
        tm_log_error(&cli->log, "policy check: %s", msg);
        tm_buf_clean_up(&b);
        return NULL;
    }
    char *s = tm_buf_detach(&b);
    tm_buf_clean_up(&b);
    return s;
}

static int s_read_bpa(struct tm_cli *cli, const char *path, struct tm_iam_s3_bpa *out) {
    char *text = s_read_small(cli, path);
    if (!text)
        return TM_EXIT_USAGE;
    char err[256];
    int rc = tm_iam_s3_bpa_parse(out, text, strlen(text), err, sizeof(err));
    free(text);
    if (rc) {
        tm_log_error(&cli->log, "policy check: %s: %s", path, err);
        return TM_EXIT_USAGE;
    }
    return TM_EXIT_OK;
}

static int s_check(struct tm_cli *cli, int argc, char **argv) {
    const char *file = NULL, *type_name = NULL, *account = NULL, *resource = NULL, *acl_path = NULL;
    const char *bpa_path = NULL, *acct_bpa_path = NULL, *url_auth = NULL, *catalog_path = NULL, *pdir = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(a, "--type") == 0)
            slot = &type_name;
        else if (strcmp(a, "--account") == 0)
            slot = &account;
        else if (strcmp(a, "--resource") == 0)
            slot = &resource;
        else if (strcmp(a, "--acl") == 0)
            slot = &acl_path;
        else if (strcmp(a, "--public-access-block") == 0)
            slot = &bpa_path;
        else if (strcmp(a, "--account-public-access-block") == 0)
            slot = &acct_bpa_path;
        else if (strcmp(a, "--url-auth-type") == 0)
            slot = &url_auth;
        else if (strcmp(a, "--catalog") == 0)
            slot = &catalog_path;
        else if (strcmp(a, "--policies-dir") == 0)
            slot = &pdir;
        if (slot) {
            if (i + 1 >= argc)
                return tm_cli_usage_error(cli, "policy", "check: %s needs a value", a);
            *slot = argv[++i];
            continue;
        }
        if (a[0] == '-' && a[1])
            return tm_cli_usage_error(cli, "policy", "check: unknown option '%s'", a);
        if (file)
            return tm_cli_usage_error(cli, "policy", "check: unexpected argument '%s'", a);
        file = a;
    }
    if (!file)
        return tm_cli_usage_error(cli, "policy", "check: missing FILE");
    if (!type_name)
        return tm_cli_usage_error(cli, "policy", "check: missing --type");
    enum tm_iam_resource_type type = tm_iam_resource_type_parse(type_name);
    if (!type)
        return tm_cli_usage_error(cli, "policy", "check: unknown --type '%s'", type_name);
    if (account && strlen(account) != 12)
        return tm_cli_usage_error(cli, "policy", "check: --account must be a 12-digit account id");
    if (url_auth && strcmp(url_auth, "NONE") != 0 && strcmp(url_auth, "AWS_IAM") != 0)
        return tm_cli_usage_error(cli, "policy", "check: --url-auth-type must be NONE or AWS_IAM");
    if ((acl_path || bpa_path || acct_bpa_path) && type != TM_IAM_RES_S3)
        return tm_cli_usage_error(cli, "policy", "check: --acl and the public access blocks are for --type s3");
    if (url_auth && type != TM_IAM_RES_LAMBDA)
        return tm_cli_usage_error(cli, "policy", "check: --url-auth-type is for --type lambda");

    int exit = TM_EXIT_USAGE;
    char err[1024];
    struct tm_iam_policy *pol = NULL;
    struct tm_iam_catalog *cat = NULL;
    struct tm_iam_reach_result *res = NULL;
    char *acl = NULL, *out = NULL;
    struct tm_iam_s3_bpa bpa, acct_bpa;
    if (tm_iam_policy_load(&pol, file, type == TM_IAM_RES_TRUST ? TM_IAM_POLICY_TRUST : TM_IAM_POLICY_RESOURCE, err,
                           sizeof(err)) != TM_OK) {
        tm_log_error(&cli->log, "policy check: %s", err);
        goto done;
    }
    if (catalog_path) {
        if (tm_iam_catalog_load(&cat, catalog_path, err, sizeof(err)) != TM_OK) {
            tm_log_error(&cli->log, "policy check: %s", err);
            goto done;
        }
    } else {
        char dir[4096], path[4200];
        if (tm_cli_policies_dir(dir, sizeof(dir), pdir) == TM_OK &&
            tm_cli_policy_file(path, sizeof(path), dir, "iam-actions.json") == TM_OK &&
            tm_iam_catalog_load(&cat, path, err, sizeof(err)) == TM_OK) {
            /* found */
        } else {
            tm_log_warn(&cli->log, "policy check: no action catalogue (policies/iam-actions.json): actions are "
                                   "grouped as the policy writes them");
        }
    }
    if (acl_path && !(acl = s_read_small(cli, acl_path)))
        goto done;
    if (bpa_path && s_read_bpa(cli, bpa_path, &bpa) != TM_EXIT_OK)
        goto done;
    if (acct_bpa_path && s_read_bpa(cli, acct_bpa_path, &acct_bpa) != TM_EXIT_OK)
        goto done;
    struct tm_iam_reach_input in = {.type = type,
                                    .policy = pol,
                                    .account = account,
                                    .resource_arn = resource,
                                    .catalog = cat,
                                    .s3_acl_json = acl,
                                    .bucket_bpa = bpa_path ? &bpa : NULL,
                                    .account_bpa = acct_bpa_path ? &acct_bpa : NULL,
                                    .lambda_url_auth_type = url_auth};
    int rc = tm_iam_reach_analyze(&res, &in, err, sizeof(err));
    if (rc) {
        tm_log_error(&cli->log, "policy check: %s%s%s", acl_path && rc == TM_ERR_PARSE ? acl_path : file,
                     err[0] ? ": " : "", err[0] ? err : tm_error_str(rc));
        goto done;
    }
    rc = json ? tm_iam_reach_to_json(&out, res, file) : tm_iam_reach_to_text(&out, res, file);
    if (rc) {
        tm_log_error(&cli->log, "policy check: out of memory");
        goto done;
    }
    fputs(out, stdout);
    if (json)
        fputc('\n', stdout);
    exit = res->cross_account ? TM_EXIT_FINDINGS : TM_EXIT_OK;
done:
    free(out);
    free(acl);
    tm_iam_reach_result_destroy(res);
    tm_iam_catalog_destroy(cat);
    tm_iam_policy_destroy(pol);
    return exit;
}

int tm_cmd_policy(struct tm_cli *cli, int argc, char **argv) {
    if (argc < 2)
        return tm_cli_usage_error(cli, "policy", "missing subcommand (eval or check)");
    if (strcmp(argv[1], "eval") == 0)
        return s_eval(cli, argc - 1, argv + 1);
    if (strcmp(argv[1], "check") == 0)
        return s_check(cli, argc - 1, argv + 1);
    return tm_cli_usage_error(cli, "policy", "unknown subcommand '%s'", argv[1]);
}
