#!/usr/bin/env bash
# The main job, end to end, on this machine (make demo):
#   a local cluster (kwok nodes + this machine as node vigil-host, whose sensor runs the real eBPF
#   probe), the CRDs, RBAC and the operator (a local process authenticated as its service account);
#   then 1. a rule firing on a shell in a production database stand-in container, 2. a broken RuleSet
#   refused, 3. a driver upgrade node by node with each node's coverage gap, 4. a bad driver version
#   rolled back automatically, 5. a summary.
# Exits non-zero when any step does not happen, so it doubles as the top-level end-to-end test.
#   e2e/demo.sh [--down]     --down: stop the cluster and everything at the end
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/cluster/versions.sh"
. "$root/cluster/lib.sh"
export KUBECONFIG=$KUBECONFIG_OUT
VIGIL_BIN=${VIGIL_BIN:-$root/bin}
export VIGIL_BIN
NS=vigil-system
OP_METRICS=127.0.0.1:${VIGIL_DEMO_METRICS_PORT:-28080}
OP_WEBHOOK=127.0.0.1:${VIGIL_DEMO_WEBHOOK_PORT:-29443}
DOWN=0
for a in "$@"; do
	case $a in
	--down) DOWN=1 ;;
	-h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown option $a" >&2; exit 2 ;;
	esac
done

B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'
[ -t 1 ] || B= G= R= N=
step() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
say() { printf '   %s\n' "$*"; }
die() {
	printf '%sdemo failed: %s%s\n' "$R" "$*" "$N" >&2
	printf 'logs: %s/logs/ (operator.log, hostnode.log, ...)\n' "$STATE" >&2
	exit 1
}
# wait_until SECONDS WHAT COMMAND...
wait_until() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 2; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	die "$what did not happen within ${secs}s"
}
cond() { kc get "$1" ${2:+-n "$2"} -o jsonpath="{.status.conditions[?(@.type==\"$3\")].status}" 2>/dev/null; }
cond_is() { [ "$(cond "$1" "$2" "$3")" = "$4" ]; }
sfj() { kc -n $NS get sensorfleet demo -o json; }

finish() {
	local rc=$?
	if [ $DOWN = 1 ]; then
		"$root/cluster/down.sh" || true
	fi
	exit $rc
}
trap finish EXIT

step "0. Setting up: packages, build, local cluster, CRDs, RBAC, operator"
"$root/tools/deps.sh" | sed 's/^/   /'
make -C "$root" -s -j2 all
[ -x "$VIGIL_BIN/vigil-operator" ] || die "no operator binary in $VIGIL_BIN"
"$root/cluster/up.sh" 2>&1 | sed 's/^/   /'
kc apply -k "$root/manifests/" >/dev/null 2>&1 || kc apply -k "$root/manifests/" >/dev/null
kc scale -n $NS deployment/vigil-operator --replicas=0 >/dev/null # no kubelet runs images here
kc wait --for=condition=Established crd/sensorfleets.vigil.dev --timeout=30s >/dev/null
say "CRDs, namespace $NS, RBAC applied (kubectl apply -k manifests/)"
"$root/cluster/hostnode.sh" start 2>&1 | sed 's/^/   /'
"$root/cluster/simfleet.sh" start 2>&1 | sed 's/^/   /'
if ! pid_alive operator; then
	for p in $OP_METRICS $OP_WEBHOOK; do
		(exec 3<>"/dev/tcp/${p%:*}/${p#*:}") 2>/dev/null &&
			die "port $p is in use; set VIGIL_DEMO_METRICS_PORT / VIGIL_DEMO_WEBHOOK_PORT"
	done
	sa_kubeconfig $NS vigil-operator "$STATE/operator.kubeconfig"
	start operator "$VIGIL_BIN/vigil-operator" --kubeconfig "$STATE/operator.kubeconfig" \
		--namespace $NS --metrics-addr $OP_METRICS --webhook-addr $OP_WEBHOOK \
		--webhook-url-base https://$OP_WEBHOOK --webhook-cert-dir "$STATE/webhook" \
		--leader-elect --identity demo
fi
wait_until 60 "operator ready" curl -fsS http://$OP_METRICS/readyz
say "operator running as service account $NS/vigil-operator (metrics http://$OP_METRICS/metrics)"

step "1. A rule fires: a shell in a production database container"
kc apply -f "$root/manifests/samples/ruleset-production-db.yaml" >/dev/null
wait_until 30 "RuleSet Accepted" cond_is ruleset/production-db $NS Accepted True
say "RuleSet production-db: Accepted=True, $(kc -n $NS get vrs production-db -o jsonpath='{.status.ruleCount}') rules"
kc apply -f - >/dev/null <<Y
apiVersion: vigil.dev/v1alpha1
kind: SensorFleet
metadata: {name: demo, namespace: $NS}
spec:
  driverVersion: 0.1.0
  image: vigil/sensor:0.1.0
  heartbeatSeconds: 2
  rollout: {maxParallel: 1, makeBeforeBreak: true, maxNodesWithoutDetection: 1, gapBudgetSeconds: 15}
