/*
 * zk_copy: the zk.copy action's source side, its begin hook. The source's
 * files are read once, into a local staging dir, each published as it grows
 * so the destinations (zk_push.c) can write it on at once, and checked there
 * with the same code as `cutover zk select`: the newest snapshot whose seals
 * hold, and exactly the logs ZooKeeper replays after it, with no hole in the
 * chain. Only when that holds do the destinations rename what they wrote
 * into place; a corrupt snapshot is dropped and the next one read instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act_int.h"
#include "zk_int.h"
#include "ck_int.h"
#include "cutover/probe.h"
#include "cutover/target.h"
#include "cutover/zk_files.h"
#include "zk_copy_int.h"

static void staged_free(void *p)
{
	struct staged *st = p;
	for (size_t i = 0; i < st->n; i++) {
		if (st->f[i].fd >= 0)
			close(st->f[i].fd);
		unlink(st->f[i].path); /* the staged copy, or the symlink to a source read in place */
	}
	char sub[160];
	snprintf(sub, sizeof sub, "%s/snap", st->dir);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/log", st->dir);
	rmdir(sub);
	rmdir(st->dir);
	free(st->listing);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->m);
	free(st);
}

struct sfile *staged_wait_file(struct staged *st, size_t k)
{
	pthread_mutex_lock(&st->m);
	while (k >= st->n && !st->done)
		pthread_cond_wait(&st->cv, &st->m);
	struct sfile *f = k < st->n ? &st->f[k] : NULL;
	pthread_mutex_unlock(&st->m);
	return f;
}

int staged_wait_done(struct staged *st, struct cut_err *err)
{
	pthread_mutex_lock(&st->m);
	while (!st->done)
		pthread_cond_wait(&st->cv, &st->m);
	int rc = st->why.code;
	if (rc != CUT_OK)
		*err = st->why;
	pthread_mutex_unlock(&st->m);
	return rc;
}

static void sf_state(struct staged *st, struct sfile *f, enum sf_state s)
{
	pthread_mutex_lock(&st->m);
	f->st = s;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->m);
	if (s == SF_DROPPED)
		unlink(f->path);
}

/* ---- the source ------------------------------------------------------------------- */

static const struct inv_zk_node *source_node(struct act_run *r, const char **ens, struct cut_err *err)
{
	const struct rb_param *p = rb_param(act_step(r), "from");
	struct selector sel;
	if (p == NULL || p->value == NULL || sel_parse(act_scope(r)->inv, p->value, &sel, err) != CUT_OK)
		return NULL;
	*ens = sel.ens ? sel.ens->name : NULL;
	if (sel.kind != TGT_ZK || (sel.role != ROLE_LEADER && sel.role != ROLE_NODE)) {
		cut_fail(err, CUT_EINVAL, "from: %s must name one node (<ensemble>.leader or .node(N))", p->value);
		return NULL;
	}
	if (sel.role == ROLE_NODE)
		return sel.zk;
	for (size_t i = 0; i < sel.ens->n; i++) {
		struct zk_srvr s;
		const struct inv_zk_node *z = &sel.ens->nodes[i];
		zk_probe_srvr(z->host, z->client_port ? z->client_port : 2181, 3000, &s);
		if (s.role == ZR_LEADER)
			return z;
	}
	cut_fail(err, CUT_ENOTFOUND, "no node of %s reports Mode: leader; nothing to copy from", sel.ens->name);
	return NULL;
}

struct fetch {
	int fd; /* the staged copy being written; -1 when read in place */
	struct hash_ctx *h;
	uint64_t n, total;
	struct act_run *r;
	const char *name;
	struct staged *st; /* publish the bytes as they land, when set */
	struct sfile *f;
	uint64_t told; /* bytes the followers were last woken for */
	bool failed;
};

