/* The entry-point and trust graph (DESIGN.md "The graph", docs/threat-model.md).
 *
 * Built once per analysis from a snapshot with the policy engine (analyzers/iam/): nodes are the
 * snapshot's resources and principals plus pseudo-principals; edges say who can do what to whom, each
 * with the actions, the guarding conditions and the policy statement that grants it. The graph is
 * immutable once built, so any number of queries (blast radius, who-can, paths) can read it.
 *
 * Scale: nodes and strings live in one arena; edges are stored in compact arrays sorted by source
 * (out-edges of a node are one contiguous slice) with a second index sorted by destination; node
 * lookup by id is a hash table. A grant on a wildcard ("s3:GetObject" on "*") is ONE edge to a set
 * node (all S3 buckets), expanded into members only when a caller asks (tm_graph_set_members), so an
 * administrator in an account of 100,000 resources costs a handful of edges, not 100,000.
 *
 * Determinism: node indices follow the byte order of node ids; out-edges follow (kind, destination,
 * evidence); every iteration the API offers is in that order.
 *
 * Lifetime: the graph points into the snapshot's JSON (resource objects, ids): the snapshot must outlive
 * the graph and must not be modified while the graph exists. The catalogues passed to tm_graph_build
 * must also outlive it. */
#ifndef TM_ANALYZERS_GRAPH_H
#define TM_ANALYZERS_GRAPH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/iam/eval.h"
#include "core/error.h"
#include "core/snapshot.h"

struct tm_iam_catalog;
struct tm_privesc_catalog;
struct tm_privesc_technique;

/* "No node" / "no edge". */
#define TM_GRAPH_NONE UINT32_MAX

/* Well-known node ids. */
#define TM_GRAPH_ID_INTERNET "internet"               /* anyone, unauthenticated */
#define TM_GRAPH_ID_ANY_AWS_ACCOUNT "any-aws-account" /* anyone holding credentials of any AWS account */

enum tm_graph_node_kind {
    TM_GRAPH_NODE_INTERNET = 1,    /* "internet" */
    TM_GRAPH_NODE_ANY_AWS_ACCOUNT, /* "any-aws-account" */
    TM_GRAPH_NODE_ACCOUNT,         /* "account:999999999999": an account outside the snapshot */
    TM_GRAPH_NODE_ORGANIZATION,    /* "org:o-abc123": principals of an AWS organization */
    TM_GRAPH_NODE_SERVICE,         /* "service:lambda.amazonaws.com": an AWS service principal */
    TM_GRAPH_NODE_FEDERATED,       /* "oidc:token.actions.githubusercontent.com", "saml:ARN": holders of its tokens */
    TM_GRAPH_NODE_ADMIN,           /* "admin:111122223333": full control of an account */
    TM_GRAPH_NODE_PRINCIPAL,       /* an IAM user, role or group of the snapshot (or named by a policy) */
    TM_GRAPH_NODE_RESOURCE,        /* any other resource of the snapshot (or named by a policy) */
    TM_GRAPH_NODE_SET,             /* a set of resources named by a wildcard ("set:s3:arn:aws:s3:::*") */
};

/* What a node is, for grouping what a blast radius reaches. */
enum tm_graph_group {
    TM_GRAPH_GROUP_OTHER = 0, /* pseudo-principals, network objects */
    TM_GRAPH_GROUP_DATA,      /* buckets, queues, topics, keys, secrets, repositories, databases, snapshots */
    TM_GRAPH_GROUP_COMPUTE,   /* functions, instances, API methods and routes */
    TM_GRAPH_GROUP_IDENTITY,  /* users, roles, groups, instance profiles, identity providers */
    TM_GRAPH_GROUP_ADMIN,     /* the admin pseudo-node and every principal with full control */
};

