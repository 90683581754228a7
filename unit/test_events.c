/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/events: the Event body built for an object. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "operator/events/events.h"

static const char *s(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);

	return json_string_value(path2 ? json_object_get(v, path2) : v);
}

static void test_build_namespaced(void **state)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion",
				"vigil.dev/v1alpha1", "kind", "RuleSet", "metadata", "name", "base",
				"namespace", "team-a", "uid", "u-1", "resourceVersion", "42");
	json_t *ev = evrec_build(obj, "base.1", "Warning", "InvalidRules", "1:3: bad",
				 "vigil-operator", "op-1", "2026-12-03T13:00:00Z");

	assert_non_null(ev);
	assert_string_equal(s(ev, "metadata", "namespace"), "team-a");
	assert_string_equal(s(ev, "metadata", "name"), "base.1");
	assert_string_equal(s(ev, "involvedObject", "kind"), "RuleSet");
	assert_string_equal(s(ev, "involvedObject", "uid"), "u-1");
	assert_string_equal(s(ev, "involvedObject", "namespace"), "team-a");
	assert_string_equal(s(ev, "involvedObject", "apiVersion"), "vigil.dev/v1alpha1");
	assert_string_equal(s(ev, "type", NULL), "Warning");
	assert_string_equal(s(ev, "reason", NULL), "InvalidRules");
	assert_string_equal(s(ev, "message", NULL), "1:3: bad");
	assert_int_equal(json_integer_value(json_object_get(ev, "count")), 1);
	assert_string_equal(s(ev, "source", "component"), "vigil-operator");
	assert_string_equal(s(ev, "lastTimestamp", NULL), "2026-12-03T13:00:00Z");
	json_decref(ev);
	json_decref(obj);
}

static void test_build_cluster_scoped(void **state)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "vigil.dev/v1alpha1",
				"kind", "SensorNode", "metadata", "name", "node-1", "uid", "u-2");
	json_t *ev = evrec_build(obj, "node-1.1", "Normal", "Seen", "m", "c", "i", "T");

	assert_string_equal(s(ev, "metadata", "namespace"), "default");
	assert_null(json_object_get(json_object_get(ev, "involvedObject"), "namespace"));
	json_decref(ev);
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_namespaced),
	    cmocka_unit_test(test_build_cluster_scoped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
