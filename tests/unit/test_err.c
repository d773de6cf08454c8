/* Unit tests for err: codes, names, formatting and UTF-8-safe truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cutover/err.h"

static void test_err_every_code_has_a_name(void **state)
{
	(void)state;
	for (int c = 0; c < CUT_NCODES; c++)
		assert_string_not_equal(cut_strerror(c), "unknown error");
	assert_string_equal(cut_strerror(CUT_NCODES), "unknown error");
	assert_string_equal(cut_strerror(-1), "unknown error");
	assert_string_equal(cut_strerror(CUT_ETIMEOUT), "timed out");
}

static void test_err_fail_returns_code_and_formats(void **state)
{
	(void)state;
	struct cut_err e;
	cut_err_clear(&e);
	assert_int_equal(cut_fail(&e, CUT_ENET, "%s:%d refused", "127.0.1.1", 2181), CUT_ENET);
	assert_int_equal(e.code, CUT_ENET);
	assert_string_equal(e.msg, "127.0.1.1:2181 refused");
	cut_err_prefix(&e, "probe %s: ", "old1");
	assert_string_equal(e.msg, "probe old1: 127.0.1.1:2181 refused");
}

/* Wrapping the message already in err, the common "...: %s", err->msg. */
static void test_err_fail_may_wrap_its_own_message(void **state)
{
	(void)state;
	struct cut_err e = {0};
	cut_fail(&e, CUT_ENET, "http://127.0.0.1:1/: Couldn't connect to server");
	cut_fail(&e, e.code, "task 2948: GET %s", e.msg);
	assert_string_equal(e.msg, "task 2948: GET http://127.0.0.1:1/: Couldn't connect to server");
	assert_int_equal(e.code, CUT_ENET);
}

static void test_err_null_buffer_is_allowed(void **state)
{
	(void)state;
	assert_int_equal(cut_fail(NULL, CUT_EIO, "x"), CUT_EIO);
	cut_err_prefix(NULL, "y");
	cut_err_clear(NULL);
}

/* Fill the buffer with 3-byte characters so the cut lands mid-character. */
static void test_err_truncation_keeps_whole_utf8_characters(void **state)
{
	(void)state;
	static char big[CUT_ERR_MSG_MAX * 2];
	size_t n = 0;
	big[n++] = 'a'; /* shift the 3-byte grid off the buffer size */
	while (n + 3 < sizeof big) {
		memcpy(big + n, "\xe6\xad\xa5", 3); /* 步 */
		n += 3;
	}
	big[n] = '\0';
	struct cut_err e;
	cut_fail(&e, CUT_EINVAL, "%s", big);
	size_t len = strlen(e.msg);
	assert_true(len < CUT_ERR_MSG_MAX);
	assert_true(len >= CUT_ERR_MSG_MAX - 4);
	assert_int_equal((len - 1) % 3, 0); /* 'a' then only whole characters */

	cut_fail(&e, CUT_EINVAL, "%s", big + 1);
	cut_err_prefix(&e, "步骤 a: ");
	len = strlen(e.msg);
	assert_true(len < CUT_ERR_MSG_MAX);
	assert_int_equal((len - strlen("步骤 a: ")) % 3, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_every_code_has_a_name),
		cmocka_unit_test(test_err_fail_returns_code_and_formats),
		cmocka_unit_test(test_err_fail_may_wrap_its_own_message),
		cmocka_unit_test(test_err_null_buffer_is_allowed),
		cmocka_unit_test(test_err_truncation_keeps_whole_utf8_characters),
	};
	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
