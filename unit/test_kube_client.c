/* SPDX-License-Identifier: Apache-2.0 */
/* kube/client against the scripted local HTTP server (unit/kube_testsrv.h). */
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

struct fixture {
	struct ts_server *srv;
	struct kube_client *c;
};

static struct kube_client *client_for(struct ts_server *srv, const struct kube_client_opts *o)
{
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	struct kube_client_opts def = {.backoff_base_ms = 20, .backoff_max_ms = 3000};
	struct kube_client *c = NULL;

	assert_non_null(cfg);
	assert_true(asprintf(&cfg->server, "http://127.0.0.1:%d", srv->port) > 0);
	cfg->token = strdup("tok-123");
	cfg->ns = strdup("ns");
	assert_int_equal(kube_client_new(cfg, o ? o : &def, &c), 0);
	return c;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->srv = ts_start();
	if (!f->srv)
		return -1;
	f->c = client_for(f->srv, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	kube_client_free(f->c);
	ts_stop(f->srv);
	free(f);
	return 0;
}

static void test_get_ok(void **state)
{
	struct fixture *f = *state;
	struct ts_step st = {.match = "GET /api/v1/namespaces/ns/pods/p1 ",
			     .status = 200,
			     .chunks = {"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\"}}"}};
	struct kube_error err;
	json_t *out = NULL;
	struct ts_req r;

	ts_add(f->srv, &st);
	assert_int_equal(kube_get(f->c, "/api/v1/namespaces/ns/pods/p1", &out, &err), 0);
	assert_string_equal(json_string_value(json_object_get(out, "kind")), "Pod");
	assert_int_equal(err.code, 0);
	json_decref(out);
	r = ts_req_get(f->srv, 0);
	assert_non_null(strstr(r.head, "Authorization: Bearer tok-123\r\n"));
	assert_non_null(strstr(r.head, "Accept: application/json\r\n"));
	assert_non_null(strstr(r.head, "User-Agent: vigil/"));
	assert_string_equal(kube_client_config(f->c)->ns, "ns");
}

static void test_status_errors(void **state)
{
	struct fixture *f = *state;
	struct ts_step nf = {
	    .match = "GET /x/missing",
	    .status = 404,
	    .chunks = {"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":"
		       "\"Failure\",\"message\":\"pods \\\"missing\\\" not found\","
		       "\"reason\":\"NotFound\",\"code\":404}"}};
	struct ts_step ae = {.match = "POST /x/coll",
			     .status = 409,
			     .chunks = {"{\"kind\":\"Status\",\"message\":\"already there\","
					"\"reason\":\"AlreadyExists\",\"code\":409}"}};
	struct ts_step inv = {.match = "PUT /x/obj",
			      .status = 422,
			      .chunks = {"{\"kind\":\"Status\",\"message\":\"spec.rules: bad\","
					 "\"reason\":\"Invalid\",\"code\":422}"}};
	struct ts_step cf = {.match = "PUT /x/conf",
			     .status = 409,
			     .chunks = {"{\"kind\":\"Status\",\"message\":\"modified\","
					"\"reason\":\"Conflict\",\"code\":409}"}};
	struct ts_step txt = {.match = "GET /x/text", .status = 403, .chunks = {"forbidden!"}};
	json_t *body = json_pack("{s:s}", "kind", "Pod"), *out = (json_t *)1;
	struct kube_error err;

	ts_add(f->srv, &nf);
	ts_add(f->srv, &ae);
	ts_add(f->srv, &inv);
	ts_add(f->srv, &cf);
	ts_add(f->srv, &txt);
	assert_int_equal(kube_get(f->c, "/x/missing", &out, &err), -ENOENT);
	assert_null(out);
	assert_int_equal(err.code, 404);
	assert_string_equal(err.reason, "NotFound");
	assert_string_equal(err.message, "pods \"missing\" not found");
	assert_true(kube_error_is_not_found(&err));

	assert_int_equal(kube_create(f->c, "/x/coll", body, NULL, &err), -EEXIST);
	assert_true(kube_error_is_already_exists(&err));
	assert_string_equal(err.message, "already there");

	assert_int_equal(kube_update(f->c, "/x/obj", body, NULL, &err), -EINVAL);
	assert_int_equal(err.code, 422);
	assert_string_equal(err.reason, "Invalid");
	assert_string_equal(err.message, "spec.rules: bad");

	assert_int_equal(kube_update(f->c, "/x/conf", body, NULL, &err), -EBUSY);
	assert_true(kube_error_is_conflict(&err));

	assert_int_equal(kube_get(f->c, "/x/text", NULL, &err), -EACCES);
	assert_int_equal(err.code, 403);
	assert_string_equal(err.message, "forbidden!");
	json_decref(body);
	/* none of these is retried */
	assert_int_equal(ts_nreqs(f->srv), 5);
	assert_int_equal(kube_client_retries(f->c), 0);
}

static void test_429_retry_after(void **state)
{
	struct fixture *f = *state;
	struct ts_step busy = {.match = "POST /x/c",
			       .status = 429,
			       .headers = "Retry-After: 1\r\n",
			       .chunks = {"{\"kind\":\"Status\",\"reason\":\"TooManyRequests\","
					  "\"code\":429}"}};
	struct ts_step ok = {.match = "POST /x/c", .status = 201, .chunks = {"{\"ok\":true}"}};
	json_t *body = json_pack("{s:s}", "a", "b"), *out = NULL;
	struct kube_error err;
	long long t0 = ts_now_ms(), dt;
	struct ts_req r0, r1;

	ts_add(f->srv, &busy);
	ts_add(f->srv, &ok);
	/* POST is retried on 429: the server did not process it. */
	assert_int_equal(kube_create(f->c, "/x/c", body, &out, &err), 0);
	dt = ts_now_ms() - t0;
	assert_true(json_is_true(json_object_get(out, "ok")));
	assert_int_equal(ts_nreqs(f->srv), 2);
	r0 = ts_req_get(f->srv, 0);
	r1 = ts_req_get(f->srv, 1);
	/* Retry-After: 1 honoured (the client backoff base is 20 ms), 50 ms slack for timers. */
	assert_true(r1.t_ms - r0.t_ms >= 950);
	assert_true(dt >= 950);
	assert_true(dt < 3000);
	assert_string_equal(r1.body, "{\"a\":\"b\"}");
	assert_int_equal(kube_client_retries(f->c), 1);
	print_message("429 retry: Retry-After 1 s, measured gap %lld ms\n", r1.t_ms - r0.t_ms);
	json_decref(out);
	json_decref(body);
}

static void test_5xx_retry(void **state)
{
	struct fixture *f = *state;
	struct ts_step e503 = {.match = "GET /x/flaky", .status = 503, .chunks = {"{}"}};
	struct ts_step e500 = {.match = "GET /x/flaky", .status = 500, .chunks = {"oops"}};
	struct ts_step ok = {.match = "GET /x/flaky", .status = 200, .chunks = {"{\"n\":1}"}};
	struct ts_step p500 = {.match = "POST /x/once",
			       .status = 500,
			       .chunks = {"{\"kind\":\"Status\",\"reason\":\"InternalError\","
					  "\"message\":\"boom\",\"code\":500}"}};
	json_t *out = NULL, *body = json_object();
	struct kube_error err;

	ts_add(f->srv, &e503);
	ts_add(f->srv, &e500);
	ts_add(f->srv, &ok);
	ts_add(f->srv, &p500);
	assert_int_equal(kube_get(f->c, "/x/flaky", &out, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "n")), 1);
	assert_int_equal(ts_nreqs(f->srv), 3);
	assert_int_equal(kube_client_retries(f->c), 2);
	json_decref(out);
	/* POST is not idempotent: a 500 is returned, not retried */
	assert_int_equal(kube_create(f->c, "/x/once", body, NULL, &err), -EIO);
	assert_int_equal(err.code, 500);
	assert_string_equal(err.message, "boom");
	assert_int_equal(ts_nreqs(f->srv), 4);
	json_decref(body);
}

