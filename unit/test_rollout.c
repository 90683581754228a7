/* SPDX-License-Identifier: Apache-2.0 */
/* Rollout state machine: happy path, canary order, slow node, one failing node, rollback. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rollout_world.h"

static const struct rollout_cond *cond(struct world *w, enum rollout_cond_type t)
{
	return &w->status.conds[t];
}

static void assert_cond(struct world *w, enum rollout_cond_type t, enum rollout_cond_status s,
			const char *reason)
{
	const struct rollout_cond *c = cond(w, t);

	if (c->status != s || strcmp(c->reason, reason) != 0)
		fail_msg("condition %s: status %d reason %s message '%s', want %d %s",
			 rollout_cond_type_name(t), c->status, c->reason, c->message, s, reason);
}

static void test_revision_id(void **state)
{
	char a[ROLLOUT_REV_LEN], b[ROLLOUT_REV_LEN], c[ROLLOUT_REV_LEN];

	rollout_revision_id("ns/f", "1.0", "img:1", a);
	rollout_revision_id("ns/f", "1.0", "img:1", b);
	rollout_revision_id("ns/f", "1.0", "img:2", c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), 10);
	rollout_revision_id(NULL, "ab", "c", a);
	rollout_revision_id(NULL, "a", "bc", b);
	assert_string_not_equal(a, b);
	/* two fleets on the same version never share a DaemonSet or node label */
	rollout_revision_id("ns/a", "1.0", "img:1", a);
	rollout_revision_id("ns/b", "1.0", "img:1", b);
	assert_string_not_equal(a, b);
	assert_int_equal(rollout_result_parse("RollingBack"), ROLLOUT_ROLLING_BACK);
	assert_int_equal(rollout_result_parse("nope"), ROLLOUT_NONE);
	assert_string_equal(rollout_result_name(ROLLOUT_SUCCEEDED), "Succeeded");
}

static void test_bad_args(void **state)
{
	struct rollout_plan plan = {0};
	struct rollout_input in = {0};
	struct rollout_tracker *t = rollout_tracker_new();

	assert_int_equal(rollout_step(t, &in, &plan), -EINVAL);
	assert_int_equal(rollout_step(NULL, &in, &plan), -EINVAL);
	rollout_plan_release(&plan);
	rollout_plan_release(NULL);
	rollout_tracker_free(t);
	rollout_tracker_free(NULL);
}

/* First install: every node gets the sensor at once (nothing to keep), then Available. */
static void test_install(void **state)
{
	struct world *w = world_new(5);
	char rev[ROLLOUT_REV_LEN];

	world_set_version(w, "1.0");
	world_rev("1.0", rev);
	assert_int_equal(world_tick(w, 1000), 0);
	assert_int_equal(world_count(w, ROLLOUT_ACT_ENSURE_REVISION, rev, NULL, 0), 1);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, rev, NULL, 0), 5);
	assert_non_null(world_event(w, "RolloutStarted"));
	/* the DaemonSet is ensured before any node is labelled for it */
	int first_ensure = -1, first_label = -1;

	for (int i = w->n_log - 1; i >= 0; i--) {
		if (w->log[i].kind == ROLLOUT_ACT_ENSURE_REVISION)
			first_ensure = i;
		if (w->log[i].kind == ROLLOUT_ACT_LABEL_NODE)
			first_label = i;
	}
	assert_true(first_ensure >= 0 && first_ensure < first_label);
	assert_int_equal(w->status.last.result, ROLLOUT_IN_PROGRESS);
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_FALSE, "NodesWithoutDetection");
	assert_true(world_run(w, 30, ROLLOUT_SUCCEEDED));
	assert_string_equal(w->status.last_good_version, "1.0");
	assert_string_equal(w->status.last_good_revision, rev);
	assert_string_equal(w->status.current_version, "1.0");
	assert_int_equal(w->status.nodes_total, 5);
	assert_int_equal(w->status.nodes_with_detection, 5);
	assert_int_equal(w->status.nodes_updated, 5);
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered");
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "RolloutComplete");
	assert_cond(w, ROLLOUT_COND_DEGRADED, ROLLOUT_FALSE, "AsExpected");
	assert_cond(w, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_FALSE, "NotRolledBack");
	/* a first install measures no coverage gap: there was no coverage to lose */
	assert_true(w->status.last.total_gap_seconds == 0);
	/* steady state: nothing more to do but keep the DaemonSet */
	int n = w->n_log;

	assert_int_equal(world_tick(w, 1000), 0);
	for (int i = n; i < w->n_log; i++)
		assert_int_equal(w->log[i].kind, ROLLOUT_ACT_ENSURE_REVISION);
	world_free(w);
}

