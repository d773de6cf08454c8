/*
 * runbook: the steps the operators run, loaded from YAML with libyaml.
 *
 * A step names a built-in action (zk.stop, ck.switch, shell, ...), its targets
 * as selectors (old.leader, new.all, ck.all, tasks.all, local, ...), the action's
 * params, its confirmation rule, the gates that must hold when it is confirmed,
 * a timeout and a failure policy. Loaded by the main thread, read-only after.
 */
#ifndef CUTOVER_RUNBOOK_H
#define CUTOVER_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/arena.h"
#include "cutover/diag.h"
#include "cutover/yml.h"

enum rb_fail { RB_FAIL_STOP, RB_FAIL_RETRY, RB_FAIL_ROLLBACK };

struct rb_param {
	const char *key;
	const char *value;   /* a scalar, or NULL for a list */
	struct strlist list; /* a list of scalars */
	struct yml_pos pos;
};

struct rb_step {
	const char *id, *title, *description, *action;
	struct strlist targets;
	struct rb_param *params;
	size_t nparams;
	const char *confirm; /* "one" | "two" */
	bool simple;         /* the console accepts "yes" instead of the step id */
	struct strlist requires;
	int timeout_ms;
	const char *on_failure; /* "stop" | "retry N" | "rollback" */
	enum rb_fail fail;
	int retries;
	struct yml_pos pos, id_pos, action_pos, targets_pos, confirm_pos, fail_pos, params_pos;
};

struct runbook {
	struct arena *arena;
	const char *file;
	const char *name, *title, *description;
	const char *kind;              /* migration | rollback | install */
	const char *rollback;          /* path of the rollback runbook, relative to this file */
	const char *clickhouse_starts_on; /* ensemble ClickHouse uses when the run starts */
	int budget_ms;                 /* a rollback's time budget (the seed: 10 minutes) */
	const char *point_of_no_return; /* the first step after which a rollback carries new writes back */
	struct rb_step *steps;
	size_t nsteps;
	struct yml_pos rollback_pos, pnr_pos, starts_pos;
};

/* NULL only when out of memory; problems go to d (check d->errors). */
struct runbook *rb_load(const char *file, const char *buf, size_t len, struct diag_list *d);
struct runbook *rb_load_file(const char *file, struct diag_list *d);
void rb_free(struct runbook *rb);

const struct rb_param *rb_param(const struct rb_step *s, const char *key);
const struct rb_step *rb_find_step(const struct runbook *rb, const char *id);
/* Index of the point of no return, or nsteps when the runbook has none. */
size_t rb_pnr_index(const struct runbook *rb);

#endif