Y
nodes=$(kc get nodes --no-headers | wc -l)
wait_until 120 "fleet Available on all $nodes nodes" kc -n $NS wait --for=condition=Available sensorfleet/demo --timeout=1s
say "SensorFleet demo: driver 0.1.0 on $nodes nodes, all with detection"
hash=$(kc -n $NS get configmap vigil-rules -o jsonpath='{.data.bundle\.sha256}')
wait_until 60 "vigil-host runs the rules bundle" bash -c \
	"[ \"\$($KUBECTL --kubeconfig $KUBECONFIG get sn vigil-host -o jsonpath='{.status.rulesHash}')\" = $hash ]"
say "sensor on vigil-host (real eBPF probe) loaded bundle ${hash:0:12}"

# The stand-in container: a pod object on vigil-host whose container id names a real cgroup here.
cid=$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
cg=$cg2/vigil-demo/cri-containerd-$cid.scope
mkdir -p "$cg"
kc create namespace production --dry-run=client -o yaml | kc apply -f - >/dev/null
kc -n production delete pod payments-db-6f7c9d-mn4xp --force --grace-period=0 >/dev/null 2>&1 || true
kc -n production apply -f - >/dev/null <<Y
apiVersion: v1
kind: Pod
metadata:
  name: payments-db-6f7c9d-mn4xp
  labels: {app: payments-db}
  annotations: {kwok.x-k8s.io/status: custom}
spec:
  nodeName: vigil-host
  containers: [{name: db, image: "harbor.golems.internal/golem-trust/payments-db:2.1.4"}]
Y
kc -n production patch pod payments-db-6f7c9d-mn4xp --subresource=status --type=merge -p \
	'{"status":{"phase":"Running","containerStatuses":[{"name":"db","ready":true,"restartCount":0,"image":"harbor.golems.internal/golem-trust/payments-db:2.1.4","imageID":"","containerID":"containerd://'"$cid"'","state":{"running":{}}}]}}' >/dev/null
say "stand-in container: pod production/payments-db-6f7c9d-mn4xp, cgroup ${cg#$cg2/}"
sleep 3 # the sensor learns the pod from its watch
alerts=$STATE/hostnode/alerts.jsonl
before=$(wc -l <"$alerts" 2>/dev/null || echo 0)
say "running /bin/bash in it (new PID and mount namespaces, its cgroup) and reading /etc/shadow"
printf 'cat /etc/shadow >/dev/null\n' | sh -c "echo \$\$ > '$cg/cgroup.procs' && exec unshare --pid --mount --fork --mount-proc /bin/bash"
shell_alert() { tail -n +$((before + 1)) "$alerts" | grep -m1 '"rule":"Shell spawned in production database container"'; }
wait_until 15 "the shell alert" shell_alert
say "${G}alert from the real probe:${N}"
shell_alert | jq . | sed 's/^/     /'
rmdir "$cg" "$cg2/vigil-demo" 2>/dev/null || true

step "2. A broken RuleSet is refused"
bad=$(mktemp)
cat >"$bad" <<Y
apiVersion: vigil.dev/v1alpha1
kind: RuleSet
metadata: {name: broken, namespace: $NS}
spec:
  rules: |
    - rule: Broken rule
      desc: refers to a field that does not exist
      condition: evt.type = execve and proc.nmae = bash
      output: "oops %proc.name"
      priority: WARNING
Y
say "\$ kubectl apply -f broken-ruleset.yaml"
if out=$(kc apply -f "$bad" 2>&1); then
	die "the broken RuleSet was accepted: $out"
fi
rm -f "$bad"
printf '     %s\n' "$out"
echo "$out" | grep -Eq '[0-9]+:[0-9]+' || die "refusal names no line:column"
say "${G}refused with line:column; the running rules are untouched${N}"

