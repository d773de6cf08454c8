/*
 * diag: positioned messages about a file ("file:line:col: error: ...").
 * Loaders and lint add to one list and keep going, so an operator sees every
 * problem of a runbook at once instead of one per run.
 */
#ifndef CUTOVER_DIAG_H
#define CUTOVER_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum diag_sev { DIAG_ERROR, DIAG_WARNING };

struct diag {
	char *file;
	int line, col; /* 1-based; 0 = the whole file */
	enum diag_sev sev;
	char *msg;
};

struct diag_list {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
};

void diag_add(struct diag_list *d, const char *file, int line, int col, enum diag_sev sev,
	      const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void diag_print(const struct diag_list *d, FILE *out);
/* The first diagnostic whose message contains needle, or NULL (for tests). */
const struct diag *diag_find(const struct diag_list *d, const char *needle);
void diag_free(struct diag_list *d);

#endif
