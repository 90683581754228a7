// SPDX-License-Identifier: Apache-2.0
#include "sensor/k8s/meta.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/client.h"
#include "lib/kube/path.h"
#include "lib/kube/watch.h"
#include "lib/util/log.h"

struct entry {
	char cid[65];
	bool override;
	struct k8s_pod_meta meta;
};

struct k8s_meta {
	pthread_mutex_t lock;
	struct entry *v;
	size_t n, cap;
	/* the watch of this node's pods (lib/kube keeps its cache current) */
	struct kube_watch *w;
};

static void cpy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

void k8s_image_split(const char *image, char *repo, size_t repo_len, char *tag, size_t tag_len)
{
	const char *at = strchr(image, '@');
	size_t n = at ? (size_t)(at - image) : strlen(image);
	const char *slash, *colon = NULL, *p;

	/* the tag's colon comes after the last '/' (a registry port comes before it) */
	slash = NULL;
	for (p = image; p < image + n; p++) {
		if (*p == '/')
			slash = p, colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	(void)slash;
	if (colon) {
		snprintf(repo, repo_len, "%.*s", (int)(colon - image), image);
		snprintf(tag, tag_len, "%.*s", (int)(image + n - colon - 1), colon + 1);
	} else {
		snprintf(repo, repo_len, "%.*s", (int)n, image);
		tag[0] = '\0';
	}
}

struct k8s_meta *k8s_meta_new(void)
{
	struct k8s_meta *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void k8s_meta_free(struct k8s_meta *m)
{
	if (!m)
		return;
	kube_watch_stop(__atomic_exchange_n(&m->w, NULL, __ATOMIC_ACQ_REL));
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Entries are kept sorted by id, an override before the API entry of the same id. */
static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->cid, y->cid);

	return c ? c : (int)y->override - (int)x->override;
}

static void sort_locked(struct k8s_meta *m)
{
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), entry_cmp);
}

/* Adds under lock; replaces an entry of the same cid and kind. */
static int put_locked(struct k8s_meta *m, const char *cid, bool override,
		      const struct k8s_pod_meta *meta)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (m->v[i].override == override && !strcmp(m->v[i].cid, cid)) {
			m->v[i].meta = *meta;
			return 0;
		}
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct entry *nv = realloc(m->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		m->v = nv;
		m->cap = cap;
	}
	cpy(m->v[m->n].cid, sizeof(m->v[0].cid), cid);
	m->v[m->n].override = override;
	m->v[m->n].meta = *meta;
	m->n++;
	return 0;
}

static void fill_image(struct k8s_pod_meta *meta, const char *image)
{
	cpy(meta->image, sizeof(meta->image), image);
	k8s_image_split(meta->image, meta->image_repo, sizeof(meta->image_repo), meta->image_tag,
			sizeof(meta->image_tag));
}

