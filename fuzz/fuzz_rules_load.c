/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the rules loader (YAML, items, overrides, compiler), then one evaluation and
 * alert formatting with whatever loaded. `make fuzz` runs it for a bounded time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_input in = {.name = "fuzz.yaml", .text = (const char *)data, .len = size};
	struct rules_set *rs = NULL;
	struct rules_diags *d = NULL;
	struct rules_event *ev;
	size_t hits[8], n;

	rules_load_buffers(&in, 1, &rs, &d);
	for (size_t i = 0; i < rules_diags_count(d); i++)
		if (!rules_diags_get(d, i)->message)
			abort();
	if (rs) {
		ev = calloc(1, sizeof(*ev));
		if (!ev)
			abort();
		rules_event_reset(ev);
		ev->type = RULES_EVT_openat;
		rules_event_set_str(ev, RULES_F_PROC_NAME, "cat");
		rules_event_set_str(ev, RULES_F_FD_NAME, "/etc/shadow");
		rules_event_set_num(ev, RULES_F_PROC_PID, 1);
		rules_event_push_ancestor(ev, "bash", "bash", "/bin/bash", 2);
		rules_event_push_arg(ev, "flags", "O_RDONLY");
		rules_event_derive(ev);
		n = rules_set_eval(rs, ev, true, hits, 8);
		for (size_t i = 0; i < n; i++) {
			char *line = NULL;

			rules_set_format_alert(rs, hits[i], ev, "fuzz", &line);
			free(line);
		}
		free(ev);
	}
	rules_set_free(rs);
	rules_diags_free(d);
	return 0;
}
