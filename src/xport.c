/*
 * xport: the parts both transports share -- line splitting, the file streams
 * built on exec (a local regular file is read directly), the clock (see
 * include/cutover/xport.h).
 */
#include "cutover/xport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cutover/arena.h"
#include "cutover/subst.h"

#define XP_MAX_LINE (64 * 1024)

int64_t xp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int xp_exec(struct xport *x, struct xp_exec *req, struct cut_err *err)
{
	req->exit_status = -1;
	req->out_bytes = req->err_bytes = req->in_bytes = 0;
	return x->ops->exec(x, req, err);
}

static void emit(struct xp_exec *req, enum xp_stream s, const char *p, size_t n, bool more)
{
	if (req->on_line)
		req->on_line(req->ud, s, p, n, more);
}

void xp_lines_feed(struct xp_lines *l, struct xp_exec *req, enum xp_stream s, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		if (l->len == 0 && nl && take <= XP_MAX_LINE) { /* the common case: no copy */
			emit(req, s, data, take, false);
			data += take + 1;
			n -= take + 1;
			continue;
		}
		/* Pieces of at most XP_MAX_LINE: memory stays bounded whatever a
		 * host sends without a newline. */
		size_t room = XP_MAX_LINE - l->len;
		bool ends = nl && take <= room;
		if (take > room)
			take = room;
		if (l->buf == NULL && (l->buf = malloc(XP_MAX_LINE)) == NULL) {
			emit(req, s, data, take, !ends); /* no buffer: unjoined, but nothing dropped */
		} else {
			memcpy(l->buf + l->len, data, take);
			l->len += take;
			if (ends || l->len == XP_MAX_LINE) {
				emit(req, s, l->buf, l->len, !ends);
				l->len = 0;
			}
		}
		data += take + (ends ? 1 : 0);
		n -= take + (ends ? 1 : 0);
	}
}

void xp_lines_flush(struct xp_lines *l, struct xp_exec *req, enum xp_stream s)
{
	if (l->len > 0)
		emit(req, s, l->buf, l->len, false);
	l->len = 0;
}

void xp_lines_free(struct xp_lines *l)
{
	free(l->buf);
	memset(l, 0, sizeof *l);
}

struct file_io {
	struct cut_err *err;
	struct xp_lines errs;
	char first_err[512];
};

static void keep_stderr(void *ud, enum xp_stream s, const char *line, size_t len, bool more)
{
	struct file_io *f = ud;
	(void)more;
	if (s == XP_STDERR && f->first_err[0] == '\0')
		snprintf(f->first_err, sizeof f->first_err, "%.*s", (int)len, line);
}

static int file_cmd(struct xport *x, struct xp_exec *req, const char *verb, const char *path, struct cut_err *err)
{
	int rc = xp_exec(x, req, err);
	if (rc == CUT_OK && req->exit_status != 0) {
		struct file_io *f = req->ud;
		rc = cut_fail(err, CUT_EREMOTE, "%s %s on %s: %s", verb, path, x->name,
			      f->first_err[0] ? f->first_err : "the command failed");
	}
	return rc;
}

struct read_ctx {
	struct file_io io;
	void (*sink)(void *ud, const char *buf, size_t len);
	void *ud;
};

static void read_sink(void *ud, const char *buf, size_t len)
{
	struct read_ctx *r = ud;
	r->sink(r->ud, buf, len);
}

#define LOCAL_CHUNK (1 << 20)

/*
 * A regular file on this machine is read directly: a gigabyte snapshot then
 * costs no cat and no pipe. Anything else (a FIFO could block forever) goes
 * the way of every transport. Returns -1 for "not handled here".
 */
static int read_local(const char *path, void (*sink)(void *ud, const char *buf, size_t len), void *ud,
		      int timeout_ms, const atomic_int *cancel, struct cut_err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
		close(fd);
		return -1;
	}
	if (fd < 0)
		return errno == ENOENT || errno == EACCES || errno == ENOTDIR
			       ? cut_fail(err, CUT_EREMOTE, "reading %s on local: %s", path, strerror(errno))
			       : -1;
	char *buf = malloc(LOCAL_CHUNK);
	int rc = buf ? CUT_OK : cut_fail(err, CUT_ENOMEM, "out of memory");
	int64_t end = xp_now_ms() + timeout_ms;
	while (rc == CUT_OK) {
		ssize_t n = read(fd, buf, LOCAL_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = cut_fail(err, CUT_EREMOTE, "reading %s on local: %s", path, strerror(errno));
		if (n <= 0)
			break;
		sink(ud, buf, (size_t)n);
		if (cancel && atomic_load(cancel))
			rc = cut_fail(err, CUT_ECANCELED, "reading %s: canceled by the operator", path);
		else if (timeout_ms > 0 && xp_now_ms() >= end)
			rc = cut_fail(err, CUT_ETIMEOUT, "reading %s: no end after %d ms (the step's timeout)", path, timeout_ms);
	}
	free(buf);
	close(fd);
	return rc;
}

