/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollout: pure SensorFleet rollout state machine. See rollout.h and docs/rollout.md.
 *
 * One step: decide the phase from the persisted status and the spec, classify every node against
 * the desired revision D (done / in flight / pending), update the tracker's gap and wait clocks,
 * check the budget (rollback), then emit node moves in canary-then-name order within maxParallel,
 * and compute the status. Nothing here reads a clock or talks to the API.
 */
#include "operator/rollout/rollout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODE_REVS 8
#define DEFAULT_HEARTBEAT_S 10

struct tnode {
	char *name;
	int64_t gap_since;   /* coverage gap start (no labelled revision detecting); 0 = covered */
	int64_t gap_counted; /* part of the ongoing gap already in the rollout totals (restored) */
	int64_t rollout_gap_ms; /* closed gaps of this node in the current rollout */
	int64_t wait_since;	/* without detection on wait_rev since; 0 = not waiting */
	char wait_rev[ROLLOUT_REV_LEN];
	bool wait_excused; /* moved while already blind: a bad node, not counted in the budget */
	int64_t restored_since; /* problemNodes[].since from the status this tracker started from */
	int64_t off_since;	/* NotReady / deleted / gone since */
	bool gone;		/* absent from the last input */
	bool seen;		/* scratch: present in this step's input */
	bool fresh;		/* scratch: created by this step */
	bool came_back;		/* scratch: eligible again after NotReady/deleted/gone */
	bool ever_covered;	/* seen with detection at least once */
};

struct rollout_tracker {
	struct tnode *v; /* sorted by name */
	size_t n;
	bool seeded;
	int64_t closed_total_ms, closed_max_ms;
};

struct nrev {
	char rev[ROLLOUT_REV_LEN];
	int64_t at_ms; /* from the label value; 0 = unknown */
	bool blind;    /* label value says the node was blind when moved */
	bool det;
	const char *why; /* why no detection on it */
};

struct nwork {
	const struct rollout_node *n;
	struct tnode *te;
	bool canary, eligible;
	struct nrev revs[MAX_NODE_REVS];
	int n_revs;
	bool covered;
	int d;	      /* index of D in revs, or -1 */
	bool started; /* moved by this step */
};

struct ctx {
	const struct rollout_input *in;
	struct rollout_tracker *t;
	struct rollout_plan *out;
	struct rollout_status *st;
	struct rollout_policy pol;
	int64_t now;
	char spec_rev[ROLLOUT_REV_LEN];
	const char *d;			    /* desired revision */
	const struct rollout_pod **pods;    /* sorted by node */
	const struct rollout_report **reps; /* sorted by node */
	struct nwork *w;
	size_t n_w;
	bool nomem;
};

/* ---- small helpers ---- */

static void scpy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void recheck_at(struct ctx *c, int64_t t)
{
	if (t <= c->now)
		t = c->now + 1;
	if (!c->out->recheck_ms || t < c->out->recheck_ms)
		c->out->recheck_ms = t;
}

void rollout_policy_init(struct rollout_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_parallel = 1;
	p->make_before_break = true;
	p->max_nodes_without_detection = 1;
	p->gap_budget_seconds = 120;
}

void rollout_revision_id(const char *fleet, const char *version, const char *image,
			 char out[ROLLOUT_REV_LEN])
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[3] = {fleet ? fleet : "", version ? version : "", image ? image : ""};

	for (int i = 0; i < 3; i++) {
		for (const unsigned char *p = (const unsigned char *)parts[i]; *p; p++) {
			h ^= *p;
			h *= 0x100000001b3ULL;
		}
		h ^= 0xff; /* separator, so ("ab","c") != ("a","bc") */
		h *= 0x100000001b3ULL;
	}
	snprintf(out, ROLLOUT_REV_LEN, "%010llx", (unsigned long long)(h & 0xffffffffffULL));
}

const char *rollout_cond_type_name(enum rollout_cond_type t)
{
	static const char *const names[] = {"Available", "Progressing", "Degraded", "RolledBack"};

	return (unsigned)t < ROLLOUT_COND_COUNT ? names[t] : "Unknown";
}

static const char *const result_names[] = {"",		"InProgress", "RollingBack",
					   "Succeeded", "RolledBack", "Superseded"};

const char *rollout_result_name(enum rollout_result r)
{
	return (unsigned)r <= ROLLOUT_SUPERSEDED ? result_names[r] : "";
}

enum rollout_result rollout_result_parse(const char *s)
{
	if (!s || !*s)
		return ROLLOUT_NONE;
	for (int r = ROLLOUT_IN_PROGRESS; r <= ROLLOUT_SUPERSEDED; r++)
		if (strcmp(s, result_names[r]) == 0)
			return r;
	return ROLLOUT_NONE;
}

const char *rollout_action_kind_name(enum rollout_action_kind k)
{
	static const char *const names[] = {"EnsureRevision", "DeleteRevision", "LabelNode",
					    "UnlabelNode",    "DeletePod",	"Event",
					    "Rollback"};

	return (unsigned)k <= ROLLOUT_ACT_ROLLBACK ? names[k] : "Unknown";
}

/* ---- plan ---- */

void rollout_plan_release(struct rollout_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_actions; i++) {
		free(p->actions[i].image);
		free(p->actions[i].message);
	}
	free(p->actions);
	memset(p, 0, sizeof(*p));
}

static struct rollout_action *act_push(struct ctx *c, enum rollout_action_kind kind)
{
	struct rollout_plan *p = c->out;

