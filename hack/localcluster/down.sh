#!/usr/bin/env bash
# Stops the local cluster and removes everything it left on the machine:
# containers and sandboxes, component processes, mounts, network namespaces,
# the pod bridges and their veths, policy routing, KUBE-*/CNI-* iptables chains,
# kubepods cgroups (and /lc-node-N of node N > 1), CNI caches, /run/containerd,
# changed kernel settings. Every node (1 and 2), whatever the recorded count.
# Works after a half-failed up.sh and when nothing runs at all. Keeps the
# certificates, the image archives and containerd's image store for a fast
# next up.sh; `down.sh --purge` removes $LOCALCLUSTER_DIR entirely.
# Exits 0 when check-clean.sh finds nothing left, non-zero otherwise.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t0=$(lc_now)
purge=false
[[ "${1:-}" == "--purge" ]] && purge=true

if [[ $(id -u) -ne 0 ]]; then
  echo "down.sh: must run as root" >&2
  exit 1
fi

# 1. Node 2 and up, in the background: each node's kubelet, pods, forwarder,
#    containerd, then what they left (lc_node_clean in lib-nodes.sh). The API
#    server still runs, but its etcd data goes below: no Node object to delete.
(for ((n = MAX_NODES; n > 1; n--)); do lc_node_clean "$n" || true; done) &
others=$!

# 2. Node 1 meanwhile: the kubelet first, so it restarts nothing; then every
#    sandbox and container through CRI (CNI DEL, shm unmount, netns removal),
#    then a forced ctr pass for anything CRI could not remove (lc_runtime_clean).
lc_stop kubelet || true  # lc_stop, grace periods: lib-components.sh
lc_runtime_clean 1
wait "$others" || true

# 3. The other components, node side first, containerd last.
lc_components "$MAX_NODES"
for c in "${LC_COMPONENTS[@]}"; do
  [[ $c == kubelet ]] || lc_stop "$c" || true
done

# 4. Leftover processes we started: container processes, then shims.
pids=$(pod_pids)
if [[ -n "$pids" ]]; then
  lc_log "killing leftover pod processes: $(echo $pids)"
  kill -KILL $pids 2>/dev/null || true
fi
pids=$(our_shims)
if [[ -n "$pids" ]]; then
  lc_log "killing leftover containerd shims: $(echo $pids)"
  kill -KILL $pids 2>/dev/null || true
fi
for ((i = 0; i < 50; i++)); do
  [[ -z "$(pod_pids)$(our_shims)" ]] && break
  sleep 0.1
done

# 5. Mounts: everything under $DIR, containerd's /run paths, CNI netns.
for ((round = 0; round < 3; round++)); do
  mounts=$(our_mounts)
  [[ -z "$mounts" ]] && break
  while IFS= read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done <<<"$mounts"
done
for d in /run/netns /var/run/netns; do
  for f in "$d"/cni-*; do [[ -e "$f" ]] && rm -f "$f"; done
done

# 6. Network: veths on our bridges, the bridges, policy routing.
for ((n = 1; n <= MAX_NODES; n++)); do
  lc_node "$n"
  lc_node_unlink
done
ip route flush table "$RT_TABLE" 2>/dev/null || true

# 7. iptables: jumps into KUBE-*/CNI-* chains, then the chains themselves.
clean_iptables() {
  local ipt=$1 table rules chains c
  command -v "$ipt" >/dev/null || return 0
  for table in filter nat mangle raw; do
    rules=$("$ipt" -w -t "$table" -S 2>/dev/null) || continue
    # Rules in other chains (INPUT, FORWARD, PREROUTING, ...) that jump into ours.
    awk '/^-A / && / -j (KUBE-|CNI-)/ && !/^-A (KUBE-|CNI-)/' <<<"$rules" |
      while IFS= read -r line; do
        xargs "$ipt" -w -t "$table" -D <<<"${line#-A }" 2>/dev/null || true
      done
    chains=$(awk '/^-N (KUBE-|CNI-)/ { print $2 }' <<<"$rules")
    for c in $chains; do "$ipt" -w -t "$table" -F "$c" 2>/dev/null || true; done
    for c in $chains; do "$ipt" -w -t "$table" -X "$c" 2>/dev/null || true; done
  done
}
clean_iptables iptables
clean_iptables ip6tables

# 8. cgroups the kubelets and runc created (children first), and the cgroup
#    roots /lc-node-N of the other nodes.
for d in $(lc_cgroup_dirs); do
  find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done

# 9. Files outside $DIR: CNI result cache, /run/containerd, log symlinks.
if [[ -d /var/lib/cni ]]; then
  find /var/lib/cni -name "$CNI_NET*" -exec rm -rf {} + 2>/dev/null || true
  find /var/lib/cni -depth -type d -empty -delete 2>/dev/null || true
fi
# Another containerd (not ours: they are stopped) shares /run/containerd: keep it then.
if ! lc_containerd_running; then
  rm -rf /run/containerd
fi
if [[ -d /var/log/containers ]]; then
  find /var/log/containers -maxdepth 1 -type l -lname "$DIR/*" -delete 2>/dev/null || true
  rmdir /var/log/containers 2>/dev/null || true
fi

# The kubelet's device-plugin socket path is fixed upstream (not under --root-dir).
rm -f /var/lib/kubelet/device-plugins/kubelet.sock
rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet 2>/dev/null || true
# Empty directories containerd/runc/CNI create on first use.
rmdir /run/netns /run/runc 2>/dev/null || true

# 10. Kernel settings back to what they were before the first up.sh.
if [[ -s "$DIR/sysctl.saved" ]]; then
  while IFS='=' read -r k v; do
    [[ -w /proc/sys/$k && "$(<"/proc/sys/$k")" != "$v" ]] && echo "$v" >"/proc/sys/$k" 2>/dev/null
  done <"$DIR/sysctl.saved" || true
  rm -f "$DIR/sysctl.saved"
fi

# 11. Runtime state. Kept: pki/, images/, containerd/root (image store, also
#     node-N/containerd/root), logs/.
if [[ -d "$DIR" ]]; then
  if $purge; then
    rm -rf "$DIR"
  else
    rm -rf "$DIR"/{etcd,kubelet,kubelet-plugins,pod-logs,pids,cni/ipam,s} "$CTR_DIR/state" "$CTR_DIR/runc" \
      "$CTR_DIR/containerd.sock" "$CTR_DIR/containerd.sock.ttrpc" "$NODES_FILE" "$KUBE_VERSIONS_FILE"
  fi
fi

if "$LC_HERE/check-clean.sh"; then
  lc_log "down in $(lc_since "$t0")s"
else
  lc_log "down finished in $(lc_since "$t0")s but left the above behind"
  exit 1
fi
