/* yml: typed YAML decoding over libyaml documents (see include/cutover/yml.h). */
#include "cutover/yml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct keyref {
	const char *key;
	const yaml_node_t *node;
};

static int by_key_then_place(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c == 0)
		c = x->node->start_mark.index < y->node->start_mark.index ? -1 : x->node->start_mark.index > y->node->start_mark.index;
	return c;
}

/*
 * YAML keys are unique within a mapping, but libyaml keeps both of a pair and
 * the first or the last would win silently, depending on the reader: every
 * mapping of the document, each once (an alias is one node however often it
 * is used), is checked here, sorted so a huge mapping costs n log n.
 */
static bool unique_keys(struct yml *y)
{
	bool ok = true;
	for (yaml_node_t *n = y->doc.nodes.start; n < y->doc.nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start), m = 0;
		if (cnt < 2)
			continue;
		struct keyref *v = malloc(cnt * sizeof *v);
		if (v == NULL) {
			diag_add(y->diags, y->file, 0, 0, DIAG_ERROR, "out of memory checking the keys");
			return false;
		}
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yml_get(y, p->key);
			if (k && yml_scalar(k))
				v[m].key = yml_scalar(k), v[m++].node = k;
		}
		qsort(v, m, sizeof *v, by_key_then_place);
		for (size_t i = 1; i < m; i++)
			if (strcmp(v[i].key, v[i - 1].key) == 0) {
				struct yml_pos first = yml_pos_of(v[i - 1].node);
				yml_error(y, v[i].node, "key '%.80s' appears twice in one mapping (first at line %d, column %d); "
					  "keep one", v[i].key, first.line, first.col);
				ok = false;
			}
		free(v);
	}
	return ok;
}

#define YML_MAX_NODES 1000000u /* after aliases: far more than any runbook or inventory */
#define YML_MAX_DEPTH 64
#define BUSY UINT64_MAX

/*
 * How many nodes the document holds once every alias stands for what it names.
 * libyaml keeps an alias as one shared node, but whoever walks the tree walks
 * it each time: a few hundred KB of nested aliases make billions of nodes.
 * Memoised per node, so this costs one pass; BUSY marks a node being counted,
 * which an alias inside it reaching it again makes a cycle.
 */
static uint64_t expanded(struct yml *y, int id, uint64_t *memo, int depth, const char **why)
{
	yaml_node_t *n = yml_get(y, id);
	if (n == NULL || *why)
		return 0;
	uint64_t *m = &memo[id - 1];
	if (*m == BUSY)
		return *why = "an alias that contains itself", 0;
	if (*m)
		return *m;
	if (depth > YML_MAX_DEPTH)
		return *why = "nesting deeper than 64 levels", 0;
	*m = BUSY;
	uint64_t total = 1;
	if (n->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top && total <= YML_MAX_NODES; i++)
			total += expanded(y, *i, memo, depth + 1, why);
	else if (n->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top && total <= YML_MAX_NODES; p++)
			total += expanded(y, p->key, memo, depth + 1, why) + expanded(y, p->value, memo, depth + 1, why);
	if (total > YML_MAX_NODES && *why == NULL)
		*why = "more than a million nodes once its aliases are expanded";
	return *m = total;
}

static bool bounded(struct yml *y)
{
	size_t n = (size_t)(y->doc.nodes.top - y->doc.nodes.start);
	uint64_t *memo = calloc(n ? n : 1, sizeof *memo);
	const char *why = NULL;
	if (memo == NULL)
		why = "not enough memory to read it";
	else
		expanded(y, 1, memo, 0, &why);
	free(memo);
	if (why)
		diag_add(y->diags, y->file, 0, 0, DIAG_ERROR, "the file is refused: %s; no runbook or inventory needs that: write it plainly", why);
	return why == NULL;
}

