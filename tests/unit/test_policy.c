/* Unit tests for policy: what confirms a step, and why a confirmation is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cutover/policy.h"

static const char rb_text[] =
	"runbook: t\nkind: migration\nrollback: back.yaml\npoint_of_no_return: c\nsteps:\n"
	"  - {id: a, title: A, action: shell, targets: [local], params: {command: 'true'}, simple: true}\n"
	"  - {id: b, title: B, action: zk.stop, targets: [new.all], confirm: two}\n"
	"  - {id: c, title: C, action: shell, targets: [local], params: {command: 'true'}}\n"
	"  - {id: d, title: D, action: shell, targets: [local], params: {command: 'true'}}\n";

static const char rollback_text[] =
	"runbook: back\nkind: rollback\nbudget: 10m\nsteps:\n"
	"  - {id: a, title: A, action: shell, targets: [local], params: {command: 'true'}}\n";

static const char inv_text[] =
	"site: s\nssh: {user: root}\nensembles:\n  new:\n    nodes: [{myid: 1, host: 10.0.0.1}]\n"
	"operators:\n  - {name: 姚伟, login: yaowei}\n  - {name: 周梦林, login: zhoumenglin}\n  - alice\n";

struct fixture {
	struct runbook *rb, *back;
	struct inventory *inv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct diag_list d = {0};
	f->rb = rb_load("t.yaml", rb_text, strlen(rb_text), &d);
	f->back = rb_load("back.yaml", rollback_text, strlen(rollback_text), &d);
	f->inv = inv_load("inv.yaml", inv_text, strlen(inv_text), &d);
	assert_int_equal(d.errors, 0);
	diag_free(&d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rb_free(f->rb);
	rb_free(f->back);
	inv_free(f->inv);
	free(f);
	return 0;
}

static const struct gate_result ok_gate = {.gate = "old.quorum", .ok = true, .why = "3 of 3"};
static const struct gate_result bad_gate = {.gate = "new.down", .ok = false, .why = "new1 is up"};

static int check(const struct fixture *f, const struct policy_need *n, const struct policy_confirmation *c,
		 bool *second, struct cut_err *e)
{
	return policy_check(n, f->inv, c, second, e);
}

/* What policy_describe prints for n, without gates (malloc'd). */
static char *described(const struct policy_need *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	policy_describe(n, NULL, 0, out);
	fclose(out);
	return buf;
}

/* Only the id confirms a step not marked simple; yes confirms a simple one. */
static void test_policy_yes_confirms_only_simple_steps(void **state)
{
	struct fixture *f = *state;
	struct policy_need n;
	struct cut_err e;
	bool second;
	policy_need_of(f->rb, 2, &ok_gate, 1, false, 0, 0, &n);
	assert_false(n.yes_ok);
	struct policy_confirmation c = {.typed = "yes", .first = {.name = "alice"}, .present = -1};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "type c to run it"));
	assert_non_null(strstr(e.msg, "yes confirms only a step marked simple"));
	c.typed = "d"; /* another step's id */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	c.typed = "c";
	c.second.name = "姚伟"; /* c is the point of no return: two, whatever the runbook says */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	policy_need_of(f->rb, 0, NULL, 0, false, 0, 0, &n);
	assert_true(n.yes_ok);
	c = (struct policy_confirmation){.typed = "yes", .first = {.name = "alice"}, .present = -1};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
}

/* The point of no return needs two; steps after it say so. */
static void test_policy_point_of_no_return(void **state)
{
	struct fixture *f = *state;
	struct policy_need n;
	policy_need_of(f->rb, 2, NULL, 0, false, 0, 0, &n);
	assert_int_equal(n.pnr, POLICY_AT_PNR);
	assert_true(n.two);
	assert_string_equal(n.why_two, "the point of no return");
	policy_need_of(f->rb, 3, NULL, 0, false, 0, 0, &n);
	assert_int_equal(n.pnr, POLICY_AFTER_PNR);
	assert_false(n.two);
	policy_need_of(f->rb, 1, NULL, 0, false, 0, 0, &n);
	assert_int_equal(n.pnr, POLICY_BEFORE_PNR);
	assert_string_equal(n.why_two, "this step (confirm: two)");
	char *buf = described(&n);
	assert_non_null(strstr(buf, "to confirm: type b; then a second operator (this step (confirm: two))"));
	assert_non_null(strstr(buf, "before the point of no return (c)"));
	assert_non_null(strstr(buf, "rollback, if it comes to that: back.yaml"));
	free(buf);
}

