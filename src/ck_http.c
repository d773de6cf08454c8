/*
 * ck_http: queries to a ClickHouse node over its HTTP interface (libcurl).
 * The user comes from the inventory and the password from the environment
 * variable it names, so neither is ever in a file, the audit or the screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"
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
