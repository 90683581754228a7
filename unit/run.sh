#!/usr/bin/env bash
# Runs each cmocka test binary given; prints a summary and fails when any test fails.
set -u
fail=0
for t in "$@"; do
	if ! "$t"; then
		echo "FAILED: $t"
		fail=$((fail + 1))
	fi
done
echo "unit: $# test programs, $fail failed"
[ $fail -eq 0 ]
