/*
 * act_basic: the generic actions' work on one target -- shell (a command,
 * exit 0 or the step fails) and check (a command repeated until it exits 0).
 * Each with its plan description and its ops, as every action file has.
 */
#include <stdlib.h>

#include "act_int.h"
#include "cutover/yml.h"

int act_run_template(struct act_run *r, const char *tmpl, struct cut_err *err)
{
	const char *cmd = subst(act_arena(r), tmpl, act_scope(r), SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	int status, rc = act_exec(r, cmd, &status, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "'%s' exited %d", tmpl, status);
	return rc;
}

static int act_shell_run(struct act_run *r, struct cut_err *err)
{
	const char *cmd = act_param(r, "command", "", SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	int status, rc = act_exec(r, cmd, &status, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "exited %d", status);
	return rc;
}

static int act_check_run(struct act_run *r, struct cut_err *err)
{
	const struct rb_param *p = rb_param(act_step(r), "tries");
	int tries = p && p->value ? atoi(p->value) : 30, interval = 2000;
	p = rb_param(act_step(r), "interval");
	if (p && p->value && !yml_parse_duration(p->value, &interval))
		interval = 2000;
	const char *cmd = act_param(r, "command", "", SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	for (int k = 1;; k++) {
		int status, rc = act_exec(r, cmd, &status, err);
		if (rc != CUT_OK || status == 0)
			return rc;
		if (k >= tries)
			return cut_fail(err, CUT_EREMOTE, "still exits %d after %d tries", status, tries);
		act_say(r, "try %d of %d: exit %d; again in %d ms", k, tries, status, interval);
		if ((rc = act_sleep(r, interval, err)) != CUT_OK)
			return rc;
	}
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static const char *where(const struct subst_scope *sc)
{
	return sc->zk ? sc->zk->name : sc->ck ? sc->ck->name : sc->task ? sc->task->host : "local";
}

static void d_shell(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	plan_add(out, "on %s: $ %s", where(sc), ACT_CMD(act_param_text(s, "command", "")));
}

static void d_check(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	plan_add(out, "on %s: $ %s until it exits 0, every %s, at most %s tries", where(sc),
		 ACT_CMD(act_param_text(s, "command", "")), act_param_text(s, "interval", "2s"), act_param_text(s, "tries", "30"));
}

static void h_manual(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	plan_add(out, "the operator does this by hand and confirms it is done: %s",
		 act_param_text(s, "instructions", "see the step's description"));
}

const struct action_ops act_shell = {.name = "shell", .kinds = TGT_ZK | TGT_CK | TGT_TASK | TGT_LOCAL,
	.params = ACT_PARAMS("command"), .required = ACT_PARAMS("command"), .summary = "run a shell command",
	.describe = d_shell, .run = act_shell_run};
const struct action_ops act_check = {.name = "check", .kinds = TGT_ZK | TGT_CK | TGT_TASK | TGT_LOCAL,
	.params = ACT_PARAMS("command", "interval", "tries"), .required = ACT_PARAMS("command"),
	.summary = "wait until a command succeeds", .describe = d_check, .run = act_check_run};
const struct action_ops act_manual = {.name = "manual", .kinds = 0, .params = ACT_PARAMS("instructions"), .required = ACT_NONE,
	.summary = "a step done by hand, then confirmed", .header = h_manual};
