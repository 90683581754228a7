/* SPDX-License-Identifier: Apache-2.0 */
/* kube/watch against the scripted local HTTP server (unit/kube_testsrv.h), and optionally
 * against a real cluster when VIGIL_KUBECONFIG is set. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kube_testsrv.h"
#include "lib/kube/client.h"
#include "lib/kube/watch.h"

#define LIST_LINE "GET /apis/vigil.dev/v1alpha1/namespaces/ns/rulesets?limit=500 "
#define WATCH_AT(rv) "rulesets?watch=1&allowWatchBookmarks=true&resourceVersion=" rv "&"
#define OBJ(name, rv)                                                                              \
	"{\"kind\":\"RuleSet\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\","          \
	"\"resourceVersion\":\"" rv "\"}}"
#define EV(type, obj) "{\"type\":\"" type "\",\"object\":" obj "}\n"
#define LIST(rv, items)                                                                            \
	"{\"kind\":\"RuleSetList\",\"metadata\":{\"resourceVersion\":\"" rv                        \
	"\"},\"items\":[" items "]}"

/* Records callbacks as strings: "add ns/a 5", "upd ns/a 5>6", "del ns/b", "synced". */
struct rec {
	pthread_mutex_t lock;
	json_t *log;
	struct kube_watch *w; /* to check the cache is updated before the callback */
	int cache_mismatch;
};

