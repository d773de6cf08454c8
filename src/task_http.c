/*
 * task_http: a writer task on an in-house platform (the seed's task ids
 * belong to one): templated URLs for status, stop and start, and a JSON
 * pointer to the state field (running_value / stopped_value name the two
 * states that matter; anything with FAIL in it is a failure, anything else a
 * transition). Also the HTTP helpers the Flink adapter shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "task_int.h"

#define TASK_HTTP_TIMEOUT_MS 10000

int task_http(struct act_run *r, const char *method, const char *url, const char *data, json_t **json,
	      struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	char auth[1024] = "";
	const char *tok = t->token_env ? getenv(t->token_env) : NULL;
	if (t->token_env && (tok == NULL || *tok == '\0'))
		return cut_fail(err, CUT_EINVAL, "task %s: the environment variable %s (its API token) is not set", t->id,
				t->token_env);
	if (tok)
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", tok);
	const char *headers[] = {"Accept: application/json", "Content-Type: application/json", auth[0] ? auth : NULL, NULL};
	char *body = NULL;
	long status = 0;
	*json = NULL;
	struct cut_err he = {0};
	int rc = http_call(method, url, data, headers, TASK_HTTP_TIMEOUT_MS, &body, &status, &he);
	if (rc != CUT_OK) /* he names the URL already */
		return cut_fail(err, rc, "task %s: %s %s", t->id, method, he.msg);
	if (strcmp(method, "GET") != 0)
		act_say(r, "%s %s -> HTTP %ld", method, url, status);
	*json = json_loads(body, JSON_DECODE_ANY, NULL);
	if (status < 200 || status > 299) {
		rc = cut_fail(err, CUT_EREMOTE, "task %s: %s %s answered HTTP %ld: %.200s", t->id, method, url, status, body);
		json_decref(*json);
		*json = NULL;
	}
	free(body);
	return rc;
}

json_t *task_json_pointer(json_t *root, const char *ptr)
{
	json_t *v = root;
	if (ptr == NULL || *ptr == '\0')
		return root;
	if (*ptr != '/')
		return NULL;
	while (v && *ptr == '/') {
		ptr++;
		char key[256];
		size_t n = 0;
		for (; *ptr && *ptr != '/' && n + 1 < sizeof key; ptr++) {
			if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) /* ~0 is '~', ~1 is '/' */
				key[n++] = ptr[1] == '0' ? '~' : '/', ptr++;
			else
				key[n++] = *ptr;
		}
		key[n] = '\0';
		if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(key, &end, 10);
			v = *end == '\0' && n > 0 ? json_array_get(v, i) : NULL;
		} else {
			v = json_object_get(v, key);
		}
	}
	return v;
}

static const char *url_of(struct act_run *r, const char *tmpl, struct cut_err *err)
{
	return subst(act_arena(r), tmpl, act_scope(r), SUBST_PATH, err);
}

static int ht_status(struct act_run *r, struct task_status *st, struct cut_err *err)
{
	const struct inv_task *t = act_scope(r)->task;
	const char *url = url_of(r, t->status_url, err);
	json_t *j = NULL;
	int rc = url ? task_http(r, "GET", url, NULL, &j, err) : err->code;
	if (rc != CUT_OK)
		return rc;
	json_t *v = task_json_pointer(j, t->state_pointer);
	json_t *rows = t->rows_pointer ? task_json_pointer(j, t->rows_pointer) : NULL;
	st->rows = json_is_integer(rows) ? (long long)json_integer_value(rows) : -1;
	if (!json_is_string(v)) {
		json_decref(j);
		return cut_fail(err, CUT_EREMOTE, "task %s: %s has no string at %s", t->id, url, t->state_pointer);
	}
	snprintf(st->state, sizeof st->state, "%s", json_string_value(v));
	st->run = strcmp(st->state, t->running_value) == 0 ? TASK_RUNNING
		: strcmp(st->state, t->stopped_value) == 0 ? TASK_STOPPED
		: strstr(st->state, "FAIL") || strstr(st->state, "fail") ? TASK_FAILED : TASK_BUSY;
	json_decref(j);
	return CUT_OK;
}

static int ht_post(struct act_run *r, const char *tmpl, struct cut_err *err)
{
	const char *url = url_of(r, tmpl, err);
	json_t *j = NULL;
	int rc = url ? task_http(r, "POST", url, "{}", &j, err) : err->code;
	json_decref(j);
	return rc;
}

static int ht_stop(struct act_run *r, struct cut_err *err)
{
	return ht_post(r, act_scope(r)->task->stop_url, err);
}

static int ht_start(struct act_run *r, struct cut_err *err)
{
	return ht_post(r, act_scope(r)->task->start_url, err);
}

const struct task_ops task_http_ops = {"http", ht_status, ht_stop, ht_start};
