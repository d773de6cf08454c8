/*
 * task_int: the writer-task adapters behind tasks.stop / tasks.start /
 * tasks.wait (tasks.c). One small ops table per way of driving a task: shell
 * commands (the lab's writers), the Flink REST API, and templated HTTP calls
 * for in-house platforms. For src/ only.
 */
#ifndef CUTOVER_TASK_INT_H
#define CUTOVER_TASK_INT_H

#include <jansson.h>

#include "act_int.h"

enum task_run { TASK_RUNNING, TASK_STOPPED, TASK_BUSY, TASK_FAILED };

struct task_status {
	enum task_run run;
	long long rows; /* rows written (or records into the sink); -1: unknown */
	char state[64]; /* as the platform says it: "RUNNING", "CANCELED", "exit 3" */
};

struct task_ops {
	const char *name;
	int (*status)(struct act_run *r, struct task_status *st, struct cut_err *err);
	int (*stop)(struct act_run *r, struct cut_err *err);
	int (*start)(struct act_run *r, struct cut_err *err);
};

extern const struct task_ops task_shell_ops, task_flink_ops, task_http_ops;

/* ---- shared by the HTTP adapters (task_http.c) ---- */
/* One request, said in the step's output; the token (token_env) goes in a header, never in output.
 * Fails unless the status is 2xx; *json is the parsed body (NULL when not JSON). */
int task_http(struct act_run *r, const char *method, const char *url, const char *data, json_t **json,
	      struct cut_err *err);
/* RFC 6901: "/data/status" -> the value, or NULL. */
json_t *task_json_pointer(json_t *root, const char *ptr);

#endif
