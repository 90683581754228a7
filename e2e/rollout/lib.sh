# Helpers for the rollout e2e tests (source it). A SensorFleet in namespace vigil-e2e-rollout on the
# kwok nodes, an operator and vigil-simfleet (the simulated sensors, writing SensorNodes through the
# sensor's report module) as local processes. rl_cleanup (EXIT trap) stops what the test started,
# deletes the namespace and the SensorNodes of the kwok nodes, and removes the sensor labels.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

RNS=vigil-e2e-rollout
RL_OP_BIN=${VIGIL_ROLLOUT_OPERATOR:-$VIGIL_BIN/vigil-operator}
RL_SIM_BIN=${VIGIL_SIMFLEET:-$VIGIL_BIN/vigil-simfleet}
RL_TMP=$(mktemp -d /tmp/vigil-e2e-rollout.XXXXXX)
RL_PIDS=()
RL_TYPE=${RL_TYPE:-kwok}	  # the fleet's nodeSelector is type=$RL_TYPE
RL_PREFIX=${RL_PREFIX:-kwok-node-} # the simulated sensors serve nodes named so
RL_HB=${RL_HB:-2}		  # heartbeatSeconds
RL_NODES=$(kc get nodes -l type=$RL_TYPE -o name 2>/dev/null | sed 's|node/||' | sort)
RL_N=$(echo "$RL_NODES" | grep -c . || true)
[ -x "$RL_OP_BIN" ] || fail "no operator binary at $RL_OP_BIN (run make)"
[ -x "$RL_SIM_BIN" ] || fail "no simfleet binary at $RL_SIM_BIN (run make)"
[ "$RL_N" -ge 3 ] || fail "need at least 3 kwok nodes, have $RL_N"

# The status fields the rollout persists must be in the served schema (else they are pruned).
# Set-up steps are retried: other tests may be restarting the API server meanwhile.
rl_setup() {
	kc apply -f "$E2E_ROOT/crds/" >/dev/null &&
		kc wait --for=condition=Established crd/rulesets.vigil.dev crd/sensorfleets.vigil.dev \
			crd/sensornodes.vigil.dev --timeout=30s >/dev/null &&
		{ kc get namespace $RNS >/dev/null 2>&1 || kc create namespace $RNS >/dev/null; } &&
		{ kc -n $RNS get serviceaccount vigil-sensor >/dev/null 2>&1 ||
			kc -n $RNS create serviceaccount vigil-sensor >/dev/null; }
}
# a namespace left by an earlier run must be gone first (its fleet would be picked up)
for _ in $(seq 1 120); do kc get namespace $RNS >/dev/null 2>&1 || break; [ "$(kc get namespace $RNS -o jsonpath='{.status.phase}' 2>/dev/null)" = Terminating ] || break; sleep 0.5; done
eventually 60 "namespace $RNS with the sensor ServiceAccount, CRDs served" rl_setup

rl_free_port() {
	local p
	while :; do
		p=$((27000 + RANDOM % 5000)) # below the ephemeral range, clear of the clusters
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo $p; return; }
	done
}

# rl_unlabel: removes every vigil.dev/sensor-* label from the fleet's nodes (one call per label key).
rl_unlabel() {
	local k
	for k in $(kc get nodes -l type=$RL_TYPE -o json 2>/dev/null |
		jq -r '[.items[].metadata.labels | keys[] | select(startswith("vigil.dev/sensor-"))] | unique[]'); do
		kc label nodes -l type=$RL_TYPE "$k-" >/dev/null 2>&1 || true
	done
}

rl_cleanup() {
	local pid
	for pid in "${RL_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${RL_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	kc -n $RNS delete sensorfleet --all --wait=true --timeout=30s >/dev/null 2>&1 || true
	kc delete namespace $RNS --wait=true --timeout=60s >/dev/null 2>&1 || true
	rl_unlabel
	# shellcheck disable=SC2086
	[ -n "$RL_NODES" ] && kc delete sensornode $RL_NODES --ignore-not-found --wait=false >/dev/null 2>&1
	if [ -n "${VIGIL_KEEP_LOGS:-}" ]; then echo "logs in $RL_TMP"; else rm -rf "$RL_TMP"; fi
}
trap rl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rl_unlabel

