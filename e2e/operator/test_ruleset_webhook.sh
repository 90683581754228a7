#!/usr/bin/env bash
# A valid RuleSet becomes Accepted=True and lands in the bundle (hash = status.rulesHash); a broken
# one is refused by `kubectl apply` with the rule and line:column, through the admission webhook.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

port=$(free_port)
OP_WEBHOOK_PORT=$(free_port)
op_start a "$port" --webhook-addr "127.0.0.1:$OP_WEBHOOK_PORT" \
	--webhook-url-base "https://127.0.0.1:$OP_WEBHOOK_PORT"
eventually 30 "operator ready" op_ready "$port"
eventually 30 "webhook configuration points at us" \
	sh -c "$KUBECTL --kubeconfig $KUBECONFIG_OUT get validatingwebhookconfiguration vigil-rulesets -o jsonpath='{.webhooks[0].clientConfig.url}' | grep -q 127.0.0.1:$OP_WEBHOOK_PORT"
ca=$(kc get validatingwebhookconfiguration vigil-rulesets -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
[ -n "$ca" ] || fail "caBundle empty"
pass "caBundle set"

ruleset e2e-good 10 "$GOOD_RULES" | kc apply -f - >/dev/null || fail "apply valid RuleSet"
eventually 30 "valid RuleSet Accepted=True" rs_accepted e2e-good True
expect_eq "ruleCount" "$(rs_field e2e-good '{.status.ruleCount}')" 1
expect_eq "Accepted reason" "$(rs_field e2e-good '{.status.conditions[?(@.type=="Accepted")].reason}')" Valid
eventually 30 "rules in the bundle" bundle_has "Shell in container"
eventually 30 "status.rulesHash = bundle.sha256" sh -c \
	"[ \"\$($KUBECTL --kubeconfig $KUBECONFIG_OUT -n $OPNS get cm vigil-rules -o jsonpath='{.data.bundle\.sha256}')\" = \"\$($KUBECTL --kubeconfig $KUBECONFIG_OUT -n $OPNS get ruleset e2e-good -o jsonpath='{.status.rulesHash}')\" ]"
expect_eq "observedGeneration" "$(rs_field e2e-good '{.status.observedGeneration}')" \
	"$(rs_field e2e-good '{.metadata.generation}')"

set +e
out=$(ruleset e2e-bad 20 "$BAD_RULES" | kc apply -f - 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "broken RuleSet was accepted by kubectl apply"
echo "$out" | grep -q "denied the request" || fail "not refused by the webhook: $out"
echo "$out" | grep -Eq "3:36: rule 'Broken rule'" || fail "no rule and line:column in: $out"
pass "kubectl apply refused: $(echo "$out" | sed 's/.*denied the request: //')"
kc -n $OPNS get ruleset e2e-bad >/dev/null 2>&1 && fail "refused RuleSet exists"
pass "refused RuleSet not stored"
[ "$(op_metric "$port" vigil_webhook_requests_total 'denied')" -ge 1 ] || fail "denied not counted"
pass "webhook metrics count the denial"
