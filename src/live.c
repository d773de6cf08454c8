/*
 * live: one probe of the whole site, every item on its own thread (see
 * include/cutover/probe.h).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/audit.h"
#include "cutover/probe.h"
#include "cutover/subst.h"

enum item_kind { ITEM_ZK, ITEM_CK, ITEM_TASK };

struct item {
	enum item_kind kind;
	void *slot; /* struct live_zk / live_ck / live_task */
	const struct inventory *inv;
	struct ssh_pool *pool;
	int timeout_ms;
	pthread_t th;
	bool started;
};

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p, (void)ud;
	return s * n;
}

static void probe_ck(struct item *it)
{
	struct live_ck *c = it->slot;
	char url[300];
	snprintf(url, sizeof url, "http://%s:%d/ping", c->node->host, c->node->http_port ? c->node->http_port : 8123);
	CURL *h = curl_easy_init();
	if (h == NULL) {
		c->st = LIVE_UNKNOWN;
		return;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)it->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)it->timeout_ms);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	CURLcode rc = curl_easy_perform(h);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	c->st = rc == CURLE_OK && code == 200 ? LIVE_UP : rc == CURLE_COULDNT_CONNECT ? LIVE_DOWN
	      : rc == CURLE_OPERATION_TIMEDOUT ? LIVE_NOANSWER : LIVE_UNKNOWN;
	if (c->st != LIVE_UP)
		snprintf(c->error, sizeof c->error, "%.100s: %.50s", url, rc == CURLE_OK ? "HTTP error" : curl_easy_strerror(rc));
}

static void probe_task(struct item *it)
{
	struct live_task *t = it->slot;
	t->st = LIVE_UNKNOWN;
	if (t->task->adapter && strcmp(t->task->adapter, "shell") != 0) {
		/* Its API is asked by the tasks.* steps (their output shows each state); the
		 * probe asks only shell status commands, which need no credentials. */
		snprintf(t->detail, sizeof t->detail, "%s adapter: state in the tasks steps' output", t->task->adapter);
		return;
	}
	struct arena *a = arena_new();
	struct subst_scope sc = {.inv = it->inv, .task = t->task};
	struct cut_err e;
	struct xport *x = NULL;
	const char *cmd = a && t->task->status ? subst(a, t->task->status, &sc, SUBST_SHELL, &e) : NULL;
	int rc = cmd ? xp_get(it->pool, t->task->host, &it->inv->ssh, &sc, &x, &e) : CUT_EINVAL;
	if (rc == CUT_OK) {
		struct xp_exec req = {.cmd = cmd, .timeout_ms = it->timeout_ms};
		rc = xp_exec(x, &req, &e);
		/* LSB: status exits 0 when running, 3 when stopped. */
		if (rc == CUT_OK)
			t->st = req.exit_status == 0 ? LIVE_UP : req.exit_status == 3 ? LIVE_DOWN : LIVE_UNKNOWN;
		if (rc == CUT_OK && t->st == LIVE_UNKNOWN)
			snprintf(t->detail, sizeof t->detail, "status exited %d", req.exit_status);
		xp_put(it->pool, x, rc);
	}
	if (rc != CUT_OK) {
		t->st = rc == CUT_ETIMEOUT ? LIVE_NOANSWER : LIVE_UNKNOWN;
		snprintf(t->detail, sizeof t->detail, "%.150s", cmd ? e.msg : "no status command");
	}
	arena_free(a);
}

static void *run_item(void *ud)
{
	struct item *it = ud;
	if (it->kind == ITEM_ZK) {
		struct live_zk *z = it->slot;
		zk_probe_srvr(z->node->host, z->node->client_port ? z->node->client_port : 2181, it->timeout_ms, &z->s);
	} else if (it->kind == ITEM_CK) {
		probe_ck(it);
	} else {
		probe_task(it);
	}
	return NULL;
}

