/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: one trace line (JSON) into an event, then written back and read again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *out = NULL;
	struct rules_event *ev = malloc(sizeof(*ev)), *back = malloc(sizeof(*back));
	void *storage = NULL, *storage2 = NULL;
	size_t outlen = 0;
	char err[128];

	if (!line || !ev || !back)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	if (rules_trace_parse_line(line, ev, &storage, err, sizeof(err)) == 0) {
		FILE *f = open_memstream(&out, &outlen);

		if (!f)
			abort();
		rules_trace_write(f, ev);
		fclose(f);
		/* what the writer emits must read back */
		if (rules_trace_parse_line(out, back, &storage2, err, sizeof(err)))
			abort();
		if (back->type != ev->type || back->ts_ns != ev->ts_ns)
			abort();
		free(storage2);
		free(out);
	}
	free(storage);
	free(line);
	free(ev);
	free(back);
	return 0;
}
