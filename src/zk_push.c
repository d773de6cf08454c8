/*
 * zk_push: one destination of zk.copy, on its own thread and connection
 * beside the others. Each file the source side publishes is streamed on
 * while it is still being read -- snapshots to dataDir/version-2, logs to
 * dataLogDir/version-2, preallocated logs at their real size -- under a
 * hidden name ZooKeeper never reads (.cutover-<name>: its file scan splits
 * names on '.' and wants "snapshot" or "log" first), synced, and verified:
 * the SHA-256 computed while reading the source against one computed on the
 * destination. Only once the whole staged set has passed zk_select are the
 * files renamed into place, logs first and the snapshot last (3.5+ refuses to
 * start on logs without a snapshot), and the dirs synced. A file already
 * there with the right hash is kept, so a retry copies only what is missing
 * or wrong; any other ZooKeeper file in the way is refused (zk.wipe first).
 * A failed copy removes its hidden files; one cut short (cancel, timeout, a
 * lost connection) leaves them to the next attempt, which clears them first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act_int.h"
#include "zk_int.h"
#include "cutover/xport.h"
#include "zk_copy_int.h"

#define TMP_PREFIX ".cutover-"

/* A shell function: the SHA-256 of a file as 64 hex digits. openssl where the
 * host has it: coreutils' sha256sum is several times slower on gigabytes. */
#define SH_HASH "h() { if command -v openssl >/dev/null 2>&1; then openssl dgst -sha256 -r \"$1\"; " \
		"else sha256sum \"$1\"; fi | cut -c1-64; }; "

/* What a destination dir holds of ZooKeeper's files, with their hashes (a retry keeps the good ones). */
struct held {
	char name[96];
	char sha[HASH_HEX_LEN + 1];
};

struct dest {
	const char *dd, *ld;
	struct held *held;
	size_t nheld;
};

static bool on_source(const struct staged *st, const char *name)
{
	for (size_t i = 0; i < st->nlisting; i++)
		if (strcmp(st->listing[i].name, name) == 0)
			return true;
	return false;
}

/* A shell function: make a dir, drop our temporary files there, list ZooKeeper's with their hashes, say the room. */
#define SH_PREP "p() { mkdir -p \"$1\" && cd \"$1\" && rm -f -- " TMP_PREFIX "* || exit 2; for f in snapshot.* log.*; do " \
		"if [ -f \"$f\" ]; then echo \"file $(h \"$f\") $f\"; fi; done; " \
		"df -Pk . | awk 'NR==2 {print \"free\", $4}'; }; "

/*
 * One command: make the dirs, drop our own temporary files a cut copy left,
 * and say what else is there (hashed: a retry keeps what is right) and how
 * much room. Nothing but files the source holds may be there -- another
 * snapshot would win the restore -- and there must be room for the copy.
 */
static int prepare(struct act_run *r, struct staged *st, struct dest *d, struct cut_err *err)
{
	struct arena *a = act_arena(r);
	bool same = strcmp(d->dd, d->ld) == 0;
	const char *cmd = arena_printf(a, SH_HASH SH_PREP "p %s%s%s", subst_shell_quote(a, d->dd), same ? "" : "; echo dir; p ",
				       same ? "" : subst_shell_quote(a, d->ld));
	char *out = NULL;
	int status, rc = act_capture(r, cmd, &status, &out, 1 << 20, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "cannot make or clear %s%s%s (exit %d; the output above says why)", d->dd,
			      same ? "" : " or ", same ? "" : d->ld, status);
	unsigned long long free_kb[2] = {0, 0};
	int which = 0;
	char *save = NULL;
	if (rc == CUT_OK && (d->held = arena_alloc(a, sizeof *d->held * (st->nlisting + 1))) == NULL)
		rc = cut_fail(err, CUT_ENOMEM, "out of memory");
	for (char *l = rc == CUT_OK ? strtok_r(out, "\n", &save) : NULL; rc == CUT_OK && l; l = strtok_r(NULL, "\n", &save)) {
		struct held h;
		if (strcmp(l, "dir") == 0)
			which = 1;
		else if (sscanf(l, "free %llu", &free_kb[which]) == 1)
			continue;
		else if (sscanf(l, "file %64s %95s", h.sha, h.name) != 2)
			continue;
		else if (!on_source(st, h.name))
			rc = cut_fail(err, CUT_EREFUSED, "%s already holds %s, which is not part of this copy; "
				      "move the dir aside with zk.wipe first", which ? d->ld : d->dd, h.name);
		else if (d->nheld < st->nlisting)
			d->held[d->nheld++] = h;
	}
	free(out);
	uint64_t need[2] = {same ? st->snap_bytes + st->log_bytes : st->snap_bytes, st->log_bytes};
	for (int i = 0; rc == CUT_OK && i < (same ? 1 : 2); i++)
		if (free_kb[i] * 1024ULL < need[i] + need[i] / 20)
			rc = cut_fail(err, CUT_EREFUSED, "%s has %llu MiB free; the copy needs %llu MiB and 5%% to spare",
				      i ? d->ld : d->dd, free_kb[i] / 1024, (unsigned long long)need[i] / (1024 * 1024));
	return rc;
}

