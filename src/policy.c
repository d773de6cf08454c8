/*
 * policy: what a step needs before it runs (see include/cutover/policy.h).
 * Pure functions of the runbook, the gates and what the frontend says about
 * who typed where: the engine calls them, the frontends show their text.
 */
#include "cutover/policy.h"

#include <string.h>

#include "cutover/action.h"

void policy_need_of(const struct runbook *rb, size_t i, const struct gate_result *g, size_t ng, bool refuse_alone,
		    int64_t started_ms, int64_t now_ms, struct policy_need *out)
{
	const struct rb_step *s = &rb->steps[i];
	memset(out, 0, sizeof *out);
	out->id = s->id ? s->id : "?";
	out->yes_ok = s->simple;
	for (size_t k = 0; k < ng && out->failing_gate == NULL; k++)
		if (!g[k].ok)
			out->failing_gate = g[k].gate, out->failing_why = g[k].why;
	out->reason = out->failing_gate != NULL;
	size_t pnr = rb_pnr_index(rb);
	out->pnr = pnr >= rb->nsteps ? POLICY_NO_PNR : i < pnr ? POLICY_BEFORE_PNR : i == pnr ? POLICY_AT_PNR
									       : POLICY_AFTER_PNR;
	out->pnr_step = rb->point_of_no_return;
	/* The strongest reason is the one named: an override outweighs the runbook's word. */
	if (out->reason)
		out->two = true, out->why_two = "overriding a gate";
	else if (out->pnr == POLICY_AT_PNR)
		out->two = true, out->why_two = "the point of no return";
	else if (s->confirm && strcmp(s->confirm, "two") == 0)
		out->two = true, out->why_two = "this step (confirm: two)";
	const struct action_ops *ops = s->action ? action_find(s->action) : NULL;
	out->destructive = ops && ops->destructive;
	out->refuse_alone = refuse_alone;
	out->rollback = rb->rollback;
	if (rb->kind && strcmp(rb->kind, "rollback") == 0 && rb->budget_ms > 0) {
		out->budget_ms = rb->budget_ms;
		out->budget_left_ms = rb->budget_ms - (started_ms > 0 ? now_ms - started_ms : 0);
	}
}

static bool has_login(const struct inventory *inv, const char *name, const char **login)
{
	*login = NULL;
	for (size_t i = 0; name && i < inv->operators.n; i++)
		if (strcmp(inv->operators.v[i], name) == 0) {
			const char *l = i < inv->operator_logins.n ? inv->operator_logins.v[i] : NULL;
			*login = l && *l ? l : NULL;
			return true;
		}
	return false;
}

int policy_check(const struct policy_need *n, const struct inventory *inv, const struct policy_confirmation *c,
		 bool *second_refused, struct cut_err *err)
{
	const char *login;
	*second_refused = false;
	if (c->typed == NULL || !(strcmp(c->typed, n->id) == 0 || (n->yes_ok && strcmp(c->typed, "yes") == 0))) {
		char hint[160];
		policy_hint(n, hint, sizeof hint);
		return cut_fail(err, CUT_EREFUSED, "%s", hint);
	}
	if (!has_login(inv, c->first.name, &login))
		return cut_fail(err, CUT_EINVAL, "'%s' is not an operator on duty", c->first.name ? c->first.name : "");
	if (login && c->first.login && strcmp(login, c->first.login) != 0)
		return cut_fail(err, CUT_EREFUSED, "%s confirms from their own login (%s); the client that typed runs as %s",
				c->first.name, login, c->first.login);
	if (policy_alone_refused(n, c->present))
		return cut_fail(err, CUT_EREFUSED, "refused: %s changes data and %d engineer%s attached; the second one "
				"attaches to this tmux session first", n->id, c->present, c->present == 1 ? " is" : "s are");
	if (n->reason && (c->reason == NULL || *c->reason == '\0'))
		return cut_fail(err, CUT_EREFUSED, "gate %s does not hold (%s); overriding needs two operators and a typed "
				"reason", n->failing_gate, n->failing_why);
	if (!n->two)
		return CUT_OK;
	*second_refused = true;
	const char *two = c->second.name;
	if (two == NULL || *two == '\0')
		return cut_fail(err, CUT_EREFUSED, "%s needs a second operator", n->why_two);
	if (!has_login(inv, two, &login))
		return cut_fail(err, CUT_EINVAL, "'%s' is not an operator on duty", two);
	if (strcmp(two, c->first.name) == 0)
		return cut_fail(err, CUT_EREFUSED, "%s needs two different operators; %s confirmed already", n->why_two, two);
	/* Names are typed; the client is not: one keyboard cannot be two people. */
	if (c->first.client && c->second.client && strcmp(c->first.client, c->second.client) == 0)
		return cut_fail(err, CUT_EREFUSED, "%s confirms from their own tmux client, not from %s's (%s)", two,
				c->first.name, c->first.client);
	if (login && c->second.login && strcmp(login, c->second.login) != 0)
		return cut_fail(err, CUT_EREFUSED, "%s confirms from their own login (%s); the client that typed runs as %s",
				two, login, c->second.login);
	*second_refused = false;
	return CUT_OK;
}

