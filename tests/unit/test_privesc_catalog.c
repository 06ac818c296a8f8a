#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/iam/catalog.h"
#include "analyzers/privesc_catalog.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

/* Tests run from the repository root (make test); TM_ROOT overrides it. */
static void s_path(char *out, size_t len, const char *rel) {
    const char *root = getenv("TM_ROOT");
    snprintf(out, len, "%s/%s", root && *root ? root : ".", rel);
}

static int s_setup(void **state) {
    char path[4096], err[512];
    s_path(path, sizeof(path), "policies/iam-actions.json");
    struct tm_iam_catalog *actions = NULL;
    if (tm_iam_catalog_load(&actions, path, err, sizeof(err)) != TM_OK) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = actions;
    return 0;
}

static int s_teardown(void **state) {
    tm_iam_catalog_destroy(*state);
    return 0;
}

static struct tm_privesc_catalog *s_load_real(const struct tm_iam_catalog *actions) {
    char path[4096], err[512];
    s_path(path, sizeof(path), "policies/privesc.json");
    struct tm_privesc_catalog *cat = NULL;
    if (tm_privesc_catalog_load(&cat, path, actions, err, sizeof(err)) != TM_OK)
        fail_msg("%s", err);
    return cat;
}

static const struct tm_privesc_requirement *s_req(const struct tm_privesc_technique *t, const char *action) {
    for (size_t i = 0; i < t->requires_count; i++) {
        if (strcmp(t->requires[i].action, action) == 0)
        return &t->requires[i];
    }
    return NULL;
}

/* ---- the committed catalogue ---- */

static void test_real_catalogue_loads_and_is_large_enough(void **state) {
    struct tm_privesc_catalog *cat = s_load_real(*state);
    size_t n = tm_privesc_catalog_count(cat);
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct tm_privesc_technique *t = tm_privesc_catalog_get(cat, i);
        assert_non_null(t);
        if (i > 0)
            assert_true(strcmp(tm_privesc_catalog_get(cat, i - 1)->id, t->id) < 0);
        assert_true(t->requires_count >= 1);
        assert_true(t->attack_count >= 1);
        assert_true(t->sources_count >= 1);
        assert_true(strlen(t->description) > 40);
        assert_true(strlen(t->fix) > 20);
        assert_non_null(tm_privesc_kind_name(t->kind));
        assert_non_null(tm_privesc_target_name(t->target));
        assert_ptr_equal(tm_privesc_catalog_find(cat, t->id), t);
    }
    assert_null(tm_privesc_catalog_get(cat, n));
    assert_null(tm_privesc_catalog_find(cat, "no-such-technique"));
    assert_null(tm_privesc_catalog_find(cat, ""));
    tm_privesc_catalog_destroy(cat);
}

/* Independent of the loader's own check: every required action is in the action catalogue under
 * exactly that spelling, and has the access level recorded there. */
static void test_every_required_action_is_in_the_action_catalogue(void **state) {
    const struct tm_iam_catalog *actions = *state;
    struct tm_privesc_catalog *cat = s_load_real(actions);
    size_t checked = 0;
    for (size_t i = 0; i < tm_privesc_catalog_count(cat); i++) {
        const struct tm_privesc_technique *t = tm_privesc_catalog_get(cat, i);
        for (size_t j = 0; j < t->requires_count; j++) {
            const struct tm_privesc_requirement *r = &t->requires[j];
            struct tm_iam_action a;
            if (tm_iam_catalog_find(actions, r->service, r->action_name, &a) != TM_OK)
                fail_msg("%s: %s not in the action catalogue", t->id, r->action);
            assert_string_equal(a.service, r->service);
            assert_string_equal(a.name, r->action_name);
            assert_int_equal(a.level, r->level);
            char full[256];
            snprintf(full, sizeof(full), "%s:%s", a.service, a.name);
            assert_string_equal(full, r->action);
            assert_non_null(tm_privesc_resource_name(r->resource));
            assert_non_null(tm_privesc_binding_name(r->binding));
            checked++;
        }
    }
    assert_true(checked > 100);
    tm_privesc_catalog_destroy(cat);
}

