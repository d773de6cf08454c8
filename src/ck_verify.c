/*
 * ck_verify: ck.verify, the seed's business checks made automatic, over
 * ClickHouse's HTTP interface. Each check has a name and a time; the step
 * fails naming those that failed. An INSERT that returned OK proves nothing
 * alone (ClickHouse #19014): the canary's rows are counted on every replica.
 * Row counts of the replicated tables, and the parts detached as ignored_ or
 * unexpected_, are compared with those ck.stop recorded before the switch.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "act_int.h"
#include "ck_int.h"
#include "cutover/probe.h"
#include "cutover/xport.h"

struct checks {
	char failed[512];
	int n, bad;
};

static void report(struct act_run *r, struct checks *c, const char *name, int64_t t0, int rc, const char *detail)
{
	c->n++;
	act_say(r, "check %-18s %s  %lld ms%s%s", name, rc == CUT_OK ? "pass" : "FAIL", (long long)(xp_now_ms() - t0),
		detail && *detail ? "  " : "", detail ? detail : "");
	if (rc != CUT_OK) {
		c->bad++;
		snprintf(c->failed + strlen(c->failed), sizeof c->failed - strlen(c->failed), "%s%s", c->failed[0] ? ", " : "", name);
	}
}

static int expect_zero(const struct inv_ck_node *ck, const char *sql, char *detail, size_t n)
{
	struct cut_err e;
	long long v = ck_number(ck, sql, 30000, &e);
	if (v < 0)
		return snprintf(detail, n, "%.200s", e.msg), CUT_EREMOTE;
	if (v > 0)
		return snprintf(detail, n, "%lld", v), CUT_EREFUSED;
	return CUT_OK;
}

static int sql_all(const struct inventory *inv, const char *sql, char *detail, size_t n)
{
	for (size_t i = 0; i < inv->nck; i++) {
		char *out = NULL;
		struct cut_err e;
		if (ck_query(&inv->ck[i], sql, 60000, &out, &e) != CUT_OK)
			return snprintf(detail, n, "%.200s", e.msg), CUT_EREMOTE;
		free(out);
	}
	return CUT_OK;
}

static int count_all(const struct inventory *inv, const char *table, long long want, char *detail, size_t n)
{
	char sql[256];
	for (size_t i = 0; i < inv->nck; i++) {
		struct cut_err e;
		snprintf(sql, sizeof sql, "SYSTEM SYNC REPLICA %s", table);
		char *out = NULL;
		if (ck_query(&inv->ck[i], sql, 60000, &out, &e) != CUT_OK)
			return snprintf(detail, n, "%.200s", e.msg), CUT_EREMOTE;
		free(out);
		snprintf(sql, sizeof sql, "SELECT count() FROM %s", table);
		long long got = ck_number(&inv->ck[i], sql, 30000, &e);
		if (got != want)
			return snprintf(detail, n, "%s has %lld rows on %s, %lld expected", table, got, inv->ck[i].name, want),
			       CUT_EREFUSED;
	}
	return CUT_OK;
}

/* Create, insert, read back everywhere, drop a partition, add and drop a column, drop. */
static void canary(struct act_run *r, const struct inv_ck_node *ck, struct checks *c)
{
	const struct inventory *inv = act_scope(r)->inv;
	char t[64], sql[512], d[300] = "";
	snprintf(t, sizeof t, "default.cutover_canary_%ld", (long)time(NULL));
	int64_t t0 = xp_now_ms();
	snprintf(sql, sizeof sql, "CREATE TABLE %s (p UInt8, k UInt32, v String) ENGINE = ReplicatedMergeTree("
		 "'/clickhouse/tables/{shard}/%s', '{replica}') PARTITION BY p ORDER BY k", t, strchr(t, '.') + 1);
	int rc = sql_all(inv, sql, d, sizeof d);
	report(r, c, "canary-create", t0, rc, d);
	if (rc != CUT_OK)
		return;
	t0 = xp_now_ms();
	char *out = NULL;
	struct cut_err e;
	snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 3, 'c')", t);
	rc = ck_query(ck, sql, 30000, &out, &e);
	free(out);
	if (rc != CUT_OK)
		snprintf(d, sizeof d, "%.200s", e.msg);
	report(r, c, "canary-insert", t0, rc, d);
	t0 = xp_now_ms();
	report(r, c, "canary-read-all", t0, rc == CUT_OK ? count_all(inv, t, 3, d, sizeof d) : CUT_EREMOTE, d);
	t0 = xp_now_ms();
	snprintf(sql, sizeof sql, "ALTER TABLE %s DROP PARTITION 1", t);
	out = NULL;
	rc = ck_query(ck, sql, 60000, &out, &e);
	free(out);
	report(r, c, "drop-partition", t0, rc == CUT_OK ? count_all(inv, t, 1, d, sizeof d) : (snprintf(d, sizeof d, "%.200s", e.msg), rc), d);
	const char *alters[] = {"ADD COLUMN x UInt8 DEFAULT 7", "DROP COLUMN x"};
	const char *names[] = {"add-column", "drop-column"};
	for (int i = 0; i < 2; i++) {
		t0 = xp_now_ms();
		snprintf(sql, sizeof sql, "ALTER TABLE %s %s", t, alters[i]);
		out = NULL;
		rc = ck_query(ck, sql, 60000, &out, &e);
		free(out);
		report(r, c, names[i], t0, rc, rc == CUT_OK ? "" : e.msg);
	}
	t0 = xp_now_ms();
	snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", t);
	report(r, c, "drop-table", t0, sql_all(inv, sql, d, sizeof d), d);
}

