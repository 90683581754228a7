/* SPDX-License-Identifier: Apache-2.0 */
/* Rollout state machine under faults: node deleted, node NotReady with a stuck pod, pause/resume,
 * a superseding spec, an operator restart in the middle. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rollout_world.h"

static void assert_cond(struct world *w, enum rollout_cond_type t, enum rollout_cond_status s,
			const char *reason)
{
	const struct rollout_cond *c = &w->status.conds[t];

	if (c->status != s || strcmp(c->reason, reason) != 0)
		fail_msg("condition %s: status %d reason %s message '%s', want %d %s",
			 rollout_cond_type_name(t), c->status, c->reason, c->message, s, reason);
}

static bool has_problem(struct world *w, const char *node, const char *reason)
{
	for (int i = 0; i < w->status.n_problems; i++)
		if (strcmp(w->status.problems[i].node, node) == 0 &&
		    strcmp(w->status.problems[i].reason, reason) == 0)
			return true;
	return false;
}

/* A node deleted while it is being moved (its new sensor never comes up) does not block the rollout
 * and is not blamed on the version. */
static void test_node_deleted(void **state)
{
	struct world *w = world_new(5);

	assert_true(world_install(w, "1.0"));
	world_override(w, "node-1", "2.0", -1);
	world_override(w, "node-3", "2.0", -1);
	world_set_version(w, "2.0");
	assert_false(world_run(w, 5, ROLLOUT_SUCCEEDED));
	assert_true(world_on(w, "node-1", "2.0"));
	world_node(w, "node-1")->present = false;
	assert_int_equal(world_tick(w, 1000), 0);
	/* the next node starts at once */
	assert_true(world_on(w, "node-2", "2.0"));
	assert_true(has_problem(w, "node-1", "NodeGone"));
	assert_int_equal(w->status.nodes_total, 4);
	/* node-3 fails too: that is one failing node, not two */
	assert_false(world_run(w, 400, ROLLOUT_SUCCEEDED));
	assert_null(world_event(w, "CoverageLost"));
	assert_true(world_on(w, "node-4", "2.0") && !world_on(w, "node-4", "1.0"));
	assert_true(has_problem(w, "node-3", "VerifierRejected"));
	assert_true(has_problem(w, "node-1", "NodeGone"));
	/* node-3 recovers (a retry of its pod loads fine): the rollout completes, node-1 forgotten
	 */
	w->over[1].delay_ms = 0;
	assert_true(world_run(w, 10, ROLLOUT_SUCCEEDED));
	assert_int_equal(world_tick(w, 1000), 0);
	assert_false(has_problem(w, "node-1", "NodeGone"));
	assert_int_equal(w->status.n_problems, 0);
	assert_string_equal(w->status.last_good_version, "2.0");
	world_free(w);
}

/* A node that goes NotReady mid-move: excluded from the budget and from maxParallel, reported
 * NodeNotReady, its old pod stuck Terminating is force-deleted once past its deadline, and when the
 * node comes back it is finished. */
