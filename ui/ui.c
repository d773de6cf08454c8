/* ui: console entry points (see include/cutover/ui.h). */
#include "cutover/ui.h"

#include <curses.h>

const char *ui_curses_version(void)
{
	return curses_version();
}
