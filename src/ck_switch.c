/*
 * ck_switch: the ck.switch action. metrika.xml (or whichever file the
 * inventory names) is read over the transport and edited with libxml2: the
 * <node> children of <zookeeper-servers> (or <zookeeper>) are replaced by the
 * target ensemble's, in the same indentation; session_timeout_ms, root,
 * identity and every other element, attribute and comment stay as they were.
 * The old file is kept beside it with a timestamp, the new one written under
 * a temporary name, synced and renamed, then read back and checked to list
 * exactly the target's hosts. A file that does not parse, or has no such
 * section, is refused and left as it was.
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "act_int.h"
#include "ck_int.h"
#include "cutover/xport.h"

static xmlNodePtr find_section(xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST "zookeeper-servers") || xmlStrEqual(n->name, BAD_CAST "zookeeper"))
			return n;
		xmlNodePtr in = find_section(n->children);
		if (in)
			return in;
	}
	return NULL;
}

static bool is_blank(xmlNodePtr n)
{
	return n && n->type == XML_TEXT_NODE && xmlIsBlankNode(n);
}

/* "host:port,host:port" of a section's <node> children, in order. */
static void list_hosts(xmlNodePtr sec, char *out, size_t n)
{
	out[0] = '\0';
	for (xmlNodePtr c = sec->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "node"))
			continue;
		xmlChar *h = NULL, *p = NULL;
		for (xmlNodePtr k = c->children; k; k = k->next) {
			if (k->type == XML_ELEMENT_NODE && xmlStrEqual(k->name, BAD_CAST "host"))
				h = xmlNodeGetContent(k);
			if (k->type == XML_ELEMENT_NODE && xmlStrEqual(k->name, BAD_CAST "port"))
				p = xmlNodeGetContent(k);
		}
		snprintf(out + strlen(out), n - strlen(out), "%s%s:%s", out[0] ? "," : "", h ? (char *)h : "?",
			 p ? (char *)p : "2181");
		xmlFree(h);
		xmlFree(p);
	}
}

static void target_hosts(const struct inv_ensemble *e, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < e->n; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s:%d", i ? "," : "", e->nodes[i].host,
			 e->nodes[i].client_port ? e->nodes[i].client_port : 2181);
}

static xmlNodePtr new_node(const struct inv_ensemble *e, size_t i, const char *ind)
{
	xmlNodePtr node = xmlNewNode(NULL, BAD_CAST "node");
	char idx[24], port[16], inner[80];
	snprintf(idx, sizeof idx, "%zu", i + 1);
	snprintf(port, sizeof port, "%d", e->nodes[i].client_port ? e->nodes[i].client_port : 2181);
	snprintf(inner, sizeof inner, "%s    ", ind);
	xmlNewProp(node, BAD_CAST "index", BAD_CAST idx);
	xmlAddChild(node, xmlNewText(BAD_CAST inner));
	xmlNewTextChild(node, NULL, BAD_CAST "host", BAD_CAST e->nodes[i].host);
	xmlAddChild(node, xmlNewText(BAD_CAST inner));
	xmlNewTextChild(node, NULL, BAD_CAST "port", BAD_CAST port);
	xmlAddChild(node, xmlNewText(BAD_CAST ind));
	return node;
}

/*
 * Replace the <node> children in place, reusing the blanks between them, so
 * the file keeps its layout. (libxml2 merges adjacent text nodes, so new
 * blanks are only ever put next to elements.)
 */