/* Happy path: node by node in name order, make-before-break, never blind, gaps 0. */
static void test_happy_path(void **state)
{
	struct world *w = world_new(5);
	char r1[ROLLOUT_REV_LEN], r2[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("1.0", r1);
	world_rev("2.0", r2);
	int64_t t0 = w->now;

	w->max_blind = w->max_moving = 0;
	world_set_version(w, "2.0");
	assert_int_equal(world_tick(w, 1000), 0);
	/* one node at a time, the first by name */
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, NULL, t0), 1);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, "node-0", t0), 1);
	assert_int_equal(world_count(w, ROLLOUT_ACT_UNLABEL_NODE, r1, NULL, t0), 0);
	assert_true(world_on(w, "node-0", "1.0") && world_on(w, "node-0", "2.0"));
	assert_int_equal(w->status.last.result, ROLLOUT_IN_PROGRESS);
	assert_string_equal(w->status.last.from_version, "1.0");
	assert_string_equal(w->status.last.to_version, "2.0");
	assert_string_equal(w->status.target_version, "2.0");
	assert_string_equal(w->status.current_version, "");
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_TRUE, "RollingOut");
	assert_string_equal(cond(w, ROLLOUT_COND_PROGRESSING)->message, "0/5 nodes updated to 2.0");
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered");

	/* the old sensor stops only after the new one detects (3 s) */
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-0", "1.0"));
	assert_int_equal(world_tick(w, 1000), 0);
	assert_int_equal(world_tick(w, 1000), 0);
	assert_false(world_on(w, "node-0", "1.0"));
	assert_true(world_on(w, "node-0", "2.0"));
	assert_true(world_on(w, "node-1", "2.0"));
	assert_string_equal(cond(w, ROLLOUT_COND_PROGRESSING)->message, "1/5 nodes updated to 2.0");

	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	int64_t prev = 0;

	for (int i = 0; i < 5; i++) {
		char name[24];

		snprintf(name, sizeof(name), "node-%d", i);
		int64_t at = world_labelled_at(w, "2.0", name, t0);

		assert_true(at > prev); /* strictly ordered, one after the other */
		prev = at;
		assert_false(world_on(w, name, "1.0"));
		assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, name, t0), 1);
	}
	assert_int_equal(w->max_blind, 0);
	assert_int_equal(w->max_moving, 1);
	assert_string_equal(w->status.last_good_version, "2.0");
	assert_string_equal(w->status.current_version, "2.0");
	assert_true(w->status.last.max_gap_seconds == 0);
	assert_true(w->status.last.total_gap_seconds == 0);
	assert_true(w->status.last.completion_ms > w->status.last.start_ms);
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "RolloutComplete");
	assert_string_equal(cond(w, ROLLOUT_COND_PROGRESSING)->message, "5/5 nodes updated to 2.0");
	const struct wlog *ev = world_event(w, "RolloutSucceeded");

	assert_non_null(ev);
	assert_non_null(strstr(ev->msg, "5/5 nodes on 2.0"));
	/* the old DaemonSet goes once no node uses it */
	assert_true(world_tick(w, 1000) == 0);
	assert_int_equal(world_count(w, ROLLOUT_ACT_DELETE_REVISION, r1, NULL, t0), 1);
	assert_null(world_ds_version(w, r1));
	world_free(w);
}

/* maxParallel and canary: canary nodes first, then by name, never more than maxParallel moving. */
static void test_canary_parallel(void **state)
{
	struct world *w = world_new(6);

	assert_true(world_install(w, "1.0"));
	wnode_set_label(world_node(w, "node-4"), "pool", "canary");
	wnode_set_label(world_node(w, "node-2"), "pool", "canary");
	w->canary[0] = (struct rollout_kv){"pool", "canary"};
	w->spec.policy.max_parallel = 2;
	int64_t t0 = w->now;

	w->max_moving = 0;
	world_set_version(w, "2.0");
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-2", "2.0"));
	assert_true(world_on(w, "node-4", "2.0"));
	assert_false(world_on(w, "node-0", "2.0"));
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_int_equal(w->max_moving, 2);
	assert_true(world_labelled_at(w, "2.0", "node-0", t0) >
		    world_labelled_at(w, "2.0", "node-4", t0));
	assert_true(world_labelled_at(w, "2.0", "node-0", t0) ==
		    world_labelled_at(w, "2.0", "node-1", t0));
	assert_true(world_labelled_at(w, "2.0", "node-3", t0) ==
		    world_labelled_at(w, "2.0", "node-5", t0));
	assert_true(world_labelled_at(w, "2.0", "node-3", t0) >
		    world_labelled_at(w, "2.0", "node-1", t0));
	world_free(w);
}

