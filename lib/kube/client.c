/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/internal.h"
#include "lib/util/log.h"

#define METRICS_MAX 64
#define BODY_MAX (512u << 20)
#define TOKEN_REREAD_MS 60000

struct metric {
	const char *verb;
	int code;
	uint64_t n;
};

struct kube_client {
	struct kube_config *cfg;
	struct kube_client_opts opts;
	char *user_agent;
	char *field_manager;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock; /* token, metrics */
	char *token;
	long long token_read_ms;
	struct metric metrics[METRICS_MAX];
	int n_metrics;
	uint64_t retries;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -ENOMEM;
}

long long kube_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kube_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

long kube_backoff_ms(long base_ms, long max_ms, int attempt, double jitter)
{
	double d = (double)base_ms, r;
	unsigned int seed = (unsigned int)(kube_now_ms() ^ (long long)pthread_self());

	for (int i = 0; i < attempt && d < (double)max_ms; i++)
		d *= 2;
	if (d > (double)max_ms)
		d = (double)max_ms;
	r = (double)rand_r(&seed) / RAND_MAX; /* [0,1] */
	d *= 1.0 - jitter + 2.0 * jitter * r;
	return d < 1 ? 1 : (long)d;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access acc, void *ud)
{
	struct kube_client *c = ud;

	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ud)
{
	struct kube_client *c = ud;

	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_locks[data]);
}

static int set_default(int v, int def)
{
	return v ? v : def;
}

int kube_client_new(struct kube_config *cfg, const struct kube_client_opts *opts,
		    struct kube_client **out)
{
	struct kube_client *c = NULL;
	int ret = 0;

	*out = NULL;
	if (!cfg || !cfg->server) {
		ret = -EINVAL;
		goto out;
	}
	pthread_once(&global_once, global_init);
	if (global_rc) {
		ret = global_rc;
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out;
	}
	if (opts)
		c->opts = *opts;
	c->opts.timeout_ms = set_default(c->opts.timeout_ms, 30000);
	c->opts.connect_timeout_ms = set_default(c->opts.connect_timeout_ms, 5000);
	c->opts.max_retries = set_default(c->opts.max_retries, 4);
	if (c->opts.max_retries < 0)
		c->opts.max_retries = 0;
	c->opts.backoff_base_ms = set_default(c->opts.backoff_base_ms, 200);
	c->opts.backoff_max_ms = set_default(c->opts.backoff_max_ms, 30000);
	c->user_agent =
	    strdup(opts && opts->user_agent ? opts->user_agent : "vigil/" VIGIL_VERSION);
	c->field_manager = strdup(opts && opts->field_manager ? opts->field_manager : "vigil");
	c->opts.user_agent = NULL;
	c->opts.field_manager = NULL;
	pthread_mutex_init(&c->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->share = curl_share_init();
	if (!c->user_agent || !c->field_manager || !c->share) {
		ret = -ENOMEM;
		goto out;
	}
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	c->cfg = cfg;
	cfg = NULL;
	*out = c;
	c = NULL;
out:
	kube_config_free(cfg);
	kube_client_free(c);
	return ret;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	if (c->share)
		curl_share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->lock);
	kube_config_free(c->cfg);
	free(c->user_agent);
	free(c->field_manager);
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->token);
	free(c);
}

const struct kube_config *kube_client_config(const struct kube_client *c)
{
	return c ? c->cfg : NULL;
}

void kube_client_count(struct kube_client *c, const char *verb, int code)
{
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n_metrics; i++)
		if (c->metrics[i].code == code && !strcmp(c->metrics[i].verb, verb))
			break;
	if (i == c->n_metrics && i < METRICS_MAX) {
		c->metrics[i].verb = verb;
		c->metrics[i].code = code;
		c->n_metrics++;
	}
	if (i < METRICS_MAX)
		c->metrics[i].n++;
	pthread_mutex_unlock(&c->lock);
}

void kube_client_metrics_foreach(struct kube_client *c,
				 void (*fn)(void *ctx, const char *verb, int code, uint64_t n),
				 void *ctx)
{
	if (!c || !fn)
		return;
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < c->n_metrics; i++)
		fn(ctx, c->metrics[i].verb, c->metrics[i].code, c->metrics[i].n);
	pthread_mutex_unlock(&c->lock);
}