static const char *held_sha(const struct dest *d, const char *name)
{
	for (size_t i = 0; i < d->nheld; i++)
		if (strcmp(d->held[i].name, name) == 0)
			return d->held[i].sha;
	return NULL;
}

/* The staged file as it grows: what is there now, or XP_IN_AGAIN until more is. */
struct follow {
	struct staged *st;
	struct sfile *f;
	struct act_run *r;
	uint64_t off;
	bool dropped;
};

static ssize_t follow_src(void *ud, char *buf, size_t cap)
{
	struct follow *p = ud;
	struct staged *st = p->st;
	pthread_mutex_lock(&st->m);
	if (p->off == p->f->have && p->f->st == SF_FETCHING && !st->done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		st->followers_waiting++;
		pthread_cond_timedwait(&st->cv, &st->m, &ts);
		st->followers_waiting--;
	}
	uint64_t have = p->f->have, size = p->f->size;
	int fd = p->f->fd;
	enum sf_state s = p->f->st;
	bool done = st->done;
	pthread_mutex_unlock(&st->m);
	if (s == SF_DROPPED) {
		p->dropped = true;
		return -1;
	}
	if (p->off < have) {
		size_t want = have - p->off < cap ? (size_t)(have - p->off) : cap;
		ssize_t k = pread(fd, buf, want, (off_t)p->off);
		if (k <= 0)
			return -1;
		p->off += (uint64_t)k;
		act_progress(p->r, p->f->name, p->off, size > p->off ? size : p->off);
		return k;
	}
	if (s == SF_STAGED)
		return 0;
	return done ? -1 : XP_IN_AGAIN; /* done while this file was still being read: the source failed */
}

/*
 * Stream one published file to dir/.cutover-<name>, synced, and hash it
 * there, in one command. A loop beside `cat` syncs the file every second:
 * the disk writes what arrived while more arrives, instead of all of it at
 * the end (a gigabyte stays dirty in memory long enough otherwise). The last
 * sync and the hash then run side by side; the command fails if the sync does.
 */
static int push(struct act_run *r, struct staged *st, struct sfile *f, const char *tmp, bool *dropped, struct cut_err *err)
{
	struct follow p = {.st = st, .f = f, .r = r};
	const char *q = subst_shell_quote(act_arena(r), tmp);
	char *out = NULL;
	int status;
	int rc = act_feed(r, arena_printf(act_arena(r), SH_HASH "(while sleep 1; do sync %s; done) >/dev/null 2>&1 & s=$!; "
					  "cat > %s; c=$?; kill $s; [ $c = 0 ] && { sync %s & y=$!; h %s; wait $y; }",
					  q, q, q, q),
			  follow_src, &p, &status, &out, 4096, err);
	pthread_mutex_lock(&st->m);
	enum sf_state s = f->st;
	bool done = st->done;
	char want[HASH_HEX_LEN + 1];
	memcpy(want, f->sha, sizeof want);
	pthread_mutex_unlock(&st->m);
	*dropped = p.dropped || s == SF_DROPPED; /* however its stream ended, it is not part of the copy */
	if (*dropped) {
		free(out);
		return CUT_OK;
	}
	if (rc != CUT_OK && s != SF_STAGED && done) { /* the source side failed: it says why */
		free(out);
		return staged_wait_done(st, err);
	}
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "writing %s on %s failed (exit %d; the output above says why, a full disk?); a retry writes it again", tmp, act_scope(r)->zk->host, status);
	char sha[HASH_HEX_LEN + 1] = "";
	if (rc == CUT_OK && out && strlen(out) >= HASH_HEX_LEN)
		snprintf(sha, sizeof sha, "%.64s", out);
	free(out);
	if (rc == CUT_OK && strcmp(sha, want) != 0)
		rc = cut_fail(err, CUT_ECORRUPT, "%s on the destination has SHA-256 %.12s..., the source %.12s...; retry the step, it writes the file again", f->name,
			      sha[0] ? sha : "(none)", want);
	return rc;
}

