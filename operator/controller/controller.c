/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/controller/controller.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/watch.h"
#include "lib/util/log.h"
#include "operator/queue/workq.h"

#define MAX_LISTENERS 16
#define MAX_WORKERS 16

struct listener {
	struct ctl_controller *c;
	ctl_map_fn map;
	void *ctx;
};

struct informer {
	struct informer *next;
	struct ctl_manager *m;
	const struct kube_resource *res;
	char *ns, *label, *field;
	void (*transform)(void *ctx, json_t *obj);
	struct kube_watch *w;
	struct listener ls[MAX_LISTENERS];
	int nls;
	char label_text[160]; /* metrics label */
};

struct ctl_controller {
	struct ctl_controller *next;
	struct ctl_manager *m;
	struct ctl_controller_opts o;
	char *name;
	struct workq *q;
	pthread_t workers[MAX_WORKERS];
	int nworkers;
	char label[96]; /* controller="name" */
};

struct ctl_manager {
	struct ctl_manager_opts o;
	struct informer *infs;
	struct ctl_controller *ctls;
	atomic_bool leading;
	atomic_bool stopping;
	bool started;
};

static int str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

int ctl_key(const json_t *obj, char *buf, size_t len)
{
	return kube_cache_key((json_t *)obj, buf, len);
}

struct ctl_manager *ctl_manager_new(const struct ctl_manager_opts *opts)
{
	struct ctl_manager *m;

	if (!opts || !opts->client || !opts->metrics)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->o = *opts;
	metrics_describe(m->o.metrics, "vigil_reconcile_total", "counter",
			 "Reconciles by controller and result (done, requeue, retry, terminal).");
	metrics_describe(m->o.metrics, "vigil_reconcile_errors_total", "counter",
			 "Reconciles that failed (retry or terminal).");
	metrics_describe(m->o.metrics, "vigil_reconcile_duration_seconds", "histogram",
			 "Time spent in one reconcile.");
	metrics_describe(m->o.metrics, "vigil_workqueue_depth", "gauge",
			 "Keys ready to be reconciled.");
	metrics_describe(m->o.metrics, "vigil_workqueue_delayed", "gauge",
			 "Keys waiting for a backoff or requeue delay.");
	metrics_describe(m->o.metrics, "vigil_workqueue_retries_total", "counter",
			 "Rate-limited requeues.");
	metrics_describe(m->o.metrics, "vigil_watch_restarts_total", "counter",
			 "Watch connections re-opened, by resource.");
	metrics_describe(m->o.metrics, "vigil_watch_relists_total", "counter",
			 "Relists after the first list (410 Gone or failed watch), by resource.");
	metrics_describe(m->o.metrics, "vigil_watch_events_total", "counter",
			 "Watch events applied to the caches, by resource.");
	metrics_describe(m->o.metrics, "vigil_cache_objects", "gauge",
			 "Objects in each informer cache.");
	metrics_describe(m->o.metrics, "vigil_api_writes_total", "counter",
			 "Writes to the API server by controller and verb.");
	metrics_describe(m->o.metrics, "vigil_leader", "gauge",
			 "1 when this replica is the leader and reconciles.");
	return m;
}

static void collect(void *ctx, struct metrics *mx)
{
	struct ctl_manager *m = ctx;
	char lb[256];

	for (struct ctl_controller *c = m->ctls; c; c = c->next) {
		metrics_gauge_set(mx, "vigil_workqueue_depth", c->label, (double)workq_len(c->q));
		metrics_gauge_set(mx, "vigil_workqueue_delayed", c->label,
				  (double)workq_delayed_len(c->q));
		/* counters kept by the queue: expose the running total */
		metrics_counter_add(
		    mx, "vigil_workqueue_retries_total", c->label,
		    (double)workq_retries(c->q) -
			metrics_value(mx, "vigil_workqueue_retries_total", c->label));
	}
	for (struct informer *i = m->infs; i; i = i->next) {
		struct kube_watch_stats st;

		if (!i->w)
			continue;
		kube_watch_stats(i->w, &st);
		snprintf(lb, sizeof(lb), "%s", i->label_text);
		metrics_counter_add(mx, "vigil_watch_restarts_total", lb,
				    (double)st.restarts -
					metrics_value(mx, "vigil_watch_restarts_total", lb));
		metrics_counter_add(mx, "vigil_watch_relists_total", lb,
				    (double)st.relists -
					metrics_value(mx, "vigil_watch_relists_total", lb));
		metrics_counter_add(mx, "vigil_watch_events_total", lb,
				    (double)st.events -
					metrics_value(mx, "vigil_watch_events_total", lb));
		metrics_gauge_set(mx, "vigil_cache_objects", lb,
				  (double)kube_cache_len(kube_watch_cache(i->w)));
	}
	metrics_gauge_set(mx, "vigil_leader", "", atomic_load(&m->leading) ? 1 : 0);
}

