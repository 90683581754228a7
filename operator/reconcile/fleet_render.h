/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reconcile/fleet_render: the DaemonSet of one sensor revision of a SensorFleet (pure).
 *
 * Name vigil-sensor-<rev>, the fleet's namespace, owner reference to the fleet, labels
 * vigil.dev/fleet=<fleet> and vigil.dev/revision=<rev> (pods too), annotations with the driver
 * version, image and a hash of the rendered object (vigil.dev/render-hash) so an unchanged
 * DaemonSet is never rewritten. Pods run only on nodes labelled vigil.dev/sensor-<rev> (required
 * node affinity, operator Exists) and matching spec.nodeSelector; see docs/rollout.md.
 */
#ifndef VIGIL_OPERATOR_RECONCILE_FLEET_RENDER_H
#define VIGIL_OPERATOR_RECONCILE_FLEET_RENDER_H

#include <jansson.h>

#define FLEET_LABEL "vigil.dev/fleet"
#define FLEET_ANN_VERSION "vigil.dev/driver-version"
#define FLEET_ANN_IMAGE "vigil.dev/image"
#define FLEET_ANN_HASH "vigil.dev/render-hash"
#define FLEET_HEALTH_PORT 8765
#define FLEET_SERVICE_ACCOUNT "vigil-sensor"

struct fleet_render_in {
	const json_t *fleet;	     /* the SensorFleet (borrowed): metadata + spec */
	const char *rev;	     /* revision id (borrowed) */
	const char *version;	     /* driver version of that revision */
	const char *image;	     /* image of that revision */
	const char *rules_configmap; /* NULL = "vigil-rules" */
	const char *service_account; /* NULL = FLEET_SERVICE_ACCOUNT */
};

/* The DaemonSet object: a new reference (caller decrefs), NULL on ENOMEM or a fleet without
 * metadata.name/namespace/uid. */
json_t *fleet_render_daemonset(const struct fleet_render_in *in);

/* Writes "vigil-sensor-<rev>" into buf (len bytes). */
void fleet_render_name(const char *rev, char *buf, size_t len);

#endif
