/* lint: cross-checks of a runbook against its inventory (see include/cutover/lint.h). */
#include "cutover/lint.h"
#include "cutover/plan.h"
#include "cutover/target.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT(p) rb->file, (p).line, (p).col

static void known_actions(char *buf, size_t n)
{
	buf[0] = '\0';
	const struct action_ops *t;
	for (size_t i = 0; (t = action_at(i)) != NULL; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? ", " : "", t->name);
}

static void lint_params(const struct runbook *rb, const struct rb_step *s, const struct action_ops *ops,
			struct diag_list *d)
{
	for (size_t i = 0; i < s->nparams; i++) {
		const char *const *k = ops->params;
		while (*k && strcmp(*k, s->params[i].key) != 0)
			k++;
		if (*k == NULL)
			diag_add(d, AT(s->params[i].pos), DIAG_ERROR, "action %s has no param '%s'; remove it",
				 ops->name, s->params[i].key);
	}
	for (const char *const *k = ops->required; *k; k++)
		if (rb_param(s, *k) == NULL)
			diag_add(d, AT(s->pos), DIAG_ERROR, "step %s: action %s needs param '%s'; add it under params",
				 s->id, ops->name, *k);
}

static void lint_targets(const struct runbook *rb, const struct inventory *inv, const struct rb_step *s,
			 const struct action_ops *ops, struct diag_list *d)
{
	if (ops->kinds == 0 && s->targets.n > 0)
		diag_add(d, AT(s->targets_pos), DIAG_ERROR, "action %s takes no targets; remove 'targets'", ops->name);
	if (ops->kinds != 0 && s->targets.n == 0)
		diag_add(d, AT(s->pos), DIAG_ERROR, "step %s: action %s needs targets; add e.g. 'targets: [old.all]'",
			 s->id, ops->name);
	for (size_t i = 0; i < s->targets.n; i++) {
		struct selector sel;
		struct cut_err e;
		if (sel_parse(inv, s->targets.v[i], &sel, &e) != CUT_OK) {
			diag_add(d, AT(s->targets.pos[i]), DIAG_ERROR, "%s", e.msg);
			continue;
		}
		if (ops->kinds && !(ops->kinds & sel.kind))
			diag_add(d, AT(s->targets.pos[i]), DIAG_ERROR, "action %s cannot act on '%s'; give it %s targets",
				 ops->name, s->targets.v[i],
				 ops->kinds & TGT_ZK ? "ZooKeeper" : ops->kinds & TGT_CK ? "ClickHouse (ck.*)" : "writer task");
	}
	const struct rb_param *from = rb_param(s, "from");
	struct selector sel;
	struct cut_err e;
	if (from && from->value && sel_parse(inv, from->value, &sel, &e) != CUT_OK)
		diag_add(d, AT(from->pos), DIAG_ERROR, "param 'from': %s", e.msg);
	for (const char *const *k = (const char *const[]){"to", "left", "right", NULL}; *k; k++) {
		const struct rb_param *p = rb_param(s, *k);
		if (p && p->value && inv_ensemble(inv, p->value) == NULL)
			diag_add(d, AT(p->pos), DIAG_ERROR, "param '%s' names '%s', which is not an ensemble of %s",
				 *k, p->value, inv->file);
	}
}

/* The seed's worst mistake in waiting: wiping the ensemble ClickHouse still uses. */
static void lint_destination(const struct runbook *rb, const struct inventory *inv, const struct plan_step *ps,
			     struct diag_list *d)
{
	const struct rb_step *s = ps->step;
	if (strcmp(rb->kind, "rollback") == 0 || ps->ck_on == NULL)
		return;
	if (strcmp(s->action, "zk.wipe") != 0 && strcmp(s->action, "zk.copy") != 0)
		return;
	for (size_t i = 0; i < s->targets.n; i++) {
		struct selector sel;
		if (sel_parse(inv, s->targets.v[i], &sel, NULL) == CUT_OK && sel.kind == TGT_ZK &&
		    strcmp(sel.ens->name, ps->ck_on) == 0)
			diag_add(d, AT(s->targets.pos[i]), DIAG_ERROR,
				 "step %s would %s ensemble %s, which ClickHouse uses at this point of the runbook; "
				 "target the other ensemble or switch ClickHouse first",
				 s->id, strcmp(s->action, "zk.wipe") == 0 ? "wipe" : "overwrite", ps->ck_on);
	}
}

static void lint_rollback(const struct runbook *rb, const struct inventory *inv, struct diag_list *d, int depth)
{
	bool wants = false;
	for (size_t i = 0; i < rb->nsteps; i++)
		wants |= rb->steps[i].fail == RB_FAIL_ROLLBACK;
	if (rb->rollback == NULL) {
		if (wants)
			diag_add(d, rb->file, 1, 1, DIAG_ERROR,
				 "a step says on_failure: rollback but the runbook names no rollback runbook; add 'rollback: FILE'");
		return;
	}
	if (depth > 0)
		return;
	char dir[PATH_MAX], path[PATH_MAX * 2];
	snprintf(dir, sizeof dir, "%s", rb->file);
	if (rb->rollback[0] == '/')
		snprintf(path, sizeof path, "%s", rb->rollback);
	else
		snprintf(path, sizeof path, "%s/%s", dirname(dir), rb->rollback);
	size_t before = d->errors;
	struct diag_list sub = {0};
	struct runbook *rr = rb_load_file(path, &sub);
	if (rr != NULL && sub.errors == 0)
		rb_lint(rr, inv, &sub, depth + 1);
	for (size_t i = 0; i < sub.n; i++)
		diag_add(d, sub.v[i].file, sub.v[i].line, sub.v[i].col, sub.v[i].sev, "%s", sub.v[i].msg);
	if (rr == NULL)
		diag_add(d, AT(rb->rollback_pos), DIAG_ERROR, "rollback runbook %s cannot be read; fix the path", path);
	else if (d->errors > before)
		diag_add(d, AT(rb->rollback_pos), DIAG_ERROR,
			 "rollback runbook %s has errors (listed above); a migration without a working way back is refused", path);
	rb_free(rr);
	diag_free(&sub);
}

