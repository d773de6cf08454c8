/*
 * ck_actions: ck.stop, ck.start and ck.restart, one node at a time. Stop
 * waits until the server is gone (its HTTP port refuses); start and restart
 * wait until it answers and no replica is read-only, and report those that
 * stay so. ClickHouse 18.16 reads <zookeeper-servers> only at start, so a
 * switch always goes through a (re)start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "act_int.h"
#include "ck_int.h"
#include "cutover/probe.h"

/*
 * Sessions the ensemble's leader still tracks although no node holds a
 * connection for them: a stopped client's, until it is closed or expires.
 * Their expiry writes a transaction, so the fence would see the zxid move.
 * -1: the AdminServer cannot tell (no admin port, or no answer).
 */
static long orphan_sessions(const struct inv_ensemble *ens)
{
	json_t *dump = NULL, *conns[16] = {0};
	long orphans = -1;
	for (size_t i = 0; i < ens->n && i < 16; i++) {
		conns[i] = zk_admin_json(&ens->nodes[i], "/commands/connections", 3000, NULL, 0);
		/* Only the leader tracks every session: a follower's dump has the
		 * same key, empty, and read first it once said "none" while the
		 * leader still held a stopped server's sessions, which expired
		 * (moving the zxid) after ck.stop had reported them gone. */
		json_t *srvr = conns[i] && dump == NULL ? zk_admin_json(&ens->nodes[i], "/commands/srvr", 3000, NULL, 0) : NULL;
		const char *state = json_string_value(json_object_get(json_object_get(srvr, "server_stats"), "server_state"));
		if (state && (strcmp(state, "leader") == 0 || strcmp(state, "standalone") == 0))
			dump = zk_admin_json(&ens->nodes[i], "/commands/dump", 3000, NULL, 0);
		json_decref(srvr);
	}
	const char *k;
	json_t *ids;
	json_object_foreach(json_object_get(dump, "expiry_time_to_session_ids"), k, ids) {
		size_t a;
		json_t *id;
		orphans = orphans < 0 ? 0 : orphans;
		json_array_foreach(ids, a, id) {
			bool held = false;
			for (size_t i = 0; i < ens->n && i < 16 && !held; i++) {
				size_t b;
				json_t *c;
				json_array_foreach(json_object_get(conns[i], "connections"), b, c)
					held |= json_integer_value(json_object_get(c, "session_id")) == json_integer_value(id);
			}
			orphans += !held;
		}
	}
	if (dump && orphans < 0)
		orphans = 0; /* a leader tracking no session at all */
	json_decref(dump);
	for (size_t i = 0; i < 16; i++)
		json_decref(conns[i]);
	return orphans;
}

/* After the step's servers are gone: wait until none of their ZooKeeper sessions lingers. */
static int sessions_closed(struct act_run *r, struct cut_err *err)
{
	const struct inv_ck_node *ck = act_scope(r)->ck;
	const struct inv_ensemble *ens = act_ck_on(r) ? inv_ensemble(act_scope(r)->inv, act_ck_on(r)) : NULL;
	if (ens == NULL)
		return CUT_OK;
	for (int said = 0, rc = CUT_OK;; rc = act_sleep(r, 1000, err)) {
		long n = orphan_sessions(ens);
		if (rc != CUT_OK)
			return cut_fail(err, rc, "%s: %ld ZooKeeper session(s) without a client still open on %s", ck->name, n,
					ens->name);
		if (n < 0) {
			act_say(r, "%s: %s's AdminServer does not list sessions; cannot wait for %s's to close", ck->name,
				ens->name, ck->name);
			return CUT_OK;
		}
		if (n == 0) {
			act_say(r, "%s: no ZooKeeper session without a client remains on %s", ck->name, ens->name);
			return CUT_OK;
		}
		if (!said++)
			act_say(r, "%s: waiting for %ld ZooKeeper session(s) without a client to close or expire on %s",
				ck->name, n, ens->name);
	}
}

