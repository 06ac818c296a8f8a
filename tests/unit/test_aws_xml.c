#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/aws/service.h"
#include "providers/aws/xml.h"

static xmlDoc *s_parse(const char *text) {
    xmlDoc *doc = NULL;
    char err[256] = "";
    int rc = tm_aws_xml_parse(&doc, text, strlen(text), err, sizeof(err));
    if (rc)
        print_error("parse: %s\n", err);
    assert_int_equal(rc, TM_OK);
    assert_non_null(doc);
    return doc;
}

static const char s_iam_users[] =
    "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
    "  <ListUsersResult>\n"
    "    <IsTruncated>true</IsTruncated>\n"
    "    <Marker>AAA+/=</Marker>\n"
    "    <Users>\n"
    "      <member><UserName>alice</UserName><Path>/</Path></member>\n"
    "      <member><UserName>b&amp;o&#x62;</UserName><Path/></member>\n"
    "      <member><UserName><![CDATA[c<d]]></UserName><Path>/ops/</Path></member>\n"
    "    </Users>\n"
    "  </ListUsersResult>\n"
    "  <ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata>\n"
    "</ListUsersResponse>\n";

static void test_namespace_agnostic_lookup_and_lists(void **state) {
    (void)state;
    xmlDoc *doc = s_parse(s_iam_users);
    const xmlNode *root = tm_aws_xml_root(doc);
    assert_true(tm_aws_xml_is(root, "ListUsersResponse"));
    const xmlNode *result = tm_aws_xml_child(root, "ListUsersResult");
    assert_non_null(result);
    bool trunc = false;
    assert_int_equal(tm_aws_xml_child_bool(result, "IsTruncated", &trunc), TM_OK);
    assert_true(trunc);
    assert_string_equal(tm_aws_xml_child_text(result, "Marker"), "AAA+/=");
    const xmlNode *users = tm_aws_xml_path(root, "ListUsersResult/Users");
    assert_non_null(users);
    assert_int_equal(tm_aws_xml_count(users, "member"), 3);
    const char *want[] = {"alice", "b&ob", "c<d"};
    const char *want_path[] = {"/", "", "/ops/"};
    int i = 0;
    for (const xmlNode *m = tm_aws_xml_child(users, "member"); m; m = tm_aws_xml_next(m), i++) {
        assert_string_equal(tm_aws_xml_child_text(m, "UserName"), want[i]);
        assert_string_equal(tm_aws_xml_child_text(m, "Path"), want_path[i]);
    }
    assert_int_equal(i, 3);
    /* Not a leaf, absent, empty path. */
    assert_null(tm_aws_xml_text(users));
    assert_null(tm_aws_xml_child_text(result, "Nope"));
    assert_ptr_equal(tm_aws_xml_path(root, ""), root);
    assert_null(tm_aws_xml_path(root, "ListUsersResult//Users"));
    assert_null(tm_aws_xml_path(NULL, "a"));
    assert_null(tm_aws_xml_child(NULL, "a"));
    assert_null(tm_aws_xml_next(NULL));
    tm_aws_xml_free(doc);
}

static void test_prefixed_namespaces_and_ec2_items(void **state) {
    (void)state;
    xmlDoc *doc = s_parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<e:DescribeRegionsResponse xmlns:e=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
                          "<e:requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</e:requestId>"
                          "<e:regionInfo><e:item><e:regionName>eu-west-1</e:regionName></e:item>"
                          "<!-- a comment --><e:item><e:regionName>us-east-1</e:regionName></e:item></e:regionInfo>"
                          "</e:DescribeRegionsResponse>");
    const xmlNode *root = tm_aws_xml_root(doc);
    cJSON *list = NULL;
    assert_int_equal(tm_aws_xml_json_list(&list, root, "regionInfo", "item", "regionName"), TM_OK);
    char *s = cJSON_PrintUnformatted(list);
    assert_string_equal(s, "[\"eu-west-1\",\"us-east-1\"]");
    free(s);
    cJSON_Delete(list);
    /* Absent list: empty array. */
    assert_int_equal(tm_aws_xml_json_list(&list, root, "nothing", "item", NULL), TM_OK);
    assert_int_equal(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    /* Items that are not leaves. */
    assert_int_equal(tm_aws_xml_json_list(&list, root, "regionInfo", "item", NULL), TM_ERR_PARSE);
    assert_null(list);
    tm_aws_xml_free(doc);
}

