/* http: one request with a hard timeout (src/http.c); for src/ only. */
#ifndef CUTOVER_HTTP_H
#define CUTOVER_HTTP_H

#include "cutover/err.h"

/* GET (post NULL) or POST url; headers NULL-terminated or NULL. CUT_OK means
 * an answer came (check *status); the body is malloc'd and NUL-terminated. */
int http_request(const char *url, const char *post, const char *const *headers, int timeout_ms, char **body,
		 long *status, struct cut_err *err);
/* Any method ("PATCH", "PUT", ...) with an optional body; otherwise as above. */
int http_call(const char *method, const char *url, const char *data, const char *const *headers, int timeout_ms,
	      char **body, long *status, struct cut_err *err);

#endif
