#!/usr/bin/env bash
# Copies catalogue/ (upstream's kubelet lifecycle cases as LifecycleTests, their one source) into the chart,
# whose catalogue template reads them with .Files.Glob: Helm cannot read files outside the chart folder.
# tests/packaging/test_chart_catalogue.py fails when the copy drifts.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
target="$repo/charts/lifecycle-operator/files/catalogue"
rm -rf -- "$target"
for folder in regular sidecar; do
    mkdir -p "$target/$folder"
    cp -- "$repo/catalogue/$folder/"*.yaml "$target/$folder/"
done
echo "sync-chart-catalogue: catalogue/{regular,sidecar} -> charts/lifecycle-operator/files/catalogue ($(find "$target" -name '*.yaml' | wc -l) files)"