	if (p->n_actions == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct rollout_action *a = realloc(p->actions, cap * sizeof(*a));

		if (!a) {
			c->nomem = true;
			return NULL;
		}
		p->actions = a;
		p->cap = cap;
	}
	struct rollout_action *a = &p->actions[p->n_actions++];

	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static void act_label(struct ctx *c, const char *node, const char *rev, bool blind)
{
	struct rollout_action *a = act_push(c, ROLLOUT_ACT_LABEL_NODE);

	if (!a)
		return;
	scpy(a->name, sizeof(a->name), node);
	scpy(a->rev, sizeof(a->rev), rev);
	snprintf(a->value, sizeof(a->value), "%lld%s", (long long)(c->now / 1000),
		 blind ? ".b" : "");
}

static void act_unlabel(struct ctx *c, const char *node, const char *rev)
{
	struct rollout_action *a = act_push(c, ROLLOUT_ACT_UNLABEL_NODE);

	if (!a)
		return;
	scpy(a->name, sizeof(a->name), node);
	scpy(a->rev, sizeof(a->rev), rev);
}

static void act_event(struct ctx *c, bool warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void act_event(struct ctx *c, bool warning, const char *reason, const char *fmt, ...)
{
	struct rollout_action *a = act_push(c, ROLLOUT_ACT_EVENT);
	va_list ap;

	if (!a)
		return;
	a->warning = warning;
	scpy(a->reason, sizeof(a->reason), reason);
	va_start(ap, fmt);
	if (vasprintf(&a->message, fmt, ap) < 0) {
		a->message = NULL;
		c->nomem = true;
	}
	va_end(ap);
}

static void act_ensure(struct ctx *c, const char *rev, const char *version, const char *image)
{
	struct rollout_action *a = act_push(c, ROLLOUT_ACT_ENSURE_REVISION);

	if (!a)
		return;
	scpy(a->rev, sizeof(a->rev), rev);
	scpy(a->version, sizeof(a->version), version);
	a->image = strdup(image ? image : "");
	if (!a->image)
		c->nomem = true;
}

/* ---- tracker ---- */

struct rollout_tracker *rollout_tracker_new(void)
{
	return calloc(1, sizeof(struct rollout_tracker));
}

void rollout_tracker_free(struct rollout_tracker *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	free(t);
}

static int tnode_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tnode *)a)->name, ((const struct tnode *)b)->name);
}

static struct tnode *tracker_find(struct rollout_tracker *t, const char *name)
{
	struct tnode key = {.name = (char *)name};

	return t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), tnode_cmp) : NULL;
}

void rollout_tracker_foreach(const struct rollout_tracker *t, int64_t now_ms,
			     void (*fn)(const char *node, double gap_s, double rollout_gap_s,
					void *arg),
			     void *arg)
{
	if (!t || !fn)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const struct tnode *e = &t->v[i];
		int64_t gap = e->gap_since ? now_ms - e->gap_since : 0;
		int64_t open = e->gap_since ? max64(0, gap - e->gap_counted) : 0;

		fn(e->name, gap / 1000.0, (e->rollout_gap_ms + open) / 1000.0, arg);
	}
}

static bool phase_active(enum rollout_result r)
{
	return r == ROLLOUT_IN_PROGRESS || r == ROLLOUT_ROLLING_BACK;
}

/* Ends e's coverage gap; counts it in the rollout totals when a rollout is active. */
static void gap_close(struct ctx *c, struct tnode *e)
{
	if (!e->gap_since)
		return;
	if (phase_active(c->st->last.result)) {
		int64_t len = max64(0, c->now - e->gap_since);
		int64_t open = max64(0, len - e->gap_counted);

		c->t->closed_total_ms += open;
		e->rollout_gap_ms += open;
		if (len > c->t->closed_max_ms)
			c->t->closed_max_ms = len;
	}
	e->gap_since = 0;
	e->gap_counted = 0;
}

/* Forgets the per-rollout numbers when a new rollout starts; gaps already open count from now. */
static void tracker_rollout_reset(struct ctx *c)
{
	c->t->closed_total_ms = 0;
	c->t->closed_max_ms = 0;
	for (size_t i = 0; i < c->t->n; i++) {
		struct tnode *e = &c->t->v[i];

		e->rollout_gap_ms = 0;
		e->gap_counted = e->gap_since ? c->now - e->gap_since : 0;
	}
}

/* Makes the tracker hold exactly the input's nodes (new entries seeded from the previous status'
 * problemNodes) plus entries for vanished nodes while a rollout is active. */
static int tracker_sync(struct ctx *c)
{
	struct rollout_tracker *t = c->t;
	const struct rollout_status *prev = c->in->prev;
	size_t n_new = 0;

	for (size_t i = 0; i < t->n; i++)
		t->v[i].seen = false;
	for (size_t i = 0; i < c->in->n_nodes; i++) {
		struct tnode *e = tracker_find(t, c->in->nodes[i].name);

		if (e)
			e->seen = true;
		else
			n_new++;
	}
	if (n_new) {
		struct tnode *v = realloc(t->v, (t->n + n_new) * sizeof(*v));
		size_t old_n = t->n;

		if (!v)
			return -ENOMEM;
		t->v = v;
		for (size_t i = 0; i < c->in->n_nodes; i++) {
			const char *name = c->in->nodes[i].name;
			struct tnode key = {.name = (char *)name};

			if (!name ||
			    (old_n && bsearch(&key, t->v, old_n, sizeof(*t->v), tnode_cmp)))
				continue;
			struct tnode *e = &t->v[t->n];

			memset(e, 0, sizeof(*e));
			e->name = strdup(name);
			if (!e->name)
				return -ENOMEM;
			e->seen = true;
			e->fresh = true;
			t->n++;
			if (!prev || t->seeded)
				continue;
			for (int p = 0; p < prev->n_problems; p++) {
				const struct rollout_problem *pr = &prev->problems[p];

				if (strcmp(pr->node, e->name) != 0)
					continue;
				e->restored_since = pr->since_ms;
				if (pr->gap_seconds > 0 && pr->since_ms > 0) {
					e->gap_since = pr->since_ms;
					e->gap_counted = (int64_t)(pr->gap_seconds * 1000);
					e->ever_covered = true;
				}
			}
		}
		qsort(t->v, t->n, sizeof(*t->v), tnode_cmp);
		/* duplicate names in the input: keep one */
		size_t k = 0;

		for (size_t i = 0; i < t->n; i++) {
			if (k && strcmp(t->v[k - 1].name, t->v[i].name) == 0) {
				free(t->v[i].name);
				continue;
			}
			t->v[k++] = t->v[i];
		}
		t->n = k;
	}
	/* vanished nodes: close their gap, keep them while a rollout is active (reported NodeGone)
	 */
	size_t k = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct tnode *e = &t->v[i];

		if (!e->seen) {
			gap_close(c, e);
			e->wait_since = 0;
			if (!e->gone) {
				e->gone = true;
				e->off_since = c->now;
			}
			if (!phase_active(c->st->last.result)) {
				free(e->name);
				continue;
			}
		} else {
			e->gone = false;
		}
		t->v[k++] = *e;
	}
	t->n = k;
	if (!t->seeded && prev) {
		t->closed_total_ms = (int64_t)(prev->last.total_gap_seconds * 1000);
		t->closed_max_ms = (int64_t)(prev->last.max_gap_seconds * 1000);
	}
	t->seeded = true;
	return 0;
}

