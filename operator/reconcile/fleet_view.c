/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/reconcile/fleet_view.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operator/reconcile/fleet_render.h"
#include "operator/rollout/status_json.h"

#define REPS_PER_NODE 4
#define REPORT_KEEP_MS (10 * 60 * 1000)

struct rep {
	char node[ROLLOUT_NAME_LEN];
	char pod[ROLLOUT_NAME_LEN];
	char version[ROLLOUT_VERSION_LEN];
	char reason[ROLLOUT_REASON_LEN];
	bool probe, rules, events;
	int64_t hb_ms;
	int hb_s;
};

struct fleet_reports {
	pthread_mutex_t lock;
	struct rep *v; /* sorted by (node, pod) */
	size_t n, cap;
};

struct fleet_reports *fleet_reports_new(void)
{
	struct fleet_reports *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void fleet_reports_free(struct fleet_reports *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->v);
	free(r);
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static const json_t *find_cond(const json_t *conds, const char *type)
{
	size_t i;
	json_t *c;

	json_array_foreach(conds, i, c) if (strcmp(jstr(c, "type"), type) == 0) return c;
	return NULL;
}

static bool cond_true(const json_t *conds, const char *type)
{
	return strcmp(jstr(find_cond(conds, type), "status"), "True") == 0;
}

static int rep_cmp2(const char *node, const char *pod, const struct rep *e)
{
	int c = strcmp(node, e->node);

	return c ? c : strcmp(pod, e->pod);
}

/* Index of (node, pod) or where it would go. */
static size_t rep_lower(struct fleet_reports *r, const char *node, const char *pod)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rep_cmp2(node, pod, &r->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void rep_remove(struct fleet_reports *r, size_t i)
{
	memmove(&r->v[i], &r->v[i + 1], (r->n - i - 1) * sizeof(*r->v));
	r->n--;
}

int fleet_reports_observe(struct fleet_reports *r, const json_t *sn)
{
	const json_t *st = json_object_get(sn, "status");
	const json_t *conds = json_object_get(st, "conditions");
	const char *node = jstr(json_object_get(sn, "metadata"), "name");
	struct rep e = {0};
	const char *reason = NULL;
	int changed = 0;

	if (!r || !*node || !json_is_object(st))
		return 0;
	snprintf(e.node, sizeof(e.node), "%s", node);
	snprintf(e.pod, sizeof(e.pod), "%s", jstr(st, "podName"));
	snprintf(e.version, sizeof(e.version), "%s", jstr(st, "driverVersion"));
	e.probe = cond_true(conds, "ProbeLoaded");
	e.rules = cond_true(conds, "RulesLoaded");
	e.events = cond_true(conds, "EventsFlowing");
	if (!e.probe)
		reason = jstr(find_cond(conds, "ProbeLoaded"), "reason");
	else if (!e.rules)
		reason = jstr(find_cond(conds, "RulesLoaded"), "reason");
	else if (!e.events)
		reason = jstr(find_cond(conds, "EventsFlowing"), "reason");
	snprintf(e.reason, sizeof(e.reason), "%s", reason && *reason ? reason : "");
	rollout_time_parse(jstr(st, "lastHeartbeatTime"), &e.hb_ms);
	e.hb_s = (int)json_integer_value(json_object_get(st, "heartbeatSeconds"));

	pthread_mutex_lock(&r->lock);
	size_t i = rep_lower(r, e.node, e.pod);

	if (i < r->n && rep_cmp2(e.node, e.pod, &r->v[i]) == 0) {
		struct rep *o = &r->v[i];
		int hb = o->hb_s > 0 ? o->hb_s : 10;
		bool was_stale = e.hb_ms - o->hb_ms > (int64_t)ROLLOUT_HEARTBEAT_MISSES * hb * 1000;

		if (e.hb_ms < o->hb_ms) {
			pthread_mutex_unlock(&r->lock);
			return 0; /* an older write seen late */
		}
		changed = strcmp(o->version, e.version) || o->probe != e.probe ||
			  o->rules != e.rules || o->events != e.events || was_stale ||
			  strcmp(o->reason, e.reason);
		*o = e;
	} else {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 64;
			struct rep *v = realloc(r->v, cap * sizeof(*v));

			if (!v) {
				pthread_mutex_unlock(&r->lock);
				return -ENOMEM;
			}
			r->v = v;
			r->cap = cap;
		}
		memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof(*r->v));
		r->v[i] = e;
		r->n++;
		changed = 1;
	}
	/* prune this node: reports long silent, and beyond REPS_PER_NODE the oldest */
	size_t lo = rep_lower(r, e.node, ""), hi = lo;

