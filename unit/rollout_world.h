/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rollout_world: a tiny simulated cluster for the rollout state machine tests. It plays the
 * DaemonSet controller (one pod per node and labelled revision), the kubelet (terminating pods go
 * away on Ready nodes, stay forever on NotReady ones), the sensors (healthy after a per
 * node/version delay; versions containing "bad" never load the probe) and the operator's executor
 * (applies label/pod actions, persists status). Time is a fake clock advanced by world_tick().
 */
#ifndef VIGIL_UNIT_ROLLOUT_WORLD_H
#define VIGIL_UNIT_ROLLOUT_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operator/rollout/rollout.h"

#define W_NODES 16
#define W_LABELS 8
#define W_PODS 256
#define W_LOG 8192
#define W_T0 1800000000000LL /* 2027-01-15, in ms */

struct wlabel {
	char key[96];
	char value[32];
};

struct wnode {
	char name[64];
	struct wlabel labels[W_LABELS];
	int n_labels;
	bool ready, deleted, present;
};

struct wpod {
	char name[96];
	char node[64];
	char rev[ROLLOUT_REV_LEN];
	char version[64];
	bool alive, terminating;
	int64_t deletion_ms, started_ms, last_hb_ms;
};

struct wlog {
	int64_t at;
	enum rollout_action_kind kind;
	char rev[ROLLOUT_REV_LEN];
	char name[ROLLOUT_NAME_LEN];
	char value[24];
	char reason[64];
	char msg[ROLLOUT_MESSAGE_LEN];
	bool warning;
};

struct wover {
	char node[64];
	char version[64];
	int64_t delay_ms; /* -1: never loads */
};

struct world {
	int64_t now;
	struct wnode nodes[W_NODES];
	int n_nodes;
	struct wpod pods[W_PODS];
	int n_pods, pod_seq;
	struct {
		char rev[ROLLOUT_REV_LEN];
		char version[64];
		char image[128];
	} ds[16];
	int n_ds;
	int64_t delay_ms;
	struct wover over[16];
	int n_over;
	char version[64], image[128];
	struct rollout_kv canary[2];
	struct rollout_spec spec;
	struct rollout_status status;
	bool have_status;
	struct rollout_tracker *tr;
	struct wlog log[W_LOG];
	int n_log;
	int64_t recheck_ms;
	int max_blind, max_moving; /* worst seen since the last reset */
};

/* Bounded copy between fields of the same world (snprintf would trip -Wrestrict). */
static inline void wcpy(char *d, size_t n, const char *s)
{
	size_t l = strnlen(s, n - 1);

	memmove(d, s, l);
	d[l] = 0;
}

static inline struct world *world_new(int n_nodes)
{
	struct world *w = calloc(1, sizeof(*w));

	w->now = W_T0;
	w->n_nodes = n_nodes;
	for (int i = 0; i < n_nodes; i++) {
		snprintf(w->nodes[i].name, sizeof(w->nodes[i].name), "node-%d", i);
		w->nodes[i].ready = w->nodes[i].present = true;
	}
	w->delay_ms = 3000;
	rollout_policy_init(&w->spec.policy);
	w->spec.heartbeat_seconds = 10;
	w->spec.generation = 1;
	w->tr = rollout_tracker_new();
	return w;
}

static inline void world_free(struct world *w)
{
	if (!w)
		return;
	rollout_tracker_free(w->tr);
	free(w);
}

static inline void world_rev(const char *version, char out[ROLLOUT_REV_LEN])
{
	char img[128];

	snprintf(img, sizeof(img), "vigil/sensor:%s", version);
	rollout_revision_id(NULL, version, img, out);
}

static inline void world_set_version(struct world *w, const char *version)
{
	snprintf(w->version, sizeof(w->version), "%s", version);
	snprintf(w->image, sizeof(w->image), "vigil/sensor:%s", version);
	w->spec.driver_version = w->version;
	w->spec.image = w->image;
	w->spec.generation++;
}

static inline struct wnode *world_node(struct world *w, const char *name)
{
	for (int i = 0; i < w->n_nodes; i++)
		if (strcmp(w->nodes[i].name, name) == 0)
			return &w->nodes[i];
	return NULL;
}

static inline struct wlabel *wnode_label(struct wnode *n, const char *key)
{
	for (int i = 0; i < n->n_labels; i++)
		if (strcmp(n->labels[i].key, key) == 0)
			return &n->labels[i];
	return NULL;
}

static inline void wnode_set_label(struct wnode *n, const char *key, const char *value)
{
	struct wlabel *l = wnode_label(n, key);

	if (!l && n->n_labels < W_LABELS)
		l = &n->labels[n->n_labels++];
	if (!l)
		return;
	snprintf(l->key, sizeof(l->key), "%s", key);
	snprintf(l->value, sizeof(l->value), "%s", value);
}