static void test_5xx_gives_up(void **state)
{
	struct fixture *f = *state;
	struct ts_step e502 = {
	    .match = "GET /x/down", .status = 502, .chunks = {"bad gw"}, .repeat = true};
	struct kube_error err;

	ts_add(f->srv, &e502);
	assert_int_equal(kube_get(f->c, "/x/down", NULL, &err), -EIO);
	assert_int_equal(err.code, 502);
	assert_int_equal(ts_nreqs(f->srv), 5); /* 1 + 4 retries */
}

static void test_connection_error_retry(void **state)
{
	struct fixture *f = *state;
	struct ts_step drop = {.match = "GET /x/drop", .status = 0};
	struct ts_step ok = {.match = "GET /x/drop", .status = 200, .chunks = {"{}"}};
	struct kube_error err;

	ts_add(f->srv, &drop);
	ts_add(f->srv, &ok);
	assert_int_equal(kube_get(f->c, "/x/drop", NULL, &err), 0);
	assert_int_equal(ts_nreqs(f->srv), 2);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	struct kube_client_opts o = {.timeout_ms = 300, .max_retries = -1};
	struct kube_client *c = client_for(f->srv, &o);
	struct ts_step slow = {
	    .match = "GET /x/slow", .status = 200, .stream = true, .hold_ms = 3000};
	struct kube_error err;
	long long t0 = ts_now_ms();

	ts_add(f->srv, &slow);
	assert_int_equal(kube_get(c, "/x/slow", NULL, &err), -ETIMEDOUT);
	assert_true(ts_now_ms() - t0 < 2000);
	assert_string_equal(err.reason, "Timeout");
	assert_int_equal(err.code, 0);
	kube_client_free(c);
}

