/* SPDX-License-Identifier: Apache-2.0 */
/* arena: chunked bump allocation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/arena.h"

#define CHUNK_MIN (32 * 1024)

struct chunk {
	struct chunk *next;
	size_t size;
	size_t used;
	char data[];
};

struct rules_arena {
	struct chunk *head;
	size_t total;
};

struct rules_arena *rules_arena_new(void)
{
	return calloc(1, sizeof(struct rules_arena));
}

void rules_arena_free(struct rules_arena *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *rules_arena_alloc(struct rules_arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (!n)
		n = 8;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		/* keep the partly used head first when the new chunk is a one-off big block */
		if (a->head && n > CHUNK_MIN) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += sizeof(*c) + size;
	}
	p = c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *rules_arena_strndup(struct rules_arena *a, const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = rules_arena_alloc(a, n + 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

char *rules_arena_strdup(struct rules_arena *a, const char *s)
{
	return s ? rules_arena_strndup(a, s, strlen(s)) : NULL;
}

char *rules_arena_printf(struct rules_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = rules_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void *rules_arena_push(struct rules_arena *a, void **arr, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *p = rules_arena_alloc(a, ncap * sz);

		if (!p)
			return NULL;
		if (*n)
			memcpy(p, *arr, *n * sz);
		*arr = p;
		*cap = ncap;
	}
	return (char *)*arr + (*n)++ * sz;
}

size_t rules_arena_used(const struct rules_arena *a)
{
	return a ? a->total + sizeof(*a) : 0;
}
