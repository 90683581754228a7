/* SPDX-License-Identifier: Apache-2.0 */
/* eval: compiled conditions against one event. No allocation, no locks. */
#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/rules/compile.h"
#include "lib/rules/rules.h"

/* Up to this many values for a multi-valued field (ancestors, env, fd.types, both ends). */
#define MAXV 64

static bool has(const struct rules_event *ev, unsigned f)
{
	return (ev->set[f >> 6] >> (f & 63)) & 1;
}

static int one_str(const char *s, struct rules_value *out)
{
	if (!s)
		return 0;
	out->s = s;
	out->len = (uint32_t)strlen(s);
	out->n = 0;
	return 1;
}

/* Values of the field x refers to: returns how many were written to out (0: absent). */
int rules_eval_values(const struct rules_cx *x, const struct rules_event *ev,
		      struct rules_value *out)
{
	unsigned f = x->field;
	int n = 0;

	switch (f) {
	case RULES_F_EVT_ARG:
		if (x->key) {
			for (unsigned i = 0; i < ev->nargs; i++)
				if (ev->args[i].klen == x->keylen &&
				    !memcmp(ev->args[i].key, x->key, x->keylen))
					return one_str(ev->args[i].val, out);
			return 0;
		}
		return x->idx >= 0 && x->idx < ev->nargs ? one_str(ev->args[x->idx].val, out) : 0;
	case RULES_F_PROC_ANAME:
	case RULES_F_PROC_AEXE:
	case RULES_F_PROC_AEXEPATH:
	case RULES_F_PROC_APID: {
		const char *const *arr = f == RULES_F_PROC_ANAME  ? ev->anc_name
					 : f == RULES_F_PROC_AEXE ? ev->anc_exe
								  : ev->anc_exepath;
		unsigned self = f == RULES_F_PROC_ANAME	     ? RULES_F_PROC_NAME
				: f == RULES_F_PROC_AEXE     ? RULES_F_PROC_EXE
				: f == RULES_F_PROC_AEXEPATH ? RULES_F_PROC_EXEPATH
							     : RULES_F_PROC_PID;

		if (x->idx == 0) {
			if (!has(ev, self))
				return 0;
			*out = ev->v[self];
			return 1;
		}
		for (unsigned i = x->idx > 0 ? (unsigned)x->idx - 1 : 0; i < ev->nanc; i++) {
			if (f == RULES_F_PROC_APID) {
				out[n].s = NULL;
				out[n].len = 0;
				out[n].n = ev->anc_pid[i];
				n++;
			} else {
				n += one_str(arr[i], &out[n]);
			}
			if (x->idx > 0 || n >= MAXV)
				break;
		}
		return n;
	}
	case RULES_F_PROC_ENV:
		for (unsigned i = 0; i < ev->nenv && n < MAXV; i++) {
			const struct rules_kv *e = &ev->env[i];

			if (!x->key) {
				n += one_str(e->val, &out[n]);
			} else if (e->klen == x->keylen && !memcmp(e->key, x->key, x->keylen) &&
				   e->vlen > e->klen) {
				out[0].s = e->val + e->klen + 1;
				out[0].len = e->vlen - e->klen - 1;
				return 1;
			}
		}
		if (!x->key && !n && has(ev, f)) {
			*out = ev->v[f];
			return 1;
		}
		return x->key ? 0 : n;
	case RULES_F_CONTAINER_MOUNT_DEST:
		for (unsigned i = 0; i < ev->nmounts; i++)
			if (ev->mounts[i].key && !fnmatch(x->key, ev->mounts[i].key, 0))
				return one_str(ev->mounts[i].val, out);
		return 0;
	case RULES_F_FD_TYPES:
		if (x->idx >= 0)
			return x->idx < ev->ntypes ? one_str(ev->types[x->idx], out) : 0;
		for (unsigned i = 0; i < ev->ntypes && n < MAXV; i++)
			n += one_str(ev->types[i], &out[n]);
		return n;
	case RULES_F_FD_IP:
	case RULES_F_FD_NET:
	case RULES_F_FD_PORT: {
		unsigned c = f == RULES_F_FD_PORT ? RULES_F_FD_CPORT : RULES_F_FD_CIP;
		unsigned s = f == RULES_F_FD_PORT ? RULES_F_FD_SPORT : RULES_F_FD_SIP;

		if (has(ev, c) || has(ev, s)) {
			if (has(ev, c))
				out[n++] = ev->v[c];
			if (has(ev, s))
				out[n++] = ev->v[s];
			return n;
		}
		break;
	}
	default:
		break;
	}
	if (!has(ev, f))
		return 0;
	*out = ev->v[f];
	return 1;
}

