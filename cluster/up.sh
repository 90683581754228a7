#!/usr/bin/env bash
# Starts a local Kubernetes control plane as processes bound to 127.0.0.1: etcd, kube-apiserver (RBAC,
# openssl certificates, service-account signing key), kube-controller-manager, kube-scheduler and kwok
# with $VIGIL_NODES simulated nodes (default 5). State and pid files live in .cache/cluster/; the admin
# kubeconfig is .cache/cluster/kubeconfig. Binaries come from cluster/build.sh (built once, cached).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"

NODES=${VIGIL_NODES:-5}

if cluster_running; then
	log "already running (kubeconfig $KUBECONFIG_OUT); make cluster-down first to restart"
	exit 0
fi
for v in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHED_PORT KWOK_PORT; do
	if (exec 3<>"/dev/tcp/127.0.0.1/${!v}") 2>/dev/null; then
		log "error: port ${!v} on 127.0.0.1 is in use (another cluster?); set VIGIL_$v to another port"
		exit 1
	fi
done
"$here/build.sh" all
mkdir -p "$STATE"/{pki,etcd,logs,run}
rm -f "$STATE"/run/*.pid

gen_certs
write_kubeconfigs

start etcd "$ETCD_BIN/etcd" --name vigil --data-dir "$STATE/etcd" \
	--listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
	--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
	--initial-cluster "vigil=http://127.0.0.1:$ETCD_PEER_PORT" \
	--listen-metrics-urls "" --unsafe-no-fsync --log-level warn
wait_for "etcd" 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

start_apiserver
wait_for "kube-apiserver" 90 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
	"https://127.0.0.1:$APISERVER_PORT/readyz"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
	--kubeconfig "$STATE/controller-manager.kubeconfig" \
	--authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
	--authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
	--bind-address 127.0.0.1 --secure-port "$KCM_PORT" --leader-elect=false \
	--controllers '*' --use-service-account-credentials=true \
	--service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
	--cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
	--node-monitor-grace-period 40s --concurrent-daemonset-syncs 10
start kube-scheduler "$K8S_BIN/kube-scheduler" \
	--kubeconfig "$STATE/scheduler.kubeconfig" \
	--authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
	--authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
	--bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --leader-elect=false
start kwok "$KWOK_BIN/kwok" --kubeconfig "$STATE/kwok.kubeconfig" \
	--manage-all-nodes=false \
	--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
	--disregard-status-with-annotation-selector kwok.x-k8s.io/status=custom \
	--cidr 10.0.0.1/24 --node-ip 10.0.0.1 --node-lease-duration-seconds 40 \
	--server-address "127.0.0.1:$KWOK_PORT"

wait_for "default service account" 60 kc -n default get serviceaccount default
"$here/nodes.sh" add "$NODES"
wait_for "$NODES nodes Ready" 60 nodes_ready "$NODES"
log "up: kubectl --kubeconfig $KUBECONFIG_OUT get nodes   (server $($KUBECTL version -o json --kubeconfig "$KUBECONFIG_OUT" | jq -r .serverVersion.gitVersion))"
