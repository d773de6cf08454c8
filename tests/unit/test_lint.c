/*
 * Unit tests for the inventory and runbook loaders and the linter: every
 * check has a failing fixture, and the exact message and position are asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/lint.h"
#include "cutover/subst.h"

static const char base_inv[] =
	"site: t\n"                                   /* 1 */
	"ssh: {user: root, port: 22, known_hosts: /k}\n"
	"operators: [alice, bob]\n"
	"ensembles:\n"
	"  old:\n"                                    /* 5 */
	"    nodes:\n"
	"      - {myid: 1, host: 10.0.0.1}\n"
	"      - {myid: 2, host: 10.0.0.2}\n"
	"      - {myid: 3, host: 10.0.0.3}\n"
	"  new:\n"                                    /* 10 */
	"    nodes:\n"
	"      - {myid: 1, host: 10.0.1.1}\n"
	"      - {myid: 2, host: 10.0.1.2}\n"
	"      - {myid: 3, host: 10.0.1.3}\n"
	"clickhouse:\n"                               /* 15 */
	"  ensemble: old\n"
	"  nodes: [{name: ck1, host: 10.0.2.1}]\n"
	"tasks:\n"
	"  list: [{id: '2948', status: s, start: s, stop: s}]\n";

struct fx {
	struct diag_list d;
	struct inventory *inv;
	struct runbook *rb;
};

static void lint_strings(struct fx *f, const char *inv, const char *rb)
{
	memset(f, 0, sizeof *f);
	f->inv = inv_load("inv.yaml", inv, strlen(inv), &f->d);
	assert_non_null(f->inv);
	if (f->d.errors == 0)
		inv_check(f->inv, &f->d);
	if (rb != NULL) {
		f->rb = rb_load("rb.yaml", rb, strlen(rb), &f->d);
		assert_non_null(f->rb);
		if (f->d.errors == 0)
			rb_lint(f->rb, f->inv, &f->d, 1);
	}
}

static void done(struct fx *f)
{
	rb_free(f->rb);
	inv_free(f->inv);
	diag_free(&f->d);
}

/* Exactly one diagnostic contains `msg`, at file:line:col. */
static void expect(struct fx *f, const char *file, int line, int col, const char *msg)
{
	const struct diag *x = diag_find(&f->d, msg);
	if (x == NULL) {
		diag_print(&f->d, stderr);
		fail_msg("no diagnostic contains: %s", msg);
	}
	if (strcmp(x->file, file) != 0 || x->line != line || x->col != col) {
		diag_print(&f->d, stderr);
		fail_msg("'%s' at %s:%d:%d, expected %s:%d:%d", msg, x->file, x->line, x->col, file, line, col);
	}
}

/* base_inv with one piece replaced; the piece must be there. */
static const char *with(const char *from, const char *to)
{
	static char buf[4096];
	const char *at = strstr(base_inv, from);
	assert_non_null(at);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - base_inv), base_inv, to, at + strlen(from));
	return buf;
}

static const char step_ok[] = "runbook: r\nsteps:\n  - {id: a, action: zk.status, targets: [old.all]}\n";

static void test_lint_clean_fixture_has_no_diagnostics(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv, step_ok);
	diag_print(&f.d, stderr);
	assert_int_equal(f.d.errors, 0);
	assert_int_equal(f.d.warnings, 0);
	done(&f);
}

static void test_lint_yaml_syntax_error_has_position(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv, "runbook: r\nsteps:\n  - id: a\n   action: [\n");
	assert_int_equal(f.d.errors, 1);
	assert_string_equal(f.d.v[0].file, "rb.yaml");
	assert_int_equal(f.d.v[0].line, 4);
	assert_non_null(strstr(f.d.v[0].msg, "YAML syntax error"));
	done(&f);
}

