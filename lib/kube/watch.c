/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/internal.h"
#include "lib/kube/watch.h"
#include "lib/util/log.h"

#define LINE_MAX_BYTES (64u << 20)
#define RV_MAX 256

/* How a watch connection ended. */
enum wend {
	WEND_CLEAN, /* server closed the stream (timeoutSeconds or otherwise) */
	WEND_GONE,  /* 410: relist */
	WEND_IDLE,  /* no bytes for idle_timeout_ms */
	WEND_ERROR, /* anything else: back off and watch again */
	WEND_STOP,  /* kube_watch_stop */
};

struct kube_watch {
	struct kube_client *c;
	struct kube_resource res;
	char *ns, *label_selector, *field_selector;
	struct kube_watch_opts o; /* string fields cleared; copies above */
	struct kube_watch_handlers h;
	struct kube_cache *cache;
	pthread_t thread;
	atomic_int stop;

	pthread_mutex_t lock; /* synced, stats, rv, and the stop/synced condition */
	pthread_cond_t cond;
	bool synced;
	struct kube_watch_stats stats;
	char rv[RV_MAX];

	/* stream state, watch thread only */
	CURL *easy;
	long http_code;
	char *buf;
	size_t len, cap;
	long long last_byte_ms;
	bool idle;
	bool gone;
	bool failed;
	int events_this_conn;
	unsigned int seed;
};

static void stat_add(struct kube_watch *w, uint64_t *field)
{
	pthread_mutex_lock(&w->lock);
	(*field)++;
	pthread_mutex_unlock(&w->lock);
}

static void set_rv(struct kube_watch *w, const char *rv)
{
	if (!rv || !*rv)
		return;
	pthread_mutex_lock(&w->lock);
	snprintf(w->rv, sizeof(w->rv), "%s", rv);
	pthread_mutex_unlock(&w->lock);
}

static const char *obj_rv(json_t *obj)
{
	return json_string_value(
	    json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* Waits up to ms or until stop; returns true when stopping. */
static bool wait_stop(struct kube_watch *w, long ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stop))
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	stop = atomic_load(&w->stop);
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* Trims an object before it is cached. */
static void trim(struct kube_watch *w, json_t *obj)
{
	json_object_del(json_object_get(obj, "metadata"), "managedFields");
	if (w->o.transform)
		w->o.transform(w->h.ctx, obj);
}

/* Applies an object that exists now (list item or ADDED/MODIFIED): cache, then callback. */
static void apply_upsert(struct kube_watch *w, json_t *obj, bool from_list)
{
	json_t *old = NULL;

	trim(w, obj);
	if (kube_cache_put(w->cache, json_incref(obj), &old))
		return;
	if (!old) {
		if (w->h.added)
			w->h.added(w->h.ctx, obj);
	} else {
		const char *a = obj_rv(old), *b = obj_rv(obj);

		/* A relist re-delivers unchanged objects: only report real changes. */
		if (!(from_list && a && b && !strcmp(a, b)) && w->h.updated)
			w->h.updated(w->h.ctx, old, obj);
	}
	json_decref(old);
}

static void apply_delete(struct kube_watch *w, const char *key, json_t *last)
{
	json_t *old = NULL;

	kube_cache_remove(w->cache, key, &old);
	if (w->h.deleted && (last || old))
		w->h.deleted(w->h.ctx, last ? last : old);
	json_decref(old);
}

/* LIST, then deliver the differences from the cache. Returns 0 or negative errno. */
static int do_list(struct kube_watch *w, const char *path)
{
	struct kube_list_opts lo = {w->label_selector, w->field_selector, w->o.page_limit};
	json_t *list = NULL, *items, *item, *seen = NULL, *keys = NULL, *k;
	struct kube_error err;
	size_t i;
	int ret;

	ret = kube_list_cancel(w->c, path, &lo, &list, &err, &w->stop);
	if (ret) {
		if (ret != -ECANCELED)
			vlog_warn("kube",
				  "msg=\"list failed\" kind=%s code=%d reason=%s error=\"%s\"",
				  w->res.kind, err.code, err.reason, err.message);
		goto out;
	}
	seen = json_object();
	if (!seen) {
		ret = -ENOMEM;
		goto out;
	}
	items = json_object_get(list, "items");
	json_array_foreach(items, i, item)
	{
		char key[512];

		if (kube_cache_key(item, key, sizeof(key)) < 0)
			continue;
		json_object_set_new(seen, key, json_true());
		apply_upsert(w, item, true);
	}
	keys = kube_cache_keys(w->cache);
	json_array_foreach(keys, i, k)
	{
		if (!json_object_get(seen, json_string_value(k)))
			apply_delete(w, json_string_value(k), NULL);
	}
	set_rv(w, obj_rv(list));
	pthread_mutex_lock(&w->lock);
	if (w->stats.lists++)
		w->stats.relists++;
	pthread_mutex_unlock(&w->lock);
out:
	json_decref(keys);
	json_decref(seen);
	json_decref(list);
	return ret;
}

/* One decoded watch event. Returns false to end the connection. */
static bool handle_event(struct kube_watch *w, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	char key[512];

	if (!type || !json_is_object(obj)) {
		vlog_warn("kube", "msg=\"malformed watch event\" kind=%s", w->res.kind);
		w->failed = true;
		return false;
	}
	if (!strcmp(type, "ERROR")) {
		struct kube_error err;
		int code = (int)json_integer_value(json_object_get(obj, "code"));

		kube_error_clear(&err);
		kube_status_parse(code ? code : 500, NULL, 0, &err);
		snprintf(err.reason, sizeof(err.reason), "%s",
			 json_string_value(json_object_get(obj, "reason")) ?: "");
		if (kube_error_is_gone(&err)) {
			w->gone = true;
		} else {
			vlog_warn("kube", "msg=\"watch error event\" kind=%s code=%d reason=%s",
				  w->res.kind, code, err.reason);
			w->failed = true;
		}
		return false;
	}
	w->events_this_conn++;
	if (!strcmp(type, "BOOKMARK")) {
		set_rv(w, obj_rv(obj));
		stat_add(w, &w->stats.bookmarks);
		return true;
	}
	if (kube_cache_key(obj, key, sizeof(key)) < 0) {
		w->failed = true;
		return false;
	}
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED")) {
		apply_upsert(w, obj, false);
	} else if (!strcmp(type, "DELETED")) {
		trim(w, obj);
		apply_delete(w, key, obj);
	} else {
		vlog_debug("kube", "msg=\"unknown watch event\" type=%s", type);
	}
	set_rv(w, obj_rv(obj));
	stat_add(w, &w->stats.events);
	return true;
}

