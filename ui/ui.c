/*
 * ui: the console's loop (see include/cutover/ui.h, ui_int.h). poll() on the
 * keyboard and the workers' pipe with a 250 ms timeout for the clocks; each
 * wake folds what the workers sent, answers the key, draws once. Nothing here
 * waits for the network or the audit: the engine and probe threads do.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <jansson.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cutover/audit.h"
#include "cutover/xport.h"
#include "ui_int.h"

const char *ui_curses_version(void)
{
	return curses_version();
}

const char *ui_me(const struct ui *u)
{
	return u->ops[u->at];
}

const char *ui_login_of(const struct ui *u, const char *op)
{
	const struct strlist *names = &u->inv->operators, *logins = &u->inv->operator_logins;
	for (size_t i = 0; i < names->n; i++)
		if (strcmp(names->v[i], op) == 0 && i < logins->n && logins->v[i][0])
			return logins->v[i];
	return op;
}

void ui_say(struct ui *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(u->msg, sizeof u->msg, fmt, ap);
	va_end(ap);
	u->msg_ms = xp_now_ms();
}

/* ---- the UI's own runbook, plan and fold -------------------------------------------------------- */

static void book_free(struct ui *u)
{
	for (size_t i = 0; u->plan_text && u->rb && i < u->rb->nsteps; i++)
		free(u->plan_text[i]);
	free(u->plan_text);
	u->plan_text = NULL;
	plan_free(u->plan);
	rb_free(u->rb);
	fold_free(&u->fold);
	u->plan = NULL, u->rb = NULL;
}

/* A run began (or the console opened on one): load its runbook as the engine did. */
static int book_load(struct ui *u, const char *path)
{
	struct diag_list d = {0};
	struct runbook *rb = rb_load_file(path, &d);
	diag_free(&d);
	struct plan *plan = rb ? plan_build(rb, u->inv) : NULL;
	if (plan == NULL) {
		rb_free(rb);
		return CUT_EINVAL;
	}
	book_free(u);
	u->rb = rb, u->plan = plan, u->sel = 0, u->scroll = 0;
	u->plan_text = calloc(rb->nsteps ? rb->nsteps : 1, sizeof *u->plan_text);
	for (size_t i = 0; u->plan_text && i < rb->nsteps; i++) {
		size_t len;
		FILE *f = open_memstream(&u->plan_text[i], &len);
		if (f) {
			plan_print_step(plan, i, f);
			fclose(f);
		}
	}
	/* a new run (a rollback) starts a clean screen; the audit keeps the old one's output */
	for (size_t i = 0; i < u->nout; i++)
		free(u->out[i].step), free(u->out[i].target), free(u->out[i].text);
	u->nout = 0, u->nprog = 0;
	return fold_init(&u->fold, rb);
}

static void add_output(struct ui *u, const struct audit_event *ev)
{
	json_t *p = ev->payload ? json_loads(ev->payload, 0, NULL) : NULL;
	const char *text = json_string_value(json_object_get(p, "text"));
	for (const char *s = text; s && *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (u->nout == u->capout) {
			size_t cap = u->capout ? u->capout * 2 : 256;
			struct ui_out *o = realloc(u->out, cap * sizeof *o);
			if (o == NULL)
				break;
			u->out = o, u->capout = cap;
		}
		struct ui_out *o = &u->out[u->nout++];
		o->step = strdup(ev->step ? ev->step : "");
		o->target = strdup(ev->target ? ev->target : "");
		o->text = strndup(s, n);
		s = nl ? nl + 1 : s + n;
	}
	json_decref(p);
}

