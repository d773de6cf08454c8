/* presence: see include/cutover/presence.h. */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/presence.h"

void presence_read(struct presence *p)
{
	memset(p, 0, sizeof *p);
	p->n = p->active = -1;
	if (getenv("TMUX") == NULL)
		return;
	/* Bounded: the console asks this when Enter is pressed, and a tmux server
	 * that does not answer must not freeze the screen it draws. */
	FILE *f = popen("timeout 2 tmux list-clients -F '#{client_activity} #{client_user} #{client_tty}' 2>/dev/null", "r");
	if (f == NULL)
		return;
	char line[256];
	long long best = -1;
	bool tie = false;
	p->n = 0;
	while (fgets(line, sizeof line, f) && p->n < PRESENCE_MAX) {
		struct presence_client *c = &p->c[p->n];
		if (sscanf(line, "%lld %63s %63s", &c->activity, c->user, c->tty) != 3)
			continue;
		/* tmux keeps activity in whole seconds: two clients typing in the
		 * same one cannot be told apart, and a guess is no proof of who */
		if (c->activity > best)
			best = c->activity, p->active = p->n, tie = false;
		else if (c->activity == best)
			tie = true;
		p->n++;
	}
	if (pclose(f) != 0 && p->n == 0)
		p->n = -1;
	if (tie)
		p->active = -1;
}

void presence_text(const struct presence *p, char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < p->n && used + 1 < n; i++)
		used += (size_t)snprintf(buf + used, n - used, "%s%s(%s)", i ? " " : "", p->c[i].user, p->c[i].tty);
	if (used >= n && n > 0)
		buf[n - 1] = '\0';
}
