/*
 * notes and audit: touching an audit file without running anything. A note
 * may be added while a console holds the run (SQLite serialises the writers
 * and the chain is extended inside the write transaction).
 */
#include "cli.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/audit.h"
#include "cutover/inventory.h"

static bool on_duty(const char *inv_path, const char *name)
{
	struct diag_list d = {0};
	struct inventory *inv = inv_load_file(inv_path, &d);
	bool ok = false;
	for (size_t i = 0; inv && i < inv->operators.n; i++)
		ok |= strcmp(inv->operators.v[i], name) == 0;
	inv_free(inv);
	diag_free(&d);
	return ok;
}

static int note(const char *path, const char *op, const char *text)
{
	struct audit *a;
	struct audit_run r;
	struct cut_err err = {0};
	if (audit_open(path, false, &a, &err) != CUT_OK)
		return fprintf(stderr, "cutover: %s\n", err.msg), CLI_FAIL;
	int rc = audit_run_latest(a, false, &r, &err);
	if (rc == CUT_OK && !on_duty(r.inventory, op))
		rc = cut_fail(&err, CUT_EINVAL, "'%s' is not an operator on duty in %s", op, r.inventory);
	if (rc == CUT_OK) {
		char *payload = NULL;
		json_t *p = json_pack("{s:s}", "text", text);
		payload = json_dumps(p, JSON_COMPACT);
		json_decref(p);
		struct audit_event ev = {.run = r.id, .operator = op, .kind = "note", .payload = payload};
		rc = audit_append(a, &ev, 1, &err);
		if (rc == CUT_OK)
			printf("note %lld added to run %lld by %s\n", (long long)ev.seq, (long long)r.id, op);
		free(payload);
	}
	if (rc != CUT_OK)
		fprintf(stderr, "cutover: %s\n", err.msg);
	audit_run_clear(&r);
	audit_close(a);
	return rc == CUT_OK ? CLI_OK : CLI_FAIL;
}

int cli_notes(int argc, char **argv)
{
	static const struct option opts[] = {
		{"audit", required_argument, NULL, 'a'}, {"operator", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0},
	};
	const char *audit = NULL, *op = getenv("CUTOVER_OPERATOR");
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:o:h", opts, NULL)) != -1) {
		if (c == 'a')
			audit = optarg;
		else if (c == 'o')
			op = optarg;
		else
			return cli_usage_of("notes"), c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (audit == NULL || op == NULL || optind >= argc)
		return cli_usage_of("notes"), CLI_USAGE;
	size_t len = 1;
	for (int i = optind; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *text = calloc(1, len);
	if (text == NULL)
		return CLI_FAIL;
	for (int i = optind; i < argc; i++)
		strcat(strcat(text, i > optind ? " " : ""), argv[i]);
	int rc = note(audit, op, text);
	free(text);
	return rc;
}

int cli_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{"audit", required_argument, NULL, 'a'}, {"head", required_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0},
	};
	const char *path = NULL, *noted = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "a:h", opts, NULL)) != -1) {
		if (c == 'a')
			path = optarg;
		else if (c == 'H')
			noted = optarg;
		else
			return cli_usage_of("audit"), c == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (optind >= argc || strcmp(argv[optind], "verify") != 0 || path == NULL)
		return cli_usage_of("audit"), CLI_USAGE;
	struct audit *a;
	struct audit_report rep;
	struct cut_err err = {0};
	int rc = audit_open_readonly(path, &a, &err);
	if (rc == CUT_OK)
		rc = audit_verify(a, &rep, &err);
	if (rc == CUT_OK && noted)
		rc = audit_verify_head(a, noted, &rep, &err);
	audit_close(a);
	if (rc != CUT_OK) {
		fprintf(stderr, "cutover: %s\n", err.msg);
		return rc == CUT_EUSAGE ? CLI_USAGE : CLI_FAIL;
	}
	if (rep.bad_seq) {
		printf("audit %s: BROKEN at event %lld: %s (%lld events before it verified)\n", path,
		       (long long)rep.bad_seq, rep.reason, (long long)rep.events);
		return CLI_FAIL;
	}
	printf("audit %s: %lld events in %lld run(s), hash chain intact%s; head %s\n", path, (long long)rep.events,
	       (long long)rep.runs, noted ? ", the noted head in it" : "", rep.head);
	return CLI_OK;
}
