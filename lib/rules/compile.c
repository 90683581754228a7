/* SPDX-License-Identifier: Apache-2.0 */
/* compile: item tables -> compiled rule set. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "lib/rules/compile.h"
#include "lib/rules/cond_parse.h"
#include "lib/rules/diag.h"
#include "lib/rules/rules.h"

#define MAX_MACRO_DEPTH 64
#define MAX_LIST_DEPTH 16

struct cerr {
	bool set;
	bool unknown; /* an unknown field: skip-if-unknown-filter may turn it into a skip */
	char msg[600];
	struct rules_pos pos;
};

struct mstate {
	int state; /* 0 new, 1 compiling, 2 done, 3 failed */
	struct rules_cnode *ast;
	struct rules_cx *cx;
	struct cerr err;
};

struct cctx {
	struct rules_items *it;
	struct rules_diags *d;
	struct rules_set *rs;
	struct rules_arena *a; /* the set's arena */
	struct mstate *ms;
	const struct rules_text *text; /* text the current tree came from */
	const char *macro;	       /* macro being compiled, NULL in a rule */
	int order;		       /* macros visible: order < this */
	int depth;
	struct cerr err;
	bool nomem;
	const char *rule; /* for warnings */
	const struct rules_pos *rule_pos;
};

static void cfail(struct cctx *c, int off, bool unknown, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cfail(struct cctx *c, int off, bool unknown, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err.set)
		return;
	c->err.set = true;
	c->err.unknown = unknown;
	va_start(ap, fmt);
	n = vsnprintf(c->err.msg, sizeof(c->err.msg), fmt, ap);
	va_end(ap);
	if (c->macro && n > 0 && (size_t)n < sizeof(c->err.msg))
		snprintf(c->err.msg + n, sizeof(c->err.msg) - (size_t)n, " (in macro '%s')",
			 c->macro);
	c->err.pos = rules_text_pos(c->text, off < 0 ? 0 : (size_t)off);
}

static void *calloc_a(struct cctx *c, size_t n)
{
	void *p = rules_arena_alloc(c->a, n);

	if (!p)
		c->nomem = true;
	return p;
}

static struct rules_cx *cx_new(struct cctx *c, enum rules_cx_kind kind)
{
	struct rules_cx *x = calloc_a(c, sizeof(*x));

	if (x) {
		x->kind = (uint8_t)kind;
		x->idx = -1;
	}
	return x;
}

/* ---- string sets ---- */

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h ? h : 1; /* never 0: the evaluator uses 0 for "not computed" */
}

uint32_t rules_strset_hash(const char *s, size_t len)
{
	return hash_bytes(s, len);
}

static struct rules_strset *strset_build(struct cctx *c, const struct rules_cval *v, size_t n)
{
	struct rules_strset *set = calloc_a(c, sizeof(*set));
	uint32_t size = 4;

	if (!set)
		return NULL;
	while (size < n * 2)
		size <<= 1;
	set->mask = size - 1;
	set->slots = calloc_a(c, sizeof(*set->slots) * size);
	if (!set->slots)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t h = hash_bytes(v[i].s, v[i].len), j = h & set->mask;

		while (set->slots[j].s) {
			if (set->slots[j].hash == h && set->slots[j].len == v[i].len &&
			    !memcmp(set->slots[j].s, v[i].s, v[i].len))
				break;
			j = (j + 1) & set->mask;
		}
		set->slots[j].s = v[i].s;
		set->slots[j].len = v[i].len;
		set->slots[j].hash = h;
	}
	return set;
}

/* ---- values ---- */

struct vlist {
	const char **s;
	size_t n, cap;
};

static const char *strip_quotes(struct cctx *c, const char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		return rules_arena_strndup(c->a, s + 1, n - 2);
	return s;
}

static int vlist_add(struct cctx *c, struct vlist *v, const char *s)
{
	const char **slot = rules_arena_push(c->a, (void **)&v->s, &v->n, &v->cap, sizeof(*slot));

	if (!slot) {
		c->nomem = true;
		return -ENOMEM;
	}
	*slot = s;
	return 0;
}

