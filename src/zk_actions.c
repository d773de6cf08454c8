/*
 * zk_actions: the ZooKeeper verbs that act on one node at a time --
 * zk.status, zk.leader, zk.stop, zk.start, zk.wait_quorum, zk.wipe. Each asks the node itself (srvr)
 * before and after, and says what it saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act_int.h"
#include "zk_int.h"
#include "cutover/probe.h"
#include "cutover/zk_files.h"

static int zk_status_run(struct act_run *r, struct cut_err *err)
{
	(void)err;
	const struct inv_zk_node *z = act_scope(r)->zk;
	struct zk_srvr s;
	zk_probe_srvr(z->host, zk_port(z), 3000, &s);
	zk_say_node(r, z, &s);
	return CUT_OK;
}

/* Exactly one leader in the target's ensemble, asked of every node now. */
static int zk_leader_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_ensemble *ens = inv_ensemble(sc->inv, sc->ensemble);
	const struct inv_zk_node *leader = NULL;
	size_t leaders = 0;
	for (size_t i = 0; ens && i < ens->n; i++) {
		struct zk_srvr s;
		zk_probe_srvr(ens->nodes[i].host, zk_port(&ens->nodes[i]), 3000, &s);
		zk_say_node(r, &ens->nodes[i], &s);
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

static int zk_stop_run(struct act_run *r, struct cut_err *err)
{
	const struct inv_zk_node *z = act_scope(r)->zk;
	int rc = act_run_template(r, z->stop, err);
	if (rc != CUT_OK)
		return rc;
	for (;;) {
		struct zk_srvr s;
		bool alive = true;
		zk_probe_srvr(z->host, zk_port(z), 2000, &s);
		if (s.role == ZR_DOWN && (rc = process_alive(r, &alive, err)) == CUT_OK && !alive) {
			act_say(r, "%s: client port %d closed, server process gone", z->name, zk_port(z));
			return CUT_OK;
		}
		if (rc != CUT_OK || (rc = act_sleep(r, 500, err)) != CUT_OK)
			return cut_fail(err, rc, "%s still %s after its stop command (%s)", z->name,
					s.role == ZR_DOWN ? "has a live process" : zk_role_name(s.role), err->msg);
	}
}

static int zk_start_run(struct act_run *r, struct cut_err *err)
{
	const struct inv_zk_node *z = act_scope(r)->zk;
	struct zk_srvr s;
	zk_probe_srvr(z->host, zk_port(z), 2000, &s);
	if (s.role != ZR_DOWN) {
		zk_say_node(r, z, &s);
		return cut_fail(err, CUT_EREFUSED, "%s already answers on port %d (%s); not starting a second server",
				z->name, zk_port(z), zk_role_name(s.role));
	}
	int rc = act_run_template(r, z->start, err);
	/* One node of three cannot serve alone: here "started" means it answers;
	 * zk.wait_quorum waits for the ensemble. */
	while (rc == CUT_OK) {
		zk_probe_srvr(z->host, zk_port(z), 2000, &s);
		if (s.role != ZR_DOWN && s.role != ZR_NOANSWER) {
			zk_say_node(r, z, &s);
			return CUT_OK;
		}
		rc = act_sleep(r, 500, err);
	}
	return rc;
}

/* One leader, n-1 followers, one zxid; then the node's log since its start. */
static int zk_wait_quorum_run(struct act_run *r, struct cut_err *err)
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
			zk_probe_srvr(ens->nodes[i].host, zk_port(&ens->nodes[i]), 2000, &s);
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
 * zk.wipe never deletes: version-2 is renamed to a timestamped sibling on the
 * same filesystem and an empty one made with the same owner and mode. The
 * epoch files live inside version-2 and move with it; myid stays.
 */
static int zk_wipe_run(struct act_run *r, struct cut_err *err)
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
	zk_probe_srvr(z->host, zk_port(z), 2000, &s);
	if (s.role != ZR_DOWN)
		return cut_fail(err, CUT_EREFUSED, "%s is %s on port %d; stop it before moving its data", z->name,
				zk_role_name(s.role), zk_port(z));
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

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_zk_probe(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "probe %s: AdminServer http://%s:%d/commands/srvr, else srvr on %s:%d",
		 sc->zk->name, sc->zk->host, sc->zk->admin_port, sc->zk->host, sc->zk->client_port);
}

static void h_zk_leader(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)s;
	(void)inv;
	plan_add(out, "refuses unless exactly one node reports Mode: leader");
}

static void h_zk_stop(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)s;
	(void)inv;
	plan_add(out, "order: followers first, the leader last (roles probed when the step starts)");
}

static void d_zk_stop(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "$ %s", ACT_CMD(sc->zk->stop));
	plan_add(out, "wait until %s:%d is closed and the server process is gone", sc->zk->host, sc->zk->client_port);
}

static void d_zk_start(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "$ %s", ACT_CMD(sc->zk->start));
	plan_add(out, "wait until %s:%d serves (srvr answers with a Mode)", sc->zk->host, sc->zk->client_port);
}

static void d_zk_wipe(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const char *dd = ACT_PATH(sc->zk->data_dir), *ld = ACT_PATH(sc->zk->data_log_dir);
	plan_add(out, "refuse if ZooKeeper answers on %s:%d or its process runs", sc->zk->host, sc->zk->client_port);
	plan_add(out, "mv %s/version-2 %s/version-2.moved-<timestamp>", dd, dd);
	plan_add(out, "mv %s/version-2 %s/version-2.moved-<timestamp>", ld, ld);
	plan_add(out, "mkdir %s/version-2 %s/version-2 (same owner and mode); myid and every other file stay", dd, ld);
}

static void h_zk_wait_quorum(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	(void)s;
	plan_add(out, "wait for one leader and the rest followers, all at the same zxid");
}

static void d_zk_wait_quorum(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "probe %s:%d; report ERROR/FATAL lines of %s since the start", sc->zk->host,
		 sc->zk->client_port, ACT_PATH(sc->zk->server_log));
}

/* ---- the verbs ------------------------------------------------------------------------------- */

const struct action_ops act_zk_status = {.name = "zk.status", .kinds = TGT_ZK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "probe nodes and show their role and zxid", .describe = d_zk_probe, .run = zk_status_run};
const struct action_ops act_zk_leader = {.name = "zk.leader", .kinds = TGT_ZK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "find the ensemble's leader", .describe = d_zk_probe, .header = h_zk_leader, .run = zk_leader_run};
const struct action_ops act_zk_stop = {.name = "zk.stop", .kinds = TGT_ZK, .params = ACT_NONE, .required = ACT_NONE,
	.destructive = true, .summary = "stop nodes, followers first", .describe = d_zk_stop, .header = h_zk_stop,
	.run = zk_stop_run, .leader_last = true};
const struct action_ops act_zk_start = {.name = "zk.start", .kinds = TGT_ZK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "start nodes and wait until they serve", .describe = d_zk_start, .run = zk_start_run};
const struct action_ops act_zk_wipe = {.name = "zk.wipe", .kinds = TGT_ZK, .params = ACT_NONE, .required = ACT_NONE,
	.destructive = true, .summary = "move version-2 dirs aside (never deletes)", .describe = d_zk_wipe, .run = zk_wipe_run};
const struct action_ops act_zk_wait_quorum = {.name = "zk.wait_quorum", .kinds = TGT_ZK, .params = ACT_NONE,
	.required = ACT_NONE, .summary = "wait for one leader, the rest followers, same zxid", .describe = d_zk_wait_quorum,
	.header = h_zk_wait_quorum, .run = zk_wait_quorum_run};