/* Node flags. */
#define TM_GRAPH_NODE_IN_SNAPSHOT 0x01u     /* a resource of the snapshot (else pseudo, or only named by a policy) */
#define TM_GRAPH_NODE_IS_ADMIN 0x02u        /* a principal whose effective permissions are full control */
#define TM_GRAPH_NODE_EXTERNAL 0x04u        /* belongs to an account outside the snapshot's scope */
#define TM_GRAPH_NODE_POLICY_UNKNOWN 0x08u  /* some policy of this node could not be read */
#define TM_GRAPH_NODE_IN_ORGANIZATION 0x10u /* an "account:…" node of the scanned account's own organization */

struct tm_graph_node {
    const char *id;        /* ARN, or a pseudo-principal name ("internet", "account:999999999999", ...) */
    const char *type;      /* snapshot type ("aws:s3:bucket"), the kind's name for pseudo nodes ("internet") */
    const char *account;   /* 12-digit account, or NULL */
    const char *name;      /* short name for display (resource name, pseudo id) */
    const cJSON *resource; /* the snapshot's resource object, or NULL */
    enum tm_graph_node_kind kind;
    enum tm_graph_group group;
    unsigned flags; /* TM_GRAPH_NODE_* */
    /* For sets only: the service prefix of the member resources ("s3", or "*" for any) and the ARN
     * pattern they match (IAM's wildcards, S3 object suffixes stripped: "arn:aws:s3:::logs-*"). */
    const char *set_service;
    const char *set_pattern;
    /* For sets of roles only, or NULL: members must also be trusted by "account" (roles whose trust policy
     * trusts their own account) or by a service principal ("lambda.amazonaws.com": roles that service can
     * run as). The set id ends in "|trusts:" and the filter ("...|trusts:lambda.amazonaws.com"). */
    const char *set_trusts;
};

enum tm_graph_edge_kind {
    TM_GRAPH_EDGE_CAN_INVOKE = 0,  /* call it: lambda:InvokeFunction, execute-api:Invoke, an open port */
    TM_GRAPH_EDGE_CAN_READ,        /* read its data or configuration */
    TM_GRAPH_EDGE_CAN_WRITE,       /* change its data or configuration, its permissions included */
    TM_GRAPH_EDGE_CAN_ASSUME,      /* obtain its credentials: sts:AssumeRole* on a role */
    TM_GRAPH_EDGE_CAN_PASS,        /* iam:PassRole: hand the role to a service */
    TM_GRAPH_EDGE_HOLDS_TOKEN_OF,  /* runs with its credentials: function → execution role, instance → role, ... */
    TM_GRAPH_EDGE_TRIGGERS,        /* events flow to it: queue → function, topic → subscriber */
    TM_GRAPH_EDGE_ROUTES_TO,       /* requests are forwarded to it: API method → integration, internet → instance */
    TM_GRAPH_EDGE_CAN_ESCALATE_TO, /* a privilege-escalation technique yields it */
    TM_GRAPH_EDGE_KIND_COUNT
};

#define TM_GRAPH_EDGE_MASK(kind) (1u << (kind))
#define TM_GRAPH_EDGE_MASK_ALL ((1u << TM_GRAPH_EDGE_KIND_COUNT) - 1u)

/* Edge flags. */
#define TM_GRAPH_EDGE_UNKNOWN 0x01u     /* exists because a fact could not be read: could be allowed, not proven */
#define TM_GRAPH_EDGE_CONDITIONAL 0x02u /* the granting statement has conditions (see `conditions`) */
#define TM_GRAPH_EDGE_TO_SET 0x04u      /* `to` is a set node: the grant covers each member */
#define TM_GRAPH_EDGE_EXACT                                                                                            \
    0x08u /* (set edges) every member is reached without re-evaluating: no deny,                                       \
             boundary or SCP narrows the grant below the set */

/* Where an edge comes from. */
struct tm_graph_evidence {
    /* "resource" (resource-based policy), "trust" (role trust policy), "identity", "acl" (S3 ACL),
     * "url" (Lambda function URL), "authorizer" (API Gateway), "network" (security group),
     * "permission" (EC2/RDS sharing attribute), "access-key", "link" (a snapshot link), "technique". */
    const char *source;
    const char *holder; /* id of the node whose policy or setting it is */
    const char *policy; /* managed policy ARN, inline policy name, the technique id, or NULL */
    int32_t statement;  /* statement index, -1 when not a policy statement */
    const char *sid;    /* the statement's Sid, or NULL */
    const char *text;   /* one line in plain words, e.g. "bucket policy statement 0 (Sid PublicRead)" */
};

