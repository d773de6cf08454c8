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
#include "cutover/probe.h"

json_t *admin_json(const struct inv_zk_node *z, const char *cmd)
{
	char why[200];
	char *body = z->admin_port ? zk_http_get(z->host, z->admin_port, cmd, 3000, why, sizeof why) : NULL;
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	free(body);
	return j;
}

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
		conns[i] = admin_json(&ens->nodes[i], "/commands/connections");
		json_t *d = conns[i] ? admin_json(&ens->nodes[i], "/commands/dump") : NULL;
		if (json_object_get(d, "expiry_time_to_session_ids") && dump == NULL)
			dump = d; /* only the leader tracks sessions */
		else
			json_decref(d);
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

/* After the process is gone: wait until none of its ZooKeeper sessions lingers. */
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

int ck_stop_run(struct act_run *r, struct cut_err *err)
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
			return sessions_closed(r, err);
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

int ck_start_run(struct act_run *r, struct cut_err *err)
{
	int rc = act_run_template(r, act_scope(r)->ck->start, err);
	return rc == CUT_OK ? wait_up(r, err) : rc;
}

int ck_restart_run(struct act_run *r, struct cut_err *err)
{
	int rc = act_run_template(r, act_scope(r)->ck->restart, err);
	return rc == CUT_OK ? wait_up(r, err) : rc;
}
