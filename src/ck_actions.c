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

#include "act_int.h"
#include "cutover/probe.h"

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
	int rc = act_run_template(r, ck->stop, err);
	while (rc == CUT_OK) {
		struct cut_err qe;
		char *out = NULL;
		if (ck_query(ck, "SELECT 1", 2000, &out, &qe) == CUT_ENET) {
			act_say(r, "%s: stopped (HTTP port %d refuses)", ck->name, ck->http_port ? ck->http_port : 8123);
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
