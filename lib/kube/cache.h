/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/cache: a thread-safe store of one kind of object, keyed "namespace/name" (or "name" for
 * cluster-scoped objects), filled by a kube_watch.
 *
 * READ-ONLY for everyone but the watch that owns it: getters return new references to the
 * shared cached json_t; callers must json_decref them and must NEVER modify them (use
 * json_deep_copy to build an update). A rwlock protects the map; jansson refcounts are atomic.
 */
#ifndef VIGIL_LIB_KUBE_CACHE_H
#define VIGIL_LIB_KUBE_CACHE_H

#include <stddef.h>
#include <jansson.h>

struct kube_cache;

/* New empty cache (caller frees), NULL on ENOMEM. */
struct kube_cache *kube_cache_new(void);

/* Frees the cache and drops its references. NULL allowed. */
void kube_cache_free(struct kube_cache *c);

/* Writes obj's key ("ns/name" or "name") into buf. Returns length, -EINVAL (no metadata.name)
 * or -ENAMETOOLONG. obj borrowed. */
int kube_cache_key(json_t *obj, char *buf, size_t len);

/* The object under key ("ns/name" or "name"): new reference (caller decrefs), or NULL. */
json_t *kube_cache_get(struct kube_cache *c, const char *key);

/* Same with the parts; ns NULL or "" for cluster-scoped objects. */
json_t *kube_cache_get_nn(struct kube_cache *c, const char *ns, const char *name);

/* Snapshot of all objects, sorted by key: a new JSON array (caller decrefs) holding references
 * to the cached objects (read-only, as above). Never NULL except on ENOMEM. */
json_t *kube_cache_list(struct kube_cache *c);

/* Snapshot of the keys, sorted: a new JSON array of strings (caller decrefs). */
json_t *kube_cache_keys(struct kube_cache *c);

/* Number of objects. */
size_t kube_cache_len(struct kube_cache *c);

/* --- writer side, used by kube_watch (and tests) --- */

/* Stores obj (a reference is TAKEN) under its key. *old, if old is not NULL, gets the
 * replaced object (new reference, caller decrefs) or NULL. Returns 0, -EINVAL or -ENOMEM
 * (obj released on failure). */
int kube_cache_put(struct kube_cache *c, json_t *obj, json_t **old);

/* Removes key; *old (if asked) gets the removed object (new reference) or NULL. Returns 0 or
 * -ENOENT. */
int kube_cache_remove(struct kube_cache *c, const char *key, json_t **old);

#endif
