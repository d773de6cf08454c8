/*
 * probe: the live state of the site, read without changing anything --
 * ZooKeeper nodes through the `srvr` four-letter word (allowed by every
 * whitelist since 3.5.3), ClickHouse through HTTP /ping, writer tasks through
 * their adapter's status. Every item is probed on its own thread with its own
 * timeout, so one hung host costs its timeout once and shows as "no answer";
 * it never delays the others. The full probe (AdminServer, mntr, Prometheus)
 * builds on this in the ZooKeeper actions.
 *
 * Gates (runbook `requires`) are judged against one probe: the confirmation
 * event records that probe, so the audit shows what the operators saw.
 */
#ifndef CUTOVER_PROBE_H
#define CUTOVER_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "cutover/fold.h"
#include "cutover/inventory.h"
#include "cutover/xport.h"

enum zk_role { ZR_NOANSWER, ZR_DOWN, ZR_LEADER, ZR_FOLLOWER, ZR_OBSERVER, ZR_STANDALONE, ZR_UNKNOWN };

struct zk_srvr {
	enum zk_role role;
	uint64_t zxid;
	long znodes;
	char version[64];
	char error[160];
};

/* `srvr` on host:port; the result's role says down (refused) or no answer. */
void zk_probe_srvr(const char *host, int port, int timeout_ms, struct zk_srvr *out);
/* Any four-letter word: the whole answer, malloc'd; 0, or -1 with *out NULL. */
int zk_4lw(const char *host, int port, const char *word, int timeout_ms, char **out, size_t *len);
const char *zk_role_name(enum zk_role r);

/*
 * The full probe of one node, for `cutover status` and the node panes:
 * AdminServer JSON first (/commands/srvr and /commands/mntr), else the srvr
 * and mntr four-letter words (mntr only where the whitelist allows it), and
 * Prometheus text metrics when the inventory gives a metrics port. -1: unknown.
 */
struct zk_status {
	struct zk_srvr s;     /* role, zxid, znodes, version, error */
	long conns, outstanding, synced_followers;
	double avg_latency, max_latency;
	char source[48];      /* "admin", "4lw srvr", "4lw srvr+mntr", "+prometheus" */
	char fallback[200];   /* why the AdminServer was not the source ("" when it was) */
	long long at_ms;      /* monotonic time of the probe */
};

void zk_probe_full(const struct inv_zk_node *z, int timeout_ms, struct zk_status *out);
/* Parse a Prometheus text page into the fields it carries (synced_followers, latencies, ...). */
void zk_parse_prometheus(const char *page, struct zk_status *out);
/* GET http://host:port/path into a malloc'd NUL-terminated body; NULL on any failure (why in err). */
char *zk_http_get(const char *host, int port, const char *path, int timeout_ms, char *err, size_t errlen);
/* The one AdminServer client: a command's JSON document from a node ("/commands/dump"),
 * or NULL (why in err, which may be NULL). Port: the node's admin_port, else 8080. */
struct json_t *zk_admin_json(const struct inv_zk_node *z, const char *cmd, int timeout_ms, char *err, size_t errlen);

enum live_up { LIVE_NOANSWER, LIVE_DOWN, LIVE_UP, LIVE_UNKNOWN };

struct live_zk {
	const char *ensemble;
	const struct inv_zk_node *node;
	struct zk_srvr s;
};
struct live_ck {
	const struct inv_ck_node *node;
	enum live_up st;
	char error[160];
};
struct live_task {
	const struct inv_task *task;
	enum live_up st; /* LIVE_UP: running, LIVE_DOWN: stopped */
	char detail[160];
};

struct live {
	char wall[32];
	struct live_zk *zk;
	size_t nzk;
	struct live_ck *ck;
	size_t nck;
	struct live_task *tasks;
	size_t ntasks;
};

int live_probe(const struct inventory *inv, struct ssh_pool *pool, int timeout_ms, struct live *out,
	       struct cut_err *err);
void live_free(struct live *l);
/* The snapshot as JSON text (malloc'd), for status and confirm events. */
char *live_json(const struct live *l);

struct gate_result {
	const char *gate;
	bool ok;
	char why[256];
};

/* Judge one gate. earlier: a probe taken a moment before (zxid_flat), or NULL. */
void gate_eval(const char *gate, const struct inventory *inv, const struct live *now, const struct live *earlier,
	       const struct fold *f, struct gate_result *out);

#endif
