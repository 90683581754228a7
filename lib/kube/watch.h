/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kube/watch: list+watch of one resource kind (an "informer") in its own thread, feeding a
 * kube_cache and calling user callbacks.
 *
 * Loop: LIST (paginated) -> deliver the differences from the cache as added/updated/deleted ->
 * "synced" after the first list -> WATCH from the list's resourceVersion with
 * allowWatchBookmarks=true and a random timeoutSeconds in [timeout_min_s, timeout_max_s] ->
 * apply events -> when the stream ends, watch again from the last resourceVersion seen.
 * resourceVersion is an opaque string, never compared as a number; BOOKMARK events only move it.
 * 410 Gone / Expired (as the HTTP status or as an ERROR event in the stream) -> relist, then
 * watch again; objects that disappeared meanwhile are delivered as deleted.
 * No bytes for idle_timeout_ms -> the connection is considered dead and is reopened.
 * Failures back off from backoff_initial_ms doubling to backoff_max_ms, with +-20% jitter; the
 * backoff resets once a watch delivered an event.
 *
 * CALLBACK CONTRACT: callbacks run on the watch thread, one at a time, in stream order, AFTER the
 * cache was updated (so kube_cache_get already returns `obj`). Objects passed are borrowed
 * and read-only: json_incref to keep one beyond the call. Callbacks should be quick (enqueue a
 * key) and must not call kube_watch_stop on their own watch. `old` is the previous cached
 * object; for deleted it is the last known state (from the DELETED event, or from the cache
 * when the deletion was found by a relist).
 */
#ifndef VIGIL_LIB_KUBE_WATCH_H
#define VIGIL_LIB_KUBE_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/kube/cache.h"
#include "lib/kube/client.h"
#include "lib/kube/path.h"

struct kube_watch;

struct kube_watch_handlers {
	void (*added)(void *ctx, json_t *obj);		      /* may be NULL */
	void (*updated)(void *ctx, json_t *old, json_t *obj); /* may be NULL */
	void (*deleted)(void *ctx, json_t *old);	      /* may be NULL */
	void (*synced)(void *ctx);			      /* once, after the first list */
	void *ctx;
};

/* Zero fields take the defaults in brackets. Strings and res are borrowed only during
 * kube_watch_start (copied). */
struct kube_watch_opts {
	const struct kube_resource *res; /* required */
	const char *ns;			 /* NULL or "" -> all namespaces */
	const char *label_selector;
	const char *field_selector; /* e.g. "spec.nodeName=node-1" (sensor's own pods) */
	int page_limit;		    /* [500] */
	int timeout_min_s;	    /* server-side watch timeout, random in [min,max] [300] */
	int timeout_max_s;	    /* [600] */
	int idle_timeout_ms;	    /* no byte for this long -> reconnect [90000] */
	int backoff_initial_ms;	    /* [800] */
	int backoff_max_ms;	    /* [30000] */
	struct kube_watch_handlers handlers;
	/*
	 * Optional, called on the watch thread with each object (borrowed, not yet shared) before
	 * it is cached, to trim what the caller does not need (e.g. a pod's spec) and save memory;
	 * ctx is handlers.ctx. metadata.managedFields is always dropped before this (omitting it
	 * in a later PUT leaves the server's copy unchanged). Must keep metadata.name/namespace/
	 * resourceVersion.
	 */
	void (*transform)(void *ctx, json_t *obj);
};

/* Counters for /metrics and tests. */
struct kube_watch_stats {
	uint64_t lists;		/* LISTs completed (the first one included) */
	uint64_t relists;	/* LISTs after the first (410 or failed watch start) */
	uint64_t restarts;	/* watch connections opened after the first */
	uint64_t events;	/* ADDED/MODIFIED/DELETED events applied */
	uint64_t bookmarks;	/* BOOKMARK events */
	uint64_t gone;		/* 410 seen (status or in-stream) */
	uint64_t idle_timeouts; /* connections dropped for silence */
	uint64_t errors;	/* failed requests of any kind */
};

/*
 * Starts the watch thread. c: borrowed, must outlive the watch. *out is new; stop it with
 * kube_watch_stop. Returns 0, -EINVAL or -ENOMEM (thread creation failure -> -errno).
 */
int kube_watch_start(struct kube_client *c, const struct kube_watch_opts *opts,
		     struct kube_watch **out);

/* Stops the thread (within about a second), joins it and frees the watch and its cache.
 * NULL allowed. Do not call from a callback of the same watch. */
void kube_watch_stop(struct kube_watch *w);

/* The cache (borrowed; valid until kube_watch_stop). */
struct kube_cache *kube_watch_cache(struct kube_watch *w);

/* True once the first list was delivered. */
bool kube_watch_synced(struct kube_watch *w);

/* Waits until synced; returns 0 or -ETIMEDOUT after timeout_ms (<0 waits forever). */
int kube_watch_wait_synced(struct kube_watch *w, int timeout_ms);

/* Copies the counters. */
void kube_watch_stats(struct kube_watch *w, struct kube_watch_stats *out);

/* The last resourceVersion seen (opaque) copied into buf (len bytes); "" before the first list. */
void kube_watch_resource_version(struct kube_watch *w, char *buf, size_t len);

#endif
