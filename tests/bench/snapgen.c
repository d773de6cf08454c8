/*
 * snapgen: writes a valid ZooKeeper snapshot of about N MiB for `make bench`
 * (a 1 GiB ensemble is not something a loopback lab can grow in minutes).
 * The layout is the one zk_files.c reads and ZooKeeper 3.4+ writes: header,
 * no sessions, no ACLs, the tree (root, /zookeeper, /zookeeper/quota,
 * /bench and 1 MiB children of incompressible bytes), the "/" end marker,
 * then the cumulative Adler32 seal and its "/".
 *
 *   snapgen DIR MIB  ->  DIR/snapshot.<hex zxid>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOD 65521u

struct out {
	FILE *f;
	uint32_t a, b;
};

static void put(struct out *o, const void *p, size_t n)
{
	const unsigned char *c = p;
	fwrite(p, 1, n, o->f);
	for (size_t i = 0; i < n; i++) { /* ZooKeeper's Adler32, kept across the file */
		o->a = (o->a + c[i]) % MOD;
		o->b = (o->b + o->a) % MOD;
	}
}

static void be(struct out *o, uint64_t v, int n)
{
	unsigned char b[8];
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * (n - 1 - i)));
	put(o, b, (size_t)n);
}

static void str(struct out *o, const void *p, int32_t n)
{
	be(o, (uint32_t)n, 4);
	if (n > 0)
		put(o, p, (size_t)n);
}

static void node(struct out *o, const char *path, const unsigned char *data, int32_t len, uint64_t zxid)
{
	str(o, path, (int32_t)strlen(path));
	str(o, data, len);
	be(o, (uint64_t)-1, 8); /* acl: -1, OPEN_ACL_UNSAFE */
	be(o, zxid, 8);         /* czxid */
	be(o, zxid, 8);         /* mzxid */
	be(o, 0, 8);            /* ctime */
	be(o, 0, 8);            /* mtime */
	be(o, 0, 4);            /* version */
	be(o, 0, 4);            /* cversion */
	be(o, 0, 4);            /* aversion */
	be(o, 0, 8);            /* ephemeralOwner */
	be(o, zxid, 8);         /* pzxid */
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: snapgen DIR MIB\n");
		return 2;
	}
	long mib = atol(argv[2]);
	uint64_t zxid = 0x100000000ULL + (uint64_t)mib + 4;
	char path[4096];
	snprintf(path, sizeof path, "%s/snapshot.%llx", argv[1], (unsigned long long)zxid);
	struct out o = {.f = fopen(path, "wb"), .a = 1};
	unsigned char *data = malloc(1 << 20);
	if (o.f == NULL || data == NULL) {
		perror(path);
		return 1;
	}
	be(&o, 0x5A4B534E, 4); /* ZKSN */
	be(&o, 2, 4);
	be(&o, (uint64_t)-1, 8);
	be(&o, 0, 4); /* sessions */
	be(&o, 0, 4); /* ACL cache */
	node(&o, "", NULL, -1, 0);
	node(&o, "/zookeeper", NULL, -1, 0);
	node(&o, "/zookeeper/quota", NULL, -1, 0);
	node(&o, "/bench", NULL, -1, 0x100000001ULL);
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (long i = 0; i < mib; i++) {
		for (size_t k = 0; k < (1 << 20); k += 8) { /* xorshift: ssh must not squeeze it */
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			memcpy(data + k, &x, 8);
		}
		char name[64];
		snprintf(name, sizeof name, "/bench/n%06ld", i);
		node(&o, name, data, 1 << 20, 0x100000002ULL + (uint64_t)i);
	}
	str(&o, "/", 1);
	uint32_t sum = (o.b << 16) | o.a;
	be(&o, sum, 8);
	str(&o, "/", 1);
	free(data);
	if (fclose(o.f) != 0) {
		perror(path);
		return 1;
	}
	printf("%s\n", path);
	return 0;
}
