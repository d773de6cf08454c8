/*
 * inventory: the site. SSH defaults, ZooKeeper ensembles by name with
 * per-ensemble defaults and per-node overrides, ClickHouse nodes, writer tasks,
 * the operators on duty and the maintenance window.
 *
 * Loaded from YAML with libyaml; every unknown key or wrong type is an error.
 * Node values are templates: `${home}`, `${node}`, `${myid}`, `${host}` refer to
 * the node itself, `${name}` to an inventory var, `${env.NAME:-default}` to the
 * environment (see subst.h). Passwords and tokens never appear in the file:
 * only the names of the environment variables holding them.
 * Loaded once by the main thread; read-only afterwards, so any thread may read it.
 */
#ifndef CUTOVER_INVENTORY_H
#define CUTOVER_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/arena.h"
#include "cutover/diag.h"
#include "cutover/yml.h"

struct inv_ssh {
	const char *user;
	int port;
	const char *identity;
	const char *known_hosts;
	bool agent;
	bool local; /* the node is the machine cutover runs on: its commands run here, not over SSH */
	int connect_timeout_ms;
	struct yml_pos pos, agent_pos, local_pos; /* *_pos.line == 0: not given */
};

struct inv_var {
	const char *name;
	const char *value; /* the literal or template; NULL when from_env */
	const char *env;   /* environment variable holding the value, or NULL */
	bool secret;
	struct yml_pos pos;
};

struct inv_zk_node {
	const char *name; /* "old1" unless given */
	int myid;
	const char *host;
	int client_port, quorum_port, election_port, admin_port, metrics_port;
	const char *home, *data_dir, *data_log_dir, *server_log;
	const char *start, *stop, *status; /* shell commands */
	struct inv_ssh ssh;
	struct yml_pos pos, myid_pos, host_pos, port_pos;
};

struct inv_ensemble {
	const char *name;
	const char *version; /* "3.8", "3.4.5": decides what a rollback may copy */
	struct inv_zk_node defaults;
	struct inv_zk_node *nodes;
	size_t n;
	struct yml_pos pos;
};

struct inv_ck_node {
	const char *name;
	const char *host;
	int http_port, tcp_port;
	const char *metrika; /* the file holding <zookeeper-servers> */
	const char *start, *stop, *restart;
	const char *user;
	const char *password_env;
	struct inv_ssh ssh;
	struct yml_pos pos, host_pos;
};

struct inv_task {
	const char *id, *name;
	const char *adapter; /* shell | flink | http */
	const char *host;    /* where shell commands run; "local" by default */
	const char *status, *start, *stop;            /* shell */
	const char *url, *job, *resubmit, *token_env; /* flink, http */
	const char *status_url, *start_url, *stop_url, *state_pointer, *running_value; /* http */
	const char *stopped_value, *rows_pointer;                                      /* http */
	struct yml_pos pos, id_pos;
};

struct inventory {
	struct arena *arena;
	const char *file;
	const char *site;
	struct inv_ssh ssh;
	struct inv_var *vars;
	size_t nvars;
	struct strlist operators;       /* display names, any script */
	struct strlist operator_logins; /* the same length: each one's Unix login, "" when not given */
	bool refuse_alone;              /* alone: refuse -- a data-changing step with fewer than two attached */
	struct yml_pos refuse_alone_pos;
	const char *window_start, *window_end; /* ISO 8601 with an offset: 2026-12-05T02:00:00+08:00 */
	struct yml_pos window_start_pos, window_end_pos;
	struct inv_ensemble *ensembles;
	size_t nensembles;
	const char *ck_ensemble; /* the ensemble metrika.xml points at now */
	struct yml_pos ck_ensemble_pos;
	struct inv_ck_node ck_defaults;
	struct inv_ck_node *ck;
	size_t nck;
	struct inv_task task_defaults;
	struct inv_task *tasks;
	size_t ntasks;
};

/*
 * Load an inventory. Returns NULL only when out of memory; otherwise the
 * inventory, with every problem in d (check d->errors before trusting it).
 */
struct inventory *inv_load(const char *file, const char *buf, size_t len, struct diag_list *d);
struct inventory *inv_load_file(const char *file, struct diag_list *d);
void inv_free(struct inventory *inv);

const struct inv_ensemble *inv_ensemble(const struct inventory *inv, const char *name);
const struct inv_var *inv_var(const struct inventory *inv, const char *name);

/* Site checks beyond the schema: duplicates, ranges, loopback mix-ups. */
void inv_check(const struct inventory *inv, struct diag_list *d);

/* An ISO 8601 time with seconds and an offset (Z or +08:00) as Unix time; false if not one. */
bool inv_parse_time(const char *s, long long *out);

/* Read a whole file into a NUL-terminated malloc'd buffer (NULL + errno); past
 * INV_MAX_FILE bytes it stops with EFBIG. inv_read_why says errno in words. */
#define INV_MAX_FILE (16u << 20)
char *inv_read_file(const char *file, size_t *len);
const char *inv_read_why(int e);

#endif