static void test_required_techniques_are_present(void **state) {
    struct tm_privesc_catalog *cat = s_load_real(*state);
    static const char *const ids[] = {
        "iam-create-policy-version",
        "iam-set-default-policy-version",
        "iam-create-access-key",
        "iam-create-login-profile",
        "iam-update-login-profile",
        "iam-attach-user-policy",
        "iam-attach-group-policy",
        "iam-attach-role-policy",
        "iam-put-user-policy",
        "iam-put-group-policy",
        "iam-put-role-policy",
        "iam-add-user-to-group",
        "iam-update-assume-role-policy",
        "ec2-run-instances-passrole",
        "lambda-create-invoke-passrole",
        "lambda-create-event-source-passrole",
        "lambda-update-function-code",
        "lambda-update-function-configuration",
        "glue-create-dev-endpoint-passrole",
        "glue-update-dev-endpoint",
        "cloudformation-create-stack-passrole",
        "datapipeline-passrole",
        "codebuild-create-project-passrole",
        "codebuild-start-build-buildspec-override",
        "ecs-run-task-passrole",
        "ecs-run-task-override-passrole",
        "sagemaker-notebook-passrole",
        "sagemaker-training-job-passrole",
        "sagemaker-processing-job-passrole",
        "ssm-send-command",
        "ssm-start-session",
        "ec2-instance-connect-ssh-key",
        "autoscaling-launch-configuration-passrole",
        "iam-delete-role-permissions-boundary",
        "iam-delete-user-permissions-boundary",
        "iam-put-role-permissions-boundary",
        "iam-put-user-permissions-boundary",
        "sts-assume-role",
        "cognito-identity-pool-roles-passrole",
        "states-create-state-machine-passrole",
        "apprunner-create-service-passrole",
        "eks-access-entry-cluster-admin",
        "batch-job-definition-passrole",
    };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        if (!tm_privesc_catalog_find(cat, ids[i]))
            fail_msg("technique %s missing", ids[i]);
    }
    tm_privesc_catalog_destroy(cat);
}

static void test_technique_structures(void **state) {
    struct tm_privesc_catalog *cat = s_load_real(*state);

    const struct tm_privesc_technique *t = tm_privesc_catalog_find(cat, "lambda-create-invoke-passrole");
    assert_non_null(t);
    assert_int_equal(t->kind, TM_PRIVESC_KIND_NEW_PASSROLE);
    assert_int_equal(t->target, TM_PRIVESC_TARGET_ROLE_PASSED);
    assert_int_equal(t->requires_count, 3);
    const struct tm_privesc_requirement *r = s_req(t, "iam:PassRole");
    assert_non_null(r);
    assert_int_equal(r->resource, TM_PRIVESC_RES_ROLE);
    assert_int_equal(r->binding, TM_PRIVESC_BIND_TARGET);
    assert_string_equal(r->role_trusts, "lambda.amazonaws.com");
    assert_string_equal(r->passed_to, "lambda.amazonaws.com"); /* defaults to the trusted service */
    assert_string_equal(r->service, "iam");
    assert_string_equal(r->action_name, "PassRole");
    r = s_req(t, "lambda:CreateFunction");
    assert_non_null(r);
    assert_int_equal(r->resource, TM_PRIVESC_RES_ANY);
    assert_int_equal(r->binding, TM_PRIVESC_BIND_ANY);
    assert_null(r->role_trusts);
    assert_null(r->passed_to);
    assert_non_null(s_req(t, "lambda:InvokeFunction"));
    assert_string_equal(t->pathfinding, "lambda-001");
    bool has_t1648 = false;
    for (size_t i = 0; i < t->attack_count; i++)
        has_t1648 = has_t1648 || strcmp(t->attack[i], "T1648") == 0;
    assert_true(has_t1648);

    t = tm_privesc_catalog_find(cat, "iam-create-policy-version");
    assert_int_equal(t->kind, TM_PRIVESC_KIND_SELF_ESCALATION);
    assert_int_equal(t->target, TM_PRIVESC_TARGET_ANY_POLICY);
    assert_int_equal(t->requires[0].resource, TM_PRIVESC_RES_POLICY);
    assert_int_equal(t->requires[0].binding, TM_PRIVESC_BIND_SELF_POLICY);
    assert_int_equal(t->requires[0].level, TM_IAM_LEVEL_PERMISSIONS);

    t = tm_privesc_catalog_find(cat, "iam-create-access-key");
    assert_int_equal(t->target, TM_PRIVESC_TARGET_USER);
    assert_int_equal(t->requires[0].binding, TM_PRIVESC_BIND_TARGET);
    assert_int_equal(t->requires[0].resource, TM_PRIVESC_RES_USER);
    assert_true(t->preconditions_count >= 1);

    t = tm_privesc_catalog_find(cat, "sts-assume-role");
    assert_int_equal(t->target, TM_PRIVESC_TARGET_ROLE_ASSUMED);
    assert_string_equal(t->requires[0].role_trusts, "principal");

    /* Two roles are passed; only the instance profile's is gained, and it is passed to EMR. */
    t = tm_privesc_catalog_find(cat, "emr-run-job-flow-passrole");
    assert_non_null(t);
    size_t pass = 0, pass_target = 0;
    for (size_t i = 0; i < t->requires_count; i++) {
        if (strcmp(t->requires[i].action, "iam:PassRole") != 0)
            continue;
        pass++;
        if (t->requires[i].binding == TM_PRIVESC_BIND_TARGET) {
            pass_target++;
            assert_string_equal(t->requires[i].role_trusts, "ec2.amazonaws.com");
            assert_string_equal(t->requires[i].passed_to, "elasticmapreduce.amazonaws.com");
        }
    }
    assert_int_equal(pass, 2);
    assert_int_equal(pass_target, 1);

    t = tm_privesc_catalog_find(cat, "iam-delete-role-permissions-boundary");
    assert_int_equal(t->target, TM_PRIVESC_TARGET_BOUNDARY_REMOVED);
    assert_int_equal(t->requires[0].binding, TM_PRIVESC_BIND_SELF);

    t = tm_privesc_catalog_find(cat, "lambda-update-function-code");
    assert_int_equal(t->target, TM_PRIVESC_TARGET_RESOURCE_ROLE);
    assert_int_equal(t->requires[0].resource, TM_PRIVESC_RES_FUNCTION);
    tm_privesc_catalog_destroy(cat);
}

