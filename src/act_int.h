/*
 * act_int.h: what every action file needs beside include/cutover/action.h --
 * the plan-description helpers and running an inventory command template.
 * Each action defines its `const struct action_ops act_<verb>` in its own
 * file; src/actions.def lists them for the table in action.c.
 */
#ifndef CUTOVER_ACT_INT_H
#define CUTOVER_ACT_INT_H

#include "cutover/action.h"

/* A template as the plan shows it to the operators: secrets masked, values quoted in commands. */
const char *act_show(struct plan_lines *l, const char *tmpl, const struct subst_scope *sc, int mode);
/* In a describe(out, s, sc): a command, a path, as act_show gives them. */
#define ACT_CMD(t) act_show(out, (t), sc, SUBST_SHELL)
#define ACT_PATH(t) act_show(out, (t), sc, SUBST_PATH)
/* A param's text as the runbook wrote it, or dfl (for plan text; act_param expands it). */
const char *act_param_text(const struct rb_step *s, const char *key, const char *dfl);

/* Params lists for action_ops.params / .required. */
#define ACT_PARAMS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define ACT_NONE ((const char *const[]){NULL})

/* Run an inventory command template (${...} quoted) on the target; non-zero exit fails. */
int act_run_template(struct act_run *r, const char *tmpl, struct cut_err *err);

#endif
