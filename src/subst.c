/* subst: ${...} expansion and shell quoting (see include/cutover/subst.h). */
#include "cutover/subst.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested expansion depth: ${data_dir} -> ${home}/data -> ${lab}/zk/... */
/*
 * Depth alone does not bound an expansion: thirty variables that each name
 * the one before seven times are 7^8 lookups at depth 8. So every subst()
 * also has a budget of lookups (shared by the nested buffers of shell mode)
 * and of output bytes.
 */
enum { MAX_DEPTH = 8, MAX_LOOKUPS = 10000, MAX_OUT = 1 << 20 };

struct buf {
	char *p;
	size_t n, cap;
	bool oom, big;
	int *lookups; /* the budget of the whole subst() call */
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->lookups && b->n + n > MAX_OUT) { /* an expansion, not a plain quote */
		b->oom = b->big = true;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (p == NULL) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void put_quoted(struct buf *b, const char *s)
{
	put(b, "'", 1);
	for (; *s; s++) {
		if (*s == '\'')
			put(b, "'\\''", 4);
		else
			put(b, s, 1);
	}
	put(b, "'", 1);
}

static const char *node_field(const struct subst_scope *sc, const char *name, char *num, size_t numsz)
{
	const struct inv_zk_node *z = sc->zk;
	if (z != NULL) {
		if (strcmp(name, "node") == 0) return z->name;
		if (strcmp(name, "host") == 0) return z->host;
		if (strcmp(name, "home") == 0) return z->home;
		if (strcmp(name, "data_dir") == 0) return z->data_dir;
		if (strcmp(name, "data_log_dir") == 0) return z->data_log_dir;
		if (strcmp(name, "server_log") == 0) return z->server_log;
		if (strcmp(name, "myid") == 0) {
			snprintf(num, numsz, "%d", z->myid);
			return num;
		}
		if (strcmp(name, "ensemble") == 0) return sc->ensemble;
	}
	if (sc->ck != NULL) {
		if (strcmp(name, "node") == 0) return sc->ck->name;
		if (strcmp(name, "host") == 0) return sc->ck->host;
		if (strcmp(name, "metrika") == 0) return sc->ck->metrika;
	}
	if (sc->task != NULL && strcmp(name, "id") == 0)
		return sc->task->id;
	return NULL;
}

static int expand(struct buf *out, const char *tmpl, const struct subst_scope *sc, int mode,
		  int depth, struct cut_err *err);

/* Expand one ${name} into out (raw, unquoted). */
static int lookup(struct buf *out, const char *name, const struct subst_scope *sc, int mode,
		  int depth, struct cut_err *err)
{
	char num[16];
	if (++*out->lookups > MAX_LOOKUPS)
		return cut_fail(err, CUT_EINVAL, "variables expand to more than %d lookups (vars that name each other many times?)",
				MAX_LOOKUPS);
	if (strncmp(name, "env.", 4) == 0) {
		char var[256];
		const char *dfl = strstr(name, ":-");
		size_t n = dfl ? (size_t)(dfl - name - 4) : strlen(name + 4);
		if (n == 0 || n >= sizeof var)
			return cut_fail(err, CUT_EINVAL, "${%s} names no environment variable", name);
		memcpy(var, name + 4, n);
		var[n] = '\0';
		const char *v = getenv(var);
		if (v == NULL || *v == '\0') {
			if (dfl == NULL)
				return cut_fail(err, CUT_ENOTFOUND,
						"environment variable %s is not set; export it or write ${env.%s:-default}",
						var, var);
			v = dfl + 2;
		}
		put(out, v, strlen(v));
		return CUT_OK;
	}
	const char *v = node_field(sc, name, num, sizeof num);
	if (v == NULL && sc->inv != NULL) {
		const struct inv_var *iv = inv_var(sc->inv, name);
		if (iv != NULL) {
			if (iv->secret && (mode & SUBST_DISPLAY)) {
				put(out, "***", 3);
				return CUT_OK;
			}
			if (iv->env != NULL) {
				v = getenv(iv->env);
				if (v == NULL)
					return cut_fail(err, CUT_ENOTFOUND,
							"var '%s' comes from environment variable %s, which is not set; export it",
							name, iv->env);
				put(out, v, strlen(v));
				return CUT_OK;
			}
			v = iv->value;
		}
	}
	if (v == NULL)
		return cut_fail(err, CUT_ENOTFOUND, "unknown variable ${%s}; define it under the inventory's vars",
				name);
	return expand(out, v, sc, mode & ~SUBST_SHELL, depth + 1, err);
}

static int expand(struct buf *out, const char *tmpl, const struct subst_scope *sc, int mode,
		  int depth, struct cut_err *err)
{
	if (depth > MAX_DEPTH)
		return cut_fail(err, CUT_EINVAL, "variables nest deeper than %d levels (a var refers to itself?)",
				MAX_DEPTH);
	for (const char *s = tmpl; *s;) {
		const char *open = strstr(s, "${");
		if (open == NULL) {
			put(out, s, strlen(s));
			break;
		}
		put(out, s, (size_t)(open - s));
		const char *close = strchr(open + 2, '}');
		if (close == NULL)
			return cut_fail(err, CUT_EPARSE, "'${' without a closing '}' in '%s'", tmpl);
		char name[256];
		size_t n = (size_t)(close - open - 2);
		if (n == 0 || n >= sizeof name)
			return cut_fail(err, CUT_EPARSE, "empty or overlong ${} in '%s'", tmpl);
		memcpy(name, open + 2, n);
		name[n] = '\0';
		if (mode & SUBST_SHELL) {
			struct buf raw = {.lookups = out->lookups};
			int rc = lookup(&raw, name, sc, mode, depth, err);
			if (rc == CUT_OK)
				put_quoted(out, raw.p ? raw.p : "");
			out->oom |= raw.oom, out->big |= raw.big;
			free(raw.p);
			if (rc != CUT_OK)
				return rc;
		} else {
			int rc = lookup(out, name, sc, mode, depth, err);
			if (rc != CUT_OK)
				return rc;
		}
		s = close + 1;
	}
	if (out->big)
		return cut_fail(err, CUT_EINVAL, "'%.80s' expands past %d bytes; shorten the variables it names", tmpl, MAX_OUT);
	return out->oom ? cut_fail(err, CUT_ENOMEM, "out of memory expanding '%.80s'", tmpl) : CUT_OK;
}

char *subst(struct arena *a, const char *tmpl, const struct subst_scope *sc, int mode,
	    struct cut_err *err)
{
	int lookups = 0;
	struct buf b = {.lookups = &lookups};
	put(&b, "", 0);
	char *res = NULL;
	if (expand(&b, tmpl, sc, mode, 0, err) == CUT_OK)
		res = arena_strdup(a, b.p ? b.p : "");
	free(b.p);
	return res;
}

char *subst_shell_quote(struct arena *a, const char *s)
{
	struct buf b = {0};
	put_quoted(&b, s);
	char *res = b.oom ? NULL : arena_strdup(a, b.p);
	free(b.p);
	return res;
}
