/*
 * audit_chain: appending events to the hash chain, reading them back, and
 * verifying the chain (see include/cutover/audit.h).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

/* SHA-256 over the previous hash and every field, each length-prefixed. */
static void event_hash(const struct audit_event *ev, char out[HASH_HEX_LEN + 1])
{
	char num[64];
	struct hash_ctx *h = hash_new();
	hash_field(h, ev->prev);
	snprintf(num, sizeof num, "%lld/%lld/%lld", (long long)ev->seq, (long long)ev->run, (long long)ev->mono_ms);
	hash_field(h, num);
	hash_field(h, ev->wall);
	hash_field(h, ev->operator);
	hash_field(h, ev->step);
	hash_field(h, ev->target);
	hash_field(h, ev->kind);
	hash_field(h, ev->payload);
	hash_final(h, out);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int tail(struct audit *a, int64_t *seq, char hash[HASH_HEX_LEN + 1])
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(st);
	*seq = 0;
	snprintf(hash, HASH_HEX_LEN + 1, "%s", AUDIT_GENESIS);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		snprintf(hash, HASH_HEX_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Under the append's write lock: has the chain moved since this handle last
 * wrote? Only notes ('cutover notes' from another shell) may have come in
 * between; anything else means another writer of this run (a second console
 * reaching the file past the lock) or a file changed under us, and appending
 * would chain our events onto a story we did not see.
 */
static int head_moved(struct audit *a, int64_t seq, const char *hash, struct cut_err *err)
{
	if (seq == a->head_seq && strcmp(hash, a->head_hash) == 0)
		return CUT_OK;
	if (seq < a->head_seq || (seq == a->head_seq && a->head_seq > 0))
		return cut_fail(err, CUT_ECORRUPT, "audit %s changed under this console: its last event is %lld, not the "
				"%lld this console wrote (events removed or replaced); nothing more is written to it",
				a->path, (long long)seq, (long long)a->head_seq);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT seq, kind, hash FROM events WHERE seq >= ? ORDER BY seq", -1, &st, NULL) !=
	    SQLITE_OK)
		return audit_sql_fail(a, err, "reading the chain head");
	sqlite3_bind_int64(st, 1, a->head_seq);
	int rc = CUT_OK;
	while (rc == CUT_OK && sqlite3_step(st) == SQLITE_ROW) {
		int64_t s = sqlite3_column_int64(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 1), *h = (const char *)sqlite3_column_text(st, 2);
		if (s == a->head_seq && (h == NULL || strcmp(h, a->head_hash) != 0))
			rc = cut_fail(err, CUT_ECORRUPT, "audit %s changed under this console: event %lld is not the one it "
				      "wrote; nothing more is written to it", a->path, (long long)s);
		else if (s > a->head_seq && (kind == NULL || strcmp(kind, "note") != 0))
			rc = cut_fail(err, CUT_EBUSY, "audit %s was written by another process (event %lld, %s): another "
				      "console may be running this run; nothing more is written here -- find it, and close one",
				      a->path, (long long)s, kind ? kind : "?");
	}
	sqlite3_finalize(st);
	return rc;
}

static int insert_all(struct audit *a, struct audit_event *ev, size_t n, const char *wall, struct cut_err *err)
{
	int64_t seq;
	char prev[HASH_HEX_LEN + 1];
	if (tail(a, &seq, prev) != 0)
		return audit_sql_fail(a, err, "reading the chain head");
	int moved = a->guard ? head_moved(a, seq, prev, err) : CUT_OK;
	if (moved != CUT_OK)
		return moved;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db,
			       "INSERT INTO events(seq, run, wall, mono_ms, operator, step, target, kind, payload,"
			       " prev, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = SQLITE_DONE;
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		struct audit_event *e = &ev[i];
		e->seq = ++seq;
		e->wall = wall;
		if (e->mono_ms == 0)
			e->mono_ms = audit_mono_ms();
		memcpy(e->prev, prev, sizeof prev);
		event_hash(e, e->hash);
		memcpy(prev, e->hash, sizeof prev);
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, e->seq);
		sqlite3_bind_int64(st, 2, e->run);
		sqlite3_bind_text(st, 3, wall, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, e->mono_ms);
		bind_opt(st, 5, e->operator);
		bind_opt(st, 6, e->step);
		bind_opt(st, 7, e->target);
		bind_opt(st, 8, e->kind);
		bind_opt(st, 9, e->payload);
		sqlite3_bind_text(st, 10, e->prev, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 11, e->hash, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return audit_sql_fail(a, err, "appending an event");
	char sql[320];
	snprintf(sql, sizeof sql, "UPDATE meta SET value = '%lld' WHERE key = 'head_seq';"
		 "UPDATE meta SET value = '%s' WHERE key = 'head_hash';", (long long)seq, prev);
	if (sqlite3_exec(a->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return audit_sql_fail(a, err, "appending an event");
	return CUT_OK;
}

static int append(struct audit *a, struct audit_event *ev, size_t n, bool synced, struct cut_err *err)
{
	char wall[32];
	audit_wall_now(wall);
	pthread_mutex_lock(&a->lock);
	/* WAL with synchronous=NORMAL commits without an fsync; the next FULL
	 * commit syncs the log with these frames in it. */
	if (!synced)
		sqlite3_exec(a->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	/* IMMEDIATE: the tail we chain onto cannot move under us, even when
	 * another process (cutover notes) appends at the same moment. */
	int out = sqlite3_exec(a->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
			  ? insert_all(a, ev, n, wall, err) : audit_sql_fail(a, err, "appending an event");
	if (out == CUT_OK && sqlite3_exec(a->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		out = audit_sql_fail(a, err, "appending an event");
	if (out != CUT_OK) {
		sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
	} else if (n > 0) {
		a->head_seq = ev[n - 1].seq;
		memcpy(a->head_hash, ev[n - 1].hash, sizeof a->head_hash);
	}
	if (!synced)
		sqlite3_exec(a->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	pthread_mutex_unlock(&a->lock);
	/* wall points into this frame: callers keep only seq and hashes. */
	for (size_t i = 0; i < n; i++)
		ev[i].wall = NULL;
	return out;
}

int audit_guard(struct audit *a, struct cut_err *err)
{
	pthread_mutex_lock(&a->lock);
	int rc = tail(a, &a->head_seq, a->head_hash) == 0 ? CUT_OK : audit_sql_fail(a, err, "reading the chain head");
	a->guard = rc == CUT_OK;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int audit_append(struct audit *a, struct audit_event *ev, size_t n, struct cut_err *err)
{
	return append(a, ev, n, true, err);
}

int audit_append_unsynced(struct audit *a, struct audit_event *ev, size_t n, struct cut_err *err)
{
	return append(a, ev, n, false, err);
}

static const char *text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void row_event(sqlite3_stmt *st, struct audit_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->seq = sqlite3_column_int64(st, 0);
	ev->run = sqlite3_column_int64(st, 1);
	ev->wall = text(st, 2);
	ev->mono_ms = sqlite3_column_int64(st, 3);
	ev->operator = text(st, 4);
	ev->step = text(st, 5);
	ev->target = text(st, 6);
	ev->kind = text(st, 7);
	ev->payload = text(st, 8);
	snprintf(ev->prev, sizeof ev->prev, "%s", text(st, 9) ? text(st, 9) : "");
	snprintf(ev->hash, sizeof ev->hash, "%s", text(st, 10) ? text(st, 10) : "");
}

int audit_events(struct audit *a, int64_t run, audit_event_fn cb, void *ud, struct cut_err *err)
{
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db,
				    "SELECT seq, run, wall, mono_ms, operator, step, target, kind, payload, prev, hash"
				    " FROM events WHERE ?1 = 0 OR run = ?1 ORDER BY seq", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = audit_sql_fail(a, err, "reading events");
		pthread_mutex_unlock(&a->lock);
		return rc;
	}
	sqlite3_bind_int64(st, 1, run);
	struct audit_event ev;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_event(st, &ev);
		if (cb(ud, &ev) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	int out = rc == SQLITE_DONE ? CUT_OK : audit_sql_fail(a, err, "reading events");
	pthread_mutex_unlock(&a->lock);
	return out;
}

struct walk {
	struct audit_report *rep;
	int64_t want;
	char prev[HASH_HEX_LEN + 1];
};

static int broken(struct walk *w, int64_t seq, const char *why)
{
	w->rep->bad_seq = seq;
	snprintf(w->rep->reason, sizeof w->rep->reason, "%s", why);
	return 1;
}

static int check_event(void *ud, const struct audit_event *ev)
{
	struct walk *w = ud;
	char h[HASH_HEX_LEN + 1];
	if (ev->seq != w->want) {
		char d[96];
		snprintf(d, sizeof d, "event missing (the next one present is %lld)", (long long)ev->seq);
		return broken(w, w->want, d);
	}
	if (strcmp(ev->prev, w->prev) != 0)
		return broken(w, ev->seq, "its link to the previous event does not match");
	event_hash(ev, h);
	if (strcmp(h, ev->hash) != 0)
		return broken(w, ev->seq, "its content does not match its hash (edited)");
	memcpy(w->prev, ev->hash, sizeof w->prev);
	w->want++;
	w->rep->events++;
	return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return v ? v : "";
}

static bool same(json_t *p, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(p, key));
	return v && strcmp(v, want) == 0;
}

/*
 * The runs table lies outside the chain, and resume reads it (the inventory's
 * hash, whether a run ended): each row must say what the chained events of
 * its run say. Its run_start event carries the same files and hashes and the
 * parent; an outcome must be the one its last run_end event recorded. A row
 * whose run has no run_start yet (a crash between the two writes) has nothing
 * to disagree with, and an outcome still unset after a run_end is the same
 * crash the other way round: neither is an edit.
 */
static void check_runs(struct audit *a, struct audit_report *rep)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db,
			       "SELECT r.id, r.runbook, r.runbook_sha256, r.inventory, r.inventory_sha256, coalesce(r.parent, 0),"
			       " r.outcome IS NOT NULL, r.outcome,"
			       " (SELECT seq FROM events WHERE run = r.id AND kind = 'run_start' ORDER BY seq LIMIT 1),"
			       " (SELECT payload FROM events WHERE run = r.id AND kind = 'run_start' ORDER BY seq LIMIT 1),"
			       " (SELECT payload FROM events WHERE run = r.id AND kind = 'run_end' ORDER BY seq DESC LIMIT 1)"
			       " FROM runs r ORDER BY r.id", -1, &st, NULL) != SQLITE_OK)
		return;
	while (rep->bad_seq == 0 && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 8) == SQLITE_NULL)
			continue;
		json_t *start = json_loads(col(st, 9), 0, NULL), *end = json_loads(col(st, 10), 0, NULL);
		json_t *parent = json_object_get(start, "parent");
		const char *what = !same(start, "runbook", col(st, 1)) || !same(start, "runbook_sha256", col(st, 2)) ? "runbook"
				 : !same(start, "inventory", col(st, 3)) || !same(start, "inventory_sha256", col(st, 4)) ? "inventory"
				 : json_integer_value(parent) != sqlite3_column_int64(st, 5) ? "parent"
				 : sqlite3_column_int(st, 6) && !same(end, "outcome", col(st, 7)) ? "outcome" : NULL;
		if (what) {
			rep->bad_seq = sqlite3_column_int64(st, 8);
			snprintf(rep->reason, sizeof rep->reason,
				 "run %lld's row in the runs table does not match its chained events (its %s was edited)",
				 (long long)sqlite3_column_int64(st, 0), what);
		}
		json_decref(start);
		json_decref(end);
	}
	sqlite3_finalize(st);
}

static void head_text(int64_t seq, const char *hash, char out[AUDIT_HEAD_LEN])
{
	snprintf(out, AUDIT_HEAD_LEN, "%lld:%.16s", (long long)seq, hash);
}

void audit_head(struct audit *a, char out[AUDIT_HEAD_LEN])
{
	pthread_mutex_lock(&a->lock);
	head_text(a->head_seq, a->head_hash, out);
	pthread_mutex_unlock(&a->lock);
}

int audit_verify_head(struct audit *a, const char *noted, struct audit_report *rep, struct cut_err *err)
{
	char *end;
	long long seq = strtoll(noted, &end, 10);
	const char *hex = *end == ':' ? end + 1 : "";
	size_t n = strspn(hex, "0123456789abcdef");
	if (seq < 1 || end == noted || n < 12 || n > HASH_HEX_LEN || hex[n] != '\0')
		return cut_fail(err, CUT_EUSAGE, "a noted head is SEQ:HASH, at least 12 lowercase hex digits of the hash "
				"(as 'cutover audit verify' prints it), not '%s'", noted);
	if (rep->bad_seq)
		return CUT_OK;
	if (seq > rep->events) {
		rep->bad_seq = rep->events + 1;
		snprintf(rep->reason, sizeof rep->reason, "the chain ends at event %lld, but its head was noted at event "
			 "%lld: events were cut off the end", (long long)rep->events, seq);
		return CUT_OK;
	}
	sqlite3_stmt *st;
	char hash[HASH_HEX_LEN + 1] = "";
	pthread_mutex_lock(&a->lock);
	if (sqlite3_prepare_v2(a->db, "SELECT hash FROM events WHERE seq = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&a->lock);
	if (strncmp(hash, hex, n) != 0) {
		rep->bad_seq = seq;
		snprintf(rep->reason, sizeof rep->reason, "event %lld is not the one noted (its hash begins %.16s, the "
			 "note says %.16s): the chain from there was rewritten", seq, hash, hex);
	}
	return CUT_OK;
}

int audit_verify(struct audit *a, struct audit_report *rep, struct cut_err *err)
{
	memset(rep, 0, sizeof *rep);
	struct walk w = {.rep = rep, .want = 1};
	snprintf(w.prev, sizeof w.prev, "%s", AUDIT_GENESIS);
	int rc = audit_events(a, 0, check_event, &w, err);
	if (rc != CUT_OK)
		return rc;
	int64_t head = 0;
	if (audit_meta_int(a, "head_seq", &head) != 0)
		return audit_sql_fail(a, err, "reading the chain head");
	char head_hash[HASH_HEX_LEN + 1] = "";
	sqlite3_stmt *hs;
	if (sqlite3_prepare_v2(a->db, "SELECT value FROM meta WHERE key = 'head_hash'", -1, &hs, NULL) == SQLITE_OK) {
		if (sqlite3_step(hs) == SQLITE_ROW)
			snprintf(head_hash, sizeof head_hash, "%s", (const char *)sqlite3_column_text(hs, 0));
		sqlite3_finalize(hs);
	}
	if (rep->bad_seq == 0 && head == rep->events && strcmp(head_hash, w.prev) != 0) {
		rep->bad_seq = head;
		snprintf(rep->reason, sizeof rep->reason, "the last event is not the one the chain head recorded (replaced)");
	}
	if (rep->bad_seq == 0 && head != rep->events) {
		rep->bad_seq = rep->events + 1;
		snprintf(rep->reason, sizeof rep->reason,
			 "the chain head says %lld events were written; %lld remain (events deleted at the end)",
			 (long long)head, (long long)rep->events);
	}
	if (rep->bad_seq == 0)
		check_runs(a, rep);
	head_text(rep->events, w.prev, rep->head);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			rep->runs = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	return CUT_OK;
}
