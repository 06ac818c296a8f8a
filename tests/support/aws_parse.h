/* The fixture of the AWS parser tests: a snapshot, the coordinates of the answers parsed into it (account
 * 111122223333 in partition aws) as parsers take them (struct tm_aws_facts, or struct tm_aws_sink for
 * EC2 and RDS), the lists a listing hands back, and a message buffer. */
#ifndef TM_TESTS_SUPPORT_AWS_PARSE_H
#define TM_TESTS_SUPPORT_AWS_PARSE_H

#include "core/snapshot.h"
#include "providers/aws/facts.h"
#include "providers/aws/service.h"

#define TM_TEST_AWS_ACCOUNT "111122223333"

struct tm_test_aws_parse {
    struct tm_snapshot *snap;
    struct tm_aws_facts f;    /* service and operation as given; tests may change them */
    struct tm_aws_sink sink;  /* the same snapshot, partition, account and region */
    struct tm_aws_strv items; /* what a listing hands back to follow up: ARNs, ids, URLs */
    struct tm_aws_strv names;
    char errmsg[512];
};

/* A fresh fixture (the test fails when it cannot be made). */
struct tm_test_aws_parse *tm_test_aws_parse_new(const char *region, const char *service, const char *operation);
/* A cmocka teardown for it: frees *state. */
int tm_test_aws_parse_teardown(void **state);

#endif
