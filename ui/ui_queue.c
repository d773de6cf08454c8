/*
 * ui_queue: workers hand results to the UI thread here, as redis's bio.c
 * does: a locked list, and one byte down a pipe the UI's poll() watches.
 * Events arrive from whichever thread appended them (engine_opts.on_event).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui_int.h"

struct ui_queue *ui_queue_new(void)
{
	struct ui_queue *q = calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	if (pipe(q->pipe) != 0) {
		free(q);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(q->pipe[i], F_SETFL, O_NONBLOCK); /* a full pipe already says "wake up" */
		fcntl(q->pipe[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&q->m, NULL);
	return q;
}

void ui_queue_free(struct ui_queue *q)
{
	if (q == NULL)
		return;
	for (struct ui_msg *m = uq_take(q), *n; m; m = n) {
		n = m->next;
		ui_msg_free(m);
	}
	close(q->pipe[0]);
	close(q->pipe[1]);
	pthread_mutex_destroy(&q->m);
	free(q);
}

void ui_snapshot_free(struct ui_snapshot *s)
{
	if (s == NULL)
		return;
	live_free(&s->live);
	free(s->zk);
	free(s->ck_file);
	free(s->ck_ro);
	free(s);
}

void ui_msg_free(struct ui_msg *m)
{
	if (m == NULL)
		return;
	free((char *)m->ev.wall);
	free((char *)m->ev.operator);
	free((char *)m->ev.step);
	free((char *)m->ev.target);
	free((char *)m->ev.kind);
	free((char *)m->ev.payload);
	ui_snapshot_free(m->snap);
	free(m->text);
	free(m);
}

void uq_push(struct ui_queue *q, struct ui_msg *m)
{
	m->next = NULL;
	pthread_mutex_lock(&q->m);
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	pthread_mutex_unlock(&q->m);
	char b = 1;
	while (write(q->pipe[1], &b, 1) < 0 && errno == EINTR)
		;
}

struct ui_msg *uq_take(struct ui_queue *q)
{
	char buf[256];
	while (read(q->pipe[0], buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&q->m);
	struct ui_msg *m = q->head;
	q->head = q->tail = NULL;
	pthread_mutex_unlock(&q->m);
	return m;
}

int ui_queue_fd(const struct ui_queue *q)
{
	return q->pipe[0];
}

static char *copy_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* engine_opts.on_event: copy the event, queue it. Runs on the appending thread. */
void ui_on_event(void *ud, const struct audit_event *ev)
{
	struct ui_msg *m = calloc(1, sizeof *m);
	if (m == NULL)
		return;
	m->kind = UM_EVENT;
	m->ev.seq = ev->seq;
	m->ev.run = ev->run;
	m->ev.mono_ms = ev->mono_ms;
	m->ev.wall = copy_str(ev->wall);
	m->ev.operator = copy_str(ev->operator);
	m->ev.step = copy_str(ev->step);
	m->ev.target = copy_str(ev->target);
	m->ev.kind = copy_str(ev->kind);
	m->ev.payload = copy_str(ev->payload);
	uq_push(ud, m);
}