static void test_node_not_ready(void **state)
{
	struct world *w = world_new(4);
	char r1[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("1.0", r1);
	w->spec.policy.make_before_break = false; /* the old pod is deleted as the node moves */
	world_override(w, "node-0", "2.0", 30000);
	int64_t t0 = w->now;

	world_set_version(w, "2.0");
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-0", "2.0") && !world_on(w, "node-0", "1.0"));
	world_node(w, "node-0")->ready = false; /* kubelet dies before the old pod is gone */
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-1", "2.0")); /* did not wait for the dead node */
	assert_true(has_problem(w, "node-0", "NodeNotReady"));
	assert_cond(w, ROLLOUT_COND_DEGRADED, ROLLOUT_TRUE, "NodeNotReady");
	/* the old pod on node-0 is stuck Terminating; deleted after its grace period (30 s) */
	bool stuck = false;

	for (int i = 0; i < w->n_pods; i++)
		stuck |= strcmp(w->pods[i].node, "node-0") == 0 && w->pods[i].terminating;
	assert_true(stuck);
	/* every Ready node done: the rollout is complete, node-0 stays reported */
	assert_true(world_run(w, 200, ROLLOUT_SUCCEEDED));
	assert_false(world_run(w, 60, ROLLOUT_NONE));
	assert_int_equal(world_count(w, ROLLOUT_ACT_DELETE_POD, NULL, NULL, t0), 1);
	for (int i = 0; i < w->n_pods; i++)
		assert_false(strcmp(w->pods[i].node, "node-0") == 0 && w->pods[i].terminating);
	assert_null(world_event(w, "CoverageLost"));
	assert_true(world_on(w, "node-3", "2.0"));
	assert_true(has_problem(w, "node-0", "NodeNotReady"));
	assert_cond(w, ROLLOUT_COND_AVAILABLE, ROLLOUT_TRUE, "AllNodesCovered");
	assert_non_null(strstr(w->status.conds[ROLLOUT_COND_AVAILABLE].message, "(1 not ready)"));
	assert_int_equal(w->status.nodes_without_detection, 1);
	/* back: it is finished in steady state; its wait restarts from now (no instant over-budget)
	 */
	world_node(w, "node-0")->ready = true;
	int64_t back = w->now;

	for (int i = 0; i < 40; i++)
		assert_int_equal(world_tick(w, 1000), 0);
	assert_true(w->now - back >= 30000);
	assert_true(world_on(w, "node-0", "2.0") && !world_on(w, "node-0", "1.0"));
	assert_int_equal(w->status.nodes_with_detection, 4);
	assert_int_equal(w->status.n_problems, 0);
	assert_cond(w, ROLLOUT_COND_DEGRADED, ROLLOUT_FALSE, "AsExpected");
	assert_null(world_event(w, "CoverageLost"));
	assert_string_equal(w->status.last_good_version, "2.0");
	world_free(w);
}

/* paused stops further moves (the node in flight finishes); resuming continues. */
static void test_pause_resume(void **state)
{
	struct world *w = world_new(5);
	char r2[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("2.0", r2);
	world_set_version(w, "2.0");
	assert_false(world_run(w, 5, ROLLOUT_SUCCEEDED)); /* node-0 done, node-1 started */
	assert_true(world_on(w, "node-1", "2.0"));
	w->spec.policy.paused = true;
	w->spec.generation++;
	int64_t tp = w->now;

	assert_false(world_run(w, 100, ROLLOUT_SUCCEEDED));
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, NULL, tp), 0);
	assert_true(world_on(w, "node-1", "2.0") && !world_on(w, "node-1", "1.0"));
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_FALSE, "Paused");
	assert_string_equal(w->status.conds[ROLLOUT_COND_PROGRESSING].message,
			    "2/5 nodes updated to 2.0");
	assert_non_null(world_event(w, "RolloutPaused"));
	assert_int_equal(w->status.last.result, ROLLOUT_IN_PROGRESS);

	w->spec.policy.paused = false;
	w->spec.generation++;
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-2", "2.0"));
	assert_non_null(world_event(w, "RolloutResumed"));
	assert_cond(w, ROLLOUT_COND_PROGRESSING, ROLLOUT_TRUE, "RollingOut");
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_int_equal(w->max_blind, 0);
	world_free(w);
}

/* A new version mid-rollout supersedes it without widening the number of moving/blind nodes. */
static void test_superseding_spec(void **state)
{
	struct world *w = world_new(5);
	char r2[ROLLOUT_REV_LEN], r3[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("2.0", r2);
	world_rev("3.0", r3);
	world_override(w, "node-1", "2.0", 60000); /* node-1 slow on 2.0: still in flight */
	world_set_version(w, "2.0");
	assert_false(world_run(w, 10, ROLLOUT_SUCCEEDED));
	assert_true(world_on(w, "node-0", "2.0") && !world_on(w, "node-0", "1.0"));
	assert_true(world_on(w, "node-1", "2.0") && world_on(w, "node-1", "1.0"));
	int64_t t1 = w->now;

	world_set_version(w, "3.0");
	assert_int_equal(world_tick(w, 1000), 0);
	const struct wlog *ev = world_event(w, "RolloutSuperseded");

	assert_non_null(ev);
	assert_string_equal(ev->msg, "rollout to 2.0 superseded by 3.0");
	/* node-1's 2.0 sensor is dropped (1.0 still covers it); one node starts 3.0 */
	assert_false(world_on(w, "node-1", "2.0"));
	assert_true(world_on(w, "node-1", "1.0"));
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r3, NULL, t1), 1);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r3, "node-0", t1), 1);
	assert_string_equal(w->status.last.from_version, "1.0");
	assert_string_equal(w->status.last.to_version, "3.0");
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_int_equal(w->max_blind, 0);
	assert_int_equal(w->max_moving, 1);
	for (int i = 0; i < 5; i++) {
		char name[24];

		snprintf(name, sizeof(name), "node-%d", i);
		assert_int_equal(world_n_sensor_labels(w, name), 1);
		assert_true(world_on(w, name, "3.0"));
	}
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, NULL, t1), 0);
	assert_string_equal(w->status.last_good_version, "3.0");
	world_free(w);
}

/* Superseding without make-before-break: the blind node in flight is moved straight to the newest
 * version; never more than maxParallel blind nodes. */
static void test_superseding_bbm(void **state)
{
	struct world *w = world_new(4);

	assert_true(world_install(w, "1.0"));
	w->spec.policy.make_before_break = false;
	world_override(w, "node-1", "2.0", 60000);
	world_set_version(w, "2.0");
	assert_false(world_run(w, 10, ROLLOUT_SUCCEEDED));
	assert_true(world_on(w, "node-1", "2.0") && !world_on(w, "node-1", "1.0"));
	world_set_version(w, "3.0");
	assert_int_equal(world_tick(w, 1000), 0);
	assert_true(world_on(w, "node-1", "3.0") && !world_on(w, "node-1", "2.0"));
	assert_false(world_on(w, "node-0", "3.0")); /* the slot is taken by node-1 */
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_int_equal(w->max_blind, 1);
	world_free(w);
}

