# The components of the local cluster, each defined once: its config file,
# command line, environment, health check, listening ports and stop grace
# period. Sourced by lib.sh (after the settings there). up.sh starts every
# component with lc_start, component.sh stops/starts one, down.sh stops them
# with lc_stop. Only definitions here: sourcing it changes nothing.
# shellcheck shell=bash

LC="$DIR/bin/localcluster"   # symlink to the cached binary, made by up.sh
PKI="$DIR/pki"
ADMIN_KUBECONFIG="$DIR/kubeconfig"

# The whole environment of every component. Nothing is inherited from the
# shell that runs up.sh or component.sh (proxy variables, KUBECONFIG, GODEBUG,
# ...), so a component restarted by component.sh from a test gets exactly what
# up.sh gave it. containerd adds its own proxy settings (lc_cmd).
LC_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root)

# lc_write_file PATH: stdin to PATH, replaced atomically.
lc_write_file() {
  cat >"$1.tmp"
  mv -f "$1.tmp" "$1"
}

# lc_cluster_cidr: the pod subnets of all nodes of the cluster (kube-proxy's
# clusterCIDR): node 1's /24, or the /23 of nodes 1 and 2.
lc_cluster_cidr() {
  if (($(lc_node_count) > 1)); then echo 10.244.0.0/23; else echo "$POD_CIDR"; fi
}

# lc_node_port_addresses: kube-proxy's nodePortAddresses, the node IPs.
lc_node_port_addresses() {
  local n out=""
  for ((n = 1; n <= $(lc_node_count); n++)); do out+="${out:+, }\"10.244.$((n - 1)).1/32\""; done
  echo "[$out]"
}

# lc_containerd_config: the config of the current node's containerd (lc_node),
# on stdout: Debian's containerd 1.6 reads config version 2; containerd 2
# (second row) reads containerd2/config.toml.in, version 3, with the same
# settings under the keys that moved.
lc_containerd_config() {
  if [[ $N_CONTAINERD == built ]]; then
    if ((${#N_SHIM_DIR} > 42)); then
      lc_log "containerd 2's shim socket folder $N_SHIM_DIR is longer than 42 characters: use a shorter LOCALCLUSTER_DIR"
      return 1
    fi
    sed -e "s#@CTR_DIR@#$N_CTR_DIR#g" -e "s#@ROOT@#$N_CTR_DIR/root-2#g" -e "s#@SOCK@#$N_CTR_SOCK#g" -e "s#@SOCKET_DIR@#$N_SHIM_DIR#g" \
      -e "s#@PAUSE_IMAGE@#$PAUSE_IMAGE#g" -e "s#@CNI_CONF_DIR@#$N_DIR/cni/net.d#g" -e "s#@RUNC@#/usr/bin/runc#g" \
      "$LC_HERE/containerd2/config.toml.in"
    return
  fi
  cat <<TOML
version = 2
root = "$N_CTR_DIR/root"
state = "$N_CTR_DIR/state"
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$N_CTR_SOCK"
[ttrpc]
  address = "$N_CTR_SOCK.ttrpc"
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$N_CTR_DIR/opt"

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
        Root = "$N_CTR_DIR/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N_DIR/cni/net.d"
    max_conf_num = 1
TOML
}

# lc_config NAME: writes the config file NAME reads (containerd, kubelet,
# kube-proxy, and containerd-N, kubelet-N of node N); nothing for the others.
# Same content on every call.
lc_config() {
  lc_split "$1"
  lc_node "$LC_N"
  case "$LC_BASE" in
    containerd) mkdir -p "$N_CTR_DIR"
      lc_containerd_config >"$N_CTR_DIR/config.toml.tmp" || return 1
      mv -f "$N_CTR_DIR/config.toml.tmp" "$N_CTR_DIR/config.toml" ;;
    # Node N > 1 adds its cgroupRoot (created by lc_node_prepare) at the end.
    kubelet) mkdir -p "$N_DIR/config"; { cat <<YAML; lc_kubelet_extra; } | lc_write_file "$N_DIR/config/kubelet.yaml" ;;
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $N_KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $N_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet-server$N_SUFFIX.crt
tlsPrivateKeyFile: $PKI/kubelet-server$N_SUFFIX.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$N_CTR_SOCK
imageServiceEndpoint: unix://$N_CTR_SOCK
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
volumePluginDir: $N_DIR/kubelet-plugins/volume/exec
podLogsDir: $N_DIR/pod-logs
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
    kube-proxy) mkdir -p "$DIR/config"; lc_write_file "$DIR/config/kube-proxy.yaml" <<YAML ;;
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $PKI/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
clusterCIDR: $(lc_cluster_cidr)
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: $(lc_node_port_addresses)
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
    *) ;;
  esac
}

