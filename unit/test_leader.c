/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for operator/leader's pure decision logic over a Lease record and the local clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "operator/leader/leader.h"

static struct leader_record rec(const char *holder, const char *renew, int dur)
{
	struct leader_record r;

	memset(&r, 0, sizeof(r));
	strcpy(r.holder, holder);
	strcpy(r.renew_time, renew);
	r.duration_s = dur;
	return r;
}

static void test_create_when_absent(void **state)
{
	struct leader_observed obs = {0};

	assert_int_equal(leader_decide(NULL, &obs, "a", 0, 15000), LEADER_CREATE);
}

static void test_renew_own(void **state)
{
	struct leader_observed obs = {0};
	struct leader_record r = rec("a", "t1", 15);

	assert_int_equal(leader_decide(&r, &obs, "a", 1000, 15000), LEADER_RENEW);
	/* even long after: our own lease is renewed, never "taken over" */
	assert_int_equal(leader_decide(&r, &obs, "a", 100000, 15000), LEADER_RENEW);
}

static void test_follow_then_take_over(void **state)
{
	struct leader_observed obs = {0};
	struct leader_record r = rec("b", "t1", 15);

	/* first sight at t=1000: b's lease counts from then on our clock */
	assert_int_equal(leader_decide(&r, &obs, "a", 1000, 15000), LEADER_FOLLOW);
	assert_int_equal(leader_decide(&r, &obs, "a", 15999, 15000), LEADER_FOLLOW);
	/* b renews at t=10000 (renewTime changes): the expiry moves */
	r = rec("b", "t2", 15);
	assert_int_equal(leader_decide(&r, &obs, "a", 10000, 15000), LEADER_FOLLOW);
	assert_int_equal(leader_decide(&r, &obs, "a", 24999, 15000), LEADER_FOLLOW);
	/* no renew for 15 s of our time: expired */
	assert_int_equal(leader_decide(&r, &obs, "a", 25000, 15000), LEADER_TAKEOVER);
}

static void test_released_and_duration(void **state)
{
	struct leader_observed obs = {0};
	struct leader_record r = rec("", "t1", 1);

	assert_int_equal(leader_decide(&r, &obs, "a", 0, 15000), LEADER_TAKEOVER);
	/* a record without a duration uses ours */
	r = rec("b", "t1", 0);
	memset(&obs, 0, sizeof(obs));
	assert_int_equal(leader_decide(&r, &obs, "a", 0, 5000), LEADER_FOLLOW);
	assert_int_equal(leader_decide(&r, &obs, "a", 5000, 5000), LEADER_TAKEOVER);
}

static void test_step_down(void **state)
{
	assert_false(leader_must_step_down(1000, 10999, 10000));
	assert_true(leader_must_step_down(1000, 11000, 10000));
}

static void test_record_from_lease(void **state)
{
	json_t *lease = json_pack("{s:{s:s, s:s, s:i, s:i}}", "spec", "holderIdentity", "op-1",
				  "renewTime", "2026-12-03T13:00:00.000000Z",
				  "leaseDurationSeconds", 15, "leaseTransitions", 3);
	struct leader_record r;
	json_t *empty = json_object();

	assert_int_equal(leader_record_from_lease(lease, &r), 0);
	assert_string_equal(r.holder, "op-1");
	assert_string_equal(r.renew_time, "2026-12-03T13:00:00.000000Z");
	assert_int_equal(r.duration_s, 15);
	assert_int_equal(r.transitions, 3);
	assert_int_equal(leader_record_from_lease(empty, &r), -EINVAL);
	json_decref(lease);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_when_absent),
	    cmocka_unit_test(test_renew_own),
	    cmocka_unit_test(test_follow_then_take_over),
	    cmocka_unit_test(test_released_and_duration),
	    cmocka_unit_test(test_step_down),
	    cmocka_unit_test(test_record_from_lease),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
