/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for sensor/health (readiness, metrics text, HTTP endpoints), sensor/report (SensorNode
 * status from a snapshot: conditions, reasons, stable lastTransitionTime) and sensor/output (the
 * HTTP sink's retries, bounded queue and drop counter against a local server; the file sink). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/httpd/httpd.h"
#include "sensor/health/health.h"
#include "sensor/output/output.h"
#include "sensor/report/report.h"

#define SEC 1000000000ull

static void base(struct health_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->node, sizeof(s->node), "node-1");
	snprintf(s->driver_version, sizeof(s->driver_version), "0.1.0");
	snprintf(s->kernel_release, sizeof(s->kernel_release), "6.1.0");
	s->events_window_s = 10;
	s->heartbeat_s = 10;
	s->buffer_preset = 4;
	s->probe_attached = true;
	snprintf(s->probe_reason, sizeof(s->probe_reason), "Loaded");
	snprintf(s->probe_message, sizeof(s->probe_message), "probe attached");
	s->btf_present = true;
	snprintf(s->caps_held, sizeof(s->caps_held), "CAP_BPF,CAP_PERFMON");
	s->rules_active = s->rules_loaded = true;
	snprintf(s->rules_reason, sizeof(s->rules_reason), "Loaded");
	snprintf(s->rules_hash, sizeof(s->rules_hash), "abc");
	s->rule_count = 3;
	s->now_ns = 1700000000 * SEC;
	s->last_event_ns = s->now_ns - 2 * SEC;
}

static void test_ready(void **state)
{
	struct health_snapshot s;
	char why[256];

	base(&s);
	assert_true(health_ready(&s, why, sizeof(why)));
	s.last_event_ns = s.now_ns - 11 * SEC;
	assert_false(health_ready(&s, why, sizeof(why)));
	assert_string_equal(why, "no events in the last 10 s");
	base(&s);
	s.rules_loaded = false; /* a failed reload with the last good set active: still ready */
	assert_true(health_ready(&s, NULL, 0));
	s.rules_active = false;
	assert_false(health_ready(&s, NULL, 0));
	base(&s);
	s.probe_attached = false;
	snprintf(s.probe_reason, sizeof(s.probe_reason), "BTFNotAvailable");
	snprintf(s.probe_message, sizeof(s.probe_message), "BTF /x: ENOENT");
	assert_false(health_ready(&s, why, sizeof(why)));
	assert_string_equal(why, "probe not attached: BTFNotAvailable: BTF /x: ENOENT");
}

static json_t *cond(json_t *status, const char *type)
{
	json_t *c;
	size_t i;

	json_array_foreach(
	    json_object_get(status, "conditions"), i,
	    c) if (!strcmp(json_string_value(json_object_get(c, "type")), type)) return c;
	return NULL;
}

static const char *cs(json_t *status, const char *type, const char *key)
{
	return json_string_value(json_object_get(cond(status, type), key));
}

