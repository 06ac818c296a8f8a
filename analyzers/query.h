/* Incident-time questions on a snapshot (docs/blast-and-queries.md):
 *
 *   can      "Can principal P do action A on resource R?" Allowed or not, and the statements that decided:
 *            which identity policy, permissions boundary, SCP or resource policy statement allowed or denied.
 *            Decided by the policy engine (analyzers/iam/) with the snapshot's policies, through the graph's
 *            policy store (tm_graph_can).
 *   who-can  "Who can do action A on resource R?" Every user and role of the snapshot and every pseudo-principal
 *            (the internet, any AWS account, an external account, an organisation, a service, an identity
 *            provider) that can, each with the statements that grant it. A (wildcard) action pattern such as
 *            "s3:Get*" is expanded with the action catalogue; a principal is listed with the actions it can do.
 *
 * who-can does not evaluate every principal: the trust graph already has an edge from each principal whose
 * policies grant something on the resource (or on a set of resources it belongs to), so only those candidates go
 * to the engine, which makes the answer cost what it finds rather than the size of the account. Principals whose
 * policies could not be read have unknown edges to everything: they are listed as unknown (the worst case is
 * never hidden). Grants from outside the account (pseudo-principals) are the graph's entry-point edges, decided
 * when the graph was built with resource policies, ACLs, Block Public Access and the like.
 *
 * An engine is built once per graph (tm_query_new) and answers any number of questions; answers are valid while
 * the graph lives. Not thread-safe: one engine per thread. */
#ifndef TM_ANALYZERS_QUERY_H
#define TM_ANALYZERS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/graph.h"
#include "analyzers/iam/eval.h"
#include "core/buf.h"
#include "core/error.h"

struct tm_iam_catalog;
struct tm_query;

TM_MUST_CHECK int tm_query_new(struct tm_query **out, const struct tm_graph *g, const struct tm_iam_catalog *actions);
void tm_query_destroy(struct tm_query *q);

/* A statement behind an answer, located for people. Strings live as long as the graph (and its snapshot). */
struct tm_query_statement {
    enum tm_iam_set_kind set; /* identity, boundary, SCP, RCP, resource (a trust policy is a role's resource policy) */
    enum tm_iam_effect effect;
    const char *what;   /* "identity policy", "permissions boundary", "service control policy", "bucket policy", ... */
    const char *holder; /* id of what the policy is attached to: the principal, a group, the resource, the account */
    const char *policy; /* managed policy ARN, inline policy name, SCP name; NULL when the holder has only one */
    const char *detail; /* "of group developers", "attached to ou-apps", or NULL */
    int32_t statement;  /* index in the policy's Statement array; -1 for a grant that is not a statement */
    const char *sid;    /* NULL when absent */
    const char *json;   /* the statement as compact JSON; for a grant from outside, the graph's words */
};

/* ---- can ---- */

struct tm_query_can {
    /* As resolved: the principal's ARN (an access key id or a role session gives the user or role), or the
     * principal the engine was asked with for pseudo-principals ("anonymous", an account's root ARN). */
    const char *principal_asked, *principal;
    uint32_t principal_node; /* TM_GRAPH_NONE when not a node of the graph */
    bool principal_known;    /* a user or role of the snapshot: its identity policies, boundary and SCPs count */
    const char *action;
    const char *resource_asked;
    uint32_t resource_node; /* the node whose policy counts (a bucket for an object ARN), or TM_GRAPH_NONE */
    enum tm_iam_decision decision;
    enum tm_iam_reason reason;
    bool unknown; /* a policy that matters could not be read: the answer is what the readable ones say */
    struct tm_query_statement *statements; /* the Deny statements of an explicit deny, else the Allows that matched */
    size_t n_statements;
    const char *notes[4];   /* caveats in words ("the resource is not in the snapshot: ..."), NULL-terminated */
    char principal_buf[64]; /* holds `principal` when it is an account's root ARN made for the question */
};

/* Answers "can principal do action on resource". principal: an ARN (user, role, role session, external
 * principal), an access key id, "internet"/"anonymous", "any-aws-account", "account:ID", "service:NAME";
 * action: one action (no wildcard); resource: an ARN or "*". Input errors (TM_ERR_NOT_FOUND for a principal or
 * resource of the account that the snapshot does not have, TM_ERR_INVALID for a malformed action, an unknown
 * action of a known service, a pattern) leave one line in err, with a near match when there is one. */
TM_MUST_CHECK int tm_query_can(struct tm_query *q, struct tm_query_can *out, const char *principal, const char *action,
                               const char *resource, char *err, size_t errlen);
void tm_query_can_clean_up(struct tm_query_can *a);

/* ---- who-can ---- */

struct tm_query_grantee {
    uint32_t node;
    bool pseudo;      /* not a user or role of the snapshot: the grant is the graph's entry-point edge */
    bool unknown;     /* its policies (or a fact behind the grant) could not be read: could, not proven */
    bool conditional; /* only when the grant's conditions hold */
    const char *conditions;
    const char **actions; /* the asked actions it can do, in catalogue order */
    size_t n_actions;
    struct tm_query_statement *statements; /* the granting statements, each once */
    size_t n_statements;
};

struct tm_query_who {
    const char *action_asked;
    const char *resource_asked;
    uint32_t resource_node;
    /* The resource's own policy could not be read: it may grant more than is listed (to anyone, to any account). */
    bool resource_policy_unknown;
    char **actions; /* the asked pattern expanded (for the resource's service), in catalogue order */
    size_t n_actions;
    struct tm_query_grantee *grantees; /* pseudo-principals first, then principals, each by id */
    size_t n_grantees;
};

/* Answers "who can do action on resource". resource must be in the snapshot (an S3 object ARN counts as its
 * bucket's). Errors as for tm_query_can. */
TM_MUST_CHECK int tm_query_who_can(struct tm_query *q, struct tm_query_who *out, const char *action,
                                   const char *resource, char *err, size_t errlen);
void tm_query_who_clean_up(struct tm_query_who *w);

/* ---- output ---- */

enum tm_query_format {
    TM_QUERY_TEXT = 0,
    TM_QUERY_JSON, /* schema "tmscan.query/1" */
};

TM_MUST_CHECK int tm_query_format_parse(const char *name, enum tm_query_format *out);
TM_MUST_CHECK int tm_query_can_write(struct tm_buf *out, const struct tm_query *q, const struct tm_query_can *a,
                                     enum tm_query_format fmt);
TM_MUST_CHECK int tm_query_who_write(struct tm_buf *out, const struct tm_query *q, const struct tm_query_who *w,
                                     enum tm_query_format fmt);

#endif
