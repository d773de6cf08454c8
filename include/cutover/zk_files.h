/*
 * zk_files: ZooKeeper's own snapshot and transaction-log files, read in C
 * (formats and sources: shared/notes/zookeeper-clickhouse-facts.md §1).
 *
 * zk_snap_read checks a snapshot the way ZooKeeper does when it loads one --
 * header, sessions, ACLs, the tree, then every seal (cumulative Adler32 and
 * the "/" marker): the one after the tree (3.4+), the digest section (3.6+)
 * and the last-zxid section (3.9). zk_log_read walks a log's records, checks
 * each record's Adler32 and 'B' terminator, stops at the zero padding of a
 * preallocated file, and reports a torn or corrupt tail and any hole in the
 * zxid sequence. zk_select picks what restores the newest state: the newest
 * valid snapshot and exactly the logs ZooKeeper replays after it, and refuses
 * a chain with a gap, which ZooKeeper itself would replay over silently.
 * Pure file reading: no threads, no network.
 */
#ifndef CUTOVER_ZK_FILES_H
#define CUTOVER_ZK_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "cutover/err.h"

#define ZK_EPOCH(z) ((uint32_t)((uint64_t)(z) >> 32))
#define ZK_COUNTER(z) ((uint32_t)((uint64_t)(z) & 0xffffffffu))
/* Does zxid b follow a directly? The next counter, or the first txn of the
 * next epoch. An epoch skipped entirely could hide a missing log, so it
 * does not count as following. */
#define ZK_FOLLOWS(a, b) ((b) == (a) + 1 || (ZK_EPOCH(b) == ZK_EPOCH(a) + 1 && ZK_COUNTER(b) == 1))

struct zk_snap {
	uint64_t name_zxid;  /* from snapshot.<hex> */
	int version;
	int64_t dbid;
	long sessions, nodes, records, ephemerals;
	uint64_t max_zxid;   /* max(name zxid, every node's mzxid and pzxid) */
	int seals;           /* 1: 3.4/3.5, 2: with digest (3.6+), 3: with last zxid (3.9) */
	uint64_t last_zxid;  /* the 3.9 section, when present */
	const char *compression; /* NULL, "gz" or "snappy" (recognised, not read) */
	bool valid;
	char error[256];
	uint64_t size;
};

/* Transaction types ZooKeeper 3.4 cannot read (create2, reconfig, containers, TTL). */
#define ZK_TXN_NEWER_THAN_34(t) ((t) == 15 || (t) == 16 || (t) == 19 || (t) == 20 || (t) == 21)

struct zk_log {
	uint64_t name_zxid; /* from log.<hex>: the first txn's zxid */
	int version;
	long txns;
	uint64_t first_zxid, last_zxid; /* 0 when empty */
	long types[32];     /* count per type + 11 (so -11..20 fit) */
	long newer_than_34; /* txns (or multi sub-ops) 3.4 cannot read */
	uint64_t gap_after; /* a zxid followed by a hole within this log, or 0 */
	uint64_t end;       /* bytes up to the last good record */
	uint64_t size;      /* the file's size, padding included */
	bool torn;          /* a partial record at the end (ZooKeeper treats it as EOF) */
	uint64_t after;     /* zk_log_read_after: count what comes after this zxid */
	long after_txns, after_tree_txns; /* ... all of it, and what changes the tree (not sessions) */
	char after_paths[768]; /* the distinct paths those changed (5 components deep), ", "-separated, "..." when more */
	long after_paths_more; /* distinct paths left out for room */
	bool valid;         /* header good, no CRC error */
	char error[256];
};

int zk_snap_read(const char *path, struct zk_snap *out, struct cut_err *err);
/* The same over a stream: read returns n bytes, fewer only at the end (as fread); size is the
 * file's length. For a snapshot checked while it is still being copied. */
int zk_snap_read_stream(const char *name, uint64_t size, size_t (*read)(void *ud, void *buf, size_t n), void *ud,
			struct zk_snap *s, struct cut_err *err);
int zk_log_read(const char *path, struct zk_log *out, struct cut_err *err);
/* The same, also counting the transactions after zxid `after` (a fence's zxid). */
int zk_log_read_after(const char *path, uint64_t after, struct zk_log *out, struct cut_err *err);
/* "snapshot.1a2b" -> 0x1a2b; false when the name is not one of ZooKeeper's. */
bool zk_file_zxid(const char *name, const char *prefix, uint64_t *zxid);
/* The transaction type's name ("create", "multi", ...). */
const char *zk_txn_name(int type);

struct zk_pick {
	char *path;
	uint64_t zxid, size;
	bool snapshot;
};

struct zk_selection {
	struct zk_pick *files; /* the snapshot first, then logs in order */
	size_t n;
	uint64_t snap_zxid, last_zxid;
	long txns_after_snap;
	long newer_than_34;
	char skipped[512]; /* newer snapshots passed over, and why */
};

/*
 * Choose from snapdir (dataDir/version-2) and logdir (dataLogDir/version-2;
 * the same dir is fine). for_34: the files go to a ZooKeeper 3.4 (refuse
 * compressed snapshots and newer txn types). checked (may be NULL): what
 * zk_snap_read said of one snapshot there (matched by its zxid), so that
 * file is not read again.
 */
int zk_select(const char *snapdir, const char *logdir, bool for_34, const struct zk_snap *checked,
	      struct zk_selection *out, struct cut_err *err);
void zk_selection_free(struct zk_selection *s);

#endif