# lc_kubelet_extra: the kubelet settings only node N > 1 has (after lc_node N).
lc_kubelet_extra() {
  if [[ -n "$N_CGROUP_ROOT" ]]; then
    # Its own cgroup tree (/sys/fs/cgroup/*/lc-node-N/kubepods), beside node 1's /kubepods.
    echo "cgroupRoot: $N_CGROUP_ROOT"
  fi
}

# lc_cmd NAME: sets the array LC_CMD to NAME's command line (after LC_ENV).
lc_cmd() {
  lc_split "$1"
  lc_node "$LC_N"
  case "$1" in
    # HTTP(S)_PROXY at a closed loopback port: a pull from any registry but a
    # loopback one fails at once, with no DNS lookup or traffic off the machine.
    # containerd 2 finds its own shim first in PATH (Debian's 1.6 shim is in /usr/bin).
    containerd | containerd-[0-9]) LC_CMD=(HTTP_PROXY=http://127.0.0.1:5999 HTTPS_PROXY=http://127.0.0.1:5999 NO_PROXY=
        PATH="$(dirname "$N_CONTAINERD_BIN"):${LC_ENV[2]#PATH=}"
        "$N_CONTAINERD_BIN" --config "$N_CTR_DIR/config.toml") ;;
    etcd) LC_CMD=("$LC" etcd --data-dir "$DIR/etcd"
        --listen-client-url http://127.0.0.1:2379 --listen-peer-url http://127.0.0.1:2380) ;;
    kube-apiserver) LC_CMD=("$LC" kube-apiserver
        --etcd-servers=http://127.0.0.1:2379
        --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" --advertise-address="$POD_GW"
        --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key"
        --client-ca-file="$PKI/ca.crt"
        --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt"
        --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
        --kubelet-certificate-authority="$PKI/ca.crt"
        --kubelet-preferred-address-types=InternalIP
        --service-cluster-ip-range="$SVC_CIDR"
        --service-account-issuer=https://kubernetes.default.svc.cluster.local
        --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key"
        --authorization-mode=Node,RBAC
        --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client
        --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group
        --requestheader-extra-headers-prefix=X-Remote-Extra-
        --enable-admission-plugins=NodeRestriction
        --allow-privileged=true --profiling=false --event-ttl=1h
        --shutdown-send-retry-after=true
        --cert-dir="$PKI/apiserver-generated") ;;
    # The kubernetes Service endpoint and the node address must be non-loopback;
    # the gateway IP of our own pod bridge forwards to the loopback-only servers.
    forward) LC_CMD=("$LC" forward
        --map "$POD_GW:$APISERVER_PORT=127.0.0.1:$APISERVER_PORT"
        --map "$POD_GW:$KUBELET_PORT=127.0.0.1:$KUBELET_PORT") ;;
    # Node N > 1: the API server reaches its kubelet at its node IP (logs, exec).
    forward-[0-9]) LC_CMD=("$LC" forward --map "$N_GW:$N_KUBELET_PORT=127.0.0.1:$N_KUBELET_PORT") ;;
    kube-controller-manager) LC_CMD=("$LC" kube-controller-manager
        --kubeconfig="$PKI/controller-manager.kubeconfig"
        --authentication-kubeconfig="$PKI/controller-manager.kubeconfig"
        --authorization-kubeconfig="$PKI/controller-manager.kubeconfig"
        --bind-address=127.0.0.1 --leader-elect=false --controllers='*'
        --use-service-account-credentials=true
        --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt"
        --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key"
        --service-cluster-ip-range="$SVC_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=false
        --kube-api-qps=200 --kube-api-burst=400 --profiling=false) ;;
    kube-scheduler) LC_CMD=("$LC" kube-scheduler
        --kubeconfig="$PKI/scheduler.kubeconfig"
        --authentication-kubeconfig="$PKI/scheduler.kubeconfig"
        --authorization-kubeconfig="$PKI/scheduler.kubeconfig"
        --bind-address=127.0.0.1 --leader-elect=false --profiling=false) ;;
    kubelet | kubelet-[0-9]) LC_CMD=("$N_KUBELET_BIN" kubelet
        --config="$N_DIR/config/kubelet.yaml"
        --kubeconfig="$PKI/kubelet$N_SUFFIX.kubeconfig"
        --root-dir="$N_DIR/kubelet" --cert-dir="$PKI/kubelet-generated$N_SUFFIX"
        --hostname-override="$N_NAME" --node-ip="$N_GW"
        --v=1) ;;
    kube-proxy) LC_CMD=("$LC" kube-proxy --config="$DIR/config/kube-proxy.yaml") ;;
    *) lc_log "unknown component: $1"; return 1 ;;
  esac
}

