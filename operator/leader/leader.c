/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/leader/leader.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "lib/kube/path.h"
#include "lib/util/log.h"

enum leader_decision leader_decide(const struct leader_record *rec, struct leader_observed *obs,
				   const char *identity, int64_t now_ms, int lease_ms)
{
	int64_t dur;

	if (!rec) {
		obs->valid = false;
		return LEADER_CREATE;
	}
	if (!obs->valid || strcmp(obs->rec.holder, rec->holder) != 0 ||
	    strcmp(obs->rec.renew_time, rec->renew_time) != 0) {
		obs->rec = *rec;
		obs->seen_ms = now_ms;
		obs->valid = true;
	}
	if (rec->holder[0] && strcmp(rec->holder, identity) == 0)
		return LEADER_RENEW;
	if (!rec->holder[0])
		return LEADER_TAKEOVER;
	dur = rec->duration_s > 0 ? (int64_t)rec->duration_s * 1000 : lease_ms;
	if (now_ms < obs->seen_ms + dur)
		return LEADER_FOLLOW;
	return LEADER_TAKEOVER;
}

bool leader_must_step_down(int64_t last_ok_ms, int64_t now_ms, int renew_deadline_ms)
{
	return now_ms - last_ok_ms >= renew_deadline_ms;
}

int leader_record_from_lease(const json_t *lease, struct leader_record *rec)
{
	json_t *spec = json_object_get(lease, "spec");
	const char *s;

	memset(rec, 0, sizeof(*rec));
	if (!json_is_object(spec))
		return -EINVAL;
	s = json_string_value(json_object_get(spec, "holderIdentity"));
	snprintf(rec->holder, sizeof(rec->holder), "%s", s ? s : "");
	s = json_string_value(json_object_get(spec, "renewTime"));
	snprintf(rec->renew_time, sizeof(rec->renew_time), "%s", s ? s : "");
	rec->duration_s = (int)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	rec->transitions = (int)json_integer_value(json_object_get(spec, "leaseTransitions"));
	return 0;
}

/* ---- runtime ---- */

struct leader {
	struct leader_opts o;
	char *ns, *name, *identity;
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	atomic_bool leading;
	atomic_int transitions;
	int64_t last_ok_ms;
	struct leader_observed obs;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 with microseconds (the MicroTime format Leases use). */
static void micro_now(char buf[40])
{
	struct timeval tv;
	struct tm tm;
	char base[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 40, "%s.%06ldZ", base, (long)tv.tv_usec);
}

static json_t *lease_body(struct leader *l, const json_t *cur, const char *holder, bool new_term,
			  int transitions)
{
	char now[40];
	json_t *obj, *spec;

	micro_now(now);
	obj = cur ? json_deep_copy(cur)
		  : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1",
			      "kind", "Lease", "metadata", "name", l->name, "namespace", l->ns);
	if (!obj)
		return NULL;
	spec = json_object_get(obj, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(obj, "spec", spec);
	}
	json_object_set_new(spec, "holderIdentity", json_string(holder));
	json_object_set_new(spec, "leaseDurationSeconds",
			    json_integer((l->o.lease_ms + 999) / 1000));
	json_object_set_new(spec, "renewTime", json_string(now));
	if (new_term) {
		json_object_set_new(spec, "acquireTime", json_string(now));
		json_object_set_new(spec, "leaseTransitions", json_integer(transitions));
	}
	return obj;
}

static void become(struct leader *l, bool lead)
{
	if (atomic_load(&l->leading) == lead)
		return;
	atomic_store(&l->leading, lead);
	if (lead) {
		vlog_info("leader", "msg=\"became leader\" lease=%s/%s identity=%s", l->ns, l->name,
			  l->identity);
		if (l->o.on_started)
			l->o.on_started(l->o.ctx);
	} else {
		vlog_warn("leader", "msg=\"lost leadership\" lease=%s/%s identity=%s", l->ns,
			  l->name, l->identity);
		if (l->o.on_stopped)
			l->o.on_stopped(l->o.ctx);
	}
}

