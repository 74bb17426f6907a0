#!/usr/bin/env bash
# Starts the local single-node cluster: containerd, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy. Everything
# (state, logs, certs, containerd root/state/socket) lives under
# ${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}. Idempotent: a second
# call while the cluster runs only checks it. Stop with down.sh. The components
# (config, command line, environment, health) are defined in lib-components.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t0=$(lc_now)

if [[ $(id -u) -ne 0 ]]; then
  echo "up.sh: must run as root (containerd, CNI, iptables, cgroups)" >&2
  exit 1
fi

# Each component's config file, command line, environment and health check
# are defined once, in lib-components.sh (component.sh uses the same).
kubeconfig="$ADMIN_KUBECONFIG"

cluster_ready() {
  local c
  for c in "${COMPONENTS[@]}"; do lc_pid "$c" >/dev/null || return 1; done
  [[ -x "$LC" && -s "$kubeconfig" ]] || return 1
  lc_kubectl get --raw /readyz >/dev/null 2>&1 || return 1
  lc_node_ready
}

if cluster_ready; then
  lc_log "already running ($(lc_since "$t0")s)"
  echo "export KUBECONFIG=$kubeconfig"
  exit 0
fi

# A half-started or crashed cluster is torn down first, so every start is clean.
for c in "${COMPONENTS[@]}"; do
  if lc_pid "$c" >/dev/null; then
    lc_log "found a partly running cluster; running down.sh first"
    "$LC_HERE/down.sh"
    break
  fi
done

t=$(lc_now)
"$LC_HERE/install-deps.sh"
lc_log "deps ok ($(lc_since "$t")s)"

t=$(lc_now)
bindir=$("$LC_HERE/build.sh")
lc_log "binary ok ($(lc_since "$t")s): $bindir"

mkdir -p "$DIR"/{bin,pki,logs,pids,config,images,kubelet,pod-logs,cni/net.d,cni/ipam} "$CTR_DIR"
mkdir -p -m 700 "$DIR/etcd"
ln -sfn "$bindir/localcluster" "$DIR/bin/localcluster"
ln -sfn "$bindir/pause" "$DIR/bin/pause"
# Fresh logs for a fresh start (the previous run's are kept as *.log.prev).
for f in "$DIR"/logs/*.log; do [[ -e "$f" ]] && mv -f "$f" "$f.prev"; done

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
# The bridge exists before any pod so the gateway IP (node IP, and address of
# the forwarder to the loopback-only apiserver/kubelet) is there from the start.
ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
[[ $(ip -o addr show dev "$BRIDGE") == *" $POD_GW/24 "* ]] || ip addr add "$POD_GW/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
# Pods may reach local addresses (the gateway, DNATed Service IPs) and each
# other; anything routed from the bridge to elsewhere is unreachable, so no
# pod traffic can leave the machine even though CNI turns on ip_forward.
ip route replace "$POD_CIDR" dev "$BRIDGE" src "$POD_GW" table "$RT_TABLE"
ip route replace unreachable default table "$RT_TABLE"
[[ -n $(ip rule show priority "$RT_PRIO") ]] || ip rule add iif "$BRIDGE" lookup "$RT_TABLE" priority "$RT_PRIO"

cat > "$DIR/cni/net.d/10-$CNI_NET.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "loopback"}
  ]
}
JSON
printf 'nameserver 127.0.0.1\noptions ndots:1 timeout:1 attempts:1\n' > "$DIR/config/resolv.conf"

# ---- containerd ----
t=$(lc_now)
lc_start containerd
lc_wait_healthy containerd || exit 1
lc_log "containerd up ($(lc_since "$t")s)"

# ---- images, built locally and imported (nothing is ever pulled) ----
t=$(lc_now)
"$LC_HERE/images.sh" "$LC" "$DIR/bin/pause" "$DIR/images" "$CTR_SOCK"
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
lc_start kube-controller-manager
lc_start kube-scheduler

# ---- node ----
t=$(lc_now)
lc_start kubelet
lc_start kube-proxy

lc_wait_healthy kubelet || exit 1
lc_log "node Ready ($(lc_since "$t")s)"
lc_wait_for "default ServiceAccount" 60 kube-controller-manager lc_kubectl -n default get serviceaccount default || exit 1
for c in kube-proxy forward kube-controller-manager kube-scheduler; do
  lc_wait_healthy "$c" || exit 1
done
for c in "${COMPONENTS[@]}"; do
  lc_pid "$c" >/dev/null || { lc_log "$c is not running; see $DIR/logs/$c.log"; exit 1; }
done

printf 'localcluster up in %ss\n' "$(lc_since "$t0")"
echo "export KUBECONFIG=$kubeconfig"
