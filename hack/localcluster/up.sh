#!/usr/bin/env bash
# Starts the local cluster: containerd, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy; with 2 nodes
# also node 2's own containerd-2, kubelet-2 and forward-2. Everything
# (state, logs, certs, containerd root/state/socket) lives under
# ${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}. Idempotent: a second
# call while the cluster runs only checks it. Stop with down.sh. The components
# (config, command line, environment, health) are defined in lib-components.sh,
# the nodes in lib-nodes.sh.
#
#   up.sh [--nodes N]   # N = 1 (default) or 2; or LC_NODES=N in the environment
#
# The Kubernetes version: KUBE_VERSION (versions.sh), one for every node
# (KUBE_VERSION=1.37) or one per node (KUBE_VERSION=1.34,1.37: node 1 runs
# kubelet 1.34 on Debian's containerd, node 2 kubelet 1.37 on containerd 2;
# the control plane runs 1.37). Default: 1.34 everywhere. Each version's
# binary and containerd 2 are built once and cached (build.sh,
# build-containerd.sh). The versions of the running cluster are recorded in
# $DIR/kube-versions; the other scripts (node.sh, component.sh) read them.
#
# The node count of the running cluster is recorded in $DIR/nodes. up.sh with
# no count while a cluster runs accepts whatever count runs; with a count that
# differs from the running one it says so and exits 1 (down.sh first, or
# node.sh add/remove 2).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t0=$(lc_now)

