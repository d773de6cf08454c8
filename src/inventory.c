/*
 * inventory: loading the site description (see include/cutover/inventory.h).
 * Decoding is table-driven (yml.h); defaults are merged after decoding, in the
 * order node -> ensemble defaults -> built-in defaults, so a value written
 * nearer the node always wins.
 */
#include "cutover/inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NF(t) (sizeof(t) / sizeof((t)[0]))

static const struct yml_field ssh_fields[] = {
	YF("user", YML_STR, struct inv_ssh, user),
	YF_INT("port", struct inv_ssh, port, pos, 1, 65535),
	YF("identity", YML_STR, struct inv_ssh, identity),
	YF("known_hosts", YML_STR, struct inv_ssh, known_hosts),
	YF_P("agent", YML_BOOL, struct inv_ssh, agent, agent_pos),
	YF_P("local", YML_BOOL, struct inv_ssh, local, local_pos),
	YF("connect_timeout", YML_DURATION, struct inv_ssh, connect_timeout_ms),
};

static bool dec_ssh(struct yml *y, yaml_node_t *n, struct inv_ssh *s)
{
	s->pos = yml_pos_of(n);
	return yml_map(y, n, "ssh", ssh_fields, NF(ssh_fields), s);
}

static bool dec_zk_ssh(struct yml *y, yaml_node_t *n, void *o)
{
	return dec_ssh(y, n, &((struct inv_zk_node *)o)->ssh);
}

static bool dec_ck_ssh(struct yml *y, yaml_node_t *n, void *o)
{
	return dec_ssh(y, n, &((struct inv_ck_node *)o)->ssh);
}

#define ZK struct inv_zk_node
static const struct yml_field zk_fields[] = {
	YF("name", YML_STR, ZK, name),
	YF_INT("myid", ZK, myid, myid_pos, 1, 255),
	YF_P("host", YML_STR, ZK, host, host_pos),
	YF_INT("client_port", ZK, client_port, port_pos, 1, 65535),
	YF_INT("quorum_port", ZK, quorum_port, port_pos, 1, 65535),
	YF_INT("election_port", ZK, election_port, port_pos, 1, 65535),
	YF_INT("admin_port", ZK, admin_port, port_pos, 1, 65535),
	YF_INT("metrics_port", ZK, metrics_port, port_pos, 1, 65535),
	YF("home", YML_STR, ZK, home),
	YF("data_dir", YML_STR, ZK, data_dir),
	YF("data_log_dir", YML_STR, ZK, data_log_dir),
	YF("server_log", YML_STR, ZK, server_log),
	YF("start", YML_STR, ZK, start),
	YF("stop", YML_STR, ZK, stop),
	YF("status", YML_STR, ZK, status),
	YF_FN("ssh", dec_zk_ssh, false),
};
#undef ZK

#define CK struct inv_ck_node
static const struct yml_field ck_fields[] = {
	YF("name", YML_STR, CK, name),
	YF_P("host", YML_STR, CK, host, host_pos),
	YF_INT("http_port", CK, http_port, pos, 1, 65535),
	YF_INT("tcp_port", CK, tcp_port, pos, 1, 65535),
	YF("metrika", YML_STR, CK, metrika),
	YF("start", YML_STR, CK, start),
	YF("stop", YML_STR, CK, stop),
	YF("restart", YML_STR, CK, restart),
	YF("user", YML_STR, CK, user),
	YF("password_env", YML_STR, CK, password_env),
	YF_FN("ssh", dec_ck_ssh, false),
};
#undef CK

#define TK struct inv_task
static const struct yml_field task_fields[] = {
	YF_P("id", YML_STR, TK, id, id_pos),
	YF("name", YML_STR, TK, name),
	YF("adapter", YML_STR, TK, adapter),
	YF("host", YML_STR, TK, host),
	YF("status", YML_STR, TK, status),
	YF("start", YML_STR, TK, start),
	YF("stop", YML_STR, TK, stop),
	YF("url", YML_STR, TK, url),
	YF("job", YML_STR, TK, job),
	YF("resubmit", YML_STR, TK, resubmit),
	YF("token_env", YML_STR, TK, token_env),
	YF("status_url", YML_STR, TK, status_url),
	YF("start_url", YML_STR, TK, start_url),
	YF("stop_url", YML_STR, TK, stop_url),
	YF("state_pointer", YML_STR, TK, state_pointer),
	YF("running_value", YML_STR, TK, running_value),
	YF("stopped_value", YML_STR, TK, stopped_value),
	YF("rows_pointer", YML_STR, TK, rows_pointer),
};
#undef TK

