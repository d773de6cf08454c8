/*
 * engine_run: running one confirmed step -- resolving its targets, writing
 * each target's intent before anything is sent to it, streaming output into
 * batched events, enforcing the step's timeout and cancel, and applying the
 * runbook's failure policy. The actions here are the generic ones (shell,
 * check, manual); domain actions plug in beside them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/subst.h"
#include "cutover/target.h"
#include "engine_int.h"

#define DEFAULT_TIMEOUT_MS (10 * 60 * 1000)
#define FLUSH_BYTES (64 * 1024)
#define FLUSH_MS 250

/* ---- output, batched into events ------------------------------------------------ */

struct obuf {
	struct engine *e;
	const char *step, *target;
	char *buf[2];
	size_t len[2], cap[2];
	int64_t first[2];
	bool any;
	int lost; /* an output event could not be written */
};

static const char *const stream_name[] = {"stdout", "stderr"};

static void ob_flush(struct obuf *o, int i)
{
	if (o->len[i] == 0)
		return;
	if (eng_emit(o->e, o->step, o->target, NULL, "output",
		     json_pack("{s:s, s:s%}", "stream", stream_name[i], "text", o->buf[i], o->len[i]), NULL) != CUT_OK)
		o->lost++;
	o->len[i] = 0;
	if (!o->any) {
		o->any = true;
		eng_crash_point(o->e, "mid-output", o->step);
	}
}

static void ob_add(struct obuf *o, int i, const char *line, size_t len)
{
	if (o->len[i] + len + 2 > o->cap[i]) {
		size_t cap = o->cap[i] ? o->cap[i] : 4096;
		while (cap < o->len[i] + len + 2)
			cap *= 2;
		char *b = realloc(o->buf[i], cap);
		if (b == NULL)
			return;
		o->buf[i] = b, o->cap[i] = cap;
	}
	if (o->len[i] == 0)
		o->first[i] = xp_now_ms();
	char *at = o->buf[i] + o->len[i];
	memcpy(at, line, len);
	at[len] = '\0';
	eng_redact(o->e, at); /* secrets never reach the audit or the screen */
	size_t n = strlen(at);
	at[n] = '\n';
	at[n + 1] = '\0';
	o->len[i] += n + 1;
	if (o->len[i] >= FLUSH_BYTES)
		ob_flush(o, i);
}

static void ob_line(void *ud, enum xp_stream s, const char *line, size_t len)
{
	ob_add(ud, s == XP_STDERR, line, len);
}

static void ob_tick(void *ud)
{
	struct obuf *o = ud;
	int64_t now = xp_now_ms();
	for (int i = 0; i < 2; i++)
		if (o->len[i] && now - o->first[i] >= FLUSH_MS)
			ob_flush(o, i);
}

static void ob_done(struct obuf *o)
{
	ob_flush(o, 0);
	ob_flush(o, 1);
	free(o->buf[0]);
	free(o->buf[1]);
}

/* ---- targets -------------------------------------------------------------------- */

struct tgt {
	const char *name, *host;
	const struct inv_ssh *ssh;
	struct subst_scope sc;
};

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

/* ---- running on one target ------------------------------------------------------ */

struct stepctx {
	struct engine *e;
	const struct rb_step *s;
	int64_t deadline;
	struct arena *a;
};

static int exec_on(struct stepctx *c, const struct tgt *t, const char *cmd, int *status, struct cut_err *err)
{
	*status = -1;
	int64_t left = c->deadline - xp_now_ms();
	if (left <= 0)
		return cut_fail(err, CUT_ETIMEOUT, "the step's timeout ran out before %s", t->name);
	struct xport *x;
	int rc = xp_get(c->e->pool, t->host, t->ssh, &t->sc, &x, err);
	if (rc != CUT_OK)
		return rc;
	struct obuf ob = {.e = c->e, .step = c->s->id, .target = t->name};
	struct xp_exec req = {.cmd = cmd, .timeout_ms = (int)left, .on_line = ob_line, .tick = ob_tick, .ud = &ob,
			      .cancel = &c->e->cancel};
	rc = xp_exec(x, &req, err);
	ob_done(&ob);
	/* Output the audit could not keep makes the step fail: nothing is lost silently. */
	if (rc == CUT_OK && ob.lost)
		rc = cut_fail(err, CUT_EIO, "%s: %d output batch(es) could not be written to the audit", t->name, ob.lost);
	xp_put(c->e->pool, x, rc);
	*status = req.exit_status;
	return rc;
}