static int expand_list(struct cctx *c, struct vlist *v, struct rules_list_item *l, int depth)
{
	if (depth > MAX_LIST_DEPTH) {
		cfail(c, 0, false, "list '%s' nests too deeply (a list reference loop?)", l->name);
		return -EINVAL;
	}
	for (size_t i = 0; i < l->n; i++) {
		struct rules_list_item *sub = rules_items_list(c->it, l->items[i]);

		if (sub && sub != l) {
			if (expand_list(c, v, sub, depth + 1))
				return -EINVAL;
		} else if (vlist_add(c, v, strip_quotes(c, l->items[i]))) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static int convert_value(struct cctx *c, struct rules_cx *x, const char *s, int pos,
			 struct rules_cval *out, const char *fname)
{
	/* values live in the set's arena: the loader's texts are freed after the load */
	out->s = rules_arena_strdup(c->a, s);
	out->len = (uint32_t)strlen(s);
	if (!out->s) {
		c->nomem = true;
		return -ENOMEM;
	}
	if (x->op == RULES_OP_BCONTAINS || x->op == RULES_OP_BSTARTSWITH) {
		size_t n = out->len;
		char *b;

		if (n % 2) {
			cfail(c, pos, false, "'%s' needs an even number of hex digits", s);
			return -EINVAL;
		}
		b = calloc_a(c, n / 2 + 1);
		if (!b)
			return -ENOMEM;
		for (size_t i = 0; i < n; i += 2) {
			int hi = hexval((unsigned char)s[i]), lo = hexval((unsigned char)s[i + 1]);

			if (hi < 0 || lo < 0) {
				cfail(c, pos, false, "'%s' is not a hex string", s);
				return -EINVAL;
			}
			b[i / 2] = (char)(hi * 16 + lo);
		}
		out->s = b;
		out->len = (uint32_t)(n / 2);
		return 0;
	}
	switch (x->ftype) {
	case RULES_FT_NUM: {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s, &end, 0);
		if (!*s || *end || errno) {
			cfail(c, pos, false, "'%s' is not a number (field '%s')", s, fname);
			return -EINVAL;
		}
		out->n = v;
		return 0;
	}
	case RULES_FT_BOOL:
		if (!strcasecmp(s, "true"))
			out->n = 1;
		else if (!strcasecmp(s, "false"))
			out->n = 0;
		else {
			cfail(c, pos, false, "'%s' is not true or false (field '%s')", s, fname);
			return -EINVAL;
		}
		return 0;
	case RULES_FT_IP: {
		char buf[64];
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		int bits;

		if (x->op != RULES_OP_EQ && x->op != RULES_OP_NE && x->op != RULES_OP_IN)
			return 0; /* text operators compare the text */
		if (n >= sizeof(buf))
			goto bad_ip;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET, buf, out->ip) == 1) {
			out->family = AF_INET;
			bits = 32;
		} else if (inet_pton(AF_INET6, buf, out->ip) == 1) {
			out->family = AF_INET6;
			bits = 128;
		} else {
			goto bad_ip;
		}
		out->prefix = (uint8_t)bits;
		if (slash) {
			char *end;
			long p = strtol(slash + 1, &end, 10);

			if (!slash[1] || *end || p < 0 || p > bits)
				goto bad_ip;
			out->prefix = (uint8_t)p;
		}
		return 0;
	bad_ip:
		cfail(c, pos, false, "'%s' is not an IP address or network (field '%s')", s, fname);
		return -EINVAL;
	}
	default:
		return 0;
	}
}

/* ---- conditions ---- */

static struct rules_cx *compile_node(struct cctx *c, const struct rules_cnode *n);

static struct rules_cx *compile_macro(struct cctx *c, size_t mi, int pos)
{
	struct rules_macro_item *m = &c->it->macros[mi];
	struct mstate *s = &c->ms[mi];
	const struct rules_text *text = c->text;
	const char *macro = c->macro;
	int order = c->order;
	struct rules_cx *x;

	if (s->state == 2)
		return s->cx;
	if (s->state == 3) {
		if (!c->err.set)
			c->err = s->err;
		return NULL;
	}
	if (s->state == 1 || c->depth >= MAX_MACRO_DEPTH) {
		cfail(c, pos, false, "macro reference loop through '%s'", m->name);
		return NULL;
	}
	if (!s->ast) {
		/* its syntax error was reported when the macro was parsed */
		cfail(c, pos, false, "macro '%s' has a syntax error", m->name);
		return NULL;
	}
	s->state = 1;
	c->depth++;
	c->text = &m->cond;
	c->macro = m->name;
	c->order = m->order;
	x = compile_node(c, s->ast);
	c->text = text;
	c->macro = macro;
	c->order = order;
	c->depth--;
	if (x && mi < RULES_MAX_MEMO && x->kind != RULES_CX_MEMO) {
		struct rules_cx *m = cx_new(c, RULES_CX_MEMO);

		if (m)
			m->kids = calloc_a(c, sizeof(*m->kids));
		if (!m || !m->kids)
			return NULL;
		m->kids[0] = x;
		m->n = 1;
		m->idx = (int16_t)mi;
		m->cost = x->cost;
		x = m;
	}
	if (x) {
		s->state = 2;
		s->cx = x;
	} else if (!c->nomem) {
		s->state = 3;
		s->err = c->err;
	} else {
		s->state = 0;
	}
	return x;
}

static struct rules_cx *compile_ref(struct cctx *c, const struct rules_cnode *n)
{
	struct rules_macro_item *m = rules_items_macro(c->it, n->name);

	if (!m) {
		if (rules_items_list(c->it, n->name))
			cfail(c, n->pos, false,
			      "'%s' is a list, not a macro: use it as '(%s)' after in", n->name,
			      n->name);
		else
			cfail(c, n->pos, false, "undefined macro '%s'", n->name);
		return NULL;
	}
	if (c->ms[m - c->it->macros].state == 1) {
		cfail(c, n->pos, false, "macro reference loop through '%s'", n->name);
		return NULL;
	}
	if (c->macro && m->order >= c->order) {
		cfail(c, n->pos, false, "macro '%s' is used before it is defined", n->name);
		return NULL;
	}
	return compile_macro(c, (size_t)(m - c->it->macros), n->pos);
}

