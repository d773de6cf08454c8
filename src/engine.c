/*
 * engine: the run's state machine -- what comes next, confirmations with
 * their decision snapshot, decisions after failures, notes -- and the one
 * place events are appended (see include/cutover/engine.h). Running a step
 * is in engine_run.c; opening and resuming in engine_open.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"

static int emit(struct engine *e, const char *step, const char *target, const char *op, const char *kind,
		json_t *payload, bool progress, struct cut_err *err)
{
	char *text = payload ? json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(payload);
	struct audit_event ev = {.run = e->run, .operator = op, .step = step, .target = target, .kind = kind,
				 .payload = text};
	pthread_mutex_lock(&e->m);
	int rc = progress ? audit_append_unsynced(e->audit, &ev, 1, err) : audit_append(e->audit, &ev, 1, err);
	if (rc != CUT_OK)
		e->audit_failed = true;
	if (rc == CUT_OK) {
		char wall[32];
		audit_wall_now(wall);
		ev.wall = wall; /* close to the stored one; the fold keeps it for display */
		fold_apply(&e->fold, &ev);
		if (e->o.on_event)
			e->o.on_event(e->o.ud, &ev);
	}
	pthread_mutex_unlock(&e->m);
	free(text);
	return rc;
}

int eng_emit(struct engine *e, const char *step, const char *target, const char *op, const char *kind,
	     json_t *payload, struct cut_err *err)
{
	return emit(e, step, target, op, kind, payload, false, err);
}

void eng_emit_progress(struct engine *e, const char *step, const char *target, json_t *payload)
{
	emit(e, step, target, NULL, "progress", payload, true, NULL);
}

void eng_crash_point(struct engine *e, const char *point, const char *step)
{
	size_t n = strlen(point);
	/* A test seam: the process dies here exactly as under kill -9. */
	if (e->crash[0] && strncmp(e->crash, point, n) == 0 && e->crash[n] == ':' && strcmp(e->crash + n + 1, step) == 0)
		raise(SIGKILL);
}

void eng_redact(const struct engine *e, char *line)
{
	for (size_t i = 0; i < e->nsecrets; i++) {
		size_t n = strlen(e->secrets[i]);
		char *p;
		while ((p = strstr(line, e->secrets[i])) != NULL) {
			memcpy(p, "***", 3);
			memmove(p + 3, p + n, strlen(p + n) + 1);
		}
	}
}

