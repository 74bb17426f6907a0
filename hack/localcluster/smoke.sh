#!/usr/bin/env bash
# Smoke test of a running local cluster (after up.sh): a restricted-PSA pod
# with an init container, a postStart hook, a termination message and exit
# code 3; busybox adjtimex under RuntimeDefault seccomp as uid 65532; a
# restartPolicy Always pod whose restartCount climbs; a pod that reaches the
# API server through the kubernetes Service ClusterIP; a pod whose image
# cannot be pulled. With 2 nodes (up.sh --nodes 2 or node.sh add 2) also:
# both nodes Ready; a pod pinned to each node runs and `kubectl logs` works
# for it (node 2's through its forwarder); a pod on node 1 reaches a pod on
# node 2 by pod IP and through a Service ClusterIP; a pod on node 2 reaches
# the API server through the kubernetes Service. Cleans up its namespace.
# (Debian busybox 1.35 `wget -T` segfaults on https, hence `timeout wget`.)
# Prints "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
k() { "$LC_HERE/kubectl" "$@"; }
ns=lc-smoke
pass=0 fail=0
ok() { echo "ok   - $*"; pass=$((pass + 1)); }
bad() { echo "FAIL - $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }

k delete namespace "$ns" --ignore-not-found --wait=true >/dev/null
# Fields every pod needs to pass the restricted Pod Security level.
psc='{runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}'
csc='{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}'
res='{requests: {memory: 32Mi}, limits: {memory: 32Mi}}'
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: Pod
metadata: {name: lifecycle, namespace: $ns}
spec:
  restartPolicy: Never
  securityContext: $psc
  initContainers:
  - name: init
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'echo init \$(cat /proc/uptime); id -u']
    securityContext: $csc
    resources: $res
  containers:
  - name: main
    image: $TESTBOX_IMAGE
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo \$(cat /proc/uptime) hi > /dev/termination-log; grep Seccomp: /proc/self/status; busybox adjtimex | grep tv_; echo adjtimex-rc=\$?; for i in 1 2 3 4 5 6 7 8 9 10; do [ -f /tmp/poststart ] && cat /tmp/poststart && break; sleep 0.5; done; exit 3']
    lifecycle:
      postStart:
        exec: {command: [sh, -c, 'echo poststart > /tmp/poststart']}
    securityContext: $csc
    resources: $res
---
apiVersion: v1
kind: Pod
metadata: {name: crashloop, namespace: $ns}
spec:
  restartPolicy: Always
  securityContext: $psc
  containers:
  - name: c
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'exit 1']
    securityContext: $csc
    resources: $res
---
apiVersion: v1
kind: Pod
metadata: {name: apiclient, namespace: $ns}
spec:
  restartPolicy: Never
  securityContext: $psc
  containers:
  - name: c
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'timeout 10 wget -qO- --no-check-certificate https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT/healthz']
    securityContext: $csc
    resources: $res
---
apiVersion: v1
kind: Pod
metadata: {name: badimage, namespace: $ns}
spec:
  restartPolicy: Never
  securityContext: $psc
  containers:
  - name: c
    image: 127.0.0.1:5999/lifecycle-operator/does-not-exist:1
    imagePullPolicy: IfNotPresent
    securityContext: $csc
    resources: $res
YAML
ok "restricted namespace admitted all pods"

phase() { k -n "$ns" get pod "$1" -o jsonpath='{.status.phase}'; }
waitfor() { # waitfor SECONDS CMD...
  local end=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do (( $(date +%s) < end )) || return 1; sleep 0.5; done
}
is_phase() { [[ $(phase "$1") == "$2" ]]; }

if waitfor 60 is_phase lifecycle Failed; then
  ok "lifecycle pod ran to Failed"
  j() { k -n "$ns" get pod lifecycle -o jsonpath="$1"; }
  check "init container exit 0" test "$(j '{.status.initContainerStatuses[0].state.terminated.exitCode}')" = 0
  check "main container exit 3" test "$(j '{.status.containerStatuses[0].state.terminated.exitCode}')" = 3
  msg=$(j '{.status.containerStatuses[0].state.terminated.message}')
  check "termination message ($msg)" grep -q ' hi$' <<<"$msg"
  logs=$(k -n "$ns" logs lifecycle -c main)
  check "kubectl logs through the kubelet" grep -q adjtimex-rc <<<"$logs"
  check "seccomp filter active (Seccomp: 2)" grep -qP 'Seccomp:\s+2' <<<"$logs"
  check "busybox adjtimex as uid 65532 under RuntimeDefault" grep -q 'time.tv_usec' <<<"$logs"
  check "postStart hook ran in the container" grep -qx poststart <<<"$logs"
  check "init ran as uid 65532" grep -qx 65532 <<<"$(k -n "$ns" logs lifecycle -c init)"