# lc_start NAME: writes NAME's config and starts it in its own session (so
# nothing that ends the caller ends it), cwd /, umask 022, environment LC_ENV,
# output appended to logs/NAME.log, PID in pids/NAME.pid. Does nothing when
# NAME already runs. A component of node N > 1 first gets its node's bridge,
# routes, cgroup root and certificates (lc_node_prepare, idempotent).
lc_start() {
  local name=$1
  if lc_pid "$name" >/dev/null; then return 0; fi
  lc_split "$name"
  if ((LC_N > 1)); then lc_node_prepare "$LC_N" || return 1; fi
  lc_config "$name" || return 1
  lc_cmd "$name"
  mkdir -p "$DIR/logs" "$DIR/pids"
  # setsid execs in place (the subshell is no process-group leader), so $! is
  # the component's own PID.
  (cd / && umask 022 && exec setsid "${LC_ENV[@]}" "${LC_CMD[@]}") >>"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
}

# lc_grace NAME: seconds between SIGTERM and SIGKILL when stopping NAME.
lc_grace() {
  lc_split "$1"
  case "$LC_BASE" in
    kubelet | containerd | kube-apiserver | etcd) echo 15 ;;
    *) echo 10 ;;
  esac
}

# lc_ports NAME: the addresses NAME listens on (gone once it is stopped).
lc_ports() {
  lc_split "$1"
  lc_node "$LC_N"
  case "$1" in
    etcd) echo 127.0.0.1:2379 127.0.0.1:2380 ;;
    kube-apiserver) echo "127.0.0.1:$APISERVER_PORT" ;;
    forward) echo "$POD_GW:$APISERVER_PORT" "$POD_GW:$KUBELET_PORT" ;;
    forward-[0-9]) echo "$N_GW:$N_KUBELET_PORT" ;;
    kube-controller-manager) echo 127.0.0.1:10257 ;;
    kube-scheduler) echo 127.0.0.1:10259 ;;
    kubelet | kubelet-[0-9]) echo "127.0.0.1:$N_KUBELET_PORT" "127.0.0.1:$N_HEALTHZ_PORT" ;;
    kube-proxy) echo 127.0.0.1:10256 127.0.0.1:10249 ;;
    *) ;;
  esac
}

# lc_listening ADDR:PORT: a TCP socket listens there.
lc_listening() {
  ss -Hltn 2>/dev/null | awk -v a="$1" '$4 == a { f = 1 } END { exit !f }'
}

