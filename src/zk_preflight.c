/*
 * zk_preflight: the zk.preflight action, before anything stops on the
 * destination: read each node's zoo.cfg (and conf/java.env) and the same of
 * the ensemble it will receive data from ("against"), and refuse what would
 * make the copy fail or lie -- dataDir or dataLogDir other than the
 * inventory's, snapshot compression (3.4 cannot read it), snapshot.trust.empty
 * (silent partial trees), a jute.maxbuffer smaller than the source's (large
 * znodes would not load), too little free space for the source's data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"
#include "zk_int.h"
#include "cutover/probe.h"

struct zcfg {
	char data_dir[512], data_log_dir[512], compression[32], trust_empty[16];
	long long jute; /* bytes; ZooKeeper's default 0xfffff */
	char version[64];
	unsigned long long used; /* bytes in the version-2 dirs */
};

static void cfg_value(const char *text, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, kl) == 0 && (p[kl] == '=' || p[kl] == ' ')) {
			const char *v = strchr(p, '=');
			if (v == NULL)
				continue;
			v++;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r\n");
			while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			snprintf(out, n, "%.*s", (int)len, v);
		}
	}
}

static int read_cfg(struct act_run *r, const struct subst_scope *sc, struct zcfg *c, struct cut_err *err)
{
	struct arena *a = act_arena(r);
	memset(c, 0, sizeof *c);
	c->jute = 0xfffff;
	const char *home = subst(a, sc->zk->home, sc, SUBST_PATH, err);
	if (home == NULL)
		return err->code;
	char *cfg = NULL, *env = NULL;
	size_t len;
	int rc = act_read_file(r, arena_printf(a, "%s/conf/zoo.cfg", home), 1 << 20, &cfg, &len, err);
	if (rc != CUT_OK)
		return rc;
	struct cut_err ignore;
	if (act_read_file(r, arena_printf(a, "%s/conf/java.env", home), 1 << 20, &env, &len, &ignore) != CUT_OK)
		env = NULL;
	cfg_value(cfg, "dataDir", c->data_dir, sizeof c->data_dir);
	cfg_value(cfg, "dataLogDir", c->data_log_dir, sizeof c->data_log_dir);
	if (!c->data_log_dir[0])
		snprintf(c->data_log_dir, sizeof c->data_log_dir, "%s", c->data_dir);
	cfg_value(cfg, "snapshot.compression.method", c->compression, sizeof c->compression);
	cfg_value(cfg, "snapshot.trust.empty", c->trust_empty, sizeof c->trust_empty);
	char jute[32] = "";
	cfg_value(cfg, "jute.maxbuffer", jute, sizeof jute);
	const char *d = env ? strstr(env, "-Djute.maxbuffer=") : NULL;
	if (d)
		snprintf(jute, sizeof jute, "%.20s", d + strlen("-Djute.maxbuffer="));
	if (jute[0])
		c->jute = strtoll(jute, NULL, 0);
	free(cfg);
	free(env);
	char *out = NULL;
	int status;
	const char *q = subst_shell_quote(a, c->data_dir), *ql = subst_shell_quote(a, c->data_log_dir);
	if (act_capture(r, arena_printf(a, "du -sbc %s/version-2 %s/version-2 2>/dev/null | tail -1 | cut -f1", q, ql),
			&status, &out, 4096, err) == CUT_OK && out)
		c->used = strtoull(out, NULL, 10);
	free(out);
	struct zk_srvr s;
	zk_probe_srvr(sc->zk->host, sc->zk->client_port ? sc->zk->client_port : 2181, 3000, &s);
	snprintf(c->version, sizeof c->version, "%s", s.version[0] ? s.version : "not running");
	return CUT_OK;
}

static unsigned long long free_bytes(struct act_run *r, const char *dir, struct cut_err *err)
{
	char *out = NULL;
	int status;
	struct arena *a = act_arena(r);
	unsigned long long kb = 0;
	if (act_capture(r, arena_printf(a, "df -Pk %s | awk 'NR==2 {print $4}'", subst_shell_quote(a, dir)), &status, &out, 4096,
			err) == CUT_OK && out)
		kb = strtoull(out, NULL, 10);
	free(out);
	return kb * 1024;
}