bool yml_parse(struct yml *y, const char *file, const unsigned char *buf, size_t len,
	       struct arena *a, struct diag_list *d)
{
	memset(y, 0, sizeof *y);
	y->file = file;
	y->arena = a;
	y->diags = d;
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		diag_add(d, file, 0, 0, DIAG_ERROR, "out of memory while starting the YAML parser");
		return false;
	}
	yaml_parser_set_input_string(&p, buf, len);
	if (!yaml_parser_load(&p, &y->doc)) {
		int line = (int)p.problem_mark.line + 1, col = (int)p.problem_mark.column + 1;
		if (p.error == YAML_READER_ERROR) { /* bad bytes: libyaml gives an offset, not a mark */
			line = 1, col = 1;
			for (size_t i = 0; i < p.problem_offset && i < len; i++)
				buf[i] == '\n' ? (line++, col = 1) : (buf[i] & 0xc0) != 0x80 ? col++ : 0;
		}
		diag_add(d, file, line, col,
			 DIAG_ERROR, "YAML syntax error: %s%s%s; fix the YAML at this place",
			 p.problem ? p.problem : "unreadable document", p.context ? " " : "",
			 p.context ? p.context : "");
		yaml_parser_delete(&p);
		return false;
	}
	y->loaded = true;
	if (yaml_document_get_root_node(&y->doc) == NULL) {
		yaml_parser_delete(&p);
		diag_add(d, file, 0, 0, DIAG_ERROR, "the file is empty; it needs a YAML mapping");
		return false;
	}
	/* A second document would be ignored without a word. */
	yaml_document_t next;
	bool more = false;
	if (yaml_parser_load(&p, &next)) {
		yaml_node_t *root = yaml_document_get_root_node(&next);
		if (root) {
			diag_add(d, file, (int)root->start_mark.line + 1, (int)root->start_mark.column + 1, DIAG_ERROR,
				 "a second YAML document starts here; one file holds one runbook or inventory");
			more = true;
		}
		yaml_document_delete(&next);
	} else {
		diag_add(d, file, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1, DIAG_ERROR,
			 "YAML syntax error after the document: %s; one file holds one runbook or inventory",
			 p.problem ? p.problem : "unreadable");
		more = true;
	}
	yaml_parser_delete(&p);
	return bounded(y) && unique_keys(y) && !more;
}

void yml_done(struct yml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = false;
}