static struct rules_cx *compile_evttype(struct cctx *c, const struct rules_cnode *n,
					const struct vlist *vl)
{
	struct rules_cx *x = cx_new(c, RULES_CX_EVTTYPE);

	if (!x)
		return NULL;
	x->op = (uint8_t)n->op;
	x->field = RULES_F_EVT_TYPE;
	x->cost = 1;
	for (size_t i = 0; i < vl->n; i++) {
		enum rules_evt_type t = rules_evttype_from_name(vl->s[i]);

		if (t == RULES_EVT__UNKNOWN) {
			if (c->rule)
				rules_diags_add(c->d, c->rule_pos->file, c->rule_pos->line,
						c->rule_pos->col, RULES_SEV_WARNING, "rule",
						c->rule, "unknown event type '%s' never matches",
						vl->s[i]);
			continue;
		}
		x->evmask[t >> 6] |= 1ULL << (t & 63);
	}
	return x;
}

static struct rules_cx *compile_cmp(struct cctx *c, const struct rules_cnode *n)
{
	struct rules_fref ref;
	const struct rules_fieldinfo *fi;
	struct rules_cx *x;
	struct vlist vl = {0};
	const char *why;
	int err;

	err = rules_field_resolve(n->field, c->a, &ref, &why);
	if (err == -ENOENT) {
		cfail(c, n->pos, true, "unknown field '%s'", n->field);
		return NULL;
	}
	if (err) {
		cfail(c, n->pos, false, "%s: '%s'", why, n->field);
		return NULL;
	}
	fi = rules_field_info((unsigned)ref.id);
	/* values, with list names expanded for list operators */
	for (size_t i = 0; i < n->nvals; i++) {
		struct rules_list_item *l =
		    n->list && !n->vals[i].quoted ? rules_items_list(c->it, n->vals[i].s) : NULL;

		if (l) {
			if (expand_list(c, &vl, l, 0))
				return NULL;
		} else if (vlist_add(c, &vl, n->vals[i].s)) {
			return NULL;
		}
	}
	if (ref.id == RULES_F_EVT_TYPE && !ref.has_arg &&
	    (n->op == RULES_OP_EQ || n->op == RULES_OP_NE || n->op == RULES_OP_IN))
		return compile_evttype(c, n, &vl);
	x = cx_new(c, RULES_CX_CMP);
	if (!x)
		return NULL;
	x->op = (uint8_t)n->op;
	x->field = (uint16_t)ref.id;
	x->ftype = (uint8_t)fi->type;
	x->idx = (int16_t)ref.idx;
	x->key = ref.key;
	x->keylen = ref.keylen;
	if (ref.id == RULES_F_EVT_ARG || ref.id == RULES_F_PROC_ENV ||
	    ref.id == RULES_F_CONTAINER_MOUNT_DEST || ref.id == RULES_F_FD_TYPES)
		x->ftype = RULES_FT_STR;
	if ((ref.id == RULES_F_PROC_ANAME || ref.id == RULES_F_PROC_AEXE ||
	     ref.id == RULES_F_PROC_AEXEPATH || ref.id == RULES_F_PROC_APID) &&
	    ref.idx < 0 && ref.key) {
		cfail(c, n->pos, false, "field '%s' needs a numeric index", n->field);
		return NULL;
	}
	if (x->ftype == RULES_FT_NUM || x->ftype == RULES_FT_BOOL) {
		switch (n->op) {
		case RULES_OP_EQ:
		case RULES_OP_NE:
		case RULES_OP_IN:
		case RULES_OP_INTERSECTS:
		case RULES_OP_EXISTS:
			break;
		case RULES_OP_LT:
		case RULES_OP_LE:
		case RULES_OP_GT:
		case RULES_OP_GE:
			if (x->ftype == RULES_FT_NUM)
				break;
			/* fallthrough */
		default:
			cfail(c, n->pos, false, "operator '%s' can't be used with field '%s'",
			      rules_op_name(n->op), n->field);
			return NULL;
		}
	}
	switch (ref.id) {
	case RULES_F_EVT_ARG:
	case RULES_F_PROC_ANAME:
	case RULES_F_PROC_AEXE:
	case RULES_F_PROC_AEXEPATH:
	case RULES_F_PROC_APID:
	case RULES_F_PROC_ENV:
	case RULES_F_CONTAINER_MOUNT_DEST:
	case RULES_F_FD_TYPES:
	case RULES_F_FD_IP:
	case RULES_F_FD_NET:
	case RULES_F_FD_PORT:
		x->simple = 0;
		x->cost = 8;
		break;
	default:
		x->simple = 1;
		x->cost = 2;
	}
	switch (n->op) {
	case RULES_OP_NE:
		x->cost += 30; /* usually true: rarely decides an `and` */
		break;
	case RULES_OP_EQ:
	case RULES_OP_LT:
	case RULES_OP_LE:
	case RULES_OP_GT:
	case RULES_OP_GE:
	case RULES_OP_EXISTS:
		break;
	case RULES_OP_IN:
	case RULES_OP_INTERSECTS:
		x->cost += x->ftype == RULES_FT_IP ? 6 : 2;
		break;
	case RULES_OP_GLOB:
	case RULES_OP_IGLOB:
	case RULES_OP_REGEX:
		x->cost += 20;
		break;
	default:
		x->cost += 4;
	}
	if (x->ftype == RULES_FT_IP)
		x->cost += 6;
	if (n->op == RULES_OP_EXISTS)
		return x;
	if (!n->list && vl.n != 1) {
		cfail(c, n->pos, false, "operator '%s' takes one value", rules_op_name(n->op));
		return NULL;
	}
	x->n = (uint32_t)vl.n;
	x->vals = calloc_a(c, sizeof(*x->vals) * (vl.n ? vl.n : 1));
	if (!x->vals)
		return NULL;
	for (size_t i = 0; i < vl.n; i++)
		if (convert_value(c, x, vl.s[i], n->nvals == 1 ? n->vals[0].pos : n->pos,
				  &x->vals[i], n->field))
			return NULL;
	if ((n->op == RULES_OP_IN || n->op == RULES_OP_INTERSECTS) && x->ftype != RULES_FT_NUM &&
	    x->ftype != RULES_FT_BOOL && x->ftype != RULES_FT_IP) {
		x->set = strset_build(c, x->vals, vl.n);
		if (!x->set)
			return NULL;
	}
	if (n->op == RULES_OP_REGEX) {
		regex_t *re = calloc(1, sizeof(*re)), **slot;
		char msg[128];
		int rc;

		if (!re) {
			c->nomem = true;
			return NULL;
		}
		rc = regcomp(re, vl.s[0], REG_EXTENDED | REG_NOSUB);
		if (rc) {
			regerror(rc, re, msg, sizeof(msg));
			free(re);
			cfail(c, n->pos, false, "invalid regex '%s': %s", vl.s[0], msg);
			return NULL;
		}
		slot = rules_arena_push(c->a, (void **)&c->rs->regexes, &c->rs->nregexes,
					&c->rs->capregexes, sizeof(*slot));
		if (!slot) {
			regfree(re);
			free(re);
			c->nomem = true;
			return NULL;
		}
		*slot = re;
		x->re = re;
	}
	return x;
}