/* A rollback run shows its budget left, counted from its start. */
static void test_policy_rollback_budget(void **state)
{
	struct fixture *f = *state;
	struct policy_need n;
	policy_need_of(f->back, 0, NULL, 0, false, 1000000, 1000000 + 190000, &n);
	assert_int_equal(n.budget_ms, 600000);
	assert_int_equal(n.budget_left_ms, 410000);
	char *buf = described(&n);
	assert_non_null(strstr(buf, "rollback budget: left 6m50s (of 10m00s)"));
	free(buf);
	policy_need_of(f->back, 0, NULL, 0, false, 1000000, 1000000 + 700000, &n);
	assert_true(n.budget_left_ms < 0);
}

/* Two people: different names, different clients, each from their own login where one is given. */
static void test_policy_second_operator(void **state)
{
	struct fixture *f = *state;
	struct policy_need n;
	struct cut_err e;
	bool second;
	policy_need_of(f->rb, 1, &ok_gate, 1, false, 0, 0, &n);
	struct policy_confirmation c = {.typed = "b", .first = {"姚伟", "/dev/pts/1", "yaowei"}, .present = 2};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_true(second);
	assert_non_null(strstr(e.msg, "needs a second operator"));
	c.second = (struct policy_who){"姚伟", "/dev/pts/2", "yaowei"};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "two different operators"));
	c.second = (struct policy_who){"周梦林", "/dev/pts/1", "zhoumenglin"}; /* from the first one's client */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "confirms from their own tmux client"));
	c.second = (struct policy_who){"周梦林", "/dev/pts/2", "yaowei"}; /* another client, the wrong login */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "周梦林 confirms from their own login (zhoumenglin); the client that typed runs as yaowei"));
	c.second = (struct policy_who){"周梦林", "/dev/pts/2", "zhoumenglin"};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	/* one shared login, two clients: the client rule still holds */
	c.first = (struct policy_who){"alice", "/dev/pts/1", "ops"};
	c.second = (struct policy_who){"周梦林", "/dev/pts/2", "zhoumenglin"};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	/* plain mode: one terminal, no clients known; recorded as such by the engine */
	c.first = (struct policy_who){"alice", NULL, NULL};
	c.second = (struct policy_who){"姚伟", NULL, NULL};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	c.second.name = "mallory";
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EINVAL);
	assert_true(second);
}

/* An override needs two and a reason; a data-changing step alone warns or is refused. */
static void test_policy_override_and_presence(void **state)
{
	struct fixture *f = *state;
	struct policy_need n;
	struct cut_err e;
	bool second;
	const struct gate_result gates[] = {ok_gate, bad_gate};
	policy_need_of(f->rb, 3, gates, 2, false, 0, 0, &n);
	assert_true(n.two && n.reason);
	assert_string_equal(n.why_two, "overriding a gate");
	struct policy_confirmation c = {.typed = "d", .first = {.name = "alice"}, .second = {.name = "姚伟"}, .present = -1};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "gate new.down does not hold (new1 is up)"));
	assert_false(second);
	c.reason = "the fixture";
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	/* zk.stop changes data: one engineer attached warns (the engine records it) */
	policy_need_of(f->rb, 1, NULL, 0, false, 0, 0, &n);
	assert_true(n.destructive);
	c = (struct policy_confirmation){.typed = "b", .first = {.name = "alice"}, .second = {.name = "姚伟"}, .present = 1};
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	policy_need_of(f->rb, 1, NULL, 0, true, 0, 0, &n); /* alone: refuse */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "changes data and 1 engineer is attached"));
	c.present = 2;
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
	c.present = -1; /* not known (no tmux): nothing to hold it to */
	assert_int_equal(check(f, &n, &c, &second, &e), CUT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_yes_confirms_only_simple_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_point_of_no_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_rollback_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_second_operator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_override_and_presence, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