struct tm_graph_edge {
    uint32_t from, to; /* node indices */
    enum tm_graph_edge_kind kind;
    unsigned flags;             /* TM_GRAPH_EDGE_* */
    const char *const *actions; /* as granted ("s3:GetObject", "s3:*"), or ports ("tcp/22"); may be empty */
    size_t n_actions;
    /* The conditions that guard it in words ("StringEquals aws:SourceAccount 111122223333; ..."), or NULL. */
    const char *conditions;
    const char *statement; /* the granting policy statement as compact JSON, or NULL */
    /* For set edges: the resource pattern as the statement wrote it (with an S3 object suffix), used to
     * re-evaluate a member. */
    const char *resource_pattern;
    struct tm_graph_evidence evidence;
};

struct tm_graph;

struct tm_graph_options {
    const struct tm_iam_catalog *actions;     /* required: classifies and expands actions */
    const struct tm_privesc_catalog *privesc; /* may be NULL: no can-escalate-to edges then */
};

/* Builds the graph of a snapshot. On error, err says why (a policy that could not be parsed is not an
 * error: it makes the edges it would have given unknown). Returns TM_ERR_INVALID (missing argument),
 * TM_ERR_NOMEM. */
TM_MUST_CHECK int tm_graph_build(struct tm_graph **out, struct tm_snapshot *snap, const struct tm_graph_options *opts,
                                 char *err, size_t errlen);
void tm_graph_destroy(struct tm_graph *g);

/* Bytes the graph holds (arena, node and edge arrays, indices, parsed policies excluded), for the
 * benchmark's bytes-per-resource figure. */
size_t tm_graph_memory_bytes(const struct tm_graph *g);

/* ---- nodes ---- */

size_t tm_graph_node_count(const struct tm_graph *g);
/* The node at index (0 ≤ index < count). */
const struct tm_graph_node *tm_graph_node(const struct tm_graph *g, uint32_t index);
/* Finds a node by id: an ARN, a pseudo-principal ("internet", "any-aws-account", "account:…", "org:…",
 * "service:…", "oidc:…", "admin:…"), a set id, or an access key id ("AKIA…", giving its user). A role
 * session ARN (arn:aws:sts::A:assumed-role/R/S) gives the role. TM_GRAPH_NONE when absent. */
uint32_t tm_graph_find(const struct tm_graph *g, const char *id);
/* The account the snapshot was taken of (the first in scope.accounts), or NULL. */
const char *tm_graph_home_account(const struct tm_graph *g);
/* Whether an account id is one of the snapshot's scope.accounts. */
bool tm_graph_is_home_account(const struct tm_graph *g, const char *account);

/* ---- edges ---- */

size_t tm_graph_edge_count(const struct tm_graph *g);
const struct tm_graph_edge *tm_graph_edge(const struct tm_graph *g, uint32_t index);
/* Out-edges of a node: a contiguous slice, sorted by (kind, destination id, evidence). *first is the
 * index of the first (edges are also reachable as tm_graph_edge(g, *first + i)). */
const struct tm_graph_edge *tm_graph_out(const struct tm_graph *g, uint32_t node, size_t *n, uint32_t *first);
/* In-edges of a node, as edge indices sorted by (kind, source id). */
const uint32_t *tm_graph_in(const struct tm_graph *g, uint32_t node, size_t *n);
/* The edge's index. */
uint32_t tm_graph_edge_index(const struct tm_graph *g, const struct tm_graph_edge *e);

const char *tm_graph_edge_kind_name(enum tm_graph_edge_kind kind); /* "can-read", ... */
/* The reverse; TM_GRAPH_EDGE_KIND_COUNT for an unknown name. */
enum tm_graph_edge_kind tm_graph_edge_kind_parse(const char *name);
const char *tm_graph_group_name(enum tm_graph_group group);        /* "data", "compute", "identity", "admin", "other" */
const char *tm_graph_node_kind_name(enum tm_graph_node_kind kind); /* "internet", "principal", "set", ... */

