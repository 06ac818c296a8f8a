#include "tests/support/aws_parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

struct tm_test_aws_parse *tm_test_aws_parse_new(const char *region, const char *service, const char *operation) {
    struct tm_test_aws_parse *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    assert_int_equal(tm_snapshot_new(&p->snap, "aws"), TM_OK);
    p->f = (struct tm_aws_facts){p->snap, "aws", TM_TEST_AWS_ACCOUNT, region, service, operation};
    p->sink = (struct tm_aws_sink){p->snap, "aws", TM_TEST_AWS_ACCOUNT, region};
    return p;
}

int tm_test_aws_parse_teardown(void **state) {
    struct tm_test_aws_parse *p = *state;
    tm__aws_strv_clean_up(&p->items);
    tm__aws_strv_clean_up(&p->names);
    tm_snapshot_destroy(p->snap);
    free(p);
    return 0;
}
