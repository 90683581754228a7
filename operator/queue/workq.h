/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workq: the controller work queue (the client-go workqueue contract, in C).
 *
 * Keys are strings ("namespace/name"). Invariants:
 *  - de-duplication: a key is queued at most once; adding a queued key is a no-op;
 *  - a key being processed (between workq_get and workq_done) is never handed to a second worker;
 *    if it is added meanwhile it is marked dirty and queued again by workq_done;
 *  - delayed adds (workq_add_after) keep the earliest due time per key;
 *  - rate-limited adds wait max(per-key backoff, global token bucket): the per-key delay is
 *    base_ms * 2^failures capped at max_ms, and workq_forget resets failures.
 *
 * Thread-safe. The clock is injectable (opts.now_ms) so tests can drive time.
 */
#ifndef VIGIL_OPERATOR_QUEUE_WORKQ_H
#define VIGIL_OPERATOR_QUEUE_WORKQ_H

#include <stddef.h>
#include <stdint.h>

struct workq;

struct workq_opts {
	int base_ms; /* first retry delay [5] */
	int max_ms;  /* cap on one key's backoff [300000] */
	double qps;  /* global token bucket refill rate for rate-limited adds [10] */
	int burst;   /* token bucket size [100] */
	/* monotonic milliseconds; NULL uses CLOCK_MONOTONIC. ctx passed back. */
	uint64_t (*now_ms)(void *ctx);
	void *now_ctx;
};

/* A token bucket (exposed so it can be unit-tested alone). */
struct workq_bucket {
	double tokens;
	double qps;
	int burst;
	uint64_t last_ms;   /* time tokens was last computed */
	uint64_t next_free; /* reservations: the time the next token is available */
};

/* Initialises a full bucket at time now. */
void workq_bucket_init(struct workq_bucket *b, double qps, int burst, uint64_t now_ms);

/* Reserves one token at now; returns how many ms the caller must wait for it (0 if available). */
uint64_t workq_bucket_reserve(struct workq_bucket *b, uint64_t now_ms);

/* The per-key backoff for the given number of earlier failures: base*2^failures, capped. */
uint64_t workq_backoff_ms(int base_ms, int max_ms, unsigned failures);

/* New queue (caller frees with workq_free); opts may be NULL. NULL on ENOMEM. */
struct workq *workq_new(const struct workq_opts *opts);

/* Shuts down (if needed) and frees. NULL allowed. */
void workq_free(struct workq *q);

/* Queues key now (copied). No-op when already queued or after shutdown. */
void workq_add(struct workq *q, const char *key);

/* Queues key after delay_ms (0 = now). An earlier pending due time wins. */
void workq_add_after(struct workq *q, const char *key, uint64_t delay_ms);

/* Queues key after its backoff (and the global rate limit); counts a failure for key.
 * Returns the delay chosen, in ms. */
uint64_t workq_add_rate_limited(struct workq *q, const char *key);

/* Clears key's failure count (call after a successful reconcile). */
void workq_forget(struct workq *q, const char *key);

/* How many times key was rate-limited since the last forget. */
unsigned workq_failures(struct workq *q, const char *key);

/*
 * Takes the next due key: *key is new (caller frees, then calls workq_done with it). Blocks up to
 * timeout_ms (-1 forever). Returns 0, -ETIMEDOUT, or -ESHUTDOWN once shut down.
 */
int workq_get(struct workq *q, char **key, int timeout_ms);

/* Marks key as processed; re-queues it if it was added while processing. */
void workq_done(struct workq *q, const char *key);

/* Keys ready now (the queue depth metric). */
size_t workq_len(struct workq *q);

/* Keys waiting for a delay. */
size_t workq_delayed_len(struct workq *q);

/* Total adds that were not de-duplicated away, and total rate-limited adds (retries). */
uint64_t workq_adds(struct workq *q);
uint64_t workq_retries(struct workq *q);

/* Wakes all getters with -ESHUTDOWN; later adds are ignored. */
void workq_shutdown(struct workq *q);

#endif
