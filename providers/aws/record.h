/* `tmscan scan aws --record DIR`: every response the scan receives, written as a mockcloud fixture
 * scenario (fixtures/README.md), so a real account can be replayed offline and shared in a bug report.
 *
 * The recorder is a transport that wraps the real one: each call goes through unchanged and, when a
 * response arrives (success or the service's error answer), it is written to
 * DIR/<api>/<region>/<Operation>[--<hash>].http with the call's match lines (service, region,
 * operation, method, path, every parameter), the status, the content type and the headers that carry
 * meaning (x-amzn-ErrorType, x-amz-bucket-region). Calls that got no response (network errors) are not
 * written: replayed, they fail differently.
 *
 * Secrets are removed before anything is written: the values of secret-bearing fields (keys, tokens,
 * passwords, secret values, private keys) in XML and JSON bodies and of environment and stage variables
 * (their names stay, so the snapshot is the same). Nothing of the request's signature or credentials is
 * written; scenario.json names a fixed, fake key pair that mockcloud accepts. */
#ifndef TM_PROVIDERS_AWS_RECORD_H
#define TM_PROVIDERS_AWS_RECORD_H

#include <stddef.h>

#include "core/error.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "providers/aws/transport.h"

/* The fake credentials scenario.json lists (and a replay signs with). */
#define TM_AWS_RECORD_ACCESS_KEY_ID "AKIATMSCANRECORDING1"
#define TM_AWS_RECORD_SECRET_ACCESS_KEY "tmscanRecordedScenario/FakeSecretKey0001"

struct tm_aws_recorder;

/* A recorder writing into dir, which must not exist or be empty (it is created, mode 0700). inner is
 * not owned. TM_ERR_INVALID with errmsg when dir holds files. */
TM_MUST_CHECK int tm_aws_recorder_new(struct tm_aws_recorder **out, struct tm_aws_transport *inner, const char *dir,
                                      struct tm_log *log, char *errmsg, size_t errmsg_len);
/* The transport to give the scan. */
struct tm_aws_transport *tm_aws_recorder_transport(struct tm_aws_recorder *rec);
/* Writes scenario.json from the snapshot's scope (account, regions) and reports whether every response
 * was written: TM_ERR_IO with errmsg naming the first file that could not be. */
TM_MUST_CHECK int tm_aws_recorder_finish(struct tm_aws_recorder *rec, struct tm_snapshot *snap, char *errmsg,
                                         size_t errmsg_len);
void tm_aws_recorder_destroy(struct tm_aws_recorder *rec);

/* The body with secret values removed, as it will be written: *out is a malloc'd copy (the original
 * bytes when nothing had to go), *out_len its length. content_type picks XML or JSON; anything else is
 * kept as is. For tests. */
TM_MUST_CHECK int tm_aws_record_scrub(char **out, size_t *out_len, const char *body, size_t len,
                                      const char *content_type);

#endif