static void fetch_sink(void *ud, const char *buf, size_t len)
{
	struct fetch *f = ud;
	if (f->failed || (f->fd >= 0 && write(f->fd, buf, len) != (ssize_t)len)) {
		f->failed = true;
		return;
	}
	hash_update(f->h, buf, len);
	f->n += len;
	if (f->st) {
		/* Followers that caught up are woken per MiB, not per chunk:
		 * every wake-up of three threads costs more than the bytes. */
		pthread_mutex_lock(&f->st->m);
		f->f->have = f->n;
		if (f->st->followers_waiting && f->n - f->told >= (1u << 20)) {
			pthread_cond_broadcast(&f->st->cv);
			f->told = f->n;
		}
		pthread_mutex_unlock(&f->st->m);
	}
	act_progress(f->r, f->name, f->n, f->total);
}

/*
 * One remote file into local, hashed on the way, its bytes shared with the
 * followers (sf) as they land. Not synced: staging is scratch, read back at
 * once and gone when the step ends. A snapshot on this machine (the console
 * runs on the source node) is not staged but read where it lies: ZooKeeper
 * never rewrites a finished snapshot, the followers pread the descriptor
 * opened here (it stays readable should autopurge delete the file), and each
 * destination's own hash proves they sent what was hashed. Logs are always
 * staged: ZooKeeper writes over the zero padding of a live one.
 */
int zk_copy_fetch(struct act_run *src, const char *remote, const char *local, uint64_t size, char sha[HASH_HEX_LEN + 1],
		 struct staged *st, struct sfile *sf, struct cut_err *err)
{
	bool in_place = sf && sf->snap && remote[0] == '/' && act_here(src); /* the symlink must name it from anywhere */
	int fd = in_place ? open(remote, O_RDONLY | O_CLOEXEC) : open(local, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && in_place && symlink(remote, local) != 0) /* zk_select lists the staging dir by name */
		close(fd), fd = -1;
	sha[0] = '\0';
	if (fd < 0)
		return in_place ? cut_fail(err, CUT_EIO, "reading %s here (the node is ssh.local): %s; run cutover as a user "
					   "who can read ZooKeeper's dataDir", remote, strerror(errno))
				: cut_fail(err, CUT_EIO, "staging %s: %s; point TMPDIR at a writable dir with room for the copy",
					   local, strerror(errno));
	if (sf) {
		pthread_mutex_lock(&st->m);
		sf->fd = fd; /* staged_free closes it */
		sf->in_place = in_place;
		pthread_mutex_unlock(&st->m);
	}
	struct fetch f = {.fd = in_place ? -1 : fd, .h = hash_new(), .total = size, .r = src, .name = strrchr(local, '/') + 1,
			  .st = st, .f = sf};
	int rc = act_stream_read(src, remote, fetch_sink, &f, err);
	if (rc == CUT_OK && f.failed)
		rc = cut_fail(err, CUT_EIO, "staging %s: the local disk refused the write (full?)", local);
	if (sf == NULL)
		close(fd);
	hash_final(f.h, sha);
	return rc;
}

static int by_zxid(const void *a, const void *b)
{
	const struct rfile *x = a, *y = b;
	return x->zxid < y->zxid ? -1 : x->zxid > y->zxid;
}

/* "size name" of every snapshot.* in snapdir and log.* in logdir (either may be NULL), as
 * ZooKeeper sees them, in one command. */
