/*
 * inv_check: what an inventory must satisfy beyond its schema. Each check
 * names the line to fix. The loopback check exists because of the seed: its
 * new ensemble lists 127.26.64.168 among 172.26.x.x hosts, a typo that would
 * send a copy to this very machine.
 */
#include "cutover/inventory.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define err_at(d, inv, p, ...) diag_add(d, (inv)->file, (p).line, (p).col, DIAG_ERROR, __VA_ARGS__)

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

bool inv_parse_time(const char *s, long long *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, n = 0;
	char sign = 0;
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return false;
	const char *z = s + n;
	if (strcmp(z, "Z") != 0 && !(sscanf(z, "%c%2d:%2d%n", &sign, &oh, &om, &n) == 3 && z[n] == '\0' &&
				     (sign == '+' || sign == '-')))
		return false; /* a time without an offset means something else on every host */
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 || oh > 14 || om > 59)
		return false;
	long long off = (oh * 60LL + om) * 60 * (sign == '-' ? -1 : 1);
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + sec - off;
	return true;
}

static void check_window(const struct inventory *inv, struct diag_list *d)
{
	long long a = 0, b = 0;
	bool ok_a = inv->window_start == NULL || inv_parse_time(inv->window_start, &a);
	bool ok_b = inv->window_end == NULL || inv_parse_time(inv->window_end, &b);
	if (!ok_a)
		err_at(d, inv, inv->window_start_pos, "window start '%s' is not a time like 2026-12-05T02:00:00+08:00 "
		       "(seconds and an offset are required)", inv->window_start);
	if (!ok_b)
		err_at(d, inv, inv->window_end_pos, "window end '%s' is not a time like 2026-12-05T05:00:00+08:00 "
		       "(seconds and an offset are required)", inv->window_end);
	if (ok_a && ok_b && inv->window_start && inv->window_end && b <= a)
		err_at(d, inv, inv->window_end_pos, "the maintenance window ends (%s) before it starts (%s)",
		       inv->window_end, inv->window_start);
	else if (ok_a && ok_b && inv->window_start && inv->window_end && b - a > 24 * 3600)
		diag_add(d, inv->file, inv->window_end_pos.line, inv->window_end_pos.col, DIAG_WARNING,
			 "the maintenance window lasts %lld hours; is the date right?", (b - a) / 3600);
}

/* 1 = loopback, 0 = other address or name, -1 = absent. */
static int loopback(const char *host)
{
	if (host == NULL || strcmp(host, "local") == 0)
		return -1;
	if (strcmp(host, "localhost") == 0)
		return 1;
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return strcmp(host, "::1") == 0;
}

struct host_ref {
	const char *host, *what;
	struct yml_pos pos;
};

static size_t collect_hosts(const struct inventory *inv, struct host_ref *v, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < inv->nensembles; i++)
		for (size_t j = 0; j < inv->ensembles[i].n && n < cap; j++) {
			const struct inv_zk_node *z = &inv->ensembles[i].nodes[j];
			v[n++] = (struct host_ref){z->host, z->name, z->host_pos.line ? z->host_pos : z->pos};
		}
	for (size_t i = 0; i < inv->nck && n < cap; i++)
		v[n++] = (struct host_ref){inv->ck[i].host, inv->ck[i].name, inv->ck[i].host_pos};
	return n;
}

