/*
 * zk_select: which files restore the newest state (see
 * include/cutover/zk_files.h). ZooKeeper's own restore takes the newest
 * snapshot that loads and getLogFiles(dir, snapZxid): the log with the
 * greatest start <= snapZxid and every later one, replayed from snapZxid+1
 * without a gap check. Here the same choice is made and then the chain is
 * walked, so a missing or torn middle log is refused instead of replayed over.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/zk_files.h"

struct ent {
	char *path;
	uint64_t zxid;
};

static int by_zxid(const void *a, const void *b)
{
	uint64_t x = ((const struct ent *)a)->zxid, y = ((const struct ent *)b)->zxid;
	return x < y ? -1 : x > y;
}

static int list(const char *dir, const char *prefix, struct ent **out, size_t *n, struct cut_err *err)
{
	DIR *d = opendir(dir);
	*out = NULL;
	*n = 0;
	if (d == NULL)
		return cut_fail(err, CUT_EIO, "cannot read %s: %s", dir, strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		uint64_t z;
		if (!zk_file_zxid(e->d_name, prefix, &z))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct ent *v = realloc(*out, cap * sizeof *v);
			if (v == NULL)
				break;
			*out = v;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p = malloc(len);
		if (p == NULL)
			break;
		snprintf(p, len, "%s/%s", dir, e->d_name);
		(*out)[(*n)++] = (struct ent){p, z};
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof **out, by_zxid);
	return CUT_OK;
}

static void free_list(struct ent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static bool add(struct zk_selection *s, const char *path, uint64_t zxid, uint64_t size, bool snap)
{
	struct zk_pick *v = realloc(s->files, (s->n + 1) * sizeof *v);
	if (v == NULL)
		return false;
	s->files = v;
	s->files[s->n++] = (struct zk_pick){strdup(path), zxid, size, snap};
	return true;
}

/* The newest snapshot that would load; newer broken ones are noted. */
static int pick_snapshot(struct ent *snaps, size_t ns, bool for_34, const struct zk_snap *checked,
			 struct zk_selection *s, struct zk_snap *out, const char **path, struct cut_err *err)
{
	for (size_t i = ns; i-- > 0;) {
		struct zk_snap sn;
		int rc = CUT_OK;
		if (checked && checked->name_zxid == snaps[i].zxid)
			sn = *checked; /* read already: a gigabyte is not read twice */
		else
			rc = zk_snap_read(snaps[i].path, &sn, err);
		if (rc != CUT_OK)
			return rc;
		const char *why = !sn.valid ? sn.error : (sn.compression && for_34) ? "compressed (3.4 cannot read it)" : NULL;
		if (sn.compression && !for_34)
			why = "compressed; cutover does not read it, so it cannot be checked";
		if (why == NULL) {
			*out = sn;
			*path = snaps[i].path;
			return CUT_OK;
		}
		snprintf(s->skipped + strlen(s->skipped), sizeof s->skipped - strlen(s->skipped), "%s%s: %s",
			 s->skipped[0] ? "; " : "", strrchr(snaps[i].path, '/') + 1, why);
	}
	return cut_fail(err, CUT_ENOTFOUND, "no valid snapshot%s%s", s->skipped[0] ? ": " : "", s->skipped);
}

/* Walk the chain from snapZxid+1: every txn must follow the one before. */
static int check_chain(struct ent *logs, size_t first, size_t nl, bool for_34, struct zk_selection *s,
		       struct cut_err *err)
{
	uint64_t at = s->snap_zxid;
	for (size_t i = first; i < nl; i++) {
		struct zk_log l;
		int rc = zk_log_read(logs[i].path, &l, err);
		if (rc != CUT_OK)
			return rc;
		const char *name = strrchr(logs[i].path, '/') + 1;
		if (!l.valid)
			return cut_fail(err, CUT_ECORRUPT, "%s: %s; ZooKeeper would stop replaying there", name, l.error);
		if (l.torn && i + 1 < nl)
			return cut_fail(err, CUT_ECORRUPT, "%s: %s, yet later logs follow: transactions in between are lost",
					name, l.error);
		if (l.gap_after)
			return cut_fail(err, CUT_ECORRUPT, "%s: transactions missing after zxid 0x%llx", name,
					(unsigned long long)l.gap_after);
		if (l.txns > 0 && l.last_zxid > at) {
			if (l.first_zxid > at + 1 && !ZK_FOLLOWS(at, l.first_zxid))
				return cut_fail(err, CUT_ECORRUPT, "gap: nothing holds zxids 0x%llx to 0x%llx (before %s); "
						"ZooKeeper would replay over the hole and serve a wrong tree",
						(unsigned long long)at + 1, (unsigned long long)l.first_zxid - 1, name);
			s->txns_after_snap += (long)(l.last_zxid - (l.first_zxid > at ? l.first_zxid - 1 : at));
			at = l.last_zxid;
		}
		if (for_34 && l.newer_than_34)
			return cut_fail(err, CUT_EREFUSED, "%s holds %ld transaction(s) ZooKeeper 3.4 cannot read "
					"(create2, reconfig, container or TTL nodes)", name, l.newer_than_34);
		s->newer_than_34 += l.newer_than_34;
		if (!add(s, logs[i].path, logs[i].zxid, l.size, false))
			return cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	s->last_zxid = at;
	return CUT_OK;
}

int zk_select(const char *snapdir, const char *logdir, bool for_34, const struct zk_snap *checked,
	      struct zk_selection *s, struct cut_err *err)
{
	memset(s, 0, sizeof *s);
	struct ent *snaps = NULL, *logs = NULL;
	size_t ns = 0, nl = 0;
	int rc = list(snapdir, "snapshot", &snaps, &ns, err);
	if (rc == CUT_OK)
		rc = list(logdir ? logdir : snapdir, "log", &logs, &nl, err);
	struct zk_snap sn = {0};
	const char *snap_path = NULL;
	if (rc == CUT_OK)
		rc = pick_snapshot(snaps, ns, for_34, checked, s, &sn, &snap_path, err);
	if (rc == CUT_OK) {
		s->snap_zxid = sn.name_zxid;
		if (!add(s, snap_path, sn.name_zxid, sn.size, true))
			rc = cut_fail(err, CUT_ENOMEM, "out of memory");
	}
	size_t first = 0;
	for (size_t i = 0; rc == CUT_OK && i < nl; i++)
		if (logs[i].zxid <= s->snap_zxid)
			first = i; /* the log with the greatest start <= snapZxid */
	if (rc == CUT_OK && nl > 0 && logs[first].zxid > s->snap_zxid)
		first = 0; /* every log starts after the snapshot */
	if (rc == CUT_OK)
		rc = check_chain(logs, first, nl, for_34, s, err);
	free_list(snaps, ns);
	free_list(logs, nl);
	if (rc != CUT_OK)
		zk_selection_free(s);
	return rc;
}

void zk_selection_free(struct zk_selection *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->files[i].path);
	free(s->files);
	s->files = NULL;
	s->n = 0;
}
