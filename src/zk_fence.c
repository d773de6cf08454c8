/*
 * zk_fence: proof that no write reached the source after the copy -- the
 * recorded zxid, and when it moved, the source's own logs read for what moved
 * it (sessions only, or the tree).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act_int.h"
#include "zk_copy_int.h"
#include "zk_int.h"

/* What reached a source after a fence's zxid: tree changes, session txns, the paths changed. */
struct fence_late {
	long tree, sessions, more_paths;
	char paths[768];
};

/*
 * For zk.fence: the transactions the target (a source leader) holds after
 * zxid `after`, split into those that change the tree and those that only
 * open or close sessions (a ZooKeeper client such as zk.compare makes those),
 * and the paths the former changed.
 */
static int fence_scan(struct act_run *r, uint64_t after, struct fence_late *late, struct cut_err *err)
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
	rc = zk_copy_list(r, NULL, ld, &v, &n, err);
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
		rc = zk_copy_fetch(r, arena_printf(a, "%s/%s", ld, v[i].name), local, v[i].size, sha, NULL, NULL, err);
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

/*
 * zk.fence: no write may reach the source after the copy. "record" keeps the
 * source leader's zxid before the copy; "check" (after the copy, and again
 * right before ClickHouse is switched) wants the same zxid now, and the
 * copied logs ending exactly there. A ClickHouse insert that lands on the
 * old ensemble after the copy is lost on the new one without a word.
 */
static int zk_fence_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	const struct rb_param *p = rb_param(act_step(r), "phase");
	bool record = p && p->value && strcmp(p->value, "record") == 0;
	struct zk_srvr s;
	zk_probe_srvr(sc->zk->host, zk_port(sc->zk), 3000, &s);
	zk_say_node(r, sc->zk, &s);
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
		int rc = fence_scan(r, base, &late, err);
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

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_zk_fence(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const char *phase = act_param_text(s, "phase", "check");
	if (strcmp(phase, "record") == 0)
		plan_add(out, "record the zxid of %s (%s:%d)", sc->zk->name, sc->zk->host, sc->zk->client_port);
	else
		plan_add(out, "after the recorded zxid and the copied logs' last one, %s (%s:%d) may hold no transaction "
			      "but session open/close (its logs are read to tell)", sc->zk->name, sc->zk->host, sc->zk->client_port);
}

const struct action_ops act_zk_fence = {.name = "zk.fence", .kinds = TGT_ZK, .params = ACT_PARAMS("phase"), .required = ACT_NONE,
	.summary = "prove no write reached the source after the copy", .describe = d_zk_fence, .run = zk_fence_run};
