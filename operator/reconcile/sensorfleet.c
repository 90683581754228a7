/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/reconcile/sensorfleet.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/cache.h"
#include "lib/kube/path.h"
#include "lib/util/log.h"
#include "operator/reconcile/fleet_render.h"
#include "operator/reconcile/fleet_view.h"
#include "operator/rollout/rollout.h"
#include "operator/rollout/status_json.h"

#define SUB "sensorfleet"
#define RESYNC_ACTIVE_MS 10000

struct fleet_state {
	char key[320];
	struct rollout_tracker *tr;
	struct rollout_status written; /* last status we wrote (we are its only writer) */
	bool have_written;
	char uid[64];	   /* of the fleet incarnation `written` belongs to */
	json_t *gap_nodes; /* node -> the gap gauge values last set (encoded) */
};

struct sfctl {
	struct ctl_manager *m;
	struct ctl_controller *c;
	struct kube_client *client;
	struct evrec *events;
	struct metrics *mx;
	char *ns, *cm;
	struct ctl_source s_sf, s_ds, s_pods, s_nodes, s_sn;
	struct fleet_reports *reports;
	pthread_mutex_t lock;
	struct fleet_state **fleets;
	size_t n_fleets;
};

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- per-fleet state ---- */

static void state_free(struct fleet_state *st)
{
	if (!st)
		return;
	rollout_tracker_free(st->tr);
	json_decref(st->gap_nodes);
	free(st);
}

static struct fleet_state *state_get(struct sfctl *s, const char *key)
{
	struct fleet_state *st = NULL;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_fleets; i++)
		if (strcmp(s->fleets[i]->key, key) == 0)
			st = s->fleets[i];
	if (!st) {
		struct fleet_state **v = realloc(s->fleets, (s->n_fleets + 1) * sizeof(*v));

		st = calloc(1, sizeof(*st));
		if (v)
			s->fleets = v;
		if (st)
			st->tr = rollout_tracker_new();
		if (st)
			st->gap_nodes = json_object();
		if (!v || !st || !st->tr || !st->gap_nodes) {
			state_free(st);
			st = NULL;
		} else {
			snprintf(st->key, sizeof(st->key), "%s", key);
			s->fleets[s->n_fleets++] = st;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return st;
}

static void state_drop(struct sfctl *s, const char *key)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_fleets; i++)
		if (strcmp(s->fleets[i]->key, key) == 0) {
			state_free(s->fleets[i]);
			s->fleets[i] = s->fleets[--s->n_fleets];
			break;
		}
	pthread_mutex_unlock(&s->lock);
}

/* ---- executing actions ---- */

static int ensure_revision(struct sfctl *s, json_t *fleet, const struct rollout_action *a)
{
	const char *ns = jstr(json_object_get(fleet, "metadata"), "namespace");
	struct fleet_render_in ri = {.fleet = fleet,
				     .rev = a->rev,
				     .version = a->version,
				     .image = a->image,
				     .rules_configmap = s->cm};
	struct kube_cache *cache = ctl_cache(s->m, &s->s_ds);
	char name[96], path[KUBE_PATH_MAX];
	struct kube_error err;
	json_t *ds, *cur;
	int rc = 0;

	fleet_render_name(a->rev, name, sizeof(name));
	ds = fleet_render_daemonset(&ri);
	if (!ds)
		return -ENOMEM;
	cur = cache ? kube_cache_get_nn(cache, ns, name) : NULL;
	const char *want =
	    jstr(json_object_get(json_object_get(ds, "metadata"), "annotations"), FLEET_ANN_HASH);
	const char *have =
	    jstr(json_object_get(json_object_get(cur, "metadata"), "annotations"), FLEET_ANN_HASH);

	if (cur && strcmp(want, have) == 0)
		goto out;
	if (cur) {
		json_object_set_new(
		    json_object_get(ds, "metadata"), "resourceVersion",
		    json_string(jstr(json_object_get(cur, "metadata"), "resourceVersion")));
		kube_path(path, sizeof(path), &kube_res_daemonsets, ns, name, NULL);
		rc = kube_update(s->client, path, ds, NULL, &err);
		ctl_count_write(s->c, "PUT");
	} else {
		kube_path(path, sizeof(path), &kube_res_daemonsets, ns, NULL, NULL);
		rc = kube_create(s->client, path, ds, NULL, &err);
		ctl_count_write(s->c, "POST");
		if (rc == -EEXIST)
			rc = 0; /* the cache is behind; the next reconcile compares again */
	}
	if (rc)
		vlog_warn(SUB, "daemonset=%s/%s msg=\"cannot write\" code=%d err=\"%s\"", ns, name,
			  err.code, err.message);
	else
		vlog_info(SUB, "daemonset=%s/%s version=%s msg=%s", ns, name, a->version,
			  cur ? "updated" : "created");
out:
	json_decref(cur);
	json_decref(ds);
	return rc;
}

