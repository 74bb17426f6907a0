"""The tools are the pinned ones."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from chart_render import REPO


def pinned_helm_version() -> str:
    match = re.search(
        r'^HELM_VERSION="(v3\.[0-9.]+)"$', (REPO / "hack" / "install-helm.sh").read_text(), re.M
    )
    assert match
    return match.group(1)


def test_helm_is_the_pinned_version(helm: Path) -> None:
    """deploy/ is compared with a fresh render, so the Helm that renders must be the one that rendered it."""
    version = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True, check=True)
    assert version.stdout.strip().split("+")[0] == pinned_helm_version(), (
        f"helm {version.stdout.strip()} is not the pinned {pinned_helm_version()}: run hack/install-helm.sh"
    )


def test_helm_templates_for_a_current_kubernetes(helm: Path) -> None:
    """install-helm.sh stamps the Kubernetes version; Helm's fallback (1.20) would fail kubeVersion."""
    out = subprocess.run(
        [
            str(helm),
            "template",
            "x",
            str(REPO / "charts" / "lifecycle-operator"),
            "--show-only",
            "templates/service.yaml",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
