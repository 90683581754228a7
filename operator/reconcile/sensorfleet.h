/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile/sensorfleet: the SensorFleet controller. Observes nodes, sensor pods, SensorNodes and
 * the fleet's DaemonSets from the shared caches, runs the rollout machine (operator/rollout/), and
 * executes its actions: per-revision DaemonSets (fleet_render.h), node revision labels, force
 * deletion of pods stuck on dead nodes, Events, status (written only when it changes), metrics.
 * See docs/rollout.md.
 *
 * Keys: "ns/name" of a SensorFleet. Fleets are reconciled in the operator namespace only (that is
 * where its RBAC lets it manage DaemonSets). One worker by default; a key is never reconciled by
 * two workers at once, and each fleet's tracker is used under its own lock.
 *
 * Metrics: vigil_sensorfleet_node_gap_seconds{fleet,node} (gauge, current coverage gap),
 * vigil_sensorfleet_node_rollout_gap_seconds{fleet,node} (gauge, gap in the current/last rollout),
 * vigil_sensorfleet_rollout_steps_total{fleet} (node moves),
 * vigil_sensorfleet_rollbacks_total{fleet}, vigil_sensorfleet_nodes{fleet,state}
 * (total/updated/covered), vigil_sensorfleet_step_seconds (histogram: one rollout_step).
 */
#ifndef VIGIL_OPERATOR_RECONCILE_SENSORFLEET_H
#define VIGIL_OPERATOR_RECONCILE_SENSORFLEET_H

#include "lib/kube/client.h"
#include "operator/controller/controller.h"
#include "operator/events/events.h"
#include "operator/metrics/metrics.h"

struct sfctl;

struct sfctl_opts {
	struct ctl_manager *manager; /* borrowed */
	struct kube_client *client;  /* borrowed */
	struct evrec *events;	     /* borrowed, may be NULL */
	struct metrics *metrics;     /* borrowed, may be NULL */
	const char *ns;		     /* operator namespace (copied) */
	const char *rules_configmap; /* [vigil-rules] (copied) */
	int workers;		     /* [1] */
};

/* Registers the controller and its watches with the manager (before ctl_manager_start).
 * *out is new (free with sfctl_free after the manager stopped). 0 or -errno. */
int sfctl_register(const struct sfctl_opts *o, struct sfctl **out);

void sfctl_free(struct sfctl *s);

#endif