static int delete_revision(struct sfctl *s, json_t *fleet, const char *rev)
{
	const char *ns = jstr(json_object_get(fleet, "metadata"), "namespace");
	struct kube_delete_opts o = {.propagation = "Background"};
	char name[96], path[KUBE_PATH_MAX];
	struct kube_error err;
	int rc;

	fleet_render_name(rev, name, sizeof(name));
	kube_path(path, sizeof(path), &kube_res_daemonsets, ns, name, NULL);
	rc = kube_delete(s->client, path, &o, NULL, &err);
	ctl_count_write(s->c, "DELETE");
	if (rc == -ENOENT)
		return 0;
	if (rc)
		vlog_warn(SUB, "daemonset=%s/%s msg=\"cannot delete\" code=%d", ns, name, err.code);
	else
		vlog_info(SUB, "daemonset=%s/%s msg=deleted", ns, name);
	return rc;
}

#define LABEL_WRITERS 8

struct lpatch {
	const char *node; /* borrowed from the order array */
	json_t *body;
	char path[KUBE_PATH_MAX];
	int rc;
	struct kube_error err;
};

struct lworker {
	struct sfctl *s;
	struct lpatch *v;
	size_t n, first, step;
};

static void *label_worker(void *arg)
{
	struct lworker *w = arg;

	for (size_t i = w->first; i < w->n; i += w->step) {
		struct lpatch *lp = &w->v[i];

		lp->rc = lp->body ? kube_patch(w->s->client, lp->path, KUBE_PATCH_MERGE, lp->body,
					       NULL, &lp->err)
				  : -ENOMEM;
		ctl_count_write(w->s->c, "PATCH");
	}
	return NULL;
}

/*
 * Applies the label actions: one merge patch per node, by up to LABEL_WRITERS threads (an install
 * labels every node at once; the API round trip dominates). The bodies are built here; the threads
 * only send them.
 */
static int label_nodes(struct sfctl *s, const struct rollout_plan *p)
{
	json_t *order = json_array(), *patches = json_object();
	struct lpatch *v = NULL;
	size_t i, n;
	json_t *nm;
	int ret = 0;

	if (!order || !patches) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < p->n_actions; i++) {
		const struct rollout_action *a = &p->actions[i];
		char key[96];
		json_t *labels;

		if (a->kind != ROLLOUT_ACT_LABEL_NODE && a->kind != ROLLOUT_ACT_UNLABEL_NODE)
			continue;
		labels = json_object_get(patches, a->name);
		if (!labels) {
			labels = json_object();
			json_object_set_new(patches, a->name, labels);
			json_array_append_new(order, json_string(a->name));
		}
		snprintf(key, sizeof(key), ROLLOUT_NODE_LABEL_PREFIX "%s", a->rev);
		json_object_set_new(labels, key,
				    a->kind == ROLLOUT_ACT_LABEL_NODE ? json_string(a->value)
								      : json_null());
	}
	n = json_array_size(order);
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}
	json_array_foreach(order, i, nm)
	{
		v[i].node = json_string_value(nm);
		v[i].body = json_pack("{s:{s:O}}", "metadata", "labels",
				      json_object_get(patches, v[i].node));
		kube_path(v[i].path, sizeof(v[i].path), &kube_res_nodes, NULL, v[i].node, NULL);
	}
	{
		pthread_t th[LABEL_WRITERS];
		struct lworker w[LABEL_WRITERS];
		size_t nt = n < LABEL_WRITERS ? n : LABEL_WRITERS, started = 0;

		for (size_t t = 0; t < nt; t++) {
			w[t] = (struct lworker){s, v, n, t, nt};
			if (t == 0 || pthread_create(&th[t], NULL, label_worker, &w[t]) != 0)
				continue;
			started |= (size_t)1 << t;
		}
		/* this thread takes share 0, and any share whose thread did not start */
		for (size_t t = 0; t < nt; t++)
			if (!(started & ((size_t)1 << t)))
				label_worker(&w[t]);
		for (size_t t = 1; t < nt; t++)
			if (started & ((size_t)1 << t))
				pthread_join(th[t], NULL);
	}
	for (i = 0; i < n; i++) {
		char *txt =
		    json_dumps(json_object_get(patches, v[i].node), JSON_COMPACT | JSON_SORT_KEYS);

		if (v[i].rc && v[i].rc != -ENOENT) {
			vlog_warn(SUB, "node=%s msg=\"cannot label\" code=%d err=\"%s\"", v[i].node,
				  v[i].err.code, v[i].err.message);
			ret = v[i].rc;
		} else if (!v[i].rc) {
			vlog_info(SUB, "node=%s labels=%s", v[i].node, txt ? txt : "");
		}
		free(txt);
		json_decref(v[i].body);
	}
