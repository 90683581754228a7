/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cond_parse: Falco condition text -> syntax tree (nodes in an arena). Precedence: not binds
 * tightest, then and, then or; parentheses group. Names are not resolved here: a bare identifier is
 * a macro reference, a dotted one (with an optional [arg]) a field; lists are resolved by compile.
 */
#ifndef VIGIL_LIB_RULES_COND_PARSE_H
#define VIGIL_LIB_RULES_COND_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/rules/arena.h"
#include "lib/rules/cond_lex.h"

enum rules_cnode_kind {
	RULES_CN_AND,
	RULES_CN_OR,
	RULES_CN_NOT,
	RULES_CN_CMP,
	RULES_CN_REF,
};

struct rules_cvalue {
	const char *s;
	bool quoted;
	int pos;
};

struct rules_cnode {
	enum rules_cnode_kind kind;
	int pos; /* byte offset in the condition text */
	/* AND / OR (n-ary), NOT (one kid) */
	struct rules_cnode **kids;
	size_t nkids;
	/* CMP */
	const char *field; /* as written, e.g. "proc.aname[2]" */
	enum rules_op op;
	struct rules_cvalue *vals;
	size_t nvals;
	bool list; /* right side was a parenthesised list (or a bare name for a list operator) */
	/* REF */
	const char *name;
};

/* Parses text[0..len) into *out (arena-owned). On a syntax error returns -EINVAL with *errpos the
 * byte offset and errbuf a message; -ENOMEM on allocation failure. */
int rules_cond_parse(struct rules_arena *a, const char *text, size_t len, struct rules_cnode **out,
		     int *errpos, char *errbuf, size_t errlen);

/* New nodes for building trees by hand (exceptions); NULL on ENOMEM. */
struct rules_cnode *rules_cnode_new(struct rules_arena *a, enum rules_cnode_kind kind, int pos);
int rules_cnode_add_kid(struct rules_arena *a, struct rules_cnode *n, struct rules_cnode *kid);

#endif
