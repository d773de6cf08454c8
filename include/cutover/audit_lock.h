/*
 * audit_lock: one console per audit file. The holder keeps an flock(2) on
 * FILE.lock for as long as it lives and writes who it is into it (host, pid,
 * operators, start time). The kernel drops the flock when the holder dies,
 * however it dies, so "lock free but file not empty" means a previous console
 * died without releasing: a stale lock, taken over only when the caller says so.
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
 * CUT_EBUSY: a live process holds it (holder filled).
 * CUT_EREFUSED: a stale lock left by a dead console and take_stale is false (holder filled).
 */
int audit_lock_take(const char *audit_path, const char *operators, bool take_stale,
		    struct audit_lock **out, struct audit_lock_holder *holder, struct cut_err *err);
void audit_lock_release(struct audit_lock *l);

#endif
