#!/usr/bin/env bash
# Verifies that no trace of the local cluster is left on the machine: no
# process, mount, network namespace, bridge, veth, policy route, KUBE-*/CNI-*
# iptables chain or rule, kubepods cgroup, listening port or runtime file.
# Exits 0 when clean; otherwise lists the leftovers and exits 1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

left=()
add() { left+=("$*"); }

for c in "${COMPONENTS[@]}"; do
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

ip link show "$BRIDGE" >/dev/null 2>&1 && add "bridge: $BRIDGE"
while IFS= read -r v; do [[ -n "$v" ]] && add "veth: $v"; done < <(ip -o link show type veth 2>/dev/null | awk -F': ' '{ print $2 }')
[[ -n $(ip rule show priority "$RT_PRIO" 2>/dev/null) ]] && add "ip rule: priority $RT_PRIO"
[[ -n "$(ip route show table "$RT_TABLE" 2>/dev/null)" ]] && add "routes in table $RT_TABLE"

for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for table in filter nat mangle raw; do
    while IFS= read -r r; do
      [[ -n "$r" ]] && add "$ipt -t $table: $r"
    done < <("$ipt" -w -t "$table" -S 2>/dev/null | grep -E -- '(KUBE-|CNI-)' || true)
  done
done

for d in /sys/fs/cgroup/*/kubepods*; do [[ -e "$d" ]] && add "cgroup: $d"; done

ports=":($APISERVER_PORT|$KUBELET_PORT|2379|2380|10248|10249|10256|10257|10259)\$"
while IFS= read -r l; do [[ -n "$l" ]] && add "listening: $l"; done < <(
  ss -Hltn 2>/dev/null | awk '{ print $4 }' | grep -E "$ports" || true)

[[ -e /run/containerd ]] && add "directory: /run/containerd"
[[ -e /var/lib/kubelet/device-plugins/kubelet.sock ]] && add "socket: /var/lib/kubelet/device-plugins/kubelet.sock"
[[ -n "$(find /var/lib/cni -name "$CNI_NET*" 2>/dev/null)" ]] && add "CNI cache: /var/lib/cni/**/$CNI_NET*"
[[ -n "$(find /var/log/containers -maxdepth 1 -lname "$DIR/*" 2>/dev/null)" ]] && add "log links: /var/log/containers"
for d in "$DIR/etcd" "$DIR/kubelet" "$CTR_DIR/state" "$DIR/pids"; do [[ -e "$d" ]] && add "state: $d"; done

if ((${#left[@]} == 0)); then
  echo "check-clean: clean"
  exit 0
fi
echo "check-clean: ${#left[@]} leftovers:" >&2
printf '  %s\n' "${left[@]}" >&2
exit 1
