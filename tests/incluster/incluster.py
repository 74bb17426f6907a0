"""Test-side tools of the in-cluster tier: kubectl, helm, polling, the release's objects and its metrics.

The in-cluster tier installs the operator the way a user does (its image in the node's containerd, the Helm
chart) into the local cluster from hack/localcluster, and checks it from outside, through the API server.
"""

from __future__ import annotations

import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from clustertools import EXAMPLES, GROUP_PLURAL, ROOT, kubectl, kubectl_json, run

CHART = ROOT / "charts" / "lifecycle-operator"
IMAGE_REPOSITORY = "localhost/lifecycle-operator/operator"
OPERATOR_NAMESPACE = "lifecycle-system"
RELEASE = "lifecycle-operator"


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        version: str = tomllib.load(f)["project"]["version"]
    return version


def exists(kind: str, name: str, namespace: str | None) -> bool:
    scope = ["-n", namespace] if namespace else []
    out = kubectl("get", kind, name, *scope, "--ignore-not-found", "-o", "name")
    return bool(out.strip())


@dataclass(frozen=True)
class ObjectRef:
    """One object a Helm release created."""

    kind: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


CLUSTER_SCOPED_KINDS = frozenset(
    {"ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"}
)


def manifest_objects(manifest: str, release_namespace: str) -> list[ObjectRef]:
    """The objects of a release's manifest (`helm get manifest`), with the namespace each one lands in."""
    refs = []
    for doc in yaml.safe_load_all(manifest):
        if not doc:
            continue
        kind, meta = doc["kind"], doc["metadata"]
        namespace = None if kind in CLUSTER_SCOPED_KINDS else meta.get("namespace", release_namespace)
        refs.append(ObjectRef(kind, meta["name"], namespace))
    return refs


def verdicts(namespace: str) -> dict[str, str]:
    """name -> status.result of every LifecycleTest in the namespace ('' while it has none)."""
    items = kubectl_json(GROUP_PLURAL, "-n", namespace)["items"]
    return {item["metadata"]["name"]: (item.get("status") or {}).get("result", "") for item in items}


def metric_samples(text: str, metric: str) -> dict[tuple[str, str], float]:
    """(namespace, name) -> value of one gauge in a Prometheus text exposition."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == metric:
                samples[(sample.labels["namespace"], sample.labels["name"])] = sample.value
    return samples


def example_names(paths: Iterable[Path] = EXAMPLES) -> list[str]:
    return [yaml.safe_load(p.read_text())["metadata"]["name"] for p in paths]


@dataclass
class Release:
    name: str
    namespace: str
    image: str
    objects: list[ObjectRef]
    helm: str

    def installed(self) -> bool:
        command = [self.helm, "status", self.name, "-n", self.namespace]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    def uninstall(self) -> None:
        run(
            [self.helm, "uninstall", self.name, "-n", self.namespace, "--wait", "--timeout", "120s"],
            timeout=180,
        )
