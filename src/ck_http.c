/*
 * ck_http: queries to a ClickHouse node over its HTTP interface (libcurl).
 * The user comes from the inventory and the password from the environment
 * variable it names, so neither is ever in a file, the audit or the screen.
 * Names a server sends back (databases, tables, paths) are hostile text:
 * they reach SQL only through ck_table_sql, a shell only quoted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"
#include "ck_int.h"
#include "http.h"

int ck_query(const struct inv_ck_node *ck, const char *sql, int timeout_ms, char **out, struct cut_err *err)
{
	char url[300], user[200] = "", key[300] = "";
	snprintf(url, sizeof url, "http://%s:%d/", ck->host, ck->http_port ? ck->http_port : 8123);
	const char *hdr[3] = {NULL, NULL, NULL};
	size_t n = 0;
	if (ck->user)
		snprintf(user, sizeof user, "X-ClickHouse-User: %s", ck->user), hdr[n++] = user;
	const char *pw = ck->password_env ? getenv(ck->password_env) : NULL;
	if (pw) /* a header, never the URL: URLs end up in logs */
		snprintf(key, sizeof key, "X-ClickHouse-Key: %s", pw), hdr[n++] = key;
	long code;
	int rc = http_request(url, sql, hdr, timeout_ms, out, &code, err);
	if (rc == CUT_OK && code != 200) {
		rc = cut_fail(err, CUT_EREMOTE, "%s: %.300s", ck->name, *out);
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* A query whose answer is one number; -1 on failure (err filled). */
long long ck_number(const struct inv_ck_node *ck, const char *sql, int timeout_ms, struct cut_err *err)
{
	char *out = NULL;
	if (ck_query(ck, sql, timeout_ms, &out, err) != CUT_OK)
		return -1;
	char *end;
	long long v = strtoll(out, &end, 10);
	if (end == out) {
		cut_fail(err, CUT_EPARSE, "%s: '%.60s' is not a number (query: %.80s)", ck->name, out, sql);
		v = -1;
	}
	free(out);
	return v;
}

long long ck_readonly_replicas(const struct inv_ck_node *ck, int timeout_ms, struct cut_err *err)
{
	return ck_number(ck, "SELECT count() FROM system.replicas WHERE is_readonly", timeout_ms, err);
}

void ck_tsv_unescape(char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		if (*p != '\\' || p[1] == '\0') {
			*w++ = *p;
			continue;
		}
		switch (*++p) {
		case 't': *w++ = '\t'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case '0': *w++ = '\0'; break; /* cuts the name: it is refused where used */
		default: *w++ = *p; break;    /* \\, \', and anything else stands for itself */
		}
	}
	*w = '\0';
}

/* name backquoted, its backslashes and backquotes escaped: one identifier whatever it holds */
static size_t put_ident(char *out, const char *name)
{
	size_t k = 0;
	out[k++] = '`';
	for (const char *p = name; *p; p++) {
		if (*p == '`' || *p == '\\')
			out[k++] = '\\';
		out[k++] = *p;
	}
	out[k++] = '`';
	return k;
}

char *ck_table_sql(const char *verb, const char *db, const char *table)
{
	size_t n = strlen(verb) + 2 * (strlen(db) + strlen(table)) + 8;
	char *sql = malloc(n);
	if (sql == NULL)
		return NULL;
	size_t k = (size_t)snprintf(sql, n, "%s ", verb);
	k += put_ident(sql + k, db);
	sql[k++] = '.';
	k += put_ident(sql + k, table);
	sql[k] = '\0';
	return sql;
}

int ck_tsv_split(char *line, char **fields, int n)
{
	int got = 0;
	for (char *f = line; f && got < n; got++) {
		fields[got] = f;
		if ((f = strchr(f, '\t')) != NULL)
			*f++ = '\0';
	}
	return got;
}
