/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules/reload: the sensor's active rule set, loaded from -r files/directories and reloaded when
 * they change.
 *
 * Changes are seen with inotify on each directory given (and on the parent directory of each
 * file, so editors that replace files and Kubernetes' ConfigMap "..data" symlink swap are both
 * seen). A reload waits until the paths have been quiet for `debounce_ms`, then loads the whole set
 * again; only a set that loads without errors replaces the active one, so files arriving one by
 * one never leave a half-loaded set. A failed load keeps the last good set and is reported through
 * the callback (health, metrics and an internal alert are the caller's).
 *
 * Single-threaded: call reload_poll from the thread that evaluates, so the swap is atomic with
 * respect to evaluation; the old set is freed at once.
 */
#ifndef VIGIL_SENSOR_RULES_RELOAD_H
#define VIGIL_SENSOR_RULES_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

struct rules_set;
struct rules_diags;

/* What a load attempt did. message: "" on success, else the first error as
 * "FILE:LINE:COL: message" (owned by the reloader, valid until the next attempt). */
struct reload_result {
	bool ok;
	bool changed; /* a new set became active */
	const char *message;
	const char *hash; /* of the active set, NULL when none */
	size_t rule_count;
	size_t errors, warnings;
};

typedef void (*reload_fn)(void *ctx, const struct reload_result *r);

struct reloader;

/* New reloader over paths (borrowed, copied). Loads once now and reports through fn (may be NULL).
 * Returns 0 (also when the first load failed: see the callback) or -errno (inotify). */
int reload_new(const char *const *paths, size_t n, int debounce_ms, reload_fn fn, void *ctx,
	       struct reloader **out);

/* The active set (borrowed, valid until the next reload_poll/reload_now) or NULL. */
struct rules_set *reload_active(struct reloader *r);

/* inotify fd to wait on (readable when something changed), or -1. */
int reload_fd(struct reloader *r);

/* Drains inotify and reloads when the debounce time has passed. Cheap when nothing changed.
 * Returns the milliseconds until a pending reload is due (for the caller's poll timeout), or -1. */
int reload_poll(struct reloader *r);

/* Loads now, regardless of changes. */
void reload_now(struct reloader *r);

void reload_free(struct reloader *r);

#endif