/* One round: read, decide, write. */
static void try_once(struct leader *l)
{
	char path[KUBE_PATH_MAX];
	struct kube_error err;
	struct leader_record rec;
	json_t *cur = NULL, *body = NULL, *res = NULL;
	enum leader_decision d;
	int rc;

	kube_path(path, sizeof(path), &kube_res_leases, l->ns, l->name, NULL);
	rc = kube_get(l->o.client, path, &cur, &err);
	if (rc == -ENOENT) {
		d = leader_decide(NULL, &l->obs, l->identity, mono_ms(), l->o.lease_ms);
	} else if (rc) {
		vlog_warn("leader", "msg=\"cannot read lease\" lease=%s/%s code=%d err=\"%s\"",
			  l->ns, l->name, err.code, err.message);
		goto check;
	} else {
		leader_record_from_lease(cur, &rec);
		atomic_store(&l->transitions, rec.transitions);
		d = leader_decide(&rec, &l->obs, l->identity, mono_ms(), l->o.lease_ms);
	}
	switch (d) {
	case LEADER_CREATE:
		body = lease_body(l, NULL, l->identity, true, 0);
		kube_path(path, sizeof(path), &kube_res_leases, l->ns, NULL, NULL);
		rc = kube_create(l->o.client, path, body, &res, &err);
		break;
	case LEADER_RENEW:
		body = lease_body(l, cur, l->identity, false, 0);
		rc = kube_update(l->o.client, path, body, &res, &err);
		break;
	case LEADER_TAKEOVER:
		body = lease_body(l, cur, l->identity, true, rec.transitions + 1);
		rc = kube_update(l->o.client, path, body, &res, &err);
		break;
	case LEADER_FOLLOW:
		/* someone else holds a live lease: if we thought we led, stop now */
		become(l, false);
		goto out;
	}
	if (rc == 0) {
		l->last_ok_ms = mono_ms();
		if (d != LEADER_RENEW)
			vlog_info("leader", "msg=\"acquired lease\" lease=%s/%s identity=%s", l->ns,
				  l->name, l->identity);
		become(l, true);
		goto out;
	}
	vlog_debug("leader", "msg=\"lease write failed\" code=%d reason=%s", err.code, err.reason);
check:
	if (atomic_load(&l->leading) &&
	    leader_must_step_down(l->last_ok_ms, mono_ms(), l->o.renew_deadline_ms))
		become(l, false);
out:
	json_decref(cur);
	json_decref(body);
	json_decref(res);
}

static void *run(void *arg)
{
	struct leader *l = arg;

	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&l->lock);
		try_once(l);
		pthread_mutex_lock(&l->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += l->o.retry_ms / 1000;
		ts.tv_nsec += (long)(l->o.retry_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!l->stop)
			pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int leader_start(const struct leader_opts *opts, struct leader **out)
{
	struct leader *l;
	pthread_condattr_t ca;
	int err;

	if (!opts || !opts->client || !opts->ns || !opts->name || !opts->identity || !out)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->o = *opts;
	if (l->o.lease_ms <= 0)
		l->o.lease_ms = 15000;
	if (l->o.renew_deadline_ms <= 0)
		l->o.renew_deadline_ms = 10000;
	if (l->o.retry_ms <= 0)
		l->o.retry_ms = 2000;
	l->ns = strdup(opts->ns);
	l->name = strdup(opts->name);
	l->identity = strdup(opts->identity);
	pthread_mutex_init(&l->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&l->thr, NULL, run, l);
	if (err || !l->ns || !l->name || !l->identity) {
		free(l->ns);
		free(l->name);
		free(l->identity);
		free(l);
		return err ? err : -ENOMEM;
	}
	*out = l;
	return 0;
}

bool leader_is_leading(const struct leader *l)
{
	return l && atomic_load(&((struct leader *)l)->leading);
}

int leader_transitions(const struct leader *l)
{
	return l ? atomic_load(&((struct leader *)l)->transitions) : 0;
}

/* Gives the lease up so a follower need not wait for it to expire. */
static void release(struct leader *l)
{
	char path[KUBE_PATH_MAX];
	json_t *cur = NULL, *body = NULL;
	struct leader_record rec;

	kube_path(path, sizeof(path), &kube_res_leases, l->ns, l->name, NULL);
	if (kube_get(l->o.client, path, &cur, NULL) == 0 &&
	    leader_record_from_lease(cur, &rec) == 0 && strcmp(rec.holder, l->identity) == 0) {
		body = lease_body(l, cur, "", false, 0);
		json_object_set_new(json_object_get(body, "spec"), "leaseDurationSeconds",
				    json_integer(1));
		if (kube_update(l->o.client, path, body, NULL, NULL) == 0)
			vlog_info("leader", "msg=\"released lease\" lease=%s/%s", l->ns, l->name);
	}
	json_decref(cur);
	json_decref(body);
}

void leader_free(struct leader *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->thr, NULL);
	if (atomic_load(&l->leading)) {
		atomic_store(&l->leading, false);
		release(l);
	}
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l->ns);
	free(l->name);
	free(l->identity);
	free(l);
}