yaml_node_t *yml_root(struct yml *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *yml_get(struct yml *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

struct yml_pos yml_pos_of(const yaml_node_t *n)
{
	struct yml_pos p = {0, 0};
	if (n != NULL) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

static void vdiag(struct yml *y, const yaml_node_t *n, enum diag_sev sev, const char *fmt,
		  va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	struct yml_pos p = yml_pos_of(n);
	diag_add(y->diags, y->file, p.line, p.col, sev, "%s", msg);
}

void yml_error(struct yml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(y, n, DIAG_ERROR, fmt, ap);
	va_end(ap);
}

void yml_warn(struct yml *y, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(y, n, DIAG_WARNING, fmt, ap);
	va_end(ap);
}

static const char *type_name(yaml_node_type_t t)
{
	switch (t) {
	case YAML_SCALAR_NODE: return "a single value";
	case YAML_SEQUENCE_NODE: return "a list";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "nothing";
	}
}

bool yml_expect(struct yml *y, yaml_node_t *n, yaml_node_type_t type, const char *what)
{
	if (n != NULL && n->type == type)
		return true;
	yml_error(y, n, "%s must be %s, not %s", what, type_name(type),
		  n ? type_name(n->type) : "nothing");
	return false;
}

const char *yml_scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

size_t yml_seq_len(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *yml_seq_at(struct yml *y, yaml_node_t *n, size_t i)
{
	return yml_get(y, n->data.sequence.items.start[i]);
}

bool yml_str(struct yml *y, yaml_node_t *n, const char *what, const char **out)
{
	if (!yml_expect(y, n, YAML_SCALAR_NODE, what))
		return false;
	*out = arena_strdup(y->arena, yml_scalar(n));
	return *out != NULL;
}

bool yml_int(struct yml *y, yaml_node_t *n, const char *what, int lo, int hi, int *out)
{
	if (!yml_expect(y, n, YAML_SCALAR_NODE, what))
		return false;
	const char *s = yml_scalar(n);
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		yml_error(y, n, "%s must be a whole number, not '%s'", what, s);
		return false;
	}
	if (v < lo || v > hi) {
		yml_error(y, n, "%s %ld is out of range; use %d to %d", what, v, lo, hi);
		return false;
	}
	*out = (int)v;
	return true;
}

bool yml_parse_duration(const char *s, int *ms)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (end == s || v < 0 || errno != 0)
		return false;
	long mul;
	if (strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else
		return false;
	if (v > INT_MAX / mul)
		return false;
	*ms = (int)(v * mul);
	return true;
}

bool yml_strlist(struct yml *y, yaml_node_t *n, const char *what, struct strlist *out)
{
	size_t count = n && n->type == YAML_SCALAR_NODE ? 1 : yml_seq_len(n);
	if (n == NULL || n->type == YAML_MAPPING_NODE) {
		yml_error(y, n, "%s must be a list of values, not a mapping", what);
		return false;
	}
	out->v = arena_alloc(y->arena, (count + 1) * sizeof *out->v);
	out->pos = arena_alloc(y->arena, (count + 1) * sizeof *out->pos);
	if (out->v == NULL || out->pos == NULL)
		return false;
	out->n = 0;
	bool ok = true;
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = n->type == YAML_SCALAR_NODE ? n : yml_seq_at(y, n, i);
		if (!yml_str(y, item, what, &out->v[out->n])) {
			ok = false;
			continue;
		}
		out->pos[out->n++] = yml_pos_of(item);
	}
	return ok;
}

static bool decode_field(struct yml *y, const struct yml_field *f, yaml_node_t *v, void *obj,
			 const char *what)
{
	char label[160];
	snprintf(label, sizeof label, "%s '%s'", what, f->key);
	void *dst = (char *)obj + f->off;
	if (f->pos_off >= 0)
		*(struct yml_pos *)((char *)obj + f->pos_off) = yml_pos_of(v);
	switch (f->type) {
	case YML_STR:
		return yml_str(y, v, label, (const char **)dst);
	case YML_INT:
		return yml_int(y, v, label, f->min, f->max, (int *)dst);
	case YML_BOOL: {
		if (!yml_expect(y, v, YAML_SCALAR_NODE, label))
			return false;
		const char *s = yml_scalar(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
			*(bool *)dst = true;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
			*(bool *)dst = false;
		else {
			yml_error(y, v, "%s must be true or false, not '%s'", label, s);
			return false;
		}
		return true;
	}
	case YML_DURATION:
		if (!yml_expect(y, v, YAML_SCALAR_NODE, label))
			return false;
		if (!yml_parse_duration(yml_scalar(v), (int *)dst)) {
			yml_error(y, v, "%s must be a duration such as 30s, 5m or 1h, not '%s'", label,
				  yml_scalar(v));
			return false;
		}
		return true;
	case YML_STRLIST:
		return yml_strlist(y, v, label, (struct strlist *)dst);
	case YML_CUSTOM:
		return f->decode(y, v, obj);
	}
	return false;
}

bool yml_map(struct yml *y, yaml_node_t *n, const char *what, const struct yml_field *f,
	     size_t nf, void *obj)
{
	if (!yml_expect(y, n, YAML_MAPPING_NODE, what))
		return false;
	bool ok = true;
	unsigned char seen[64] = {0};
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yml_get(y, p->key), *v = yml_get(y, p->value);
		const char *key = yml_scalar(k);
		size_t i = 0;
		while (key != NULL && i < nf && strcmp(f[i].key, key) != 0)
			i++;
		if (key == NULL || i == nf) {
			char known[512] = "";
			for (size_t j = 0; j < nf; j++)
				snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
					 j ? ", " : "", f[j].key);
			yml_error(y, k, "unknown key '%s' in %s; the known keys are: %s",
				  key ? key : "?", what, known);
			ok = false;
			continue;
		}
		if (i < sizeof seen && seen[i]++) {
			yml_error(y, k, "key '%s' appears twice in %s; keep one", key, what);
			ok = false;
			continue;
		}
		ok &= decode_field(y, &f[i], v, obj, what);
	}
	for (size_t i = 0; i < nf; i++)
		if (f[i].required && (i >= sizeof seen || !seen[i])) {
			yml_error(y, n, "%s lacks the required key '%s'; add it", what, f[i].key);
			ok = false;
		}
	return ok;
}
