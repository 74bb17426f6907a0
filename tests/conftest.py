"""Shared test set-up: import paths for an uninstalled checkout, and the fixtures more than one tier uses.

`cluster` and `helm` fail, never skip, when what they need is missing: a skipped test proves nothing.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The package's source root, and tests/ itself for the cluster tiers' shared clustertools module.
for path in (ROOT / "operator", ROOT / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from clustertools import FIGURES, kubectl  # noqa: E402  (importable once the paths above are set)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Record the e2e marker in the JUnit report, where hack/junit_summary.py tells the tiers apart."""
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.user_properties.append(("marker", "e2e"))


@pytest.fixture(scope="session")
def cluster() -> None:
    """The local cluster from hack/localcluster (KUBECONFIG set), its API server ready."""
    if not os.environ.get("KUBECONFIG"):
        pytest.fail(
            "KUBECONFIG is not set: bring the local cluster up with hack/localcluster/up.sh", pytrace=False
        )
    kubectl("get", "--raw", "/readyz")


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm: $LCO_HELM, or what `hack/install-helm.sh --check` prints."""
    configured = os.environ.get("LCO_HELM")
    if configured:
        path = Path(configured)
        if not os.access(path, os.X_OK):
            pytest.fail(f"LCO_HELM={configured} is not an executable", pytrace=False)
        return path
    check = subprocess.run(
        ["bash", str(ROOT / "hack" / "install-helm.sh"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        pytest.fail(
            "helm is missing: run `bash hack/install-helm.sh` (builds the pinned Helm from the Go module "
            "proxy into the tools cache) or set LCO_HELM to a helm v3 binary",
            pytrace=False,
        )
    return Path(check.stdout.strip())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures measured by the cluster tiers")
        for line in FIGURES:
            terminalreporter.write_line(line)
