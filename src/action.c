/*
 * action: the table of built-in verbs (see include/cutover/action.h) and what
 * their plan descriptions share. Each verb lives in one file with its
 * description, preview, gates and run hooks together; src/actions.def lists
 * them. A description must say exactly what will run where: it is what the
 * operators confirm.
 */
#include "cutover/action.h"

#include "act_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_add(struct plan_lines *l, const char *fmt, ...)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **v = arena_alloc(l->arena, cap * sizeof *v);
		if (v == NULL)
			return;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof *v);
		l->v = v;
		l->cap = cap;
	}
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	const char *s = arena_strdup(l->arena, buf);
	if (s != NULL)
		l->v[l->n++] = s;
}

const char *act_show(struct plan_lines *l, const char *tmpl, const struct subst_scope *sc, int mode)
{
	struct cut_err e;
	if (tmpl == NULL)
		return "(not set in the inventory)";
	const char *s = subst(l->arena, tmpl, sc, mode | SUBST_DISPLAY, &e);
	return s ? s : arena_printf(l->arena, "<unresolved: %s>", e.msg);
}

const char *act_param_text(const struct rb_step *s, const char *key, const char *dfl)
{
	const struct rb_param *p = rb_param(s, key);
	return p && p->value ? p->value : dfl;
}

/* ---- the table: every verb, each defined in its own file (src/actions.def) -------------- */

#define ACTION(sym) extern const struct action_ops sym;
#include "actions.def"
#undef ACTION

static const struct action_ops *const actions[] = {
#define ACTION(sym) &sym,
#include "actions.def"
#undef ACTION
};

#define NACTIONS (sizeof actions / sizeof actions[0])

const struct action_ops *action_find(const char *name)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (strcmp(actions[i]->name, name) == 0)
			return actions[i];
	return NULL;
}

const struct action_ops *action_at(size_t i)
{
	return i < NACTIONS ? actions[i] : NULL;
}
