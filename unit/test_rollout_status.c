/* SPDX-License-Identifier: Apache-2.0 */
/* rollout/status_json: RFC 3339 times and the SensorFleet status round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "operator/rollout/status_json.h"

static void test_time(void **state)
{
	int64_t ms = 0;
	char buf[32];

	assert_int_equal(rollout_time_parse("2026-12-03T13:00:00Z", &ms), 0);
	assert_true(ms == 1796302800000LL);
	assert_int_equal(rollout_time_parse("2026-12-03T13:00:00.25Z", &ms), 0);
	assert_true(ms == 1796302800250LL);
	assert_int_equal(rollout_time_parse("2026-12-03T14:00:00+01:00", &ms), 0);
	assert_true(ms == 1796302800000LL);
	ms = 7;
	assert_int_equal(rollout_time_parse("2026-12-03 13:00:00", &ms), -EINVAL);
	assert_int_equal(rollout_time_parse("2026-12-03T13:00:00", &ms), -EINVAL);
	assert_int_equal(rollout_time_parse("", &ms), -EINVAL);
	assert_int_equal(rollout_time_parse(NULL, &ms), -EINVAL);
	assert_true(ms == 7);
	rollout_time_format(1796302800999LL, buf);
	assert_string_equal(buf, "2026-12-03T13:00:00Z");
}

static void test_round_trip(void **state)
{
	struct rollout_status a, b;
	json_t *j, *j2;

	memset(&a, 0, sizeof(a));
	a.observed_generation = 4;
	strcpy(a.target_version, "2.0");
	strcpy(a.target_revision, "abcdef0123");
	strcpy(a.last_good_version, "1.0");
	strcpy(a.last_good_image, "vigil/sensor:1.0");
	strcpy(a.last_good_revision, "0123abcdef");
	strcpy(a.rolled_back_version, "2.0");
	strcpy(a.rolled_back_revision, "abcdef0123");
	a.nodes_total = 5;
	a.nodes_updated = 2;
	a.nodes_with_detection = 4;
	a.nodes_without_detection = 1;
	a.n_problems = 1;
	strcpy(a.problems[0].node, "node-1");
	strcpy(a.problems[0].reason, "VerifierRejected");
	a.problems[0].gap_seconds = 12;
	a.problems[0].since_ms = 1796302800000LL;
	strcpy(a.last.from_version, "1.0");
	strcpy(a.last.to_version, "2.0");
	a.last.start_ms = 1796302700000LL;
	a.last.max_gap_seconds = 12.5;
	a.last.total_gap_seconds = 30;
	a.last.result = ROLLOUT_ROLLING_BACK;
	a.conds[ROLLOUT_COND_ROLLED_BACK].status = ROLLOUT_TRUE;
	strcpy(a.conds[ROLLOUT_COND_ROLLED_BACK].reason, "CoverageLost");
	strcpy(a.conds[ROLLOUT_COND_ROLLED_BACK].message, "2 nodes ...");
	a.conds[ROLLOUT_COND_ROLLED_BACK].transition_ms = 1796302800000LL;
	a.conds[ROLLOUT_COND_ROLLED_BACK].observed_generation = 4;

	j = rollout_status_to_json(&a);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "lastRollout"), "result")),
	    "RollingBack");
	assert_true(
	    json_is_null(json_object_get(json_object_get(j, "lastRollout"), "completionTime")));
	assert_int_equal(json_array_size(json_object_get(j, "conditions")), 4);
	rollout_status_from_json(j, &b);
	assert_string_equal(b.last_good_image, "vigil/sensor:1.0");
	assert_string_equal(b.rolled_back_revision, "abcdef0123");
	assert_int_equal(b.nodes_with_detection, 4);
	assert_int_equal(b.n_problems, 1);
	assert_string_equal(b.problems[0].reason, "VerifierRejected");
	assert_true(b.problems[0].since_ms == 1796302800000LL);
	assert_true(b.problems[0].gap_seconds == 12);
	assert_true(b.last.max_gap_seconds == 12.5);
	assert_true(b.last.start_ms == 1796302700000LL);
	assert_int_equal(b.last.result, ROLLOUT_ROLLING_BACK);
	assert_int_equal(b.conds[ROLLOUT_COND_ROLLED_BACK].status, ROLLOUT_TRUE);
	assert_string_equal(b.conds[ROLLOUT_COND_ROLLED_BACK].reason, "CoverageLost");
	assert_true(b.conds[ROLLOUT_COND_ROLLED_BACK].transition_ms == 1796302800000LL);
	/* the API returns whole numbers as integers: the normalised form is still equal */
	json_object_set_new(json_object_get(j, "lastRollout"), "totalGapSeconds", json_integer(30));
	rollout_status_from_json(j, &b);
	j2 = rollout_status_to_json(&b);
	json_object_set_new(json_object_get(j, "lastRollout"), "totalGapSeconds", json_real(30));
	assert_true(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	/* not an object: zeroed */
	rollout_status_from_json(NULL, &b);
	assert_int_equal(b.nodes_total, 0);
	assert_string_equal(b.target_version, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_round_trip),
	};
	return cmocka_run_group_tests_name("rollout_status", tests, NULL, NULL);
}