/* Splits the buffered bytes into lines and handles the complete ones. */
static bool drain_lines(struct kube_watch *w)
{
	size_t start = 0;
	bool ok = true;

	for (;;) {
		char *nl = memchr(w->buf + start, '\n', w->len - start);
		size_t n;

		if (!nl)
			break;
		n = (size_t)(nl - (w->buf + start));
		if (n) {
			json_error_t jerr;
			json_t *ev = json_loadb(w->buf + start, n, 0, &jerr);

			if (!ev) {
				vlog_warn("kube", "msg=\"bad watch JSON\" kind=%s error=\"%s\"",
					  w->res.kind, jerr.text);
				w->failed = true;
				ok = false;
			} else {
				ok = handle_event(w, ev);
				json_decref(ev);
			}
		}
		start += n + 1;
		if (!ok)
			break;
	}
	memmove(w->buf, w->buf + start, w->len - start);
	w->len -= start;
	return ok;
}

static int buf_append(struct kube_watch *w, const char *p, size_t n)
{
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 16384;
		char *nb;

		while (cap < w->len + n + 1)
			cap *= 2;
		if (cap > LINE_MAX_BYTES)
			return -E2BIG;
		nb = realloc(w->buf, cap);
		if (!nb)
			return -ENOMEM;
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
	return 0;
}

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct kube_watch *w = ud;
	size_t n = size * nmemb;

	w->last_byte_ms = kube_now_ms();
	if (!w->http_code)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_code);
	if (buf_append(w, ptr, n)) {
		w->failed = true;
		return 0;
	}
	if (w->http_code != 200)
		return n; /* an error body: parsed after the transfer */
	if (atomic_load(&w->stop))
		return 0;
	return drain_lines(w) ? n : 0;
}

static int stream_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	struct kube_watch *w = ud;

	if (atomic_load(&w->stop))
		return 1;
	if (kube_now_ms() - w->last_byte_ms > w->o.idle_timeout_ms) {
		w->idle = true;
		return 1;
	}
	return 0;
}

