#!/usr/bin/env bash
# Verifies that no trace of the local cluster is left on the machine: no
# process, mount, network namespace, bridge, veth, policy route, KUBE-*/CNI-*
# iptables chain or rule, kubepods cgroup, listening port or runtime file,
# on every node (node 2: its own processes, bridge, rule, route, /lc-node-2
# cgroups, ports, state, CNI state).
# Exits 0 when clean; otherwise lists the leftovers and exits 1.
#
#   check-clean.sh            # the whole machine, after down.sh
#   check-clean.sh --node 2   # only what node 2 left, after node.sh remove 2
#                             # (the rest of the cluster runs); also its Node object
set -euo pipefail
. "$(dirname "$0")/lib.sh"

left=()
add() { left+=("$*"); }

report() {
  # The same leftover may be found twice (node 2's processes, ...): once each.
  mapfile -t left < <(printf '%s\n' "${left[@]}" | awk 'NF && !seen[$0]++')
  if ((${#left[@]} == 0)); then
    echo "check-clean: clean"
    exit 0
  fi
  echo "check-clean: ${#left[@]} leftovers:" >&2
  printf '  %s\n' "${left[@]}" >&2
  exit 1
}

if [[ "${1:-}" == --node ]]; then
  if ! lc_node "${2:-}" 2>/dev/null || ((N_NUM < 2)); then
    echo "usage: check-clean.sh [--node N]  (N: 2..$MAX_NODES)" >&2
    exit 2
  fi
  while IFS= read -r l; do [[ -n "$l" ]] && add "$l"; done < <(lc_node_leftovers "$N_NUM")
  report
fi
[[ $# -eq 0 ]] || { echo "usage: check-clean.sh [--node N]" >&2; exit 2; }

lc_components "$MAX_NODES"
for c in "${LC_COMPONENTS[@]}"; do
  if pid=$(lc_pid "$c"); then add "process: $c (pid $pid)"; fi
done
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  [[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
  cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
  case "$cmd" in
    *check-clean.sh*) ;;
    # A kubectl client (ours or a test's) is not part of the cluster; it ends
    # on its own once the API server is gone.
    *"/localcluster kubectl "*) ;;
    *"$DIR/"*) add "process: $pid $cmd" ;;
  esac
done
for pid in $(pod_pids); do add "process in kubepods cgroup: $pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"; done
for pid in $(our_shims); do add "containerd shim: $pid"; done

while IFS= read -r m; do [[ -n "$m" ]] && add "mount: $m"; done < <(our_mounts)
for f in /run/netns/cni-* /var/run/netns/cni-*; do [[ -e "$f" ]] && add "netns: $f"; done

for ((n = 1; n <= MAX_NODES; n++)); do
  lc_node "$n"
  ip link show "$N_BRIDGE" >/dev/null 2>&1 && add "bridge: $N_BRIDGE"
  [[ -n $(ip rule show priority "$N_RT_PRIO" 2>/dev/null) ]] && add "ip rule: priority $N_RT_PRIO"
done
while IFS= read -r v; do [[ -n "$v" ]] && add "veth: $v"; done < <(ip -o link show type veth 2>/dev/null | awk -F': ' '{ print $2 }')
[[ -n "$(ip route show table "$RT_TABLE" 2>/dev/null)" ]] && add "routes in table $RT_TABLE"

for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in filter nat mangle raw; do
    while IFS= read -r r; do
      [[ -n "$r" ]] && add "$ipt -t $table: $r"
    done < <("$ipt" -w -t "$table" -S 2>/dev/null | grep -E -- '(KUBE-|CNI-)' || true)
  done
done

for d in $(lc_cgroup_dirs); do add "cgroup: $d"; done

ports=":($APISERVER_PORT|$KUBELET_PORT|2379|2380|10248|10249|10256|10257|10259|10260|10268)\$"
while IFS= read -r l; do [[ -n "$l" ]] && add "listening: $l"; done < <(
  ss -Hltn 2>/dev/null | awk '{ print $4 }' | grep -E "$ports" || true)

# Kept by down.sh while another containerd (not ours, they are checked above) runs.
if [[ -e /run/containerd ]] && ! lc_containerd_running; then add "directory: /run/containerd"; fi
[[ -e /var/lib/kubelet/device-plugins/kubelet.sock ]] && add "socket: /var/lib/kubelet/device-plugins/kubelet.sock"
[[ -n "$(find /var/lib/cni -name "$CNI_NET*" 2>/dev/null)" ]] && add "CNI cache: /var/lib/cni/**/$CNI_NET*"
[[ -n "$(find /var/log/containers -maxdepth 1 -lname "$DIR/*" 2>/dev/null)" ]] && add "log links: /var/log/containers"
for d in "$DIR/etcd" "$DIR/kubelet" "$CTR_DIR/state" "$DIR/pids" "$NODES_FILE"; do [[ -e "$d" ]] && add "state: $d"; done
# What only the other nodes have (most of it is also found above).
for ((n = 2; n <= MAX_NODES; n++)); do
  while IFS= read -r l; do [[ -n "$l" ]] && add "$l"; done < <(lc_node_leftovers "$n")
done

report
