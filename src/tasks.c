/*
 * tasks: the writer-task actions (tasks.stop, tasks.start, tasks.wait) over
 * the shell adapter: the inventory's status, stop and start commands, with
 * status exiting 0 when the task runs and 3 when it is stopped (the LSB
 * convention the lab's writer.sh follows). The flink and http adapters come
 * with the writer-task issue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"

static int shell_only(struct act_run *r, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	if (t->adapter && strcmp(t->adapter, "shell") != 0)
		return cut_fail(err, CUT_EINVAL, "task %s uses the %s adapter, which this version cannot drive yet; "
				"do it in the platform and mark the step done with a reason", t->id, t->adapter);
	return CUT_OK;
}

/* Status: 0 running, 3 stopped; *rows: the last number it printed, or -1. */
static int status(struct act_run *r, int *st, long long *rows, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *cmd = subst(act_arena(r), t->status, act_scope(r), SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	char *out = NULL;
	int rc = act_capture(r, cmd, st, &out, 65536, err);
	*rows = -1;
	for (char *p = out; rc == CUT_OK && p && *p; p++)
		if ((*p >= '0' && *p <= '9') && (p == out || p[-1] == ' '))
			*rows = strtoll(p, NULL, 10);
	free(out);
	return rc;
}

/* Wait until status says want (0 running, 3 stopped). */
static int wait_state(struct act_run *r, int want, long long *rows, struct cut_err *err)
{
	for (;;) {
		int st, rc = status(r, &st, rows, err);
		if (rc != CUT_OK)
			return rc;
		if (st == want)
			return CUT_OK;
		if (st != 0 && st != 3)
			return cut_fail(err, CUT_EREMOTE, "task %s: status exited %d (neither running nor stopped)",
					act_scope(r)->task->id, st);
		if ((rc = act_sleep(r, 500, err)) != CUT_OK)
			return rc;
	}
}

/* No INSERT may still run on any ClickHouse node once the writers are stopped. */
static int no_inserts(struct act_run *r, struct cut_err *err)
{
	const struct inventory *inv = act_scope(r)->inv;
	for (size_t i = 0; i < inv->nck; i++) {
		for (int tries = 0;; tries++) {
			struct cut_err qe;
			long long n = ck_number(&inv->ck[i], "SELECT count() FROM system.processes WHERE query LIKE 'INSERT%'",
						5000, &qe);
			if (n == 0)
				break;
			if (n < 0) { /* a stopped server runs no insert */
				act_say(r, "%s: not answering (%s); no insert can run there", inv->ck[i].name, qe.msg);
				break;
			}
			if (tries >= 60)
				return cut_fail(err, CUT_EREFUSED, "%s still runs %lld INSERT(s) after the writers stopped",
						inv->ck[i].name, n);
			int rc = act_sleep(r, 500, err);
			if (rc != CUT_OK)
				return rc;
		}
	}
	return CUT_OK;
}

int tasks_stop_run(struct act_run *r, struct cut_err *err)
{
	long long rows;
	int rc = shell_only(r, err);
	if (rc == CUT_OK)
		rc = act_run_template(r, act_scope(r)->task->stop, err);
	if (rc == CUT_OK)
		rc = wait_state(r, 3, &rows, err);
	if (rc == CUT_OK)
		rc = no_inserts(r, err);
	if (rc == CUT_OK)
		act_say(r, "task %s stopped; it reports %lld rows written", act_scope(r)->task->id, rows);
	return rc;
}

int tasks_start_run(struct act_run *r, struct cut_err *err)
{
	long long rows;
	int rc = shell_only(r, err);
	if (rc == CUT_OK)
		rc = act_run_template(r, act_scope(r)->task->start, err);
	if (rc == CUT_OK)
		rc = wait_state(r, 0, &rows, err);
	return rc;
}

/* Running, and its row count grows. */
int tasks_wait_run(struct act_run *r, struct cut_err *err)
{
	long long first, now;
	int rc = shell_only(r, err);
	if (rc == CUT_OK)
		rc = wait_state(r, 0, &first, err);
	while (rc == CUT_OK) {
		if ((rc = act_sleep(r, 1000, err)) != CUT_OK || (rc = wait_state(r, 0, &now, err)) != CUT_OK)
			break;
		if (now > first) {
			act_say(r, "task %s runs and writes: %lld -> %lld rows", act_scope(r)->task->id, first, now);
			return CUT_OK;
		}
	}
	return rc == CUT_ETIMEOUT ? cut_fail(err, rc, "task %s runs but its row count did not grow", act_scope(r)->task->id) : rc;
}
