/*
 * xport: where a command runs. Two transports behind one small ops table:
 * ssh (libssh, one connection per host, reused) and local (fork/exec).
 *
 * xp_exec runs one shell command with separate stdout and stderr, streamed
 * line by line (or as raw bytes for file reads), optional stdin, and three
 * ways to end early, each a clear error: the command's deadline, an idle
 * limit (no output for that long), and a cancel flag another thread may set.
 * A command that is stopped early is killed with its whole process group, on
 * the remote side too. Nothing here waits without a deadline.
 *
 * File streams are commands too (`cat`), so the copy action gets the same
 * timeouts, cancel and progress as any command. A transport is used by one
 * thread at a time; the pool hands each host's connection to one user.
 */
#ifndef CUTOVER_XPORT_H
#define CUTOVER_XPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cutover/err.h"

enum xp_stream { XP_STDOUT = 1, XP_STDERR = 2 };

#define XP_IN_AGAIN (-2)

struct xp_exec {
	const char *cmd;
	int timeout_ms; /* the whole command; 0: none (the engine always sets one) */
	int idle_ms;    /* no output for this long ends it; 0: none */
	/* A line without its '\n'. A line over 64 KiB comes in pieces: each but
	 * the last has more set, so a consumer can join them (and find a
	 * secret that a piece boundary cuts in two). */
	void (*on_line)(void *ud, enum xp_stream s, const char *line, size_t len, bool more);
	/* Raw stdout instead of lines, when set (file reads). */
	void (*on_data)(void *ud, const char *buf, size_t len);
	/* Stdin: fill buf, return bytes, 0 at end, -1 to fail (the command is
	 * killed before its stdin closes, so a cut stream never looks like a
	 * finished one), XP_IN_AGAIN when nothing is ready yet (it may wait up
	 * to ~50 ms itself; the transport keeps its deadlines and asks again).
	 * NULL: no stdin. */
	ssize_t (*in)(void *ud, char *buf, size_t cap);
	void *ud;
	const atomic_int *cancel; /* non-zero: stop now (CUT_ECANCELED) */
	void (*tick)(void *ud);   /* called at least every 100 ms while it runs */
	/* results */
	int exit_status; /* -1 when the command did not exit on its own */
	uint64_t out_bytes, err_bytes, in_bytes;
};

struct xport;

struct xport_ops {
	const char *kind; /* "ssh" | "local" */
	int (*exec)(struct xport *x, struct xp_exec *req, struct cut_err *err);
	void (*close)(struct xport *x);
};

/* Every transport begins with this. */
struct xport {
	const struct xport_ops *ops;
	char name[160]; /* user@host:port, or "local" */
};

int xp_exec(struct xport *x, struct xp_exec *req, struct cut_err *err);

/* Stream a file out (read) or in (write, replacing it atomically); the sink and
 * source callbacks see every byte, which is where progress is counted. */
int xp_read_file(struct xport *x, const char *path, void (*sink)(void *ud, const char *buf, size_t len),
		 void *ud, int timeout_ms, const atomic_int *cancel, struct cut_err *err);
int xp_write_file(struct xport *x, const char *path, ssize_t (*src)(void *ud, char *buf, size_t cap),
		  void *ud, int timeout_ms, const atomic_int *cancel, struct cut_err *err);
/* A small file whole, NUL-terminated (*out, freed by the caller); more than max bytes fails. */
int xp_read_all(struct xport *x, const char *path, size_t max, int timeout_ms, const atomic_int *cancel, char **out,
		size_t *len, struct cut_err *err);

/* The local transport (one per process is enough; it holds no state). */
struct xport *xp_local(void);

/* ---- SSH ------------------------------------------------------------------ */

struct ssh_target {
	const char *host, *user, *identity, *known_hosts;
	int port;
	bool agent;
	int connect_timeout_ms; /* TCP connect, banner, key exchange and auth together */
};

struct ssh_pool;

struct ssh_pool *ssh_pool_new(void);
void ssh_pool_free(struct ssh_pool *p);
/* The host's connection, connected on first use; returned by ssh_pool_put. */
int ssh_pool_get(struct ssh_pool *p, const struct ssh_target *t, struct xport **out, struct cut_err *err);
/* broken: drop the connection (after a timeout or a network error). */
void ssh_pool_put(struct ssh_pool *p, struct xport *x, bool broken);

/* Connect one session outside any pool (status probes, tests). */
int ssh_open(const struct ssh_target *t, struct xport **out, struct cut_err *err);

/* ---- the site's transports ---------------------------------------------------- */

struct inv_ssh;
struct subst_scope;
/* host "local" (or none), or a node marked ssh.local: cutover runs there, so
 * its commands run here and its paths open directly, without SSH. */
bool xp_is_local(const char *host, const struct inv_ssh *ssh);

/*
 * The transport to host as the inventory describes it: this machine when
 * xp_is_local; anything else is SSH with ssh's settings, whose paths may use
 * ${...} from scope. Give it back with xp_put.
 */
int xp_get(struct ssh_pool *pool, const char *host, const struct inv_ssh *ssh, const struct subst_scope *sc,
	   struct xport **out, struct cut_err *err);
void xp_put(struct ssh_pool *pool, struct xport *x, int rc);

/* ---- shared by the transports ------------------------------------------------ */

/* Splits a stream into lines for xp_exec's on_line. */
struct xp_lines {
	char *buf; /* XP_MAX_LINE (64 KiB) once a line needs joining */
	size_t len;
};
void xp_lines_feed(struct xp_lines *l, struct xp_exec *req, enum xp_stream s, const char *data, size_t n);
void xp_lines_flush(struct xp_lines *l, struct xp_exec *req, enum xp_stream s);
void xp_lines_free(struct xp_lines *l);
/* Milliseconds left before deadline (monotonic ms), never below 0. */
int64_t xp_now_ms(void);

#endif