static const char *rv_of(json_t *o)
{
	return json_string_value(
	    json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

static void rec_add(struct rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rec_add(struct rec *r, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&r->lock);
	json_array_append_new(r->log, json_string(buf));
	pthread_mutex_unlock(&r->lock);
}

static void check_cached(struct rec *r, json_t *obj, bool present)
{
	char key[256];
	json_t *c;

	if (!r->w)
		return;
	kube_cache_key(obj, key, sizeof(key));
	c = kube_cache_get(kube_watch_cache(r->w), key);
	if (present ? !c || strcmp(rv_of(c), rv_of(obj)) : c != NULL)
		r->cache_mismatch++;
	json_decref(c);
}

static void on_add(void *ctx, json_t *obj)
{
	char key[256];

	kube_cache_key(obj, key, sizeof(key));
	check_cached(ctx, obj, true);
	rec_add(ctx, "add %s %s", key, rv_of(obj));
}

static void on_upd(void *ctx, json_t *old, json_t *obj)
{
	char key[256];

	kube_cache_key(obj, key, sizeof(key));
	check_cached(ctx, obj, true);
	rec_add(ctx, "upd %s %s>%s", key, rv_of(old), rv_of(obj));
}

static void on_del(void *ctx, json_t *old)
{
	char key[256];

	kube_cache_key(old, key, sizeof(key));
	check_cached(ctx, old, false);
	rec_add(ctx, "del %s", key);
}

static void on_synced(void *ctx)
{
	rec_add(ctx, "synced");
}

struct fixture {
	struct ts_server *srv;
	struct kube_client *c;
	struct rec rec;
	struct kube_watch *w;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	struct kube_client_opts o = {.backoff_base_ms = 20, .backoff_max_ms = 200};

	f->srv = ts_start();
	if (!f->srv || asprintf(&cfg->server, "http://127.0.0.1:%d", f->srv->port) < 0)
		return -1;
	if (kube_client_new(cfg, &o, &f->c))
		return -1;
	pthread_mutex_init(&f->rec.lock, NULL);
	f->rec.log = json_array();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	long long t0 = ts_now_ms();

	kube_watch_stop(f->w);
	/* stop is prompt even with a watch connection open */
	if (ts_now_ms() - t0 > 2000)
		return -1;
	kube_client_free(f->c);
	ts_stop(f->srv);
	json_decref(f->rec.log);
	pthread_mutex_destroy(&f->rec.lock);
	free(f);
	return 0;
}

/* Default test options: quick backoff, generous idle limit. */
static void start(struct fixture *f, int idle_ms)
{
	struct kube_watch_opts o = {
	    .res = &kube_res_rulesets,
	    .ns = "ns",
	    .idle_timeout_ms = idle_ms,
	    .backoff_initial_ms = 50,
	    .backoff_max_ms = 200,
	    .handlers = {on_add, on_upd, on_del, on_synced, &f->rec},
	};
	struct ts_step quiet = {
	    .match = "watch=1", .status = 200, .stream = true, .hold_ms = 20000, .repeat = true};

	/* Once the script is used up, every further watch just stays open and quiet. */
	ts_add(f->srv, &quiet);
	assert_int_equal(kube_watch_start(f->c, &o, &f->w), 0);
	f->rec.w = f->w;
}

struct want {
	struct rec *r;
	size_t n;
};

static bool have_n(void *arg)
{
	struct want *w = arg;
	size_t n;

	pthread_mutex_lock(&w->r->lock);
	n = json_array_size(w->r->log);
	pthread_mutex_unlock(&w->r->lock);
	return n >= w->n;
}

/* Waits for n callbacks, then compares the log with the expected lines. */
static void expect_log(struct fixture *f, const char *const *lines)
{
	struct want w = {&f->rec, 0};
	char *dump;

	while (lines[w.n])
		w.n++;
	ts_until(have_n, &w, 5000);
	usleep(100000); /* let anything unexpected arrive too */
	pthread_mutex_lock(&f->rec.lock);
	dump = json_dumps(f->rec.log, 0);
	print_message("callbacks: %s\n", dump);
	free(dump);
	assert_int_equal(json_array_size(f->rec.log), w.n);
	for (size_t i = 0; i < w.n; i++)
		assert_string_equal(json_string_value(json_array_get(f->rec.log, i)), lines[i]);
	pthread_mutex_unlock(&f->rec.lock);
	assert_int_equal(f->rec.cache_mismatch, 0);
}

struct findreq {
	struct ts_server *s;
	const char *sub;
	int from;
};

static bool req_seen(void *arg)
{
	struct findreq *fr = arg;

	return ts_find(fr->s, fr->from, fr->sub) >= 0;
}

static void wait_req(struct fixture *f, const char *sub)
{
	struct findreq fr = {f->srv, sub, 0};

	assert_true(ts_until(req_seen, &fr, 5000));
}

static const char *cached_rv(struct fixture *f, const char *key, char *buf, size_t len)
{
	json_t *o = kube_cache_get(kube_watch_cache(f->w), key);

	snprintf(buf, len, "%s", o ? rv_of(o) : "(none)");
	json_decref(o);
	return buf;
}

static void test_event_split_across_reads(void **state)
{
	struct fixture *f = *state;
	struct ts_step list = {
	    .match = LIST_LINE, .status = 200, .chunks = {LIST("9", OBJ("a", "5"))}};
	/* Two events cut in the middle of a string and of a key, in three network writes. */
	struct ts_step watch = {
	    .match = WATCH_AT("9"),
	    .status = 200,
	    .stream = true,
	    .chunks = {"{\"type\":\"ADDED\",\"object\":{\"kind\":\"RuleSet\",\"metadata\":{"
		       "\"name\":\"b\",\"namespace\":\"ns\",\"resourc",
		       "eVersion\":\"10\"}}}\n{\"type\":\"MODIF",
		       "IED\",\"object\":" OBJ("a", "11") "}\n"},
	    .delay_ms = {0, 150, 150},
	    .hold_ms = 20000,
	};
	static const char *const want[] = {"add ns/a 5", "synced", "add ns/b 10", "upd ns/a 5>11",
					   NULL};
	struct kube_watch_stats st;
	char rv[64];

	ts_add(f->srv, &list);
	ts_add(f->srv, &watch);
	start(f, 10000);
	assert_int_equal(kube_watch_wait_synced(f->w, 5000), 0);
	expect_log(f, want);
	assert_int_equal(kube_cache_len(kube_watch_cache(f->w)), 2);
	assert_string_equal(cached_rv(f, "ns/a", rv, sizeof(rv)), "11");
	kube_watch_resource_version(f->w, rv, sizeof(rv));
	assert_string_equal(rv, "11");
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.events, 2);
	assert_int_equal(st.lists, 1);
	assert_int_equal(st.restarts, 0);
}

static void test_rv_opaque_9_then_10(void **state)
{
	struct fixture *f = *state;
	struct ts_step list = {
	    .match = LIST_LINE, .status = 200, .chunks = {LIST("9", OBJ("a", "9"))}};
	/* The stream ends after one event: the next watch must resume from "10". */
	struct ts_step watch = {.match = WATCH_AT("9"),
				.status = 200,
				.stream = true,
				.chunks = {EV("MODIFIED", OBJ("a", "10"))}};
	static const char *const want[] = {"add ns/a 9", "synced", "upd ns/a 9>10", NULL};
	struct kube_watch_stats st;

	ts_add(f->srv, &list);
	ts_add(f->srv, &watch);
	start(f, 10000);
	wait_req(f, WATCH_AT("10"));
	expect_log(f, want);
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.lists, 1); /* resumed, not relisted */
	assert_int_equal(st.restarts, 1);
	assert_int_equal(ts_find(f->srv, 0, "resourceVersion=10&timeoutSeconds="), 2);
}

