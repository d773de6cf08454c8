/*
 * zk_files: reading ZooKeeper snapshots and transaction logs (see
 * include/cutover/zk_files.h). Big-endian jute encoding throughout; strings
 * and buffers are an i32 length (-1 = null) and bytes.
 */
#include "cutover/zk_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A buffered reader that keeps ZooKeeper's cumulative Adler32. */
struct rd {
	size_t (*read)(void *ud, void *buf, size_t n); /* n bytes, fewer only at the end (as fread) */
	void *ud;
	uint32_t a, b;
	uint64_t off;
	bool eof;
};

#define ADLER_MOD 65521u

/*
 * ZooKeeper's Adler32, by blocks: over bytes p[0..k) a grows by their sum
 * and b by k*a plus each byte weighted by k - i. Two independent sums the
 * compiler can vectorise, instead of a chain of dependent adds per byte (a
 * 1 GiB snapshot is checked in a fraction of the time). Blocks of 1024 keep
 * every sum within 32 bits.
 */
static void adler(uint32_t *pa, uint32_t *pb, const unsigned char *p, size_t n)
{
	uint32_t a = *pa, b = *pb;
	while (n > 0) {
		uint32_t k = n < 1024 ? (uint32_t)n : 1024, sum = 0, weighted = 0;
		if (k == 1024) /* a constant trip count: -O2 vectorises this one */
			for (uint32_t i = 0; i < 1024; i++) {
				sum += p[i];
				weighted += (1024 - i) * p[i];
			}
		else
			for (uint32_t i = 0; i < k; i++) {
				sum += p[i];
				weighted += (k - i) * p[i];
			}
		b = (b + k * a + weighted) % ADLER_MOD;
		a = (a + sum) % ADLER_MOD;
		p += k;
		n -= k;
	}
	*pa = a, *pb = b;
}

static bool get(struct rd *r, void *buf, size_t n)
{
	if (r->eof || r->read(r->ud, buf, n) != n) {
		r->eof = true;
		return false;
	}
	adler(&r->a, &r->b, buf, n);
	r->off += n;
	return true;
}