static struct rules_cx *compile_node(struct cctx *c, const struct rules_cnode *n)
{
	struct rules_cx *x;

	switch (n->kind) {
	case RULES_CN_REF:
		return compile_ref(c, n);
	case RULES_CN_CMP:
		return compile_cmp(c, n);
	case RULES_CN_NOT:
	case RULES_CN_AND:
	case RULES_CN_OR:
		x = cx_new(c, n->kind == RULES_CN_NOT	? RULES_CX_NOT
			      : n->kind == RULES_CN_AND ? RULES_CX_AND
							: RULES_CX_OR);
		if (!x)
			return NULL;
		x->kids = calloc_a(c, sizeof(*x->kids) * (n->nkids ? n->nkids : 1));
		if (!x->kids)
			return NULL;
		x->n = (uint32_t)n->nkids;
		for (size_t i = 0; i < n->nkids; i++) {
			x->kids[i] = compile_node(c, n->kids[i]);
			if (!x->kids[i])
				return NULL;
			x->cost += x->kids[i]->cost;
		}
		/* `not X` is true for most events (exceptions, allow-lists): rarely decides an
		 * `and`, so it goes after the selective tests */
		if (x->kind == RULES_CX_NOT)
			x->cost += 100;
		/* and/or are commutative here (no side effects): cheapest first, stable */
		for (size_t i = 1; i < x->n; i++) {
			struct rules_cx *k = x->kids[i];
			size_t j = i;

			while (j > 0 && x->kids[j - 1]->cost > k->cost) {
				x->kids[j] = x->kids[j - 1];
				j--;
			}
			x->kids[j] = k;
		}
		return x;
	}
	cfail(c, n->pos, false, "internal: unknown node");
	return NULL;
}

/* ---- exceptions: (cond) and not ((f1 c1 v1 and ...) or ...) ---- */

static struct rules_cnode *exc_tree(struct cctx *c, struct rules_arena *la,
				    const struct rules_rule_item *r)
{
	struct rules_cnode *any = NULL;

	for (size_t i = 0; i < r->nexcs; i++) {
		const struct rules_exc *e = &r->excs[i];

		for (size_t t = 0; t < e->ntuples; t++) {
			struct rules_cnode *all = rules_cnode_new(la, RULES_CN_AND, 0);

			if (!all)
				return NULL;
			for (size_t f = 0; f < e->nfields; f++) {
				const struct rules_excv *v = &e->tuples[t][f];
				struct rules_cnode *cmp = rules_cnode_new(la, RULES_CN_CMP, 0);
				struct rules_clex lx = {.s = e->comps[f],
							.len = strlen(e->comps[f])};
				enum rules_op op;

				if (!cmp || rules_clex_op(&lx, &op))
					return NULL;
				cmp->field = e->fields[f];
				cmp->op = op;
				cmp->list = rules_op_takes_list(op);
				if (v->is_list) {
					if (!cmp->list) {
						cfail(c, 0, false,
						      "exception '%s': comparison '%s' takes one "
						      "value, not a list",
						      e->name, e->comps[f]);
						return NULL;
					}
					cmp->vals = rules_arena_alloc(
					    la, sizeof(*cmp->vals) * (v->nlist ? v->nlist : 1));
					if (!cmp->vals)
						return NULL;
					for (size_t k = 0; k < v->nlist; k++)
						cmp->vals[k].s = v->list[k];
					cmp->nvals = v->nlist;
				} else {
					cmp->vals = rules_arena_alloc(la, sizeof(*cmp->vals));
					if (!cmp->vals)
						return NULL;
					cmp->vals[0].s = v->s ? v->s : "";
					cmp->vals[0].quoted = !cmp->list;
					cmp->nvals = 1;
				}
				if (rules_cnode_add_kid(la, all, cmp))
					return NULL;
			}
			if (!any && !(any = rules_cnode_new(la, RULES_CN_OR, 0)))
				return NULL;
			if (rules_cnode_add_kid(la, any, all))
				return NULL;
		}
	}
	return any;
}

