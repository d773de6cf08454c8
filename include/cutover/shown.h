/*
 * shown: text that came from outside (a host's output, a runbook's title, a
 * variable's value) printed harmlessly on a terminal. A terminal obeys control
 * characters: ESC sequences clear the screen or set the title, \r overwrites
 * the line an operator reads, \n starts a line that looks like the tool's own.
 * C0 controls but tab, and DEL, print as ^X; C1 controls (U+0080-U+009F in
 * UTF-8) as <U+XXXX>. What is stored (the audit, JSON) keeps the bytes.
 */
#ifndef CUTOVER_SHOWN_H
#define CUTOVER_SHOWN_H

#include <stddef.h>
#include <stdio.h>

void shown_put(FILE *f, const char *p, size_t n);
/* s may be NULL (prints nothing). */
void shown_puts(FILE *f, const char *s);

#endif
