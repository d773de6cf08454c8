/*
 * lint: everything that can be known about a runbook and its inventory
 * without connecting anywhere. Every message names file:line:column and says
 * in one sentence what is wrong and how to fix it.
 */
#ifndef CUTOVER_LINT_H
#define CUTOVER_LINT_H

#include "cutover/diag.h"
#include "cutover/inventory.h"
#include "cutover/runbook.h"

/* Check rb against inv; follows the rollback runbook once (depth 0 -> 1). */
void rb_lint(const struct runbook *rb, const struct inventory *inv, struct diag_list *d, int depth);

#endif