static void replace_nodes(xmlNodePtr sec, const struct inv_ensemble *e)
{
	xmlNodePtr old[64];
	size_t n = 0;
	for (xmlNodePtr c = sec->children; c && n < 64; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "node"))
			old[n++] = c;
	xmlChar *indent = n && is_blank(old[0]->prev) ? xmlNodeGetContent(old[0]->prev) : NULL;
	const char *ind = indent ? (const char *)indent : "\n        ";
	xmlNodePtr last = NULL;
	for (size_t i = 0; i < e->n; i++) {
		xmlNodePtr m = new_node(e, i, ind);
		if (i < n) {
			xmlReplaceNode(old[i], m);
			xmlFreeNode(old[i]);
		} else if (last) {
			xmlAddNextSibling(last, m);
			xmlAddPrevSibling(m, xmlNewText(BAD_CAST ind));
		} else if (sec->children) {
			xmlAddPrevSibling(sec->children, m);
			xmlAddNextSibling(m, xmlNewText(BAD_CAST ind)); /* m's next is an element or merges harmlessly */
		} else {
			xmlAddChild(sec, m);
		}
		last = m;
	}
	for (size_t i = e->n; i < n; i++) { /* fewer nodes than before: drop the rest and their blanks */
		if (is_blank(old[i]->prev)) {
			xmlNodePtr b = old[i]->prev;
			xmlUnlinkNode(b);
			xmlFreeNode(b);
		}
		xmlUnlinkNode(old[i]);
		xmlFreeNode(old[i]);
	}
	xmlFree(indent);
}

/* Parse, edit, serialise; NULL with err when the file cannot be switched. */
char *ck_switch_render(const char *xml, size_t len, const struct inv_ensemble *e, char *before, size_t blen,
		       struct cut_err *err)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "metrika.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (doc == NULL) {
		const xmlError *x = xmlGetLastError();
		cut_fail(err, CUT_EPARSE, "the file does not parse as XML%s%.200s; it was left as it is", x ? ": " : "",
			 x ? x->message : "");
		return NULL;
	}
	xmlNodePtr sec = find_section(xmlDocGetRootElement(doc));
	if (sec == NULL) {
		xmlFreeDoc(doc);
		cut_fail(err, CUT_EINVAL, "the file has no <zookeeper-servers> or <zookeeper> section; it was left as it is");
		return NULL;
	}
	list_hosts(sec, before, blen);
	replace_nodes(sec, e);
	xmlChar *out = NULL;
	int n = 0;
	xmlDocDumpMemory(doc, &out, &n); /* the declaration as it was */
	xmlFreeDoc(doc);
	const char *body = out ? (const char *)out : NULL;
	if (body && strncmp(xml, "<?xml", 5) != 0 && strncmp(body, "<?xml", 5) == 0) {
		const char *nl = strchr(body, '\n'); /* the original had no declaration: add none */
		body = nl ? nl + 1 : body;
	}
	char *s = body ? strndup(body, (size_t)n - (size_t)(body - (const char *)out)) : NULL;
	xmlFree(out);
	if (s == NULL)
		cut_fail(err, CUT_ENOMEM, "out of memory");
	return s;
}

/* The hosts a metrika.xml lists, for checks and `ck show`. */
int ck_switch_hosts(const char *xml, size_t len, char *out, size_t n, struct cut_err *err)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int)len, "metrika.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (doc == NULL)
		return cut_fail(err, CUT_EPARSE, "the file does not parse as XML");
	xmlNodePtr sec = find_section(xmlDocGetRootElement(doc));
	if (sec)
		list_hosts(sec, out, n);
	xmlFreeDoc(doc);
	return sec ? CUT_OK : cut_fail(err, CUT_EINVAL, "no <zookeeper-servers> or <zookeeper> section");
}

/* Line i of text (0-based), its length in *n; NULL past the end. */
static const char *line_at(const char *text, size_t i, size_t *n)
{
	for (; i > 0 && text; i--) {
		text = strchr(text, '\n');
		text = text ? text + 1 : NULL;
	}
	if (text == NULL || *text == '\0')
		return NULL;
	const char *nl = strchr(text, '\n');
	*n = nl ? (size_t)(nl - text) : strlen(text);
	return text;
}

static size_t count_lines(const char *text)
{
	size_t n = 0, k;
	while (line_at(text, n, &k))
		n++;
	return n;
}

