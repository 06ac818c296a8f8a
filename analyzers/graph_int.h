/* Internals of the graph module shared by graph.c (storage, queries, walks) and graph_build*.c
 * (snapshot → graph). Not for other modules: they use graph.h. */
#ifndef TM_ANALYZERS_GRAPH_INT_H
#define TM_ANALYZERS_GRAPH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/graph.h"
#include "analyzers/iam/policy.h"

struct tm__graph_chunk;

/* Bump allocator: everything it hands out lives until the graph is destroyed. Objects (arrays of pointers and
 * indices) and strings are carved from chunks of their own, strings without alignment. */
struct tm__graph_arena {
    struct tm__graph_chunk *head; /* every chunk */
    char *at, *end;               /* room left for objects */
    char *str_at, *str_end;       /* room left for strings */
    size_t total;                 /* bytes held, for memory accounting */
};

/* A string the builder made, in the table that gives each distinct text once. */
struct tm__graph_string {
    const char *s; /* NULL: an empty slot */
    uint32_t len;
    uint32_t hash;
};

/* The policies of an account's organisation tree that apply to every principal (SCPs) or resource
 * (RCPs) of the account. */
struct tm__graph_org_policies {
    struct tm_iam_policy_level *levels;
    size_t n_levels;
    bool unknown; /* could not be read (or not parsable): a Deny there may be missing */
};

struct tm__graph_account {
    const char *id;
    struct tm__graph_org_policies scps;
    struct tm__graph_org_policies rcps;
    bool is_management;        /* SCPs do not apply to the management account */
    const cJSON *pab;          /* account-level S3 Block Public Access object, NULL when not configured */
    const char *org_id;        /* the organization's id, or NULL */
    const char *management;    /* the organization's management account, or NULL */
    const cJSON *org_accounts; /* member account ids (array), NULL when not read */
    bool pab_unknown;
    uint32_t admin_node; /* "admin:ACCOUNT" */
};

/* A user or role of the snapshot, with what evaluating its requests needs. */
struct tm__graph_principal {
    uint32_t node;
    const struct tm_iam_policy **identity; /* own + groups' policies, parsed */
    const char **identity_names;           /* each one's ARN (or name) as the snapshot records it, or NULL */
    size_t n_identity;
    const struct tm_iam_policy **boundary; /* 0 or 1 */
    size_t n_boundary;
    const struct tm__graph_account *account; /* NULL: an account outside the snapshot */
    bool skip_scps;                          /* service-linked roles are not subject to SCPs */
    bool identity_unknown;                   /* an identity policy (or a group's) could not be read or parsed */
    bool boundary_unknown;
    /* Customer managed policies attached to it or its groups (ARNs), for self-policy bindings. */
    const char **managed;
    size_t n_managed;
    uint32_t *groups; /* group nodes of a user */
    size_t n_groups;
};

/* Per node, beside the public struct (pointers first, then the small fields: no padding between them). */
struct tm__graph_node_extra {
    const struct tm_iam_policy *policy; /* resource policy (trust policy for roles) */
    const char *service;                /* ARN service prefix ("s3"), or NULL */
    /* The default context of requests on it (its region's), NULL for nodes not in the snapshot. */
    const struct tm_iam_context *context;
    const struct tm__graph_account *account; /* its account when scanned, else NULL */
    uint32_t principal;                      /* index into principals, TM_GRAPH_NONE */
    bool policy_unknown;                     /* unknown or unparsable */
    bool reevaluate;     /* set members must be re-evaluated: the policy has Deny statements or must allow */
    bool trusts_account; /* roles: the trust policy allows the role's own account (its root) to assume it */
    bool trust_plain;    /* roles: that grant has no conditions and the trust policy no Deny */
    uint8_t jewel;       /* 1 + its kind of crown jewel (graph.c), 0 when none */
    bool is_role;        /* of type aws:iam:role */
    uint8_t set_flags;   /* set nodes: TM__GRAPH_SET_* */
};

/* What tm__graph_set_matches needs of a set node, read from its strings once. */
#define TM__GRAPH_SET_ANY_SERVICE 1u    /* set_service is "*" */
#define TM__GRAPH_SET_PREFIX_ONLY 2u    /* set_pattern is a literal prefix then one final '*' */
#define TM__GRAPH_SET_TRUSTS_ACCOUNT 4u /* set_trusts is "account" */

struct tm__graph_type {
    const char *type;
    uint32_t start, count; /* slice of by_type */
};

struct tm_graph {
    struct tm_snapshot *snap;
    struct tm_graph_options opts;
    struct tm__graph_arena arena;
    /* The strings made while building, each distinct text once: 270,000 strings of a 100,000-resource snapshot
     * (actions, conditions and evidence texts, repeated edge after edge) hold 29,000 texts. Dropped once built:
     * nothing is added to a built graph. */
    struct tm__graph_string *strings;
    size_t n_strings, strings_cap;