static void lint_step(const struct runbook *rb, const struct inventory *inv, const struct plan_step *ps,
		      struct diag_list *d)
{
	const struct rb_step *s = ps->step;
	if (s->action == NULL)
		return;
	if (ps->ops == NULL) {
		char known[1024];
		known_actions(known, sizeof known);
		diag_add(d, AT(s->action_pos), DIAG_ERROR, "unknown action '%s'; use one of: %s", s->action, known);
		return;
	}
	lint_params(rb, s, ps->ops, d);
	lint_targets(rb, inv, s, ps->ops, d);
	lint_destination(rb, inv, ps, d);
	if (strcmp(s->confirm, "two") == 0 && inv->operators.n < 2)
		diag_add(d, AT(s->confirm_pos), DIAG_ERROR,
			 "step %s needs two operators but the inventory lists %zu on duty; name two under 'operators'",
			 s->id, inv->operators.n);
	if (ps->ops->destructive && strcmp(s->confirm, "two") != 0)
		diag_add(d, AT(s->pos), DIAG_WARNING, "step %s (%s) changes data with one confirmation; consider 'confirm: two'",
			 s->id, s->action);
	for (size_t k = 0; k < s->requires.n; k++) {
		struct cut_err e;
		if (gate_check_name(inv, s->requires.v[k], &e) != CUT_OK)
			diag_add(d, AT(s->requires.pos[k]), DIAG_ERROR, "%s", e.msg);
	}
	for (size_t t = 0; t < ps->nt; t++)
		for (size_t k = 0; k < ps->t[t].lines.n; k++) {
			const char *u = strstr(ps->t[t].lines.v[k], "<unresolved: ");
			if (u != NULL) {
				diag_add(d, AT(s->pos), DIAG_ERROR, "step %s on %s: %.*s", s->id, ps->t[t].name,
					 (int)(strlen(u) - 14), u + 13);
				return;
			}
		}
}

static int by_id_then_place(const void *a, const void *b)
{
	const struct rb_step *x = *(const struct rb_step *const *)a, *y = *(const struct rb_step *const *)b;
	int c = strcmp(x->id, y->id);
	return c ? c : x < y ? -1 : x > y;
}

/* Each step id once: sorted, so 10,000 steps cost n log n, and each repeat is
 * told once, against the first. */
static void unique_ids(const struct runbook *rb, struct diag_list *d)
{
	const struct rb_step **v = malloc((rb->nsteps ? rb->nsteps : 1) * sizeof *v);
	size_t n = 0;
	if (v == NULL)
		return;
	for (size_t i = 0; i < rb->nsteps; i++)
		if (rb->steps[i].id)
			v[n++] = &rb->steps[i];
	qsort(v, n, sizeof *v, by_id_then_place);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(v[i]->id, v[first]->id) != 0) {
			first = i;
			continue;
		}
		diag_add(d, AT(v[i]->id_pos), DIAG_ERROR, "step id '%s' is used twice (first at line %d); ids must be unique",
			 v[i]->id, v[first]->id_pos.line);
	}
	free(v);
}

void rb_lint(const struct runbook *rb, const struct inventory *inv, struct diag_list *d, int depth)
{
	unique_ids(rb, d);
	struct plan *p = plan_build(rb, inv);
	if (p == NULL) {
		diag_add(d, rb->file, 0, 0, DIAG_ERROR, "out of memory while resolving the plan");
		return;
	}
	for (size_t i = 0; i < p->n; i++)
		lint_step(rb, inv, &p->steps[i], d);
	plan_free(p);
	const struct rb_step *pnr = rb->point_of_no_return ? rb_find_step(rb, rb->point_of_no_return) : NULL;
	if (rb->point_of_no_return && pnr == NULL)
		diag_add(d, AT(rb->pnr_pos), DIAG_ERROR, "point_of_no_return names step '%s', which does not exist",
			 rb->point_of_no_return);
	if (pnr && strcmp(pnr->confirm, "two") != 0)
		diag_add(d, AT(pnr->pos), DIAG_WARNING, "step %s is the point of no return: crossing it takes two operators "
			 "whatever the runbook says; write 'confirm: two' so the plan says so too", pnr->id);
	if (rb->clickhouse_starts_on && inv_ensemble(inv, rb->clickhouse_starts_on) == NULL)
		diag_add(d, AT(rb->starts_pos), DIAG_ERROR, "clickhouse_starts_on names '%s', which is not an ensemble of %s",
			 rb->clickhouse_starts_on, inv->file);
	lint_rollback(rb, inv, d, depth);
}
