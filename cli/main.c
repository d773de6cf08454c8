/*
 * main: parses the command line, dispatches to one command, and is the only
 * place that exits. Commands live one per file in cli/; the core in src/
 * never prints to the terminal on its own.
 */
#include "cli.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static int cmd_help(int argc, char **argv);

static const struct cli_cmd commands[] = {
	{"help", "[COMMAND]", "show this help, or one command's", cmd_help},
	{"version", "", "print the version and the libraries it was built with", cli_version},
	{"lint", "RUNBOOK -i INVENTORY [--strict]", "check a runbook and its inventory; exit 1 on errors", cli_lint},
	{"plan", "RUNBOOK -i INVENTORY [--format json]", "print every step's targets and exact operations, connecting nowhere", cli_plan},
	{"run", "RUNBOOK -i INVENTORY --audit FILE [--plain] [--operator NAME]... [--take-over]",
	 "run the runbook, each step after confirmation, recording everything in FILE; on a terminal in the "
	 "full-screen console (? lists its keys), else or with --plain line by line", cli_run},
	{"resume", "--audit FILE [--plain] [--operator NAME]... [--take-over] [--allow-changed]",
	 "continue the unfinished run in FILE after a crash or a quit", cli_resume},
	{"notes", "--audit FILE --operator NAME TEXT...", "add a note to the run in FILE, even while a console runs it", cli_notes},
	{"status", "-i INVENTORY [--format text|json] [--watch[=SECONDS]] [--timeout MS]",
	 "probe every ZooKeeper node: role, zxid, znodes, connections, latency, synced followers", cli_status},
	{"ck", "show -i INVENTORY", "show which ensemble each ClickHouse node's metrika.xml points at", cli_ck},
	{"zk", "inspect FILE... | select SNAPDIR [LOGDIR] [--for-3.4]",
	 "check ZooKeeper snapshots and logs; pick the files that restore the newest state", cli_zk},
	{"audit", "verify --audit FILE [--head SEQ:HASH]",
	 "check FILE's hash chain; report the first edited or missing event, and with the head noted at "
	 "the end of a run, events cut off the end", cli_audit},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct cli_cmd *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void cli_usage_of(const char *name)
{
	const struct cli_cmd *c = find(name);
	if (c)
		fprintf(stderr, "usage: cutover %s %s\n  %s\n", c->name, c->args, c->summary);
}

static void usage(FILE *out)
{
	fputs("usage: cutover COMMAND [ARGS...]\n"
	      "       cutover --help | --version\n"
	      "\n"
	      "cutover runs a migration runbook step by step, each step only after an\n"
	      "operator confirms it, and writes every confirmation, command, output and\n"
	      "state change to a SQLite audit trail. Its first runbook moves ClickHouse's\n"
	      "ZooKeeper from one ensemble to another and back.\n"
	      "\n"
	      "commands:\n",
	      out);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char head[96];
		snprintf(head, sizeof head, "%s %s", commands[i].name, commands[i].args);
		fprintf(out, "  %-40s %s\n", head, commands[i].summary);
	}
	fputs("\n"
	      "exit status: 0 success, 1 failure or problems found, 2 usage error,\n"
	      "             3 the audit file is in use by another console.\n"
	      "environment: NO_COLOR disables colour in the console.\n"
	      "more: man cutover (docs/cutover.1 in the source tree).\n",
	      out);
}

static int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct cli_cmd *c = find(argv[1]);
		if (c == NULL) {
			fprintf(stderr, "cutover: no command '%s'; 'cutover --help' lists them\n", argv[1]);
			return CLI_USAGE;
		}
		printf("usage: cutover %s %s\n  %s\n", c->name, c->args, c->summary);
		return CLI_OK;
	}
	usage(stdout);
	return CLI_OK;
}

int main(int argc, char **argv)
{
	/* A command that exits while we still write its stdin must give us
	 * EPIPE, not kill the run. */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* not thread-safe: once, before any probe thread */
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
		name = "help";
	else if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		name = "version";
	const struct cli_cmd *c = find(name);
	if (c == NULL) {
		fprintf(stderr, "cutover: unknown command '%s'; 'cutover --help' lists the commands\n", argv[1]);
		return CLI_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
