/*
 * ssh: the libssh transport (see include/cutover/xport.h).
 *
 * Everything runs with the session in non-blocking mode and our own poll loop,
 * so every phase -- TCP connect, banner, key exchange, auth, each command --
 * has a deadline we enforce, and a host that accepts TCP and then says nothing
 * ends in CUT_ETIMEOUT, not a hang. Host keys are checked against the
 * inventory's known_hosts only (never ~/.ssh/config); auth is key or agent only.
 *
 * sshd runs each command in a new session (setsid), so the remote shell's pid
 * is its process group: the wrapper reports it first on stderr, and a timeout
 * or cancel kills that whole group over a second channel.
 */
#include <libssh/libssh.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/xport.h"
#include "ssh_int.h"

#define PID_MARK "\036cutover-pid "

struct ssh_conn {
	struct xport base;
	ssh_session s;
	int connect_timeout_ms;
};

/* Wait for the session's socket, at most ms (and at least a little). */
static void wait_fd(ssh_session s, int ms, bool out)
{
	int fd = ssh_get_fd(s);
	if (fd < 0) {
		usleep(10 * 1000);
		return;
	}
	struct pollfd p = {.fd = fd, .events = POLLIN | (out ? POLLOUT : 0)};
	poll(&p, 1, ms < 0 ? 0 : ms > 100 ? 100 : ms);
}

static int host_key(struct ssh_conn *c, const struct ssh_target *t, struct cut_err *err)
{
	enum ssh_known_hosts_e st = ssh_session_is_known_server(c->s);
	if (st == SSH_KNOWN_HOSTS_OK)
		return CUT_OK;
	char *fp = NULL;
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (ssh_get_server_publickey(c->s, &key) == SSH_OK &&
	    ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0)
		fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	const char *why = st == SSH_KNOWN_HOSTS_CHANGED ? "has CHANGED since it was recorded (possible impostor)"
			: st == SSH_KNOWN_HOSTS_OTHER ? "is of another type than the one recorded"
			: st == SSH_KNOWN_HOSTS_NOT_FOUND ? "cannot be checked: the known_hosts file does not exist"
			: st == SSH_KNOWN_HOSTS_UNKNOWN ? "is not in known_hosts"
			: "could not be checked";
	int rc = cut_fail(err, CUT_EAUTH,
			  "refusing %s: its host key %s %s; it offers %s; if that is right, fix %s "
			  "(e.g. ssh-keyscan -p %d %s >> %s)",
			  c->base.name, fp ? fp : "(no key)", why, fp ? fp : "(no key)",
			  t->known_hosts ? t->known_hosts : "~/.ssh/known_hosts", t->port, t->host,
			  t->known_hosts ? t->known_hosts : "~/.ssh/known_hosts");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return rc;
}

static int auth(struct ssh_conn *c, const struct ssh_target *t, int64_t deadline, struct cut_err *err)
{
	ssh_key key = NULL;
	if (t->identity && ssh_pki_import_privkey_file(t->identity, NULL, NULL, NULL, &key) != SSH_OK && !t->agent)
		return cut_fail(err, CUT_EAUTH, "%s: cannot read the private key %s (must exist, unencrypted, or use agent: true)",
				c->base.name, t->identity);
	int rc = SSH_AUTH_DENIED;
	if (key) {
		while ((rc = ssh_userauth_publickey(c->s, NULL, key)) == SSH_AUTH_AGAIN && xp_now_ms() < deadline)
			wait_fd(c->s, (int)(deadline - xp_now_ms()), true);
		ssh_key_free(key);
	}
	if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_AGAIN && t->agent)
		while ((rc = ssh_userauth_agent(c->s, NULL)) == SSH_AUTH_AGAIN && xp_now_ms() < deadline)
			wait_fd(c->s, (int)(deadline - xp_now_ms()), true);
	if (rc == SSH_AUTH_SUCCESS)
		return CUT_OK;
	if (rc == SSH_AUTH_AGAIN)
		return cut_fail(err, CUT_ETIMEOUT, "%s: no answer to authentication within %d ms", c->base.name,
				c->connect_timeout_ms);
	return cut_fail(err, CUT_EAUTH, "%s: the server refused key%s authentication as %s: %s", c->base.name,
			t->agent ? " and agent" : "", t->user ? t->user : "root", ssh_get_error(c->s));
}

static const struct xport_ops ssh_ops;

