# Helpers for the operator e2e tests (source it after nothing else; it sources e2e/lib.sh).
# Operators run as local processes against the shared cluster, in namespace vigil-e2e-operator,
# on random local ports; everything a test starts or creates is removed by op_cleanup (EXIT trap).
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

OPNS=vigil-e2e-operator
OP_BIN=$VIGIL_BIN/vigil-operator
OP_TMP=$(mktemp -d /tmp/vigil-e2e-op.XXXXXX)
OP_PIDS=()
[ -x "$OP_BIN" ] || fail "no operator binary at $OP_BIN (run make)"

kc get namespace $OPNS >/dev/null 2>&1 || kc create namespace $OPNS >/dev/null
for crd in rulesets sensorfleets sensornodes; do
	kc get crd $crd.vigil.dev >/dev/null 2>&1 || kc apply -f "$E2E_ROOT/crds/vigil.dev_$crd.yaml" >/dev/null
	kc wait --for=condition=Established crd/$crd.vigil.dev --timeout=30s >/dev/null || fail "crd $crd"
done

# free_port: a local TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$((27000 + RANDOM % 5000)) # below the ephemeral range, clear of the clusters
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo $p; return; }
	done
}

# op_start NAME METRICS_PORT [ARGS...]: starts an operator; its log is $OP_TMP/NAME.log.
op_start() {
	local name=$1 port=$2
	shift 2
	"$OP_BIN" --kubeconfig "$KUBECONFIG_OUT" --namespace $OPNS --watch-namespace $OPNS --metrics-addr "127.0.0.1:$port" \
		--webhook-cert-dir "$OP_TMP/certs-$name" --identity "e2e-$name" "$@" \
		>>"$OP_TMP/$name.log" 2>&1 &
	echo $! >"$OP_TMP/$name.pid"
	disown $! 2>/dev/null || true
	OP_PIDS+=($!)
}

# op_pid NAME
op_pid() { cat "$OP_TMP/$1.pid"; }

# op_kill NAME [SIGNAL]: stops that operator (ours, by pid) and waits for it.
op_kill() {
	local pid
	pid=$(op_pid "$1")
	kill -"${2:-TERM}" "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
}

# op_ready PORT: /readyz answers 200.
op_ready() { curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null 2>&1; }

# op_metric PORT NAME [LABEL_FILTER]: sum of the series of NAME (containing LABEL_FILTER).
op_metric() {
	curl -fsS "http://127.0.0.1:$1/metrics" 2>/dev/null |
		awk -v n="$2" -v f="${3:-}" '$1 ~ "^"n"({|$)" && index($1, f) { s += $2 } END { print s + 0 }'
}

# rs_field NAME JSONPATH
rs_field() { kc -n $OPNS get ruleset "$1" -o "jsonpath=$2" 2>/dev/null; }
rs_cond() { rs_field "$1" "{.status.conditions[?(@.type==\"$2\")].status}"; }
rs_accepted() { [ "$(rs_cond "$1" Accepted)" = "$2" ]; }

# bundle_key_has TEXT: some file of the bundle ConfigMap contains TEXT.
bundle_has() { kc -n $OPNS get configmap vigil-rules -o json 2>/dev/null | grep -qF -- "$1"; }

# ruleset NAME ORDER RULES_TEXT [NODE_LABEL=VALUE]: prints a RuleSet manifest (with a nodeSelector
# when the fourth argument is given).
ruleset() {
	printf 'apiVersion: vigil.dev/v1alpha1\nkind: RuleSet\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  order: %s\n' \
		"$1" $OPNS "$2"
	[ -z "${4:-}" ] || printf '  nodeSelector:\n    %s: "%s"\n' "${4%%=*}" "${4#*=}"
	printf '  rules: |\n'
	printf '%s\n' "$3" | sed 's/^/    /'
}

GOOD_RULES='- list: shells
  items: [bash, sh]
- rule: Shell in container
  desc: a shell started in a container
  condition: evt.type = execve and proc.name in (shells)
  output: "shell %proc.name"
  priority: WARNING'
BAD_RULES='- rule: Broken rule
  desc: refers to a field that does not exist
  condition: evt.type = execve and proc.nme = bash
  output: "x %proc.name"
  priority: WARNING'

op_cleanup() {
	local pid
	for pid in "${OP_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${OP_PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	kc -n $OPNS delete rulesets --all --wait=false >/dev/null 2>&1 || true
	# the webhook configuration points at our (now stopped) local port: remove it when it is ours
	if kc get validatingwebhookconfiguration vigil-rulesets -o jsonpath='{.webhooks[0].clientConfig.url}' 2>/dev/null |
		grep -q "127.0.0.1:${OP_WEBHOOK_PORT:-none}/"; then
		kc delete validatingwebhookconfiguration vigil-rulesets >/dev/null 2>&1 || true
	fi
	if [ -n "${OP_KEEP_LOGS:-}" ] || [ "${1:-0}" != 0 ]; then
		echo "operator logs kept in $OP_TMP" >&2
		tail -n 30 "$OP_TMP"/*.log >&2 2>/dev/null || true
	else
		rm -rf "$OP_TMP"
	fi
}
trap 'op_cleanup $?' EXIT
