#!/usr/bin/env bash
# A version whose probe never loads (the verifier rejects it): after the gap budget (10 s) runs out on
# a second node the operator rolls back by itself; every node ends on the old version with detection,
# RolledBack=True reason CoverageLost names the nodes, and the bad version is not retried.
. "$(dirname "$0")/lib.sh"

RL_BUDGET=10
rl_sim_start 2
rl_op_start
rl_fleet 1.0.0
eventually 60 "install of 1.0.0 succeeded" rl_succeeded 1.0.0

start=$(date +%s)
rl_fleet 1.1.0-bad
eventually 10 "rollout to 1.1.0-bad in progress" rl_result_is InProgress
rl_rolled_back() { [ "$(rl_cond RolledBack)" = True ]; }
eventually 90 "automatic rollback" rl_rolled_back
took=$(($(date +%s) - start))
echo "   rollback decided ${took}s after the bad version was applied (budget ${RL_BUDGET}s per node)"
[ $took -ge $((2 * RL_BUDGET)) ] && pass "not before two nodes were over budget" || fail "rolled back after ${took}s"
expect_eq "RolledBack reason" "$(rl_get '{.status.conditions[?(@.type=="RolledBack")].reason}')" CoverageLost
msg=$(rl_get '{.status.conditions[?(@.type=="RolledBack")].message}')
echo "   RolledBack: $msg"
first=$(echo "$RL_NODES" | sed -n 1p)
second=$(echo "$RL_NODES" | sed -n 2p)
case "$msg" in *"$first (VerifierRejected"*"$second (VerifierRejected"*) pass "message names $first and $second" ;;
*) fail "message does not name the nodes: $msg" ;; esac
expect_eq "rolledBackVersion" "$(rl_get '{.status.rolledBackVersion}')" 1.1.0-bad
eventually 60 "rollback complete" rl_result_is RolledBack
eventually 10 "all $RL_N nodes back on 1.0.0 only" rl_all_on 1.0.0
eventually 10 "all $RL_N nodes with detection" rl_covered "$RL_N"
expect_eq "Available" "$(rl_cond Available)" True
expect_eq "currentVersion" "$(rl_get '{.status.currentVersion}')" 1.0.0
expect_eq "lastGoodVersion" "$(rl_get '{.status.lastGoodVersion}')" 1.0.0
# make-before-break kept the old sensor running on the nodes the bad one failed on
expect_eq "max coverage gap" "$(rl_get '{.status.lastRollout.maxGapSeconds}')" 0
expect_eq "rollbacks counted" "$(rl_metric vigil_sensorfleet_rollbacks_total)" 1
kc -n $RNS get events --field-selector involvedObject.name=fleet,type=Warning -o jsonpath='{.items[*].reason}' |
	grep -q CoverageLost && pass "Warning event CoverageLost" || fail "no CoverageLost event"
# never retried while the spec names it
bad=$(rl_rev 1.1.0-bad)
sleep $((RL_BUDGET + 5))
labelled=$(kc get nodes -l "vigil.dev/sensor-$bad" -o name | wc -l)
expect_eq "nodes labelled for the bad version $((RL_BUDGET + 5))s later" "$labelled" 0
expect_eq "still RolledBack" "$(rl_get '{.status.lastRollout.result}')" RolledBack
# a new version clears it and rolls out
rl_fleet 1.2.0
eventually $((30 + 10 * RL_N)) "rollout to 1.2.0 succeeded" rl_succeeded 1.2.0
expect_eq "RolledBack after a new version" "$(rl_cond RolledBack)" False
