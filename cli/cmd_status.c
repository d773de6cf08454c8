/*
 * status: one table of every ZooKeeper node in the inventory, probed at once
 * (each node on its own thread with its own timeout), as text or JSON, once
 * or every few seconds with --watch.
 */
#include "cli.h"

#include <getopt.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/inventory.h"
#include "cutover/probe.h"
#include "cutover/zk_files.h"

struct row {
	const char *ensemble;
	const struct inv_zk_node *z;
	struct zk_status st;
	pthread_t th;
	int tmo;
};

static void *probe_row(void *ud)
{
	struct row *r = ud;
	zk_probe_full(r->z, r->tmo, &r->st);
	return NULL;
}

static void fmt_lat(char *b, size_t n, const struct zk_status *s)
{
	if (s->avg_latency < 0)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.1f/%.0f", s->avg_latency, s->max_latency);
}

static void print_text(const struct row *v, size_t n)
{
	printf("%-8s %-6s %-16s %-10s %-22s %7s %5s %5s %-9s %6s %-8s %s\n", "ENSEMBLE", "NODE", "ADDRESS", "ROLE",
	       "ZXID (EPOCH/COUNTER)", "ZNODES", "CONNS", "OUTST", "LAT ms", "SYNCED", "VERSION", "SOURCE");
	for (size_t i = 0; i < n; i++) {
		const struct zk_status *s = &v[i].st;
		char addr[64], zx[40], lat[24], sync[16], zn[16], c[16], o[16];
		snprintf(addr, sizeof addr, "%s:%d", v[i].z->host, v[i].z->client_port ? v[i].z->client_port : 2181);
		bool up = s->s.role != ZR_DOWN && s->s.role != ZR_NOANSWER;
		if (up && s->s.zxid)
			snprintf(zx, sizeof zx, "0x%llx (%u/%u)", (unsigned long long)s->s.zxid, ZK_EPOCH(s->s.zxid),
				 ZK_COUNTER(s->s.zxid));
		else
			snprintf(zx, sizeof zx, "-");
		fmt_lat(lat, sizeof lat, s);
		snprintf(sync, sizeof sync, s->synced_followers >= 0 ? "%ld" : "-", s->synced_followers);
		snprintf(zn, sizeof zn, s->s.znodes >= 0 ? "%ld" : "-", s->s.znodes);
		snprintf(c, sizeof c, s->conns >= 0 ? "%ld" : "-", s->conns);
		snprintf(o, sizeof o, s->outstanding >= 0 ? "%ld" : "-", s->outstanding);
		printf("%-8s %-6s %-16s %-10s %-22s %7s %5s %5s %-9s %6s %-8s %s\n", v[i].ensemble, v[i].z->name, addr,
		       zk_role_name(s->s.role), zx, zn, c, o, lat, sync, s->s.version[0] ? s->s.version : "-",
		       up ? s->source : s->s.error);
		if (up && s->fallback[0])
			printf("%60s(%s)\n", "", s->fallback);
	}
}

static void print_json(const struct row *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct zk_status *s = &v[i].st;
		char zx[24];
		snprintf(zx, sizeof zx, "0x%llx", (unsigned long long)s->s.zxid);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:f, s:f, s:s, s:s, s:s, s:s}",
			"ensemble", v[i].ensemble, "node", v[i].z->name, "host", v[i].z->host, "port",
			v[i].z->client_port ? v[i].z->client_port : 2181, "role", zk_role_name(s->s.role), "zxid", zx,
			"epoch", (int)ZK_EPOCH(s->s.zxid), "counter", (int)ZK_COUNTER(s->s.zxid), "znodes", (json_int_t)s->s.znodes,
			"connections", (json_int_t)s->conns, "outstanding", (json_int_t)s->outstanding, "synced_followers",
			(json_int_t)s->synced_followers, "avg_latency", s->avg_latency, "max_latency", s->max_latency,
			"version", s->s.version, "source", s->source, "fallback", s->fallback, "error", s->s.error));
	}
	char *t = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (t)
		puts(t);
	free(t);
	json_decref(a);
}

struct inventory *cli_load_inventory(const char *file, struct diag_list *d)
{
	memset(d, 0, sizeof *d);
	struct inventory *inv = inv_load_file(file, d);
	if (inv == NULL || d->errors) {
		diag_print(d, stderr);
		inv_free(inv);
		diag_free(d);
		return NULL;
	}
	return inv;
}

/* A whole number from lo to hi, all of s; else says so and returns false. */
static bool whole(const char *opt, const char *s, long lo, long hi, const char *unit, int *out)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || end == s || *end != '\0' || errno || v < lo || v > hi) {
		fprintf(stderr, "cutover: %s takes whole %s from %ld to %ld (got '%.40s')\n", opt, unit, lo, hi, s ? s : "");
		return false;
	}
	*out = (int)v;
	return true;
}

int cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"inventory", required_argument, NULL, 'i'}, {"format", required_argument, NULL, 'f'},
		{"watch", optional_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0},
	};
	const char *invfile = NULL, *format = "text";
	int watch = 0, tmo = 2000, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:f:h", opts, NULL)) != -1) {
		if (c == 'i') invfile = optarg;
		else if (c == 'f') format = optarg;
		else if (c == 'w') { watch = 2; if (optarg && !whole("--watch", optarg, 1, 3600, "seconds", &watch)) return CLI_USAGE; }
		else if (c == 't') { if (!whole("--timeout", optarg, 1, 600000, "milliseconds", &tmo)) return CLI_USAGE; }
		else return cli_usage_of("status"), c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (invfile == NULL || (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) || tmo <= 0)
		return cli_usage_of("status"), CLI_USAGE;
	struct diag_list d;
	struct inventory *inv = cli_load_inventory(invfile, &d);
	if (inv == NULL)
		return CLI_FAIL;
	size_t n = 0;
	for (size_t e = 0; e < inv->nensembles; e++)
		n += inv->ensembles[e].n;
	struct row *v = calloc(n ? n : 1, sizeof *v);
	for (int round = 0; v; round++) {
		size_t k = 0;
		for (size_t e = 0; e < inv->nensembles; e++)
			for (size_t i = 0; i < inv->ensembles[e].n; i++)
				v[k++] = (struct row){.ensemble = inv->ensembles[e].name, .z = &inv->ensembles[e].nodes[i], .tmo = tmo};
		for (size_t i = 0; i < n; i++)
			if (pthread_create(&v[i].th, NULL, probe_row, &v[i]) != 0)
				probe_row(&v[i]), v[i].th = 0;
		for (size_t i = 0; i < n; i++)
			if (v[i].th)
				pthread_join(v[i].th, NULL);
		if (watch && isatty(STDOUT_FILENO))
			fputs("\033[H\033[J", stdout); /* redraw in place */
		if (strcmp(format, "json") == 0)
			print_json(v, n);
		else
			print_text(v, n);
		fflush(stdout);
		if (!watch)
			break;
		sleep((unsigned)watch);
	}
	free(v);
	inv_free(inv);
	diag_free(&d);
	return CLI_OK;
}
