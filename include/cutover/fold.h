/*
 * fold: the one function from events to state. The engine folds each event
 * it appends, `cutover resume` folds the file after a crash, `cutover replay`
 * folds it after the event, and the console draws what the fold holds: one
 * truth, three uses. Pure: no I/O, no clock; the same events give the same state.
 *
 * Event kinds and their payloads (JSON):
 *   run_start   {runbook, inventory, runbook_sha256, inventory_sha256, operators, host, pid, parent}
 *   run_resume  {host, pid, operators}
 *   status      the live state snapshot (nodes, writers, ClickHouse)
 *   confirm     step: {operators, plan, plan_sha256, live, gates, override}
 *   step_start  step: {attempt}
 *   intent      step, target: {host, op}        durable before anything is sent
 *   output      step, target: {stream, text}    whole lines, batched
 *   target_end  step, target: {ok, exit, error}
 *   step_end    step: {ok, error}
 *   cancel      step: the operator asked to stop a running step
 *   interrupted step: {targets}  the step was running when the program died
 *   decision    step: {choice: retry|skip|rollback|abort|rerun|done, reason}
 *   note        {text}
 *   fact        {key, value}   a value a later step reads (a fence's zxid)
 *   progress    step, target: {what, done, total}
 *   run_end     {outcome}
 */
#ifndef CUTOVER_FOLD_H
#define CUTOVER_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#include "cutover/arena.h"
#include "cutover/audit.h"
#include "cutover/runbook.h"

enum fold_step_state {
	FS_PENDING,  /* not run yet (the first pending step awaits confirmation) */
	FS_RUNNING,
	FS_SUCCEEDED,
	FS_FAILED,
	FS_SKIPPED,
	FS_INTERRUPTED, /* running when the program died; the operator decides */
};

enum fold_target_state { FT_RUNNING, FT_OK, FT_FAILED, FT_INTERRUPTED };

struct fold_target {
	const char *name;
	enum fold_target_state st;
	int exit_status;
	const char *error;
	uint64_t out_bytes;
};

struct fold_step {
	enum fold_step_state st;
	bool confirmed;       /* confirmed and not yet started */
	bool marked_done;     /* "done" decided by an operator, not run */
	int attempts;
	const char *confirmed_by[2];
	const char *started, *ended; /* wall times */
	const char *error, *reason;
	struct fold_target *t;
	size_t nt, tcap;
	uint64_t out_bytes;
};

struct fold {
	struct arena *arena;
	const struct runbook *rb;
	int64_t run, last_seq;
	const char *started, *outcome, *operators;
	struct fold_step *steps;
	size_t n;
	const char *last_status; /* JSON of the newest live snapshot */
	size_t notes, events;
	bool canceled;
	struct fold_fact {
		const char *key, *value;
	} *facts;
	size_t nfacts, factcap;
};

/* The newest value of a fact, or NULL. */
const char *fold_fact(const struct fold *f, const char *key);

int fold_init(struct fold *f, const struct runbook *rb);
void fold_free(struct fold *f);
void fold_apply(struct fold *f, const struct audit_event *ev);
/* The first step neither succeeded nor skipped; f->n when all are. */
size_t fold_current(const struct fold *f);
const char *fold_state_name(enum fold_step_state st);

#endif
