/*
 * ui_text: text measured in display cells, not bytes: a Chinese character
 * takes two, a combining mark none. Truncation never splits a character.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "ui_int.h"

/* One character: its byte length and display width (invalid or control bytes: 1 cell). */
static size_t one(const char *s, int *w)
{
	mbstate_t st;
	memset(&st, 0, sizeof st);
	wchar_t wc;
	size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*w = 1;
		return 1;
	}
	int cw = wcwidth(wc);
	*w = cw < 0 ? 1 : cw;
	return n;
}

int ui_width(const char *s)
{
	int total = 0, w;
	while (s && *s) {
		s += one(s, &w);
		total += w;
	}
	return total;
}

size_t ui_fit(const char *s, int cells, int *used)
{
	size_t at = 0;
	int w, total = 0;
	while (s[at]) {
		size_t n = one(s + at, &w);
		if (total + w > cells)
			break;
		total += w;
		at += n;
	}
	*used = total;
	return at;
}
