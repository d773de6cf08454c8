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
	CLI_BUSY = 3,  /* the audit file is held by another console */
};

void cli_print_version(FILE *out);
int cli_version(int argc, char **argv);
int cli_lint(int argc, char **argv);
int cli_plan(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_resume(int argc, char **argv);
int cli_notes(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_zk(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_ck(int argc, char **argv);
/* Print one command's usage line to stderr. */
void cli_usage_of(const char *name);

struct engine;
struct audit_event;
struct inventory;
struct diag_list;
/* Load an inventory for a command; NULL after printing what is wrong. */
struct inventory *cli_load_inventory(const char *file, struct diag_list *d);
/* Line mode over the engine: returns the exit status. */
int plain_drive(struct engine *e, const char *me, const char *audit);
void plain_on_event(void *ud, const struct audit_event *ev);

#endif
