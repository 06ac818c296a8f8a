/* The snapshot: the versioned JSON contract between providers and analyzers (docs/snapshot.md).
 *
 * One struct serves both sides. A provider creates an empty snapshot, fills `scope`, adds resources
 * and errors as responses arrive (on the loop thread), and writes it: resources sorted by id, object
 * keys sorted, errors sorted, so equal account states give byte-identical files. An analyzer loads
 * one (validated, with errors naming the field) and reads resources by index or by id.
 *
 * A loaded snapshot is read-only: its JSON lives in one arena (core/jsonarena.h), so nothing in it may be
 * added, replaced or deleted. The functions below that add to a snapshot refuse a loaded one with
 * TM_ERR_STATE; tm_snapshot_set_attr, _set_policy, _set_unknown and _add_link, which take a resource,
 * are for snapshots being built only. */
#ifndef TM_CORE_SNAPSHOT_H
#define TM_CORE_SNAPSHOT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define TM_SNAPSHOT_SCHEMA "tmscan.snapshot/1"
/* Snapshot files can be large; analyzers refuse anything bigger. */
#define TM_SNAPSHOT_MAX_BYTES ((size_t)4 << 30)

struct tm_snapshot;

/* A call that failed. Strings are copied. */
struct tm_snapshot_error {
    const char *service;   /* "s3" */
    const char *operation; /* "GetBucketPolicy" */
    const char *region;    /* "us-east-1", or "global" */
    const char *resource;  /* ARN the call was about, or NULL for a listing */
    const char *code;      /* "AccessDenied", "Throttling", "NetworkError", ... */
    const char *message;   /* the service's message, or the transport error */
    int attempts;          /* attempts made (1 = not retried) */
};

TM_MUST_CHECK int tm_snapshot_new(struct tm_snapshot **out, const char *provider);
void tm_snapshot_destroy(struct tm_snapshot *snap);

/* The `scope` object: provider, accounts, regions, services, caller. Owned by the snapshot. */
cJSON *tm_snapshot_scope(struct tm_snapshot *snap);
/* Adds a string to a sorted, de-duplicated array member of scope ("accounts", "regions", "services"). */
TM_MUST_CHECK int tm_snapshot_scope_add(struct tm_snapshot *snap, const char *list, const char *value);

/* Finds the resource with this id or creates it. Returns the resource object (owned by the snapshot)
 * in *out. type/account/region/name are set on creation and must agree on later calls (else
 * TM_ERR_INVALID: the same ARN cannot be two types). name may be NULL. */
TM_MUST_CHECK int tm_snapshot_resource(struct tm_snapshot *snap, const char *id, const char *type, const char *account,
                                       const char *region, const char *name, cJSON **out);
/* The resource with this id, or NULL. */
cJSON *tm_snapshot_find(const struct tm_snapshot *snap, const char *id);
size_t tm_snapshot_count(const struct tm_snapshot *snap);
/* Resources in id order (the snapshot is sorted on first call after a change). */
cJSON *tm_snapshot_at(struct tm_snapshot *snap, size_t index);

/* Sets resource.attrs[key] / resource.policies[kind]; takes ownership of value even on failure;
 * replaces an existing value. */
TM_MUST_CHECK int tm_snapshot_set_attr(cJSON *resource, const char *key, cJSON *value);
TM_MUST_CHECK int tm_snapshot_set_policy(cJSON *resource, const char *kind, cJSON *document);
/* Records that a fact could not be read: resource.<section>[key] = {"$unknown": {...error...}}.
 * section is "attrs" or "policies". */
TM_MUST_CHECK int tm_snapshot_set_unknown(cJSON *resource, const char *section, const char *key,
                                          const struct tm_snapshot_error *why);
/* Adds a typed link (de-duplicated): kind is executes-as, integrates-with, triggered-by, member-of,
 * has-identity, routes-to, subscribes, ... */
TM_MUST_CHECK int tm_snapshot_add_link(cJSON *resource, const char *kind, const char *to);

TM_MUST_CHECK int tm_snapshot_add_error(struct tm_snapshot *snap, const struct tm_snapshot_error *err);
size_t tm_snapshot_error_count(const struct tm_snapshot *snap);
/* The errors array (owned by the snapshot). */
cJSON *tm_snapshot_errors(struct tm_snapshot *snap);

/* True when v is an unknown marker ({"$unknown": {...}}). */
bool tm_snapshot_is_unknown(const cJSON *v);

/* Canonical serialization (sorted, 2-space indented, trailing newline). Fails with TM_ERR_INVALID and
 * a message naming the path when a field that must never be stored (a secret-bearing key such as
 * SecretAccessKey, SessionToken, SecretString, Password, or environment variable values) is present. */
TM_MUST_CHECK int tm_snapshot_serialize(struct tm_snapshot *snap, char **out, char *errmsg, size_t errmsg_len);
/* Writes atomically with mode 0600; path "-" writes to standard output. */
TM_MUST_CHECK int tm_snapshot_write(struct tm_snapshot *snap, const char *path, char *errmsg, size_t errmsg_len);

/* Loads and validates a snapshot file; errors name the file and the field (e.g.
 * "snap.json: resources[3].type: missing"). */
TM_MUST_CHECK int tm_snapshot_load(struct tm_snapshot **out, const char *path, char *errmsg, size_t errmsg_len);
/* The same from memory; source names the input in errors. */
TM_MUST_CHECK int tm_snapshot_parse(struct tm_snapshot **out, const char *text, size_t len, const char *source,
                                    char *errmsg, size_t errmsg_len);

/* Merges every resource, error and scope entry of src into dst (for organisation-wide scans). A
 * resource present in both must be of the same type; dst's facts win for keys present in both. dst is
 * a snapshot being built (TM_ERR_STATE for a loaded one); src may be either. */
TM_MUST_CHECK int tm_snapshot_merge(struct tm_snapshot *dst, const struct tm_snapshot *src, char *errmsg,
                                    size_t errmsg_len);

#endif