/* ---- observation ---- */

static int pod_cmp(const void *a, const void *b)
{
	const struct rollout_pod *x = *(const struct rollout_pod *const *)a;
	const struct rollout_pod *y = *(const struct rollout_pod *const *)b;

	return strcmp(x->node ? x->node : "", y->node ? y->node : "");
}

static int rep_cmp(const void *a, const void *b)
{
	const struct rollout_report *x = *(const struct rollout_report *const *)a;
	const struct rollout_report *y = *(const struct rollout_report *const *)b;

	return strcmp(x->node ? x->node : "", y->node ? y->node : "");
}

/* First index in a node-sorted pointer array whose node is `node`, and the count, via lower bound.
 */
#define RANGE_FN(fname, T, field)                                                                  \
	static size_t fname(T *const *arr, size_t n, const char *node, size_t *count)              \
	{                                                                                          \
		size_t lo = 0, hi = n;                                                             \
		while (lo < hi) {                                                                  \
			size_t mid = (lo + hi) / 2;                                                \
			if (strcmp(arr[mid]->field ? arr[mid]->field : "", node) < 0)              \
				lo = mid + 1;                                                      \
			else                                                                       \
				hi = mid;                                                          \
		}                                                                                  \
		size_t e = lo;                                                                     \
		while (e < n && streq(arr[e]->field, node))                                        \
			e++;                                                                       \
		*count = e - lo;                                                                   \
		return lo;                                                                         \
	}

RANGE_FN(pods_of, const struct rollout_pod, node)
RANGE_FN(reps_of, const struct rollout_report, node)

/* Version of a revision, when known (spec, last good, rolled back or an existing DaemonSet). */
static const char *rev_version(struct ctx *c, const char *rev)
{
	if (streq(rev, c->spec_rev))
		return c->in->spec->driver_version;
	if (c->st->last_good_revision[0] && streq(rev, c->st->last_good_revision))
		return c->st->last_good_version;
	for (size_t i = 0; i < c->in->n_revisions; i++)
		if (streq(c->in->revisions[i].rev, rev))
			return c->in->revisions[i].version;
	if (c->st->rolled_back_revision[0] && streq(rev, c->st->rolled_back_revision))
		return c->st->rolled_back_version;
	return NULL;
}

/* Whether the node has detection on rev; *why says why not. */
static bool detect(struct ctx *c, const char *node, const char *rev, const char **why)
{
	size_t np, nr;
	size_t p0 = pods_of(c->pods, c->in->n_pods, node, &np);
	size_t r0 = reps_of(c->reps, c->in->n_reports, node, &nr);
	const char *version = rev_version(c, rev);
	int best = 0; /* 0 no pod, 1 not running, 2 no report, 3 stale, 4 unhealthy */
	const char *unhealthy = NULL;

	for (size_t i = p0; i < p0 + np; i++) {
		const struct rollout_pod *p = c->pods[i];

		if (!streq(p->rev, rev) || p->terminating)
			continue;
		if (p->phase != ROLLOUT_POD_RUNNING) {
			best = best < 1 ? 1 : best;
			continue;
		}
		best = best < 2 ? 2 : best;
		for (size_t j = r0; j < r0 + nr; j++) {
			const struct rollout_report *r = c->reps[j];
			bool match = (r->pod && r->pod[0])
					 ? streq(r->pod, p->name)
					 : (version && streq(r->driver_version, version));
			if (!match)
				continue;
			int hb = r->heartbeat_seconds > 0 ? r->heartbeat_seconds
							  : (c->in->spec->heartbeat_seconds > 0
								 ? c->in->spec->heartbeat_seconds
								 : DEFAULT_HEARTBEAT_S);
			int64_t stale_at =
			    r->heartbeat_ms + (int64_t)ROLLOUT_HEARTBEAT_MISSES * hb * 1000;

			if (c->now > stale_at) {
				best = best < 3 ? 3 : best;
				continue;
			}
			if (!(r->probe_loaded && r->rules_loaded && r->events_flowing)) {
				best = 4;
				unhealthy = r->reason && r->reason[0] ? r->reason : "NotDetecting";
				recheck_at(c, stale_at + 1);
				continue;
			}
			recheck_at(c, stale_at + 1);
			*why = NULL;
			return true;
		}
	}
	static const char *const whys[] = {"NoSensorPod", "PodNotRunning", "NoReport",
					   "HeartbeatStale"};
	*why = best == 4 ? unhealthy : whys[best];
	return false;
}

static bool label_match(const struct rollout_node *n, const struct rollout_kv *want, size_t n_want)
{
	if (!n_want)
		return false;
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;

		for (size_t j = 0; j < n->n_labels && !found; j++)
			found = streq(n->labels[j].key, want[i].key) &&
				streq(n->labels[j].value, want[i].value);
		if (!found)
			return false;
	}
	return true;
}

/* Parses "1733231234" or "1733231234.b" (moved while blind); other values give 0. */
static void parse_label_value(const char *v, int64_t *at_ms, bool *blind)
{
	char *end = NULL;
	long long s;

	*at_ms = 0;
	*blind = false;
	if (!v || !*v)
		return;
	s = strtoll(v, &end, 10);
	if (end == v || s <= 0)
		return;
	if (*end && strcmp(end, ".b") != 0)
		return;
	*at_ms = (int64_t)s * 1000;
	*blind = *end != 0;
}

