#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok from the
# upstream Go modules into $VIGIL_CACHE/bin/<name>-<version>/. A binary already there is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"

log() { printf 'build: %s\n' "$*" >&2; }

mkdir -p "$VIGIL_CACHE"
exec 9>"$VIGIL_CACHE/.build.lock"
flock 9

command -v go >/dev/null || { log "error: go not found; the upstream programs are built with Go"; exit 1; }
gov=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
if [ "$(printf '%s\n' 1.24 "$gov" | sort -V | head -1)" != 1.24 ]; then
	log "error: go $gov is too old: Kubernetes $K8S_VERSION needs Go 1.24 or newer (Debian 12's golang-go is 1.19)"
	exit 1
fi

build_kubernetes() {
	local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl) missing=0 b
	for b in "${want[@]}"; do [ -x "$K8S_BIN/$b" ] || missing=1; done
	[ $missing = 0 ] && { log "kubernetes $K8S_VERSION: cached in $K8S_BIN"; return; }
	local src=$VIGIL_CACHE/src/kubernetes-$K8S_VERSION
	local staging=v0.${K8S_VERSION#v1.}
	mkdir -p "$src"
	log "kubernetes $K8S_VERSION: fetching the release's go.mod"
	local gomod
	gomod=$(cd "$src" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
	[ -f "$gomod" ] || { log "error: no go.mod for k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
	local gover godebug
	gover=$(awk '$1 == "go" { print $2; exit }' "$gomod")
	godebug=$(grep -E '^godebug ' "$gomod" || true)
	{
		echo "module vigil.local/kubernetes-build"
		echo
		echo "go $gover"
		[ -n "$godebug" ] && echo "$godebug"
		echo
		echo "require k8s.io/kubernetes $K8S_VERSION"
		echo
		echo "// Generated from k8s.io/kubernetes@$K8S_VERSION go.mod: each ./staging module"
		echo "// replaced by its published release."
		echo "replace ("
		awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }' "$gomod"
		echo ")"
	} >"$src/go.mod"
	cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubernetes/cmd/kube-scheduler/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
GO
	log "kubernetes $K8S_VERSION: resolving modules"
	(cd "$src" && go mod tidy)
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local date ld="" p
	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
		ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
		ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
	done
	log "kubernetes $K8S_VERSION: compiling (first time only; this takes a while)"
	mkdir -p "$K8S_BIN.tmp"
	(cd "$src" && go build -trimpath -ldflags "-s -w $ld" -o "$K8S_BIN.tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
	rm -rf "$K8S_BIN" && mv "$K8S_BIN.tmp" "$K8S_BIN"
}

build_etcd() {
	[ -x "$ETCD_BIN/etcd" ] && { log "etcd $ETCD_VERSION: cached in $ETCD_BIN"; return; }
	local src=$VIGIL_CACHE/src/etcd-$ETCD_VERSION
	mkdir -p "$src"
	cat >"$src/go.mod" <<GOMOD
module vigil.local/etcd-build

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
	cat >"$src/main.go" <<'GO'
// Command etcd starts the etcd server from the published server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
	log "etcd $ETCD_VERSION: resolving modules and compiling"
	(cd "$src" && go mod tidy && mkdir -p "$ETCD_BIN.tmp" &&
		go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp/etcd" .)
	rm -rf "$ETCD_BIN" && mv "$ETCD_BIN.tmp" "$ETCD_BIN"
}

build_kwok() {
	[ -x "$KWOK_BIN/kwok" ] && { log "kwok $KWOK_VERSION: cached in $KWOK_BIN"; return; }
	log "kwok $KWOK_VERSION: compiling"
	mkdir -p "$KWOK_BIN.tmp"
	GOBIN="$KWOK_BIN.tmp" GOFLAGS= go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
	rm -rf "$KWOK_BIN" && mv "$KWOK_BIN.tmp" "$KWOK_BIN"
}

case "${1:-all}" in
all) build_etcd; build_kwok; build_kubernetes ;;
etcd) build_etcd ;;
kwok) build_kwok ;;
kubernetes) build_kubernetes ;;
*) log "usage: $0 [all|etcd|kwok|kubernetes]"; exit 2 ;;
esac
log "done"