uint64_t kube_client_retries(struct kube_client *c)
{
	uint64_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = c->retries;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Builds the "Authorization: Bearer" header into a new string, or NULL when no token. */
static char *auth_header(struct kube_client *c)
{
	char *hdr = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->cfg->token_file &&
	    (!c->token || kube_now_ms() - c->token_read_ms > TOKEN_REREAD_MS)) {
		FILE *f = fopen(c->cfg->token_file, "re");
		char buf[8192];
		size_t n;

		if (f) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
				buf[--n] = '\0';
			if (n) {
				free(c->token);
				c->token = strdup(buf);
			}
			memset(buf, 0, sizeof(buf));
		} else if (!c->token) {
			vlog_warn("kube", "msg=\"cannot read token file\" path=%s",
				  c->cfg->token_file);
		}
		c->token_read_ms = kube_now_ms();
	}
	if (c->token || c->cfg->token) {
		if (asprintf(&hdr, "Authorization: Bearer %s",
			     c->token ? c->token : c->cfg->token) < 0)
			hdr = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return hdr;
}

CURL *kube_client_easy(struct kube_client *c, const char *method, const char *path, int stream,
		       struct curl_slist **hdrs)
{
	const struct kube_config *cfg = c->cfg;
	struct curl_slist *h = NULL, *t;
	char *url = NULL, *auth;
	CURL *e;

	*hdrs = NULL;
	e = curl_easy_init();
	if (!e)
		return NULL;
	if (asprintf(&url, "%s%s", cfg->server, path) < 0)
		goto fail;
	curl_easy_setopt(e, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(e, CURLOPT_SHARE, c->share);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->opts.connect_timeout_ms);
	if (!stream)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->opts.timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (!strcmp(method, "GET"))
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	/* TLS: verify the server against the configured CA unless told not to. */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
	if (cfg->ca_pem) {
		struct curl_blob b = {cfg->ca_pem, cfg->ca_pem_len, CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	} else if (cfg->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
	}
	if (cfg->cert_pem) {
		struct curl_blob b = {cfg->cert_pem, cfg->cert_pem_len, CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (cfg->cert_file) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
	}
	if (cfg->key_pem) {
		struct curl_blob b = {cfg->key_pem, cfg->key_pem_len, CURL_BLOB_COPY};

		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (cfg->key_file) {
		curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
	}
	t = curl_slist_append(h, "Accept: application/json");
	if (!t)
		goto fail;
	h = t;
	auth = auth_header(c);
	if (auth) {
		t = curl_slist_append(h, auth);
		memset(auth, 0, strlen(auth));
		free(auth);
		if (!t)
			goto fail;
		h = t;
	}
	*hdrs = h;
	return e;
fail:
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return NULL;
}

int kube_curl_error(CURLcode rc, const char *errbuf, struct kube_error *err)
{
	const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return kube_error_set(err, -ETIMEDOUT, 0, "Timeout", "%s", detail);
	case CURLE_OUT_OF_MEMORY:
		return kube_error_set(err, -ENOMEM, 0, "Transport", "%s", detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return kube_error_set(err, -EPROTO, 0, "TLS", "%s", detail);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return kube_error_set(err, -ECONNREFUSED, 0, "Transport", "%s", detail);
	default:
		return kube_error_set(err, -EIO, 0, "Transport", "%s", detail);
	}
}

int kube_status_parse(int code, const char *body, size_t len, struct kube_error *err)
{
	json_t *st = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *reason = json_string_value(json_object_get(st, "reason"));
	const char *msg = json_string_value(json_object_get(st, "message"));
	json_int_t scode = json_integer_value(json_object_get(st, "code"));
	int ret;

	if (scode >= 100 && scode < 600)
		code = (int)scode;
	if (!reason || !*reason) {
		switch (code) {
		case 404:
			reason = "NotFound";
			break;
		case 409:
			reason = "Conflict";
			break;
		case 410:
			reason = "Gone";
			break;
		case 429:
			reason = "TooManyRequests";
			break;
		default:
			reason = code >= 500 ? "InternalError" : "Unknown";
		}
	}
	ret = kube_error_errno(code, reason);
	if (msg)
		kube_error_set(err, ret, code, reason, "%s", msg);
	else
		kube_error_set(err, ret, code, reason, "%.*s", (int)(len > 300 ? 300 : len),
			       body ? body : "");
	json_decref(st);
	return ret;
}

struct resp {
	char *buf;
	size_t len, cap;
	long retry_after_s; /* -1 when absent */
};

static size_t resp_write(char *ptr, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t add = size * n;

	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *nb;

		while (cap < r->len + add + 1)
			cap *= 2;
		if (cap > BODY_MAX)
			return 0;
		nb = realloc(r->buf, cap);
		if (!nb)
			return 0;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, ptr, add);
	r->len += add;
	r->buf[r->len] = '\0';
	return add;
}

static size_t resp_header(char *ptr, size_t size, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(ptr, "Retry-After:", 12)) {
		char tmp[32];
		size_t l = len - 12 < sizeof(tmp) - 1 ? len - 12 : sizeof(tmp) - 1;
		char *end;
		long v;

		memcpy(tmp, ptr + 12, l);
		tmp[l] = '\0';
		v = strtol(tmp, &end, 10);
		if (end != tmp && v >= 0)
			r->retry_after_s = v;
	}
	return len;
}

static int cancel_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
	return atomic_load((const atomic_int *)ud) ? 1 : 0;
}

