/* SPDX-License-Identifier: Apache-2.0 */
/* diag: diagnostics list and printer. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rules/arena.h"
#include "lib/rules/diag.h"

struct rules_diags {
	struct rules_arena *arena;
	struct rules_diag *v;
	size_t n, cap;
	size_t errors, warnings;
};

struct rules_diags *rules_diags_new(void)
{
	struct rules_diags *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->arena = rules_arena_new();
	if (!d->arena) {
		free(d);
		return NULL;
	}
	return d;
}

void rules_diags_free(struct rules_diags *d)
{
	if (!d)
		return;
	rules_arena_free(d->arena);
	free(d);
}

int rules_diags_add(struct rules_diags *d, const char *file, int line, int col,
		    enum rules_severity sev, const char *kind, const char *name, const char *fmt,
		    ...)
{
	struct rules_diag *x;
	char buf[1024];
	va_list ap;

	if (!d)
		return 0;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	x = rules_arena_push(d->arena, (void **)&d->v, &d->n, &d->cap, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->file = rules_arena_strdup(d->arena, file ? file : "<input>");
	x->line = line;
	x->col = col;
	x->severity = sev;
	x->kind = rules_arena_strdup(d->arena, kind);
	x->name = rules_arena_strdup(d->arena, name);
	x->message = rules_arena_strdup(d->arena, buf);
	if (sev == RULES_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
	return 0;
}

size_t rules_diags_count(const struct rules_diags *d)
{
	return d ? d->n : 0;
}

size_t rules_diags_errors(const struct rules_diags *d)
{
	return d ? d->errors : 0;
}

size_t rules_diags_warnings(const struct rules_diags *d)
{
	return d ? d->warnings : 0;
}

const struct rules_diag *rules_diags_get(const struct rules_diags *d, size_t i)
{
	return d && i < d->n ? &d->v[i] : NULL;
}

void rules_diags_print(const struct rules_diags *d, FILE *f)
{
	for (size_t i = 0; d && i < d->n; i++) {
		const struct rules_diag *x = &d->v[i];

		fprintf(f, "%s:%d:%d: %s: ", x->file, x->line, x->col,
			x->severity == RULES_SEV_ERROR ? "error" : "warning");
		if (x->kind && x->name)
			fprintf(f, "%s '%s': ", x->kind, x->name);
		else if (x->kind)
			fprintf(f, "%s: ", x->kind);
		fprintf(f, "%s\n", x->message);
	}
}

static size_t file_rank(const char *file, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], file))
			return i;
	return n;
}

void rules_diags_sort(struct rules_diags *d, const char *const *names, size_t n)
{
	/* insertion sort: lists are short and mostly ordered already */
	for (size_t i = 1; d && i < d->n; i++) {
		struct rules_diag x = d->v[i];
		size_t rx = file_rank(x.file, names, n), j = i;

		while (j > 0) {
			const struct rules_diag *y = &d->v[j - 1];
			size_t ry = file_rank(y->file, names, n);

			if (ry < rx || (ry == rx && (y->line < x.line ||
						     (y->line == x.line && y->col <= x.col))))
				break;
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = x;
	}
}
