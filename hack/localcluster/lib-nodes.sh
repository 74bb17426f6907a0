# The nodes of the local cluster: a node's pod network, cgroup root and
# certificates; starting one node's own components; removing everything one
# node left (node 2 from a running cluster, or every node in down.sh).
# Sourced by lib.sh after lib-components.sh; only definitions here.
#
# Node 1 is the single-node cluster of old (lcbr0, 10.244.0.0/24, containerd,
# kubelet, forward). Node N > 1 (lc_node N): bridge lcbr<N-1> with
# 10.244.<N-1>.0/24 (gateway = node IP 10.244.<N-1>.1), containerd-N
# (root, state, sockets, runc root, CNI conf under $DIR/node-N/containerd and
# $DIR/node-N/cni), kubelet-N (ports 10260 / healthz 10268 for node 2, cgroup
# root /lc-node-N, root-dir, pod logs, volume plugins under $DIR/node-N, certs
# pki/kubelet-N.* and pki/kubelet-server-N.*) and forward-N (node IP:10260 to
# the loopback-only kubelet, for logs/exec through the API server).
# shellcheck shell=bash

# lc_node_network N: node N's pod bridge with its gateway (node) address, its
# subnet in the policy-routing table, the rule that sends everything from its
# bridge through that table, and its CNI config. Idempotent.
# Table RT_TABLE holds every node's pod subnet and `unreachable default`: a
# pod reaches local addresses (gateways, DNATed Service IPs) and the pods of
# every node, and nothing from a bridge is routed off the machine.
lc_node_network() {
  lc_node "$1" || return 1
  ip link show "$N_BRIDGE" >/dev/null 2>&1 || ip link add "$N_BRIDGE" type bridge
  [[ $(ip -o addr show dev "$N_BRIDGE") == *" $N_GW/24 "* ]] || ip addr add "$N_GW/24" dev "$N_BRIDGE"
  ip link set "$N_BRIDGE" up
  ip route replace "$N_CIDR" dev "$N_BRIDGE" src "$N_GW" table "$RT_TABLE"
  ip route replace unreachable default table "$RT_TABLE"
  [[ -n $(ip rule show priority "$N_RT_PRIO") ]] || ip rule add iif "$N_BRIDGE" lookup "$RT_TABLE" priority "$N_RT_PRIO"

  mkdir -p "$N_DIR/cni/net.d" "$N_DIR/cni/ipam"
  cat > "$N_DIR/cni/net.d/10-$N_CNI_NET.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$N_CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$N_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$N_DIR/cni/ipam",
        "ranges": [[{"subnet": "$N_CIDR", "gateway": "$N_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
JSON
}

# lc_node_prepare N (N > 1): what node N needs before its components start:
# folders, network (lc_node_network), its cgroup root in every cgroup v1
# hierarchy (the kubelet requires cgroupRoot to exist), its kubelet client
# certificate (CN system:node:NAME, O system:nodes) and serving certificate
# (SANs: node IP, 127.0.0.1) signed by the cluster CA. Idempotent.
lc_node_prepare() {
  local h
  lc_node "$1" || return 1
  ((N_NUM > 1)) || { lc_log "lc_node_prepare: node 1 is set up by up.sh"; return 1; }
  if [[ ! -s "$PKI/ca.crt" || ! -x "$LC" ]]; then
    lc_log "no cluster set up in $DIR (no CA or binary); run up.sh"
    return 1
  fi
  mkdir -p "$N_DIR"/{config,kubelet,pod-logs} "$N_CTR_DIR"
  lc_node_network "$N_NUM" || return 1
  for h in /sys/fs/cgroup/*/; do
    # cgroup v1 hierarchies only (cgroup2 "unified" holds only hugetlb here).
    [[ -e "$h/cgroup.clone_children" ]] && mkdir -p "$h${N_CGROUP_ROOT#/}"
  done
  "$LC" certs --dir "$PKI" --node-only --node-suffix "$N_SUFFIX" --node-name "$N_NAME" \
    --server "https://127.0.0.1:$APISERVER_PORT" --node-ips "127.0.0.1,$N_GW"
}

# lc_node_binaries N: links node N's kubelet (bin/v<version>/) and, on the
# second row, containerd 2 (bin/containerd2/) to their cached builds, building
# what is not cached. The control plane's binary (bin/localcluster) first.
lc_node_binaries() {
  local t d
  lc_node "$1" || return 1
  if [[ ! -e "$DIR/bin/v$N_KUBE_VERSION/localcluster" ]]; then
    if [[ $N_KUBE_VERSION == "$KUBE_VERSION" ]]; then
      d=$(dirname "$(readlink -f "$LC")")
    else
      t=$(lc_now)
      d=$(KUBE_VERSION=$N_KUBE_VERSION "$LC_HERE/build.sh" --kubelet-only) || return 1
      lc_log "binary ok ($(lc_since "$t")s): $d (Kubernetes v$N_KUBE_VERSION, the kubelet of $N_NAME)"
    fi
    ln -sfn "$d" "$DIR/bin/v$N_KUBE_VERSION"
  fi
  if [[ $N_CONTAINERD == built && ! -x "$DIR/bin/containerd2/containerd" ]]; then
    t=$(lc_now)
    d=$("$LC_HERE/build-containerd.sh") || return 1
    lc_log "containerd 2 ok ($(lc_since "$t")s): $d"
    ln -sfn "$d" "$DIR/bin/containerd2"
  fi
}

# lc_prebuild N: builds, side by side, every binary a cluster of N nodes needs
# that the caches lack: the control plane's, the kubelet of each other node
# version, containerd 2 (each build.sh / build-containerd.sh call returns at
# once when cached; their progress goes to stderr). A cold Go build leaves a
# core idle while it downloads modules and links, so together they finish
# sooner than one after the other. lc_node_binaries then finds them cached.
lc_prebuild() {
  local n p rc=0 seen=" " pids=()
  KUBE_VERSION=$KUBE_VERSION "$LC_HERE/build.sh" >/dev/null &
  pids+=($!)
  for ((n = 1; n <= $1; n++)); do
    lc_node "$n" || return 1
    if [[ $N_KUBE_VERSION != "$KUBE_VERSION" && $seen != *" $N_KUBE_VERSION "* ]]; then
      seen+="$N_KUBE_VERSION "
      KUBE_VERSION=$N_KUBE_VERSION "$LC_HERE/build.sh" --kubelet-only >/dev/null &
      pids+=($!)
    fi
    if [[ $N_CONTAINERD == built && $seen != *" containerd2 "* ]]; then
      seen+="containerd2 "
      "$LC_HERE/build-containerd.sh" >/dev/null &
      pids+=($!)
    fi
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return "$rc"
}

# lc_runtime_name: the container runtime the current node's (lc_node) kubelet
# reports, e.g. containerd://2.4.2.
lc_runtime_name() {
  lc_kubectl --request-timeout=5s get node "$N_NAME" -o 'jsonpath={.status.nodeInfo.containerRuntimeVersion}'
}

# lc_node_start N (N > 1): node N joins the running cluster: prepared, its
# containerd started and healthy, our images imported into it, its forwarder
# and kubelet started. The caller waits for the kubelet's health (node Ready).
lc_node_start() {
  lc_node "$1" || return 1
  local n=$N_NUM
  lc_node_prepare "$n" || return 1
  lc_node_binaries "$n" || return 1
  lc_start "containerd-$n"
  lc_wait_healthy "containerd-$n" || return 1
  lc_node "$n"
  "$LC_HERE/images.sh" "$LC" "$DIR/bin/pause" "$DIR/images" "$N_CTR_SOCK" || return 1
  lc_start "forward-$n"
  lc_start "kubelet-$n"
}

# lc_runtime_clean N: every pod sandbox and container of node N's containerd
# removed through CRI (CNI DEL, shm unmount, netns removal), then a forced ctr
# pass for anything CRI could not remove. Nothing if its containerd is down.
lc_runtime_clean() {
  local id t
  lc_node "$1" || return 1
  lc_pid "containerd${N_SUFFIX}" >/dev/null && [[ -S "$N_CTR_SOCK" ]] || return 0
  t=$(lc_now)
  "$LC" cri-cleanup --endpoint "unix://$N_CTR_SOCK" --timeout 60s || true
  lc_log "pods of $N_NAME removed through CRI ($(lc_since "$t")s)"
  for id in $(lc_ctr "$1" tasks ls -q 2>/dev/null); do
    lc_ctr "$1" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
  done
  sleep 0.5
  for id in $(lc_ctr "$1" tasks ls -q 2>/dev/null); do
    lc_ctr "$1" tasks delete -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(lc_ctr "$1" containers ls -q 2>/dev/null); do
    lc_ctr "$1" containers delete "$id" >/dev/null 2>&1 || true
  done
}

# lc_ctr N ARGS...: node N's ctr in the k8s.io namespace of its containerd.
lc_ctr() { lc_node "$1"; shift; timeout 30 "$N_CTR_BIN" -a "$N_CTR_SOCK" -n k8s.io "$@"; }

# lc_node_unlink: the veths on the current node's bridge (lc_node), the bridge and its policy rule.
lc_node_unlink() {
  local v
  if ip link show "$N_BRIDGE" >/dev/null 2>&1; then
    for v in $(ip -o link show master "$N_BRIDGE" 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
      ip link del "$v" 2>/dev/null || true
    done
    ip link del "$N_BRIDGE" 2>/dev/null || true
  fi
  while [[ -n $(ip rule show priority "$N_RT_PRIO") ]]; do ip rule del priority "$N_RT_PRIO" || break; done
}

# lc_node_clean N [--delete-node] (N > 1): removes everything node N left,
# in the order that worked by hand: its kubelet stopped (so it restarts
# nothing), its pods removed through its containerd, its forwarder and
# containerd stopped, leftover pod processes and shims killed, its mounts,
# network namespaces, veths, bridge, subnet route and policy rule, cgroup
# trees (deepest first), CNI state and runtime state removed; with
# --delete-node also its Node object (needs the API server). Kept: its
# containerd image store (root), config and certificates.
lc_node_clean() {
  local n m f v i procs=()
  lc_node "$1" || return 1
  n=$N_NUM
  ((n > 1)) || { lc_log "lc_node_clean: node 1 is cleaned by down.sh"; return 1; }
  lc_stop "kubelet-$n" || true
  lc_runtime_clean "$n"
  lc_stop "forward-$n" || true
  lc_stop "containerd-$n" || true
  lc_node "$n"

  # Leftover processes: containers in its cgroup trees, then its shims.
  local cg=()
  mapfile -t cg < <(for f in /sys/fs/cgroup/*/"${N_CGROUP_ROOT#/}"; do [[ -d "$f" ]] && echo "$f"; done)
  if ((${#cg[@]} > 0)); then
    mapfile -t procs < <(pod_pids "${cg[@]}")
    if ((${#procs[@]} > 0)); then
      lc_log "killing leftover pod processes of $N_NAME: ${procs[*]}"
      kill -KILL "${procs[@]}" 2>/dev/null || true
    fi
  fi
  mapfile -t procs < <(our_shims "$N_CTR_SOCK")
  if ((${#procs[@]} > 0)); then
    lc_log "killing leftover containerd shims of $N_NAME: ${procs[*]}"
    kill -KILL "${procs[@]}" 2>/dev/null || true
  fi
  for ((i = 0; i < 50; i++)); do
    [[ -z "$(our_shims "$N_CTR_SOCK")" ]] && { ((${#cg[@]} == 0)) || [[ -z "$(pod_pids "${cg[@]}")" ]]; } && break
    sleep 0.1
  done

  # Network namespaces holding one of its pod addresses, then mounts under its folder.
  for f in /run/netns/cni-* /var/run/netns/cni-*; do
    [[ -e "$f" ]] || continue
    if ip -n "${f##*/}" -o -4 addr show 2>/dev/null | grep -q " inet ${N_GW%.1}\."; then
      umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true
      rm -f "$f"
    fi
  done
  for ((i = 0; i < 3; i++)); do
    m=$(our_mounts | grep -F "$N_DIR/" || true)
    [[ -z "$m" ]] && break
    while IFS= read -r f; do umount "$f" 2>/dev/null || umount -l "$f" 2>/dev/null || true; done <<<"$m"
  done

  # Veths on its bridge, the bridge, its subnet route and policy rule.
  lc_node_unlink
  ip route del "$N_CIDR" table "$RT_TABLE" 2>/dev/null || true

  # Its cgroup trees, children first, /lc-node-N itself last.
  for f in /sys/fs/cgroup/*/"${N_CGROUP_ROOT#/}"; do
    [[ -d "$f" ]] && { find "$f" -depth -type d -exec rmdir {} \; 2>/dev/null || true; }
  done

  # CNI result cache and IPAM state, log links into its folder, runtime state.
  if [[ -d /var/lib/cni ]]; then
    find /var/lib/cni -name "$N_CNI_NET*" -exec rm -rf {} + 2>/dev/null || true
    find /var/lib/cni -depth -type d -empty -delete 2>/dev/null || true
  fi
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$N_DIR/*" -delete 2>/dev/null || true
  fi
  rm -rf "$N_DIR"/{kubelet,kubelet-plugins,pod-logs,cni/ipam,s} "$N_CTR_DIR"/{state,runc,opt} \
    "$N_CTR_SOCK" "$N_CTR_SOCK.ttrpc"

  if [[ "${2:-}" == --delete-node ]]; then
    lc_kubectl --request-timeout=10s delete node "$N_NAME" --ignore-not-found >/dev/null ||
      { lc_log "could not delete Node $N_NAME"; return 1; }
  fi
  return 0
}

# lc_node_leftovers N (N > 1): prints what node N left on the machine, one
# line each: processes, shims, pod processes, mounts, network namespaces, its
# bridge, policy rule and route, cgroups, listening ports, runtime state, CNI
# state; and its Node object when an API server answers.
lc_node_leftovers() {
  local n c pid f
  lc_node "$1" || return 1
  n=$N_NUM
  for c in "${NODE_COMPONENTS[@]}"; do
    if pid=$(lc_pid "$c-$n"); then echo "process: $c-$n (pid $pid)"; fi
  done
  lc_node "$n"
  for pid in $(our_shims "$N_CTR_SOCK"); do echo "containerd shim of $N_NAME: $pid"; done
  for f in /sys/fs/cgroup/*/"${N_CGROUP_ROOT#/}"; do
    [[ -e "$f" ]] || continue
    echo "cgroup: $f"
    for pid in $(pod_pids "$f"); do echo "process in $f: $pid"; done
  done
  while IFS= read -r f; do [[ -n "$f" ]] && echo "mount: $f"; done < <(our_mounts | grep -F "$N_DIR/" || true)
  for f in /run/netns/cni-* /var/run/netns/cni-*; do
    [[ -e "$f" ]] && ip -n "${f##*/}" -o -4 addr show 2>/dev/null | grep -q " inet ${N_GW%.1}\." && echo "netns: $f"
  done
  ip link show "$N_BRIDGE" >/dev/null 2>&1 && echo "bridge: $N_BRIDGE"
  [[ -n $(ip rule show priority "$N_RT_PRIO" 2>/dev/null) ]] && echo "ip rule: priority $N_RT_PRIO"
  [[ -n "$(ip route show "$N_CIDR" table "$RT_TABLE" 2>/dev/null)" ]] && echo "route: $N_CIDR in table $RT_TABLE"
  ss -Hltn 2>/dev/null | awk '{ print $4 }' |
    grep -E "^(127\.0\.0\.1|${N_GW//./\\.}):($N_KUBELET_PORT|$N_HEALTHZ_PORT)\$" | sed 's/^/listening: /' || true
  for f in "$N_DIR/kubelet" "$N_DIR/pod-logs" "$N_CTR_DIR/state" "$N_CTR_DIR/runc" "$N_CTR_SOCK"; do
    [[ -e "$f" ]] && echo "state: $f"
  done
  [[ -n "$(find /var/lib/cni -name "$N_CNI_NET*" 2>/dev/null)" ]] && echo "CNI cache: /var/lib/cni/**/$N_CNI_NET*"
  [[ -n "$(find /var/log/containers -maxdepth 1 -lname "$N_DIR/*" 2>/dev/null)" ]] && echo "log links into $N_DIR"
  if lc_listening "127.0.0.1:$APISERVER_PORT" && [[ -x "$LC" && -s "$ADMIN_KUBECONFIG" ]] &&
    lc_kubectl --request-timeout=3s get --raw /readyz >/dev/null 2>&1; then
    lc_kubectl --request-timeout=5s get node "$N_NAME" -o name 2>/dev/null | sed 's/^/Node object: /' || true
  fi
  return 0
}

# lc_sync_kube_proxy: after the node count changed, restarts a running
# kube-proxy if its config (clusterCIDR, nodePortAddresses) changed with it.
lc_sync_kube_proxy() {
  local f="$DIR/config/kube-proxy.yaml" before
  lc_pid kube-proxy >/dev/null || return 0
  before=$(cat "$f" 2>/dev/null) || before=""
  lc_config kube-proxy
  [[ "$(<"$f")" != "$before" ]] || return 0
  lc_stop kube-proxy || return 1
  lc_start kube-proxy
  lc_wait_healthy kube-proxy
}
