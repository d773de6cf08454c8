/*
 * Transport tests against the lab's real sshd (and the local transport):
 * streaming, stderr apart, exit codes, timeouts that kill, hung listeners,
 * host keys, file streams. Run by test_xport.sh with LAB_DIR set and the lab up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutover/hash.h"
#include "cutover/xport.h"

static char identity[512], known[512];

static struct ssh_target lab_target(const char *host)
{
	return (struct ssh_target){.host = host, .user = "root", .port = 2222, .identity = identity,
				   .known_hosts = known, .connect_timeout_ms = 3000};
}

struct sink {
	uint64_t out_lines, err_lines, out_bytes, pieces;
	size_t biggest; /* piece */
	char first_err[256], last_out[256];
	struct hash_ctx *h;
};

static void on_line(void *ud, enum xp_stream s, const char *line, size_t len, bool more)
{
	struct sink *k = ud;
	k->pieces++;
	if (len > k->biggest)
		k->biggest = len;
	if (s == XP_STDOUT) {
		k->out_lines += !more;
		k->out_bytes += len + !more;
		snprintf(k->last_out, sizeof k->last_out, "%.*s", (int)len, line);
	} else {
		if (k->err_lines++ == 0)
			snprintf(k->first_err, sizeof k->first_err, "%.*s", (int)len, line);
	}
}

static int run(struct xport *x, const char *cmd, int timeout_ms, struct sink *k, struct xp_exec *req, struct cut_err *e)
{
	memset(k, 0, sizeof *k);
	*req = (struct xp_exec){.cmd = cmd, .timeout_ms = timeout_ms, .on_line = on_line, .ud = k};
	return xp_exec(x, req, e);
}

static void streams_apart_and_exit_codes(struct xport *x)
{
	struct sink k;
	struct xp_exec req;
	struct cut_err e;
	assert_int_equal(run(x, "echo out; echo err >&2; echo out2; exit 7", 10000, &k, &req, &e), CUT_OK);
	assert_int_equal(req.exit_status, 7);
	assert_int_equal(k.out_lines, 2);
	assert_int_equal(k.err_lines, 1);
	assert_string_equal(k.first_err, "err");
	assert_string_equal(k.last_out, "out2");
	/* 10 MiB of output, line by line, nothing lost. */
	assert_int_equal(run(x, "yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456 | head -c 10485760",
			     60000, &k, &req, &e), CUT_OK);
	assert_int_equal(req.exit_status, 0);
	assert_int_equal(req.out_bytes, 10485760);
	assert_int_equal(k.out_bytes, 10485760);
	assert_int_equal(k.out_lines, 10485760 / 80); /* 79 characters and a newline */
	/* A 1 MiB line without a newline in it: pieces of at most 64 KiB, joined by more. */
	assert_int_equal(run(x, "head -c 1048576 /dev/zero | tr '\\0' x; echo; echo next", 60000, &k, &req, &e), CUT_OK);
	assert_int_equal(k.out_lines, 2);
	assert_int_equal(k.out_bytes, 1048576 + 1 + 5);
	/* 16 full pieces; the newline comes with the last or, read apart, as an empty one */
	assert_in_range(k.pieces, 1048576 / 65536 + 1, 1048576 / 65536 + 2);
	assert_int_equal(k.biggest, 65536);
	assert_string_equal(k.last_out, "next");
}

static void test_xport_ssh_exec(void **state)
{
	(void)state;
	struct xport *x;
	struct cut_err e;
	struct ssh_target t = lab_target("127.0.1.2");
	assert_int_equal(ssh_open(&t, &x, &e), CUT_OK);
	streams_apart_and_exit_codes(x);
	x->ops->close(x);
}

static void test_xport_ssh_timeout_kills_remote_group(void **state)
{
	(void)state;
	struct xport *x;
	struct cut_err e;
	struct ssh_target t = lab_target("127.0.2.3");
	assert_int_equal(ssh_open(&t, &x, &e), CUT_OK);
	struct sink k;
	struct xp_exec req;
	int64_t t0 = xp_now_ms();
	assert_int_equal(run(x, "sleep 1000 & sleep 1001; echo never", 1500, &k, &req, &e), CUT_ETIMEOUT);
	int64_t took = xp_now_ms() - t0;
	assert_true(took >= 1500 && took < 8000);
	assert_non_null(strstr(e.msg, "killed"));
	/* the connection still works afterwards, and the whole group is gone */
	assert_int_equal(run(x, "sleep 1; pgrep -f 'sleep 100[01]' | wc -l", 10000, &k, &req, &e), CUT_OK);
	assert_string_equal(k.last_out, "0");
	/* no output for 1 s ends it too */
	req = (struct xp_exec){.cmd = "echo hi; sleep 1000", .timeout_ms = 30000, .idle_ms = 1000, .on_line = on_line, .ud = &k};
	t0 = xp_now_ms();
	assert_int_equal(xp_exec(x, &req, &e), CUT_ETIMEOUT);
	assert_true(xp_now_ms() - t0 < 5000);
	assert_non_null(strstr(e.msg, "no output"));
	x->ops->close(x);
}

