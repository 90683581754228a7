// SPDX-License-Identifier: Apache-2.0
#include "sensor/k8s/meta.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/client.h"
#include "lib/kube/path.h"
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
	/* refresher */
	pthread_t thr;
	bool running;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
	struct kube_client *client;
	char node[254];
	int period_s;
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
	pthread_mutex_init(&m->stop_lock, NULL);
	pthread_cond_init(&m->stop_cond, NULL);
	return m;
}

void k8s_meta_free(struct k8s_meta *m)
{
	if (!m)
		return;
	if (m->running) {
		pthread_mutex_lock(&m->stop_lock);
		m->stop = true;
		pthread_cond_signal(&m->stop_cond);
		pthread_mutex_unlock(&m->stop_lock);
		pthread_join(m->thr, NULL);
	}
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->stop_lock);
	pthread_cond_destroy(&m->stop_cond);
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

static void *refresher(void *arg)
{
	struct k8s_meta *m = arg;
	char path[KUBE_PATH_MAX], sel[300];

	kube_path(path, sizeof(path), &kube_res_pods, NULL, NULL, NULL);
	snprintf(sel, sizeof(sel), "spec.nodeName=%s", m->node);
	for (;;) {
		struct kube_list_opts lo = {.field_selector = sel};
		struct kube_error ke;
		json_t *list = NULL;
		struct timespec ts;
		bool stop;

		if (kube_list(m->client, path, &lo, &list, &ke) == 0) {
			int n = k8s_meta_set_pods(m, list);

			vlog_debug("k8s", "node=%s containers=%d", m->node, n);
			json_decref(list);
		} else {
			vlog_warn("k8s",
				  "msg=\"listing pods failed\" node=%s code=%d reason=%s "
				  "message=\"%s\"",
				  m->node, ke.code, ke.reason, ke.message);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += m->period_s;
		pthread_mutex_lock(&m->stop_lock);
		while (!m->stop &&
		       pthread_cond_timedwait(&m->stop_cond, &m->stop_lock, &ts) != ETIMEDOUT)
			;
		stop = m->stop;
		pthread_mutex_unlock(&m->stop_lock);
		if (stop)
			break;
	}
	return NULL;
}

int k8s_meta_start(struct k8s_meta *m, struct kube_client *c, const char *node, int period_s)
{
	int err;

	m->client = c;
	cpy(m->node, sizeof(m->node), node);
	m->period_s = period_s > 0 ? period_s : 30;
	err = pthread_create(&m->thr, NULL, refresher, m);
	if (err)
		return -err;
	m->running = true;
	return 0;
}
