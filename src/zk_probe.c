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

/* Send a four-letter word, read the answer to EOF; 0, or -1 with role and error in s. */
static int exchange(const char *host, int port, const char *word, int timeout_ms, char **out, size_t *outlen,
		    struct zk_srvr *s)
{
	int64_t deadline = xp_now_ms() + timeout_ms;
	*out = NULL;
	int fd = dial(host, port, deadline, s);
	if (fd < 0)
		return -1;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	bool sent = false;
	for (; buf;) {
		int left = (int)(deadline - xp_now_ms());
		struct pollfd p = {.fd = fd, .events = sent ? POLLIN : POLLOUT};
		if (left <= 0 || poll(&p, 1, left) != 1) {
			s->role = ZR_NOANSWER;
			snprintf(s->error, sizeof s->error, "%s:%d: no answer to %s within %d ms", host, port, word, timeout_ms);
			close(fd);
			free(buf);
			return -1;
		}
		if (!sent) {
			sent = write(fd, word, 4) == 4;
			continue;
		}
		if (len + 1 == cap) {
			char *b = cap < (1u << 20) ? realloc(buf, cap *= 2) : NULL;
			if (b == NULL)
				break;
			buf = b;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL)
		return -1;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int zk_4lw(const char *host, int port, const char *word, int timeout_ms, char **out, size_t *len)
{
	struct zk_srvr s;
	memset(&s, 0, sizeof s);
	return exchange(host, port, word, timeout_ms, out, len, &s);
}

void zk_probe_srvr(const char *host, int port, int timeout_ms, struct zk_srvr *out)
{
	memset(out, 0, sizeof *out);
	out->znodes = -1;
	char *buf;
	size_t len;
	if (exchange(host, port, "srvr", timeout_ms, &buf, &len, out) != 0)
		return;
	parse(buf, out);
	free(buf);
}