# lc_stop NAME [GRACE_SECONDS [SIGNAL]]: sends SIGNAL (TERM) to NAME, SIGKILL
# after GRACE seconds (lc_grace), waits until the process is gone and its
# ports are closed, removes the PID file. Fails if the process survived.
lc_stop() {
  local name=$1 grace=${2:-$(lc_grace "$1")} sig=${3:-TERM} pid i t a
  if pid=$(lc_pid "$name"); then
    t=$(lc_now)
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      lc_alive "$pid" || break
      sleep 0.1
    done
    if lc_alive "$pid"; then
      lc_log "$name (pid $pid) did not stop in ${grace}s, killing"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do lc_alive "$pid" || break; sleep 0.1; done
    fi
    if lc_alive "$pid"; then
      lc_log "$name (pid $pid) survived SIGKILL"
      return 1
    fi
    for a in $(lc_ports "$name"); do
      for ((i = 0; i < 50; i++)); do lc_listening "$a" || break; sleep 0.1; done
      lc_listening "$a" && lc_log "$name stopped but something still listens on $a"
    done
    lc_log "stopped $name ($(lc_since "$t")s)"
  fi
  rm -f "$DIR/pids/$name.pid"
}

lc_kubectl() { "$LC" kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# lc_node_ready [NODE_NAME]: the Node (default node 1) is Ready.
lc_node_ready() {
  [[ $(lc_kubectl --request-timeout=5s get node "${1:-$NODE_NAME}" \
        -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# lc_health NAME: one probe of NAME's health (a few seconds at most).
lc_health() {
  local a
  lc_split "$1"
  lc_node "$LC_N"
  case "$1" in
    containerd | containerd-[0-9]) timeout 5 "$N_CTR_BIN" -a "$N_CTR_SOCK" version ;;
    etcd) "$LC" wait-http -q --timeout 1s http://127.0.0.1:2379/health ;;
    # /readyz with the admin credentials: 200 "ok" once every post-start hook ran.
    kube-apiserver) "$LC" wait-http -q --timeout 1s --ca "$PKI/ca.crt" --cert "$PKI/admin.crt" \
        --key "$PKI/admin.key" "https://127.0.0.1:$APISERVER_PORT/readyz" ;;
    forward | forward-[0-9]) for a in $(lc_ports "$1"); do lc_listening "$a" || return 1; done ;;
    # Self-signed serving certs (generated in memory); /healthz needs no credentials.
    kube-controller-manager) curl -ksf --noproxy '*' --max-time 3 https://127.0.0.1:10257/healthz ;;
    kube-scheduler) curl -ksf --noproxy '*' --max-time 3 https://127.0.0.1:10259/healthz ;;
    kubelet | kubelet-[0-9]) "$LC" wait-http -q --timeout 1s "http://127.0.0.1:$N_HEALTHZ_PORT/healthz" &&
        lc_node_ready "$N_NAME" ;;
    kube-proxy) "$LC" wait-http -q --timeout 1s http://127.0.0.1:10256/healthz ;;
    *) return 1 ;;
  esac
}

# lc_health_timeout NAME: how long up.sh and component.sh wait for NAME's health.
lc_health_timeout() {
  lc_split "$1"
  case "$LC_BASE" in
    containerd) echo 30 ;;
    kube-apiserver) echo 120 ;;
    kubelet) echo 180 ;;
    *) echo 60 ;;
  esac
}

# lc_wait_for WHAT TIMEOUT_S COMPONENT CMD...: polls CMD until it succeeds;
# fails (with the component's last log lines) if COMPONENT exits or time is up.
lc_wait_for() {
  local what=$1 timeout=$2 comp=$3; shift 3
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! lc_pid "$comp" >/dev/null; then
      lc_log "$comp exited while waiting for $what; last log lines:"
      tail -n 30 "$DIR/logs/$comp.log" >&2 || true
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      lc_log "timed out after ${timeout}s waiting for $what; last lines of $DIR/logs/$comp.log:"
      tail -n 30 "$DIR/logs/$comp.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# lc_wait_healthy NAME [TIMEOUT_S]: waits until lc_health NAME succeeds.
lc_wait_healthy() {
  local what=$1
  lc_split "$1"
  lc_node "$LC_N"
  case "$LC_BASE" in
    kube-apiserver) what="kube-apiserver /readyz" ;;
    kubelet) what="$1 healthz and node $N_NAME Ready" ;;
    *) what="$1 health" ;;
  esac
  lc_wait_for "$what" "${2:-$(lc_health_timeout "$1")}" "$1" lc_health "$1"
}
