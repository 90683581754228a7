/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kube/cache.h"

/* The map is a jansson object (a hash table) of key -> object, under a rwlock. */
struct kube_cache {
	pthread_rwlock_t lock;
	json_t *map;
};

struct kube_cache *kube_cache_new(void)
{
	struct kube_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->map = json_object();
	if (!c->map || pthread_rwlock_init(&c->lock, NULL)) {
		json_decref(c->map);
		free(c);
		return NULL;
	}
	return c;
}

void kube_cache_free(struct kube_cache *c)
{
	if (!c)
		return;
	json_decref(c->map);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

int kube_cache_key(json_t *obj, char *buf, size_t len)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	int n;

	if (!name || !*name || !buf)
		return -EINVAL;
	if (ns && *ns)
		n = snprintf(buf, len, "%s/%s", ns, name);
	else
		n = snprintf(buf, len, "%s", name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return n;
}

json_t *kube_cache_get(struct kube_cache *c, const char *key)
{
	json_t *obj;

	if (!c || !key)
		return NULL;
	pthread_rwlock_rdlock(&c->lock);
	obj = json_incref(json_object_get(c->map, key));
	pthread_rwlock_unlock(&c->lock);
	return obj;
}

json_t *kube_cache_get_nn(struct kube_cache *c, const char *ns, const char *name)
{
	char key[512];
	int n;

	if (!name)
		return NULL;
	if (ns && *ns)
		n = snprintf(key, sizeof(key), "%s/%s", ns, name);
	else
		n = snprintf(key, sizeof(key), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(key))
		return NULL;
	return kube_cache_get(c, key);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Builds a sorted snapshot: objects when want_objs, else keys. */
static json_t *snapshot(struct kube_cache *c, int want_objs)
{
	const char **keys = NULL;
	const char *key;
	json_t *arr, *val;
	size_t n = 0, i;

	arr = json_array();
	if (!arr || !c)
		return arr;
	pthread_rwlock_rdlock(&c->lock);
	keys = malloc((json_object_size(c->map) + 1) * sizeof(*keys));
	if (!keys)
		goto fail;
	json_object_foreach(c->map, key, val) keys[n++] = key;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++) {
		json_t *item = want_objs ? json_incref(json_object_get(c->map, keys[i]))
					 : json_string(keys[i]);

		if (json_array_append_new(arr, item))
			goto fail;
	}
	pthread_rwlock_unlock(&c->lock);
	free(keys);
	return arr;
fail:
	pthread_rwlock_unlock(&c->lock);
	free(keys);
	json_decref(arr);
	return NULL;
}

json_t *kube_cache_list(struct kube_cache *c)
{
	return snapshot(c, 1);
}

json_t *kube_cache_keys(struct kube_cache *c)
{
	return snapshot(c, 0);
}

size_t kube_cache_len(struct kube_cache *c)
{
	size_t n;

	if (!c)
		return 0;
	pthread_rwlock_rdlock(&c->lock);
	n = json_object_size(c->map);
	pthread_rwlock_unlock(&c->lock);
	return n;
}

int kube_cache_put(struct kube_cache *c, json_t *obj, json_t **old)
{
	char key[512];
	int ret;

	if (old)
		*old = NULL;
	if (!c || !obj) {
		json_decref(obj);
		return -EINVAL;
	}
	ret = kube_cache_key(obj, key, sizeof(key));
	if (ret < 0) {
		json_decref(obj);
		return ret;
	}
	pthread_rwlock_wrlock(&c->lock);
	if (old)
		*old = json_incref(json_object_get(c->map, key));
	ret = json_object_set_new(c->map, key, obj) ? -ENOMEM : 0;
	pthread_rwlock_unlock(&c->lock);
	return ret;
}

int kube_cache_remove(struct kube_cache *c, const char *key, json_t **old)
{
	json_t *cur;
	int ret = -ENOENT;

	if (old)
		*old = NULL;
	if (!c || !key)
		return -EINVAL;
	pthread_rwlock_wrlock(&c->lock);
	cur = json_object_get(c->map, key);
	if (cur) {
		if (old)
			*old = json_incref(cur);
		json_object_del(c->map, key);
		ret = 0;
	}
	pthread_rwlock_unlock(&c->lock);
	return ret;
}