static void observe_node(struct ctx *c, struct nwork *w)
{
	const struct rollout_node *n = w->n;
	size_t plen = strlen(ROLLOUT_NODE_LABEL_PREFIX);

	w->n_revs = 0;
	for (size_t i = 0; i < n->n_labels && w->n_revs < MAX_NODE_REVS; i++) {
		const char *k = n->labels[i].key;

		if (!k || strncmp(k, ROLLOUT_NODE_LABEL_PREFIX, plen) != 0)
			continue;
		if (!k[plen] || strlen(k + plen) >= ROLLOUT_REV_LEN)
			continue;
		struct nrev *r = &w->revs[w->n_revs++];

		scpy(r->rev, sizeof(r->rev), k + plen);
		parse_label_value(n->labels[i].value, &r->at_ms, &r->blind);
	}
	/* deterministic order whatever the label order */
	for (int i = 1; i < w->n_revs; i++)
		for (int j = i; j > 0 && strcmp(w->revs[j - 1].rev, w->revs[j].rev) > 0; j--) {
			struct nrev tmp = w->revs[j];

			w->revs[j] = w->revs[j - 1];
			w->revs[j - 1] = tmp;
		}
	w->covered = false;
	for (int i = 0; i < w->n_revs; i++) {
		w->revs[i].det = detect(c, n->name, w->revs[i].rev, &w->revs[i].why);
		w->covered |= w->revs[i].det;
	}
	w->canary = label_match(n, c->pol.canary, c->pol.n_canary);
	w->eligible = n->targeted && n->ready && !n->deleted;
}

static int rev_index(const struct nwork *w, const char *rev)
{
	for (int i = 0; i < w->n_revs; i++)
		if (streq(w->revs[i].rev, rev))
			return i;
	return -1;
}

/* Updates the coverage gap clock of a node. */
static void track_gap(struct ctx *c, struct nwork *w)
{
	struct tnode *e = w->te;

	if (!w->eligible) {
		gap_close(c, e);
		e->wait_since = 0;
		if (!e->off_since)
			e->off_since = c->now;
		return;
	}
	e->came_back = e->off_since != 0;
	e->off_since = 0;
	if (w->covered) {
		gap_close(c, e);
		e->ever_covered = true;
	} else if (!e->gap_since) {
		/* Nodes that never had detection (a first install) have no gap to measure. A node
		 * first seen blind on the one revision it was moved to (make-before-break off) lost
		 * its coverage when it was moved. */
		bool moved = w->n_revs == 1 && w->revs[0].at_ms && !w->revs[0].blind;

		if (e->ever_covered || (e->fresh && moved)) {
			e->gap_since = (e->fresh && moved) ? w->revs[0].at_ms : c->now;
			e->gap_counted = 0;
			e->ever_covered = true;
		}
	}
}

/* Updates the "without detection on D" clock used for the budget. */
static void track_wait(struct ctx *c, struct nwork *w)
{
	struct tnode *e = w->te;

	w->d = rev_index(w, c->d);
	if (!w->eligible || w->d < 0 || w->revs[w->d].det) {
		e->wait_since = 0;
		e->wait_rev[0] = 0;
		return;
	}
	if (e->wait_since && streq(e->wait_rev, c->d))
		return;
	int64_t since = (w->revs[w->d].at_ms && !e->came_back) ? w->revs[w->d].at_ms : c->now;

	if (e->restored_since > since)
		since = e->restored_since;
	if (since > c->now)
		since = c->now;
	e->wait_since = since;
	e->wait_excused = w->revs[w->d].blind;
	scpy(e->wait_rev, sizeof(e->wait_rev), c->d);
}

static bool over_budget(struct ctx *c, const struct nwork *w)
{
	return w->eligible && w->te->wait_since &&
	       c->now - w->te->wait_since > (int64_t)c->pol.gap_budget_seconds * 1000;
}

/* ---- status ---- */

static void set_cond(struct ctx *c, enum rollout_cond_type type, enum rollout_cond_status s,
		     const char *reason, const char *msg)
{
	struct rollout_cond *cd = &c->st->conds[type];
	const struct rollout_cond *pc = c->in->prev ? &c->in->prev->conds[type] : NULL;

	cd->status = s;
	scpy(cd->reason, sizeof(cd->reason), reason);
	scpy(cd->message, sizeof(cd->message), msg);
	cd->observed_generation = c->in->spec->generation;
	cd->transition_ms =
	    (pc && pc->status == s && pc->transition_ms) ? pc->transition_ms : c->now;
}

struct prob {
	int cat; /* 0 over budget, 1 blind, 2 not ready, 3 gone */
	const char *node;
	const char *reason;
	int64_t gap_ms;
	int64_t since;
};

static int prob_cmp(const void *a, const void *b)
{
	const struct prob *x = a, *y = b;

	if (x->cat != y->cat)
		return x->cat - y->cat;
	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return strcmp(x->node, y->node);
}

/* Appends "name (reason, 12s)" items to buf while room is left. */
static void list_nodes(char *buf, size_t n, const struct prob *p, size_t np, int64_t now, bool wait)
{
	size_t len = strlen(buf);

	for (size_t i = 0; i < np && len + 1 < n; i++) {
		int64_t t = wait ? now - p[i].since : p[i].gap_ms;
		/* whole seconds, rounded up: "longer than 10s: a (..., 11s)" */
		int w = snprintf(buf + len, n - len, "%s%s (%s, %llds)", i ? ", " : "", p[i].node,
				 p[i].reason, (long long)((t + 999) / 1000));

		if (w < 0 || (size_t)w >= n - len) {
			buf[len] = 0;
			if (len + 5 < n)
				strcat(buf, ", ...");
			break;
		}
		len += (size_t)w;
	}
}