	while (hi < r->n && strcmp(r->v[hi].node, e.node) == 0)
		hi++;
	for (size_t k = hi; k-- > lo;)
		if (e.hb_ms - r->v[k].hb_ms > REPORT_KEEP_MS) {
			rep_remove(r, k);
			hi--;
		}
	while (hi - lo > REPS_PER_NODE) {
		size_t oldest = lo;

		for (size_t k = lo; k < hi; k++)
			if (r->v[k].hb_ms < r->v[oldest].hb_ms)
				oldest = k;
		rep_remove(r, oldest);
		hi--;
	}
	pthread_mutex_unlock(&r->lock);
	return changed;
}

void fleet_reports_forget(struct fleet_reports *r, const char *node)
{
	if (!r || !node)
		return;
	pthread_mutex_lock(&r->lock);
	size_t lo = rep_lower(r, node, "");

	while (lo < r->n && strcmp(r->v[lo].node, node) == 0)
		rep_remove(r, lo);
	pthread_mutex_unlock(&r->lock);
}

size_t fleet_reports_count(struct fleet_reports *r)
{
	size_t n;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	n = r->n;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* ---- nodes ---- */

bool fleet_node_selected(const json_t *node, const json_t *selector)
{
	const json_t *labels = json_object_get(json_object_get(node, "metadata"), "labels");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)selector, k, v)
	{
		const char *have = json_string_value(json_object_get(labels, k));

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
			return false;
	}
	return true;
}

