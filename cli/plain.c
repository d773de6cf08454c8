/*
 * plain: the line-mode frontend. Same engine, same audit as the console; its
 * prompts are a stable interface for scripts and tests: each is one line
 * without a newline, ending in ": ", and says what it wants. When stdin is a
 * terminal, anything typed before a prompt appeared is thrown away, so a stray
 * Enter can never confirm the next step.
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cutover/engine.h"
#include "cutover/presence.h"
#include "cutover/shown.h"

/* The one piece of global state: what SIGINT cancels. A handler can reach
 * nothing else, and atomic_store on a lock-free int is async-signal-safe. */
static struct engine *volatile sigint_engine;

static void on_sigint(int sig)
{
	(void)sig;
	if (sigint_engine)
		engine_cancel(sigint_engine);
}

/* One plain session: the engine, who is at the keyboard, the input line. */
struct plain {
	struct engine *e;
	const char *me;
	char *line;
	size_t cap;
};

static char *ask(struct plain *pl, const char *prompt)
{
	if (isatty(STDIN_FILENO))
		tcflush(STDIN_FILENO, TCIFLUSH);
	fputs(prompt, stdout);
	fflush(stdout);
	ssize_t n = getline(&pl->line, &pl->cap, stdin);
	char *line = pl->line;
	if (n < 0) {
		fputc('\n', stdout);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	char *s = line;
	while (*s == ' ')
		s++;
	return s;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* n bytes a host sent, shown harmlessly (the audit keeps the bytes). */
static void put_shown(const char *p, size_t n)
{
	shown_put(stdout, p, n);
}

/* A message that may quote a host (an error body, a failed step's reason): prefix, then shown. */
static void say_shown(const char *prefix, const char *msg)
{
	fputs(prefix, stdout);
	put_shown(msg ? msg : "", msg ? strlen(msg) : 0);
	putchar('\n');
}

static void print_lines(const char *target, const char *mark, const char *text)
{
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		printf("  %s %s ", target, mark);
		put_shown(p, n);
		putchar('\n');
		p += n + (nl ? 1 : 0);
	}
}

void plain_on_event(void *ud, const struct audit_event *ev)
{
	(void)ud;
	json_t *p = ev->payload ? json_loads(ev->payload, 0, NULL) : NULL;
	const char *t = ev->target ? ev->target : "";
	if (strcmp(ev->kind, "output") == 0) {
		const char *stream = json_string_value(json_object_get(p, "stream"));
		const char *mark = stream && strcmp(stream, "stderr") == 0 ? "!" : stream && strcmp(stream, "stdout") == 0 ? "|" : ":";
		print_lines(t, mark, jstr(p, "text"));
	} else if (strcmp(ev->kind, "intent") == 0) {
		print_lines(t, ">", jstr(p, "op"));
	} else if (strcmp(ev->kind, "target_end") == 0) {
		const char *e = json_string_value(json_object_get(p, "error"));
		printf("  %s < %s", t, e ? "FAILED: " : "ok");
		put_shown(e ? e : "", e ? strlen(e) : 0);
		putchar('\n');
	} else if (strcmp(ev->kind, "interrupted") == 0) {
		printf("step %s was running when cutover stopped: it is interrupted\n", ev->step);
	}
	fflush(stdout);
	json_decref(p);
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

/* Show the step and its gates; ask; confirm; run. 1: stop here (resumable). */
/* The audit cannot be written (a full disk, an I/O error): asking again would
 * be refused again for ever. Say so and stop; the run stays resumable. A step
 * that failed on its own (even with an I/O error) goes to the usual decision. */
static bool audit_down(struct engine *e, const struct cut_err *err)
{
	if (!engine_audit_failed(e))
		return false;
	printf("the audit cannot be written: %s\nstopping here; free space (or mend the disk), then resume\n", err->msg);
	return true;
}

/* What the engine said about the step (gates, what confirming takes, where it
 * stands), shown harmlessly: a gate's reason may quote a host. */
static void describe(struct engine *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return;
	engine_describe(e, f);
	fclose(f);
	print_lines("", "", buf ? buf : "");
	free(buf);
}

static int confirm_and_run(struct plain *pl, size_t i)
{
	struct engine *e = pl->e;
	const struct rb_step *s = &engine_runbook(e)->steps[i];
	const struct gate_result *g;
	size_t ng;
	struct cut_err err = {0};
	printf("\n== step %zu of %zu: %s\n", i + 1, engine_runbook(e)->nsteps, s->id);
	if (s->description)
		print_lines("", "", s->description);
	plan_print_step(engine_plan(e), i, stdout);
	if (engine_prepare(e, i, &g, &ng, &err) != CUT_OK) {
		fprintf(stderr, "cutover: probing the site failed: %s\n", err.msg);
		return 1;
	}
	const struct policy_need *n = engine_need(e, i);
	describe(e);
	/* Plain mode is one terminal: outside tmux that is one engineer's. */
	struct presence pr;
	presence_read(&pr);
	int present = pr.n >= 0 ? pr.n : 1;
	char warn[256];
	if (policy_alone_warning(n, present, warn, sizeof warn))
		printf("  %s\n", warn);
	if (engine_preview(e))
		printf("    live preview:\n%s", engine_preview(e));
	char prompt[256], hint[160];
	snprintf(prompt, sizeof prompt, "confirm %s [yes/no]: ", s->id);
	policy_hint(n, hint, sizeof hint);
	char *a;
	while ((a = ask(pl, prompt)) != NULL && !is(a, "no") && !is(a, s->id) && !(n->yes_ok && is(a, "yes")))
		printf("%s\n", hint);
	if (a == NULL || is(a, "no"))
		return 1;
	char *typed = strdup(a), *op2 = NULL, *reason = NULL;
	if (n->two && (a = ask(pl, "second operator: ")) != NULL)
		op2 = strdup(a);
	if (n->reason && (!n->two || op2) && (a = ask(pl, "reason: ")) != NULL)
		reason = strdup(a);
	int rc = CUT_ECANCELED;
	if ((!n->two || op2) && (!n->reason || reason)) {
		struct policy_confirmation c = {.typed = typed, .first = {.name = pl->me}, .second = {.name = op2},
						.reason = reason, .present = present};
		rc = engine_confirm(e, i, &c, &err);
	}
	if (rc == CUT_OK && op2) /* one terminal: the audit says so, and so does the screen */
		printf("confirmed by %s and %s, both at this terminal (recorded so)\n", pl->me, op2);
	free(typed);
	free(op2);
	free(reason);
	if (rc != CUT_OK) {
		if (audit_down(e, &err) || err.code == 0)
			return 1; /* input ended */
		say_shown("not confirmed: ", err.msg);
		return rc == CUT_ECANCELED; /* else asked again, with a fresh probe */
	}
	sigint_engine = e;
	rc = engine_run(e, i, &err);
	sigint_engine = NULL;
	if (rc == CUT_OK && engine_fold(e)->steps[i].st == FS_SUCCEEDED)
		printf("step %s succeeded\n", s->id);
	else if (rc != CUT_OK)
		printf("step %s FAILED: ", s->id), say_shown("", err.msg);
	return rc != CUT_OK && audit_down(e, &err);
}

static int decide(struct plain *pl, size_t i, bool interrupted)
{
	struct engine *e = pl->e;
	const char *me = pl->me;
	const struct rb_step *s = &engine_runbook(e)->steps[i];
	const struct fold_step *fs = &engine_fold(e)->steps[i];
	const char *prompt = interrupted ? "choice [rerun/done/rollback]: " : "choice [retry/skip/rollback/abort]: ";
	if (!interrupted) {
		printf("\nstep %s failed%s", s->id, fs->error ? ": " : "");
		put_shown(fs->error ? fs->error : "", fs->error ? strlen(fs->error) : 0);
		printf("; the runbook says on failure: %s\n", s->on_failure ? s->on_failure : "stop");
	} else {
		printf("\nstep %s was interrupted: it may have run in part; check before you choose\n", s->id);
	}
	char *a = ask(pl, prompt);
	if (a == NULL)
		return 1;
	char *choice = strdup(a), *reason = NULL;
	if (is(choice, "skip") || is(choice, "done")) {
		if ((a = ask(pl, "reason: ")) == NULL) {
			free(choice);
			return 1;
		}
		reason = strdup(a);
	}
	struct cut_err err = {0};
	if (engine_decide(e, i, choice, me, reason, &err) != CUT_OK)
		say_shown("not done: ", err.msg);
	else if (is(choice, "rollback"))
		printf("\n== rollback: %s\n", engine_runbook(e)->name ? engine_runbook(e)->name : "");
	free(choice);
	free(reason);
	return 0;
}

static int manual(struct plain *pl, size_t i)
{
	struct engine *e = pl->e;
	const char *me = pl->me;
	const struct rb_step *s = &engine_runbook(e)->steps[i];
	const struct rb_param *p = rb_param(s, "instructions");
	printf("  do this by hand: %s\n", p && p->value ? p->value : s->description ? s->description : s->title);
	char prompt[256];
	snprintf(prompt, sizeof prompt, "done %s [yes/no]: ", s->id);
	char *a;
	while ((a = ask(pl, prompt)) != NULL && !is(a, "yes") && !is(a, "no"))
		printf("type yes when it is done, no if it could not be done\n");
	if (a == NULL)
		return 1;
	bool done = is(a, "yes");
	char *note = ask(pl, "note (Enter for none): ");
	struct cut_err err = {0};
	if (engine_manual_done(e, i, me, done, note, &err) != CUT_OK)
		return audit_down(e, &err) ? 1 : (say_shown("not recorded: ", err.msg), 0);
	return 0;
}

int plain_drive(struct engine *e, const char *me, const char *audit)
{
	struct sigaction sa = {.sa_handler = on_sigint}; /* no SA_RESTART: a prompt returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	struct plain pl = {.e = e, .me = me};
	int stop = 0;
	for (;;) {
		size_t i;
		enum engine_need need = engine_next(e, &i);
		if (need == ENG_END || stop)
			break;
		stop = need == ENG_CONFIRM ? confirm_and_run(&pl, i)
		     : need == ENG_MANUAL ? manual(&pl, i)
		     : decide(&pl, i, need == ENG_INTERRUPTED);
	}
	free(pl.line);
	const char *outcome = engine_fold(e)->outcome;
	if (outcome) {
		printf("\nrun %lld: %s\n", (long long)engine_run_id(e), outcome);
		return is(outcome, "succeeded") ? CLI_OK : CLI_FAIL;
	}
	printf("\nstopped; the run stays open: cutover resume --audit %s\n", audit);
	return CLI_FAIL;
}
