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

# Beside the lint and the cluster's start, in the background: the operator's image (built and exported;
# the in-cluster tier imports it once the cluster is up) and the tiers that need no cluster (unit, fake
# API, packaging, render). Extra arguments go to both pytest runs, and the summary reads both reports.
report_dir="$(mktemp -d)"
image_log="$report_dir/image.log"
bash hack/image/build.sh >"$image_log" 2>&1 &
image=$!
unit_log="$report_dir/unit.log"
unit_start=$SECONDS
.venv/bin/python -m pytest tests -m "not e2e" -p no:cacheprovider --junitxml="$report_dir/junit-unit.xml" \
    "$@" >"$unit_log" 2>&1 &
unit=$!

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

echo "== operator image (built beside the lint and the cluster's start)"
image_rc=0
wait "$image" || image_rc=$?
cat "$image_log"
((image_rc == 0)) || { echo "test.sh: the operator's image failed to build (above)" >&2; exit 1; }

echo "== tests without a cluster: unit, fake API, packaging, render (run beside the cluster's start)"
set +e
wait "$unit"
unit_rc=$?
set -e
cat "$unit_log"
echo "those tests took $((SECONDS - unit_start))s of wall time, beside the rest"
rc=0
# 5 is pytest's "no test selected": arguments such as -k restart leave this part empty; the summary
# below still fails a run that left out any kubelet-tier test.
((unit_rc == 0 || unit_rc == 5)) || rc=1

echo "== tests: e2e tiers"
collected="$report_dir/collected.txt"
tests_start=$SECONDS
set +e
# What these arguments select, for the summary to compare with what ran: the `--collect-only -q` listing
# (--verbosity=-1 last is -q whatever -v or -q the arguments add).
.venv/bin/python -m pytest tests -m "e2e or not e2e" -p no:cacheprovider --collect-only "$@" --verbosity=-1 \
    >"$collected"
.venv/bin/python -m pytest tests -m e2e -p no:cacheprovider --durations=25 \
    --junitxml="$report_dir/junit-e2e.xml" "$@"
e2e_rc=$?
set -e
((e2e_rc == 0)) || rc=1
echo "e2e tests ran in $((SECONDS - tests_start))s; whole run ${SECONDS}s so far"
.venv/bin/python hack/junit_summary.py "$report_dir"/junit-unit.xml "$report_dir"/junit-e2e.xml "$collected" \
    || rc=1

echo "== benchmark, short (figures, not a pass/fail on speed)"
bench_start=$SECONDS
bash hack/bench.sh --short || rc=1
echo "benchmark ran in $((SECONDS - bench_start))s; whole run ${SECONDS}s so far"
exit "$rc"