int k8s_meta_load_file(struct k8s_meta *m, const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *v;
	const char *cid;
	int err = 0;

	if (!root) {
		vlog_error("k8s", "file=%s line=%d msg=\"%s\"", path, je.line, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	json_object_foreach(root, cid, v)
	{
		struct k8s_pod_meta meta = {0};

		cpy(meta.ns, sizeof(meta.ns), json_string_value(json_object_get(v, "namespace")));
		cpy(meta.pod, sizeof(meta.pod), json_string_value(json_object_get(v, "pod")));
		cpy(meta.container, sizeof(meta.container),
		    json_string_value(json_object_get(v, "container")));
		cpy(meta.pod_uid, sizeof(meta.pod_uid),
		    json_string_value(json_object_get(v, "uid")));
		fill_image(&meta, json_string_value(json_object_get(v, "image")));
		err = put_locked(m, cid, true, &meta);
		if (err)
			break;
	}
	sort_locked(m);
	pthread_mutex_unlock(&m->lock);
	json_decref(root);
	return err;
}

/* "containerd://<id>" -> "<id>" */
static const char *strip_runtime(const char *id)
{
	const char *p = id ? strstr(id, "://") : NULL;

	return p ? p + 3 : id;
}

int k8s_meta_set_pods(struct k8s_meta *m, json_t *podlist)
{
	json_t *items = json_object_get(podlist, "items"), *pod;
	size_t i, j, keep = 0;
	int added = 0;

	pthread_mutex_lock(&m->lock);
	/* drop the previous API entries, keep overrides */
	for (i = 0; i < m->n; i++)
		if (m->v[i].override)
			m->v[keep++] = m->v[i];
	m->n = keep;
	json_array_foreach(items, i, pod)
	{
		json_t *md = json_object_get(pod, "metadata");
		json_t *st = json_object_get(pod, "status");
		const char *lists[] = {"containerStatuses", "initContainerStatuses",
				       "ephemeralContainerStatuses"};
		size_t l;

		for (l = 0; l < 3; l++) {
			json_t *cs;

			json_array_foreach(json_object_get(st, lists[l]), j, cs)
			{
				struct k8s_pod_meta meta = {0};
				const char *cid = strip_runtime(
				    json_string_value(json_object_get(cs, "containerID")));

				if (!cid || !*cid)
					continue;
				cpy(meta.ns, sizeof(meta.ns),
				    json_string_value(json_object_get(md, "namespace")));
				cpy(meta.pod, sizeof(meta.pod),
				    json_string_value(json_object_get(md, "name")));
				cpy(meta.pod_uid, sizeof(meta.pod_uid),
				    json_string_value(json_object_get(md, "uid")));
				cpy(meta.container, sizeof(meta.container),
				    json_string_value(json_object_get(cs, "name")));
				fill_image(&meta, json_string_value(json_object_get(cs, "image")));
				if (put_locked(m, cid, false, &meta) == 0)
					added++;
			}
		}
	}
	sort_locked(m);
	pthread_mutex_unlock(&m->lock);
	return added;
}

bool k8s_meta_lookup(struct k8s_meta *m, const char *cid, struct k8s_pod_meta *out)
{
	size_t lo = 0, hi;
	bool found = false;

	if (!cid || !*cid)
		return false;
	pthread_mutex_lock(&m->lock);
	hi = m->n;
	while (lo < hi) { /* the first entry with an id >= cid */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(m->v[mid].cid, cid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < m->n && !strcmp(m->v[lo].cid, cid)) {
		*out = m->v[lo].meta;
		found = true;
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

size_t k8s_meta_count(struct k8s_meta *m)
{
	size_t n;

	pthread_mutex_lock(&m->lock);
	n = m->n;
	pthread_mutex_unlock(&m->lock);
	return n;
}

/* Rebuilds the API entries from the watch's cache (called on every pod event). */
static void rebuild(struct k8s_meta *m)
{
	struct kube_watch *w = __atomic_load_n(&m->w, __ATOMIC_ACQUIRE);
	json_t *list;

	if (!w)
		return; /* before kube_watch_start returned: k8s_meta_start rebuilds after */
	list = json_pack("{s:o}", "items", kube_cache_list(kube_watch_cache(w)));
	if (!list)
		return;
	vlog_debug("k8s", "containers=%d", k8s_meta_set_pods(m, list));
	json_decref(list);
}

static void on_added(void *ctx, json_t *obj)
{
	rebuild(ctx);
}

static void on_updated(void *ctx, json_t *old, json_t *obj)
{
	rebuild(ctx);
}

static void on_deleted(void *ctx, json_t *old)
{
	rebuild(ctx);
}

/* Pods keep only what the lookup reads (metadata, spec.containers images, containerStatuses). */
static void trim_pod(void *ctx, json_t *pod)
{
	json_t *spec = json_object_get(pod, "spec"), *st = json_object_get(pod, "status");
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(spec, tmp, k, v)
	{
		if (strcmp(k, "containers") && strcmp(k, "initContainers") && strcmp(k, "nodeName"))
			json_object_del(spec, k);
	}
	json_object_foreach_safe(st, tmp, k, v)
	{
		if (strcmp(k, "containerStatuses") && strcmp(k, "initContainerStatuses") &&
		    strcmp(k, "ephemeralContainerStatuses"))
			json_object_del(st, k);
	}
}

int k8s_meta_start(struct k8s_meta *m, struct kube_client *c, const char *node)
{
	char sel[300];
	struct kube_watch *w = NULL;
	int err;

	snprintf(sel, sizeof(sel), "spec.nodeName=%s", node ? node : "");
	err = kube_watch_start(c,
			       &(struct kube_watch_opts){
				   .res = &kube_res_pods,
				   .field_selector = sel,
				   .transform = trim_pod,
				   .handlers = {.added = on_added,
						.updated = on_updated,
						.deleted = on_deleted,
						.ctx = m},
			       },
			       &w);
	if (err)
		return err;
	__atomic_store_n(&m->w, w, __ATOMIC_RELEASE);
	rebuild(m);
	return 0;
}
