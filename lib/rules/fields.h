/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fields: the filter field catalogue (types, argument rules) and resolution of a field reference
 * as written in a condition or output ("proc.aname[2]", "evt.arg.flags", "evt.arg[0]").
 */
#ifndef VIGIL_LIB_RULES_FIELDS_H
#define VIGIL_LIB_RULES_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rules/arena.h"
#include "lib/rules/event.h"

enum rules_ftype { RULES_FT_STR, RULES_FT_NUM, RULES_FT_BOOL, RULES_FT_IP, RULES_FT_LIST };

#define RULES_FF_NONE 0u
#define RULES_FF_ARG_REQ 1u
#define RULES_FF_ARG_OPT 2u

struct rules_fieldinfo {
	const char *name;
	enum rules_ftype type;
	unsigned flags;
	const char *desc;
};

/* A resolved reference: field id plus its argument (index or key). */
struct rules_fref {
	int id;
	bool has_arg;
	int idx;	 /* numeric argument, or -1 */
	const char *key; /* text argument (arena-owned), or NULL */
	unsigned keylen;
};

/* Catalogue entry of field id (static) or NULL. */
const struct rules_fieldinfo *rules_field_info(unsigned id);

/* Resolves text into *out; key text is copied into a. Returns 0, -ENOENT for an unknown field, or
 * -EINVAL for a wrong argument (missing, not allowed); *why gets a static message. */
int rules_field_resolve(const char *text, struct rules_arena *a, struct rules_fref *out,
			const char **why);

#endif
