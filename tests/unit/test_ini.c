/* The strict INI parser for ~/.aws/config and ~/.aws/credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/str.h"
#include "providers/auth/ini.h"

static int s_parse(struct tm_ini *ini, const char *text, char *err, size_t err_len) {
    return tm_ini_parse(ini, "/home/u/.aws/config", text, strlen(text), err, err_len);
}

static void test_parse_config(void **state) {
    (void)state;
    const char *text = "\xEF\xBB\xBF# a comment\r\n"
                       "; another\n"
                       "[default]\n"
                       "region = eu-west-1\n"
                       "Output=json\n"
                       "\n"
                       "[profile dev]\r\n"
                       "  role_arn   =   arn:aws:iam::123456789012:role/dev  \n"
                       "source_profile: default\n"
                       "s3 =\n"
                       "    max_concurrent_requests = 20\n"
                       "    addressing_style = path\n"
                       "tag = caf\xc3\xa9 # not a comment\n"
                       "empty =\n"
                       "[ sso-session  corp ]  # trailing comment\n"
                       "sso_region = us-east-1";
    struct tm_ini ini;
    char err[256] = "";
    assert_int_equal(s_parse(&ini, text, err, sizeof(err)), TM_OK);
    assert_int_equal(ini.count, 3);
    const struct tm_ini_section *d = tm_ini_find(&ini, "default");
    assert_non_null(d);
    assert_int_equal(d->line, 3);
    assert_string_equal(tm_ini_get(d, "region"), "eu-west-1");
    /* Keys are lower-cased, as configparser does. */
    assert_string_equal(tm_ini_get(d, "output"), "json");
    assert_null(tm_ini_get(d, "Output"));
    const struct tm_ini_section *dev = tm_ini_find(&ini, "profile dev");
    assert_non_null(dev);
    assert_string_equal(tm_ini_get(dev, "role_arn"), "arn:aws:iam::123456789012:role/dev");
    assert_int_equal(tm_ini_entry(dev, "role_arn")->line, 8);
    assert_string_equal(tm_ini_get(dev, "source_profile"), "default");
    assert_string_equal(tm_ini_get(dev, "s3"), "\nmax_concurrent_requests = 20\naddressing_style = path");
    assert_string_equal(tm_ini_get(dev, "tag"), "caf\xc3\xa9 # not a comment");
    assert_string_equal(tm_ini_get(dev, "empty"), "");
    assert_null(tm_ini_get(dev, "max_concurrent_requests"));
    const struct tm_ini_section *sso = tm_ini_find(&ini, "sso-session  corp");
    assert_non_null(sso);
    assert_string_equal(tm_ini_get(sso, "sso_region"), "us-east-1");
    assert_null(tm_ini_find(&ini, "profile missing"));
    assert_null(tm_ini_get(NULL, "x"));
    tm_ini_clean_up(&ini);
    tm_ini_clean_up(NULL);
}

static void test_empty_and_comments_only(void **state) {
    (void)state;
    struct tm_ini ini;
    assert_int_equal(s_parse(&ini, "", NULL, 0), TM_OK);
    assert_int_equal(ini.count, 0);
    tm_ini_clean_up(&ini);
    assert_int_equal(s_parse(&ini, "\n\n   \n# only comments\n;\n", NULL, 0), TM_OK);
    assert_int_equal(ini.count, 0);
    tm_ini_clean_up(&ini);
}

struct bad_case {
    const char *text;
    const char *message; /* expected errmsg */
};

