/* RDS (regional): DB instances and who may restore the account's DB and cluster snapshots. */
#ifndef TM_PROVIDERS_AWS_RDS_H
#define TM_PROVIDERS_AWS_RDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_rds;
extern const struct tm_aws_api tm__aws_api_rds;

/* One page of DescribeDBInstances into the sink; *marker: the next page's Marker or NULL. */
TM_MUST_CHECK int tm__aws_rds_parse_instances(const struct tm_aws_sink *sink, const char *body, size_t len,
                                              char **marker, char *errmsg, size_t errmsg_len);
/* One page of DescribeDBSnapshots (cluster false) or DescribeDBClusterSnapshots (cluster true) into the
 * sink; each snapshot's identifier and ARN are appended to ids as {id, arn}. */
TM_MUST_CHECK int tm__aws_rds_parse_snapshots(const struct tm_aws_sink *sink, bool cluster, cJSON *ids,
                                              const char *body, size_t len, char **marker, char *errmsg,
                                              size_t errmsg_len);
/* DescribeDBSnapshotAttributes / DescribeDBClusterSnapshotAttributes: the values of the `restore`
 * attribute (["all"], account ids, [] when not shared). */
TM_MUST_CHECK int tm__aws_rds_parse_restore(cJSON **out, bool cluster, const char *body, size_t len, char *errmsg,
                                            size_t errmsg_len);

#endif
