/*
 * engine_act: what an action may do on its target (include/cutover/action.h):
 * run commands and move files through the target's transport, with output
 * batched into audit events (64 KiB or 250 ms, whichever first), secrets
 * masked, the step's deadline and the operator's cancel honoured.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"

#define FLUSH_BYTES (64 * 1024)
#define FLUSH_MS 250

struct obuf {
	struct act_run *r;
	char *buf[2];
	size_t len[2], cap[2];
	char *carry[2]; /* the unwritten part of a line still coming in pieces */
	size_t clen[2];
	int64_t first[2];
	bool any;
};

static const char *const stream_name[] = {"stdout", "stderr"};

static void ob_flush(struct obuf *o, int i)
{
	if (o->len[i] == 0)
		return;
	struct act_run *r = o->r;
	if (eng_emit(r->e, r->s->id, r->t->name, NULL, "output",
		     json_pack("{s:s, s:s%}", "stream", stream_name[i], "text", o->buf[i], o->len[i]), NULL) != CUT_OK)
		r->lost++;
	o->len[i] = 0;
	if (!o->any) {
		o->any = true;
		eng_crash_point(r->e, "mid-output", r->s->id);
	}
}

/* A NUL a command wrote would end the C string there, and the rest of the
 * line with it: each is stored as U+2400 (the symbol for null) instead. */
static size_t nuls(const char *line, size_t len)
{
	size_t k = 0;
	for (const char *p = line; (p = memchr(p, '\0', len - (size_t)(p - line))) != NULL; p++)
		k++;
	return k;
}

static void ob_add(struct obuf *o, int i, const char *line, size_t len)
{
	size_t zeros = nuls(line, len);
	len += 2 * zeros; /* each NUL becomes three bytes */
	if (o->len[i] + len + 2 > o->cap[i]) {
		size_t cap = o->cap[i] ? o->cap[i] : 4096;
		while (cap < o->len[i] + len + 2)
			cap *= 2;
		char *b = realloc(o->buf[i], cap);
		if (b == NULL) {
			o->r->lost++;
			return;
		}
		o->buf[i] = b, o->cap[i] = cap;
	}
	if (o->len[i] == 0)
		o->first[i] = xp_now_ms();
	char *at = o->buf[i] + o->len[i];
	if (zeros == 0) {
		memcpy(at, line, len);
	} else {
		for (size_t k = 0, w = 0; w < len; k++) {
			if (line[k] == '\0')
				memcpy(at + w, "\xe2\x90\x80", 3), w += 3;
			else
				at[w++] = line[k];
		}
	}
	at[len] = '\0';
	eng_redact(o->r->e, at); /* secrets never reach the audit or the screen */
	size_t n = strlen(at);
	at[n] = '\n';
	at[n + 1] = '\0';
	o->len[i] += n + 1;
	if (o->len[i] >= FLUSH_BYTES)
		ob_flush(o, i);
}

/* A line over 64 KiB comes in pieces (more is set on all but the last). A
 * secret the boundary cuts in two would be masked in neither half, so each
 * piece joins what was held back of the one before, and only what cannot be
 * the start of a secret still to come is written. */
static void ob_piece(struct obuf *o, int i, const char *line, size_t len, bool more)
{
	if (!more && o->clen[i] == 0) {
		ob_add(o, i, line, len);
		return;
	}
	char *c = realloc(o->carry[i], o->clen[i] + len + 1);
	if (c == NULL) {
		o->r->lost++;
		return;
	}
	memcpy(c + o->clen[i], line, len);
	o->carry[i] = c;
	o->clen[i] += len;
	size_t cut = more ? eng_redact_cut(o->r->e, c, o->clen[i]) : o->clen[i];
	if (cut > 0)
		ob_add(o, i, c, cut);
	memmove(c, c + cut, o->clen[i] - cut);
	o->clen[i] -= cut;
}

static void ob_line(void *ud, enum xp_stream s, const char *line, size_t len, bool more)
{
	ob_piece(ud, s == XP_STDERR, line, len, more);
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
	for (int i = 0; i < 2; i++) { /* a stream cut off mid-line: what was held back */
		if (o->clen[i])
			ob_add(o, i, o->carry[i], o->clen[i]);
		free(o->carry[i]);
	}
	ob_flush(o, 0);
	ob_flush(o, 1);
	free(o->buf[0]);
	free(o->buf[1]);
}

const struct rb_step *act_step(const struct act_run *r) { return r->s; }
const struct subst_scope *act_scope(const struct act_run *r) { return &r->t->sc; }
struct arena *act_arena(struct act_run *r) { return r->arena; }

const char *act_param(struct act_run *r, const char *key, const char *dfl, int mode, struct cut_err *err)
{
	const struct rb_param *p = rb_param(r->s, key);
	const char *tmpl = p && p->value ? p->value : dfl;
	return tmpl ? subst(r->arena, tmpl, &r->t->sc, mode, err) : NULL;
}

