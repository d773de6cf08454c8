/*
 * ck_parts: what a ClickHouse server holds, counted and listed the same way
 * before the move (ck.stop records it) and after (ck.verify compares): every
 * replicated table's rows, and the parts set aside in detached/. Both names
 * and paths come from the server: hostile text, quoted through ck_table_sql
 * and subst_shell_quote.
 */
#include <stdlib.h>
#include <string.h>

#include "act_int.h"
#include "ck_int.h"

/* "db.table=rows;..." for every replicated table, in name order. */
int ck_row_counts(const struct inv_ck_node *ck, char **out, struct cut_err *err)
{
	char *tables = NULL;
	*out = NULL;
	int rc = ck_query(ck, "SELECT database, name FROM system.tables WHERE engine LIKE 'Replicated%' "
			      "AND database != 'system' ORDER BY database, name", 30000, &tables, err);
	size_t cap = 1, len = 0;
	char *acc = calloc(1, cap);
	char *save = NULL;
	for (char *t = rc == CUT_OK ? strtok_r(tables, "\n", &save) : NULL; t && acc; t = strtok_r(NULL, "\n", &save)) {
		char *f[2], shown[300];
		if (ck_tsv_split(t, f, 2) != 2 || strncmp(f[1], "cutover_canary", 14) == 0)
			continue;
		snprintf(shown, sizeof shown, "%.140s.%.140s", f[0], f[1]); /* as sent: escaped, one line */
		ck_tsv_unescape(f[0]);
		ck_tsv_unescape(f[1]);
		char *sql = ck_table_sql("SELECT count() FROM", f[0], f[1]);
		long long n = sql ? ck_number(ck, sql, 60000, err) : (cut_fail(err, CUT_ENOMEM, "out of memory"), -1);
		free(sql);
		if (n < 0) {
			rc = err->code;
			break;
		}
		char item[320];
		int k = snprintf(item, sizeof item, "%s=%lld;", shown, n);
		char *g = realloc(acc, cap + len + (size_t)k + 1);
		if (g == NULL)
			break;
		acc = g, cap += (size_t)k + 1;
		memcpy(acc + len, item, (size_t)k + 1);
		len += (size_t)k;
	}
	free(tables);
	if (rc != CUT_OK) {
		free(acc);
		return rc;
	}
	*out = acc;
	return CUT_OK;
}

/*
 * The parts ClickHouse set aside in detached/ as ignored_ or unexpected_,
 * "db.table/dir" per line, sorted: what it does with a part whose block the
 * ZooKeeper it now uses never heard of (a write lost in the move).
 * system.detached_parts where the server has it (19.x+), else each replicated
 * table's detached/ dir over SSH (18.16).
 */
int ck_detached_parts(struct act_run *r, const struct inv_ck_node *ck, char **out, struct cut_err *err)
{
	struct cut_err qe;
	*out = NULL;
	if (ck_query(ck, "SELECT database || '.' || table || '/' || reason || '_' || name FROM system.detached_parts "
			 "WHERE reason IN ('ignored', 'unexpected') ORDER BY 1", 30000, out, &qe) == CUT_OK)
		return CUT_OK;
	char *paths = NULL;
	int rc = ck_query(ck, "SELECT database, name, data_path FROM system.tables WHERE engine LIKE "
			      "'Replicated%' ORDER BY database, name", 30000, &paths, err);
	if (rc != CUT_OK)
		return rc;
	struct arena *a = act_arena(r);
	const char *script = "";
	char *save = NULL;
	for (char *l = strtok_r(paths, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *f[3];
		if (ck_tsv_split(l, f, 3) != 3)
			continue;
		/* the name as sent (escaped, one line) and the path go in as quoted words, never as code */
		const char *shown = subst_shell_quote(a, arena_printf(a, "%s.%s", f[0], f[1]));
		ck_tsv_unescape(f[2]);
		script = arena_printf(a, "%sls -1 %s/detached 2>/dev/null | grep -E '^(ignored|unexpected)_' | "
				      "while IFS= read -r p; do printf '%%s/%%s\\n' %s \"$p\"; done; ",
				      script, subst_shell_quote(a, f[2]), shown);
	}
	free(paths);
	int status;
	rc = act_capture(r, arena_printf(a, "{ %s} | sort", script), &status, out, 1 << 20, err);
	if (rc == CUT_OK && status != 0)
		rc = cut_fail(err, CUT_EREMOTE, "%s: listing the detached dirs exited %d", ck->name, status);
	return rc;
}