static const char *why_blind(const struct nwork *w)
{
	if (w->d >= 0)
		return w->revs[w->d].why ? w->revs[w->d].why : "NotDetecting";
	for (int i = 0; i < w->n_revs; i++)
		if (w->revs[i].why)
			return w->revs[i].why;
	return "NoSensorPod";
}

/* ---- the step ---- */

static int cmp_order(const void *a, const void *b)
{
	const struct nwork *x = a, *y = b;

	if (x->canary != y->canary)
		return x->canary ? -1 : 1;
	return strcmp(x->n->name, y->n->name);
}

static void start_rollout(struct ctx *c)
{
	struct rollout_status *st = c->st;

	scpy(st->last.from_version, sizeof(st->last.from_version), st->last_good_version);
	scpy(st->last.to_version, sizeof(st->last.to_version), c->in->spec->driver_version);
	st->last.start_ms = c->now;
	st->last.completion_ms = 0;
	st->last.max_gap_seconds = 0;
	st->last.total_gap_seconds = 0;
	st->last.result = ROLLOUT_IN_PROGRESS;
	tracker_rollout_reset(c);
}

static void do_rollback(struct ctx *c, const struct prob *over, size_t n_over)
{
	struct rollout_status *st = c->st;
	char msg[ROLLOUT_MESSAGE_LEN];
	struct rollout_action *a;

	snprintf(msg, sizeof(msg),
		 "%zu nodes without detection on %s for longer than %ds: ", n_over,
		 c->in->spec->driver_version, c->pol.gap_budget_seconds);
	list_nodes(msg, sizeof(msg), over, n_over, c->now, true);
	scpy(st->rolled_back_revision, sizeof(st->rolled_back_revision), c->spec_rev);
	scpy(st->rolled_back_version, sizeof(st->rolled_back_version), c->in->spec->driver_version);
	scpy(st->conds[ROLLOUT_COND_ROLLED_BACK].message, ROLLOUT_MESSAGE_LEN, msg);
	st->last.result = ROLLOUT_ROLLING_BACK;
	a = act_push(c, ROLLOUT_ACT_ROLLBACK);
	if (a) {
		scpy(a->rev, sizeof(a->rev), st->last_good_revision);
		scpy(a->version, sizeof(a->version), c->in->spec->driver_version);
	}
	act_event(c, true, "CoverageLost", "rolling back %s to %s: %s", c->in->spec->driver_version,
		  st->last_good_version, msg);
	c->d = st->last_good_revision;
}

/* Emits the label changes of one node for this step. Returns true when it now occupies a slot. */
static bool plan_node(struct ctx *c, struct nwork *w, bool *candidate)
{
	const char *node = w->n->name;
	struct rollout_status *st = c->st;

	*candidate = false;
	if (w->d >= 0 && w->revs[w->d].det) {
		/* done: the new sensor detects, stop the others */
		for (int i = 0; i < w->n_revs; i++)
			if (i != w->d)
				act_unlabel(c, node, w->revs[i].rev);
		return false;
	}
	if (w->d >= 0) {
		/* in flight on D */
		bool others_detect = false;

		for (int i = 0; i < w->n_revs; i++)
			others_detect |= i != w->d && w->revs[i].det;
		if (c->pol.make_before_break && others_detect && w->te->wait_since) {
			/* new pod can't be placed beside the old one (ports, resources): break
			 * first */
			size_t np;
			size_t p0 = pods_of(c->pods, c->in->n_pods, node, &np);
			bool pending = false;

			for (size_t i = p0; i < p0 + np; i++)
				pending |= streq(c->pods[i]->rev, c->d) &&
					   !c->pods[i]->terminating &&
					   c->pods[i]->phase == ROLLOUT_POD_PENDING;
			int64_t at =
			    w->te->wait_since + (int64_t)c->pol.gap_budget_seconds * 1000 / 2;

			if (pending && c->now >= at) {
				for (int i = 0; i < w->n_revs; i++)
					if (i != w->d)
						act_unlabel(c, node, w->revs[i].rev);
				act_event(c, true, "MakeBeforeBreakUnavailable",
					  "node %s: new sensor pod still Pending, stopping the old "
					  "sensor first (coverage gap measured)",
					  node);
				if (!w->te->gap_since) {
					w->te->gap_since = c->now;
					w->te->gap_counted = 0;
				}
			} else if (pending) {
				recheck_at(c, at);
			}
		}
		if (!over_budget(c, w)) {
			recheck_at(c, w->te->wait_since +
					  (int64_t)c->pol.gap_budget_seconds * 1000 + 1);
			return true;
		}
		return false; /* failed here: reported, frees its slot */
	}
	if (w->n_revs == 0) {
		/* a node without any sensor: nothing to keep, give it one now */
		const char *rev =
		    (st->last.result == ROLLOUT_IN_PROGRESS && st->last_good_revision[0])
			? st->last_good_revision
			: c->d;

		act_label(c, node, rev, true);
		c->out->n_steps++;
		w->started = true;
		return false;
	}
	if (w->covered) {
		/* keep one detecting sensor (the last good one when it detects), stop the rest */
		int keep = -1;

		for (int i = 0; i < w->n_revs; i++)
			if (w->revs[i].det &&
			    (keep < 0 || streq(w->revs[i].rev, st->last_good_revision)))
				keep = i;
		for (int i = 0; i < w->n_revs; i++)
			if (i != keep)
				act_unlabel(c, node, w->revs[i].rev);
		if (keep > 0)
			w->revs[0] = w->revs[keep];
		w->n_revs = 1;
		*candidate = true;
		return false;
	}
	/* blind on revisions that are no longer wanted: moving it costs no coverage */
	if (c->pol.paused)
		return false;
	act_label(c, node, c->d, true);
	for (int i = 0; i < w->n_revs; i++)
		act_unlabel(c, node, w->revs[i].rev);
	w->te->wait_since = c->now;
	w->te->wait_excused = true;
	scpy(w->te->wait_rev, sizeof(w->te->wait_rev), c->d);
	c->out->n_steps++;
	w->started = true;
	return true;
}

