#!/usr/bin/env bash
# The main job, on a fresh machine, as root: bring the local cluster up with two nodes, install the CRD,
# start the operator, apply the six seed examples and an everyNode test, wait for their verdicts and show
# them (the everyNode test's per node).
#
#   hack/demo.sh          run it; the cluster and the operator stay up for you to explore
#   hack/demo.sh --down   stop the operator and bring the cluster down
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
state="${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}"
kubectl="$root/hack/localcluster/kubectl"
namespace=lifecycle-demo
pidfile="$state/operator.pid"

stop_operator() {
    if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill "$(cat "$pidfile")"
        for _ in $(seq 50); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$pidfile"
}

if [[ ${1:-} == --down ]]; then
    stop_operator
    hack/localcluster/down.sh
    exit 0
fi

SECONDS=0
bash hack/setup.sh
# Both rows of the version matrix: node 1 kubelet 1.34 on containerd 1.6, node 2 kubelet 1.37 on containerd 2.
KUBE_VERSION="${KUBE_VERSION:-both}" hack/localcluster/up.sh --nodes 2
export KUBECONFIG="$state/kubeconfig"

echo "== CRD"
"$kubectl" apply -f crds/
"$kubectl" wait --for=condition=Established --timeout=60s crd/lifecycletests.lifecycle.conformance.dev

echo "== operator (log: $state/logs/operator.log)"
stop_operator
LCO_TEST_IMAGE=localhost/lifecycle-operator/testbox:1.35 \
LCO_UPDATE_IMAGE=localhost/lifecycle-operator/testbox:1.35-b \
LCO_MAX_RUNS_PER_NODE=8 \
    nohup .venv/bin/lifecycle-operator run >"$state/logs/operator.log" 2>&1 &
echo $! >"$pidfile"

echo "== the six seed examples, in namespace $namespace"
"$kubectl" create namespace "$namespace" --dry-run=client -o yaml | "$kubectl" apply -f -
"$kubectl" label namespace "$namespace" --overwrite pod-security.kubernetes.io/enforce=restricted
"$kubectl" delete lifecycletests --all -n "$namespace" --wait=true
"$kubectl" apply -n "$namespace" -f examples/
for f in examples/*.yaml; do
    name=$(awk '/^  name:/ {print $2; exit}' "$f")
    "$kubectl" wait -n "$namespace" --timeout=300s \
        --for=jsonpath='{.status.conditions[?(@.type=="Running")].reason}'=RunFinished "lifecycletest/$name"
done

echo "== every node: examples/every-node/, one LifecycleTest per node"
"$kubectl" apply -n "$namespace" -f examples/every-node/
every=sidecar-and-init-order-on-every-node
for _ in $(seq 150); do
    case $("$kubectl" get lt -n "$namespace" "$every" -o jsonpath='{.status.result}') in
        Passed | Failed | Inconclusive) break ;;
    esac
    sleep 2
done
"$kubectl" get lifecycletests -n "$namespace" -o wide
echo
echo "$every, per node:"
"$kubectl" get lt -n "$namespace" "$every" -o jsonpath='{range .status.nodes[*]}  {.node}  kubelet {.kubeletVersion}  {.containerRuntimeVersion}  {.result} ({.reason}){"\n"}{end}'
echo
echo "done in ${SECONDS}s. Explore with: export KUBECONFIG=$KUBECONFIG; $kubectl describe lt -n $namespace"
echo "Stop everything with: hack/demo.sh --down"