static inline void wnode_del_label(struct wnode *n, const char *key)
{
	for (int i = 0; i < n->n_labels; i++)
		if (strcmp(n->labels[i].key, key) == 0) {
			n->labels[i] = n->labels[--n->n_labels];
			return;
		}
}

/* Whether node carries the sensor label of `version`. */
static inline bool world_on(struct world *w, const char *node, const char *version)
{
	char rev[ROLLOUT_REV_LEN], key[96];

	world_rev(version, rev);
	snprintf(key, sizeof(key), ROLLOUT_NODE_LABEL_PREFIX "%s", rev);
	return wnode_label(world_node(w, node), key) != NULL;
}

static inline int world_n_sensor_labels(struct world *w, const char *node)
{
	struct wnode *n = world_node(w, node);
	int k = 0;

	for (int i = 0; i < n->n_labels; i++)
		k += strncmp(n->labels[i].key, ROLLOUT_NODE_LABEL_PREFIX,
			     strlen(ROLLOUT_NODE_LABEL_PREFIX)) == 0;
	return k;
}

/* Delay before a sensor of version on node detects; -1 never. */
static inline int64_t world_delay(struct world *w, const char *node, const char *version)
{
	for (int i = 0; i < w->n_over; i++)
		if (strcmp(w->over[i].node, node) == 0 && strcmp(w->over[i].version, version) == 0)
			return w->over[i].delay_ms;
	if (strstr(version, "bad"))
		return -1;
	return w->delay_ms;
}

static inline void world_override(struct world *w, const char *node, const char *version,
				  int64_t delay_ms)
{
	struct wover *o = &w->over[w->n_over++];

	snprintf(o->node, sizeof(o->node), "%s", node);
	snprintf(o->version, sizeof(o->version), "%s", version);
	o->delay_ms = delay_ms;
}

static inline const char *world_ds_version(struct world *w, const char *rev)
{
	for (int i = 0; i < w->n_ds; i++)
		if (strcmp(w->ds[i].rev, rev) == 0)
			return w->ds[i].version;
	return NULL;
}

static inline bool world_pod_healthy(struct world *w, const struct wpod *p)
{
	int64_t d = world_delay(w, p->node, p->version);

	return p->alive && !p->terminating && d >= 0 && w->now - p->started_ms >= d;
}

/* The DaemonSet controllers and kubelets. */
static inline void world_sync_pods(struct world *w)
{
	for (int i = 0; i < w->n_pods; i++) {
		struct wpod *p = &w->pods[i];
		struct wnode *n = world_node(w, p->node);
		char key[96];

		if (!p->alive)
			continue;
		snprintf(key, sizeof(key), ROLLOUT_NODE_LABEL_PREFIX "%s", p->rev);
		bool want = n && n->present && wnode_label(n, key) && world_ds_version(w, p->rev);

		if (!want && !p->terminating) {
			p->terminating = true;
			p->deletion_ms = w->now + 30000;
		} else if (p->terminating && n && n->present && n->ready) {
			p->alive = false; /* a live kubelet finishes it */
		}
	}
	for (int i = 0; i < w->n_nodes; i++) {
		struct wnode *n = &w->nodes[i];

		if (!n->present)
			continue;
		for (int l = 0; l < n->n_labels; l++) {
			const char *k = n->labels[l].key;
			const char *rev = k + strlen(ROLLOUT_NODE_LABEL_PREFIX);
			const char *ver;
			bool have = false;

			if (strncmp(k, ROLLOUT_NODE_LABEL_PREFIX,
				    strlen(ROLLOUT_NODE_LABEL_PREFIX)))
				continue;
			ver = world_ds_version(w, rev);
			if (!ver)
				continue;
			for (int p = 0; p < w->n_pods; p++)
				have |= w->pods[p].alive && !w->pods[p].terminating &&
					strcmp(w->pods[p].node, n->name) == 0 &&
					strcmp(w->pods[p].rev, rev) == 0;
			if (have || w->n_pods >= W_PODS)
				continue;
			struct wpod *p = &w->pods[w->n_pods++];

			memset(p, 0, sizeof(*p));
			snprintf(p->name, sizeof(p->name), "vigil-sensor-%s-%d", rev, ++w->pod_seq);
			wcpy(p->node, sizeof(p->node), n->name);
			wcpy(p->rev, sizeof(p->rev), rev);
			wcpy(p->version, sizeof(p->version), ver);
			p->alive = true;
			p->started_ms = w->now;
		}
	}
	/* compact dead pods */
	int k = 0;

	for (int i = 0; i < w->n_pods; i++)
		if (w->pods[i].alive)
			w->pods[k++] = w->pods[i];
	w->n_pods = k;
}