/* Invariants the analyzer relies on, checked over the whole file. */
static void test_catalogue_invariants(void **state) {
    struct tm_privesc_catalog *cat = s_load_real(*state);
    size_t passrole_techniques = 0;
    for (size_t i = 0; i < tm_privesc_catalog_count(cat); i++) {
        const struct tm_privesc_technique *t = tm_privesc_catalog_get(cat, i);
        bool pass_target = false;
        for (size_t j = 0; j < t->requires_count; j++) {
            const struct tm_privesc_requirement *r = &t->requires[j];
            if (strcmp(r->action, "iam:PassRole") == 0) {
                assert_non_null(r->passed_to);
                assert_true(tm_str_ends_with(r->role_trusts, ".amazonaws.com"));
                pass_target = pass_target || r->binding == TM_PRIVESC_BIND_TARGET;
            } else {
                assert_null(r->passed_to);
            }
        }
        if (t->kind == TM_PRIVESC_KIND_NEW_PASSROLE) {
            passrole_techniques++;
            if (!pass_target)
                fail_msg("%s: a new-passrole technique passes no target role", t->id);
        }
        for (size_t j = 0; j < t->sources_count; j++)
            assert_true(tm_str_starts_with(t->sources[j], "https://"));
    }
    assert_true(passrole_techniques >= 20);
    tm_privesc_catalog_destroy(cat);
}

/* policies/privesc.md documents every technique; a new one without its row fails here. */
static void test_every_technique_is_documented(void **state) {
    struct tm_privesc_catalog *cat = s_load_real(*state);
    char path[4096], err[512];
    s_path(path, sizeof(path), "policies/privesc.md");
    struct tm_buf md;
    tm_buf_init(&md, 0);
    assert_int_equal(tm_file_read(&md, path, 0, err, sizeof(err)), TM_OK);
    for (size_t i = 0; i < tm_privesc_catalog_count(cat); i++) {
        char needle[128];
        snprintf(needle, sizeof(needle), "| `%s` |", tm_privesc_catalog_get(cat, i)->id);
        if (!strstr(tm_buf_str(&md), needle))
            fail_msg("%s is not in policies/privesc.md", tm_privesc_catalog_get(cat, i)->id);
    }
    tm_buf_clean_up(&md);
    tm_privesc_catalog_destroy(cat);
}