static void check_hosts(const struct inventory *inv, struct diag_list *d)
{
	struct host_ref h[512];
	size_t n = collect_hosts(inv, h, sizeof h / sizeof h[0]);
	size_t loop = 0, other = 0;
	for (size_t i = 0; i < n; i++) {
		if (h[i].host == NULL) {
			err_at(d, inv, h[i].pos, "node %s has no host; add 'host:' to it or to its defaults", h[i].what);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (h[j].host && strcmp(h[i].host, h[j].host) == 0) {
				diag_add(d, inv->file, h[i].pos.line, h[i].pos.col, DIAG_ERROR,
					 "host %s of %s is also the host of %s; give each node its own machine",
					 h[i].host, h[i].what, h[j].what);
				break;
			}
		int l = loopback(h[i].host);
		loop += l == 1;
		other += l == 0;
	}
	if (loop == 0 || other == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (loopback(h[i].host) == 1)
			diag_add(d, inv->file, h[i].pos.line, h[i].pos.col, DIAG_ERROR,
				 "host %s of %s is a loopback address among non-loopback hosts, most likely a typo "
				 "(172.x written as 127.x?); write the machine's real address",
				 h[i].host, h[i].what);
}

static void check_ensembles(const struct inventory *inv, struct diag_list *d)
{
	for (size_t i = 0; i < inv->nensembles; i++) {
		const struct inv_ensemble *e = &inv->ensembles[i];
		if (e->n == 0)
			diag_add(d, inv->file, e->pos.line, e->pos.col, DIAG_ERROR,
				 "ensemble %s has no nodes; list them under 'nodes'", e->name);
		else if (e->n % 2 == 0)
			diag_add(d, inv->file, e->pos.line, e->pos.col, DIAG_WARNING,
				 "ensemble %s has %zu nodes; an even count tolerates no more failures than one node fewer",
				 e->name, e->n);
		for (size_t j = 0; j < e->n; j++) {
			const struct inv_zk_node *z = &e->nodes[j];
			struct yml_pos p = z->myid_pos.line ? z->myid_pos : z->pos;
			if (z->myid == 0)
				err_at(d, inv, p, "ZooKeeper node %s has no myid; add 'myid:' (1-255)", z->name);
			for (size_t k = 0; k < j; k++)
				if (z->myid != 0 && e->nodes[k].myid == z->myid)
					diag_add(d, inv->file, p.line, p.col, DIAG_ERROR,
						 "myid %d appears twice in ensemble %s; each node needs its own myid",
						 z->myid, e->name);
			int ports[] = {z->client_port, z->quorum_port, z->election_port, z->admin_port};
			for (size_t a = 0; a < 4; a++)
				for (size_t b = 0; b < a; b++)
					if (ports[a] == ports[b])
						diag_add(d, inv->file, z->pos.line, z->pos.col, DIAG_ERROR,
							 "node %s uses port %d twice (client, quorum, election and admin ports must differ)",
							 z->name, ports[a]);
		}
	}
	if (inv->ck_ensemble != NULL && inv_ensemble(inv, inv->ck_ensemble) == NULL)
		diag_add(d, inv->file, inv->ck_ensemble_pos.line, inv->ck_ensemble_pos.col, DIAG_ERROR,
			 "clickhouse.ensemble names '%s', which is not an ensemble of this inventory",
			 inv->ck_ensemble);
	if (inv->nck > 0 && inv->ck_ensemble == NULL)
		diag_add(d, inv->file, 0, 0, DIAG_ERROR,
			 "clickhouse.ensemble is missing; name the ensemble metrika.xml points at now");
}

static void check_tasks(const struct inventory *inv, struct diag_list *d)
{
	for (size_t i = 0; i < inv->ntasks; i++) {
		const struct inv_task *t = &inv->tasks[i];
		if (t->id == NULL) {
			err_at(d, inv, t->pos, "writer task without 'id'; add its id");
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (inv->tasks[j].id && strcmp(inv->tasks[j].id, t->id) == 0) { /* once, against the first */
				err_at(d, inv, t->id_pos, "task id %s appears twice (first at line %d); keep one", t->id,
				       inv->tasks[j].id_pos.line);
				break;
			}
		if (strcmp(t->adapter, "shell") == 0) {
			if (!t->status || !t->start || !t->stop)
				err_at(d, inv, t->pos, "shell task %s needs 'status', 'start' and 'stop' commands", t->id);
		} else if (strcmp(t->adapter, "flink") == 0) {
			if (!t->url || !t->job)
				err_at(d, inv, t->pos, "flink task %s needs 'url' (the Flink REST address) and 'job' (the job id)", t->id);
		} else if (strcmp(t->adapter, "http") == 0) {
			if (!t->status_url || !t->stop_url || !t->start_url || !t->state_pointer)
				err_at(d, inv, t->pos,
				       "http task %s needs 'status_url', 'start_url', 'stop_url' and 'state_pointer'", t->id);
		} else {
			err_at(d, inv, t->pos, "unknown adapter '%s'; use shell, flink or http", t->adapter);
		}
	}
}

void inv_check(const struct inventory *inv, struct diag_list *d)
{
	check_hosts(inv, d);
	check_ensembles(inv, d);
	check_tasks(inv, d);
	check_window(inv, d);
	for (size_t i = 0; i < inv->operators.n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(inv->operators.v[i], inv->operators.v[j]) == 0) { /* once, against the first */
				err_at(d, inv, inv->operators.pos[i], "operator %s is listed twice (first at line %d)",
				       inv->operators.v[i], inv->operators.pos[j].line);
				break;
			}
	if (inv->ssh.known_hosts == NULL)
		diag_add(d, inv->file, inv->ssh.pos.line, inv->ssh.pos.col, DIAG_WARNING,
			 "ssh.known_hosts is not set; cutover refuses hosts whose key it cannot check, so name the file");
}
