/*
 * action: the built-in step verbs. Each verb is one const struct action_ops,
 * defined in the verb's own file: which targets it accepts, which params it
 * knows and needs, how it describes per target exactly what it will do (for
 * `cutover plan` and the confirmation dialog), what it previews, and the hooks
 * that do the work. src/actions.def lists them.
 */
#ifndef CUTOVER_ACTION_H
#define CUTOVER_ACTION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

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

struct act_run;

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
	/* Do the work on one target (the engine has written its intent); NULL:
	 * not runnable yet in this version. */
	int (*run)(struct act_run *r, struct cut_err *err);
	/* ZooKeeper targets run followers first and the leader last (probed at step start). */
	bool leader_last;
	/* Every target at once, each on its own thread (a copy's destinations).
	 * begin, when set, runs once beside them (after every intent is durable,
	 * on its own thread, arena and connection, with the first target's
	 * scope) and shares its work through act_step_set; a target's
	 * act_step_get waits until it has. Whatever it shares then changes
	 * under the targets' eyes: it brings its own lock. */
	bool parallel;
	int (*begin)(struct act_run *r, struct cut_err *err);
	/* What the step would change on this target, read live when the step is
	 * prepared and shown before confirmation (ck.switch: the file's diff).
	 * Read-only; it writes no event. */
	int (*preview)(struct act_run *r, struct plan_lines *out, struct cut_err *err);
};

/*
 * The engine's side, for run(): one target of one step. Output and notes go
 * to the audit as they come; every call honours the step's deadline and the
 * operator's cancel. Called on the step's thread only.
 */
const struct rb_step *act_step(const struct act_run *r);
const struct subst_scope *act_scope(const struct act_run *r);
struct arena *act_arena(struct act_run *r); /* freed after the target */
/* A param with ${...} expanded for this target (mode: SUBST_SHELL or SUBST_PATH). */
const char *act_param(struct act_run *r, const char *key, const char *dfl, int mode, struct cut_err *err);
int act_exec(struct act_run *r, const char *cmd, int *exit_status, struct cut_err *err);
/* Run a command and keep its stdout (at most max bytes, malloc'd); stderr goes to the audit. */
int act_capture(struct act_run *r, const char *cmd, int *exit_status, char **out, size_t max, struct cut_err *err);
/* Replace a file on the target (temporary name, sync, rename). */
int act_write_file(struct act_run *r, const char *path, const char *data, size_t len, struct cut_err *err);
/* A whole file from the target, at most max bytes (malloc'd, NUL-terminated). */
int act_read_file(struct act_run *r, const char *path, size_t max, char **out, size_t *len, struct cut_err *err);
/* A line of the action's own in the step's output. */
void act_say(struct act_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is this the step's last target? (Targets run one after another; false for parallel ones.) */
bool act_last_target(const struct act_run *r);
/* The ensemble ClickHouse points at when this step starts, and whether the runbook is a rollback. */
const char *act_ck_on(const struct act_run *r);
bool act_in_rollback(const struct act_run *r);
/* The target is this machine (host local, or ssh.local): its paths can be opened here. */
bool act_here(const struct act_run *r);
/* Stream a file of any size out of / into the target; the callbacks see every byte. */
int act_stream_read(struct act_run *r, const char *path, void (*sink)(void *ud, const char *buf, size_t len), void *ud,
		    struct cut_err *err);
int act_stream_write(struct act_run *r, const char *path, ssize_t (*src)(void *ud, char *buf, size_t cap), void *ud,
		     struct cut_err *err);
/* cmd with src as its stdin (XP_IN_AGAIN while src has nothing yet), its stdout captured as by
 * act_capture. When src fails the command is killed: it never sees a cut stream end cleanly. */
int act_feed(struct act_run *r, const char *cmd, ssize_t (*src)(void *ud, char *buf, size_t cap), void *ud, int *status,
	     char **out, size_t max, struct cut_err *err);
/* Another node for the same step (a copy's source): its own connection, its own output. */
struct act_run *act_open_other(struct act_run *r, const char *name, const char *host, const struct inv_ssh *ssh,
			       const struct subst_scope *sc);
void act_close_other(struct act_run *o, int rc);
/* State shared by one step's targets (a copy's staged files); free_fn runs when the step ends. */
void *act_step_get(struct act_run *r);
void act_step_set(struct act_run *r, void *state, void (*free_fn)(void *));
/* Facts: small named values in the audit ("fence.old" = "0x100002a4e"), read back by later steps. */
int act_fact_set(struct act_run *r, const char *key, const char *value, struct cut_err *err);
const char *act_fact_get(struct act_run *r, const char *key);
/* Progress of long work for the screen: an event, at most a few per second. */
void act_progress(struct act_run *r, const char *what, uint64_t done, uint64_t total);
/* Wait ms, or less when canceled or out of time (then CUT_ECANCELED / CUT_ETIMEOUT). */
int act_sleep(struct act_run *r, int ms, struct cut_err *err);

const struct action_ops *action_find(const char *name);
/* The whole table, for help texts and "known actions" messages. */
/* The i-th built-in verb, NULL past the last. */
const struct action_ops *action_at(size_t i);

#endif