static void test_report_conditions(void **state)
{
	struct report_state *st = report_state_new("node-1");
	struct health_snapshot s;
	json_t *j;

	base(&s);
	j = report_build_status(st, &s);
	assert_string_equal(cs(j, "Ready", "status"), "True");
	assert_string_equal(cs(j, "ProbeLoaded", "reason"), "Loaded");
	assert_string_equal(cs(j, "RulesLoaded", "message"), "3 rules, hash abc");
	assert_string_equal(cs(j, "EventsFlowing", "status"), "True");
	assert_string_equal(cs(j, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(j, "lastHeartbeatTime")),
			    "2023-11-14T22:13:20Z");
	assert_int_equal(json_integer_value(json_object_get(j, "ruleCount")), 3);
	assert_int_equal(json_array_size(json_object_get(j, "capabilities")), 2);
	assert_true(json_is_true(json_object_get(j, "btfPresent")));
	json_decref(j);

	/* 30 s later, nothing changed: transition times stay, the heartbeat moves */
	s.now_ns += 30 * SEC;
	s.last_event_ns = s.now_ns - SEC;
	j = report_build_status(st, &s);
	assert_string_equal(cs(j, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
	assert_string_equal(json_string_value(json_object_get(j, "lastHeartbeatTime")),
			    "2023-11-14T22:13:50Z");
	json_decref(j);

	/* a failed reload: RulesLoaded False/InvalidRules with the location; Ready stays */
	s.now_ns += 10 * SEC;
	s.last_event_ns = s.now_ns - SEC;
	s.rules_loaded = false;
	snprintf(s.rules_reason, sizeof(s.rules_reason), "InvalidRules");
	snprintf(s.rules_message, sizeof(s.rules_message), "/r/b.yaml:3:36: unknown field");
	j = report_build_status(st, &s);
	assert_string_equal(cs(j, "RulesLoaded", "status"), "False");
	assert_string_equal(cs(j, "RulesLoaded", "reason"), "InvalidRules");
	assert_non_null(strstr(cs(j, "RulesLoaded", "message"), "/r/b.yaml:3:36: unknown field"));
	assert_string_equal(cs(j, "RulesLoaded", "lastTransitionTime"), "2023-11-14T22:14:00Z");
	assert_string_equal(cs(j, "Ready", "status"), "True");
	assert_string_equal(cs(j, "Ready", "lastTransitionTime"), "2023-11-14T22:13:20Z");
	json_decref(j);

	/* the probe gone: reasons carried to ProbeLoaded and Ready; no events */
	s.now_ns += 10 * SEC;
	s.probe_attached = false;
	snprintf(s.probe_reason, sizeof(s.probe_reason), "MissingCapabilities");
	snprintf(s.probe_message, sizeof(s.probe_message), "missing capabilities: CAP_BPF");
	snprintf(s.probe_fix, sizeof(s.probe_fix), "grant CAP_BPF");
	j = report_build_status(st, &s);
	assert_string_equal(cs(j, "ProbeLoaded", "reason"), "MissingCapabilities");
	assert_string_equal(cs(j, "ProbeLoaded", "message"),
			    "missing capabilities: CAP_BPF. Fix: grant CAP_BPF");
	assert_string_equal(cs(j, "Ready", "status"), "False");
	assert_string_equal(cs(j, "Ready", "reason"), "MissingCapabilities");
	assert_string_equal(cs(j, "Ready", "lastTransitionTime"), "2023-11-14T22:14:10Z");
	assert_string_equal(cs(j, "EventsFlowing", "reason"), "NoEvents");
	json_decref(j);
	report_state_free(st);
}

static void test_report_seed(void **state)
{
	struct report_state *st = report_state_new("n");
	struct health_snapshot s;
	json_t *prev = json_loads("[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Ready\","
				  "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"},"
				  "{\"type\":\"ProbeLoaded\",\"status\":\"False\","
				  "\"lastTransitionTime\":\"2020-01-01T00:00:00Z\"}]",
				  0, NULL),
	       *j;

	report_state_seed(st, prev);
	base(&s);
	j = report_build_status(st, &s);
	assert_string_equal(cs(j, "Ready", "lastTransitionTime"), "2020-01-01T00:00:00Z");
	assert_string_equal(cs(j, "ProbeLoaded", "lastTransitionTime"), "2023-11-14T22:13:20Z");
	json_decref(j);
	json_decref(prev);
	report_state_free(st);
}

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
	return sz * n;
}