static void test_xport_local_exec_and_timeout(void **state)
{
	(void)state;
	struct xport *x = xp_local();
	streams_apart_and_exit_codes(x);
	struct sink k;
	struct xp_exec req;
	struct cut_err e;
	int64_t t0 = xp_now_ms();
	assert_int_equal(run(x, "sleep 1002 & sleep 1003", 1000, &k, &req, &e), CUT_ETIMEOUT);
	assert_true(xp_now_ms() - t0 < 5000);
	assert_int_equal(run(x, "sleep 0.5; pgrep -f 'sleep 100[23]' | wc -l", 10000, &k, &req, &e), CUT_OK);
	assert_string_equal(k.last_out, "0");
	atomic_int cancel = 1;
	req = (struct xp_exec){.cmd = "sleep 1000", .timeout_ms = 30000, .cancel = &cancel};
	assert_int_equal(xp_exec(x, &req, &e), CUT_ECANCELED);
}

/* A TCP listener that accepts and never speaks SSH. */
static void test_xport_ssh_silent_listener_times_out(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	socklen_t al = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &al);
	struct ssh_target t = lab_target("127.0.0.1");
	t.port = ntohs(a.sin_port);
	t.connect_timeout_ms = 1500;
	struct xport *x = NULL;
	struct cut_err e;
	int64_t t0 = xp_now_ms();
	assert_int_equal(ssh_open(&t, &x, &e), CUT_ETIMEOUT);
	int64_t took = xp_now_ms() - t0;
	assert_true(took >= 1400 && took < 5000);
	assert_null(x);
	assert_non_null(strstr(e.msg, "no SSH answer"));
	close(fd);
	/* nothing listening at all: a network error, at once */
	t.port = 1;
	assert_int_equal(ssh_open(&t, &x, &e), CUT_ENET);
}

static void test_xport_ssh_changed_host_key_refused(void **state)
{
	(void)state;
	char bad[600];
	snprintf(bad, sizeof bad, "%s.bad", known);
	/* 127.0.1.1's entry replaced by 127.0.1.2's key type with another key */
	FILE *f = fopen(bad, "w");
	fprintf(f, "[127.0.1.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMmRJ3GWjqLF5fPb3xWkz7tn5FoQyGtBFXtHPOTKSHXJ\n");
	fclose(f);
	struct ssh_target t = lab_target("127.0.1.1");
	t.known_hosts = bad;
	struct xport *x = NULL;
	struct cut_err e;
	assert_int_equal(ssh_open(&t, &x, &e), CUT_EAUTH);
	assert_non_null(strstr(e.msg, "CHANGED"));
	assert_non_null(strstr(e.msg, "SHA256:"));
	assert_non_null(strstr(e.msg, bad));
	/* unknown host: empty file */
	f = fopen(bad, "w");
	fclose(f);
	assert_int_equal(ssh_open(&t, &x, &e), CUT_EAUTH);
	assert_non_null(strstr(e.msg, "not in known_hosts"));
	unlink(bad);
}

struct blob {
	size_t size, off;
	struct hash_ctx *h;
};

static ssize_t blob_src(void *ud, char *buf, size_t cap)
{
	struct blob *b = ud;
	size_t n = b->size - b->off < cap ? b->size - b->off : cap;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)((b->off + i) * 2654435761u >> 13);
	hash_update(b->h, buf, n);
	b->off += n;
	return (ssize_t)n;
}

static void blob_sink(void *ud, const char *buf, size_t len)
{
	struct blob *b = ud;
	hash_update(b->h, buf, len);
	b->off += len;
}

/* size bytes streamed into path through x; their hash in h1. */
static void write_blob(struct xport *x, const char *path, size_t size, char h1[65])
{
	struct cut_err e;
	struct blob w = {.size = size, .h = hash_new()};
	assert_int_equal(xp_write_file(x, path, blob_src, &w, 30000, NULL, &e), CUT_OK);
	hash_final(w.h, h1);
}

/* path read back through x: size bytes hashing to h1; a missing file is named in the error. */
static void read_back(struct xport *x, const char *path, size_t size, const char h1[65])
{
	struct cut_err e;
	char h2[65];
	struct blob r = {.h = hash_new()};
	assert_int_equal(xp_read_file(x, path, blob_sink, &r, 30000, NULL, &e), CUT_OK);
	hash_final(r.h, h2);
	assert_int_equal(r.off, size);
	assert_string_equal(h1, h2);
	struct blob r2 = {.h = hash_new()};
	assert_int_equal(xp_read_file(x, "/nonexistent/file", blob_sink, &r2, 30000, NULL, &e), CUT_EREMOTE);
	hash_final(r2.h, h2);
	assert_non_null(strstr(e.msg, "No such file"));
}

