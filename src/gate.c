/*
 * gate: the live conditions a step requires when it is confirmed (see
 * include/cutover/probe.h). A gate that cannot be judged -- a node that does
 * not answer, a writer whose state is unknown -- fails: at 3 a.m. "unknown"
 * must never read as "fine".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cutover/probe.h"

static void say(struct gate_result *r, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(struct gate_result *r, bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	r->ok = ok;
}

static void quorum(const char *ens, const struct live *l, struct gate_result *r)
{
	size_t n = 0, leaders = 0, followers = 0;
	const char *bad = NULL, *why = NULL;
	for (size_t i = 0; i < l->nzk; i++) {
		if (strcmp(l->zk[i].ensemble, ens) != 0)
			continue;
		n++;
		enum zk_role role = l->zk[i].s.role;
		leaders += role == ZR_LEADER;
		followers += role == ZR_FOLLOWER;
		if (role != ZR_LEADER && role != ZR_FOLLOWER && bad == NULL)
			bad = l->zk[i].node->name, why = zk_role_name(role);
	}
	if (n > 0 && leaders == 1 && followers == n - 1)
		say(r, true, "%s: 1 leader, %zu followers", ens, followers);
	else if (bad)
		say(r, false, "%s: %s is %s (%zu leader(s), %zu follower(s) of %zu)", ens, bad, why, leaders, followers, n);
	else
		say(r, false, "%s: %zu leaders, %zu followers of %zu nodes", ens, leaders, followers, n);
}

static void down(const char *ens, const struct live *l, struct gate_result *r)
{
	for (size_t i = 0; i < l->nzk; i++)
		if (strcmp(l->zk[i].ensemble, ens) == 0 && l->zk[i].s.role != ZR_DOWN) {
			say(r, false, "%s: %s is %s, not down (its client port must refuse connections)", ens,
			    l->zk[i].node->name, zk_role_name(l->zk[i].s.role));
			return;
		}
	say(r, true, "%s: every node refuses connections", ens);
}

static void zxid_flat(const char *ens, const struct live *now, const struct live *then, struct gate_result *r)
{
	if (then == NULL) {
		say(r, false, "%s: needs two probes to compare", ens);
		return;
	}
	for (size_t i = 0; i < now->nzk && i < then->nzk; i++) {
		if (strcmp(now->zk[i].ensemble, ens) != 0)
			continue;
		const struct zk_srvr *a = &then->zk[i].s, *b = &now->zk[i].s;
		if (a->role == ZR_NOANSWER || a->role == ZR_DOWN || b->role == ZR_NOANSWER || b->role == ZR_DOWN) {
			say(r, false, "%s: %s is %s", ens, now->zk[i].node->name, zk_role_name(b->role));
			return;
		}
		if (a->zxid != b->zxid) {
			say(r, false, "%s: %s zxid moved 0x%llx -> 0x%llx: something still writes", ens,
			    now->zk[i].node->name, (unsigned long long)a->zxid, (unsigned long long)b->zxid);
			return;
		}
	}
	say(r, true, "%s: zxid unchanged between two probes", ens);
}

/* The runbook's zk.compare for this ensemble succeeded in this run. */
static void matches_copy(const char *ens, const struct fold *f, struct gate_result *r)
{
	for (size_t i = f ? f->n : 0; i-- > 0;) {
		const struct rb_step *s = &f->rb->steps[i];
		if (s->action == NULL || strcmp(s->action, "zk.compare") != 0 || f->steps[i].st != FS_SUCCEEDED)
			continue;
		const struct rb_param *a = rb_param(s, "left"), *b = rb_param(s, "right");
		if ((a && a->value && strcmp(a->value, ens) == 0) || (b && b->value && strcmp(b->value, ens) == 0)) {
			say(r, true, "%s: step %s compared the trees equal", ens, s->id);
			return;
		}
	}
	say(r, false, "%s: no zk.compare of %s has succeeded in this run", ens, ens);
}

static void all_up(const struct live *l, bool tasks, enum live_up want, struct gate_result *r)
{
	size_t n = tasks ? l->ntasks : l->nck;
	for (size_t i = 0; i < n; i++) {
		enum live_up st = tasks ? l->tasks[i].st : l->ck[i].st;
		if (st != want) {
			const char *name = tasks ? l->tasks[i].task->id : l->ck[i].node->name;
			const char *detail = tasks ? l->tasks[i].detail : l->ck[i].error;
			const char *is = st == LIVE_UP ? (tasks ? "running" : "up") : st == LIVE_DOWN ? (tasks ? "stopped" : "down")
				       : st == LIVE_NOANSWER ? "not answering" : "in an unknown state";
			say(r, false, "%s %s is %s%s%s", tasks ? "task" : "ClickHouse", name, is, *detail ? ": " : "", detail);
			return;
		}
	}
	say(r, true, "all %zu %s %s", n, tasks ? "writer tasks" : "ClickHouse nodes",
	    want == LIVE_UP ? (tasks ? "running" : "up") : (tasks ? "stopped" : "down"));
}

void gate_eval(const char *gate, const struct inventory *inv, const struct live *now, const struct live *earlier,
	       const struct fold *f, struct gate_result *r)
{
	memset(r, 0, sizeof *r);
	r->gate = gate;
	char ens[64];
	const char *dot = strrchr(gate, '.');
	snprintf(ens, sizeof ens, "%.*s", dot ? (int)(dot - gate) : 0, gate);
	const char *what = dot ? dot + 1 : gate;
	if (strcmp(gate, "writers.stopped") == 0 || strcmp(gate, "writers.running") == 0)
		all_up(now, true, strcmp(what, "running") == 0 ? LIVE_UP : LIVE_DOWN, r);
	else if (strcmp(gate, "ck.stopped") == 0 || strcmp(gate, "ck.up") == 0)
		all_up(now, false, strcmp(what, "up") == 0 ? LIVE_UP : LIVE_DOWN, r);
	else if (inv_ensemble(inv, ens) == NULL)
		say(r, false, "unknown gate %s", gate);
	else if (strcmp(what, "quorum") == 0)
		quorum(ens, now, r);
	else if (strcmp(what, "down") == 0)
		down(ens, now, r);
	else if (strcmp(what, "zxid_flat") == 0)
		zxid_flat(ens, now, earlier, r);
	else if (strcmp(what, "matches_copy") == 0)
		matches_copy(ens, f, r);
	else
		say(r, false, "unknown gate %s", gate);
}