static void test_pagination(void **state)
{
	struct fixture *f = *state;
	struct ts_step p1 = {.match = "GET /api/v1/pods?limit=2&labelSelector=app%3Dvigil "
				      "HTTP",
			     .status = 200,
			     .chunks = {"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":"
					"{\"resourceVersion\":\"77\",\"continue\":\"tok/1=\","
					"\"remainingItemCount\":1},\"items\":["
					"{\"metadata\":{\"name\":\"a\"}},{\"metadata\":{\"name\":"
					"\"b\"}}]}"}};
	struct ts_step p2 = {.match = "continue=tok%2F1%3D",
			     .status = 200,
			     .chunks = {"{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":"
					"\"77\"},\"items\":[{\"metadata\":{\"name\":\"c\"}}]}"}};
	struct kube_list_opts lo = {.label_selector = "app=vigil", .limit = 2};
	json_t *out = NULL, *items, *md;
	struct kube_error err;

	ts_add(f->srv, &p1);
	ts_add(f->srv, &p2);
	assert_int_equal(kube_list(f->c, "/api/v1/pods", &lo, &out, &err), 0);
	items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), 3);
	assert_string_equal(json_string_value(json_object_get(
				json_object_get(json_array_get(items, 2), "metadata"), "name")),
			    "c");
	md = json_object_get(out, "metadata");
	assert_string_equal(json_string_value(json_object_get(md, "resourceVersion")), "77");
	assert_null(json_object_get(md, "continue"));
	assert_string_equal(json_string_value(json_object_get(out, "kind")), "PodList");
	assert_int_equal(ts_nreqs(f->srv), 2);
	assert_int_equal(f->srv->unmatched, 0);
	json_decref(out);
}