/* A slow node (60 s, within the 120 s budget) holds the rollout back but is no failure. */
static void test_slow_node(void **state)
{
	struct world *w = world_new(5);

	assert_true(world_install(w, "1.0"));
	world_override(w, "node-2", "2.0", 60000);
	int64_t t0 = w->now;

	world_set_version(w, "2.0");
	assert_true(world_run(w, 300, ROLLOUT_SUCCEEDED));
	int64_t at2 = world_labelled_at(w, "2.0", "node-2", t0);
	int64_t at3 = world_labelled_at(w, "2.0", "node-3", t0);

	assert_true(at3 - at2 >= 60000);
	assert_true(at3 - at2 <= 62000);
	assert_int_equal(w->max_blind, 0);
	assert_null(world_event(w, "CoverageLost"));
	assert_string_equal(w->status.last_good_version, "2.0");
	assert_cond(w, ROLLOUT_COND_DEGRADED, ROLLOUT_FALSE, "AsExpected");
	world_free(w);
}

/* One node whose probe never loads: over budget it frees its slot, the rollout goes on, no rollback
 * (1 node is within maxNodesWithoutDetection=1); the node keeps the old sensor (still covered). */
static void test_one_node_failing(void **state)
{
	struct world *w = world_new(5);

	assert_true(world_install(w, "1.0"));
	world_override(w, "node-1", "2.0", -1);
	int64_t t0 = w->now;

	world_set_version(w, "2.0");
	assert_false(world_run(w, 100, ROLLOUT_SUCCEEDED));
	/* within the budget: waits, nothing else moves */
	assert_int_equal(world_labelled_at(w, "2.0", "node-2", t0), 0);
	assert_int_equal(w->status.n_problems, 0);
	assert_false(world_run(w, 200, ROLLOUT_SUCCEEDED));
	int64_t at1 = world_labelled_at(w, "2.0", "node-1", t0);
	int64_t at2 = world_labelled_at(w, "2.0", "node-2", t0);

	assert_true(at2 - at1 > 120000);
	assert_true(at2 - at1 <= 122000);
	assert_true(world_on(w, "node-4", "2.0") && !world_on(w, "node-4", "1.0"));
	assert_null(world_event(w, "CoverageLost"));
	assert_int_equal(world_count(w, ROLLOUT_ACT_ROLLBACK, NULL, NULL, 0), 0);
	assert_int_equal(w->status.last.result, ROLLOUT_IN_PROGRESS);
	assert_string_equal(w->status.last_good_version, "1.0");
	assert_true(world_on(w, "node-1", "1.0") && world_on(w, "node-1", "2.0"));
	assert_int_equal(w->max_blind, 0);
	assert_int_equal(w->status.nodes_updated, 4);
	assert_int_equal(w->status.nodes_with_detection, 5);
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered");
	assert_cond(w, ROLLOUT_COND_DEGRADED, ROLLOUT_TRUE, "VerifierRejected");
	assert_non_null(
	    strstr(cond(w, ROLLOUT_COND_DEGRADED)->message, "node-1 (VerifierRejected"));
	assert_int_equal(w->status.n_problems, 1);
	assert_string_equal(w->status.problems[0].node, "node-1");
	assert_string_equal(w->status.problems[0].reason, "VerifierRejected");
	assert_true(w->status.problems[0].gap_seconds == 0); /* the old sensor still covers it */
	assert_int_equal(w->status.problems[0].since_ms, at1 / 1000 * 1000);
	assert_string_equal(cond(w, ROLLOUT_COND_PROGRESSING)->message, "4/5 nodes updated to 2.0");
	world_free(w);
}

/* Two nodes over budget: automatic rollback, every node back on 1.0 with detection, 2.0 not
 * retried until the spec changes. */
