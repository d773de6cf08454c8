/*
 * err: error codes and the message buffer every fallible call fills.
 *
 * A function that can fail returns CUT_OK or one CUT_E* code and, when the
 * caller passed a struct cut_err, writes one sentence into it saying what is
 * wrong and how to fix it. Codes and their short names come from the single
 * list below, so a new code cannot lack a name. Nothing below main() exits.
 * Thread-safe: the buffer is the caller's.
 */
#ifndef CUTOVER_ERR_H
#define CUTOVER_ERR_H

#include <stddef.h>

#define CUT_ERRORS(X)                                                     \
	X(CUT_OK, "ok")                                                   \
	X(CUT_EUSAGE, "usage error")                                      \
	X(CUT_ENOMEM, "out of memory")                                    \
	X(CUT_EIO, "input/output error")                                  \
	X(CUT_EPARSE, "malformed input")                                  \
	X(CUT_EINVAL, "invalid value")                                    \
	X(CUT_ENOTFOUND, "not found")                                     \
	X(CUT_ETIMEOUT, "timed out")                                      \
	X(CUT_ENET, "network error")                                      \
	X(CUT_EAUTH, "authentication or host key refused")                \
	X(CUT_EREFUSED, "refused for safety")                             \
	X(CUT_ECORRUPT, "corrupt data")                                   \
	X(CUT_EREMOTE, "remote command failed")                           \
	X(CUT_EBUSY, "in use by another process")                         \
	X(CUT_ECANCELED, "canceled")

enum cut_code {
#define CUT_ENUM(code, text) code,
	CUT_ERRORS(CUT_ENUM)
#undef CUT_ENUM
	CUT_NCODES
};

#define CUT_ERR_MSG_MAX 1024

struct cut_err {
	int code;
	char msg[CUT_ERR_MSG_MAX];
};

/* Short fixed name of a code ("timed out"); "unknown error" if out of range. */
const char *cut_strerror(int code);

/*
 * Record an error: sets err->code and formats the message (truncated to fit,
 * never split inside a UTF-8 character). err may be NULL. Returns code, so a
 * caller can write `return cut_fail(err, CUT_EIO, "...", ...);`.
 */
int cut_fail(struct cut_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with more context ("file.yaml: ..."). */
void cut_err_prefix(struct cut_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void cut_err_clear(struct cut_err *err);

#endif
