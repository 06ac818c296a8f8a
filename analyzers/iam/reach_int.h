/* Internals of the reachability analysis shared between its files. */
#ifndef TM_ANALYZERS_IAM_REACH_INT_H
#define TM_ANALYZERS_IAM_REACH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "analyzers/iam/iam_int.h"
#include "analyzers/iam/reach.h"

/* A growable, de-duplicated list of owned strings. */
struct tm__iam_strs {
    char **v;
    size_t n;
    size_t cap;
};

int tm__iam_strs_add(struct tm__iam_strs *s, const char *x);
int tm__iam_strs_addn(struct tm__iam_strs *s, const char *x, size_t n);
bool tm__iam_strs_has(const struct tm__iam_strs *s, const char *x);
int tm__iam_strs_copy(struct tm__iam_strs *dst, const struct tm__iam_strs *src);
void tm__iam_strs_sort(struct tm__iam_strs *s);
void tm__iam_strs_free(struct tm__iam_strs *s);

/* One S3 ACL grant, mapped to the policy actions it stands for. */
struct tm__iam_acl_grant {
    enum tm_iam_reach reach; /* public (AllUsers), authenticated (AuthenticatedUsers), service (LogDelivery),
                                account (the owner) or external (another canonical user / e-mail) */
    char *who;               /* canonical id, e-mail or group name */
    char *permission;        /* READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL */
    char *json;              /* the grant as compact JSON, for evidence */
};

struct tm__iam_acl {
    char *owner_id;
    struct tm__iam_acl_grant *grants;
    size_t n;
};

/* Parses a GetBucketAcl answer. */
int tm__iam_acl_parse(struct tm__iam_acl *out, const char *json, size_t len, char *err, size_t errlen);
/* Reads one from its tree. */
int tm__iam_acl_read(struct tm__iam_acl *out, const cJSON *root, char *err, size_t errlen);
void tm__iam_acl_clean_up(struct tm__iam_acl *acl);
/* The policy actions an ACL permission on a bucket stands for (NULL-terminated, static). */
const char *const *tm__iam_acl_actions(const char *permission);

#endif
