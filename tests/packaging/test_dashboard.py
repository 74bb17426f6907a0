"""The Grafana dashboard shows what the issue asks for, from metrics the operator exports."""

from __future__ import annotations

import json
import re
from typing import Any

from chart_render import CHART, CONTRACT_METRICS, walk
from prometheus_client import CollectorRegistry, Counter

from lifecycle_operator.metrics import Metrics

DASHBOARD: dict[str, Any] = json.loads((CHART / "files" / "dashboard.json").read_text())


def panel_exprs(title: str) -> list[str]:
    panel = next(p for p in DASHBOARD["panels"] if p["title"] == title)
    return [t["expr"] for t in panel["targets"]]


def metric_names(expr: str) -> set[str]:
    names = set(re.findall(r"\b(lifecycle[a-z_]+)\{", expr))
    # A histogram's series carry suffixes; the contract names the histogram.
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def test_metric_names_strip_histogram_suffixes() -> None:
    assert metric_names('rate(lifecycletest_run_duration_seconds_bucket{job="x"}[5m])') == {
        "lifecycletest_run_duration_seconds"
    }


def test_required_panels_query_the_right_metrics() -> None:
    expected = {
        "Last verdict per test": "lifecycletest_last_verdict",
        "Runs by verdict (per hour)": "lifecycletest_runs_total",
        "Run duration": "lifecycletest_run_duration_seconds",
        "Expectation failures by kind (per hour)": "lifecycletest_expectation_failures_total",
    }
    for title, metric in expected.items():
        exprs = panel_exprs(title)
        assert exprs, title
        assert all(metric_names(e) == {metric} for e in exprs), title
    assert "by (verdict)" in panel_exprs("Runs by verdict (per hour)")[0]
    assert "by (kind)" in panel_exprs("Expectation failures by kind (per hour)")[0]


def test_dashboard_uses_only_contract_metrics_and_its_datasource_variable() -> None:
    exprs = [value for path, value in walk(DASHBOARD) if path.endswith(".expr")]
    used = set().union(*(metric_names(e) for e in exprs))
    assert used <= CONTRACT_METRICS
    datasources = [value for path, value in walk(DASHBOARD) if path.endswith(".datasource.uid")]
    assert datasources
    assert set(datasources) == {"${datasource}"}
    assert [v["name"] for v in DASHBOARD["templating"]["list"]] == ["datasource", "namespace"]


def test_panel_ids_are_unique() -> None:
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))


def exported_names(registry: CollectorRegistry) -> set[str]:
    """The metric names Prometheus sees for a registry's families (counters get _total, infos _info)."""
    suffix = {"counter": "_total", "info": "_info"}
    return {family.name + suffix.get(family.type, "") for family in registry.collect()}


def test_the_operator_exports_exactly_the_contract_metrics() -> None:
    """The alerts and the dashboard are written against CONTRACT_METRICS; the operator must export them."""
    assert exported_names(Metrics().registry) == CONTRACT_METRICS


def test_exported_names_sees_a_missing_metric() -> None:
    registry = CollectorRegistry()
    Counter("lifecycletest_runs", "runs", registry=registry)
    assert exported_names(registry) == {"lifecycletest_runs_total"}
    assert exported_names(registry) != CONTRACT_METRICS