static void test_rollback(void **state)
{
	struct world *w = world_new(5);
	char r1[ROLLOUT_REV_LEN], r2[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("1.0", r1);
	world_rev("2.0-bad", r2);
	world_override(w, "node-0", "2.0-bad", 2000); /* loads on node-0, fails elsewhere */
	int64_t t0 = w->now;

	world_set_version(w, "2.0-bad");
	assert_true(world_run(w, 400, ROLLOUT_ROLLING_BACK));
	int64_t at1 = world_labelled_at(w, "2.0-bad", "node-1", t0);
	int64_t at2 = world_labelled_at(w, "2.0-bad", "node-2", t0);

	/* node-2 is moved once node-1 is over budget; rollback once node-2 is over budget too */
	assert_true(at2 - at1 > 120000 && at2 - at1 <= 122000);
	assert_true(w->now - at2 > 120000 && w->now - at2 <= 121000);
	assert_int_equal(world_count(w, ROLLOUT_ACT_ROLLBACK, r1, NULL, t0), 1);
	const struct wlog *ev = world_event(w, "CoverageLost");

	assert_non_null(ev);
	assert_true(ev->warning);
	assert_non_null(strstr(ev->msg, "node-1 (VerifierRejected, 2"));
	assert_non_null(strstr(ev->msg, "node-2 (VerifierRejected, 121s)"));
	assert_string_equal(w->status.rolled_back_version, "2.0-bad");
	assert_string_equal(w->status.rolled_back_revision, r2);
	assert_cond(w, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_TRUE, "CoverageLost");
	assert_non_null(strstr(cond(w, ROLLOUT_COND_ROLLED_BACK)->message, "node-2"));
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_TRUE, "RollingBack");
	/* the failed nodes still had 1.0: dropping 2.0 is immediate, the rollback's first actions
	 * are in the same step as the decision */
	assert_int_equal(world_count(w, ROLLOUT_ACT_UNLABEL_NODE, r2, "node-1", w->now), 1);
	assert_int_equal(world_count(w, ROLLOUT_ACT_UNLABEL_NODE, r2, "node-2", w->now), 1);

	assert_true(world_run(w, 60, ROLLOUT_ROLLED_BACK));
	for (int i = 0; i < 5; i++) {
		char name[24];

		snprintf(name, sizeof(name), "node-%d", i);
		assert_true(world_on(w, name, "1.0"));
		assert_false(world_on(w, name, "2.0-bad"));
	}
	/* node-0 had been updated: it came back with make-before-break, so no gap */
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r1, "node-0", t0), 1);
	assert_int_equal(w->max_blind, 0);
	assert_int_equal(w->status.nodes_with_detection, 5);
	assert_string_equal(w->status.current_version, "1.0");
	assert_string_equal(w->status.last_good_version, "1.0");
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "RolledBack");
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered");
	assert_cond(w, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_TRUE, "CoverageLost");
	assert_non_null(world_event(w, "RollbackComplete"));

	/* never retried while the spec stays; a spec change (even unrelated policy) keeps it so */
	int64_t t1 = w->now;

	w->spec.policy.max_parallel = 3;
	w->spec.generation++;
	assert_false(world_run(w, 300, ROLLOUT_IN_PROGRESS));
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, NULL, t1), 0);
	assert_int_equal(w->status.last.result, ROLLOUT_ROLLED_BACK);
	/* a new version clears it */
	world_set_version(w, "3.0");
	assert_int_equal(world_tick(w, 1000), 0);
	assert_cond(w, ROLLOUT_COND_ROLLED_BACK, ROLLOUT_FALSE, "NotRolledBack");
	assert_string_equal(w->status.rolled_back_version, "");
	assert_string_equal(w->status.last.from_version, "1.0");
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_string_equal(w->status.last_good_version, "3.0");
	world_free(w);
}

/* Without make-before-break the node is blind while the new sensor starts: the gap is measured. */
static void test_break_before_make_gaps(void **state)
{
	struct world *w = world_new(4);

	assert_true(world_install(w, "1.0"));
	w->spec.policy.make_before_break = false;
	for (int i = 0; i < 4; i++) {
		char name[24];

		snprintf(name, sizeof(name), "node-%d", i);
		world_override(w, name, "2.0", 5000);
	}
	world_set_version(w, "2.0");
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-0", "2.0"));
	assert_false(world_on(w, "node-0", "1.0"));
	assert_true(world_run(w, 120, ROLLOUT_SUCCEEDED));
	assert_int_equal(w->max_blind, 1);
	/* each node blind from the move to the first step that sees the new sensor detect: 5-6 s */
	assert_true(w->status.last.max_gap_seconds >= 5 && w->status.last.max_gap_seconds <= 6);
	assert_true(w->status.last.total_gap_seconds >= 20 &&
		    w->status.last.total_gap_seconds <= 24);
	const struct wlog *ev = world_event(w, "RolloutSucceeded");

	assert_non_null(ev);
	assert_non_null(strstr(ev->msg, "coverage gap max"));
	world_free(w);
}

