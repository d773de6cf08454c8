/* plan: a runbook resolved against an inventory (see include/cutover/plan.h). */
#include "cutover/plan.h"
#include "cutover/shown.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static struct plan_target *new_target(struct plan *p, struct plan_step *ps, size_t cap)
{
	if (ps->t == NULL)
		ps->t = arena_alloc(p->arena, cap * sizeof *ps->t);
	if (ps->t == NULL || ps->nt >= cap)
		return NULL;
	struct plan_target *t = &ps->t[ps->nt++];
	t->lines.arena = p->arena;
	return t;
}

static size_t target_cap(const struct inventory *inv, const struct rb_step *s)
{
	size_t zk = 0;
	for (size_t i = 0; i < inv->nensembles; i++)
		zk += inv->ensembles[i].n;
	return (zk + inv->nck + inv->ntasks + 1) * (s->targets.n + 1);
}

static void add_zk(struct plan *p, struct plan_step *ps, const struct selector *sel, size_t cap)
{
	static const char *const roles[] = {NULL, "if leader", "if follower", NULL};
	for (size_t i = 0; i < sel->ens->n; i++) {
		const struct inv_zk_node *z = &sel->ens->nodes[i];
		if (!sel_has_zk(sel, z))
			continue;
		struct plan_target *t = new_target(p, ps, cap);
		if (t == NULL)
			return;
		t->name = z->name;
		t->host = z->host;
		t->role = roles[sel->role];
		struct subst_scope sc = {.inv = p->inv, .zk = z, .ensemble = sel->ens->name};
		if (ps->ops->describe)
			ps->ops->describe(&t->lines, ps->step, &sc);
	}
}

static void add_targets(struct plan *p, struct plan_step *ps)
{
	const struct rb_step *s = ps->step;
	size_t cap = target_cap(p->inv, s);
	for (size_t k = 0; k < s->targets.n; k++) {
		struct selector sel;
		if (sel_parse(p->inv, s->targets.v[k], &sel, NULL) != CUT_OK || !(ps->ops->kinds & sel.kind))
			continue; /* lint reports it */
		if (sel.kind == TGT_ZK) {
			add_zk(p, ps, &sel, cap);
			continue;
		}
		size_t n = sel.kind == TGT_CK ? (sel.ck ? 1 : p->inv->nck) : sel.kind == TGT_TASK ? (sel.task ? 1 : p->inv->ntasks) : 1;
		for (size_t i = 0; i < n; i++) {
			struct plan_target *t = new_target(p, ps, cap);
			if (t == NULL)
				return;
			struct subst_scope sc = {.inv = p->inv};
			if (sel.kind == TGT_CK) {
				sc.ck = sel.ck ? sel.ck : &p->inv->ck[i];
				t->name = sc.ck->name;
				t->host = sc.ck->host;
			} else if (sel.kind == TGT_TASK) {
				sc.task = sel.task ? sel.task : &p->inv->tasks[i];
				t->name = arena_printf(p->arena, "task %s", sc.task->id);
				t->host = sc.task->host;
			} else {
				t->name = "local";
				t->host = "local";
			}
			ps->ops->describe(&t->lines, s, &sc);
		}
	}
}

struct plan *plan_build(const struct runbook *rb, const struct inventory *inv)
{
	struct arena *a = arena_new();
	struct plan *p = a ? arena_alloc(a, sizeof *p) : NULL;
	if (p == NULL || (p->steps = arena_alloc(a, (rb->nsteps + 1) * sizeof *p->steps)) == NULL) {
		arena_free(a);
		return NULL;
	}
	p->arena = a;
	p->rb = rb;
	p->inv = inv;
	const char *ck_on = rb->clickhouse_starts_on ? rb->clickhouse_starts_on : inv->ck_ensemble;
	size_t pnr = rb_pnr_index(rb);
	for (size_t i = 0; i < rb->nsteps; i++) {
		struct plan_step *ps = &p->steps[p->n++];
		ps->step = &rb->steps[i];
		ps->ops = rb->steps[i].action ? action_find(rb->steps[i].action) : NULL;
		ps->ck_on = ck_on;
		ps->past_pnr = i >= pnr;
		ps->notes.arena = a;
		if (ps->ops == NULL)
			continue;
		if (ps->ops->header)
			ps->ops->header(&ps->notes, ps->step, inv);
		if (ps->ops->kinds)
			add_targets(p, ps);
		const struct rb_param *to = rb_param(ps->step, "to");
		if (strcmp(ps->ops->name, "ck.switch") == 0 && to && to->value)
			ck_on = to->value;
	}
	return p;
}

void plan_free(struct plan *p)
{
	if (p != NULL)
		arena_free(p->arena);
}

static void fmt_ms(char *buf, size_t n, int ms)
{
	if (ms == 0)
		snprintf(buf, n, "action default");
	else if (ms % 3600000 == 0)
		snprintf(buf, n, "%dh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, n, "%dm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, n, "%ds", ms / 1000);
	else
		snprintf(buf, n, "%dms", ms);
}

static void join(char *buf, size_t n, const struct strlist *l, const char *none)
{
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? ", " : "", l->v[i]);
	if (l->n == 0)
		snprintf(buf, n, "%s", none);
}

/*
 * One line of the plan. Runbook and inventory text runs through every line (a
 * title, a host, a variable's value in a command): a newline in it must not
 * start a line that reads as another target or command, nor an escape
 * sequence repaint what the operators are about to confirm.
 */