int xp_read_file(struct xport *x, const char *path, void (*sink)(void *ud, const char *buf, size_t len),
		 void *ud, int timeout_ms, const atomic_int *cancel, struct cut_err *err)
{
	if (x == xp_local()) {
		int rc = read_local(path, sink, ud, timeout_ms, cancel, err);
		if (rc >= 0)
			return rc;
	}
	struct arena *a = arena_new();
	if (a == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	struct read_ctx r = {.sink = sink, .ud = ud};
	struct xp_exec req = {
		.cmd = arena_printf(a, "cat -- %s", subst_shell_quote(a, path)),
		.timeout_ms = timeout_ms, .on_line = keep_stderr, .on_data = read_sink,
		.ud = &r, .cancel = cancel,
	};
	/* on_line sees struct file_io first: read_ctx begins with it. */
	int rc = file_cmd(x, &req, "reading", path, err);
	arena_free(a);
	return rc;
}

struct all_ctx {
	char *buf;
	size_t len, max;
	bool too_big, no_mem;
};

static void all_sink(void *ud, const char *buf, size_t len)
{
	struct all_ctx *c = ud;
	c->too_big |= c->len + len > c->max;
	char *p = c->too_big || c->no_mem ? NULL : realloc(c->buf, c->len + len + 1);
	if (p == NULL) {
		c->no_mem |= !c->too_big;
		return;
	}
	memcpy(p + c->len, buf, len);
	c->buf = p;
	c->len += len;
	p[c->len] = '\0';
}

int xp_read_all(struct xport *x, const char *path, size_t max, int timeout_ms, const atomic_int *cancel, char **out,
		size_t *len, struct cut_err *err)
{
	struct all_ctx c = {.max = max};
	int rc = xp_read_file(x, path, all_sink, &c, timeout_ms, cancel, err);
	if (rc == CUT_OK && c.too_big)
		rc = cut_fail(err, CUT_EINVAL, "%s on %s is larger than %zu bytes", path, x->name, max);
	if (rc == CUT_OK && c.no_mem)
		rc = cut_fail(err, CUT_ENOMEM, "out of memory reading %s on %s", path, x->name);
	if (rc == CUT_OK && c.buf == NULL && (c.buf = calloc(1, 1)) == NULL)
		rc = cut_fail(err, CUT_ENOMEM, "out of memory");
	if (rc != CUT_OK) {
		free(c.buf);
		c.buf = NULL, c.len = 0;
	}
	*out = c.buf;
	*len = c.len;
	return rc;
}

struct write_ctx {
	struct file_io io;
	ssize_t (*src)(void *ud, char *buf, size_t cap);
	void *ud;
};

static ssize_t write_src(void *ud, char *buf, size_t cap)
{
	struct write_ctx *w = ud;
	return w->src(w->ud, buf, cap);
}

int xp_write_file(struct xport *x, const char *path, ssize_t (*src)(void *ud, char *buf, size_t cap),
		  void *ud, int timeout_ms, const atomic_int *cancel, struct cut_err *err)
{
	struct arena *a = arena_new();
	if (a == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	struct write_ctx w = {.src = src, .ud = ud};
	const char *q = subst_shell_quote(a, path);
	/* Written beside the target and renamed, so a cut stream never leaves a
	 * half file under the real name. */
	struct xp_exec req = {
		.cmd = arena_printf(a, "cat > %s.part && sync %s.part && mv -f -- %s.part %s", q, q, q, q),
		.timeout_ms = timeout_ms, .on_line = keep_stderr, .in = write_src, .ud = &w, .cancel = cancel,
	};
	int rc = file_cmd(x, &req, "writing", path, err);
	arena_free(a);
	return rc;
}

bool xp_is_local(const char *host, const struct inv_ssh *ssh)
{
	/* ssh.local: cutover runs on that node itself (the seed's operator works
	 * on the old leader), so its files and commands need no SSH hop. */
	return host == NULL || strcmp(host, "local") == 0 || (ssh && ssh->local);
}

int xp_get(struct ssh_pool *pool, const char *host, const struct inv_ssh *ssh, const struct subst_scope *sc,
	   struct xport **out, struct cut_err *err)
{
	if (xp_is_local(host, ssh)) {
		*out = xp_local();
		return CUT_OK;
	}
	struct arena *a = arena_new();
	if (a == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	struct ssh_target t = {.host = host, .user = ssh->user, .port = ssh->port ? ssh->port : 22,
			       .agent = ssh->agent, .connect_timeout_ms = ssh->connect_timeout_ms};
	int rc = CUT_OK;
	if (ssh->identity && (t.identity = subst(a, ssh->identity, sc, SUBST_PATH, err)) == NULL)
		rc = err ? err->code : CUT_EINVAL;
	if (rc == CUT_OK && ssh->known_hosts && (t.known_hosts = subst(a, ssh->known_hosts, sc, SUBST_PATH, err)) == NULL)
		rc = err ? err->code : CUT_EINVAL;
	if (rc == CUT_OK)
		rc = ssh_pool_get(pool, &t, out, err);
	arena_free(a);
	return rc;
}

void xp_put(struct ssh_pool *pool, struct xport *x, int rc)
{
	if (x == NULL || x == xp_local())
		return;
	/* After a timeout or a lost connection the session's state is unknown:
	 * the next user gets a fresh one. */
	ssh_pool_put(pool, x, rc == CUT_ETIMEOUT || rc == CUT_ENET || rc == CUT_ECANCELED);
}