static void fmt_dur(char *buf, size_t n, int64_t ms)
{
	int64_t s = (ms < 0 ? -ms : ms) / 1000;
	if (s >= 60)
		snprintf(buf, n, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, n, "%llds", (long long)s);
}

bool policy_alone_refused(const struct policy_need *n, int present)
{
	return n->destructive && n->refuse_alone && present >= 0 && present < 2;
}

const char *policy_alone_warning(const struct policy_need *n, int present, char *buf, size_t len)
{
	if (!n->destructive || present >= 2)
		return NULL;
	if (present < 0)
		snprintf(buf, len, "warning: this step changes data and this console is not in tmux: no one can see who "
			 "else is watching");
	else
		snprintf(buf, len, "warning: this step changes data and %d engineer%s attached; a second should watch it%s",
			 present, present == 1 ? " is" : "s are",
			 n->refuse_alone ? " (alone: refuse: it will be refused)" : " (alone: refuse makes this a refusal)");
	return buf;
}

void policy_hint(const struct policy_need *n, char *buf, size_t len)
{
	if (n->yes_ok)
		snprintf(buf, len, "type %s (or yes) to run it, no to stop here", n->id);
	else
		snprintf(buf, len, "type %s to run it, no to stop here (yes confirms only a step marked simple)", n->id);
}

void policy_describe(const struct policy_need *n, const struct gate_result *g, size_t ng, FILE *out)
{
	for (size_t i = 0; i < ng; i++)
		fprintf(out, "gate %s: %s (%s)\n", g[i].gate, g[i].ok ? "ok" : "FAILS", g[i].why);
	if (n->reason)
		fprintf(out, "a gate fails: confirming overrides it, which needs a second operator and a reason\n");
	fprintf(out, "to confirm: type %s%s", n->id, n->yes_ok ? " (or yes)" : "");
	if (n->two)
		fprintf(out, "; then a second operator (%s)", n->why_two);
	if (n->destructive)
		fprintf(out, "; it changes data: two engineers attached%s", n->refuse_alone ? ", or it is refused" : "");
	fputc('\n', out);
	if (n->pnr == POLICY_AT_PNR)
		fprintf(out, "this is the point of no return: after it a rollback must carry new writes back\n");
	else if (n->pnr == POLICY_AFTER_PNR)
		fprintf(out, "past the point of no return (%s): a rollback now carries new writes back\n", n->pnr_step);
	else if (n->pnr == POLICY_BEFORE_PNR)
		fprintf(out, "before the point of no return (%s)\n", n->pnr_step);
	if (n->budget_ms > 0) {
		char left[32], all[32];
		fmt_dur(left, sizeof left, n->budget_left_ms);
		fmt_dur(all, sizeof all, n->budget_ms);
		fprintf(out, "rollback budget: %s %s (of %s)\n", n->budget_left_ms < 0 ? "OVER by" : "left", left, all);
	} else if (n->rollback) {
		fprintf(out, "rollback, if it comes to that: %s\n", n->rollback);
	}
}