int ssh_open(const struct ssh_target *t, struct xport **out, struct cut_err *err)
{
	*out = NULL;
	struct ssh_conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	c->base.ops = &ssh_ops;
	c->connect_timeout_ms = t->connect_timeout_ms > 0 ? t->connect_timeout_ms : 10000;
	snprintf(c->base.name, sizeof c->base.name, "%s@%s:%d", t->user ? t->user : "root", t->host, t->port);
	c->s = ssh_new();
	if (c->s == NULL) {
		free(c);
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	int port = t->port, no = 0;
	long tmo = (c->connect_timeout_ms + 999) / 1000;
	ssh_options_set(c->s, SSH_OPTIONS_HOST, t->host);
	ssh_options_set(c->s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(c->s, SSH_OPTIONS_USER, t->user ? t->user : "root");
	ssh_options_set(c->s, SSH_OPTIONS_PROCESS_CONFIG, &no);
	ssh_options_set(c->s, SSH_OPTIONS_TIMEOUT, &tmo);
	/* Commands are request and answer: a small last packet must not wait
	 * for the peer's delayed ACK (Nagle). */
	int nodelay = 1;
	ssh_options_set(c->s, SSH_OPTIONS_NODELAY, &nodelay);
	/* AES-GCM first: libcrypto runs it on the CPU's AES instructions, several
	 * times faster than chacha20-poly1305 (libssh's default first choice), and
	 * a copy of gigabytes is bound by the cipher. All are OpenSSH's defaults. */
	static const char ciphers[] = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
				      "aes128-ctr,aes256-ctr";
	ssh_options_set(c->s, SSH_OPTIONS_CIPHERS_C_S, ciphers);
	ssh_options_set(c->s, SSH_OPTIONS_CIPHERS_S_C, ciphers);
	if (t->known_hosts) {
		ssh_options_set(c->s, SSH_OPTIONS_KNOWNHOSTS, t->known_hosts);
		ssh_options_set(c->s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, t->known_hosts);
	}
	ssh_set_blocking(c->s, 0);
	int64_t deadline = xp_now_ms() + c->connect_timeout_ms;
	int rc;
	while ((rc = ssh_connect(c->s)) == SSH_AGAIN && xp_now_ms() < deadline)
		wait_fd(c->s, (int)(deadline - xp_now_ms()), true);
	if (rc == SSH_AGAIN)
		rc = cut_fail(err, CUT_ETIMEOUT, "%s: no SSH answer within %d ms (the host or its sshd hangs)",
			      c->base.name, c->connect_timeout_ms);
	else if (rc != SSH_OK)
		rc = cut_fail(err, CUT_ENET, "%s: %s", c->base.name, ssh_get_error(c->s));
	else if ((rc = host_key(c, t, err)) == CUT_OK)
		rc = auth(c, t, deadline, err);
	if (rc != CUT_OK) {
		ssh_conn_close(&c->base);
		return rc;
	}
	*out = &c->base;
	return CUT_OK;
}

void ssh_conn_close(struct xport *x)
{
	struct ssh_conn *c = (struct ssh_conn *)x;
	if (c == NULL)
		return;
	ssh_disconnect(c->s);
	ssh_free(c->s);
	free(c);
}

/* ---- exec --------------------------------------------------------------------- */

struct run {
	struct xp_exec *req, shim;
	struct xp_lines lines[2];
	long pid; /* the remote process group, once reported */
	char inbuf[131072]; /* a bulk stream in big reads: fewer calls, same packets */
	size_t inlen, inoff;
	bool in_done, in_again, in_failed;
	int64_t last_read, last_err_read;
};

static void shim_line(void *ud, enum xp_stream s, const char *line, size_t len, bool more)
{
	struct run *r = ud;
	size_t m = sizeof PID_MARK - 1;
	if (s == XP_STDERR && r->pid == 0 && len > m && memcmp(line, PID_MARK, m) == 0) {
		r->pid = strtol(line + m, NULL, 10);
		return;
	}
	if (r->req->on_line)
		r->req->on_line(r->req->ud, s, line, len, more);
}

static int open_channel(struct ssh_conn *c, ssh_channel *out, const char *cmd, int64_t deadline, struct cut_err *err)
{
	ssh_channel ch = ssh_channel_new(c->s);
	if (ch == NULL)
		return cut_fail(err, CUT_ENET, "%s: %s", c->base.name, ssh_get_error(c->s));
	int rc;
	while ((rc = ssh_channel_open_session(ch)) == SSH_AGAIN && xp_now_ms() < deadline)
		wait_fd(c->s, (int)(deadline - xp_now_ms()), true);
	if (rc == SSH_OK)
		while ((rc = ssh_channel_request_exec(ch, cmd)) == SSH_AGAIN && xp_now_ms() < deadline)
			wait_fd(c->s, (int)(deadline - xp_now_ms()), true);
	if (rc != SSH_OK) {
		ssh_channel_free(ch);
		if (rc == SSH_AGAIN)
			return cut_fail(err, CUT_ETIMEOUT, "%s: no answer to opening a channel", c->base.name);
		return cut_fail(err, CUT_ENET, "%s: %s", c->base.name, ssh_get_error(c->s));
	}
	*out = ch;
	return CUT_OK;
}

/* Kill the remote group started by a command we gave up on. */
static void kill_remote(struct ssh_conn *c, long pid)
{
	if (pid <= 1)
		return;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "kill -TERM -- -%ld 2>/dev/null; sleep 1; kill -KILL -- -%ld 2>/dev/null; true", pid, pid);
	ssh_channel ch;
	int64_t deadline = xp_now_ms() + 3000;
	if (open_channel(c, &ch, cmd, deadline, NULL) != CUT_OK)
		return;
	while (!ssh_channel_is_eof(ch) && xp_now_ms() < deadline) {
		char buf[256];
		if (ssh_channel_read_nonblocking(ch, buf, sizeof buf, 0) == SSH_ERROR)
			break;
		wait_fd(c->s, 50, false);
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
}

/*
 * One poll of the session's socket. The loop asks once per round: a bulk
 * stream spent a quarter of its time in poll calls when each step (write,
 * read stdout, read stderr, wait) asked on its own.
 */
static short sock_events(ssh_session s, bool out, int ms)
{
	struct pollfd p = {.fd = ssh_get_fd(s), .events = POLLIN | (out ? POLLOUT : 0)};
	if (p.fd < 0)
		return p.events;
	return poll(&p, 1, ms < 0 ? 0 : ms > 100 ? 100 : ms) == 1 ? p.revents : 0;
}

/*
 * One chunk of stdin, as far as the channel's window goes. Called only when
 * the socket has room: written past it, libssh queues every packet in a
 * buffer it regrows and shifts by copying.
 */
static int pump_in(struct run *r, ssh_channel ch, bool *wrote)
{
	if (r->inoff == r->inlen) {
		ssize_t n = r->req->in(r->req->ud, r->inbuf, sizeof r->inbuf);
		r->in_again = n == XP_IN_AGAIN;
		if (r->in_again)
			return 0;
		if (n < 0)
			return r->in_failed = true, -1;
		if (n == 0) {
			ssh_channel_send_eof(ch);
			r->in_done = true;
			return 0;
		}
		r->inlen = (size_t)n, r->inoff = 0;
	}
	uint32_t win = ssh_channel_window_size(ch);
	if (win == 0)
		return 0;
	size_t want = r->inlen - r->inoff;
	int w = ssh_channel_write(ch, r->inbuf + r->inoff, (uint32_t)(want < win ? want : win));
	if (w == SSH_ERROR)
		return -1;
	r->inoff += (size_t)w;
	r->req->in_bytes += (uint64_t)w;
	*wrote = w > 0;
	return 0;
}

static int read_stream(struct run *r, ssh_channel ch, int is_err, bool *progress)
{
	char buf[65536];
	int n = ssh_channel_read_nonblocking(ch, buf, sizeof buf, is_err);
	if (n <= 0)
		return n;
	*progress = true;
	if (is_err) {
		r->req->err_bytes += (uint64_t)n;
		xp_lines_feed(&r->lines[1], &r->shim, XP_STDERR, buf, (size_t)n);
	} else {
		r->req->out_bytes += (uint64_t)n;
		if (r->req->on_data)
			r->req->on_data(r->req->ud, buf, (size_t)n);
		else
			xp_lines_feed(&r->lines[0], &r->shim, XP_STDOUT, buf, (size_t)n);
	}
	return n;
}

/* stdout, and stderr when stdout is quiet or every 50 ms (it only ever carries a few lines). */
static int read_some(struct run *r, ssh_channel ch, bool *progress)
{
	int n = read_stream(r, ch, 0, progress);
	int64_t now = xp_now_ms();
	if (n == SSH_ERROR)
		return -1;
	if (n > 0 && now - r->last_err_read < 50)
		return 0;
	r->last_err_read = now;
	return read_stream(r, ch, 1, progress) == SSH_ERROR ? -1 : 0;
}

/* The remote process group is reported first thing; a command given up on at
 * once may not have said it yet. */
static void await_pid(struct ssh_conn *c, struct run *r, ssh_channel ch)
{
	int64_t until = xp_now_ms() + 2000;
	bool progress;
	while (r->pid == 0 && xp_now_ms() < until && !ssh_channel_is_closed(ch) && read_some(r, ch, &progress) == 0)
		wait_fd(c->s, 50, false);
}

static int loop(struct ssh_conn *c, struct run *r, ssh_channel ch, int64_t start, struct cut_err *err)
{
	struct xp_exec *req = r->req;
	int64_t last = start;
	for (;;) {
		bool progress = false, wrote = false;
		bool writing = req->in && !r->in_done;
		short ev = writing && !r->in_again ? sock_events(c->s, true, 0) : 0;
		if (writing && (r->in_again || (ev & POLLOUT)) && pump_in(r, ch, &wrote) != 0)
			return cut_fail(err, CUT_EIO, "%s: sending data failed: %s", c->base.name, ssh_get_error(c->s));
		/* While writing, the output is read when the socket has some, and
		 * at least every 50 ms (window adjustments, stderr). */
		int64_t now = xp_now_ms();
		bool reading = !writing || (ev & (POLLIN | POLLERR | POLLHUP)) || now - r->last_read >= 50;
		if (reading && read_some(r, ch, &progress) != 0)
			return cut_fail(err, CUT_ENET, "%s: connection lost: %s", c->base.name, ssh_get_error(c->s));
		if (reading)
			r->last_read = now;
		if (req->tick)
			req->tick(req->ud);
		if (progress)
			last = now;
		else if (reading && (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)))
			return CUT_OK;
		if (req->cancel && atomic_load(req->cancel))
			return cut_fail(err, CUT_ECANCELED, "canceled by the operator; the command on %s was killed",
					c->base.name);
		if (req->timeout_ms > 0 && now - start >= req->timeout_ms)
			return cut_fail(err, CUT_ETIMEOUT, "%s: no end after %d ms (the step's timeout); the command was killed",
					c->base.name, req->timeout_ms);
		if (req->idle_ms > 0 && now - last >= req->idle_ms)
			return cut_fail(err, CUT_ETIMEOUT, "%s: no output for %d ms; the command was killed",
					c->base.name, req->idle_ms);
		if (!progress && !wrote) /* waiting for our own data: only the socket's input matters */
			wait_fd(c->s, r->in_again ? 10 : 50, req->in && !r->in_done && !r->in_again);
	}
}

static int exit_status(struct ssh_conn *c, ssh_channel ch, int64_t deadline)
{
	int st;
	/* exit-status may arrive just after EOF. */
	while ((st = ssh_channel_get_exit_status(ch)) == -1 && !ssh_channel_is_closed(ch) && xp_now_ms() < deadline) {
		char buf[256];
		if (ssh_channel_read_nonblocking(ch, buf, sizeof buf, 0) == SSH_ERROR)
			break;
		wait_fd(c->s, 20, false);
	}
	return st;
}

static int ssh_exec(struct xport *x, struct xp_exec *req, struct cut_err *err)
{
	struct ssh_conn *c = (struct ssh_conn *)x;
	struct run r = {.req = req, .shim = *req};
	r.shim.on_line = shim_line;
	r.shim.ud = &r;
	size_t n = strlen(req->cmd) + 64;
	char *cmd = malloc(n);
	if (cmd == NULL)
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	snprintf(cmd, n, "printf '" PID_MARK "%%s\\n' $$ >&2; %s", req->cmd);
	int64_t start = xp_now_ms();
	int64_t deadline = req->timeout_ms > 0 ? start + req->timeout_ms : start + 24LL * 3600 * 1000;
	ssh_channel ch;
	int rc = open_channel(c, &ch, cmd, start + (req->timeout_ms > 0 && req->timeout_ms < c->connect_timeout_ms
						    ? req->timeout_ms : c->connect_timeout_ms), err);
	free(cmd);
	if (rc != CUT_OK)
		return rc;
	rc = loop(c, &r, ch, start, err);
	xp_lines_flush(&r.lines[0], &r.shim, XP_STDOUT);
	xp_lines_flush(&r.lines[1], &r.shim, XP_STDERR);
	xp_lines_free(&r.lines[0]);
	xp_lines_free(&r.lines[1]);
	if (rc == CUT_OK) {
		req->exit_status = exit_status(c, ch, deadline);
		if (req->exit_status == -1)
			rc = cut_fail(err, CUT_EREMOTE, "%s: the command ended without an exit status (killed by a signal?)",
				      c->base.name);
	}
	/* Killed before the channel closes: closing it ends the command's stdin,
	 * and a `cat > f.part && mv` would take a cut stream for a whole file. */
	if (rc == CUT_ETIMEOUT || rc == CUT_ECANCELED || r.in_failed) {
		await_pid(c, &r, ch);
		kill_remote(c, r.pid);
	}
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	return rc;
}

static const struct xport_ops ssh_ops = {"ssh", ssh_exec, ssh_conn_close};
