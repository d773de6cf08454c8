/*
 * zk_actions: the ZooKeeper verbs that act on one node at a time --
 * zk.status, zk.leader, zk.stop, zk.start, zk.wait_quorum, zk.wipe (and the
 * rollback guard zk.copy shares with it). Each asks the node itself (srvr)
 * before and after, and says what it saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act_int.h"
#include "cutover/probe.h"
#include "cutover/zk_files.h"

static int port(const struct inv_zk_node *z)
{
	return z->client_port ? z->client_port : 2181;
}

static void say_node(struct act_run *r, const struct inv_zk_node *z, const struct zk_srvr *s)
{
	if (s->role == ZR_NOANSWER || s->role == ZR_DOWN || s->role == ZR_UNKNOWN)
		act_say(r, "%s (%s:%d): %s%s%s", z->name, z->host, port(z), zk_role_name(s->role), s->error[0] ? ": " : "",
			s->error);
	else
		act_say(r, "%s (%s:%d): %s, zxid 0x%llx (epoch %u, counter %u), %ld znodes, %s", z->name, z->host, port(z),
			zk_role_name(s->role), (unsigned long long)s->zxid, ZK_EPOCH(s->zxid), ZK_COUNTER(s->zxid), s->znodes,
			s->version);
}

int zk_status_run(struct act_run *r, struct cut_err *err)
{
	(void)err;
	const struct inv_zk_node *z = act_scope(r)->zk;
	struct zk_srvr s;
	zk_probe_srvr(z->host, port(z), 3000, &s);
	say_node(r, z, &s);
	return CUT_OK;
}

/* Exactly one leader in the target's ensemble, asked of every node now. */
int zk_leader_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_ensemble *ens = inv_ensemble(sc->inv, sc->ensemble);
	const struct inv_zk_node *leader = NULL;
	size_t leaders = 0;
	for (size_t i = 0; ens && i < ens->n; i++) {
		struct zk_srvr s;
		zk_probe_srvr(ens->nodes[i].host, port(&ens->nodes[i]), 3000, &s);
		say_node(r, &ens->nodes[i], &s);
		if (s.role == ZR_LEADER)
			leader = &ens->nodes[i], leaders++;
	}
	if (leaders != 1)
		return cut_fail(err, CUT_EREFUSED, "the %s ensemble has %zu leaders; exactly one is needed", sc->ensemble, leaders);
	act_say(r, "leader of %s: %s (%s)", sc->ensemble, leader->name, leader->host);
	return CUT_OK;
}

/* Is the server process of this node alive? By the pid file zkServer.sh writes. */
static int process_alive(struct act_run *r, bool *alive, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const char *dd = subst(act_arena(r), sc->zk->data_dir, sc, SUBST_SHELL, err);
	if (dd == NULL)
		return err->code;
	int status, rc = act_exec(r, arena_printf(act_arena(r), "p=%s/zookeeper_server.pid; test -s \"$p\" && kill -0 \"$(cat \"$p\")\" 2>/dev/null", dd),
				  &status, err);
	*alive = rc == CUT_OK && status == 0;
	return rc;
}

int zk_stop_run(struct act_run *r, struct cut_err *err)
{
	const struct inv_zk_node *z = act_scope(r)->zk;
	int rc = act_run_template(r, z->stop, err);
	if (rc != CUT_OK)
		return rc;
	for (;;) {
		struct zk_srvr s;
		bool alive = true;
		zk_probe_srvr(z->host, port(z), 2000, &s);
		if (s.role == ZR_DOWN && (rc = process_alive(r, &alive, err)) == CUT_OK && !alive) {
			act_say(r, "%s: client port %d closed, server process gone", z->name, port(z));
			return CUT_OK;
		}
		if (rc != CUT_OK || (rc = act_sleep(r, 500, err)) != CUT_OK)
			return cut_fail(err, rc, "%s still %s after its stop command (%s)", z->name,
					s.role == ZR_DOWN ? "has a live process" : zk_role_name(s.role), err->msg);
	}
}

int zk_start_run(struct act_run *r, struct cut_err *err)
{
	const struct inv_zk_node *z = act_scope(r)->zk;
	struct zk_srvr s;
	zk_probe_srvr(z->host, port(z), 2000, &s);
	if (s.role != ZR_DOWN) {
		say_node(r, z, &s);
		return cut_fail(err, CUT_EREFUSED, "%s already answers on port %d (%s); not starting a second server",
				z->name, port(z), zk_role_name(s.role));
	}
	int rc = act_run_template(r, z->start, err);
	/* One node of three cannot serve alone: here "started" means it answers;
	 * zk.wait_quorum waits for the ensemble. */
	while (rc == CUT_OK) {
		zk_probe_srvr(z->host, port(z), 2000, &s);
		if (s.role != ZR_DOWN && s.role != ZR_NOANSWER) {
			say_node(r, z, &s);
			return CUT_OK;
		}
		rc = act_sleep(r, 500, err);
	}
	return rc;
}