static void test_xport_ssh_file_streams(void **state)
{
	(void)state;
	struct ssh_pool *p = ssh_pool_new();
	struct xport *x, *y;
	struct cut_err e;
	struct ssh_target t = lab_target("127.0.2.1");
	assert_int_equal(ssh_pool_get(p, &t, &x, &e), CUT_OK);
	char path[600], h1[65];
	snprintf(path, sizeof path, "%s/xport test file", getenv("LAB_DIR"));
	size_t size = 5 * 1024 * 1024 + 17;
	write_blob(x, path, size, h1);
	ssh_pool_put(p, x, false);
	assert_int_equal(ssh_pool_get(p, &t, &y, &e), CUT_OK);
	assert_ptr_equal(x, y); /* one connection per host, reused */
	read_back(y, path, size, h1);
	ssh_pool_put(p, y, false);
	ssh_pool_free(p);
	unlink(path);
}

/* On this machine a regular file is read directly, with the same answers as any transport. */
static void test_xport_local_file_streams(void **state)
{
	(void)state;
	struct xport *x = xp_local();
	char path[600], h1[65], h2[65];
	snprintf(path, sizeof path, "%s/xport local file", getenv("LAB_DIR"));
	size_t size = 3 * 1024 * 1024 + 5;
	write_blob(x, path, size, h1);
	read_back(x, path, size, h1);
	atomic_int cancel = 1; /* the operator canceled: the read stops after its first chunk */
	struct cut_err e;
	struct blob r = {.h = hash_new()};
	assert_int_equal(xp_read_file(x, path, blob_sink, &r, 30000, &cancel, &e), CUT_ECANCELED);
	hash_final(r.h, h2);
	assert_true(r.off < size);
	unlink(path);
}

/* A source that is not ready at first, sends 1 MiB, then (cut) fails or (whole) ends. */
struct flaky {
	int calls;
	size_t sent;
	bool cut;
};

static ssize_t flaky_src(void *ud, char *buf, size_t cap)
{
	struct flaky *f = ud;
	if (f->calls++ % 3 != 2)
		return XP_IN_AGAIN; /* two of three calls: nothing yet */
	if (f->sent == 1 << 20)
		return f->cut ? -1 : 0;
	size_t n = cap < 65536 ? cap : 65536;
	memset(buf, 'z', n);
	f->sent += n;
	return (ssize_t)n;
}

/* The file appears under its name with its whole size, or not at all. */
static void cut_stream_never_renamed(struct xport *x, const char *dir)
{
	char path[600];
	struct cut_err e;
	snprintf(path, sizeof path, "%s/xport cut stream", dir);
	unlink(path);
	struct flaky whole = {0};
	assert_int_equal(xp_write_file(x, path, flaky_src, &whole, 30000, NULL, &e), CUT_OK);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	assert_int_equal(ftell(f), 1 << 20);
	fclose(f);
	unlink(path);
	struct flaky cut = {.cut = true};
	assert_int_equal(xp_write_file(x, path, flaky_src, &cut, 30000, NULL, &e), CUT_EIO);
	usleep(1500 * 1000); /* a `mv` racing the kill would have landed by now */
	assert_int_equal(access(path, F_OK), -1);
	char part[640];
	snprintf(part, sizeof part, "%s.part", path);
	unlink(part);
}

static void test_xport_cut_stream_never_renamed(void **state)
{
	(void)state;
	struct xport *x;
	struct cut_err e;
	struct ssh_target t = lab_target("127.0.2.1");
	assert_int_equal(ssh_open(&t, &x, &e), CUT_OK);
	cut_stream_never_renamed(x, getenv("LAB_DIR"));
	x->ops->close(x);
	cut_stream_never_renamed(xp_local(), getenv("LAB_DIR"));
}

int main(void)
{
	const char *lab = getenv("LAB_DIR");
	if (lab == NULL) {
		fprintf(stderr, "xport_test: set LAB_DIR to a running lab\n");
		return 2;
	}
	snprintf(identity, sizeof identity, "%s/ssh/id_ed25519", lab);
	snprintf(known, sizeof known, "%s/ssh/known_hosts", lab);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xport_ssh_exec),
		cmocka_unit_test(test_xport_ssh_timeout_kills_remote_group),
		cmocka_unit_test(test_xport_local_exec_and_timeout),
		cmocka_unit_test(test_xport_ssh_silent_listener_times_out),
		cmocka_unit_test(test_xport_ssh_changed_host_key_refused),
		cmocka_unit_test(test_xport_ssh_file_streams),
		cmocka_unit_test(test_xport_local_file_streams),
		cmocka_unit_test(test_xport_cut_stream_never_renamed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
