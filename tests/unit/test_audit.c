/* Unit tests for audit: the chain, its verification, the lock, the file's mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cutover/audit.h"
#include "cutover/audit_lock.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cutover-test-audit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/audit.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static struct audit *fresh(int nevents)
{
	struct audit *a;
	struct cut_err e;
	assert_int_equal(audit_open(path, true, &a, &e), CUT_OK);
	struct audit_run_info r = {.runbook = "rb.yaml", .runbook_sha256 = "ab", .inventory = "inv.yaml",
			      .inventory_sha256 = "cd", .operators = "alice,bob", .hostname = "h"};
	int64_t run;
	assert_int_equal(audit_run_begin(a, &r, &run, &e), CUT_OK);
	for (int i = 0; i < nevents; i++) {
		char p[64];
		snprintf(p, sizeof p, "{\"n\":%d}", i);
		struct audit_event ev = {.run = run, .operator = "alice", .step = "s1", .kind = "note", .payload = p};
		assert_int_equal(audit_append(a, &ev, 1, &e), CUT_OK);
		assert_int_equal(ev.seq, i + 1);
	}
	return a;
}

static void tamper(const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("tamper: %s", msg);
	sqlite3_close(db);
}

static void test_audit_chain_verifies_and_file_is_private(void **state)
{
	(void)state;
	struct audit *a = fresh(20);
	struct audit_report rep;
	struct cut_err e;
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0);
	assert_int_equal(rep.events, 20);
	assert_int_equal(rep.runs, 1);
	audit_close(a);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", path);
	if (stat(wal, &st) == 0)
		assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_audit_refuses_update_and_delete(void **state)
{
	(void)state;
	audit_close(fresh(3));
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET payload = 'x' WHERE seq = 2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events WHERE seq = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static int64_t verify_bad(char *reason, size_t n)
{
	struct audit *a;
	struct audit_report rep;
	struct cut_err e;
	assert_int_equal(audit_open(path, false, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	audit_close(a);
	snprintf(reason, n, "%s", rep.reason);
	return rep.bad_seq;
}

static void test_audit_verify_finds_an_edited_event(void **state)
{
	(void)state;
	audit_close(fresh(10));
	tamper("DROP TRIGGER events_no_update; UPDATE events SET payload = '{\"n\":99}' WHERE seq = 6");
	char why[256];
	assert_int_equal(verify_bad(why, sizeof why), 6);
	assert_non_null(strstr(why, "edited"));
}

static void test_audit_verify_finds_a_deleted_event(void **state)
{
	(void)state;
	audit_close(fresh(10));
	tamper("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 4");
	char why[256];
	assert_int_equal(verify_bad(why, sizeof why), 4);
	assert_non_null(strstr(why, "missing"));
}

static void test_audit_verify_finds_deleted_tail(void **state)
{
	(void)state;
	audit_close(fresh(10));
	tamper("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq >= 9");
	char why[256];
	assert_int_equal(verify_bad(why, sizeof why), 9);
	assert_non_null(strstr(why, "deleted at the end"));
}

static void test_audit_verify_finds_a_rehashed_insert(void **state)
{
	(void)state;
	audit_close(fresh(5));
	/* A forged event appended with a made-up hash: its link is fine, its hash is not. */
	tamper("INSERT INTO events SELECT 6, run, wall, mono_ms, operator, step, target, kind, payload, hash,"
	       " 'ffff' FROM events WHERE seq = 5; UPDATE meta SET value = '6' WHERE key = 'head_seq'");
	char why[256];
	assert_int_equal(verify_bad(why, sizeof why), 6);
}

static void test_audit_reopen_keeps_chaining(void **state)
{
	(void)state;
	audit_close(fresh(3));
	struct audit *a;
	struct cut_err e;
	assert_int_equal(audit_open(path, false, &a, &e), CUT_OK);
	struct audit_event ev[2] = {{.run = 1, .kind = "note"}, {.run = 1, .kind = "note", .payload = "{}"}};
	assert_int_equal(audit_append(a, ev, 2, &e), CUT_OK);
	assert_int_equal(ev[1].seq, 5);
	assert_string_equal(ev[1].prev, ev[0].hash);
	struct audit_report rep;
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0);
	assert_int_equal(rep.events, 5);
	audit_close(a);
}

static int count_rows(void *ud, int n, char **v, char **names)
{
	(void)n, (void)names;
	*(long *)ud = atol(v[0]);
	return 0;
}

