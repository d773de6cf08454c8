/*
 * task_shell: a writer task driven by the inventory's status, stop and start
 * commands. status exits 0 when the task runs and 3 when it is stopped (the
 * LSB convention the lab's writer.sh follows); the last number it prints is
 * the rows written.
 */
#include <stdio.h>
#include <stdlib.h>

#include "task_int.h"

static int sh_status(struct act_run *r, struct task_status *st, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *cmd = subst(act_arena(r), t->status, act_scope(r), SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	char *out = NULL;
	int code, rc = act_capture(r, cmd, &code, &out, 65536, err);
	st->rows = -1;
	for (char *p = out; rc == CUT_OK && p && *p; p++)
		if ((*p >= '0' && *p <= '9') && (p == out || p[-1] == ' '))
			st->rows = strtoll(p, NULL, 10);
	free(out);
	st->run = code == 0 ? TASK_RUNNING : code == 3 ? TASK_STOPPED : TASK_FAILED;
	snprintf(st->state, sizeof st->state, "status exit %d", code);
	return rc;
}

static int sh_stop(struct act_run *r, struct cut_err *err)
{
	return act_run_template(r, act_scope(r)->task->stop, err);
}

static int sh_start(struct act_run *r, struct cut_err *err)
{
	return act_run_template(r, act_scope(r)->task->start, err);
}

const struct task_ops task_shell_ops = {"shell", sh_status, sh_stop, sh_start};
