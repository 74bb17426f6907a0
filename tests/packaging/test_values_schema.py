"""values.schema.json and the chart's own checks turn bad values into an error that says what is wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no types-jsonschema in the dev extras yet
import pytest
import yaml
from chart_render import CHART, RenderError, helm_template, walk


def render_error(helm: Path, values: dict[str, Any]) -> str:
    with pytest.raises(RenderError) as refused:
        helm_template(helm, values)
    return str(refused.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicas": -1}, "at '/replicas': minimum: got -1, want 0"),
        ({"replicas": "two"}, "at '/replicas': got string, want integer"),
        ({"image": {"pullPolicy": "Sometimes"}}, "at '/image/pullPolicy': value must be one of"),
        ({"bogus": 1}, "additional properties 'bogus' not allowed"),
        ({"image": {"tga": "1.0"}}, "at '/image': additional properties 'tga' not allowed"),
        (
            {"resources": {"limit": {"cpu": "1"}}},
            "at '/resources': additional properties 'limit' not allowed",
        ),
        ({"logFormat": "xml"}, "at '/logFormat': value must be one of 'plain', 'json'"),
        ({"keepFailedPods": "yes"}, "at '/keepFailedPods': got string, want boolean"),
        ({"defaultTimeoutSeconds": 0}, "at '/defaultTimeoutSeconds': minimum: got 0, want 1"),
        ({"metrics": {"port": 70000}}, "at '/metrics/port': maximum: got 70,000, want 65,535"),
        ({"watchNamespaces": ["Team_A"]}, "at '/watchNamespaces/0': 'Team_A' does not match pattern"),
        ({"bindAddress": "localhost"}, "at '/bindAddress': 'anyOf' failed"),
        ({"serviceMonitor": {"interval": 30}}, "at '/serviceMonitor/interval': got number, want string"),
        ({"runAsUser": 0}, "at '/runAsUser': minimum: got 0, want 1"),
        ({"peering": {"enabled": "true"}}, "at '/peering/enabled': got string, want boolean"),
    ],
    ids=lambda v: json.dumps(v) if isinstance(v, dict) else "",
)
def test_schema_rejects_bad_values(helm: Path, values: dict[str, Any], message: str) -> None:
    error = render_error(helm, values)
    assert "values don't meet the specifications of the schema" in error
    assert message in error


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicas": 2}, "replicas > 1 needs peering.enabled=true"),
        (
            {"clusterWide": True, "watchNamespaces": ["a"]},
            "watchNamespaces is only used when clusterWide is false",
        ),
        ({"metrics": {"port": 9000}, "health": {"port": 9000}}, "metrics.port and health.port must differ"),
        ({"serviceAccount": {"create": False}}, "serviceAccount.name must name an existing ServiceAccount"),
    ],
)
def test_chart_rejects_inconsistent_values(helm: Path, values: dict[str, Any], message: str) -> None:
    assert message in render_error(helm, values)


@pytest.mark.parametrize(
    "values",
    [
        {"replicas": 0},
        {"image": {"pullPolicy": "Never"}},
        {"bindAddress": "::"},
        {"serviceAccount": {"create": False, "name": "existing"}},
        {"resources": {"limits": {"cpu": 1, "memory": "1Gi"}}},
        {"extraEnv": [{"name": "LCO_SCHEDULER_TICK_SECONDS", "value": "5"}]},
    ],
)
def test_schema_accepts_good_values(helm: Path, values: dict[str, Any]) -> None:
    helm_template(helm, values)


def test_schema_is_a_valid_draft_7_schema_that_accepts_the_defaults() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load((CHART / "values.yaml").read_text()), schema)


def value_paths(values: dict[str, Any]) -> list[str]:
    """Dotted paths of the leaves of values.yaml (an empty map or list is a leaf)."""
    return [
        path.lstrip(".")
        for path, value in walk(values)
        if path and (not isinstance(value, dict) or not value) and "[" not in path
    ]


def test_value_paths_lists_leaves() -> None:
    assert value_paths({"a": 1, "b": {"c": "", "d": {}}, "e": []}) == ["a", "b.c", "b.d", "e"]


def test_readme_documents_every_value() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    documented = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
    # A documented path covers the values under it (`resources` covers resources.limits.cpu).
    missing = [
        path
        for path in value_paths(values)
        if not any(path == row or path.startswith(f"{row}.") for row in documented)
    ]
    assert missing == [], "add these values to the table in charts/lifecycle-operator/README.md"
