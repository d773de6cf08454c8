/* audit's private parts, shared by audit.c and audit_chain.c only. */
#ifndef CUTOVER_AUDIT_INT_H
#define CUTOVER_AUDIT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "cutover/audit.h"

/* The chain's anchor: the "previous hash" of the first event. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct audit {
	sqlite3 *db;
	char *path;
	pthread_mutex_t lock; /* one transaction at a time on db */
	bool guard;           /* audit_guard: check the head before appending */
	int64_t head_seq;     /* the head this handle last wrote or saw */
	char head_hash[HASH_HEX_LEN + 1];
};

int audit_sql_fail(struct audit *a, struct cut_err *err, const char *what);
int audit_meta_int(struct audit *a, const char *key, int64_t *out);

#endif
