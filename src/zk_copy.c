/*
 * zk_copy: the zk.copy action. The source's files are read once, into a
 * local staging directory, and checked there with the same code as
 * `cutover zk select`: the newest snapshot whose seals hold, and exactly the
 * logs ZooKeeper replays after it, with no hole in the chain. Each
 * destination then gets those files -- snapshots in dataDir/version-2, logs
 * in dataLogDir/version-2, preallocated logs at their real size -- all
 * destinations at once, each on its own thread and connection, written
 * under a temporary name, synced and renamed, and verified by SHA-256
 * computed here while reading and by sha256sum there. A destination that
 * already holds a file with the right hash keeps it, so a retry copies only
 * what is missing or wrong; one that holds any other ZooKeeper file is
 * refused (zk.wipe first).
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
#include "cutover/hash.h"
#include "cutover/probe.h"
#include "cutover/target.h"
#include "cutover/zk_files.h"

struct staged {
	char dir[128];
	struct zk_selection sel;
	char (*sha)[HASH_HEX_LEN + 1];
	uint64_t total;
	char source[64];
};

static void staged_free(void *p)
{
	struct staged *st = p;
	for (size_t i = 0; i < st->sel.n; i++)
		unlink(st->sel.files[i].path);
	char sub[160];
	snprintf(sub, sizeof sub, "%s/snap", st->dir);
	rmdir(sub);
	snprintf(sub, sizeof sub, "%s/log", st->dir);
	rmdir(sub);
	rmdir(st->dir);
	zk_selection_free(&st->sel);
	free(st->sha);
	free(st);
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
	int fd;
	struct hash_ctx *h;
	uint64_t n, total;
	struct act_run *r;
	const char *name;
	bool failed;
};

static void fetch_sink(void *ud, const char *buf, size_t len)
{
	struct fetch *f = ud;
	if (f->failed || write(f->fd, buf, len) != (ssize_t)len) {
		f->failed = true;
		return;
	}
	hash_update(f->h, buf, len);
	f->n += len;
	act_progress(f->r, f->name, f->n, f->total);
}

static int fetch(struct act_run *src, const char *remote, const char *local, uint64_t size, char sha[HASH_HEX_LEN + 1],
		 struct cut_err *err)
{
	struct fetch f = {.fd = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), .h = hash_new(),
			  .total = size, .r = src, .name = strrchr(local, '/') + 1};
	if (f.fd < 0) {
		hash_final(f.h, sha);
		return cut_fail(err, CUT_EIO, "staging %s: %s", local, strerror(errno));
	}
	int rc = act_stream_read(src, remote, fetch_sink, &f, err);
	if (rc == CUT_OK && (f.failed || fsync(f.fd) != 0))
		rc = cut_fail(err, CUT_EIO, "staging %s: the local disk refused the write (full?)", local);
	close(f.fd);
	hash_final(f.h, sha);
	return rc;
}

struct rfile {
	char name[96];
	uint64_t size, zxid;
	bool snap;
};

static int by_zxid(const void *a, const void *b)
{
	const struct rfile *x = a, *y = b;
	return x->zxid < y->zxid ? -1 : x->zxid > y->zxid;
}

/* "size name" of every snapshot.* and log.* in a remote dir. */
static int list_remote(struct act_run *src, const char *dir, struct rfile **v, size_t *n, struct cut_err *err)
{
	struct arena *a = act_arena(src);
	const char *cmd = arena_printf(a, "cd %s && for f in snapshot.* log.*; do [ -f \"$f\" ] && stat -c '%%s %%n' \"$f\"; done; true",
				       subst_shell_quote(a, dir));
	char *out = NULL;
	int status, rc = act_capture(src, cmd, &status, &out, 1 << 20, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "cannot list %s on the source", dir);
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

struct fetched {
	char name[96];
	char sha[HASH_HEX_LEN + 1];
};

/* Fetch what the selection needs: the newest snapshot whose seals hold, then the logs after it. */
static int fetch_set(struct act_run *src, struct staged *st, const char *dd, const char *ld, struct rfile *v, size_t n,
		     struct fetched *got, size_t *ngot, struct cut_err *err)
{
	struct arena *a = act_arena(src);
	uint64_t snap_zxid = 0;
	bool have = false;
	int rc = CUT_OK;
	for (size_t i = n; rc == CUT_OK && !have && i-- > 0;) {
		if (!v[i].snap)
			continue;
		const char *local = arena_printf(a, "%s/snap/%s", st->dir, v[i].name);
		struct fetched *g = &got[*ngot];
		rc = fetch(src, arena_printf(a, "%s/%s", dd, v[i].name), local, v[i].size, g->sha, err);
		struct zk_snap sn;
		if (rc == CUT_OK && (rc = zk_snap_read(local, &sn, err)) == CUT_OK) {
			if (sn.valid && !sn.compression) {
				snprintf(g->name, sizeof g->name, "%s", v[i].name);
				(*ngot)++;
				snap_zxid = v[i].zxid, have = true;
			} else {
				act_say(src, "%s passed over: %s", v[i].name, sn.valid ? "compressed" : sn.error);
				unlink(local);
			}
		}
	}
	if (rc == CUT_OK && !have)
		return cut_fail(err, CUT_ENOTFOUND, "no valid snapshot on the source");
	/* The log with the greatest start <= the snapshot, and every later one
	 * (or, when every log starts after it, all of them). */
	size_t first = n, earliest = n;
	for (size_t i = 0; i < n; i++) {
		if (v[i].snap)
			continue;
		if (earliest == n)
			earliest = i;
		if (v[i].zxid <= snap_zxid)
			first = i;
	}
	if (first == n)
		first = earliest;
	for (size_t i = first; rc == CUT_OK && i < n; i++) {
		if (v[i].snap || *ngot >= 256)
			continue;
		struct fetched *g = &got[*ngot];
		rc = fetch(src, arena_printf(a, "%s/%s", ld, v[i].name), arena_printf(a, "%s/log/%s", st->dir, v[i].name),
			   v[i].size, g->sha, err);
		if (rc == CUT_OK)
			snprintf(g->name, sizeof g->name, "%s", v[i].name), (*ngot)++;
	}
	return rc;
}

static int stage(struct act_run *r, bool snapshot_alone, struct staged **out, struct cut_err *err)
{
	const char *ens_name = NULL;
	const struct inv_zk_node *z = source_node(r, &ens_name, err);
	if (z == NULL)
		return err->code;
	struct subst_scope sc = {.inv = act_scope(r)->inv, .zk = z, .ensemble = ens_name};
	struct act_run *src = act_open_other(r, z->name, z->host, &z->ssh, &sc);
	struct arena *a = act_arena(r);
	const char *dd = NULL, *ld = NULL;
	zk_dirs(a, &sc, &dd, &ld, err);
	struct staged *st = calloc(1, sizeof *st);
	struct fetched *got = calloc(256, sizeof *got);
	if (src == NULL || ld == NULL || st == NULL || got == NULL) {
		free(st), free(got);
		return err->code ? err->code : cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	dd = arena_printf(a, "%s/version-2", dd);
	ld = arena_printf(a, "%s/version-2", ld);
	snprintf(st->source, sizeof st->source, "%s", z->name);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	snprintf(st->dir, sizeof st->dir, "%s/cutover-copy-XXXXXX", tmp);
	struct rfile *v = NULL;
	size_t n = 0, ngot = 0;
	int rc = mkdtemp(st->dir) ? CUT_OK : cut_fail(err, CUT_EIO, "cannot make a staging dir in %s: %s", tmp, strerror(errno));
	if (rc == CUT_OK && (mkdir(arena_printf(a, "%s/snap", st->dir), 0700) != 0 || mkdir(arena_printf(a, "%s/log", st->dir), 0700) != 0))
		rc = cut_fail(err, CUT_EIO, "staging in %s: %s", st->dir, strerror(errno));
	if (rc == CUT_OK)
		rc = list_remote(src, dd, &v, &n, err);
	if (rc == CUT_OK && strcmp(dd, ld) != 0)
		rc = list_remote(src, ld, &v, &n, err);
	if (rc == CUT_OK)
		rc = fetch_set(src, st, dd, ld, v, n, got, &ngot, err);
	act_close_other(src, rc);
	const struct inv_ensemble *dst = inv_ensemble(sc.inv, act_scope(r)->ensemble);
	bool for_34 = dst && dst->version && strncmp(dst->version, "3.4", 3) == 0;
	if (rc == CUT_OK)
		rc = zk_select(arena_printf(a, "%s/snap", st->dir), arena_printf(a, "%s/log", st->dir), for_34, &st->sel, err);
	if (rc == CUT_OK && snapshot_alone && st->sel.txns_after_snap != 0)
		rc = cut_fail(err, CUT_EREFUSED, "clean_snapshot: the new leader's snapshot 0x%llx is %ld transaction(s) "
			      "behind its logs: something still writes to %s", (unsigned long long)st->sel.snap_zxid,
			      st->sel.txns_after_snap, ens_name);
	while (rc == CUT_OK && snapshot_alone && st->sel.n > 1) { /* the snapshot holds it all */
		struct zk_pick *l = &st->sel.files[--st->sel.n];
		unlink(l->path);
		free(l->path);
		st->sel.last_zxid = st->sel.snap_zxid;
	}
	if (rc == CUT_OK && (st->sha = calloc(st->sel.n, sizeof *st->sha)) == NULL)
		rc = cut_fail(err, CUT_ENOMEM, "out of memory");
	for (size_t i = 0; rc == CUT_OK && i < st->sel.n; i++) {
		const char *base = strrchr(st->sel.files[i].path, '/') + 1;
		for (size_t k = 0; k < ngot; k++)
			if (strcmp(got[k].name, base) == 0)
				memcpy(st->sha[i], got[k].sha, sizeof st->sha[i]);
		st->total += st->sel.files[i].size;
	}
	free(v);
	free(got);
	if (rc != CUT_OK) {
		staged_free(st);
		cut_err_prefix(err, "reading the source %s: ", z->name);
		return rc;
	}
	act_say(r, "source %s: snapshot 0x%llx and %zu log(s), %llu bytes; they restore up to zxid 0x%llx (%ld transactions after the snapshot)",
		z->name, (unsigned long long)st->sel.snap_zxid, st->sel.n - 1, (unsigned long long)st->total,
		(unsigned long long)st->sel.last_zxid, st->sel.txns_after_snap);
	*out = st;
	return act_fact_set(r, arena_printf(a, "copy.%s.last_zxid", ens_name),
			    arena_printf(a, "0x%llx", (unsigned long long)st->sel.last_zxid), err);
}

/* ---- a destination ------------------------------------------------------------------ */

struct push {
	FILE *f;
	struct act_run *r;
	const char *name;
	uint64_t n, total;
};

static ssize_t push_src(void *ud, char *buf, size_t cap)
{
	struct push *p = ud;
	size_t k = fread(buf, 1, cap, p->f);
	if (k == 0 && ferror(p->f))
		return -1;
	p->n += k;
	act_progress(p->r, p->name, p->n, p->total);
	return (ssize_t)k;
}

/* sha256sum of a remote file, or "" when it is not there. */
static int remote_sha(struct act_run *r, const char *path, char sha[HASH_HEX_LEN + 1], struct cut_err *err)
{
	char *out = NULL;
	int status;
	const char *q = subst_shell_quote(act_arena(r), path);
	int rc = act_capture(r, arena_printf(act_arena(r), "if [ -f %s ]; then sha256sum %s; fi", q, q), &status, &out,
			     4096, err);
	sha[0] = '\0';
	if (rc == CUT_OK && status == 0 && out && strlen(out) >= HASH_HEX_LEN)
		snprintf(sha, HASH_HEX_LEN + 1, "%.64s", out);
	free(out);
	return rc;
}

/* Nothing but our own files may be in the destination dirs: another snapshot would win the restore. */
static int check_dest(struct act_run *r, const struct staged *st, const char *dir, uint64_t need, struct cut_err *err)
{
	struct arena *a = act_arena(r);
	const char *q = subst_shell_quote(a, dir);
	char *out = NULL;
	int status;
	int rc = act_capture(r, arena_printf(a, "mkdir -p %s && cd %s && ls -1 | grep -E '^(snapshot|log)\\.' ; "
					     "df -Pk . | awk 'NR==2 {print \"free\", $4}'", q, q), &status, &out, 1 << 20, err);
	unsigned long long free_kb = 0;
	char *save = NULL;
	for (char *l = rc == CUT_OK ? strtok_r(out, "\n", &save) : NULL; rc == CUT_OK && l; l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "free %llu", &free_kb) == 1)
			continue;
		bool ours = false;
		for (size_t i = 0; i < st->sel.n; i++)
			ours |= strcmp(strrchr(st->sel.files[i].path, '/') + 1, l) == 0;
		if (!ours)
			rc = cut_fail(err, CUT_EREFUSED, "%s already holds %s, which is not part of this copy; "
				      "move the dir aside with zk.wipe first", dir, l);
	}
	free(out);
	if (rc == CUT_OK && free_kb * 1024ULL < need + need / 20)
		rc = cut_fail(err, CUT_EREFUSED, "%s has %llu MiB free; the copy needs %llu MiB and 5%% to spare", dir,
			      free_kb / 1024, (unsigned long long)need / (1024 * 1024));
	return rc;
}

