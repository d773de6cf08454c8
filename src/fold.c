/*
 * fold: events to state (see include/cutover/fold.h). Unknown kinds and steps
 * are ignored, so an older cutover can still replay a newer file's runs.
 */
#include "cutover/fold.h"

#include <jansson.h>
#include <string.h>

int fold_init(struct fold *f, const struct runbook *rb)
{
	memset(f, 0, sizeof *f);
	f->rb = rb;
	f->arena = arena_new();
	f->n = rb->nsteps;
	f->steps = f->arena ? arena_alloc(f->arena, (f->n ? f->n : 1) * sizeof *f->steps) : NULL;
	if (f->steps == NULL) {
		arena_free(f->arena);
		return CUT_ENOMEM;
	}
	memset(f->steps, 0, (f->n ? f->n : 1) * sizeof *f->steps);
	return CUT_OK;
}

void fold_free(struct fold *f)
{
	arena_free(f->arena);
	memset(f, 0, sizeof *f);
}

const char *fold_state_name(enum fold_step_state st)
{
	static const char *const names[] = {"pending", "running", "succeeded", "failed", "skipped", "interrupted"};
	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

size_t fold_current(const struct fold *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->steps[i].st != FS_SUCCEEDED && f->steps[i].st != FS_SKIPPED)
			return i;
	return f->n;
}

static const char *dup(struct fold *f, const char *s)
{
	return s ? arena_strdup(f->arena, s) : NULL;
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static struct fold_target *target(struct fold *f, struct fold_step *s, const char *name)
{
	for (size_t i = 0; i < s->nt; i++)
		if (strcmp(s->t[i].name, name) == 0)
			return &s->t[i];
	if (s->nt == s->tcap) {
		size_t cap = s->tcap ? s->tcap * 2 : 4;
		struct fold_target *t = arena_alloc(f->arena, cap * sizeof *t);
		if (t == NULL)
			return NULL;
		if (s->nt)
			memcpy(t, s->t, s->nt * sizeof *t);
		s->t = t, s->tcap = cap;
	}
	struct fold_target *t = &s->t[s->nt++];
	memset(t, 0, sizeof *t);
	t->name = dup(f, name);
	t->exit_status = -1;
	return t;
}

static void on_target(struct fold *f, struct fold_step *s, const struct audit_event *ev, json_t *p)
{
	if (ev->target == NULL)
		return;
	struct fold_target *t = target(f, s, ev->target);
	if (t == NULL)
		return;
	if (strcmp(ev->kind, "intent") == 0) {
		t->st = FT_RUNNING;
	} else if (strcmp(ev->kind, "output") == 0) {
		size_t n = strlen(jstr(p, "text") ? jstr(p, "text") : "");
		t->out_bytes += n;
		s->out_bytes += n;
	} else if (strcmp(ev->kind, "target_end") == 0) {
		t->st = json_is_true(json_object_get(p, "ok")) ? FT_OK : FT_FAILED;
		json_t *x = json_object_get(p, "exit");
		t->exit_status = json_is_integer(x) ? (int)json_integer_value(x) : -1;
		t->error = dup(f, jstr(p, "error"));
	}
}

static void on_decision(struct fold *f, struct fold_step *s, const struct audit_event *ev, json_t *p)
{
	const char *c = jstr(p, "choice");
	if (c == NULL)
		return;
	s->reason = dup(f, jstr(p, "reason"));
	if (strcmp(c, "retry") == 0 || strcmp(c, "rerun") == 0) {
		s->st = FS_PENDING;
		s->confirmed = false;
	} else if (strcmp(c, "skip") == 0) {
		s->st = FS_SKIPPED;
	} else if (strcmp(c, "done") == 0) {
		s->st = FS_SUCCEEDED;
		s->marked_done = true;
	}
	(void)ev;
}

static void on_step(struct fold *f, struct fold_step *s, const struct audit_event *ev, json_t *p)
{
	const char *k = ev->kind;
	if (strcmp(k, "confirm") == 0) {
		s->confirmed = true;
		json_t *ops = json_object_get(p, "operators");
		for (size_t i = 0; i < 2; i++)
			s->confirmed_by[i] = dup(f, json_string_value(json_array_get(ops, i)));
	} else if (strcmp(k, "step_start") == 0) {
		s->st = FS_RUNNING;
		s->confirmed = false;
		s->attempts++;
		s->started = dup(f, ev->wall);
		s->ended = s->error = NULL;
		s->nt = 0;
	} else if (strcmp(k, "step_end") == 0) {
		s->st = json_is_true(json_object_get(p, "ok")) ? FS_SUCCEEDED : FS_FAILED;
		s->ended = dup(f, ev->wall);
		s->error = dup(f, jstr(p, "error"));
	} else if (strcmp(k, "interrupted") == 0) {
		s->st = FS_INTERRUPTED;
		for (size_t i = 0; i < s->nt; i++)
			if (s->t[i].st == FT_RUNNING)
				s->t[i].st = FT_INTERRUPTED;
	} else if (strcmp(k, "decision") == 0) {
		on_decision(f, s, ev, p);
	} else {
		on_target(f, s, ev, p);
	}
}

const char *fold_fact(const struct fold *f, const char *key)
{
	for (size_t i = f->nfacts; i-- > 0;)
		if (strcmp(f->facts[i].key, key) == 0)
			return f->facts[i].value;
	return NULL;
}

static void add_fact(struct fold *f, json_t *p)
{
	const char *k = jstr(p, "key"), *v = jstr(p, "value");
	if (k == NULL || v == NULL)
		return;
	if (f->nfacts == f->factcap) {
		size_t cap = f->factcap ? f->factcap * 2 : 8;
		struct fold_fact *n = arena_alloc(f->arena, cap * sizeof *n);
		if (n == NULL)
			return;
		if (f->nfacts)
			memcpy(n, f->facts, f->nfacts * sizeof *n);
		f->facts = n, f->factcap = cap;
	}
	f->facts[f->nfacts++] = (struct fold_fact){dup(f, k), dup(f, v)};
}

void fold_apply(struct fold *f, const struct audit_event *ev)
{
	f->events++;
	f->last_seq = ev->seq;
	if (f->run == 0)
		f->run = ev->run;
	json_t *p = ev->payload ? json_loads(ev->payload, 0, NULL) : NULL;
	const char *k = ev->kind;
	if (strcmp(k, "run_start") == 0) {
		f->started = dup(f, ev->wall);
		f->operators = dup(f, ev->operator);
	} else if (strcmp(k, "run_end") == 0) {
		f->outcome = dup(f, jstr(p, "outcome"));
	} else if (strcmp(k, "note") == 0) {
		f->notes++;
	} else if (strcmp(k, "fact") == 0) {
		add_fact(f, p);
	} else if (strcmp(k, "status") == 0) {
		f->last_status = dup(f, ev->payload);
	} else if (strcmp(k, "decision") == 0 && p && jstr(p, "choice") &&
		   strcmp(jstr(p, "choice"), "abort") == 0) {
		f->outcome = "aborted";
	} else if (ev->step != NULL) {
		const struct rb_step *rs = rb_find_step(f->rb, ev->step);
		if (rs != NULL)
			on_step(f, &f->steps[rs - f->rb->steps], ev, p);
	}
	json_decref(p);
}
