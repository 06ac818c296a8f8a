/* The policy parser and the matchers: every form AWS accepts, the errors for what it rejects, action
 * and ARN matching with wildcards, and policy variables.
 * Pages followed:
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/iam/eval.h"
#include "analyzers/iam/iam_int.h"
#include "core/hash.h"
#include "analyzers/iam/policy.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/str.h"

static char s_err[1024];

/* ---- parsing from a tree gives what parsing the tree's compact text gives ---- */

static void s_same_str(const char *a, const char *b) {
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void s_same_pat(const struct tm__iam_pat *a, const struct tm__iam_pat *b) {
    s_same_str(a->text, b->text);
    s_same_str(a->enc, b->enc);
    assert_int_equal(a->has_vars, b->has_vars);
    assert_int_equal(a->any, b->any);
    assert_int_equal(a->service_len, b->service_len);
    assert_int_equal(a->service == NULL, b->service == NULL);
    if (a->service)
        assert_memory_equal(a->service, b->service, a->service_len);
}

static void s_same_cond(const struct tm__iam_cond *a, const struct tm__iam_cond *b) {
    s_same_str(a->op_text, b->op_text);
    s_same_str(a->base_name, b->base_name);
    assert_int_equal(a->op, b->op);
    assert_int_equal(a->negated, b->negated);
    assert_int_equal(a->if_exists, b->if_exists);
    assert_int_equal(a->set_op, b->set_op);
    s_same_str(a->key, b->key);
    s_same_str(a->key_lc, b->key_lc);
    assert_int_equal(a->n_values, b->n_values);
    for (size_t i = 0; i < a->n_values; i++) {
        const struct tm__iam_cvalue *x = &a->values[i], *y = &b->values[i];
        s_same_str(x->text, y->text);
        s_same_str(a->value_texts[i], b->value_texts[i]);
        assert_int_equal(x->has_vars, y->has_vars);
        s_same_str(x->enc, y->enc);
        assert_memory_equal(&x->num, &y->num, sizeof(x->num));
        assert_int_equal(x->date_ms, y->date_ms);
        assert_int_equal(x->boolean, y->boolean);
        assert_int_equal(x->ip.family, y->ip.family);
        assert_int_equal(x->ip.prefix, y->ip.prefix);
        assert_memory_equal(x->ip.addr, y->ip.addr, sizeof(x->ip.addr));
        assert_int_equal(x->bin_len, y->bin_len);
        if (x->bin_len)
            assert_memory_equal(x->bin, y->bin, x->bin_len);
    }
}

/* Two parses of one document: equal field by field, compiled forms included. */
static void s_same_policy(const struct tm_iam_policy *a, const struct tm_iam_policy *b) {
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->version, b->version);
    s_same_str(a->id, b->id);
    s_same_str(a->text, b->text);
    assert_int_equal(a->text_len, b->text_len);
    assert_int_equal(a->n_stmts, b->n_stmts);
    for (size_t i = 0; i < a->n_stmts; i++) {
        const struct tm__iam_stmt *x = &a->stmts[i], *y = &b->stmts[i];
        assert_int_equal(x->index, y->index);
        s_same_str(x->sid, y->sid);
        assert_int_equal(x->effect, y->effect);
        assert_int_equal(x->not_action, y->not_action);
        assert_int_equal(x->n_actions, y->n_actions);
        for (size_t k = 0; k < x->n_actions; k++) {
            s_same_pat(&x->actions[k], &y->actions[k]);
            s_same_str(x->action_texts[k], y->action_texts[k]);
        }
        assert_int_equal(x->has_resource, y->has_resource);
        assert_int_equal(x->not_resource, y->not_resource);
        assert_int_equal(x->n_resources, y->n_resources);
        for (size_t k = 0; k < x->n_resources; k++) {
            s_same_pat(&x->resources[k], &y->resources[k]);
            s_same_str(x->resource_texts[k], y->resource_texts[k]);
        }
        assert_int_equal(x->principal_mode, y->principal_mode);
        assert_int_equal(x->n_principals, y->n_principals);
        for (size_t k = 0; k < x->n_principals; k++) {
            assert_int_equal(x->principals[k].type, y->principals[k].type);
            assert_int_equal(x->principals[k].aws_kind, y->principals[k].aws_kind);
            s_same_str(x->principals[k].value, y->principals[k].value);
            s_same_str(x->principals[k].account, y->principals[k].account);
        }
        assert_int_equal(x->n_conds, y->n_conds);
        for (size_t k = 0; k < x->n_conds; k++)
            s_same_cond(&x->conds[k], &y->conds[k]);
        s_same_str(x->json, y->json);
    }
}

/* tm_iam_policy_parse_json(tree) against tm_iam_policy_parse(compact text of tree): the same policy, or the
 * same error. */
static void s_check_tree(const cJSON *tree, enum tm_iam_policy_kind kind) {
    char *text = cJSON_PrintUnformatted(tree);
    assert_non_null(text);
    struct tm_iam_policy *a = NULL, *b = NULL;
    char ea[1024] = "", eb[1024] = "";
    int ra = tm_iam_policy_parse(&a, text, strlen(text), kind, ea, sizeof(ea));
    int rb = tm_iam_policy_parse_json(&b, tree, kind, eb, sizeof(eb));
    if (ra != rb)
        fail_msg("%s: from text %d (%s), from the tree %d (%s)", text, ra, ea, rb, eb);
    assert_string_equal(ea, eb);
    if (!ra)
        s_same_policy(a, b);
    else
        assert_null(b);
    tm_iam_policy_destroy(a);
    tm_iam_policy_destroy(b);
    cJSON_free(text);
}

/* Every document this file parses is parsed from its tree as well, when it is JSON at all. */
static void s_check_text_as_tree(const char *json, enum tm_iam_policy_kind kind) {
    cJSON *tree = cJSON_Parse(json);
    if (!tree)
        return;
    s_check_tree(tree, kind);
    cJSON_Delete(tree);
}

static struct tm_iam_policy *s_parse(const char *json, enum tm_iam_policy_kind kind) {
    s_check_text_as_tree(json, kind);
    struct tm_iam_policy *p = NULL;
    int rc = tm_iam_policy_parse(&p, json, strlen(json), kind, s_err, sizeof(s_err));
    if (rc)
        fail_msg("parse failed (%d): %s", rc, s_err);
    return p;
}

/* Parsing must fail with TM_ERR_PARSE and an error containing every fragment given. */
static void s_parse_fails(const char *json, enum tm_iam_policy_kind kind, const char *frag1, const char *frag2) {
    s_check_text_as_tree(json, kind);
    struct tm_iam_policy *p = NULL;
    int rc = tm_iam_policy_parse(&p, json, strlen(json), kind, s_err, sizeof(s_err));
    assert_null(p);
    assert_int_equal(rc, TM_ERR_PARSE);
    if (frag1 && !strstr(s_err, frag1))
        fail_msg("error \"%s\" lacks \"%s\"", s_err, frag1);
    if (frag2 && !strstr(s_err, frag2))
        fail_msg("error \"%s\" lacks \"%s\"", s_err, frag2);
}

static bool s_action(const char *pattern, const char *action) {
    char json[512];
    snprintf(json, sizeof(json),
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"%s\","
             "\"Resource\":\"*\"}}",
             pattern);
    struct tm_iam_policy *p = s_parse(json, TM_IAM_POLICY_IDENTITY);
    bool m = tm__iam_stmt_action_matches(&p->stmts[0], action);
    tm_iam_policy_destroy(p);
    return m;
}

static bool s_arn(const char *pattern, const char *value) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm__iam_encode(&b, pattern, strlen(pattern), true), TM_OK);
    bool m = tm__iam_arn_match(tm_buf_str(&b), value);
    tm_buf_clean_up(&b);
    return m;
}

/* A Resource pattern with variables resolved against ctx. */
static bool s_resource(const char *version, const char *pattern, const char *value, const struct tm_iam_context *ctx) {
    char json[1024];
    snprintf(json, sizeof(json), "{%s%s%s\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"%s\"}}",
             version ? "\"Version\":\"" : "", version ? version : "", version ? "\"," : "", pattern);
    struct tm_iam_policy *p = s_parse(json, TM_IAM_POLICY_IDENTITY);
    bool m = tm__iam_stmt_resource_matches(&p->stmts[0], value, ctx, NULL);
    tm_iam_policy_destroy(p);
    return m;
}

/* ---- forms AWS accepts ---- */

