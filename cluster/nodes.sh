#!/usr/bin/env bash
# Simulated nodes managed by kwok.
#   nodes.sh add N      make sure kwok-node-0 .. kwok-node-(N-1) exist
#   nodes.sh delete NAME
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"

case "${1:-}" in
add)
	n=${2:?count}
	for ((i = 0; i < n; i++)); do
		cat <<NODE
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    node-role.kubernetes.io/agent: ""
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
NODE
	done | kc apply -f - >/dev/null
	log "nodes: $n simulated nodes present"
	;;
delete)
	kc delete node "${2:?name}"
	;;
*)
	echo "usage: $0 add N | delete NAME" >&2
	exit 2
	;;
esac