static void test_enum_names_round_trip(void **state) {
    (void)state;
    assert_string_equal(tm_privesc_kind_name(TM_PRIVESC_KIND_EXISTING_PASSROLE), "existing-passrole");
    assert_string_equal(tm_privesc_target_name(TM_PRIVESC_TARGET_ROLE_PASSED), "role-passed");
    assert_string_equal(tm_privesc_resource_name(TM_PRIVESC_RES_ANY), "*");
    assert_string_equal(tm_privesc_resource_name(TM_PRIVESC_RES_NOTEBOOK_INSTANCE), "notebook-instance");
    assert_string_equal(tm_privesc_binding_name(TM_PRIVESC_BIND_SELF_POLICY), "self-policy");
    assert_null(tm_privesc_kind_name((enum tm_privesc_kind)0));
    assert_null(tm_privesc_target_name((enum tm_privesc_target)99));
    assert_null(tm_privesc_resource_name((enum tm_privesc_resource)0));
    assert_null(tm_privesc_binding_name((enum tm_privesc_binding)42));
}

/* ---- adversarial input ---- */

static int s_parse(const struct tm_iam_catalog *actions, const char *json, char *err, size_t errlen,
                   struct tm_privesc_catalog **out) {
    return tm_privesc_catalog_parse(out, json, strlen(json), "t.json", actions, err, errlen);
}

/* A valid technique with one field replaced: FIELD is the JSON text of the replaced members. */
#define TECH_HEAD "{\"id\":\"x-y\",\"name\":\"N\",\"kind\":\"self-escalation\",\"description\":\"D\",\"fix\":\"F\","
#define TECH_TAIL "\"attack\":[\"T1098\"],\"sources\":[\"https://example.com/a\"]}"
#define DOC(techs) "{\"schema\":1,\"techniques\":[" techs "]}"
#define GOOD_REQ "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\",\"binding\":\"self\"}],"
#define TECH(target, req) TECH_HEAD "\"target\":\"" target "\"," req TECH_TAIL

struct s_bad {
    const char *json;
    const char *expect;
};

