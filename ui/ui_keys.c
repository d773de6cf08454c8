/*
 * ui_keys: what each key does. No step runs on a keystroke: Enter opens a
 * dialog, and only a typed word (the step's id, or yes for a step marked
 * simple; retry / skip / rollback / abort after a failure) sends anything to
 * the engine, one command at a time, so no key sequence confirms two steps.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui_int.h"

#define KEY_ESC 27

static void to_main(struct ui *u)
{
	u->mode = UI_MAIN;
	u->input[0] = '\0';
}

static void send(struct ui *u, struct ui_cmd *c)
{
	if (!ui_workers_send(u->w, c))
		ui_say(u, "the engine is busy with the previous command; try again when it is done");
	to_main(u);
}

static void send_run(struct ui *u, const char *reason)
{
	struct ui_cmd c = {.kind = UC_RUN, .step = u->act_step, .present = u->pres.n};
	snprintf(c.op1, sizeof c.op1, "%s", u->op1);
	snprintf(c.op2, sizeof c.op2, "%s", u->two ? u->op2 : "");
	snprintf(c.text, sizeof c.text, "%s", reason ? reason : "");
	snprintf(c.typed, sizeof c.typed, "%s", u->typed);
	snprintf(c.client1, sizeof c.client1, "%s", u->client1);
	snprintf(c.login1, sizeof c.login1, "%s", u->login1);
	snprintf(c.client2, sizeof c.client2, "%s", u->two ? u->client2 : "");
	snprintf(c.login2, sizeof c.login2, "%s", u->two ? u->login2 : "");
	send(u, &c);
	ui_say(u, "%s confirmed by %s%s%s; running", u->rb->steps[u->act_step].id, u->op1, u->two ? " and " : "",
	       u->two ? u->op2 : "");
}

static void send_decide(struct ui *u, const char *reason)
{
	struct ui_cmd c = {.kind = UC_DECIDE, .step = u->act_step};
	snprintf(c.op1, sizeof c.op1, "%s", ui_me(u));
	snprintf(c.choice, sizeof c.choice, "%s", u->choice);
	snprintf(c.text, sizeof c.text, "%s", reason ? reason : "");
	send(u, &c);
}

/* Notes go straight to the engine (its appends are locked), even while a step runs. */
struct note {
	struct engine *e;
	char op[64], text[512];
};

static void *note_main(void *ud)
{
	struct note *n = ud;
	struct cut_err err;
	engine_note(n->e, n->op, n->text, &err);
	free(n);
	return NULL;
}

static void send_note(struct ui *u, const char *text)
{
	struct note *n = calloc(1, sizeof *n);
	pthread_t th;
	pthread_attr_t a;
	if (n == NULL)
		return;
	n->e = u->e;
	snprintf(n->op, sizeof n->op, "%s", ui_me(u));
	snprintf(n->text, sizeof n->text, "%s", text);
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &a, note_main, n) != 0)
		note_main(n);
	pthread_attr_destroy(&a);
	ui_say(u, "note recorded under %s", ui_me(u));
}

static void open_dialog(struct ui *u)
{
	if (!u->need_known || ui_workers_busy(u->w)) {
		ui_say(u, "a step is in flight (c cancels it, asking first)");
		return;
	}
	u->act_step = u->need_step;
	u->input[0] = '\0';
	switch (u->need) {
	case ENG_CONFIRM: {
		u->mode = UI_CONFIRM;
		free(u->prepared);
		u->prepared = NULL;
		u->preparing = true;
		u->sel = u->act_step;
		struct ui_cmd c = {.kind = UC_PREPARE, .step = u->act_step};
		if (!ui_workers_send(u->w, &c))
			to_main(u), ui_say(u, "the engine is busy; try again");
		break;
	}
	case ENG_FAILED:
	case ENG_INTERRUPTED:
		u->mode = UI_DECIDE;
		u->sel = u->act_step;
		break;
	case ENG_MANUAL:
		u->mode = UI_MANUAL;
		break;
	case ENG_END:
		ui_say(u, "the run is over (%s); q leaves", u->fold.outcome ? u->fold.outcome : "ended");
		break;
	}
}

