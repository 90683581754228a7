#!/usr/bin/env bash
# The operator killed (SIGKILL) and started again converges without writing anything: status,
# bundle and webhook configuration are already right, so no PATCH/PUT/POST happens.
# The RuleSets select no node (vigil.dev/e2e-restart=none), so SensorNodes that other tests create
# meanwhile in the shared cluster do not legitimately change their appliedNodes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

port=$(free_port)
op_start a "$port" --no-webhook
eventually 30 "operator ready" op_ready "$port"
for i in 1 2 3; do
	ruleset "e2e-rs$i" $((i * 10)) "- macro: m_restart_$i
  condition: proc.name = p$i" vigil.dev/e2e-restart=none | kc apply -f - >/dev/null
done
ruleset e2e-rsbad 40 "$BAD_RULES" vigil.dev/e2e-restart=none | kc apply -f - >/dev/null || fail "apply broken RuleSet"
for i in 1 2 3; do eventually 30 "e2e-rs$i Accepted" rs_accepted "e2e-rs$i" True; done
eventually 30 "e2e-rsbad Accepted=False" rs_accepted e2e-rsbad False
eventually 30 "bundle holds all three" bundle_has m_restart_3
sleep 2
rv_before=$(kc -n $OPNS get rulesets -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}'; kc -n $OPNS get configmap vigil-rules -o jsonpath='{.metadata.resourceVersion}')
op_kill a KILL
pass "operator killed"

port2=$(free_port)
op_start b "$port2" --no-webhook
eventually 30 "restarted operator ready" op_ready "$port2"
# give it time to reconcile every key (all are queued at start)
eventually 30 "every RuleSet reconciled after restart" sh -c \
	"[ \$(curl -fsS http://127.0.0.1:$port2/metrics | awk '/^vigil_reconcile_total/ {s+=\$2} END {print s+0}') -ge 5 ]"
sleep 3
expect_eq "API writes after restart" "$(op_metric "$port2" vigil_api_writes_total)" 0
rv_after=$(kc -n $OPNS get rulesets -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}'; kc -n $OPNS get configmap vigil-rules -o jsonpath='{.metadata.resourceVersion}')
expect_eq "resourceVersions unchanged" "$rv_after" "$rv_before"
