/* SPDX-License-Identifier: Apache-2.0 */
/* fields: the catalogue built from fieldlist.h. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/fields.h"

static const struct rules_fieldinfo catalogue[RULES_F__COUNT] = {
#define RULES_X_FIELD_INFO(id, nm, ty, fl, ds)                                                     \
	[RULES_F_##id] = {.name = nm, .type = RULES_FT_##ty, .flags = RULES_FF_##fl, .desc = ds},
    RULES_FIELD_LIST(RULES_X_FIELD_INFO)
#undef RULES_X_FIELD_INFO
};

const struct rules_fieldinfo *rules_field_info(unsigned id)
{
	return id < RULES_F__COUNT ? &catalogue[id] : NULL;
}

static int lookup(const char *name, size_t len)
{
	for (unsigned i = 0; i < RULES_F__COUNT; i++)
		if (strlen(catalogue[i].name) == len && memcmp(catalogue[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static void set_arg(struct rules_fref *out, struct rules_arena *a, const char *arg, size_t len)
{
	bool num = len > 0;

	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)arg[i]))
			num = false;
	out->has_arg = true;
	if (num && len < 9) {
		out->idx = atoi(arg);
	} else {
		out->key = rules_arena_strndup(a, arg, len);
		out->keylen = (unsigned)len;
	}
}

int rules_field_resolve(const char *text, struct rules_arena *a, struct rules_fref *out,
			const char **why)
{
	const char *br = strchr(text, '[');
	size_t nlen = br ? (size_t)(br - text) : strlen(text);
	const char *arg = NULL;
	size_t alen = 0;
	int id;

	memset(out, 0, sizeof(*out));
	out->idx = -1;
	*why = NULL;
	if (br) {
		const char *close = strchr(br, ']');

		if (!close || close[1] != '\0') {
			*why = "malformed field argument";
			return -EINVAL;
		}
		arg = br + 1;
		alen = (size_t)(close - arg);
	}
	id = lookup(text, nlen);
	if (id < 0) {
		static const char *const prefixes[] = {"evt.arg.", "evt.rawarg."};

		for (size_t i = 0; i < 2; i++) {
			size_t pl = strlen(prefixes[i]);

			if (!br && nlen > pl && strncmp(text, prefixes[i], pl) == 0) {
				out->id = RULES_F_EVT_ARG;
				set_arg(out, a, text + pl, nlen - pl);
				return out->key || out->idx >= 0 ? 0 : -ENOMEM;
			}
		}
		if (nlen == strlen("evt.rawarg") && strncmp(text, "evt.rawarg", nlen) == 0)
			id = RULES_F_EVT_ARG;
	}
	if (id < 0) {
		*why = "unknown field";
		return -ENOENT;
	}
	out->id = id;
	if (br) {
		if (catalogue[id].flags == RULES_FF_NONE) {
			*why = "field takes no argument";
			return -EINVAL;
		}
		if (alen == 0) {
			if (catalogue[id].flags & RULES_FF_ARG_REQ) {
				*why = "field requires an argument";
				return -EINVAL;
			}
			return 0;
		}
		set_arg(out, a, arg, alen);
		return 0;
	}
	if (catalogue[id].flags & RULES_FF_ARG_REQ) {
		*why = "field requires an argument";
		return -EINVAL;
	}
	return 0;
}
