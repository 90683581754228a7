/* SPDX-License-Identifier: Apache-2.0 */
/* tjson: in-place JSON parsing into a flat node array. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/tjson.h"

#define MAX_DEPTH 32

struct parser {
	char *p, *end;
	struct tj_node *n;
	size_t count, cap;
	const char *err;
	int depth;
};

static void ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int new_node(struct parser *ps, uint8_t type)
{
	if (ps->count == ps->cap) {
		ps->err = "too many values";
		return -1;
	}
	memset(&ps->n[ps->count], 0, sizeof(ps->n[0]));
	ps->n[ps->count].type = type;
	ps->n[ps->count].child = -1;
	ps->n[ps->count].next = -1;
	return (int)ps->count++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*w++ = (char)(0x80 | (cp & 0x3f));
	}
	return w;
}

/* Decodes the string at ps->p (on its opening quote) in place; out and len get the text. */
static int string(struct parser *ps, const char **out, uint32_t *len)
{
	char *w = ps->p, *start = ps->p;

	ps->p++;
	for (;;) {
		char c;

		if (ps->p >= ps->end) {
			ps->err = "unterminated string";
			return -1;
		}
		c = *ps->p++;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20) {
			ps->err = "control character in string";
			return -1;
		}
		if (c != '\\') {
			*w++ = c;
			continue;
		}
		if (ps->p >= ps->end) {
			ps->err = "unterminated string";
			return -1;
		}
		c = *ps->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			*w++ = c;
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'u': {
			unsigned cp, lo;

			if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) {
				ps->err = "bad \\u escape";
				return -1;
			}
			ps->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 &&
			    ps->p[0] == '\\' && ps->p[1] == 'u' && !hex4(ps->p + 2, &lo) &&
			    lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				ps->p += 6;
			}
			if (cp == 0) {
				ps->err = "NUL in string";
				return -1;
			}
			/* a \u escape is 6 bytes, its UTF-8 at most 4: writing stays behind reading
			 */
			w = put_utf8(w, cp);
			break;
		}
		default:
			ps->err = "bad escape";
			return -1;
		}
	}
	*w = '\0';
	*out = start;
	*len = (uint32_t)(w - start);
	return 0;
}

static int value(struct parser *ps);

static int container(struct parser *ps, bool obj)
{
	int self = new_node(ps, obj ? TJ_OBJ : TJ_ARR), prev = -1;

	if (self < 0)
		return -1;
	if (++ps->depth > MAX_DEPTH) {
		ps->err = "nested too deeply";
		return -1;
	}
	ps->p++;
	ws(ps);
	if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
		ps->p++;
		ps->depth--;
		return self;
	}
	for (;;) {
		const char *key = NULL;
		uint32_t klen;
		int kid;

		ws(ps);
		if (obj) {
			if (ps->p >= ps->end || *ps->p != '"') {
				ps->err = "expected a member name";
				return -1;
			}
			if (string(ps, &key, &klen))
				return -1;
			ws(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				ps->err = "expected ':'";
				return -1;
			}
			ps->p++;
		}
		kid = value(ps);
		if (kid < 0)
			return -1;
		ps->n[kid].key = key;
		if (prev < 0)
			ps->n[self].child = kid;
		else
			ps->n[prev].next = kid;
		prev = kid;
		ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) {
			ps->p++;
			ps->depth--;
			return self;
		}
		ps->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
		return -1;
	}
}

static int word(struct parser *ps, const char *w, uint8_t type, int64_t v)
{
	size_t n = strlen(w);
	int self;

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n)) {
		ps->err = "invalid value";
		return -1;
	}
	ps->p += n;
	self = new_node(ps, type);
	if (self >= 0)
		ps->n[self].i = v;
	return self;
}

static int number(struct parser *ps)
{
	char *start = ps->p, *q = ps->p, *end;
	int self;
	bool frac = false;

	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || *q < '0' || *q > '9') {
		ps->err = "invalid value";
		return -1;
	}
	while (q < ps->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
			       *q == '+' || *q == '-')) {
		frac = frac || *q == '.' || *q == 'e' || *q == 'E';
		q++;
	}
	self = new_node(ps, TJ_NUM);
	if (self < 0)
		return -1;
	ps->n[self].s = start;
	ps->n[self].len = (uint32_t)(q - start);
	if (!frac) {
		char c = *q;

		/* the byte after a number is never part of another token's text we still need */
		*q = '\0';
		errno = 0;
		ps->n[self].i = strtoll(start, &end, 10);
		ps->n[self].is_int = errno == 0 && end == q;
		*q = c;
	}
	ps->p = q;
	return self;
}

static int value(struct parser *ps)
{
	int self;

	ws(ps);
	if (ps->p >= ps->end) {
		ps->err = "unexpected end";
		return -1;
	}
	switch (*ps->p) {
	case '{':
		return container(ps, true);
	case '[':
		return container(ps, false);
	case '"':
		self = new_node(ps, TJ_STR);
		if (self < 0 || string(ps, &ps->n[self].s, &ps->n[self].len))
			return -1;
		return self;
	case 't':
		return word(ps, "true", TJ_BOOL, 1);
	case 'f':
		return word(ps, "false", TJ_BOOL, 0);
	case 'n':
		return word(ps, "null", TJ_NULL, 0);
	default:
		return number(ps);
	}
}

int tj_parse(const char *text, size_t len, struct tj_doc *doc, char *err, size_t errlen)
{
	size_t cap = len / 2 + 2;
	struct parser ps = {0};
	char *mem;

	memset(doc, 0, sizeof(*doc));
	mem = malloc(cap * sizeof(struct tj_node) + len + 1);
	if (!mem)
		return -ENOMEM;
	ps.n = (struct tj_node *)mem;
	ps.cap = cap;
	ps.p = mem + cap * sizeof(struct tj_node);
	memcpy(ps.p, text, len);
	ps.p[len] = '\0';
	ps.end = ps.p + len;
	if (value(&ps) < 0 || (ws(&ps), ps.p != ps.end)) {
		if (err && errlen)
			snprintf(err, errlen, "invalid JSON: %s",
				 ps.err ? ps.err : "text after the value");
		free(mem);
		return -EINVAL;
	}
	doc->n = ps.n;
	doc->count = ps.count;
	doc->mem = mem;
	return 0;
}

void tj_free(struct tj_doc *doc)
{
	if (!doc)
		return;
	free(doc->mem);
	doc->mem = NULL;
	doc->n = NULL;
	doc->count = 0;
}

const struct tj_node *tj_get(const struct tj_doc *doc, const struct tj_node *obj, const char *key)
{
	if (!obj || obj->type != TJ_OBJ)
		return NULL;
	for (int32_t k = obj->child; k >= 0; k = doc->n[k].next)
		if (!strcmp(doc->n[k].key, key))
			return &doc->n[k];
	return NULL;
}