static int push_one(struct act_run *r, const struct staged *st, size_t i, const char *dir, struct cut_err *err)
{
	const char *local = st->sel.files[i].path, *base = strrchr(local, '/') + 1;
	const char *path = arena_printf(act_arena(r), "%s/%s", dir, base);
	char sha[HASH_HEX_LEN + 1];
	int rc = remote_sha(r, path, sha, err);
	if (rc == CUT_OK && strcmp(sha, st->sha[i]) == 0) {
		act_say(r, "%s: already there and verified", base);
		return CUT_OK;
	}
	struct push p = {.f = fopen(local, "rb"), .r = r, .name = base, .total = st->sel.files[i].size};
	if (p.f == NULL)
		return cut_fail(err, CUT_EIO, "staged %s: %s", local, strerror(errno));
	if (rc == CUT_OK)
		rc = act_stream_write(r, path, push_src, &p, err);
	fclose(p.f);
	if (rc == CUT_OK)
		rc = remote_sha(r, path, sha, err);
	if (rc == CUT_OK && strcmp(sha, st->sha[i]) != 0)
		rc = cut_fail(err, CUT_ECORRUPT, "%s on the destination has SHA-256 %.12s..., the source %.12s...", base, sha,
			      st->sha[i]);
	if (rc == CUT_OK)
		act_say(r, "%s: %llu bytes written and verified (sha256 %.12s...)", base,
			(unsigned long long)st->sel.files[i].size, st->sha[i]);
	return rc;
}

