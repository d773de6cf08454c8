/* runbook: loading steps from YAML (see include/cutover/runbook.h). */
#include "cutover/runbook.h"
#include "cutover/inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NF(t) (sizeof(t) / sizeof((t)[0]))

static bool dec_params(struct yml *y, yaml_node_t *n, void *o)
{
	struct rb_step *s = o;
	s->params_pos = yml_pos_of(n);
	if (!yml_expect(y, n, YAML_MAPPING_NODE, "step params"))
		return false;
	size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	s->params = arena_alloc(y->arena, (cnt + 1) * sizeof *s->params);
	if (s->params == NULL)
		return false;
	bool ok = true;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		struct rb_param *pr = &s->params[s->nparams];
		yaml_node_t *k = yml_get(y, p->key), *v = yml_get(y, p->value);
		if (!yml_str(y, k, "param name", &pr->key)) {
			ok = false;
			continue;
		}
		pr->pos = yml_pos_of(k);
		if (v->type == YAML_SCALAR_NODE)
			ok &= yml_str(y, v, "param value", &pr->value);
		else
			ok &= yml_strlist(y, v, "param value", &pr->list);
		s->nparams++;
	}
	return ok;
}

#define ST struct rb_step
static const struct yml_field step_fields[] = {
	YF_REQ("id", YML_STR, ST, id, id_pos),
	YF("title", YML_STR, ST, title),
	YF("description", YML_STR, ST, description),
	YF_REQ("action", YML_STR, ST, action, action_pos),
	YF_P("targets", YML_STRLIST, ST, targets, targets_pos),
	YF_FN("params", dec_params, false),
	YF_P("confirm", YML_STR, ST, confirm, confirm_pos),
	YF("simple", YML_BOOL, ST, simple),
	YF("requires", YML_STRLIST, ST, requires),
	YF("timeout", YML_DURATION, ST, timeout_ms),
	YF_P("on_failure", YML_STR, ST, on_failure, fail_pos),
};
#undef ST

/* "stop", "rollback", "retry 3". */
static bool parse_fail(struct yml *y, struct rb_step *s)
{
	const char *f = s->on_failure ? s->on_failure : "stop";
	int n = 0;
	char tail;
	if (strcmp(f, "stop") == 0)
		s->fail = RB_FAIL_STOP;
	else if (strcmp(f, "rollback") == 0)
		s->fail = RB_FAIL_ROLLBACK;
	else if (sscanf(f, "retry %d%c", &n, &tail) == 1 && n >= 1 && n <= 10) {
		s->fail = RB_FAIL_RETRY;
		s->retries = n;
	} else {
		diag_add(y->diags, y->file, s->fail_pos.line, s->fail_pos.col, DIAG_ERROR,
			 "on_failure '%s' is not understood; write stop, rollback or retry N (1-10)", f);
		return false;
	}
	return true;
}

static bool dec_steps(struct yml *y, yaml_node_t *n, void *o)
{
	struct runbook *rb = o;
	if (!yml_expect(y, n, YAML_SEQUENCE_NODE, "steps"))
		return false;
	rb->nsteps = yml_seq_len(n);
	rb->steps = arena_alloc(y->arena, (rb->nsteps + 1) * sizeof *rb->steps);
	if (rb->steps == NULL)
		return false;
	bool ok = true;
	for (size_t i = 0; i < rb->nsteps; i++) {
		struct rb_step *s = &rb->steps[i];
		yaml_node_t *item = yml_seq_at(y, n, i);
		s->pos = yml_pos_of(item);
		ok &= yml_map(y, item, "step", step_fields, NF(step_fields), s);
		ok &= parse_fail(y, s);
		if (s->confirm == NULL)
			s->confirm = "one";
		else if (strcmp(s->confirm, "one") != 0 && strcmp(s->confirm, "two") != 0) {
			diag_add(y->diags, y->file, s->confirm_pos.line, s->confirm_pos.col, DIAG_ERROR,
				 "confirm '%s' is not understood; write one, or two for two different operators",
				 s->confirm);
			ok = false;
		}
		if (s->title == NULL)
			s->title = s->id;
	}
	return ok;
}

#define RB struct runbook
static const struct yml_field rb_fields[] = {
	YF("runbook", YML_STR, RB, name),
	YF("title", YML_STR, RB, title),
	YF("description", YML_STR, RB, description),
	YF("kind", YML_STR, RB, kind),
	YF_P("rollback", YML_STR, RB, rollback, rollback_pos),
	YF_P("clickhouse_starts_on", YML_STR, RB, clickhouse_starts_on, starts_pos),
	YF("budget", YML_DURATION, RB, budget_ms),
	YF_P("point_of_no_return", YML_STR, RB, point_of_no_return, pnr_pos),
	YF_FN("steps", dec_steps, true),
};
#undef RB

struct runbook *rb_load(const char *file, const char *buf, size_t len, struct diag_list *d)
{
	struct arena *a = arena_new();
	struct runbook *rb = a ? arena_alloc(a, sizeof *rb) : NULL;
	if (rb == NULL) {
		arena_free(a);
		return NULL;
	}
	rb->arena = a;
	rb->file = arena_strdup(a, file);
	struct yml y;
	if (yml_parse(&y, rb->file, (const unsigned char *)buf, len, a, d)) {
		yml_map(&y, yml_root(&y), "runbook", rb_fields, NF(rb_fields), rb);
		if (rb->kind == NULL)
			rb->kind = "migration";
		else if (strcmp(rb->kind, "migration") && strcmp(rb->kind, "rollback") && strcmp(rb->kind, "install"))
			diag_add(d, rb->file, 0, 0, DIAG_ERROR,
				 "kind '%s' is not understood; write migration, rollback or install", rb->kind);
		if (rb->name == NULL)
			diag_add(d, rb->file, 1, 1, DIAG_ERROR, "the runbook has no name; add 'runbook: <name>'");
	}
	yml_done(&y);
	return rb;
}

struct runbook *rb_load_file(const char *file, struct diag_list *d)
{
	size_t len;
	char *buf = inv_read_file(file, &len);
	if (buf == NULL) {
		diag_add(d, file, 0, 0, DIAG_ERROR, "cannot read %s: %s (the runbook)", file, inv_read_why(errno));
		return NULL;
	}
	struct runbook *rb = rb_load(file, buf, len, d);
	free(buf);
	return rb;
}

void rb_free(struct runbook *rb)
{
	if (rb != NULL)
		arena_free(rb->arena);
}

const struct rb_param *rb_param(const struct rb_step *s, const char *key)
{
	for (size_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].key, key) == 0)
			return &s->params[i];
	return NULL;
}

const struct rb_step *rb_find_step(const struct runbook *rb, const char *id)
{
	for (size_t i = 0; i < rb->nsteps; i++)
		if (rb->steps[i].id && strcmp(rb->steps[i].id, id) == 0)
			return &rb->steps[i];
	return NULL;
}

size_t rb_pnr_index(const struct runbook *rb)
{
	if (rb->point_of_no_return != NULL)
		for (size_t i = 0; i < rb->nsteps; i++)
			if (rb->steps[i].id && strcmp(rb->steps[i].id, rb->point_of_no_return) == 0)
				return i;
	return rb->nsteps;
}