static void test_bookmarks(void **state)
{
	struct fixture *f = *state;
	struct ts_step list = {
	    .match = LIST_LINE, .status = 200, .chunks = {LIST("100", OBJ("a", "99"))}};
	struct ts_step watch = {
	    .match = WATCH_AT("100"),
	    .status = 200,
	    .stream = true,
	    .chunks = {EV("BOOKMARK", "{\"kind\":\"RuleSet\",\"metadata\":{\"resourceVersion\":"
				      "\"150\",\"annotations\":{\"k8s.io/initial-events-end\":"
				      "\"true\"}}}")},
	};
	static const char *const want[] = {"add ns/a 99", "synced", NULL};
	struct kube_watch_stats st;
	char rv[64];
	int i;

	ts_add(f->srv, &list);
	ts_add(f->srv, &watch);
	start(f, 10000);
	wait_req(f, WATCH_AT("150"));
	expect_log(f, want); /* no callback for a bookmark */
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.bookmarks, 1);
	assert_int_equal(st.events, 0);
	kube_watch_resource_version(f->w, rv, sizeof(rv));
	assert_string_equal(rv, "150");
	assert_int_equal(kube_cache_len(kube_watch_cache(f->w)), 1);
	/* server-side timeout is randomised in [300, 600] s by default */
	i = ts_find(f->srv, 0, WATCH_AT("100"));
	{
		struct ts_req r = ts_req_get(f->srv, i);
		int t = atoi(strstr(r.line, "timeoutSeconds=") + 15);

		assert_true(t >= 300 && t <= 600);
	}
}

static void test_410_http_status(void **state)
{
	struct fixture *f = *state;
	struct ts_step list1 = {.match = LIST_LINE,
				.status = 200,
				.chunks = {LIST("5", OBJ("a", "5") "," OBJ("b", "4"))}};
	struct ts_step gone = {.match = WATCH_AT("5"),
			       .status = 410,
			       .chunks = {"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
					  "\"too old resource version: 5 (7)\",\"reason\":"
					  "\"Expired\",\"code\":410}"}};
	/* During the gap b was deleted and c created; a did not change. */
	struct ts_step list2 = {.match = LIST_LINE,
				.status = 200,
				.chunks = {LIST("8", OBJ("a", "5") "," OBJ("c", "7"))}};
	static const char *const want[] = {"add ns/a 5", "add ns/b 4", "synced",
					   "add ns/c 7", "del ns/b",   NULL};
	struct kube_watch_stats st;
	json_t *keys;

	ts_add(f->srv, &list1);
	ts_add(f->srv, &gone);
	ts_add(f->srv, &list2);
	start(f, 10000);
	wait_req(f, WATCH_AT("8"));
	expect_log(f, want);
	keys = kube_cache_keys(kube_watch_cache(f->w));
	assert_int_equal(json_array_size(keys), 2);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "ns/a");
	assert_string_equal(json_string_value(json_array_get(keys, 1)), "ns/c");
	json_decref(keys);
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.gone, 1);
	assert_int_equal(st.lists, 2);
	assert_int_equal(st.relists, 1);
}