/*
 * Is this server connected to the ensemble it should be on? Its replicas hold
 * an ephemeral is_active node through their session, and the leader's
 * AdminServer `dump` lists every session's ephemerals: find ours there.
 */
static int on_target(struct act_run *r, const struct inv_ck_node *ck, char *d, size_t n)
{
	const struct inv_ensemble *ens = act_ck_on(r) ? inv_ensemble(act_scope(r)->inv, act_ck_on(r)) : NULL;
	char *rp = NULL;
	struct cut_err e;
	if (ens == NULL)
		return snprintf(d, n, "no target ensemble in the plan"), CUT_OK;
	if (ck_query(ck, "SELECT replica_path FROM system.replicas ORDER BY replica_path LIMIT 1", 10000, &rp, &e) != CUT_OK)
		return snprintf(d, n, "%.200s", e.msg), CUT_EREMOTE;
	rp[strcspn(rp, "\n")] = '\0';
	if (rp[0] == '\0') {
		free(rp);
		return snprintf(d, n, "no replicated table to tell by"), CUT_OK;
	}
	int rc = CUT_OK;
	bool seen = false, asked = false;
	for (size_t i = 0; i < ens->n && !seen; i++) {
		json_t *dump = zk_admin_json(&ens->nodes[i], "/commands/dump", 3000, NULL, 0);
		json_t *eph = json_object_get(dump, "session_id_to_ephemeral_paths");
		const char *sid;
		json_t *paths;
		asked |= eph != NULL;
		json_object_foreach(eph, sid, paths) {
			size_t k;
			json_t *p;
			json_array_foreach(paths, k, p) {
				const char *s = json_string_value(p);
				seen |= s && strncmp(s, rp, strlen(rp)) == 0 && strcmp(s + strlen(rp), "/is_active") == 0;
			}
		}
		json_decref(dump);
	}
	if (seen)
		snprintf(d, n, "%s/is_active is held on %s", rp, ens->name);
	else if (!asked)
		snprintf(d, n, "%s's AdminServer lists no sessions; not told", ens->name);
	else
		rc = CUT_EREFUSED, snprintf(d, n, "%s has no session holding %s/is_active", ens->name, rp);
	free(rp);
	return rc;
}