static void add_progress(struct ui *u, const struct audit_event *ev)
{
	json_t *p = ev->payload ? json_loads(ev->payload, 0, NULL) : NULL;
	struct ui_prog *g = NULL;
	for (size_t i = 0; i < u->nprog && g == NULL; i++)
		if (strcmp(u->prog[i].target, ev->target ? ev->target : "") == 0 && strcmp(u->prog[i].step, ev->step) == 0)
			g = &u->prog[i];
	if (g == NULL && u->nprog < sizeof u->prog / sizeof u->prog[0]) {
		g = &u->prog[u->nprog++];
		memset(g, 0, sizeof *g);
		snprintf(g->step, sizeof g->step, "%s", ev->step ? ev->step : "");
		snprintf(g->target, sizeof g->target, "%s", ev->target ? ev->target : "");
	}
	const char *what = json_string_value(json_object_get(p, "what"));
	if (g && what) {
		uint64_t done = (uint64_t)json_integer_value(json_object_get(p, "done"));
		if (strcmp(g->what, what) != 0 || g->first_ms == 0 || done < g->done)
			g->first_ms = xp_now_ms(), g->first_done = done;
		snprintf(g->what, sizeof g->what, "%s", what);
		g->done = done;
		g->total = (uint64_t)json_integer_value(json_object_get(p, "total"));
		g->last_ms = xp_now_ms();
	}
	json_decref(p);
}

static void on_event(struct ui *u, const struct audit_event *ev)
{
	if (strcmp(ev->kind, "run_start") == 0 && ev->run != u->fold.run) {
		json_t *p = json_loads(ev->payload ? ev->payload : "{}", 0, NULL);
		const char *path = json_string_value(json_object_get(p, "runbook"));
		if (path == NULL || book_load(u, path) != CUT_OK)
			ui_say(u, "cannot load the runbook of run %lld (%s)", (long long)ev->run, path ? path : "?");
		json_decref(p);
	}
	if (u->rb == NULL || ev->seq <= u->fold.last_seq || (u->fold.run && ev->run != u->fold.run))
		return;
	fold_apply(&u->fold, ev);
	if (strcmp(ev->kind, "output") == 0)
		add_output(u, ev);
	else if (strcmp(ev->kind, "progress") == 0)
		add_progress(u, ev);
	if (strcmp(ev->kind, "step_start") == 0 && u->rb) {
		const struct rb_step *s = rb_find_step(u->rb, ev->step);
		if (s)
			u->sel = (size_t)(s - u->rb->steps), u->scroll = 0;
	}
}

static int replay_one(void *ud, const struct audit_event *ev)
{
	on_event(ud, ev);
	return 0;
}

/* The run so far, from the file: the console may open on a resumed run. */
static int load_history(struct ui *u, struct cut_err *err)
{
	return engine_history(u->e, replay_one, u, err);
}

/* ---- what the workers sent ---------------------------------------------------------------------- */

static void on_snapshot(struct ui *u, struct ui_snapshot *s)
{
	for (size_t i = 0; i < s->nzk && i < 64; i++)
		if (s->zk[i].st.s.role != ZR_NOANSWER)
			u->zk_ok_ms[i] = s->at_ms;
	for (size_t e = 0; e < u->inv->nensembles && e < UI_MAX_ENS; e++) {
		const char *lead = "";
		for (size_t i = 0; i < s->nzk; i++)
			if (strcmp(s->zk[i].ensemble, u->inv->ensembles[e].name) == 0 && s->zk[i].st.s.role == ZR_LEADER)
				lead = s->zk[i].node->name;
		if (strcmp(u->leader[e], lead) != 0 || u->leader_since[e] == 0) {
			if (u->leader_since[e] && strcmp(u->leader[e], lead) != 0) /* a change, not the first probe */
				u->leader_flash[e] = s->at_ms;
			snprintf(u->leader[e], sizeof u->leader[e], "%s", lead);
			u->leader_since[e] = s->at_ms;
		}
	}
	snprintf(u->attached, sizeof u->attached, "%s", s->attached);
	u->pres = s->pres;
	/* engineers under their own logins: whoever typed last is at the keyboard */
	const char *active = u->pres.n >= 2 && u->pres.active >= 0 ? u->pres.c[u->pres.active].user : NULL;
	for (size_t i = 0; active && i < u->nops; i++)
		if (strcmp(ui_login_of(u, u->ops[i]), active) == 0)
			u->at = i;
	ui_snapshot_free(u->snap);
	u->snap = s;
}

