/*
 * task_flink: a writer task that is a Flink job, through the JobManager's
 * REST API. Status: GET /jobs/<id> (state, and the records that reached the
 * last vertex, the sink). Stop: POST /jobs/<id>/stop, which takes a savepoint
 * and stops the job, polled at /jobs/<id>/savepoints/<request-id>; or, with
 * the step param `flink_stop: cancel`, PATCH /jobs/<id>?mode=cancel. Start:
 * the inventory's resubmit command, with the savepoint's location in
 * $CUTOVER_SAVEPOINT; the job id it prints becomes the task's job from then on
 * (a fact in the audit, so a resumed console knows it too).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_int.h"

/* The job id now: the one the last resubmit printed, else the inventory's. */
static const char *job_id(struct act_run *r)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *f = act_fact_get(r, arena_printf(act_arena(r), "task.%s.job", t->id));
	return f ? f : t->job;
}

static const char *job_url(struct act_run *r, const char *suffix, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *base = subst(act_arena(r), t->url, act_scope(r), SUBST_PATH, err);
	if (base == NULL)
		return NULL;
	size_t n = strlen(base);
	return arena_printf(act_arena(r), "%.*s/jobs/%s%s", (int)(n && base[n - 1] == '/' ? n - 1 : n), base, job_id(r),
			    suffix);
}

static int fl_status(struct act_run *r, struct task_status *st, struct cut_err *err)
{
	const char *url = job_url(r, "", err);
	json_t *j = NULL;
	int rc = url ? task_http(r, "GET", url, NULL, &j, err) : err->code;
	if (rc != CUT_OK)
		return rc;
	const char *state = json_string_value(json_object_get(j, "state"));
	snprintf(st->state, sizeof st->state, "%s", state ? state : "?");
	if (state == NULL)
		st->run = TASK_FAILED;
	else if (strcmp(state, "RUNNING") == 0)
		st->run = TASK_RUNNING;
	else if (strcmp(state, "CANCELED") == 0 || strcmp(state, "FINISHED") == 0 || strcmp(state, "SUSPENDED") == 0)
		st->run = TASK_STOPPED;
	else if (strcmp(state, "FAILED") == 0)
		st->run = TASK_FAILED;
	else
		st->run = TASK_BUSY; /* CREATED, INITIALIZING, RESTARTING, CANCELLING, FAILING, RECONCILING */
	/* Vertices come in topological order: the last one is the sink, and what
	 * it read is what was written out. */
	json_t *vs = json_object_get(j, "vertices");
	json_t *last = json_array_size(vs) ? json_array_get(vs, json_array_size(vs) - 1) : NULL;
	json_t *rec = json_object_get(json_object_get(last, "metrics"), "read-records");
	st->rows = json_is_integer(rec) ? (long long)json_integer_value(rec) : -1;
	json_decref(j);
	return CUT_OK;
}

static int savepoint_wait(struct act_run *r, const char *trigger, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	for (;;) {
		json_t *j = NULL;
		const char *url = job_url(r, arena_printf(act_arena(r), "/savepoints/%s", trigger), err);
		int rc = url ? task_http(r, "GET", url, NULL, &j, err) : err->code;
		if (rc != CUT_OK)
			return rc;
		const char *id = json_string_value(json_object_get(json_object_get(j, "status"), "id"));
		json_t *op = json_object_get(j, "operation");
		const char *loc = json_string_value(json_object_get(op, "location"));
		json_t *cause = json_object_get(op, "failure-cause");
		if (id && strcmp(id, "COMPLETED") == 0) {
			if (cause || loc == NULL) {
				const char *cls = json_string_value(json_object_get(cause, "class"));
				rc = cut_fail(err, CUT_EREMOTE, "task %s: the savepoint failed (%s); the job keeps running. Retry, or "
					      "stop it with `flink_stop: cancel` if losing its state is acceptable",
					      t->id, cls ? cls : "no location given");
			} else {
				act_say(r, "task %s: savepoint at %s", t->id, loc);
				rc = act_fact_set(r, arena_printf(act_arena(r), "task.%s.savepoint", t->id), loc, err);
			}
			json_decref(j);
			return rc;
		}
		json_decref(j);
		if ((rc = act_sleep(r, 500, err)) != CUT_OK)
			return rc;
	}
}

static int fl_stop(struct act_run *r, struct cut_err *err)
{
	const struct rb_param *p = rb_param(act_step(r), "flink_stop");
	json_t *j = NULL;
	int rc;
	if (p && p->value && strcmp(p->value, "cancel") == 0) {
		const char *url = job_url(r, "?mode=cancel", err);
		rc = url ? task_http(r, "PATCH", url, NULL, &j, err) : err->code;
		json_decref(j);
		return rc;
	}
	const char *url = job_url(r, "/stop", err);
	rc = url ? task_http(r, "POST", url, "{\"drain\": false}", &j, err) : err->code;
	const char *trigger = json_string_value(json_object_get(j, "request-id"));
	if (rc == CUT_OK && trigger == NULL)
		rc = cut_fail(err, CUT_EREMOTE, "task %s: the stop request returned no request-id", act_scope(r)->task->id);
	if (rc == CUT_OK)
		rc = savepoint_wait(r, arena_printf(act_arena(r), "%s", trigger), err);
	json_decref(j);
	return rc;
}

/* "Job has been submitted with JobID 5b9d...": the first 32-hex-digit word. */
static bool find_job_id(const char *out, char id[33])
{
	for (const char *p = out; p && *p; p++) {
		size_t n = 0;
		while (isxdigit((unsigned char)p[n]))
			n++;
		if (n == 32 && (p == out || !isalnum((unsigned char)p[-1]))) {
			memcpy(id, p, 32);
			id[32] = '\0';
			return true;
		}
		p += n ? n - 1 : 0;
	}
	return false;
}

static int fl_start(struct act_run *r, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	if (t->resubmit == NULL)
		return cut_fail(err, CUT_EINVAL, "flink task %s has no 'resubmit' command in the inventory", t->id);
	const char *cmd = subst(act_arena(r), t->resubmit, act_scope(r), SUBST_SHELL, err);
	if (cmd == NULL)
		return err->code;
	const char *sp = act_fact_get(r, arena_printf(act_arena(r), "task.%s.savepoint", t->id));
	cmd = arena_printf(act_arena(r), "CUTOVER_SAVEPOINT=%s; export CUTOVER_SAVEPOINT; %s",
			   subst_shell_quote(act_arena(r), sp ? sp : ""), cmd);
	char *out = NULL, id[33];
	int code, rc = act_capture(r, cmd, &code, &out, 1 << 20, err);
	if (rc == CUT_OK && code != 0)
		rc = cut_fail(err, CUT_EREMOTE, "task %s: the resubmit command exited %d", t->id, code);
	if (rc == CUT_OK && find_job_id(out, id)) {
		act_say(r, "task %s: resubmitted as job %s", t->id, id);
		rc = act_fact_set(r, arena_printf(act_arena(r), "task.%s.job", t->id), id, err);
	} else if (rc == CUT_OK) {
		act_say(r, "task %s: the resubmit printed no job id; still watching job %s", t->id, job_id(r));
	}
	free(out);
	return rc;
}

const struct task_ops task_flink_ops = {"flink", fl_status, fl_stop, fl_start};