static bool same_line(const char *a, size_t ia, const char *b, size_t ib)
{
	size_t na, nb;
	const char *x = line_at(a, ia, &na), *y = line_at(b, ib, &nb);
	return x && y && na == nb && memcmp(x, y, na) == 0;
}

/* A unified-style diff of one changed block (ck.switch changes one section):
 * the common head and tail are skipped but for two lines of context. */
static void diff_block(struct plan_lines *out, const char *a, const char *b)
{
	size_t na = count_lines(a), nb = count_lines(b), head = 0, tail = 0, len;
	while (head < na && head < nb && same_line(a, head, b, head))
		head++;
	while (tail < na - head && tail < nb - head && same_line(a, na - 1 - tail, b, nb - 1 - tail))
		tail++;
	size_t from = head > 2 ? head - 2 : 0;
	plan_add(out, "@@ line %zu @@", from + 1);
	for (size_t i = from; i < head; i++)
		plan_add(out, "  %.*s", (int)len, line_at(a, i, &len));
	for (size_t i = head; i < na - tail; i++)
		plan_add(out, "- %.*s", (int)len, line_at(a, i, &len));
	for (size_t i = head; i < nb - tail; i++)
		plan_add(out, "+ %.*s", (int)len, line_at(b, i, &len));
	for (size_t i = nb - tail; i < nb - tail + 2 && i < nb; i++)
		plan_add(out, "  %.*s", (int)len, line_at(b, i, &len));
}

/* Before confirmation: the file as it is, and exactly what the switch would change in it. */
static int ck_switch_preview(struct act_run *r, struct plan_lines *out, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	const struct rb_param *p = rb_param(act_step(r), "to");
	const struct inv_ensemble *e = p && p->value ? inv_ensemble(sc->inv, p->value) : NULL;
	const char *path = e ? subst(act_arena(r), sc->ck->metrika, sc, SUBST_PATH, err) : NULL;
	if (path == NULL)
		return e ? err->code : cut_fail(err, CUT_EINVAL, "to: names no ensemble of the inventory");
	char *old = NULL, before[1024];
	size_t len;
	int rc = act_read_file(r, path, 4 << 20, &old, &len, err);
	char *new = rc == CUT_OK ? ck_switch_render(old, len, e, before, sizeof before, err) : NULL;
	if (rc == CUT_OK && new == NULL)
		rc = cut_fail(err, err->code, "%s would be refused: %s", path, err->msg);
	if (rc == CUT_OK && strcmp(old, new) == 0)
		plan_add(out, "%s already lists the %s ensemble (%s): no change", path, e->name, before);
	else if (rc == CUT_OK) {
		plan_add(out, "--- %s (now: %s)", path, before);
		plan_add(out, "+++ %s (after the switch to %s)", path, e->name);
		diff_block(out, old, new);
	}
	free(old);
	free(new);
	return rc;
}

static int ck_switch_run(struct act_run *r, struct cut_err *err)
{
	const struct subst_scope *sc = act_scope(r);
	struct arena *a = act_arena(r);
	const struct rb_param *p = rb_param(act_step(r), "to");
	const struct inv_ensemble *e = p && p->value ? inv_ensemble(sc->inv, p->value) : NULL;
	if (e == NULL)
		return cut_fail(err, CUT_EINVAL, "to: names no ensemble of the inventory");
	const char *path = subst(a, sc->ck->metrika, sc, SUBST_PATH, err);
	if (path == NULL)
		return err->code;
	char *old = NULL, before[1024], want[1024], after[1024];
	size_t len;
	int rc = act_read_file(r, path, 4 << 20, &old, &len, err);
	if (rc != CUT_OK)
		return rc;
	char *new = ck_switch_render(old, len, e, before, sizeof before, err);
	target_hosts(e, want, sizeof want);
	if (new == NULL) {
		free(old);
		cut_err_prefix(err, "%s: ", path);
		return err->code;
	}
	if (strcmp(before, want) == 0) {
		act_say(r, "%s already lists the %s ensemble (%s); left as it is", path, e->name, want);
		free(old), free(new);
		return CUT_OK;
	}
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	const char *bak = arena_printf(a, "%s.%s", path, ts);
	rc = act_write_file(r, bak, old, len, err);
	if (rc == CUT_OK)
		rc = act_write_file(r, path, new, strlen(new), err);
	free(old);
	free(new);
	char *back = NULL;
	if (rc == CUT_OK)
		rc = act_read_file(r, path, 4 << 20, &back, &len, err);
	if (rc == CUT_OK)
		rc = ck_switch_hosts(back, len, after, sizeof after, err);
	free(back);
	if (rc == CUT_OK && strcmp(after, want) != 0)
		rc = cut_fail(err, CUT_ECORRUPT, "%s lists %s after the write, not %s; the previous file is %s", path, after,
			      want, bak);
	if (rc == CUT_OK)
		act_say(r, "%s: %s -> %s (%s ensemble); previous file kept as %s", path, before, after, e->name, bak);
	return rc;
}