static inline void world_log(struct world *w, const struct rollout_action *a)
{
	if (w->n_log >= W_LOG)
		return;
	struct wlog *l = &w->log[w->n_log++];

	memset(l, 0, sizeof(*l));
	l->at = w->now;
	l->kind = a->kind;
	snprintf(l->rev, sizeof(l->rev), "%s", a->rev);
	snprintf(l->name, sizeof(l->name), "%s", a->name);
	snprintf(l->value, sizeof(l->value), "%s", a->value);
	snprintf(l->reason, sizeof(l->reason), "%s", a->reason);
	snprintf(l->msg, sizeof(l->msg), "%s", a->message ? a->message : "");
	l->warning = a->warning;
}

static inline void world_apply(struct world *w, const struct rollout_action *a)
{
	char key[96];

	world_log(w, a);
	snprintf(key, sizeof(key), ROLLOUT_NODE_LABEL_PREFIX "%s", a->rev);
	switch (a->kind) {
	case ROLLOUT_ACT_LABEL_NODE:
		if (world_node(w, a->name))
			wnode_set_label(world_node(w, a->name), key, a->value);
		break;
	case ROLLOUT_ACT_UNLABEL_NODE:
		if (world_node(w, a->name))
			wnode_del_label(world_node(w, a->name), key);
		break;
	case ROLLOUT_ACT_DELETE_POD:
		for (int i = 0; i < w->n_pods; i++)
			if (strcmp(w->pods[i].name, a->name) == 0)
				w->pods[i].alive = false;
		break;
	case ROLLOUT_ACT_ENSURE_REVISION:
		if (!world_ds_version(w, a->rev) && w->n_ds < 16) {
			snprintf(w->ds[w->n_ds].rev, ROLLOUT_REV_LEN, "%s", a->rev);
			snprintf(w->ds[w->n_ds].version, 64, "%s", a->version);
			snprintf(w->ds[w->n_ds].image, 128, "%s", a->image);
			w->n_ds++;
		}
		break;
	case ROLLOUT_ACT_DELETE_REVISION:
		for (int i = 0; i < w->n_ds; i++)
			if (strcmp(w->ds[i].rev, a->rev) == 0) {
				w->ds[i] = w->ds[--w->n_ds];
				break;
			}
		break;
	default:
		break;
	}
}

/* Runs one operator step against the current world; returns rollout_step's result. */
static inline int world_step(struct world *w)
{
	struct rollout_node nodes[W_NODES];
	struct rollout_kv kvs[W_NODES][W_LABELS];
	struct rollout_pod pods[W_PODS];
	struct rollout_report reps[W_PODS];
	struct rollout_revision revs[16];
	struct rollout_plan plan;
	struct rollout_input in = {
	    .spec = &w->spec, .prev = w->have_status ? &w->status : NULL, .now_ms = w->now};
	int n = 0, np = 0, nr = 0;

	for (int i = 0; i < w->n_nodes; i++) {
		struct wnode *wn = &w->nodes[i];

		if (!wn->present)
			continue;
		for (int l = 0; l < wn->n_labels; l++)
			kvs[n][l] = (struct rollout_kv){wn->labels[l].key, wn->labels[l].value};
		nodes[n] = (struct rollout_node){.name = wn->name,
						 .labels = kvs[n],
						 .n_labels = (size_t)wn->n_labels,
						 .ready = wn->ready,
						 .deleted = wn->deleted,
						 .targeted = true};
		n++;
	}
	for (int i = 0; i < w->n_pods; i++) {
		struct wpod *p = &w->pods[i];
		struct wnode *wn = world_node(w, p->node);
		bool up = wn && wn->present && wn->ready;

		pods[np++] = (struct rollout_pod){.name = p->name,
						  .node = p->node,
						  .rev = p->rev,
						  .phase = ROLLOUT_POD_RUNNING,
						  .ready = true,
						  .terminating = p->terminating,
						  .deletion_ms = p->deletion_ms};
		if (up && !p->terminating)
			p->last_hb_ms = w->now;
		if (!p->last_hb_ms)
			continue;
		bool ok = world_pod_healthy(w, p);
		bool never = world_delay(w, p->node, p->version) < 0;

		reps[nr++] = (struct rollout_report){
		    .node = p->node,
		    .pod = p->name,
		    .driver_version = p->version,
		    .probe_loaded = ok,
		    .rules_loaded = ok,
		    .events_flowing = ok,
		    .reason = ok ? NULL : (never ? "VerifierRejected" : "Loading"),
		    .heartbeat_ms = p->last_hb_ms,
		    .heartbeat_seconds = 10};
	}
	for (int i = 0; i < w->n_ds; i++)
		revs[i] = (struct rollout_revision){w->ds[i].rev, w->ds[i].version, w->ds[i].image};
	w->spec.policy.canary = w->canary[0].key ? w->canary : NULL;
	w->spec.policy.n_canary = w->canary[0].key ? 1 : 0;
	in.nodes = nodes;
	in.n_nodes = (size_t)n;
	in.pods = pods;
	in.n_pods = (size_t)np;
	in.reports = reps;
	in.n_reports = (size_t)nr;
	in.revisions = revs;
	in.n_revisions = (size_t)w->n_ds;

	int ret = rollout_step(w->tr, &in, &plan);

	if (ret == 0) {
		for (size_t i = 0; i < plan.n_actions; i++)
			world_apply(w, &plan.actions[i]);
		w->status = plan.status;
		w->have_status = true;
		w->recheck_ms = plan.recheck_ms;
	}
	rollout_plan_release(&plan);
	return ret;
}

