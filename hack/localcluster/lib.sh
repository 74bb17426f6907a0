# Shared settings and helpers of up.sh, down.sh, component.sh, check-clean.sh and kubectl.
# shellcheck shell=bash
LC_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$LC_HERE/versions.sh"

DIR="${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}"
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
PAUSE_IMAGE="localhost/lifecycle-operator/pause:1"
# Stop order for down.sh; up.sh starts them in reverse.
COMPONENTS=(kube-proxy kubelet kube-scheduler kube-controller-manager forward kube-apiserver etcd containerd)
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

# PIDs of processes whose command line mentions our containerd socket (the
# runc shims containerd started for us).
our_shims() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ "$cmd" == *containerd-shim*"$CTR_SOCK"* ]] && echo "${p#/proc/}"
  done
  return 0
}

# PIDs of every process in the kubepods cgroups (the pods' containers).
pod_pids() {
  find /sys/fs/cgroup/*/kubepods* -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u
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