int live_probe(const struct inventory *inv, struct ssh_pool *pool, int timeout_ms, struct live *l, struct cut_err *err)
{
	memset(l, 0, sizeof *l);
	audit_wall_now(l->wall);
	size_t nzk = 0;
	for (size_t e = 0; e < inv->nensembles; e++)
		nzk += inv->ensembles[e].n;
	l->zk = calloc(nzk + 1, sizeof *l->zk);
	l->ck = calloc(inv->nck + 1, sizeof *l->ck);
	l->tasks = calloc(inv->ntasks + 1, sizeof *l->tasks);
	struct item *items = calloc(nzk + inv->nck + inv->ntasks + 1, sizeof *items);
	if (!l->zk || !l->ck || !l->tasks || !items) {
		free(items);
		live_free(l);
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	size_t n = 0;
	for (size_t e = 0; e < inv->nensembles; e++)
		for (size_t i = 0; i < inv->ensembles[e].n; i++) {
			l->zk[l->nzk] = (struct live_zk){inv->ensembles[e].name, &inv->ensembles[e].nodes[i], {0}};
			items[n++] = (struct item){ITEM_ZK, &l->zk[l->nzk++], inv, pool, timeout_ms, 0, false};
		}
	for (size_t i = 0; i < inv->nck; i++) {
		l->ck[l->nck].node = &inv->ck[i];
		items[n++] = (struct item){ITEM_CK, &l->ck[l->nck++], inv, pool, timeout_ms, 0, false};
	}
	for (size_t i = 0; i < inv->ntasks; i++) {
		l->tasks[l->ntasks].task = &inv->tasks[i];
		items[n++] = (struct item){ITEM_TASK, &l->tasks[l->ntasks++], inv, pool, timeout_ms, 0, false};
	}
	for (size_t i = 0; i < n; i++)
		items[i].started = pthread_create(&items[i].th, NULL, run_item, &items[i]) == 0;
	for (size_t i = 0; i < n; i++) {
		if (items[i].started)
			pthread_join(items[i].th, NULL);
		else
			run_item(&items[i]); /* no thread to spare: probe inline */
	}
	free(items);
	return CUT_OK;
}

void live_free(struct live *l)
{
	free(l->zk);
	free(l->ck);
	free(l->tasks);
	memset(l, 0, sizeof *l);
}

static const char *up_name(enum live_up u, bool task)
{
	switch (u) {
	case LIVE_UP: return task ? "running" : "up";
	case LIVE_DOWN: return task ? "stopped" : "down";
	case LIVE_NOANSWER: return "no answer";
	default: return "unknown";
	}
}

char *live_json(const struct live *l)
{
	json_t *root = json_object(), *zk = json_array(), *ck = json_array(), *tasks = json_array();
	json_object_set_new(root, "at", json_string(l->wall));
	for (size_t i = 0; i < l->nzk; i++) {
		const struct live_zk *z = &l->zk[i];
		char zx[40];
		snprintf(zx, sizeof zx, "0x%llx", (unsigned long long)z->s.zxid);
		json_array_append_new(zk, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "ensemble", z->ensemble,
						    "node", z->node->name, "host", z->node->host, "role",
						    zk_role_name(z->s.role), "zxid", zx, "znodes", (json_int_t)z->s.znodes,
						    "error", z->s.error));
	}
	for (size_t i = 0; i < l->nck; i++)
		json_array_append_new(ck, json_pack("{s:s, s:s, s:s}", "node", l->ck[i].node->name, "state",
						    up_name(l->ck[i].st, false), "error", l->ck[i].error));
	for (size_t i = 0; i < l->ntasks; i++)
		json_array_append_new(tasks, json_pack("{s:s, s:s, s:s}", "id", l->tasks[i].task->id, "state",
						       up_name(l->tasks[i].st, true), "detail", l->tasks[i].detail));
	json_object_set_new(root, "zookeeper", zk);
	json_object_set_new(root, "clickhouse", ck);
	json_object_set_new(root, "tasks", tasks);
	char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return s;
}
