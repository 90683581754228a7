// SPDX-License-Identifier: Apache-2.0
#include "sensor/report/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/client.h"
#include "lib/kube/path.h"
#include "lib/util/log.h"

#define NCOND 4

struct cond {
	char type[24];
	char status[8];
	char reason[40];
	char message[1024];
	char ltt[32]; /* lastTransitionTime */
};

struct report_state {
	char node[254];
	struct cond prev[NCOND];
	int nprev;
};

char *report_time(unsigned long long ns, char *buf, size_t len)
{
	time_t t = ns / 1000000000ull;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

struct report_state *report_state_new(const char *node)
{
	struct report_state *st = calloc(1, sizeof(*st));

	if (st)
		snprintf(st->node, sizeof(st->node), "%s", node ? node : "");
	return st;
}

void report_state_free(struct report_state *st)
{
	free(st);
}

static struct cond *prev_of(struct report_state *st, const char *type)
{
	int i;

	for (i = 0; i < st->nprev; i++)
		if (!strcmp(st->prev[i].type, type))
			return &st->prev[i];
	return NULL;
}

void report_state_seed(struct report_state *st, json_t *conditions)
{
	json_t *c;
	size_t i;

	st->nprev = 0;
	json_array_foreach(conditions, i, c)
	{
		struct cond *p;
		const char *type = json_string_value(json_object_get(c, "type"));

		if (!type || st->nprev == NCOND)
			continue;
		p = &st->prev[st->nprev++];
		memset(p, 0, sizeof(*p));
		snprintf(p->type, sizeof(p->type), "%s", type);
		snprintf(p->status, sizeof(p->status), "%s",
			 json_string_value(json_object_get(c, "status")) ?: "");
		snprintf(p->reason, sizeof(p->reason), "%s",
			 json_string_value(json_object_get(c, "reason")) ?: "");
		snprintf(p->ltt, sizeof(p->ltt), "%s",
			 json_string_value(json_object_get(c, "lastTransitionTime")) ?: "");
	}
}

static void set_cond(struct cond *c, const char *type, const char *status, const char *reason,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void set_cond(struct cond *c, const char *type, const char *status, const char *reason,
		     const char *fmt, ...)
{
	va_list ap;

	memset(c, 0, sizeof(*c));
	snprintf(c->type, sizeof(c->type), "%s", type);
	snprintf(c->status, sizeof(c->status), "%s", status);
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

/* Splits a comma-separated list into a JSON array. */
static json_t *csv_array(const char *csv)
{
	json_t *a = json_array();
	const char *p = csv;

	while (a && p && *p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p = e ? e + 1 : NULL;
	}
	return a;
}

json_t *report_build_status(struct report_state *st, const struct health_snapshot *s)
{
	struct cond c[NCOND];
	char now[32], why[1200];
	bool flowing = health_events_flowing(s), ready;
	json_t *status, *conds;
	int i;

	report_time(s->now_ns, now, sizeof(now));
	/* ProbeLoaded */
	if (s->probe_attached)
		set_cond(&c[0], "ProbeLoaded", "True", "Loaded", "%s", s->probe_message);
	else if (!strcmp(s->probe_reason, "Pending"))
		set_cond(&c[0], "ProbeLoaded", "Unknown", "Pending", "probe not loaded yet");
	else
		set_cond(&c[0], "ProbeLoaded", "False", s->probe_reason, "%s%s%s", s->probe_message,
			 s->probe_fix[0] ? ". Fix: " : "", s->probe_fix);
	/* RulesLoaded */
	if (s->rules_loaded)
		set_cond(&c[1], "RulesLoaded", "True", "Loaded", "%llu rules, hash %s",
			 (unsigned long long)s->rule_count, s->rules_hash);
	else if (s->rules_active)
		set_cond(&c[1], "RulesLoaded", "False",
			 s->rules_reason[0] ? s->rules_reason : "InvalidRules",
			 "%s (still evaluating the last good rules, hash %s)", s->rules_message,
			 s->rules_hash);
	else
		set_cond(&c[1], "RulesLoaded", "False",
			 s->rules_reason[0] ? s->rules_reason : "NoRules", "%s", s->rules_message);
	/* EventsFlowing */
	if (flowing)
		set_cond(&c[2], "EventsFlowing", "True", "EventsFlowing", "%llu events/s",
			 (unsigned long long)s->events_per_second);
	else if (!s->probe_attached)
		set_cond(&c[2], "EventsFlowing", "False", "NoEvents", "probe not attached");
	else
		set_cond(&c[2], "EventsFlowing", "False", "NoEvents", "no events in the last %d s",
			 s->events_window_s);
	/* Ready */
	ready = health_ready(s, why, sizeof(why));
	if (ready)
		set_cond(&c[3], "Ready", "True", "Ready", "detection is working");
	else
		set_cond(&c[3], "Ready", "False",
			 !s->probe_attached ? c[0].reason
			 : !s->rules_active ? c[1].reason
					    : "NoEvents",
			 "%s", why);

	conds = json_array();
	for (i = 0; i < NCOND; i++) {
		struct cond *p = prev_of(st, c[i].type);

		snprintf(c[i].ltt, sizeof(c[i].ltt), "%s",
			 p && !strcmp(p->status, c[i].status) && p->ltt[0] ? p->ltt : now);
		json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type",
						       c[i].type, "status", c[i].status, "reason",
						       c[i].reason, "message", c[i].message,
						       "lastTransitionTime", c[i].ltt));
	}
	memcpy(st->prev, c, sizeof(c));
	st->nprev = NCOND;

	status = json_pack("{s:s, s:s, s:b, s:o, s:s, s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:o}",
			   "driverVersion", s->driver_version, "kernelRelease", s->kernel_release,
			   "btfPresent", s->btf_present, "capabilities", csv_array(s->caps_held),
			   "rulesHash", s->rules_hash, "ruleCount", (json_int_t)s->rule_count,
			   "eventsPerSecond", (json_int_t)s->events_per_second, "eventsTotal",
			   (json_int_t)s->events_total, "drops", (json_int_t)s->drops_total,
			   "bufSizePreset", s->buffer_preset, "heartbeatSeconds", s->heartbeat_s,
			   "lastHeartbeatTime", now, "conditions", conds);
	if (status && s->pod_name[0])
		json_object_set_new(status, "podName", json_string(s->pod_name));
	return status;
}

int report_write(struct kube_client *c, struct report_state *st, const struct health_snapshot *s,
		 struct kube_error *err)
{
	char path[KUBE_PATH_MAX], spath[KUBE_PATH_MAX], coll[KUBE_PATH_MAX];
	json_t *obj = NULL, *status = NULL;
	int rc, attempt;

	kube_path(path, sizeof(path), &kube_res_sensornodes, NULL, st->node, NULL);
	kube_path(spath, sizeof(spath), &kube_res_sensornodes, NULL, st->node, "status");
	kube_path(coll, sizeof(coll), &kube_res_sensornodes, NULL, NULL, NULL);
	for (attempt = 0; attempt < 5; attempt++) {
		rc = kube_get(c, path, &obj, err);
		if (rc == -ENOENT) {
			json_t *body =
			    json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}", "apiVersion",
				      "vigil.dev/v1alpha1", "kind", "SensorNode", "metadata",
				      "name", st->node, "labels", "app.kubernetes.io/managed-by",
				      "vigil-sensor", "spec", "nodeName", st->node);

			rc = kube_create(c, coll, body, &obj, err);
			json_decref(body);
			if (rc == -EEXIST)
				continue; /* created meanwhile: read it again */
		} else if (rc == 0 && !st->nprev) {
			/* first write after a start: keep the server's transition times */
			report_state_seed(
			    st, json_object_get(json_object_get(obj, "status"), "conditions"));
		}
		if (rc)
			goto out;
		status = report_build_status(st, s);
		if (!status) {
			rc = -ENOMEM;
			goto out;
		}
		json_object_set_new(obj, "status", status);
		status = NULL;
		rc = kube_update(c, spath, obj, NULL, err);
		json_decref(obj);
		obj = NULL;
		if (rc != -EBUSY) /* 409 Conflict: someone wrote in between; read and retry */
			goto out;
		vlog_debug("report", "node=%s msg=\"conflict, retrying\" attempt=%d", st->node,
			   attempt + 1);
	}
