/*
 * zk_probe: the `srvr` four-letter word over TCP, with a deadline on connect,
 * send and every read. Since ZooKeeper 3.5.3 only srvr is whitelisted by
 * default, so this works on every node the seed knows (3.4.5 to 3.8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutover/probe.h"

const char *zk_role_name(enum zk_role r)
{
	static const char *const n[] = {"no answer", "down", "leader", "follower", "observer", "standalone", "unknown"};
	return (unsigned)r < sizeof n / sizeof n[0] ? n[r] : "?";
}

static int dial(const char *host, int port, int64_t deadline, struct zk_srvr *out)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	if (getaddrinfo(host, ps, &hints, &ai) != 0) {
		snprintf(out->error, sizeof out->error, "cannot resolve %s", host);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (rc != 0 && fd >= 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int left = (int)(deadline - xp_now_ms());
		if (poll(&p, 1, left > 0 ? left : 0) == 1) {
			int e = 0;
			socklen_t el = sizeof e;
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
			errno = e;
			rc = e == 0 ? 0 : -1;
		} else {
			errno = ETIMEDOUT;
		}
	}
	if (rc != 0) {
		out->role = errno == ECONNREFUSED ? ZR_DOWN : ZR_NOANSWER;
		snprintf(out->error, sizeof out->error, "%s:%d: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void parse(char *buf, struct zk_srvr *out)
{
	char *save = NULL;
	out->role = ZR_UNKNOWN;
	for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "Mode: ", 6) == 0) {
			const char *m = l + 6;
			out->role = strncmp(m, "leader", 6) == 0 ? ZR_LEADER : strncmp(m, "follower", 8) == 0 ? ZR_FOLLOWER
				  : strncmp(m, "observer", 8) == 0 ? ZR_OBSERVER : strncmp(m, "standalone", 10) == 0
				  ? ZR_STANDALONE : ZR_UNKNOWN;
		} else if (strncmp(l, "Zxid: ", 6) == 0) {
			out->zxid = strtoull(l + 6, NULL, 16);
		} else if (strncmp(l, "Node count: ", 12) == 0) {
			out->znodes = strtol(l + 12, NULL, 10);
		} else if (strncmp(l, "Zookeeper version: ", 19) == 0) {
			snprintf(out->version, sizeof out->version, "%.*s", (int)strcspn(l + 19, ",-"), l + 19);
		}
	}
	if (out->role == ZR_UNKNOWN) /* "This ZooKeeper instance is not currently serving requests" */
		snprintf(out->error, sizeof out->error, "%.150s", buf[0] ? buf : "empty answer");
}

void zk_probe_srvr(const char *host, int port, int timeout_ms, struct zk_srvr *out)
{
	memset(out, 0, sizeof *out);
	out->znodes = -1;
	int64_t deadline = xp_now_ms() + timeout_ms;
	int fd = dial(host, port, deadline, out);
	if (fd < 0)
		return;
	char buf[4096];
	size_t len = 0;
	bool sent = false;
	for (;;) {
		int left = (int)(deadline - xp_now_ms());
		struct pollfd p = {.fd = fd, .events = sent ? POLLIN : POLLOUT};
		if (left <= 0 || poll(&p, 1, left) != 1) {
			out->role = ZR_NOANSWER;
			snprintf(out->error, sizeof out->error, "%s:%d: no answer to srvr within %d ms", host, port, timeout_ms);
			close(fd);
			return;
		}
		if (!sent) {
			sent = write(fd, "srvr", 4) == 4;
			continue;
		}
		ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0 || (len += (size_t)n) == sizeof buf - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	parse(buf, out);
}
