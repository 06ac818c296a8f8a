/* Wire formats of the credential sources: STS query-protocol bodies and XML answers, and the JSON the
 * container endpoint and IMDS serve. Parsers only; the provider (credentials.c) schedules requests. */
#include "providers/auth/credentials.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <stdarg.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

#define S_STS_VERSION "2011-06-15"
/* Answers larger than this are not credentials. */
#define S_MAX_ANSWER_BYTES (256 * 1024)

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void s_msg(char *errmsg, size_t errmsg_len, const char *fmt, ...) {
    if (!errmsg || !errmsg_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, errmsg_len, fmt, ap);
    va_end(ap);
}

static int s_form_param(struct tm_buf *out, const char *name, const char *value) {
    int rc = tm_buf_appendf(out, "&%s=", name);
    if (!rc)
        rc = tm_uri_encode(out, value, strlen(value), false);
    return rc;
}

int tm_aws_sts_assume_role_body(struct tm_buf *out, const struct tm_aws_role_hop *hop,
                                const char *default_session_name) {
    if (!hop->role_arn || !*hop->role_arn)
        return TM_ERR_INVALID;
    const char *session = hop->session_name ? hop->session_name : default_session_name;
    int rc = tm_buf_append_str(out, "Action=AssumeRole&Version=" S_STS_VERSION);
    if (!rc)
        rc = s_form_param(out, "RoleArn", hop->role_arn);
    if (!rc)
        rc = s_form_param(out, "RoleSessionName", session);
    if (!rc && hop->external_id)
        rc = s_form_param(out, "ExternalId", hop->external_id);
    if (!rc && hop->duration_s)
        rc = tm_buf_appendf(out, "&DurationSeconds=%u", (unsigned)hop->duration_s);
    return rc;
}

int tm_aws_sts_web_identity_body(struct tm_buf *out, const char *role_arn, const char *session_name,
                                 const char *token) {
    if (!role_arn || !*role_arn || !token || !*token)
        return TM_ERR_INVALID;
    int rc = tm_buf_append_str(out, "Action=AssumeRoleWithWebIdentity&Version=" S_STS_VERSION);
    if (!rc)
        rc = s_form_param(out, "RoleArn", role_arn);
    if (!rc)
        rc = s_form_param(out, "RoleSessionName", session_name);
    if (!rc)
        rc = s_form_param(out, "WebIdentityToken", token);
    return rc;
}

/* --------------------------------------------------------------------------------------------------- */
/* XML */

static bool s_named(const xmlNode *n, const char *name) {
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static xmlNode *s_child(const xmlNode *parent, const char *name) {
    for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
        if (s_named(n, name))
            return n;
    return NULL;
}

/* The element's text when it holds nothing but text; NULL otherwise. Points into the document. */
static const char *s_text(const xmlNode *el) {
    if (!el)
        return NULL;
    const char *text = NULL;
    for (const xmlNode *n = el->children; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (text)
                return NULL; /* split text: not what STS sends */
            text = (const char *)n->content;
        } else if (n->type != XML_COMMENT_NODE) {
            return NULL;
        }
    }
    return text ? text : "";
}

/* Zeroes every text node before the document is freed: it held secrets. */
static void s_scrub(xmlNode *n) {
    for (; n; n = n->next) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content)
            OPENSSL_cleanse(n->content, strlen((const char *)n->content));
        s_scrub(n->children);
    }
}

static void s_free_doc(xmlDoc *doc) {
    if (!doc)
        return;
    s_scrub(xmlDocGetRootElement(doc));
    xmlFreeDoc(doc);
}

