/*
 * libFuzzer target for the inventory and runbook loaders and the linter:
 * arbitrary bytes must give diagnostics, never a crash, leak or UB.
 * The first byte picks the loader so one corpus exercises both.
 */
#include <stddef.h>
#include <stdint.h>

#include "cutover/lint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char lab_inv[] =
	"operators: [alice, bob]\n"
	"ensembles:\n"
	"  old: {nodes: [{myid: 1, host: 127.0.1.1}, {myid: 2, host: 127.0.1.2}, {myid: 3, host: 127.0.1.3}]}\n"
	"  new: {nodes: [{myid: 1, host: 127.0.2.1}, {myid: 2, host: 127.0.2.2}, {myid: 3, host: 127.0.2.3}]}\n"
	"clickhouse: {ensemble: old, nodes: [{name: ck1, host: 127.0.3.1}]}\n"
	"tasks: {list: [{id: '2948', status: s, start: s, stop: s}]}\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct diag_list d = {0};
	const char *text = (const char *)data + 1;
	if (data[0] & 1) {
		struct inventory *inv = inv_load("fuzz.yaml", text, size - 1, &d);
		if (inv != NULL && d.errors == 0)
			inv_check(inv, &d);
		inv_free(inv);
	} else {
		struct inventory *inv = inv_load("lab.yaml", lab_inv, sizeof lab_inv - 1, &d);
		struct runbook *rb = rb_load("fuzz.yaml", text, size - 1, &d);
		if (inv != NULL && rb != NULL && d.errors == 0) {
			rb->rollback = NULL; /* the fuzzer must not read files */
			rb_lint(rb, inv, &d, 1);
		}
		rb_free(rb);
		inv_free(inv);
	}
	diag_free(&d);
	return 0;
}