/* Wait until f is whole (or dropped); its hash then. */
static enum sf_state wait_staged(struct staged *st, struct sfile *f, char sha[HASH_HEX_LEN + 1])
{
	pthread_mutex_lock(&st->m);
	while (f->st == SF_FETCHING && !st->done)
		pthread_cond_wait(&st->cv, &st->m);
	enum sf_state s = f->st;
	memcpy(sha, f->sha, HASH_HEX_LEN + 1);
	pthread_mutex_unlock(&st->m);
	return s;
}

static const char *names_in(struct arena *a, const struct staged *st, bool snap)
{
	const char *pat = "''";
	for (size_t k = 0; k < st->n; k++)
		if (st->f[k].st == SF_STAGED && st->f[k].snap == snap)
			pat = arena_printf(a, "%s|%s", pat, subst_shell_quote(a, st->f[k].name));
	return pat;
}

/*
 * The staged set holds. One command: nothing foreign appeared meanwhile; the
 * files this destination wrote are renamed into place, logs first and the
 * snapshot last; the dirs are synced so the names survive a crash.
 */
static int finish(struct act_run *r, struct staged *st, const bool *pushed, const struct dest *d, struct cut_err *err)
{
	struct arena *a = act_arena(r);
	const char *qd = subst_shell_quote(a, d->dd), *ql = subst_shell_quote(a, d->ld);
	char *cmd = arena_printf(a, "set -e; for f in %s/snapshot.* %s/log.*; do [ -e \"$f\" ] || continue; "
				 "case \"${f##*/}\" in %s|%s) ;; *) echo \"$f\"; exit 3;; esac; done", qd, ql,
				 names_in(a, st, true), names_in(a, st, false));
	for (int snap = 0; snap < 2; snap++)
		for (size_t k = 0; k < st->n; k++) {
			const struct sfile *f = &st->f[k];
			if (!pushed[k] || f->snap != snap || f->st != SF_STAGED)
				continue;
			const char *dir = f->snap ? d->dd : d->ld;
			cmd = arena_printf(a, "%s; mv -f -- %s %s", cmd,
					   subst_shell_quote(a, arena_printf(a, "%s/" TMP_PREFIX "%s", dir, f->name)),
					   subst_shell_quote(a, arena_printf(a, "%s/%s", dir, f->name)));
		}
	cmd = arena_printf(a, "%s; rm -f -- %s/" TMP_PREFIX "* %s/" TMP_PREFIX "*; sync %s %s", cmd, qd, ql, qd, ql);
	char *out = NULL;
	int status;
	int rc = act_capture(r, cmd, &status, &out, 4096, err);
	if (rc == CUT_OK && status == 3)
		rc = cut_fail(err, CUT_EREFUSED, "%s appeared during the copy and is not part of it; nothing renamed "
			      "into place (move the dir aside with zk.wipe, then retry)", out ? strtok(out, "\n") : "a file");
	else if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "renaming the verified files into place failed (exit %d; the output above says why); a retry writes them again", status);
	free(out);
	for (size_t k = 0; rc == CUT_OK && k < st->n; k++)
		if (pushed[k] && st->f[k].st == SF_STAGED)
			act_say(r, "%s: %llu bytes written and verified (sha256 %.12s...)", st->f[k].name,
				(unsigned long long)st->f[k].size, st->f[k].sha);
	return rc;
}

