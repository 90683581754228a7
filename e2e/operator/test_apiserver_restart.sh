#!/usr/bin/env bash
# The API server restarts while the operator watches: the watches reconnect and a RuleSet created
# right after the restart is reconciled within seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

restart=$E2E_ROOT/cluster/restart-apiserver.sh
[ -x "$restart" ] || fail "cluster/restart-apiserver.sh missing"
port=$(free_port)
op_start a "$port" --no-webhook
eventually 30 "operator ready" op_ready "$port"
ruleset e2e-ar1 10 "- macro: m_ar1
  condition: proc.name = ar1" | kc apply -f - >/dev/null
eventually 30 "RuleSet before the restart Accepted" rs_accepted e2e-ar1 True
restarts_before=$(op_metric "$port" vigil_watch_restarts_total)
relists_before=$(op_metric "$port" vigil_watch_relists_total)

"$restart" 3 >/dev/null 2>&1 || fail "restart-apiserver.sh failed"
up=$(date +%s.%N)
pass "API server restarted"
ruleset e2e-ar2 20 "- macro: m_ar2
  condition: proc.name = ar2" | kc apply -f - >/dev/null || fail "apply after restart"
eventually 20 "RuleSet created after the restart Accepted" rs_accepted e2e-ar2 True
eventually 10 "and in the bundle" bundle_has m_ar2
took=$(awk -v a="$(date +%s.%N)" -v b="$up" 'BEGIN { printf "%.1f", a - b }')
pass "caught up ${took}s after the API server was back"
r=$(($(op_metric "$port" vigil_watch_restarts_total) + $(op_metric "$port" vigil_watch_relists_total)))
[ "$r" -gt $((restarts_before + relists_before)) ] || fail "no watch reconnect counted"
pass "watch reconnects counted ($r)"
kill -0 "$(op_pid a)" || fail "operator died"
pass "operator still running"
