#!/usr/bin/env bash
# Without the webhook an invalid RuleSet gets in: it is Accepted=False with line:column, the bundle
# keeps its last good rules, and the other RuleSets keep working.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

port=$(free_port)
op_start a "$port" --no-webhook
kc delete validatingwebhookconfiguration vigil-rulesets --ignore-not-found >/dev/null
eventually 30 "operator ready" op_ready "$port"

ruleset e2e-lg 10 "$GOOD_RULES" | kc apply -f - >/dev/null
eventually 30 "v1 Accepted=True" rs_accepted e2e-lg True
eventually 30 "v1 in the bundle" bundle_has "Shell in container"

ruleset e2e-lg 10 "$BAD_RULES" | kc apply -f - >/dev/null || fail "apply without webhook"
eventually 30 "v2 Accepted=False" rs_accepted e2e-lg False
expect_eq "reason" "$(rs_field e2e-lg '{.status.conditions[?(@.type=="Accepted")].reason}')" InvalidRules
msg=$(rs_field e2e-lg '{.status.conditions[?(@.type=="Accepted")].message}')
echo "$msg" | grep -q "3:36: rule 'Broken rule'" || fail "message without line:column: $msg"
pass "message: $msg"
expect_eq "observedGeneration" "$(rs_field e2e-lg '{.status.observedGeneration}')" 2
bundle_has "Shell in container" || fail "last good rules left the bundle"
bundle_has "Broken rule" && fail "broken rules reached the bundle"
pass "bundle keeps the last good rules"
expect_eq "Applied reason" "$(rs_field e2e-lg '{.status.conditions[?(@.type=="Applied")].reason}')" LastGoodApplied

ruleset e2e-other 20 "- macro: other_macro
  condition: proc.name = other" | kc apply -f - >/dev/null
eventually 30 "another RuleSet still Accepted" rs_accepted e2e-other True
eventually 30 "and in the bundle" bundle_has other_macro
bundle_has "Shell in container" || fail "last good rules lost after another change"
pass "last good kept through another bundle change"
w=$(kc get events -n $OPNS --field-selector reason=InvalidRules,involvedObject.name=e2e-lg -o name | wc -l)
[ "$w" -ge 1 ] || fail "no InvalidRules event"
pass "InvalidRules event recorded"

ruleset e2e-lg 10 "$GOOD_RULES
- macro: fixed_again
  condition: proc.name = fixed" | kc apply -f - >/dev/null
eventually 30 "fixed RuleSet Accepted=True" rs_accepted e2e-lg True
eventually 30 "fixed version in the bundle" bundle_has fixed_again
