/*
 * engine_open: starting, resuming and ending an engine's life -- loading the
 * documents (refusing any that lint rejects), taking the audit's lock, and
 * writing the run's first events (see include/cutover/engine.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/lint.h"
#include "cutover/subst.h"
#include "engine_int.h"

int eng_file_sha(const char *path, char hex[HASH_HEX_LEN + 1], struct cut_err *err)
{
	size_t len;
	char *buf = inv_read_file(path, &len);
	if (buf == NULL)
		return cut_fail(err, CUT_EIO, "%s: %s", path, strerror(errno));
	hash_buf(buf, len, hex);
	free(buf);
	return CUT_OK;
}

static int first_error(const struct diag_list *d, const char *what, struct cut_err *err)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (g->sev != DIAG_ERROR)
			continue;
		if (g->line == 0) /* about the whole file ("cannot read FILE: ...") */
			return cut_fail(err, CUT_EINVAL, "%s%s%s", g->file && !strstr(g->msg, g->file) ? g->file : "",
					g->file && !strstr(g->msg, g->file) ? ": " : "", g->msg);
		return cut_fail(err, CUT_EINVAL, "%s:%d:%d: %s (%zu error(s) in the %s; 'cutover lint' lists them)",
				g->file ? g->file : "?", g->line, g->col, g->msg, d->errors, what);
	}
	return CUT_OK;
}

int eng_load_runbook(struct engine *e, const char *rb_path, struct cut_err *err)
{
	struct diag_list d = {0};
	struct runbook *rb = rb_load_file(rb_path, &d);
	if (rb != NULL && d.errors == 0)
		rb_lint(rb, e->inv, &d, 0);
	int rc = rb == NULL && d.errors == 0 ? cut_fail(err, CUT_ENOMEM, "out of memory") : first_error(&d, "runbook", err);
	diag_free(&d);
	struct plan *plan = rc == CUT_OK ? plan_build(rb, e->inv) : NULL;
	if (rc == CUT_OK && plan == NULL)
		rc = cut_fail(err, CUT_ENOMEM, "out of memory");
	if (rc != CUT_OK) {
		rb_free(rb);
		return rc;
	}
	plan_free(e->plan);
	rb_free(e->rb);
	fold_free(&e->fold);
	e->rb = rb;
	e->plan = plan;
	free(e->rb_path);
	e->rb_path = strdup(rb_path);
	return fold_init(&e->fold, rb) == CUT_OK ? CUT_OK : cut_fail(err, CUT_ENOMEM, "out of memory");
}

/* Secret values as they will appear in output, to be masked there. */
static void collect_secrets(struct engine *e)
{
	const struct inventory *inv = e->inv;
	e->secrets = calloc(inv->nvars + 1, sizeof *e->secrets);
	struct arena *a = arena_new();
	struct subst_scope sc = {.inv = inv};
	for (size_t i = 0; e->secrets && a && i < inv->nvars; i++) {
		const struct inv_var *v = &inv->vars[i];
		if (!v->secret)
			continue;
		const char *val = v->env ? getenv(v->env) : subst(a, v->value, &sc, SUBST_PATH, NULL);
		if (val && strlen(val) >= 3) /* masking "a" would shred every line */
			e->secrets[e->nsecrets++] = strdup(val);
	}
	arena_free(a);
}

static int load_inventory(struct engine *e, const char *path, struct cut_err *err)
{
	struct diag_list d = {0};
	e->inv = inv_load_file(path, &d);
	if (e->inv != NULL && d.errors == 0)
		inv_check(e->inv, &d);
	int rc = e->inv == NULL && d.errors == 0 ? cut_fail(err, CUT_ENOMEM, "out of memory")
								 : first_error(&d, "inventory", err);
	diag_free(&d);
	e->inv_path = strdup(path);
	return rc;
}