static void test_410_in_stream(void **state)
{
	struct fixture *f = *state;
	struct ts_step list1 = {.match = LIST_LINE,
				.status = 200,
				.chunks = {LIST("5", OBJ("a", "5") "," OBJ("b", "5"))}};
	struct ts_step watch = {
	    .match = WATCH_AT("5"),
	    .status = 200,
	    .stream = true,
	    .chunks = {EV("MODIFIED", OBJ("a", "6")),
		       EV("ERROR", "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
				   "\"Failure\",\"message\":\"too old resource version\","
				   "\"reason\":\"Expired\",\"code\":410}")},
	    .delay_ms = {0, 100},
	    .hold_ms = 20000, /* the client must drop the stream itself */
	};
	struct ts_step list2 = {.match = LIST_LINE,
				.status = 200,
				.chunks = {LIST("9", OBJ("a", "9") "," OBJ("c", "9"))}};
	static const char *const want[] = {"add ns/a 5",   "add ns/b 5", "synced",   "upd ns/a 5>6",
					   "upd ns/a 6>9", "add ns/c 9", "del ns/b", NULL};
	struct kube_watch_stats st;
	char rv[64];

	ts_add(f->srv, &list1);
	ts_add(f->srv, &watch);
	ts_add(f->srv, &list2);
	start(f, 10000);
	wait_req(f, WATCH_AT("9"));
	expect_log(f, want);
	assert_int_equal(kube_cache_len(kube_watch_cache(f->w)), 2);
	assert_string_equal(cached_rv(f, "ns/a", rv, sizeof(rv)), "9");
	assert_string_equal(cached_rv(f, "ns/c", rv, sizeof(rv)), "9");
	assert_string_equal(cached_rv(f, "ns/b", rv, sizeof(rv)), "(none)");
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.gone, 1);
	assert_int_equal(st.relists, 1);
	assert_int_equal(f->srv->unmatched, 0);
}

static void test_silent_connection(void **state)
{
	struct fixture *f = *state;
	struct ts_step list = {.match = LIST_LINE, .status = 200, .chunks = {LIST("3", "")}};
	/* One event, then the connection goes silent without closing. */
	struct ts_step watch = {.match = WATCH_AT("3"),
				.status = 200,
				.stream = true,
				.chunks = {EV("ADDED", OBJ("x", "4"))},
				.hold_ms = 20000};
	static const char *const want[] = {"synced", "add ns/x 4", NULL};
	struct kube_watch_stats st;
	struct ts_req r1, r2;
	int i1, i2;

	ts_add(f->srv, &list);
	ts_add(f->srv, &watch);
	start(f, 800);
	wait_req(f, WATCH_AT("4"));
	expect_log(f, want);
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.idle_timeouts, 1);
	assert_int_equal(st.lists, 1);
	i1 = ts_find(f->srv, 0, WATCH_AT("3"));
	i2 = ts_find(f->srv, 0, WATCH_AT("4"));
	r1 = ts_req_get(f->srv, i1);
	r2 = ts_req_get(f->srv, i2);
	print_message("idle limit 800 ms: reconnected after %lld ms\n", r2.t_ms - r1.t_ms);
	assert_true(r2.t_ms - r1.t_ms >= 800);
	assert_true(r2.t_ms - r1.t_ms < 4000);
}

