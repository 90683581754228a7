/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sbuf: a growing text buffer with JSON string escaping, for alerts and trace lines. The text is
 * always NUL-terminated once anything was added; after an allocation failure further adds are
 * ignored and nomem is set. Release with free(b->s).
 */
#ifndef VIGIL_LIB_RULES_SBUF_H
#define VIGIL_LIB_RULES_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct rules_sbuf {
	char *s;
	size_t len, cap;
	bool nomem;
};

void rules_sbuf_add(struct rules_sbuf *b, const char *s, size_t n);
void rules_sbuf_str(struct rules_sbuf *b, const char *s);
/* s[0..n) as a JSON string literal with quotes. */
void rules_sbuf_json(struct rules_sbuf *b, const char *s, size_t n);
void rules_sbuf_printf(struct rules_sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
