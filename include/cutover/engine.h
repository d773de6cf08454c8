/*
 * engine: runs a runbook against an inventory, one confirmed step at a time,
 * and writes everything to the audit first. It owns the run: the audit file
 * and its lock, the SSH connections, the fold of the run's events.
 *
 * The frontend (plain mode, the console) drives it:
 *
 *   engine_next()     what the run needs now: a confirmation, a decision
 *                     after a failure or an interruption, a manual step's
 *                     "done", or nothing (the run is over)
 *   engine_prepare()  probe the site and judge the step's gates: what the
 *                     operators see before they confirm
 *   engine_confirm()  record who confirmed, the exact plan shown (and its
 *                     SHA-256) and the live state they saw
 *   engine_run()      run the confirmed step (blocking: the console calls it
 *                     from a worker thread); every event reaches on_event
 *   engine_decide()   retry | skip | rollback | abort | rerun | done
 *
 * Nothing runs without a confirm event naming operators on duty; no step runs
 * twice unless an operator decided so (a "retry N" failure policy is decided
 * by the runbook the operators confirmed). engine_cancel() may be called from
 * any thread or a signal handler.
 */
#ifndef CUTOVER_ENGINE_H
#define CUTOVER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cutover/audit.h"
#include "cutover/audit_lock.h"
#include "cutover/fold.h"
#include "cutover/inventory.h"
#include "cutover/plan.h"
#include "cutover/policy.h"
#include "cutover/probe.h"
#include "cutover/runbook.h"

struct engine;

struct engine_opts {
	const char *runbook, *inventory; /* engine_start only; resume reads them from the audit */
	const char *audit;
	const char *const *operators; /* who is at the keyboard, first; every one must be on duty */
	size_t noperators;
	bool take_over;     /* take a stale lock left by a dead console */
	bool allow_changed; /* resume although the runbook or inventory changed */
	/* Called after each event is durable and folded, on the appending thread. */
	void (*on_event)(void *ud, const struct audit_event *ev);
	void *ud;
	int probe_timeout_ms; /* 0: 3000 */
	bool refuse_alone;    /* CUTOVER_REFUSE_ALONE: as the inventory's alone: refuse */
};

enum engine_need {
	ENG_CONFIRM,     /* step awaits confirmation */
	ENG_FAILED,      /* step failed: retry / skip / rollback / abort */
	ENG_INTERRUPTED, /* step was running when the program died: rerun / done / rollback */
	ENG_MANUAL,      /* manual step: the operator says when it is done */
	ENG_END,         /* the run is over (fold->outcome says how) */
};

/* A new run. On CUT_EBUSY / CUT_EREFUSED (lock), holder names who has the file. */
int engine_start(const struct engine_opts *o, struct engine **out, struct audit_lock_holder *holder,
		 struct cut_err *err);
/* Continue the newest unfinished run in o->audit. */
int engine_resume(const struct engine_opts *o, struct engine **out, struct audit_lock_holder *holder,
		  struct cut_err *err);
/* Releases the lock; an unfinished run stays resumable. */
void engine_free(struct engine *e);

const struct fold *engine_fold(const struct engine *e);
const struct runbook *engine_runbook(const struct engine *e);
const struct inventory *engine_inventory(const struct engine *e);
const struct plan *engine_plan(const struct engine *e);
int64_t engine_run_id(const struct engine *e);

enum engine_need engine_next(struct engine *e, size_t *step);

/* Gates of the step against a fresh probe; results stay valid until the next call. */
int engine_prepare(struct engine *e, size_t step, const struct gate_result **gates, size_t *ngates,
		   struct cut_err *err);
/* What the prepared step needs before it runs (policy.h); NULL unless step was just prepared. */
const struct policy_need *engine_need(const struct engine *e, size_t step);
/* The lines to show before asking: gates, what confirming takes, the point of
 * no return, the rollback budget (policy_describe of the prepared step). */
void engine_describe(const struct engine *e, FILE *out);
/* The live preview engine_prepare read for the step (ck.switch: each file's diff), or NULL;
 * shown before confirmation and recorded with it. */
const char *engine_preview(const struct engine *e);
/*
 * Confirm the prepared step, held to the policy (policy.h): what was typed,
 * who confirmed from where, an override's reason. A refusal is recorded
 * (a "refused" event) and its sentence is in err; the frontend asks again
 * after a fresh engine_prepare. After POLICY_SECOND_TRIES refused second
 * operators in a row, CUT_ECANCELED: stop asking, the run stays resumable.
 */
int engine_confirm(struct engine *e, size_t step, const struct policy_confirmation *c, struct cut_err *err);
int engine_run(struct engine *e, size_t step, struct cut_err *err);
int engine_manual_done(struct engine *e, size_t step, const char *op, bool done, const char *note,
		       struct cut_err *err);
int engine_decide(struct engine *e, size_t step, const char *choice, const char *op, const char *reason,
		  struct cut_err *err);
int engine_note(struct engine *e, const char *op, const char *text, struct cut_err *err);
void engine_cancel(struct engine *e);
/* Every event of the current run so far, in order, through the engine's own
 * connection (a second connection in this process would put SQLite's locks at
 * risk); cb returns non-zero to stop. */
int engine_history(struct engine *e, audit_event_fn cb, void *ud, struct cut_err *err);
/* A status event (the live snapshot as JSON) when what the panes show changed; any thread. */
int engine_record_status(struct engine *e, const char *json, struct cut_err *err);

/* Is name one of the inventory's operators on duty? */
bool engine_on_duty(const struct engine *e, const char *name);
/* An event could not be appended to the audit (a full disk, an I/O error):
 * nothing more can be recorded, so no step may run; resume once it is mended. */
bool engine_audit_failed(struct engine *e);
/* The audit's head as this engine last wrote it, SEQ:HASH (see audit_head):
 * shown at the end of a run for the operators to note in the change record. */
void engine_audit_head(struct engine *e, char out[AUDIT_HEAD_LEN]);

#endif