static void test_rejects_bad_content(void **state) {
    const struct tm_iam_catalog *actions = *state;
    static const struct s_bad cases[] = {
        /* document shape */
        {"[]", "t.json: $: must be an object"},
        {"{\"schema\":2,\"techniques\":[]}", "$.schema: must be 1"},
        {"{\"schema\":\"1\",\"techniques\":[]}", "$.schema: must be 1"},
        {"{\"schema\":1,\"techniques\":[]}", "$.techniques: must be a non-empty array"},
        {"{\"schema\":1,\"techniques\":{}}", "$.techniques: must be a non-empty array"},
        {"{\"schema\":1,\"techniques\":[1],\"extra\":true}", "$.extra: unknown field"},
        {DOC("1"), "techniques[0]: technique: must be an object"},
        /* id */
        {DOC("{\"name\":\"N\"}"), "techniques[0]: id: missing"},
        {DOC("{\"id\":7}"), "techniques[0]: id: must be a string"},
        {DOC("{\"id\":\"Bad_Id\"}"), "techniques[0]: id: \"Bad_Id\" is not a slug"},
        {DOC("{\"id\":\"a--b\"}"), "is not a slug"},
        {DOC("{\"id\":\"-a\"}"), "is not a slug"},
        {DOC("{\"id\":\"caf\\u00e9\"}"), "is not a slug"},
        {DOC(TECH("any-policy", GOOD_REQ) "," TECH("any-policy", GOOD_REQ)),
         "technique \"x-y\": id: used by more than one technique"},
        /* fields */
        {DOC(TECH_HEAD "\"target\":\"any-policy\",\"extra\":1," GOOD_REQ TECH_TAIL),
         "technique \"x-y\": extra: unknown field"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\",\"name\":\"again\"," GOOD_REQ TECH_TAIL), "name: appears twice"},
        {DOC("{\"id\":\"x-y\",\"kind\":\"self-escalation\"}"), "technique \"x-y\": name: missing"},
        {DOC("{\"id\":\"x-y\",\"name\":\"\"}"), "technique \"x-y\": name: must not be empty"},
        {DOC("{\"id\":\"x-y\",\"name\":[\"N\"]}"), "technique \"x-y\": name: must be a string"},
        {DOC("{\"id\":\"x-y\",\"name\":\"a\\nb\"}"), "name: must be UTF-8 text without control characters"},
        {DOC("{\"id\":\"x-y\",\"name\":\"N\",\"description\":\"D\",\"fix\":\"F\",\"pathfinding\":\"iam-1\"}"),
         "pathfinding: \"iam-1\" is not a pathfinding.cloud path id"},
        {DOC("{\"id\":\"x-y\",\"name\":\"N\",\"description\":\"D\",\"fix\":\"F\",\"kind\":\"sideways\"}"),
         "kind: \"sideways\" is not one of \"self-escalation\""},
        {DOC("{\"id\":\"x-y\",\"name\":\"N\",\"description\":\"D\",\"fix\":\"F\",\"kind\":\"new-passrole\","
             "\"target\":\"admin\"}"),
         "target: \"admin\" is not one of"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[\"T98\"],\"sources\":[\"https://e.com\"]}"),
         "attack[0]: \"T98\" is not an ATT&CK technique id"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[],\"sources\":[\"https://e.com\"]}"),
         "attack: must not be empty"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[\"T1098\",\"T1098\"],"
                       "\"sources\":[\"https://e.com\"]}"),
         "attack[1]: \"T1098\" is listed twice"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[\"T1098\"],\"sources\":[\"http://e.com\"]}"),
         "sources[0]: \"http://e.com\" is not an https URL"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[\"T1098\"],\"sources\":\"https://e.com\"}"),
         "sources: must be an array of strings"},
        {DOC(TECH_HEAD "\"target\":\"any-policy\"," GOOD_REQ "\"attack\":[\"T1098\"],\"sources\":[\"https://e.com\"],"
                       "\"preconditions\":[3]}"),
         "preconditions[0]: must be a non-empty string"},
        /* requirements */
        {DOC(TECH("any-policy", "\"requires\":[],")), "requires: must not be empty"},
        {DOC(TECH("any-policy", "\"requires\":{},")), "requires: must be an array"},
        {DOC(TECH("any-policy", "\"requires\":[\"iam:PassRole\"],")), "requires[0]: must be an object"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"binding\":\"self\",\"role_trust\":\"x\"}],")),
         "requires[0].role_trust: unknown field"},
        {DOC(TECH("any-policy", "\"requires\":[{\"resource\":\"user\"}],")), "requires[0].action: missing"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicyy\",\"resource\":\"user\"}],")),
         "technique \"x-y\": requires[0].action: \"iam:AttachUserPolicyy\" is not in the action catalogue (unknown "
         "action)"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iamm:AttachUserPolicy\",\"resource\":\"user\"}],")),
         "is not in the action catalogue (unknown service)"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:attachuserpolicy\",\"resource\":\"user\"}],")),
         "requires[0].action: \"iam:attachuserpolicy\" is spelled \"iam:AttachUserPolicy\" in the action catalogue"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"AttachUserPolicy\",\"resource\":\"user\"}],")),
         "is not of the form service:Action"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:*\",\"resource\":\"user\"}],")),
         "\"iam:*\" is not in the action catalogue"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"person\"}],")),
         "requires[0].resource: \"person\" is not one of"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\"}],")),
         "requires[0].resource: missing"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"binding\":\"mine\"}],")),
         "requires[0].binding: \"mine\" is not one of"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"binding\":\"self-group\"}],")),
         "binding \"self-group\" needs a group resource"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"lambda:CreateFunction\",\"resource\":\"*\","
                                "\"binding\":\"target\"}],")),
         "binding \"target\" needs a resource kind, not \"*\""},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"role_trusts\":\"lambda.amazonaws.com\"}],")),
         "requires[0].role_trusts: only a requirement on a role"},
        {DOC(TECH("role-passed", "\"requires\":[{\"action\":\"iam:PassRole\",\"resource\":\"role\","
                                 "\"binding\":\"target\"}],")),
         "requires[0]: iam:PassRole needs \"resource\": \"role\" and the service"},
        {DOC(TECH("role-passed", "\"requires\":[{\"action\":\"iam:PassRole\",\"resource\":\"role\","
                                 "\"binding\":\"target\",\"role_trusts\":\"lambda\"}],")),
         "role_trusts: \"lambda\" is neither \"principal\" nor a service principal"},
        {DOC(TECH("role-passed", "\"requires\":[{\"action\":\"iam:PassRole\",\"resource\":\"role\","
                                 "\"binding\":\"target\",\"role_trusts\":\"lambda.amazonaws.com\","
                                 "\"passed_to\":\"Lambda.amazonaws.com\"}],")),
         "passed_to: \"Lambda.amazonaws.com\" is not a service principal"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"passed_to\":\"lambda.amazonaws.com\"}],")),
         "passed_to: only iam:PassRole has a passed-to service"},
        {DOC(TECH("role-assumed", "\"requires\":[{\"action\":\"sts:AssumeRole\",\"resource\":\"role\","
                                  "\"binding\":\"target\"}],")),
         "sts:AssumeRole needs \"resource\": \"role\" and \"role_trusts\": \"principal\""},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\"},"
                                "{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\"}],")),
         "requires[1]: repeats requires[0]"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                "\"binding\":\"target\"},{\"action\":\"iam:AttachRolePolicy\",\"resource\":\"role\","
                                "\"binding\":\"target\"}],")),
         "every \"target\" requirement must name the same kind of resource (user, not role)"},
        {DOC(TECH("any-policy", "\"requires\":[{\"action\":\"iam:CreatePolicyVersion\",\"resource\":\"policy\","
                                "\"binding\":\"target-policy\"}],")),
         "a \"target-policy\" requirement needs a \"target\" requirement"},
        /* targets that do not follow from the requirements */
        {DOC(TECH("role-passed", GOOD_REQ)), "target: \"role-passed\" does not follow from the requirements"},
        {DOC(TECH("user", GOOD_REQ)), "target: \"user\" does not follow"},
        {DOC(TECH("resource-role", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\","
                                   "\"binding\":\"target\"}],")),
         "target: \"resource-role\" does not follow"},
        {DOC(TECH("boundary-removed", "\"requires\":[{\"action\":\"iam:AttachUserPolicy\",\"resource\":\"user\"}],")),
         "target: \"boundary-removed\" does not follow"},
        {DOC(TECH("policy-version", GOOD_REQ)), "target: \"policy-version\" does not follow"},
        /* JSON itself */
        {"{\"schema\":1,", "t.json: invalid JSON at line 1, column"},
        {"{\"schema\":1}\n{}", "unexpected data after the JSON document at line 2, column 1"},
        {"", "invalid JSON at line 1, column 1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_privesc_catalog *cat = (struct tm_privesc_catalog *)1;
        char err[768] = "";
        int rc = s_parse(actions, cases[i].json, err, sizeof(err), &cat);
        if (rc != TM_ERR_PARSE || !strstr(err, cases[i].expect))
            fail_msg("case %zu: rc %d, error \"%s\", expected \"%s\"", i, rc, err, cases[i].expect);
        assert_null(cat);
        assert_int_equal(s_parse(actions, cases[i].json, NULL, 0, &cat), TM_ERR_PARSE);
    }
}