struct ctl_controller *ctl_register(struct ctl_manager *m, const struct ctl_controller_opts *o)
{
	struct ctl_controller *c, **pp;
	struct workq_opts qo = {0};

	if (!m || !o || !o->name || !o->reconcile || m->started)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->o = *o;
	c->name = strdup(o->name);
	qo.base_ms = o->base_ms;
	qo.max_ms = o->max_ms;
	c->q = workq_new(&qo);
	if (!c->name || !c->q) {
		workq_free(c->q);
		free(c->name);
		free(c);
		return NULL;
	}
	c->o.name = c->name;
	if (c->o.workers <= 0)
		c->o.workers = 1;
	if (c->o.workers > MAX_WORKERS)
		c->o.workers = MAX_WORKERS;
	snprintf(c->label, sizeof(c->label), "controller=\"%s\"", c->name);
	for (pp = &m->ctls; *pp; pp = &(*pp)->next)
		;
	*pp = c;
	return c;
}

static struct informer *find_informer(struct ctl_manager *m, const struct ctl_source *src)
{
	for (struct informer *i = m->infs; i; i = i->next)
		if (i->res == src->res && str_eq(i->ns, src->ns) &&
		    str_eq(i->label, src->label_selector) &&
		    str_eq(i->field, src->field_selector) && i->transform == src->transform)
			return i;
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static struct informer *get_informer(struct ctl_manager *m, const struct ctl_source *src)
{
	struct informer *i, **pp;

	if (m->started || !src->res)
		return NULL;
	i = find_informer(m, src);
	if (i)
		return i;
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->m = m;
	i->res = src->res;
	i->ns = dup_or_null(src->ns);
	i->label = dup_or_null(src->label_selector);
	i->field = dup_or_null(src->field_selector);
	i->transform = src->transform;
	snprintf(i->label_text, sizeof(i->label_text), "resource=\"%s\"%s%s%s", src->res->plural,
		 src->field_selector ? ",selector=\"" : "",
		 src->field_selector ? src->field_selector : "", src->field_selector ? "\"" : "");
	for (pp = &m->infs; *pp; pp = &(*pp)->next)
		;
	*pp = i;
	return i;
}

int ctl_informer(struct ctl_manager *m, const struct ctl_source *src)
{
	return get_informer(m, src) ? 0 : -EINVAL;
}

int ctl_watch(struct ctl_controller *c, const struct ctl_source *src, ctl_map_fn map, void *ctx)
{
	struct informer *i;

	if (!c || !src)
		return -EINVAL;
	i = get_informer(c->m, src);
	if (!i)
		return -EINVAL;
	if (i->nls >= MAX_LISTENERS)
		return -ENOSPC;
	i->ls[i->nls++] = (struct listener){c, map, ctx};
	return 0;
}

struct kube_cache *ctl_cache(struct ctl_manager *m, const struct ctl_source *src)
{
	struct informer *i = find_informer(m, src);

