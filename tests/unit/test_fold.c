/* Unit tests for fold: the same events always give the same state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cutover/fold.h"

static const char rb_text[] =
	"runbook: t\nkind: migration\nsteps:\n"
	"  - {id: a, title: A, action: shell, targets: [local], params: {command: 'true'}}\n"
	"  - {id: b, title: B, action: shell, targets: [local], params: {command: 'true'}}\n"
	"  - {id: c, title: C, action: manual}\n";

struct ev {
	const char *kind, *step, *target, *payload;
};

static struct fold fold_of(struct runbook *rb, const struct ev *evs, size_t n)
{
	struct fold f;
	assert_int_equal(fold_init(&f, rb), CUT_OK);
	for (size_t i = 0; i < n; i++) {
		struct audit_event e = {.seq = (int64_t)i + 1, .run = 7, .wall = "2026-11-25T03:00:00.000Z",
					.operator = "alice", .kind = evs[i].kind, .step = evs[i].step,
					.target = evs[i].target, .payload = evs[i].payload};
		fold_apply(&f, &e);
	}
	return f;
}

static struct runbook *load(void)
{
	struct diag_list d = {0};
	struct runbook *rb = rb_load("t.yaml", rb_text, strlen(rb_text), &d);
	assert_non_null(rb);
	assert_int_equal(d.errors, 0);
	diag_free(&d);
	return rb;
}

static void test_fold_a_clean_step_succeeds(void **state)
{
	(void)state;
	struct runbook *rb = load();
	const struct ev evs[] = {
		{"run_start", NULL, NULL, "{}"},
		{"confirm", "a", NULL, "{\"operators\":[\"alice\",\"bob\"]}"},
		{"step_start", "a", NULL, "{\"attempt\":1}"},
		{"intent", "a", "local", "{\"op\":\"$ true\"}"},
		{"output", "a", "local", "{\"stream\":\"stdout\",\"text\":\"hello\\n\"}"},
		{"target_end", "a", "local", "{\"ok\":true,\"exit\":0}"},
		{"step_end", "a", NULL, "{\"ok\":true}"},
	};
	struct fold f = fold_of(rb, evs, sizeof evs / sizeof evs[0]);
	assert_int_equal(f.steps[0].st, FS_SUCCEEDED);
	assert_string_equal(f.steps[0].confirmed_by[1], "bob");
	assert_int_equal(f.steps[0].nt, 1);
	assert_int_equal(f.steps[0].t[0].st, FT_OK);
	assert_int_equal(f.steps[0].out_bytes, 6);
	assert_int_equal(fold_current(&f), 1);
	assert_int_equal(f.steps[1].st, FS_PENDING);
	assert_int_equal(f.run, 7);
	assert_null(f.outcome);
	fold_free(&f);
	rb_free(rb);
}

static void test_fold_running_step_then_interrupted_then_rerun(void **state)
{
	(void)state;
	struct runbook *rb = load();
	const struct ev evs[] = {
		{"step_start", "a", NULL, "{}"},
		{"intent", "a", "local", "{}"},
		{"interrupted", "a", NULL, "{\"targets\":[\"local\"]}"},
	};
	struct fold f = fold_of(rb, evs, 3);
	assert_int_equal(f.steps[0].st, FS_INTERRUPTED);
	assert_int_equal(f.steps[0].t[0].st, FT_INTERRUPTED);
	assert_int_equal(fold_current(&f), 0);
	fold_free(&f);
	const struct ev more[] = {
		{"step_start", "a", NULL, "{}"},
		{"interrupted", "a", NULL, "{}"},
		{"decision", "a", NULL, "{\"choice\":\"rerun\"}"},
	};
	f = fold_of(rb, more, 3);
	assert_int_equal(f.steps[0].st, FS_PENDING);
	assert_false(f.steps[0].confirmed); /* a rerun is confirmed again */
	fold_free(&f);
	const struct ev done[] = {
		{"step_start", "a", NULL, "{}"},
		{"interrupted", "a", NULL, "{}"},
		{"decision", "a", NULL, "{\"choice\":\"done\",\"reason\":\"checked by hand\"}"},
	};
	f = fold_of(rb, done, 3);
	assert_int_equal(f.steps[0].st, FS_SUCCEEDED);
	assert_true(f.steps[0].marked_done);
	assert_string_equal(f.steps[0].reason, "checked by hand");
	fold_free(&f);
	rb_free(rb);
}

static void test_fold_failure_skip_and_abort(void **state)
{
	(void)state;
	struct runbook *rb = load();
	const struct ev evs[] = {
		{"step_start", "a", NULL, "{}"},
		{"step_end", "a", NULL, "{\"ok\":false,\"error\":\"exited 3\"}"},
		{"decision", "a", NULL, "{\"choice\":\"skip\",\"reason\":\"not needed\"}"},
		{"step_start", "b", NULL, "{}"},
		{"step_end", "b", NULL, "{\"ok\":false,\"error\":\"boom\"}"},
		{"note", NULL, NULL, "{\"text\":\"calling the DBA\"}"},
		{"decision", "b", NULL, "{\"choice\":\"abort\"}"},
		{"run_end", NULL, NULL, "{\"outcome\":\"aborted\"}"},
	};
	struct fold f = fold_of(rb, evs, sizeof evs / sizeof evs[0]);
	assert_int_equal(f.steps[0].st, FS_SKIPPED);
	assert_int_equal(f.steps[1].st, FS_FAILED);
	assert_string_equal(f.steps[1].error, "boom");
	assert_string_equal(f.outcome, "aborted");
	assert_int_equal(f.notes, 1);
	assert_int_equal(fold_current(&f), 1);
	fold_free(&f);
	rb_free(rb);
}

static void test_fold_ignores_unknown_kinds_steps_and_bad_payloads(void **state)
{
	(void)state;
	struct runbook *rb = load();
	const struct ev evs[] = {
		{"from_the_future", "a", NULL, "{}"},
		{"step_start", "zz", NULL, "{}"},
		{"step_end", "a", NULL, "not json"},
		{"target_end", "a", NULL, "{}"},
	};
	struct fold f = fold_of(rb, evs, sizeof evs / sizeof evs[0]);
	assert_int_equal(f.events, 4);
	assert_int_equal(f.steps[0].st, FS_FAILED); /* no "ok": true is no success */
	assert_int_equal(f.steps[1].st, FS_PENDING);
	fold_free(&f);
	rb_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_a_clean_step_succeeds),
		cmocka_unit_test(test_fold_running_step_then_interrupted_then_rerun),
		cmocka_unit_test(test_fold_failure_skip_and_abort),
		cmocka_unit_test(test_fold_ignores_unknown_kinds_steps_and_bad_payloads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
