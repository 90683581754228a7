#!/usr/bin/env bash
# Live detection: the real probe sees a shell start in a stand-in production database container
# and read /etc/shadow; the sensor writes the exact JSON alerts; health says ready; --record writes
# a trace that --replay turns into the same alerts.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"

SHELL_RULE="Shell spawned in production database container"
READ_RULE="Sensitive file read in production database container"

standin_new
sensor_start -r "$RULES_DIR/production-db.yaml" --pod-metadata "$T/pods.json" \
	--record "$T/trace.jsonl"
eventually 15 "/readyz is 200 (probe attached, rules loaded, events flowing)" readyz_is 200

standin_shell 'cat /etc/shadow > /dev/null
true'
eventually 10 "shell alert written" alerts_at_least "$SHELL_RULE" 1
eventually 10 "shadow alert written" alerts_at_least "$READ_RULE" 1

want_shell='{"hostname":"vigil-e2e","output":"Shell spawned in production database container (ns=production pod=payments-db-6f7c9d-mn4xp image=harbor.golems.internal/golem-trust/payments-db cmd=bash user=root)","output_fields":{"container.image.repository":"harbor.golems.internal/golem-trust/payments-db","k8s.ns.name":"production","k8s.pod.name":"payments-db-6f7c9d-mn4xp","proc.cmdline":"bash","user.name":"root"},"priority":"CRITICAL","rule":"Shell spawned in production database container","source":"syscall","tags":["container","shell","mitre_execution"]}'
want_read='{"hostname":"vigil-e2e","output":"Sensitive file opened for reading in production database container (file=/etc/shadow ns=production pod=payments-db-6f7c9d-mn4xp cmd=cat /etc/shadow parent=bash user=root)","output_fields":{"fd.name":"/etc/shadow","k8s.ns.name":"production","k8s.pod.name":"payments-db-6f7c9d-mn4xp","proc.cmdline":"cat /etc/shadow","proc.pname":"bash","user.name":"root"},"priority":"WARNING","rule":"Sensitive file read in production database container","source":"syscall","tags":["container","filesystem","mitre_credential_access"]}'
expect_eq "shell alert" "$(alerts_of "$SHELL_RULE")" "$want_shell"
expect_eq "shadow alert" "$(alerts_of "$READ_RULE")" "$want_read"
expect_eq "alerts in total" "$(grep -c . "$T/alerts.json")" 2
t=$(jq -r 'select(.rule == "'"$SHELL_RULE"'") | .time' "$T/alerts.json")
[[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z$ ]] &&
	pass "time is RFC 3339 with nanoseconds ($t)" || fail "bad time '$t'"

metric 'vigil_sensor_alerts_total{rule="Shell spawned in production database container",priority="CRITICAL"} 1' &&
	pass "alert counted in /metrics" || fail "alert not counted in /metrics"
metric 'vigil_sensor_probe_attached 1' && pass "metrics: probe attached" ||
	fail "metrics: probe not attached"
metric 'vigil_sensor_ring_buffer_bytes 8388608' && pass "metrics: 8 MB ring buffer" ||
	fail "metrics: ring buffer size"
sensor_alive && pass "sensor still running" || fail "sensor died"
sensor_stop

# the recorded trace replays into the same two alerts
"$SENSOR" -r "$RULES_DIR/production-db.yaml" --replay "$T/trace.jsonl" --hostname vigil-e2e \
	>"$T/replayed.json" 2>/dev/null
expect_eq "replayed shell alert" \
	"$(jq -cS --arg r "$SHELL_RULE" 'select(.rule == $r and .output_fields["k8s.ns.name"] == "production") | del(.time)' "$T/replayed.json" | head -1)" \
	"$want_shell"