/*
 * In a rollback the copy goes from the new ensemble back to the old one. That
 * is only right once ClickHouse has run on the new ensemble: before the
 * switch the old ensemble holds the newest data, and copying the new one's
 * over it would lose whatever reached it after the forward copy. So the
 * metrika.xml of every ClickHouse node is read now and must not list the
 * destination ensemble.
 */
int zk_rollback_allowed(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_ensemble *dst = inv_ensemble(sc->inv, sc->ensemble);
	char dst_first[300] = "";
	if (dst && dst->n)
		snprintf(dst_first, sizeof dst_first, "%s:%d", dst->nodes[0].host,
			 dst->nodes[0].client_port ? dst->nodes[0].client_port : 2181);
	for (size_t i = 0; i < sc->inv->nck; i++) {
		const struct inv_ck_node *ck = &sc->inv->ck[i];
		struct subst_scope csc = {.inv = sc->inv, .ck = ck};
		struct act_run *o = act_open_other(r, ck->name, ck->host, &ck->ssh, &csc);
		const char *path = o ? subst(act_arena(r), ck->metrika, &csc, SUBST_PATH, err) : NULL;
		char *xml = NULL, hosts[1024] = "";
		size_t len;
		int rc = path ? act_read_file(o, path, 4 << 20, &xml, &len, err) : err->code;
		if (rc == CUT_OK)
			rc = ck_switch_hosts(xml, len, hosts, sizeof hosts, err);
		free(xml);
		act_close_other(o, rc);
		if (rc != CUT_OK)
			return cut_fail(err, rc, "cannot tell where ClickHouse %s points (%s); not copying back blind", ck->name,
					err->msg);
		if (dst_first[0] && strstr(hosts, dst_first))
			return cut_fail(err, CUT_EREFUSED, "ClickHouse %s still points at the %s ensemble (%s): it never ran on "
					"the other one, so %s holds the newest data; do not move it aside or copy over it "
					"(skip this step with that reason and restart ClickHouse on %s)",
					ck->name, sc->ensemble, hosts, sc->ensemble, sc->ensemble);
	}
	return CUT_OK;
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
	int rc = zk_stop_run(o, err);
	if (rc == CUT_OK)
		rc = zk_start_run(o, err);
	if (rc == CUT_OK)
		rc = zk_wait_quorum_run(o, err);
	act_close_other(o, rc);
	return rc;
}

