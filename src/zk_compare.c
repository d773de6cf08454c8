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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper.h>

#include "act_int.h"
#include "cutover/hash.h"

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

static int add(struct tree *t, char *path, const char *sha, const struct Stat *st)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		struct znode *v = realloc(t->v, cap * sizeof *v);
		if (v == NULL)
			return CUT_ENOMEM;
		t->v = v, t->cap = cap;
	}
	struct znode *z = &t->v[t->n++];
	z->path = path;
	memcpy(z->sha, sha, sizeof z->sha);
	z->version = st->version, z->cversion = st->cversion, z->aversion = st->aversion;
	z->len = st->dataLength;
	z->ephemeral = st->ephemeralOwner != 0;
	return CUT_OK;
}

/*
 * The walk keeps up to WINDOW nodes in flight on its session, each read by
 * two asynchronous calls (data with stat, children) answered on the client's
 * completion thread. One call at a time, the round trips set the pace (about
 * 4 ms each on the lab); pipelined, the servers do.
 */
#define WINDOW 128

struct walk {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct tree *t;
	char **todo; /* paths not asked for yet: a stack, so memory follows the tree's width */
	size_t ntodo, cap, inflight;
	int rc;
	char msg[300];
};

struct pend { /* one node being read; freed when both answers are in */
	struct walk *w;
	char *path, **kids;
	int32_t nkids;
	int answers, zrc;
	struct Stat st;
	char sha[HASH_HEX_LEN + 1];
};

/* The first failure is the one told; path is the node being read, if any. */
static void walk_fail(struct walk *w, int rc, const char *path, const char *why)
{
	if (w->rc != CUT_OK)
		return;
	w->rc = rc;
	if (path)
		snprintf(w->msg, sizeof w->msg, "reading %.200s: %.80s", path, why);
	else
		snprintf(w->msg, sizeof w->msg, "%.290s", why);
}

static void push(struct walk *w, char *path)
{
	if (w->ntodo == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		char **v = realloc(w->todo, cap * sizeof *v);
		if (v == NULL) {
			walk_fail(w, CUT_ENOMEM, NULL, "out of memory");
			free(path);
			return;
		}
		w->todo = v, w->cap = cap;
	}
	w->todo[w->ntodo++] = path;
}

/* One answer for p, under the lock; the second one settles the node. */
static void answered(struct pend *p, int zrc)
{
	struct walk *w = p->w;
	if (p->zrc == ZOK)
		p->zrc = zrc;
	if (++p->answers < 2)
		return;
	if (p->zrc == ZNONODE) { /* gone between listing and reading: an ephemeral going away */
		free(p->path);
	} else if (p->zrc != ZOK) {
		walk_fail(w, CUT_ENET, p->path, zerror(p->zrc));
		free(p->path);
	} else if (w->rc == CUT_OK && add(w->t, p->path, p->sha, &p->st) != CUT_OK) {
		walk_fail(w, CUT_ENOMEM, NULL, "out of memory");
		free(p->path);
	} else if (w->rc != CUT_OK) {
		free(p->path);
	}
	for (int32_t i = 0; i < p->nkids; i++) {
		if (p->zrc == ZOK && w->rc == CUT_OK)
			push(w, p->kids[i]);
		else
			free(p->kids[i]);
	}
	free(p->kids);
	free(p);
	w->inflight--;
	pthread_cond_signal(&w->cv);
}

static void on_data(int zrc, const char *value, int len, const struct Stat *st, const void *ud)
{
	struct pend *p = (struct pend *)ud;
	if (zrc == ZOK) {
		hash_buf(value, len > 0 ? (size_t)len : 0, p->sha);
		p->st = *st;
	}
	struct walk *w = p->w; /* answered() may free p */
	pthread_mutex_lock(&w->mu);
	answered(p, zrc);
	pthread_mutex_unlock(&w->mu);
}

static void on_kids(int zrc, const struct String_vector *kids, const void *ud)
{
	struct pend *p = (struct pend *)ud;
	if (zrc == ZOK && kids->count > 0 && (p->kids = calloc((size_t)kids->count, sizeof *p->kids)) == NULL)
		zrc = ZSYSTEMERROR;
	for (int32_t i = 0; zrc == ZOK && i < kids->count; i++) {
		if (strcmp(p->path, "/") == 0 && strcmp(kids->data[i], "zookeeper") == 0)
			continue; /* the servers' own quota and config nodes */
		size_t pl = strlen(p->path) + strlen(kids->data[i]) + 2;
		if ((p->kids[p->nkids] = malloc(pl)) == NULL) {
			zrc = ZSYSTEMERROR;
			break;
		}
		snprintf(p->kids[p->nkids++], pl, "%s/%s", strcmp(p->path, "/") == 0 ? "" : p->path, kids->data[i]);
	}
	struct walk *w = p->w; /* answered() may free p */
	pthread_mutex_lock(&w->mu);
	answered(p, zrc);
	pthread_mutex_unlock(&w->mu);
}

