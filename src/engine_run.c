/*
 * engine_run: running one confirmed step -- resolving its targets, writing
 * each target's intent before anything is sent to it, streaming output into
 * batched events, enforcing the step's timeout and cancel, and applying the
 * runbook's failure policy. The actions here are the generic ones (shell,
 * check, manual); domain actions plug in beside them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/subst.h"
#include "cutover/target.h"
#include "engine_int.h"

#define DEFAULT_TIMEOUT_MS (10 * 60 * 1000)

/* ---- targets -------------------------------------------------------------------- */

struct tgts {
	struct tgt v[64];
	size_t n;
};

static void add(struct tgts *t, struct tgt x)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].name, x.name) == 0)
			return;
	if (t->n < sizeof t->v / sizeof t->v[0])
		t->v[t->n++] = x;
}

static int add_zk(struct engine *e, const struct selector *sel, struct tgts *t, struct cut_err *err)
{
	const struct inv_ensemble *ens = sel->ens;
	size_t before = t->n;
	for (size_t i = 0; i < ens->n; i++) {
		const struct inv_zk_node *z = &ens->nodes[i];
		if (!sel_has_zk(sel, z))
			continue;
		if (sel->role == ROLE_LEADER || sel->role == ROLE_FOLLOWERS) {
			/* Roles are facts of the moment: asked now, not taken from the plan. */
			struct zk_srvr s;
			zk_probe_srvr(z->host, z->client_port ? z->client_port : 2181, 3000, &s);
			if ((sel->role == ROLE_LEADER) != (s.role == ZR_LEADER) || s.role == ZR_NOANSWER || s.role == ZR_DOWN)
				continue;
		}
		add(t, (struct tgt){z->name, z->host, &z->ssh, {.inv = e->inv, .zk = z, .ensemble = ens->name}});
	}
	if (t->n == before && sel->role == ROLE_LEADER)
		return cut_fail(err, CUT_ENOTFOUND, "no node of %s reports Mode: leader right now", ens->name);
	return CUT_OK;
}

static int resolve(struct engine *e, const struct rb_step *s, struct tgts *t, struct cut_err *err)
{
	t->n = 0;
	for (size_t i = 0; i < s->targets.n; i++) {
		struct selector sel;
		int rc = sel_parse(e->inv, s->targets.v[i], &sel, err);
		if (rc != CUT_OK)
			return rc;
		if (sel.kind == TGT_LOCAL) {
			add(t, (struct tgt){"local", NULL, &e->inv->ssh, {.inv = e->inv}});
		} else if (sel.kind == TGT_ZK) {
			if ((rc = add_zk(e, &sel, t, err)) != CUT_OK)
				return rc;
		} else if (sel.kind == TGT_CK) {
			for (size_t k = 0; k < e->inv->nck; k++)
				if (sel.ck == NULL || sel.ck == &e->inv->ck[k])
					add(t, (struct tgt){e->inv->ck[k].name, e->inv->ck[k].host, &e->inv->ck[k].ssh,
							    {.inv = e->inv, .ck = &e->inv->ck[k]}});
		} else if (sel.kind == TGT_TASK) {
			for (size_t k = 0; k < e->inv->ntasks; k++)
				if (sel.task == NULL || sel.task == &e->inv->tasks[k])
					add(t, (struct tgt){e->inv->tasks[k].id, e->inv->tasks[k].host, &e->inv->ssh,
							    {.inv = e->inv, .task = &e->inv->tasks[k]}});
		}
	}
	return CUT_OK;
}

/* Followers first, the leader last: stopping the leader first forces an
 * election among nodes about to stop too. Roles are asked now. */
static void leader_last(struct tgts *t)
{
	struct tgt leaders[8];
	size_t nl = 0, k = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct inv_zk_node *z = t->v[i].sc.zk;
		struct zk_srvr s = {0};
		if (z)
			zk_probe_srvr(z->host, z->client_port ? z->client_port : 2181, 3000, &s);
		if (z && s.role == ZR_LEADER && nl < 8)
			leaders[nl++] = t->v[i];
		else
			t->v[k++] = t->v[i];
	}
	for (size_t i = 0; i < nl; i++)
		t->v[k++] = leaders[i];
}

/* ---- running on one target ------------------------------------------------------ */

