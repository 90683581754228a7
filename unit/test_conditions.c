/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/status/conditions: stable lastTransitionTime, observedGeneration, no-op diffs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "operator/status/conditions.h"

static const char *ltt(json_t *st, const char *type)
{
	return json_string_value(json_object_get(cond_find(st, type), "lastTransitionTime"));
}

static void test_transition_time_stable(void **state)
{
	json_t *st = json_object();

	assert_int_equal(cond_set(st, "Accepted", "True", "Valid", "3 rules", 1, "T1"), 1);
	assert_string_equal(ltt(st, "Accepted"), "T1");
	/* same everything: no change reported, time kept */
	assert_int_equal(cond_set(st, "Accepted", "True", "Valid", "3 rules", 1, "T2"), 0);
	assert_string_equal(ltt(st, "Accepted"), "T1");
	/* message and generation change: change reported, time still kept */
	assert_int_equal(cond_set(st, "Accepted", "True", "Valid", "4 rules", 2, "T3"), 1);
	assert_string_equal(ltt(st, "Accepted"), "T1");
	assert_int_equal(
	    json_integer_value(json_object_get(cond_find(st, "Accepted"), "observedGeneration")),
	    2);
	/* status value flips: time moves */
	assert_int_equal(cond_set(st, "Accepted", "False", "InvalidRules", "1:3: bad", 3, "T4"), 1);
	assert_string_equal(ltt(st, "Accepted"), "T4");
	assert_true(cond_is(st, "Accepted", "False"));
	assert_false(cond_is(st, "Accepted", "True"));
	assert_false(cond_is(st, "Applied", "True"));
	json_decref(st);
}

static void test_several_types(void **state)
{
	json_t *st = json_object();

	cond_set(st, "Accepted", "True", "Valid", "", 1, "T1");
	cond_set(st, "Applied", "Unknown", "Pending", "0/3", 1, "T1");
	assert_int_equal(json_array_size(json_object_get(st, "conditions")), 2);
	assert_int_equal(cond_set(st, "Applied", "True", "AllApplied", "3/3", 1, "T5"), 1);
	assert_string_equal(ltt(st, "Applied"), "T5");
	assert_string_equal(ltt(st, "Accepted"), "T1");
	assert_int_equal(json_array_size(json_object_get(st, "conditions")), 2);
	json_decref(st);
}

static void test_status_differs(void **state)
{
	json_t *obj =
	    json_pack("{s:{s:s}, s:{s:i, s:[{s:s, s:s, s:s, s:s, s:i, s:s}]}}", "metadata", "name",
		      "x", "status", "observedGeneration", 4, "conditions", "type", "Accepted",
		      "status", "True", "reason", "Valid", "message", "ok", "observedGeneration", 4,
		      "lastTransitionTime", "T0");
	json_t *st = cond_status_copy(obj), *empty;

	/* a reconcile that recomputes the same status writes nothing */
	assert_int_equal(cond_set(st, "Accepted", "True", "Valid", "ok", 4, "T9"), 0);
	assert_false(cond_status_differs(obj, st));
	/* the copy is deep: editing it does not touch the cached object */
	cond_set(st, "Accepted", "False", "InvalidRules", "x", 5, "T9");
	assert_true(cond_status_differs(obj, st));
	assert_true(cond_is(json_object_get(obj, "status"), "Accepted", "True"));
	json_decref(st);
	/* no status at all vs empty status */
	empty = json_object();
	st = cond_status_copy(empty);
	assert_false(cond_status_differs(empty, st));
	json_object_set_new(st, "ruleCount", json_integer(1));
	assert_true(cond_status_differs(empty, st));
	json_decref(st);
	json_decref(empty);
	json_decref(obj);
}

static void test_time_format(void **state)
{
	char buf[32];

	cond_time(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	cond_time(1796302800, buf);
	assert_string_equal(buf, "2026-12-03T13:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transition_time_stable),
	    cmocka_unit_test(test_several_types),
	    cmocka_unit_test(test_status_differs),
	    cmocka_unit_test(test_time_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
