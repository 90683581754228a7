# Shared functions and settings of the cluster scripts (sourced after versions.sh).
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${VIGIL_CLUSTER_STATE:-$ROOT/.cache/cluster}
PKI=$STATE/pki
KUBECONFIG_OUT=$STATE/kubeconfig
ETCD_PORT=${VIGIL_ETCD_PORT:-23790}
ETCD_PEER_PORT=${VIGIL_ETCD_PEER_PORT:-23800}
APISERVER_PORT=${VIGIL_APISERVER_PORT:-26443}
KCM_PORT=${VIGIL_KCM_PORT:-26257}
SCHED_PORT=${VIGIL_SCHED_PORT:-26259}
KWOK_PORT=${VIGIL_KWOK_PORT:-26270}
SERVICE_CIDR=10.96.0.0/16
# The preinstalled kubectl may be older than the server; use the one built from the same release.
KUBECTL=$K8S_BIN/kubectl
[ -x "$KUBECTL" ] || KUBECTL=kubectl

log() { printf 'cluster: %s\n' "$*" >&2; }
kc() { "$KUBECTL" --kubeconfig "$KUBECONFIG_OUT" "$@"; }

# pid_alive NAME: the process recorded in run/NAME.pid is still ours and running.
pid_alive() {
	local f=$STATE/run/$1.pid pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	kill -0 "$pid" 2>/dev/null
}

cluster_running() { pid_alive kube-apiserver && [ -f "$KUBECONFIG_OUT" ]; }

# start NAME BINARY ARGS...: runs the program in the background, logs to logs/NAME.log, pid in run/.
start() {
	local name=$1
	shift
	log "starting $name"
	setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
	echo $! >"$STATE/run/$name.pid"
}

start_apiserver() {
	start kube-apiserver "$K8S_BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
		--tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" --authorization-mode Node,RBAC \
		--allow-privileged=true --endpoint-reconciler-type none \
		--enable-priority-and-fairness=false --profiling=false
}

# wait_for WHAT SECONDS COMMAND...: retries the command every half second until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 2; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	log "error: timed out after ${secs}s waiting for $what; logs in $STATE/logs/"
	tail -n 20 "$STATE"/logs/*.log >&2 || true
	return 1
}

nodes_ready() {
	local want=$1 n
	n=$(kc get nodes -l type=kwok -o json |
		jq '[.items[] | select(.status.conditions[]? | select(.type=="Ready" and .status=="True"))] | length')
	[ "$n" -ge "$want" ]
}

gen_certs() {
	[ -f "$PKI/ca.crt" ] && return 0
	log "generating certificates with openssl"
	(
		cd "$PKI"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 365 \
			-subj "/CN=vigil-local-ca" 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		# name CN O [SANs]
		issue() {
			local name=$1 cn=$2 o=$3 san=${4:-}
			openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
				-subj "/CN=$cn${o:+/O=$o}" 2>/dev/null
			{
				echo "basicConstraints=CA:FALSE"
				echo "keyUsage=digitalSignature,keyEncipherment"
				if [ -n "$san" ]; then
					echo "extendedKeyUsage=serverAuth,clientAuth"
					echo "subjectAltName=$san"
				else
					echo "extendedKeyUsage=clientAuth"
				fi
			} >"$name.ext"
			openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
				-out "$name.crt" -days 365 -extfile "$name.ext" 2>/dev/null
			rm -f "$name.csr" "$name.ext"
		}
		issue apiserver kube-apiserver "" \
			"IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
		issue admin vigil-admin system:masters
		issue controller-manager system:kube-controller-manager ""
		issue scheduler system:kube-scheduler ""
		issue kwok kwok system:masters
	)
}

# write_kubeconfig FILE USER: a kubeconfig for the local API server with USER's client certificate.
write_kubeconfig() {
	local file=$1 user=$2
	cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: vigil-local
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    client-certificate: $PKI/$user.crt
    client-key: $PKI/$user.key
contexts:
- name: vigil-local
  context: {cluster: vigil-local, user: $user}
current-context: vigil-local
KC
}

write_kubeconfigs() {
	write_kubeconfig "$KUBECONFIG_OUT" admin
	write_kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
	write_kubeconfig "$STATE/scheduler.kubeconfig" scheduler
	write_kubeconfig "$STATE/kwok.kubeconfig" kwok
}

# stop NAME: TERM, then KILL after a grace period, the process recorded in run/NAME.pid.
stop() {
	local name=$1 f=$STATE/run/$1.pid pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# sa_kubeconfig NS SA FILE: writes FILE, a kubeconfig authenticating as service account NS/SA with a
# token from the TokenRequest API (what a pod of that account would get).
sa_kubeconfig() {
	local ns=$1 sa=$2 file=$3 tok
	tok=$(kc -n "$ns" create token "$sa" --duration 12h) || return 1
	cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: vigil-local
  cluster: {server: "https://127.0.0.1:$APISERVER_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: $ns-$sa
  user: {token: "$tok"}
contexts:
- name: vigil-local
  context: {cluster: vigil-local, user: $ns-$sa}
current-context: vigil-local
KC
}
