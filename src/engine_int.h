/* engine's private parts, shared by engine.c, engine_open.c and engine_run.c only. */
#ifndef CUTOVER_ENGINE_INT_H
#define CUTOVER_ENGINE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cutover/action.h"
#include "cutover/engine.h"
#include "cutover/subst.h"
#include "cutover/xport.h"

struct engine {
	struct engine_opts o;
	char *rb_path, *inv_path, *audit_path;
	char operators[512]; /* "alice,bob": who started or resumed this console */
	struct runbook *rb;
	struct inventory *inv;
	struct plan *plan;
	struct audit *audit;
	struct audit_lock *lock;
	struct ssh_pool *pool;
	struct fold fold;
	int64_t run;
	pthread_mutex_t m; /* one append-and-fold at a time */
	atomic_int cancel;
	char **secrets; /* secret values, redacted from output */
	size_t nsecrets;
	char start_plan_sha[HASH_HEX_LEN + 1]; /* the resolved plan when the run started */
	char crash[128]; /* CUTOVER_TEST_CRASH: "<point>:<step id>" kills us there */
	/* the last engine_prepare */
	size_t prepared;
	struct gate_result *gates;
	size_t ngates;
	char *live_json;
	char *preview; /* the prepared step's live preview (action_ops.preview), or NULL */
	struct policy_need need; /* what the prepared step needs (policy.h) */
	size_t need_step;
	int second_refused; /* refused second operators for need_step, in a row */
	bool audit_failed; /* an append failed: nothing more can be recorded (engine_audit_failed) */
};

/* A resolved target: where it is, how to reach it, what ${...} means there. */
struct tgt {
	const char *name, *host;
	const struct inv_ssh *ssh;
	struct subst_scope sc;
};

/* One target of one step while its action runs (include/cutover/action.h). */
/*
 * What a step's targets share (act_step_set/get). A parallel step's begin
 * hook runs beside its targets: a target asking for the state waits until
 * begin has set it or ended without.
 */
struct step_state {
	pthread_mutex_t m;
	pthread_cond_t cv;
	void *p;
	void (*free_fn)(void *);
	bool settled;
	bool last; /* the target now running is the step's last (one after another) */
};

struct act_run {
	struct engine *e;
	const struct rb_step *s;
	const struct tgt *t;
	int64_t deadline;
	struct arena *arena;
	struct xport *x; /* taken on first use, given back by eng_act_release */
	int exit_status; /* of the last command */
	int lost;        /* output batches the audit could not keep */
	struct step_state *state; /* the step's shared state (attempt() owns it) */
	const atomic_int *cancel; /* the operator's (&e->cancel), or a parallel begin's own stop */
	int64_t last_progress;
};

/* Give the target's connection back; a broken one is dropped. */
void eng_act_release(struct act_run *r, int rc);

/* Append one event (payload stolen, may be NULL), fold it, tell the frontend. */
int eng_emit(struct engine *e, const char *step, const char *target, const char *op, const char *kind,
	     json_t *payload, struct cut_err *err);
/* A progress event: appended and folded alike, but not waited on to reach the disk. */
void eng_emit_progress(struct engine *e, const char *step, const char *target, json_t *payload);
/* Load runbook and inventory, open the audit under its lock, start the pool. */
int eng_open(struct engine *e, const struct engine_opts *o, const char *rb_path, const char *inv_path,
	     struct audit_lock_holder *holder, struct cut_err *err);
int eng_load_runbook(struct engine *e, const char *rb_path, struct cut_err *err);
/* A new run row and its run_start event (parent: the run a rollback leaves). */
int eng_begin_run(struct engine *e, int64_t parent, struct cut_err *err);
/* End this run as "rolled back" and begin the rollback runbook's run. */
int eng_start_rollback(struct engine *e, const char *op, struct cut_err *err);
/* The step's live preview on every target (action_ops.preview), into e->preview. */
void eng_preview(struct engine *e, size_t step);
void eng_crash_point(struct engine *e, const char *point, const char *step);
void eng_redact(const struct engine *e, char *line);
/* Of a line still coming in pieces, how many leading bytes can be redacted
 * and written now: no secret starts before that point and ends after it. */
size_t eng_redact_cut(const struct engine *e, const char *buf, size_t len);
/* SHA-256 of the whole resolved plan: changes when the runbook, the inventory
 * or an ${env.X} it reads resolve differently. */
void eng_plan_sha(const struct engine *e, char hex[HASH_HEX_LEN + 1]);
int eng_file_sha(const char *path, char hex[HASH_HEX_LEN + 1], struct cut_err *err);

#endif
