/* SPDX-License-Identifier: Apache-2.0 */
/*
 * leader: leader election on a coordination.k8s.io/v1 Lease, like client-go's leaderelection.
 *
 * The decision is a pure function (leader_decide) over the Lease record, what this replica last
 * observed of it, and the local monotonic clock, so it is unit-testable. A follower counts the
 * lease as expired when the record has not changed for leaseDurationSeconds of LOCAL time since it
 * last saw it change (no trust in other replicas' clocks). The leader renews every retry period;
 * when it has not renewed successfully for renew_deadline_ms, or sees another holder, it stops
 * leading at once (on_stopped is called; the operator then exits and its workers stop).
 *
 * Defaults: lease 15 s, renew deadline 10 s, retry 2 s.
 */
#ifndef VIGIL_OPERATOR_LEADER_LEADER_H
#define VIGIL_OPERATOR_LEADER_LEADER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "lib/kube/client.h"

#define LEADER_ID_MAX 128

/* The fields of a Lease's spec that matter (strings copied in). */
struct leader_record {
	char holder[LEADER_ID_MAX]; /* holderIdentity; "" when released */
	char renew_time[40];	    /* renewTime as written (opaque, compared for change) */
	int duration_s;		    /* leaseDurationSeconds; 0 when absent */
	int transitions;	    /* leaseTransitions */
};

/* What this replica last saw of the record, and when (local monotonic ms). */
struct leader_observed {
	struct leader_record rec;
	int64_t seen_ms;
	bool valid;
};

enum leader_decision {
	LEADER_CREATE,	 /* no Lease: create it holding it */
	LEADER_RENEW,	 /* we hold it: renew */
	LEADER_TAKEOVER, /* expired or released: take it (transitions + 1) */
	LEADER_FOLLOW,	 /* someone else holds a live lease: wait */
};

/*
 * Decides what to do. rec is NULL when the Lease does not exist. obs is updated (the record is
 * "seen" at now_ms when it differs from the last observation). lease_ms is our configured lease
 * duration, used when the record has none. Pure apart from *obs.
 */
enum leader_decision leader_decide(const struct leader_record *rec, struct leader_observed *obs,
				   const char *identity, int64_t now_ms, int lease_ms);

/* True when a leader whose last successful renew was at last_ok_ms must step down at now_ms. */
bool leader_must_step_down(int64_t last_ok_ms, int64_t now_ms, int renew_deadline_ms);

/* Reads a Lease object (borrowed) into *rec. 0 or -EINVAL when it has no spec. */
int leader_record_from_lease(const json_t *lease, struct leader_record *rec);

struct leader;

struct leader_opts {
	struct kube_client *client;    /* borrowed; outlives the elector */
	const char *ns;		       /* Lease namespace (copied) */
	const char *name;	       /* Lease name (copied) */
	const char *identity;	       /* this replica (copied) */
	int lease_ms;		       /* [15000] */
	int renew_deadline_ms;	       /* [10000] */
	int retry_ms;		       /* [2000] */
	void (*on_started)(void *ctx); /* became leader (elector thread) */
	void (*on_stopped)(void *ctx); /* lost leadership (elector thread); not called by release */
	void *ctx;
};

/* Starts the elector thread; *out is new (free with leader_free). 0 or -errno. */
int leader_start(const struct leader_opts *opts, struct leader **out);

/* True while this replica holds the lease (cheap, any thread). */
bool leader_is_leading(const struct leader *l);

/* Number of lease transitions observed and whether we lead, for metrics. */
int leader_transitions(const struct leader *l);

/* Stops the thread; if leading, releases the Lease (holder "") so another replica takes over
 * quickly. Frees. NULL allowed. */
void leader_free(struct leader *l);

#endif