/*
 * Which tmux client typed what was just submitted: asked of tmux now, not
 * taken from the last probe round (two seconds old). Outside tmux both stay
 * empty and the engine records one terminal. False when two clients typed in
 * the same second (tmux counts whole seconds): no proof of who; try again.
 */
static bool typed_at(struct ui *u, char *client, char *login, size_t n, bool follow)
{
	presence_read(&u->pres);
	client[0] = login[0] = '\0';
	if (u->pres.n <= 0) /* not in tmux, or keys sent to a session no one attached */
		return true;
	if (u->pres.active < 0) {
		ui_say(u, "two clients typed in the same second; press Enter again from yours");
		return false;
	}
	const struct presence_client *c = &u->pres.c[u->pres.active];
	snprintf(client, n, "%s", c->tty);
	snprintf(login, n, "%s", c->user);
	/* engineers under their own logins: the one whose client typed is at the keyboard */
	for (size_t i = 0; follow && i < u->nops; i++)
		if (strcmp(ui_login_of(u, u->ops[i]), c->user) == 0)
			u->at = i;
	return true;
}

static void submit_confirm(struct ui *u)
{
	const struct rb_step *s = &u->rb->steps[u->act_step];
	const struct policy_need *n = &u->need_info;
	if (u->preparing) {
		ui_say(u, "still probing the site for %s", s->id);
		return;
	}
	if (strcmp(u->input, s->id) != 0 && !(n->yes_ok && strcmp(u->input, "yes") == 0)) {
		char hint[160];
		policy_hint(n, hint, sizeof hint);
		ui_say(u, "%s; Esc goes back", hint);
		u->input[0] = '\0';
		return;
	}
	if (!typed_at(u, u->client1, u->login1, sizeof u->client1, true))
		return;
	snprintf(u->typed, sizeof u->typed, "%.63s", u->input);
	snprintf(u->op1, sizeof u->op1, "%s", ui_me(u));
	u->input[0] = '\0';
	/* a refusal for presence comes first, from the engine, before anyone is asked for more */
	if (policy_alone_refused(n, u->pres.n))
		return send_run(u, NULL);
	if (u->two) {
		u->mode = UI_SECOND;
		return;
	}
	send_run(u, NULL);
}

static void submit_second(struct ui *u)
{
	if (!engine_on_duty(u->e, u->input) || strcmp(u->input, u->op1) == 0) {
		ui_say(u, "'%s' is not a second operator on duty (not %s)", u->input, u->op1);
		u->input[0] = '\0';
		return;
	}
	if (!typed_at(u, u->client2, u->login2, sizeof u->client2, false))
		return;
	snprintf(u->op2, sizeof u->op2, "%.63s", u->input);
	u->input[0] = '\0';
	if (u->failing) {
		u->choice[0] = '\0'; /* the reason is an override's */
		u->mode = UI_REASON;
		return;
	}
	send_run(u, NULL);
}

static void submit_decide(struct ui *u)
{
	static const char *const failed[] = {"retry", "skip", "rollback", "abort", NULL};
	static const char *const intr[] = {"rerun", "done", "rollback", "abort", NULL};
	const char *const *ok = u->need == ENG_INTERRUPTED ? intr : failed;
	for (size_t i = 0; ok[i]; i++)
		if (strcmp(u->input, ok[i]) == 0) {
			snprintf(u->choice, sizeof u->choice, "%s", ok[i]);
			u->input[0] = '\0';
			if (strcmp(ok[i], "skip") == 0 || strcmp(ok[i], "done") == 0) {
				u->mode = UI_REASON;
				return;
			}
			return send_decide(u, NULL);
		}
	ui_say(u, "type one of: %s %s %s %s", ok[0], ok[1], ok[2], ok[3]);
	u->input[0] = '\0';
}