static void test_list_failure_then_watch_error_backoff(void **state)
{
	struct fixture *f = *state;
	/* The first list fails after the client's own retries; the watch backs off and lists
	 * again. Then a watch refused with 500 is retried from the same resourceVersion. */
	struct ts_step bad = {
	    .match = LIST_LINE,
	    .status = 403,
	    .chunks = {"{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"code\":403}"}};
	struct ts_step list = {
	    .match = LIST_LINE, .status = 200, .chunks = {LIST("20", OBJ("a", "20"))}};
	struct ts_step w500 = {.match = WATCH_AT("20"), .status = 500, .chunks = {"{}"}};
	static const char *const want[] = {"add ns/a 20", "synced", NULL};
	struct kube_watch_stats st;
	int first, second;

	ts_add(f->srv, &bad);
	ts_add(f->srv, &list);
	ts_add(f->srv, &w500);
	start(f, 10000);
	assert_int_equal(kube_watch_wait_synced(f->w, 5000), 0);
	expect_log(f, want);
	wait_req(f, WATCH_AT("20"));
	first = ts_find(f->srv, 0, WATCH_AT("20"));
	assert_true(first >= 0);
	{
		struct findreq fr = {f->srv, WATCH_AT("20"), first + 1};

		assert_true(ts_until(req_seen, &fr, 5000));
	}
	second = ts_find(f->srv, first + 1, WATCH_AT("20"));
	assert_true(ts_req_get(f->srv, second).t_ms - ts_req_get(f->srv, first).t_ms >= 30);
	kube_watch_stats(f->w, &st);
	assert_int_equal(st.lists, 1);
	assert_true(st.errors >= 2);
}

static void drop_spec(void *ctx, json_t *obj)
{
	json_object_del(obj, "spec");
}

static void test_transform_and_managed_fields(void **state)
{
	struct fixture *f = *state;
	struct ts_step list = {
	    .match = LIST_LINE,
	    .status = 200,
	    .chunks = {LIST("1", "{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\","
				 "\"resourceVersion\":\"1\",\"managedFields\":[{\"manager\":"
				 "\"kubectl\"}]},\"spec\":{\"big\":\"xxxxxxxx\"},\"status\":"
				 "{\"phase\":\"Running\"}}")}};
	struct kube_watch_opts o = {.res = &kube_res_rulesets,
				    .ns = "ns",
				    .handlers = {.ctx = &f->rec},
				    .transform = drop_spec};
	json_t *got;

	ts_add(f->srv, &list);
	assert_int_equal(kube_watch_start(f->c, &o, &f->w), 0);
	assert_int_equal(kube_watch_wait_synced(f->w, 5000), 0);
	got = kube_cache_get(kube_watch_cache(f->w), "ns/a");
	assert_non_null(got);
	assert_null(json_object_get(json_object_get(got, "metadata"), "managedFields"));
	assert_null(json_object_get(got, "spec"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(got, "status"), "phase")), "Running");
	json_decref(got);
}

struct real_ctx {
	struct rec rec;
	char name[64];
};

static void real_add(void *ctx, json_t *obj)
{
	struct real_ctx *r = ctx;
	const char *n =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	if (n && !strcmp(n, r->name))
		rec_add(&r->rec, "add %s", rv_of(obj));
}

static void real_upd(void *ctx, json_t *old, json_t *obj)
{
	struct real_ctx *r = ctx;
	const char *n =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

	if (n && !strcmp(n, r->name))
		rec_add(&r->rec, "upd");
}

static void real_del(void *ctx, json_t *old)
{
	struct real_ctx *r = ctx;
	const char *n =
	    json_string_value(json_object_get(json_object_get(old, "metadata"), "name"));

	if (n && !strcmp(n, r->name))
		rec_add(&r->rec, "del");
}

static bool last_is_del(void *arg)
{
	struct rec *r = arg;
	const char *last;
	bool yes;

	pthread_mutex_lock(&r->lock);
	last = json_string_value(json_array_get(r->log, json_array_size(r->log) - 1));
	yes = last && !strcmp(last, "del");
	pthread_mutex_unlock(&r->lock);
	return yes;
}

/*
 * Against the real cluster, only when VIGIL_KUBECONFIG points at its kubeconfig: TLS with the
 * cluster's CA and client certificate, paginated list, CRUD on a ConfigMap (create, conflict,
 * merge and apply patches, delete with a stale precondition then for real), and a watch that
 * sees those changes; a watch from resourceVersion "1" must recover from 410 by relisting.
 */
