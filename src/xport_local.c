/*
 * xport_local: commands on this machine, for `local` targets. The child gets
 * its own session (setsid), so a timeout or cancel kills everything it
 * started, not just the shell.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cutover/xport.h"

static void kill_group(pid_t pid)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			kill(-pid, SIGKILL); /* stragglers that ignored TERM */
			return;
		}
		usleep(50 * 1000);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int cloexec_pipe(int p[2])
{
	if (pipe(p) != 0)
		return -1;
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	return 0;
}

static pid_t spawn(const char *cmd, int fds[3], struct cut_err *err)
{
	int in[2], out[2], er[2];
	if (cloexec_pipe(in) != 0)
		return cut_fail(err, CUT_EIO, "pipe: %s", strerror(errno)), -1;
	if (cloexec_pipe(out) != 0) {
		close(in[0]), close(in[1]);
		return cut_fail(err, CUT_EIO, "pipe: %s", strerror(errno)), -1;
	}
	if (cloexec_pipe(er) != 0) {
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		return cut_fail(err, CUT_EIO, "pipe: %s", strerror(errno)), -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(er[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(in[0]), close(out[1]), close(er[1]);
	if (pid < 0) {
		close(in[1]), close(out[0]), close(er[0]);
		return cut_fail(err, CUT_EIO, "fork: %s", strerror(errno)), -1;
	}
	fds[0] = in[1], fds[1] = out[0], fds[2] = er[0];
	for (int i = 0; i < 3; i++)
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	return pid;
}

struct run {
	struct xp_exec *req;
	int fds[3];
	struct xp_lines lines[2];
	char inbuf[65536];
	size_t inlen, inoff;
	bool in_eof, in_again;
};

/* Feed stdin as far as the pipe takes it; returns -1 when the source fails. */
static int pump_in(struct run *r)
{
	while (r->fds[0] >= 0) {
		if (r->inoff == r->inlen && !r->in_eof) {
			ssize_t n = r->req->in(r->req->ud, r->inbuf, sizeof r->inbuf);
			r->in_again = n == XP_IN_AGAIN;
			if (r->in_again)
				return 0;
			if (n < 0)
				return -1;
			r->inlen = (size_t)n, r->inoff = 0;
			r->in_eof = n == 0;
		}
		if (r->inoff == r->inlen) {
			close(r->fds[0]);
			r->fds[0] = -1;
			return 0;
		}
		ssize_t w = write(r->fds[0], r->inbuf + r->inoff, r->inlen - r->inoff);
		if (w < 0)
			return errno == EAGAIN ? 0 : (close(r->fds[0]), r->fds[0] = -1, 0);
		r->inoff += (size_t)w;
		r->req->in_bytes += (uint64_t)w;
	}
	return 0;
}

static void drain(struct run *r, int i)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(r->fds[i], buf, sizeof buf)) > 0) {
		struct xp_exec *req = r->req;
		if (i == 1) {
			req->out_bytes += (uint64_t)n;
			if (req->on_data)
				req->on_data(req->ud, buf, (size_t)n);
			else
				xp_lines_feed(&r->lines[0], req, XP_STDOUT, buf, (size_t)n);
		} else {
			req->err_bytes += (uint64_t)n;
			xp_lines_feed(&r->lines[1], req, XP_STDERR, buf, (size_t)n);
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		close(r->fds[i]);
		r->fds[i] = -1;
	}
}

static int local_exec(struct xport *x, struct xp_exec *req, struct cut_err *err)
{
	(void)x;
	struct run r = {.req = req};
	pid_t pid = spawn(req->cmd, r.fds, err);
	if (pid < 0)
		return err ? err->code : CUT_EIO;
	if (req->in == NULL) {
		close(r.fds[0]);
		r.fds[0] = -1;
	}
	int64_t start = xp_now_ms(), last = start;
	int rc = CUT_OK;
	while (r.fds[1] >= 0 || r.fds[2] >= 0) {
		struct pollfd p[3];
		int np = 0;
		for (int i = 0; i < 3; i++)
			if (r.fds[i] >= 0 && !(i == 0 && r.in_again))
				p[np++] = (struct pollfd){.fd = r.fds[i], .events = i == 0 ? POLLOUT : POLLIN};
		poll(p, (nfds_t)np, r.in_again ? 10 : 100);
		uint64_t before = req->out_bytes + req->err_bytes;
		if (r.fds[0] >= 0 && pump_in(&r) != 0) {
			rc = cut_fail(err, CUT_EIO, "reading the data to send failed");
			break;
		}
		for (int i = 1; i < 3; i++)
			if (r.fds[i] >= 0)
				drain(&r, i);
		if (req->tick)
			req->tick(req->ud);
		int64_t now = xp_now_ms();
		if (req->out_bytes + req->err_bytes != before)
			last = now;
		if (req->cancel && atomic_load(req->cancel)) {
			rc = cut_fail(err, CUT_ECANCELED, "canceled by the operator; the command was killed");
			break;
		}
		if (req->timeout_ms > 0 && now - start >= req->timeout_ms) {
			rc = cut_fail(err, CUT_ETIMEOUT, "no end after %d ms (the step's timeout); the command was killed",
				      req->timeout_ms);
			break;
		}
		if (req->idle_ms > 0 && now - last >= req->idle_ms) {
			rc = cut_fail(err, CUT_ETIMEOUT, "no output for %d ms; the command was killed", req->idle_ms);
			break;
		}
	}
	/* Killed before its stdin closes: a `cat > f.part && mv` must not take a
	 * cut stream for a whole file. */
	if (rc != CUT_OK)
		kill_group(pid);
	for (int i = 0; i < 3; i++)
		if (r.fds[i] >= 0)
			close(r.fds[i]);
	xp_lines_flush(&r.lines[0], req, XP_STDOUT);
	xp_lines_flush(&r.lines[1], req, XP_STDERR);
	xp_lines_free(&r.lines[0]);
	xp_lines_free(&r.lines[1]);
	if (rc != CUT_OK)
		return rc;
	int status;
	/* Output closed; the shell may still linger (a daemon it started holds
	 * no pipe). Wait for it within what is left of the deadline. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (req->timeout_ms > 0 && xp_now_ms() - start >= req->timeout_ms) {
			kill_group(pid);
			return cut_fail(err, CUT_ETIMEOUT, "no exit after %d ms; the command was killed", req->timeout_ms);
		}
		usleep(10 * 1000);
	}
	req->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return CUT_OK;
}

static void local_close(struct xport *x)
{
	(void)x;
}

static const struct xport_ops local_ops = {"local", local_exec, local_close};

struct xport *xp_local(void)
{
	/* Immutable after initialisation: shared by every thread. */
	static struct xport local = {&local_ops, "local"};
	return &local;
}
