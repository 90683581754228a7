/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the condition parser on raw text, then the same text compiled as the
 * condition of a rule (block scalar) next to a macro and a list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/arena.h"
#include "lib/rules/cond_parse.h"
#include "lib/rules/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] =
	    "- list: l\n  items: [a, b]\n- macro: m\n  condition: proc.name in (l)\n"
	    "- rule: r\n  desc: d\n  output: o %proc.name\n  priority: INFO\n"
	    "  condition: |\n    ";
	struct rules_arena *a = rules_arena_new();
	struct rules_cnode *n = NULL;
	struct rules_input in;
	struct rules_set *rs = NULL;
	char msg[128], *yaml, *o;
	int pos;

	if (!a)
		return 0;
	rules_cond_parse(a, (const char *)data, size, &n, &pos, msg, sizeof(msg));
	rules_arena_free(a);

	/* as a rule condition: every line indented under the block scalar */
	yaml = malloc(sizeof(head) + size * 5 + 2);
	if (!yaml)
		return 0;
	memcpy(yaml, head, sizeof(head) - 1);
	o = yaml + sizeof(head) - 1;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0')
			break;
		*o++ = (char)data[i];
		if (data[i] == '\n') {
			memcpy(o, "    ", 4);
			o += 4;
		}
	}
	*o++ = '\n';
	*o = '\0';
	in.name = "fuzz.yaml";
	in.text = yaml;
	in.len = (size_t)(o - yaml);
	rules_load_buffers(&in, 1, &rs, NULL);
	rules_set_free(rs);
	free(yaml);
	return 0;
}