static size_t rd_file(void *ud, void *buf, size_t n)
{
	return fread(buf, 1, n, ud);
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static bool i32(struct rd *r, int32_t *v)
{
	unsigned char b[4];
	if (!get(r, b, 4))
		return false;
	*v = (int32_t)(uint32_t)be(b, 4);
	return true;
}

static bool i64(struct rd *r, int64_t *v)
{
	unsigned char b[8];
	if (!get(r, b, 8))
		return false;
	*v = (int64_t)be(b, 8);
	return true;
}

/* Skip (or keep, when out is given) a string or buffer; limit guards against garbage lengths. */
static bool blob(struct rd *r, char *out, size_t cap, int32_t *len)
{
	int32_t n;
	if (!i32(r, &n))
		return false;
	*len = n;
	if (n < 0)
		return true;
	if (n > (1 << 30))
		return r->eof = true, false;
	unsigned char tmp[4096];
	for (int32_t left = n; left > 0;) {
		size_t k = (size_t)left < sizeof tmp ? (size_t)left : sizeof tmp;
		if (!get(r, tmp, k))
			return false;
		if (out && (size_t)(n - left) + k < cap)
			memcpy(out + (n - left), tmp, k);
		left -= (int32_t)k;
	}
	if (out)
		out[(size_t)n < cap ? (size_t)n : cap - 1] = '\0';
	return true;
}

bool zk_file_zxid(const char *name, const char *prefix, uint64_t *zxid)
{
	const char *slash = strrchr(name, '/');
	name = slash ? slash + 1 : name;
	size_t n = strlen(prefix);
	if (strncmp(name, prefix, n) != 0 || name[n] != '.' || name[n + 1] == '\0')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(name + n + 1, &end, 16);
	if (errno || (*end != '\0' && strcmp(end, ".gz") != 0 && strcmp(end, ".snappy") != 0))
		return false;
	*zxid = v;
	return true;
}

/* ---- snapshots ------------------------------------------------------------------ */

/* Why f is no file to read as ZooKeeper's (NULL: it is one, its size in *size).
 * A directory named snapshot.5 is a directory, not a short snapshot. */
static const char *not_regular(FILE *f, uint64_t *size)
{
	struct stat st;
	if (fstat(fileno(f), &st) != 0)
		return "cannot stat it";
	if (S_ISDIR(st.st_mode))
		return "not a regular file (a directory)";
	if (!S_ISREG(st.st_mode))
		return "not a regular file (a device, pipe or socket)";
	*size = (uint64_t)st.st_size;
	return NULL;
}

static int snap_fail(struct zk_snap *s, const char *why, uint64_t off)
{
	s->valid = false;
	snprintf(s->error, sizeof s->error, "%s at byte %llu", why, (unsigned long long)off);
	return CUT_OK; /* the file was read; it is the file that is bad */
}

/* A seal: the Adler32 of everything so far, then "/". 0: good; -1: bad (error set). */
static int seal(struct rd *r, struct zk_snap *s, int which)
{
	uint32_t sum = (r->b << 16) | r->a;
	int64_t val;
	char slash[4];
	int32_t len;
	if (!i64(r, &val))
		return snap_fail(s, "the file ends before a checksum", r->off), -1;
	if ((uint64_t)val != sum) {
		char why[96];
		snprintf(why, sizeof why, "checksum %d does not match (CRC corruption)", which);
		return snap_fail(s, why, r->off - 8), -1;
	}
	if (!blob(r, slash, sizeof slash, &len) || len != 1 || slash[0] != '/')
		return snap_fail(s, "no \"/\" after a checksum", r->off), -1;
	s->seals = which;
	return 0;
}

static bool skip_sessions_acls(struct rd *r, struct zk_snap *s)
{
	int32_t n, m, len;
	int64_t x;
	if (!i32(r, &n) || n < 0)
		return false;
	s->sessions = n;
	for (int32_t i = 0; i < n; i++)
		if (!i64(r, &x) || !i32(r, &m))
			return false;
	if (!i32(r, &n) || n < 0)
		return false;
	for (int32_t i = 0; i < n; i++) {
		if (!i64(r, &x) || !i32(r, &m))
			return false;
		for (int32_t k = 0; k < m; k++)
			if (!i32(r, &len) || !blob(r, NULL, 0, &len) || !blob(r, NULL, 0, &len))
				return false;
	}
	return true;
}

static bool tree(struct rd *r, struct zk_snap *s)
{
	char path[8];
	int32_t len;
	unsigned char stat[60];
	int64_t acl;
	for (;;) {
		if (!blob(r, path, sizeof path, &len))
			return false;
		if (len == 1 && path[0] == '/')
			return true; /* end of the tree */
		if (!blob(r, NULL, 0, &len) || !i64(r, &acl) || !get(r, stat, sizeof stat))
			return false;
		s->records++;
		uint64_t mzxid = be(stat + 8, 8), owner = be(stat + 44, 8), pzxid = be(stat + 52, 8);
		s->max_zxid = mzxid > s->max_zxid ? mzxid : s->max_zxid;
		s->max_zxid = pzxid > s->max_zxid ? pzxid : s->max_zxid;
		s->ephemerals += owner != 0;
	}
}

static void snap_check(struct rd *r, struct zk_snap *s);

int zk_snap_read(const char *path, struct zk_snap *s, struct cut_err *err)
{
	memset(s, 0, sizeof *s);
	if (!zk_file_zxid(path, "snapshot", &s->name_zxid))
		return cut_fail(err, CUT_EINVAL, "%s is not named snapshot.<hex zxid>", path);
	s->max_zxid = s->name_zxid;
	size_t pl = strlen(path);
	if (pl > 3 && strcmp(path + pl - 3, ".gz") == 0)
		s->compression = "gz";
	else if (pl > 7 && strcmp(path + pl - 7, ".snappy") == 0)
		s->compression = "snappy";
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return cut_fail(err, CUT_EIO, "%s: %s", path, strerror(errno));
	const char *odd = not_regular(f, &s->size);
	if (odd) {
		fclose(f);
		snprintf(s->error, sizeof s->error, "%s", odd);
		return CUT_OK;
	}
	if (s->compression) {
		fclose(f);
		snprintf(s->error, sizeof s->error, "%s-compressed: recognised, not checked (and ZooKeeper 3.4 cannot read it)",
			 s->compression);
		return CUT_OK;
	}
	struct rd r = {.read = rd_file, .ud = f, .a = 1};
	snap_check(&r, s);
	fclose(f);
	return CUT_OK;
}

int zk_snap_read_stream(const char *name, uint64_t size, size_t (*read)(void *ud, void *buf, size_t n), void *ud,
			struct zk_snap *s, struct cut_err *err)
{
	memset(s, 0, sizeof *s);
	if (!zk_file_zxid(name, "snapshot", &s->name_zxid) || strchr(name, '.') != strrchr(name, '.'))
		return cut_fail(err, CUT_EINVAL, "%s is not named snapshot.<hex zxid> (compressed ones are not read)", name);
	s->max_zxid = s->name_zxid;
	s->size = size;
	struct rd r = {.read = read, .ud = ud, .a = 1};
	snap_check(&r, s);
	return CUT_OK;
}

/* Header, sessions, ACLs, the tree and every seal, into s. */
static void snap_check(struct rd *r, struct zk_snap *s)
{
	int32_t magic, version;
	if (!i32(r, &magic) || !i32(r, &version) || !i64(r, &s->dbid))
		snap_fail(s, "the file is shorter than its header", r->off);
	else if ((uint32_t)magic != 0x5A4B534E)
		snap_fail(s, "no ZKSN magic", 0);
	else if ((s->version = version, !skip_sessions_acls(r, s)))
		snap_fail(s, "the sessions or ACLs are cut short", r->off);
	else if (!tree(r, s))
		snap_fail(s, "the tree is cut short", r->off);
	else if (seal(r, s, 1) == 0) {
		/* 3.6+: digest section; EOF here is a valid 3.4/3.5 snapshot. */
		int64_t zxid, v;
		int32_t dv, len;
		if (i64(r, &zxid) && i32(r, &dv) && (dv < 2 ? blob(r, NULL, 0, &len) : i64(r, &v))) {
			if (seal(r, s, 2) == 0 && i64(r, &v)) { /* 3.9: last processed zxid */
				s->last_zxid = (uint64_t)v;
				seal(r, s, 3);
			}
		} else if (r->off != s->size) {
			snap_fail(s, "a cut-short digest section", r->off);
		}
		s->valid = s->error[0] == '\0';
	}
	s->nodes = s->records + 1; /* DataTree counts the root twice ("" and "/") */
}

/* ---- transaction logs ------------------------------------------------------------- */

const char *zk_txn_name(int t)
{
	switch (t) {
	case 1: return "create";
	case 2: return "delete";
	case 5: return "setData";
	case 7: return "setACL";
	case 13: return "check";
	case 14: return "multi";
	case 15: return "create2";
	case 16: return "reconfig";
	case 19: return "createContainer";
	case 20: return "deleteContainer";
	case 21: return "createTTL";
	case -10: return "createSession";
	case -11: return "closeSession";
	case -1: return "error";
	default: return "other";
	}
}

static void count_type(struct zk_log *l, int t)
{
	if (t >= -11 && t <= 20)
		l->types[t + 11]++;
	l->newer_than_34 += ZK_TXN_NEWER_THAN_34(t);
}

/* A multi's sub-operations: i32 count, n x {i32 type, buf data}. */
static void multi_types(struct zk_log *l, const unsigned char *p, size_t n)
{
	if (n < 4)
		return;
	uint32_t count = (uint32_t)be(p, 4);
	size_t off = 4;
	for (uint32_t i = 0; i < count && off + 8 <= n; i++) {
		int t = (int)(int32_t)(uint32_t)be(p + off, 4);
		int32_t len = (int32_t)(uint32_t)be(p + off + 4, 4);
		l->newer_than_34 += ZK_TXN_NEWER_THAN_34(t);
		off += 8 + (len > 0 ? (size_t)len : 0);
	}
}

/* Does this txn type start its body with the path it changes? */
static bool has_path(int t)
{
	return t == 1 || t == 2 || t == 5 || t == 7 || t == 13 || t == 15 || t == 19 || t == 20 || t == 21;
}

/* Remember a path a late txn touched (body: i32 length, then the bytes). */
static void note_path(struct zk_log *l, int type, const unsigned char *p, size_t n)
{
	if (!has_path(type) || n < 4)
		return;
	int32_t len = (int32_t)(uint32_t)be(p, 4);
	if (len <= 0 || (size_t)len > n - 4 || len > 200)
		return;
	/* Up to five components (/clickhouse/tables/<shard>/<db>/<table>: one
	 * ClickHouse table), so a busy tail still fits in a line. */
	char path[208];
	int depth = 0;
	size_t k = 0;
	for (; k < (size_t)len && !(p[4 + k] == '/' && ++depth > 5); k++)
		path[k] = (char)p[4 + k];
	if (k < (size_t)len)
		memcpy(path + k, "/...", 4), k += 4;
	path[k] = '\0';
	size_t have = strlen(l->after_paths);
	for (const char *q = l->after_paths; (q = strstr(q, path)) != NULL; q += k)
		if ((q == l->after_paths || q[-1] == ' ') && (q[k] == ',' || q[k] == '\0'))
			return; /* already listed */
	if (have + k + 3 >= sizeof l->after_paths) {
		l->after_paths_more++;
		return;
	}
	snprintf(l->after_paths + have, sizeof l->after_paths - have, "%s%s", have ? ", " : "", path);
}

/* The paths inside a multi: i32 count, n x {i32 type, buf data}. */
static void multi_paths(struct zk_log *l, const unsigned char *p, size_t n)
{
	uint32_t count = n >= 4 ? (uint32_t)be(p, 4) : 0;
	size_t off = 4;
	for (uint32_t i = 0; i < count && off + 8 <= n; i++) {
		int t = (int)(int32_t)(uint32_t)be(p + off, 4);
		int32_t len = (int32_t)(uint32_t)be(p + off + 4, 4);
		if (len < 0 || (size_t)len > n - off - 8)
			return;
		note_path(l, t, p + off + 8, (size_t)len);
		off += 8 + (size_t)len;
	}
}

static int log_fail(struct zk_log *l, bool torn, const char *why, uint64_t off)
{
	l->torn = torn;
	l->valid = !!torn; /* a torn tail is what ZooKeeper treats as the end */
	snprintf(l->error, sizeof l->error, "%s at byte %llu", why, (unsigned long long)off);
	return CUT_OK;
}

static int records(struct rd *r, struct zk_log *l)
{
	unsigned char *buf = NULL;
	size_t cap = 0;
	int rc = CUT_OK;
	for (;;) {
		int64_t crc;
		int32_t len;
		uint64_t at = r->off;
		if (!i64(r, &crc))
			break; /* the file ends on a record boundary */
		if (!i32(r, &len)) {
			rc = log_fail(l, true, "a record header is cut short", at);
			break;
		}
		if (len == 0)
			break; /* the zero padding of a preallocated file */
		/* The payload starts with the 32-byte TxnHeader (clientId, cxid,
		 * zxid, time, type): anything shorter cannot be a transaction. */
		if (len < 32 || len > (1 << 26)) {
			rc = log_fail(l, false, "an impossible record length", at);
			break;
		}
		/* A record that would run past the end of the file is cut short:
		 * say so before allocating what its length claims. */
		if (l->size && at + 12 + (uint64_t)len + 1 > l->size) {
			rc = log_fail(l, true, "the last record is cut short", at);
			break;
		}
		if ((size_t)len > cap) {
			unsigned char *b = realloc(buf, (size_t)len);
			if (b == NULL) {
				rc = log_fail(l, false, "out of memory", at);
				break;
			}
			buf = b, cap = (size_t)len;
		}
		unsigned char end;
		if (!get(r, buf, (size_t)len) || !get(r, &end, 1)) {
			rc = log_fail(l, true, "the last record is cut short", at);
			break;
		}
		uint32_t a = 1, b = 0; /* the record's own Adler32, over the payload only */
		adler(&a, &b, buf, (size_t)len);
		if ((uint64_t)crc != ((b << 16) | a)) {
			rc = log_fail(l, false, "CRC check failed", at);
			break;
		}
		if (end != 'B') {
			rc = log_fail(l, true, "a record without its 'B' end (partial transaction)", at);
			break;
		}
		uint64_t zxid = be(buf + 12, 8);
		int type = (int)(int32_t)(uint32_t)be(buf + 28, 4);
		if (l->txns > 0 && !ZK_FOLLOWS(l->last_zxid, zxid) && l->gap_after == 0)
			l->gap_after = l->last_zxid;
		if (l->txns == 0)
			l->first_zxid = zxid;
		l->last_zxid = zxid;
		l->txns++;
		count_type(l, type);
		if (zxid > l->after) {
			l->after_txns++;
			/* createSession and closeSession move the zxid, not the tree */
			l->after_tree_txns += type != -10 && type != -11;
			if (type == 14)
				multi_paths(l, buf + 32, (size_t)len - 32);
			else
				note_path(l, type, buf + 32, (size_t)len - 32);
		}
		if (type == 14)
			multi_types(l, buf + 32, (size_t)len - 32);
		l->end = r->off;
	}
	free(buf);
	return rc;
}

int zk_log_read(const char *path, struct zk_log *l, struct cut_err *err)
{
	return zk_log_read_after(path, UINT64_MAX, l, err);
}

int zk_log_read_after(const char *path, uint64_t after, struct zk_log *l, struct cut_err *err)
{
	memset(l, 0, sizeof *l);
	l->after = after;
	if (!zk_file_zxid(path, "log", &l->name_zxid))
		return cut_fail(err, CUT_EINVAL, "%s is not named log.<hex zxid>", path);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return cut_fail(err, CUT_EIO, "%s: %s", path, strerror(errno));
	const char *odd = not_regular(f, &l->size);
	if (odd) {
		fclose(f);
		snprintf(l->error, sizeof l->error, "%s", odd);
		return CUT_OK;
	}
	struct rd r = {.read = rd_file, .ud = f, .a = 1};
	int32_t magic, version;
	int64_t dbid;
	l->valid = true;
	if (!i32(&r, &magic) || !i32(&r, &version) || !i64(&r, &dbid))
		log_fail(l, false, "the file is shorter than its header", 0);
	else if ((uint32_t)magic != 0x5A4B4C47)
		log_fail(l, false, "no ZKLG magic", 0);
	else {
		l->version = version;
		l->end = r.off;
		records(&r, l);
	}
	fclose(f);
	return CUT_OK;
}
