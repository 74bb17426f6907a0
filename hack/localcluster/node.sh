#!/usr/bin/env bash
# Adds node 2 to the running local cluster or removes it, for tests of a node
# that joins or leaves (up.sh --nodes 2 starts a cluster with both at once).
#
#   node.sh add 2      # its bridge, routes, cgroup root, certs; containerd-2 (images
#                      # imported), forward-2, kubelet-2; returns once the node is Ready
#   node.sh remove 2   # a node that leaves: kubelet-2 stopped, its pods removed through
#                      # containerd-2, forward-2 and containerd-2 stopped, its mounts,
#                      # netns, veths, bridge, route, rule, cgroups, CNI and runtime state
#                      # removed, its Node object deleted; then check-clean.sh --node 2
#   node.sh list       # the nodes of the cluster (recorded count) and their state
#
# Both update the recorded node count ($DIR/nodes: up.sh, component.sh status)
# and restart kube-proxy when its config changes with it (clusterCIDR,
# nodePortAddresses). Pods that were bound to a removed node are deleted by the
# controller-manager's pod garbage collector once the Node is gone (about 40 s).
# Prints one line with the time taken. The definitions are in lib-nodes.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
  echo "usage: node.sh add N | remove N | list   (N: 2..$MAX_NODES)" >&2
  exit 2
}
(($# >= 1)) || usage
action=$1 n=${2:-}
case "$action" in
  add | remove)
    if (($# != 2)) || ! [[ "$n" =~ ^[0-9]+$ ]] || ((n < 2 || n > MAX_NODES)); then usage; fi
    ;;
  list) (($# == 1)) || usage ;;
  *) usage ;;
esac
if [[ $(id -u) -ne 0 ]]; then
  echo "node.sh: must run as root" >&2
  exit 1
fi
if ! lc_pid kube-apiserver >/dev/null || ! lc_health kube-apiserver >/dev/null 2>&1; then
  echo "node.sh: no running cluster in $DIR (kube-apiserver not ready); run up.sh" >&2
  exit 1
fi

# record_count: the highest node whose kubelet runs (nodes are 1..N, no gaps).
record_count() {
  local c=1 i
  for ((i = 2; i <= MAX_NODES; i++)); do lc_pid "kubelet-$i" >/dev/null && c=$i; done
  echo "$c" >"$NODES_FILE"
}

t=$(lc_now)
lc_node "${n:-1}"
case "$action" in
  add)
    if ((n > 2)) && ! lc_pid "kubelet-$((n - 1))" >/dev/null; then
      echo "node.sh: add node $((n - 1)) first" >&2
      exit 1
    fi
    if lc_pid "kubelet-$n" >/dev/null && lc_health "kubelet-$n" >/dev/null 2>&1; then
      record_count
      echo "node $N_NAME already in the cluster and Ready"
      exit 0
    fi
    lc_node_start "$n" || { echo "node.sh: starting node $n failed; see $DIR/logs/" >&2; exit 1; }
    lc_wait_healthy "kubelet-$n" || exit 1
    lc_wait_healthy "forward-$n" || exit 1
    record_count
    lc_sync_kube_proxy || exit 1
    lc_node "$n"
    echo "node $N_NAME added, Ready in $(lc_since "$t")s"
    ;;
  remove)
    if ((n < MAX_NODES)) && lc_pid "kubelet-$((n + 1))" >/dev/null; then
      echo "node.sh: remove node $((n + 1)) first" >&2
      exit 1
    fi
    lc_node_clean "$n" --delete-node || exit 1
    record_count
    lc_sync_kube_proxy || exit 1
    lc_node "$n"
    "$LC_HERE/check-clean.sh" --node "$n" >/dev/null || { "$LC_HERE/check-clean.sh" --node "$n" || true; exit 1; }
    echo "node $N_NAME removed in $(lc_since "$t")s"
    ;;
  list)
    echo "nodes recorded: $(lc_node_count)"
    lc_kubectl get nodes -o wide
    ;;
esac