/* ---- ensembles ------------------------------------------------------------ */

struct ens_ctx {
	struct inv_ensemble *e;
	struct inventory *inv;
};

static bool dec_ens_defaults(struct yml *y, yaml_node_t *n, void *o)
{
	struct ens_ctx *c = o;
	return yml_map(y, n, "ensemble defaults", zk_fields, NF(zk_fields), &c->e->defaults);
}

static bool dec_ens_nodes(struct yml *y, yaml_node_t *n, void *o)
{
	struct ens_ctx *c = o;
	if (!yml_expect(y, n, YAML_SEQUENCE_NODE, "ensemble nodes"))
		return false;
	c->e->n = yml_seq_len(n);
	c->e->nodes = arena_alloc(y->arena, (c->e->n + 1) * sizeof *c->e->nodes);
	if (c->e->nodes == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < c->e->n; i++) {
		yaml_node_t *item = yml_seq_at(y, n, i);
		c->e->nodes[i].pos = yml_pos_of(item);
		ok &= yml_map(y, item, "ZooKeeper node", zk_fields, NF(zk_fields), &c->e->nodes[i]);
	}
	return ok;
}

static bool dec_ens_version(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_str(y, n, "ensemble 'version'", &((struct ens_ctx *)o)->e->version);
}

static const struct yml_field ens_fields[] = {
	YF_FN("version", dec_ens_version, false),
	YF_FN("defaults", dec_ens_defaults, false),
	YF_FN("nodes", dec_ens_nodes, true),
};

static bool dec_ensembles(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	if (!yml_expect(y, n, YAML_MAPPING_NODE, "ensembles"))
		return false;
	size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	inv->ensembles = arena_alloc(y->arena, (cnt + 1) * sizeof *inv->ensembles);
	if (inv->ensembles == NULL)
		return false;
	bool ok = true;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		struct inv_ensemble *e = &inv->ensembles[inv->nensembles];
		yaml_node_t *k = yml_get(y, p->key);
		if (!yml_str(y, k, "ensemble name", &e->name)) {
			ok = false;
			continue;
		}
		if (strcmp(e->name, "ck") == 0 || strcmp(e->name, "tasks") == 0 ||
		    strcmp(e->name, "local") == 0 || strcmp(e->name, "writers") == 0) {
			yml_error(y, k, "'%s' is reserved for selectors and cannot name an ensemble; rename it", e->name);
			ok = false;
		}
		e->pos = yml_pos_of(k);
		struct ens_ctx c = {e, inv};
		ok &= yml_map(y, yml_get(y, p->value), "ensemble", ens_fields, NF(ens_fields), &c);
		inv->nensembles++;
	}
	return ok;
}

/* ---- ClickHouse, tasks, vars, window ---------------------------------------- */

static bool dec_ck_defaults(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_map(y, n, "clickhouse defaults", ck_fields, NF(ck_fields),
		       &((struct inventory *)o)->ck_defaults);
}

static bool dec_ck_nodes(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	if (!yml_expect(y, n, YAML_SEQUENCE_NODE, "clickhouse nodes"))
		return false;
	inv->nck = yml_seq_len(n);
	inv->ck = arena_alloc(y->arena, (inv->nck + 1) * sizeof *inv->ck);
	if (inv->ck == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < inv->nck; i++) {
		yaml_node_t *item = yml_seq_at(y, n, i);
		inv->ck[i].pos = yml_pos_of(item);
		ok &= yml_map(y, item, "ClickHouse node", ck_fields, NF(ck_fields), &inv->ck[i]);
	}
	return ok;
}

static const struct yml_field ck_section_fields[] = {
	YF_P("ensemble", YML_STR, struct inventory, ck_ensemble, ck_ensemble_pos),
	YF_FN("defaults", dec_ck_defaults, false),
	YF_FN("nodes", dec_ck_nodes, true),
};

static bool dec_clickhouse(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_map(y, n, "clickhouse", ck_section_fields, NF(ck_section_fields), o);
}

static bool dec_task_defaults(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_map(y, n, "task defaults", task_fields, NF(task_fields),
		       &((struct inventory *)o)->task_defaults);
}

