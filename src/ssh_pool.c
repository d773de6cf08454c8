/*
 * ssh_pool: one SSH connection per user@host:port, opened on first use and
 * reused by every later step, so a runbook of thirty steps costs one handshake
 * per host. A connection serves one thread at a time (libssh sessions are not
 * thread-safe); a second thread asking for a busy host waits for it, which is
 * bounded because every command on it has a deadline.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/xport.h"
#include "ssh_int.h"

struct slot {
	char key[160];
	struct xport *x;
	bool busy;
};

struct ssh_pool {
	pthread_mutex_t m;
	pthread_cond_t freed;
	struct slot *v;
	size_t n, cap;
};

struct ssh_pool *ssh_pool_new(void)
{
	struct ssh_pool *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->m, NULL);
	pthread_cond_init(&p->freed, NULL);
	return p;
}

void ssh_pool_free(struct ssh_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].x)
			ssh_conn_close(p->v[i].x);
	free(p->v);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->m);
	free(p);
}

static struct slot *find(struct ssh_pool *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].key, key) == 0)
			return &p->v[i];
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		struct slot *v = realloc(p->v, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		p->v = v, p->cap = cap;
	}
	struct slot *s = &p->v[p->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->key, sizeof s->key, "%s", key);
	return s;
}

int ssh_pool_get(struct ssh_pool *p, const struct ssh_target *t, struct xport **out, struct cut_err *err)
{
	char key[160];
	snprintf(key, sizeof key, "%s@%s:%d", t->user ? t->user : "root", t->host, t->port);
	pthread_mutex_lock(&p->m);
	struct slot *s = find(p, key);
	while (s && s->busy) {
		pthread_cond_wait(&p->freed, &p->m);
		s = find(p, key); /* the array may have moved */
	}
	if (s == NULL) {
		pthread_mutex_unlock(&p->m);
		return cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	s->busy = true;
	struct xport *x = s->x;
	pthread_mutex_unlock(&p->m);
	if (x != NULL) {
		*out = x;
		return CUT_OK;
	}
	/* Connect outside the lock: other hosts must not wait for this one. */
	int rc = ssh_open(t, &x, err);
	pthread_mutex_lock(&p->m);
	s = find(p, key);
	s->x = rc == CUT_OK ? x : NULL;
	if (rc != CUT_OK)
		s->busy = false;
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->m);
	*out = rc == CUT_OK ? x : NULL;
	return rc;
}

void ssh_pool_put(struct ssh_pool *p, struct xport *x, bool broken)
{
	if (x == NULL)
		return;
	pthread_mutex_lock(&p->m);
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].x == x) {
			p->v[i].busy = false;
			if (broken) {
				ssh_conn_close(x);
				p->v[i].x = NULL;
			}
		}
	pthread_cond_broadcast(&p->freed);
	pthread_mutex_unlock(&p->m);
}
