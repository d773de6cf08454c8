/*
 * audit_lock: see include/cutover/audit_lock.h. flock, not fcntl: fcntl locks
 * vanish when any descriptor of the file closes, and SQLite already uses fcntl
 * locks on the database; on Linux the two kinds never meet. The flock is taken
 * on the audit file itself, so it belongs to the file (its inode), however it
 * is reached: symlink, hard link, another spelling of its directory. Who holds
 * it, and whether a holder died, lives in a sidecar FILE.lock.
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
	int fd;       /* the sidecar: who holds it */
	int audit_fd; /* the audit itself, flocked; closed only after SQLite let go of it */
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

/* The sidecar sits beside the file's real path, so the holder of an audit
 * reached through a symlink is named; through a hard link elsewhere the flock
 * still holds, only the name of its holder is unknown. */
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

/* The audit, created private if asked and it is not there (O_EXCL: never
 * through a planted link), flocked. Its owner and mode are audit_open's to
 * check. */
static int lock_file(const char *audit_path, bool create, int *out, struct cut_err *err)
{
	int fd = create ? open(audit_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	if (fd < 0 && (errno == EEXIST || !create))
		fd = open(audit_path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cut_fail(err, errno == ENOENT ? CUT_ENOTFOUND : CUT_EIO, "cannot read %s: %s%s", audit_path,
				strerror(errno), create ? "" : " (give the file written by 'cutover run --audit')");
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return cut_fail(err, CUT_EINVAL, "cannot read %s: not a regular file (give the audit file 'cutover run --audit' "
				"wrote, or a new name)", audit_path);
	}
	/* SQLite keeps its write-ahead log beside the name a file was opened by:
	 * two names of one audit would keep two logs, and lose or corrupt events. */
	if (sb.st_nlink > 1) {
		close(fd);
		return cut_fail(err, CUT_EREFUSED, "audit %s has %ld names (hard links); SQLite keeps its log beside the name "
				"it opens, so two names would corrupt it: remove the other links (find / -xdev -samefile %s)",
				audit_path, (long)sb.st_nlink, audit_path);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return cut_fail(err, CUT_EBUSY, "audit %s is in use by another cutover process; work in that console, "
				"or add a note with 'cutover notes'", audit_path);
	}
	*out = fd;
	return CUT_OK;
}

/* Under the audit's flock: a holder named in the sidecar died without
 * releasing (stale, taken over only when asked); then it names us. */
static int sidecar(const char *audit_path, const char *path, const char *operators, bool take_stale, int *out,
		   struct audit_lock_holder *holder, struct cut_err *err)
{
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
	*out = fd;
	return CUT_OK;
}

int audit_lock_take(const char *audit_path, bool create, const char *operators, bool take_stale,
		    struct audit_lock **out, struct audit_lock_holder *holder, struct cut_err *err)
{
	char path[4096];
	*out = NULL;
	memset(holder, 0, sizeof *holder);
	int afd = -1, fd = -1;
	int rc = lock_file(audit_path, create, &afd, err);
	if (rc != CUT_OK) {
		/* the sidecar may still name the holder */
		lock_path(audit_path, path, sizeof path);
		fd = rc == CUT_EBUSY ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) : -1;
		if (fd >= 0) {
			read_holder(fd, holder);
			close(fd);
		}
		if (rc == CUT_EBUSY && holder->pid)
			cut_fail(err, CUT_EBUSY, "audit %s is in use by cutover pid %ld on %s, operators %s, since %s; "
				 "work in that console, or add a note with 'cutover notes'",
				 audit_path, holder->pid, holder->host, holder->operators, holder->started);
		return rc;
	}
	lock_path(audit_path, path, sizeof path);
	rc = sidecar(audit_path, path, operators, take_stale, &fd, holder, err);
	struct audit_lock *l = rc == CUT_OK ? malloc(sizeof *l) : NULL;
	if (l == NULL) {
		if (rc == CUT_OK) {
			close(fd);
			rc = cut_fail(err, CUT_ENOMEM, "out of memory");
		}
		close(afd); /* no SQLite connection of ours is open on it yet */
		return rc;
	}
	l->fd = fd;
	l->audit_fd = afd;
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
	close(l->audit_fd);
	free(l);
}
