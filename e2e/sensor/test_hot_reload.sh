#!/usr/bin/env bash
# Hot reload of -r directories: a broken file keeps the last good rules alerting (RulesLoaded
# false with FILE:LINE:COL in /metrics, /readyz still 200, an internal alert); fixing it loads the
# new set; a set whose files depend on each other arriving one by one never loads half; a
# ConfigMap-style "..data" symlink swap is picked up.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib.sh"

SHELL_RULE="Shell spawned in production database container"
R=$T/rules
mkdir -p "$R"
cp "$RULES_DIR/production-db.yaml" "$R/10-production-db.yaml"

rules_loaded_is() { metric "vigil_sensor_rules_loaded $1"; }

standin_new
sensor_start -r "$R" --pod-metadata "$T/pods.json" --reload-debounce-ms 300
eventually 15 "ready" readyz_is 200
standin_shell 'true'
eventually 10 "shell alert with the first rules" alerts_at_least "$SHELL_RULE" 1
hash1=$(rules_hash)

# 1. a broken file: the last good set stays active
cat >"$R/20-broken.yaml" <<'EOF'
- rule: Broken rule
  desc: refers to a field that does not exist
  condition: evt.type = execve and proc.nme = bash
  output: broken
  priority: WARNING
EOF
eventually 10 "RulesLoaded false in /metrics" rules_loaded_is 0
jq -e 'select(.rule == "Vigil rules reload failed" and .priority == "ERROR" and .source == "internal")
	| .output | test("20-broken.yaml:3:36: unknown field .proc.nme.")' "$T/alerts.json" >/dev/null &&
	pass "internal alert names FILE:LINE:COL" || fail "internal alert: $(cat "$T/alerts.json")"
metric 'vigil_sensor_alerts_total{rule="Vigil rules reload failed",priority="ERROR"} 1' &&
	pass "internal alert counted" || fail "internal alert not counted"
expect_eq "/readyz with the last good rules" "$(http_code /readyz)" 200
expect_eq "rules hash unchanged" "$(rules_hash)" "$hash1"
standin_shell 'true'
eventually 10 "old rules still alert" alerts_at_least "$SHELL_RULE" 2

# 2. fixed: the new set loads and its rule fires
cat >"$R/20-broken.yaml" <<'EOF'
- rule: Cat in production database container
  desc: cat started in a production database container
  condition: evt.type in (execve, execveat) and production_db_container and proc.name = cat
  output: cat ran (cmd=%proc.cmdline pod=%k8s.pod.name)
  priority: NOTICE
EOF
eventually 10 "RulesLoaded true again" rules_loaded_is 1
standin_shell 'cat /dev/null'
eventually 10 "the new rule alerts" alerts_at_least "Cat in production database container" 1

# 3. files that depend on each other, arriving one by one, never load half
f0=$(metric_value vigil_sensor_rules_reload_failures_total)
cat >"$R/30-uses-macro.yaml" <<'EOF'
- rule: Head in production database container
  desc: uses a macro from the next file
  condition: evt.type in (execve, execveat) and head_in_db
  output: head ran (cmd=%proc.cmdline)
  priority: NOTICE
EOF
sleep 0.1
cat >"$R/31-macro.yaml" <<'EOF'
- macro: head_in_db
  condition: production_db_container and proc.name = head
EOF
sleep 1.5
expect_eq "no failed reload for a set arriving file by file" \
	"$(metric_value vigil_sensor_rules_reload_failures_total)" "$f0"
standin_shell 'head -c0 /dev/null'
eventually 10 "the rule spread over two files alerts" \
	alerts_at_least "Head in production database container" 1
sensor_stop

# 4. a ConfigMap volume: files are symlinks into ..data, which is swapped atomically
C=$T/configmap
mkdir -p "$C/..2026_01_01_00_00_00.000000001"
cp "$RULES_DIR/production-db.yaml" "$C/..2026_01_01_00_00_00.000000001/rules.yaml"
ln -s ..2026_01_01_00_00_00.000000001 "$C/..data"
ln -s ..data/rules.yaml "$C/rules.yaml"
sensor_start -r "$C" --pod-metadata "$T/pods.json" --reload-debounce-ms 300
eventually 15 "ready (ConfigMap layout)" readyz_is 200
n0=$(alert_count "Tail in production database container")
new=$C/..2026_01_01_00_00_00.000000002
mkdir -p "$new"
cp "$RULES_DIR/production-db.yaml" "$new/rules.yaml"
cat >>"$new/rules.yaml" <<'EOF'

- rule: Tail in production database container
  desc: tail started in a production database container
  condition: evt.type in (execve, execveat) and production_db_container and proc.name = tail
  output: tail ran (cmd=%proc.cmdline)
  priority: NOTICE
EOF
ln -s ..2026_01_01_00_00_00.000000002 "$C/..data_tmp"
mv -T "$C/..data_tmp" "$C/..data"
eventually 10 "ConfigMap swap reloaded (3 rules)" metric 'vigil_sensor_rules 3'
standin_shell 'tail -c0 /dev/null'
eventually 10 "the rule from the swapped ConfigMap alerts" \
	alerts_at_least "Tail in production database container" $((n0 + 1))
