/*
 * audit_lock: one console per audit file. The holder keeps an flock(2) on the
 * audit file itself for as long as it lives (created 0600 if it is not there),
 * so every name of the file meets the same lock, and writes who it is into
 * the sidecar FILE.lock beside the file's real path (host, pid, operators,
 * start time). The kernel drops the flock when the holder dies, however it
 * dies, so "lock free but sidecar not empty" means a previous console died
 * without releasing: a stale lock, taken over only when the caller says so.
 * Release after closing the audit: the descriptor closes last.
 */
#ifndef CUTOVER_AUDIT_LOCK_H
#define CUTOVER_AUDIT_LOCK_H

#include <stdbool.h>

#include "cutover/err.h"

struct audit_lock;

struct audit_lock_holder {
	char host[128];
	long pid;
	char operators[256];
	char started[40];
};

/*
 * create: make the audit file (empty, 0600) when it is not there.
 * CUT_EBUSY: a live process holds it (holder filled when its sidecar names it).
 * CUT_EREFUSED: a stale lock left by a dead console and take_stale is false
 * (holder filled); or the file has more than one name (hard links), which
 * SQLite's log cannot survive; or the sidecar is a link or not private.
 */
int audit_lock_take(const char *audit_path, bool create, const char *operators, bool take_stale,
		    struct audit_lock **out, struct audit_lock_holder *holder, struct cut_err *err);
void audit_lock_release(struct audit_lock *l);

#endif