    struct tm_graph_node *nodes;
    struct tm__graph_node_extra *extra;
    size_t n_nodes, cap_nodes;
    uint32_t *table; /* id hash → node index */
    size_t table_cap;

    struct tm_graph_edge *edges;
    size_t n_edges, cap_edges;
    uint32_t *out_start; /* n_nodes + 1 */
    uint32_t *in_edges;  /* n_edges */
    uint32_t *in_start;  /* n_nodes + 1 */
    /* Nodes the indices cover: all once built; while building, those there at the last finalize. */
    size_t n_indexed;
    bool finalized;
    /* Edges sorted (and deduplicated) at the last finalize; those after it were appended since. */
    size_t n_edges_sorted;

    uint32_t *by_type; /* node indices sorted by (type, id) */
    struct tm__graph_type *types;
    size_t n_types;
    uint32_t *sets; /* set nodes, sorted by id */
    size_t n_sets;
    /* Sets by the literal prefix of their pattern (before the first wildcard): grouped by prefix length, each
     * group sorted by prefix, so the sets that may hold a node are found by binary search. */
    uint32_t *account_trusting; /* roles with trusts_account, in node order */
    size_t n_account_trusting;
    uint32_t *sets_by_prefix;
    struct tm__graph_prefix_group {
        uint32_t len, start, count;
    } * prefix_groups;
    size_t n_prefix_groups;

    /* access key id → user node */
    const char **key_ids;
    uint32_t *key_nodes;
    size_t n_keys, cap_keys;

    struct tm__graph_principal *principals;
    size_t n_principals, cap_principals;

    struct tm__graph_account *accounts; /* scope accounts, in scope order */
    size_t n_accounts;

    /* Default request context per region (aws:RequestedRegion, aws:SecureTransport). */
    const char **ctx_regions;
    struct tm_iam_context *contexts;
    size_t n_contexts;

    /* Action pattern → mask of edge kinds it grants. */
    const char **kind_keys;
    unsigned *kind_masks;
    size_t n_kinds, kind_cap;

    /* Every parsed policy, each distinct document once. */
    struct tm_iam_policy_cache *policies;

    /* The last (kind, type) a node was added with and what it gave; the last service string given out (graph.c). */
    struct tm__graph_type_memo {
        const char *type;
        enum tm_graph_node_kind kind;
        enum tm_graph_group group;
        uint8_t jewel;
        bool is_role;
        bool valid;
    } type_memo;
    const char *last_service;
};