static void test_lint_bad_utf8_points_at_its_byte(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv, "runbook: r\nsteps:\n  - {id: a\xff}\n");
	assert_int_equal(f.d.errors, 1);
	assert_int_equal(f.d.v[0].line, 3);
	assert_int_equal(f.d.v[0].col, 11);
	assert_non_null(strstr(f.d.v[0].msg, "invalid"));
	done(&f);
}

static void test_lint_duplicate_keys_are_refused_with_both_places(void **state)
{
	(void)state;
	struct fx f;
	/* params is free-form: the second command used to be dropped (the first ran) */
	lint_strings(&f, base_inv,
		     "runbook: r\nsteps:\n  - {id: a, action: shell, targets: [local], params: {command: echo, command: ls}}\n");
	expect(&f, "rb.yaml", 3, 70, "key 'command' appears twice in one mapping (first at line 3, column 55)");
	done(&f);
	lint_strings(&f, base_inv, "runbook: r\nsteps: []\n---\nrunbook: s\n");
	expect(&f, "rb.yaml", 4, 1, "a second YAML document starts here");
	done(&f);
}

static void test_lint_unknown_key_is_an_error(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv, "runbook: r\nsteps:\n  - {id: a, actoin: zk.status}\n");
	expect(&f, "rb.yaml", 3, 13, "unknown key 'actoin' in step; the known keys are: id, title,");
	expect(&f, "rb.yaml", 3, 5, "step lacks the required key 'action'; add it");
	done(&f);
}

static void test_lint_password_in_file_is_refused(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("host: 10.0.2.1}", "host: 10.0.2.1, password: hunter2}"), NULL);
	expect(&f, "inv.yaml", 17, 39, "unknown key 'password' in ClickHouse node");
	assert_non_null(strstr(diag_find(&f.d, "password")->msg, "password_env"));
	done(&f);
}

static void test_lint_wrong_type_and_range(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("port: 22,", "port: 99999,"), NULL);
	expect(&f, "inv.yaml", 2, 25, "ssh 'port' 99999 is out of range; use 1 to 65535");
	done(&f);

	lint_strings(&f, with("{myid: 2", "{myid: x"), NULL);
	expect(&f, "inv.yaml", 8, 16, "ZooKeeper node 'myid' must be a whole number, not 'x'");
	done(&f);
}

/* ssh.local: a node's own, or its ensemble's default; the site's stays off; a non-bool is an error. */
static void test_inventory_ssh_local(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("      - {myid: 2, host: 10.0.0.2}", "      - {myid: 2, host: 10.0.0.2, ssh: {local: true}}"), NULL);
	assert_int_equal(f.d.errors, 0);
	const struct inv_ensemble *old = inv_ensemble(f.inv, "old");
	assert_false(old->nodes[0].ssh.local);
	assert_true(old->nodes[1].ssh.local);
	assert_int_equal(old->nodes[1].ssh.port, 22); /* the rest still from the site */
	assert_false(f.inv->ssh.local);
	done(&f);

	lint_strings(&f, with("    nodes:\n      - {myid: 1, host: 10.0.0.1}", "    defaults: {ssh: {local: true}}\n    nodes:\n      - {myid: 1, host: 10.0.0.1}"), NULL);
	assert_int_equal(f.d.errors, 0);
	old = inv_ensemble(f.inv, "old");
	assert_true(old->nodes[0].ssh.local && old->nodes[2].ssh.local);
	assert_false(inv_ensemble(f.inv, "new")->nodes[0].ssh.local);
	done(&f);

	lint_strings(&f, with("      - {myid: 2, host: 10.0.0.2}", "      - {myid: 2, host: 10.0.0.2, ssh: {local: maybe}}"), NULL);
	assert_int_equal(f.d.errors, 1);
	done(&f);
}

static void test_lint_duplicate_myid_and_host(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("{myid: 2, host: 10.0.0.2}", "{myid: 1, host: 10.0.0.1}"), NULL);
	expect(&f, "inv.yaml", 8, 16, "myid 1 appears twice in ensemble old");
	expect(&f, "inv.yaml", 8, 25, "host 10.0.0.1 of old1 is also the host of old1");
	done(&f);
}

