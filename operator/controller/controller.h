/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller: informers -> event handlers that only enqueue keys -> workers that reconcile.
 *
 * A manager owns the shared informers (one kube_watch per source, shared by every controller
 * that watches it), the controllers (each with its own work queue and workers) and the metrics.
 * Adding a reconciler for another kind is one registration call plus its watches:
 *
 *   struct ctl_controller *c = ctl_register(m, &(struct ctl_controller_opts){
 *           .name = "sensorfleet", .reconcile = fleet_reconcile, .ctx = fleet, .workers = 2 });
 *   ctl_watch(c, &(struct ctl_source){ .res = &kube_res_sensorfleets }, NULL, NULL);   // own key
 *   ctl_watch(c, &(struct ctl_source){ .res = &kube_res_daemonsets, .ns = "vigil-system" },
 *             map_owner, NULL);                                    // owned objects -> owner key
 *
 * All registration happens before ctl_manager_start. Informers run on every replica (warm caches);
 * workers reconcile only while ctl_manager_set_leading(m, true); caches are synced before the
 * first reconcile. The reconcile contract: level-based and idempotent, reads caches (never
 * modifies cached objects), returns done / requeue after N ms / retry with backoff / terminal.
 */
#ifndef VIGIL_OPERATOR_CONTROLLER_CONTROLLER_H
#define VIGIL_OPERATOR_CONTROLLER_CONTROLLER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/kube/cache.h"
#include "lib/kube/client.h"
#include "lib/kube/path.h"
#include "operator/metrics/metrics.h"

struct ctl_manager;
struct ctl_controller;

enum ctl_outcome {
	CTL_DONE,	   /* converged: forget the key's backoff */
	CTL_REQUEUE_AFTER, /* converged for now, look again after after_ms (backoff forgotten) */
	CTL_RETRY,	   /* transient failure: requeue with per-key exponential backoff */
	CTL_TERMINAL,	   /* cannot succeed until something changes: log, forget, do not requeue */
};

struct ctl_result {
	enum ctl_outcome outcome;
	uint64_t after_ms;
};

#define CTL_RESULT_DONE ((struct ctl_result){CTL_DONE, 0})
#define CTL_RESULT_RETRY ((struct ctl_result){CTL_RETRY, 0})
#define CTL_RESULT_TERMINAL ((struct ctl_result){CTL_TERMINAL, 0})
#define CTL_RESULT_AFTER(ms) ((struct ctl_result){CTL_REQUEUE_AFTER, (ms)})

/* Reconciles one key ("namespace/name", "name", or any key the controller enqueues itself). */
typedef struct ctl_result (*ctl_reconcile_fn)(void *ctx, const char *key);

/* A watched collection. Strings borrowed during the call (copied). */
struct ctl_source {
	const struct kube_resource *res;
	const char *ns;		    /* NULL/"" = all namespaces */
	const char *label_selector; /* optional */
	const char *field_selector; /* optional, e.g. "metadata.name=vigil-rules" */
	/*
	 * Optional trim applied to each object before it is cached (saves memory; see
	 * kube_watch_opts.transform). Part of the source's identity: controllers sharing a cache
	 * must pass the same function (e.g. ctl_trim_sensornode).
	 */
	void (*transform)(void *ctx, json_t *obj);
};

/* A SensorNode trim controllers can share: keeps apiVersion, kind, spec, metadata (name, namespace,
 * uid, resourceVersion, generation, labels, ownerReferences) and status (driverVersion, image,
 * podName, rulesHash, ruleCount, heartbeatSeconds, lastHeartbeatTime, conditions[] with type,
 * status, reason, message, lastTransitionTime); drops the rest (counters, capabilities, ...). */
void ctl_trim_sensornode(void *ctx, json_t *obj);

/*
 * Maps a change to keys: call ctl_enqueue(c, key) for each key to reconcile. old is NULL on add,
 * obj is NULL on delete (then old is the last state). Runs on the informer thread: be quick, no
 * API calls. Both objects borrowed and read-only.
 */
typedef void (*ctl_map_fn)(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj);

struct ctl_controller_opts {
	const char *name; /* metrics label, logs ("ruleset") */
	ctl_reconcile_fn reconcile;
	void *ctx;   /* passed to reconcile */
	int workers; /* [1] */
	int base_ms; /* queue backoff base [5] */
	int max_ms;  /* queue backoff cap [300000] */
};

struct ctl_manager_opts {
	struct kube_client *client; /* borrowed */
	struct metrics *metrics;    /* borrowed */
	int idle_timeout_ms;	    /* informer silence limit [90000] */
	int watch_timeout_max_s;    /* informer server-side watch timeout max [600] */
};

/* New manager (caller frees with ctl_manager_free). NULL on bad opts / ENOMEM. */
struct ctl_manager *ctl_manager_new(const struct ctl_manager_opts *opts);

/* Registers a controller (name copied). Returns it (owned by the manager) or NULL. */
struct ctl_controller *ctl_register(struct ctl_manager *m, const struct ctl_controller_opts *o);

/*
 * Makes c watch src: every add/update/delete calls map (or, when map is NULL, enqueues the
 * object's own key "ns/name"). Updates that change nothing but resourceVersion/managedFields
 * are still delivered; filter in map if it matters. 0 or -errno.
 */
int ctl_watch(struct ctl_controller *c, const struct ctl_source *src, ctl_map_fn map, void *ctx);

/* The cache of a source registered with ctl_watch or ctl_informer (borrowed; NULL if unknown). */
struct kube_cache *ctl_cache(struct ctl_manager *m, const struct ctl_source *src);

/* Registers a source without a controller (a cache to read). 0 or -errno. Before start. */
int ctl_informer(struct ctl_manager *m, const struct ctl_source *src);

/* Queues key on c (copied). */
void ctl_enqueue(struct ctl_controller *c, const char *key);

/* Queues key on c after ms. */
void ctl_enqueue_after(struct ctl_controller *c, const char *key, uint64_t ms);

/* Queues the key of every object in src's cache on c (after ms when ms > 0: changes arriving
 * meanwhile collapse into one pass). */
void ctl_enqueue_all(struct ctl_controller *c, const struct ctl_source *src);
void ctl_enqueue_all_after(struct ctl_controller *c, const struct ctl_source *src, uint64_t ms);

/* The manager of c (borrowed). */
struct ctl_manager *ctl_controller_manager(struct ctl_controller *c);

/*
 * Starts every informer, waits until all are synced (up to sync_timeout_ms; -ETIMEDOUT), then
 * starts the workers (idle until leading). 0 or -errno.
 */
int ctl_manager_start(struct ctl_manager *m, int sync_timeout_ms);

/* True when every informer has synced (for /readyz). */
bool ctl_manager_synced(struct ctl_manager *m);

/* Lets workers reconcile (leading) or stops them from taking new keys at once (not leading). */
void ctl_manager_set_leading(struct ctl_manager *m, bool leading);
bool ctl_manager_leading(struct ctl_manager *m);

/* Stops workers and informers. Safe to call twice. */
void ctl_manager_stop(struct ctl_manager *m);

/* Stops and frees the manager, its controllers and informers. NULL allowed. */
void ctl_manager_free(struct ctl_manager *m);

/* Counts a write to the API server in metrics (vigil_api_writes_total{controller,verb}). */
void ctl_count_write(struct ctl_controller *c, const char *verb);

/* Object key helper: "ns/name" or "name" into buf. Returns length or -errno. */
int ctl_key(const json_t *obj, char *buf, size_t len);

#endif