static int zk_preflight_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	struct zcfg me, src;
	int rc = read_cfg(r, sc, &me, err);
	if (rc != CUT_OK)
		return rc;
	const char *dd, *ld;
	if ((rc = zk_dirs(a, sc, &dd, &ld, err)) != CUT_OK)
		return rc;
	act_say(r, "%s: ZooKeeper %s; dataDir %s, dataLogDir %s; jute.maxbuffer %lld", sc->zk->name, me.version, me.data_dir,
		me.data_log_dir, me.jute);
	char problems[1024] = "";
#define PROBLEM(...) snprintf(problems + strlen(problems), sizeof problems - strlen(problems), __VA_ARGS__)
	if (strcmp(me.data_dir, dd) != 0)
		PROBLEM("zoo.cfg says dataDir=%s, the inventory %s; ", me.data_dir, dd);
	if (strcmp(me.data_log_dir, ld) != 0)
		PROBLEM("zoo.cfg says dataLogDir=%s, the inventory %s; ", me.data_log_dir, ld);
	if (me.compression[0])
		PROBLEM("snapshot.compression.method=%s (ZooKeeper 3.4 cannot read such snapshots; leave it empty); ", me.compression);
	if (strcmp(me.trust_empty, "true") == 0)
		PROBLEM("snapshot.trust.empty=true (a missing snapshot would start an empty tree silently); ");
	const struct rb_param *p = rb_param(act_step(r), "against");
	const struct inv_ensemble *other = p && p->value ? inv_ensemble(sc->inv, p->value) : NULL;
	if (other && other->n > 0) {
		const struct inv_zk_node *oz = &other->nodes[0];
		struct subst_scope osc = {.inv = sc->inv, .zk = oz, .ensemble = other->name};
		struct act_run *o = act_open_other(r, oz->name, oz->host, &oz->ssh, &osc);
		rc = o ? read_cfg(o, &osc, &src, err) : cut_fail(err, CUT_ENOMEM, "out of memory");
		act_close_other(o, rc);
		if (rc != CUT_OK)
			return rc;
		act_say(r, "%s (%s): ZooKeeper %s; jute.maxbuffer %lld; %llu bytes in version-2", oz->name, other->name,
			src.version, src.jute, src.used);
		if (me.jute < src.jute)
			PROBLEM("jute.maxbuffer %lld is smaller than %s's %lld (its largest znodes would not load); ", me.jute,
				oz->name, src.jute);
		unsigned long long fd = free_bytes(r, me.data_dir, err), fl = free_bytes(r, me.data_log_dir, err);
		if (fd < src.used + src.used / 20 || fl < src.used + src.used / 20)
			PROBLEM("free space %llu MiB (dataDir) / %llu MiB (dataLogDir) is less than the %llu MiB %s holds, with 5%% to spare; ",
				fd >> 20, fl >> 20, src.used >> 20, oz->name);
	}
#undef PROBLEM
	if (problems[0]) {
		problems[strlen(problems) - 2] = '\0';
		return cut_fail(err, CUT_EREFUSED, "%s: %s", sc->zk->name, problems);
	}
	act_say(r, "%s: ready", sc->zk->name);
	return CUT_OK;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_zk_preflight(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	(void)s;
	plan_add(out, "read %s/conf/zoo.cfg: version, jute.maxbuffer, snapshot.compression.method, snapshot.trust.empty",
		 ACT_PATH(sc->zk->home));
	plan_add(out, "check dataDir %s and dataLogDir %s as zoo.cfg says, and free space for the copy",
		 ACT_PATH(sc->zk->data_dir), ACT_PATH(sc->zk->data_log_dir));
}

const struct action_ops act_zk_preflight = {.name = "zk.preflight", .kinds = TGT_ZK, .params = ACT_PARAMS("against"),
	.required = ACT_NONE, .summary = "check versions, limits, layout and space before anything stops",
	.describe = d_zk_preflight, .run = zk_preflight_run};
