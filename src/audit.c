/*
 * audit: the SQLite audit trail (see include/cutover/audit.h). Verification
 * lives in audit_verify.c; the lock that keeps one console per file in
 * audit_lock.c.
 */
#include "cutover/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"

/* Migrations run in order; index i brings the schema from version i to i+1. */
static const char *const migrations[] = {
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE runs(id INTEGER PRIMARY KEY, parent INTEGER, runbook TEXT NOT NULL,"
	" runbook_sha256 TEXT NOT NULL, inventory TEXT NOT NULL, inventory_sha256 TEXT NOT NULL,"
	" operators TEXT NOT NULL, hostname TEXT NOT NULL, started TEXT NOT NULL, ended TEXT, outcome TEXT);"
	"CREATE TABLE events(seq INTEGER PRIMARY KEY, run INTEGER NOT NULL REFERENCES runs(id),"
	" wall TEXT NOT NULL, mono_ms INTEGER NOT NULL, operator TEXT, step TEXT, target TEXT,"
	" kind TEXT NOT NULL, payload TEXT, prev TEXT NOT NULL, hash TEXT NOT NULL);"
	"CREATE INDEX events_run ON events(run, seq);"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"
	"INSERT INTO meta VALUES('head_seq', '0'), ('head_hash', '" AUDIT_GENESIS "');",
};

void audit_wall_now(char buf[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

int64_t audit_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int audit_sql_fail(struct audit *a, struct cut_err *err, const char *what)
{
	int rc = sqlite3_errcode(a->db);
	int code = rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? CUT_EBUSY
		 : rc == SQLITE_FULL || rc == SQLITE_IOERR ? CUT_EIO
		 : rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? CUT_ECORRUPT : CUT_EIO;
	return cut_fail(err, code, "audit %s: %s: %s", a->path, what, sqlite3_errmsg(a->db));
}

static int exec(struct audit *a, const char *sql, struct cut_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(a->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return CUT_OK;
	int rc = cut_fail(err, CUT_EIO, "audit %s: %s", a->path, msg ? msg : sqlite3_errmsg(a->db));
	sqlite3_free(msg);
	return rc;
}

int audit_meta_int(struct audit *a, const char *key, int64_t *out)
{
	sqlite3_stmt *st;
	*out = 0;
	if (sqlite3_prepare_v2(a->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int migrate(struct audit *a, struct cut_err *err)
{
	int64_t version = 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(a->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return audit_sql_fail(a, err, "reading the schema version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (version > AUDIT_SCHEMA_VERSION)
		return cut_fail(err, CUT_EINVAL, "audit %s has schema version %lld; this cutover knows up to %d: use a newer cutover",
				a->path, (long long)version, AUDIT_SCHEMA_VERSION);
	for (int64_t v = version; v < AUDIT_SCHEMA_VERSION; v++) {
		char bump[64];
		snprintf(bump, sizeof bump, "PRAGMA user_version = %lld;", (long long)v + 1);
		if (exec(a, "BEGIN IMMEDIATE", err) || exec(a, migrations[v], err) || exec(a, bump, err) ||
		    exec(a, "COMMIT", err)) {
			sqlite3_exec(a->db, "ROLLBACK", NULL, NULL, NULL);
			return err ? err->code : CUT_EIO;
		}
	}
	return CUT_OK;
}

/* The handle and its SQLite connection, flags SQLITE_OPEN_READWRITE or _READONLY. */
static int connect_to(const char *path, int flags, struct audit **out, struct cut_err *err)
{
	struct audit *a = calloc(1, sizeof *a);
	*out = NULL;
	if (a == NULL || (a->path = strdup(path)) == NULL) {
		free(a);
		return cut_fail(err, CUT_ENOMEM, "out of memory opening the audit");
	}
	pthread_mutex_init(&a->lock, NULL);
	if (sqlite3_open_v2(path, &a->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		int rc = audit_sql_fail(a, err, "opening");
		audit_close(a);
		return rc;
	}
	sqlite3_busy_timeout(a->db, 10000);
	sqlite3_extended_result_codes(a->db, 0);
	*out = a;
	return CUT_OK;
}

static int64_t scalar(struct audit *a, const char *sql);

/*
 * Our schema goes only into a file that is empty and meant to be created, or
 * that already is a cutover audit: another program's database, or an empty
 * file where an audit was expected (one lost), gets nothing added.
 */
static int not_ours(struct audit *a, bool create, struct cut_err *err)
{
	int64_t version = scalar(a, "PRAGMA user_version");
	int64_t tables = scalar(a, "SELECT count(*) FROM sqlite_master");
	int64_t ours = scalar(a, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'runs', 'events')");
	if (version < 0 || tables < 0 || ours < 0)
		return audit_sql_fail(a, err, "reading");
	if (version == 0 && tables == 0)
		return create ? CUT_OK : cut_fail(err, CUT_EINVAL, "%s is empty, not a cutover audit (give the file 'cutover "
						  "run --audit' wrote)", a->path);
	if (version == 0 || ours != 3)
		return cut_fail(err, CUT_EREFUSED, "%s is not a cutover audit (another program's database?); cutover adds "
				"nothing to it: give another --audit", a->path);
	return CUT_OK;
}

int audit_open(const char *path, bool create, struct audit **out, struct cut_err *err)
{
	*out = NULL;
	/* Create the file ourselves so it is 0600 from its first byte; SQLite
	 * gives the -wal and -shm files the database file's mode. Only when it
	 * is not there: closing any descriptor of the file drops every POSIX
	 * lock this process holds on it, a connection's included, and another
	 * process could then take the WAL for unused and delete it under us. */
	struct stat sb;
	if (stat(path, &sb) != 0) {
		int fd = create ? open(path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0600) : -1;
		if (fd < 0)
			return cut_fail(err, errno == ENOENT || !create ? CUT_ENOTFOUND : CUT_EIO, "cannot read %s: %s%s", path,
					strerror(errno), create ? "" : " (give the file written by 'cutover run --audit')");
		close(fd);
	} else if (!S_ISREG(sb.st_mode)) {
		return cut_fail(err, CUT_EINVAL, "cannot read %s: not a regular file (give the audit file 'cutover run "
				"--audit' wrote, or a new name)", path);
	} else if (access(path, R_OK | W_OK) != 0) {
		return cut_fail(err, CUT_EIO, "cannot read %s: %s (cutover reads and appends to the audit)", path,
				strerror(errno));
	} else if (sb.st_uid != geteuid() || (sb.st_mode & 022)) {
		/* someone else's file, or one others can write, is no record of ours to add to */
		return cut_fail(err, CUT_EREFUSED, "audit %s is not a private regular file of this user (owner uid %ld, "
				"mode %03o); cutover writes only to an audit no one else can write: chmod go-w it if it is yours, "
				"or give another --audit", path, (long)sb.st_uid,
				(unsigned)(sb.st_mode & 0777));
	}
	struct audit *a;
	int rc = connect_to(path, SQLITE_OPEN_READWRITE, &a, err);
	if (rc != CUT_OK)
		return rc;
	rc = not_ours(a, create, err);
	if (rc == CUT_OK)
		rc = exec(a, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err);
	if (rc == CUT_OK)
		rc = migrate(a, err);
	if (rc != CUT_OK) {
		audit_close(a);
		return rc;
	}
	*out = a;
	return CUT_OK;
}

/* One number from a query, or -1. */
static int64_t scalar(struct audit *a, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;
	if (sqlite3_prepare_v2(a->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int audit_open_readonly(const char *path, struct audit **out, struct cut_err *err)
{
	*out = NULL;
	struct stat sb;
	if (stat(path, &sb) != 0)
		return cut_fail(err, CUT_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return cut_fail(err, CUT_EINVAL, "cannot read %s: not a regular file (give the file 'cutover run --audit' wrote)",
				path);
	if (access(path, R_OK) != 0)
		return cut_fail(err, CUT_EIO, "cannot read %s: %s", path, strerror(errno));
	/* An empty file is what is left of an audit lost: never "intact". */
	if (sb.st_size == 0)
		return cut_fail(err, CUT_EINVAL, "audit %s is empty (0 bytes): not a cutover audit", path);
	struct audit *a;
	int rc = connect_to(path, SQLITE_OPEN_READONLY, &a, err);
	if (rc != CUT_OK)
		return rc;
	int64_t version = scalar(a, "PRAGMA user_version");
	int64_t tables = scalar(a, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'runs', 'events')");
	if (version < 0 || tables < 0)
		rc = audit_sql_fail(a, err, "reading");
	else if (version > AUDIT_SCHEMA_VERSION)
		rc = cut_fail(err, CUT_EINVAL, "audit %s has schema version %lld; this cutover knows up to %d: use a newer cutover",
			      path, (long long)version, AUDIT_SCHEMA_VERSION);
	else if (version != AUDIT_SCHEMA_VERSION || tables != 3)
		rc = cut_fail(err, CUT_EINVAL, "%s is not a cutover audit (schema version %lld, %lld of its 3 tables)", path,
			      (long long)version, (long long)tables);
	if (rc != CUT_OK) {
		audit_close(a);
		return rc;
	}
	*out = a;
	return CUT_OK;
}

void audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	sqlite3_close(a->db);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

const char *audit_path(const struct audit *a)
{
	return a->path;
}

int audit_run_begin(struct audit *a, const struct audit_run_info *r, int64_t *id, struct cut_err *err)
{
	char wall[32];
	audit_wall_now(wall);
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db,
				    "INSERT INTO runs(parent, runbook, runbook_sha256, inventory, inventory_sha256,"
				    " operators, hostname, started) VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		if (r->parent)
			sqlite3_bind_int64(st, 1, r->parent);
		const char *v[] = {r->runbook, r->runbook_sha256, r->inventory, r->inventory_sha256,
				   r->operators, r->hostname, wall};
		for (int i = 0; i < 7; i++)
			sqlite3_bind_text(st, i + 2, v[i] ? v[i] : "", -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	int out = CUT_OK;
	if (rc != SQLITE_DONE)
		out = audit_sql_fail(a, err, "starting a run");
	else
		*id = sqlite3_last_insert_rowid(a->db);
	pthread_mutex_unlock(&a->lock);
	return out;
}

int audit_run_end(struct audit *a, int64_t run, const char *outcome, struct cut_err *err)
{
	char wall[32];
	audit_wall_now(wall);
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db, "UPDATE runs SET ended = ?, outcome = ? WHERE id = ?", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, wall, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, outcome, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, run);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	int out = rc == SQLITE_DONE ? CUT_OK : audit_sql_fail(a, err, "ending a run");
	pthread_mutex_unlock(&a->lock);
	return out;
}

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static int run_query(struct audit *a, const char *where, int64_t id, struct audit_run *r, struct cut_err *err)
{
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT id, parent, runbook, runbook_sha256, inventory, inventory_sha256, operators,"
		 " hostname, started, ended, outcome FROM runs %s ORDER BY id DESC LIMIT 1", where);
	memset(r, 0, sizeof *r);
	sqlite3_stmt *st;
	pthread_mutex_lock(&a->lock);
	int rc = sqlite3_prepare_v2(a->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rc = audit_sql_fail(a, err, "reading runs");
		pthread_mutex_unlock(&a->lock);
		return rc;
	}
	if (id)
		sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->parent = sqlite3_column_int64(st, 1);
		char **f[] = {&r->runbook, &r->runbook_sha256, &r->inventory, &r->inventory_sha256, &r->operators,
			      &r->hostname, &r->started, &r->ended, &r->outcome};
		for (int i = 0; i < 9; i++)
			*f[i] = col(st, i + 2);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->lock);
	if (rc == SQLITE_ROW)
		return CUT_OK;
	if (rc == SQLITE_DONE)
		return cut_fail(err, CUT_ENOTFOUND, "audit %s holds no %s run", a->path,
				id ? "such" : *where ? "unfinished" : "");
	return audit_sql_fail(a, err, "reading runs");
}

int audit_run_latest(struct audit *a, bool unfinished_only, struct audit_run *out, struct cut_err *err)
{
	return run_query(a, unfinished_only ? "WHERE outcome IS NULL" : "", 0, out, err);
}

int audit_run_get(struct audit *a, int64_t id, struct audit_run *out, struct cut_err *err)
{
	return run_query(a, "WHERE id = ?", id, out, err);
}

void audit_run_clear(struct audit_run *r)
{
	char *f[] = {r->runbook, r->runbook_sha256, r->inventory, r->inventory_sha256, r->operators,
		     r->hostname, r->started, r->ended, r->outcome};
	for (int i = 0; i < 9; i++)
		free(f[i]);
	memset(r, 0, sizeof *r);
}
