#!/usr/bin/env bash
# The local control plane is real: version reports the release, RBAC is on, the DaemonSet controller and
# scheduler place one pod per simulated node.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

expect_eq "server version" "$(kc version -o json | jq -r .serverVersion.gitVersion)" "$K8S_VERSION"
nodes=$(kc get nodes -l type=kwok --no-headers | wc -l)
[ "$nodes" -ge 1 ] || fail "no simulated nodes"
pass "$nodes simulated nodes"
can=$(kc auth can-i list pods --as system:serviceaccount:default:default 2>/dev/null || true)
[ "$can" = no ] ||
	fail "RBAC is not enforced: the default service account may list pods"
pass "RBAC enforced"

ns=vigil-e2e-cluster
kc create namespace $ns --dry-run=client -o yaml | kc apply -f - >/dev/null
trap 'kc delete namespace $ns --wait=false >/dev/null 2>&1' EXIT
kc -n $ns apply -f - >/dev/null <<Y
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: probe}
spec:
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      nodeSelector: {type: kwok}
      containers: [{name: c, image: example/probe:1}]
Y
eventually 60 "daemonset runs one pod per node ($nodes)" \
	bash -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get pods --field-selector status.phase=Running --no-headers | wc -l)\" = $nodes ]"
