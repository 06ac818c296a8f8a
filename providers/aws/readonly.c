#include "providers/aws/readonly.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/str.h"

/* Calls without a List/Get/Describe name that change nothing in the account. Kept short on purpose:
 * an entry is added only for a call tmscan makes. Not here, and so refused, because they do change
 * something: iam:GenerateCredentialReport and iam:GenerateServiceLastAccessedDetails (they start report
 * jobs), s3:SelectObjectContent (reads object contents). */
static const struct tm_aws_readonly_rule s_allow[] = {
    {"iam", "SimulateCustomPolicy", "evaluates a policy given in the request; stores nothing"},
    {"iam", "SimulatePrincipalPolicy", "evaluates the policies of a principal; stores nothing"},
    {"s3", "HeadBucket", "tells whether a bucket exists and where, without reading any object"},
    {"sts", "AssumeRole",
     "the credential chain's role hops: returns temporary credentials, kept in memory only, and creates "
     "nothing in the account"},
    {"sts", "AssumeRoleWithWebIdentity", "the credential chain's web identity source, as AssumeRole"},
    {"sts", "GetCallerIdentity", "names the caller (also allowed by its prefix; listed because whoami relies on it)"},
};

/* Reads tmscan must never make although their names look harmless. The snapshot must not hold secrets
 * or data, so the calls that return them are refused outright rather than trusted to be discarded. */
static const struct tm_aws_readonly_rule s_deny[] = {
    {"amplify", "GetArtifactUrl", "returns a presigned URL to download build artifacts"},
    {"athena", "GetCalculationExecutionCode", "returns the code of a calculation"},
    {"athena", "GetQueryResults", "returns the rows of a query: data, not configuration"},
    {"codeartifact", "GetAuthorizationToken", "mints a repository token"},
    {"codecommit", "GetBlob", "returns file contents from a repository"},
    {"codecommit", "GetFile", "returns file contents from a repository"},
    {"cognito-identity", "GetCredentialsForIdentity", "mints AWS credentials for an identity"},
    {"cognito-identity", "GetId", "creates an identity in the pool when it does not exist"},
    {"cognito-identity", "GetOpenIdToken", "mints an OpenID token"},
    {"cognito-identity", "GetOpenIdTokenForDeveloperIdentity", "creates an identity and mints a token"},
    {"dynamodb", "GetItem", "returns table data"},
    {"dynamodbstreams", "GetRecords", "returns table data from a stream"},
    {"ec2", "GetConsoleOutput", "instance console output often holds secrets printed at boot"},
    {"ec2", "GetConsoleScreenshot", "an image of the instance console"},
    {"ec2", "GetLaunchTemplateData", "returns an instance's user data, where secrets are often passed"},
    {"ec2", "GetPasswordData", "returns the (encrypted) Windows administrator password"},
    {"ecr", "GetAuthorizationToken", "mints a registry login token"},
    {"ecr", "GetDownloadUrlForLayer", "returns a URL to download image contents"},
    {"glacier", "GetJobOutput", "returns archive contents"},
    {"glue", "GetConnection", "returns connection passwords unless HidePassword is set"},
    {"glue", "GetConnections", "returns connection passwords unless HidePassword is set"},
    {"iot", "GetRegistrationCode", "creates the account's registration code when there is none"},
    {"kinesis", "GetRecords", "returns stream data"},
    {"kinesis", "GetShardIterator", "only useful to read stream data"},
    {"kms", "GetParametersForImport", "issues an import token and wrapping key for key material"},
    {"lakeformation", "GetTemporaryGluePartitionCredentials", "mints credentials"},
    {"lakeformation", "GetTemporaryGlueTableCredentials", "mints credentials"},
    {"lambda", "GetFunction", "returns a presigned URL to download the function's code"},
    {"lambda", "GetLayerVersion", "returns a presigned URL to download the layer's code"},
    {"lambda", "GetLayerVersionByArn", "returns a presigned URL to download the layer's code"},
    {"lightsail", "GetInstanceAccessDetails", "returns an SSH private key or password for an instance"},
    {"lightsail", "GetRelationalDatabaseMasterUserPassword", "returns a database password"},
    {"logs", "GetLogEvents", "returns log contents"},
    {"logs", "GetLogRecord", "returns log contents"},
    {"logs", "GetQueryResults", "returns log contents"},
    {"redshift", "GetClusterCredentials", "mints database credentials (and may create the user)"},
    {"redshift", "GetClusterCredentialsWithIAM", "mints database credentials"},
    {"redshift-serverless", "GetCredentials", "mints database credentials"},
    {"s3", "GetObject", "returns object contents"},
    {"s3", "GetObjectTorrent", "returns object contents"},
    {"secretsmanager", "GetRandomPassword", "generates a secret; tmscan has no use for one"},
    {"secretsmanager", "GetSecretValue", "returns the secret itself (DescribeSecret gives the metadata)"},
    {"ssm", "GetParameter", "returns parameter values, SecureStrings decrypted on request"},
    {"ssm", "GetParameterHistory", "returns past parameter values"},
    {"ssm", "GetParameters", "returns parameter values"},
    {"ssm", "GetParametersByPath", "returns parameter values"},
    {"sso", "GetRoleCredentials", "mints AWS credentials"},
    {"sts", "GetFederationToken", "mints federated credentials"},
    {"sts", "GetSessionToken", "mints session credentials"},
};