/* A copy that did not finish leaves nothing of its own behind. */
static void clean_tmp(struct act_run *r, const char *dd, const char *ld)
{
	struct arena *a = act_arena(r);
	int status;
	struct cut_err ignore = {0};
	act_exec(r, arena_printf(a, "rm -f -- %s/" TMP_PREFIX "* %s/" TMP_PREFIX "*", subst_shell_quote(a, dd),
				 subst_shell_quote(a, ld)), &status, &ignore);
}

/* One destination, on its own thread; the others and the source side run beside it. */
static int zk_copy_run(struct act_run *r, struct cut_err *err)
{
	struct staged *st = act_step_get(r);
	if (st == NULL)
		return cut_fail(err, CUT_EINVAL, "zk.copy: nothing staged");
	struct arena *a = act_arena(r);
	struct dest d = {0};
	int rc = zk_dirs(a, act_scope(r), &d.dd, &d.ld, err);
	if (rc != CUT_OK)
		return rc;
	d.dd = arena_printf(a, "%s/version-2", d.dd);
	d.ld = arena_printf(a, "%s/version-2", d.ld);
	rc = prepare(r, st, &d, err);
	bool pushed[STAGE_MAX] = {false};
	struct sfile *f;
	for (size_t k = 0; rc == CUT_OK && (f = staged_wait_file(st, k)) != NULL; k++) {
		if (f->check_only)
			continue;
		const char *there = held_sha(&d, f->name);
		char want[HASH_HEX_LEN + 1];
		if (there && wait_staged(st, f, want) == SF_STAGED && strcmp(there, want) == 0) {
			act_say(r, "%s: already there and verified", f->name);
			continue;
		}
		const char *tmp = arena_printf(a, "%s/" TMP_PREFIX "%s", f->snap ? d.dd : d.ld, f->name);
		act_say(r, "%s: writing %s as it is read from %s", f->name, tmp, st->source);
		bool dropped = false;
		rc = push(r, st, f, tmp, &dropped, err);
		pushed[k] = rc == CUT_OK && !dropped;
	}
	if (rc == CUT_OK && (rc = staged_wait_done(st, err)) != CUT_OK)
		cut_err_prefix(err, "nothing renamed into place: ");
	if (rc == CUT_OK)
		rc = finish(r, st, pushed, &d, err);
	if (rc != CUT_OK && rc != CUT_ECANCELED && rc != CUT_ETIMEOUT && rc != CUT_ENET)
		clean_tmp(r, d.dd, d.ld);
	return rc;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static void h_zk_copy(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	if (strcmp(act_param_text(s, "clean_snapshot", "false"), "true") == 0)
		plan_add(out, "source: %s; first restarts that leader (refused while ClickHouse answers) so the newly "
			      "elected one writes a snapshot at the last zxid; copies that snapshot alone, refused if any "
			      "transaction follows it", act_param_text(s, "from", "?"));
	else
		plan_add(out, "source: %s; files: the newest valid snapshot and every log ZooKeeper replays after it "
			      "(refused on a zxid gap)", act_param_text(s, "from", "?"));
	plan_add(out, "read once, written to every destination in parallel; free space checked first");
}

static void d_zk_copy(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "write snapshot.<zxid> into %s/version-2 and log.<zxid>... into %s/version-2 "
		      "(temporary name, fsync, rename)", ACT_PATH(sc->zk->data_dir), ACT_PATH(sc->zk->data_log_dir));
	plan_add(out, "verify size and SHA-256 of each file on %s against the source", sc->zk->name);
}

const struct action_ops act_zk_copy = {.name = "zk.copy", .kinds = TGT_ZK,
	.params = ACT_PARAMS("from", "clean_snapshot", "target_version"), .required = ACT_PARAMS("from"), .destructive = true,
	.summary = "copy snapshot and logs to every destination", .describe = d_zk_copy, .header = h_zk_copy,
	.run = zk_copy_run, .parallel = true, .begin = zk_copy_begin};
