#!/usr/bin/env bash
# vigil-sensor's rules front end (issue 3): --validate, -r/--dry-run, -L [--json], --replay with the
# exact alerts of the hand-written trace. Needs no cluster; skips the upstream checks (with a
# message) when ../shared/upstream-rules (or $VIGIL_UPSTREAM_RULES) is absent.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

sensor=$VIGIL_BIN/vigil-sensor
[ -x "$sensor" ] || fail "$sensor not built"
tmp=$(mktemp -d /tmp/vigil-rules-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# a broken file: exit 1, FILE:LINE:COL: error: naming the item
cat >"$tmp/bad.yaml" <<'YAML'
- rule: r
  desc: d
  condition: evt.type = execve and proc.nme = x
  output: "o %proc.name"
  priority: WARNING
- list: l
  items: cp
YAML
if "$sensor" --validate "$tmp/bad.yaml" >"$tmp/out" 2>"$tmp/err"; then fail "--validate accepted a broken file"; fi
grep -qx "$tmp/bad.yaml:3:36: error: rule 'r': unknown field 'proc.nme'" "$tmp/err" ||
	{ cat "$tmp/err"; fail "unknown field diagnostic"; }
grep -qx "$tmp/bad.yaml:7:10: error: list 'l': 'items' is not a sequence" "$tmp/err" ||
	{ cat "$tmp/err"; fail "items diagnostic"; }
pass "--validate reports FILE:LINE:COL errors and exits non-zero"

# warnings alone still validate
printf -- '- rule: r\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: INFO\n  colour: red\n' >"$tmp/warn.yaml"
"$sensor" --validate "$tmp/warn.yaml" >"$tmp/out" 2>"$tmp/err" || fail "--validate failed on warnings only"
grep -q "warn.yaml:6:3: warning: rule 'r': unknown key 'colour'" "$tmp/err" || fail "warning not printed"
pass "--validate prints warnings and exits 0"

up=${VIGIL_UPSTREAM_RULES:-$E2E_ROOT/../shared/upstream-rules}
if [ ! -f "$up/falco_rules.yaml" ]; then
	pass "upstream rules not found at $up: upstream checks skipped"
	exit 0
fi
for f in falco_rules.yaml falco-incubating_rules.yaml falco-sandbox_rules.yaml; do
	"$sensor" --validate "$up/$f" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "$f does not validate"; }
	grep -q ": 0 error(s)" "$tmp/err" || fail "$f: errors reported"
done
pass "the three upstream files validate with zero errors"

"$sensor" -r "$up" --dry-run 2>"$tmp/err" || { cat "$tmp/err"; fail "--dry-run"; }
grep -q "^dry run: " "$tmp/err" || fail "--dry-run summary"
pass "--dry-run loads the folder"

want=$(grep -h '^- rule: ' "$up"/*.yaml | sed 's/^- rule: //' | sort -u | wc -l)
"$sensor" -r "$up" -L --json >"$tmp/list.json" 2>/dev/null || fail "-L --json"
got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rules"]))' "$tmp/list.json")
expect_eq "rules listed" "$got" "$want"
"$sensor" -r "$up" -L >"$tmp/list.txt" 2>/dev/null || fail "-L"
grep -q "^Terminal shell in container .*Notice .*true .*syscall$" "$tmp/list.txt" || fail "-L table row"
pass "-L lists every rule with priority, enabled and source"

"$sensor" -r "$up" --replay "$E2E_ROOT/e2e/traces/upstream-basic.jsonl" --hostname node-1 \
	>"$tmp/alerts" 2>"$tmp/err" || { cat "$tmp/err"; fail "--replay"; }
diff -u "$E2E_ROOT/e2e/traces/upstream-basic.expected.jsonl" "$tmp/alerts" || fail "alerts differ"
pass "--replay prints the exact expected alerts (3 rules, 4 events)"
