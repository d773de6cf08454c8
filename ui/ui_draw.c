/*
 * ui_draw: the screen, drawn whole from the UI's state on every wake (tmux
 * shrinks the window to its smallest client, so nothing is laid out once).
 * Widths are display cells; at 80x24 every pane still has its line, and a
 * wider screen gives the panes more columns.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cutover/xport.h"
#include "ui_int.h"

enum { C_RED = 1, C_GREEN, C_YELLOW, C_CYAN, C_MAGENTA };

static attr_t col(const struct ui *u, int c)
{
	return u->color ? (attr_t)COLOR_PAIR(c) : (c == C_RED ? A_BOLD : A_NORMAL);
}

/* text at (y, x) in at most w cells; cut with an ellipsis, never inside a character */
static void put(int y, int x, int w, const char *text, attr_t a)
{
	if (w <= 0 || text == NULL)
		return;
	int used;
	size_t n = ui_fit(text, w, &used);
	bool cut = text[n] != '\0';
	if (cut)
		n = ui_fit(text, w - 1, &used);
	attron(a);
	mvaddnstr(y, x, text, (int)n);
	if (cut)
		addstr("\u2026");
	attroff(a);
}

static void putf(int y, int x, int w, attr_t a, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void putf(int y, int x, int w, attr_t a, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	put(y, x, w, buf, a);
}

static void hms(char *out, size_t n, int64_t ms)
{
	long long s = ms < 0 ? 0 : ms / 1000 % (1000LL * 3600);
	if (s >= 3600)
		snprintf(out, n, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%lld:%02lld", s / 60, s % 60);
}

/* "2026-11-26T02:13:45.123Z" -> epoch seconds; 0 when it does not parse */
static time_t wall_time(const char *w)
{
	struct tm tm = {0};
	if (w == NULL || strptime(w, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm);
}

/* ---- header and footer ----------------------------------------------------------------------- */

static void header(struct ui *u, int W)
{
	char clock[16], el[32], buf[600];
	time_t now = time(NULL);
	struct tm tm;
	strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&now, &tm));
	hms(el, sizeof el, u->fold.started ? (int64_t)(now - wall_time(u->fold.started)) * 1000 : 0);
	const char *win = u->inv->window_end ? strchr(u->inv->window_end, 'T') : NULL;
	char duty[200] = "";
	for (size_t i = 0, n = 0; i < u->nops && n + 2 < sizeof duty; i++)
		n += (size_t)snprintf(duty + n, sizeof duty - n, "%s%s", i ? "," : "", u->ops[i]);
	snprintf(buf, sizeof buf, " cutover  %s  %s  at keyboard: %s (on duty: %s)  %s%s  %s  elapsed %s%s%.5s",
		 u->rb->name, u->inv->site ? u->inv->site : "", ui_me(u), duty, u->pres.n >= 0 ? "attached: " : "",
		 u->pres.n >= 0 ? u->attached : "not in tmux", clock, el, win ? "  window ends " : "", win ? win + 1 : "");
	move(0, 0);
	clrtoeol();
	put(0, 0, W, buf, A_REVERSE);
	for (int x = ui_width(buf); x < W; x++)
		mvaddch(0, x, ' ' | A_REVERSE);
	if (u->rb->kind && strcmp(u->rb->kind, "rollback") == 0 && u->rb->budget_ms > 0 && u->fold.started) {
		int64_t left = u->rb->budget_ms - (int64_t)(now - wall_time(u->fold.started)) * 1000;
		char l[32];
		hms(l, sizeof l, left < 0 ? -left : left);
		putf(0, W > 30 ? W - 30 : 0, 30, col(u, left < 0 ? C_RED : C_YELLOW) | A_REVERSE | A_BOLD,
		     " ROLLBACK %s %s ", left < 0 ? "over budget by" : "budget left", l);
	}
}

static const char *prompt_of(const struct ui *u)
{
	switch (u->mode) {
	case UI_CONFIRM: return u->preparing ? "probing the site..." : "type the step id to run it: ";
	case UI_SECOND: return "second operator (confirms under their own name): ";
	case UI_REASON: return "reason (goes in the audit): ";
	case UI_DECIDE: return u->need == ENG_INTERRUPTED ? "rerun / done / rollback / abort: " : "retry / skip / rollback / abort: ";
	case UI_MANUAL: return "done / not done: ";
	case UI_NOTE: return "note: ";
	case UI_CANCEL: return "cancel the running step? type yes: ";
	case UI_QUIT: return "a step is in flight: type quit to cancel it and leave (resume later): ";
	case UI_SEARCH: return "search output: ";
	default: return NULL;
	}
}

static void footer(struct ui *u, int H, int W)
{
	move(H - 1, 0);
	clrtoeol();
	const char *p = prompt_of(u);
	if (p) {
		putf(H - 1, 0, W, A_BOLD, "%s%s", p, u->input);
		return;
	}
	size_t run = u->fold.n;
	for (size_t i = 0; i < u->fold.n; i++)
		if (u->fold.steps[i].st == FS_RUNNING)
			run = i;
	if (u->msg[0] && xp_now_ms() - u->msg_ms < 8000)
		put(H - 1, 0, W, u->msg, col(u, C_YELLOW));
	else if (run < u->fold.n && strcmp(u->rb->steps[run].action, "manual") != 0)
		putf(H - 1, 0, W, col(u, C_YELLOW) | A_BOLD, "running %s  -  c cancels it (asks first)  "
		     "n note  d detail  ? keys", u->rb->steps[run].id);
	else
		put(H - 1, 0, W, "Enter act on the step  \u2191\u2193/jk select  d detail  n note  o operator  c cancel  "
				 "/ search  ? keys  q quit", A_DIM);
}

/* ---- the step list ----------------------------------------------------------------------------- */

static void step_row(struct ui *u, size_t i, int y, int w)
{
	const struct fold_step *f = &u->fold.steps[i];
	static const char *const glyph[] = {"\u00b7", "\u25b6", "\u2713", "\u2717", "\u21b7", "!"};
	static const int gc[] = {0, C_YELLOW, C_GREEN, C_RED, C_CYAN, C_MAGENTA};
	char el[32] = "";
	if (f->started) {
		time_t end = f->ended ? wall_time(f->ended) : time(NULL);
		hms(el, sizeof el, (int64_t)(end - wall_time(f->started)) * 1000);
	}
	attr_t a = i == u->sel ? A_REVERSE : A_NORMAL;
	if (f->st == FS_FAILED)
		a |= col(u, C_RED);
	move(y, 0);
	for (int x = 0; x < w; x++)
		addch(' ' | a);
	bool next = u->need_known && u->need != ENG_END && i == u->need_step;
	put(y, 0, 1, next ? ">" : " ", a | A_BOLD);
	put(y, 1, 1, glyph[f->st], a | col(u, gc[f->st]));
	put(y, 3, 12, u->rb->steps[i].id, a | A_BOLD);
	/* the title in the cells left between the id column and the elapsed column */
	put(y, 16, w - 16 - 8, u->rb->steps[i].title ? u->rb->steps[i].title : "", a);
	put(y, w - 7, 7, el, a);
}

static void steps(struct ui *u, int top, int h, int w)
{
	size_t n = u->rb->nsteps;
	size_t first = u->sel >= (size_t)h ? u->sel - (size_t)h + 1 : 0;
	for (int r = 0; r < h; r++) {
		move(top + r, 0);
		for (int x = 0; x < w; x++)
			addch(' ');
		if (first + (size_t)r < n)
			step_row(u, first + (size_t)r, top + r, w);
	}
}

/* ---- the live panes ------------------------------------------------------------------------------ */

static int nodes(struct ui *u, int y, int x, int w)
{
	const struct ui_snapshot *s = u->snap;
	int64_t now = xp_now_ms();
	putf(y++, x, w, A_BOLD | col(u, C_CYAN), "ZooKeeper nodes%s", s ? "" : "  (first probe...)");
	if (s && now - s->at_ms > 6000)
		putf(y - 1, x + 16, w - 16, col(u, C_YELLOW), "stale: probed %llds ago", (long long)(now - s->at_ms) / 1000);
	for (size_t i = 0; s && i < s->nzk; i++) {
		const struct zk_status *z = &s->zk[i].st;
		char age[32], zx[24] = "-";
		hms(age, sizeof age, u->zk_ok_ms[i] ? now - u->zk_ok_ms[i] : 0);
		if (z->s.zxid)
			snprintf(zx, sizeof zx, "%x:%08x", (unsigned)(z->s.zxid >> 32), (unsigned)z->s.zxid);
		enum zk_role r = z->s.role;
		attr_t a = r == ZR_LEADER ? col(u, C_GREEN) | A_BOLD : r == ZR_NOANSWER || r == ZR_DOWN ? col(u, C_RED) | A_BOLD : 0;
		if (r == ZR_NOANSWER)
			putf(y++, x, w, a, "%-6s %-9s %s", s->zk[i].node->name, "no answer",
			     u->zk_ok_ms[i] ? age : "never answered");
		else if (r == ZR_DOWN)
			putf(y++, x, w, a, "%-6s %-9s", s->zk[i].node->name, "down");
		else
			putf(y++, x, w, a, "%-6s %-9s %-12s %5ldz %3ldc %4.0fms", s->zk[i].node->name, zk_role_name(r), zx,
			     z->s.znodes, z->conns, z->avg_latency < 0 ? 0.0 : z->avg_latency);
	}
	return y;
}

static int leaders(struct ui *u, int y, int x, int w)
{
	int64_t now = xp_now_ms();
	for (size_t e = 0; e < u->inv->nensembles && e < UI_MAX_ENS; e++) {
		char since[32];
		hms(since, sizeof since, now - u->leader_since[e]);
		bool flash = u->leader_flash[e] && now - u->leader_flash[e] < 10000;
		attr_t a = flash ? col(u, C_YELLOW) | A_BOLD | A_REVERSE : u->leader[e][0] ? 0 : col(u, C_RED);
		putf(y++, x, w, a, "leader %-4s %-8s for %s%s", u->inv->ensembles[e].name,
		     u->leader[e][0] ? u->leader[e] : "none", since,
		     !flash ? "" : u->leader[e][0] ? "  NEW LEADER" : "  NO LEADER");
	}
	return y;
}

static int clickhouse(struct ui *u, int y, int x, int w)
{
	const struct ui_snapshot *s = u->snap;
	static const char *const st[] = {"no answer", "down", "up", "unknown"};
	for (size_t i = 0; s && i < s->live.nck; i++) {
		enum live_up v = s->live.ck[i].st;
		long long ro = s->ck_ro ? s->ck_ro[i] : -1;
		char ros[32] = "";
		if (ro >= 0)
			snprintf(ros, sizeof ros, "  %lld read-only", ro);
		putf(y++, x, w, v == LIVE_UP && ro <= 0 ? 0 : col(u, C_RED), "%-6s %-9s metrika.xml -> %s%s",
		     s->live.ck[i].node->name, st[v], s->ck_file[i][0] ? s->ck_file[i] : "?", ros);
	}
	return y;
}

static int writers(struct ui *u, int y, int x, int w)
{
	const struct ui_snapshot *s = u->snap;
	int cx = x;
	if (s && s->live.ntasks)
		put(y, cx, w, "writers", A_BOLD | col(u, C_CYAN)), cx += 8;
	for (size_t i = 0; s && i < s->live.ntasks; i++) {
		enum live_up v = s->live.tasks[i].st;
		char cell[64];
		snprintf(cell, sizeof cell, "%s %s ", s->live.tasks[i].task->id,
			 v == LIVE_UP ? "run" : v == LIVE_DOWN ? "stop" : v == LIVE_NOANSWER ? "?hung" : "?");
		int cw = ui_width(cell);
		if (cx + cw > x + w)
			y++, cx = x + 8;
		put(y, cx, cw, cell, v == LIVE_UP ? col(u, C_GREEN) : v == LIVE_DOWN ? 0 : col(u, C_RED));
		cx += cw;
	}
	return s && s->live.ntasks ? y + 1 : y;
}

static int copies(struct ui *u, int y, int x, int w, int maxy)
{
	for (size_t i = 0; i < u->nprog && y < maxy; i++) {
		const struct ui_prog *g = &u->prog[i];
		double secs = (double)(g->last_ms - g->first_ms) / 1000.0;
		double rate = secs > 0.2 ? (double)(g->done - g->first_done) / secs : 0;
		char eta[32] = "-";
		if (rate > 0 && g->total > g->done)
			hms(eta, sizeof eta, (int64_t)((double)(g->total - g->done) / rate * 1000));
		int bar = w > 60 ? 20 : 10;
		int fill = g->total ? (int)((double)g->done / (double)g->total * bar) : 0;
		char b[64];
		for (int k = 0; k < bar; k++)
			b[k] = k < fill ? '#' : '.';
		b[bar] = '\0';
		putf(y++, x, w, g->done >= g->total ? col(u, C_GREEN) : 0, "%-6s [%s] %5.1f/%.1f MiB %5.1f MiB/s eta %s %s",
		     g->target, b, (double)g->done / 1048576, (double)g->total / 1048576, rate / 1048576, eta, g->what);
	}
	return y;
}

static bool matches(const struct ui *u, const char *text)
{
	return u->search[0] && strstr(text, u->search);
}

static void output(struct ui *u, int top, int h, int x, int w)
{
	const char *id = u->rb->steps[u->sel].id;
	char head[256];
	snprintf(head, sizeof head, "output of %s%s%s", id, u->scroll ? " (scrolled; PgDn returns)" : "",
		 u->search[0] ? "  search: " : "");
	put(top, x, w, head, A_BOLD | col(u, C_CYAN));
	int used = ui_width(head); /* display cells: a Chinese step id is two per character */
	if (u->search[0] && used < w)
		put(top, x + used, w - used, u->search, A_BOLD);
	size_t idx[512], n = 0;
	for (size_t i = u->nout; i-- > 0 && n < 512;)
		if (strcmp(u->out[i].step, id) == 0)
			idx[n++] = i;
	size_t skip = (size_t)u->scroll < n ? (size_t)u->scroll : n;
	size_t shown = n - skip < (size_t)(h - 1) ? n - skip : (size_t)(h - 1);
	for (size_t r = 0; r < shown; r++) { /* oldest shown at the top, newest last */
		const struct ui_out *o = &u->out[idx[skip + shown - 1 - r]];
		putf(top + 1 + (int)r, x, w, matches(u, o->text) ? A_REVERSE : 0, "%s> %s", o->target, o->text);
	}
}

/* ---- the detail view and the dialog --------------------------------------------------------------- */

static int text_block(int y, int x, int w, int maxy, const char *text, attr_t a)
{
	for (const char *s = text; s && *s && y < maxy;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char line[1024];
		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), s);
		put(y++, x, w, line, a);
		s = nl ? nl + 1 : s + n;
	}
	return y;
}