static void test_statement_object_or_array(void **state) {
    (void)state;
    struct tm_iam_policy *p =
        s_parse("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                "\"Resource\":\"*\"}}",
                TM_IAM_POLICY_IDENTITY);
    assert_int_equal(tm_iam_policy_statement_count(p), 1);
    assert_int_equal(tm_iam_policy_version(p), TM_IAM_VERSION_2012);
    tm_iam_policy_destroy(p);
    p = s_parse("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],"
                "\"Resource\":[\"arn:aws:s3:::a/*\",\"arn:aws:s3:::b/*\"]},{\"Sid\":\"D\",\"Effect\":\"Deny\","
                "\"NotAction\":\"iam:*\",\"NotResource\":\"*\"}]}",
                TM_IAM_POLICY_IDENTITY);
    assert_int_equal(tm_iam_policy_statement_count(p), 2);
    assert_int_equal(tm_iam_policy_version(p), TM_IAM_VERSION_NONE);
    struct tm_iam_statement_view v;
    assert_int_equal(tm_iam_policy_statement(p, 0, &v), TM_OK);
    assert_int_equal(v.n_actions, 2);
    assert_int_equal(v.n_resources, 2);
    assert_string_equal(v.resources[1], "arn:aws:s3:::b/*");
    assert_int_equal(tm_iam_policy_statement(p, 1, &v), TM_OK);
    assert_string_equal(v.sid, "D");
    assert_int_equal(v.effect, TM_IAM_DENY);
    assert_true(v.not_action);
    assert_true(v.not_resource);
    assert_int_equal(tm_iam_policy_statement(p, 2, &v), TM_ERR_NOT_FOUND);
    tm_iam_policy_destroy(p);
}

static void test_statement_json_kept_as_evidence(void **state) {
    (void)state;
    const char *doc = "{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"Q1\",\n  \"Statement\": [{\"Sid\": \"S\", "
                      "\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sqs:SendMessage\"}]\n}";
    struct tm_iam_policy *p = s_parse(doc, TM_IAM_POLICY_RESOURCE);
    assert_string_equal(tm_iam_policy_text(p), doc);
    assert_string_equal(tm_iam_policy_id(p), "Q1");
    struct tm_iam_statement_view v;
    assert_int_equal(tm_iam_policy_statement(p, 0, &v), TM_OK);
    assert_string_equal(v.json,
                        "{\"Sid\":\"S\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sqs:SendMessage\"}");
    assert_false(v.has_resource);
    tm_iam_policy_destroy(p);
}

/* "Principal": "*" and {"AWS": "*"} are equivalent (Principal page, "All principals"). */
static void test_principal_star_forms(void **state) {
    (void)state;
    const char *forms[] = {"\"*\"", "{\"AWS\":\"*\"}", "{\"AWS\":[\"*\"]}"};
    for (size_t i = 0; i < 3; i++) {
        char json[256];
        snprintf(json, sizeof(json),
                 "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":%s,\"Action\":\"s3:GetObject\"}}", forms[i]);
        struct tm_iam_policy *p = s_parse(json, TM_IAM_POLICY_RESOURCE);
        struct tm_iam_principal_view pv;
        assert_int_equal(tm_iam_policy_principal(p, 0, 0, &pv), TM_OK);
        assert_int_equal(pv.type, TM_IAM_PTYPE_ANY);
        tm_iam_policy_destroy(p);
    }
}

/* Account ids in both forms; the account ARN does not mean only the root user (Principal page). */
static void test_principal_account_forms(void **state) {
    (void)state;
    struct tm_iam_policy *p = s_parse(
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::123456789012:root\","
        "\"999999999999\"],\"CanonicalUser\":\"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be\"},"
        "\"Action\":\"s3:*\",\"Resource\":\"arn:aws:s3:::b/*\"}}",
        TM_IAM_POLICY_RESOURCE);
    struct tm_iam_principal_view pv;
    assert_int_equal(tm_iam_policy_principal(p, 0, 0, &pv), TM_OK);
    assert_int_equal(pv.aws_kind, TM_IAM_AWS_ACCOUNT);
    assert_string_equal(pv.account, "123456789012");
    assert_int_equal(tm_iam_policy_principal(p, 0, 1, &pv), TM_OK);
    assert_int_equal(pv.aws_kind, TM_IAM_AWS_ACCOUNT);
    assert_string_equal(pv.account, "999999999999");
    assert_int_equal(tm_iam_policy_principal(p, 0, 2, &pv), TM_OK);
    assert_int_equal(pv.type, TM_IAM_PTYPE_CANONICAL);
    assert_int_equal(tm_iam_policy_principal(p, 0, 3, &pv), TM_ERR_NOT_FOUND);
    tm_iam_policy_destroy(p);
}

static void test_principal_kinds(void **state) {
    (void)state;
    struct tm_iam_policy *p =
        s_parse("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::111122223333:user/u\","
                "\"arn:aws:iam::111122223333:role/path/r\",\"arn:aws:sts::111122223333:assumed-role/r/s\","
                "\"arn:aws:sts::111122223333:federated-user/f\",\"AROADBQP57FF2AEXAMPLE\"],"
                "\"Service\":[\"ecs.amazonaws.com\",\"elasticloadbalancing.amazonaws.com\"],"
                "\"Federated\":\"arn:aws:iam::111122223333:saml-provider/corp\"},\"Action\":\"sts:AssumeRole\"}}",
                TM_IAM_POLICY_TRUST);
    enum tm_iam_aws_kind kinds[] = {TM_IAM_AWS_USER, TM_IAM_AWS_ROLE, TM_IAM_AWS_ASSUMED_ROLE,
                                    TM_IAM_AWS_FEDERATED_USER, TM_IAM_AWS_UNIQUE_ID};
    struct tm_iam_principal_view pv;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(tm_iam_policy_principal(p, 0, i, &pv), TM_OK);
        assert_int_equal(pv.type, TM_IAM_PTYPE_AWS);
        assert_int_equal(pv.aws_kind, kinds[i]);
    }
    assert_int_equal(tm_iam_policy_principal(p, 0, 5, &pv), TM_OK);
    assert_int_equal(pv.type, TM_IAM_PTYPE_SERVICE);
    assert_string_equal(pv.value, "ecs.amazonaws.com");
    assert_int_equal(tm_iam_policy_principal(p, 0, 7, &pv), TM_OK);
    assert_int_equal(pv.type, TM_IAM_PTYPE_FEDERATED);
    tm_iam_policy_destroy(p);
}

static void test_condition_values_of_every_json_type(void **state) {
    (void)state;
    struct tm_iam_policy *p =
        s_parse("{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:ListBucket\","
                "\"Resource\":\"arn:aws:s3:::b\",\"Condition\":{\"NumericLessThanEquals\":{\"s3:max-keys\":10},"
                "\"Bool\":{\"aws:SecureTransport\":true},\"StringLike\":{\"s3:prefix\":[\"\",\"home/\"]}}}}",
                TM_IAM_POLICY_IDENTITY);
    struct tm_iam_condition_view cv;
    assert_int_equal(tm_iam_policy_condition(p, 0, 0, &cv), TM_OK);
    assert_string_equal(cv.values[0], "10");
    assert_int_equal(tm_iam_policy_condition(p, 0, 1, &cv), TM_OK);
    assert_string_equal(cv.values[0], "true");
    assert_int_equal(tm_iam_policy_condition(p, 0, 2, &cv), TM_OK);
    assert_int_equal(cv.n_values, 2);
    assert_string_equal(cv.values[0], "");
    assert_string_equal(cv.base_op, "StringLike");
    tm_iam_policy_destroy(p);
}

static void test_condition_operator_qualifiers(void **state) {
    (void)state;
    struct tm_iam_policy *p = s_parse(
        "{\"Statement\":{\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\",\"Condition\":{"
        "\"ForAnyValue:StringNotLikeIfExists\":{\"aws:TagKeys\":\"x*\"},\"ArnNotEqualsIfExists\":{\"aws:SourceArn\":"
        "\"arn:aws:sns:*:*:t\"}}}}",
        TM_IAM_POLICY_IDENTITY);
    struct tm_iam_condition_view cv;
    assert_int_equal(tm_iam_policy_condition(p, 0, 0, &cv), TM_OK);
    assert_int_equal(cv.set_op, TM_IAM_FOR_ANY_VALUE);
    assert_true(cv.negated);
    assert_true(cv.if_exists);
    assert_string_equal(cv.base_op, "StringNotLike");
    assert_int_equal(tm_iam_policy_condition(p, 0, 1, &cv), TM_OK);
    assert_int_equal(cv.set_op, 0);
    assert_true(cv.negated);
    assert_string_equal(cv.base_op, "ArnNotEquals");
    tm_iam_policy_destroy(p);
}

/* ---- what AWS rejects: each error names the statement and the element ---- */

static void test_error_malformed_json_has_position(void **state) {
    (void)state;
    s_parse_fails("{\n  \"Statement\": [\n    {\"Effect\": \"Allow\",,}\n  ]\n}", TM_IAM_POLICY_ANY, "line 3",
                  "malformed JSON");
    s_parse_fails("", TM_IAM_POLICY_ANY, "line 1 column 1", NULL);
    s_parse_fails("{\"Statement\":[]} trailing", TM_IAM_POLICY_ANY, "text after", NULL);
}