static void test_lint_loopback_among_real_hosts(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("10.0.1.3", "127.26.64.168"), NULL);
	expect(&f, "inv.yaml", 14, 25, "host 127.26.64.168 of new3 is a loopback address among non-loopback hosts");
	assert_int_equal(f.d.errors, 1);
	done(&f);
}

static void test_lint_unknown_action_selector_and_gate(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv,
		     "runbook: r\nsteps:\n"
		     "  - {id: a, action: zk.nuke, targets: [old.all]}\n"
		     "  - {id: b, action: zk.status, targets: [old.lead]}\n"
		     "  - {id: c, action: zk.status, targets: [new.node(4)], requires: [old.happy]}\n");
	expect(&f, "rb.yaml", 3, 21, "unknown action 'zk.nuke'; use one of: zk.status,");
	expect(&f, "rb.yaml", 4, 42, "unknown selector 'old.lead'");
	expect(&f, "rb.yaml", 5, 42, "selector 'new.node(4)' matches no target: ensemble new has no node with myid or name 4");
	expect(&f, "rb.yaml", 5, 67, "unknown gate 'old.happy'");
	done(&f);
}

static void test_lint_duplicate_step_ids(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv,
		     "runbook: r\nsteps:\n"
		     "  - {id: a, action: zk.status, targets: [old.all]}\n"
		     "  - {id: a, action: zk.status, targets: [new.all]}\n");
	expect(&f, "rb.yaml", 4, 10, "step id 'a' is used twice (first at line 3)");
	done(&f);
}

static void test_lint_wipe_of_the_ensemble_clickhouse_uses(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv,
		     "runbook: r\nsteps:\n"
		     "  - {id: w, action: zk.wipe, targets: [old.all], confirm: two}\n"
		     "  - {id: s, action: ck.switch, targets: [ck.all], params: {to: new}, confirm: two}\n"
		     "  - {id: v, action: zk.wipe, targets: [old.all], confirm: two}\n");
	expect(&f, "rb.yaml", 3, 40, "step w would wipe ensemble old, which ClickHouse uses");
	assert_int_equal(f.d.errors, 1); /* after the switch, wiping old is fine */
	done(&f);
}

static void test_lint_two_operators_needed(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("[alice, bob]", "[alice]"), "runbook: r\nsteps:\n  - {id: a, action: zk.stop, targets: [new.all], confirm: two}\n");
	expect(&f, "rb.yaml", 3, 59, "step a needs two operators but the inventory lists 1 on duty");
	done(&f);
}

static void test_lint_missing_rollback_runbook(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv,
		     "runbook: r\nrollback: /nonexistent/rb.yaml\nsteps:\n"
		     "  - {id: a, action: zk.status, targets: [old.all], on_failure: rollback}\n");
	rb_lint(f.rb, f.inv, &f.d, 0);
	expect(&f, "rb.yaml", 2, 11, "rollback runbook /nonexistent/rb.yaml cannot be read");
	done(&f);
}

static void test_lint_bad_rollback_runbook(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, base_inv, "runbook: r\nrollback: ../fixtures/rollback-bad.yaml\nsteps: []\n");
	f.rb->file = "tests/unit/rb.yaml";
	rb_lint(f.rb, f.inv, &f.d, 0);
	expect(&f, "tests/unit/../fixtures/rollback-bad.yaml", 4, 21, "unknown action 'zk.undo'");
	expect(&f, "tests/unit/rb.yaml", 2, 11, "has errors (listed above)");
	done(&f);
}