static int left_ms(struct act_run *r, struct cut_err *err)
{
	int64_t left = r->deadline - xp_now_ms();
	if (left <= 0)
		return -cut_fail(err, CUT_ETIMEOUT, "the step's timeout ran out");
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static int transport(struct act_run *r, struct cut_err *err)
{
	if (r->x != NULL)
		return CUT_OK;
	return xp_get(r->e->pool, r->t->host, r->t->ssh, &r->t->sc, &r->x, err);
}

void eng_act_release(struct act_run *r, int rc)
{
	xp_put(r->e->pool, r->x, rc);
	r->x = NULL;
}

int act_exec(struct act_run *r, const char *cmd, int *status, struct cut_err *err)
{
	int left = left_ms(r, err), rc;
	*status = r->exit_status = -1;
	if (left < 0)
		return -left;
	if ((rc = transport(r, err)) != CUT_OK)
		return rc;
	struct obuf ob = {.r = r};
	struct xp_exec req = {.cmd = cmd, .timeout_ms = left, .on_line = ob_line, .tick = ob_tick, .ud = &ob,
			      .cancel = r->cancel};
	rc = xp_exec(r->x, &req, err);
	ob_done(&ob);
	if (rc != CUT_OK)
		eng_act_release(r, rc); /* a timed-out session is not reused */
	/* Output the audit could not keep makes the step fail: nothing is lost silently. */
	if (rc == CUT_OK && r->lost)
		rc = cut_fail(err, CUT_EIO, "%d output batch(es) could not be written to the audit", r->lost);
	*status = r->exit_status = req.exit_status;
	return rc;
}

struct membuf {
	const char *data;
	size_t len, off;
};

static ssize_t mem_src(void *ud, char *buf, size_t cap)
{
	struct membuf *m = ud;
	size_t n = m->len - m->off < cap ? m->len - m->off : cap;
	memcpy(buf, m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

int act_write_file(struct act_run *r, const char *path, const char *data, size_t len, struct cut_err *err)
{
	struct membuf m = {.data = data, .len = len};
	return act_stream_write(r, path, mem_src, &m, err);
}

int act_read_file(struct act_run *r, const char *path, size_t max, char **out, size_t *len, struct cut_err *err)
{
	int left = left_ms(r, err), rc;
	*out = NULL, *len = 0;
	if (left < 0)
		return -left;
	if ((rc = transport(r, err)) != CUT_OK)
		return rc;
	rc = xp_read_all(r->x, path, max, left, r->cancel, out, len, err);
	if (rc != CUT_OK && rc != CUT_EREMOTE && rc != CUT_EINVAL)
		eng_act_release(r, rc);
	return rc;
}

void act_say(struct act_run *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = strlen(buf);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	eng_emit(r->e, r->s->id, r->t->name, NULL, "output",
		 json_pack("{s:s, s:s}", "stream", "cutover", "text", buf), NULL);
}

int act_sleep(struct act_run *r, int ms, struct cut_err *err)
{
	int64_t until = xp_now_ms() + ms;
	while (xp_now_ms() < until) {
		if (atomic_load(r->cancel))
			return cut_fail(err, CUT_ECANCELED, "canceled by the operator");
		if (xp_now_ms() >= r->deadline)
			return cut_fail(err, CUT_ETIMEOUT, "the step's timeout ran out");
		usleep(50 * 1000);
	}
	return CUT_OK;
}

const char *act_ck_on(const struct act_run *r)
{
	size_t i = (size_t)(r->s - r->e->rb->steps);
	return i < r->e->plan->n ? r->e->plan->steps[i].ck_on : NULL;
}

bool act_last_target(const struct act_run *r)
{
	return r->state && r->state->last;
}

bool act_in_rollback(const struct act_run *r)
{
	return r->e->rb->kind && strcmp(r->e->rb->kind, "rollback") == 0;
}

int act_stream_read(struct act_run *r, const char *path, void (*sink)(void *ud, const char *buf, size_t len), void *ud,
		    struct cut_err *err)
{
	int left = left_ms(r, err), rc;
	if (left < 0)
		return -left;
	if ((rc = transport(r, err)) != CUT_OK)
		return rc;
	rc = xp_read_file(r->x, path, sink, ud, left, r->cancel, err);
	if (rc != CUT_OK && rc != CUT_EREMOTE)
		eng_act_release(r, rc);
	return rc;
}

int act_stream_write(struct act_run *r, const char *path, ssize_t (*src)(void *ud, char *buf, size_t cap), void *ud,
		     struct cut_err *err)
{
	int left = left_ms(r, err), rc;
	if (left < 0)
		return -left;
	if ((rc = transport(r, err)) != CUT_OK)
		return rc;
	rc = xp_write_file(r->x, path, src, ud, left, r->cancel, err);
	if (rc != CUT_OK && rc != CUT_EREMOTE)
		eng_act_release(r, rc);
	return rc;
}

struct act_run *act_open_other(struct act_run *r, const char *name, const char *host, const struct inv_ssh *ssh,
			       const struct subst_scope *sc)
{
	struct tgt *t = arena_alloc(r->arena, sizeof *t);
	struct act_run *o = arena_alloc(r->arena, sizeof *o);
	if (t == NULL || o == NULL)
		return NULL;
	*t = (struct tgt){arena_strdup(r->arena, name), host ? arena_strdup(r->arena, host) : NULL, ssh, *sc};
	*o = *r;
	o->t = t;
	o->x = NULL;
	o->lost = 0;
	return o;
}

bool act_here(const struct act_run *r)
{
	return xp_is_local(r->t->host, r->t->ssh);
}

void act_close_other(struct act_run *o, int rc)
{
	if (o != NULL)
		eng_act_release(o, rc);
}

void *act_step_get(struct act_run *r)
{
	struct step_state *st = r->state;
	pthread_mutex_lock(&st->m);
	while (!st->settled)
		pthread_cond_wait(&st->cv, &st->m);
	void *p = st->p;
	pthread_mutex_unlock(&st->m);
	return p;
}

void act_step_set(struct act_run *r, void *state, void (*free_fn)(void *))
{
	struct step_state *st = r->state;
	pthread_mutex_lock(&st->m);
	st->p = state;
	st->free_fn = free_fn;
	st->settled = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->m);
}

int act_fact_set(struct act_run *r, const char *key, const char *value, struct cut_err *err)
{
	return eng_emit(r->e, r->s->id, r->t->name, NULL, "fact", json_pack("{s:s, s:s}", "key", key, "value", value), err);
}

const char *act_fact_get(struct act_run *r, const char *key)
{
	return fold_fact(&r->e->fold, key);
}

void act_progress(struct act_run *r, const char *what, uint64_t done, uint64_t total)
{
	int64_t now = xp_now_ms();
	if (done != total && now - r->last_progress < 250)
		return;
	r->last_progress = now;
	eng_emit_progress(r->e, r->s->id, r->t->name,
			  json_pack("{s:s, s:I, s:I}", "what", what, "done", (json_int_t)done, "total", (json_int_t)total));
}

struct feed {
	ssize_t (*src)(void *ud, char *buf, size_t cap);
	void *ud;
};

struct capture {
	struct obuf ob;
	char *buf;
	size_t len, max;
	bool over;
	struct feed *feed; /* stdin, for act_feed */
};

static ssize_t feed_in(void *ud, char *buf, size_t cap)
{
	struct feed *f = ((struct capture *)ud)->feed;
	return f->src(f->ud, buf, cap);
}

static void cap_line(void *ud, enum xp_stream s, const char *line, size_t len, bool more)
{
	struct capture *c = ud;
	if (s == XP_STDERR) {
		ob_piece(&c->ob, 1, line, len, more);
		return;
	}
	if (c->len + len + 2 > c->max) {
		c->over = true;
		return;
	}
	char *b = realloc(c->buf, c->len + len + 2);
	if (b == NULL) {
		c->over = true;
		return;
	}
	memcpy(b + c->len, line, len);
	c->len += len;
	if (!more) /* the pieces of a long line join back into it */
		b[c->len++] = '\n';
	b[c->len] = '\0';
	c->buf = b;
}

static void cap_tick(void *ud)
{
	ob_tick(&((struct capture *)ud)->ob);
}

static int capture(struct act_run *r, const char *cmd, ssize_t (*src)(void *ud, char *buf, size_t cap), void *src_ud,
		   int *status, char **out, size_t max, struct cut_err *err)
{
	int left = left_ms(r, err), rc;
	*status = r->exit_status = -1;
	*out = NULL;
	if (left < 0)
		return -left;
	if ((rc = transport(r, err)) != CUT_OK)
		return rc;
	struct capture c = {.ob = {.r = r}, .max = max};
	struct feed f = {src, src_ud};
	struct xp_exec req = {.cmd = cmd, .timeout_ms = left, .on_line = cap_line, .tick = cap_tick, .ud = &c,
			      .cancel = r->cancel, .in = src ? feed_in : NULL};
	c.feed = &f;
	rc = xp_exec(r->x, &req, err);
	ob_done(&c.ob);
	if (rc != CUT_OK)
		eng_act_release(r, rc);
	if (rc == CUT_OK && c.over)
		/* not the command itself: expanded, it may hold a secret, and this message is stored and shown */
		rc = cut_fail(err, CUT_EINVAL, "a command's output is larger than %zu bytes (the step's intent names it)", max);
	if (rc != CUT_OK) {
		free(c.buf);
		return rc;
	}
	*status = r->exit_status = req.exit_status;
	*out = c.buf ? c.buf : calloc(1, 1);
	return CUT_OK;
}

int act_capture(struct act_run *r, const char *cmd, int *status, char **out, size_t max, struct cut_err *err)
{
	return capture(r, cmd, NULL, NULL, status, out, max, err);
}

int act_feed(struct act_run *r, const char *cmd, ssize_t (*src)(void *ud, char *buf, size_t cap), void *ud, int *status,
	     char **out, size_t max, struct cut_err *err)
{
	return capture(r, cmd, src, ud, status, out, max, err);
}
