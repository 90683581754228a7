#!/usr/bin/env bash
# Pod metadata from the API server: the sensor lists the pods on its node (fieldSelector
# spec.nodeName) with lib/kube and maps container ids to namespace, pod and image. A pod bound to
# a test node carries the stand-in container's id in its status; the live alert names it.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"

cluster_running || fail "the local cluster is not running (make cluster-up)"
NODE=vigil-e2e-sensor-node
POD=payments-db-e2e-sensor
NS=production
IMAGE=harbor.golems.internal/golem-trust/payments-db:2.1.4
SHELL_RULE="Shell spawned in production database container"

cleanup_k8s() {
	kc delete pod -n "$NS" "$POD" --grace-period=0 --force --ignore-not-found >/dev/null 2>&1
	kc delete node "$NODE" --ignore-not-found >/dev/null 2>&1
	kc delete sensornode "$NODE" --ignore-not-found >/dev/null 2>&1
	sensor_cleanup
}
trap cleanup_k8s EXIT

standin_new
kc get ns "$NS" >/dev/null 2>&1 || kc create ns "$NS" >/dev/null || fail "create namespace"
kc delete pod -n "$NS" "$POD" --grace-period=0 --force --ignore-not-found >/dev/null 2>&1
kc apply -f - >/dev/null <<EOF || fail "create node"
apiVersion: v1
kind: Node
metadata:
  name: $NODE
  labels: {vigil.dev/e2e: sensor}
spec:
  taints: [{key: vigil.dev/e2e, effect: NoSchedule}]
EOF
kc apply -f - >/dev/null <<EOF || fail "create pod"
apiVersion: v1
kind: Pod
metadata:
  name: $POD
  namespace: $NS
spec:
  nodeName: $NODE
  tolerations: [{operator: Exists}]
  containers: [{name: db, image: "$IMAGE"}]
EOF
kc patch pod -n "$NS" "$POD" --subresource=status --type=merge -p "{\"status\":{\"phase\":\"Running\",
	\"containerStatuses\":[{\"name\":\"db\",\"image\":\"$IMAGE\",\"imageID\":\"\",\"ready\":true,
	\"restartCount\":0,\"containerID\":\"containerd://$CID\",\"state\":{\"running\":{}}}]}}" \
	>/dev/null || fail "patch pod status"
pass "pod $NS/$POD on $NODE runs container $CID"

sensor_start -r "$RULES_DIR/production-db.yaml" --node-name "$NODE" --kubeconfig "$KUBECONFIG_OUT" \
	--heartbeat 2
eventually 20 "ready" readyz_is 200
sleep 1 # the first pod list runs at start; give it a moment
standin_shell 'true'
eventually 10 "shell alert" alerts_at_least "$SHELL_RULE" 1
expect_eq "k8s fields from the API" \
	"$(jq -c --arg r "$SHELL_RULE" 'select(.rule == $r) | .output_fields | [.["k8s.ns.name"], .["k8s.pod.name"], .["container.image.repository"]]' "$T/alerts.json" | head -1)" \
	'["production","payments-db-e2e-sensor","harbor.golems.internal/golem-trust/payments-db"]'
expect_eq "SensorNode written for the node" \
	"$(kc get sensornode "$NODE" -o jsonpath='{.spec.nodeName}')" "$NODE"
