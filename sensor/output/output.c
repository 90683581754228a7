// SPDX-License-Identifier: Apache-2.0
#include "sensor/output/output.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util/log.h"

/* ---- stdout / file ---- */

struct file_sink {
	FILE *f;
	bool own;
	pthread_mutex_t lock;
	uint64_t delivered, drops;
};

static int file_emit(void *impl, const char *line, size_t len)
{
	struct file_sink *s = impl;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (fwrite(line, 1, len, s->f) != len || fputc('\n', s->f) == EOF || fflush(s->f)) {
		s->drops++;
		err = -EIO;
	} else {
		s->delivered++;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

static uint64_t file_drops(void *impl)
{
	return ((struct file_sink *)impl)->drops;
}

static uint64_t file_delivered(void *impl)
{
	return ((struct file_sink *)impl)->delivered;
}

static void file_close(void *impl)
{
	struct file_sink *s = impl;

	if (!s)
		return;
	if (s->own)
		fclose(s->f);
	else
		fflush(s->f);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct output_sink_ops stdout_ops = {"stdout", file_emit, file_drops, file_delivered,
						  file_close};
static const struct output_sink_ops file_ops = {"file", file_emit, file_drops, file_delivered,
						file_close};

static int open_file(FILE *f, bool own, const struct output_sink_ops *ops, struct output **out)
{
	struct output *o = calloc(1, sizeof(*o));
	struct file_sink *s = calloc(1, sizeof(*s));

	if (!o || !s) {
		free(o);
		free(s);
		if (own)
			fclose(f);
		return -ENOMEM;
	}
	s->f = f;
	s->own = own;
	pthread_mutex_init(&s->lock, NULL);
	o->ops = ops;
	o->impl = s;
	*out = o;
	return 0;
}

/* ---- http ---- */

struct item {
	char *body;
	size_t len;
};

struct http_sink {
	char *url;
	struct output_http_opts o;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *q;
	size_t head, count;
	bool stop;
	uint64_t delivered, drops;
	pthread_t thr;
};

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	return s * n;
}

/* One POST; 0 on a 2xx answer. */
static int http_post(struct http_sink *s, CURL *c, const struct item *it)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	long code = 0;
	CURLcode rc;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)it->len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)s->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vigil-sensor/" VIGIL_VERSION);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	return rc == CURLE_OK && code >= 200 && code < 300 ? 0 : -EIO;
}

/* Waits ms or until stop; returns true when stopping. Called with lock held. */
static bool wait_ms(struct http_sink *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
		;
	return s->stop;
}

static void *http_worker(void *arg)
{
	struct http_sink *s = arg;
	CURL *c = curl_easy_init();
	struct timespec deadline = {0};

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct item it;
		int attempt, wait;

		while (!s->count && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->count)
			break;
		if (s->stop && !deadline.tv_sec) {
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			deadline.tv_sec += s->o.drain_ms / 1000 + 1;
		}
		it = s->q[s->head];
		s->head = (s->head + 1) % s->o.queue_len;
		s->count--;
		pthread_mutex_unlock(&s->lock);
		wait = s->o.backoff_base_ms;
		for (attempt = 1;; attempt++) {
			struct timespec now;

			if (c && http_post(s, c, &it) == 0) {
				pthread_mutex_lock(&s->lock);
				s->delivered++;
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			pthread_mutex_lock(&s->lock);
			if (attempt >= s->o.max_attempts ||
			    (deadline.tv_sec && now.tv_sec >= deadline.tv_sec)) {
				s->drops++;
				if (!(s->drops & (s->drops - 1))) /* 1, 2, 4, 8...: no log flood */
					vlog_warn("output",
						  "sink=http url=%s msg=\"alert dropped after "
						  "%d attempts\" drops=%llu",
						  s->url, attempt, (unsigned long long)s->drops);
				break;
			}
			if (!s->stop)
				wait_ms(s, wait);
			pthread_mutex_unlock(&s->lock);
			wait = wait * 2 > s->o.backoff_max_ms ? s->o.backoff_max_ms : wait * 2;
		}
		free(it.body);
	}
	/* whatever is left when stopping is dropped */
	while (s->count) {
		free(s->q[s->head].body);
		s->head = (s->head + 1) % s->o.queue_len;
		s->count--;
		s->drops++;
	}
	pthread_mutex_unlock(&s->lock);
	curl_easy_cleanup(c);
	return NULL;
}