/* The operators at the keyboard, as the lock names them: alice,bob. */
static void join_operators(struct engine *e, const struct engine_opts *o)
{
	e->operators[0] = '\0';
	for (size_t i = 0; i < o->noperators; i++)
		snprintf(e->operators + strlen(e->operators), sizeof e->operators - strlen(e->operators), "%s%s",
			 i ? "," : "", o->operators[i]);
}

int eng_open(struct engine *e, const struct engine_opts *o, const char *rb_path, const char *inv_path,
	     struct audit_lock_holder *holder, struct cut_err *err)
{
	e->o = *o;
	e->prepared = (size_t)-1;
	pthread_mutex_init(&e->m, NULL);
	const char *crash = getenv("CUTOVER_TEST_CRASH");
	snprintf(e->crash, sizeof e->crash, "%s", crash ? crash : "");
	int rc = load_inventory(e, inv_path, err);
	if (rc == CUT_OK)
		rc = eng_load_runbook(e, rb_path, err);
	char duty[256] = "";
	for (size_t i = 0; rc == CUT_OK && i < e->inv->operators.n; i++)
		snprintf(duty + strlen(duty), sizeof duty - strlen(duty), "%s%s", i ? ", " : "", e->inv->operators.v[i]);
	for (size_t i = 0; rc == CUT_OK && i < o->noperators; i++)
		if (!engine_on_duty(e, o->operators[i]))
			rc = cut_fail(err, CUT_EINVAL, "operator '%s' is not on duty in %s (on duty: %s)", o->operators[i],
				      inv_path, duty);
	if (rc == CUT_OK && o->noperators == 0)
		rc = cut_fail(err, CUT_EUSAGE, "name the operator at the keyboard with --operator NAME");
	if (rc != CUT_OK)
		return rc;
	collect_secrets(e);
	if ((e->pool = ssh_pool_new()) == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	e->audit_path = strdup(o->audit);
	/* resume took the lock before it read the audit */
	return e->lock ? CUT_OK : audit_lock_take(o->audit, true, e->operators, o->take_over, &e->lock, holder, err);
}

void eng_plan_sha(const struct engine *e, char hex[HASH_HEX_LEN + 1])
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f != NULL) {
		plan_print_text(e->plan, f);
		fclose(f);
	}
	hash_buf(buf ? buf : "", buf ? len : 0, hex);
	free(buf);
}

int eng_begin_run(struct engine *e, int64_t parent, struct cut_err *err)
{
	char rbsha[HASH_HEX_LEN + 1], invsha[HASH_HEX_LEN + 1], host[128] = "?";
	int rc = eng_file_sha(e->rb_path, rbsha, err);
	if (rc == CUT_OK)
		rc = eng_file_sha(e->inv_path, invsha, err);
	if (rc != CUT_OK)
		return rc;
	gethostname(host, sizeof host - 1);
	struct audit_run_info r = {.parent = parent, .runbook = e->rb_path, .runbook_sha256 = rbsha,
				   .inventory = e->inv_path, .inventory_sha256 = invsha, .operators = e->operators,
				   .hostname = host};
	rc = audit_run_begin(e->audit, &r, &e->run, err);
	if (rc != CUT_OK)
		return rc;
	char plansha[HASH_HEX_LEN + 1];
	eng_plan_sha(e, plansha);
	json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "runbook", e->rb_path, "runbook_sha256",
			      rbsha, "inventory", e->inv_path, "inventory_sha256", invsha, "plan_sha256", plansha,
			      "operators", e->operators, "host", host, "pid", (json_int_t)getpid(), "parent",
			      (json_int_t)parent);
	return eng_emit(e, NULL, NULL, e->o.operators[0], "run_start", p, err);
}