static const struct tm_aws_readonly_rule *s_find(const struct tm_aws_readonly_rule *rules, size_t n,
                                                 const char *service, const char *operation) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(rules[i].service, service) == 0 && strcmp(rules[i].operation, operation) == 0)
            return &rules[i];
    return NULL;
}

static bool s_name_ok(const char *operation) {
    size_t n = strlen(operation);
    if (n == 0 || n > 128 || !(operation[0] >= 'A' && operation[0] <= 'Z'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = operation[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static bool s_read_prefix(const char *operation) {
    static const char *const prefixes[] = {"List", "Get", "Describe"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        /* "Getaway" is not a Get: the next letter starts a new word. */
        if (strncmp(operation, prefixes[i], n) == 0 && operation[n] >= 'A' && operation[n] <= 'Z')
            return true;
    }
    return false;
}

int tm_aws_readonly_check(const char *service, const char *operation, char *errmsg, size_t errmsg_len) {
    if (!service || !operation || !s_name_ok(operation)) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "not an operation name: '%.64s'", operation ? operation : "");
        return TM_ERR_INVALID;
    }
    const struct tm_aws_readonly_rule *r = s_find(s_deny, sizeof(s_deny) / sizeof(s_deny[0]), service, operation);
    if (r) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "refusing %s:%s: it %s", service, operation, r->reason);
        return TM_ERR_READ_ONLY;
    }
    if (s_find(s_allow, sizeof(s_allow) / sizeof(s_allow[0]), service, operation) || s_read_prefix(operation))
        return TM_OK;
    if (errmsg && errmsg_len)
        snprintf(errmsg, errmsg_len,
                 "refusing %s:%s: tmscan is read-only and only calls List*, Get*, Describe* and a short list of "
                 "read-only operations",
                 service, operation);
    return TM_ERR_READ_ONLY;
}

int tm_aws_readonly_check_param(const char *service, const char *operation, const char *name, const char *value,
                                char *errmsg, size_t errmsg_len) {
    if (!service || !operation || !name)
        return TM_ERR_INVALID;
    if (strcmp(service, "apigateway") == 0 &&
        ((strcmp(operation, "GetApiKey") == 0 && strcmp(name, "includeValue") == 0) ||
         (strcmp(operation, "GetApiKeys") == 0 && strcmp(name, "includeValues") == 0)) &&
        value && tm_str_ieq(value, "true")) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "refusing %s:%s with %s=true: it returns API key values", service, operation,
                     name);
        return TM_ERR_READ_ONLY;
    }
    return TM_OK;
}

const struct tm_aws_readonly_rule *tm_aws_readonly_allow_list(size_t *count) {
    *count = sizeof(s_allow) / sizeof(s_allow[0]);
    return s_allow;
}

const struct tm_aws_readonly_rule *tm_aws_readonly_deny_list(size_t *count) {
    *count = sizeof(s_deny) / sizeof(s_deny[0]);
    return s_deny;
}
