#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/str.h"

static void test_buf_cap_refuses_overflow(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 8);
    assert_int_equal(tm_buf_append_str(&b, "12345678"), TM_OK);
    assert_int_equal(tm_buf_append_char(&b, 'x'), TM_ERR_TOO_BIG);
    assert_true(b.toobig);
    assert_string_equal(tm_buf_str(&b), "12345678");
    assert_int_equal(tm_buf_appendf(&b, "%d", 1), TM_ERR_TOO_BIG);
    tm_buf_clean_up(&b);
}

static void test_buf_text_shortens_instead_of_failing(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 16);
    assert_int_equal(tm_buf_append_text(&b, "abcdef"), TM_OK);
    /* "é" is two bytes: the cut must not split it. */
    assert_int_equal(tm_buf_appendf_text(&b, ", %s", "ééééé"), TM_OK);
    assert_true(b.toobig);
    assert_true(b.len <= 16);
    assert_string_equal(tm_buf_str(&b), "abcdef, éé \xe2\x80\xa6");
    assert_int_equal(tm_buf_append_text(&b, "more"), TM_OK);
    assert_string_equal(tm_buf_str(&b), "abcdef, éé \xe2\x80\xa6");
    tm_buf_clean_up(&b);
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_appendf_text(&b, "%d", 42), TM_OK);
    assert_string_equal(tm_buf_str(&b), "42");
    tm_buf_clean_up(&b);
}

static void test_buf_appendf_grows(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(tm_buf_appendf(&b, "%04d", i), TM_OK);
    assert_int_equal(b.len, 4000);
    assert_memory_equal(b.data + 3996, "0999", 4);
    char *s = tm_buf_detach(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 4000);
    free(s);
    assert_null(b.data);
    s = tm_buf_detach(&b);
    assert_string_equal(s, "");
    free(s);
}

static void test_uri_encode(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    const char *in = "a b/c~d=é";
    assert_int_equal(tm_uri_encode(&b, in, strlen(in), false), TM_OK);
    assert_string_equal(tm_buf_str(&b), "a%20b%2Fc~d%3D%C3%A9");
    tm_buf_reset(&b);
    assert_int_equal(tm_uri_encode(&b, in, strlen(in), true), TM_OK);
    assert_string_equal(tm_buf_str(&b), "a%20b/c~d%3D%C3%A9");
    tm_buf_clean_up(&b);
}

static void test_uri_decode(void **state) {
    (void)state;
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_uri_decode(&b, "a+b%2Fc%7e", 10, true), TM_OK);
    assert_string_equal(tm_buf_str(&b), "a b/c~");
    tm_buf_reset(&b);
    assert_int_equal(tm_uri_decode(&b, "a+b", 3, false), TM_OK);
    assert_string_equal(tm_buf_str(&b), "a+b");
    tm_buf_reset(&b);
    assert_int_equal(tm_uri_decode(&b, "bad%2", 5, false), TM_ERR_PARSE);
    tm_buf_reset(&b);
    assert_int_equal(tm_uri_decode(&b, "bad%zz", 6, false), TM_ERR_PARSE);
    tm_buf_reset(&b);
    assert_int_equal(tm_uri_decode(&b, "%", 1, false), TM_ERR_PARSE);
    tm_buf_clean_up(&b);
}

static void test_file_atomic_write_and_read(void **state) {
    (void)state;
    char dir[] = "/tmp/tmscan-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/out.json", dir);
    char err[256] = "";
    assert_int_equal(tm_file_write_atomic(path, "{}\n", 3, 0600, err, sizeof(err)), TM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_file_read(&b, path, 100, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&b), "{}\n");
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, path, 2, err, sizeof(err)), TM_ERR_TOO_BIG);
    assert_non_null(strstr(err, "out.json"));
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, "/nonexistent/x", 100, err, sizeof(err)), TM_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "/nonexistent/x"));
    tm_buf_clean_up(&b);
    unlink(path);
    rmdir(dir);
}