const char *ck_ensemble_of(const struct inventory *inv, const char *hosts)
{
	for (size_t e = 0; e < inv->nensembles; e++) {
		const struct inv_ensemble *en = &inv->ensembles[e];
		char first[300];
		if (en->n == 0)
			continue;
		snprintf(first, sizeof first, "%s:%d", en->nodes[0].host, en->nodes[0].client_port ? en->nodes[0].client_port : 2181);
		if (strstr(hosts, first))
			return en->name;
	}
	return "?";
}

int ck_metrika_hosts(struct ssh_pool *pool, const struct inventory *inv, const struct inv_ck_node *ck, int timeout_ms,
		     char *hosts, size_t n, char *path_out, size_t path_cap, struct cut_err *err)
{
	struct arena *a = arena_new();
	struct subst_scope sc = {.inv = inv, .ck = ck};
	struct xport *x = NULL;
	char *xml = NULL;
	size_t len = 0;
	const char *path = a ? subst(a, ck->metrika, &sc, SUBST_PATH, err) : NULL;
	int rc = path ? xp_get(pool, ck->host, &ck->ssh, &sc, &x, err) : a ? err->code : cut_fail(err, CUT_ENOMEM, "out of memory");
	if (rc == CUT_OK) {
		rc = xp_read_all(x, path, 4 << 20, timeout_ms, NULL, &xml, &len, err);
		xp_put(pool, x, rc);
	}
	if (rc == CUT_OK)
		rc = ck_switch_hosts(xml, len, hosts, n, err);
	if (path_out && path_cap)
		snprintf(path_out, path_cap, "%s", path ? path : "");
	free(xml);
	arena_free(a);
	return rc;
}

/* ---- what the plan says it does ---------------------------------------------------------- */

static void d_ck_switch(struct plan_lines *out, const struct rb_step *s, const struct subst_scope *sc)
{
	const char *to = act_param_text(s, "to", "?");
	const struct inv_ensemble *e = inv_ensemble(sc->inv, to);
	char hosts[1024] = "";
	for (size_t i = 0; e && i < e->n; i++)
		snprintf(hosts + strlen(hosts), sizeof hosts - strlen(hosts), "%s%s:%d", i ? ", " : "",
			 e->nodes[i].host, e->nodes[i].client_port);
	const char *m = ACT_PATH(sc->ck->metrika);
	plan_add(out, "edit %s: <zookeeper-servers> nodes become %s ensemble %s", m, to, hosts);
	plan_add(out, "keep a backup %s.<timestamp>; write a temporary file, fsync, rename; re-read and check", m);
}

const struct action_ops act_ck_switch = {.name = "ck.switch", .kinds = TGT_CK, .params = ACT_PARAMS("to"),
	.required = ACT_PARAMS("to"), .destructive = true, .summary = "point metrika.xml at another ensemble",
	.describe = d_ck_switch, .run = ck_switch_run, .preview = ck_switch_preview};