/* ---- event type masks (Falco's evttype resolution) ---- */

static void mask_all(uint64_t *m)
{
	for (int i = 0; i < RULES_EVW; i++)
		m[i] = ~0ULL;
}

static void mask_of(const struct rules_cx *x, uint64_t *m, bool *exact)
{
	uint64_t tmp[RULES_EVW];
	bool ex;

	switch (x->kind) {
	case RULES_CX_EVTTYPE:
		memcpy(m, x->evmask, sizeof(tmp));
		if (x->op == RULES_OP_NE)
			for (int i = 0; i < RULES_EVW; i++)
				m[i] = ~m[i];
		*exact = true;
		return;
	case RULES_CX_MEMO:
		mask_of(x->kids[0], m, exact);
		return;
	case RULES_CX_NOT:
		mask_of(x->kids[0], tmp, &ex);
		if (ex) {
			for (int i = 0; i < RULES_EVW; i++)
				m[i] = ~tmp[i];
			*exact = true;
		} else {
			mask_all(m);
			*exact = false;
		}
		return;
	case RULES_CX_AND:
	case RULES_CX_OR:
		*exact = true;
		if (x->kind == RULES_CX_AND)
			mask_all(m);
		else
			memset(m, 0, sizeof(tmp));
		for (uint32_t k = 0; k < x->n; k++) {
			mask_of(x->kids[k], tmp, &ex);
			*exact = *exact && ex;
			for (int i = 0; i < RULES_EVW; i++)
				m[i] = x->kind == RULES_CX_AND ? m[i] & tmp[i] : m[i] | tmp[i];
		}
		return;
	default:
		mask_all(m);
		*exact = false;
	}
}

/* ---- guards: selective tests every match must pass ---- */

struct guardset {
	const struct rules_cx *c[RULES_MAX_GUARDS];
	uint32_t n;
	uint32_t score; /* lower is more selective */
	bool ok;
};

static struct guardset guard_of(const struct rules_cx *x)
{
	struct guardset g = {.ok = false}, k;

	switch (x->kind) {
	case RULES_CX_MEMO:
		return guard_of(x->kids[0]);
	case RULES_CX_AND:
		for (uint32_t i = 0; i < x->n; i++) {
			k = guard_of(x->kids[i]);
			if (k.ok && (!g.ok || k.score < g.score))
				g = k;
		}
		return g;
	case RULES_CX_OR:
		g.ok = x->n > 0;
		for (uint32_t i = 0; i < x->n && g.ok; i++) {
			k = guard_of(x->kids[i]);
			if (!k.ok || g.n + k.n > RULES_MAX_GUARDS) {
				g.ok = false;
				break;
			}
			memcpy(g.c + g.n, k.c, k.n * sizeof(k.c[0]));
			g.n += k.n;
			g.score += k.score;
		}
		return g;
	case RULES_CX_CMP:
		if (x->ftype == RULES_FT_IP) {
			if (x->op != RULES_OP_EQ && x->op != RULES_OP_IN)
				return g;
			g.score = 20 + x->n; /* an address is selective, parsing it is not free */
		} else if (x->op == RULES_OP_EQ)
			g.score = 1;
		else if ((x->op == RULES_OP_IN || x->op == RULES_OP_INTERSECTS) && x->set)
			g.score = x->n;
		else if ((x->op == RULES_OP_IN) && x->ftype != RULES_FT_STR)
			g.score = x->n;
		else if (x->op == RULES_OP_STARTSWITH || x->op == RULES_OP_CONTAINS ||
			 x->op == RULES_OP_ICONTAINS || x->op == RULES_OP_ENDSWITH)
			g.score = 64;
		else if (x->op == RULES_OP_PMATCH)
			g.score = 64 + x->n;
		else if (x->op == RULES_OP_GLOB || x->op == RULES_OP_IGLOB)
			g.score = 300;
		else
			return g;
		/* booleans, numbers and small enumerations say little about an event */
		if (x->ftype == RULES_FT_BOOL)
			g.score += 1000;
		else if (x->ftype == RULES_FT_NUM)
			g.score += 100;
		switch (x->field) {
		case RULES_F_FD_TYPECHAR:
		case RULES_F_FD_TYPE:
		case RULES_F_FD_L4PROTO:
		case RULES_F_FD_SOCKFAMILY:
		case RULES_F_EVT_TYPE:
		case RULES_F_SYSCALL_TYPE:
		case RULES_F_EVT_DIR:
		case RULES_F_EVT_RES:
		case RULES_F_USER_NAME:
			g.score += 500;
			break;
		default:
			break;
		}
		if (!x->simple)
			g.score += 128;
		g.c[0] = x;
		g.n = 1;
		g.ok = true;
		return g;
	default:
		return g;
	}
}

/* ---- outputs ---- */

static bool fmt_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '.';
}