# node_versions: "node=versions" from the sensor pods running on each node ("0.1.0+0.2.0" while a
# new sensor runs beside the old one: make-before-break).
node_versions() {
	kc -n $NS get pods -l app.kubernetes.io/name=vigil-sensor -o json | jq -r '
		[.items[] | select(.metadata.deletionTimestamp == null and .status.phase == "Running") |
		 {n: .spec.nodeName, v: (.spec.containers[0].env[] | select(.name == "VIGIL_DRIVER_VERSION") | .value)}] |
		group_by(.n)[] | "\(.[0].n)=\([.[].v] | unique | join("+"))"'
}
# node_gap NODE: the node's coverage gap in the current/last rollout, from the operator's metrics.
node_gap() {
	curl -fsS http://$OP_METRICS/metrics 2>/dev/null |
		awk -v n="node=\"$1\"" '/^vigil_sensorfleet_node_rollout_gap_seconds/ && index($0, n) { print $2; exit }'
}
# watch_rollout UNTIL SECONDS: one line per node that changes version (with its gap and the fleet's
# coverage) and per change of the fleet's problems, until UNTIL succeeds.
watch_rollout() {
	local until=$1 secs=$2 i last_p="" p fleet cov nv prev="" n v
	prev=$(node_versions)
	for ((i = 0; i < secs * 2; i++)); do
		fleet=$(sfj)
		cov=$(jq -r '"covered \(.status.nodes.withDetection // 0)/\(.status.nodes.total // 0), updated \(.status.nodes.updated // 0)/\(.status.nodes.total // 0)"' <<<"$fleet")
		nv=$(node_versions)
		while IFS='=' read -r n v; do
			[ -n "$n" ] || continue
			grep -qx "$n=$v" <<<"$prev" && continue
			case $v in
			*+*) say "$(date +%T) $n: sensors $v (new one starting beside the old); fleet $cov" ;;
			*) say "$(date +%T) $n: sensor $v only; node's coverage gap $(node_gap "$n")s; fleet $cov" ;;
			esac
		done <<<"$nv"
		prev=$nv
		p=$(jq -r '[.status.problemNodes // [] | .[] | "\(.name) \(.reason)"] | join(", ")' <<<"$fleet")
		if [ -n "$p" ] && [ "$p" != "$last_p" ]; then
			say "$(date +%T) new version without detection on: $p (old sensors still cover these nodes); fleet $cov"
		fi
		last_p=$p
		"$until" && return 0
		sleep 0.5
	done
	die "rollout did not settle within ${secs}s"
}

step "3. Upgrading the driver to 0.2.0, node by node (make-before-break)"
kc -n $NS patch sensorfleet demo --type=merge -p '{"spec":{"driverVersion":"0.2.0","image":"vigil/sensor:0.2.0"}}' >/dev/null
all_on() { [ -z "$(node_versions | grep -v "=$1\$")" ]; }
upgraded() { [ "$(sfj | jq -r '.status.currentVersion')" = 0.2.0 ] && cond_is sensorfleet/demo $NS Available True && all_on 0.2.0; }
watch_rollout upgraded 300
say "${G}every node on 0.2.0 with detection; largest gap $(sfj | jq -r '.status.lastRollout.maxGapSeconds // 0')s, total $(sfj | jq -r '.status.lastRollout.totalGapSeconds // 0')s${N}"
kc get sensorfleet -A
kc get sensornodes

step "4. A bad driver (0.3.0-bad: its probe fails the verifier) is rolled back automatically"
kc -n $NS patch sensorfleet demo --type=merge -p '{"spec":{"driverVersion":"0.3.0-bad","image":"vigil/sensor:0.3.0-bad"}}' >/dev/null
rolled_back() { cond_is sensorfleet/demo $NS RolledBack True && [ "$(sfj | jq -r .status.currentVersion)" = 0.2.0 ] && cond_is sensorfleet/demo $NS Available True && all_on 0.2.0; }
watch_rollout rolled_back 300
say "${G}RolledBack: $(kc -n $NS get sensorfleet demo -o jsonpath='{.status.conditions[?(@.type=="RolledBack")].reason}: {.status.conditions[?(@.type=="RolledBack")].message}')${N}"
kc -n $NS get events --field-selector involvedObject.name=demo,reason=CoverageLost -o custom-columns=REASON:.reason,MESSAGE:.message | sed 's/^/   /'
say "fleet back to full coverage on 0.2.0"

step "5. Summary"
kc get sensornodes -o json | jq -r '
	["NODE", "DRIVER", "READY", "REASON"], (.items[] | select(.metadata.name | startswith("bench-") | not) |
	[.metadata.name, .status.driverVersion, (.status.conditions[]? | select(.type == "Ready") | .status),
	 (.status.conditions[]? | select(.type == "Ready") | .reason)]) | @tsv' | column -t | sed 's/^/   /'
sfj | jq -r '"   fleet: current \(.status.currentVersion), last good \(.status.lastGoodVersion), rolled back \(.status.rolledBackVersion // "-"); last rollout max gap \(.status.lastRollout.maxGapSeconds // 0)s, total \(.status.lastRollout.totalGapSeconds // 0)s"'
cat <<TXT

   Look around:  export KUBECONFIG=$KUBECONFIG
                 kubectl get sf,vrs -A; kubectl get sn; kubectl describe sf -n $NS demo
                 curl -s http://$OP_METRICS/metrics | grep vigil_
                 alerts: $alerts   logs: $STATE/logs/
   Stop:         make cluster-down
TXT
printf '%sdemo: all steps happened%s\n' "$G" "$N"
