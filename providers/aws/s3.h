/* Amazon S3 and S3 Control (REST-XML): buckets with their region, policy, policy status, ACL, Block
 * Public Access, object ownership, website hosting and access points; the account's access points with
 * their Block Public Access and policy; the account's Block Public Access.
 *
 * Buckets are listed once (a global service); every call about a bucket goes to the bucket's own region
 * (GetBucketLocation), path-style (/BUCKET?policy). Access points are listed once per region
 * (ListAccessPoints without a bucket: every scanned region, and the region of any bucket outside them),
 * and each bucket's are picked from its region's list. Error answers that mean "there is none"
 * (NoSuchBucketPolicy, NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError,
 * NoSuchWebsiteConfiguration, NoSuchAccessPointPolicy) record null; any other failure, AccessDenied
 * included, records the fact as unknown. S3 Control calls are addressed to the account
 * (x-amz-account-id, host prefix ACCOUNT.) under /v20180820/. */
#ifndef TM_PROVIDERS_AWS_S3_H
#define TM_PROVIDERS_AWS_S3_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

extern const struct tm_aws_service tm__aws_service_s3;

/* The facts a bucket's own calls read, in attrs (the policy is policies.resource). */
extern const char *const tm__aws_s3_bucket_facts[];

/* ListBuckets: records each bucket (arn:PARTITION:s3:::NAME, no region yet) and pushes its name onto
 * names. */
TM_MUST_CHECK int tm__aws_s3_parse_buckets(const struct tm_aws_facts *f, const char *body, size_t len,
                                           struct tm_aws_strv *names, char *errmsg, size_t errmsg_len);

/* GetBucketLocation: the region ("" means us-east-1, "EU" eu-west-1) into out. */
TM_MUST_CHECK int tm__aws_s3_parse_location(char *out, size_t out_len, const char *body, size_t len, char *errmsg,
                                            size_t errmsg_len);

/* Fact parsers (tm_aws_fact_parse_fn). */
/* GetBucketPolicy: the body is the document. */
TM_MUST_CHECK int tm__aws_s3_parse_policy(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);
/* GetBucketPolicyStatus / GetAccessPointPolicyStatus: {is_public}. */
TM_MUST_CHECK int tm__aws_s3_parse_policy_status(cJSON **out, const char *body, size_t len, char *errmsg,
                                                 size_t errmsg_len);
/* GetBucketAcl: {owner: {id, display_name}, grants: [{grantee: {type, id, uri, display_name, email},
 * permission}]} (absent grantee fields are null). */
TM_MUST_CHECK int tm__aws_s3_parse_acl(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);
/* GetPublicAccessBlock (bucket or S3 Control account): {BlockPublicAcls, IgnorePublicAcls,
 * BlockPublicPolicy, RestrictPublicBuckets}, an absent setting being false. */
TM_MUST_CHECK int tm__aws_s3_parse_public_access_block(cJSON **out, const char *body, size_t len, char *errmsg,
                                                       size_t errmsg_len);
/* GetBucketOwnershipControls: the ObjectOwnership string. */
TM_MUST_CHECK int tm__aws_s3_parse_ownership(cJSON **out, const char *body, size_t len, char *errmsg,
                                             size_t errmsg_len);
/* GetBucketWebsite: {index_document, error_document, redirect_all_requests_to: {host_name, protocol} or
 * null, routing_rules: count}. */
TM_MUST_CHECK int tm__aws_s3_parse_website(cJSON **out, const char *body, size_t len, char *errmsg, size_t errmsg_len);
/* S3 Control GetAccessPointPolicy: the document in <Policy>. */
TM_MUST_CHECK int tm__aws_s3_parse_access_point_policy(cJSON **out, const char *body, size_t len, char *errmsg,
                                                       size_t errmsg_len);

/* S3 Control GetAccessPoint: the access point's Block Public Access, {BlockPublicAcls, IgnorePublicAcls,
 * BlockPublicPolicy, RestrictPublicBuckets}, or null when the answer carries none (S3 on Outposts). */
TM_MUST_CHECK int tm__aws_s3_parse_access_point(cJSON **out, const char *body, size_t len, char *errmsg,
                                                size_t errmsg_len);

/* S3 Control ListAccessPoints page (every access point of the account in the region): records each
 * with bucket, network_origin, vpc_id, bucket_account_id and a member-of link to its bucket; pushes
 * onto arns, names and buckets its ARN, name, and bucket name ("" for a bucket of another account:
 * BucketAccountId). A malformed entry is recorded as an error and skipped. */
TM_MUST_CHECK int tm__aws_s3_parse_access_points(const struct tm_aws_facts *f, const char *body, size_t len,
                                                 struct tm_aws_strv *arns, struct tm_aws_strv *names,
                                                 struct tm_aws_strv *buckets, char **next_token, char *errmsg,
                                                 size_t errmsg_len);

#endif