int zk_copy_list(struct act_run *src, const char *snapdir, const char *logdir, struct rfile **v, size_t *n,
		       struct cut_err *err)
{
	struct arena *a = act_arena(src);
	const char *each = "do if [ -f \"$f\" ]; then stat -c '%s %n' \"$f\"; fi; done";
	const char *cmd = "true";
	if (snapdir)
		cmd = arena_printf(a, "%s && cd %s && for f in snapshot.*; %s", cmd, subst_shell_quote(a, snapdir), each);
	if (logdir)
		cmd = arena_printf(a, "%s && cd %s && for f in log.*; %s", cmd, subst_shell_quote(a, logdir), each);
	char *out = NULL;
	int status, rc = act_capture(src, cmd, &status, &out, 1 << 20, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "cannot list %s%s%s on the source; check dataDir and dataLogDir in the inventory", snapdir ? snapdir : "",
			      snapdir && logdir ? " and " : "", logdir ? logdir : "");
	char *save = NULL;
	for (char *l = rc == CUT_OK ? strtok_r(out, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
		struct rfile f = {0};
		unsigned long long size;
		if (sscanf(l, "%llu %95s", &size, f.name) != 2)
			continue;
		f.size = size;
		f.snap = zk_file_zxid(f.name, "snapshot", &f.zxid);
		if (!f.snap && !zk_file_zxid(f.name, "log", &f.zxid))
			continue;
		struct rfile *nv = realloc(*v, (*n + 1) * sizeof *nv);
		if (nv == NULL)
			break;
		*v = nv;
		(*v)[(*n)++] = f;
	}
	free(out);
	if (*n)
		qsort(*v, *n, sizeof **v, by_zxid);
	return rc;
}

/* The log ZooKeeper replays from after a snapshot at snap_zxid: the one with
 * the greatest start <= it (or, when every log starts after it, the first). */
static size_t first_log(const struct rfile *v, size_t n, uint64_t snap_zxid)
{
	size_t first = n, earliest = n;
	for (size_t i = 0; i < n; i++) {
		if (v[i].snap)
			continue;
		if (earliest == n)
			earliest = i;
		if (v[i].zxid <= snap_zxid)
			first = i;
	}
	return first == n ? earliest : first;
}

/* Publish the next file to read; the destinations may start on it. */
static struct sfile *sf_add(struct staged *st, const struct rfile *rf, bool check_only, struct cut_err *err)
{
	if (st->n == STAGE_MAX) {
		cut_fail(err, CUT_EINVAL, "more than %d snapshot and log files to copy; purge old ones on the source (zkCleanup.sh) and retry", STAGE_MAX);
		return NULL;
	}
	struct sfile *f = &st->f[st->n];
	*f = (struct sfile){.snap = rf->snap, .check_only = check_only, .size = rf->size, .fd = -1, .st = SF_FETCHING};
	snprintf(f->name, sizeof f->name, "%s", rf->name);
	snprintf(f->path, sizeof f->path, "%s/%s/%s", st->dir, rf->snap ? "snap" : "log", rf->name);
	pthread_mutex_lock(&st->m);
	st->n++;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->m);
	return f;
}

static int fetch_one(struct act_run *src, struct staged *st, struct sfile *f, const char *dir, struct cut_err *err)
{
	char sha[HASH_HEX_LEN + 1];
	int rc = zk_copy_fetch(src, arena_printf(act_arena(src), "%s/%s", dir, f->name), f->path, f->size, sha, st, f, err);
	pthread_mutex_lock(&st->m);
	memcpy(f->sha, sha, sizeof sha);
	f->size = f->have; /* what was read is what goes on */
	f->fetched = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->m);
	return rc;
}

/*
 * A snapshot's seals, checked while it is read: one more follower of the
 * staged file, so the check of a gigabyte costs no time after the read.
 */
#define CHECK_BUF (1 << 20)

struct checker {
	struct staged *st;
	struct sfile *f;
	uint64_t listed; /* the size the listing gave */
	uint64_t off;
	char *buf;
	size_t len, pos;
	struct zk_snap sn;
	int rc;
	struct cut_err err;
	pthread_t th;
};

static size_t check_read(void *ud, void *out, size_t n)
{
	struct checker *c = ud;
	size_t got = 0;
	while (got < n) {
		if (c->pos == c->len) {
			pthread_mutex_lock(&c->st->m);
			while (c->off == c->f->have && !c->f->fetched) {
				c->st->followers_waiting++;
				pthread_cond_wait(&c->st->cv, &c->st->m);
				c->st->followers_waiting--;
			}
			uint64_t avail = c->f->have - c->off;
			int fd = c->f->fd;
			pthread_mutex_unlock(&c->st->m);
			if (avail == 0)
				break; /* the end, or the read failed */
			ssize_t k = pread(fd, c->buf, avail < CHECK_BUF ? (size_t)avail : CHECK_BUF, (off_t)c->off);
			if (k <= 0)
				break;
			c->off += (uint64_t)k, c->len = (size_t)k, c->pos = 0;
		}
		size_t take = n - got < c->len - c->pos ? n - got : c->len - c->pos;
		memcpy((char *)out + got, c->buf + c->pos, take);
		c->pos += take, got += take;
	}
	return got;
}