else
  bad "lifecycle pod did not finish: $(phase lifecycle)"
fi

if waitfor 30 is_phase apiclient Succeeded; then
  check "pod reached the API server via the kubernetes Service" grep -qx ok <<<"$(k -n "$ns" logs apiclient)"
else
  bad "apiclient pod: $(phase apiclient) $(k -n "$ns" logs apiclient 2>&1 | tail -2)"
fi

reason() { k -n "$ns" get pod badimage -o jsonpath='{.status.containerStatuses[0].state.waiting.reason}'; }
is_pull_error() { [[ $(reason) =~ ^(ErrImagePull|ImagePullBackOff)$ ]]; }
if waitfor 30 is_pull_error; then ok "bad image: $(reason)"; else bad "bad image: reason '$(reason)'"; fi

restarts() { k -n "$ns" get pod crashloop -o jsonpath='{.status.containerStatuses[0].restartCount}'; }
at_least() { (( $(restarts) >= $1 )); }
if waitfor 60 at_least 2; then ok "restartCount climbs (restartCount $(restarts))"; else bad "restartCount $(restarts)"; fi

# ---- two nodes ----
nodes=$(lc_node_count)
if ((nodes >= 2)); then
  lc_node 2
  node2=$N_NAME
  ready() { [[ $(k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') == True ]]; }
  check "node $NODE_NAME Ready" ready "$NODE_NAME"
  check "node $node2 Ready" ready "$node2"
  # A web server pinned to node 2 and a Service for it; then a client pinned
  # to node 1 (created after the Service, so it gets WEB2_SERVICE_HOST).
  k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web2, namespace: $ns, labels: {app: web2}}
spec:
  nodeName: $node2
  securityContext: $psc
  containers:
  - name: c
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'mkdir -p /tmp/www && echo "hello from \$(hostname)" > /tmp/www/index.html && echo serving on \$(hostname) && exec httpd -f -p 8080 -h /tmp/www']
    securityContext: $csc
    resources: $res
---
apiVersion: v1
kind: Service
metadata: {name: web2, namespace: $ns}
spec:
  selector: {app: web2}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: api2, namespace: $ns}
spec:
  nodeName: $node2
  restartPolicy: Never
  securityContext: $psc
  containers:
  - name: c
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'timeout 10 wget -qO- --no-check-certificate https://\$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT/healthz']
    securityContext: $csc
    resources: $res
YAML
  podip() { k -n "$ns" get pod "$1" -o jsonpath='{.status.podIP}'; }
  web_up() { is_phase web2 Running && [[ -n $(podip web2) ]] && k -n "$ns" logs web2 | grep -q serving; }
  if waitfor 60 web_up; then
    ip2=$(podip web2)
    ok "pod pinned to $node2 Running (IP $ip2), kubectl logs through its kubelet"
    k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client1, namespace: $ns}
spec:
  nodeName: $NODE_NAME
  restartPolicy: Never
  securityContext: $psc
  containers:
  - name: c
    image: $TESTBOX_IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'echo pod-ip: \$(timeout 10 wget -qO- http://$ip2:8080/); echo service: \$(timeout 10 wget -qO- http://\$WEB2_SERVICE_HOST:\$WEB2_SERVICE_PORT/)']
    securityContext: $csc
    resources: $res
YAML
    if waitfor 60 is_phase client1 Succeeded; then
      logs=$(k -n "$ns" logs client1)
      ok "pod pinned to $NODE_NAME ran, kubectl logs works"
      check "pod on $NODE_NAME reached a pod on $node2 by pod IP" grep -qx 'pod-ip: hello from web2' <<<"$logs"
      check "pod on $NODE_NAME reached a pod on $node2 through a Service ClusterIP" grep -qx 'service: hello from web2' <<<"$logs"
    else
      bad "client1 pod on $NODE_NAME: $(phase client1) $(k -n "$ns" logs client1 2>&1 | tail -2)"
    fi
  else
    bad "web2 pod on $node2: $(phase web2) $(k -n "$ns" logs web2 2>&1 | tail -2)"
  fi
  if waitfor 30 is_phase api2 Succeeded; then
    check "pod on $node2 reached the API server via the kubernetes Service" grep -qx ok <<<"$(k -n "$ns" logs api2)"
  else
    bad "api2 pod on $node2: $(phase api2) $(k -n "$ns" logs api2 2>&1 | tail -2)"
  fi
fi

k delete namespace "$ns" --wait=false >/dev/null
echo "$pass passed, $fail failed"
((fail == 0))