static void test_accepts_minimal_and_resolves_defaults(void **state) {
    const struct tm_iam_catalog *actions = *state;
    struct tm_privesc_catalog *cat = NULL;
    char err[512];
    const char *json = DOC(TECH("any-policy", GOOD_REQ) "," TECH_HEAD "\"id\":\"a-b\"}");
    /* The second technique repeats "id": rejected, so build a valid two-technique document instead. */
    assert_int_equal(s_parse(actions, json, err, sizeof(err), &cat), TM_ERR_PARSE);
    assert_non_null(strstr(err, "id: appears twice"));

    json = DOC("{\"id\":\"z-last\",\"name\":\"N\",\"kind\":\"new-passrole\",\"target\":\"role-passed\","
               "\"description\":\"D \\u2013 d\",\"fix\":\"F\",\"requires\":[{\"action\":\"iam:PassRole\","
               "\"resource\":\"role\",\"binding\":\"target\",\"role_trusts\":\"lambda.amazonaws.com\"},"
               "{\"action\":\"lambda:CreateFunction\",\"resource\":\"*\"}],\"attack\":[\"T1648\"],"
               "\"sources\":[\"https://example.com\"]}," TECH("any-policy", GOOD_REQ));
    assert_int_equal(s_parse(actions, json, err, sizeof(err), &cat), TM_OK);
    assert_int_equal(tm_privesc_catalog_count(cat), 2);
    assert_string_equal(tm_privesc_catalog_get(cat, 0)->id, "x-y"); /* sorted by id */
    const struct tm_privesc_technique *t = tm_privesc_catalog_find(cat, "z-last");
    assert_non_null(t);
    assert_string_equal(t->description, "D \xe2\x80\x93 d");
    assert_string_equal(t->requires[0].passed_to, "lambda.amazonaws.com");
    assert_int_equal(t->requires[1].binding, TM_PRIVESC_BIND_ANY);
    assert_int_equal(t->requires[1].level, TM_IAM_LEVEL_WRITE);
    assert_null(t->pathfinding);
    assert_int_equal(t->preconditions_count, 0);
    tm_privesc_catalog_destroy(cat);
}

