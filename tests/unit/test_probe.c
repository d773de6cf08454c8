/*
 * Unit tests for the probe's parsers: a ZooKeeper 3.7 Prometheus page served
 * by a small HTTP server on loopback (the Debian jar has no Prometheus
 * provider), and a server that accepts and never answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutover/probe.h"
#include "cutover/xport.h"

struct server {
	int fd, port;
	const char *body; /* NULL: accept, then say nothing */
	pthread_t th;
};

static void *serve(void *ud)
{
	struct server *s = ud;
	int c = accept(s->fd, NULL, NULL);
	if (c < 0)
		return NULL;
	char req[2048];
	(void)!read(c, req, sizeof req);
	if (s->body) {
		char head[256];
		int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
					     "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(s->body));
		(void)!write(c, head, (size_t)n);
		(void)!write(c, s->body, strlen(s->body));
	} else {
		sleep(3);
	}
	close(c);
	return NULL;
}

static void start(struct server *s, const char *body)
{
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	socklen_t l = sizeof a;
	getsockname(s->fd, (struct sockaddr *)&a, &l);
	s->port = ntohs(a.sin_port);
	s->body = body;
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void stop(struct server *s)
{
	pthread_join(s->th, NULL);
	close(s->fd);
}

static char *fixture(void)
{
	FILE *f = fopen("tests/fixtures/zk37-metrics.txt", "r");
	assert_non_null(f);
	char *buf = calloc(1, 8192);
	size_t n = fread(buf, 1, 8191, f);
	fclose(f);
	assert_true(n > 0);
	return buf;
}

static void test_probe_prometheus_page_over_http(void **state)
{
	(void)state;
	char *page = fixture();
	struct server s;
	start(&s, page);
	char why[200];
	char *got = zk_http_get("127.0.0.1", s.port, "/metrics", 2000, why, sizeof why);
	stop(&s);
	assert_non_null(got);
	struct zk_status st;
	memset(&st, 0, sizeof st);
	st.conns = st.outstanding = st.synced_followers = st.s.znodes = -1;
	zk_parse_prometheus(got, &st);
	assert_int_equal(st.s.znodes, 8066);
	assert_int_equal(st.conns, 2);
	assert_int_equal(st.outstanding, 0);
	assert_int_equal(st.synced_followers, 2);
	assert_true(st.avg_latency > 0.39 && st.avg_latency < 0.41);
	assert_true(st.max_latency > 20.9 && st.max_latency < 21.1);
	free(got);
	free(page);
}

static void test_probe_prometheus_ignores_labels_and_garbage(void **state)
{
	(void)state;
	struct zk_status st;
	memset(&st, 0, sizeof st);
	st.synced_followers = -1;
	zk_parse_prometheus("synced_followers{a=\"b\"} 9.0\nnot a metric line\n\nznode_count NaN-ish\nsynced_followers 1.0", &st);
	assert_int_equal(st.synced_followers, 1);
}

static void test_probe_http_that_never_answers_times_out(void **state)
{
	(void)state;
	struct server s;
	start(&s, NULL);
	char why[200];
	int64_t t0 = xp_now_ms();
	char *got = zk_http_get("127.0.0.1", s.port, "/metrics", 500, why, sizeof why);
	int64_t took = xp_now_ms() - t0;
	assert_null(got);
	assert_true(took < 2000);
	assert_non_null(strstr(why, "imeout"));
	stop(&s);
}

static void test_probe_srvr_refused_is_down(void **state)
{
	(void)state;
	struct zk_srvr s;
	zk_probe_srvr("127.0.0.1", 1, 500, &s);
	assert_int_equal(s.role, ZR_DOWN);
	assert_string_equal(zk_role_name(s.role), "down");
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_prometheus_page_over_http),
		cmocka_unit_test(test_probe_prometheus_ignores_labels_and_garbage),
		cmocka_unit_test(test_probe_http_that_never_answers_times_out),
		cmocka_unit_test(test_probe_srvr_refused_is_down),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
