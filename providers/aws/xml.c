#include "providers/aws/xml.h"

#include <errno.h>
#include <libxml/parser.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_contains(const char *hay, size_t len, const char *needle) {
    size_t n = strlen(needle);
    return len >= n && memmem(hay, len, needle, n) != NULL;
}

int tm_aws_xml_parse(xmlDoc **out, const char *body, size_t len, char *errmsg, size_t errmsg_len) {
    char dummy[8];
    if (!errmsg || !errmsg_len) {
        errmsg = dummy;
        errmsg_len = sizeof(dummy);
    }
    *out = NULL;
    if (len > TM_AWS_XML_MAX_BYTES || len > INT_MAX) {
        snprintf(errmsg, errmsg_len, "XML answer of %zu bytes is over the %zu-byte cap", len, TM_AWS_XML_MAX_BYTES);
        return TM_ERR_TOO_BIG;
    }
    if (!body || len == 0) {
        snprintf(errmsg, errmsg_len, "empty body where an XML document was expected");
        return TM_ERR_PARSE;
    }
    /* No AWS answer declares a DTD; refusing one up front rules out entity expansion of any kind. */
    if (s_contains(body, len, "<!DOCTYPE") || s_contains(body, len, "<!ENTITY")) {
        snprintf(errmsg, errmsg_len, "XML answer carries a DTD");
        return TM_ERR_PARSE;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return TM_ERR_NOMEM;
    int rc = TM_OK;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, body, (int)len, "response.xml", NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        if (e && e->message) {
            char msg[160];
            snprintf(msg, sizeof(msg), "%s", e->message);
            size_t n = strlen(msg);
            while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
                msg[--n] = '\0';
            snprintf(errmsg, errmsg_len, "malformed XML at line %d: %s", e->line, msg);
        } else {
            snprintf(errmsg, errmsg_len, "malformed XML");
        }
        rc = TM_ERR_PARSE;
        goto out;
    }
    if (doc->intSubset || doc->extSubset || !xmlDocGetRootElement(doc)) {
        snprintf(errmsg, errmsg_len, doc->intSubset || doc->extSubset ? "XML answer carries a DTD" : "no root element");
        rc = TM_ERR_PARSE;
        goto out;
    }
    *out = doc;
    doc = NULL;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void tm_aws_xml_free(xmlDoc *doc) {
    if (doc)
        xmlFreeDoc(doc);
}

const xmlNode *tm_aws_xml_root(const xmlDoc *doc) {
    return doc ? xmlDocGetRootElement(doc) : NULL;
}

const char *tm_aws_xml_name(const xmlNode *node) {
    return node && node->name ? (const char *)node->name : "";
}

bool tm_aws_xml_is(const xmlNode *node, const char *name) {
    return node && node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

const xmlNode *tm_aws_xml_child(const xmlNode *node, const char *name) {
    if (!node)
        return NULL;
    for (const xmlNode *c = node->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)c->name, name) == 0))
            return c;
    return NULL;
}

const xmlNode *tm_aws_xml_next(const xmlNode *node) {
    if (!node)
        return NULL;
    for (const xmlNode *c = node->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, (const char *)node->name) == 0)
            return c;
    return NULL;
}

