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

from clustertools import GROUP_PLURAL, ROOT, kubectl, kubectl_result

CRD = ROOT / "crds" / f"{GROUP_PLURAL}.yaml"


@pytest.fixture(scope="session")
def crd(cluster: None) -> None:
    """The LifecycleTest CRD from crds/ installed on the cluster (tests/conftest.py's `cluster`)."""
    kubectl("apply", "-f", str(CRD))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", f"crd/{GROUP_PLURAL}")


@pytest.fixture(scope="session")
def operator(crd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operator]:
    log_dir = Path(os.environ.get("LCO_E2E_LOG_DIR") or tmp_path_factory.mktemp("operator"))
    log_dir.mkdir(parents=True, exist_ok=True)
    op = Operator(log_dir)
    op.start()
    yield op
    op.stop()


@pytest.fixture(scope="session")
def make_namespace(crd: None) -> Iterator[Callable[[str], str]]:
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
