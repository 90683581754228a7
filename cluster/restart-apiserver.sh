#!/usr/bin/env bash
# Stops kube-apiserver and starts it again with the same flags (for watch-recovery tests).
#   restart-apiserver.sh [DOWN_SECONDS]   keeps it down that long (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"
cluster_running || { log "error: cluster not running"; exit 1; }
stop kube-apiserver
sleep "${1:-2}"
start_apiserver
wait_for "kube-apiserver" 90 curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
	"https://127.0.0.1:$APISERVER_PORT/readyz"
log "kube-apiserver restarted"
