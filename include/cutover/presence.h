/*
 * presence: who is attached to this console's tmux session -- the engineers
 * present, counted by tmux client (one per engineer's terminal), each with
 * the Unix user it runs as and when it last typed. Outside tmux nothing can
 * be known (n = -1). A local call to the tmux server that shows us, given at
 * most two seconds.
 */
#ifndef CUTOVER_PRESENCE_H
#define CUTOVER_PRESENCE_H

#include <stddef.h>

#define PRESENCE_MAX 16

struct presence_client {
	char user[64], tty[64];
	long long activity; /* seconds since the epoch, as tmux keeps it */
};

struct presence {
	int n;      /* clients attached; -1: not in tmux, or tmux did not answer */
	int active; /* index of the client that typed last; -1 when two typed in the same second */
	struct presence_client c[PRESENCE_MAX];
};

void presence_read(struct presence *p);
/* "alice(/dev/pts/3) bob(/dev/pts/5)" */
void presence_text(const struct presence *p, char *buf, size_t n);

#endif
