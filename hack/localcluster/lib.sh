# Shared settings and helpers of up.sh, down.sh, component.sh, check-clean.sh and kubectl.
# shellcheck shell=bash
LC_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}"
# The Kubernetes version of each node (versions.sh): KUBE_VERSION when given,
# else what the cluster set up in $DIR runs (up.sh records it), else the default.
KUBE_VERSIONS_FILE="$DIR/kube-versions"
if [[ -z ${KUBE_VERSION:-} && -s $KUBE_VERSIONS_FILE ]]; then KUBE_VERSION=$(<"$KUBE_VERSIONS_FILE"); fi
. "$LC_HERE/versions.sh"

NODE_NAME="lifecycle-node"
POD_CIDR="10.244.0.0/24"
POD_GW="10.244.0.1"          # gateway of the pod bridge; also the node IP
BRIDGE="lcbr0"               # our CNI bridge, created by up.sh (CNI reuses it)
CNI_NET="lifecycle-localcluster"
SVC_CIDR="10.96.0.0/24"
SVC_IP="10.96.0.1"           # ClusterIP of the kubernetes Service
CLUSTER_DNS="10.96.0.10"     # resolver address given to pods; nothing serves it
RT_TABLE=2440                # policy-routing table that keeps pod traffic on the machine
RT_PRIO=2440
APISERVER_PORT=6443
KUBELET_PORT=10250
CTR_DIR="$DIR/containerd"
CTR_SOCK="$CTR_DIR/containerd.sock"
CRI_ENDPOINT="unix://$CTR_SOCK"
TESTBOX_IMAGE="localhost/lifecycle-operator/testbox:1.35"
TESTBOX_UPDATE_IMAGE="localhost/lifecycle-operator/testbox:1.35-b"
PAUSE_IMAGE="localhost/lifecycle-operator/pause:1"
# Stop order for down.sh; up.sh starts them in reverse. The control plane and
# node 1 (a 1-node cluster); lc_components adds the components of more nodes.
COMPONENTS=(kube-proxy kubelet kube-scheduler kube-controller-manager forward kube-apiserver etcd containerd)
# Nodes: 1 (default) or 2. Node N > 1 has its own containerd-N, kubelet-N and
# forward-N (lc_node below). up.sh records the node count of the running
# cluster in $NODES_FILE; node.sh adds or removes node 2.
MAX_NODES=2
NODE_COMPONENTS=(kubelet forward containerd)  # the components each node has of its own
# Kernel settings the kubelet / CNI change; saved by up.sh, restored by down.sh.
SAVED_SYSCTLS=(net/ipv4/ip_forward vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops
               kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/conf/all/route_localnet)

lc_now() { date +%s.%N; }
lc_since() { awk -v a="$1" -v b="$(lc_now)" 'BEGIN { printf "%.1f", b - a }'; }
lc_log() { echo "localcluster: $*" >&2; }

