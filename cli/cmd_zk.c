/*
 * zk: ZooKeeper's files from the command line -- `cutover zk inspect FILE...`
 * and `cutover zk select SNAPDIR [LOGDIR] [--for-3.4]`.
 */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cutover/zk_files.h"

static void zxid(char *buf, size_t n, uint64_t z)
{
	snprintf(buf, n, "0x%" PRIx64 " (epoch %" PRIu32 ", counter %" PRIu32 ")", z, ZK_EPOCH(z), ZK_COUNTER(z));
}

static int inspect_snap(const char *path)
{
	struct zk_snap s;
	struct cut_err err = {0};
	char z[80], m[80];
	if (zk_snap_read(path, &s, &err) != CUT_OK)
		return fprintf(stderr, "cutover: %s\n", err.msg), 1;
	zxid(z, sizeof z, s.name_zxid);
	zxid(m, sizeof m, s.max_zxid);
	printf("%s: snapshot, %" PRIu64 " bytes\n  zxid (name)  %s\n", path, s.size, z);
	if (s.compression) {
		printf("  %s\n", s.error);
		return 1;
	}
	printf("  version %d, dbid %" PRId64 "\n  sessions %ld, nodes %ld (%ld ephemeral)\n  last zxid    %s\n", s.version,
	       s.dbid, s.sessions, s.nodes, s.ephemerals, m);
	printf("  seals        %d (%s)\n", s.seals, s.seals >= 3 ? "3.9+" : s.seals == 2 ? "3.6+, with digest" : "3.4/3.5 layout");
	printf("  %s%s\n", s.valid ? "valid" : "INVALID: ", s.valid ? "" : s.error);
	return s.valid ? 0 : 1;
}

static int inspect_log(const char *path)
{
	struct zk_log l;
	struct cut_err err = {0};
	char a[80], b[80];
	if (zk_log_read(path, &l, &err) != CUT_OK)
		return fprintf(stderr, "cutover: %s\n", err.msg), 1;
	zxid(a, sizeof a, l.first_zxid);
	zxid(b, sizeof b, l.last_zxid);
	printf("%s: transaction log, %" PRIu64 " bytes (%" PRIu64 " used)\n  version %d, %ld transactions\n",
	       path, l.size, l.end, l.version, l.txns);
	if (l.txns)
		printf("  first zxid   %s\n  last zxid    %s\n", a, b);
	printf("  types       ");
	for (int t = -11; t <= 20; t++)
		if (l.types[t + 11])
			printf(" %s %ld", zk_txn_name(t), l.types[t + 11]);
	printf("\n");
	if (l.newer_than_34)
		printf("  %ld transaction(s) ZooKeeper 3.4 cannot read\n", l.newer_than_34);
	if (l.gap_after)
		printf("  GAP after zxid 0x%" PRIx64 "\n", l.gap_after);
	if (l.error[0])
		printf("  %s%s\n", l.torn ? "torn tail: " : "INVALID: ", l.error);
	else
		printf("  valid\n");
	return l.valid && !l.gap_after ? 0 : 1;
}

static int select_cmd(int argc, char **argv)
{
	bool for34 = false;
	const char *dirs[2] = {NULL, NULL};
	int nd = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--for-3.4") == 0)
			for34 = true;
		else if (nd < 2)
			dirs[nd++] = argv[i];
		else
			return cli_usage_of("zk"), CLI_USAGE;
	}
	if (nd == 0)
		return cli_usage_of("zk"), CLI_USAGE;
	struct zk_selection s;
	struct cut_err err = {0};
	if (zk_select(dirs[0], dirs[1], for34, NULL, &s, &err) != CUT_OK) {
		fprintf(stderr, "cutover: refusing: %s\n", err.msg);
		return CLI_FAIL;
	}
	char a[80], b[80];
	zxid(a, sizeof a, s.snap_zxid);
	zxid(b, sizeof b, s.last_zxid);
	printf("restores to %s: snapshot at %s plus %ld transaction(s) from %zu log(s)\n", b, a, s.txns_after_snap, s.n - 1);
	if (s.skipped[0])
		printf("passed over: %s\n", s.skipped);
	for (size_t i = 0; i < s.n; i++)
		printf("%s\t%" PRIu64 "\n", s.files[i].path, s.files[i].size);
	zk_selection_free(&s);
	return CLI_OK;
}

int cli_zk(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "inspect") == 0) {
		int bad = 0;
		for (int i = 2; i < argc; i++) {
			uint64_t z;
			const char *slash = strrchr(argv[i], '/');
			const char *name = slash ? slash + 1 : argv[i];
			struct stat sb;
			if (stat(argv[i], &sb) != 0 || !S_ISREG(sb.st_mode) || access(argv[i], R_OK) != 0)
				bad = 1, fprintf(stderr, "cutover: cannot read %s: %s\n", argv[i],
						 stat(argv[i], &sb) != 0 ? strerror(errno) : !S_ISREG(sb.st_mode) ? "not a regular file"
						 : strerror(errno));
			else if (zk_file_zxid(name, "snapshot", &z))
				bad |= inspect_snap(argv[i]);
			else if (zk_file_zxid(name, "log", &z))
				bad |= inspect_log(argv[i]);
			else
				bad = 1, fprintf(stderr, "cutover: %s is neither snapshot.<zxid> nor log.<zxid>\n", argv[i]);
		}
		return bad ? CLI_FAIL : CLI_OK;
	}
	if (argc >= 3 && strcmp(argv[1], "select") == 0)
		return select_cmd(argc - 2, argv + 2);
	cli_usage_of("zk");
	return CLI_USAGE;
}
