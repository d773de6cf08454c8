/*
 * action: the table of built-in verbs and their plan descriptions (see
 * include/cutover/action.h). A description must say exactly what will run
 * where: it is what the operators confirm.
 */
#include "cutover/action.h"

#include "act_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void plan_add(struct plan_lines *l, const char *fmt, ...)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		const char **v = arena_alloc(l->arena, cap * sizeof *v);
		if (v == NULL)
			return;
		if (l->n)
			memcpy(v, l->v, l->n * sizeof *v);
		l->v = v;
		l->cap = cap;
	}
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	const char *s = arena_strdup(l->arena, buf);
	if (s != NULL)
		l->v[l->n++] = s;
}

/* A template as shown to the operators: secrets masked, values quoted in commands. */
static const char *show(struct plan_lines *l, const char *tmpl, const struct subst_scope *sc, int mode)
{
	struct cut_err e;
	if (tmpl == NULL)
		return "(not set in the inventory)";
	const char *s = subst(l->arena, tmpl, sc, mode | SUBST_DISPLAY, &e);
	return s ? s : arena_printf(l->arena, "<unresolved: %s>", e.msg);
}

#define CMD(t) show(out, (t), sc, SUBST_SHELL)
#define PATH(t) show(out, (t), sc, SUBST_PATH)

static const char *param(const struct rb_step *s, const char *key, const char *dfl)
{
	const struct rb_param *p = rb_param(s, key);
	return p && p->value ? p->value : dfl;
}

/* ---- ZooKeeper -------------------------------------------------------------- */

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

static void d_zk_preflight(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "read %s/conf/zoo.cfg: version, jute.maxbuffer, snapshot.compression.method, snapshot.trust.empty",
		 PATH(sc->zk->home));
	plan_add(out, "check dataDir %s and dataLogDir %s as zoo.cfg says, and free space for the copy",
		 PATH(sc->zk->data_dir), PATH(sc->zk->data_log_dir));
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
	plan_add(out, "$ %s", CMD(sc->zk->stop));
	plan_add(out, "wait until %s:%d is closed and the server process is gone", sc->zk->host, sc->zk->client_port);
}

static void d_zk_start(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "$ %s", CMD(sc->zk->start));
	plan_add(out, "wait until %s:%d serves (srvr answers with a Mode)", sc->zk->host, sc->zk->client_port);
}

static void d_zk_wipe(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const char *dd = PATH(sc->zk->data_dir), *ld = PATH(sc->zk->data_log_dir);
	plan_add(out, "refuse if ZooKeeper answers on %s:%d or its process runs", sc->zk->host, sc->zk->client_port);
	plan_add(out, "mv %s/version-2 %s/version-2.moved-<timestamp>", dd, dd);
	plan_add(out, "mv %s/version-2 %s/version-2.moved-<timestamp>", ld, ld);
	plan_add(out, "mkdir %s/version-2 %s/version-2 (same owner and mode); myid and every other file stay", dd, ld);
}

static void h_zk_copy(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	if (strcmp(param(s, "clean_snapshot", "false"), "true") == 0)
		plan_add(out, "source: %s; first restarts that leader (refused while ClickHouse answers) so the newly "
			      "elected one writes a snapshot at the last zxid; copies that snapshot alone, refused if any "
			      "transaction follows it", param(s, "from", "?"));
	else
		plan_add(out, "source: %s; files: the newest valid snapshot and every log ZooKeeper replays after it "
			      "(refused on a zxid gap)", param(s, "from", "?"));
	plan_add(out, "read once, written to every destination in parallel; free space checked first");
}

static void d_zk_copy(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "write snapshot.<zxid> into %s/version-2 and log.<zxid>... into %s/version-2 "
		      "(temporary name, fsync, rename)", PATH(sc->zk->data_dir), PATH(sc->zk->data_log_dir));
	plan_add(out, "verify size and SHA-256 of each file on %s against the source", sc->zk->name);
}

static void d_zk_fence(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const char *phase = param(s, "phase", "check");
	if (strcmp(phase, "record") == 0)
		plan_add(out, "record the zxid of %s (%s:%d)", sc->zk->name, sc->zk->host, sc->zk->client_port);
	else
		plan_add(out, "after the recorded zxid and the copied logs' last one, %s (%s:%d) may hold no transaction "
			      "but session open/close (its logs are read to tell)", sc->zk->name, sc->zk->host, sc->zk->client_port);
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
		 sc->zk->client_port, PATH(sc->zk->server_log));
}

