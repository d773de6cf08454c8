/*
 * arena: one allocation region per loaded document. Everything a loaded
 * runbook or inventory owns (strings, arrays) comes from its arena and is
 * freed with it, so a half-built document on an error path leaks nothing.
 * Not thread-safe; an arena belongs to the thread that builds the document.
 */
#ifndef CUTOVER_ARENA_H
#define CUTOVER_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Zeroed memory, or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