/* Sleeps ms in small steps; returns 1 when cancel was raised. */
static int sleep_cancel(long ms, const atomic_int *cancel)
{
	long long end = kube_now_ms() + ms;

	for (;;) {
		long long left = end - kube_now_ms();

		if (cancel && atomic_load(cancel))
			return 1;
		if (left <= 0)
			return 0;
		kube_sleep_ms(left > 100 ? 100 : (long)left);
	}
}

/* One request with retries; verb is the metrics label; cancel (may be NULL) aborts it. */
static int kube_do_cancel(struct kube_client *c, const char *verb, const char *method,
			  const char *path, const char *ctype, json_t *body, json_t **out,
			  struct kube_error *err, const atomic_int *cancel)
{
	int idempotent = strcmp(method, "POST") && strcmp(method, "PATCH");
	char *payload = NULL, errbuf[CURL_ERROR_SIZE];
	struct resp r = {0};
	int ret = 0, attempt;

	kube_error_clear(err);
	if (out)
		*out = NULL;
	if (!c || !path)
		return kube_error_set(err, -EINVAL, 0, "Invalid", "no client or path");
	if (body) {
		payload = json_dumps(body, JSON_COMPACT);
		if (!payload)
			return kube_error_set(err, -ENOMEM, 0, "Invalid", "cannot encode body");
	}
	for (attempt = 0;; attempt++) {
		struct curl_slist *hdrs = NULL;
		char ct[128];
		CURLcode rc;
		long code = 0, wait_ms;
		int retry;
		CURL *e;

		free(r.buf);
		memset(&r, 0, sizeof(r));
		r.retry_after_s = -1;
		e = kube_client_easy(c, method, path, 0, &hdrs);
		if (!e) {
			ret = kube_error_set(err, -ENOMEM, 0, "Transport", "out of memory");
			goto out;
		}
		if (payload) {
			snprintf(ct, sizeof(ct), "Content-Type: %s",
				 ctype ? ctype : "application/json");
			struct curl_slist *t = curl_slist_append(hdrs, ct);

			if (t)
				hdrs = t;
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, payload);
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, resp_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, resp_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, &r);
		errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		if (cancel) {
			curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, cancel_progress);
			curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)cancel);
		}
		rc = curl_easy_perform(e);
		if (rc == CURLE_OK)
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(e);
		curl_slist_free_all(hdrs);
		kube_client_count(c, verb, (int)code);

		if (rc == CURLE_ABORTED_BY_CALLBACK) {
			ret = kube_error_set(err, -ECANCELED, 0, "Canceled", "request canceled");
			goto out;
		} else if (rc != CURLE_OK) {
			ret = kube_curl_error(rc, errbuf, err);
			/* Nothing was sent when the connection failed: safe for every verb. */
			retry = idempotent || rc == CURLE_COULDNT_CONNECT;
			if (rc == CURLE_OUT_OF_MEMORY || ret == -EPROTO)
				retry = 0;
		} else if (code >= 200 && code < 300) {
			ret = 0;
			if (out && r.len) {
				json_error_t jerr;

				*out = json_loadb(r.buf, r.len, 0, &jerr);
				if (!*out)
					ret = kube_error_set(err, -EPROTO, (int)code, "BadResponse",
							     "invalid JSON from server: %s",
							     jerr.text);
			}
			goto out;
		} else {
			ret = kube_status_parse((int)code, r.buf, r.len, err);
			retry = code == 429 || (code >= 500 && idempotent);
		}
		if (!retry || attempt >= c->opts.max_retries)
			goto out;
		if (r.retry_after_s >= 0 && (code == 429 || code >= 500))
			wait_ms = r.retry_after_s * 1000;
		else
			wait_ms = kube_backoff_ms(c->opts.backoff_base_ms, c->opts.backoff_max_ms,
						  attempt, 0.25);
		if (wait_ms > c->opts.backoff_max_ms)
			wait_ms = c->opts.backoff_max_ms;
		pthread_mutex_lock(&c->lock);
		c->retries++;
		pthread_mutex_unlock(&c->lock);
		vlog_debug("kube", "msg=retry verb=%s path=%s code=%ld attempt=%d wait_ms=%ld",
			   verb, path, code, attempt + 1, wait_ms);
		if (sleep_cancel(wait_ms, cancel)) {
			ret = kube_error_set(err, -ECANCELED, 0, "Canceled", "request canceled");
			goto out;
		}
	}