static void test_metrics_and_http(void **state)
{
	struct health_snapshot id;
	struct health *h;
	uint64_t drops[2] = {0, 7};
	char *text, url[128];
	size_t len;
	CURL *c;
	long code = 0;

	base(&id);
	h = health_new(&id);
	health_set_probe(h, true, "Loaded", "ok", "", true, "CAP_BPF", "", 8 << 20);
	health_set_rules(h, true, true, "Loaded", "", "feed", 2);
	health_set_counters(h, 100, 7, drops, 2);
	health_count_alert(h, "Shell \"x\"", "CRITICAL");
	health_count_alert(h, "Shell \"x\"", "CRITICAL");
	health_mark_event(h, health_now_ns());
	assert_int_equal(health_metrics_render(h, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\nvigil_sensor_events_total 100\n"));
	assert_non_null(strstr(text, "\nvigil_sensor_drops_total 7\n"));
	assert_non_null(strstr(text, "\nvigil_sensor_cpu_drops_total{cpu=\"1\"} 7\n"));
	assert_non_null(strstr(text, "vigil_sensor_alerts_total{rule=\"Shell \\\"x\\\"\",priority="
				     "\"CRITICAL\"} 2\n"));
	assert_non_null(strstr(text, "vigil_sensor_rules_info{hash=\"feed\"} 1\n"));
	assert_non_null(strstr(text, "vigil_sensor_probe_state{reason=\"Loaded\"} 1\n"));
	assert_non_null(strstr(text, "vigil_sensor_ring_buffer_bytes 8388608\n"));
	assert_non_null(strstr(text, "vigil_sensor_ready 1\n"));
	free(text);

	assert_int_equal(health_serve(h, "127.0.0.1:0"), 0);
	assert_true(health_port(h) > 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/readyz", health_port(h));
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 200);
	health_set_probe(h, false, "VerifierRejected", "rejected", "", true, "", "", 0);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	assert_int_equal(code, 503);
	curl_easy_cleanup(c);
	health_free(h);
}

/* ---- outputs ---- */

struct sink_srv {
	pthread_mutex_t lock;
	int fail_first; /* answer 500 to this many requests first */
	int requests;
	int ok;
	char last[256];
};

static int on_post(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct sink_srv *s = arg;
	int code;

	pthread_mutex_lock(&s->lock);
	s->requests++;
	code = s->requests <= s->fail_first ? 500 : 200;
	if (code == 200) {
		s->ok++;
		snprintf(s->last, sizeof(s->last), "%s|%s", req->content_type, req->body);
	}
	pthread_mutex_unlock(&s->lock);
	return httpd_resp_set(resp, code, "text/plain", "", 0);
}

static void test_http_output_retries(void **state)
{
	struct sink_srv s = {.lock = PTHREAD_MUTEX_INITIALIZER, .fail_first = 2};
	struct httpd_opts ho = {.addr = "127.0.0.1:0"};
	struct output_http_opts oo = {.backoff_base_ms = 20, .max_attempts = 5};
	struct httpd *srv;
	struct output *o;
	char url[128];
	int i;

	assert_int_equal(httpd_new(&ho, &srv), 0);
	assert_int_equal(httpd_route(srv, "POST", "/", on_post, &s), 0);
	assert_int_equal(httpd_start(srv), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", httpd_port(srv));
	assert_int_equal(output_open_http(url, &oo, &o), 0);
	assert_int_equal(output_emit(o, "{\"rule\":\"a\"}", 12), 0);
	for (i = 0; i < 200 && output_delivered(o) < 1; i++)
		usleep(10000);
	assert_int_equal(output_delivered(o), 1);
	assert_int_equal(output_drops(o), 0);
	pthread_mutex_lock(&s.lock);
	assert_int_equal(s.requests, 3); /* two 500s, then delivered */
	assert_string_equal(s.last, "application/json|{\"rule\":\"a\"}");
	pthread_mutex_unlock(&s.lock);
	output_close(o);
	httpd_free(srv);
}

static void test_http_output_drops(void **state)
{
	struct output_http_opts oo = {.queue_len = 4,
				      .max_attempts = 2,
				      .backoff_base_ms = 10,
				      .timeout_ms = 200,
				      .drain_ms = 100};
	struct output *o;
	int i, full = 0;

	/* nothing listens on port 1: every attempt fails fast */
	assert_int_equal(output_open_http("http://127.0.0.1:1/", &oo, &o), 0);
	for (i = 0; i < 20; i++)
		if (output_emit(o, "{}", 2) == -ENOBUFS)
			full++;
	assert_true(full > 0); /* the queue is bounded */
	for (i = 0; i < 300 && output_drops(o) < 20; i++)
		usleep(10000);
	assert_int_equal(output_drops(o),
			 20); /* every alert is either queued-then-dropped or refused */
	assert_int_equal(output_delivered(o), 0);
	output_close(o);
}

static void test_file_output(void **state)
{
	char path[] = "/tmp/vigil-test-out.XXXXXX", spec[64], buf[64] = {0};
	struct output *o;
	FILE *f;
	int fd = mkstemp(path);

	close(fd);
	snprintf(spec, sizeof(spec), "file:%s", path);
	assert_int_equal(output_open(spec, &o), 0);
	assert_int_equal(output_emit(o, "{\"a\":1}", 7), 0);
	assert_int_equal(output_emit(o, "{\"b\":2}", 7), 0);
	assert_int_equal(output_delivered(o), 2);
	output_close(o);
	f = fopen(path, "r");
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), 16);
	fclose(f);
	assert_string_equal(buf, "{\"a\":1}\n{\"b\":2}\n");
	unlink(path);
	assert_int_equal(output_open("carrier-pigeon:x", &o), -EINVAL);
	output_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ready),
	    cmocka_unit_test(test_report_conditions),
	    cmocka_unit_test(test_report_seed),
	    cmocka_unit_test(test_metrics_and_http),
	    cmocka_unit_test(test_http_output_retries),
	    cmocka_unit_test(test_http_output_drops),
	    cmocka_unit_test(test_file_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