static void start_node(struct ctx *c, struct nwork *w)
{
	const char *node = w->n->name;

	act_label(c, node, c->d, false);
	if (!c->pol.make_before_break) {
		for (int i = 0; i < w->n_revs; i++)
			act_unlabel(c, node, w->revs[i].rev);
		if (!w->te->gap_since) {
			w->te->gap_since = c->now;
			w->te->gap_counted = 0;
		}
	}
	w->te->wait_since = c->now;
	w->te->wait_excused = false;
	scpy(w->te->wait_rev, sizeof(w->te->wait_rev), c->d);
	w->started = true;
	c->out->n_steps++;
	recheck_at(c, c->now + (int64_t)c->pol.gap_budget_seconds * 1000 + 1);
}

static bool rev_used(struct ctx *c, const char *rev)
{
	for (size_t i = 0; i < c->in->n_nodes; i++) {
		const struct rollout_node *n = &c->in->nodes[i];
		size_t plen = strlen(ROLLOUT_NODE_LABEL_PREFIX);

		for (size_t j = 0; j < n->n_labels; j++)
			if (n->labels[j].key &&
			    strncmp(n->labels[j].key, ROLLOUT_NODE_LABEL_PREFIX, plen) == 0 &&
			    streq(n->labels[j].key + plen, rev))
				return true;
	}
	for (size_t i = 0; i < c->out->n_actions; i++)
		if (c->out->actions[i].kind == ROLLOUT_ACT_LABEL_NODE &&
		    streq(c->out->actions[i].rev, rev))
			return true;
	return false;
}

/* The DaemonSets that must exist before nodes are labelled for them: D, and the last good one while
 * a rollout may return to it or nodes still use it. */
static bool need_last_good(struct ctx *c)
{
	const char *g = c->st->last_good_revision;

	return g[0] && !streq(g, c->d) && (phase_active(c->st->last.result) || rev_used(c, g));
}

static void plan_ensure(struct ctx *c)
{
	struct rollout_status *st = c->st;

	if (streq(c->d, c->spec_rev))
		act_ensure(c, c->d, c->in->spec->driver_version, c->in->spec->image);
	else
		act_ensure(c, c->d, st->last_good_version, st->last_good_image);
	if (need_last_good(c))
		act_ensure(c, st->last_good_revision, st->last_good_version, st->last_good_image);
}

/* DaemonSets no node uses any more (after the step's label actions). */
static void plan_deletes(struct ctx *c)
{
	struct rollout_status *st = c->st;
	bool need_g = need_last_good(c);

	for (size_t i = 0; i < c->in->n_revisions; i++) {
		const char *rev = c->in->revisions[i].rev;

		if (streq(rev, c->d) || (need_g && streq(rev, st->last_good_revision)) ||
		    rev_used(c, rev))
			continue;
		if (streq(rev, c->spec_rev) && !streq(st->rolled_back_revision, c->spec_rev))
			continue;
		struct rollout_action *a = act_push(c, ROLLOUT_ACT_DELETE_REVISION);

		if (a)
			scpy(a->rev, sizeof(a->rev), rev);
	}
}

static void plan_stuck_pods(struct ctx *c)
{
	for (size_t i = 0; i < c->in->n_pods; i++) {
		const struct rollout_pod *p = &c->in->pods[i];
		const struct rollout_node *n = NULL;

		if (!p->terminating)
			continue;
		for (size_t j = 0; j < c->n_w && !n; j++)
			if (streq(c->w[j].n->name, p->node))
				n = c->w[j].n;
		if (n && n->ready && !n->deleted)
			continue; /* a live kubelet finishes it */
		if (c->now < p->deletion_ms) {
			recheck_at(c, p->deletion_ms);
			continue;
		}
		struct rollout_action *a = act_push(c, ROLLOUT_ACT_DELETE_POD);

		if (a)
			scpy(a->name, sizeof(a->name), p->name);
	}
}