/* The operator restarts mid-rollout: a new tracker and the status + labels from the cluster are
 * enough to continue without redoing nodes; the gap clock continues too. */
static void test_restart_mid_rollout(void **state)
{
	struct world *w = world_new(5);
	char r2[ROLLOUT_REV_LEN];

	assert_true(world_install(w, "1.0"));
	world_rev("2.0", r2);
	world_override(w, "node-2", "2.0", 20000);
	int64_t t0 = w->now;

	world_set_version(w, "2.0");
	assert_false(world_run(w, 15, ROLLOUT_SUCCEEDED));
	assert_true(world_on(w, "node-2", "2.0") && world_on(w, "node-2", "1.0"));
	int64_t moved2 = world_labelled_at(w, "2.0", "node-2", t0);

	/* crash: all memory lost; status and labels stay in the "cluster" */
	rollout_tracker_free(w->tr);
	w->tr = rollout_tracker_new();
	w->now += 3000; /* the new leader takes a moment */
	int64_t tr = w->now;

	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, "node-0", tr), 0);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, "node-1", tr), 0);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, "node-2", tr), 0);
	assert_int_equal(world_count(w, ROLLOUT_ACT_LABEL_NODE, r2, "node-3", tr), 1);
	/* node-3 starts once node-2 detects: 20 s after node-2's move, however long the restart */
	int64_t at3 = world_labelled_at(w, "2.0", "node-3", tr);

	assert_true(at3 - moved2 >= 20000 && at3 - moved2 <= 22000);
	for (int i = 0; i < w->n_log; i++)
		assert_false(w->log[i].at >= tr && w->log[i].kind == ROLLOUT_ACT_EVENT &&
			     strcmp(w->log[i].reason, "RolloutStarted") == 0);
	assert_int_equal(w->max_blind, 0);
	assert_string_equal(w->status.last_good_version, "2.0");
	world_free(w);
}

/* Restart while a node is over budget: the wait clock comes from the node label's value, so the
 * rollback is not delayed by the restart. */
static void test_restart_keeps_budget_clock(void **state)
{
	struct world *w = world_new(4);

	assert_true(world_install(w, "1.0"));
	w->spec.policy.gap_budget_seconds = 10;
	world_set_version(w, "2.0-bad");
	assert_false(
	    world_run(w, 15, ROLLOUT_ROLLING_BACK)); /* node-0 over budget, node-1 moving */
	assert_true(world_on(w, "node-1", "2.0-bad"));
	int64_t moved1 = world_labelled_at(w, "2.0-bad", "node-1", 0);

	rollout_tracker_free(w->tr);
	w->tr = rollout_tracker_new();
	assert_true(world_run(w, 30, ROLLOUT_ROLLING_BACK));
	assert_true(w->now - moved1 > 10000 && w->now - moved1 <= 12000);
	assert_true(world_run(w, 30, ROLLOUT_ROLLED_BACK));
	assert_int_equal(w->max_blind, 0);
	world_free(w);
}

/* Restart during a break-before-make rollout with a blind node: its gap is restored from status. */
static void test_restart_keeps_gap(void **state)
{
	struct world *w = world_new(3);

	assert_true(world_install(w, "1.0"));
	w->spec.policy.make_before_break = false;
	for (int i = 0; i < 3; i++) {
		char name[24];

		snprintf(name, sizeof(name), "node-%d", i);
		world_override(w, name, "2.0", 10000);
	}
	world_set_version(w, "2.0");
	assert_false(world_run(w, 6, ROLLOUT_SUCCEEDED));
	rollout_tracker_free(w->tr);
	w->tr = rollout_tracker_new();
	assert_true(world_run(w, 60, ROLLOUT_SUCCEEDED));
	/* three blind windows of ~10 s each, the first cut by the restart but fully counted */
	assert_true(w->status.last.max_gap_seconds >= 10 && w->status.last.max_gap_seconds <= 11);
	assert_true(w->status.last.total_gap_seconds >= 29 &&
		    w->status.last.total_gap_seconds <= 33);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_deleted),
	    cmocka_unit_test(test_node_not_ready),
	    cmocka_unit_test(test_pause_resume),
	    cmocka_unit_test(test_superseding_spec),
	    cmocka_unit_test(test_superseding_bbm),
	    cmocka_unit_test(test_restart_mid_rollout),
	    cmocka_unit_test(test_restart_keeps_budget_clock),
	    cmocka_unit_test(test_restart_keeps_gap),
	};
	return cmocka_run_group_tests_name("rollout_faults", tests, NULL, NULL);
}
