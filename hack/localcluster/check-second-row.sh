#!/usr/bin/env bash
# Checks the second row's binaries without a cluster: the localcluster binary
# of $KUBE_VERSION (default: KUBE_SECOND_VERSION in versions.sh) and
# containerd 2 (build-containerd.sh), both built if needed (cached).
#   1. every binary answers --version;
#   2. containerd 2 starts with its own config (config.toml.in: own root, state,
#      sockets, restrict_oom_score_adj, cgroupfs) and answers `ctr version`;
#      our two images are imported into it;
#   3. the new kubelet, standalone (no API server, no kubeconfig), failCgroupV1:
#      false, pointed at that containerd, runs a static host-network pod
#      (the testbox image, 32Mi memory limit) and the pod's output, its
#      container's cgroup v1 memory limit and the kubelet's view are checked;
#   4. everything is stopped by PID and removed: processes, mounts, cgroups,
#      folders, kernel settings the kubelet changed.
# Touches nothing of the local cluster (/var/tmp/lifecycle-localcluster): all
# state is under $T. The kubelet runs in a mount and network namespace of its
# own (so its fixed host paths /var/lib/kubelet/device-plugins and
# /var/log/containers, its iptables chains and its ports 127.0.0.1:10270/10278
# are its own); containerd, the shims and the pod run in the host's.
# Prints "N passed, N failed"; exit 0 only if all passed and the cleanup is clean.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export KUBE_VERSION="${KUBE_VERSION:-$(. "$here/versions.sh" && echo "$KUBE_SECOND_VERSION")}"
. "$here/versions.sh"

T=/var/tmp/lc-ctr2-check
SOCK="$T/containerd.sock"
CG_ROOT=lc-ctr2-check          # the kubelet's cgroupRoot, in every cgroup v1 hierarchy
KUBELET_PORT=10270 HEALTHZ_PORT=10278
TESTBOX_IMAGE="localhost/lifecycle-operator/testbox:1.35"
PAUSE_IMAGE="localhost/lifecycle-operator/pause:1"
# Kernel settings the kubelet sets at start (protectKernelDefaults: false) and
# the values it sets. They are global: the local cluster's kubelet sets the same
# ones (its up.sh saves the originals, its down.sh restores them). So only a
# setting that had another value when we started is restored, and only while
# it still has the kubelet's value: never one the local cluster set or restored.
declare -A KUBELET_SYSCTLS=([vm/overcommit_memory]=1 [vm/panic_on_oom]=0 [kernel/panic]=10
  [kernel/panic_on_oops]=1 [kernel/keys/root_maxkeys]=1000000 [kernel/keys/root_maxbytes]=25000000)

pass=0 fail=0
ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
log() { echo "check-second-row: $*" >&2; }
alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

[[ $(id -u) == 0 ]] || { log "run as root"; exit 2; }
if [[ -e $T ]]; then log "$T exists (a run in progress, or not cleaned): remove it first"; exit 2; fi

# Built (cached) unless given: LOCALCLUSTER_BIN_DIR / CONTAINERD2_BIN_DIR
# (folders as build.sh / build-containerd.sh print them).
lc_dir="${LOCALCLUSTER_BIN_DIR:-$("$here/build.sh")}"
ctr_dir="${CONTAINERD2_BIN_DIR:-$("$here/build-containerd.sh")}"
LC="$lc_dir/localcluster" PAUSE="$lc_dir/pause"
CTR="$ctr_dir/ctr"

declare -A saved=() existed=()
for s in "${!KUBELET_SYSCTLS[@]}"; do
  v=$(cat "/proc/sys/$s")
  [[ $v == "${KUBELET_SYSCTLS[$s]}" ]] || saved[$s]=$v
done
# Host paths a containerd or kubelet could create on its own: none may appear.
HOST_PATHS=(/run/containerd /var/run/nri /opt/containerd /var/lib/kubelet /var/log/containers /var/log/pods
            /run/netns /var/lib/cni /etc/containerd /var/lib/containerd)
for f in "${HOST_PATHS[@]}"; do [[ -e $f ]] && existed[$f]=1; done
ctr_pid="" kubelet_pid=""