/* memmem for short texts: glibc's setup cost dominates for our few-byte needles */
static inline bool has_sub(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl == 0)
		return true;
	if (nl > hl)
		return false;
	for (const char *p = h, *end = h + hl - nl + 1; p < end;) {
		const char *q = memchr(p, n[0], (size_t)(end - p));

		if (!q)
			return false;
		if (!memcmp(q + 1, n + 1, nl - 1))
			return true;
		p = q + 1;
	}
	return false;
}

static bool icontains(const char *h, size_t hl, const char *n, size_t nl)
{
	if (nl == 0)
		return true;
	for (size_t i = 0; i + nl <= hl; i++) {
		size_t k = 0;

		while (k < nl && tolower((unsigned char)h[i + k]) == tolower((unsigned char)n[k]))
			k++;
		if (k == nl)
			return true;
	}
	return false;
}

/* NUL-terminated view of v (copies into buf when v is a slice). */
static const char *cstr(const struct rules_value *v, char *buf, size_t blen)
{
	size_t n;

	if (v->s[v->len] == '\0')
		return v->s;
	n = v->len < blen - 1 ? v->len : blen - 1;
	memcpy(buf, v->s, n);
	buf[n] = '\0';
	return buf;
}

static bool set_has(const struct rules_strset *set, const char *s, uint32_t len, uint32_t h)
{
	uint32_t j = h & set->mask;

	while (set->slots[j].s) {
		if (set->slots[j].hash == h && set->slots[j].len == len &&
		    !memcmp(set->slots[j].s, s, len))
			return true;
		j = (j + 1) & set->mask;
	}
	return false;
}

