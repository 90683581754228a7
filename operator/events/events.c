/* SPDX-License-Identifier: Apache-2.0 */
#include "operator/events/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/path.h"
#include "lib/util/log.h"
#include "operator/status/conditions.h"

#define SLOTS 256
#define DEDUP_WINDOW_S 600

struct slot {
	char *key; /* uid \x1f type \x1f reason \x1f message */
	char ns[64];
	char name[320];
	int count;
	time_t last;
};

struct evrec {
	struct kube_client *client;
	char *component, *instance;
	pthread_mutex_t lock;
	struct slot slots[SLOTS];
	unsigned next;
	unsigned long created, patched;
};

struct evrec *evrec_new(struct kube_client *client, const char *component, const char *instance)
{
	struct evrec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->client = client;
	r->component = strdup(component ? component : "vigil-operator");
	r->instance = strdup(instance ? instance : "");
	if (!r->component || !r->instance) {
		evrec_free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	return r;
}

void evrec_free(struct evrec *r)
{
	if (!r)
		return;
	for (int i = 0; i < SLOTS; i++)
		free(r->slots[i].key);
	free(r->component);
	free(r->instance);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static const char *sget(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);
	const char *s;

	if (b)
		v = json_object_get(v, b);
	s = json_string_value(v);
	return s ? s : "";
}

json_t *evrec_build(const json_t *obj, const char *name, const char *type, const char *reason,
		    const char *message, const char *component, const char *instance,
		    const char *now)
{
	const char *ns = sget(obj, "metadata", "namespace");
	json_t *inv =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", sget(obj, "apiVersion", NULL),
		      "kind", sget(obj, "kind", NULL), "name", sget(obj, "metadata", "name"), "uid",
		      sget(obj, "metadata", "uid"), "resourceVersion",
		      sget(obj, "metadata", "resourceVersion"));

	if (!inv)
		return NULL;
	if (ns[0])
		json_object_set_new(inv, "namespace", json_string(ns));
	return json_pack(
	    "{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:i, s:s, s:s, s:{s:s, s:s}, "
	    "s:s, s:s, s:s}",
	    "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace",
	    ns[0] ? ns : "default", "involvedObject", inv, "type", type, "reason", reason,
	    "message", message, "count", 1, "firstTimestamp", now, "lastTimestamp", now, "source",
	    "component", component, "host", instance, "reportingComponent", component,
	    "reportingInstance", instance, "action", reason);
}

static int emit(struct evrec *r, const json_t *obj, const char *type, const char *reason,
		const char *msg)
{
	char key[1536], now[32], path[KUBE_PATH_MAX], name[320];
	const char *uid = sget(obj, "metadata", "uid");
	const char *ns = sget(obj, "metadata", "namespace");
	struct kube_error err;
	struct slot *s = NULL;
	time_t t = time(NULL);
	int rc = 0;

	snprintf(key, sizeof(key), "%s\x1f%s\x1f%s\x1f%s", uid, type, reason, msg);
	cond_time(t, now);
	ns = ns[0] ? ns : "default";
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < SLOTS; i++) {
		if (r->slots[i].key && strcmp(r->slots[i].key, key) == 0 &&
		    t - r->slots[i].last < DEDUP_WINDOW_S) {
			s = &r->slots[i];
			break;
		}
	}
	if (s) {
		json_t *patch =
		    json_pack("{s:i, s:s}", "count", s->count + 1, "lastTimestamp", now);

		kube_path(path, sizeof(path), &kube_res_events, s->ns, s->name, NULL);
		rc = kube_patch(r->client, path, KUBE_PATCH_MERGE, patch, NULL, &err);
		json_decref(patch);
		if (rc == 0) {
			s->count++;
			s->last = t;
			r->patched++;
			goto out;
		}
		/* the Event expired or was deleted: create a new one */
		free(s->key);
		s->key = NULL;
	}
	{
		json_t *body;

		snprintf(name, sizeof(name), "%.200s.%lx%04x", sget(obj, "metadata", "name"),
			 (unsigned long)t, (unsigned)(rand() & 0xffff));
		body = evrec_build(obj, name, type, reason, msg, r->component, r->instance, now);
		kube_path(path, sizeof(path), &kube_res_events, ns, NULL, NULL);
		rc = body ? kube_create(r->client, path, body, NULL, &err) : -ENOMEM;
		json_decref(body);
	}
	if (rc) {
		vlog_warn("events",
			  "msg=\"cannot record event\" reason=%s object=%s code=%d err=\"%s\"",
			  reason, sget(obj, "metadata", "name"), err.code, err.message);
		goto out;
	}
	r->created++;
	s = &r->slots[r->next++ % SLOTS];
	free(s->key);
	s->key = strdup(key);
	snprintf(s->ns, sizeof(s->ns), "%s", ns);
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->count = 1;
	s->last = t;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int evrec_emit(struct evrec *r, const json_t *obj, const char *type, const char *reason,
	       const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!r || !obj)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return emit(r, obj, type, reason, msg);
}

unsigned long evrec_created(struct evrec *r)
{
	return r ? r->created : 0;
}

unsigned long evrec_patched(struct evrec *r)
{
	return r ? r->patched : 0;
}
