/*
 * policy: what a step needs before it runs, decided in one place. Both
 * frontends ask it what to show and what to ask for; the engine holds every
 * confirmation to it (engine_confirm), so no frontend can run a step on less.
 *
 * The rules:
 * - The first operator types the step's id; "yes" confirms only a step marked
 *   simple.
 * - A second operator, different and on duty, confirms a step that says
 *   confirm: two, any override of a failing gate, and the step at the point of
 *   no return whatever the runbook says. Where the frontend knows where each
 *   confirmation was typed (the console's tmux clients), the second must come
 *   from another client, and from the operator's login when the inventory
 *   gives one. Plain mode has one terminal: that is recorded, not hidden.
 * - Overriding a failing gate needs a typed reason.
 * - A step whose action changes data, with fewer than two engineers attached,
 *   warns (recorded with the confirmation) or, with alone: refuse in the
 *   inventory or CUTOVER_REFUSE_ALONE, is refused.
 * - Three refused second operators end the confirmation.
 */
#ifndef CUTOVER_POLICY_H
#define CUTOVER_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cutover/err.h"
#include "cutover/probe.h"
#include "cutover/inventory.h"
#include "cutover/runbook.h"

#define POLICY_SECOND_TRIES 3

enum policy_pnr { POLICY_BEFORE_PNR, POLICY_AT_PNR, POLICY_AFTER_PNR, POLICY_NO_PNR };

struct policy_need {
	const char *id;     /* the step's id: what confirms it */
	bool yes_ok;        /* marked simple: yes confirms too */
	bool two;           /* a second operator confirms */
	const char *why_two;
	bool reason;        /* a gate fails: the override needs a typed reason */
	const char *failing_gate, *failing_why;
	bool destructive;   /* the action changes data: engineers must be present */
	bool refuse_alone;  /* fewer than two present: refused (else a warning) */
	enum policy_pnr pnr;
	const char *pnr_step;
	const char *rollback;      /* the rollback runbook, for a migration */
	int64_t budget_ms;         /* a rollback run's time budget; 0: none */
	int64_t budget_left_ms;    /* of it, now (negative: over) */
};

/*
 * What step i needs, given its gates as just probed (g, ng), the run's start
 * (wall ms since the epoch, 0: not started) and now.
 */
void policy_need_of(const struct runbook *rb, size_t i, const struct gate_result *g, size_t ng, bool refuse_alone,
		    int64_t started_ms, int64_t now_ms, struct policy_need *out);

/* Where a confirmation was typed, as far as the frontend can tell. */
struct policy_who {
	const char *name;   /* the operator's display name, on duty */
	const char *client; /* tmux client tty it was typed at; NULL: this terminal (plain mode) */
	const char *login;  /* the Unix user of that client; NULL: unknown */
};

struct policy_confirmation {
	const char *typed;        /* what the first operator typed */
	struct policy_who first, second; /* second.name NULL: none given */
	const char *reason;       /* for an override */
	int present;              /* engineers attached (tmux clients); -1: unknown */
};

/*
 * CUT_OK, or CUT_EREFUSED / CUT_EINVAL with one sentence saying what is
 * missing and what to do. *second_refused is set when the refusal is about the
 * second operator (the frontend asks again, up to POLICY_SECOND_TRIES).
 */
int policy_check(const struct policy_need *n, const struct inventory *inv, const struct policy_confirmation *c,
		 bool *second_refused, struct cut_err *err);

/* The lines a frontend shows before asking: gates, what confirming takes,
 * where the step stands against the point of no return and the budget. */
void policy_describe(const struct policy_need *n, const struct gate_result *g, size_t ng, FILE *out);

/* Is the step refused for want of engineers (present: tmux clients, -1 not known)? */
bool policy_alone_refused(const struct policy_need *n, int present);
/* The warning to show before asking when a data-changing step has fewer than
 * two engineers attached (present: tmux clients, -1 not in tmux), or NULL. */
const char *policy_alone_warning(const struct policy_need *n, int present, char *buf, size_t len);

/* What to say when the typed word does not confirm the step. */
void policy_hint(const struct policy_need *n, char *buf, size_t len);

#endif
