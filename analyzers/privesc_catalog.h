/* The privilege-escalation catalogue (policies/privesc.json, schema in policies/privesc.md): the AWS
 * techniques by which a principal turns the permissions it has into more, each as the list of actions
 * that must all be allowed, on which kind of resource, bound to what.
 *
 * The privilege-escalation analyzer reads a technique like this: find a principal P and a choice of
 * resources such that every requirement's action is allowed for P on its resource; the requirements
 * whose binding is TM_PRIVESC_BIND_TARGET all name one resource, and the technique's target says what P
 * gains from it. Loading validates every action against the action catalogue, so a typo in the data
 * file fails the load (and the tests) instead of silently never matching. */
#ifndef TM_ANALYZERS_PRIVESC_CATALOG_H
#define TM_ANALYZERS_PRIVESC_CATALOG_H

#include <stddef.h>

#include "analyzers/iam/catalog.h"
#include "core/error.h"

#define TM_PRIVESC_CATALOG_MAX_BYTES (4u * 1024u * 1024u)

/* pathfinding.cloud's four categories. */
enum tm_privesc_kind {
    TM_PRIVESC_KIND_SELF_ESCALATION = 1, /* "self-escalation": changes its own permissions */
    TM_PRIVESC_KIND_PRINCIPAL_ACCESS,    /* "principal-access": becomes another user or role */
    TM_PRIVESC_KIND_NEW_PASSROLE,        /* "new-passrole": passes a role to something it creates */
    TM_PRIVESC_KIND_EXISTING_PASSROLE,   /* "existing-passrole": takes over something that already has a role */
};

/* What the escalating principal gains. */
enum tm_privesc_target {
    TM_PRIVESC_TARGET_ANY_POLICY = 1,   /* "any-policy": arbitrary permissions, i.e. administrator */
    TM_PRIVESC_TARGET_POLICY_VERSION,   /* "policy-version": whatever another version of its own policy grants */
    TM_PRIVESC_TARGET_USER,             /* "user": the target user's credentials and permissions */
    TM_PRIVESC_TARGET_ROLE_ASSUMED,     /* "role-assumed": the target role's permissions, by assuming it */
    TM_PRIVESC_TARGET_GROUP_JOINED,     /* "group-joined": the target group's permissions */
    TM_PRIVESC_TARGET_ROLE_PASSED,      /* "role-passed": the permissions of a role it can pass to a service */
    TM_PRIVESC_TARGET_RESOURCE_ROLE,    /* "resource-role": the role of the target resource (function, instance...) */
    TM_PRIVESC_TARGET_BOUNDARY_REMOVED, /* "boundary-removed": its own policies without their permissions boundary */
};

/* The kind of resource a requirement's action must be allowed on (the action's resource type in the
 * Service Authorization Reference). TM_PRIVESC_RES_ANY ("*") is for actions that create the resource
 * (its name is the attacker's choice) or that only accept "*". */
enum tm_privesc_resource {
    TM_PRIVESC_RES_ANY = 1,
    TM_PRIVESC_RES_USER,
    TM_PRIVESC_RES_GROUP,
    TM_PRIVESC_RES_ROLE,
    TM_PRIVESC_RES_POLICY,
    TM_PRIVESC_RES_INSTANCE,
    TM_PRIVESC_RES_LAUNCH_TEMPLATE,
    TM_PRIVESC_RES_FUNCTION,
    TM_PRIVESC_RES_STACK,
    TM_PRIVESC_RES_PROJECT,
    TM_PRIVESC_RES_DEV_ENDPOINT,
    TM_PRIVESC_RES_JOB,
    TM_PRIVESC_RES_JOB_QUEUE,
    TM_PRIVESC_RES_PIPELINE,
    TM_PRIVESC_RES_NOTEBOOK_INSTANCE,
    TM_PRIVESC_RES_TASK_DEFINITION,
    TM_PRIVESC_RES_TASK,
    TM_PRIVESC_RES_CLUSTER,
    TM_PRIVESC_RES_ACCESS_ENTRY,
    TM_PRIVESC_RES_SERVICE,
    TM_PRIVESC_RES_STATE_MACHINE,
    TM_PRIVESC_RES_IDENTITY_POOL,
    TM_PRIVESC_RES_CODE_INTERPRETER,
};

