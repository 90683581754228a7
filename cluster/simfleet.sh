#!/usr/bin/env bash
# The sensors of the simulated (kwok) nodes: runs bin/vigil-simfleet, which writes each kwok node's
# SensorNode through the sensor's own report module while a sensor pod runs there (see
# e2e/simfleet/simfleet.c; a driver version containing "bad" never loads, like a verifier rejection).
#   simfleet.sh start [NAMESPACE]   (default vigil-system)
#   simfleet.sh stop
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"
VIGIL_BIN=${VIGIL_BIN:-$ROOT/bin}

case "${1:-}" in
start)
	cluster_running || { log "error: cluster not running (make cluster-up)"; exit 1; }
	pid_alive simfleet && { log "simfleet already running"; exit 0; }
	[ -x "$VIGIL_BIN/vigil-simfleet" ] || { log "error: no $VIGIL_BIN/vigil-simfleet (make)"; exit 1; }
	start simfleet "$VIGIL_BIN/vigil-simfleet" --kubeconfig "$KUBECONFIG_OUT" \
		--namespace "${2:-vigil-system}" --node-prefix kwok-node- --load-delay 2
	log "simulated sensors for kwok nodes started (log $STATE/logs/simfleet.log)"
	;;
stop) stop simfleet ;;
*)
	echo "usage: $0 start [NAMESPACE] | stop" >&2
	exit 2
	;;
esac