/* What the operators confirmed for this target, as one text: the intent. */
static const char *intent_text(struct act_run *r, const struct action_ops *ops)
{
	struct plan_lines l = {.arena = r->arena};
	if (ops->describe && r->t->sc.inv)
		ops->describe(&l, r->s, &r->t->sc);
	size_t n = 1;
	for (size_t i = 0; i < l.n; i++)
		n += strlen(l.v[i]) + 1;
	char *out = arena_alloc(r->arena, n);
	if (out == NULL)
		return "";
	out[0] = '\0';
	for (size_t i = 0; i < l.n; i++)
		strcat(strcat(out, i ? "\n" : ""), l.v[i]);
	return out;
}

/* Intent first, durable, then the work, then the outcome. */
static void state_init(struct step_state *st)
{
	*st = (struct step_state){.settled = true};
	pthread_mutex_init(&st->m, NULL);
	pthread_cond_init(&st->cv, NULL);
}

static void state_done(struct step_state *st)
{
	if (st->p && st->free_fn)
		st->free_fn(st->p);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->m);
}

struct job {
	const struct action_ops *ops;
	struct act_run r;
	int ran;
	struct cut_err te;
	pthread_t th;
	bool threaded;
	atomic_int *running; /* a parallel step's count of targets still at work */
};