static bool dec_task_list(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	if (!yml_expect(y, n, YAML_SEQUENCE_NODE, "tasks list"))
		return false;
	inv->ntasks = yml_seq_len(n);
	inv->tasks = arena_alloc(y->arena, (inv->ntasks + 1) * sizeof *inv->tasks);
	if (inv->tasks == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < inv->ntasks; i++) {
		yaml_node_t *item = yml_seq_at(y, n, i);
		inv->tasks[i].pos = yml_pos_of(item);
		ok &= yml_map(y, item, "writer task", task_fields, NF(task_fields), &inv->tasks[i]);
	}
	return ok;
}

static const struct yml_field task_section_fields[] = {
	YF_FN("defaults", dec_task_defaults, false),
	YF_FN("list", dec_task_list, true),
};

static bool dec_tasks(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_map(y, n, "tasks", task_section_fields, NF(task_section_fields), o);
}

static const struct yml_field var_fields[] = {
	YF("value", YML_STR, struct inv_var, value),
	YF("env", YML_STR, struct inv_var, env),
	YF("secret", YML_BOOL, struct inv_var, secret),
};

static bool dec_vars(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	if (!yml_expect(y, n, YAML_MAPPING_NODE, "vars"))
		return false;
	size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	inv->vars = arena_alloc(y->arena, (cnt + 1) * sizeof *inv->vars);
	if (inv->vars == NULL)
		return false;
	bool ok = true;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		struct inv_var *v = &inv->vars[inv->nvars];
		yaml_node_t *k = yml_get(y, p->key), *val = yml_get(y, p->value);
		if (!yml_str(y, k, "var name", &v->name)) {
			ok = false;
			continue;
		}
		v->pos = yml_pos_of(k);
		if (val->type == YAML_MAPPING_NODE) {
			ok &= yml_map(y, val, "var", var_fields, NF(var_fields), v);
			if ((v->value == NULL) == (v->env == NULL)) {
				yml_error(y, val, "var '%s' needs exactly one of 'value' and 'env'", v->name);
				ok = false;
			}
		} else {
			ok &= yml_str(y, val, "var value", &v->value);
		}
		inv->nvars++;
	}
	return ok;
}

/* An operator is a person: a display name in any script, and the Unix login
 * their tmux client runs under where the team gives one. */
struct op_entry {
	const char *name, *login;
};

static const struct yml_field op_fields[] = {
	YF("name", YML_STR, struct op_entry, name),
	YF("login", YML_STR, struct op_entry, login),
};

static bool dec_operators(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	if (n->type != YAML_SEQUENCE_NODE)
		return yml_strlist(y, n, "operators", &inv->operators); /* one name */
	size_t count = yml_seq_len(n);
	struct strlist *names = &inv->operators, *logins = &inv->operator_logins;
	names->v = arena_alloc(y->arena, (count + 1) * sizeof *names->v);
	names->pos = arena_alloc(y->arena, (count + 1) * sizeof *names->pos);
	logins->v = arena_alloc(y->arena, (count + 1) * sizeof *logins->v);
	logins->pos = arena_alloc(y->arena, (count + 1) * sizeof *logins->pos);
	if (names->v == NULL || names->pos == NULL || logins->v == NULL || logins->pos == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = yml_seq_at(y, n, i);
		struct op_entry e = {0};
		if (item != NULL && item->type == YAML_MAPPING_NODE) {
			if (!yml_map(y, item, "operator", op_fields, NF(op_fields), &e) || e.name == NULL) {
				if (e.name == NULL)
					yml_error(y, item, "an operator needs a 'name'");
				ok = false;
				continue;
			}
		} else if (!yml_str(y, item, "operator", &e.name)) {
			ok = false;
			continue;
		}
		names->pos[names->n] = logins->pos[logins->n] = yml_pos_of(item);
		names->v[names->n++] = e.name;
		logins->v[logins->n++] = e.login ? e.login : "";
	}
	return ok;
}

/* alone: warn | refuse -- a data-changing step with fewer than two engineers attached. */
static bool dec_alone(struct yml *y, yaml_node_t *n, void *o)
{
	struct inventory *inv = o;
	const char *v;
	if (!yml_str(y, n, "alone", &v))
		return false;
	if (strcmp(v, "refuse") != 0 && strcmp(v, "warn") != 0) {
		yml_error(y, n, "alone is warn or refuse, not '%s'", v);
		return false;
	}
	inv->refuse_alone = strcmp(v, "refuse") == 0;
	inv->refuse_alone_pos = yml_pos_of(n);
	return true;
}

