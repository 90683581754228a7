#!/usr/bin/env bash
# Two replicas with leader election: exactly one leads (and reconciles); when it dies the other
# takes the Lease within the lease duration and carries on.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

lease=vigil-e2e-operator-lease
kc -n $OPNS delete lease $lease --ignore-not-found >/dev/null
pa=$(free_port)
pb=$(free_port)
op_start a "$pa" --no-webhook --leader-elect --lease-name $lease
op_start b "$pb" --no-webhook --leader-elect --lease-name $lease
eventually 30 "replica a ready" op_ready "$pa"
eventually 30 "replica b ready" op_ready "$pb"
leaders() { echo $(($(op_metric "$pa" vigil_leader) + $(op_metric "$pb" vigil_leader))); }
eventually 20 "one replica leads" sh -c "[ \$(( \$(curl -fsS http://127.0.0.1:$pa/metrics | awk '/^vigil_leader /{print \$2}') + \$(curl -fsS http://127.0.0.1:$pb/metrics | awk '/^vigil_leader /{print \$2}') )) -eq 1 ]"
holder=$(kc -n $OPNS get lease $lease -o jsonpath='{.spec.holderIdentity}')
case $holder in
e2e-a) leader=a lport=$pa other=b oport=$pb ;;
e2e-b) leader=b lport=$pb other=a oport=$pa ;;
*) fail "lease held by '$holder'" ;;
esac
pass "lease held by $holder"
for _ in 1 2 3 4; do
	[ "$(leaders)" = 1 ] || fail "not exactly one leader"
	sleep 1
done
pass "still exactly one leader"

ruleset e2e-le1 10 "- macro: m_le1
  condition: proc.name = le1" | kc apply -f - >/dev/null
eventually 30 "leader reconciles" rs_accepted e2e-le1 True
expect_eq "follower wrote nothing" "$(op_metric "$oport" vigil_api_writes_total)" 0
expect_eq "follower reconciled nothing" "$(op_metric "$oport" vigil_reconcile_total)" 0

op_kill $leader KILL
start=$(date +%s)
pass "leader $leader killed"
eventually 25 "replica $other takes over" sh -c "[ \"\$(curl -fsS http://127.0.0.1:$oport/metrics | awk '/^vigil_leader /{print \$2}')\" = 1 ]"
pass "failover took $(($(date +%s) - start))s (lease 15s)"
expect_eq "new holder" "$(kc -n $OPNS get lease $lease -o jsonpath='{.spec.holderIdentity}')" "e2e-$other"
ruleset e2e-le2 20 "- macro: m_le2
  condition: proc.name = le2" | kc apply -f - >/dev/null
eventually 30 "new leader reconciles" rs_accepted e2e-le2 True
eventually 30 "new leader writes the bundle" bundle_has m_le2

# a graceful stop releases the lease at once
op_kill $other TERM
expect_eq "released on SIGTERM" "$(kc -n $OPNS get lease $lease -o jsonpath='{.spec.holderIdentity}')" ""
kc -n $OPNS delete lease $lease --ignore-not-found >/dev/null