static void test_typed_values(void **state) {
    (void)state;
    xmlDoc *doc = s_parse("<r><t>true</t><f>false</f><bad>True</bad><n>-42</n><big>99999999999999999999</big>"
                          "<x>12a</x><e></e><nested><a>1</a></nested><sp> 1</sp></r>");
    const xmlNode *r = tm_aws_xml_root(doc);
    bool b = true;
    assert_int_equal(tm_aws_xml_child_bool(r, "f", &b), TM_OK);
    assert_false(b);
    assert_int_equal(tm_aws_xml_child_bool(r, "bad", &b), TM_ERR_PARSE);
    assert_int_equal(tm_aws_xml_child_bool(r, "missing", &b), TM_ERR_NOT_FOUND);
    assert_int_equal(tm_aws_xml_child_bool(r, "nested", &b), TM_ERR_PARSE);
    long long v = 0;
    assert_int_equal(tm_aws_xml_child_ll(r, "n", &v), TM_OK);
    assert_int_equal(v, -42);
    assert_int_equal(tm_aws_xml_child_ll(r, "big", &v), TM_ERR_PARSE);
    assert_int_equal(tm_aws_xml_child_ll(r, "x", &v), TM_ERR_PARSE);
    assert_int_equal(tm_aws_xml_child_ll(r, "e", &v), TM_ERR_PARSE);
    assert_int_equal(tm_aws_xml_child_ll(r, "sp", &v), TM_ERR_PARSE);
    assert_int_equal(v, -42);

    cJSON *j = NULL;
    assert_int_equal(tm_aws_xml_json_bool(&j, r, "t"), TM_OK);
    assert_true(cJSON_IsTrue(j));
    cJSON_Delete(j);
    assert_int_equal(tm_aws_xml_json_bool(&j, r, "missing"), TM_OK);
    assert_true(cJSON_IsNull(j));
    cJSON_Delete(j);
    assert_int_equal(tm_aws_xml_json_bool(&j, r, "bad"), TM_ERR_PARSE);
    assert_null(j);
    assert_int_equal(tm_aws_xml_json_int(&j, r, "n"), TM_OK);
    assert_true(cJSON_IsNumber(j) && j->valuedouble == -42);
    cJSON_Delete(j);
    assert_int_equal(tm_aws_xml_json_int(&j, r, "missing"), TM_OK);
    assert_true(cJSON_IsNull(j));
    cJSON_Delete(j);
    assert_int_equal(tm_aws_xml_json_text(&j, r, "e"), TM_OK);
    assert_string_equal(j->valuestring, "");
    cJSON_Delete(j);
    assert_int_equal(tm_aws_xml_json_text(&j, r, "nested"), TM_ERR_PARSE);
    assert_int_equal(tm_aws_xml_json_text(&j, r, "missing"), TM_OK);
    assert_true(cJSON_IsNull(j));
    cJSON_Delete(j);
    tm_aws_xml_free(doc);
}

static void s_expect_refused(const char *text, size_t len, int want) {
    xmlDoc *doc = (xmlDoc *)0x1;
    char err[256] = "";
    assert_int_equal(tm_aws_xml_parse(&doc, text, len, err, sizeof(err)), want);
    assert_null(doc);
    assert_true(err[0] != '\0');
}

static void test_adversarial_documents(void **state) {
    (void)state;
    const char *truncated = "<ListUsersResponse><ListUsersResult><Users><member><UserName>al";
    s_expect_refused(truncated, strlen(truncated), TM_ERR_PARSE);
    s_expect_refused("", 0, TM_ERR_PARSE);
    s_expect_refused(NULL, 0, TM_ERR_PARSE);
    s_expect_refused("{\"json\": true}", 14, TM_ERR_PARSE);
    s_expect_refused("<a></b>", 7, TM_ERR_PARSE);
    s_expect_refused("<a>1</a><b/>", 12, TM_ERR_PARSE);
    /* Entity expansion and external entities: refused before parsing. */
    const char *lol = "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                      "<l>&b;</l>";
    s_expect_refused(lol, strlen(lol), TM_ERR_PARSE);
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>";
    s_expect_refused(xxe, strlen(xxe), TM_ERR_PARSE);
    /* Invalid UTF-8 and embedded NUL. */
    const char bad_utf8[] = "<a>\xff\xfe</a>";
    s_expect_refused(bad_utf8, sizeof(bad_utf8) - 1, TM_ERR_PARSE);
    const char nul[] = "<a>x\0y</a>";
    s_expect_refused(nul, sizeof(nul) - 1, TM_ERR_PARSE);
    /* Over the cap: refused without reading. */
    s_expect_refused("<a/>", TM_AWS_XML_MAX_BYTES + 1, TM_ERR_TOO_BIG);
}

