/*
 * run, resume, notes, audit: the commands around the engine. `run` and
 * `resume` open the console -- until it lands, plain mode -- and `--plain`
 * asks for line mode outright.
 */
#include "cli.h"
#include "cutover/ui.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/engine.h"

#define MAX_OPS 8

struct run_args {
	const char *runbook, *inventory, *audit;
	const char *ops[MAX_OPS];
	size_t nops;
	bool plain, take_over, allow_changed;
};

static int parse(int argc, char **argv, struct run_args *a, bool want_runbook)
{
	static const struct option opts[] = {
		{"inventory", required_argument, NULL, 'i'}, {"audit", required_argument, NULL, 'a'},
		{"operator", required_argument, NULL, 'o'}, {"plain", no_argument, NULL, 'p'},
		{"take-over", no_argument, NULL, 'T'}, {"allow-changed", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'}, {0, 0, 0, 0},
	};
	memset(a, 0, sizeof *a);
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "i:a:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i': a->inventory = optarg; break;
		case 'a': a->audit = optarg; break;
		case 'o':
			if (a->nops == MAX_OPS)
				return fprintf(stderr, "cutover: at most %d operators\n", MAX_OPS), CLI_USAGE;
			a->ops[a->nops++] = optarg;
			break;
		case 'p': a->plain = true; break;
		case 'T': a->take_over = true; break;
		case 'C': a->allow_changed = true; break;
		case 'h': return -1;
		default: return CLI_USAGE;
		}
	}
	if (want_runbook && optind < argc)
		a->runbook = argv[optind++];
	if (optind < argc)
		return fprintf(stderr, "cutover: unexpected argument '%s'\n", argv[optind]), CLI_USAGE;
	if (want_runbook && (a->runbook == NULL || a->inventory == NULL))
		return fprintf(stderr, "cutover: give the runbook and its inventory: cutover run RUNBOOK -i INVENTORY --audit FILE\n"), CLI_USAGE;
	if (a->audit == NULL)
		return fprintf(stderr, "cutover: name the audit file with --audit FILE (every step is recorded there)\n"), CLI_USAGE;
	if (a->nops == 0 && getenv("CUTOVER_OPERATOR"))
		a->ops[a->nops++] = getenv("CUTOVER_OPERATOR");
	if (a->nops == 0)
		return fprintf(stderr, "cutover: say who is at the keyboard with --operator NAME (or CUTOVER_OPERATOR)\n"), CLI_USAGE;
	return CLI_OK;
}

/* Open (start or resume) under the lock; a stale lock is taken over only on a yes. */
static int open_engine(struct run_args *a, bool resume, struct ui_queue *q, struct engine **e)
{
	struct engine_opts o = {.runbook = a->runbook, .inventory = a->inventory, .audit = a->audit,
				.operators = a->ops, .noperators = a->nops, .take_over = a->take_over,
				.refuse_alone = getenv("CUTOVER_REFUSE_ALONE") != NULL,
				.allow_changed = a->allow_changed, .on_event = q ? ui_on_event : plain_on_event, .ud = q};
	for (int tries = 0; tries < 2; tries++) {
		struct audit_lock_holder holder = {0};
		struct cut_err err = {0};
		int rc = resume ? engine_resume(&o, e, &holder, &err) : engine_start(&o, e, &holder, &err);
		if (rc == CUT_OK)
			return CLI_OK;
		fprintf(stderr, "cutover: %s\n", err.msg);
		bool stale = rc == CUT_EREFUSED && holder.pid != 0 && !o.take_over;
		if (!(stale && isatty(STDIN_FILENO)))
			return rc == CUT_EUSAGE ? CLI_USAGE : rc == CUT_EBUSY || stale ? CLI_BUSY : CLI_FAIL;
		fputs("take over the stale lock [yes/no]: ", stdout);
		fflush(stdout);
		char line[32] = "";
		if (fgets(line, sizeof line, stdin) == NULL || strcmp(line, "yes\n") != 0)
			return CLI_BUSY;
		o.take_over = true;
	}
	return CLI_FAIL;
}

/* Cutting events off the end of the file, its recorded head with them,
 * leaves a chain that verifies: a head noted outside the file shows it. */
static void say_head(struct engine *e, const char *audit)
{
	char head[AUDIT_HEAD_LEN];
	engine_audit_head(e, head);
	printf("audit head %s: note it with the change record; 'cutover audit verify --audit %s --head %s' "
	       "shows later that nothing was cut off the end\n", head, audit, head);
}

static int drive(struct run_args *a, bool resume)
{
	struct engine *e;
	bool tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	if (!a->plain && !tty)
		fprintf(stderr, "cutover: not a terminal; running in plain mode (--plain says so explicitly)\n");
	struct ui_queue *q = !a->plain && tty ? ui_queue_new() : NULL;
	int rc = open_engine(a, resume, q, &e);
	if (rc != CLI_OK) {
		ui_queue_free(q);
		return rc;
	}
	if (q) {
		struct ui_opts uo = {.operators = a->ops, .noperators = a->nops};
		struct cut_err err = {0};
		rc = ui_run(e, q, &uo, &err) == CUT_OK ? CLI_OK : CLI_FAIL;
		say_head(e, a->audit);
		engine_free(e);
		ui_queue_free(q);
		if (rc != CLI_OK)
			fprintf(stderr, "cutover: the console failed: %s\n", err.msg);
		else
			printf("cutover: left the console; the run is in %s (cutover resume --audit %s continues it)\n",
			       a->audit, a->audit);
		return rc;
	}
	rc = plain_drive(e, a->ops[0], a->audit);
	say_head(e, a->audit);
	engine_free(e);
	return rc;
}

int cli_run(int argc, char **argv)
{
	struct run_args a;
	int rc = parse(argc, argv, &a, true);
	if (rc == -1)
		return cli_usage_of("run"), CLI_OK;
	return rc != CLI_OK ? rc : drive(&a, false);
}

int cli_resume(int argc, char **argv)
{
	struct run_args a;
	int rc = parse(argc, argv, &a, false);
	if (rc == -1)
		return cli_usage_of("resume"), CLI_OK;
	return rc != CLI_OK ? rc : drive(&a, true);
}