# lc_alive PID: the process exists and is not a zombie (our components are
# re-parented to PID 1 once up.sh exits, and it may reap them late).
lc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# lc_node N: sets the N_* settings of node N. Node 1 keeps the names and paths
# of the single-node cluster; node N > 1 lives under $DIR/node-N with its own
# bridge, pod subnet, containerd, kubelet ports, cgroup root and certificates.
lc_node() {
  local n=$1
  if ! [[ "$n" =~ ^[0-9]+$ ]] || ((n < 1 || n > MAX_NODES)); then
    lc_log "no node '$n' (1..$MAX_NODES)"
    return 1
  fi
  N_NUM=$n
  N_BRIDGE="lcbr$((n - 1))"
  N_CIDR="10.244.$((n - 1)).0/24"
  N_GW="10.244.$((n - 1)).1"              # gateway of its pod bridge; also its node IP
  N_RT_PRIO=$((RT_PRIO + n - 1))          # its policy rule: iif N_BRIDGE lookup RT_TABLE
  N_KUBELET_PORT=$((KUBELET_PORT + 10 * (n - 1)))  # 10250, 10260
  N_HEALTHZ_PORT=$((10248 + 20 * (n - 1)))         # 10248, 10268
  if ((n == 1)); then
    N_SUFFIX="" N_NAME=$NODE_NAME N_DIR=$DIR N_CNI_NET=$CNI_NET N_CGROUP_ROOT=""
  else
    N_SUFFIX="-$n" N_NAME="$NODE_NAME-$n" N_DIR="$DIR/node-$n" N_CNI_NET="$CNI_NET-$n"
    N_CGROUP_ROOT="/lc-node-$n"           # its kubepods tree: /sys/fs/cgroup/*/lc-node-N/kubepods
  fi
  N_CTR_DIR="$N_DIR/containerd"
  N_CTR_SOCK="$N_CTR_DIR/containerd.sock"
  # Its row (versions.sh): its kubelet's version, and the containerd that
  # kubelet needs: Debian's 1.6 (`debian`) or containerd 2 (`built`).
  N_KUBE_VERSION=$(kube_node_version "$n")
  N_CONTAINERD=$(kube_containerd "$N_KUBE_VERSION")
  # The programs its kubelet and containerd run from: bin/v<version>/ links to
  # the build of its version (build.sh), bin/containerd2/ to containerd 2's
  # (build-containerd.sh); up.sh makes the links.
  N_KUBELET_BIN="$DIR/bin/v$N_KUBE_VERSION/localcluster"
  if [[ $N_CONTAINERD == built ]]; then
    N_CONTAINERD_BIN="$DIR/bin/containerd2/containerd" N_CTR_BIN="$DIR/bin/containerd2/ctr"
    # containerd 2's shim sockets (containerd refuses a folder path longer than 42 characters).
    N_SHIM_DIR="$N_DIR/s"
  else
    N_CONTAINERD_BIN=containerd N_CTR_BIN=ctr N_SHIM_DIR=""
  fi
}

# lc_split NAME: sets LC_BASE to the kind of component NAME is and LC_N to
# its node (containerd-2: containerd, 2; kubelet: kubelet, 1; etcd: etcd, 1).
lc_split() {
  local base=${1%-[0-9]}
  if [[ "$base" != "$1" && " ${NODE_COMPONENTS[*]} " == *" $base "* ]]; then
    LC_BASE=$base LC_N=${1##*-}
  else
    LC_BASE=$1 LC_N=1
  fi
}

# lc_components N: sets LC_COMPONENTS to the components of a cluster of N
# nodes, in stop order (COMPONENTS when N is 1).
lc_components() {
  local c n
  LC_COMPONENTS=()
  for c in "${COMPONENTS[@]}"; do
    if [[ " ${NODE_COMPONENTS[*]} " == *" $c "* ]]; then
      for ((n = $1; n > 1; n--)); do LC_COMPONENTS+=("$c-$n"); done
    fi
    LC_COMPONENTS+=("$c")
  done
}

NODES_FILE="$DIR/nodes"
# lc_node_count: the node count of the cluster set up in $DIR (1 if none recorded).
lc_node_count() {
  local n
  n=$(cat "$NODES_FILE" 2>/dev/null) || n=1
  [[ "$n" =~ ^[1-9]$ ]] && ((n <= MAX_NODES)) || n=1
  echo "$n"
}

# lc_pid NAME: prints the PID of a running component started by up.sh, or
# fails. The PID file must point at a live process whose command line is the
# one we started (guards against PID reuse).
lc_pid() {
  local f="$DIR/pids/$1.pid" pid cmd
  [[ -s "$f" ]] || return 1
  pid=$(<"$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  lc_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  case "$1" in
    containerd) [[ "$cmd" == *containerd*"$DIR"* ]] || return 1 ;;
    # Another node's: its containerd config, its kubelet's node name, its forwarder's address.
    containerd-[0-9]) [[ "$cmd" == *containerd*"$DIR/node-${1##*-}/"* ]] || return 1 ;;
    kubelet-[0-9]) [[ "$cmd" == *localcluster\ kubelet\ *"--hostname-override=$NODE_NAME-${1##*-} "* ]] || return 1 ;;
    forward-[0-9]) [[ "$cmd" == *localcluster\ forward\ *" 10.244.$((${1##*-} - 1)).1:"* ]] || return 1 ;;
    *) [[ "$cmd" == *localcluster\ "$1"* || "$cmd" == "$1 "* ]] || return 1 ;;
  esac
  echo "$pid"
}

