/*
 * rest_replay: serves recorded REST responses on loopback, for the writer-task
 * adapter tests (tests/tasks/test_tasks.sh).
 *
 *   rest_replay ADDR PORT DIR LOG
 *
 * A request "METHOD /a/b?c=d" is answered from DIR/METHOD_a_b_c_d.N, where N
 * counts the requests to that name (1, 2, ...; the highest file is reused once
 * they run out), so a job can be RUNNING, then FINISHED after its stop. The
 * file's first line is the HTTP status, the rest the body. No file: 404.
 * Every request is appended to LOG as "METHOD PATH | AUTHORIZATION | BODY".
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXNAMES 64

struct counter {
	char name[1200];
	int n;
};

static int next_count(struct counter *c, size_t *nc, const char *name)
{
	for (size_t i = 0; i < *nc; i++)
		if (strcmp(c[i].name, name) == 0)
			return ++c[i].n;
	if (*nc == MAXNAMES)
		return 1;
	snprintf(c[*nc].name, sizeof c[*nc].name, "%s", name);
	c[*nc].n = 1;
	return c[(*nc)++].n;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = malloc(1 << 20);
	*len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

static void answer(int c, const char *dir, FILE *log, struct counter *cnt, size_t *ncnt)
{
	char req[65536];
	size_t n = 0;
	ssize_t k;
	char *body = NULL;
	size_t want = 0;
	while (n + 1 < sizeof req && (k = read(c, req + n, sizeof req - 1 - n)) > 0) {
		n += (size_t)k;
		req[n] = '\0';
		char *end = strstr(req, "\r\n\r\n");
		if (end == NULL)
			continue;
		char *cl = strcasestr(req, "\r\nContent-Length:");
		want = (size_t)(end + 4 - req) + (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0);
		if (n >= want)
			break;
	}
	req[n] = '\0';
	char method[16] = "", path[1024] = "", auth[512] = "-";
	sscanf(req, "%15s %1023s", method, path);
	char *a = strcasestr(req, "\r\nAuthorization: ");
	if (a)
		sscanf(a + 17, "%511[^\r]", auth);
	char *sep = strstr(req, "\r\n\r\n");
	body = sep ? sep + 4 : "";
	fprintf(log, "%s %s | %s | %s\n", method, path, auth, body);
	fflush(log);
	char name[1200];
	snprintf(name, sizeof name, "%s%s", method, path);
	for (char *p = name + strlen(method); *p; p++)
		if (*p == '/' || *p == '?' || *p == '=' || *p == '&')
			*p = '_';
	int nth = next_count(cnt, ncnt, name);
	char file[4096];
	size_t len = 0;
	char *text = NULL;
	for (int i = nth; i >= 1 && text == NULL; i--) {
		snprintf(file, sizeof file, "%s/%s.%d", dir, name, i);
		text = slurp(file, &len);
	}
	int status = 404;
	const char *payload = "{\"errors\":[\"Not found: no recording\"]}";
	if (text) {
		status = atoi(text);
		char *nl = strchr(text, '\n');
		payload = nl ? nl + 1 : "";
	}
	char head[256];
	int h = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, strlen(payload));
	(void)!write(c, head, (size_t)h);
	(void)!write(c, payload, strlen(payload));
	free(text);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: rest_replay ADDR PORT DIR LOG\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a client that hangs up must not end the server */
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1 || bind(s, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    listen(s, 16) != 0) {
		perror("rest_replay: listen");
		return 1;
	}
	FILE *log = fopen(argv[4], "a");
	if (log == NULL) {
		perror(argv[4]);
		return 1;
	}
	struct counter cnt[MAXNAMES];
	size_t ncnt = 0;
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		answer(c, argv[3], log, cnt, &ncnt);
		close(c);
	}
}