static void line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(FILE *out, const char *fmt, ...)
{
	char small[1024], *buf = small;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof small && (buf = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	shown_puts(out, buf ? buf : small);
	fputc('\n', out);
	if (buf != small)
		free(buf);
}

void plan_print_text(const struct plan *p, FILE *out)
{
	const struct runbook *rb = p->rb;
	line(out, "plan: %s (%s) on %s (%s)", rb->name ? rb->name : "?", rb->file, p->inv->site ? p->inv->site : "site",
	     p->inv->file);
	if (rb->title)
		line(out, "%s", rb->title);
	const char *on = p->n ? p->steps[0].ck_on : NULL;
	if (on)
		fprintf(out, "ClickHouse points at the %s ensemble when the run starts", on);
	else
		fprintf(out, "No ClickHouse ensemble is known (the inventory names none)");
	fprintf(out, "; rollback runbook: %s", rb->rollback ? rb->rollback : "none");
	if (rb->budget_ms) {
		char b[32];
		fmt_ms(b, sizeof b, rb->budget_ms);
		fprintf(out, "; time budget %s", b);
	}
	fputc('\n', out);
	for (size_t i = 0; i < p->n; i++) {
		const struct rb_step *s = p->steps[i].step;
		if (rb->point_of_no_return && s->id && strcmp(s->id, rb->point_of_no_return) == 0)
			fprintf(out, "\n---- point of no return: from here on a rollback must carry new writes back ----\n");
		fputc('\n', out);
		plan_print_step(p, i, out);
	}
}

void plan_print_step(const struct plan *p, size_t i, FILE *out)
{
	const struct plan_step *ps = &p->steps[i];
	const struct rb_step *s = ps->step;
	char req[512], tg[512], to[32];
	join(req, sizeof req, &s->requires, "nothing");
	join(tg, sizeof tg, &s->targets, "none");
	fmt_ms(to, sizeof to, s->timeout_ms);
	line(out, "%2zu. %s  %s", i + 1, s->id ? s->id : "?", s->title ? s->title : "");
	line(out, "    action %s · targets %s · confirm %s%s · requires %s · timeout %s · on failure %s",
	     s->action ? s->action : "?", tg, s->confirm, s->simple ? " (yes)" : "", req, to,
	     s->on_failure ? s->on_failure : "stop");
	for (size_t k = 0; k < ps->notes.n; k++)
		line(out, "    %s", ps->notes.v[k]);
	for (size_t t = 0; t < ps->nt; t++) {
		const struct plan_target *pt = &ps->t[t];
		line(out, "    - %s (%s)%s%s:", pt->name, pt->host ? pt->host : "?", pt->role ? ", " : "",
		     pt->role ? pt->role : "");
		for (size_t k = 0; k < pt->lines.n; k++)
			line(out, "        %s", pt->lines.v[k]);
	}
}

static json_t *lines_json(const struct plan_lines *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *strlist_json(const struct strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

int plan_print_json(const struct plan *p, FILE *out)
{
	json_t *root = json_object(), *steps = json_array();
	json_object_set_new(root, "runbook", json_string(p->rb->name ? p->rb->name : ""));
	json_object_set_new(root, "runbook_file", json_string(p->rb->file));
	json_object_set_new(root, "inventory_file", json_string(p->inv->file));
	json_object_set_new(root, "rollback", p->rb->rollback ? json_string(p->rb->rollback) : json_null());
	json_object_set_new(root, "point_of_no_return",
			    p->rb->point_of_no_return ? json_string(p->rb->point_of_no_return) : json_null());
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *ps = &p->steps[i];
		const struct rb_step *s = ps->step;
		json_t *js = json_object(), *targets = json_array();
		json_object_set_new(js, "index", json_integer((json_int_t)i + 1));
		json_object_set_new(js, "id", json_string(s->id ? s->id : ""));
		json_object_set_new(js, "title", json_string(s->title ? s->title : ""));
		json_object_set_new(js, "action", json_string(s->action ? s->action : ""));
		json_object_set_new(js, "selectors", strlist_json(&s->targets));
		json_object_set_new(js, "confirm", json_string(s->confirm));
		json_object_set_new(js, "requires", strlist_json(&s->requires));
		json_object_set_new(js, "timeout_ms", json_integer(s->timeout_ms));
		json_object_set_new(js, "on_failure", json_string(s->on_failure ? s->on_failure : "stop"));
		json_object_set_new(js, "clickhouse_on", json_string(ps->ck_on ? ps->ck_on : ""));
		json_object_set_new(js, "past_point_of_no_return", json_boolean(ps->past_pnr));
		json_object_set_new(js, "notes", lines_json(&ps->notes));
		for (size_t t = 0; t < ps->nt; t++) {
			json_t *jt = json_object();
			json_object_set_new(jt, "name", json_string(ps->t[t].name));
			json_object_set_new(jt, "host", ps->t[t].host ? json_string(ps->t[t].host) : json_null());
			json_object_set_new(jt, "role", ps->t[t].role ? json_string(ps->t[t].role) : json_null());
			json_object_set_new(jt, "operations", lines_json(&ps->t[t].lines));
			json_array_append_new(targets, jt);
		}
		json_object_set_new(js, "targets", targets);
		json_array_append_new(steps, js);
	}
	json_object_set_new(root, "steps", steps);
	int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc == 0 ? CUT_OK : CUT_EIO;
}