static void test_error_truncated(void **state) {
    (void)state;
    const char *full = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}}";
    for (size_t n = 0; n < strlen(full); n++) {
        struct tm_iam_policy *p = NULL;
        int rc = tm_iam_policy_parse(&p, full, n, TM_IAM_POLICY_ANY, s_err, sizeof(s_err));
        assert_int_equal(rc, TM_ERR_PARSE);
        assert_null(p);
    }
}

static void test_error_wrong_types(void **state) {
    (void)state;
    s_parse_fails("[]", TM_IAM_POLICY_ANY, "JSON object", NULL);
    s_parse_fails("{\"Statement\":\"x\"}", TM_IAM_POLICY_ANY, "Statement", "object or an array");
    s_parse_fails("{\"Statement\":[1]}", TM_IAM_POLICY_ANY, "statement 0", "expected an object");
    s_parse_fails("{\"Version\":20121017,\"Statement\":[]}", TM_IAM_POLICY_ANY, "Version", NULL);
    s_parse_fails("{\"Version\":\"2013-01-01\",\"Statement\":[]}", TM_IAM_POLICY_ANY, "Version", NULL);
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":5,\"Resource\":\"*\"}]}", TM_IAM_POLICY_ANY,
                  "statement 0: Action", "string or an array");
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:A\",7],\"Resource\":\"*\"}]}",
                  TM_IAM_POLICY_ANY, "Action: element 1", NULL);
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\"}]}", TM_IAM_POLICY_ANY,
                  "Action: empty array", NULL);
    s_parse_fails("{\"Statement\":[{\"Sid\":3,\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\"}]}",
                  TM_IAM_POLICY_ANY, "Sid", NULL);
}

static void test_error_names_sid_and_field(void **state) {
    (void)state;
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\"},"
                  "{\"Sid\":\"Second\",\"Effect\":\"allow\",\"Action\":\"s3:A\",\"Resource\":\"*\"}]}",
                  TM_IAM_POLICY_ANY, "statement 1 (Sid \"Second\"): Effect", "neither");
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Resource\":\"*\"}]}", TM_IAM_POLICY_ANY, "Action",
                  "missing");
    s_parse_fails("{\"Statement\":[{\"Action\":\"s3:A\",\"Resource\":\"*\"}]}", TM_IAM_POLICY_ANY, "Effect", "missing");
    s_parse_fails("{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"GetObject\",\"Resource\":\"*\"}]}",
                  TM_IAM_POLICY_ANY, "service:action", NULL);
}

static void test_error_mutually_exclusive_elements(void **state) {
    (void)state;
    s_parse_fails(
        "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"NotAction\":\"s3:B\",\"Resource\":\"*\"}}",
        TM_IAM_POLICY_ANY, "both Action and NotAction", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"NotResource\":\"x\"}}",
                  TM_IAM_POLICY_ANY, "both Resource and NotResource", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotPrincipal\":{\"AWS\":\"1\"},"
                  "\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_ANY, "both Principal and NotPrincipal", NULL);
}

static void test_error_unknown_and_duplicate_elements(void **state) {
    (void)state;
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Actions\":\"s3:A\",\"Resource\":\"*\"}}", TM_IAM_POLICY_ANY,
                  "Actions: unknown element", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Action\":\"s3:B\",\"Resource\":\"*\"}}",
                  TM_IAM_POLICY_ANY, "Action: appears twice", NULL);
    s_parse_fails("{\"Statement\":[],\"Statement\":[]}", TM_IAM_POLICY_ANY, "Statement: appears twice", NULL);
    s_parse_fails("{\"Statemnt\":[]}", TM_IAM_POLICY_ANY, "Statemnt: unknown element", NULL);
    s_parse_fails("{\"Version\":\"2012-10-17\"}", TM_IAM_POLICY_ANY, "Statement: missing", NULL);
}

static void test_error_kind_rules(void **state) {
    (void)state;
    const char *with_principal =
        "{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:A\",\"Resource\":\"*\"}}";
    s_parse_fails(with_principal, TM_IAM_POLICY_IDENTITY, "Principal", "identity-based");
    s_parse_fails(with_principal, TM_IAM_POLICY_SCP, "Principal", "service control");
    const char *no_principal = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\"}}";
    s_parse_fails(no_principal, TM_IAM_POLICY_RESOURCE, "Principal", "missing");
    s_parse_fails(no_principal, TM_IAM_POLICY_TRUST, "Principal", "missing");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\"}}", TM_IAM_POLICY_IDENTITY, "Resource",
                  "missing");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"123456789012\"},\"Action\":\"s3:A\","
                  "\"Resource\":\"*\"}}",
                  TM_IAM_POLICY_RCP, "resource control", NULL);
    struct tm_iam_policy *p = s_parse(with_principal, TM_IAM_POLICY_RCP);
    tm_iam_policy_destroy(p);
}

static void test_error_principal_values(void **state) {
    (void)state;
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"123456789012\",\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_RESOURCE, "Principal", "must be \"*\"");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:role/*\"},"
                  "\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_RESOURCE, "Principal.AWS", "wildcard");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"Group\":\"x\"},\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_RESOURCE, "unknown principal type", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"bob\"},\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_RESOURCE, "\"bob\"", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{},\"Action\":\"s3:A\"}}", TM_IAM_POLICY_RESOURCE,
                  "no principals", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::x:user/a\"},"
                  "\"Action\":\"s3:A\"}}",
                  TM_IAM_POLICY_RESOURCE, "no account id", NULL);
}

static void test_error_condition_values(void **state) {
    (void)state;
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"StringEqualz\":{\"k\":\"v\"}}}}",
                  TM_IAM_POLICY_ANY, "unknown condition operator \"StringEqualz\"", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"NumericLessThan\":{\"s3:max-keys\":\"ten\"}}}}",
                  TM_IAM_POLICY_ANY, "Condition.NumericLessThan.s3:max-keys", "not a number");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"IpAddress\":{\"aws:SourceIp\":\"300.1.1.1/8\"}}}}",
                  TM_IAM_POLICY_ANY, "aws:SourceIp", "not an IPv4");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-13-01\"}}}}",
                  TM_IAM_POLICY_ANY, "aws:CurrentTime", "ISO 8601");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}}}",
                  TM_IAM_POLICY_ANY, "aws:SecureTransport", "true or false");
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"BinaryEquals\":{\"k\":\"not base64!\"}}}}",
                  TM_IAM_POLICY_ANY, "not base64", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"StringEquals\":{\"k\":null}}}}",
                  TM_IAM_POLICY_ANY, "Condition.StringEquals.k", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"StringEquals\":{\"k\":[]}}}}",
                  TM_IAM_POLICY_ANY, "empty list", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"NullIfExists\":{\"k\":\"true\"}}}}",
                  TM_IAM_POLICY_ANY, "unknown condition operator", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"StringEquals\":{\"aws:username\":\"a\",\"AWS:UserName\":\"b\"}}}}",
                  TM_IAM_POLICY_ANY, "appears twice", NULL);
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:A\",\"Resource\":\"*\",\"Condition\":"
                  "{\"StringEquals\":\"x\"}}}",
                  TM_IAM_POLICY_ANY, "StringEquals", "condition keys");
}

static void test_error_adversarial_bytes(void **state) {
    (void)state;
    /* Invalid UTF-8 (a lone continuation byte, an overlong encoding). */
    s_parse_fails("{\"Statement\":[], \"Id\":\"\x80\"}", TM_IAM_POLICY_ANY, "not valid UTF-8", NULL);
    s_parse_fails("{\"Id\":\"\xC0\xAF\",\"Statement\":[]}", TM_IAM_POLICY_ANY, "not valid UTF-8", NULL);
    /* \u0000 would silently cut "s3:GetObject\u0000junk" short. */
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:Get\\u0000x\",\"Resource\":\"*\"}}",
                  TM_IAM_POLICY_ANY, "\\u0000", NULL);
    /* The wildcard marker bytes never reach a pattern. */
    s_parse_fails("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:Get\\u0001\",\"Resource\":\"*\"}}",
                  TM_IAM_POLICY_ANY, "control character", NULL);
    /* Past long ASCII runs (read eight bytes at a time) the bad byte is still found, at its own column. */
    s_parse_fails("{\"Statement\":[],\"Id\":\"abcdefghijklmnopqrstuvwxyz\xE2\x82\"}", TM_IAM_POLICY_ANY,
                  "line 1 column 49: not valid UTF-8", NULL);
    s_parse_fails("{\"Statement\":[],\"Id\":\"abcdefghijklmnop\xF0\x9F\x98\x80qrstuvwxyz0123456\xFF\"}",
                  TM_IAM_POLICY_ANY, "line 1 column 60: not valid UTF-8", NULL);
    struct tm_iam_policy *ok = s_parse("{\"Statement\":[],\"Id\":\"abcdefghijklmnop\xC3\xA9\xE2\x82\xAC"
                                       "qrstuvwxyz\xF0\x9F\x98\x80\"}",
                                       TM_IAM_POLICY_ANY);
    tm_iam_policy_destroy(ok);
    /* An escaped backslash then "u0000" is text, not \u0000; a \u0000 after other escapes is found. */
    ok = s_parse("{\"Statement\":[],\"Id\":\"a\\\\u0000b\"}", TM_IAM_POLICY_ANY);
    tm_iam_policy_destroy(ok);
    s_parse_fails("{\"Statement\":[],\"Id\":\"\\\"x\\\\y\\u0000\"}", TM_IAM_POLICY_ANY, "\\u0000", NULL);
    /* An embedded NUL byte in the buffer. */
    const char nul_doc[] = "{\"Statement\":[]}\0{}";
    struct tm_iam_policy *p = NULL;
    assert_int_equal(tm_iam_policy_parse(&p, nul_doc, sizeof(nul_doc) - 1, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)),
                     TM_ERR_PARSE);
    assert_non_null(strstr(s_err, "NUL"));
}