static int http_emit(void *impl, const char *line, size_t len)
{
	struct http_sink *s = impl;
	char *copy;
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (s->count == s->o.queue_len) {
		s->drops++;
		err = -ENOBUFS;
		goto out;
	}
	copy = malloc(len + 1);
	if (!copy) {
		s->drops++;
		err = -ENOMEM;
		goto out;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	s->q[(s->head + s->count) % s->o.queue_len] = (struct item){copy, len};
	s->count++;
	pthread_cond_signal(&s->cond);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static uint64_t http_drops(void *impl)
{
	struct http_sink *s = impl;
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->drops;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static uint64_t http_delivered(void *impl)
{
	struct http_sink *s = impl;
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->delivered;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void http_close(void *impl)
{
	struct http_sink *s = impl;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thr, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->q);
	free(s->url);
	free(s);
}

static const struct output_sink_ops http_ops = {"http", http_emit, http_drops, http_delivered,
						http_close};

int output_open_http(const char *url, const struct output_http_opts *opts, struct output **out)
{
	struct output *o = calloc(1, sizeof(*o));
	struct http_sink *s = calloc(1, sizeof(*s));
	int err;

	if (!o || !s)
		goto nomem;
	if (opts)
		s->o = *opts;
	if (!s->o.queue_len)
		s->o.queue_len = 1024;
	if (!s->o.max_attempts)
		s->o.max_attempts = 5;
	if (!s->o.backoff_base_ms)
		s->o.backoff_base_ms = 100;
	if (!s->o.backoff_max_ms)
		s->o.backoff_max_ms = 5000;
	if (!s->o.timeout_ms)
		s->o.timeout_ms = 5000;
	if (!s->o.drain_ms)
		s->o.drain_ms = 2000;
	s->url = strdup(url);
	s->q = calloc(s->o.queue_len, sizeof(*s->q));
	if (!s->url || !s->q)
		goto nomem;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	err = pthread_create(&s->thr, NULL, http_worker, s);
	if (err) {
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->cond);
		free(s->q);
		free(s->url);
		free(s);
		free(o);
		return -err;
	}
	o->ops = &http_ops;
	o->impl = s;
	*out = o;
	return 0;
nomem:
	if (s) {
		free(s->url);
		free(s->q);
	}
	free(s);
	free(o);
	return -ENOMEM;
}

int output_open(const char *spec, struct output **out)
{
	FILE *f;

	*out = NULL;
	if (!spec || !strcmp(spec, "json") || !strcmp(spec, "stdout"))
		return open_file(stdout, false, &stdout_ops, out);
	if (!strncmp(spec, "file:", 5)) {
		f = fopen(spec + 5, "a");
		if (!f)
			return -errno;
		return open_file(f, true, &file_ops, out);
	}
	if (!strncmp(spec, "http://", 7) || !strncmp(spec, "https://", 8))
		return output_open_http(spec, NULL, out);
	if (!strncmp(spec, "http:", 5))
		return output_open_http(spec + 5, NULL, out);
	return -EINVAL;
}

int output_emit(struct output *o, const char *line, size_t len)
{
	return o->ops->emit(o->impl, line, len);
}

uint64_t output_drops(const struct output *o)
{
	return o ? o->ops->drops(o->impl) : 0;
}

uint64_t output_delivered(const struct output *o)
{
	return o ? o->ops->delivered(o->impl) : 0;
}

void output_close(struct output *o)
{
	if (!o)
		return;
	o->ops->close(o->impl);
	free(o);
}