	return i && i->w ? kube_watch_cache(i->w) : NULL;
}

void ctl_enqueue(struct ctl_controller *c, const char *key)
{
	workq_add(c->q, key);
}

void ctl_enqueue_after(struct ctl_controller *c, const char *key, uint64_t ms)
{
	workq_add_after(c->q, key, ms);
}

void ctl_enqueue_all(struct ctl_controller *c, const struct ctl_source *src)
{
	ctl_enqueue_all_after(c, src, 0);
}

void ctl_enqueue_all_after(struct ctl_controller *c, const struct ctl_source *src, uint64_t ms)
{
	struct kube_cache *cache = ctl_cache(c->m, src);
	json_t *keys, *k;
	size_t idx;

	if (!cache)
		return;
	keys = kube_cache_keys(cache);
	json_array_foreach(keys, idx, k)
	{
		workq_add_after(c->q, json_string_value(k), ms);
	}
	json_decref(keys);
}

struct ctl_manager *ctl_controller_manager(struct ctl_controller *c)
{
	return c ? c->m : NULL;
}

void ctl_count_write(struct ctl_controller *c, const char *verb)
{
	char lb[160];

	snprintf(lb, sizeof(lb), "%s,verb=\"%s\"", c->label, verb);
	metrics_counter_add(c->m->o.metrics, "vigil_api_writes_total", lb, 1);
}

/* Removes every key of o not in keep (NULL-terminated). */
static void keep_only(json_t *o, const char *const *keep)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, k, v)
	{
		const char *const *p;

		for (p = keep; *p && strcmp(*p, k) != 0; p++)
			;
		if (!*p)
			json_object_del(o, k);
	}
}

