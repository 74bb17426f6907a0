"""The rendered chart is accepted by a real API server (server-side dry run), every feature on.

Needs KUBECONFIG pointing at a cluster (the local one from hack/localcluster) and runs with `-m e2e`.
kubectl is $LCO_KUBECTL (default `kubectl`). The test applies for real only what a dry run cannot do
without: the chart's CRDs (left installed: other e2e tests use the same ones), stand-ins for the Prometheus
Operator's two CRDs (removed afterwards if this test created them), and a namespace of its own (deleted).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chart_render import ALL_FEATURES, CHART, REPO, helm_template, parse_documents

pytestmark = pytest.mark.e2e

MONITORING_CRDS = sorted((REPO / "tests" / "fixtures" / "monitoring-crds").glob("*.yaml"))
CHART_CRDS = sorted((CHART / "crds").glob("*.yaml"))


class Kubectl:
    def __init__(self, command: list[str]) -> None:
        self.command = command

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
        )

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout


def crd_names(files: list[Path]) -> list[str]:
    return [d["metadata"]["name"] for f in files for d in yaml.safe_load_all(f.read_text()) if d]


@pytest.fixture(scope="module")
def kubectl() -> Kubectl:
    if not os.environ.get("KUBECONFIG"):
        pytest.fail("the e2e tier needs KUBECONFIG pointing at a cluster (hack/localcluster)", pytrace=False)
    client = Kubectl(shlex.split(os.environ.get("LCO_KUBECTL", "kubectl")))
    client.ok("get", "--raw", "/readyz")
    return client


@pytest.fixture(scope="module")
def crds(kubectl: Kubectl) -> Iterator[None]:
    existing = set(kubectl.ok("get", "crd", "-o", "name").split())
    created_fixtures = [
        n
        for n in crd_names(MONITORING_CRDS)
        if f"customresourcedefinition.apiextensions.k8s.io/{n}" not in existing
    ]
    for path in [*CHART_CRDS, *MONITORING_CRDS]:
        kubectl.ok("apply", "-f", str(path))
    for name in crd_names([*CHART_CRDS, *MONITORING_CRDS]):
        kubectl.ok("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
    yield
    for name in created_fixtures:
        kubectl.run("delete", f"crd/{name}", "--wait=false")


@pytest.fixture
def namespace(kubectl: Kubectl) -> Iterator[str]:
    """A fresh namespace that warns about anything below the restricted Pod Security Standard."""
    name = f"lco-dryrun-{uuid.uuid4().hex[:8]}"
    kubectl.ok(
        "apply",
        "-f",
        "-",
        stdin=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "labels": {
                        "pod-security.kubernetes.io/enforce": "restricted",
                        "pod-security.kubernetes.io/warn": "restricted",
                    },
                },
            }
        ),
    )
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false")


SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-features": dict(ALL_FEATURES),
    "namespaced-peering": {"peering": {"enabled": True}, "replicas": 2},
}


@pytest.mark.usefixtures("crds")
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_server_accepts_the_rendered_chart(
    helm: Path, kubectl: Kubectl, namespace: str, scenario: str
) -> None:
    manifests = helm_template(helm, SCENARIOS[scenario], namespace=namespace, release=f"lco-{scenario}")
    objects = parse_documents(manifests)
    result = kubectl.run("apply", "--dry-run=server", "-f", "-", stdin=manifests)
    assert result.returncode == 0, result.stderr
    accepted = re.findall(r"^(\S+) (?:created|configured|unchanged) \(server dry run\)$", result.stdout, re.M)
    assert len(accepted) == len(objects), result.stdout
    assert "would violate PodSecurity" not in result.stderr, result.stderr