static xmlDoc *s_parse_xml(const char *xml, size_t len, char *errmsg, size_t errmsg_len) {
    if (len > S_MAX_ANSWER_BYTES) {
        s_msg(errmsg, errmsg_len, "STS answer too large (%zu bytes)", len);
        return NULL;
    }
    /* No network, no entity substitution, no dictionary (text stays in nodes we can scrub). */
    xmlDoc *doc = xmlReadMemory(xml, (int)len, "sts.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NODICT);
    if (!doc || !xmlDocGetRootElement(doc)) {
        s_msg(errmsg, errmsg_len, "STS answer is not XML");
        s_free_doc(doc);
        return NULL;
    }
    if (doc->intSubset || doc->extSubset) {
        s_msg(errmsg, errmsg_len, "STS answer has a document type declaration");
        s_free_doc(doc);
        return NULL;
    }
    return doc;
}

/* An STS ErrorResponse as TM_ERR_SERVICE with "<Code>: <Message>"; TM_OK when the root is not one. */
static int s_sts_error(const xmlNode *root, char *errmsg, size_t errmsg_len) {
    if (!s_named(root, "ErrorResponse"))
        return TM_OK;
    const xmlNode *err = s_child(root, "Error");
    const char *code = s_text(s_child(err, "Code"));
    const char *message = s_text(s_child(err, "Message"));
    s_msg(errmsg, errmsg_len, "%.128s: %.300s", code && *code ? code : "UnknownError", message ? message : "");
    return TM_ERR_SERVICE;
}

int tm_aws_sts_parse_credentials(struct tm_aws_credentials **out, const char *xml, size_t len,
                                 const char *result_element, const char *source, char *errmsg, size_t errmsg_len) {
    *out = NULL;
    xmlDoc *doc = s_parse_xml(xml, len, errmsg, errmsg_len);
    if (!doc)
        return TM_ERR_PARSE;
    const xmlNode *root = xmlDocGetRootElement(doc);
    int rc = s_sts_error(root, errmsg, errmsg_len);
    if (rc)
        goto out;
    char response[128];
    snprintf(response, sizeof(response), "%.100s", result_element);
    char *r = strstr(response, "Result");
    if (r)
        memcpy(r, "Response", sizeof("Response"));
    const xmlNode *creds = s_child(s_child(root, result_element), "Credentials");
    if (!s_named(root, response) || !creds) {
        s_msg(errmsg, errmsg_len, "STS answer has no %s/Credentials", result_element);
        rc = TM_ERR_PARSE;
        goto out;
    }
    const char *ak = s_text(s_child(creds, "AccessKeyId"));
    const char *sk = s_text(s_child(creds, "SecretAccessKey"));
    const char *token = s_text(s_child(creds, "SessionToken"));
    const char *exp = s_text(s_child(creds, "Expiration"));
    int64_t expiration = 0;
    if (!ak || !*ak || !sk || !*sk || !token || !*token || !exp) {
        s_msg(errmsg, errmsg_len, "STS answer lacks AccessKeyId, SecretAccessKey, SessionToken or Expiration");
        rc = TM_ERR_PARSE;
        goto out;
    }
    if (tm_sigv4_parse_time(&expiration, exp) != TM_OK) {
        s_msg(errmsg, errmsg_len, "STS answer has an invalid Expiration '%.64s'", exp);
        rc = TM_ERR_PARSE;
        goto out;
    }
    *out = tm_aws_credentials_new(ak, sk, token, expiration, source);
    if (!*out)
        rc = TM_ERR_NOMEM;
out:
    s_free_doc(doc);
    return rc;
}

void tm_aws_caller_identity_clean_up(struct tm_aws_caller_identity *id) {
    if (!id)
        return;
    free(id->account);
    free(id->arn);
    free(id->user_id);
    memset(id, 0, sizeof(*id));
}

int tm_aws_sts_parse_caller_identity(struct tm_aws_caller_identity *out, const char *xml, size_t len, char *errmsg,
                                     size_t errmsg_len) {
    memset(out, 0, sizeof(*out));
    xmlDoc *doc = s_parse_xml(xml, len, errmsg, errmsg_len);
    if (!doc)
        return TM_ERR_PARSE;
    const xmlNode *root = xmlDocGetRootElement(doc);
    int rc = s_sts_error(root, errmsg, errmsg_len);
    if (rc)
        goto out;
    const xmlNode *res = s_child(root, "GetCallerIdentityResult");
    const char *account = s_text(s_child(res, "Account"));
    const char *arn = s_text(s_child(res, "Arn"));
    const char *user_id = s_text(s_child(res, "UserId"));
    if (!s_named(root, "GetCallerIdentityResponse") || !account || !*account || !arn || !*arn || !user_id ||
        !*user_id) {
        s_msg(errmsg, errmsg_len, "STS answer has no GetCallerIdentityResult with Account, Arn and UserId");
        rc = TM_ERR_PARSE;
        goto out;
    }
    out->account = tm_strdup(account);
    out->arn = tm_strdup(arn);
    out->user_id = tm_strdup(user_id);
    if (!out->account || !out->arn || !out->user_id) {
        tm_aws_caller_identity_clean_up(out);
        rc = TM_ERR_NOMEM;
    }
out:
    s_free_doc(doc);
    return rc;
}

/* --------------------------------------------------------------------------------------------------- */
/* JSON */

static void s_scrub_json(cJSON *j) {
    for (; j; j = j->next) {
        if (j->valuestring)
            OPENSSL_cleanse(j->valuestring, strlen(j->valuestring));
        s_scrub_json(j->child);
    }
}

static const char *s_json_string(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int tm_aws_parse_json_credentials(struct tm_aws_credentials **out, const char *json, size_t len, const char *source,
                                  char *errmsg, size_t errmsg_len) {
    *out = NULL;
    if (len > S_MAX_ANSWER_BYTES) {
        s_msg(errmsg, errmsg_len, "credentials answer too large (%zu bytes)", len);
        return TM_ERR_PARSE;
    }
    cJSON *root = cJSON_ParseWithLength(json, len);
    int rc = TM_OK;
    if (!cJSON_IsObject(root)) {
        s_msg(errmsg, errmsg_len, "credentials answer is not a JSON object");
        rc = TM_ERR_PARSE;
        goto out;
    }
    const char *code = s_json_string(root, "Code");
    if (cJSON_GetObjectItemCaseSensitive(root, "Code") && (!code || strcmp(code, "Success") != 0)) {
        const char *message = s_json_string(root, "Message");
        s_msg(errmsg, errmsg_len, "credentials answer says %.64s: %.200s", code ? code : "(not a string)",
              message ? message : "");
        rc = TM_ERR_SERVICE;
        goto out;
    }
    const char *ak = s_json_string(root, "AccessKeyId");
    const char *sk = s_json_string(root, "SecretAccessKey");
    const char *token = s_json_string(root, "Token");
    const char *exp = s_json_string(root, "Expiration");
    if (!ak || !*ak || !sk || !*sk) {
        s_msg(errmsg, errmsg_len, "credentials answer lacks AccessKeyId or SecretAccessKey strings");
        rc = TM_ERR_PARSE;
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "Token") && !token) {
        s_msg(errmsg, errmsg_len, "credentials answer has a Token that is not a string");
        rc = TM_ERR_PARSE;
        goto out;
    }
    int64_t expiration = 0;
    if ((cJSON_GetObjectItemCaseSensitive(root, "Expiration") && !exp) ||
        (exp && tm_sigv4_parse_time(&expiration, exp) != TM_OK)) {
        s_msg(errmsg, errmsg_len, "credentials answer has an invalid Expiration");
        rc = TM_ERR_PARSE;
        goto out;
    }
    *out = tm_aws_credentials_new(ak, sk, token && *token ? token : NULL, expiration, source);
    if (!*out)
        rc = TM_ERR_NOMEM;
out:
    s_scrub_json(root);
    cJSON_Delete(root);
    return rc;
}