/* Progress goes in unsynced between durable events: one chain, all committed. */
static void test_audit_unsynced_appends_chain_and_commit(void **state)
{
	(void)state;
	struct audit *a = fresh(1);
	struct cut_err e;
	struct audit_event p = {.run = 1, .step = "copy", .target = "new1", .kind = "progress", .payload = "{\"done\":1}"};
	assert_int_equal(audit_append_unsynced(a, &p, 1, &e), CUT_OK);
	assert_int_equal(p.seq, 2);
	struct audit_event n = {.run = 1, .kind = "note", .payload = "{}"};
	assert_int_equal(audit_append(a, &n, 1, &e), CUT_OK);
	assert_string_equal(n.prev, p.hash);
	assert_int_equal(audit_append_unsynced(a, &p, 1, &e), CUT_OK);
	struct audit_report rep;
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0);
	assert_int_equal(rep.events, 4);
	/* another connection sees the last, unsynced one: it is committed, not pending */
	sqlite3 *db;
	long rows = 0;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM events WHERE kind = 'progress'", count_rows, &rows, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(rows, 2);
	audit_close(a);
}

static void test_audit_open_missing_file_is_a_clear_error(void **state)
{
	(void)state;
	struct audit *a;
	struct cut_err e;
	assert_int_equal(audit_open("/nonexistent/dir/audit.db", false, &a, &e), CUT_ENOTFOUND);
	assert_non_null(strstr(e.msg, "/nonexistent/dir/audit.db"));
	/* not a database at all */
	FILE *f = fopen(path, "w");
	fputs("this is not sqlite, just text that is long enough to be read as a header......", f);
	fclose(f);
	assert_int_not_equal(audit_open(path, false, &a, &e), CUT_OK);
	assert_non_null(strstr(e.msg, path));
}

