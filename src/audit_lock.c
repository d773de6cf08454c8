/*
 * audit_lock: see include/cutover/audit_lock.h. flock, not fcntl: fcntl locks
 * vanish when any descriptor of the file closes, and SQLite already uses fcntl
 * locks on the database itself, so the lock lives in a sidecar file.
 */
#include "cutover/audit_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cutover/audit.h"

struct audit_lock {
	int fd;
};

static void read_holder(int fd, struct audit_lock_holder *h)
{
	char buf[512] = "";
	memset(h, 0, sizeof *h);
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* host\tpid\tstarted\toperators\n */
	char *save = NULL, *f = strtok_r(buf, "\t\n", &save);
	if (f)
		snprintf(h->host, sizeof h->host, "%s", f);
	if ((f = strtok_r(NULL, "\t\n", &save)))
		h->pid = strtol(f, NULL, 10);
	if ((f = strtok_r(NULL, "\t\n", &save)))
		snprintf(h->started, sizeof h->started, "%s", f);
	if ((f = strtok_r(NULL, "\t\n", &save)))
		snprintf(h->operators, sizeof h->operators, "%s", f);
}

/* The lock belongs to the file, not to the path that names it: the same audit
 * reached through a symlink, or through another spelling of its directory,
 * must meet the same lock (two consoles once ran the same step that way). */
static void lock_path(const char *audit, char *out, size_t n)
{
	char *real = realpath(audit, NULL);
	if (real) {
		snprintf(out, n, "%s.lock", real);
		free(real);
		return;
	}
	char *d = strdup(audit), *b = strdup(audit); /* not there yet: its directory's real path */
	char *rd = d && b ? realpath(dirname(d), NULL) : NULL;
	if (rd)
		snprintf(out, n, "%s/%s.lock", rd, basename(b));
	else
		snprintf(out, n, "%s.lock", audit);
	free(rd);
	free(d);
	free(b);
}

int audit_lock_take(const char *audit_path, const char *operators, bool take_stale,
		    struct audit_lock **out, struct audit_lock_holder *holder, struct cut_err *err)
{
	char path[4096];
	*out = NULL;
	lock_path(audit_path, path, sizeof path);
	/* Root truncates and writes this file: never through a link planted
	 * beside the audit, never a file someone else owns or can write. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0 && errno == ELOOP)
		return cut_fail(err, CUT_EREFUSED, "lock %s is a symbolic link; cutover writes no lock through one "
				"(remove it if you did not make it)", path);
	if (fd < 0)
		return cut_fail(err, CUT_EIO, "lock %s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 022)) {
		close(fd);
		return cut_fail(err, CUT_EREFUSED, "lock %s is not a private regular file of this user "
				"(owner uid %ld, mode %03o); remove it if you did not make it", path,
				(long)sb.st_uid, (unsigned)(sb.st_mode & 0777));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		read_holder(fd, holder);
		close(fd);
		return cut_fail(err, CUT_EBUSY,
				"audit %s is in use by cutover pid %ld on %s, operators %s, since %s; "
				"work in that console, or add a note with 'cutover notes'",
				audit_path, holder->pid, holder->host, holder->operators, holder->started);
	}
	read_holder(fd, holder);
	if (holder->pid != 0 && !take_stale) {
		close(fd);
		return cut_fail(err, CUT_EREFUSED,
				"audit %s was left locked by cutover pid %ld on %s (operators %s, since %s), "
				"which is no longer running; take it over with --take-over once you are sure "
				"no one else works on this run",
				audit_path, holder->pid, holder->host, holder->operators, holder->started);
	}
	char host[128] = "?", started[32], line[600];
	gethostname(host, sizeof host - 1);
	audit_wall_now(started);
	int n = snprintf(line, sizeof line, "%s\t%ld\t%s\t%s\n", host, (long)getpid(), started,
			 operators && *operators ? operators : "-");
	if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return cut_fail(err, CUT_EIO, "lock %s: %s", path, strerror(e));
	}
	struct audit_lock *l = malloc(sizeof *l);
	if (l == NULL) {
		close(fd);
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	l->fd = fd;
	*out = l;
	return CUT_OK;
}

void audit_lock_release(struct audit_lock *l)
{
	if (l == NULL)
		return;
	/* An empty file under a free flock is a clean release, not a stale lock. */
	if (ftruncate(l->fd, 0) != 0)
		(void)fsync(l->fd);
	close(l->fd);
	free(l);
}