/* The whole tree, sorted by path. Every call asked for is answered before this returns. */
static int walk(struct act_run *r, zhandle_t *zh, const char *name, struct tree *t, struct cut_err *err)
{
	struct walk w = {.t = t, .rc = CUT_OK};
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	pthread_mutex_lock(&w.mu);
	char *root = strdup("/");
	if (root)
		push(&w, root);
	else
		walk_fail(&w, CUT_ENOMEM, NULL, "out of memory");
	while (w.inflight > 0 || (w.ntodo > 0 && w.rc == CUT_OK)) {
		while (w.ntodo > 0 && w.inflight < WINDOW && w.rc == CUT_OK) {
			struct pend *p = calloc(1, sizeof *p);
			if (p == NULL) {
				walk_fail(&w, CUT_ENOMEM, NULL, "out of memory");
				break;
			}
			p->w = &w, p->path = w.todo[--w.ntodo];
			w.inflight++;
			pthread_mutex_unlock(&w.mu);
			int z1 = zoo_aget(zh, p->path, 0, on_data, p);
			int z2 = zoo_aget_children(zh, p->path, 0, on_kids, p);
			pthread_mutex_lock(&w.mu);
			if (z1 != ZOK) /* never queued: no completion will come for it */
				answered(p, z1);
			if (z2 != ZOK)
				answered(p, z2);
		}
		if (w.inflight == 0)
			continue;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000000L;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		if (pthread_cond_timedwait(&w.cv, &w.mu, &until) != 0 && w.rc == CUT_OK) {
			/* nothing answered for 100 ms: the operator may have canceled, the step run out of time */
			pthread_mutex_unlock(&w.mu);
			struct cut_err ce;
			int rc = act_sleep(r, 1, &ce);
			pthread_mutex_lock(&w.mu);
			if (rc != CUT_OK)
				walk_fail(&w, rc, NULL, ce.msg);
		}
	}
	while (w.ntodo > 0)
		free(w.todo[--w.ntodo]);
	pthread_mutex_unlock(&w.mu);
	free(w.todo);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	if (w.rc != CUT_OK)
		return cut_fail(err, w.rc, "%s: %s", name, w.msg);
	qsort(t->v, t->n, sizeof *t->v, by_path);
	return CUT_OK;
}

static int read_tree(struct act_run *r, const char *ens_name, struct tree *t, struct cut_err *err)
{
	const struct inv_ensemble *e = inv_ensemble(act_scope(r)->inv, ens_name);
	if (e == NULL)
		return cut_fail(err, CUT_EINVAL, "no ensemble %s in the inventory", ens_name);
	zhandle_t *zh = connect_to(r, e, err);
	if (zh == NULL)
		return err->code;
	int rc = walk(r, zh, ens_name, t, err);
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

static int zk_compare_run(struct act_run *r, struct cut_err *err)
{
	const struct rb_param *lp = rb_param(act_step(r), "left"), *rp = rb_param(act_step(r), "right");
	const char *ln = lp && lp->value ? lp->value : "old", *rn = rp && rp->value ? rp->value : "new";
	struct tree a = {0}, b = {0};
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	int rc = read_tree(r, ln, &a, err);
	if (rc == CUT_OK)
		rc = read_tree(r, rn, &b, err);
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

/* ---- what the plan says it does ---------------------------------------------------------- */

static void h_zk_compare(struct plan_lines *out, const struct rb_step *s, const struct inventory *inv)
{
	(void)inv;
	plan_add(out, "walk both trees with the ZooKeeper client: %s against %s", act_param_text(s, "left", "?"),
		 act_param_text(s, "right", "?"));
	plan_add(out, "compare every path, data (SHA-256), version, cversion, aversion; ephemerals reported apart");
}

const struct action_ops act_zk_compare = {.name = "zk.compare", .kinds = 0, .params = ACT_PARAMS("left", "right"),
	.required = ACT_PARAMS("left", "right"), .summary = "compare two ensembles' trees", .header = h_zk_compare,
	.run = zk_compare_run};
