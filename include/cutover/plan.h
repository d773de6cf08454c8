/*
 * plan: a runbook resolved against an inventory, without connecting anywhere:
 * each step's concrete targets in execution order and, per target, exactly the
 * commands and file operations it will perform. `cutover plan` prints it; lint
 * uses it to find unresolvable variables; the console shows a step's part of it
 * in the confirmation dialog, and its SHA-256 goes into the confirmation event.
 */
#ifndef CUTOVER_PLAN_H
#define CUTOVER_PLAN_H

#include <stdio.h>

#include "cutover/action.h"
#include "cutover/inventory.h"
#include "cutover/runbook.h"

struct plan_target {
	const char *name, *host;
	const char *role; /* "if leader", "if follower", or NULL */
	struct plan_lines lines;
};

struct plan_step {
	const struct rb_step *step;
	const struct action_ops *ops; /* NULL for an unknown action */
	const char *ck_on;            /* the ensemble ClickHouse points at when the step starts */
	bool past_pnr;                /* at or after the point of no return */
	struct plan_lines notes;
	struct plan_target *t;
	size_t nt;
};

struct plan {
	struct arena *arena;
	const struct runbook *rb;
	const struct inventory *inv;
	struct plan_step *steps;
	size_t n;
};

/* NULL only when out of memory; selector problems are left to lint. */
struct plan *plan_build(const struct runbook *rb, const struct inventory *inv);
void plan_free(struct plan *p);
void plan_print_text(const struct plan *p, FILE *out);
int plan_print_json(const struct plan *p, FILE *out);
/* One step as plan_print_text shows it: what the confirmation dialog shows and hashes. */
void plan_print_step(const struct plan *p, size_t i, FILE *out);

#endif