/* Nodes (present and ready) where no sensor pod detects, per the world. */
static inline int world_blind(struct world *w)
{
	int blind = 0;

	for (int i = 0; i < w->n_nodes; i++) {
		struct wnode *n = &w->nodes[i];
		bool det = false;

		if (!n->present || !n->ready)
			continue;
		for (int p = 0; p < w->n_pods; p++)
			det |= strcmp(w->pods[p].node, n->name) == 0 &&
			       world_pod_healthy(w, &w->pods[p]);
		blind += !det;
	}
	return blind;
}

/* Nodes carrying the current spec's label but not detecting on it, or carrying two labels. */
static inline int world_moving(struct world *w)
{
	int moving = 0;

	for (int i = 0; i < w->n_nodes; i++) {
		struct wnode *n = &w->nodes[i];

		if (!n->present || !n->ready)
			continue;
		moving += world_n_sensor_labels(w, n->name) > 1;
	}
	return moving;
}

/* Advances the clock by dt_ms: kubelets/DaemonSet controllers react, then one operator step. */
static inline int world_tick(struct world *w, int64_t dt_ms)
{
	w->now += dt_ms;
	world_sync_pods(w);
	int ret = world_step(w);

	world_sync_pods(w);
	int b = world_blind(w), m = world_moving(w);

	if (b > w->max_blind)
		w->max_blind = b;
	if (m > w->max_moving)
		w->max_moving = m;
	return ret;
}

/* Ticks every second for at most `seconds` or until the rollout result is `until`. */
static inline bool world_run(struct world *w, int seconds, enum rollout_result until)
{
	for (int i = 0; i < seconds; i++) {
		if (world_tick(w, 1000) != 0)
			return false;
		if (w->status.last.result == until)
			return true;
	}
	return false;
}

static inline int world_count(struct world *w, enum rollout_action_kind kind, const char *rev,
			      const char *name, int64_t since)
{
	int k = 0;

	for (int i = 0; i < w->n_log; i++)
		k += w->log[i].kind == kind && w->log[i].at >= since &&
		     (!rev || strcmp(w->log[i].rev, rev) == 0) &&
		     (!name || strcmp(w->log[i].name, name) == 0);
	return k;
}

static inline const struct wlog *world_event(struct world *w, const char *reason)
{
	for (int i = w->n_log - 1; i >= 0; i--)
		if (w->log[i].kind == ROLLOUT_ACT_EVENT && strcmp(w->log[i].reason, reason) == 0)
			return &w->log[i];
	return NULL;
}

/* Time of the first LABEL_NODE of rev on node at or after since; 0 when none. */
static inline int64_t world_labelled_at(struct world *w, const char *version, const char *node,
					int64_t since)
{
	char rev[ROLLOUT_REV_LEN];

	world_rev(version, rev);
	for (int i = 0; i < w->n_log; i++)
		if (w->log[i].kind == ROLLOUT_ACT_LABEL_NODE && w->log[i].at >= since &&
		    strcmp(w->log[i].rev, rev) == 0 && strcmp(w->log[i].name, node) == 0)
			return w->log[i].at;
	return 0;
}

/* Installs `version` on every node and runs until it succeeded. */
static inline bool world_install(struct world *w, const char *version)
{
	bool ok;

	world_set_version(w, version);
	ok = world_run(w, 60, ROLLOUT_SUCCEEDED);
	w->max_blind = w->max_moving = 0;
	return ok;
}

#endif
