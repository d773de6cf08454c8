/*
 * tasks: the writer-task actions (tasks.stop, tasks.start, tasks.wait), the
 * same for every adapter (task_int.h): shell commands, the Flink REST API,
 * or templated HTTP calls. Each state a task reports is said in the step's
 * output, so the writer-task pane and the replay show it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck_int.h"
#include "task_int.h"

static const struct task_ops *adapter(struct act_run *r, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *a = t->adapter ? t->adapter : "shell";
	const struct task_ops *all[] = {&task_shell_ops, &task_flink_ops, &task_http_ops};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(all[i]->name, a) == 0)
			return all[i];
	cut_fail(err, CUT_EINVAL, "task %s: unknown adapter '%s' (shell, flink or http)", t->id, a);
	return NULL;
}

/* Wait until the task reports want; a failed task, or a status that cannot be read, ends it. */
static int wait_state(struct act_run *r, const struct task_ops *ops, enum task_run want, struct task_status *st,
		      struct cut_err *err)
{
	char said[64] = "";
	for (;;) {
		int rc = ops->status(r, st, err);
		if (rc != CUT_OK)
			return rc;
		if (strcmp(said, st->state) != 0) { /* each state once, for the pane and the replay */
			act_say(r, "task %s: %s%s", act_scope(r)->task->id, st->state,
				st->rows >= 0 ? arena_printf(act_arena(r), ", %lld rows", st->rows) : "");
			snprintf(said, sizeof said, "%s", st->state);
		}
		if (st->run == want)
			return CUT_OK;
		if (st->run == TASK_FAILED)
			return cut_fail(err, CUT_EREMOTE, "task %s reports %s (neither running nor stopped)",
					act_scope(r)->task->id, st->state);
		if ((rc = act_sleep(r, 500, err)) != CUT_OK)
			return cut_fail(err, rc, "task %s still %s: %s", act_scope(r)->task->id, st->state, err->msg);
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

static int tasks_stop_run(struct act_run *r, struct cut_err *err)
{
	struct task_status st;
	const struct task_ops *ops = adapter(r, err);
	int rc = ops ? CUT_OK : err->code;
	if (rc == CUT_OK)
		rc = ops->status(r, &st, err);
	if (rc == CUT_OK && st.run != TASK_STOPPED)
		rc = ops->stop(r, err);
	if (rc == CUT_OK)
		rc = wait_state(r, ops, TASK_STOPPED, &st, err);
	if (rc == CUT_OK)
		rc = no_inserts(r, err);
	if (rc == CUT_OK)
		act_say(r, "task %s stopped; it reports %lld rows written", act_scope(r)->task->id, st.rows);
	return rc;
}

static int tasks_start_run(struct act_run *r, struct cut_err *err)
{
	struct task_status st;
	const struct task_ops *ops = adapter(r, err);
	int rc = ops ? CUT_OK : err->code;
	if (rc == CUT_OK)
		rc = ops->status(r, &st, err);
	if (rc == CUT_OK && st.run != TASK_RUNNING)
		rc = ops->start(r, err);
	if (rc == CUT_OK)
		rc = wait_state(r, ops, TASK_RUNNING, &st, err);
	return rc;
}

/* Running, and its row count grows. */
static int tasks_wait_run(struct act_run *r, struct cut_err *err)
{
	struct task_status first, now;
	const struct task_ops *ops = adapter(r, err);
	int rc = ops ? wait_state(r, ops, TASK_RUNNING, &first, err) : err->code;
	while (rc == CUT_OK) {
		if ((rc = act_sleep(r, 500, err)) != CUT_OK || (rc = wait_state(r, ops, TASK_RUNNING, &now, err)) != CUT_OK)
			break;
		if (now.rows > first.rows) {
			act_say(r, "task %s runs and writes: %lld -> %lld rows", act_scope(r)->task->id, first.rows, now.rows);
			return CUT_OK;
		}
	}
	return rc == CUT_ETIMEOUT ? cut_fail(err, rc, "task %s runs but its row count did not grow", act_scope(r)->task->id) : rc;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static bool adapter_is(const struct subst_scope *sc, const char *a)
{
	return sc->task->adapter && strcmp(sc->task->adapter, a) == 0;
}

static void d_tasks_stop(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink") && strcmp(act_param_text(s, "flink_stop", "savepoint"), "cancel") == 0)
		plan_add(out, "PATCH %s/jobs/%s?mode=cancel   (flink: cancel, no savepoint)", ACT_PATH(t->url), t->job);
	else if (adapter_is(sc, "flink"))
		plan_add(out, "POST %s/jobs/%s/stop, then wait for its savepoint   (flink: stop with savepoint)", ACT_PATH(t->url), t->job);
	else if (adapter_is(sc, "http"))
		plan_add(out, "POST %s   (http adapter)", ACT_PATH(t->stop_url));
	else
		plan_add(out, "$ %s   (shell adapter)", ACT_CMD(t->stop));
	plan_add(out, "wait until it reports stopped and no INSERT runs on any ClickHouse node");
}

static void d_tasks_start(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink"))
		plan_add(out, "$ %s   (flink: resubmit from the savepoint in $CUTOVER_SAVEPOINT)", ACT_CMD(t->resubmit));
	else if (adapter_is(sc, "http"))
		plan_add(out, "POST %s   (http adapter)", ACT_PATH(t->start_url));
	else
		plan_add(out, "$ %s   (shell adapter)", ACT_CMD(t->start));
	plan_add(out, "wait until it reports running");
}

static void d_tasks_wait(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink"))
		plan_add(out, "GET %s/jobs/%s until RUNNING and its sink's read-records grow", ACT_PATH(t->url), t->job);
	else if (adapter_is(sc, "http"))
		plan_add(out, "GET %s until %s reads %s%s", ACT_PATH(t->status_url), t->state_pointer, t->running_value,
			 t->rows_pointer ? " and the rows grow" : "");
	else
		plan_add(out, "$ %s until it reports running and its row count grows", ACT_CMD(t->status));
}

const struct action_ops act_tasks_stop = {.name = "tasks.stop", .kinds = TGT_TASK, .params = ACT_PARAMS("flink_stop"),
	.required = ACT_NONE, .summary = "stop writer tasks", .describe = d_tasks_stop, .run = tasks_stop_run};
const struct action_ops act_tasks_start = {.name = "tasks.start", .kinds = TGT_TASK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "start writer tasks", .describe = d_tasks_start, .run = tasks_start_run};
const struct action_ops act_tasks_wait = {.name = "tasks.wait", .kinds = TGT_TASK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "check writer tasks run and write", .describe = d_tasks_wait, .run = tasks_wait_run};
