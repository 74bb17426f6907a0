"""The alert rules: valid for promtool, unit-tested, and the same rules in the chart as in monitoring/."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from chart_render import CHART, CONTRACT_METRICS, REPO, Rendered

SOURCE = REPO / "monitoring" / "alerts.yaml"
CHART_COPY = CHART / "files" / "alerts.yaml"
RULE_TESTS = sorted((REPO / "monitoring" / "tests").glob("*.yaml"))
ALERTS = {
    "LifecycleTestConformanceDrift",
    "LifecycleTestInconclusive",
    "LifecycleTestVerdictStale",
    "LifecycleOperatorDown",
}


def rules(path: Path = SOURCE) -> list[dict[str, Any]]:
    groups = yaml.safe_load(path.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False)


def test_promtool_checks_the_rules(promtool: Path) -> None:
    result = run(promtool, "check", "rules", SOURCE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_promtool_rejects_a_broken_rule(promtool: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: up ==\n")
    assert run(promtool, "check", "rules", broken).returncode != 0


def test_promtool_unit_tests_pass(promtool: Path) -> None:
    assert RULE_TESTS, "no promtool tests in monitoring/tests/"
    result = run(promtool, "test", "rules", *RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(promtool: Path, tmp_path: Path) -> None:
    """A wrong expectation fails the run: the unit tests above are not vacuous."""
    (tmp_path / "alerts.yaml").write_text(SOURCE.read_text())
    wrong = tmp_path / "wrong_test.yaml"
    wrong.write_text(
        yaml.safe_dump(
            {
                "rule_files": ["alerts.yaml"],
                "evaluation_interval": "1m",
                "tests": [
                    {
                        "interval": "1m",
                        "input_series": [{"series": 'up{job="lifecycle-operator"}', "values": "1x30"}],
                        "alert_rule_test": [
                            {
                                "eval_time": "20m",
                                "alertname": "LifecycleOperatorDown",
                                "exp_alerts": [{"exp_labels": {"severity": "warning"}}],
                            }
                        ],
                    }
                ],
            }
        )
    )
    result = run(promtool, "test", "rules", wrong)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_each_alert_is_shown_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == ALERTS
    assert quiet == ALERTS


def test_the_source_has_the_four_alerts_with_severity_and_text() -> None:
    assert {r["alert"] for r in rules()} == ALERTS
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert set(rule["annotations"]) == {"summary", "description"}


def test_alerts_use_only_the_operators_metrics() -> None:
    used = {
        name
        for rule in rules()
        for name in re.findall(r"\b([a-z_]+)\{", rule["expr"])
        if name not in {"up", "by", "on"}
    }
    assert used <= CONTRACT_METRICS
    assert used == {
        "lifecycletest_last_verdict",
        "lifecycletest_inconclusive",
        "lifecycletest_last_run_timestamp_seconds",
        "lifecycletest_interval_seconds",
        "lifecycle_operator_info",
        "lifecycletest_node_info",
    }


def test_chart_copy_is_identical_to_the_source() -> None:
    assert CHART_COPY.read_bytes() == SOURCE.read_bytes(), (
        "charts/lifecycle-operator/files/alerts.yaml differs from monitoring/alerts.yaml: "
        "run hack/sync-chart-alerts.sh"
    )


def test_prometheus_rule_carries_the_source_groups(all_features_render: Rendered) -> None:
    rule = all_features_render.one("PrometheusRule")
    assert rule["spec"]["groups"] == yaml.safe_load(SOURCE.read_text())["groups"]
    assert rule["metadata"]["labels"]["release"] == "prometheus"
