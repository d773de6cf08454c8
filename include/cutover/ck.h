/*
 * ck: what the command line needs of the ClickHouse module -- the servers a
 * metrika.xml (or config.d file) lists in <zookeeper-servers>/<zookeeper>.
 */
#ifndef CUTOVER_CK_H
#define CUTOVER_CK_H

#include <stddef.h>

#include "cutover/err.h"

/* "host:port,host:port" in file order; CUT_EPARSE or CUT_EINVAL (no section) with err. */
int ck_switch_hosts(const char *xml, size_t len, char *out, size_t n, struct cut_err *err);

struct inventory;
/* The inventory's ensemble whose first node a "host:port,..." list (ck_switch_hosts) names, or "?". */
const char *ck_ensemble_of(const struct inventory *inv, const char *hosts);

struct inv_ck_node;
struct ssh_pool;
/* The hosts (as ck_switch_hosts) the node's metrika.xml lists, read through pool within timeout_ms;
 * the file's path, expanded, into path_out when given. */
int ck_metrika_hosts(struct ssh_pool *pool, const struct inventory *inv, const struct inv_ck_node *ck, int timeout_ms,
		     char *hosts, size_t n, char *path_out, size_t path_cap, struct cut_err *err);

/* Replicas of the server that are read-only now (system.replicas), or -1 with err. */
long long ck_readonly_replicas(const struct inv_ck_node *ck, int timeout_ms, struct cut_err *err);

/*
 * Names a server sends back are hostile text. Its TabSeparated answers escape
 * them (\t, \n, \\, \' ...): ck_tsv_split cuts a line at its tabs (in place, up
 * to n fields, returns how many), ck_tsv_unescape undoes the escapes in place.
 * ck_table_sql gives "VERB `db`.`table`" (malloc'd, NULL on no memory) with
 * both names quoted as ClickHouse identifiers, whatever bytes they hold.
 */
int ck_tsv_split(char *line, char **fields, int n);
void ck_tsv_unescape(char *s);
char *ck_table_sql(const char *verb, const char *db, const char *table);

#endif