const xmlNode *tm_aws_xml_next_element(const xmlNode *node) {
    if (!node)
        return NULL;
    for (const xmlNode *c = node->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            return c;
    return NULL;
}

const xmlNode *tm_aws_xml_path(const xmlNode *node, const char *path) {
    char step[128];
    while (node && path && *path) {
        const char *slash = strchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : strlen(path);
        if (n == 0 || n >= sizeof(step))
            return NULL;
        memcpy(step, path, n);
        step[n] = '\0';
        node = tm_aws_xml_child(node, step);
        path = slash ? slash + 1 : NULL;
    }
    return node;
}

size_t tm_aws_xml_count(const xmlNode *node, const char *name) {
    size_t n = 0;
    for (const xmlNode *c = tm_aws_xml_child(node, name); c; c = name ? tm_aws_xml_next(c) : tm_aws_xml_next_element(c))
        n++;
    return n;
}

const char *tm_aws_xml_text(const xmlNode *node) {
    if (!node || node->type != XML_ELEMENT_NODE)
        return NULL;
    const xmlNode *c = node->children;
    if (!c)
        return "";
    /* The parser merges adjacent text (and CDATA, with XML_PARSE_NOCDATA), so a leaf has one child. */
    if (c->next || (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE))
        return NULL;
    return c->content ? (const char *)c->content : "";
}

const char *tm_aws_xml_child_text(const xmlNode *node, const char *name) {
    return tm_aws_xml_text(tm_aws_xml_child(node, name));
}

int tm_aws_xml_child_bool(const xmlNode *node, const char *name, bool *out) {
    const xmlNode *c = tm_aws_xml_child(node, name);
    if (!c)
        return TM_ERR_NOT_FOUND;
    const char *t = tm_aws_xml_text(c);
    if (!t)
        return TM_ERR_PARSE;
    if (strcmp(t, "true") == 0)
        *out = true;
    else if (strcmp(t, "false") == 0)
        *out = false;
    else
        return TM_ERR_PARSE;
    return TM_OK;
}

int tm_aws_xml_child_ll(const xmlNode *node, const char *name, long long *out) {
    const xmlNode *c = tm_aws_xml_child(node, name);
    if (!c)
        return TM_ERR_NOT_FOUND;
    const char *t = tm_aws_xml_text(c);
    if (!t || !*t)
        return TM_ERR_PARSE;
    const char *p = t;
    if (*p == '-' || *p == '+')
        p++;
    if (*p < '0' || *p > '9')
        return TM_ERR_PARSE;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(t, &end, 10);
    if (errno || !end || *end)
        return TM_ERR_PARSE;
    *out = v;
    return TM_OK;
}

int tm_aws_xml_json_text(cJSON **out, const xmlNode *node, const char *name) {
    *out = NULL;
    const xmlNode *c = tm_aws_xml_child(node, name);
    if (!c) {
        *out = cJSON_CreateNull();
        return *out ? TM_OK : TM_ERR_NOMEM;
    }
    const char *t = tm_aws_xml_text(c);
    if (!t)
        return TM_ERR_PARSE;
    *out = cJSON_CreateString(t);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

int tm_aws_xml_json_bool(cJSON **out, const xmlNode *node, const char *name) {
    *out = NULL;
    bool v = false;
    int rc = tm_aws_xml_child_bool(node, name, &v);
    if (rc == TM_ERR_NOT_FOUND)
        *out = cJSON_CreateNull();
    else if (rc)
        return rc;
    else
        *out = cJSON_CreateBool(v);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

int tm_aws_xml_json_int(cJSON **out, const xmlNode *node, const char *name) {
    *out = NULL;
    long long v = 0;
    int rc = tm_aws_xml_child_ll(node, name, &v);
    if (rc == TM_ERR_NOT_FOUND)
        *out = cJSON_CreateNull();
    else if (rc)
        return rc;
    else
        *out = cJSON_CreateNumber((double)v);
    return *out ? TM_OK : TM_ERR_NOMEM;
}

int tm_aws_xml_json_list(cJSON **out, const xmlNode *node, const char *list, const char *item, const char *item_child) {
    *out = cJSON_CreateArray();
    if (!*out)
        return TM_ERR_NOMEM;
    const xmlNode *l = tm_aws_xml_child(node, list);
    for (const xmlNode *m = tm_aws_xml_child(l, item); m; m = tm_aws_xml_next(m)) {
        const char *t = item_child ? tm_aws_xml_child_text(m, item_child) : tm_aws_xml_text(m);
        if (!t) {
            cJSON_Delete(*out);
            *out = NULL;
            return TM_ERR_PARSE;
        }
        cJSON *s = cJSON_CreateString(t);
        if (!s || !cJSON_AddItemToArray(*out, s)) {
            cJSON_Delete(s);
            cJSON_Delete(*out);
            *out = NULL;
            return TM_ERR_NOMEM;
        }
    }
    return TM_OK;
}

static const xmlNode *s_response(const xmlDoc *doc, const char *operation) {
    const xmlNode *root = tm_aws_xml_root(doc);
    const char *name = tm_aws_xml_name(root);
    size_t n = strlen(operation);
    if (!root || strncmp(name, operation, n) != 0 || strcmp(name + n, "Response") != 0)
        return NULL;
    return root;
}

const xmlNode *tm_aws_xml_query_result(const xmlDoc *doc, const char *operation) {
    const xmlNode *root = s_response(doc, operation);
    char want[160];
    if (!root || snprintf(want, sizeof(want), "%sResult", operation) >= (int)sizeof(want))
        return NULL;
    return tm_aws_xml_child(root, want);
}

const xmlNode *tm_aws_xml_ec2_response(const xmlDoc *doc, const char *operation) {
    return s_response(doc, operation);
}

static int s_open(xmlDoc **doc, const xmlNode **out, bool ec2, const char *operation, const char *body, size_t len,
                  char *errmsg, size_t errmsg_len) {
    char why[200];
    int rc = tm_aws_xml_parse(doc, body, len, why, sizeof(why));
    if (rc) {
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "%s: %s", operation, why);
        return rc == TM_ERR_NOMEM ? rc : TM_ERR_PARSE;
    }
    *out = ec2 ? tm_aws_xml_ec2_response(*doc, operation) : tm_aws_xml_query_result(*doc, operation);
    if (!*out) {
        tm_aws_xml_free(*doc);
        *doc = NULL;
        if (errmsg && errmsg_len)
            snprintf(errmsg, errmsg_len, "%s: not a %sResponse", operation, operation);
        return TM_ERR_PARSE;
    }
    return TM_OK;
}

int tm_aws_xml_open_query(xmlDoc **doc, const xmlNode **result, const char *operation, const char *body, size_t len,
                          char *errmsg, size_t errmsg_len) {
    return s_open(doc, result, false, operation, body, len, errmsg, errmsg_len);
}

int tm_aws_xml_open_ec2(xmlDoc **doc, const xmlNode **response, const char *operation, const char *body, size_t len,
                        char *errmsg, size_t errmsg_len) {
    return s_open(doc, response, true, operation, body, len, errmsg, errmsg_len);
}

int tm_aws_xml_page_token(char **out, const xmlNode *node, const char *name, const char *truncated_flag) {
    *out = NULL;
    if (truncated_flag) {
        bool truncated = false;
        int rc = tm_aws_xml_child_bool(node, truncated_flag, &truncated);
        if (rc == TM_ERR_PARSE)
            return rc;
        if (!truncated)
            return TM_OK;
    }
    const xmlNode *c = tm_aws_xml_child(node, name);
    const char *t = c ? tm_aws_xml_text(c) : NULL;
    if (c && !t)
        return TM_ERR_PARSE;
    if (!t || !*t)
        return truncated_flag ? TM_ERR_PARSE : TM_OK;
    *out = strdup(t);
    return *out ? TM_OK : TM_ERR_NOMEM;
}