static void h_zk_compare(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	plan_add(out, "walk both trees with the ZooKeeper client: %s against %s", param(s, "left", "?"),
		 param(s, "right", "?"));
	plan_add(out, "compare every path, data (SHA-256), version, cversion, aversion; ephemerals reported apart");
}

/* ---- ClickHouse ------------------------------------------------------------- */

static void d_ck_cmd(struct plan_lines *out, const char *cmd, const struct subst_scope *sc, bool up)
{
	plan_add(out, "$ %s", CMD(cmd));
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

static void d_ck_switch(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const char *to = param(s, "to", "?");
	const struct inv_ensemble *e = inv_ensemble(sc->inv, to);
	char hosts[1024] = "";
	for (size_t i = 0; e && i < e->n; i++)
		snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts), "%s%s:%d", i ? ", " : "",
			 e->nodes[i].host, e->nodes[i].client_port);
	const char *m = PATH(sc->ck->metrika);
	plan_add(out, "edit %s: <zookeeper-servers> nodes become %s ensemble %s", m, to, hosts);
	plan_add(out, "keep a backup %s.<timestamp>; write a temporary file, fsync, rename; re-read and check", m);
}

static void d_ck_verify(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "on http://%s:%d: query, system.zookeeper, canary create/insert/read/drop partition/"
		      "add column/drop column/drop table", sc->ck->host, sc->ck->http_port);
	plan_add(out, "SYSTEM SYNC REPLICA on every replicated table; no read-only replica; no new ignored_/unexpected_ parts; row counts");
}

/* ---- writer tasks, shell, manual, check ---------------------------------------- */

static bool adapter_is(const struct subst_scope *sc, const char *a)
{
	return sc->task->adapter && strcmp(sc->task->adapter, a) == 0;
}

static void d_tasks_stop(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink") && strcmp(param(s, "flink_stop", "savepoint"), "cancel") == 0)
		plan_add(out, "PATCH %s/jobs/%s?mode=cancel   (flink: cancel, no savepoint)", PATH(t->url), t->job);
	else if (adapter_is(sc, "flink"))
		plan_add(out, "POST %s/jobs/%s/stop, then wait for its savepoint   (flink: stop with savepoint)", PATH(t->url), t->job);
	else if (adapter_is(sc, "http"))
		plan_add(out, "POST %s   (http adapter)", PATH(t->stop_url));
	else
		plan_add(out, "$ %s   (shell adapter)", CMD(t->stop));
	plan_add(out, "wait until it reports stopped and no INSERT runs on any ClickHouse node");
}

static void d_tasks_start(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink"))
		plan_add(out, "$ %s   (flink: resubmit from the savepoint in $CUTOVER_SAVEPOINT)", CMD(t->resubmit));
	else if (adapter_is(sc, "http"))
		plan_add(out, "POST %s   (http adapter)", PATH(t->start_url));
	else
		plan_add(out, "$ %s   (shell adapter)", CMD(t->start));
	plan_add(out, "wait until it reports running");
}

static void d_tasks_wait(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	const struct inv_task *t = sc->task;
	if (adapter_is(sc, "flink"))
		plan_add(out, "GET %s/jobs/%s until RUNNING and its sink's read-records grow", PATH(t->url), t->job);
	else if (adapter_is(sc, "http"))
		plan_add(out, "GET %s until %s reads %s%s", PATH(t->status_url), t->state_pointer, t->running_value,
			 t->rows_pointer ? " and the rows grow" : "");
	else
		plan_add(out, "$ %s until it reports running and its row count grows", CMD(t->status));
}

static const char *where(const struct subst_scope *sc)
{
	return sc->zk ? sc->zk->name : sc->ck ? sc->ck->name : sc->task ? sc->task->host : "local";
}

static void d_shell(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	plan_add(out, "on %s: $ %s", where(sc), CMD(param(s, "command", "")));
}

static void d_check(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	plan_add(out, "on %s: $ %s until it exits 0, every %s, at most %s tries", where(sc),
		 CMD(param(s, "command", "")), param(s, "interval", "2s"), param(s, "tries", "30"));
}

static void h_manual(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	plan_add(out, "the operator does this by hand and confirms it is done: %s",
		 param(s, "instructions", "see the step's description"));
}

/* ---- the table -------------------------------------------------------------- */

#define P(...) (const char *const[]){__VA_ARGS__, NULL}
#define ACT(n, k, p, r, d, sum, desc, head, run_) \
	{.name = n, .kinds = k, .params = p, .required = r, .destructive = d, .summary = sum, .describe = desc, \
	 .header = head, .run = run_}
