/*
 * libFuzzer target for the files cutover reads that others wrote: ZooKeeper's
 * snapshots (the stream reader zk.copy uses), its transaction logs (the file
 * reader of zk select and the fence, every transaction counted as late so the
 * path notes run too) and the audit file under `audit verify`. Hostile bytes
 * must give a verdict, never a crash, leak or UB. The first byte picks the
 * reader; a log or an audit goes through one scratch file, removed at exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/audit.h"
#include "cutover/zk_files.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct mem {
	const uint8_t *p;
	size_t n, off;
};

static size_t mem_read(void *ud, void *buf, size_t n)
{
	struct mem *m = ud;
	size_t k = m->n - m->off < n ? m->n - m->off : n;
	memcpy(buf, m->p + m->off, k);
	m->off += k;
	return k;
}

static char dir[64], logf[96], auditf[96];

static void cleanup(void)
{
	const char *side[] = {"", "-wal", "-shm", "-journal"};
	char p[128];
	unlink(logf);
	for (size_t i = 0; i < sizeof side / sizeof side[0]; i++)
		snprintf(p, sizeof p, "%s%s", auditf, side[i]), unlink(p);
	rmdir(dir);
}

static const char *scratch(const char *file, const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/cutover-fuzz-XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(logf, sizeof logf, "%s/log.1", dir);
		snprintf(auditf, sizeof auditf, "%s/audit.db", dir);
		atexit(cleanup);
	}
	FILE *f = fopen(file, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	return file;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct cut_err e;
	switch (data[0] % 3) {
	case 0: {
		struct mem m = {data + 1, size - 1, 0};
		struct zk_snap s;
		zk_snap_read_stream("snapshot.1", size - 1, mem_read, &m, &s, &e);
		break;
	}
	case 1: {
		struct zk_log l;
		zk_log_read_after(scratch(logf, data + 1, size - 1), 0, &l, &e);
		break;
	}
	default: {
		struct audit *a;
		struct audit_report rep;
		char side[128];
		snprintf(side, sizeof side, "%s-wal", auditf), unlink(side);
		snprintf(side, sizeof side, "%s-shm", auditf), unlink(side);
		if (audit_open_readonly(scratch(auditf, data + 1, size - 1), &a, &e) == CUT_OK) {
			audit_verify(a, &rep, &e);
			audit_close(a);
		}
		break;
	}
	}
	return 0;
}
