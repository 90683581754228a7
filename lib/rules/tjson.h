/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tjson: a small, fast JSON parser for trace lines. One allocation per document holds an unescaped
 * copy of the text (strings are NUL-terminated slices of it) and a flat array of nodes linked by
 * index (child / next). Numbers: 64-bit integers (other numbers are kept as text, is_int false).
 * Strict: one value, nothing after it but white space; depth limited.
 */
#ifndef VIGIL_LIB_RULES_TJSON_H
#define VIGIL_LIB_RULES_TJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tj_type { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ };

struct tj_node {
	uint8_t type;
	bool is_int;	 /* TJ_NUM fits int64 */
	const char *key; /* member name inside an object, else NULL */
	const char *s;	 /* TJ_STR text (NUL-terminated), TJ_NUM text */
	uint32_t len;
	int64_t i;     /* TJ_NUM value, TJ_BOOL 0/1 */
	int32_t child; /* first element/member, -1 when none */
	int32_t next;  /* next sibling, -1 when last */
};

struct tj_doc {
	struct tj_node *n; /* n[0] is the root */
	size_t count;
	void *mem;
};

/* Parses text[0..len) into doc (new memory; release with tj_free). 0 or -EINVAL (err gets a
 * message) or -ENOMEM. */
int tj_parse(const char *text, size_t len, struct tj_doc *doc, char *err, size_t errlen);

void tj_free(struct tj_doc *doc);

/* Member key of object node obj, or NULL. */
const struct tj_node *tj_get(const struct tj_doc *doc, const struct tj_node *obj, const char *key);

#endif
