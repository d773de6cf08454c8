/*
 * cli: the command line. main() looks a command up in one table; each entry
 * names its handler and a one-line summary, which `cutover --help` prints.
 * Handlers return the process exit status; only main() exits.
 */
#ifndef CUTOVER_CLI_H
#define CUTOVER_CLI_H

#include <stdio.h>

struct cli_cmd {
	const char *name;
	const char *args;
	const char *summary;
	int (*run)(int argc, char **argv);
};

/* Exit statuses shared by every command (documented in cutover(1)). */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* the command ran and found problems, or failed */
	CLI_USAGE = 2, /* the command line itself is wrong */
};

void cli_print_version(FILE *out);
int cli_version(int argc, char **argv);
int cli_lint(int argc, char **argv);
int cli_plan(int argc, char **argv);

#endif