/* ---- sets ---- */

/* Called for each member; a non-zero return stops and is returned. */
typedef int (*tm_graph_node_fn)(uint32_t node, void *user_data);

/* Members of the set an edge points to, in node order. For an edge without TM_GRAPH_EDGE_EXACT each
 * candidate is re-evaluated with the policy engine (principal, the edge's actions, the member) so a Deny,
 * boundary or SCP that excludes it is honoured; the same is done for members whose own resource policy
 * has Deny statements. A non-set edge visits its destination. */
TM_MUST_CHECK int tm_graph_edge_members(const struct tm_graph *g, const struct tm_graph_edge *e, tm_graph_node_fn fn,
                                        void *user_data);
/* One candidate at a time, for callers that keep their own member lists: whether a node is a member of a
 * set node (service and id match its pattern), and whether an edge reaches a node (its destination; for a set
 * edge, a member the grant covers, re-evaluated as tm_graph_edge_members does). */
bool tm_graph_set_contains(const struct tm_graph *g, uint32_t set, uint32_t node);
bool tm_graph_edge_covers(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t node);
/* Whether an edge's members are all of its set's, whatever the edge's source and actions (it is exact about a
 * set of roles a service can run as, or rests on an unknown fact): every such edge to one set has the same
 * members, which callers may then work out once. */
bool tm_graph_edge_is_whole_set(const struct tm_graph *g, const struct tm_graph_edge *e);
/* Set nodes whose pattern covers a node (the node's service and id match), in node order. */
TM_MUST_CHECK int tm_graph_sets_containing(const struct tm_graph *g, uint32_t node, tm_graph_node_fn fn,
                                           void *user_data);
/* Every node of a snapshot type ("aws:iam:role"), in node order: a slice of node indices. */
const uint32_t *tm_graph_nodes_of_type(const struct tm_graph *g, const char *type, size_t *n);

/* ---- what matters: crown jewels ---- */

/* Crown jewels are what an attacker is after: the data of buckets, secrets, databases, tables and snapshots,
 * and administrator control (the admin pseudo-node and principals flagged TM_GRAPH_NODE_IS_ADMIN). */
bool tm_graph_is_crown_jewel(const struct tm_graph *g, uint32_t node);

/* IAM's wildcard match of an edge's action pattern ("*" any run, "?" one character), case-insensitive as
 * IAM compares actions: the one rule blast and query apply to the actions the graph holds. */
bool tm_graph_action_glob(const char *pattern, const char *action);
/* Does an edge (to the node, or to a set containing it) carry an action that reads (want_write false) or
 * changes (true) the data of a data store (a jewel's type, website buckets included), e.g. s3:GetObject on a bucket or
 * secretsmanager:GetSecretValue on a secret? ec2:CreateNetworkInterface on "*" touches no snapshot's data. */
bool tm_graph_edge_touches_data(const struct tm_graph *g, const struct tm_graph_edge *e, uint32_t node,
                                bool want_write);

/* Called for each crown jewel an edge reaches; a non-zero return stops and is returned. */
typedef int (*tm_graph_jewel_fn)(uint32_t node, bool read, bool write, void *user_data);
/* The members of an edge (as tm_graph_edge_members) that are crown jewel resources whose data the edge reads
 * or changes (as tm_graph_edge_touches_data says), in node order, with that access. The same answer as asking
 * those three functions member by member, but the engine is asked only about the members that could be
 * such jewels, once each: a set of every resource of an account holds thousands. */
TM_MUST_CHECK int tm_graph_edge_jewels(const struct tm_graph *g, const struct tm_graph_edge *e, tm_graph_jewel_fn fn,
                                       void *user_data);

/* ---- the policy engine, for one request ---- */