/* Lines of now that are not in before: the parts detached since. */
static void newly(const char *before, char *now, char *d, size_t n)
{
	size_t used = 0;
	d[0] = '\0';
	char *save = NULL;
	for (char *l = strtok_r(now, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *p = before;
		size_t k = strlen(l);
		bool seen = false;
		while (p && !seen && (p = strstr(p, l)) != NULL) {
			seen = (p == before || p[-1] == '\n') && (p[k] == '\n' || p[k] == '\0');
			p += k;
		}
		if (!seen && used + k + 3 < n)
			used += (size_t)snprintf(d + used, n - used, "%s%s", used ? ", " : "", l);
	}
}

static int ck_verify_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct inv_ck_node *ck = sc->ck;
	struct checks c = {0};
	char d[512] = "";
	int64_t t0 = xp_now_ms();
	report(r, &c, "query", t0, expect_zero(ck, "SELECT 0", d, sizeof d), d);
	t0 = xp_now_ms();
	report(r, &c, "zookeeper-readable", t0,
	       expect_zero(ck, "SELECT count() = 0 FROM system.zookeeper WHERE path = '/'", d, sizeof d), d);
	t0 = xp_now_ms();
	report(r, &c, "zookeeper-is-target", t0, on_target(r, ck, d, sizeof d), d);
	t0 = xp_now_ms();
	report(r, &c, "replicas-writable", t0,
	       expect_zero(ck, "SELECT count() FROM system.replicas WHERE is_readonly OR is_session_expired", d, sizeof d), d);
	t0 = xp_now_ms();
	char *tables = NULL;
	struct cut_err e;
	int rc = ck_query(ck, "SELECT database, table FROM system.replicas", 30000, &tables, &e);
	char *save = NULL;
	for (char *t = rc == CUT_OK ? strtok_r(tables, "\n", &save) : NULL; t && rc == CUT_OK; t = strtok_r(NULL, "\n", &save)) {
		char *f[2], *out = NULL;
		if (ck_tsv_split(t, f, 2) != 2)
			continue;
		ck_tsv_unescape(f[0]);
		ck_tsv_unescape(f[1]);
		char *sql = ck_table_sql("SYSTEM SYNC REPLICA", f[0], f[1]);
		rc = sql ? ck_query(ck, sql, 120000, &out, &e) : cut_fail(&e, CUT_ENOMEM, "out of memory");
		free(sql);
		free(out);
	}
	free(tables);
	report(r, &c, "sync-replicas", t0, rc, rc == CUT_OK ? "" : e.msg);
	if (ck == &sc->inv->ck[0])
		canary(r, ck, &c);
	t0 = xp_now_ms();
	const char *was = act_fact_get(r, arena_printf(act_arena(r), "ck.%s.rows", ck->name));
	char *now = NULL;
	rc = ck_row_counts(ck, &now, &e);
	if (rc == CUT_OK && was && strcmp(was, now) != 0)
		rc = CUT_EREFUSED, snprintf(d, sizeof d, "before: %.200s now: %.200s", was, now);
	else
		snprintf(d, sizeof d, "%.400s", rc != CUT_OK ? e.msg : was ? "equal to before the switch" : "no count from before to compare");
	report(r, &c, "row-counts", t0, rc, d);
	free(now);
	t0 = xp_now_ms();
	const char *base = act_fact_get(r, arena_printf(act_arena(r), "ck.%s.detached", ck->name));
	rc = ck_detached_parts(r, ck, &now, &e);
	if (rc == CUT_OK) {
		char fresh[400];
		newly(base ? base : "", now, fresh, sizeof fresh);
		rc = fresh[0] ? CUT_EREFUSED : CUT_OK;
		snprintf(d, sizeof d, "%s%s%s", fresh[0] ? "set aside (a write its ZooKeeper never saw)" : "",
			 fresh[0] && base ? " since ck.stop: " : fresh[0] ? ": " : "", fresh);
	} else {
		snprintf(d, sizeof d, "%.400s", e.msg);
	}
	report(r, &c, "detached-parts", t0, rc, d);
	free(now);
	if (c.bad)
		return cut_fail(err, CUT_EREFUSED, "%s: %d of %d checks failed: %s", ck->name, c.bad, c.n, c.failed);
	return CUT_OK;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_ck_verify(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "on http://%s:%d: query, system.zookeeper, canary create/insert/read/drop partition/"
		      "add column/drop column/drop table", sc->ck->host, sc->ck->http_port);
	plan_add(out, "SYSTEM SYNC REPLICA on every replicated table; no read-only replica; no new ignored_/unexpected_ parts; row counts");
}

const struct action_ops act_ck_verify = {.name = "ck.verify", .kinds = TGT_CK, .params = ACT_PARAMS("canary_table"),
	.required = ACT_NONE, .summary = "business verification", .describe = d_ck_verify, .run = ck_verify_run};
