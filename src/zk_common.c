/*
 * zk_common: what several ZooKeeper actions ask of a node -- its client
 * port, its data dirs, how to say what srvr saw -- and the rollback guard
 * that zk.wipe and zk.copy share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act_int.h"
#include "cutover/ck.h"
#include "cutover/zk_files.h"
#include "zk_int.h"

int zk_port(const struct inv_zk_node *z)
{
	return z->client_port ? z->client_port : 2181;
}

void zk_say_node(struct act_run *r, const struct inv_zk_node *z, const struct zk_srvr *s)
{
	if (s->role == ZR_NOANSWER || s->role == ZR_DOWN || s->role == ZR_UNKNOWN)
		act_say(r, "%s (%s:%d): %s%s%s", z->name, z->host, zk_port(z), zk_role_name(s->role), s->error[0] ? ": " : "",
			s->error);
	else
		act_say(r, "%s (%s:%d): %s, zxid 0x%llx (epoch %u, counter %u), %ld znodes, %s", z->name, z->host, zk_port(z),
			zk_role_name(s->role), (unsigned long long)s->zxid, ZK_EPOCH(s->zxid), ZK_COUNTER(s->zxid), s->znodes,
			s->version);
}

int zk_dirs(struct arena *a, const struct subst_scope *sc, const char **dd, const char **ld, struct cut_err *err)
{
	const struct inv_zk_node *z = sc->zk;
	*dd = subst(a, z->data_dir, sc, SUBST_PATH, err);
	/* ZooKeeper logs into dataDir when dataLogDir is not set */
	*ld = *dd ? subst(a, z->data_log_dir ? z->data_log_dir : z->data_dir, sc, SUBST_PATH, err) : NULL;
	return *ld ? CUT_OK : err->code;
}

/*
 * In a rollback the copy goes from the new ensemble back to the old one. That
 * is only right once ClickHouse has run on the new ensemble: before the
 * switch the old ensemble holds the newest data, and copying the new one's
 * over it would lose whatever reached it after the forward copy. So the
 * metrika.xml of every ClickHouse node is read now and must not list the
 * destination ensemble.
 */
int zk_rollback_allowed(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	for (size_t i = 0; i < sc->inv->nck; i++) {
		const struct inv_ck_node *ck = &sc->inv->ck[i];
		struct subst_scope csc = {.inv = sc->inv, .ck = ck};
		struct act_run *o = act_open_other(r, ck->name, ck->host, &ck->ssh, &csc);
		const char *path = o ? subst(act_arena(r), ck->metrika, &csc, SUBST_PATH, err) : NULL;
		char *xml = NULL, hosts[1024] = "";
		size_t len;
		int rc = path ? act_read_file(o, path, 4 << 20, &xml, &len, err) : err->code;
		if (rc == CUT_OK)
			rc = ck_switch_hosts(xml, len, hosts, sizeof hosts, err);
		free(xml);
		act_close_other(o, rc);
		if (rc != CUT_OK)
			return cut_fail(err, rc, "cannot tell where ClickHouse %s points (%s); not copying back blind", ck->name,
					err->msg);
		if (sc->ensemble && strcmp(ck_ensemble_of(sc->inv, hosts), sc->ensemble) == 0)
			return cut_fail(err, CUT_EREFUSED, "ClickHouse %s still points at the %s ensemble (%s): it never ran on "
					"the other one, so %s holds the newest data; do not move it aside or copy over it "
					"(skip this step with that reason and restart ClickHouse on %s)",
					ck->name, sc->ensemble, hosts, sc->ensemble, sc->ensemble);
	}
	return CUT_OK;
}
