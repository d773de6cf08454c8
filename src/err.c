/* err: error codes and messages (see include/cutover/err.h). */
#include "cutover/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const names[] = {
#define CUT_NAME(code, text) text,
	CUT_ERRORS(CUT_NAME)
#undef CUT_NAME
};

const char *cut_strerror(int code)
{
	if (code < 0 || code >= CUT_NCODES)
		return "unknown error";
	return names[code];
}

/*
 * After a byte-wise truncation, drop a last UTF-8 character left incomplete,
 * so a message with Chinese text never ends in a broken character on screen.
 */
static void utf8_fix_tail(char *s)
{
	size_t len = strlen(s), lead = len;
	while (lead > 0 && len - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	lead--;
	unsigned char c = (unsigned char)s[lead];
	size_t need = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (lead + need > len)
		s[lead] = '\0';
}

static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size, fmt, ap);
	if (n >= (int)size)
		utf8_fix_tail(buf);
}

int cut_fail(struct cut_err *err, int code, const char *fmt, ...)
{
	if (err == NULL)
		return code;
	/* Through a copy: callers often wrap the message already in err
	 * ("...: %s", err->msg), and vsnprintf must not read what it writes. */
	char msg[CUT_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vformat(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(err->msg, msg, sizeof msg);
	err->code = code;
	return code;
}

void cut_err_prefix(struct cut_err *err, const char *fmt, ...)
{
	if (err == NULL)
		return;
	char head[CUT_ERR_MSG_MAX], old[CUT_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vformat(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	int n = snprintf(err->msg, sizeof err->msg, "%s%s", head, old);
	if (n >= (int)sizeof err->msg)
		utf8_fix_tail(err->msg);
}

void cut_err_clear(struct cut_err *err)
{
	if (err == NULL)
		return;
	err->code = CUT_OK;
	err->msg[0] = '\0';
}
