/* SPDX-License-Identifier: Apache-2.0 */
/* sbuf: growing text buffer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/sbuf.h"

void rules_sbuf_add(struct rules_sbuf *b, const char *s, size_t n)
{
	if (b->nomem)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->nomem = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	if (n)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void rules_sbuf_str(struct rules_sbuf *b, const char *s)
{
	rules_sbuf_add(b, s, strlen(s));
}

void rules_sbuf_json(struct rules_sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	rules_sbuf_add(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = {'\\', 0};

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			rules_sbuf_add(b, esc, 2);
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			rules_sbuf_add(b, esc, 2);
		} else if (c < 0x20) {
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			rules_sbuf_add(b, esc, 6);
		} else {
			size_t j = i;

			while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
				j++;
			rules_sbuf_add(b, s + i, j - i);
			i = j - 1;
		}
	}
	rules_sbuf_add(b, "\"", 1);
}

void rules_sbuf_printf(struct rules_sbuf *b, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf)) {
		rules_sbuf_add(b, buf, (size_t)n);
		return;
	}
	{
		char *big = malloc((size_t)n + 1);

		if (!big) {
			b->nomem = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		rules_sbuf_add(b, big, (size_t)n);
		free(big);
	}
}