static enum wend do_watch(struct kube_watch *w, const char *path)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, tmo[16], rv[RV_MAX], errbuf[CURL_ERROR_SIZE];
	enum wend end = WEND_ERROR;
	struct kube_error err;
	int span = w->o.timeout_max_s - w->o.timeout_min_s;
	CURLcode rc;

	snprintf(tmo, sizeof(tmo), "%d",
		 w->o.timeout_min_s + (span > 0 ? (int)(rand_r(&w->seed) % (span + 1)) : 0));
	kube_watch_resource_version(w, rv, sizeof(rv));
	url = strdup(path);
	if (!url || kube_url_add(&url, "watch", "1") ||
	    kube_url_add(&url, "allowWatchBookmarks", "true") ||
	    kube_url_add(&url, "resourceVersion", rv) ||
	    kube_url_add(&url, "timeoutSeconds", tmo) ||
	    kube_url_add(&url, "labelSelector", w->label_selector) ||
	    kube_url_add(&url, "fieldSelector", w->field_selector))
		goto out;
	w->easy = kube_client_easy(w->c, "GET", url, 1, &hdrs);
	if (!w->easy)
		goto out;
	w->http_code = 0;
	w->len = 0;
	w->idle = w->gone = w->failed = false;
	w->events_this_conn = 0;
	w->last_byte_ms = kube_now_ms();
	errbuf[0] = '\0';
	curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->easy, CURLOPT_XFERINFOFUNCTION, stream_progress);
	curl_easy_setopt(w->easy, CURLOPT_XFERINFODATA, w);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(w->easy);
	if (!w->http_code)
		curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &w->http_code);
	kube_client_count(w->c, "WATCH", rc == CURLE_OK || w->http_code ? (int)w->http_code : 0);
	if (atomic_load(&w->stop)) {
		end = WEND_STOP;
	} else if (w->gone) {
		end = WEND_GONE;
	} else if (w->idle) {
		vlog_info("kube", "msg=\"watch idle, reconnecting\" kind=%s idle_ms=%d",
			  w->res.kind, w->o.idle_timeout_ms);
		end = WEND_IDLE;
	} else if (w->failed) {
		end = WEND_ERROR;
	} else if (rc != CURLE_OK) {
		kube_curl_error(rc, errbuf, &err);
		vlog_warn("kube", "msg=\"watch failed\" kind=%s error=\"%s\"", w->res.kind,
			  err.message);
		end = WEND_ERROR;
	} else if (w->http_code != 200) {
		kube_status_parse((int)w->http_code, w->buf, w->len, &err);
		if (kube_error_is_gone(&err)) {
			w->gone = true;
			end = WEND_GONE;
		} else {
			vlog_warn("kube",
				  "msg=\"watch refused\" kind=%s code=%d reason=%s error=\"%s\"",
				  w->res.kind, err.code, err.reason, err.message);
			end = WEND_ERROR;
		}
	} else {
		end = WEND_CLEAN;
	}
out:
	if (w->easy)
		curl_easy_cleanup(w->easy);
	w->easy = NULL;
	curl_slist_free_all(hdrs);
	free(url);
	return end;
}

static void *watch_main(void *arg)
{
	struct kube_watch *w = arg;
	char path[KUBE_PATH_MAX];
	bool need_list = true, first_watch = true;
	int attempt = 0;

	if (kube_path(path, sizeof(path), &w->res, w->ns, NULL, NULL) < 0) {
		vlog_error("kube", "msg=\"bad watch path\" kind=%s", w->res.kind);
		return NULL;
	}
	while (!atomic_load(&w->stop)) {
		enum wend end;

		if (need_list) {
			if (do_list(w, path)) {
				stat_add(w, &w->stats.errors);
				if (wait_stop(w,
					      kube_backoff_ms(w->o.backoff_initial_ms,
							      w->o.backoff_max_ms, attempt++, 0.2)))
					break;
				continue;
			}
			need_list = false;
			pthread_mutex_lock(&w->lock);
			if (!w->synced) {
				w->synced = true;
				pthread_cond_broadcast(&w->cond);
				pthread_mutex_unlock(&w->lock);
				if (w->h.synced)
					w->h.synced(w->h.ctx);
			} else {
				pthread_mutex_unlock(&w->lock);
			}
		}
		if (!first_watch)
			stat_add(w, &w->stats.restarts);
		first_watch = false;
		end = do_watch(w, path);
		if (w->events_this_conn)
			attempt = 0;
		switch (end) {
		case WEND_STOP:
			break;
		case WEND_GONE:
			stat_add(w, &w->stats.gone);
			vlog_info("kube", "msg=\"watch expired, relisting\" kind=%s", w->res.kind);
			need_list = true;
			break;
		case WEND_CLEAN:
			if (w->events_this_conn)
				break;
			/* A stream that ended without a single event: do not spin. */
			wait_stop(w, kube_backoff_ms(w->o.backoff_initial_ms, w->o.backoff_max_ms,
						     attempt++, 0.2));
			break;
		case WEND_IDLE:
			stat_add(w, &w->stats.idle_timeouts);
			wait_stop(w, kube_backoff_ms(w->o.backoff_initial_ms, w->o.backoff_max_ms,
						     attempt++, 0.2));
			break;
		case WEND_ERROR:
			stat_add(w, &w->stats.errors);
			wait_stop(w, kube_backoff_ms(w->o.backoff_initial_ms, w->o.backoff_max_ms,
						     attempt++, 0.2));
			break;
		}
	}
	return NULL;
}