/* Which resource of that kind. */
enum tm_privesc_binding {
    TM_PRIVESC_BIND_ANY = 1,      /* "any": any resource the action is allowed on (including ones it creates) */
    TM_PRIVESC_BIND_SELF,         /* "self": the escalating principal itself (its user or role ARN) */
    TM_PRIVESC_BIND_SELF_GROUP,   /* "self-group": a group the escalating user belongs to */
    TM_PRIVESC_BIND_SELF_POLICY,  /* "self-policy": a customer managed policy attached to the principal or its groups */
    TM_PRIVESC_BIND_TARGET,       /* "target": the one resource whose identity is gained; never the principal itself */
    TM_PRIVESC_BIND_TARGET_POLICY /* "target-policy": a customer managed policy attached to the target */
};

struct tm_privesc_requirement {
    const char *action;      /* canonical "service:Action", e.g. "iam:PassRole" */
    const char *service;     /* "iam" */
    const char *action_name; /* "PassRole" */
    enum tm_iam_level level; /* the action's access level from the action catalogue */
    enum tm_privesc_resource resource;
    enum tm_privesc_binding binding;
    /* Roles only: NULL, "principal" (the role's trust policy must allow the escalating principal) or a
     * service principal ("lambda.amazonaws.com") the role must trust. */
    const char *role_trusts;
    /* iam:PassRole only: the iam:PassedToService value to evaluate the request with; the file's
     * "passed_to", or role_trusts when absent. NULL for other actions. */
    const char *passed_to;
};

struct tm_privesc_technique {
    const char *id;   /* stable slug, e.g. "lambda-create-invoke-passrole" */
    const char *name; /* short title */
    const char *description;
    const char *fix;
    enum tm_privesc_kind kind;
    enum tm_privesc_target target;
    const struct tm_privesc_requirement *requires;
    size_t requires_count;
    const char *const *attack; /* MITRE ATT&CK technique ids, "T1098", "T1098.001" */
    size_t attack_count;
    const char *const *sources; /* https URLs */
    size_t sources_count;
    const char *const *preconditions; /* facts beyond IAM the technique needs, in words; may be empty */
    size_t preconditions_count;
    const char *pathfinding; /* pathfinding.cloud path id ("iam-001") or NULL */
};

struct tm_privesc_catalog;

/* Reads, parses and validates a catalogue. actions is the loaded action catalogue every requirement is
 * checked against (required). On error, err names the file, the technique id and the field, e.g.
 * "policies/privesc.json: technique \"iam-add-user-to-group\": requires[0].action: ...".
 * Returns TM_ERR_INVALID (bad arguments), TM_ERR_NOT_FOUND, TM_ERR_IO, TM_ERR_TOO_BIG, TM_ERR_PARSE,
 * TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_privesc_catalog_load(struct tm_privesc_catalog **out, const char *path,
                                          const struct tm_iam_catalog *actions, char *err, size_t errlen);
TM_MUST_CHECK int tm_privesc_catalog_parse(struct tm_privesc_catalog **out, const char *json, size_t len,
                                           const char *name, const struct tm_iam_catalog *actions, char *err,
                                           size_t errlen);
void tm_privesc_catalog_destroy(struct tm_privesc_catalog *cat);

/* Techniques sorted by id; the pointers live as long as the catalogue. */
size_t tm_privesc_catalog_count(const struct tm_privesc_catalog *cat);
const struct tm_privesc_technique *tm_privesc_catalog_get(const struct tm_privesc_catalog *cat, size_t index);
const struct tm_privesc_technique *tm_privesc_catalog_find(const struct tm_privesc_catalog *cat, const char *id);

/* The file's spelling of each enum value ("new-passrole", "role-passed", "notebook-instance",
 * "self-policy"); NULL outside the enum. */
const char *tm_privesc_kind_name(enum tm_privesc_kind kind);
const char *tm_privesc_target_name(enum tm_privesc_target target);
const char *tm_privesc_resource_name(enum tm_privesc_resource resource);
const char *tm_privesc_binding_name(enum tm_privesc_binding binding);

#endif
