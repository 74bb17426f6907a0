#!/usr/bin/env bash
# The test command: on a fresh machine, as root, it installs what is needed, lints, brings the local
# cluster up, runs the unit and e2e tiers together, and brings the cluster down again even on failure.
# It fails when any test failed or was skipped: the e2e tier must run for real. hack/junit_summary.py
# counts the tiers by directory and also fails when any test of tests/e2e or tests/incluster did not run.
#
#   hack/test.sh                 everything
#   hack/test.sh --durations=10  extra arguments go to pytest (one that leaves out a kubelet-tier test,
#                                such as -k restart, fails the summary)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
SECONDS=0

# Two nodes, one per row of the version matrix (the everyNode tier and the catalogue run on both):
# kubelet 1.34 on Debian's containerd 1.6 and kubelet 1.37 on containerd 2, under a 1.37 control plane.
# Their Go builds (cached by their inputs; ~13 min on a fresh machine) start now, beside the Python setup.
export KUBE_VERSION="${KUBE_VERSION:-both}"
prebuild_log="$(mktemp)"
hack/localcluster/build-all.sh --nodes 2 >"$prebuild_log" 2>&1 &
prebuild=$!

bash hack/setup.sh

echo "== lint: ruff, ruff format, mypy --strict"
.venv/bin/ruff check operator tests
.venv/bin/ruff format --check operator tests
.venv/bin/mypy

echo "== local cluster"
cleanup() {
    local rc=$?
    echo "== local cluster down"
    hack/localcluster/down.sh || rc=1
    hack/localcluster/check-clean.sh || rc=1
    exit "$rc"
}
trap cleanup EXIT
cluster_start=$SECONDS
prebuild_rc=0
wait "$prebuild" || prebuild_rc=$?
cat "$prebuild_log"
((prebuild_rc == 0)) || { echo "test.sh: the cluster's builds failed (above)" >&2; exit 1; }
echo "cluster builds: done ${SECONDS}s into the run"
hack/localcluster/up.sh --nodes 2
first_up=$((SECONDS - cluster_start))
# Once more from down, to show what a warm start costs.
hack/localcluster/down.sh >/dev/null
cluster_start=$SECONDS
hack/localcluster/up.sh --nodes 2
echo "cluster start: first ${first_up}s (includes any install and build), warm $((SECONDS - cluster_start))s"
export KUBECONFIG="${LOCALCLUSTER_DIR:-/var/tmp/lifecycle-localcluster}/kubeconfig"
export LCO_KUBECTL="$root/hack/localcluster/kubectl"
export LCO_HELM="$(bash hack/install-helm.sh --check)"

echo "== tests: unit and e2e tiers"
report_dir="$(mktemp -d)"
report="$report_dir/junit.xml"
collected="$report_dir/collected.txt"
tests_start=$SECONDS
set +e
# What these arguments select, for the summary to compare with what ran: the `--collect-only -q` listing
# (--verbosity=-1 last is -q whatever -v or -q the arguments add).
.venv/bin/python -m pytest tests -m "e2e or not e2e" -p no:cacheprovider --collect-only "$@" --verbosity=-1 \
    >"$collected"
.venv/bin/python -m pytest tests -m "e2e or not e2e" -p no:cacheprovider --durations=25 --junitxml="$report" "$@"
rc=$?
set -e
echo "tests ran in $((SECONDS - tests_start))s; whole run ${SECONDS}s so far"
.venv/bin/python hack/junit_summary.py "$report" "$collected" || rc=1

echo "== benchmark, short (figures, not a pass/fail on speed)"
bench_start=$SECONDS
bash hack/bench.sh --short || rc=1
echo "benchmark ran in $((SECONDS - bench_start))s; whole run ${SECONDS}s so far"
exit "$rc"
