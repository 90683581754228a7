/* SPDX-License-Identifier: Apache-2.0 */
/*
 * diag: the diagnostics list filled while loading (public accessors are in rules.h).
 */
#ifndef VIGIL_LIB_RULES_DIAG_H
#define VIGIL_LIB_RULES_DIAG_H

#include "lib/rules/rules.h"

/* New empty list (caller frees with rules_diags_free) or NULL. */
struct rules_diags *rules_diags_new(void);

/* Appends one diagnostic; every string is copied (NULL allowed). Returns 0 or -ENOMEM. */
int rules_diags_add(struct rules_diags *d, const char *file, int line, int col,
		    enum rules_severity sev, const char *kind, const char *name, const char *fmt,
		    ...) __attribute__((format(printf, 8, 9)));

/* Sorts stably by file (in the order of names[0..n), others last), then line, then column. */
void rules_diags_sort(struct rules_diags *d, const char *const *names, size_t n);

#endif
