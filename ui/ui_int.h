/*
 * ui_int: the console's private parts (ui/ only). Three threads:
 *
 *   the UI thread    reads keys, folds events, draws; never waits on anything
 *                    but poll(stdin, wake pipe) with a short timeout
 *   the engine thread runs every engine call (prepare, confirm + run, decide,
 *                    note, manual done) one after another, so a step that
 *                    takes ten minutes never holds a key
 *   the probe thread  probes the site every two seconds with its own SSH pool
 *
 * The two workers hand results over through one queue and a wake-up pipe
 * (ui_queue.c); events come through the engine's on_event hook into the same
 * queue, and the UI folds them into its own fold, the same fold resume and
 * replay use.
 */
#ifndef CUTOVER_UI_INT_H
#define CUTOVER_UI_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <wchar.h>

#include "cutover/engine.h"
#include "cutover/fold.h"
#include "cutover/plan.h"
#include "cutover/presence.h"
#include "cutover/probe.h"
#include "cutover/runbook.h"
#include "cutover/ui.h"

/* ---- the queue (ui_queue.c) -------------------------------------------------------------- */

enum ui_msg_kind {
	UM_EVENT,  /* an audit event (copied) */
	UM_LIVE,   /* a probe snapshot */
	UM_DONE,   /* the engine thread finished a command: rc, text */
	UM_NEED,   /* what the run needs now (engine_next) */
};

struct ui_node_probe {
	struct zk_status st;
	const struct inv_zk_node *node;
	const char *ensemble;
};

struct ui_snapshot {
	struct live live;               /* ClickHouse and writer tasks */
	struct ui_node_probe *zk;       /* every ZooKeeper node, full probe */
	size_t nzk;
	char (*ck_file)[16];            /* per ClickHouse node: the ensemble its metrika.xml lists */
	long long *ck_ro;               /* per ClickHouse node: read-only replicas, -1 unknown */
	int64_t at_ms;
	struct presence pres; /* inside tmux: the clients attached, and which typed last */
	char attached[256];   /* presence_text of it */
};

struct ui_msg {
	enum ui_msg_kind kind;
	struct audit_event ev;     /* UM_EVENT: strings owned by the message */
	struct ui_snapshot *snap;  /* UM_LIVE */
	int rc;                    /* UM_DONE */
	int cmd;                   /* UM_DONE: which command (enum ui_cmd_kind) */
	char *text;                /* UM_DONE: gates and preview, or the error */
	bool failing, two;         /* UM_DONE after a prepare */
	struct policy_need need_info; /* UM_DONE after a prepare: what confirming takes */
	enum engine_need need;     /* UM_NEED */
	size_t step;               /* UM_DONE, UM_NEED */
	struct ui_msg *next;
};

struct ui_queue {
	pthread_mutex_t m;
	struct ui_msg *head, *tail;
	int pipe[2]; /* one byte per push wakes the UI's poll */
};

void ui_msg_free(struct ui_msg *m);
void ui_snapshot_free(struct ui_snapshot *s);
void uq_push(struct ui_queue *q, struct ui_msg *m);
/* Everything queued, oldest first (the caller frees each with ui_msg_free). */
struct ui_msg *uq_take(struct ui_queue *q);

/* ---- the engine thread (ui_worker.c) ----------------------------------------------------------- */

enum ui_cmd_kind { UC_PREPARE, UC_RUN, UC_DECIDE, UC_NOTE, UC_MANUAL, UC_NEXT };

struct ui_cmd {
	enum ui_cmd_kind kind;
	size_t step;
	char op1[64], op2[64], choice[16], text[512];
	bool done;
	/* UC_RUN: what was typed, and at which tmux client (tty, Unix user) */
	char typed[64], client1[64], login1[64], client2[64], login2[64];
	int present;
	struct ui_cmd *next;
};

struct ui_workers;
struct ui_workers *ui_workers_start(struct engine *e, struct ui_queue *q, struct cut_err *err);
/* Queue a command for the engine thread; false when one is still running (the UI says "busy"). */
bool ui_workers_send(struct ui_workers *w, const struct ui_cmd *c);
bool ui_workers_busy(struct ui_workers *w);
void ui_workers_stop(struct ui_workers *w);

/* ---- text in display cells (ui_text.c) ------------------------------------------------------- */

/* Display width of a UTF-8 string (wcwidth per character; invalid bytes count 1). */
int ui_width(const char *s);
/* The longest prefix of s that fits in cells, in bytes; *used gets its width. */
size_t ui_fit(const char *s, int cells, int *used);

#endif

/* ---- the console's state (ui.c, ui_draw.c) ------------------------------------------------------ */

enum ui_mode {
	UI_MAIN,
	UI_CONFIRM,  /* typing the step id (or yes) */
	UI_SECOND,   /* typing the second operator's name */
	UI_REASON,   /* typing a reason (override, skip, done) */
	UI_DECIDE,   /* typing retry/skip/rollback/abort (or rerun/done) */
	UI_MANUAL,   /* typing done / not done */
	UI_NOTE,
	UI_CANCEL,   /* typing yes to cancel the running step */
	UI_QUIT,     /* typing quit while a step is in flight */
	UI_SEARCH,
	UI_HELP,
};

struct ui_out {
	char *step, *target, *text;
};

struct ui_prog {
	char step[64], target[64], what[96];
	uint64_t done, total, first_done;
	int64_t first_ms, last_ms;
};

#define UI_MAX_ENS 8

struct ui {
	struct engine *e;
	struct ui_queue *q;
	struct ui_workers *w;
	const struct ui_opts *o;
	const struct inventory *inv;
	/* the UI's own copy of the run's runbook and plan (a rollback swaps the engine's) */
	struct runbook *rb;
	struct plan *plan;
	char **plan_text;
	struct fold fold;
	const char *ops[8];
	size_t nops, at; /* ops[at] is at the keyboard */
	size_t sel;
	int scroll; /* output lines up from the newest */
	bool detail;
	enum ui_mode mode;
	char input[256];
	/* the step being confirmed or decided */
	size_t act_step;
	char *prepared; /* gates and preview, NULL while probing */
	bool failing, two, preparing;
	char op2[64], choice[16];
	enum engine_need need;
	size_t need_step;
	bool need_known;
	char msg[300];
	int64_t msg_ms;
	/* what the panes show */
	struct ui_snapshot *snap;
	int64_t zk_ok_ms[64]; /* per node: when it last answered */
	char leader[UI_MAX_ENS][64];
	int64_t leader_since[UI_MAX_ENS], leader_flash[UI_MAX_ENS];
	struct ui_out *out;
	size_t nout, capout;
	struct ui_prog prog[32];
	size_t nprog;
	char search[128];
	int64_t t0;
	bool color, quit;
	struct presence pres; /* the tmux clients attached, from the last probe round */
	char attached[256];
	struct policy_need need_info; /* the prepared step's (policy.h) */
	char op1[64], typed[64], client1[64], login1[64]; /* the first confirmation, until the second */
	char client2[64], login2[64];
};

/* ui.c: a line for the message bar */
void ui_say(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ui_keys.c: one key, in whatever mode the console is */
void ui_key(struct ui *u, wint_t c, bool fn);

/* ui_draw.c */
void ui_draw(struct ui *u);
/* Who is at the keyboard. */
const char *ui_me(const struct ui *u);
/* The Unix login an operator's tmux client runs under: the inventory's, else the name itself. */
const char *ui_login_of(const struct ui *u, const char *op);