static void test_unicode_values_accepted(void **state) {
    (void)state;
    struct tm_iam_policy *p = s_parse("{\"Statement\":{\"Sid\":\"caf\xC3\xA9\",\"Effect\":\"Allow\",\"Action\":"
                                      "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/\xE6\x97\xA5\xE6\x9C\xAC/*\"}}",
                                      TM_IAM_POLICY_IDENTITY);
    assert_true(tm__iam_stmt_resource_matches(&p->stmts[0], "arn:aws:s3:::b/\xE6\x97\xA5\xE6\x9C\xAC/x", NULL, NULL));
    tm_iam_policy_destroy(p);
    /* '?' matches one character, not one byte. */
    assert_true(s_arn("arn:aws:s3:::b/?", "arn:aws:s3:::b/\xC3\xA9"));
    assert_false(s_arn("arn:aws:s3:::b/??", "arn:aws:s3:::b/\xC3\xA9"));
}

static void test_error_oversized(void **state) {
    (void)state;
    size_t n = TM_IAM_POLICY_MAX_BYTES + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, ' ', n);
    big[n] = '\0';
    struct tm_iam_policy *p = NULL;
    assert_int_equal(tm_iam_policy_parse(&p, big, n, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_ERR_TOO_BIG);
    assert_null(p);
    free(big);
    assert_int_equal(tm_iam_policy_parse(&p, NULL, 0, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_ERR_INVALID);
}

static void test_deep_nesting_rejected(void **state) {
    (void)state;
    size_t depth = 5000;
    char *doc = malloc(depth * 2 + 64);
    assert_non_null(doc);
    size_t k = 0;
    k += (size_t)sprintf(doc, "{\"Statement\":");
    for (size_t i = 0; i < depth; i++)
        doc[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        doc[k++] = ']';
    doc[k++] = '}';
    doc[k] = '\0';
    struct tm_iam_policy *p = NULL;
    assert_int_equal(tm_iam_policy_parse(&p, doc, k, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_ERR_PARSE);
    free(doc);
}

static void test_load_names_file(void **state) {
    (void)state;
    struct tm_iam_policy *p = NULL;
    assert_int_not_equal(
        tm_iam_policy_load(&p, "/nonexistent/tmscan-policy.json", TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_OK);
    assert_non_null(strstr(s_err, "/nonexistent/tmscan-policy.json"));
    char path[] = "/tmp/tmscan-iam-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"Statement\":{\"Effect\":\"Alow\",\"Action\":\"s3:A\",\"Resource\":\"*\"}}", f);
    fclose(f);
    assert_int_equal(tm_iam_policy_load(&p, path, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_ERR_PARSE);
    assert_non_null(strstr(s_err, path));
    assert_non_null(strstr(s_err, "statement 0: Effect"));
    unlink(path);
}

/* ---- actions: case-insensitive, * and ? ---- */

static void test_action_exact_case_insensitive(void **state) {
    (void)state;
    assert_true(s_action("s3:GetObject", "s3:GetObject"));
    assert_true(s_action("S3:getobject", "s3:GetObject"));
    assert_true(s_action("SQS:SendMessage", "sqs:sendmessage"));
    assert_false(s_action("s3:GetObject", "s3:GetObjectAcl"));
    assert_false(s_action("s3:GetObject", "s3x:GetObject"));
}

static void test_action_wildcards(void **state) {
    (void)state;
    assert_true(s_action("*", "anything:AtAll"));
    assert_true(s_action("s3:*", "s3:PutBucketPolicy"));
    assert_false(s_action("s3:*", "s3express:CreateSession"));
    assert_true(s_action("s3:Get*", "s3:GetObjectVersion"));
    assert_true(s_action("iam:*AccessKey*", "iam:CreateAccessKey"));
    assert_true(s_action("iam:*AccessKey*", "iam:ListAccessKeys"));
    assert_false(s_action("iam:*AccessKey*", "iam:CreateUser"));
    assert_true(s_action("ec2:Describe?pcs", "ec2:DescribeVpcs"));
    assert_false(s_action("ec2:Describe?pcs", "ec2:DescribeVVpcs"));
    assert_true(s_action("*:List*", "iam:ListUsers"));
    assert_true(s_action("iam:*Report", "iam:GetOrganizationsAccessReport"));
    assert_false(s_action("iam:*Report", "iam:GenerateCredentialReports"));
}

/* NotAction "matches everything except the specified list of actions" (NotAction page). */
static void test_not_action(void **state) {
    (void)state;
    struct tm_iam_policy *p = s_parse(
        "{\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":\"iam:*\",\"Resource\":\"*\"}}", TM_IAM_POLICY_IDENTITY);
    assert_true(tm__iam_stmt_action_matches(&p->stmts[0], "s3:GetObject"));
    assert_false(tm__iam_stmt_action_matches(&p->stmts[0], "iam:CreateUser"));
    assert_false(tm__iam_stmt_action_matches(&p->stmts[0], "IAM:createuser"));
    tm_iam_policy_destroy(p);
}

/* ---- ARNs ---- */

static void test_arn_exact_and_case(void **state) {
    (void)state;
    assert_true(s_arn("arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/Bob"));
    /* "In the Resource element, the IAM user name is case sensitive." */
    assert_false(s_arn("arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/bob"));
    assert_true(s_arn("*", "arn:aws:s3:::anything"));
    assert_true(s_arn("*", "*"));
}

static void test_arn_wildcard_in_segments(void **state) {
    (void)state;
    assert_true(s_arn("arn:aws:iam::123456789012:user/accounting/*", "arn:aws:iam::123456789012:user/accounting/ann"));
    assert_false(s_arn("arn:aws:iam::123456789012:user/accounting/*", "arn:aws:iam::123456789012:user/sales/ann"));
    assert_true(s_arn("arn:aws:sqs:us-east-2:*:q", "arn:aws:sqs:us-east-2:111122223333:q"));
    assert_false(s_arn("arn:aws:sqs:us-east-2:*:q", "arn:aws:sqs:us-west-2:111122223333:q"));
    assert_true(s_arn("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1"));
    assert_true(s_arn("arn:aws:s3:::example?bucket/*", "arn:aws:s3:::example1bucket/x"));
    assert_false(s_arn("arn:aws:s3:::example?bucket/*", "arn:aws:s3:::example12bucket/x"));
}

/* "The asterisk (*) character can expand to replace everything within a segment, including characters
 * like a forward slash (/)" with the documented object list (Resource page). */
static void test_arn_star_spans_slashes(void **state) {
    (void)state;
    const char *pat = "arn:aws:s3:::amzn-s3-demo-bucket/*/test/*";
    const char *yes[] = {"amzn-s3-demo-bucket/1/test/object.jpg",     "amzn-s3-demo-bucket/1/2/test/object.jpg",
                         "amzn-s3-demo-bucket/1/2/test/3/object.jpg", "amzn-s3-demo-bucket/1/2/3/test/4/object.jpg",
                         "amzn-s3-demo-bucket/1///test///object.jpg", "amzn-s3-demo-bucket/1/test/.jpg",
                         "amzn-s3-demo-bucket//test/object.jpg",      "amzn-s3-demo-bucket/1/test/"};
    const char *no[] = {"amzn-s3-demo-bucket/1-test/object.jpg", "amzn-s3-demo-bucket/test/object.jpg",
                        "amzn-s3-demo-bucket/1/2/test.jpg"};
    char arn[256];
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", yes[i]);
        if (!s_arn(pat, arn))
            fail_msg("%s should match", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        snprintf(arn, sizeof(arn), "arn:aws:s3:::%s", no[i]);
        if (s_arn(pat, arn))
            fail_msg("%s should not match", no[i]);
    }
}

/* "If the * wildcard is the last character of a resource ARN segment, it can expand to match beyond
 * the colon boundaries." */
static void test_arn_trailing_star_crosses_colons(void **state) {
    (void)state;
    assert_true(s_arn("arn:aws:sqs:*", "arn:aws:sqs:us-east-1:111122223333:queue"));
    assert_true(s_arn("arn:aws:iam::*", "arn:aws:iam::111122223333:role/r"));
    assert_false(s_arn("arn:aws:sqs:us-east-1", "arn:aws:sqs:us-east-1:111122223333:queue"));
    assert_false(s_arn("arn:aws:sns:*", "arn:aws:sqs:us-east-1:111122223333:queue"));
    /* The resource part keeps its colons: a Lambda alias ARN. */
    assert_true(s_arn("arn:aws:lambda:us-east-1:111122223333:function:f*",
                      "arn:aws:lambda:us-east-1:111122223333:function:f:prod"));
    assert_false(s_arn("arn:aws:lambda:us-east-1:111122223333:function:f",
                       "arn:aws:lambda:us-east-1:111122223333:function:f:prod"));
}

/* The condition-operators page example: ArnLike matches segment by segment where StringLike would not. */
static void test_arn_like_vs_string_like(void **state) {
    (void)state;
    const char *pat = "arn:aws:someservice:*:111122223333:finance/*";
    const char *value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";
    assert_false(s_arn(pat, value));
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm__iam_encode(&b, pat, strlen(pat), true), TM_OK);
    assert_true(tm__iam_glob(tm_buf_str(&b), value, false));
    tm_buf_clean_up(&b);
}

static void test_arn_non_arn_values(void **state) {
    (void)state;
    assert_true(s_arn("execute-api:/*", "execute-api:/prod/GET/pets"));
    assert_false(s_arn("arn:aws:s3:::b", "b"));
    assert_false(s_arn("arn:aws:s3:::b", "arn:aws:s3"));
}

static void test_glob_pathological_is_fast(void **state) {
    (void)state;
    /* a*a*a*...b against aaaa...: exponential for a naive backtracker. */
    char pat[200], text[4000];
    size_t k = 0;
    for (int i = 0; i < 60; i++) {
        pat[k++] = 'a';
        pat[k++] = TM__IAM_STAR;
    }
    pat[k++] = 'b';
    pat[k] = '\0';
    memset(text, 'a', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    assert_false(tm__iam_glob(pat, text, false));
    assert_true(tm__iam_glob("\x01\x01\x01", "", false));
    assert_false(tm__iam_glob("\x02", "", false));
}

/* ---- policy variables ---- */

static void test_variables_username(void **state) {
    (void)state;
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:username", "David"), TM_OK);
    assert_true(
        s_resource("2012-10-17", "arn:aws:s3:::mybucket/${aws:username}/*", "arn:aws:s3:::mybucket/David/x", &ctx));
    assert_false(
        s_resource("2012-10-17", "arn:aws:s3:::mybucket/${aws:username}/*", "arn:aws:s3:::mybucket/Adele/x", &ctx));
    /* Key names in variables ignore case too. */
    assert_true(s_resource("2012-10-17", "arn:aws:iam::123456789012:user/${AWS:UserName}",
                           "arn:aws:iam::123456789012:user/David", &ctx));
    tm_iam_context_clean_up(&ctx);
}

/* "If you don't include the Version element ... variables like ${aws:username} are treated as literal
 * strings in the policy." */
static void test_variables_literal_before_2012(void **state) {
    (void)state;
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:username", "David"), TM_OK);
    assert_false(s_resource("2008-10-17", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/David/x", &ctx));
    assert_true(s_resource("2008-10-17", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/${aws:username}/x", &ctx));
    assert_false(s_resource(NULL, "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/David/x", &ctx));
    tm_iam_context_clean_up(&ctx);
}

static void test_variables_special_characters(void **state) {
    (void)state;
    /* ${*} is a literal asterisk, not a wildcard. */
    assert_true(s_resource("2012-10-17", "arn:aws:s3:::b/star${*}", "arn:aws:s3:::b/star*", NULL));
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/star${*}", "arn:aws:s3:::b/starX", NULL));
    assert_true(s_resource("2012-10-17", "arn:aws:s3:::b/q${?}", "arn:aws:s3:::b/q?", NULL));
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/q${?}", "arn:aws:s3:::b/qX", NULL));
    assert_true(s_resource("2012-10-17", "arn:aws:s3:::b/d${$}", "arn:aws:s3:::b/d$", NULL));
}

static void test_variables_default_value(void **state) {
    (void)state;
    assert_true(
        s_resource("2012-10-17", "arn:aws:s3:::b/${aws:userid, 'anonymous'}/*", "arn:aws:s3:::b/anonymous/x", NULL));
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:userid", "AIDAEXAMPLE"), TM_OK);
    assert_true(
        s_resource("2012-10-17", "arn:aws:s3:::b/${aws:userid, 'anonymous'}/*", "arn:aws:s3:::b/AIDAEXAMPLE/x", &ctx));
    assert_false(
        s_resource("2012-10-17", "arn:aws:s3:::b/${aws:userid, 'anonymous'}/*", "arn:aws:s3:::b/anonymous/x", &ctx));
    tm_iam_context_clean_up(&ctx);
}

static void test_variables_unresolved_never_match(void **state) {
    (void)state;
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/x/y", NULL));
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/${aws:username}*", "arn:aws:s3:::b/", NULL));
    /* Substituted text is literal: a '*' in a tag value is not a wildcard. */
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:PrincipalTag/team", "a*"), TM_OK);
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/team}", "arn:aws:s3:::b/abc", &ctx));
    assert_true(s_resource("2012-10-17", "arn:aws:s3:::b/${aws:PrincipalTag/team}", "arn:aws:s3:::b/a*", &ctx));
    /* Multivalued keys cannot be variables. */
    assert_int_equal(tm_iam_context_add(&ctx, "aws:TagKeys", "a"), TM_OK);
    assert_int_equal(tm_iam_context_add(&ctx, "aws:TagKeys", "b"), TM_OK);
    assert_false(s_resource("2012-10-17", "arn:aws:s3:::b/${aws:TagKeys}", "arn:aws:s3:::b/a", &ctx));
    tm_iam_context_clean_up(&ctx);
}

/* "You can use a policy variable in the Resource element, but only in the resource portion of the ARN." */
static void test_variables_only_in_resource_part(void **state) {
    (void)state;
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:PrincipalAccount", "111122223333"), TM_OK);
    assert_false(s_resource("2012-10-17", "arn:aws:sqs:us-east-2:${aws:PrincipalAccount}:q",
                            "arn:aws:sqs:us-east-2:111122223333:q", &ctx));
    assert_int_equal(tm_iam_context_set(&ctx, "aws:username", "ann"), TM_OK);
    /* The Variables page's queue example: "arn:aws:sqs:us-east-2:*:${aws:username}-queue". */
    assert_true(s_resource("2012-10-17", "arn:aws:sqs:us-east-2:*:${aws:username}-queue",
                           "arn:aws:sqs:us-east-2:111122223333:ann-queue", &ctx));
    assert_false(s_resource("2012-10-17", "arn:aws:sqs:us-east-2:*:${aws:username}-queue",
                            "arn:aws:sqs:us-east-2:111122223333:bob-queue", &ctx));
    tm_iam_context_clean_up(&ctx);
}

static void test_context_keys_case_insensitive(void **state) {
    (void)state;
    struct tm_iam_context ctx;
    tm_iam_context_init(&ctx);
    assert_int_equal(tm_iam_context_set(&ctx, "aws:SourceIP", "1.2.3.4"), TM_OK);
    size_t n = 0;
    const char *const *v = tm_iam_context_get(&ctx, "AWS:sourceip", &n);
    assert_non_null(v);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "1.2.3.4");
    assert_int_equal(tm_iam_context_set(&ctx, "aws:sourceip", "5.6.7.8"), TM_OK);
    v = tm_iam_context_get(&ctx, "aws:SourceIp", &n);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "5.6.7.8");
    assert_int_equal(tm_iam_context_set_empty(&ctx, "aws:TagKeys"), TM_OK);
    v = tm_iam_context_get(&ctx, "aws:tagkeys", &n);
    assert_non_null(v);
    assert_int_equal(n, 0);
    assert_null(tm_iam_context_get(&ctx, "aws:nothing", &n));
    assert_int_equal(tm_iam_context_set(&ctx, "", "x"), TM_ERR_INVALID);
    tm_iam_context_clean_up(&ctx);
}

/* ---- parsing from a tree, and the cache ---- */

static enum tm_iam_policy_kind s_kind_of(const char *key) {
    if (strcmp(key, "trust") == 0)
        return TM_IAM_POLICY_TRUST;
    if (strcmp(key, "resource") == 0)
        return TM_IAM_POLICY_RESOURCE;
    if (strcmp(key, "scps") == 0)
        return TM_IAM_POLICY_SCP;
    if (strcmp(key, "rcps") == 0)
        return TM_IAM_POLICY_RCP;
    return TM_IAM_POLICY_IDENTITY;
}

struct s_corpus {
    struct tm_iam_policy_cache *cache;
    size_t docs;
};

/* One document of a snapshot: from its tree as from its text, and through the cache the same policy as for any
 * document printing the same. */
static void s_corpus_doc(struct s_corpus *c, const cJSON *doc, enum tm_iam_policy_kind kind) {
    if (!cJSON_IsObject(doc) || cJSON_GetObjectItemCaseSensitive(doc, "$unknown"))
        return;
    c->docs++;
    s_check_tree(doc, kind);
    s_check_tree(doc, TM_IAM_POLICY_ANY);
    const struct tm_iam_policy *cached = NULL, *again = NULL;
    char err[1024];
    int rc = tm_iam_policy_cache_parse_json(&cached, c->cache, doc, kind, err, sizeof(err));
    char *text = cJSON_PrintUnformatted(doc);
    assert_non_null(text);
    struct tm_iam_policy *direct = NULL;
    assert_int_equal(tm_iam_policy_parse(&direct, text, strlen(text), kind, NULL, 0), rc);
    if (!rc) {
        s_same_policy(cached, direct);
        assert_int_equal(tm_iam_policy_cache_parse(&again, c->cache, text, strlen(text), kind, NULL, 0), TM_OK);
        assert_ptr_equal(again, cached);
    }
    tm_iam_policy_destroy(direct);
    cJSON_free(text);
}

static void s_corpus_file(struct s_corpus *c, const char *path) {
    struct tm_buf b;
    tm_buf_init(&b, 0);
    char msg[512];
    assert_int_equal(tm_file_read(&b, path, 0, msg, sizeof(msg)), TM_OK);
    cJSON *root = cJSON_ParseWithLength(b.data, b.len);
    tm_buf_clean_up(&b);
    assert_non_null(root);
    const cJSON *res;
    cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(root, "resources")) {
        const cJSON *pol;
        cJSON_ArrayForEach(pol, cJSON_GetObjectItemCaseSensitive(res, "policies")) {
            enum tm_iam_policy_kind kind = s_kind_of(pol->string);
            if (!cJSON_IsArray(pol)) {
                s_corpus_doc(c, pol, kind);
                continue;
            }
            const cJSON *it;
            cJSON_ArrayForEach(it, pol) s_corpus_doc(c, cJSON_GetObjectItemCaseSensitive(it, "document"), kind);
        }
    }
    cJSON_Delete(root);
}

/* Every policy document of the test snapshots (the demo account's among them), as the graph reads them: from
 * the tree, the same policy as from the text; through the cache, one policy per distinct text. */
static void test_parse_json_snapshot_corpus(void **state) {
    (void)state;
    struct s_corpus c = {0};
    assert_int_equal(tm_iam_policy_cache_new(&c.cache), TM_OK);
    char dir[4096];
    const char *root = getenv("TM_ROOT");
    snprintf(dir, sizeof(dir), "%s%stests/data/snapshots", root ? root : "", root ? "/" : "");
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d))) {
        if (!tm_str_ends_with(e->d_name, ".json"))
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        s_corpus_file(&c, path);
        files++;
    }
    closedir(d);
    assert_true(files >= 5);
    assert_true(c.docs >= 50);
    /* Documents repeat across the snapshots (the same managed policy, the same trust policy). */
    assert_true(tm_iam_policy_cache_count(c.cache) < c.docs);
    tm_iam_policy_cache_destroy(c.cache);
}

/* Trees that do not print back to themselves (a number that is not finite prints as null; a raw item as its
 * text) get the answer their text gets. */
static void test_parse_json_odd_trees(void **state) {
    (void)state;
    const char *base = "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\","
                       "\"Resource\":\"*\",\"Condition\":{\"NumericLessThan\":{\"s3:max-keys\":1}}}}";
    cJSON *tree = cJSON_Parse(base);
    assert_non_null(tree);
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    cJSON *cond = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree, "Statement"), "Condition");
    cJSON *op = cJSON_GetObjectItemCaseSensitive(cond, "NumericLessThan");
    const double values[] = {INFINITY, -INFINITY, NAN, 0.1, 1e300, -0.0, 123456789012345678.0};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_true(cJSON_ReplaceItemInObjectCaseSensitive(op, "s3:max-keys", cJSON_CreateNumber(values[i])));
        s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    }
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(op, "s3:max-keys", cJSON_CreateRaw("[5, 6]")));
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(op, "s3:max-keys", cJSON_CreateRaw("{")));
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    /* Strings that are not UTF-8, or hold the wildcard marker bytes, fail as their text does. */
    cJSON *st = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(st, "Action", cJSON_CreateString("s3:Get\xC0\xAF")));
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    assert_true(cJSON_ReplaceItemInObjectCaseSensitive(st, "Action", cJSON_CreateString("s3:Get\x01")));
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    /* Not an object at all. */
    cJSON *str = cJSON_CreateString(base);
    s_check_tree(str, TM_IAM_POLICY_IDENTITY);
    cJSON_Delete(str);
    cJSON *arr = cJSON_CreateArray();
    s_check_tree(arr, TM_IAM_POLICY_IDENTITY);
    cJSON_Delete(arr);
    cJSON_Delete(tree);
    struct tm_iam_policy *p = (struct tm_iam_policy *)1;
    assert_int_equal(tm_iam_policy_parse_json(&p, NULL, TM_IAM_POLICY_ANY, s_err, sizeof(s_err)), TM_ERR_INVALID);
    assert_null(p);
}

