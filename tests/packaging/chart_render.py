"""Rendering the chart with helm and looking things up in the result, for the packaging tests."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

REPO: Final = Path(__file__).resolve().parents[2]
CHART: Final = REPO / "charts" / "lifecycle-operator"
DEFAULT_NAMESPACE: Final = "lifecycle-operator"
DEFAULT_RELEASE: Final = "lifecycle-operator"

Manifest = dict[str, Any]

# Every optional feature of the chart at once.
ALL_FEATURES: Final[Mapping[str, Any]] = {
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
    "dashboard": {"enabled": True},
    "clusterWide": True,
    "replicas": 2,
    "peering": {"enabled": True},
    "catalogue": {"enabled": True, "everyNode": True},
}

# The operator's metrics, as the Python side exports them (the contract the alerts and dashboard rely on).
CONTRACT_METRICS: Final = frozenset(
    {
        "lifecycletest_last_verdict",
        "lifecycletest_runs_total",
        "lifecycletest_run_duration_seconds",
        "lifecycletest_expectation_failures_total",
        "lifecycletest_last_run_timestamp_seconds",
        "lifecycletest_interval_seconds",
        "lifecycletest_inconclusive",
        "lifecycletest_inconclusive_retries_total",
        "lifecycle_operator_queued_runs",
        "lifecycle_operator_active_runs",
        "lifecycle_operator_info",
        "lifecycletest_node_info",
        "lifecycle_operator_api_requests_total",
        "lifecycle_operator_api_request_seconds",
    }
)


class RenderError(Exception):
    """helm refused to render; the message is helm's stderr."""


@dataclass(frozen=True)
class Rendered:
    """The objects of one `helm template` run."""

    objects: tuple[Manifest, ...]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None, namespace: str | None = None) -> Manifest:
        found = [
            o
            for o in self.of_kind(kind)
            if (name is None or o["metadata"]["name"] == name)
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]
        assert len(found) == 1, f"expected one {kind} {name or ''} {namespace or ''}, found {len(found)}"
        return found[0]

    def kinds(self) -> list[str]:
        return sorted(o["kind"] for o in self.objects)

    @property
    def deployment(self) -> Manifest:
        return self.one("Deployment")

    @property
    def pod_spec(self) -> Manifest:
        spec: Manifest = self.deployment["spec"]["template"]["spec"]
        return spec

    @property
    def container(self) -> Manifest:
        containers: list[Manifest] = self.pod_spec["containers"]
        assert len(containers) == 1
        return containers[0]

    @property
    def env(self) -> dict[str, str]:
        """The container's literal environment (valueFrom entries left out)."""
        return {e["name"]: e["value"] for e in self.container["env"] if "value" in e}


def parse_documents(text: str) -> tuple[Manifest, ...]:
    return tuple(d for d in yaml.safe_load_all(text) if d)


def helm_template(
    helm: Path,
    values: Mapping[str, Any] | None = None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    release: str = DEFAULT_RELEASE,
    chart: Path = CHART,
    extra_args: tuple[str, ...] = (),
) -> str:
    """`helm template` of the chart with `values` (a values file, as a user would write it)."""
    with tempfile.TemporaryDirectory() as scratch:
        values_file = Path(scratch) / "values.yaml"
        values_file.write_text(yaml.safe_dump(dict(values or {})))
        result = subprocess.run(
            [
                *(str(helm), "template", release, str(chart)),
                *("--namespace", namespace, "--values", str(values_file)),
                *extra_args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


def notes(helm: Path, values: Mapping[str, Any] | None = None, *, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The rendered NOTES.txt. `helm template` does not print it and `helm install --dry-run` needs a
    cluster, so a copy of the chart gets one more template that includes NOTES.txt into a ConfigMap."""
    with tempfile.TemporaryDirectory() as scratch:
        chart = Path(scratch) / CHART.name
        subprocess.run(["cp", "-r", str(CHART), str(chart)], check=True)
        (chart / "templates" / "zz-notes.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rendered-notes\ndata:\n"
            '  notes: {{ include "lifecycle-operator/templates/NOTES.txt" . | toJson }}\n'
        )
        out = helm_template(
            helm,
            values,
            namespace=namespace,
            chart=chart,
            extra_args=("--show-only", "templates/zz-notes.yaml"),
        )
    text: str = parse_documents(out)[0]["data"]["notes"]
    return text


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) pair in a parsed YAML/JSON tree."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True)