static void on_done(struct ui *u, struct ui_msg *m)
{
	if (m->cmd == UC_PREPARE && u->mode == UI_CONFIRM && m->step == u->act_step) {
		u->preparing = false;
		if (m->rc != CUT_OK) {
			u->mode = UI_MAIN;
			ui_say(u, "probing the site failed: %s", m->text ? m->text : "");
			return;
		}
		free(u->prepared);
		u->prepared = m->text, m->text = NULL;
		u->failing = m->failing, u->two = m->two;
		u->need_info = m->need_info;
		return;
	}
	if (m->rc != CUT_OK && m->text)
		ui_say(u, "%s", m->text);
	else if (m->cmd == UC_NOTE)
		ui_say(u, "note recorded under %s", ui_me(u));
}

static void drain(struct ui *u)
{
	for (struct ui_msg *m = uq_take(u->q), *n; m; m = n) {
		n = m->next;
		if (m->kind == UM_EVENT)
			on_event(u, &m->ev);
		else if (m->kind == UM_LIVE)
			on_snapshot(u, m->snap), m->snap = NULL;
		else if (m->kind == UM_DONE)
			on_done(u, m);
		else if (m->kind == UM_NEED)
			u->need = m->need, u->need_step = m->step, u->need_known = true;
		ui_msg_free(m);
	}
}

/* ---- the loop ----------------------------------------------------------------------------------- */

static void screen_start(struct ui *u)
{
	initscr();
	raw();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	u->color = has_colors() && getenv("NO_COLOR") == NULL;
	if (u->color) {
		start_color();
		use_default_colors(); /* the terminal's own background: reads on dark and light */
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_GREEN, -1);
		init_pair(3, COLOR_YELLOW, -1);
		init_pair(4, COLOR_CYAN, -1);
		init_pair(5, COLOR_MAGENTA, -1);
	}
}

int ui_run(struct engine *e, struct ui_queue *q, const struct ui_opts *o, struct cut_err *err)
{
	struct ui u = {.e = e, .q = q, .o = o, .inv = engine_inventory(e), .t0 = xp_now_ms(), .pres = {.n = -1, .active = -1}};
	for (size_t i = 0; i < o->noperators && i < 8; i++)
		u.ops[u.nops++] = o->operators[i];
	setlocale(LC_ALL, "");
	/* Runbooks are UTF-8 (Chinese titles); a bare C locale would print them as escapes. */
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	int rc = load_history(&u, err);
	if (rc == CUT_OK && u.rb == NULL)
		rc = cut_fail(err, CUT_EINVAL, "the audit holds no start of run %lld", (long long)engine_run_id(e));
	if (rc == CUT_OK && (u.w = ui_workers_start(e, q, err)) == NULL)
		rc = err->code;
	if (rc != CUT_OK) {
		book_free(&u);
		return rc;
	}
	screen_start(&u);
	while (!u.quit) {
		drain(&u);
		ui_draw(&u);
		struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = ui_queue_fd(q), .events = POLLIN}};
		poll(p, 2, 250);
		wint_t ch;
		int r;
		while (!u.quit && (r = get_wch(&ch)) != ERR)
			ui_key(&u, ch, r == KEY_CODE_YES);
	}
	endwin();
	/* a step still in flight was canceled by the quit; wait for its outcome to be recorded */
	ui_workers_stop(u.w);
	drain(&u);
	for (size_t i = 0; i < u.nout; i++)
		free(u.out[i].step), free(u.out[i].target), free(u.out[i].text);
	free(u.out);
	free(u.prepared);
	ui_snapshot_free(u.snap);
	book_free(&u);
	return CUT_OK;
}
