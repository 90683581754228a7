/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workq: one entry per known key holds all of its state (queued / dirty / processing / due time /
 * failures) in a chained hash table; ready keys form a FIFO through the entries. An entry is
 * dropped once it is idle and has no failures.
 */
#include "operator/queue/workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NBUCKETS 1024

struct entry {
	char *key;
	struct entry *hnext; /* hash chain */
	struct entry *qnext; /* FIFO of ready keys */
	bool queued;	     /* in the FIFO */
	bool dirty;	     /* must be (re)processed */
	bool processing;     /* held by a worker */
	uint64_t due;	     /* 0, or monotonic ms when a delayed add becomes ready */
	unsigned failures;
};

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct workq_opts o;
	struct workq_bucket bucket;
	struct entry *buckets[NBUCKETS];
	struct entry *head, *tail;
	size_t nready, ndelayed;
	uint64_t adds, retries;
	bool shutdown;
};

static uint64_t mono_ms(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now(struct workq *q)
{
	return q->o.now_ms(q->o.now_ctx);
}

void workq_bucket_init(struct workq_bucket *b, double qps, int burst, uint64_t now_ms)
{
	b->qps = qps > 0 ? qps : 10;
	b->burst = burst > 0 ? burst : 1;
	b->tokens = b->burst;
	b->last_ms = now_ms;
	b->next_free = now_ms;
}

uint64_t workq_bucket_reserve(struct workq_bucket *b, uint64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->qps / 1000.0;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ms = now_ms;
	}
	b->tokens -= 1.0;
	if (b->tokens >= 0)
		return 0;
	/* in debt: wait until the deficit has been refilled */
	return (uint64_t)((-b->tokens) * 1000.0 / b->qps + 0.999);
}

uint64_t workq_backoff_ms(int base_ms, int max_ms, unsigned failures)
{
	uint64_t d = (uint64_t)(base_ms > 0 ? base_ms : 1);

	for (unsigned i = 0; i < failures && d < (uint64_t)max_ms; i++)
		d *= 2;
	return d > (uint64_t)max_ms ? (uint64_t)max_ms : d;
}

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % NBUCKETS;
}

static struct entry *lookup(struct workq *q, const char *key, bool create)
{
	unsigned h = hash(key);
	struct entry *e;