/* Once per step, before the destinations: read the source once, into staging. */
int zk_copy_begin(struct act_run *r, struct cut_err *err)
{
	struct staged *st = NULL;
	const struct rb_param *p = rb_param(act_step(r), "clean_snapshot");
	bool clean = p && p->value && strcmp(p->value, "true") == 0;
	int rc = act_in_rollback(r) ? zk_rollback_allowed(r, err) : CUT_OK;
	if (rc == CUT_OK && clean)
		rc = restart_leader(r, err);
	if (rc == CUT_OK && (rc = stage(r, clean, &st, err)) == CUT_OK)
		act_step_set(r, st, staged_free);
	return rc;
}

/* One destination, on its own thread; the others run beside it. */
int zk_copy_run(struct act_run *r, struct cut_err *err)
{
	const struct staged *st = act_step_get(r);
	int rc;
	if (st == NULL)
		return cut_fail(err, CUT_EINVAL, "zk.copy: nothing staged");
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	const char *dd, *ld;
	if ((rc = zk_dirs(a, sc, &dd, &ld, err)) != CUT_OK)
		return rc;
	dd = arena_printf(a, "%s/version-2", dd);
	ld = arena_printf(a, "%s/version-2", ld);
	uint64_t snap_bytes = st->sel.files[0].size, log_bytes = st->total - snap_bytes;
	rc = strcmp(dd, ld) == 0 ? check_dest(r, st, dd, st->total, err)
				 : check_dest(r, st, dd, snap_bytes, err);
	if (rc == CUT_OK && strcmp(dd, ld) != 0)
		rc = check_dest(r, st, ld, log_bytes, err);
	/* 3.5+ refuses to start when snapshots and logs share a dir they should not. */
	for (size_t i = 0; rc == CUT_OK && i < st->sel.n; i++)
		rc = push_one(r, st, i, st->sel.files[i].snapshot ? dd : ld, err);
	return rc;
}

