#!/usr/bin/env bash
# This machine as one node of the local cluster, "vigil-host": a Node object (kept Ready by kwok) and a
# small pod runner that does the kubelet's part for vigil-sensor pods bound to it. For every such pod
# that is Running it starts a real bin/vigil-sensor process (real eBPF probe) with the pod's
# environment, its service account's credentials and the rules bundle ConfigMap mirrored to a folder
# the way the kubelet mounts it (files under a ..data symlink swapped in one step); when the pod goes,
# the process is stopped. Nothing else runs containers here: there is no container runtime.
#
#   hostnode.sh start     create the node, start the runner in the background (pid file in run/)
#   hostnode.sh stop      stop the runner and its sensors
#   hostnode.sh run       the runner in the foreground (what start runs)
#
# Test hook: a pod whose driver version contains "bad" gets VIGIL_TEST_VERIFIER_REJECT=1, so its probe
# really fails in the kernel's verifier, like a broken driver would.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"

NODE=${VIGIL_HOST_NODE:-vigil-host}
HN=$STATE/hostnode
VIGIL_BIN=${VIGIL_BIN:-$ROOT/bin}
SENSOR_NS=${VIGIL_NAMESPACE:-vigil-system}
SELECTOR=${VIGIL_SENSOR_SELECTOR:-app.kubernetes.io/name=vigil-sensor}

create_node() {
	kc apply -f - >/dev/null <<NODE
apiVersion: v1
kind: Node
metadata:
  name: $NODE
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: host
    kubernetes.io/hostname: $NODE
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
status:
  allocatable: {cpu: "2", memory: 16Gi, pods: "110"}
  capacity: {cpu: "2", memory: 16Gi, pods: "110"}
  nodeInfo: {kernelVersion: "$(uname -r)", architecture: amd64, operatingSystem: linux}
NODE
}

# A kubeconfig with a token of the pod's service account (what a kubelet would mount).
pod_kubeconfig() {
	local f=$HN/sa-$1-$2.kubeconfig
	[ -s "$f" ] || sa_kubeconfig "$1" "$2" "$f"
	echo "$f"
}

