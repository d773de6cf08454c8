/*
 * audit: the SQLite file that is the run's single source of truth.
 *
 *   runs(id, parent, runbook, runbook_sha256, inventory, inventory_sha256,
 *        operators, hostname, started, ended, outcome)
 *   events(seq, run, wall, mono_ms, operator, step, target, kind, payload, prev, hash)
 *
 * Events are append-only (triggers refuse UPDATE and DELETE) and chained:
 * each hash is SHA-256 over the previous hash and every field, and the head
 * (last seq and hash) is kept in meta, so an edited, inserted or deleted row
 * -- even the last one -- is found by audit_verify(). Every append is its own
 * IMMEDIATE transaction with synchronous=FULL in WAL mode: when it returns,
 * the event survives a kill -9 or a power cut. Appends from other processes
 * (`cutover notes`) chain correctly because the tail is read inside the
 * transaction. The file and its WAL are created mode 0600.
 *
 * One struct audit may be shared by threads: calls are serialised inside.
 */
#ifndef CUTOVER_AUDIT_H
#define CUTOVER_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cutover/err.h"
#include "cutover/hash.h"

#define AUDIT_SCHEMA_VERSION 1

struct audit;

struct audit_run {
	int64_t id, parent; /* parent: the run a rollback was started from, or 0 */
	char *runbook, *runbook_sha256, *inventory, *inventory_sha256;
	char *operators, *hostname, *started, *ended, *outcome; /* outcome NULL: unfinished */
};

struct audit_event {
	int64_t seq, run, mono_ms;
	const char *wall; /* filled by audit_append */
	const char *operator, *step, *target;
	const char *kind;
	const char *payload; /* JSON text or NULL */
	char prev[HASH_HEX_LEN + 1], hash[HASH_HEX_LEN + 1];
};

#define AUDIT_HEAD_LEN 48

struct audit_report {
	int64_t events, runs;
	int64_t bad_seq; /* first broken or missing event; 0 when the chain holds */
	char reason[256];
	char head[AUDIT_HEAD_LEN]; /* the last event verified, as audit_head writes it */
};

int audit_open(const char *path, bool create, struct audit **out, struct cut_err *err);
/* For checking only: read-only, nothing created or migrated. A file that is no
 * cutover audit (empty, another program's database, a newer schema) is refused. */
int audit_open_readonly(const char *path, struct audit **out, struct cut_err *err);
void audit_close(struct audit *a);
const char *audit_path(const struct audit *a);

/* What a new run row records. */
struct audit_run_info {
	int64_t parent;
	const char *runbook, *runbook_sha256, *inventory, *inventory_sha256, *operators, *hostname;
};

/* Insert a run row; *id is its number. */
int audit_run_begin(struct audit *a, const struct audit_run_info *r, int64_t *id, struct cut_err *err);
int audit_run_end(struct audit *a, int64_t run, const char *outcome, struct cut_err *err);
/* The newest run, or the newest unfinished one; CUT_ENOTFOUND when none. */
int audit_run_latest(struct audit *a, bool unfinished_only, struct audit_run *out, struct cut_err *err);
int audit_run_get(struct audit *a, int64_t id, struct audit_run *out, struct cut_err *err);
void audit_run_clear(struct audit_run *r);

/*
 * From now on each append first checks that the chain's head is the event
 * this handle last wrote (or the head now, for the first): events another
 * process appended in between are accepted only if they are notes. Otherwise
 * the append fails (CUT_EBUSY: another writer; CUT_ECORRUPT: events removed
 * or replaced) and nothing is written. The engine guards its handle.
 */
int audit_guard(struct audit *a, struct cut_err *err);

/* Append n events in one durable transaction; fills seq, wall and hashes. */
int audit_append(struct audit *a, struct audit_event *ev, size_t n, struct cut_err *err);
/* The same, chained alike, but committed without waiting for the disk: for
 * copy progress, which must not stall a stream behind an fsync. The next
 * durable append makes them durable too; a power cut before it may lose the
 * newest of them, never a link of the chain. */
int audit_append_unsynced(struct audit *a, struct audit_event *ev, size_t n, struct cut_err *err);

/* Events of one run (run 0: all), in order; cb returns non-zero to stop. */
typedef int (*audit_event_fn)(void *ud, const struct audit_event *ev);
int audit_events(struct audit *a, int64_t run, audit_event_fn cb, void *ud, struct cut_err *err);

/* Walk the whole chain. Returns CUT_OK with rep->bad_seq == 0 when it holds. */
int audit_verify(struct audit *a, struct audit_report *rep, struct cut_err *err);

/*
 * The chain's head as an operator notes it: "SEQ:HASH" with the first 16 hex
 * digits of the last event's hash. The file alone cannot show that events
 * were cut off its end together with the head recorded inside it; a head
 * noted elsewhere (the change record) can. audit_head gives the head this
 * handle last wrote; audit_verify_head holds a verified file (rep from
 * audit_verify) to a noted head: CUT_EUSAGE when noted is not SEQ:HEX (at
 * least 12 digits), else CUT_OK with rep->bad_seq set when the file fails it.
 */
void audit_head(struct audit *a, char out[AUDIT_HEAD_LEN]);
int audit_verify_head(struct audit *a, const char *noted, struct audit_report *rep, struct cut_err *err);

/* Wall-clock time as 2026-11-25T15:04:05.123Z; monotonic milliseconds. */
void audit_wall_now(char buf[32]);
int64_t audit_mono_ms(void);

#endif