static bool daemonset_tolerates(const char *key, const char *effect)
{
	static const char *const keys[] = {
	    "node.kubernetes.io/not-ready",	"node.kubernetes.io/unreachable",
	    "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
	    "node.kubernetes.io/pid-pressure",	"node.kubernetes.io/unschedulable"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool fleet_node_tolerated(const json_t *node, const json_t *tolerations)
{
	const json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
	size_t i, j;
	json_t *t, *tol;

	json_array_foreach(taints, i, t)
	{
		const char *key = jstr(t, "key"), *value = jstr(t, "value"),
			   *effect = jstr(t, "effect");
		bool ok = false;

		if (strcmp(effect, "NoSchedule") != 0 && strcmp(effect, "NoExecute") != 0)
			continue;
		if (daemonset_tolerates(key, effect))
			continue;
		json_array_foreach(tolerations, j, tol)
		{
			const char *tk = jstr(tol, "key"), *op = jstr(tol, "operator");
			const char *te = jstr(tol, "effect");

			if (*te && strcmp(te, effect) != 0)
				continue;
			if (strcmp(op, "Exists") == 0)
				ok |= !*tk || strcmp(tk, key) == 0;
			else
				ok |=
				    strcmp(tk, key) == 0 && strcmp(jstr(tol, "value"), value) == 0;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* ---- the view ---- */

void fleet_view_release(struct fleet_view *v)
{
	if (!v)
		return;
	free(v->nodes);
	free(v->pods);
	free(v->reports);
	free(v->revisions);
	free(v->kvs);
	free(v->canary);
	free(v->rep_copies);
	json_decref(v->hold);
	memset(v, 0, sizeof(*v));
}

static int64_t jint(const json_t *o, const char *k, int64_t dflt)
{
	json_t *x = json_object_get(o, k);

	return json_is_integer(x) ? json_integer_value(x) : dflt;
}

static bool jbool(const json_t *o, const char *k, bool dflt)
{
	json_t *x = json_object_get(o, k);

	return json_is_boolean(x) ? json_is_true(x) : dflt;
}

/* The node a pod is for: spec.nodeName, or the DaemonSet controller's matchFields before binding.
 */
static const char *pod_node(const json_t *pod)
{
	const json_t *spec = json_object_get(pod, "spec");
	const json_t *terms;
	size_t i, j;
	json_t *t, *f;

	if (*jstr(spec, "nodeName"))
		return jstr(spec, "nodeName");
	terms = json_object_get(
	    json_object_get(json_object_get(json_object_get(spec, "affinity"), "nodeAffinity"),
			    "requiredDuringSchedulingIgnoredDuringExecution"),
	    "nodeSelectorTerms");
	json_array_foreach(terms, i, t)
	{
		json_array_foreach(
		    json_object_get(t, "matchFields"), j,
		    f) if (strcmp(jstr(f, "key"), "metadata.name") ==
			   0) return json_string_value(json_array_get(json_object_get(f, "values"),
								      0));
	}
	return NULL;
}

static enum rollout_pod_phase pod_phase(const char *s)
{
	if (strcmp(s, "Running") == 0)
		return ROLLOUT_POD_RUNNING;
	if (strcmp(s, "Pending") == 0)
		return ROLLOUT_POD_PENDING;
	if (strcmp(s, "Succeeded") == 0)
		return ROLLOUT_POD_SUCCEEDED;
	if (strcmp(s, "Failed") == 0)
		return ROLLOUT_POD_FAILED;
	return ROLLOUT_POD_UNKNOWN;
}

static bool of_fleet(const json_t *obj, const char *ns, const char *name)
{
	const json_t *meta = json_object_get(obj, "metadata");

	return strcmp(jstr(meta, "namespace"), ns) == 0 &&
	       strcmp(jstr(json_object_get(meta, "labels"), FLEET_LABEL), name) == 0;
}

int fleet_view_build(struct fleet_view *v, json_t *fleet, json_t *nodes, json_t *pods,
		     json_t *daemonsets, struct fleet_reports *reports,
		     const struct rollout_status *prev)
{
	const json_t *meta = json_object_get(fleet, "metadata");
	const json_t *spec = json_object_get(fleet, "spec");
	const json_t *ro = json_object_get(spec, "rollout");
	const json_t *canary = json_object_get(ro, "canarySelector");
	const json_t *sel = json_object_get(spec, "nodeSelector");
	const json_t *tols = json_object_get(spec, "tolerations");
	const char *fns = jstr(meta, "namespace"), *fname = jstr(meta, "name");
	size_t i, n_kv = 0;
	json_t *o;
	const char *k;
	json_t *val;

	memset(v, 0, sizeof(*v));
	if (!*jstr(spec, "driverVersion") || !*jstr(spec, "image"))
		return -EINVAL;
	v->hold = json_pack("[O, O, O, O]", fleet, nodes ? nodes : json_null(),
			    pods ? pods : json_null(), daemonsets ? daemonsets : json_null());
	if (!v->hold)
		goto nomem;

	/* spec */
	snprintf(v->fleet_key, sizeof(v->fleet_key), "%s/%s", fns, fname);
	v->spec.fleet = v->fleet_key;
	v->spec.driver_version = jstr(spec, "driverVersion");
	v->spec.image = jstr(spec, "image");
	v->spec.heartbeat_seconds = (int)jint(spec, "heartbeatSeconds", 10);
	v->spec.generation = jint(meta, "generation", 0);
	rollout_policy_init(&v->spec.policy);
	v->spec.policy.max_parallel = (int)jint(ro, "maxParallel", 1);
	v->spec.policy.make_before_break = jbool(ro, "makeBeforeBreak", true);
	v->spec.policy.max_nodes_without_detection = (int)jint(ro, "maxNodesWithoutDetection", 1);
	v->spec.policy.gap_budget_seconds = (int)jint(ro, "gapBudgetSeconds", 120);
	v->spec.policy.paused = jbool(ro, "paused", false);
	if (json_object_size(canary)) {
		v->canary = calloc(json_object_size(canary), sizeof(*v->canary));
		if (!v->canary)
			goto nomem;
		json_object_foreach((json_t *)canary, k, val) if (json_is_string(val))
		    v->canary[v->spec.policy.n_canary++] =
		    (struct rollout_kv){k, json_string_value(val)};
		v->spec.policy.canary = v->canary;
	}
	if (prev)
		v->prev = *prev;
	else
		rollout_status_from_json(json_object_get(fleet, "status"), &v->prev);
	v->has_prev = prev || json_is_object(json_object_get(fleet, "status"));

	/* nodes */
	json_array_foreach(nodes, i, o) n_kv +=
	    json_object_size(json_object_get(json_object_get(o, "metadata"), "labels"));
	v->nodes = calloc(json_array_size(nodes) + 1, sizeof(*v->nodes));
	v->kvs = calloc(n_kv + 1, sizeof(*v->kvs));
	if (!v->nodes || !v->kvs)
		goto nomem;
	n_kv = 0;
	json_array_foreach(nodes, i, o)
	{
		const json_t *nm = json_object_get(o, "metadata");
		struct rollout_node *n = &v->nodes[v->n_nodes];

		if (!*jstr(nm, "name"))
			continue;
		n->name = jstr(nm, "name");
		n->labels = &v->kvs[n_kv];
		json_object_foreach(json_object_get(nm, "labels"), k, val) if (json_is_string(val))
		    v->kvs[n_kv + n->n_labels++] = (struct rollout_kv){k, json_string_value(val)};
		n_kv += n->n_labels;
		n->ready =
		    cond_true(json_object_get(json_object_get(o, "status"), "conditions"), "Ready");
		n->deleted = json_object_get(nm, "deletionTimestamp") != NULL;
		n->targeted = fleet_node_selected(o, sel) && fleet_node_tolerated(o, tols);
		v->n_nodes++;
	}

	/* sensor pods of this fleet */
	v->pods = calloc(json_array_size(pods) + 1, sizeof(*v->pods));
	if (!v->pods)
		goto nomem;
	json_array_foreach(pods, i, o)
	{
		const json_t *pm = json_object_get(o, "metadata");
		const json_t *ps = json_object_get(o, "status");
		struct rollout_pod *p = &v->pods[v->n_pods];
		const char *node = pod_node(o);

		if (!of_fleet(o, fns, fname) || !node)
			continue;
		p->name = jstr(pm, "name");
		p->node = node;
		p->rev = jstr(json_object_get(pm, "labels"), ROLLOUT_REVISION_LABEL);
		p->phase = pod_phase(jstr(ps, "phase"));
		p->ready = cond_true(json_object_get(ps, "conditions"), "Ready");
		p->terminating = json_object_get(pm, "deletionTimestamp") != NULL;
		if (p->terminating)
			rollout_time_parse(jstr(pm, "deletionTimestamp"), &p->deletion_ms);
		v->n_pods++;
	}

	/* revisions that exist */
	v->revisions = calloc(json_array_size(daemonsets) + 1, sizeof(*v->revisions));
	if (!v->revisions)
		goto nomem;
	json_array_foreach(daemonsets, i, o)
	{
		const json_t *dm = json_object_get(o, "metadata");
		const json_t *ann = json_object_get(dm, "annotations");

		if (!of_fleet(o, fns, fname))
			continue;
		v->revisions[v->n_revisions++] = (struct rollout_revision){
		    jstr(json_object_get(dm, "labels"), ROLLOUT_REVISION_LABEL),
		    jstr(ann, FLEET_ANN_VERSION), jstr(ann, FLEET_ANN_IMAGE)};
	}

	/* reports: a copy of the memory */
	if (reports) {
		pthread_mutex_lock(&reports->lock);
		struct rep *copies = calloc(reports->n + 1, sizeof(*copies));

		if (copies && reports->n)
			memcpy(copies, reports->v, reports->n * sizeof(*copies));
		size_t n = reports->n;

		pthread_mutex_unlock(&reports->lock);
		v->rep_copies = copies;
		v->reports = calloc(n + 1, sizeof(*v->reports));
		if (!copies || !v->reports)
			goto nomem;
		for (size_t r = 0; r < n; r++) {
			const struct rep *e = &copies[r];

			v->reports[v->n_reports++] =
			    (struct rollout_report){.node = e->node,
						    .pod = e->pod,
						    .driver_version = e->version,
						    .probe_loaded = e->probe,
						    .rules_loaded = e->rules,
						    .events_flowing = e->events,
						    .reason = e->reason[0] ? e->reason : NULL,
						    .heartbeat_ms = e->hb_ms,
						    .heartbeat_seconds = e->hb_s};
		}
	}
	return 0;
nomem:
	fleet_view_release(v);
	return -ENOMEM;
}

/* ---- informer trims ---- */

/* Keeps only the listed keys of object o (if it is one). */
static void keep_keys(json_t *o, const char *const *keys)
{
	const char *k;
	json_t *v;
	void *tmp;

	if (!json_is_object(o))
		return;
	json_object_foreach_safe(o, tmp, k, v)
	{
		bool keep = false;

		for (const char *const *p = keys; *p && !keep; p++)
			keep = strcmp(*p, k) == 0;
		if (!keep)
			json_object_del(o, k);
	}
}

/* Keeps status.phase (when asked) and only the Ready condition with its type and status. */
static void trim_status(json_t *obj, bool phase)
{
	static const char *const st_pod[] = {"phase", "conditions", NULL};
	static const char *const st_node[] = {"conditions", NULL};
	static const char *const cond[] = {"type", "status", NULL};
	json_t *st = json_object_get(obj, "status");
	json_t *conds = json_object_get(st, "conditions");
	json_t *ready = NULL, *c;
	size_t i;

	keep_keys(st, phase ? st_pod : st_node);
	json_array_foreach(conds, i, c) if (strcmp(jstr(c, "type"), "Ready") == 0) ready =
	    json_incref(c);
	if (json_is_array(conds)) {
		json_array_clear(conds);
		if (ready) {
			keep_keys(ready, cond);
			json_array_append_new(conds, ready);
		}
	}
}

void fleet_trim_node(void *ctx, json_t *obj)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	static const char *const meta[] = {
	    "name", "uid", "resourceVersion", "generation", "labels", "deletionTimestamp", NULL};
	static const char *const spec[] = {"taints", NULL};

	keep_keys(obj, top);
	keep_keys(json_object_get(obj, "metadata"), meta);
	keep_keys(json_object_get(obj, "spec"), spec);
	trim_status(obj, false);
}

void fleet_trim_pod(void *ctx, json_t *obj)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	static const char *const meta[] = {"name",
					   "namespace",
					   "uid",
					   "resourceVersion",
					   "labels",
					   "deletionTimestamp",
					   "ownerReferences",
					   NULL};
	static const char *const spec[] = {"nodeName", "affinity", NULL};

	keep_keys(obj, top);
	keep_keys(json_object_get(obj, "metadata"), meta);
	keep_keys(json_object_get(obj, "spec"), spec);
	trim_status(obj, true);
}

struct rollout_input fleet_view_input(const struct fleet_view *v, int64_t now_ms)
{
	return (struct rollout_input){.spec = &v->spec,
				      .prev = v->has_prev ? &v->prev : NULL,
				      .nodes = v->nodes,
				      .n_nodes = v->n_nodes,
				      .pods = v->pods,
				      .n_pods = v->n_pods,
				      .reports = v->reports,
				      .n_reports = v->n_reports,
				      .revisions = v->revisions,
				      .n_revisions = v->n_revisions,
				      .now_ms = now_ms};
}