# Mirrors ConfigMap NS/NAME into DIR like a kubelet volume: DIR/..data -> ..<stamp>/, DIR/key -> ..data/key.
sync_configmap() {
	local ns=$1 name=$2 dir=$3 json rv stamp k
	json=$(kc -n "$ns" get configmap "$name" -o json 2>/dev/null) || return 0
	rv=$(jq -r .metadata.resourceVersion <<<"$json")
	[ "$(cat "$dir/.rv" 2>/dev/null)" = "$rv" ] && return 0
	stamp=..$(date +%s%N)
	mkdir -p "$dir/$stamp"
	for k in $(jq -r '.data // {} | keys[]' <<<"$json"); do
		jq -j --arg k "$k" '.data[$k]' <<<"$json" >"$dir/$stamp/$k"
	done
	ln -sfn "$stamp" "$dir/..data_tmp" && mv -T "$dir/..data_tmp" "$dir/..data"
	for k in $(jq -r '.data // {} | keys[]' <<<"$json"); do
		[ -L "$dir/$k" ] || ln -s "..data/$k" "$dir/$k"
	done
	for k in "$dir"/*; do [ -e "$k" ] || rm -f "$k"; done
	find "$dir" -maxdepth 1 -name '..[0-9]*' ! -name "$stamp" -exec rm -rf {} +
	echo "$rv" >"$dir/.rv"
}

start_sensor() {
	local pod=$1 uid dir env_json args version sa ns name
	uid=$(jq -r .metadata.uid <<<"$pod")
	ns=$(jq -r .metadata.namespace <<<"$pod")
	name=$(jq -r .metadata.name <<<"$pod")
	sa=$(jq -r '.spec.serviceAccountName // "default"' <<<"$pod")
	dir=$HN/pods/$uid
	mkdir -p "$dir/rules"
	env_json=$(jq -c '[.spec.containers[0].env // [] | .[] | select(.value != null) | {(.name): .value}] | add // {}' <<<"$pod")
	version=$(jq -r '.VIGIL_DRIVER_VERSION // ""' <<<"$env_json")
	mapfile -t args < <(jq -r '.spec.containers[0].args // [] | .[]' <<<"$pod" |
		grep -v -e '^--health-addr' -e '^--rules' -e '^-r$' -e '^/etc/vigil' || true)
	local cm
	cm=$(jq -r '[.spec.volumes // [] | .[] | select(.configMap) | .configMap.name][0] // "vigil-rules"' <<<"$pod")
	echo "$ns $cm" >"$dir/configmap"
	sync_configmap "$ns" "$cm" "$dir/rules"
	local port=$((32000 + RANDOM % 700)) # below the ephemeral range
	(
		export NODE_NAME=$NODE POD_NAME=$name POD_NAMESPACE=$ns
		while IFS='=' read -r k v; do export "$k=$v"; done < <(jq -r 'to_entries[] | "\(.key)=\(.value)"' <<<"$env_json")
		export NODE_NAME=$NODE
		case $version in *bad*) export VIGIL_TEST_VERIFIER_REJECT=1 ;; esac
		exec "$VIGIL_BIN/vigil-sensor" --kubeconfig "$(pod_kubeconfig "$ns" "$sa")" -r "$dir/rules" \
			--health-addr "127.0.0.1:$port" --output "file:$HN/alerts.jsonl" "${args[@]}"
	) >>"$dir/sensor.log" 2>&1 &
	echo $! >"$dir/pid"
	echo "hostnode: started sensor for pod $ns/$name (driver $version) pid $! health 127.0.0.1:$port"
}

stop_sensor() {
	local dir=$1 pid i
	pid=$(cat "$dir/pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	echo "hostnode: stopped sensor pid $pid ($(basename "$dir"))"
	rm -rf "$dir"
}

run() {
	mkdir -p "$HN/pods"
	trap 'for d in "$HN"/pods/*/; do [ -d "$d" ] && stop_sensor "${d%/}"; done; exit 0' TERM INT
	while :; do
		local pods uid want=" "
		pods=$(kc get pods -A -l "$SELECTOR" --field-selector "spec.nodeName=$NODE" -o json 2>/dev/null) ||
			{ sleep 1; continue; }
		while read -r pod; do
			[ -n "$pod" ] || continue
			uid=$(jq -r .metadata.uid <<<"$pod")
			want+="$uid "
			if [ ! -f "$HN/pods/$uid/pid" ]; then
				start_sensor "$pod"
			else
				read -r ns cm <"$HN/pods/$uid/configmap"
				sync_configmap "$ns" "$cm" "$HN/pods/$uid/rules"
			fi
		done < <(jq -c '.items[] | select(.metadata.deletionTimestamp == null and .status.phase == "Running")' <<<"$pods")
		for d in "$HN"/pods/*/; do
			[ -d "$d" ] || continue
			uid=$(basename "$d")
			case $want in *" $uid "*) ;; *) stop_sensor "${d%/}" ;; esac
		done
		sleep 1
	done
}

case "${1:-}" in
start)
	cluster_running || { log "error: cluster not running (make cluster-up)"; exit 1; }
	[ -x "$VIGIL_BIN/vigil-sensor" ] || { log "error: no $VIGIL_BIN/vigil-sensor (make)"; exit 1; }
	pid_alive hostnode && { log "host node runner already running"; exit 0; }
	create_node
	mkdir -p "$HN"
	start hostnode "$here/hostnode.sh" run
	log "host node $NODE: runner started (log $STATE/logs/hostnode.log)"
	;;
stop) stop hostnode ;;
run) run ;;
*)
	echo "usage: $0 start|stop|run" >&2
	exit 2
	;;
esac