/* A document printing over the size limit fails as its text does. */
static void test_parse_json_oversized(void **state) {
    (void)state;
    cJSON *tree = cJSON_Parse("{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":[]}}");
    assert_non_null(tree);
    cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tree, "Statement"), "Resource");
    char arn[128];
    for (size_t i = 0; i * 30 < TM_IAM_POLICY_MAX_BYTES + 4096; i++) { /* 33 bytes each, printed */
        snprintf(arn, sizeof(arn), "arn:aws:s3:::bucket-%08zu/*", i);
        assert_true(cJSON_AddItemToArray(res, cJSON_CreateString(arn)));
    }
    s_check_tree(tree, TM_IAM_POLICY_IDENTITY);
    struct tm_iam_policy_cache *c = NULL;
    assert_int_equal(tm_iam_policy_cache_new(&c), TM_OK);
    const struct tm_iam_policy *p = NULL;
    assert_int_equal(tm_iam_policy_cache_parse_json(&p, c, tree, TM_IAM_POLICY_IDENTITY, s_err, sizeof(s_err)),
                     TM_ERR_TOO_BIG);
    assert_null(p);
    assert_non_null(strstr(s_err, "limit"));
    assert_int_equal(tm_iam_policy_cache_count(c), 0);
    tm_iam_policy_cache_destroy(c);
    cJSON_Delete(tree);
}

