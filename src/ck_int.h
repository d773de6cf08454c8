/* What the ClickHouse actions share (ck_actions.c, ck_switch.c, ck_verify.c), beside include/cutover/ck.h. */
#ifndef CUTOVER_CK_INT_H
#define CUTOVER_CK_INT_H

#include "cutover/action.h"
#include "cutover/ck.h"
#include "cutover/inventory.h"

/* ck_http.c: one query over HTTP (credentials from the environment), its body malloc'd; a single number. */
int ck_query(const struct inv_ck_node *ck, const char *sql, int timeout_ms, char **out, struct cut_err *err);
long long ck_number(const struct inv_ck_node *ck, const char *sql, int timeout_ms, struct cut_err *err);

/* ck_parts.c: "db.table=rows;..." for every replicated table, in name order. */
int ck_row_counts(const struct inv_ck_node *ck, char **out, struct cut_err *err);
/* Parts set aside as ignored_/unexpected_: "db.table/dir" lines (system.detached_parts, else over SSH). */
int ck_detached_parts(struct act_run *r, const struct inv_ck_node *ck, char **out, struct cut_err *err);

/* ck_switch.c: metrika.xml with <zookeeper-servers> pointing at e (before: the old list), malloc'd. */
char *ck_switch_render(const char *xml, size_t len, const struct inv_ensemble *e, char *before, size_t blen,
		       struct cut_err *err);

#endif
