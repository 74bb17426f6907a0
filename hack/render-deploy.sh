#!/usr/bin/env bash
# Renders the chart with its default values into plain manifests for `kubectl apply -f deploy/`.
#
#   hack/render-deploy.sh            refresh the chart's copies (CRDs, alert rules), then write deploy/
#   hack/render-deploy.sh OUT_DIR    only render, into OUT_DIR (tests/packaging compares it with deploy/)
#
# Helm: $LCO_HELM, or the pinned build from hack/install-helm.sh.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
namespace="lifecycle-operator"
release="lifecycle-operator"

if (($# == 0)); then
    out="$repo/deploy"
    "$repo/hack/sync-chart-crds.sh"
    "$repo/hack/sync-chart-alerts.sh"
else
    out="$1"
fi
helm="${LCO_HELM:-$("$repo/hack/install-helm.sh")}"
mkdir -p "$out"

header="# Rendered from charts/lifecycle-operator by hack/render-deploy.sh (default values, namespace
# $namespace). Do not edit: change the chart, then run hack/render-deploy.sh."

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
"$helm" template "$release" "$repo/charts/lifecycle-operator" --namespace "$namespace" --include-crds \
    >"$rendered"

# helm template prints "---" before every object, and "# Source: <chart>/<path>" after it when the object
# starts a file (not for the second object of a multi-document file): objects from the chart's crds/ folder
# go to one file, all others to another.
awk -v crds="$out/01-crds.yaml" -v rest="$out/02-operator.yaml" -v header="$header" '
    BEGIN { print header > crds; print header > rest; target = rest }
    /^---$/ { separator = 1; next }
    separator {
        if ($0 ~ /^# Source: [^\/]+\/crds\//) target = crds
        else if ($0 ~ /^# Source: /) target = rest
        print "---" > target
        separator = 0
    }
    { print > target }
' "$rendered"

cat >"$out/00-namespace.yaml" <<NAMESPACE
$header
apiVersion: v1
kind: Namespace
metadata:
  name: $namespace
  labels:
    app.kubernetes.io/name: lifecycle-operator
    # The operator pod meets the restricted Pod Security Standard; the namespace enforces it.
    pod-security.kubernetes.io/enforce: restricted
NAMESPACE

if (($# == 0)); then
    echo "render-deploy: wrote deploy/00-namespace.yaml, deploy/01-crds.yaml, deploy/02-operator.yaml"
fi
