/*
 * action: the built-in step verbs. Each verb is one const table entry: which
 * targets it accepts, which params it knows and needs, and how it describes,
 * per target, exactly what it will do (for `cutover plan` and the confirmation
 * dialog). Execution hooks join the same table as the execution core lands.
 */
#ifndef CUTOVER_ACTION_H
#define CUTOVER_ACTION_H

#include <stdbool.h>

#include "cutover/runbook.h"
#include "cutover/subst.h"
#include "cutover/target.h"

/* Lines of a plan: one target's operations, appended by describe(). */
struct plan_lines {
	struct arena *arena;
	const char **v;
	size_t n, cap;
};

void plan_add(struct plan_lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct action_ops {
	const char *name;
	unsigned kinds;              /* TGT_* accepted as targets; 0 = takes none */
	const char *const *params;   /* known params, NULL-terminated */
	const char *const *required; /* required params, NULL-terminated */
	bool destructive;            /* changes data: lint asks for confirm: two */
	const char *summary;
	/* Describe the work on one target (sc names it); NULL target for kinds == 0. */
	void (*describe)(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc);
	/* Once per step, before the targets: ordering and scope notes. */
	void (*header)(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv);
};

const struct action_ops *action_find(const char *name);
/* The whole table, for help texts and "known actions" messages. */
const struct action_ops *action_table(size_t *n);

#endif