static void *check_work(void *p)
{
	struct checker *c = p;
	c->rc = zk_snap_read_stream(c->f->name, c->listed, check_read, c, &c->sn, &c->err);
	return NULL;
}

/* Read one snapshot and check its seals as it comes (after it, if no thread is to be had). */
static int fetch_snapshot(struct act_run *src, struct staged *st, struct sfile *f, const char *dir, struct zk_snap *sn,
			  struct cut_err *err)
{
	struct checker c = {.st = st, .f = f, .listed = f->size, .buf = malloc(CHECK_BUF), .rc = -1};
	bool threaded = c.buf && pthread_create(&c.th, NULL, check_work, &c) == 0;
	int rc = fetch_one(src, st, f, dir, err);
	if (threaded)
		pthread_join(c.th, NULL);
	free(c.buf);
	if (rc != CUT_OK)
		return rc;
	bool checked = threaded && c.rc == CUT_OK;
	if (checked && ((c.off == f->size && f->size == c.listed) || (f->in_place && !c.sn.valid))) {
		*sn = c.sn; /* every byte read was checked, or some of them are already wrong */
		return CUT_OK;
	}
	if (f->in_place) { /* the file may have grown since: reading it again would check other bytes than were sent */
		*sn = (struct zk_snap){.valid = false};
		snprintf(sn->error, sizeof sn->error, "it changed while it was read (ZooKeeper was still writing it?)");
		return CUT_OK;
	}
	return zk_snap_read(f->path, sn, err); /* it changed size while read, or no thread: the staged bytes */
}

/* Read what the selection needs: the newest snapshot whose seals hold, then the logs after it. */
static int fetch_set(struct act_run *src, struct staged *st, const char *dd, const char *ld, bool snapshot_alone,
		     struct cut_err *err)
{
	const struct rfile *v = st->listing;
	size_t n = st->nlisting;
	uint64_t snap_zxid = 0;
	bool have = false;
	int rc = CUT_OK;
	for (size_t i = n; rc == CUT_OK && !have && i-- > 0;) {
		if (!v[i].snap)
			continue;
		struct sfile *f = sf_add(st, &v[i], false, err);
		struct zk_snap sn;
		if (f == NULL || (rc = fetch_snapshot(src, st, f, dd, &sn, err)) != CUT_OK)
			return f ? rc : err->code;
		if (sn.valid && !sn.compression) {
			snap_zxid = v[i].zxid, have = true;
			st->snap = sn;
			sf_state(st, f, SF_STAGED);
		} else {
			act_say(src, "%s passed over: %s", v[i].name, sn.valid ? "compressed" : sn.error);
			sf_state(st, f, SF_DROPPED);
		}
	}
	if (!have)
		return cut_fail(err, CUT_ENOTFOUND, "no valid snapshot on the source (the output above says why each was passed over); copy from another node (from:)");
	/* clean_snapshot reads the logs only to prove the snapshot holds them all. */
	for (size_t i = first_log(v, n, snap_zxid); rc == CUT_OK && i < n; i++) {
		if (v[i].snap)
			continue;
		struct sfile *f = sf_add(st, &v[i], snapshot_alone, err);
		if (f == NULL || (rc = fetch_one(src, st, f, ld, err)) != CUT_OK)
			return f ? rc : err->code;
		sf_state(st, f, SF_STAGED);
	}
	return rc;
}