static void test_audit_lock_busy_then_stale(void **state)
{
	(void)state;
	struct audit_lock *l, *l2;
	struct audit_lock_holder h;
	struct cut_err e;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) { /* a console that holds the file and then dies without releasing */
		struct audit_lock *mine;
		if (audit_lock_take(path, true, "alice,bob", false, &mine, &h, NULL) != CUT_OK)
			_exit(1);
		(void)!write(fds[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(audit_lock_take(path, true, "carol", false, &l, &h, &e), CUT_EBUSY);
	assert_int_equal(h.pid, pid);
	assert_string_equal(h.operators, "alice,bob");
	assert_non_null(strstr(e.msg, "alice,bob"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(audit_lock_take(path, true, "carol", false, &l, &h, &e), CUT_EREFUSED);
	assert_int_equal(h.pid, pid);
	assert_non_null(strstr(e.msg, "--take-over"));
	assert_int_equal(audit_lock_take(path, true, "carol", true, &l, &h, &e), CUT_OK);
	audit_lock_release(l);
	/* a clean release leaves no stale lock behind */
	assert_int_equal(audit_lock_take(path, true, "dave", false, &l2, &h, &e), CUT_OK);
	assert_int_equal(h.pid, 0);
	audit_lock_release(l2);
	close(fds[0]);
	close(fds[1]);
}

static void test_audit_lock_never_writes_through_a_link(void **state)
{
	(void)state;
	char lock[600], victim[600];
	struct audit_lock *l;
	struct audit_lock_holder h;
	struct cut_err e;
	snprintf(lock, sizeof lock, "%s.lock", path);
	snprintf(victim, sizeof victim, "%s.victim", path);
	FILE *v = fopen(victim, "w");
	assert_non_null(v);
	fputs("precious\n", v);
	fclose(v);
	unlink(lock);
	assert_int_equal(symlink(victim, lock), 0); /* planted in a shared directory */
	assert_int_equal(audit_lock_take(path, true, "alice", true, &l, &h, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "symbolic link"));
	struct stat sb;
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_size, 9); /* not truncated, not written */
	unlink(lock);
	/* a lock file others may write is refused too */
	int fd = open(lock, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);
	assert_int_equal(audit_lock_take(path, true, "alice", true, &l, &h, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "mode 666"));
	unlink(lock);
	unlink(victim);
}

/* Checking reads: a lost audit (0 bytes) or another program's database is refused, untouched. */
static void test_audit_readonly_refuses_what_is_no_audit(void **state)
{
	(void)state;
	struct audit *a;
	struct cut_err e;
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(audit_open_readonly(path, &a, &e), CUT_EINVAL);
	assert_non_null(strstr(e.msg, "empty (0 bytes)"));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	unlink(path);
	tamper("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
	assert_int_equal(stat(path, &sb), 0);
	off_t size = sb.st_size;
	assert_int_equal(audit_open_readonly(path, &a, &e), CUT_EINVAL);
	assert_non_null(strstr(e.msg, "is not a cutover audit"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, size); /* no schema was added to it */
	unlink(path);
	/* a real one opens and verifies */
	audit_close(fresh(3));
	struct audit_report rep;
	assert_int_equal(audit_open_readonly(path, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.events, 3);
	assert_int_equal(rep.bad_seq, 0);
	audit_close(a);
}

/* The same audit through a symlink meets the same lock; an audit others can write is refused. */
static void test_audit_lock_follows_the_file_not_the_path(void **state)
{
	(void)state;
	char alias[600];
	struct audit_lock *l, *l2;
	struct audit_lock_holder h;
	struct cut_err e;
	audit_close(fresh(1));
	snprintf(alias, sizeof alias, "%s/alias.db", dir);
	assert_int_equal(symlink(path, alias), 0);
	assert_int_equal(audit_lock_take(path, true, "alice", false, &l, &h, &e), CUT_OK);
	assert_int_equal(audit_lock_take(alias, true, "bob", false, &l2, &h, &e), CUT_EBUSY);
	assert_non_null(strstr(e.msg, "alice"));
	unlink(alias);
	/* a hard link in another directory: another real path, the same file,
	 * and another SQLite log beside it: refused by either name */
	char sub[600];
	snprintf(sub, sizeof sub, "%s/sub", dir);
	snprintf(alias, sizeof alias, "%s/sub/link.db", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(link(path, alias), 0);
	assert_int_equal(audit_lock_take(alias, false, "bob", false, &l2, &h, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "has 2 names (hard links)"));
	audit_lock_release(l);
	assert_int_equal(audit_lock_take(path, false, "bob", false, &l2, &h, &e), CUT_EREFUSED);
	unlink(alias);
	rmdir(sub);
	/* the flock is on the file: another way to the same inode meets it */
	assert_int_equal(audit_lock_take(path, false, "alice", false, &l, &h, &e), CUT_OK);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	close(fd);
	audit_lock_release(l);
	/* resume names an audit that must exist: none is made */
	snprintf(alias, sizeof alias, "%s/none.db", dir);
	assert_int_equal(audit_lock_take(alias, false, "bob", false, &l2, &h, &e), CUT_ENOTFOUND);
	assert_int_equal(access(alias, F_OK), -1);
	struct audit *a;
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(audit_open(path, false, &a, &e), CUT_EREFUSED);
	assert_non_null(strstr(e.msg, "mode 666"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(audit_open(path, false, &a, &e), CUT_OK);
	audit_close(a);
}

/* A run as the engine writes it: its row, then run_start with the same files, then an event. */
static int64_t engine_run(struct audit *a, int64_t parent, bool ended)
{
	struct cut_err e;
	struct audit_run_info r = {.parent = parent, .runbook = "rb.yaml", .runbook_sha256 = "ab", .inventory = "inv.yaml",
				   .inventory_sha256 = "cd", .operators = "alice,bob", .hostname = "h"};
	int64_t run;
	assert_int_equal(audit_run_begin(a, &r, &run, &e), CUT_OK);
	char p[256];
	snprintf(p, sizeof p, "{\"runbook\":\"rb.yaml\",\"runbook_sha256\":\"ab\",\"inventory\":\"inv.yaml\","
		 "\"inventory_sha256\":\"cd\",\"parent\":%lld}", (long long)parent);
	struct audit_event ev[2] = {{.run = run, .operator = "alice", .kind = "run_start", .payload = p},
				    {.run = run, .operator = "alice", .kind = "run_end", .payload = "{\"outcome\":\"succeeded\"}"}};
	assert_int_equal(audit_append(a, ev, ended ? 2 : 1, &e), CUT_OK);
	if (ended)
		assert_int_equal(audit_run_end(a, run, "succeeded", &e), CUT_OK);
	return run;
}

/* The runs table is checked against the chain: resume reads the inventory's hash and the outcome there. */
static void test_audit_verify_finds_an_edited_runs_row(void **state)
{
	(void)state;
	struct audit *a;
	struct audit_report rep;
	struct cut_err e;
	assert_int_equal(audit_open(path, true, &a, &e), CUT_OK);
	engine_run(a, 0, true);
	engine_run(a, 1, false);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0);
	audit_close(a);
	tamper("UPDATE runs SET inventory_sha256 = 'ee' WHERE id = 1"); /* the inventory swapped with its hash */
	assert_int_equal(audit_open(path, false, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 1);
	assert_non_null(strstr(rep.reason, "run 1's row in the runs table does not match its chained events (its inventory"));
	audit_close(a);
	tamper("UPDATE runs SET inventory_sha256 = 'cd' WHERE id = 1; UPDATE runs SET outcome = 'aborted' WHERE id = 2");
	assert_int_equal(audit_open(path, false, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK); /* an interrupted run orphaned by an outcome */
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.reason, "its outcome was edited"));
	audit_close(a);
}

/* A guarded handle appends only onto the head it last wrote; notes from another shell may come in between. */
static void test_audit_guard_refuses_a_moved_head(void **state)
{
	(void)state;
	struct audit *mine = fresh(2), *other;
	struct cut_err e;
	assert_int_equal(audit_guard(mine, &e), CUT_OK);
	assert_int_equal(audit_open(path, false, &other, &e), CUT_OK);
	struct audit_event note = {.run = 1, .operator = "bob", .kind = "note", .payload = "{}"};
	assert_int_equal(audit_append(other, &note, 1, &e), CUT_OK);
	struct audit_event ev = {.run = 1, .operator = "alice", .step = "s1", .kind = "confirm"};
	assert_int_equal(audit_append(mine, &ev, 1, &e), CUT_OK); /* a note in between is fine */
	assert_int_equal(ev.seq, 4);
	struct audit_event twin = {.run = 1, .operator = "bob", .step = "s1", .kind = "confirm"};
	assert_int_equal(audit_append(other, &twin, 1, &e), CUT_OK); /* a second console, past the lock */
	ev.seq = 0;
	assert_int_equal(audit_append(mine, &ev, 1, &e), CUT_EBUSY);
	assert_non_null(strstr(e.msg, "event 5, confirm"));
	char head[AUDIT_HEAD_LEN];
	audit_head(mine, head);
	assert_true(strncmp(head, "4:", 2) == 0); /* the refused append moved nothing */
	audit_close(other);
	audit_close(mine);
	struct audit_report rep;
	assert_int_equal(audit_open_readonly(path, &other, &e), CUT_OK);
	assert_int_equal(audit_verify(other, &rep, &e), CUT_OK);
	assert_int_equal(rep.events, 5);
	audit_close(other);
	/* events removed under a guarded handle */
	assert_int_equal(audit_open(path, false, &mine, &e), CUT_OK);
	assert_int_equal(audit_guard(mine, &e), CUT_OK);
	tamper("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 5");
	assert_int_equal(audit_append(mine, &ev, 1, &e), CUT_ECORRUPT);
	assert_non_null(strstr(e.msg, "changed under this console"));
	audit_close(mine);
}

/* A head noted at the end of the run finds events cut off the end with the recorded head. */
static void test_audit_noted_head_finds_a_cut_tail(void **state)
{
	(void)state;
	struct audit *a = fresh(6);
	struct cut_err e;
	char noted[AUDIT_HEAD_LEN];
	audit_head(a, noted);
	assert_true(strncmp(noted, "6:", 2) == 0);
	assert_int_equal(strlen(noted), 2 + 16);
	audit_close(a);
	struct audit_report rep;
	assert_int_equal(audit_open_readonly(path, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_string_equal(rep.head, noted);
	assert_int_equal(audit_verify_head(a, noted, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0);
	assert_int_equal(audit_verify_head(a, "6:abc", &rep, &e), CUT_EUSAGE);
	assert_int_equal(audit_verify_head(a, "x:0123456789ab", &rep, &e), CUT_EUSAGE);
	assert_int_equal(audit_verify_head(a, "3:0123456789ab", &rep, &e), CUT_OK); /* not event 3's hash */
	assert_int_equal(rep.bad_seq, 3);
	assert_non_null(strstr(rep.reason, "not the one noted"));
	audit_close(a);
	/* the last two events go, and the head recorded in meta is set back to match */
	tamper("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq >= 5;"
	       "UPDATE meta SET value = '4' WHERE key = 'head_seq';"
	       "UPDATE meta SET value = (SELECT hash FROM events WHERE seq = 4) WHERE key = 'head_hash'");
	assert_int_equal(audit_open_readonly(path, &a, &e), CUT_OK);
	assert_int_equal(audit_verify(a, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 0); /* the file alone cannot tell */
	assert_int_equal(audit_verify_head(a, noted, &rep, &e), CUT_OK);
	assert_int_equal(rep.bad_seq, 5);
	assert_non_null(strstr(rep.reason, "cut off the end"));
	audit_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_chain_verifies_and_file_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_refuses_update_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_finds_an_edited_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_finds_a_deleted_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_finds_deleted_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_guard_refuses_a_moved_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_noted_head_finds_a_cut_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_finds_a_rehashed_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_reopen_keeps_chaining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_unsynced_appends_chain_and_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_open_missing_file_is_a_clear_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_busy_then_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_never_writes_through_a_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_readonly_refuses_what_is_no_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_follows_the_file_not_the_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_verify_finds_an_edited_runs_row, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