static void detail(struct ui *u, int top, int h, int x, int w)
{
	const struct rb_step *s = &u->rb->steps[u->sel];
	const struct fold_step *f = &u->fold.steps[u->sel];
	int y = top, maxy = top + h;
	putf(y++, x, w, A_BOLD | col(u, C_CYAN), "%s  %s", s->id, s->title ? s->title : "");
	y = text_block(y, x, w, maxy, s->description, 0);
	y = text_block(y, x, w, maxy, u->plan_text ? u->plan_text[u->sel] : NULL, A_DIM);
	if (y < maxy)
		putf(y++, x, w, A_BOLD, "history: %s, %d attempt(s)%s%s%s%s", fold_state_name(f->st), f->attempts,
		     f->confirmed_by[0] ? ", confirmed by " : "", f->confirmed_by[0] ? f->confirmed_by[0] : "",
		     f->confirmed_by[1] ? " and " : "", f->confirmed_by[1] ? f->confirmed_by[1] : "");
	if (y < maxy && f->error)
		putf(y++, x, w, col(u, C_RED), "error: %s", f->error);
	if (y < maxy && f->reason)
		putf(y++, x, w, 0, "reason: %s", f->reason);
}

static void frame(int y, int x, int h, int w)
{
	for (int r = 0; r < h; r++) {
		move(y + r, x);
		for (int c = 0; c < w; c++)
			addch(' ');
	}
	mvhline(y, x, ACS_HLINE, w);
	mvhline(y + h - 1, x, ACS_HLINE, w);
	mvvline(y, x, ACS_VLINE, h);
	mvvline(y, x + w - 1, ACS_VLINE, h);
	mvaddch(y, x, ACS_ULCORNER);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
}

