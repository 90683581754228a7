/* SPDX-License-Identifier: Apache-2.0 */
/* cond_lex: scanning Falco condition text. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "lib/rules/cond_lex.h"

static const char *const op_names[RULES_OP__COUNT] = {
    [RULES_OP_EQ] = "=",
    [RULES_OP_NE] = "!=",
    [RULES_OP_LT] = "<",
    [RULES_OP_LE] = "<=",
    [RULES_OP_GT] = ">",
    [RULES_OP_GE] = ">=",
    [RULES_OP_CONTAINS] = "contains",
    [RULES_OP_ICONTAINS] = "icontains",
    [RULES_OP_BCONTAINS] = "bcontains",
    [RULES_OP_STARTSWITH] = "startswith",
    [RULES_OP_BSTARTSWITH] = "bstartswith",
    [RULES_OP_ENDSWITH] = "endswith",
    [RULES_OP_GLOB] = "glob",
    [RULES_OP_IGLOB] = "iglob",
    [RULES_OP_IN] = "in",
    [RULES_OP_INTERSECTS] = "intersects",
    [RULES_OP_PMATCH] = "pmatch",
    [RULES_OP_EXISTS] = "exists",
    [RULES_OP_REGEX] = "regex",
};

const char *rules_op_name(enum rules_op op)
{
	return (unsigned)op < RULES_OP__COUNT ? op_names[op] : "?";
}

bool rules_op_takes_list(enum rules_op op)
{
	return op == RULES_OP_IN || op == RULES_OP_INTERSECTS || op == RULES_OP_PMATCH;
}

void rules_clex_skip_ws(struct rules_clex *lx)
{
	while (lx->pos < lx->len && isspace((unsigned char)lx->s[lx->pos]))
		lx->pos++;
}

bool rules_clex_eof(struct rules_clex *lx)
{
	rules_clex_skip_ws(lx);
	return lx->pos >= lx->len;
}

bool rules_clex_accept(struct rules_clex *lx, char c)
{
	rules_clex_skip_ws(lx);
	if (lx->pos < lx->len && lx->s[lx->pos] == c) {
		lx->pos++;
		return true;
	}
	return false;
}

static bool ident_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

char *rules_clex_ident(struct rules_clex *lx, struct rules_arena *a)
{
	size_t start, p;

	rules_clex_skip_ws(lx);
	start = p = lx->pos;
	if (p >= lx->len || !ident_start(lx->s[p]))
		return NULL;
	while (p < lx->len && ident_char(lx->s[p]))
		p++;
	if (p < lx->len && lx->s[p] == '[') {
		const char *close = memchr(lx->s + p, ']', lx->len - p);

		if (close)
			p = (size_t)(close - lx->s) + 1;
	}
	lx->pos = p;
	return rules_arena_strndup(a, lx->s + start, p - start);
}

bool rules_clex_keyword(struct rules_clex *lx, const char *kw)
{
	size_t n = strlen(kw);

	rules_clex_skip_ws(lx);
	if (lx->len - lx->pos < n || strncmp(lx->s + lx->pos, kw, n) != 0)
		return false;
	if (lx->pos + n < lx->len && ident_char(lx->s[lx->pos + n]))
		return false;
	lx->pos += n;
	return true;
}

int rules_clex_op(struct rules_clex *lx, enum rules_op *op)
{
	const char *p;
	size_t left;

	rules_clex_skip_ws(lx);
	p = lx->s + lx->pos;
	left = lx->len - lx->pos;
	if (left >= 2 && p[0] == '=' && p[1] == '=') {
		*op = RULES_OP_EQ;
		lx->pos += 2;
		return 0;
	}
	if (left >= 2 && p[0] == '!' && p[1] == '=') {
		*op = RULES_OP_NE;
		lx->pos += 2;
		return 0;
	}
	if (left >= 2 && (p[0] == '<' || p[0] == '>') && p[1] == '=') {
		*op = p[0] == '<' ? RULES_OP_LE : RULES_OP_GE;
		lx->pos += 2;
		return 0;
	}
	if (left >= 1 && (p[0] == '=' || p[0] == '<' || p[0] == '>')) {
		*op = p[0] == '=' ? RULES_OP_EQ : p[0] == '<' ? RULES_OP_LT : RULES_OP_GT;
		lx->pos += 1;
		return 0;
	}
	for (int i = RULES_OP_CONTAINS; i < RULES_OP__COUNT; i++) {
		if (rules_clex_keyword(lx, op_names[i])) {
			*op = (enum rules_op)i;
			return 0;
		}
	}
	return -EINVAL;
}

char *rules_clex_value(struct rules_clex *lx, struct rules_arena *a, bool *quoted, int *err)
{
	size_t start;

	rules_clex_skip_ws(lx);
	*quoted = false;
	if (lx->pos >= lx->len) {
		*err = -EINVAL;
		return NULL;
	}
	if (lx->s[lx->pos] == '"' || lx->s[lx->pos] == '\'') {
		char q = lx->s[lx->pos++];
		char *out = rules_arena_alloc(a, lx->len - lx->pos + 1), *o = out;

		if (!out) {
			*err = -ENOMEM;
			return NULL;
		}
		while (lx->pos < lx->len && lx->s[lx->pos] != q) {
			char c = lx->s[lx->pos++];

			if (c == '\\' && lx->pos < lx->len &&
			    (lx->s[lx->pos] == q || lx->s[lx->pos] == '\\'))
				c = lx->s[lx->pos++];
			*o++ = c;
		}
		if (lx->pos >= lx->len) {
			*err = -EINVAL;
			return NULL;
		}
		lx->pos++;
		*quoted = true;
		return out;
	}
	start = lx->pos;
	while (lx->pos < lx->len && !isspace((unsigned char)lx->s[lx->pos]) &&
	       !strchr(",()", lx->s[lx->pos]))
		lx->pos++;
	if (lx->pos == start) {
		*err = -EINVAL;
		return NULL;
	}
	return rules_arena_strndup(a, lx->s + start, lx->pos - start);
}