/* One leader, n-1 followers, one zxid; then the node's log since its start. */
int zk_wait_quorum_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_ensemble *ens = inv_ensemble(sc->inv, sc->ensemble);
	char last[256] = "";
	uint64_t zxid = 0;
	for (int rc = CUT_OK;; rc = act_sleep(r, 1000, err)) {
		if (rc != CUT_OK)
			return cut_fail(err, rc, "no quorum on %s in time: %s", sc->ensemble, last);
		size_t leaders = 0, followers = 0, same = 0, n = ens ? ens->n : 0;
		uint64_t z[16] = {0};
		for (size_t i = 0; i < n && i < 16; i++) {
			struct zk_srvr s;
			zk_probe_srvr(ens->nodes[i].host, port(&ens->nodes[i]), 2000, &s);
			leaders += s.role == ZR_LEADER;
			followers += s.role == ZR_FOLLOWER;
			z[i] = s.zxid;
			if (s.role == ZR_LEADER)
				zxid = s.zxid;
		}
		/* Right after an election the leader reports (epoch << 32) and a
		 * follower that saw no transaction since may still report the previous
		 * epoch: no transaction apart, so that counts as the same. */
		for (size_t i = 0; i < n && i < 16; i++)
			same += z[i] == zxid || (ZK_COUNTER(zxid) == 0 && z[i] <= zxid);
		snprintf(last, sizeof last, "%zu leader(s), %zu follower(s) of %zu, %s zxid", leaders, followers, n,
			 same == n ? "one" : "different");
		if (n > 0 && leaders == 1 && followers == n - 1 && same == n)
			break;
	}
	act_say(r, "%s: %s 0x%llx (epoch %u, counter %u)", sc->ensemble, last, (unsigned long long)zxid, ZK_EPOCH(zxid),
		ZK_COUNTER(zxid));
	const char *log = subst(act_arena(r), sc->zk->server_log, sc, SUBST_SHELL, err);
	if (log == NULL)
		return err->code;
	/* From the last start of the server on; the seed's "no obvious error log". */
	const char *cmd = arena_printf(act_arena(r),
		"f=%s; test -r \"$f\" || { echo \"no server log at $f\"; exit 0; }; "
		"n=$(grep -n -E 'Starting quorum peer|QuorumPeerMain' \"$f\" | tail -1 | cut -d: -f1); "
		"tail -n +\"${n:-1}\" \"$f\" | grep -E ' (ERROR|FATAL) ' | tail -20; exit 0", log);
	int status, rc = act_exec(r, cmd, &status, err);
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
		if (sc->ensemble && strcmp(ck_ensemble_of(sc->inv, hosts), sc->ensemble) == 0)
			return cut_fail(err, CUT_EREFUSED, "ClickHouse %s still points at the %s ensemble (%s): it never ran on "
					"the other one, so %s holds the newest data; do not move it aside or copy over it "
					"(skip this step with that reason and restart ClickHouse on %s)",
					ck->name, sc->ensemble, hosts, sc->ensemble, sc->ensemble);
	}
	return CUT_OK;
}

/*
 * zk.wipe never deletes: version-2 is renamed to a timestamped sibling on the
 * same filesystem and an empty one made with the same owner and mode. The
 * epoch files live inside version-2 and move with it; myid stays.
 */
