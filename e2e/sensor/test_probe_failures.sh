#!/usr/bin/env bash
# Failure injection: a probe that cannot load leaves the sensor running, /healthz 200, /readyz 503
# and says why: BTF path pointing nowhere (BTFNotAvailable), CAP_BPF dropped (MissingCapabilities),
# a verifier rejection (VerifierRejected, naming the program and the verifier's complaint).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"

# check_failed REASON: the running sensor reports REASON everywhere and keeps running.
check_failed() {
	local reason=$1
	eventually 10 "$reason: /readyz says why" readyz_says "probe not attached: $reason"
	expect_eq "$reason: /readyz" "$(http_code /readyz)" 503
	expect_eq "$reason: /healthz" "$(http_code /healthz)" 200
	metric "vigil_sensor_probe_state{reason=\"$reason\"} 1" &&
		pass "$reason: in /metrics" || fail "$reason: not in /metrics"
	metric 'vigil_sensor_probe_attached 0' && pass "$reason: metrics say detached" ||
		fail "$reason: metrics say attached"
	grep -q "reason=$reason" "$T/sensor.log" && pass "$reason: logged" ||
		fail "$reason: not logged: $(cat "$T/sensor.log")"
	sleep 1
	sensor_alive && pass "$reason: sensor still running" || fail "$reason: sensor exited"
}

# 1. BTF path pointing nowhere
sensor_start -r "$RULES_DIR/production-db.yaml" --btf /nonexistent/vmlinux
check_failed BTFNotAvailable
grep -q 'BTF /nonexistent/vmlinux: ENOENT: No such file or directory' "$T/sensor.log" &&
	pass "BTF: names the path and the errno" || fail "BTF: message: $(cat "$T/sensor.log")"
sensor_stop

# ... and a file that is not BTF
echo "not btf" >"$T/garbage.btf"
VIGIL_BTF_PATH=$T/garbage.btf sensor_start -r "$RULES_DIR/production-db.yaml"
check_failed BTFNotAvailable
sensor_stop

# a valid custom BTF file works (CO-RE against the given file)
cp /sys/kernel/btf/vmlinux "$T/vmlinux.btf"
sensor_start -r "$RULES_DIR/production-db.yaml" --btf "$T/vmlinux.btf"
eventually 15 "custom BTF file: /readyz is 200" readyz_is 200
sensor_stop

# 2. CAP_BPF dropped (root keeps the rest)
SENSOR_WRAP="setpriv --bounding-set -bpf --inh-caps -bpf --" \
	sensor_start -r "$RULES_DIR/production-db.yaml"
check_failed MissingCapabilities
grep -q 'missing capabilities: CAP_BPF' "$T/sensor.log" && pass "caps: names CAP_BPF" ||
	fail "caps: message: $(cat "$T/sensor.log")"
sensor_stop

# 3. the verifier rejects a program (test hook: an invalid access in vigil_exit)
VIGIL_TEST_VERIFIER_REJECT=1 sensor_start -r "$RULES_DIR/production-db.yaml"
check_failed VerifierRejected
grep -q "verifier rejected program vigil_exit: R[0-9] invalid mem access 'scalar'" "$T/sensor.log" &&
	pass "verifier: first failing program and its complaint" ||
	fail "verifier: message: $(cat "$T/sensor.log")"
grep -q -- '--- verifier log (tail) of vigil_exit ---' "$T/sensor.log" &&
	pass "verifier: log tail printed" || fail "verifier: no log tail"
n=$(grep -c 'verifier rejected' "$T/sensor.log")
expect_eq "verifier: reported once (no cascade)" "$n" 1
sensor_stop

# 4. a bad buffer preset is a usage error
"$SENSOR" --buffer-preset 11 >/dev/null 2>&1
expect_eq "--buffer-preset 11 exit code" "$?" 2
