/*
 * act_basic: the generic actions' work on one target -- shell (a command,
 * exit 0 or the step fails) and check (a command repeated until it exits 0).
 * Their plan descriptions live beside the others in action.c.
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

int act_shell_run(struct act_run *r, struct cut_err *err)
{
	const char *cmd = act_param(r, "command", "", SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	int status, rc = act_exec(r, cmd, &status, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "exited %d", status);
	return rc;
}

int act_check_run(struct act_run *r, struct cut_err *err)
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