out:
	free(r.buf);
	free(payload);
	return ret;
}

static int kube_do(struct kube_client *c, const char *verb, const char *method, const char *path,
		   const char *ctype, json_t *body, json_t **out, struct kube_error *err)
{
	return kube_do_cancel(c, verb, method, path, ctype, body, out, err, NULL);
}

int kube_request(struct kube_client *c, const char *method, const char *path,
		 const char *content_type, json_t *body, json_t **out, struct kube_error *err)
{
	if (!method)
		return kube_error_set(err, -EINVAL, 0, "Invalid", "no method");
	return kube_do(c, method, method, path, content_type, body, out, err);
}

int kube_get(struct kube_client *c, const char *path, json_t **out, struct kube_error *err)
{
	return kube_do(c, "GET", "GET", path, NULL, NULL, out, err);
}

int kube_create(struct kube_client *c, const char *path, json_t *body, json_t **out,
		struct kube_error *err)
{
	return kube_do(c, "POST", "POST", path, NULL, body, out, err);
}

int kube_update(struct kube_client *c, const char *path, json_t *body, json_t **out,
		struct kube_error *err)
{
	return kube_do(c, "PUT", "PUT", path, NULL, body, out, err);
}

int kube_patch(struct kube_client *c, const char *path, enum kube_patch_type type, json_t *body,
	       json_t **out, struct kube_error *err)
{
	static const char *const ctypes[] = {
	    [KUBE_PATCH_MERGE] = "application/merge-patch+json",
	    [KUBE_PATCH_JSON] = "application/json-patch+json",
	    [KUBE_PATCH_STRATEGIC] = "application/strategic-merge-patch+json",
	    [KUBE_PATCH_APPLY] = "application/apply-patch+yaml",
	};
	char *full = NULL, *fm;
	int ret;

	if ((unsigned int)type > KUBE_PATCH_APPLY || !body || !c || !path)
		return kube_error_set(err, -EINVAL, 0, "Invalid", "bad patch arguments");
	if (type != KUBE_PATCH_APPLY)
		return kube_do(c, "PATCH", "PATCH", path, ctypes[type], body, out, err);
	fm = kube_url_encode(c->field_manager);
	if (!fm || asprintf(&full, "%s%cfieldManager=%s&force=true", path,
			    strchr(path, '?') ? '&' : '?', fm) < 0) {
		free(fm);
		return kube_error_set(err, -ENOMEM, 0, "Invalid", "out of memory");
	}
	free(fm);
	ret = kube_do(c, "PATCH", "PATCH", full, ctypes[type], body, out, err);
	free(full);
	return ret;
}

