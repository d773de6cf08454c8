/*
 * zk_status: the full probe of one ZooKeeper node (see include/cutover/probe.h).
 * Every source has its own timeout; a node that answers none shows as
 * "no answer" with the reason, never as a stale value.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/probe.h"
#include "http.h"

char *zk_http_get(const char *host, int port, const char *path, int timeout_ms, char *why, size_t wl)
{
	char url[300], *body;
	long code;
	struct cut_err e;
	snprintf(url, sizeof url, "http://%s:%d%s", host, port, path);
	if (http_request(url, NULL, NULL, timeout_ms, &body, &code, &e) != CUT_OK) {
		snprintf(why, wl, "%s", e.msg);
		return NULL;
	}
	if (code != 200) {
		snprintf(why, wl, "%.200s: HTTP %ld", url, code);
		free(body);
		return NULL;
	}
	return body;
}

static long jlong(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_number(v) ? (long)json_number_value(v) : -1;
}

static enum zk_role role_of(const char *s)
{
	if (s == NULL)
		return ZR_UNKNOWN;
	return strcmp(s, "leader") == 0 ? ZR_LEADER : strcmp(s, "follower") == 0 ? ZR_FOLLOWER
	     : strcmp(s, "observer") == 0 ? ZR_OBSERVER : strcmp(s, "standalone") == 0 ? ZR_STANDALONE : ZR_UNKNOWN;
}

json_t *zk_admin_json(const struct inv_zk_node *z, const char *cmd, int timeout_ms, char *err, size_t errlen)
{
	char ignored[8];
	if (err == NULL)
		err = ignored, errlen = sizeof ignored;
	char *body = zk_http_get(z->host, z->admin_port ? z->admin_port : 8080, cmd, timeout_ms, err, errlen);
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	if (body && j == NULL)
		snprintf(err, errlen, "the AdminServer's answer to %s is not JSON", cmd);
	free(body);
	return j;
}

/* The AdminServer: srvr for role and zxid, mntr for what srvr lacks. */
static bool from_admin(const struct inv_zk_node *z, int tmo, struct zk_status *st, char *why, size_t wl)
{
	json_t *j = zk_admin_json(z, "/commands/srvr", tmo, why, wl);
	if (j == NULL)
		return false;
	json_t *ss = json_object_get(j, "server_stats");
	const char *e = json_string_value(json_object_get(j, "error"));
	if (!json_is_object(ss)) { /* LOOKING: "not currently serving requests" */
		st->s.role = ZR_UNKNOWN;
		snprintf(st->s.error, sizeof st->s.error, "%.150s", e ? e : "no server_stats");
	} else {
		st->s.role = role_of(json_string_value(json_object_get(ss, "server_state")));
		st->s.zxid = (uint64_t)json_integer_value(json_object_get(ss, "last_processed_zxid"));
		st->s.znodes = jlong(j, "node_count");
		st->conns = jlong(ss, "num_alive_client_connections");
		st->outstanding = jlong(ss, "outstanding_requests");
		st->avg_latency = json_number_value(json_object_get(ss, "avg_latency"));
		st->max_latency = json_number_value(json_object_get(ss, "max_latency"));
	}
	const char *v = json_string_value(json_object_get(j, "version"));
	v = v ? v : "";
	snprintf(st->s.version, sizeof st->s.version, "%.*s", (int)strcspn(v, ",-"), v);
	json_decref(j);
	json_t *m = zk_admin_json(z, "/commands/mntr", tmo, why, wl);
	if (m) {
		st->synced_followers = jlong(m, "synced_followers");
		json_decref(m);
	}
	snprintf(st->source, sizeof st->source, "admin");
	return true;
}

