#!/usr/bin/env bash
# A healthy upgrade of the SensorFleet on the kwok nodes: install 1.0.0, upgrade to 1.1.0 node by
# node with make-before-break; every node ends on 1.1.0 with detection and no node was ever blind
# (every node's gap measured: 0 s).
. "$(dirname "$0")/lib.sh"

rl_sim_start 2
rl_op_start
rl_fleet 1.0.0
eventually 60 "install of 1.0.0 succeeded" rl_succeeded 1.0.0
eventually 10 "all $RL_N nodes on 1.0.0" rl_all_on 1.0.0
expect_eq "nodes with detection" "$(rl_get '{.status.nodes.withDetection}')" "$RL_N"
expect_eq "currentVersion" "$(rl_get '{.status.currentVersion}')" 1.0.0

start=$(date +%s)
rl_fleet 1.1.0
eventually 10 "rollout to 1.1.0 in progress" rl_result_is InProgress
expect_eq "Progressing" "$(rl_cond Progressing)" True
eventually $((30 + 10 * RL_N)) "rollout to 1.1.0 succeeded" rl_succeeded 1.1.0
echo "   healthy upgrade of $RL_N nodes took $(($(date +%s) - start))s"
eventually 10 "all $RL_N nodes on 1.1.0 only" rl_all_on 1.1.0
expect_eq "currentVersion" "$(rl_get '{.status.currentVersion}')" 1.1.0
expect_eq "nodes updated" "$(rl_get '{.status.nodes.updated}')" "$RL_N"
expect_eq "nodes with detection" "$(rl_get '{.status.nodes.withDetection}')" "$RL_N"
expect_eq "max coverage gap" "$(rl_get '{.status.lastRollout.maxGapSeconds}')" 0
expect_eq "total coverage gap" "$(rl_get '{.status.lastRollout.totalGapSeconds}')" 0
expect_eq "RolledBack" "$(rl_cond RolledBack)" False
expect_eq "Degraded" "$(rl_cond Degraded)" False
# every node's gap is measured (a series per node), and all are 0
series=$(curl -fsS "http://127.0.0.1:$RL_OP_PORT/metrics" | grep -c '^vigil_sensorfleet_node_rollout_gap_seconds{.*fleet="'$RNS'/fleet"')
[ "$series" -ge "$RL_N" ] && pass "per-node gap series: $series" || fail "per-node gap series: $series < $RL_N"
expect_eq "sum of per-node gaps" "$(rl_metric vigil_sensorfleet_node_rollout_gap_seconds)" 0
steps=$(rl_metric vigil_sensorfleet_rollout_steps_total)
[ "$steps" -ge $((2 * RL_N)) ] && pass "rollout steps counted: $steps" || fail "rollout steps: $steps"
# one DaemonSet per revision; the old one is gone
eventually 10 "old DaemonSet deleted" bash -c ". $E2E_ROOT/cluster/lib.sh; ! kc -n $RNS get daemonset vigil-sensor-$(rl_rev 1.0.0) >/dev/null 2>&1"
expect_eq "DaemonSets" "$(kc -n $RNS get daemonsets -o name | wc -l)" 1
kc -n $RNS get events --field-selector involvedObject.name=fleet -o jsonpath='{.items[*].reason}' | grep -q RolloutSucceeded &&
	pass "RolloutSucceeded event" || fail "no RolloutSucceeded event"
