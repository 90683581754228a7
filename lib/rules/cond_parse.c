/* SPDX-License-Identifier: Apache-2.0 */
/* cond_parse: recursive descent over cond_lex. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/rules/cond_parse.h"

#define MAX_DEPTH 200

struct parser {
	struct rules_clex lx;
	struct rules_arena *a;
	int err;
	int errpos;
	char *errbuf;
	size_t errlen;
	int depth;
};

static struct rules_cnode *parse_or(struct parser *p);

static void fail(struct parser *p, size_t pos, const char *msg)
{
	if (p->err)
		return;
	p->err = -EINVAL;
	p->errpos = (int)pos;
	if (p->errbuf)
		snprintf(p->errbuf, p->errlen, "%s", msg);
}

struct rules_cnode *rules_cnode_new(struct rules_arena *a, enum rules_cnode_kind kind, int pos)
{
	struct rules_cnode *n = rules_arena_alloc(a, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->pos = pos;
	}
	return n;
}

int rules_cnode_add_kid(struct rules_arena *a, struct rules_cnode *n, struct rules_cnode *kid)
{
	size_t cap = n->nkids; /* arrays are exact-size: grow by copying */
	struct rules_cnode **k = rules_arena_alloc(a, (cap + 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (cap)
		memcpy(k, n->kids, cap * sizeof(*k));
	k[cap] = kid;
	n->kids = k;
	n->nkids = cap + 1;
	return 0;
}

static bool is_keyword(const char *s)
{
	return !strcmp(s, "and") || !strcmp(s, "or") || !strcmp(s, "not");
}

static int add_value(struct parser *p, struct rules_cnode *n, const char *s, bool quoted, int pos)
{
	struct rules_cvalue *v = rules_arena_alloc(p->a, (n->nvals + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (n->nvals)
		memcpy(v, n->vals, n->nvals * sizeof(*v));
	v[n->nvals].s = s;
	v[n->nvals].quoted = quoted;
	v[n->nvals].pos = pos;
	n->vals = v;
	n->nvals++;
	return 0;
}

static int parse_list(struct parser *p, struct rules_cnode *n)
{
	n->list = true;
	if (rules_clex_accept(&p->lx, ')'))
		return 0;
	for (;;) {
		bool quoted;
		int err = 0;
		size_t pos;
		char *v;

		rules_clex_skip_ws(&p->lx);
		pos = p->lx.pos;
		v = rules_clex_value(&p->lx, p->a, &quoted, &err);
		if (!v) {
			fail(p, pos, err == -ENOMEM ? "out of memory" : "expected a list value");
			return -EINVAL;
		}
		if (add_value(p, n, v, quoted, (int)pos))
			return -ENOMEM;
		if (rules_clex_accept(&p->lx, ','))
			continue;
		if (rules_clex_accept(&p->lx, ')'))
			return 0;
		fail(p, p->lx.pos, "expected ',' or ')' in a list");
		return -EINVAL;
	}
}

static struct rules_cnode *parse_cmp(struct parser *p, const char *field, size_t pos)
{
	struct rules_cnode *n = rules_cnode_new(p->a, RULES_CN_CMP, (int)pos);
	enum rules_op op;
	size_t vpos;

	if (!n)
		return NULL;
	n->field = field;
	rules_clex_skip_ws(&p->lx);
	vpos = p->lx.pos;
	if (rules_clex_op(&p->lx, &op)) {
		fail(p, vpos, "expected an operator after the field");
		return NULL;
	}
	n->op = op;
	if (op == RULES_OP_EXISTS)
		return n;
	rules_clex_skip_ws(&p->lx);
	vpos = p->lx.pos;
	if (rules_clex_accept(&p->lx, '(')) {
		if (!rules_op_takes_list(op)) {
			fail(p, vpos, "a list is only allowed after in, intersects or pmatch");
			return NULL;
		}
		if (parse_list(p, n))
			return NULL;
		return n;
	}
	{
		bool quoted;
		int err = 0;
		char *v = rules_clex_value(&p->lx, p->a, &quoted, &err);

		if (!v) {
			fail(p, vpos, err == -ENOMEM ? "out of memory" : "expected a value");
			return NULL;
		}
		if (add_value(p, n, v, quoted, (int)vpos))
			return NULL;
		n->list = rules_op_takes_list(op);
	}
	return n;
}

static struct rules_cnode *parse_primary(struct parser *p)
{
	size_t pos;
	char *id;

	rules_clex_skip_ws(&p->lx);
	pos = p->lx.pos;
	if (rules_clex_accept(&p->lx, '(')) {
		struct rules_cnode *n = parse_or(p);

		if (!n)
			return NULL;
		if (!rules_clex_accept(&p->lx, ')')) {
			fail(p, p->lx.pos, "expected ')'");
			return NULL;
		}
		return n;
	}
	id = rules_clex_ident(&p->lx, p->a);
	if (!id || is_keyword(id)) {
		fail(p, pos,
		     p->lx.pos >= p->lx.len ? "unexpected end of condition"
					    : "expected a field, a macro name or '('");
		return NULL;
	}
	if (!strchr(id, '.') && !strchr(id, '[')) {
		struct rules_cnode *n = rules_cnode_new(p->a, RULES_CN_REF, (int)pos);

		if (n)
			n->name = id;
		return n;
	}
	return parse_cmp(p, id, pos);
}

static struct rules_cnode *parse_not(struct parser *p)
{
	size_t pos;

	if (++p->depth > MAX_DEPTH) {
		fail(p, p->lx.pos, "condition nested too deeply");
		return NULL;
	}
	rules_clex_skip_ws(&p->lx);
	pos = p->lx.pos;
	if (rules_clex_keyword(&p->lx, "not")) {
		struct rules_cnode *n = rules_cnode_new(p->a, RULES_CN_NOT, (int)pos);
		struct rules_cnode *k = n ? parse_not(p) : NULL;

		p->depth--;
		if (!k || rules_cnode_add_kid(p->a, n, k))
			return NULL;
		return n;
	}
	{
		struct rules_cnode *n = parse_primary(p);

		p->depth--;
		return n;
	}
}

static struct rules_cnode *parse_binary(struct parser *p, bool is_or)
{
	struct rules_cnode *first, *n = NULL;
	size_t pos;

	if (++p->depth > MAX_DEPTH) {
		fail(p, p->lx.pos, "condition nested too deeply");
		return NULL;
	}
	rules_clex_skip_ws(&p->lx);
	pos = p->lx.pos;
	first = is_or ? parse_binary(p, false) : parse_not(p);
	if (!first)
		goto out;
	while (rules_clex_keyword(&p->lx, is_or ? "or" : "and")) {
		struct rules_cnode *k = is_or ? parse_binary(p, false) : parse_not(p);

		if (!k)
			goto out_null;
		if (!n) {
			n = rules_cnode_new(p->a, is_or ? RULES_CN_OR : RULES_CN_AND, (int)pos);
			if (!n || rules_cnode_add_kid(p->a, n, first))
				goto out_null;
		}
		if (rules_cnode_add_kid(p->a, n, k))
			goto out_null;
	}
	p->depth--;
	return n ? n : first;
out_null:
	n = NULL;
	first = NULL;
out:
	p->depth--;
	return first;
}

static struct rules_cnode *parse_or(struct parser *p)
{
	return parse_binary(p, true);
}

int rules_cond_parse(struct rules_arena *a, const char *text, size_t len, struct rules_cnode **out,
		     int *errpos, char *errbuf, size_t errlen)
{
	struct parser p = {
	    .lx = {.s = text, .len = len},
	    .a = a,
	    .errbuf = errbuf,
	    .errlen = errlen,
	};
	struct rules_cnode *n;

	if (errbuf && errlen)
		errbuf[0] = '\0';
	n = parse_or(&p);
	if (n && !rules_clex_eof(&p.lx))
		fail(&p, p.lx.pos, "unexpected text after the condition");
	if (!n && !p.err)
		fail(&p, p.lx.pos, "out of memory");
	if (p.err) {
		*errpos = p.errpos;
		return p.err;
	}
	*out = n;
	return 0;
}
