#!/usr/bin/env bash
# Scale: a healthy upgrade of 500 simulated nodes with maxParallel 50; prints the time. Opt-in
# (VIGIL_E2E_SCALE=1, node count VIGIL_E2E_SCALE_NODES): it adds nodes kwok-scale-N (label
# type=kwok-scale) to the shared cluster for its duration and removes them at the end.
. "$(dirname "$0")/../lib.sh"
if [ -z "${VIGIL_E2E_SCALE:-}" ]; then
	printf '  SKIP %s: set VIGIL_E2E_SCALE=1 to run (adds %s nodes)\n' "$e2e_name" "${VIGIL_E2E_SCALE_NODES:-500}"
	exit 0
fi
N=${VIGIL_E2E_SCALE_NODES:-500}
for ((i = 0; i < N; i++)); do
	printf -- '---\napiVersion: v1\nkind: Node\nmetadata:\n  name: kwok-scale-%d\n  annotations: {kwok.x-k8s.io/node: fake}\n  labels: {type: kwok-scale, kubernetes.io/hostname: kwok-scale-%d}\nstatus:\n  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}\n  capacity: {cpu: "32", memory: 256Gi, pods: "110"}\n' $i $i
done | kc apply -f - >/dev/null || fail "create $N nodes"
scale_cleanup() { kc delete nodes -l type=kwok-scale --wait=false >/dev/null 2>&1 || true; }
trap scale_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ready_nodes() { [ "$(kc get nodes -l type=kwok-scale --no-headers 2>/dev/null | grep -cw Ready)" -ge "$N" ]; }
eventually 120 "$N simulated nodes Ready" ready_nodes

RL_TYPE=kwok-scale RL_PREFIX=kwok-scale- RL_HB=30 RL_WRITERS=32 RL_PARALLEL=50 RL_BUDGET=120
. "$(dirname "$0")/lib.sh"
trap 'rl_cleanup; scale_cleanup' EXIT

rl_sim_start 2
rl_op_start
t0=$(date +%s)
rl_fleet 1.0.0
eventually 300 "install on $N nodes succeeded" rl_succeeded 1.0.0
echo "   install on $N nodes: $(($(date +%s) - t0))s"
t0=$(date +%s)
rl_fleet 1.1.0
eventually 900 "upgrade of $N nodes (maxParallel 50) succeeded" rl_succeeded 1.1.0
echo "   healthy upgrade of $N nodes, maxParallel 50: $(($(date +%s) - t0))s"
expect_eq "nodes with detection" "$(rl_get '{.status.nodes.withDetection}')" "$N"
expect_eq "max coverage gap" "$(rl_get '{.status.lastRollout.maxGapSeconds}')" 0
rss=$(awk '/VmRSS/ {print $2}' /proc/$RL_OP_PID/status)
echo "   operator RSS with $N nodes: ${rss} kB"
