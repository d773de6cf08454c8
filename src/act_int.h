/* The run hooks of the built-in actions, for the table in action.c. */
#ifndef CUTOVER_ACT_INT_H
#define CUTOVER_ACT_INT_H

#include <jansson.h>

#include "cutover/action.h"
#include "cutover/ck.h"

/* Run an inventory command template (${...} quoted) on the target; non-zero exit fails. */
int act_run_template(struct act_run *r, const char *tmpl, struct cut_err *err);
int act_shell_run(struct act_run *r, struct cut_err *err);
int act_check_run(struct act_run *r, struct cut_err *err);

/* zk.config (zk_config.c); zk_dirs: a node's dataDir and dataLogDir (dataDir when unset), expanded */
int zk_dirs(struct arena *a, const struct subst_scope *sc, const char **dd, const char **ld, struct cut_err *err);
char *zk_config_render(struct arena *a, const struct subst_scope *sc, struct cut_err *err);
void zk_config_describe(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc);
int zk_config_run(struct act_run *r, struct cut_err *err);

/* zk_actions.c */
int zk_status_run(struct act_run *r, struct cut_err *err);
int zk_leader_run(struct act_run *r, struct cut_err *err);
int zk_stop_run(struct act_run *r, struct cut_err *err);
int zk_start_run(struct act_run *r, struct cut_err *err);
int zk_wait_quorum_run(struct act_run *r, struct cut_err *err);
int zk_wipe_run(struct act_run *r, struct cut_err *err);
int zk_fence_run(struct act_run *r, struct cut_err *err);
/* In a rollback: may the target ensemble be overwritten (zk.wipe, zk.copy)? Only once ClickHouse left it. */
int zk_rollback_allowed(struct act_run *r, struct cut_err *err);

/* zk_preflight.c */
int zk_preflight_run(struct act_run *r, struct cut_err *err);

/* zk_compare.c */
int zk_compare_run(struct act_run *r, struct cut_err *err);

/* zk_copy.c */
int zk_copy_begin(struct act_run *r, struct cut_err *err);
/* zk_push.c: one destination */
int zk_copy_run(struct act_run *r, struct cut_err *err);
/* What reached a source after a fence's zxid: tree changes, session txns, the paths changed. */
struct fence_late {
	long tree, sessions, more_paths;
	char paths[768];
};
int zk_fence_scan(struct act_run *r, uint64_t after, struct fence_late *late, struct cut_err *err);

/* tasks.c */
int tasks_stop_run(struct act_run *r, struct cut_err *err);
int tasks_start_run(struct act_run *r, struct cut_err *err);
int tasks_wait_run(struct act_run *r, struct cut_err *err);

/* ck_actions.c, ck_switch.c */
int ck_stop_run(struct act_run *r, struct cut_err *err);
int ck_start_run(struct act_run *r, struct cut_err *err);
int ck_restart_run(struct act_run *r, struct cut_err *err);
int ck_switch_run(struct act_run *r, struct cut_err *err);
int ck_switch_preview(struct act_run *r, struct plan_lines *out, struct cut_err *err);
char *ck_switch_render(const char *xml, size_t len, const struct inv_ensemble *e, char *before, size_t blen,
		       struct cut_err *err);

/* ck_actions.c: a JSON document from a ZooKeeper node's AdminServer (cmd: "/commands/dump"), or NULL */
json_t *admin_json(const struct inv_zk_node *z, const char *cmd);

/* ck_verify.c */
int ck_verify_run(struct act_run *r, struct cut_err *err);
int ck_row_counts(const struct inv_ck_node *ck, char **out, struct cut_err *err);
/* Parts set aside as ignored_/unexpected_: "db.table/dir" lines (system.detached_parts, else over SSH). */
int ck_detached_parts(struct act_run *r, const struct inv_ck_node *ck, char **out, struct cut_err *err);

/* ck_http.c */
int ck_query(const struct inv_ck_node *ck, const char *sql, int timeout_ms, char **out, struct cut_err *err);
long long ck_number(const struct inv_ck_node *ck, const char *sql, int timeout_ms, struct cut_err *err);

#endif