static void dialog(struct ui *u, int H, int W)
{
	int w = W - 4 < 110 ? W - 4 : 110, h = H - 4, x = (W - w) / 2, y = 2;
	const struct rb_step *s = &u->rb->steps[u->act_step];
	frame(y, x, h, w);
	if (u->msg[0] && xp_now_ms() - u->msg_ms < 8000) /* why the last answer was refused */
		put(y + h - 2, x + 2, w - 4, u->msg, col(u, C_YELLOW) | A_BOLD);
	int r = y + 1, maxy = y + h - 3;
	if (u->mode == UI_DECIDE || u->mode == UI_MANUAL || (u->mode == UI_REASON && u->choice[0])) {
		const struct fold_step *f = &u->fold.steps[u->act_step];
		putf(r++, x + 2, w - 4, A_BOLD | col(u, C_RED), "%s  %s: %s", s->id, fold_state_name(f->st),
		     f->error ? f->error : u->mode == UI_MANUAL ? "a step done by hand" : "");
		r = text_block(r, x + 2, w - 4, maxy, s->description, 0);
		if (u->mode == UI_DECIDE)
			r = text_block(r + 1, x + 2, w - 4, maxy, u->need == ENG_INTERRUPTED
				? "rerun: run it again  done: it finished (say why)  rollback: start the rollback runbook  abort: end the run"
				: "retry: run it again  skip: go on without it (say why)  rollback: start the rollback runbook  abort: end the run", A_DIM);
		return;
	}
	putf(r++, x + 2, w - 4, A_BOLD, "confirm %s  %s%s", s->id, s->title ? s->title : "",
	     u->two ? "   (two operators)" : "");
	char warn[256];
	if (!u->preparing && policy_alone_warning(&u->need_info, u->pres.n, warn, sizeof warn))
		put(r++, x + 2, w - 4, warn, col(u, C_YELLOW) | A_BOLD);
	r = text_block(r, x + 2, w - 4, maxy, s->description, 0);
	r = text_block(r, x + 2, w - 4, maxy, u->plan_text ? u->plan_text[u->act_step] : NULL, A_DIM);
	r = text_block(r, x + 2, w - 4, maxy, u->preparing ? "probing the site and judging the gates..." : u->prepared,
		       u->failing ? col(u, C_RED) : col(u, C_GREEN));
	(void)r;
}