out:
	free(v);
	json_decref(order);
	json_decref(patches);
	return ret;
}

static int delete_pod(struct sfctl *s, json_t *fleet, const char *pod)
{
	const char *ns = jstr(json_object_get(fleet, "metadata"), "namespace");
	struct kube_delete_opts o = {.grace_seconds = KUBE_GRACE_NOW};
	char path[KUBE_PATH_MAX];
	struct kube_error err;
	int rc;

	kube_path(path, sizeof(path), &kube_res_pods, ns, pod, NULL);
	rc = kube_delete(s->client, path, &o, NULL, &err);
	ctl_count_write(s->c, "DELETE");
	if (rc == -ENOENT)
		return 0;
	if (rc)
		vlog_warn(SUB, "pod=%s/%s msg=\"cannot force-delete\" code=%d", ns, pod, err.code);
	else
		vlog_info(SUB, "pod=%s/%s msg=\"force-deleted (stuck terminating on a dead node)\"",
			  ns, pod);
	return rc;
}

static int execute(struct sfctl *s, const char *key, json_t *fleet, const struct rollout_plan *p)
{
	int failed = 0;
	bool labels_done = false;

	for (size_t i = 0; i < p->n_actions; i++) {
		const struct rollout_action *a = &p->actions[i];
		char labels[200];

		switch (a->kind) {
		case ROLLOUT_ACT_ENSURE_REVISION:
			failed |= ensure_revision(s, fleet, a) != 0;
			break;
		case ROLLOUT_ACT_DELETE_REVISION:
			failed |= delete_revision(s, fleet, a->rev) != 0;
			break;
		case ROLLOUT_ACT_LABEL_NODE:
		case ROLLOUT_ACT_UNLABEL_NODE:
			if (!labels_done)
				failed |= label_nodes(s, p) != 0;
			labels_done = true;
			break;
		case ROLLOUT_ACT_DELETE_POD:
			failed |= delete_pod(s, fleet, a->name) != 0;
			break;
		case ROLLOUT_ACT_EVENT:
			vlog_info(SUB, "key=%s event=%s type=%s msg=\"%s\"", key, a->reason,
				  a->warning ? "Warning" : "Normal", a->message ? a->message : "");
			if (s->events)
				evrec_emit(s->events, fleet, a->warning ? "Warning" : "Normal",
					   a->reason, "%s", a->message ? a->message : "");
			break;
		case ROLLOUT_ACT_ROLLBACK:
			vlog_warn(SUB, "key=%s msg=\"rolling back\" version=%s to_revision=%s", key,
				  a->version, a->rev);
			if (s->mx) {
				snprintf(labels, sizeof(labels), "fleet=\"%s\"", key);
				metrics_counter_add(s->mx, "vigil_sensorfleet_rollbacks_total",
						    labels, 1);
			}
			break;
		}
	}
	return failed ? -EIO : 0;
}

/* ---- status and metrics ---- */