out:
	json_decref(obj);
	return rc;
}

/* ---- periodic reporter ---- */

struct reporter {
	struct kube_client *c;
	struct health *h;
	struct report_state *st;
	int interval_s;
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static void *reporter_main(void *arg)
{
	struct reporter *r = arg;
	struct health_snapshot *s = malloc(sizeof(*s));
	bool failing = false;

	if (!s)
		return NULL;
	for (;;) {
		struct kube_error ke;
		struct timespec ts;
		int rc;

		health_snapshot(r->h, s);
		rc = report_write(r->c, r->st, s, &ke);
		if (rc && !failing)
			vlog_warn("report",
				  "node=%s msg=\"SensorNode write failed\" code=%d reason=%s "
				  "message=\"%s\"",
				  r->st->node, ke.code, ke.reason, ke.message);
		else if (!rc && failing)
			vlog_info("report", "node=%s msg=\"SensorNode write works again\"",
				  r->st->node);
		failing = rc != 0;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += r->interval_s;
		pthread_mutex_lock(&r->lock);
		while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &ts) != ETIMEDOUT)
			;
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);
	}
	free(s);
	return NULL;
}

int report_start(struct kube_client *c, struct health *h, const char *node, int interval_s,
		 struct reporter **out)
{
	struct reporter *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	r->st = report_state_new(node);
	if (!r->st) {
		free(r);
		return -ENOMEM;
	}
	r->c = c;
	r->h = h;
	r->interval_s = interval_s > 0 ? interval_s : 10;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	err = pthread_create(&r->thr, NULL, reporter_main, r);
	if (err) {
		report_state_free(r->st);
		free(r);
		return -err;
	}
	*out = r;
	return 0;
}

void report_stop(struct reporter *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thr, NULL);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	report_state_free(r->st);
	free(r);
}