static void test_files_and_arguments(void **state) {
    const struct tm_iam_catalog *actions = *state;
    struct tm_privesc_catalog *cat = (struct tm_privesc_catalog *)1;
    char err[512];
    assert_int_equal(tm_privesc_catalog_load(&cat, "/nonexistent/privesc.json", actions, err, sizeof(err)),
                     TM_ERR_NOT_FOUND);
    assert_null(cat);
    assert_non_null(strstr(err, "/nonexistent/privesc.json"));
    char path[4096];
    s_path(path, sizeof(path), "policies/privesc.json");
    assert_int_equal(tm_privesc_catalog_load(&cat, path, NULL, err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(tm_privesc_catalog_parse(NULL, "{}", 2, "x", actions, err, sizeof(err)), TM_ERR_INVALID);
    assert_int_equal(
        tm_privesc_catalog_parse(&cat, "{}", TM_PRIVESC_CATALOG_MAX_BYTES + 1, "x", actions, err, sizeof(err)),
        TM_ERR_TOO_BIG);
    static const char nul[] = "{\"schema\":1,\"techniques\":[\0]}";
    assert_int_equal(tm_privesc_catalog_parse(&cat, nul, sizeof(nul) - 1, "n.json", actions, err, sizeof(err)),
                     TM_ERR_PARSE);
    assert_string_equal(err, "n.json: contains a NUL byte");
    /* Every truncation of the real file is refused with a position, never accepted or crashed on. */
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_file_read(&b, path, 0, err, sizeof(err)), TM_OK);
    for (size_t cut = 0; cut + 2 < b.len; cut += 997) {
        cat = NULL;
        assert_int_equal(tm_privesc_catalog_parse(&cat, b.data, cut, "cut.json", actions, err, sizeof(err)),
                         TM_ERR_PARSE);
        assert_null(cat);
        assert_true(tm_str_starts_with(err, "cut.json: invalid JSON at line "));
    }
    /* Invalid UTF-8 in a text field. */
    const char *bad_utf8 = DOC("{\"id\":\"x-y\",\"name\":\"\xc3\x28\"}");
    assert_int_equal(s_parse(actions, bad_utf8, err, sizeof(err), &cat), TM_ERR_PARSE);
    assert_non_null(strstr(err, "name: must be UTF-8 text"));
    tm_buf_clean_up(&b);
    tm_privesc_catalog_destroy(NULL);
    assert_int_equal(tm_privesc_catalog_count(NULL), 0);
    assert_null(tm_privesc_catalog_get(NULL, 0));
    assert_null(tm_privesc_catalog_find(NULL, "x"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_catalogue_loads_and_is_large_enough),
        cmocka_unit_test(test_every_required_action_is_in_the_action_catalogue),
        cmocka_unit_test(test_required_techniques_are_present),
        cmocka_unit_test(test_technique_structures),
        cmocka_unit_test(test_catalogue_invariants),
        cmocka_unit_test(test_every_technique_is_documented),
        cmocka_unit_test(test_enum_names_round_trip),
        cmocka_unit_test(test_rejects_bad_content),
        cmocka_unit_test(test_accepts_minimal_and_resolves_defaults),
        cmocka_unit_test(test_files_and_arguments),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
