/* diag: positioned messages (see include/cutover/diag.h). */
#include "cutover/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_add(struct diag_list *d, const char *file, int line, int col, enum diag_sev sev,
	      const char *fmt, ...)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *v = realloc(d->v, cap * sizeof *v);
		if (v == NULL)
			return; /* out of memory: the count below still fails the lint */
		d->v = v;
		d->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *msg = len < 0 ? NULL : malloc((size_t)len + 1);
	if (msg != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)len + 1, fmt, ap);
		va_end(ap);
	}
	struct diag *x = &d->v[d->n];
	x->file = strdup(file ? file : "-");
	x->line = line;
	x->col = col;
	x->sev = sev;
	x->msg = msg;
	if (x->file != NULL && x->msg != NULL)
		d->n++;
	else {
		free(x->file);
		free(x->msg);
	}
	if (sev == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
}

void diag_print(const struct diag_list *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];
		const char *sev = x->sev == DIAG_ERROR ? "error" : "warning";
		if (x->line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", x->file, x->line, x->col, sev, x->msg);
		else
			fprintf(out, "%s: %s: %s\n", x->file, sev, x->msg);
	}
}

const struct diag *diag_find(const struct diag_list *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle) != NULL)
			return &d->v[i];
	return NULL;
}

void diag_free(struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof *d);
}
