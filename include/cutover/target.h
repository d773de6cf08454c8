/*
 * target: selectors (which machines a step acts on) and gates (live conditions
 * a step requires), parsed against an inventory.
 *
 *   <ensemble>.all | .leader | .followers | .node(MYID)
 *   ck.all | ck.node(NAME)        tasks.all | task(ID)        local
 *
 * Leader and followers are roles, resolved by probing when the step starts;
 * lint and plan know only the ensemble they belong to.
 */
#ifndef CUTOVER_TARGET_H
#define CUTOVER_TARGET_H

#include "cutover/err.h"
#include "cutover/inventory.h"

enum tgt_kind { TGT_ZK = 1, TGT_CK = 2, TGT_TASK = 4, TGT_LOCAL = 8 };
enum tgt_role { ROLE_ALL, ROLE_LEADER, ROLE_FOLLOWERS, ROLE_NODE };

struct selector {
	enum tgt_kind kind;
	enum tgt_role role;
	const struct inv_ensemble *ens; /* TGT_ZK */
	const struct inv_zk_node *zk;   /* ROLE_NODE */
	const struct inv_ck_node *ck;   /* one ClickHouse node, or NULL for all */
	const struct inv_task *task;    /* one task, or NULL for all */
};

int sel_parse(const struct inventory *inv, const char *text, struct selector *out, struct cut_err *err);
/* Does node z belong to what sel names (roles aside)? */
bool sel_has_zk(const struct selector *sel, const struct inv_zk_node *z);

/* A gate: "<ensemble>.quorum", ".down", ".zxid_flat", ".matches_copy",
 * "writers.stopped", "writers.running", "ck.stopped", "ck.up". */
int gate_check_name(const struct inventory *inv, const char *text, struct cut_err *err);

#endif