static void test_patch_delete(void **state)
{
	struct fixture *f = *state;
	struct ts_step ok = {.status = 200, .chunks = {"{}"}, .repeat = true};
	json_t *body = json_pack("{s:{s:s}}", "metadata", "name", "x");
	json_t *ops =
	    json_pack("[{s:s, s:s, s:i}]", "op", "replace", "path", "/spec/n", "value", 1);
	struct kube_delete_opts dopt = {.propagation = "Foreground",
					.precondition_uid = "u-1",
					.grace_seconds = KUBE_GRACE_NOW};
	struct kube_error err;
	json_t *sent;
	struct ts_req r;

	ts_add(f->srv, &ok);
	assert_int_equal(kube_patch(f->c, "/p/a", KUBE_PATCH_MERGE, body, NULL, &err), 0);
	assert_int_equal(kube_patch(f->c, "/p/a", KUBE_PATCH_JSON, ops, NULL, &err), 0);
	assert_int_equal(kube_patch(f->c, "/p/a/status", KUBE_PATCH_APPLY, body, NULL, &err), 0);
	assert_int_equal(kube_delete(f->c, "/p/a", &dopt, NULL, &err), 0);
	assert_int_equal(kube_delete(f->c, "/p/b", NULL, NULL, &err), 0);
	r = ts_req_get(f->srv, 0);
	assert_string_equal(r.line, "PATCH /p/a HTTP/1.1");
	assert_non_null(strstr(r.head, "Content-Type: application/merge-patch+json\r\n"));
	r = ts_req_get(f->srv, 1);
	assert_non_null(strstr(r.head, "Content-Type: application/json-patch+json\r\n"));
	assert_string_equal(r.body, "[{\"op\":\"replace\",\"path\":\"/spec/n\",\"value\":1}]");
	r = ts_req_get(f->srv, 2);
	assert_string_equal(r.line, "PATCH /p/a/status?fieldManager=vigil&force=true HTTP/1.1");
	assert_non_null(strstr(r.head, "Content-Type: application/apply-patch+yaml\r\n"));
	r = ts_req_get(f->srv, 3);
	assert_string_equal(r.line, "DELETE /p/a HTTP/1.1");
	sent = json_loads(r.body, 0, NULL);
	assert_non_null(sent);
	assert_string_equal(json_string_value(json_object_get(sent, "propagationPolicy")),
			    "Foreground");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(sent, "preconditions"), "uid")),
	    "u-1");
	assert_int_equal(json_integer_value(json_object_get(sent, "gracePeriodSeconds")), 0);
	assert_non_null(json_object_get(sent, "gracePeriodSeconds"));
	json_decref(sent);
	r = ts_req_get(f->srv, 4);
	assert_string_equal(r.body, "");
	json_decref(body);
	json_decref(ops);
}

struct mcount {
	int get200, patch200;
};

static void count_fn(void *ctx, const char *verb, int code, uint64_t n)
{
	struct mcount *m = ctx;

	if (!strcmp(verb, "GET") && code == 200)
		m->get200 += (int)n;
	if (!strcmp(verb, "PATCH") && code == 200)
		m->patch200 += (int)n;
}

static void *getter(void *arg)
{
	struct kube_client *c = arg;
	long fails = 0;

	for (int i = 0; i < 10; i++) {
		json_t *out = NULL;

		if (kube_get(c, "/x/shared", &out, NULL) ||
		    json_integer_value(json_object_get(out, "v")) != 7)
			fails++;
		json_decref(out);
	}
	return (void *)fails;
}

static void test_threads_and_metrics(void **state)
{
	struct fixture *f = *state;
	struct ts_step ok = {
	    .match = "GET /x/shared", .status = 200, .chunks = {"{\"v\":7}"}, .repeat = true};
	struct mcount m = {0};
	pthread_t t[4];

	ts_add(f->srv, &ok);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, getter, f->c), 0);
	for (int i = 0; i < 4; i++) {
		void *fails;

		pthread_join(t[i], &fails);
		assert_int_equal((long)fails, 0);
	}
	kube_client_metrics_foreach(f->c, count_fn, &m);
	assert_int_equal(m.get200, 40);
	assert_int_equal(m.patch200, 0);
	assert_int_equal(ts_nreqs(f->srv), 40);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_429_retry_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_5xx_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_5xx_gives_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connection_error_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pagination, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_patch_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_and_metrics, setup, teardown),
	};
	return cmocka_run_group_tests_name("kube_client", tests, NULL, NULL);
}