static void watch_free(struct kube_watch *w)
{
	if (!w)
		return;
	kube_cache_free(w->cache);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w->ns);
	free(w->label_selector);
	free(w->field_selector);
	free(w->buf);
	free(w);
}

static int opt_dup(char **dst, const char *src)
{
	*dst = src && *src ? strdup(src) : NULL;
	return src && *src && !*dst ? -ENOMEM : 0;
}

int kube_watch_start(struct kube_client *c, const struct kube_watch_opts *opts,
		     struct kube_watch **out)
{
	struct kube_watch *w;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!c || !opts || !opts->res)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	w->c = c;
	w->res = *opts->res;
	w->o = *opts;
	w->o.res = NULL;
	w->o.ns = w->o.label_selector = w->o.field_selector = NULL;
	w->h = opts->handlers;
	w->o.page_limit = opts->page_limit > 0 ? opts->page_limit : 500;
	w->o.timeout_min_s = opts->timeout_min_s > 0 ? opts->timeout_min_s : 300;
	w->o.timeout_max_s = opts->timeout_max_s > 0 ? opts->timeout_max_s : 600;
	if (w->o.timeout_max_s < w->o.timeout_min_s)
		w->o.timeout_max_s = w->o.timeout_min_s;
	w->o.idle_timeout_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 90000;
	w->o.backoff_initial_ms = opts->backoff_initial_ms > 0 ? opts->backoff_initial_ms : 800;
	w->o.backoff_max_ms = opts->backoff_max_ms > 0 ? opts->backoff_max_ms : 30000;
	w->seed = (unsigned int)kube_now_ms() ^ (unsigned int)(uintptr_t)w;
	w->cache = kube_cache_new();
	ret = w->cache ? 0 : -ENOMEM;
	ret = ret ?: opt_dup(&w->ns, opts->ns);
	ret = ret ?: opt_dup(&w->label_selector, opts->label_selector);
	ret = ret ?: opt_dup(&w->field_selector, opts->field_selector);
	if (ret)
		goto fail;
	ret = -pthread_create(&w->thread, NULL, watch_main, w);
	if (ret)
		goto fail;
	*out = w;
	return 0;
fail:
	watch_free(w);
	return ret;
}

void kube_watch_stop(struct kube_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	watch_free(w);
}

struct kube_cache *kube_watch_cache(struct kube_watch *w)
{
	return w ? w->cache : NULL;
}

bool kube_watch_synced(struct kube_watch *w)
{
	bool s;

	if (!w)
		return false;
	pthread_mutex_lock(&w->lock);
	s = w->synced;
	pthread_mutex_unlock(&w->lock);
	return s;
}

int kube_watch_wait_synced(struct kube_watch *w, int timeout_ms)
{
	long long end = kube_now_ms() + timeout_ms;
	int ret = 0;

	if (!w)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	while (!w->synced && !atomic_load(&w->stop)) {
		struct timespec ts;
		long long left = end - kube_now_ms();

		if (timeout_ms >= 0 && left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		if (timeout_ms < 0 || left > 100)
			left = 100;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)left * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	if (!w->synced && !ret)
		ret = -ECANCELED;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void kube_watch_stats(struct kube_watch *w, struct kube_watch_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}

void kube_watch_resource_version(struct kube_watch *w, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	snprintf(buf, len, "%s", w->rv);
	pthread_mutex_unlock(&w->lock);
}