int kube_delete(struct kube_client *c, const char *path, const struct kube_delete_opts *opts,
		json_t **out, struct kube_error *err)
{
	json_t *body = NULL;
	int ret;

	if (opts) {
		body = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
		if (!body)
			return kube_error_set(err, -ENOMEM, 0, "Invalid", "out of memory");
		if (opts->propagation)
			json_object_set_new(body, "propagationPolicy",
					    json_string(opts->propagation));
		if (opts->precondition_uid || opts->precondition_rv) {
			json_t *pre = json_object();

			if (opts->precondition_uid)
				json_object_set_new(pre, "uid",
						    json_string(opts->precondition_uid));
			if (opts->precondition_rv)
				json_object_set_new(pre, "resourceVersion",
						    json_string(opts->precondition_rv));
			json_object_set_new(body, "preconditions", pre);
		}
		if (opts->grace_seconds)
			json_object_set_new(
			    body, "gracePeriodSeconds",
			    json_integer(opts->grace_seconds > 0 ? opts->grace_seconds : 0));
	}
	ret = kube_do(c, "DELETE", "DELETE", path, NULL, body, out, err);
	json_decref(body);
	return ret;
}

/* Appends "&k=<encoded v>" (or "?...") to *url (reallocated). */
int kube_url_add(char **url, const char *k, const char *v)
{
	char *enc, *n;
	int r;

	if (!v || !*v)
		return 0;
	enc = kube_url_encode(v);
	if (!enc)
		return -ENOMEM;
	r = asprintf(&n, "%s%c%s=%s", *url, strchr(*url, '?') ? '&' : '?', k, enc);
	free(enc);
	if (r < 0)
		return -ENOMEM;
	free(*url);
	*url = n;
	return 0;
}

int kube_list_cancel(struct kube_client *c, const char *path, const struct kube_list_opts *opts,
		     json_t **out, struct kube_error *err, const atomic_int *cancel)
{
	json_t *result = NULL, *page = NULL;
	char *url = NULL, *cont = NULL, limit[16];
	int ret = 0, restarts = 0;

	*out = NULL;
	if (!c || !path)
		return kube_error_set(err, -EINVAL, 0, "Invalid", "no client or path");
	snprintf(limit, sizeof(limit), "%d", opts && opts->limit > 0 ? opts->limit : 500);
	for (;;) {
		json_t *md, *items;
		const char *next;

		free(url);
		url = strdup(path);
		if (!url)
			goto nomem;
		if (kube_url_add(&url, "limit", limit) ||
		    (opts && kube_url_add(&url, "labelSelector", opts->label_selector)) ||
		    (opts && kube_url_add(&url, "fieldSelector", opts->field_selector)) ||
		    kube_url_add(&url, "continue", cont))
			goto nomem;
		ret = kube_do_cancel(c, "LIST", "GET", url, NULL, NULL, &page, err, cancel);
		if (ret == -ESTALE && cont && restarts++ == 0) {
			/* The continue token expired: start the list again. */
			json_decref(result);
			result = NULL;
			free(cont);
			cont = NULL;
			continue;
		}
		if (ret)
			goto out;
		items = json_object_get(page, "items");
		if (!json_is_array(items) && !json_is_null(items) && items) {
			ret =
			    kube_error_set(err, -EPROTO, 200, "BadResponse", "list without items");
			goto out;
		}
		if (!result) {
			result = page;
			page = NULL;
			if (!json_is_array(json_object_get(result, "items")))
				json_object_set_new(result, "items", json_array());
		} else {
			json_array_extend(json_object_get(result, "items"), items);
		}
		md = json_object_get(page ? page : result, "metadata");
		next = json_string_value(json_object_get(md, "continue"));
		free(cont);
		cont = next && *next ? strdup(next) : NULL;
		if (next && *next && !cont)
			goto nomem;
		json_decref(page);
		page = NULL;
		if (!cont)
			break;
	}
	json_object_del(json_object_get(result, "metadata"), "continue");
	json_object_del(json_object_get(result, "metadata"), "remainingItemCount");
	*out = result;
	result = NULL;
	goto out;
nomem:
	ret = kube_error_set(err, -ENOMEM, 0, "Invalid", "out of memory");
out:
	json_decref(page);
	json_decref(result);
	free(url);
	free(cont);
	return ret;
}

int kube_list(struct kube_client *c, const char *path, const struct kube_list_opts *opts,
	      json_t **out, struct kube_error *err)
{
	return kube_list_cancel(c, path, opts, out, err, NULL);
}