stop_pid() { # stop_pid PID NAME: SIGTERM, then SIGKILL after 15 s
  local pid=$1 name=$2 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do alive "$pid" || { log "$name (pid $pid) stopped"; return 0; }; sleep 0.1; done
  log "$name (pid $pid) still running after 15 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
}
our_shims() { # PIDs of shims started by our containerd (their -address is our socket)
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "containerd-shim-runc-v2 .*-address $SOCK " && echo "${p#/proc/}"
  done
  return 0
}
other_kubelet() { # prints the PID of a kubelet that is not ours (the local cluster's)
  local p
  for p in /proc/[0-9]*; do
    [[ ${p#/proc/} == "$kubelet_pid" ]] && continue
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- '^[^ ]*localcluster kubelet '; then echo "${p#/proc/}"; return 0; fi
  done
  return 1
}
cleanup() {
  set +e
  log "cleanup"
  # The pod first, through the kubelet (it stops it when the manifest is gone).
  if alive "$kubelet_pid"; then
    rm -f "$T/manifests/"*.yaml
    for ((i = 0; i < 100; i++)); do
      [[ -z $("$CTR" -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
  stop_pid "$kubelet_pid" kubelet
  if alive "$ctr_pid"; then
    # What is left (the sandbox): stop and remove through CRI, as down.sh does.
    "$LC" cri-cleanup --endpoint "unix://$SOCK" --timeout 30s 2>&1 | sed 's/^/  /' >&2
  fi
  stop_pid "$ctr_pid" containerd
  for pid in $(our_shims); do stop_pid "$pid" "shim"; done
  # Mounts under $T, deepest first (containerd unmounts its own normally).
  grep -F " $T/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | while read -r m; do
    log "unmount $m"; umount "$m" || umount -l "$m"
  done
  # Our cgroup trees, children first.
  for h in /sys/fs/cgroup/*/; do
    [[ -d $h$CG_ROOT ]] && find "$h$CG_ROOT" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  if other=$(other_kubelet); then
    # It needs these values; its own down.sh restores them.
    log "another kubelet runs (pid $other): kernel settings left as they are"; saved=()
  fi
  for s in "${!saved[@]}"; do
    [[ $(cat "/proc/sys/$s") == "${KUBELET_SYSCTLS[$s]}" ]] && { echo "${saved[$s]}" > "/proc/sys/$s"; log "restored $s=${saved[$s]}"; }
  done
  rm -rf "$T"
}
trap 'cleanup; trap - EXIT' EXIT
trap 'exit 130' INT TERM

mkdir -p "$T"/{containerd,cni/net.d,manifests,kubelet,pod-logs,images,logs}
touch "$T/.start"

# ---- 1. versions ---------------------------------------------------------------
echo "== binaries: $lc_dir, $ctr_dir"
for c in kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  v=$("$LC" "$c" --version 2>&1 | head -1) || true
  [[ $v == "Kubernetes v$KUBE_VERSION" ]] && ok "$c --version: $v" || bad "$c --version: $v"
done
v=$("$LC" kubectl version --client 2>&1 | head -1) || true
[[ $v == "Client Version: v$KUBE_VERSION" ]] && ok "kubectl version --client: $v" || bad "kubectl: $v"
for b in containerd ctr containerd-shim-runc-v2; do
  v=$("$ctr_dir/$b" --version 2>&1 | head -1) || true
  [[ $b == containerd-shim-runc-v2 ]] && { v=$("$ctr_dir/$b" -v 2>&1 | tr -s ' \n' ' ') || true; }
  [[ $v == *"v$(cat "$ctr_dir/containerd-version")"* ]] && ok "$b --version: $v" || bad "$b --version: $v"
done
for b in "$LC" "$ctr_dir"/containerd "$ctr_dir"/containerd-shim-runc-v2 "$ctr_dir"/ctr; do
  file -b "$b" | grep -q "statically linked" && ok "static: ${b##*/}" || bad "not static: ${b##*/}: $(file -b "$b")"
done

# ---- 2. containerd 2 -----------------------------------------------------------
echo "== containerd 2"
sed -e "s#@CTR_DIR@#$T/containerd#g" -e "s#@ROOT@#$T/containerd/root#g" -e "s#@SOCK@#$SOCK#g" -e "s#@SOCKET_DIR@#$T/s#g" \
    -e "s#@PAUSE_IMAGE@#$PAUSE_IMAGE#g" -e "s#@CNI_CONF_DIR@#$T/cni/net.d#g" -e "s#@RUNC@#/usr/bin/runc#g" \
    "$here/containerd2/config.toml.in" > "$T/containerd/config.toml"
# The shim is looked up in PATH first: ours must come before Debian's 1.6 shim in /usr/bin.
( cd / && exec env -i PATH="$ctr_dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root \
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
    setsid "$ctr_dir/containerd" --config "$T/containerd/config.toml" >"$T/logs/containerd.log" 2>&1 ) &
ctr_pid=$!
for ((i = 0; i < 100; i++)); do "$CTR" -a "$SOCK" version >/dev/null 2>&1 && break; alive "$ctr_pid" || break; sleep 0.1; done
if out=$("$CTR" -a "$SOCK" version 2>&1); then
  ok "containerd (pid $ctr_pid) up in ~$((i / 10)).$((i % 10)) s; ctr version: $(echo "$out" | grep Version: | tr -s ' \n' ' ')"
else
  bad "containerd did not answer: $out"; tail -20 "$T/logs/containerd.log"; exit 1
fi
# CRI's effective config: the keys we set, as containerd read them.
cfg=$("$ctr_dir/containerd" --config "$T/containerd/config.toml" config dump 2>/dev/null)
for want in 'restrict_oom_score_adj = true' 'SystemdCgroup = false' "sandbox = '$PAUSE_IMAGE'" "socket_dir = '$T/s'" "snapshotter = 'overlayfs'"; do
  grep -qF -- "$want" <<<"$cfg" && ok "config dump: $want" || bad "config dump lacks: $want"
done
grep -q "cgroup v1.*deprecated\|deprecated.*cgroup v1\|cgroup-v1" "$T/logs/containerd.log" && echo "   (containerd logs the cgroup v1 deprecation warning)"
if grep -q 'level=error' "$T/logs/containerd.log"; then
  echo "   containerd errors at start (for the record):"; grep 'level=error' "$T/logs/containerd.log" | cut -c1-240 | sed 's/^/     /'
fi
"$LC" image testbox --busybox /bin/busybox --ref "$TESTBOX_IMAGE" --out "$T/images/testbox.oci.tar" >/dev/null
"$LC" image pause --pause "$PAUSE" --ref "$PAUSE_IMAGE" --out "$T/images/pause.oci.tar" >/dev/null
# (ctr prints containerd's cgroup v1 deprecation warning on every call: dropped.)
for a in testbox pause; do "$CTR" -a "$SOCK" -n k8s.io images import "$T/images/$a.oci.tar" >/dev/null 2>&1; done
imgs=$("$CTR" -a "$SOCK" -n k8s.io images ls -q 2>/dev/null)
grep -qxF "$TESTBOX_IMAGE" <<<"$imgs" && grep -qxF "$PAUSE_IMAGE" <<<"$imgs" && ok "images imported" || bad "images: $imgs"

# ---- 3. kubelet ----------------------------------------------------------------
echo "== kubelet v$KUBE_VERSION (standalone)"
for h in /sys/fs/cgroup/*/; do
  [[ $(stat -fc %T "$h") == cgroupfs ]] && mkdir -p "$h$CG_ROOT"
done
cat > "$T/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $HEALTHZ_PORT
# Standalone and in its own network namespace: nobody else can reach it.
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization:
  mode: AlwaysAllow
containerRuntimeEndpoint: unix://$SOCK
imageServiceEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
cgroupRoot: /$CG_ROOT
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failSwapOn: false
failCgroupV1: false
oomScoreAdj: 0
staticPodPath: $T/manifests
fileCheckFrequency: 1s
podLogsDir: $T/pod-logs
volumePluginDir: $T/kubelet-plugins
resolvConf: ""
evictionHard:
  memory.available: "1Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
  imagefs.inodesFree: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
shutdownGracePeriod: 0s
YAML
cat > "$T/manifests/hello.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: hello
  namespace: default
spec:
  hostNetwork: true
  containers:
  - name: hello
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'echo "hello from kubelet v$KUBE_VERSION"; busybox adjtimex | grep time.tv_sec; exec sleep 3600']
    resources:
      limits: {memory: 32Mi}
YAML
# Private /var/lib and /var/log for the kubelet: its fixed paths (device-plugin
# socket and checkpoint, /var/log/containers symlinks) stay out of the host's.
( cd / && exec env -i PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root \
    setsid unshare --mount --net --propagation slave -- sh -c '
      ip link set lo up && mount -t tmpfs -o mode=755 lc-ctr2-check-varlib /var/lib &&
      mount -t tmpfs -o mode=755 lc-ctr2-check-varlog /var/log && exec "$@"' kubelet \
    "$LC" kubelet --config="$T/kubelet.yaml" --root-dir="$T/kubelet" --cert-dir="$T/kubelet/pki" \
      --hostname-override=lc-ctr2-check --v=2 >"$T/logs/kubelet.log" 2>&1 ) &
kubelet_pid=$!
healthy=false
for ((i = 0; i < 600; i++)); do
  alive "$kubelet_pid" || break
  if nsenter -t "$kubelet_pid" -n "$LC" wait-http -q --timeout 1s "http://127.0.0.1:$HEALTHZ_PORT/healthz" 2>/dev/null; then healthy=true; break; fi
  sleep 0.2
done
if $healthy; then ok "kubelet (pid $kubelet_pid) healthz ok after ~$((i / 5)) s"; else bad "kubelet not healthy"; tail -30 "$T/logs/kubelet.log"; exit 1; fi
kl="$T/logs/kubelet.log"
grep -q 'failCgroupV1\|cgroup v1' "$kl" && ok "kubelet on cgroup v1: $(grep -m1 -o '[^"]*[Cc]group v1[^"]*' "$kl" | cut -c1-160)" || bad "no cgroup v1 line in the kubelet log"
rt=$(grep -m1 -o 'containerRuntime="containerd" version="[^"]*" apiVersion="[^"]*"' "$kl" || true)
[[ -n $rt ]] && ok "kubelet's runtime: $rt" || bad "no 'Container runtime initialized' line"
drv=$(grep -m1 -o 'CgroupDriver[":= ]*[a-z]*' "$kl" || true)
[[ -n $drv ]] && echo "   kubelet: $drv"

log_file=""
for ((i = 0; i < 600; i++)); do
  log_file=$(ls "$T"/pod-logs/default_hello-lc-ctr2-check_*/hello/0.log 2>/dev/null | head -1 || true)
  [[ -n $log_file ]] && grep -q 'time.tv_sec' "$log_file" && break
  alive "$kubelet_pid" || break
  sleep 0.2
done
if [[ -n $log_file ]] && grep -q "hello from kubelet v$KUBE_VERSION" "$log_file"; then
  ok "static pod ran in ~$((i / 5)) s: $(cut -d' ' -f4- "$log_file" | tr '\n' '|')"
else
  bad "static pod output not found"; tail -30 "$kl"
fi
pods=$(nsenter -t "$kubelet_pid" -n curl -sSk --max-time 5 "https://127.0.0.1:$KUBELET_PORT/pods" 2>&1 || true)
phase=$(grep -o '"phase":"[A-Za-z]*"' <<<"$pods" | head -1 || true)
[[ $phase == '"phase":"Running"' ]] && ok "kubelet API /pods on 127.0.0.1:$KUBELET_PORT: hello-lc-ctr2-check $phase" || bad "kubelet /pods: ${pods:0:300}"
cid=$("$CTR" -a "$SOCK" -n k8s.io containers ls -q 2>/dev/null | while read -r c; do
  "$CTR" -a "$SOCK" -n k8s.io containers info "$c" 2>/dev/null | grep -q '"io.kubernetes.container.name": "hello"' && echo "$c"; done | head -1 || true)
lim=$(cat /sys/fs/cgroup/memory/$CG_ROOT/kubepods/*/pod*/"$cid"/memory.limit_in_bytes 2>/dev/null || true)
[[ $lim == 33554432 ]] && ok "container ${cid:0:12} memory cgroup v1 limit: $lim (/sys/fs/cgroup/memory/$CG_ROOT/kubepods/...)" || bad "memory limit: '$lim'"
"$CTR" -a "$SOCK" -n k8s.io tasks ls 2>/dev/null | sed 's/^/   /'
errs=$(grep -c '^E' "$kl" || true)
echo "   kubelet log: $errs error lines; distinct messages:"
{ grep '^E' "$kl" || true; } | sed -E 's/^E[0-9 :.]+[0-9]+ [a-z_.]+:[0-9]+\] //' | cut -c1-150 | sort | uniq -c | sort -rn | head -12 | sed 's/^/     /'
cp "$kl" "$T/logs/containerd.log" /tmp/ 2>/dev/null && echo "   logs kept: /tmp/kubelet.log, /tmp/containerd.log"

# ---- 4. cleanup ----------------------------------------------------------------
echo "== cleanup"
cleanup
trap - EXIT
left=()
for p in "$kubelet_pid" "$ctr_pid" $(our_shims); do alive "$p" && left+=("process $p"); done
grep -qF "$T" /proc/self/mountinfo && left+=("mounts under $T")
for h in /sys/fs/cgroup/*/; do [[ -e $h$CG_ROOT ]] && left+=("cgroup $h$CG_ROOT"); done
[[ -e $T ]] && left+=("$T")
# Host paths: only judged while no local cluster runs (its kubelet and
# containerd create some of them).
others=$(other_kubelet || true)
for p in /proc/[0-9]*; do [[ $(cat "$p/comm" 2>/dev/null) == containerd ]] && others+=" ${p#/proc/}"; done
if [[ -z ${others// } ]]; then
  for f in "${HOST_PATHS[@]}"; do [[ -e $f && -z ${existed[$f]:-} ]] && left+=("$f (created)"); done
else
  echo "   host paths (${HOST_PATHS[*]}) not judged: another kubelet/containerd runs (pids$others)"
fi
for s in "${!saved[@]}"; do [[ $(cat "/proc/sys/$s") == "${KUBELET_SYSCTLS[$s]}" ]] && left+=("sysctl $s"); done
if ((${#left[@]})); then bad "left over: ${left[*]}"; else ok "clean: no process, mount, cgroup, folder or changed sysctl left"; fi
echo "$pass passed, $fail failed"
((fail == 0))
