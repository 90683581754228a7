/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/metrics: Prometheus text output of counters, gauges, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "operator/metrics/metrics.h"

static void depth(void *ctx, struct metrics *m)
{
	metrics_gauge_set(m, "q_depth", "", *(int *)ctx);
}

static void test_render(void **state)
{
	struct metrics *m = metrics_new();
	int d = 7;
	char *text;
	size_t len;

	metrics_describe(m, "reconcile_total", "counter", "Reconciles.");
	metrics_counter_add(m, "reconcile_total", "result=\"done\"", 1);
	metrics_counter_add(m, "reconcile_total", "result=\"done\"", 2);
	metrics_counter_add(m, "reconcile_total", "result=\"error\"", 1);
	metrics_observe(m, "dur_seconds", "c=\"x\"", 0.003);
	metrics_observe(m, "dur_seconds", "c=\"x\"", 0.2);
	metrics_on_render(m, depth, &d);
	assert_int_equal(metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(
	    strstr(text, "# HELP reconcile_total Reconciles.\n# TYPE reconcile_total counter\n"));
	assert_non_null(strstr(text, "reconcile_total{result=\"done\"} 3\n"));
	assert_non_null(strstr(text, "reconcile_total{result=\"error\"} 1\n"));
	assert_non_null(strstr(text, "dur_seconds_bucket{c=\"x\",le=\"0.001\"} 0\n"));
	assert_non_null(strstr(text, "dur_seconds_bucket{c=\"x\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(text, "dur_seconds_bucket{c=\"x\",le=\"0.25\"} 2\n"));
	assert_non_null(strstr(text, "dur_seconds_bucket{c=\"x\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "dur_seconds_count{c=\"x\"} 2\n"));
	assert_non_null(strstr(text, "# TYPE q_depth gauge\nq_depth 7\n"));
	free(text);
	assert_true(metrics_value(m, "reconcile_total", "result=\"done\"") == 3);
	assert_true(metrics_value(m, "dur_seconds", "c=\"x\"") == 2);
	assert_true(metrics_value(m, "nothing", "") == 0);
	metrics_free(m);
	metrics_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
