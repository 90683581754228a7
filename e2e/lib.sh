# Helpers for e2e scripts (source it). Each test script exits non-zero on the first failed check.
E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$E2E_ROOT/cluster/versions.sh"
. "$E2E_ROOT/cluster/lib.sh"
export KUBECONFIG=$KUBECONFIG_OUT
# Binaries under test: bin/ by default, bin/san when the tests run with sanitizers.
VIGIL_BIN=${VIGIL_BIN:-$E2E_ROOT/bin}

e2e_name=$(basename "${0%.sh}")
pass() { printf '  ok   %s: %s\n' "$e2e_name" "$*"; }
fail() {
	printf '  FAIL %s: %s\n' "$e2e_name" "$*" >&2
	exit 1
}
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] && pass "$1 = '$3'" || fail "$1: got '$2', want '$3'"; }
# eventually SECONDS DESCRIPTION COMMAND...: retries until the command succeeds.
eventually() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 4; i++)); do
		"$@" >/dev/null 2>&1 && { pass "$what"; return 0; }
		sleep 0.25
	done
	fail "$what (not within ${secs}s)"
}