static int ck_stop_run(struct act_run *r, struct cut_err *err)
{
	const struct inv_ck_node *ck = act_scope(r)->ck;
	/* The row counts ck.verify compares with after the switch. */
	char *counts = NULL;
	struct cut_err ce;
	if (ck_row_counts(ck, &counts, &ce) == CUT_OK) {
		act_fact_set(r, arena_printf(act_arena(r), "ck.%s.rows", ck->name), counts, err);
		act_say(r, "%s: row counts before stopping: %s", ck->name, counts);
	} else {
		act_say(r, "%s: no row counts before stopping (%s)", ck->name, ce.msg);
	}
	free(counts);
	/* and the parts already set aside, so ck.verify reports only new ones */
	char *detached = NULL;
	if (ck_detached_parts(r, ck, &detached, &ce) == CUT_OK)
		act_fact_set(r, arena_printf(act_arena(r), "ck.%s.detached", ck->name), detached, err);
	else
		act_say(r, "%s: cannot list its detached parts before stopping (%s)", ck->name, ce.msg);
	free(detached);
	int rc = act_run_template(r, ck->stop, err);
	while (rc == CUT_OK) {
		struct cut_err qe;
		char *out = NULL;
		if (ck_query(ck, "SELECT 1", 2000, &out, &qe) == CUT_ENET) {
			act_say(r, "%s: stopped (HTTP port %d refuses)", ck->name, ck->http_port ? ck->http_port : 8123);
			/* Sessions a stopped server leaves expire on ZooKeeper's clock:
			 * wait once, after the step's last server, for all of them
			 * together rather than a session timeout per server. */
			if (act_last_target(r))
				return sessions_closed(r, err);
			act_say(r, "%s: its ZooKeeper sessions are waited for once the step's last server is stopped", ck->name);
			return CUT_OK;
		}
		free(out);
		rc = act_sleep(r, 500, err);
	}
	return rc;
}

static int wait_up(struct act_run *r, struct cut_err *err)
{
	const struct inv_ck_node *ck = act_scope(r)->ck;
	char last[300] = "no answer yet";
	for (int rc = CUT_OK;; rc = act_sleep(r, 1000, err)) {
		if (rc != CUT_OK)
			return cut_fail(err, rc, "%s did not come up with writable replicas: %s", ck->name, last);
		struct cut_err qe;
		long long ro = ck_number(ck, "SELECT count() FROM system.replicas WHERE is_readonly", 5000, &qe);
		if (ro == 0) {
			long long n = ck_number(ck, "SELECT count() FROM system.replicas", 5000, &qe);
			act_say(r, "%s: up, %lld replicated table(s), none read-only", ck->name, n);
			return CUT_OK;
		}
		if (ro > 0) {
			char *out = NULL;
			if (ck_query(ck, "SELECT database || '.' || table FROM system.replicas WHERE is_readonly", 5000, &out, &qe) == CUT_OK)
				snprintf(last, sizeof last, "read-only: %.250s", out);
			free(out);
		} else {
			snprintf(last, sizeof last, "%.290s", qe.msg);
		}
	}
}

static int ck_start_run(struct act_run *r, struct cut_err *err)
{
	int rc = act_run_template(r, act_scope(r)->ck->start, err);
	return rc == CUT_OK ? wait_up(r, err) : rc;
}

static int ck_restart_run(struct act_run *r, struct cut_err *err)
{
	int rc = act_run_template(r, act_scope(r)->ck->restart, err);
	return rc == CUT_OK ? wait_up(r, err) : rc;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_ck_cmd(struct plan_lines *out, const char *cmd, const struct subst_scope *sc, bool up)
{
	plan_add(out, "$ %s", ACT_CMD(cmd));
	if (up)
		plan_add(out, "wait until http://%s:%d answers and no replica is read-only", sc->ck->host, sc->ck->http_port);
	else
		plan_add(out, "wait until the server process is gone and its ZooKeeper sessions are closed");
}

static void d_ck_stop(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	d_ck_cmd(out, sc->ck->stop, sc, false);
}

static void d_ck_start(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	d_ck_cmd(out, sc->ck->start, sc, true);
}

static void d_ck_restart(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	d_ck_cmd(out, sc->ck->restart, sc, true);
}

const struct action_ops act_ck_stop = {.name = "ck.stop", .kinds = TGT_CK, .params = ACT_NONE, .required = ACT_NONE,
	.destructive = true, .summary = "stop ClickHouse, one node at a time", .describe = d_ck_stop, .run = ck_stop_run};
const struct action_ops act_ck_start = {.name = "ck.start", .kinds = TGT_CK, .params = ACT_NONE, .required = ACT_NONE,
	.summary = "start ClickHouse, one node at a time", .describe = d_ck_start, .run = ck_start_run};
const struct action_ops act_ck_restart = {.name = "ck.restart", .kinds = TGT_CK, .params = ACT_NONE, .required = ACT_NONE,
	.destructive = true, .summary = "restart ClickHouse, one node at a time", .describe = d_ck_restart,
	.run = ck_restart_run};
