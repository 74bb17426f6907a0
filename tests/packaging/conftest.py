"""Fixtures for the packaging tests: the tools they need and the chart rendered with common values.

helm and promtool are required, not optional: when one is missing the tests fail and say how to install
it (hack/install-helm.sh, hack/install-promtool.sh), because a packaging test that skips proves nothing.
The `helm` fixture is tests/conftest.py's, shared with the in-cluster tier.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from chart_render import ALL_FEATURES, Rendered, helm_template, parse_documents

TOOLS_DIR = Path(os.environ.get("LCO_TOOLS_DIR", "/var/cache/lifecycle-operator/bin"))


@pytest.fixture(scope="session")
def promtool() -> Path:
    for candidate in (os.environ.get("LCO_PROMTOOL"), shutil.which("promtool"), str(TOOLS_DIR / "promtool")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    pytest.fail(
        "promtool is missing: run `bash hack/install-promtool.sh` (unpacks Debian's prometheus package "
        "into the tools cache), put promtool on PATH, or set LCO_PROMTOOL",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def default_render(helm: Path) -> Rendered:
    return Rendered(parse_documents(helm_template(helm)))


@pytest.fixture(scope="session")
def all_features_render(helm: Path) -> Rendered:
    return Rendered(parse_documents(helm_template(helm, ALL_FEATURES, release="lco", namespace="ops")))


@pytest.fixture(scope="session")
def namespaced_peering_render(helm: Path) -> Rendered:
    """Namespaced mode over two namespaces, with peering: a Role and a KopfPeering in each."""
    values = {"watchNamespaces": ["ops", "team-a"], "peering": {"enabled": True}}
    return Rendered(parse_documents(helm_template(helm, values, namespace="ops")))


@pytest.fixture(scope="session")
def host_network_render(helm: Path) -> Rendered:
    return Rendered(parse_documents(helm_template(helm, {"hostNetwork": True})))


@pytest.fixture(scope="session")
def cluster_wide_render(helm: Path) -> Rendered:
    return Rendered(parse_documents(helm_template(helm, {"clusterWide": True})))