static void test_subst_quotes_values_in_shell_commands(void **state)
{
	(void)state;
	struct fx f;
	lint_strings(&f, with("site: t\n", "site: t\nvars:\n  evil: \"x'; rm -rf /; '\"\n  key: {value: s3cr3t, secret: true}\n"), NULL);
	assert_int_equal(f.d.errors, 0);
	struct subst_scope sc = {.inv = f.inv, .zk = &f.inv->ensembles[0].nodes[0], .ensemble = "old"};
	struct cut_err e;
	char *s = subst(f.inv->arena, "echo ${evil} ${home}", &sc, SUBST_SHELL, &e);
	assert_string_equal(s, "echo 'x'\\''; rm -rf /; '\\''' '/opt/zookeeper'");
	s = subst(f.inv->arena, "${key}", &sc, SUBST_SHELL | SUBST_DISPLAY, &e);
	assert_string_equal(s, "'***'");
	s = subst(f.inv->arena, "${data_dir}", &sc, SUBST_PATH, &e);
	assert_string_equal(s, "/opt/zookeeper/data");
	assert_null(subst(f.inv->arena, "${nope}", &sc, SUBST_PATH, &e));
	assert_string_equal(e.msg, "unknown variable ${nope}; define it under the inventory's vars");
	done(&f);
}

static void test_lint_maintenance_window_must_be_times_in_order(void **state)
{
	(void)state;
	struct fx f;
	char inv[2048];
	snprintf(inv, sizeof inv, "%swindow: {start: '2026-12-05 02:00', end: '2026-12-05T01:00:00+08:00'}\n", base_inv);
	lint_strings(&f, inv, NULL);
	expect(&f, "inv.yaml", 20, 17, "window start '2026-12-05 02:00' is not a time like");
	done(&f);
	snprintf(inv, sizeof inv, "%swindow: {start: '2026-12-05T02:00:00+08:00', end: '2026-12-05T01:00:00+08:00'}\n",
		 base_inv);
	lint_strings(&f, inv, NULL);
	expect(&f, "inv.yaml", 20, 51, "the maintenance window ends (2026-12-05T01:00:00+08:00) before it starts");
	done(&f);
	/* the same instant written in two offsets is accepted, and end after start */
	snprintf(inv, sizeof inv, "%swindow: {start: '2026-12-04T18:00:00Z', end: '2026-12-05T05:00:00+08:00'}\n", base_inv);
	lint_strings(&f, inv, NULL);
	assert_int_equal(f.d.errors, 0);
	done(&f);
	long long t;
	assert_true(inv_parse_time("2026-12-05T02:00:00+08:00", &t));
	assert_int_equal(t, 1796407200LL);
	assert_false(inv_parse_time("2026-02-30T02:00:00Z", &t));
	assert_false(inv_parse_time("2026-12-05T02:00:00", &t)); /* no offset: refused */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_clean_fixture_has_no_diagnostics),
		cmocka_unit_test(test_lint_maintenance_window_must_be_times_in_order),
		cmocka_unit_test(test_lint_yaml_syntax_error_has_position),
		cmocka_unit_test(test_lint_duplicate_keys_are_refused_with_both_places),
		cmocka_unit_test(test_lint_bad_utf8_points_at_its_byte),
		cmocka_unit_test(test_lint_unknown_key_is_an_error),
		cmocka_unit_test(test_lint_password_in_file_is_refused),
		cmocka_unit_test(test_lint_wrong_type_and_range),
		cmocka_unit_test(test_inventory_ssh_local),
		cmocka_unit_test(test_lint_duplicate_myid_and_host),
		cmocka_unit_test(test_lint_loopback_among_real_hosts),
		cmocka_unit_test(test_lint_unknown_action_selector_and_gate),
		cmocka_unit_test(test_lint_duplicate_step_ids),
		cmocka_unit_test(test_lint_wipe_of_the_ensemble_clickhouse_uses),
		cmocka_unit_test(test_lint_two_operators_needed),
		cmocka_unit_test(test_lint_missing_rollback_runbook),
		cmocka_unit_test(test_lint_bad_rollback_runbook),
		cmocka_unit_test(test_subst_quotes_values_in_shell_commands),
	};
	return cmocka_run_group_tests_name("lint", tests, NULL, NULL);
}
