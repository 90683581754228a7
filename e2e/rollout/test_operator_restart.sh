#!/usr/bin/env bash
# The operator is killed (SIGKILL) in the middle of a rollout; a new one picks it up from the status and
# the node labels: nodes already updated are not redone, the rollout completes, coverage never lost.
. "$(dirname "$0")/lib.sh"

rl_sim_start 4
rl_op_start
rl_fleet 1.0.0
eventually 60 "install of 1.0.0 succeeded" rl_succeeded 1.0.0

rl_fleet 1.1.0
# (status.nodes.updated still counts the previous rollout until the operator took up the new spec)
rl_updated_ge() {
	[ "$(rl_get '{.status.targetVersion}')" = 1.1.0 ] &&
		[ "$(rl_get '{.status.nodes.updated}')" -ge "$1" ] 2>/dev/null
}
eventually 60 "two nodes updated to 1.1.0" rl_updated_ge 2
rl_op_kill KILL
pass "operator killed mid-rollout ($(rl_get '{.status.nodes.updated}')/$RL_N updated)"
rev=$(rl_rev 1.1.0)
# the move time of every node already on 1.1.0 (label value): must not change
before=$(kc get nodes -l "vigil.dev/sensor-$rev" -o json |
	jq -r --arg k "vigil.dev/sensor-$rev" '.items[] | .metadata.name + "=" + .metadata.labels[$k]' | sort)
echo "$before" | sed 's/^/   on 1.1.0 before restart: /'
sleep 3
rl_op_start
pass "new operator started"
eventually $((40 + 10 * RL_N)) "rollout to 1.1.0 succeeded" rl_succeeded 1.1.0
eventually 10 "all $RL_N nodes on 1.1.0 only" rl_all_on 1.1.0
after=$(kc get nodes -o json |
	jq -r --arg k "vigil.dev/sensor-$rev" '.items[] | select(.metadata.labels[$k]) | .metadata.name + "=" + .metadata.labels[$k]' | sort)
while read -r line; do
	[ -z "$line" ] && continue
	echo "$after" | grep -qx "$line" && pass "not redone: $line" || fail "redone after restart: $line"
done <<<"$before"
started=$(kc -n $RNS get events --field-selector involvedObject.name=fleet,reason=RolloutStarted -o json |
	jq '[.items[] | select(.message | contains("1.1.0")) | .count // 1] | add')
expect_eq "RolloutStarted events for 1.1.0" "$started" 1
expect_eq "max coverage gap" "$(rl_get '{.status.lastRollout.maxGapSeconds}')" 0
expect_eq "nodes with detection" "$(rl_get '{.status.nodes.withDetection}')" "$RL_N"