/* ---- arena and strings ---- */
/* n bytes aligned for pointers (the arena holds arrays of pointers and indices, nothing wider). */
void *tm__graph_alloc(struct tm_graph *g, size_t n);
/* Strings live as long as the graph and are shared: the same text gives the same pointer (never write to one). */
const char *tm__graph_strdup(struct tm_graph *g, const char *s);
const char *tm__graph_strndup(struct tm_graph *g, const char *s, size_t n);
const char *tm__graph_printf(struct tm_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the table that shares strings (once built); strings made after it are shared again from then on. */
void tm__graph_strings_drop(struct tm_graph *g);

/* ---- building ---- */
/* Finds or adds a node; id is copied unless stable (owned by the snapshot or the arena). Returns the
 * index, TM_GRAPH_NONE when out of memory. */
uint32_t tm__graph_node_add(struct tm_graph *g, const char *id, bool id_stable, enum tm_graph_node_kind kind,
                            const char *type, const char *account);
uint32_t tm__graph_lookup(const struct tm_graph *g, const char *id);
/* Appends an edge (its strings must live in the arena or the snapshot). */
TM_MUST_CHECK int tm__graph_edge_add(struct tm_graph *g, const struct tm_graph_edge *e);
TM_MUST_CHECK int tm__graph_key_add(struct tm_graph *g, const char *key_id, uint32_t user);
/* Sorts nodes by id, edges by source, builds every index. */
TM_MUST_CHECK int tm__graph_finalize(struct tm_graph *g);
/* Once built: gives back the room the growable arrays (nodes, edges, principals) keep for elements to come. */
void tm__graph_trim(struct tm_graph *g);
/* Parses (once per distinct text) a policy; NULL with *bad set when it does not parse. */
const struct tm_iam_policy *tm__graph_policy(struct tm_graph *g, const char *text, enum tm_iam_policy_kind kind,
                                             bool *bad);
/* Parses a policy given as JSON (object, or a string holding JSON). */
const struct tm_iam_policy *tm__graph_policy_json(struct tm_graph *g, const cJSON *doc, enum tm_iam_policy_kind kind,
                                                  bool *bad);

/* ---- matching ---- */
/* IAM wildcard match: `*` any run, `?` one character; case-sensitive unless icase. */
bool tm__graph_glob(const char *pattern, const char *s, bool icase);
/* The ARN's service field ("s3" of "arn:aws:s3:::b"), copied into buf; NULL when not an ARN. */
const char *tm__graph_arn_service(const char *arn, char *buf, size_t len);
/* The ARN's account field, copied into buf; NULL when absent or empty. */
const char *tm__graph_arn_account(const char *arn, char *buf, size_t len);
/* Does a set node contain a node (service and pattern)? */
bool tm__graph_set_matches(const struct tm_graph *g, uint32_t set, uint32_t node);
/* A set node (created when absent); trusts NULL or as tm_graph_node.set_trusts. */
uint32_t tm__graph_set_node(struct tm_graph *g, const char *service, const char *pattern, const char *trusts);
/* Would every resource get the same answer for this principal and action, as far as its own policies go (no
 * Deny that could single some out, boundary and SCPs allowing it everywhere)? The action must also be
 * allowed on "*" (checked separately, with the right context). */
bool tm__graph_uniform(const struct tm_graph *g, uint32_t principal, const char *action);
/* The resource string to evaluate a member of a set edge with (S3 object suffixes re-attached). */
const char *tm__graph_member_resource(const struct tm_graph_edge *e, const struct tm_graph_node *member, char *buf,
                                      size_t len);
/* The default context for requests on a resource of a region (NULL region: the scope's first). */
const struct tm_iam_context *tm__graph_context(const struct tm_graph *g, const char *region);
/* Is this account one of the organisation's own (a member, or its management account) for any scanned
 * account? */
bool tm__graph_in_organization(const struct tm_graph *g, const char *account);
/* Is the member covered by the edge (re-evaluating with the engine when the edge is not exact or the
 * member has Deny statements)? */
bool tm__graph_edge_covers(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t member);
/* Does the engine allow the edge's principal some action of the edge's kind on a member (res: as
 * tm__graph_member_resource gives it)? Patterns are narrowed to their actions where a policy treats part of them
 * apart (graph_edges.c). */
bool tm__graph_member_allowed(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t member,
                              const char *res);

/* ---- building edges (graph_edges.c) ---- */
struct tm__graph_edge_spec {
    uint32_t from, to;
    enum tm_graph_edge_kind kind;
    unsigned flags;
    const char *const *actions;
    size_t n_actions;
    const char *conditions;
    const char *statement;
    const char *pattern;
    struct tm_graph_evidence ev;
};
/* Adds an edge; TM_ERR_NOMEM when an end is TM_GRAPH_NONE (a failed node allocation). */
TM_MUST_CHECK int tm__graph_edge(struct tm_graph *g, const struct tm__graph_edge_spec *s);
/* The node of an ARN, created (named by a policy, not in the snapshot) when absent. */
uint32_t tm__graph_ref_node(struct tm_graph *g, const char *arn);
/* "prefix" + value as a pseudo node of that kind, created when absent. */
uint32_t tm__graph_pseudo_node(struct tm_graph *g, enum tm_graph_node_kind kind, const char *prefix, const char *value);
uint32_t tm__graph_account_node(struct tm_graph *g, const char *account);
uint32_t tm__graph_service_node(struct tm_graph *g, const char *service);
/* A one-element action list in the arena. */
const char *const *tm__graph_one(struct tm_graph *g, const char *action);
/* "bucket policy statement 0 (Sid PublicRead)" */
const char *tm__graph_statement_text(struct tm_graph *g, const char *what, const char *name, size_t index,
                                     const char *sid);
/* A statement's conditions in words, NULL when it has none. */
const char *tm__graph_conditions_text(struct tm_graph *g, const struct tm_iam_policy *p, size_t stmt, size_t n);
/* The edge kinds an action pattern grants (mask). */
unsigned tm__graph_pattern_kinds(struct tm_graph *g, const char *pattern);
/* tm_graph_can; collect false leaves res->matches empty (decision and reason are the same). p and r, when not
 * TM_GRAPH_NONE, are the nodes principal and resource name (their ids), so they need not be looked up. */
TM_MUST_CHECK int tm__graph_can(const struct tm_graph *g, const char *principal, uint32_t p, const char *action,
                                const char *resource, uint32_t r, const struct tm_iam_context *context,
                                struct tm_iam_result *res, bool *unknown, bool collect);
/* Asks the engine; a conditional grant counts when only its own conditions were not met. */
bool tm__graph_allowed(const struct tm_graph *g, const char *principal, const char *action, const char *resource,
                       bool conditional);
/* The same for a principal node and, when r is not TM_GRAPH_NONE, the node resource names. */
bool tm__graph_allowed_at(const struct tm_graph *g, uint32_t principal, const char *action, const char *resource,
                          uint32_t r, bool conditional);

/* ---- the builder's passes (graph_build.c) ---- */
TM_MUST_CHECK int tm__graph_build_nodes(struct tm_graph *g, char *err, size_t errlen);
TM_MUST_CHECK int tm__graph_build_edges(struct tm_graph *g, char *err, size_t errlen);
/* Entry points from outside the account (graph_reach.c). */
TM_MUST_CHECK int tm__graph_build_reach(struct tm_graph *g, char *err, size_t errlen);
TM_MUST_CHECK int tm__graph_build_privesc(struct tm_graph *g, char *err, size_t errlen);

#endif
