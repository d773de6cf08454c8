/* What the ZooKeeper actions share (zk_common.c), beside include/cutover/zk_files.h and probe.h. */
#ifndef CUTOVER_ZK_INT_H
#define CUTOVER_ZK_INT_H

#include "cutover/action.h"
#include "cutover/probe.h"

/* The node's client port (2181 when the inventory gives none). */
int zk_port(const struct inv_zk_node *z);
/* One line in the step's output: what srvr said of the node. */
void zk_say_node(struct act_run *r, const struct inv_zk_node *z, const struct zk_srvr *s);
/* A node's dataDir and dataLogDir (dataDir when unset), expanded. */
int zk_dirs(struct arena *a, const struct subst_scope *sc, const char **dd, const char **ld, struct cut_err *err);
/* In a rollback: may the target ensemble be overwritten (zk.wipe, zk.copy)? Only once ClickHouse left it. */
int zk_rollback_allowed(struct act_run *r, struct cut_err *err);

#endif
