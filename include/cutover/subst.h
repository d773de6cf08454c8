/*
 * subst: `${...}` substitution in inventory and runbook strings.
 *
 *   ${home} ${data_dir} ${node} ${myid} ${host}   the ZooKeeper or ClickHouse node in scope
 *   ${id}                                         the writer task in scope
 *   ${NAME}                                       an inventory var
 *   ${env.NAME} ${env.NAME:-default}              the environment
 *
 * In SUBST_SHELL mode every substituted value is single-quoted, so no value
 * (a path with a space, a hostile var) can add a command. SUBST_DISPLAY masks
 * secret vars as *** for plans, screens and the audit.
 */
#ifndef CUTOVER_SUBST_H
#define CUTOVER_SUBST_H

#include "cutover/err.h"
#include "cutover/inventory.h"

struct subst_scope {
	const struct inventory *inv;
	const struct inv_zk_node *zk;
	const struct inv_ck_node *ck;
	const struct inv_task *task;
	const char *ensemble;
};

enum {
	SUBST_PATH = 0,      /* values as they are */
	SUBST_SHELL = 1 << 0, /* values single-quoted */
	SUBST_DISPLAY = 1 << 1, /* secrets masked */
};

/* The expanded string from the arena, or NULL with err filled. */
char *subst(struct arena *a, const char *tmpl, const struct subst_scope *sc, int mode,
	    struct cut_err *err);
/* s in single quotes, safe as one shell word. */
char *subst_shell_quote(struct arena *a, const char *s);

#endif
