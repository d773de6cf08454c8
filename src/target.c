/* target: selectors and gates (see include/cutover/target.h). */
#include "cutover/target.h"

#include <stdio.h>
#include <string.h>

#define SEL_FORMS "<ensemble>.all, .leader, .followers or .node(MYID), ck.all, ck.node(NAME), tasks.all, task(ID) or local"

/* "prefix(ARG)" -> ARG into arg; true on a match. */
static bool call(const char *text, const char *prefix, char *arg, size_t argsz)
{
	size_t n = strlen(prefix), len = strlen(text);
	if (strncmp(text, prefix, n) != 0 || text[n] != '(' || len < n + 3 || text[len - 1] != ')')
		return false;
	size_t a = len - n - 2;
	if (a >= argsz)
		return false;
	memcpy(arg, text + n + 1, a);
	arg[a] = '\0';
	return true;
}

static int parse_ck(const struct inventory *inv, const char *rest, struct selector *out, struct cut_err *err)
{
	char arg[128];
	out->kind = TGT_CK;
	if (strcmp(rest, "all") == 0)
		return inv->nck ? CUT_OK : cut_fail(err, CUT_ENOTFOUND, "ck.all matches no target: the inventory lists no ClickHouse node");
	if (!call(rest, "node", arg, sizeof arg))
		return cut_fail(err, CUT_EINVAL, "unknown selector 'ck.%s'; use " SEL_FORMS, rest);
	for (size_t i = 0; i < inv->nck; i++)
		if (strcmp(inv->ck[i].name, arg) == 0) {
			out->ck = &inv->ck[i];
			return CUT_OK;
		}
	return cut_fail(err, CUT_ENOTFOUND, "ck.node(%s) matches no target: no ClickHouse node is named %s", arg, arg);
}

static int parse_zk(const struct inventory *inv, const char *text, const char *dot, struct selector *out,
		    struct cut_err *err)
{
	char name[64], arg[32];
	size_t n = (size_t)(dot - text);
	if (n >= sizeof name)
		return cut_fail(err, CUT_EINVAL, "unknown selector '%s'; use " SEL_FORMS, text);
	memcpy(name, text, n);
	name[n] = '\0';
	out->kind = TGT_ZK;
	out->ens = inv_ensemble(inv, name);
	if (out->ens == NULL)
		return cut_fail(err, CUT_ENOTFOUND, "selector '%s' matches no target: the inventory has no ensemble '%s'", text, name);
	const char *rest = dot + 1;
	if (strcmp(rest, "all") == 0)
		out->role = ROLE_ALL;
	else if (strcmp(rest, "leader") == 0)
		out->role = ROLE_LEADER;
	else if (strcmp(rest, "followers") == 0)
		out->role = ROLE_FOLLOWERS;
	else if (call(rest, "node", arg, sizeof arg)) {
		out->role = ROLE_NODE;
		for (size_t i = 0; i < out->ens->n; i++) {
			char id[16];
			snprintf(id, sizeof id, "%d", out->ens->nodes[i].myid);
			if (strcmp(id, arg) == 0 || strcmp(out->ens->nodes[i].name, arg) == 0)
				out->zk = &out->ens->nodes[i];
		}
		if (out->zk == NULL)
			return cut_fail(err, CUT_ENOTFOUND, "selector '%s' matches no target: ensemble %s has no node with myid or name %s",
					text, name, arg);
	} else
		return cut_fail(err, CUT_EINVAL, "unknown selector '%s'; use " SEL_FORMS, text);
	if (out->ens->n == 0)
		return cut_fail(err, CUT_ENOTFOUND, "selector '%s' matches no target: ensemble %s has no nodes", text, name);
	return CUT_OK;
}

int sel_parse(const struct inventory *inv, const char *text, struct selector *out, struct cut_err *err)
{
	char arg[128];
	memset(out, 0, sizeof *out);
	if (strcmp(text, "local") == 0) {
		out->kind = TGT_LOCAL;
		return CUT_OK;
	}
	if (strcmp(text, "tasks.all") == 0) {
		out->kind = TGT_TASK;
		return inv->ntasks ? CUT_OK : cut_fail(err, CUT_ENOTFOUND, "tasks.all matches no target: the inventory lists no writer task");
	}
	if (call(text, "task", arg, sizeof arg)) {
		out->kind = TGT_TASK;
		for (size_t i = 0; i < inv->ntasks; i++)
			if (inv->tasks[i].id && strcmp(inv->tasks[i].id, arg) == 0) {
				out->task = &inv->tasks[i];
				return CUT_OK;
			}
		return cut_fail(err, CUT_ENOTFOUND, "task(%s) matches no target: no writer task has id %s", arg, arg);
	}
	if (strncmp(text, "ck.", 3) == 0)
		return parse_ck(inv, text + 3, out, err);
	const char *dot = strchr(text, '.');
	if (dot == NULL)
		return cut_fail(err, CUT_EINVAL, "unknown selector '%s'; use " SEL_FORMS, text);
	return parse_zk(inv, text, dot, out, err);
}

bool sel_has_zk(const struct selector *sel, const struct inv_zk_node *z)
{
	if (sel->kind != TGT_ZK)
		return false;
	if (sel->role == ROLE_NODE)
		return sel->zk == z;
	return z >= sel->ens->nodes && z < sel->ens->nodes + sel->ens->n;
}

int gate_check_name(const struct inventory *inv, const char *text, struct cut_err *err)
{
	static const char *const fixed[] = {"writers.stopped", "writers.running", "ck.stopped", "ck.up"};
	static const char *const per_ens[] = {"quorum", "down", "zxid_flat", "matches_copy"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (strcmp(text, fixed[i]) == 0)
			return CUT_OK;
	const char *dot = strchr(text, '.');
	if (dot != NULL) {
		char name[64];
		size_t n = (size_t)(dot - text);
		if (n < sizeof name) {
			memcpy(name, text, n);
			name[n] = '\0';
			for (size_t i = 0; i < sizeof per_ens / sizeof per_ens[0]; i++)
				if (strcmp(dot + 1, per_ens[i]) == 0)
					return inv_ensemble(inv, name) ? CUT_OK
						: cut_fail(err, CUT_ENOTFOUND, "gate '%s' names ensemble '%s', which the inventory does not have", text, name);
		}
	}
	return cut_fail(err, CUT_EINVAL,
			"unknown gate '%s'; use <ensemble>.quorum, .down, .zxid_flat, .matches_copy, "
			"writers.stopped, writers.running, ck.stopped or ck.up", text);
}
