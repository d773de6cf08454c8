/*
 * ui: the full-screen ncursesw console. Only ui/ includes curses; the rest
 * of the program sees this header.
 *
 *   struct ui_queue *q = ui_queue_new();
 *   engine_opts.on_event = ui_on_event, .ud = q;   (before the engine opens)
 *   ui_run(engine, q, &opts, &err);                 (from the main thread)
 */
#ifndef CUTOVER_UI_H
#define CUTOVER_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/audit.h"
#include "cutover/err.h"

struct engine;
struct ui_queue;

struct ui_opts {
	const char *const *operators;  /* on duty at this console; the first is at the keyboard */
	size_t noperators;
};

/* ncurses' own version string, for `cutover --version`. */
const char *ui_curses_version(void);

struct ui_queue *ui_queue_new(void);
void ui_queue_free(struct ui_queue *q);
/* For engine_opts.on_event (ud: the queue); safe from any thread. */
void ui_on_event(void *ud, const struct audit_event *ev);
int ui_queue_fd(const struct ui_queue *q);

/* Run the console until the operators quit or the run ends and they leave.
 * The run stays resumable. Returns CUT_OK or an error (the terminal is restored). */
int ui_run(struct engine *e, struct ui_queue *q, const struct ui_opts *o, struct cut_err *err);

#endif