/* The policies that apply to a principal node's requests (identity policies of the user and its groups or
 * of the role, its permissions boundary, the SCP levels of its account). Valid while the graph lives.
 * TM_ERR_NOT_FOUND when the node is not a user or role of the snapshot. *unknown says a policy of it could
 * not be read. */
TM_MUST_CHECK int tm_graph_principal_policies(const struct tm_graph *g, uint32_t principal,
                                              struct tm_iam_policy_set *out, bool *unknown);
/* The resource-based policy of a node (bucket policy, key policy, trust policy for a role, ...), or NULL
 * (none, unknown or unparsable; *unknown tells the last two apart from none). */
const struct tm_iam_policy *tm_graph_resource_policy(const struct tm_graph *g, uint32_t node, bool *unknown);

/* "Can principal P do action A on resource R?": evaluates the request with P's identity policies,
 * boundary and SCPs and R's resource policy (and RCPs). principal may be a node of the graph or any
 * principal string the engine accepts (an external ARN, "anonymous"): then only R's resource policy
 * speaks for it. resource is a node id or any ARN. context may be NULL. res is initialised by the caller
 * (tm_iam_result_init) and receives the matched statements. *unknown is set when a policy that matters
 * could not be read (the answer then is what the readable policies say). */
TM_MUST_CHECK int tm_graph_can(const struct tm_graph *g, const char *principal, const char *action,
                               const char *resource, const struct tm_iam_context *context, struct tm_iam_result *res,
                               bool *unknown);

/* ---- walks: shortest paths and reach ---- */

struct tm_graph_walk_options {
    unsigned edge_mask; /* TM_GRAPH_EDGE_MASK(...) of kinds to follow; 0 means all */
    uint32_t max_depth; /* 0 means unlimited */
    bool reverse;       /* follow edges backwards (who reaches the sources) */
    bool expand_sets;   /* visit set members instead of the set node (forward) / sets containing (reverse) */
    bool skip_unknown;  /* do not follow TM_GRAPH_EDGE_UNKNOWN edges */
};

/* Breadth-first search state; reusable across walks (it only touches what it reached, so a walk costs what
 * it visits, not the size of the graph). */
struct tm_graph_walk {
    const struct tm_graph *g;
    uint32_t *dist;     /* per node: hops from the nearest source, TM_GRAPH_NONE when not reached */
    uint32_t *via_edge; /* per node: the edge it was first reached by (TM_GRAPH_NONE for sources) */
    uint32_t *via_node; /* per node: the node it was reached from (differs from the edge's end through sets) */
    uint32_t *order;    /* reached nodes in visit order (sources first) */
    size_t n_reached;
    bool reverse; /* the last run followed edges backwards */
};

TM_MUST_CHECK int tm_graph_walk_init(struct tm_graph_walk *w, const struct tm_graph *g);
void tm_graph_walk_clean_up(struct tm_graph_walk *w);
/* Runs a breadth-first search from the sources. Ties are broken by edge order, so the path to each node is
 * deterministic. */
TM_MUST_CHECK int tm_graph_walk_run(struct tm_graph_walk *w, const uint32_t *sources, size_t n_sources,
                                    const struct tm_graph_walk_options *opts);
/* The shortest path to a reached node as edge indices: fills up to max entries of edges and of nodes
 * (either may be NULL) and returns the path length (0 for a source, TM_GRAPH_NONE when not reached).
 * Forward walks give the steps source first, nodes[i] being the node step i arrives at (through a set
 * edge that is the member, not the set). Reverse walks give them node first, each step leading towards
 * the source, nodes[i] being the node step i arrives at. Either way the steps read in the direction of
 * the edges. */
uint32_t tm_graph_walk_path(const struct tm_graph_walk *w, uint32_t node, uint32_t *edges, uint32_t *nodes, size_t max);

/* Convenience: shortest path from one node to another (forward, sets expanded), edge indices in out
 * (caller frees with free()). Returns TM_ERR_NOT_FOUND when there is none. */
TM_MUST_CHECK int tm_graph_shortest_path(const struct tm_graph *g, uint32_t from, uint32_t to, unsigned edge_mask,
                                         uint32_t **out, size_t *n);

#endif