int zk_wipe_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_zk_node *z = sc->zk;
	const char *ck_on = act_ck_on(r);
	if (ck_on && strcmp(ck_on, sc->ensemble) == 0 && !act_in_rollback(r))
		return cut_fail(err, CUT_EREFUSED, "ClickHouse uses the %s ensemble at this step; wiping it would lose its metadata",
				sc->ensemble);
	int rc;
	if (act_in_rollback(r) && (rc = zk_rollback_allowed(r, err)) != CUT_OK)
		return rc;
	struct zk_srvr s;
	bool alive = true;
	zk_probe_srvr(z->host, port(z), 2000, &s);
	if (s.role != ZR_DOWN)
		return cut_fail(err, CUT_EREFUSED, "%s is %s on port %d; stop it before moving its data", z->name,
				zk_role_name(s.role), port(z));
	rc = process_alive(r, &alive, err);
	if (rc != CUT_OK)
		return rc;
	if (alive)
		return cut_fail(err, CUT_EREFUSED, "%s's server process still runs (pid file); stop it first", z->name);
	struct arena *a = act_arena(r);
	const char *dd, *ld;
	if ((rc = zk_dirs(a, sc, &dd, &ld, err)) != CUT_OK)
		return rc;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	const char *dirs[2] = {dd, strcmp(dd, ld) != 0 ? ld : NULL};
	for (int i = 0; i < 2 && rc == CUT_OK; i++) {
		if (dirs[i] == NULL)
			continue;
		const char *v2 = subst_shell_quote(a, arena_printf(a, "%s/version-2", dirs[i]));
		const char *moved = subst_shell_quote(a, arena_printf(a, "%s/version-2.moved-%s", dirs[i], ts));
		/* -e moved: never over an earlier move; -L: never through a symlink. */
		const char *cmd = arena_printf(a,
			"set -e; v=%s; m=%s; test ! -L \"$v\"; test ! -e \"$m\"; "
			"if [ -d \"$v\" ]; then mv -- \"$v\" \"$m\"; mkdir -- \"$v\"; "
			"chown --reference=\"$m\" \"$v\"; chmod --reference=\"$m\" \"$v\"; "
			"echo \"moved $v to $m ($(ls -A \"$m\" | wc -l) entries); $v is empty\"; "
			"else mkdir -p -- \"$v\"; echo \"$v did not exist; created empty\"; fi", v2, moved);
		int status;
		rc = act_exec(r, cmd, &status, err);
		if (rc == CUT_OK && status != 0)
			rc = cut_fail(err, CUT_EREMOTE, "moving %s/version-2 aside failed (exit %d); nothing was deleted",
				      dirs[i], status);
	}
	return rc;
}

/*
 * zk.fence: no write may reach the source after the copy. "record" keeps the
 * source leader's zxid before the copy; "check" (after the copy, and again
 * right before ClickHouse is switched) wants the same zxid now, and the
 * copied logs ending exactly there. A ClickHouse insert that lands on the
 * old ensemble after the copy is lost on the new one without a word.
 */
int zk_fence_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	const struct rb_param *p = rb_param(act_step(r), "phase");
	bool record = p && p->value && strcmp(p->value, "record") == 0;
	struct zk_srvr s;
	zk_probe_srvr(sc->zk->host, port(sc->zk), 3000, &s);
	say_node(r, sc->zk, &s);
	if (s.role != ZR_LEADER && s.role != ZR_FOLLOWER && s.role != ZR_STANDALONE)
		return cut_fail(err, CUT_EREFUSED, "%s does not serve (%s); its zxid cannot be read", sc->zk->name,
				zk_role_name(s.role));
	const char *now = arena_printf(a, "0x%llx", (unsigned long long)s.zxid);
	const char *key = arena_printf(a, "fence.%s", sc->ensemble);
	if (record) {
		act_say(r, "fence for %s recorded at %s", sc->ensemble, now);
		return act_fact_set(r, key, now, err);
	}
	const char *was = act_fact_get(r, key);
	const char *copied = act_fact_get(r, arena_printf(a, "copy.%s.last_zxid", sc->ensemble));
	if (was == NULL)
		return cut_fail(err, CUT_EREFUSED, "no fence was recorded for %s in this run (zk.fence phase: record, before the copy)",
				sc->ensemble);
	uint64_t w = strtoull(was, NULL, 16), c = copied ? strtoull(copied, NULL, 16) : 0;
	if (copied && c < w)
		return cut_fail(err, CUT_EREFUSED, "the copied logs end at %s, before the fence at %s: the copy missed transactions; copy again",
				copied, was);
	uint64_t base = copied ? c : w;
	if (s.zxid != base) {
		/* Sessions opening and closing (zk.compare's own client, a monitor)
		 * move the zxid without touching the tree; anything else is a write
		 * the copy does not hold. */
		struct fence_late late;
		int rc = zk_fence_scan(r, base, &late, err);
		if (rc != CUT_OK)
			return rc;
		if (late.tree > 0)
			return cut_fail(err, CUT_EREFUSED, "%s moved from %s to %s after the %s: %ld transaction(s) reached it and "
					"are not in the copy (paths: %s%s); stop what writes (ClickHouse?) and copy again",
					sc->ensemble, copied ? copied : was, now, copied ? "copy" : "fence", late.tree,
					late.paths[0] ? late.paths : "none readable", late.more_paths ? ", and more" : "");
		act_say(r, "%s moved from 0x%llx to %s by %ld session open/close transaction(s) only: the tree is unchanged",
			sc->ensemble, (unsigned long long)base, now, late.sessions);
	}
	act_say(r, "fence holds: nothing but sessions reached %s after %s (%s)", sc->ensemble,
		copied ? "the copied logs' end" : "the fence", copied ? copied : was);
	return CUT_OK;
}