static void help(int H, int W)
{
	static const char *const keys =
		"Enter      act on the step the run needs: confirm it, decide after a failure, say a manual step is done\n"
		"           (a dialog: nothing runs until you type the step id, or yes for a step marked simple)\n"
		"Up/Down j/k select a step        PgUp/PgDn  scroll its output        /  search the output\n"
		"d          the selected step's guidance, plan and history\n"
		"n          a note in the audit, under the name of who is at the keyboard\n"
		"o          who is at the keyboard (in tmux with one user per engineer it follows the typing client)\n"
		"c          cancel the running step (asks first)\n"
		"q          leave; a step in flight is canceled first and the run stays resumable (cutover resume)\n"
		"Esc        close a dialog without sending anything\n"
		"?          this list; any key closes it";
	int w = W - 4 < 110 ? W - 4 : 110, h = 14 < H - 2 ? 14 : H - 2, x = (W - w) / 2;
	frame(1, x, h, w);
	text_block(2, x + 2, w - 4, h, keys, 0);
}

void ui_draw(struct ui *u)
{
	int H, W;
	getmaxyx(stdscr, H, W);
	erase();
	if (H < 12 || W < 50 || u->rb == NULL) {
		putf(0, 0, W, A_BOLD, "cutover: %s", u->rb ? "the window is too small (80x24 or more)" : "loading...");
		refresh();
		return;
	}
	header(u, W);
	int L = W >= 120 ? 52 : W * 2 / 5, R = W - L - 1, x = L + 1, body = H - 2;
	steps(u, 1, body, L);
	mvvline(1, L, ACS_VLINE, body);
	if (u->detail) {
		detail(u, 1, body, x, R);
	} else {
		int y = nodes(u, 1, x, R);
		y = leaders(u, y, x, R);
		y = clickhouse(u, y, x, R);
		y = writers(u, y, x, R);
		y = copies(u, y, x, R, 1 + body - 4);
		if (1 + body - y >= 3)
			output(u, y, 1 + body - y, x, R);
	}
	footer(u, H, W);
	if (u->mode == UI_CONFIRM || u->mode == UI_SECOND || (u->mode == UI_REASON) || u->mode == UI_DECIDE ||
	    u->mode == UI_MANUAL)
		dialog(u, H, W);
	if (u->mode == UI_HELP)
		help(H, W);
	refresh();
}