static void test_real_cluster(void **state)
{
	const char *path = getenv("VIGIL_KUBECONFIG");
	struct real_ctx rc = {0};
	struct kube_watch_opts o = {.res = &kube_res_configmaps,
				    .ns = "default",
				    .handlers = {real_add, real_upd, real_del, NULL, &rc}};
	struct kube_list_opts lo = {.limit = 1};
	struct kube_delete_opts stale = {.precondition_rv = "1"};
	struct kube_config *cfg = NULL;
	struct kube_client *c = NULL;
	struct kube_watch *w = NULL;
	struct kube_error err;
	json_t *out = NULL, *cm, *patch;
	char coll[KUBE_PATH_MAX], obj[KUBE_PATH_MAX];

	if (!path || !*path) {
		skip();
		return;
	}
	pthread_mutex_init(&rc.rec.lock, NULL);
	rc.rec.log = json_array();
	snprintf(rc.name, sizeof(rc.name), "vigil-kube-unit-%d", (int)getpid());
	assert_int_equal(kube_config_load(path, NULL, &cfg, &err), 0);
	assert_int_equal(kube_client_new(cfg, NULL, &c), 0);
	assert_int_equal(kube_list(c, "/api/v1/namespaces", &lo, &out, &err), 0);
	print_message("real cluster: %zu namespaces listed 1 per page\n",
		      json_array_size(json_object_get(out, "items")));
	assert_true(json_array_size(json_object_get(out, "items")) >= 2);
	json_decref(out);
	assert_int_equal(kube_get(c, "/api/v1/namespaces/vigil-nonexistent-ns", &out, &err),
			 -ENOENT);
	assert_string_equal(err.reason, "NotFound");

	assert_int_equal(kube_watch_start(c, &o, &w), 0);
	assert_int_equal(kube_watch_wait_synced(w, 10000), 0);
	kube_path(coll, sizeof(coll), &kube_res_configmaps, "default", NULL, NULL);
	kube_path(obj, sizeof(obj), &kube_res_configmaps, "default", rc.name, NULL);
	cm = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
		       "metadata", "name", rc.name, "data", "a", "1");
	assert_int_equal(kube_create(c, coll, cm, &out, &err), 0);
	json_decref(out);
	assert_int_equal(kube_create(c, coll, cm, NULL, &err), -EEXIST);
	assert_true(kube_error_is_already_exists(&err));
	/* a PUT with a stale resourceVersion is a Conflict */
	json_object_set_new(json_object_get(cm, "metadata"), "resourceVersion", json_string("1"));
	assert_int_equal(kube_update(c, obj, cm, NULL, &err), -EBUSY);
	assert_true(kube_error_is_conflict(&err));
	patch = json_pack("{s:{s:s}}", "data", "b", "2");
	assert_int_equal(kube_patch(c, obj, KUBE_PATCH_MERGE, patch, &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "data"), "b")),
			    "2");
	json_decref(out);
	json_decref(patch);
	json_object_del(json_object_get(cm, "metadata"), "resourceVersion");
	assert_int_equal(kube_patch(c, obj, KUBE_PATCH_APPLY, cm, &out, &err), 0);
	json_decref(out);
	assert_int_equal(kube_delete(c, obj, &stale, NULL, &err), -EBUSY);
	assert_int_equal(kube_delete(c, obj, NULL, NULL, &err), 0);
	json_decref(cm);
	/* add, one update or more (merge patch, apply), then del */
	assert_true(ts_until(last_is_del, &rc.rec, 10000));
	pthread_mutex_lock(&rc.rec.lock);
	assert_true(json_array_size(rc.rec.log) >= 3);
	assert_int_equal(strncmp(json_string_value(json_array_get(rc.rec.log, 0)), "add ", 4), 0);
	assert_string_equal(json_string_value(json_array_get(rc.rec.log, 1)), "upd");
	pthread_mutex_unlock(&rc.rec.lock);
	kube_watch_stop(w);
	json_decref(rc.rec.log);
	pthread_mutex_destroy(&rc.rec.lock);
	kube_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_event_split_across_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rv_opaque_9_then_10, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bookmarks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_410_http_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_410_in_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_failure_then_watch_error_backoff, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_transform_and_managed_fields, setup, teardown),
	    cmocka_unit_test(test_real_cluster),
	};
	return cmocka_run_group_tests_name("kube_watch", tests, NULL, NULL);
}
