/*
 * http: one HTTP request through libcurl with a hard timeout and no proxy
 * (lab and site addresses are reached directly), the body kept in memory.
 * Used by the ZooKeeper AdminServer and Prometheus probes and the ClickHouse
 * HTTP interface. Thread-safe once curl_global_init has run (main does it).
 */
#include "http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body {
	char *p;
	size_t n;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t k = size * nmemb;
	if (b->n + k > (16u << 20))
		return 0; /* nothing we ask for is this big */
	char *q = realloc(b->p, b->n + k + 1);
	if (q == NULL)
		return 0;
	memcpy(q + b->n, ptr, k);
	b->p = q;
	b->n += k;
	b->p[b->n] = '\0';
	return k;
}

int http_request(const char *url, const char *post, const char *const *headers, int timeout_ms, char **body,
		 long *status, struct cut_err *err)
{
	return http_call(post ? "POST" : "GET", url, post, headers, timeout_ms, body, status, err);
}

int http_call(const char *method, const char *url, const char *post, const char *const *headers, int timeout_ms,
	      char **body, long *status, struct cut_err *err)
{
	*body = NULL;
	*status = 0;
	CURL *h = curl_easy_init();
	if (h == NULL)
		return cut_fail(err, CUT_ENOMEM, "curl init failed");
	struct curl_slist *hdr = NULL;
	for (size_t i = 0; headers && headers[i]; i++)
		hdr = curl_slist_append(hdr, headers[i]);
	struct body b = {0};
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (post)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 5000 ? timeout_ms : 5000));
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		free(b.p);
		return cut_fail(err, rc == CURLE_OPERATION_TIMEDOUT ? CUT_ETIMEOUT : CUT_ENET, "%.200s: %s", url,
				curl_easy_strerror(rc));
	}
	*body = b.p ? b.p : calloc(1, 1);
	return CUT_OK;
}
