/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: a bump allocator for the rules engine. Everything allocated from an arena is freed at once
 * with rules_arena_free(); nothing is freed individually. Used for loader scratch data and for the
 * compiled rule set (whose size rules_arena_used() reports). Not thread-safe while allocating.
 */
#ifndef VIGIL_LIB_RULES_ARENA_H
#define VIGIL_LIB_RULES_ARENA_H

#include <stddef.h>

struct rules_arena;

/* New empty arena (caller frees with rules_arena_free), or NULL. */
struct rules_arena *rules_arena_new(void);
void rules_arena_free(struct rules_arena *a);

/* n zeroed bytes, 8-aligned, owned by the arena; NULL on ENOMEM. */
void *rules_arena_alloc(struct rules_arena *a, size_t n);

/* Copies of text owned by the arena (NUL-terminated); NULL s gives NULL. */
char *rules_arena_strdup(struct rules_arena *a, const char *s);
char *rules_arena_strndup(struct rules_arena *a, const char *s, size_t n);

/* printf into the arena. */
char *rules_arena_printf(struct rules_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Grows the array *arr (elements of size sz, *n used, *cap capacity) to hold one more element and
 * returns a pointer to the new zeroed slot (n incremented); old storage stays in the arena. */
void *rules_arena_push(struct rules_arena *a, void **arr, size_t *n, size_t *cap, size_t sz);

/* Bytes obtained from the system for this arena (chunks included). */
size_t rules_arena_used(const struct rules_arena *a);

#endif
