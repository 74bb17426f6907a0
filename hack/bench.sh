#!/usr/bin/env bash
# Issue 14's benchmark: verdict latency at 1, 20 and 100 concurrent runs (and an upstream-style 2 s
# polling model), API writes per run, the operator's memory and resume time with many tests.
#   hack/bench.sh --short   what CI runs (under 2 minutes): latency at 1 and 20, 200 tests present
#   hack/bench.sh           the full scenarios: latency at 1, 20 and 100, 10,000 tests present
# It prints figures and fails only when something breaks (a run without a verdict). It runs its own
# operator on bench-* namespaces of the local cluster, and brings the cluster up only when none of it runs.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/hack/localcluster/lib.sh"
export KUBECONFIG="${KUBECONFIG:-$DIR/kubeconfig}"
kubectl="$ROOT/hack/localcluster/kubectl"

ready() { "$kubectl" get --raw /readyz >/dev/null 2>&1; }

if ! ready; then
  running=()
  for c in "${COMPONENTS[@]}"; do
    if lc_pid "$c" >/dev/null; then running+=("$c"); fi
  done
  if ((${#running[@]})); then
    # Part of the cluster runs: someone is restarting a component (up.sh would tear it all down); wait.
    echo "bench: the API server does not answer yet (running: ${running[*]}); waiting up to 300s" >&2
    for _ in $(seq 300); do ready && break; sleep 1; done
    ready || { echo "bench: the local cluster is not ready" >&2; exit 1; }
  else
    "$ROOT/hack/localcluster/up.sh" >&2
  fi
fi

# The LifecycleTest CRD, as the chart and deploy/ install it: a cluster just brought up has none.
"$kubectl" apply -f "$ROOT/crds/" >/dev/null
"$kubectl" wait --for=condition=Established --timeout=60s crd/lifecycletests.lifecycle.conformance.dev >/dev/null

exec "$ROOT/.venv/bin/python" "$ROOT/hack/bench/bench.py" "$@"