usage() { echo "usage: up.sh [--nodes N]   (N: 1..$MAX_NODES; or LC_NODES=N)" >&2; exit 2; }
nodes=${LC_NODES:-}
while (($# > 0)); do
  case "$1" in
    --nodes) (($# >= 2)) || usage; nodes=$2; shift 2 ;;
    --nodes=*) nodes=${1#--nodes=}; shift ;;
    *) usage ;;
  esac
done
asked=true
[[ -n "$nodes" ]] || { asked=false; nodes=1; }
if ! [[ "$nodes" =~ ^[0-9]+$ ]] || ((nodes < 1 || nodes > MAX_NODES)); then usage; fi

if [[ $(id -u) -ne 0 ]]; then
  echo "up.sh: must run as root (containerd, CNI, iptables, cgroups)" >&2
  exit 1
fi

# Each component's config file, command line, environment and health check
# are defined once, in lib-components.sh (component.sh uses the same).
kubeconfig="$ADMIN_KUBECONFIG"

# cluster_ready N: every component of an N-node cluster runs, the API server
# is ready and every node is Ready.
cluster_ready() {
  local c n
  lc_components "$1"
  for c in "${LC_COMPONENTS[@]}"; do lc_pid "$c" >/dev/null || return 1; done
  [[ -x "$LC" && -s "$kubeconfig" ]] || return 1
  lc_kubectl get --raw /readyz >/dev/null 2>&1 || return 1
  for ((n = 1; n <= $1; n++)); do
    lc_node "$n"
    lc_node_ready "$N_NAME" || return 1
  done
}

running=$(lc_node_count)
if cluster_ready "$running"; then
  if $asked && ((nodes != running)); then
    lc_log "the running cluster has $running node(s), not $nodes: run down.sh first," \
      "or node.sh add 2 / node.sh remove 2"
    exit 1
  fi
  recorded=$(cat "$KUBE_VERSIONS_FILE" 2>/dev/null || echo "$KUBE_DEFAULT_VERSION")
  if [[ $recorded != "$KUBE_VERSIONS" ]]; then
    lc_log "the running cluster runs Kubernetes $recorded, not $KUBE_VERSIONS: run down.sh first"
    exit 1
  fi
  lc_log "already running, $running node(s) ($(lc_since "$t0")s)"
  echo "export KUBECONFIG=$kubeconfig"
  exit 0
fi

# A half-started or crashed cluster is torn down first, so every start is clean.
lc_components "$MAX_NODES"
for c in "${LC_COMPONENTS[@]}"; do
  if lc_pid "$c" >/dev/null; then
    lc_log "found a partly running cluster; running down.sh first"
    "$LC_HERE/down.sh"
    break
  fi
done
lc_components "$nodes"

t=$(lc_now)
"$LC_HERE/install-deps.sh"
lc_log "deps ok ($(lc_since "$t")s)"

# The binaries: the control plane's version, each node's, and containerd 2 if
# a node needs it (each cached; a build prints its time).
mkdir -p "$DIR"/{bin,pki,logs,pids,config,images,kubelet,pod-logs,cni/net.d,cni/ipam} "$CTR_DIR"
mkdir -p -m 700 "$DIR/etcd"
rm -rf "$DIR"/bin/v[0-9]* "$DIR/bin/containerd2"
t=$(lc_now)
lc_prebuild "$nodes" || { lc_log "a build failed (see above)"; exit 1; }
lc_log "builds ok ($(lc_since "$t")s)"
t=$(lc_now)
bindir=$(KUBE_VERSION=$KUBE_VERSION "$LC_HERE/build.sh")
lc_log "binary ok ($(lc_since "$t")s): $bindir (Kubernetes v$KUBE_VERSION)"
ln -sfn "$bindir/localcluster" "$DIR/bin/localcluster"
ln -sfn "$bindir/pause" "$DIR/bin/pause"
for ((n = 1; n <= nodes; n++)); do lc_node_binaries "$n"; done
echo "$KUBE_VERSIONS" >"$KUBE_VERSIONS_FILE"
# Fresh logs for a fresh start (the previous run's are kept as *.log.prev).
for f in "$DIR"/logs/*.log; do [[ -e "$f" ]] && mv -f "$f" "$f.prev"; done
# The node count of this cluster (read by kube-proxy's config, component.sh, node.sh).
echo "$nodes" >"$NODES_FILE"

# ---- certificates and kubeconfigs ----
"$LC" certs --dir "$DIR/pki" --node-name "$NODE_NAME" \
  --server "https://127.0.0.1:$APISERVER_PORT" \
  --apiserver-ips "127.0.0.1,$SVC_IP,$POD_GW" --node-ips "127.0.0.1,$POD_GW"
cp -f "$DIR/pki/admin.kubeconfig" "$kubeconfig"
chmod 600 "$kubeconfig"

# ---- kernel settings we may change: remember them once ----
if [[ ! -s "$DIR/sysctl.saved" ]]; then
  for s in "${SAVED_SYSCTLS[@]}"; do
    [[ -r /proc/sys/$s ]] && echo "$s=$(</proc/sys/$s)"
  done > "$DIR/sysctl.saved.tmp"
  mv "$DIR/sysctl.saved.tmp" "$DIR/sysctl.saved"
fi

# ---- pod network ----
# Each node's bridge exists before any pod so its gateway IP (node IP, and
# address of the forwarder to the loopback-only apiserver/kubelet) is there
# from the start. Pods may reach local addresses (the gateways, DNATed Service
# IPs) and the pods of every node; anything routed from a bridge to elsewhere
# is unreachable, so no pod traffic can leave the machine even though CNI
# turns on ip_forward (lc_node_network in lib-nodes.sh).
lc_node_network 1
# Node 2 and up: bridge and routes, cgroup root, kubelet certificates.
for ((n = 2; n <= nodes; n++)); do lc_node_prepare "$n"; done
printf 'nameserver 127.0.0.1\noptions ndots:1 timeout:1 attempts:1\n' > "$DIR/config/resolv.conf"

# ---- containerd, one per node ----
t=$(lc_now)
socks=()
for ((n = 1; n <= nodes; n++)); do
  lc_node "$n"
  socks+=("$N_CTR_SOCK")
  lc_start "containerd$N_SUFFIX"
done
for ((n = 1; n <= nodes; n++)); do
  lc_node "$n"
  lc_wait_healthy "containerd$N_SUFFIX" || exit 1
done
lc_log "containerd up ($(lc_since "$t")s)"

# ---- images, built locally and imported into each node (nothing is ever pulled) ----
t=$(lc_now)
"$LC_HERE/images.sh" "$LC" "$DIR/bin/pause" "$DIR/images" "${socks[@]}"
lc_log "images ok ($(lc_since "$t")s)"

# ---- control plane ----
t=$(lc_now)
lc_start etcd
lc_wait_healthy etcd || exit 1
lc_log "etcd up ($(lc_since "$t")s)"

t=$(lc_now)
lc_start kube-apiserver
lc_wait_healthy kube-apiserver || exit 1
lc_log "kube-apiserver up ($(lc_since "$t")s)"

lc_start forward
for ((n = 2; n <= nodes; n++)); do lc_start "forward-$n"; done
lc_start kube-controller-manager
lc_start kube-scheduler

# ---- nodes ----
t=$(lc_now)
lc_start kubelet
for ((n = 2; n <= nodes; n++)); do lc_start "kubelet-$n"; done
lc_start kube-proxy

lc_wait_healthy kubelet || exit 1
for ((n = 2; n <= nodes; n++)); do lc_wait_healthy "kubelet-$n" || exit 1; done
if ((nodes == 1)); then lc_log "node Ready ($(lc_since "$t")s)"; else lc_log "$nodes nodes Ready ($(lc_since "$t")s)"; fi
lc_wait_for "default ServiceAccount" 60 kube-controller-manager lc_kubectl -n default get serviceaccount default || exit 1
for c in kube-proxy forward kube-controller-manager kube-scheduler; do
  lc_wait_healthy "$c" || exit 1
done
for ((n = 2; n <= nodes; n++)); do lc_wait_healthy "forward-$n" || exit 1; done
for c in "${LC_COMPONENTS[@]}"; do
  lc_pid "$c" >/dev/null || { lc_log "$c is not running; see $DIR/logs/$c.log"; exit 1; }
done

rows=""
for ((n = 1; n <= nodes; n++)); do
  lc_node "$n"
  rows+="${rows:+, }$N_NAME: kubelet v$N_KUBE_VERSION, $(lc_runtime_name)"
done
if ((nodes == 1)); then
  printf 'localcluster up in %ss (control plane v%s; %s)\n' "$(lc_since "$t0")" "$KUBE_VERSION" "$rows"
else
  printf 'localcluster up with %s nodes in %ss (control plane v%s; %s)\n' "$nodes" "$(lc_since "$t0")" \
    "$KUBE_VERSION" "$rows"
fi
echo "export KUBECONFIG=$kubeconfig"
