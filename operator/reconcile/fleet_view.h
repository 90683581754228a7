/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile/fleet_view: turns the cached API objects of one SensorFleet (nodes, sensor pods,
 * SensorNodes, DaemonSets) into the rollout machine's input. Pure apart from the report memory,
 * which is a small thread-safe store fed from the SensorNode watch.
 *
 * Report memory: both sensors on a node write the same SensorNode during a make-before-break
 * overlap; every write seen through the watch is remembered per (node, podName), so the machine can
 * tell which pod (revision) detects. Entries of pods gone for a while are pruned.
 */
#ifndef VIGIL_OPERATOR_RECONCILE_FLEET_VIEW_H
#define VIGIL_OPERATOR_RECONCILE_FLEET_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "operator/rollout/rollout.h"

struct fleet_reports;

/* New empty report memory (caller frees); NULL on ENOMEM. */
struct fleet_reports *fleet_reports_new(void);
void fleet_reports_free(struct fleet_reports *r);

/*
 * Remembers the report in a SensorNode object (borrowed). Returns 1 when what the rollout looks at
 * changed (a new pod, version, detection flags, or a heartbeat after a silence), 0 when it is only
 * a newer heartbeat, -ENOMEM. Thread-safe.
 */
int fleet_reports_observe(struct fleet_reports *r, const json_t *sensornode);

/* Forgets the reports of a node (its SensorNode was deleted). Thread-safe. */
void fleet_reports_forget(struct fleet_reports *r, const char *node);

/* Number of remembered reports (all nodes). */
size_t fleet_reports_count(struct fleet_reports *r);

/* Everything rollout_step needs for one fleet. Arrays owned; strings borrowed from the JSON the
 * view holds references to, or from its own copies. */
struct fleet_view {
	struct rollout_spec spec;
	struct rollout_status prev;
	bool has_prev;
	struct rollout_node *nodes;
	size_t n_nodes;
	struct rollout_pod *pods;
	size_t n_pods;
	struct rollout_report *reports;
	size_t n_reports;
	struct rollout_revision *revisions;
	size_t n_revisions;
	/* private */
	char fleet_key[320]; /* "namespace/name", spec.fleet points here */
	struct rollout_kv *kvs, *canary;
	void *rep_copies;
	json_t *hold;
};

/*
 * Builds the view of fleet (borrowed SensorFleet) from JSON arrays of cached objects (borrowed;
 * references kept until fleet_view_release): nodes, pods (any; those not of this fleet are
 * skipped), daemonsets (likewise) and reports (may be NULL). prev: the status to continue from
 * (borrowed, copied), NULL = fleet.status. Returns 0, -EINVAL (no spec.driverVersion/image) or
 * -ENOMEM; on failure the view is released.
 */
int fleet_view_build(struct fleet_view *v, json_t *fleet, json_t *nodes, json_t *pods,
		     json_t *daemonsets, struct fleet_reports *reports,
		     const struct rollout_status *prev);

/* The rollout machine's input for this view at now_ms: every pointer borrowed from v. */
struct rollout_input fleet_view_input(const struct fleet_view *v, int64_t now_ms);

/* Frees what the view owns and zeroes it. NULL allowed. */
void fleet_view_release(struct fleet_view *v);

/* Whether node (borrowed) runs pods with these tolerations (borrowed JSON array or NULL): every
 * NoSchedule/NoExecute taint is tolerated, ignoring the taints DaemonSet pods tolerate anyway. */
bool fleet_node_tolerated(const json_t *node, const json_t *tolerations);

/* Whether the node's labels match selector (a JSON object of key: value; NULL/empty matches). */
bool fleet_node_selected(const json_t *node, const json_t *selector);

/*
 * Informer trims (kube_watch transform signature; obj modified in place, ctx unused): keep only
 * what the SensorFleet controller reads. Node: metadata (name, uid, resourceVersion, generation,
 * labels, deletionTimestamp), spec.taints, the Ready condition (type, status). Pod: metadata (name,
 * namespace, uid, resourceVersion, labels, deletionTimestamp, ownerReferences), spec (nodeName,
 * affinity), status (phase, the Ready condition).
 */
void fleet_trim_node(void *ctx, json_t *obj);
void fleet_trim_pod(void *ctx, json_t *obj);

#endif
