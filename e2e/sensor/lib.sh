# Helpers for the live sensor tests (source it after e2e/lib.sh). They need root, a kernel with
# BTF and a cgroup v2 hierarchy; they start the real sensor with the real probe.
SENSOR=${VIGIL_SENSOR:-$VIGIL_BIN/vigil-sensor}
RULES_DIR=$E2E_ROOT/e2e/sensor/rules
T=$(mktemp -d /tmp/vigil-e2e-sensor.XXXXXX)
SENSOR_PID=
CGROUPS=()

[ -x "$SENSOR" ] || fail "no sensor binary at $SENSOR (run make first)"
[ "$(id -u)" = 0 ] || fail "the live sensor tests need root"

sensor_cleanup() {
	local cg
	sensor_stop
	for cg in "${CGROUPS[@]}"; do
		rmdir "$cg" 2>/dev/null
	done
	rmdir "$CG2_ROOT/vigil-test" 2>/dev/null
	rm -rf "$T"
}
trap sensor_cleanup EXIT

# sensor_start ARGS...: starts the sensor in the background with health on an ephemeral port
# (HEALTH=host:port, read from its log), output to $T/alerts.json, log to $T/sensor.log. Prefix
# with a command in SENSOR_WRAP (e.g. "setpriv --bounding-set -bpf --") to change how it runs.
health_port_logged() { grep -q 'sub=health .*port=[0-9]' "$T/sensor.log"; }
sensor_start() {
	local port i
	: >"$T/alerts.json"
	# emptied here, not by the child's redirection: that one runs after the fork, and the loop
	# below could read the previous sensor's log (and port) before it does
	: >"$T/sensor.log"
	${SENSOR_WRAP:-} "$SENSOR" --health-addr 127.0.0.1:0 --output "file:$T/alerts.json" \
		--hostname vigil-e2e "$@" >"$T/sensor.out" 2>>"$T/sensor.log" &
	SENSOR_PID=$!
	for ((i = 0; i < 80; i++)); do
		health_port_logged && break
		sleep 0.25
	done
	port=$(sed -n 's/.*sub=health .*port=\([0-9]*\).*/\1/p' "$T/sensor.log" | head -1)
	HEALTH=127.0.0.1:${port:-0}
	for ((i = 0; i < 80; i++)); do
		curl -sf -m 2 "http://$HEALTH/healthz" >/dev/null 2>&1 && {
			pass "sensor started, health on $HEALTH"
			return 0
		}
		sleep 0.25
	done
	echo "--- sensor log ($(sensor_alive && echo running || echo exited)) ---" >&2
	tail -20 "$T/sensor.log" >&2
	fail "sensor health server did not answer on $HEALTH"
}

# sensor_stop: SIGTERM, and the sensor must exit 0 (a sanitizer build exits non-zero on leaks).
sensor_stop() {
	local rc
	[ -n "$SENSOR_PID" ] || return 0
	kill "$SENSOR_PID" 2>/dev/null
	wait "$SENSOR_PID" 2>/dev/null
	rc=$?
	SENSOR_PID=
	if [ $rc != 0 ]; then
		tail -30 "$T/sensor.log" >&2
		fail "sensor exited with status $rc"
	fi
}

sensor_alive() { kill -0 "$SENSOR_PID" 2>/dev/null; }

# http_code PATH: the status code of GET http://$HEALTH/PATH.
http_code() { curl -s -o /dev/null -w '%{http_code}' "http://$HEALTH$1"; }

# metric LINE: /metrics has exactly this sample line. metric_value NAME: the value of sample NAME
# (the whole series text before the value, labels included).
metric() { curl -sf "http://$HEALTH/metrics" | grep -qFx "$1"; }
metric_value() { curl -sf "http://$HEALTH/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# The rules hash label of vigil_sensor_rules_info.
rules_hash() {
	curl -sf "http://$HEALTH/metrics" | sed -n 's/^vigil_sensor_rules_info{hash="\([0-9a-f]*\)"}.*/\1/p'
}

# The cgroup v2 mount point (pure v2 or the hybrid "unified" one).
CG2_ROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$CG2_ROOT" ] || fail "no cgroup v2 hierarchy mounted"

# standin_new: makes a stand-in container: a cgroup named like a containerd container
# (cri-containerd-<64 hex>.scope) and a pod metadata file $T/pods.json mapping its id to a
# production database pod. Sets CID and CG.
standin_new() {
	CID=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
	CG=$CG2_ROOT/vigil-test/cri-containerd-$CID.scope
	mkdir -p "$CG" || fail "cannot create cgroup $CG"
	CGROUPS+=("$CG")
	cat >"$T/pods.json" <<EOF
{"$CID": {"namespace": "production", "pod": "payments-db-6f7c9d-mn4xp",
  "image": "harbor.golems.internal/golem-trust/payments-db:2.1.4", "container": "db"}}
EOF
}

# standin_shell SCRIPT: runs /bin/bash inside the stand-in container (its cgroup, a new PID and
# mount namespace with its own /proc), feeding SCRIPT on standard input.
standin_shell() {
	printf '%s\n' "$1" | sh -c "echo \$\$ > '$CG/cgroup.procs' &&
		exec unshare --pid --mount --fork --mount-proc /bin/bash"
}

# alerts_of RULE: the alerts in $T/alerts.json for RULE, "time" removed, keys sorted, one per line.
alerts_of() {
	jq -cS --arg r "$1" 'select(.rule == $r) | del(.time)' "$T/alerts.json"
}

# alert_count RULE
alert_count() { jq -c --arg r "$1" 'select(.rule == $r)' "$T/alerts.json" | wc -l; }

# Predicates for `eventually` (evaluated on each try).
readyz_is() { [ "$(http_code /readyz)" = "$1" ]; }
readyz_says() { curl -s "http://$HEALTH/readyz" | grep -qF "$1"; }
alerts_at_least() { [ "$(alert_count "$1")" -ge "$2" ]; }