static void submit(struct ui *u)
{
	switch (u->mode) {
	case UI_CONFIRM: submit_confirm(u); break;
	case UI_SECOND: submit_second(u); break;
	case UI_REASON:
		if (u->input[0] == '\0')
			return ui_say(u, "a reason, please: it goes in the audit");
		if (u->choice[0])
			send_decide(u, u->input);
		else
			send_run(u, u->input);
		break;
	case UI_DECIDE: submit_decide(u); break;
	case UI_MANUAL:
		if (strcmp(u->input, "done") == 0 || strcmp(u->input, "not done") == 0) {
			struct ui_cmd c = {.kind = UC_MANUAL, .step = u->act_step, .done = u->input[0] == 'd'};
			snprintf(c.op1, sizeof c.op1, "%s", ui_me(u));
			send(u, &c);
		} else {
			ui_say(u, "type done or not done");
			u->input[0] = '\0';
		}
		break;
	case UI_NOTE:
		if (u->input[0])
			send_note(u, u->input);
		to_main(u);
		break;
	case UI_CANCEL:
		if (strcmp(u->input, "yes") == 0)
			engine_cancel(u->e), ui_say(u, "cancel asked: the running command is being stopped");
		to_main(u);
		break;
	case UI_QUIT:
		if (strcmp(u->input, "quit") == 0)
			engine_cancel(u->e), u->quit = true;
		to_main(u);
		break;
	case UI_SEARCH:
		snprintf(u->search, sizeof u->search, "%.127s", u->input);
		u->scroll = 0;
		to_main(u);
		break;
	default:
		to_main(u);
	}
}

static void edit(struct ui *u, wint_t wc)
{
	size_t n = strlen(u->input);
	if (wc == KEY_BACKSPACE || wc == 127 || wc == 8) {
		while (n > 0 && ((unsigned char)u->input[n - 1] & 0xC0) == 0x80)
			n--; /* continuation bytes of the last character */
		if (n > 0)
			n--;
		u->input[n] = '\0';
		return;
	}
	char mb[MB_LEN_MAX];
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t k = wc >= 32 ? wcrtomb(mb, (wchar_t)wc, &st) : (size_t)-1;
	if (k != (size_t)-1 && n + k + 1 < sizeof u->input) {
		memcpy(u->input + n, mb, k);
		u->input[n + k] = '\0';
	}
}

static void main_key(struct ui *u, wint_t c, bool fn)
{
	size_t n = u->rb ? u->rb->nsteps : 0;
	if ((fn && c == KEY_UP) || (!fn && c == 'k'))
		u->sel = u->sel > 0 ? u->sel - 1 : 0, u->scroll = 0;
	else if ((fn && c == KEY_DOWN) || (!fn && c == 'j'))
		u->sel = u->sel + 1 < n ? u->sel + 1 : u->sel, u->scroll = 0;
	else if (fn && c == KEY_PPAGE)
		u->scroll += 10;
	else if (fn && c == KEY_NPAGE)
		u->scroll = u->scroll > 10 ? u->scroll - 10 : 0;
	else if ((fn && c == KEY_ENTER) || (!fn && (c == '\n' || c == '\r')))
		open_dialog(u);
	else if (fn)
		return;
	else if (c == 'd')
		u->detail = !u->detail;
	else if (c == 'n')
		u->mode = UI_NOTE;
	else if (c == 'o' && u->nops > 1)
		u->at = (u->at + 1) % u->nops, ui_say(u, "%s is at the keyboard now", ui_me(u));
	else if (c == 'o')
		ui_say(u, "only %s is on duty at this console (--operator NAME,NAME names more)", ui_me(u));
	else if (c == 'c')
		ui_workers_busy(u->w) ? (void)(u->mode = UI_CANCEL) : ui_say(u, "nothing is running");
	else if (c == 'q')
		ui_workers_busy(u->w) ? (void)(u->mode = UI_QUIT) : (void)(u->quit = true);
	else if (c == '?')
		u->mode = UI_HELP;
	else if (c == '/')
		u->mode = UI_SEARCH;
}

void ui_key(struct ui *u, wint_t c, bool fn)
{
	if (fn && c == KEY_RESIZE)
		return; /* the next draw measures the new size */
	if (u->mode == UI_HELP) {
		to_main(u);
		return;
	}
	if (u->mode == UI_MAIN)
		return main_key(u, c, fn);
	if (!fn && c == KEY_ESC) {
		ui_say(u, "back; nothing was sent");
		return to_main(u);
	}
	if ((fn && c == KEY_ENTER) || (!fn && (c == '\n' || c == '\r')))
		return submit(u);
	if (fn && c != KEY_BACKSPACE)
		return;
	edit(u, c);
}