/*
 * For zk.fence: the transactions the target (a source leader) holds after
 * zxid `after`, split into those that change the tree and those that only
 * open or close sessions (a ZooKeeper client such as zk.compare makes those),
 * and the paths the former changed.
 */
int zk_fence_scan(struct act_run *r, uint64_t after, struct fence_late *late, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	memset(late, 0, sizeof *late);
	const char *dd, *ld;
	int rc = zk_dirs(a, sc, &dd, &ld, err);
	if (rc != CUT_OK)
		return rc;
	ld = arena_printf(a, "%s/version-2", ld);
	struct rfile *v = NULL;
	size_t n = 0;
	rc = list_remote(r, ld, &v, &n, err);
	char dir[128];
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	snprintf(dir, sizeof dir, "%s/cutover-fence-XXXXXX", tmp);
	if (rc == CUT_OK && mkdtemp(dir) == NULL)
		rc = cut_fail(err, CUT_EIO, "cannot make a scratch dir in %s: %s", tmp, strerror(errno));
	size_t first = n;
	for (size_t i = 0; i < n; i++) /* the log holding `after`, and every later one */
		if (!v[i].snap && (first == n || v[i].zxid <= after))
			first = i;
	for (size_t i = first; rc == CUT_OK && i < n; i++) {
		if (v[i].snap)
			continue;
		const char *local = arena_printf(a, "%s/%s", dir, v[i].name);
		char sha[HASH_HEX_LEN + 1];
		struct zk_log l;
		rc = fetch(r, arena_printf(a, "%s/%s", ld, v[i].name), local, v[i].size, sha, err);
		if (rc == CUT_OK && (rc = zk_log_read_after(local, after, &l, err)) == CUT_OK) {
			late->tree += l.after_tree_txns;
			late->sessions += l.after_txns - l.after_tree_txns;
			late->more_paths += l.after_paths_more;
			size_t have = strlen(late->paths);
			if (l.after_paths[0] && have + strlen(l.after_paths) + 3 < sizeof late->paths)
				snprintf(late->paths + have, sizeof late->paths - have, "%s%s", have ? ", " : "", l.after_paths);
			else if (l.after_paths[0])
				late->more_paths++;
		}
		unlink(local);
	}
	rmdir(dir);
	free(v);
	return rc;
}
