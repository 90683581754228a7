#!/usr/bin/env bash
# Runs the end-to-end tests against the local cluster: starts it when it isn't running (and stops it
# again at the end in that case), then runs every e2e/*/test_*.sh in name order.
#   e2e/run.sh [PATTERN]   only the tests whose path contains PATTERN
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/cluster/versions.sh"
. "$root/cluster/lib.sh"

started=0
if ! cluster_running; then
	"$root/cluster/up.sh" || exit 1
	started=1
fi
cleanup() { [ $started = 1 ] && [ -z "${VIGIL_KEEP_CLUSTER:-}" ] && "$root/cluster/down.sh"; }
trap cleanup EXIT

# Every test may rely on the three CRDs being served.
kc apply -f "$root/crds/" >/dev/null &&
	kc wait --for=condition=Established crd/rulesets.vigil.dev crd/sensorfleets.vigil.dev \
		crd/sensornodes.vigil.dev --timeout=60s >/dev/null || { echo "e2e: CRDs not served"; exit 1; }

failed=()
n=0
for t in $(ls "$root"/e2e/*/test_*.sh | sort); do
	case $t in *"${1:-}"*) ;; *) continue ;; esac
	n=$((n + 1))
	echo "== e2e ${t#$root/}"
	start=$(date +%s)
	if "$t"; then
		echo "   passed in $(($(date +%s) - start))s"
	else
		echo "   FAILED in $(($(date +%s) - start))s"
		failed+=("${t#$root/}")
	fi
done
echo "e2e: $n tests, ${#failed[@]} failed ${failed[*]:-}"
[ ${#failed[@]} -eq 0 ]
