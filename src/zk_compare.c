/*
 * zk_compare: the zk.compare action. Both ensembles are walked with the
 * official ZooKeeper C client and compared node by node: path, data (by
 * SHA-256), version, aversion and cversion. The cversion matters most: it is
 * the counter behind sequential nodes, and a copy that loses it makes
 * ClickHouse reuse block numbers and drop new inserts without a word
 * (ClickHouse issues #3846, #19014). Ephemeral nodes belong to sessions of
 * the ensemble they live on and are reported apart. /zookeeper (quota and
 * config nodes the servers own) is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper.h>

#include "act_int.h"
#include "cutover/hash.h"

#define ZK_MAX_DATA (4 << 20)

struct znode {
	char *path;
	char sha[HASH_HEX_LEN + 1];
	int32_t version, cversion, aversion, len;
	bool ephemeral;
};

struct tree {
	struct znode *v;
	size_t n, cap;
};

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct znode *)a)->path, ((const struct znode *)b)->path);
}

static zhandle_t *connect_to(struct act_run *r, const struct inv_ensemble *e, struct cut_err *err)
{
	char hosts[1024] = "";
	for (size_t i = 0; i < e->n; i++)
		snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts), "%s%s:%d", i ? "," : "", e->nodes[i].host,
			 e->nodes[i].client_port ? e->nodes[i].client_port : 2181);
	zhandle_t *zh = zookeeper_init(hosts, NULL, 10000, NULL, NULL, 0);
	if (zh == NULL) {
		cut_fail(err, CUT_ENET, "cannot start a ZooKeeper client for %s (%s)", e->name, hosts);
		return NULL;
	}
	for (int waited = 0; zoo_state(zh) != ZOO_CONNECTED_STATE; waited += 100) {
		if (waited >= 10000 || act_sleep(r, 100, err) != CUT_OK) {
			zookeeper_close(zh);
			cut_fail(err, CUT_ETIMEOUT, "no ZooKeeper session with %s (%s) within 10 s", e->name, hosts);
			return NULL;
		}
	}
	return zh;
}

static int add(struct tree *t, const char *path, const char *data, int len, const struct Stat *st)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct znode *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return CUT_ENOMEM;
		t->v = v, t->cap = cap;
	}
	struct znode *z = &t->v[t->n++];
	z->path = strdup(path);
	hash_buf(data, len > 0 ? (size_t)len : 0, z->sha);
	z->version = st->version, z->cversion = st->cversion, z->aversion = st->aversion;
	z->len = st->dataLength;
	z->ephemeral = st->ephemeralOwner != 0;
	return z->path ? CUT_OK : CUT_ENOMEM;
}

/* Depth-first over the whole tree, one node at a time. */
static int walk(zhandle_t *zh, const char *name, struct tree *t, char *buf, struct cut_err *err)
{
	char **stack = malloc(sizeof *stack);
	size_t n = 0, cap = 1;
	if (stack == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	stack[n++] = strdup("/");
	int rc = CUT_OK;
	while (n > 0 && rc == CUT_OK) {
		char *path = stack[--n];
		struct Stat st;
		int len = ZK_MAX_DATA;
		int zrc = zoo_get(zh, path, 0, buf, &len, &st);
		struct String_vector kids = {0, NULL};
		if (zrc == ZOK)
			zrc = zoo_get_children(zh, path, 0, &kids);
		if (zrc == ZNONODE) { /* gone between listing and reading: an ephemeral going away */
			free(path);
			continue;
		}
		if (zrc != ZOK)
			rc = cut_fail(err, CUT_ENET, "%s: reading %s: %s", name, path, zerror(zrc));
		if (rc == CUT_OK)
			rc = add(t, path, buf, len, &st) == CUT_OK ? CUT_OK : cut_fail(err, CUT_ENOMEM, "out of memory");
		for (int32_t i = 0; rc == CUT_OK && i < kids.count; i++) {
			if (strcmp(path, "/") == 0 && strcmp(kids.data[i], "zookeeper") == 0)
				continue; /* the servers' own quota and config nodes */
			if (n == cap) {
				char **s = realloc(stack, (cap *= 2) * sizeof *s);
				if (s == NULL) {
					rc = cut_fail(err, CUT_ENOMEM, "out of memory");
					break;
				}
				stack = s;
			}
			size_t pl = strlen(path) + strlen(kids.data[i]) + 2;
			stack[n] = malloc(pl);
			if (stack[n] == NULL) {
				rc = cut_fail(err, CUT_ENOMEM, "out of memory");
				break;
			}
			snprintf(stack[n++], pl, "%s/%s", strcmp(path, "/") == 0 ? "" : path, kids.data[i]);
		}
		deallocate_String_vector(&kids);
		free(path);
	}
	while (n > 0)
		free(stack[--n]);
	free(stack);
	if (rc == CUT_OK)
		qsort(t->v, t->n, sizeof *t->v, by_path);
	return rc;
}

static int read_tree(struct act_run *r, const char *ens_name, struct tree *t, char *buf, struct cut_err *err)
{
	const struct inv_ensemble *e = inv_ensemble(act_scope(r)->inv, ens_name);
	if (e == NULL)
		return cut_fail(err, CUT_EINVAL, "no ensemble %s in the inventory", ens_name);
	zhandle_t *zh = connect_to(r, e, err);
	if (zh == NULL)
		return err->code;
	int rc = walk(zh, ens_name, t, buf, err);
	zookeeper_close(zh);
	return rc;
}

/* Merge two sorted trees; report differences, keep ephemerals apart. */
static size_t diff(struct act_run *r, const struct tree *a, const struct tree *b, const char *ln, const char *rn,
		   size_t *eph)
{
	size_t i = 0, j = 0, bad = 0;
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->v[i].path, b->v[j].path);
		const struct znode *x = c <= 0 ? &a->v[i] : NULL, *y = c >= 0 ? &b->v[j] : NULL;
		const char *why = NULL;
		char buf[160];
		if (x == NULL || y == NULL) {
			if ((x ? x : y)->ephemeral) {
				(*eph)++;
			} else {
				snprintf(buf, sizeof buf, "only in %s", x ? ln : rn);
				why = buf;
			}
		} else if (strcmp(x->sha, y->sha) != 0) {
			why = "data differs";
		} else if (x->cversion != y->cversion) {
			snprintf(buf, sizeof buf, "cversion %d vs %d (sequential numbers would repeat)", x->cversion, y->cversion);
			why = buf;
		} else if (x->version != y->version || x->aversion != y->aversion) {
			snprintf(buf, sizeof buf, "version %d/%d vs %d/%d", x->version, x->aversion, y->version, y->aversion);
			why = buf;
		}
		if (why && bad++ < 50)
			act_say(r, "%s: %s", (x ? x : y)->path, why);
		i += c <= 0;
		j += c >= 0;
	}
	return bad;
}

int zk_compare_run(struct act_run *r, struct cut_err *err)
{
	const struct rb_param *lp = rb_param(act_step(r), "left"), *rp = rb_param(act_step(r), "right");
	const char *ln = lp && lp->value ? lp->value : "old", *rn = rp && rp->value ? rp->value : "new";
	struct tree a = {0}, b = {0};
	char *buf = malloc(ZK_MAX_DATA);
	if (buf == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	int rc = read_tree(r, ln, &a, buf, err);
	if (rc == CUT_OK)
		rc = read_tree(r, rn, &b, buf, err);
	free(buf);
	if (rc == CUT_OK) {
		size_t eph = 0, bad = diff(r, &a, &b, ln, rn, &eph);
		act_say(r, "%s: %zu nodes, %s: %zu nodes; %zu difference(s)%s; %zu ephemeral node(s) on one side only "
			"(sessions do not move)", ln, a.n, rn, b.n, bad, bad > 50 ? " (first 50 shown)" : "", eph);
		if (bad)
			rc = cut_fail(err, CUT_EREFUSED, "the trees of %s and %s differ in %zu node(s)", ln, rn, bad);
	}
	tree_free(&a);
	tree_free(&b);
	return rc;
}