/* The staged set must be what `zk select` picks from it; what it leaves out is dropped. */
static int check_set(struct act_run *r, struct staged *st, bool for_34, bool snapshot_alone, const char *ens_name,
		     struct cut_err *err)
{
	struct arena *a = act_arena(r);
	struct zk_selection sel = {0};
	int rc = zk_select(arena_printf(a, "%s/snap", st->dir), arena_printf(a, "%s/log", st->dir), for_34, &st->snap,
			   &sel, err);
	if (rc == CUT_OK && snapshot_alone && sel.txns_after_snap != 0)
		rc = cut_fail(err, CUT_EREFUSED, "clean_snapshot: the new leader's snapshot 0x%llx is %ld transaction(s) "
			      "behind its logs: something still writes to %s", (unsigned long long)sel.snap_zxid,
			      sel.txns_after_snap, ens_name);
	size_t nlogs = 0;
	uint64_t total = 0;
	for (size_t k = 0; rc == CUT_OK && k < st->n; k++) {
		struct sfile *f = &st->f[k];
		bool picked = false;
		for (size_t i = 0; i < sel.n; i++)
			picked |= strcmp(strrchr(sel.files[i].path, '/') + 1, f->name) == 0;
		if (f->st == SF_STAGED && (!picked || f->check_only))
			sf_state(st, f, SF_DROPPED);
		if (f->st == SF_STAGED)
			nlogs += !f->snap, total += f->size;
	}
	uint64_t last = snapshot_alone ? sel.snap_zxid : sel.last_zxid;
	if (rc == CUT_OK)
		act_say(r, "source %s: snapshot 0x%llx and %zu log(s), %llu bytes; they restore up to zxid 0x%llx "
			"(%ld transactions after the snapshot)", st->source, (unsigned long long)sel.snap_zxid, nlogs,
			(unsigned long long)total, (unsigned long long)last, snapshot_alone ? 0 : sel.txns_after_snap);
	zk_selection_free(&sel);
	if (rc == CUT_OK)
		rc = act_fact_set(r, arena_printf(a, "copy.%s.last_zxid", ens_name), arena_printf(a, "0x%llx",
				  (unsigned long long)last), err);
	return rc;
}

/* List the source, make the staging dir and share it: from here on the destinations follow. */
static int stage_open(struct act_run *r, struct act_run *src, const char *dd, const char *ld, struct staged **out,
		      struct cut_err *err)
{
	struct staged *st = calloc(1, sizeof *st);
	if (st == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	pthread_mutex_init(&st->m, NULL);
	pthread_cond_init(&st->cv, NULL);
	snprintf(st->source, sizeof st->source, "%s", act_scope(src)->zk->name);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	snprintf(st->dir, sizeof st->dir, "%s/cutover-copy-XXXXXX", tmp);
	int rc = zk_copy_list(src, dd, ld, &st->listing, &st->nlisting, err);
	if (rc == CUT_OK && mkdtemp(st->dir) == NULL)
		rc = cut_fail(err, CUT_EIO, "cannot make a staging dir in %s: %s", tmp, strerror(errno)), st->dir[0] = '\0';
	struct arena *a = act_arena(r);
	if (rc == CUT_OK && (mkdir(arena_printf(a, "%s/snap", st->dir), 0700) != 0 ||
			     mkdir(arena_printf(a, "%s/log", st->dir), 0700) != 0))
		rc = cut_fail(err, CUT_EIO, "staging in %s: %s", st->dir, strerror(errno));
	/* What the destinations need room for, if the newest snapshot is good. */
	const struct rfile *v = st->listing;
	size_t n = st->nlisting, snap = n;
	for (size_t i = 0; i < n; i++)
		if (v[i].snap)
			snap = i;
	for (size_t i = snap < n ? first_log(v, n, v[snap].zxid) : n; i < n; i++)
		if (!v[i].snap)
			st->log_bytes += v[i].size;
	st->snap_bytes = snap < n ? v[snap].size : 0;
	if (rc != CUT_OK) {
		staged_free(st);
		return rc;
	}
	act_step_set(r, st, staged_free);
	*out = st;
	return CUT_OK;
}

static void stage_end(struct staged *st, int rc, const struct cut_err *err)
{
	pthread_mutex_lock(&st->m);
	st->done = true;
	if (rc != CUT_OK)
		st->why = *err, st->why.code = rc;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->m);
}

