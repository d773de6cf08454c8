/*
 * ui: the full-screen ncursesw console. Only ui/ includes curses; the rest
 * of the program sees this header. Called from the main thread only.
 */
#ifndef CUTOVER_UI_H
#define CUTOVER_UI_H

/* ncurses' own version string, for `cutover --version`. */
const char *ui_curses_version(void);

#endif
