#!/usr/bin/env bash
# Installs the Debian packages Vigil's build, tests and local cluster need. Quick when all are there.
set -euo pipefail
pkgs=(build-essential clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libcurl4-openssl-dev
	libjansson-dev libyaml-dev libwebsockets-dev libssl-dev libcmocka-dev libcap-dev openssl
	pkg-config iproute2 util-linux libcap2-bin valgrind cppcheck clang-format
	libclang-rt-14-dev curl jq)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Go (1.24+) builds only the upstream control plane; Debian 12's golang-go is too old, so it is not
# installed from here.
command -v go >/dev/null || echo "deps: warning: no go on PATH; make cluster-up needs Go 1.24 or newer"
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