/* A new sensor pod that can't be placed beside the old one (stays Pending) falls back to
 * break-before-make after half the budget; the gap is measured. Driven by hand (pod phases). */
static void test_mbb_fallback(void **state)
{
	struct rollout_tracker *t = rollout_tracker_new();
	struct rollout_spec spec = {
	    .driver_version = "2.0", .image = "img:2", .heartbeat_seconds = 10, .generation = 2};
	struct rollout_status prev = {0};
	char r1[ROLLOUT_REV_LEN], r2[ROLLOUT_REV_LEN], k1[64], k2[64];
	int64_t now = W_T0;

	rollout_policy_init(&spec.policy);
	spec.policy.gap_budget_seconds = 20;
	rollout_revision_id(NULL, "1.0", "img:1", r1);
	rollout_revision_id(NULL, "2.0", "img:2", r2);
	snprintf(k1, sizeof(k1), ROLLOUT_NODE_LABEL_PREFIX "%s", r1);
	snprintf(k2, sizeof(k2), ROLLOUT_NODE_LABEL_PREFIX "%s", r2);
	/* persisted: 1.0 was good, a rollout to 2.0 started 5 s ago and node a was moved then */
	strcpy(prev.last_good_revision, r1);
	strcpy(prev.last_good_version, "1.0");
	strcpy(prev.last_good_image, "img:1");
	strcpy(prev.target_revision, r2);
	strcpy(prev.target_version, "2.0");
	prev.last.result = ROLLOUT_IN_PROGRESS;
	prev.last.start_ms = now - 5000;
	char moved[24];

	snprintf(moved, sizeof(moved), "%lld", (long long)(now - 5000) / 1000);
	struct rollout_kv la[] = {{k1, "1700000000"}, {k2, moved}};
	struct rollout_node node = {
	    .name = "a", .labels = la, .n_labels = 2, .ready = true, .targeted = true};
	struct rollout_pod pods[] = {
	    {.name = "p1", .node = "a", .rev = r1, .phase = ROLLOUT_POD_RUNNING},
	    {.name = "p2", .node = "a", .rev = r2, .phase = ROLLOUT_POD_PENDING},
	};
	struct rollout_report rep = {.node = "a",
				     .pod = "p1",
				     .driver_version = "1.0",
				     .probe_loaded = true,
				     .rules_loaded = true,
				     .events_flowing = true,
				     .heartbeat_ms = now,
				     .heartbeat_seconds = 10};
	struct rollout_input in = {.spec = &spec,
				   .prev = &prev,
				   .nodes = &node,
				   .n_nodes = 1,
				   .pods = pods,
				   .n_pods = 2,
				   .reports = &rep,
				   .n_reports = 1,
				   .now_ms = now};
	struct rollout_plan plan;

	assert_int_equal(rollout_step(t, &in, &plan), 0);
	for (size_t i = 0; i < plan.n_actions; i++)
		assert_int_not_equal(plan.actions[i].kind, ROLLOUT_ACT_UNLABEL_NODE);
	assert_true(plan.recheck_ms == now - 5000 + 10000); /* half the budget after the move */
	prev = plan.status;
	rollout_plan_release(&plan);

	now += 5000;
	rep.heartbeat_ms = now;
	in.now_ms = now;
	assert_int_equal(rollout_step(t, &in, &plan), 0);
	bool unlabelled = false, event = false;

	for (size_t i = 0; i < plan.n_actions; i++) {
		unlabelled |= plan.actions[i].kind == ROLLOUT_ACT_UNLABEL_NODE &&
			      strcmp(plan.actions[i].rev, r1) == 0;
		event |= plan.actions[i].kind == ROLLOUT_ACT_EVENT &&
			 strcmp(plan.actions[i].reason, "MakeBeforeBreakUnavailable") == 0;
	}
	assert_true(unlabelled);
	assert_true(event);
	rollout_plan_release(&plan);
	rollout_tracker_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_revision_id),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_install),
	    cmocka_unit_test(test_happy_path),
	    cmocka_unit_test(test_canary_parallel),
	    cmocka_unit_test(test_slow_node),
	    cmocka_unit_test(test_one_node_failing),
	    cmocka_unit_test(test_rollback),
	    cmocka_unit_test(test_break_before_make_gaps),
	    cmocka_unit_test(test_mbb_fallback),
	};
	return cmocka_run_group_tests_name("rollout", tests, NULL, NULL);
}
