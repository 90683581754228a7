#!/usr/bin/env bash
# Against the local cluster: the sensor creates and keeps updating its SensorNode through the
# status subresource; conditions and reasons follow the probe and the rules (BTFNotAvailable,
# MissingCapabilities, InvalidRules with FILE:LINE:COL); lastTransitionTime moves only when a
# status changes; `kubectl get sensornodes` shows the node.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"

cluster_running || fail "the local cluster is not running (make cluster-up)"
NODES=()
cleanup_nodes() {
	local n
	for n in "${NODES[@]}"; do
		kc delete sensornode "$n" --ignore-not-found >/dev/null 2>&1
	done
	sensor_cleanup
}
trap cleanup_nodes EXIT

# cond NODE TYPE FIELD: a condition's field (status, reason, message, lastTransitionTime).
cond() {
	kc get sensornode "$1" -o json 2>/dev/null |
		jq -r --arg t "$2" --arg f "$3" '.status.conditions[]? | select(.type == $t) | .[$f]'
}
cond_is() { [ "$(cond "$1" "$2" status)/$(cond "$1" "$2" reason)" = "$3" ]; }
field() { kc get sensornode "$1" -o json 2>/dev/null | jq -r ".status.$2"; }

# 1. a healthy sensor
node=vigil-e2e-sensor-ok
NODES+=("$node")
kc delete sensornode "$node" --ignore-not-found >/dev/null 2>&1
sensor_start -r "$RULES_DIR/production-db.yaml" --node-name "$node" --heartbeat 2 \
	--kubeconfig "$KUBECONFIG_OUT" --driver-version 0.1.0-e2e
eventually 20 "SensorNode $node: Ready True" cond_is "$node" Ready True/Ready
expect_eq "ProbeLoaded" "$(cond $node ProbeLoaded status)/$(cond $node ProbeLoaded reason)" True/Loaded
expect_eq "RulesLoaded" "$(cond $node RulesLoaded status)/$(cond $node RulesLoaded reason)" True/Loaded
expect_eq "EventsFlowing" "$(cond $node EventsFlowing status)" True
expect_eq "driverVersion" "$(field $node driverVersion)" 0.1.0-e2e
expect_eq "kernelRelease" "$(field $node kernelRelease)" "$(uname -r)"
expect_eq "btfPresent" "$(field $node btfPresent)" true
expect_eq "ruleCount" "$(field $node ruleCount)" 2
expect_eq "rulesHash" "$(field $node rulesHash)" "$(rules_hash)"
expect_eq "spec.nodeName" "$(kc get sensornode $node -o jsonpath='{.spec.nodeName}')" "$node"
field $node capabilities | jq -e 'index("CAP_BPF") and index("CAP_PERFMON")' >/dev/null &&
	pass "capabilities listed" || fail "capabilities: $(field $node capabilities)"
kc get sensornodes | grep -E "^$node +True +True +Ready +0.1.0-e2e" >/dev/null &&
	pass "kubectl get sensornodes shows it" || fail "kubectl get sensornodes: $(kc get sensornodes | grep $node)"

# lastTransitionTime stays while the status stays; the heartbeat moves
ltt=$(cond $node Ready lastTransitionTime)
hb=$(field $node lastHeartbeatTime)
heartbeat_moved() { [ "$(field $node lastHeartbeatTime)" != "$hb" ]; }
eventually 10 "heartbeat advances" heartbeat_moved
sleep 2
expect_eq "Ready lastTransitionTime unchanged over heartbeats" "$(cond $node Ready lastTransitionTime)" "$ltt"

# somebody else writes the status in between: the sensor keeps writing (re-read, no conflict loop)
kc patch sensornode "$node" --subresource=status --type=merge \
	-p '{"status":{"podName":"someone-else"}}' >/dev/null || fail "patch status"
hb=$(field $node lastHeartbeatTime)
eventually 10 "sensor writes again after a foreign status write" heartbeat_moved

# 2. a broken rules file arriving during hot reload: RulesLoaded False with FILE:LINE:COL
R=$T/rules
mkdir -p "$R"
cp "$RULES_DIR/production-db.yaml" "$R/10.yaml"
sensor_stop
sensor_start -r "$R" --node-name "$node" --heartbeat 2 --kubeconfig "$KUBECONFIG_OUT" \
	--reload-debounce-ms 200
eventually 20 "RulesLoaded True" cond_is "$node" RulesLoaded True/Loaded
printf -- '- rule: Broken\n  desc: x\n  condition: evt.type = execve and proc.nme = bash\n  output: x\n  priority: WARNING\n' \
	>"$R/20-broken.yaml"
eventually 20 "RulesLoaded False/InvalidRules" cond_is "$node" RulesLoaded False/InvalidRules
cond $node RulesLoaded message | grep -q "20-broken.yaml:3:36: unknown field 'proc.nme'" &&
	pass "RulesLoaded message has FILE:LINE:COL" || fail "message: $(cond $node RulesLoaded message)"
expect_eq "Ready stays True on the last good rules" "$(cond $node Ready status)" True
sensor_stop

# 3. BTF path pointing nowhere
node=vigil-e2e-sensor-nobtf
NODES+=("$node")
sensor_start -r "$RULES_DIR/production-db.yaml" --node-name "$node" --heartbeat 2 \
	--kubeconfig "$KUBECONFIG_OUT" --btf /nonexistent/vmlinux
eventually 20 "ProbeLoaded False/BTFNotAvailable" cond_is "$node" ProbeLoaded False/BTFNotAvailable
expect_eq "Ready" "$(cond $node Ready status)/$(cond $node Ready reason)" False/BTFNotAvailable
expect_eq "btfPresent" "$(field $node btfPresent)" false
expect_eq "/readyz" "$(http_code /readyz)" 503
sensor_alive && pass "sensor alive" || fail "sensor died"
sensor_stop

# 4. CAP_BPF dropped
node=vigil-e2e-sensor-nocap
NODES+=("$node")
SENSOR_WRAP="setpriv --bounding-set -bpf --inh-caps -bpf --" \
	sensor_start -r "$RULES_DIR/production-db.yaml" --node-name "$node" --heartbeat 2 \
	--kubeconfig "$KUBECONFIG_OUT"
eventually 20 "ProbeLoaded False/MissingCapabilities" \
	cond_is "$node" ProbeLoaded False/MissingCapabilities
cond $node ProbeLoaded message | grep -q "missing capabilities: CAP_BPF" &&
	pass "message names CAP_BPF" || fail "message: $(cond $node ProbeLoaded message)"
field $node capabilities | jq -e 'index("CAP_BPF") | not' >/dev/null &&
	pass "CAP_BPF not among the capabilities held" || fail "capabilities: $(field $node capabilities)"
sensor_stop
