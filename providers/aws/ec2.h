/* EC2 (regional): instances, security groups, network interfaces, EBS snapshots and AMIs owned by the
 * account with their sharing; DescribeRegions for the provider. Parsers are exposed for tests. */
#ifndef TM_PROVIDERS_AWS_EC2_H
#define TM_PROVIDERS_AWS_EC2_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_ec2;
extern const struct tm_aws_api tm__aws_api_ec2;

/* DescribeRegions: the enabled regions' names, sorted (regions answered as "not-opted-in" left out). */
TM_MUST_CHECK int tm__aws_ec2_parse_regions(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);

/* One page of a listing into the sink's snapshot; *next_token is the next page's NextToken (malloc'd)
 * or NULL. */
TM_MUST_CHECK int tm__aws_ec2_parse_instances(const struct tm_aws_sink *sink, const char *body, size_t len,
                                              char **next_token, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm__aws_ec2_parse_security_groups(const struct tm_aws_sink *sink, const char *body, size_t len,
                                                    char **next_token, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm__aws_ec2_parse_network_interfaces(const struct tm_aws_sink *sink, const char *body, size_t len,
                                                       char **next_token, char *errmsg, size_t errmsg_len);
/* Snapshots and images also return their ids (appended to ids, a JSON array of strings) for the
 * attribute calls that follow. */
TM_MUST_CHECK int tm__aws_ec2_parse_snapshots(const struct tm_aws_sink *sink, cJSON *ids, const char *body, size_t len,
                                              char **next_token, char *errmsg, size_t errmsg_len);
TM_MUST_CHECK int tm__aws_ec2_parse_images(const struct tm_aws_sink *sink, cJSON *ids, const char *body, size_t len,
                                           char *errmsg, size_t errmsg_len);
/* DescribeSnapshotAttribute createVolumePermission / DescribeImageAttribute launchPermission: the
 * permission list ([{group: "all"}], [{user_id}], [{organization_arn}], [{organizational_unit_arn}],
 * [] when private). */
TM_MUST_CHECK int tm__aws_ec2_parse_snapshot_permissions(cJSON **out, const char *body, size_t len, char *errmsg,
                                                         size_t errmsg_len);
TM_MUST_CHECK int tm__aws_ec2_parse_image_permissions(cJSON **out, const char *body, size_t len, char *errmsg,
                                                      size_t errmsg_len);

#endif