	for (e = q->buckets[h]; e; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	if (!create)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = strdup(key);
	if (!e->key) {
		free(e);
		return NULL;
	}
	e->hnext = q->buckets[h];
	q->buckets[h] = e;
	return e;
}

/* Drops e from the table when it holds no state any more. */
static void maybe_drop(struct workq *q, struct entry *e)
{
	struct entry **pp;

	if (e->queued || e->dirty || e->processing || e->due || e->failures)
		return;
	for (pp = &q->buckets[hash(e->key)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	free(e->key);
	free(e);
}

static void push_ready(struct workq *q, struct entry *e)
{
	e->queued = true;
	e->qnext = NULL;
	if (q->tail)
		q->tail->qnext = e;
	else
		q->head = e;
	q->tail = e;
	q->nready++;
	pthread_cond_signal(&q->cond);
}

/* The add itself, lock held. */
static void add_locked(struct workq *q, struct entry *e)
{
	if (e->due) {
		e->due = 0;
		q->ndelayed--;
	}
	if (e->dirty)
		return;
	e->dirty = true;
	q->adds++;
	if (!e->processing)
		push_ready(q, e);
}

void workq_add(struct workq *q, const char *key)
{
	struct entry *e;

	pthread_mutex_lock(&q->lock);
	if (!q->shutdown && (e = lookup(q, key, true)))
		add_locked(q, e);
	pthread_mutex_unlock(&q->lock);
}

static void add_after_locked(struct workq *q, const char *key, uint64_t delay_ms)
{
	struct entry *e;
	uint64_t due;

	if (q->shutdown || !(e = lookup(q, key, true)))
		return;
	if (delay_ms == 0) {
		add_locked(q, e);
		return;
	}
	if (e->dirty && !e->processing)
		return; /* already ready: sooner than any delay */
	due = now(q) + delay_ms;
	if (e->due && e->due <= due)
		return;
	if (!e->due)
		q->ndelayed++;
	e->due = due;
	pthread_cond_broadcast(&q->cond); /* a getter may need to wait less */
}

void workq_add_after(struct workq *q, const char *key, uint64_t delay_ms)
{
	pthread_mutex_lock(&q->lock);
	add_after_locked(q, key, delay_ms);
	pthread_mutex_unlock(&q->lock);
}

uint64_t workq_add_rate_limited(struct workq *q, const char *key)
{
	struct entry *e;
	uint64_t d = 0, g;

	pthread_mutex_lock(&q->lock);
	if (q->shutdown || !(e = lookup(q, key, true)))
		goto out;
	d = workq_backoff_ms(q->o.base_ms, q->o.max_ms, e->failures);
	e->failures++;
	g = workq_bucket_reserve(&q->bucket, now(q));
	if (g > d)
		d = g;
	q->retries++;
	add_after_locked(q, key, d);
out:
	pthread_mutex_unlock(&q->lock);
	return d;
}

void workq_forget(struct workq *q, const char *key)
{
	struct entry *e;

	pthread_mutex_lock(&q->lock);
	e = lookup(q, key, false);
	if (e) {
		e->failures = 0;
		maybe_drop(q, e);
	}
	pthread_mutex_unlock(&q->lock);
}

unsigned workq_failures(struct workq *q, const char *key)
{
	struct entry *e;
	unsigned n = 0;

	pthread_mutex_lock(&q->lock);
	e = lookup(q, key, false);
	if (e)
		n = e->failures;
	pthread_mutex_unlock(&q->lock);
	return n;
}

/* Moves delayed keys that are due to the ready FIFO; returns ms until the next one (or -1). */
static int64_t promote_due(struct workq *q)
{
	uint64_t t = now(q);
	int64_t next = -1;

	if (!q->ndelayed)
		return -1;
	for (unsigned i = 0; i < NBUCKETS; i++) {
		for (struct entry *e = q->buckets[i]; e; e = e->hnext) {
			if (!e->due)
				continue;
			if (e->due <= t) {
				add_locked(q, e);
			} else if (next < 0 || (int64_t)(e->due - t) < next) {
				next = (int64_t)(e->due - t);
			}
		}
	}
	return next;
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int workq_get(struct workq *q, char **key, int timeout_ms)
{
	struct timespec limit, wake, cur;
	int err = 0;

	*key = NULL;
	if (timeout_ms >= 0)
		deadline_after(&limit, timeout_ms);
	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct entry *e;
		int64_t next;

		if (q->shutdown) {
			err = -ESHUTDOWN;
			break;
		}
		next = promote_due(q);
		if ((e = q->head)) {
			q->head = e->qnext;
			if (!q->head)
				q->tail = NULL;
			q->nready--;
			e->queued = false;
			e->dirty = false;
			e->processing = true;
			*key = strdup(e->key);
			if (!*key) {
				e->processing = false;
				add_locked(q, e);
				err = -ENOMEM;
			}
			break;
		}
		deadline_after(&cur, 0);
		if (timeout_ms >= 0 && !ts_before(&cur, &limit)) {
			err = -ETIMEDOUT;
			break;
		}
		/* the injected clock may differ from CLOCK_MONOTONIC: re-check delayed keys often
		 */
		deadline_after(&wake, next < 0 ? 1000 : (next < 50 ? next : 50));
		if (timeout_ms >= 0 && ts_before(&limit, &wake))
			wake = limit;
		pthread_cond_timedwait(&q->cond, &q->lock, &wake);
	}
	pthread_mutex_unlock(&q->lock);
	return err;
}

void workq_done(struct workq *q, const char *key)
{
	struct entry *e;

	pthread_mutex_lock(&q->lock);
	e = lookup(q, key, false);
	if (e) {
		e->processing = false;
		if (e->dirty && !e->queued)
			push_ready(q, e);
		maybe_drop(q, e);
	}
	pthread_mutex_unlock(&q->lock);
}

size_t workq_len(struct workq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->nready;
	pthread_mutex_unlock(&q->lock);
	return n;
}

size_t workq_delayed_len(struct workq *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->ndelayed;
	pthread_mutex_unlock(&q->lock);
	return n;
}

uint64_t workq_adds(struct workq *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->lock);
	n = q->adds;
	pthread_mutex_unlock(&q->lock);
	return n;
}

uint64_t workq_retries(struct workq *q)
{
	uint64_t n;

	pthread_mutex_lock(&q->lock);
	n = q->retries;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void workq_shutdown(struct workq *q)
{
	pthread_mutex_lock(&q->lock);
	q->shutdown = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

struct workq *workq_new(const struct workq_opts *opts)
{
	struct workq *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	if (!q)
		return NULL;
	if (opts)
		q->o = *opts;
	if (q->o.base_ms <= 0)
		q->o.base_ms = 5;
	if (q->o.max_ms <= 0)
		q->o.max_ms = 300000;
	if (q->o.qps <= 0)
		q->o.qps = 10;
	if (q->o.burst <= 0)
		q->o.burst = 100;
	if (!q->o.now_ms)
		q->o.now_ms = mono_ms;
	workq_bucket_init(&q->bucket, q->o.qps, q->o.burst, now(q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

void workq_free(struct workq *q)
{
	if (!q)
		return;
	workq_shutdown(q);
	for (unsigned i = 0; i < NBUCKETS; i++) {
		struct entry *e = q->buckets[i], *n;

		for (; e; e = n) {
			n = e->hnext;
			free(e->key);
			free(e);
		}
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q);
}
