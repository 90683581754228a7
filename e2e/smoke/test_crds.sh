#!/usr/bin/env bash
# CRDs install, samples apply, printer columns show, schema violations are refused with a clear message.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

out=$(kc apply --server-side --force-conflicts --dry-run=server --validate=strict -f "$E2E_ROOT/crds/" 2>&1) ||
	fail "CRDs fail strict validation: $out"
pass "CRDs pass strict schema validation"
kc apply -f "$E2E_ROOT/crds/" >/dev/null
for crd in rulesets sensorfleets sensornodes; do
	kc wait --for=condition=Established "crd/$crd.vigil.dev" --timeout=30s >/dev/null ||
		fail "crd $crd not established"
done
pass "three CRDs established"

ns=vigil-e2e-smoke
kc create namespace $ns --dry-run=client -o yaml | kc apply -f - >/dev/null
trap 'kc delete namespace $ns --wait=false >/dev/null 2>&1; kc delete sensornode example-node >/dev/null 2>&1' EXIT
for f in "$E2E_ROOT"/manifests/samples/*.yaml; do
	sed "s/namespace: vigil-system/namespace: $ns/" "$f" | kc apply -f - >/dev/null || fail "apply $f"
done
pass "samples applied"

# Defaults from the schema.
expect_eq "sensorfleet default gapBudgetSeconds" \
	"$(kc -n $ns get sensorfleet default -o jsonpath='{.spec.rollout.gapBudgetSeconds}')" 120
expect_eq "sensorfleet default maxNodesWithoutDetection" \
	"$(kc -n $ns get sf default -o jsonpath='{.spec.rollout.maxNodesWithoutDetection}')" 1
expect_eq "ruleset order" "$(kc -n $ns get vrs production-db -o jsonpath='{.spec.order}')" 100

# Printer columns.
hdr=$(kc -n $ns get sensorfleets | head -1 | tr -s ' ')
expect_eq "sensorfleet columns" "$hdr" "NAME TARGET CURRENT NODES UPDATED COVERED AVAILABLE AGE"
hdr=$(kc get sensornodes | head -1 | tr -s ' ')
expect_eq "sensornode columns" "$hdr" "NAME READY PROBE REASON DRIVER RULES EPS HEARTBEAT"
hdr=$(kc -n $ns get rulesets | head -1 | tr -s ' ')
expect_eq "ruleset columns" "$hdr" "NAME ACCEPTED RULES ORDER APPLIED AGE"
kc explain sensorfleet.spec.rollout.gapBudgetSeconds | grep -q "Coverage gap" || fail "kubectl explain lacks descriptions"
pass "kubectl explain shows descriptions"

# Schema violations.
bad() {
	local what=$1 want=$2 out
	if out=$(kc -n $ns apply -f - 2>&1); then
		fail "$what was accepted"
	fi
	echo "$out" | grep -q -- "$want" || fail "$what: message lacks '$want': $out"
	pass "$what refused: $(echo "$out" | grep -o -- "$want" | head -1)"
}
bad "bufSizePreset 11" "spec.bufSizePreset: Invalid value: 11: spec.bufSizePreset in body should be less than or equal to 10" <<Y
apiVersion: vigil.dev/v1alpha1
kind: SensorFleet
metadata: {name: bad-preset}
spec: {driverVersion: 0.1.0, image: x, bufSizePreset: 11}
Y
bad "missing driverVersion" 'spec.driverVersion: Required value' <<Y
apiVersion: vigil.dev/v1alpha1
kind: SensorFleet
metadata: {name: no-version}
spec: {image: x}
Y
bad "maxParallel over CEL limit" 'maxParallel must be at most 1000' <<Y
apiVersion: vigil.dev/v1alpha1
kind: SensorFleet
metadata: {name: wide}
spec: {driverVersion: 0.1.0, image: x, rollout: {maxParallel: 5000}}
Y
bad "empty rules" 'spec.rules: Invalid value: "": spec.rules in body should be at least 1 chars long' <<Y
apiVersion: vigil.dev/v1alpha1
kind: RuleSet
metadata: {name: empty}
spec: {rules: ""}
Y

# The field reference is generated from the CRDs and must match them.
if python3 -c 'import yaml' 2>/dev/null; then
	python3 "$E2E_ROOT/tools/crd-doc.py" | diff -q - "$E2E_ROOT/docs/crds.md" >/dev/null ||
		fail "docs/crds.md is stale: run python3 tools/crd-doc.py > docs/crds.md"
	pass "docs/crds.md matches the CRDs"
fi