static int write_status(struct sfctl *s, json_t *fleet, struct fleet_state *st,
			const struct rollout_status *prev, const struct rollout_status *next)
{
	const json_t *meta = json_object_get(fleet, "metadata");
	json_t *a = rollout_status_to_json(prev), *b = rollout_status_to_json(next), *body = NULL;
	char path[KUBE_PATH_MAX];
	struct kube_error err;
	int rc = 0;

	if (!a || !b) {
		rc = -ENOMEM;
		goto out;
	}
	if (json_equal(a, b) && json_is_object(json_object_get(fleet, "status")))
		goto out;
	body = json_pack("{s:O}", "status", b);
	kube_path(path, sizeof(path), &kube_res_sensorfleets, jstr(meta, "namespace"),
		  jstr(meta, "name"), "status");
	rc = body ? kube_patch(s->client, path, KUBE_PATCH_MERGE, body, NULL, &err) : -ENOMEM;
	ctl_count_write(s->c, "PATCH");
	if (rc == -ENOENT) {
		rc = 0;
	} else if (rc) {
		vlog_warn(SUB, "fleet=%s/%s msg=\"cannot write status\" code=%d err=\"%s\"",
			  jstr(meta, "namespace"), jstr(meta, "name"), err.code, err.message);
	} else {
		st->written = *next;
		st->have_written = true;
		snprintf(st->uid, sizeof(st->uid), "%s", jstr(meta, "uid"));
	}
out:
	json_decref(a);
	json_decref(b);
	json_decref(body);
	return rc;
}

struct gap_ctx {
	struct sfctl *s;
	struct fleet_state *st;
};

/* Sets the two per-node gauges when their value (0.1 s resolution) changed since the last set, so
 * every node has its series and a step costs nothing for nodes whose gaps did not move. */
static void gap_metric(const char *node, double gap_s, double rollout_gap_s, void *arg)
{
	struct gap_ctx *g = arg;
	double key = (double)(int64_t)(gap_s * 10) * 1e6 + (double)(int64_t)(rollout_gap_s * 10);
	json_t *last = json_object_get(g->st->gap_nodes, node);
	char labels[400];

	if (last && json_real_value(last) == key)
		return;
	snprintf(labels, sizeof(labels), "fleet=\"%s\",node=\"%s\"", g->st->key, node);
	metrics_gauge_set(g->s->mx, "vigil_sensorfleet_node_gap_seconds", labels, gap_s);
	metrics_gauge_set(g->s->mx, "vigil_sensorfleet_node_rollout_gap_seconds", labels,
			  rollout_gap_s);
	json_object_set_new(g->st->gap_nodes, node, json_real(key));
}

static void update_metrics(struct sfctl *s, struct fleet_state *st, const struct rollout_plan *p,
			   int64_t now, double step_s)
{
	char labels[400];
	struct gap_ctx g = {s, st};

	if (!s->mx)
		return;
	metrics_observe(s->mx, "vigil_sensorfleet_step_seconds", "", step_s);
	snprintf(labels, sizeof(labels), "fleet=\"%s\"", st->key);
	if (p->n_steps)
		metrics_counter_add(s->mx, "vigil_sensorfleet_rollout_steps_total", labels,
				    p->n_steps);
	snprintf(labels, sizeof(labels), "fleet=\"%s\",state=\"total\"", st->key);
	metrics_gauge_set(s->mx, "vigil_sensorfleet_nodes", labels, p->status.nodes_total);
	snprintf(labels, sizeof(labels), "fleet=\"%s\",state=\"updated\"", st->key);
	metrics_gauge_set(s->mx, "vigil_sensorfleet_nodes", labels, p->status.nodes_updated);
	snprintf(labels, sizeof(labels), "fleet=\"%s\",state=\"covered\"", st->key);
	metrics_gauge_set(s->mx, "vigil_sensorfleet_nodes", labels, p->status.nodes_with_detection);
	rollout_tracker_foreach(st->tr, now, gap_metric, &g);
}

/* ---- reconcile ---- */

static struct ctl_result reconcile(void *ctx, const char *key)
{
	struct sfctl *s = ctx;
	struct kube_cache *cache = ctl_cache(s->m, &s->s_sf);
	json_t *fleet = cache ? kube_cache_get(cache, key) : NULL;
	json_t *nodes = NULL, *pods = NULL, *dss = NULL;
	struct ctl_result res = CTL_RESULT_DONE;
	struct rollout_plan plan = {0};
	struct rollout_status cached;
	const struct rollout_status *prev = NULL;
	struct fleet_view v = {0};
	struct fleet_state *st;
	int64_t now = now_ms();
	double t0;
	int rc;

	if (!fleet) {
		state_drop(s, key);
		return CTL_RESULT_DONE;
	}
	const json_t *meta = json_object_get(fleet, "metadata");

