/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report: writes a node's SensorNode (vigil.dev/v1alpha1, cluster-scoped, named after the node)
 * from a health snapshot. Usable without a probe: anything that can fill a struct
 * health_snapshot (e.g. a simulated node) can report through it.
 *
 *   struct report_state *st = report_state_new("node-1");
 *   report_write(client, st, &snapshot, &kerr);   // creates the object if needed, then status
 *   report_state_free(st);
 *
 * Conditions: ProbeLoaded, RulesLoaded, EventsFlowing, Ready (Ready mirrors /readyz: probe
 * attached, a rule set active, events fresh). lastTransitionTime changes only when a condition's
 * status changes (the state remembers the last written conditions, seeded from the server).
 */
#ifndef VIGIL_SENSOR_REPORT_REPORT_H
#define VIGIL_SENSOR_REPORT_REPORT_H

#include <jansson.h>

#include "lib/kube/error.h"
#include "sensor/health/health.h"

struct kube_client;
struct report_state;
struct health;

/* New state for node (borrowed, copied). NULL on ENOMEM. */
struct report_state *report_state_new(const char *node);
void report_state_free(struct report_state *st);

/* Builds the status object for snapshot s at s->now_ns, keeping lastTransitionTime from the
 * state's previous conditions when the status is unchanged, and remembers the result as the new
 * previous. Returns a new reference (caller decrefs) or NULL on ENOMEM. */
json_t *report_build_status(struct report_state *st, const struct health_snapshot *s);

/* Seeds the previous conditions from an object's status.conditions (borrowed), e.g. the
 * SensorNode read from the server after a restart. */
void report_state_seed(struct report_state *st, json_t *conditions);

/* Creates the SensorNode if missing and writes its status through the status subresource,
 * re-reading and retrying (up to 5 times) on 409 Conflict. 0 or a negative errno (err filled). */
int report_write(struct kube_client *c, struct report_state *st, const struct health_snapshot *s,
		 struct kube_error *err);

/* Starts a thread that snapshots h and writes every interval_s seconds (first write at once).
 * c and h borrowed (must outlive the reporter). *out new; stop and free with report_stop. */
struct reporter;
int report_start(struct kube_client *c, struct health *h, const char *node, int interval_s,
		 struct reporter **out);
void report_stop(struct reporter *r);

/* Formats ns since the epoch as "2006-01-02T15:04:05Z" (metav1.Time). Returns buf. */
char *report_time(unsigned long long ns, char *buf, size_t len);

#endif
