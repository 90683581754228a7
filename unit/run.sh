#!/usr/bin/env bash
# Runs each cmocka test binary given; prints a summary and fails when any test fails.
# VALGRIND=1 runs each under valgrind (memcheck, leaks are errors).
set -u
fail=0
for t in "$@"; do
	if [ -n "${VALGRIND:-}" ]; then
		cmd=(valgrind -q --suppressions="$(dirname "$0")/valgrind.supp" --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect "$t")
	else
		cmd=("$t")
	fi
	if ! "${cmd[@]}" >"/tmp/vigil-unit.$$.log" 2>&1; then
		cat "/tmp/vigil-unit.$$.log"
		echo "FAILED: $t"
		fail=$((fail + 1))
	else
		grep -E '^\[  (PASSED|SKIPPED) ' "/tmp/vigil-unit.$$.log" | sed "s|^|$(basename "$t"): |"
	fi
done
rm -f "/tmp/vigil-unit.$$.log"
echo "unit${VALGRIND:+ (valgrind)}: $# test programs, $fail failed"
[ $fail -eq 0 ]