void ctl_trim_sensornode(void *ctx, json_t *obj)
{
	static const char *const top[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	static const char *const md[] = {
	    "name",   "namespace",	 "uid", "resourceVersion", "generation",
	    "labels", "ownerReferences", NULL};
	static const char *const st[] = {"driverVersion",     "image",	    "podName",
					 "rulesHash",	      "ruleCount",  "heartbeatSeconds",
					 "lastHeartbeatTime", "conditions", NULL};
	static const char *const cond[] = {
	    "type", "status", "reason", "message", "lastTransitionTime", NULL};
	json_t *conds, *c;
	size_t i;

	keep_only(obj, top);
	keep_only(json_object_get(obj, "metadata"), md);
	keep_only(json_object_get(obj, "status"), st);
	conds = json_object_get(json_object_get(obj, "status"), "conditions");
	json_array_foreach(conds, i, c)
	{
		keep_only(c, cond);
	}
}

/* ---- informer fan-out ---- */

static void dispatch(struct informer *i, json_t *old, json_t *obj)
{
	for (int n = 0; n < i->nls; n++) {
		struct listener *l = &i->ls[n];

		if (l->map) {
			l->map(l->ctx, l->c, old, obj);
		} else {
			char key[512];

			if (ctl_key(obj ? obj : old, key, sizeof(key)) > 0)
				workq_add(l->c->q, key);
		}
	}
}

static void on_added(void *ctx, json_t *obj)
{
	dispatch(ctx, NULL, obj);
}

static void on_updated(void *ctx, json_t *old, json_t *obj)
{
	dispatch(ctx, old, obj);
}

static void on_deleted(void *ctx, json_t *old)
{
	dispatch(ctx, old, NULL);
}

/* ---- workers ---- */

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void process(struct ctl_controller *c, const char *key)
{
	struct metrics *mx = c->m->o.metrics;
	struct ctl_result r;
	const char *result = "done";
	char lb[160];
	double t0 = mono_s(), dt;

	r = c->o.reconcile(c->o.ctx, key);
	dt = mono_s() - t0;
	switch (r.outcome) {
	case CTL_DONE:
		workq_forget(c->q, key);
		break;
	case CTL_REQUEUE_AFTER:
		workq_forget(c->q, key);
		workq_add_after(c->q, key, r.after_ms);
		result = "requeue";
		break;
	case CTL_RETRY: {
		uint64_t d = workq_add_rate_limited(c->q, key);

		result = "retry";
		vlog_debug("controller", "controller=%s key=%s msg=\"retry\" after_ms=%llu",
			   c->name, key, (unsigned long long)d);
		break;
	}
	case CTL_TERMINAL:
		workq_forget(c->q, key);
		result = "terminal";
		vlog_warn("controller", "controller=%s key=%s msg=\"terminal error, not retried\"",
			  c->name, key);
		break;
	}
	snprintf(lb, sizeof(lb), "%s,result=\"%s\"", c->label, result);
	metrics_counter_add(mx, "vigil_reconcile_total", lb, 1);
	if (r.outcome == CTL_RETRY || r.outcome == CTL_TERMINAL)
		metrics_counter_add(mx, "vigil_reconcile_errors_total", c->label, 1);
	metrics_observe(mx, "vigil_reconcile_duration_seconds", c->label, dt);
	vlog_debug("controller", "controller=%s key=%s result=%s ms=%.2f", c->name, key, result,
		   dt * 1000);
}

static void *worker_main(void *arg)
{
	struct ctl_controller *c = arg;
	struct ctl_manager *m = c->m;

	while (!atomic_load(&m->stopping)) {
		char *key = NULL;
		int rc;

		if (!atomic_load(&m->leading)) {
			struct timespec ts = {0, 50 * 1000000};

			nanosleep(&ts, NULL);
			continue;
		}
		rc = workq_get(c->q, &key, 200);
		if (rc == -ESHUTDOWN)
			break;
		if (rc)
			continue;
		if (atomic_load(&m->leading) && !atomic_load(&m->stopping))
			process(c, key);
		else
			workq_add(c->q, key); /* keep it for when we lead again */
		workq_done(c->q, key);
		free(key);
	}
	return NULL;
}

int ctl_manager_start(struct ctl_manager *m, int sync_timeout_ms)
{
	int err;

	if (!m || m->started)
		return -EINVAL;
	m->started = true;
	metrics_on_render(m->o.metrics, collect, m);
	for (struct informer *i = m->infs; i; i = i->next) {
		struct kube_watch_opts wo = {
		    .res = i->res,
		    .ns = i->ns,
		    .label_selector = i->label,
		    .field_selector = i->field,
		    .idle_timeout_ms = m->o.idle_timeout_ms,
		    .timeout_max_s = m->o.watch_timeout_max_s,
		    .timeout_min_s = m->o.watch_timeout_max_s ? m->o.watch_timeout_max_s / 2 : 0,
		    .transform = i->transform,
		    .handlers = {.added = on_added,
				 .updated = on_updated,
				 .deleted = on_deleted,
				 .ctx = i},
		};

		err = kube_watch_start(m->o.client, &wo, &i->w);
		if (err) {
			vlog_error("controller", "msg=\"cannot start informer\" resource=%s err=%d",
				   i->res->plural, err);
			return err;
		}
	}
	for (struct informer *i = m->infs; i; i = i->next) {
		err = kube_watch_wait_synced(i->w, sync_timeout_ms);
		if (err) {
			vlog_error("controller",
				   "msg=\"cache did not sync\" resource=%s timeout_ms=%d",
				   i->res->plural, sync_timeout_ms);
			return err;
		}
	}
	vlog_info("controller", "msg=\"caches synced\"");
	for (struct ctl_controller *c = m->ctls; c; c = c->next) {
		for (int n = 0; n < c->o.workers; n++) {
			err = -pthread_create(&c->workers[n], NULL, worker_main, c);
			if (err)
				return err;
			c->nworkers++;
		}
	}
	return 0;
}

bool ctl_manager_synced(struct ctl_manager *m)
{
	if (!m || !m->started)
		return false;
	for (struct informer *i = m->infs; i; i = i->next)
		if (!i->w || !kube_watch_synced(i->w))
			return false;
	return true;
}

void ctl_manager_set_leading(struct ctl_manager *m, bool leading)
{
	if (m)
		atomic_store(&m->leading, leading);
}

bool ctl_manager_leading(struct ctl_manager *m)
{
	return m && atomic_load(&m->leading);
}

void ctl_manager_stop(struct ctl_manager *m)
{
	if (!m)
		return;
	atomic_store(&m->stopping, true);
	for (struct ctl_controller *c = m->ctls; c; c = c->next) {
		workq_shutdown(c->q);
		for (int n = 0; n < c->nworkers; n++)
			pthread_join(c->workers[n], NULL);
		c->nworkers = 0;
	}
	for (struct informer *i = m->infs; i; i = i->next) {
		kube_watch_stop(i->w);
		i->w = NULL;
	}
}

void ctl_manager_free(struct ctl_manager *m)
{
	if (!m)
		return;
	ctl_manager_stop(m);
	while (m->ctls) {
		struct ctl_controller *c = m->ctls;

		m->ctls = c->next;
		workq_free(c->q);
		free(c->name);
		free(c);
	}
	while (m->infs) {
		struct informer *i = m->infs;

		m->infs = i->next;
		free(i->ns);
		free(i->label);
		free(i->field);
		free(i);
	}
	free(m);
}