	if (strcmp(jstr(meta, "namespace"), s->ns) != 0) {
		vlog_warn(SUB, "key=%s msg=\"SensorFleets are reconciled in namespace %s only\"",
			  key, s->ns);
		json_decref(fleet);
		return CTL_RESULT_TERMINAL;
	}
	st = state_get(s, key);
	if (!st) {
		res = CTL_RESULT_RETRY;
		goto out;
	}
	/*
	 * The cache may lag behind our own status writes (by more than one): continue from what we
	 * last wrote. Only the leader writes this status, so that is the newest one; a new process
	 * (restart, new leader) starts from the cluster's.
	 */
	rollout_status_from_json(json_object_get(fleet, "status"), &cached);
	if (st->have_written && strcmp(st->uid, jstr(meta, "uid")) == 0)
		prev = &st->written;
	else
		st->have_written = false;
	nodes = kube_cache_list(ctl_cache(s->m, &s->s_nodes));
	pods = kube_cache_list(ctl_cache(s->m, &s->s_pods));
	dss = kube_cache_list(ctl_cache(s->m, &s->s_ds));
	rc = fleet_view_build(&v, fleet, nodes, pods, dss, s->reports, prev);
	if (rc == -EINVAL) {
		vlog_warn(SUB, "key=%s msg=\"spec needs driverVersion and image\"", key);
		res = CTL_RESULT_TERMINAL;
		goto out;
	}
	if (rc) {
		res = CTL_RESULT_RETRY;
		goto out;
	}
	struct rollout_input in = fleet_view_input(&v, now);

	t0 = mono_s();
	rc = rollout_step(st->tr, &in, &plan);
	double step_s = mono_s() - t0;

	if (rc) {
		vlog_error(SUB, "key=%s msg=\"rollout step failed\" err=%d", key, rc);
		res = CTL_RESULT_RETRY;
		goto out;
	}
	if (execute(s, key, fleet, &plan))
		res = CTL_RESULT_RETRY;
	if (write_status(s, fleet, st, prev ? prev : &cached, &plan.status))
		res = CTL_RESULT_RETRY;
	update_metrics(s, st, &plan, now, step_s);
	vlog_debug(SUB, "key=%s result=%s updated=%d/%d covered=%d actions=%zu step_ms=%.2f", key,
		   rollout_result_name(plan.status.last.result), plan.status.nodes_updated,
		   plan.status.nodes_total, plan.status.nodes_with_detection, plan.n_actions,
		   step_s * 1000);
	if (res.outcome == CTL_DONE) {
		int64_t after = 0;
		enum rollout_result r = plan.status.last.result;

		if (plan.recheck_ms)
			after = plan.recheck_ms - now;
		if (r == ROLLOUT_IN_PROGRESS || r == ROLLOUT_ROLLING_BACK)
			after = after && after < RESYNC_ACTIVE_MS ? after : RESYNC_ACTIVE_MS;
		if (after) {
			if (after < 200)
				after = 200;
			res = CTL_RESULT_AFTER((uint64_t)after);
		}
	}
out:
	rollout_plan_release(&plan);
	fleet_view_release(&v);
	json_decref(nodes);
	json_decref(pods);
	json_decref(dss);
	json_decref(fleet);
	return res;
}

/* ---- event mapping (informer thread: quick, no API calls) ---- */

static void map_fleet(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	char key[320];

	if (ctl_key(obj ? obj : old, key, sizeof(key)) > 0)
		ctl_enqueue(c, key);
}

static void map_owned(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	const json_t *meta = json_object_get(obj ? obj : old, "metadata");
	const char *fleet = jstr(json_object_get(meta, "labels"), FLEET_LABEL);
	char key[320];

	if (!*fleet)
		return;
	snprintf(key, sizeof(key), "%s/%s", jstr(meta, "namespace"), fleet);
	ctl_enqueue(c, key);
}

static bool node_same(const json_t *a, const json_t *b)
{
	const json_t *ma = json_object_get(a, "metadata"), *mb = json_object_get(b, "metadata");
	const json_t *ca = json_object_get(json_object_get(a, "status"), "conditions");
	const json_t *cb = json_object_get(json_object_get(b, "status"), "conditions");
	const char *ra = "", *rb = "";
	size_t i;
	json_t *x;

	json_array_foreach(ca, i, x) if (strcmp(jstr(x, "type"), "Ready") == 0) ra =
	    jstr(x, "status");
	json_array_foreach(cb, i, x) if (strcmp(jstr(x, "type"), "Ready") == 0) rb =
	    jstr(x, "status");
	return strcmp(ra, rb) == 0 &&
	       json_equal(json_object_get(ma, "labels"), json_object_get(mb, "labels")) &&
	       !json_object_get(ma, "deletionTimestamp") ==
		   !json_object_get(mb, "deletionTimestamp") &&
	       json_equal(json_object_get(json_object_get(a, "spec"), "taints"),
			  json_object_get(json_object_get(b, "spec"), "taints"));
}

