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

static void show_one(const struct inventory *inv, struct ssh_pool *pool, const struct inv_ck_node *ck)
{
	struct cut_err err = {0};
	char hosts[1024] = "", path[1024] = "";
	if (ck_metrika_hosts(pool, inv, ck, 10000, hosts, sizeof hosts, path, sizeof path, &err) == CUT_OK)
		printf("%-8s %-16s %-8s %s  (%s)\n", ck->name, ck->host, ck_ensemble_of(inv, hosts), hosts, path);
	else
		printf("%-8s %-16s %-8s %s\n", ck->name, ck->host, "?", err.msg);
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
