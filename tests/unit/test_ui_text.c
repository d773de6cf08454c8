/*
 * Unit tests for the console's text measure (ui/ui_text.c): display cells,
 * not bytes, so Chinese titles align and truncation never splits a character.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "../ui/ui_int.h"

static int utf8(void **state)
{
	(void)state;
	return setlocale(LC_CTYPE, "C.UTF-8") ? 0 : -1;
}

static void test_ui_text_chinese_takes_two_cells(void **state)
{
	(void)state;
	assert_int_equal(ui_width("stop"), 4);
	assert_int_equal(ui_width("停止所有写入任务"), 16);
	assert_int_equal(ui_width("停止 / Stop"), 11);
	assert_int_equal(ui_width(""), 0);
}

static void test_ui_text_fit_never_splits_a_character(void **state)
{
	(void)state;
	int used;
	const char *t = "停止所有";
	/* 5 cells hold two characters (4 cells), not two and a half */
	size_t n = ui_fit(t, 5, &used);
	assert_int_equal(n, 6);
	assert_int_equal(used, 4);
	assert_int_equal(ui_fit(t, 1, &used), 0);
	assert_int_equal(ui_fit("ab停", 3, &used), 2);
	assert_int_equal(ui_fit("abc", 10, &used), 3);
	assert_int_equal(used, 3);
}

static void test_ui_text_invalid_bytes_count_one_cell(void **state)
{
	(void)state;
	assert_int_equal(ui_width("a\xff" "b"), 3);
	int used;
	assert_int_equal(ui_fit("\xe5\x81", 5, &used), 2); /* a cut-short character: two bytes, two cells */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ui_text_chinese_takes_two_cells),
		cmocka_unit_test(test_ui_text_fit_never_splits_a_character),
		cmocka_unit_test(test_ui_text_invalid_bytes_count_one_cell),
	};
	return cmocka_run_group_tests(tests, utf8, NULL);
}