static void map_node(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	struct sfctl *s = ctx;

	if (old && obj && node_same(old, obj))
		return; /* a status heartbeat */
	ctl_enqueue_all(c, &s->s_sf);
}

static void map_sensornode(void *ctx, struct ctl_controller *c, json_t *old, json_t *obj)
{
	struct sfctl *s = ctx;

	if (!obj) {
		fleet_reports_forget(s->reports, jstr(json_object_get(old, "metadata"), "name"));
		ctl_enqueue_all(c, &s->s_sf);
		return;
	}
	if (fleet_reports_observe(s->reports, obj) != 0)
		ctl_enqueue_all(c, &s->s_sf);
}

int sfctl_register(const struct sfctl_opts *o, struct sfctl **out)
{
	struct ctl_controller_opts co = {.name = "sensorfleet", .reconcile = reconcile};
	struct sfctl *s;
	int err;

	if (!o || !o->manager || !o->client || !o->ns || !out)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->m = o->manager;
	s->client = o->client;
	s->events = o->events;
	s->mx = o->metrics;
	s->ns = strdup(o->ns);
	s->cm = strdup(o->rules_configmap ? o->rules_configmap : "vigil-rules");
	s->reports = fleet_reports_new();
	if (!s->ns || !s->cm || !s->reports) {
		sfctl_free(s);
		return -ENOMEM;
	}
	s->s_sf = (struct ctl_source){.res = &kube_res_sensorfleets, .ns = s->ns};
	s->s_ds = (struct ctl_source){
	    .res = &kube_res_daemonsets, .ns = s->ns, .label_selector = FLEET_LABEL};
	s->s_pods = (struct ctl_source){.res = &kube_res_pods,
					.ns = s->ns,
					.label_selector = FLEET_LABEL,
					.transform = fleet_trim_pod};
	s->s_nodes = (struct ctl_source){.res = &kube_res_nodes, .transform = fleet_trim_node};
	/* the same source (and trim) as the RuleSet controller's: one shared SensorNode cache */
	s->s_sn =
	    (struct ctl_source){.res = &kube_res_sensornodes, .transform = ctl_trim_sensornode};
	co.ctx = s;
	co.workers = o->workers > 0 ? o->workers : 1;
	s->c = ctl_register(s->m, &co);
	if (!s->c) {
		sfctl_free(s);
		return -EINVAL;
	}
	err = ctl_watch(s->c, &s->s_sf, map_fleet, s);
	if (!err)
		err = ctl_watch(s->c, &s->s_ds, map_owned, s);
	if (!err)
		err = ctl_watch(s->c, &s->s_pods, map_owned, s);
	if (!err)
		err = ctl_watch(s->c, &s->s_nodes, map_node, s);
	if (!err)
		err = ctl_watch(s->c, &s->s_sn, map_sensornode, s);
	if (err) {
		sfctl_free(s);
		return err;
	}
	if (s->mx) {
		metrics_describe(s->mx, "vigil_sensorfleet_node_gap_seconds", "gauge",
				 "Seconds the node has been without detection (0 when covered).");
		metrics_describe(s->mx, "vigil_sensorfleet_node_rollout_gap_seconds", "gauge",
				 "Seconds without detection of the node in the current or last "
				 "rollout.");
		metrics_describe(s->mx, "vigil_sensorfleet_rollout_steps_total", "counter",
				 "Nodes moved to a sensor revision.");
		metrics_describe(s->mx, "vigil_sensorfleet_rollbacks_total", "counter",
				 "Automatic rollbacks (coverage lost beyond the budget).");
		metrics_describe(s->mx, "vigil_sensorfleet_nodes", "gauge",
				 "Targeted nodes by state (total, updated, covered).");
		metrics_describe(s->mx, "vigil_sensorfleet_step_seconds", "histogram",
				 "Time of one rollout state machine step.");
	}
	*out = s;
	return 0;
}

void sfctl_free(struct sfctl *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_fleets; i++)
		state_free(s->fleets[i]);
	free(s->fleets);
	fleet_reports_free(s->reports);
	pthread_mutex_destroy(&s->lock);
	free(s->ns);
	free(s->cm);
	free(s);
}