static void test_errors_name_file_and_line(void **state) {
    (void)state;
    static const struct bad_case cases[] = {
        {"aws_access_key_id = AKID\n", "/home/u/.aws/config:1: option 'aws_access_key_id' before any [section] header"},
        {"[a]\nx = 1\n[b]\n[a]\n", "/home/u/.aws/config:4: section [a] already defined on line 1"},
        {"[a]\nx = 1\ny = 2\nX = 3\n", "/home/u/.aws/config:4: option 'x' already set in [a] on line 2"},
        {"[a\nx = 1\n", "/home/u/.aws/config:1: section header without a closing ']'"},
        {"[a] x = 1\n", "/home/u/.aws/config:1: unexpected text after the section header"},
        {"[a]\njust some words\n", "/home/u/.aws/config:2: expected 'key = value' or a [section] header"},
        {"[a]\n = value\n", "/home/u/.aws/config:2: an option without a name"},
        {"[ ]\n", "/home/u/.aws/config:1: empty section name"},
        {"[default", "/home/u/.aws/config:1: section header without a closing ']'"}, /* truncated */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tm_ini ini;
        char err[256] = "";
        int rc = s_parse(&ini, cases[i].text, err, sizeof(err));
        if (rc != TM_ERR_PARSE || strcmp(err, cases[i].message) != 0)
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err, cases[i].message);
        assert_null(ini.sections);
        assert_int_equal(ini.count, 0);
    }
}

static void test_nul_byte_and_oversize(void **state) {
    (void)state;
    const char text[] = "[a]\nx = 1\ny = \0secret\n";
    struct tm_ini ini;
    char err[256] = "";
    assert_int_equal(tm_ini_parse(&ini, "creds", text, sizeof(text) - 1, err, sizeof(err)), TM_ERR_PARSE);
    assert_string_equal(err, "creds:3: NUL byte: not a text file");
    size_t big = TM_INI_MAX_BYTES + 1;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, '#', big);
    assert_int_equal(tm_ini_parse(&ini, "creds", huge, big, err, sizeof(err)), TM_ERR_TOO_BIG);
    assert_non_null(strstr(err, "creds: file too large"));
    free(huge);
}

static void test_continuation_needs_deeper_indent(void **state) {
    (void)state;
    /* An indented option after a shallower one continues it; at the same indent it is a new option. */
    const char *text = "[a]\n  x = 1\n  y = 2\n    more\n";
    struct tm_ini ini;
    assert_int_equal(s_parse(&ini, text, NULL, 0), TM_OK);
    const struct tm_ini_section *a = tm_ini_find(&ini, "a");
    assert_string_equal(tm_ini_get(a, "x"), "1");
    assert_string_equal(tm_ini_get(a, "y"), "2\nmore");
    tm_ini_clean_up(&ini);
    /* A section header ends the option a continuation could extend. */
    assert_int_equal(s_parse(&ini, "[a]\nx = 1\n[b]\n  y = 2\n", NULL, 0), TM_OK);
    assert_string_equal(tm_ini_get(tm_ini_find(&ini, "b"), "y"), "2");
    tm_ini_clean_up(&ini);
}

static void test_load(void **state) {
    (void)state;
    char dir[] = "/tmp/tm_ini_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/credentials", dir);
    struct tm_ini ini;
    char err[512] = "";
    assert_int_equal(tm_ini_load(&ini, path, err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, path));
    const char *text = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3t\n";
    assert_int_equal(tm_file_write_atomic(path, text, strlen(text), 0600, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_ini_load(&ini, path, err, sizeof(err)), TM_OK);
    assert_string_equal(ini.path, path);
    assert_string_equal(tm_ini_get(tm_ini_find(&ini, "default"), "aws_secret_access_key"), "s3cr3t");
    tm_ini_clean_up(&ini);
    const char *bad = "[default]\naws_access_key_id = AKIDEXAMPLE\nnot an option\n";
    assert_int_equal(tm_file_write_atomic(path, bad, strlen(bad), 0600, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_ini_load(&ini, path, err, sizeof(err)), TM_ERR_PARSE);
    char want[512];
    snprintf(want, sizeof(want), "%s:3: expected 'key = value' or a [section] header", path);
    assert_string_equal(err, want);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_config),
        cmocka_unit_test(test_empty_and_comments_only),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_nul_byte_and_oversize),
        cmocka_unit_test(test_continuation_needs_deeper_indent),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
