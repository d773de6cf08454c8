/*
 * zk_config: the zk.config action -- a node's zoo.cfg, myid and conf/java.env
 * written from the inventory, as the seed's installation does by hand
 * (server.N lines, the Prometheus metrics provider, dataDir, dataLogDir, myid,
 * JVMFLAGS, the log dir). Re-runnable: a file that already says the same is
 * left alone; one that differs is kept beside as <file>.bak-<timestamp>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act_int.h"
#include "zk_int.h"

static const struct inv_ensemble *ensemble_of(const struct subst_scope *sc)
{
	return inv_ensemble(sc->inv, sc->ensemble);
}

static char *zk_config_render(struct arena *a, const struct subst_scope *sc, struct cut_err *err)
{
	const struct inv_ensemble *ens = ensemble_of(sc);
	const struct inv_zk_node *z = sc->zk;
	const char *dd, *ld;
	if (ens == NULL || zk_dirs(a, sc, &dd, &ld, err) != CUT_OK)
		return NULL;
	char *out = arena_printf(a,
		"# Written by cutover zk.config from the inventory (%s ensemble, node %s).\n"
		"# Edit the inventory and run zk.config again rather than this file.\n"
		"tickTime=2000\ninitLimit=10\nsyncLimit=5\n"
		"# snapshots\ndataDir=%s\n# transaction logs\ndataLogDir=%s\n"
		"clientPort=%d\n"
		"admin.serverPort=%d\n"
		"4lw.commands.whitelist=srvr,mntr,ruok\n",
		ens->name, z->name, dd, ld, z->client_port ? z->client_port : 2181, z->admin_port ? z->admin_port : 8080);
	for (size_t i = 0; out && i < ens->n; i++) {
		const struct inv_zk_node *n = &ens->nodes[i];
		out = arena_printf(a, "%sserver.%d=%s:%d:%d\n", out, n->myid, n->host, n->quorum_port ? n->quorum_port : 2888,
				   n->election_port ? n->election_port : 3888);
	}
	if (out && z->metrics_port)
		out = arena_printf(a, "%s# metrics for Prometheus\n"
				   "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
				   "metricsProvider.httpPort=%d\nmetricsProvider.exportJvmInfo=true\n", out, z->metrics_port);
	if (out == NULL)
		cut_fail(err, CUT_ENOMEM, "out of memory");
	return out;
}

static const char *param(const struct rb_step *s, const char *key)
{
	const struct rb_param *p = rb_param(s, key);
	return p ? p->value : NULL;
}

static void zk_config_describe(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	struct cut_err e;
	const char *home = subst(out->arena, sc->zk->home, sc, SUBST_PATH | SUBST_DISPLAY, &e);
	const char *dd = subst(out->arena, sc->zk->data_dir, sc, SUBST_PATH | SUBST_DISPLAY, &e);
	const struct inv_ensemble *ens = ensemble_of(sc);
	plan_add(out, "write %s/conf/zoo.cfg: server.1..%zu of the %s ensemble, dataDir, dataLogDir, clientPort %d%s",
		 home ? home : "?", ens ? ens->n : 0, sc->ensemble, sc->zk->client_port,
		 sc->zk->metrics_port ? ", Prometheus metrics" : "");
	plan_add(out, "write %s/myid: %d", dd ? dd : "?", sc->zk->myid);
	const char *jvm = param(s, "jvmflags"), *logdir = param(s, "log_dir");
	jvm = jvm ? subst(out->arena, jvm, sc, SUBST_PATH | SUBST_DISPLAY, &e) : NULL;
	logdir = logdir ? subst(out->arena, logdir, sc, SUBST_PATH | SUBST_DISPLAY, &e) : NULL;
	if (jvm || logdir)
		plan_add(out, "write %s/conf/java.env: JVMFLAGS=\"%s\"%s%s", home ? home : "?", jvm ? jvm : "",
			 logdir ? ", ZOO_LOG_DIR=" : "", logdir ? logdir : "");
	plan_add(out, "a file that already says the same is left alone; one that differs is kept as <file>.bak-<timestamp>");
}

/* Write path unless it already holds text; keep what differed. */
static int put(struct act_run *r, const char *path, const char *text, const char *stamp, struct cut_err *err)
{
	char *old = NULL;
	size_t len = 0;
	struct cut_err re;
	int rc = act_read_file(r, path, 1 << 20, &old, &len, &re);
	if (rc == CUT_OK && len == strlen(text) && memcmp(old, text, len) == 0) {
		act_say(r, "%s: unchanged", path);
		free(old);
		return CUT_OK;
	}
	if (rc == CUT_OK) {
		const char *bak = arena_printf(act_arena(r), "%s.bak-%s", path, stamp);
		rc = act_write_file(r, bak, old, len, err);
		free(old);
		if (rc != CUT_OK)
			return rc;
		act_say(r, "%s: changed; the previous one is kept as %s", path, bak);
	} else if (rc == CUT_EREMOTE) {
		act_say(r, "%s: new", path); /* not there yet */
	} else {
		*err = re;
		return rc;
	}
	return act_write_file(r, path, text, strlen(text), err);
}

static int zk_config_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	const char *home = subst(a, sc->zk->home, sc, SUBST_PATH, err);
	const char *dd = NULL, *ld = NULL;
	const char *cfg = home && zk_dirs(a, sc, &dd, &ld, err) == CUT_OK ? zk_config_render(a, sc, err) : NULL;
	if (cfg == NULL)
		return err->code;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", gmtime_r(&now, &tm));
	int status, rc = act_exec(r, arena_printf(a, "mkdir -p %s/conf %s %s", subst_shell_quote(a, home),
						   subst_shell_quote(a, dd), subst_shell_quote(a, ld)), &status, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "cannot create %s/conf, %s or %s", home, dd, ld);
	if (rc == CUT_OK)
		rc = put(r, arena_printf(a, "%s/conf/zoo.cfg", home), cfg, stamp, err);
	if (rc == CUT_OK)
		rc = put(r, arena_printf(a, "%s/myid", dd), arena_printf(a, "%d\n", sc->zk->myid), stamp, err);
	const char *jvm = act_param(r, "jvmflags", NULL, SUBST_PATH, err), *logdir = act_param(r, "log_dir", NULL, SUBST_PATH, err);
	if (rc == CUT_OK && jvm && strpbrk(jvm, "\"`$\\\n"))
		rc = cut_fail(err, CUT_EINVAL, "jvmflags may not hold quotes, $, backquotes, backslashes or newlines: "
			      "java.env is a shell script");
	if (rc == CUT_OK && (jvm || logdir)) {
		/* zkEnv.sh sources conf/java.env; ZOO_LOG_DIR there moves the log
		 * without touching log4j.properties. */
		const char *env = arena_printf(a, "# Written by cutover zk.config.\nexport JVMFLAGS=\"%s $JVMFLAGS\"\n%s%s%s",
					       jvm ? jvm : "", logdir ? "export ZOO_LOG_DIR=" : "",
					       logdir ? subst_shell_quote(a, logdir) : "", logdir ? "\n" : "");
		rc = put(r, arena_printf(a, "%s/conf/java.env", home), env, stamp, err);
	}
	return rc;
}

const struct action_ops act_zk_config = {.name = "zk.config", .kinds = TGT_ZK, .params = ACT_PARAMS("jvmflags", "log_dir"),
	.required = ACT_NONE, .summary = "write zoo.cfg, myid and java.env from the inventory", .describe = zk_config_describe,
	.run = zk_config_run};