static void compute_status(struct ctx *c, struct prob *probs, size_t n_probs, int eligible,
			   int updated)
{
	struct rollout_status *st = c->st;
	const char *dver = rev_version(c, c->d);
	char msg[ROLLOUT_MESSAGE_LEN];
	int total = 0, with = 0, not_ready = 0;
	const char *cur = NULL;
	bool mixed = false;

	for (size_t i = 0; i < c->n_w; i++) {
		const struct nwork *w = &c->w[i];

		if (!w->n->targeted || w->n->deleted)
			continue;
		total++;
		if (!w->eligible) {
			not_ready++;
			continue;
		}
		with += w->covered;
		if (w->n_revs != 1 || w->started) {
			mixed = true;
		} else {
			const char *v = rev_version(c, w->revs[0].rev);

			if (!v || (cur && !streq(cur, v)))
				mixed = true;
			cur = v;
		}
	}
	st->nodes_total = total;
	st->nodes_updated = updated;
	st->nodes_with_detection = with;
	st->nodes_without_detection = total - with;
	scpy(st->current_version, sizeof(st->current_version), (!mixed && cur) ? cur : "");
	st->observed_generation = c->in->spec->generation;

	/* problems, bounded */
	qsort(probs, n_probs, sizeof(*probs), prob_cmp);
	st->n_problems = 0;
	for (size_t i = 0; i < n_probs && st->n_problems < ROLLOUT_PROBLEMS_MAX; i++) {
		struct rollout_problem *p = &st->problems[st->n_problems++];

		scpy(p->node, sizeof(p->node), probs[i].node);
		scpy(p->reason, sizeof(p->reason), probs[i].reason);
		p->gap_seconds = (double)(probs[i].gap_ms / 1000);
		p->since_ms = probs[i].since;
	}

	/* Available */
	if (!total) {
		set_cond(c, ROLLOUT_COND_AVAILABLE, ROLLOUT_FALSE, "NoNodes", "no targeted nodes");
	} else {
		snprintf(msg, sizeof(msg), "%d/%d nodes with detection", with, total);
		if (not_ready)
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " (%d not ready)",
				 not_ready);
		if (eligible && with == eligible)
			set_cond(c, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered", msg);
		else
			set_cond(c, ROLLOUT_COND_AVAILABLE, ROLLOUT_FALSE, "NodesWithoutDetection",
				 msg);
	}

	/* Progressing */
	switch (st->last.result) {
	case ROLLOUT_IN_PROGRESS:
		snprintf(msg, sizeof(msg), "%d/%d nodes updated to %s", updated, eligible,
			 c->in->spec->driver_version);
		if (c->pol.paused)
			set_cond(c, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "Paused", msg);
		else
			set_cond(c, ROLLOUT_COND_PROGRESSING, ROLLOUT_TRUE, "RollingOut", msg);
		break;
	case ROLLOUT_ROLLING_BACK:
		snprintf(msg, sizeof(msg), "rolling back to %s: %d/%d nodes", dver ? dver : "",
			 updated, eligible);
		set_cond(c, ROLLOUT_COND_PROGRESSING, ROLLOUT_TRUE, "RollingBack", msg);
		break;
	case ROLLOUT_ROLLED_BACK:
		snprintf(msg, sizeof(msg), "%d/%d nodes back on %s", updated, eligible,
			 dver ? dver : "");
		set_cond(c, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "RolledBack", msg);
		break;
	default:
		snprintf(msg, sizeof(msg), "%d/%d nodes updated to %s", updated, eligible,
			 dver ? dver : "");
		set_cond(c, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "RolloutComplete", msg);
		break;
	}
	/* Degraded */
	if (n_probs) {
		snprintf(msg, sizeof(msg), "%zu nodes with problems: ", n_probs);
		list_nodes(msg, sizeof(msg), probs, n_probs < 5 ? n_probs : 5, c->now, false);
		set_cond(c, ROLLOUT_COND_DEGRADED, ROLLOUT_TRUE, probs[0].reason, msg);
	} else {
		set_cond(c, ROLLOUT_COND_DEGRADED, ROLLOUT_FALSE, "AsExpected", "");
	}

	/* RolledBack */
	if (st->rolled_back_revision[0]) {
		scpy(msg, sizeof(msg), st->conds[ROLLOUT_COND_ROLLED_BACK].message);
		set_cond(c, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_TRUE, "CoverageLost", msg);
	} else {
		set_cond(c, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_FALSE, "NotRolledBack", "");
	}

	/* gap totals of the active rollout */
	if (phase_active(st->last.result) ||
	    (c->in->prev && phase_active(c->in->prev->last.result))) {
		int64_t total_ms = c->t->closed_total_ms, max_ms = c->t->closed_max_ms;

		for (size_t i = 0; i < c->t->n; i++) {
			const struct tnode *e = &c->t->v[i];

			if (!e->gap_since)
				continue;
			int64_t len = c->now - e->gap_since;

			total_ms += max64(0, len - e->gap_counted);
			if (len > max_ms)
				max_ms = len;
		}
		st->last.total_gap_seconds = total_ms / 1000.0;
		st->last.max_gap_seconds = max_ms / 1000.0;
	}
}

int rollout_step(struct rollout_tracker *t, const struct rollout_input *in,
		 struct rollout_plan *out)
{
	struct ctx c = {.in = in, .t = t, .out = out};
	struct rollout_status *st;
	struct prob *probs = NULL;
	size_t n_probs = 0;
	int ret = 0;

	if (!t || !in || !in->spec || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	st = c.st = &out->status;
	c.now = in->now_ms;
	if (in->prev)
		*st = *in->prev;
	c.pol = in->spec->policy;
	if (c.pol.max_parallel < 1)
		c.pol.max_parallel = 1;
	if (c.pol.gap_budget_seconds < 1)
		c.pol.gap_budget_seconds = 1;
	if (c.pol.max_nodes_without_detection < 0)
		c.pol.max_nodes_without_detection = 0;
	rollout_revision_id(in->spec->fleet, in->spec->driver_version, in->spec->image,
			    c.spec_rev);

	/* phase: a new spec starts (or supersedes) a rollout and clears an earlier rollback */
	if (!streq(st->target_revision, c.spec_rev)) {
		if (st->target_revision[0] && phase_active(st->last.result))
			act_event(&c, false, "RolloutSuperseded", "rollout to %s superseded by %s",
				  st->target_version, in->spec->driver_version);
		st->rolled_back_revision[0] = 0;
		st->rolled_back_version[0] = 0;
		st->conds[ROLLOUT_COND_ROLLED_BACK].message[0] = 0;
		scpy(st->target_revision, sizeof(st->target_revision), c.spec_rev);
		scpy(st->target_version, sizeof(st->target_version), in->spec->driver_version);
		start_rollout(&c);
		act_event(&c, false, "RolloutStarted", "rolling out %s (from %s)",
			  in->spec->driver_version,
			  st->last_good_version[0] ? st->last_good_version : "nothing");
	}
	c.d = (st->rolled_back_revision[0] && streq(st->rolled_back_revision, c.spec_rev) &&
	       st->last_good_revision[0])
		  ? st->last_good_revision
		  : c.spec_rev;

	ret = tracker_sync(&c);
	if (ret)
		goto out;

	/* observation */
	c.pods = calloc(in->n_pods + 1, sizeof(*c.pods));
	c.reps = calloc(in->n_reports + 1, sizeof(*c.reps));
	c.w = calloc(in->n_nodes + 1, sizeof(*c.w));
	probs = calloc(in->n_nodes + t->n + 1, sizeof(*probs));
	if (!c.pods || !c.reps || !c.w || !probs) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < in->n_pods; i++)
		c.pods[i] = &in->pods[i];
	for (size_t i = 0; i < in->n_reports; i++)
		c.reps[i] = &in->reports[i];
	qsort(c.pods, in->n_pods, sizeof(*c.pods), pod_cmp);
	qsort(c.reps, in->n_reports, sizeof(*c.reps), rep_cmp);
	for (size_t i = 0; i < in->n_nodes; i++) {
		struct nwork *w = &c.w[c.n_w];

		if (!in->nodes[i].name)
			continue;
		w->n = &in->nodes[i];
		w->te = tracker_find(t, w->n->name);
		observe_node(&c, w);
		c.n_w++;
	}
	qsort(c.w, c.n_w, sizeof(*c.w), cmp_order);
	for (size_t i = 0; i < c.n_w; i++) {
		track_gap(&c, &c.w[i]);
		track_wait(&c, &c.w[i]);
	}