static int job_intent(struct engine *e, const struct rb_step *s, const struct action_ops *ops, const struct tgt *t,
		      int64_t deadline, struct step_state *st, struct job *j, struct cut_err *err)
{
	*j = (struct job){.ops = ops, .ran = CUT_OK,
			  .r = {.e = e, .s = s, .t = t, .deadline = deadline, .arena = arena_new(), .exit_status = -1,
				.state = st, .cancel = &e->cancel}};
	if (j->r.arena == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	eng_crash_point(e, "before-intent", s->id);
	int rc = eng_emit(e, s->id, t->name, NULL, "intent",
			  json_pack("{s:s?, s:s}", "host", t->host, "op", intent_text(&j->r, ops)), err);
	if (rc != CUT_OK) {
		arena_free(j->r.arena);
		j->r.arena = NULL;
		return rc;
	}
	eng_crash_point(e, "after-intent", s->id);
	return CUT_OK;
}

static void *job_work(void *p)
{
	struct job *j = p;
	j->ran = j->ops->run(&j->r, &j->te);
	eng_act_release(&j->r, j->ran);
	if (j->running)
		atomic_fetch_sub(j->running, 1);
	return NULL;
}

static int job_outcome(struct engine *e, struct job *j, struct cut_err *err)
{
	const char *id = j->r.s->id;
	int rc = eng_emit(e, id, j->r.t->name, NULL, "target_end",
			  json_pack("{s:b, s:i, s:s?}", "ok", j->ran == CUT_OK, "exit", j->r.exit_status,
				    "error", j->ran == CUT_OK ? NULL : j->te.msg), err);
	eng_crash_point(e, "after-outcome", id);
	arena_free(j->r.arena);
	j->r.arena = NULL;
	if (rc != CUT_OK)
		return rc;
	return j->ran == CUT_OK ? CUT_OK : cut_fail(err, j->ran, "%s: %s", j->r.t->name, j->te.msg);
}

static int on_target(struct engine *e, const struct rb_step *s, const struct action_ops *ops, const struct tgt *t,
		     int64_t deadline, struct step_state *st, struct cut_err *err)
{
	struct job j;
	int rc = job_intent(e, s, ops, t, deadline, st, &j, err);
	if (rc != CUT_OK)
		return rc;
	job_work(&j);
	return job_outcome(e, &j, err);
}

/* A parallel step's begin, beside its targets, on its own arena and connection. */
struct begin_job {
	const struct action_ops *ops;
	struct act_run r;
	int rc;
	struct cut_err err;
	pthread_t th;
	atomic_int stop; /* the operator canceled, or no target is left to use its work */
};

static void *begin_work(void *p)
{
	struct begin_job *b = p;
	b->rc = b->ops->begin(&b->r, &b->err);
	eng_act_release(&b->r, b->rc);
	pthread_mutex_lock(&b->r.state->m);
	b->r.state->settled = true; /* targets still waiting get no state */
	pthread_cond_broadcast(&b->r.state->cv);
	pthread_mutex_unlock(&b->r.state->m);
	return NULL;
}

/*
 * Every target at once: all intents durable first, then one thread per
 * target, and the shared begin (a copy reads its source once) on a thread
 * beside them: it shares its work through act_step_set as soon as there is
 * some, so the targets can follow it (a copy writes while it still reads).
 * A target that fails leaves the others to finish; the step fails naming
 * the first.
 */
static int all_at_once(struct engine *e, const struct rb_step *s, const struct action_ops *ops, struct tgts *t,
		       int64_t deadline, struct step_state *st, struct cut_err *err)
{
	struct job *j = calloc(t->n, sizeof *j);
	if (j == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	size_t n = 0;
	int rc = CUT_OK;
	for (; n < t->n && rc == CUT_OK; n++)
		if ((rc = job_intent(e, s, ops, &t->v[n], deadline, st, &j[n], err)) != CUT_OK)
			break;
	struct begin_job b = {.ops = ops, .rc = CUT_OK};
	bool begun = false;
	atomic_int running = (int)n;
	if (rc == CUT_OK && ops->begin) {
		b.r = j[0].r;
		b.r.x = NULL, b.r.lost = 0, b.r.last_progress = 0, b.r.cancel = &b.stop;
		if ((b.r.arena = arena_new()) == NULL)
			rc = cut_fail(err, CUT_ENOMEM, "out of memory");
		st->settled = false;
		begun = rc == CUT_OK && pthread_create(&b.th, NULL, begin_work, &b) == 0;
		if (rc == CUT_OK && !begun)
			begin_work(&b); /* no thread to spare: first, then */
	}
	for (size_t i = 0; rc != CUT_OK && i < n; i++) /* an intent failed: none starts */
		j[i].ran = rc, cut_fail(&j[i].te, rc, "not started: %s", err ? err->msg : "");
	for (size_t i = 0; rc == CUT_OK && i < n; i++) {
		j[i].running = &running;
		j[i].threaded = pthread_create(&j[i].th, NULL, job_work, &j[i]) == 0;
		if (!j[i].threaded)
			job_work(&j[i]); /* no thread to spare: here, then */
	}
	/* begin hears the operator's cancel through its own flag, which also
	 * stops it once every target has ended: reading on for no one (every
	 * destination refused) would only make the failure wait. */
	while (begun && rc == CUT_OK && atomic_load(&running) > 0 && !atomic_load(&b.stop)) {
		if (atomic_load(&e->cancel))
			atomic_store(&b.stop, 1);
		usleep(20 * 1000);
	}
	for (size_t i = 0; rc == CUT_OK && i < n; i++)
		if (j[i].threaded)
			pthread_join(j[i].th, NULL);
	if (begun) {
		atomic_store(&b.stop, 1);
		pthread_join(b.th, NULL);
	}
	arena_free(b.r.arena);
	/* begin failed before it had anything to share: that is every target's reason */
	for (size_t i = 0; b.rc != CUT_OK && st->p == NULL && i < n; i++)
		j[i].ran = b.rc, j[i].te = b.err;
	for (size_t i = 0; i < n; i++) {
		if (j[i].r.arena == NULL)
			continue;
		struct cut_err oe = {0};
		int o = job_outcome(e, &j[i], &oe);
		if (o != CUT_OK && rc == CUT_OK)
			rc = o, *err = oe;
	}
	free(j);
	return rc;
}

static int attempt(struct engine *e, const struct rb_step *s, struct cut_err *err)
{
	const struct action_ops *ops = action_find(s->action);
	if (ops == NULL || ops->run == NULL)
		return cut_fail(err, CUT_EINVAL, "action %s cannot run in this version yet; do it by hand and mark "
				"the step done, or skip it, with a reason", s->action);
	int64_t deadline = xp_now_ms() + (s->timeout_ms > 0 ? s->timeout_ms : DEFAULT_TIMEOUT_MS);
	struct tgts *t = calloc(1, sizeof *t);
	int rc = t ? resolve(e, s, t, err) : cut_fail(err, CUT_ENOMEM, "out of memory");
	if (rc == CUT_OK && ops->kinds == 0)
		t->v[t->n++] = (struct tgt){"local", NULL, &e->inv->ssh, {.inv = e->inv}};
	if (rc == CUT_OK && t->n == 0)
		rc = cut_fail(err, CUT_ENOTFOUND, "no target matches %s right now", s->targets.n ? s->targets.v[0] : "(none)");
	if (rc == CUT_OK && ops->leader_last)
		leader_last(t);
	/* One target after another, in the order the plan showed; the first
	 * failure stops the step so nothing runs on a state no one looked at. */
	struct step_state st;
	state_init(&st);
	if (rc == CUT_OK && ops->parallel)
		rc = all_at_once(e, s, ops, t, deadline, &st, err);
	for (size_t i = 0; rc == CUT_OK && !ops->parallel && i < t->n; i++) {
		st.last = i + 1 == t->n;
		rc = on_target(e, s, ops, &t->v[i], deadline, &st, err);
	}
	state_done(&st);
	free(t);
	return rc;
}

/* Read-only, before confirmation: each target's preview lines, indented under its name. */
void eng_preview(struct engine *e, size_t step)
{
	const struct rb_step *s = &e->rb->steps[step];
	const struct action_ops *ops = action_find(s->action);
	free(e->preview);
	e->preview = NULL;
	if (ops == NULL || ops->preview == NULL)
		return;
	struct tgts *t = calloc(1, sizeof *t);
	struct cut_err err = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (t == NULL || f == NULL || resolve(e, s, t, &err) != CUT_OK) {
		if (f)
			fprintf(f, "      (cannot preview: %s)\n", err.msg[0] ? err.msg : "out of memory");
		if (t)
			t->n = 0;
	}
	for (size_t i = 0; t && f && i < t->n; i++) {
		struct step_state st;
		state_init(&st);
		struct act_run r = {.e = e, .s = s, .t = &t->v[i], .deadline = xp_now_ms() + 15000, .arena = arena_new(),
				    .exit_status = -1, .state = &st, .cancel = &e->cancel};
		struct plan_lines l = {.arena = r.arena};
		struct cut_err pe = {0};
		int rc = r.arena ? ops->preview(&r, &l, &pe) : cut_fail(&pe, CUT_ENOMEM, "out of memory");
		eng_act_release(&r, rc);
		fprintf(f, "    - %s:\n", t->v[i].name);
		for (size_t k = 0; k < l.n; k++)
			fprintf(f, "        %s\n", l.v[k]);
		if (rc != CUT_OK)
			fprintf(f, "        (cannot preview: %s)\n", pe.msg);
		state_done(&st);
		arena_free(r.arena);
	}
	if (f)
		fclose(f);
	free(t);
	e->preview = buf;
}

int engine_run(struct engine *e, size_t step, struct cut_err *err)
{
	const struct rb_step *s = &e->rb->steps[step];
	const struct fold_step *fs = &e->fold.steps[step];
	if (!fs->confirmed || fs->st != FS_PENDING || e->fold.outcome)
		return cut_fail(err, CUT_EREFUSED, "step %s has not been confirmed", s->id);
	atomic_store(&e->cancel, 0);
	for (int n = 1;; n++) {
		int rc = eng_emit(e, s->id, NULL, NULL, "step_start", json_pack("{s:i}", "attempt", fs->attempts + 1), err);
		if (rc != CUT_OK)
			return rc;
		if (strcmp(s->action, "manual") == 0)
			return CUT_OK; /* running until an operator says it is done */
		struct cut_err se = {0};
		int ran = attempt(e, s, &se);
		if (ran == CUT_ECANCELED)
			eng_emit(e, s->id, NULL, e->o.operators[0], "cancel", NULL, NULL);
		rc = eng_emit(e, s->id, NULL, NULL, "step_end",
			      json_pack("{s:b, s:s?}", "ok", ran == CUT_OK, "error", ran == CUT_OK ? NULL : se.msg), err);
		if (rc != CUT_OK)
			return rc;
		if (ran == CUT_OK)
			return CUT_OK;
		if (s->fail != RB_FAIL_RETRY || n > s->retries || ran == CUT_ECANCELED) {
			if (err)
				*err = se;
			return ran;
		}
		/* The runbook's "retry N", which the operators confirmed with the step. */
		rc = eng_emit(e, s->id, NULL, NULL, "decision",
			      json_pack("{s:s, s:s}", "choice", "retry", "reason",
					n == 1 ? "on_failure: retry (1st automatic retry)" : "on_failure: retry (automatic)"), err);
		if (rc != CUT_OK)
			return rc;
	}
}

int engine_manual_done(struct engine *e, size_t step, const char *op, bool done, const char *note,
		       struct cut_err *err)
{
	const struct rb_step *s = &e->rb->steps[step];
	if (e->fold.steps[step].st != FS_RUNNING || strcmp(s->action, "manual") != 0)
		return cut_fail(err, CUT_EREFUSED, "step %s is not a manual step in progress", s->id);
	if (!engine_on_duty(e, op))
		return cut_fail(err, CUT_EINVAL, "'%s' is not an operator on duty", op ? op : "");
	if (note && *note) {
		int rc = eng_emit(e, s->id, NULL, op, "note", json_pack("{s:s}", "text", note), err);
		if (rc != CUT_OK)
			return rc;
	}
	return eng_emit(e, s->id, NULL, op, "step_end",
			json_pack("{s:b, s:s?}", "ok", done, "error", done ? NULL : "the operator reported it not done"), err);
}
