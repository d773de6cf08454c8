/*
 * ui_worker: the console's two workers (see ui_int.h). The engine thread runs
 * one command at a time and says what the run needs next; the probe thread
 * takes a snapshot of the site every two seconds with timeouts shorter than
 * that, so a hung node costs its own row, never the screen.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/ck.h"
#include "cutover/subst.h"
#include "cutover/xport.h"
#include "ui_int.h"

#define PROBE_EVERY_MS 2000
#define PROBE_TIMEOUT_MS 1500
#define FILE_EVERY 5 /* metrika.xml is read every fifth probe: it changes only by ck.switch */

struct ui_workers {
	struct engine *e;
	struct ui_queue *q;
	const struct inventory *inv;
	struct ssh_pool *pool; /* the probe's own: a step's connection is never shared with it */
	pthread_mutex_t m;
	pthread_cond_t c;
	struct ui_cmd cmd;
	bool has_cmd, busy;
	atomic_bool stop;
	pthread_t eng, probe;
	bool eng_started, probe_started;
};

static void post_need(struct ui_workers *w)
{
	struct ui_msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return;
	m->kind = UM_NEED;
	m->need = engine_next(w->e, &m->step);
	uq_push(w->q, m);
}

/* What confirming takes (the engine's policy), then the live preview: what
 * the confirmation dialog shows under the plan. */
static char *prepared_text(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	engine_describe(e, f);
	if (engine_preview(e))
		fprintf(f, "live preview:\n%s", engine_preview(e));
	fclose(f);
	return buf;
}

static void execute(struct ui_workers *w, const struct ui_cmd *c)
{
	struct ui_msg *m = calloc(1, sizeof *m);
	struct cut_err err = {0};
	if (m == NULL)
		return;
	m->kind = UM_DONE;
	m->cmd = c->kind;
	m->step = c->step;
	const char *reason = c->text[0] ? c->text : NULL;
	switch (c->kind) {
	case UC_PREPARE: {
		const struct gate_result *g;
		size_t ng;
		m->rc = engine_prepare(w->e, c->step, &g, &ng, &err);
		if (m->rc == CUT_OK) {
			m->text = prepared_text(w->e);
			m->need_info = *engine_need(w->e, c->step);
			m->failing = m->need_info.reason;
			m->two = m->need_info.two;
		}
		break;
	}
	case UC_RUN: {
		struct policy_confirmation pc = {
			.typed = c->typed, .reason = reason, .present = c->present,
			.first = {c->op1, c->client1[0] ? c->client1 : NULL, c->login1[0] ? c->login1 : NULL},
			.second = {c->op2[0] ? c->op2 : NULL, c->client2[0] ? c->client2 : NULL, c->login2[0] ? c->login2 : NULL},
		};
		m->rc = engine_confirm(w->e, c->step, &pc, &err);
		if (m->rc == CUT_OK)
			m->rc = engine_run(w->e, c->step, &err);
		break;
	}
	case UC_DECIDE:
		m->rc = engine_decide(w->e, c->step, c->choice, c->op1, reason, &err);
		break;
	case UC_NOTE:
		m->rc = engine_note(w->e, c->op1, c->text, &err);
		break;
	case UC_MANUAL:
		m->rc = engine_manual_done(w->e, c->step, c->op1, c->done, reason, &err);
		break;
	case UC_NEXT:
		break;
	}
	if (m->rc != CUT_OK && m->text == NULL)
		m->text = strdup(err.msg);
	uq_push(w->q, m);
	post_need(w);
}