	/* the budget: more than maxNodesWithoutDetection moved nodes blind on D for too long */
	if (st->last.result == ROLLOUT_IN_PROGRESS && st->last_good_revision[0] &&
	    !streq(st->last_good_revision, c.d)) {
		size_t n_over = 0;

		for (size_t i = 0; i < c.n_w; i++) {
			struct nwork *w = &c.w[i];

			if (!over_budget(&c, w) || w->te->wait_excused)
				continue;
			probs[n_over++] = (struct prob){.cat = 0,
							.node = w->n->name,
							.reason = why_blind(w),
							.since = w->te->wait_since};
		}
		if (n_over > (size_t)c.pol.max_nodes_without_detection) {
			qsort(probs, n_over, sizeof(*probs), prob_cmp);
			do_rollback(&c, probs, n_over);
			for (size_t i = 0; i < c.n_w; i++)
				track_wait(&c, &c.w[i]);
		}
	}

	plan_ensure(&c);

	/* node moves */
	int busy = 0, eligible = 0, fully_done = 0, updated = 0;

	for (size_t i = 0; i < c.n_w; i++) {
		struct nwork *w = &c.w[i];
		bool cand;

		if (!w->n->targeted) {
			for (int k = 0; k < w->n_revs; k++)
				act_unlabel(&c, w->n->name, w->revs[k].rev);
			continue;
		}
		if (!w->eligible)
			continue;
		eligible++;
		if (w->d >= 0 && w->revs[w->d].det) {
			updated++;
			fully_done++;
		}
		busy += plan_node(&c, w, &cand);
	}
	for (size_t i = 0; i < c.n_w && busy < c.pol.max_parallel && !c.pol.paused; i++) {
		struct nwork *w = &c.w[i];

		if (!w->eligible || !w->n->targeted || w->started || w->d >= 0 || !w->covered)
			continue;
		start_node(&c, w);
		busy++;
	}

	/* completion */
	bool all_done = eligible > 0 && fully_done == eligible;

	if (all_done) {
		for (size_t i = 0; i < c.n_w; i++)
			if (c.w[i].eligible && c.w[i].n_revs != 1)
				all_done = false;
	}
	if (all_done && st->last.result == ROLLOUT_IN_PROGRESS) {
		st->last.result = ROLLOUT_SUCCEEDED;
		st->last.completion_ms = c.now;
		scpy(st->last_good_revision, sizeof(st->last_good_revision), c.spec_rev);
		scpy(st->last_good_version, sizeof(st->last_good_version),
		     in->spec->driver_version);
		scpy(st->last_good_image, sizeof(st->last_good_image), in->spec->image);
	} else if (all_done && st->last.result == ROLLOUT_ROLLING_BACK) {
		st->last.result = ROLLOUT_ROLLED_BACK;
		st->last.completion_ms = c.now;
	}

	/* problems */
	n_probs = 0;
	for (size_t i = 0; i < c.n_w; i++) {
		struct nwork *w = &c.w[i];
		struct prob *p = &probs[n_probs];

		if (!w->n->targeted)
			continue;
		if (!w->eligible) {
			*p = (struct prob){.cat = w->n->deleted ? 3 : 2,
					   .node = w->n->name,
					   .reason = w->n->deleted ? "NodeDeleted" : "NodeNotReady",
					   .since = w->te->off_since};
			n_probs++;
			continue;
		}
		int64_t gap = w->te->gap_since ? c.now - w->te->gap_since : 0;

		if (over_budget(&c, w)) {
			*p = (struct prob){.cat = 0,
					   .node = w->n->name,
					   .reason = why_blind(w),
					   .gap_ms = gap,
					   .since = w->te->wait_since};
			n_probs++;
		} else if (!w->covered && !w->started) {
			*p = (struct prob){.cat = 1,
					   .node = w->n->name,
					   .reason = why_blind(w),
					   .gap_ms = gap,
					   .since = w->te->gap_since};
			n_probs++;
		}
	}
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].gone)
			probs[n_probs++] = (struct prob){.cat = 3,
							 .node = t->v[i].name,
							 .reason = "NodeGone",
							 .since = t->v[i].off_since};

	plan_stuck_pods(&c);
	plan_deletes(&c);
	compute_status(&c, probs, n_probs, eligible, updated);
	if (st->last.result == ROLLOUT_SUCCEEDED && in->prev &&
	    in->prev->last.result == ROLLOUT_IN_PROGRESS)
		act_event(&c, false, "RolloutSucceeded",
			  "%d/%d nodes on %s with detection; coverage gap max %.0fs, total %.0fs",
			  updated, eligible, in->spec->driver_version, st->last.max_gap_seconds,
			  st->last.total_gap_seconds);
	if (st->last.result == ROLLOUT_ROLLED_BACK && in->prev &&
	    in->prev->last.result == ROLLOUT_ROLLING_BACK)
		act_event(&c, false, "RollbackComplete", "%d/%d nodes back on %s with detection",
			  updated, eligible, st->last_good_version);
	if (c.pol.paused !=
		(in->prev && streq(in->prev->conds[ROLLOUT_COND_PROGRESSING].reason, "Paused")) &&
	    st->last.result == ROLLOUT_IN_PROGRESS)
		act_event(&c, false, c.pol.paused ? "RolloutPaused" : "RolloutResumed",
			  "rollout to %s %s at %d/%d nodes", in->spec->driver_version,
			  c.pol.paused ? "paused" : "resumed", updated, eligible);
	for (size_t i = 0; i < t->n; i++) {
		t->v[i].restored_since = 0;
		t->v[i].fresh = false;
		t->v[i].came_back = false;
	}
	if (c.nomem)
		ret = -ENOMEM;
out:
	free(c.pods);
	free(c.reps);
	free(c.w);
	free(probs);
	return ret;
}
