/*
 * zk_copy_int.h: what zk.copy's two sides share. The source side
 * (zk_copy.c, the step's begin hook) reads the source's files into a local
 * staging dir and publishes each as it grows; the destinations (zk_push.c,
 * one thread each) stream every file on while it is still being read, under
 * a hidden temporary name, and rename the set into place only once the whole
 * staged set has passed zk_select.
 */
#ifndef CUTOVER_ZK_COPY_INT_H
#define CUTOVER_ZK_COPY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cutover/err.h"
#include "cutover/hash.h"
#include "cutover/zk_files.h"

#define STAGE_MAX 256

enum sf_state {
	SF_FETCHING, /* bytes up to `have` are staged; more are coming */
	SF_STAGED,   /* whole, hashed, and (a snapshot) its seals hold */
	SF_DROPPED   /* not part of the copy after all: a corrupt snapshot, or zk_select left it out */
};

struct sfile {
	char name[96];
	char path[240]; /* the staged copy: dir (128), /snap/, name (96); a symlink when read in place */
	int fd;		/* what followers pread: the staged copy, or the source itself; set before `have` grows */
	bool snap;
	bool in_place;	 /* read where it lies (ssh.local): the file may change after; only the bytes read count */
	bool check_only; /* read to check the set (clean_snapshot's logs), never copied */
	uint64_t size, have;
	bool fetched; /* the read ended, well or not: no more bytes come */
	enum sf_state st;
	char sha[HASH_HEX_LEN + 1]; /* once staged */
};

/* One name the source lists (snapshot.* or log.*). */
struct rfile {
	char name[96];
	uint64_t size, zxid;
	bool snap;
};

struct staged {
	pthread_mutex_t m; /* guards every field that changes: n, f[].have, f[].st, f[].sha, done, why */
	pthread_cond_t cv; /* broadcast on each of those changes */
	struct sfile f[STAGE_MAX]; /* in the order they are read */
	size_t n;
	bool done; /* the source is read and the set checked, or that failed */
	int followers_waiting; /* for more bytes: only then is a new chunk broadcast */
	struct cut_err why; /* why not, when it failed */
	/* fixed before it is shared */
	struct rfile *listing; /* everything the source holds: a destination may hold only these */
	size_t nlisting;
	uint64_t snap_bytes, log_bytes; /* what the listing says the copy needs */
	struct zk_snap snap; /* the staged snapshot, as zk_snap_read found it (source side only) */
	char dir[128];
	char source[64];
};

struct act_run;
/* zk_copy.c, also for zk_fence.c: the snapshot.* and log.* files a source lists (snapdir may be
 * NULL), sorted by zxid; one file fetched into local (or read in place), hashed, published to st. */
int zk_copy_list(struct act_run *src, const char *snapdir, const char *logdir, struct rfile **v, size_t *n,
		 struct cut_err *err);
int zk_copy_fetch(struct act_run *src, const char *remote, const char *local, uint64_t size, char sha[HASH_HEX_LEN + 1],
		  struct staged *st, struct sfile *sf, struct cut_err *err);

/* zk_copy.c: zk.copy's begin hook, the source side (the action's ops are in zk_push.c). */
int zk_copy_begin(struct act_run *r, struct cut_err *err);

/* Wait until file k is published (NULL: the set ended before it). */
struct sfile *staged_wait_file(struct staged *st, size_t k);
/* Wait until the source side is done; its rc, with its reason in err. */
int staged_wait_done(struct staged *st, struct cut_err *err);

#endif
