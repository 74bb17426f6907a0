#!/usr/bin/env bash
# Starts the local single-node cluster: containerd, etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy. Everything
# (state, logs, certs, containerd root/state/socket) lives under
# ${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}. Idempotent: a second
# call while the cluster runs only checks it. Stop with down.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
t0=$(lc_now)

if [[ $(id -u) -ne 0 ]]; then
  echo "up.sh: must run as root (containerd, CNI, iptables, cgroups)" >&2
  exit 1
fi

kubeconfig="$DIR/kubeconfig"

cluster_ready() {
  local c
  for c in "${COMPONENTS[@]}"; do lc_pid "$c" >/dev/null || return 1; done
  [[ -x "$DIR/bin/localcluster" && -s "$kubeconfig" ]] || return 1
  "$DIR/bin/localcluster" kubectl --kubeconfig "$kubeconfig" get --raw /readyz >/dev/null 2>&1 || return 1
  [[ $("$DIR/bin/localcluster" kubectl --kubeconfig "$kubeconfig" get node "$NODE_NAME" \
        -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
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
LC="$DIR/bin/localcluster"
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
cat > "$CTR_DIR/config.toml" <<TOML
version = 2
root = "$CTR_DIR/root"
state = "$CTR_DIR/state"
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$CTR_SOCK.ttrpc"
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CTR_DIR/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # CAP_SYS_RESOURCE is missing here: never ask runc for a lower oom_score_adj.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_tcp_service = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/bin/runc"
        Root = "$CTR_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
    max_conf_num = 1
TOML

start() { # start NAME CMD...: run in its own session, log and PID file under $DIR
  local name=$1; shift
  if lc_pid "$name" >/dev/null; then return 0; fi
  setsid "$@" >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

wait_for() { # wait_for WHAT TIMEOUT_S COMPONENT CMD...: poll CMD until it succeeds
  local what=$1 timeout=$2 comp=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! lc_pid "$comp" >/dev/null; then
      lc_log "$comp exited while waiting for $what; last log lines:"
      tail -n 30 "$DIR/logs/$comp.log" >&2 || true
      exit 1
    fi
    if (( $(date +%s) >= deadline )); then
      lc_log "timed out after ${timeout}s waiting for $what; last lines of $DIR/logs/$comp.log:"
      tail -n 30 "$DIR/logs/$comp.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}

t=$(lc_now)
# HTTP(S)_PROXY at a closed loopback port: a pull from any registry but a
# loopback one fails at once, with no DNS lookup or traffic off the machine.
start containerd env -u http_proxy -u https_proxy -u no_proxy \
  HTTP_PROXY=http://127.0.0.1:5999 HTTPS_PROXY=http://127.0.0.1:5999 NO_PROXY= \
  containerd --config "$CTR_DIR/config.toml"
ctr() { command ctr -a "$CTR_SOCK" -n k8s.io "$@"; }
wait_for "containerd socket" 30 containerd ctr version
lc_log "containerd up ($(lc_since "$t")s)"

# ---- images, built locally and imported (nothing is ever pulled) ----
t=$(lc_now)
"$LC_HERE/images.sh" "$LC" "$DIR/bin/pause" "$DIR/images" "$CTR_SOCK"
lc_log "images ok ($(lc_since "$t")s)"

# ---- control plane ----
t=$(lc_now)
start etcd "$LC" etcd --data-dir "$DIR/etcd" \
  --listen-client-url http://127.0.0.1:2379 --listen-peer-url http://127.0.0.1:2380
wait_for "etcd" 60 etcd "$LC" wait-http -q --timeout 1s http://127.0.0.1:2379/health
lc_log "etcd up ($(lc_since "$t")s)"

pki="$DIR/pki"
t=$(lc_now)
start kube-apiserver "$LC" kube-apiserver \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address="$POD_GW" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$pki/ca.crt" \
  --kubelet-preferred-address-types=InternalIP \
  --service-cluster-ip-range="$SVC_CIDR" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --authorization-mode=Node,RBAC \
  --requestheader-client-ca-file="$pki/ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --enable-admission-plugins=NodeRestriction \
  --allow-privileged=true --profiling=false --event-ttl=1h \
  --cert-dir="$pki/apiserver-generated"
wait_for "kube-apiserver /readyz" 120 kube-apiserver \
  "$LC" wait-http -q --timeout 1s --ca "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
  "https://127.0.0.1:$APISERVER_PORT/readyz"
lc_log "kube-apiserver up ($(lc_since "$t")s)"

# The kubernetes Service endpoint and the node address must be non-loopback;
# the gateway IP of our own pod bridge forwards to the loopback-only servers.
start forward "$LC" forward \
  --map "$POD_GW:$APISERVER_PORT=127.0.0.1:$APISERVER_PORT" \
  --map "$POD_GW:$KUBELET_PORT=127.0.0.1:$KUBELET_PORT"

start kube-controller-manager "$LC" kube-controller-manager \
  --kubeconfig="$pki/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$pki/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$pki/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --controllers='*' \
  --use-service-account-credentials=true \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$SVC_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false \
  --kube-api-qps=200 --kube-api-burst=400 --profiling=false
start kube-scheduler "$LC" kube-scheduler \
  --kubeconfig="$pki/scheduler.kubeconfig" \
  --authentication-kubeconfig="$pki/scheduler.kubeconfig" \
  --authorization-kubeconfig="$pki/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false

# ---- node ----
cat > "$DIR/config/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $pki/kubelet-server.crt
tlsPrivateKeyFile: $pki/kubelet-server.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: $CRI_ENDPOINT
imageServiceEndpoint: $CRI_ENDPOINT
cgroupDriver: cgroupfs
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failSwapOn: false
failCgroupV1: false
# The kubelet cannot lower its own oom_score_adj (no CAP_SYS_RESOURCE): keep it at 0.
oomScoreAdj: 0
resolvConf: $DIR/config/resolv.conf
# No DNS server runs. Pods still get a cluster resolver address (one no
# Service holds) so the kubelet does not emit MissingClusterDNS events on every
# sync; lookups fail at once (policy route: unreachable).
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
volumePluginDir: $DIR/kubelet-plugins/volume/exec
podLogsDir: $DIR/pod-logs
rotateCertificates: false
serverTLSBootstrap: false
registerNode: true
# Never evict for this machine's disk or memory, never garbage-collect our images.
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
  imagefs.inodesFree: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
shutdownGracePeriod: 0s
YAML

t=$(lc_now)
start kubelet "$LC" kubelet \
  --config="$DIR/config/kubelet.yaml" \
  --kubeconfig="$pki/kubelet.kubeconfig" \
  --root-dir="$DIR/kubelet" --cert-dir="$pki/kubelet-generated" \
  --hostname-override="$NODE_NAME" --node-ip="$POD_GW" \
  --v=1

cat > "$DIR/config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $pki/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$POD_GW/32"]
detectLocalMode: ClusterCIDR
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
iptables:
  minSyncPeriod: 1s
  syncPeriod: 30s
YAML
start kube-proxy "$LC" kube-proxy --config="$DIR/config/kube-proxy.yaml"

kc() { "$LC" kubectl --kubeconfig "$kubeconfig" "$@"; }
node_ready() {
  [[ $(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}
wait_for "node $NODE_NAME Ready" 180 kubelet node_ready
lc_log "node Ready ($(lc_since "$t")s)"
wait_for "default ServiceAccount" 60 kube-controller-manager kc -n default get serviceaccount default
wait_for "kube-proxy healthz" 60 kube-proxy "$LC" wait-http -q --timeout 1s http://127.0.0.1:10256/healthz
for c in "${COMPONENTS[@]}"; do
  lc_pid "$c" >/dev/null || { lc_log "$c is not running; see $DIR/logs/$c.log"; exit 1; }
done

printf 'localcluster up in %ss\n' "$(lc_since "$t0")"
echo "export KUBECONFIG=$kubeconfig"