/* Equal documents give the same policy object, whether given as text or as a tree printing to that text; the
 * kind is part of the key; documents that fail are not kept and fail the same way every time. */
static void test_cache_shares_equal_documents(void **state) {
    (void)state;
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                      "\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]}";
    struct tm_iam_policy_cache *c = NULL;
    assert_int_equal(tm_iam_policy_cache_new(&c), TM_OK);
    assert_int_equal(tm_iam_policy_cache_count(c), 0);
    size_t empty_bytes = tm_iam_policy_cache_memory_bytes(c);
    const struct tm_iam_policy *a = NULL, *b = NULL, *t = NULL, *other = NULL, *k = NULL;
    assert_int_equal(tm_iam_policy_cache_parse(&a, c, doc, strlen(doc), TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_non_null(a);
    assert_int_equal(tm_iam_policy_cache_count(c), 1);
    assert_true(tm_iam_policy_cache_memory_bytes(c) > empty_bytes);
    /* A copy of the text, not the same pointer. */
    char *copy = strdup(doc);
    assert_int_equal(tm_iam_policy_cache_parse(&b, c, copy, strlen(copy), TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_ptr_equal(a, b);
    free(copy);
    /* The tree of the document prints to the same compact text. */
    cJSON *tree = cJSON_Parse(doc);
    assert_int_equal(tm_iam_policy_cache_parse_json(&t, c, tree, TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_ptr_equal(a, t);
    assert_int_equal(tm_iam_policy_cache_count(c), 1);
    /* Another kind is another policy. */
    assert_int_equal(tm_iam_policy_cache_parse_json(&k, c, tree, TM_IAM_POLICY_RESOURCE, NULL, 0), TM_OK);
    assert_ptr_not_equal(a, k);
    assert_int_equal(tm_iam_policy_kind(k), TM_IAM_POLICY_RESOURCE);
    /* Another document (one more statement) is another policy; asked again, the same one. */
    cJSON *stmts = cJSON_GetObjectItemCaseSensitive(tree, "Statement");
    assert_true(cJSON_AddItemToArray(stmts, cJSON_Duplicate(stmts->child, true)));
    assert_int_equal(tm_iam_policy_cache_parse_json(&other, c, tree, TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_ptr_not_equal(a, other);
    assert_int_equal(tm_iam_policy_statement_count(other), 2);
    const struct tm_iam_policy *other2 = NULL;
    assert_int_equal(tm_iam_policy_cache_parse_json(&other2, c, tree, TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_ptr_equal(other, other2);
    assert_int_equal(tm_iam_policy_cache_count(c), 3);
    /* A pretty-printed text is another document (its text differs), parsed to an equal policy but its own. */
    cJSON *orig = cJSON_Parse(doc);
    char *pretty = cJSON_Print(orig);
    assert_non_null(pretty);
    const struct tm_iam_policy *pp = NULL;
    assert_int_equal(tm_iam_policy_cache_parse(&pp, c, pretty, strlen(pretty), TM_IAM_POLICY_TRUST, NULL, 0), TM_OK);
    assert_ptr_not_equal(pp, a);
    assert_string_equal(tm_iam_policy_text(pp), pretty);
    assert_int_equal(tm_iam_policy_statement_count(pp), 1);
    cJSON_free(pretty);
    cJSON_Delete(orig);
    assert_int_equal(tm_iam_policy_cache_count(c), 4);
    /* A document that fails: the error of tm_iam_policy_parse, nothing kept, the same again. */
    const char *bad = "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\"}}";
    char want[512], got[512];
    struct tm_iam_policy *direct = NULL;
    assert_int_equal(tm_iam_policy_parse(&direct, bad, strlen(bad), TM_IAM_POLICY_TRUST, want, sizeof(want)),
                     TM_ERR_PARSE);
    size_t before_bad = tm_iam_policy_cache_memory_bytes(c);
    for (int i = 0; i < 2; i++) {
        const struct tm_iam_policy *none = a;
        assert_int_equal(tm_iam_policy_cache_parse(&none, c, bad, strlen(bad), TM_IAM_POLICY_TRUST, got, sizeof(got)),
                         TM_ERR_PARSE);
        assert_null(none);
        assert_string_equal(got, want);
    }
    assert_int_equal(tm_iam_policy_cache_count(c), 4);
    assert_int_equal(tm_iam_policy_cache_memory_bytes(c), before_bad);
    /* A cached policy takes its own bytes only, no chunk of its own. */
    assert_true(tm_iam_policy_memory_bytes(a) >= strlen(doc));
    assert_true(tm_iam_policy_memory_bytes(a) < 2048);
    /* Missing arguments. */
    const struct tm_iam_policy *none = a;
    assert_int_equal(tm_iam_policy_cache_parse(&none, c, NULL, 0, TM_IAM_POLICY_ANY, got, sizeof(got)), TM_ERR_INVALID);
    assert_null(none);
    assert_int_equal(tm_iam_policy_cache_parse_json(&none, c, NULL, TM_IAM_POLICY_ANY, got, sizeof(got)),
                     TM_ERR_INVALID);
    assert_int_equal(tm_iam_policy_cache_count(NULL), 0);
    assert_int_equal(tm_iam_policy_cache_memory_bytes(NULL), 0);
    tm_iam_policy_cache_destroy(NULL);
    cJSON_Delete(tree);
    tm_iam_policy_cache_destroy(c);
}

/* Many distinct documents: the table grows and every one is still found. */
static void test_cache_many_documents(void **state) {
    (void)state;
    struct tm_iam_policy_cache *c = NULL;
    assert_int_equal(tm_iam_policy_cache_new(&c), TM_OK);
    enum { N = 3000 };
    const struct tm_iam_policy **got = calloc(N, sizeof(*got));
    assert_non_null(got);
    char doc[256];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(doc, sizeof(doc),
                     "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":"
                     "\"arn:aws:s3:::bucket-%d/*\"}}",
                     i);
            const struct tm_iam_policy *p = NULL;
            assert_int_equal(tm_iam_policy_cache_parse(&p, c, doc, strlen(doc), TM_IAM_POLICY_IDENTITY, NULL, 0),
                             TM_OK);
            if (round == 0)
                got[i] = p;
            else
                assert_ptr_equal(got[i], p);
            assert_string_equal(tm_iam_policy_text(p), doc);
        }
    }
    assert_int_equal(tm_iam_policy_cache_count(c), N);
    free(got);
    tm_iam_policy_cache_destroy(c);
}

/* The text hash reads exactly n bytes (a buffer of n, not NUL-terminated) and every byte counts, the last
 * partial word's too; the seed (a policy's kind) keeps equal texts apart. */
static void test_text_hash(void **state) {
    (void)state;
    const char *base = "arn:aws:s3:::bucket-with-a-long-name/prefix/*";
    size_t n = strlen(base);
    for (size_t len = 0; len <= n; len++) {
        char *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, base, len);
        uint64_t h = tm_hash_words_n(1, exact, len);
        assert_int_equal(h, tm_hash_words_n(1, base, len));
        assert_int_not_equal(h, tm_hash_words_n(2, exact, len));
        for (size_t i = 0; i < len; i++) {
            exact[i] ^= 0x20;
            assert_int_not_equal(tm_hash_words_n(1, exact, len), h);
            exact[i] ^= 0x20;
        }
        if (len)
            assert_int_not_equal(tm_hash_words_n(1, base, len - 1), h);
        free(exact);
    }
}

/* The policies of a cache share their strings: the same action, resource, principal or condition text in two
 * documents is one string; a document that fails to parse leaves the others whole. */
static void test_cache_shares_strings(void **state) {
    (void)state;
    const char *d1 = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Read\",\"Effect\":\"Allow\",\"Principal\":"
                     "{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":[\"s3:GetObject\",\"S3:List*\"],"
                     "\"Resource\":\"arn:aws:s3:::data/*\",\"Condition\":{\"StringLike\":{\"aws:SourceVpce\":"
                     "\"vpce-1*\"}}}]}";
    const char *d2 = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Read\",\"Effect\":\"Deny\",\"Principal\":"
                     "{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"s3:GetObject\","
                     "\"Resource\":[\"arn:aws:s3:::other\",\"arn:aws:s3:::data/*\"],\"Condition\":{\"StringLike\":"
                     "{\"AWS:SourceVpce\":\"vpce-1*\"}}}]}";
    const char *bad = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\","
                      "\"Resource\":\"arn:aws:s3:::fresh\",\"Condition\":{\"NoSuchOperator\":{\"k\":\"v\"}}}]}";
    struct tm_iam_policy_cache *c = NULL;
    assert_int_equal(tm_iam_policy_cache_new(&c), TM_OK);
    const struct tm_iam_policy *p1 = NULL, *p2 = NULL, *p3 = NULL, *failed = NULL;
    assert_int_equal(tm_iam_policy_cache_parse(&p1, c, d1, strlen(d1), TM_IAM_POLICY_RESOURCE, NULL, 0), TM_OK);
    assert_int_not_equal(tm_iam_policy_cache_parse(&failed, c, bad, strlen(bad), TM_IAM_POLICY_IDENTITY, NULL, 0),
                         TM_OK);
    assert_null(failed);
    assert_int_equal(tm_iam_policy_cache_parse(&p2, c, d2, strlen(d2), TM_IAM_POLICY_RESOURCE, NULL, 0), TM_OK);
    assert_ptr_not_equal(p1, p2);
    const struct tm__iam_stmt *a = &p1->stmts[0], *b = &p2->stmts[0];
    assert_ptr_equal(a->sid, b->sid);
    assert_string_equal(a->sid, "Read");
    assert_ptr_equal(a->action_texts[0], b->action_texts[0]);
    assert_ptr_equal(a->actions[0].enc, b->actions[0].enc);
    assert_string_equal(a->actions[0].enc, "s3:getobject");
    assert_memory_equal(a->actions[1].enc, "s3:list\x01", 9); /* wildcards encoded, case folded */
    assert_int_equal(a->actions[1].service_len, 2);
    assert_ptr_equal(a->resource_texts[0], b->resource_texts[1]);
    assert_ptr_equal(a->resources[0].enc, b->resources[1].enc);
    assert_string_not_equal(a->resource_texts[0], b->resource_texts[0]);
    assert_ptr_equal(a->principals[0].value, b->principals[0].value);
    assert_ptr_equal(a->principals[0].account, b->principals[0].account);
    assert_string_equal(a->principals[0].account, "111122223333");
    /* Keys as written differ; in lower case they are one string. */
    assert_ptr_not_equal(a->conds[0].key, b->conds[0].key);
    assert_ptr_equal(a->conds[0].key_lc, b->conds[0].key_lc);
    assert_string_equal(a->conds[0].key_lc, "aws:sourcevpce");
    assert_ptr_equal(a->conds[0].values[0].enc, b->conds[0].values[0].enc);
    /* The statements' JSON and the documents stay each policy's own. */
    assert_string_equal(tm_iam_policy_text(p1), d1);
    assert_string_equal(tm_iam_policy_text(p2), d2);
    /* The strings of the document that failed serve the next that has them. */
    const char *good = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:PutObject\","
                       "\"Resource\":\"arn:aws:s3:::fresh\"}]}";
    assert_int_equal(tm_iam_policy_cache_parse(&p3, c, good, strlen(good), TM_IAM_POLICY_IDENTITY, NULL, 0), TM_OK);
    assert_string_equal(p3->stmts[0].resource_texts[0], "arn:aws:s3:::fresh");
    /* Decisions are those of the policies parsed on their own. */
    struct tm_iam_policy *own = s_parse(d2, TM_IAM_POLICY_RESOURCE);
    s_same_policy(p2, own);
    tm_iam_policy_destroy(own);
    assert_int_equal(tm_iam_policy_cache_count(c), 3);
    tm_iam_policy_cache_destroy(c);
}

/* A policy of a few hundred bytes holds well under a page (a snapshot holds tens of thousands of them). */
static void test_policy_memory_small(void **state) {
    (void)state;
    const char *doc = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Read\",\"Effect\":\"Allow\",\"Action\":"
                      "[\"s3:GetObject\",\"s3:ListBucket\"],\"Resource\":[\"arn:aws:s3:::data-bucket\","
                      "\"arn:aws:s3:::data-bucket/*\"],\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":"
                      "\"o-abc123\"}}}]}";
    struct tm_iam_policy *p = s_parse(doc, TM_IAM_POLICY_IDENTITY);
    size_t bytes = tm_iam_policy_memory_bytes(p);
    assert_true(bytes >= strlen(doc));
    assert_true(bytes < 2048);
    tm_iam_policy_destroy(p);
    assert_int_equal(tm_iam_policy_memory_bytes(NULL), 0);
    /* A document much bigger than its estimate still parses (more chunks). */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "{\"Statement\":["), TM_OK);
    for (int i = 0; i < 200; i++)
        assert_int_equal(tm_buf_appendf(&b,
                                        "%s{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\",\"Condition\":"
                                        "{\"IpAddress\":{\"aws:SourceIp\":[\"10.%d.0.0/16\",\"192.0.2.%d\"]}}}",
                                        i ? "," : "", i, i),
                         TM_OK);
    assert_int_equal(tm_buf_append_str(&b, "]}"), TM_OK);
    p = s_parse(tm_buf_str(&b), TM_IAM_POLICY_IDENTITY);
    assert_int_equal(tm_iam_policy_statement_count(p), 200);
    struct tm_iam_condition_view cv;
    assert_int_equal(tm_iam_policy_condition(p, 199, 0, &cv), TM_OK);
    assert_string_equal(cv.values[1], "192.0.2.199");
    tm_iam_policy_destroy(p);
    tm_buf_clean_up(&b);
}

/* Going back to a mark frees what came after, big objects in chunks of their own included, and the arena
 * goes on from there. */
static void test_arena_mark_reset(void **state) {
    (void)state;
    struct tm__iam_arena a;
    tm__iam_arena_init_chunks(&a, 1024);
    char *keep = tm__iam_arena_strdup(&a, "kept");
    assert_non_null(keep);
    struct tm__iam_arena_mark m;
    tm__iam_arena_mark(&a, &m);
    size_t held = tm__iam_arena_bytes(&a), used = a.used_bytes;
    for (int i = 0; i < 100; i++) {
        assert_non_null(tm__iam_arena_alloc(&a, 100));
        assert_non_null(tm__iam_arena_alloc(&a, i % 10 == 0 ? 5000 : 7)); /* 5000: a chunk of its own */
    }
    assert_true(tm__iam_arena_bytes(&a) > held);
    tm__iam_arena_reset(&a, &m);
    assert_int_equal(tm__iam_arena_bytes(&a), held);
    assert_int_equal(a.used_bytes, used);
    assert_string_equal(keep, "kept");
    char *next = tm__iam_arena_strdup(&a, "next");
    assert_ptr_equal(next, keep + 5); /* right after, in the same chunk */
    tm__iam_arena_clean_up(&a);
    /* A mark on an empty arena. */
    tm__iam_arena_init(&a);
    tm__iam_arena_mark(&a, &m);
    assert_non_null(tm__iam_arena_alloc(&a, 10000));
    tm__iam_arena_reset(&a, &m);
    assert_int_equal(tm__iam_arena_bytes(&a), 0);
    assert_non_null(tm__iam_arena_strdup(&a, "again"));
    tm__iam_arena_clean_up(&a);
}

/* Shared answers between principals rest on this: every way a document can name who asks is caught, in any case,
 * and documents about accounts, services or resources alone are not. */
static void test_asks_who(void **state) {
    (void)state;
    static const struct {
        const char *doc;
        bool asks;
    } cases[] = {
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},"
         "\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}",
         false},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-abc\"}}}]}",
         false},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
         "\"Resource\":\"arn:aws:s3:::b/${aws:username}/*\"}]}",
         true},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\","
         "\"Condition\":{\"ArnLike\":{\"AWS:PrincipalARN\":\"arn:aws:iam::1:role/x\"}}}]}",
         true},
        {"{\"Statement\":[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\","
         "\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalTag/team\":\"data\"}}}]}",
         true},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\","
         "\"Condition\":{\"StringLike\":{\"aws:userid\":\"AROA*:alice\"}}}]}",
         true},
        {"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"sts:AssumeRole\",\"Resource\":\"*\","
         "\"Condition\":{\"StringEquals\":{\"aws:SourceIdentity\":\"bob\"}}}]}",
         true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_iam_policy *p = NULL;
        char err[256] = "";
        assert_int_equal(
            tm_iam_policy_parse(&p, cases[i].doc, strlen(cases[i].doc), TM_IAM_POLICY_RESOURCE, err, sizeof(err)),
            TM_OK);
        if (tm_iam_policy_asks_who(p) != cases[i].asks)
            fail_msg("case %zu: %s", i, cases[i].doc);
        tm_iam_policy_destroy(p);
    }
    assert_false(tm_iam_policy_asks_who(NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statement_object_or_array),
        cmocka_unit_test(test_statement_json_kept_as_evidence),
        cmocka_unit_test(test_principal_star_forms),
        cmocka_unit_test(test_principal_account_forms),
        cmocka_unit_test(test_principal_kinds),
        cmocka_unit_test(test_condition_values_of_every_json_type),
        cmocka_unit_test(test_condition_operator_qualifiers),
        cmocka_unit_test(test_error_malformed_json_has_position),
        cmocka_unit_test(test_error_truncated),
        cmocka_unit_test(test_error_wrong_types),
        cmocka_unit_test(test_error_names_sid_and_field),
        cmocka_unit_test(test_error_mutually_exclusive_elements),
        cmocka_unit_test(test_error_unknown_and_duplicate_elements),
        cmocka_unit_test(test_error_kind_rules),
        cmocka_unit_test(test_error_principal_values),
        cmocka_unit_test(test_error_condition_values),
        cmocka_unit_test(test_error_adversarial_bytes),
        cmocka_unit_test(test_unicode_values_accepted),
        cmocka_unit_test(test_error_oversized),
        cmocka_unit_test(test_deep_nesting_rejected),
        cmocka_unit_test(test_load_names_file),
        cmocka_unit_test(test_action_exact_case_insensitive),
        cmocka_unit_test(test_action_wildcards),
        cmocka_unit_test(test_not_action),
        cmocka_unit_test(test_arn_exact_and_case),
        cmocka_unit_test(test_arn_wildcard_in_segments),
        cmocka_unit_test(test_arn_star_spans_slashes),
        cmocka_unit_test(test_arn_trailing_star_crosses_colons),
        cmocka_unit_test(test_arn_like_vs_string_like),
        cmocka_unit_test(test_arn_non_arn_values),
        cmocka_unit_test(test_glob_pathological_is_fast),
        cmocka_unit_test(test_variables_username),
        cmocka_unit_test(test_variables_literal_before_2012),
        cmocka_unit_test(test_variables_special_characters),
        cmocka_unit_test(test_variables_default_value),
        cmocka_unit_test(test_variables_unresolved_never_match),
        cmocka_unit_test(test_variables_only_in_resource_part),
        cmocka_unit_test(test_context_keys_case_insensitive),
        cmocka_unit_test(test_parse_json_snapshot_corpus),
        cmocka_unit_test(test_parse_json_odd_trees),
        cmocka_unit_test(test_parse_json_oversized),
        cmocka_unit_test(test_cache_shares_equal_documents),
        cmocka_unit_test(test_cache_many_documents),
        cmocka_unit_test(test_cache_shares_strings),
        cmocka_unit_test(test_text_hash),
        cmocka_unit_test(test_policy_memory_small),
        cmocka_unit_test(test_arena_mark_reset),
        cmocka_unit_test(test_asks_who),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