# lc_bin: the cached localcluster binary (symlinked by up.sh), built if needed.
lc_bin() {
  if [[ -x "$DIR/bin/localcluster" ]]; then
    echo "$DIR/bin/localcluster"
  else
    echo "$("$LC_HERE/build.sh")/localcluster"
  fi
}

# our_shims [SOCKET...]: PIDs of processes whose command line mentions one of
# our containerd sockets (the runc shims containerd started for us); default:
# the sockets of every node.
our_shims() {
  local p cmd s socks=("$@")
  if (($# == 0)); then
    socks=("$CTR_SOCK")
    for ((s = 2; s <= MAX_NODES; s++)); do socks+=("$DIR/node-$s/containerd/containerd.sock"); done
  fi
  # One grep over every command line (a tr per process is slow with many processes).
  while IFS= read -r p; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p") || continue
    for s in "${socks[@]}"; do
      [[ "$cmd" == *"$s "* ]] && { p=${p#/proc/}; echo "${p%/cmdline}"; break; }
    done
  done < <(grep -laF containerd-shim /proc/[0-9]*/cmdline 2>/dev/null)
  return 0
}

# lc_ctr_socks: the containerd socket of every node of the cluster (recorded
# count), one a line; for importing an image into every node.
lc_ctr_socks() {
  local n
  for ((n = 1; n <= $(lc_node_count); n++)); do
    if ((n == 1)); then echo "$CTR_SOCK"; else echo "$DIR/node-$n/containerd/containerd.sock"; fi
  done
}

# lc_containerd_running: some containerd process runs (after ours are
# stopped: someone else's, which shares /run/containerd with ours).
lc_containerd_running() {
  local p
  for p in /proc/[0-9]*; do
    [[ "$(cat "$p/comm" 2>/dev/null)" == containerd ]] && lc_alive "${p#/proc/}" && return 0
  done
  return 1
}

# lc_cgroup_dirs: the top cgroup directories of our pods in every hierarchy:
# node 1's kubepods* and the cgroup roots /lc-node-N of the other nodes.
lc_cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/kubepods* /sys/fs/cgroup/*/lc-node-[0-9]; do
    [[ -d "$d" ]] && echo "$d"
  done
  return 0
}

# pod_pids [CGROUP_DIR...]: PIDs of every process in the given cgroup trees
# (default: lc_cgroup_dirs, the pods' containers of every node).
pod_pids() {
  local dirs=("$@")
  (($# > 0)) || mapfile -t dirs < <(lc_cgroup_dirs)
  ((${#dirs[@]} > 0)) || return 0
  find "${dirs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
  return 0
}

# Mount points under $DIR, containerd's /run paths and CNI network namespaces, deepest first.
our_mounts() {
  awk '{ print $5 }' /proc/self/mountinfo | sed 's/\\040/ /g' |
    grep -E "^($DIR/|/run/containerd/|/var/run/containerd/|/run/netns/cni-|/var/run/netns/cni-)" |
    awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | uniq
  return 0
}

# Config, command line, health check and stop of each component (up.sh,
# component.sh, down.sh).
. "$LC_HERE/lib-components.sh"
# A node's network, cgroup root, certificates; starting, removing and checking
# one node (up.sh, node.sh, down.sh, check-clean.sh).
. "$LC_HERE/lib-nodes.sh"