static int stage(struct act_run *r, bool snapshot_alone, struct cut_err *err)
{
	const char *ens_name = NULL;
	const struct inv_zk_node *z = source_node(r, &ens_name, err);
	if (z == NULL)
		return err->code;
	struct subst_scope sc = {.inv = act_scope(r)->inv, .zk = z, .ensemble = ens_name};
	struct act_run *src = act_open_other(r, z->name, z->host, &z->ssh, &sc);
	struct arena *a = act_arena(r);
	const char *dd = NULL, *ld = NULL;
	if (src == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	int rc = zk_dirs(a, &sc, &dd, &ld, err);
	struct staged *st = NULL;
	if (rc == CUT_OK) {
		dd = arena_printf(a, "%s/version-2", dd);
		ld = arena_printf(a, "%s/version-2", ld);
		rc = stage_open(r, src, dd, ld, &st, err);
	}
	if (rc == CUT_OK && st != NULL)
		rc = fetch_set(src, st, dd, ld, snapshot_alone, err);
	act_close_other(src, rc);
	const struct inv_ensemble *dst = inv_ensemble(sc.inv, act_scope(r)->ensemble);
	bool for_34 = dst && dst->version && strncmp(dst->version, "3.4", 3) == 0;
	if (rc == CUT_OK && st != NULL)
		rc = check_set(r, st, for_34, snapshot_alone, ens_name, err);
	if (rc != CUT_OK)
		cut_err_prefix(err, "reading the source %s: ", z->name);
	if (st)
		stage_end(st, rc, err);
	return rc;
}

/*
 * clean_snapshot: restart the source ensemble's leader so the newly elected
 * one writes a snapshot at its last zxid (ZooKeeperServer.loadData takes one
 * when a leader starts to lead); the copy then needs that snapshot alone.
 * Only with ClickHouse down: a client writing during the election would make
 * the snapshot stale at once (stage() checks that no transaction follows it).
 */
static int restart_leader(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	for (size_t i = 0; i < sc->inv->nck; i++) {
		char *out = NULL;
		struct cut_err ce = {0};
		int up = ck_query(&sc->inv->ck[i], "SELECT 1", 2000, &out, &ce) == CUT_OK;
		free(out);
		if (up)
			return cut_fail(err, CUT_EREFUSED, "clean_snapshot: ClickHouse %s still answers; stop ClickHouse "
					"before restarting the source leader", sc->inv->ck[i].name);
	}
	const char *ens_name = NULL;
	const struct inv_zk_node *z = source_node(r, &ens_name, err);
	if (z == NULL)
		return err->code;
	struct subst_scope zsc = {.inv = sc->inv, .zk = z, .ensemble = ens_name};
	struct act_run *o = act_open_other(r, z->name, z->host, &z->ssh, &zsc);
	if (o == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	act_say(r, "clean_snapshot: restarting the source leader %s so a new leader writes a snapshot at the last zxid",
		z->name);
	/* the verbs themselves, through the table: what zk.stop, zk.start and zk.wait_quorum do */
	const char *const verbs[] = {"zk.stop", "zk.start", "zk.wait_quorum"};
	int rc = CUT_OK;
	for (int i = 0; i < 3 && rc == CUT_OK; i++)
		rc = action_find(verbs[i])->run(o, err);
	act_close_other(o, rc);
	return rc;
}

/*
 * Once per step, beside the destinations: read the source once, into
 * staging, sharing each file as it grows.
 */
int zk_copy_begin(struct act_run *r, struct cut_err *err)
{
	const struct rb_param *p = rb_param(act_step(r), "clean_snapshot");
	bool clean = p && p->value && strcmp(p->value, "true") == 0;
	int rc = act_in_rollback(r) ? zk_rollback_allowed(r, err) : CUT_OK;
	if (rc == CUT_OK && clean)
		rc = restart_leader(r, err);
	return rc == CUT_OK ? stage(r, clean, err) : rc;
}

