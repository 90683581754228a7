/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status/conditions: Kubernetes-style status conditions on jansson objects, written so that a
 * reconcile that changes nothing produces a status equal to the cached one (no write, no storm).
 *
 *   json_t *st = cond_status_copy(cached_obj);        // deep copy of .status, or {}
 *   cond_set(st, "Accepted", "True", "Valid", "12 rules", gen, now);
 *   json_object_set_new(st, "observedGeneration", json_integer(gen));
 *   if (cond_status_differs(cached_obj, st)) ...write st...
 *
 * Rule: lastTransitionTime changes only when a condition's status value changes (or the
 * condition is new); reason, message and observedGeneration are updated in place.
 */
#ifndef VIGIL_OPERATOR_STATUS_CONDITIONS_H
#define VIGIL_OPERATOR_STATUS_CONDITIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/* Formats t (seconds since the epoch, UTC) as RFC 3339 "2026-12-03T13:00:00Z" into buf[32]. */
void cond_time(int64_t t, char buf[32]);

/*
 * Sets condition `type` in status.conditions (status: a JSON object, modified; the array is
 * created if absent). Strings borrowed. now: RFC 3339 time used when the status value changes.
 * Returns 1 when something changed, 0 when the condition was already exactly so, -ENOMEM.
 */
int cond_set(json_t *status, const char *type, const char *cstatus, const char *reason,
	     const char *message, int64_t observed_generation, const char *now);

/* The condition object of that type in status (borrowed), or NULL. */
json_t *cond_find(const json_t *status, const char *type);

/* True when status.conditions[type].status equals cstatus. */
bool cond_is(const json_t *status, const char *type, const char *cstatus);

/* A deep copy of obj.status (new reference), or a new empty object when absent. */
json_t *cond_status_copy(const json_t *obj);

/* True when obj.status (absent = {}) is not equal to status. Both borrowed. */
bool cond_status_differs(const json_t *obj, const json_t *status);

#endif