/* A file written piece by piece appears only on commit; an aborted one leaves the old file as it was. */
static void test_file_atomic_pieces(void **state) {
    (void)state;
    char dir[] = "/tmp/tmscan-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/report.json", dir);
    char err[256] = "";
    assert_int_equal(tm_file_write_atomic(path, "old\n", 4, 0600, err, sizeof(err)), TM_OK);
    struct tm_file_atomic w;
    assert_int_equal(tm_file_atomic_open(&w, path, 0640, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_file_atomic_write(&w, "{\"a\":", 5), TM_OK);
    assert_int_equal(tm_file_atomic_write(&w, "", 0), TM_OK);
    assert_int_equal(tm_file_atomic_write(&w, "1}\n", 3), TM_OK);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_file_read(&b, path, 100, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&b), "old\n"); /* not yet */
    assert_int_equal(tm_file_atomic_commit(&w, err, sizeof(err)), TM_OK);
    tm_file_atomic_abort(&w); /* after a commit: nothing */
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, path, 100, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&b), "{\"a\":1}\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);

    assert_int_equal(tm_file_atomic_open(&w, path, 0600, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_file_atomic_write(&w, "partial", 7), TM_OK);
    tm_file_atomic_abort(&w);
    assert_int_equal(tm_file_atomic_write(&w, "x", 1), TM_ERR_STATE);
    assert_int_equal(tm_file_atomic_commit(&w, err, sizeof(err)), TM_ERR_STATE);
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, path, 100, err, sizeof(err)), TM_OK);
    assert_string_equal(tm_buf_str(&b), "{\"a\":1}\n");
    tm_buf_clean_up(&b);
    /* The temporary files are gone: only report.json is left. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);

    snprintf(path, sizeof(path), "%s/missing-dir/report.json", dir);
    assert_int_equal(tm_file_atomic_open(&w, path, 0600, err, sizeof(err)), TM_ERR_IO);
    assert_non_null(strstr(err, "missing-dir"));
    tm_file_atomic_abort(&w);
}

/* Files larger than one read, read whole; the cap holds whatever the file's size. */
static void test_file_read_large(void **state) {
    (void)state;
    char dir[] = "/tmp/tmscan-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/big", dir);
    size_t n = 300000;
    char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    assert_int_equal(tm_file_write_atomic(path, data, n, 0600, err, sizeof(err)), TM_OK);
    struct tm_buf b;
    tm_buf_init(&b, 0);
    assert_int_equal(tm_buf_append_str(&b, "prefix:"), TM_OK);
    assert_int_equal(tm_file_read(&b, path, 0, err, sizeof(err)), TM_OK);
    assert_int_equal(b.len, n + 7);
    assert_memory_equal(b.data + 7, data, n);
    assert_int_equal(b.data[b.len], '\0');
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, path, n, err, sizeof(err)), TM_OK);
    tm_buf_reset(&b);
    assert_int_equal(tm_file_read(&b, path, n - 1, err, sizeof(err)), TM_ERR_TOO_BIG);
    tm_buf_clean_up(&b);
    /* A buffer's own cap refuses it too. */
    tm_buf_init(&b, 1000);
    assert_int_equal(tm_file_read(&b, path, 0, err, sizeof(err)), TM_ERR_TOO_BIG);
    tm_buf_clean_up(&b);
    /* Not a regular file: read to its end all the same. */
    tm_buf_init(&b, 0);
    assert_int_equal(tm_file_read(&b, "/proc/self/status", 0, err, sizeof(err)), TM_OK);
    assert_non_null(strstr(tm_buf_str(&b), "Name:"));
    tm_buf_clean_up(&b);
    free(data);
    unlink(path);
    rmdir(dir);
}

/* -o /dev/null or a FIFO: the output is written into it, never renamed over it, whole or piece by piece. A
 * FIFO stands in for /dev/null so that a regression replaces a file of the test's own, not the machine's. */
static void test_file_write_into_fifo(void **state) {
    (void)state;
    char dir[] = "/tmp/tmscan-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/pipe", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    int rd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rd >= 0);
    char err[256] = "";
    assert_int_equal(tm_file_write_atomic(path, "report\n", 7, 0600, err, sizeof(err)), TM_OK);
    struct tm_file_atomic w;
    assert_int_equal(tm_file_atomic_open(&w, path, 0600, err, sizeof(err)), TM_OK);
    assert_int_equal(tm_file_atomic_write(&w, "more", 4), TM_OK);
    assert_int_equal(tm_file_atomic_commit(&w, err, sizeof(err)), TM_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    char got[32] = "";
    assert_int_equal(read(rd, got, sizeof(got) - 1), 11);
    assert_string_equal(got, "report\nmore");
    close(rd);
    unlink(path);
    rmdir(dir);
}

static void test_str_helpers(void **state) {
    (void)state;
    assert_true(tm_str_ieq("ListBuckets", "listbuckets"));
    assert_false(tm_str_ieq("List", "ListBuckets"));
    assert_true(tm_str_starts_with("GetObject", "Get"));
    assert_true(tm_str_ends_with("file.json", ".json"));
    assert_false(tm_str_ends_with("n", ".json"));
    struct tm_buf b;
    tm_buf_init(&b, 0);
    const unsigned char bytes[] = {0x00, 0xab, 0xff};
    assert_int_equal(tm_hex_encode(&b, bytes, 3), TM_OK);
    assert_string_equal(tm_buf_str(&b), "00abff");
    tm_buf_clean_up(&b);
    assert_string_equal(tm_error_str(TM_ERR_READ_ONLY), "refused: not a read-only operation");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_refuses_overflow),
        cmocka_unit_test(test_buf_appendf_grows),
        cmocka_unit_test(test_buf_text_shortens_instead_of_failing),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_uri_decode),
        cmocka_unit_test(test_file_atomic_write_and_read),
        cmocka_unit_test(test_file_atomic_pieces),
        cmocka_unit_test(test_file_write_into_fifo),
        cmocka_unit_test(test_file_read_large),
        cmocka_unit_test(test_str_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
