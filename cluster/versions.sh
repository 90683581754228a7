# Versions of the upstream control-plane programs that cluster/build.sh compiles.
# Sourced by the cluster scripts; change a version here and the cache key changes with it.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
ETCD_VERSION=${ETCD_VERSION:-v3.6.17}
KWOK_VERSION=${KWOK_VERSION:-v0.7.0}

VIGIL_CACHE=${VIGIL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil}
K8S_BIN=$VIGIL_CACHE/bin/kubernetes-$K8S_VERSION
ETCD_BIN=$VIGIL_CACHE/bin/etcd-$ETCD_VERSION
KWOK_BIN=$VIGIL_CACHE/bin/kwok-$KWOK_VERSION

# Go only builds the upstream programs; keep its caches beside ours so a fresh clone reuses them.
export GOMODCACHE=${GOMODCACHE_VIGIL:-$VIGIL_CACHE/go/mod}
export GOCACHE=${GOCACHE_VIGIL:-$VIGIL_CACHE/go/build}
export GOTOOLCHAIN=local
export GOFLAGS=-mod=mod