/* mntr over TCP, where the node's whitelist allows it (since 3.5.3 only srvr is on by default). */
static bool from_4lw_mntr(const struct inv_zk_node *z, int tmo, struct zk_status *st)
{
	char *page = NULL;
	size_t n = 0;
	if (zk_4lw(z->host, z->client_port ? z->client_port : 2181, "mntr", tmo, &page, &n) != 0 || page == NULL)
		return false;
	bool any = false;
	char *save = NULL;
	for (char *l = strtok_r(page, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[64];
		double val;
		if (sscanf(l, "zk_%63s %lf", key, &val) != 2)
			continue;
		any = true;
		if (strcmp(key, "synced_followers") == 0)
			st->synced_followers = (long)val;
		else if (strcmp(key, "num_alive_connections") == 0)
			st->conns = (long)val;
		else if (strcmp(key, "outstanding_requests") == 0)
			st->outstanding = (long)val;
		else if (strcmp(key, "avg_latency") == 0)
			st->avg_latency = val;
		else if (strcmp(key, "max_latency") == 0)
			st->max_latency = val;
	}
	free(page);
	return any;
}

void zk_parse_prometheus(const char *page, struct zk_status *st)
{
	const char *p = page;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
		p = nl ? nl + 1 : NULL;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char name[128];
		double val;
		/* name{labels} value, or name value; summaries carry labels we do not need */
		if (sscanf(line, "%127[a-zA-Z0-9_:]%*[^ ] %lf", name, &val) != 2 && sscanf(line, "%127s %lf", name, &val) != 2)
			continue;
		if (strchr(line, '{'))
			continue;
		if (strcmp(name, "znode_count") == 0)
			st->s.znodes = (long)val;
		else if (strcmp(name, "num_alive_connections") == 0)
			st->conns = (long)val;
		else if (strcmp(name, "outstanding_requests") == 0)
			st->outstanding = (long)val;
		else if (strcmp(name, "synced_followers") == 0)
			st->synced_followers = (long)val;
		else if (strcmp(name, "avg_latency") == 0)
			st->avg_latency = val;
		else if (strcmp(name, "max_latency") == 0)
			st->max_latency = val;
	}
}

void zk_probe_full(const struct inv_zk_node *z, int tmo, struct zk_status *st)
{
	memset(st, 0, sizeof *st);
	st->conns = st->outstanding = st->synced_followers = -1;
	st->avg_latency = st->max_latency = -1;
	st->at_ms = xp_now_ms();
	char why[160] = "";
	if (!from_admin(z, tmo, st, why, sizeof why)) {
		/* Jetty starts after the quorum port: a fresh node falls back for a moment.
		 * The fallback gets what is left of the timeout, so a host that accepts and
		 * never answers costs one timeout, not two. */
		snprintf(st->fallback, sizeof st->fallback, "AdminServer: %s", why[0] ? why : "not JSON");
		long long left = tmo - (xp_now_ms() - st->at_ms);
		int rest = left < 100 ? 100 : (int)left;
		zk_probe_srvr(z->host, z->client_port ? z->client_port : 2181, rest, &st->s);
		if (st->s.role == ZR_NOANSWER)
			snprintf(st->s.error, sizeof st->s.error, "%.60s:%d: no answer within %d ms (AdminServer, then srvr)",
				 z->host, z->client_port ? z->client_port : 2181, tmo);
		snprintf(st->source, sizeof st->source, "4lw srvr");
		left = tmo - (xp_now_ms() - st->at_ms);
		rest = left < 100 ? 100 : (int)left;
		if (st->s.role != ZR_DOWN && st->s.role != ZR_NOANSWER && from_4lw_mntr(z, rest, st))
			snprintf(st->source, sizeof st->source, "4lw srvr+mntr");
	}
	if (z->metrics_port && st->s.role != ZR_DOWN && st->s.role != ZR_NOANSWER) {
		char *page = zk_http_get(z->host, z->metrics_port, "/metrics", tmo, why, sizeof why);
		if (page) {
			zk_parse_prometheus(page, st);
			snprintf(st->source + strlen(st->source), sizeof st->source - strlen(st->source), "+prometheus");
			free(page);
		}
	}
}
