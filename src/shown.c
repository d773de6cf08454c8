/* shown: see include/cutover/shown.h. */
#include "cutover/shown.h"

#include <string.h>

void shown_put(FILE *f, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			fprintf(f, "^%c", c == 0x7f ? '?' : c + 0x40);
		else if (c == 0xc2 && i + 1 < n && (unsigned char)p[i + 1] >= 0x80 && (unsigned char)p[i + 1] <= 0x9f)
			fprintf(f, "<U+%04X>", (unsigned char)p[++i]);
		else
			putc(c, f);
	}
}

void shown_puts(FILE *f, const char *s)
{
	if (s != NULL)
		shown_put(f, s, strlen(s));
}