static const struct yml_field window_fields[] = {
	YF_P("start", YML_STR, struct inventory, window_start, window_start_pos),
	YF_P("end", YML_STR, struct inventory, window_end, window_end_pos),
};

static bool dec_window(struct yml *y, yaml_node_t *n, void *o)
{
	return yml_map(y, n, "window", window_fields, NF(window_fields), o);
}

static bool dec_top_ssh(struct yml *y, yaml_node_t *n, void *o)
{
	return dec_ssh(y, n, &((struct inventory *)o)->ssh);
}

static const struct yml_field top_fields[] = {
	YF("site", YML_STR, struct inventory, site),
	YF_FN("vars", dec_vars, false),
	YF_FN("ssh", dec_top_ssh, false),
	YF_FN("operators", dec_operators, false),
	YF_FN("alone", dec_alone, false),
	YF_FN("window", dec_window, false),
	YF_FN("ensembles", dec_ensembles, true),
	YF_FN("clickhouse", dec_clickhouse, false),
	YF_FN("tasks", dec_tasks, false),
};

/* ---- defaults ------------------------------------------------------------- */

#define DFL(field, value) ((field) ? (field) : (value))

static void merge_ssh(struct inv_ssh *s, const struct inv_ssh *d)
{
	s->user = DFL(s->user, d->user);
	s->port = DFL(s->port, d->port);
	s->identity = DFL(s->identity, d->identity);
	s->known_hosts = DFL(s->known_hosts, d->known_hosts);
	s->connect_timeout_ms = DFL(s->connect_timeout_ms, d->connect_timeout_ms);
	if (s->agent_pos.line == 0) {
		s->agent = d->agent;
		s->agent_pos = d->agent_pos;
	}
	if (s->local_pos.line == 0) {
		s->local = d->local;
		s->local_pos = d->local_pos;
	}
}

static void merge_zk(struct arena *a, struct inv_ensemble *e, struct inv_zk_node *n,
		     const struct inv_ssh *site)
{
	const struct inv_zk_node *d = &e->defaults;
	if (n->name == NULL)
		n->name = arena_printf(a, "%s%d", e->name, n->myid);
	n->host = DFL(n->host, d->host);
	n->client_port = DFL(n->client_port, DFL(d->client_port, 2181));
	n->quorum_port = DFL(n->quorum_port, DFL(d->quorum_port, 2888));
	n->election_port = DFL(n->election_port, DFL(d->election_port, 3888));
	n->admin_port = DFL(n->admin_port, DFL(d->admin_port, 8080));
	n->metrics_port = DFL(n->metrics_port, d->metrics_port);
	n->home = DFL(n->home, DFL(d->home, "/opt/zookeeper"));
	n->data_dir = DFL(n->data_dir, DFL(d->data_dir, "${home}/data"));
	n->data_log_dir = DFL(n->data_log_dir, DFL(d->data_log_dir, "${home}/log"));
	n->server_log = DFL(n->server_log, DFL(d->server_log, "${home}/logs/zookeeper.log"));
	n->start = DFL(n->start, DFL(d->start, "${home}/bin/zkServer.sh start"));
	n->stop = DFL(n->stop, DFL(d->stop, "${home}/bin/zkServer.sh stop"));
	n->status = DFL(n->status, DFL(d->status, "${home}/bin/zkServer.sh status"));
	merge_ssh(&n->ssh, &d->ssh);
	merge_ssh(&n->ssh, site);
}

static void merge_ck(struct inventory *inv, struct inv_ck_node *n, size_t i)
{
	const struct inv_ck_node *d = &inv->ck_defaults;
	if (n->name == NULL)
		n->name = arena_printf(inv->arena, "ck%zu", i + 1);
	n->host = DFL(n->host, d->host);
	n->http_port = DFL(n->http_port, DFL(d->http_port, 8123));
	n->tcp_port = DFL(n->tcp_port, DFL(d->tcp_port, 9000));
	n->metrika = DFL(n->metrika, DFL(d->metrika, "/etc/clickhouse-server/metrika.xml"));
	n->start = DFL(n->start, DFL(d->start, "systemctl start clickhouse-server"));
	n->stop = DFL(n->stop, DFL(d->stop, "systemctl stop clickhouse-server"));
	n->restart = DFL(n->restart, DFL(d->restart, "systemctl restart clickhouse-server"));
	n->user = DFL(n->user, DFL(d->user, "default"));
	n->password_env = DFL(n->password_env, d->password_env);
	merge_ssh(&n->ssh, &d->ssh);
	merge_ssh(&n->ssh, &inv->ssh);
}