static void *engine_main(void *ud)
{
	struct ui_workers *w = ud;
	pthread_mutex_lock(&w->m);
	for (;;) {
		while (!w->has_cmd && !atomic_load(&w->stop))
			pthread_cond_wait(&w->c, &w->m);
		if (atomic_load(&w->stop))
			break;
		struct ui_cmd c = w->cmd;
		w->has_cmd = false;
		pthread_mutex_unlock(&w->m);
		execute(w, &c);
		pthread_mutex_lock(&w->m);
		w->busy = false;
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

bool ui_workers_send(struct ui_workers *w, const struct ui_cmd *c)
{
	pthread_mutex_lock(&w->m);
	bool ok = !w->busy;
	if (ok) {
		w->cmd = *c;
		w->has_cmd = w->busy = true;
		pthread_cond_signal(&w->c);
	}
	pthread_mutex_unlock(&w->m);
	return ok;
}

bool ui_workers_busy(struct ui_workers *w)
{
	pthread_mutex_lock(&w->m);
	bool b = w->busy;
	pthread_mutex_unlock(&w->m);
	return b;
}

/* ---- the probe thread ------------------------------------------------------------------------ */

struct zk_job {
	struct ui_node_probe *p;
	pthread_t th;
	bool started;
};

static void *zk_one(void *ud)
{
	struct zk_job *j = ud;
	zk_probe_full(j->p->node, PROBE_TIMEOUT_MS, &j->p->st);
	return NULL;
}

/* Which ensemble a ClickHouse node's metrika.xml lists: its name, "?" or "unreadable". */
static void ck_file_of(struct ui_workers *w, const struct inv_ck_node *ck, char out[16])
{
	struct cut_err e = {0};
	char hosts[1024] = "";
	if (ck_metrika_hosts(w->pool, w->inv, ck, PROBE_TIMEOUT_MS, hosts, sizeof hosts, NULL, 0, &e) == CUT_OK)
		snprintf(out, 16, "%s", ck_ensemble_of(w->inv, hosts));
	else
		snprintf(out, 16, "unreadable");
}

static struct ui_snapshot *snapshot(struct ui_workers *w, int round, const struct ui_snapshot *prev)
{
	struct ui_snapshot *s = calloc(1, sizeof *s);
	size_t n = 0;
	for (size_t i = 0; i < w->inv->nensembles; i++)
		n += w->inv->ensembles[i].n;
	struct zk_job *jobs = calloc(n ? n : 1, sizeof *jobs);
	if (s == NULL || jobs == NULL || (s->zk = calloc(n ? n : 1, sizeof *s->zk)) == NULL ||
	    (s->ck_file = calloc(w->inv->nck ? w->inv->nck : 1, sizeof *s->ck_file)) == NULL) {
		free(jobs);
		ui_snapshot_free(s);
		return NULL;
	}
	for (size_t i = 0; i < w->inv->nensembles; i++)
		for (size_t k = 0; k < w->inv->ensembles[i].n; k++, s->nzk++) {
			s->zk[s->nzk].node = &w->inv->ensembles[i].nodes[k];
			s->zk[s->nzk].ensemble = w->inv->ensembles[i].name;
		}
	for (size_t i = 0; i < s->nzk; i++) { /* every node at once: one hung node costs one timeout */
		jobs[i].p = &s->zk[i];
		jobs[i].started = pthread_create(&jobs[i].th, NULL, zk_one, &jobs[i]) == 0;
	}
	struct cut_err e;
	live_probe(w->inv, w->pool, PROBE_TIMEOUT_MS, &s->live, &e);
	s->ck_ro = calloc(w->inv->nck ? w->inv->nck : 1, sizeof *s->ck_ro);
	for (size_t i = 0; i < w->inv->nck; i++) {
		if (s->ck_ro)
			s->ck_ro[i] = i < s->live.nck && s->live.ck[i].st == LIVE_UP
					      ? ck_readonly_replicas(&w->inv->ck[i], PROBE_TIMEOUT_MS, &e) : -1;
		if (round % FILE_EVERY == 0 || prev == NULL)
			ck_file_of(w, &w->inv->ck[i], s->ck_file[i]);
		else
			memcpy(s->ck_file[i], prev->ck_file[i], 16);
	}
	for (size_t i = 0; i < s->nzk; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].th, NULL);
		else
			zk_one(&jobs[i]);
	free(jobs);
	s->at_ms = xp_now_ms();
	return s;
}

/* What the panes show, as a key: a status event is recorded when it changes, not at every probe. */
static void status_key(const struct ui_snapshot *s, char *key, size_t n)
{
	size_t used = 0;
	key[0] = '\0';
	for (size_t i = 0; i < s->nzk && used + 40 < n; i++)
		used += (size_t)snprintf(key + used, n - used, "%s=%s ", s->zk[i].node->name, zk_role_name(s->zk[i].st.s.role));
	for (size_t i = 0; i < s->live.nck && used + 40 < n; i++)
		used += (size_t)snprintf(key + used, n - used, "%s=%d/%s ", s->live.ck[i].node->name, s->live.ck[i].st, s->ck_file[i]);
	for (size_t i = 0; i < s->live.ntasks && used + 40 < n; i++)
		used += (size_t)snprintf(key + used, n - used, "%s=%d ", s->live.tasks[i].task->id, s->live.tasks[i].st);
}

static void *probe_main(void *ud)
{
	struct ui_workers *w = ud;
	struct ui_snapshot *prev = NULL;
	char last[2048] = "";
	for (int round = 0; !atomic_load(&w->stop); round++) {
		int64_t t0 = xp_now_ms();
		struct ui_snapshot *s = snapshot(w, round, prev);
		if (s) {
			presence_read(&s->pres);
			presence_text(&s->pres, s->attached, sizeof s->attached);
			char key[2048];
			status_key(s, key, sizeof key);
			if (strcmp(key, last) != 0) { /* recorded for the replay: what the operators saw, when */
				char *json = live_json(&s->live);
				struct cut_err e;
				if (json && engine_record_status(w->e, json, &e) == CUT_OK)
					snprintf(last, sizeof last, "%s", key);
				free(json);
			}
			/* the file reads are carried from the previous snapshot */
			struct ui_snapshot *keep = calloc(1, sizeof *keep);
			if (keep && (keep->ck_file = calloc(w->inv->nck ? w->inv->nck : 1, sizeof *keep->ck_file)))
				memcpy(keep->ck_file, s->ck_file, w->inv->nck * sizeof *s->ck_file);
			ui_snapshot_free(prev);
			prev = keep;
			struct ui_msg *m = calloc(1, sizeof *m);
			if (m) {
				m->kind = UM_LIVE;
				m->snap = s;
				uq_push(w->q, m);
			} else {
				ui_snapshot_free(s);
			}
		}
		while (!atomic_load(&w->stop) && xp_now_ms() - t0 < PROBE_EVERY_MS)
			usleep(50 * 1000);
	}
	ui_snapshot_free(prev);
	return NULL;
}

struct ui_workers *ui_workers_start(struct engine *e, struct ui_queue *q, struct cut_err *err)
{
	struct ui_workers *w = calloc(1, sizeof *w);
	if (w == NULL) {
		cut_fail(err, CUT_ENOMEM, "out of memory");
		return NULL;
	}
	w->e = e, w->q = q, w->inv = engine_inventory(e);
	w->pool = ssh_pool_new();
	pthread_mutex_init(&w->m, NULL);
	pthread_cond_init(&w->c, NULL);
	w->eng_started = pthread_create(&w->eng, NULL, engine_main, w) == 0;
	w->probe_started = w->eng_started && pthread_create(&w->probe, NULL, probe_main, w) == 0;
	if (!w->probe_started || w->pool == NULL) {
		ui_workers_stop(w);
		cut_fail(err, CUT_ENOMEM, "cannot start the console's worker threads");
		return NULL;
	}
	struct ui_cmd first = {.kind = UC_NEXT};
	ui_workers_send(w, &first);
	return w;
}

/* Waits for a running step: the caller canceled it first (engine_cancel) or chose to wait. */
void ui_workers_stop(struct ui_workers *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->m);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&w->c);
	pthread_mutex_unlock(&w->m);
	if (w->eng_started)
		pthread_join(w->eng, NULL);
	if (w->probe_started)
		pthread_join(w->probe, NULL);
	ssh_pool_free(w->pool);
	pthread_mutex_destroy(&w->m);
	pthread_cond_destroy(&w->c);
	free(w);
}
