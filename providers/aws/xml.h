/* Small libxml2 helpers for the XML answers of the query, ec2 and rest-xml protocols.
 *
 * AWS answers carry a default namespace that differs per service and API version
 * (xmlns="https://iam.amazonaws.com/doc/2010-05-08/", "http://ec2.amazonaws.com/doc/2016-11-15/",
 * S3's "http://s3.amazonaws.com/doc/2006-03-01/"), so every lookup here matches elements by local name
 * and ignores namespaces. Parsing never touches the network, never loads or expands external entities
 * and refuses documents with a DTD: an API answer has none.
 *
 * Typical use:
 *   xmlDoc *doc = NULL;
 *   if (tm_aws_xml_parse(&doc, body, len, errmsg, sizeof(errmsg))) ...
 *   const xmlNode *list = tm_aws_xml_path(tm_aws_xml_root(doc), "ListUsersResult/Users");
 *   for (const xmlNode *m = tm_aws_xml_child(list, "member"); m; m = tm_aws_xml_next(m))
 *       name = tm_aws_xml_child_text(m, "UserName");
 *   tm_aws_xml_free(doc);
 */
#ifndef TM_PROVIDERS_AWS_XML_H
#define TM_PROVIDERS_AWS_XML_H

#include <cjson/cJSON.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Largest XML answer parsed (a GetAccountAuthorizationDetails page of a big account is a few MB). */
#define TM_AWS_XML_MAX_BYTES ((size_t)64 << 20)

/* Parses len bytes. TM_ERR_PARSE (errmsg says where) when malformed, empty, carrying a DTD, or not
 * UTF-8; TM_ERR_TOO_BIG over TM_AWS_XML_MAX_BYTES. Free with tm_aws_xml_free. */
TM_MUST_CHECK int tm_aws_xml_parse(xmlDoc **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);
void tm_aws_xml_free(xmlDoc *doc);

/* The document element, or NULL. */
const xmlNode *tm_aws_xml_root(const xmlDoc *doc);
/* The local name of an element ("Users" for <iam:Users>). */
const char *tm_aws_xml_name(const xmlNode *node);
/* True when node is an element with this local name. */
bool tm_aws_xml_is(const xmlNode *node, const char *name);

/* The first element child with this local name (any element when name is NULL); NULL when node is
 * NULL or there is none. */
const xmlNode *tm_aws_xml_child(const xmlNode *node, const char *name);
/* The next sibling element with the same local name as node (for member/item lists); NULL at the end. */
const xmlNode *tm_aws_xml_next(const xmlNode *node);
/* The next sibling element of any name. */
const xmlNode *tm_aws_xml_next_element(const xmlNode *node);
/* Follows a '/'-separated path of local names from node: "DescribeRegionsResponse/regionInfo". An
 * empty path is node itself. NULL when a step is missing. */
const xmlNode *tm_aws_xml_path(const xmlNode *node, const char *path);
/* Number of element children with this local name. */
size_t tm_aws_xml_count(const xmlNode *node, const char *name);

/* The text of a leaf element (entities and character references decoded, CDATA included): "" for an
 * empty element; NULL when node is NULL or not a leaf (it has element children or is split by
 * comments or entity references). The pointer stays valid while the document lives. */
const char *tm_aws_xml_text(const xmlNode *node);
/* tm_aws_xml_text of the first child named name; NULL when absent or not a leaf. */
const char *tm_aws_xml_child_text(const xmlNode *node, const char *name);

/* Typed leaves. TM_ERR_NOT_FOUND when the child is absent, TM_ERR_PARSE when it is not of the type
 * (booleans are "true"/"false" as AWS writes them; integers are decimal, optionally signed, fitting in
 * long long). *out is untouched on error. */
TM_MUST_CHECK int tm_aws_xml_child_bool(const xmlNode *node, const char *name, bool *out);
TM_MUST_CHECK int tm_aws_xml_child_ll(const xmlNode *node, const char *name, long long *out);

/* JSON values of a child for a snapshot attribute: its text as a string, or null when absent.
 * TM_ERR_PARSE when present but not a leaf. The caller owns *out. */
TM_MUST_CHECK int tm_aws_xml_json_text(cJSON **out, const xmlNode *node, const char *name);
/* true/false, or null when absent; TM_ERR_PARSE when not a boolean. */
TM_MUST_CHECK int tm_aws_xml_json_bool(cJSON **out, const xmlNode *node, const char *name);
/* A number, or null when absent; TM_ERR_PARSE when not an integer. */
TM_MUST_CHECK int tm_aws_xml_json_int(cJSON **out, const xmlNode *node, const char *name);
/* The texts of <list><item>a</item><item>b</item></list>, a child of node, as a JSON array of strings
 * in document order: [] when the list is absent or empty; TM_ERR_PARSE when an item is not a leaf.
 * item is "member" for query, "item" for ec2. When item_child is not NULL each item is an element and
 * the text of its child item_child is taken (ec2 <groupSet><item><groupId>). */
TM_MUST_CHECK int tm_aws_xml_json_list(cJSON **out, const xmlNode *node, const char *list, const char *item,
                                       const char *item_child);

/* ---- answer shapes ---- */

/* The <OperationResult> element of a query-protocol answer (<OperationResponse><OperationResult>), or
 * NULL when the document is not that operation's answer. */
const xmlNode *tm_aws_xml_query_result(const xmlDoc *doc, const char *operation);
/* The <OperationResponse> element of an ec2-protocol answer, or NULL. */
const xmlNode *tm_aws_xml_ec2_response(const xmlDoc *doc, const char *operation);
/* Parses an answer and finds its <OperationResult> (query) or <OperationResponse> (ec2). On failure
 * *doc is NULL, errmsg (when given) reads "<Operation>: <what is wrong>", and the result is TM_ERR_NOMEM
 * or TM_ERR_PARSE (an answer over the size cap included). Free *doc with tm_aws_xml_free. */
TM_MUST_CHECK int tm_aws_xml_open_query(xmlDoc **doc, const xmlNode **result, const char *operation, const char *body,
                                        size_t len, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm_aws_xml_open_ec2(xmlDoc **doc, const xmlNode **response, const char *operation, const char *body,
                                      size_t len, char *errmsg, size_t errmsg_len);
/* The pagination token in child `name` of node ("Marker", "NextToken", "nextToken"): *out is a malloc'd
 * copy, or NULL when the child is absent or empty (the last page). With IAM's style, pass
 * truncated_flag "IsTruncated": then the token is only taken when that child is "true", and a missing
 * token under IsTruncated=true is TM_ERR_PARSE (an endless or broken pagination). */
TM_MUST_CHECK int tm_aws_xml_page_token(char **out, const xmlNode *node, const char *name, const char *truncated_flag);

#endif
