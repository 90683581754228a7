#!/usr/bin/env bash
# The top-level end-to-end test: `make demo` on a cluster of its own (other ports and state, so the
# other tests' objects can't interfere), torn down at the end. The demo exits non-zero when any of
# its steps does not happen.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

st=$(mktemp -d /tmp/vigil-demo-test.XXXXXX)
export VIGIL_DEMO_METRICS_PORT=22080 VIGIL_DEMO_WEBHOOK_PORT=22444 VIGIL_CLUSTER_STATE=$st/cluster VIGIL_ETCD_PORT=22790 VIGIL_ETCD_PEER_PORT=22800 \
	VIGIL_APISERVER_PORT=22443 VIGIL_KCM_PORT=22257 VIGIL_SCHED_PORT=22259 VIGIL_KWOK_PORT=22270
trap '"$E2E_ROOT/cluster/down.sh" >/dev/null 2>&1; rm -rf "$st"' EXIT
if ! "$E2E_ROOT/e2e/demo.sh" --down >"$st/demo.log" 2>&1; then
	cat "$st/demo.log"
	tail -n 30 "$st"/cluster/logs/*.log 2>/dev/null || true
	fail "make demo failed"
fi
grep -E '^== |alert from the real probe|refused with|sensor .* only|RolledBack:|demo: all steps' "$st/demo.log" | sed 's/^/   /'
grep -q '"rule": "Shell spawned in production database container"' "$st/demo.log" || fail "no alert printed"
pass "demo: alert, refusal, upgrade, rollback, summary"
