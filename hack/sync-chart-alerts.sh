#!/usr/bin/env bash
# Copies the alert rules (monitoring/alerts.yaml, their one source) into the chart, whose PrometheusRule
# template reads them with .Files.Get: Helm cannot read files outside the chart folder.
# tests/packaging/test_alerts.py fails when the copy drifts.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cp -- "$repo/monitoring/alerts.yaml" "$repo/charts/lifecycle-operator/files/alerts.yaml"
echo "sync-chart-alerts: monitoring/alerts.yaml -> charts/lifecycle-operator/files/alerts.yaml"