int eng_start_rollback(struct engine *e, const char *op, struct cut_err *err)
{
	if (e->rb->rollback == NULL)
		return cut_fail(err, CUT_EINVAL, "runbook %s names no rollback runbook", e->rb_path);
	char path[PATH_MAX];
	const char *slash = strrchr(e->rb_path, '/');
	if (e->rb->rollback[0] == '/')
		snprintf(path, sizeof path, "%s", e->rb->rollback);
	else
		snprintf(path, sizeof path, "%.*s%s", slash ? (int)(slash - e->rb_path + 1) : 0, e->rb_path, e->rb->rollback);
	int64_t parent = e->run;
	int rc = eng_emit(e, NULL, NULL, op, "run_end", json_pack("{s:s, s:s}", "outcome", "rolled back", "rollback", path), err);
	if (rc == CUT_OK)
		rc = audit_run_end(e->audit, parent, "rolled back", err);
	if (rc == CUT_OK)
		rc = eng_load_runbook(e, path, err);
	if (rc != CUT_OK) {
		cut_err_prefix(err, "starting the rollback %s: ", path);
		return rc;
	}
	return eng_begin_run(e, parent, err);
}

static char *absolute(const char *path)
{
	char buf[PATH_MAX];
	return realpath(path, buf) ? strdup(buf) : strdup(path);
}

