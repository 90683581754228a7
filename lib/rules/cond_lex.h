/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cond_lex: scanning primitives for Falco condition text (used by cond_parse). The lexer is driven
 * by the parser because what a value is depends on the operator before it (`evt.dir = <`).
 */
#ifndef VIGIL_LIB_RULES_COND_LEX_H
#define VIGIL_LIB_RULES_COND_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rules/arena.h"

enum rules_op {
	RULES_OP_EQ,
	RULES_OP_NE,
	RULES_OP_LT,
	RULES_OP_LE,
	RULES_OP_GT,
	RULES_OP_GE,
	RULES_OP_CONTAINS,
	RULES_OP_ICONTAINS,
	RULES_OP_BCONTAINS,
	RULES_OP_STARTSWITH,
	RULES_OP_BSTARTSWITH,
	RULES_OP_ENDSWITH,
	RULES_OP_GLOB,
	RULES_OP_IGLOB,
	RULES_OP_IN,
	RULES_OP_INTERSECTS,
	RULES_OP_PMATCH,
	RULES_OP_EXISTS,
	RULES_OP_REGEX,
	RULES_OP__COUNT
};

struct rules_clex {
	const char *s;
	size_t len;
	size_t pos;
};

/* Operator spelling ("contains"), static. */
const char *rules_op_name(enum rules_op op);

/* True for operators whose right side is a list. */
bool rules_op_takes_list(enum rules_op op);

/* Skips spaces, tabs, newlines. */
void rules_clex_skip_ws(struct rules_clex *lx);

/* True at end of text (after skipping spaces). */
bool rules_clex_eof(struct rules_clex *lx);

/* Consumes c when it is next (after spaces). */
bool rules_clex_accept(struct rules_clex *lx, char c);

/* Reads an identifier or field name at the cursor: [A-Za-z_][A-Za-z0-9_.]* plus an optional
 * "[arg]" suffix. Returns a new arena string or NULL when there is none (cursor unchanged). */
char *rules_clex_ident(struct rules_clex *lx, struct rules_arena *a);

/* True when the next word is kw as a whole word (consumes it). */
bool rules_clex_keyword(struct rules_clex *lx, const char *kw);

/* Reads an operator; returns 0 and sets *op, or -EINVAL (cursor unchanged). */
int rules_clex_op(struct rules_clex *lx, enum rules_op *op);

/* Reads a value: a quoted string ('..' or "..", backslash escapes the quote and itself) or a bare
 * run up to a space, ',', '(' or ')'. *quoted tells which. Returns a new arena string or NULL with
 * *err set (-EINVAL unterminated quote or no value, -ENOMEM). */
char *rules_clex_value(struct rules_clex *lx, struct rules_arena *a, bool *quoted, int *err);

#endif
