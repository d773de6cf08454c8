/* Unit tests for zk_files: crafted or odd files end in a clear verdict, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cutover/zk_files.h"

static void put(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
}

static uint32_t adler32(const unsigned char *p, size_t n)
{
	uint32_t a = 1, b = 0;
	for (size_t i = 0; i < n; i++)
		a = (a + p[i]) % 65521u, b = (b + a) % 65521u;
	return (b << 16) | a;
}

/* A log named log.1: its header, then one record whose length field says
 * len and whose payload (body bytes of it, checksum right) follows. */
static char *write_log(char *dir, int32_t len, size_t body)
{
	static char path[256];
	unsigned char f[256] = {0};
	put(f, 0x5A4B4C47, 4), put(f + 4, 2, 4), put(f + 8, 0, 8);
	size_t n = 16;
	unsigned char *payload = f + n + 12;
	memset(payload, 0x41, body);
	put(f + n, adler32(payload, body), 8);
	put(f + n + 8, (uint32_t)len, 4);
	n += 12 + body;
	f[n++] = 'B';
	snprintf(path, sizeof path, "%s/log.1", dir);
	FILE *o = fopen(path, "wb");
	assert_non_null(o);
	assert_int_equal(fwrite(f, 1, n, o), n);
	fclose(o);
	return path;
}

static void test_zk_files_record_shorter_than_its_header_is_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/cutover-zkfiles-XXXXXX";
	assert_non_null(mkdtemp(dir));
	for (int32_t len = 28; len < 32; len++) { /* passed the old check; the type was read past the record */
		struct zk_log l;
		struct cut_err e;
		char *path = write_log(dir, len, (size_t)len);
		assert_int_equal(zk_log_read(path, &l, &e), CUT_OK);
		assert_false(l.valid);
		assert_int_equal(l.txns, 0);
		assert_non_null(strstr(l.error, "impossible record length"));
		unlink(path);
	}
	rmdir(dir);
}

static void test_zk_files_length_past_the_end_is_cut_short(void **state)
{
	(void)state;
	char dir[] = "/tmp/cutover-zkfiles-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct zk_log l;
	struct cut_err e;
	char *path = write_log(dir, 1 << 26, 9); /* 64 MiB claimed by a 38-byte file */
	assert_int_equal(zk_log_read(path, &l, &e), CUT_OK);
	assert_true(l.torn);
	assert_int_equal(l.txns, 0);
	assert_non_null(strstr(l.error, "cut short at byte 16"));
	unlink(path);
	rmdir(dir);
}

static void test_zk_files_directory_is_not_a_short_snapshot(void **state)
{
	(void)state;
	char dir[] = "/tmp/cutover-zkfiles-XXXXXX", sub[64];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof sub, "%s/snapshot.5", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	struct zk_snap sn;
	struct cut_err e;
	assert_int_equal(zk_snap_read(sub, &sn, &e), CUT_OK);
	assert_false(sn.valid);
	assert_string_equal(sn.error, "not a regular file (a directory)");
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zk_files_record_shorter_than_its_header_is_refused),
		cmocka_unit_test(test_zk_files_length_past_the_end_is_cut_short),
		cmocka_unit_test(test_zk_files_directory_is_not_a_short_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
