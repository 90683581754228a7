/* SPDX-License-Identifier: Apache-2.0 */
/* sensor/report against the scripted local API server (unit/kube_testsrv.h): creates a missing
 * SensorNode then writes its status; re-reads and retries on 409 Conflict; keeps the server's
 * lastTransitionTime after a restart. */
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
#include "sensor/report/report.h"

#define OBJ(rv)                                                                                    \
	"{\"apiVersion\":\"vigil.dev/v1alpha1\",\"kind\":\"SensorNode\",\"metadata\":{\"name\":"   \
	"\"n1\",\"resourceVersion\":\"" rv "\"},\"spec\":{\"nodeName\":\"n1\"}}"
#define PATH "/apis/vigil.dev/v1alpha1/sensornodes/n1"

struct fixture {
	struct ts_server *srv;
	struct kube_client *c;
	struct health_snapshot s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	struct kube_client_opts o = {.backoff_base_ms = 10, .backoff_max_ms = 100};

	f->srv = ts_start();
	if (!f->srv || !cfg || asprintf(&cfg->server, "http://127.0.0.1:%d", f->srv->port) < 0)
		return -1;
	cfg->ns = strdup("default");
	if (kube_client_new(cfg, &o, &f->c))
		return -1;
	snprintf(f->s.node, sizeof(f->s.node), "n1");
	snprintf(f->s.driver_version, sizeof(f->s.driver_version), "0.1.0");
	snprintf(f->s.probe_reason, sizeof(f->s.probe_reason), "BTFNotAvailable");
	snprintf(f->s.probe_message, sizeof(f->s.probe_message), "BTF /x: ENOENT");
	snprintf(f->s.rules_reason, sizeof(f->s.rules_reason), "NoRules");
	f->s.events_window_s = 10;
	f->s.now_ns = 1700000000ull * 1000000000ull;
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

static json_t *body_of(struct ts_server *s, int i)
{
	struct ts_req r = ts_req_get(s, i);

	return json_loads(r.body, 0, NULL);
}

static void test_create_then_status(void **state)
{
	struct fixture *f = *state;
	struct ts_step get404 = {.match = "GET " PATH " ",
				 .status = 404,
				 .chunks = {"{\"kind\":\"Status\",\"status\":\"Failure\","
					    "\"reason\":\"NotFound\",\"code\":404}"}};
	struct ts_step post = {.match = "POST /apis/vigil.dev/v1alpha1/sensornodes ",
			       .status = 201,
			       .chunks = {OBJ("1")}};
	struct ts_step put = {.match = "PUT " PATH "/status ", .status = 200, .chunks = {OBJ("2")}};
	struct report_state *st = report_state_new("n1");
	struct kube_error err;
	json_t *b;

	ts_add(f->srv, &get404);
	ts_add(f->srv, &post);
	ts_add(f->srv, &put);
	assert_int_equal(report_write(f->c, st, &f->s, &err), 0);
	assert_int_equal(ts_nreqs(f->srv), 3);
	b = body_of(f->srv, 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "spec"), "nodeName")), "n1");
	json_decref(b);
	b = body_of(f->srv, 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "metadata"), "resourceVersion")),
	    "1");
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(b, "status"), "conditions"), 0),
		"reason")),
	    "BTFNotAvailable");
	json_decref(b);
	report_state_free(st);
}

static void test_conflict_retries(void **state)
{
	struct fixture *f = *state;
	struct ts_step get1 = {.match = "GET " PATH " ", .status = 200, .chunks = {OBJ("1")}};
	struct ts_step put409 = {.match = "PUT " PATH "/status ",
				 .status = 409,
				 .chunks = {"{\"kind\":\"Status\",\"status\":\"Failure\","
					    "\"reason\":\"Conflict\",\"code\":409}"}};
	struct ts_step get2 = {.match = "GET " PATH " ", .status = 200, .chunks = {OBJ("7")}};
	struct ts_step put = {.match = "PUT " PATH "/status ", .status = 200, .chunks = {OBJ("8")}};
	struct report_state *st = report_state_new("n1");
	struct kube_error err;
	json_t *b;

	ts_add(f->srv, &get1);
	ts_add(f->srv, &put409);
	ts_add(f->srv, &get2);
	ts_add(f->srv, &put);
	assert_int_equal(report_write(f->c, st, &f->s, &err), 0);
	assert_int_equal(ts_nreqs(f->srv), 4);
	b = body_of(f->srv, 3);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "metadata"), "resourceVersion")),
	    "7");
	json_decref(b);
	report_state_free(st);
}

static void test_keeps_server_transition_time(void **state)
{
	struct fixture *f = *state;
	struct ts_step get = {
	    .match = "GET " PATH " ",
	    .status = 200,
	    .chunks = {"{\"metadata\":{\"name\":\"n1\",\"resourceVersion\":\"3\"},\"status\":{"
		       "\"conditions\":[{\"type\":\"ProbeLoaded\",\"status\":\"False\","
		       "\"reason\":\"BTFNotAvailable\","
		       "\"lastTransitionTime\":\"2020-02-02T00:00:00Z\"}]}}"}};
	struct ts_step put = {.match = "PUT " PATH "/status ", .status = 200, .chunks = {OBJ("4")}};
	struct report_state *st = report_state_new("n1");
	struct kube_error err;
	json_t *b, *c;
	size_t i;

	ts_add(f->srv, &get);
	ts_add(f->srv, &put);
	assert_int_equal(report_write(f->c, st, &f->s, &err), 0);
	b = body_of(f->srv, 1);
	json_array_foreach(json_object_get(json_object_get(b, "status"), "conditions"), i, c)
	{
		if (!strcmp(json_string_value(json_object_get(c, "type")), "ProbeLoaded"))
			assert_string_equal(
			    json_string_value(json_object_get(c, "lastTransitionTime")),
			    "2020-02-02T00:00:00Z");
	}
	json_decref(b);
	report_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_then_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conflict_retries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keeps_server_transition_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
