/*
 * yml: typed decoding of a YAML file loaded by libyaml's document API.
 *
 * A mapping is decoded against a table of fields (key, type, offset into the
 * C struct). Unknown keys, wrong types, duplicate keys and missing required
 * keys become positioned diagnostics; decoding goes on so every problem is
 * reported in one pass. All memory comes from the caller's arena.
 */
#ifndef CUTOVER_YML_H
#define CUTOVER_YML_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

#include "cutover/arena.h"
#include "cutover/diag.h"

struct yml_pos {
	int line, col; /* 1-based; 0 = not present in the file */
};

struct yml {
	const char *file;
	yaml_document_t doc;
	bool loaded;
	struct arena *arena;
	struct diag_list *diags;
};

struct strlist {
	const char **v;
	struct yml_pos *pos;
	size_t n;
};

enum yml_type {
	YML_STR,      /* char * */
	YML_INT,      /* int, within [min, max] */
	YML_BOOL,     /* bool */
	YML_DURATION, /* int milliseconds: "500ms", "30s", "5m", "1h" */
	YML_STRLIST,  /* struct strlist: a sequence of scalars, or one scalar */
	YML_CUSTOM,   /* decode(y, node, obj) */
};

struct yml_field {
	const char *key;
	enum yml_type type;
	size_t off;
	ptrdiff_t pos_off; /* where to store the value's position, or -1 */
	int min, max;
	bool required;
	bool (*decode)(struct yml *y, yaml_node_t *n, void *obj);
};

#define YF(k, ty, T, m) {k, ty, offsetof(T, m), -1, 0, 0, false, NULL}
#define YF_P(k, ty, T, m, p) {k, ty, offsetof(T, m), (ptrdiff_t)offsetof(T, p), 0, 0, false, NULL}
#define YF_REQ(k, ty, T, m, p) {k, ty, offsetof(T, m), (ptrdiff_t)offsetof(T, p), 0, 0, true, NULL}
#define YF_INT(k, T, m, p, lo, hi) {k, YML_INT, offsetof(T, m), (ptrdiff_t)offsetof(T, p), lo, hi, false, NULL}
#define YF_FN(k, fn, req) {k, YML_CUSTOM, 0, -1, 0, 0, req, fn}

/* Parse buf; a syntax error becomes a diagnostic and returns false. */
bool yml_parse(struct yml *y, const char *file, const unsigned char *buf, size_t len,
	       struct arena *a, struct diag_list *d);
void yml_done(struct yml *y);
yaml_node_t *yml_root(struct yml *y);
yaml_node_t *yml_get(struct yml *y, int id);

struct yml_pos yml_pos_of(const yaml_node_t *n);
void yml_error(struct yml *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void yml_warn(struct yml *y, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Decode mapping n into obj by the table; `what` names it in messages. */
bool yml_map(struct yml *y, yaml_node_t *n, const char *what, const struct yml_field *f,
	     size_t nf, void *obj);
bool yml_expect(struct yml *y, yaml_node_t *n, yaml_node_type_t type, const char *what);
const char *yml_scalar(const yaml_node_t *n);
size_t yml_seq_len(const yaml_node_t *n);
yaml_node_t *yml_seq_at(struct yml *y, yaml_node_t *n, size_t i);
bool yml_str(struct yml *y, yaml_node_t *n, const char *what, const char **out);
bool yml_int(struct yml *y, yaml_node_t *n, const char *what, int lo, int hi, int *out);
bool yml_strlist(struct yml *y, yaml_node_t *n, const char *what, struct strlist *out);
/* "30s" -> 30000; false on anything else. */
bool yml_parse_duration(const char *s, int *ms);

#endif
