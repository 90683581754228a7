/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/controller: workers reconcile only while leading; done / requeue-after /
 * retry / terminal outcomes; metrics counted. No informers (no API server needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kube/client.h"
#include "lib/kube/config.h"
#include "operator/controller/controller.h"
#include "operator/metrics/metrics.h"

struct fake {
	pthread_mutex_t lock;
	int calls_ok, calls_retry, calls_after, calls_terminal;
	int retry_until; /* the "retry" key succeeds on this call */
};

static struct ctl_result fake_reconcile(void *ctx, const char *key)
{
	struct fake *f = ctx;
	struct ctl_result r = CTL_RESULT_DONE;

	pthread_mutex_lock(&f->lock);
	if (strcmp(key, "ok") == 0) {
		f->calls_ok++;
	} else if (strcmp(key, "retry") == 0) {
		if (++f->calls_retry < f->retry_until)
			r = CTL_RESULT_RETRY;
	} else if (strcmp(key, "after") == 0) {
		if (++f->calls_after < 3)
			r = CTL_RESULT_AFTER(20);
	} else if (strcmp(key, "terminal") == 0) {
		f->calls_terminal++;
		r = CTL_RESULT_TERMINAL;
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int get(struct fake *f, int *field)
{
	int v;

	pthread_mutex_lock(&f->lock);
	v = *field;
	pthread_mutex_unlock(&f->lock);
	return v;
}

static void test_workers(void **state)
{
	struct kube_config *cfg = calloc(1, sizeof(*cfg));
	struct kube_client *client = NULL;
	struct metrics *mx = metrics_new();
	struct ctl_manager *m;
	struct ctl_controller *c;
	struct fake f = {.retry_until = 4};

	pthread_mutex_init(&f.lock, NULL);
	cfg->server = strdup("https://127.0.0.1:1");
	assert_int_equal(kube_client_new(cfg, NULL, &client), 0);
	m = ctl_manager_new(&(struct ctl_manager_opts){.client = client, .metrics = mx});
	c = ctl_register(m, &(struct ctl_controller_opts){.name = "fake",
							  .reconcile = fake_reconcile,
							  .ctx = &f,
							  .workers = 2,
							  .base_ms = 5});
	assert_non_null(c);
	assert_int_equal(ctl_manager_start(m, 1000), 0);
	assert_true(ctl_manager_synced(m));
	/* registration is closed once started */
	assert_null(ctl_register(
	    m, &(struct ctl_controller_opts){.name = "late", .reconcile = fake_reconcile}));

	/* not leading: keys wait */
	ctl_enqueue(c, "ok");
	sleep_ms(150);
	assert_int_equal(get(&f, &f.calls_ok), 0);

	ctl_manager_set_leading(m, true);
	for (int i = 0; i < 100 && get(&f, &f.calls_ok) < 1; i++)
		sleep_ms(10);
	assert_int_equal(get(&f, &f.calls_ok), 1);

	ctl_enqueue(c, "retry");
	ctl_enqueue(c, "after");
	ctl_enqueue(c, "terminal");
	for (int i = 0; i < 300 && (get(&f, &f.calls_retry) < 4 || get(&f, &f.calls_after) < 3);
	     i++)
		sleep_ms(10);
	sleep_ms(100);
	/* retried with backoff until success, then forgotten: exactly retry_until calls */
	assert_int_equal(get(&f, &f.calls_retry), 4);
	/* requeued after 20 ms twice, then done */
	assert_int_equal(get(&f, &f.calls_after), 3);
	/* terminal: once, never retried */
	assert_int_equal(get(&f, &f.calls_terminal), 1);
	assert_true(metrics_value(mx, "vigil_reconcile_total",
				  "controller=\"fake\",result=\"retry\"") == 3);
	assert_true(metrics_value(mx, "vigil_reconcile_total",
				  "controller=\"fake\",result=\"terminal\"") == 1);
	assert_true(metrics_value(mx, "vigil_reconcile_errors_total", "controller=\"fake\"") == 4);
	assert_true(metrics_value(mx, "vigil_reconcile_duration_seconds", "controller=\"fake\"") ==
		    9); /* ok + 4 retry + 3 after + terminal */

	/* losing leadership stops reconciles at once */
	ctl_manager_set_leading(m, false);
	sleep_ms(100);
	ctl_enqueue(c, "ok");
	sleep_ms(200);
	assert_int_equal(get(&f, &f.calls_ok), 1);

	ctl_manager_free(m);
	metrics_free(mx);
	kube_client_free(client);
	pthread_mutex_destroy(&f.lock);
}

static void test_trim_sensornode(void **state)
{
	json_t *sn = json_pack(
	    "{s:s, s:s, s:{s:s, s:s, s:{s:s}, s:[]}, s:{s:s, s:[s], s:I, "
	    "s:[{s:s, s:s, s:s, s:i}]}}",
	    "apiVersion", "vigil.dev/v1alpha1", "kind", "SensorNode", "metadata", "name", "n1",
	    "resourceVersion", "7", "annotations", "a", "b", "managedFields", "status", "rulesHash",
	    "abc", "capabilities", "CAP_BPF", "eventsTotal", (json_int_t)5, "conditions", "type",
	    "Ready", "status", "True", "reason", "Loaded", "observedGeneration", 2);
	json_t *st, *cnd;

	ctl_trim_sensornode(NULL, sn);
	st = json_object_get(sn, "status");
	assert_string_equal(json_string_value(json_object_get(st, "rulesHash")), "abc");
	assert_null(json_object_get(st, "capabilities"));
	assert_null(json_object_get(st, "eventsTotal"));
	assert_null(json_object_get(json_object_get(sn, "metadata"), "annotations"));
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(sn, "metadata"), "resourceVersion")),
	    "7");
	cnd = json_array_get(json_object_get(st, "conditions"), 0);
	assert_string_equal(json_string_value(json_object_get(cnd, "reason")), "Loaded");
	assert_null(json_object_get(cnd, "observedGeneration"));
	json_decref(sn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_workers),
	    cmocka_unit_test(test_trim_sensornode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
