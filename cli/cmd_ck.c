/*
 * ck show: which ensemble each ClickHouse node's metrika.xml points at, read
 * over SSH (or locally) the way ck.switch reads it.
 */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/ck.h"
#include "cutover/inventory.h"
#include "cutover/subst.h"
#include "cutover/xport.h"

struct grab {
	char *buf;
	size_t n;
};

static void sink(void *ud, const char *b, size_t len)
{
	struct grab *g = ud;
	char *p = realloc(g->buf, g->n + len + 1);
	if (p == NULL)
		return;
	memcpy(p + g->n, b, len);
	g->buf = p;
	g->n += len;
	p[g->n] = '\0';
}

static void show_one(const struct inventory *inv, struct ssh_pool *pool, const struct inv_ck_node *ck)
{
	struct arena *a = arena_new();
	struct subst_scope sc = {.inv = inv, .ck = ck};
	struct cut_err err = {0};
	struct xport *x = NULL;
	struct grab g = {0};
	char hosts[1024] = "";
	const char *path = a ? subst(a, ck->metrika, &sc, SUBST_PATH, &err) : NULL;
	int rc = path ? xp_get(pool, ck->host, &ck->ssh, &sc, &x, &err) : CUT_EINVAL;
	if (rc == CUT_OK)
		rc = xp_read_file(x, path, sink, &g, 10000, NULL, &err);
	xp_put(pool, x, rc);
	if (rc == CUT_OK)
		rc = ck_switch_hosts(g.buf ? g.buf : "", g.n, hosts, sizeof hosts, &err);
	if (rc == CUT_OK)
		printf("%-8s %-16s %-8s %s  (%s)\n", ck->name, ck->host, ck_ensemble_of(inv, hosts), hosts, path);
	else
		printf("%-8s %-16s %-8s %s\n", ck->name, ck->host, "?", err.msg);
	free(g.buf);
	arena_free(a);
}

int cli_ck(int argc, char **argv)
{
	static const struct option opts[] = {
		{"inventory", required_argument, NULL, 'i'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0},
	};
	const char *invfile = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		if (c == 'i')
			invfile = optarg;
		else
			return cli_usage_of("ck"), c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (invfile == NULL || optind >= argc || strcmp(argv[optind], "show") != 0)
		return cli_usage_of("ck"), CLI_USAGE;
	struct diag_list d;
	struct inventory *inv = cli_load_inventory(invfile, &d);
	if (inv == NULL)
		return CLI_FAIL;
	struct ssh_pool *pool = ssh_pool_new();
	printf("%-8s %-16s %-8s %s\n", "NODE", "HOST", "POINTS", "ZOOKEEPER SERVERS (FILE)");
	for (size_t i = 0; pool && i < inv->nck; i++)
		show_one(inv, pool, &inv->ck[i]);
	ssh_pool_free(pool);
	inv_free(inv);
	diag_free(&d);
	return CLI_OK;
}