static const char *param(const struct rb_step *s, const char *key, const char *dfl)
{
	const struct rb_param *p = rb_param(s, key);
	return p && p->value ? p->value : dfl;
}

/* Intent first, durable, then the work, then the outcome. */
static int on_target(struct stepctx *c, const struct tgt *t, bool check, struct cut_err *err)
{
	struct engine *e = c->e;
	const char *tmpl = param(c->s, "command", "");
	struct cut_err se;
	const char *cmd = subst(c->a, tmpl, &t->sc, SUBST_SHELL, &se);
	const char *shown = subst(c->a, tmpl, &t->sc, SUBST_SHELL | SUBST_DISPLAY, &se);
	if (cmd == NULL || shown == NULL)
		return cut_fail(err, CUT_EINVAL, "%s: %s", t->name, se.msg);
	int tries = check ? atoi(param(c->s, "tries", "30")) : 1, interval = 2000;
	if (check && !yml_parse_duration(param(c->s, "interval", "2s"), &interval))
		interval = 2000;
	eng_crash_point(e, "before-intent", c->s->id);
	int rc = eng_emit(e, c->s->id, t->name, NULL, "intent",
			  json_pack("{s:s?, s:s, s:i}", "host", t->host, "op", arena_printf(c->a, "$ %s", shown), "tries",
				    tries), err);
	if (rc != CUT_OK)
		return rc;
	eng_crash_point(e, "after-intent", c->s->id);
	int status = -1;
	struct cut_err te = {0};
	for (int k = 1; k <= (tries > 0 ? tries : 1); k++) {
		rc = exec_on(c, t, cmd, &status, &te);
		if (rc != CUT_OK || status == 0 || k == tries)
			break;
		eng_emit(e, c->s->id, t->name, NULL, "output",
			 json_pack("{s:s, s:s}", "stream", "cutover",
				   "text", arena_printf(c->a, "try %d of %d: exit %d; again in %d ms\n", k, tries, status, interval)),
			 NULL);
		for (int64_t until = xp_now_ms() + interval; xp_now_ms() < until && !atomic_load(&e->cancel);)
			usleep(50 * 1000);
		if (atomic_load(&e->cancel)) {
			rc = cut_fail(&te, CUT_ECANCELED, "canceled by the operator between tries");
			break;
		}
	}
	bool ok = rc == CUT_OK && status == 0;
	const char *why = rc != CUT_OK ? te.msg
			: status != 0 ? arena_printf(c->a, check ? "still exits %d after %d tries" : "exited %d", status, tries)
			: NULL;
	int rc2 = eng_emit(e, c->s->id, t->name, NULL, "target_end",
			   json_pack("{s:b, s:i, s:s?}", "ok", ok, "exit", status, "error", why), err);
	eng_crash_point(e, "after-outcome", c->s->id);
	if (rc2 != CUT_OK)
		return rc2;
	if (!ok)
		return cut_fail(err, rc != CUT_OK ? rc : CUT_EREMOTE, "%s: %s", t->name, why);
	return CUT_OK;
}

static int attempt(struct engine *e, const struct rb_step *s, struct cut_err *err)
{
	bool shell = strcmp(s->action, "shell") == 0, check = strcmp(s->action, "check") == 0;
	if (!shell && !check)
		return cut_fail(err, CUT_EINVAL, "action %s cannot run in this version yet; do it by hand and mark "
				"the step done, or skip it, with a reason", s->action);
	struct stepctx c = {.e = e, .s = s, .a = arena_new(),
			    .deadline = xp_now_ms() + (s->timeout_ms > 0 ? s->timeout_ms : DEFAULT_TIMEOUT_MS)};
	struct tgts *t = calloc(1, sizeof *t);
	int rc = c.a && t ? resolve(e, s, t, err) : cut_fail(err, CUT_ENOMEM, "out of memory");
	if (rc == CUT_OK && t->n == 0)
		rc = cut_fail(err, CUT_ENOTFOUND, "no target matches %s right now", s->targets.n ? s->targets.v[0] : "(none)");
	/* One target after another, in the order the plan showed; the first
	 * failure stops the step so nothing runs on a state no one looked at. */
	for (size_t i = 0; rc == CUT_OK && i < t->n; i++)
		rc = on_target(&c, &t->v[i], check, err);
	free(t);
	arena_free(c.a);
	return rc;
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
