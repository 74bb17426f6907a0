#!/usr/bin/env bash
# Copies the project's generated CRDs (crds/*.yaml) into the chart's crds/ folder, byte for byte.
#
# The Python models are the source of the CRDs; the chart carries copies because Helm installs CRDs only
# from inside the chart. tests/packaging/test_drift.py fails when the copies drift. The chart's own
# kopf-peering.yaml is not a copy and is left alone.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
chart_crds="$repo/charts/lifecycle-operator/crds"

shopt -s nullglob
sources=("$repo"/crds/*.yaml)
if ((${#sources[@]} == 0)); then
    echo "sync-chart-crds: no CRD in crds/; generate it first" >&2
    exit 1
fi
for stale in "$chart_crds"/*.yaml; do
    [[ $(basename "$stale") == kopf-peering.yaml ]] || rm -- "$stale"
done
for source in "${sources[@]}"; do
    cp -- "$source" "$chart_crds/"
    echo "sync-chart-crds: ${source#"$repo"/} -> ${chart_crds#"$repo"/}/$(basename "$source")"
done
