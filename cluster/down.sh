#!/usr/bin/env bash
# Stops the processes cluster/up.sh started (by their pid files, never by name) and removes the state.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/lib.sh"

# Anything else that recorded a pid file in run/ (e2e sensors, operators) goes first.
for f in "$STATE"/run/*.pid; do
	[ -e "$f" ] || continue
	n=$(basename "$f" .pid)
	case $n in etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok) ;; *) stop "$n" ;; esac
done
for n in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$n"; done
rm -rf "$STATE"
log "down: stopped and removed $STATE"