static void test_unicode_and_deep_nesting(void **state) {
    (void)state;
    xmlDoc *doc = s_parse("<r><n>r\xc3\xb4le-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x94\x91</n></r>");
    assert_string_equal(tm_aws_xml_child_text(tm_aws_xml_root(doc), "n"),
                        "r\xc3\xb4le-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x94\x91");
    tm_aws_xml_free(doc);
    /* Deep nesting is refused by libxml2's depth limit rather than exhausting the stack. */
    size_t depth = 100000;
    char *deep = malloc(depth * 7 + 1);
    assert_non_null(deep);
    size_t off = 0;
    for (size_t i = 0; i < depth; i++, off += 3)
        memcpy(deep + off, "<a>", 3);
    for (size_t i = 0; i < depth; i++, off += 4)
        memcpy(deep + off, "</a>", 4);
    deep[off] = '\0';
    s_expect_refused(deep, off, TM_ERR_PARSE);
    free(deep);
}

static void test_policy_document_decoding(void **state) {
    (void)state;
    cJSON *doc = NULL;
    const char *enc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C"
                      "%22Action%22%3A%22s3%3AGet%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa+b%22%7D%5D%7D";
    assert_int_equal(tm_aws_policy_document(&doc, enc, strlen(enc), true), TM_OK);
    const cJSON *st = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "Statement"), 0);
    assert_string_equal(cJSON_GetObjectItem(st, "Action")->valuestring, "s3:Get*");
    /* '+' is literal in IAM's encoding. */
    assert_string_equal(cJSON_GetObjectItem(st, "Resource")->valuestring, "arn:aws:s3:::a+b");
    cJSON_Delete(doc);
    assert_int_equal(tm_aws_policy_document(&doc, "{\"a\":1}", 7, false), TM_OK);
    cJSON_Delete(doc);
    assert_int_equal(tm_aws_policy_document(&doc, "%7B%22a", 7, true), TM_ERR_PARSE);
    assert_int_equal(tm_aws_policy_document(&doc, "%7", 2, true), TM_ERR_PARSE);
    assert_int_equal(tm_aws_policy_document(&doc, "[1]", 3, false), TM_ERR_PARSE);
    assert_int_equal(tm_aws_policy_document(&doc, "{} x", 4, false), TM_ERR_PARSE);
    assert_int_equal(tm_aws_policy_document(&doc, NULL, 0, false), TM_ERR_PARSE);
    assert_null(doc);
}

static void test_arn_and_unknown_value(void **state) {
    (void)state;
    char arn[64];
    assert_int_equal(tm_aws_arn(arn, sizeof(arn), "aws", "ec2", "eu-west-1", "111122223333", "instance/%s", "i-1"),
                     TM_OK);
    assert_string_equal(arn, "arn:aws:ec2:eu-west-1:111122223333:instance/i-1");
    assert_int_equal(tm_aws_arn(arn, sizeof(arn), "aws", "iam", "", "111122223333", "root"), TM_OK);
    assert_string_equal(arn, "arn:aws:iam::111122223333:root");
    char tiny[20];
    assert_int_equal(tm_aws_arn(tiny, sizeof(tiny), "aws", "iam", "", "111122223333", "root"), TM_ERR_TOO_BIG);
    assert_int_equal(tm_aws_arn(tiny, sizeof(tiny), "aws-us-gov", "iam", NULL, NULL, "x"), TM_ERR_TOO_BIG);

    struct tm_snapshot_error e = {
        "iam", "GetAccessKeyLastUsed", "global", "arn:aws:iam::1:user/a", "AccessDenied", "denied", 2};
    cJSON *u = tm_aws_unknown_value(&e);
    assert_true(tm_snapshot_is_unknown(u));
    const cJSON *in = cJSON_GetObjectItem(u, "$unknown");
    assert_string_equal(cJSON_GetObjectItem(in, "code")->valuestring, "AccessDenied");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(in, "retried")));
    cJSON_Delete(u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespace_agnostic_lookup_and_lists),
        cmocka_unit_test(test_prefixed_namespaces_and_ec2_items),
        cmocka_unit_test(test_typed_values),
        cmocka_unit_test(test_adversarial_documents),
        cmocka_unit_test(test_unicode_and_deep_nesting),
        cmocka_unit_test(test_policy_document_decoding),
        cmocka_unit_test(test_arn_and_unknown_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
