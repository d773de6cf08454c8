/*
 * `cutover lint` and `cutover plan`: both load a runbook and an inventory,
 * and neither connects anywhere. plan refuses to print a runbook that does
 * not lint, so what the operators read is always what would run.
 */
#include "cli.h"
#include "cutover/lint.h"
#include "cutover/plan.h"

#include <getopt.h>
#include <stdbool.h>
#include <string.h>

struct docs {
	struct diag_list d;
	struct inventory *inv;
	struct runbook *rb;
};

static int load(struct docs *x, const char *rbfile, const char *invfile)
{
	memset(x, 0, sizeof *x);
	x->inv = inv_load_file(invfile, &x->d);
	x->rb = rb_load_file(rbfile, &x->d);
	if (x->inv == NULL || x->rb == NULL)
		return CLI_FAIL;
	if (x->d.errors == 0) {
		inv_check(x->inv, &x->d);
		rb_lint(x->rb, x->inv, &x->d, 0);
	}
	return CLI_OK;
}

static void unload(struct docs *x)
{
	rb_free(x->rb);
	inv_free(x->inv);
	diag_free(&x->d);
}

static int parse(int argc, char **argv, const char *usage, const char **inv, bool *strict, bool *json)
{
	static const struct option opts[] = {
		{"inventory", required_argument, NULL, 'i'},
		{"strict", no_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': *inv = optarg; break;
		case 's': *strict = true; break;
		case 'f':
			if (json == NULL || (strcmp(optarg, "json") && strcmp(optarg, "text"))) {
				fprintf(stderr, "cutover: --format takes text or json\n");
				return -1;
			}
			*json = strcmp(optarg, "json") == 0;
			break;
		case 'h': printf("usage: %s\n", usage); return -2;
		default: fprintf(stderr, "usage: %s\n", usage); return -1;
		}
	}
	if (optind != argc - 1 || *inv == NULL) {
		fprintf(stderr, "usage: %s\n", usage);
		return -1;
	}
	return optind;
}

int cli_lint(int argc, char **argv)
{
	const char *inv = NULL;
	bool strict = false;
	int i = parse(argc, argv, "cutover lint RUNBOOK -i INVENTORY [--strict]", &inv, &strict, NULL);
	if (i < 0)
		return i == -2 ? CLI_OK : CLI_USAGE;
	struct docs x;
	load(&x, argv[i], inv);
	diag_print(&x.d, stdout);
	bool bad = x.d.errors > 0 || x.inv == NULL || x.rb == NULL || (strict && x.d.warnings > 0);
	printf("%s: %zu error%s, %zu warning%s\n", argv[i], x.d.errors, x.d.errors == 1 ? "" : "s",
	       x.d.warnings, x.d.warnings == 1 ? "" : "s");
	unload(&x);
	return bad ? CLI_FAIL : CLI_OK;
}

int cli_plan(int argc, char **argv)
{
	const char *inv = NULL;
	bool strict = false, json = false;
	int i = parse(argc, argv, "cutover plan RUNBOOK -i INVENTORY [--format text|json]", &inv, &strict, &json);
	if (i < 0)
		return i == -2 ? CLI_OK : CLI_USAGE;
	struct docs x;
	load(&x, argv[i], inv);
	if (x.d.errors > 0 || x.inv == NULL || x.rb == NULL) {
		diag_print(&x.d, stderr);
		fprintf(stderr, "cutover: %s does not lint clean; fix the errors above first\n", argv[i]);
		unload(&x);
		return CLI_FAIL;
	}
	struct plan *p = plan_build(x.rb, x.inv);
	int rc = CLI_FAIL;
	if (p != NULL) {
		if (json)
			rc = plan_print_json(p, stdout) == CUT_OK ? CLI_OK : CLI_FAIL;
		else {
			plan_print_text(p, stdout);
			rc = CLI_OK;
		}
	}
	plan_free(p);
	unload(&x);
	return rc;
}