static void merge_task(struct inventory *inv, struct inv_task *t)
{
	const struct inv_task *d = &inv->task_defaults;
	t->name = DFL(t->name, t->id);
	t->adapter = DFL(t->adapter, DFL(d->adapter, "shell"));
	t->host = DFL(t->host, DFL(d->host, "local"));
	t->status = DFL(t->status, d->status);
	t->start = DFL(t->start, d->start);
	t->stop = DFL(t->stop, d->stop);
	t->url = DFL(t->url, d->url);
	t->resubmit = DFL(t->resubmit, d->resubmit);
	t->token_env = DFL(t->token_env, d->token_env);
	t->status_url = DFL(t->status_url, d->status_url);
	t->start_url = DFL(t->start_url, d->start_url);
	t->stop_url = DFL(t->stop_url, d->stop_url);
	t->state_pointer = DFL(t->state_pointer, d->state_pointer);
	t->running_value = DFL(t->running_value, DFL(d->running_value, "RUNNING"));
	t->stopped_value = DFL(t->stopped_value, DFL(d->stopped_value, "STOPPED"));
	t->rows_pointer = DFL(t->rows_pointer, d->rows_pointer);
}

static void merge_defaults(struct inventory *inv)
{
	struct inv_ssh site_dfl = {.user = "root", .port = 22, .connect_timeout_ms = 10000};
	merge_ssh(&inv->ssh, &site_dfl);
	for (size_t i = 0; i < inv->nensembles; i++)
		for (size_t j = 0; j < inv->ensembles[i].n; j++)
			merge_zk(inv->arena, &inv->ensembles[i], &inv->ensembles[i].nodes[j], &inv->ssh);
	for (size_t i = 0; i < inv->nck; i++)
		merge_ck(inv, &inv->ck[i], i);
	for (size_t i = 0; i < inv->ntasks; i++)
		merge_task(inv, &inv->tasks[i]);
}

/* ---- entry points --------------------------------------------------------- */

struct inventory *inv_load(const char *file, const char *buf, size_t len, struct diag_list *d)
{
	struct arena *a = arena_new();
	struct inventory *inv = a ? arena_alloc(a, sizeof *inv) : NULL;
	if (inv == NULL) {
		arena_free(a);
		return NULL;
	}
	inv->arena = a;
	inv->file = arena_strdup(a, file);
	struct yml y;
	if (yml_parse(&y, inv->file, (const unsigned char *)buf, len, a, d)) {
		yml_map(&y, yml_root(&y), "inventory", top_fields, NF(top_fields), inv);
		merge_defaults(inv);
	}
	yml_done(&y);
	return inv;
}

char *inv_read_file(const char *file, size_t *len)
{
	FILE *f = fopen(file, "rb");
	if (f == NULL)
		return NULL;
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) { /* fopen opens one; reading it says EIO */
		fclose(f);
		errno = EISDIR;
		return NULL;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n > INV_MAX_FILE) { /* /dev/zero, or a file that is no runbook: stop, do not eat memory */
			free(buf);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap + 1);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f), why = errno;
	fclose(f);
	if (bad) {
		free(buf);
		errno = why ? why : EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

const char *inv_read_why(int e)
{
	return e == EFBIG ? "it is larger than 16 MiB, which no runbook or inventory is" : strerror(e);
}

struct inventory *inv_load_file(const char *file, struct diag_list *d)
{
	size_t len;
	char *buf = inv_read_file(file, &len);
	if (buf == NULL) {
		diag_add(d, file, 0, 0, DIAG_ERROR, "cannot read %s: %s (the inventory)", file, inv_read_why(errno));
		return NULL;
	}
	struct inventory *inv = inv_load(file, buf, len, d);
	free(buf);
	return inv;
}

void inv_free(struct inventory *inv)
{
	if (inv != NULL)
		arena_free(inv->arena);
}

const struct inv_ensemble *inv_ensemble(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nensembles; i++)
		if (strcmp(inv->ensembles[i].name, name) == 0)
			return &inv->ensembles[i];
	return NULL;
}

const struct inv_var *inv_var(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->nvars; i++)
		if (strcmp(inv->vars[i].name, name) == 0)
			return &inv->vars[i];
	return NULL;
}