int engine_start(const struct engine_opts *o, struct engine **out, struct audit_lock_holder *holder,
		 struct cut_err *err)
{
	*out = NULL;
	struct engine *e = calloc(1, sizeof *e);
	if (e == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	join_operators(e, o);
	char *rb = absolute(o->runbook), *inv = absolute(o->inventory);
	int rc = eng_open(e, o, rb, inv, holder, err);
	free(rb);
	free(inv);
	if (rc == CUT_OK)
		rc = audit_open(o->audit, true, &e->audit, err);
	if (rc == CUT_OK) {
		struct audit_run prev;
		/* A new run must not orphan one that was interrupted: that is resume's job. */
		if (audit_run_latest(e->audit, true, &prev, NULL) == CUT_OK) {
			rc = cut_fail(err, CUT_EREFUSED, "audit %s holds unfinished run %lld (%s, started %s); "
				      "continue it with 'cutover resume --audit %s'", o->audit, (long long)prev.id,
				      prev.runbook, prev.started, o->audit);
			audit_run_clear(&prev);
		}
	}
	if (rc == CUT_OK)
		rc = audit_guard(e->audit, err);
	if (rc == CUT_OK)
		rc = eng_begin_run(e, 0, err);
	if (rc != CUT_OK) {
		engine_free(e);
		return rc;
	}
	*out = e;
	return CUT_OK;
}

static int refold_one(void *ud, const struct audit_event *ev)
{
	struct engine *e = ud;
	fold_apply(&e->fold, ev);
	if (strcmp(ev->kind, "run_start") == 0 && ev->payload) {
		json_t *p = json_loads(ev->payload, 0, NULL);
		const char *sha = json_string_value(json_object_get(p, "plan_sha256"));
		snprintf(e->start_plan_sha, sizeof e->start_plan_sha, "%s", sha ? sha : "");
		json_decref(p);
	}
	return 0;
}

static int check_unchanged(struct engine *e, const struct audit_run *r, struct cut_err *err)
{
	char sha[HASH_HEX_LEN + 1];
	const char *paths[] = {r->runbook, r->inventory}, *shas[] = {r->runbook_sha256, r->inventory_sha256};
	for (int i = 0; i < 2; i++) {
		int rc = eng_file_sha(paths[i], sha, err);
		if (rc != CUT_OK)
			return rc;
		if (strcmp(sha, shas[i]) != 0 && !e->o.allow_changed)
			return cut_fail(err, CUT_EREFUSED, "%s changed since run %lld started (sha256 %.12s..., now %.12s...); "
					"restore it, or resume with --allow-changed to accept the change on the record",
					paths[i], (long long)r->id, shas[i], sha);
	}
	return CUT_OK;
}

static int resume_run(struct engine *e, int64_t run, struct cut_err *err)
{
	struct audit_report rep;
	int rc = audit_verify(e->audit, &rep, err);
	if (rc == CUT_OK && rep.bad_seq)
		return cut_fail(err, CUT_ECORRUPT, "audit %s is damaged at event %lld: %s; not resuming from it "
				"('cutover audit verify' shows the same)", e->audit_path, (long long)rep.bad_seq, rep.reason);
	if (rc != CUT_OK)
		return rc;
	if ((rc = audit_events(e->audit, run, refold_one, e, err)) != CUT_OK || (rc = audit_guard(e->audit, err)) != CUT_OK)
		return rc;
	e->run = run;
	char now[HASH_HEX_LEN + 1];
	eng_plan_sha(e, now);
	/* Same files, other environment (LAB_DIR, a var from env): the commands
	 * would not be the ones confirmed. */
	if (strcmp(now, e->start_plan_sha) != 0 && !e->o.allow_changed)
		return cut_fail(err, CUT_EREFUSED, "the plan resolves differently than when run %lld started (an ${env...} "
				"value may differ here); restore the environment, or resume with "
				"--allow-changed to accept the change on the record", (long long)run);
	char host[128] = "?";
	gethostname(host, sizeof host - 1);
	rc = eng_emit(e, NULL, NULL, e->o.operators[0], "run_resume",
		      json_pack("{s:s, s:I, s:s}", "host", host, "pid", (json_int_t)getpid(), "operators", e->operators), err);
	/* A step that was running when the program died ran an unknown part of
	 * its work: it comes back as interrupted and an operator decides. */
	for (size_t i = 0; rc == CUT_OK && i < e->fold.n; i++) {
		const struct fold_step *s = &e->fold.steps[i];
		if (s->st != FS_RUNNING)
			continue;
		json_t *t = json_array();
		for (size_t k = 0; k < s->nt; k++)
			if (s->t[k].st == FT_RUNNING)
				json_array_append_new(t, json_string(s->t[k].name));
		rc = eng_emit(e, e->rb->steps[i].id, NULL, e->o.operators[0], "interrupted",
			      json_pack("{s:o}", "targets", t), err);
	}
	return rc;
}

int engine_resume(const struct engine_opts *o, struct engine **out, struct audit_lock_holder *holder,
		  struct cut_err *err)
{
	*out = NULL;
	struct engine *e = calloc(1, sizeof *e);
	if (e == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	join_operators(e, o);
	/* The lock before the first read: the file may be some other console's. */
	int rc = audit_lock_take(o->audit, false, e->operators, o->take_over, &e->lock, holder, err);
	struct audit *a = NULL;
	struct audit_run r = {0};
	if (rc == CUT_OK)
		rc = audit_open(o->audit, false, &a, err);
	if (rc == CUT_OK)
		rc = audit_run_latest(a, true, &r, err);
	audit_close(a); /* reopened below, once runbook and inventory are loaded */
	if (rc == CUT_ENOTFOUND && a != NULL)
		rc = cut_fail(err, CUT_ENOTFOUND, "audit %s has no unfinished run to resume; start one with 'cutover run'",
			      o->audit);
	if (rc == CUT_OK)
		rc = eng_open(e, o, r.runbook, r.inventory, holder, err);
	if (rc == CUT_OK)
		rc = check_unchanged(e, &r, err);
	if (rc == CUT_OK)
		rc = audit_open(o->audit, false, &e->audit, err);
	if (rc == CUT_OK)
		rc = resume_run(e, r.id, err);
	audit_run_clear(&r);
	if (rc != CUT_OK) {
		engine_free(e);
		return rc;
	}
	*out = e;
	return CUT_OK;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	ssh_pool_free(e->pool);
	audit_close(e->audit);
	audit_lock_release(e->lock);
	plan_free(e->plan);
	rb_free(e->rb);
	inv_free(e->inv);
	fold_free(&e->fold);
	for (size_t i = 0; i < e->nsecrets; i++)
		free(e->secrets[i]);
	free(e->secrets);
	free(e->gates);
	free(e->live_json);
	free(e->preview);
	free(e->rb_path);
	free(e->inv_path);
	free(e->audit_path);
	pthread_mutex_destroy(&e->m);
	free(e);
}