#define NONE (const char *const[]){NULL}

static const struct action_ops actions[] = {
	ACT("zk.status", TGT_ZK, NONE, NONE, false, "probe nodes and show their role and zxid", d_zk_probe, NULL, zk_status_run),
	ACT("zk.leader", TGT_ZK, NONE, NONE, false, "find the ensemble's leader", d_zk_probe, h_zk_leader, zk_leader_run),
	ACT("zk.preflight", TGT_ZK, P("against"), NONE, false, "check versions, limits, layout and space before anything stops", d_zk_preflight, NULL, zk_preflight_run),
	ACT("zk.config", TGT_ZK, P("jvmflags", "log_dir"), NONE, false, "write zoo.cfg, myid and java.env from the inventory", zk_config_describe, NULL, zk_config_run),
	{.name = "zk.stop", .kinds = TGT_ZK, .params = NONE, .required = NONE, .destructive = true,
	 .summary = "stop nodes, followers first", .describe = d_zk_stop, .header = h_zk_stop, .run = zk_stop_run,
	 .leader_last = true},
	ACT("zk.start", TGT_ZK, NONE, NONE, false, "start nodes and wait until they serve", d_zk_start, NULL, zk_start_run),
	ACT("zk.wipe", TGT_ZK, NONE, NONE, true, "move version-2 dirs aside (never deletes)", d_zk_wipe, NULL, zk_wipe_run),
	{.name = "zk.copy", .kinds = TGT_ZK, .params = P("from", "clean_snapshot", "target_version"), .required = P("from"),
	 .destructive = true, .summary = "copy snapshot and logs to every destination", .describe = d_zk_copy,
	 .header = h_zk_copy, .run = zk_copy_run, .parallel = true, .begin = zk_copy_begin},
	ACT("zk.fence", TGT_ZK, P("phase"), NONE, false, "prove no write reached the source after the copy", d_zk_fence, NULL, zk_fence_run),
	ACT("zk.wait_quorum", TGT_ZK, NONE, NONE, false, "wait for one leader, the rest followers, same zxid", d_zk_wait_quorum, h_zk_wait_quorum, zk_wait_quorum_run),
	ACT("zk.compare", 0, P("left", "right"), P("left", "right"), false, "compare two ensembles' trees", NULL, h_zk_compare, zk_compare_run),
	ACT("ck.stop", TGT_CK, NONE, NONE, true, "stop ClickHouse, one node at a time", d_ck_stop, NULL, ck_stop_run),
	ACT("ck.start", TGT_CK, NONE, NONE, false, "start ClickHouse, one node at a time", d_ck_start, NULL, ck_start_run),
	ACT("ck.restart", TGT_CK, NONE, NONE, true, "restart ClickHouse, one node at a time", d_ck_restart, NULL, ck_restart_run),
	{.name = "ck.switch", .kinds = TGT_CK, .params = P("to"), .required = P("to"), .destructive = true,
	 .summary = "point metrika.xml at another ensemble", .describe = d_ck_switch, .run = ck_switch_run,
	 .preview = ck_switch_preview},
	ACT("ck.verify", TGT_CK, P("canary_table"), NONE, false, "business verification", d_ck_verify, NULL, ck_verify_run),
	ACT("tasks.stop", TGT_TASK, P("flink_stop"), NONE, false, "stop writer tasks", d_tasks_stop, NULL, tasks_stop_run),
	ACT("tasks.start", TGT_TASK, NONE, NONE, false, "start writer tasks", d_tasks_start, NULL, tasks_start_run),
	ACT("tasks.wait", TGT_TASK, NONE, NONE, false, "check writer tasks run and write", d_tasks_wait, NULL, tasks_wait_run),
	ACT("shell", TGT_ZK | TGT_CK | TGT_TASK | TGT_LOCAL, P("command"), P("command"), false, "run a shell command", d_shell, NULL, act_shell_run),
	ACT("check", TGT_ZK | TGT_CK | TGT_TASK | TGT_LOCAL, P("command", "interval", "tries"), P("command"), false, "wait until a command succeeds", d_check, NULL, act_check_run),
	ACT("manual", 0, P("instructions"), NONE, false, "a step done by hand, then confirmed", NULL, h_manual, NULL),
};

const struct action_ops *action_find(const char *name)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

const struct action_ops *action_table(size_t *n)
{
	*n = sizeof actions / sizeof actions[0];
	return actions;
}
