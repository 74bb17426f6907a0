"""The e2e tier: a real API server and kubelet from hack/localcluster, the operator as a subprocess.

Bring the cluster up first (hack/localcluster/up.sh, or hack/test.sh which does everything). Without a
cluster these tests fail; they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cluster import NAMESPACE_PREFIX, Operator

from clustertools import ROOT, kubectl, kubectl_result

CRD = ROOT / "crds" / "lifecycletests.lifecycle.conformance.dev.yaml"


@pytest.fixture(scope="session")
def cluster() -> None:
    if not os.environ.get("KUBECONFIG"):
        pytest.fail("KUBECONFIG is not set: bring the local cluster up with hack/localcluster/up.sh")
    kubectl("get", "--raw", "/readyz")
    kubectl("apply", "-f", str(CRD))
    kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", "crd/lifecycletests.lifecycle.conformance.dev"
    )


@pytest.fixture(scope="session")
def operator(cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    log_dir = Path(os.environ.get("LCO_E2E_LOG_DIR") or tmp_path_factory.mktemp("operator"))
    log_dir.mkdir(parents=True, exist_ok=True)
    op = Operator(log_dir)
    op.start()
    yield op
    op.stop()


@pytest.fixture(scope="session")
def make_namespace(cluster: None) -> Iterator[Callable[[str], str]]:
    """Make a fresh namespace, labelled for the Pod Security "restricted" level."""
    made: list[str] = []

    def make(prefix: str) -> str:
        name = f"{NAMESPACE_PREFIX}{prefix[:40]}-{uuid.uuid4().hex[:6]}"
        kubectl("create", "namespace", name)
        kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted")
        made.append(name)
        return name

    yield make
    for name in made:
        kubectl_result("delete", "namespace", name, "--wait=false")
