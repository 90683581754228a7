/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events: core/v1 Events on our objects for notable transitions, with de-duplication.
 *
 * The same (object uid, type, reason, message) seen again within the dedup window patches the
 * existing Event's count and lastTimestamp instead of creating a new one, like client-go's
 * correlator. The Event goes in the object's namespace ("default" for cluster-scoped objects).
 * Writes are synchronous (call from a worker, not from a watch callback). Thread-safe.
 */
#ifndef VIGIL_OPERATOR_EVENTS_EVENTS_H
#define VIGIL_OPERATOR_EVENTS_EVENTS_H

#include <jansson.h>

#include "lib/kube/client.h"

struct evrec;

/* New recorder. client borrowed (outlives it); component ("vigil-operator") and instance (the
 * replica identity) copied. NULL on ENOMEM. */
struct evrec *evrec_new(struct kube_client *client, const char *component, const char *instance);
void evrec_free(struct evrec *r);

/*
 * Records an event about obj (borrowed; needs apiVersion, kind, metadata.name/uid). type is
 * "Normal" or "Warning"; reason CamelCase. Returns 0, or -errno when the API write failed (the
 * error is logged here).
 */
int evrec_emit(struct evrec *r, const json_t *obj, const char *type, const char *reason,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Builds the Event body that evrec_emit would create (new reference), for tests. name and
 * now (RFC 3339) borrowed. */
json_t *evrec_build(const json_t *obj, const char *name, const char *type, const char *reason,
		    const char *message, const char *component, const char *instance,
		    const char *now);

/* Events created and events patched (counted up) so far. */
unsigned long evrec_created(struct evrec *r);
unsigned long evrec_patched(struct evrec *r);

#endif
