#!/usr/bin/env bash
# A second cluster on other ports and state: cluster-up works from cached binaries (no rebuild),
# cluster-down stops every process it started and removes its state.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

st=$(mktemp -d /tmp/vigil-updown.XXXXXX)
export VIGIL_CLUSTER_STATE=$st/cluster VIGIL_NODES=1 VIGIL_ETCD_PORT=21790 VIGIL_ETCD_PEER_PORT=21800 \
	VIGIL_APISERVER_PORT=21443 VIGIL_KCM_PORT=21257 VIGIL_SCHED_PORT=21259 VIGIL_KWOK_PORT=21270
trap '"$E2E_ROOT/cluster/down.sh" >/dev/null 2>&1; rm -rf "$st"' EXIT

"$E2E_ROOT/cluster/up.sh" 2>"$st/up.log" || { cat "$st/up.log"; fail "second cluster-up"; }
grep -q "compiling" "$st/up.log" && fail "cluster-up rebuilt binaries although they were cached"
pass "cluster-up reused cached binaries"
pids=$(cat "$st"/cluster/run/*.pid)
expect_eq "processes started" "$(echo "$pids" | wc -l)" 5
kubectl --kubeconfig "$st/cluster/kubeconfig" get nodes --no-headers | grep -q kwok-node-0 || fail "node missing"
pass "second cluster serves its node"
"$E2E_ROOT/cluster/down.sh" 2>/dev/null
for p in $pids; do kill -0 "$p" 2>/dev/null && fail "pid $p still running after cluster-down"; done
pass "cluster-down left none of its 5 processes running"
[ ! -e "$st/cluster" ] || fail "state $st/cluster not removed"
pass "state removed"