/* memmem, which glibc offers only under _GNU_SOURCE. */
static const char *find(const char *hay, size_t len, const char *needle, size_t n)
{
	for (const char *p = hay; n <= len - (size_t)(p - hay) && (p = memchr(p, needle[0], len - (size_t)(p - hay) - n + 1));
	     p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

size_t eng_redact_cut(const struct engine *e, const char *buf, size_t len)
{
	size_t longest = 0;
	for (size_t i = 0; i < e->nsecrets; i++)
		if (strlen(e->secrets[i]) > longest)
			longest = strlen(e->secrets[i]);
	if (longest == 0)
		return len;
	/* What may begin a secret whose rest has not arrived stays behind, and
	 * so does any secret the cut would halve; moving the cut back can halve
	 * another (overlapping secrets), hence the loop. */
	size_t cut = len >= longest - 1 ? len - (longest - 1) : 0;
	for (bool moved = true; moved && cut > 0;) {
		moved = false;
		for (size_t i = 0; i < e->nsecrets; i++) {
			size_t n = strlen(e->secrets[i]);
			size_t from = cut >= n - 1 ? cut - (n - 1) : 0, end = cut + n - 1 < len ? cut + n - 1 : len;
			const char *p = find(buf + from, end - from, e->secrets[i], n);
			if (p != NULL && (size_t)(p - buf) < cut) {
				cut = (size_t)(p - buf);
				moved = true;
			}
		}
	}
	return cut;
}

const struct fold *engine_fold(const struct engine *e) { return &e->fold; }
const struct runbook *engine_runbook(const struct engine *e) { return e->rb; }
const struct inventory *engine_inventory(const struct engine *e) { return e->inv; }
const struct plan *engine_plan(const struct engine *e) { return e->plan; }
int64_t engine_run_id(const struct engine *e) { return e->run; }

bool engine_audit_failed(struct engine *e)
{
	pthread_mutex_lock(&e->m);
	bool failed = e->audit_failed;
	pthread_mutex_unlock(&e->m);
	return failed;
}

void engine_audit_head(struct engine *e, char out[AUDIT_HEAD_LEN])
{
	audit_head(e->audit, out);
}

bool engine_on_duty(const struct engine *e, const char *name)
{
	for (size_t i = 0; name && i < e->inv->operators.n; i++)
		if (strcmp(e->inv->operators.v[i], name) == 0)
			return true;
	return false;
}

enum engine_need engine_next(struct engine *e, size_t *step)
{
	*step = fold_current(&e->fold);
	if (e->fold.outcome)
		return ENG_END;
	if (*step == e->fold.n) {
		eng_emit(e, NULL, NULL, e->o.operators[0], "run_end", json_pack("{s:s}", "outcome", "succeeded"), NULL);
		audit_run_end(e->audit, e->run, "succeeded", NULL);
		return ENG_END;
	}
	switch (e->fold.steps[*step].st) {
	case FS_FAILED: return ENG_FAILED;
	case FS_INTERRUPTED: return ENG_INTERRUPTED;
	case FS_RUNNING: return ENG_MANUAL;
	default: return ENG_CONFIRM;
	}
}

/* "2026-11-26T02:13:45.123Z" (UTC, as the audit writes it) -> ms since the epoch; 0 when absent or malformed. */
static int64_t wall_ms(const char *w)
{
	struct tm tm = {0};
	if (w == NULL || sscanf(w, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
				&tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000;
}

static bool wants_flat(const struct rb_step *s)
{
	for (size_t i = 0; i < s->requires.n; i++)
		if (strstr(s->requires.v[i], ".zxid_flat"))
			return true;
	return false;
}

int engine_prepare(struct engine *e, size_t step, const struct gate_result **gates, size_t *ngates,
		   struct cut_err *err)
{
	const struct rb_step *s = &e->rb->steps[step];
	int tmo = e->o.probe_timeout_ms ? e->o.probe_timeout_ms : 3000;
	struct live now, then;
	bool have_then = false;
	int rc;
	if (wants_flat(s)) {
		if ((rc = live_probe(e->inv, e->pool, tmo, &then, err)) != CUT_OK)
			return rc;
		have_then = true;
		sleep(2); /* ZooKeeper's own pings do not move the zxid; any write does */
	}
	if ((rc = live_probe(e->inv, e->pool, tmo, &now, err)) != CUT_OK) {
		if (have_then)
			live_free(&then);
		return rc;
	}
	free(e->gates);
	e->gates = calloc(s->requires.n + 1, sizeof *e->gates);
	e->ngates = s->requires.n;
	for (size_t i = 0; e->gates && i < s->requires.n; i++)
		gate_eval(s->requires.v[i], e->inv, &now, have_then ? &then : NULL, &e->fold, &e->gates[i]);
	free(e->live_json);
	e->live_json = live_json(&now);
	live_free(&now);
	if (have_then)
		live_free(&then);
	if (e->gates == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	e->prepared = step;
	eng_preview(e, step);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (e->need_step != step)
		e->second_refused = 0;
	e->need_step = step;
	policy_need_of(e->rb, step, e->gates, e->ngates, e->o.refuse_alone || e->inv->refuse_alone,
		       wall_ms(e->fold.started), (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, &e->need);
	*gates = e->gates;
	*ngates = e->ngates;
	json_t *status = e->live_json ? json_loads(e->live_json, 0, NULL) : NULL;
	return eng_emit(e, NULL, NULL, NULL, "status", status, err);
}

/* The plan and the live preview, exactly as shown: what the confirm event records and hashes. */
static char *step_plan_text(const struct engine *e, size_t step, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (f == NULL)
		return NULL;
	plan_print_step(e->plan, step, f);
	if (e->preview) /* engine_confirm only follows engine_prepare of this step */
		fprintf(f, "    live preview:\n%s", e->preview);
	fclose(f);
	return buf;
}

const char *engine_preview(const struct engine *e)
{
	return e->preview;
}

const struct policy_need *engine_need(const struct engine *e, size_t step)
{
	return e->prepared == step ? &e->need : NULL;
}

void engine_describe(const struct engine *e, FILE *out)
{
	policy_describe(&e->need, e->gates, e->ngates, out);
}

/* A refused confirmation is part of the night's story: who tried what, and why not. */
static void refused(struct engine *e, size_t step, const struct policy_confirmation *c, const char *why)
{
	json_t *p = json_pack("{s:s, s:s?, s:s?, s:s}", "typed", c->typed ? c->typed : "", "second", c->second.name,
			      "client", c->first.client, "why", why);
	eng_emit(e, e->rb->steps[step].id, NULL, c->first.name, "refused", p, NULL);
}

int engine_confirm(struct engine *e, size_t step, const struct policy_confirmation *c, struct cut_err *err)
{
	size_t cur = fold_current(&e->fold);
	if (step != cur || e->fold.steps[step].st != FS_PENDING || e->fold.outcome)
		return cut_fail(err, CUT_EREFUSED, "step %s is not the one awaiting confirmation", e->rb->steps[step].id);
	if (e->prepared != step)
		return cut_fail(err, CUT_EREFUSED, "probe the site for step %s before confirming it", e->rb->steps[step].id);
	e->prepared = (size_t)-1; /* one probe, one confirmation */
	bool second;
	int rc = policy_check(&e->need, e->inv, c, &second, err);
	if (rc != CUT_OK) {
		refused(e, step, c, err ? err->msg : "refused");
		if (second && ++e->second_refused >= POLICY_SECOND_TRIES) {
			e->second_refused = 0;
			cut_err_prefix(err, "%d second operators refused, so this confirmation ends here (the run stays "
				       "open: resume it when the second engineer is at their own client): ", POLICY_SECOND_TRIES);
			return err ? (err->code = CUT_ECANCELED) : CUT_ECANCELED;
		}
		return rc;
	}
	e->second_refused = 0;
	size_t len = 0;
	char *plan = step_plan_text(e, step, &len);
	char sha[HASH_HEX_LEN + 1];
	hash_buf(plan ? plan : "", plan ? len : 0, sha);
	json_t *gates = json_array();
	for (size_t i = 0; i < e->ngates; i++)
		json_array_append_new(gates, json_pack("{s:s, s:b, s:s}", "gate", e->gates[i].gate, "ok", e->gates[i].ok,
						       "why", e->gates[i].why));
	json_t *ops = json_array();
	json_array_append_new(ops, json_string(c->first.name));
	bool two = c->second.name && *c->second.name;
	if (two)
		json_array_append_new(ops, json_string(c->second.name));
	json_t *live = e->live_json ? json_loads(e->live_json, 0, NULL) : json_null();
	json_t *p = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o}", "operators", ops, "plan", plan ? plan : "",
			      "plan_sha256", sha, "live", live ? live : json_null(), "gates", gates, "override",
			      e->need.reason ? json_string(c->reason) : json_null());
	/* Where each confirmation was typed, as far as the frontend knew: plain
	 * mode has one terminal, and the record says so rather than implying two. */
	json_object_set_new(p, "typed", json_string(c->typed));
	json_object_set_new(p, "first_from", json_string(c->first.client ? c->first.client : "this terminal"));
	if (two)
		json_object_set_new(p, "second_from", json_string(c->second.client ? c->second.client : "the same terminal"));
	if (c->present >= 0)
		json_object_set_new(p, "present", json_integer(c->present));
	if (e->need.destructive && c->present >= 0 && c->present < 2)
		json_object_set_new(p, "alone", json_true()); /* warned, not refused */
	free(plan);
	return eng_emit(e, e->rb->steps[step].id, NULL, c->first.name, "confirm", p, err);
}

int engine_decide(struct engine *e, size_t step, const char *choice, const char *op, const char *reason,
		  struct cut_err *err)
{
	static const char *const after_fail[] = {"retry", "skip", "rollback", "abort", NULL};
	static const char *const after_intr[] = {"rerun", "done", "rollback", "abort", NULL};
	enum fold_step_state st = e->fold.steps[step].st;
	const char *const *ok = st == FS_FAILED ? after_fail : st == FS_INTERRUPTED ? after_intr : NULL;
	bool known = false;
	for (size_t i = 0; ok && ok[i]; i++)
		known |= strcmp(ok[i], choice) == 0;
	if (!known)
		return cut_fail(err, CUT_EINVAL, "'%s' is not a choice for step %s (%s)", choice, e->rb->steps[step].id,
				fold_state_name(st));
	if (!engine_on_duty(e, op))
		return cut_fail(err, CUT_EINVAL, "'%s' is not an operator on duty", op ? op : "");
	bool needs_reason = strcmp(choice, "skip") == 0 || strcmp(choice, "done") == 0;
	if (needs_reason && (reason == NULL || *reason == '\0'))
		return cut_fail(err, CUT_EREFUSED, "'%s' needs a typed reason", choice);
	const char *id = e->rb->steps[step].id;
	int rc = eng_emit(e, id, NULL, op, "decision",
			  json_pack("{s:s, s:s?}", "choice", choice, "reason", reason && *reason ? reason : NULL), err);
	if (rc != CUT_OK)
		return rc;
	if (strcmp(choice, "abort") == 0) {
		rc = eng_emit(e, NULL, NULL, op, "run_end", json_pack("{s:s}", "outcome", "aborted"), err);
		if (rc == CUT_OK)
			rc = audit_run_end(e->audit, e->run, "aborted", err);
	} else if (strcmp(choice, "rollback") == 0) {
		rc = eng_start_rollback(e, op, err);
	}
	return rc;
}

int engine_history(struct engine *e, audit_event_fn cb, void *ud, struct cut_err *err)
{
	pthread_mutex_lock(&e->m);
	int rc = audit_events(e->audit, e->run, cb, ud, err);
	pthread_mutex_unlock(&e->m);
	return rc;
}

int engine_record_status(struct engine *e, const char *json, struct cut_err *err)
{
	json_t *p = json ? json_loads(json, 0, NULL) : NULL;
	if (p == NULL)
		return cut_fail(err, CUT_EINVAL, "a status snapshot that is not JSON");
	return eng_emit(e, NULL, NULL, NULL, "status", p, err);
}

int engine_note(struct engine *e, const char *op, const char *text, struct cut_err *err)
{
	if (text == NULL || *text == '\0')
		return cut_fail(err, CUT_EINVAL, "an empty note says nothing");
	return eng_emit(e, NULL, NULL, op, "note", json_pack("{s:s}", "text", text), err);
}

void engine_cancel(struct engine *e)
{
	atomic_store(&e->cancel, 1);
}