static bool ip_match(const struct rules_cx *x, const struct rules_value *v)
{
	uint8_t ip[16];
	char buf[64];
	int fam;

	if (!v->s || v->len >= sizeof(buf))
		return false;
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
	if (inet_pton(AF_INET, buf, ip) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip) == 1)
		fam = AF_INET6;
	else
		return false;
	for (uint32_t i = 0; i < x->n; i++) {
		const struct rules_cval *c = &x->vals[i];
		unsigned bits = c->prefix, full = bits / 8, rest = bits % 8;

		if (c->family != fam)
			continue;
		if (memcmp(ip, c->ip, full))
			continue;
		if (rest && ((ip[full] ^ c->ip[full]) & (uint8_t)(0xff << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

static int strcmp_len(const char *a, uint32_t al, const char *b, uint32_t bl)
{
	int r = memcmp(a, b, al < bl ? al : bl);

	return r ? r : (al > bl) - (al < bl);
}

/* glob / regex need NUL-terminated text: kept out of the hot path (the buffer is big). */
static __attribute__((noinline)) bool cmp_pattern(const struct rules_cx *x,
						  const struct rules_value *v)
{
	char buf[4096];
	const char *s = cstr(v, buf, sizeof(buf));

	if (x->op == RULES_OP_REGEX)
		return x->re && !regexec(x->re, s, 0, NULL, 0);
	return !fnmatch(x->vals[0].s, s, x->op == RULES_OP_IGLOB ? FNM_CASEFOLD : 0);
}

/* One value against the comparison; hash is the value's string hash or 0 to compute it. */
static bool cmp_one(const struct rules_cx *x, const struct rules_value *v, uint32_t hash)
{
	const struct rules_cval *c = x->vals;

	if (x->ftype == RULES_FT_NUM || x->ftype == RULES_FT_BOOL) {
		switch (x->op) {
		case RULES_OP_EQ:
			return v->n == c->n;
		case RULES_OP_NE:
			return v->n != c->n;
		case RULES_OP_LT:
			return v->n < c->n;
		case RULES_OP_LE:
			return v->n <= c->n;
		case RULES_OP_GT:
			return v->n > c->n;
		case RULES_OP_GE:
			return v->n >= c->n;
		case RULES_OP_IN:
		case RULES_OP_INTERSECTS:
			for (uint32_t i = 0; i < x->n; i++)
				if (v->n == c[i].n)
					return true;
			return false;
		default:
			return false;
		}
	}
	if (x->ftype == RULES_FT_IP &&
	    (x->op == RULES_OP_EQ || x->op == RULES_OP_NE || x->op == RULES_OP_IN))
		return ip_match(x, v) != (x->op == RULES_OP_NE);
	if (!v->s)
		return false;
	switch (x->op) {
	case RULES_OP_EQ:
		return v->len == c->len && !memcmp(v->s, c->s, c->len);
	case RULES_OP_NE:
		return !(v->len == c->len && !memcmp(v->s, c->s, c->len));
	case RULES_OP_LT:
		return strcmp_len(v->s, v->len, c->s, c->len) < 0;
	case RULES_OP_LE:
		return strcmp_len(v->s, v->len, c->s, c->len) <= 0;
	case RULES_OP_GT:
		return strcmp_len(v->s, v->len, c->s, c->len) > 0;
	case RULES_OP_GE:
		return strcmp_len(v->s, v->len, c->s, c->len) >= 0;
	case RULES_OP_CONTAINS:
	case RULES_OP_BCONTAINS:
		return has_sub(v->s, v->len, c->s, c->len);
	case RULES_OP_ICONTAINS:
		return icontains(v->s, v->len, c->s, c->len);
	case RULES_OP_STARTSWITH:
	case RULES_OP_BSTARTSWITH:
		return v->len >= c->len && !memcmp(v->s, c->s, c->len);
	case RULES_OP_ENDSWITH:
		return v->len >= c->len && !memcmp(v->s + v->len - c->len, c->s, c->len);
	case RULES_OP_GLOB:
	case RULES_OP_IGLOB:
	case RULES_OP_REGEX:
		return cmp_pattern(x, v);
	case RULES_OP_IN:
	case RULES_OP_INTERSECTS:
		return x->set &&
		       set_has(x->set, v->s, v->len, hash ? hash : rules_strset_hash(v->s, v->len));
	case RULES_OP_PMATCH:
		for (uint32_t i = 0; i < x->n; i++) {
			uint32_t pl = c[i].len;

			while (pl > 1 && c[i].s[pl - 1] == '/')
				pl--;
			if (v->len >= pl && !memcmp(v->s, c[i].s, pl) &&
			    (v->len == pl || v->s[pl] == '/' || c[i].s[pl - 1] == '/'))
				return true;
		}
		return false;
	default:
		return false;
	}
}

static __attribute__((noinline)) bool eval_cmp_multi(const struct rules_cx *x,
						     const struct rules_event *ev)
{
	struct rules_value v[MAXV];
	int n = rules_eval_values(x, ev, v);

	if (x->op == RULES_OP_EXISTS)
		return n > 0;
	for (int i = 0; i < n; i++)
		if (cmp_one(x, &v[i], 0))
			return true;
	return false;
}

bool rules_cx_eval(const struct rules_cx *x, struct rules_eval_ctx *ctx);

static inline __attribute__((always_inline)) bool eval_cmp(const struct rules_cx *x,
							   struct rules_eval_ctx *ctx)
{
	const struct rules_event *ev = ctx->ev;
	unsigned f = x->field;
	uint32_t h = 0;

	if (!x->simple)
		return eval_cmp_multi(x, ev);
	if (!has(ev, f))
		return false;
	if (x->op == RULES_OP_EXISTS)
		return true;
	if (x->set) {
		/* a field's hash is computed once per event */
		if ((ctx->hashed[f >> 6] >> (f & 63)) & 1) {
			h = ctx->hash[f];
		} else {
			h = rules_strset_hash(ev->v[f].s, ev->v[f].len);
			ctx->hash[f] = h;
			ctx->hashed[f >> 6] |= 1ULL << (f & 63);
		}
		return set_has(x->set, ev->v[f].s, ev->v[f].len, h);
	}
	if (x->op == RULES_OP_EQ && x->ftype == RULES_FT_STR)
		return ev->v[f].len == x->vals[0].len &&
		       !memcmp(ev->v[f].s, x->vals[0].s, x->vals[0].len);
	return cmp_one(x, &ev->v[f], h);
}

/* Evaluates a kid without a call when it is a leaf or a memoised macro (the common case). */
static inline bool kid_eval(const struct rules_cx *k, struct rules_eval_ctx *ctx)
{
	if (k->kind == RULES_CX_CMP && k->simple) {
		unsigned f = k->field;

		if (!has(ctx->ev, f))
			return false;
		if (k->op == RULES_OP_EXISTS)
			return true;
		if (k->op == RULES_OP_EQ && k->ftype == RULES_FT_STR)
			return ctx->ev->v[f].len == k->vals[0].len &&
			       !memcmp(ctx->ev->v[f].s, k->vals[0].s, k->vals[0].len);
		return eval_cmp(k, ctx);
	}
	if (k->kind == RULES_CX_MEMO) {
		unsigned m = (unsigned)k->idx;

		if ((ctx->memo_done[m >> 6] >> (m & 63)) & 1)
			return (ctx->memo_val[m >> 6] >> (m & 63)) & 1;
	}
	if (k->kind == RULES_CX_EVTTYPE) {
		unsigned t = ctx->ev->type < RULES_EVT__COUNT ? ctx->ev->type : 0;
		bool in = (k->evmask[t >> 6] >> (t & 63)) & 1;

		return k->op == RULES_OP_NE ? !in : in;
	}
	return rules_cx_eval(k, ctx);
}

bool rules_cx_eval_cmp(const struct rules_cx *x, struct rules_eval_ctx *ctx)
{
	return eval_cmp(x, ctx);
}

bool rules_cx_eval(const struct rules_cx *x, struct rules_eval_ctx *ctx)
{
	switch (x->kind) {
	case RULES_CX_AND:
		for (uint32_t i = 0; i < x->n; i++)
			if (!kid_eval(x->kids[i], ctx))
				return false;
		return true;
	case RULES_CX_OR:
		for (uint32_t i = 0; i < x->n; i++)
			if (kid_eval(x->kids[i], ctx))
				return true;
		return false;
	case RULES_CX_NOT:
		return !kid_eval(x->kids[0], ctx);
	case RULES_CX_MEMO: {
		unsigned m = (unsigned)x->idx;
		bool r;

		if ((ctx->memo_done[m >> 6] >> (m & 63)) & 1)
			return (ctx->memo_val[m >> 6] >> (m & 63)) & 1;
		r = kid_eval(x->kids[0], ctx);
		ctx->memo_done[m >> 6] |= 1ULL << (m & 63);
		if (r)
			ctx->memo_val[m >> 6] |= 1ULL << (m & 63);
		return r;
	}
	case RULES_CX_EVTTYPE: {
		unsigned t = ctx->ev->type < RULES_EVT__COUNT ? ctx->ev->type : 0;
		bool in = (x->evmask[t >> 6] >> (t & 63)) & 1;

		return x->op == RULES_OP_NE ? !in : in;
	}
	case RULES_CX_CMP:
		return eval_cmp(x, ctx);
	case RULES_CX_TRUE:
		return true;
	default:
		return false;
	}
}

/* One rule: its guards (unless the guard index already passed them), then its tree. */
static inline bool eval_rule(const struct rules_crule *cr, struct rules_eval_ctx *ctx,
			     bool guards_passed)
{
	if (!guards_passed && cr->nguards) {
		bool pass = false;

		for (uint32_t g = 0; g < cr->nguards && !pass; g++)
			pass = eval_cmp(cr->guards[g], ctx);
		if (!pass)
			return false;
	}
	return rules_cx_eval(cr->cx, ctx);
}

size_t rules_set_eval(const struct rules_set *rs, const struct rules_event *ev, bool all,
		      size_t *hits, size_t max)
{
	struct rules_eval_ctx ctx;
	const struct rules_gidx *gi;
	uint64_t pass[RULES_GIDX_MAX_POS / 64];
	unsigned t, words;
	size_t n = 0;

	if (!rs || !ev || !max)
		return 0;
	t = ev->type < RULES_EVT__COUNT ? ev->type : 0;
	if (!rs->nindex[t])
		return 0;
	/* only the memo words this set uses need clearing */
	words = (unsigned)((rs->nmemo + 63) / 64);
	memset(ctx.memo_done, 0, words * sizeof(uint64_t));
	memset(ctx.memo_val, 0, words * sizeof(uint64_t));
	memset(ctx.hashed, 0, sizeof(ctx.hashed));
	ctx.ev = ev;
	gi = rs->gidx[t];
	if (gi) {
		/* one probe per guarded field marks every rule whose guard this event passes */
		memset(pass, 0,
		       sizeof(uint64_t) *
			   ((rs->nindex[t] + 63) / 64 < 16 ? (rs->nindex[t] + 63) / 64 : 16));
		for (uint32_t k = 0; k < gi->nfields; k++) {
			unsigned f = gi->fields[k];
			const struct rules_value *v = &ev->v[f];
			uint32_t h, j;

			if (!has(ev, f))
				continue;
			h = rules_strset_hash(v->s, v->len);
			ctx.hash[f] = h;
			ctx.hashed[f >> 6] |= 1ULL << (f & 63);
			h ^= f * 0x9E3779B1u;
			h = h ? h : 1;
			for (j = h & gi->mask; gi->slots[j].s; j = (j + 1) & gi->mask) {
				const struct rules_gentry *e = &gi->slots[j];

				if (e->hash == h && e->field == f && e->len == v->len &&
				    !memcmp(e->s, v->s, v->len)) {
					for (uint32_t q = 0; q < e->npos; q++)
						pass[e->pos[q] >> 6] |= 1ULL << (e->pos[q] & 63);
					break;
				}
			}
		}
	}
	if (gi) {
		/* candidates: rules the map passed plus rules it can't decide, in order */
		uint32_t np =
		    rs->nindex[t] < RULES_GIDX_MAX_POS ? rs->nindex[t] : RULES_GIDX_MAX_POS;

		for (uint32_t w = 0; w < (np + 63) / 64; w++) {
			uint64_t cand = pass[w] | gi->always[w];

			while (cand) {
				uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(cand);
				uint32_t r = rs->index[t][i];

				cand &= cand - 1;
				if (eval_rule(&rs->rules[r], &ctx, gi->indexed[i])) {
					hits[n++] = r;
					if (!all || n == max)
						return n;
				}
			}
		}
		for (uint32_t i = np; i < rs->nindex[t]; i++) {
			uint32_t r = rs->index[t][i];

			if (eval_rule(&rs->rules[r], &ctx, false)) {
				hits[n++] = r;
				if (!all || n == max)
					return n;
			}
		}
		return n;
	}
	for (uint32_t i = 0; i < rs->nindex[t]; i++) {
		uint32_t r = rs->index[t][i];

		if (eval_rule(&rs->rules[r], &ctx, false)) {
			hits[n++] = r;
			if (!all || n == max)
				break;
		}
	}
	return n;
}
