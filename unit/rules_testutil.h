/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the unit/test_rules_*.c programs (static, header-only). */
#ifndef VIGIL_UNIT_RULES_TESTUTIL_H
#define VIGIL_UNIT_RULES_TESTUTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/rules.h"

/* Loads one YAML text named "test.yaml"; returns the load result, *rs and *d set (caller frees). */
static inline int rt_load(const char *yaml, struct rules_set **rs, struct rules_diags **d)
{
	struct rules_input in = {.name = "test.yaml", .text = yaml, .len = strlen(yaml)};

	return rules_load_buffers(&in, 1, rs, d);
}

/* Index of the first diagnostic of severity sev whose message contains needle, or -1. */
static inline long rt_find(const struct rules_diags *d, enum rules_severity sev, const char *needle)
{
	for (size_t i = 0; i < rules_diags_count(d); i++) {
		const struct rules_diag *x = rules_diags_get(d, i);

		if (x->severity == sev && strstr(x->message, needle))
			return (long)i;
	}
	return -1;
}

/* Prints diagnostics (to see why a test failed). */
static inline void rt_dump(const struct rules_diags *d)
{
	rules_diags_print(d, stderr);
}

/* A one-rule file with the given condition (macros/lists can be prepended in pre). */
static inline char *rt_rule(const char *pre, const char *cond)
{
	char *s = NULL;

	if (asprintf(&s,
		     "%s\n- rule: r\n  desc: d\n  condition: %s\n  output: \"out %%proc.name\"\n"
		     "  priority: WARNING\n",
		     pre ? pre : "", cond) < 0)
		return NULL;
	return s;
}

/* Directory of the upstream rules, or NULL when absent (tests then skip). */
static inline const char *rt_upstream_dir(void)
{
	const char *env = getenv("VIGIL_UPSTREAM_RULES");
	static const char *const dflt[] = {"../shared/upstream-rules",
					   "../../shared/upstream-rules",
					   "/work/shared/upstream-rules"};
	char probe[512];

	if (env && *env) {
		FILE *f;

		snprintf(probe, sizeof(probe), "%s/falco_rules.yaml", env);
		f = fopen(probe, "r");
		if (!f)
			return NULL;
		fclose(f);
		return env;
	}
	for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]); i++) {
		FILE *f;

		snprintf(probe, sizeof(probe), "%s/falco_rules.yaml", dflt[i]);
		f = fopen(probe, "r");
		if (f) {
			fclose(f);
			return dflt[i];
		}
	}
	return NULL;
}

#endif