# rl_op_start: starts an operator for the namespace; sets RL_OP_PID, RL_OP_PORT.
rl_op_start() {
	RL_OP_PORT=$(rl_free_port)
	"$RL_OP_BIN" --kubeconfig "$KUBECONFIG_OUT" --namespace $RNS --no-webhook \
		--metrics-addr "127.0.0.1:$RL_OP_PORT" --identity "e2e-rollout-$$" --log-level info \
		>>"$RL_TMP/operator.log" 2>&1 &
	RL_OP_PID=$!
	disown $RL_OP_PID 2>/dev/null || true
	RL_PIDS+=($RL_OP_PID)
	eventually 60 "operator ready" curl -fsS "http://127.0.0.1:$RL_OP_PORT/readyz"
	curl -fsS "http://127.0.0.1:$RL_OP_PORT/metrics" | grep -q '^# TYPE vigil_sensorfleet_nodes' ||
		rl_skip "this operator does not run the SensorFleet controller (operator/main.c must call sfctl_register)"
}

# rl_op_kill [SIGNAL]
rl_op_kill() {
	kill -"${1:-KILL}" "$RL_OP_PID" 2>/dev/null || true
	for _ in $(seq 1 50); do kill -0 "$RL_OP_PID" 2>/dev/null || return 0; sleep 0.1; done
}

rl_sim_start() {
	"$RL_SIM_BIN" --kubeconfig "$KUBECONFIG_OUT" --namespace $RNS --load-delay "${1:-2}" \
		--node-prefix "$RL_PREFIX" --writers "${RL_WRITERS:-8}" \
		>>"$RL_TMP/simfleet.log" 2>&1 &
	disown $! 2>/dev/null || true
	RL_PIDS+=($!)
}

rl_skip() {
	printf '  SKIP %s: %s\n' "$e2e_name" "$*"
	exit 0
}

# rl_fleet VERSION [EXTRA ROLLOUT YAML LINES]: applies the fleet at that version.
rl_fleet() {
	cat <<YAML | kc apply -f - >/dev/null || fail "apply fleet $1"
apiVersion: vigil.dev/v1alpha1
kind: SensorFleet
metadata:
  name: fleet
  namespace: $RNS
spec:
  driverVersion: "$1"
  image: vigil/sensor:$1
  heartbeatSeconds: $RL_HB
  nodeSelector: {type: $RL_TYPE}
  rollout:
    maxParallel: ${RL_PARALLEL:-1}
    makeBeforeBreak: true
    maxNodesWithoutDetection: 1
    gapBudgetSeconds: ${RL_BUDGET:-10}
YAML
}

rl_get() { kc -n $RNS get sensorfleet fleet -o "jsonpath=$1" 2>/dev/null; }
rl_cond() { rl_get "{.status.conditions[?(@.type==\"$1\")].status}"; }
rl_result_is() { [ "$(rl_get '{.status.lastRollout.result}')" = "$1" ]; }
rl_last_good_is() { [ "$(rl_get '{.status.lastGoodVersion}')" = "$1" ]; }
rl_succeeded() { rl_result_is Succeeded && rl_last_good_is "$1" && [ "$(rl_cond Available)" = True ]; }

# rl_rev VERSION: the revision id of fleet $RNS/fleet at (VERSION, vigil/sensor:VERSION), as the
# operator computes it.
rl_rev() { "$RL_SIM_BIN" --revision "$RNS/fleet" "$1" "vigil/sensor:$1"; }

# rl_all_on VERSION: every kwok node carries exactly one sensor label, that of VERSION.
rl_all_on() {
	local rev n keys
	rev=$(rl_rev "$1")
	for n in $RL_NODES; do
		keys=$(kc get node "$n" -o json | jq -r '[.metadata.labels | keys[] | select(startswith("vigil.dev/sensor-"))] | join(",")')
		[ "$keys" = "vigil.dev/sensor-$rev" ] || return 1
	done
}

# rl_covered N: status says N nodes have detection.
rl_covered() { [ "$(rl_get '{.status.nodes.withDetection}')" = "$1" ]; }

# rl_metric NAME [FILTER]: sum of the operator's series of NAME whose labels contain FILTER.
rl_metric() {
	curl -fsS "http://127.0.0.1:$RL_OP_PORT/metrics" 2>/dev/null |
		awk -v n="$1" -v f="${2:-}" '$1 ~ "^"n"({|$)" && index($1, f) { s += $2 } END { print s + 0 }'
}