int rules_fmt_compile(struct rules_arena *a, const char *text, struct rules_fmt_part **parts,
		      size_t *nparts, size_t *errpos, const char **why)
{
	struct rules_fmt_part *v = NULL;
	size_t n = 0, cap = 0, i = 0, lit = 0, len = strlen(text);

	while (i <= len) {
		struct rules_fmt_part *p;
		size_t start, end;
		char *name;
		int err;

		if (i < len && text[i] != '%') {
			i++;
			continue;
		}
		if (i > lit) {
			p = rules_arena_push(a, (void **)&v, &n, &cap, sizeof(*p));
			if (!p)
				return -ENOMEM;
			p->kind = RULES_FMT_TEXT;
			p->s = text + lit;
			p->len = (uint32_t)(i - lit);
		}
		if (i == len)
			break;
		start = ++i;
		if (i < len && text[i] == '(') {
			/* %(field) */
			const char *close = strchr(text + i, ')');

			if (!close) {
				*errpos = start - 1;
				*why = "unterminated %(";
				return -EINVAL;
			}
			start = i + 1;
			end = (size_t)(close - text);
			i = end + 1;
		} else {
			while (i < len && fmt_char(text[i]))
				i++;
			while (i > start && text[i - 1] == '.')
				i--; /* "%fd.name." ends a sentence */
			if (i < len && text[i] == '[') {
				const char *close = strchr(text + i, ']');

				if (close)
					i = (size_t)(close - text) + 1;
			}
			end = i;
		}
		if (end == start) {
			*errpos = start - 1;
			*why = "'%' must be followed by a field name";
			return -EINVAL;
		}
		name = rules_arena_strndup(a, text + start, end - start);
		if (!name)
			return -ENOMEM;
		p = rules_arena_push(a, (void **)&v, &n, &cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		p->kind = RULES_FMT_FIELD;
		p->s = name;
		p->len = (uint32_t)(end - start);
		err = rules_field_resolve(name, a, &p->ref, why);
		if (err == -ENOMEM)
			return err;
		if (err) {
			*errpos = start - 1;
			return -EINVAL;
		}
		p->ftype = (uint8_t)rules_field_info((unsigned)p->ref.id)->type;
		lit = i;
	}
	*parts = v;
	*nparts = n;
	return 0;
}

/* ---- driver ---- */

static void report(struct cctx *c, enum rules_severity sev, const char *kind, const char *name,
		   const struct rules_pos *at, const char *msg)
{
	if (rules_diags_add(c->d, at->file, at->line, at->col, sev, kind, name, "%s", msg))
		c->nomem = true;
}

static int parse_macros(struct cctx *c)
{
	for (size_t i = 0; i < c->it->nmacros; i++) {
		struct rules_macro_item *m = &c->it->macros[i];
		char msg[256];
		int pos = 0;
		int err = rules_cond_parse(c->it->a, m->cond.s, strlen(m->cond.s), &c->ms[i].ast,
					   &pos, msg, sizeof(msg));

		if (err == -ENOMEM)
			return err;
		if (err) {
			struct rules_pos p = rules_text_pos(&m->cond, (size_t)pos);
			char full[400];

			snprintf(full, sizeof(full), "syntax error in condition: %s", msg);
			report(c, RULES_SEV_ERROR, "macro", m->name, &p, full);
			c->ms[i].ast = NULL;
		}
	}
	return 0;
}

static const char **copy_tags(struct cctx *c, char **tags, size_t n)
{
	const char **v = calloc_a(c, sizeof(*v) * (n ? n : 1));

	for (size_t i = 0; v && i < n; i++)
		v[i] = rules_arena_strdup(c->a, tags[i]);
	return v;
}

static void compile_rule(struct cctx *c, const struct rules_rule_item *r, struct rules_crule *cr)
{
	struct rules_cnode *ast = NULL, *exc;
	char msg[256];
	int pos = 0, err;

	cr->name = rules_arena_strdup(c->a, r->name);
	cr->desc = rules_arena_strdup(c->a, r->desc);
	cr->condition = rules_arena_strdup(c->a, r->cond.s);
	cr->output = rules_arena_strdup(c->a, r->output.s);
	/* folded (>) outputs end with a newline: trim trailing white space as Falco does */
	for (size_t n = cr->output ? strlen(cr->output) : 0;
	     n && isspace((unsigned char)cr->output[n - 1]); n--)
		((char *)cr->output)[n - 1] = '\0';
	cr->source = rules_arena_strdup(c->a, r->source ? r->source : "syscall");
	cr->priority = r->priority < 0 ? RULES_PRIO_DEBUG : r->priority;
	cr->enabled = r->enabled;
	cr->tags = copy_tags(c, r->tags, r->ntags);
	cr->ntags = r->ntags;
	if (!cr->name || !cr->condition || !cr->output || !cr->source || !cr->tags) {
		c->nomem = true;
		return;
	}
	if (strcmp(cr->source, "syscall")) {
		struct rules_pos p = r->pos;

		report(c, RULES_SEV_WARNING, "rule", r->name, &p,
		       "source is not 'syscall': no plugin provides it here, the rule is skipped");
		return;
	}
	/* output */
	{
		size_t epos = 0;
		const char *why = NULL;

		err = rules_fmt_compile(c->a, cr->output, &cr->fmt, &cr->nfmt, &epos, &why);
		if (err == -ENOMEM) {
			c->nomem = true;
			return;
		}
		if (err) {
			struct rules_pos p = rules_text_pos(&r->output, epos);

			const char *t = cr->output + epos;
			size_t tl;

			t += *t == '%';
			tl = strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789._[]-/");
			if (tl && tl <= 80) /* name the field, as condition errors do */
				snprintf(msg, sizeof(msg), "invalid output: %s '%.*s'", why,
					 (int)tl, t);
			else
				snprintf(msg, sizeof(msg), "invalid output: %s at '%.40s'", why,
					 cr->output + epos);
			report(c, RULES_SEV_ERROR, "rule", r->name, &p, msg);
			return;
		}
	}
	err =
	    rules_cond_parse(c->it->a, r->cond.s, strlen(r->cond.s), &ast, &pos, msg, sizeof(msg));
	if (err == -ENOMEM) {
		c->nomem = true;
		return;
	}
	if (err) {
		struct rules_pos p = rules_text_pos(&r->cond, (size_t)pos);
		char full[400];

		snprintf(full, sizeof(full), "syntax error in condition: %s", msg);
		report(c, RULES_SEV_ERROR, "rule", r->name, &p, full);
		return;
	}
	memset(&c->err, 0, sizeof(c->err));
	c->text = &r->cond;
	c->macro = NULL;
	c->order = INT_MAX;
	c->rule = r->name;
	c->rule_pos = &r->pos;
	exc = exc_tree(c, c->it->a, r);
	if (exc) {
		struct rules_cnode *top = rules_cnode_new(c->it->a, RULES_CN_AND, 0);
		struct rules_cnode *neg = rules_cnode_new(c->it->a, RULES_CN_NOT, 0);

		if (!top || !neg || rules_cnode_add_kid(c->it->a, neg, exc) ||
		    rules_cnode_add_kid(c->it->a, top, ast) ||
		    rules_cnode_add_kid(c->it->a, top, neg)) {
			c->nomem = true;
			return;
		}
		ast = top;
	}
	if (!c->err.set)
		cr->cx = compile_node(c, ast);
	if (c->nomem)
		return;
	if (!cr->cx) {
		struct rules_pos p = c->err.pos.file ? c->err.pos : r->pos;

		if (c->err.unknown && r->skip_unknown) {
			snprintf(msg, sizeof(msg), "%.200s; skipped (skip-if-unknown-filter)",
				 c->err.msg);
			report(c, RULES_SEV_WARNING, "rule", r->name, &p, msg);
		} else {
			report(c, RULES_SEV_ERROR, "rule", r->name, &p, c->err.msg);
		}
		return;
	}
	{
		bool exact;

		struct guardset g;

		bool every = true;

		mask_of(cr->cx, cr->evmask, &exact);
		for (int i = 0; i < RULES_EVW; i++)
			every = every && cr->evmask[i] == ~0ULL;
		if (every && r->warn_evttypes) {
			struct rules_pos p = r->cond.segs[0].pos;

			report(
			    c, RULES_SEV_WARNING, "rule", r->name, &p,
			    "condition does not restrict evt.type: the rule is evaluated for every "
			    "event (set warn_evttypes: false to silence)");
		}
		g = guard_of(cr->cx);
		if (g.ok) {
			memcpy(cr->guards, g.c, g.n * sizeof(g.c[0]));
			cr->nguards = g.n;
		}
	}
	cr->active = cr->enabled;
}

static bool guard_indexable(const struct rules_cx *g)
{
	return g->kind == RULES_CX_CMP && g->simple && g->ftype == RULES_FT_STR &&
	       (g->op == RULES_OP_EQ ||
		((g->op == RULES_OP_IN || g->op == RULES_OP_INTERSECTS) && g->set));
}

static uint32_t gkey_hash(unsigned field, const char *s, size_t len)
{
	uint32_t h = rules_strset_hash(s, len) ^ (field * 0x9E3779B1u);

	return h ? h : 1;
}

static int gidx_add(struct rules_arena *a, struct rules_gidx *gi, unsigned field,
		    const struct rules_cval *v, uint32_t pos)
{
	uint32_t h = gkey_hash(field, v->s, v->len), j = h & gi->mask;
	struct rules_gentry *e;
	size_t n, cap;
	uint32_t *slot;

	while (gi->slots[j].s) {
		e = &gi->slots[j];
		if (e->hash == h && e->field == field && e->len == v->len &&
		    !memcmp(e->s, v->s, v->len))
			break;
		j = (j + 1) & gi->mask;
	}
	e = &gi->slots[j];
	if (!e->s) {
		e->s = v->s;
		e->len = v->len;
		e->hash = h;
		e->field = (uint16_t)field;
	}
	if (e->npos && e->pos[e->npos - 1] == pos)
		return 0;
	n = e->npos;
	cap = e->cap;
	slot = rules_arena_push(a, (void **)&e->pos, &n, &cap, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = pos;
	e->npos = (uint32_t)n;
	e->cap = (uint32_t)cap;
	return 0;
}

/* Builds the guard index of type t (nothing when no rule qualifies). */
static int build_gidx(struct rules_set *rs, unsigned t)
{
	uint32_t n = rs->nindex[t] < RULES_GIDX_MAX_POS ? rs->nindex[t] : RULES_GIDX_MAX_POS;
	struct rules_gidx *gi;
	size_t values = 0, size = 16;

	for (uint32_t p = 0; p < n; p++) {
		const struct rules_crule *r = &rs->rules[rs->index[t][p]];
		bool all = r->nguards > 0;

		for (uint32_t g = 0; g < r->nguards; g++)
			all = all && guard_indexable(r->guards[g]);
		for (uint32_t g = 0; all && g < r->nguards; g++)
			values += r->guards[g]->n ? r->guards[g]->n : 1;
	}
	if (!values)
		return 0;
	while (size < values * 2)
		size <<= 1;
	gi = rules_arena_alloc(rs->a, sizeof(*gi));
	if (!gi)
		return -ENOMEM;
	gi->mask = (uint32_t)size - 1;
	gi->slots = rules_arena_alloc(rs->a, sizeof(*gi->slots) * size);
	gi->indexed = rules_arena_alloc(rs->a, n);
	if (!gi->slots || !gi->indexed)
		return -ENOMEM;
	for (uint32_t p = 0; p < n; p++) {
		const struct rules_crule *r = &rs->rules[rs->index[t][p]];
		bool all = r->nguards > 0;

		for (uint32_t g = 0; g < r->nguards; g++) {
			const struct rules_cx *x = r->guards[g];
			bool known = false;

			all = all && guard_indexable(x);
			for (uint32_t k = 0; k < gi->nfields; k++)
				known = known || gi->fields[k] == x->field;
			if (all && !known && gi->nfields == RULES_GIDX_MAX_FIELDS)
				all = false;
		}
		if (!all) {
			gi->always[p >> 6] |= 1ULL << (p & 63);
			continue;
		}
		for (uint32_t g = 0; g < r->nguards; g++) {
			const struct rules_cx *x = r->guards[g];
			bool known = false;

			for (uint32_t k = 0; k < gi->nfields; k++)
				known = known || gi->fields[k] == x->field;
			if (!known)
				gi->fields[gi->nfields++] = x->field;
			for (uint32_t v = 0; v < x->n; v++)
				if (gidx_add(rs->a, gi, x->field, &x->vals[v], p))
					return -ENOMEM;
		}
		gi->indexed[p] = 1;
	}
	rs->gidx[t] = gi;
	return 0;
}

static int build_index(struct rules_set *rs)
{
	for (unsigned t = 0; t < RULES_EVT__COUNT; t++) {
		uint32_t n = 0;

		for (size_t i = 0; i < rs->nrules; i++)
			if (rs->rules[i].active && (rs->rules[i].evmask[t >> 6] >> (t & 63) & 1))
				n++;
		if (!n)
			continue;
		rs->index[t] = rules_arena_alloc(rs->a, sizeof(uint32_t) * n);
		if (!rs->index[t])
			return -ENOMEM;
		for (size_t i = 0; i < rs->nrules; i++)
			if (rs->rules[i].active && (rs->rules[i].evmask[t >> 6] >> (t & 63) & 1))
				rs->index[t][rs->nindex[t]++] = (uint32_t)i;
		if (build_gidx(rs, t))
			return -ENOMEM;
	}
	return 0;
}

static int by_order(const void *a, const void *b)
{
	const struct rules_rule_item *x = *(const struct rules_rule_item *const *)a;
	const struct rules_rule_item *y = *(const struct rules_rule_item *const *)b;

	return (x->order > y->order) - (x->order < y->order);
}

int rules_compile(struct rules_items *it, struct rules_diags *d, struct rules_set **out)
{
	struct rules_set *rs = calloc(1, sizeof(*rs));
	struct cctx c = {.it = it, .d = d, .rs = rs};
	const struct rules_rule_item **order = NULL;
	int err = -ENOMEM;

	*out = NULL;
	if (!rs)
		return -ENOMEM;
	rs->a = rules_arena_new();
	c.a = rs->a;
	c.ms = calloc(it->nmacros ? it->nmacros : 1, sizeof(*c.ms));
	order = calloc(it->nrules ? it->nrules : 1, sizeof(*order));
	if (!rs->a || !c.ms || !order)
		goto out;
	if (parse_macros(&c))
		goto out;
	rs->nmemo = it->nmacros < RULES_MAX_MEMO ? it->nmacros : RULES_MAX_MEMO;
	rs->rules = rules_arena_alloc(rs->a, sizeof(*rs->rules) * (it->nrules ? it->nrules : 1));
	if (!rs->rules)
		goto out;
	for (size_t i = 0; i < it->nrules; i++)
		order[i] = &it->rules[i];
	qsort(order, it->nrules, sizeof(*order), by_order);
	rs->nrules = it->nrules;
	for (size_t i = 0; i < it->nrules && !c.nomem; i++) {
		compile_rule(&c, order[i], &rs->rules[i]);
		if (rs->rules[i].active)
			rs->nactive++;
	}
	if (c.nomem || build_index(rs))
		goto out;
	rs->plugin_names = rules_arena_alloc(rs->a, sizeof(char *) * (it->nplugins + 1));
	rs->plugin_versions = rules_arena_alloc(rs->a, sizeof(char *) * (it->nplugins + 1));
	if (!rs->plugin_names || !rs->plugin_versions)
		goto out;
	for (size_t i = 0; i < it->nplugins; i++) {
		size_t k;

		for (k = 0; k < rs->nplugins; k++)
			if (!strcmp(rs->plugin_names[k], it->plugins[i].name))
				break;
		if (k == rs->nplugins) {
			rs->plugin_names[k] = rules_arena_strdup(rs->a, it->plugins[i].name);
			rs->nplugins++;
		}
		/* the last file's requirement wins, as a later file overrides an earlier one */
		rs->plugin_versions[k] = rules_arena_strdup(rs->a, it->plugins[i].version);
		if (!rs->plugin_names[k] || !rs->plugin_versions[k])
			goto out;
	}
	err = 0;
out:
	free(c.ms);
	free(order);
	if (err) {
		rules_set_free(rs);
		return err;
	}
	*out = rs;
	return 0;
}
